//! Webhook items that could not be read (a Meta message without a usable
//! sender, a status without an id), kept whole for the operator: the rest of
//! their batch is handled, and these are not lost. The newest
//! [`UNREADABLE_KEPT`] are kept.

use jiff::Timestamp;
use rusqlite::params;

use super::time::to_sql;
use super::{Db, StoreError};
use crate::message::Channel;

/// How many unreadable items are kept (the oldest go first).
pub const UNREADABLE_KEPT: i64 = 1_000;

/// One kept item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableItem {
    /// The channel it came on.
    pub channel: String,
    /// Where in its batch and why it could not be read.
    pub reason: String,
    /// The item as it came.
    pub raw: String,
}

impl Db<'_> {
    /// Keeps an item that could not be read.
    pub fn keep_unreadable(&self, channel: Channel, reason: &str, raw: &str, now: Timestamp) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT INTO unreadable_items (channel, reason, raw, received_at) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![channel.as_str(), reason, raw, to_sql(now)])?;
        self.conn
            .prepare_cached("DELETE FROM unreadable_items WHERE id <= (SELECT max(id) FROM unreadable_items) - ?1")?
            .execute([UNREADABLE_KEPT])?;
        Ok(())
    }

    /// The kept items, newest first, at most `limit`.
    pub fn unreadable_items(&self, limit: usize) -> Result<Vec<UnreadableItem>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT channel, reason, raw FROM unreadable_items ORDER BY id DESC LIMIT ?1")?;
        let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
            Ok(UnreadableItem {
                channel: r.get(0)?,
                reason: r.get(1)?,
                raw: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn the_newest_thousand_are_kept() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .write(|db| {
                for n in 0..UNREADABLE_KEPT + 5 {
                    db.keep_unreadable(Channel::Meta, &format!("item {n}"), "{}", Timestamp::now())?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let kept = store.read(|db| db.unreadable_items(usize::MAX >> 1)).unwrap();
        assert_eq!(kept.len() as i64, UNREADABLE_KEPT);
        assert_eq!(kept[0].reason, format!("item {}", UNREADABLE_KEPT + 4));
        assert_eq!(kept.last().unwrap().reason, "item 5");
    }
}
