//! Signatures from Twilio's official helper libraries (tests/fixtures/), checked
//! by the signature module and by the real server over HTTP.

use serde_json::Value;
use shopbot::channel::twilio::signature::{self, Algorithm};
use shopbot::config::Config;

use crate::support::{self, TestServer};

fn fixtures() -> Value {
    serde_json::from_str(include_str!("../fixtures/signatures.json")).unwrap()
}

fn params(case: &Value) -> Vec<(String, String)> {
    case["params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_str().unwrap().to_string()))
        .collect()
}

fn s<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key].as_str().unwrap_or_else(|| panic!("{key} in {case}"))
}

/// `https://host[:port]` and `/path?query` of a URL.
fn split_url(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").unwrap() + 3;
    let path_at = url[after_scheme..].find('/').map_or(url.len(), |i| after_scheme + i);
    (&url[..path_at], &url[path_at..])
}

#[test]
fn compute_matches_the_official_library_for_every_case() {
    let fixtures = fixtures();
    for case in fixtures["cases"].as_array().unwrap() {
        let p = params(case);
        let url = s(case, "url");
        assert_eq!(
            signature::string_to_sign(url, &p),
            s(case, "string_to_sign"),
            "{}",
            s(case, "name")
        );
        let sig = signature::compute(Algorithm::HmacSha1, s(case, "auth_token").as_bytes(), url, &p);
        assert_eq!(sig, s(case, "signature"), "case {}", s(case, "name"));
    }
}

