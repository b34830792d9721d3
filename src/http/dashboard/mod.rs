//! The owner's inbox under `/admin/`: sign-in, the conversations, one
//! conversation with its reply form, hand-back to the bot.
//!
//! - A session is a 256-bit token in the `shopbot_session` cookie (`HttpOnly`,
//!   `SameSite=Lax`, `Path=/admin`, `Secure` when `public_base_url` is https);
//!   the store keeps only its hash, with a sliding 30-day expiry.
//! - Without a session every page answers `303` to `/admin/login`.
//! - Every `POST` (but the sign-in) must carry the session's CSRF token, as the
//!   form field `csrf` or the header `X-CSRF-Token`, compared in constant time;
//!   otherwise `403` and nothing is done.
//! - Sign-ins are throttled per client address (through `[server]
//!   trusted_proxies`) or known device, and in all (`429` with `Retry-After`);
//!   see [`crate::auth::throttle`].
//! - Every response is `Cache-Control: no-store` with a strict
//!   `Content-Security-Policy` (nothing from another origin, no inline script).
//!
//! Handlers read through the store's read pool and write through the writer
//! (the reply through the outbox's one enqueue); no SQL here.

mod pages;

use super::multipart;

use std::net::IpAddr;
use std::time::Instant;

use jiff::Timestamp;

use super::client_address::client_address;
use super::{routes::App, Method, Request, Response};
use crate::auth::{self, device, Refused, Trier, SESSION_LIFETIME};
use crate::message::{Content, ContentKind};
use crate::outbox::policy::{self, Refusal};
use crate::outbox::{validate, Enqueue, Outgoing};
use crate::store::{ContactView, OwnerSession};
use crate::urlencoded::{param, parse};
use crate::work::{ExtendSession, HandBack, MarkRead, Release, SignIn, SignOut};
use pages::{Chrome, ReplyBox};

/// The session cookie's name.
pub const COOKIE: &str = "shopbot_session";
/// The orders page, where the owner also uploads a spreadsheet (its body
/// limit is the larger upload one).
pub const ORDERS_PATH: &str = "/admin/orders";
/// Orders shown at most on the orders page.
const ORDERS_SHOWN: usize = pages::ORDERS_CAP;
/// Conversations on one page of the inbox.
const PAGE_SIZE: usize = 50;
/// Messages shown of one conversation.
const THREAD_SIZE: usize = 200;
/// A customer's newest submissions shown above their conversation.
const CONTACT_SUBMISSIONS: usize = 20;
/// What every `/admin/` response carries.
const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A signed-in request's session.
struct Signed {
    token_hash: String,
    session: OwnerSession,
}

/// Answers a request under `/admin`.
pub fn handle(app: &App, request: &Request) -> Response {
    guard(route(app, request))
}

/// The headers every inbox response carries.
fn guard(response: Response) -> Response {
    response
        .header("Cache-Control", "no-store")
        .header("Content-Security-Policy", CSP)
        .header("X-Content-Type-Options", "nosniff")
        .header("X-Frame-Options", "DENY")
        .header("Referrer-Policy", "same-origin")
}

fn route(app: &App, request: &Request) -> Response {
    let path = request.path();
    match (&request.method, path) {
        (Method::Get, "/admin/static/admin.css") => Response::with_body(200, "text/css; charset=utf-8", pages::CSS),
        (Method::Get, "/admin/static/live.js") => {
            Response::with_body(200, "text/javascript; charset=utf-8", pages::LIVE_JS)
        }
        (Method::Get, "/admin/login") => html(200, pages::login(&app.shop_name, "/admin/", None)),
        (Method::Post, "/admin/login") => sign_in(app, request),
        _ => match session(app, request) {
            Some(signed) => signed_in(app, request, &signed),
            None => Response::see_other("/admin/login"),
        },
    }
}

