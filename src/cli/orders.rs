//! `shopbot orders import FILE.csv [--dry-run]`: upsert orders from a
//! spreadsheet export, and (with `[notify] order_status`) tell the customers
//! whose order's status changed. `--dry-run` shows what would change and be
//! sent, and changes nothing.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Subcommand};

use super::{CliError, ConfigArg};
use crate::notify::OrderNotices;
use crate::orders::ImportReport;
use crate::store::Store;
use crate::work::import_and_tell;

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
    /// Show what the import would change and send, and change nothing.
    #[arg(long)]
    dry_run: bool,
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
    let now = jiff::Timestamp::now().to_zoned(config.shop.timezone.clone());
    let notices = OrderNotices::from_config(&config);
    let import = |db: &crate::store::Db<'_>| import_and_tell(db, &file, &now, notices.as_ref());
    let report = if args.dry_run {
        store.dry_run(import)
    } else {
        store.write(import)
    }
    .map_err(|source| CliError::Import {
        path: args.file.display().to_string(),
        source,
    })?;
    println!(
        "{}{}: {} added, {} updated, {} unchanged, {} rejected",
        if args.dry_run { "dry run, nothing changed: " } else { "" },
        args.file.display(),
        report.added,
        report.updated,
        report.unchanged,
        report.rejected.len()
    );
    print_notices(&report, notices.is_some(), args.dry_run);
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

/// The order updates of an import: how many customers were (or would be) told.
fn print_notices(report: &ImportReport, notifying: bool, dry_run: bool) {
    if !notifying {
        if !report.changed.is_empty() {
            println!(
                "  {} order(s) with a customer's number changed status; nobody is told ([notify] order_status = true tells them)",
                report.changed.len()
            );
        }
        return;
    }
    if report.changed.is_empty() {
        return;
    }
    let verb = if dry_run { "would be" } else { "were" };
    println!("  order updates ({verb} queued): {}", report.notices);
    if dry_run {
        for change in &report.changed {
            println!("    {} → {}: {}", change.number, change.phone, change.status);
        }
    }
}
