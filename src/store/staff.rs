//! What the staff relay remembers: which customer each alert or forwarded line
//! was about (a quoted reply goes there), who holds a waiting conversation,
//! and which conversation each staff member handles now.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use super::time::{from_sql, to_sql};
use super::{ContactId, Db, StoreError};

/// What a message to staff was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// A handoff alert.
    Alert,
    /// A customer's lines forwarded while they wait.
    Forward,
}

impl NoteKind {
    fn as_str(self) -> &'static str {
        match self {
            NoteKind::Alert => "alert",
            NoteKind::Forward => "forward",
        }
    }
}

/// A forward to one staff member that may still take more lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestForward {
    /// Its message id.
    pub id: i64,
    /// Still queued (its text can grow).
    pub queued: bool,
    /// When it was queued.
    pub created_at: Timestamp,
}

/// A customer waiting for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// The customer.
    pub contact: ContactId,
    /// Since when.
    pub since: Timestamp,
    /// The staff member holding it, if one does.
    pub held_by: Option<ContactId>,
}

impl Db<'_> {
    /// Notes that the outbound message `message` to a staff member is about `customer`.
    pub fn note_for_staff(&self, message: i64, customer: ContactId, kind: NoteKind) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT INTO staff_notes (message_id, customer_id, kind) VALUES (?1, ?2, ?3)")?
            .execute(params![message, customer.0, kind.as_str()])?;
        Ok(())
    }

    /// Holds a queued message until `until` (an alert while the shop is closed).
    pub fn hold_until(&self, message: i64, until: Timestamp) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE outbox SET next_attempt_at = ?2 WHERE message_id = ?1 AND state = 'queued'")?
            .execute(params![message, to_sql(until)])?;
        Ok(())
    }

    /// Drops the alerts about `customer` that still wait for the shop to open
    /// (never sent: the conversation went back to the bot, or a person
    /// answered it), recording `why`; how many.
    pub fn drop_held_alerts(&self, customer: ContactId, why: &str, now: Timestamp) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE outbox SET state = 'failed', error_code = 'dropped', error_message = ?3, updated_at = ?2
                 WHERE state = 'queued' AND attempts = 0 AND next_attempt_at > ?2
                   AND message_id IN (SELECT message_id FROM staff_notes WHERE customer_id = ?1 AND kind = 'alert')",
            )?
            .execute(params![customer.0, to_sql(now), why])?)
    }

    /// The customer a message to staff was about.
    pub fn customer_of_note(&self, message: i64) -> Result<Option<ContactId>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT customer_id FROM staff_notes WHERE message_id = ?1")?
            .query_row([message], |r| r.get(0))
            .optional()?
            .map(ContactId))
    }

    /// The newest forward of `customer`'s lines to the staff member `staff`.
    pub fn latest_forward(&self, staff: ContactId, customer: ContactId) -> Result<Option<LatestForward>, StoreError> {
        let row: Option<(i64, String, String)> = self
            .conn
            .prepare_cached(
                "SELECT n.message_id, o.state, m.created_at FROM staff_notes n
                 JOIN messages m ON m.id = n.message_id JOIN outbox o ON o.message_id = n.message_id
                 WHERE n.customer_id = ?2 AND n.kind = 'forward' AND m.contact_id = ?1
                 ORDER BY n.message_id DESC LIMIT 1",
            )?
            .query_row(params![staff.0, customer.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        row.map(|(id, state, created_at)| {
            Ok(LatestForward {
                id,
                queued: state == "queued",
                created_at: from_sql(&created_at)?,
            })
        })
        .transpose()
    }

    /// Adds a line to a queued text message; `false` if it is no longer queued.
    pub fn append_to_queued_text(&self, message: i64, line: &str) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "UPDATE messages SET body = body || char(10) || ?2
                 WHERE id = ?1 AND EXISTS (SELECT 1 FROM outbox WHERE message_id = ?1 AND state = 'queued')",
            )?
            .execute(params![message, line])?;
        Ok(n == 1)
    }

    /// A queued message goes no earlier than `at`.
    pub fn send_not_before(&self, message: i64, at: Timestamp) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE outbox SET next_attempt_at = ?2 WHERE message_id = ?1 AND state = 'queued'")?
            .execute(params![message, to_sql(at)])?;
        Ok(())
    }

    /// The staff member holding `customer`'s conversation.
    pub fn holder(&self, customer: ContactId) -> Result<Option<ContactId>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT held_by FROM sessions WHERE contact_id = ?1")?
            .query_row([customer.0], |r| r.get::<_, Option<i64>>(0))
            .optional()?
            .flatten()
            .map(ContactId))
    }

    /// Sets (or clears) who holds `customer`'s conversation.
    pub fn set_holder(&self, customer: ContactId, staff: Option<ContactId>) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE sessions SET held_by = ?2 WHERE contact_id = ?1")?
            .execute(params![customer.0, staff.map(|s| s.0)])?;
        Ok(())
    }

    /// The conversation `staff` handles now, and whether they were told.
    pub fn desk(&self, staff: ContactId) -> Result<(Option<ContactId>, bool), StoreError> {
        let row: Option<(Option<i64>, bool)> = self
            .conn
            .prepare_cached("SELECT customer_id, announced FROM staff_desks WHERE staff_id = ?1")?
            .query_row([staff.0], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(row.map_or((None, false), |(customer, announced)| {
            (customer.map(ContactId), announced)
        }))
    }

    /// `staff` handles `customer` now (`announced`: they were told).
    pub fn set_desk(&self, staff: ContactId, customer: Option<ContactId>, announced: bool) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO staff_desks (staff_id, customer_id, announced) VALUES (?1, ?2, ?3)
                 ON CONFLICT (staff_id) DO UPDATE SET customer_id = excluded.customer_id, announced = excluded.announced",
            )?
            .execute(params![staff.0, customer.map(|c| c.0), announced])?;
        Ok(())
    }

    /// The customers waiting for a person, longest first: at most `limit`, after the first `offset`.
    pub fn waiting_customers(&self, limit: usize, offset: usize) -> Result<Vec<Waiting>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT contact_id, waiting_since, held_by FROM sessions
             WHERE waiting_since IS NOT NULL ORDER BY waiting_since, contact_id LIMIT ?1 OFFSET ?2",
        )?;
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let rows = stmt.query_map([count(limit), count(offset)], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<i64>>(2)?))
        })?;
        rows.map(|row| {
            let (contact, since, held_by) = row?;
            Ok(Waiting {
                contact: ContactId(contact),
                since: from_sql(&since)?,
                held_by: held_by.map(ContactId),
            })
        })
        .collect()
    }

    /// How many conversations wait for a person.
    pub fn waiting_count(&self) -> Result<usize, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM sessions WHERE waiting_since IS NOT NULL")?
            .query_row([], |r| r.get(0))?;
        Ok(usize::try_from(n).unwrap_or_default())
    }
}