/// The pages behind the sign-in.
fn signed_in(app: &App, request: &Request, signed: &Signed) -> Response {
    let form = if request.method == Method::Post {
        match checked_form(request, &signed.session) {
            Ok(form) => Some(form),
            Err(response) => return response,
        }
    } else {
        None
    };
    let path = request.path();
    match (&request.method, path, form) {
        (Method::Post, "/admin/logout", _) => sign_out(app, &signed.token_hash),
        (Method::Get, ORDERS_PATH, _) => orders_page(app, request, signed, None),
        (Method::Post, ORDERS_PATH, Some(posted)) => upload_orders(app, request, signed, posted),
        (Method::Get, "/admin/" | "/admin", _) => inbox(app, request, signed),
        (Method::Get, "/admin/updates", _) => match app.reader.read(|db| db.inbox_pulse()) {
            Ok(pulse) => Response::json(200, &serde_json::json!(pulse)),
            Err(e) => super::errors::api_store_error(&e),
        },
        (Method::Get, "/admin/submissions", _) => submissions(app, request, signed, false),
        (Method::Get, "/admin/outbox", _) => match app.reader.read(|db| db.outbox_list(OUTBOX_SHOWN)) {
            Ok(entries) => html(200, pages::outbox(&chrome(app, signed), &entries)),
            Err(e) => super::errors::api_store_error(&e),
        },
        (Method::Get, "/admin/submissions.csv", _) => submissions(app, request, signed, true),
        (method, _, form) => {
            if let Some(rest) = path.strip_prefix("/admin/conversations/") {
                let fields = form.as_ref().map(|posted| posted.fields.as_slice());
                return conversation_route(app, request, rest, signed, fields);
            }
            if let (Method::Get, Some(rest)) = (method, path.strip_prefix("/admin/media/")) {
                return media(app, rest);
            }
            let outbox = path.strip_prefix("/admin/outbox/").and_then(|r| r.split_once('/'));
            match (outbox, form) {
                (Some((id, "retry")), _) => retry(app, method, id, signed),
                (Some((id, "resolve")), Some(posted)) => resolve_outbox(app, id, &posted.fields),
                _ => Response::text(404, "no such page in the inbox"),
            }
        }
    }
}

/// `/admin/conversations/{key}[/reply|/resolve]`.
fn conversation_route(
    app: &App,
    request: &Request,
    rest: &str,
    signed: &Signed,
    form: Option<&[(String, String)]>,
) -> Response {
    let method = &request.method;
    let (key, action) = rest.split_once('/').map_or((rest, ""), |(k, a)| (k, a));
    let key = percent_encoding::percent_decode_str(key)
        .decode_utf8_lossy()
        .to_string();
    let contact = match app.reader.read(|db| db.contact_by_key(&key)) {
        Ok(Some(contact)) => contact,
        Ok(None) => return Response::text(404, "no such conversation"),
        Err(e) => return super::errors::api_store_error(&e),
    };
    match (method, action, form) {
        // Only a real GET marks the thread read (HEAD asks about the page).
        (Method::Get, "", _) => conversation(app, &contact, signed, None, 200, !request.head),
        (Method::Post, "reply", Some(form)) => reply(app, &contact, signed, param(form, "body").unwrap_or_default()),
        (Method::Post, "template", Some(form)) => template(app, &contact, signed, form),
        (Method::Post, "resolve", Some(_)) => resolve(app, &contact),
        _ => Response::text(405, "not here").header("Allow", "GET, POST"),
    }
}

