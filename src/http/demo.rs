//! `GET /demo`: the browser chat simulator (`shopbot demo` only). The page posts
//! real webhook forms to the inbound path and shows the TwiML replies; it can
//! attach a sample photo, served by the demo itself at [`SAMPLE_PHOTO_PATH`],
//! so the photo path can be tried offline. `/` leads to it.
//!
//! A reply that shows a menu gets its options as buttons under it, as
//! WhatsApp shows a list or quick replies: the page asks
//! `GET /demo/replies/{MessageSid}` for the stored reply's menu, and a tap
//! posts what Twilio posts for one (`ButtonPayload`, `ButtonText`).

use std::sync::{Arc, OnceLock};

use super::router::{dispatch, Call, Handler, Routes};
use super::{Method, Request, Response};
use crate::message::Channel;
use crate::store::ReadPool;

const PAGE: &str = include_str!("demo_page.html");

/// Where the demo serves its sample defect photo.
pub const SAMPLE_PHOTO_PATH: &str = "/demo/sample-photo.png";

/// The sample photo (made by `scripts/make_sample_photo.py`).
pub const SAMPLE_PHOTO: &[u8] = include_bytes!("assets/sample-photo.png");

/// The sample photo as a response.
pub fn sample_photo() -> Response {
    Response::with_body(200, "image/png", SAMPLE_PHOTO).header("Cache-Control", "public, max-age=86400")
}

/// The page, with the shop's name and number filled in, and the replies it
/// shows menus of.
pub struct DemoPage {
    html: String,
    reader: Arc<ReadPool>,
}

impl DemoPage {
    /// Fills the page's placeholders.
    pub fn new(shop_name: &str, bot_number: &str, reader: Arc<ReadPool>) -> DemoPage {
        let escaped = quick_xml::escape::escape(shop_name).to_string();
        let html = PAGE
            .replace("__SHOP_NAME__", &escaped)
            .replace("__WHATSAPP_TO__", &serde_json::Value::from(bot_number).to_string());
        DemoPage { html, reader }
    }

    /// `GET /demo/replies/{sid}`: the menu of the reply to that message, for
    /// its buttons (`{"choice": null}` when it shows none).
    fn reply_menu(&self, call: &Call<'_>) -> Response {
        let sid = call.params.get("sid");
        match self.reader.read(|db| db.stored_reply(Channel::Twilio, sid)) {
            Ok(Some(reply)) => Response::json(200, &serde_json::json!({ "choice": reply.choice() })),
            Ok(None) => Response::json(404, &serde_json::json!({ "error": format!("no reply to {sid}") })),
            Err(e) => {
                log::error!(target: "http", "demo reply {sid}: {e}");
                Response::json(503, &serde_json::json!({ "error": "the database did not answer" }))
            }
        }
    }

    /// The page as a response.
    pub fn response(&self) -> Response {
        Response::with_body(200, "text/html; charset=utf-8", self.html.clone())
    }

    /// Answers the demo's paths; `None` for any other.
    pub fn handle(&self, request: &Request) -> Option<Response> {
        dispatch(routes(), self, request)
    }
}

/// The demo's routes.
fn routes() -> &'static Routes<Handler<DemoPage>> {
    static ROUTES: OnceLock<Routes<Handler<DemoPage>>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        Routes::<Handler<DemoPage>>::default()
            .add(Method::Get, "/", |_, _| Response::see_other("/demo"))
            .add(Method::Get, "/demo", |page, _| page.response())
            .add(Method::Get, SAMPLE_PHOTO_PATH, |_, _| sample_photo())
            .add(Method::Get, "/demo/replies/{sid}", DemoPage::reply_menu)
    })
}
