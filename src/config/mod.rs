//! The configuration file: parsed as TOML, its unknown keys and values of the
//! wrong kind set aside as problems ([`keys`]), the rest read raw and validated
//! into typed values ([`SocketAddr`], [`TimeZone`], [`PathBuf`], a loaded
//! [`Menu`]) so the rest of the code never sees a string it must re-check.
//! Every problem is reported at once: the config's, then its menu file's.
//!
//! Reading the file is kept apart from parsing it ([`Config::from_toml`] takes the
//! text, the file's path for messages, and the environment as a lookup function)
//! so tests parse strings. Secrets may come from the environment
//! (`TWILIO_AUTH_TOKEN`, `SHOPBOT_ADMIN_TOKEN`, `META_ACCESS_TOKEN`,
//! `META_APP_SECRET`, `META_VERIFY_TOKEN`); the environment wins. Every error
//! names the file, the key and the fix.

mod keys;
mod raw;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::tz::TimeZone;

use crate::engine::{Menu, MenuError, Menus, OptKeywords};
use crate::message::{Channel, ChoiceLimits, Template};
use crate::phone::PhoneNumber;

/// Env var for the Twilio auth token.
pub const ENV_AUTH_TOKEN: &str = "TWILIO_AUTH_TOKEN";
/// Env var for the admin API token.
pub const ENV_ADMIN_TOKEN: &str = "SHOPBOT_ADMIN_TOKEN";
/// Env var for Meta's Graph API access token.
pub const ENV_META_ACCESS_TOKEN: &str = "META_ACCESS_TOKEN";
/// Env var for the Meta app secret (signs Meta's webhooks).
pub const ENV_META_APP_SECRET: &str = "META_APP_SECRET";
/// Env var for the verify token of Meta's webhook verification.
pub const ENV_META_VERIFY_TOKEN: &str = "META_VERIFY_TOKEN";

/// The demo shop's owner's phone: its `[staff]` number (the "owner's phone"
/// pane of the demo page).
pub const DEMO_OWNER_PHONE: &str = "+27820000099";
/// The demo's staff alert template (`[staff] alert_content_sid`): the demo
/// channel knows its text, as Twilio's Content API knows an approved template's.
pub const DEMO_ALERT_CONTENT_SID: &str = "HX00000000000000000000000000000001";

/// A secret: never printed, not even by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is this secret, compared in constant time (SHA-256
    /// of both sides first, so not even the length leaks).
    pub fn matches(&self, presented: &str) -> bool {
        use sha2::{Digest, Sha256};
        use subtle::ConstantTimeEq;
        let digest = |text: &str| -> [u8; 32] { Sha256::digest(text.as_bytes()).into() };
        digest(presented).ct_eq(&digest(&self.0)).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from (for messages), or a description like `built-in demo`.
    pub source: PathBuf,
    /// The secret keys the file itself holds (not from the environment).
    pub secrets_in_file: Vec<&'static str>,
    /// `[server]`.
    pub server: Server,
    /// `[database] path`, resolved against the config file's folder.
    pub database_path: PathBuf,
    /// `[shop]`.
    pub shop: Shop,
    /// `[twilio]`.
    pub twilio: Twilio,
    /// `[meta]`, when the shop uses Meta's Cloud API.
    pub meta: Option<Meta>,
    /// `[webhooks]`.
    pub webhooks: Webhooks,
    /// `[opt]`.
    pub opt: OptKeywords,
    /// `[admin] token` (or `SHOPBOT_ADMIN_TOKEN`).
    pub admin_token: Option<Secret>,
    /// `[staff]`, if present.
    pub staff: Option<Staff>,
    /// `[notify]`, when `order_status` or `submission_status` is true.
    pub notify: Option<Notify>,
    /// `[hours]`; `None`: always open.
    pub hours: Option<crate::hours::Hours>,
    /// `[outbox]`.
    pub outbox: Outbox,
    /// `[retention]`.
    pub retention: Retention,
    /// `[log]`.
    pub log: Log,
    /// The loaded menu in each language it offers (`[menu] path`, or the
    /// built-in example).
    pub menus: Menus,
    /// Where the menu came from, for `shopbot check`.
    pub menu_source: String,
    /// The menu file (`[menu] path`), if not the built-in menu: `serve`
    /// reloads it when it changes.
    pub menu_path: Option<PathBuf>,
}

