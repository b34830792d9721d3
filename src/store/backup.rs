//! `shopbot backup FILE`: a consistent copy of the live database with SQLite's
//! online backup API, safe while the server writes (WAL: the copy is the
//! snapshot of one read transaction; writers are not blocked).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::StoreError;

/// What a backup produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The copy.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Messages in the copy (a quick sign it is the real thing).
    pub messages: i64,
    /// Submissions in the copy.
    pub submissions: i64,
}

/// Copies every page in one step (-1: one read transaction, so one consistent
/// snapshot; a step by pieces would restart whenever the server commits).
pub(super) fn copy_all(src: &Connection, dst: &mut Connection) -> Result<(), StoreError> {
    let backup = Backup::new(src, dst)?;
    let deadline = Instant::now() + super::BUSY_TIMEOUT;
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            _ if Instant::now() > deadline => {
                return Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                    Some("the database stayed locked; try again".into()),
                )))
            }
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Copies the database at `source` to `dest` (which must not exist) and checks
/// the copy with `PRAGMA integrity_check`. If anything fails, `dest` is removed:
/// a half-written or damaged file must not be left looking like a backup.
pub fn backup(source: &Path, dest: &Path) -> Result<BackupReport, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let src = Connection::open_with_flags(source, flags).map_err(open_error(source))?;
    src.busy_timeout(super::BUSY_TIMEOUT).map_err(open_error(source))?;
    let (messages, submissions) = copy_and_check(&src, dest).inspect_err(|_| {
        let _ = std::fs::remove_file(dest);
    })?;
    let bytes = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport {
        path: dest.to_path_buf(),
        bytes,
        messages,
        submissions,
    })
}

pub(super) fn open_error(path: &Path) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Open { path, source }
}

/// Writes the copy, checks it, and counts its messages and submissions.
fn copy_and_check(src: &Connection, dest: &Path) -> Result<(i64, i64), StoreError> {
    let mut dst = Connection::open(dest).map_err(open_error(dest))?;
    copy_all(src, &mut dst)?;
    let check: String = dst.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(StoreError::Corrupt {
            what: "backup copy",
            detail: check,
        });
    }
    let count = |table: &str| dst.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0));
    Ok((count("messages")?, count("submissions")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_backup_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("not-a-database.db");
        std::fs::write(
            &source,
            b"this is not an SQLite file, it is just long enough to be read as one",
        )
        .unwrap();
        let dest = dir.path().join("copy.db");
        assert!(backup(&source, &dest).is_err());
        assert!(!dest.exists(), "the failed copy was left behind");
    }
}
