//! The channels this build has, and the facts the core needs about each: its
//! stored name, whether messages can be sent on it, its text limit, whether
//! it shows menus to tap through the outbox, and how it writes a contact's
//! address. One entry per channel in [`Channel::facts`].
//!
//! A new channel is a variant and its entry here, its folder under
//! `channel/` (webhook, sending, media) and its area in `http/`. Below the
//! channel edges code asks a [`Channel`] for these facts and never names a
//! provider. A leaf: it imports nothing of the crate.

use std::fmt;

/// A way customers reach the shop: a WhatsApp provider, or the terminal chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// Twilio's WhatsApp API (form webhooks, inline TwiML replies).
    Twilio,
    /// Meta's WhatsApp Cloud API (JSON webhooks, replies through the Graph API).
    Meta,
    /// The terminal chat (`shopbot chat`): no provider; nothing is ever sent on it.
    Local,
}

/// What the core needs to know about a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// As stored, configured and logged.
    pub name: &'static str,
    /// As the owner's inbox shows it.
    pub title: &'static str,
    /// Messages can be sent on it (a WhatsApp provider).
    pub sends: bool,
    /// The most units one message's text may have.
    pub text_max: usize,
    /// What the text limit counts.
    pub text_unit: TextUnit,
    /// The bot's reply goes back in the webhook's answer (else through the
    /// outbox, as messages of its own).
    pub inline_replies: bool,
    /// A reply through the outbox shows a menu as buttons and lists.
    pub taps: bool,
    /// How it writes a contact's address.
    pub addressing: Addressing,
}

/// What a text limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextUnit {
    /// UTF-16 code units (an emoji outside the BMP counts twice).
    Utf16,
    /// Unicode scalar values.
    Chars,
}

/// How a channel writes a contact's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `whatsapp:` and the number with its `+` (or the user id).
    WhatsAppUri,
    /// The number's digits without `+` (else the user id).
    Digits,
    /// The number or user id as shown.
    AsShown,
}

impl Channel {
    /// The WhatsApp providers, in a stable order.
    pub const PROVIDERS: [Channel; 2] = [Channel::Twilio, Channel::Meta];
    /// Every channel, the terminal's included.
    pub const ALL: [Channel; 3] = [Channel::Twilio, Channel::Meta, Channel::Local];

    /// The channel's facts: one entry per channel.
    pub const fn facts(self) -> Facts {
        match self {
            Channel::Twilio => Facts {
                name: "twilio",
                title: "Twilio",
                sends: true,
                text_max: 1600,
                text_unit: TextUnit::Utf16,
                inline_replies: true,
                taps: false,
                addressing: Addressing::WhatsAppUri,
            },
            Channel::Meta => Facts {
                name: "meta",
                title: "Meta",
                sends: true,
                text_max: 4096,
                text_unit: TextUnit::Chars,
                inline_replies: false,
                taps: true,
                addressing: Addressing::Digits,
            },
            // The terminal keeps the strictest limit, so a chat shows what a
            // customer would see.
            Channel::Local => Facts {
                name: "local",
                title: "terminal",
                sends: false,
                text_max: 1600,
                text_unit: TextUnit::Utf16,
                inline_replies: true,
                taps: false,
                addressing: Addressing::AsShown,
            },
        }
    }

    /// As stored and shown: `twilio`, `meta` or `local`.
    pub fn as_str(self) -> &'static str {
        self.facts().name
    }

    /// The stored or configured name back; `None` for anything else.
    pub fn parse(text: &str) -> Option<Channel> {
        let text = text.trim();
        Channel::ALL
            .into_iter()
            .find(|channel| channel.as_str().eq_ignore_ascii_case(text))
    }

    /// Whether this is a WhatsApp provider that messages can be sent through.
    pub fn is_provider(self) -> bool {
        self.facts().sends
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_is_found_by_its_name_and_only_providers_send() {
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
            assert_eq!(
                Channel::parse(&format!(" {} ", channel.as_str().to_uppercase())),
                Some(channel)
            );
            assert_eq!(channel.is_provider(), Channel::PROVIDERS.contains(&channel));
        }
        assert_eq!(Channel::parse("fax"), None);
    }
}
