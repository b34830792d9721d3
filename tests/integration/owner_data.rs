//! Data the owner trusts (issue 24, item 5), through the real binary and the
//! real server: nothing writes to a database a running server uses unless
//! asked to (the chat on any database it names, a second demo); the demo's
//! sample orders go only into a new demo database (see also
//! `cli::the_terminal_chat_leaves_a_running_demos_database_and_its_orders_alone`);
//! and a status changed by a sheet without an Updated column is dated the
//! day of the import, whether uploaded in the inbox or imported by the CLI.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Output, Stdio};

use crate::cli::chat_in;
use crate::inbox::{inbox_server, Owner, PASSWORD};
use crate::support::{output_text, run_to_end, shopbot_command, start_child};

/// `shopbot demo --port 0 ARGS` in `dir`, and the first line of its banner
/// that contains `wanted` (`None` if its output ends first).
fn demo_line(dir: &Path, args: &[&str], wanted: &str) -> (Child, Option<String>) {
    let mut demo = start_child(
        shopbot_command(&[&["demo", "--port", "0"], args].concat())
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let lines = std::io::BufReader::new(demo.stdout.take().unwrap()).lines();
    let line = lines.map_while(Result::ok).find(|l| l.contains(wanted));
    (demo, line)
}

/// `shopbot demo --port 0 ARGS` in `dir`: the child, its address and its
/// owner's password (from the banner).
fn demo_in(dir: &Path, args: &[&str]) -> (Child, String, String) {
    let (demo, banner) = demo_line(dir, args, "password:");
    let banner = banner.expect("the demo's banner names the inbox and its password");
    let base = banner
        .split_whitespace()
        .find_map(|word| word.strip_suffix("/admin/"))
        .expect("the inbox's address")
        .to_string();
    let password = banner.rsplit("password: ").next().unwrap();
    let password = password.split_whitespace().next().unwrap().to_string();
    (demo, base, password)
}

/// Signs in to the inbox at `base`: the status (`303` signed in, `401` not).
fn sign_in(base: &str, password: &str) -> u16 {
    let form = serde_urlencoded::to_string([("password", password), ("next", "/admin/")]).unwrap();
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent();
    agent
        .post(&format!("{base}/admin/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(form.as_bytes())
        .unwrap()
        .status()
        .as_u16()
}

/// The command exited 1 saying each of `words`.
fn assert_refused(out: &Output, words: &[&str]) {
    let text = output_text(out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(words.iter().all(|w| text.contains(w)), "{words:?} in {text}");
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_chat_on_a_named_database_writes_that_file_under_its_lock_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let chatted = chat_in(dir.path(), &["--database", "mine.db"], b"hi\n1\nA1002\n");
    let text = output_text(&chatted);
    assert!(chatted.status.success(), "{text}");
    assert!(
        text.contains("Order A1002: Ready for collection"),
        "a new database gets the sample orders: {text}"
    );
    assert!(
        dir.path().join("mine.db").exists(),
        "the chat wrote the file it was given"
    );
    assert!(
        !dir.path().join("shopbot-demo.db").exists(),
        "and not the demo's database, which it had not locked"
    );
    let (demo, _, _) = demo_in(dir.path(), &["--db", "mine.db"]);
    let refused = chat_in(dir.path(), &["--database", "mine.db"], b"hi\n");
    assert_refused(&refused, &["uses mine.db", "--while-serving"]);
    stop(demo);
}

#[test]
fn a_second_demo_on_the_same_database_refuses_before_it_writes_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let (first, base, password) = demo_in(dir.path(), &[]);
    let second = run_to_end(
        shopbot_command(&["demo", "--port", "0"])
            .current_dir(dir.path())
            .stdin(Stdio::null()),
    );
    assert_eq!(
        sign_in(&base, &password),
        303,
        "the first demo's password still signs in: the second set none"
    );
    assert_refused(&second, &["uses shopbot-demo.db", "--db FILE"]);
    stop(first);
}

/// The shop's date now (the test's import happens between two of these).
fn today() -> String {
    let zone = jiff::tz::TimeZone::get("Africa/Johannesburg").unwrap();
    jiff::Timestamp::now().to_zoned(zone).date().to_string()
}

#[test]
fn a_status_changed_by_a_sheet_without_an_updated_column_is_dated_the_day_of_the_import() {
    let server = inbox_server("");
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("sample.csv");
    std::fs::write(&sample, shopbot::orders::SAMPLE_ORDERS_CSV).unwrap();
    let config = server.config_path();
    let import = |file: &Path| {
        let out = run_to_end(&mut shopbot_command(&[
            "orders",
            "import",
            file.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ]));
        assert!(out.status.success(), "{}", output_text(&out));
    };
    import(&sample);
    let lookup = |number: &str| {
        server.say("+27820000001", "1");
        server.say("+27820000001", number).text()
    };
    assert!(lookup("A1002").contains("Last update: 2025-01-18"));

    let before = today();
    let mut owner = Owner::new(&server);
    owner.sign_in(PASSWORD);
    let page = owner.get("/admin/orders");
    let sheet = b"Order Number,Status\nA1002,Out for delivery\nA1003,Shipped\n";
    let uploaded = owner.post_file("/admin/orders", &[("csrf", &page.csrf())], "orders.csv", sheet);
    assert_eq!(uploaded.status, 200, "{}", uploaded.body);
    let changed = dir.path().join("changed.csv");
    std::fs::write(&changed, "Order,Status\nA1001,Shipped\n").unwrap();
    import(&changed);
    let after = today();

    for number in ["A1002", "A1001"] {
        let answer = lookup(number);
        assert!(
            answer.contains(&format!("Last update: {before}")) || answer.contains(&format!("Last update: {after}")),
            "a new status, the import's date (upload for A1002, CLI for A1001): {answer}"
        );
    }
    assert!(
        lookup("A1003").contains("Last update: 2025-01-16"),
        "the same status keeps its date"
    );
}

/// `shopbot demo --port 0 ARGS` in `dir`, and the line of its banner that
/// gives the terminal chat's command.
fn demo_with_chat_hint(dir: &Path, args: &[&str]) -> (Child, String) {
    let (demo, hint) = demo_line(dir, args, "chat --while-serving");
    match hint {
        Some(hint) => (demo, hint),
        None => {
            stop(demo);
            panic!("the demo's banner gives the terminal chat's command");
        }
    }
}

#[test]
fn the_demos_chat_hint_names_its_database_when_it_is_not_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let (demo, hint) = demo_with_chat_hint(dir.path(), &["--db", "mine.db"]);
    let chatted = chat_in(dir.path(), &["--while-serving", "--database", "mine.db"], b"hi\n");
    stop(demo);
    assert!(hint.contains("chat --while-serving --database mine.db "), "{hint}");
    assert!(
        chatted.status.success(),
        "the hint's command works: {}",
        output_text(&chatted)
    );
    let (demo, hint) = demo_with_chat_hint(dir.path(), &[]);
    stop(demo);
    assert!(!hint.contains("--database"), "the default needs none: {hint}");
}
