//! A defect report has a life (issue 24, item 4): the owner sets a
//! submission's status in the inbox (new, in progress, done, with a note);
//! the customer's history shows it in their language; the admin API and the
//! spreadsheet carry it; and with `[notify] submission_status = true` a
//! changed status tells the customer exactly like an order update (free-form
//! inside the 24-hour window, else the submission template, never once opted
//! out, in their language, once per change). Real server, real HTTP, the
//! owner signed in with the CSRF token, against the recording Twilio mock.

use std::time::Duration;

use crate::inbox::{inbox_server, Owner, PASSWORD};
use crate::twilio_mock::{MockTwilio, Recorded};

const INSIDE: &str = "+27825553001";
const GERMAN: &str = "+27825553002";
const OUTSIDE: &str = "+27825553003";
const OPTED_OUT: &str = "+27825553004";
const TEMPLATE: &str = "HX00000000000000000000000000000077";

/// The customer reports a defect; its ID.
fn report(server: &crate::support::TestServer, from: &str, text: &str) -> String {
    server.say(from, "2");
    server.say(from, "1");
    let confirmation = server.say(from, text).text();
    let at = confirmation
        .find("DEF-")
        .unwrap_or_else(|| panic!("no ID in {confirmation:?}"));
    confirmation[at..].split_whitespace().next().unwrap().to_string()
}

/// The customer's history (defect menu, option 2).
fn history(server: &crate::support::TestServer, from: &str) -> String {
    server.say(from, "2");
    server.say(from, "2").text()
}

/// The owner sets submission `id` to `status` with `note`; where the inbox
/// went back to.
fn set(owner: &Owner<'_>, id: &str, status: &str, note: &str) -> String {
    let page = owner.get("/admin/submissions");
    let answer = owner.post(
        &format!("/admin/submissions/{id}/status"),
        &[("csrf", &page.csrf()), ("status", status), ("note", note)],
    );
    assert_eq!(answer.status, 303, "{}", answer.body);
    answer.header("Location").unwrap().to_string()
}

fn messages_to(mock: &MockTwilio, number: &str) -> Vec<Recorded> {
    let address = format!("whatsapp:{number}");
    mock.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/Messages.json") && r.get("To") == Some(address.as_str()))
        .collect()
}

#[test]
fn the_owner_sets_a_status_and_the_customer_the_inbox_and_the_api_show_it() {
    let server = inbox_server("");
    let id = report(&server, INSIDE, "Screen is cracked");
    assert!(
        history(&server, INSIDE).contains(&format!("{id}: new (")),
        "new until the owner says otherwise"
    );
    let mut owner = Owner::new(&server);
    owner.sign_in(PASSWORD);
    let page = owner.get("/admin/submissions");
    let refused = owner.post(
        &format!("/admin/submissions/{id}/status"),
        &[("csrf", "a-guess"), ("status", "done")],
    );
    assert_eq!(refused.status, 403, "CSRF like every POST");
    assert!(
        page.body.contains("<option value=\"new\" selected>New</option>"),
        "{}",
        page.body
    );

    let back = set(&owner, &id, "in_progress", "Parts ordered, back on Monday");
    assert!(back.ends_with(&format!("&saved={id}&told=off#{id}")), "{back}");
    let page = owner.get(back.split('#').next().unwrap());
    assert!(
        page.body
            .contains("<option value=\"in_progress\" selected>In progress</option>")
            && page
                .body
                .contains("customers are not told ([notify] submission_status = true tells them)"),
        "{}",
        page.body
    );
    let seen = history(&server, INSIDE);
    assert!(seen.contains(&format!("{id}: in progress (")), "{seen}");
    assert!(seen.contains("💬 Parts ordered, back on Monday"), "{seen}");

    server.say(INSIDE, "deutsch");
    let german = history(&server, INSIDE);
    assert!(german.contains(&format!("{id}: in Bearbeitung (")), "{german}");

    let (status, listed) = server.api_get("/api/submissions");
    assert_eq!(status, 200);
    let item = &listed["submissions"][0];
    assert_eq!(
        (&item["status"], &item["status_note"]),
        (&"in_progress".into(), &"Parts ordered, back on Monday".into()),
        "{item}"
    );
    assert!(item["status_at"].is_string(), "{item}");
    let csv = owner.get("/admin/submissions.csv");
    assert!(
        csv.body.contains(",in_progress,\"Parts ordered, back on Monday\""),
        "{}",
        csv.body
    );

    let conversation = owner.get(&format!("/admin/conversations/{}", INSIDE.replace('+', "%2B")));
    assert!(
        conversation.body.contains(&format!("#{id}\">In progress</a>")),
        "the conversation shows it too: {}",
        conversation.body
    );
}

