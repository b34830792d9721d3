//! Golden tests of every word a person reads: whole conversations of the
//! example menu (the seed's transcript included), the handoff and opt-out
//! conversations, every CLI error a user can meet, `check`'s summary, and the
//! webhook error bodies. Snapshots live in `snapshots/`; after a deliberate
//! change, review them with `cargo insta review` (or run the tests with
//! `INSTA_UPDATE=always` and read the `git diff`).
//!
//! What varies from run to run is replaced before comparing: submission IDs
//! (`DEF-[ID]`), dates, temporary folders (`[DIR]`) and the operating system's
//! wording of an I/O error (`[OS ERROR]`), so the same snapshots hold on Linux,
//! under wine and under qemu.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde_json::json;
use shopbot::orders;

use crate::support::{output_text, pairs, run_to_end, shopbot_command, TestServer};

/// Replaces what varies between runs and systems.
fn stable(text: &str, dir: Option<&Path>) -> String {
    let mut text = text.replace('\\', "/");
    if let Some(dir) = dir {
        text = text.replace(&dir.display().to_string().replace('\\', "/"), "[DIR]");
    }
    let rules = [
        (r"DEF-\d{14}(-\d+)?", "DEF-[ID]"),
        (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "[DATE]"),
        (r": [^:\n]*\(os error \d+\)", ": [OS ERROR]"),
    ];
    for (pattern, replacement) in rules {
        text = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, replacement)
            .into_owned();
    }
    text
}

/// A conversation as a person reads it: `>` the customer, `<` the bot.
fn transcript(server: &TestServer, customer: &str, lines: &[&str]) -> String {
    let mut out = String::new();
    for line in lines {
        out.push_str(&format!("> {line}\n"));
        let reply = server.say(customer, line);
        let messages = reply.messages();
        if messages.is_empty() {
            out.push_str("  (no reply)\n");
        }
        for message in messages {
            for text in message.lines() {
                out.push_str(&format!("< {text}\n"));
            }
        }
    }
    stable(&out, None)
}

#[test]
fn the_example_menu_word_for_word() {
    let server = TestServer::start();
    orders::import(
        &mut server.store(),
        orders::SAMPLE_ORDERS_CSV.as_bytes(),
        &jiff::Zoned::now(),
    )
    .unwrap();
    let seed = transcript(
        &server,
        "+27820000001",
        &["hi", "2", "1", "Screen is cracked", "2", "2"],
    );
    insta::assert_snapshot!("seed_transcript", seed);
    let rest = transcript(
        &server,
        "+27820000001",
        &[
            "1", "A1002", "A1001", "2", "0", "3", "9", "menu", "5", "2", "1", "", "cancel",
        ],
    );
    insta::assert_snapshot!("example_menu", rest);
}

#[test]
fn the_seed_transcript_in_german_word_for_word() {
    let server = TestServer::start();
    let seed = transcript(
        &server,
        "+27820000002",
        &[
            "deutsch",
            "2",
            "1",
            "Bildschirm ist gesprungen",
            "2",
            "2",
            "xyz",
            "3",
            "english",
        ],
    );
    insta::assert_snapshot!("seed_transcript_de", seed);
}

#[test]
fn the_order_update_in_the_example_menu_word_for_word() {
    let menus = shopbot::engine::Menus::example();
    let mut text = String::new();
    for (language, menu) in menus.all() {
        for note in ["Collect at the front desk (Mon-Sat)", ""] {
            let body = shopbot::engine::render::fill(
                &menu.texts.order_update,
                &[("number", "A1002"), ("status", "Ready for collection"), ("note", note)],
            );
            text.push_str(&format!("[{language}]\n{}\n", body.trim_end()));
        }
    }
    insta::assert_snapshot!("order_update", text);
}

#[test]
fn the_submission_update_in_the_example_menu_word_for_word() {
    let menus = shopbot::engine::Menus::example();
    let mut text = String::new();
    for (language, menu) in menus.all() {
        let words = menu.texts.status_words();
        for (status, note) in
            shopbot::engine::render::SubmissionStatus::ALL
                .into_iter()
                .zip(["", "Parts ordered, back on Monday", ""])
        {
            let body = shopbot::engine::render::fill(
                &menu.texts.submission_update,
                &[
                    ("id", "DEF-20250119143022"),
                    ("status", words.of(status)),
                    ("note", note),
                ],
            );
            text.push_str(&format!("[{language}]\n{}\n", body.trim_end()));
        }
    }
    insta::assert_snapshot!("submission_update", text);
}

