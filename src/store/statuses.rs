//! Status callbacks and the message record the admin API shows: a stored
//! message (or only the callbacks, for a SID we never stored) with every status
//! event and its current status by precedence.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension, Row};

use super::decode::{corrupt, parse_channel};
use super::time::{from_sql, to_sql};
use super::{Db, OutboxEntry, StoreError};
use crate::message::{Channel, Direction, Media, MessageStatus, ReportedStatus, StatusEvent};

/// Whether a status callback was new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Stored.
    New,
    /// The same SID, status and error code were stored before; ignored.
    Duplicate,
}

/// How the admin API names a message: our row id or a provider's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageKey {
    /// `messages.id`.
    Id(i64),
    /// A provider's key: a Twilio `SM…`/`MM…` SID or a Meta `wamid.…`.
    Sid(String),
}

impl MessageKey {
    /// All digits: an id; anything else: a provider's key.
    pub fn parse(key: &str) -> MessageKey {
        match key.parse::<i64>() {
            Ok(id) if key.bytes().all(|b| b.is_ascii_digit()) => MessageKey::Id(id),
            _ => MessageKey::Sid(key.to_string()),
        }
    }
}

/// One stored status event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// The status reported, on the neutral ladder (or the provider's word).
    pub status: ReportedStatus,
    /// `ErrorCode`.
    pub error_code: Option<String>,
    /// `ErrorMessage`.
    pub error_message: Option<String>,
    /// When it arrived.
    pub received_at: Timestamp,
}

/// A message with its status history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// Our id; `None` when only status callbacks are known for the key.
    pub id: Option<i64>,
    /// The channel it went through.
    pub channel: Channel,
    /// The provider's key, once there is one.
    pub sid: Option<String>,
    /// Which way it went.
    pub direction: Direction,
    /// `From` as stored (`whatsapp:+…`).
    pub from_addr: Option<String>,
    /// `To` as stored.
    pub to_addr: Option<String>,
    /// The text.
    pub body: Option<String>,
    /// Attached media.
    pub media: Vec<Media>,
    /// The status we set ourselves (`received`, `queued`, …).
    pub base_status: Option<ReportedStatus>,
    /// For inbound messages: the bot's reply.
    pub reply: Option<crate::message::Reply>,
    /// When it was stored (or the first callback arrived).
    pub created_at: Timestamp,
    /// Status callbacks, in arrival order.
    pub events: Vec<EventRecord>,
    /// For outbound messages: the outbox's state.
    pub outbox: Option<OutboxEntry>,
    /// Who wrote an outbound message: an inbox user's name, or a staff
    /// member's who answered from their phone (`None`: the bot or the API).
    pub sent_by: Option<String>,
}

impl MessageRecord {
    /// The current status: the highest by precedence of the base status and the events.
    pub fn status(&self) -> Option<&ReportedStatus> {
        MessageStatus::current(self.base_status.as_ref(), self.events.iter().map(|e| &e.status))
    }

    /// The newest error, if any: the code and explanation of the newest
    /// status event with a code (a provider's word after sending), else the
    /// outbox's (a refusal, or the provider's answer to the send).
    pub fn error(&self) -> Option<(String, Option<String>)> {
        if let Some(event) = self.events.iter().rev().find(|e| e.error_code.is_some()) {
            return Some((event.error_code.clone()?, event.error_message.clone()));
        }
        let outbox = self.outbox.as_ref()?;
        Some((outbox.error_code.clone()?, outbox.error_message.clone()))
    }
}

