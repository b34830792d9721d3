//! `shopbot check --config FILE`: validate the config and its menu, print a short
//! summary or every problem; exit 0 or 1.
//!
//! The summary says, per channel, whether receiving and sending are set up and
//! what is missing, so an integrator sees at once what works; of an existing
//! database, its schema version and whether Litestream replicates it.

use std::path::Path;

use clap::Args as ClapArgs;

use super::{CliError, ConfigArg};
use crate::channel;
use crate::channel::twilio::content::ContentClient;
use crate::config::{Config, Interactive, ENV_ADMIN_TOKEN, ENV_AUTH_TOKEN, ENV_META_APP_SECRET};
use crate::engine::render;
use crate::message::{Channel, ChoiceLimits};
use crate::store::inspect;

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
}

pub fn execute(args: Args) -> Result<(), CliError> {
    let path = args.config.resolve()?;
    let config = Config::load(&path)?;
    println!("{}: OK", path.display());
    for (name, value) in summary(&config) {
        println!("  {name:<16} {value}");
    }
    Ok(())
}

fn summary(c: &Config) -> Vec<(&'static str, String)> {
    let base = c.server.public_base_url.clone();
    let url = |path: &str| match &base {
        Some(base) => format!("{base}{path}"),
        None => format!("https://<your host>{path}"),
    };
    let (_, missing) = channel::transports(c, None);
    let sending = |channel: Channel| match missing.iter().find(|(m, _)| *m == channel) {
        Some((_, why)) => format!("NOT configured: {why}; messages to this channel wait in the outbox"),
        None => "ready".to_string(),
    };
    let mut lines = vec![
        ("listen", c.server.listen.to_string()),
        (
            "public_base_url",
            base.clone()
                .unwrap_or_else(|| "(not set: the Host header is used)".into()),
        ),
        (
            "twilio in",
            format!(
                "{}  <- \"A message comes in\" in the Twilio console; {}",
                url(&c.webhooks.inbound_path),
                twilio_signatures(c)
            ),
        ),
        ("twilio out", sending(Channel::Twilio)),
        ("twilio menus", twilio_menus(c)),
    ];
    match &c.meta {
        Some(meta) => {
            lines.push((
                "meta in",
                format!(
                    "{}  <- Callback URL in the App Dashboard (with the verify token); signed with the app secret{}",
                    url(&c.webhooks.meta_path),
                    if std::env::var_os(ENV_META_APP_SECRET).is_some() {
                        format!(" from {ENV_META_APP_SECRET}")
                    } else {
                        String::new()
                    }
                ),
            ));
            lines.push((
                "meta out",
                match sending(Channel::Meta).as_str() {
                    "ready" => format!(
                        "ready (phone number ID {}, Graph API {})",
                        meta.phone_number_id, meta.api_version
                    ),
                    other => other.to_string(),
                },
            ));
        }
        None => lines.push(("meta", "not used (add [meta] for Meta's WhatsApp Cloud API)".into())),
    }
    lines.push(("default channel", c.outbox.default_channel.to_string()));
    if let Some(hours) = &c.hours {
        lines.push(("hours", hours_line(hours, jiff::Timestamp::now())));
    }
    lines.push((
        "admin API",
        match &c.admin_token {
            Some(_) if std::env::var_os(ENV_ADMIN_TOKEN).is_some() => format!("enabled (token from {ENV_ADMIN_TOKEN})"),
            Some(_) => "enabled (token from the config file)".into(),
            None => format!("disabled (set [admin] token or {ENV_ADMIN_TOKEN})"),
        },
    ));
    lines.extend(staff_lines(c));
    lines.extend(database_lines(&c.database_path));
    lines.push(("shop", format!("{} ({})", c.shop.name, c.shop.timezone_name)));
    lines.push((
        "menu",
        format!(
            "{}: {} nodes, starts at `{}`",
            c.menu_source,
            c.menu().nodes.len(),
            c.menu().start
        ),
    ));
    if let Some(folder) = c
        .database_path
        .parent()
        .filter(|f| !f.as_os_str().is_empty() && !f.is_dir())
    {
        lines.push((
            "warning",
            format!("the database folder {} does not exist yet", folder.display()),
        ));
    }
    lines.extend(placeholders(c).into_iter().map(|p| ("warning", p)));
    lines.extend(c.exposure_warning().map(|w| ("warning", w)));
    lines.extend(choice_warnings(c).into_iter().map(|w| ("warning", w)));
    lines.extend(language_lines(c));
    lines
}

