//! The front hall: every area mounted in one place, in order (Twilio's
//! webhooks, Meta's, `/api/`, `/admin/`, the demo), then what every server
//! answers (`/healthz`, the icon). Each area has its own route table and
//! context; `App` only holds them.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::demo::DemoPage;
use super::router::{dispatch, Handler, Routes};
use super::{meta, Method, Request, Response};
use crate::config::Meta;
use crate::conversation::Bot;
use crate::outbox::sender::Wake;
use crate::writer::Writer;

/// The areas, and what the Meta webhook and health check still take from here.
pub struct App {
    /// The single writer (conversations, status callbacks, database health).
    pub writer: Writer,
    /// Wakes the outbox sender after something was queued.
    pub outbox: Wake,
    /// The bot that answers customers.
    pub bot: Arc<Bot>,
    /// `[webhooks] meta_path`.
    pub meta_path: String,
    /// `[meta]`; Meta's webhook answers `404` without it.
    pub meta: Option<Meta>,
    /// The browser chat simulator, in demo mode only.
    pub demo: Option<DemoPage>,
    /// Twilio's webhooks.
    pub twilio: super::twilio::Twilio,
    /// The owner's inbox (`/admin/`).
    pub inbox: super::inbox::Inbox,
    /// The admin API (`/api/`).
    pub api: super::api::Api,
}

impl App {
    /// Answers one request.
    pub fn handle(&self, request: &Request) -> Response {
        let path = request.path();
        if let Some(response) = self.twilio.handle(request) {
            return response;
        }
        if path == self.meta_path {
            return self.meta(request);
        }
        if path.starts_with("/api/") {
            return super::api::handle(&self.api, request);
        }
        if path == "/admin" || path.starts_with("/admin/") {
            return super::inbox::handle(&self.inbox, request);
        }
        if let Some(response) = self.demo.as_ref().and_then(|demo| demo.handle(request)) {
            return response;
        }
        dispatch(site_routes(), self, request).unwrap_or_else(not_found)
    }

    /// Meta's webhook: the verification `GET` and the signed `POST`.
    fn meta(&self, request: &Request) -> Response {
        let Some(config) = &self.meta else {
            log::warn!(target: "meta", "a request to {} but there is no [meta] section in the config", request.path());
            return not_found();
        };
        match request.method {
            Method::Get => meta::verify(config, request),
            Method::Post => meta::receive(self, config, request),
            _ => Response::text(405, &format!("use GET or POST for {}", request.path())).header("Allow", "GET, POST"),
        }
    }

    fn health(&self) -> Response {
        match self.writer.ping(Duration::from_secs(2)) {
            Ok(()) => Response::json(
                200,
                &serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION"), "database": "ok"}),
            ),
            Err(e) => {
                log::error!(target: "http", "health check: {e}");
                Response::json(
                    503,
                    &serde_json::json!({"status": "unavailable", "version": env!("CARGO_PKG_VERSION"), "database": e.to_string()}),
                )
            }
        }
    }
}

/// What is served whatever the areas: health and the icon.
fn site_routes() -> &'static Routes<Handler<App>> {
    static ROUTES: OnceLock<Routes<Handler<App>>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        Routes::<Handler<App>>::default()
            .add(Method::Get, "/healthz", |app, _| app.health())
            .add(Method::Get, "/favicon.ico", |_, _| favicon())
    })
}

/// The icon browsers ask for (an SVG; `GET /favicon.ico`).
fn favicon() -> Response {
    Response::with_body(200, "image/svg+xml", include_str!("assets/favicon.svg"))
        .header("Cache-Control", "public, max-age=86400")
}

fn not_found() -> Response {
    Response::text(404, "not found")
}
