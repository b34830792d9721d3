//! Phone numbers as shopbot keys them.
//!
//! Twilio sends WhatsApp senders as `whatsapp:+27821234567`; the admin API and the
//! CLI accept `+27821234567` or the prefixed form. Both mean one contact, so every
//! number is normalised to strict E.164 (`+` then 8 to 15 digits, no leading zero)
//! before it reaches the store.

use std::fmt;

/// A validated E.164 number, always `+` followed by digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

/// Why a string is not a phone number we can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a phone number like +27821234567 (international E.164 form: {reason})")]
pub struct PhoneError {
    /// The text as it was given.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl PhoneNumber {
    /// Parses `+27…` or `whatsapp:+27…` (surrounding white space ignored).
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let fail = |reason| PhoneError {
            value: raw.to_string(),
            reason,
        };
        let text = raw.trim();
        let text = text.strip_prefix("whatsapp:").unwrap_or(text);
        let digits = text.strip_prefix('+').ok_or_else(|| fail("it must start with +"))?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail("only digits may follow the +"));
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(fail("E.164 numbers have 8 to 15 digits"));
        }
        if digits.starts_with('0') {
            return Err(fail("a country code never starts with 0"));
        }
        Ok(PhoneNumber(text.to_string()))
    }

    /// The E.164 form, `+27821234567`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address Twilio uses for WhatsApp, `whatsapp:+27821234567`.
    pub fn whatsapp_address(&self) -> String {
        format!("whatsapp:{}", self.0)
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatsapp_prefix_and_plain_number_are_one_contact() {
        let a = PhoneNumber::parse("whatsapp:+27821234567").unwrap();
        let b = PhoneNumber::parse(" +27821234567 ").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "+27821234567");
        assert_eq!(a.whatsapp_address(), "whatsapp:+27821234567");
    }

    #[test]
    fn rejects_what_is_not_e164() {
        for bad in [
            "27821234567",
            "+27 82 123",
            "+0821234567",
            "+1234",
            "+1234567890123456",
            "",
            "whatsapp:",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
