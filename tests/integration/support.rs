//! Test support: a real shopbot server on 127.0.0.1:0 with a real SQLite file,
//! a real HTTP client, signed requests, and TwiML parsed with an XML parser.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use quick_xml::events::Event;
use quick_xml::Reader;
use shopbot::channel::twilio::signature::{self, Algorithm};
use shopbot::config::Config;
use shopbot::server::{self, Options, Running};
use shopbot::store::Store;

/// The auth token every test server uses.
pub const TOKEN: &str = "test-auth-token";
/// The public base URL every test server uses.
pub const BASE_URL: &str = "https://bot.example.com";
/// The admin API token every test server uses.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// A running server and its files.
pub struct TestServer {
    running: Option<Running>,
    /// `http://127.0.0.1:PORT`.
    pub http: String,
    /// The database file.
    pub db_path: PathBuf,
    /// The temp folder (config, database), removed on drop.
    _dir: tempfile::TempDir,
    config: Config,
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

/// The config text of a test server; `extra` is appended. Unless `extra`
/// names a REST API mock, Twilio's REST API is a local port nothing listens on,
/// so no test ever reaches the real Twilio.
pub fn config_text(db: &Path, extra: &str) -> String {
    let hermetic = if extra.contains("api_base_url") {
        ""
    } else {
        "api_base_url = \"http://127.0.0.1:9\"\n"
    };
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
[admin]
token = "{ADMIN_TOKEN}"
[twilio]
account_sid = "AC00000000000000000000000000000000"
auth_token = "{TOKEN}"
whatsapp_from = "whatsapp:+14155238886"
{hermetic}{extra}
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
        TestServer::start_edited(extra, |text| text.to_string())
    }

    /// A server with `keys` added to its `[server]` table, like
    /// `"request_timeout_secs = 2"`.
    pub fn start_with_server_keys(keys: &str) -> TestServer {
        TestServer::start_edited("", |text| {
            text.replacen(
                "workers = 4
",
                &format!(
                    "workers = 4
{keys}
"
                ),
                1,
            )
        })
    }

    /// A server on a copy of the database file `fixture`.
    pub fn start_on_copy_of(fixture: &Path) -> TestServer {
        TestServer::start_prepared(
            "",
            |text| text.to_string(),
            |db| {
                std::fs::copy(fixture, db).unwrap();
            },
        )
    }

    /// A server whose config text (with `extra` appended) is changed by `edit` first.
    pub fn start_edited(extra: &str, edit: impl Fn(&str) -> String) -> TestServer {
        TestServer::start_prepared(extra, edit, |_| {})
    }

