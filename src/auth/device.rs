//! Known devices: a browser that signed in before carries a long-lived,
//! signed cookie, so the sign-in throttle counts its tries apart from its
//! address (see [`super::throttle`]). Nobody can lock the owner out of their
//! own phone by guessing passwords from the same network or proxy.
//!
//! The cookie is `v1.<random id>.<HMAC-SHA256 of the id>` (base64url); the key is derived
//! from the stored password hash (which holds a random salt and never leaves
//! the database), so setting a new password forgets every known device, and
//! the server needs no other secret. It proves only "this browser signed in
//! with the current password before": it never signs anyone in.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

use super::new_token;

/// The cookie's name.
pub const COOKIE: &str = "shopbot_device";
/// How long a device stays known after its last sign-in: a year.
pub const LIFETIME_SECS: i64 = 365 * 24 * 3600;

const VERSION: &str = "v1";

/// A new known-device cookie value for the password hash `stored`.
pub fn issue(stored: &str) -> String {
    let id = new_token();
    let mac = URL_SAFE_NO_PAD.encode(mac(stored, &id).finalize().into_bytes());
    format!("{VERSION}.{id}.{mac}")
}

/// The device id in `value` if it is a cookie issued under `stored`.
pub fn recognise(value: &str, stored: &str) -> Option<String> {
    let mut parts = value.split('.');
    let (Some(VERSION), Some(id), Some(tag), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    mac(stored, id).verify_slice(&tag).ok()?;
    Some(id.to_string())
}

/// The HMAC of `id` under the key derived from `stored`.
fn mac(stored: &str, id: &str) -> Hmac<Sha256> {
    // SHA-512 gives exactly HMAC-SHA256's key size (its block, 64 bytes).
    let key = Sha512::new()
        .chain_update(b"shopbot known device\0")
        .chain_update(stored.as_bytes())
        .finalize();
    let mut mac = <Hmac<Sha256> as Mac>::new(&key);
    mac.update(id.as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_is_known_only_under_the_password_it_signed_in_with() {
        let cookie = issue("$argon2id$one");
        let id = recognise(&cookie, "$argon2id$one").expect("known");
        assert_eq!(id.len(), 43);
        assert_eq!(recognise(&cookie, "$argon2id$two"), None, "a new password forgets it");
        let forged = format!("v1.{}.{}", "x".repeat(43), "A".repeat(43));
        assert_eq!(recognise(&forged, "$argon2id$one"), None);
        for bad in ["", "v1", "v1.a.b", "v2.a.b", &format!("{cookie}.x"), "v1.é.ü"] {
            assert_eq!(recognise(bad, "$argon2id$one"), None, "{bad}");
        }
        assert_ne!(issue("$argon2id$one"), cookie, "each device its own id");
    }
}
