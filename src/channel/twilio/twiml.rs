//! TwiML replies: `<Response><Message>…</Message></Response>`.
//!
//! Every piece of text is XML-escaped (customer text echoed back must not break
//! the document) and stripped of the control characters XML 1.0 cannot carry. A
//! reply longer than Twilio's 1,600-character body limit is split into several
//! `<Message>`s at line, then word boundaries; never more than 10 per response
//! (Twilio rejects more with error 14109), the last one cut with `…` if needed.

use quick_xml::escape::escape;

use crate::engine::menu::{message_len, MAX_MESSAGE_LEN};

/// The most `<Message>` elements one response may carry.
pub const MAX_MESSAGES: usize = 10;

/// The content type Twilio expects.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

const XML_DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// What the customer reads when something broke after the signature check.
pub const APOLOGY: &str = "Sorry, something went wrong on our side. Please try again in a few minutes.";

/// Renders the reply texts (one already-joined text per `<Message>` candidate).
pub fn render(texts: &[String]) -> String {
    let mut out = String::from(XML_DECL);
    let bodies = split_all(texts);
    if bodies.is_empty() {
        out.push_str("<Response/>");
        return out;
    }
    out.push_str("<Response>");
    for body in bodies {
        out.push_str("<Message>");
        out.push_str(&escape(clean(&body).as_str()));
        out.push_str("</Message>");
    }
    out.push_str("</Response>");
    out
}

/// Splits every text to fit Twilio's limit, keeping at most [`MAX_MESSAGES`].
pub fn split_all(texts: &[String]) -> Vec<String> {
    let mut bodies: Vec<String> = texts
        .iter()
        .filter(|t| !t.trim().is_empty())
        .flat_map(|t| split(t, MAX_MESSAGE_LEN))
        .collect();
    if bodies.len() > MAX_MESSAGES {
        log::warn!(target: "twiml", "reply needs {} messages; sending the first {MAX_MESSAGES}", bodies.len());
        bodies.truncate(MAX_MESSAGES);
        if let Some(last) = bodies.last_mut() {
            let mut cut: String = last.chars().take(last.chars().count().saturating_sub(2)).collect();
            while message_len(&cut) > MAX_MESSAGE_LEN - 1 {
                cut.pop();
            }
            *last = format!("{cut}…");
        }
    }
    bodies
}

/// Splits `text` into pieces of at most `limit` UTF-16 units, preferring line
/// breaks, then spaces, then any character boundary.
pub fn split(text: &str, limit: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text.trim_end();
    while message_len(rest) > limit {
        let hard = boundary_within(rest, limit);
        let head = &rest[..hard];
        let cut = head
            .rfind('\n')
            .filter(|&i| i > 0)
            .or_else(|| head.rfind(' ').filter(|&i| i > 0))
            .unwrap_or(hard);
        pieces.push(rest[..cut].trim_end().to_string());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        pieces.push(rest.to_string());
    }
    pieces
}

/// The largest char boundary whose prefix is at most `limit` UTF-16 units.
fn boundary_within(text: &str, limit: usize) -> usize {
    let mut units = 0;
    for (i, c) in text.char_indices() {
        units += c.len_utf16();
        if units > limit {
            return i;
        }
    }
    text.len()
}

/// Drops characters XML 1.0 cannot represent, even escaped.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_customer_text() {
        let xml = render(&["a <b> & ]]> \u{1} 🙂".to_string()]);
        assert_eq!(
            xml,
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>a &lt;b&gt; &amp; ]]&gt;  🙂</Message></Response>"#
        );
    }

    #[test]
    fn empty_reply_is_an_empty_response() {
        assert!(render(&[]).ends_with("<Response/>"));
    }

    #[test]
    fn long_text_splits_at_lines_and_words_within_the_limit() {
        let line = "word ".repeat(50); // 250 chars
        let text = [line.trim_end(); 10].join("\n");
        let pieces = split(&text, 1600);
        assert_eq!(pieces.len(), 2);
        assert!(pieces.iter().all(|p| message_len(p) <= 1600));
        assert!(pieces[0].ends_with("word"));
        let one_line = "x".repeat(100) + &" y".repeat(1000);
        assert!(split(&one_line, 1600)
            .iter()
            .all(|p| message_len(p) <= 1600 && !p.starts_with(' ')));
    }

    #[test]
    fn emoji_count_as_two_units_and_are_never_cut_in_half() {
        let text = "🙂".repeat(1000);
        let pieces = split(&text, 1600);
        assert_eq!(pieces.len(), 2);
        assert_eq!(message_len(&pieces[0]), 1600);
        assert_eq!(pieces.concat(), text);
    }

    #[test]
    fn never_more_than_ten_messages() {
        let text = "z".repeat(1600 * 12);
        let bodies = split_all(&[text]);
        assert_eq!(bodies.len(), 10);
        assert!(bodies[9].ends_with('…'));
        assert!(message_len(&bodies[9]) <= 1600);
    }
}
