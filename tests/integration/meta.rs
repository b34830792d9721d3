//! Meta's WhatsApp Cloud API channel end to end: the verification handshake,
//! signatures on the raw body, whole batches, replies through a local Graph API
//! mock (a real HTTP server that records requests), Graph errors, the config
//! failing closed, and a Twilio and a Meta customer at the same time.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shopbot::channel::meta::signature;

use crate::graph_mock::{MockGraph, Recorded};
use crate::support::{output_text, run_to_end, shopbot_command, Reply, TestServer};

pub const APP_SECRET: &str = "test-app-secret";
pub const VERIFY_TOKEN: &str = "test-verify-token";
pub const PHONE_NUMBER_ID: &str = "106540352242922";
pub const ACCESS_TOKEN: &str = "EAAGtest-access-token";

/// The `[meta]` table of a test server whose Graph API is `graph_url`, and
/// quick retries.
pub fn meta_config(graph_url: &str) -> String {
    format!(
        r#"
[meta]
phone_number_id = "{PHONE_NUMBER_ID}"
access_token = "{ACCESS_TOKEN}"
app_secret = "{APP_SECRET}"
verify_token = "{VERIFY_TOKEN}"
graph_base_url = "{graph_url}"
[outbox]
retry_after_seconds = 0.05
"#
    )
}

/// A test server with Meta configured against a fresh Graph mock.
pub fn meta_server() -> (TestServer, MockGraph) {
    let graph = MockGraph::start();
    let server = TestServer::start_with(&meta_config(&graph.url));
    (server, graph)
}

/// A text message object as Meta sends it.
pub fn text_message(wamid: &str, from: &str, body: &str) -> Value {
    json!({
        "from": from.trim_start_matches('+'),
        "id": wamid,
        "timestamp": "1749416383",
        "text": {"body": body},
        "type": "text"
    })
}

/// A status object for one of the shop's messages.
pub fn status(wamid: &str, word: &str, to: &str) -> Value {
    json!({
        "id": wamid,
        "status": word,
        "timestamp": "1749416390",
        "recipient_id": to.trim_start_matches('+')
    })
}

