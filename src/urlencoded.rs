//! `application/x-www-form-urlencoded`, as Twilio's webhooks and every query
//! string use it: parsed strictly (invalid UTF-8 or a broken escape is an
//! error, never a silently changed text) into ordered pairs, borrowed from
//! the body where a name or value needs no decoding.

use std::borrow::Cow;

/// Why a form or query string cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormError(pub String);

/// One name and its value, each borrowed from the form's text unless it had
/// to be decoded.
pub type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// A name and value of a form, owned or borrowed: what [`param`] and the
/// readers of a form take, so a form parsed from a body ([`Pair`]) and one
/// made in a test (`(String, String)`) are read alike.
pub trait FormPair {
    /// The parameter's name.
    fn name(&self) -> &str;
    /// Its value.
    fn value(&self) -> &str;
}

impl<K: AsRef<str>, V: AsRef<str>> FormPair for (K, V) {
    fn name(&self) -> &str {
        self.0.as_ref()
    }
    fn value(&self) -> &str {
        self.1.as_ref()
    }
}

/// Parses an `application/x-www-form-urlencoded` body into ordered pairs.
/// A name or value without `%` or `+` is borrowed from `body` (most of
/// Twilio's are), so a form costs one allocation per decoded component.
///
/// Stricter than `serde_urlencoded`, which turns invalid UTF-8 into U+FFFD:
/// here invalid UTF-8, raw or percent-encoded, is an error, so a customer's text
/// is stored exactly or refused, never silently changed.
pub fn parse(body: &[u8]) -> Result<Vec<Pair<'_>>, FormError> {
    let text = std::str::from_utf8(body).map_err(|e| FormError(format!("not UTF-8 ({e})")))?;
    // Split on the bytes `&` and `=` (ASCII, so always at character
    // boundaries) with memchr, into a list sized once.
    let mut pairs = Vec::with_capacity(memchr::memchr_iter(b'&', body).count() + 1);
    for pair in split_pairs(text) {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match memchr::memchr(b'=', pair.as_bytes()) {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, ""),
        };
        pairs.push((decode_component(name)?, decode_component(value)?));
    }
    Ok(pairs)
}

/// The parts of `text` between `&`s (as `str::split('&')`).
fn split_pairs(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'&', text.as_bytes()).chain(std::iter::once(text.len()));
    std::iter::from_fn(move || {
        let end = ends.next()?;
        let pair = &text[start..end];
        start = end + 1;
        Some(pair)
    })
}

/// Decodes one name or value in one pass: `+` is a space, `%XX` a byte, and
/// the bytes must be UTF-8. The first broken escape is the error, as before
/// any decoding (no allocation when there is nothing to decode, else one: the result).
fn decode_component(raw: &str) -> Result<Cow<'_, str>, FormError> {
    let bytes = raw.as_bytes();
    if memchr::memchr2(b'%', b'+', bytes).is_none() {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let Some(byte) = hex_pair(bytes.get(i + 1..i + 3)) else {
                    // `i` is a `%`, so a char boundary; what follows it may not be ASCII.
                    let shown: String = raw[i..].chars().take(3).collect();
                    return Err(FormError(format!("invalid percent-escape {shown:?}")));
                };
                out.push(byte);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| FormError(format!("{raw:?} decodes to invalid UTF-8")))
}

/// The byte two hex digits stand for.
fn hex_pair(digits: Option<&[u8]>) -> Option<u8> {
    let value = |d: u8| char::from(d).to_digit(16);
    match digits? {
        &[high, low] => Some(u8::try_from(value(high)? * 16 + value(low)?).ok()?),
        _ => None,
    }
}

/// The first value of parameter `name`.
pub fn param<'a>(params: &'a [impl FormPair], name: &str) -> Option<&'a str> {
    params.iter().find(|pair| pair.name() == name).map(FormPair::value)
}

/// The pairs, owned (to keep them past the body they were parsed from).
pub fn into_owned(pairs: Vec<Pair<'_>>) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_needs_decoding_is_copied() {
        let pairs = parse(b"MessageSid=SM1&Body=hi+there&From=whatsapp%3A%2B1").unwrap();
        let borrowed: Vec<(bool, bool)> = pairs
            .iter()
            .map(|(k, v)| (matches!(k, Cow::Borrowed(_)), matches!(v, Cow::Borrowed(_))))
            .collect();
        assert_eq!(borrowed, [(true, true), (true, false), (true, false)]);
        assert_eq!(param(&pairs, "Body"), Some("hi there"));
        assert_eq!(param(&pairs, "From"), Some("whatsapp:+1"));
        assert_eq!(into_owned(pairs)[2], ("From".to_string(), "whatsapp:+1".to_string()));
    }
}
