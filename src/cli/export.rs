//! `shopbot export submissions [--format csv|json]`: what customers submitted,
//! for a spreadsheet or another program. Safe while the server runs.

use std::io::Write;

use super::{CliError, ConfigArg};
use crate::spreadsheet;
use crate::store::{Store, SubmissionRecord};
use clap::{Args as ClapArgs, Subcommand, ValueEnum};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every submission (defect reports, …) with its answers.
    Submissions(SubmissionsArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// For a spreadsheet: one row per submission, one column per question,
    /// the media as URLs (UTF-8 with a BOM; formula-like cells neutralised).
    Csv,
    /// An array of objects with every answer and its media.
    Json,
}

#[derive(Debug, ClapArgs)]
pub struct SubmissionsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Only this form (node name) or ID prefix, e.g. DEF.
    #[arg(long)]
    form: Option<String>,
    #[command(flatten)]
    config: ConfigArg,
}

pub fn execute(command: Command) -> Result<(), CliError> {
    match command {
        Command::Submissions(args) => submissions(args),
    }
}

fn submissions(args: SubmissionsArgs) -> Result<(), CliError> {
    let config = args.config.load_offline()?;
    let mut store = Store::open(&config.database_path)?;
    let rows = store.read(|db| db.submissions(args.form.as_deref(), None, usize::MAX >> 1))?;
    let stdout = std::io::stdout();
    let out = stdout.lock();
    let written = match args.format {
        Format::Csv => spreadsheet::write_submissions(out, &rows, &config.shop.timezone),
        Format::Json => write_json(out, &rows),
    };
    written.map_err(|source| CliError::Io {
        what: "writing the export".into(),
        source,
    })
}

fn write_json(mut out: impl Write, rows: &[SubmissionRecord]) -> std::io::Result<()> {
    let items: Vec<serde_json::Value> = rows.iter().map(SubmissionRecord::to_json).collect();
    serde_json::to_writer_pretty(&mut out, &items)?;
    writeln!(out)
}
