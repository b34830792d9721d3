//! Meta's JSON webhook (`POST /meta/webhook`) turned into neutral
//! [`Inbound`] messages and [`StatusEvent`]s.
//!
//! Shape (Cloud API, `object: "whatsapp_business_account"`): `entry[]`, each
//! with `changes[]`, each with `field` and `value`; a `messages` change's value
//! has `metadata.phone_number_id` (the shop's number), `contacts[]` (`wa_id`,
//! `user_id`, `profile.name`), `messages[]` and `statuses[]`. One POST may carry
//! several of each at every level, and every one is handled (reading only the
//! first drops messages).
//!
//! Senders: `from` is the phone number's digits (`27821234567`); a customer who
//! hides their number behind a username may arrive with only a business-scoped
//! user id (BSUID, `from_user_id` on the message, `user_id` on the contact,
//! e.g. `ZA.1234567890`). Either is enough; both are kept when given.
//!
//! Nothing here panics on odd input, and one bad message never sinks the
//! batch: an unpaired surrogate escape becomes U+FFFD before parsing
//! ([`super::surrogates`]); a message or status that cannot be read (no id, no
//! usable sender, no status word) is kept whole in [`Batch::unusable`] with
//! its reason, for the store and a warning; what is merely not for us (another
//! field, a reaction) is listed in [`Batch::ignored`], for the debug log.

use serde_json::Value;

use crate::message::{Channel, ContactRef, Inbound, Media, MessageStatus, ReportedStatus, StatusEvent};
use crate::phone::PhoneNumber;

/// The `object` of a WhatsApp Cloud API webhook.
pub const OBJECT: &str = "whatsapp_business_account";
/// The one `changes[].field` that carries messages and statuses.
pub const FIELD: &str = "messages";

/// Everything one webhook POST carried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Customer messages, in the order they appear.
    pub inbound: Vec<Inbound>,
    /// Delivery reports, in the order they appear.
    pub statuses: Vec<StatusEvent>,
    /// What was skipped and why (`entry[0].changes[1]: field "calls" is not handled`).
    pub ignored: Vec<String>,
    /// Messages and statuses that could not be read, kept whole.
    pub unusable: Vec<Unusable>,
}

pub use crate::message::Unusable;

/// Why a body is not a webhook at all (the HTTP layer answers `400`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Not valid JSON (or not UTF-8).
    #[error("the body is not valid JSON: {0}")]
    NotJson(String),
    /// Valid JSON, but not an object.
    #[error("the body is JSON {0}, not an object")]
    NotAnObject(&'static str),
}

/// Parses a webhook body (the raw bytes whose signature was checked).
pub fn parse(body: &[u8]) -> Result<Batch, WebhookError> {
    let body = super::surrogates::repair(body);
    let root: Value = serde_json::from_slice(&body).map_err(|e| WebhookError::NotJson(e.to_string()))?;
    if !root.is_object() {
        return Err(WebhookError::NotAnObject(json_kind(&root)));
    }
    let mut batch = Batch::default();
    match text(&root, "object") {
        Some(OBJECT) => batch.entries(&root),
        Some(other) => batch.ignored.push(format!("object {other:?} is not {OBJECT:?}")),
        None => batch.ignored.push(format!("no object (expected {OBJECT:?})")),
    }
    Ok(batch)
}

impl Batch {
    /// Every change of every entry.
    fn entries(&mut self, root: &Value) {
        let entries = list(root, "entry");
        if entries.is_empty() {
            self.ignored.push("no entry[]".into());
        }
        for (i, entry) in entries.iter().enumerate() {
            for (j, change) in list(entry, "changes").iter().enumerate() {
                self.change(&format!("entry[{i}].changes[{j}]"), change);
            }
        }
    }

    /// One change: its messages, statuses and reported errors.
    fn change(&mut self, at: &str, change: &Value) {
        match text(change, "field") {
            Some(FIELD) => {}
            field => return self.ignored.push(format!("{at}: field {field:?} is not handled")),
        }
        let Some(value) = change.get("value").filter(|v| v.is_object()) else {
            return self.ignored.push(format!("{at}: no value"));
        };
        let shop = path(value, &["metadata", "phone_number_id"]).unwrap_or_default();
        let contacts = list(value, "contacts");
        for (k, message) in list(value, "messages").iter().enumerate() {
            match inbound(message, contacts, shop) {
                Ok(inbound) => self.inbound.push(inbound),
                Err(Skip::NotForUs(reason)) => self.ignored.push(format!("{at}.messages[{k}]: {reason}")),
                Err(Skip::Unreadable(reason)) => self.unusable.push(Unusable {
                    reason: format!("{at}.messages[{k}]: {reason}"),
                    raw: message.to_string(),
                }),
            }
        }
        for (k, status) in list(value, "statuses").iter().enumerate() {
            match status_event(status, shop) {
                Ok(event) => self.statuses.push(event),
                Err(reason) => self.unusable.push(Unusable {
                    reason: format!("{at}.statuses[{k}]: {reason}"),
                    raw: status.to_string(),
                }),
            }
        }
        for error in list(value, "errors") {
            let (code, message) = error_parts(error);
            let (code, message) = (code.unwrap_or_default(), message.unwrap_or_default());
            self.ignored
                .push(format!("{at}: Meta reported error {code}: {message}"));
        }
        if ["messages", "statuses", "errors"]
            .iter()
            .all(|k| list(value, k).is_empty())
        {
            self.ignored.push(format!("{at}: no messages, statuses or errors"));
        }
    }
}