#[test]
fn a_changed_status_tells_the_customer_like_an_order_update_once_per_change() {
    let mock = MockTwilio::start();
    let server = inbox_server(&format!(
        "api_base_url = \"{}\"\n[notify]\nsubmission_status = true\nsubmission_content_sid = \"{TEMPLATE}\"\n\
         [outbox]\nretry_after_seconds = 0.05\n",
        mock.url
    ));
    let inside = report(&server, INSIDE, "Screen is cracked");
    server.say(GERMAN, "deutsch");
    let german = report(&server, GERMAN, "Scharnier locker");
    let outside = report(&server, OUTSIDE, "Lid bent");
    let opted_out = report(&server, OPTED_OUT, "Wobbly leg");
    server.say(OPTED_OUT, "STOP");
    // The customer outside wrote 25 hours ago (test setup fakes the time).
    let conn = rusqlite::Connection::open(&server.db_path).unwrap();
    conn.execute(
        "UPDATE messages SET created_at = '2020-01-01T00:00:00.000Z' WHERE from_addr = ?1",
        [format!("whatsapp:{OUTSIDE}")],
    )
    .unwrap();
    let mut owner = Owner::new(&server);
    owner.sign_in(PASSWORD);

    assert!(set(&owner, &inside, "in_progress", "Parts ordered").contains("&told=yes#"));
    assert!(set(&owner, &german, "done", "").contains("&told=yes#"));
    assert!(set(&owner, &outside, "in_progress", "").contains("&told=yes#"));
    assert!(set(&owner, &opted_out, "done", "").contains("&told=opted-out#"));
    mock.wait_for(3, Duration::from_secs(20));

    let told = messages_to(&mock, INSIDE);
    assert_eq!(told.len(), 1, "{told:#?}");
    assert_eq!(
        told[0].get("Body"),
        Some(format!("🛠 Your report {inside}: in progress\nParts ordered").as_str())
    );
    let told = messages_to(&mock, GERMAN);
    assert_eq!(
        told[0].get("Body"),
        Some(format!("🛠 Ihre Meldung {german}: erledigt").as_str()),
        "in the customer's language"
    );
    let told = messages_to(&mock, OUTSIDE);
    assert_eq!(
        told[0].get("ContentSid"),
        Some(TEMPLATE),
        "outside the window: the template"
    );
    assert_eq!(
        told[0].get("ContentVariables"),
        Some(format!(r#"{{"1":"{outside}","2":"in progress"}}"#).as_str())
    );
    assert!(messages_to(&mock, OPTED_OUT).is_empty());

    // The same status again, or a new note alone, tells nobody.
    assert!(set(&owner, &inside, "in_progress", "Parts ordered").contains("&told=same#"));
    assert!(set(&owner, &inside, "in_progress", "Parts arrived").contains("&told=note#"));
    // Back and forth: each change is told.
    set(&owner, &inside, "done", "");
    set(&owner, &inside, "in_progress", "Reopened");
    mock.wait_for(5, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(1500));
    let bodies: Vec<String> = messages_to(&mock, INSIDE)
        .iter()
        .filter_map(|r| r.get("Body").map(str::to_string))
        .collect();
    assert_eq!(
        bodies,
        [
            format!("🛠 Your report {inside}: in progress\nParts ordered"),
            format!("🛠 Your report {inside}: done"),
            format!("🛠 Your report {inside}: in progress\nReopened"),
        ],
        "{bodies:#?}"
    );
    // The update is not a person answering: the bot still answers.
    assert!(server.say(INSIDE, "hi").text().starts_with("Welcome!"));
}
