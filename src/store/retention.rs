//! Data retention: old message texts are blanked, the record that a message
//! was exchanged (who, when, direction, status) is kept.

use jiff::Timestamp;
use rusqlite::params;

use super::time::to_sql;
use super::{Db, StoreError};

impl Db<'_> {
    /// Blanks body, media, raw parameters and stored reply of up to `limit`
    /// messages created before `cutoff` (except outbound messages the outbox
    /// has yet to send: queued, sending or uncertain), looking only at ids after `after`
    /// (so a long clean-up walks the table once instead of rescanning what it
    /// already blanked). Returns how many it blanked and the last id it looked
    /// at, the `after` for the next call; `None` when nothing is left.
    pub fn forget_message_bodies(
        &self,
        cutoff: Timestamp,
        after: i64,
        limit: usize,
    ) -> Result<Option<(usize, i64)>, StoreError> {
        let ids: Vec<i64> = self
            .conn
            .prepare_cached(
                "SELECT id FROM messages m WHERE id > ?1 AND created_at < ?2
                   AND (body IS NOT NULL OR media IS NOT NULL OR params IS NOT NULL OR reply IS NOT NULL)
                   AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = m.id
                                   AND o.state IN ('queued', 'sending', 'uncertain'))
                 ORDER BY id LIMIT ?3",
            )?
            .query_map(params![after, to_sql(cutoff), limit as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let Some(&last) = ids.last() else {
            return Ok(None);
        };
        let mut blank = self.conn.prepare_cached(
            "UPDATE messages SET body = NULL, media = NULL, params = NULL, reply = NULL WHERE id = ?1",
        )?;
        for id in &ids {
            blank.execute([id])?;
        }
        Ok(Some((ids.len(), last)))
    }

    /// Blanks the raw parameters of status callbacks received before `cutoff`.
    pub fn forget_status_params(&self, cutoff: Timestamp) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .prepare_cached("UPDATE status_events SET params = '[]' WHERE received_at < ?1 AND params != '[]'")?
            .execute([to_sql(cutoff)])?)
    }

    /// Drops the `Idempotency-Key`s used before `cutoff` (they no longer hold).
    pub fn forget_idempotency_keys(&self, cutoff: Timestamp) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .prepare_cached("DELETE FROM idempotency_keys WHERE created_at < ?1")?
            .execute([to_sql(cutoff)])?)
    }
}
