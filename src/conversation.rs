//! One inbound message, start to finish, inside a store transaction: the shell
//! around the pure engine. It speaks only the neutral [`Inbound`] and [`Reply`];
//! each channel's edge turns its webhook into the one and fits the other to its
//! own limits.
//!
//! Order of work: a message key seen before on its channel returns its stored
//! reply and does nothing else (providers deliver at least once); otherwise the
//! contact and the message are stored, the opt-out gate decides (a stop or
//! start keyword is confirmed and logged; a suppressed contact gets no answer),
//! then the engine steps, its effects run, and the new session state and the
//! reply are written, all in the caller's transaction, so a crash never leaves
//! half a step.

use std::sync::{Arc, RwLock};

use jiff::{tz::TimeZone, Timestamp};

use crate::config::Config;
use crate::engine::{self, render, Effect, Gate, Menu, Menus, OptKeywords, Output, Session, State};
use crate::hours::Hours;
use crate::message::{Inbound, Reply, ReplyPart};
use crate::staff::{self, Desk};
use crate::store::{ConsentAction, ConsentChange, ContactId, Db, MessageId, StoreError};

/// What the customer reads when something broke after the signature check.
pub const APOLOGY: &str = "Sorry, something went wrong on our side. Please try again in a few minutes.";

/// What a conversation needs besides the database: the menu, the shop's clock
/// and the opt-out keywords.
#[derive(Debug, Clone)]
pub struct Bot {
    /// The validated menu, in each language it offers.
    pub menus: Menus,
    /// The shop's time zone (submission IDs and dates).
    pub timezone: TimeZone,
    /// `[opt]` stop and start keywords.
    pub opt: OptKeywords,
    /// `[staff]`: who is alerted on a handoff, and whose messages are relayed.
    pub staff: Option<Desk>,
    /// `[hours]`: a handoff while closed says so and holds the alerts.
    pub hours: Option<Hours>,
}

/// The bot requests are answered with: one consistent snapshot per request,
/// replaced whole when `serve` reloads the menu (see `crate::reload`).
#[derive(Clone)]
pub struct LiveBot(Arc<RwLock<Arc<Bot>>>);

impl LiveBot {
    /// Serving `bot`.
    pub fn new(bot: Bot) -> LiveBot {
        LiveBot(Arc::new(RwLock::new(Arc::new(bot))))
    }

    /// The bot now (one request uses one snapshot from start to end).
    pub fn current(&self) -> Arc<Bot> {
        self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// From now on, `bot`.
    pub fn replace(&self, bot: Bot) {
        *self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(bot);
    }
}

impl Bot {
    /// The menu in the default language.
    pub fn menu(&self) -> &Menu {
        self.menus.default_menu()
    }

    /// The bot a config describes.
    pub fn from_config(config: &Config) -> Bot {
        Bot {
            menus: config.menus.clone(),
            timezone: config.shop.timezone.clone(),
            opt: config.opt.clone(),
            hours: config.hours.clone(),
            staff: config.staff.clone().map(|staff| Desk {
                staff,
                routing: crate::outbox::Routing::from_config(config),
                start: config.menu().start.clone(),
                opt: config.opt.clone(),
                menus: config.menus.clone(),
            }),
        }
    }

    /// The example menu in UTC with the standard keywords (tests, benches).
    pub fn example() -> Bot {
        Bot {
            menus: Menus::example(),
            timezone: TimeZone::UTC,
            opt: OptKeywords::standard(),
            staff: None,
            hours: None,
        }
    }
}

/// What handling one inbound message gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// The reply (the stored one, for a repeated delivery).
    pub reply: Reply,
    /// The message was handled before: nothing was done again.
    pub repeated: bool,
    /// The contact, when this delivery was handled now.
    pub contact: Option<ContactId>,
}

