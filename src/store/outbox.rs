//! The outbox: outbound messages queued by the admin API, the CLI or a
//! conversation on a channel without inline replies, claimed and settled by the
//! sender thread, listed and released by the operator.
//!
//! An outbound message is a `messages` row (direction `outbound`, no key until
//! the provider gives one) plus an `outbox` row with its sending state. Its
//! [`Content`] is stored and loaded through one mapping ([`ContentColumns`]), so
//! a row that fits no kind is a [`StoreError::Corrupt`], never a default.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::decode::{corrupt, parse_channel, to_json};
use super::time::{from_sql, to_sql};
use super::{Db, StoreError};
use crate::message::{Channel, ContactRef, Content, ContentKind, Media, MessageStatus, OutboxState, Template};

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutbound {
    /// The customer.
    pub to: ContactRef,
    /// The channel it goes out on.
    pub channel: Channel,
    /// The shop's address on that channel (`whatsapp:+1…`, `MG…`, a phone number id).
    pub from_addr: String,
    /// The customer's address on that channel (`whatsapp:+27…`, `27…`).
    pub to_addr: String,
    /// What it says.
    pub content: Content,
}

/// A queued message as the sender needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxJob {
    /// `messages.id`.
    pub id: i64,
    /// The channel it goes out on.
    pub channel: Channel,
    /// The customer.
    pub to: ContactRef,
    /// What it says.
    pub content: Content,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// One line of `shopbot outbox list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// `messages.id`.
    pub id: i64,
    /// The customer: E.164, or the user id of a contact without a number.
    pub to: String,
    /// The channel.
    pub channel: Channel,
    /// What it says (its text, or its template and values).
    pub content: Content,
    /// Where it is.
    pub state: OutboxState,
    /// Attempts made.
    pub attempts: u32,
    /// The provider's key once sent.
    pub sid: Option<String>,
    /// The last error's code.
    pub error_code: Option<String>,
    /// The last error's message.
    pub error_message: Option<String>,
    /// The next attempt, for queued messages.
    pub next_attempt_at: Timestamp,
    /// When it was queued.
    pub created_at: Timestamp,
    /// The uncertain message to the same customer this queued one waits
    /// behind (until an operator retries or resolves that one).
    pub waiting_behind: Option<i64>,
}

impl OutboxEntry {
    /// What kind of content.
    pub fn kind(&self) -> ContentKind {
        self.content.kind()
    }

    /// Why a queued message does not go, in words; `None` when nothing holds it.
    pub fn held_by(&self) -> Option<String> {
        self.waiting_behind
            .map(|n| format!("waiting behind message {n} (uncertain)"))
    }
}

/// How a send ended, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle<'a> {
    /// The provider took it.
    Sent {
        /// Its key.
        sid: &'a str,
        /// Its first status.
        status: MessageStatus,
    },
    /// Try again at this time.
    Retry {
        /// When.
        at: Timestamp,
        /// The error's code.
        code: &'a str,
        /// The error.
        message: &'a str,
    },
    /// Final failure.
    Failed {
        /// The error's code.
        code: &'a str,
        /// The error.
        message: &'a str,
    },
    /// The provider may have it; not resent until released.
    Uncertain {
        /// What happened.
        message: &'a str,
    },
}

/// What the outbox's rules need to know about a contact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContactFacts {
    /// The contact sent a stop keyword and no start keyword since.
    pub suppressed: bool,
    /// The customer's last inbound message.
    pub last_inbound_at: Option<Timestamp>,
    /// The channel of that message.
    pub last_channel: Option<Channel>,
    /// When a provider last said the window is closed.
    pub window_closed_at: Option<Timestamp>,
}

/// A template as stored in `outbox.template`: its channel, name, language
/// and variables in order. Rows of releases before 0.3 are read too: a
/// Twilio template as `{"content_sid", "variables": {…}}` (kind `template`)
/// and a Meta one as `{"name", "language", "parameters": […]}` (kind
/// `meta_template`), each on the channel of its message.
#[derive(Debug, Serialize, Deserialize)]
struct TemplateRow {
    #[serde(alias = "content_sid")]
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(default)]
    variables: TemplateVariables,
    /// Before 0.3: a Meta template's values, numbered in order.
    #[serde(default, skip_serializing)]
    parameters: Vec<String>,
}

/// A template's variables as stored: in order, as `[key, value]` pairs; a
/// table by key in rows of releases before 0.3.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum TemplateVariables {
    InOrder(Vec<(String, String)>),
    ByKey(BTreeMap<String, String>),
}

