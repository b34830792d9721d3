//! Read-only connections for the HTTP workers (the admin API), so reads run in
//! parallel with each other and with the single writer (WAL lets readers see the
//! last committed state without blocking or being blocked).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use super::{Db, StoreError};

/// Idle connections kept for reuse; more are opened when needed and closed after.
const MAX_IDLE: usize = 8;

/// A small pool of read-only connections to one database file.
pub struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    /// A pool for the database at `path` (opened by [`Store::open`](super::Store::open) first,
    /// which creates and migrates it).
    pub fn new(path: &Path) -> ReadPool {
        ReadPool {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` in one read transaction (a consistent snapshot).
    pub fn read<T>(&self, f: impl FnOnce(&Db<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let conn = match self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            Some(conn) => conn,
            None => self.open()?,
        };
        let value = {
            let tx = conn.unchecked_transaction()?;
            f(&Db { conn: &tx })
        };
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
        value
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let open_err = |source| StoreError::Open {
            path: self.path.clone(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(open_err)?;
        super::configure(&conn).map_err(open_err)?;
        Ok(conn)
    }
}
