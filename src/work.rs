//! The pieces of work the server hands the writer, one per kind of request:
//! a Twilio message (the step and its inline reply), a Meta batch (every step,
//! its replies queued in the outbox, every status), a status event. The writer
//! (`writer.rs`) is only the mechanism that runs them.

use std::sync::Arc;

use jiff::Timestamp;

use crate::conversation::{handle_failed_inbound, handle_inbound, Bot, Handled};
use crate::engine::render::SubmissionStatus;
use crate::message::{Channel, ChoiceLimits, Inbound, StatusEvent, Unusable};
use crate::notify::{OrderNotices, SubmissionNotices, Told};
use crate::orders::{self, ImportError, ImportReport, Notices, StatusChange};
use crate::outbox::{self, policy};
use crate::store::{Db, InboxAction, Recorded, StatusSet, StoreError};
use crate::writer::{self, Work, WriterError};

/// An inbound message on a channel with inline replies: the conversation
/// step and its reply. A reply that shows a menu the channel shows to tap
/// (`choices`) goes whole through the outbox instead, in order.
pub struct HandleInbound {
    /// The bot that answers.
    pub bot: Arc<Bot>,
    /// The message.
    pub message: Inbound,
    /// What the channel shows of a menu to tap by its API (`None`: every
    /// reply is inline).
    pub choices: Option<ChoiceLimits>,
}

/// A handled inbound message and where its reply went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// The message's handling (and its reply).
    pub handled: Handled,
    /// The reply went through the outbox: nothing is said inline.
    pub by_outbox: bool,
}

impl HandleInbound {
    /// Whether `handled`'s reply goes through the outbox (also for a repeated
    /// delivery, whose reply was queued the first time).
    fn by_outbox(&self, handled: &Handled) -> bool {
        let choice = handled.reply.choice();
        self.choices.is_some_and(|limits| choice.is_some_and(|c| limits.fit(c)))
    }
}

impl Work for HandleInbound {
    type Output = Answered;

    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<Answered, WriterError> {
        let handled = handle_inbound(db, &self.bot, &self.message, now)?;
        let by_outbox = self.by_outbox(&handled);
        if by_outbox && !handled.repeated {
            outbox::queue_reply(db, &self.message, &handled.reply, self.choices, now)?;
        }
        Ok(Answered { handled, by_outbox })
    }

    /// A panic while handling was rolled back; the message is stored with an
    /// apology instead, so the customer hears something and the `200` is durable.
    fn recover(&self, db: &Db<'_>, now: Timestamp) -> Result<Answered, WriterError> {
        log::error!(target: "writer", "{}: handling panicked; rolled back, answering with an apology", self.message.key);
        let handled = handle_failed_inbound(db, &self.message, now)?;
        Ok(Answered {
            handled,
            by_outbox: false,
        })
    }
}

/// A batch from a channel without inline replies (Meta's webhook): every
/// inbound message handled and its reply queued in the outbox, every status
/// stored, all in one transaction. The output is how many replies were queued.
pub struct HandleBatch {
    /// The channel the batch came on (its unreadable items are kept as its).
    pub channel: Channel,
    /// The bot that answers.
    pub bot: Arc<Bot>,
    /// The batch's messages, in order.
    pub inbound: Vec<Inbound>,
    /// The batch's status events.
    pub statuses: Vec<StatusEvent>,
    /// What of the batch could not be read: kept whole, beside the rest.
    pub unusable: Vec<Unusable>,
}

impl HandleBatch {
    /// One message: its step and its queued reply (none for a repeated delivery).
    fn one(&self, db: &Db<'_>, message: &Inbound, now: Timestamp) -> Result<usize, StoreError> {
        let handled = handle_inbound(db, &self.bot, message, now)?;
        reply_count(db, message, &handled, now)
    }

    fn statuses(&self, db: &Db<'_>, now: Timestamp) -> Result<(), StoreError> {
        for event in &self.statuses {
            policy::record_status(db, event, now)?;
        }
        Ok(())
    }
}

/// Queues the reply of a message handled now; returns how many messages it became.
fn reply_count(db: &Db<'_>, message: &Inbound, handled: &Handled, now: Timestamp) -> Result<usize, StoreError> {
    if handled.repeated {
        return Ok(0);
    }
    let choices = message.channel.choice_limits();
    Ok(outbox::queue_reply(db, message, &handled.reply, choices, now)?.len())
}

