//! `POST /twilio/status`: every event kept, the current status by precedence,
//! duplicates ignored, unknown SIDs stored; read back with `GET /api/messages/{key}`.

use serde_json::Value;

use crate::support::{new_sid, pairs, whatsapp_params, TestServer, ADMIN_TOKEN};

const STATUS_PATH: &str = "/twilio/status";

/// The parameters Twilio sends in a WhatsApp status callback.
fn callback(sid: &str, status: &str, error: Option<(&str, &str)>) -> Vec<(String, String)> {
    let mut params = pairs(&[
        ("AccountSid", "AC00000000000000000000000000000000"),
        ("ApiVersion", "2010-04-01"),
        ("ChannelPrefix", "whatsapp"),
        ("ChannelToAddress", "+27825550301"),
        ("From", "whatsapp:+14155238886"),
        ("MessageSid", sid),
        ("MessageStatus", status),
        ("SmsSid", sid),
        ("SmsStatus", status),
        ("To", "whatsapp:+27825550301"),
    ]);
    if let Some((code, message)) = error {
        params.push(("ErrorCode".into(), code.into()));
        params.push(("ErrorMessage".into(), message.into()));
    }
    params
}

fn post_status(server: &TestServer, sid: &str, status: &str, error: Option<(&str, &str)>) {
    let reply = server.post_signed(STATUS_PATH, &callback(sid, status, error));
    assert_eq!(reply.status, 204, "{reply:?}");
    assert!(reply.body.is_empty(), "{reply:?}");
}

fn statuses(message: &Value) -> Vec<&str> {
    message["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect()
}

#[test]
fn delivered_after_read_changes_nothing_and_duplicates_are_ignored() {
    let server = TestServer::start();
    let sid = new_sid();
    for status in ["queued", "read", "delivered", "sent", "read", "delivered"] {
        post_status(&server, &sid, status, None);
    }
    let (code, message) = server.api_get(&format!("/api/messages/{sid}"));
    assert_eq!(code, 200, "{message}");
    assert_eq!(message["status"], "read");
    assert_eq!(statuses(&message), ["queued", "read", "delivered", "sent"]);
    assert_eq!(message["sid"], sid.as_str());
    assert_eq!(message["direction"], "outbound");
    assert_eq!(message["to"], "+27825550301");
    assert_eq!(message["from"], "+14155238886");
    assert!(message["body"].is_null());
}

#[test]
fn failed_is_final_and_keeps_the_error() {
    let server = TestServer::start();
    let sid = new_sid();
    post_status(&server, &sid, "sent", None);
    post_status(&server, &sid, "failed", Some(("63016", "Outside the allowed window")));
    post_status(&server, &sid, "delivered", None);
    post_status(&server, &sid, "read", None);
    let (_, message) = server.api_get(&format!("/api/messages/{sid}"));
    assert_eq!(message["status"], "failed");
    assert_eq!(message["error_code"], "63016");
    assert_eq!(message["error_message"], "Outside the allowed window");
    assert_eq!(statuses(&message).len(), 4);
}

#[test]
fn an_inbound_message_can_be_read_by_sid_and_by_id() {
    let server = TestServer::start();
    let sid = new_sid();
    let reply = server.post_signed("/twilio/inbound", &whatsapp_params(&sid, "+27825550302", "hi"));
    assert_eq!(reply.status, 200);
    let (code, by_sid) = server.api_get(&format!("/api/messages/{sid}"));
    assert_eq!(code, 200, "{by_sid}");
    assert_eq!(by_sid["direction"], "inbound");
    assert_eq!(by_sid["from"], "+27825550302");
    assert_eq!(by_sid["to"], "+14155238886");
    assert_eq!(by_sid["body"], "hi");
    assert_eq!(by_sid["status"], "received");
    assert!(by_sid["reply"][0].as_str().unwrap().starts_with("Welcome!"), "{by_sid}");
    let id = by_sid["id"].as_i64().unwrap();
    let (_, by_id) = server.api_get(&format!("/api/messages/{id}"));
    assert_eq!(by_id, by_sid);
}

#[test]
fn bad_callbacks_are_refused_with_a_reason() {
    let server = TestServer::start();
    let unsigned = serde_urlencoded::to_string(callback("SM1", "sent", None)).unwrap();
    let reply = server.post(STATUS_PATH, &[], unsigned.as_bytes());
    assert_eq!(reply.status, 403, "{reply:?}");

    let mut params = callback(&new_sid(), "sent", None);
    params.retain(|(k, _)| k != "MessageStatus" && k != "SmsStatus");
    let reply = server.post_signed(STATUS_PATH, &params);
    assert_eq!(
        (reply.status, reply.body.trim()),
        (400, "missing required parameter MessageStatus")
    );

    let reply = server.get(STATUS_PATH);
    assert_eq!(reply.status, 405, "{reply:?}");
}

#[test]
fn the_admin_api_wants_the_bearer_token() {
    let server = TestServer::start();
    let path = "/api/messages/SM404";
    let none = server.get(path);
    let wrong = server.get_with(path, &[("Authorization", "Bearer nope")]);
    for reply in [&none, &wrong] {
        assert_eq!(reply.status, 401, "{reply:?}");
        let json: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(json["error"]["code"], "unauthorized");
    }
    let (code, json) = server.api_get(path);
    assert_eq!(code, 404);
    assert_eq!(json["error"]["code"], "not_found");
    let right = server.get_with(path, &[("Authorization", &format!("Bearer {ADMIN_TOKEN}"))]);
    assert_eq!(right.status, 404);
}

#[test]
fn without_a_token_the_admin_api_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let text = crate::support::config_text(&db, "").replace("[admin]\ntoken = \"test-admin-token\"\n", "");
    let path = dir.path().join("config.toml");
    let config = shopbot::config::Config::from_toml(&text, &path, &|_| None).unwrap();
    let server = TestServer::from_config(&config, dir, db);
    let reply = server.get_with("/api/messages/1", &[("Authorization", "Bearer ")]);
    assert_eq!(reply.status, 401);
    assert!(reply.body.contains("SHOPBOT_ADMIN_TOKEN"), "{}", reply.body);
}
