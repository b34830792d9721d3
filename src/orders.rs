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

use std::io::{BufRead, BufReader, Read};

use jiff::Zoned;

use crate::phone::PhoneNumber;
use crate::store::{Cell, Db, NewOrder, OrderUpsert, Store, StoreError};

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
    /// Orders whose status changed and that have a customer's number.
    pub status_changes: usize,
    /// What telling those customers did (`[notify] order_status`).
    pub notices: Notices,
}

/// An order whose status changed, and whose customer can be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The order number.
    pub number: String,
    /// The new status.
    pub status: String,
    /// The order's note, if any.
    pub note: Option<String>,
    /// The customer's number.
    pub phone: PhoneNumber,
}

/// What telling customers their order changed did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Notices {
    /// Customers an update was queued for.
    pub told: usize,
    /// Customers outside the 24-hour window with no order template configured.
    pub untold: usize,
    /// Customers who opted out (sent STOP).
    pub opted_out: usize,
}

impl std::fmt::Display for Notices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} customer(s) told, {} could not be told (outside the 24-hour window and no template), {} opted out",
            self.told, self.untold, self.opted_out
        )
    }
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

/// The longest order number.
pub const MAX_NUMBER_CHARS: usize = 64;
/// The longest status (one line of the customer's answer).
pub const MAX_STATUS_CHARS: usize = 200;
/// The longest note (a WhatsApp message shows 1,600 characters on Twilio).
pub const MAX_NOTE_CHARS: usize = 1_000;
/// The longest update date.
pub const MAX_UPDATED_CHARS: usize = 40;

struct Columns {
    number: usize,
    status: usize,
    phone: Option<usize>,
    note: Option<usize>,
    updated: Option<usize>,
}

/// Reads a CSV export and upserts its good rows in one transaction.
pub fn import(store: &mut Store, input: impl Read, now: &Zoned) -> Result<ImportReport, ImportError> {
    store.write(|db| import_into(db, input, now))
}

/// Streams a CSV export into the open transaction `db`: each good row is
/// upserted as it is read, each bad one reported with its line. Memory stays
/// bounded whatever the file's size: one record at a time, and the order
/// numbers already seen are kept in the database's scratch space, not here.
pub fn import_into(db: &Db<'_>, input: impl Read, now: &Zoned) -> Result<ImportReport, ImportError> {
    import_telling(db, input, now, &mut |_, _| Ok(()))
}

/// What an import does with each order whose status changed and that has a
/// customer's number, as it goes (in the import's transaction).
pub type OnStatusChange<'a> = dyn FnMut(&Db<'_>, &StatusChange) -> Result<(), StoreError> + 'a;

/// [`import_into`], handing each status change of an order with a customer's
/// number to `on_change` as it is made (so nothing about the changes is kept
/// here, and memory stays bounded).
pub fn import_telling(
    db: &Db<'_>,
    input: impl Read,
    now: &Zoned,
    on_change: &mut OnStatusChange<'_>,
) -> Result<ImportReport, ImportError> {
    let mut input = BufReader::new(input);
    let delimiter = sniff_delimiter(&mut input).map_err(csv::Error::from)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(CrlfToLf::new(input));
    let columns = find_columns(reader.headers()?)?;
    let mut report = ImportReport {
        kept_columns: columns.absent(),
        ..ImportReport::default()
    };
    db.begin_order_import()?;
    let mut record = csv::StringRecord::new();
    loop {
        let line = match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => record.position().map_or(0, |p| p.line()),
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => return Err(e.into()),
            Err(e) => {
                report.reject(e.position().map_or(0, |p| p.line()), e.to_string());
                continue;
            }
        };
        if !record.iter().all(str::is_empty) {
            report.take(db, read_row(&record, &columns), (line, now), on_change)?;
        }
    }
    Ok(report)
}

