//! The single writer thread: every write of `shopbot serve` (inbound messages,
//! status callbacks, health pings) happens here, with group commit.
//!
//! HTTP workers read, verify and parse requests in parallel, then hand the parsed
//! [`Work`] to this thread and wait. The writer takes everything queued (up to
//! [`MAX_BATCH`]), runs each piece in its own savepoint of one transaction and
//! commits once: one fsync for the batch, and no `database is locked` anywhere,
//! because there is only one writer. A worker gets its answer only after the
//! commit, so every `200` is durable. Repeated MessageSids are serialised here
//! too, so two copies of one webhook can never both run their effects, even
//! when they arrive together and land in one batch.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use jiff::Timestamp;

use crate::conversation::{handle_failed_inbound, handle_inbound, Bot, Reply};
use crate::store::{Db, Recorded, Store, StoreError};
use crate::twilio::status::StatusEvent;
use crate::twilio::webhook::InboundMessage;

/// The most pieces of work committed in one transaction.
pub const MAX_BATCH: usize = 256;
/// How many pieces may wait for the writer before workers block.
const QUEUE: usize = 1024;

/// Why the writer could not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriterError {
    /// The database refused the work.
    #[error("database: {0}")]
    Store(String),
    /// The work panicked (a bug); it was rolled back.
    #[error("internal error while handling the request (rolled back)")]
    Panicked,
    /// The writer thread is gone (shutting down).
    #[error("the writer has stopped")]
    Stopped,
    /// No answer in time.
    #[error("the database did not answer within {0:?}")]
    Timeout(Duration),
}

impl From<StoreError> for WriterError {
    fn from(e: StoreError) -> WriterError {
        WriterError::Store(e.to_string())
    }
}

/// Something the writer does inside one savepoint of a batch.
pub trait Work: Send + 'static {
    /// What the caller gets back once the batch is committed.
    type Output: Send + 'static;
    /// Does the work; an error rolls back this piece alone.
    fn run(&self, db: &Db<'_>, bot: &Bot, now: Timestamp) -> Result<Self::Output, WriterError>;
}

/// An inbound message: the conversation step and its reply.
pub struct HandleInbound(pub InboundMessage);

impl Work for HandleInbound {
    type Output = Reply;

    /// A panic while handling is rolled back and the message is stored with an
    /// apology instead, so the customer hears something and the `200` is durable.
    fn run(&self, db: &Db<'_>, bot: &Bot, now: Timestamp) -> Result<Reply, WriterError> {
        let message = &self.0;
        let attempt = db.attempt(|db| {
            catch_unwind(AssertUnwindSafe(|| handle_inbound(db, bot, message, now)))
                .map_err(|_| WriterError::Panicked)?
                .map_err(WriterError::from)
        });
        match attempt {
            Err(WriterError::Panicked) => {
                log::error!(target: "writer", "{}: handling panicked; rolled back, answering with an apology", message.sid);
                Ok(handle_failed_inbound(db, message, now)?)
            }
            other => other,
        }
    }
}

/// A status callback.
pub struct RecordStatus(pub StatusEvent);

impl Work for RecordStatus {
    type Output = Recorded;

    fn run(&self, db: &Db<'_>, _: &Bot, now: Timestamp) -> Result<Recorded, WriterError> {
        Ok(db.record_status(&self.0, now)?)
    }
}

/// A health check: the database answers a query.
struct Ping;

impl Work for Ping {
    type Output = ();

    fn run(&self, db: &Db<'_>, _: &Bot, _: Timestamp) -> Result<(), WriterError> {
        Ok(db.ping()?)
    }
}

/// A piece of work with its caller's answer channel, type-erased for the queue.
trait Task: Send {
    fn run(&mut self, db: &Db<'_>, bot: &Bot, now: Timestamp) -> Result<(), WriterError>;
    /// Answers the caller with the work's output, or `outcome`'s error.
    fn finish(self: Box<Self>, outcome: Result<(), WriterError>);
}

struct Pending<W: Work> {
    work: W,
    output: Option<W::Output>,
    done: SyncSender<Result<W::Output, WriterError>>,
}

impl<W: Work> Task for Pending<W> {
    fn run(&mut self, db: &Db<'_>, bot: &Bot, now: Timestamp) -> Result<(), WriterError> {
        self.output = Some(self.work.run(db, bot, now)?);
        Ok(())
    }

