//! Hostile data (issue "hostile clients"): each test is named after a promise
//! that broke when the server was attacked from outside, against the real
//! server over HTTP.

use crate::support::TestServer;

const CUSTOMER: &str = "+27825558001";

#[test]
fn a_submissions_filter_of_percent_or_underscore_matches_only_itself() {
    let server = TestServer::start();
    for text in ["2", "1", "Dented lid"] {
        server.say(CUSTOMER, text);
    }
    let (status, all) = server.api_get("/api/submissions?form=DEF");
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["submissions"].as_array().unwrap().len(), 1);
    for wildcard in ["%25", "_", "D_F", "DE%25"] {
        let (status, answer) = server.api_get(&format!("/api/submissions?form={wildcard}"));
        assert_eq!(status, 200, "{answer}");
        assert!(
            answer["submissions"].as_array().unwrap().is_empty(),
            "form={wildcard} is text, not a pattern: {answer}"
        );
    }
}

/// An order with a note of `chars` characters, stored as a database written
/// before import caps existed would have it.
fn store_order_with_note(server: &TestServer, number: &str, chars: usize) {
    let order = shopbot::store::NewOrder {
        number: number.into(),
        status: "Ready".into(),
        phone: shopbot::store::Cell::Set(None),
        note: shopbot::store::Cell::Set(Some("x".repeat(chars))),
        updated: shopbot::store::Cell::Keep,
    };
    server
        .store()
        .write(|db| db.upsert_order(&order, jiff::Timestamp::now(), jiff::Zoned::now().date()))
        .unwrap();
}

#[test]
fn one_order_lookup_with_a_huge_note_never_stalls_the_server() {
    let server = TestServer::start();
    // Imports refuse such a note now; a database from before may still hold one.
    store_order_with_note(&server, "HUGE1", 10_000_000);
    store_order_with_note(&server, "MAX1", shopbot::orders::MAX_NOTE_CHARS);
    let sheet = format!("Order,Status,Note\nBIG2,Ready,{}\n", "y".repeat(3_000_000));
    let mut scratch = server.store();
    let report = shopbot::orders::import(&mut scratch, sheet.as_bytes(), &jiff::Zoned::now()).unwrap();
    assert_eq!(report.rejected.len(), 1, "a 3 MB note is refused at import");
    assert!(
        report.rejected[0].reason.contains("3000000 characters"),
        "{:?}",
        report.rejected
    );

    for (customer, number) in [("+27825558011", "MAX1"), ("+27825558012", "HUGE1")] {
        server.say(customer, "1").messages();
        let started = std::time::Instant::now();
        let messages = server.say(customer, number).messages();
        let took = started.elapsed();
        eprintln!("lookup of {number}: {took:?}, {} messages", messages.len());
        let text: usize = messages.iter().map(|m| m.chars().count()).sum();
        assert!(text < 6_000, "a lookup reads one message's worth of a note: {text}");
        assert!(messages[0].contains("Ready"), "{}", &messages[0][..80]);
        // Quadratic splitting of all of it took 33.5 s for 10 MB.
        assert!(took < std::time::Duration::from_secs(2), "{number} took {took:?}");
        let health = server.get("/healthz");
        assert_eq!(health.status, 200, "the server goes on serving");
    }
}

/// Replacing or deleting the database file under a running server (an
/// operator's `mv backup.db shopbot.db`) stops every acknowledgement: writes
/// would go to the unlinked file and be gone after a restart.
#[cfg(unix)]
#[test]
fn a_replaced_or_deleted_database_file_is_never_acknowledged_into() {
    for replace in [true, false] {
        let server = TestServer::start();
        assert_eq!(server.say(CUSTOMER, "hi").status, 200);
        assert_eq!(server.get("/healthz").status, 200);
        if replace {
            let backup = server.db_path.with_extension("backup");
            std::fs::copy(&server.db_path, &backup).unwrap();
            std::fs::rename(&backup, &server.db_path).unwrap();
        } else {
            std::fs::remove_file(&server.db_path).unwrap();
        }
        let answer = server.say(CUSTOMER, "2");
        assert_eq!(answer.status, 503, "replaced: {replace}: {}", answer.body);
        let health = server.get("/healthz");
        assert_eq!(health.status, 503, "{}", health.body);
        assert!(health.body.contains("deleted or replaced"), "{}", health.body);
        assert!(health.body.contains("shopbot restore"), "says how: {}", health.body);
    }
}

