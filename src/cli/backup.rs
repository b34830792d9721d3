//! `shopbot backup FILE`: a consistent online copy of the database.

use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::{CliError, ConfigArg};
use crate::store::backup;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Where to write the copy (must not exist yet).
    file: PathBuf,
    #[command(flatten)]
    config: ConfigArg,
}

pub fn execute(args: Args) -> Result<(), CliError> {
    let config = args.config.load_offline()?;
    if args.file.exists() {
        return Err(CliError::Usage(format!(
            "{} already exists; give a new file name (backups are never overwritten)",
            args.file.display()
        )));
    }
    if !config.database_path.exists() {
        return Err(CliError::Usage(format!(
            "there is no database at {} ([database] path in {}); nothing to back up",
            config.database_path.display(),
            config.source.display()
        )));
    }
    let report = backup::backup(&config.database_path, &args.file)?;
    println!(
        "backup of {} written to {} ({} bytes, {} messages, {} submissions; integrity ok)",
        config.database_path.display(),
        report.path.display(),
        report.bytes,
        report.messages,
        report.submissions
    );
    Ok(())
}
