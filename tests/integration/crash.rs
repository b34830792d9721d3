//! Crash safety: every request that got a `200` survives `kill -9`. Signed
//! conversations run from several threads against the real binary, the process
//! is killed mid-way, restarted on the same database, and every acknowledged
//! MessageSid must replay exactly the reply it got, and every acknowledged
//! submission must be there.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use shopbot::store::Store;

use crate::support::{
    agent, config_text, new_sid, parse_twiml, post_signed_to, shopbot_command, start_child, whatsapp_params,
};

const THREADS: usize = 8;
/// Kill after this many acknowledgements or this long, whichever comes first.
const KILL_AFTER_ACKS: usize = 600;
const KILL_AFTER: Duration = Duration::from_secs(3);
/// ... but never before this many: under emulation (qemu, for the Raspberry Pi
/// build) and with the other tests running, 3 s may bring none at all.
const MIN_ACKS: usize = 50;
const MIN_ACKS_WITHIN: Duration = Duration::from_secs(120);

/// `shopbot serve` as a child process, and its `http://` address.
pub fn serve(config: &Path) -> (Child, String) {
    let (child, http, _log) = serve_logged(config);
    (child, http)
}

/// [`serve`], and every line it logs (kept as it runs).
pub fn serve_logged(config: &Path) -> (Child, String, Arc<Mutex<Vec<String>>>) {
    let mut child = start_child(
        shopbot_command(&["serve", "--config"])
            .arg(config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let lines = Arc::new(Mutex::new(Vec::new()));
    let kept = lines.clone();
    let (found, addr) = mpsc::channel();
    thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on ").nth(1) {
                let _ = found.send(rest.split(';').next().unwrap_or_default().to_string());
            }
            kept.lock().unwrap_or_else(|p| p.into_inner()).push(line);
        }
    });
    let addr = addr
        .recv_timeout(Duration::from_secs(20))
        .expect("shopbot serve did not say where it listens");
    (child, format!("http://{addr}"), lines)
}

/// One acknowledged request: what was sent and what came back.
pub struct Ack {
    params: Vec<(String, String)>,
    body: String,
}

/// A customer walking the defect report over and over until told to stop.
fn customer(http: String, n: usize, stop: Arc<AtomicBool>, acks: Arc<Mutex<Vec<Ack>>>, count: Arc<AtomicUsize>) {
    let agent = agent(Duration::from_secs(5));
    let from = format!("+2782557{n:04}");
    let walk = ["hi", "2", "1", "It broke", "2", "2"];
    for text in walk.iter().cycle() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let params = whatsapp_params(&new_sid(), &from, text);
        match post_signed_to(&agent, &http, "/twilio/inbound", &params) {
            Ok(reply) if reply.status == 200 => {
                acks.lock().unwrap().push(Ack {
                    params,
                    body: reply.body,
                });
                count.fetch_add(1, Ordering::SeqCst);
            }
            // A stopping server turns new requests away; nothing was acknowledged.
            Ok(reply) if reply.status == 503 => return,
            Ok(reply) => panic!("unexpected answer: {reply:?}"),
            Err(_) => return, // the server is gone
        }
    }
}

/// Customers walking conversations from several threads, recording every `200`.
pub struct Load {
    stop: Arc<AtomicBool>,
    acks: Arc<Mutex<Vec<Ack>>>,
    count: Arc<AtomicUsize>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Load {
    pub fn start(http: &str, threads: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let threads = (0..threads)
            .map(|n| {
                let (http, stop, acks, count) = (http.to_string(), stop.clone(), acks.clone(), count.clone());
                thread::spawn(move || customer(http, n, stop, acks, count))
            })
            .collect();
        Load {
            stop,
            acks,
            count,
            threads,
        }
    }

    /// Waits until `acks` requests were acknowledged or `limit` passed.
    pub fn wait_for(&self, acks: usize, limit: Duration) {
        let started = Instant::now();
        while self.count.load(Ordering::SeqCst) < acks && started.elapsed() < limit {
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops the customers (after the server went away) and returns what was acknowledged.
    pub fn finish(self) -> Vec<Ack> {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            t.join().unwrap();
        }
        std::mem::take(&mut *self.acks.lock().unwrap())
    }
}

/// The submission ID a TwiML reply confirms, if it confirms one (the TwiML is
/// parsed with an XML parser).
pub fn confirmed_id(twiml: &str) -> Option<String> {
    parse_twiml(twiml).iter().find_map(|message| {
        let rest = message.split("Defect Submitted! ID: ").nth(1)?;
        Some(rest.split_whitespace().next()?.to_string())
    })
}

/// Restarts the server on `config` and checks every acknowledged request
/// replays exactly and every acknowledged submission is stored once (read
/// through the store); returns the number of acknowledged submissions, which
/// must not be zero (a run that acknowledged none proves nothing).
pub fn verify_acknowledged(config: &Path, db: &Path, acks: &[Ack]) -> usize {
    let (mut child, http) = serve(config);
    let agent = agent(Duration::from_secs(10));
    let mut submitted = Vec::new();
    for ack in acks {
        let again = post_signed_to(&agent, &http, "/twilio/inbound", &ack.params).unwrap();
        assert_eq!(again.status, 200);
        assert_eq!(again.body, ack.body, "the replay differs from the acknowledged reply");
        submitted.extend(confirmed_id(&ack.body));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !submitted.is_empty(),
        "no acknowledged submission among {} requests",
        acks.len()
    );
    let mut store = Store::open(db).unwrap();
    let stored = store.read(|db| db.submissions(None, None, usize::MAX >> 1)).unwrap();
    for id in &submitted {
        let copies = stored.iter().filter(|s| &s.public_id == id).count();
        assert_eq!(copies, 1, "acknowledged submission {id} is stored {copies} times");
    }
    let unique: std::collections::BTreeSet<&String> = submitted.iter().collect();
    assert_eq!(unique.len(), submitted.len(), "two acknowledgements named one ID");
    submitted.len()
}

/// A config file for a server on a temp database: (dir, config, database).
pub fn temp_config() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, config_text(&db, "")).unwrap();
    (dir, config, db)
}

#[test]
fn every_acknowledged_request_survives_kill_9() {
    let (_dir, config, db) = temp_config();
    let (mut child, http) = serve(&config);
    let load = Load::start(&http, THREADS);
    load.wait_for(KILL_AFTER_ACKS, KILL_AFTER);
    load.wait_for(MIN_ACKS, MIN_ACKS_WITHIN);
    child.kill().unwrap(); // SIGKILL: no shutdown code runs
    child.wait().unwrap();
    let acks = load.finish();
    assert!(
        acks.len() >= MIN_ACKS,
        "only {} requests acknowledged before the kill",
        acks.len()
    );
    let submissions = verify_acknowledged(&config, &db, &acks);
    eprintln!(
        "kill -9 after {} acknowledged requests ({submissions} submissions): all replayed identically",
        acks.len()
    );
}