impl Config {
    /// `public_base_url` + the status path: where Twilio reports on messages we
    /// send. `None` without a public URL (then no callbacks are asked for).
    pub fn status_callback_url(&self) -> Option<String> {
        let base = self.server.public_base_url.as_deref()?;
        Some(format!("{}{}", base.trim_end_matches('/'), self.webhooks.status_path))
    }

    /// The menu in its default language.
    pub fn menu(&self) -> &Menu {
        self.menus.default_menu()
    }

    /// What `channel` shows of a menu to tap, as configured: Meta always,
    /// Twilio with `interactive = "content"` and a REST API to send menus by
    /// (a menu queued for a sender that does not exist would never go);
    /// `None`: numbered text.
    pub fn choice_limits(&self, channel: Channel) -> Option<ChoiceLimits> {
        match channel {
            Channel::Twilio if self.twilio.content_menus() => Some(ChoiceLimits::BUTTONS_AND_LISTS_NO_FOOTER),
            other => other.choice_limits(),
        }
    }

    /// The shop's address on `channel`, as its messages are stored with:
    /// Twilio's `From` (or messaging service), Meta's phone number id; empty
    /// when that channel is not configured.
    pub fn sender_address(&self, channel: Channel) -> String {
        let t = &self.twilio;
        match channel {
            Channel::Twilio => t.messaging_service_sid.clone().or_else(|| t.whatsapp_from.clone()),
            Channel::Meta => self.meta.as_ref().map(|m| m.phone_number_id.clone()),
            Channel::Local => Some("terminal".into()),
        }
        .unwrap_or_default()
    }
}

/// `[staff]`: the owner and staff answer customers from their own WhatsApp.
#[derive(Debug, Clone, PartialEq)]
pub struct Staff {
    /// Their WhatsApp numbers.
    pub numbers: Vec<PhoneNumber>,
    /// The template of an alert outside a staff number's window
    /// (`alert_content_sid`, `alert_template`, `alert_language`; one, or one
    /// per language: the staff member's, else the default's): `{{1}}`
    /// customer name, `{{2}}` number, `{{3}}` last message.
    pub alert: NoticeTemplate,
    /// A waiting customer's new lines go to staff at most this often (batched).
    pub forward_every: Duration,
    /// `alert_outside_hours = true`: alerts go at once even while the shop
    /// is closed (else they wait for the next opening).
    pub alert_outside_hours: bool,
}

impl Staff {
    /// The demo shop's: the owner's phone ([`DEMO_OWNER_PHONE`]), alerted
    /// with the demo's template ([`DEMO_ALERT_CONTENT_SID`]) until it writes.
    pub fn demo() -> Staff {
        Staff {
            numbers: PhoneNumber::parse(DEMO_OWNER_PHONE).into_iter().collect(),
            alert: NoticeTemplate {
                content_sid: ByLanguage::one(DEMO_ALERT_CONTENT_SID),
                ..NoticeTemplate::default()
            },
            forward_every: Duration::from_secs_f64(raw::DEFAULT_FORWARD_EVERY_SECS),
            alert_outside_hours: false,
        }
    }

    /// Whether `who` is a staff member.
    pub fn is_staff(&self, who: &crate::message::ContactRef) -> bool {
        who.phone.as_ref().is_some_and(|p| self.numbers.contains(p))
    }
}

