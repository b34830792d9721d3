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
/// any decoding (one allocation: the result).
fn decode_component(raw: &str) -> Result<String, FormError> {
    let bytes = raw.as_bytes();
    if memchr::memchr2(b'%', b'+', bytes).is_none() {
        return Ok(raw.to_owned());
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
    String::from_utf8(out).map_err(|_| FormError(format!("{raw:?} decodes to invalid UTF-8")))
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
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}
