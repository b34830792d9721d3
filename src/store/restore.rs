//! `shopbot restore FILE`: puts a backup (or a restored Litestream replica)
//! in place of the database, safely.
//!
//! 1. It takes the serving lock ([`super::serving`]): it refuses while a
//!    server runs, and no server starts while it works.
//! 2. It checks the file: a SQLite database (`PRAGMA integrity_check`) of a
//!    shopbot schema this build knows (an older one is migrated, a newer one
//!    refused). The file itself is never changed.
//! 3. It copies the file beside the database (`*.restoring`, with SQLite's
//!    backup API, so a backup's own `-wal` is included) and migrates the copy.
//! 4. It checkpoints the current database, keeps it as `*.before-restore`
//!    (`.before-restore.2`, … if that exists) and renames the copy into place.
//!
//! Whatever fails before step 4 leaves the current database as it was.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::backup::{copy_all, open_error};
use super::serving::ServingLock;
use super::{migrations, Store, StoreError};

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// Where the replaced database was kept (none if there was none).
    pub kept: Option<PathBuf>,
    /// The restored file's schema version, and the one it was migrated to.
    pub versions: (i64, i64),
    /// Messages in the restored database.
    pub messages: i64,
    /// Submissions in the restored database.
    pub submissions: i64,
}

/// Restores `file` as the database at `db`; see the module's doc.
pub fn restore(file: &Path, db: &Path) -> Result<RestoreReport, StoreError> {
    let _lock = ServingLock::acquire(db)?;
    let staged = sibling(db, ".restoring");
    remove_database_files(&staged)?;
    let result = stage(file, &staged);
    let (from_version, messages, submissions) = match result {
        Ok(staged_facts) => staged_facts,
        Err(e) => {
            let _ = remove_database_files(&staged);
            return Err(e);
        }
    };
    let kept = set_aside(db)?;
    std::fs::rename(&staged, db).map_err(|source| StoreError::File {
        path: db.to_path_buf(),
        source,
    })?;
    Ok(RestoreReport {
        kept,
        versions: (from_version, migrations::latest()),
        messages,
        submissions,
    })
}

/// Checks `file`, copies it to `staged` and migrates the copy: its schema
/// version before, and its message and submission counts.
fn stage(file: &Path, staged: &Path) -> Result<(i64, i64, i64), StoreError> {
    // Reading a WAL-mode file makes SQLite create its `-wal` and `-shm`
    // beside it, which a read-only connection cannot remove: those that were
    // not there before are removed after, so the backup is left as it was.
    let side_files = [sibling(file, "-wal"), sibling(file, "-shm")];
    let were_there = side_files.clone().map(|p| p.exists());
    let result = check_and_copy(file, staged);
    for (path, was_there) in side_files.iter().zip(were_there) {
        if !was_there {
            let _ = std::fs::remove_file(path);
        }
    }
    result
}

fn check_and_copy(file: &Path, staged: &Path) -> Result<(i64, i64, i64), StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let source = Connection::open_with_flags(file, flags).map_err(open_error(file))?;
    source.busy_timeout(super::BUSY_TIMEOUT).map_err(open_error(file))?;
    let check: String = source
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(open_error(file))?;
    if check != "ok" {
        return Err(StoreError::Corrupt {
            what: "file to restore",
            detail: check,
        });
    }
    let version: i64 = source.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version < 1 {
        return Err(StoreError::Invalid(format!(
            "{} is a SQLite file but not a shopbot database (it has no shopbot schema)",
            file.display()
        )));
    }
    if version > migrations::latest() {
        return Err(StoreError::TooNew {
            path: file.to_path_buf(),
            found: version,
            known: migrations::latest(),
        });
    }
    let mut copy = Connection::open(staged).map_err(open_error(staged))?;
    copy_all(&source, &mut copy)?;
    drop(copy);
    let store = Store::open(staged)?;
    let count = |table: &str| {
        store
            .conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0))
    };
    let counts = (count("messages")?, count("submissions")?);
    store.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    drop(store);
    remove_wal_files(staged)?;
    Ok((version, counts.0, counts.1))
}

/// Moves the database at `db` (checkpointed first, so its `-wal` holds
/// nothing) to the first free `*.before-restore` name.
fn set_aside(db: &Path) -> Result<Option<PathBuf>, StoreError> {
    if !db.exists() {
        return Ok(None);
    }
    let current = Connection::open(db).map_err(open_error(db))?;
    current.busy_timeout(super::BUSY_TIMEOUT).map_err(open_error(db))?;
    current.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    drop(current);
    let kept = (1..)
        .map(|n| match n {
            1 => sibling(db, ".before-restore"),
            n => sibling(db, &format!(".before-restore.{n}")),
        })
        .find(|path| !path.exists())
        .unwrap_or_else(|| sibling(db, ".before-restore"));
    let io = |source| StoreError::File {
        path: db.to_path_buf(),
        source,
    };
    std::fs::rename(db, &kept).map_err(io)?;
    remove_wal_files(db)?;
    Ok(Some(kept))
}

/// `db` with `suffix` added to its file name.
fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    db.with_file_name(name)
}

/// Removes `db` and its `-wal` and `-shm`, where they exist.
fn remove_database_files(db: &Path) -> Result<(), StoreError> {
    remove_if_there(db)?;
    remove_wal_files(db)
}

fn remove_wal_files(db: &Path) -> Result<(), StoreError> {
    remove_if_there(&sibling(db, "-wal"))?;
    remove_if_there(&sibling(db, "-shm"))
}

fn remove_if_there(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::File {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}
