//! Twilio's REST API for messages the shop starts: one blocking client (ureq,
//! rustls, connection reuse, timeouts) behind the outbox's
//! [`Transport`], which turns a neutral [`Content`] into Twilio's form and
//! Twilio's answer into a [`Sent`] or a neutral [`SendError`] (its codes
//! classified here: 429/20429 rate limits, 5xx, 63016 outside the window).
//!
//! The form is built as Twilio's official helper libraries build it (see
//! `tests/fixtures/outbound_requests.json`): `To`, `StatusCallback`,
//! `ContentVariables`, `From` or `MessagingServiceSid`, `Body`, repeated
//! `MediaUrl`, `ContentSid`; HTTP Basic auth with an API key or the account SID
//! and auth token.

use base64::Engine as _;
use serde::Deserialize;

use super::content::ContentTemplates;
use super::status::ladder;
use crate::channel::client;
use crate::config::{Config, Secret};
use crate::message::{Channel, ContactRef, Content, MessageStatus, Refused, SendError, Sent, Template};
use crate::outbox::sender::Transport;

/// Who the message comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// `From=whatsapp:+…`.
    From(String),
    /// `MessagingServiceSid=MG…`.
    MessagingService(String),
}

/// The form fields of one message, in the order Twilio's helper libraries
/// send them; a refusal for content that only exists on another channel.
pub fn form(
    to: &str,
    sender: &Sender,
    content: &Content,
    status_callback: Option<&str>,
) -> Result<Vec<(&'static str, String)>, SendError> {
    let mut form = vec![("To", to.to_string())];
    if let Some(url) = status_callback {
        form.push(("StatusCallback", url.to_string()));
    }
    let template = match content {
        Content::Template(template) if template.channel != Channel::Twilio => {
            return Err(crate::channel::foreign_template(Channel::Twilio, template))
        }
        Content::Template(template) => Some(template),
        _ => None,
    };
    if let Some(template) = template.filter(|t| !t.variables.is_empty()) {
        let variables: serde_json::Map<String, serde_json::Value> = template
            .variables
            .iter()
            .map(|(key, value)| (key.clone(), value.as_str().into()))
            .collect();
        form.push(("ContentVariables", serde_json::Value::Object(variables).to_string()));
    }
    form.push(match sender {
        Sender::From(from) => ("From", from.clone()),
        Sender::MessagingService(sid) => ("MessagingServiceSid", sid.clone()),
    });
    match content {
        Content::Text { body, media_urls } => {
            if !body.is_empty() {
                form.push(("Body", body.clone()));
            }
            form.extend(media_urls.iter().map(|url| ("MediaUrl", url.clone())));
        }
        Content::Reply { body, .. } => form.push(("Body", body.clone())),
        Content::Template(template) => form.push(("ContentSid", template.name.clone())),
    }
    Ok(form)
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
struct Created {
    /// `SM…`/`MM…`.
    #[serde(default)]
    sid: String,
    /// Usually `queued` or `accepted`.
    #[serde(default)]
    status: String,
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

/// What a Twilio refusal means for the outbox.
pub fn verdict(http_status: u16, code: Option<u32>) -> Refused {
    if http_status == 429 || code == Some(20429) {
        Refused::RateLimited
    } else if (500..600).contains(&http_status) {
        Refused::ServerError
    } else if code.map(|c| c.to_string()).as_deref() == Some(super::WINDOW_CLOSED_CODE) {
        Refused::WindowClosed
    } else {
        Refused::Final
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
        RestClient {
            agent: client::agent(),
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

    /// Creates the message at Twilio from its form.
    pub fn send(&self, form: &[(&'static str, String)]) -> Result<Sent, SendError> {
        let response = self
            .agent
            .post(&self.messages_url())
            .header("Authorization", &self.authorization())
            .header("Accept", "application/json")
            .send_form(form.iter().map(|(k, v)| (*k, v.as_str())));
        let response = response.map_err(|e| client::classify(Channel::Twilio, e))?;
        let status = response.status().as_u16();
        let body = client::read_body(response, status, Channel::Twilio)?;
        parse_answer(status, &body)
    }

    fn authorization(&self) -> String {
        self.credentials.authorization()
    }
}

/// Turns Twilio's HTTP answer into the outcome. A 2xx whose body names no
/// message (unreadable, or an empty SID) is uncertain: Twilio may have it.
pub fn parse_answer(status: u16, body: &str) -> Result<Sent, SendError> {
    if (200..300).contains(&status) {
        let created: Created = serde_json::from_str(body).map_err(|e| {
            SendError::Unknown(
                Channel::Twilio,
                format!("Twilio answered {status} with an unreadable body ({e})"),
            )
        })?;
        if created.sid.trim().is_empty() {
            return Err(SendError::Unknown(
                Channel::Twilio,
                format!("Twilio answered {status} without a message SID"),
            ));
        }
        return Ok(Sent {
            key: created.sid,
            status: ladder(&created.status.to_ascii_lowercase()).unwrap_or(MessageStatus::Queued),
        });
    }
    let error = serde_json::from_str(body).unwrap_or_else(|_| TwilioError {
        code: None,
        message: body.chars().take(200).collect(),
        more_info: None,
    });
    Err(SendError::Rejected {
        channel: Channel::Twilio,
        http_status: status,
        code: error.code.map(|c| c.to_string()),
        message: error.message,
        verdict: verdict(status, error.code),
    })
}

/// The outbox's way to send through Twilio.
pub struct TwilioTransport {
    client: RestClient,
    sender: Sender,
    status_callback: Option<String>,
    /// With `interactive = "content"`: the menus' templates.
    templates: Option<ContentTemplates>,
}

impl Credentials {
    /// The credentials `config` gives REST calls, or what is missing.
    pub fn from_config(config: &Config) -> Result<Credentials, String> {
        let t = &config.twilio;
        let account_sid = t.account_sid.clone().ok_or("[twilio] account_sid is not set")?;
        let (user, password) = match (&t.api_key_sid, &t.api_key_secret, &t.auth_token) {
            (Some(sid), Some(secret), _) => (sid.clone(), secret.clone()),
            (_, _, Some(token)) => (account_sid.clone(), token.clone()),
            _ => return Err("neither [twilio] api_key_sid/api_key_secret nor an auth token is set".into()),
        };
        Ok(Credentials {
            account_sid,
            user,
            password,
        })
    }

    /// The `Authorization` header: HTTP Basic with the key or the account.
    pub fn authorization(&self) -> String {
        let pair = format!("{}:{}", self.user, self.password.expose());
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
    }
}

impl RestClient {
    /// The client `config`'s credentials make, or what is missing.
    pub fn from_config(config: &Config) -> Result<RestClient, String> {
        Ok(RestClient::new(
            &config.twilio.api_base_url,
            Credentials::from_config(config)?,
        ))
    }

    /// Downloads an inbound message's media for the owner. Twilio's media
    /// needs the account's credentials, so only URLs on the configured REST
    /// API's host are fetched (never an arbitrary URL).
    pub fn fetch_media(&self, url: &str) -> Result<client::Fetched, client::MediaError> {
        let origin = |u: &str| -> Option<String> {
            let uri: ureq::http::Uri = u.parse().ok()?;
            Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?))
        };
        let on_api = matches!((origin(url), origin(&self.base_url)), (Some(a), Some(b)) if a == b);
        if !on_api {
            return Err(client::MediaError::NotAllowed(format!(
                "{url:?} is not on {}",
                self.base_url
            )));
        }
        client::download(&self.agent, Channel::Twilio, url, &self.authorization())
    }
}

impl TwilioTransport {
    /// The transport `config` describes, or what is missing for sending.
    pub fn from_config(config: &Config) -> Result<TwilioTransport, String> {
        let t = &config.twilio;
        let sender = match (&t.messaging_service_sid, &t.whatsapp_from) {
            (Some(mg), _) => Sender::MessagingService(mg.clone()),
            (None, Some(from)) => Sender::From(from.clone()),
            (None, None) => return Err("neither [twilio] whatsapp_from nor messaging_service_sid is set".into()),
        };
        Ok(TwilioTransport {
            client: RestClient::from_config(config)?,
            sender,
            status_callback: config.status_callback_url(),
            templates: None,
        })
    }

    /// Sends menus as the Content API templates `templates` makes.
    pub fn with_templates(self, templates: Option<ContentTemplates>) -> TwilioTransport {
        TwilioTransport { templates, ..self }
    }

    /// A menu as its template, when there are templates and one can be had;
    /// else the content as it is (a menu goes as its numbered text).
    fn as_template(&self, content: &Content) -> Option<Content> {
        let (
            Content::Reply {
                choice: Some(choice), ..
            },
            Some(templates),
        ) = (content, &self.templates)
        else {
            return None;
        };
        match templates.sid_for(choice) {
            Ok(content_sid) => Some(Content::Template(Template::numbered(
                Channel::Twilio,
                &content_sid,
                None,
                [],
            ))),
            Err(e) => {
                log::warn!(target: "outbox", "menu `{}`: the Content API did not make its template ({e}); it goes as numbered text", choice.node);
                None
            }
        }
    }
}

impl Transport for TwilioTransport {
    fn send(&self, to: &ContactRef, content: &Content) -> Result<Sent, SendError> {
        let template = self.as_template(content);
        let form = form(
            &to.address_on(Channel::Twilio),
            &self.sender,
            template.as_ref().unwrap_or(content),
            self.status_callback.as_deref(),
        )?;
        self.client.send(&form)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_success_and_error_bodies() {
        let sent = parse_answer(201, r#"{"sid":"SM123","status":"queued","body":"x"}"#).unwrap();
        assert_eq!((sent.key.as_str(), sent.status), ("SM123", MessageStatus::Queued));
        let err = parse_answer(
            400,
            r#"{"code":21211,"message":"Invalid 'To' Phone Number","more_info":"https://www.twilio.com/docs/errors/21211","status":400}"#,
        )
        .unwrap_err();
        let SendError::Rejected {
            http_status,
            code,
            verdict,
            ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(
            (*http_status, code.as_deref(), *verdict),
            (400, Some("21211"), Refused::Final)
        );
        assert_eq!(
            err.to_string(),
            "twilio answered HTTP 400 code 21211: Invalid 'To' Phone Number"
        );
        let html = parse_answer(502, "<html>Bad gateway</html>").unwrap_err();
        assert!(matches!(
            html,
            SendError::Rejected {
                http_status: 502,
                code: None,
                verdict: Refused::ServerError,
                ..
            }
        ));
    }

    #[test]
    fn twilio_codes_are_classified_here() {
        assert_eq!(verdict(429, None), Refused::RateLimited);
        assert_eq!(verdict(400, Some(20429)), Refused::RateLimited);
        assert_eq!(verdict(503, None), Refused::ServerError);
        assert_eq!(verdict(400, Some(63016)), Refused::WindowClosed);
        assert_eq!(verdict(401, Some(20003)), Refused::Final);
    }

    #[test]
    fn a_created_answer_without_a_sid_is_uncertain() {
        for body in [r#"{"sid":"","status":"queued"}"#, r#"{"status":"queued"}"#] {
            assert!(matches!(parse_answer(201, body), Err(SendError::Unknown(..))), "{body}");
        }
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

    fn text(body: &str) -> Content {
        Content::Text {
            body: body.into(),
            media_urls: Vec::new(),
        }
    }

    #[test]
    fn an_error_status_with_a_cut_off_body_is_still_a_refusal() {
        let form = form(
            "whatsapp:+27821234567",
            &Sender::MessagingService("MG1".into()),
            &text("hi"),
            None,
        )
        .unwrap();
        // The body promises 100 bytes and the connection closes after one.
        let cut = "Content-Length: 100\r\nConnection: close\r\n\r\n{";
        let refused = answering(format!("HTTP/1.1 400 Bad Request\r\n{cut}"));
        let err = refused.send(&form).unwrap_err();
        assert!(matches!(err, SendError::Rejected { http_status: 400, .. }), "{err:?}");
        let created = answering(format!("HTTP/1.1 201 Created\r\n{cut}"));
        let err = created.send(&form).unwrap_err();
        assert!(matches!(err, SendError::Unknown(..)), "{err:?}");
    }

    #[test]
    fn a_template_has_no_body_or_media_and_a_meta_template_is_refused() {
        let sender = Sender::MessagingService("MG1".into());
        let template = Content::Template(Template::numbered(Channel::Twilio, "HX1", None, ["Ava".to_string()]));
        let fields = form("whatsapp:+27821234567", &sender, &template, None).unwrap();
        let keys: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["To", "ContentVariables", "MessagingServiceSid", "ContentSid"]);
        assert_eq!(fields[1].1, r#"{"1":"Ava"}"#);
        let meta = Content::Template(Template::numbered(Channel::Meta, "order_ready", Some("en"), []));
        assert!(matches!(
            form("whatsapp:+27821234567", &sender, &meta, None),
            Err(SendError::Rejected {
                verdict: Refused::Final,
                ..
            })
        ));
    }
}
