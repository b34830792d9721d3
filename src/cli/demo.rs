//! `shopbot demo [--port N]`: the zero-config try-out. Example menu, a local
//! demo database with sample orders, signature checks off (loudly), and the
//! browser chat simulator at `/demo`.

use std::path::{Path, PathBuf};

use clap::Args as ClapArgs;
use simplelog::LevelFilter;

use super::{logging, CliError};
use crate::config::Config;
use crate::orders;
use crate::server::{self, Options, StartError};
use crate::store::Store;

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

/// Opens the demo database and (re)loads the sample orders.
pub fn prepare_demo_db(path: &Path) -> Result<Store, CliError> {
    let mut store = Store::open(path)?;
    orders::import(&mut store, orders::SAMPLE_ORDERS_CSV.as_bytes(), jiff::Timestamp::now()).map_err(|source| {
        CliError::Import {
            path: "built-in sample orders".into(),
            source,
        }
    })?;
    Ok(store)
}

pub fn execute(args: Args) -> Result<(), CliError> {
    logging::init(LevelFilter::Info);
    drop(prepare_demo_db(&args.db)?);
    let config = Config::demo(args.db.clone(), args.port);
    let stop = super::serve::stop_signal()?;
    let running = server::start(&config, Options { demo_page: true }).map_err(|e| match e {
        StartError::Bind { addr, source } => CliError::DemoPort {
            addr,
            next: args.port.wrapping_add(1),
            source,
        },
        other => other.into(),
    })?;
    let base = format!("http://{}", running.addr());
    println!(
        "
!!! DEMO MODE: webhook signature checks are OFF. Do not expose this port to the internet.

shopbot demo is running for \"{shop}\".

  Chat in your browser:  {base}/demo
  Health check:          {base}/healthz
  Twilio-style webhook:  {base}/twilio/inbound
  Demo database:         {db} (sample orders A1001-A1004; A1002 belongs to +27820000001)

Try it from another terminal:
  curl -s {base}/twilio/inbound --data-urlencode From=whatsapp:+27820000001 \\
       -d MessageSid=SM$RANDOM$RANDOM --data-urlencode Body=hi
  cargo run --release -- chat          (the same bot in the terminal)

Going live: copy config.example.toml to config.toml, fill in [twilio], then
  shopbot check --config config.toml && shopbot serve --config config.toml
(see README.md, \"Going live with Twilio\").

Press Ctrl+C to stop.",
        shop = config.shop.name,
        db = args.db.display(),
    );
    let _ = stop.recv();
    println!("stopping…");
    running.shutdown();
    Ok(())
}
