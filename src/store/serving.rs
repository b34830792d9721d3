//! "A server is using this database": an exclusive lock on a file beside it
//! (`shopbot.db` → `shopbot.db.serving`), held by `serve` and `demo` for as
//! long as they run and released by the operating system when the process
//! ends, even by `kill -9`. `shopbot restore` takes the same lock, so it
//! refuses while a server runs and no server starts while it works.
//!
//! The lock is on a file of its own, never on the database: SQLite's own
//! locks are byte ranges of the database file, and on Windows a whole-file
//! lock there would collide with them. The file holds the owner's process
//! id, for the message.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::StoreError;

/// Held while a server (or a restore) uses the database.
#[derive(Debug)]
pub struct ServingLock {
    _file: File,
}

/// The lock file of the database at `db`.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".serving");
    db.with_file_name(name)
}

impl ServingLock {
    /// Takes the lock of the database at `db`, or says who holds it.
    pub fn acquire(db: &Path) -> Result<ServingLock, StoreError> {
        let path = lock_path(db);
        let io = |source| StoreError::File {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::InUse {
                    path: db.to_path_buf(),
                    pid: holder(&mut file),
                })
            }
            Err(TryLockError::Error(source)) => return Err(io(source)),
        }
        file.set_len(0).map_err(io)?;
        file.write_all(format!("{}\n", std::process::id()).as_bytes())
            .map_err(io)?;
        Ok(ServingLock { _file: file })
    }
}

/// The process id written by the lock's holder, if it can be read (on
/// Windows the locked file cannot).
fn holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("shop.db");
        assert_eq!(lock_path(&db), dir.path().join("shop.db.serving"));
        let held = ServingLock::acquire(&db).unwrap();
        match ServingLock::acquire(&db) {
            Err(StoreError::InUse { path, pid }) => {
                assert_eq!(path, db);
                if cfg!(unix) {
                    assert_eq!(pid, Some(std::process::id()));
                }
            }
            other => panic!("{other:?}"),
        }
        drop(held);
        assert!(ServingLock::acquire(&db).is_ok());
    }
}
