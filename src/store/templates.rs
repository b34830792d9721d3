//! The Content API templates made for menus (Twilio with `interactive =
//! "content"`): the `HX…` SID of each menu node's template, per language and
//! content hash, so each is made once and survives restarts. A changed menu
//! text has another hash, so it gets a new template.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use super::time::to_sql;
use super::{Db, StoreError};

/// Which template: a menu node, a language and the hash of what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateKey {
    /// The menu node's name.
    pub node: String,
    /// The language code (`en`).
    pub language: String,
    /// A hash of the template's content.
    pub hash: String,
}

impl Db<'_> {
    /// The SID of the template made for `key`, if one was.
    pub fn content_template(&self, key: &TemplateKey) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT sid FROM content_templates WHERE node = ?1 AND language = ?2 AND hash = ?3")?
            .query_row(params![key.node, key.language, key.hash], |r| r.get(0))
            .optional()?)
    }

    /// Remembers the template made for `key` (a second one for the same key,
    /// made by a race, replaces the first: either works).
    pub fn remember_content_template(&self, key: &TemplateKey, sid: &str, now: Timestamp) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO content_templates (node, language, hash, sid, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (node, language, hash) DO UPDATE SET sid = excluded.sid, created_at = excluded.created_at",
            )?
            .execute(params![key.node, key.language, key.hash, sid, to_sql(now)])?;
        Ok(())
    }
}
