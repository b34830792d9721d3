//! Stored values read back, and JSON written: a channel's name, a contact's
//! addresses, a submission's status, a JSON column. Each reader's error is a
//! [`StoreError::Corrupt`] naming what could not be read. A leaf of the
//! store: every query file uses it, and it uses none of them.

use super::StoreError;
use crate::engine::render::SubmissionStatus;
use crate::message::{Channel, ContactRef};
use crate::phone::PhoneNumber;

/// A JSON column that does not read back as its type.
pub(super) fn corrupt(what: &'static str) -> impl FnOnce(serde_json::Error) -> StoreError {
    move |e| StoreError::Corrupt {
        what,
        detail: e.to_string(),
    }
}

/// A value as a JSON column.
pub(super) fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Serialising our own plain data types cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// A stored channel name back.
pub(super) fn parse_channel(word: &str) -> Result<Channel, StoreError> {
    Channel::parse(word).ok_or_else(|| StoreError::Corrupt {
        what: "channel",
        detail: format!("{word:?} is not a channel"),
    })
}

/// A contact's stored addresses back.
pub(super) fn contact_ref(phone: Option<String>, user_id: Option<String>) -> Result<ContactRef, StoreError> {
    let phone = phone
        .as_deref()
        .map(PhoneNumber::parse)
        .transpose()
        .map_err(|e| StoreError::Corrupt {
            what: "contact phone",
            detail: e.to_string(),
        })?;
    Ok(ContactRef { phone, user_id })
}

/// A stored status back (the schema allows only the three).
pub(super) fn status_from_sql(word: &str) -> Result<SubmissionStatus, StoreError> {
    SubmissionStatus::parse(word).ok_or_else(|| StoreError::Corrupt {
        what: "submission status",
        detail: format!("{word:?} is none of new, in_progress, done"),
    })
}
