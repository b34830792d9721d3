//! Decides whether a webhook request really comes from Twilio: which URL to
//! check (`public_base_url` + the request target as received; never
//! `X-Forwarded-*`), which key (the auth token, or a SharedKey named by
//! `X-Twilio-Webhooks-Signature-Settings`) and which algorithm.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::signature::{self, Algorithm, PreparedKey, SignatureSettings};
use crate::config::{Config, Secret};
use crate::urlencoded::Pair;

/// Checks webhook signatures as configured.
#[derive(Debug, Clone)]
pub struct WebhookVerifier {
    enabled: bool,
    base_url: Option<String>,
    /// The auth token, keyed once for HMAC-SHA1 (classic signatures).
    auth_token: Option<PreparedKey>,
    shared_keys: BTreeMap<String, Secret>,
}

/// The signature-related parts of a request.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The request target as received, `/twilio/inbound?x=1`.
    pub target: &'a str,
    /// The `Host` header (used only without `public_base_url`).
    pub host: Option<&'a str>,
    /// `X-Twilio-Signature`.
    pub signature: Option<&'a str>,
    /// `X-Twilio-Webhooks-Signature-Settings`.
    pub settings: Option<&'a str>,
    /// The form parameters.
    pub params: &'a [Pair<'a>],
}

/// Why a request was refused (a 403), with the URL that was checked, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// What was wrong.
    pub reason: String,
    /// The URL(s) the signature was checked against.
    pub url: String,
}

impl WebhookVerifier {
    /// The verifier `config` asks for.
    pub fn from_config(config: &Config) -> WebhookVerifier {
        WebhookVerifier {
            enabled: config.webhooks.validate_signatures,
            base_url: config.server.public_base_url.clone(),
            auth_token: config
                .twilio
                .auth_token
                .as_ref()
                .map(|token| PreparedKey::new(Algorithm::HmacSha1, token.expose().as_bytes())),
            shared_keys: config.twilio.webhook_shared_keys.clone(),
        }
    }

    /// Whether signatures are checked at all.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Accepts or refuses a request.
    pub fn check(&self, request: SignedRequest<'_>) -> Result<(), Rejection> {
        if !self.enabled {
            return Ok(());
        }
        let urls = self.urls(request.target, request.host);
        // The URLs joined only for a refusal's log line.
        let reject = |reason: String| Rejection {
            reason,
            url: urls
                .clone()
                .map(|pieces| pieces.concat())
                .collect::<Vec<_>>()
                .join(" or "),
        };
        let Some(signature) = request.signature.filter(|s| !s.trim().is_empty()) else {
            return Err(reject(format!("no {} header", signature::SIGNATURE_HEADER)));
        };
        if urls.clone().next().is_none() {
            return Err(reject(
                "no public_base_url configured and no Host header to fall back on".into(),
            ));
        }
        let key = self.key_for(request.settings).map_err(reject)?;
        let pairs = signature::signed_pairs(request.params);
        let valid = urls.clone().any(|pieces| key.verify(&pieces, &pairs, signature));
        if valid {
            Ok(())
        } else {
            Err(reject("signature does not match".into()))
        }
    }

    /// The URL(s) Twilio may have requested, each as the pieces it is made
    /// of (the HMAC is fed them in turn; nothing is joined unless refused).
    fn urls<'a>(&'a self, target: &'a str, host: Option<&'a str>) -> impl Iterator<Item = [&'a str; 3]> + Clone {
        let (first, second) = match (self.base_url.as_deref(), host) {
            (Some(base), _) => (Some([base, "", target]), None),
            (None, Some(host)) => (Some(["https://", host, target]), Some(["http://", host, target])),
            (None, None) => (None, None),
        };
        first.into_iter().chain(second)
    }

    /// The key to check with: the prepared auth token, or the SharedKey the
    /// settings header names (keyed here, as its algorithm comes with the request).
    fn key_for(&self, settings: Option<&str>) -> Result<Cow<'_, PreparedKey>, String> {
        let settings = settings.map(str::trim).filter(|s| !s.is_empty());
        let Some(settings) = settings.map(SignatureSettings::parse) else {
            return self
                .auth_token
                .as_ref()
                .map(Cow::Borrowed)
                .ok_or_else(|| "no auth token configured for classic signatures".to_string());
        };
        let algorithm = settings
            .algorithm
            .map_err(|name| format!("unsupported signature algorithm {name:?}"))?;
        let key_id = settings
            .key
            .ok_or_else(|| format!("{} names no key", signature::SETTINGS_HEADER))?;
        let secret = self
            .shared_keys
            .get(&key_id)
            .ok_or_else(|| format!("unknown SharedKey {key_id:?}; add it to [twilio] webhook_shared_keys"))?;
        Ok(Cow::Owned(PreparedKey::new(algorithm, secret.expose().as_bytes())))
    }
}