#[test]
fn the_away_text_in_the_example_menu_word_for_word() {
    let menus = shopbot::engine::Menus::example();
    let day = Some("08:00-17:00");
    let hours =
        shopbot::hours::Hours::new([day, day, day, day, day, None, None], &[], jiff::tz::TimeZone::UTC).unwrap();
    let mut text = String::new();
    for (language, menu) in menus.all() {
        // A Thursday and a Friday evening (10 and 11 December 2026).
        for at in ["2026-12-10T22:00:00Z", "2026-12-11T22:00:00Z"] {
            let at: jiff::Timestamp = at.parse().unwrap();
            let when = hours.say_when(&hours.next_open(at).unwrap(), at, language);
            let body = shopbot::engine::render::fill(&menu.texts.away, &[("next_open", &when)]);
            text.push_str(&format!("[{language}] {body}\n"));
        }
    }
    insta::assert_snapshot!("away", text);
}

#[test]
fn checks_language_report_word_for_word() {
    let dir = tempfile::tempdir().unwrap();
    let menu = include_str!("../../src/engine/default_menu.toml")
        .replace(r#"offer = ["en", "de"]"#, r#"offer = ["en", "de", "tr"]"#)
        .replace(r#"by_country = {}"#, r#"by_country = { "49" = "de", "90" = "tr" }"#)
        .replace(
            r#"de = "Mängel: Wählen Sie 1-2" }"#,
            r#"de = "Mängel: {count} Wählen Sie 1-2" }"#,
        );
    std::fs::write(dir.path().join("menu.toml"), menu).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        crate::support::config_text(&dir.path().join("s.db"), "[menu]\npath = \"menu.toml\"\n"),
    )
    .unwrap();
    let out = crate::support::run_to_end(&mut crate::support::shopbot_command(&[
        "check",
        "--config",
        config.to_str().unwrap(),
    ]));
    let text = crate::support::output_text(&out).replace(&dir.path().display().to_string(), "<dir>");
    let report: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("  languages ") || l.contains("node `"))
        .collect();
    insta::assert_snapshot!("check_languages", report.join("\n"));
}

#[test]
fn the_handoff_conversation_word_for_word() {
    let server = TestServer::start();
    let customer = "+27825558001";
    let mut text = transcript(&server, customer, &["hi", "4", "My order A1002 is late", "Hello?"]);
    let (status, _) = server.api_post(
        "/api/messages",
        &json!({"to": customer, "body": "Hi, Sam here. It ships tomorrow."}),
    );
    assert_eq!(status, 202);
    text.push_str("  (the owner answers through the API)\n");
    text.push_str(&transcript(&server, customer, &["Thanks!", "menu"]));
    insta::assert_snapshot!("handoff", text);
}

#[test]
fn the_opt_out_conversation_word_for_word() {
    let server = TestServer::start();
    let text = transcript(&server, "+27825558002", &["hi", "STOP", "hi", "2", "start", "hi"]);
    insta::assert_snapshot!("opt_out", text);
}

/// What `shopbot ARGS` printed and its exit code, made stable.
fn cli(args: &[&str], dir: &Path) -> String {
    let out = run_to_end(shopbot_command(args).current_dir(dir));
    stable(
        &format!("exit {}\n{}", out.status.code().unwrap_or(-1), output_text(&out)),
        Some(dir),
    )
}

/// A config file in `dir` with `edit` applied to the test config, readable by
/// its owner only (as a config holding secrets should be: the same output on
/// every platform; the warning for a readable one has its own test).
fn config_in(dir: &Path, edit: impl Fn(String) -> String) -> String {
    let path = dir.join("config.toml");
    let text = edit(crate::support::config_text(&dir.join("shop.db"), ""));
    std::fs::write(&path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path.display().to_string()
}

/// What `shopbot check` says of the test config with `edit` applied.
fn check_with(dir: &Path, edit: impl Fn(String) -> String) -> String {
    cli(&["check", "--config", &config_in(dir, edit)], dir)
}

#[test]
fn every_cli_error_a_user_can_meet_word_for_word() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut all = String::new();
    let mut case = |name: &str, output: String| all.push_str(&format!("## {name}\n{output}\n"));

    case("no config at all", cli(&["serve"], d));
    case(
        "a config file that is not there",
        cli(&["check", "--config", "nope.toml"], d),
    );
    let bad = |t: String| {
        t.replace("listen = \"127.0.0.1:0\"", "listen = \"localhost\"")
            .replace("timezone = \"Africa/Johannesburg\"", "timezone = \"Mars/Olympus\"")
    };
    case("bad values", check_with(d, bad));
    case(
        "an unknown key",
        check_with(d, |t| t.replace("[shop]", "[shop]\ncolour = \"red\"")),
    );
    let mistyped = |t: String| {
        t.replace("timezone =", "timezon =")
            .replace("[shop]", "[shopp]\nname = \"x\"\n[shop]")
    };
    case("mistyped keys", check_with(d, mistyped));
    case(
        "a value of the wrong kind",
        check_with(d, |t| t.replace("workers = 4", "workers = \"4\"")),
    );
    case(
        "no auth token",
        check_with(d, |t| t.replace("auth_token = \"test-auth-token\"\n", "")),
    );
    let no_menu = config_in(d, |t| format!("{t}\n[menu]\npath = \"menu.toml\"\n"));
    case("a missing menu file", cli(&["check", "--config", &no_menu], d));
    std::fs::write(d.join("menu.toml"), "start = \"main\"\n[nodes.main]\nkind = \"menu\"\ntext = \"Hi\"\noptions = [{ label = \"Orders\", goto = \"orderz\" }]\n").unwrap();
    case("a broken menu", cli(&["check", "--config", &no_menu], d));
    let both = config_in(d, |t| {
        format!("{t}\n[menu]\npath = \"menu.toml\"\n").replace("listen = \"127.0.0.1:0\"", "listen = \"localhost\"")
    });
    case("a bad value and a broken menu", cli(&["check", "--config", &both], d));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let busy = config_in(d, |t| {
        t.replace("listen = \"127.0.0.1:0\"", &format!("listen = \"127.0.0.1:{port}\""))
    });
    case(
        "a busy port",
        cli(&["serve", "--config", &busy], d).replace(&port.to_string(), "[PORT]"),
    );
    let good = config_in(d, |t| t);
    case(
        "a missing input file",
        cli(&["orders", "import", "orders.csv", "--config", &good], d),
    );
    case(
        "a bad flag value",
        cli(&["send", "--to", "0821234567", "--body", "hi", "--config", &good], d),
    );
    insta::assert_snapshot!("cli_errors", all);
}

