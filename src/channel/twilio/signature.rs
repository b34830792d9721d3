//! `X-Twilio-Signature`: computed and checked exactly as Twilio's official
//! validators do it (twilio-python 9.13 `request_validator.py`, twilio-node
//! `webhooks.js`; fixtures from both in `tests/fixtures/signatures.json`).
//!
//! String to sign: the full URL Twilio requested, then for every parameter name
//! in sorted order (byte order = code point order, as Python sorts), each of its
//! distinct values in sorted order, appended as `name + value`. HMAC-SHA1 keyed
//! with the auth token, base64. A request passes if the signature matches the URL
//! with the scheme's default port added (when it has no port) or with any port
//! removed, as `validate()` accepts both. Comparison is constant-time (`hmac`'s
//! `verify_slice`).
//!
//! SharedKey signing (`X-Twilio-Webhooks-Signature-Settings: key=…,algorithm=…`)
//! uses the same string to sign, keyed with that key's secret and hashed with the
//! named algorithm (HMAC_SHA1 or HMAC_SHA256).
//!
//! The URL is split by hand rather than with the `url` crate on purpose: that
//! crate normalises paths and percent-encoding, which would change the bytes that
//! are signed; Twilio signs the URL as it requested it.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

use crate::urlencoded::FormPair;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";
/// The header naming the SharedKey and algorithm, when SharedKey signing is used.
pub const SETTINGS_HEADER: &str = "X-Twilio-Webhooks-Signature-Settings";

/// The HMAC hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// HMAC-SHA1, the classic signature.
    HmacSha1,
    /// HMAC-SHA256, SharedKey signing.
    HmacSha256,
}

/// What `X-Twilio-Webhooks-Signature-Settings` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureSettings {
    /// The SharedKey id (`key=`), if given.
    pub key: Option<String>,
    /// The algorithm (`algorithm=`; HMAC_SHA1 when absent or empty), or the
    /// unsupported name that was given.
    pub algorithm: Result<Algorithm, String>,
}

impl SignatureSettings {
    /// Parses the header as twilio-python's `get_signature_algorithm` does:
    /// comma-separated `name=value` pairs, names and values trimmed, the
    /// algorithm compared case-insensitively.
    pub fn parse(header: &str) -> SignatureSettings {
        let mut key = None;
        let mut algorithm = Ok(Algorithm::HmacSha1);
        for part in header.split(',') {
            let Some((name, value)) = part.split_once('=') else {
                continue;
            };
            let value = value.trim();
            match name.trim() {
                "key" if !value.is_empty() => key = Some(value.to_string()),
                "algorithm" if !value.is_empty() => {
                    algorithm = match value.to_ascii_uppercase().as_str() {
                        "HMAC_SHA1" => Ok(Algorithm::HmacSha1),
                        "HMAC_SHA256" => Ok(Algorithm::HmacSha256),
                        _ => Err(value.to_string()),
                    }
                }
                _ => {}
            }
        }
        SignatureSettings { key, algorithm }
    }
}

