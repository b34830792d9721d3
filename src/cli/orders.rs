//! `shopbot orders import FILE.csv [--dry-run]`: upsert orders from a
//! spreadsheet export, and (with `[notify] order_status`) tell the customers
//! whose order's status changed. `--dry-run` shows what would change and be
//! sent, and changes nothing.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Subcommand};

use super::{CliError, ConfigArg};
use crate::notify::OrderNotices;
use crate::orders::{ImportReport, StatusChange};

/// The most changes a dry run lists one by one.
const DRY_RUN_LISTED: usize = 100;
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
    let mut would_tell = Vec::new();
    let listing = args.dry_run && notices.is_some();
    let mut each = |change: &StatusChange| {
        if listing && would_tell.len() < DRY_RUN_LISTED {
            would_tell.push(format!("    {} → {}: {}", change.number, change.phone, change.status));
        }
    };
    let import = |db: &crate::store::Db<'_>| import_and_tell(db, &file, &now, notices.as_ref(), &mut each);
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
    for line in &would_tell {
        println!("{line}");
    }
    if listing && report.status_changes > would_tell.len() {
        println!("    … and {} more", report.status_changes - would_tell.len());
    }
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
    if report.status_changes == 0 {
        return;
    }
    if !notifying {
        println!(
            "  {} order(s) with a customer's number changed status; nobody is told ([notify] order_status = true tells them)",
            report.status_changes
        );
        return;
    }
    let verb = if dry_run { "would be" } else { "were" };
    println!("  order updates ({verb} queued): {}", report.notices);
}
