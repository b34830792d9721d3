//! `kill -9` under Meta traffic: every acknowledged `wamid` is stored with its
//! reply queued, and after a restart each reply reaches the Graph API exactly
//! once, or is held as uncertain; never twice.
//!
//! The Graph API mock runs in the test process, so it outlives the killed
//! server and counts every call either process made.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use shopbot::channel::meta::signature;

use crate::crash::serve;
use crate::graph_mock::MockGraph;
use crate::meta::{entry, meta_config, text_message, webhook, APP_SECRET};
use crate::support::{agent, config_text, ADMIN_TOKEN};

const THREADS: usize = 6;
const KILL_AFTER_ACKS: usize = 150;
const KILL_AFTER: Duration = Duration::from_secs(3);
/// Under emulation and with other tests running, 3 s may bring none at all.
const MIN_ACKS: usize = 20;
const MIN_ACKS_WITHIN: Duration = Duration::from_secs(120);

/// A Meta customer walking the defect report until told to stop; records
/// every acknowledged wamid.
fn customer(http: String, n: usize, stop: Arc<AtomicBool>, acked: Arc<Mutex<Vec<String>>>, count: Arc<AtomicUsize>) {
    let agent = agent(Duration::from_secs(5));
    let from = format!("+2782558{n:04}");
    let walk = ["hi", "2", "1", "It broke", "2", "2"];
    for (i, text) in walk.iter().cycle().enumerate() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let wamid = format!("wamid.CRASH{n}x{i}");
        let body = webhook(vec![entry(vec![], vec![text_message(&wamid, &from, text)])]);
        let sig = signature::sign(APP_SECRET, &body);
        let answer = agent
            .post(&format!("{http}/meta/webhook"))
            .header("Content-Type", "application/json")
            .header(signature::HEADER, &sig)
            .send(&body[..]);
        match answer.map(|r| r.status().as_u16()) {
            Ok(200) => {
                acked.lock().unwrap().push(wamid);
                count.fetch_add(1, Ordering::SeqCst);
            }
            Ok(503) | Err(_) => return, // stopping or gone: nothing acknowledged
            Ok(other) => panic!("unexpected answer {other}"),
        }
    }
}

/// Every outbox row's state and provider key, read through the store.
fn outbox_states(db: &std::path::Path) -> Vec<(String, Option<String>, String, i64)> {
    let mut store = shopbot::store::Store::open(db).unwrap();
    let entries = store.read(|db| db.outbox_list(100_000)).unwrap();
    entries
        .into_iter()
        .map(|e| (e.state.as_str().to_string(), e.sid, e.to, e.id))
        .collect()
}

#[test]
fn every_acknowledged_wamid_survives_kill_9_and_no_reply_goes_twice() {
    let graph = MockGraph::start();
    // Slow Graph answers, so the kill lands while replies are in flight.
    for i in 0..40 {
        let answer = format!(r#"{{"messages":[{{"id":"wamid.SLOW{i}"}}]}}"#);
        graph.push_answer(200, &answer, Duration::from_millis(30));
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, config_text(&db, &meta_config(&graph.url))).unwrap();

    let (mut child, http) = serve(&config);
    let (stop, acked, count) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(Mutex::new(Vec::new())),
        Arc::new(AtomicUsize::new(0)),
    );
    let threads: Vec<_> = (0..THREADS)
        .map(|n| {
            let (http, stop, acked, count) = (http.clone(), stop.clone(), acked.clone(), count.clone());
            thread::spawn(move || customer(http, n, stop, acked, count))
        })
        .collect();
    let started = Instant::now();
    while count.load(Ordering::SeqCst) < KILL_AFTER_ACKS && started.elapsed() < KILL_AFTER
        || count.load(Ordering::SeqCst) < MIN_ACKS && started.elapsed() < MIN_ACKS_WITHIN
    {
        thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL: no shutdown code runs
    child.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.len() >= MIN_ACKS,
        "only {} acknowledged before the kill",
        acked.len()
    );

    let (mut child, http) = serve(&config);
    let api = agent(Duration::from_secs(10));
    for wamid in &acked {
        let mut response = api
            .get(&format!("{http}/api/messages/{wamid}"))
            .header("Authorization", &format!("Bearer {ADMIN_TOKEN}"))
            .call()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "acknowledged {wamid} is missing");
        let message: serde_json::Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        assert!(
            message["reply"].as_array().is_some_and(|r| !r.is_empty()),
            "{wamid} has no reply: {message}"
        );
    }
    // Let the restarted server send what is still queued.
    let drained = Instant::now();
    while outbox_states(&db).iter().any(|(s, ..)| s == "queued" || s == "sending")
        && drained.elapsed() < Duration::from_secs(60)
    {
        thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let states = outbox_states(&db);
    let sent = states.iter().filter(|(s, ..)| s == "sent").count();
    let uncertain = states.iter().filter(|(s, ..)| s == "uncertain").count();
    let calls = graph.requests().len();
    assert!(
        states.iter().all(|(s, ..)| s == "sent" || s == "uncertain"),
        "every reply settled: {states:?}"
    );
    assert!(
        sent <= calls && calls <= sent + uncertain,
        "{calls} Graph calls for {sent} sent and {uncertain} uncertain replies: one was sent twice"
    );
    let mut keys: Vec<&str> = states
        .iter()
        .filter(|(s, ..)| s == "sent")
        .filter_map(|(_, k, ..)| k.as_deref())
        .collect();
    let total = keys.len();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), total, "a Graph message id recorded twice");
    eprintln!(
        "kill -9 after {} acknowledged wamids: {sent} replies sent once, {uncertain} held as uncertain, {calls} Graph calls",
        acked.len()
    );
}
