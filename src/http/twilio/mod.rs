//! Twilio's webhooks: inbound messages on `[webhooks] inbound_path` and
//! status callbacks on `status_path`, both signed ([`signed`]). The paths
//! are configured, so the table is made at start.

pub mod inbound;
pub mod signed;
pub mod status;

use super::router::{dispatch, Handler, Routes};
use super::webhooks::{AreaDeps, WebhookArea};
use super::{Method, Request, Response};
use crate::channel::twilio::verifier::WebhookVerifier;
use crate::conversation::LiveBot;
use crate::message::{Channel, ChoiceLimits};
use crate::outbox::sender::Wake;
use crate::writer::Writer;

/// What Twilio's webhook handlers share.
pub struct Twilio {
    /// The single writer.
    pub writer: Writer,
    /// Wakes the outbox sender (a menu or an alert queued by a message).
    pub outbox: Wake,
    /// The bot that answers customers.
    pub bot: LiveBot,
    /// The signature checks.
    pub verifier: WebhookVerifier,
    /// What menus show to tap by REST (`[twilio] interactive = "content"`);
    /// `None`: every reply is inline TwiML.
    pub choices: Option<ChoiceLimits>,
    routes: Routes<Handler<Twilio>>,
}

impl Twilio {
    /// The area, its routes on the configured paths.
    pub fn new(
        writer: Writer,
        outbox: Wake,
        bot: LiveBot,
        verifier: WebhookVerifier,
        choices: Option<ChoiceLimits>,
        (inbound_path, status_path): (&str, &str),
    ) -> Twilio {
        let routes = Routes::<Handler<Twilio>>::default()
            .add_path(Method::Post, inbound_path, inbound::handle)
            .add_path(Method::Post, status_path, status::handle);
        Twilio {
            writer,
            outbox,
            bot,
            verifier,
            choices,
            routes,
        }
    }

    /// Answers a request to one of its paths; `None` for any other path.
    pub fn handle(&self, request: &Request) -> Option<Response> {
        dispatch(&self.routes, self, request)
    }
}

/// Twilio's area as [`super::routes::WEBHOOK_AREAS`] builds it: the configured
/// paths, the signature checks, and menus to tap when `interactive = "content"`.
pub fn area(deps: &AreaDeps<'_>) -> Box<dyn WebhookArea> {
    let config = deps.config;
    Box::new(Twilio::new(
        deps.writer.clone(),
        deps.outbox.clone(),
        deps.bot.clone(),
        WebhookVerifier::from_config(config),
        config.choice_limits(Channel::Twilio),
        (&config.webhooks.inbound_path, &config.webhooks.status_path),
    ))
}

impl WebhookArea for Twilio {
    fn handle(&self, request: &Request) -> Option<Response> {
        Twilio::handle(self, request)
    }
}
