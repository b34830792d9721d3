//! What customers submitted: a table, and the same rows as the spreadsheet
//! `shopbot export submissions --format csv` writes.

use super::{chrome, html, pages, query_param, Inbox, SignedIn};
use crate::http::router::Call;
use crate::http::{errors, Response};
use crate::store::SubmissionRecord;

/// Submissions shown at most on one page (the download has them all).
const SUBMISSIONS_SHOWN: usize = 500;

type Page<'a> = Call<'a, SignedIn>;

/// `GET /admin/submissions?form=&since=`.
pub fn page(inbox: &Inbox, call: &Page<'_>) -> Response {
    let (form, since) = (query_param(call.request, "form"), query_param(call.request, "since"));
    let rows = match rows(inbox, &form, &since, SUBMISSIONS_SHOWN) {
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
    html(
        200,
        pages::submissions(&chrome(inbox, &call.guard), &rows, &forms, &form, &since),
    )
}

/// `GET /admin/submissions.csv?form=&since=`: every matching row.
pub fn spreadsheet(inbox: &Inbox, call: &Page<'_>) -> Response {
    let (form, since) = (query_param(call.request, "form"), query_param(call.request, "since"));
    let rows = match rows(inbox, &form, &since, usize::MAX >> 1) {
        Ok(rows) => rows,
        Err(response) => return response,
    };
    let mut out = Vec::new();
    if let Err(e) = crate::spreadsheet::write_submissions(&mut out, &rows, &inbox.bot.current().timezone) {
        log::error!(target: "admin", "writing the submissions CSV: {e}");
        return Response::text(500, "could not write the spreadsheet");
    }
    Response::with_body(200, "text/csv; charset=utf-8", out)
        .header("Content-Disposition", "attachment; filename=\"submissions.csv\"")
}

/// The submissions of `form` (all when empty) since the shop's date `since`
/// (all when it is not a date), newest first, at most `limit`.
fn rows(inbox: &Inbox, form: &str, since: &str, limit: usize) -> Result<Vec<SubmissionRecord>, Response> {
    let since = since
        .parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(inbox.bot.current().timezone.clone()).ok())
        .map(|z| z.timestamp());
    inbox
        .reader
        .read(|db| db.submissions(Some(form).filter(|f| !f.is_empty()), since, limit))
        .map_err(|e| errors::api_store_error(&e))
}
