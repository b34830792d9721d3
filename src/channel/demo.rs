//! The demo's channel: a WhatsApp provider on this computer, so that
//! `shopbot demo` shows the whole loop offline. It takes the outbox's Twilio
//! lane (the demo page speaks Twilio's webhooks) behind the same
//! [`Transport`] seam as the real providers, and behaves like one:
//!
//! - **Sending.** It takes what Twilio's Messages API takes (a text with
//!   media, a reply, a content template it knows: the demo's staff alert,
//!   [`ALERT_TEMPLATE`]) and refuses the rest as Twilio would. Each message
//!   gets an `SM…` key. What a phone shows for it is [`phone_message`].
//! - **Statuses.** Every status goes back as the form of a Twilio status
//!   callback, handed to a [`StatusCallback`] that handles it as
//!   `POST /twilio/status` does (the server wires it up): `sent` when the
//!   channel takes a message, `delivered` when a phone on the demo page has
//!   fetched it, `read` when that phone has shown it.
//! - **Failing.** With [`DemoChannel::fail_next`] on, the next message goes
//!   as an undeliverable one goes on Twilio: taken, then `undelivered` with
//!   an error code ([`FAILED_CODE`]); the switch turns itself off.
//!
//! Only `shopbot demo` starts it; `serve` never does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::twilio::webhook::WebhookError;
use crate::config::DEMO_ALERT_CONTENT_SID;
use crate::message::{Channel, Choice, ContactRef, Content, MessageStatus, Refused, SendError, Sent};
use crate::outbox::sender::Transport;
use crate::writer::WriterError;

/// The text of the demo's staff alert template ([`DEMO_ALERT_CONTENT_SID`]),
/// as Twilio's Content API holds an approved one: `{{1}}` the customer's name,
/// `{{2}}` their number, `{{3}}` their last message.
pub const ALERT_TEMPLATE: &str = "🔔 {{1}} ({{2}}) asks for a person.\nTheir last message: “{{3}}”\nReply to this message to answer; #done hands back to the bot.";

/// The error code a message failed by the switch is reported with (Twilio's
/// 30008, "Unknown error").
pub const FAILED_CODE: &str = "30008";

/// The error message a message failed by the switch is reported with.
pub const FAILED_MESSAGE: &str = "Unknown error (the demo's \"fail the next message\" switch)";

/// The account the demo's status callbacks name.
const ACCOUNT_SID: &str = "AC00000000000000000000000000000000";

/// Why a status could not be reported.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The form is not one a status callback may be.
    #[error("the status callback form: {0}")]
    Form(#[from] WebhookError),
    /// Recording it failed.
    #[error("recording the status: {0}")]
    Record(#[from] WriterError),
}

/// Where the demo channel's status callbacks go: the form of a Twilio status
/// callback, handled as `POST /twilio/status` handles one.
pub type StatusCallback = Arc<dyn Fn(Vec<(String, String)>) -> Result<(), ReportError> + Send + Sync>;

/// What a phone shows for a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneMessage {
    /// The text.
    pub text: String,
    /// Media URLs.
    pub media: Vec<String>,
    /// The menu to tap, if it shows one.
    pub choice: Option<Choice>,
}

/// The demo channel; clones share the failure switch.
#[derive(Clone)]
pub struct DemoChannel {
    /// The shop's address (`whatsapp:+…`), the `From` of the callbacks.
    shop: String,
    fail_next: Arc<AtomicBool>,
    callback: StatusCallback,
}

impl DemoChannel {
    /// A channel sending as `shop` and reporting to `callback`.
    pub fn new(shop: &str, callback: StatusCallback) -> DemoChannel {
        DemoChannel {
            shop: shop.to_string(),
            fail_next: Arc::new(AtomicBool::new(false)),
            callback,
        }
    }

    /// Turns the failure switch on or off.
    pub fn set_fail_next(&self, on: bool) {
        self.fail_next.store(on, Ordering::SeqCst);
    }

    /// Whether the next message will fail.
    pub fn fail_next(&self) -> bool {
        self.fail_next.load(Ordering::SeqCst)
    }

    /// A phone on the demo page fetched message `key`, sent to `to` (`whatsapp:+…`).
    pub fn delivered(&self, key: &str, to: &str) -> Result<(), ReportError> {
        self.report(key, to, MessageStatus::Delivered, None)
    }

    /// A phone on the demo page showed message `key`.
    pub fn read(&self, key: &str, to: &str) -> Result<(), ReportError> {
        self.report(key, to, MessageStatus::Read, None)
    }

