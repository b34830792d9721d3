//! Messages the shop starts, and replies on channels without inline replies:
//! queued durably in SQLite, sent by one sender thread through each channel's
//! API, in order per contact, never twice.
//!
//! States ([`OutboxState`](crate::message::OutboxState)): `queued` (waiting,
//! maybe for a retry) → `sending` (claimed; the provider call is in flight) →
//! `sent` (the provider took it; status events tell the rest) or `failed` (a
//! permanent error, a refusal, or retries used up). A message found `sending`
//! at start-up, or whose answer was lost, becomes `uncertain`: the provider may
//! have it, so it is not resent until an operator says so.
//!
//! This module decides which channel a message goes out on ([`Routing`]) and
//! checks the rules ([`policy`]) before anything is stored; it never speaks a
//! provider's language (the channels implement [`sender::Transport`]).

pub mod policy;
pub mod sender;
pub mod validate;

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;

use crate::message::{Channel, ChoiceLimits, ContactRef, Content, ContentKind, Inbound, Reply, ReplyPart};
use crate::store::{ContactFacts, Db, MessageKey, MessageRecord, NewOutbound, StoreError};
use crate::writer::{Work, WriterError};
use policy::Refusal;

/// The most messages one reply becomes on a channel without inline replies.
pub const MAX_REPLY_PIECES: usize = 10;

/// Which channel a message goes out on, and the shop's address on each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    /// For a contact who never wrote (`[outbox] default_channel`).
    pub default_channel: Channel,
    /// The shop's address on each channel (empty where not configured).
    pub senders: BTreeMap<Channel, String>,
}

impl Routing {
    /// From the configuration: `[outbox] default_channel` and each channel's sender.
    pub fn from_config(config: &crate::config::Config) -> Routing {
        Routing {
            default_channel: config.outbox.default_channel,
            senders: Channel::ALL
                .into_iter()
                .map(|channel| (channel, config.sender_address(channel)))
                .collect(),
        }
    }

    /// The shop's address on `channel`.
    pub fn from_addr(&self, channel: Channel) -> &str {
        self.senders.get(&channel).map_or("", String::as_str)
    }

    /// The channel a free-form text to `to` would take now (its window and
    /// limits are that channel's).
    pub fn text_channel(&self, to: &ContactRef, facts: &ContactFacts) -> Channel {
        let probe = Outgoing {
            to: to.clone(),
            content: Content::Text {
                body: String::new(),
                media_urls: Vec::new(),
            },
            channel: None,
        };
        self.channel_for(&probe, facts).unwrap_or(self.default_channel)
    }

    /// The channel for `message`: the one asked for, else the only one its
    /// content exists on, else the one the contact last wrote on, else the default.
    pub fn channel_for(&self, message: &Outgoing, facts: &ContactFacts) -> Result<Channel, Refusal> {
        let only = message.content.only_channel();
        let last_provider = facts.last_channel.filter(|c| c.is_provider());
        let channel = message
            .channel
            .or(only)
            .or(last_provider)
            .unwrap_or(self.default_channel);
        match only {
            Some(only) if only != channel => Err(Refusal::WrongChannel {
                kind: message.content.kind().as_str(),
                only,
                asked: channel,
            }),
            _ => Ok(channel),
        }
    }
}

/// A message someone asked to send (API, CLI), validated ([`validate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The customer.
    pub to: ContactRef,
    /// What it says.
    pub content: Content,
    /// The channel asked for, if any.
    pub channel: Option<Channel>,
}

/// Queues a message through the writer (the admin API); the queued message
/// comes back from the same transaction, so the caller's answer cannot fail
/// after the message was committed.
pub struct Enqueue {
    /// Where messages go out from.
    pub routing: Arc<Routing>,
    /// The message.
    pub message: Outgoing,
    /// The inbox user who wrote it (`None`: the API).
    pub sent_by: Option<String>,
}

