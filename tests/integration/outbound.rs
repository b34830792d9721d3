//! Messages the shop starts, against a mock of Twilio's REST API: the request
//! shape compared with what Twilio's official library sends, retries, permanent
//! failures, the opt-out and 24-hour rules, and the admin API's auth.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{pairs, TestServer, ADMIN_TOKEN};
use crate::twilio_mock::{MockTwilio, Recorded};

const CUSTOMER: &str = "+27821234567";

fn fixtures() -> Value {
    serde_json::from_str(include_str!("../fixtures/outbound_requests.json")).unwrap()
}

fn case(name: &str) -> Value {
    fixtures()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
        .clone()
}

/// A server sending to `mock` as the fixtures' account, with `twilio_extra`
/// added to `[twilio]`.
fn server(mock: &MockTwilio, twilio_extra: &str) -> TestServer {
    let account = fixtures()["account_sid"].as_str().unwrap().to_string();
    let extra = format!(
        "api_base_url = \"{}\"\n{twilio_extra}\n[outbox]\nretry_after_seconds = 0.05\n",
        mock.url
    );
    TestServer::start_edited(&extra, move |text| {
        text.replace("AC00000000000000000000000000000000", &account)
    })
}

fn queue(server: &TestServer, path: &str, body: Value) -> i64 {
    let (status, answer) = server.api_post(path, &body);
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["status"], "queued");
    assert!(answer["sid"].is_null(), "{answer}");
    answer["id"].as_i64().unwrap()
}

/// The request compared with the fixture: path, auth user, and every form
/// field in order (ContentVariables as JSON: the libraries differ in spacing).
fn assert_same_request(got: &Recorded, fixture: &Value) {
    assert_eq!(got.method, "POST");
    assert_eq!(got.path, fixture["path"].as_str().unwrap());
    assert!(
        got.content_type.starts_with("application/x-www-form-urlencoded"),
        "{}",
        got.content_type
    );
    assert_eq!(got.basic_user, fixture["basic_user"].as_str().unwrap());
    let want: Vec<(String, String)> = serde_json::from_value(fixture["form"].clone()).unwrap();
    let keys = |form: &[(String, String)]| form.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&got.form), keys(&want), "field names and order");
    for ((key, got), (_, want)) in got.form.iter().zip(&want) {
        if key == "ContentVariables" {
            let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap();
            assert_eq!(parse(got), parse(want));
        } else {
            assert_eq!(got, want, "{key}");
        }
    }
}

