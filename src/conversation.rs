//! One inbound message, start to finish, inside a store transaction: the shell
//! around the pure engine.
//!
//! Order of work: a MessageSid seen before returns its stored reply and does
//! nothing else (Twilio delivers at least once); otherwise the contact, the
//! message, the engine step, its effects, the new session state and the reply
//! are written in the caller's transaction, so a crash never leaves half a step.

use jiff::{tz::TimeZone, Timestamp};

use crate::engine::{self, render, Effect, Inbound, Menu, Output};
use crate::phone::PhoneNumber;
use crate::store::{ContactId, Db, MessageId, NewInbound, StoreError};
use crate::twilio::{twiml, webhook::InboundMessage};

/// What a conversation needs besides the database: the menu and the shop's clock.
#[derive(Debug, Clone)]
pub struct Bot {
    /// The validated menu.
    pub menu: Menu,
    /// The shop's time zone (submission IDs and dates).
    pub timezone: TimeZone,
}

/// The reply to one inbound message: message bodies, each within Twilio's limit.
pub type Reply = Vec<String>;

/// Handles one inbound message in the caller's transaction and returns its reply.
pub fn handle_inbound(db: &Db<'_>, bot: &Bot, msg: &InboundMessage, now: Timestamp) -> Result<Reply, StoreError> {
    if let Some(reply) = db.stored_reply(&msg.sid)? {
        log::info!(target: "conversation", "{}: repeated delivery, replaying the stored reply", msg.sid);
        return Ok(reply);
    }
    let contact = db.upsert_contact(&msg.from, msg.profile_name.as_deref(), now)?;
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
    let texts: Vec<String> = texts.into_iter().filter(|t| !t.is_empty()).collect();
    let reply = twiml::split_all(&[texts.join("\n\n")]);
    db.set_reply(message, &reply)?;
    log::debug!(target: "conversation", "{}: {:?} -> {:?}", msg.sid, msg.body, reply);
    Ok(reply)
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
