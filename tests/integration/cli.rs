//! The real `shopbot` binary: exit codes and what an operator reads.

use std::path::Path;
use std::process::Output;

use crate::support::{output_text, run_to_end, shopbot_command, start_child, TestServer};
use std::time::Duration;

fn shopbot(args: &[&str], dir: &Path) -> Output {
    run_to_end(shopbot_command(args).current_dir(dir))
}

fn write_config(dir: &Path, extra: &str) -> String {
    let path = dir.join("config.toml");
    std::fs::write(&path, crate::support::config_text(&dir.join("shop.db"), extra)).unwrap();
    path.display().to_string()
}

#[test]
fn check_accepts_a_good_config_and_prints_the_webhook_url() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let out = shopbot(&["check", "--config", &config], dir.path());
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("https://bot.example.com/twilio/inbound"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn check_names_a_dangling_target_and_an_unreachable_node_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("menu.toml"),
        r#"
start = "main"
[nodes.main]
kind = "menu"
text = "Hello"
options = [{ label = "Orders", goto = "orderz" }]
[nodes.orphan]
kind = "info"
text = "Nobody links here"
"#,
    )
    .unwrap();
    let config = write_config(dir.path(), "[menu]\npath = \"menu.toml\"\n");
    let out = shopbot(&["check", "--config", &config], dir.path());
    let all = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("menu.toml"), "names the file: {all}");
    assert!(
        all.contains("node `main`") && all.contains("`orderz`"),
        "names the dangling target: {all}"
    );
    assert!(
        all.contains("node `orphan`") && all.contains("not reachable"),
        "names the unreachable node: {all}"
    );
}

#[test]
fn check_names_an_unknown_key_and_a_missing_token() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "colour = \"red\"\n");
    let out = shopbot(&["check", "--config", &config], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(output_text(&out).contains("colour"), "{}", output_text(&out));

    let path = dir.path().join("config.toml");
    let without_token =
        crate::support::config_text(&dir.path().join("shop.db"), "").replace("auth_token = \"test-auth-token\"", "");
    std::fs::write(&path, without_token).unwrap();
    let out = shopbot(&["check", "--config", &config], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let all = output_text(&out);
    assert!(
        all.contains("[twilio] auth_token") && all.contains("TWILIO_AUTH_TOKEN"),
        "{all}"
    );
}

#[test]
fn sign_prints_the_documented_example() {
    let dir = tempfile::tempdir().unwrap();
    let out = shopbot(
        &[
            "sign",
            "--url",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            "--key",
            "12345",
            "--param",
            "CallSid=CA1234567890ABCDE",
            "--param",
            "Caller=+12349013030",
            "--param",
            "Digits=1234",
            "--param",
            "From=+12349013030",
            "--param",
            "To=+18005551212",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "X-Twilio-Signature: 0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    );
}

#[test]
fn orders_import_reports_counts_and_rejected_lines() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let csv = dir.path().join("orders.csv");
    std::fs::write(
        &csv,
        "Order Number,Status,Phone\nA1,Ready,+27821234567\nA2,,\nA3,Shipped,12345\nA4,New,\n",
    )
    .unwrap();
    let out = shopbot(
        &["orders", "import", csv.to_str().unwrap(), "--config", &config],
        dir.path(),
    );
    let all = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "rejections make the exit code 1: {all}");
    assert!(all.contains("2 added, 0 updated, 0 unchanged, 2 rejected"), "{all}");
    assert!(all.contains("line 3: order A2 has no status"), "{all}");
    assert!(all.contains("line 4: order A3: phone"), "{all}");
    let again = shopbot(
        &["orders", "import", csv.to_str().unwrap(), "--config", &config],
        dir.path(),
    );
    assert!(
        output_text(&again).contains("0 added, 0 updated, 2 unchanged"),
        "{}",
        output_text(&again)
    );
}

#[test]
fn chat_answers_in_the_terminal_without_network() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut child = start_child(
        shopbot_command(&["chat", "--from", "+27820000001"])
            .current_dir(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped()),
    );
    child.stdin.take().unwrap().write_all(b"hi\n1\nA1002\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let all = output_text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("bot> Welcome! Select 1-5"), "{all}");
    assert!(all.contains("Order A1002: Ready for collection"), "{all}");
    assert!(dir.path().join("shopbot-demo.db").exists());
}

#[test]
#[cfg(not(windows))]
fn service_install_on_linux_points_at_the_systemd_unit_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let install = ["service", "install", "--config", config.as_str()];
    for args in [&install[..], &["service", "uninstall"]] {
        let out = shopbot(args, dir.path());
        assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
        for needle in [
            "systemd unit",
            "systemctl enable --now shopbot",
            "journalctl -u shopbot",
        ] {
            assert!(output_text(&out).contains(needle), "{needle} in {}", output_text(&out));
        }
    }
}

