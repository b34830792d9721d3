//! The owner's inbox sign-in: the password's hash (one owner) and the sessions,
//! each stored as the SHA-256 of its token with its CSRF token and a sliding
//! expiry. The hashing and the rules live in `crate::auth`; this only stores.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use super::time::{from_sql, to_sql};
use super::{Db, StoreError};

/// A valid session as the inbox needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerSession {
    /// The session's CSRF token (in every form it renders, checked on every POST).
    pub csrf: String,
    /// When it ends unless used again.
    pub expires_at: Timestamp,
}

impl Db<'_> {
    /// The owner's password hash, if one was set.
    pub fn owner_password_hash(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT hash FROM owner_password WHERE id = 1")?
            .query_row([], |r| r.get(0))
            .optional()?)
    }

    /// Sets the owner's password hash and ends every session (a changed
    /// password signs everyone out).
    pub fn set_owner_password(&self, hash: &str, now: Timestamp) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO owner_password (id, hash, changed_at) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, changed_at = excluded.changed_at",
            )?
            .execute(params![hash, to_sql(now)])?;
        self.conn.prepare_cached("DELETE FROM owner_sessions")?.execute([])?;
        Ok(())
    }

    /// Stores a new session (expired ones are cleared at the same time).
    pub fn create_owner_session(
        &self,
        token_hash: &str,
        csrf: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM owner_sessions WHERE expires_at <= ?1")?
            .execute([to_sql(now)])?;
        self.conn
            .prepare_cached(
                "INSERT INTO owner_sessions (token_hash, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![token_hash, csrf, to_sql(now), to_sql(expires_at)])?;
        Ok(())
    }

    /// The session a token hash names, if it has not expired at `now`.
    pub fn owner_session(&self, token_hash: &str, now: Timestamp) -> Result<Option<OwnerSession>, StoreError> {
        let row: Option<(String, String)> = self
            .conn
            .prepare_cached("SELECT csrf, expires_at FROM owner_sessions WHERE token_hash = ?1 AND expires_at > ?2")?
            .query_row(params![token_hash, to_sql(now)], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(csrf, expires_at)| {
            Ok(OwnerSession {
                csrf,
                expires_at: from_sql(&expires_at)?,
            })
        })
        .transpose()
    }

    /// Moves a session's expiry (sliding).
    pub fn extend_owner_session(&self, token_hash: &str, expires_at: Timestamp) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE owner_sessions SET expires_at = ?2 WHERE token_hash = ?1")?
            .execute(params![token_hash, to_sql(expires_at)])?;
        Ok(())
    }

    /// Ends a session (sign-out).
    pub fn delete_owner_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM owner_sessions WHERE token_hash = ?1")?
            .execute([token_hash])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn sessions_expire_slide_and_end_with_a_new_password() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .write(|db| {
                assert_eq!(db.owner_password_hash()?, None);
                db.set_owner_password("$argon2id$first", at("2026-01-01T00:00:00Z"))?;
                db.create_owner_session("h1", "c1", at("2026-01-01T00:00:00Z"), at("2026-01-31T00:00:00Z"))?;
                db.create_owner_session("h2", "c2", at("2026-01-01T00:00:00Z"), at("2026-01-31T00:00:00Z"))?;
                assert_eq!(db.owner_session("h1", at("2026-01-10T00:00:00Z"))?.unwrap().csrf, "c1");
                assert_eq!(db.owner_session("h1", at("2026-02-01T00:00:00Z"))?, None, "expired");
                db.extend_owner_session("h1", at("2026-03-01T00:00:00Z"))?;
                assert!(db.owner_session("h1", at("2026-02-01T00:00:00Z"))?.is_some(), "slid");
                db.delete_owner_session("h2")?;
                assert_eq!(db.owner_session("h2", at("2026-01-10T00:00:00Z"))?, None, "signed out");
                db.set_owner_password("$argon2id$second", at("2026-01-11T00:00:00Z"))?;
                assert_eq!(db.owner_password_hash()?.as_deref(), Some("$argon2id$second"));
                assert_eq!(
                    db.owner_session("h1", at("2026-01-12T00:00:00Z"))?,
                    None,
                    "a new password ends sessions"
                );
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
}
