//! `application/x-www-form-urlencoded`, as Twilio's webhooks and every query
//! string use it: parsed strictly (invalid UTF-8 or a broken escape is an
//! error, never a silently changed text) into ordered pairs.

/// Why a form or query string cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormError(pub String);

/// Parses an `application/x-www-form-urlencoded` body into ordered pairs.
///
/// Stricter than `serde_urlencoded`, which turns invalid UTF-8 into U+FFFD:
/// here invalid UTF-8, raw or percent-encoded, is an error, so a customer's text
/// is stored exactly or refused, never silently changed.
pub fn parse(body: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    let text = std::str::from_utf8(body).map_err(|e| FormError(format!("not UTF-8 ({e})")))?;
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode_component(name)?, decode_component(value)?))
        })
        .collect()
}

fn decode_component(raw: &str) -> Result<String, FormError> {
    let bytes = raw.as_bytes();
    if !bytes.iter().any(|&b| b == b'%' || b == b'+') {
        return Ok(raw.to_owned());
    }
    if let Some(i) = bad_escape(bytes) {
        // `i` is a `%`, so a char boundary; what follows it may not be ASCII.
        let shown: String = raw[i..].chars().take(3).collect();
        return Err(FormError(format!("invalid percent-escape {shown:?}")));
    }
    let spaced = if bytes.contains(&b'+') {
        std::borrow::Cow::Owned(raw.replace('+', " "))
    } else {
        std::borrow::Cow::Borrowed(raw)
    };
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| FormError(format!("{raw:?} decodes to invalid UTF-8")))
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