impl ImportReport {
    /// Upserts a good row, or reports a bad or repeated one.
    fn take(
        &mut self,
        db: &Db<'_>,
        row: Result<NewOrder, String>,
        (line, now): (u64, &Zoned),
        on_change: &mut OnStatusChange<'_>,
    ) -> Result<(), StoreError> {
        let order = match row {
            Ok(order) => order,
            Err(reason) => {
                self.reject(line, reason);
                return Ok(());
            }
        };
        match db.order_seen_in_import(&order.number, line)? {
            Some(first) => self.reject(line, format!("order {} already appears on line {first}", order.number)),
            None => match db.upsert_order(&order, now.timestamp(), now.date())? {
                OrderUpsert::Added => self.added += 1,
                OrderUpsert::Updated => self.updated += 1,
                OrderUpsert::StatusChanged { phone, note } => {
                    self.updated += 1;
                    if let Some(phone) = phone.and_then(|p| PhoneNumber::parse(&p).ok()) {
                        self.status_changes += 1;
                        let change = StatusChange {
                            number: order.number,
                            status: order.status,
                            note,
                            phone,
                        };
                        on_change(db, &change)?;
                    }
                }
                OrderUpsert::Unchanged => self.unchanged += 1,
            },
        }
        Ok(())
    }

    fn reject(&mut self, line: u64, reason: String) {
        self.rejected.push(Rejected { line, reason });
    }
}

/// Skips Excel's BOM and picks the delimiter from the header line: `;` when it
/// has semicolons and no commas (a European Excel export), else `,`.
fn sniff_delimiter(input: &mut impl BufRead) -> std::io::Result<u8> {
    if input.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
        input.consume(3);
    }
    let head = input.fill_buf()?;
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    Ok(if first_line.contains(&b';') && !first_line.contains(&b',') {
        b';'
    } else {
        b','
    })
}

/// A reader that turns every CRLF into LF (a CR elsewhere stays): the csv
/// crate counts a CRLF file's lines one too low (BurntSushi/rust-csv#395), and
/// Excel writes CRLF.
struct CrlfToLf<R> {
    inner: R,
    /// The last chunk ended in a CR: whether it stays depends on the next byte.
    pending_cr: bool,
}

impl<R: BufRead> CrlfToLf<R> {
    fn new(inner: R) -> Self {
        CrlfToLf {
            inner,
            pending_cr: false,
        }
    }
}

impl<R: BufRead> Read for CrlfToLf<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < out.len() {
            let available = self.inner.fill_buf()?;
            if self.pending_cr {
                self.pending_cr = false;
                if available.first() != Some(&b'\n') {
                    out[n] = b'\r';
                    n += 1;
                }
                continue;
            }
            if available.is_empty() {
                break;
            }
            let mut used = 0;
            while used < available.len() && n < out.len() && !self.pending_cr {
                let b = available[used];
                used += 1;
                match (b, available.get(used)) {
                    (b'\r', Some(b'\n')) => continue,
                    (b'\r', None) => self.pending_cr = true,
                    _ => {
                        out[n] = b;
                        n += 1;
                    }
                }
            }
            self.inner.consume(used);
            if n > 0 && !self.pending_cr {
                break;
            }
        }
        Ok(n)
    }
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
    check_length("the order number", &number, MAX_NUMBER_CHARS)?;
    check_controls("the order number", &number, false)?;
    // As a customer's lookup reads what they type: `#A1`, `# A1` and `A1`
    // are one order, and `#` alone is none.
    let number = crate::engine::order_number(&number).to_string();
    if number.is_empty() {
        return Err("the order number is empty".into());
    }
    let status = text(columns.status).ok_or_else(|| format!("order {number} has no status"))?;
    check_length(&format!("order {number}: the status"), &status, MAX_STATUS_CHARS)?;
    check_controls(&format!("order {number}: the status"), &status, false)?;
    let phone = match optional(columns.phone) {
        Cell::Set(Some(p)) => Cell::Set(Some(
            check_controls(&format!("order {number}: the phone"), &p, false)
                .and_then(|()| PhoneNumber::parse(&p).map_err(|e| format!("order {number}: phone {e}")))?,
        )),
        Cell::Set(None) => Cell::Set(None),
        Cell::Keep => Cell::Keep,
    };
    let note = optional(columns.note);
    if let Cell::Set(Some(note)) = &note {
        check_length(&format!("order {number}: the note"), note, MAX_NOTE_CHARS)?;
        check_controls(&format!("order {number}: the note"), note, true)?;
    }
    let updated = optional(columns.updated);
    if let Cell::Set(Some(updated)) = &updated {
        check_length(&format!("order {number}: the update date"), updated, MAX_UPDATED_CHARS)?;
        check_controls(&format!("order {number}: the update date"), updated, false)?;
    }
    Ok(NewOrder {
        number,
        status,
        phone,
        note,
        updated,
    })
}

