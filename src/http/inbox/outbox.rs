//! The outbox page: each message's state and last error, and the owner's
//! word on a held message (send it again, or say whether it arrived).

use super::{chrome, html, pages, query_param, words, Inbox, SignedIn};
use crate::http::router::Call;
use crate::http::{errors, Response};
use crate::store::{InboxAction, OutboxEntry};
use crate::urlencoded::param;
use crate::work::{ByUser, Release, Resolve};

/// Outbound messages the outbox page shows.
const OUTBOX_SHOWN: usize = 200;

type Page<'a> = Call<'a, SignedIn>;

/// `GET /admin/outbox[?done=resent|arrived|dropped&message=ID]`: the list,
/// with what the owner just did confirmed.
pub fn page(inbox: &Inbox, call: &Page<'_>) -> Response {
    let done = match query_param(call.request, "done").as_str() {
        "resent" => Some(pages::OutboxDone::Resent),
        "arrived" => Some(pages::OutboxDone::MarkedSent),
        "dropped" => Some(pages::OutboxDone::Dropped),
        _ => None,
    };
    let done = done.zip(query_param(call.request, "message").parse::<i64>().ok());
    match inbox.reader.read(|db| db.outbox_list(OUTBOX_SHOWN)) {
        Ok(entries) => html(200, pages::outbox(&chrome(inbox, &call.guard), &entries, done)),
        Err(e) => errors::api_store_error(&e),
    }
}

/// `GET /admin/outbox/{id}/retry`: what sending it again means, and the button.
pub fn confirm_retry(inbox: &Inbox, call: &Page<'_>) -> Response {
    match entry(inbox, call) {
        Ok(entry) => html(200, pages::confirm_retry(&chrome(inbox, &call.guard), &entry)),
        Err(response) => response,
    }
}

/// `POST /admin/outbox/{id}/retry`: the message is queued again.
pub fn retry(inbox: &Inbox, call: &Page<'_>) -> Response {
    let id = match entry(inbox, call) {
        Ok(entry) => entry.id,
        Err(response) => return response,
    };
    let user = &call.guard.session.user;
    let work = ByUser {
        work: Release(id),
        message: id,
        done: (user.clone(), InboxAction::Resent),
    };
    match inbox.writer.run(work) {
        Ok(Some(true)) => {
            inbox.outbox.wake();
            log::info!(target: "admin", "{user} queued message {id} again");
            Response::see_other(&format!("/admin/outbox?done=resent&message={id}"))
        }
        Ok(_) => Response::text(409, words().get("retry_refused")),
        Err(e) => errors::writer_unavailable("retry", &e),
    }
}

/// `POST /admin/outbox/{id}/resolve` (`arrived=yes|no`, nothing else): the
/// owner's word on an uncertain message; those waiting behind it go.
pub fn resolve(inbox: &Inbox, call: &Page<'_>) -> Response {
    let arrived = match param(&call.guard.form.fields, "arrived") {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    let (Ok(id), Some(arrived)) = (call.params.get("id").parse::<i64>(), arrived) else {
        return Response::text(400, words().get("resolve_unnamed"));
    };
    let user = &call.guard.session.user;
    let action = if arrived {
        InboxAction::MarkedSent
    } else {
        InboxAction::Dropped
    };
    let work = ByUser {
        work: Resolve { id, arrived },
        message: id,
        done: (user.clone(), action),
    };
    match inbox.writer.run(work) {
        Ok(Some(true)) => {
            inbox.outbox.wake();
            log::info!(target: "admin", "{user} resolved message {id}: arrived {arrived}");
            let done = if arrived { "arrived" } else { "dropped" };
            Response::see_other(&format!("/admin/outbox?done={done}&message={id}"))
        }
        Ok(Some(false)) => Response::text(409, words().get("resolve_refused")),
        Ok(None) => Response::text(404, words().get("no_such_message")),
        Err(e) => errors::writer_unavailable("resolve", &e),
    }
}

/// The outbox entry the path's `{id}` names.
fn entry(inbox: &Inbox, call: &Page<'_>) -> Result<OutboxEntry, Response> {
    let Ok(id) = call.params.get("id").parse::<i64>() else {
        return Err(Response::text(404, words().get("no_such_message")));
    };
    match inbox.reader.read(|db| db.outbox_entry(id)) {
        Ok(Some(entry)) => Ok(entry),
        Ok(None) => Err(Response::text(404, words().get("no_such_message"))),
        Err(e) => Err(errors::api_store_error(&e)),
    }
}