impl Default for TemplateVariables {
    fn default() -> TemplateVariables {
        TemplateVariables::InOrder(Vec::new())
    }
}

impl TemplateRow {
    fn of(template: &Template) -> TemplateRow {
        TemplateRow {
            name: template.name.clone(),
            language: template.language.clone(),
            variables: TemplateVariables::InOrder(template.variables.clone()),
            parameters: Vec::new(),
        }
    }

    fn into_template(self, channel: Channel) -> Template {
        let mut variables = match self.variables {
            TemplateVariables::InOrder(pairs) => pairs,
            TemplateVariables::ByKey(by_key) => by_key.into_iter().collect(),
        };
        if variables.is_empty() {
            variables = Template::numbered(channel, "", None, self.parameters).variables;
        }
        Template {
            channel,
            name: self.name,
            language: self.language,
            variables,
        }
    }
}

/// The columns a [`Content`] is stored in: `outbox.kind`, `messages.body`,
/// `messages.media`, `outbox.template`. The one mapping, both ways.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ContentColumns {
    kind: String,
    body: Option<String>,
    media: Option<String>,
    template: Option<String>,
}

impl ContentColumns {
    fn of(content: &Content) -> ContentColumns {
        let media: Vec<Media> = content.media_urls().iter().map(|url| Media::at_url(url, "")).collect();
        let template = match content {
            Content::Template(template) => Some(to_json(&TemplateRow::of(template))),
            Content::Reply {
                choice: Some(choice), ..
            } => Some(to_json(choice)),
            Content::Text { .. } | Content::Reply { choice: None, .. } => None,
        };
        ContentColumns {
            kind: content.kind().as_str().to_string(),
            body: content.body().map(String::from),
            media: (!media.is_empty()).then(|| to_json(&media)),
            template,
        }
    }

    /// The four columns from `first` on: kind, body, media, template.
    fn read(r: &Row<'_>, first: usize) -> rusqlite::Result<ContentColumns> {
        Ok(ContentColumns {
            kind: r.get(first)?,
            body: r.get(first + 1)?,
            media: r.get(first + 2)?,
            template: r.get(first + 3)?,
        })
    }

    fn into_content(self, id: i64, channel: Channel) -> Result<Content, StoreError> {
        let bad = |detail: String| StoreError::Corrupt {
            what: "outbound message",
            detail: format!("message {id}: {detail}"),
        };
        let kind = ContentKind::parse(&self.kind).ok_or_else(|| bad(format!("unknown kind {:?}", self.kind)))?;
        let template = |what: &str| {
            self.template
                .clone()
                .ok_or_else(|| bad(format!("a {what} without its template")))
        };
        Ok(match kind {
            ContentKind::Text => {
                let media: Vec<Media> = match &self.media {
                    Some(json) => serde_json::from_str(json).map_err(corrupt("outbound media"))?,
                    None => Vec::new(),
                };
                Content::Text {
                    body: self.body.unwrap_or_default(),
                    media_urls: media.into_iter().map(|m| m.url).collect(),
                }
            }
            ContentKind::Reply => Content::Reply {
                body: self.body.ok_or_else(|| bad("a reply without text".into()))?,
                choice: match &self.template {
                    Some(json) => Some(serde_json::from_str(json).map_err(|e| bad(format!("its menu: {e}")))?),
                    None => None,
                },
            },
            ContentKind::Template => {
                let row: TemplateRow = serde_json::from_str(&template("template")?).map_err(|e| bad(e.to_string()))?;
                Content::Template(row.into_template(channel))
            }
        })
    }
}

const JOB_COLUMNS: &str = "m.id, m.channel, c.phone, c.user_id, o.kind, m.body, m.media, o.template, o.attempts";

/// Which unfinished messages [`next_due_sql`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// Only bot replies. The walk still goes through `outbox_unfinished`: a
    /// partial index of the replies alone cost every Meta message about
    /// 20,000 instructions in index upkeep, while this walk costs only what
    /// is unfinished, which is nearly nothing but in a backlog.
    Replies,
    /// All of them.
    All,
}

