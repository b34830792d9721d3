//! The owner's inbox reads: the conversations, those waiting for a person
//! first, then the most recent; one contact with its conversation; and the
//! owner's read mark, for unread counts.
//!
//! The list is one query: each contact's newest message is found through the
//! `messages_by_contact` index (a seek per contact, no scan of the messages),
//! and the unread counts are computed for the rows of the page only.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension, Row};

use super::decode::{contact_ref, parse_channel};
use super::time::from_sql;
use super::{ContactId, Db, MessageKey, MessageRecord, StoreError};
use crate::message::{Channel, ContactRef, Direction};
use crate::phone::PhoneNumber;

/// One row of the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRow {
    /// The contact.
    pub contact: ContactId,
    /// Who it is.
    pub who: ContactRef,
    /// Their WhatsApp profile name.
    pub name: Option<String>,
    /// Since when they wait for a person, if they do.
    pub waiting_since: Option<Timestamp>,
    /// The channel of the newest message.
    pub channel: Channel,
    /// Which way the newest message went.
    pub direction: Direction,
    /// Its text (empty for media only).
    pub body: String,
    /// It carries media.
    pub has_media: bool,
    /// When.
    pub at: Timestamp,
    /// Inbound messages newer than the owner's read mark.
    pub unread: u32,
}

/// The inbox at a glance, for its live updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct InboxPulse {
    /// Conversations with unread customer messages.
    pub unread_conversations: i64,
    /// The newest message's id (anything newer is news).
    pub latest: i64,
    /// Conversations waiting for a person.
    pub waiting: i64,
}

/// A contact as the inbox shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactView {
    /// Its id.
    pub id: ContactId,
    /// Who it is.
    pub who: ContactRef,
    /// Their WhatsApp profile name.
    pub name: Option<String>,
    /// Since when they wait for a person, if they do.
    pub waiting_since: Option<Timestamp>,
    /// The language they picked (or the owner set), if any.
    pub language: Option<String>,
}

const INBOX_SQL: &str = "
WITH latest AS (
    SELECT c.id AS contact,
           (SELECT max(m.id) FROM messages m WHERE m.contact_id = c.id) AS last_id,
           s.waiting_since AS waiting
    FROM contacts c LEFT JOIN sessions s ON s.contact_id = c.id
), page AS (
    SELECT contact, last_id, waiting FROM latest WHERE last_id IS NOT NULL
    ORDER BY waiting IS NULL, waiting, last_id DESC LIMIT ?1 OFFSET ?2
)
SELECT p.contact, c.phone, c.user_id, c.profile_name, p.waiting,
       m.channel, m.direction, coalesce(m.body, ''), m.media IS NOT NULL, m.created_at,
       (SELECT count(*) FROM messages u
        WHERE u.contact_id = p.contact AND u.id > c.read_up_to AND u.direction = 'inbound')
FROM page p JOIN contacts c ON c.id = p.contact JOIN messages m ON m.id = p.last_id
ORDER BY p.waiting IS NULL, p.waiting, p.last_id DESC";

/// The inbox query, for a test that reads its plan.
#[cfg(test)]
pub(super) const INBOX_SQL_FOR_PLAN: &str = INBOX_SQL;

