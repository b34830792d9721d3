//! Telling customers their order changed (`[notify] order_status`): after an
//! import changed an order's status, its customer gets `[texts] order_update`
//! in their language, free-form inside the 24-hour window, else as the order
//! template of the channel they are reached on, and never once they opted
//! out. It runs in the import's own transaction, so the same change is never
//! told twice: importing the same sheet again changes nothing, and two
//! imports are one after the other on the one writer.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::config::{Config, Notify};
use crate::engine::{render, Menus};
use crate::message::{Channel, ContactRef, Content};
use crate::orders::{Notices, StatusChange};
use crate::outbox::policy::Refusal;
use crate::outbox::{enqueue_notice, Outgoing, Routing};
use crate::store::{Db, StoreError};

/// What telling customers needs: the settings, the texts and the routing.
#[derive(Debug, Clone)]
pub struct OrderNotices {
    notify: Notify,
    menus: Menus,
    routing: Routing,
}

impl OrderNotices {
    /// From the config; `None` unless `[notify] order_status = true`.
    pub fn from_config(config: &Config) -> Option<OrderNotices> {
        Some(OrderNotices {
            notify: config.notify.clone()?,
            menus: config.menus.clone(),
            routing: Routing::from_config(config),
        })
    }

    /// The same, telling in the texts of `menus` (the menu in service, after
    /// `serve` reloaded it).
    pub fn with_menus(&self, menus: &Menus) -> OrderNotices {
        OrderNotices {
            menus: menus.clone(),
            ..self.clone()
        }
    }

    /// Queues the update for one changed order in the caller's transaction,
    /// and counts it in `notices`.
    pub fn tell(
        &self,
        db: &Db<'_>,
        change: &StatusChange,
        now: Timestamp,
        notices: &mut Notices,
    ) -> Result<(), StoreError> {
        match self.tell_one(db, change, now)? {
            Told::Yes => notices.told += 1,
            Told::OptedOut => notices.opted_out += 1,
            Told::No(why) => {
                log::info!(target: "notify", "order {}: {} not told ({why})", change.number, change.phone);
                notices.untold += 1;
            }
        }
        Ok(())
    }

    fn tell_one(&self, db: &Db<'_>, change: &StatusChange, now: Timestamp) -> Result<Told, StoreError> {
        let to = ContactRef::phone(change.phone.clone());
        let language = self.language_of(db, &to)?;
        let text = self.menus.get(&language).texts.order_update.as_str();
        let body = render::fill(
            text,
            &[
                ("number", &change.number),
                ("status", &change.status),
                ("note", change.note.as_deref().unwrap_or_default()),
            ],
        );
        let free_form = Outgoing {
            to: to.clone(),
            content: Content::Text {
                body: body.trim_end().to_string(),
                media_urls: Vec::new(),
            },
            channel: None,
        };
        match enqueue_notice(db, &self.routing, &free_form, now)? {
            Ok(_) => return Ok(Told::Yes),
            Err(Refusal::OptedOut) => return Ok(Told::OptedOut),
            Err(Refusal::OutsideWindow(_)) => {}
            Err(other) => return Ok(Told::No(other.to_string())),
        }
        let facts = db.contact_facts(&to)?;
        let channel = self.routing.text_channel(&to, &facts);
        let Some(content) = self.template(channel, change, &language) else {
            return Ok(Told::No(format!(
                "outside the 24-hour window and no order template for {channel}"
            )));
        };
        let template = Outgoing {
            to,
            content,
            channel: Some(channel),
        };
        Ok(match enqueue_notice(db, &self.routing, &template, now)? {
            Ok(_) => Told::Yes,
            Err(Refusal::OptedOut) => Told::OptedOut,
            Err(other) => Told::No(other.to_string()),
        })
    }

    /// The order template on `channel`: `{{1}}` the number, `{{2}}` the status.
    fn template(&self, channel: Channel, change: &StatusChange, language: &str) -> Option<Content> {
        match channel {
            Channel::Twilio => Some(Content::TwilioTemplate {
                content_sid: self
                    .notify
                    .order_content_sid
                    .for_language(language, self.menus.default_language())?
                    .to_string(),
                variables: BTreeMap::from([
                    ("1".to_string(), change.number.clone()),
                    ("2".to_string(), change.status.clone()),
                ]),
            }),
            Channel::Meta => Some(Content::MetaTemplate {
                name: self.notify.order_template.clone()?,
                language: self
                    .notify
                    .order_language
                    .for_language(language, self.menus.default_language())?
                    .to_string(),
                parameters: vec![change.number.clone(), change.status.clone()],
            }),
            Channel::Local => None,
        }
    }

    /// The customer's language: the one they picked, else by their number.
    fn language_of(&self, db: &Db<'_>, to: &ContactRef) -> Result<String, StoreError> {
        let picked = match db.find_contact(to)? {
            Some(contact) => db.contact_language(contact)?,
            None => None,
        };
        Ok(self.menus.language_of(picked.as_deref(), to).0.to_string())
    }
}

/// What became of one update.
enum Told {
    Yes,
    OptedOut,
    No(String),
}
