//! The channels: everything one WhatsApp provider's way of speaking needs, at
//! the edge, so nothing below them knows which provider a message came from.
//!
//! Each channel turns its webhooks into the neutral [`Inbound`](crate::message::Inbound)
//! and [`StatusEvent`](crate::message::StatusEvent), fits the neutral
//! [`Reply`](crate::message::Reply) to its own limits, and sends outbound
//! [`Content`](crate::message::Content), classifying its own error codes into a
//! neutral [`SendError`](crate::message::SendError). [`demo`] is the demo's
//! own channel, a provider on this computer.
//!
//! Each channel module registers how its sender ([`Transport`]) and its media
//! fetcher ([`MediaSource`]) are made from the config, one line in
//! [`REGISTERED`]; its facts (limits, addressing) are its entry in
//! [`crate::channels`].

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

/// What a channel module registers: how its sender and its media fetcher are
/// set up from the config. The server's outbox and the inbox take every
/// channel from [`REGISTERED`], so a new channel is one line there.
pub struct Registration {
    /// The channel.
    pub channel: Channel,
    /// Its sender; `Ok(None)` when the config does not use the channel, an
    /// error saying what is missing when it is used but cannot send.
    pub transport: fn(&Config, Option<Store<'_>>) -> MadeTransport,
    /// Its media fetcher, when the config lets it fetch.
    pub media: fn(&Config) -> Option<Box<dyn MediaSource>>,
}

/// A channel's sender, none (the config does not use the channel), or what
/// the config lacks for one.
pub type MadeTransport = Result<Option<Box<dyn Transport>>, String>;

/// The running server's store, for a channel that keeps something there.
pub type Store<'a> = (&'a Arc<ReadPool>, &'a Writer);

/// The channels that send and fetch media: one line each.
pub const REGISTERED: &[Registration] = &[twilio::REGISTRATION, meta::REGISTRATION];

/// Where a channel fetches an inbound message's media.
pub trait MediaSource: Send + Sync {
    /// Downloads `media` (as the channel's webhook described it).
    fn fetch(&self, media: &crate::message::Media) -> Result<client::Fetched, client::MediaError>;
}

/// Fetches inbound media for the owner's inbox, through the channel it came on.
pub struct MediaFetcher {
    sources: BTreeMap<Channel, Box<dyn MediaSource>>,
}

impl MediaFetcher {
    /// The fetchers `config` can make.
    pub fn from_config(config: &Config) -> MediaFetcher {
        MediaFetcher {
            sources: REGISTERED
                .iter()
                .filter_map(|r| Some((r.channel, (r.media)(config)?)))
                .collect(),
        }
    }

    /// Downloads `media` of a message that came through `channel`.
    pub fn fetch(
        &self,
        channel: Channel,
        media: &crate::message::Media,
    ) -> Result<client::Fetched, client::MediaError> {
        match self.sources.get(&channel) {
            Some(source) => source.fetch(media),
            None if channel.is_provider() => Err(client::MediaError::NotConfigured(channel)),
            None => Err(client::MediaError::NotAllowed(format!(
                "no media is fetched on {channel}"
            ))),
        }
    }
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
pub fn transports(config: &Config, store: Option<Store<'_>>) -> (Transports, Vec<(Channel, String)>) {
    let rates = rates(config);
    let mut ready: Transports = BTreeMap::new();
    let mut missing = Vec::new();
    for registered in REGISTERED {
        match (registered.transport)(config, store) {
            Ok(Some(transport)) => {
                ready.insert(registered.channel, (transport, rates));
            }
            Ok(None) => {}
            Err(why) => missing.push((registered.channel, why)),
        }
    }
    (ready, missing)
}
