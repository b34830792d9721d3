//! What a channel's webhook area is to the front hall: a [`WebhookArea`]
//! (its verification, parsing and route table, in its own folder under
//! `http/`) built from what any area may need ([`AreaDeps`]). Each channel
//! that takes webhooks has one line in [`super::routes::WEBHOOK_AREAS`]; the
//! front hall asks each area in turn, and the server takes each path's body
//! limit from [`WebhookArea::large_bodies`]. So a channel's webhook is its
//! folder and that one line; nothing else in `http/` or the server names it.
//! A leaf of `http/`: the areas implement it, the front hall lists them.

use super::{Request, Response};
use crate::config::Config;
use crate::conversation::LiveBot;
use crate::outbox::sender::Wake;
use crate::writer::Writer;

/// A channel's webhook paths: it verifies and parses what arrives there.
pub trait WebhookArea: Send + Sync {
    /// Answers a request to one of its paths; `None` for any other path.
    fn handle(&self, request: &Request) -> Option<Response>;

    /// Its paths whose bodies may be larger than the server's default limit,
    /// each with its own (still bounded, read before the signature check).
    fn large_bodies(&self) -> Vec<(String, usize)> {
        Vec::new()
    }
}

/// What any channel's webhook area may need.
pub struct AreaDeps<'a> {
    /// The configuration (its paths, secrets and choices).
    pub config: &'a Config,
    /// The single writer.
    pub writer: &'a Writer,
    /// Wakes the outbox sender.
    pub outbox: &'a Wake,
    /// The bot that answers customers.
    pub bot: &'a LiveBot,
}

/// Builds one channel's area.
pub type BuildArea = fn(&AreaDeps<'_>) -> Box<dyn WebhookArea>;
