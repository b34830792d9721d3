//! Data retention: old message texts are blanked, the record that a message
//! was exchanged (who, when, direction, status) is kept.

use jiff::Timestamp;
use rusqlite::params;

use super::time::to_sql;
use super::{Db, StoreError};

impl Db<'_> {
    /// Blanks body, media, raw parameters and stored reply of up to `limit`
    /// messages created before `cutoff` (and the raw parameters of their status
    /// events); returns how many messages it blanked.
    pub fn forget_message_bodies(&self, cutoff: Timestamp, limit: usize) -> Result<usize, StoreError> {
        let cutoff = to_sql(cutoff);
        let n = self
            .conn
            .prepare_cached(
                "UPDATE messages SET body = NULL, media = NULL, params = NULL, reply = NULL
                 WHERE id IN (SELECT id FROM messages WHERE created_at < ?1
                              AND (body IS NOT NULL OR media IS NOT NULL OR params IS NOT NULL OR reply IS NOT NULL)
                              LIMIT ?2)",
            )?
            .execute(params![cutoff, limit as i64])?;
        self.conn
            .prepare_cached("UPDATE status_events SET params = '[]' WHERE received_at < ?1 AND params != '[]'")?
            .execute([&cutoff])?;
        Ok(n)
    }
}
