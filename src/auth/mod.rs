//! The owner's sign-in, pure of I/O: passwords hashed with argon2id
//! (RustCrypto's `argon2`, a well-kept crate; never hand-rolled), session and
//! CSRF tokens of 256 random bits from the operating system, a session token
//! stored only as its SHA-256, comparisons in constant time, and the throttle
//! for sign-ins ([`throttle`]) with its known devices ([`device`]).

pub mod device;
mod password;
pub mod throttle;

pub use password::{hash_password, verify_password, PasswordError, MIN_PASSWORD_CHARS};
pub use throttle::{Permit, Refused, Throttle, Trier};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A session lasts this long after its last use (sliding).
pub const SESSION_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 30);

/// 256 random bits from the operating system, as URL-safe base64.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored of a session token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// SHA-256 of `bytes`, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether two secrets are equal, in constant time (SHA-256 of both first,
/// so not even their lengths leak).
pub fn same_secret(a: &str, b: &str) -> bool {
    let digest = |s: &str| -> [u8; 32] { Sha256::digest(s.as_bytes()).into() };
    digest(a).ct_eq(&digest(b)).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "256 bits in URL-safe base64");
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert!(same_secret(&a, &a.clone()) && !same_secret(&a, &b));
    }
}
