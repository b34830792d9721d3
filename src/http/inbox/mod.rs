//! The owner's inbox under `/admin/`: its route table, its context, and the
//! one guard every page goes through.
//!
//! - **Routes** are one flat table (`routes`): method, pattern, and whether
//!   the page is open (the sign-in form, the stylesheet) or needs a session.
//! - **The guard** (`route`): a page that needs a session and has none
//!   answers `303` to `/admin/login` (also for a path that does not exist, so
//!   nothing about the inbox shows without a session). Every `POST` behind it
//!   must carry the session's CSRF token, as the form field `csrf` or the
//!   header `X-CSRF-Token`, compared in constant time; otherwise `403` and
//!   nothing is done. The handlers get the session and the checked form.
//! - Every response is `Cache-Control: no-store` with a strict
//!   `Content-Security-Policy` (nothing from another origin, no inline script).
//! - Sessions, cookies and the sign-in throttle are in `session.rs`.
//! - Its words come from the inbox catalog, in the one language `words()`
//!   chooses (English for now).
//!
//! Handlers read through the store's read pool and write through the writer
//! (the reply through the outbox's one enqueue); no SQL here. They take the
//! time from the context's [`Clock`], so they are tested without sockets and
//! at any moment (see `tests.rs`).

mod conversations;
mod orders;
mod outbox;
mod pages;
mod session;
mod submissions;
#[cfg(test)]
mod tests;

use std::sync::{Arc, OnceLock};

use super::router::{wrong_method, Call, Found, Routes};
use super::{Method, Request, Response};
use crate::auth::Throttle;
use crate::channel::MediaFetcher;
use crate::clock::Clock;
use crate::conversation::LiveBot;
use crate::engine::catalog::{self, inbox::Words};
use crate::outbox::sender::Wake;
use crate::outbox::Routing;
use crate::store::{OwnerSession, ReadPool};
use crate::urlencoded::{into_owned, param, parse};
use crate::writer::Writer;
use pages::Chrome;

pub use session::COOKIE;

/// The orders page, where the owner also uploads a spreadsheet (its body
/// limit is the larger upload one).
pub const ORDERS_PATH: &str = "/admin/orders";
/// The inbox's texts: English, the only inbox language shipped so far. The
/// one place the inbox's language is chosen (an owner's language setting
/// would set it here).
fn words() -> Words {
    Words::new(catalog::FALLBACK)
}

/// What every `/admin/` response carries.
const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What the inbox's handlers share.
pub struct Inbox {
    /// The shop's name (every page's title).
    pub shop_name: String,
    /// Read-only connections.
    pub reader: Arc<ReadPool>,
    /// The single writer.
    pub writer: Writer,
    /// Wakes the outbox sender after something was queued.
    pub outbox: Wake,
    /// Which channel the owner's messages take.
    pub routing: Arc<Routing>,
    /// The menu, the shop's time zone and `[staff]`.
    pub bot: LiveBot,
    /// Fetches customers' photos with the providers' credentials.
    pub media: MediaFetcher,
    /// The demo runs (its sample photo is served by the demo itself).
    pub demo: bool,
    /// Session cookies are `Secure` (`public_base_url` is https).
    pub secure_cookies: bool,
    /// Sign-ins per client address and known device.
    pub throttle: Throttle,
    /// `[server] trusted_proxies`: whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Now.
    pub clock: Clock,
    /// Telling customers whose order changed (`[notify]`), for uploads.
    pub notices: Option<Arc<crate::notify::OrderNotices>>,
    /// Telling customers whose submission's status the owner changed.
    pub submission_notices: Option<Arc<crate::notify::SubmissionNotices>>,
}

/// A signed-in request: its session, and (for a `POST`) its checked form.
pub struct SignedIn {
    /// The session token's hash (what sign-out ends).
    token_hash: String,
    /// The session.
    session: OwnerSession,
    /// A `POST`'s form, its CSRF token checked; empty for a `GET`.
    form: Posted,
}

/// A posted form: its text fields, and its files (only from a
/// `multipart/form-data` form).
#[derive(Default)]
struct Posted {
    fields: Vec<(String, String)>,
    files: Vec<(String, Vec<u8>)>,
}