/// Today's opening hours and the next opening (or until when it is open).
fn hours_line(hours: &crate::hours::Hours, now: jiff::Timestamp) -> String {
    let language = crate::engine::catalog::FALLBACK;
    let today = match hours.today(now).as_str() {
        "closed" => "closed today".to_string(),
        ranges => format!("today {ranges}"),
    };
    if let Some(until) = hours.open_until(now) {
        return format!("{today}; open now until {}", hours.say_when(&until, now, language));
    }
    match hours.next_open(now) {
        Some(next) => format!("{today}; opens {}", hours.say_when(&next, now, language)),
        None => format!("{today}; no opening in the next 60 days"),
    }
}

/// The menu's languages, and every text an offered language lacks.
fn language_lines(c: &Config) -> Vec<(&'static str, String)> {
    let Some(languages) = c.menus.languages() else {
        return Vec::new();
    };
    let offered: Vec<String> = languages
        .offer
        .iter()
        .map(|l| match l == &languages.default {
            true => format!("{l} (default)"),
            false => l.clone(),
        })
        .collect();
    let by_country: Vec<String> = languages
        .by_country
        .iter()
        .map(|(code, l)| format!("+{code} → {l}"))
        .collect();
    let mut summary = offered.join(", ");
    if !by_country.is_empty() {
        summary.push_str(&format!("; by calling code {}", by_country.join(", ")));
    }
    if languages.ask_first {
        summary.push_str("; a new customer picks first");
    }
    let mut lines = vec![("languages", summary)];
    lines.extend(c.menus.missing.iter().map(|p| ("warning", p.to_string())));
    lines
}

/// How menus reach Twilio customers; with `interactive = "content"`, whether
/// the Content API answers the credentials (one `GET`).
fn twilio_menus(c: &Config) -> String {
    if c.twilio.interactive != Interactive::Content {
        return "numbered text, inline (interactive = \"off\")".into();
    }
    if let Some(why) = c.twilio.rest_missing() {
        return format!("NOT tappable: {why}; menus go as numbered text");
    }
    let client = match ContentClient::from_config(c) {
        Ok(client) => client,
        Err(why) => return format!("NOT tappable: {why}; menus go as numbered text"),
    };
    match client.probe() {
        Ok(status) => format!(
            "tappable: the Content API at {} answers ({status})",
            client.content_url()
        ),
        Err(why) => format!(
            "the Content API at {} does not answer ({why}): menus go as numbered text until it does",
            client.content_url()
        ),
    }
}

/// Per channel that shows menus to tap, every menu that will not show as
/// written there (too many options, a label without a `short` that fits).
fn choice_warnings(c: &Config) -> Vec<String> {
    let several = c.menus.languages().is_some();
    let mut choices = Vec::new();
    for (language, menu) in c.menus.all() {
        let prefix = if several {
            format!(" ({language})")
        } else {
            String::new()
        };
        for name in menu.nodes.keys() {
            if let Some(choice) = render::choice(menu, name) {
                choices.push((prefix.clone(), choice));
            }
        }
    }
    let mut warnings = Vec::new();
    for (channel, limits) in tapping_channels(c) {
        for (language, choice) in &choices {
            warnings.extend(
                limits
                    .problems(choice)
                    .into_iter()
                    .map(|p| format!("{channel}{language}: {p}")),
            );
        }
    }
    warnings
}

