//! The store: every SQL statement shopbot runs lives under this module.
//!
//! One SQLite file in WAL mode with `synchronous = FULL`, so a transaction that
//! returned from `COMMIT` survives a process crash and a power cut. Writes go
//! through [`Store::write`] (one `BEGIN IMMEDIATE` transaction: a deferred one
//! that upgrades to a write fails at once with "busy" and ignores the busy
//! timeout); inside one, [`Db::attempt`] keeps a part of it all-or-nothing (the
//! writer thread commits many messages with one fsync that way, see
//! `writer.rs`). Queries are methods of [`Db`], a borrowed connection that is
//! only handed out inside a transaction.

mod actions;
pub mod backup;
mod consent;
mod decode;
mod inbox;
pub mod inspect;
mod languages;
mod migrations;
mod orders;
mod outbox;
mod owner;
mod queries;
mod read;
mod reports;
pub mod restore;
mod retention;
pub mod serving;
mod staff;
mod statuses;
mod submissions;
mod templates;
mod time;
mod unreadable;

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

pub use actions::{ActionRecord, InboxAction};
pub use consent::{ConsentAction, ConsentChange, ConsentRecord};
pub use inbox::{ContactView, InboxPulse, InboxRow};
pub use orders::{Cell, NewOrder, OrderRecord, OrderUpsert};
pub use outbox::{ContactFacts, NewOutbound, OutboxEntry, OutboxJob, Settle};
pub use owner::{InboxUser, OwnerSession, UserChange, FIRST_USER};
pub use queries::{ContactId, MessageId};
pub use read::ReadPool;
pub use reports::SubmissionRecord;
pub use staff::{LatestForward, NoteKind, Waiting};
pub use statuses::{EventRecord, MessageKey, MessageRecord, Recorded};
pub use submissions::StatusSet;
pub use templates::TemplateKey;
pub use unreadable::{UnreadableItem, UNREADABLE_KEPT};

/// How long a writer waits for another process's write lock (the CLI importing
/// orders while the server runs) before reporting "busy".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the checkpoint at a clean stop waits for another process's
/// readers ([`Store::checkpoint`]).
pub const STOP_CHECKPOINT_WAIT: Duration = Duration::from_millis(300);

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or set up.
    #[error("cannot open the database {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// The file was written by a newer shopbot.
    #[error("the database {} has schema version {found}, newer than this shopbot knows ({known}); upgrade shopbot or restore a backup", path.display())]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its `user_version`.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// A value the caller passed cannot be stored (a bug in the caller).
    #[error("cannot store this: {0}")]
    Invalid(String),
    /// A statement failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was deleted or replaced under the running server: writes
    /// would go to the old, unlinked file and be lost at the next start.
    #[error(
        "the database file {} was deleted or replaced while shopbot was running; nothing is acknowledged any more, \
         because writes would go to the old file and be lost. Stop shopbot first, then restore with \
         `shopbot restore BACKUP --config …` (or put the file back) and start it again",
        path.display()
    )]
    Replaced {
        /// The file.
        path: PathBuf,
    },
    /// Another process (a running server, or a restore) holds the database's
    /// serving lock.
    #[error(
        "shopbot is serving the database {}{}; stop it first (`systemctl stop shopbot`, or stop the Windows service)",
        path.display(),
        pid.map(|pid| format!(" (process {pid})")).unwrap_or_default()
    )]
    InUse {
        /// The database.
        path: PathBuf,
        /// The holder's process id, where it can be read.
        pid: Option<u32>,
    },
    /// A file beside the database (its lock, a restore's copy) could not be
    /// written, moved or removed.
    #[error("cannot use {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A stored value could not be read back.
    #[error("unreadable {what} in the database: {detail}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
}

/// An open database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// What the path named when it was opened (none in memory, or where the
    /// platform cannot tell).
    file: Option<FileId>,
}

/// The identity of a file (device and inode): a path that names another
/// file, or none, means the database was replaced or deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId(u64, u64);

impl FileId {
    /// What `path` names now (`None` if nothing, or unknown here).
    #[cfg(unix)]
    fn of(path: &Path) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| FileId(m.dev(), m.ino()))
    }

    /// Windows does not let an open database file be deleted or renamed over
    /// (SQLite opens it without `FILE_SHARE_DELETE`), so there is nothing to check.
    #[cfg(not(unix))]
    fn of(_path: &Path) -> Option<FileId> {
        None
    }
}

