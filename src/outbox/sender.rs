//! The sender thread of `shopbot serve`: takes the next due message, waits for
//! a token from its channel's rate limiter, claims it (durably `sending`),
//! hands it to its channel's [`Transport`], and records the outcome. Every
//! database write goes through the writer.
//!
//! Only messages of channels with a transport are taken; the others wait in the
//! outbox (and `serve` says at start-up why).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

use super::policy::{self, AfterFailure, Refusal, RetryPolicy, TokenBucket};
use crate::clock::Clock;
use crate::message::{Channel, ContactRef, Content, ContentKind, SendError, Sent};
use crate::store::{Db, OutboxJob, ReadPool, Settle, StoreError};
use crate::writer::{Work, Writer, WriterError};

/// How often the queue is looked at when nothing wakes the sender (messages
/// queued by the CLI from another process).
pub const POLL: Duration = Duration::from_secs(1);

/// One channel's way of sending a message: its API client.
pub trait Transport: Send {
    /// Sends `content` to `to`; the provider's key for it, or why not.
    fn send(&self, to: &ContactRef, content: &Content) -> Result<Sent, SendError>;
}

/// How fast one channel may send.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Text messages per second.
    pub text_per_second: f64,
    /// Media messages per second.
    pub media_per_second: f64,
}

/// How the sender sends.
pub struct SenderSettings {
    /// The channels that can send, with their rates.
    pub channels: BTreeMap<Channel, (Box<dyn Transport>, Rates)>,
    /// How retries are spaced and when they stop.
    pub retry: RetryPolicy,
    /// Which messages are due is judged by this clock (tests set it).
    pub clock: Clock,
}

/// A running sender thread.
pub struct OutboxSender {
    wake: SyncSender<()>,
    stopping: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// Wakes the sender when something was queued; clone it freely.
#[derive(Clone)]
pub struct Wake(Option<SyncSender<()>>);

impl Wake {
    /// A handle that wakes nothing (no sender running).
    pub fn none() -> Wake {
        Wake(None)
    }

    /// Tells the sender to look at the queue now.
    pub fn wake(&self) {
        if let Some(wake) = &self.0 {
            let _ = wake.try_send(());
        }
    }
}

impl OutboxSender {
    /// Starts the sender. Messages left `sending` by a previous process are
    /// marked uncertain first.
    pub fn start(settings: SenderSettings, writer: Writer, reader: Arc<ReadPool>) -> Result<OutboxSender, WriterError> {
        let held = writer.run(HoldInterrupted)?;
        if held > 0 {
            log::warn!(target: "outbox", "{held} message(s) were being sent when shopbot stopped; they are marked uncertain and will not be resent until you run `shopbot outbox retry ID` (see `shopbot outbox list`)");
        }
        let (wake, woken) = mpsc::sync_channel(1);
        let stopping = Arc::new(AtomicBool::new(false));
        let flag = stopping.clone();
        let thread = thread::Builder::new()
            .name("outbox".into())
            .spawn(move || Loop::new(settings, writer, reader, woken, flag).run())
            .map_err(|e| WriterError::Thread {
                what: "outbox",
                source: Arc::new(e),
            })?;
        Ok(OutboxSender { wake, stopping, thread })
    }

    /// A handle that wakes this sender.
    pub fn waker(&self) -> Wake {
        Wake(Some(self.wake.clone()))
    }

    /// Lets the current send finish, then stops.
    pub fn shutdown(self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.wake.try_send(());
        let _ = self.thread.join();
    }
}

/// One channel as the loop uses it.
struct Lane {
    transport: Box<dyn Transport>,
    text_bucket: TokenBucket,
    media_bucket: TokenBucket,
}

struct Loop {
    lanes: BTreeMap<Channel, Lane>,
    channels: Vec<Channel>,
    retry: RetryPolicy,
    writer: Writer,
    reader: Arc<ReadPool>,
    woken: Receiver<()>,
    stopping: Arc<AtomicBool>,
    clock: Clock,
}

impl Loop {
    fn new(
        settings: SenderSettings,
        writer: Writer,
        reader: Arc<ReadPool>,
        woken: Receiver<()>,
        stopping: Arc<AtomicBool>,
    ) -> Loop {
        let now = Instant::now();
        let lanes: BTreeMap<Channel, Lane> = settings
            .channels
            .into_iter()
            .map(|(channel, (transport, rates))| {
                let lane = Lane {
                    transport,
                    text_bucket: TokenBucket::new(rates.text_per_second, rates.text_per_second.max(1.0), now),
                    media_bucket: TokenBucket::new(rates.media_per_second, 1.0, now),
                };
                (channel, lane)
            })
            .collect();
        Loop {
            channels: lanes.keys().copied().collect(),
            lanes,
            retry: settings.retry,
            writer,
            reader,
            woken,
            stopping,
            clock: settings.clock,
        }
    }

