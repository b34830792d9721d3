//! The front hall: every area mounted in one place, in order (the channels'
//! webhooks, one line each in [`WEBHOOK_AREAS`], then `/api/`, `/admin/`, the
//! demo), then what every server answers (`/healthz`, the icon). Each area
//! has its own route table and context; `App` only holds them.

use std::sync::OnceLock;
use std::time::Duration;

use super::demo::DemoPage;
use super::router::{dispatch, Handler, Routes};
use super::webhooks::{AreaDeps, BuildArea, WebhookArea};
use super::{Method, Request, Response};
use crate::writer::Writer;

/// Every channel that takes webhooks, one line each, asked in this order.
pub const WEBHOOK_AREAS: &[BuildArea] = &[super::twilio::area, super::meta::area];

/// Every registered webhook area, built.
pub fn webhook_areas(deps: &AreaDeps<'_>) -> Vec<Box<dyn WebhookArea>> {
    WEBHOOK_AREAS.iter().map(|area| area(deps)).collect()
}

/// The areas, and the writer the health check pings.
pub struct App {
    /// The single writer (for the health check).
    pub writer: Writer,
    /// The channels' webhooks, asked in order.
    pub webhooks: Vec<Box<dyn WebhookArea>>,
    /// The browser chat simulator, in demo mode only.
    pub demo: Option<DemoPage>,
    /// The owner's inbox (`/admin/`).
    pub inbox: super::inbox::Inbox,
    /// The admin API (`/api/`).
    pub api: super::api::Api,
}

impl App {
    /// Answers one request.
    pub fn handle(&self, request: &Request) -> Response {
        let path = request.path();
        if let Some(response) = self.webhooks.iter().find_map(|area| area.handle(request)) {
            return response;
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