#[test]
fn text_media_and_template_requests_match_the_official_library() {
    let mock = MockTwilio::start();
    let server = server(&mock, "");
    server.say(CUSTOMER, "hi");
    let text = case("text");
    let media = case("media");
    let template = case("template");
    let field = |c: &Value, k: &str| {
        c["form"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p[0] == k)
            .map(|p| p[1].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    queue(
        &server,
        "/api/messages",
        json!({"to": CUSTOMER, "body": field(&text, "Body")[0]}),
    );
    queue(
        &server,
        "/api/messages",
        json!({"to": format!("whatsapp:{CUSTOMER}"), "body": field(&media, "Body")[0], "media_url": field(&media, "MediaUrl")}),
    );
    let id = queue(
        &server,
        "/api/templates",
        json!({"to": CUSTOMER, "content_sid": field(&template, "ContentSid")[0], "variables": {"1": "Ava", "2": "18473"}}),
    );
    server.settled(id);
    let got = mock.wait_for(3, Duration::from_secs(10));
    assert_eq!(got.len(), 3);
    assert_same_request(&got[0], &text);
    assert_same_request(&got[1], &media);
    assert_same_request(&got[2], &template);
    assert_eq!(got[0].basic_password, crate::support::TOKEN);
}

#[test]
fn api_key_and_messaging_service_requests_match_the_official_library() {
    let mock = MockTwilio::start();
    let fixtures = fixtures();
    let extra = format!(
        "api_key_sid = \"{}\"\napi_key_secret = \"{}\"\nmessaging_service_sid = \"MG00112233445566778899aabbccddeeff\"",
        fixtures["api_key_sid"].as_str().unwrap(),
        fixtures["api_key_secret"].as_str().unwrap()
    );
    let server = server(&mock, &extra);
    server.say(CUSTOMER, "hi");
    let id = queue(
        &server,
        "/api/messages",
        json!({"to": CUSTOMER, "body": "Your order A1002 is ready 🙂 & waiting"}),
    );
    server.settled(id);
    let got = mock.wait_for(1, Duration::from_secs(10));
    let mut expected = case("messaging_service");
    expected["basic_user"] = case("text_api_key")["basic_user"].clone();
    assert_same_request(&got[0], &expected);
    assert_eq!(got[0].basic_password, fixtures["api_key_secret"].as_str().unwrap());
}

#[test]
fn throttled_twice_then_accepted_is_sent_exactly_once() {
    let mock = MockTwilio::start();
    mock.then(429, r#"{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}"#)
        .then(503, "Service Unavailable")
        .then(201, r#"{"sid":"SMaaaabbbbccccddddeeeeffff00001111","status":"queued"}"#);
    let server = server(&mock, "");
    server.say(CUSTOMER, "hi");
    let id = queue(&server, "/api/messages", json!({"to": CUSTOMER, "body": "Ready"}));
    let message = server.settled(id);
    assert_eq!(message["outbox"]["state"], "sent", "{message}");
    assert_eq!(message["outbox"]["attempts"], 3);
    assert_eq!(message["sid"], "SMaaaabbbbccccddddeeeeffff00001111");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(mock.requests().len(), 3);
}

#[test]
fn an_invalid_number_fails_for_good_with_twilios_code() {
    let mock = MockTwilio::start();
    mock.then(
        400,
        r#"{"code":21211,"message":"The 'To' number whatsapp:+27821234567 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}"#,
    );
    let server = server(&mock, "");
    server.say(CUSTOMER, "hi");
    let id = queue(&server, "/api/messages", json!({"to": CUSTOMER, "body": "Ready"}));
    let message = server.settled(id);
    assert_eq!(message["outbox"]["state"], "failed", "{message}");
    assert_eq!(message["status"], "failed");
    assert_eq!(message["error_code"], "21211");
    assert!(message["error_message"]
        .as_str()
        .unwrap()
        .contains("not a valid phone number"));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(mock.requests().len(), 1, "a 400 must not be retried");
}

#[test]
fn an_opted_out_number_gets_nothing() {
    let mock = MockTwilio::start();
    let server = server(&mock, "");
    server.say(CUSTOMER, "STOP");
    for (path, body) in [
        ("/api/messages", json!({"to": CUSTOMER, "body": "Sale!"})),
        (
            "/api/templates",
            json!({"to": CUSTOMER, "content_sid": format!("HX{}", "0".repeat(32))}),
        ),
    ] {
        let (status, answer) = server.api_post(path, &body);
        assert_eq!(status, 409, "{answer}");
        assert_eq!(answer["error"]["code"], "opted_out");
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(mock.requests().is_empty());
}

#[test]
fn outside_the_window_only_templates_go() {
    let mock = MockTwilio::start();
    let server = server(&mock, "");
    let (status, answer) = server.api_post("/api/messages", &json!({"to": CUSTOMER, "body": "Hello"}));
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"]["code"], "outside_window");
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("template"),
        "{answer}"
    );
    let id = queue(
        &server,
        "/api/templates",
        json!({"to": CUSTOMER, "content_sid": format!("HX{}", "1".repeat(32)), "variables": {"1": "Ava"}}),
    );
    assert_eq!(server.settled(id)["outbox"]["state"], "sent");
    let sent = mock.requests();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].get("Body").is_none() && sent[0].get("MediaUrl").is_none());
}

#[test]
fn a_63016_callback_closes_the_window_until_the_customer_writes() {
    let mock = MockTwilio::start();
    let server = server(&mock, "");
    server.say(CUSTOMER, "hi");
    let id = queue(&server, "/api/messages", json!({"to": CUSTOMER, "body": "One"}));
    let sid = server.settled(id)["sid"].as_str().unwrap().to_string();
    let callback = pairs(&[
        ("MessageSid", sid.as_str()),
        ("MessageStatus", "failed"),
        ("ErrorCode", "63016"),
        ("To", "whatsapp:+27821234567"),
    ]);
    assert_eq!(server.post_signed("/twilio/status", &callback).status, 204);
    let (status, answer) = server.api_post("/api/messages", &json!({"to": CUSTOMER, "body": "Two"}));
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("outside_window")),
        "{answer}"
    );
    server.say(CUSTOMER, "hi again");
    queue(&server, "/api/messages", json!({"to": CUSTOMER, "body": "Three"}));
}

#[test]
fn a_staff_reply_answers_a_handoff() {
    let mock = MockTwilio::start();
    let server = server(&mock, "");
    server.say(CUSTOMER, "hi");
    assert!(server.say(CUSTOMER, "4").text().contains("A team member will reply"));
    let waiting = || {
        let who = shopbot::message::ContactRef::phone(shopbot::phone::PhoneNumber::parse(CUSTOMER).unwrap());
        server
            .store()
            .read(|db| match db.find_contact(&who)? {
                Some(contact) => db.waiting_since(contact),
                None => Ok(None),
            })
            .unwrap()
    };
    assert!(waiting().is_some());
    let id = queue(
        &server,
        "/api/messages",
        json!({"to": CUSTOMER, "body": "Hi, Sam here. How can I help?"}),
    );
    assert_eq!(server.settled(id)["outbox"]["state"], "sent");
    assert!(waiting().is_none());
}

#[test]
fn bad_requests_name_the_field() {
    let mock = MockTwilio::start();
    let server = server(&mock, "");
    for (path, body, field) in [
        ("/api/messages", json!({"to": "0821234567", "body": "x"}), "to"),
        (
            "/api/messages",
            json!({"to": CUSTOMER, "body": "x", "media_url": ["http://example.com/a.jpg"]}),
            "media_url",
        ),
        (
            "/api/templates",
            json!({"to": CUSTOMER, "content_sid": "HX12"}),
            "content_sid",
        ),
    ] {
        let (status, answer) = server.api_post(path, &body);
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"]["code"], "invalid_field");
        assert!(
            answer["error"]["message"].as_str().unwrap().starts_with(field),
            "{answer}"
        );
    }
    let (status, answer) = server.api_post("/api/messages", &json!({"to": CUSTOMER, "text": "x"}));
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (400, Some("invalid_json")),
        "{answer}"
    );
}

