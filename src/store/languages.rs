//! The language each customer picked (`contacts.language`): set by a switch
//! word, the language choice, or the owner in the inbox; `NULL` until then.

use rusqlite::{params, OptionalExtension};

use super::{ContactId, Db, StoreError};
use crate::message::ContactRef;

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

    /// The language the contact `who` picked, if they are known and ever did.
    pub fn picked_language(&self, who: &ContactRef) -> Result<Option<String>, StoreError> {
        match self.find_contact(who)? {
            Some(contact) => self.contact_language(contact),
            None => Ok(None),
        }
    }

    /// Sets (or, with `None`, forgets) the language `contact` picked.
    pub fn set_contact_language(&self, contact: ContactId, language: Option<&str>) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE contacts SET language = ?2 WHERE id = ?1")?
            .execute(params![contact.0, language])?;
        Ok(())
    }
}
