//! A menu in several languages (PRODUCT.md "Languages"): one menu file whose
//! texts are each a string (the same in every language) or a table by
//! language, and a `[languages]` table saying which languages are offered,
//! which is the default, which calling codes suggest which, and which words
//! switch.
//!
//! The file is read once per language into an ordinary [`Menu`]: every table
//! by language becomes that language's string (the default language's where
//! it has none), and the `[texts]` the file does not give come from the
//! built-in [`catalog`](super::catalog) in that language. So the engine only
//! ever sees one language, and a menu with three languages costs a
//! conversation step nothing more than a plain one.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::{Table, Value};

use super::catalog;
use super::menu::{check_keys, Menu, MenuError, MenuProblem};
use crate::message::{Channel, Choice, ChoiceOption, ContactRef, TextLimit};

/// `[languages]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Languages {
    /// The language of a customer nothing else decides for.
    pub default: String,
    /// The languages a customer can pick, default first.
    pub offer: Vec<String>,
    /// Calling code (digits) → language, for a customer who never picked.
    pub by_country: BTreeMap<String, String>,
    /// Lower-cased word → the language it switches to.
    pub switch_words: BTreeMap<String, String>,
    /// A new customer picks a language before the start node.
    pub ask_first: bool,
}

/// `[languages]` as written (its keys are checked first by `menu::keys`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLanguages {
    default: String,
    #[serde(default)]
    offer: Vec<String>,
    #[serde(default)]
    by_country: BTreeMap<String, String>,
    #[serde(default)]
    switch_words: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    ask_first: bool,
}

impl Languages {
    /// The language for a customer who never picked one: the longest calling
    /// code of `number` (`+49…`) in `by_country`, else the default.
    pub fn for_number(&self, number: Option<&str>) -> &str {
        let digits = number.map(|n| n.trim_start_matches('+')).unwrap_or_default();
        (1..=digits.len().min(4))
            .rev()
            .find_map(|n| self.by_country.get(&digits[..n]))
            .unwrap_or(&self.default)
    }

    /// The language `word` (trimmed, lower-cased) switches to, if it is a switch word.
    pub fn switch(&self, word: &str) -> Option<&str> {
        self.switch_words.get(word).map(String::as_str)
    }

    /// The offered language a tap on the language choice (`language:xx`) picks.
    pub fn pick_tap(&self, id: &str) -> Option<&str> {
        let code = id.strip_prefix(LANGUAGE_OPTION)?;
        self.offer.iter().find(|l| *l == code).map(String::as_str)
    }

    /// The language a reply to the language choice picks: a tap on
    /// `language:xx`, the number of an offered language, its name or code, or
    /// a switch word.
    pub fn pick(&self, tap: Option<&str>, word: &str) -> Option<&str> {
        if let Some(picked) = tap.and_then(|id| self.pick_tap(id)) {
            return Some(picked);
        }
        let by_number = word
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| self.offer.get(i));
        by_number
            .or_else(|| {
                self.offer
                    .iter()
                    .find(|l| *l == word || catalog::endonym(l).to_lowercase() == word)
            })
            .map(String::as_str)
            .or_else(|| self.switch(word))
    }
}

/// The id prefix of the language choice's options (`language:de`).
pub const LANGUAGE_OPTION: &str = "language:";

/// A menu in each language it offers.
#[derive(Debug, Clone)]
pub struct Menus {
    languages: Option<Languages>,
    default: String,
    menus: BTreeMap<String, Menu>,
    /// Texts an offered language lacks (its default language's text is
    /// used): warnings for `shopbot check`.
    pub missing: Vec<MenuProblem>,
}

