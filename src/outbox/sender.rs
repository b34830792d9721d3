//! The sender thread of `shopbot serve`: takes the next due message, waits for
//! a token from the rate limiter, claims it (durably `sending`), calls Twilio,
//! and records the outcome. Every database write goes through the writer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

use super::policy::{self, AfterFailure, Kind, RetryPolicy, TokenBucket, WINDOW_CLOSED_CODE};
use crate::config::Config;
use crate::conversation::Bot;
use crate::store::{Db, OutboxJob, ReadPool, Settle, StoreError};
use crate::channel::twilio::rest::{Content, Credentials, Outgoing, RestClient, SendError, Sender};
use crate::writer::{Work, Writer, WriterError};

/// How often the queue is looked at when nothing wakes the sender (messages
/// queued by the CLI from another process).
pub const POLL: Duration = Duration::from_secs(1);

/// How the sender sends.
pub struct SenderSettings {
    /// The REST client.
    pub client: RestClient,
    /// `From` or `MessagingServiceSid`.
    pub sender: Sender,
    /// `public_base_url` + status path.
    pub status_callback: Option<String>,
    /// Text messages per second.
    pub text_per_second: f64,
    /// Media messages per second.
    pub media_per_second: f64,
    /// How retries are spaced and when they stop.
    pub retry: RetryPolicy,
}

impl SenderSettings {
    /// The settings `config` gives, or what is missing for sending.
    pub fn from_config(config: &Config) -> Result<SenderSettings, String> {
        let t = &config.twilio;
        let account_sid = t.account_sid.clone().ok_or("[twilio] account_sid is not set")?;
        let (user, password) = match (&t.api_key_sid, &t.api_key_secret, &t.auth_token) {
            (Some(sid), Some(secret), _) => (sid.clone(), secret.clone()),
            (_, _, Some(token)) => (account_sid.clone(), token.clone()),
            _ => return Err("neither [twilio] api_key_sid/api_key_secret nor an auth token is set".into()),
        };
        let sender = match (&t.messaging_service_sid, &t.whatsapp_from) {
            (Some(mg), _) => Sender::MessagingService(mg.clone()),
            (None, Some(from)) => Sender::From(from.clone()),
            (None, None) => return Err("neither [twilio] whatsapp_from nor messaging_service_sid is set".into()),
        };
        let credentials = Credentials {
            account_sid,
            user,
            password,
        };
        Ok(SenderSettings {
            client: RestClient::new(&t.api_base_url, credentials),
            sender,
            status_callback: config.status_callback_url(),
            text_per_second: config.outbox.messages_per_second,
            media_per_second: config.outbox.media_messages_per_second,
            retry: RetryPolicy {
                max_attempts: config.outbox.max_attempts,
                base: config.outbox.retry_base,
            },
        })
    }
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
            .map_err(|e| WriterError::Store(format!("cannot start the outbox thread: {e}")))?;
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

struct Loop {
    settings: SenderSettings,
    writer: Writer,
    reader: Arc<ReadPool>,
    woken: Receiver<()>,
    stopping: Arc<AtomicBool>,
    text_bucket: TokenBucket,
    media_bucket: TokenBucket,
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
        let text_bucket = TokenBucket::new(settings.text_per_second, settings.text_per_second.max(1.0), now);
        let media_bucket = TokenBucket::new(settings.media_per_second, 1.0, now);
        Loop {
            settings,
            writer,
            reader,
            woken,
            stopping,
            text_bucket,
            media_bucket,
        }
    }