impl Db<'_> {
    /// A page of the inbox: `limit` conversations after the first `offset`.
    pub fn inbox(&self, limit: usize, offset: usize) -> Result<Vec<InboxRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(INBOX_SQL)?;
        let rows = stmt.query_map(params![limit as i64, offset as i64], read_inbox_row)?;
        rows.map(|row| row?.decode()).collect()
    }

    /// What the inbox's live updates need: conversations with unread
    /// messages, the newest message's id (of `conversation`'s messages when
    /// one is named), and how many wait for a person. An index seek per
    /// contact, cheap enough to ask every few seconds.
    pub fn inbox_pulse(&self, conversation: Option<ContactId>) -> Result<InboxPulse, StoreError> {
        Ok(self.conn.prepare_cached(
            "SELECT
                (SELECT count(*) FROM contacts c WHERE EXISTS (
                    SELECT 1 FROM messages u WHERE u.contact_id = c.id AND u.id > c.read_up_to AND u.direction = 'inbound')),
                CASE WHEN ?1 IS NULL THEN (SELECT coalesce(max(id), 0) FROM messages)
                     ELSE (SELECT coalesce(max(id), 0) FROM messages WHERE contact_id = ?1) END,
                (SELECT count(*) FROM sessions WHERE waiting_since IS NOT NULL)",
        )?
        .query_row([conversation.map(|c| c.0)], |r| {
            Ok(InboxPulse {
                unread_conversations: r.get(0)?,
                latest: r.get(1)?,
                waiting: r.get(2)?,
            })
        })?)
    }

    /// How many conversations the inbox has (for its pages).
    pub fn inbox_size(&self) -> Result<usize, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT count(DISTINCT contact_id) FROM messages WHERE contact_id IS NOT NULL")?
            .query_row([], |r| r.get(0))?;
        Ok(n.max(0) as usize)
    }

    /// The contact a key names: its id (`42`), or an address (`+27…`, a user id).
    pub fn contact_by_key(&self, key: &str) -> Result<Option<ContactView>, StoreError> {
        let by = |sql: &str, value: &dyn rusqlite::ToSql| -> Result<Option<ContactView>, StoreError> {
            let row = self
                .conn
                .prepare_cached(sql)?
                .query_row([value], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                    ))
                })
                .optional()?;
            row.map(|(id, phone, user_id, name, waiting, language)| {
                Ok(ContactView {
                    id: ContactId(id),
                    who: contact_ref(phone, user_id)?,
                    name,
                    waiting_since: waiting.as_deref().map(from_sql).transpose()?,
                    language,
                })
            })
            .transpose()
        };
        const SELECT: &str = "SELECT c.id, c.phone, c.user_id, c.profile_name, s.waiting_since, c.language
             FROM contacts c LEFT JOIN sessions s ON s.contact_id = c.id WHERE ";
        // All digits: an id (Rust would also parse "+27…" as a number).
        if let Some(id) = key
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| key.parse::<i64>().ok())
            .flatten()
        {
            return by(&format!("{SELECT}c.id = ?1"), &id);
        }
        if let Ok(phone) = PhoneNumber::parse(key) {
            return by(&format!("{SELECT}c.phone = ?1"), &phone.as_str());
        }
        by(&format!("{SELECT}c.user_id = ?1"), &key)
    }

    /// A contact's newest `limit` messages, oldest first, with their statuses.
    pub fn contact_messages(&self, contact: ContactId, limit: usize) -> Result<Vec<MessageRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM messages WHERE contact_id = ?1 ORDER BY id DESC LIMIT ?2")?;
        let ids: Vec<i64> = stmt
            .query_map(params![contact.0, limit as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        self.records(ids.into_iter().rev())
    }

    /// A contact's messages after the message `after`, oldest first, at most
    /// `limit`, with their statuses (the demo page's phones catching up).
    pub fn contact_messages_after(
        &self,
        contact: ContactId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM messages WHERE contact_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3")?;
        let ids: Vec<i64> = stmt
            .query_map(params![contact.0, after, limit as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        self.records(ids)
    }

    /// The messages `ids` name, in that order.
    fn records(&self, ids: impl IntoIterator<Item = i64>) -> Result<Vec<MessageRecord>, StoreError> {
        let mut records = Vec::new();
        for id in ids {
            records.extend(self.message(&MessageKey::Id(id))?);
        }
        Ok(records)
    }

    /// The owner has seen a contact's messages up to `message` (never moves back).
    pub fn mark_read(&self, contact: ContactId, message: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE contacts SET read_up_to = max(read_up_to, ?2) WHERE id = ?1")?
            .execute(params![contact.0, message])?;
        Ok(())
    }

    /// The owner handed the conversation back to the bot: no longer waiting.
    pub fn clear_waiting(&self, contact: ContactId) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE sessions SET waiting_since = NULL WHERE contact_id = ?1")?
            .execute([contact.0])?;
        Ok(())
    }
}

/// The columns of one inbox row, before decoding.
struct RawInboxRow {
    contact: i64,
    phone: Option<String>,
    user_id: Option<String>,
    name: Option<String>,
    waiting: Option<String>,
    channel: String,
    direction: String,
    body: String,
    has_media: bool,
    at: String,
    unread: i64,
}

fn read_inbox_row(r: &Row<'_>) -> rusqlite::Result<RawInboxRow> {
    Ok(RawInboxRow {
        contact: r.get(0)?,
        phone: r.get(1)?,
        user_id: r.get(2)?,
        name: r.get(3)?,
        waiting: r.get(4)?,
        channel: r.get(5)?,
        direction: r.get(6)?,
        body: r.get(7)?,
        has_media: r.get(8)?,
        at: r.get(9)?,
        unread: r.get(10)?,
    })
}

impl RawInboxRow {
    fn decode(self) -> Result<InboxRow, StoreError> {
        Ok(InboxRow {
            contact: ContactId(self.contact),
            who: contact_ref(self.phone, self.user_id)?,
            name: self.name,
            waiting_since: self.waiting.as_deref().map(from_sql).transpose()?,
            channel: parse_channel(&self.channel)?,
            direction: Direction::parse(&self.direction).ok_or_else(|| StoreError::Corrupt {
                what: "message direction",
                detail: self.direction.clone(),
            })?,
            body: self.body,
            has_media: self.has_media,
            at: from_sql(&self.at)?,
            unread: self.unread.clamp(0, i64::from(u32::MAX)) as u32,
        })
    }
}