    fn finish(self: Box<Self>, outcome: Result<(), WriterError>) {
        let Pending { output, done, .. } = *self;
        let _ = done.send(outcome.and_then(|()| output.ok_or(WriterError::Stopped)));
    }
}

/// A handle to the writer thread; clone it freely.
#[derive(Clone)]
pub struct Writer {
    jobs: SyncSender<Option<Box<dyn Task>>>,
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

    /// Runs `work` and returns its output once it is committed.
    pub fn run<W: Work>(&self, work: W) -> Result<W::Output, WriterError> {
        let (task, answer) = pending(work);
        self.jobs.send(Some(task)).map_err(|_| WriterError::Stopped)?;
        answer.recv().map_err(|_| WriterError::Stopped)?
    }

    /// Handles one inbound message; returns once its effects are committed.
    pub fn handle(&self, message: InboundMessage) -> Result<Reply, WriterError> {
        self.run(HandleInbound(message))
    }

    /// Lets the writer finish what is queued, commit, close the database and
    /// end, even while other handles still exist (they get [`WriterError::Stopped`]).
    pub fn stop(&self) {
        let _ = self.jobs.send(None);
    }

    /// Checks that the database answers, within `timeout`.
    pub fn ping(&self, timeout: Duration) -> Result<(), WriterError> {
        let (task, answer) = pending(Ping);
        self.jobs
            .try_send(Some(task))
            .map_err(|_| WriterError::Timeout(timeout))?;
        answer
            .recv_timeout(timeout)
            .map_err(|_| WriterError::Timeout(timeout))?
    }
}

type Answer<T> = mpsc::Receiver<Result<T, WriterError>>;

fn pending<W: Work>(work: W) -> (Box<dyn Task>, Answer<W::Output>) {
    let (done, answer) = mpsc::sync_channel(1);
    let task = Pending {
        work,
        output: None,
        done,
    };
    (Box::new(task), answer)
}

fn run(mut store: Store, bot: &Bot, queue: Receiver<Option<Box<dyn Task>>>) {
    let mut stopping = false;
    while !stopping {
        let Ok(Some(first)) = queue.recv() else { break };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(Some(job)) => batch.push(job),
                Ok(None) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        process(&mut store, bot, batch);
    }
    if let Err(e) = store.checkpoint() {
        log::warn!(target: "writer", "checkpointing the WAL at stop: {e}");
    }
    log::debug!(target: "writer", "stopped");
}

fn process(store: &mut Store, bot: &Bot, mut batch: Vec<Box<dyn Task>>) {
    let now = Timestamp::now();
    let outcome = store.write_batch(&mut batch, |db, task| {
        catch_unwind(AssertUnwindSafe(|| task.run(db, bot, now))).unwrap_or_else(|_| {
            log::error!(target: "writer", "a write panicked; rolled back");
            Err(WriterError::Panicked)
        })
    });
    match outcome {
        Ok(results) => {
            for (task, result) in batch.into_iter().zip(results) {
                task.finish(result);
            }
        }
        Err(e) => {
            log::error!(target: "writer", "batch of {} not committed: {e}", batch.len());
            let error = WriterError::from(e);
            for task in batch {
                task.finish(Err(error.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Menu, OptKeywords};
    use crate::phone::PhoneNumber;
    use jiff::tz::TimeZone;

    struct Explode;

    impl Work for Explode {
        type Output = ();
        fn run(&self, db: &Db<'_>, _: &Bot, now: Timestamp) -> Result<(), WriterError> {
            db.contact_for_inbound(&PhoneNumber::parse("+27820000009").unwrap(), None, now)?;
            panic!("a bug");
        }
    }

    fn writer() -> (Writer, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("w.db")).unwrap();
        let bot = Bot {
            menu: Menu::example(),
            timezone: TimeZone::UTC,
            opt: OptKeywords::standard(),
        };
        (Writer::start(store, Arc::new(bot)).0, dir)
    }

    #[test]
    fn a_panicking_write_is_rolled_back_and_the_writer_lives_on() {
        let (writer, dir) = writer();
        assert!(matches!(writer.run(Explode), Err(WriterError::Panicked)));
        writer.ping(Duration::from_secs(5)).unwrap();
        let conn = rusqlite::Connection::open(dir.path().join("w.db")).unwrap();
        let contacts: i64 = conn
            .query_row("SELECT count(*) FROM contacts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(contacts, 0);
    }
}
