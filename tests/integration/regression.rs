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

#[test]
fn offline_chores_run_without_any_webhook_secret() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let config = dir.path().join("config.toml");
    let meta = "[meta]\nphone_number_id = \"106540352242922\"\n";
    let text = crate::support::config_text(&db, meta).replace("auth_token = \"test-auth-token\"\n", "");
    assert!(!text.contains("auth_token"), "{text}");
    std::fs::write(&config, text).unwrap();
    let csv = dir.path().join("orders.csv");
    std::fs::write(&csv, "Order,Status\nA1,New\n").unwrap();
    let backup = dir.path().join("copy.db");
    let run = |args: &[&str]| {
        let mut command = crate::support::shopbot_command(args);
        command.arg("--config").arg(&config).current_dir(dir.path());
        let out = crate::support::run_to_end(&mut command);
        let printed = crate::support::output_text(&out);
        assert!(out.status.success(), "{args:?}: {printed}");
        assert!(
            !printed.contains("auth_token") && !printed.contains("app_secret"),
            "{args:?}: {printed}"
        );
        printed
    };
    run(&["orders", "import", csv.to_str().unwrap()]);
    run(&["export", "submissions"]);
    run(&["backup", backup.to_str().unwrap()]);
    run(&["outbox", "list"]);
    run(&[
        "send-template",
        "--to",
        CUSTOMER,
        "--content-sid",
        &format!("HX{}", "a".repeat(32)),
    ]);
    let mut chat = crate::support::shopbot_command(&["chat", "--from", CUSTOMER, "--config"]);
    chat.arg(&config)
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = crate::support::start_child(&mut chat);
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"hi\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", crate::support::output_text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Welcome!"));
    // Serving does need them: check says so.
    let mut check = crate::support::shopbot_command(&["check", "--config"]);
    check.arg(&config);
    let out = crate::support::run_to_end(&mut check);
    assert_eq!(out.status.code(), Some(1));
    let printed = crate::support::output_text(&out);
    assert!(
        printed.contains("[twilio] auth_token") && printed.contains("[meta] app_secret"),
        "{printed}"
    );
}

#[test]
fn chat_with_a_config_never_writes_into_the_live_database() {
    let server = TestServer::start();
    server.say(CUSTOMER, "hi");
    let before = server.api_get("/api/messages?contact=%2B27825557001").1["messages"]
        .as_array()
        .unwrap()
        .len();
    let mut chat = crate::support::shopbot_command(&["chat", "--from", CUSTOMER, "--config"]);
    chat.arg(server.config_path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = crate::support::start_child(&mut chat);
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"2\n1\nTest from the terminal\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(printed.contains("Defect Submitted"), "{printed}");
    let after = server.api_get("/api/messages?contact=%2B27825557001").1["messages"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after, before, "no test chat in the live database");
    let (_, submissions) = server.api_get("/api/submissions");
    assert!(submissions["submissions"].as_array().unwrap().is_empty());
}
