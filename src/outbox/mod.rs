//! Messages the shop starts: queued durably in SQLite, sent by one sender
//! thread through Twilio's REST API, in order per contact, never twice.
//!
//! States: `queued` (waiting, maybe for a retry) → `sending` (claimed; the REST
//! call is in flight) → `sent` (Twilio took it; callbacks tell the rest) or
//! `failed` (a permanent error, a refusal, or retries used up). A message found
//! `sending` at start-up, or whose REST answer was lost, becomes `uncertain`:
//! Twilio may have it, so it is not resent until an operator says so.

pub mod policy;
pub mod sender;
pub mod validate;

use jiff::Timestamp;

use crate::conversation::Bot;
use crate::store::{Db, MessageKey, MessageRecord, NewOutbound, StoreError};
use crate::writer::{Work, WriterError};
use policy::Refusal;

/// Queues a message through the writer (the admin API); the queued message
/// comes back from the same transaction, so the caller's answer cannot fail
/// after the message was committed.
pub struct Enqueue(pub NewOutbound);

impl Work for Enqueue {
    type Output = Result<MessageRecord, Refusal>;
    fn run(&self, db: &Db<'_>, _: &Bot, now: Timestamp) -> Result<Self::Output, WriterError> {
        let id = match enqueue(db, &self.0, now)? {
            Ok(id) => id,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let record = db.message(&MessageKey::Id(id))?.ok_or_else(|| StoreError::Corrupt {
            what: "queued message",
            detail: format!("message {id} is missing right after it was queued"),
        })?;
        Ok(Ok(record))
    }
}

/// Checks the rules and queues the message: its id, or why it may not go.
/// Used by the admin API (through the writer) and the CLI (its own transaction).
pub fn enqueue(db: &Db<'_>, message: &NewOutbound, now: Timestamp) -> Result<Result<i64, Refusal>, StoreError> {
    if let Err(refusal) = policy::check(message.kind, &db.contact_facts(&message.to)?, now) {
        return Ok(Err(refusal));
    }
    Ok(Ok(db.enqueue(message, now)?))
}