    fn run(mut self) {
        while !self.stopping.load(Ordering::SeqCst) {
            let pause = match self.reader.read(|db| db.next_due(Timestamp::now())) {
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
        let until = next.and_then(|at| Duration::try_from(at.duration_since(Timestamp::now())).ok());
        Some(until.map_or(POLL, |d| d.min(POLL)))
    }

    /// Sends one message if the rate limit allows; the pause before the next try.
    fn try_send(&mut self, job: OutboxJob) -> Option<Duration> {
        let bucket = if job.media_urls.is_empty() {
            &mut self.text_bucket
        } else {
            &mut self.media_bucket
        };
        if let Err(wait) = bucket.take(Instant::now()) {
            return Some(wait);
        }
        match self.writer.run(Claim(job.clone())) {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                log::error!(target: "outbox", "message {}: claiming it failed: {e}", job.id);
                return Some(POLL);
            }
        }
        let outcome = self.settings.client.send(&self.outgoing(&job));
        if let Err(e) = self.writer.run(Record {
            job,
            outcome,
            retry: self.settings.retry,
        }) {
            log::error!(target: "outbox", "recording a send failed: {e}; the message stays `sending` and becomes uncertain at the next start");
            return Some(POLL);
        }
        None
    }

    fn outgoing(&self, job: &OutboxJob) -> Outgoing {
        let content = match job.kind {
            Kind::Text => Content::Text {
                body: job.body.clone(),
                media_urls: job.media_urls.clone(),
            },
            Kind::Template => Content::Template {
                content_sid: job.content_sid.clone().unwrap_or_default(),
                variables: job.variables.clone(),
            },
        };
        Outgoing {
            to: job.to.whatsapp_address(),
            sender: self.settings.sender.clone(),
            content,
            status_callback: self.settings.status_callback.clone(),
        }
    }
}

/// Start-up: `sending` rows of a dead process become `uncertain`.
struct HoldInterrupted;

impl Work for HoldInterrupted {
    type Output = usize;
    fn run(&self, db: &Db<'_>, _: &Bot, now: Timestamp) -> Result<usize, WriterError> {
        Ok(db.hold_interrupted_sends(now)?)
    }
}

/// Checks the rules again and claims the message; `false` if it must not go
/// (then it is recorded as failed with the reason) or is no longer queued.
struct Claim(OutboxJob);

impl Work for Claim {
    type Output = bool;
    fn run(&self, db: &Db<'_>, _: &Bot, now: Timestamp) -> Result<bool, WriterError> {
        let job = &self.0;
        if let Err(refusal) = policy::check(job.kind, &db.contact_facts(&job.to)?, now) {
            log::warn!(target: "outbox", "message {} to {}: not sent: {refusal}", job.id, job.to);
            let message = refusal.to_string();
            db.settle(
                job.id,
                &Settle::Failed {
                    code: refusal.code(),
                    message: &message,
                },
                now,
            )?;
            return Ok(false);
        }
        Ok(db.claim(job.id, now)?)
    }
}

/// Records what Twilio answered.
struct Record {
    job: OutboxJob,
    outcome: Result<crate::channel::twilio::rest::Sent, SendError>,
    retry: RetryPolicy,
}

impl Work for Record {
    type Output = ();
    fn run(&self, db: &Db<'_>, _: &Bot, now: Timestamp) -> Result<(), WriterError> {
        let (id, attempt) = (self.job.id, self.job.attempts + 1);
        match &self.outcome {
            Ok(sent) => {
                db.settle(
                    id,
                    &Settle::Sent {
                        sid: &sent.sid,
                        status: &sent.status,
                    },
                    now,
                )?;
                log::info!(target: "outbox", "message {id} sent as {} ({})", sent.sid, sent.status);
                if self.job.kind == Kind::Text && db.clear_waiting_for_message(id)? {
                    log::info!(target: "outbox", "{} no longer waits for staff", self.job.to);
                }
            }
            Err(error) => record_failure(db, id, attempt, self.retry, error, now)?,
        }
        Ok(())
    }
}

fn record_failure(
    db: &Db<'_>,
    id: i64,
    attempt: u32,
    retry: RetryPolicy,
    error: &SendError,
    now: Timestamp,
) -> Result<(), StoreError> {
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
        AfterFailure::Fail { code, message } => {
            log::error!(target: "outbox", "message {id}: failed for good: {code} {message}");
            if code == WINDOW_CLOSED_CODE.to_string() {
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
            log::error!(target: "outbox", "message {id}: {detail}; Twilio may have it, so it is held as uncertain (`shopbot outbox retry {id}` resends it)");
            db.settle(id, &Settle::Uncertain { message: &detail }, now)
        }
    }
}
