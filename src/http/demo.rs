//! `GET /demo`: the browser chat simulator (`shopbot demo` only). The page posts
//! real webhook forms to the inbound path and shows the TwiML replies.

use super::Response;

const PAGE: &str = include_str!("demo_page.html");

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