#[test]
fn checks_summary_word_for_word() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(dir.path(), |t| t);
    insta::assert_snapshot!("check_ok", cli(&["check", "--config", &config], dir.path()));
}

#[test]
fn webhook_error_bodies_word_for_word() {
    let server = TestServer::start();
    let mut all = String::new();
    let no_from = server.post_signed("/twilio/inbound", &pairs(&[("MessageSid", "SM1"), ("Body", "hi")]));
    all.push_str(&format!("missing From: {} {}", no_from.status, no_from.body));
    let forged = server.post(
        "/twilio/inbound",
        &[("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl")],
        b"MessageSid=SM1&From=whatsapp%3A%2B27821234567&Body=hi",
    );
    all.push_str(&format!("bad signature: {} {}", forged.status, forged.body));
    let broken = server.post_signed(
        "/twilio/inbound",
        &pairs(&[
            ("MessageSid", "SM1"),
            ("NumMedia", "x"),
            ("From", "whatsapp:+27821234567"),
        ]),
    );
    all.push_str(&format!("bad NumMedia: {} {}", broken.status, broken.body));
    let mut client = TcpStream::connect(server.addr()).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        client,
        "POST /twilio/inbound HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = client.read_to_string(&mut answer);
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    all.push_str(&format!("too large: {} {body}", &answer[9..12]));
    insta::assert_snapshot!("webhook_errors", all);
}

/// Every text a staff member reads from the relay (`[staff]`), with sample values.
#[test]
fn staff_texts_word_for_word() {
    use shopbot::staff::texts;
    let ava = texts::who(Some("Ava"), "+27821234567");
    let lee = texts::who(Some("Lee"), "+27825550802");
    let anonymous = texts::who(None, "+27821234568");
    let lines = [
        texts::list_line(1, &ava, &texts::waited(4), None),
        texts::list_line(2, &anonymous, &texts::waited(75), Some(&lee)),
    ];
    let list = texts::list(&lines, 0, 1);
    let all = [
        ("alert", texts::alert(&ava, "My order A1042 has not arrived")),
        ("alert after a menu number", texts::alert(&ava, "4")),
        ("forward", texts::forward(&ava, "It was due Monday")),
        ("forward, a further line", texts::forward_more("Can someone call me?")),
        ("a line with a photo", texts::line_with_media("Here", 1)),
        ("a photo alone", texts::line_with_media("", 2)),
        ("now answering", texts::now_answering(&ava)),
        ("held by another", texts::held_by_other(&ava, &lee)),
        ("#take", texts::taken(&ava)),
        ("taken from you", texts::taken_from_you(&ava, &lee)),
        ("outside the window", texts::outside_window(&ava)),
        ("opted out", texts::opted_out(&ava)),
        (
            "not sent",
            texts::not_sent(&ava, "the text is 5000 characters; twilio allows 1600 in one message"),
        ),
        ("media not relayed", texts::media_not_relayed()),
        ("no conversation", texts::no_conversation()),
        ("#done", texts::handed_back(&ava)),
        ("#list", list),
        ("#list, more than a page", texts::list(&lines, 18, 1)),
        ("#list 3, past the end", texts::list(&[], 0, 3)),
        ("#list, nobody", texts::list(&[], 0, 1)),
        ("a staff member's STOP", texts::staff_opt_word("STOP")),
        ("#N past the list", texts::no_such_number(7)),
        ("#N", texts::switched(&ava, Some("Do you repair gates?"))),
        ("#help", texts::help()),
        ("unknown command", texts::unknown_command("#dne")),
    ];
    let text: String = all.iter().map(|(name, text)| format!("--- {name}\n{text}\n")).collect();
    insta::assert_snapshot!("staff_texts", text);
}
