//! The menu engine: a pure function from (menu, session, inbound message, now) to
//! (new state, replies and effects).
//!
//! Nothing here touches the database, the network or the clock. Effects that need
//! data (store a submission, list submissions, look an order up, mark a handoff)
//! are returned as [`Effect`]s in reply order; the shell (`crate::conversation`)
//! carries them out and turns their results into text with [`render`], which is
//! pure too. The same engine serves both channels' webhooks, the terminal chat
//! and the browser demo.

pub mod catalog;
pub mod languages;
pub mod menu;
pub mod opt;
pub mod render;
pub mod words;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub use languages::{Languages, Menus};
pub use menu::{Accept, Menu, MenuError, MenuOption, MenuProblem, Node, Question, Texts};
pub use opt::{Gate, OptKeywords};

pub use crate::message::{Choice, Media};

/// Where a conversation is. Stored as JSON between messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case")]
pub enum State {
    /// Waiting for the number of one of the options of menu node `node`.
    Menu {
        /// A menu node's name.
        node: String,
    },
    /// Waiting for the answer to question `question` of form node `node`.
    Form {
        /// A form node's name.
        node: String,
        /// Index into the form's questions.
        question: usize,
        /// Answers to the questions before it.
        answers: Vec<Answer>,
        /// Media that came for this question without its text, kept for the answer.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        media: Vec<Media>,
    },
    /// Waiting for an order number for lookup node `node`.
    Lookup {
        /// A lookup node's name.
        node: String,
    },
    /// With a person (after a handoff, or since the owner wrote): the bot stays
    /// quiet; a main-menu word brings it back.
    WithPerson {
        /// The customer got the one acknowledgement already, or a person answered.
        #[serde(default)]
        acknowledged: bool,
    },
}

/// A stored conversation: its state and when it last moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Where the conversation is.
    pub state: State,
    /// When the customer last wrote.
    pub updated_at: Timestamp,
}

/// One answer of a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The question's field name.
    pub field: String,
    /// The text the customer sent (may be empty for a photo).
    pub text: String,
    /// Media the customer attached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<Media>,
}

/// What the customer sent, as the engine sees it.
#[derive(Debug, Clone, Copy)]
pub struct Inbound<'a> {
    /// The message text.
    pub text: &'a str,
    /// Attached media.
    pub media: &'a [Media],
    /// The trimmed text is the number of an order this customer may see (the
    /// shell looks it up while a lookup node waits for a number): a bare menu
    /// number that is not an order goes back to the menu.
    pub known_order: bool,
    /// The id of a tapped option ([`crate::message::ChoiceOption::id`]).
    pub tap: Option<&'a str>,
}

impl<'a> Inbound<'a> {
    /// A text message with no media.
    pub fn text(text: &'a str) -> Inbound<'a> {
        Inbound {
            text,
            media: &[],
            known_order: false,
            tap: None,
        }
    }
}

/// The engine's answer to one inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The state to store.
    pub state: State,
    /// Replies and effects, in the order the customer reads them.
    pub outputs: Vec<Output>,
}

impl Step {
    /// Whether this step hands the conversation to a person.
    pub fn hands_off(&self) -> bool {
        self.outputs.iter().any(|o| matches!(o, Output::Do(Effect::Handoff)))
    }

    /// The step while the shop is closed: a handoff says `away` (`[texts]
    /// away`, its `{next_open}` filled in) instead of its node's text; the
    /// conversation waits for a person all the same.
    pub fn while_closed(mut self, away: &str) -> Step {
        let handoff = self
            .outputs
            .iter()
            .position(|o| matches!(o, Output::Do(Effect::Handoff)));
        if let Some(Output::Say(text)) = handoff.and_then(|i| self.outputs.get_mut(i + 1)) {
            *text = away.to_string();
        }
        self
    }
}

/// One piece of the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Text to send as is.
    Say(String),
    /// A menu to tap or type a choice from.
    Show(Choice),
    /// Work for the shell, whose result becomes text through [`render`].
    Do(Effect),
}

