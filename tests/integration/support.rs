//! Test support: a real shopbot server on 127.0.0.1:0 with a real SQLite file,
//! a real HTTP client, signed requests, and TwiML parsed with an XML parser.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use quick_xml::events::Event;
use quick_xml::Reader;
use shopbot::config::Config;
use shopbot::server::{self, Options, Running};
use shopbot::twilio::signature::{self, Algorithm};

/// The auth token every test server uses.
pub const TOKEN: &str = "test-auth-token";
/// The public base URL every test server uses.
pub const BASE_URL: &str = "https://bot.example.com";

/// A running server and its files.
pub struct TestServer {
    running: Option<Running>,
    /// `http://127.0.0.1:PORT`.
    pub http: String,
    /// The database file.
    pub db_path: PathBuf,
    /// The temp folder (config, database), removed on drop.
    _dir: tempfile::TempDir,
    agent: ureq::Agent,
}

/// A response, whatever its status.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Reply {
    /// The `<Message>` texts of a TwiML body (panics if it is not TwiML).
    pub fn messages(&self) -> Vec<String> {
        assert_eq!(self.status, 200, "expected 200, got {}: {}", self.status, self.body);
        assert!(
            self.content_type.starts_with("text/xml"),
            "content type {}",
            self.content_type
        );
        parse_twiml(&self.body)
    }

    /// All `<Message>` texts joined with a blank line.
    pub fn text(&self) -> String {
        self.messages().join("\n\n")
    }
}

/// Parses TwiML with a real XML parser: root `<Response>`, `<Message>` children.
pub fn parse_twiml(xml: &str) -> Vec<String> {
    let mut reader = Reader::from_str(xml);
    let mut messages = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.name().as_ref().to_string();
                if stack.is_empty() {
                    assert_eq!(name, "Response", "root element in {xml}");
                }
                if name == "Message" {
                    messages.push(String::new());
                }
                stack.push(name);
            }
            Ok(Event::Empty(e)) => {
                let name = e.name().as_ref().to_string();
                if stack.is_empty() {
                    assert_eq!(name, "Response", "root element in {xml}");
                }
            }
            Ok(Event::Text(t)) => {
                if stack.last().map(String::as_str) == Some("Message") {
                    let text = t.xml10_content();
                    messages.last_mut().unwrap().push_str(&text);
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if stack.last().map(String::as_str) == Some("Message") {
                    let resolved = match r.resolve_char_ref().expect("valid char ref") {
                        Some(c) => c.to_string(),
                        None => {
                            let name = r.into_inner();
                            quick_xml::escape::resolve_xml_entity(&name)
                                .unwrap_or_else(|| panic!("unknown entity &{name}; in {xml}"))
                                .to_string()
                        }
                    };
                    messages.last_mut().unwrap().push_str(&resolved);
                }
            }
            Ok(Event::End(_)) => {
                stack.pop();
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("invalid XML ({e}): {xml}"),
        }
    }
    assert!(stack.is_empty(), "unclosed elements in {xml}");
    messages
}

static SIDS: AtomicU64 = AtomicU64::new(1);

/// A fresh `SM…` MessageSid.
pub fn new_sid() -> String {
    let n = SIDS.fetch_add(1, Ordering::Relaxed);
    format!("SM{:016x}{:016x}", std::process::id(), n)
}

/// The config text of a test server; `extra` is appended.
pub fn config_text(db: &Path, extra: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
public_base_url = "{BASE_URL}"
workers = 4
[database]
path = "{}"
[shop]
name = "Test Shop"
timezone = "Africa/Johannesburg"
[twilio]
account_sid = "AC00000000000000000000000000000000"
auth_token = "{TOKEN}"
whatsapp_from = "whatsapp:+14155238886"
{extra}
"#,
        db.display().to_string().replace('\\', "/")
    )
}

impl TestServer {
    /// A server with the default test config.
    pub fn start() -> TestServer {
        TestServer::start_with("")
    }

    /// A server whose config has `extra` appended (more `[twilio]` keys, or
    /// further tables).
    pub fn start_with(extra: &str) -> TestServer {
        TestServer::start_with_text(|db_path| config_text(db_path, extra))
    }

    /// A server with `keys` added to its `[server]` table, like
    /// `"request_timeout_secs = 2"`.
    pub fn start_with_server_keys(keys: &str) -> TestServer {
        TestServer::start_with_text(|db_path| {
            config_text(db_path, "").replacen("workers = 4\n", &format!("workers = 4\n{keys}\n"), 1)
        })
    }

    fn start_with_text(text: impl FnOnce(&Path) -> String) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("shopbot.db");
        let text = text(&db_path);
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, &text).unwrap();
        let config = Config::from_toml(&text, &config_path, &|_| None).unwrap();
        TestServer::from_config(&config, dir, db_path)
    }

    /// A server from a ready config.
    pub fn from_config(config: &Config, dir: tempfile::TempDir, db_path: PathBuf) -> TestServer {
        let running = server::start(config, Options::default()).unwrap();
        let http = format!("http://{}", running.addr());
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .new_agent();
        TestServer {
            running: Some(running),
            http,
            db_path,
            _dir: dir,
            agent,
        }
    }

    /// `127.0.0.1:PORT`, for raw TCP clients.
    pub fn addr(&self) -> String {
        self.http.trim_start_matches("http://").to_string()
    }

    /// GET a path.
    pub fn get(&self, path: &str) -> Reply {
        let response = self.agent.get(&format!("{}{path}", self.http)).call().unwrap();
        to_reply(response)
    }

    /// POST a raw body with headers.
    pub fn post(&self, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut request = self
            .agent
            .post(&format!("{}{target}", self.http))
            .header("Content-Type", "application/x-www-form-urlencoded");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        to_reply(request.send(body).unwrap())
    }

    /// POST form params to `target`, signed for `BASE_URL` + target.
    pub fn post_signed(&self, target: &str, params: &[(String, String)]) -> Reply {
        let url = format!("{BASE_URL}{target}");
        let sig = signature::compute(Algorithm::HmacSha1, TOKEN.as_bytes(), &url, params);
        let body = serde_urlencoded::to_string(params).unwrap();
        self.post(target, &[("X-Twilio-Signature", &sig)], body.as_bytes())
    }

    /// A customer's WhatsApp message, signed, with a fresh MessageSid.
    pub fn say(&self, from: &str, body: &str) -> Reply {
        self.post_signed("/twilio/inbound", &whatsapp_params(&new_sid(), from, body))
    }

    /// Stops the server (finishing requests in flight).
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn to_reply(mut response: ureq::http::Response<ureq::Body>) -> Reply {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Reply {
        status,
        content_type,
        body,
    }
}

/// The parameters Twilio sends for an inbound WhatsApp text message.
pub fn whatsapp_params(sid: &str, from: &str, body: &str) -> Vec<(String, String)> {
    let wa_id = from.trim_start_matches('+');
    [
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("ProfileName", "Thandi"),
        ("MessageType", "text"),
        ("SmsSid", sid),
        ("WaId", wa_id),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", "whatsapp:+14155238886"),
        ("NumSegments", "1"),
        ("ReferralNumMedia", "0"),
        ("MessageSid", sid),
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("From", &format!("whatsapp:{from}")),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}
