//! The single writer thread: every write of `shopbot serve` (inbound messages,
//! status callbacks, health pings) happens here, with group commit.
//!
//! HTTP workers read, verify and parse requests in parallel, then hand the parsed
//! [`Work`] to this thread and wait ([`Writer::run`]), or leave what to do
//! with its result to the writer ([`Writer::run_then`]: a webhook's answer is
//! rendered here and handed to the connection's thread to write). The writer
//! takes everything queued (up to [`MAX_BATCH`]), runs it in one transaction
//! and commits once: one fsync for the batch, and no `database is locked`
//! anywhere, because there is only one writer. Results are given out only
//! after the commit, so every `200` is durable. Repeated MessageSids are serialised here too, so two copies of one
//! webhook can never both run their effects, even when they arrive together and
//! land in one batch.
//!
//! Each piece of work stays all-or-nothing without paying for it on every
//! message: a batch first runs with no savepoints (SQLite copies every page a
//! savepoint touches into a sub-journal, and frees it again at release). If any
//! piece fails or panics, that transaction is rolled back whole and the batch
//! runs again with a savepoint per piece, so the failing piece alone is undone
//! and the others commit. Work is a function of the database and its input, so
//! running it a second time gives the same result.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use jiff::Timestamp;

use crate::clock::Clock;
use crate::store::{Db, Store, StoreError};

/// The most pieces of work committed in one transaction.
pub const MAX_BATCH: usize = 256;
/// How many pieces may wait for the writer before workers block.
const QUEUE: usize = 1024;

/// Why the writer could not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriterError {
    /// The database refused the work (shared: one failed batch answers many callers).
    #[error("database: {0}")]
    Store(#[source] Arc<StoreError>),
    /// A thread the writer needs could not be started.
    #[error("cannot start the {what} thread: {source}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// Why.
        #[source]
        source: Arc<std::io::Error>,
    },
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
        WriterError::Store(Arc::new(e))
    }
}

/// Something the writer does inside one transaction of a batch.
pub trait Work: Send + 'static {
    /// What the caller gets back once the batch is committed.
    type Output: Send + 'static;
    /// Does the work; an error rolls back this piece alone. It may run twice
    /// (see the module doc), so it must not act outside the database.
    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<Self::Output, WriterError>;

    /// Runs instead of [`Work::run`] when `run` panicked, after its writes were
    /// rolled back. By default the panic stands and the caller gets
    /// [`WriterError::Panicked`].
    fn recover(&self, _db: &Db<'_>, _now: Timestamp) -> Result<Self::Output, WriterError> {
        Err(WriterError::Panicked)
    }
}

/// A health check: the database answers a query.
struct Ping;

impl Work for Ping {
    type Output = ();

    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<(), WriterError> {
        Ok(db.ping(now)?)
    }
}

