//! Unpaired UTF-16 surrogate escapes in a JSON text, replaced before parsing.
//!
//! Meta escapes text as JSON `\uXXXX`, emoji as surrogate pairs
//! (`\ud83d\ude00`). A lone half (`\ud800` not followed by a low half, or a low
//! half alone) is valid JSON grammar but names no character, and serde_json
//! refuses the whole document for it: one broken message used to make a
//! whole signed batch a `400`, and Meta retries a refused batch for days. So
//! the raw bytes (whose signature was already checked) are copied with every
//! unpaired half replaced by `\ufffd`, the replacement character, and only
//! then parsed. Everything else is copied unchanged: escapes are only looked
//! at inside strings, and `\\u…` (an escaped backslash) is not an escape of `u`.

use std::borrow::Cow;

/// `json` with every unpaired surrogate escape replaced by `\ufffd`; the
/// input itself when it has none (the common case costs one scan).
pub fn repair(json: &[u8]) -> Cow<'_, [u8]> {
    if !json
        .windows(3)
        .any(|w| w[0] == b'\\' && (w[1] == b'u' || w[1] == b'U') && matches!(w[2], b'd' | b'D'))
    {
        return Cow::Borrowed(json);
    }
    let mut out = Vec::with_capacity(json.len());
    let mut in_string = false;
    let mut i = 0;
    while i < json.len() {
        let b = json[i];
        if !in_string {
            in_string = b == b'"';
            out.push(b);
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = false;
                out.push(b);
                i += 1;
            }
            b'\\' if json.get(i + 1) == Some(&b'u') => i = escape(json, i, &mut out),
            b'\\' => {
                out.extend_from_slice(&json[i..(i + 2).min(json.len())]);
                i += 2;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// Copies the `\uXXXX` escape at `at` (a pair when it is one) to `out`, an
/// unpaired half as `\ufffd`; returns where the input goes on.
fn escape(json: &[u8], at: usize, out: &mut Vec<u8>) -> usize {
    let Some(unit) = hex4(json, at + 2) else {
        // Not four hex digits: not ours to judge (the parser will say why).
        out.extend_from_slice(&json[at..at + 2]);
        return at + 2;
    };
    let next = at + 6;
    match unit {
        0xD800..=0xDBFF => match (json.get(next), json.get(next + 1), hex4(json, next + 2)) {
            (Some(b'\\'), Some(b'u'), Some(0xDC00..=0xDFFF)) => {
                out.extend_from_slice(&json[at..next + 6]);
                next + 6
            }
            _ => {
                out.extend_from_slice(b"\\ufffd");
                next
            }
        },
        0xDC00..=0xDFFF => {
            out.extend_from_slice(b"\\ufffd");
            next
        }
        _ => {
            out.extend_from_slice(&json[at..next]);
            next
        }
    }
}

/// The four hex digits at `at`, as a number.
fn hex4(json: &[u8], at: usize) -> Option<u16> {
    let digits = std::str::from_utf8(json.get(at..at + 4)?).ok()?;
    u16::from_str_radix(digits, 16)
        .ok()
        .filter(|_| digits.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repaired(json: &str) -> String {
        String::from_utf8(repair(json.as_bytes()).into_owned()).unwrap()
    }

    #[test]
    fn unpaired_halves_become_the_replacement_character_and_pairs_stay() {
        assert_eq!(repaired(r#"{"a":"x\ud800y"}"#), r#"{"a":"x\ufffdy"}"#);
        assert_eq!(repaired(r#"{"a":"\udc00"}"#), r#"{"a":"\ufffd"}"#);
        assert_eq!(
            repaired(r#"{"a":"\ud800\ud800\ude00"}"#),
            r#"{"a":"\ufffd\ud800\ude00"}"#
        );
        assert_eq!(repaired(r#"{"a":"\uD83D\uDE00 ok"}"#), r#"{"a":"\uD83D\uDE00 ok"}"#);
        assert_eq!(repaired(r#"{"a":"\ud800"}"#), r#"{"a":"\ufffd"}"#, "at the very end");
        let value: serde_json::Value = serde_json::from_slice(&repair(br#"{"a":"x\ud800y"}"#)).unwrap();
        assert_eq!(value["a"], "x\u{fffd}y");
    }

    #[test]
    fn only_escapes_inside_strings_are_touched() {
        for same in [
            r#"{"a":"\\ud800"}"#,
            r#"{"a":"\"\\ud800"}"#,
            r#"{"\\ud800":1}"#,
            r#"{"a":"\u00e9\ud83d\ude00"}"#,
            r#"{"a":"\uZZZZ"}"#,
            r#"{"a":"\u12"}"#,
            "{\"a\":\"\\",
        ] {
            assert_eq!(repaired(same), same, "{same}");
        }
        assert!(matches!(repair(br#"{"a":"plain"}"#), Cow::Borrowed(_)));
    }
}
