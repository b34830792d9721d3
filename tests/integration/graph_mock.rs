//! A mock of Meta's Graph API for tests: a real HTTP server on loopback that
//! records every request (method, path, `Authorization`, JSON body) and answers
//! from a script, then as the Cloud API answers a successful send
//! (`{"messaging_product":"whatsapp","contacts":[…],"messages":[{"id":"wamid.MOCK<n>"}]}`).

use std::time::Duration;

use serde_json::{json, Value};
use shopbot::channel::meta::graph::GraphClient;
use shopbot::config::Secret;
use shopbot::message::{Channel, ContactRef, Content, MessageStatus, Refused, SendError};
use shopbot::phone::PhoneNumber;

use crate::mock_server::{Answer, MockServer, RawRequest};

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path and query, e.g. `/v25.0/PNID/messages`.
    pub path: String,
    /// The whole `Authorization` header (`Bearer EAA…`).
    pub authorization: String,
    pub content_type: String,
    /// The body parsed as JSON (`Value::Null` if it was not JSON).
    pub body: Value,
}

/// The running mock; its `url` is the `graph_base_url` to configure.
pub type MockGraph = MockServer<Recorded>;

impl MockServer<Recorded> {
    /// Starts a Graph API mock.
    pub fn start() -> MockGraph {
        MockServer::start_with(record, success)
    }
}

fn record(raw: &RawRequest) -> Recorded {
    Recorded {
        method: raw.method.clone(),
        path: raw.path.clone(),
        authorization: raw.header("Authorization"),
        content_type: raw.header("Content-Type"),
        body: serde_json::from_str(&raw.body).unwrap_or(Value::Null),
    }
}

/// What the Cloud API answers to a send: the input echoed, `wa_id` for a
/// phone number or `user_id` for a BSUID, and the new message id.
fn success(request: &Recorded, n: usize) -> Answer {
    let request = &request.body;
    let contact = match (request["to"].as_str(), request["recipient"].as_str()) {
        (Some(to), _) => json!({"input": to, "wa_id": to}),
        (None, Some(id)) => json!({"input": id, "user_id": id}),
        (None, None) => json!({}),
    };
    let body = json!({
        "messaging_product": "whatsapp",
        "contacts": [contact],
        "messages": [{"id": format!("wamid.MOCK{n}")}]
    });
    Answer {
        status: 200,
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

fn client(mock: &MockGraph) -> GraphClient {
    GraphClient::new(&mock.url, "v25.0", "106540352242922", Secret::new("EAAmocktoken"))
}

fn customer() -> ContactRef {
    ContactRef::phone(PhoneNumber::parse("+27821234567").unwrap())
}

#[test]
fn a_text_message_reaches_the_graph_api_as_meta_documents_it() {
    let mock = MockGraph::start();
    let content = Content::Text {
        body: "Your order 18473 is ready".into(),
        media_urls: Vec::new(),
    };
    let sent = client(&mock).send(&customer(), &content).unwrap();
    assert_eq!((sent.key.as_str(), sent.status), ("wamid.MOCK1", MessageStatus::Sent));

    let requests = mock.wait_for(1, Duration::from_secs(5));
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v25.0/106540352242922/messages");
    assert_eq!(request.authorization, "Bearer EAAmocktoken");
    assert!(
        request.content_type.starts_with("application/json"),
        "{}",
        request.content_type
    );
    assert_eq!(
        request.body,
        json!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": "27821234567",
            "type": "text", "text": {"body": "Your order 18473 is ready", "preview_url": false}
        })
    );
}

#[test]
fn a_closed_window_comes_back_as_window_closed() {
    let mock = MockGraph::start();
    let closed = json!({"error": {
        "message": "(#131047) Re-engagement message", "type": "OAuthException", "code": 131047,
        "error_data": {"messaging_product": "whatsapp",
                       "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
        "fbtrace_id": "A1b2C3"}});
    mock.push_answer(400, &closed.to_string(), Duration::from_millis(50));
    let graph = client(&mock);
    let reply = Content::Reply {
        body: "Welcome!".into(),
        choice: None,
    };
    let err = graph.send(&customer(), &reply).unwrap_err();
    let SendError::Rejected {
        channel,
        http_status,
        code,
        verdict,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*channel, *http_status, code.as_deref(), *verdict),
        (Channel::Meta, 400, Some("131047"), Refused::WindowClosed)
    );
    // The script is used up: the next send gets the default success.
    let hidden = ContactRef::user_id("US.13491208655302741918");
    assert_eq!(graph.send(&hidden, &reply).unwrap().key, "wamid.MOCK2");
    let requests = mock.requests();
    assert_eq!(requests[1].body["recipient"], "US.13491208655302741918");
}