/// A piece of work with its caller's answer channel, type-erased for the queue.
trait Task: Send {
    /// Runs the work and keeps its output for [`Task::finish`].
    fn run(&mut self, db: &Db<'_>, now: Timestamp) -> Result<(), WriterError>;
    /// Runs the work's recovery and keeps its output.
    fn recover(&mut self, db: &Db<'_>, now: Timestamp) -> Result<(), WriterError>;
    /// Answers the caller with the work's output, or `outcome`'s error.
    fn finish(self: Box<Self>, outcome: Result<(), WriterError>);
}

/// What runs with a piece of work's result after the commit, on the writer
/// thread.
pub trait Then<T>: FnOnce(Result<T, WriterError>) + Send + 'static {}
impl<T, F: FnOnce(Result<T, WriterError>) + Send + 'static> Then<T> for F {}

struct Pending<W: Work, F> {
    work: W,
    output: Option<W::Output>,
    then: F,
}

impl<W: Work, F: Then<W::Output>> Task for Pending<W, F> {
    fn run(&mut self, db: &Db<'_>, now: Timestamp) -> Result<(), WriterError> {
        self.output = None;
        self.output = Some(self.work.run(db, now)?);
        Ok(())
    }

    fn recover(&mut self, db: &Db<'_>, now: Timestamp) -> Result<(), WriterError> {
        self.output = None;
        self.output = Some(self.work.recover(db, now)?);
        Ok(())
    }

    fn finish(self: Box<Self>, outcome: Result<(), WriterError>) {
        let Pending { output, then, .. } = *self;
        then(outcome.and_then(|()| output.ok_or(WriterError::Stopped)));
    }
}

/// How long the writer waits for a write lock held by another process.
pub const WRITER_BUSY_TIMEOUT: Duration = Duration::from_secs(3);

/// A handle to the writer thread; clone it freely.
#[derive(Clone)]
pub struct Writer {
    jobs: SyncSender<Option<Box<dyn Task>>>,
}

impl Writer {
    /// Starts the writer on `store`. It stops when every handle is dropped.
    ///
    /// The writer waits at most [`WRITER_BUSY_TIMEOUT`] for a write lock held
    /// outside (a backup tool, a `sqlite3` shell), so a webhook queued behind
    /// such a wait still gets its `503` well within Twilio's 15 s timeout.
    pub fn start(store: Store) -> Result<(Writer, JoinHandle<()>), WriterError> {
        Writer::start_with_clock(store, Clock::system())
    }

    /// [`Writer::start`], with the time every piece of work runs at taken
    /// from `clock` (tests set it).
    pub fn start_with_clock(store: Store, clock: Clock) -> Result<(Writer, JoinHandle<()>), WriterError> {
        store.set_busy_timeout(WRITER_BUSY_TIMEOUT)?;
        let (jobs, queue) = mpsc::sync_channel(QUEUE);
        let thread = thread::Builder::new()
            .name("writer".into())
            .spawn(move || run(store, queue, clock))
            .map_err(|e| WriterError::Thread {
                what: "writer",
                source: Arc::new(e),
            })?;
        Ok((Writer { jobs }, thread))
    }

    /// Runs `work` and returns its output once it is committed.
    pub fn run<W: Work>(&self, work: W) -> Result<W::Output, WriterError> {
        let (task, answer) = pending(work);
        self.jobs.send(Some(task)).map_err(|_| WriterError::Stopped)?;
        answer.recv().map_err(|_| WriterError::Stopped)?
    }

    /// Queues `work` and returns at once; `then` gets its output once it is
    /// committed (or the error), on the writer thread, so it must be quick
    /// and never wait: it answers a webhook without handing the answer back
    /// to a waiting thread (one wake-up less per request). If the writer has
    /// stopped, `then` runs here with [`WriterError::Stopped`].
    pub fn run_then<W: Work>(&self, work: W, then: impl Then<W::Output>) {
        let task = Box::new(Pending {
            work,
            output: None,
            then,
        });
        if let Err(mpsc::SendError(Some(task))) = self.jobs.send(Some(task)) {
            task.finish(Err(WriterError::Stopped));
        }
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
        then: move |result| {
            let _ = done.send(result);
        },
    };
    (Box::new(task), answer)
}

fn run(mut store: Store, queue: Receiver<Option<Box<dyn Task>>>, clock: Clock) {
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
        process(&mut store, batch, clock.now());
    }
    match store.checkpoint() {
        Ok(true) => {}
        Ok(false) => {
            log::info!(target: "writer", "the WAL stays beside the database at stop: another process (Litestream?) is reading it; nothing is lost, the next start reads it")
        }
        Err(e) => log::warn!(target: "writer", "checkpointing the WAL at stop: {e}"),
    }
    log::debug!(target: "writer", "stopped");
}

fn process(store: &mut Store, mut batch: Vec<Box<dyn Task>>, now: Timestamp) {
    let outcome = match store.write(|db| run_together(db, now, &mut batch)) {
        Ok(()) => Ok(vec![Ok(()); batch.len()]),
        Err(Together::Store(e)) => Err(e),
        Err(Together::PieceFailed) => {
            log::debug!(target: "writer", "a piece of a batch of {} failed; running each alone", batch.len());
            store.write(|db| {
                let results = batch.iter_mut().map(|task| run_alone(db, now, task.as_mut()));
                Ok::<_, StoreError>(results.collect())
            })
        }
    };
    match outcome {
        Ok(results) => {
            for (task, result) in batch.into_iter().zip(results) {
                finish(task, result);
            }
        }
        Err(e) => {
            log::error!(target: "writer", "batch of {} not committed: {e}", batch.len());
            let error = WriterError::from(e);
            for task in batch {
                finish(task, Err(error.clone()));
            }
        }
    }
}

/// Gives a task its result; a panic in what runs then (a bug in an answer's
/// rendering) is logged and never ends the writer.
fn finish(task: Box<dyn Task>, result: Result<(), WriterError>) {
    if catch_unwind(AssertUnwindSafe(|| task.finish(result))).is_err() {
        log::error!(target: "writer", "answering a committed piece of work panicked");
    }
}

/// Why a batch run without savepoints must be rolled back.
enum Together {
    /// The transaction itself failed: every piece gets this error.
    Store(StoreError),
    /// One piece failed: run each alone.
    PieceFailed,
}

impl From<StoreError> for Together {
    fn from(e: StoreError) -> Together {
        Together::Store(e)
    }
}

/// The fast path: every piece in the caller's transaction, no savepoints.
fn run_together(db: &Db<'_>, now: Timestamp, batch: &mut [Box<dyn Task>]) -> Result<(), Together> {
    for task in batch {
        guarded(|| task.run(db, now)).map_err(|_| Together::PieceFailed)?;
    }
    Ok(())
}

/// The slow path, for one piece inside its own savepoint: a failure is rolled
/// back to before the piece; after a panic its recovery runs instead, in a
/// savepoint of its own.
fn run_alone(db: &Db<'_>, now: Timestamp, task: &mut dyn Task) -> Result<(), WriterError> {
    match db.attempt(|db| guarded(|| task.run(db, now))) {
        Err(WriterError::Panicked) => db.attempt(|db| guarded(|| task.recover(db, now))),
        other => other,
    }
}

/// Runs `f`, turning a panic (a bug) into [`WriterError::Panicked`].
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, WriterError>) -> Result<T, WriterError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        log::error!(target: "writer", "a write panicked; rolled back");
        Err(WriterError::Panicked)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::ContactRef;
    use crate::phone::PhoneNumber;

    const NUMBER: &str = "+27820000009";

    /// Adds a contact; panics afterwards if asked to, and then recovers by
    /// adding `recovery` if that is set.
    struct AddContact {
        phone: &'static str,
        panic: bool,
        recovery: Option<&'static str>,
    }

    fn add(phone: &'static str) -> AddContact {
        AddContact {
            phone,
            panic: false,
            recovery: None,
        }
    }

    fn explode(phone: &'static str) -> AddContact {
        AddContact {
            panic: true,
            ..add(phone)
        }
    }

    fn add_contact(db: &Db<'_>, phone: &str, now: Timestamp) -> Result<String, WriterError> {
        db.find_or_add_contact(&ContactRef::phone(PhoneNumber::parse(phone).unwrap()), None, now)?;
        Ok(phone.to_string())
    }

    impl Work for AddContact {
        type Output = String;
        fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<String, WriterError> {
            add_contact(db, self.phone, now)?;
            assert!(!self.panic, "a bug");
            Ok(self.phone.to_string())
        }
        fn recover(&self, db: &Db<'_>, now: Timestamp) -> Result<String, WriterError> {
            match self.recovery {
                Some(phone) => add_contact(db, phone, now),
                None => Err(WriterError::Panicked),
            }
        }
    }

    fn contacts(path: &std::path::Path) -> Vec<String> {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut stmt = conn.prepare("SELECT phone FROM contacts ORDER BY phone").unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    fn writer() -> (Writer, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("w.db")).unwrap();
        (Writer::start(store).unwrap().0, dir)
    }

    #[test]
    fn a_panicking_write_is_rolled_back_and_the_writer_lives_on() {
        let (writer, dir) = writer();
        assert!(matches!(writer.run(explode(NUMBER)), Err(WriterError::Panicked)));
        writer.ping(Duration::from_secs(5)).unwrap();
        assert_eq!(contacts(&dir.path().join("w.db")), Vec::<String>::new());
    }

    /// One batch, as the writer thread would take it from its queue.
    fn process_batch(work: Vec<AddContact>) -> (Vec<Result<String, WriterError>>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let mut store = Store::open(&path).unwrap();
        let (batch, answers): (Vec<_>, Vec<_>) = work.into_iter().map(pending).unzip();
        process(&mut store, batch, Timestamp::now());
        let results = answers.iter().map(|a| a.recv().unwrap()).collect();
        (results, contacts(&path))
    }

    #[test]
    fn a_failing_piece_is_undone_alone_and_the_rest_of_its_batch_commits() {
        let (results, stored) = process_batch(vec![add("+27820000001"), explode("+27820000002"), add("+27820000003")]);
        assert_eq!(results[0].as_deref().ok(), Some("+27820000001"));
        assert!(matches!(results[1], Err(WriterError::Panicked)), "{:?}", results[1]);
        assert_eq!(results[2].as_deref().ok(), Some("+27820000003"));
        assert_eq!(stored, ["+27820000001", "+27820000003"]);
    }

    #[test]
    fn a_panic_is_rolled_back_before_its_recovery_runs_and_the_recovery_is_the_answer() {
        let recovering = AddContact {
            recovery: Some("+27820000005"),
            ..explode("+27820000004")
        };
        let (results, stored) = process_batch(vec![add("+27820000001"), recovering]);
        assert_eq!(results[0].as_deref().ok(), Some("+27820000001"));
        assert_eq!(results[1].as_deref().ok(), Some("+27820000005"));
        assert_eq!(stored, ["+27820000001", "+27820000005"]);
    }

    #[test]
    fn a_batch_without_failures_commits_every_piece() {
        let (results, stored) = process_batch(vec![add("+27820000001"), add("+27820000002")]);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert_eq!(stored, ["+27820000001", "+27820000002"]);
    }
}