/// Handles one inbound message in the caller's transaction.
pub fn handle_inbound(db: &Db<'_>, bot: &Bot, msg: &Inbound, now: Timestamp) -> Result<Handled, StoreError> {
    if let Some(reply) = db.stored_reply(msg.channel, &msg.key)? {
        log::info!(target: "conversation", "{}: repeated delivery, nothing done again", msg.key);
        return Ok(Handled {
            reply,
            repeated: true,
            contact: None,
        });
    }
    let (contact, picked) = db.find_or_add_contact_with_language(&msg.from, msg.profile_name.as_deref(), now)?;
    let reply = match &bot.staff {
        // Without staff, nothing a step does writes another message or reads
        // this one: the message is stored after the step, with its reply, in
        // one row write, and then the submissions that point to it.
        None => {
            let language = Language::of(bot, picked, &msg.from);
            let answer = as_customer(db, bot, msg, contact, language, now)?;
            let reply = Reply::of(answer.parts);
            let message = db.insert_answered(msg, contact, now, &reply)?;
            answer.submissions.store(db, contact, message, now)?;
            reply
        }
        // With staff, a step may alert or relay (new messages, after this
        // one) and a staff member's own window starts with this message: it
        // is stored first, as received, and its reply set after the step.
        Some(desk) => {
            let message = db.insert_inbound(msg, contact, now)?;
            let reply = if desk.staff.is_staff(&msg.from) {
                // A staff number never runs the customer menu (nor the opt-out gate).
                Reply::new(staff::from_staff(db, desk, msg, contact, now)?)
            } else {
                let language = Language::of(bot, picked, &msg.from);
                let answer = as_customer(db, bot, msg, contact, language, now)?;
                answer.submissions.store(db, contact, message, now)?;
                Reply::of(answer.parts)
            };
            db.set_reply(message, &reply)?;
            reply
        }
    };
    log::debug!(target: "conversation", "{}: {:?} -> {:?}", msg.key, msg.text, reply.parts);
    Ok(Handled {
        reply,
        repeated: false,
        contact: Some(contact),
    })
}

/// What a customer's message is answered with.
struct Answer {
    /// The reply's parts.
    parts: Vec<ReplyPart>,
    /// The submissions it made, stored once the message is.
    submissions: Submissions,
}

/// A customer's message: the opt-out gate, then the menu.
fn as_customer(
    db: &Db<'_>,
    bot: &Bot,
    msg: &Inbound,
    contact: ContactId,
    language: Language,
    now: Timestamp,
) -> Result<Answer, StoreError> {
    let session = db.session(contact)?;
    let menu = bot.menus.get(&language.current);
    let in_form = matches!(session.as_ref().map(|s| &s.state), Some(State::Form { .. }));
    let texts = match bot.opt.gate(&msg.text, db.is_suppressed(&msg.from)?, in_form) {
        Gate::Converse => {
            let talk = Talk { bot, menu, language };
            return converse(db, &talk, msg, session, contact, now);
        }
        Gate::Silent => remind_opted_out(db, menu, msg, now)?,
        Gate::OptOut(keyword) => consent(db, msg, ConsentAction::OptOut, &keyword, now, &menu.texts.opted_out)?,
        Gate::OptIn(keyword) => consent(db, msg, ConsentAction::OptIn, &keyword, now, &menu.texts.opted_in)?,
    };
    Ok(Answer {
        parts: texts.into_iter().map(ReplyPart::Text).collect(),
        submissions: Submissions::default(),
    })
}

/// Submissions a step made, for the message that made them: its row is
/// written after the step when it carries the reply.
#[derive(Default)]
struct Submissions(Vec<NewSubmission>);

/// One submission: its ID (allocated during the step), form and answers.
struct NewSubmission {
    id: String,
    form: String,
    answers: Vec<engine::Answer>,
}

impl Submissions {
    /// Stores them, made by `message` of `contact`.
    fn store(self, db: &Db<'_>, contact: ContactId, message: MessageId, now: Timestamp) -> Result<(), StoreError> {
        for NewSubmission { id, form, answers } in self.0 {
            // Empty without text: the history says `[texts] photo_only` in
            // the reader's language.
            let preview = answers
                .iter()
                .find(|a| !a.text.is_empty())
                .map(|a| a.text.clone())
                .unwrap_or_default();
            db.insert_submission(&id, &form, contact, &answers, &preview, Some(message), now)?;
            log::info!(target: "conversation", "submission {id} stored (form {form})");
        }
        Ok(())
    }
}

