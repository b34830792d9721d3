//! `shopbot export submissions [--format csv|json]`: what customers submitted,
//! for a spreadsheet or another program. Safe while the server runs.

use std::collections::BTreeSet;
use std::io::Write;

use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use jiff::tz::TimeZone;

use super::{CliError, ConfigArg};
use crate::store::{Store, SubmissionRecord};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every submission (defect reports, …) with its answers.
    Submissions(SubmissionsArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// One row per submission, one column per question (photos as URLs).
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
        Format::Csv => write_csv(out, &rows, &config.shop.timezone),
        Format::Json => write_json(out, &rows),
    };
    written.map_err(|source| CliError::Io {
        what: "writing the export".into(),
        source,
    })
}

/// Columns: id, form, date (shop time), customer, name, one per question field
/// (its text) in order of first appearance, then `media`: every attachment of
/// the submission (Twilio's URL, or `meta:<media id>`), space-separated.
fn write_csv(out: impl Write, rows: &[SubmissionRecord], tz: &TimeZone) -> std::io::Result<()> {
    let mut fields: Vec<&str> = Vec::new();
    let mut seen = BTreeSet::new();
    for answer in rows.iter().flat_map(|r| &r.answers) {
        if seen.insert(answer.field.as_str()) {
            fields.push(&answer.field);
        }
    }
    let mut csv = csv::Writer::from_writer(out);
    let mut header = vec!["id", "form", "submitted", "customer", "name"];
    header.extend(&fields);
    header.push("media");
    csv.write_record(&header)?;
    for row in rows {
        let mut record = vec![
            row.public_id.clone(),
            row.form.clone(),
            row.created_at
                .to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string(),
            row.phone.clone(),
            row.profile_name.clone().unwrap_or_default(),
        ];
        for field in &fields {
            let answer = row.answers.iter().find(|a| a.field == *field);
            record.push(answer.map_or(String::new(), |a| a.text.clone()));
        }
        let media: Vec<String> = row
            .answers
            .iter()
            .flat_map(|a| &a.media)
            .map(|m| match (&m.id, m.url.is_empty()) {
                (Some(id), true) => format!("meta:{id}"),
                _ => m.url.clone(),
            })
            .collect();
        record.push(media.join(" "));
        csv.write_record(&record)?;
    }
    csv.flush()
}

fn write_json(mut out: impl Write, rows: &[SubmissionRecord]) -> std::io::Result<()> {
    let items: Vec<serde_json::Value> = rows.iter().map(SubmissionRecord::to_json).collect();
    serde_json::to_writer_pretty(&mut out, &items)?;
    writeln!(out)
}
