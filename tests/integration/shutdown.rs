//! Graceful shutdown: SIGTERM during load stops accepting, finishes what is in
//! flight, closes the database and exits 0; nothing acknowledged is lost.
//!
//! Unix only: the test sends SIGTERM with `kill`. Windows has no SIGTERM; there
//! the same drain is started by the service manager's Stop control or Ctrl+C,
//! which a test cannot simply send to a child process it spawned.
#![cfg(unix)]

use std::process::Command;
use std::time::Duration;

use crate::crash::{serve, temp_config, verify_acknowledged, Load};

#[test]
fn sigterm_under_load_exits_0_and_loses_nothing_acknowledged() {
    let (_dir, config, db) = temp_config();
    let (mut child, http) = serve(&config);
    let load = Load::start(&http, 8);
    load.wait_for(300, Duration::from_secs(5));
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = child.wait().unwrap();
    let acks = load.finish();
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM: {status}");
    assert!(
        !db.with_extension("db-wal").exists() || std::fs::metadata(db.with_extension("db-wal")).unwrap().len() == 0,
        "the WAL was not checkpointed on a clean stop"
    );
    let submissions = verify_acknowledged(&config, &db, &acks);
    eprintln!(
        "SIGTERM after {} acknowledged requests ({submissions} submissions): exit 0, nothing lost",
        acks.len()
    );
}