/// A customer's language: the one they picked (`None`: never), and the one
/// they are answered in.
struct Language {
    picked: Option<String>,
    current: String,
}

impl Language {
    /// `picked` if it is offered, else by the calling code of their number,
    /// else the default.
    fn of(bot: &Bot, picked: Option<String>, from: &crate::message::ContactRef) -> Language {
        let (current, is_pick) = bot.menus.language_of(picked.as_deref(), from);
        Language {
            current: current.to_string(),
            picked: picked.filter(|_| is_pick),
        }
    }
}

/// What a conversation step talks with: the bot, and its menu in the
/// customer's language.
struct Talk<'a> {
    bot: &'a Bot,
    menu: &'a Menu,
    language: Language,
}

/// What a message does to the customer's language before the menu sees it.
enum LanguageStep {
    /// Nothing: the menu answers.
    None,
    /// A switch word or a pick from the language choice: the start node in it.
    Switched(String),
    /// A new customer who must pick first: the language choice.
    Ask(crate::message::Choice),
}

/// A switch word (anywhere, also inside a form), or the first message of a
/// new customer when `ask_first` is on (the choice, until they pick).
fn language_step(
    db: &Db<'_>,
    talk: &Talk<'_>,
    contact: ContactId,
    msg: &Inbound,
    new: bool,
) -> Result<LanguageStep, StoreError> {
    let Some(languages) = talk.bot.menus.languages() else {
        return Ok(LanguageStep::None);
    };
    let word = msg.text.trim().to_lowercase();
    let asking = languages.ask_first && talk.language.picked.is_none() && new;
    let chosen = match languages.switch(&word) {
        Some(language) => Some(language),
        None if asking => languages.pick(msg.tap.as_deref(), &word),
        // A tap on an earlier language choice still picks.
        None => msg.tap.as_deref().and_then(|id| languages.pick_tap(id)),
    };
    if let Some(language) = chosen {
        db.set_contact_language(contact, Some(language))?;
        log::info!(target: "conversation", "{}: language {language}", msg.key);
        return Ok(LanguageStep::Switched(language.to_string()));
    }
    if asking {
        return Ok(LanguageStep::Ask(talk.bot.menus.language_choice()));
    }
    Ok(LanguageStep::None)
}

/// Stores a message whose handling failed (a bug, rolled back by the caller)
/// with an apology as its reply, so the customer hears something and a retry
/// of the same key replays the apology instead of failing again.
pub fn handle_failed_inbound(db: &Db<'_>, msg: &Inbound, now: Timestamp) -> Result<Handled, StoreError> {
    if let Some(reply) = db.stored_reply(msg.channel, &msg.key)? {
        return Ok(Handled {
            reply,
            repeated: true,
            contact: None,
        });
    }
    let (contact, _) = db.find_or_add_contact_with_language(&msg.from, msg.profile_name.as_deref(), now)?;
    let reply = Reply::new([APOLOGY.to_string()]);
    db.insert_answered(msg, contact, now, &reply)?;
    Ok(Handled {
        reply,
        repeated: false,
        contact: Some(contact),
    })
}

/// How often an opted-out customer who writes is reminded how to opt in again.
pub const OPTED_OUT_REMINDER_EVERY: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// An opted-out customer wrote something else than a start keyword: the
/// reminder, at most once per [`OPTED_OUT_REMINDER_EVERY`] (never silence, never
/// nagging).
fn remind_opted_out(db: &Db<'_>, menu: &Menu, msg: &Inbound, now: Timestamp) -> Result<Vec<String>, StoreError> {
    let since = now.checked_sub(OPTED_OUT_REMINDER_EVERY).unwrap_or(Timestamp::MIN);
    if db.take_reminder(&msg.from, since, now)? {
        log::info!(target: "conversation", "{}: {} is opted out; reminded how to opt in", msg.key, msg.from);
        return Ok(vec![menu.texts.opted_out.clone()]);
    }
    log::info!(target: "conversation", "{}: {} is opted out and was reminded today; not answering", msg.key, msg.from);
    Ok(Vec::new())
}

