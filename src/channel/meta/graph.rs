//! Sends through Meta's Graph API: `POST {graph_base_url}/{api_version}/{phone_number_id}/messages`
//! with `Authorization: Bearer <access token>` and a JSON body, and Meta's
//! answer turned into a [`Sent`] or a typed [`SendError`].
//!
//! Request bodies follow the Cloud API's messages reference
//! (<https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages>):
//! `{"messaging_product":"whatsapp","recipient_type":"individual","to":…,"type":…,…}`.
//!
//! Addressing: a contact with a phone number is sent to by `to` (the digits, no
//! `+`); one known only by a business-scoped user id (BSUID) by `recipient`
//! instead, with no `to`. Meta's BSUID changes add `recipient` to the messages
//! API and give `to` precedence when both are present, and recommend phone
//! numbers whenever they are known, so the two are never sent together.
//!
//! Errors (<https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/>):
//! decided on `error.code` and the HTTP status, never on the message text.

use serde_json::{json, Map, Value};

use crate::channel::client;
use crate::config::Secret;
use crate::message::{Channel, ContactRef, Content, MessageStatus, Refused, SendError, Sent, Template};

/// Graph code: more than 24 hours since the customer last wrote (re-engagement).
pub const CODE_WINDOW_CLOSED: i64 = 131047;
/// Graph codes that mean "too many, slow down": 130429 (throughput), 131056
/// (pair rate: too many to one customer), 80007 (WABA rate limit), 4 (app
/// call limit).
pub const CODES_RATE_LIMITED: [i64; 4] = [130429, 131056, 80007, 4];
/// Graph code: the access token has expired or is invalid.
pub const CODE_BAD_TOKEN: i64 = 190;

/// The Graph API client for one sender phone number; one per process, it keeps
/// connections alive. Its `Debug` hides the token.
pub struct GraphClient {
    agent: ureq::Agent,
    base_url: String,
    api_version: String,
    phone_number_id: String,
    access_token: Secret,
}

impl GraphClient {
    /// A client for `graph_base_url` (`https://graph.facebook.com`, or a test
    /// mock), `api_version` (`v25.0`) and the sender's `phone_number_id`.
    pub fn new(graph_base_url: &str, api_version: &str, phone_number_id: &str, access_token: Secret) -> GraphClient {
        GraphClient {
            agent: client::agent(),
            base_url: graph_base_url.trim().trim_end_matches('/').to_string(),
            api_version: api_version.trim().trim_matches('/').to_string(),
            phone_number_id: phone_number_id.trim().to_string(),
            access_token,
        }
    }

    /// Downloads an inbound message's media by its id: Graph gives a short-lived
    /// URL for it, fetched with the same token.
    pub fn fetch_media(&self, id: &str) -> Result<client::Fetched, client::MediaError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(client::MediaError::NotAllowed(format!("{id:?} is not a media id")));
        }
        let bearer = format!("Bearer {}", self.access_token.expose());
        let described = client::download(
            &self.agent,
            Channel::Meta,
            &format!("{}/{}/{id}", self.base_url, self.api_version),
            &bearer,
        )?;
        let about: Value = serde_json::from_slice(&described.bytes)
            .map_err(|e| client::MediaError::Failed(Channel::Meta, format!("Graph's media answer: {e}")))?;
        let url = about["url"]
            .as_str()
            .ok_or_else(|| client::MediaError::Failed(Channel::Meta, "Graph named no URL for the media".into()))?;
        let mut fetched = client::download(&self.agent, Channel::Meta, url, &bearer)?;
        if let Some(mime) = about["mime_type"].as_str() {
            fetched.content_type = mime.to_string();
        }
        Ok(fetched)
    }

    /// `{base}/{version}/{phone_number_id}/messages`.
    pub fn messages_url(&self) -> String {
        format!(
            "{}/{}/{}/messages",
            self.base_url, self.api_version, self.phone_number_id
        )
    }

    /// Sends `content` to `to`: one Graph call per body of [`request_body`]. The
    /// key is the first call's. When a later call fails after an earlier one
    /// went through, the message exists in part, so the outcome is
    /// [`SendError::Unknown`] (held for a person, never resent automatically).
    pub fn send(&self, to: &ContactRef, content: &Content) -> Result<Sent, SendError> {
        let bodies = request_body(to, content)?;
        let mut first: Option<Sent> = None;
        for (i, body) in bodies.iter().enumerate() {
            match (self.post(body), &first) {
                (Ok(sent), None) => first = Some(sent),
                (Ok(_), Some(_)) => {}
                (Err(e), None) => return Err(e),
                (Err(e), Some(sent)) => return Err(partly_sent(sent, i + 1, bodies.len(), &e)),
            }
        }
        first.ok_or_else(|| SendError::Unknown(Channel::Meta, "there was nothing to send".into()))
    }

    /// One Graph call.
    fn post(&self, body: &Value) -> Result<Sent, SendError> {
        let response = self
            .agent
            .post(&self.messages_url())
            .header("Authorization", &format!("Bearer {}", self.access_token.expose()))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .send(body.to_string())
            .map_err(|e| client::classify(Channel::Meta, e))?;
        let status = response.status().as_u16();
        let text = client::read_body(response, status, Channel::Meta)?;
        parse_answer(status, &text)
    }
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("messages_url", &self.messages_url())
            .field("access_token", &self.access_token)
            .finish()
    }
}

