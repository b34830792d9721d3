//! Fuzz-target bodies: one function per parser that takes outside bytes, each
//! taking `&[u8]`, running the real public parser and asserting what must hold
//! for any input (a failed assertion is a bug, as a panic inside the parser is).
//!
//! The cargo-fuzz package in `fuzz/` calls these (one target each), and the
//! integration test `fuzz_corpus` replays every committed input under
//! `fuzz/seeds/<target>/`, `fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/` through them, so `cargo test` keeps every
//! input the fuzzer found interesting or crashing. [`TARGETS`] names each
//! target's directory and function.
//!
//! Not a stable API: hidden from the docs, there for `fuzz/` and the tests.

use std::cell::RefCell;
use std::path::Path;
use std::sync::OnceLock;

use jiff::Timestamp;

use crate::channel::meta;
use crate::channel::twilio::signature::{self, Algorithm, SignatureSettings};
use crate::channel::twilio::verifier::{SignedRequest, WebhookVerifier};
use crate::channel::twilio::{status, webhook};
use crate::config::{Config, ConfigError, Purpose, Secret};
use crate::engine::{self, Menu, Session};
use crate::http::api::send::{self as outbound, BodyError, SendRoute};
use crate::http::multipart;
use crate::message::{Channel, Content};
use crate::orders::{self, ImportError};
use crate::phone::PhoneNumber;
use crate::store::{Db, Store, StoreError};
use crate::urlencoded::{self, FormPair};

/// A target's body: one input in, a panic for a bug.
pub type Target = fn(&[u8]);

/// Every target: its name (the cargo-fuzz target, and its directory under
/// `fuzz/seeds/`, `fuzz/corpus/` and `fuzz/regressions/`) and its body.
pub const TARGETS: &[(&str, Target)] = &[
    ("twilio_form", twilio_form),
    ("twilio_signature", twilio_signature),
    ("meta_webhook", meta_webhook),
    ("menu_toml", menu_toml),
    ("config_toml", config_toml),
    ("orders_csv", orders_csv),
    ("admin_json", admin_json),
    ("multipart", multipart),
    #[cfg(unix)]
    ("http_head", http_head),
];

/// The clock the targets that need one read: fixed, so every run is the same.
fn now() -> Timestamp {
    Timestamp::from_second(1_750_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A form (Twilio's inbound-message and status-callback webhooks, and every
/// query string): a form that parses re-encodes and re-parses to the same
/// pairs; the inbound and status readers take whatever it gives.
pub fn twilio_form(data: &[u8]) {
    let parsed = urlencoded::parse(data);
    assert_eq!(
        parsed.clone().map_err(|e| e.0),
        webhook::parse_form(data).map_err(|e| match e {
            webhook::WebhookError::Malformed(reason) => reason,
            other => panic!("parse_form gave {other:?}"),
        }),
        "parse_form is urlencoded::parse"
    );
    let Ok(params) = parsed else { return };
    let encoded = encode_form(&params);
    assert_eq!(
        urlencoded::parse(encoded.as_bytes()).as_ref(),
        Ok(&params),
        "{encoded:?} re-parses differently"
    );
    if let Ok(inbound) = webhook::inbound(&params) {
        assert_eq!(inbound.channel, Channel::Twilio);
        assert!(
            !inbound.key.trim().is_empty(),
            "an inbound message without a MessageSid"
        );
        assert!(
            inbound.from.phone.is_some() || inbound.from.user_id.is_some(),
            "an inbound message from nobody: {inbound:?}"
        );
    }
    if let Ok(event) = status::status_event(&params) {
        assert!(!event.key.is_empty() && !event.status.as_str().is_empty(), "{event:?}");
    }
}

/// `application/x-www-form-urlencoded` as browsers and Twilio write it.
fn encode_form(params: &[impl FormPair]) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'*').remove(b'-').remove(b'.').remove(b'_');
    let encode = |text: &str| utf8_percent_encode(text, KEEP).to_string();
    params
        .iter()
        .map(|pair| format!("{}={}", encode(pair.name()), encode(pair.value())))
        .collect::<Vec<_>>()
        .join("&")
}

/// The auth token and SharedKey the signature target's verifiers know.
const AUTH_TOKEN: &str = "12345";
const SHARED_KEY_ID: &str = "k1";
const SHARED_KEY: &str = "shared-secret";

/// Two verifiers as `serve` builds them: with `public_base_url`, and without
/// one (the URL from the `Host` header).
fn verifiers() -> &'static [WebhookVerifier; 2] {
    static VERIFIERS: OnceLock<[WebhookVerifier; 2]> = OnceLock::new();
    VERIFIERS.get_or_init(|| {
        let mut config = Config::demo("fuzz.db".into(), 8080);
        config.webhooks.validate_signatures = true;
        config.twilio.auth_token = Some(Secret::new(AUTH_TOKEN));
        config
            .twilio
            .webhook_shared_keys
            .insert(SHARED_KEY_ID.into(), Secret::new(SHARED_KEY));
        let without_base = WebhookVerifier::from_config(&config);
        config.server.public_base_url = Some("https://bot.example.com".into());
        [WebhookVerifier::from_config(&config), without_base]
    })
}