    /// Reports `status` of `key` as a Twilio status callback.
    fn report(
        &self,
        key: &str,
        to: &str,
        status: MessageStatus,
        error: Option<(&str, &str)>,
    ) -> Result<(), ReportError> {
        let mut form: Vec<(String, String)> = [
            ("MessageSid", key),
            ("MessageStatus", status.as_str()),
            ("To", to),
            ("From", &self.shop),
            ("AccountSid", ACCOUNT_SID),
            ("ApiVersion", "2010-04-01"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        if let Some((code, message)) = error {
            form.push(("ErrorCode".into(), code.into()));
            form.push(("ErrorMessage".into(), message.into()));
        }
        log::debug!(target: "outbox", "demo channel: {key} {status}", status = status.as_str());
        (self.callback)(form)
    }
}

impl Transport for DemoChannel {
    fn send(&self, to: &ContactRef, content: &Content) -> Result<Sent, SendError> {
        phone_message(content)?;
        let key = format!("SM{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let to = to.address_on(Channel::Twilio);
        let reported = if self.fail_next.swap(false, Ordering::SeqCst) {
            log::info!(target: "outbox", "demo channel: {key} to {to} fails (the failure switch)");
            self.report(
                &key,
                &to,
                MessageStatus::Undelivered,
                Some((FAILED_CODE, FAILED_MESSAGE)),
            )
        } else {
            self.report(&key, &to, MessageStatus::Sent, None)
        };
        if let Err(e) = reported {
            log::warn!(target: "outbox", "demo channel: {key}: {e}");
        }
        Ok(Sent {
            key,
            status: MessageStatus::Queued,
        })
    }
}

/// What a phone shows for `content`, or the refusal Twilio would answer
/// (a Meta template; a template this demo does not have).
pub fn phone_message(content: &Content) -> Result<PhoneMessage, SendError> {
    let refused = |code: &str, message: String| SendError::Rejected {
        channel: Channel::Twilio,
        http_status: 400,
        code: Some(code.into()),
        message,
        verdict: Refused::Final,
    };
    Ok(match content {
        Content::Text { body, media_urls } => PhoneMessage {
            text: body.clone(),
            media: media_urls.clone(),
            choice: None,
        },
        Content::Reply { body, choice } => PhoneMessage {
            text: body.clone(),
            media: Vec::new(),
            choice: choice.clone(),
        },
        Content::Template(template) if template.channel != Channel::Twilio => {
            return Err(super::foreign_template(Channel::Twilio, template))
        }
        Content::Template(template) if template.name == DEMO_ALERT_CONTENT_SID => {
            let text = template
                .variables
                .iter()
                .fold(ALERT_TEMPLATE.to_string(), |text, (n, value)| {
                    text.replace(&format!("{{{{{n}}}}}"), value)
                });
            PhoneMessage {
                text,
                media: Vec::new(),
                choice: None,
            }
        }
        Content::Template(template) => {
            return Err(refused(
                "21655",
                format!(
                "The ContentSid {} is not a template of this demo (it has {DEMO_ALERT_CONTENT_SID}, the staff alert)",
                template.name
            ),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    use crate::message::Template;

    use crate::phone::PhoneNumber;

    /// The status callback forms a channel made.
    type Forms = Arc<Mutex<Vec<Vec<(String, String)>>>>;

    /// A channel whose callbacks are collected.
    fn channel() -> (DemoChannel, Forms) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let callback: StatusCallback = Arc::new(move |form| {
            into.lock().unwrap().push(form);
            Ok(())
        });
        (DemoChannel::new("whatsapp:+14155238886", callback), seen)
    }

    fn param<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
        form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn ava() -> ContactRef {
        ContactRef::phone(PhoneNumber::parse("+27820000001").unwrap())
    }

    fn text(body: &str) -> Content {
        Content::Text {
            body: body.into(),
            media_urls: Vec::new(),
        }
    }

    #[test]
    fn a_message_taken_is_reported_sent_as_a_twilio_callback() {
        let (demo, seen) = channel();
        let sent = demo.send(&ava(), &text("Hi")).unwrap();
        assert!(sent.key.starts_with("SM") && sent.key.len() == 34, "{}", sent.key);
        assert_eq!(sent.status, MessageStatus::Queued);
        let forms = seen.lock().unwrap();
        let event = crate::channel::twilio::status::status_event(&forms[0]).unwrap();
        assert_eq!((event.key.as_str(), event.status.as_str()), (sent.key.as_str(), "sent"));
        assert_eq!(event.to_addr.as_deref(), Some("whatsapp:+27820000001"));
    }

    #[test]
    fn the_failure_switch_fails_the_next_message_only() {
        let (demo, seen) = channel();
        demo.set_fail_next(true);
        demo.send(&ava(), &text("one")).unwrap();
        assert!(!demo.fail_next(), "the switch turns itself off");
        demo.send(&ava(), &text("two")).unwrap();
        let forms = seen.lock().unwrap();
        assert_eq!(param(&forms[0], "MessageStatus"), Some("undelivered"));
        assert_eq!(param(&forms[0], "ErrorCode"), Some(FAILED_CODE));
        assert_eq!(param(&forms[1], "MessageStatus"), Some("sent"));
    }

    #[test]
    fn the_alert_template_is_filled_in_and_other_templates_are_refused() {
        let alert = Content::Template(Template::numbered(
            Channel::Twilio,
            DEMO_ALERT_CONTENT_SID,
            None,
            ["Ava", "+27820000001", "help"].map(String::from),
        ));
        let shown = phone_message(&alert).unwrap().text;
        assert!(
            shown.starts_with("🔔 Ava (+27820000001) asks for a person.\nTheir last message: “help”"),
            "{shown}"
        );
        let (demo, seen) = channel();
        let other = Content::Template(Template::numbered(Channel::Twilio, "HX99", None, []));
        let refused = demo.send(&ava(), &other).unwrap_err();
        assert!(
            matches!(
                refused,
                SendError::Rejected {
                    verdict: Refused::Final,
                    ..
                }
            ),
            "{refused:?}"
        );
        assert!(seen.lock().unwrap().is_empty(), "nothing taken, nothing reported");
    }
}
