//! `GET /demo`: the browser chat simulator (`shopbot demo` only), two phones
//! side by side: a customer's, and the owner's (the demo's `[staff]`
//! number). Each posts real Twilio webhook forms to the inbound path; what
//! each phone shows comes from the store ([`transcript`]), so a reload keeps
//! the chat. The shop's messages reach the phones through the demo channel
//! ([`DemoChannel`]): fetching a message delivers it, showing it reads it,
//! both reported as Twilio status callbacks. It can attach a sample photo,
//! served at [`SAMPLE_PHOTO_PATH`], so the photo path can be tried offline.
//! `/` leads to it.
//!
//! - `GET /demo/chat/{number}?after=ID`: that phone's chat after message
//!   `ID` (`{"through", "entries", "fail_next"}`); menus come with their
//!   options, shown as buttons.
//! - `POST /demo/chat/{number}/read` (`up_to=ID`): the phone showed its chat
//!   up to that message (`{"read": N}`, how many it had not read).
//! - `POST /demo/fail-next` (`on=1` or `on=0`): the demo channel's failure switch.

mod transcript;

use std::sync::{Arc, OnceLock};

use super::router::{dispatch, Call, Handler, Routes};
use super::{Method, Request, Response};
use crate::channel::demo::DemoChannel;
use crate::config::{Config, DEMO_OWNER_PHONE};
use crate::message::{Channel, ContactRef};
use crate::phone::PhoneNumber;
use crate::store::ReadPool;
use crate::urlencoded;

const PAGE: &str = include_str!("demo_page.html");

/// Where the demo serves its sample defect photo.
pub const SAMPLE_PHOTO_PATH: &str = "/demo/sample-photo.png";

/// The sample photo (made by `scripts/make_sample_photo.py`).
pub const SAMPLE_PHOTO: &[u8] = include_bytes!("assets/sample-photo.png");

/// The sample photo as a response.
pub fn sample_photo() -> Response {
    Response::with_body(200, "image/png", SAMPLE_PHOTO).header("Cache-Control", "public, max-age=86400")
}

/// The page, with the shop's name and numbers filled in, and the phones' chats.
pub struct DemoPage {
    html: String,
    reader: Arc<ReadPool>,
    channel: DemoChannel,
}

impl DemoPage {
    /// The page for `config`'s shop; the owner's phone is its first `[staff]` number.
    pub fn new(config: &Config, reader: Arc<ReadPool>, channel: DemoChannel) -> DemoPage {
        let owner = config
            .staff
            .as_ref()
            .and_then(|staff| staff.numbers.first())
            .map_or_else(|| DEMO_OWNER_PHONE.to_string(), ToString::to_string);
        let shop = config.sender_address(Channel::Twilio);
        let json = |text: &str| serde_json::Value::from(text).to_string();
        let html = PAGE
            .replace("__SHOP_NAME__", &quick_xml::escape::escape(config.shop.name.as_str()))
            .replace("__OWNER_SHOWN__", &quick_xml::escape::escape(owner.as_str()))
            .replace("__WHATSAPP_TO__", &json(&shop))
            .replace("__OWNER_NUMBER__", &json(&owner));
        DemoPage { html, reader, channel }
    }

    /// The page as a response.
    pub fn response(&self) -> Response {
        Response::with_body(200, "text/html; charset=utf-8", self.html.clone()).header("Cache-Control", "no-store")
    }

    /// Answers the demo's paths; `None` for any other.
    pub fn handle(&self, request: &Request) -> Option<Response> {
        dispatch(routes(), self, request)
    }