/// A signed Twilio request: the lines of `data` are the request target, the
/// `Host`, `X-Twilio-Signature` and `X-Twilio-Webhooks-Signature-Settings`
/// headers (an empty line: no header), then the form body. Checking never
/// panics, and the signature Twilio would send for the request is accepted.
pub fn twilio_signature(data: &[u8]) {
    let mut fields = data.splitn(5, |&b| b == b'\n');
    let mut field = || fields.next().map(String::from_utf8_lossy).filter(|s| !s.is_empty());
    let (target, host, given, settings) = (field(), field(), field(), field());
    let target = target.as_deref().unwrap_or("/twilio/inbound");
    let body = fields.next().unwrap_or_default();
    let params = urlencoded::parse(body).unwrap_or_default();
    let (host, settings) = (host.as_deref(), settings.as_deref());
    for verifier in verifiers() {
        let request = SignedRequest {
            target,
            host,
            signature: given.as_deref(),
            settings,
            params: &params,
        };
        // Whatever the fuzzer wrote as a signature, checking it must not panic.
        let _ = verifier.check(request);
    }
    // Twilio signs the URL it requested; a request target (origin-form, as a
    // server receives it) starts with `/`.
    if !target.starts_with('/') {
        return;
    }
    let url = format!("https://bot.example.com{target}");
    let key = match settings
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(SignatureSettings::parse)
    {
        None => Some((Algorithm::HmacSha1, AUTH_TOKEN)),
        Some(SignatureSettings {
            key: Some(id),
            algorithm: Ok(algorithm),
        }) if id == SHARED_KEY_ID => Some((algorithm, SHARED_KEY)),
        Some(_) => None,
    };
    if let Some((algorithm, key)) = key {
        let twilio_would_send = signature::compute(algorithm, key.as_bytes(), &url, &params);
        let request = SignedRequest {
            target,
            host,
            signature: Some(&twilio_would_send),
            settings,
            params: &params,
        };
        assert_eq!(
            verifiers()[0].check(request).map_err(|r| r.reason),
            Ok(()),
            "Twilio's own signature for {url:?} is refused"
        );
    }
    let variants = signature::url_variants(&url);
    for variant in &variants {
        assert_eq!(
            signature::url_variants(variant)[1],
            variants[1],
            "removing the port from {variant:?} (a variant of {url:?})"
        );
    }
}

/// Meta's JSON webhook: parsing never panics, what it reads is usable, and
/// the body's own `X-Hub-Signature-256` verifies (and not for a changed body).
pub fn meta_webhook(data: &[u8]) {
    const SECRET: &str = "app-secret";
    let header = meta::signature::sign(SECRET, data);
    assert_eq!(meta::signature::verify(SECRET, Some(&header), data), Ok(()));
    let mut changed = data.to_vec();
    changed.push(b' ');
    assert_eq!(
        meta::signature::verify(SECRET, Some(&header), &changed),
        Err(meta::signature::SignatureError::Mismatch)
    );
    let Ok(batch) = meta::webhook::parse(data) else { return };
    for inbound in &batch.inbound {
        assert_eq!(inbound.channel, Channel::Meta);
        assert!(!inbound.key.is_empty(), "a message without an id: {inbound:?}");
        assert!(
            inbound.from.phone.is_some() || inbound.from.user_id.is_some(),
            "a message from nobody: {inbound:?}"
        );
    }
    for event in &batch.statuses {
        assert_eq!(event.channel, Channel::Meta);
        assert!(!event.key.is_empty(), "a status without an id: {event:?}");
    }
}

/// The customer's side of a conversation the menu target walks a valid menu with.
const WALK: &[&str] = &[
    "hi",
    "1",
    "1",
    "A1001",
    "2",
    "+27820000001",
    "x",
    "3",
    "cancel",
    "9",
    "0",
    "menu",
    "2",
    "y",
    "photo",
    "4",
    "5",
];

/// A menu file: parsing and validation never panic, a menu valid for both
/// channels is valid for Twilio alone (fewer limits refuse no more), and the
/// engine can walk a valid menu.
pub fn menu_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let both = Menu::from_toml(text, &[Channel::Twilio.text_limit(), Channel::Meta.text_limit()]);
    let twilio = Menu::from_toml(text, &[Channel::Twilio.text_limit()]);
    let Ok(menu) = both else { return };
    assert!(twilio.is_ok(), "valid for both channels but not for Twilio: {twilio:?}");
    let mut session: Option<Session> = None;
    let mut at = now();
    for (i, said) in WALK.iter().enumerate() {
        let mut input = engine::Inbound::text(said);
        input.known_order = i % 3 == 0;
        let step = engine::step(&menu, session.as_ref(), input, at);
        session = Some(Session {
            state: step.state,
            updated_at: at,
        });
        at = at.checked_add(jiff::SignedDuration::from_secs(30)).unwrap_or(at);
    }
}

