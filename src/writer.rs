//! The single writer thread: every inbound message of `shopbot serve` is handled
//! here, with group commit.
//!
//! HTTP workers read, verify and parse requests in parallel, then hand the parsed
//! message to this thread and wait. The writer takes everything queued (up to
//! [`MAX_BATCH`]), runs each message in its own savepoint of one transaction and
//! commits once: one fsync for the batch, and no `database is locked` anywhere,
//! because there is only one writer. A worker gets its answer only after the
//! commit, so every `200` is durable. Repeated MessageSids are serialised here
//! too, so two copies of one webhook can never both run their effects.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use jiff::Timestamp;

use crate::conversation::{handle_inbound, Bot, Reply};
use crate::store::{Store, StoreError};
use crate::twilio::webhook::InboundMessage;

/// The most messages committed in one transaction.
pub const MAX_BATCH: usize = 256;
/// How many messages may wait for the writer before workers block.
const QUEUE: usize = 1024;

/// Why the writer could not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriterError {
    /// The database refused the work.
    #[error("database: {0}")]
    Store(String),
    /// The message's handling panicked (a bug); it was rolled back.
    #[error("internal error while handling the message (rolled back)")]
    Panicked,
    /// The writer thread is gone (shutting down).
    #[error("the writer has stopped")]
    Stopped,
    /// No answer in time.
    #[error("the database did not answer within {0:?}")]
    Timeout(Duration),
}

enum Job {
    Inbound {
        message: Box<InboundMessage>,
        done: SyncSender<Result<Reply, WriterError>>,
    },
    Ping {
        done: SyncSender<Result<(), WriterError>>,
    },
}

/// A handle to the writer thread; clone it freely.
#[derive(Clone)]
pub struct Writer {
    jobs: SyncSender<Job>,
}

impl Writer {
    /// Starts the writer on `store`. It stops when every handle is dropped.
    pub fn start(store: Store, bot: Arc<Bot>) -> (Writer, JoinHandle<()>) {
        let (jobs, queue) = mpsc::sync_channel(QUEUE);
        let thread = thread::Builder::new()
            .name("writer".into())
            .spawn(move || run(store, &bot, queue))
            .expect("spawning the writer thread");
        (Writer { jobs }, thread)
    }

    /// Handles one inbound message; returns once its effects are committed.
    pub fn handle(&self, message: InboundMessage) -> Result<Reply, WriterError> {
        let (done, answer) = mpsc::sync_channel(1);
        let job = Job::Inbound {
            message: Box::new(message),
            done,
        };
        self.jobs.send(job).map_err(|_| WriterError::Stopped)?;
        answer.recv().map_err(|_| WriterError::Stopped)?
    }

    /// Checks that the database answers, within `timeout`.
    pub fn ping(&self, timeout: Duration) -> Result<(), WriterError> {
        let (done, answer) = mpsc::sync_channel(1);
        self.jobs
            .try_send(Job::Ping { done })
            .map_err(|_| WriterError::Timeout(timeout))?;
        answer
            .recv_timeout(timeout)
            .map_err(|_| WriterError::Timeout(timeout))?
    }
}

fn run(mut store: Store, bot: &Bot, queue: Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        process(&mut store, bot, batch);
    }
    log::debug!(target: "writer", "stopped");
}

fn process(store: &mut Store, bot: &Bot, batch: Vec<Job>) {
    let mut messages = Vec::with_capacity(batch.len());
    for job in batch {
        match job {
            Job::Inbound { message, done } => messages.push((message, done)),
            Job::Ping { done } => {
                let _ = done.send(store.ping().map_err(|e| WriterError::Store(e.to_string())));
            }
        }
    }
    if messages.is_empty() {
        return;
    }
    let now = Timestamp::now();
    let (inputs, senders): (Vec<_>, Vec<_>) = messages.into_iter().unzip();
    let outcome = store.write_batch(inputs, |db, message| {
        catch_unwind(AssertUnwindSafe(|| handle_inbound(db, bot, &message, now)))
            .map_err(|_| {
                log::error!(target: "writer", "{}: handling panicked; rolled back", message.sid);
                WriterError::Panicked
            })?
            .map_err(|e: StoreError| {
                log::error!(target: "writer", "{}: {e}; rolled back", message.sid);
                WriterError::Store(e.to_string())
            })
    });
    match outcome {
        Ok(results) => {
            for (result, done) in results.into_iter().zip(senders) {
                let _ = done.send(result);
            }
        }
        Err(e) => {
            log::error!(target: "writer", "batch of {} not committed: {e}", senders.len());
            for done in senders {
                let _ = done.send(Err(WriterError::Store(e.to_string())));
            }
        }
    }
}