/// Why a message is not handled.
enum Skip {
    /// It is not something the bot answers (a reaction, a deleted message).
    NotForUs(String),
    /// It cannot be read (no id, no usable sender): kept whole.
    Unreadable(String),
}

/// One customer message, or why it is skipped.
fn inbound(message: &Value, contacts: &[Value], shop: &str) -> Result<Inbound, Skip> {
    let key = text(message, "id").ok_or_else(|| Skip::Unreadable("a message without an id".into()))?;
    let sender = sender(message, contacts).ok_or_else(|| {
        Skip::Unreadable(format!(
            "message {key} has no usable sender (no from, and {} contacts to tell it by)",
            contacts.len()
        ))
    })?;
    let kind = text(message, "type").unwrap_or_default();
    let said = content(message, kind).map_err(|what| Skip::NotForUs(format!("message {key} is {what}; no reply")))?;
    Ok(Inbound {
        channel: Channel::Meta,
        key: key.to_string(),
        from: sender.contact,
        from_addr: sender.addr,
        to_addr: shop.to_string(),
        text: said.text,
        media: said.media,
        profile_name: sender.profile_name,
        reply_to: path(message, &["context", "id"]).map(str::to_string),
        tap: said.tap,
        raw: message.to_string(),
    })
}

/// Who sent a message, as far as the message and its contact entry say.
struct Sender {
    contact: ContactRef,
    addr: String,
    profile_name: Option<String>,
}

/// The sender: the phone from `from` (or the contact's `wa_id`), the BSUID from
/// `from_user_id` (or the contact's `user_id`); `None` when neither is usable.
fn sender(message: &Value, contacts: &[Value]) -> Option<Sender> {
    let from = text(message, "from");
    let from_user_id = text(message, "from_user_id");
    let contact = matching_contact(contacts, from, from_user_id);
    let phone = from
        .and_then(phone)
        .or_else(|| contact.and_then(|c| text(c, "wa_id")).and_then(phone));
    let user_id = from_user_id
        .or_else(|| contact.and_then(|c| text(c, "user_id")))
        .or(from.filter(|f| phone.is_none() && looks_like_bsuid(f)))
        .map(str::to_string);
    if phone.is_none() && user_id.is_none() {
        return None;
    }
    let addr = match (from, &user_id, &phone) {
        (Some(from), ..) => from.to_string(),
        (None, Some(id), _) => id.clone(),
        (None, None, number) => number
            .as_ref()
            .map_or("", |n| n.as_str().trim_start_matches('+'))
            .to_string(),
    };
    Some(Sender {
        addr,
        contact: ContactRef { phone, user_id },
        profile_name: contact.and_then(|c| path(c, &["profile", "name"])).map(str::to_string),
    })
}

/// The `contacts[]` entry for this sender: same `wa_id` or same `user_id`; the
/// only one when the message names no sender at all.
fn matching_contact<'a>(contacts: &'a [Value], from: Option<&str>, user_id: Option<&str>) -> Option<&'a Value> {
    let same = |c: &&Value, key, id: Option<&str>| id.is_some() && text(c, key) == id;
    let found = contacts
        .iter()
        .find(|c| same(c, "wa_id", from) || same(c, "user_id", user_id));
    match (found, from, user_id, contacts) {
        (Some(c), ..) => Some(c),
        (None, None, None, [only]) => Some(only),
        _ => None,
    }
}

/// `wa_id`/`from` digits as an E.164 number, if they are one.
fn phone(digits: &str) -> Option<PhoneNumber> {
    PhoneNumber::parse(&format!("+{digits}")).ok()
}

/// A BSUID's shape: an ISO country code, a dot, then letters, digits and dots
/// (`US.13491208655302741918`, parent ids `US.ENT.118…`).
fn looks_like_bsuid(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() > 3
        && bytes[..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2] == b'.'
        && bytes[3..].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'.')
}

