//! Meta batches of any size, and a bad item that does not sink its batch
//! (issue 19, finding 3): Meta documents webhook payloads of up to 3 MB
//! (1,000 updates) and retries a refused one for days, so a batch is refused
//! only when it is not JSON at all or larger than that.

use serde_json::{json, Value};

use crate::meta::{entry, meta_server, status, text_message, webhook, PHONE_NUMBER_ID};
use crate::support::TestServer;

/// `json` with every character outside ASCII written as `\uXXXX` escapes,
/// emoji as surrogate pairs: how Meta writes text.
fn escaped_like_meta(json: &[u8]) -> Vec<u8> {
    let mut out = String::new();
    for c in String::from_utf8_lossy(json).chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out.into_bytes()
}

/// The stored message (or status-only record) with this key, as the API shows it.
fn message(server: &TestServer, key: &str) -> (u16, Value) {
    server.api_get(&format!("/api/messages/{key}"))
}

#[test]
fn finding_3_a_one_megabyte_batch_of_statuses_and_emoji_texts_is_taken_whole() {
    let (server, _graph) = meta_server();
    let statuses: Vec<Value> = (0..1000)
        .map(|n| status(&format!("wamid.OUT{n:05}"), "delivered", "+27825550001"))
        .collect();
    let messages: Vec<Value> = (0..60)
        .map(|n| {
            let text = format!("{n}: {}", "😀🎉".repeat(700));
            text_message(&format!("wamid.IN{n:03}"), &format!("+2782556{n:04}"), &text)
        })
        .collect();
    let body = escaped_like_meta(&webhook(vec![entry(statuses, messages)]));
    assert!(body.len() > 1_000_000, "{} bytes", body.len());
    let started = std::time::Instant::now();
    let answer = server.meta_post(&body);
    eprintln!("posted in {:?}", started.elapsed());
    assert_eq!(answer.status, 200, "{}", answer.body);
    for n in [0, 31, 59] {
        let (status, stored) = message(&server, &format!("wamid.IN{n:03}"));
        assert_eq!(status, 200, "{stored}");
        assert_eq!(stored["body"], format!("{n}: {}", "😀🎉".repeat(700)));
    }
    for n in [0, 500, 999] {
        let (status, stored) = message(&server, &format!("wamid.OUT{n:05}"));
        assert_eq!(
            (status, stored["status"].as_str()),
            (200, Some("delivered")),
            "{stored}"
        );
    }
}

#[test]
fn finding_3_a_batch_over_three_megabytes_is_still_refused() {
    let (server, _graph) = meta_server();
    let padding = "x".repeat(3 * 1024 * 1024);
    let body = webhook(vec![entry(
        vec![],
        vec![text_message("wamid.BIG", "+27825550002", &padding)],
    )]);
    assert_eq!(server.meta_post(&body).status, 413);
}

#[test]
fn finding_3_one_bad_item_does_not_sink_its_batch_and_is_kept() {
    let (server, _graph) = meta_server();
    let good = text_message("wamid.GOOD", "+27825550003", "hi");
    let mut no_id = text_message("wamid.NOID", "+27825550004", "hi");
    no_id.as_object_mut().unwrap().remove("id");
    let mut no_from = text_message("wamid.NOFROM", "+27825550005", "hi");
    no_from.as_object_mut().unwrap().remove("from");
    // Two contacts, so the message without `from` cannot be told by them.
    let mut two_contacts = entry(vec![], vec![no_from]);
    two_contacts["changes"][0]["value"]["contacts"] = json!([
        {"profile": {"name": "Ann"}, "wa_id": "27825550005"},
        {"profile": {"name": "Bob"}, "wa_id": "27825550006"}
    ]);
    let mut statusless = status("wamid.S1", "delivered", "+27825550003");
    statusless.as_object_mut().unwrap().remove("id");
    let body = webhook(vec![
        entry(vec![statusless], vec![good, no_id]),
        two_contacts,
        entry(
            vec![],
            vec![text_message("wamid.SURROGATE", "+27825550007", "before LONE after")],
        ),
    ]);
    // One message carries an unpaired surrogate escape, as a broken client sends.
    let body = String::from_utf8(body).unwrap().replace("LONE", "\\ud800");
    let answer = server.meta_post(body.as_bytes());
    assert_eq!(answer.status, 200, "never a 400 for a signed batch: {}", answer.body);
    assert_eq!(
        message(&server, "wamid.GOOD").0,
        200,
        "the rest of the batch is handled"
    );
    let (status, lone) = message(&server, "wamid.SURROGATE");
    assert_eq!(status, 200);
    assert_eq!(lone["body"], "before \u{fffd} after");
    let kept = server.store().read(|db| db.unreadable_items(10)).unwrap();
    let reasons: Vec<&str> = kept.iter().map(|k| k.reason.as_str()).collect();
    assert_eq!(kept.len(), 3, "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("a message without an id")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("wamid.NOFROM has no usable sender (no from, and 2 contacts")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("a status without an id")),
        "{reasons:?}"
    );
    assert!(kept.iter().any(|k| k.raw.contains("wamid.NOFROM")), "kept whole");
    // Not JSON at all is still a 400.
    assert_eq!(server.meta_post(b"{not json").status, 400);
    let _ = PHONE_NUMBER_ID;
}