impl Work for HandleBatch {
    type Output = usize;

    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<usize, WriterError> {
        let mut queued = 0;
        for message in &self.inbound {
            queued += self.one(db, message, now)?;
        }
        self.statuses(db, now)?;
        for item in &self.unusable {
            db.keep_unreadable(self.channel, &item.reason, &item.raw, now)?;
        }
        Ok(queued)
    }

    /// A panic somewhere in the batch was rolled back: each message runs again
    /// on its own, and the one that panics is stored with an apology instead.
    fn recover(&self, db: &Db<'_>, now: Timestamp) -> Result<usize, WriterError> {
        let mut queued = 0;
        for message in &self.inbound {
            let alone = db.attempt(|db| writer::guarded(|| Ok(self.one(db, message, now)?)));
            queued += match alone {
                Err(WriterError::Panicked) => {
                    log::error!(target: "writer", "{}: handling panicked; rolled back, answering with an apology", message.key);
                    let handled = handle_failed_inbound(db, message, now)?;
                    reply_count(db, message, &handled, now)?
                }
                other => other?,
            };
        }
        self.statuses(db, now)?;
        Ok(queued)
    }
}

/// A status event: stored, and what it means for the outbox applied.
pub struct RecordStatus(pub StatusEvent);

impl Work for RecordStatus {
    type Output = Recorded;

    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<Recorded, WriterError> {
        Ok(policy::record_status(db, &self.0, now)?)
    }
}

/// An inbox user signed in: a new session (stored as its token's hash).
pub struct SignIn {
    /// SHA-256 of the session token.
    pub token_hash: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// When it ends unless used.
    pub expires_at: Timestamp,
    /// The user (`inbox_users.id`).
    pub user: i64,
}

impl Work for SignIn {
    type Output = ();
    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<(), WriterError> {
        Ok(db.create_owner_session(&self.token_hash, &self.csrf, self.user, (now, self.expires_at))?)
    }
}

/// An inbox user's word on a message ([`Release`] or [`Resolve`]), recorded
/// with their name in the same transaction when it was taken.
pub struct ByUser<W> {
    /// The work.
    pub work: W,
    /// The message it is about.
    pub message: i64,
    /// Who, and what it means.
    pub done: (String, InboxAction),
}

impl<W: Work<Output = Option<bool>>> Work for ByUser<W> {
    type Output = Option<bool>;
    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<Option<bool>, WriterError> {
        let taken = self.work.run(db, now)?;
        if taken == Some(true) {
            db.record_message_action(self.message, (&self.done.0, self.done.1), now)?;
        }
        Ok(taken)
    }
}

/// The owner signed out: the session ends on the server.
pub struct SignOut(pub String);

impl Work for SignOut {
    type Output = ();
    fn run(&self, db: &Db<'_>, _: Timestamp) -> Result<(), WriterError> {
        Ok(db.delete_owner_session(&self.0)?)
    }
}

/// A session in use slides its expiry.
pub struct ExtendSession {
    /// SHA-256 of the session token.
    pub token_hash: String,
    /// The new end.
    pub expires_at: Timestamp,
}

impl Work for ExtendSession {
    type Output = ();
    fn run(&self, db: &Db<'_>, _: Timestamp) -> Result<(), WriterError> {
        Ok(db.extend_owner_session(&self.token_hash, self.expires_at)?)
    }
}

/// The owner read a conversation up to a message.
pub struct MarkRead {
    /// The contact.
    pub contact: crate::store::ContactId,
    /// The newest message shown.
    pub up_to: i64,
}

impl Work for MarkRead {
    type Output = ();
    fn run(&self, db: &Db<'_>, _: Timestamp) -> Result<(), WriterError> {
        Ok(db.mark_read(self.contact, self.up_to)?)
    }
}

/// The owner hands a conversation back to the bot: no longer waiting, and the
/// bot answers the customer's next message from the start of the menu.
pub struct HandBack {
    /// The contact.
    pub contact: crate::store::ContactId,
    /// The menu's start node.
    pub start: String,
    /// The inbox user who did it.
    pub by: String,
}

impl Work for HandBack {
    /// The recorded action's id.
    type Output = i64;
    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<i64, WriterError> {
        crate::session::hand_back(db, self.contact, &self.start, now)?;
        Ok(db.record_action(self.contact, None, (&self.by, InboxAction::HandedBack), now)?)
    }
}