/// A config file: validation never panics, an error names the file, and what
/// is valid for `serve` is valid for the offline commands.
pub fn config_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // `[menu] path` reads another file: the menu target fuzzes menus, and a
    // path the fuzzer makes up (/dev/zero, a FIFO) reads forever.
    let menu_path = text
        .parse::<toml::Table>()
        .ok()
        .and_then(|table| table.get("menu")?.as_table()?.get("path").cloned());
    if menu_path.is_some() {
        return;
    }
    let path = Path::new("/nonexistent/shopbot-fuzz/config.toml");
    let env = |_: &str| None;
    let serve = Config::parse_for(text, path, &env, Purpose::Serve);
    let offline = Config::parse_for(text, path, &env, Purpose::Offline);
    for result in [&serve, &offline] {
        if let Err(error) = result {
            let shown = error.to_string();
            assert!(
                shown.contains("/nonexistent/shopbot-fuzz/config.toml"),
                "an error that does not name the file: {shown}"
            );
            if let ConfigError::Invalid { problems, menu, .. } = error {
                assert!(!problems.is_empty() || menu.is_some(), "Invalid with no problem");
            }
        }
    }
    if serve.is_ok() {
        assert!(offline.is_ok(), "valid for serve, not offline: {:?}", offline.err());
    }
}

/// An orders CSV: the import never panics, counts every row once, stores
/// only numbers a customer can type to look the order up, and importing the
/// same file again changes nothing.
///
/// One in-memory store per thread (opening one runs every migration, which
/// took longer than the import), each input in one transaction that is rolled
/// back: every input starts from the same empty store.
pub fn orders_csv(data: &[u8]) {
    thread_local! {
        static STORE: RefCell<Option<Store>> = const { RefCell::new(None) };
    }
    STORE.with_borrow_mut(|slot| {
        let store = slot.get_or_insert_with(|| match Store::open_in_memory() {
            Ok(store) => store,
            Err(e) => panic!("an in-memory store cannot be opened: {e}"),
        });
        match store.write(|db| -> Result<(), Rollback> {
            import_twice(db, data);
            Err(Rollback::Done)
        }) {
            Err(Rollback::Done) => {}
            Err(Rollback::Store(e)) => panic!("the store failed: {e}"),
            Ok(()) => unreachable!("the import's transaction is always rolled back"),
        }
    });
}

/// Ends the orders target's transaction without committing it.
enum Rollback {
    Done,
    Store(StoreError),
}

impl From<StoreError> for Rollback {
    fn from(e: StoreError) -> Rollback {
        Rollback::Store(e)
    }
}

fn import_twice(db: &Db<'_>, data: &[u8]) {
    let first = match orders::import_into(db, data, &now().to_zoned(jiff::tz::TimeZone::UTC)) {
        Ok(report) => report,
        Err(ImportError::Store(e)) => panic!("the store failed: {e}"),
        Err(_) => return,
    };
    let lines = data.split(|&b| b == b'\n' || b == b'\r').count() as u64;
    for rejected in &first.rejected {
        assert!(
            rejected.line <= lines + 1,
            "line {} of {lines}: {rejected:?}",
            rejected.line
        );
        assert!(!rejected.reason.is_empty());
    }
    assert_eq!(
        first.updated + first.unchanged,
        0,
        "an empty store had orders to update: {first:?}"
    );
    let Ok((count, stored)) = db.orders("", usize::MAX) else {
        panic!("the imported orders cannot be read")
    };
    assert_eq!(count, first.added, "{first:?}");
    for order in &stored {
        let number = order.number.as_str();
        assert!(
            !number.is_empty()
                && engine::order_number(number) == number
                && number.chars().count() <= orders::MAX_NUMBER_CHARS,
            "stored order number {number:?}"
        );
        assert!(!order.status.is_empty() && order.status.chars().count() <= orders::MAX_STATUS_CHARS);
        if let Some(phone) = &order.phone {
            assert!(PhoneNumber::parse(phone).is_ok(), "stored phone {phone:?}");
        }
    }
    let again = orders::import_into(db, data, &now().to_zoned(jiff::tz::TimeZone::UTC));
    let Ok(again) = again else {
        panic!("the second import of an importable file failed: {:?}", again.err())
    };
    assert_eq!(again.added + again.updated, 0, "a re-import changed orders: {again:?}");
    assert_eq!(again.unchanged, first.added, "{first:?} then {again:?}");
    assert_eq!(again.rejected, first.rejected);
}

