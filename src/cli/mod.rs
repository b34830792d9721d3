//! The `shopbot` command line: argument definitions, and one place that turns
//! errors into messages and exit codes (0 ok, 1 the user's input or config needs
//! fixing, 2 something failed that is not the user's fault).

mod backup;
mod chat;
mod check;
mod dashboard;
mod demo;
mod error;
mod export;
mod logging;
mod orders;
mod outbox;
mod restore;
mod serve;
mod service;
mod sign;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use error::CliError;

/// A WhatsApp menu bot for small shops: one binary, its own SQLite database.
#[derive(Debug, Parser)]
#[command(name = "shopbot", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Try shopbot with no config and no Twilio account: example menu, sample
    /// orders, a browser chat at /demo (signature checks OFF).
    Demo(demo::Args),
    /// Chat with the bot in this terminal (no network).
    Chat(chat::Args),
    /// Run the production server.
    Serve(serve::Args),
    /// Validate a config file and its menu.
    Check(check::Args),
    /// Print the X-Twilio-Signature Twilio would send for a request.
    Sign(sign::Args),
    /// Manage orders.
    #[command(subcommand)]
    Orders(orders::Command),
    /// Queue a free-form WhatsApp message (within 24 hours of the customer's last message).
    Send(outbox::SendArgs),
    /// Queue a template message (allowed any time).
    SendTemplate(outbox::SendTemplateArgs),
    /// Look after outbound messages.
    #[command(subcommand)]
    Outbox(outbox::Command),
    /// Write a consistent copy of the database (safe while the server runs).
    Backup(backup::Args),
    /// Put a backup in place of the database (the server must be stopped).
    Restore(restore::Args),
    /// The owner's inbox in the browser (/admin/).
    #[command(subcommand)]
    Dashboard(dashboard::Command),
    /// Export data for a spreadsheet or another program.
    #[command(subcommand)]
    Export(export::Command),
    /// Run shopbot as a Windows service (on Linux: the packaged systemd unit).
    #[command(subcommand)]
    Service(service::Command),
}

/// Where to find the config when `--config` is not given.
#[derive(Debug, clap::Args)]
struct ConfigArg {
    /// The config file [default: $SHOPBOT_CONFIG, ./config.toml, /etc/shopbot/config.toml]
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
}

impl ConfigArg {
    fn resolve(&self) -> Result<PathBuf, CliError> {
        if let Some(path) = &self.config {
            return Ok(path.clone());
        }
        if let Some(path) = std::env::var_os("SHOPBOT_CONFIG").filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(path));
        }
        ["config.toml", "/etc/shopbot/config.toml"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or(CliError::NoConfig)
    }

    /// The config for serving (every key checked, webhook secrets included).
    fn load(&self) -> Result<crate::config::Config, CliError> {
        Ok(crate::config::Config::load(&self.resolve()?)?)
    }

    /// The config for an offline chore: no webhook secret needed.
    fn load_offline(&self) -> Result<crate::config::Config, CliError> {
        Ok(crate::config::Config::load_for(
            &self.resolve()?,
            crate::config::Purpose::Offline,
        )?)
    }
}

/// Parses the process arguments, runs the command and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Demo(args) => demo::execute(args),
        Command::Chat(args) => chat::execute(args),
        Command::Serve(args) => serve::execute(args),
        Command::Check(args) => check::execute(args),
        Command::Sign(args) => sign::execute(args),
        Command::Orders(command) => orders::execute(command),
        Command::Send(args) => outbox::send(args),
        Command::SendTemplate(args) => outbox::send_template(args),
        Command::Outbox(command) => outbox::execute(command),
        Command::Backup(args) => backup::execute(args),
        Command::Restore(args) => restore::execute(args),
        Command::Export(command) => export::execute(command),
        Command::Dashboard(command) => dashboard::execute(command),
        Command::Service(command) => service::execute(command),
    }
}
