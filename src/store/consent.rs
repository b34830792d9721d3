//! The suppression list and the consent log: who said STOP, who said START, and
//! whether shopbot may message a contact.
//!
//! Both are kept per address: the contact's number, or its user id when it has
//! no number. A contact is suppressed when any of its addresses is.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use super::time::{from_sql, to_sql};
use super::{Db, StoreError};
use crate::message::ContactRef;

/// What a consent keyword did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentAction {
    /// A stop keyword: the number is suppressed.
    OptOut,
    /// A start keyword: the suppression is lifted.
    OptIn,
}

impl ConsentAction {
    fn as_sql(self) -> &'static str {
        match self {
            ConsentAction::OptOut => "opt_out",
            ConsentAction::OptIn => "opt_in",
        }
    }
}

/// One row of the consent log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    /// When the keyword arrived.
    pub at: Timestamp,
    /// `opt_out` or `opt_in`.
    pub action: String,
    /// The keyword, lower-cased.
    pub keyword: String,
    /// The MessageSid that carried it.
    pub message_sid: Option<String>,
}

/// A consent keyword received from a number.
#[derive(Debug, Clone, Copy)]
pub struct ConsentChange<'a> {
    /// The contact.
    pub who: &'a ContactRef,
    /// What it asked for.
    pub action: ConsentAction,
    /// The keyword, lower-cased.
    pub keyword: &'a str,
    /// The message that carried it.
    pub message_sid: &'a str,
    /// When.
    pub at: Timestamp,
}

impl Db<'_> {
    /// Logs a consent keyword and puts the number on, or takes it off, the
    /// suppression list. A repeated STOP keeps the original `since`.
    pub fn record_consent(&self, change: &ConsentChange<'_>) -> Result<(), StoreError> {
        let (address, at) = (address_of(change.who), to_sql(change.at));
        self.conn
            .prepare_cached(
                "INSERT INTO consent_log (at, address, action, keyword, message_sid) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                at,
                address,
                change.action.as_sql(),
                change.keyword,
                change.message_sid
            ])?;
        match change.action {
            ConsentAction::OptOut => self
                .conn
                .prepare_cached(
                    "INSERT INTO suppressions (address, since, keyword, message_sid) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (address) DO NOTHING",
                )?
                .execute(params![address, at, change.keyword, change.message_sid])?,
            ConsentAction::OptIn => self
                .conn
                .prepare_cached("DELETE FROM suppressions WHERE address IN (?1, ?2)")?
                .execute(addresses(change.who))?,
        };
        Ok(())
    }

    /// Whether the contact is on the suppression list (sent a stop keyword and
    /// no start keyword since).
    ///
    /// One primary-key lookup per address (an `IN (?1, ?2)` would build an
    /// ephemeral table on every call, and this runs for every message).
    pub fn is_suppressed(&self, who: &ContactRef) -> Result<bool, StoreError> {
        for address in addresses(who).into_iter().flatten() {
            let found = self
                .conn
                .prepare_cached("SELECT 1 FROM suppressions WHERE address = ?1")?
                .query_row([address], |_| Ok(()))
                .optional()?;
            if found.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether an opted-out contact may be reminded now: when no reminder went
    /// out after `since`; if so, records `now` as the last one.
    pub fn take_reminder(&self, who: &ContactRef, since: Timestamp, now: Timestamp) -> Result<bool, StoreError> {
        let [phone, user_id] = addresses(who);
        let n = self
            .conn
            .prepare_cached(
                "UPDATE suppressions SET reminded_at = ?3
                 WHERE address IN (?1, ?2) AND (reminded_at IS NULL OR reminded_at <= ?4)",
            )?
            .execute(params![phone, user_id, to_sql(now), to_sql(since)])?;
        Ok(n > 0)
    }

    /// A contact's consent log, oldest first.
    pub fn consent_log(&self, who: &ContactRef) -> Result<Vec<ConsentRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, action, keyword, message_sid FROM consent_log WHERE address IN (?1, ?2) ORDER BY id",
        )?;
        let rows = stmt.query_map(addresses(who), |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        rows.map(|row| {
            let (at, action, keyword, message_sid) = row?;
            Ok(ConsentRecord {
                at: from_sql(&at)?,
                action,
                keyword,
                message_sid,
            })
        })
        .collect()
    }
}

/// The address a consent change is recorded under: the number, else the user id.
fn address_of(who: &ContactRef) -> String {
    who.display()
}

/// Both addresses of a contact, for lookups (an absent one matches nothing).
fn addresses(who: &ContactRef) -> [Option<&str>; 2] {
    [who.phone.as_ref().map(|p| p.as_str()), who.user_id.as_deref()]
}
