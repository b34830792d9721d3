//! Meta's WhatsApp Cloud API, directly: the `X-Hub-Signature-256` check on the
//! raw webhook body ([`signature`]), the JSON webhook turned into neutral inbound
//! messages and status events ([`webhook`]), and sends through the Graph API
//! ([`graph`]).

pub mod graph;
pub mod interactive;
pub mod signature;
pub mod surrogates;
pub mod webhook;

use super::{client, MadeTransport, MediaSource, Registration, Store};
use crate::config::{Config, ENV_META_ACCESS_TOKEN};
use crate::message::{Channel, Media};

/// Meta in the channel registry.
pub const REGISTRATION: Registration = Registration {
    channel: Channel::Meta,
    transport,
    media,
};

/// The Graph API client `config` describes: with `[meta]` and its access token.
fn graph_client(config: &Config) -> Option<Result<graph::GraphClient, String>> {
    let meta = config.meta.as_ref()?;
    Some(match &meta.access_token {
        Some(token) => Ok(graph::GraphClient::new(
            &meta.graph_base_url,
            &meta.api_version,
            &meta.phone_number_id,
            token.clone(),
        )),
        None => Err(format!("[meta] access_token is not set (nor {ENV_META_ACCESS_TOKEN})")),
    })
}

/// Sends through the Graph API, when `[meta]` is configured.
fn transport(config: &Config, _store: Option<Store<'_>>) -> MadeTransport {
    match graph_client(config) {
        Some(client) => Ok(Some(Box::new(client?))),
        None => Ok(None),
    }
}

/// Media by id through the Graph API.
fn media(config: &Config) -> Option<Box<dyn MediaSource>> {
    Some(Box::new(graph_client(config)?.ok()?))
}

impl MediaSource for graph::GraphClient {
    fn fetch(&self, media: &Media) -> Result<client::Fetched, client::MediaError> {
        match &media.id {
            Some(id) => self.fetch_media(id),
            None => Err(client::MediaError::NotAllowed("no media id to fetch on meta".into())),
        }
    }
}
