//! Twilio's REST API for messages the shop starts: one blocking client (ureq,
//! rustls, connection reuse, timeouts) that sends a message and turns Twilio's
//! answer into a [`Sent`] or a typed [`SendError`].
//!
//! The form is built as Twilio's official helper libraries build it (see
//! `tests/fixtures/outbound_requests.json`): `To`, `StatusCallback`,
//! `ContentVariables`, `From` or `MessagingServiceSid`, `Body`, repeated
//! `MediaUrl`, `ContentSid`; HTTP Basic auth with an API key or the account SID
//! and auth token.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;

use crate::config::Secret;

/// How long one REST call may take, connection included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take (a failure here means nothing was sent).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Who the message comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// `From=whatsapp:+…`.
    From(String),
    /// `MessagingServiceSid=MG…`.
    MessagingService(String),
}

/// What the message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Free-form text and optional media (only inside the 24-hour window).
    Text {
        /// The text.
        body: String,
        /// Public `https` URLs of media to attach.
        media_urls: Vec<String>,
    },
    /// An approved template (allowed outside the window).
    Template {
        /// `HX…`.
        content_sid: String,
        /// Placeholder values by key (`"1"`, `"2"`, …).
        variables: BTreeMap<String, String>,
    },
}

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// `whatsapp:+…`.
    pub to: String,
    /// The shop's number or messaging service.
    pub sender: Sender,
    /// Text or template.
    pub content: Content,
    /// `public_base_url` + status path, when known.
    pub status_callback: Option<String>,
}

impl Outgoing {
    /// The form fields in the order Twilio's helper libraries send them.
    pub fn form(&self) -> Vec<(&'static str, String)> {
        let mut form = vec![("To", self.to.clone())];
        if let Some(url) = &self.status_callback {
            form.push(("StatusCallback", url.clone()));
        }
        if let Content::Template { variables, .. } = &self.content {
            if !variables.is_empty() {
                form.push(("ContentVariables", serde_json::to_string(variables).unwrap_or_default()));
            }
        }
        form.push(match &self.sender {
            Sender::From(from) => ("From", from.clone()),
            Sender::MessagingService(sid) => ("MessagingServiceSid", sid.clone()),
        });
        match &self.content {
            Content::Text { body, media_urls } => {
                if !body.is_empty() {
                    form.push(("Body", body.clone()));
                }
                form.extend(media_urls.iter().map(|url| ("MediaUrl", url.clone())));
            }
            Content::Template { content_sid, .. } => form.push(("ContentSid", content_sid.clone())),
        }
        form
    }
}

/// Credentials for the REST API.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The account the messages belong to (`AC…`), part of the URL.
    pub account_sid: String,
    /// The Basic auth user: an API key SID (`SK…`) or the account SID.
    pub user: String,
    /// The API key secret or the auth token.
    pub password: Secret,
}

/// What Twilio answered to a successful create.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Sent {
    /// `SM…`/`MM…`.
    pub sid: String,
    /// Usually `queued` or `accepted`.
    pub status: String,
}

/// Twilio's JSON error body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TwilioError {
    /// Twilio's error code (`21211`), when given.
    pub code: Option<u32>,
    /// The explanation.
    #[serde(default)]
    pub message: String,
    /// A link to Twilio's documentation of the code.
    pub more_info: Option<String>,
}

/// Why a send did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Twilio answered with an error status.
    #[error("Twilio answered HTTP {http_status}{}: {}", .error.code.map(|c| format!(" code {c}")).unwrap_or_default(), .error.message)]
    Rejected {
        /// The HTTP status.
        http_status: u16,
        /// The parsed body.
        error: TwilioError,
    },
    /// No connection was made: the request certainly did not reach Twilio.
    #[error("could not reach Twilio: {0}")]
    NotSent(String),
    /// The connection failed after the request may have been sent: Twilio may
    /// or may not have the message.
    #[error("no answer from Twilio after sending: {0}")]
    Unknown(String),
}

impl SendError {
    /// Twilio's error code (or `http_NNN` without one, `network` for a transport
    /// failure) and the explanation, as the outbox records them.
    pub fn code_and_message(&self) -> (String, String) {
        match self {
            SendError::Rejected { http_status, error } => (
                error
                    .code
                    .map_or_else(|| format!("http_{http_status}"), |c| c.to_string()),
                error.message.clone(),
            ),
            other => ("network".to_string(), other.to_string()),
        }
    }
}

/// The REST client; one per process, it keeps connections alive.
pub struct RestClient {
    agent: ureq::Agent,
    base_url: String,
    credentials: Credentials,
}

