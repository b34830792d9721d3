//! The channels: everything one WhatsApp provider's way of speaking needs, at
//! the edge, so nothing below them knows which provider a message came from.
//!
//! Each channel turns its webhooks into the neutral [`Inbound`](crate::message::Inbound)
//! and [`StatusEvent`](crate::message::StatusEvent), fits the neutral
//! [`Reply`](crate::message::Reply) to its own limits, and sends outbound
//! [`Content`](crate::message::Content), classifying its own error codes into a
//! neutral [`SendError`](crate::message::SendError). [`demo`] is the demo's
//! own channel, a provider on this computer.

pub mod client;
pub mod demo;
pub mod meta;
pub mod twilio;

use std::collections::BTreeMap;
use std::sync::Arc;

use hmac::{digest::KeyInit, Mac};

use crate::config::Config;
use crate::message::{Channel, Refused, SendError};
use crate::outbox::sender::{Rates, Transport};
use crate::store::ReadPool;
use crate::writer::Writer;

/// An HMAC (`M`, e.g. `Hmac<Sha256>`) of `message` keyed with `key`: both
/// providers sign webhooks this way.
pub(crate) fn keyed<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> M {
    #[allow(clippy::expect_used, reason = "HMAC takes a key of any length, so this cannot fail")]
    let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message);
    mac
}

/// A template registered with another channel cannot go out on `channel`: a
/// final refusal, decided before any call (HTTP status 0: nothing was sent).
pub(crate) fn foreign_template(channel: Channel, template: &crate::message::Template) -> SendError {
    SendError::Rejected {
        channel,
        http_status: 0,
        code: Some("wrong_channel".into()),
        message: format!(
            "{:?} is a template of {}; {channel} sends only its own templates",
            template.name, template.channel
        ),
        verdict: Refused::Final,
    }
}

/// Fetches inbound media for the owner's inbox, through the channel it came on.
pub struct MediaFetcher {
    twilio: Option<twilio::rest::RestClient>,
    meta: Option<meta::graph::GraphClient>,
}

impl MediaFetcher {
    /// The fetchers `config` can make.
    pub fn from_config(config: &Config) -> MediaFetcher {
        let meta = config.meta.as_ref().and_then(|m| {
            m.access_token.as_ref().map(|token| {
                meta::graph::GraphClient::new(&m.graph_base_url, &m.api_version, &m.phone_number_id, token.clone())
            })
        });
        MediaFetcher {
            twilio: twilio::rest::RestClient::from_config(config).ok(),
            meta,
        }
    }

    /// Downloads `media` of a message that came through `channel`.
    pub fn fetch(
        &self,
        channel: Channel,
        media: &crate::message::Media,
    ) -> Result<client::Fetched, client::MediaError> {
        match (channel, &media.id) {
            (Channel::Meta, Some(id)) => match &self.meta {
                Some(graph) => graph.fetch_media(id),
                None => Err(client::MediaError::NotConfigured(Channel::Meta)),
            },
            // Twilio named the type in the (signed) webhook; trust that first.
            (Channel::Twilio, _) => match &self.twilio {
                Some(rest) => rest.fetch_media(&media.url).map(|mut fetched| {
                    if !media.content_type.is_empty() {
                        fetched.content_type.clone_from(&media.content_type);
                    }
                    fetched
                }),
                None => Err(client::MediaError::NotConfigured(Channel::Twilio)),
            },
            (other, _) => Err(client::MediaError::NotAllowed(format!(
                "no media is fetched on {other}"
            ))),
        }
    }
}

/// With `interactive = "content"` and a store, the menus' Content API templates.
fn content_templates(
    config: &Config,
    store: Option<(&Arc<ReadPool>, &Writer)>,
) -> Option<twilio::content::ContentTemplates> {
    let (reader, writer) = store?;
    if config.twilio.interactive != crate::config::Interactive::Content {
        return None;
    }
    let client = twilio::content::ContentClient::from_config(config).ok()?;
    Some(twilio::content::ContentTemplates::new(
        client,
        reader.clone(),
        writer.clone(),
    ))
}

/// The channels a config can send on, each with its transport and rates.
pub type Transports = BTreeMap<Channel, (Box<dyn Transport>, Rates)>;

/// How fast `[outbox]` lets each channel send.
pub fn rates(config: &Config) -> Rates {
    Rates {
        text_per_second: config.outbox.messages_per_second,
        media_per_second: config.outbox.media_messages_per_second,
    }
}

/// The transports `config` sets up, and for each configured channel that
/// cannot send, what is missing. With `store` (a running server's), Twilio
/// keeps the Content API templates of `interactive = "content"` there.
pub fn transports(config: &Config, store: Option<(&Arc<ReadPool>, &Writer)>) -> (Transports, Vec<(Channel, String)>) {
    let rates = rates(config);
    let mut ready: Transports = BTreeMap::new();
    let mut missing = Vec::new();
    match twilio::rest::TwilioTransport::from_config(config) {
        Ok(transport) => {
            let transport = transport.with_templates(content_templates(config, store));
            ready.insert(Channel::Twilio, (Box::new(transport), rates));
        }
        Err(why) => missing.push((Channel::Twilio, why)),
    }
    if let Some(meta) = &config.meta {
        match &meta.access_token {
            Some(token) => {
                let client = meta::graph::GraphClient::new(
                    &meta.graph_base_url,
                    &meta.api_version,
                    &meta.phone_number_id,
                    token.clone(),
                );
                ready.insert(Channel::Meta, (Box::new(client), rates));
            }
            None => missing.push((
                Channel::Meta,
                format!(
                    "[meta] access_token is not set (nor {})",
                    crate::config::ENV_META_ACCESS_TOKEN
                ),
            )),
        }
    }
    (ready, missing)
}
