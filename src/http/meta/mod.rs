//! Meta's webhook area: the verification `GET` and the signed `POST` on
//! `[webhooks] meta_path` ([`webhook`]). The path is configured, so the table
//! is made at start. Without a `[meta]` section both answer `404` (and a
//! warning says why).

pub mod webhook;

use super::router::{dispatch, Call, Handler, Routes};
use super::webhooks::{AreaDeps, WebhookArea};
use super::{Method, Request, Response};
use crate::config::Meta;
use crate::conversation::LiveBot;
use crate::outbox::sender::Wake;
use crate::writer::Writer;

pub use webhook::MAX_BODY_BYTES;

#[cfg(test)]
mod tests;

/// What Meta's webhook handlers share.
pub struct MetaWebhook {
    /// The single writer.
    pub writer: Writer,
    /// Wakes the outbox sender (the replies go out through the Graph API).
    pub outbox: Wake,
    /// The bot that answers customers.
    pub bot: LiveBot,
    /// `[meta]`: the app secret and the verify token.
    pub config: Option<Meta>,
    /// `[webhooks] meta_path`.
    path: String,
    routes: Routes<Handler<MetaWebhook>>,
}

impl MetaWebhook {
    /// The area, its routes on the configured path.
    pub fn new(writer: Writer, outbox: Wake, bot: LiveBot, config: Option<Meta>, path: &str) -> MetaWebhook {
        let routes = Routes::<Handler<MetaWebhook>>::default()
            .add_path(Method::Get, path, |area, call| area.configured(call, webhook::verify))
            .add_path(Method::Post, path, |area, call| area.configured(call, webhook::receive));
        MetaWebhook {
            writer,
            outbox,
            bot,
            config,
            path: path.to_string(),
            routes,
        }
    }

    /// Answers a request to its path; `None` for any other path.
    pub fn handle(&self, request: &Request) -> Option<Response> {
        dispatch(&self.routes, self, request)
    }

    /// Runs `handler` with the `[meta]` section, or answers `404` without one.
    fn configured(&self, call: &Call<'_>, handler: fn(&MetaWebhook, &Meta, &Request) -> Response) -> Response {
        match &self.config {
            Some(meta) => handler(self, meta, call.request),
            None => {
                log::warn!(target: "meta", "a request to {} but there is no [meta] section in the config", call.request.path());
                Response::text(404, "not found")
            }
        }
    }
}

/// Meta's area as [`super::routes::WEBHOOK_AREAS`] builds it (answering `404`
/// without a `[meta]` section).
pub fn area(deps: &AreaDeps<'_>) -> Box<dyn WebhookArea> {
    Box::new(MetaWebhook::new(
        deps.writer.clone(),
        deps.outbox.clone(),
        deps.bot.clone(),
        deps.config.meta.clone(),
        &deps.config.webhooks.meta_path,
    ))
}

impl WebhookArea for MetaWebhook {
    fn handle(&self, request: &Request) -> Option<Response> {
        MetaWebhook::handle(self, request)
    }

    /// Meta sends batches of up to 1,000 updates: up to [`MAX_BODY_BYTES`].
    fn large_bodies(&self) -> Vec<(String, usize)> {
        vec![(self.path.clone(), MAX_BODY_BYTES)]
    }
}
