//! Checks what an operator asked to send (API JSON or CLI flags) and turns it
//! into an [`Outgoing`], or names the field that is wrong and why.
//!
//! Lengths are checked here against the largest any channel allows; the
//! channel a message goes out on may allow less, which [`super::enqueue`]
//! checks once it has picked one.

use std::collections::BTreeMap;

use super::Outgoing;
use crate::message::{Channel, ContactRef, Content, Template};
use crate::phone::PhoneNumber;

/// WhatsApp accepts at most this many media per message.
pub const MAX_MEDIA: usize = 10;

/// A field that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field's name (`to`, `body`, `media_url`, `content_sid`, `variables`,
    /// `template_name`, `language_code`, `parameters`, `channel`).
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

/// A channel named in a request (`twilio` or `meta`).
pub fn channel(name: Option<&str>) -> Result<Option<Channel>, FieldError> {
    name.map(|name| {
        Channel::parse(name).ok_or_else(|| {
            field(
                "channel",
                format!("{name:?} is not a channel; use \"twilio\" or \"meta\""),
            )
        })
    })
    .transpose()
}

/// A free-form message.
pub fn text(to: &str, body: &str, media_urls: &[String], channel: Option<Channel>) -> Result<Outgoing, FieldError> {
    let to = recipient(to)?;
    if body.trim().is_empty() && media_urls.is_empty() {
        return Err(field("body", "is empty; give a text or at least one media_url"));
    }
    // The channel is picked later: the largest text any provider takes.
    let largest = Channel::PROVIDERS
        .map(Channel::text_limit)
        .into_iter()
        .max_by_key(|limit| limit.max)
        .unwrap_or(Channel::Twilio.text_limit());
    if !largest.fits(body) {
        return Err(field(
            "body",
            format!("is {} characters; WhatsApp allows {}", largest.len(body), largest.max),
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
    Ok(Outgoing {
        to,
        content: Content::Text {
            body: body.to_string(),
            media_urls: media_urls.to_vec(),
        },
        channel,
    })
}

/// A Twilio content template message.
pub fn twilio_template(
    to: &str,
    content_sid: &str,
    variables: BTreeMap<String, String>,
) -> Result<Outgoing, FieldError> {
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
    Ok(Outgoing {
        to,
        content: Content::Template(Template {
            channel: Channel::Twilio,
            name: content_sid.to_string(),
            language: None,
            variables: variables.into_iter().collect(),
        }),
        channel: None,
    })
}

/// A Meta template message: `parameters` by position (`"1"`, `"2"`, …), which
/// fill the template body's `{{1}}`, `{{2}}`, … in order.
pub fn meta_template(
    to: &str,
    name: &str,
    language: &str,
    parameters: BTreeMap<String, String>,
) -> Result<Outgoing, FieldError> {
    let to = recipient(to)?;
    let name_ok = !name.is_empty()
        && name.len() <= 512
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !name_ok {
        return Err(field(
            "template_name",
            format!("{name:?} is not a template name (lower-case letters, digits and _, as in WhatsApp Manager)"),
        ));
    }
    if !language_code_ok(language) {
        return Err(field(
            "language_code",
            format!("{language:?} is not a language code like en or en_US"),
        ));
    }
    Ok(Outgoing {
        to,
        content: Content::Template(Template::numbered(
            Channel::Meta,
            name,
            Some(language),
            positional(parameters)?,
        )),
        channel: None,
    })
}

/// `en`, `pt_BR`, `zh_HK`: two or three lower-case letters, then optionally `_`
/// and two or three letters or digits.
fn language_code_ok(code: &str) -> bool {
    let (lang, region) = code.split_once('_').map_or((code, None), |(l, r)| (l, Some(r)));
    let lang_ok = (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_lowercase());
    let region_ok = region.is_none_or(|r| (2..=3).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphanumeric()));
    lang_ok && region_ok
}

/// `{"1": "Ava", "2": "A1002"}` as `["Ava", "A1002"]`: keys must be 1…n.
fn positional(parameters: BTreeMap<String, String>) -> Result<Vec<String>, FieldError> {
    let mut numbered: Vec<(usize, String)> = parameters
        .into_iter()
        .map(|(key, value)| match key.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok((n, value)),
            _ => Err(field(
                "parameters",
                format!("{key:?} is not a position (use \"1\", \"2\", …)"),
            )),
        })
        .collect::<Result<_, _>>()?;
    numbered.sort_by_key(|(n, _)| *n);
    for (expected, (n, _)) in numbered.iter().enumerate() {
        if *n != expected + 1 {
            return Err(field(
                "parameters",
                format!(
                    "position {} is missing; give \"1\" to \"{}\" without gaps",
                    expected + 1,
                    numbered.len()
                ),
            ));
        }
    }
    Ok(numbered.into_iter().map(|(_, v)| v).collect())
}

/// `+27…` or `whatsapp:+27…`; or the business-scoped user id of a customer
/// who hides their number (it starts with a letter).
fn recipient(to: &str) -> Result<ContactRef, FieldError> {
    PhoneNumber::parse(to).map(ContactRef::phone).or_else(|e| {
        let bare = to.trim();
        let bare = bare.strip_prefix("whatsapp:").unwrap_or(bare);
        let user_id = bare.len() <= 128
            && bare.starts_with(|c: char| c.is_ascii_alphabetic())
            && bare.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-:".contains(&b));
        if user_id {
            Ok(ContactRef::user_id(bare))
        } else {
            Err(field("to", e.to_string()))
        }
    })
}

/// Providers fetch media themselves, from the public internet, over https.
fn https_url(url: &str) -> Result<(), FieldError> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|_| field("media_url", format!("{url:?} is not a URL")))?;
    if uri.scheme_str() != Some("https") || uri.host().is_none_or(str::is_empty) {
        return Err(field(
            "media_url",
            format!("{url:?} must be a public https:// URL (WhatsApp's provider downloads it)"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_that_is_wrong() {
        assert_eq!(text("0821234567", "hi", &[], None).unwrap_err().field, "to");
        assert_eq!(text("+27821234567", " ", &[], None).unwrap_err().field, "body");
        let http = ["http://example.com/a.jpg".to_string()];
        assert_eq!(text("+27821234567", "hi", &http, None).unwrap_err().field, "media_url");
        assert_eq!(
            twilio_template("+27821234567", "HX123", BTreeMap::new())
                .unwrap_err()
                .field,
            "content_sid"
        );
        assert_eq!(
            meta_template("+27821234567", "Order Ready", "en_US", BTreeMap::new())
                .unwrap_err()
                .field,
            "template_name"
        );
        assert_eq!(
            meta_template("+27821234567", "order_ready", "english", BTreeMap::new())
                .unwrap_err()
                .field,
            "language_code"
        );
        let gap = [("1".to_string(), "Ava".to_string()), ("3".to_string(), "x".to_string())].into();
        assert_eq!(
            meta_template("+27821234567", "order_ready", "en", gap)
                .unwrap_err()
                .field,
            "parameters"
        );
        assert_eq!(channel(Some("sms")).unwrap_err().field, "channel");
    }

    #[test]
    fn accepts_whatsapp_addresses_user_ids_and_https_media() {
        let media = ["https://example.com/a.jpg".to_string()];
        let m = text("whatsapp:+27821234567", "", &media, None).unwrap();
        assert_eq!(m.to, ContactRef::phone(PhoneNumber::parse("+27821234567").unwrap()));
        assert_eq!(
            text("ZA.2f9c", "hi", &[], None).unwrap().to,
            ContactRef::user_id("ZA.2f9c")
        );
        let sid = format!("HX{}", "a".repeat(32));
        let t = twilio_template("+27821234567", &sid, [("1".into(), "Ava".into())].into()).unwrap();
        assert_eq!(t.content.only_channel(), Some(Channel::Twilio));
        let params = [
            ("2".to_string(), "A1002".to_string()),
            ("1".to_string(), "Ava".to_string()),
        ]
        .into();
        let meta = meta_template("+27821234567", "order_ready", "en_US", params).unwrap();
        assert_eq!(
            meta.content,
            Content::Template(Template::numbered(
                Channel::Meta,
                "order_ready",
                Some("en_US"),
                ["Ava".to_string(), "A1002".to_string()]
            ))
        );
    }
}