/// A connection borrowed for the length of one transaction or read.
pub struct Db<'c> {
    conn: &'c Connection,
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        Self::setup(conn, path)
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()?;
        Self::setup(conn, Path::new(":memory:"))
    }

    fn setup(conn: Connection, path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        configure(&conn).map_err(open_err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(open_err)?;
        if mode != "wal" && path != Path::new(":memory:") {
            log::warn!(target: "store", "{}: journal_mode is {mode}, not wal", path.display());
        }
        conn.execute_batch("PRAGMA synchronous = FULL;").map_err(open_err)?;
        let file = if path == Path::new(":memory:") {
            None
        } else {
            FileId::of(path)
        };
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            file,
        };
        migrations::run(&mut store.conn, path)?;
        store
            .conn
            .execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(open_err)?;
        Ok(store)
    }

    /// How long a statement waits for a lock another connection holds
    /// (default [`BUSY_TIMEOUT`]).
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<(), StoreError> {
        Ok(self.conn.busy_timeout(timeout)?)
    }

    /// The file this store was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed only if it
    /// succeeds. Its `Ok` means durable in the file the path names: if the file
    /// was replaced or deleted (before, or while it ran), the answer is
    /// [`StoreError::Replaced`] and nothing more is written to the old one.
    pub fn write<T, E>(&mut self, f: impl FnOnce(&Db<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        self.still_the_same_file()?;
        let tx = Immediate::begin(&self.conn)?;
        let value = f(&Db { conn: &self.conn })?;
        tx.commit()?;
        self.still_the_same_file()?;
        Ok(value)
    }

    /// Runs `f` in a transaction that is always rolled back: what a write
    /// would do, without doing it (`--dry-run`).
    pub fn dry_run<T, E>(&mut self, f: impl FnOnce(&Db<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let value = f(&Db { conn: &tx })?;
        tx.rollback().map_err(StoreError::from)?;
        Ok(value)
    }

    /// Whether the path still names the file that was opened.
    fn still_the_same_file(&self) -> Result<(), StoreError> {
        match self.file {
            Some(opened) if FileId::of(&self.path) != Some(opened) => Err(StoreError::Replaced {
                path: self.path.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Copies the WAL into the database file and empties it (at a clean stop,
    /// so the file alone is complete and the next start reads no WAL). It
    /// waits at most [`STOP_CHECKPOINT_WAIT`] for readers of another process
    /// (Litestream holds a read transaction all the time): `Ok(false)` if the
    /// WAL had to stay, which loses nothing (the next start reads it).
    pub fn checkpoint(&self) -> Result<bool, StoreError> {
        self.conn.busy_timeout(STOP_CHECKPOINT_WAIT)?;
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        Ok(busy == 0)
    }

    /// Runs `f` in one read transaction (a consistent snapshot; takes no write lock).
    pub fn read<T>(&mut self, f: impl FnOnce(&Db<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let tx = self.conn.transaction()?;
        f(&Db { conn: &tx })
    }
}

/// A `BEGIN IMMEDIATE` transaction on the store's connection, rolled back
/// when dropped without [`Immediate::commit`] (as rusqlite's `Transaction`).
/// `BEGIN IMMEDIATE`, `COMMIT` and `ROLLBACK` are cached statements: the
/// writer begins and commits a transaction per batch, and `execute_batch`
/// parsed them anew every time (about 3,400 instructions).
struct Immediate<'c> {
    conn: &'c Connection,
}

impl<'c> Immediate<'c> {
    fn begin(conn: &'c Connection) -> Result<Immediate<'c>, StoreError> {
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(Immediate { conn })
    }

    fn commit(self) -> Result<(), StoreError> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        Ok(())
    }
}

impl Drop for Immediate<'_> {
    /// Not committed (the work failed, or `COMMIT` did): rolled back.
    fn drop(&mut self) {
        if !self.conn.is_autocommit() {
            if let Err(e) = self.conn.prepare_cached("ROLLBACK").and_then(|mut s| s.execute([])) {
                log::warn!(target: "store", "rolling back a transaction failed: {e}");
            }
        }
    }
}

/// How many prepared statements a connection keeps (rusqlite's default is
/// 16): a message runs about a dozen, besides `BEGIN IMMEDIATE` and `COMMIT`,
/// and one pushed out is prepared again (thousands of instructions).
const STATEMENT_CACHE: usize = 48;

/// Settings every connection gets, the writer's and the readers'.
///
/// The query planner stability guarantee (QPSG) keeps a prepared statement's
/// plan fixed. Without it SQLite marks statements such as `… WHERE contact_id =
/// ?1 ORDER BY id DESC` or `LIMIT ?1` to be prepared again whenever a parameter
/// is bound anew, which is every time a cached statement is reused.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

/// `text` as a literal in a `LIKE … ESCAPE '\'` pattern: its `%`, `_` and `\`
/// match only themselves.
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Db<'_> {
    /// Runs `f` inside a savepoint of the current transaction: if it fails, its
    /// writes are rolled back and the transaction goes on as before it. The
    /// statements are cached (a batch with a failure runs this per message).
    pub fn attempt<T, E>(&self, f: impl FnOnce(&Db<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let run = |sql: &str| -> Result<(), StoreError> {
            self.conn.prepare_cached(sql)?.execute([])?;
            Ok(())
        };
        run("SAVEPOINT attempt")?;
        let result = f(self);
        if result.is_err() {
            run("ROLLBACK TO attempt")?;
        }
        run("RELEASE attempt")?;
        result
    }

    /// Checks that the database takes a write (a full disk or a read-only
    /// file fails here, not only an unreadable one).
    pub fn ping(&self, now: Timestamp) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE health SET checked_at = ?1 WHERE id = 1")?
            .execute([time::to_sql(now)])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
