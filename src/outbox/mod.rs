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
use crate::store::{Db, NewOutbound, StoreError};
use crate::writer::{Work, WriterError};
use policy::Refusal;

/// Queues a message through the writer (the admin API).
pub struct Enqueue(pub NewOutbound);

impl Work for Enqueue {
    type Output = Result<i64, Refusal>;
    fn run(&self, db: &Db<'_>, _: &Bot, now: Timestamp) -> Result<Self::Output, WriterError> {
        Ok(enqueue(db, &self.0, now)?)
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
