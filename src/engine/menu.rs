//! The menu: the bot's whole conversation as data.
//!
//! A menu file is TOML (see `default_menu.toml`, the built-in example). It is read
//! raw with `deny_unknown_fields`, then validated into [`Menu`]: every option's
//! target exists, every node is reachable from the start node, prefixes are
//! well-formed, list nodes point at forms, and every text fits in one message
//! on every channel the shop has configured (their [`TextLimit`]s). Validation collects every problem at once so `shopbot check` can
//! report them together; the rest of the code only ever sees a valid [`Menu`].

mod keys;
mod node_kind;

pub(super) use keys::check as check_keys;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::Deserialize;

use super::catalog;
use super::words::StatusWords;
use crate::message::{ChoiceOption, TextLimit};

/// Room left in a message for what the engine adds around a node's own text
/// (the hint, the footer, the back line).
pub const TEXT_MARGIN: usize = 200;

/// The example menu compiled into the binary.
pub const DEFAULT_MENU_TOML: &str = include_str!("default_menu.toml");

/// A validated menu.
#[derive(Debug, Clone)]
pub struct Menu {
    /// Where new conversations start and where the main-menu words lead.
    pub start: String,
    /// Lower-cased words that return to `start` from anywhere.
    pub main_menu_words: Vec<String>,
    /// Idle time after which a conversation starts over.
    pub session_timeout: jiff::SignedDuration,
    /// Texts the engine uses around the nodes' own texts.
    pub texts: Texts,
    /// Every node by name.
    pub nodes: BTreeMap<String, Node>,
}

/// Texts shared by all nodes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    /// Said before re-showing the current node when the reply is not understood.
    #[serde(default = "Texts::default_unknown")]
    pub unknown: String,
    /// The last line of every menu but the start menu.
    #[serde(default = "Texts::default_back")]
    pub back: String,
    /// The last line after info, list, lookup and form replies.
    #[serde(default = "Texts::default_footer")]
    pub footer: String,
    /// Said when a text question got no text.
    #[serde(default = "Texts::default_need_text")]
    pub need_text: String,
    /// Asked again when a photo question got neither a photo nor the skip word.
    #[serde(default = "Texts::default_need_photo")]
    pub need_photo: String,
    /// Said when a photo came without text where text is asked for (the photo
    /// is kept and the question asked again).
    #[serde(default = "Texts::default_photo_received")]
    pub photo_received: String,
    /// A report without text in the customer's history, where its start would be.
    #[serde(default = "Texts::default_photo_only")]
    pub photo_only: String,
    /// Said when the customer cancels a form.
    #[serde(default = "Texts::default_form_cancelled")]
    pub form_cancelled: String,
    /// Said once while a conversation waits for a person who has not answered yet.
    #[serde(default = "Texts::default_waiting_ack")]
    pub waiting_ack: String,
    /// The answer to a stop keyword (and, at most once a day, to anything
    /// else an opted-out customer writes).
    #[serde(default = "Texts::default_opted_out")]
    pub opted_out: String,
    /// The answer to a start keyword.
    #[serde(default = "Texts::default_opted_in")]
    pub opted_in: String,
    /// Said to the customer when staff hand them back to the bot (`#done`);
    /// empty (the default): nothing is said.
    #[serde(default)]
    pub handed_back: String,
    /// The button that opens a menu shown as a list (Meta, Twilio's list
    /// picker; at most 20 characters).
    #[serde(default = "Texts::default_choose")]
    pub choose: String,
    /// Asks a new customer to pick a language (`[languages] ask_first`).
    #[serde(default = "Texts::default_language_prompt")]
    pub language_prompt: String,
    /// Tells a customer their order's status changed (`[notify]`):
    /// `{number}`, `{status}`, `{note}` (a line left empty without a note).
    #[serde(default = "Texts::default_order_update")]
    pub order_update: String,
    /// Said instead of a handoff's text while the shop is closed (`[hours]`):
    /// `{next_open}` ("Monday at 08:00").
    #[serde(default = "Texts::default_away")]
    pub away: String,
    /// Tells a customer the owner changed their submission's status
    /// (`[notify] submission_status`): `{id}`, `{status}` (one of the three
    /// words below), `{note}` (a line left empty without a note).
    #[serde(default = "Texts::default_submission_update")]
    pub submission_update: String,
    /// A submission's status in the history and in updates: new …
    #[serde(default = "Texts::default_submission_new")]
    pub submission_new: String,
    /// … in progress …
    #[serde(default = "Texts::default_submission_in_progress")]
    pub submission_in_progress: String,
    /// … and done.
    #[serde(default = "Texts::default_submission_done")]
    pub submission_done: String,
}

