//! How timestamps are stored: UTC RFC 3339 text with milliseconds
//! (`2025-01-19T12:30:22.000Z`), fixed width so text order is time order and a
//! shop owner reading the file with `sqlite3` sees real dates.

use jiff::Timestamp;

use super::StoreError;

/// The stored form of `t`.
pub fn to_sql(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
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
    }
}
