//! `shopbot send`, `shopbot send-template` and `shopbot outbox list|retry`:
//! queue messages into the database the server uses (safe while it runs; the
//! server's sender thread sends them) and look after the queue.

use std::collections::BTreeMap;
use std::thread;
use std::time::{Duration, Instant};

use clap::{Args as ClapArgs, Subcommand};
use jiff::Timestamp;

use super::{CliError, ConfigArg};
use crate::config::Config;
use crate::outbox::sender::SenderSettings;
use crate::outbox::validate::{self, FieldError};
use crate::outbox::{self, policy::Refusal};
use crate::store::{NewOutbound, OutboxEntry, Store};

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
    #[command(flatten)]
    wait: WaitArgs,
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Debug, ClapArgs)]
pub struct SendTemplateArgs {
    /// The customer's number, +27… or whatsapp:+27…
    #[arg(long)]
    to: String,
    /// The approved template's Content SID (HX…).
    #[arg(long)]
    content_sid: String,
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
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{text:?} is not KEY=VALUE (e.g. 1=Ava)"))
}

pub fn send(args: SendArgs) -> Result<(), CliError> {
    let config = args.config.load()?;
    let message = validate::text(&args.to, &args.body, &args.media, &config.sender_address());
    queue(&config, message, &args.wait)
}

pub fn send_template(args: SendTemplateArgs) -> Result<(), CliError> {
    let config = args.config.load()?;
    let variables: BTreeMap<String, String> = args.vars.into_iter().collect();
    let message = validate::template(&args.to, &args.content_sid, variables, &config.sender_address());
    queue(&config, message, &args.wait)
}

pub fn execute(command: Command) -> Result<(), CliError> {
    match command {
        Command::List { limit, config } => list(&config.load()?, limit),
        Command::Retry { id, config } => retry(&config.load()?, id),
    }
}

fn queue(config: &Config, message: Result<NewOutbound, FieldError>, wait: &WaitArgs) -> Result<(), CliError> {
    let message = message.map_err(|e| CliError::Usage(format!("--{}: {}", flag(e.field), e.reason)))?;
    let mut store = Store::open(&config.database_path)?;
    let id = store
        .write(|db| outbox::enqueue(db, &message, Timestamp::now()))?
        .map_err(refused)?;
    println!("queued message {id} to {} ({})", message.to, message.kind.as_str());
    if let Err(missing) = SenderSettings::from_config(config) {
        eprintln!("warning: the server will not send it until Twilio is configured: {missing}");
    }
    if wait.wait {
        follow(&mut store, id, Duration::from_secs(wait.timeout))
    } else {
        println!("`shopbot outbox list` shows its state; the running server sends it.");
        Ok(())
    }
}

/// The command-line flag for a validation field.
fn flag(field: &str) -> &str {
    match field {
        "media_url" => "media",
        "content_sid" => "content-sid",
        "variables" => "var",
        other => other,
    }
}

fn refused(refusal: Refusal) -> CliError {
    CliError::Usage(format!("not queued: {refusal}"))
}

/// Prints each state the message goes through until it is settled.
fn follow(store: &mut Store, id: i64, timeout: Duration) -> Result<(), CliError> {
    let started = Instant::now();
    let mut last = String::new();
    loop {
        let entry = store
            .read(|db| db.outbox_entry(id))?
            .ok_or_else(|| CliError::Usage(format!("message {id} is gone from the outbox")))?;
        if entry.state != last {
            println!("{}", describe(&entry));
            last = entry.state.clone();
        }
        match entry.state.as_str() {
            "sent" => return Ok(()),
            "failed" | "uncertain" => {
                return Err(CliError::Partial(format!(
                    "message {id} was not sent ({})",
                    entry.state
                )))
            }
            _ if started.elapsed() >= timeout => {
                return Err(CliError::Partial(format!(
                    "message {id} is still {} after {}s; is `shopbot serve` running with Twilio configured?",
                    entry.state,
                    timeout.as_secs()
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
        "{:>6}  {:<9}  {:<16}  {:<8}  {:>3}  {:<34}  error",
        "id", "state", "to", "kind", "try", "sid"
    );
    for e in &entries {
        let error = e.error_code.as_ref().map_or(String::new(), |code| {
            format!("{code}: {}", e.error_message.as_deref().unwrap_or(""))
        });
        println!(
            "{:>6}  {:<9}  {:<16}  {:<8}  {:>3}  {:<34}  {error}",
            e.id,
            e.state,
            e.to,
            e.kind,
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
