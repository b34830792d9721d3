//! Telling customers something changed (`[notify]`): after an import changed
//! an order's status (`order_status`), its customer gets `[texts]
//! order_update`; after the owner changed a submission's status in the inbox
//! (`submission_status`), its customer gets `[texts] submission_update`. Both
//! in the customer's language, free-form inside the 24-hour window, else as
//! the order or submission template of the channel they are reached on, and
//! never once they opted out. The window is judged when the notice is sent:
//! a free-form one whose window closed while it waited goes as the template
//! kept with it (where one is configured). A notice is queued in the
//! transaction of the change itself, so the same change is never told twice:
//! importing the same sheet again (or saving the same status) changes
//! nothing, and two changes are one after the other on the one writer.

use jiff::Timestamp;

use crate::config::{Config, NoticeTemplate};
use crate::engine::{render, Menus, Texts};
use crate::message::{Channel, ContactRef, Content, Template};
use crate::orders::{Notices, StatusChange};
use crate::outbox::policy::Refusal;
use crate::outbox::{enqueue_notice, Outgoing, Routing};
use crate::store::{Db, StatusSet, StoreError};

/// Telling customers their order changed (`[notify] order_status`).
#[derive(Debug, Clone)]
pub struct OrderNotices {
    teller: Teller,
    template: NoticeTemplate,
}

impl OrderNotices {
    /// From the config; `None` unless `[notify] order_status = true`.
    pub fn from_config(config: &Config) -> Option<OrderNotices> {
        let notify = config.notify.as_ref().filter(|n| n.order_status)?;
        Some(OrderNotices {
            teller: Teller::from_config(config),
            template: notify.order.clone(),
        })
    }

    /// The same, telling in the texts of `menus` (the menu in service, after
    /// `serve` reloaded it).
    pub fn with_menus(&self, menus: &Menus) -> OrderNotices {
        OrderNotices {
            teller: self.teller.with_menus(menus),
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
        let say = |texts: &Texts| Said {
            body: render::fill(
                &texts.order_update,
                &[
                    ("number", &change.number),
                    ("status", &change.status),
                    ("note", change.note.as_deref().unwrap_or_default()),
                ],
            ),
            values: [change.number.clone(), change.status.clone()],
        };
        let notice = Notice {
            kind: "order",
            to: &ContactRef::phone(change.phone.clone()),
            template: &self.template,
            say: &say,
        };
        match self.teller.tell(db, &notice, now)? {
            Told::Yes => notices.told += 1,
            Told::OptedOut => notices.opted_out += 1,
            Told::No(why) => {
                log::info!(target: "notify", "order {}: {} not told ({why})", change.number, change.phone);
                notices.untold += 1;
            }
        }
        Ok(())
    }
}

/// Telling customers the owner changed their submission's status
/// (`[notify] submission_status`).
#[derive(Debug, Clone)]
pub struct SubmissionNotices {
    teller: Teller,
    template: NoticeTemplate,
}

impl SubmissionNotices {
    /// From the config; `None` unless `[notify] submission_status = true`.
    pub fn from_config(config: &Config) -> Option<SubmissionNotices> {
        let notify = config.notify.as_ref().filter(|n| n.submission_status)?;
        Some(SubmissionNotices {
            teller: Teller::from_config(config),
            template: notify.submission.clone(),
        })
    }

    /// The same, telling in the texts of `menus` (the menu in service).
    pub fn with_menus(&self, menus: &Menus) -> SubmissionNotices {
        SubmissionNotices {
            teller: self.teller.with_menus(menus),
            ..self.clone()
        }
    }

    /// Queues the update for a submission whose status the owner changed, in
    /// the caller's transaction: `[texts] submission_update` with the status
    /// in the customer's words.
    pub fn tell(&self, db: &Db<'_>, set: &StatusSet, now: Timestamp) -> Result<Told, StoreError> {
        let say = |texts: &Texts| {
            let status = texts.status_words().of(set.status).to_string();
            Said {
                body: render::fill(
                    &texts.submission_update,
                    &[
                        ("id", &set.public_id),
                        ("status", &status),
                        ("note", set.note.as_deref().unwrap_or_default()),
                    ],
                ),
                values: [set.public_id.clone(), status],
            }
        };
        let notice = Notice {
            kind: "submission",
            to: &set.customer,
            template: &self.template,
            say: &say,
        };
        let told = self.teller.tell(db, &notice, now)?;
        match &told {
            Told::Yes => log::info!(target: "notify", "submission {}: {} told", set.public_id, set.customer),
            Told::OptedOut => log::info!(target: "notify", "submission {}: {} opted out", set.public_id, set.customer),
            Told::No(why) => {
                log::info!(target: "notify", "submission {}: {} not told ({why})", set.public_id, set.customer)
            }
        }
        Ok(told)
    }
}

/// What became of one notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Told {
    /// Queued in the outbox (free-form, or as the template).
    Yes,
    /// The customer opted out: nothing was queued.
    OptedOut,
    /// Not queued, and why (outside the 24-hour window with no template).
    No(String),
}

