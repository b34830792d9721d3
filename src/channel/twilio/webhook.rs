//! Inbound webhook bodies: the form Twilio POSTs for a WhatsApp message, parsed
//! into the neutral [`Inbound`] or a [`WebhookError`] naming what is wrong.
//!
//! A customer who hides their number behind a WhatsApp username arrives with a
//! business-scoped user id (`ExternalUserId`, or a `From` that is not a
//! number); they are a contact like any other.

use crate::message::{Channel, ContactRef, Inbound, Media};
use crate::phone::PhoneNumber;
use crate::urlencoded::{self, FormPair, Pair};

pub use crate::urlencoded::param;

/// The most media a message can carry (WhatsApp allows 10 per message).
const MAX_MEDIA: usize = 10;

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

/// Parses a form body (see [`crate::urlencoded::parse`]); a malformed one is
/// a [`WebhookError::Malformed`].
pub fn parse_form(body: &[u8]) -> Result<Vec<Pair<'_>>, WebhookError> {
    urlencoded::parse(body).map_err(|e| WebhookError::Malformed(e.0))
}

/// Reads a Twilio inbound-message form.
pub fn inbound(params: &[impl FormPair]) -> Result<Inbound, WebhookError> {
    let required = |name: &'static str| match param(params, name) {
        Some(v) if !v.trim().is_empty() => Ok(v.to_string()),
        _ => Err(WebhookError::Missing(name)),
    };
    let key = required("MessageSid")?;
    let from_addr = required("From")?;
    let from = sender(params, &from_addr)?;
    let to_addr = param(params, "To").unwrap_or_default().to_string();
    let text = param(params, "Body").unwrap_or_default().to_string();
    let profile_name = param(params, "ProfileName").filter(|s| !s.is_empty()).map(String::from);
    let reply_to = param(params, "OriginalRepliedMessageSid")
        .filter(|s| !s.trim().is_empty())
        .map(String::from);
    let media = read_media(params)?;
    // A tapped quick-reply button or list item: its id (`ListId` where Twilio
    // sends one, else `ButtonPayload`); `Body` is its title.
    let tap = ["ListId", "ButtonPayload"]
        .iter()
        .find_map(|name| param(params, name).map(str::trim).filter(|v| !v.is_empty()))
        .map(String::from);
    Ok(Inbound {
        channel: Channel::Twilio,
        key,
        from,
        from_addr,
        to_addr,
        text,
        media,
        profile_name,
        reply_to,
        tap,
        raw: pairs_json(params),
    })
}

/// `params` as JSON, `[["name","value"],…]`: byte for byte what
/// `serde_json::to_string` writes for them (the stored `messages.params`),
/// in one allocation of the right size; serde_json wrote each string through
/// its escape table a byte at a time and grew its buffer on the way.
pub fn pairs_json(params: &[impl FormPair]) -> String {
    // Each pair's `["",""]` and its comma, the brackets, and room for a few escapes.
    let size: usize = params.iter().map(|p| p.name().len() + p.value().len() + 8).sum();
    let mut out = String::with_capacity(size + 2 + 16);
    out.push('[');
    for (i, pair) in params.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        json_string(&mut out, pair.name());
        out.push(',');
        json_string(&mut out, pair.value());
        out.push(']');
    }
    out.push(']');
    out
}

