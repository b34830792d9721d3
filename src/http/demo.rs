//! `GET /demo`: the browser chat simulator (`shopbot demo` only). The page posts
//! real webhook forms to the inbound path and shows the TwiML replies; it can
//! attach a sample photo, served by the demo itself at [`SAMPLE_PHOTO_PATH`],
//! so the photo path can be tried offline.

use super::Response;

const PAGE: &str = include_str!("demo_page.html");

/// Where the demo serves its sample defect photo.
pub const SAMPLE_PHOTO_PATH: &str = "/demo/sample-photo.png";

/// The sample photo (made by `scripts/make_sample_photo.py`).
pub const SAMPLE_PHOTO: &[u8] = include_bytes!("assets/sample-photo.png");

/// The sample photo as a response.
pub fn sample_photo() -> Response {
    Response::with_body(200, "image/png", SAMPLE_PHOTO).header("Cache-Control", "public, max-age=86400")
}

/// The page, with the shop's name and number filled in.
#[derive(Debug, Clone)]
pub struct DemoPage {
    html: String,
}

impl DemoPage {
    /// Fills the page's placeholders.
    pub fn new(shop_name: &str, bot_number: &str) -> DemoPage {
        let escaped = quick_xml::escape::escape(shop_name).to_string();
        let html = PAGE
            .replace("__SHOP_NAME__", &escaped)
            .replace("__WHATSAPP_TO__", &serde_json::Value::from(bot_number).to_string());
        DemoPage { html }
    }

    /// The page as a response.
    pub fn response(&self) -> Response {
        Response::with_body(200, "text/html; charset=utf-8", self.html.clone())
    }
}