impl Texts {
    fn default_choose() -> String {
        catalog::text(catalog::FALLBACK, "choose").into()
    }
    fn default_unknown() -> String {
        catalog::text(catalog::FALLBACK, "unknown").into()
    }
    fn default_back() -> String {
        catalog::text(catalog::FALLBACK, "back").into()
    }
    fn default_footer() -> String {
        catalog::text(catalog::FALLBACK, "footer").into()
    }
    fn default_need_text() -> String {
        catalog::text(catalog::FALLBACK, "need_text").into()
    }
    fn default_need_photo() -> String {
        catalog::text(catalog::FALLBACK, "need_photo").into()
    }
    fn default_photo_received() -> String {
        catalog::text(catalog::FALLBACK, "photo_received").into()
    }
    fn default_photo_only() -> String {
        catalog::text(catalog::FALLBACK, "photo_only").into()
    }
    fn default_form_cancelled() -> String {
        catalog::text(catalog::FALLBACK, "form_cancelled").into()
    }
    fn default_waiting_ack() -> String {
        catalog::text(catalog::FALLBACK, "waiting_ack").into()
    }
    fn default_opted_out() -> String {
        catalog::text(catalog::FALLBACK, "opted_out").into()
    }
    fn default_opted_in() -> String {
        catalog::text(catalog::FALLBACK, "opted_in").into()
    }
    fn default_language_prompt() -> String {
        catalog::text(catalog::FALLBACK, "language_prompt").into()
    }
    fn default_order_update() -> String {
        catalog::text(catalog::FALLBACK, "order_update").into()
    }
    fn default_away() -> String {
        catalog::text(catalog::FALLBACK, "away").into()
    }
    fn default_submission_update() -> String {
        catalog::text(catalog::FALLBACK, "submission_update").into()
    }
    fn default_submission_new() -> String {
        catalog::text(catalog::FALLBACK, "submission_new").into()
    }
    fn default_submission_in_progress() -> String {
        catalog::text(catalog::FALLBACK, "submission_in_progress").into()
    }
    fn default_submission_done() -> String {
        catalog::text(catalog::FALLBACK, "submission_done").into()
    }

    /// What the customer reads for each status of a submission.
    pub fn status_words(&self) -> StatusWords {
        StatusWords {
            new: self.submission_new.clone(),
            in_progress: self.submission_in_progress.clone(),
            done: self.submission_done.clone(),
        }
    }