/// `service run` is what the Windows service manager starts; typed by hand it
/// cannot connect to the SCM (error 1063) and says what to run instead.
#[test]
#[cfg(windows)]
fn service_run_by_hand_explains_itself_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    let out = shopbot(&["service", "run", "--config", &config], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("started by the Windows service manager"),
        "{}",
        output_text(&out)
    );
    assert!(
        output_text(&out).contains("shopbot serve --config"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn serve_logs_to_the_file_and_at_the_level_the_config_says() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("logs/shopbot.log");
    let config = write_config(dir.path(), "[log]\nlevel = \"info\"\nfile = \"logs/shopbot.log\"\n");
    // One connection at most, so that tiny_http has a warning to log too.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("workers = 4", "workers = 4\nmax_connections = 1")).unwrap();
    let mut child = start_child(shopbot_command(&["serve", "--config", &config]).stderr(std::process::Stdio::null()));
    let started = std::time::Instant::now();
    let addr = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        // Only a whole line: under qemu the file was once read mid-line, with
        // half a port number in it.
        if let Some((addr, _)) = text.split("listening on ").nth(1).and_then(|rest| rest.split_once(';')) {
            break addr.to_string();
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no log file: {text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let health = crate::support::agent(std::time::Duration::from_secs(5))
        .get(&format!("http://{addr}/healthz"))
        .call()
        .unwrap();
    assert_eq!(health.status(), 200);
    // The agent may keep its connection; either way one of these is over the cap.
    let _over: Vec<_> = (0..2)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&addr).unwrap();
            let _ = std::io::Write::write_all(&mut s, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            s
        })
        .collect();
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("answered 503")
        && started.elapsed() < std::time::Duration::from_secs(10)
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("GET /healthz 200"), "{logged}");
    assert!(
        logged.contains("the limit: answered 503"),
        "tiny_http's warning: {logged}"
    );

    let bad = write_config(dir.path(), "[log]\nlevel = \"loud\"\n");
    let out = shopbot(&["check", "--config", &bad], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(output_text(&out).contains("[log] level"), "{}", output_text(&out));
}

/// Like ssh with a private key: a config holding secrets that other users can
/// read is warned about (the check still passes); mode 600 is quiet.
#[cfg(unix)]
#[test]
fn check_warns_when_the_config_with_secrets_is_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = shopbot(&["check", "--config", &config], dir.path());
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("holds [twilio] auth_token and other secrets and other users can read it (mode 0644)")
            && text.contains("chmod 600"),
        "{text}"
    );
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let quiet = output_text(&shopbot(&["check", "--config", &config], dir.path()));
    assert!(!quiet.contains("other users can read it"), "{quiet}");
}

#[test]
fn check_refuses_a_main_menu_word_that_shadows_an_option_or_opts_out() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("menu.toml"),
        "start = \"main\"\nmain_menu_words = [\"hi\", \"1\", \"stop\"]\n[nodes.main]\nkind = \"info\"\ntext = \"Hello\"\n",
    )
    .unwrap();
    let config = write_config(dir.path(), "[menu]\npath = \"menu.toml\"\n");
    let out = shopbot(&["check", "--config", &config], dir.path());
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("\"1\" is a number: it would shadow option 1"), "{text}");
}