/// The error for a later part failing after the first went out.
fn partly_sent(first: &Sent, part: usize, parts: usize, e: &SendError) -> SendError {
    SendError::Unknown(
        Channel::Meta,
        format!(
            "part 1 of {parts} went out as {}, then part {part} failed: {e}",
            first.key
        ),
    )
}

/// The JSON bodies of the Graph calls that send `content` to `to`, in order:
/// one for text or a template, one per image for media (the text as the first
/// image's caption). Content Meta cannot send is refused for good here.
pub fn request_body(to: &ContactRef, content: &Content) -> Result<Vec<Value>, SendError> {
    let (address_key, address) = address(to)?;
    let parts = match content {
        Content::Text { body, media_urls } if media_urls.is_empty() => vec![text(body)?],
        Content::Text { body, media_urls } => images(body, media_urls),
        Content::Reply {
            choice: Some(choice), ..
        } => vec![super::interactive::payload(choice)],
        Content::Reply { body, choice: None } => vec![text(body)?],
        Content::Template(t) if t.channel == Channel::Meta => vec![template(t)],
        Content::Template(t) => return Err(crate::channel::foreign_template(Channel::Meta, t)),
    };
    Ok(parts
        .into_iter()
        .map(|(kind, payload)| envelope(address_key, &address, kind, payload))
        .collect())
}

/// `("to", digits)` for a phone number, else `("recipient", BSUID)`.
fn address(to: &ContactRef) -> Result<(&'static str, String), SendError> {
    if let Some(phone) = &to.phone {
        return Ok(("to", phone.as_str().trim_start_matches('+').to_string()));
    }
    match to.user_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => Ok(("recipient", id.to_string())),
        _ => Err(refused(
            "no_recipient",
            "the contact has neither a phone number nor a user id",
        )),
    }
}

/// One message body around a typed payload.
fn envelope(address_key: &str, address: &str, kind: &str, payload: Value) -> Value {
    let mut body = Map::new();
    body.insert("messaging_product".into(), json!("whatsapp"));
    body.insert("recipient_type".into(), json!("individual"));
    body.insert(address_key.into(), json!(address));
    body.insert("type".into(), json!(kind));
    body.insert(kind.into(), payload);
    Value::Object(body)
}

/// A text payload (links are not previewed); Meta refuses an empty one.
fn text(body: &str) -> Result<(&'static str, Value), SendError> {
    if body.trim().is_empty() {
        return Err(refused("empty_text", "the message has no text and no media"));
    }
    Ok(("text", json!({"body": body, "preview_url": false})))
}

/// One image payload per URL, sent by `link`; the text is the first one's caption.
fn images(body: &str, urls: &[String]) -> Vec<(&'static str, Value)> {
    urls.iter()
        .enumerate()
        .map(|(i, url)| {
            let mut image = json!({"link": url});
            if i == 0 && !body.trim().is_empty() {
                image["caption"] = json!(body);
            }
            ("image", image)
        })
        .collect()
}

/// A template payload: name, language, and the body parameters in order (no
/// `components` when there are none).
fn template(t: &Template) -> (&'static str, Value) {
    let language = t.language.as_deref().unwrap_or_default();
    let mut template = json!({"name": t.name, "language": {"code": language}});
    if !t.variables.is_empty() {
        let parameters: Vec<Value> = t.values().map(|p| json!({"type": "text", "text": p})).collect();
        template["components"] = json!([{"type": "body", "parameters": parameters}]);
    }
    ("template", template)
}

