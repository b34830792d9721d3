//! One inbound message, start to finish, inside a store transaction: the shell
//! around the pure engine.
//!
//! Order of work: a MessageSid seen before returns its stored reply and does
//! nothing else (Twilio delivers at least once); otherwise the contact and the
//! message are stored, the opt-out gate decides (a stop or start keyword is
//! confirmed and logged; a suppressed number gets no answer), then the engine
//! steps, its effects run, and the new session state and the reply are written,
//! all in the caller's transaction, so a crash never leaves half a step.

use jiff::{tz::TimeZone, Timestamp};

use crate::config::Config;
use crate::engine::{self, render, Effect, Gate, Inbound, Menu, OptKeywords, Output};
use crate::phone::PhoneNumber;
use crate::store::{ConsentAction, ConsentChange, ContactId, Db, MessageId, NewInbound, StoreError};
use crate::channel::twilio::{twiml, webhook::InboundMessage};

/// What a conversation needs besides the database: the menu, the shop's clock
/// and the opt-out keywords.
#[derive(Debug, Clone)]
pub struct Bot {
    /// The validated menu.
    pub menu: Menu,
    /// The shop's time zone (submission IDs and dates).
    pub timezone: TimeZone,
    /// `[opt]` stop and start keywords.
    pub opt: OptKeywords,
}

impl Bot {
    /// The bot a config describes.
    pub fn from_config(config: &Config) -> Bot {
        Bot {
            menu: config.menu.clone(),
            timezone: config.shop.timezone.clone(),
            opt: config.opt.clone(),
        }
    }
}

/// The reply to one inbound message: message bodies, each within Twilio's limit.
pub type Reply = Vec<String>;

/// Handles one inbound message in the caller's transaction and returns its reply.
pub fn handle_inbound(db: &Db<'_>, bot: &Bot, msg: &InboundMessage, now: Timestamp) -> Result<Reply, StoreError> {
    if let Some(reply) = db.stored_reply(&msg.sid)? {
        log::info!(target: "conversation", "{}: repeated delivery, replaying the stored reply", msg.sid);
        return Ok(reply);
    }
    let (contact, message) = store_inbound(db, msg, now)?;
    let texts = match bot.opt.gate(&msg.body, db.is_suppressed(&msg.from)?) {
        Gate::Converse => converse(db, bot, msg, (contact, message), now)?,
        Gate::Silent => {
            log::info!(target: "conversation", "{}: {} is opted out; not answering", msg.sid, msg.from);
            Vec::new()
        }
        Gate::OptOut(keyword) => consent(db, msg, ConsentAction::OptOut, &keyword, now, &bot.menu.texts.opted_out)?,
        Gate::OptIn(keyword) => consent(db, msg, ConsentAction::OptIn, &keyword, now, &bot.menu.texts.opted_in)?,
    };
    let texts: Vec<String> = texts.into_iter().filter(|t| !t.is_empty()).collect();
    let reply = twiml::split_all(&[texts.join("\n\n")]);
    db.set_reply(message, &reply)?;
    log::debug!(target: "conversation", "{}: {:?} -> {:?}", msg.sid, msg.body, reply);
    Ok(reply)
}

/// Stores a message whose handling failed (a bug, rolled back by the caller)
/// with an apology as its reply, so the customer hears something and a retry
/// of the same MessageSid replays the apology instead of failing again.
pub fn handle_failed_inbound(db: &Db<'_>, msg: &InboundMessage, now: Timestamp) -> Result<Reply, StoreError> {
    if let Some(reply) = db.stored_reply(&msg.sid)? {
        return Ok(reply);
    }
    let (_, message) = store_inbound(db, msg, now)?;
    let reply = vec![twiml::APOLOGY.to_string()];
    db.set_reply(message, &reply)?;
    Ok(reply)
}

fn store_inbound(db: &Db<'_>, msg: &InboundMessage, now: Timestamp) -> Result<(ContactId, MessageId), StoreError> {
    let contact = db.find_or_add_contact(&msg.from, msg.profile_name.as_deref(), now)?;
    let message = db.insert_inbound(
        &NewInbound {
            sid: &msg.sid,
            from: &msg.from,
            from_addr: &msg.from_addr,
            to_addr: &msg.to_addr,
            body: &msg.body,
            media: &msg.media,
            params: &msg.params,
            profile_name: msg.profile_name.as_deref(),
            received_at: now,
        },
        contact,
    )?;
    Ok((contact, message))
}

/// Logs a stop or start keyword, updates the suppression list, and confirms.
fn consent(
    db: &Db<'_>,
    msg: &InboundMessage,
    action: ConsentAction,
    keyword: &str,
    now: Timestamp,
    confirmation: &str,
) -> Result<Vec<String>, StoreError> {
    db.record_consent(&ConsentChange {
        phone: &msg.from,
        action,
        keyword,
        message_sid: &msg.sid,
        at: now,
    })?;
    log::info!(target: "conversation", "{}: {} sent {keyword:?}: {action:?}", msg.sid, msg.from);
    Ok(vec![confirmation.to_string()])
}

