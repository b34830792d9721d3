//! The handlers of `GET` and `POST` on `[webhooks] meta_path`
//! (`/meta/webhook`): Meta's WhatsApp Cloud API webhook.
//!
//! `GET` is the App Dashboard's verification: `hub.mode=subscribe` with the
//! configured `hub.verify_token` is answered `200 text/plain` with exactly
//! `hub.challenge`; anything else `403`. It carries no signature.
//!
//! `POST` is checked first: `X-Hub-Signature-256` over the raw body bytes,
//! keyed with the app secret (missing → `401`, wrong → `403`; the expected value
//! is never shown). The body may be up to [`MAX_BODY_BYTES`] (Meta sends
//! batches of up to 1,000 updates). Then the whole batch (every entry, change, message and
//! status) is handed to the writer as one piece of work, and `200` is answered
//! only once it is committed, replies queued in the same transaction. The
//! replies go out through the Graph API from the outbox, so a slow or failing
//! Graph API never delays or fails the webhook.

use super::MetaWebhook;
use crate::channel::meta::{signature, webhook};
use crate::config::Meta;
use crate::http::answer::after_commit;
use crate::http::{errors, Request, Response};
use crate::urlencoded::{param, parse};
use crate::work::HandleBatch;

/// The largest Meta webhook body taken: Meta documents payloads of up to
/// 3 MB (1,000 updates); a bigger one is still refused (`413`).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// `GET`: the verification handshake.
pub fn verify(_area: &MetaWebhook, meta: &Meta, request: &Request) -> Response {
    let query = request.target.split_once('?').map_or("", |(_, q)| q);
    let Ok(params) = parse(query.as_bytes()) else {
        return Response::text(403, "verification refused");
    };
    let mode = param(&params, "hub.mode");
    let token = param(&params, "hub.verify_token").unwrap_or_default();
    let challenge = param(&params, "hub.challenge").unwrap_or_default();
    if mode == Some("subscribe") && meta.verify_token.matches(token) {
        log::info!(target: "meta", "webhook verified by Meta");
        return Response::with_body(200, "text/plain; charset=utf-8", challenge.to_string());
    }
    log::warn!(target: "meta", "403 on webhook verification: hub.mode={mode:?}, verify token {}; it must be the [meta] verify_token (or META_VERIFY_TOKEN)", if token.is_empty() { "missing" } else { "wrong" });
    Response::text(403, "verification refused")
}

/// `POST`: a signed batch of messages and statuses.
pub fn receive(app: &MetaWebhook, meta: &Meta, request: &Request) -> Response {
    let header = request.header(signature::HEADER);
    if let Err(e) = signature::verify(meta.app_secret.expose(), header, &request.body) {
        let status = if matches!(e, signature::SignatureError::Missing) {
            401
        } else {
            403
        };
        log::warn!(target: "meta", "{status} {}: {e}. If this is Meta, check [meta] app_secret (App settings → Basic); `shopbot sign --meta --body-file F` prints the signature Meta would send.", request.path());
        return Response::text(status, "invalid or missing X-Hub-Signature-256");
    }
    let batch = match webhook::parse(&request.body) {
        Ok(batch) => batch,
        Err(e) => return errors::bad_webhook(&e),
    };
    for reason in &batch.ignored {
        log::debug!(target: "meta", "ignored: {reason}");
    }
    for item in &batch.unusable {
        log::warn!(target: "meta", "could not read {}; kept whole in the database (unreadable_items), the rest of the batch is handled", item.reason);
    }
    let note = format!(
        "{} message(s), {} status(es)",
        batch.inbound.len(),
        batch.statuses.len()
    );
    let work = HandleBatch {
        channel: crate::message::Channel::Meta,
        bot: app.bot.current(),
        inbound: batch.inbound,
        statuses: batch.statuses,
        unusable: batch.unusable,
    };
    let outbox = app.outbox.clone();
    after_commit(&app.writer, work, move |queued| match queued {
        Ok(queued) => {
            if queued > 0 {
                outbox.wake();
            }
            Response::text(200, "ok").note(note)
        }
        Err(e) => errors::writer_unavailable(&note, &e).note(note),
    })
}