#[test]
fn check_lists_the_staff_and_warns_without_an_alert_template() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "[staff]\nnumbers = [\"+27825550801\", \"0825550802\"]\n");
    let out = shopbot(&["check", "--config", &config], dir.path());
    let text = output_text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a number that is not E.164 is refused: {text}"
    );
    assert!(
        text.contains("[staff] numbers") && text.contains("0825550802"),
        "{text}"
    );
    let config = write_config(dir.path(), "[staff]\nnumbers = [\"+27825550801\"]\n");
    let text = output_text(&shopbot(&["check", "--config", &config], dir.path()));
    assert!(text.contains("+27825550801 alerted on a handoff"), "{text}");
    assert!(
        text.contains("alerts can only reach a staff member who wrote to the bot in the last 24 hours"),
        "{text}"
    );
    let config = write_config(dir.path(), "[staff]\nnumbers = [\"+14155238886\"]\n");
    let out = shopbot(&["check", "--config", &config], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        output_text(&out).contains("is the shop's own WhatsApp number"),
        "{}",
        output_text(&out)
    );
}

/// Runs `shopbot chat ARGS` in `dir` with `input` on stdin.
pub(crate) fn chat_in(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = start_child(
        shopbot_command(&[&["chat", "--from", "+27820000001"], args].concat())
            .current_dir(dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped()),
    );
    // A chat that refuses exits without reading: its stdin may be closed first.
    let written = child.stdin.take().unwrap().write_all(input);
    assert!(
        written.as_ref().is_ok()
            || written
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe),
        "{written:?}"
    );
    child.wait_with_output().unwrap()
}

#[test]
fn the_terminal_chat_leaves_a_running_demos_database_and_its_orders_alone() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    assert!(chat_in(dir.path(), &[], b"hi\n").status.success());
    // The owner changed an order in the demo (an upload, say).
    let db = dir.path().join("shopbot-demo.db");
    let changed = shopbot::store::NewOrder {
        number: "A1002".into(),
        status: "Out for delivery".into(),
        phone: shopbot::store::Cell::Keep,
        note: shopbot::store::Cell::Keep,
        updated: shopbot::store::Cell::Keep,
    };
    let mut store = shopbot::store::Store::open(&db).unwrap();
    store
        .write(|db| db.upsert_order(&changed, jiff::Timestamp::now(), jiff::Zoned::now().date()))
        .unwrap();
    drop(store);
    let mut demo = start_child(
        shopbot_command(&["demo", "--port", "0"])
            .current_dir(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null()),
    );
    let mut lines = std::io::BufReader::new(demo.stdout.take().unwrap()).lines();
    assert!(
        lines.any(|l| l.is_ok_and(|l| l.contains("/demo"))),
        "the demo said where it runs"
    );
    let refused = chat_in(dir.path(), &[], b"hi\n");
    let text = output_text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(
        text.contains("uses shopbot-demo.db") && text.contains("--while-serving"),
        "{text}"
    );
    let asked = chat_in(dir.path(), &["--while-serving"], b"hi\n1\nA1002\n");
    let text = output_text(&asked);
    assert!(asked.status.success(), "{text}");
    assert!(
        text.contains("Order A1002: Out for delivery"),
        "the demo's orders were not loaded again: {text}"
    );
    let _ = demo.kill();
    let _ = demo.wait();
}

/// A second `shopbot serve` on the database a server already serves is
/// refused with what failed (the serving lock and its holder), not a guess
/// about the port: it listens on a port of its own.
#[test]
fn a_second_server_on_the_same_database_is_refused_by_the_serving_lock() {
    let server = TestServer::start();
    let mut second = shopbot_command(&["serve", "--config", &server.config_path().to_string_lossy()]);
    second
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = start_child(&mut second);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("waiting on shopbot").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("a second shopbot serve on the same database kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("its output");
    let text = output_text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("shopbot is serving the database") && text.contains("stop it first"),
        "{text}"
    );
    assert!(!text.contains("another program"), "{text}");
}