/// A final refusal decided before any call (HTTP status 0: nothing was sent).
fn refused(code: &str, message: &str) -> SendError {
    SendError::Rejected {
        channel: Channel::Meta,
        http_status: 0,
        code: Some(code.to_string()),
        message: message.to_string(),
        verdict: Refused::Final,
    }
}

/// Turns Meta's HTTP answer into the outcome: a 2xx with `messages[0].id` is
/// [`Sent`]; a 2xx without a usable id is [`SendError::Unknown`]; an error
/// status goes through [`classify_error`].
pub fn parse_answer(status: u16, body: &str) -> Result<Sent, SendError> {
    if !(200..300).contains(&status) {
        return Err(classify_error(status, body));
    }
    let unknown = |why: String| SendError::Unknown(Channel::Meta, format!("Meta answered HTTP {status} {why}"));
    let answer: Value = serde_json::from_str(body).map_err(|e| unknown(format!("with an unreadable body ({e})")))?;
    let key = answer
        .pointer("/messages/0/id")
        .and_then(Value::as_str)
        .filter(|key| !key.trim().is_empty())
        .ok_or_else(|| unknown("without a message id".into()))?;
    Ok(Sent {
        key: key.to_string(),
        status: MessageStatus::Sent,
    })
}

/// What a Graph error answer means for the outbox: `131047` the window is
/// closed; `130429`, `131056`, `80007`, `4` or HTTP 429 rate limited; HTTP 5xx
/// Meta's own failure; anything else (including `190`, a bad token, logged with
/// the fix) final. The message keeps Meta's message, details and trace id, or
/// the first 200 characters of a body that is not a Graph error.
pub fn classify_error(http_status: u16, body: &str) -> SendError {
    let (code, message) = graph_error(body);
    if code == Some(CODE_BAD_TOKEN) {
        log::error!(
            target: "outbox",
            "Meta refused the access token (Graph error 190: {message}): it has expired or is invalid, and nothing \
             goes out through Meta until it is replaced. In Meta Business Settings → Users → System users, generate \
             a token for the app with the whatsapp_business_messaging permission (expiry: never), then set \
             [meta] access_token (or env META_ACCESS_TOKEN) and restart shopbot."
        );
    }
    SendError::Rejected {
        channel: Channel::Meta,
        http_status,
        code: code.map(|c| c.to_string()),
        message,
        verdict: verdict(http_status, code),
    }
}

/// The outbox's verdict for an HTTP status and Graph code.
fn verdict(http_status: u16, code: Option<i64>) -> Refused {
    match code {
        Some(CODE_WINDOW_CLOSED) => Refused::WindowClosed,
        Some(c) if CODES_RATE_LIMITED.contains(&c) => Refused::RateLimited,
        _ if http_status == 429 => Refused::RateLimited,
        _ if (500..600).contains(&http_status) => Refused::ServerError,
        _ => Refused::Final,
    }
}

/// `error.code` and a readable message from a Graph error body
/// (`{"error":{"message","type","code","error_data":{"details"},"fbtrace_id"}}`).
fn graph_error(body: &str) -> (Option<i64>, String) {
    let start = || body.chars().take(200).collect::<String>();
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let Some(error) = parsed.as_ref().and_then(|v| v.get("error")).filter(|e| e.is_object()) else {
        return (None, start());
    };
    let code = match error.get("code") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let message = describe(error);
    (code, if message.is_empty() { start() } else { message })
}

/// `message: details (fbtrace_id …)`, leaving out what is missing.
fn describe(error: &Value) -> String {
    let field = |v: Option<&Value>| v.and_then(Value::as_str).map(str::trim).unwrap_or_default().to_string();
    let message = field(error.get("message"));
    let data = error.get("error_data");
    let details = field(data.and_then(|d| d.get("details")).or(data.filter(|d| d.is_string())));
    let mut text = message.clone();
    if !details.is_empty() && details != message {
        text = if text.is_empty() {
            details
        } else {
            format!("{text}: {details}")
        };
    }
    let trace = field(error.get("fbtrace_id"));
    if !trace.is_empty() && !text.is_empty() {
        text.push_str(&format!(" (fbtrace_id {trace})"));
    }
    text
}

#[cfg(test)]
mod tests;

impl crate::outbox::sender::Transport for GraphClient {
    fn send(&self, to: &ContactRef, content: &Content) -> Result<Sent, SendError> {
        GraphClient::send(self, to, content)
    }
}
