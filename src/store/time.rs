//! How timestamps are stored: UTC RFC 3339 text with milliseconds
//! (`2025-01-19T12:30:22.000Z`), fixed width so text order is time order and a
//! shop owner reading the file with `sqlite3` sees real dates.

use jiff::Timestamp;

use super::StoreError;

/// The stored form of `t`.
///
/// The last one formatted on this thread is kept: the writer handles a whole
/// batch at one `now`, and one message stores it three times or more (its
/// row, the session, a submission), so it is formatted once, not each time.
pub fn to_sql(t: Timestamp) -> String {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(Timestamp, String)>> = const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| match last {
        Some((at, text)) if *at == t => text.clone(),
        _ => {
            let text = t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
            *last = Some((t, text.clone()));
            text
        }
    })
}

/// Reads a stored timestamp back.
pub fn from_sql(text: &str) -> Result<Timestamp, StoreError> {
    text.parse().map_err(|e: jiff::Error| StoreError::Corrupt {
        what: "timestamp",
        detail: format!("{text:?}: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_fixed_width() {
        let t: Timestamp = "2025-01-19T12:30:22Z".parse().unwrap();
        assert_eq!(to_sql(t), "2025-01-19T12:30:22.000Z");
        assert_eq!(from_sql(&to_sql(t)).unwrap(), t);
        let later: Timestamp = "2025-01-19T12:30:22.5Z".parse().unwrap();
        assert_eq!(
            to_sql(later),
            "2025-01-19T12:30:22.500Z",
            "not the one kept from before"
        );
        assert_eq!(to_sql(t), "2025-01-19T12:30:22.000Z");
    }
}