/// Something only the shell can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Store a submission of form `form`, then say `confirmation` with its ID.
    Submit {
        /// The form node's name.
        form: String,
        /// The ID prefix.
        prefix: String,
        /// All answers, in question order.
        answers: Vec<Answer>,
        /// The confirmation template (`{id}`).
        confirmation: String,
    },
    /// Show this customer's newest submissions of `form`.
    ListSubmissions {
        /// The form node's name.
        form: String,
        /// How many at most.
        limit: usize,
        /// The list node's texts and the status words.
        texts: render::HistoryTexts,
    },
    /// Look an order up by number, limited to this customer's orders.
    LookupOrder {
        /// The number as the customer typed it (trimmed).
        number: String,
        /// The lookup node's texts.
        texts: render::OrderTexts,
    },
    /// Mark the conversation as waiting for staff.
    Handoff,
}

/// The word that cancels a form while it asks its questions.
pub const CANCEL_WORD: &str = "cancel";

/// The word that answers a photo question without a photo.
pub const SKIP_WORD: &str = "skip";

/// The longest answer kept from one message, in characters (WhatsApp's own limit).
pub const MAX_ANSWER_CHARS: usize = 4096;

/// Runs one conversation step. `session` is `None` for a new customer.
pub fn step(menu: &Menu, session: Option<&Session>, input: Inbound<'_>, now: Timestamp) -> Step {
    let text = input.text.trim();
    let word = text.to_lowercase();
    let live = session.filter(|s| now.duration_since(s.updated_at) <= menu.session_timeout);
    let mut step = Step {
        state: State::Menu {
            node: menu.start.clone(),
        },
        outputs: Vec::new(),
    };
    if let Some(id) = input.tap {
        on_tap(menu, live.map(|s| &s.state), id, &mut step);
        return step;
    }
    if menu.main_menu_words.contains(&word) {
        enter(menu, &menu.start, &mut step);
        return step;
    }
    match live.map(|s| &s.state) {
        None => on_menu_choice(menu, &menu.start, &word, false, &mut step),
        Some(State::Menu { node }) => on_menu_choice(menu, node, &word, true, &mut step),
        Some(State::Form { .. }) if word == CANCEL_WORD => {
            step.outputs.push(Output::Say(menu.texts.form_cancelled.clone()));
            enter(menu, &menu.start, &mut step);
        }
        Some(State::Form {
            node,
            question,
            answers,
            media,
        }) => {
            let asked = Asked {
                node,
                index: *question,
                earlier: answers,
                pending: media,
            };
            on_form_answer(menu, asked, input, &mut step)
        }
        Some(State::Lookup { node }) if !input.known_order && is_menu_number(menu, &word) => {
            on_menu_choice(menu, &menu.start, &word, false, &mut step)
        }
        Some(State::Lookup { node }) => on_lookup(menu, node, text, &mut step),
        Some(State::WithPerson { acknowledged }) => with_person(menu, *acknowledged, &mut step),
    }
    step
}

/// A step that shows the start node (a new language, say), whatever the
/// conversation was doing: a form's answers so far are dropped.
pub fn start(menu: &Menu) -> Step {
    let mut step = Step {
        state: State::Menu {
            node: menu.start.clone(),
        },
        outputs: Vec::new(),
    };
    enter(menu, &menu.start, &mut step);
    step
}

/// Shows `name` and moves the conversation there.
fn enter(menu: &Menu, name: &str, step: &mut Step) {
    let Some(node) = menu.node(name) else {
        // A stored state can outlive a menu edit; start over rather than fail.
        return enter(menu, &menu.start, step);
    };
    match node {
        Node::Menu { .. } => {
            if let Some(choice) = render::choice(menu, name) {
                step.outputs.push(Output::Show(choice));
            }
            step.state = State::Menu { node: name.into() };
        }
        Node::Form { questions, .. } => {
            // Validation guarantees a first question; a hand-built menu without one asks nothing.
            let ask = questions.first().map(|q| q.ask.clone()).unwrap_or_default();
            step.outputs.push(Output::Say(ask));
            step.state = State::Form {
                node: name.into(),
                question: 0,
                answers: Vec::new(),
                media: Vec::new(),
            };
        }
        Node::List {
            form,
            limit,
            title,
            empty,
            then,
        } => {
            step.outputs.push(Output::Do(Effect::ListSubmissions {
                form: form.clone(),
                limit: *limit,
                texts: render::HistoryTexts {
                    title: title.clone(),
                    empty: empty.clone(),
                    statuses: menu.texts.status_words(),
                    photo: menu.texts.photo_only.clone(),
                },
            }));
            continue_at(menu, then, step);
        }
        Node::Lookup { prompt, .. } => {
            step.outputs.push(Output::Say(prompt.clone()));
            step.state = State::Lookup { node: name.into() };
        }
        Node::Info { text, then } => {
            step.outputs.push(Output::Say(text.clone()));
            continue_at(menu, then, step);
        }
        Node::Handoff { text, .. } => {
            step.outputs.push(Output::Do(Effect::Handoff));
            step.outputs.push(Output::Say(text.clone()));
            step.outputs.push(Output::Say(menu.texts.footer.clone()));
            step.state = State::WithPerson { acknowledged: false };
        }
    }
}

