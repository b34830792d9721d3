//! Twilio's edge: webhook signatures, inbound webhook and status callback forms
//! into the neutral types, TwiML for replies, and the REST client for messages
//! the shop starts.

pub mod content;
pub mod rest;
pub mod signature;
pub mod status;
pub mod twiml;
pub mod verifier;
pub mod webhook;

use super::{client, MadeTransport, MediaSource, Registration, Store};
use crate::config::Config;
use crate::message::{Channel, Media};

/// Twilio in the channel registry.
pub const REGISTRATION: Registration = Registration {
    channel: Channel::Twilio,
    transport,
    media,
};

/// Sends through the REST API (menus as Content API templates with
/// `interactive = "content"` and a store); always used, so a config without
/// a sender says what is missing.
fn transport(config: &Config, store: Option<Store<'_>>) -> MadeTransport {
    let transport = rest::TwilioTransport::from_config(config)?;
    Ok(Some(Box::new(
        transport.with_templates(content_templates(config, store)),
    )))
}

/// Media at the REST API's URLs, with the account's credentials.
fn media(config: &Config) -> Option<Box<dyn MediaSource>> {
    Some(Box::new(rest::RestClient::from_config(config).ok()?))
}

impl MediaSource for rest::RestClient {
    fn fetch(&self, media: &Media) -> Result<client::Fetched, client::MediaError> {
        // Twilio named the type in the (signed) webhook; trust that first.
        self.fetch_media(&media.url).map(|mut fetched| {
            if !media.content_type.is_empty() {
                fetched.content_type.clone_from(&media.content_type);
            }
            fetched
        })
    }
}

/// With `interactive = "content"` and a store, the menus' Content API templates.
fn content_templates(config: &Config, store: Option<Store<'_>>) -> Option<content::ContentTemplates> {
    let (reader, writer) = store?;
    if config.twilio.interactive != crate::config::Interactive::Content {
        return None;
    }
    let client = content::ContentClient::from_config(config).ok()?;
    Some(content::ContentTemplates::new(client, reader.clone(), writer.clone()))
}

/// Twilio's error code for a free-form message outside the 24-hour window.
pub const WINDOW_CLOSED_CODE: &str = "63016";
