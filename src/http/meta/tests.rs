//! Meta's webhook handlers without sockets: a temp store, a real writer and
//! `Request` literals. Routing (`405` with `Allow`, `404` without `[meta]`),
//! the verification handshake, the signature check, and a signed batch
//! stored before the `200`.

use std::thread::JoinHandle;

use super::MetaWebhook;
use crate::channel::meta::signature;
use crate::config::{Meta, Secret};
use crate::conversation::{Bot, LiveBot};
use crate::http::{Method, Request, Response};
use crate::outbox::sender::Wake;
use crate::store::{ReadPool, Store};
use crate::writer::Writer;

const PATH: &str = "/meta/webhook";
const SECRET: &str = "the-app-secret";
const VERIFY: &str = "the-verify-token";

struct Fixture {
    area: MetaWebhook,
    reader: ReadPool,
    writer_thread: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new(configured: bool) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.db");
        let (writer, writer_thread) = Writer::start(Store::open(&path).unwrap()).unwrap();
        let config = configured.then(|| Meta {
            phone_number_id: "106540352242922".into(),
            access_token: None,
            app_secret: Secret::new(SECRET),
            verify_token: Secret::new(VERIFY),
            api_version: "v25.0".into(),
            graph_base_url: "http://127.0.0.1:9".into(),
        });
        let area = MetaWebhook::new(writer, Wake::none(), LiveBot::new(Bot::example()), config, PATH);
        Fixture {
            area,
            reader: ReadPool::new(&path),
            writer_thread: Some(writer_thread),
            _dir: dir,
        }
    }

    fn call(&self, method: Method, target: &str, headers: Vec<(String, String)>, body: &[u8]) -> Option<Response> {
        let request = Request {
            method,
            target: target.into(),
            headers,
            body: body.to_vec(),
            remote: Some([127, 0, 0, 1].into()),
            head: false,
        };
        self.area.handle(&request).map(Response::settled)
    }

    fn post_signed(&self, body: &[u8]) -> Response {
        let header = (signature::HEADER.to_string(), signature::sign(SECRET, body));
        self.call(Method::Post, PATH, vec![header], body).unwrap()
    }

    fn unread_conversations(&self) -> i64 {
        self.reader
            .read(|db| db.inbox_pulse(None))
            .unwrap()
            .unread_conversations
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.area.writer.stop();
        if let Some(thread) = self.writer_thread.take() {
            let _ = thread.join();
        }
    }
}

fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

#[test]
fn only_its_path_is_answered_and_other_methods_are_405_with_allow() {
    let meta = Fixture::new(true);
    assert!(meta.call(Method::Get, "/meta/other", vec![], b"").is_none());
    let wrong = meta.call(Method::Put, PATH, vec![], b"").unwrap();
    let allow = wrong
        .headers
        .iter()
        .find(|(n, _)| *n == "Allow")
        .map(|(_, v)| v.as_str());
    assert_eq!((wrong.status, allow), (405, Some("GET, POST")));
}

#[test]
fn without_a_meta_section_both_methods_are_404() {
    let meta = Fixture::new(false);
    let get = meta
        .call(Method::Get, &format!("{PATH}?hub.mode=subscribe"), vec![], b"")
        .unwrap();
    let post = meta.post_signed(b"{}");
    assert_eq!((get.status, post.status), (404, 404));
}

#[test]
fn the_verification_echoes_the_challenge_only_for_the_right_token() {
    let meta = Fixture::new(true);
    let target = |token: &str| format!("{PATH}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444");
    let right = meta.call(Method::Get, &target(VERIFY), vec![], b"").unwrap();
    assert_eq!((right.status, text(&right.body)), (200, "1158201444".to_string()));
    let wrong = meta.call(Method::Get, &target("guess"), vec![], b"").unwrap();
    assert_eq!(wrong.status, 403);
    assert!(!text(&wrong.body).contains("1158201444"));
}

#[test]
fn a_missing_signature_is_401_and_a_wrong_one_403() {
    let meta = Fixture::new(true);
    let missing = meta.call(Method::Post, PATH, vec![], b"{}").unwrap();
    let header = (signature::HEADER.to_string(), signature::sign("not-the-secret", b"{}"));
    let wrong = meta.call(Method::Post, PATH, vec![header], b"{}").unwrap();
    assert_eq!((missing.status, wrong.status), (401, 403));
}

#[test]
fn a_signed_message_is_stored_before_the_200() {
    let meta = Fixture::new(true);
    let body = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Ava"}, "wa_id": "27825550101"}],
        "messages": [{"from": "27825550101", "id": "wamid.one", "timestamp": "1749416383", "type": "text", "text": {"body": "hi"}}]
    }}]}]})
    .to_string();
    assert_eq!(meta.unread_conversations(), 0);
    let answer = meta.post_signed(body.as_bytes());
    assert_eq!(answer.status, 200);
    assert_eq!(meta.unread_conversations(), 1);
    let broken = meta.post_signed(b"{\"object\": ");
    assert_eq!(broken.status, 400);
}