/// Logs a stop or start keyword, updates the suppression list, and confirms.
fn consent(
    db: &Db<'_>,
    msg: &Inbound,
    action: ConsentAction,
    keyword: &str,
    now: Timestamp,
    confirmation: &str,
) -> Result<Vec<String>, StoreError> {
    db.record_consent(&ConsentChange {
        who: &msg.from,
        action,
        keyword,
        message_sid: &msg.key,
        at: now,
    })?;
    log::info!(target: "conversation", "{}: {} sent {keyword:?}: {action:?}", msg.key, msg.from);
    Ok(vec![confirmation.to_string()])
}

/// Runs the engine on the message (after a language switch, the start node
/// in the new language) and carries out its effects.
fn converse(
    db: &Db<'_>,
    talk: &Talk<'_>,
    msg: &Inbound,
    session: Option<Session>,
    contact: ContactId,
    now: Timestamp,
) -> Result<Answer, StoreError> {
    let bot = talk.bot;
    let step = match language_step(db, talk, contact, msg, session.is_none())? {
        LanguageStep::Ask(choice) => {
            let parts = vec![ReplyPart::Choice { choice }];
            return Ok(Answer {
                parts: in_language(parts, &talk.language.current),
                submissions: Submissions::default(),
            });
        }
        LanguageStep::Switched(language) => (engine::start(bot.menus.get(&language)), language),
        LanguageStep::None => {
            let input = engine::Inbound {
                text: &msg.text,
                media: &msg.media,
                known_order: known_order(db, session.as_ref(), msg)?,
                tap: msg.tap.as_deref(),
            };
            let step = engine::step(talk.menu, session.as_ref(), input, now);
            (step, talk.language.current.clone())
        }
    };
    let (step, language) = step;
    let closed = closed_for(talk, &step, now);
    let step = match &closed {
        Some(closed) => step.while_closed(&closed.away),
        None => step,
    };
    let was_with_person = matches!(session.as_ref().map(|s| &s.state), Some(State::WithPerson { .. }));
    let mut ctx = EffectContext {
        db,
        bot,
        contact,
        msg,
        submissions: Submissions::default(),
        now,
        hold_alerts_until: closed.and_then(|c| c.hold_alerts_until),
    };
    // The session row first: an effect (the handoff's waiting mark) may need it,
    // also for a customer whose very first message is "4".
    db.save_session(contact, &step.state, now)?;
    // Back with the bot (a main-menu word, or the session timed out): no
    // longer waiting for a person, nor held by one.
    if was_with_person && !matches!(step.state, State::WithPerson { .. }) {
        crate::session::back_with_the_bot(db, contact, now)?;
    }
    // A customer with a person who writes on: their line goes to staff.
    if let Some(desk) = bot.staff.as_ref() {
        if was_with_person && matches!(step.state, State::WithPerson { .. }) {
            let line = staff::texts::line_with_media(&msg.text, msg.media.len());
            staff::forward_line(db, desk, contact, &line, now)?;
        }
    }
    let mut parts = Vec::with_capacity(step.outputs.len());
    for output in step.outputs {
        parts.push(match output {
            Output::Say(text) => ReplyPart::Text(text),
            Output::Show(choice) => ReplyPart::Choice { choice },
            Output::Do(effect) => ReplyPart::Text(ctx.apply(effect)?),
        });
    }
    Ok(Answer {
        parts: in_language(parts, &language),
        submissions: ctx.submissions,
    })
}

/// `parts` with each choice marked as written in `language`, so a channel
/// that makes templates per language makes the right one.
fn in_language(mut parts: Vec<ReplyPart>, language: &str) -> Vec<ReplyPart> {
    for part in &mut parts {
        if let ReplyPart::Choice { choice } = part {
            choice.language = Some(language.to_string());
        }
    }
    parts
}