#[test]
fn sending_needs_the_admin_token() {
    let mock = MockTwilio::start();
    let server = server(&mock, "");
    server.say(CUSTOMER, "hi");
    let body = json!({"to": CUSTOMER, "body": "x"});
    assert_eq!(server.post_json("/api/messages", &body, None).status, 401);
    assert_eq!(server.post_json("/api/messages", &body, Some("wrong")).status, 401);
    assert_eq!(server.post_json("/api/messages", &body, Some(ADMIN_TOKEN)).status, 202);
}

#[test]
fn a_conversation_lists_both_directions_newest_last() {
    let mock = MockTwilio::start();
    let server = server(&mock, "");
    server.say(CUSTOMER, "hi");
    let id = queue(
        &server,
        "/api/messages",
        json!({"to": CUSTOMER, "body": "Welcome back"}),
    );
    server.settled(id);
    let (status, answer) = server.api_get("/api/messages?contact=%2B27821234567");
    assert_eq!(status, 200, "{answer}");
    let messages = answer["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(
        (messages[0]["direction"].as_str(), messages[0]["body"].as_str()),
        (Some("inbound"), Some("hi"))
    );
    assert_eq!(messages[1]["direction"], "outbound");
    assert_eq!(messages[1]["to"], CUSTOMER);
}

#[test]
fn callbacks_move_an_outbound_message_on() {
    let mock = MockTwilio::start();
    let server = server(&mock, "");
    server.say(CUSTOMER, "hi");
    let id = queue(&server, "/api/messages", json!({"to": CUSTOMER, "body": "Ready"}));
    let sid = server.settled(id)["sid"].as_str().unwrap().to_string();
    for status in ["read", "sent", "delivered"] {
        let params = pairs(&[("MessageSid", sid.as_str()), ("MessageStatus", status)]);
        assert_eq!(server.post_signed("/twilio/status", &params).status, 204);
    }
    let (_, by_id) = server.api_get(&format!("/api/messages/{id}"));
    assert_eq!(by_id["status"], "read", "{by_id}");
    assert_eq!(by_id["events"].as_array().unwrap().len(), 3);
}

#[test]
fn the_rate_limit_spaces_sends() {
    let mock = MockTwilio::start();
    let mock_url = format!("api_base_url = \"{}\"\n[outbox]\nmessages_per_second = 10\n", mock.url);
    let server = TestServer::start_with(&mock_url);
    server.say(CUSTOMER, "hi");
    let started = std::time::Instant::now();
    let ids: Vec<i64> = (0..20)
        .map(|i| {
            queue(
                &server,
                "/api/messages",
                json!({"to": CUSTOMER, "body": format!("n{i}")}),
            )
        })
        .collect();
    server.settled(*ids.last().unwrap());
    // A full bucket of 10, then 10 more at 10 per second: at least ~1 s.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    let bodies: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| r.get("Body").unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..20).map(|i| format!("n{i}")).collect();
    assert_eq!(bodies, expected, "sent in the order queued");
}

#[test]
fn submissions_can_be_listed_by_form_prefix() {
    let mock = MockTwilio::start();
    let server = server(&mock, "");
    for text in ["2", "1", "Dented lid"] {
        server.say(CUSTOMER, text);
    }
    let (status, answer) = server.api_get("/api/submissions?form=DEF&since=2020-01-01");
    assert_eq!(status, 200, "{answer}");
    let items = answer["submissions"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0]["id"].as_str().unwrap().starts_with("DEF-"));
    assert_eq!(items[0]["from"], CUSTOMER);
    assert_eq!(items[0]["answers"][0]["text"], "Dented lid");
    let (_, none) = server.api_get("/api/submissions?form=DEF&since=2999-01-01");
    assert!(none["submissions"].as_array().unwrap().is_empty());
    let (status, _) = server.api_get("/api/submissions?since=yesterday");
    assert_eq!(status, 400);
}

#[test]
fn a_63016_rest_error_fails_the_message_and_closes_the_window() {
    let mock = MockTwilio::start();
    mock.then(
        400,
        r#"{"code":63016,"message":"Failed to send freeform message because you are outside the allowed window.","status":400}"#,
    );
    let server = server(&mock, "");
    server.say(CUSTOMER, "hi");
    let id = queue(&server, "/api/messages", json!({"to": CUSTOMER, "body": "One"}));
    let message = server.settled(id);
    assert_eq!(
        (message["outbox"]["state"].as_str(), message["error_code"].as_str()),
        (Some("failed"), Some("63016"))
    );
    let (status, answer) = server.api_post("/api/messages", &json!({"to": CUSTOMER, "body": "Two"}));
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("outside_window")),
        "{answer}"
    );
    assert_eq!(mock.requests().len(), 1, "63016 must not be retried");
}