impl RestClient {
    /// A client for `base_url` (scheme and host, e.g. `https://api.twilio.com`).
    pub fn new(base_url: &str, credentials: Credentials) -> RestClient {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(CALL_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .user_agent(concat!("shopbot/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        RestClient {
            agent,
            base_url: base_url.trim_end_matches('/').to_string(),
            credentials,
        }
    }

    /// The Messages resource URL.
    pub fn messages_url(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.base_url, self.credentials.account_sid
        )
    }

    /// Creates the message at Twilio.
    pub fn send(&self, message: &Outgoing) -> Result<Sent, SendError> {
        let form = message.form();
        let response = self
            .agent
            .post(&self.messages_url())
            .header("Authorization", &self.authorization())
            .header("Accept", "application/json")
            .send_form(form.iter().map(|(k, v)| (*k, v.as_str())));
        let mut response = response.map_err(classify)?;
        let status = response.status().as_u16();
        let body = match response.body_mut().with_config().limit(1024 * 1024).read_to_string() {
            Ok(body) => body,
            // Only a 2xx says the message exists, and only its body says which.
            Err(e) if (200..300).contains(&status) => {
                return Err(SendError::Unknown(format!("reading Twilio's answer: {e}")))
            }
            // An error status is an answer in itself (4xx refused, 5xx retried).
            Err(e) => {
                log::warn!(target: "outbox", "Twilio answered HTTP {status}; reading its body failed: {e}");
                String::new()
            }
        };
        parse_answer(status, &body)
    }

    fn authorization(&self) -> String {
        let pair = format!("{}:{}", self.credentials.user, self.credentials.password.expose());
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
    }
}

/// Turns Twilio's HTTP answer into the outcome.
pub fn parse_answer(status: u16, body: &str) -> Result<Sent, SendError> {
    if (200..300).contains(&status) {
        return serde_json::from_str(body)
            .map_err(|e| SendError::Unknown(format!("Twilio answered {status} with an unreadable body ({e})")));
    }
    let error = serde_json::from_str(body).unwrap_or_else(|_| TwilioError {
        code: None,
        message: body.chars().take(200).collect(),
        more_info: None,
    });
    Err(SendError::Rejected {
        http_status: status,
        error,
    })
}

/// Which transport failures happened before anything was sent.
fn classify(e: ureq::Error) -> SendError {
    use ureq::Timeout;
    match e {
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::Timeout(Timeout::Resolve | Timeout::Connect)
        | ureq::Error::Tls(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::BadUri(_) => SendError::NotSent(e.to_string()),
        ureq::Error::Io(ref io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            SendError::NotSent(e.to_string())
        }
        other => SendError::Unknown(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_success_and_error_bodies() {
        let sent = parse_answer(201, r#"{"sid":"SM123","status":"queued","body":"x"}"#).unwrap();
        assert_eq!((sent.sid.as_str(), sent.status.as_str()), ("SM123", "queued"));
        let err = parse_answer(
            400,
            r#"{"code":21211,"message":"Invalid 'To' Phone Number","more_info":"https://www.twilio.com/docs/errors/21211","status":400}"#,
        )
        .unwrap_err();
        let SendError::Rejected { http_status, error } = &err else {
            panic!("{err:?}")
        };
        assert_eq!((*http_status, error.code), (400, Some(21211)));
        assert_eq!(
            err.to_string(),
            "Twilio answered HTTP 400 code 21211: Invalid 'To' Phone Number"
        );
        let html = parse_answer(502, "<html>Bad gateway</html>").unwrap_err();
        assert!(matches!(html, SendError::Rejected { http_status: 502, error } if error.code.is_none()));
    }

    /// A server that answers every connection with `head` and hangs up.
    fn answering(head: String) -> RestClient {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten().take(4) {
                let _ = std::io::Read::read(&mut stream, &mut [0; 4096]);
                let _ = std::io::Write::write_all(&mut stream, head.as_bytes());
            }
        });
        let credentials = Credentials {
            account_sid: "AC1".into(),
            user: "AC1".into(),
            password: crate::config::Secret::new("token"),
        };
        RestClient::new(&url, credentials)
    }

    #[test]
    fn an_error_status_with_a_cut_off_body_is_still_a_refusal() {
        let message = Outgoing {
            to: "whatsapp:+27821234567".into(),
            sender: Sender::MessagingService("MG1".into()),
            content: Content::Text {
                body: "hi".into(),
                media_urls: Vec::new(),
            },
            status_callback: None,
        };
        // The body promises 100 bytes and the connection closes after one.
        let cut = "Content-Length: 100\r\nConnection: close\r\n\r\n{";
        let refused = answering(format!("HTTP/1.1 400 Bad Request\r\n{cut}"));
        let err = refused.send(&message).unwrap_err();
        assert!(matches!(err, SendError::Rejected { http_status: 400, .. }), "{err:?}");
        let created = answering(format!("HTTP/1.1 201 Created\r\n{cut}"));
        let err = created.send(&message).unwrap_err();
        assert!(matches!(err, SendError::Unknown(_)), "{err:?}");
    }

    #[test]
    fn a_template_has_no_body_or_media() {
        let message = Outgoing {
            to: "whatsapp:+27821234567".into(),
            sender: Sender::MessagingService("MG1".into()),
            content: Content::Template {
                content_sid: "HX1".into(),
                variables: [("1".to_string(), "Ava".to_string())].into(),
            },
            status_callback: None,
        };
        let keys: Vec<&str> = message.form().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["To", "ContentVariables", "MessagingServiceSid", "ContentSid"]);
        assert_eq!(message.form()[1].1, r#"{"1":"Ava"}"#);
    }
}
