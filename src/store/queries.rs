//! The queries: contacts, sessions, messages, submissions and orders.
//!
//! Every method runs on a [`Db`], i.e. inside a transaction the caller opened
//! with [`Store::write`](super::Store::write) or friends.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use super::decode::{corrupt, to_json};
use super::time::{from_sql, to_sql};
use super::{Db, StoreError};
use crate::engine::render::SubmissionSummary;
use crate::engine::{Answer, Session, State};
use crate::message::{Channel, ContactRef, Inbound, Reply};
use crate::phone::PhoneNumber;

/// A contact's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactId(pub i64);

/// A message's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageId(pub i64);

/// A contact's id, profile name and user id.
/// A contact's id, profile name, user id and picked language.
type ContactRow = (i64, Option<String>, Option<String>, Option<String>);

impl Db<'_> {
    /// The reply stored for an inbound message key, if that message was handled.
    pub fn stored_reply(&self, channel: Channel, key: &str) -> Result<Option<Reply>, StoreError> {
        let reply: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT reply FROM messages WHERE sid = ?1 AND channel = ?2 AND direction = 'inbound'")?
            .query_row([key, channel.as_str()], |r| r.get(0))
            .optional()?;
        match reply {
            Some(Some(json)) => Ok(Some(serde_json::from_str(&json).map_err(corrupt("stored reply"))?)),
            Some(None) => Ok(Some(Reply::default())),
            None => Ok(None),
        }
    }

    /// Finds or creates the contact `who` names (an inbound message's sender or
    /// an outbound message's recipient): by number when there is one, else by
    /// user id; an address it did not have yet is added. Its profile name is
    /// refreshed when WhatsApp sends a new one (`None` keeps it). (When the
    /// customer last wrote, the start of WhatsApp's 24-hour window, is their
    /// newest inbound message: [`Db::contact_facts`].)
    ///
    /// A lookup and a plain `UPDATE` or `INSERT` rather than one upsert with
    /// `RETURNING`: SQLite runs `RETURNING` like a trigger, which gives the
    /// statement a statement journal (a copy of every page it touches), and this
    /// runs for every message.
    pub fn find_or_add_contact(
        &self,
        who: &ContactRef,
        profile_name: Option<&str>,
        now: Timestamp,
    ) -> Result<ContactId, StoreError> {
        Ok(self.find_or_add_contact_with_language(who, profile_name, now)?.0)
    }

    /// [`Db::find_or_add_contact`], with the language the contact picked (read
    /// in the same lookup, so a menu in several languages costs no query more).
    pub fn find_or_add_contact_with_language(
        &self,
        who: &ContactRef,
        profile_name: Option<&str>,
        now: Timestamp,
    ) -> Result<(ContactId, Option<String>), StoreError> {
        if who.phone.is_none() && who.user_id.is_none() {
            return Err(StoreError::Invalid(
                "a contact needs a phone number or a user id".into(),
            ));
        }
        let Some((id, stored_name, stored_user_id, language)) = self.contact_row(who)? else {
            self.conn
                .prepare_cached(
                    "INSERT INTO contacts (phone, user_id, profile_name, created_at) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![
                    who.phone.as_ref().map(PhoneNumber::as_str),
                    who.user_id,
                    profile_name,
                    to_sql(now)
                ])?;
            return Ok((ContactId(self.conn.last_insert_rowid()), None));
        };
        if profile_name.is_some() && profile_name != stored_name.as_deref() {
            self.conn
                .prepare_cached("UPDATE contacts SET profile_name = ?2 WHERE id = ?1")?
                .execute(params![id, profile_name])?;
        }
        if let (Some(user_id), None) = (&who.user_id, &stored_user_id) {
            // Learnt with the number; kept unless another contact already has it.
            self.conn
                .prepare_cached(
                    "UPDATE contacts SET user_id = ?2 WHERE id = ?1
                     AND NOT EXISTS (SELECT 1 FROM contacts WHERE user_id = ?2)",
                )?
                .execute(params![id, user_id])?;
        }
        Ok((ContactId(id), language))
    }

    /// The contact `who` names: by number when it has one, else by user id.
    fn contact_row(&self, who: &ContactRef) -> Result<Option<ContactRow>, StoreError> {
        let (sql, value) = match (&who.phone, &who.user_id) {
            (Some(phone), _) => (
                "SELECT id, profile_name, user_id, language FROM contacts WHERE phone = ?1",
                phone.as_str(),
            ),
            (None, Some(id)) => (
                "SELECT id, profile_name, user_id, language FROM contacts WHERE user_id = ?1",
                id.as_str(),
            ),
            (None, None) => return Ok(None),
        };
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row([value], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?)
    }

    /// The contact `who` names, if it exists (no row is added).
    pub fn find_contact(&self, who: &ContactRef) -> Result<Option<ContactId>, StoreError> {
        Ok(self.contact_row(who)?.map(|(id, ..)| ContactId(id)))
    }

    /// The conversation of a contact, or `None` if it has none (or an unreadable one).
    pub fn session(&self, contact: ContactId) -> Result<Option<Session>, StoreError> {
        let row: Option<(String, String)> = self
            .conn
            .prepare_cached("SELECT state, updated_at FROM sessions WHERE contact_id = ?1")?
            .query_row([contact.0], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((state, updated_at)) = row else {
            return Ok(None);
        };
        match serde_json::from_str::<State>(&state) {
            Ok(state) => Ok(Some(Session {
                state,
                updated_at: from_sql(&updated_at)?,
            })),
            Err(e) => {
                log::warn!(target: "store", "contact {}: unreadable session state ({e}); starting over", contact.0);
                Ok(None)
            }
        }
    }

    /// Stores a contact's conversation state (an `UPDATE`, or an `INSERT` for
    /// the first; see [`Db::find_or_add_contact`] on why not an upsert).
    pub fn save_session(&self, contact: ContactId, state: &State, now: Timestamp) -> Result<(), StoreError> {
        let values = params![contact.0, to_json(state), to_sql(now)];
        let updated = self
            .conn
            .prepare_cached("UPDATE sessions SET state = ?2, updated_at = ?3 WHERE contact_id = ?1")?
            .execute(values)?;
        if updated == 0 {
            self.conn
                .prepare_cached("INSERT INTO sessions (contact_id, state, updated_at) VALUES (?1, ?2, ?3)")?
                .execute(values)?;
        }
        Ok(())
    }

    /// Marks a contact's conversation as waiting for staff (kept if already waiting).
    pub fn mark_waiting_for_staff(&self, contact: ContactId, now: Timestamp) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE sessions SET waiting_since = coalesce(waiting_since, ?2) WHERE contact_id = ?1")?
            .execute(params![contact.0, to_sql(now)])?;
        Ok(())
    }

    /// Since when a contact has been waiting for staff, if they are.
    pub fn waiting_since(&self, contact: ContactId) -> Result<Option<Timestamp>, StoreError> {
        let since: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT waiting_since FROM sessions WHERE contact_id = ?1")?
            .query_row([contact.0], |r| r.get(0))
            .optional()?;
        since.flatten().map(|s| from_sql(&s)).transpose()
    }

    /// Stores an inbound message (its reply comes later, with [`Db::set_reply`]).
    pub fn insert_inbound(
        &self,
        m: &Inbound,
        contact: ContactId,
        received_at: Timestamp,
    ) -> Result<MessageId, StoreError> {
        self.insert_message_in(m, contact, received_at, None)
    }

    /// Stores an inbound message with the bot's reply to it, in one row write
    /// (an `UPDATE` of the row just inserted rewrote it: about 12,000
    /// instructions a message).
    pub fn insert_answered(
        &self,
        m: &Inbound,
        contact: ContactId,
        received_at: Timestamp,
        reply: &Reply,
    ) -> Result<MessageId, StoreError> {
        self.insert_message_in(m, contact, received_at, Some(to_json(reply)))
    }

    fn insert_message_in(
        &self,
        m: &Inbound,
        contact: ContactId,
        received_at: Timestamp,
        reply: Option<String>,
    ) -> Result<MessageId, StoreError> {
        let media = (!m.media.is_empty()).then(|| to_json(&m.media));
        self.conn
            .prepare_cached(
                "INSERT INTO messages (channel, sid, direction, contact_id, from_addr, to_addr, body, media, params, reply, status, created_at)
                 VALUES (?1, ?2, 'inbound', ?3, ?4, ?5, ?6, ?7, ?8, ?10, 'received', ?9)",
            )?
            .execute(params![
                m.channel.as_str(),
                m.key,
                contact.0,
                m.from_addr,
                m.to_addr,
                m.text,
                media,
                m.raw,
                to_sql(received_at),
                reply
            ])?;
        Ok(MessageId(self.conn.last_insert_rowid()))
    }

    /// Records the bot's reply to an inbound message.
    pub fn set_reply(&self, message: MessageId, reply: &Reply) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE messages SET reply = ?2 WHERE id = ?1")?
            .execute(params![message.0, to_json(reply)])?;
        Ok(())
    }

    /// Allocates the next submission ID for `prefix` in the second `stamp`
    /// (`YYYYMMDDHHMMSS`): `DEF-…` for the first, then `DEF-…-2`, `DEF-…-3`.
    pub fn next_submission_id(&self, prefix: &str, stamp: &str) -> Result<String, StoreError> {
        let bumped = self
            .conn
            .prepare_cached("UPDATE submission_counters SET last = last + 1 WHERE prefix = ?1 AND stamp = ?2")?
            .execute([prefix, stamp])?;
        let n: i64 = if bumped == 0 {
            self.conn
                .prepare_cached("INSERT INTO submission_counters (prefix, stamp, last) VALUES (?1, ?2, 1)")?
                .execute([prefix, stamp])?;
            1
        } else {
            self.conn
                .prepare_cached("SELECT last FROM submission_counters WHERE prefix = ?1 AND stamp = ?2")?
                .query_row([prefix, stamp], |r| r.get(0))?
        };
        Ok(match n {
            1 => format!("{prefix}-{stamp}"),
            n => format!("{prefix}-{stamp}-{n}"),
        })
    }

    /// Stores a submission.
    #[allow(clippy::too_many_arguments)]
    pub fn insert_submission(
        &self,
        public_id: &str,
        form: &str,
        contact: ContactId,
        answers: &[Answer],
        preview: &str,
        message: Option<MessageId>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO submissions (public_id, form, contact_id, answers, preview, message_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                public_id,
                form,
                contact.0,
                to_json(&answers),
                preview,
                message.map(|m| m.0),
                to_sql(now)
            ])?;
        Ok(())
    }

    /// A contact's newest submissions of one form, newest first.
    pub fn recent_submissions(
        &self,
        contact: ContactId,
        form: &str,
        limit: usize,
    ) -> Result<Vec<SubmissionSummary>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT public_id, created_at, preview, status, status_note FROM submissions
             WHERE contact_id = ?1 AND form = ?2 ORDER BY id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![contact.0, form, limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (public_id, created_at, preview, status, note) = row?;
            Ok(SubmissionSummary {
                public_id,
                created_at: from_sql(&created_at)?,
                preview,
                status: super::decode::status_from_sql(&status)?,
                note,
            })
        })
        .collect()
    }
}
