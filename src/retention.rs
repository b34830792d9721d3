//! The retention job of `shopbot serve`: at start and then daily, message texts
//! older than `[retention] message_bodies_days` are blanked through the writer,
//! a few hundred at a time so conversations are never held up; expired
//! `Idempotency-Key`s are dropped.

use std::sync::mpsc::{self, RecvTimeoutError, Sender, TryRecvError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::outbox::IDEMPOTENCY_WINDOW;
use crate::store::Db;
use crate::writer::{Work, Writer, WriterError};

/// How often the job runs.
pub const EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// Messages blanked per transaction.
const BATCH: usize = 500;

/// Blanks one batch of message texts older than the cutoff, after an id.
struct ForgetBodies {
    cutoff: Timestamp,
    after: i64,
}

impl Work for ForgetBodies {
    type Output = Option<(usize, i64)>;
    fn run(&self, db: &Db<'_>, _: Timestamp) -> Result<Self::Output, WriterError> {
        Ok(db.forget_message_bodies(self.cutoff, self.after, BATCH)?)
    }
}

/// Blanks the raw parameters of old status callbacks.
struct ForgetStatusParams(Timestamp);

impl Work for ForgetStatusParams {
    type Output = usize;
    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<usize, WriterError> {
        let keys_cutoff = now.checked_sub(IDEMPOTENCY_WINDOW).unwrap_or(Timestamp::MIN);
        db.forget_idempotency_keys(keys_cutoff)?;
        Ok(db.forget_status_params(self.0)?)
    }
}

/// Applies the retention rule once; returns how many messages were blanked.
/// `stopping` is asked between batches: a long first clean-up must not hold
/// up a shutdown (the rest is done at the next start).
fn apply(writer: &Writer, days: u32, now: Timestamp, stopping: impl Fn() -> bool) -> Result<usize, WriterError> {
    let cutoff = now
        .checked_sub(SignedDuration::from_hours(24 * i64::from(days)))
        .unwrap_or(Timestamp::MIN);
    let (mut total, mut after) = (0, 0);
    while let Some((n, last)) = writer.run(ForgetBodies { cutoff, after })? {
        total += n;
        after = last;
        if stopping() {
            return Ok(total);
        }
    }
    writer.run(ForgetStatusParams(cutoff))?;
    Ok(total)
}

/// The daily job; dropping it stops the thread.
pub struct RetentionJob {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RetentionJob {
    /// Starts the job (it runs once right away).
    pub fn start(writer: Writer, days: u32) -> RetentionJob {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new().name("retention".into()).spawn(move || loop {
            let stopping = || !matches!(stopped.try_recv(), Err(TryRecvError::Empty));
            match apply(&writer, days, Timestamp::now(), stopping) {
                Ok(0) => {}
                Ok(n) => log::info!(target: "retention", "blanked the texts of {n} message(s) older than {days} days"),
                Err(e) => log::error!(target: "retention", "applying [retention]: {e}"),
            }
            match stopped.recv_timeout(EVERY) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => break,
            }
        });
        RetentionJob {
            stop: Some(stop),
            thread: thread.ok(),
        }
    }
}

impl Drop for RetentionJob {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// A writer on a database with `n` messages from 2020.
    fn writer_with_old_messages(n: usize) -> (Writer, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        drop(Store::open(&path).unwrap());
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO messages (channel, direction, from_addr, to_addr, body, created_at)
             SELECT 'twilio', 'inbound', 'a', 'b', 'old', '2020-01-01T00:00:00.000Z' FROM n",
            [n as i64],
        )
        .unwrap();
        (Writer::start(Store::open(&path).unwrap()).unwrap().0, dir)
    }

    #[test]
    fn a_clean_up_goes_through_every_batch_and_stops_between_them_when_asked() {
        let (writer, _dir) = writer_with_old_messages(2 * BATCH + 1);
        assert_eq!(apply(&writer, 30, Timestamp::now(), || false).unwrap(), 2 * BATCH + 1);
        let (writer, _dir) = writer_with_old_messages(2 * BATCH + 1);
        assert_eq!(apply(&writer, 30, Timestamp::now(), || true).unwrap(), BATCH);
    }
}