/// A handoff while the shop is closed (`[hours]`): what the customer is told,
/// and until when staff alerts wait.
struct Closed {
    away: String,
    hold_alerts_until: Option<Timestamp>,
}

/// Whether `step` is a handoff while the shop is closed, and then what it
/// says (`[texts] away` in the customer's language) and how long alerts wait
/// (until the next opening, unless `[staff] alert_outside_hours`).
fn closed_for(talk: &Talk<'_>, step: &engine::Step, now: Timestamp) -> Option<Closed> {
    let hours = talk
        .bot
        .hours
        .as_ref()
        .filter(|h| step.hands_off() && !h.is_open(now))?;
    let next = hours.next_open(now);
    let when = next.as_ref().map(|at| hours.say_when(at, now, &talk.language.current));
    let away = render::fill(
        &talk.menu.texts.away,
        &[("next_open", when.as_deref().unwrap_or("soon"))],
    );
    let alert_at_once = talk
        .bot
        .staff
        .as_ref()
        .is_some_and(|desk| desk.staff.alert_outside_hours);
    Some(Closed {
        away,
        hold_alerts_until: next.map(|at| at.timestamp()).filter(|_| !alert_at_once),
    })
}

/// While a lookup waits for a number, whether a bare number the customer sent
/// is one of their orders (the engine sends a menu number that is not back to
/// the menu). Only then is the orders table asked.
fn known_order(db: &Db<'_>, session: Option<&Session>, msg: &Inbound) -> Result<bool, StoreError> {
    let number = msg.text.trim();
    let waiting = matches!(session.map(|s| &s.state), Some(State::Lookup { .. }));
    if !waiting || number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    Ok(db.order_for(number, &msg.from)?.is_some())
}

/// Everything an effect may need.
struct EffectContext<'a, 'c> {
    db: &'a Db<'c>,
    bot: &'a Bot,
    contact: ContactId,
    msg: &'a Inbound,
    /// The submissions made so far, stored with the message.
    submissions: Submissions,
    now: Timestamp,
    /// Staff alerts wait until then (the shop is closed).
    hold_alerts_until: Option<Timestamp>,
}

