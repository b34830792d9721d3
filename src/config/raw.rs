//! The config file as written (every key optional, so a key set aside for a
//! wrong value never stops the rest being read; unknown keys are taken out
//! first, see [`super::keys`]), and its validation into [`Config`](super::Config).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::tz::TimeZone;
use serde::Deserialize;

use super::keys::{self, KeyProblem, Layout};
use super::{
    ByLanguage, Config, ConfigError, ConfigProblem, Interactive, Log, MenuProblems, Meta, NoticeTemplate, Notify,
    Outbox, Purpose, Retention, Secret, Server, Shop, Staff, Twilio, Webhooks, ENV_ADMIN_TOKEN, ENV_AUTH_TOKEN,
    ENV_META_ACCESS_TOKEN, ENV_META_APP_SECRET, ENV_META_VERIFY_TOKEN,
};
use crate::engine::{Menus, OptKeywords};
use crate::message::{Channel, TextLimit};
use crate::phone::PhoneNumber;

pub const DEFAULT_API_BASE_URL: &str = "https://api.twilio.com";
/// `[twilio] content_base_url` when not set.
pub const DEFAULT_CONTENT_BASE_URL: &str = "https://content.twilio.com";
pub const DEFAULT_INBOUND_PATH: &str = "/twilio/inbound";
pub const DEFAULT_STATUS_PATH: &str = "/twilio/status";
pub const DEFAULT_META_PATH: &str = "/meta/webhook";
pub const DEFAULT_GRAPH_BASE_URL: &str = "https://graph.facebook.com";
pub const DEFAULT_GRAPH_API_VERSION: &str = "v25.0";
const DEFAULT_WORKERS: usize = 16;
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 10;
const MAX_CONNECTIONS_RANGE: std::ops::RangeInclusive<usize> = 1..=100_000;
const REQUEST_TIMEOUT_SECS_RANGE: std::ops::RangeInclusive<u64> = 1..=600;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    database: RawDatabase,
    #[serde(default)]
    shop: RawShop,
    #[serde(default)]
    twilio: RawTwilio,
    meta: Option<RawMeta>,
    #[serde(default)]
    webhooks: RawWebhooks,
    #[serde(default)]
    opt: RawOpt,
    #[serde(default)]
    admin: RawAdmin,
    staff: Option<RawStaff>,
    notify: Option<RawNotify>,
    hours: Option<RawHours>,
    #[serde(default)]
    outbox: RawOutbox,
    #[serde(default)]
    retention: RawRetention,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    menu: RawMenu,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    #[serde(default)]
    order_status: bool,
    order_content_sid: Option<toml::Value>,
    order_template: Option<String>,
    order_language: Option<toml::Value>,
    #[serde(default)]
    submission_status: bool,
    submission_content_sid: Option<toml::Value>,
    submission_template: Option<String>,
    submission_language: Option<toml::Value>,
}

