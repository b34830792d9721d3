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

#[test]
fn the_csv_export_opens_cleanly_in_a_spreadsheet() {
    let server = TestServer::start();
    for (customer, description) in [
        ("+27825557011", "=HYPERLINK(\"http://evil\")"),
        ("+27825557012", "Café crème ✅"),
    ] {
        server.say(customer, "2");
        server.say(customer, "1");
        server.say(customer, description);
    }
    let mut export = crate::support::shopbot_command(&["export", "submissions", "--format", "csv", "--config"]);
    export.arg(server.config_path());
    let out = crate::support::run_to_end(&mut export);
    assert!(out.status.success(), "{}", crate::support::output_text(&out));
    assert!(out.stdout.starts_with(b"\xEF\xBB\xBF"), "a UTF-8 BOM for Excel");
    let text = String::from_utf8(out.stdout[3..].to_vec()).unwrap();
    assert!(text.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "{text}");
    assert!(text.contains("Café crème ✅"), "{text}");
    assert!(text.contains(",+27825557011,"), "a plain number stays: {text}");
}

#[test]
fn check_names_a_missing_menu_file_as_the_menu_file_and_flags_placeholders() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        crate::support::config_text(&dir.path().join("s.db"), "[menu]\npath = \"menu.toml\"\n"),
    )
    .unwrap();
    let mut check = crate::support::shopbot_command(&["check", "--config"]);
    check.arg(&config);
    let out = crate::support::run_to_end(&mut check);
    let printed = crate::support::output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(
        printed.contains("there is no menu file") && printed.contains("menu.toml"),
        "{printed}"
    );
    assert!(!printed.contains("config file"), "{printed}");

    std::fs::write(&config, crate::support::config_text(&dir.path().join("s.db"), "")).unwrap();
    let mut check = crate::support::shopbot_command(&["check", "--config"]);
    check.arg(&config);
    let printed = crate::support::output_text(&crate::support::run_to_end(&mut check));
    assert!(
        printed.contains("warning") && printed.contains("[twilio] account_sid is the example's placeholder"),
        "{printed}"
    );
    assert!(printed.contains("bot.example.com"), "{printed}");
}

/// `shopbot demo --port 0` in `dir` with `env`; the child and its base URL.
fn demo(dir: &std::path::Path, env: &[(&str, &str)]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut command = crate::support::shopbot_command(&["demo", "--port", "0", "--db"]);
    command
        .arg(dir.join("demo.db"))
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = crate::support::start_child(&mut command);
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    for line in stdout.lines().map_while(Result::ok) {
        if let Some(url) = line.split("Chat in your browser:").nth(1) {
            let base = url
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches("/demo")
                .to_string();
            return (child, base);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the demo did not print its URL");
}

#[test]
fn the_demo_leads_from_slash_to_the_chat_serves_an_icon_and_a_sample_photo() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = demo(dir.path(), &[("SHOPBOT_ADMIN_TOKEN", "demo-token")]);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent();
    let root = agent.get(&format!("{base}/")).call().unwrap();
    assert_eq!(root.status().as_u16(), 303);
    assert_eq!(root.headers().get("location").unwrap(), "/demo");
    let icon = agent.get(&format!("{base}/favicon.ico")).call().unwrap();
    assert_eq!(
        (
            icon.status().as_u16(),
            icon.headers().get("content-type").unwrap().to_str().unwrap()
        ),
        (200, "image/svg+xml")
    );
    let mut photo = agent.get(&format!("{base}/demo/sample-photo.png")).call().unwrap();
    assert_eq!(photo.status().as_u16(), 200);
    assert!(photo.body_mut().read_to_vec().unwrap().starts_with(b"\x89PNG"));
    // The demo honours SHOPBOT_ADMIN_TOKEN.
    let with = agent
        .get(&format!("{base}/api/messages/1"))
        .header("Authorization", "Bearer demo-token")
        .call()
        .unwrap();
    assert_eq!(with.status().as_u16(), 404, "authorised: there is no message 1");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_missing_input_file_is_exit_1_not_an_internal_failure() {
    let server = TestServer::start();
    let mut import = crate::support::shopbot_command(&["orders", "import", "no-such-file.csv", "--config"]);
    import.arg(server.config_path());
    let out = crate::support::run_to_end(&mut import);
    let printed = crate::support::output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(printed.contains("cannot read no-such-file.csv"), "{printed}");
}
