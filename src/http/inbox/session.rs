//! Signing in and out of the inbox, the session behind every page, and the
//! CSRF check of every `POST`.
//!
//! - A session is a 256-bit token in the `shopbot_session` cookie (`HttpOnly`,
//!   `SameSite=Lax`, `Path=/admin`, `Secure` when `public_base_url` is https);
//!   the store keeps only its hash, with a sliding 30-day expiry.
//! - Sign-ins are throttled per client address (through `[server]
//!   trusted_proxies`) or known device, and in all (`429` with `Retry-After`);
//!   see [`crate::auth::throttle`]. A browser that signed in gets a long-lived
//!   known-device cookie (`Path=/admin/login`).

use std::net::IpAddr;
use std::time::Instant;

use jiff::Timestamp;

use super::{html, multipart_or_urlencoded, pages, words, Inbox, Posted, SignedIn};
use crate::auth::{self, device, Refused, Trier, SESSION_LIFETIME};
use crate::http::client_address::client_address;
use crate::http::router::Call;
use crate::http::{errors, Request, Response};
use crate::store::OwnerSession;
use crate::urlencoded::{param, parse};
use crate::work::{ExtendSession, SignIn, SignOut};

/// The session cookie's name.
pub const COOKIE: &str = "shopbot_session";

/// `GET /admin/login`: the form.
pub fn login_form(inbox: &Inbox, _: &Call<'_>) -> Response {
    html(200, pages::login(words(), &inbox.shop_name, "/admin/", None))
}

/// `POST /admin/login`: the name (which may be left out: the first account,
/// as PRODUCT.md's sign-in sends only the password) and the password, then a
/// session for that user and its cookie.
///
/// The try is counted before the password is checked (see
/// [`auth::throttle`]); a browser that signed in before is counted as itself,
/// not as its address, and is told so with a long-lived device cookie.
pub fn sign_in(inbox: &Inbox, call: &Call<'_>) -> Response {
    let request = call.request;
    let form = parse(&request.body).unwrap_or_default();
    let password = param(&form, "password").unwrap_or_default();
    let next = param(&form, "next")
        .filter(|n| safe_next(n))
        .unwrap_or("/admin/")
        .to_string();
    let name = param(&form, "name");
    let (user, anyone) = match inbox
        .reader
        .read(|db| Ok((db.inbox_user(name)?, !db.inbox_user_names()?.is_empty())))
    {
        Ok(found) => found,
        Err(e) => return errors::api_store_error(&e),
    };
    let stored = user.as_ref().map(|u| u.hash.clone());
    let client = client(inbox, request);
    let trier = known_device(request, stored.as_deref()).map_or(Trier::Address(client), Trier::KnownDevice);
    let permit = match inbox.throttle.admit(&trier, Instant::now()) {
        Ok(permit) => permit,
        Err(refused) => return throttled(inbox, &next, refused),
    };
    let verified = auth::verify_password(stored.as_deref(), password);
    drop(permit);
    let named = name.is_some_and(|n| !n.trim().is_empty());
    let user = match user.filter(|_| verified) {
        Some(user) => user,
        None => {
            let why = words().get(match (anyone, named) {
                (false, _) => "login_no_account",
                (true, false) => "login_wrong_password",
                (true, true) => "login_no_match",
            });
            log::warn!(target: "admin", "a failed sign-in from {client}");
            return html(401, pages::login(words(), &inbox.shop_name, &next, Some(why)));
        }
    };
    inbox.throttle.succeeded(&trier);
    let token = auth::new_token();
    let work = SignIn {
        token_hash: auth::token_hash(&token),
        csrf: auth::new_token(),
        expires_at: expiry(inbox.clock.now()),
        user: user.id,
    };
    if let Err(e) = inbox.writer.run(work) {
        return errors::writer_unavailable("sign-in", &e);
    }
    log::info!(target: "admin", "{} signed in from {client}", user.name);
    let mut response = Response::see_other(&next).header(
        "Set-Cookie",
        cookie(&token, inbox.secure_cookies, SESSION_LIFETIME.as_secs()),
    );
    if let (Trier::Address(_), Some(stored)) = (&trier, stored.as_deref()) {
        response = response.header(
            "Set-Cookie",
            device_cookie(&device::issue(stored), inbox.secure_cookies),
        );
    }
    response
}

/// `POST /admin/logout`: the session ends on the server and in the browser.
pub fn sign_out(inbox: &Inbox, call: &Call<'_, SignedIn>) -> Response {
    if let Err(e) = inbox.writer.run(SignOut(call.guard.token_hash.clone())) {
        return errors::writer_unavailable("sign-out", &e);
    }
    Response::see_other("/admin/login").header("Set-Cookie", cookie("", inbox.secure_cookies, 0))
}

/// The session a request's cookie names (its token's hash and the session),
/// if it is valid now; slides its expiry.
pub fn current(inbox: &Inbox, request: &Request) -> Option<(String, OwnerSession)> {
    let token = cookie_value(request.header("Cookie")?, COOKIE)?;
    let token_hash = auth::token_hash(token);
    let now = inbox.clock.now();
    let session = inbox.reader.read(|db| db.owner_session(&token_hash, now)).ok()??;
    // Slide at most once a day per session (a write), not on every page.
    let full = expiry(now);
    if full.duration_since(session.expires_at) > jiff::SignedDuration::from_hours(24) {
        let _ = inbox.writer.run(ExtendSession {
            token_hash: token_hash.clone(),
            expires_at: full,
        });
    }
    Some((token_hash, session))
}

/// A POST's form, if it carries the session's CSRF token; else `403`.
pub fn checked_form(request: &Request, session: &OwnerSession) -> Result<Posted, Response> {
    let posted = multipart_or_urlencoded(request)
        .map_err(|e| Response::text(400, &words().fill("form_unreadable", &[("why", &e)])))?;
    let presented = param(&posted.fields, "csrf").or_else(|| request.header("X-CSRF-Token"));
    match presented {
        Some(token) if auth::same_secret(token, &session.csrf) => Ok(posted),
        _ => Err(Response::text(403, words().get("csrf_failed"))),
    }
}

/// The client's address, through `[server] trusted_proxies`.
fn client(inbox: &Inbox, request: &Request) -> IpAddr {
    let peer = request.remote.unwrap_or(IpAddr::from([0, 0, 0, 0]));
    client_address(peer, request.headers_named("X-Forwarded-For"), &inbox.trusted_proxies)
}

/// The id of the known device this request comes from, if any.
fn known_device(request: &Request, stored: Option<&str>) -> Option<String> {
    let value = cookie_value(request.header("Cookie")?, device::COOKIE)?;
    device::recognise(value, stored?)
}

/// `429`: the sign-in form again, saying how long to wait.
fn throttled(inbox: &Inbox, next: &str, refused: Refused) -> Response {
    let secs = refused.retry_after_secs();
    let key = match refused {
        Refused::TooManyTries(_) => "login_too_many_tries",
        Refused::Busy(_) => "login_busy",
    };
    let why = words().fill(key, &[("seconds", &secs.to_string())]);
    html(429, pages::login(words(), &inbox.shop_name, next, Some(&why))).header("Retry-After", secs.to_string())
}

/// A session's full lifetime from `now`.
fn expiry(now: Timestamp) -> Timestamp {
    now.checked_add(SESSION_LIFETIME).unwrap_or(Timestamp::MAX)
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
