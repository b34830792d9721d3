//! Orders from a spreadsheet export (CSV): `shopbot orders import FILE.csv`.
//!
//! The header row names the columns, in any order and case: an order number
//! (`order`, `order number`, `order_no`, `number`, …), a `status`, and optionally
//! a `phone` (then only that customer can look the order up), a `note` and an
//! update date (`updated`, `date`, …). Excel's BOM, CRLF line ends and
//! `;`-separated exports are understood. Each row is checked on its own: a bad
//! row is rejected with its line number and reason, the good ones are upserted
//! in one transaction.
//!
//! An optional column the sheet does not have leaves the stored value alone (a
//! sheet without a Phone column must not make private orders public); a
//! present, empty cell clears it.

use std::borrow::Cow;
use std::collections::hash_map::{Entry, HashMap};
use std::io::Read;

use jiff::Timestamp;

use crate::phone::PhoneNumber;
use crate::store::{Cell, NewOrder, OrderUpsert, Store, StoreError};

/// Sample orders for the demo (A1002 belongs to the demo page's default number).
pub const SAMPLE_ORDERS_CSV: &str = "\
Order Number,Status,Phone,Note,Updated
A1001,In production,,Cutting and welding this week,2025-01-17
A1002,Ready for collection,+27820000001,Collect at the front desk (Mon-Sat),2025-01-18
A1003,Shipped,,Courier waybill TCG123456,2025-01-16
A1004,Awaiting payment,+27820000002,,2025-01-15
";

const NUMBER_NAMES: &[&str] = &[
    "order",
    "ordernumber",
    "orderno",
    "orderid",
    "number",
    "ordernr",
    "ref",
    "reference",
];
const STATUS_NAMES: &[&str] = &["status", "orderstatus", "state"];
const PHONE_NAMES: &[&str] = &[
    "phone",
    "phonenumber",
    "customerphone",
    "mobile",
    "cell",
    "whatsapp",
    "contact",
];
const NOTE_NAMES: &[&str] = &["note", "notes", "comment", "comments", "message"];
const UPDATED_NAMES: &[&str] = &[
    "updated",
    "updatedat",
    "updatedon",
    "date",
    "lastupdate",
    "lastupdated",
    "updateddate",
];

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The line in the file (1 is the header).
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// New orders.
    pub added: usize,
    /// Changed orders.
    pub updated: usize,
    /// Orders already identical.
    pub unchanged: usize,
    /// Rows not imported.
    pub rejected: Vec<Rejected>,
    /// Optional columns the sheet does not have: their stored values were kept.
    pub kept_columns: Vec<&'static str>,
}

/// Why nothing could be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not readable CSV.
    #[error("not a readable CSV file: {0}")]
    Csv(#[from] csv::Error),
    /// A required column is missing.
    #[error("the header row has no {wanted} column (found: {found}); name a column like \"{example}\"")]
    MissingColumn {
        /// Which column.
        wanted: &'static str,
        /// An accepted header name.
        example: &'static str,
        /// The headers that are there.
        found: String,
    },
    /// The database refused the import.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parsed rows (with their line numbers) and rejected ones.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Good rows.
    pub rows: Vec<(u64, NewOrder)>,
    /// Bad rows.
    pub rejected: Vec<Rejected>,
    /// Optional columns the sheet does not have.
    pub kept_columns: Vec<&'static str>,
}

struct Columns {
    number: usize,
    status: usize,
    phone: Option<usize>,
    note: Option<usize>,
    updated: Option<usize>,
}

