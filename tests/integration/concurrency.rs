//! Many customers at once on several workers: every reply right, every
//! submission stored, no `database is locked` anywhere.

use std::sync::Arc;
use std::thread;

use crate::support::TestServer;

const CUSTOMERS: usize = 60;

/// One customer's whole walk; returns the submission ID they were given.
fn walk(server: &TestServer, customer: &str) -> String {
    let expect = |text: &str, wanted: &str| {
        let reply = server.say(customer, text).text();
        assert!(reply.contains(wanted), "{customer} sent {text:?}, got {reply:?}");
        reply
    };
    expect("hi", "Welcome! Select 1-5");
    expect("2", "1 Report a defect");
    expect("1", "Please describe the defect:");
    let done = expect(&format!("Defect from {customer}"), "✅ Defect Submitted! ID: DEF-");
    let id = done.lines().next().unwrap().rsplit(' ').next().unwrap().to_string();
    expect("2", "1 Report a defect");
    let history = expect("2", &id);
    assert!(history.contains(&format!("Defect from {customer}")), "{history}");
    id
}

#[test]
fn sixty_customers_walk_the_menu_at_once() {
    let server = Arc::new(TestServer::start());
    let walkers: Vec<_> = (0..CUSTOMERS)
        .map(|i| {
            let server = server.clone();
            thread::spawn(move || walk(&server, &format!("+2782556{i:04}")))
        })
        .collect();
    let ids: Vec<String> = walkers.into_iter().map(|w| w.join().unwrap()).collect();
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), CUSTOMERS, "{ids:?}");
    let stored = server
        .store()
        .read(|db| db.submissions(None, None, 10 * CUSTOMERS))
        .unwrap();
    assert_eq!(stored.len(), CUSTOMERS);
}