    /// `GET /demo/chat/{number}?after=ID`: the chat after message `ID`; what
    /// the phone gets now is delivered.
    fn chat(&self, call: &Call<'_>) -> Response {
        let who = match phone_of(call) {
            Ok(who) => who,
            Err(response) => return response,
        };
        let after = query(call.request, "after").and_then(|a| a.parse().ok()).unwrap_or(0);
        let transcript = match self.reader.read(|db| transcript::since(db, &who, after)) {
            Ok(transcript) => transcript,
            Err(e) => return unavailable(&who, &e),
        };
        for arrived in &transcript.arrived {
            if let Err(e) = self.channel.delivered(&arrived.key, &arrived.to) {
                log::warn!(target: "http", "demo: {} delivered: {e}", arrived.key);
            }
        }
        let entries: Vec<serde_json::Value> = transcript.entries.iter().map(transcript::Entry::to_json).collect();
        Response::json(
            200,
            &serde_json::json!({
                "through": transcript.through,
                "entries": entries,
                "fail_next": self.channel.fail_next(),
            }),
        )
        .header("Cache-Control", "no-store")
    }

    /// `POST /demo/chat/{number}/read`: the phone showed its chat up to `up_to`.
    fn read(&self, call: &Call<'_>) -> Response {
        let who = match phone_of(call) {
            Ok(who) => who,
            Err(response) => return response,
        };
        let Some(up_to) = form(call.request, "up_to").and_then(|n| n.parse().ok()) else {
            return bad_request("up_to: the id of the newest message shown");
        };
        let unread = match self.reader.read(|db| transcript::unread(db, &who, up_to)) {
            Ok(unread) => unread,
            Err(e) => return unavailable(&who, &e),
        };
        for message in &unread {
            if let Err(e) = self.channel.read(&message.key, &message.to) {
                log::warn!(target: "http", "demo: {} read: {e}", message.key);
            }
        }
        Response::json(200, &serde_json::json!({ "read": unread.len() }))
    }

    /// `POST /demo/fail-next`: the failure switch on (`on=1`) or off.
    fn fail_next(&self, call: &Call<'_>) -> Response {
        let on = form(call.request, "on").is_some_and(|on| on == "1");
        self.channel.set_fail_next(on);
        log::info!(target: "http", "demo: the next message {}", if on { "fails" } else { "goes as usual" });
        Response::json(200, &serde_json::json!({ "fail_next": on }))
    }
}

/// The phone `{number}` names.
fn phone_of(call: &Call<'_>) -> Result<ContactRef, Response> {
    PhoneNumber::parse(call.params.get("number"))
        .map(ContactRef::phone)
        .map_err(|e| bad_request(&format!("{e}")))
}

/// The value of `name` in the query string.
fn query(request: &Request, name: &str) -> Option<String> {
    let raw = request.target.split_once('?').map_or("", |(_, q)| q);
    value(raw.as_bytes(), name)
}

/// The value of `name` in the form body.
fn form(request: &Request, name: &str) -> Option<String> {
    value(&request.body, name)
}

fn value(raw: &[u8], name: &str) -> Option<String> {
    let pairs = urlencoded::parse(raw).ok()?;
    urlencoded::param(&pairs, name).map(str::to_string)
}

fn bad_request(why: &str) -> Response {
    Response::json(400, &serde_json::json!({ "error": why }))
}

fn unavailable(who: &ContactRef, e: &crate::store::StoreError) -> Response {
    log::error!(target: "http", "demo chat of {who}: {e}");
    Response::json(503, &serde_json::json!({ "error": "the database did not answer" }))
}

/// The demo's routes.
fn routes() -> &'static Routes<Handler<DemoPage>> {
    static ROUTES: OnceLock<Routes<Handler<DemoPage>>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        Routes::<Handler<DemoPage>>::default()
            .add(Method::Get, "/", |_, _| Response::see_other("/demo"))
            .add(Method::Get, "/demo", |page, _| page.response())
            .add(Method::Get, SAMPLE_PHOTO_PATH, |_, _| sample_photo())
            .add(Method::Get, "/demo/chat/{number}", DemoPage::chat)
            .add(Method::Post, "/demo/chat/{number}/read", DemoPage::read)
            .add(Method::Post, "/demo/fail-next", DemoPage::fail_next)
    })
}
