//! `shopbot restore FILE`: refuses while the server runs, checks the file
//! before touching anything, migrates an older schema, keeps the database it
//! replaces, and brings back exactly what a backup taken under load held.

use std::path::Path;
use std::time::Duration;

use shopbot::store::Store;

use crate::crash::{serve, temp_config, Load};
use crate::support::{agent, run_to_end, shopbot_command};

/// Runs `shopbot ARGS --config CONFIG`: (exit code, stdout, stderr).
fn shopbot(args: &[&str], config: &Path) -> (i32, String, String) {
    let output = run_to_end(shopbot_command(args).arg("--config").arg(config));
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn submissions_in(db: &Path) -> usize {
    let mut store = Store::open(db).unwrap();
    store
        .read(|db| db.submissions(None, None, usize::MAX >> 1))
        .unwrap()
        .len()
}

#[test]
fn restore_refuses_while_the_server_runs_then_brings_back_a_backup_taken_under_load() {
    let (dir, config, db) = temp_config();
    let backup = dir.path().join("taken-under-load.db");
    let (mut child, http) = serve(&config);
    let load = Load::start(&http, 4);
    load.wait_for(40, Duration::from_secs(60));
    let (code, out, err) = shopbot(&["backup", backup.to_str().unwrap()], &config);
    assert_eq!(code, 0, "{out}{err}");
    load.wait_for(120, Duration::from_secs(60));

    let (code, out, err) = shopbot(&["restore", backup.to_str().unwrap()], &config);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("shopbot is serving the database") && err.contains("stop it first"),
        "{err}"
    );
    assert!(
        err.contains(&format!("(process {})", child.id())) || cfg!(windows),
        "{err}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    load.finish();

    let (in_backup, before) = (submissions_in(&backup), submissions_in(&db));
    assert!(
        in_backup > 0 && before > in_backup,
        "{in_backup} in the backup, {before} now"
    );
    let (code, out, err) = shopbot(&["restore", backup.to_str().unwrap()], &config);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("{in_backup} submissions; integrity ok")), "{out}");
    let kept = dir.path().join("shop.db.before-restore");
    assert!(
        out.contains("kept as ") && out.contains("shop.db.before-restore"),
        "{out}"
    );
    for side in ["taken-under-load.db-wal", "taken-under-load.db-shm"] {
        assert!(!dir.path().join(side).exists(), "{side} left beside the backup");
    }
    assert_eq!(submissions_in(&db), in_backup, "the backup's submissions, no more");
    assert_eq!(submissions_in(&kept), before, "the replaced database is kept whole");

    let (mut child, http) = serve(&config);
    let health = agent(Duration::from_secs(10))
        .get(&format!("{http}/healthz"))
        .call()
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
    // A second restore keeps the first restore's database too.
    let (code, out, err) = shopbot(&["restore", backup.to_str().unwrap()], &config);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("shop.db.before-restore.2"), "{out}");
}

#[test]
fn restore_refuses_what_is_not_a_shopbot_database_and_changes_nothing() {
    let (dir, config, db) = temp_config();
    let (mut child, _http) = serve(&config);
    child.kill().unwrap();
    child.wait().unwrap();
    let before = std::fs::read(&db).unwrap();

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "this is not a database, it is a shopping list\n".repeat(100)).unwrap();
    let (code, _, err) = shopbot(&["restore", text.to_str().unwrap()], &config);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("notes.txt") && err.contains("not a database"), "{err}");

    let empty = dir.path().join("empty.db");
    rusqlite::Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE t(x)")
        .unwrap();
    let (code, _, err) = shopbot(&["restore", empty.to_str().unwrap()], &config);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not a shopbot database"), "{err}");

    let (code, _, err) = shopbot(&["restore", "no-such-backup.db"], &config);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no-such-backup.db is not a file"), "{err}");

    assert_eq!(std::fs::read(&db).unwrap(), before, "the database is untouched");
    assert!(!dir.path().join("shop.db.before-restore").exists());
    assert!(!dir.path().join("shop.db.restoring").exists(), "no copy left behind");
}

#[test]
fn restore_migrates_a_backup_from_release_0_1_0() {
    let (dir, config, db) = temp_config();
    let old = dir.path().join("old-backup.db");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/release-0.1.0.db"),
        &old,
    )
    .unwrap();
    let original = std::fs::read(&old).unwrap();
    let (code, out, err) = shopbot(&["restore", old.to_str().unwrap()], &config);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("schema migrated from version"), "{out}");
    assert!(out.contains("there was no database before"), "{out}");
    assert_eq!(
        std::fs::read(&old).unwrap(),
        original,
        "the backup itself is not changed"
    );
    assert!(submissions_in(&db) > 0);
}

/// A backup that fails SQLite's integrity check, and one written by a newer
/// shopbot, are refused before anything is touched, each saying why.
#[test]
fn restore_refuses_a_damaged_backup_and_one_from_a_newer_shopbot() {
    let (dir, config, db) = temp_config();
    let (mut child, _http) = serve(&config);
    child.kill().unwrap();
    child.wait().unwrap();
    let copy = |name: &str| {
        let path = dir.path().join(name);
        let source = rusqlite::Connection::open(&db).unwrap();
        source.execute("VACUUM INTO ?1", [path.to_str().unwrap()]).unwrap();
        path
    };

    let newer = copy("newer.db");
    let damaged = copy("damaged.db");
    let before = std::fs::read(&db).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 9999")
        .unwrap();
    let (code, _, err) = shopbot(&["restore", newer.to_str().unwrap()], &config);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("schema version 9999, newer than this shopbot knows"),
        "{err}"
    );

    // Every page after the schema's first overwritten: the file still opens
    // as SQLite, and the integrity check (or the first read) finds the damage.
    let mut bytes = std::fs::read(&damaged).unwrap();
    let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    assert!(bytes.len() > 3 * page, "a database of several pages");
    for byte in &mut bytes[page + 8..] {
        *byte = 0x5A;
    }
    std::fs::write(&damaged, &bytes).unwrap();
    let (code, _, err) = shopbot(&["restore", damaged.to_str().unwrap()], &config);
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("damaged.db") || err.contains("file to restore"),
        "the damaged file is named: {err}"
    );
    assert!(err.contains("malformed") || err.contains("unreadable"), "{err}");

    assert!(std::fs::read(&db).unwrap() == before, "the database is untouched");
    assert!(!dir.path().join("shop.db.before-restore").exists());
    assert!(!dir.path().join("shop.db.restoring").exists(), "no copy left behind");
}
