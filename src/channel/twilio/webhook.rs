//! Inbound webhook bodies: the form Twilio POSTs for a WhatsApp message, parsed
//! into an [`InboundMessage`] or a [`WebhookError`] naming what is wrong.

use crate::engine::Media;
use crate::phone::PhoneNumber;

/// The most media a message can carry (WhatsApp allows 10 per message).
const MAX_MEDIA: usize = 10;

/// A parsed inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// `MessageSid`.
    pub sid: String,
    /// The customer, from `From`.
    pub from: PhoneNumber,
    /// `From` as received (`whatsapp:+27…`).
    pub from_addr: String,
    /// `To` as received (the shop's number).
    pub to_addr: String,
    /// `Body` (empty when absent).
    pub body: String,
    /// `ProfileName`, the customer's WhatsApp name.
    pub profile_name: Option<String>,
    /// `MediaUrlN` / `MediaContentTypeN` for N < `NumMedia`.
    pub media: Vec<Media>,
    /// Every parameter as received, for the record.
    pub params: Vec<(String, String)>,
}

/// Why a webhook body was refused (a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Not `application/x-www-form-urlencoded`, or not UTF-8.
    #[error("the body is not a valid form: {0}")]
    Malformed(String),
    /// A required parameter is absent or empty.
    #[error("missing required parameter {0}")]
    Missing(&'static str),
    /// A parameter has an unusable value.
    #[error("parameter {field} is invalid: {reason}")]
    Invalid {
        /// The parameter.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

/// Parses an `application/x-www-form-urlencoded` body into ordered pairs.
///
/// Stricter than `serde_urlencoded`, which turns invalid UTF-8 into U+FFFD:
/// here invalid UTF-8, raw or percent-encoded, is an error, so a customer's text
/// is stored exactly or refused, never silently changed.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, WebhookError> {
    let text = std::str::from_utf8(body).map_err(|e| WebhookError::Malformed(format!("not UTF-8 ({e})")))?;
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode_component(name)?, decode_component(value)?))
        })
        .collect()
}

fn decode_component(raw: &str) -> Result<String, WebhookError> {
    let bytes = raw.as_bytes();
    if !bytes.iter().any(|&b| b == b'%' || b == b'+') {
        return Ok(raw.to_owned());
    }
    if let Some(i) = bad_escape(bytes) {
        // `i` is a `%`, so a char boundary; what follows it may not be ASCII.
        let shown: String = raw[i..].chars().take(3).collect();
        return Err(WebhookError::Malformed(format!("invalid percent-escape {shown:?}")));
    }
    let spaced = if bytes.contains(&b'+') {
        std::borrow::Cow::Owned(raw.replace('+', " "))
    } else {
        std::borrow::Cow::Borrowed(raw)
    };
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| WebhookError::Malformed(format!("{raw:?} decodes to invalid UTF-8")))
}

/// Where a `%` is not followed by two hex digits, if anywhere.
fn bad_escape(bytes: &[u8]) -> Option<usize> {
    bytes.iter().enumerate().find_map(|(i, &b)| {
        let ok = b != b'%'
            || (bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit));
        (!ok).then_some(i)
    })
}

/// The first value of parameter `name`.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

impl InboundMessage {
    /// Reads a Twilio inbound-message form.
    pub fn from_params(params: Vec<(String, String)>) -> Result<InboundMessage, WebhookError> {
        let required = |name: &'static str| match param(&params, name) {
            Some(v) if !v.trim().is_empty() => Ok(v.to_string()),
            _ => Err(WebhookError::Missing(name)),
        };
        let sid = required("MessageSid")?;
        let from_addr = required("From")?;
        let from = PhoneNumber::parse(&from_addr).map_err(|e| WebhookError::Invalid {
            field: "From",
            reason: e.to_string(),
        })?;
        let to_addr = param(&params, "To").unwrap_or_default().to_string();
        let body = param(&params, "Body").unwrap_or_default().to_string();
        let profile_name = param(&params, "ProfileName")
            .filter(|s| !s.is_empty())
            .map(String::from);
        let media = read_media(&params)?;
        Ok(InboundMessage {
            sid,
            from,
            from_addr,
            to_addr,
            body,
            profile_name,
            media,
            params,
        })
    }
}

fn read_media(params: &[(String, String)]) -> Result<Vec<Media>, WebhookError> {
    let count = match param(params, "NumMedia").map(str::trim) {
        None | Some("") => 0,
        Some(n) => n.parse::<usize>().map_err(|_| WebhookError::Invalid {
            field: "NumMedia",
            reason: format!("{n:?} is not a number"),
        })?,
    };
    Ok((0..count.min(MAX_MEDIA))
        .filter_map(|i| {
            let url = param(params, &format!("MediaUrl{i}"))?;
            let content_type = param(params, &format!("MediaContentType{i}")).unwrap_or("application/octet-stream");
            Some(Media {
                url: url.to_string(),
                content_type: content_type.to_string(),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_whatsapp_message_with_media() {
        let body = b"MessageSid=SM1&From=whatsapp%3A%2B27821234567&To=whatsapp%3A%2B14155238886&Body=hi+there&NumMedia=1&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fm&MediaContentType0=image%2Fjpeg&ProfileName=Thandi";
        let m = InboundMessage::from_params(parse_form(body).unwrap()).unwrap();
        assert_eq!(m.sid, "SM1");
        assert_eq!(m.from.as_str(), "+27821234567");
        assert_eq!(m.body, "hi there");
        assert_eq!(m.media[0].content_type, "image/jpeg");
        assert_eq!(m.profile_name.as_deref(), Some("Thandi"));
    }

    #[test]
    fn names_the_missing_field() {
        let err = InboundMessage::from_params(parse_form(b"MessageSid=SM1").unwrap()).unwrap_err();
        assert_eq!(err, WebhookError::Missing("From"));
        assert_eq!(err.to_string(), "missing required parameter From");
        let err = InboundMessage::from_params(parse_form(b"From=whatsapp%3A%2B27821234567").unwrap()).unwrap_err();
        assert_eq!(err, WebhookError::Missing("MessageSid"));
    }

    #[test]
    fn a_broken_percent_escape_is_refused() {
        // The last two put a multi-byte character where the hex digits belong.
        for body in ["Body=%zz", "Body=100%", "Bo%4=x", "Body=%a\u{e9}", "Body=%\u{20ac}"] {
            assert!(
                matches!(parse_form(body.as_bytes()), Err(WebhookError::Malformed(_))),
                "{body:?}"
            );
        }
        assert_eq!(parse_form(b"Body=100%25").unwrap()[0].1, "100%");
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert!(matches!(parse_form(b"Body=%FF%FE"), Err(WebhookError::Malformed(_))));
        assert!(matches!(parse_form(b"Body=\xff"), Err(WebhookError::Malformed(_))));
    }
}
