//! `POST /api/messages` and `POST /api/templates`: validate the JSON, apply the
//! rules (opt-out, 24-hour window), queue durably, answer `202` with the queued
//! message (read in the same transaction), and wake the sender.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::errors::{api_error, api_writer_error};
use super::{admin, routes::App, Request, Response};
use crate::outbox::validate::{self, FieldError};
use crate::outbox::Enqueue;
use crate::store::NewOutbound;

/// `POST /api/messages` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TextRequest {
    to: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    media_url: Vec<String>,
}

/// `POST /api/templates` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateRequest {
    to: String,
    content_sid: String,
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

/// Queues a free-form message.
pub fn send_text(app: &App, request: &Request) -> Response {
    let parsed: TextRequest = match parse_json(request) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let message = validate::text(&parsed.to, &parsed.body, &parsed.media_url, &app.sender_address);
    queue(app, message)
}

/// Queues a template message.
pub fn send_template(app: &App, request: &Request) -> Response {
    let parsed: TemplateRequest = match parse_json(request) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let message = validate::template(&parsed.to, &parsed.content_sid, parsed.variables, &app.sender_address);
    queue(app, message)
}

fn parse_json<T: DeserializeOwned>(request: &Request) -> Result<T, Response> {
    serde_json::from_slice(&request.body)
        .map_err(|e| api_error(400, "invalid_json", &format!("the body is not the expected JSON: {e}")))
}

fn queue(app: &App, message: Result<NewOutbound, FieldError>) -> Response {
    let message = match message {
        Ok(message) => message,
        Err(e) => return api_error(400, "invalid_field", &e.to_string()).note(format!("field {}", e.field)),
    };
    let to = message.to.clone();
    match app.writer.run(Enqueue(message)) {
        Ok(Ok(record)) => {
            app.outbox.wake();
            let id = record.id.unwrap_or_default();
            log::info!(target: "outbox", "message {id} to {to} queued");
            Response::json(202, &admin::message_json(&record))
                .header("Location", format!("/api/messages/{id}"))
                .note(format!("message {id}"))
        }
        Ok(Err(refusal)) => {
            api_error(409, refusal.code(), &refusal.to_string()).note(format!("{to} {}", refusal.code()))
        }
        Err(e) => api_writer_error(&e),
    }
}
