//! The menu file's keys as a shop owner meets them, checked before the file
//! is read into the raw structs: every key that is not one (with "did you
//! mean …?"), every value of the wrong kind ("write it like …"), every
//! missing key, each one line, all at once. What is reported is taken out
//! of the table, so the rest can still be read and validated.
//!
//! A text may be a string or a table by language (PRODUCT.md "Languages"):
//! a table there is not a wrong kind; `languages` checks it.

use toml::{Table, Value};

use super::{MenuError, MenuProblem};
use crate::did_you_mean::{described, nearest};
use crate::engine::catalog;

/// What a key takes.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// Text in quotes, or a table by language.
    Text,
    /// Text in quotes: a node's or a language's name.
    Name,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// A whole number, 0 or more.
    Count,
    /// `true` or `false`.
    Flag,
    /// A list in `[ ]`.
    List,
    /// A table.
    Table,
    /// A list of tables, each a place of its own.
    Rows(&'static Place),
}

/// One key: its name, what it takes, whether it must be given, and an
/// example value as written in a menu file.
#[derive(Debug)]
struct Key {
    name: &'static str,
    shape: Shape,
    required: bool,
    example: &'static str,
}

/// A table of the file and the keys it takes.
#[derive(Debug)]
struct Place {
    /// The place in words: "a menu node", "an option".
    what: &'static str,
    keys: &'static [Key],
}

const fn key(name: &'static str, shape: Shape, example: &'static str) -> Key {
    Key {
        name,
        shape,
        required: false,
        example,
    }
}

const fn must(name: &'static str, shape: Shape, example: &'static str) -> Key {
    Key {
        name,
        shape,
        required: true,
        example,
    }
}

use super::node_kind::KINDS;

/// What a form question accepts.
const ACCEPTS: &[&str] = &["text", "optional_photo"];

const KIND: Key = key("kind", Shape::OneOf(KINDS), "\"info\"");
const THEN: Key = key("then", Shape::Name, "\"main\"");

/// The top of the file (`[texts]` and `[nodes]` are checked on their own).
const TOP: Place = Place {
    what: "the menu file",
    keys: &[
        must("start", Shape::Name, "\"main\""),
        key("main_menu_words", Shape::List, "[\"hi\", \"menu\", \"0\"]"),
        key("session_timeout_minutes", Shape::Count, "60"),
        key(
            "languages",
            Shape::Table,
            "{ default = \"en\", offer = [\"en\", \"de\"] }",
        ),
        key(
            "texts",
            Shape::Table,
            "{ unknown = \"Sorry, I didn't understand that.\" }",
        ),
        must(
            "nodes",
            Shape::Table,
            "{ main = { kind = \"info\", text = \"Hello!\" } }",
        ),
    ],
};

const LANGUAGES: Place = Place {
    what: "[languages]",
    keys: &[
        must("default", Shape::Name, "\"en\""),
        key("offer", Shape::List, "[\"en\", \"de\"]"),
        key("by_country", Shape::Table, "{ \"49\" = \"de\" }"),
        key(
            "switch_words",
            Shape::Table,
            "{ en = [\"english\"], de = [\"deutsch\"] }",
        ),
        key("ask_first", Shape::Flag, "true"),
    ],
};

const OPTION: Place = Place {
    what: "an option",
    keys: &[
        must("label", Shape::Text, "\"Check Order Status\""),
        key("short", Shape::Text, "\"Orders\""),
        must("goto", Shape::Name, "\"order_status\""),
    ],
};

const QUESTION: Place = Place {
    what: "a question",
    keys: &[
        must("field", Shape::Name, "\"description\""),
        must("ask", Shape::Text, "\"Please describe the defect:\""),
        key("accept", Shape::OneOf(ACCEPTS), "\"optional_photo\""),
    ],
};

