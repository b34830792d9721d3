//! The outbox: outbound messages queued by the admin API or the CLI, claimed
//! and settled by the sender thread, listed and released by the operator.
//!
//! An outbound message is a `messages` row (direction `outbound`, no SID until
//! Twilio gives one) plus an `outbox` row with its sending state.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension, Row};

use super::queries::{corrupt, to_json};
use super::time::{from_sql, to_sql};
use super::{Db, StoreError};
use crate::engine::Media;
use crate::outbox::policy::{ContactFacts, Kind};
use crate::phone::PhoneNumber;

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutbound {
    /// The customer.
    pub to: PhoneNumber,
    /// `whatsapp:+…` of the shop, or its messaging service SID.
    pub from_addr: String,
    /// Text or template.
    pub kind: Kind,
    /// The text (empty for templates).
    pub body: String,
    /// Media URLs (text only).
    pub media_urls: Vec<String>,
    /// The template (`HX…`).
    pub content_sid: Option<String>,
    /// The template's placeholder values.
    pub variables: BTreeMap<String, String>,
}

/// A queued message as the sender needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxJob {
    /// `messages.id`.
    pub id: i64,
    /// The customer.
    pub to: PhoneNumber,
    /// Text or template.
    pub kind: Kind,
    /// The text.
    pub body: String,
    /// Media URLs.
    pub media_urls: Vec<String>,
    /// The template.
    pub content_sid: Option<String>,
    /// The template's values.
    pub variables: BTreeMap<String, String>,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// One line of `shopbot outbox list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// `messages.id`.
    pub id: i64,
    /// E.164.
    pub to: String,
    /// `text` or `template`.
    pub kind: String,
    /// `queued`, `sending`, `sent`, `failed`, `uncertain`.
    pub state: String,
    /// Attempts made.
    pub attempts: u32,
    /// Twilio's SID once sent.
    pub sid: Option<String>,
    /// The last error's code.
    pub error_code: Option<String>,
    /// The last error's message.
    pub error_message: Option<String>,
    /// The next attempt, for queued messages.
    pub next_attempt_at: Timestamp,
    /// When it was queued.
    pub created_at: Timestamp,
}

/// How a send ended, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle<'a> {
    /// Twilio took it.
    Sent {
        /// Its SID.
        sid: &'a str,
        /// The status Twilio answered.
        status: &'a str,
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
    /// Twilio may have it; not resent until released.
    Uncertain {
        /// What happened.
        message: &'a str,
    },
}

const JOB_COLUMNS: &str =
    "m.id, c.phone, o.kind, coalesce(m.body, ''), m.media, o.content_sid, o.variables, o.attempts";

