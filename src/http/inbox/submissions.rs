//! What customers submitted: a table, and the same rows as the spreadsheet
//! `shopbot export submissions --format csv` writes; the owner's status of a
//! submission (new, in progress, done, with a note for the customer), which
//! tells the customer when it changes (`[notify] submission_status`).

use std::sync::Arc;

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use super::{chrome, html, pages, query_param, words, Inbox, SignedIn};
use crate::engine::render::SubmissionStatus;
use crate::http::router::Call;
use crate::http::{errors, Response};
use crate::notify::Told;
use crate::store::SubmissionRecord;
use crate::urlencoded::param;
use crate::work::{SetSubmissionStatus, StatusSaved};

/// The longest note for the customer (it goes in one WhatsApp message).
pub const MAX_NOTE_CHARS: usize = 1_000;

/// Submissions shown at most on one page, the newest (the download has them all).
pub(super) const SUBMISSIONS_SHOWN: usize = 500;

type Page<'a> = Call<'a, SignedIn>;

/// `GET /admin/submissions?form=&since=`.
pub fn page(inbox: &Inbox, call: &Page<'_>) -> Response {
    let (form, since) = (query_param(call.request, "form"), query_param(call.request, "since"));
    let rows = match rows(inbox, &form, &since, Taking::Newest(SUBMISSIONS_SHOWN)) {
        Ok(rows) => rows,
        Err(response) => return response,
    };
    let bot = inbox.bot.current();
    let menu = bot.menu();
    let forms: Vec<(String, String)> = menu
        .nodes
        .keys()
        .filter_map(|name| menu.form_prefix(name).map(|p| (name.clone(), p.to_string())))
        .collect();
    let saved = saved_notice(&query_param(call.request, "saved"), &query_param(call.request, "told"));
    html(
        200,
        pages::submissions(
            &chrome(inbox, &call.guard),
            &rows,
            &forms,
            (&form, &since),
            saved.as_deref(),
        ),
    )
}

/// `POST /admin/submissions/{id}/status` (`status`: `new`, `in_progress` or
/// `done`; `note`; `form` and `since`, the page's filters to go back to): the
/// owner's word on where a submission is. A changed status tells the customer
/// (`[notify] submission_status`); back to the submissions, which say what
/// was done.
pub fn set_status(inbox: &Inbox, call: &Page<'_>) -> Response {
    let fields = &call.guard.form.fields;
    let Some(status) = param(fields, "status").and_then(SubmissionStatus::parse) else {
        return Response::text(400, words().get("status_invalid"));
    };
    let note = param(fields, "note").unwrap_or_default().trim();
    let chars = note.chars().count();
    if chars > MAX_NOTE_CHARS {
        let values = [("chars", chars.to_string()), ("max", MAX_NOTE_CHARS.to_string())];
        let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        return Response::text(400, &words().fill("note_too_long", &values));
    }
    let work = SetSubmissionStatus {
        public_id: call.params.get("id").to_string(),
        status,
        note: note.to_string(),
        notices: inbox
            .submission_notices
            .as_ref()
            .map(|n| Arc::new(n.with_menus(&inbox.bot.current().menus))),
    };
    match inbox.writer.run(work) {
        Ok(Some(saved)) => {
            if saved.told == Some(Told::Yes) {
                inbox.outbox.wake();
            }
            log::info!(target: "admin", "the owner set {} to {} ({})", saved.set.public_id, status.as_str(), told_word(&saved));
            let back =
                |name| utf8_percent_encode(param(fields, name).unwrap_or_default(), NON_ALPHANUMERIC).to_string();
            Response::see_other(&format!(
                "/admin/submissions?form={}&since={}&saved={id}&told={}#{id}",
                back("form"),
                back("since"),
                told_word(&saved),
                id = saved.set.public_id,
            ))
        }
        Ok(None) => Response::text(404, words().get("no_such_submission")),
        Err(e) => errors::writer_unavailable("the submission's status", &e),
    }
}

/// What became of the customer, in one word for the page to say.
fn told_word(saved: &StatusSaved) -> &'static str {
    match &saved.told {
        Some(Told::Yes) => "yes",
        Some(Told::OptedOut) => "opted-out",
        Some(Told::No(_)) => "no",
        None if !saved.set.changed => "same",
        None if !saved.set.status_changed => "note",
        None => "off",
    }
}

/// What the page says after the owner saved submission `id` (`told` from
/// [`told_word`]); `None` for anything else.
fn saved_notice(id: &str, told: &str) -> Option<String> {
    let key = match told {
        "yes" => "saved_told",
        "opted-out" => "saved_opted_out",
        "no" => "saved_not_told",
        "same" => "saved_same",
        "note" => "saved_note",
        "off" => "saved_off",
        _ => return None,
    };
    let id: String = id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    Some(words().fill(key, &[("id", &id)]))
}

/// `GET /admin/submissions.csv?form=&since=`: every matching row.
pub fn spreadsheet(inbox: &Inbox, call: &Page<'_>) -> Response {
    let (form, since) = (query_param(call.request, "form"), query_param(call.request, "since"));
    let rows = match rows(inbox, &form, &since, Taking::All) {
        Ok(rows) => rows,
        Err(response) => return response,
    };
    let mut out = Vec::new();
    if let Err(e) = crate::spreadsheet::write_submissions(&mut out, &rows, &inbox.bot.current().timezone) {
        log::error!(target: "admin", "writing the submissions CSV: {e}");
        return Response::text(500, words().get("spreadsheet_failed"));
    }
    Response::with_body(200, "text/csv; charset=utf-8", out)
        .header("Content-Disposition", "attachment; filename=\"submissions.csv\"")
}

/// Which submissions a list takes.
enum Taking {
    /// The newest `n`, newest first (the page).
    Newest(usize),
    /// Every one, oldest first (the spreadsheet).
    All,
}

/// The submissions of `form` (all when empty) since the shop's date `since`
/// (all when it is not a date), as `taking` says.
fn rows(inbox: &Inbox, form: &str, since: &str, taking: Taking) -> Result<Vec<SubmissionRecord>, Response> {
    let since = since
        .parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(inbox.bot.current().timezone.clone()).ok())
        .map(|z| z.timestamp());
    let form = Some(form).filter(|f| !f.is_empty());
    inbox
        .reader
        .read(|db| match taking {
            Taking::Newest(n) => db.newest_submissions(form, since, n),
            Taking::All => db.submissions(form, since, usize::MAX >> 1),
        })
        .map_err(|e| errors::api_store_error(&e))
}