/// The query of [`Db::next_due`] for `channels`.
///
/// The names are our own constants, so they can be written into the SQL (one
/// cached statement per set of channels and walk). Both walks go through the
/// unfinished messages only (`outbox_unfinished`, in order), so a send costs
/// what is unfinished ahead of it, not the backlog times each contact's
/// history.
fn next_due_sql(channels: &[Channel], walk: Walk) -> String {
    let names: Vec<String> = channels.iter().map(|c| format!("'{}'", c.as_str())).collect();
    let only = match walk {
        Walk::Replies => "AND o.kind = 'reply'",
        Walk::All => "",
    };
    format!(
        "SELECT {JOB_COLUMNS} FROM outbox o INDEXED BY outbox_unfinished
           JOIN messages m ON m.id = o.message_id JOIN contacts c ON c.id = m.contact_id
         WHERE o.state != 'sent' AND o.state != 'failed' {only}
           AND o.state = 'queued' AND o.next_attempt_at <= ?1 AND m.channel IN ({})
           AND NOT EXISTS (SELECT 1 FROM outbox o2 INDEXED BY outbox_unfinished
                             JOIN messages m2 ON m2.id = o2.message_id
                           WHERE o2.state != 'sent' AND o2.state != 'failed'
                             AND o2.message_id < o.message_id AND +m2.contact_id = m.contact_id
                             AND (o.kind != 'reply' OR (o2.state != 'uncertain' AND NOT {HELD_ALERT})))
         ORDER BY o.message_id LIMIT 1",
        names.join(", ")
    )
}

/// `o2` is a staff alert held for the opening (never tried, due later): a
/// reply to that staff member does not wait behind it (they just wrote; the
/// hours hold alerts, not answers). Everything else to them still does.
const HELD_ALERT: &str = "(o2.state = 'queued' AND o2.attempts = 0 AND o2.next_attempt_at > ?1
      AND EXISTS (SELECT 1 FROM staff_notes n WHERE n.message_id = o2.message_id AND n.kind = 'alert'))";