const MENU: Place = Place {
    what: "a menu node",
    keys: &[
        KIND,
        must("text", Shape::Text, "\"Welcome! Select 1-5\""),
        must(
            "options",
            Shape::Rows(&OPTION),
            "[{ label = \"Check Order Status\", goto = \"order_status\" }]",
        ),
    ],
};

const FORM: Place = Place {
    what: "a form node",
    keys: &[
        KIND,
        must("prefix", Shape::Name, "\"DEF\""),
        must(
            "questions",
            Shape::Rows(&QUESTION),
            "[{ field = \"description\", ask = \"Please describe the defect:\" }]",
        ),
        must("confirmation", Shape::Text, "\"✅ Submitted! ID: {id}\""),
        THEN,
    ],
};

const LIST: Place = Place {
    what: "a list node",
    keys: &[
        KIND,
        must("form", Shape::Name, "\"defect_report\""),
        key("limit", Shape::Count, "5"),
        must("title", Shape::Text, "\"Your last {count} report(s):\""),
        must("empty", Shape::Text, "\"You have not reported anything yet.\""),
        THEN,
    ],
};

const LOOKUP: Place = Place {
    what: "a lookup node",
    keys: &[
        KIND,
        must("prompt", Shape::Text, "\"Please enter your order number:\""),
        must("found", Shape::Text, "\"📦 Order {number}: {status}\""),
        key("found_updated", Shape::Text, "\"Last update: {updated}\""),
        key("found_note", Shape::Text, "\"Note: {note}\""),
        must("not_found", Shape::Text, "\"We couldn't find order {number}.\""),
    ],
};

const INFO: Place = Place {
    what: "an info node",
    keys: &[
        KIND,
        must("text", Shape::Text, "\"We are open Mon-Fri 07:00-17:00.\""),
        THEN,
    ],
};

const HANDOFF: Place = Place {
    what: "a handoff node",
    keys: &[
        KIND,
        must("text", Shape::Text, "\"A person will answer here soon.\""),
        THEN,
    ],
};

/// The place a node of `kind` is.
fn node_place(kind: &str) -> Option<&'static Place> {
    match kind {
        "menu" => Some(&MENU),
        "form" => Some(&FORM),
        "list" => Some(&LIST),
        "lookup" => Some(&LOOKUP),
        "info" => Some(&INFO),
        "handoff" => Some(&HANDOFF),
        _ => None,
    }
}

/// What the check found.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    /// Every problem, one line each: the top of the file's, then
    /// `[languages]`, `[texts]` and each node's.
    pub problems: Vec<MenuProblem>,
    /// Whether what is left can still be read: nothing it needs was missing
    /// or taken out, and every node has a kind.
    pub readable: bool,
}

/// Checks a parsed menu file's keys, taking out of `table` every key and
/// value it reports.
pub(crate) fn check(table: &mut Table) -> Checked {
    let mut found = Checked {
        problems: Vec::new(),
        readable: true,
    };
    found.place(table, &TOP, "menu", "");
    if let Some(Value::Table(languages)) = table.get_mut("languages") {
        found.place(languages, &LANGUAGES, "languages", "");
    }
    if let Some(Value::Table(texts)) = table.get_mut("texts") {
        found.texts(texts);
    }
    if let Some(Value::Table(nodes)) = table.get_mut("nodes") {
        found.nodes(nodes);
    }
    found
}

impl Checked {
    /// The problems found, then those of reading what is left, when it can
    /// be read (an error that is not a list of problems becomes one).
    pub(crate) fn with_rest<T>(mut self, read: impl FnOnce() -> Result<T, MenuError>) -> Vec<MenuProblem> {
        if !self.readable {
            return self.problems;
        }
        match read() {
            Ok(_) => {}
            Err(MenuError::Invalid(found)) => self.problems.extend(found),
            Err(MenuError::Syntax(message)) => self.problems.push(MenuProblem {
                node: "menu".into(),
                problem: message.trim_end().to_string(),
            }),
        }
        self.problems
    }
}

