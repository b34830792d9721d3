//! The admin API's send routes: validate the JSON, pick the channel and apply
//! the rules (opt-out, 24-hour window), queue durably, answer `202` with the
//! queued message (read in the same transaction), and wake the sender.
//!
//! - `POST /api/messages`: `{"to","body","media_url":[…],"channel"}`;
//! - `POST /api/templates`: Twilio's `{"to","content_sid","variables"}` or
//!   Meta's `{"to","template_name","language_code","parameters"}`;
//! - `POST /api/whatsapp/send` and `/api/whatsapp/send-template`: the shapes
//!   of the FlowChat integration (seed 004), `{"to","body","media_url","type","metadata"}`
//!   and `{"to","template_name","parameters","language_code"}`.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::{read, Api};
use crate::http::errors::{api_error, api_writer_error};
use crate::http::router::Call;
use crate::http::{Request, Response};

use crate::outbox::validate::{self, FieldError};
use crate::outbox::{Enqueue, EnqueueOnce, Once, Outgoing, RequestHash};
use crate::store::MessageRecord;

/// `POST /api/messages` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextRequest {
    to: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    media_url: OneOrMany,
    channel: Option<String>,
}

/// `POST /api/templates` body: one of the two providers' shapes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateRequest {
    to: String,
    content_sid: Option<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    template_name: Option<String>,
    language_code: Option<String>,
    #[serde(default)]
    parameters: BTreeMap<String, String>,
}

/// `POST /api/whatsapp/send` body (FlowChat).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlowChatSend {
    to: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    media_url: OneOrMany,
    /// `text`, `image`, `document`, `audio` or `video`: what the media is.
    #[serde(rename = "type")]
    kind: Option<String>,
    /// The caller's own data; accepted and not stored.
    #[serde(default)]
    #[allow(dead_code)]
    metadata: serde_json::Value,
}

/// `POST /api/whatsapp/send-template` body (FlowChat).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FlowChatTemplate {
    to: String,
    template_name: String,
    #[serde(default)]
    parameters: BTreeMap<String, String>,
    language_code: Option<String>,
}

/// A list of URLs, or one URL on its own.
#[derive(Debug, Default, Deserialize)]
#[serde(from = "OneOrManyRaw")]
struct OneOrMany(Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrManyRaw {
    One(String),
    Many(Vec<String>),
}

impl From<OneOrManyRaw> for OneOrMany {
    fn from(raw: OneOrManyRaw) -> OneOrMany {
        match raw {
            OneOrManyRaw::One(url) => OneOrMany(vec![url]),
            OneOrManyRaw::Many(urls) => OneOrMany(urls),
        }
    }
}

/// The language of a Meta template when the request names none.
const DEFAULT_LANGUAGE: &str = "en_US";

/// The send routes whose JSON body [`read_body`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRoute {
    /// `POST /api/messages`.
    Text,
    /// `POST /api/templates`.
    Template,
    /// `POST /api/whatsapp/send`.
    FlowChatSend,
    /// `POST /api/whatsapp/send-template`.
    FlowChatTemplate,
}

/// Why a send route's body is refused (a `400`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Not the JSON the route expects (`invalid_json`).
    #[error("the body is not the expected JSON: {0}")]
    Json(String),
    /// Well-formed, but a field is unusable (`invalid_field`).
    #[error(transparent)]
    Field(#[from] FieldError),
}

/// Reads and validates `route`'s JSON body into the message it would queue:
/// everything a send route does before it touches the database.
pub fn read_body(route: SendRoute, body: &[u8]) -> Result<Outgoing, BodyError> {
    Ok(match route {
        SendRoute::Text => text(json(body)?),
        SendRoute::Template => template(json(body)?),
        SendRoute::FlowChatSend => flowchat(json(body)?),
        SendRoute::FlowChatTemplate => flowchat_template(json(body)?),
    }?)
}

fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    serde_json::from_slice(body).map_err(|e| BodyError::Json(e.to_string()))
}

/// Queues a free-form message.
pub fn send_text(api: &Api, call: &Call<'_>) -> Response {
    send(api, call.request, SendRoute::Text)
}

/// Queues a template message, Twilio's or Meta's by the fields given.
pub fn send_template(api: &Api, call: &Call<'_>) -> Response {
    send(api, call.request, SendRoute::Template)
}

/// FlowChat's free-form send.
pub fn flowchat_send(api: &Api, call: &Call<'_>) -> Response {
    send(api, call.request, SendRoute::FlowChatSend)
}

/// FlowChat's template send: an `HX…` name is a Twilio content template, any
/// other name a Meta template.
pub fn flowchat_send_template(api: &Api, call: &Call<'_>) -> Response {
    send(api, call.request, SendRoute::FlowChatTemplate)
}