/// After a terminal reply: wait at `then` (or the start) without re-showing it.
fn continue_at(menu: &Menu, then: &Option<String>, step: &mut Step) {
    let target = then.as_deref().unwrap_or(&menu.start);
    step.outputs.push(Output::Say(menu.texts.footer.clone()));
    step.state = match menu.node(target) {
        Some(Node::Menu { .. }) => State::Menu { node: target.into() },
        _ => State::Menu {
            node: menu.start.clone(),
        },
    };
}

fn on_menu_choice(menu: &Menu, name: &str, word: &str, hint: bool, step: &mut Step) {
    let Some(Node::Menu { options, .. }) = menu.node(name) else {
        return enter(menu, &menu.start, step);
    };
    let chosen = word
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| options.get(i))
        .or_else(|| options.iter().find(|option| is_label_of(option, word)));
    match chosen {
        Some(option) => enter(menu, &option.goto, step),
        None => {
            if hint {
                step.outputs.push(Output::Say(menu.texts.unknown.clone()));
            }
            enter(menu, name, step);
        }
    }
}

/// Whether `word` (trimmed, lower-cased) is the option's label or short label.
fn is_label_of(option: &MenuOption, word: &str) -> bool {
    !word.is_empty()
        && (option.label.trim().to_lowercase() == word
            || option.short.as_ref().is_some_and(|s| s.trim().to_lowercase() == word))
}

/// A tapped option, from this menu or an earlier one: it does what its
/// option says. An id no menu has (an option since removed, or made up) gets
/// `unknown` and the menu the customer is at (or the start) again.
fn on_tap(menu: &Menu, state: Option<&State>, id: &str, step: &mut Step) {
    let target = id.split_once(':').and_then(|(node, _)| match menu.node(node) {
        Some(Node::Menu { options, .. }) => options.iter().find(|o| o.id == id),
        _ => None,
    });
    if let Some(option) = target {
        return enter(menu, &option.goto, step);
    }
    step.outputs.push(Output::Say(menu.texts.unknown.clone()));
    let at = match state {
        Some(State::Menu { node }) if matches!(menu.node(node), Some(Node::Menu { .. })) => node.as_str(),
        _ => menu.start.as_str(),
    };
    enter(menu, at, step);
}

/// The question a form is waiting on.
struct Asked<'s> {
    /// The form node's name.
    node: &'s str,
    /// Index into its questions.
    index: usize,
    /// Answers to the questions before it.
    earlier: &'s [Answer],
    /// Media that came for it without text.
    pending: &'s [Media],
}

