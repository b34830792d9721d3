//! `POST /twilio/inbound`: check the signature, hand the message to the writer,
//! which renders the TwiML once the message is committed; the connection's
//! own thread writes it (see [`crate::http::answer`]).
//!
//! With `[twilio] interactive = "content"`, a reply that shows a menu goes
//! whole through the outbox (the menu as a Content API template) and the
//! TwiML is an empty `<Response/>`.
//!
//! A `200` is only sent once the message, its effects and its reply are
//! committed; if the database cannot take it, the answer is a `503` (nothing
//! acknowledged that is not stored). A bug while handling one message is
//! answered with a stored TwiML apology by the writer.

use super::{signed::verified_form, Twilio};
use crate::channel::twilio::{twiml, webhook};
use crate::http::answer::after_commit;
use crate::http::router::Call;
use crate::http::{errors, Response};
use crate::message::Reply;
use crate::outbox::sender::Wake;
use crate::work::{Answered, HandleInbound};
use crate::writer::WriterError;

/// Handles one inbound-message webhook.
pub fn handle(twilio: &Twilio, call: &Call<'_>) -> Response {
    let request = call.request;
    let params = match verified_form(twilio, request) {
        Ok(params) => params,
        Err(response) => return response,
    };
    let message = match webhook::inbound(&params) {
        Ok(message) => message,
        Err(e) => return errors::bad_webhook(&e),
    };
    let key = message.key.clone();
    let work = HandleInbound {
        bot: twilio.bot.current(),
        message,
        choices: twilio.choices,
    };
    let outbox = twilio.outbox.clone();
    // The writer renders the answer after the commit and hands it to the
    // connection's thread (no hand-back to this worker).
    after_commit(&twilio.writer, work, move |handled| answer_to(handled, &outbox, key))
}

/// The TwiML for a handled message, or the error.
fn answer_to(handled: Result<Answered, WriterError>, outbox: &Wake, key: String) -> Response {
    match handled {
        Ok(answered) if answered.by_outbox => {
            outbox.wake();
            Response::with_body(200, twiml::CONTENT_TYPE, twiml::render(&Reply::default())).note(key)
        }
        Ok(answered) => {
            let twiml = twiml::render(&answered.handled.reply);
            Response::with_body(200, twiml::CONTENT_TYPE, twiml).note(key)
        }
        Err(e) => errors::writer_unavailable(&key, &e).note(key),
    }
}