impl Menus {
    /// The built-in example menu.
    #[allow(
        clippy::expect_used,
        reason = "compiled in, and pinned by the test the_built_in_menu_is_valid"
    )]
    pub fn example() -> Menus {
        Menus::from_toml(
            super::menu::DEFAULT_MENU_TOML,
            &Channel::PROVIDERS.map(Channel::text_limit),
        )
        .expect("the built-in menu is valid")
    }

    /// A menu in one language (a file without `[languages]`).
    pub fn single(menu: Menu) -> Menus {
        Menus {
            languages: None,
            default: catalog::FALLBACK.to_string(),
            menus: BTreeMap::from([(catalog::FALLBACK.to_string(), menu)]),
            missing: Vec::new(),
        }
    }

    /// Reads a menu file's text; with `[languages]`, once per offered language.
    /// The keys are checked first ([`check_keys`]), so every mistyped key
    /// and value of the wrong kind is reported with the other problems.
    pub fn from_toml(text: &str, limits: &[TextLimit]) -> Result<Menus, MenuError> {
        let mut table: Table = toml::from_str(text).map_err(|e| MenuError::Syntax(e.to_string()))?;
        if !table.get("languages").is_some_and(Value::is_table) {
            // Parsed again as text: its errors then name the line and column.
            return Menu::from_toml(text, limits).map(Menus::single);
        }
        let checked = check_keys(&mut table);
        if checked.problems.is_empty() {
            return Menus::in_languages(table, limits);
        }
        Err(MenuError::Invalid(
            checked.with_rest(|| Menus::in_languages(table, limits)),
        ))
    }

    /// A menu file with `[languages]`, its keys checked: once per offered
    /// language.
    fn in_languages(mut table: Table, limits: &[TextLimit]) -> Result<Menus, MenuError> {
        let Some(raw) = table.remove("languages") else {
            return Menu::from_table(table, limits).map(Menus::single);
        };
        let raw: RawLanguages = raw
            .try_into()
            .map_err(|e: toml::de::Error| MenuError::Syntax(format!("[languages]: {e}")))?;
        let languages = validate(raw).map_err(MenuError::Invalid)?;
        let mut menus = BTreeMap::new();
        let mut missing = Vec::new();
        let mut problems = Vec::new();
        for language in &languages.offer {
            let mut found = Found::default();
            let mut one = table.clone();
            fill_texts(&mut one, language, &languages.default);
            resolve(&mut one, language, &languages.default, &mut Vec::new(), &mut found);
            problems.extend(found.errors);
            missing.extend(found.missing);
            if language == &languages.default {
                missing.extend(found.placeholders);
            }
            match Menu::from_table(one, limits) {
                Ok(menu) => {
                    menus.insert(language.clone(), menu);
                }
                Err(MenuError::Invalid(invalid)) => {
                    problems.extend(invalid.into_iter().map(|p| in_language(p, language)))
                }
                Err(e) => return Err(e),
            }
        }
        if !problems.is_empty() {
            problems.dedup();
            return Err(MenuError::Invalid(problems));
        }
        missing.extend(unshipped_texts(&table, &languages));
        Ok(Menus {
            default: languages.default.clone(),
            languages: Some(languages),
            menus,
            missing,
        })
    }

    /// What a typed `word` (trimmed, lower-cased) already means to a menu or
    /// a form, if anything: a switch word must not be one of these, or it
    /// would take them over everywhere (`shopbot check` refuses it).
    pub fn typed_meaning(&self, word: &str) -> Option<String> {
        if word.parse::<usize>().is_ok() {
            return Some("a number, which picks a menu option".into());
        }
        if word == super::CANCEL_WORD {
            return Some("the word that cancels a form".into());
        }
        if word == super::SKIP_WORD {
            return Some("the word that skips a photo question".into());
        }
        self.all().find_map(|(language, menu)| {
            let (node, n) = menu.option_labelled(word)?;
            Some(format!("the label of option {n} of menu `{node}` ({language:?})"))
        })
    }

    /// The choice a new customer picks a language from (`ask_first`): each
    /// offered language by its own name, asked in every offered language.
    pub fn language_choice(&self) -> Choice {
        let mut prompts: Vec<&str> = Vec::new();
        for (_, menu) in self.all() {
            if !prompts.contains(&menu.texts.language_prompt.as_str()) {
                prompts.push(&menu.texts.language_prompt);
            }
        }
        let offer = self.languages.as_ref().map_or(&[][..], |l| l.offer.as_slice());
        Choice {
            node: "language".into(),
            text: prompts.join("\n"),
            options: offer
                .iter()
                .map(|code| ChoiceOption {
                    id: format!("{LANGUAGE_OPTION}{code}"),
                    label: catalog::endonym(code).to_string(),
                    short: None,
                })
                .collect(),
            footer: None,
            choose: self.default_menu().texts.choose.clone(),
            language: None,
        }
    }

    /// A customer's language: the one they `picked` if it is offered, else
    /// the one the calling code of their number gives, else the default; and
    /// whether it is their pick.
    pub fn language_of(&self, picked: Option<&str>, who: &ContactRef) -> (&str, bool) {
        let Some(languages) = &self.languages else {
            return (&self.default, false);
        };
        match languages.offer.iter().find(|l| Some(l.as_str()) == picked) {
            Some(language) => (language, true),
            None => (languages.for_number(who.phone.as_ref().map(|p| p.as_str())), false),
        }
    }

    /// `[languages]`, if the menu has it.
    pub fn languages(&self) -> Option<&Languages> {
        self.languages.as_ref()
    }

    /// The default language.
    pub fn default_language(&self) -> &str {
        &self.default
    }

    /// The menu in the default language.
    pub fn default_menu(&self) -> &Menu {
        self.get(&self.default)
    }

    /// The menu in `language`, or the default's for a language not offered.
    #[allow(clippy::expect_used, reason = "the default language's menu is always built")]
    pub fn get(&self, language: &str) -> &Menu {
        self.menus
            .get(language)
            .or_else(|| self.menus.get(&self.default))
            .expect("the default language has a menu")
    }

    /// Every language's menu, default first.
    pub fn all(&self) -> impl Iterator<Item = (&str, &Menu)> {
        let default = self.menus.get_key_value(&self.default);
        default
            .into_iter()
            .chain(self.menus.iter().filter(|(l, _)| **l != self.default))
            .map(|(l, m)| (l.as_str(), m))
    }
}

