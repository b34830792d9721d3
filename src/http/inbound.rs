//! `POST /twilio/inbound`: parse the form, check the signature, hand the message
//! to the writer, answer TwiML.
//!
//! After the signature check the answer is always TwiML: an internal failure
//! answers a short apology (never JSON or an HTML error page, which WhatsApp
//! would show the customer) and logs the error.

use super::{routes::App, Request, Response};
use crate::twilio::signature::{SETTINGS_HEADER, SIGNATURE_HEADER};
use crate::twilio::twiml;
use crate::twilio::verifier::SignedRequest;
use crate::twilio::webhook::{parse_form, InboundMessage};

/// Handles one inbound-message webhook.
pub fn handle(app: &App, request: &Request) -> Response {
    let params = match parse_form(&request.body) {
        Ok(params) => params,
        Err(e) => return Response::text(400, &e.to_string()),
    };
    let signed = SignedRequest {
        target: &request.target,
        host: request.header("Host"),
        signature: request.header(SIGNATURE_HEADER),
        settings: request.header(SETTINGS_HEADER),
        params: &params,
    };
    if let Err(rejection) = app.verifier.check(signed) {
        log::warn!(
            target: "http",
            "403 {}: {} (URL checked: {}). If this is Twilio, set [server] public_base_url to the exact URL in the Twilio console; `shopbot sign` prints the signature Twilio would send.",
            request.path(), rejection.reason, rejection.url
        );
        return Response::text(403, "invalid Twilio signature");
    }
    let message = match InboundMessage::from_params(params) {
        Ok(message) => message,
        Err(e) => return Response::text(400, &e.to_string()),
    };
    let sid = message.sid.clone();
    let twiml = match app.writer.handle(message) {
        Ok(reply) => twiml::render(&reply),
        Err(e) => {
            log::error!(target: "http", "{sid}: {e}; answered with an apology");
            twiml::apology()
        }
    };
    Response::with_body(200, twiml::CONTENT_TYPE, twiml).note(sid)
}