/// Runs the engine on the message and carries out its effects.
fn converse(
    db: &Db<'_>,
    bot: &Bot,
    msg: &InboundMessage,
    (contact, message): (ContactId, MessageId),
    now: Timestamp,
) -> Result<Vec<String>, StoreError> {
    let session = db.session(contact)?;
    let input = Inbound {
        text: &msg.body,
        media: &msg.media,
    };
    let step = engine::step(&bot.menu, session.as_ref(), input, now);
    let ctx = EffectContext {
        db,
        bot,
        contact,
        customer: &msg.from,
        message,
        now,
    };
    let mut texts = Vec::with_capacity(step.outputs.len());
    for output in step.outputs {
        texts.push(match output {
            Output::Say(text) => text,
            Output::Do(effect) => ctx.apply(effect)?,
        });
    }
    db.save_session(contact, &step.state, now)?;
    Ok(texts)
}

/// Everything an effect may need.
struct EffectContext<'a, 'c> {
    db: &'a Db<'c>,
    bot: &'a Bot,
    contact: ContactId,
    customer: &'a PhoneNumber,
    message: MessageId,
    now: Timestamp,
}

impl EffectContext<'_, '_> {
    /// Carries out one effect and returns the text it contributes to the reply.
    fn apply(&self, effect: Effect) -> Result<String, StoreError> {
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
                let preview = answers
                    .iter()
                    .find(|a| !a.text.is_empty())
                    .map(|a| a.text.clone())
                    .unwrap_or_else(|| "(photo)".into());
                self.db.insert_submission(
                    &id,
                    &form,
                    self.contact,
                    &answers,
                    &preview,
                    Some(self.message),
                    self.now,
                )?;
                log::info!(target: "conversation", "submission {id} stored (form {form})");
                Ok(render::submitted(&confirmation, &id))
            }
            Effect::ListSubmissions {
                form,
                limit,
                title,
                empty,
            } => {
                let items = self.db.recent_submissions(self.contact, &form, limit)?;
                Ok(render::submission_list(&title, &empty, &items, &self.bot.timezone))
            }
            Effect::LookupOrder { number, texts } => {
                let order = self.db.order_for(&number, self.customer)?;
                Ok(render::order(&texts, &number, order.as_ref()))
            }
            Effect::Handoff => {
                self.db.mark_waiting_for_staff(self.contact, self.now)?;
                log::info!(target: "conversation", "{} is waiting for staff", self.customer);
                Ok(String::new())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    const CUSTOMER: &str = "+27821234567";

    fn inbound(sid: &str, body: &str) -> InboundMessage {
        let from = PhoneNumber::parse(CUSTOMER).unwrap();
        InboundMessage {
            sid: sid.into(),
            from_addr: from.whatsapp_address(),
            from,
            to_addr: "whatsapp:+14155238886".into(),
            body: body.into(),
            profile_name: None,
            media: Vec::new(),
            params: Vec::new(),
        }
    }

    fn send(store: &mut Store, sid: &str, body: &str) -> Reply {
        let message = inbound(sid, body);
        let bot = Bot {
            menu: Menu::example(),
            timezone: TimeZone::UTC,
            opt: OptKeywords::standard(),
        };
        store
            .write(|db| handle_inbound(db, &bot, &message, Timestamp::now()))
            .unwrap()
    }

    /// Runs `f` on this customer's contact.
    fn with_contact<T>(store: &mut Store, f: impl FnOnce(&Db<'_>, ContactId) -> Result<T, StoreError>) -> T {
        let phone = PhoneNumber::parse(CUSTOMER).unwrap();
        store
            .write(|db| {
                let contact = db.find_or_add_contact(&phone, None, Timestamp::now())?;
                f(db, contact)
            })
            .unwrap()
    }

    #[test]
    fn a_repeated_message_sid_replays_the_reply_and_submits_once() {
        let mut store = Store::open_in_memory().unwrap();
        send(&mut store, "SM1", "2");
        send(&mut store, "SM2", "1");
        send(&mut store, "SM3", "Broken hinge");
        let first = send(&mut store, "SM4", "skip");
        let again = send(&mut store, "SM4", "skip");
        assert_eq!(first, again);
        assert!(first[0].starts_with("✅ Defect Submitted!"), "{first:?}");
        let submissions = with_contact(&mut store, |db, c| db.recent_submissions(c, "defect_report", 10));
        assert_eq!(submissions.len(), 1);
    }

    #[test]
    fn a_failed_message_is_stored_with_an_apology_that_a_retry_replays() {
        let mut store = Store::open_in_memory().unwrap();
        let message = inbound("SM9", "2");
        let apology = store
            .write(|db| handle_failed_inbound(db, &message, Timestamp::now()))
            .unwrap();
        assert_eq!(apology, [twiml::APOLOGY]);
        assert_eq!(send(&mut store, "SM9", "2"), apology);
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