/// Appends `text` as a JSON string, escaped as serde_json escapes it: `"` and
/// `\` with a backslash, the control characters below U+0020 as `\b`, `\t`,
/// `\n`, `\f`, `\r` or `\u00xx` (lower-case hex), everything else as it is.
fn json_string(out: &mut String, text: &str) {
    out.push('"');
    let bytes = text.as_bytes();
    // Most values need no escape: looked at without stopping early, which
    // the compiler turns into a few wide comparisons instead of a branch a byte.
    let escapes = bytes
        .iter()
        .fold(false, |any, &b| any | (b < 0x20) | (b == b'"') | (b == b'\\'));
    if !escapes {
        out.push_str(text);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        // `i` is an ASCII byte, so both slices end on character boundaries.
        out.push_str(&text[start..i]);
        start = i + 1;
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x08 => out.push_str("\\b"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            0x0c => out.push_str("\\f"),
            b'\r' => out.push_str("\\r"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// Who wrote: the number in `From`, and the business-scoped user id in
/// `ExternalUserId` or in a `From` that is not a number.
fn sender(params: &[impl FormPair], from_addr: &str) -> Result<ContactRef, WebhookError> {
    let external = param(params, "ExternalUserId")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from);
    match PhoneNumber::parse(from_addr) {
        Ok(phone) => Ok(ContactRef {
            phone: Some(phone),
            user_id: external,
        }),
        Err(e) => {
            let bare = from_addr.trim();
            let bare = bare.strip_prefix("whatsapp:").unwrap_or(bare).trim();
            // A `+` followed by digits that is still not a number is a bad number, not a user id.
            let looks_like_number = bare.starts_with('+') || bare.bytes().all(|b| b.is_ascii_digit());
            match external.or_else(|| (!looks_like_number && !bare.is_empty()).then(|| bare.to_string())) {
                Some(id) => Ok(ContactRef::user_id(id)),
                None => Err(WebhookError::Invalid {
                    field: "From",
                    reason: e.to_string(),
                }),
            }
        }
    }
}

fn read_media(params: &[impl FormPair]) -> Result<Vec<Media>, WebhookError> {
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
            Some(Media::at_url(url, content_type))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_whatsapp_message_with_media() {
        let body = b"MessageSid=SM1&From=whatsapp%3A%2B27821234567&To=whatsapp%3A%2B14155238886&Body=hi+there&NumMedia=1&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2Fm&MediaContentType0=image%2Fjpeg&ProfileName=Thandi";
        let m = inbound(&parse_form(body).unwrap()).unwrap();
        assert_eq!(m.key, "SM1");
        assert_eq!(m.from.phone.as_ref().map(PhoneNumber::as_str), Some("+27821234567"));
        assert_eq!(m.text, "hi there");
        assert_eq!(m.media[0].content_type, "image/jpeg");
        assert_eq!(m.profile_name.as_deref(), Some("Thandi"));
    }

    #[test]
    fn names_the_missing_field() {
        let err = inbound(&parse_form(b"MessageSid=SM1").unwrap()).unwrap_err();
        assert_eq!(err, WebhookError::Missing("From"));
        assert_eq!(err.to_string(), "missing required parameter From");
        let err = inbound(&parse_form(b"From=whatsapp%3A%2B27821234567").unwrap()).unwrap_err();
        assert_eq!(err, WebhookError::Missing("MessageSid"));
    }

    #[test]
    fn a_customer_with_a_username_is_known_by_user_id() {
        let hidden = inbound(&parse_form(b"MessageSid=SM1&From=whatsapp%3AZA.2f9c&Body=hi").unwrap()).unwrap();
        assert_eq!(hidden.from, ContactRef::user_id("ZA.2f9c"));
        let external = inbound(&parse_form(b"MessageSid=SM2&From=whatsapp%3A&ExternalUserId=ZA.77&Body=hi").unwrap());
        assert_eq!(external.map(|m| m.from), Ok(ContactRef::user_id("ZA.77")));
        let both = inbound(
            &parse_form(b"MessageSid=SM3&From=whatsapp%3A%2B27821234567&ExternalUserId=ZA.77&Body=hi").unwrap(),
        )
        .unwrap();
        assert_eq!(both.from.user_id.as_deref(), Some("ZA.77"));
        let bad_number = inbound(&parse_form(b"MessageSid=SM4&From=whatsapp%3A%2B0821&Body=hi").unwrap());
        assert!(matches!(bad_number, Err(WebhookError::Invalid { field: "From", .. })));
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
    fn the_params_json_is_what_serde_json_writes() {
        let mut every_ascii: String = (0u8..128).map(char::from).collect();
        every_ascii.push_str("é€😀\u{2028}\u{7f}");
        let cases = [
            vec![],
            vec![("".to_string(), "".to_string())],
            vec![
                ("Body".to_string(), every_ascii.clone()),
                (every_ascii, "x".to_string()),
                ("From".to_string(), "whatsapp:+27821234567".to_string()),
                ("Q".to_string(), "\"\\\"\\".to_string()),
            ],
        ];
        for params in cases {
            assert_eq!(
                pairs_json(&params),
                serde_json::to_string(&params).unwrap(),
                "{params:?}"
            );
        }
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert!(matches!(parse_form(b"Body=%FF%FE"), Err(WebhookError::Malformed(_))));
        assert!(matches!(parse_form(b"Body=\xff"), Err(WebhookError::Malformed(_))));
    }
}
