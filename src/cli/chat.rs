//! `shopbot chat [--from +NUMBER] [--language CODE]`: the same bot in the
//! terminal, no network. `--language` answers in one of the menu's offered
//! languages from the first message (the switch words work too).
//! Without `--config` it uses the example menu and the demo database
//! (`--database FILE`: that one, as `demo --db FILE` does). With `--config`
//! it uses that config's menu on a scratch copy of its database (orders
//! included), so trying the bot never writes test chats into the live data
//! or opens a customer's 24-hour window; `--database FILE` chats on that file
//! instead.
//!
//! A database it writes (the demo's, or `--database`) is locked for the
//! chat's length, as a server locks it ([`crate::store::serving`]): the chat
//! refuses a database a running server uses (the demo's orders and chats stay
//! the demo's) unless `--while-serving` says to write beside the server.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args as ClapArgs;
use simplelog::LevelFilter;

use super::{demo, logging, CliError, ConfigArg};
use crate::config::Config;
use crate::conversation::{handle_inbound, Bot};
use crate::message::{Channel, ContactRef, Inbound};
use crate::phone::PhoneNumber;
use crate::store::Store;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The customer's number.
    #[arg(long, default_value = "+27820000001")]
    from: String,
    /// Use this config's menu and shop, on a scratch copy of its database
    /// (deleted at the end; the live database is never written).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// Chat on this database file instead (created if missing; with the live
    /// database's path, test chats become real customer messages).
    #[arg(long, value_name = "FILE")]
    database: Option<std::path::PathBuf>,
    /// Write to the database even while a server (`demo`, `serve`) uses it.
    #[arg(long)]
    while_serving: bool,
    /// Answer in this language (one the menu offers, e.g. de), as if the
    /// customer had picked it.
    #[arg(long, value_name = "CODE")]
    language: Option<String>,
}

pub fn execute(args: Args) -> Result<(), CliError> {
    logging::init(LevelFilter::Warn);
    let from = PhoneNumber::parse(&args.from).map_err(|e| CliError::InvalidArg {
        arg: "--from".into(),
        source: Box::new(e),
    })?;
    let scratch = tempfile::tempdir().map_err(|source| CliError::Io {
        what: "creating a scratch folder".into(),
        source,
    })?;
    let demo_db = args
        .database
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(demo::DEMO_DB));
    // The file this chat writes: none for a scratch copy.
    let written = match &args.config {
        Some(_) => args.database.as_deref(),
        None => Some(demo_db.as_path()),
    };
    let _lock = match written.filter(|_| !args.while_serving) {
        Some(path) => Some(demo::lock(
            path,
            "chat in its browser page (/demo) instead, stop it first, or add --while-serving to write to it anyway",
        )?),
        None => None,
    };
    let (config, mut store) = match &args.config {
        Some(_) => {
            let mut config = ConfigArg {
                config: args.config.clone(),
            }
            .load_offline()?;
            config.database_path = match &args.database {
                Some(path) => path.clone(),
                None => scratch_copy(&config.database_path, scratch.path())?,
            };
            let store = Store::open(&config.database_path)?;
            (config, store)
        }
        None => (Config::demo(demo_db.clone(), 0), demo::prepare_demo_db(&demo_db)?),
    };
    let bot = Bot::from_config(&config);
    if let Some(language) = &args.language {
        pick_language(&mut store, &bot, &from, language)?;
    }
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        println!(
            "Chatting as {from} with {} ({}). Type hi to start, Ctrl+D to quit.",
            config.shop.name,
            if config.database_path.starts_with(scratch.path()) {
                "a scratch copy of the live database, deleted when you quit".to_string()
            } else {
                format!("database {}", config.database_path.display())
            }
        );
    }
    let mut stdout = std::io::stdout();
    let mut line = String::new();
    let stdin = std::io::stdin();
    let mut stdin = stdin.lock();
    for turn in 0u64.. {
        if interactive {
            print!("you> ");
            let _ = stdout.flush();
        }
        line.clear();
        let read = stdin.read_line(&mut line).map_err(|source| CliError::Io {
            what: "reading the terminal".into(),
            source,
        })?;
        if read == 0 {
            break;
        }
        let message = chat_message(&from, line.trim_end_matches(['\r', '\n']), turn);
        let now = jiff::Timestamp::now();
        let handled = store.write(|db| handle_inbound(db, &bot, &message, now))?;
        for body in Channel::Local.text_limit().split(&handled.reply.joined(), usize::MAX) {
            println!("bot> {}", body.replace('\n', "\n     "));
        }
    }
    Ok(())
}

/// `--language`: the customer's language, set as if they had picked it.
fn pick_language(store: &mut Store, bot: &Bot, from: &PhoneNumber, language: &str) -> Result<(), CliError> {
    let offer = bot.menus.languages().map(|l| l.offer.clone()).unwrap_or_default();
    if !offer.iter().any(|l| l == language) {
        let offered = if offer.is_empty() {
            "the menu has no [languages]".to_string()
        } else {
            format!("the menu offers {}", offer.join(", "))
        };
        return Err(CliError::Usage(format!("--language {language}: {offered}")));
    }
    let now = jiff::Timestamp::now();
    store.write(|db| {
        let contact = db.find_or_add_contact(&ContactRef::phone(from.clone()), None, now)?;
        db.set_contact_language(contact, Some(language))
    })?;
    Ok(())
}

/// A copy of the live database in `folder` (an empty one if there is none yet).
fn scratch_copy(live: &std::path::Path, folder: &std::path::Path) -> Result<std::path::PathBuf, CliError> {
    let copy = folder.join("chat.db");
    if live.exists() {
        crate::store::backup::backup(live, &copy)?;
    }
    Ok(copy)
}

/// A terminal line as an inbound message on the local channel, with a unique key.
fn chat_message(from: &PhoneNumber, text: &str, turn: u64) -> Inbound {
    let nanos = jiff::Timestamp::now().as_nanosecond();
    Inbound {
        channel: Channel::Local,
        key: format!("CHAT{nanos:x}{turn:04x}"),
        from: ContactRef::phone(from.clone()),
        from_addr: from.to_string(),
        to_addr: "terminal".into(),
        text: text.to_string(),
        media: Vec::new(),
        profile_name: None,
        reply_to: None,
        tap: None,
        raw: "{}".into(),
    }
}