/// The text and media of a message by its `type`; `Err` (what it is) for kinds
/// that must not trigger a reply.
/// What a message says: its text, media, and the option a tap chose.
#[derive(Default)]
struct Said {
    text: String,
    media: Vec<Media>,
    tap: Option<String>,
}

fn content(message: &Value, kind: &str) -> Result<Said, &'static str> {
    let owned = |t: Option<&str>| t.unwrap_or_default().to_string();
    Ok(match kind {
        "text" => Said {
            text: owned(path(message, &["text", "body"])),
            ..Said::default()
        },
        "image" | "document" | "audio" | "video" | "sticker" => {
            let (text, media) = media(message.get(kind));
            Said { text, media, tap: None }
        }
        "interactive" => interactive_reply(message),
        "button" => {
            let button = message.get("button");
            let payload = button.and_then(|b| text(b, "payload"));
            Said {
                text: owned(payload.or_else(|| button.and_then(|b| text(b, "text")))),
                ..Said::default()
            }
        }
        "reaction" => return Err("a reaction"),
        "system" => return Err("a system notice"),
        // location, contacts, order, unsupported, and types not known yet: the
        // bot answers with its menu again.
        _ => Said::default(),
    })
}

/// A media object: its caption as the text, and the media by id.
fn media(object: Option<&Value>) -> (String, Vec<Media>) {
    let Some(object) = object else {
        return (String::new(), Vec::new());
    };
    let caption = text(object, "caption").unwrap_or_default().to_string();
    let media = text(object, "id").map(|id| Media {
        url: String::new(),
        id: Some(id.to_string()),
        content_type: text(object, "mime_type").unwrap_or_default().to_string(),
    });
    (caption, media.into_iter().collect())
}

/// A tapped reply button or list row: its `title` as the text, its `id` as
/// the tap (a reply without a title says its id).
fn interactive_reply(message: &Value) -> Said {
    let reply = message.get("interactive").and_then(|interactive| {
        ["button_reply", "list_reply"]
            .iter()
            .find_map(|kind| interactive.get(*kind))
    });
    let Some(reply) = reply else {
        return Said::default();
    };
    let id = text(reply, "id").map(str::to_string);
    Said {
        text: text(reply, "title")
            .map(str::to_string)
            .or_else(|| id.clone())
            .unwrap_or_default(),
        media: Vec::new(),
        tap: id,
    }
}

/// One status object, or why it is skipped.
fn status_event(status: &Value, shop: &str) -> Result<StatusEvent, String> {
    let key = text(status, "id").ok_or("a status without an id")?;
    let word = text(status, "status").ok_or_else(|| format!("the status of {key} has no status word"))?;
    let (error_code, error_message) = list(status, "errors").first().map(error_parts).unwrap_or_default();
    Ok(StatusEvent {
        channel: Channel::Meta,
        key: key.to_string(),
        status: ReportedStatus::mapped(word, ladder),
        window_closed: error_code.as_deref() == Some(super::graph::CODE_WINDOW_CLOSED.to_string().as_str()),
        error_code,
        error_message,
        to_addr: text(status, "recipient_id")
            .or_else(|| text(status, "recipient_user_id"))
            .map(str::to_string),
        from_addr: Some(shop.to_string()).filter(|s| !s.is_empty()),
        raw: status.to_string(),
    })
}

/// Meta's status words on the neutral ladder.
fn ladder(word: &str) -> Option<MessageStatus> {
    Some(match word {
        "sent" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "read" => MessageStatus::Read,
        "failed" => MessageStatus::Failed,
        _ => return None,
    })
}

/// An error object's code (a number or a string) and its explanation: the
/// title (or message), then `error_data.details`.
fn error_parts(error: &Value) -> (Option<String>, Option<String>) {
    let code = match error.get("code") {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let title = text(error, "title").or_else(|| text(error, "message"));
    let details = path(error, &["error_data", "details"]).filter(|d| Some(*d) != title);
    let message = match (title, details) {
        (Some(t), Some(d)) => Some(format!("{t}: {d}")),
        (t, d) => t.or(d).map(str::to_string),
    };
    (code, message)
}

/// A non-empty string member.
fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A non-empty string down a path of members.
fn path<'a>(value: &'a Value, keys: &[&str]) -> Option<&'a str> {
    let (last, parents) = keys.split_last()?;
    let parent = parents.iter().try_fold(value, |v, k| v.get(*k))?;
    text(parent, last)
}

/// An array member, or nothing.
fn list<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// What kind of JSON value it is, for the error.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