/// `[server]`.
#[derive(Debug, Clone)]
pub struct Server {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The URL Twilio calls, without a trailing slash; `None`: use the Host header.
    pub public_base_url: Option<String>,
    /// HTTP worker threads.
    pub workers: usize,
    /// Connections open at once; more are answered `503`.
    pub max_connections: usize,
    /// The deadline for a request's head and body.
    pub request_timeout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for the
    /// sign-in throttle); nobody else's is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// `[shop]`.
#[derive(Debug, Clone)]
pub struct Shop {
    /// The shop's name.
    pub name: String,
    /// Its time zone.
    pub timezone: TimeZone,
    /// The IANA name, or `system`.
    pub timezone_name: String,
}

/// `[twilio]`.
#[derive(Debug, Clone, Default)]
pub struct Twilio {
    /// `AC…`.
    pub account_sid: Option<String>,
    /// Signs webhooks; authenticates REST calls without an API key.
    pub auth_token: Option<Secret>,
    /// `whatsapp:+…`, the shop's sender.
    pub whatsapp_from: Option<String>,
    /// `MG…`, instead of `whatsapp_from`.
    pub messaging_service_sid: Option<String>,
    /// `SK…`, preferred for REST calls.
    pub api_key_sid: Option<String>,
    /// The API key's secret.
    pub api_key_secret: Option<Secret>,
    /// Scheme and host of the REST API.
    pub api_base_url: String,
    /// SharedKey id → secret, for Twilio's newer webhook signing.
    pub webhook_shared_keys: BTreeMap<String, Secret>,
    /// `interactive`: how a menu reaches a Twilio customer.
    pub interactive: Interactive,
    /// Scheme and host of the Content API (`content_base_url`).
    pub content_base_url: String,
}

impl Twilio {
    /// What keeps Twilio's REST API from sending (no account, no key or auth
    /// token, no sender), or `None` when it can.
    pub fn rest_missing(&self) -> Option<&'static str> {
        if self.account_sid.is_none() {
            Some("[twilio] account_sid is not set")
        } else if (self.api_key_sid.is_none() || self.api_key_secret.is_none()) && self.auth_token.is_none() {
            Some("neither [twilio] api_key_sid/api_key_secret nor an auth token is set")
        } else if self.whatsapp_from.is_none() && self.messaging_service_sid.is_none() {
            Some("neither [twilio] whatsapp_from nor messaging_service_sid is set")
        } else {
            None
        }
    }

    /// Whether menus go as Content API templates: `interactive = "content"`
    /// and a REST API to send them by (else they stay numbered text inline).
    pub fn content_menus(&self) -> bool {
        self.interactive == Interactive::Content && self.rest_missing().is_none()
    }
}

/// `[notify]`: telling customers their order or their submission changed.
#[derive(Debug, Clone, Default)]
pub struct Notify {
    /// `order_status = true`: an import that changes a status tells the customer.
    pub order_status: bool,
    /// The order template outside the 24-hour window: `{{1}}` the order
    /// number, `{{2}}` the status (`order_content_sid`, `order_template`,
    /// `order_language`).
    pub order: NoticeTemplate,
    /// `submission_status = true`: the owner's change of a submission's
    /// status in the inbox tells the customer.
    pub submission_status: bool,
    /// The submission template outside the window: `{{1}}` the submission's
    /// ID, `{{2}}` the status (`submission_content_sid`, `submission_template`,
    /// `submission_language`).
    pub submission: NoticeTemplate,
}

/// The template a notice goes as outside the 24-hour window, per channel:
/// what the config's `*_content_sid`, `*_template` and `*_language` say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeTemplate {
    /// Twilio's Content SID (`HX…`): one, or one per customer language.
    pub content_sid: ByLanguage,
    /// Meta's template name (the same parameters).
    pub template: Option<String>,
    /// The Meta template's language code per customer language.
    pub language: ByLanguage,
}

impl NoticeTemplate {
    /// Whether no channel has a template.
    pub fn is_empty(&self) -> bool {
        self.content_sid.is_empty() && self.template.is_none()
    }

    /// The template on `channel` for someone in `language` (else the
    /// `default` language's), with `values` as `{{1}}`, `{{2}}`, …; `None`
    /// when none is set for that channel.
    pub fn on(&self, channel: Channel, (language, default): (&str, &str), values: Vec<String>) -> Option<Template> {
        let (name, language) = match channel {
            Channel::Twilio => (self.content_sid.for_language(language, default)?, None),
            Channel::Meta => (
                self.template.as_deref()?,
                Some(self.language.for_language(language, default)?),
            ),
            Channel::Local => return None,
        };
        Some(Template::numbered(channel, name, language, values))
    }
}

/// A setting given once (`"HX…"`), or as a table by the customer's language
/// (`{ en = "HX…", de = "HX…" }`): what a template setting holds, so a
/// template follows the language of who it goes to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ByLanguage(BTreeMap<String, String>);

impl ByLanguage {
    /// The same value for every language.
    pub fn one(value: &str) -> ByLanguage {
        ByLanguage(BTreeMap::from([(String::new(), value.to_string())]))
    }

    /// The value for `language`: its own, else the one for every language,
    /// else the default language's.
    pub fn for_language(&self, language: &str, default: &str) -> Option<&str> {
        [language, "", default]
            .iter()
            .find_map(|key| self.0.get(*key))
            .map(String::as_str)
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every value given, with its language (`""`: for every language).
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(l, v)| (l.as_str(), v.as_str()))
    }
}