impl Work for Enqueue {
    type Output = Result<MessageRecord, Refusal>;
    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<Self::Output, WriterError> {
        let id = match enqueue(db, &self.routing, &self.message, now)? {
            Ok(id) => id,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if let Some(who) = &self.sent_by {
            db.set_sent_by(id, who)?;
        }
        Ok(Ok(queued_record(db, id)?))
    }
}

/// How long an `Idempotency-Key` holds.
pub const IDEMPOTENCY_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// An admin API request with an `Idempotency-Key`: the same key and request
/// within [`IDEMPOTENCY_WINDOW`] finds the message the first try queued and
/// queues nothing; the key and the message are written in one transaction.
pub struct EnqueueOnce {
    /// The client's key.
    pub key: String,
    /// What identifies the request the key came with.
    pub request: RequestHash,
    /// The request.
    pub enqueue: Enqueue,
}

/// How a request is recognised when its `Idempotency-Key` comes again: the
/// route and the body **as JSON** (parsed and written back with its object
/// keys sorted and no spaces), so a client that encodes the same request
/// anew on its retry (other key order, other spacing, `\u00e9` for `é`) is
/// recognised, and a request that says anything else is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHash {
    /// SHA-256 of the route and the canonical JSON, hex: what is stored.
    pub canonical: String,
    /// SHA-256 of the route and the raw body, hex: what keys stored before
    /// this release hold (accepted for them, within their 24 hours).
    pub raw: String,
}

impl RequestHash {
    /// The hashes of a request to `path` with `body`.
    pub fn of(path: &str, body: &[u8]) -> RequestHash {
        let hash = |bytes: &[u8]| crate::auth::sha256_hex(&[path.as_bytes(), b"\0", bytes].concat());
        // serde_json's maps are ordered by key (its `preserve_order` feature
        // is off), so writing the parsed value back is canonical.
        let canonical = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|value| serde_json::to_vec(&value).ok());
        RequestHash {
            canonical: hash(canonical.as_deref().unwrap_or(body)),
            raw: hash(body),
        }
    }
}

/// What an [`EnqueueOnce`] did.
#[derive(Debug)]
pub enum Once {
    /// Queued now.
    Queued(MessageRecord),
    /// Queued by an earlier try with this key: nothing new.
    Replayed(MessageRecord),
    /// Not allowed (nothing queued, the key not kept).
    Refused(Refusal),
    /// The key was used for a different request.
    KeyReused,
}

impl Work for EnqueueOnce {
    type Output = Once;
    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<Once, WriterError> {
        let since = now.checked_sub(IDEMPOTENCY_WINDOW).unwrap_or(Timestamp::MIN);
        let known = [self.request.canonical.as_str(), self.request.raw.as_str()];
        match db.idempotent_message(&self.key, &known, since)? {
            Some(Ok(id)) => return Ok(Once::Replayed(queued_record(db, id)?)),
            Some(Err(())) => return Ok(Once::KeyReused),
            None => {}
        }
        match self.enqueue.run(db, now)? {
            Ok(record) => {
                let id = record.id.unwrap_or_default();
                db.remember_idempotency_key(&self.key, &self.request.canonical, id, now)?;
                Ok(Once::Queued(record))
            }
            Err(refusal) => Ok(Once::Refused(refusal)),
        }
    }
}

/// The stored record of a message just queued.
fn queued_record(db: &Db<'_>, id: i64) -> Result<MessageRecord, StoreError> {
    db.message(&MessageKey::Id(id))?.ok_or_else(|| StoreError::Corrupt {
        what: "queued message",
        detail: format!("message {id} is missing right after it was queued"),
    })
}

/// Picks the channel, checks the rules and queues the message: its id, or why
/// it may not go. Used by the admin API (through the writer) and the CLI (its
/// own transaction).
pub fn enqueue(
    db: &Db<'_>,
    routing: &Routing,
    message: &Outgoing,
    now: Timestamp,
) -> Result<Result<i64, Refusal>, StoreError> {
    let queued = enqueue_notice(db, routing, message, now)?;
    if queued.is_ok() && message.content.kind() == ContentKind::Text {
        if let Some(contact) = db.find_contact(&message.to)? {
            crate::session::owner_replied(db, contact, now)?;
        }
    }
    Ok(queued)
}