impl Db<'_> {
    /// What the rules need to know about a contact (defaults for one never seen).
    pub fn contact_facts(&self, who: &ContactRef) -> Result<ContactFacts, StoreError> {
        let Some(contact) = self.find_contact(who)? else {
            return Ok(ContactFacts {
                suppressed: self.is_suppressed(who)?,
                ..ContactFacts::default()
            });
        };
        let row: (Option<String>, Option<String>, Option<String>) = self
            .conn
            .prepare_cached(
                "SELECT m.created_at, m.channel, c.window_closed_at
                 FROM contacts c LEFT JOIN messages m ON m.id = (
                     SELECT m2.id FROM messages m2
                     WHERE m2.contact_id = c.id AND m2.direction = 'inbound' ORDER BY m2.id DESC LIMIT 1)
                 WHERE c.id = ?1",
            )?
            .query_row([contact.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        let (last, channel, closed) = row;
        Ok(ContactFacts {
            suppressed: self.is_suppressed(who)?,
            last_inbound_at: last.as_deref().map(from_sql).transpose()?,
            last_channel: channel.as_deref().map(parse_channel).transpose()?,
            window_closed_at: closed.as_deref().map(from_sql).transpose()?,
        })
    }

    /// Queues a message (the caller checked the rules); returns its id.
    pub fn enqueue(&self, m: &NewOutbound, now: Timestamp) -> Result<i64, StoreError> {
        let contact = self.find_or_add_contact(&m.to, None, now)?.0;
        let columns = ContentColumns::of(&m.content);
        let now_sql = to_sql(now);
        self.conn
            .prepare_cached(
                "INSERT INTO messages (channel, direction, contact_id, from_addr, to_addr, body, media, status, created_at)
                 VALUES (?1, 'outbound', ?2, ?3, ?4, ?5, ?6, 'queued', ?7)",
            )?
            .execute(params![
                m.channel.as_str(),
                contact,
                m.from_addr,
                m.to_addr,
                columns.body,
                columns.media,
                now_sql
            ])?;
        let id = self.conn.last_insert_rowid();
        self.conn
            .prepare_cached(
                "INSERT INTO outbox (message_id, state, kind, template, next_attempt_at, updated_at)
                 VALUES (?1, 'queued', ?2, ?3, ?4, ?4)",
            )?
            .execute(params![id, columns.kind, columns.template, now_sql])?;
        Ok(id)
    }

    /// The next message due at `now` on one of `channels`: the oldest queued
    /// one whose time has come and that no older unfinished message to the
    /// same contact is ahead of. A bot reply does not wait behind an uncertain
    /// message (the customer just wrote and expects an answer; an operator
    /// decides about the uncertain one), nor behind a staff alert held for the
    /// opening (a staff member's `#list` is answered at night); anything the
    /// shop starts does. Bot replies go first: a customer tapping through the
    /// menu is not kept waiting behind a backlog of order updates or alerts
    /// to other people (each contact's own messages keep their order).
    pub fn next_due(&self, now: Timestamp, channels: &[Channel]) -> Result<Option<OutboxJob>, StoreError> {
        if channels.is_empty() {
            return Ok(None);
        }
        for walk in [Walk::Replies, Walk::All] {
            let row = self
                .conn
                .prepare_cached(&next_due_sql(channels, walk))?
                .query_row([to_sql(now)], JobRow::read)
                .optional()?;
            if let Some(row) = row {
                return row.into_job().map(Some);
            }
        }
        Ok(None)
    }

    /// What the outbound message `id` says (`None` for no such message).
    pub fn outbound_content(&self, id: i64) -> Result<Option<Content>, StoreError> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT o.kind, m.body, m.media, o.template, m.channel FROM outbox o JOIN messages m ON m.id = o.message_id
                 WHERE o.message_id = ?1",
            )?
            .query_row([id], |r| Ok((ContentColumns::read(r, 0)?, r.get::<_, String>(4)?)))
            .optional()?;
        row.map(|(c, channel)| c.into_content(id, parse_channel(&channel)?))
            .transpose()
    }

    /// Keeps `template` with the queued free-form message `id`: what it goes
    /// as if the 24-hour window has closed when it is sent
    /// ([`Db::switch_to_fallback`]). The template is of the message's channel.
    pub fn set_fallback(&self, id: i64, template: &Template) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE outbox SET fallback = ?2 WHERE message_id = ?1 AND state = 'queued'")?
            .execute(params![id, to_json(&TemplateRow::of(template))])?;
        Ok(())
    }

    /// Makes the queued message `id` its fallback template (kept by
    /// [`Db::set_fallback`]): the template, or `None` if it has none (rows
    /// of earlier releases have none) or is no longer queued.
    pub fn switch_to_fallback(&self, id: i64) -> Result<Option<Template>, StoreError> {
        let row: Option<(String, String)> = self
            .conn
            .prepare_cached(
                "SELECT o.fallback, m.channel FROM outbox o JOIN messages m ON m.id = o.message_id
                 WHERE o.message_id = ?1 AND o.state = 'queued' AND o.fallback IS NOT NULL",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((json, channel)) = row else {
            return Ok(None);
        };
        let row: TemplateRow = serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
            what: "outbound message",
            detail: format!("message {id}: its fallback template: {e}"),
        })?;
        let template = row.into_template(parse_channel(&channel)?);
        let columns = ContentColumns::of(&Content::Template(template.clone()));
        self.conn
            .prepare_cached("UPDATE messages SET body = ?2, media = ?3 WHERE id = ?1")?
            .execute(params![id, columns.body, columns.media])?;
        self.conn
            .prepare_cached("UPDATE outbox SET kind = ?2, template = ?3, fallback = NULL WHERE message_id = ?1")?
            .execute(params![id, columns.kind, columns.template])?;
        Ok(Some(template))
    }

    /// When the next queued message falls due, if any is queued.
    pub fn next_due_at(&self) -> Result<Option<Timestamp>, StoreError> {
        let at: Option<String> = self
            .conn
            .prepare_cached("SELECT min(next_attempt_at) FROM outbox WHERE state = 'queued'")?
            .query_row([], |r| r.get(0))?;
        at.as_deref().map(from_sql).transpose()
    }

    /// Marks a queued message as being sent (one more attempt). `false` if it
    /// is no longer queued.
    pub fn claim(&self, id: i64, now: Timestamp) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ?2
                 WHERE message_id = ?1 AND state = 'queued'",
            )?
            .execute(params![id, to_sql(now)])?;
        Ok(n == 1)
    }

    /// Records how a send ended.
    pub fn settle(&self, id: i64, outcome: &Settle<'_>, now: Timestamp) -> Result<(), StoreError> {
        let now_sql = to_sql(now);
        let (state, next, code, message) = match outcome {
            Settle::Sent { sid, status } => {
                self.conn
                    .prepare_cached("UPDATE messages SET sid = ?2, status = ?3 WHERE id = ?1")?
                    .execute(params![id, sid, status.as_str()])?;
                ("sent", None, None, None)
            }
            Settle::Retry { at, code, message } => ("queued", Some(to_sql(*at)), Some(*code), Some(*message)),
            Settle::Failed { code, message } => {
                self.conn
                    .prepare_cached("UPDATE messages SET status = 'failed' WHERE id = ?1")?
                    .execute([id])?;
                ("failed", None, Some(*code), Some(*message))
            }
            Settle::Uncertain { message } => ("uncertain", None, Some("uncertain"), Some(*message)),
        };
        self.conn
            .prepare_cached(
                "UPDATE outbox SET state = ?2, next_attempt_at = coalesce(?3, next_attempt_at),
                   error_code = coalesce(?4, error_code), error_message = coalesce(?5, error_message), updated_at = ?6
                 WHERE message_id = ?1",
            )?
            .execute(params![id, state, next, code, message, now_sql])?;
        Ok(())
    }

    /// At start-up: messages left `sending` by a process that died are uncertain.
    pub fn hold_interrupted_sends(&self, now: Timestamp) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE outbox SET state = 'uncertain', error_code = 'uncertain',
                   error_message = 'shopbot stopped while sending; the provider may or may not have it', updated_at = ?1
                 WHERE state = 'sending'",
            )?
            .execute([to_sql(now)])?)
    }

    /// The outbox state of a message, if it is in the outbox.
    fn outbox_state(&self, id: i64) -> Result<Option<OutboxState>, StoreError> {
        let state: Option<String> = self
            .conn
            .prepare_cached("SELECT state FROM outbox WHERE message_id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        state.as_deref().map(parse_state).transpose()
    }

    /// An operator's go-ahead: an uncertain or failed message is queued again.
    /// `None` if there is no such message, else whether it was released.
    pub fn release(&self, id: i64, now: Timestamp) -> Result<Option<bool>, StoreError> {
        let Some(state) = self.outbox_state(id)? else {
            return Ok(None);
        };
        if !matches!(state, OutboxState::Uncertain | OutboxState::Failed) {
            return Ok(Some(false));
        }
        self.conn
            .prepare_cached(
                "UPDATE outbox SET state = 'queued', next_attempt_at = ?2, updated_at = ?2 WHERE message_id = ?1",
            )?
            .execute(params![id, to_sql(now)])?;
        self.conn
            .prepare_cached("UPDATE messages SET status = 'queued' WHERE id = ?1")?
            .execute([id])?;
        Ok(Some(true))
    }

    /// An operator's word on an uncertain message: it arrived (`sent`) or it
    /// did not and must not be sent (`failed`). Either way the messages
    /// waiting behind it go. `None` if there is no such message, else whether
    /// it was uncertain.
    pub fn resolve(&self, id: i64, arrived: bool, now: Timestamp) -> Result<Option<bool>, StoreError> {
        let Some(state) = self.outbox_state(id)? else {
            return Ok(None);
        };
        if state != OutboxState::Uncertain {
            return Ok(Some(false));
        }
        let (state, code, message) = if arrived {
            ("sent", None, "an operator confirmed that it arrived")
        } else {
            (
                "failed",
                Some("not_sent"),
                "an operator confirmed that it did not arrive; not sent again",
            )
        };
        self.conn
            .prepare_cached(
                "UPDATE outbox SET state = ?2, error_code = ?3, error_message = ?4, updated_at = ?5 WHERE message_id = ?1",
            )?
            .execute(params![id, state, code, message, to_sql(now)])?;
        self.conn
            .prepare_cached("UPDATE messages SET status = ?2 WHERE id = ?1")?
            .execute(params![id, state])?;
        Ok(Some(true))
    }

    /// The message an `Idempotency-Key` queued since `since`: `Some(Ok(id))`
    /// if it came with a request of one of the `request_hashes`, `Some(Err(()))`
    /// if with another request, `None` if the key is new (or older than `since`).
    pub fn idempotent_message(
        &self,
        key: &str,
        request_hashes: &[&str],
        since: Timestamp,
    ) -> Result<Option<Result<i64, ()>>, StoreError> {
        let row: Option<(String, i64)> = self
            .conn
            .prepare_cached(
                "SELECT request_hash, message_id FROM idempotency_keys WHERE key = ?1 AND created_at >= ?2",
            )?
            .query_row(params![key, to_sql(since)], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(row.map(|(hash, id)| {
            if request_hashes.contains(&hash.as_str()) {
                Ok(id)
            } else {
                Err(())
            }
        }))
    }

    /// Remembers that `key` (with this request) queued `message` now,
    /// replacing an expired use of the same key.
    pub fn remember_idempotency_key(
        &self,
        key: &str,
        request_hash: &str,
        message: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO idempotency_keys (key, request_hash, message_id, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![key, request_hash, message, to_sql(now)])?;
        Ok(())
    }

    /// The outbox, newest first.
    pub fn outbox_list(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let sql = format!("{ENTRY_SELECT} ORDER BY o.message_id DESC LIMIT ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([limit as i64], EntryRow::read)?;
        rows.map(|row| row?.into_entry()).collect()
    }

    /// The outbox state of one message, if it is outbound.
    pub fn outbox_entry(&self, id: i64) -> Result<Option<OutboxEntry>, StoreError> {
        let sql = format!("{ENTRY_SELECT} WHERE o.message_id = ?1");
        let row = self
            .conn
            .prepare_cached(&sql)?
            .query_row([id], EntryRow::read)
            .optional()?;
        row.map(EntryRow::into_entry).transpose()
    }

    /// A provider said the window is closed for the contact of its message
    /// `sid`: free-form messages wait for the customer to write again.
    pub fn close_window_for_sid(&self, channel: Channel, sid: &str, now: Timestamp) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE contacts SET window_closed_at = ?3
                 WHERE id = (SELECT contact_id FROM messages WHERE sid = ?1 AND channel = ?2)",
            )?
            .execute(params![sid, channel.as_str(), to_sql(now)])?;
        Ok(())
    }

    /// The same, for a message we know by id.
    pub fn close_window_for_message(&self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE contacts SET window_closed_at = ?2
                 WHERE id = (SELECT contact_id FROM messages WHERE id = ?1)",
            )?
            .execute(params![id, to_sql(now)])?;
        Ok(())
    }

    /// A staff message reached the provider: the contact no longer waits for staff.
    pub fn clear_waiting_for_message(&self, id: i64) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE sessions SET waiting_since = NULL
                 WHERE contact_id = (SELECT contact_id FROM messages WHERE id = ?1) AND waiting_since IS NOT NULL",
            )?
            .execute([id])?;
        Ok(n == 1)
    }
}