fn on_form_answer(menu: &Menu, asked: Asked<'_>, input: Inbound<'_>, step: &mut Step) {
    let Some(Node::Form {
        prefix,
        questions,
        confirmation,
        then,
    }) = menu.node(asked.node)
    else {
        return enter(menu, &menu.start, step);
    };
    let Some(question) = questions.get(asked.index) else {
        return enter(menu, asked.node, step);
    };
    let ask_again = |step: &mut Step, complaint: &str, pending: Vec<Media>| {
        step.outputs.push(Output::Say(format!("{complaint}\n{}", question.ask)));
        step.state = State::Form {
            node: asked.node.into(),
            question: asked.index,
            answers: asked.earlier.to_vec(),
            media: pending,
        };
    };
    let answer = match read_answer(question, asked.pending, input) {
        Ok(answer) => answer,
        Err(Complaint::NeedText) => return ask_again(step, &menu.texts.need_text, asked.pending.to_vec()),
        Err(Complaint::NeedPhoto) => return ask_again(step, &menu.texts.need_photo, asked.pending.to_vec()),
        Err(Complaint::PhotoWithoutText(pending)) => return ask_again(step, &menu.texts.photo_received, pending),
    };
    let mut answers = asked.earlier.to_vec();
    answers.push(answer);
    if let Some(next) = questions.get(asked.index + 1) {
        step.outputs.push(Output::Say(next.ask.clone()));
        step.state = State::Form {
            node: asked.node.into(),
            question: asked.index + 1,
            answers,
            media: Vec::new(),
        };
        return;
    }
    step.outputs.push(Output::Do(Effect::Submit {
        form: asked.node.into(),
        prefix: prefix.clone(),
        answers,
        confirmation: confirmation.clone(),
    }));
    continue_at(menu, then, step);
}

enum Complaint {
    NeedText,
    NeedPhoto,
    /// Media came without text where text is asked for: kept (all of it so far).
    PhotoWithoutText(Vec<Media>),
}

fn read_answer(question: &Question, pending: &[Media], input: Inbound<'_>) -> Result<Answer, Complaint> {
    let text: String = input.text.trim().chars().take(MAX_ANSWER_CHARS).collect();
    let answer = |text: String, media: Vec<Media>| Answer {
        field: question.field.clone(),
        text,
        media,
    };
    let with_pending = || [pending, input.media].concat();
    match question.accept {
        Accept::Text if text.is_empty() && !input.media.is_empty() => Err(Complaint::PhotoWithoutText(with_pending())),
        Accept::Text if text.is_empty() => Err(Complaint::NeedText),
        Accept::Text => Ok(answer(text, with_pending())),
        Accept::OptionalPhoto if !input.media.is_empty() => Ok(answer(text, input.media.to_vec())),
        Accept::OptionalPhoto if text.eq_ignore_ascii_case(SKIP_WORD) => Ok(answer(String::new(), Vec::new())),
        Accept::OptionalPhoto => Err(Complaint::NeedPhoto),
    }
}

/// Whether `word` picks an option of the start menu (`1`, `2`, …).
fn is_menu_number(menu: &Menu, word: &str) -> bool {
    let options = match menu.node(&menu.start) {
        Some(Node::Menu { options, .. }) => options.len(),
        _ => 0,
    };
    word.parse::<usize>().is_ok_and(|n| (1..=options).contains(&n))
}

/// A message while the conversation is with a person: stored for them (the
/// shell does that); the bot says nothing, except one acknowledgement to the
/// first message while nobody has answered yet.
fn with_person(menu: &Menu, acknowledged: bool, step: &mut Step) {
    if !acknowledged {
        step.outputs.push(Output::Say(menu.texts.waiting_ack.clone()));
    }
    step.state = State::WithPerson { acknowledged: true };
}

/// An order number as a customer types it and as `orders import` stores it:
/// without leading `#`s and spaces (`#A1`, `# A1` and `A1` are one order) or
/// trailing spaces. The import stores numbers this leaves unchanged, so
/// typing a stored number finds it.
pub fn order_number(text: &str) -> &str {
    text.trim_start_matches(|c: char| c == '#' || c.is_whitespace())
        .trim_end()
}

fn on_lookup(menu: &Menu, name: &str, text: &str, step: &mut Step) {
    let Some(Node::Lookup {
        prompt,
        found,
        found_updated,
        found_note,
        not_found,
    }) = menu.node(name)
    else {
        return enter(menu, &menu.start, step);
    };
    step.state = State::Lookup { node: name.into() };
    let number = order_number(text);
    if number.is_empty() {
        step.outputs.push(Output::Say(prompt.clone()));
        return;
    }
    step.outputs.push(Output::Do(Effect::LookupOrder {
        number: number.chars().take(64).collect(),
        texts: render::OrderTexts {
            found: found.clone(),
            found_updated: found_updated.clone(),
            found_note: found_note.clone(),
            not_found: not_found.clone(),
        },
    }));
    step.outputs.push(Output::Say(menu.texts.footer.clone()));
}

#[cfg(test)]
mod tests;