/// [`enqueue`] for a message the shop sends by itself (an order update): the
/// same channel choice and rules, but the conversation is not taken as
/// answered by a person.
pub fn enqueue_notice(
    db: &Db<'_>,
    routing: &Routing,
    message: &Outgoing,
    now: Timestamp,
) -> Result<Result<i64, Refusal>, StoreError> {
    let facts = db.contact_facts(&message.to)?;
    let checked = routing.channel_for(message, &facts).and_then(|channel| {
        fits(channel, &message.content)?;
        policy::check(message.content.kind(), &facts, now)?;
        Ok(channel)
    });
    let channel = match checked {
        Ok(channel) => channel,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let id = db.enqueue(
        &NewOutbound {
            to: message.to.clone(),
            channel,
            from_addr: routing.from_addr(channel).to_string(),
            to_addr: message.to.address_on(channel),
            content: message.content.clone(),
        },
        now,
    )?;
    warn_if_held(db, id)?;
    Ok(Ok(id))
}

/// A message queued behind an uncertain one does not go until an operator
/// decides about that one: say so once, when it is queued.
fn warn_if_held(db: &Db<'_>, id: i64) -> Result<(), StoreError> {
    if let Some(entry) = db.outbox_entry(id)? {
        if let Some(behind) = entry.waiting_behind {
            log::warn!(
                target: "outbox",
                "message {id} to {} waits behind message {behind}, which is uncertain (it may or may not have arrived): \
                 it goes after `shopbot outbox retry {behind}` or `shopbot outbox resolve {behind} --sent|--not-sent`",
                entry.to
            );
        }
    }
    Ok(())
}

/// The text must fit in one message on the channel it goes out on.
fn fits(channel: Channel, content: &Content) -> Result<(), Refusal> {
    let limit = channel.text_limit();
    match content.body() {
        Some(body) if !limit.fits(body) => Err(Refusal::TooLong {
            channel,
            len: limit.len(body),
            max: limit.max,
        }),
        _ => Ok(()),
    }
}

/// Queues the bot's reply to `inbound` for a channel that has no inline
/// replies, in order, in the caller's transaction (the same one as the
/// conversation step): a menu the channel can show (`choices`) as one message
/// to tap, the texts around it as messages that fit the channel. Replies
/// answer the customer's own message, so the window and opt-out rules do not
/// hold them.
pub fn queue_reply(
    db: &Db<'_>,
    inbound: &Inbound,
    reply: &Reply,
    choices: Option<ChoiceLimits>,
    now: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    reply_pieces(inbound.channel, reply, choices)
        .into_iter()
        .map(|content| {
            db.enqueue(
                &NewOutbound {
                    to: inbound.from.clone(),
                    channel: inbound.channel,
                    from_addr: inbound.to_addr.clone(),
                    to_addr: inbound.from_addr.clone(),
                    content,
                },
                now,
            )
        })
        .collect()
}

/// The messages a reply becomes on `channel`: texts joined and split at its
/// limit, a menu within `choices` on its own.
fn reply_pieces(channel: Channel, reply: &Reply, choices: Option<ChoiceLimits>) -> Vec<Content> {
    let limit = channel.text_limit();
    let mut pieces = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let flush = |texts: &mut Vec<String>, pieces: &mut Vec<Content>| {
        if !texts.is_empty() {
            let body = std::mem::take(texts).join("\n\n");
            pieces.extend(
                limit
                    .split(&body, MAX_REPLY_PIECES)
                    .into_iter()
                    .map(|body| Content::Reply { body, choice: None }),
            );
        }
    };
    for part in &reply.parts {
        match part {
            ReplyPart::Choice { choice } if choices.is_some_and(|c| c.fit(choice)) => {
                flush(&mut texts, &mut pieces);
                pieces.push(Content::Reply {
                    body: choice.numbered(),
                    choice: Some(choice.clone()),
                });
            }
            other => texts.push(other.as_text().into_owned()),
        }
    }
    flush(&mut texts, &mut pieces);
    pieces
}

#[cfg(test)]
mod tests {
    use super::RequestHash;

    #[test]
    fn a_request_is_its_route_and_its_json_whatever_the_encoding() {
        let a = RequestHash::of(
            "/api/messages",
            br#"{"to":"+27821234567","body":"caf\u00e9","n":[1,2]}"#,
        );
        let b = RequestHash::of(
            "/api/messages",
            " { \"n\" : [1, 2], \"body\":\"café\", \"to\":\"+27821234567\" } ".as_bytes(),
        );
        assert_eq!(a.canonical, b.canonical);
        assert_ne!(a.raw, b.raw, "keys stored before canonical JSON compare raw bytes");
        assert_ne!(
            RequestHash::of(
                "/api/whatsapp/send",
                r#"{"to":"+27821234567","body":"café","n":[1,2]}"#.as_bytes()
            )
            .canonical,
            a.canonical
        );
        assert_ne!(
            RequestHash::of("/api/messages", br#"{"to":"+27821234567","body":"cafe","n":[1,2]}"#).canonical,
            a.canonical
        );
        let not_json = RequestHash::of("/api/messages", b"not json");
        assert_eq!(not_json.canonical, not_json.raw);
    }
}
