//! The orders page: the orders (searched by number), and the spreadsheet
//! upload through the same importer as `shopbot orders import`.

use std::sync::Arc;

use super::{chrome, html, pages, query_param, words, Inbox, SignedIn};
use crate::http::router::Call;
use crate::http::{errors, Response};
use crate::work::ImportOrders;

/// Orders shown at most on the orders page.
const ORDERS_SHOWN: usize = pages::ORDERS_CAP;

type Page<'a> = Call<'a, SignedIn>;

/// `GET /admin/orders?q=`: the orders whose number starts with `q`.
pub fn page(inbox: &Inbox, call: &Page<'_>) -> Response {
    orders(inbox, call, 200, None)
}

/// `POST /admin/orders`: the uploaded spreadsheet, then the orders with the
/// import's per-line report above them.
pub fn upload(inbox: &Inbox, call: &Page<'_>) -> Response {
    let Some((_, file)) = call.guard.form.files.iter().find(|(name, _)| name == "file") else {
        return orders(
            inbox,
            call,
            400,
            Some(pages::Upload::Refused(words().get("upload_choose_file").into())),
        );
    };
    let size = file.len();
    let bot = inbox.bot.current();
    let import = ImportOrders {
        file: file.clone(),
        timezone: bot.timezone.clone(),
        notices: inbox.notices.as_ref().map(|n| Arc::new(n.with_menus(&bot.menus))),
    };
    match inbox.writer.run(import) {
        Ok(Ok(report)) => {
            log::info!(
                target: "admin",
                "the owner imported orders ({size} bytes): {} added, {} updated, {} unchanged, {} rejected; {}",
                report.added, report.updated, report.unchanged, report.rejected.len(), report.notices
            );
            if report.notices.told > 0 {
                inbox.outbox.wake();
            }
            orders(inbox, call, 200, Some(pages::Upload::Done(report)))
        }
        Ok(Err(refused)) => orders(inbox, call, 400, Some(pages::Upload::Refused(refused))),
        Err(e) => errors::writer_unavailable("the orders import", &e),
    }
}

fn orders(inbox: &Inbox, call: &Page<'_>, status: u16, upload: Option<pages::Upload>) -> Response {
    let search = query_param(call.request, "q").trim().to_string();
    match inbox.reader.read(|db| db.orders(&search, ORDERS_SHOWN)) {
        Ok((total, rows)) => html(
            status,
            pages::orders(&chrome(inbox, &call.guard), &rows, total, &search, upload.as_ref()),
        ),
        Err(e) => errors::api_store_error(&e),
    }
}
