//! The inbox's users (staff accounts, each a name and a password hash) and
//! their sessions, each stored as the SHA-256 of its token with its CSRF
//! token, its user and a sliding expiry. The hashing and the rules live in
//! `crate::auth`; this only stores.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use super::time::{from_sql, to_sql};
use super::{Db, StoreError};

/// The name the first account gets when it is made without one (by
/// `dashboard set-password` with no name, or from the single password of
/// earlier releases).
pub const FIRST_USER: &str = "owner";

/// A valid session as the inbox needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerSession {
    /// The session's CSRF token (in every form it renders, checked on every POST).
    pub csrf: String,
    /// When it ends unless used again.
    pub expires_at: Timestamp,
    /// The signed-in user's name.
    pub user: String,
}

/// An inbox account as signing in needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxUser {
    /// Its id (sessions name it).
    pub id: i64,
    /// The name it signs in with, and is shown by.
    pub name: String,
    /// The argon2id hash of its password.
    pub hash: String,
}

/// Why an account could not be added, renamed or removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserChange {
    /// Done.
    Done,
    /// No account has that name.
    NoSuchUser,
    /// An account has that name already.
    NameTaken,
}

impl Db<'_> {
    /// The account signing in as `name`; with no name, the first account
    /// (the one `dashboard set-password` without a name sets), however many
    /// there are: PRODUCT.md's sign-in sends only the password, and the
    /// single password of earlier releases keeps working.
    pub fn inbox_user(&self, name: Option<&str>) -> Result<Option<InboxUser>, StoreError> {
        let read = |r: &rusqlite::Row<'_>| {
            Ok(InboxUser {
                id: r.get(0)?,
                name: r.get(1)?,
                hash: r.get(2)?,
            })
        };
        match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => Ok(self
                .conn
                .prepare_cached("SELECT id, name, hash FROM inbox_users WHERE name = ?1")?
                .query_row([name], read)
                .optional()?),
            None => Ok(self
                .conn
                .prepare_cached("SELECT id, name, hash FROM inbox_users ORDER BY id LIMIT 1")?
                .query_row([], read)
                .optional()?),
        }
    }

    /// Every account's name, oldest first.
    pub fn inbox_user_names(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT name FROM inbox_users ORDER BY id")?;
        let names = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(names)
    }

    /// A new account.
    pub fn add_inbox_user(&self, name: &str, hash: &str, now: Timestamp) -> Result<UserChange, StoreError> {
        let added = self
            .conn
            .prepare_cached(
                "INSERT INTO inbox_users (name, hash, created_at, changed_at) VALUES (?1, ?2, ?3, ?3)
                 ON CONFLICT (name) DO NOTHING",
            )?
            .execute(params![name, hash, to_sql(now)])?;
        Ok(if added == 1 {
            UserChange::Done
        } else {
            UserChange::NameTaken
        })
    }

    /// Ends every session of the account `name`.
    fn end_sessions_of(&self, name: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM owner_sessions WHERE user_id = (SELECT id FROM inbox_users WHERE name = ?1)")?
            .execute([name])?;
        Ok(())
    }

    /// Removes an account and ends its sessions.
    pub fn remove_inbox_user(&self, name: &str) -> Result<UserChange, StoreError> {
        self.end_sessions_of(name)?;
        let removed = self
            .conn
            .prepare_cached("DELETE FROM inbox_users WHERE name = ?1")?
            .execute([name])?;
        Ok(if removed == 1 {
            UserChange::Done
        } else {
            UserChange::NoSuchUser
        })
    }

    /// Sets the password of the account `name` and ends its sessions (a
    /// changed password signs that user out everywhere).
    pub fn set_inbox_password(&self, name: &str, hash: &str, now: Timestamp) -> Result<UserChange, StoreError> {
        let changed = self
            .conn
            .prepare_cached("UPDATE inbox_users SET hash = ?2, changed_at = ?3 WHERE name = ?1")?
            .execute(params![name, hash, to_sql(now)])?;
        if changed == 0 {
            return Ok(UserChange::NoSuchUser);
        }
        self.end_sessions_of(name)?;
        Ok(UserChange::Done)
    }

    /// Sets the first account's password (making it, as [`FIRST_USER`],
    /// when there is none): `dashboard set-password` without a name, and the
    /// demo. Returns the account's name.
    pub fn set_owner_password(&self, hash: &str, now: Timestamp) -> Result<String, StoreError> {
        let first: Option<String> = self
            .conn
            .prepare_cached("SELECT name FROM inbox_users ORDER BY id LIMIT 1")?
            .query_row([], |r| r.get(0))
            .optional()?;
        match first {
            Some(name) => {
                self.set_inbox_password(&name, hash, now)?;
                Ok(name)
            }
            None => {
                self.add_inbox_user(FIRST_USER, hash, now)?;
                Ok(FIRST_USER.to_string())
            }
        }
    }

    /// Stores a new session for `user` (expired ones are cleared at the same time).
    pub fn create_owner_session(
        &self,
        token_hash: &str,
        csrf: &str,
        user: i64,
        (now, expires_at): (Timestamp, Timestamp),
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM owner_sessions WHERE expires_at <= ?1")?
            .execute([to_sql(now)])?;
        self.conn
            .prepare_cached(
                "INSERT INTO owner_sessions (token_hash, csrf, created_at, expires_at, user_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![token_hash, csrf, to_sql(now), to_sql(expires_at), user])?;
        Ok(())
    }

    /// The session a token hash names, if it has not expired at `now` and
    /// its user still exists.
    pub fn owner_session(&self, token_hash: &str, now: Timestamp) -> Result<Option<OwnerSession>, StoreError> {
        let row: Option<(String, String, String)> = self
            .conn
            .prepare_cached(
                "SELECT s.csrf, s.expires_at, u.name FROM owner_sessions s JOIN inbox_users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2",
            )?
            .query_row(params![token_hash, to_sql(now)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        row.map(|(csrf, expires_at, user)| {
            Ok(OwnerSession {
                csrf,
                expires_at: from_sql(&expires_at)?,
                user,
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
    fn sessions_expire_slide_and_end_with_their_users_new_password_or_removal() {
        let mut store = Store::open_in_memory().unwrap();
        let day = |d: u8| at(&format!("2026-01-{d:02}T00:00:00Z"));
        store
            .write(|db| {
                assert_eq!(db.inbox_user(None)?, None);
                assert_eq!(db.set_owner_password("$argon2id$first", day(1))?, FIRST_USER);
                let owner = db.inbox_user(None)?.unwrap();
                assert_eq!(db.add_inbox_user("Thandi", "$argon2id$t", day(1))?, UserChange::Done);
                assert_eq!(
                    db.add_inbox_user("thandi", "$argon2id$x", day(1))?,
                    UserChange::NameTaken
                );
                assert_eq!(
                    db.inbox_user(None)?,
                    Some(owner.clone()),
                    "two accounts: no name is the first"
                );
                let thandi = db.inbox_user(Some("THANDI"))?.unwrap();
                db.create_owner_session("h1", "c1", owner.id, (day(1), day(31)))?;
                db.create_owner_session("h2", "c2", owner.id, (day(1), day(31)))?;
                db.create_owner_session("h3", "c3", thandi.id, (day(1), day(31)))?;
                assert_eq!(db.owner_session("h3", day(10))?.unwrap().user, "Thandi");
                assert_eq!(db.owner_session("h1", at("2026-02-01T00:00:00Z"))?, None, "expired");
                db.extend_owner_session("h1", at("2026-03-01T00:00:00Z"))?;
                assert!(db.owner_session("h1", at("2026-02-01T00:00:00Z"))?.is_some(), "slid");
                db.delete_owner_session("h2")?;
                assert_eq!(db.owner_session("h2", day(10))?, None, "signed out");
                db.set_owner_password("$argon2id$second", day(11))?;
                assert_eq!(db.inbox_user(Some("owner"))?.unwrap().hash, "$argon2id$second");
                assert_eq!(
                    db.owner_session("h1", day(12))?,
                    None,
                    "a new password ends its user's sessions"
                );
                assert!(db.owner_session("h3", day(12))?.is_some(), "and only theirs");
                assert_eq!(db.remove_inbox_user("Thandi")?, UserChange::Done);
                assert_eq!(db.owner_session("h3", day(12))?, None, "a removed user is signed out");
                assert_eq!(db.remove_inbox_user("Thandi")?, UserChange::NoSuchUser);
                assert_eq!(db.inbox_user_names()?, ["owner"]);
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
}
