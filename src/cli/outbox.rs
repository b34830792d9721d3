//! `shopbot send`, `shopbot send-template` and `shopbot outbox list|retry`:
//! queue messages into the database the server uses (safe while it runs; the
//! server's sender thread sends them) and look after the queue.

use std::collections::BTreeMap;
use std::thread;
use std::time::{Duration, Instant};

use clap::{Args as ClapArgs, Subcommand};
use jiff::Timestamp;

use super::{CliError, ConfigArg};
use crate::channel;
use crate::config::Config;
use crate::message::OutboxState;
use crate::outbox::validate::{self, FieldError};
use crate::outbox::{self, Outgoing};
use crate::store::{OutboxEntry, Store};

/// How often `--wait` looks at the message.
const WAIT_POLL: Duration = Duration::from_millis(250);

#[derive(Debug, ClapArgs)]
pub struct SendArgs {
    /// The customer's number, +27… or whatsapp:+27…
    #[arg(long)]
    to: String,
    /// The text (only within 24 hours of the customer's last message).
    #[arg(long, default_value = "")]
    body: String,
    /// A public https URL of an image or document to attach (repeatable).
    #[arg(long = "media", value_name = "URL")]
    media: Vec<String>,
    /// The channel: twilio or meta [default: the one the customer last wrote
    /// on, else [outbox] default_channel].
    #[arg(long, value_name = "CHANNEL")]
    channel: Option<String>,
    #[command(flatten)]
    wait: WaitArgs,
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Debug, ClapArgs)]
#[command(group(clap::ArgGroup::new("template").required(true).args(["content_sid", "name"])))]
pub struct SendTemplateArgs {
    /// The customer's number, +27… or whatsapp:+27…
    #[arg(long)]
    to: String,
    /// A Twilio template: its Content SID (HX…).
    #[arg(long, value_name = "HX…", conflicts_with_all = ["name", "language"])]
    content_sid: Option<String>,
    /// A Meta template: its name, as in WhatsApp Manager.
    #[arg(long, value_name = "NAME", requires = "language")]
    name: Option<String>,
    /// The Meta template's language code, e.g. en_US.
    #[arg(long, value_name = "CODE")]
    language: Option<String>,
    /// A placeholder value, e.g. --var 1=Ava --var 2=18473 (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    #[command(flatten)]
    wait: WaitArgs,
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Debug, ClapArgs)]
struct WaitArgs {
    /// Follow the message until it is sent or has failed (needs `shopbot serve` running).
    #[arg(long)]
    wait: bool,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the newest outbound messages with their state and last error.
    List {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Queue an uncertain or failed message again (an operator's go-ahead:
    /// an uncertain one may already have reached the customer).
    Retry {
        /// The message id (from `shopbot outbox list`).
        id: i64,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Say what became of an uncertain message without sending it again
    /// (check the customer's chat or the provider's console first); the
    /// messages to that customer waiting behind it then go.
    Resolve {
        /// The message id (from `shopbot outbox list`).
        id: i64,
        /// It reached the customer: mark it sent.
        #[arg(long, conflicts_with = "not_sent", required_unless_present = "not_sent")]
        sent: bool,
        /// It did not: mark it failed, never to be sent.
        #[arg(long)]
        not_sent: bool,
        #[command(flatten)]
        config: ConfigArg,
    },
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{text:?} is not KEY=VALUE (e.g. 1=Ava)"))
}

pub fn send(args: SendArgs) -> Result<(), CliError> {
    let config = args.config.load_offline()?;
    let message = validate::channel(args.channel.as_deref())
        .and_then(|channel| validate::text(&args.to, &args.body, &args.media, channel));
    queue(&config, message, &args.wait)
}

pub fn send_template(args: SendTemplateArgs) -> Result<(), CliError> {
    let config = args.config.load_offline()?;
    let variables: BTreeMap<String, String> = args.vars.into_iter().collect();
    let message = match (&args.content_sid, &args.name) {
        (Some(sid), _) => validate::twilio_template(&args.to, sid, variables),
        (None, Some(name)) => {
            validate::meta_template(&args.to, name, args.language.as_deref().unwrap_or_default(), variables)
        }
        // clap's group requires one of the two.
        (None, None) => Err(FieldError {
            field: "content_sid",
            reason: "give --content-sid HX… (Twilio) or --name NAME --language CODE (Meta)".into(),
        }),
    };
    queue(&config, message, &args.wait)
}

pub fn execute(command: Command) -> Result<(), CliError> {
    match command {
        Command::List { limit, config } => list(&config.load_offline()?, limit),
        Command::Retry { id, config } => retry(&config.load_offline()?, id),
        Command::Resolve { id, sent, config, .. } => resolve(&config.load_offline()?, id, sent),
    }
}

fn queue(config: &Config, message: Result<Outgoing, FieldError>, wait: &WaitArgs) -> Result<(), CliError> {
    let message = message.map_err(|source| CliError::Field {
        flag: flag(source.field),
        source,
    })?;
    let mut store = Store::open(&config.database_path)?;
    let routing = crate::outbox::Routing::from_config(config);
    let id = store
        .write(|db| outbox::enqueue(db, &routing, &message, Timestamp::now()))?
        .map_err(CliError::Refused)?;
    let entry = store.read(|db| db.outbox_entry(id))?;
    let channel = entry.as_ref().map(|e| e.channel);
    println!(
        "queued message {id} to {} ({} on {})",
        message.to,
        message.content.kind(),
        channel.map_or("?", |c| c.as_str())
    );
    let (_, missing) = channel::transports(config, None);
    if let Some((channel, why)) = missing.iter().find(|(c, _)| Some(*c) == channel) {
        eprintln!("warning: the server will not send it until {channel} is configured for sending: {why}");
    }
    if wait.wait {
        follow(&mut store, id, Duration::from_secs(wait.timeout))
    } else {
        println!("`shopbot outbox list` shows its state; the running server sends it.");
        Ok(())
    }
}

/// The command-line flag for a validation field.
fn flag(field: &'static str) -> &'static str {
    match field {
        "media_url" => "--media",
        "content_sid" => "--content-sid",
        "variables" | "parameters" => "--var",
        "template_name" => "--name",
        "language_code" => "--language",
        "to" => "--to",
        "body" => "--body",
        "channel" => "--channel",
        other => other,
    }
}

/// Prints each state the message goes through until it is settled.
fn follow(store: &mut Store, id: i64, timeout: Duration) -> Result<(), CliError> {
    let started = Instant::now();
    let mut last = None;
    loop {
        let entry = store
            .read(|db| db.outbox_entry(id))?
            .ok_or_else(|| CliError::Partial(format!("message {id} is gone from the outbox")))?;
        if Some(entry.state) != last {
            println!("{}", describe(&entry));
            last = Some(entry.state);
        }
        match entry.state {
            OutboxState::Sent => return Ok(()),
            OutboxState::Failed | OutboxState::Uncertain => {
                return Err(CliError::Partial(format!(
                    "message {id} was not sent ({})",
                    entry.state
                )))
            }
            _ if started.elapsed() >= timeout => {
                return Err(CliError::Partial(format!(
                    "message {id} is still {} after {}s; is `shopbot serve` running with {} configured?",
                    entry.state,
                    timeout.as_secs(),
                    entry.channel
                )))
            }
            _ => thread::sleep(WAIT_POLL),
        }
    }
}

fn describe(e: &OutboxEntry) -> String {
    let mut line = format!("message {}: {}", e.id, e.state);
    if let Some(sid) = &e.sid {
        line.push_str(&format!(" as {sid}"));
    }
    if let Some(code) = &e.error_code {
        line.push_str(&format!(" ({code}: {})", e.error_message.as_deref().unwrap_or("")));
    }
    line
}

fn list(config: &Config, limit: usize) -> Result<(), CliError> {
    let mut store = Store::open(&config.database_path)?;
    let entries = store.read(|db| db.outbox_list(limit))?;
    if entries.is_empty() {
        println!("the outbox is empty");
        return Ok(());
    }
    println!(
        "{:>6}  {:<9}  {:<16}  {:<6}  {:<13}  {:>3}  {:<34}  error",
        "id", "state", "to", "via", "kind", "try", "sid"
    );
    for e in &entries {
        let error = e.held_by().unwrap_or_else(|| {
            e.error_code.as_ref().map_or(String::new(), |code| {
                format!("{code}: {}", e.error_message.as_deref().unwrap_or(""))
            })
        });
        println!(
            "{:>6}  {:<9}  {:<16}  {:<6}  {:<13}  {:>3}  {:<34}  {error}",
            e.id,
            e.state.as_str(),
            e.to,
            e.channel.as_str(),
            e.kind().as_str(),
            e.attempts,
            e.sid.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

fn retry(config: &Config, id: i64) -> Result<(), CliError> {
    let mut store = Store::open(&config.database_path)?;
    match store.write(|db| db.release(id, Timestamp::now()))? {
        Some(true) => {
            println!("message {id} is queued again; the running server sends it");
            Ok(())
        }
        Some(false) => Err(CliError::Usage(format!(
            "message {id} is neither uncertain nor failed; only those can be retried (see `shopbot outbox list`)"
        ))),
        None => Err(CliError::Usage(format!("there is no outbound message {id}"))),
    }
}

fn resolve(config: &Config, id: i64, arrived: bool) -> Result<(), CliError> {
    let mut store = Store::open(&config.database_path)?;
    match store.write(|db| db.resolve(id, arrived, Timestamp::now()))? {
        Some(true) => {
            let word = if arrived { "sent" } else { "not sent (failed)" };
            println!("message {id} is marked {word}; the messages waiting behind it go now");
            Ok(())
        }
        Some(false) => Err(CliError::Usage(format!(
            "message {id} is not uncertain; only an uncertain message can be resolved (see `shopbot outbox list`)"
        ))),
        None => Err(CliError::Usage(format!("there is no outbound message {id}"))),
    }
}