/// `POST /admin/login`: the password, then a session and its cookie.
///
/// The try is counted before the password is checked (see
/// [`auth::throttle`]); a browser that signed in before is counted as itself,
/// not as its address, and is told so with a long-lived device cookie.
fn sign_in(app: &App, request: &Request) -> Response {
    let form = parse(&request.body).unwrap_or_default();
    let password = param(&form, "password").unwrap_or_default();
    let next = param(&form, "next")
        .filter(|n| safe_next(n))
        .unwrap_or("/admin/")
        .to_string();
    let stored = match app.reader.read(|db| db.owner_password_hash()) {
        Ok(stored) => stored,
        Err(e) => return super::errors::api_store_error(&e),
    };
    let client = client(app, request);
    let trier = known_device(request, stored.as_deref()).map_or(Trier::Address(client), Trier::KnownDevice);
    let permit = match app.sign_in_throttle.admit(&trier, Instant::now()) {
        Ok(permit) => permit,
        Err(refused) => return throttled(app, &next, refused),
    };
    let verified = auth::verify_password(stored.as_deref(), password);
    drop(permit);
    if !verified {
        let why = if stored.is_some() {
            "That password is not right."
        } else {
            "No password is set yet: run `shopbot dashboard set-password` on the server."
        };
        log::warn!(target: "admin", "a failed sign-in from {client}");
        return html(401, pages::login(&app.shop_name, &next, Some(why)));
    }
    app.sign_in_throttle.succeeded(&trier);
    let token = auth::new_token();
    let work = SignIn {
        token_hash: auth::token_hash(&token),
        csrf: auth::new_token(),
        expires_at: expiry(),
    };
    if let Err(e) = app.writer.run(work) {
        return super::errors::writer_unavailable("sign-in", &e);
    }
    log::info!(target: "admin", "the owner signed in from {client}");
    let mut response = Response::see_other(&next).header(
        "Set-Cookie",
        cookie(&token, app.secure_cookies, SESSION_LIFETIME.as_secs()),
    );
    if let (Trier::Address(_), Some(stored)) = (&trier, stored.as_deref()) {
        response = response.header("Set-Cookie", device_cookie(&device::issue(stored), app.secure_cookies));
    }
    response
}

/// The client's address, through `[server] trusted_proxies`.
fn client(app: &App, request: &Request) -> IpAddr {
    let peer = request.remote.unwrap_or(IpAddr::from([0, 0, 0, 0]));
    client_address(peer, request.headers_named("X-Forwarded-For"), &app.trusted_proxies)
}

/// The id of the known device this request comes from, if any.
fn known_device(request: &Request, stored: Option<&str>) -> Option<String> {
    let value = cookie_value(request.header("Cookie")?, device::COOKIE)?;
    device::recognise(value, stored?)
}

/// `429`: the sign-in form again, saying how long to wait.
fn throttled(app: &App, next: &str, refused: Refused) -> Response {
    let secs = refused.retry_after_secs();
    let why = match refused {
        Refused::TooManyTries(_) => format!("Too many wrong passwords. Try again in {secs} seconds."),
        Refused::Busy(_) => format!("Too many sign-ins right now. Try again in {secs} seconds."),
    };
    html(429, pages::login(&app.shop_name, next, Some(&why))).header("Retry-After", secs.to_string())
}

/// `POST /admin/logout`: the session ends on the server and in the browser.
fn sign_out(app: &App, token_hash: &str) -> Response {
    if let Err(e) = app.writer.run(SignOut(token_hash.to_string())) {
        return super::errors::writer_unavailable("sign-out", &e);
    }
    Response::see_other("/admin/login").header("Set-Cookie", cookie("", app.secure_cookies, 0))
}

/// `GET /admin/`: the conversations.
fn inbox(app: &App, request: &Request, signed: &Signed) -> Response {
    let query = request.target.split_once('?').map_or("", |(_, q)| q);
    let page = parse(query.as_bytes())
        .ok()
        .and_then(|q| param(&q, "page").and_then(|p| p.parse::<usize>().ok()))
        .unwrap_or(1)
        .max(1);
    let read = app.reader.read(|db| {
        let size = db.inbox_size()?;
        let latest = db.inbox_pulse()?.latest;
        // A page past the last shows the last (`?page=` is the client's number).
        let page = page.min(size.div_ceil(PAGE_SIZE).max(1));
        Ok((db.inbox(PAGE_SIZE, (page - 1) * PAGE_SIZE)?, size, latest, page))
    });
    match read {
        Ok((rows, size, latest, page)) => {
            let pages = size.div_ceil(PAGE_SIZE).max(1);
            html(200, pages::inbox(&chrome(app, signed), &rows, page, pages, latest))
        }
        Err(e) => super::errors::api_store_error(&e),
    }
}

