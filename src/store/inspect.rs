//! What `shopbot check` reads from an existing database file, read-only: its
//! schema version, and the tables in it that are not shopbot's. Litestream's
//! bookkeeping tables (`_litestream_seq`, `_litestream_lock`, which it adds to
//! every database it replicates) are recognised as its own; any other stranger
//! is only named. Nothing here writes to the file.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::backup::open_error;
use super::{Store, StoreError};

/// The prefix of the tables Litestream adds to a database it replicates.
pub const LITESTREAM_PREFIX: &str = "_litestream_";

/// What an existing database file holds, as far as `check` cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseFacts {
    /// Its `user_version`: the schema version shopbot last migrated it to.
    pub schema_version: i64,
    /// Litestream's tables in it, by name (empty: Litestream never replicated it).
    pub litestream_tables: Vec<String>,
    /// Tables that are neither shopbot's nor Litestream's, by name.
    pub other_tables: Vec<String>,
}

/// Reads the facts of the database at `path` without changing it.
pub fn inspect(path: &Path) -> Result<DatabaseFacts, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(open_error(path))?;
    conn.busy_timeout(super::BUSY_TIMEOUT).map_err(open_error(path))?;
    let schema_version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(open_error(path))?;
    let ours = table_names(&Store::open_in_memory()?.conn)?;
    let (litestream_tables, other_tables) = table_names(&conn)?
        .into_iter()
        .filter(|name| !ours.contains(name))
        .partition(|name| name.starts_with(LITESTREAM_PREFIX));
    Ok(DatabaseFacts {
        schema_version,
        litestream_tables,
        other_tables,
    })
}

/// The tables of `conn`'s main database, SQLite's own left out, by name.
fn table_names(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut statement = conn.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )?;
    let names = statement.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(names)
}
