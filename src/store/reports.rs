//! Read-only views for the admin API and exports: a contact's conversation and
//! the submissions of a form.

use jiff::Timestamp;
use rusqlite::params;

use super::decode::{corrupt, parse_channel, status_from_sql};
use super::time::{from_sql, to_sql};
use super::{ContactId, Db, MessageRecord, StoreError};
use crate::engine::render::SubmissionStatus;
use crate::engine::Answer;
use crate::message::{Channel, ContactRef};

/// A submission with who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionRecord {
    /// `DEF-20250119143022`.
    pub public_id: String,
    /// The form node's name.
    pub form: String,
    /// The customer: E.164, or the user id of a contact without a number.
    pub phone: String,
    /// Their WhatsApp profile name.
    pub profile_name: Option<String>,
    /// Every answer.
    pub answers: Vec<Answer>,
    /// When it was submitted.
    pub created_at: Timestamp,
    /// Where it is, as the owner set it.
    pub status: SubmissionStatus,
    /// The owner's note for the customer.
    pub status_note: Option<String>,
    /// When the owner last set the status (`None`: never, it is new).
    pub status_at: Option<Timestamp>,
    /// The channel of the message that completed it (its photos are that
    /// channel's to fetch); `None` where that message is gone.
    pub channel: Option<Channel>,
}

impl SubmissionRecord {
    /// As the admin API and `shopbot export submissions --format json` show it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.public_id,
            "form": self.form,
            "from": self.phone,
            "profile_name": self.profile_name,
            "answers": self.answers,
            "created_at": self.created_at.to_string(),
            "status": self.status.as_str(),
            "status_note": self.status_note,
            "status_at": self.status_at.map(|at| at.to_string()),
        })
    }
}

impl Db<'_> {
    /// The newest `limit` messages with a contact, both directions, oldest first.
    pub fn conversation(&self, who: &ContactRef, limit: usize) -> Result<Vec<MessageRecord>, StoreError> {
        match self.find_contact(who)? {
            Some(contact) => self.contact_messages(contact, limit),
            None => Ok(Vec::new()),
        }
    }

    /// Submissions of a form (by node name or ID prefix, e.g. `DEF`), oldest
    /// first, created at or after `since`; every form when `form` is `None`.
    pub fn submissions(
        &self,
        form: Option<&str>,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<SubmissionRecord>, StoreError> {
        self.submissions_in_order(form, since, limit, "ASC")
    }

    /// [`Db::submissions`], the newest `limit` of them, newest first (what
    /// the owner's page shows).
    pub fn newest_submissions(
        &self,
        form: Option<&str>,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<SubmissionRecord>, StoreError> {
        self.submissions_in_order(form, since, limit, "DESC")
    }

    fn submissions_in_order(
        &self,
        form: Option<&str>,
        since: Option<Timestamp>,
        limit: usize,
        order: &'static str,
    ) -> Result<Vec<SubmissionRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{SUBMISSION_COLUMNS}
             WHERE (?1 IS NULL OR s.form = ?1 OR s.public_id LIKE ?4 ESCAPE '\\')
               AND (?2 IS NULL OR s.created_at >= ?2)
             ORDER BY s.id {order} LIMIT ?3"
        ))?;
        // A form's IDs start with its prefix: `%` and `_` in a filter are text.
        let id_pattern = form.map(|f| format!("{}-%", super::escape_like(f)));
        let rows = stmt.query_map(
            params![form, since.map(to_sql), limit as i64, id_pattern],
            submission_row,
        )?;
        rows.map(|row| row?).collect()
    }

    /// The submission with this public ID (`DEF-…`), if any.
    pub fn submission(&self, public_id: &str) -> Result<Option<SubmissionRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{SUBMISSION_COLUMNS} WHERE s.public_id = ?1"))?;
        let mut rows = stmt.query_map([public_id], submission_row)?;
        rows.next().transpose()?.transpose()
    }

    /// A contact's newest `limit` submissions, newest first.
    pub fn contact_submissions(&self, contact: ContactId, limit: usize) -> Result<Vec<SubmissionRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{SUBMISSION_COLUMNS} WHERE s.contact_id = ?1 ORDER BY s.id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![contact.0, limit as i64], submission_row)?;
        rows.map(|row| row?).collect()
    }
}

/// What [`submission_row`] reads.
const SUBMISSION_COLUMNS: &str =
    "SELECT s.public_id, s.form, coalesce(c.phone, c.user_id), c.profile_name, s.answers, s.created_at,
            s.status, s.status_note, s.status_at, m.channel
     FROM submissions s JOIN contacts c ON c.id = s.contact_id
     LEFT JOIN messages m ON m.id = s.message_id";

/// One row of [`SUBMISSION_COLUMNS`]; the outer error is SQLite's, the inner a
/// corrupt row's.
fn submission_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<SubmissionRecord, StoreError>> {
    let answers: String = r.get(4)?;
    let created_at: String = r.get(5)?;
    let status: String = r.get(6)?;
    let status_at: Option<String> = r.get(8)?;
    let channel: Option<String> = r.get(9)?;
    let record = (|| {
        Ok(SubmissionRecord {
            public_id: r.get(0)?,
            form: r.get(1)?,
            phone: r.get(2)?,
            profile_name: r.get(3)?,
            answers: serde_json::from_str(&answers).map_err(corrupt("submission answers"))?,
            created_at: from_sql(&created_at)?,
            status: status_from_sql(&status)?,
            status_note: r.get(7)?,
            status_at: status_at.as_deref().map(from_sql).transpose()?,
            channel: channel.as_deref().map(parse_channel).transpose()?,
        })
    })();
    Ok(record)
}