impl Db<'_> {
    /// Stores a status event unless the same one was stored before.
    pub fn record_status(&self, event: &StatusEvent, now: Timestamp) -> Result<Recorded, StoreError> {
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO status_events (channel, sid, status, error_code, error_message, to_addr, from_addr, params, received_at, closes_window)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                event.channel.as_str(),
                event.key,
                event.status.as_str(),
                event.error_code,
                event.error_message,
                event.to_addr,
                event.from_addr,
                event.raw,
                to_sql(now),
                event.window_closed
            ])?;
        Ok(if inserted == 0 {
            Recorded::Duplicate
        } else {
            Recorded::New
        })
    }

    /// Whether a stored status event for this key said the window is closed.
    pub fn window_closed_reported(&self, channel: Channel, sid: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT 1 FROM status_events WHERE sid = ?1 AND channel = ?2 AND closes_window = 1 LIMIT 1",
            )?
            .query_row([sid, channel.as_str()], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// The message `key` names with its events; for a SID we never stored but
    /// got callbacks for, a record made from those callbacks.
    pub fn message(&self, key: &MessageKey) -> Result<Option<MessageRecord>, StoreError> {
        let stored = match key {
            MessageKey::Id(id) => self.stored_message("id = ?1", id)?,
            MessageKey::Sid(sid) => self.stored_message("sid = ?1 ORDER BY id LIMIT 1", sid)?,
        };
        let Some(mut record) = stored.or(match key {
            MessageKey::Sid(sid) => self.callback_only_message(sid)?,
            MessageKey::Id(_) => None,
        }) else {
            return Ok(None);
        };
        if let Some(sid) = &record.sid {
            record.events = self.status_events(record.channel, sid)?;
        }
        if let (Some(id), Direction::Outbound) = (record.id, record.direction) {
            record.outbox = self.outbox_entry(id)?;
        }
        Ok(Some(record))
    }

    fn stored_message(&self, filter: &str, value: &dyn rusqlite::ToSql) -> Result<Option<MessageRecord>, StoreError> {
        let sql = format!(
            "SELECT id, sid, direction, from_addr, to_addr, body, media, status, reply, created_at, channel, sent_by FROM messages WHERE {filter}"
        );
        let row = self
            .conn
            .prepare_cached(&sql)?
            .query_row([value], StoredRow::read)
            .optional()?;
        row.map(StoredRow::into_record).transpose()
    }

    fn callback_only_message(&self, sid: &str) -> Result<Option<MessageRecord>, StoreError> {
        let first: Option<(Option<String>, Option<String>, String, String)> = self
            .conn
            .prepare_cached(
                "SELECT from_addr, to_addr, received_at, channel FROM status_events WHERE sid = ?1 ORDER BY id LIMIT 1",
            )?
            .query_row([sid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let Some((from_addr, to_addr, received_at, channel)) = first else {
            return Ok(None);
        };
        Ok(Some(MessageRecord {
            id: None,
            channel: parse_channel(&channel)?,
            sid: Some(sid.to_string()),
            // Providers report statuses only for messages sent through their API.
            direction: Direction::Outbound,
            from_addr,
            to_addr,
            body: None,
            media: Vec::new(),
            base_status: None,
            reply: None,
            created_at: from_sql(&received_at)?,
            events: Vec::new(),
            outbox: None,
            sent_by: None,
        }))
    }

    /// Every status event of a message key on a channel, in arrival order.
    pub fn status_events(&self, channel: Channel, sid: &str) -> Result<Vec<EventRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT status, error_code, error_message, received_at FROM status_events
             WHERE sid = ?1 AND channel = ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map([sid, channel.as_str()], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?))
        })?;
        rows.map(|row| {
            let (status, error_code, error_message, received_at) = row?;
            Ok(EventRecord {
                status: ReportedStatus::from_word(&status),
                error_code,
                error_message,
                received_at: from_sql(&received_at)?,
            })
        })
        .collect()
    }
}

/// The columns of a `messages` row, before JSON and timestamps are decoded.
struct StoredRow {
    id: i64,
    sid: Option<String>,
    direction: String,
    from_addr: String,
    to_addr: String,
    body: Option<String>,
    media: Option<String>,
    status: Option<String>,
    reply: Option<String>,
    created_at: String,
    channel: String,
    sent_by: Option<String>,
}

impl StoredRow {
    fn read(r: &Row<'_>) -> rusqlite::Result<StoredRow> {
        Ok(StoredRow {
            id: r.get(0)?,
            sid: r.get(1)?,
            direction: r.get(2)?,
            from_addr: r.get(3)?,
            to_addr: r.get(4)?,
            body: r.get(5)?,
            media: r.get(6)?,
            status: r.get(7)?,
            reply: r.get(8)?,
            created_at: r.get(9)?,
            channel: r.get(10)?,
            sent_by: r.get(11)?,
        })
    }

    fn into_record(self) -> Result<MessageRecord, StoreError> {
        let media = match self.media {
            Some(json) => serde_json::from_str(&json).map_err(corrupt("message media"))?,
            None => Vec::new(),
        };
        let reply = self
            .reply
            .map(|json| serde_json::from_str(&json).map_err(corrupt("stored reply")))
            .transpose()?;
        Ok(MessageRecord {
            id: Some(self.id),
            channel: parse_channel(&self.channel)?,
            sid: self.sid,
            direction: Direction::parse(&self.direction).ok_or_else(|| StoreError::Corrupt {
                what: "message direction",
                detail: format!("{:?} in message {}", self.direction, self.id),
            })?,
            from_addr: Some(self.from_addr),
            to_addr: Some(self.to_addr),
            body: self.body,
            media,
            base_status: self.status.as_deref().map(ReportedStatus::from_word),
            reply,
            created_at: from_sql(&self.created_at)?,
            events: Vec::new(),
            outbox: None,
            sent_by: self.sent_by,
        })
    }
}