/// The last column is the oldest uncertain message a queued one waits behind
/// (the rule of [`Db::next_due`]: a bot reply waits behind none).
const ENTRY_SELECT: &str = "SELECT m.id, coalesce(c.phone, c.user_id), m.channel, o.kind, o.state, o.attempts, m.sid,
        o.error_code, o.error_message, o.next_attempt_at, m.created_at,
        m.body, m.media, o.template,
        CASE WHEN o.state = 'queued' AND o.kind != 'reply' THEN
          (SELECT min(o2.message_id) FROM messages m2 JOIN outbox o2 ON o2.message_id = m2.id
           WHERE m2.contact_id = m.contact_id AND m2.id < m.id AND o2.state = 'uncertain')
        END
     FROM outbox o JOIN messages m ON m.id = o.message_id JOIN contacts c ON c.id = m.contact_id";

/// A stored outbox state back.
fn parse_state(word: &str) -> Result<OutboxState, StoreError> {
    OutboxState::parse(word).ok_or_else(|| StoreError::Corrupt {
        what: "outbox state",
        detail: format!("{word:?} is not a state"),
    })
}

/// The columns of [`ENTRY_SELECT`], before decoding.
struct EntryRow {
    id: i64,
    to: String,
    channel: String,
    state: String,
    attempts: u32,
    sid: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    next_attempt_at: String,
    created_at: String,
    waiting_behind: Option<i64>,
    content: ContentColumns,
}

