//! The admin API (`/api/…`): bearer-token authentication and the read routes.
//!
//! The token comes from `[admin] token` or `SHOPBOT_ADMIN_TOKEN` and is compared
//! in constant time (SHA-256 of both sides, so not even its length leaks).
//! Without a configured token the API is closed. Errors are JSON
//! `{"error":{"code","message"}}`.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{errors::api_error, errors::api_store_error, routes::App, Request, Response};
use crate::config::Secret;
use crate::phone::PhoneNumber;
use crate::store::{MessageKey, MessageRecord};

/// Checks `Authorization: Bearer …`; the `401` to answer otherwise.
pub fn authorize(token: Option<&Secret>, request: &Request) -> Result<(), Response> {
    let Some(token) = token else {
        return Err(unauthorized(
            "the admin API is disabled: set [admin] token in the config or SHOPBOT_ADMIN_TOKEN",
        ));
    };
    let presented = request
        .header("Authorization")
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim);
    match presented {
        Some(p) if digest(p).ct_eq(&digest(token.expose())).into() => Ok(()),
        Some(_) => Err(unauthorized("the bearer token is wrong")),
        None => Err(unauthorized("send Authorization: Bearer <admin token>")),
    }
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

fn unauthorized(message: &str) -> Response {
    api_error(401, "unauthorized", message).header("WWW-Authenticate", "Bearer")
}

/// `GET /api/messages/{key}`: a message by our id or its Twilio SID.
pub fn get_message(app: &App, key: &str) -> Response {
    match app.reader.read(|db| db.message(&MessageKey::parse(key))) {
        Ok(Some(record)) => Response::json(200, &message_json(&record)),
        Ok(None) => api_error(404, "not_found", &format!("no message {key:?}")),
        Err(e) => api_store_error(&e),
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
                "status": e.status,
                "error_code": e.error_code,
                "error_message": e.error_message,
                "received_at": e.received_at.to_string(),
            })
        })
        .collect();
    let error = record.events.iter().rev().find(|e| e.error_code.is_some());
    json!({
        "id": record.id,
        "sid": record.sid,
        "direction": record.direction,
        "from": record.from_addr.as_deref().map(e164_or_raw),
        "to": record.to_addr.as_deref().map(e164_or_raw),
        "body": record.body,
        "media": record.media,
        "status": record.status(),
        "error_code": error.and_then(|e| e.error_code.clone()),
        "error_message": error.and_then(|e| e.error_message.clone()),
        "reply": record.reply,
        "created_at": record.created_at.to_string(),
        "events": events,
    })
}

/// `whatsapp:+27…` as `+27…`; anything unparsable as stored.
fn e164_or_raw(addr: &str) -> String {
    PhoneNumber::parse(addr).map_or_else(|_| addr.to_string(), |p| p.as_str().to_string())
}
