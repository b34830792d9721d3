//! The menu reloads while `serve` runs (README "The menu file": a change
//! needs no restart): a
//! changed menu file is used by the next message; an invalid one is refused
//! with a log line naming the problem while the old menu keeps serving; on
//! Unix, SIGHUP reloads at once. Against the real binary and real files.

use std::time::{Duration, Instant};

use crate::support::{agent, config_text, new_sid, parse_twiml, post_signed_to, whatsapp_params};

const CUSTOMER: &str = "+27825556001";

fn menu(welcome: &str) -> String {
    include_str!("../../src/engine/default_menu.toml").replace(
        r#"text = { en = "Welcome! Select 1-5","#,
        &format!(r#"text = {{ en = "{welcome} Select 1-5","#),
    )
}

fn first_line(http: &str) -> String {
    let params = whatsapp_params(&new_sid(), CUSTOMER, "hi");
    let reply = post_signed_to(&agent(Duration::from_secs(10)), http, "/twilio/inbound", &params)
        .unwrap_or_else(|e| panic!("{http}: {e}"));
    parse_twiml(&reply.body)
        .join("\n")
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Waits until `done` or 20 s.
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

#[test]
fn a_changed_menu_file_is_used_by_the_next_message_and_an_invalid_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (config, menu_file) = (dir.path().join("config.toml"), dir.path().join("menu.toml"));
    std::fs::write(&menu_file, menu("Hello from the first menu!")).unwrap();
    std::fs::write(
        &config,
        config_text(&dir.path().join("shop.db"), "[menu]\npath = \"menu.toml\"\n"),
    )
    .unwrap();
    let (mut child, http, log) = crate::crash::serve_logged(&config);
    assert_eq!(first_line(&http), "Hello from the first menu! Select 1-5");

    std::fs::write(&menu_file, menu("Welcome to the new season!")).unwrap();
    assert!(
        eventually(|| first_line(&http) == "Welcome to the new season! Select 1-5"),
        "the changed menu is used: {:#?}",
        log.lock().unwrap()
    );

    std::fs::write(&menu_file, "[nodes.main]\ntext = \"no options\"\n").unwrap();
    assert!(
        eventually(|| log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("not reloaded") && l.contains("menu.toml"))),
        "an invalid menu is refused with a log line: {:#?}",
        log.lock().unwrap()
    );
    assert_eq!(
        first_line(&http),
        "Welcome to the new season! Select 1-5",
        "the old menu serves on"
    );

    #[cfg(unix)]
    {
        std::fs::write(&menu_file, menu("Good evening!")).unwrap();
        let pid = child.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        assert!(
            eventually(|| log.lock().unwrap().iter().any(|l| l.contains("reloaded on SIGHUP"))
                || log.lock().unwrap().iter().any(
                    |l| l.contains("reloaded on a changed file") && first_line(&http).starts_with("Good evening!")
                )),
            "{:#?}",
            log.lock().unwrap()
        );
        assert_eq!(first_line(&http), "Good evening! Select 1-5");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