impl EntryRow {
    fn read(r: &Row<'_>) -> rusqlite::Result<EntryRow> {
        Ok(EntryRow {
            id: r.get(0)?,
            to: r.get(1)?,
            channel: r.get(2)?,
            state: r.get(4)?,
            attempts: r.get(5)?,
            sid: r.get(6)?,
            error_code: r.get(7)?,
            error_message: r.get(8)?,
            next_attempt_at: r.get(9)?,
            created_at: r.get(10)?,
            content: ContentColumns {
                kind: r.get(3)?,
                body: r.get(11)?,
                media: r.get(12)?,
                template: r.get(13)?,
            },
            waiting_behind: r.get(14)?,
        })
    }

    fn into_entry(self) -> Result<OutboxEntry, StoreError> {
        Ok(OutboxEntry {
            id: self.id,
            to: self.to,
            channel: parse_channel(&self.channel)?,
            content: self.content.into_content(self.id, parse_channel(&self.channel)?)?,
            state: parse_state(&self.state)?,
            attempts: self.attempts,
            sid: self.sid,
            error_code: self.error_code,
            error_message: self.error_message,
            next_attempt_at: from_sql(&self.next_attempt_at)?,
            created_at: from_sql(&self.created_at)?,
            waiting_behind: self.waiting_behind,
        })
    }
}