/// Parses a CSV export.
pub fn parse(mut input: impl Read) -> Result<Parsed, ImportError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).map_err(csv::Error::from)?;
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    // The csv crate counts a CRLF file's lines one too low
    // (BurntSushi/rust-csv#395), and Excel writes CRLF: read it as LF.
    let text = crlf_to_lf(text);
    let text: &[u8] = &text;
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let delimiter = if first_line.contains(&b';') && !first_line.contains(&b',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text);
    let columns = find_columns(reader.headers()?)?;
    let mut parsed = Parsed {
        kept_columns: columns.absent(),
        ..Parsed::default()
    };
    let mut seen = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                parsed.rejected.push(Rejected {
                    line,
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        match read_row(&record, &columns) {
            Ok(order) => match seen.entry(order.number.to_lowercase()) {
                Entry::Occupied(first) => parsed.rejected.push(Rejected {
                    line,
                    reason: format!("order {} already appears on line {}", order.number, first.get()),
                }),
                Entry::Vacant(slot) => {
                    slot.insert(line);
                    parsed.rows.push((line, order));
                }
            },
            Err(reason) => parsed.rejected.push(Rejected { line, reason }),
        }
    }
    Ok(parsed)
}

/// Parses a CSV export and upserts its good rows in one transaction.
pub fn import(store: &mut Store, input: impl Read, now: Timestamp) -> Result<ImportReport, ImportError> {
    let parsed = parse(input)?;
    let mut report = ImportReport {
        rejected: parsed.rejected,
        kept_columns: parsed.kept_columns,
        ..ImportReport::default()
    };
    store.write(|db| {
        for (_, order) in &parsed.rows {
            match db.upsert_order(order, now)? {
                OrderUpsert::Added => report.added += 1,
                OrderUpsert::Updated => report.updated += 1,
                OrderUpsert::Unchanged => report.unchanged += 1,
            }
        }
        Ok::<_, ImportError>(())
    })?;
    report.rejected.sort_by_key(|r| r.line);
    Ok(report)
}

/// `text` with every CRLF as LF (a CR elsewhere stays).
fn crlf_to_lf(text: &[u8]) -> Cow<'_, [u8]> {
    if !text.windows(2).any(|w| w == b"\r\n") {
        return Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.iter().peekable();
    while let Some(&b) = bytes.next() {
        if !(b == b'\r' && bytes.peek() == Some(&&b'\n')) {
            out.push(b);
        }
    }
    Cow::Owned(out)
}

impl Columns {
    /// The optional columns the sheet does not have.
    fn absent(&self) -> Vec<&'static str> {
        [("phone", self.phone), ("note", self.note), ("updated", self.updated)]
            .into_iter()
            .filter(|(_, at)| at.is_none())
            .map(|(name, _)| name)
            .collect()
    }
}

fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn find_columns(headers: &csv::StringRecord) -> Result<Columns, ImportError> {
    let names: Vec<String> = headers.iter().map(normalise).collect();
    let find = |wanted: &[&str]| names.iter().position(|n| wanted.contains(&n.as_str()));
    let missing = |wanted, example| ImportError::MissingColumn {
        wanted,
        example,
        found: headers.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", "),
    };
    Ok(Columns {
        number: find(NUMBER_NAMES).ok_or_else(|| missing("order number", "Order Number"))?,
        status: find(STATUS_NAMES).ok_or_else(|| missing("status", "Status"))?,
        phone: find(PHONE_NAMES),
        note: find(NOTE_NAMES),
        updated: find(UPDATED_NAMES),
    })
}

