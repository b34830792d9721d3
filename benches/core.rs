//! A no-I/O micro-benchmark of the pure core: the engine's step and the
//! webhook signature check, so a regression there shows without HTTP noise.
//!
//! `cargo bench --bench core` prints nanoseconds per operation (median of
//! several rounds). The last line adds the database: one message's transaction
//! work, in batches of 16 as the server commits them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails loudly on anything unexpected"
)]

use std::hint::black_box;
use std::time::Instant;

use jiff::Timestamp;
use shopbot::channel::twilio::signature::{self, Algorithm};
use shopbot::channel::twilio::webhook;
use shopbot::conversation::{handle_inbound, Bot};
use shopbot::engine::{self, Inbound, Menu};
use shopbot::message::Inbound as Message;
use shopbot::store::Store;

/// Runs `f` in rounds of `n` and returns the median nanoseconds per call.
fn measure(name: &str, n: u32, mut f: impl FnMut()) {
    let mut rounds: Vec<f64> = (0..7)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..n {
                f();
            }
            started.elapsed().as_nanos() as f64 / f64::from(n)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    println!("{name:<40} {:>10.0} ns", rounds[rounds.len() / 2]);
}

fn main() {
    let menu = Menu::example();
    let now = Timestamp::now();
    let first = engine::step(&menu, None, Inbound::text("2"), now);
    let session = engine::Session {
        state: first.state,
        updated_at: now,
    };
    measure("engine: main menu from nothing", 200_000, || {
        black_box(engine::step(&menu, None, Inbound::text(black_box("hi")), now));
    });
    measure("engine: sub-menu choice", 200_000, || {
        black_box(engine::step(&menu, Some(&session), Inbound::text(black_box("1")), now));
    });

    let params: Vec<(String, String)> = [
        ("SmsMessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("NumMedia", "0"),
        ("ProfileName", "Thandi"),
        ("MessageType", "text"),
        ("SmsSid", "SM0123456789abcdef0123456789abcdef"),
        ("WaId", "27821234567"),
        ("SmsStatus", "received"),
        ("Body", "Screen is cracked"),
        ("To", "whatsapp:+14155238886"),
        ("NumSegments", "1"),
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("From", "whatsapp:+27821234567"),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let url = "https://bot.example.com/twilio/inbound";
    let token = b"0123456789abcdef0123456789abcdef";
    let sig = signature::compute(Algorithm::HmacSha1, token, url, &params);
    measure("signature: compute (14 params)", 100_000, || {
        black_box(signature::compute(Algorithm::HmacSha1, token, black_box(url), &params));
    });
    measure("signature: verify (both port forms)", 100_000, || {
        black_box(signature::verify(
            Algorithm::HmacSha1,
            token,
            black_box(url),
            &params,
            &sig,
        ));
    });
    conversation_batches(&params);
    inbox_page();
}

/// The owner's inbox page on a big database: 10,000 contacts and 1,000,000
/// messages (100 each), 100 of them waiting for a person; one page of 50
/// conversations with unread counts, read through the store as the server does.
fn inbox_page() {
    let dir = std::env::temp_dir().join(format!("shopbot-inbox-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("inbox.db");
    drop(Store::open(&path).expect("bench database"));
    let conn = rusqlite::Connection::open(&path).expect("fill connection");
    conn.execute_batch(
        "BEGIN;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
         INSERT INTO contacts (id, phone, profile_name, created_at, read_up_to)
         SELECT i, '+2782' || printf('%07d', i), 'Customer ' || i, '2026-01-01T00:00:00.000Z', 0 FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
         INSERT INTO messages (channel, sid, direction, contact_id, from_addr, to_addr, body, status, created_at)
         SELECT 'twilio', 'SM' || i, CASE i % 3 WHEN 0 THEN 'outbound' ELSE 'inbound' END, 1 + (i * 7919) % 10000,
                'whatsapp:+1', 'whatsapp:+2', 'message number ' || i, 'received', '2026-01-02T00:00:00.000Z' FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
         INSERT INTO sessions (contact_id, state, updated_at, waiting_since)
         SELECT i * 97, '{\"at\":\"with_person\"}', '2026-01-02T00:00:00.000Z', '2026-01-02T00:00:00.000Z' FROM n;
         UPDATE contacts SET read_up_to = 900000 WHERE id % 2 = 0;
         COMMIT;
         ANALYZE;",
    )
    .expect("filling the inbox database");
    drop(conn);
    let pool = shopbot::store::ReadPool::new(&path);
    measure("inbox: one page of 50 of 10,000 conversations", 20, || {
        let rows = pool.read(|db| db.inbox(50, 0)).expect("inbox");
        assert_eq!(rows.len(), 50);
        black_box(rows);
    });
    measure("inbox: the last page", 20, || {
        black_box(pool.read(|db| db.inbox(50, 9950)).expect("inbox"));
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// The database side of one message: `handle_inbound` for 16 customers in one
/// transaction without savepoints (as the writer's group commit does when no
/// message fails), on a real file with
/// `synchronous = FULL`; reported per batch of 16, commit and fsync included.
fn conversation_batches(template: &[(String, String)]) {
    let dir = std::env::temp_dir().join(format!("shopbot-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let mut store = Store::open(&dir.join("bench.db")).expect("bench database");
    let bot = Bot::example();
    let walk = ["hi", "2", "1", "Hinge cracked", "2", "2"];
    let mut seq = 0u64;
    measure("conversation: a batch of 16 messages", 100, || {
        seq += 1;
        let messages: Vec<Message> = (0..16)
            .map(|c| {
                let mut params = template.to_vec();
                let sid = format!("SM{seq:016x}{c:016x}");
                let from = format!("whatsapp:+2782{c:07}");
                for (k, v) in params.iter_mut() {
                    match k.as_str() {
                        "MessageSid" | "SmsSid" | "SmsMessageSid" => *v = sid.clone(),
                        "From" => *v = from.clone(),
                        "Body" => *v = walk[(seq as usize) % walk.len()].to_string(),
                        _ => {}
                    }
                }
                webhook::inbound(&params).expect("valid message")
            })
            .collect();
        let now = Timestamp::now();
        store
            .write(|db| {
                messages
                    .iter()
                    .try_for_each(|m| handle_inbound(db, &bot, m, now).map(drop))
            })
            .expect("batch");
    });
    let _ = std::fs::remove_dir_all(&dir);
}