impl Checked {
    fn add(&mut self, node: &str, problem: String) {
        self.problems.push(MenuProblem {
            node: node.to_string(),
            problem,
        });
    }

    /// The keys of one table: unknown ones, missing ones, wrong kinds.
    /// `node` is the node (or part of the file) the line names; `prefix`
    /// names the table within it (`options.2.`).
    fn place(&mut self, table: &mut Table, place: &Place, node: &str, prefix: &str) {
        let meant = self.unknown_keys(table, place, node, prefix);
        for key in place.keys {
            match table.get_mut(key.name) {
                None if key.required => {
                    self.readable = false;
                    // A key its typo's line already names is not missing twice.
                    if !meant.contains(&key.name) {
                        let problem = format!("`{prefix}{}` is missing; write it like {}", key.name, example(key));
                        self.add(node, problem);
                    }
                }
                None => {}
                Some(value) => {
                    if let Some(problem) = self.value(value, key, node, prefix) {
                        table.remove(key.name);
                        self.readable &= !key.required;
                        self.add(node, format!("`{prefix}{}`: {problem}", key.name));
                    }
                }
            }
        }
    }

    /// Takes the keys `place` does not know out of `table`, each with its
    /// problem; returns the keys they were meant to be.
    fn unknown_keys(&mut self, table: &mut Table, place: &Place, node: &str, prefix: &str) -> Vec<&'static str> {
        let names: Vec<&str> = place.keys.iter().map(|k| k.name).collect();
        let unknown: Vec<String> = table.keys().filter(|k| !names.contains(&k.as_str())).cloned().collect();
        let mut meant = Vec::new();
        for name in unknown {
            let written = table.remove(&name);
            if place.what == TOP.what && written.as_ref().is_some_and(looks_like_a_node) {
                self.readable = false;
                let problem = format!(
                    "is a node outside [nodes]; did you mean [nodes.{name}]? Write its heading as [nodes.{name}]"
                );
                self.add(node, format!("`[{name}]` {problem}"));
                continue;
            }
            let near = nearest(&name, &names).and_then(|near| place.keys.iter().find(|k| k.name == near));
            let problem = match near {
                Some(near) => {
                    meant.push(near.name);
                    format!(
                        "is not a key of {}; did you mean {}? Write it like {}",
                        place.what,
                        near.name,
                        example(near)
                    )
                }
                None => format!("is not a key of {}; its keys are {}", place.what, names.join(", ")),
            };
            self.add(node, format!("`{prefix}{name}` {problem}"));
        }
        meant
    }

    /// What is wrong with `value` for `key`, if anything (a list of tables
    /// is checked row by row here).
    fn value(&mut self, value: &mut Value, key: &Key, node: &str, prefix: &str) -> Option<String> {
        let fits = match (key.shape, &mut *value) {
            (Shape::Text, Value::String(_) | Value::Table(_)) => true,
            (Shape::Name, Value::String(_)) | (Shape::Flag, Value::Boolean(_)) => true,
            (Shape::List, Value::Array(_)) | (Shape::Table, Value::Table(_)) => true,
            (Shape::Count, Value::Integer(n)) => u32::try_from(*n).is_ok(),
            (Shape::OneOf(words), Value::String(word)) => {
                return (!words.contains(&word.as_str())).then(|| not_one_of(key, words, word));
            }
            (Shape::Rows(place), Value::Array(rows)) if rows.iter().all(Value::is_table) => {
                for (i, row) in rows.iter_mut().enumerate() {
                    if let Value::Table(row) = row {
                        self.place(row, place, node, &format!("{prefix}{}.{}.", key.name, i + 1));
                    }
                }
                true
            }
            _ => false,
        };
        (!fits).then(|| wrong_kind(key, value))
    }

    /// `[texts]`: every key a built-in text's (or `handed_back`), each a text.
    fn texts(&mut self, texts: &mut Table) {
        let mut names: Vec<&'static str> = catalog::KEYS.to_vec();
        names.push("handed_back");
        let unknown: Vec<String> = texts.keys().filter(|k| !names.contains(&k.as_str())).cloned().collect();
        for name in unknown {
            texts.remove(&name);
            let problem = match nearest(&name, &names) {
                Some(near) => format!("did you mean {near}? Write it like {}", text_example(near)),
                None => format!("the keys of [texts] are {}", names.join(", ")),
            };
            self.add("texts", format!("`{name}` is not a key of [texts]; {problem}"));
        }
        let wrong: Vec<String> = texts
            .iter()
            .filter(|(_, v)| !(v.is_str() || v.is_table()))
            .map(|(k, _)| k.clone())
            .collect();
        for name in wrong {
            if let Some(value) = texts.remove(&name) {
                let like = text_example(&name);
                self.add(
                    "texts",
                    format!(
                        "`{name}`: write it like {like} (text in quotes, not {})",
                        described(&value)
                    ),
                );
            }
        }
    }

    /// `[nodes]`: each node a table, its keys those of its kind.
    fn nodes(&mut self, nodes: &mut Table) {
        for (name, node) in nodes.iter_mut() {
            let Value::Table(node) = node else {
                self.readable = false;
                self.add(
                    name,
                    format!(
                        "must be a table: write it like [nodes.{name}] on a line of its own, its keys below it, \
                         not {}",
                        described(node)
                    ),
                );
                continue;
            };
            match self.kind_of(name, node) {
                Some(place) => self.place(node, place, name, ""),
                None => self.readable = false,
            }
        }
    }

    /// The place a node is, by its `kind` (a menu when it leaves `kind` out
    /// and has `options`); `None`, with its problem, when it has none.
    fn kind_of(&mut self, name: &str, node: &Table) -> Option<&'static Place> {
        let problem = match node.get("kind") {
            None if node.contains_key("options") => return Some(&MENU),
            None => super::node_kind::missing_kind(name),
            Some(Value::String(kind)) => match node_place(kind) {
                Some(place) => return Some(place),
                None => format!("`kind`: {}", not_one_of(&KIND, KINDS, kind)),
            },
            Some(other) => format!("`kind`: {}", wrong_kind(&KIND, other)),
        };
        self.add(name, problem);
        None
    }
}