fn in_language(problem: MenuProblem, language: &str) -> MenuProblem {
    MenuProblem {
        problem: format!("{} (in {language})", problem.problem),
        ..problem
    }
}

/// `[languages]` checked: a default that is offered, codes that look like
/// codes, `by_country` keys of digits naming offered languages, switch words
/// for offered languages that are not used twice.
fn validate(raw: RawLanguages) -> Result<Languages, Vec<MenuProblem>> {
    let mut problems = Vec::new();
    let mut problem = |text: String| {
        problems.push(MenuProblem {
            node: "languages".into(),
            problem: text,
        })
    };
    let mut offer = raw.offer.clone();
    if offer.is_empty() {
        offer.push(raw.default.clone());
    }
    if !offer.contains(&raw.default) {
        problem(format!(
            "default = {:?} is not in offer {:?}; offer the default language too",
            raw.default, raw.offer
        ));
    }
    offer.retain(|l| *l != raw.default);
    offer.insert(0, raw.default.clone());
    for code in &offer {
        if !is_language_code(code) {
            problem(format!("{code:?} is not a language code like \"en\" or \"pt-BR\""));
        }
    }
    for (prefix, language) in &raw.by_country {
        if prefix.is_empty() || prefix.len() > 4 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            problem(format!(
                "by_country key {prefix:?} must be a calling code of 1 to 4 digits, like \"49\""
            ));
        }
        if !offer.contains(language) {
            problem(format!(
                "by_country {prefix:?} = {language:?}, which is not in offer {offer:?}"
            ));
        }
    }
    let mut switch_words = BTreeMap::new();
    for (language, words) in &raw.switch_words {
        if !offer.contains(language) {
            problem(format!(
                "switch_words has words for {language:?}, which is not in offer {offer:?}"
            ));
        }
        for word in words {
            let word = word.trim().to_lowercase();
            if word.is_empty() {
                problem(format!("switch_words for {language:?} has an empty word"));
            } else if let Some(other) = switch_words.insert(word.clone(), language.clone()) {
                problem(format!(
                    "switch word {word:?} is given for both {other:?} and {language:?}"
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Languages {
        default: raw.default,
        offer,
        by_country: raw.by_country,
        switch_words,
        ask_first: raw.ask_first,
    })
}

/// `en`, `de`, `pt-BR`, `zh-Hans`.
fn is_language_code(code: &str) -> bool {
    let (base, region) = code.split_once('-').unwrap_or((code, ""));
    (2..=3).contains(&base.len())
        && base.bytes().all(|b| b.is_ascii_lowercase())
        && (region.is_empty() || ((2..=8).contains(&region.len()) && region.bytes().all(|b| b.is_ascii_alphanumeric())))
}

/// A table by language: every key a language code and every value a string.
fn by_language(table: &Table) -> bool {
    !table.is_empty() && table.iter().all(|(k, v)| is_language_code(k) && v.is_str())
}

/// What resolving one language found.
#[derive(Default)]
struct Found {
    /// Offered-language texts that are missing (warnings).
    missing: Vec<MenuProblem>,
    /// Texts without the default language, or with a language not offered.
    errors: Vec<MenuProblem>,
    /// Texts whose languages differ in their `{placeholders}`.
    placeholders: Vec<MenuProblem>,
}

/// Replaces every table by language under `value` with its text in
/// `language` (the default's where it has none), noting what is missing.
fn resolve(table: &mut Table, language: &str, default: &str, path: &mut Vec<String>, found: &mut Found) {
    for (key, value) in table.iter_mut() {
        path.push(key.clone());
        resolve_value(value, language, default, path, found);
        path.pop();
    }
}

fn resolve_value(value: &mut Value, language: &str, default: &str, path: &mut Vec<String>, found: &mut Found) {
    match value {
        Value::Table(table) if by_language(table) => {
            let (node, key) = where_is(path);
            let text = |l: &str| table.get(l).and_then(Value::as_str);
            if text(default).is_none() {
                found.errors.push(MenuProblem {
                    node: node.clone(),
                    problem: format!("`{key}` has no {default:?} text, and {default:?} is the default language"),
                });
            }
            if text(language).is_none() && language != default {
                found.missing.push(MenuProblem {
                    node: node.clone(),
                    problem: format!("`{key}` has no {language:?} text; the {default:?} text is used"),
                });
            }
            if let Some(base) = text(default) {
                for (other, t) in table.iter() {
                    let t = t.as_str().unwrap_or_default();
                    if catalog::placeholders(t) != catalog::placeholders(base) {
                        found.placeholders.push(MenuProblem {
                            node: node.clone(),
                            problem: format!(
                                "`{key}`: the {other:?} text has placeholders {:?}, the {default:?} text {:?}",
                                catalog::placeholders(t),
                                catalog::placeholders(base)
                            ),
                        });
                    }
                }
            }
            let chosen = text(language).or_else(|| text(default)).unwrap_or_default();
            *value = Value::String(chosen.to_string());
        }
        Value::Table(table) => resolve(table, language, default, path, found),
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(format!("{}", i + 1));
                resolve_value(item, language, default, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The node and key a path names: `nodes.main.options.2.label` is node
/// `main`, key `options.2.label`; `texts.unknown` is node `texts`.
fn where_is(path: &[String]) -> (String, String) {
    match path {
        [nodes, node, rest @ ..] if nodes == "nodes" && !rest.is_empty() => (node.clone(), rest.join(".")),
        [first, rest @ ..] if !rest.is_empty() => (first.clone(), rest.join(".")),
        _ => ("menu".into(), path.join(".")),
    }
}

/// The built-in `[texts]` the file does not give, in `language` (the default
/// language's for one the catalog does not ship; `shopbot check` says so).
fn fill_texts(table: &mut Table, language: &str, default: &str) {
    let texts = table.entry("texts").or_insert_with(|| Value::Table(Table::new()));
    let Value::Table(texts) = texts else {
        return;
    };
    for key in catalog::KEYS {
        texts.entry(*key).or_insert_with(|| {
            let text = catalog::shipped(language, key).unwrap_or_else(|| catalog::text(default, key));
            Value::String(text.to_string())
        });
    }
}

/// Built-in texts an offered language does not have (the catalog does not
/// ship it and the file's `[texts]` do not give it): for `shopbot check`,
/// naming the language whose text is used instead (the default's, as
/// `fill_texts` and `resolve` do; English when the default is not shipped
/// either and the file does not give the key at all).
fn unshipped_texts(table: &Table, languages: &Languages) -> Vec<MenuProblem> {
    let texts = table.get("texts").and_then(Value::as_table);
    let given = |key: &str, language: &str| match texts.and_then(|t| t.get(key)) {
        Some(Value::String(_)) => true,
        Some(Value::Table(by)) => by.contains_key(language),
        _ => false,
    };
    let default = languages.default.as_str();
    let used = |key: &str| {
        if given(key, default) || catalog::SHIPPED.contains(&default) {
            default
        } else {
            catalog::FALLBACK
        }
    };
    let mut missing = Vec::new();
    for language in &languages.offer {
        if catalog::SHIPPED.contains(&language.as_str()) {
            continue;
        }
        for key in catalog::KEYS {
            if !given(key, language) {
                missing.push(MenuProblem {
                    node: "texts".into(),
                    problem: format!(
                        "`{key}` has no {language:?} text and shopbot ships none; the {:?} text is used",
                        used(key)
                    ),
                });
            }
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::ContactRef;
    use crate::phone::PhoneNumber;

    /// A menu in English, German and Afrikaans: +49 and +43 German, +27 and
    /// the longer +2772 Afrikaans, the rest the default.
    fn three() -> Menus {
        let text = r#"
start = "main"
[languages]
default = "en"
offer = ["en", "de", "af"]
by_country = { "49" = "de", "43" = "de", "2772" = "af" }
[nodes.main]
text = { en = "Welcome", de = "Willkommen", af = "Welkom" }
options = [{ label = { en = "Help", de = "Hilfe", af = "Hulp" }, goto = "help" }]
[nodes.help]
kind = "handoff"
text = "..."
"#;
        Menus::from_toml(text, &[]).expect("a valid menu")
    }

    fn by_number(number: &str) -> ContactRef {
        ContactRef::phone(PhoneNumber::parse(number).expect("a number"))
    }

    #[test]
    fn the_longest_calling_code_decides_until_the_customer_picks() {
        let menus = three();
        assert_eq!(menus.language_of(None, &by_number("+4915112345678")), ("de", false));
        assert_eq!(
            menus.language_of(None, &by_number("+27721234567")),
            ("af", false),
            "+2772 over +27"
        );
        assert_eq!(
            menus.language_of(None, &by_number("+27821234567")),
            ("en", false),
            "+27 alone is not listed"
        );
        assert_eq!(
            menus.language_of(Some("af"), &by_number("+4915112345678")),
            ("af", true)
        );
        assert_eq!(
            menus.language_of(Some("fr"), &by_number("+4915112345678")),
            ("de", false),
            "a pick that is not offered (any more) is not a pick"
        );
    }

    #[test]
    fn a_customer_known_only_by_a_username_gets_the_default_until_they_pick() {
        let menus = three();
        let username = ContactRef::user_id("ZA.1234567890");
        assert_eq!(menus.language_of(None, &username), ("en", false));
        assert_eq!(menus.language_of(Some("de"), &username), ("de", true));
    }
}