    /// Every text that must say something, with its key (`handed_back` may
    /// be empty).
    pub fn all(&self) -> [(&'static str, &str); 19] {
        [
            ("unknown", &self.unknown),
            ("back", &self.back),
            ("footer", &self.footer),
            ("need_text", &self.need_text),
            ("need_photo", &self.need_photo),
            ("photo_received", &self.photo_received),
            ("photo_only", &self.photo_only),
            ("form_cancelled", &self.form_cancelled),
            ("waiting_ack", &self.waiting_ack),
            ("opted_out", &self.opted_out),
            ("opted_in", &self.opted_in),
            ("choose", &self.choose),
            ("language_prompt", &self.language_prompt),
            ("order_update", &self.order_update),
            ("away", &self.away),
            ("submission_update", &self.submission_update),
            ("submission_new", &self.submission_new),
            ("submission_in_progress", &self.submission_in_progress),
            ("submission_done", &self.submission_done),
        ]
    }
}

impl Default for Texts {
    fn default() -> Self {
        Texts {
            unknown: Self::default_unknown(),
            back: Self::default_back(),
            footer: Self::default_footer(),
            need_text: Self::default_need_text(),
            need_photo: Self::default_need_photo(),
            photo_received: Self::default_photo_received(),
            photo_only: Self::default_photo_only(),
            form_cancelled: Self::default_form_cancelled(),
            waiting_ack: Self::default_waiting_ack(),
            opted_out: Self::default_opted_out(),
            opted_in: Self::default_opted_in(),
            handed_back: String::new(),
            choose: Self::default_choose(),
            language_prompt: Self::default_language_prompt(),
            order_update: Self::default_order_update(),
            away: Self::default_away(),
            submission_update: Self::default_submission_update(),
            submission_new: Self::default_submission_new(),
            submission_in_progress: Self::default_submission_in_progress(),
            submission_done: Self::default_submission_done(),
        }
    }
}

/// One node of the conversation.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Node {
    /// Numbered options leading to other nodes.
    Menu {
        /// The heading above the options.
        text: String,
        /// Option `n` is `options[n - 1]`.
        options: Vec<MenuOption>,
    },
    /// Questions whose answers become one submission.
    Form {
        /// Submission ID prefix, e.g. `DEF` gives `DEF-20250119143022`.
        prefix: String,
        /// Asked in order.
        questions: Vec<Question>,
        /// Said when the submission is stored; `{id}` is its ID.
        confirmation: String,
        /// Where the conversation continues (default: the start node).
        #[serde(default)]
        then: Option<String>,
    },
    /// This customer's latest submissions of one form.
    List {
        /// The form node whose submissions are listed.
        form: String,
        /// How many, newest first.
        #[serde(default = "default_list_limit")]
        limit: usize,
        /// The heading; `{count}` is the number shown.
        title: String,
        /// Said when there is nothing to list.
        empty: String,
        /// Where the conversation continues (default: the start node).
        #[serde(default)]
        then: Option<String>,
    },
    /// Order status by order number.
    Lookup {
        /// Asks for the order number.
        prompt: String,
        /// `{number}` and `{status}` of a found order.
        found: String,
        /// Added when the order has an update date: `{updated}`.
        #[serde(default)]
        found_updated: Option<String>,
        /// Added when the order has a note: `{note}`.
        #[serde(default)]
        found_note: Option<String>,
        /// Said when no order of this customer has that number: `{number}`.
        not_found: String,
    },
    /// Static text, such as the production schedule.
    Info {
        /// The text.
        text: String,
        /// Where the conversation continues (default: the start node).
        #[serde(default)]
        then: Option<String>,
    },
    /// Hands the conversation to a person: marks it as waiting, and the bot
    /// stays quiet until the person hands it back (or it idles past the
    /// session timeout, or the customer sends a main-menu word).
    Handoff {
        /// Says when someone will answer.
        text: String,
        /// Where the bot continues once the person hands the conversation back
        /// (default: the start node).
        #[serde(default)]
        then: Option<String>,
    },
}

/// One numbered option of a menu node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenuOption {
    /// Shown after the number, and on its button or list row when it fits.
    pub label: String,
    /// A shorter label for a button or list row the label does not fit.
    #[serde(default)]
    pub short: Option<String>,
    /// The node it leads to.
    pub goto: String,
    /// What a tap on it sends back (`node:goto`), set when the menu is read.
    #[serde(skip)]
    pub id: String,
}

/// One question of a form node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// The answer's name in the stored submission.
    pub field: String,
    /// The question as the customer reads it.
    pub ask: String,
    /// What the answer must be.
    #[serde(default)]
    pub accept: Accept,
}

/// What a question accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Accept {
    /// Non-empty text (a photo with a caption counts; its media is kept).
    #[default]
    Text,
    /// A photo or other media, or the word `skip`.
    OptionalPhoto,
}

fn default_list_limit() -> usize {
    5
}

/// The raw file, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMenu {
    start: String,
    #[serde(default = "default_main_menu_words")]
    main_menu_words: Vec<String>,
    #[serde(default = "default_timeout_minutes")]
    session_timeout_minutes: u32,
    #[serde(default)]
    texts: Texts,
    /// A node may leave `kind` out when it has `options` (see `node_kind`).
    #[serde(deserialize_with = "node_kind::nodes")]
    nodes: BTreeMap<String, Node>,
}

fn default_main_menu_words() -> Vec<String> {
    ["hi", "menu", "0"].map(String::from).to_vec()
}

fn default_timeout_minutes() -> u32 {
    60
}

/// Why a menu cannot be used. Each problem names the node it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MenuError {
    /// The file is not valid TOML or has an unknown or missing key.
    #[error("{0}")]
    Syntax(String),
    /// The menu parsed but is inconsistent.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<MenuProblem>),
}