    fn run(mut self) {
        while !self.stopping.load(Ordering::SeqCst) {
            let pause = match self.reader.read(|db| db.next_due(self.clock.now(), &self.channels)) {
                Ok(Some(job)) => self.try_send(job),
                Ok(None) => self.idle_time(),
                Err(e) => {
                    log::error!(target: "outbox", "reading the queue: {e}");
                    Some(POLL)
                }
            };
            if let Some(pause) = pause {
                match self.woken.recv_timeout(pause) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        }
        log::debug!(target: "outbox", "stopped");
    }

    /// How long to sleep when nothing is due: until the next retry, at most
    /// [`POLL`]. A queued message whose time has passed but is not due waits
    /// behind an older unfinished one to the same customer: nothing to do
    /// until that one settles (the sender is woken, or the next poll sees it),
    /// so a full [`POLL`].
    fn idle_time(&self) -> Option<Duration> {
        let next = self.reader.read(|db| db.next_due_at()).ok().flatten();
        let until = next.and_then(|at| Duration::try_from(at.duration_since(self.clock.now())).ok());
        Some(until.map_or(POLL, |d| d.min(POLL)))
    }

    /// Sends one message if the rate limit allows; the pause before the next try.
    fn try_send(&mut self, job: OutboxJob) -> Option<Duration> {
        let Some(lane) = self.lanes.get_mut(&job.channel) else {
            return Some(POLL);
        };
        let bucket = if job.content.media_urls().is_empty() {
            &mut lane.text_bucket
        } else {
            &mut lane.media_bucket
        };
        if let Err(wait) = bucket.take(Instant::now()) {
            return Some(wait);
        }
        // What goes is what the message says when it is claimed: a staff
        // forward may have grown by a line since it was read above.
        let job = match self.writer.run(Claim(job.clone())) {
            Ok(Some(content)) => OutboxJob { content, ..job },
            Ok(None) => return None,
            Err(e) => {
                log::error!(target: "outbox", "message {}: claiming it failed: {e}", job.id);
                return Some(POLL);
            }
        };
        let outcome = lane.transport.send(&job.to, &job.content);
        if let Err(e) = self.writer.run(Record {
            job,
            outcome,
            retry: self.retry,
        }) {
            log::error!(target: "outbox", "recording a send failed: {e}; the message stays `sending` and becomes uncertain at the next start");
            return Some(POLL);
        }
        None
    }
}

/// Start-up: `sending` rows of a dead process become `uncertain`.
struct HoldInterrupted;

impl Work for HoldInterrupted {
    type Output = usize;
    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<usize, WriterError> {
        Ok(db.hold_interrupted_sends(now)?)
    }
}

/// Checks the rules again and claims the message: what it says as claimed
/// (read in the claim's transaction, so a line appended to a queued forward
/// after the sender first read it goes too), or `None` if it must not go
/// (then it is recorded as failed with the reason) or is no longer queued.
///
/// The 24-hour window is judged here, when the message is sent: a free-form
/// notice whose window closed while it waited (held for the opening, or
/// behind other messages) goes as the template kept with it, if it has one.
struct Claim(OutboxJob);

impl Work for Claim {
    type Output = Option<Content>;
    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<Option<Content>, WriterError> {
        let job = &self.0;
        if let Err(refusal) = policy::check(job.content.kind(), &db.contact_facts(&job.to)?, now) {
            if !as_template(db, job, &refusal)? {
                refuse(db, job, &refusal, now)?;
                return Ok(None);
            }
        }
        if !db.claim(job.id, now)? {
            return Ok(None);
        }
        Ok(db.outbound_content(job.id)?)
    }
}

/// A free-form message refused for the window becomes its fallback template,
/// if it has one; whether it did.
fn as_template(db: &Db<'_>, job: &OutboxJob, refusal: &Refusal) -> Result<bool, StoreError> {
    if !matches!(refusal, Refusal::OutsideWindow(_)) {
        return Ok(false);
    }
    let Some(template) = db.switch_to_fallback(job.id)? else {
        return Ok(false);
    };
    log::info!(target: "outbox", "message {} to {}: {refusal}; it goes as the template {}", job.id, job.to, template.name);
    Ok(true)
}

/// Records that the message must not go, and why.
fn refuse(db: &Db<'_>, job: &OutboxJob, refusal: &Refusal, now: Timestamp) -> Result<(), StoreError> {
    log::warn!(target: "outbox", "message {} to {}: not sent: {refusal}", job.id, job.to);
    let message = refusal.to_string();
    db.settle(
        job.id,
        &Settle::Failed {
            code: refusal.code(),
            message: &message,
        },
        now,
    )
}

/// Records what the provider answered.
struct Record {
    job: OutboxJob,
    outcome: Result<Sent, SendError>,
    retry: RetryPolicy,
}

impl Work for Record {
    type Output = ();
    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<(), WriterError> {
        let (id, attempt) = (self.job.id, self.job.attempts + 1);
        match &self.outcome {
            Ok(sent) => {
                db.settle(
                    id,
                    &Settle::Sent {
                        sid: &sent.key,
                        status: sent.status,
                    },
                    now,
                )?;
                log::info!(target: "outbox", "message {id} sent on {} as {} ({})", self.job.channel, sent.key, sent.status);
                policy::window_after_send(db, self.job.channel, &sent.key, now)?;
                if self.job.content.kind() == ContentKind::Text && db.clear_waiting_for_message(id)? {
                    log::info!(target: "outbox", "{} no longer waits for staff", self.job.to);
                }
            }
            Err(error) => record_failure(db, &self.job, attempt, self.retry, error, now)?,
        }
        Ok(())
    }
}

fn record_failure(
    db: &Db<'_>,
    job: &OutboxJob,
    attempt: u32,
    retry: RetryPolicy,
    error: &SendError,
    now: Timestamp,
) -> Result<(), StoreError> {
    let id = job.id;
    match policy::after_failure(error, attempt, retry, 0.5 + fastrand::f64()) {
        AfterFailure::Retry(wait) => {
            let at = now
                .saturating_add(SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX))
                .unwrap_or(now);
            log::warn!(target: "outbox", "message {id}: attempt {attempt} failed ({error}); retrying in {wait:.1?}");
            let (code, message) = error.code_and_message();
            db.settle(
                id,
                &Settle::Retry {
                    at,
                    code: &code,
                    message: &message,
                },
                now,
            )
        }
        AfterFailure::Fail {
            code,
            message,
            window_closed,
        } => {
            log::error!(target: "outbox", "message {id}: failed for good: {code} {message}");
            if window_closed {
                db.close_window_for_message(id, now)?;
            }
            db.settle(
                id,
                &Settle::Failed {
                    code: &code,
                    message: &message,
                },
                now,
            )
        }
        AfterFailure::Uncertain(detail) => {
            log::error!(target: "outbox", "message {id}: {detail}; {} may have it, so it is held as uncertain (`shopbot outbox retry {id}` resends it)", job.channel);
            db.settle(id, &Settle::Uncertain { message: &detail }, now)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone::PhoneNumber;
    use crate::store::{NewOutbound, Store};

    /// A staff forward read as due, then grown by a line before the sender
    /// claims it (a customer writing while the sender waits for its turn):
    /// the claim hands over the text with the new line, which would
    /// otherwise never be sent.
    #[test]
    fn the_claim_hands_over_the_text_as_it_is_then() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Timestamp::now();
        let staff = ContactRef::phone(PhoneNumber::parse("+27825550001").unwrap());
        let (job, grown) = store
            .write(|db| {
                let (contact, _) = db.find_or_add_contact_with_language(&staff, None, now)?;
                let wrote = crate::message::Inbound {
                    channel: Channel::Twilio,
                    key: "SM1".into(),
                    from: staff.clone(),
                    from_addr: "whatsapp:+27825550001".into(),
                    to_addr: "whatsapp:+14155238886".into(),
                    text: "#help".into(),
                    media: Vec::new(),
                    profile_name: None,
                    reply_to: None,
                    tap: None,
                    raw: "[]".into(),
                };
                db.insert_inbound(&wrote, contact, now)?;
                let id = db.enqueue(
                    &NewOutbound {
                        to: staff.clone(),
                        channel: Channel::Twilio,
                        from_addr: "whatsapp:+14155238886".into(),
                        to_addr: "whatsapp:+27825550001".into(),
                        content: Content::Text {
                            body: "“first line”".into(),
                            media_urls: Vec::new(),
                        },
                    },
                    now,
                )?;
                let job = db.next_due(now, &[Channel::Twilio])?.expect("due");
                assert_eq!(job.id, id);
                let grown = db.append_to_queued_text(id, "“second line”")?;
                Ok::<_, StoreError>((job, grown))
            })
            .unwrap();
        assert!(grown);
        let claimed = store
            .write(|db| {
                Claim(job.clone())
                    .run(db, now)
                    .map_err(|e| StoreError::Invalid(e.to_string()))
            })
            .unwrap();
        let Some(Content::Text { body, .. }) = claimed else {
            panic!("claimed {claimed:?}");
        };
        assert_eq!(body, "“first line”\n“second line”");
    }
}
