//! What every Twilio webhook route does first: parse the form body and check its
//! `X-Twilio-Signature` (or SharedKey HMAC) against the URL Twilio called.

use super::Twilio;
use crate::channel::twilio::signature::{SETTINGS_HEADER, SIGNATURE_HEADER};
use crate::channel::twilio::verifier::SignedRequest;
use crate::channel::twilio::webhook::parse_form;
use crate::http::{errors, Request, Response};
use crate::urlencoded::Pair;

/// The form parameters of a correctly signed request, or the answer to give:
/// `400` for a body that is not a form (by `Content-Type` or content), `403` for a bad or missing signature.
pub fn verified_form<'r>(twilio: &Twilio, request: &'r Request) -> Result<Vec<Pair<'r>>, Response> {
    if let Some(kind) = request.header("Content-Type") {
        if !kind
            .trim()
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
        {
            return Err(Response::text(
                400,
                &format!("the body must be application/x-www-form-urlencoded, not {kind}"),
            ));
        }
    }
    let params = parse_form(&request.body).map_err(|e| errors::bad_webhook(&e))?;
    let signed = SignedRequest {
        target: &request.target,
        host: request.header("Host"),
        signature: request.header(SIGNATURE_HEADER),
        settings: request.header(SETTINGS_HEADER),
        params: &params,
    };
    if let Err(rejection) = twilio.verifier.check(signed) {
        log::warn!(
            target: "http",
            "403 {}: {} (URL checked: {}). If this is Twilio, set [server] public_base_url to the exact URL in the Twilio console; `shopbot sign` prints the signature Twilio would send.",
            request.path(), rejection.reason, rejection.url
        );
        return Err(Response::text(403, "invalid Twilio signature"));
    }
    Ok(params)
}
