//! The owner's password: hashed with argon2id (RustCrypto's `argon2`, never
//! hand-rolled), checked in one reusable block of memory.
//!
//! Argon2 is memory-hard on purpose: a check with the default parameters
//! fills 19 MiB. Allocated per check, on whichever worker thread the sign-in
//! landed, that memory was freed by us and kept by glibc's per-thread arenas:
//! each wrong password grew the process by about 19 MiB, for good, until the
//! OOM killer came (issue 19, finding 1). So every check here runs in one
//! buffer of argon2 blocks, allocated on the first sign-in and reused ever
//! after, behind a lock: at most one check is in flight, and the memory of
//! sign-ins is bounded by one buffer whatever arrives.
//!
//! An unknown password (no password set yet) costs the same time as a wrong
//! one: it is checked with the same parameters against a fixed salt.

use std::sync::Mutex;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// The most memory a stored hash may ask a check for (argon2 blocks of
/// 1 KiB): four times the default. A hash asking for more (only a tampered
/// database has one) fails instead of growing the process.
const MAX_BLOCKS: usize = 4 * Params::DEFAULT_M_COST as usize;

/// The one buffer every check fills; see the module's doc.
static MEMORY: Mutex<Vec<Block>> = Mutex::new(Vec::new());

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

/// The argon2id hash (a PHC string with its salt) of `password`, with the
/// crate's default parameters (19 MiB, 2 passes, 1 lane).
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
/// hash it is checked against a fixed salt and fails, in the same time.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    match stored.and_then(|s| PasswordHash::new(s).ok()) {
        Some(hash) => matches_hash(&hash, password.as_bytes()),
        None => {
            let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
            let _ = compute(
                &Argon2::default(),
                password.as_bytes(),
                b"shopbot-no-password",
                &mut out,
            );
            false
        }
    }
}

/// Recomputes `hash` for `password` with the hash's own algorithm, version,
/// parameters and salt, and compares the outputs in constant time.
fn matches_hash(hash: &PasswordHash<'_>, password: &[u8]) -> bool {
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params);
    compute(&argon2, password, salt, &mut out) && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

/// Runs argon2 into `out` in the shared buffer (grown once to what the
/// parameters need, never past [`MAX_BLOCKS`]). False if it could not run.
fn compute(argon2: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> bool {
    let needed = argon2.params().block_count();
    if needed > MAX_BLOCKS {
        log::warn!(target: "admin", "the stored password hash asks for {needed} KiB of memory; refused (set the password again with `shopbot dashboard set-password`)");
        return false;
    }
    // A check that panicked mid-way poisons the lock, but the buffer is only
    // scratch space: every check overwrites what it reads.
    let mut memory = MEMORY.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if memory.len() < needed {
        memory.resize(needed, Block::default());
    }
    argon2
        .hash_password_into_with_memory(password, salt, out, &mut memory[..needed])
        .is_ok()
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
    fn hashes_with_other_parameters_verify_in_the_shared_memory() {
        let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
        for (algorithm, m_cost) in [
            (Algorithm::Argon2id, 8),
            (Algorithm::Argon2i, 64),
            (Algorithm::Argon2d, 4096),
        ] {
            let params = Params::new(m_cost, 2, 1, None).unwrap();
            let hash = Argon2::new(algorithm, Version::V0x13, params)
                .hash_password(b"another password", &salt)
                .unwrap()
                .to_string();
            assert!(verify_password(Some(&hash), "another password"), "{hash}");
            assert!(!verify_password(Some(&hash), "another passwore"), "{hash}");
        }
    }

    #[test]
    fn a_hash_asking_for_too_much_memory_fails_without_allocating_it() {
        let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
        let params = Params::new(MAX_BLOCKS as u32 + 8, 1, 1, None).unwrap();
        // Hashing it here would allocate; the PHC string is written by hand.
        let greedy = format!(
            "$argon2id$v=19$m={},t=1,p=1${}$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            params.m_cost(),
            salt.as_str()
        );
        assert!(PasswordHash::new(&greedy).is_ok(), "{greedy}");
        assert!(!verify_password(Some(&greedy), "anything at all"));
        assert!(MEMORY.lock().unwrap().len() <= MAX_BLOCKS);
    }
}