/// The owner sets the language a customer is answered in (`None`: by their
/// number again, until they pick).
pub struct SetLanguage {
    /// The contact.
    pub contact: crate::store::ContactId,
    /// An offered language, or `None`.
    pub language: Option<String>,
}

impl Work for SetLanguage {
    type Output = ();
    fn run(&self, db: &Db<'_>, _: Timestamp) -> Result<(), WriterError> {
        Ok(db.set_contact_language(self.contact, self.language.as_deref())?)
    }
}

/// An operator's go-ahead to send an uncertain or failed message again:
/// `None` if there is no such message, else whether it was queued again.
pub struct Release(pub i64);

impl Work for Release {
    type Output = Option<bool>;
    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<Option<bool>, WriterError> {
        Ok(db.release(self.0, now)?)
    }
}

/// An operator's word on an uncertain message: it arrived, or it did not
/// (and is never sent). `None` if there is no such message, else whether it
/// was uncertain.
pub struct Resolve {
    /// The message.
    pub id: i64,
    /// Whether it reached the customer.
    pub arrived: bool,
}

impl Work for Resolve {
    type Output = Option<bool>;
    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<Option<bool>, WriterError> {
        Ok(db.resolve(self.id, self.arrived, now)?)
    }
}

/// The owner uploaded an orders spreadsheet: the same import as
/// `shopbot orders import`. A file that cannot be read at all (no status
/// column, not CSV) writes nothing and says why.
pub struct ImportOrders {
    /// The spreadsheet's bytes.
    pub file: Vec<u8>,
    /// The shop's time zone (a changed status is dated in it).
    pub timezone: jiff::tz::TimeZone,
    /// Telling customers whose order's status changed (`[notify]`).
    pub notices: Option<Arc<OrderNotices>>,
}

impl Work for ImportOrders {
    type Output = Result<ImportReport, String>;
    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<Self::Output, WriterError> {
        let zoned = now.to_zoned(self.timezone.clone());
        match import_and_tell(db, self.file.as_slice(), &zoned, self.notices.as_deref(), &mut |_| {}) {
            Ok(report) => Ok(Ok(report)),
            Err(ImportError::Store(e)) => Err(e.into()),
            Err(refused) => Ok(Err(refused.to_string())),
        }
    }
}

/// Imports a sheet in the open transaction and tells the customers whose
/// order's status changed (with `notices`), in the same transaction, each as
/// its row is imported; `each` sees every such change too (a dry run lists them).
pub fn import_and_tell(
    db: &Db<'_>,
    file: impl std::io::Read,
    now: &jiff::Zoned,
    notices: Option<&OrderNotices>,
    each: &mut dyn FnMut(&StatusChange),
) -> Result<ImportReport, ImportError> {
    let mut told = Notices::default();
    let mut report = orders::import_telling(db, file, now, &mut |db, change| {
        each(change);
        match notices {
            Some(notices) => notices.tell(db, change, now.timestamp(), &mut told),
            None => Ok(()),
        }
    })?;
    if report.status_changes > 0 && notices.is_some() {
        log::info!(target: "notify", "order updates: {told}");
    }
    report.notices = told;
    Ok(report)
}

/// The owner sets a submission's status and note in the inbox. A changed
/// status tells the customer (with `notices`, `[notify] submission_status`)
/// in the same transaction, so it is told once. `None`: no such submission.
pub struct SetSubmissionStatus {
    /// The submission's public ID.
    pub public_id: String,
    /// The new status.
    pub status: SubmissionStatus,
    /// The note for the customer (empty: none).
    pub note: String,
    /// Telling the customer (`None`: `[notify] submission_status` is off).
    pub notices: Option<Arc<SubmissionNotices>>,
}

/// What setting a submission's status did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSaved {
    /// What was stored, and what changed.
    pub set: StatusSet,
    /// What telling the customer did; `None` when nobody was told (the
    /// status did not change, or notices are off).
    pub told: Option<Told>,
}

impl Work for SetSubmissionStatus {
    type Output = Option<StatusSaved>;
    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<Self::Output, WriterError> {
        let Some(set) = db.set_submission_status(&self.public_id, self.status, &self.note, now)? else {
            return Ok(None);
        };
        let told = match &self.notices {
            Some(notices) if set.status_changed => Some(notices.tell(db, &set, now)?),
            _ => None,
        };
        Ok(Some(StatusSaved { set, told }))
    }
}
