//! What a phone on the demo page shows: one number's chat, read from the
//! store, so a reload (or a second tab) shows the same chat.
//!
//! Its own messages, the bot's inline (TwiML) replies to them, and the
//! messages the demo channel took for it; a message that failed shows as a
//! note saying why. A message still in the outbox is not on the phone yet:
//! the chat is complete up to [`Transcript::through`], and the page asks for
//! what comes after (it may see a message twice, and keeps it once).

use jiff::Timestamp;

use crate::channel::demo::phone_message;
use crate::channel::twilio::twiml;
use crate::message::{Channel, ChoiceOption, ContactRef, Direction, MessageStatus, OutboxState, ReportedStatus};
use crate::store::{Db, MessageRecord, StoreError};

/// The most messages one answer carries.
pub const LIMIT: usize = 100;

/// Who a bubble is from, as the phone sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The phone's own message.
    Mine,
    /// From the shop's number.
    Theirs,
    /// A line about the chat (a message that did not arrive).
    Note,
}

impl Side {
    fn as_str(self) -> &'static str {
        match self {
            Side::Mine => "mine",
            Side::Theirs => "theirs",
            Side::Note => "note",
        }
    }
}

/// One bubble.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Unique in the chat: the message's key (its part's, for a reply in parts).
    pub key: String,
    /// The message's id.
    pub id: i64,
    /// Whose.
    pub side: Side,
    /// The text.
    pub text: String,
    /// Media URLs.
    pub media: Vec<String>,
    /// The menu's options to tap, under the bubble.
    pub options: Vec<ChoiceOption>,
    /// When.
    pub at: Timestamp,
    /// A message with a key of its own (it can be quoted in a reply).
    pub quotable: bool,
}

impl Entry {
    /// As the page reads it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "key": self.key,
            "id": self.id,
            "side": self.side.as_str(),
            "text": self.text,
            "media": self.media,
            "options": self.options,
            "at": self.at.as_millisecond(),
            "quotable": self.quotable,
        })
    }
}

/// A message the demo channel took for this phone: its key and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The demo channel's key (`SM…`).
    pub key: String,
    /// `whatsapp:+…`.
    pub to: String,
}

/// A phone's chat after some message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    /// The bubbles, in order.
    pub entries: Vec<Entry>,
    /// Every message up to this id is in `entries` (or never will be).
    pub through: i64,
    /// Messages on the phone now that were not delivered before.
    pub arrived: Vec<Delivery>,
}

/// `who`'s chat after message `after`.
pub fn since(db: &Db<'_>, who: &ContactRef, after: i64) -> Result<Transcript, StoreError> {
    let mut transcript = Transcript {
        through: after,
        ..Transcript::default()
    };
    let Some(contact) = db.find_contact(who)? else {
        return Ok(transcript);
    };
    let mut complete = true;
    for record in db.contact_messages_after(contact, after, LIMIT)? {
        let shown = match record.direction {
            Direction::Inbound => transcript.inbound(&record),
            Direction::Outbound => transcript.outbound(db, who, &record)?,
        };
        complete &= shown;
        if complete {
            transcript.through = record.id.unwrap_or(transcript.through);
        }
    }
    Ok(transcript)
}

/// The messages on `who`'s phone up to `up_to` that it has not read yet.
pub fn unread(db: &Db<'_>, who: &ContactRef, up_to: i64) -> Result<Vec<Delivery>, StoreError> {
    let Some(contact) = db.find_contact(who)? else {
        return Ok(Vec::new());
    };
    let records = db.contact_messages(contact, LIMIT)?;
    Ok(records
        .iter()
        .filter(|r| r.id.is_some_and(|id| id <= up_to) && on_the_phone(r))
        .filter(|r| r.status().and_then(ReportedStatus::ladder) != Some(MessageStatus::Read))
        .filter_map(|r| delivery(who, r))
        .collect())
}