/// A table with a node's `kind`, `text` or `options`.
fn looks_like_a_node(value: &Value) -> bool {
    value
        .as_table()
        .is_some_and(|t| ["kind", "text", "options"].iter().any(|k| t.contains_key(*k)))
}

/// `word` is not one of the `words` `key` takes.
fn not_one_of(key: &Key, words: &[&str], word: &str) -> String {
    let choices = words.join(", ");
    match nearest(word, words) {
        Some(near) => format!(
            "{word:?} is not one of {choices}; did you mean {near}? Write it like {} = \"{near}\"",
            key.name
        ),
        None => format!("{word:?} is not one of {choices}; write it like {}", example(key)),
    }
}

/// `value` is not the kind of value `key` takes.
fn wrong_kind(key: &Key, value: &Value) -> String {
    let wanted = match key.shape {
        Shape::Text => "text in quotes, or a table by language",
        Shape::Name | Shape::OneOf(_) => "text in quotes",
        Shape::Count => "a whole number",
        Shape::Flag => "true or false",
        Shape::List => "a list in [ ]",
        Shape::Table => "a table",
        Shape::Rows(_) => "a list of tables in [ ]",
    };
    format!("write it like {} ({wanted}, not {})", example(key), described(value))
}

/// `key = example`.
fn example(key: &Key) -> String {
    format!("{} = {}", key.name, key.example)
}

