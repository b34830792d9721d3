//! The language each customer picked (`contacts.language`): set by a switch
//! word, the language choice, or the owner in the inbox; `NULL` until then.

use rusqlite::{params, OptionalExtension};

use super::{ContactId, Db, StoreError};

impl Db<'_> {
    /// The language `contact` picked, if they ever did.
    pub fn contact_language(&self, contact: ContactId) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT language FROM contacts WHERE id = ?1")?
            .query_row([contact.0], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    /// Sets (or, with `None`, forgets) the language `contact` picked.
    pub fn set_contact_language(&self, contact: ContactId, language: Option<&str>) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE contacts SET language = ?2 WHERE id = ?1")?
            .execute(params![contact.0, language])?;
        Ok(())
    }
}
