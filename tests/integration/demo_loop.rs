//! The demo's whole loop over HTTP, offline: the demo channel delivers the
//! shop's messages to the phones of the demo page, and reports them sent,
//! delivered (the phone fetched its chat) and read (the phone showed it) as
//! Twilio status callbacks; the owner's phone (the demo's `[staff]` number)
//! gets the alert and answers it; the failure switch fails one message with
//! a reason. `serve` has none of it.

use std::time::{Duration, Instant};

use serde_json::Value;
use shopbot::config::DEMO_OWNER_PHONE;
use shopbot::message::MessageStatus;
use shopbot::store::{MessageKey, MessageRecord, Store};

use crate::support::{agent, new_sid, pairs, to_reply as reply, whatsapp_params, DemoServer, Reply, TestServer};

const CUSTOMER: &str = "+27820000001";

/// `shopbot demo` on a port of its own, and a client for it.
struct Demo {
    server: DemoServer,
    agent: ureq::Agent,
}

impl Demo {
    fn start() -> Demo {
        Demo {
            server: DemoServer::start(false),
            agent: agent(Duration::from_secs(20)),
        }
    }

    /// A phone sends `body` (quoting `quote`, if any); the TwiML answer.
    fn say(&self, from: &str, body: &str, quote: Option<&str>) -> Reply {
        let mut params = whatsapp_params(&new_sid(), from, body);
        if let Some(key) = quote {
            params.extend(pairs(&[("OriginalRepliedMessageSid", key)]));
        }
        self.post("/twilio/inbound", &serde_urlencoded::to_string(&params).unwrap())
    }