/// The admin API's JSON bodies: each of the four send routes reads the body
/// without panicking, and what it accepts is a message that can be sent.
pub fn admin_json(data: &[u8]) {
    for route in [
        SendRoute::Text,
        SendRoute::Template,
        SendRoute::FlowChatSend,
        SendRoute::FlowChatTemplate,
    ] {
        let message = match outbound::read_body(route, data) {
            Ok(message) => message,
            Err(BodyError::Field(e)) => {
                assert!(!e.reason.is_empty(), "{route:?}: a field error without a reason");
                continue;
            }
            Err(BodyError::Json(_)) => continue,
        };
        let to = message.to.phone.as_ref().map(PhoneNumber::as_str);
        assert!(
            to.is_some_and(|to| PhoneNumber::parse(to).is_ok()) || message.to.user_id.is_some(),
            "{route:?}: accepted a message to nobody: {message:?}"
        );
        match &message.content {
            Content::Text { body, media_urls } => {
                assert!(!body.trim().is_empty() || !media_urls.is_empty(), "{message:?}");
                assert!(
                    Channel::Meta.text_limit().fits(body),
                    "{route:?}: accepted a body too long"
                );
            }
            Content::Template(t) if t.channel == Channel::Twilio => assert!(t.name.starts_with("HX")),
            Content::Template(t) => assert!(!t.name.is_empty() && t.language.is_some()),
            Content::Reply { .. } => panic!("{route:?}: an API request became a reply"),
        }
    }
}

/// `multipart/form-data` (the orders upload): the first line of `data` is the
/// `Content-Type`, the rest the body. Parsing never panics, and every part is
/// a piece of the body.
pub fn multipart(data: &[u8]) {
    let (content_type, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let content_type = String::from_utf8_lossy(content_type);
    let Ok(parts) = multipart::parse(&content_type, body) else {
        return;
    };
    assert!(multipart::boundary(&content_type).is_some());
    let whole = body.as_ptr_range();
    for part in &parts {
        let range = part.body.as_ptr_range();
        assert!(
            whole.start <= range.start && range.end <= whole.end,
            "a part that is not in the body"
        );
    }
}

/// The longest input [`http_head`] reads (it must fit a socket's buffer).
#[cfg(unix)]
pub const HTTP_HEAD_MAX_INPUT: usize = 32 * 1024;

/// What a client sends on one connection, read by the vendored tiny_http
/// exactly as the server reads it (with shopbot's limits): whatever comes
/// through is one reading of each request (RFC 9112 §6): at most one
/// `Content-Length`, never with `Transfer-Encoding`, a body of exactly the
/// declared length, header lines without CR, LF or NUL, and no more bytes
/// read back than were sent.
#[cfg(unix)]
pub fn http_head(data: &[u8]) {
    let data = &data[..data.len().min(HTTP_HEAD_MAX_INPUT)];
    // The server's head limits; a small read-ahead, so bodies are read both
    // ahead (by the connection) and after (by the handler).
    let limits = tiny_http::Limits {
        read_timeout: Some(std::time::Duration::from_secs(1)),
        request_timeout: Some(std::time::Duration::from_secs(1)),
        max_header_line: Some(crate::http::MAX_HEADER_LINE_BYTES),
        max_header_bytes: Some(crate::http::MAX_HEADER_BYTES),
        max_headers: Some(crate::http::MAX_HEADERS),
        buffer_body_up_to: Some(1024),
        ..tiny_http::Limits::default()
    };
    let Ok(requests) = tiny_http::fuzz::read_requests(data, limits) else {
        return;
    };
    let mut bytes_read = 0;
    for request in &requests {
        assert!(!request.method.is_empty() && !request.url.is_empty(), "{request:?}");
        assert!(
            !request.url.contains(|c: char| c.is_whitespace() || c.is_control()),
            "{request:?}"
        );
        let named = |name: &str| {
            request
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .count()
        };
        assert!(named("Content-Length") <= 1, "two Content-Lengths read: {request:?}");
        assert!(
            named("Content-Length") == 0 || named("Transfer-Encoding") == 0,
            "Content-Length with Transfer-Encoding read: {request:?}"
        );
        for (name, value) in &request.headers {
            assert!(!name.is_empty(), "{request:?}");
            assert!(!format!("{name}{value}").contains(['\r', '\n', '\0']), "{request:?}");
        }
        if let Ok(body) = &request.body {
            if named("Content-Length") == 1 {
                assert_eq!(Some(body.len()), request.body_length, "{request:?}");
            }
            bytes_read += body.len() + request.url.len() + request.method.len();
        }
    }
    assert!(
        bytes_read <= data.len(),
        "{bytes_read} bytes read back from {} sent",
        data.len()
    );
}
