//! At-least-once delivery: a repeated MessageSid replays the first answer and
//! runs nothing again, also when the copies arrive together and after a restart.

use std::sync::{Arc, Barrier};
use std::thread;

use crate::support::{new_sid, whatsapp_params, TestServer};

const CUSTOMER: &str = "+27825550101";

/// Walks to the description question of the defect report.
fn walk_to_description(server: &TestServer, customer: &str) {
    server.say(customer, "2");
    let ask = server.say(customer, "1").text();
    assert_eq!(ask, "Please describe the defect:");
}

fn defect_count(server: &TestServer, customer: &str) -> usize {
    server.say(customer, "2");
    let history = server.say(customer, "2").text();
    history.matches("DEF-").count()
}

#[test]
fn the_same_request_twice_at_once_submits_once_and_answers_identically() {
    let server = Arc::new(TestServer::start());
    for round in 0..5 {
        let customer = format!("+2782555020{round}");
        walk_to_description(&server, &customer);
        let params = whatsapp_params(&new_sid(), &customer, "Door hinge squeaks");
        let barrier = Arc::new(Barrier::new(2));
        let copies: Vec<_> = (0..2)
            .map(|_| {
                let (server, params, barrier) = (server.clone(), params.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    server.post_signed("/twilio/inbound", &params)
                })
            })
            .collect();
        let replies: Vec<_> = copies.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(replies[0].body, replies[1].body, "round {round}");
        assert!(
            replies[0].text().starts_with("✅ Defect Submitted! ID: DEF-"),
            "{:?}",
            replies[0]
        );
        assert_eq!(defect_count(&server, &customer), 1, "round {round}");
    }
}

#[test]
fn a_retry_after_a_restart_replays_the_stored_reply_and_steps_nothing() {
    let mut server = TestServer::start();
    server.say(CUSTOMER, "hi");
    let params = whatsapp_params(&new_sid(), CUSTOMER, "2");
    let first = server.post_signed("/twilio/inbound", &params);
    assert!(first.text().contains("1 Report a defect"), "{first:?}");

    server.restart();
    let again = server.post_signed("/twilio/inbound", &params);
    assert_eq!(again.body, first.body);
    // Had the retry stepped again, "2" in the defect menu would have shown the
    // (empty) history and gone back to the main menu.
    let next = server.say(CUSTOMER, "1").text();
    assert_eq!(next, "Please describe the defect:");
}

#[test]
fn a_retried_submission_is_not_submitted_twice() {
    let server = TestServer::start();
    walk_to_description(&server, CUSTOMER);
    let params = whatsapp_params(&new_sid(), CUSTOMER, "Door hinge squeaks");
    let first = server.post_signed("/twilio/inbound", &params);
    for _ in 0..3 {
        assert_eq!(server.post_signed("/twilio/inbound", &params).body, first.body);
    }
    assert_eq!(defect_count(&server, CUSTOMER), 1);
}