    fn post(&self, path: &str, body: &str) -> Reply {
        let response = self
            .agent
            .post(&format!("{}{path}", self.server.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body.as_bytes())
            .unwrap();
        reply(response)
    }

    /// A phone's chat after message `after`.
    fn chat(&self, phone: &str, after: i64) -> Value {
        let url = format!(
            "{}/demo/chat/{}?after={after}",
            self.server.base,
            phone.replace('+', "%2B")
        );
        let answer = reply(self.agent.get(&url).call().unwrap());
        assert_eq!(answer.status, 200, "{}", answer.body);
        serde_json::from_str(&answer.body).unwrap()
    }

    /// Asks for a phone's chat until a bubble from the shop says `text`; that bubble.
    fn wait_for(&self, phone: &str, text: &str) -> Value {
        let started = Instant::now();
        loop {
            let chat = self.chat(phone, 0);
            let found = chat["entries"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["side"] != "mine" && e["text"].as_str().unwrap().contains(text))
                .cloned();
            if let Some(entry) = found {
                return entry;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{phone} never got {text:?}: {chat:#}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn message(&self, key: &str) -> MessageRecord {
        Store::open(&self.server.db)
            .unwrap()
            .read(|db| db.message(&MessageKey::Sid(key.to_string())))
            .unwrap()
            .unwrap()
    }
}

/// The statuses reported for a message, in the order they came.
fn reported(record: &MessageRecord) -> Vec<String> {
    record.events.iter().map(|e| e.status.as_str().to_string()).collect()
}

/// The customer asks for a person: the bot's answer.
fn ask_for_a_person(demo: &Demo) -> String {
    assert!(demo.say(CUSTOMER, "hi", None).text().contains("Welcome! Select 1-5"));
    demo.say(CUSTOMER, "4", None).text()
}

#[test]
fn the_owner_answers_the_alert_from_their_phone_and_the_customer_reads_it() {
    let demo = Demo::start();
    assert!(ask_for_a_person(&demo).contains("A team member will reply here"));
    let alert = demo.wait_for(DEMO_OWNER_PHONE, "🔔 Thandi (+27820000001) asks for a person.");
    assert_eq!(alert["quotable"], true, "{alert}");
    let alert_key = alert["key"].as_str().unwrap();
    assert!(
        alert["text"].as_str().unwrap().contains("Their last message: “4”"),
        "the demo's alert template, filled in: {alert}"
    );

    let answer = demo.say(DEMO_OWNER_PHONE, "Hi, Sam here. How can I help?", Some(alert_key));
    assert_eq!(
        answer.text(),
        "→ Thandi (+27820000001)",
        "the owner is told who gets it"
    );
    let got = demo.wait_for(CUSTOMER, "Hi, Sam here. How can I help?");
    assert_eq!(got["side"], "theirs");
    let key = got["key"].as_str().unwrap().to_string();
    let record = demo.message(&key);
    assert_eq!(
        record.status().unwrap().ladder(),
        Some(MessageStatus::Delivered),
        "fetched: delivered"
    );
    let shown = demo.post("/demo/chat/%2B27820000001/read", &format!("up_to={}", got["id"]));
    assert_eq!((shown.status, shown.body.as_str()), (200, r#"{"read":1}"#));
    let record = demo.message(&key);
    assert_eq!(record.status().unwrap().ladder(), Some(MessageStatus::Read));
    assert_eq!(
        reported(&record),
        ["sent", "delivered", "read"],
        "as Twilio's callbacks would"
    );
    let waiting = Store::open(&demo.server.db)
        .unwrap()
        .read(|db| db.contact_by_key(CUSTOMER))
        .unwrap()
        .unwrap()
        .waiting_since;
    assert_eq!(waiting, None, "answered, so no longer waiting for the owner");

    // The phone was told the alert arrived and was read too.
    let alert = demo.message(alert_key);
    assert_eq!(reported(&alert)[..2], ["sent", "delivered"]);
    // An unquoted line goes to the customer answered last; #done hands back.
    demo.say(DEMO_OWNER_PHONE, "It ships tomorrow.", None);
    demo.wait_for(CUSTOMER, "It ships tomorrow.");
    assert!(demo
        .say(DEMO_OWNER_PHONE, "#done", None)
        .text()
        .contains("is back with the bot"));
    assert!(demo.say(CUSTOMER, "hi", None).text().contains("Welcome! Select 1-5"));
}

#[test]
fn a_reload_gets_the_whole_chat_with_the_menus_to_tap() {
    let demo = Demo::start();
    ask_for_a_person(&demo);
    let chat = demo.chat(CUSTOMER, 0);
    let entries = chat["entries"].as_array().unwrap();
    let texts: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["side"].as_str().unwrap(), e["text"].as_str().unwrap()))
        .collect();
    assert_eq!(texts[0], ("mine", "hi"));
    assert!(texts[1].1.starts_with("Welcome! Select 1-5"), "{texts:?}");
    assert_eq!(
        entries[1]["options"].as_array().unwrap().len(),
        5,
        "the main menu's buttons"
    );
    assert_eq!(texts[2], ("mine", "4"));
    assert_eq!(entries.len(), 4, "{texts:?}");
    assert_eq!(chat["through"], entries[3]["id"], "complete up to the newest");
    let later = demo.chat(CUSTOMER, chat["through"].as_i64().unwrap());
    assert_eq!(later["entries"], Value::Array(Vec::new()), "nothing new after it");
}

#[test]
fn the_failure_switch_fails_the_next_message_with_its_reason() {
    let demo = Demo::start();
    ask_for_a_person(&demo);
    let alert = demo.wait_for(DEMO_OWNER_PHONE, "asks for a person");
    let on = demo.post("/demo/fail-next", "on=1");
    assert_eq!(on.body, r#"{"fail_next":true}"#);
    demo.say(DEMO_OWNER_PHONE, "Hi, Sam here.", alert["key"].as_str());
    let note = demo.wait_for(CUSTOMER, "did not arrive");
    assert_eq!(note["side"], "note");
    assert_eq!(
        note["text"],
        "⚠ A message from the shop did not arrive “Hi, Sam here.”: Unknown error (the demo's \"fail the next message\" switch) (code 30008)"
    );
    assert_eq!(
        demo.chat(CUSTOMER, 0)["fail_next"],
        false,
        "the switch turned itself off"
    );
    let failed = Store::open(&demo.server.db)
        .unwrap()
        .read(|db| db.message(&MessageKey::Id(note["id"].as_i64().unwrap())))
        .unwrap()
        .unwrap();
    assert_eq!(failed.status().unwrap().ladder(), Some(MessageStatus::Undelivered));
    demo.say(DEMO_OWNER_PHONE, "Sorry, again: Sam here.", None);
    demo.wait_for(CUSTOMER, "Sorry, again: Sam here.");
}

#[test]
fn serve_has_no_demo_channel_and_no_demo_page() {
    let server = TestServer::start();
    assert_eq!(server.get("/demo/chat/%2B27820000001").status, 404);
    assert_eq!(server.get("/demo").status, 404);
}
