//! TwiML replies: `<Response><Message>…</Message></Response>`, Twilio's edge for
//! the neutral [`Reply`].
//!
//! The reply's texts go out as one message, split into several `<Message>`s
//! when longer than Twilio's 1,600-unit body limit ([`Channel::Twilio.text_limit()`]),
//! never more than 10 per response (Twilio rejects more with error 14109), the
//! last one cut with `…` if needed. Every piece is XML-escaped (customer text
//! echoed back must not break the document) and stripped of the control
//! characters XML 1.0 cannot carry.

use quick_xml::escape::escape;

use crate::message::{Channel, Reply};

/// The most `<Message>` elements one response may carry.
pub const MAX_MESSAGES: usize = 10;

/// The content type Twilio expects.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

const XML_DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// Renders a reply as TwiML.
pub fn render(reply: &Reply) -> String {
    let bodies = fit(reply);
    // The document's size when nothing needs escaping: one allocation.
    let size = XML_DECL.len() + "<Response></Response>".len();
    let mut out = String::with_capacity(
        size + bodies
            .iter()
            .map(|b| b.len() + "<Message></Message>".len())
            .sum::<usize>(),
    );
    out.push_str(XML_DECL);
    if bodies.is_empty() {
        out.push_str("<Response/>");
        return out;
    }
    out.push_str("<Response>");
    for body in bodies {
        out.push_str("<Message>");
        out.push_str(&escape(clean(&body).as_ref()));
        out.push_str("</Message>");
    }
    out.push_str("</Response>");
    out
}

/// The message bodies a reply becomes on Twilio.
pub fn fit(reply: &Reply) -> Vec<String> {
    Channel::Twilio.text_limit().split(&reply.joined(), MAX_MESSAGES)
}

/// Drops characters XML 1.0 cannot represent, even escaped (a text that has
/// none is borrowed as it is).
fn clean(text: &str) -> std::borrow::Cow<'_, str> {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}');
    // By bytes first: the controls are single bytes, and U+FFFE and U+FFFF
    // start with 0xEF (as do other characters, then looked at one by one).
    let plain = |b: &u8| *b >= b' ' || matches!(b, b'\t' | b'\n' | b'\r');
    if text.as_bytes().iter().all(plain)
        && (memchr::memchr(0xEF, text.as_bytes()).is_none() || text.chars().all(allowed))
    {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.chars().filter(|&c| allowed(c)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(text: &str) -> Reply {
        Reply::new([text.to_string()])
    }

    #[test]
    fn escapes_customer_text() {
        let xml = render(&reply("a <b> & ]]> \u{1} 🙂"));
        assert_eq!(
            xml,
            r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>a &lt;b&gt; &amp; ]]&gt;  🙂</Message></Response>"#
        );
    }

    #[test]
    fn empty_reply_is_an_empty_response() {
        assert!(render(&Reply::default()).ends_with("<Response/>"));
    }

    #[test]
    fn the_texts_of_a_reply_are_one_message_when_they_fit() {
        let two = Reply::new(["Order A1: ready".to_string(), "Reply 0 for the main menu.".to_string()]);
        assert_eq!(fit(&two), ["Order A1: ready\n\nReply 0 for the main menu."]);
    }

    #[test]
    fn never_more_than_ten_messages() {
        let bodies = fit(&reply(&"z".repeat(1600 * 12)));
        assert_eq!(bodies.len(), MAX_MESSAGES);
        assert!(bodies[9].ends_with('…'));
    }
}
