//! `shopbot demo [--port N]`: the zero-config try-out. Example menu, a local
//! demo database with sample orders, signature checks off (loudly), and the
//! browser chat simulator at `/demo`: a customer's phone and the owner's
//! (the demo's `[staff]` number), both reached through the demo channel.
//!
//! The database's serving lock ([`crate::store::serving`]) is taken before
//! anything is written to it: a second demo on the same database refuses
//! before it sets a password (which would sign the first demo's owner out).

use std::path::{Path, PathBuf};

use clap::Args as ClapArgs;
use simplelog::LevelFilter;

use super::{logging, CliError};
use crate::config::{Config, Secret, ENV_ADMIN_TOKEN};
use crate::orders;
use crate::server::{self, Options, StartError};
use crate::store::serving::ServingLock;
use crate::store::{Store, StoreError};

/// The demo database, in the current folder unless `--db` says otherwise.
pub const DEMO_DB: &str = "shopbot-demo.db";

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Port to listen on (127.0.0.1 only).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// The demo database file.
    #[arg(long, value_name = "FILE", default_value = DEMO_DB)]
    db: PathBuf,
}

/// Opens the demo database; a new one gets the sample orders (an existing
/// one keeps what the owner did to them: an upload, a changed status).
pub fn prepare_demo_db(path: &Path) -> Result<Store, CliError> {
    let new = !path.exists();
    let mut store = Store::open(path)?;
    if !new {
        return Ok(store);
    }
    orders::import(&mut store, orders::SAMPLE_ORDERS_CSV.as_bytes(), &jiff::Zoned::now()).map_err(|source| {
        CliError::Import {
            path: "built-in sample orders".into(),
            source,
        }
    })?;
    Ok(store)
}

/// What the banner's `chat` command adds to reach the demo's database: the
/// chat's `--database FILE` when the demo runs on another file than its
/// default (which the chat uses without it).
fn chat_database(db: &Path) -> String {
    if db == Path::new(DEMO_DB) {
        String::new()
    } else {
        format!(" --database {}", db.display())
    }
}

/// Takes the serving lock of the database at `path` before anything writes to
/// it; while a server (or a chat) holds it, says so with `advice`.
pub fn lock(path: &Path, advice: &str) -> Result<ServingLock, CliError> {
    ServingLock::acquire(path).map_err(|e| match e {
        StoreError::InUse { path, pid } => CliError::Usage(format!(
            "a running shopbot{} uses {}; {advice}",
            pid.map(|pid| format!(" (process {pid})")).unwrap_or_default(),
            path.display()
        )),
        other => other.into(),
    })
}

/// Gives the demo's inbox a fresh random password (printed in the banner).
fn demo_password(store: &mut Store) -> Result<String, CliError> {
    let password: String = crate::auth::new_token()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect();
    let hash = crate::auth::hash_password(&password).map_err(|e| CliError::InvalidArg {
        arg: "the demo password".into(),
        source: Box::new(e),
    })?;
    store.write(|db| db.set_owner_password(&hash, jiff::Timestamp::now()))?;
    Ok(password)
}

pub fn execute(args: Args) -> Result<(), CliError> {
    logging::init(LevelFilter::Info);
    let lock = lock(
        &args.db,
        "open the demo it runs (its terminal shows the address), stop it first, \
         or start this one on another database with --db FILE",
    )?;
    let mut store = prepare_demo_db(&args.db)?;
    let password = demo_password(&mut store)?;
    drop(store);
    // The server takes the lock again as it starts.
    drop(lock);
    let mut config = Config::demo(args.db.clone(), args.port);
    // The admin API works in the demo too, with a token from the environment.
    config.admin_token = std::env::var(ENV_ADMIN_TOKEN)
        .ok()
        .filter(|t| !t.is_empty())
        .map(Secret::new);
    let stop = super::serve::stop_signal()?;
    let running = server::start(
        &config,
        Options {
            demo_page: true,
            ..Options::default()
        },
    )
    .map_err(|e| match e {
        StartError::Bind { addr, source } => CliError::DemoPort {
            addr,
            next: args.port.wrapping_add(1),
            source,
        },
        other => other.into(),
    })?;
    let base = format!("http://{}", running.addr());
    let admin = if config.admin_token.is_some() {
        format!("  Admin API:             {base}/api/… (Authorization: Bearer $SHOPBOT_ADMIN_TOKEN)")
    } else {
        "  Admin API:             off; start the demo with SHOPBOT_ADMIN_TOKEN=… set to try it".to_string()
    };
    println!(
        "
!!! DEMO MODE: webhook signature checks are OFF. Do not expose this port to the internet.

shopbot demo is running for \"{shop}\".

  Chat in your browser:  {base}/demo   (📷 attaches a sample photo)
  The owner's phone:     the second pane of that page ({owner}, a [staff] number)
  The owner's inbox:     {base}/admin/   password: {password}   (new at every demo start)
  Health check:          {base}/healthz
  Twilio-style webhook:  {base}/twilio/inbound
{admin}
  Demo database:         {db} (sample orders A1001-A1004; A1002 belongs to +27820000001)

The whole loop: the customer sends 4 (a person, please); the alert reaches the
owner's phone; tap ↩ Reply on it and answer, or answer in the inbox; the customer
gets it, and the inbox shows it ✓✓ read; #done (or \"Hand back to the bot\") hands
the customer back. Messages reach both phones through a local demo channel,
never WhatsApp (Developer → \"Fail the next message\" shows a failure).

Try it from another terminal:
  curl -s {base}/twilio/inbound --data-urlencode From=whatsapp:+27820000001 \\
       -d MessageSid=SM$RANDOM$RANDOM --data-urlencode Body=hi
  cargo run --release -- chat --while-serving{chat_db}   (the same bot in the terminal, on this demo's database)

The shopbot command: target/release/shopbot (built by `cargo run --release`),
or put it on your PATH with `cargo install --path .` from this folder.

Going live: copy config.example.toml to config.toml, fill in [twilio] (or [meta]), then
  shopbot check --config config.toml && shopbot serve --config config.toml
(see README.md, \"Going live with Twilio\" and \"Going live with Meta's Cloud API\").

Press Ctrl+C to stop.",
        shop = config.shop.name,
        db = args.db.display(),
        chat_db = chat_database(&args.db),
        owner = crate::config::DEMO_OWNER_PHONE,
    );
    let _ = stop.recv();
    println!("stopping…");
    running.shutdown();
    Ok(())
}
