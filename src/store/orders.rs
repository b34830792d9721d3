//! Orders: the shop's import (an upsert per row, with the numbers one import
//! has seen kept in a temporary table so memory stays bounded), a customer's
//! lookup, and the owner's list.

use jiff::civil::Date;
use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use super::time::to_sql;
use super::{Db, StoreError};
use crate::engine::render::OrderView;
use crate::message::ContactRef;
use crate::phone::PhoneNumber;

/// An order row from an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The shop's order number.
    pub number: String,
    /// The status text customers see.
    pub status: String,
    /// Only this customer may look it up, when set.
    pub phone: Cell<PhoneNumber>,
    /// A note for the customer.
    pub note: Cell<String>,
    /// Last update date, as the shop wrote it.
    pub updated: Cell<String>,
}

/// What an import says about an optional column of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell<T> {
    /// The sheet has no such column: the stored value stays as it is.
    Keep,
    /// The sheet has the column: this value (`None` for an empty cell clears it).
    Set(Option<T>),
}

impl<T: Clone> Cell<T> {
    /// The value to store, given the stored one.
    fn or_stored(&self, stored: Option<T>) -> Option<T> {
        match self {
            Cell::Keep => stored,
            Cell::Set(value) => value.clone(),
        }
    }
}

/// An order's stored columns: number, status, phone, note, updated.
type OrderRow = (String, String, Option<String>, Option<String>, Option<String>);

/// What an order upsert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderUpsert {
    /// A new order.
    Added,
    /// An existing order changed, but not its status.
    Updated,
    /// An existing order's status changed: its phone and note as stored now.
    StatusChanged {
        /// The customer's number, if the order has one.
        phone: Option<String>,
        /// The note.
        note: Option<String>,
    },
    /// An existing order, already identical.
    Unchanged,
}

/// The most of each text a customer's lookup reads: one WhatsApp message's
/// worth (Meta's 4,096 characters), whatever a database from before the
/// import's caps holds, so a lookup's work stays bounded.
const LOOKUP_TEXT_CHARS: i64 = 4_096;

/// An order as the owner's list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// The shop's order number.
    pub number: String,
    /// The status text customers see.
    pub status: String,
    /// The only customer who may look it up, if any.
    pub phone: Option<String>,
    /// The note for the customer.
    pub note: Option<String>,
    /// Last update date, as the shop wrote it.
    pub updated: Option<String>,
    /// When the last import touched it.
    pub imported_at: String,
}

impl Db<'_> {
    /// The order with this number that `customer` may see: orders without a
    /// phone are public, others only to their own customer.
    pub fn order_for(&self, number: &str, customer: &ContactRef) -> Result<Option<OrderView>, StoreError> {
        let phone = customer.phone.as_ref().map(PhoneNumber::as_str);
        Ok(self
            .conn
            .prepare_cached(
                "SELECT number, substr(status, 1, ?3), substr(updated, 1, ?3), substr(note, 1, ?3) FROM orders
                 WHERE number = ?1 AND (phone IS NULL OR phone = ?2)",
            )?
            .query_row(params![number, phone, LOOKUP_TEXT_CHARS], |r| {
                Ok(OrderView {
                    number: r.get(0)?,
                    status: r.get(1)?,
                    updated: r.get(2)?,
                    note: r.get(3)?,
                })
            })
            .optional()?)
    }

    /// Adds or updates an order by number (case-insensitive). A [`Cell::Keep`]
    /// column keeps the stored value (nothing, for a new order), but a changed
    /// status without an update date of its own is dated `today` (the shop's
    /// date of the import): a customer must never read a new status under
    /// the old status's date.
    pub fn upsert_order(&self, order: &NewOrder, now: Timestamp, today: Date) -> Result<OrderUpsert, StoreError> {
        let existing: Option<OrderRow> = self
            .conn
            .prepare_cached("SELECT number, status, phone, note, updated FROM orders WHERE number = ?1")?
            .query_row([&order.number], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        let (stored_phone, stored_note, mut stored_updated) = match &existing {
            Some((_, _, phone, note, updated)) => (phone.clone(), note.clone(), updated.clone()),
            None => (None, None, None),
        };
        if existing.as_ref().is_some_and(|(_, status, ..)| *status != order.status) {
            stored_updated = Some(today.to_string());
        }
        let phone = match &order.phone {
            Cell::Keep => stored_phone,
            Cell::Set(phone) => phone.as_ref().map(|p| p.as_str().to_string()),
        };
        let incoming = (
            order.number.clone(),
            order.status.clone(),
            phone,
            order.note.or_stored(stored_note),
            order.updated.or_stored(stored_updated),
        );
        let outcome = match existing {
            None => OrderUpsert::Added,
            Some(row) if row == incoming => return Ok(OrderUpsert::Unchanged),
            Some((_, status, ..)) if status != incoming.1 => OrderUpsert::StatusChanged {
                phone: incoming.2.clone(),
                note: incoming.3.clone(),
            },
            Some(_) => OrderUpsert::Updated,
        };
        let (number, status, phone, note, updated) = incoming;
        self.conn
            .prepare_cached(
                "INSERT INTO orders (number, status, phone, note, updated, imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (number) DO UPDATE SET number = excluded.number, status = excluded.status,
                   phone = excluded.phone, note = excluded.note, updated = excluded.updated, imported_at = excluded.imported_at",
            )?
            .execute(params![number, status, phone, note, updated, to_sql(now)])?;
        Ok(outcome)
    }

    /// Starts an import in this transaction: no order number seen yet.
    pub fn begin_order_import(&self) -> Result<(), StoreError> {
        self.conn.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS order_import_seen (
                 number TEXT PRIMARY KEY COLLATE NOCASE,
                 line   INTEGER NOT NULL
             );
             DELETE FROM temp.order_import_seen;",
        )?;
        Ok(())
    }

    /// Notes that this import has `number` on `line`; if it had it before,
    /// the first line it was on (and nothing is noted).
    pub fn order_seen_in_import(&self, number: &str, line: u64) -> Result<Option<u64>, StoreError> {
        let first: Option<i64> = self
            .conn
            .prepare_cached("SELECT line FROM temp.order_import_seen WHERE number = ?1")?
            .query_row([number], |r| r.get(0))
            .optional()?;
        if let Some(first) = first {
            return Ok(Some(u64::try_from(first).unwrap_or_default()));
        }
        self.conn
            .prepare_cached("INSERT INTO temp.order_import_seen (number, line) VALUES (?1, ?2)")?
            .execute(params![number, i64::try_from(line).unwrap_or(i64::MAX)])?;
        Ok(None)
    }

    /// How many orders there are, and the first `limit` whose number starts
    /// with `search` (all when empty), by number.
    pub fn orders(&self, search: &str, limit: usize) -> Result<(usize, Vec<OrderRecord>), StoreError> {
        let total: i64 = self.conn.query_row("SELECT count(*) FROM orders", [], |r| r.get(0))?;
        let pattern = format!("{}%", super::escape_like(search));
        let rows = self
            .conn
            .prepare_cached(
                "SELECT number, status, phone, note, updated, imported_at FROM orders
                 WHERE number LIKE ?1 ESCAPE '\\' ORDER BY number LIMIT ?2",
            )?
            .query_map(params![pattern, i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                Ok(OrderRecord {
                    number: r.get(0)?,
                    status: r.get(1)?,
                    phone: r.get(2)?,
                    note: r.get(3)?,
                    updated: r.get(4)?,
                    imported_at: r.get(5)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok((usize::try_from(total).unwrap_or_default(), rows))
    }
}