/// One inconsistency in a parsed menu.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("node `{node}`: {problem}")]
pub struct MenuProblem {
    /// The node the problem is in (or `start` for the top-level key).
    pub node: String,
    /// What is wrong and how to fix it.
    pub problem: String,
}

impl Menu {
    /// The built-in example menu, in its default language.
    pub fn example() -> Menu {
        super::Menus::example().default_menu().clone()
    }

    /// Parses a menu file's text and validates it for channels with these limits.
    /// Its keys are checked first ([`check_keys`]): every unknown key and
    /// value of the wrong kind is one problem, reported with the rest.
    pub fn from_toml(text: &str, limits: &[TextLimit]) -> Result<Menu, MenuError> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| MenuError::Syntax(e.to_string()))?;
        let checked = check_keys(&mut table);
        if checked.problems.is_empty() {
            // Read from the text: serde's errors then name the line and column.
            let raw: RawMenu = toml::from_str(text).map_err(|e| MenuError::Syntax(e.to_string()))?;
            return Menu::from_raw(raw, limits);
        }
        Err(MenuError::Invalid(
            checked.with_rest(|| Menu::from_table(table, limits)),
        ))
    }

    /// A menu file already read as TOML (one language of a menu in several).
    pub(crate) fn from_table(table: toml::Table, limits: &[TextLimit]) -> Result<Menu, MenuError> {
        let raw: RawMenu = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| MenuError::Syntax(e.to_string()))?;
        Menu::from_raw(raw, limits)
    }

    fn from_raw(raw: RawMenu, limits: &[TextLimit]) -> Result<Menu, MenuError> {
        let problems = validate(&raw, limits);
        if !problems.is_empty() {
            return Err(MenuError::Invalid(problems));
        }
        Ok(Menu {
            start: raw.start,
            main_menu_words: raw.main_menu_words.iter().map(|w| w.trim().to_lowercase()).collect(),
            session_timeout: jiff::SignedDuration::from_mins(i64::from(raw.session_timeout_minutes)),
            texts: raw.texts,
            nodes: with_option_ids(raw.nodes),
        })
    }

    /// The node with this name, if the menu has it.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.get(name)
    }

    /// The menu node and option number (from 1) whose label or short label
    /// `word` (trimmed, lower-cased) is, as a customer may type it.
    pub fn option_labelled(&self, word: &str) -> Option<(&str, usize)> {
        self.nodes.iter().find_map(|(name, node)| match node {
            Node::Menu { options, .. } => options
                .iter()
                .position(|option| super::is_label_of(option, word))
                .map(|i| (name.as_str(), i + 1)),
            _ => None,
        })
    }

    /// The ID prefix of a form node.
    pub fn form_prefix(&self, form: &str) -> Option<&str> {
        match self.nodes.get(form) {
            Some(Node::Form { prefix, .. }) => Some(prefix),
            _ => None,
        }
    }
}

/// Every menu option with its tap id, made once here rather than at every
/// step: [`ChoiceOption::id_for`] (`node:goto`), unique within its menu, as
/// Meta and Twilio want a message's buttons and rows to be. An option whose
/// `node:goto` an earlier option of the menu already has gets the first free
/// `node:goto#n` (n from 2) that is no other option's own id, so ids stay
/// stable while the menu keeps its options.
fn with_option_ids(mut nodes: BTreeMap<String, Node>) -> BTreeMap<String, Node> {
    for (name, node) in &mut nodes {
        if let Node::Menu { options, .. } = node {
            let own: Vec<String> = options.iter().map(|o| ChoiceOption::id_for(name, &o.goto)).collect();
            let mut taken: Vec<String> = Vec::with_capacity(options.len());
            for (option, id) in options.iter_mut().zip(&own) {
                option.id = unique_id(id, &own, &taken);
                taken.push(option.id.clone());
            }
        }
    }
    nodes
}

/// `id` if no earlier option took it, else the first `id#n` that is neither
/// taken nor another option's own id.
fn unique_id(id: &str, own: &[String], taken: &[String]) -> String {
    if !taken.iter().any(|t| t == id) {
        return id.to_string();
    }
    (2..)
        .map(|n| format!("{id}#{n}"))
        .find(|candidate| !taken.contains(candidate) && !own.contains(candidate))
        .unwrap_or_else(|| id.to_string())
}

