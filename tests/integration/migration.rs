//! A database written by the last release (0.1.0, schema 4; made by
//! `tests/fixtures/make_release_db.py` with that release's binary) migrates in
//! place and serves on: conversations, replies, submissions, the outbox with
//! its template, status events and opt-outs all survive, read through the API
//! and the store.

use std::path::Path;

use jiff::Timestamp;
use shopbot::message::{Channel, ContactRef, Content};
use shopbot::phone::PhoneNumber;

use crate::support::{new_sid, whatsapp_params, TestServer};

const RELEASE_DB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/release-0.1.0.db");

fn release_db() -> TestServer {
    TestServer::start_on_copy_of(Path::new(RELEASE_DB))
}

fn contact(number: &str) -> ContactRef {
    ContactRef::phone(PhoneNumber::parse(number).unwrap())
}

#[test]
fn a_release_database_migrates_in_place_and_keeps_everything() {
    let server = release_db();
    let (status, thandi) = server.api_get("/api/messages?contact=%2B27820000001");
    assert_eq!(status, 200);
    let messages = thandi["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 10, "9 inbound and 1 queued outbound: {thandi}");
    assert!(messages.iter().all(|m| m["channel"] == "twilio"));
    assert!(
        messages[0]["reply"][0].as_str().unwrap().starts_with("Welcome!"),
        "{}",
        messages[0]
    );
    let queued = messages.last().unwrap();
    assert_eq!(queued["direction"], "outbound");
    assert_eq!(queued["outbox"]["kind"], "text");
    assert_eq!(queued["body"], "Your order A1002 is ready");

    let (_, submissions) = server.api_get("/api/submissions");
    let submissions = submissions["submissions"].as_array().unwrap();
    assert_eq!(submissions.len(), 1);
    assert!(submissions[0]["id"].as_str().unwrap().starts_with("DEF-"));
    assert_eq!(submissions[0]["from"], "+27820000001");

    let (_, unknown) = server.api_get("/api/messages/SMunknown0000000000000000000001");
    assert_eq!(
        (unknown["status"].as_str(), unknown["error_code"].as_str()),
        (Some("undelivered"), Some("63016"))
    );

    drop(server);
    // The store's own view, on a fresh copy (no server sending meanwhile).
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    std::fs::copy(RELEASE_DB, &copy).unwrap();
    let (facts, stopped, due) = {
        let mut store = shopbot::store::Store::open(&copy).unwrap();
        let facts = store.read(|db| db.contact_facts(&contact("+27820000001"))).unwrap();
        let stopped = store.read(|db| db.contact_facts(&contact("+27820000003"))).unwrap();
        let due = store
            .read(|db| db.next_due(Timestamp::now(), &[Channel::Twilio]))
            .unwrap();
        (facts, stopped, due)
    };
    assert_eq!(facts.last_channel, Some(Channel::Twilio));
    assert!(facts.last_inbound_at.is_some() && !facts.suppressed);
    assert!(stopped.suppressed, "an opt-out survives");
    assert_eq!(
        due.map(|job| job.content),
        Some(Content::Text {
            body: "Your order A1002 is ready".into(),
            media_urls: Vec::new(),
        })
    );
}

#[test]
fn a_release_database_keeps_its_template_and_serves_on() {
    let server = release_db();
    let (_, ben) = server.api_get("/api/messages?contact=%2B27820000002");
    let template = ben["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(template["outbox"]["kind"], "template");
    let photo = &ben["messages"].as_array().unwrap()[2];
    assert_eq!(photo["media"][0]["content_type"], "image/jpeg", "{photo}");

    let reply = server.say("+27820000001", "hi");
    assert!(reply.text().starts_with("Welcome!"), "{}", reply.body);
    // A MessageSid the release handled replays the release's stored reply.
    let again = server.post_signed(
        "/twilio/inbound",
        &whatsapp_params("SMrelease000000000000000000000001", "+27820000001", "hi"),
    );
    assert!(again.text().starts_with("Welcome!"), "{}", again.body);
    let fresh = server.post_signed("/twilio/inbound", &whatsapp_params(&new_sid(), "+27820000002", "2"));
    assert_eq!(fresh.status, 200);
}
