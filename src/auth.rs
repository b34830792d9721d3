//! The owner's sign-in, pure of I/O: passwords hashed with argon2id
//! (RustCrypto's `argon2`, a well-kept crate; never hand-rolled), session and
//! CSRF tokens of 256 random bits from the operating system, a session token
//! stored only as its SHA-256, comparisons in constant time, and the throttle
//! for failed sign-ins per client address.
//!
//! An unknown password (no password set yet) costs the same time as a wrong
//! one: it is checked against a fixed hash, so timing says nothing.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// A session lasts this long after its last use (sliding).
pub const SESSION_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_hours(24 * 30);

/// A password that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Too short.
    #[error("the password has {0} characters; use at least {MIN_PASSWORD_CHARS}")]
    TooShort(usize),
    /// Hashing failed (the operating system gave no randomness).
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// The argon2id hash (a PHC string with its salt) of `password`.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort(chars));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the stored hash. With no (or an unreadable)
/// hash it is checked against a fixed one and fails, in the same time.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    let parsed = stored.and_then(|s| PasswordHash::new(s).ok());
    let dummy;
    let (hash, real) = match parsed {
        Some(hash) => (hash, true),
        None => {
            dummy = dummy_hash();
            match PasswordHash::new(&dummy) {
                Ok(hash) => (hash, false),
                Err(_) => return false,
            }
        }
    };
    let matches = Argon2::default().verify_password(password.as_bytes(), &hash).is_ok();
    matches && real
}

/// A hash of a password nobody knows, with the default parameters.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let salt =
                SaltString::encode_b64(b"shopbot-no-password").unwrap_or_else(|_| SaltString::generate(&mut OsRng));
            Argon2::default()
                .hash_password(new_token().as_bytes(), &salt)
                .map(|h| h.to_string())
                .unwrap_or_default()
        })
        .clone()
}

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

/// Failed sign-ins per client address: more than `limit` within `window`
/// and the address waits.
pub struct Throttle {
    limit: usize,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl Throttle {
    /// The sign-in throttle: 5 failures a minute.
    pub fn sign_in() -> Throttle {
        Throttle::new(5, Duration::from_secs(60))
    }

    /// A throttle of `limit` failures per `window`.
    pub fn new(limit: usize, window: Duration) -> Throttle {
        Throttle {
            limit,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok` if `client` may try now, else how long it must wait.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let Ok(mut failures) = self.failures.lock() else {
            return Ok(());
        };
        let Some(times) = failures.get_mut(&client) else {
            return Ok(());
        };
        while times.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            times.pop_front();
        }
        if times.len() < self.limit {
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        Err(self.window.saturating_sub(now.duration_since(oldest)))
    }

    /// Notes a failed attempt from `client`.
    pub fn failed(&self, client: IpAddr, now: Instant) {
        if let Ok(mut failures) = self.failures.lock() {
            // Bounded: an address keeps at most `limit` times, and the map is
            // pruned of quiet addresses when it grows.
            if failures.len() > 10_000 {
                let window = self.window;
                failures.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < window));
            }
            let times = failures.entry(client).or_default();
            times.push_back(now);
            while times.len() > self.limit {
                times.pop_front();
            }
        }
    }

    /// A successful sign-in forgets the address's failures.
    pub fn succeeded(&self, client: IpAddr) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&client);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_hashes_to_argon2id_and_verifies() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(Some(&hash), "correct horse battery"));
        assert!(!verify_password(Some(&hash), "correct horse batterY"));
        assert!(
            !verify_password(None, "correct horse battery"),
            "no password set: nothing matches"
        );
        assert!(!verify_password(Some("not a hash"), "x"));
        assert_eq!(hash_password("short"), Err(PasswordError::TooShort(5)));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "256 bits in URL-safe base64");
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert!(same_secret(&a, &a.clone()) && !same_secret(&a, &b));
    }

    #[test]
    fn the_throttle_lets_five_failures_through_a_minute() {
        let throttle = Throttle::sign_in();
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        let start = Instant::now();
        for _ in 0..5 {
            assert!(throttle.check(client, start).is_ok());
            throttle.failed(client, start);
        }
        let wait = throttle.check(client, start).unwrap_err();
        assert_eq!(wait, Duration::from_secs(60));
        assert!(
            throttle.check("192.0.2.8".parse().unwrap(), start).is_ok(),
            "per address"
        );
        assert!(throttle.check(client, start + Duration::from_secs(61)).is_ok());
        throttle.succeeded(client);
        assert!(throttle.check(client, start).is_ok());
    }
}