fn read_row(record: &csv::StringRecord, columns: &Columns) -> Result<NewOrder, String> {
    let text = |i: usize| record.get(i).filter(|v| !v.is_empty()).map(String::from);
    // An absent column keeps the stored value; a present one sets it (empty: clears).
    let optional = |i: Option<usize>| i.map_or(Cell::Keep, |i| Cell::Set(text(i)));
    let number = text(columns.number).ok_or("the order number is empty")?;
    if number.chars().count() > 64 {
        return Err(format!("order number {number:?} is longer than 64 characters"));
    }
    let status = text(columns.status).ok_or_else(|| format!("order {number} has no status"))?;
    let phone = match optional(columns.phone) {
        Cell::Set(Some(p)) => Cell::Set(Some(
            PhoneNumber::parse(&p).map_err(|e| format!("order {number}: phone {e}"))?,
        )),
        Cell::Set(None) => Cell::Set(None),
        Cell::Keep => Cell::Keep,
    };
    Ok(NewOrder {
        number: number.trim_start_matches('#').to_string(),
        status,
        phone,
        note: optional(columns.note),
        updated: optional(columns.updated),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns_by_name_in_any_order_and_reports_bad_rows() {
        let csv = "\u{feff}status;Order No;Customer Phone\nReady;A1;+27821234567\n;A2;\nShipped;A3;0821234567\nReady;a1;\n\nDone;A4;\n";
        let parsed = parse(csv.as_bytes()).unwrap();
        let numbers: Vec<_> = parsed.rows.iter().map(|(_, o)| o.number.as_str()).collect();
        assert_eq!(numbers, ["A1", "A4"]);
        let lines: Vec<_> = parsed.rejected.iter().map(|r| (r.line, r.reason.as_str())).collect();
        assert_eq!(lines[0], (3, "order A2 has no status"));
        assert!(lines[1].0 == 4 && lines[1].1.contains("E.164"), "{lines:?}");
        assert!(
            lines[2].0 == 5 && lines[2].1.contains("already appears on line 2"),
            "{lines:?}"
        );
    }

    #[test]
    fn every_repeat_of_an_order_names_its_first_line() {
        let parsed = parse("Order,Status\nA1,New\nA1,Ready\na1,Shipped\n".as_bytes()).unwrap();
        let reasons: Vec<_> = parsed.rejected.iter().map(|r| (r.line, r.reason.as_str())).collect();
        assert_eq!(
            reasons,
            [
                (3, "order A1 already appears on line 2"),
                (4, "order a1 already appears on line 2")
            ]
        );
    }

    #[test]
    fn crlf_files_report_the_same_line_numbers_as_lf_files() {
        // BurntSushi/rust-csv#395: with CRLF every rejected row was one line too low.
        let lf = "Order,Status\nA1,New\nA2,\nA3,Ready\n,Lost\n";
        let crlf = lf.replace('\n', "\r\n");
        let lines = |text: &str| -> Vec<u64> {
            parse(text.as_bytes())
                .unwrap()
                .rejected
                .iter()
                .map(|r| r.line)
                .collect()
        };
        assert_eq!(lines(lf), [3, 5]);
        assert_eq!(lines(&crlf), [3, 5]);
        let notes = parse("Order,Status,Note\r\nA1,New,\"two\r\nlines\"\r\n".as_bytes()).unwrap();
        assert_eq!(notes.rows[0].1.note, Cell::Set(Some("two\nlines".into())));
    }

    #[test]
    fn an_absent_column_keeps_the_stored_value_and_an_empty_cell_clears_it() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Timestamp::now();
        import(&mut store, SAMPLE_ORDERS_CSV.as_bytes(), now).unwrap();
        let owner = crate::message::ContactRef::phone(PhoneNumber::parse("+27820000001").unwrap());
        let stranger = crate::message::ContactRef::phone(PhoneNumber::parse("+27829999999").unwrap());
        let report = import(&mut store, "Order Number,Status\nA1002,Collected\n".as_bytes(), now).unwrap();
        assert_eq!(report.kept_columns, ["phone", "note", "updated"]);
        fn order(store: &mut Store, who: &crate::message::ContactRef) -> Option<crate::engine::render::OrderView> {
            store.read(|db| db.order_for("A1002", who)).unwrap()
        }
        let seen = order(&mut store, &owner).expect("still the owner's");
        assert_eq!(seen.status, "Collected");
        assert_eq!(
            seen.note.as_deref(),
            Some("Collect at the front desk (Mon-Sat)"),
            "kept"
        );
        assert!(order(&mut store, &stranger).is_none(), "still private");
        import(
            &mut store,
            "Order Number,Status,Note,Phone\nA1002,Collected,,\n".as_bytes(),
            now,
        )
        .unwrap();
        let cleared = order(&mut store, &stranger).expect("public now: the Phone cell was empty");
        assert_eq!(cleared.note, None);
    }

    #[test]
    fn a_missing_status_column_is_named() {
        let err = parse("Order,Colour\nA1,red\n".as_bytes()).err().unwrap().to_string();
        assert!(err.contains("no status column"), "{err}");
        assert!(err.contains("\"Colour\""), "{err}");
    }

    #[test]
    fn import_counts_added_updated_unchanged() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Timestamp::now();
        let first = import(&mut store, SAMPLE_ORDERS_CSV.as_bytes(), now).unwrap();
        assert_eq!((first.added, first.updated, first.unchanged), (4, 0, 0));
        let again = "Order Number,Status\nA1001,Shipped\nA9,New\n";
        let second = import(&mut store, again.as_bytes(), now).unwrap();
        assert_eq!((second.added, second.updated, second.unchanged), (1, 1, 0));
        let third = import(&mut store, again.as_bytes(), now).unwrap();
        assert_eq!(third.unchanged, 2);
    }
}