/// `[twilio] interactive`: how menus reach Twilio customers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Interactive {
    /// `"off"` (the default): inline TwiML, options numbered.
    #[default]
    Off,
    /// `"content"`: menus as Content API quick replies and list pickers, by REST.
    Content,
}

/// `[meta]`: Meta's WhatsApp Cloud API, directly.
#[derive(Debug, Clone)]
pub struct Meta {
    /// The sender's phone number ID (digits).
    pub phone_number_id: String,
    /// The Graph API token; without one, Meta messages wait in the outbox.
    pub access_token: Option<Secret>,
    /// Signs Meta's webhooks (`X-Hub-Signature-256`); required for serving
    /// (empty when loaded for an offline command, which never serves).
    pub app_secret: Secret,
    /// What the App Dashboard sends in `hub.verify_token`; required for serving
    /// (empty when loaded for an offline command).
    pub verify_token: Secret,
    /// `v25.0`.
    pub api_version: String,
    /// Scheme and host of the Graph API, without a trailing slash.
    pub graph_base_url: String,
}

/// `[webhooks]`.
#[derive(Debug, Clone)]
pub struct Webhooks {
    /// Twilio's inbound messages.
    pub inbound_path: String,
    /// Twilio's status callbacks.
    pub status_path: String,
    /// Meta's webhook (verification `GET`, messages and statuses `POST`).
    pub meta_path: String,
    /// Check `X-Twilio-Signature`.
    pub validate_signatures: bool,
}

/// `[outbox]`: how fast and how stubbornly messages the shop starts are sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbox {
    /// Text messages per second (token bucket).
    pub messages_per_second: f64,
    /// Messages with media per second.
    pub media_messages_per_second: f64,
    /// Attempts before a retryable error becomes a failure.
    pub max_attempts: u32,
    /// The first retry's wait; each further one waits twice as long.
    pub retry_base: std::time::Duration,
    /// The channel for a contact who never wrote.
    pub default_channel: Channel,
}

impl Default for Outbox {
    /// Under Twilio's WhatsApp throughput per sender (about 25 text and 1.5
    /// media messages per second).
    fn default() -> Outbox {
        Outbox {
            messages_per_second: 20.0,
            media_messages_per_second: 1.0,
            max_attempts: 8,
            retry_base: std::time::Duration::from_secs(2),
            default_channel: Channel::Twilio,
        }
    }
}

/// `[retention]`: how long data is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retention {
    /// Blank message texts, media and raw parameters after this many days
    /// (metadata stays); `None` keeps them forever.
    pub message_bodies_days: Option<u32>,
}

/// `[log]`: where log lines go and how many.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Log {
    /// `level`; `SHOPBOT_LOG` / `RUST_LOG` win over it.
    pub level: Option<log::LevelFilter>,
    /// `file`, resolved against the config's folder; `None`: stderr (journald).
    pub file: Option<PathBuf>,
}

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The key, like `[server] listen`.
    pub key: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// The problems of a menu file that could be read but not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuProblems {
    /// The menu file.
    pub path: PathBuf,
    /// Every problem found.
    pub error: MenuError,
}

/// Why a config cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}", unreadable_config(path, source))]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and key.
        message: String,
    },
    /// Keys have unusable values, or the menu file named is unusable: every
    /// problem of both, one line each.
    #[error("{}", render_problems(path, problems, menu.as_ref()))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found in it (unknown keys and a menu file that cannot
        /// be read included).
        problems: Vec<ConfigProblem>,
        /// The problems of the menu file it names, when that could be read.
        menu: Option<MenuProblems>,
    },
}

/// One line per problem, each naming its file: the config's, then the menu's.
fn render_problems(path: &Path, problems: &[ConfigProblem], menu: Option<&MenuProblems>) -> String {
    let config = problems
        .iter()
        .map(|p| format!("{}: {}: {}", path.display(), p.key, p.message));
    let menu = menu.into_iter().flat_map(|menu| {
        let shown = menu.path.display().to_string();
        match &menu.error {
            MenuError::Invalid(found) => found.iter().map(|p| format!("{shown}: {p}")).collect(),
            syntax => vec![format!("{shown}: {syntax}")],
        }
    });
    config.chain(menu).collect::<Vec<_>>().join("\n")
}

