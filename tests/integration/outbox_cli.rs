//! The outbox through the real binary: `shopbot send`, `send-template --wait`,
//! `outbox list` and `outbox retry`, and a `kill -9` while a send is in flight
//! (the message becomes uncertain and is not resent until an operator says so).

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::crash::serve;
use crate::support::{
    agent, config_text, new_sid, output_text, post_signed_to, run_to_end, shopbot_command, whatsapp_params,
};
use crate::twilio_mock::MockTwilio;

const CUSTOMER: &str = "+27825550901";

fn shopbot(args: &[&str], config: &Path) -> Output {
    run_to_end(shopbot_command(args).arg("--config").arg(config))
}

#[test]
fn a_send_cut_by_kill_9_is_uncertain_and_only_resent_on_retry() {
    let mock = MockTwilio::start();
    mock.then_after(201, r#"{"sid":"SMlate","status":"queued"}"#, Duration::from_secs(30));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let extra = format!("api_base_url = \"{}\"\n", mock.url);
    std::fs::write(&config, config_text(&dir.path().join("shop.db"), &extra)).unwrap();

    let (mut child, http) = serve(&config);
    let client = agent(Duration::from_secs(10));
    let hi = post_signed_to(
        &client,
        &http,
        "/twilio/inbound",
        &whatsapp_params(&new_sid(), CUSTOMER, "hi"),
    )
    .unwrap();
    assert_eq!(hi.status, 200);
    let out = shopbot(&["send", "--to", CUSTOMER, "--body", "Your order is ready"], &config);
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(output_text(&out).contains("queued message"), "{}", output_text(&out));
    assert_eq!(
        mock.wait_for(1, Duration::from_secs(10)).len(),
        1,
        "the send never started"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let (mut child, _http) = serve(&config);
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        mock.requests().len(),
        1,
        "an uncertain message was resent without an operator"
    );
    let list = shopbot(&["outbox", "list"], &config);
    let listing = output_text(&list);
    assert!(listing.contains("uncertain"), "{listing}");
    let id = listing
        .lines()
        .find(|l| l.contains("uncertain"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();

    let retry = shopbot(&["outbox", "retry", &id], &config);
    assert!(retry.status.success(), "{}", output_text(&retry));
    assert_eq!(mock.wait_for(2, Duration::from_secs(10)).len(), 2);
    let again = shopbot(&["outbox", "retry", &id], &config);
    assert_eq!(again.status.code(), Some(1), "{}", output_text(&again));

    let template = shopbot(
        &[
            "send-template",
            "--to",
            CUSTOMER,
            "--content-sid",
            "HXa1b2c3d4e5f60718293a4b5c6d7e8f90",
            "--var",
            "1=Ava",
            "--wait",
        ],
        &config,
    );
    assert!(template.status.success(), "{}", output_text(&template));
    assert!(
        output_text(&template).contains(": sent as SM"),
        "{}",
        output_text(&template)
    );
    let sent = mock.requests();
    assert_eq!(sent.last().unwrap().get("ContentVariables"), Some(r#"{"1":"Ava"}"#));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn the_cli_refuses_what_the_rules_forbid() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, config_text(&dir.path().join("shop.db"), "")).unwrap();
    let out = shopbot(&["send", "--to", CUSTOMER, "--body", "Hello"], &config);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(output_text(&out).contains("template"), "{}", output_text(&out));
    let out = shopbot(&["send", "--to", "0825550901", "--body", "Hello"], &config);
    assert_eq!(out.status.code(), Some(1));
    assert!(output_text(&out).contains("--to"), "{}", output_text(&out));
    let out = shopbot(&["send", "--to", CUSTOMER, "--media", "ftp://x/y.jpg"], &config);
    assert!(output_text(&out).contains("--media"), "{}", output_text(&out));
}
