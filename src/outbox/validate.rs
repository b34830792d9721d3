//! Checks what an operator asked to send (API JSON or CLI flags) and turns it
//! into a [`NewOutbound`], or names the field that is wrong and why.

use std::collections::BTreeMap;

use super::policy::Kind;
use crate::engine::menu::{message_len, MAX_MESSAGE_LEN};
use crate::phone::PhoneNumber;
use crate::store::NewOutbound;

/// WhatsApp accepts at most this many media per message.
pub const MAX_MEDIA: usize = 10;

/// A field that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field's name (`to`, `body`, `media_url`, `content_sid`, `variables`).
    pub field: &'static str,
    /// Why.
    pub reason: String,
}

fn field(field: &'static str, reason: impl Into<String>) -> FieldError {
    FieldError {
        field,
        reason: reason.into(),
    }
}

/// A free-form message.
pub fn text(to: &str, body: &str, media_urls: &[String], from_addr: &str) -> Result<NewOutbound, FieldError> {
    let to = recipient(to)?;
    if body.trim().is_empty() && media_urls.is_empty() {
        return Err(field("body", "is empty; give a text or at least one media_url"));
    }
    if message_len(body) > MAX_MESSAGE_LEN {
        return Err(field(
            "body",
            format!("is {} characters; WhatsApp allows {MAX_MESSAGE_LEN}", message_len(body)),
        ));
    }
    if media_urls.len() > MAX_MEDIA {
        return Err(field(
            "media_url",
            format!("has {} URLs; at most {MAX_MEDIA}", media_urls.len()),
        ));
    }
    for url in media_urls {
        https_url(url)?;
    }
    Ok(NewOutbound {
        to,
        from_addr: from_addr.to_string(),
        kind: Kind::Text,
        body: body.to_string(),
        media_urls: media_urls.to_vec(),
        content_sid: None,
        variables: BTreeMap::new(),
    })
}

/// A template message.
pub fn template(
    to: &str,
    content_sid: &str,
    variables: BTreeMap<String, String>,
    from_addr: &str,
) -> Result<NewOutbound, FieldError> {
    let to = recipient(to)?;
    let sid_ok = content_sid.len() == 34
        && content_sid.starts_with("HX")
        && content_sid[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if !sid_ok {
        return Err(field(
            "content_sid",
            format!("{content_sid:?} is not a Content SID (HX followed by 32 hex digits; see Twilio's Content Template Builder)"),
        ));
    }
    if let Some(key) = variables.keys().find(|k| k.trim().is_empty()) {
        return Err(field(
            "variables",
            format!("{key:?} is not a placeholder name (use \"1\", \"2\", …)"),
        ));
    }
    Ok(NewOutbound {
        to,
        from_addr: from_addr.to_string(),
        kind: Kind::Template,
        body: String::new(),
        media_urls: Vec::new(),
        content_sid: Some(content_sid.to_string()),
        variables,
    })
}

fn recipient(to: &str) -> Result<PhoneNumber, FieldError> {
    PhoneNumber::parse(to).map_err(|e| field("to", e.to_string()))
}

/// Twilio fetches media itself, from the public internet, over https.
fn https_url(url: &str) -> Result<(), FieldError> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|_| field("media_url", format!("{url:?} is not a URL")))?;
    if uri.scheme_str() != Some("https") || uri.host().is_none_or(str::is_empty) {
        return Err(field(
            "media_url",
            format!("{url:?} must be a public https:// URL (Twilio downloads it)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_that_is_wrong() {
        assert_eq!(text("0821234567", "hi", &[], "w").unwrap_err().field, "to");
        assert_eq!(text("+27821234567", " ", &[], "w").unwrap_err().field, "body");
        let http = ["http://example.com/a.jpg".to_string()];
        assert_eq!(text("+27821234567", "hi", &http, "w").unwrap_err().field, "media_url");
        assert_eq!(
            template("+27821234567", "HX123", BTreeMap::new(), "w")
                .unwrap_err()
                .field,
            "content_sid"
        );
    }

    #[test]
    fn accepts_whatsapp_addresses_and_https_media() {
        let media = ["https://example.com/a.jpg".to_string()];
        let m = text("whatsapp:+27821234567", "", &media, "whatsapp:+14155238886").unwrap();
        assert_eq!(m.to.as_str(), "+27821234567");
        let sid = format!("HX{}", "a".repeat(32));
        let t = template("+27821234567", &sid, [("1".into(), "Ava".into())].into(), "MG1").unwrap();
        assert_eq!(t.kind, Kind::Template);
    }
}