impl Transcript {
    /// The phone's own message and the bot's inline reply to it; always shown.
    fn inbound(&mut self, record: &MessageRecord) -> bool {
        let id = record.id.unwrap_or_default();
        let key = record.sid.clone().unwrap_or_else(|| format!("m{id}"));
        let media = record.media.iter().map(|m| m.url.clone()).collect();
        self.push(&key, record, Side::Mine, record.body.clone().unwrap_or_default(), media);
        // Without inline replies, the replies are outbound messages of their own.
        let Some(reply) = record.reply.as_ref().filter(|_| record.channel.facts().inline_replies) else {
            return true;
        };
        let bodies = twiml::fit(reply);
        let last = bodies.len().saturating_sub(1);
        for (n, body) in bodies.into_iter().enumerate() {
            self.push(&format!("{key}/{n}"), record, Side::Theirs, body, Vec::new());
            if n == last {
                if let (Some(entry), Some(choice)) = (self.entries.last_mut(), reply.choice()) {
                    entry.options.clone_from(&choice.options);
                }
            }
        }
        true
    }

    /// A message to the phone: shown once the demo channel took it, a note
    /// if it failed; `false` while it waits in the outbox.
    fn outbound(&mut self, db: &Db<'_>, who: &ContactRef, record: &MessageRecord) -> Result<bool, StoreError> {
        let state = record.outbox.as_ref().map(|o| o.state);
        if let Some(why) = failure(record) {
            let said = record
                .body
                .as_deref()
                .map(|b| format!(" “{}”", b.trim()))
                .unwrap_or_default();
            let text = format!("⚠ A message from the shop did not arrive{said}: {why}");
            self.push(
                &format!("failed-{}", record.id.unwrap_or_default()),
                record,
                Side::Note,
                text,
                Vec::new(),
            );
            return Ok(true);
        }
        match state {
            Some(OutboxState::Queued | OutboxState::Sending) => return Ok(false),
            Some(OutboxState::Sent) => {}
            Some(OutboxState::Failed | OutboxState::Uncertain) | None => return Ok(true),
        }
        let (Some(id), Some(key)) = (record.id, record.sid.as_deref()) else {
            return Ok(true);
        };
        let Some(shown) = db.outbound_content(id)?.and_then(|c| phone_message(&c).ok()) else {
            return Ok(true);
        };
        self.push(key, record, Side::Theirs, shown.text, shown.media);
        if let Some(entry) = self.entries.last_mut() {
            entry.quotable = true;
            entry.options = shown.choice.map(|c| c.options).unwrap_or_default();
        }
        let delivered = matches!(
            record.status().and_then(ReportedStatus::ladder),
            Some(MessageStatus::Delivered | MessageStatus::Read)
        );
        if !delivered {
            self.arrived.extend(delivery(who, record));
        }
        Ok(true)
    }

    fn push(&mut self, key: &str, record: &MessageRecord, side: Side, text: String, media: Vec<String>) {
        self.entries.push(Entry {
            key: key.to_string(),
            id: record.id.unwrap_or_default(),
            side,
            text,
            media,
            options: Vec::new(),
            at: record.created_at,
            quotable: false,
        });
    }
}

/// An outbound message the demo channel took and did not fail.
fn on_the_phone(record: &MessageRecord) -> bool {
    record.direction == Direction::Outbound
        && record.outbox.as_ref().is_some_and(|o| o.state == OutboxState::Sent)
        && failure(record).is_none()
}

/// Where the demo channel reports a message's statuses.
fn delivery(who: &ContactRef, record: &MessageRecord) -> Option<Delivery> {
    Some(Delivery {
        key: record.sid.clone()?,
        to: record
            .to_addr
            .clone()
            .unwrap_or_else(|| who.address_on(Channel::Twilio)),
    })
}

/// Why an outbound message did not arrive, if it did not.
fn failure(record: &MessageRecord) -> Option<String> {
    let status = record.status().and_then(ReportedStatus::ladder);
    let failed_status = matches!(
        status,
        Some(MessageStatus::Failed | MessageStatus::Undelivered | MessageStatus::Canceled)
    );
    let failed_send = record.outbox.as_ref().is_some_and(|o| o.state == OutboxState::Failed);
    if !failed_status && !failed_send {
        return None;
    }
    Some(match record.error() {
        Some((code, Some(message))) => format!("{message} (code {code})"),
        Some((code, None)) => format!("code {code}"),
        None => "no reason given".into(),
    })
}