/// Another process holding the write lock (a backup tool, an operator's
/// `sqlite3` shell) gets webhooks a `503` well within Twilio's 15 s timeout.
#[test]
fn a_write_lock_held_outside_gets_a_503_within_a_few_seconds() {
    let server = TestServer::start();
    assert_eq!(server.say(CUSTOMER, "hi").status, 200);
    let mut outside = server.store();
    let (locked, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
    let holder = std::thread::spawn(move || {
        outside
            .write(|_| {
                locked.0.send(()).unwrap();
                let _ = release.1.recv_timeout(std::time::Duration::from_secs(30));
                Ok::<_, shopbot::store::StoreError>(())
            })
            .unwrap();
    });
    locked.1.recv().unwrap();
    let started = std::time::Instant::now();
    let answer = server.say(CUSTOMER, "2");
    let took = started.elapsed();
    release.0.send(()).unwrap();
    holder.join().unwrap();
    eprintln!("503 after {took:?}");
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert!(took < std::time::Duration::from_secs(8), "answered after {took:?}");
    assert_eq!(
        server.say(CUSTOMER, "2").status,
        200,
        "served again once the lock is gone"
    );
}

/// Queues a text through the admin API; its id.
fn queue_text(server: &TestServer, body: &str) -> i64 {
    let (status, answer) = server.api_post("/api/messages", &serde_json::json!({"to": CUSTOMER, "body": body}));
    assert_eq!(status, 202, "{answer}");
    answer["id"].as_i64().unwrap()
}

#[test]
fn an_uncertain_message_says_what_waits_behind_it_until_an_operator_resolves_it() {
    use std::time::Duration;
    let mock = crate::twilio_mock::MockTwilio::start();
    // Twilio took the first message but its answer had no SID: it may have gone.
    mock.then(201, r#"{"sid":"","status":"queued"}"#);
    let extra = format!("api_base_url = \"{}\"\n", mock.url);
    let server = TestServer::start_with(&extra);
    server.say(CUSTOMER, "hi");
    let first = queue_text(&server, "Your order is ready");
    assert_eq!(server.settled(first)["outbox"]["state"], "uncertain");
    let behind: Vec<i64> = (1..=6).map(|n| queue_text(&server, &format!("update {n}"))).collect();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(mock.requests().len(), 1, "nothing goes behind an uncertain message");

    // The API says why each waits.
    for id in &behind {
        let (_, message) = server.api_get(&format!("/api/messages/{id}"));
        assert_eq!(message["outbox"]["state"], "queued");
        assert_eq!(message["outbox"]["waiting_behind"], first, "{message}");
        let held = format!("waiting behind message {first} (uncertain)");
        assert_eq!(message["outbox"]["held"], held.as_str());
    }
    // So does `outbox list`, and `outbox resolve --not-sent` releases them.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, crate::support::config_text(&server.db_path, &extra)).unwrap();
    let cli = |args: &[&str]| {
        let out = crate::support::run_to_end(crate::support::shopbot_command(args).arg("--config").arg(&config));
        (out.status.code(), crate::support::output_text(&out))
    };
    let (_, listing) = cli(&["outbox", "list"]);
    let waiting = listing
        .lines()
        .filter(|l| l.contains(&format!("waiting behind message {first} (uncertain)")))
        .count();
    assert_eq!(waiting, 6, "{listing}");
    let (code, said) = cli(&["outbox", "resolve", &behind[0].to_string(), "--sent"]);
    assert_eq!(code, Some(1), "only an uncertain message can be resolved: {said}");
    let (code, said) = cli(&["outbox", "resolve", &first.to_string(), "--not-sent"]);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("marked not sent"), "{said}");
    let sent = mock.wait_for(7, Duration::from_secs(20));
    let bodies: Vec<_> = sent[1..]
        .iter()
        .map(|r| r.get("Body").unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        bodies,
        (1..=6).map(|n| format!("update {n}")).collect::<Vec<_>>(),
        "in order"
    );
    let (_, dropped) = server.api_get(&format!("/api/messages/{first}"));
    assert_eq!(dropped["outbox"]["state"], "failed");
    assert_eq!(mock.requests().len(), 7, "the uncertain one was not sent again");
}

/// POSTs `json` to the admin API with an `Idempotency-Key`: status, body and
/// whether the answer was a replay.
fn post_with_key(
    server: &TestServer,
    path: &str,
    json: &serde_json::Value,
    key: &str,
) -> (u16, serde_json::Value, bool) {
    post_text_with_key(server, path, &json.to_string(), key)
}

/// [`post_with_key`] with the body exactly as given.
fn post_text_with_key(server: &TestServer, path: &str, json: &str, key: &str) -> (u16, serde_json::Value, bool) {
    let mut response = crate::support::agent(std::time::Duration::from_secs(20))
        .post(&format!("{}{path}", server.http))
        .header("Content-Type", "application/json")
        .header("Authorization", &format!("Bearer {}", crate::support::ADMIN_TOKEN))
        .header("Idempotency-Key", key)
        .send(json.as_bytes())
        .unwrap();
    let replayed = response.headers().get("Idempotent-Replayed").is_some();
    let body = response.body_mut().read_to_string().unwrap();
    (
        response.status().as_u16(),
        serde_json::from_str(&body).unwrap(),
        replayed,
    )
}

#[test]
fn a_send_retried_with_the_same_idempotency_key_is_queued_once() {
    let mock = crate::twilio_mock::MockTwilio::start();
    let server = TestServer::start_with(&format!("api_base_url = \"{}\"\n", mock.url));
    server.say(CUSTOMER, "hi");
    let message = serde_json::json!({"to": CUSTOMER, "body": "Your order is ready"});
    let key = "8f14e45f-ceea-467f-a0e6-bb4e0a2c6a1d";
    let (status, first, replayed) = post_with_key(&server, "/api/messages", &message, key);
    assert_eq!((status, replayed), (202, false), "{first}");
    // The client timed out and tries again, twice.
    for _ in 0..2 {
        let (status, again, replayed) = post_with_key(&server, "/api/messages", &message, key);
        assert_eq!((status, replayed), (202, true), "{again}");
        assert_eq!(again["id"], first["id"], "the first try's message");
    }
    server.settled(first["id"].as_i64().unwrap());
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(mock.requests().len(), 1, "sent once");
    // The same key with another request is a client bug, not a replay.
    let other = serde_json::json!({"to": CUSTOMER, "body": "Something else"});
    let (status, refused, _) = post_with_key(&server, "/api/messages", &other, key);
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "idempotency_key_reused");
    let (status, bad, _) = post_with_key(&server, "/api/messages", &message, "has space");
    assert_eq!(status, 400, "{bad}");
    // Without a key every request is a new message, as before.
    let (_, a) = server.api_post("/api/messages", &message);
    let (_, b) = server.api_post("/api/messages", &message);
    assert_ne!(a["id"], b["id"]);
}