/// The columns of [`JOB_COLUMNS`], before decoding.
struct JobRow {
    id: i64,
    channel: String,
    phone: Option<String>,
    user_id: Option<String>,
    content: ContentColumns,
    attempts: u32,
}

impl JobRow {
    fn read(r: &Row<'_>) -> rusqlite::Result<JobRow> {
        Ok(JobRow {
            id: r.get(0)?,
            channel: r.get(1)?,
            phone: r.get(2)?,
            user_id: r.get(3)?,
            content: ContentColumns::read(r, 4)?,
            attempts: r.get(8)?,
        })
    }

    fn into_job(self) -> Result<OutboxJob, StoreError> {
        let channel = parse_channel(&self.channel)?;
        Ok(OutboxJob {
            id: self.id,
            channel,
            to: super::decode::contact_ref(self.phone, self.user_id)?,
            content: self.content.into_content(self.id, channel)?,
            attempts: self.attempts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_content_survives_the_mapping() {
        let contents = [
            Content::Text {
                body: "hi".into(),
                media_urls: vec!["https://example.com/a.jpg".into()],
            },
            Content::Text {
                body: String::new(),
                media_urls: Vec::new(),
            },
            Content::Reply {
                body: "Welcome".into(),
                choice: None,
            },
            Content::Template(Template::numbered(
                Channel::Twilio,
                &format!("HX{}", "a".repeat(32)),
                None,
                ["Ava".to_string()],
            )),
            Content::Template(Template::numbered(
                Channel::Meta,
                "order_ready",
                Some("en_US"),
                ["Ava".to_string(), "A1002".to_string()],
            )),
        ];
        for content in contents {
            let channel = content.only_channel().unwrap_or(Channel::Twilio);
            assert_eq!(ContentColumns::of(&content).into_content(1, channel).unwrap(), content);
        }
    }

    #[test]
    fn the_next_due_message_is_found_through_the_unfinished_ones_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = super::super::Store::open(&dir.path().join("plan.db")).unwrap();
        for walk in [Walk::Replies, Walk::All] {
            let plan: Vec<String> = store
                .read(|db| {
                    let sql = next_due_sql(&Channel::PROVIDERS, walk);
                    let mut explain = db.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                    let rows = explain.query_map([""], |r| r.get::<_, String>(3))?;
                    Ok(rows.collect::<Result<Vec<_>, _>>()?)
                })
                .unwrap();
            let plan = plan.join("\n");
            assert_eq!(plan.matches("USING INDEX outbox_unfinished").count(), 2, "{plan}");
            assert!(
                !plan.contains("TEMP B-TREE"),
                "walked in order, stops at the first: {plan}"
            );
            assert!(
                !plan.contains("messages_by_contact"),
                "never a contact's whole history: {plan}"
            );
        }
    }

    #[test]
    fn a_bot_reply_goes_before_a_backlog_to_others_but_after_its_own_contacts_older_messages() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = super::super::Store::open(&dir.path().join("queue.db")).unwrap();
        let now = Timestamp::now();
        let queue = |db: &Db<'_>, number: &str, content: Content| {
            let to = ContactRef::phone(crate::phone::PhoneNumber::parse(number).unwrap());
            let message = NewOutbound {
                to_addr: format!("whatsapp:{number}"),
                to,
                channel: Channel::Twilio,
                from_addr: "whatsapp:+14155238886".into(),
                content,
            };
            db.enqueue(&message, now)
        };
        let update = |text: &str| Content::Text {
            body: text.into(),
            media_urls: Vec::new(),
        };
        let reply = |text: &str| Content::Reply {
            body: text.into(),
            choice: None,
        };
        let sent = |db: &Db<'_>, id: i64| {
            assert!(db.claim(id, now)?);
            let sid = format!("SM{id:032}");
            let status = crate::message::MessageStatus::Sent;
            db.settle(id, &Settle::Sent { sid: &sid, status }, now)
        };
        let next = |store: &mut super::super::Store| {
            store
                .read(|db| db.next_due(now, &Channel::PROVIDERS))
                .unwrap()
                .map(|job| job.id)
        };
        let (first, _backlog, mine, to_a) = store
            .write(|db| {
                let first = queue(db, "+27825550001", update("Order A1: ready"))?;
                let backlog = queue(db, "+27825550002", update("Order A2: ready"))?;
                let mine = queue(db, "+27825550003", reply("Welcome! Select 1-5"))?;
                // A reply to the first contact waits behind their own update.
                let to_a = queue(db, "+27825550001", reply("Welcome!"))?;
                Ok::<_, StoreError>((first, backlog, mine, to_a))
            })
            .unwrap();
        assert_eq!(next(&mut store), Some(mine), "the reply to a third contact goes first");
        store.write(|db| sent(db, mine)).unwrap();
        assert_eq!(next(&mut store), Some(first), "a's reply waits behind a's update");
        store.write(|db| sent(db, first)).unwrap();
        assert_eq!(next(&mut store), Some(to_a), "then a's reply, before b's update");
    }

    #[test]
    fn templates_stored_by_earlier_releases_are_read_as_they_were_sent() {
        let twilio = ContentColumns {
            kind: "template".into(),
            body: None,
            media: None,
            template: Some(r#"{"content_sid":"HX1","variables":{"2":"A1002","1":"Ava"}}"#.into()),
        };
        assert_eq!(
            twilio.into_content(3, Channel::Twilio).unwrap(),
            Content::Template(Template::numbered(
                Channel::Twilio,
                "HX1",
                None,
                ["Ava".to_string(), "A1002".to_string()]
            ))
        );
        let meta = ContentColumns {
            kind: "meta_template".into(),
            body: None,
            media: None,
            template: Some(r#"{"name":"order_ready","language":"en_US","parameters":["Ava","A1002"]}"#.into()),
        };
        assert_eq!(
            meta.into_content(4, Channel::Meta).unwrap(),
            Content::Template(Template::numbered(
                Channel::Meta,
                "order_ready",
                Some("en_US"),
                ["Ava".to_string(), "A1002".to_string()]
            ))
        );
    }

    /// A free-form message keeps its fallback template until it is switched
    /// to it; a row without one (as every row of earlier releases) has none.
    #[test]
    fn a_queued_text_switches_to_its_fallback_template_once() {
        let mut store = super::super::Store::open_in_memory().unwrap();
        let now = Timestamp::now();
        let to = ContactRef::phone(crate::phone::PhoneNumber::parse("+27825550001").unwrap());
        let text = |body: &str| NewOutbound {
            to: to.clone(),
            channel: Channel::Twilio,
            from_addr: "whatsapp:+14155238886".into(),
            to_addr: "whatsapp:+27825550001".into(),
            content: Content::Text {
                body: body.into(),
                media_urls: Vec::new(),
            },
        };
        let template = Template::numbered(Channel::Twilio, "HX1", None, ["O1".to_string(), "Ready".to_string()]);
        let (with, without, first, again, old) = store
            .write(|db| {
                let (with, without) = (db.enqueue(&text("one"), now)?, db.enqueue(&text("two"), now)?);
                db.set_fallback(with, &template)?;
                let first = db.switch_to_fallback(with)?;
                let again = db.switch_to_fallback(with)?;
                Ok::<_, StoreError>((with, without, first, again, db.switch_to_fallback(without)?))
            })
            .unwrap();
        assert_eq!((first, again, old), (Some(template.clone()), None, None));
        let (with, without) = store
            .read(|db| Ok::<_, StoreError>((db.outbound_content(with)?, db.outbound_content(without)?)))
            .unwrap();
        assert_eq!(with, Some(Content::Template(template)));
        assert_eq!(without.map(|c| c.kind()), Some(ContentKind::Text));
    }

    #[test]
    fn an_impossible_row_is_corrupt_not_a_default() {
        let template_without_sid = ContentColumns {
            kind: "template".into(),
            body: None,
            media: None,
            template: None,
        };
        assert!(matches!(
            template_without_sid.into_content(7, Channel::Twilio),
            Err(StoreError::Corrupt { .. })
        ));
        let migrated_null_sid = ContentColumns {
            kind: "template".into(),
            body: None,
            media: None,
            template: Some(r#"{"content_sid":null,"variables":{}}"#.into()),
        };
        assert!(matches!(
            migrated_null_sid.into_content(7, Channel::Twilio),
            Err(StoreError::Corrupt { .. })
        ));
        let unknown = ContentColumns {
            kind: "fax".into(),
            body: Some("x".into()),
            media: None,
            template: None,
        };
        assert!(matches!(
            unknown.into_content(7, Channel::Twilio),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
