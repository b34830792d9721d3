//! `shopbot dashboard`: the inbox's accounts. `add-user NAME` and
//! `set-password [NAME]` ask for the password twice without echo at a
//! terminal (one line from stdin otherwise, for scripts) and store it as an
//! argon2id hash; `remove-user NAME` ends the account and its sessions;
//! `users` lists them. `set-password` without a name sets the first account's
//! (the single password of earlier releases is that account, "owner").
//! A changed password or a removed account signs that user out everywhere.

use std::io::{BufRead, IsTerminal};

use clap::{Args as ClapArgs, Subcommand};

use super::{CliError, ConfigArg};
use crate::auth;
use crate::config::Config;
use crate::store::{Store, UserChange};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set the password of an inbox account (without NAME: the first account,
    /// made as "owner" if there is none). Prompted without echo; read from
    /// stdin when it is not a terminal. Signs that account out everywhere.
    SetPassword(SetPasswordArgs),
    /// Add an inbox account for a staff member, with its password (prompted
    /// as for set-password). What they do in the inbox is shown with NAME.
    AddUser(UserArgs),
    /// Remove an inbox account and sign it out. What it did stays, by name.
    RemoveUser(UserArgs),
    /// List the inbox accounts.
    Users(UsersArgs),
}

#[derive(Debug, ClapArgs)]
pub struct SetPasswordArgs {
    /// The account (as `dashboard users` lists it); without it, the first.
    name: Option<String>,
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Debug, ClapArgs)]
pub struct UserArgs {
    /// The account's name, as its user signs in with it (e.g. Thandi).
    name: String,
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Debug, ClapArgs)]
pub struct UsersArgs {
    #[command(flatten)]
    config: ConfigArg,
}

pub fn execute(command: Command) -> Result<(), CliError> {
    match command {
        Command::SetPassword(args) => set_password(args),
        Command::AddUser(args) => add_user(args),
        Command::RemoveUser(args) => remove_user(args),
        Command::Users(args) => users(args),
    }
}

fn set_password(args: SetPasswordArgs) -> Result<(), CliError> {
    let config = args.config.load_offline()?;
    let mut store = Store::open(&config.database_path)?;
    if let Some(name) = &args.name {
        known(&mut store, name)?;
    }
    let hash = new_hash()?;
    let now = jiff::Timestamp::now();
    let name = match &args.name {
        Some(name) => {
            store.write(|db| db.set_inbox_password(name, &hash, now))?;
            name.clone()
        }
        None => store.write(|db| db.set_owner_password(&hash, now))?,
    };
    println!(
        "The inbox password of {name} is set ({name}'s earlier sign-ins are signed out). Sign in at {}/admin/",
        base_url(&config)
    );
    Ok(())
}

fn add_user(args: UserArgs) -> Result<(), CliError> {
    let config = args.config.load_offline()?;
    let name = valid_name(&args.name)?;
    let mut store = Store::open(&config.database_path)?;
    if store.read(|db| db.inbox_user(Some(name)))?.is_some() {
        return Err(CliError::Usage(format!(
            "an account named {name:?} exists already (`shopbot dashboard set-password {name}` changes its password)"
        )));
    }
    let hash = new_hash()?;
    match store.write(|db| db.add_inbox_user(name, &hash, jiff::Timestamp::now()))? {
        UserChange::Done => {
            println!(
                "{name} can sign in to the inbox at {}/admin/ with their name and password.",
                base_url(&config)
            );
            Ok(())
        }
        _ => Err(CliError::Usage(format!("an account named {name:?} exists already"))),
    }
}

fn remove_user(args: UserArgs) -> Result<(), CliError> {
    let config = args.config.load_offline()?;
    let mut store = Store::open(&config.database_path)?;
    let names = store.read(|db| db.inbox_user_names())?;
    if names.len() == 1 && names[0].eq_ignore_ascii_case(&args.name) {
        return Err(CliError::Usage(format!(
            "{:?} is the only account: add another first (`shopbot dashboard add-user NAME`), or nobody could sign in",
            names[0]
        )));
    }
    match store.write(|db| db.remove_inbox_user(&args.name))? {
        UserChange::Done => {
            println!("{} can no longer sign in (signed out everywhere).", args.name);
            Ok(())
        }
        _ => Err(no_such_user(&args.name, &names)),
    }
}

fn users(args: UsersArgs) -> Result<(), CliError> {
    let config = args.config.load_offline()?;
    let mut store = Store::open(&config.database_path)?;
    let names = store.read(|db| db.inbox_user_names())?;
    if names.is_empty() {
        println!("No inbox accounts yet: `shopbot dashboard set-password` makes the first.");
    }
    for name in names {
        println!("{name}");
    }
    Ok(())
}

/// The account must exist (checked before the password is asked for).
fn known(store: &mut Store, name: &str) -> Result<(), CliError> {
    if store.read(|db| db.inbox_user(Some(name)))?.is_some() {
        return Ok(());
    }
    let names = store.read(|db| db.inbox_user_names())?;
    Err(no_such_user(name, &names))
}

fn no_such_user(name: &str, names: &[String]) -> CliError {
    CliError::Usage(format!(
        "no inbox account is named {name:?}; the accounts are: {} (`shopbot dashboard add-user {name}` adds it)",
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    ))
}

/// A name someone signs in with: 1 to 40 characters, no control characters,
/// not only spaces.
fn valid_name(name: &str) -> Result<&str, CliError> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 40 || trimmed.chars().any(char::is_control) {
        return Err(CliError::Usage(format!(
            "{name:?} cannot be an account name: use 1 to 40 letters, digits or spaces, e.g. Thandi"
        )));
    }
    Ok(trimmed)
}

fn base_url(config: &Config) -> String {
    config
        .server
        .public_base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.server.listen))
}

/// The new password, hashed.
fn new_hash() -> Result<String, CliError> {
    let password = read_password()?;
    auth::hash_password(&password).map_err(|e| CliError::InvalidArg {
        arg: "the password".into(),
        source: Box::new(e),
    })
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
