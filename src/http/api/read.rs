//! The admin API's read routes: one message, one conversation, the
//! submissions; and the JSON a message is shown as.

use serde_json::{json, Value};

use super::Api;
use crate::http::errors::{api_error, api_store_error};
use crate::http::router::Call;
use crate::http::{Request, Response};
use crate::message::{Addressing, ContactRef, Direction, OutboxState, Reply, ReportedStatus};
use crate::phone::PhoneNumber;
use crate::store::{MessageKey, MessageRecord, SubmissionRecord};
use crate::urlencoded::{into_owned, param, parse as parse_form};

/// `GET /api/messages/{key}`: a message by our id or its provider's key
/// (Twilio SID or Meta `wamid`).
pub fn message(api: &Api, call: &Call<'_>) -> Response {
    let key = call.params.get("key");
    match api.reader.read(|db| db.message(&MessageKey::parse(key))) {
        Ok(Some(record)) => Response::json(200, &message_json(&record)),
        Ok(None) => api_error(404, "not_found", &format!("no message {key:?}")),
        Err(e) => api_store_error(&e),
    }
}

/// Most messages or submissions one request returns.
const MAX_ROWS: usize = 500;

/// `GET /api/messages?contact=+27…[&limit=N]`: a conversation, newest last.
pub fn conversation(api: &Api, call: &Call<'_>) -> Response {
    let query = match query(call.request) {
        Ok(query) => query,
        Err(response) => return response,
    };
    let Some(contact) = param(&query, "contact") else {
        return api_error(
            400,
            "invalid_field",
            "contact: give the customer's number, e.g. ?contact=%2B27821234567",
        );
    };
    // A `+` typed into a query string arrives as a space.
    let contact = contact
        .strip_prefix(' ')
        .map_or(contact.to_string(), |rest| format!("+{rest}"));
    let who = match PhoneNumber::parse(&contact) {
        Ok(phone) => ContactRef::phone(phone),
        Err(_) if contact.starts_with(|c: char| c.is_ascii_alphabetic()) => ContactRef::user_id(contact.trim()),
        Err(e) => return api_error(400, "invalid_field", &format!("contact: {e}")),
    };
    let limit = match limit(&query) {
        Ok(limit) => limit,
        Err(response) => return response,
    };
    match api.reader.read(|db| db.conversation(&who, limit)) {
        Ok(records) => {
            let messages: Vec<Value> = records.iter().map(message_json).collect();
            Response::json(200, &json!({"contact": who.display(), "messages": messages}))
        }
        Err(e) => api_store_error(&e),
    }
}

/// `GET /api/submissions[?form=DEF][&since=2025-01-19T00:00:00Z][&limit=N]`.
pub fn submissions(api: &Api, call: &Call<'_>) -> Response {
    let query = match query(call.request) {
        Ok(query) => query,
        Err(response) => return response,
    };
    let since = match param(&query, "since").map(parse_since).transpose() {
        Ok(since) => since,
        Err(reason) => return api_error(400, "invalid_field", &format!("since: {reason}")),
    };
    let limit = match limit(&query) {
        Ok(limit) => limit,
        Err(response) => return response,
    };
    match api
        .reader
        .read(|db| db.submissions(param(&query, "form"), since, limit))
    {
        Ok(rows) => {
            let items: Vec<Value> = rows.iter().map(SubmissionRecord::to_json).collect();
            Response::json(200, &json!({"submissions": items}))
        }
        Err(e) => api_store_error(&e),
    }
}

/// An RFC 3339 time, or a date (midnight UTC).
fn parse_since(text: &str) -> Result<jiff::Timestamp, String> {
    text.parse::<jiff::Timestamp>()
        .or_else(|_| {
            text.parse::<jiff::civil::Date>()
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
                .map(|z| z.timestamp())
        })
        .map_err(|_| format!("{text:?} is not a time like 2025-01-19T12:00:00Z or a date like 2025-01-19"))
}

fn query(request: &Request) -> Result<Vec<(String, String)>, Response> {
    let raw = request.target.split_once('?').map_or("", |(_, q)| q);
    parse_form(raw.as_bytes())
        .map(into_owned)
        .map_err(|e| api_error(400, "invalid_query", &e.to_string()))
}

fn limit(query: &[(String, String)]) -> Result<usize, Response> {
    match param(query, "limit") {
        None => Ok(MAX_ROWS),
        Some(n) => match n.parse::<usize>() {
            Ok(n @ 1..=MAX_ROWS) => Ok(n),
            _ => Err(api_error(
                400,
                "invalid_field",
                &format!("limit: {n:?} is not a number from 1 to {MAX_ROWS}"),
            )),
        },
    }
}

/// A message as the API shows it: numbers in E.164, the current status by
/// precedence, and every status event.
pub fn message_json(record: &MessageRecord) -> Value {
    let events: Vec<Value> = record
        .events
        .iter()
        .map(|e| {
            json!({
                "status": e.status.as_str(),
                "error_code": e.error_code,
                "error_message": e.error_message,
                "received_at": e.received_at.to_string(),
            })
        })
        .collect();
    let event_error = record
        .events
        .iter()
        .rev()
        .find(|e| e.error_code.is_some())
        .map(|e| (e.error_code.clone(), e.error_message.clone()));
    let outbox_error = record
        .outbox
        .as_ref()
        .filter(|o| o.error_code.is_some())
        .map(|o| (o.error_code.clone(), o.error_message.clone()));
    let (error_code, error_message) = event_error.or(outbox_error).unwrap_or_default();
    let outbox = record.outbox.as_ref().map(|o| {
        json!({
            "state": o.state.as_str(),
            "kind": o.kind().as_str(),
            "attempts": o.attempts,
            "next_attempt_at": (o.state == OutboxState::Queued).then(|| o.next_attempt_at.to_string()),
            "waiting_behind": o.waiting_behind,
            "held": o.held_by(),
        })
    });
    json!({
        "id": record.id,
        "sid": record.sid,
        "channel": record.channel.as_str(),
        "direction": record.direction.as_str(),
        "from": record.from_addr.as_deref().map(|a| shown_address(record, a, Direction::Inbound)),
        "to": record.to_addr.as_deref().map(|a| shown_address(record, a, Direction::Outbound)),
        "body": record.body,
        "sent_by": record.sent_by,
        "media": record.media,
        "status": record.status().map(ReportedStatus::as_str),
        "error_code": error_code,
        "error_message": error_message,
        "outbox": outbox,
        "reply": record.reply.as_ref().map(Reply::texts),
        "created_at": record.created_at.to_string(),
        "events": events,
    })
}

/// An address as the API shows it: numbers in E.164 (`whatsapp:+27…` and
/// Meta's `wa_id` `27…` both as `+27…`); anything else (a user id, Meta's
/// phone number id, a messaging service) as stored. `customer_side` is the
/// direction in which this address is the customer's (`from` of an inbound
/// message): only there are Meta's bare digits a phone number.
fn shown_address(record: &MessageRecord, addr: &str, customer_side: Direction) -> String {
    let digits = || format!("+{addr}");
    let candidate = match record.channel.facts().addressing {
        Addressing::Digits if record.direction == customer_side => digits(),
        Addressing::Digits => return addr.to_string(),
        Addressing::WhatsAppUri | Addressing::AsShown => addr.to_string(),
    };
    PhoneNumber::parse(&candidate).map_or_else(|_| addr.to_string(), |p| p.as_str().to_string())
}
