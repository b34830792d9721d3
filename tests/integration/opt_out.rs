//! Opt-out and consent: stop keywords suppress a number (confirmed, logged),
//! a suppressed number gets no answer but to a start keyword.

use shopbot::message::ContactRef;
use shopbot::phone::PhoneNumber;

use crate::support::TestServer;

const CUSTOMER: &str = "+27825550401";

fn phone() -> ContactRef {
    ContactRef::phone(PhoneNumber::parse(CUSTOMER).unwrap())
}

#[test]
fn stop_silences_the_bot_until_start() {
    let server = TestServer::start();
    assert!(server.say(CUSTOMER, "hi").text().starts_with("Welcome!"));

    let reply = server.say(CUSTOMER, "  Stop ");
    assert_eq!(reply.messages(), ["You are opted out. Reply START to re-subscribe."]);
    // Never silence: the first message after it gets the reminder, then at
    // most one a day.
    let reminded = server.say(CUSTOMER, "hi");
    assert_eq!(reminded.messages(), ["You are opted out. Reply START to re-subscribe."]);
    for text in ["2", "help me"] {
        let silent = server.say(CUSTOMER, text);
        assert_eq!(silent.messages(), Vec::<String>::new(), "{text}: {}", silent.body);
    }
    let reply = server.say(CUSTOMER, "START");
    assert_eq!(reply.messages(), ["You are subscribed again. Send hi for the menu."]);
    assert!(server.say(CUSTOMER, "hi").text().starts_with("Welcome!"));
}

#[test]
fn consent_is_logged_and_the_store_says_whether_we_may_message() {
    let server = TestServer::start();
    let may = || {
        !server
            .store()
            .write(|db| db.contact_facts(&phone()))
            .unwrap()
            .suppressed
    };
    assert!(may());
    server.say(CUSTOMER, "unsubscribe");
    assert!(!may());
    server.say(CUSTOMER, "STOP");
    assert!(!may());
    server.say(CUSTOMER, "subscribe");
    assert!(may());
    let log = server.store().write(|db| db.consent_log(&phone())).unwrap();
    let rows: Vec<(&str, &str)> = log.iter().map(|r| (r.action.as_str(), r.keyword.as_str())).collect();
    assert_eq!(
        rows,
        [("opt_out", "unsubscribe"), ("opt_out", "stop"), ("opt_in", "subscribe")]
    );
    assert!(log
        .iter()
        .all(|r| r.message_sid.as_deref().is_some_and(|s| s.starts_with("SM"))));
}

#[test]
fn keywords_come_from_the_config() {
    let server = TestServer::start_with("[opt]\nstop_keywords = [\"Halt\"]\nstart_keywords = [\"resume\"]\n");
    let not_a_keyword = server.say(CUSTOMER, "stop").text();
    assert!(not_a_keyword.contains("Welcome!"), "{not_a_keyword}");
    assert_eq!(
        server.say(CUSTOMER, "HALT").messages(),
        ["You are opted out. Reply START to re-subscribe."]
    );
    let reminded = server.say(CUSTOMER, "start").messages();
    assert_eq!(
        reminded,
        ["You are opted out. Reply START to re-subscribe."],
        "not a start keyword here"
    );
    assert_eq!(server.say(CUSTOMER, "Resume").messages().len(), 1);
}
