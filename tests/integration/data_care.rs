//! Backups and exports through the real binary, while the server runs.

use std::process::Output;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{new_sid, whatsapp_params, TestServer};
use crate::support::{output_text, run_to_end, shopbot_command};

fn shopbot(server: &TestServer, args: &[&str]) -> Output {
    run_to_end(shopbot_command(args).arg("--config").arg(server.config_path()))
}

#[test]
fn a_backup_under_write_load_is_a_consistent_database() {
    let server = Arc::new(TestServer::start());
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|n| {
            let (server, stop, sent) = (server.clone(), stop.clone(), sent.clone());
            thread::spawn(move || {
                let started = Instant::now();
                let from = format!("+2782558{n:04}");
                while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(20) {
                    let reply = server.post_signed("/twilio/inbound", &whatsapp_params(&new_sid(), &from, "hi"));
                    assert_eq!(reply.status, 200);
                    sent.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    // The writers stop by themselves after 20 s (or on a failed assertion):
    // wait for 100 answers only while one of them still runs.
    while sent.load(Ordering::SeqCst) < 100 && writers.iter().any(|w| !w.is_finished()) {
        thread::sleep(Duration::from_millis(10));
    }
    assert!(
        sent.load(Ordering::SeqCst) >= 100,
        "the writers stopped before 100 answers"
    );
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let out = shopbot(&server, &["backup", copy.to_str().unwrap()]);
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(output_text(&out).contains("integrity ok"), "{}", output_text(&out));

    let conn = rusqlite::Connection::open(&copy).unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let (messages, replied): (i64, i64) = conn
        .query_row("SELECT count(*), count(reply) FROM messages", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(messages >= 100, "{messages}");
    assert_eq!(
        messages, replied,
        "a message without its reply: not one transaction's snapshot"
    );
    drop(conn);
    shopbot::store::Store::open(&copy).expect("the copy opens as a shopbot database");

    let again = shopbot(&server, &["backup", copy.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1), "{}", output_text(&again));
    assert!(
        output_text(&again).contains("already exists"),
        "{}",
        output_text(&again)
    );
}

#[test]
fn submissions_export_as_csv_and_json() {
    let server = TestServer::start();
    let customer = "+27825551201";
    for body in ["2", "1"] {
        server.say(customer, body);
    }
    let mut photo = whatsapp_params(&new_sid(), customer, "Scratched, \"deep\"; see photo");
    photo.retain(|(k, _)| k != "NumMedia");
    photo.extend(crate::support::pairs(&[
        ("NumMedia", "1"),
        ("MediaUrl0", "https://api.twilio.com/media/ME1"),
        ("MediaContentType0", "image/jpeg"),
    ]));
    assert!(server
        .post_signed("/twilio/inbound", &photo)
        .text()
        .contains("Defect Submitted"));

    let csv_out = shopbot(&server, &["export", "submissions", "--format", "csv"]);
    assert!(csv_out.status.success(), "{}", output_text(&csv_out));
    let mut reader = csv::Reader::from_reader(csv_out.stdout.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "id",
            "form",
            "submitted",
            "customer",
            "name",
            "description",
            "media",
            "status",
            "status_note"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert!(rows[0][0].starts_with("DEF-"));
    assert_eq!(&rows[0][3], customer);
    assert_eq!(&rows[0][5], "Scratched, \"deep\"; see photo");
    assert_eq!(&rows[0][6], "https://api.twilio.com/media/ME1");
    assert_eq!(
        (&rows[0][7], &rows[0][8]),
        ("new", ""),
        "the owner's status, not set yet"
    );

    let json_out = shopbot(&server, &["export", "submissions", "--format", "json", "--form", "DEF"]);
    let items: serde_json::Value = serde_json::from_slice(&json_out.stdout).unwrap();
    assert_eq!(items[0]["answers"][0]["media"][0]["content_type"], "image/jpeg");
}

#[test]
fn retention_blanks_old_message_texts_and_keeps_the_record() {
    let mut server = TestServer::start_with("[retention]\nmessage_bodies_days = 90\n");
    let customer = "+27825551301";
    let old_sid = new_sid();
    let old = server.post_signed(
        "/twilio/inbound",
        &whatsapp_params(&old_sid, customer, "my secret order"),
    );
    assert_eq!(old.status, 200);
    server.say(customer, "recent message");
    let conn = rusqlite::Connection::open(&server.db_path).unwrap();
    conn.execute(
        "UPDATE messages SET created_at = '2020-01-01T00:00:00.000Z' WHERE sid = ?1",
        [&old_sid],
    )
    .unwrap();

    server.restart(); // the job runs at start, then daily
    let started = Instant::now();
    let message = |sid: &str| server.api_get(&format!("/api/messages/{sid}")).1;
    while !message(&old_sid)["body"].is_null() && started.elapsed() < Duration::from_secs(10) {
        thread::sleep(Duration::from_millis(20));
    }
    let old = message(&old_sid);
    assert!(old["body"].is_null(), "the old text is still there: {old}");
    assert_eq!(
        (old["status"].as_str(), old["created_at"].as_str()),
        (Some("received"), Some("2020-01-01T00:00:00Z"))
    );
    // The raw parameters have no read in the store (they are for the record
    // only), so this one looks at the file.
    let params: Option<String> = conn
        .query_row("SELECT params FROM messages WHERE sid = ?1", [&old_sid], |r| r.get(0))
        .unwrap();
    assert_eq!(params, None);
    let (_, recent) = server.api_get(&format!("/api/messages?contact={}", customer.replace('+', "%2B")));
    let bodies: Vec<&str> = recent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert!(
        bodies.contains(&"recent message"),
        "a recent message lost its text: {bodies:?}"
    );
}