fn send(api: &Api, request: &Request, route: SendRoute) -> Response {
    match read_body(route, &request.body) {
        Ok(message) => queue(api, request, Ok(message)),
        Err(BodyError::Field(e)) => queue(api, request, Err(e)),
        Err(e @ BodyError::Json(_)) => api_error(400, "invalid_json", &e.to_string()),
    }
}

fn text(parsed: TextRequest) -> Result<Outgoing, FieldError> {
    validate::channel(parsed.channel.as_deref())
        .and_then(|channel| validate::text(&parsed.to, &parsed.body, &parsed.media_url.0, channel))
}

fn template(parsed: TemplateRequest) -> Result<Outgoing, FieldError> {
    match (&parsed.content_sid, &parsed.template_name) {
        (Some(sid), None) => validate::twilio_template(&parsed.to, sid, parsed.variables),
        (None, Some(name)) => validate::meta_template(
            &parsed.to,
            name,
            parsed.language_code.as_deref().unwrap_or(DEFAULT_LANGUAGE),
            parsed.parameters,
        ),
        (Some(_), Some(_)) => Err(FieldError {
            field: "content_sid",
            reason: "give either content_sid (Twilio) or template_name (Meta), not both".into(),
        }),
        (None, None) => Err(FieldError {
            field: "content_sid",
            reason: "is missing; give content_sid (a Twilio HX… template) or template_name and language_code (a Meta template)".into(),
        }),
    }
}

fn flowchat(parsed: FlowChatSend) -> Result<Outgoing, FieldError> {
    let known = ["text", "image", "document", "audio", "video"];
    match parsed.kind.as_deref() {
        Some(kind) if !known.contains(&kind) => Err(FieldError {
            field: "type",
            reason: format!("{kind:?} is not one of {}", known.join(", ")),
        }),
        _ => validate::text(&parsed.to, &parsed.body, &parsed.media_url.0, None),
    }
}

fn flowchat_template(parsed: FlowChatTemplate) -> Result<Outgoing, FieldError> {
    if parsed.template_name.starts_with("HX") {
        validate::twilio_template(&parsed.to, &parsed.template_name, parsed.parameters)
    } else {
        validate::meta_template(
            &parsed.to,
            &parsed.template_name,
            parsed.language_code.as_deref().unwrap_or(DEFAULT_LANGUAGE),
            parsed.parameters,
        )
    }
}

/// The header that makes a retried request safe.
const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

fn queue(api: &Api, request: &Request, message: Result<Outgoing, FieldError>) -> Response {
    let message = match message {
        Ok(message) => message,
        Err(e) => return api_error(400, "invalid_field", &e.to_string()).note(format!("field {}", e.field)),
    };
    let to = message.to.clone();
    let enqueue = Enqueue {
        routing: api.routing.clone(),
        message,
        sent_by: None,
    };
    let once = match request.header(IDEMPOTENCY_KEY) {
        None => api.writer.run(enqueue).map(|queued| match queued {
            Ok(record) => Once::Queued(record),
            Err(refusal) => Once::Refused(refusal),
        }),
        Some(key) => match idempotency_key(key) {
            Ok(key) => api.writer.run(EnqueueOnce {
                key: key.to_string(),
                request: RequestHash::of(request.path(), &request.body),
                enqueue,
            }),
            Err(response) => return response,
        },
    };
    match once {
        Ok(Once::Queued(record)) => {
            api.outbox.wake();
            let id = record.id.unwrap_or_default();
            log::info!(target: "outbox", "message {id} to {to} queued on {}", record.channel);
            accepted(&record)
        }
        Ok(Once::Replayed(record)) => accepted(&record).header("Idempotent-Replayed", "true"),
        Ok(Once::KeyReused) => api_error(
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was used in the last 24 hours for a different request; use a new key per message",
        ),
        Ok(Once::Refused(refusal)) => {
            let status = if refusal.is_bad_request() { 400 } else { 409 };
            api_error(status, refusal.code(), &refusal.to_string()).note(format!("{to} {}", refusal.code()))
        }
        Err(e) => api_writer_error(&e),
    }
}

/// `202` with the queued message.
fn accepted(record: &MessageRecord) -> Response {
    let id = record.id.unwrap_or_default();
    Response::json(202, &read::message_json(record))
        .header("Location", format!("/api/messages/{id}"))
        .note(format!("message {id}"))
}

/// A usable `Idempotency-Key`: 1 to 255 visible ASCII characters.
fn idempotency_key(key: &str) -> Result<&str, Response> {
    let key = key.trim();
    if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(key)
    } else {
        Err(api_error(
            400,
            "invalid_field",
            "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good key)",
        ))
    }
}
