//! A mock of Twilio's REST API for tests: a real HTTP server on loopback that
//! records every request and answers from a script (then `201` with a new
//! SID). It is the Content API too: a `POST /v1/Content` (JSON) is answered
//! `201` with a new `HX…` SID.

use std::time::Duration;

use base64::Engine as _;

use crate::mock_server::{Answer, MockServer, RawRequest};

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub content_type: String,
    /// The user of the Basic `Authorization` header.
    pub basic_user: String,
    pub basic_password: String,
    /// The form body, in order (empty for a JSON body).
    pub form: Vec<(String, String)>,
    /// A JSON body (the Content API's), else `Null`.
    pub json: serde_json::Value,
}

impl Recorded {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// The running mock; its `url` is the `api_base_url` to configure.
pub type MockTwilio = MockServer<Recorded>;

impl MockServer<Recorded> {
    /// Starts a Twilio REST API mock.
    pub fn start() -> MockTwilio {
        MockServer::start_with(record, created)
    }

    /// The next request gets this answer.
    pub fn then(&self, status: u16, body: &str) -> &MockTwilio {
        self.push_answer(status, body, Duration::ZERO)
    }

    /// The next request gets this answer after `delay`.
    pub fn then_after(&self, status: u16, body: &str, delay: Duration) -> &MockTwilio {
        self.push_answer(status, body, delay)
    }
}

fn record(raw: &RawRequest) -> Recorded {
    let (basic_user, basic_password) = basic(&raw.header("Authorization"));
    Recorded {
        method: raw.method.clone(),
        path: raw.path.clone(),
        content_type: raw.header("Content-Type"),
        basic_user,
        basic_password,
        form: if raw.header("Content-Type").contains("json") || raw.body.is_empty() {
            Vec::new()
        } else {
            serde_urlencoded::from_str(&raw.body).expect("the request body is a form")
        },
        json: serde_json::from_str(&raw.body).unwrap_or(serde_json::Value::Null),
    }
}

/// Twilio's `201` for a created message (or Content API template), with a new SID.
fn created(request: &Recorded, n: usize) -> Answer {
    let body = if request.path.starts_with("/v1/Content") {
        format!(r#"{{"sid":"HX{n:032}","friendly_name":"t","language":"en","types":{{}}}}"#)
    } else {
        format!(r#"{{"sid":"SM{n:032}","status":"queued","error_code":null}}"#)
    };
    Answer {
        status: 201,
        body,
        delay: Duration::ZERO,
    }
}

fn basic(header: &str) -> (String, String) {
    let decoded = header
        .strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let (user, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
    (user.to_string(), password.to_string())
}
