//! `POST /twilio/inbound`: check the signature, hand the message to the writer,
//! answer TwiML.
//!
//! A `200` is only sent once the message, its effects and its reply are
//! committed; if the database cannot take it, the answer is a `503` (nothing
//! acknowledged that is not stored). A bug while handling one message is
//! answered with a stored TwiML apology by the writer.

use super::{signed::verified_form, Twilio};
use crate::channel::twilio::{twiml, webhook};
use crate::http::router::Call;
use crate::http::{errors, Response};
use crate::work::HandleInbound;

/// Handles one inbound-message webhook.
pub fn handle(twilio: &Twilio, call: &Call<'_>) -> Response {
    let request = call.request;
    let params = match verified_form(twilio, request) {
        Ok(params) => params,
        Err(response) => return response,
    };
    let message = match webhook::inbound(params) {
        Ok(message) => message,
        Err(e) => return errors::bad_webhook(&e),
    };
    let key = message.key.clone();
    let work = HandleInbound {
        bot: twilio.bot.clone(),
        message,
    };
    match twilio.writer.run(work) {
        Ok(handled) => Response::with_body(200, twiml::CONTENT_TYPE, twiml::render(&handled.reply)).note(key),
        Err(e) => errors::writer_unavailable(&key, &e).note(key),
    }
}