impl Node {
    /// The nodes this node can lead to.
    fn targets(&self) -> Vec<&str> {
        match self {
            Node::Menu { options, .. } => options.iter().map(|o| o.goto.as_str()).collect(),
            Node::Form { then, .. }
            | Node::List { then, .. }
            | Node::Info { then, .. }
            | Node::Handoff { then, .. } => then.iter().map(String::as_str).collect(),
            Node::Lookup { .. } => Vec::new(),
        }
    }

    /// Every customer-visible text of the node, with the key it came from.
    fn texts(&self) -> Vec<(&'static str, &str)> {
        match self {
            Node::Menu { text, .. } => vec![("text", text)],
            Node::Form {
                questions,
                confirmation,
                ..
            } => {
                let mut texts: Vec<_> = questions.iter().map(|q| ("ask", q.ask.as_str())).collect();
                texts.push(("confirmation", confirmation));
                texts
            }
            Node::List { title, empty, .. } => vec![("title", title), ("empty", empty)],
            Node::Lookup {
                prompt,
                found,
                not_found,
                ..
            } => vec![("prompt", prompt), ("found", found), ("not_found", not_found)],
            Node::Info { text, .. } | Node::Handoff { text, .. } => vec![("text", text)],
        }
    }
}

/// A text must say something and fit in one message on every channel, with
/// room to spare.
fn check_text(node: &str, key: &str, text: &str, limits: &[TextLimit], problem: &mut impl FnMut(&str, String)) {
    if text.trim().is_empty() {
        problem(node, format!("`{key}` is empty"));
        return;
    }
    if let Some((limit, len)) = too_long(limits, |limit| limit.len(text)) {
        problem(
            node,
            format!(
                "`{key}` is {len} characters; keep it under {} so it fits in one {} message",
                limit.max - TEXT_MARGIN,
                limit.channel
            ),
        );
    }
}

/// The first limit a text of length `len` (in each limit's units) exceeds,
/// with that length.
fn too_long(limits: &[TextLimit], len: impl Fn(&TextLimit) -> usize) -> Option<(TextLimit, usize)> {
    limits
        .iter()
        .map(|limit| (*limit, len(limit)))
        .find(|(limit, len)| *len > limit.max - TEXT_MARGIN)
}

fn validate(raw: &RawMenu, limits: &[TextLimit]) -> Vec<MenuProblem> {
    let mut problems = Vec::new();
    let mut problem = |node: &str, text: String| {
        problems.push(MenuProblem {
            node: node.to_string(),
            problem: text,
        })
    };
    if !raw.nodes.contains_key(&raw.start) {
        problem(
            "start",
            format!(
                "start = {:?} names no node; add [nodes.{}] or change start",
                raw.start, raw.start
            ),
        );
    }
    for (key, text) in raw.texts.all() {
        check_text("texts", key, text, limits, &mut problem);
    }
    if !raw.texts.handed_back.trim().is_empty() {
        check_text("texts", "handed_back", &raw.texts.handed_back, limits, &mut problem);
    }
    if raw.session_timeout_minutes == 0 {
        problem("start", "session_timeout_minutes must be at least 1".into());
    }
    for word in &raw.main_menu_words {
        let word = word.trim();
        if word.is_empty() {
            problem("main_menu_words", "has an empty word; remove it".into());
        } else if word.parse::<u8>().is_ok_and(|n| (1..=9).contains(&n)) {
            problem(
                "main_menu_words",
                format!("{word:?} is a number: it would shadow option {word} of every menu; use a word like \"menu\""),
            );
        }
    }
    for (name, node) in &raw.nodes {
        for target in node.targets() {
            if !raw.nodes.contains_key(target) {
                problem(
                    name,
                    format!("leads to `{target}`, which is not a node; add [nodes.{target}] or fix the name"),
                );
            }
        }
        for (key, text) in node.texts() {
            check_text(name, key, text, limits, &mut problem);
        }
        validate_node(raw, name, node, limits, &mut problem);
    }
    for name in unreachable_nodes(raw) {
        problem(
            &name,
            format!(
                "is not reachable from the start node `{}`; link it from a menu option or remove it",
                raw.start
            ),
        );
    }
    problems
}