/// `GET /admin/media/{message}/{n}`: a customer's attachment, fetched on the
/// owner's behalf (the provider's credentials never reach the page). Only
/// photos of [`SHOWN_INLINE`] types are shown as themselves; anything else a
/// customer sent (HTML, SVG, scripts …) is a download of opaque bytes, so
/// nothing a customer sends can run in the inbox's origin.
fn media(app: &App, rest: &str) -> Response {
    let parsed = rest
        .split_once('/')
        .and_then(|(id, n)| Some((id.parse::<i64>().ok()?, n.parse::<usize>().ok()?)));
    let Some((id, n)) = parsed else {
        return Response::text(404, "no such attachment");
    };
    let record = match app.reader.read(|db| db.message(&crate::store::MessageKey::Id(id))) {
        Ok(Some(record)) => record,
        Ok(None) => return Response::text(404, "no such message"),
        Err(e) => return super::errors::api_store_error(&e),
    };
    let Some(attachment) = record
        .media
        .get(n)
        .filter(|_| record.direction == crate::message::Direction::Inbound)
    else {
        return Response::text(404, "no such attachment");
    };
    // The demo's own sample photo is served by the demo itself.
    if app.demo.is_some() && attachment.url.ends_with(super::demo::SAMPLE_PHOTO_PATH) {
        return Response::with_body(200, "image/png", super::demo::SAMPLE_PHOTO);
    }
    match app.media.fetch(record.channel, attachment) {
        Ok(fetched) => attachment_response(fetched, id, n),
        Err(e) => {
            log::warn!(target: "admin", "message {id}, attachment {n}: {e}");
            Response::text(502, &format!("the attachment could not be fetched: {e}"))
        }
    }
}

/// Attachment types the inbox shows as pictures.
const SHOWN_INLINE: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/gif"];

/// A photo as itself, anything else as a download.
fn attachment_response(fetched: crate::channel::client::Fetched, id: i64, n: usize) -> Response {
    let essence = fetched
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if SHOWN_INLINE.contains(&essence.as_str()) {
        Response::with_body(200, &essence, fetched.bytes)
    } else {
        Response::with_body(200, "application/octet-stream", fetched.bytes).header(
            "Content-Disposition",
            format!("attachment; filename=\"message-{id}-attachment-{n}\""),
        )
    }
}

/// Outbound messages the outbox page shows.
const OUTBOX_SHOWN: usize = 200;

/// `GET /admin/outbox/{id}/retry` asks, `POST` queues the message again.
fn retry(app: &App, method: &Method, id: &str, signed: &Signed) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return Response::text(404, "no such message");
    };
    let entry = match app.reader.read(|db| db.outbox_entry(id)) {
        Ok(Some(entry)) => entry,
        Ok(None) => return Response::text(404, "no such message"),
        Err(e) => return super::errors::api_store_error(&e),
    };
    match method {
        Method::Get => html(200, pages::confirm_retry(&chrome(app, signed), &entry)),
        Method::Post => match app.writer.run(Release(id)) {
            Ok(Some(true)) => {
                app.outbox.wake();
                log::info!(target: "admin", "the owner queued message {id} again");
                Response::see_other("/admin/outbox")
            }
            Ok(_) => Response::text(409, "only an uncertain or failed message can be sent again"),
            Err(e) => super::errors::writer_unavailable("retry", &e),
        },
        _ => Response::text(405, "use GET or POST").header("Allow", "GET, POST"),
    }
}

/// `GET /admin/orders?q=`: the orders whose number starts with `q`; after an
/// upload, its report above them.
fn orders_page(app: &App, request: &Request, signed: &Signed, upload: Option<(u16, pages::Upload)>) -> Response {
    let query = request.target.split_once('?').map_or("", |(_, q)| q);
    let query = parse(query.as_bytes()).unwrap_or_default();
    let search = param(&query, "q").unwrap_or_default().trim().to_string();
    match app.reader.read(|db| db.orders(&search, ORDERS_SHOWN)) {
        Ok((total, rows)) => {
            let (status, upload) = upload.map_or((200, None), |(status, upload)| (status, Some(upload)));
            html(
                status,
                pages::orders(&chrome(app, signed), &rows, total, &search, upload.as_ref()),
            )
        }
        Err(e) => super::errors::api_store_error(&e),
    }
}