/// Why the config file cannot be read, with its full path and the fix.
fn unreadable_config(path: &Path, source: &std::io::Error) -> String {
    let full = full_path(path);
    match source.kind() {
        std::io::ErrorKind::NotFound => format!(
            "{}: there is no config file here; give the right path with --config (or SHOPBOT_CONFIG), \
             or create it from config.example.toml",
            full.display()
        ),
        _ => format!("{}: cannot read the config file: {source}", full.display()),
    }
}

/// `path` as an operator can find it: absolute, against the current folder.
fn full_path(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// What a command needs the config for; validation asks only for that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `serve` and `check`: everything, the webhook secrets included.
    Serve,
    /// Offline chores (`orders import`, `export`, `backup`, `outbox`, `send`,
    /// `chat`): the database, the menu and the shop; a missing webhook secret
    /// (`[twilio] auth_token`, `[meta] app_secret`/`verify_token`) is not
    /// their business.
    Offline,
}

/// A file's permission bits, where the platform has them.
#[cfg(unix)]
fn file_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).ok().map(|m| m.permissions().mode())
}

#[cfg(not(unix))]
fn file_mode(_path: &Path) -> Option<u32> {
    None
}

impl Config {
    /// Reads and validates a config file for serving, with secrets from the
    /// process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::load_for(path, Purpose::Serve)
    }

    /// Reads and validates a config file for `purpose`.
    pub fn load_for(path: &Path, purpose: Purpose) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Config::parse_for(&text, path, &env, purpose)
    }

    /// Parses and validates config text for serving. `path` is used for
    /// messages and to resolve relative paths; `env` looks environment
    /// variables up.
    pub fn from_toml(text: &str, path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Config::parse_for(text, path, env, Purpose::Serve)
    }

    /// [`Config::from_toml`] for `purpose`.
    pub fn parse_for(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
        purpose: Purpose,
    ) -> Result<Config, ConfigError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        match raw::RawConfig::read(table) {
            (Some(raw), problems) => raw.validate(path, env, purpose, problems),
            (None, problems) => Err(raw::invalid(path, problems, None)),
        }
    }

    /// A warning, as ssh gives for a private key, when the file holds secrets
    /// and every user may read it (Unix permissions; group-readable is fine:
    /// the .deb makes it `root:shopbot 0640`; Windows has ACLs).
    pub fn exposure_warning(&self) -> Option<String> {
        let first = self.secrets_in_file.first()?;
        let mode = file_mode(&self.source)?;
        (mode & 0o007 != 0).then(|| {
            format!(
                "{} holds {first}{} and other users can read it (mode {:04o}); run `chmod 600 {}` \
                 (or move the secrets to environment variables)",
                self.source.display(),
                if self.secrets_in_file.len() > 1 {
                    " and other secrets"
                } else {
                    ""
                },
                mode & 0o7777,
                self.source.display()
            )
        })
    }

    /// The config `shopbot demo` and `shopbot chat` use without a file.
    pub fn demo(database_path: PathBuf, port: u16) -> Config {
        Config {
            source: PathBuf::from("(built-in demo settings)"),
            secrets_in_file: Vec::new(),
            staff: Some(Staff::demo()),
            notify: None,
            hours: None,
            server: Server {
                listen: SocketAddr::from(([127, 0, 0, 1], port)),
                public_base_url: None,
                workers: 8,
                max_connections: raw::DEFAULT_MAX_CONNECTIONS,
                request_timeout: Duration::from_secs(raw::DEFAULT_REQUEST_TIMEOUT_SECS),
                trusted_proxies: Vec::new(),
            },
            database_path,
            shop: Shop {
                name: "Acme Parts (demo)".into(),
                timezone: TimeZone::system(),
                timezone_name: "system".into(),
            },
            twilio: Twilio {
                whatsapp_from: Some("whatsapp:+14155238886".into()),
                api_base_url: raw::DEFAULT_API_BASE_URL.into(),
                ..Twilio::default()
            },
            meta: None,
            webhooks: Webhooks {
                inbound_path: raw::DEFAULT_INBOUND_PATH.into(),
                status_path: raw::DEFAULT_STATUS_PATH.into(),
                meta_path: raw::DEFAULT_META_PATH.into(),
                validate_signatures: false,
            },
            opt: OptKeywords::standard(),
            admin_token: None,
            outbox: Outbox::default(),
            retention: Retention::default(),
            log: Log::default(),
            menus: Menus::example(),
            menu_source: "built-in example menu".into(),
            menu_path: None,
        }
    }
}

#[cfg(test)]
mod tests;