/// The parameters as Twilio signs them: by name and within a name by value,
/// a value repeated under one name only once (as twilio-python's `validate`).
pub fn signed_pairs(params: &[impl FormPair]) -> Vec<(&str, &str)> {
    let mut pairs: Vec<(&str, &str)> = params.iter().map(|p| (p.name(), p.value())).collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// The bytes Twilio HMACs for `url` and `params`: the URL, then each
/// parameter's name and value in the order of [`signed_pairs`].
pub fn string_to_sign(url: &str, params: &[impl FormPair]) -> String {
    let pairs = signed_pairs(params);
    let mut out = String::with_capacity(url.len() + pairs.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>());
    out.push_str(url);
    for (name, value) in pairs {
        out.push_str(name);
        out.push_str(value);
    }
    out
}

/// The signature Twilio sends for exactly this URL and these parameters.
pub fn compute(algorithm: Algorithm, key: &[u8], url: &str, params: &[impl FormPair]) -> String {
    BASE64.encode(mac(algorithm, key, string_to_sign(url, params).as_bytes()))
}

/// Whether `signature` is valid for `url` (as given, or with or without its
/// default port).
pub fn verify(algorithm: Algorithm, key: &[u8], url: &str, params: &[impl FormPair], signature: &str) -> bool {
    PreparedKey::new(algorithm, key).verify(&[url], &signed_pairs(params), signature)
}

/// An HMAC keyed once (the key's inner and outer blocks hashed), cloned for
/// each request: the auth token does not change while serving, and keying
/// costs two SHA-1 blocks per request.
#[derive(Clone)]
pub enum PreparedKey {
    /// HMAC-SHA1.
    Sha1(Hmac<Sha1>),
    /// HMAC-SHA256.
    Sha256(Hmac<Sha256>),
}

impl std::fmt::Debug for PreparedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The state is derived from the secret: never shown.
        f.write_str(match self {
            PreparedKey::Sha1(_) => "PreparedKey::Sha1(…)",
            PreparedKey::Sha256(_) => "PreparedKey::Sha256(…)",
        })
    }
}

/// The longest MAC (HMAC-SHA256's 32 bytes) with room to spare: a decoded
/// signature that does not fit is no valid one.
const MAX_MAC: usize = 64;

impl PreparedKey {
    /// `key` prepared for `algorithm`.
    pub fn new(algorithm: Algorithm, key: &[u8]) -> PreparedKey {
        match algorithm {
            Algorithm::HmacSha1 => PreparedKey::Sha1(crate::channel::keyed(key, b"")),
            Algorithm::HmacSha256 => PreparedKey::Sha256(crate::channel::keyed(key, b"")),
        }
    }

    /// Whether `signature` is valid for the URL that is the concatenation of
    /// `url`'s pieces and for `pairs` (from [`signed_pairs`]). The URL as
    /// given is tried first, fed to the HMAC piece by piece: it is the one
    /// Twilio signs when the console's URL is the configured one, so a valid
    /// request costs one HMAC and no allocation. Then its [`url_variants`]
    /// that differ from it.
    pub fn verify(&self, url: &[&str], pairs: &[(&str, &str)], signature: &str) -> bool {
        let mut decoded = [0u8; MAX_MAC];
        let Ok(len) = BASE64.decode_slice(signature.trim(), &mut decoded) else {
            return false;
        };
        let expected = &decoded[..len];
        if self.matches(url, pairs, expected) {
            return true;
        }
        let given = url.concat();
        url_variants(&given)
            .iter()
            .filter(|variant| **variant != given)
            .any(|variant| self.matches(&[variant], pairs, expected))
    }

    /// Whether the HMAC of the URL's pieces and the pairs is `expected` (in constant time).
    fn matches(&self, url: &[&str], pairs: &[(&str, &str)], expected: &[u8]) -> bool {
        fn check<M: Mac + Clone>(prepared: &M, url: &[&str], pairs: &[(&str, &str)], expected: &[u8]) -> bool {
            let mut mac = prepared.clone();
            for piece in url {
                mac.update(piece.as_bytes());
            }
            for (name, value) in pairs {
                mac.update(name.as_bytes());
                mac.update(value.as_bytes());
            }
            mac.verify_slice(expected).is_ok()
        }
        match self {
            PreparedKey::Sha1(mac) => check(mac, url, pairs, expected),
            PreparedKey::Sha256(mac) => check(mac, url, pairs, expected),
        }
    }
}

fn mac(algorithm: Algorithm, key: &[u8], message: &[u8]) -> Vec<u8> {
    match algorithm {
        Algorithm::HmacSha1 => crate::channel::keyed::<Hmac<Sha1>>(key, message)
            .finalize()
            .into_bytes()
            .to_vec(),
        Algorithm::HmacSha256 => crate::channel::keyed::<Hmac<Sha256>>(key, message)
            .finalize()
            .into_bytes()
            .to_vec(),
    }
}

