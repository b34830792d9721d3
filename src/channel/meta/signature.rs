//! `X-Hub-Signature-256`, the signature on Meta's webhook POSTs:
//! `sha256=` then the lower-case hex HMAC-SHA256 of the **raw body bytes**,
//! keyed with the app secret.
//!
//! The raw bytes, never a re-serialised body: Meta escapes non-ASCII and `/`
//! (`caf\u00e9 \/ 2`), and parsing then printing the JSON changes the bytes and
//! breaks the signature (`tests/fixtures/meta_signatures.json` holds such a case).
//! Comparison is constant-time (`subtle`); upper-case hex is accepted too.
//! Neither the expected value nor the secret appears in any error.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header carrying the signature.
pub const HEADER: &str = "X-Hub-Signature-256";
/// What the header value starts with.
pub const PREFIX: &str = "sha256=";

/// Why a webhook's signature is refused. The HTTP layer answers `401` for
/// [`SignatureError::Missing`] and `403` for the others.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header (or an empty one).
    #[error("the request has no X-Hub-Signature-256 header")]
    Missing,
    /// The header is not `sha256=` and 64 hex digits.
    #[error("the X-Hub-Signature-256 header is malformed: {0}")]
    Malformed(&'static str),
    /// A well-formed signature of some other body or secret.
    #[error("the X-Hub-Signature-256 signature does not match the body (check [meta] app_secret)")]
    Mismatch,
}

/// The header value Meta sends for `body` signed with `secret`:
/// `sha256=<64 lower-case hex digits>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let digest = hmac(secret, body);
    let mut value = String::with_capacity(PREFIX.len() + 64);
    value.push_str(PREFIX);
    for byte in digest {
        value.push_str(&format!("{byte:02x}"));
    }
    value
}

/// Checks the `X-Hub-Signature-256` header value (`None` when absent) against
/// the raw `body`, in constant time.
pub fn verify(secret: &str, header: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    let value = header.map(str::trim).filter(|v| !v.is_empty());
    let given = decode(value.ok_or(SignatureError::Missing)?)?;
    if bool::from(hmac(secret, body).as_slice().ct_eq(&given)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The 32 signature bytes of a header value.
fn decode(value: &str) -> Result<[u8; 32], SignatureError> {
    let hex = match value.get(..PREFIX.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(PREFIX) => &value[PREFIX.len()..],
        _ => return Err(SignatureError::Malformed("it must start with sha256=")),
    };
    if hex.len() != 64 {
        return Err(SignatureError::Malformed("sha256= must be followed by 64 hex digits"));
    }
    let mut bytes = [0u8; 32];
    for (byte, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Ok(bytes)
}

/// One hex digit's value (either case).
fn nibble(digit: u8) -> Result<u8, SignatureError> {
    match digit {
        b'0'..=b'9' => Ok(digit - b'0'),
        b'a'..=b'f' => Ok(digit - b'a' + 10),
        b'A'..=b'F' => Ok(digit - b'A' + 10),
        _ => Err(SignatureError::Malformed("the signature is not hexadecimal")),
    }
}

/// HMAC-SHA256 of `body` keyed with `secret`.
fn hmac(secret: &str, body: &[u8]) -> [u8; 32] {
    crate::channel::keyed::<Hmac<Sha256>>(secret.as_bytes(), body)
        .finalize()
        .into_bytes()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// `tests/fixtures/meta_signatures.json`, made by `make_meta_signatures.py`
    /// with Python's `hmac` and `hashlib`.
    #[derive(Deserialize)]
    struct Fixtures {
        vectors: Vec<Vector>,
    }

    #[derive(Deserialize)]
    struct Vector {
        name: String,
        secret: String,
        body: String,
        signature: String,
        reserialised_body: Option<String>,
    }

    fn fixtures() -> Fixtures {
        serde_json::from_str(include_str!("../../../tests/fixtures/meta_signatures.json")).expect("valid fixtures")
    }

    #[test]
    fn every_python_vector_verifies_and_signs_the_same() {
        let fixtures = fixtures();
        assert!(fixtures.vectors.len() >= 4);
        for v in &fixtures.vectors {
            assert_eq!(sign(&v.secret, v.body.as_bytes()), v.signature, "{}", v.name);
            assert_eq!(
                verify(&v.secret, Some(&v.signature), v.body.as_bytes()),
                Ok(()),
                "{}",
                v.name
            );
        }
    }

    #[test]
    fn a_reserialised_body_does_not_verify() {
        let fixtures = fixtures();
        let escaped = fixtures
            .vectors
            .iter()
            .find(|v| v.reserialised_body.is_some())
            .expect("a vector with a reserialised body");
        assert!(
            escaped.body.contains(r"caf\u00e9 \/ 2"),
            "the body keeps Meta's escapes"
        );
        let reserialised = escaped.reserialised_body.as_deref().unwrap_or_default();
        assert!(reserialised.contains("café / 2"));
        assert_eq!(
            verify(&escaped.secret, Some(&escaped.signature), reserialised.as_bytes()),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn upper_case_hex_and_surrounding_space_are_accepted() {
        let header = sign("s3cret", b"{}");
        let upper = format!("sha256={}", header[PREFIX.len()..].to_ascii_uppercase());
        assert_eq!(verify("s3cret", Some(&upper), b"{}"), Ok(()));
        assert_eq!(verify("s3cret", Some(&format!(" {header} ")), b"{}"), Ok(()));
    }

    #[test]
    fn missing_malformed_and_wrong_signatures_are_told_apart() {
        let good = sign("s3cret", b"{}");
        assert_eq!(verify("s3cret", None, b"{}"), Err(SignatureError::Missing));
        assert_eq!(verify("s3cret", Some("  "), b"{}"), Err(SignatureError::Missing));
        for bad in [
            "sha1=abc",
            &good[PREFIX.len()..],
            "sha256=abc",
            &format!("{}g", &good[..good.len() - 1]),
        ] {
            let err = verify("s3cret", Some(bad), b"{}").unwrap_err();
            assert!(matches!(err, SignatureError::Malformed(_)), "{bad}: {err:?}");
        }
        assert_eq!(verify("other", Some(&good), b"{}"), Err(SignatureError::Mismatch));
        assert_eq!(verify("s3cret", Some(&good), b"{ }"), Err(SignatureError::Mismatch));
    }

    #[test]
    fn errors_never_show_the_expected_value() {
        let expected = sign("s3cret", b"{}");
        let wrong = sign("s3cret", b"[]");
        let err = verify("s3cret", Some(&wrong), b"{}").unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains(&expected[PREFIX.len()..]) && !shown.contains("s3cret"),
            "{shown}"
        );
    }
}
