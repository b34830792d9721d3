//! The writes to a customer's conversation state that more than one caller
//! makes: the owner (inbox, outbox, staff relay) answered, and "hand back to
//! the bot". Below the conversation, the outbox and the staff relay, so none
//! of them imports another for these.

use jiff::Timestamp;

use crate::engine::State;
use crate::store::{ContactId, Db, StoreError};

/// The owner (or a staff member) wrote to the customer: the conversation is
/// with a person until they hand it back, the customer sends a main-menu word,
/// or it idles past the session timeout. The bot stays quiet meanwhile. Staff
/// alerts about it held for the opening are dropped: a person has it.
pub fn owner_replied(db: &Db<'_>, contact: ContactId, now: Timestamp) -> Result<(), StoreError> {
    let why = "held for the opening; a person answered the conversation before it";
    let dropped = db.drop_held_alerts(contact, why, now)?;
    if dropped > 0 {
        log::info!(target: "staff", "{dropped} alert(s) held for the opening dropped: a person answered the conversation");
    }
    db.save_session(contact, &State::WithPerson { acknowledged: true }, now)
}

/// A conversation goes back to the bot (the inbox's "Hand back", a staff
/// member's `#done`): no longer waiting or held, and the customer's next
/// message starts at the menu's `start`.
pub fn hand_back(db: &Db<'_>, contact: ContactId, start: &str, now: Timestamp) -> Result<(), StoreError> {
    back_with_the_bot(db, contact, now)?;
    let state = State::Menu {
        node: start.to_string(),
    };
    db.save_session(contact, &state, now)
}

/// The conversation is the bot's again: no longer waiting for a person, nor
/// held by a staff member (the session's state is the caller's).
pub fn back_with_the_bot(db: &Db<'_>, contact: ContactId, now: Timestamp) -> Result<(), StoreError> {
    db.clear_waiting(contact)?;
    let why = "held for the opening; the conversation went back to the bot before it";
    let dropped = db.drop_held_alerts(contact, why, now)?;
    if dropped > 0 {
        log::info!(target: "staff", "{dropped} alert(s) held for the opening dropped: the conversation is the bot's again");
    }
    db.set_holder(contact, None)
}
