//! `shopbot orders import FILE.csv`: upsert orders from a spreadsheet export.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Subcommand};

use super::{CliError, ConfigArg};
use crate::orders;
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add or update orders from a CSV export (header row: order number,
    /// status, optional phone, note, updated date).
    Import(ImportArgs),
}

#[derive(Debug, ClapArgs)]
pub struct ImportArgs {
    /// The CSV file.
    file: PathBuf,
    #[command(flatten)]
    config: ConfigArg,
}

pub fn execute(command: Command) -> Result<(), CliError> {
    match command {
        Command::Import(args) => import(args),
    }
}

fn import(args: ImportArgs) -> Result<(), CliError> {
    let config = args.config.load_offline()?;
    let file = std::fs::File::open(&args.file).map_err(|source| CliError::InputFile {
        path: args.file.clone(),
        source,
    })?;
    let mut store = Store::open(&config.database_path)?;
    let report = orders::import(
        &mut store,
        file,
        &jiff::Timestamp::now().to_zoned(config.shop.timezone.clone()),
    )
    .map_err(|source| CliError::Import {
        path: args.file.display().to_string(),
        source,
    })?;
    println!(
        "{}: {} added, {} updated, {} unchanged, {} rejected",
        args.file.display(),
        report.added,
        report.updated,
        report.unchanged,
        report.rejected.len()
    );
    if !report.kept_columns.is_empty() {
        println!(
            "  not in the file, so kept as they were: {} (a column that is there but empty clears the value)",
            report.kept_columns.join(", ")
        );
    }
    for rejected in &report.rejected {
        println!("  line {}: {}", rejected.line, rejected.reason);
    }
    if report.rejected.is_empty() {
        Ok(())
    } else {
        Err(CliError::Partial(format!(
            "{} row(s) rejected; the other rows were imported. Fix those lines and import the file again.",
            report.rejected.len()
        )))
    }
}