/// Reads a setting given once or as a table by language (`key` names it in
/// problems, `example` shows a good value); each value passes `check` (a
/// reason it is wrong, or `None`).
fn by_language(
    value: Option<toml::Value>,
    key: &str,
    example: &str,
    check: impl Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> ByLanguage {
    let mut entries = BTreeMap::new();
    let mut add = |language: String, value: toml::Value, problems: &mut Problems| match value {
        toml::Value::String(text) if !text.trim().is_empty() => match check(text.trim()) {
            Some(why) => problems.add(key, format!("write it like {example}: {text:?} {why}")),
            None => {
                entries.insert(language, text.trim().to_string());
            }
        },
        toml::Value::String(_) => {}
        other => problems.add(
            key,
            format!(
                "write it like {example}, or a table by language like {{ en = {example}, de = … }}: {other} is neither"
            ),
        ),
    };
    match value {
        None => {}
        Some(toml::Value::Table(by)) => {
            for (language, value) in by {
                add(language, value, problems);
            }
        }
        Some(value) => add(String::new(), value, problems),
    }
    ByLanguage(entries)
}

/// Why `sid` is not a Twilio Content SID, if it is not.
fn not_a_content_sid(sid: &str) -> Option<String> {
    (!sid.starts_with("HX"))
        .then(|| "is not a Content SID (HX…; copy it from Twilio's Content Template Builder)".into())
}

impl RawNotify {
    fn validate(self, problems: &mut Problems) -> Notify {
        Notify {
            order_status: self.order_status,
            order: notice_template(
                "[notify] order",
                (self.order_content_sid, self.order_template, self.order_language),
                problems,
            ),
            submission_status: self.submission_status,
            submission: notice_template(
                "[notify] submission",
                (
                    self.submission_content_sid,
                    self.submission_template,
                    self.submission_language,
                ),
                problems,
            ),
        }
    }
}

/// `{what}_content_sid`, `{what}_template` and `{what}_language` (`what`:
/// the section and the keys' stem, e.g. `[notify] order`).
fn notice_template(
    what: &str,
    (content_sid, template, language): (Option<toml::Value>, Option<String>, Option<toml::Value>),
    problems: &mut Problems,
) -> NoticeTemplate {
    let content_sid = by_language(
        content_sid,
        &format!("{what}_content_sid"),
        "\"HX…\"",
        not_a_content_sid,
        problems,
    );
    let template = non_empty(template);
    let key = format!("{what}_language");
    let language = by_language(language, &key, "\"en\"", |_| None, problems);
    if template.is_some() && language.is_empty() {
        problems.add(
            &key,
            format!(
                "is needed with {}_template: the template's language code (e.g. \"en\")",
                what.rsplit(' ').next().unwrap_or(what)
            ),
        );
    }
    NoticeTemplate {
        content_sid,
        template,
        language,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    public_base_url: Option<String>,
    workers: Option<usize>,
    max_connections: Option<usize>,
    request_timeout_secs: Option<u64>,
    trusted_proxies: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    path: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShop {
    name: Option<String>,
    timezone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTwilio {
    account_sid: Option<String>,
    auth_token: Option<String>,
    whatsapp_from: Option<String>,
    messaging_service_sid: Option<String>,
    api_key_sid: Option<String>,
    api_key_secret: Option<String>,
    api_base_url: Option<String>,
    #[serde(default)]
    webhook_shared_keys: BTreeMap<String, String>,
    interactive: Option<String>,
    content_base_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    phone_number_id: Option<String>,
    access_token: Option<String>,
    app_secret: Option<String>,
    verify_token: Option<String>,
    api_version: Option<String>,
    graph_base_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhooks {
    inbound_path: Option<String>,
    status_path: Option<String>,
    meta_path: Option<String>,
    validate_signatures: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOpt {
    stop_keywords: Option<Vec<String>>,
    start_keywords: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStaff {
    #[serde(default)]
    numbers: Vec<String>,
    alert_content_sid: Option<toml::Value>,
    alert_template: Option<String>,
    alert_language: Option<toml::Value>,
    forward_every_seconds: Option<f64>,
    #[serde(default)]
    alert_outside_hours: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHours {
    mon: Option<String>,
    tue: Option<String>,
    wed: Option<String>,
    thu: Option<String>,
    fri: Option<String>,
    sat: Option<String>,
    sun: Option<String>,
    #[serde(default)]
    closed: Vec<String>,
}

impl RawHours {
    fn validate(self, tz: &jiff::tz::TimeZone, problems: &mut Problems) -> Option<crate::hours::Hours> {
        let days = [
            &self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun,
        ]
        .map(Option::as_deref);
        match crate::hours::Hours::new(days, &self.closed, tz.clone()) {
            Ok(hours) => Some(hours),
            Err(found) => {
                for (key, why) in found {
                    problems.add(&key, why);
                }
                None
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutbox {
    messages_per_second: Option<f64>,
    media_messages_per_second: Option<f64>,
    max_attempts: Option<u32>,
    retry_after_seconds: Option<f64>,
    default_channel: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    level: Option<String>,
    file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetention {
    message_bodies_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMenu {
    path: Option<PathBuf>,
}

/// Collects problems while reading and validating. A key already reported
/// (unknown, or set aside for a value of the wrong kind) gets no second line
/// from validation (such as "is missing").
#[derive(Debug, Default)]
pub struct Problems {
    found: Vec<ConfigProblem>,
    set_aside: BTreeSet<String>,
}

impl Problems {
    fn add(&mut self, key: &str, message: impl Into<String>) {
        if !self.set_aside.contains(key) {
            self.found.push(ConfigProblem {
                key: key.into(),
                message: message.into(),
            });
        }
    }

    /// A key taken out of the file before reading it, with its problem.
    fn set_aside(&mut self, (key, message): KeyProblem) {
        self.add(&key, message);
        self.set_aside.insert(key);
    }

    /// Every problem found, in the order found.
    pub fn into_vec(self) -> Vec<ConfigProblem> {
        self.found
    }
}

/// The config file's sections and their keys, from the raw structs.
pub fn layout() -> Layout {
    Layout {
        sections: keys::fields_of::<RawConfig>(),
        keys: section_keys,
    }
}

/// The keys `[section]` takes (none for a name that is no section).
fn section_keys(section: &str) -> &'static [&'static str] {
    match section {
        "server" => keys::fields_of::<RawServer>(),
        "database" => keys::fields_of::<RawDatabase>(),
        "shop" => keys::fields_of::<RawShop>(),
        "twilio" => keys::fields_of::<RawTwilio>(),
        "meta" => keys::fields_of::<RawMeta>(),
        "webhooks" => keys::fields_of::<RawWebhooks>(),
        "opt" => keys::fields_of::<RawOpt>(),
        "admin" => keys::fields_of::<RawAdmin>(),
        "staff" => keys::fields_of::<RawStaff>(),
        "notify" => keys::fields_of::<RawNotify>(),
        "hours" => keys::fields_of::<RawHours>(),
        "outbox" => keys::fields_of::<RawOutbox>(),
        "retention" => keys::fields_of::<RawRetention>(),
        "log" => keys::fields_of::<RawLog>(),
        "menu" => keys::fields_of::<RawMenu>(),
        _ => &[],
    }
}

impl RawConfig {
    /// Reads a parsed config file. Every unknown key, and every value of the
    /// wrong kind, is taken out with its problem and the rest is read, so
    /// validation still sees (and reports) everything else. `None` only when
    /// what is left cannot be read at all (the last problem says why).
    pub fn read(mut table: toml::Table) -> (Option<RawConfig>, Problems) {
        let mut problems = Problems::default();
        for problem in layout().take_unknown(&mut table) {
            problems.set_aside(problem);
        }
        loop {
            let value = toml::Value::Table(table.clone());
            let error = match serde_path_to_error::deserialize::<_, RawConfig>(value) {
                Ok(raw) => return (Some(raw), problems),
                Err(error) => error,
            };
            match keys::take_wrong_kind(&mut table, error.path(), error.inner().message()) {
                Some(problem) => problems.set_aside(problem),
                None => {
                    problems.add(&error.path().to_string(), error.inner().message());
                    return (None, problems);
                }
            }
        }
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

impl RawConfig {
    /// Validates what [`RawConfig::read`] read, adding to the `problems` it
    /// found: every problem of the config, and of the menu file it names when
    /// that file can be read, in one error.
    pub fn validate(
        self,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
        purpose: Purpose,
        mut problems: Problems,
    ) -> Result<Config, ConfigError> {
        let problems = &mut problems;
        let secrets_in_file = self.secrets_in_file();
        let folder = path.parent().unwrap_or(Path::new("."));
        let server = self.server.validate(problems);
        let shop = self.shop.validate(problems);
        let webhooks = self.webhooks.validate(problems);
        let serving = purpose == Purpose::Serve;
        let twilio = self
            .twilio
            .validate(env, serving && webhooks.validate_signatures, problems);
        if serving {
            content_needs_rest(&twilio, problems);
        }
        // `[meta]` present means the shop uses Meta: checked even when empty.
        let meta = self.meta.and_then(|meta| meta.validate(env, serving, problems));
        let opt = self.opt.validate(problems);
        let outbox = self.outbox.validate(meta.is_some(), problems);
        let log = self.log.validate(folder, problems);
        let retention = self.retention.validate(problems);
        let admin_token = env(ENV_ADMIN_TOKEN).or(non_empty(self.admin.token)).map(Secret);
        let database_path = self.database.validate(folder, problems);
        let limits: Vec<TextLimit> = std::iter::once(Channel::Twilio.text_limit())
            .chain(meta.is_some().then_some(Channel::Meta.text_limit()))
            .collect();
        let menu_path = self.menu.path.as_ref().map(|menu_path| folder.join(menu_path));
        let menus = self.menu.load(folder, &limits, problems);
        if let Ok((menus, menu_source)) = &menus {
            reserved_menu_words(menus, menu_source, &opt, problems);
        }
        let staff = self.staff.map(|staff| staff.validate(&twilio, problems));
        let notify = self
            .notify
            .map(|notify| notify.validate(problems))
            .filter(|n| n.order_status || n.submission_status);
        let hours = self.hours.and_then(|hours| hours.validate(&shop.timezone, problems));
        let (menus, menu_source) = match menus {
            Ok(loaded) if problems.found.is_empty() => loaded,
            Ok(_) => return Err(invalid(path, std::mem::take(problems), None)),
            Err(menu) => return Err(invalid(path, std::mem::take(problems), menu)),
        };
        Ok(Config {
            source: path.to_path_buf(),
            secrets_in_file,
            server,
            database_path,
            shop,
            twilio,
            meta,
            webhooks,
            opt,
            admin_token,
            staff,
            notify,
            hours,
            outbox,
            retention,
            log,
            menus,
            menu_source,
            menu_path,
        })
    }
}

/// The error for a config with `problems`, and its menu file's, if any.
pub fn invalid(path: &Path, problems: Problems, menu: Option<MenuProblems>) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_path_buf(),
        problems: problems.into_vec(),
        menu,
    }
}

impl RawLog {
    fn validate(self, folder: &Path, problems: &mut Problems) -> Log {
        let level = self.level.as_deref().and_then(|level| match level.trim().parse() {
            Ok(level) => Some(level),
            Err(_) => {
                problems.add(
                    "[log] level",
                    format!("{level:?} is not a level; use error, warn, info, debug or trace"),
                );
                None
            }
        });
        Log {
            level,
            file: self.file.filter(|f| !f.as_os_str().is_empty()).map(|f| folder.join(f)),
        }
    }
}

impl RawRetention {
    fn validate(self, problems: &mut Problems) -> Retention {
        if self.message_bodies_days == Some(0) {
            problems.add(
                "[retention] message_bodies_days",
                "is 0; give a number of days (e.g. 90), or remove the key to keep message texts forever",
            );
        }
        Retention {
            message_bodies_days: self.message_bodies_days,
        }
    }
}

impl RawDatabase {
    /// The database file, resolved against the config's `folder`.
    fn validate(self, folder: &Path, problems: &mut Problems) -> PathBuf {
        let path = self.path.unwrap_or_default();
        if path.as_os_str().is_empty() {
            problems.add(
                "[database] path",
                "is missing or empty; give the database file, like path = \"/var/lib/shopbot/shopbot.db\"",
            );
        }
        folder.join(path)
    }
}

impl RawMenu {
    /// The menus `[menu] path` names (resolved against the config's
    /// `folder`), or the built-in example, with where they came from. A file
    /// that cannot be read is a problem of `[menu] path` (`Err(None)`); one
    /// that cannot be used has its own problems (`Err(Some(…))`).
    fn load(
        self,
        folder: &Path,
        limits: &[TextLimit],
        problems: &mut Problems,
    ) -> Result<(Menus, String), Option<MenuProblems>> {
        let Some(menu_path) = self.path else {
            return Ok((Menus::example(), "built-in example menu".to_string()));
        };
        let menu_path = folder.join(menu_path);
        let text = std::fs::read_to_string(&menu_path).map_err(|error| {
            problems.add("[menu] path", unreadable_menu(&menu_path, &error));
            None
        })?;
        match Menus::from_toml(&text, limits) {
            Ok(menus) => Ok((menus, menu_path.display().to_string())),
            Err(error) => Err(Some(MenuProblems { path: menu_path, error })),
        }
    }
}

/// Why the menu file at `path` cannot be read, with its full path and the fix.
fn unreadable_menu(path: &Path, error: &std::io::Error) -> String {
    let full = super::full_path(path);
    match error.kind() {
        std::io::ErrorKind::NotFound => format!(
            "there is no menu file {}; create it (README \"The menu file\"; shopbot's built-in example, \
             src/engine/default_menu.toml, is a good start) or remove [menu] path to use the built-in example menu",
            full.display()
        ),
        _ => format!(
            "cannot read the menu file {}: {error}; check the path, and that the user shopbot runs as may read it",
            full.display()
        ),
    }
}

impl RawConfig {
    /// The secret keys this file itself holds a value for.
    fn secrets_in_file(&self) -> Vec<&'static str> {
        let set = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.trim().is_empty());
        let meta = self.meta.as_ref();
        [
            ("[twilio] auth_token", set(&self.twilio.auth_token)),
            ("[twilio] api_key_secret", set(&self.twilio.api_key_secret)),
            ("[meta] access_token", meta.is_some_and(|m| set(&m.access_token))),
            ("[meta] app_secret", meta.is_some_and(|m| set(&m.app_secret))),
            ("[meta] verify_token", meta.is_some_and(|m| set(&m.verify_token))),
            ("[admin] token", set(&self.admin.token)),
        ]
        .into_iter()
        .filter_map(|(key, present)| present.then_some(key))
        .collect()
    }
}

/// A main-menu word that is also an opt-out or opt-in keyword never shows the
/// menu: the keyword wins (a customer typing "stop" to get back would be
/// opted out). A switch word works anywhere, so it must not be a word a
/// menu, a form or `[opt]` already understands.
fn reserved_menu_words(menus: &Menus, menu_source: &str, opt: &OptKeywords, problems: &mut Problems) {
    let menu = menus.default_menu();
    for (word, language) in menus.languages().map(|l| &l.switch_words).into_iter().flatten() {
        if let Some(clash) = switch_word_clash(menus, opt, word) {
            problems.add(
                "[languages] switch_words",
                format!("{word:?} (for {language:?}) in {menu_source} is also {clash}; use another word"),
            );
        }
    }
    for word in &menu.main_menu_words {
        let clash = if opt.stop_keywords.contains(word) {
            Some("an opt-out keyword ([opt] stop_keywords): a customer typing it would be opted out")
        } else if opt.start_keywords.contains(word) {
            Some("an opt-in keyword ([opt] start_keywords)")
        } else {
            None
        };
        if let Some(clash) = clash {
            problems.add(
                "[opt] and main_menu_words",
                format!("{word:?} in the main_menu_words of {menu_source} is also {clash}; remove it from one of them"),
            );
        }
    }
}

/// What a switch word already is, if anything.
fn switch_word_clash(menus: &Menus, opt: &OptKeywords, word: &str) -> Option<String> {
    if menus.default_menu().main_menu_words.iter().any(|w| w == word) {
        Some("a main-menu word".into())
    } else if opt.stop_keywords.iter().chain(&opt.start_keywords).any(|w| w == word) {
        Some("an opt-out or opt-in keyword ([opt])".into())
    } else {
        menus.typed_meaning(word)
    }
}

impl RawServer {
    fn validate(self, problems: &mut Problems) -> Server {
        let listen_text = non_empty(self.listen).unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = listen_text.parse::<SocketAddr>().unwrap_or_else(|_| {
            problems.add(
                "[server] listen",
                format!(
                    "{listen_text:?} is not an address and port; write it like \"127.0.0.1:8080\" or \"0.0.0.0:8080\""
                ),
            );
            SocketAddr::from(([127, 0, 0, 1], 8080))
        });
        let public_base_url = non_empty(self.public_base_url).and_then(|url| match check_base_url(&url) {
            Ok(url) => Some(url),
            Err(why) => {
                problems.add("[server] public_base_url", format!("{url:?} {why}"));
                None
            }
        });
        let workers = self.workers.unwrap_or(DEFAULT_WORKERS);
        if !(1..=256).contains(&workers) {
            problems.add("[server] workers", format!("{workers} must be between 1 and 256"));
        }
        Server {
            listen,
            public_base_url,
            workers: workers.clamp(1, 256),
            max_connections: in_range(
                "[server] max_connections",
                self.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS),
                MAX_CONNECTIONS_RANGE,
                problems,
            ),
            request_timeout: Duration::from_secs(in_range(
                "[server] request_timeout_secs",
                self.request_timeout_secs.unwrap_or(DEFAULT_REQUEST_TIMEOUT_SECS),
                REQUEST_TIMEOUT_SECS_RANGE,
                problems,
            )),
            trusted_proxies: trusted_proxies(self.trusted_proxies.unwrap_or_default(), problems),
        }
    }
}

/// `[server] trusted_proxies`: addresses (`"127.0.0.1"`) or networks
/// (`"10.0.0.0/8"`).
fn trusted_proxies(entries: Vec<String>, problems: &mut Problems) -> Vec<ipnet::IpNet> {
    entries
        .into_iter()
        .filter_map(|entry| {
            let text = entry.trim();
            let parsed = text
                .parse::<ipnet::IpNet>()
                .ok()
                .or_else(|| text.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from));
            if parsed.is_none() {
                problems.add(
                    "[server] trusted_proxies",
                    format!("{entry:?} is not an address or a network; write it like \"127.0.0.1\", \"::1\" or \"10.0.0.0/8\""),
                );
            }
            parsed
        })
        .collect()
}

/// `value`, or a problem naming `key` and the range (and the nearest value in it).
fn in_range<T: PartialOrd + Copy + std::fmt::Display>(
    key: &str,
    value: T,
    range: std::ops::RangeInclusive<T>,
    problems: &mut Problems,
) -> T {
    let (low, high) = (*range.start(), *range.end());
    if range.contains(&value) {
        return value;
    }
    problems.add(key, format!("{value} must be between {low} and {high}"));
    if value < low {
        low
    } else {
        high
    }
}

/// `https://host[:port][/prefix]`, without a trailing slash, query or fragment.
fn check_base_url(url: &str) -> Result<String, &'static str> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or("must start with https:// (or http:// for local tests): it is the exact URL Twilio calls")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("has no host; write it like \"https://bot.example.com\"");
    }
    if url.contains(['?', '#']) {
        return Err("must not have a query or fragment; give scheme, host, optional port and path prefix only");
    }
    if url.contains(char::is_whitespace) {
        return Err("must not contain spaces");
    }
    Ok(url.trim_end_matches('/').to_string())
}

impl RawShop {
    fn validate(self, problems: &mut Problems) -> Shop {
        let name = non_empty(self.name).unwrap_or_else(|| "our shop".into());
        let (timezone, timezone_name) = match non_empty(self.timezone) {
            None => (TimeZone::system(), "system".to_string()),
            Some(tz) => match TimeZone::get(&tz) {
                Ok(zone) => (zone, tz),
                Err(_) => {
                    problems.add(
                        "[shop] timezone",
                        format!("{tz:?} is not an IANA time zone name; write it like \"Africa/Johannesburg\" or remove the key to use the system's zone"),
                    );
                    (TimeZone::UTC, "UTC".into())
                }
            },
        };
        Shop {
            name,
            timezone,
            timezone_name,
        }
    }
}

impl RawWebhooks {
    fn validate(self, problems: &mut Problems) -> Webhooks {
        let mut path = |key: &str, value: Option<String>, default: &str| {
            let value = non_empty(value).unwrap_or_else(|| default.into());
            if !value.starts_with('/') || value.contains(['?', '#', ' ']) {
                problems.add(
                    key,
                    format!("{value:?} must be a path starting with /, like {default:?}"),
                );
            }
            value
        };
        let inbound_path = path("[webhooks] inbound_path", self.inbound_path, DEFAULT_INBOUND_PATH);
        let status_path = path("[webhooks] status_path", self.status_path, DEFAULT_STATUS_PATH);
        let meta_path = path("[webhooks] meta_path", self.meta_path, DEFAULT_META_PATH);
        if inbound_path == status_path {
            problems.add("[webhooks] status_path", "must differ from inbound_path");
        }
        if meta_path == inbound_path || meta_path == status_path {
            problems.add("[webhooks] meta_path", "must differ from inbound_path and status_path");
        }
        Webhooks {
            inbound_path,
            status_path,
            meta_path,
            validate_signatures: self.validate_signatures.unwrap_or(true),
        }
    }
}

impl RawTwilio {
    fn validate(self, env: &dyn Fn(&str) -> Option<String>, signatures: bool, problems: &mut Problems) -> Twilio {
        let auth_token = env(ENV_AUTH_TOKEN).or(non_empty(self.auth_token)).map(Secret);
        let shared_keys: BTreeMap<String, Secret> = self
            .webhook_shared_keys
            .into_iter()
            .map(|(k, v)| (k, Secret(v)))
            .collect();
        if signatures && auth_token.is_none() && shared_keys.is_empty() {
            problems.add(
                "[twilio] auth_token",
                format!("is missing, and [webhooks] validate_signatures = true needs it; set it here or in the environment variable {ENV_AUTH_TOKEN} (the Twilio console shows it under Account Info)"),
            );
        }
        let account_sid = non_empty(self.account_sid);
        if let Some(sid) = &account_sid {
            if !sid.starts_with("AC") || sid.len() != 34 {
                problems.add(
                    "[twilio] account_sid",
                    format!("{sid:?} does not look like an Account SID (AC followed by 32 characters)"),
                );
            }
        }
        let whatsapp_from = non_empty(self.whatsapp_from);
        if let Some(from) = &whatsapp_from {
            if crate::phone::PhoneNumber::parse(from).is_err() || !from.starts_with("whatsapp:") {
                problems.add(
                    "[twilio] whatsapp_from",
                    format!("{from:?} must be your WhatsApp sender like \"whatsapp:+14155238886\""),
                );
            }
        }
        let api_base_url = non_empty(self.api_base_url).unwrap_or_else(|| DEFAULT_API_BASE_URL.into());
        let api_base_url = match check_base_url(&api_base_url) {
            Ok(url) => url,
            Err(why) => {
                problems.add("[twilio] api_base_url", format!("{api_base_url:?} {why}"));
                api_base_url
            }
        };
        let interactive = match non_empty(self.interactive).as_deref() {
            None | Some("off") => Interactive::Off,
            Some("content") => Interactive::Content,
            Some(other) => {
                problems.add(
                    "[twilio] interactive",
                    format!("{other:?} is not a choice: use \"off\" (numbered text menus) or \"content\" (menus to tap, through Twilio's Content API)"),
                );
                Interactive::Off
            }
        };
        let content_base_url = non_empty(self.content_base_url).unwrap_or_else(|| DEFAULT_CONTENT_BASE_URL.into());
        let content_base_url = match check_base_url(&content_base_url) {
            Ok(url) => url,
            Err(why) => {
                problems.add("[twilio] content_base_url", format!("{content_base_url:?} {why}"));
                content_base_url
            }
        };
        Twilio {
            account_sid,
            auth_token,
            whatsapp_from,
            messaging_service_sid: non_empty(self.messaging_service_sid),
            api_key_sid: non_empty(self.api_key_sid),
            api_key_secret: non_empty(self.api_key_secret).map(Secret),
            api_base_url,
            webhook_shared_keys: shared_keys,
            interactive,
            content_base_url,
        }
    }
}

/// `interactive = "content"` sends every menu by Twilio's REST API: without
/// an account, a key or token, or a sender, menus would wait in the outbox
/// for good, so the shop that asked for buttons is told at load.
fn content_needs_rest(twilio: &Twilio, problems: &mut Problems) {
    if twilio.interactive != Interactive::Content {
        return;
    }
    if let Some(why) = twilio.rest_missing() {
        problems.add(
            "[twilio] interactive",
            format!(
                "is \"content\", which sends menus by Twilio's REST API, but {why}: \
                 set what is missing (README \"Sending messages\"), or set interactive = \"off\" for numbered text menus"
            ),
        );
    }
}

impl RawMeta {
    /// `None` when a required key is missing (each one is reported). The
    /// webhook secrets are required only for `serving`; an offline command
    /// gets empty ones (it never receives a webhook).
    fn validate(self, env: &dyn Fn(&str) -> Option<String>, serving: bool, problems: &mut Problems) -> Option<Meta> {
        let secret = |env_name: &str, value: Option<String>| env(env_name).or(non_empty(value)).map(Secret);
        let app_secret = secret(ENV_META_APP_SECRET, self.app_secret);
        let verify_token = secret(ENV_META_VERIFY_TOKEN, self.verify_token);
        let access_token = secret(ENV_META_ACCESS_TOKEN, self.access_token);
        let phone_number_id = non_empty(self.phone_number_id);
        match &phone_number_id {
            None => problems.add(
                "[meta] phone_number_id",
                "is missing; copy the Phone number ID from the App Dashboard (WhatsApp → API Setup)",
            ),
            Some(id) if !id.bytes().all(|b| b.is_ascii_digit()) => problems.add(
                "[meta] phone_number_id",
                format!("{id:?} is not a phone number ID (digits only, from WhatsApp → API Setup; not the phone number itself)"),
            ),
            Some(_) => {}
        }
        let (app_secret, verify_token) = if serving {
            (app_secret, verify_token)
        } else {
            (
                app_secret.or_else(|| Some(Secret::new(""))),
                verify_token.or_else(|| Some(Secret::new(""))),
            )
        };
        if app_secret.is_none() {
            problems.add(
                "[meta] app_secret",
                format!("is missing; Meta webhooks are refused without it (never accepted unsigned). Set it here or in {ENV_META_APP_SECRET} (App Dashboard → App settings → Basic → App secret)"),
            );
        }
        if verify_token.is_none() {
            problems.add(
                "[meta] verify_token",
                format!("is missing; choose a random string, set it here or in {ENV_META_VERIFY_TOKEN}, and type the same in the App Dashboard (WhatsApp → Configuration → Verify token)"),
            );
        }
        let graph_base_url = non_empty(self.graph_base_url).unwrap_or_else(|| DEFAULT_GRAPH_BASE_URL.into());
        if let Err(why) = check_base_url(&graph_base_url) {
            problems.add("[meta] graph_base_url", format!("{graph_base_url:?} {why}"));
        }
        let api_version = non_empty(self.api_version).unwrap_or_else(|| DEFAULT_GRAPH_API_VERSION.into());
        let version_ok = api_version
            .strip_prefix('v')
            .and_then(|v| v.split_once('.'))
            .is_some_and(|(major, minor)| {
                !major.is_empty()
                    && !minor.is_empty()
                    && (major.to_string() + minor).bytes().all(|b| b.is_ascii_digit())
            });
        if !version_ok {
            problems.add(
                "[meta] api_version",
                format!("{api_version:?} is not a Graph API version like \"v25.0\""),
            );
        }
        Some(Meta {
            phone_number_id: phone_number_id?,
            access_token,
            app_secret: app_secret?,
            verify_token: verify_token?,
            api_version,
            graph_base_url: graph_base_url.trim_end_matches('/').to_string(),
        })
    }
}

impl RawOutbox {
    fn validate(self, meta_configured: bool, problems: &mut Problems) -> Outbox {
        let defaults = Outbox::default();
        let mut rate = |key: &str, value: Option<f64>, default: f64, most: f64| match value {
            None => default,
            Some(v) if v > 0.0 && v <= most => v,
            Some(v) => {
                problems.add(
                    &format!("[outbox] {key}"),
                    format!("is {v}; give a number above 0 and at most {most} (Twilio's limit per WhatsApp sender)"),
                );
                default
            }
        };
        let messages_per_second = rate(
            "messages_per_second",
            self.messages_per_second,
            defaults.messages_per_second,
            80.0,
        );
        let media_messages_per_second = rate(
            "media_messages_per_second",
            self.media_messages_per_second,
            defaults.media_messages_per_second,
            10.0,
        );
        let max_attempts = match self.max_attempts {
            None => defaults.max_attempts,
            Some(n @ 1..=50) => n,
            Some(n) => {
                problems.add("[outbox] max_attempts", format!("is {n}; give 1 to 50"));
                defaults.max_attempts
            }
        };
        let retry_base = match self.retry_after_seconds {
            None => defaults.retry_base,
            Some(s) if (0.01..=600.0).contains(&s) => std::time::Duration::from_secs_f64(s),
            Some(s) => {
                problems.add("[outbox] retry_after_seconds", format!("is {s}; give 0.01 to 600"));
                defaults.retry_base
            }
        };
        let default_channel = match self.default_channel.as_deref().map(str::trim) {
            None | Some("") => Channel::Twilio,
            Some(name) => match Channel::parse(name) {
                Some(Channel::Meta) if !meta_configured => {
                    problems.add("[outbox] default_channel", "is \"meta\" but there is no [meta] section");
                    Channel::Twilio
                }
                Some(channel) => channel,
                None => {
                    problems.add(
                        "[outbox] default_channel",
                        format!("{name:?} is not a channel; use \"twilio\" or \"meta\""),
                    );
                    Channel::Twilio
                }
            },
        };
        Outbox {
            messages_per_second,
            media_messages_per_second,
            max_attempts,
            retry_base,
            default_channel,
        }
    }
}

impl RawStaff {
    fn validate(self, twilio: &Twilio, problems: &mut Problems) -> Staff {
        let shop_number = twilio
            .whatsapp_from
            .as_deref()
            .and_then(|from| PhoneNumber::parse(from.trim_start_matches("whatsapp:")).ok());
        let mut numbers = Vec::new();
        for raw in &self.numbers {
            match PhoneNumber::parse(raw) {
                Ok(number) if Some(&number) == shop_number.as_ref() => problems.add(
                    "[staff] numbers",
                    format!("{raw:?} is the shop's own WhatsApp number ([twilio] whatsapp_from); list the staff's own phones"),
                ),
                Ok(number) if numbers.contains(&number) => {}
                Ok(number) => numbers.push(number),
                Err(e) => problems.add("[staff] numbers", e.to_string()),
            }
        }
        let alert = notice_template(
            "[staff] alert",
            (self.alert_content_sid, self.alert_template, self.alert_language),
            problems,
        );
        let every = self.forward_every_seconds.unwrap_or(DEFAULT_FORWARD_EVERY_SECS);
        if !(every.is_finite() && (0.0..=3600.0).contains(&every)) {
            problems.add(
                "[staff] forward_every_seconds",
                format!("{every} must be between 0 and 3600"),
            );
        }
        Staff {
            numbers,
            alert,
            forward_every: Duration::from_secs_f64(every.clamp(0.0, 3600.0)),
            alert_outside_hours: self.alert_outside_hours,
        }
    }
}

/// How often a waiting customer's new lines are forwarded to staff, at most.
pub const DEFAULT_FORWARD_EVERY_SECS: f64 = 30.0;

impl RawOpt {
    fn validate(self, problems: &mut Problems) -> OptKeywords {
        let lower = |words: Vec<String>| -> Vec<String> {
            words
                .iter()
                .map(|w| w.trim().to_lowercase())
                .filter(|w| !w.is_empty())
                .collect()
        };
        let standard = OptKeywords::standard();
        let stop_keywords = lower(self.stop_keywords.unwrap_or(standard.stop_keywords));
        let start_keywords = lower(self.start_keywords.unwrap_or(standard.start_keywords));
        if let Some(both) = stop_keywords.iter().find(|w| start_keywords.contains(w)) {
            problems.add(
                "[opt] start_keywords",
                format!("{both:?} is also a stop keyword; a word can only do one"),
            );
        }
        OptKeywords {
            stop_keywords,
            start_keywords,
        }
    }
}