/// The two URLs twilio-python's `validate()` tries: with the scheme's default
/// port added when there is none (`add_port`), and with any port removed
/// (`remove_port`). Both use the lower-cased host without user info, as
/// Python's `urlparse(…).hostname` gives it.
pub fn url_variants(url: &str) -> [String; 2] {
    let Some((scheme, rest)) = url.split_once("://") else {
        return [url.to_string(), url.to_string()];
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = split_port(host_port);
    let host = host.to_ascii_lowercase();
    let with_port = match port {
        Some(port) => format!("{scheme}://{host}:{port}{tail}"),
        None => {
            let default = if scheme.eq_ignore_ascii_case("https") { 443 } else { 80 };
            format!("{scheme}://{host}:{default}{tail}")
        }
    };
    [with_port, format!("{scheme}://{host}{tail}")]
}

fn split_port(host_port: &str) -> (&str, Option<&str>) {
    let after_bracket = host_port.rfind(']').map_or(0, |i| i + 1);
    match host_port[after_bracket..].rfind(':') {
        Some(i) => {
            let at = after_bracket + i;
            let port = &host_port[at + 1..];
            (&host_port[..at], (!port.is_empty()).then_some(port))
        }
        None => (host_port, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_documented_example() {
        let params = p(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let sig = compute(Algorithm::HmacSha1, b"12345", url, &params);
        assert_eq!(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(verify(Algorithm::HmacSha1, b"12345", url, &params, &sig));
        assert!(verify(
            Algorithm::HmacSha1,
            b"12345",
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &params,
            &sig
        ));
        assert!(!verify(Algorithm::HmacSha1, b"12346", url, &params, &sig));
        assert!(!verify(Algorithm::HmacSha1, b"12345", url, &params, "not base64!"));
    }

    #[test]
    fn the_url_as_given_is_accepted_too_and_an_oversized_signature_is_not() {
        let params = p(&[("Body", "hi")]);
        // twilio-python lower-cases the host; Twilio signs the URL as configured.
        let url = "https://Bot.Example.com/twilio/inbound";
        let sig = compute(Algorithm::HmacSha1, b"12345", url, &params);
        assert!(verify(Algorithm::HmacSha1, b"12345", url, &params, &sig));
        let lower = compute(
            Algorithm::HmacSha1,
            b"12345",
            "https://bot.example.com/twilio/inbound",
            &params,
        );
        assert!(verify(Algorithm::HmacSha1, b"12345", url, &params, &lower));
        let long = BASE64.encode([7u8; 200]);
        assert!(!verify(Algorithm::HmacSha1, b"12345", url, &params, &long));
    }

    #[test]
    fn repeated_values_are_deduplicated_and_sorted() {
        assert_eq!(
            string_to_sign("u", &p(&[("Foo", "b"), ("Foo", "a"), ("Foo", "b")])),
            "uFooaFoob"
        );
    }

    #[test]
    fn url_variants_add_the_default_port_or_remove_any_port() {
        assert_eq!(
            url_variants("https://Bot.Example.com/x?y=1"),
            [
                "https://bot.example.com:443/x?y=1".to_string(),
                "https://bot.example.com/x?y=1".to_string()
            ]
        );
        assert_eq!(
            url_variants("http://h:8080/x"),
            ["http://h:8080/x".to_string(), "http://h/x".to_string()]
        );
        assert_eq!(
            url_variants("https://[::1]:8443"),
            ["https://[::1]:8443".to_string(), "https://[::1]".to_string()]
        );
    }

    #[test]
    fn settings_header_parsing() {
        let s = SignatureSettings::parse("key=k1, algorithm = hmac_sha256 ");
        assert_eq!(s.key.as_deref(), Some("k1"));
        assert_eq!(s.algorithm, Ok(Algorithm::HmacSha256));
        assert_eq!(
            SignatureSettings::parse("key=k1,Algorithm=HMAC_SHA256").algorithm,
            Ok(Algorithm::HmacSha1)
        );
        assert_eq!(
            SignatureSettings::parse("key=k,algorithm=HMAC_SHA512").algorithm,
            Err("HMAC_SHA512".into())
        );
    }
}