#[test]
fn the_same_urls_are_accepted_and_refused_as_by_the_official_validator() {
    let fixtures = fixtures();
    for case in fixtures["cases"].as_array().unwrap() {
        let (p, token, sig) = (params(case), s(case, "auth_token").as_bytes(), s(case, "signature"));
        for url in case["valid_urls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u.as_str().unwrap())
        {
            assert!(
                signature::verify(Algorithm::HmacSha1, token, url, &p, sig),
                "{} should accept {url}",
                s(case, "name")
            );
        }
        for url in case["invalid_urls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u.as_str().unwrap())
        {
            assert!(
                !signature::verify(Algorithm::HmacSha1, token, url, &p, sig),
                "{} should refuse {url}",
                s(case, "name")
            );
        }
    }
}

/// A server configured for a fixture's URL, auth token and extra `[twilio]` keys.
fn server_for(base: &str, inbound_path: &str, token: &str, twilio_extra: &str) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopbot.db");
    let text = support::config_text(&db, twilio_extra)
        .replace(support::BASE_URL, base)
        .replace(
            &format!("auth_token = \"{}\"", support::TOKEN),
            &format!("auth_token = \"{token}\""),
        )
        .replace(
            "[twilio]",
            &format!("[webhooks]\ninbound_path = \"{inbound_path}\"\n[twilio]"),
        );
    let config = Config::from_toml(&text, &dir.path().join("c.toml"), &|_| None).unwrap();
    TestServer::from_config(&config, dir, db)
}

#[test]
fn the_server_accepts_every_fixture_request_over_http() {
    let fixtures = fixtures();
    for case in fixtures["cases"].as_array().unwrap() {
        let (base, target) = split_url(s(case, "url"));
        let path = target.split('?').next().unwrap();
        let server = server_for(base, path, s(case, "auth_token"), "");
        let headers = [("X-Twilio-Signature", s(case, "signature"))];
        let reply = server.post(target, &headers, s(case, "body").as_bytes());
        let name = s(case, "name");
        let has_message = params(case).iter().any(|(k, _)| k == "MessageSid");
        if has_message {
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            assert!(!support::parse_twiml(&reply.body).is_empty(), "{name}");
        } else {
            // The signature passed; the form is not a message.
            assert_eq!(reply.status, 400, "{name}: {}", reply.body);
        }
        let tampered = server.post(
            target,
            &[("X-Twilio-Signature", "bm90IHRoZSBzaWduYXR1cmU=")],
            s(case, "body").as_bytes(),
        );
        assert_eq!(tampered.status, 403, "{name} with a wrong signature");
    }
}

#[test]
fn a_path_prefix_in_public_base_url_is_part_of_the_signed_url() {
    let server = server_for("https://example.com/shopbot", "/twilio/inbound", support::TOKEN, "");
    let p = support::whatsapp_params(&support::new_sid(), "+27821234567", "hi");
    let sig = signature::compute(
        Algorithm::HmacSha1,
        support::TOKEN.as_bytes(),
        "https://example.com/shopbot/twilio/inbound",
        &p,
    );
    let body = serde_urlencoded::to_string(&p).unwrap();
    let reply = server.post("/twilio/inbound", &[("X-Twilio-Signature", &sig)], body.as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn shared_key_signatures_from_the_official_library_pass_and_unknown_keys_fail() {
    let fixtures = fixtures();
    for case in fixtures["shared_key_cases"].as_array().unwrap() {
        let name = s(case, "name");
        let (base, target) = split_url(s(case, "url"));
        let path = target.split('?').next().unwrap();
        let keys = format!(
            "webhook_shared_keys = {{ \"{}\" = \"{}\" }}",
            s(case, "key_id"),
            s(case, "secret")
        );
        let server = server_for(base, path, support::TOKEN, &keys);
        let headers: Vec<(&str, &str)> = case["headers"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.as_str() != "Content-Type")
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        let reply = server.post(target, &headers, s(case, "body").as_bytes());
        // The signature passes; only a form with a MessageSid is a message.
        let expected = if s(case, "body").contains("MessageSid=") {
            200
        } else {
            400
        };
        assert_eq!(reply.status, expected, "{name}: {}", reply.body);

        let settings = case["headers"]["X-Twilio-Webhooks-Signature-Settings"]
            .as_str()
            .unwrap();
        let unknown_key = settings.replace(s(case, "key_id"), "webhooks_sharedkey_unknown");
        let sig = case["headers"]["X-Twilio-Signature"].as_str().unwrap();
        let h = [
            ("X-Twilio-Signature", sig),
            ("X-Twilio-Webhooks-Signature-Settings", unknown_key.as_str()),
        ];
        assert_eq!(
            server.post(target, &h, s(case, "body").as_bytes()).status,
            403,
            "{name}: unknown key"
        );
        let bad_alg = format!("key={},algorithm=HMAC_SHA512", s(case, "key_id"));
        let h = [
            ("X-Twilio-Signature", sig),
            ("X-Twilio-Webhooks-Signature-Settings", bad_alg.as_str()),
        ];
        assert_eq!(
            server.post(target, &h, s(case, "body").as_bytes()).status,
            403,
            "{name}: unknown algorithm"
        );
    }
}

#[test]
fn missing_or_wrong_signature_is_403_and_never_reaches_the_bot() {
    let server = TestServer::start();
    let p = support::whatsapp_params("SMnosig", "+27821234567", "hi");
    let body = serde_urlencoded::to_string(&p).unwrap();
    assert_eq!(server.post("/twilio/inbound", &[], body.as_bytes()).status, 403);
    let wrong = [("X-Twilio-Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")];
    assert_eq!(server.post("/twilio/inbound", &wrong, body.as_bytes()).status, 403);
    // Signed for another URL (a proxy rewrote the host): refused.
    let sig = signature::compute(
        Algorithm::HmacSha1,
        support::TOKEN.as_bytes(),
        "https://other.example.com/twilio/inbound",
        &p,
    );
    assert_eq!(
        server
            .post("/twilio/inbound", &[("X-Twilio-Signature", &sig)], body.as_bytes())
            .status,
        403
    );
    // X-Forwarded-* headers are not trusted.
    let forwarded = [
        ("X-Twilio-Signature", sig.as_str()),
        ("X-Forwarded-Host", "other.example.com"),
    ];
    assert_eq!(server.post("/twilio/inbound", &forwarded, body.as_bytes()).status, 403);
    // The refused message was not stored: signing it correctly now gets the greeting.
    let ok = server.post_signed("/twilio/inbound", &p);
    assert!(ok.text().starts_with("Welcome!"));
}