#[test]
fn finding_11_a_retry_that_encodes_the_same_json_anew_is_the_same_request() {
    let server = TestServer::start();
    server.say(CUSTOMER, "hi");
    let key = "c4ca4238-a0b9-4382-8dcc-509a6f75849b";
    let first = format!(r#"{{"to":"{CUSTOMER}","body":"Ready, café"}}"#);
    let (status, queued, _) = post_text_with_key(&server, "/api/messages", &first, key);
    assert_eq!(status, 202, "{queued}");
    // The client's retry: other key order, spacing, and an escaped é.
    let again = format!("{{\n  \"body\" : \"Ready, caf\\u00e9\",\n  \"to\": \"{CUSTOMER}\"\n}}");
    let (status, replay, replayed) = post_text_with_key(&server, "/api/messages", &again, key);
    assert_eq!((status, replayed), (202, true), "{replay}");
    assert_eq!(replay["id"], queued["id"]);
    let other = format!(r#"{{"body":"Ready, cafe","to":"{CUSTOMER}"}}"#);
    let (status, refused, _) = post_text_with_key(&server, "/api/messages", &other, key);
    assert_eq!(status, 422, "another body: {refused}");
    // The same body on another route is another request.
    let (status, _, _) = post_text_with_key(&server, "/api/whatsapp/send", &first, key);
    assert_eq!(status, 422);
}
