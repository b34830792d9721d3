//! `shopbot chat [--from +NUMBER]`: the same bot in the terminal, no network.
//! Without `--config` it uses the example menu and the demo database.

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
    /// Use this config's menu and database instead of the demo ones.
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<std::path::PathBuf>,
}

pub fn execute(args: Args) -> Result<(), CliError> {
    logging::init(LevelFilter::Warn);
    let from = PhoneNumber::parse(&args.from).map_err(|e| CliError::InvalidArg {
        arg: "--from".into(),
        source: Box::new(e),
    })?;
    let (config, mut store) = match &args.config {
        Some(_) => {
            let config = ConfigArg {
                config: args.config.clone(),
            }
            .load()?;
            let store = Store::open(&config.database_path)?;
            (config, store)
        }
        None => {
            let path = std::path::PathBuf::from(demo::DEMO_DB);
            let store = demo::prepare_demo_db(&path)?;
            (Config::demo(path, 0), store)
        }
    };
    let bot = Bot::from_config(&config);
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        println!(
            "Chatting as {from} with {} (database {}). Type hi to start, Ctrl+D to quit.",
            config.shop.name,
            config.database_path.display()
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
        raw: "{}".into(),
    }
}