/// `POST /admin/orders`: the uploaded spreadsheet through the same importer
/// as `shopbot orders import`, and its per-line report.
fn upload_orders(app: &App, request: &Request, signed: &Signed, posted: Posted) -> Response {
    let Some((_, file)) = posted.files.into_iter().find(|(name, _)| name == "file") else {
        let problem = pages::Upload::Refused("Choose a CSV file first.".into());
        return orders_page(app, request, signed, Some((400, problem)));
    };
    let size = file.len();
    let import = crate::work::ImportOrders {
        file,
        timezone: app.bot.timezone.clone(),
    };
    match app.writer.run(import) {
        Ok(Ok(report)) => {
            log::info!(
                target: "admin",
                "the owner imported orders ({size} bytes): {} added, {} updated, {} unchanged, {} rejected",
                report.added, report.updated, report.unchanged, report.rejected.len()
            );
            orders_page(app, request, signed, Some((200, pages::Upload::Done(report))))
        }
        Ok(Err(refused)) => orders_page(app, request, signed, Some((400, pages::Upload::Refused(refused)))),
        Err(e) => super::errors::writer_unavailable("the orders import", &e),
    }
}

/// `POST /admin/outbox/{id}/resolve` (`arrived=yes|no`): the owner's word on
/// an uncertain message; those waiting behind it go.
fn resolve_outbox(app: &App, id: &str, form: &[(String, String)]) -> Response {
    let arrived = match param(form, "arrived") {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    let (Ok(id), Some(arrived)) = (id.parse::<i64>(), arrived) else {
        return Response::text(400, "name the message and say whether it arrived (arrived=yes or no)");
    };
    match app.writer.run(crate::work::Resolve { id, arrived }) {
        Ok(Some(true)) => {
            app.outbox.wake();
            log::info!(target: "admin", "the owner resolved message {id}: arrived {arrived}");
            Response::see_other("/admin/outbox")
        }
        Ok(Some(false)) => Response::text(409, "only an uncertain message can be resolved"),
        Ok(None) => Response::text(404, "no such message"),
        Err(e) => super::errors::writer_unavailable("resolve", &e),
    }
}

/// Submissions shown at most on one page (the download has them all).
const SUBMISSIONS_SHOWN: usize = 500;

/// `GET /admin/submissions[.csv]?form=&since=`: the table, or the same rows as
/// the spreadsheet `shopbot export submissions --format csv` writes.
fn submissions(app: &App, request: &Request, signed: &Signed, csv: bool) -> Response {
    let query = request.target.split_once('?').map_or("", |(_, q)| q);
    let query = parse(query.as_bytes()).unwrap_or_default();
    let form = param(&query, "form").unwrap_or_default().to_string();
    let since_text = param(&query, "since").unwrap_or_default().to_string();
    let since = since_text
        .parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(app.bot.timezone.clone()).ok())
        .map(|z| z.timestamp());
    let limit = if csv { usize::MAX >> 1 } else { SUBMISSIONS_SHOWN };
    let rows = match app
        .reader
        .read(|db| db.submissions(Some(form.as_str()).filter(|f| !f.is_empty()), since, limit))
    {
        Ok(rows) => rows,
        Err(e) => return super::errors::api_store_error(&e),
    };
    if csv {
        let mut out = Vec::new();
        if let Err(e) = crate::spreadsheet::write_submissions(&mut out, &rows, &app.bot.timezone) {
            log::error!(target: "admin", "writing the submissions CSV: {e}");
            return Response::text(500, "could not write the spreadsheet");
        }
        return Response::with_body(200, "text/csv; charset=utf-8", out)
            .header("Content-Disposition", "attachment; filename=\"submissions.csv\"");
    }
    let forms: Vec<(String, String)> = app
        .bot
        .menu
        .nodes
        .keys()
        .filter_map(|name| app.bot.menu.form_prefix(name).map(|p| (name.clone(), p.to_string())))
        .collect();
    html(
        200,
        pages::submissions(&chrome(app, signed), &rows, &forms, &form, &since_text),
    )
}