fn validate_node(raw: &RawMenu, name: &str, node: &Node, limits: &[TextLimit], problem: &mut impl FnMut(&str, String)) {
    match node {
        Node::Menu { text, options } => {
            if options.is_empty() {
                problem(name, "a menu needs at least one option".into());
            }
            if options.len() > 9 {
                problem(
                    name,
                    format!("has {} options; at most 9 fit on single-digit replies", options.len()),
                );
            }
            for (i, option) in options.iter().enumerate() {
                if option.label.trim().is_empty() {
                    problem(name, format!("option {} has an empty label", i + 1));
                }
            }
            let rendered =
                |limit: &TextLimit| limit.len(text) + options.iter().map(|o| limit.len(&o.label) + 4).sum::<usize>();
            if let Some((limit, len)) = too_long(limits, rendered) {
                problem(
                    name,
                    format!(
                        "the menu with its options is {len} characters; keep it under {} so it fits in one {} message",
                        limit.max - TEXT_MARGIN,
                        limit.channel
                    ),
                );
            }
        }
        Node::Form { prefix, questions, .. } => {
            let prefix_ok = !prefix.is_empty()
                && prefix.len() <= 10
                && prefix.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if !prefix_ok {
                problem(
                    name,
                    format!("prefix {prefix:?} must be 1 to 10 capital letters or digits, like DEF"),
                );
            }
            if questions.is_empty() {
                problem(name, "a form needs at least one question".into());
            }
            let mut fields = BTreeSet::new();
            for q in questions {
                if !fields.insert(q.field.as_str()) {
                    problem(name, format!("question field `{}` is used twice", q.field));
                }
            }
            let clash = raw
                .nodes
                .iter()
                .find(|(other, n)| other.as_str() != name && matches!(n, Node::Form { prefix: p, .. } if p == prefix));
            if let Some((other, _)) = clash {
                problem(
                    name,
                    format!("prefix {prefix:?} is also used by form `{other}`; IDs must not collide"),
                );
            }
        }
        Node::List { form, limit, .. } => {
            if !matches!(raw.nodes.get(form), Some(Node::Form { .. })) {
                problem(name, format!("form = {form:?} is not a form node"));
            }
            if !(1..=10).contains(limit) {
                problem(name, format!("limit = {limit} must be between 1 and 10"));
            }
        }
        Node::Lookup { .. } | Node::Info { .. } | Node::Handoff { .. } => {}
    }
}

