//! A submission's life: the status the owner sets in the inbox (new, in
//! progress, done), its optional note for the customer, and when it was set.
//! The customer's history and the admin API read them with the submission
//! (`queries.rs`, `reports.rs`).

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use super::decode::{contact_ref, status_from_sql};
use super::time::to_sql;
use super::{ContactId, Db, StoreError};
use crate::engine::render::SubmissionStatus;
use crate::message::ContactRef;

/// A status the owner set, and what it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSet {
    /// The submission's public ID.
    pub public_id: String,
    /// The customer who submitted it.
    pub contact: ContactId,
    /// Their addresses.
    pub customer: ContactRef,
    /// The status now.
    pub status: SubmissionStatus,
    /// The note now.
    pub note: Option<String>,
    /// The status is another than before (what the customer is told about).
    pub status_changed: bool,
    /// Anything changed (the status or the note).
    pub changed: bool,
}

/// A submission's stored status, note and customer.
type StatusRow = (i64, String, Option<String>, Option<String>, Option<String>);

impl Db<'_> {
    /// Sets the status and note of the submission `public_id` (an empty note
    /// is none); `None` if there is no such submission. Setting what is
    /// already there changes nothing, not even the time it was set.
    pub fn set_submission_status(
        &self,
        public_id: &str,
        status: SubmissionStatus,
        note: &str,
        now: Timestamp,
    ) -> Result<Option<StatusSet>, StoreError> {
        let row: Option<StatusRow> = self
            .conn
            .prepare_cached(
                "SELECT s.contact_id, s.status, s.status_note, c.phone, c.user_id
                 FROM submissions s JOIN contacts c ON c.id = s.contact_id WHERE s.public_id = ?1",
            )?
            .query_row([public_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        let Some((contact, before, before_note, phone, user_id)) = row else {
            return Ok(None);
        };
        let note = Some(note.trim()).filter(|n| !n.is_empty());
        let status_changed = status_from_sql(&before)? != status;
        let changed = status_changed || before_note.as_deref() != note;
        if changed {
            self.conn
                .prepare_cached(
                    "UPDATE submissions SET status = ?2, status_note = ?3, status_at = ?4 WHERE public_id = ?1",
                )?
                .execute(params![public_id, status.as_str(), note, to_sql(now)])?;
        }
        Ok(Some(StatusSet {
            public_id: public_id.to_string(),
            contact: ContactId(contact),
            customer: contact_ref(phone, user_id)?,
            status,
            note: note.map(String::from),
            status_changed,
            changed,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone::PhoneNumber;
    use crate::store::Store;

    #[test]
    fn a_status_is_new_until_set_and_setting_the_same_again_changes_nothing() {
        let mut store = Store::open_in_memory().unwrap();
        let who = ContactRef::phone(PhoneNumber::parse("+27821234567").unwrap());
        let (first, later) = (
            Timestamp::from_second(1_000).unwrap(),
            Timestamp::from_second(2_000).unwrap(),
        );
        store
            .write(|db| {
                let c = db.find_or_add_contact(&who, None, first)?;
                db.insert_submission("DEF-1", "defect_report", c, &[], "cracked", None, first)?;
                assert_eq!(
                    db.recent_submissions(c, "defect_report", 5)?[0].status,
                    SubmissionStatus::New
                );
                let set = db.set_submission_status("DEF-1", SubmissionStatus::InProgress, " On it ", first)?;
                let set = set.expect("the submission");
                assert!(set.status_changed && set.changed);
                assert_eq!((set.customer, set.note.as_deref()), (who.clone(), Some("On it")));
                let again = db.set_submission_status("DEF-1", SubmissionStatus::InProgress, "On it", later)?;
                assert!(!again.expect("the submission").changed);
                let note = db.set_submission_status("DEF-1", SubmissionStatus::InProgress, "", later)?;
                let note = note.expect("the submission");
                assert!(note.changed && !note.status_changed, "the note alone: {note:?}");
                let shown = &db.recent_submissions(c, "defect_report", 5)?[0];
                assert_eq!(
                    (shown.status, shown.note.as_deref()),
                    (SubmissionStatus::InProgress, None)
                );
                let record = &db.submissions(None, None, 5)?[0];
                assert_eq!(record.status_at, Some(later));
                assert!(db
                    .set_submission_status("DEF-2", SubmissionStatus::Done, "", later)?
                    .is_none());
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
}