impl Db<'_> {
    /// What the rules need to know about a number.
    pub fn contact_facts(&self, phone: &PhoneNumber) -> Result<ContactFacts, StoreError> {
        let row: Option<(Option<String>, Option<String>)> = self
            .conn
            .prepare_cached(
                "SELECT (SELECT m.created_at FROM messages m
                         WHERE m.contact_id = c.id AND m.direction = 'inbound' ORDER BY m.id DESC LIMIT 1),
                        c.window_closed_at
                 FROM contacts c WHERE c.phone = ?1",
            )?
            .query_row([phone.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (last, closed) = row.unwrap_or_default();
        Ok(ContactFacts {
            suppressed: self.is_suppressed(phone)?,
            last_inbound_at: last.as_deref().map(from_sql).transpose()?,
            window_closed_at: closed.as_deref().map(from_sql).transpose()?,
        })
    }

    /// Queues a message (the caller checked the rules); returns its id.
    pub fn enqueue(&self, m: &NewOutbound, now: Timestamp) -> Result<i64, StoreError> {
        let contact = self.find_or_add_contact(&m.to, None, now)?.0;
        let media: Vec<Media> = m
            .media_urls
            .iter()
            .map(|url| Media {
                url: url.clone(),
                content_type: String::new(),
            })
            .collect();
        let id: i64 = self
            .conn
            .prepare_cached(
                "INSERT INTO messages (direction, contact_id, from_addr, to_addr, body, media, status, created_at)
                 VALUES ('outbound', ?1, ?2, ?3, ?4, ?5, 'queued', ?6) RETURNING id",
            )?
            .query_row(
                params![
                    contact,
                    m.from_addr,
                    m.to.whatsapp_address(),
                    (m.kind == Kind::Text).then_some(&m.body),
                    (!media.is_empty()).then(|| to_json(&media)),
                    to_sql(now)
                ],
                |r| r.get(0),
            )?;
        let variables = (m.kind == Kind::Template).then(|| to_json(&m.variables));
        self.conn
            .prepare_cached(
                "INSERT INTO outbox (message_id, state, kind, content_sid, variables, next_attempt_at, updated_at)
                 VALUES (?1, 'queued', ?2, ?3, ?4, ?5, ?5)",
            )?
            .execute(params![id, m.kind.as_str(), m.content_sid, variables, to_sql(now)])?;
        Ok(id)
    }

    /// The next message due at `now`: the oldest queued one whose time has come
    /// and that no older unfinished message to the same contact is ahead of.
    pub fn next_due(&self, now: Timestamp) -> Result<Option<OutboxJob>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM outbox o JOIN messages m ON m.id = o.message_id JOIN contacts c ON c.id = m.contact_id
             WHERE o.state = 'queued' AND o.next_attempt_at <= ?1
               AND NOT EXISTS (SELECT 1 FROM outbox o2 JOIN messages m2 ON m2.id = o2.message_id
                               WHERE m2.contact_id = m.contact_id AND o2.message_id < o.message_id
                                 AND o2.state IN ('queued', 'sending', 'uncertain'))
             ORDER BY o.message_id LIMIT 1"
        );
        let row = self
            .conn
            .prepare_cached(&sql)?
            .query_row([to_sql(now)], JobRow::read)
            .optional()?;
        row.map(JobRow::into_job).transpose()
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
                    .execute(params![id, sid, status])?;
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
                   error_message = 'shopbot stopped while sending; Twilio may or may not have it', updated_at = ?1
                 WHERE state = 'sending'",
            )?
            .execute([to_sql(now)])?)
    }

    /// An operator's go-ahead: an uncertain or failed message is queued again.
    /// `None` if there is no such message, else whether it was released.
    pub fn release(&self, id: i64, now: Timestamp) -> Result<Option<bool>, StoreError> {
        let state: Option<String> = self
            .conn
            .prepare_cached("SELECT state FROM outbox WHERE message_id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        let Some(state) = state else { return Ok(None) };
        if state != "uncertain" && state != "failed" {
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

    /// Twilio said the window is closed for the contact of message `sid` (a
    /// 63016): free-form messages wait for the customer to write again.
    pub fn close_window_for_sid(&self, sid: &str, now: Timestamp) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE contacts SET window_closed_at = ?2
                 WHERE id = (SELECT contact_id FROM messages WHERE sid = ?1)",
            )?
            .execute(params![sid, to_sql(now)])?;
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

    /// A staff message reached Twilio: the contact no longer waits for staff.
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

const ENTRY_SELECT: &str = "SELECT m.id, c.phone, o.kind, o.state, o.attempts, m.sid, o.error_code, o.error_message,
        o.next_attempt_at, m.created_at
     FROM outbox o JOIN messages m ON m.id = o.message_id JOIN contacts c ON c.id = m.contact_id";

/// An [`OutboxEntry`] with its timestamps still text.
struct EntryRow(OutboxEntry, String, String);

impl EntryRow {
    fn read(r: &Row<'_>) -> rusqlite::Result<EntryRow> {
        let entry = OutboxEntry {
            id: r.get(0)?,
            to: r.get(1)?,
            kind: r.get(2)?,
            state: r.get(3)?,
            attempts: r.get(4)?,
            sid: r.get(5)?,
            error_code: r.get(6)?,
            error_message: r.get(7)?,
            next_attempt_at: Timestamp::UNIX_EPOCH,
            created_at: Timestamp::UNIX_EPOCH,
        };
        Ok(EntryRow(entry, r.get(8)?, r.get(9)?))
    }

    fn into_entry(self) -> Result<OutboxEntry, StoreError> {
        let EntryRow(mut entry, next, created) = self;
        entry.next_attempt_at = from_sql(&next)?;
        entry.created_at = from_sql(&created)?;
        Ok(entry)
    }
}

/// The columns of [`JOB_COLUMNS`], before decoding.
struct JobRow {
    id: i64,
    phone: String,
    kind: String,
    body: String,
    media: Option<String>,
    content_sid: Option<String>,
    variables: Option<String>,
    attempts: u32,
}

impl JobRow {
    fn read(r: &Row<'_>) -> rusqlite::Result<JobRow> {
        Ok(JobRow {
            id: r.get(0)?,
            phone: r.get(1)?,
            kind: r.get(2)?,
            body: r.get(3)?,
            media: r.get(4)?,
            content_sid: r.get(5)?,
            variables: r.get(6)?,
            attempts: r.get(7)?,
        })
    }

    fn into_job(self) -> Result<OutboxJob, StoreError> {
        let to = PhoneNumber::parse(&self.phone).map_err(|e| StoreError::Corrupt {
            what: "contact phone",
            detail: e.to_string(),
        })?;
        let media: Vec<Media> = match self.media {
            Some(json) => serde_json::from_str(&json).map_err(corrupt("outbound media"))?,
            None => Vec::new(),
        };
        let variables = match self.variables {
            Some(json) => serde_json::from_str(&json).map_err(corrupt("template variables"))?,
            None => BTreeMap::new(),
        };
        Ok(OutboxJob {
            id: self.id,
            to,
            kind: if self.kind == "template" {
                Kind::Template
            } else {
                Kind::Text
            },
            body: self.body,
            media_urls: media.into_iter().map(|m| m.url).collect(),
            content_sid: self.content_sid,
            variables,
            attempts: self.attempts,
        })
    }
}
