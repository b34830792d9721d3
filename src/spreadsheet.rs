//! Spreadsheet exports that open cleanly: the submissions as CSV, written once
//! for `shopbot export submissions --format csv` and the inbox's download.
//!
//! Excel reads a CSV without a byte-order mark as the local code page and
//! garbles accents and emoji, so the file starts with a UTF-8 BOM. A cell that
//! a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a
//! tab or a CR: "CSV injection") gets a leading `'`, which spreadsheets show as
//! text; a plain number such as `+27821234567` or `-5` stays as it is.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::Write;

use jiff::tz::TimeZone;

use crate::store::SubmissionRecord;

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A cell as a spreadsheet must read it: formula-like text prefixed with `'`.
pub fn safe_cell(text: &str) -> Cow<'_, str> {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !is_plain_number(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `+27821234567`, `-5`, `-0.25`: an optional sign, digits, at most one point.
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && !(digits.contains('.') && fraction.is_empty())
}

/// Columns: id, form, date (shop time), customer, name, one per question field
/// (its text) in order of first appearance, then `media`: every attachment of
/// the submission (Twilio's URL, or `meta:<media id>`), space-separated; last
/// the owner's `status` (`new`, `in_progress`, `done`) and `status_note`.
pub fn write_submissions(mut out: impl Write, rows: &[SubmissionRecord], tz: &TimeZone) -> std::io::Result<()> {
    out.write_all(BOM)?;
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
    header.extend(["media", "status", "status_note"]);
    csv.write_record(header.iter().map(|h| safe_cell(h).into_owned()))?;
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
                // A media id, named by its channel (`meta:…`; a submission
                // whose message is gone has only Meta's kind of id).
                (Some(id), true) => format!("{}:{id}", row.channel.map_or("meta", |c| c.as_str())),
                _ => m.url.clone(),
            })
            .collect();
        record.push(media.join(" "));
        record.push(row.status.as_str().to_string());
        record.push(row.status_note.clone().unwrap_or_default());
        csv.write_record(record.iter().map(|cell| safe_cell(cell).into_owned()))?;
    }
    csv.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_numbers_kept() {
        for risky in [
            "=1+1",
            "+SUM(A1:A2)",
            "-2+3",
            "@cmd",
            "\tx",
            "\rx",
            "=HYPERLINK(\"http://x\")",
        ] {
            assert_eq!(safe_cell(risky), format!("'{risky}"), "{risky:?}");
        }
        for plain in [
            "+27821234567",
            "-5",
            "-0.25",
            "12",
            "Screen is cracked",
            "",
            "DEF-20250119143022",
        ] {
            assert_eq!(safe_cell(plain), plain, "{plain:?}");
        }
        assert_eq!(safe_cell("+27 82 123"), "'+27 82 123", "not a plain number");
    }
}
