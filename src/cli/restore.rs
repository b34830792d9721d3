//! `shopbot restore FILE`: a backup (or a restored replica) in place of the
//! database. Refuses while the server runs; checks and migrates a copy first;
//! keeps the replaced database beside it. See [`crate::store::restore`].

use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::{CliError, ConfigArg};
use crate::store::restore;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The backup to put in place (from `shopbot backup` or `litestream restore`); it is not changed.
    file: PathBuf,
    #[command(flatten)]
    config: ConfigArg,
}

pub fn execute(args: Args) -> Result<(), CliError> {
    let config = args.config.load_offline()?;
    if !args.file.is_file() {
        return Err(CliError::Usage(format!(
            "{} is not a file; give the backup to restore",
            args.file.display()
        )));
    }
    let db = &config.database_path;
    let report = restore::restore(&args.file, db)?;
    let (from, to) = report.versions;
    let migrated = if from < to {
        format!("; schema migrated from version {from} to {to}")
    } else {
        String::new()
    };
    println!(
        "restored {} as {} ({} messages, {} submissions; integrity ok{migrated})",
        args.file.display(),
        db.display(),
        report.messages,
        report.submissions
    );
    match report.kept {
        Some(kept) => println!("the database it replaced is kept as {}", kept.display()),
        None => println!("there was no database before"),
    }
    Ok(())
}
