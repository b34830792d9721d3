//! Who did what in the inbox: the user who wrote a message (`messages.sent_by`)
//! and the actions that are not messages (a hand-back, a message sent again
//! or resolved), kept by name so they outlive a removed account.

use jiff::Timestamp;
use rusqlite::params;

use super::time::{from_sql, to_sql};
use super::{ContactId, Db, StoreError};

/// What an inbox user did that is not a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxAction {
    /// Handed the conversation back to the bot.
    HandedBack,
    /// Sent a held or failed message again.
    Resent,
    /// Said an uncertain message arrived.
    MarkedSent,
    /// Said an uncertain message did not arrive (it is dropped).
    Dropped,
}

impl InboxAction {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            InboxAction::HandedBack => "handed_back",
            InboxAction::Resent => "resent",
            InboxAction::MarkedSent => "marked_sent",
            InboxAction::Dropped => "dropped",
        }
    }

    fn parse(word: &str) -> Result<InboxAction, StoreError> {
        Ok(match word {
            "handed_back" => InboxAction::HandedBack,
            "resent" => InboxAction::Resent,
            "marked_sent" => InboxAction::MarkedSent,
            "dropped" => InboxAction::Dropped,
            other => {
                return Err(StoreError::Corrupt {
                    what: "inbox action",
                    detail: format!("{other:?} is not an action"),
                })
            }
        })
    }
}

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRecord {
    /// Its id (the note's anchor, `a{id}`).
    pub id: i64,
    /// What was done.
    pub action: InboxAction,
    /// By whom (the inbox user's name).
    pub user: String,
    /// The message it was about, if one.
    pub message: Option<i64>,
    /// When.
    pub at: Timestamp,
}

impl Db<'_> {
    /// Records that `user` did `action` in `contact`'s conversation (about
    /// `message`); the action's id (the anchor of its note in the thread).
    pub fn record_action(
        &self,
        contact: ContactId,
        message: Option<i64>,
        (user, action): (&str, InboxAction),
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO inbox_actions (contact_id, message_id, user_name, action, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![contact.0, message, user, action.as_str(), to_sql(now)])?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The same, for an action about a message (its contact is the message's).
    pub fn record_message_action(
        &self,
        message: i64,
        (user, action): (&str, InboxAction),
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO inbox_actions (contact_id, message_id, user_name, action, at)
                 SELECT contact_id, id, ?2, ?3, ?4 FROM messages WHERE id = ?1 AND contact_id IS NOT NULL",
            )?
            .execute(params![message, user, action.as_str(), to_sql(now)])?;
        Ok(())
    }

    /// A contact's newest `limit` actions, oldest first.
    pub fn contact_actions(&self, contact: ContactId, limit: usize) -> Result<Vec<ActionRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, action, user_name, message_id, at FROM inbox_actions WHERE contact_id = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![contact.0, limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut actions = rows
            .map(|row| {
                let (id, action, user, message, at) = row?;
                Ok(ActionRecord {
                    id,
                    action: InboxAction::parse(&action)?,
                    user,
                    message,
                    at: from_sql(&at)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        actions.reverse();
        Ok(actions)
    }

    /// Records who wrote an outbound message (an inbox user, or a staff
    /// member answering from their phone).
    pub fn set_sent_by(&self, message: i64, who: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE messages SET sent_by = ?2 WHERE id = ?1")?
            .execute(params![message, who])?;
        Ok(())
    }
}