/// `GET /admin/conversations/{key}`: the whole chat and the reply form;
/// marks it read when `mark_read`.
fn conversation(
    app: &App,
    contact: &ContactView,
    signed: &Signed,
    notice: Option<&str>,
    status: u16,
    mark_read: bool,
) -> Response {
    let now = Timestamp::now();
    let read = app.reader.read(|db| {
        let messages = db.contact_messages(contact.id, THREAD_SIZE)?;
        let facts = db.contact_facts(&contact.who)?;
        let submissions = db.contact_submissions(contact.id, CONTACT_SUBMISSIONS)?;
        Ok((messages, facts, submissions))
    });
    let (messages, facts, submissions) = match read {
        Ok(read) => read,
        Err(e) => return super::errors::api_store_error(&e),
    };
    let reply_box = match policy::check(ContentKind::Text, &facts, now) {
        Ok(()) => ReplyBox::Open(policy::window_left(&facts, now).unwrap_or_default()),
        Err(Refusal::OptedOut) => {
            ReplyBox::Refused("This customer opted out (sent STOP): nothing can be sent until they send START.".into())
        }
        Err(refusal) => {
            let probe = Outgoing {
                to: contact.who.clone(),
                content: Content::Text {
                    body: String::new(),
                    media_urls: Vec::new(),
                },
                channel: None,
            };
            let channel = app
                .routing
                .channel_for(&probe, &facts)
                .unwrap_or(app.routing.default_channel);
            ReplyBox::TemplateOnly(
                format!("The 24-hour window is closed ({refusal}). Only an approved template can go now."),
                channel,
            )
        }
    };
    if let Some(newest) = messages.last().and_then(|m| m.id).filter(|_| mark_read) {
        let _ = app.writer.run(MarkRead {
            contact: contact.id,
            up_to: newest,
        });
    }
    html(
        status,
        pages::conversation(
            &chrome(app, signed),
            contact,
            &messages,
            &submissions,
            &reply_box,
            notice,
        ),
    )
}

/// `POST …/reply`: the owner's answer, queued in the outbox like any message.
fn reply(app: &App, contact: &ContactView, signed: &Signed, body: &str) -> Response {
    if body.trim().is_empty() {
        return conversation(app, contact, signed, Some("Write something first."), 400, true);
    }
    let work = Enqueue {
        routing: app.routing.clone(),
        message: Outgoing {
            to: contact.who.clone(),
            content: Content::Text {
                body: body.to_string(),
                media_urls: Vec::new(),
            },
            channel: None,
        },
    };
    send(app, contact, signed, work)
}

/// Queues the owner's message; back to the conversation, or why not.
fn send(app: &App, contact: &ContactView, signed: &Signed, work: Enqueue) -> Response {
    match app.writer.run(work) {
        Ok(Ok(record)) => {
            app.outbox.wake();
            log::info!(target: "admin", "the owner wrote to {} (message {})", contact.who, record.id.unwrap_or_default());
            Response::see_other(&format!("/admin/conversations/{}", contact.id.0))
        }
        Ok(Err(refusal)) => conversation(app, contact, signed, Some(&format!("Not sent: {refusal}")), 409, true),
        Err(e) => super::errors::writer_unavailable("the owner's message", &e),
    }
}

/// `POST …/template`: a Twilio content template or a Meta template, with the
/// values one per line (`{{1}}`, `{{2}}`, …).
fn template(app: &App, contact: &ContactView, signed: &Signed, form: &[(String, String)]) -> Response {
    let to = contact.who.display();
    let values: std::collections::BTreeMap<String, String> = param(form, "values")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, v)| ((i + 1).to_string(), v.to_string()))
        .collect();
    let message = match (param(form, "content_sid"), param(form, "template_name")) {
        (Some(sid), _) => validate::twilio_template(&to, sid.trim(), values),
        (None, Some(name)) => validate::meta_template(
            &to,
            name.trim(),
            param(form, "language_code").unwrap_or("en_US").trim(),
            values,
        ),
        (None, None) => return conversation(app, contact, signed, Some("Name the template first."), 400, true),
    };
    match message {
        Ok(message) => send(
            app,
            contact,
            signed,
            Enqueue {
                routing: app.routing.clone(),
                message,
            },
        ),
        Err(e) => conversation(app, contact, signed, Some(&format!("Not sent: {e}")), 400, true),
    }
}