/// Nodes no path from the start node reaches.
fn unreachable_nodes(raw: &RawMenu) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([raw.start.as_str()]);
    while let Some(name) = queue.pop_front() {
        if !seen.insert(name) {
            continue;
        }
        if let Some(node) = raw.nodes.get(name) {
            queue.extend(node.targets());
            if let Node::List { form, .. } = node {
                // A listed form counts as used even if no option starts it.
                seen.insert(form.as_str());
            }
        }
    }
    raw.nodes
        .keys()
        .filter(|name| !seen.contains(name.as_str()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Channel;

    #[test]
    fn the_built_in_menu_is_valid() {
        let menu = Menu::example();
        assert_eq!(menu.start, "main");
        assert_eq!(menu.form_prefix("defect_report"), Some("DEF"));
    }

    #[test]
    fn dangling_target_and_unreachable_node_are_both_reported() {
        let text = r#"
            start = "main"
            [nodes.main]
            kind = "menu"
            text = "Hi"
            options = [{ label = "Go", goto = "nowhere" }]
            [nodes.lonely]
            kind = "info"
            text = "Nobody comes here"
        "#;
        let MenuError::Invalid(problems) = Menu::from_toml(text, &[Channel::Twilio.text_limit()]).unwrap_err() else {
            panic!("expected problems")
        };
        let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            all.iter().any(|p| p.contains("`main`") && p.contains("`nowhere`")),
            "{all:?}"
        );
        assert!(
            all.iter()
                .any(|p| p.contains("`lonely`") && p.contains("not reachable")),
            "{all:?}"
        );
    }

    #[test]
    fn a_number_as_a_main_menu_word_is_refused() {
        let text = r#"
            start = "main"
            main_menu_words = ["hi", "0", "1", " "]
            [nodes.main]
            kind = "info"
            text = "x"
        "#;
        let err = Menu::from_toml(text, &[Channel::Twilio.text_limit()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"1\" is a number: it would shadow option 1"), "{err}");
        assert!(err.contains("empty word"), "{err}");
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key() {
        let text = r#"
            start = "main"
            [nodes.main]
            kind = "info"
            text = "x"
            colour = "red"
        "#;
        let err = Menu::from_toml(text, &[Channel::Twilio.text_limit()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn mistyped_keys_wrong_kinds_and_the_menus_own_problems_are_reported_together() {
        let text = "strat = \"x\"\nstart = \"main\"\nsession_timeout_minutes = \"60\"\n\
                    [nodes.main]\nkind = \"menu\"\ntext = \"Hi\"\noptins = 1\n\
                    options = [{ label = \"Go\", goto = \"nowhere\" }]\n";
        let MenuError::Invalid(problems) = Menu::from_toml(text, &[Channel::Twilio.text_limit()]).unwrap_err() else {
            panic!("expected problems")
        };
        let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let expected = [
            "node `menu`: `strat` is not a key of the menu file; did you mean start? Write it like start = \"main\"",
            "node `menu`: `session_timeout_minutes`: write it like session_timeout_minutes = 60 \
             (a whole number, not the text \"60\")",
            "node `main`: `optins` is not a key of a menu node; did you mean options? \
             Write it like options = [{ label = \"Check Order Status\", goto = \"order_status\" }]",
            "node `main`: leads to `nowhere`, which is not a node; add [nodes.nowhere] or fix the name",
        ];
        assert_eq!(all, expected);
    }

    #[test]
    fn a_menu_in_languages_has_its_keys_checked_and_a_text_by_language_is_no_wrong_kind() {
        let text = "start = \"main\"\n[languages]\ndefault = \"en\"\noffer = [\"en\", \"de\"]\nask_frist = true\n\
                    [nodes.main]\nkind = \"info\"\ntext = { en = \"Hi\", de = \"Hallo\" }\nthen = 3\n";
        let err = super::super::Menus::from_toml(text, &[Channel::Twilio.text_limit()]).unwrap_err();
        let MenuError::Invalid(problems) = err else {
            panic!("expected problems, got {err}")
        };
        let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let expected = [
            "node `languages`: `ask_frist` is not a key of [languages]; did you mean ask_first? \
             Write it like ask_first = true",
            "node `main`: `then`: write it like then = \"main\" (text in quotes, not the number 3)",
        ];
        assert_eq!(all, expected);
    }

    #[test]
    fn an_error_the_key_check_leaves_to_serde_keeps_its_line() {
        let text = "start = \"main\"\n[nodes.main]\nkind = \"info\"\ntext = [\"x\"]\n";
        let MenuError::Invalid(problems) = Menu::from_toml(text, &[]).unwrap_err() else {
            panic!("a wrong kind is a problem")
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        let text = "start = \"main\"\n[nodes.main]\nkind = \"info\"\ntext = { fr = 1 }\n";
        let err = Menu::from_toml(text, &[]).unwrap_err().to_string();
        // The node's line, as before the key check (node_kind reads each node whole).
        assert!(err.contains("line 2, column 1"), "{err}");
    }

    #[test]
    fn the_readme_menu_example_is_valid() {
        let readme = include_str!("../../README.md");
        let section = &readme[readme.find("## The menu file").unwrap()..];
        let start = section.find("```toml\n").unwrap() + "```toml\n".len();
        let example = &section[start..start + section[start..].find("```").unwrap()];
        let menu =
            Menu::from_toml(example, &[Channel::Twilio.text_limit()]).unwrap_or_else(|e| panic!("README menu: {e}"));
        assert_eq!(menu.form_prefix("problem"), Some("DEF"));
    }

    #[test]
    fn duplicate_node_names_are_rejected() {
        let text =
            "start = \"a\"\n[nodes.a]\nkind = \"info\"\ntext = \"x\"\n[nodes.a]\nkind = \"info\"\ntext = \"y\"\n";
        let err = Menu::from_toml(text, &[Channel::Twilio.text_limit()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("duplicate") || err.contains("redefin"), "{err}");
    }

    #[test]
    fn over_long_text_and_bad_prefix_are_reported() {
        let long = "x".repeat(1500);
        let text = format!(
            "start = \"f\"\n[nodes.f]\nkind = \"form\"\nprefix = \"def\"\nconfirmation = \"ok {{id}}\"\nquestions = [{{ field = \"a\", ask = \"{long}\" }}]\n"
        );
        let err = Menu::from_toml(&text, &[Channel::Twilio.text_limit()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("prefix \"def\""), "{err}");
        assert!(err.contains("`ask` is 1500 characters"), "{err}");
    }
}