/// A control character (NUL, escape, DEL, C1 …) in a cell is refused, not
/// stored: it comes from a broken export or a hostile sheet, and would reach
/// customers' messages, the inbox and the next spreadsheet. Only a note may
/// hold line breaks and tabs (a quoted cell written on several lines).
fn check_controls(what: &str, value: &str, note: bool) -> Result<(), String> {
    let allowed = |c: char| note && matches!(c, '\n' | '\r' | '\t');
    match value.chars().position(|c| c.is_control() && !allowed(c)) {
        None => Ok(()),
        Some(at) => {
            let c = value.chars().nth(at).unwrap_or_default();
            Err(format!(
                "{what} holds a control character (U+{:04X}) at character {}; remove it from the sheet",
                u32::from(c),
                at + 1
            ))
        }
    }
}

/// A text longer than a customer's message can show is refused, not stored
/// (its reason quotes only its start).
fn check_length(what: &str, value: &str, max: usize) -> Result<(), String> {
    let count = value.chars().count();
    if count <= max {
        return Ok(());
    }
    let start: String = value.chars().take(20).collect();
    Err(format!(
        "{what} (\"{start}…\") has {count} characters; at most {max} fit in a customer's message"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Imports `csv` into a new in-memory store.
    fn run(csv: &str) -> (Store, ImportReport) {
        let mut store = Store::open_in_memory().unwrap();
        let report = import(&mut store, csv.as_bytes(), &Zoned::now()).unwrap();
        (store, report)
    }

    fn rejected(report: &ImportReport) -> Vec<(u64, &str)> {
        report.rejected.iter().map(|r| (r.line, r.reason.as_str())).collect()
    }

    fn public_order(store: &mut Store, number: &str) -> Option<crate::engine::render::OrderView> {
        let anyone = crate::message::ContactRef::phone(PhoneNumber::parse("+27829999999").unwrap());
        store.read(|db| db.order_for(number, &anyone)).unwrap()
    }

    #[test]
    fn reads_columns_by_name_in_any_order_and_reports_bad_rows() {
        let csv = "\u{feff}status;Order No;Customer Phone\nReady;A1;+27821234567\n;A2;\nShipped;A3;0821234567\nReady;a1;\n\nDone;A4;\n";
        let (mut store, report) = run(csv);
        assert_eq!(report.added, 2);
        assert!(public_order(&mut store, "A4").is_some());
        let lines = rejected(&report);
        assert_eq!(lines[0], (3, "order A2 has no status"));
        assert!(lines[1].0 == 4 && lines[1].1.contains("E.164"), "{lines:?}");
        assert!(
            lines[2].0 == 5 && lines[2].1.contains("already appears on line 2"),
            "{lines:?}"
        );
    }

    #[test]
    fn a_number_is_read_as_a_customer_types_it_and_a_bare_hash_is_no_number() {
        // Found by the orders_csv fuzz target: `#` was stored as the order "".
        let (mut store, report) = run("Order,Status\n#,Lost\n# A7,Ready\n# # 8,Packed\n");
        assert_eq!(rejected(&report), [(2, "the order number is empty")]);
        assert_eq!(public_order(&mut store, "A7").map(|o| o.number).as_deref(), Some("A7"));
        assert_eq!(public_order(&mut store, "8").map(|o| o.number).as_deref(), Some("8"));
        let (count, _) = store.read(|db| db.orders("", 10)).unwrap();
        assert_eq!(count, 2);
    }

    #[test]
    fn every_repeat_of_an_order_names_its_first_line() {
        let (_, report) = run("Order,Status\nA1,New\nA1,Ready\na1,Shipped\n");
        assert_eq!(
            rejected(&report),
            [
                (3, "order A1 already appears on line 2"),
                (4, "order a1 already appears on line 2")
            ]
        );
    }

    #[test]
    fn a_second_import_in_one_session_starts_with_no_numbers_seen() {
        let mut store = Store::open_in_memory().unwrap();
        for _ in 0..2 {
            let report = import(&mut store, "Order,Status\nA1,New\n".as_bytes(), &Zoned::now()).unwrap();
            assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        }
    }

    #[test]
    fn crlf_files_report_the_same_line_numbers_as_lf_files() {
        // BurntSushi/rust-csv#395: with CRLF every rejected row was one line too low.
        let lf = "Order,Status\nA1,New\nA2,\nA3,Ready\n,Lost\n";
        let crlf = lf.replace('\n', "\r\n");
        let lines = |text: &str| -> Vec<u64> { run(text).1.rejected.iter().map(|r| r.line).collect() };
        assert_eq!(lines(lf), [3, 5]);
        assert_eq!(lines(&crlf), [3, 5]);
        let (mut store, _) = run("Order,Status,Note\r\nA1,New,\"two\r\nlines\"\r\n");
        let note = public_order(&mut store, "A1").unwrap().note;
        assert_eq!(note.as_deref(), Some("two\nlines"));
    }

    #[test]
    fn crlf_to_lf_is_the_same_whatever_the_chunks() {
        let text = b"a\r\nb\rc\r\r\n\r\r\nd\r";
        let want = b"a\nb\rc\r\n\r\nd\r".to_vec();
        for capacity in 1..=text.len() {
            for out_size in [1, 2, 3, 64] {
                let mut reader = CrlfToLf::new(BufReader::with_capacity(capacity, &text[..]));
                let mut got = Vec::new();
                let mut buf = vec![0; out_size];
                loop {
                    let n = reader.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                assert_eq!(got, want, "buffer {capacity}, reads of {out_size}");
            }
        }
    }

    #[test]
    fn a_changed_status_without_an_updated_column_is_dated_the_day_of_the_import() {
        let mut store = Store::open_in_memory().unwrap();
        let january = jiff::civil::date(2025, 1, 18)
            .at(9, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .unwrap();
        import(
            &mut store,
            "Order,Status,Updated\nA1,Ready,2025-01-18\nA2,Ready,\n".as_bytes(),
            &january,
        )
        .unwrap();
        // A sheet without the Updated column, in Johannesburg, at 23:30 UTC:
        // already the next day there.
        let later = jiff::civil::date(2025, 2, 3)
            .at(23, 30, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .unwrap()
            .with_time_zone(jiff::tz::TimeZone::get("Africa/Johannesburg").unwrap());
        import(
            &mut store,
            "Order,Status\nA1,Out for delivery\nA2,Ready\nA3,New\n".as_bytes(),
            &later,
        )
        .unwrap();
        let mut updated = |number: &str| public_order(&mut store, number).unwrap().updated;
        assert_eq!(
            updated("A1").as_deref(),
            Some("2025-02-04"),
            "a new status, today's date"
        );
        assert_eq!(updated("A2"), None, "the same status keeps its date");
        assert_eq!(updated("A3"), None, "a new order is not a change");
    }

    #[test]
    fn finding_11_control_characters_in_a_cell_are_refused_with_their_line() {
        let csv = "Order,Status,Phone,Note\nA1\0,Ready,,\nA2,Re\u{1b}[2Jady,,\nA3,Ready,+2782\u{7f}1234567,\n\
                   A4,Ready,,\"two\nlines\tand a tab\"\nA5,Ready,,bell\u{7}\nA6,Ready,,\n";
        let (mut store, report) = run(csv);
        let lines = rejected(&report);
        assert_eq!(lines.iter().map(|l| l.0).collect::<Vec<_>>(), [2, 3, 4, 7], "{lines:?}");
        assert!(
            lines[0]
                .1
                .contains("the order number holds a control character (U+0000) at character 3"),
            "{lines:?}"
        );
        assert!(
            lines[1].1.contains("order A2: the status") && lines[1].1.contains("U+001B"),
            "{lines:?}"
        );
        assert!(
            lines[2].1.contains("order A3: the phone") && lines[2].1.contains("U+007F"),
            "{lines:?}"
        );
        assert!(
            lines[3].1.contains("order A5: the note") && lines[3].1.contains("U+0007"),
            "{lines:?}"
        );
        assert!(public_order(&mut store, "A1").is_none() && public_order(&mut store, "A2").is_none());
        assert_eq!(
            public_order(&mut store, "A4").unwrap().note.as_deref(),
            Some("two\nlines\tand a tab")
        );
        assert!(
            public_order(&mut store, "A6").is_some(),
            "the rest of the sheet is imported"
        );
    }

    #[test]
    fn texts_longer_than_a_message_can_show_are_refused_with_their_line() {
        let long_note = "n".repeat(MAX_NOTE_CHARS + 1);
        let long_status = "s".repeat(MAX_STATUS_CHARS + 1);
        let fits = "f".repeat(MAX_NOTE_CHARS);
        let csv = format!(
            "Order,Status,Note,Updated\nA1,Ready,{long_note},\nA2,{long_status},,\nA3,Ready,{fits},\nA4,Ready,,{}\n",
            "9".repeat(MAX_UPDATED_CHARS + 1)
        );
        let (mut store, report) = run(&csv);
        let lines = rejected(&report);
        assert_eq!(lines.iter().map(|l| l.0).collect::<Vec<_>>(), [2, 3, 5], "{lines:?}");
        assert!(
            lines[0].1.contains("order A1: the note") && lines[0].1.contains("1001 characters"),
            "{lines:?}"
        );
        assert!(lines[1].1.contains("order A2: the status"), "{lines:?}");
        assert!(
            lines[0].1.len() < 200,
            "the reason quotes only the start: {}",
            lines[0].1
        );
        assert!(public_order(&mut store, "A1").is_none(), "not stored");
        assert_eq!(public_order(&mut store, "A3").unwrap().note, Some(fits));
    }

    #[test]
    fn an_absent_column_keeps_the_stored_value_and_an_empty_cell_clears_it() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Zoned::now();
        import(&mut store, SAMPLE_ORDERS_CSV.as_bytes(), &now).unwrap();
        let owner = crate::message::ContactRef::phone(PhoneNumber::parse("+27820000001").unwrap());
        let stranger = crate::message::ContactRef::phone(PhoneNumber::parse("+27829999999").unwrap());
        let report = import(&mut store, "Order Number,Status\nA1002,Collected\n".as_bytes(), &now).unwrap();
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
            &now,
        )
        .unwrap();
        let cleared = order(&mut store, &stranger).expect("public now: the Phone cell was empty");
        assert_eq!(cleared.note, None);
    }

    #[test]
    fn a_missing_status_column_is_named() {
        let mut store = Store::open_in_memory().unwrap();
        let err = import(&mut store, "Order,Colour\nA1,red\n".as_bytes(), &Zoned::now())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no status column"), "{err}");
        assert!(err.contains("\"Colour\""), "{err}");
    }

    #[test]
    fn import_counts_added_updated_unchanged() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Zoned::now();
        let first = import(&mut store, SAMPLE_ORDERS_CSV.as_bytes(), &now).unwrap();
        assert_eq!((first.added, first.updated, first.unchanged), (4, 0, 0));
        let again = "Order Number,Status\nA1001,Shipped\nA9,New\n";
        let second = import(&mut store, again.as_bytes(), &now).unwrap();
        assert_eq!((second.added, second.updated, second.unchanged), (1, 1, 0));
        let third = import(&mut store, again.as_bytes(), &now).unwrap();
        assert_eq!(third.unchanged, 2);
    }
}