/// A page anyone may see.
type Open = fn(&Inbox, &Call<'_>) -> Response;
/// A page behind the sign-in.
type Page = fn(&Inbox, &Call<'_, SignedIn>) -> Response;

/// What a route needs.
enum Access {
    Open(Open),
    SignedIn(Page),
}

/// The inbox's routes.
fn routes() -> &'static Routes<Access> {
    static ROUTES: OnceLock<Routes<Access>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        use Access::{Open, SignedIn};
        use Method::{Get, Post};
        Routes::default()
            .add(Get, "/admin/static/admin.css", Open(|_, _| css()))
            .add(Get, "/admin/static/live.js", Open(|_, _| live_js()))
            .add(Get, "/admin/login", Open(session::login_form))
            .add(Post, "/admin/login", Open(session::sign_in))
            .add(Post, "/admin/logout", SignedIn(session::sign_out))
            .add(Get, "/admin/", SignedIn(conversations::list))
            .add(Get, "/admin/updates", SignedIn(conversations::updates))
            .add(Get, "/admin/conversations/{key}", SignedIn(conversations::show))
            .add(Post, "/admin/conversations/{key}/reply", SignedIn(conversations::reply))
            .add(
                Post,
                "/admin/conversations/{key}/template",
                SignedIn(conversations::template),
            )
            .add(
                Post,
                "/admin/conversations/{key}/resolve",
                SignedIn(conversations::hand_back),
            )
            .add(
                Post,
                "/admin/conversations/{key}/language",
                SignedIn(conversations::language),
            )
            .add(Get, "/admin/media/{message}/{n}", SignedIn(conversations::media))
            .add(
                Get,
                "/admin/submissions/{id}/media/{n}",
                SignedIn(conversations::submission_media),
            )
            .add(Get, "/admin/submissions", SignedIn(submissions::page))
            .add(Get, "/admin/submissions.csv", SignedIn(submissions::spreadsheet))
            .add(
                Post,
                "/admin/submissions/{id}/status",
                SignedIn(submissions::set_status),
            )
            .add(Get, ORDERS_PATH, SignedIn(orders::page))
            .add(Post, ORDERS_PATH, SignedIn(orders::upload))
            .add(Get, "/admin/outbox", SignedIn(outbox::page))
            .add(Get, "/admin/outbox/{id}/retry", SignedIn(outbox::confirm_retry))
            .add(Post, "/admin/outbox/{id}/retry", SignedIn(outbox::retry))
            .add(Post, "/admin/outbox/{id}/resolve", SignedIn(outbox::resolve))
    })
}

/// Answers a request under `/admin`.
pub fn handle(inbox: &Inbox, request: &Request) -> Response {
    guard_headers(route(inbox, request))
}

/// The guard: open pages as they are; the rest with a session, and a `POST`
/// with its CSRF token (see the module's doc).
fn route(inbox: &Inbox, request: &Request) -> Response {
    let found = routes().find(&request.method, request.path());
    if let Found::Route(Access::Open(page), params) = found {
        return page(
            inbox,
            &Call {
                request,
                params,
                guard: (),
            },
        );
    }
    let Some((token_hash, session)) = session::current(inbox, request) else {
        return Response::see_other("/admin/login");
    };
    match found {
        Found::Route(Access::SignedIn(page), params) => {
            let form = if request.method == Method::Post {
                match session::checked_form(request, &session) {
                    Ok(form) => form,
                    Err(refused) => return refused,
                }
            } else {
                Posted::default()
            };
            let guard = SignedIn {
                token_hash,
                session,
                form,
            };
            page(inbox, &Call { request, params, guard })
        }
        Found::WrongMethod(allowed) => wrong_method(&allowed),
        Found::Route(Access::Open(_), _) | Found::NotHere => Response::text(404, words().get("no_such_page")),
    }
}

/// The headers every inbox response carries.
fn guard_headers(response: Response) -> Response {
    response
        .header("Cache-Control", "no-store")
        .header("Content-Security-Policy", CSP)
        .header("X-Content-Type-Options", "nosniff")
        .header("X-Frame-Options", "DENY")
        .header("Referrer-Policy", "same-origin")
}

fn css() -> Response {
    Response::with_body(200, "text/css; charset=utf-8", pages::CSS)
}

fn live_js() -> Response {
    Response::with_body(200, "text/javascript; charset=utf-8", pages::LIVE_JS)
}

/// What every signed-in page shows around its content.
fn chrome<'a>(inbox: &'a Inbox, signed: &'a SignedIn) -> Chrome<'a> {
    Chrome {
        words: words(),
        shop: &inbox.shop_name,
        csrf: &signed.session.csrf,
        now: inbox.clock.now(),
        bot: inbox.bot.current(),
    }
}

/// The query string's parameters (none if it cannot be read).
fn query(request: &Request) -> Vec<(String, String)> {
    let query = request.target.split_once('?').map_or("", |(_, q)| q);
    parse(query.as_bytes()).map(into_owned).unwrap_or_default()
}

/// The query parameter `name`, or empty.
fn query_param(request: &Request, name: &str) -> String {
    param(&query(request), name).unwrap_or_default().to_string()
}

fn html(status: u16, page: maud::Markup) -> Response {
    Response::with_body(status, "text/html; charset=utf-8", page.into_string())
}

/// A urlencoded or a multipart form.
fn multipart_or_urlencoded(request: &Request) -> Result<Posted, String> {
    let content_type = request.header("Content-Type").unwrap_or_default();
    if super::multipart::boundary(content_type).is_none() {
        let fields = parse(&request.body).map(into_owned).map_err(|e| e.to_string())?;
        return Ok(Posted {
            fields,
            files: Vec::new(),
        });
    }
    let mut posted = Posted::default();
    for part in super::multipart::parse(content_type, &request.body).map_err(|e| e.to_string())? {
        if part.filename.is_some() {
            posted.files.push((part.name, part.body.to_vec()));
        } else {
            let text =
                String::from_utf8(part.body.to_vec()).map_err(|_| format!("field {} is not UTF-8", part.name))?;
            posted.fields.push((part.name, text));
        }
    }
    Ok(posted)
}
