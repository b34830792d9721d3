//! Every error a handler can meet, mapped to an HTTP answer in one place:
//! webhook clients (Twilio, Meta) get short plain text, the admin API gets JSON
//! `{"error":{"code","message"}}`.

use super::Response;
use crate::store::StoreError;
use crate::writer::WriterError;

/// How long a client should wait before retrying after a `503`.
const RETRY_AFTER_SECS: &str = "5";

/// A webhook body that cannot be used: `400` with the reason.
pub fn bad_webhook(e: &dyn std::fmt::Display) -> Response {
    Response::text(400, &e.to_string())
}

/// The writer could not make the work durable: `503`, so nothing is
/// acknowledged that was not stored, and the caller may retry.
pub fn writer_unavailable(context: &str, e: &WriterError) -> Response {
    log::error!(target: "http", "{context}: {e}; answered 503");
    Response::text(503, "temporarily unable to store the request; retry later").header("Retry-After", RETRY_AFTER_SECS)
}

/// A JSON error for the admin API.
pub fn api_error(status: u16, code: &str, message: &str) -> Response {
    Response::json(
        status,
        &serde_json::json!({"error": {"code": code, "message": message}}),
    )
}

/// A database failure while answering the admin API.
pub fn api_store_error(e: &StoreError) -> Response {
    log::error!(target: "http", "admin API: {e}");
    api_error(503, "database_unavailable", "the database did not answer; retry later")
        .header("Retry-After", RETRY_AFTER_SECS)
}

/// The writer could not take an admin API write.
pub fn api_writer_error(e: &WriterError) -> Response {
    log::error!(target: "http", "admin API: {e}");
    api_error(
        503,
        "database_unavailable",
        "the database did not take the request; retry later",
    )
    .header("Retry-After", RETRY_AFTER_SECS)
}
