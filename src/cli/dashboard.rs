//! `shopbot dashboard set-password`: the owner's inbox password, asked twice
//! without echo at a terminal (one line from stdin otherwise, for scripts),
//! stored as an argon2id hash. Setting it signs every session out.

use std::io::{BufRead, IsTerminal};

use clap::{Args as ClapArgs, Subcommand};

use super::{CliError, ConfigArg};
use crate::auth;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set the password of the owner's inbox at /admin/ (prompted without echo;
    /// read from stdin when it is not a terminal). Signs every session out.
    SetPassword(SetPasswordArgs),
}

#[derive(Debug, ClapArgs)]
pub struct SetPasswordArgs {
    #[command(flatten)]
    config: ConfigArg,
}

pub fn execute(command: Command) -> Result<(), CliError> {
    match command {
        Command::SetPassword(args) => set_password(args),
    }
}

fn set_password(args: SetPasswordArgs) -> Result<(), CliError> {
    let config = args.config.load_offline()?;
    let password = read_password()?;
    let hash = auth::hash_password(&password).map_err(|e| CliError::InvalidArg {
        arg: "the password".into(),
        source: Box::new(e),
    })?;
    let mut store = Store::open(&config.database_path)?;
    store.write(|db| db.set_owner_password(&hash, jiff::Timestamp::now()))?;
    let base = config
        .server
        .public_base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.server.listen));
    println!("The inbox password is set (any earlier sign-in is signed out). Sign in at {base}/admin/");
    Ok(())
}

/// The new password: asked twice at a terminal, else the first line of stdin.
fn read_password() -> Result<String, CliError> {
    let io = |source| CliError::Io {
        what: "reading the password".into(),
        source,
    };
    if !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(io)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = rpassword::prompt_password("New inbox password: ").map_err(io)?;
    let again = rpassword::prompt_password("The same again: ").map_err(io)?;
    if first != again {
        return Err(CliError::Usage("the two passwords differ; nothing was changed".into()));
    }
    Ok(first)
}
