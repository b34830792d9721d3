//! `shopbot serve --config FILE`: the production server, until SIGTERM / SIGINT
//! (or Ctrl+C, or a Windows service Stop), then a clean drain.

use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use clap::Args as ClapArgs;
use simplelog::LevelFilter;

use super::{logging, CliError, ConfigArg};
use crate::config::Config;
use crate::server::{self, Options};
use crate::service::{self, systemd::Watchdog};

/// If draining takes longer than this, the process exits anyway (code 1).
pub const DRAIN_LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
}

pub fn execute(args: Args) -> Result<(), CliError> {
    let config = args.config.load()?;
    logging::init_for(&config.log, LevelFilter::Info).map_err(|source| CliError::Io {
        what: format!("opening the log file set by [log] file in {}", config.source.display()),
        source,
    })?;
    if let Some(warning) = config.exposure_warning() {
        log::warn!(target: "config", "{warning}");
    }
    run(&config, &stop_signal()?)
}

/// Receives once on SIGTERM or SIGINT (Ctrl+C). SIGHUP is not a stop: it
/// reloads the menu (see `crate::reload`).
#[cfg(unix)]
pub fn stop_signal() -> Result<Receiver<()>, CliError> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT]).map_err(CliError::Signal)?;
    let (stop, stopped) = mpsc::channel();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                let _ = stop.send(());
            }
        })
        .map_err(CliError::Signal)?;
    Ok(stopped)
}

/// Receives once on Ctrl+C or the console closing (Windows).
#[cfg(windows)]
pub fn stop_signal() -> Result<Receiver<()>, CliError> {
    let (stop, stopped) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop.send(());
    })
    .map_err(|e| CliError::Signal(std::io::Error::other(e)))?;
    Ok(stopped)
}

/// Serves `config` until `stop` receives (or all its senders are gone), then
/// stops accepting, finishes the requests in flight and the current outbound
/// send, commits, closes the database and returns.
pub fn run(config: &Config, stop: &Receiver<()>) -> Result<(), CliError> {
    warn_about(config);
    let options = Options {
        reload: true,
        ..Options::default()
    };
    let running = server::start(config, options)?;
    let base = config
        .server
        .public_base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", running.addr()));
    log::info!(target: "serve", "listening on {}; database {}; menu: {}", running.addr(), config.database_path.display(), config.menu_source);
    log::info!(target: "serve", "Twilio webhook URL: {base}{}", config.webhooks.inbound_path);
    let watchdog = Watchdog::start(running.health_check());
    service::ready();
    let _ = stop.recv();
    log::info!(target: "serve", "stopping: finishing requests in flight");
    service::stopping();
    drop(watchdog);
    exit_if_stuck();
    running.shutdown();
    log::info!(target: "serve", "stopped cleanly");
    Ok(())
}

fn warn_about(config: &Config) {
    if config.server.public_base_url.is_none() {
        log::warn!(target: "serve", "!!! [server] public_base_url is not set: signatures are checked against https://<Host header><path>. Behind a proxy or tunnel that is often wrong; set public_base_url to the exact URL Twilio calls.");
    }
    if !config.webhooks.validate_signatures {
        log::warn!(target: "serve", "!!! [webhooks] validate_signatures = false: anyone who finds this URL can pose as any customer.");
    }
}

/// A drain that hangs must not keep the service from stopping forever.
fn exit_if_stuck() {
    std::thread::spawn(|| {
        std::thread::sleep(DRAIN_LIMIT);
        log::error!(target: "serve", "still draining after {DRAIN_LIMIT:?}; exiting anyway");
        std::process::exit(1);
    });
}
