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
        .write(|db| db.upsert_order(&order, jiff::Timestamp::now()))
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
    let report = shopbot::orders::import(&mut scratch, sheet.as_bytes(), jiff::Timestamp::now()).unwrap();
    assert_eq!(report.rejected.len(), 1, "a 3 MB note is refused at import");
    assert!(report.rejected[0].reason.contains("3000000 characters"), "{:?}", report.rejected);

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