impl EffectContext<'_, '_> {
    /// Carries out one effect and returns the text it contributes to the reply.
    fn apply(&mut self, effect: Effect) -> Result<String, StoreError> {
        match effect {
            Effect::Submit {
                form,
                prefix,
                answers,
                confirmation,
            } => {
                let stamp = self
                    .now
                    .to_zoned(self.bot.timezone.clone())
                    .strftime("%Y%m%d%H%M%S")
                    .to_string();
                let id = self.db.next_submission_id(&prefix, &stamp)?;
                let text = render::submitted(&confirmation, &id);
                self.submissions.0.push(NewSubmission { id, form, answers });
                Ok(text)
            }
            Effect::ListSubmissions { form, limit, texts } => {
                let items = self.db.recent_submissions(self.contact, &form, limit)?;
                Ok(render::submission_list(&texts, &items, &self.bot.timezone))
            }
            Effect::LookupOrder { number, texts } => {
                let order = self.db.order_for(&number, &self.msg.from)?;
                Ok(render::order(&texts, &number, order.as_ref()))
            }
            Effect::Handoff => {
                self.db.mark_waiting_for_staff(self.contact, self.now)?;
                log::info!(target: "conversation", "{} is waiting for staff", self.msg.from);
                if let Some(desk) = &self.bot.staff {
                    let last = staff::texts::line_with_media(&self.msg.text, self.msg.media.len());
                    let at = (self.now, self.hold_alerts_until);
                    staff::alert_staff(self.db, desk, self.contact, &last, at)?;
                }
                Ok(String::new())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Channel, ContactRef};
    use crate::phone::PhoneNumber;
    use crate::store::Store;

    const CUSTOMER: &str = "+27821234567";

    fn customer() -> ContactRef {
        ContactRef::phone(PhoneNumber::parse(CUSTOMER).unwrap())
    }

    fn inbound(key: &str, body: &str) -> Inbound {
        Inbound {
            channel: Channel::Twilio,
            key: key.into(),
            from: customer(),
            from_addr: format!("whatsapp:{CUSTOMER}"),
            to_addr: "whatsapp:+14155238886".into(),
            text: body.into(),
            media: Vec::new(),
            profile_name: None,
            reply_to: None,
            tap: None,
            raw: "[]".into(),
        }
    }

    fn send_on(store: &mut Store, message: Inbound) -> Handled {
        store
            .write(|db| handle_inbound(db, &Bot::example(), &message, Timestamp::now()))
            .unwrap()
    }

    fn send(store: &mut Store, key: &str, body: &str) -> Reply {
        send_on(store, inbound(key, body)).reply
    }

    /// Runs `f` on this customer's contact.
    fn with_contact<T>(store: &mut Store, f: impl FnOnce(&Db<'_>, ContactId) -> Result<T, StoreError>) -> T {
        store
            .write(|db| {
                let contact = db.find_or_add_contact(&customer(), None, Timestamp::now())?;
                f(db, contact)
            })
            .unwrap()
    }

    #[test]
    fn a_repeated_message_key_replays_the_reply_and_submits_once() {
        let mut store = Store::open_in_memory().unwrap();
        send(&mut store, "SM1", "2");
        send(&mut store, "SM2", "1");
        let first = send_on(&mut store, inbound("SM3", "Broken hinge"));
        let again = send_on(&mut store, inbound("SM3", "Broken hinge"));
        assert_eq!(first.reply, again.reply);
        assert!((!first.repeated) && again.repeated);
        assert!(first.reply.texts()[0].starts_with("✅ Defect Submitted!"), "{first:?}");
        let submissions = with_contact(&mut store, |db, c| db.recent_submissions(c, "defect_report", 10));
        assert_eq!(submissions.len(), 1);
    }

    #[test]
    fn the_same_key_on_another_channel_is_another_message() {
        let mut store = Store::open_in_memory().unwrap();
        let twilio = send_on(&mut store, inbound("K1", "hi"));
        let meta = send_on(
            &mut store,
            Inbound {
                channel: Channel::Meta,
                ..inbound("K1", "hi")
            },
        );
        assert!(!twilio.repeated && !meta.repeated);
    }

    #[test]
    fn a_customer_known_only_by_user_id_is_a_contact() {
        let mut store = Store::open_in_memory().unwrap();
        let hidden = Inbound {
            from: ContactRef::user_id("ZA.1234567890"),
            from_addr: "ZA.1234567890".into(),
            ..inbound("SM1", "hi")
        };
        let handled = send_on(&mut store, hidden);
        assert!(handled.reply.texts()[0].starts_with("Welcome"), "{handled:?}");
    }

    #[test]
    fn a_failed_message_is_stored_with_an_apology_that_a_retry_replays() {
        let mut store = Store::open_in_memory().unwrap();
        let message = inbound("SM9", "2");
        let apology = store
            .write(|db| handle_failed_inbound(db, &message, Timestamp::now()))
            .unwrap();
        assert_eq!(apology.reply.texts(), [APOLOGY]);
        assert_eq!(send(&mut store, "SM9", "2"), apology.reply);
    }

    #[test]
    fn help_as_the_very_first_message_marks_the_conversation_as_waiting() {
        let mut store = Store::open_in_memory().unwrap();
        send(&mut store, "SM1", "4");
        assert!(with_contact(&mut store, |db, c| db.waiting_since(c)).is_some());
    }

    #[test]
    fn help_marks_the_conversation_as_waiting_for_staff() {
        let mut store = Store::open_in_memory().unwrap();
        send(&mut store, "SM1", "hi");
        assert_eq!(with_contact(&mut store, |db, c| db.waiting_since(c)), None);
        send(&mut store, "SM2", "4");
        assert!(with_contact(&mut store, |db, c| db.waiting_since(c)).is_some());
    }
}