/// One entry with one `messages` change, statuses listed before messages.
pub fn entry(statuses: Vec<Value>, messages: Vec<Value>) -> Value {
    let contacts: Vec<Value> = messages
        .iter()
        .map(|m| json!({"profile": {"name": "Ava"}, "wa_id": m["from"]}))
        .collect();
    let mut value = json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
    });
    if !statuses.is_empty() {
        value["statuses"] = Value::Array(statuses);
    }
    if !messages.is_empty() {
        value["contacts"] = Value::Array(contacts);
        value["messages"] = Value::Array(messages);
    }
    json!({"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]})
}

/// A webhook body of these entries.
pub fn webhook(entries: Vec<Value>) -> Vec<u8> {
    json!({"object": "whatsapp_business_account", "entry": entries})
        .to_string()
        .into_bytes()
}

impl TestServer {
    /// POSTs a webhook body signed with the test app secret.
    pub fn meta_post(&self, body: &[u8]) -> Reply {
        let sig = signature::sign(APP_SECRET, body);
        self.post_raw_json("/meta/webhook", &[(signature::HEADER, sig.as_str())], body)
    }

    /// One customer text over Meta, signed; the webhook's answer.
    pub fn meta_say(&self, wamid: &str, from: &str, body: &str) -> Reply {
        self.meta_post(&webhook(vec![entry(vec![], vec![text_message(wamid, from, body)])]))
    }

    /// POSTs a raw JSON body with headers.
    pub fn post_raw_json(&self, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut all = vec![("Content-Type", "application/json")];
        all.extend_from_slice(headers);
        self.post_with_headers(target, &all, body)
    }
}

/// The texts of the Graph calls that went to `to`, in order (an interactive
/// message's body text).
pub fn texts_to(requests: &[Recorded], to: &str) -> Vec<String> {
    let digits = to.trim_start_matches('+');
    requests
        .iter()
        .filter(|r| r.body["to"] == digits)
        .map(|r| {
            let text = r.body["text"]["body"].as_str();
            let interactive = r.body["interactive"]["body"]["text"].as_str();
            text.or(interactive).unwrap_or_default().to_string()
        })
        .collect()
}

/// Waits until `n` Graph calls went to `to`; their texts.
pub fn wait_texts(graph: &MockGraph, to: &str, n: usize) -> Vec<String> {
    let started = Instant::now();
    loop {
        let texts = texts_to(&graph.requests(), to);
        if texts.len() >= n || started.elapsed() > Duration::from_secs(20) {
            return texts;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn verification_answers_exactly_the_challenge_only_for_the_right_token() {
    let (server, _graph) = meta_server();
    let ok = server.get(&format!(
        "/meta/webhook?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
    ));
    assert_eq!((ok.status, ok.body.as_str()), (200, "1158201444"));
    assert!(ok.content_type.starts_with("text/plain"), "{ok:?}");
    for query in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        "hub.mode=unsubscribe&hub.verify_token=test-verify-token&hub.challenge=1",
        "hub.challenge=1",
        "",
    ] {
        let refused = server.get(&format!("/meta/webhook?{query}"));
        assert_eq!(refused.status, 403, "{query}: {refused:?}");
        assert!(!refused.body.contains('1'), "{query}: the challenge must not be echoed");
    }
}

#[test]
fn a_missing_signature_is_401_and_a_wrong_one_403_without_the_expected_value() {
    let (server, graph) = meta_server();
    let body = webhook(vec![entry(
        vec![],
        vec![text_message("wamid.S1", "+27821230001", "hi")],
    )]);
    let missing = server.post_raw_json("/meta/webhook", &[], &body);
    assert_eq!(missing.status, 401, "{missing:?}");
    let wrong = server.post_raw_json("/meta/webhook", &[(signature::HEADER, "sha256=00ff")], &body);
    assert_eq!(wrong.status, 403, "{wrong:?}");
    let expected = signature::sign(APP_SECRET, &body);
    let hex = expected.trim_start_matches("sha256=");
    assert!(
        !wrong.body.contains(hex) && !missing.body.contains(hex),
        "never a signing oracle"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(graph.requests().is_empty(), "nothing was handled");
}

#[test]
fn the_committed_signature_vectors_pass_on_their_raw_bytes_and_fail_reserialised() {
    let fixture: Value = serde_json::from_str(include_str!("../fixtures/meta_signatures.json")).unwrap();
    let vector = fixture["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "escaped_non_ascii_and_slash")
        .expect("the escaped vector");
    let secret = vector["secret"].as_str().unwrap();
    let graph = MockGraph::start();
    let server = TestServer::start_with(&meta_config(&graph.url).replace(APP_SECRET, secret));
    let sig = vector["signature"].as_str().unwrap();
    let raw = vector["body"].as_str().unwrap().as_bytes();
    assert!(std::str::from_utf8(raw).unwrap().contains(r"caf\u00e9 \/ 2"));
    let ok = server.post_raw_json("/meta/webhook", &[(signature::HEADER, sig)], raw);
    assert_eq!(ok.status, 200, "{ok:?}");
    let reserialised = vector["reserialised_body"].as_str().unwrap().as_bytes();
    let refused = server.post_raw_json("/meta/webhook", &[(signature::HEADER, sig)], reserialised);
    assert_eq!(refused.status, 403, "the same JSON re-serialised is other bytes");
    let (_, message) = server.api_get("/api/messages/wamid.ESCAPED1");
    assert_eq!(message["body"], "café / 2");
    assert_eq!(message["channel"], "meta");
    assert_eq!(message["from"], "+27821234567");
}

#[test]
fn the_example_menu_walked_over_meta_replies_in_order_through_the_graph_api() {
    let (server, graph) = meta_server();
    let customer = "+27821230002";
    let walk = [
        ("hi", "Welcome!"),
        ("2", "Defects: select 1-2"),
        ("1", "Please describe the defect"),
        ("Screen is cracked", "✅ Defect Submitted! ID: DEF-"),
    ];
    let mut expected = 0;
    for (i, (text, _)) in walk.iter().enumerate() {
        let answer = server.meta_say(&format!("wamid.WALK{i}"), customer, text);
        assert_eq!(answer.status, 200, "{answer:?}");
        expected += 1;
        let texts = wait_texts(&graph, customer, expected);
        assert_eq!(texts.len(), expected, "reply to {text:?}: {texts:?}");
    }
    let texts = texts_to(&graph.requests(), customer);
    for ((text, start), reply) in walk.iter().zip(&texts) {
        assert!(reply.contains(start), "{text:?} → {reply:?}");
    }
    assert!(texts.last().unwrap().contains("DEF-"), "{texts:?}");
    let first = &graph.requests()[0];
    assert_eq!(first.path, format!("/v25.0/{PHONE_NUMBER_ID}/messages"));
    assert_eq!(first.authorization, format!("Bearer {ACCESS_TOKEN}"));
    assert_eq!(first.body["messaging_product"], "whatsapp");
    assert_eq!(first.body["type"], "interactive", "the main menu is a list to tap");
    assert_eq!(graph.requests()[2].body["type"], "text");
}

#[test]
fn a_whole_batch_is_handled_statuses_first_and_a_repeat_does_nothing_again() {
    let (server, graph) = meta_server();
    let (ava, ben) = ("+27821230003", "+27821230004");
    // Statuses for messages not sent yet (wamid.MOCK1 is what the mock will
    // call the first reply), listed before the messages, in both entries.
    let batch = webhook(vec![
        entry(
            vec![
                status("wamid.MOCK1", "delivered", ava),
                status("wamid.MOCK1", "read", ava),
            ],
            vec![text_message("wamid.A1", ava, "hi")],
        ),
        entry(
            vec![status("wamid.UNKNOWN", "sent", ben)],
            vec![text_message("wamid.B1", ben, "hi"), text_message("wamid.B1", ben, "hi")],
        ),
    ]);
    assert_eq!(server.meta_post(&batch).status, 200);
    assert_eq!(server.meta_post(&batch).status, 200, "a redelivery is acknowledged");
    let requests = graph.wait_for(2, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(500));
    let requests = graph.requests().len().max(requests.len());
    assert_eq!(requests, 2, "one reply per distinct wamid");
    assert_eq!(texts_to(&graph.requests(), ava).len(), 1);
    assert_eq!(texts_to(&graph.requests(), ben).len(), 1);
    let (_, unknown) = server.api_get("/api/messages/wamid.UNKNOWN");
    assert_eq!(unknown["status"], "sent", "a status for an unknown message is kept");
    // The reply to Ava went out as wamid.MOCK1 (or MOCK2): whichever it is, its
    // status from before it existed applies now.
    let (_, conversation) = server.api_get("/api/messages?contact=%2B27821230003");
    let reply = conversation["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["direction"] == "outbound")
        .cloned()
        .unwrap();
    let sent = server.settled(reply["id"].as_i64().unwrap());
    assert_eq!(sent["outbox"]["state"], "sent", "{sent}");
    if sent["sid"] == "wamid.MOCK1" {
        assert_eq!(sent["status"], "read", "{sent}");
    }
    assert_eq!(sent["channel"], "meta");
}

#[test]
fn outside_the_window_131047_fails_the_message_and_closes_the_window() {
    let (server, graph) = meta_server();
    let customer = "+27821230005";
    graph.push_answer(
        400,
        r#"{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"A1"}}"#,
        Duration::ZERO,
    );
    assert_eq!(server.meta_say("wamid.W1", customer, "hi").status, 200);
    graph.wait_for(1, Duration::from_secs(20));
    let (_, conversation) = server.api_get(&format!("/api/messages?contact={}", customer.replace('+', "%2B")));
    let reply = conversation["messages"][1]["id"].as_i64().unwrap();
    let failed = server.settled(reply);
    assert_eq!(
        (failed["outbox"]["state"].as_str(), failed["error_code"].as_str()),
        (Some("failed"), Some("131047"))
    );
    let (status, refused) = server.api_post("/api/messages", &json!({"to": customer, "body": "Your order is ready"}));
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "outside_window");
    assert_eq!(graph.requests().len(), 1, "never retried");
}

#[test]
fn rate_limits_and_server_errors_are_retried_with_backoff() {
    let (server, graph) = meta_server();
    let customer = "+27821230006";
    graph
        .push_answer(
            400,
            r#"{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"fbtrace_id":"B"}}"#,
            Duration::ZERO,
        )
        .push_answer(503, r#"{"error":{"message":"Service temporarily unavailable","code":2}}"#, Duration::ZERO)
        .push_answer(
            400,
            r#"{"error":{"message":"(#131056) pair rate limit","code":131056,"fbtrace_id":"C"}}"#,
            Duration::ZERO,
        );
    assert_eq!(server.meta_say("wamid.R1", customer, "hi").status, 200);
    let requests = graph.wait_for(4, Duration::from_secs(20));
    assert_eq!(requests.len(), 4, "three refusals, then sent");
    assert!(
        requests.iter().all(|r| r.body == requests[0].body),
        "the same message each time"
    );
    let (_, conversation) = server.api_get(&format!("/api/messages?contact={}", customer.replace('+', "%2B")));
    let sent = server.settled(conversation["messages"][1]["id"].as_i64().unwrap());
    assert_eq!(sent["outbox"]["state"], "sent");
    assert_eq!(sent["outbox"]["attempts"], 4);
    assert_eq!(sent["sid"], "wamid.MOCK4");
}

#[test]
fn a_meta_section_without_an_app_secret_fails_closed() {
    let graph = MockGraph::start();
    let text = meta_config(&graph.url).replace(&format!("app_secret = \"{APP_SECRET}\"\n"), "");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, crate::support::config_text(&dir.path().join("s.db"), &text)).unwrap();
    for command in ["check", "serve"] {
        let output = run_to_end(shopbot_command(&[command, "--config"]).arg(&config));
        let printed = output_text(&output);
        assert_eq!(output.status.code(), Some(1), "{command}: {printed}");
        assert!(printed.contains("[meta] app_secret"), "{command}: {printed}");
        assert!(printed.contains("META_APP_SECRET"), "{command}: {printed}");
    }
}

#[test]
fn a_twilio_and_a_meta_customer_use_the_bot_at_the_same_time() {
    let (server, graph) = meta_server();
    let (on_twilio, on_meta) = ("+27821230007", "+27821230008");
    let walk = ["hi", "2", "1", "Hinge broke"];
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut last = String::new();
            for text in walk {
                last = server.say(on_twilio, text).text();
            }
            assert!(last.starts_with("✅ Defect Submitted! ID: DEF-"), "{last}");
        });
        scope.spawn(|| {
            for (i, text) in walk.iter().enumerate() {
                assert_eq!(server.meta_say(&format!("wamid.MIX{i}"), on_meta, text).status, 200);
                wait_texts(&graph, on_meta, i + 1);
            }
            let texts = texts_to(&graph.requests(), on_meta);
            assert!(
                texts.last().unwrap().starts_with("✅ Defect Submitted! ID: DEF-"),
                "{texts:?}"
            );
        });
    });
    assert!(
        texts_to(&graph.requests(), on_twilio).is_empty(),
        "Twilio replies inline, never via Graph"
    );
    let (_, twilio) = server.api_get("/api/messages?contact=%2B27821230007");
    assert!(twilio["messages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["channel"] == "twilio"));
    let (_, meta) = server.api_get("/api/messages?contact=%2B27821230008");
    assert!(meta["messages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["channel"] == "meta"));
    let (_, submissions) = server.api_get("/api/submissions");
    assert_eq!(submissions["submissions"].as_array().unwrap().len(), 2);
}

#[test]
fn a_meta_template_goes_out_as_a_graph_template_with_its_parameters_in_order() {
    let (server, graph) = meta_server();
    let customer = "+27821230009";
    let (status, queued) = server.api_post(
        "/api/templates",
        &json!({"to": customer, "template_name": "order_ready", "language_code": "en_US",
                "parameters": {"2": "A1002", "1": "Ava"}}),
    );
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["channel"], "meta", "a Meta template picks the Meta channel");
    let request = &graph.wait_for(1, Duration::from_secs(20))[0];
    assert_eq!(request.body["type"], "template");
    assert_eq!(request.body["template"]["name"], "order_ready");
    assert_eq!(request.body["template"]["language"]["code"], "en_US");
    let params: Vec<&str> = request.body["template"]["components"][0]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["Ava", "A1002"]);
    let (status, flowchat) = server.api_post(
        "/api/whatsapp/send-template",
        &json!({"to": customer, "template_name": "order_ready", "parameters": {"1": "Ava"}, "language_code": "en"}),
    );
    assert_eq!(status, 202, "{flowchat}");
    let sent = server.settled(queued["id"].as_i64().unwrap());
    let (_, by_wamid) = server.api_get(&format!("/api/messages/{}", sent["sid"].as_str().unwrap()));
    assert_eq!(by_wamid["id"], queued["id"], "found by its wamid");
}

/// Runs the real binary in `dir`.
fn shopbot(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    run_to_end(shopbot_command(args).current_dir(dir))
}

#[test]
fn sign_meta_prints_the_header_meta_would_send_for_the_raw_body() {
    let fixture: Value = serde_json::from_str(include_str!("../fixtures/meta_signatures.json")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for vector in fixture["vectors"].as_array().unwrap() {
        let body = dir.path().join("body.json");
        std::fs::write(&body, vector["body"].as_str().unwrap()).unwrap();
        let secret = vector["secret"].as_str().unwrap();
        let out = shopbot(
            &["sign", "--meta", "--body-file", body.to_str().unwrap(), "--key", secret],
            dir.path(),
        );
        assert!(out.status.success(), "{}", output_text(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("X-Hub-Signature-256: {}", vector["signature"].as_str().unwrap()),
            "{}",
            vector["name"]
        );
    }
}

#[test]
fn check_says_per_channel_what_receives_and_what_sends() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let meta = meta_config("https://graph.facebook.com").replace(&format!("access_token = \"{ACCESS_TOKEN}\"\n"), "");
    std::fs::write(&config, crate::support::config_text(&dir.path().join("s.db"), &meta)).unwrap();
    let out = shopbot(&["check", "--config", config.to_str().unwrap()], dir.path());
    let printed = output_text(&out);
    assert!(out.status.success(), "{printed}");
    let line = |name: &str| {
        printed
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name:?} line in {printed}"))
            .to_string()
    };
    assert!(line("twilio in").contains("https://bot.example.com/twilio/inbound"));
    assert!(line("twilio out").contains("ready"));
    assert!(line("meta in").contains("https://bot.example.com/meta/webhook"));
    assert!(line("meta out").contains("NOT configured") && line("meta out").contains("META_ACCESS_TOKEN"));
    assert!(line("admin API").contains("enabled"));
}