    /// [`TestServer::start_edited`], with `prepare` given the database path first.
    fn start_prepared(extra: &str, edit: impl Fn(&str) -> String, prepare: impl FnOnce(&Path)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("shopbot.db");
        prepare(&db_path);
        let text = edit(&config_text(&db_path, extra));
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, &text).unwrap();
        let config = Config::from_toml(&text, &config_path, &|_| None).unwrap();
        TestServer::from_config(&config, dir, db_path)
    }

    /// A server whose "now" is `clock` (writer, outbox, inbox), with `extra`
    /// appended to the test config.
    pub fn start_with_clock(extra: &str, clock: shopbot::clock::Clock) -> TestServer {
        TestServer::start_with_clock_edited(extra, clock, |text| text.to_string())
    }

    /// [`TestServer::start_with_clock`], the config text passed through
    /// `edit` first (another `[shop] timezone`, …).
    pub fn start_with_clock_edited(
        extra: &str,
        clock: shopbot::clock::Clock,
        edit: impl Fn(&str) -> String,
    ) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let db_path = dir.path().join("shopbot.db");
        let text = edit(&config_text(&db_path, extra));
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, &text).unwrap();
        let config = Config::from_toml(&text, &config_path, &|_| None).unwrap();
        let options = Options {
            clock,
            ..Options::default()
        };
        TestServer::with_options(&config, dir, db_path, options)
    }

    /// A server from a ready config.
    pub fn from_config(config: &Config, dir: tempfile::TempDir, db_path: PathBuf) -> TestServer {
        TestServer::with_options(config, dir, db_path, Options::default())
    }

    fn with_options(config: &Config, dir: tempfile::TempDir, db_path: PathBuf, options: Options) -> TestServer {
        let running = server::start(config, options).unwrap();
        let http = format!("http://{}", running.addr());
        let config = config.clone();
        let agent = agent(Duration::from_secs(20));
        TestServer {
            running: Some(running),
            http,
            db_path,
            _dir: dir,
            config,
            agent,
        }
    }

    /// Stops the server and starts it again on the same database (a new port).
    pub fn restart(&mut self) {
        self.stop();
        let running = server::start(&self.config, Options::default()).unwrap();
        self.http = format!("http://{}", running.addr());
        self.running = Some(running);
    }

    /// Stops the server and starts it again on the same database with its
    /// config file's text changed by `edit` (a new menu, say).
    pub fn restart_edited(&mut self, edit: impl Fn(&str) -> String) {
        self.stop();
        let path = self.config.source.clone();
        let text = edit(&std::fs::read_to_string(&path).unwrap());
        std::fs::write(&path, &text).unwrap();
        self.config = Config::from_toml(&text, &path, &|_| None).unwrap();
        let running = server::start(&self.config, Options::default()).unwrap();
        self.http = format!("http://{}", running.addr());
        self.running = Some(running);
    }

    /// The config file the server was started from.
    pub fn config_path(&self) -> PathBuf {
        self.config.source.clone()
    }

    /// Opens the server's database (a second connection, safe while it runs).
    pub fn store(&self) -> Store {
        Store::open(&self.db_path).unwrap()
    }

    /// GET an admin API path with the admin bearer token; the JSON answer.
    pub fn api_get(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .agent
            .get(&format!("{}{path}", self.http))
            .header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
            .call()
            .unwrap();
        let reply = to_reply(response);
        assert!(reply.content_type.starts_with("application/json"), "{reply:?}");
        (reply.status, serde_json::from_str(&reply.body).unwrap())
    }

    /// POST JSON to an admin API path with the admin bearer token; the JSON answer.
    pub fn api_post(&self, path: &str, json: &serde_json::Value) -> (u16, serde_json::Value) {
        let reply = self.post_json(path, json, Some(ADMIN_TOKEN));
        assert!(reply.content_type.starts_with("application/json"), "{reply:?}");
        (reply.status, serde_json::from_str(&reply.body).unwrap())
    }

    /// POST JSON with an optional bearer token.
    pub fn post_json(&self, path: &str, json: &serde_json::Value, token: Option<&str>) -> Reply {
        let mut request = self
            .agent
            .post(&format!("{}{path}", self.http))
            .header("Content-Type", "application/json");
        if let Some(token) = token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        to_reply(request.send(json.to_string().as_bytes()).unwrap())
    }

    /// Polls `GET /api/messages/{id}` until its outbox state is settled; fails
    /// the test after 20 s.
    pub fn settled(&self, id: i64) -> serde_json::Value {
        let started = std::time::Instant::now();
        loop {
            let (_, message) = self.api_get(&format!("/api/messages/{id}"));
            let state = message["outbox"]["state"].as_str().unwrap_or_default().to_string();
            if ["sent", "failed", "uncertain"].contains(&state.as_str()) {
                return message;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "message {id} did not settle within 20 s: {message}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// GET with any headers.
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.agent.get(&format!("{}{path}", self.http));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        to_reply(request.call().unwrap())
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

    /// POST a raw body with exactly these headers.
    pub fn post_with_headers(&self, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut request = self.agent.post(&format!("{}{target}", self.http));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        to_reply(request.send(body).unwrap())
    }

    /// POST form params to `target`, signed for `BASE_URL` + target.
    pub fn post_signed(&self, target: &str, params: &[(String, String)]) -> Reply {
        post_signed_to(&self.agent, &self.http, target, params).unwrap()
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

/// A client for tests: no error on 4xx/5xx, and a time limit.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .new_agent()
}

/// Twilio's signature of `params` posted to `url`, with the test token.
pub fn sign(url: &str, params: &[(String, String)]) -> String {
    signature::compute(Algorithm::HmacSha1, TOKEN.as_bytes(), url, params)
}

/// POST form params to `http` + `target`, signed as Twilio would for `BASE_URL` + target.
pub fn post_signed_to(
    agent: &ureq::Agent,
    http: &str,
    target: &str,
    params: &[(String, String)],
) -> Result<Reply, ureq::Error> {
    let sig = sign(&format!("{BASE_URL}{target}"), params);
    let body = serde_urlencoded::to_string(params).unwrap();
    let response = agent
        .post(&format!("{http}{target}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Twilio-Signature", &sig)
        .send(body.as_bytes())?;
    Ok(to_reply(response))
}

pub fn to_reply(mut response: ureq::http::Response<ureq::Body>) -> Reply {
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
    pairs(&[
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
    ])
}

/// What a finished command printed, stdout then stderr.
pub fn output_text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `shopbot check` on a test config (with `extra`) written into `dir`, and,
/// when `menu` is given, a `menu.toml` beside it that the config names:
/// the exit code and what it printed.
pub fn check_in(dir: &Path, extra: &str, menu: Option<&str>) -> (Option<i32>, String) {
    let mut extra = extra.to_string();
    if let Some(menu) = menu {
        let path = dir.join("menu.toml");
        std::fs::write(&path, menu).unwrap();
        extra.push_str(&format!(
            "\n[menu]\npath = \"{}\"\n",
            path.display().to_string().replace('\\', "/")
        ));
    }
    let config = dir.join("config.toml");
    std::fs::write(&config, config_text(&dir.join("s.db"), &extra)).unwrap();
    let out = run_to_end(&mut shopbot_command(&["check", "--config", config.to_str().unwrap()]));
    (out.status.code(), output_text(&out))
}

/// Owned form pairs.
pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Environment variables that change what `shopbot` does; a test's child
/// process never inherits them from the developer's shell.
const SHOPBOT_ENV: &[&str] = &[
    "TWILIO_AUTH_TOKEN",
    "SHOPBOT_ADMIN_TOKEN",
    "SHOPBOT_CONFIG",
    "SHOPBOT_LOG",
    "RUST_LOG",
    "META_ACCESS_TOKEN",
    "META_APP_SECRET",
    "META_VERIFY_TOKEN",
];

/// The one way tests run the real binary: `shopbot ARGS` with every variable
/// that would change its behaviour removed (set one back with `.env()`).
pub fn shopbot_command(args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_shopbot"));
    command.args(args);
    for name in SHOPBOT_ENV {
        command.env_remove(name);
    }
    command
}

/// Runs `command` to completion. Under wine (the Windows build's tests), creating
/// a process now and then fails with ERROR_INTERNAL_ERROR (1359) when many run
/// at once; only that failure to start is tried again.
pub fn run_to_end(command: &mut std::process::Command) -> std::process::Output {
    retry_spawn(|| command.output())
}

/// Starts `command` (see [`run_to_end`] on retries).
pub fn start_child(command: &mut std::process::Command) -> std::process::Child {
    retry_spawn(|| command.spawn())
}

fn retry_spawn<T>(mut start: impl FnMut() -> std::io::Result<T>) -> T {
    for _ in 0..4 {
        match start() {
            Ok(started) => return started,
            Err(e) if e.raw_os_error() == Some(1359) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => panic!("cannot start shopbot: {e}"),
        }
    }
    start().expect("cannot start shopbot")
}

/// `shopbot demo` as the command starts it, on a port of its own: the demo
/// config, the demo page and channel, a new database (with the sample
/// orders when `orders`).
pub struct DemoServer {
    running: Option<Running>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The database file.
    pub db: PathBuf,
    _dir: tempfile::TempDir,
}

impl DemoServer {
    pub fn start(orders: bool) -> DemoServer {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("demo.db");
        if orders {
            let mut store = Store::open(&db).unwrap();
            let csv = shopbot::orders::SAMPLE_ORDERS_CSV.as_bytes();
            shopbot::orders::import(&mut store, csv, &jiff::Zoned::now()).unwrap();
        }
        let options = Options {
            demo_page: true,
            ..Options::default()
        };
        let running = server::start(&Config::demo(db.clone(), 0), options).unwrap();
        DemoServer {
            base: format!("http://{}", running.addr()),
            running: Some(running),
            db,
            _dir: dir,
        }
    }

    /// Sets the owner's inbox password (the demo prints a random one).
    pub fn set_password(&self, password: &str) {
        let hash = shopbot::auth::hash_password(password).unwrap();
        Store::open(&self.db)
            .unwrap()
            .write(|db| db.set_owner_password(&hash, jiff::Timestamp::now()))
            .unwrap();
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown();
        }
    }
}
