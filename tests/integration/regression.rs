//! Regression tests, each named after a surprise a customer, an owner or an
//! integrator met (issue "No surprises"), against the real server.

use serde_json::json;
use shopbot::conversation::OPTED_OUT_REMINDER_EVERY;
use shopbot::message::ContactRef;
use shopbot::phone::PhoneNumber;

use crate::support::TestServer;

const CUSTOMER: &str = "+27825557001";

#[test]
fn the_seed_transcript_submits_without_an_extra_photo_question() {
    let server = TestServer::start();
    assert!(server.say(CUSTOMER, "hi").text().starts_with("Welcome! Select 1-5"));
    assert!(server.say(CUSTOMER, "2").text().contains("1 Report a defect"));
    assert_eq!(server.say(CUSTOMER, "1").text(), "Please describe the defect:");
    let confirmation = server.say(CUSTOMER, "Screen is cracked").text();
    assert!(
        confirmation.starts_with("✅ Defect Submitted! ID: DEF-"),
        "{confirmation}"
    );
    assert!(server.say(CUSTOMER, "2").text().contains("2 View defect history"));
    let history = server.say(CUSTOMER, "2").text();
    assert!(history.contains("Screen is cracked"), "{history}");
}

#[test]
fn after_help_the_next_message_is_not_answered_with_the_whole_menu() {
    let server = TestServer::start();
    let help = server.say(CUSTOMER, "4").text();
    assert!(help.contains("You can keep writing: we read everything."), "{help}");
    let first = server.say(CUSTOMER, "My order A1002 is late");
    assert_eq!(
        first.messages(),
        ["Thanks, we have your message. A team member will answer here."]
    );
    for text in ["Hello?", "2"] {
        assert_eq!(server.say(CUSTOMER, text).messages(), Vec::<String>::new(), "{text}");
    }
    let (_, conversation) = server.api_get("/api/messages?contact=%2B27825557001");
    let stored: Vec<&str> = conversation["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert!(stored.contains(&"Hello?"), "kept for the owner: {stored:?}");
    assert!(
        server.say(CUSTOMER, "menu").text().starts_with("Welcome!"),
        "menu brings the bot back"
    );
}

#[test]
fn an_owner_reply_keeps_the_conversation_with_the_person() {
    let server = TestServer::start();
    server.say(CUSTOMER, "hi");
    let (status, queued) = server.api_post(
        "/api/messages",
        &json!({"to": CUSTOMER, "body": "Hi, this is Sam from the shop: your part arrived."}),
    );
    assert_eq!(status, 202, "{queued}");
    let answer = server.say(CUSTOMER, "Great, when can I fetch it?");
    assert_eq!(answer.messages(), Vec::<String>::new(), "the bot stays out of it");
    assert!(server.say(CUSTOMER, "0").text().starts_with("Welcome!"));
}

#[test]
fn cancel_inside_a_form_cancels_the_form_and_does_not_opt_out() {
    let server = TestServer::start();
    server.say(CUSTOMER, "2");
    server.say(CUSTOMER, "1");
    let cancelled = server.say(CUSTOMER, "cancel").text();
    assert!(
        cancelled.starts_with("Cancelled: nothing was submitted.\n\nWelcome!"),
        "{cancelled}"
    );
    assert!(
        server.say(CUSTOMER, "hi").text().starts_with("Welcome!"),
        "still subscribed"
    );
    let who = ContactRef::phone(PhoneNumber::parse(CUSTOMER).unwrap());
    let facts = server.store().write(|db| db.contact_facts(&who)).unwrap();
    assert!(!facts.suppressed);
}

#[test]
fn an_opted_out_customer_who_writes_is_reminded_not_silenced() {
    let server = TestServer::start();
    server.say(CUSTOMER, "stop");
    let reminded = server.say(CUSTOMER, "hi");
    assert_eq!(reminded.messages(), ["You are opted out. Reply START to re-subscribe."]);
    assert_eq!(
        server.say(CUSTOMER, "hi").messages(),
        Vec::<String>::new(),
        "once a day"
    );
    // A day later (the last reminder moved back in time), the next one.
    let conn = rusqlite::Connection::open(&server.db_path).unwrap();
    let earlier = jiff::Timestamp::now()
        .checked_sub(OPTED_OUT_REMINDER_EVERY)
        .unwrap()
        .checked_sub(jiff::SignedDuration::from_secs(1))
        .unwrap();
    conn.execute(
        "UPDATE suppressions SET reminded_at = ?1",
        [earlier.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()],
    )
    .unwrap();
    assert_eq!(
        server.say(CUSTOMER, "hello").messages().len(),
        1,
        "reminded again after a day"
    );
    let (status, refused) = server.api_post("/api/messages", &json!({"to": CUSTOMER, "body": "Promo!"}));
    assert_eq!((status, refused["error"]["code"].as_str()), (409, Some("opted_out")));
}

#[test]
fn a_menu_number_after_an_order_lookup_goes_back_to_the_menu() {
    let server = TestServer::start();
    server.say(CUSTOMER, "1");
    let not_found = server.say(CUSTOMER, "A1002").text();
    assert!(not_found.starts_with("We couldn't find order A1002"), "{not_found}");
    let menu = server.say(CUSTOMER, "2").text();
    assert!(menu.starts_with("Defects: select 1-2"), "{menu}");
}

#[test]
fn a_numeric_order_number_is_still_looked_up() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("orders.csv");
    std::fs::write(&csv, "Order,Status\n2,Ready for collection\n").unwrap();
    let out = crate::support::run_to_end(
        crate::support::shopbot_command(&["orders", "import"])
            .arg(&csv)
            .arg("--config")
            .arg(server.config_path()),
    );
    assert!(out.status.success(), "{}", crate::support::output_text(&out));
    server.say(CUSTOMER, "1");
    let found = server.say(CUSTOMER, "2").text();
    assert!(found.starts_with("📦 Order 2: Ready for collection"), "{found}");
}