/// `key = "…"` with the built-in English text of `[texts] key`.
fn text_example(key: &str) -> String {
    let text = if catalog::KEYS.contains(&key) {
        catalog::text(catalog::FALLBACK, key)
    } else {
        "Thanks for waiting! Send hi for the menu."
    };
    format!("{key} = {}", Value::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::did_you_mean::fields_of;
    use crate::engine::languages::RawLanguages;
    use crate::engine::menu::{MenuOption, Node, Question, RawMenu, Texts};

    fn problems_of(text: &str) -> (Vec<String>, bool, Table) {
        let mut table: Table = text.parse().unwrap();
        let checked = check(&mut table);
        let lines = checked.problems.iter().map(ToString::to_string).collect();
        (lines, checked.readable, table)
    }

    fn names(place: &Place) -> Vec<&'static str> {
        let mut names: Vec<_> = place.keys.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names
    }

    fn sorted(fields: &[&'static str]) -> Vec<&'static str> {
        let mut fields = fields.to_vec();
        fields.sort_unstable();
        fields
    }

    #[test]
    fn the_places_have_the_structs_keys() {
        let mut top = sorted(fields_of::<RawMenu>());
        top.push("languages");
        top.sort_unstable();
        assert_eq!(names(&TOP), top);
        assert_eq!(names(&LANGUAGES), sorted(fields_of::<RawLanguages>()));
        assert_eq!(names(&OPTION), sorted(fields_of::<MenuOption>()));
        assert_eq!(names(&QUESTION), sorted(fields_of::<Question>()));
        let mut texts: Vec<&str> = catalog::KEYS.to_vec();
        texts.push("handed_back");
        texts.sort_unstable();
        assert_eq!(texts, sorted(fields_of::<Texts>()));
    }

    #[test]
    fn every_node_kind_takes_exactly_its_places_keys_and_examples() {
        for kind in KINDS {
            let place = node_place(kind).unwrap();
            let mut node = Table::new();
            for key in place.keys {
                let line: Table = example(key).parse().unwrap();
                node.extend(line);
            }
            node.insert("kind".into(), Value::String(kind.to_string()));
            let read: Result<Node, _> = Value::Table(node.clone()).try_into();
            assert!(read.is_ok(), "{kind}: {read:?}");
            node.insert("zzz".into(), Value::Boolean(true));
            let refused = Value::Table(node).try_into::<Node>().unwrap_err().to_string();
            // serde lists them as "expected `a` or `b`" or "expected one of `a`, `b`, `c`".
            let expected = refused.split_once("expected").map(|(_, e)| e).unwrap_or_default();
            let mut listed: Vec<&str> = expected
                .trim_start_matches(" one of")
                .split(',')
                .flat_map(|part| part.split(" or "))
                .map(|f| f.trim().trim_matches('`'))
                .collect();
            listed.push("kind");
            listed.sort_unstable();
            assert_eq!(listed, names(place), "{kind}: {refused}");
        }
    }

    #[test]
    fn mistyped_keys_in_every_place_are_each_one_line_with_what_was_meant() {
        let (lines, readable, table) = problems_of(
            "strat = \"main\"\nstart = \"main\"\n[texts]\nunknwn = \"?\"\n[languages]\ndefault = \"en\"\nofer = [\"en\"]\n\
             [nodes.main]\ntext = \"Hi\"\noptions = [{ label = \"A\", gooto = \"a\" }]\n\
             [nodes.a]\nkind = \"info\"\ntxt = \"A\"\ntext = \"A\"\n",
        );
        let expected = [
            "node `menu`: `strat` is not a key of the menu file; did you mean start? Write it like start = \"main\"",
            "node `languages`: `ofer` is not a key of [languages]; did you mean offer? Write it like offer = [\"en\", \"de\"]",
            "node `texts`: `unknwn` is not a key of [texts]; did you mean unknown? \
             Write it like unknown = \"Sorry, I didn't understand that.\"",
            "node `a`: `txt` is not a key of an info node; did you mean text? \
             Write it like text = \"We are open Mon-Fri 07:00-17:00.\"",
            "node `main`: `options.1.gooto` is not a key of an option; did you mean goto? \
             Write it like goto = \"order_status\"",
        ];
        assert_eq!(lines, expected);
        assert!(!readable, "a missing goto leaves the menu unreadable");
        assert!(!table.contains_key("strat"));
    }

    #[test]
    fn values_of_the_wrong_kind_are_each_one_line_with_an_example_first() {
        let (lines, readable, table) = problems_of(
            "start = \"main\"\nsession_timeout_minutes = \"60\"\nmain_menu_words = \"hi\"\n\
             [nodes.main]\nkind = \"list\"\nform = \"f\"\nlimit = -1\ntitle = \"t\"\nempty = { en = \"e\" }\n",
        );
        let expected = [
            "node `menu`: `main_menu_words`: write it like main_menu_words = [\"hi\", \"menu\", \"0\"] \
             (a list in [ ], not the text \"hi\")",
            "node `menu`: `session_timeout_minutes`: write it like session_timeout_minutes = 60 \
             (a whole number, not the text \"60\")",
            "node `main`: `limit`: write it like limit = 5 (a whole number, not the number -1)",
        ];
        assert_eq!(lines, expected);
        assert!(readable, "only optional keys were taken out");
        assert!(!table.contains_key("session_timeout_minutes"));
    }

    #[test]
    fn a_table_by_language_is_a_text_and_a_mistyped_kind_is_named() {
        let (lines, readable, _) = problems_of(
            "start = \"main\"\n[texts]\nback = { en = \"0 Back\", de = \"0 Zurück\" }\nfooter = 3\n\
             [nodes.main]\nkind = \"infoo\"\ntext = { en = \"Hi\" }\n\
             [nodes.f]\nkind = \"form\"\nprefix = \"F\"\nconfirmation = \"ok\"\n\
             questions = [{ field = \"p\", ask = \"Photo?\", accept = \"photo\" }]\n",
        );
        let expected = [
            "node `texts`: `footer`: write it like footer = \"Reply 0 for the main menu.\" (text in quotes, not the number 3)",
            "node `f`: `questions.1.accept`: \"photo\" is not one of text, optional_photo; \
             write it like accept = \"optional_photo\"",
            "node `main`: `kind`: \"infoo\" is not one of menu, form, list, lookup, info, handoff; \
             did you mean info? Write it like kind = \"info\"",
        ];
        assert_eq!(lines, expected);
        assert!(!readable, "a node without a kind cannot be read");
    }

    #[test]
    fn a_missing_key_is_one_line_with_an_example_and_leaves_the_rest_unread() {
        let (lines, readable, _) = problems_of("[nodes.main]\nkind = \"handoff\"\n");
        let expected = [
            "node `menu`: `start` is missing; write it like start = \"main\"",
            "node `main`: `text` is missing; write it like text = \"A person will answer here soon.\"",
        ];
        assert_eq!(lines, expected);
        assert!(!readable);
    }

    #[test]
    fn a_node_outside_nodes_is_named_with_where_it_goes() {
        let (lines, readable, _) = problems_of(
            "start = \"main\"\n[main]\nkind = \"info\"\ntext = \"Hi\"\n[nodes.other]\nkind = \"info\"\ntext = \"x\"\n",
        );
        let expected =
            ["node `menu`: `[main]` is a node outside [nodes]; did you mean [nodes.main]? Write its heading as [nodes.main]"];
        assert_eq!(lines, expected);
        assert!(!readable, "its options' targets would be missing");
    }

    #[test]
    fn the_built_in_menu_has_no_key_problems() {
        let (lines, readable, _) = problems_of(super::super::DEFAULT_MENU_TOML);
        assert!(lines.is_empty(), "{lines:?}");
        assert!(readable);
    }
}