/// What a notice says in one language: the free-form text, and the
/// template's `{{1}}` and `{{2}}`.
struct Said {
    body: String,
    values: [String; 2],
}

/// One notice to one customer.
struct Notice<'a> {
    /// "order", "submission": for the log.
    kind: &'static str,
    to: &'a ContactRef,
    /// The template outside the 24-hour window.
    template: &'a NoticeTemplate,
    /// What it says in the customer's language.
    say: &'a dyn Fn(&Texts) -> Said,
}

/// What telling a customer needs: the texts in every language, and the routing.
#[derive(Debug, Clone)]
struct Teller {
    menus: Menus,
    routing: Routing,
}

impl Teller {
    fn from_config(config: &Config) -> Teller {
        Teller {
            menus: config.menus.clone(),
            routing: Routing::from_config(config),
        }
    }

    fn with_menus(&self, menus: &Menus) -> Teller {
        Teller {
            menus: menus.clone(),
            ..self.clone()
        }
    }

    /// Queues `notice` in the caller's transaction: free-form inside the
    /// 24-hour window, else the template of the customer's channel, never to
    /// a customer who opted out. A free-form notice keeps that template with
    /// it: the window is judged again when it is sent, and if it has closed
    /// by then the template goes instead.
    fn tell(&self, db: &Db<'_>, notice: &Notice<'_>, now: Timestamp) -> Result<Told, StoreError> {
        let language = self.language_of(db, notice.to)?;
        let said = (notice.say)(&self.menus.get(&language).texts);
        let channel = self.routing.text_channel(notice.to, &db.contact_facts(notice.to)?);
        let default = self.menus.default_language();
        let template = notice.template.on(channel, (&language, default), said.values.to_vec());
        if let Some(told) = self.free_form(db, notice, (&said.body, channel), template.as_ref(), now)? {
            return Ok(told);
        }
        let Some(template) = template else {
            return Ok(Told::No(format!(
                "outside the 24-hour window and no {} template for {channel}",
                notice.kind
            )));
        };
        let template = Outgoing {
            to: notice.to.clone(),
            content: Content::Template(template),
            channel: Some(channel),
        };
        Ok(match enqueue_notice(db, &self.routing, &template, now)? {
            Ok(_) => Told::Yes,
            Err(Refusal::OptedOut) => Told::OptedOut,
            Err(other) => Told::No(other.to_string()),
        })
    }

    /// Queues `body` free-form on `channel`, keeping `template` with it for
    /// the case its window closes before it is sent; `None` if it is outside
    /// the window now.
    fn free_form(
        &self,
        db: &Db<'_>,
        notice: &Notice<'_>,
        (body, channel): (&str, Channel),
        template: Option<&Template>,
        now: Timestamp,
    ) -> Result<Option<Told>, StoreError> {
        let free_form = Outgoing {
            to: notice.to.clone(),
            content: Content::Text {
                body: body.trim_end().to_string(),
                media_urls: Vec::new(),
            },
            channel: Some(channel),
        };
        Ok(match enqueue_notice(db, &self.routing, &free_form, now)? {
            Ok(id) => {
                if let Some(template) = template {
                    db.set_fallback(id, template)?;
                }
                Some(Told::Yes)
            }
            Err(Refusal::OptedOut) => Some(Told::OptedOut),
            Err(Refusal::OutsideWindow(_)) => None,
            Err(other) => Some(Told::No(other.to_string())),
        })
    }

    /// The customer's language: the one they picked, else by their number.
    fn language_of(&self, db: &Db<'_>, to: &ContactRef) -> Result<String, StoreError> {
        let picked = db.picked_language(to)?;
        Ok(self.menus.language_of(picked.as_deref(), to).0.to_string())
    }
}