/// `POST …/resolve`: the conversation goes back to the bot.
fn resolve(app: &App, contact: &ContactView) -> Response {
    let work = HandBack {
        contact: contact.id,
        start: app.bot.menu.start.clone(),
    };
    match app.writer.run(work) {
        Ok(()) => Response::see_other(&format!("/admin/conversations/{}", contact.id.0)),
        Err(e) => super::errors::writer_unavailable("hand back", &e),
    }
}

/// The session a request's cookie names, if valid; slides its expiry.
fn session(app: &App, request: &Request) -> Option<Signed> {
    let token = cookie_value(request.header("Cookie")?, COOKIE)?;
    let token_hash = auth::token_hash(token);
    let now = Timestamp::now();
    let session = app.reader.read(|db| db.owner_session(&token_hash, now)).ok()??;
    // Slide at most once a day per session (a write), not on every page.
    let full = expiry();
    if full.duration_since(session.expires_at) > jiff::SignedDuration::from_hours(24) {
        let _ = app.writer.run(ExtendSession {
            token_hash: token_hash.clone(),
            expires_at: full,
        });
    }
    Some(Signed { token_hash, session })
}

/// A posted form: its text fields, and its files (only from a
/// `multipart/form-data` form).
struct Posted {
    fields: Vec<(String, String)>,
    files: Vec<(String, Vec<u8>)>,
}

/// A POST's form, if it carries the session's CSRF token; else `403`.
fn checked_form(request: &Request, session: &OwnerSession) -> Result<Posted, Response> {
    let posted = read_form(request).map_err(|e| Response::text(400, &format!("the form could not be read: {e}")))?;
    let presented = param(&posted.fields, "csrf").or_else(|| request.header("X-CSRF-Token"));
    match presented {
        Some(token) if auth::same_secret(token, &session.csrf) => Ok(posted),
        _ => Err(Response::text(
            403,
            "the form is stale or not from this inbox (CSRF check failed); nothing was done",
        )),
    }
}

/// A urlencoded or a multipart form.
fn read_form(request: &Request) -> Result<Posted, String> {
    let content_type = request.header("Content-Type").unwrap_or_default();
    if multipart::boundary(content_type).is_none() {
        let fields = parse(&request.body).map_err(|e| e.to_string())?;
        return Ok(Posted {
            fields,
            files: Vec::new(),
        });
    }
    let mut posted = Posted {
        fields: Vec::new(),
        files: Vec::new(),
    };
    for part in multipart::parse(content_type, &request.body).map_err(|e| e.to_string())? {
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

fn chrome<'a>(app: &'a App, signed: &'a Signed) -> Chrome<'a> {
    Chrome {
        shop: &app.shop_name,
        csrf: &signed.session.csrf,
        tz: &app.bot.timezone,
        now: Timestamp::now(),
        staff: app.bot.staff.as_ref().map_or(&[], |desk| desk.staff.numbers.as_slice()),
    }
}

/// A session's full lifetime from now.
fn expiry() -> Timestamp {
    Timestamp::now().checked_add(SESSION_LIFETIME).unwrap_or(Timestamp::MAX)
}

/// The session cookie (`max_age` 0 clears it).
fn cookie(token: &str, secure: bool, max_age: i64) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={token}; Path=/admin; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// The known-device cookie: only the sign-in sees it.
fn device_cookie(value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{}={value}; Path=/admin/login; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        device::COOKIE,
        device::LIFETIME_SECS
    )
}

/// The value of cookie `name` in a `Cookie` header.
fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Only paths inside the inbox may follow a sign-in (no open redirect).
fn safe_next(next: &str) -> bool {
    next.starts_with("/admin/") && !next.starts_with("//") && !next.contains(['\\', '\r', '\n'])
}

fn html(status: u16, page: maud::Markup) -> Response {
    Response::with_body(status, "text/html; charset=utf-8", page.into_string())
}
