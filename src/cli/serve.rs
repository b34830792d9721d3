//! `shopbot serve --config FILE`: the production server.

use clap::Args as ClapArgs;
use simplelog::LevelFilter;

use super::{logging, CliError, ConfigArg};
use crate::server::{self, Options};

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
}

pub fn execute(args: Args) -> Result<(), CliError> {
    logging::init(LevelFilter::Info);
    let config = args.config.load()?;
    if config.server.public_base_url.is_none() {
        log::warn!(target: "serve", "!!! [server] public_base_url is not set: signatures are checked against https://<Host header><path>. Behind a proxy or tunnel that is often wrong; set public_base_url to the exact URL Twilio calls.");
    }
    if !config.webhooks.validate_signatures {
        log::warn!(target: "serve", "!!! [webhooks] validate_signatures = false: anyone who finds this URL can pose as any customer.");
    }
    let running = server::start(&config, Options::default())?;
    let base = config
        .server
        .public_base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", running.addr()));
    log::info!(target: "serve", "listening on {}; database {}; menu: {}", running.addr(), config.database_path.display(), config.menu_source);
    log::info!(target: "serve", "Twilio webhook URL: {base}{}", config.webhooks.inbound_path);
    running.wait();
    Ok(())
}
