//! Status callbacks: the form Twilio POSTs to `[webhooks] status_path` as an
//! outbound message moves on, and the precedence that turns a pile of events,
//! arriving in any order and any number of times, into one current status.

use super::webhook::{param, WebhookError};

/// One status callback, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    /// `MessageSid` (or the older `SmsSid`).
    pub sid: String,
    /// `MessageStatus` (or `SmsStatus`), lower-cased.
    pub status: String,
    /// `ErrorCode`, when Twilio sent one (e.g. `63016`).
    pub error_code: Option<String>,
    /// `ErrorMessage`, when Twilio sent one.
    pub error_message: Option<String>,
    /// `To` as received.
    pub to_addr: Option<String>,
    /// `From` as received.
    pub from_addr: Option<String>,
    /// Every parameter as received, for the record.
    pub params: Vec<(String, String)>,
}

impl StatusEvent {
    /// Reads a Twilio status-callback form.
    pub fn from_params(params: Vec<(String, String)>) -> Result<StatusEvent, WebhookError> {
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|name| param(&params, name))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(String::from)
        };
        let sid = first(&["MessageSid", "SmsSid"]).ok_or(WebhookError::Missing("MessageSid"))?;
        let status = first(&["MessageStatus", "SmsStatus"])
            .ok_or(WebhookError::Missing("MessageStatus"))?
            .to_ascii_lowercase();
        Ok(StatusEvent {
            sid,
            status,
            error_code: first(&["ErrorCode"]).filter(|code| code != "0"),
            error_message: first(&["ErrorMessage"]),
            to_addr: first(&["To"]),
            from_addr: first(&["From"]),
            params,
        })
    }
}

/// How far along a status is. Terminal failures outrank everything, so nothing
/// after them changes the message's status; unknown statuses rank lowest.
pub fn rank(status: &str) -> u8 {
    match status {
        "failed" | "undelivered" | "canceled" => 100,
        "read" => 60,
        "delivered" | "partially_delivered" => 50,
        "received" => 45,
        "sent" => 40,
        "sending" | "receiving" => 30,
        "queued" | "accepted" | "scheduled" => 20,
        _ => 0,
    }
}

/// The current status of a message whose own status is `base` (what we set when
/// storing or sending it) and whose callbacks said `events`, in arrival order:
/// the highest by [`rank`]; among equals (two terminal failures) the first stays.
pub fn current<'a>(base: Option<&'a str>, events: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    base.into_iter()
        .chain(events)
        .fold(None, |best: Option<&str>, next| match best {
            Some(b) if rank(b) >= rank(next) => Some(b),
            _ => Some(next),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::twilio::webhook::parse_form;

    #[test]
    fn precedence_not_arrival_order() {
        assert_eq!(current(Some("queued"), ["sent", "read", "delivered"]), Some("read"));
        assert_eq!(current(None, ["delivered", "sent", "queued"]), Some("delivered"));
        assert_eq!(current(Some("queued"), ["read", "failed", "delivered"]), Some("failed"));
        assert_eq!(current(None, ["undelivered", "failed", "read"]), Some("undelivered"));
        assert_eq!(current(Some("queued"), []), Some("queued"));
        assert_eq!(current(None, []), None);
        assert_eq!(current(None, ["something_new", "sent"]), Some("sent"));
    }

    #[test]
    fn reads_a_status_callback() {
        let body = b"MessageSid=SM1&MessageStatus=Undelivered&ErrorCode=63016&To=whatsapp%3A%2B27821234567&From=whatsapp%3A%2B14155238886&AccountSid=AC1";
        let event = StatusEvent::from_params(parse_form(body).unwrap()).unwrap();
        assert_eq!((event.sid.as_str(), event.status.as_str()), ("SM1", "undelivered"));
        assert_eq!(event.error_code.as_deref(), Some("63016"));
        assert_eq!(event.to_addr.as_deref(), Some("whatsapp:+27821234567"));
        let legacy = StatusEvent::from_params(parse_form(b"SmsSid=SM2&SmsStatus=sent").unwrap()).unwrap();
        assert_eq!((legacy.sid.as_str(), legacy.status.as_str()), ("SM2", "sent"));
    }

    #[test]
    fn names_the_missing_field() {
        let err = StatusEvent::from_params(parse_form(b"MessageStatus=sent").unwrap()).unwrap_err();
        assert_eq!(err, WebhookError::Missing("MessageSid"));
        let err = StatusEvent::from_params(parse_form(b"MessageSid=SM1").unwrap()).unwrap_err();
        assert_eq!(err, WebhookError::Missing("MessageStatus"));
    }
}
