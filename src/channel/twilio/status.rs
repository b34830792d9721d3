//! Status callbacks: the form Twilio POSTs to `[webhooks] status_path` as an
//! outbound message moves on, read into the neutral [`StatusEvent`] with
//! Twilio's status words mapped onto the neutral ladder ([`MessageStatus`]).

use super::webhook::{pairs_json, param, WebhookError};
use crate::message::{Channel, MessageStatus, ReportedStatus, StatusEvent};
use crate::urlencoded::FormPair;

/// Reads a Twilio status-callback form.
pub fn status_event(params: &[impl FormPair]) -> Result<StatusEvent, WebhookError> {
    let first = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| param(params, name))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
    };
    let key = first(&["MessageSid", "SmsSid"]).ok_or(WebhookError::Missing("MessageSid"))?;
    let word = first(&["MessageStatus", "SmsStatus"]).ok_or(WebhookError::Missing("MessageStatus"))?;
    let status = ReportedStatus::mapped(&word, ladder);
    let error_code = first(&["ErrorCode"]).filter(|code| code != "0");
    Ok(StatusEvent {
        channel: Channel::Twilio,
        key,
        status,
        window_closed: error_code.as_deref() == Some(super::WINDOW_CLOSED_CODE),
        error_code,
        error_message: first(&["ErrorMessage"]),
        to_addr: first(&["To"]),
        from_addr: first(&["From"]),
        raw: pairs_json(params),
    })
}

/// Twilio's status words on the neutral ladder.
pub fn ladder(word: &str) -> Option<MessageStatus> {
    Some(match word {
        "queued" | "accepted" | "scheduled" => MessageStatus::Queued,
        "sending" => MessageStatus::Sending,
        "sent" => MessageStatus::Sent,
        "receiving" | "received" => MessageStatus::Received,
        "delivered" | "partially_delivered" => MessageStatus::Delivered,
        "read" => MessageStatus::Read,
        "failed" => MessageStatus::Failed,
        "undelivered" => MessageStatus::Undelivered,
        "canceled" => MessageStatus::Canceled,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::twilio::webhook::parse_form;

    #[test]
    fn reads_a_status_callback() {
        let body = b"MessageSid=SM1&MessageStatus=Undelivered&ErrorCode=63016&To=whatsapp%3A%2B27821234567&From=whatsapp%3A%2B14155238886&AccountSid=AC1";
        let event = status_event(&parse_form(body).unwrap()).unwrap();
        assert_eq!((event.key.as_str(), event.status.as_str()), ("SM1", "undelivered"));
        assert_eq!(event.error_code.as_deref(), Some("63016"));
        assert!(event.window_closed);
        assert_eq!(event.to_addr.as_deref(), Some("whatsapp:+27821234567"));
        let legacy = status_event(&parse_form(b"SmsSid=SM2&SmsStatus=sent").unwrap()).unwrap();
        assert_eq!((legacy.key.as_str(), legacy.status.as_str()), ("SM2", "sent"));
    }

    #[test]
    fn twilio_words_map_onto_the_ladder_and_unknown_ones_are_kept() {
        let status = |word: &str| {
            let body = format!("MessageSid=SM1&MessageStatus={word}");
            status_event(&parse_form(body.as_bytes()).unwrap()).unwrap().status
        };
        assert_eq!(status("accepted"), MessageStatus::Queued.into());
        assert_eq!(status("partially_delivered"), MessageStatus::Delivered.into());
        assert_eq!(status("Read"), MessageStatus::Read.into());
        assert_eq!(
            status("Something_New"),
            ReportedStatus::Unmapped("something_new".into())
        );
    }

    #[test]
    fn names_the_missing_field() {
        let err = status_event(&parse_form(b"MessageStatus=sent").unwrap()).unwrap_err();
        assert_eq!(err, WebhookError::Missing("MessageSid"));
        let err = status_event(&parse_form(b"MessageSid=SM1").unwrap()).unwrap_err();
        assert_eq!(err, WebhookError::Missing("MessageStatus"));
    }
}