/// The channels that show menus to tap, with their limits.
fn tapping_channels(c: &Config) -> Vec<(Channel, ChoiceLimits)> {
    [Channel::Twilio, Channel::Meta]
        .into_iter()
        .filter(|channel| *channel != Channel::Meta || c.meta.is_some())
        .filter_map(|channel| c.choice_limits(channel).map(|limits| (channel, limits)))
        .collect()
}

/// The database, and, if it exists, its schema version and the tables in it
/// that are not shopbot's: Litestream's are expected, others are named.
fn database_lines(path: &Path) -> Vec<(&'static str, String)> {
    let shown = path.display().to_string();
    if !path.is_file() {
        return vec![("database", shown)];
    }
    let facts = match inspect::inspect(path) {
        Ok(facts) => facts,
        Err(e) => return vec![("database", shown), ("warning", e.to_string())],
    };
    let mut lines = vec![("database", format!("{shown} (schema version {})", facts.schema_version))];
    lines.extend(listed("litestream", &facts.litestream_tables, |tables| {
        format!("replicated by Litestream (its tables {tables} are expected; never VACUUM this file in place)")
    }));
    lines.extend(listed("note", &facts.other_tables, |tables| {
        format!("tables that are not shopbot's, left alone: {tables}")
    }));
    lines
}

/// A summary line about `tables`, if there are any.
fn listed(label: &'static str, tables: &[String], say: impl Fn(&str) -> String) -> Option<(&'static str, String)> {
    (!tables.is_empty()).then(|| (label, say(&tables.join(", "))))
}

/// `[staff]`: who is alerted, and whether alerts can reach them any time.
fn staff_lines(c: &Config) -> Vec<(&'static str, String)> {
    let Some(staff) = &c.staff else {
        return vec![(
            "staff",
            "none (add [staff] numbers to answer customers from your phone)".into(),
        )];
    };
    let numbers: Vec<String> = staff.numbers.iter().map(|n| n.as_str().to_string()).collect();
    let mut lines = vec![(
        "staff",
        format!(
            "{} alerted on a handoff; their messages are relayed to customers",
            if numbers.is_empty() {
                "nobody".into()
            } else {
                numbers.join(", ")
            }
        ),
    )];
    if staff.alert.is_empty() {
        lines.push((
            "warning",
            "no [staff] alert_content_sid or alert_template: alerts can only reach a staff member who wrote to the bot in the last 24 hours".into(),
        ));
    }
    lines
}

/// The example config's placeholder values still in `c`, each with its fix.
fn placeholders(c: &Config) -> Vec<String> {
    let mut found = Vec::new();
    if c.twilio.account_sid.as_deref() == Some("AC00000000000000000000000000000000") {
        found.push(
            "[twilio] account_sid is the example's placeholder; copy your Account SID from the Twilio console".into(),
        );
    }
    if c.server
        .public_base_url
        .as_deref()
        .is_some_and(|url| url.contains("example.com"))
    {
        found.push(
            "[server] public_base_url is the example's bot.example.com; write the public URL Twilio and Meta call"
                .into(),
        );
    }
    if c.meta.as_ref().is_some_and(|m| m.phone_number_id == "123456789012345") {
        found.push("[meta] phone_number_id is the example's placeholder; copy it from WhatsApp → API Setup".into());
    }
    found
}

/// How Twilio's webhooks are checked.
fn twilio_signatures(c: &Config) -> String {
    match (c.webhooks.validate_signatures, &c.twilio.auth_token) {
        (false, _) => "signatures NOT checked ([webhooks] validate_signatures = false)".to_string(),
        (true, Some(_)) if std::env::var_os(ENV_AUTH_TOKEN).is_some() => {
            format!("signatures checked (auth token from {ENV_AUTH_TOKEN})")
        }
        (true, Some(_)) => "signatures checked (auth token from the config file)".to_string(),
        (true, None) => "signatures checked with SharedKeys only".to_string(),
    }
}
