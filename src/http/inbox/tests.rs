//! The inbox's handlers without sockets: a temp store, a real writer, a
//! fixed clock and `Request` literals. Routing (404, 405 with `Allow`), the
//! session guard and its expiry by the clock, CSRF, paging, the reply box's
//! window rules and `HEAD` without side effects, in milliseconds.

use std::sync::Arc;
use std::thread::JoinHandle;

use jiff::{SignedDuration, Timestamp};

use super::{handle, Inbox};
use crate::auth::{self, Throttle};
use crate::channel::MediaFetcher;
use crate::clock::Clock;
use crate::config::Config;
use crate::conversation::{handle_inbound, Bot, LiveBot};
use crate::http::{Method, Request, Response};
use crate::message::{Channel, ContactRef, Inbound};
use crate::outbox::sender::Wake;
use crate::outbox::Routing;
use crate::phone::PhoneNumber;
use crate::store::{ReadPool, Settle, Store};
use crate::work::SignIn;
use crate::writer::Writer;

const CUSTOMER: &str = "+27825550101";
const TOKEN: &str = "a-session-token-for-the-tests";
const CSRF: &str = "the-session-csrf-token";

/// An inbox on a temp database with one signed-in session, whose clock the
/// test sets.
struct Fixture {
    inbox: Inbox,
    writer_thread: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Fixture {
    /// `customer_wrote` customers' messages, stored at the real time (the
    /// clock starts there too).
    fn new(customer_wrote: &[&str]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.db");
        let bot = Bot::example();
        let mut store = Store::open(&path).unwrap();
        for (n, text) in customer_wrote.iter().enumerate() {
            let message = inbound(&format!("SM{n:032}"), text);
            store
                .write(|db| handle_inbound(db, &bot, &message, Timestamp::now()))
                .unwrap();
        }
        store
            .write(|db| db.add_inbox_user("Sam", "$argon2id$unused", Timestamp::now()))
            .unwrap();
        let (writer, writer_thread) = Writer::start(store).unwrap();
        let config = Config::demo(path.clone(), 0);
        let clock = Clock::fixed(Timestamp::now());
        writer
            .run(SignIn {
                token_hash: auth::token_hash(TOKEN),
                csrf: CSRF.into(),
                expires_at: clock.now() + SignedDuration::from_hours(24 * 30),
                user: 1,
            })
            .unwrap();
        let inbox = Inbox {
            shop_name: "Test Shop".into(),
            reader: Arc::new(ReadPool::new(&path)),
            writer,
            outbox: Wake::none(),
            routing: Arc::new(Routing::from_config(&config)),
            bot: LiveBot::new(bot),
            media: MediaFetcher::from_config(&config),
            demo: false,
            secure_cookies: false,
            throttle: Throttle::sign_in(),
            trusted_proxies: Vec::new(),
            clock,
            notices: None,
            submission_notices: None,
        };
        Fixture {
            inbox,
            writer_thread: Some(writer_thread),
            _dir: dir,
        }
    }

    /// The owner's reply `text` to the conversation at `path`: a `303`, and
    /// the address it leads to.
    fn reply(&self, path: &str, text: &str) -> String {
        let sent = self.call(
            Method::Post,
            &format!("{path}/reply"),
            true,
            &[("csrf", CSRF), ("body", text)],
        );
        assert_eq!(sent.status, 303);
        location(&sent).unwrap().to_string()
    }

    /// `method target` with the session's cookie (when `signed`) and `form`.
    fn call(&self, method: Method, target: &str, signed: bool, form: &[(&str, &str)]) -> Response {
        let mut headers = vec![(
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        )];
        if signed {
            headers.push(("Cookie".into(), format!("{}={TOKEN}", super::COOKIE)));
        }
        let request = Request {
            method,
            target: target.into(),
            headers,
            body: serde_urlencoded::to_string(form).unwrap().into_bytes(),
            remote: Some([127, 0, 0, 1].into()),
            head: false,
        };
        handle(&self.inbox, &request)
    }

    fn get(&self, target: &str) -> Response {
        self.call(Method::Get, target, true, &[])
    }

    fn unread(&self) -> i64 {
        self.inbox
            .reader
            .read(|db| db.inbox_pulse(None))
            .unwrap()
            .unread_conversations
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.inbox.writer.stop();
        if let Some(thread) = self.writer_thread.take() {
            let _ = thread.join();
        }
    }
}

fn inbound(key: &str, text: &str) -> Inbound {
    inbound_from(CUSTOMER, key, text)
}

fn inbound_from(number: &str, key: &str, text: &str) -> Inbound {
    let from = PhoneNumber::parse(number).unwrap();
    Inbound {
        channel: Channel::Twilio,
        key: key.into(),
        from: ContactRef::phone(from.clone()),
        from_addr: format!("whatsapp:{from}"),
        to_addr: "whatsapp:+14155238886".into(),
        text: text.into(),
        media: Vec::new(),
        profile_name: None,
        reply_to: None,
        tap: None,
        raw: "{}".into(),
    }
}

fn location(response: &Response) -> Option<&str> {
    response
        .headers
        .iter()
        .find(|(name, _)| *name == "Location")
        .map(|(_, value)| value.as_str())
}

/// The message a "sent" confirmation's address names (`…?done=sent&message=ID#reply`).
fn message_id(to: &str) -> &str {
    to.split("message=").nth(1).unwrap().trim_end_matches("#reply")
}

fn body(response: &Response) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

fn allow(response: &Response) -> Option<&str> {
    response
        .headers
        .iter()
        .find(|(name, _)| *name == "Allow")
        .map(|(_, value)| value.as_str())
}

#[test]
fn without_a_session_every_page_and_every_unknown_path_leads_to_the_sign_in() {
    let fixture = Fixture::new(&[]);
    for (method, path) in [
        (Method::Get, "/admin/"),
        (Method::Get, "/admin/no-such-page"),
        (Method::Post, "/admin/conversations/1/reply"),
        (Method::Put, "/admin/login"),
    ] {
        let answer = fixture.call(method.clone(), path, false, &[]);
        assert_eq!(
            (answer.status, location(&answer)),
            (303, Some("/admin/login")),
            "{method} {path}"
        );
    }
    let form = fixture.call(Method::Get, "/admin/login", false, &[]);
    assert_eq!(form.status, 200);
    assert!(form.headers.contains(&("Cache-Control", "no-store".into())));
}

#[test]
fn a_signed_in_owner_gets_404_for_no_page_and_405_with_allow_for_a_wrong_method() {
    let fixture = Fixture::new(&["hi"]);
    assert_eq!(fixture.get("/admin/no-such-page").status, 404);
    let wrong = fixture.call(Method::Get, "/admin/conversations/1/reply", true, &[]);
    assert_eq!((wrong.status, allow(&wrong)), (405, Some("POST")));
    let wrong = fixture.call(Method::Delete, "/admin/outbox/1/retry", true, &[]);
    assert_eq!((wrong.status, allow(&wrong)), (405, Some("GET, POST")));
    let wrong = fixture.call(Method::Put, "/admin/login", true, &[]);
    assert_eq!((wrong.status, allow(&wrong)), (405, Some("GET, POST")));
}

#[test]
fn every_post_without_the_sessions_csrf_token_is_403_and_does_nothing() {
    let fixture = Fixture::new(&["hi", "4"]);
    let waiting = || fixture.inbox.reader.read(|db| db.inbox_pulse(None)).unwrap().waiting;
    assert_eq!(waiting(), 1);
    let path = format!("/admin/conversations/{}/resolve", CUSTOMER.replace('+', "%2B"));
    for form in [&[][..], &[("csrf", "a-guess")][..]] {
        assert_eq!(fixture.call(Method::Post, &path, true, form).status, 403);
    }
    assert_eq!(waiting(), 1, "nothing was done");
    let done = fixture.call(Method::Post, &path, true, &[("csrf", CSRF)]);
    assert_eq!(done.status, 303);
    assert_eq!(waiting(), 0, "handed back to the bot");
}

#[test]
fn a_page_number_past_the_end_or_beyond_usize_shows_the_last_page() {
    let fixture = Fixture::new(&["hi"]);
    for page in ["1", "2", "18446744073709551615", "99999999999999999999", "0", "x"] {
        let answer = fixture.get(&format!("/admin/?page={page}"));
        assert_eq!(answer.status, 200, "page={page}");
        assert!(body(&answer).contains(CUSTOMER), "page={page}");
    }
    // 51 conversations are two pages: past the end, and beyond any number,
    // is the second; nothing, zero or a word is the first.
    let mut store = Store::open(&fixture._dir.path().join("shop.db")).unwrap();
    let bot = Bot::example();
    for n in 0..50 {
        let message = inbound_from(&format!("+2782555{n:04}"), &format!("SMmore{n:028}"), "hi");
        store
            .write(|db| handle_inbound(db, &bot, &message, Timestamp::now()))
            .unwrap();
    }
    for (page, shown) in [
        ("3", "Page 2 of 2"),
        ("18446744073709551616", "Page 2 of 2"),
        ("99999999999999999999999", "Page 2 of 2"),
        ("2", "Page 2 of 2"),
        ("1", "Page 1 of 2"),
        ("0", "Page 1 of 2"),
        ("-3", "Page 1 of 2"),
        ("x", "Page 1 of 2"),
        ("", "Page 1 of 2"),
    ] {
        let answer = fixture.get(&format!("/admin/?page={page}"));
        assert_eq!(answer.status, 200, "page={page}");
        assert!(body(&answer).contains(shown), "page={page}: {shown}");
    }
}

#[test]
fn a_session_expires_by_the_clock_thirty_days_after_its_last_use() {
    let fixture = Fixture::new(&[]);
    assert_eq!(fixture.get("/admin/").status, 200);
    fixture.inbox.clock.advance(SignedDuration::from_hours(24 * 29));
    assert_eq!(
        fixture.get("/admin/").status,
        200,
        "29 days on: still signed in, and slid"
    );
    fixture.inbox.clock.advance(SignedDuration::from_hours(24 * 29));
    assert_eq!(
        fixture.get("/admin/").status,
        200,
        "used on day 29, so good until day 59"
    );
    fixture.inbox.clock.advance(SignedDuration::from_hours(24 * 31));
    let expired = fixture.get("/admin/");
    assert_eq!((expired.status, location(&expired)), (303, Some("/admin/login")));
}

#[test]
fn the_reply_box_follows_the_24_hour_window_by_the_clock() {
    let fixture = Fixture::new(&["hi"]);
    let path = format!("/admin/conversations/{}", CUSTOMER.replace('+', "%2B"));
    let open = body(&fixture.get(&path));
    assert!(open.contains("name=\"body\""), "inside the window: a reply box");
    fixture.inbox.clock.advance(SignedDuration::from_hours(25));
    let closed = body(&fixture.get(&path));
    assert!(closed.contains("The 24-hour window is closed"), "25 hours on: {closed}");
    assert!(!closed.contains("name=\"body\""), "no free-form reply then");
}

#[test]
fn head_on_a_conversation_answers_without_marking_it_read() {
    let fixture = Fixture::new(&["hi"]);
    assert_eq!(fixture.unread(), 1);
    let request = Request {
        method: Method::Get,
        target: format!("/admin/conversations/{}", CUSTOMER.replace('+', "%2B")),
        headers: vec![("Cookie".into(), format!("{}={TOKEN}", super::COOKIE))],
        body: Vec::new(),
        remote: None,
        head: true,
    };
    assert_eq!(handle(&fixture.inbox, &request).status, 200);
    assert_eq!(fixture.unread(), 1, "HEAD changes nothing");
    assert_eq!(fixture.get(&request.target).status, 200);
    assert_eq!(fixture.unread(), 0, "GET reads it");
}

#[test]
fn a_menu_reply_shows_its_options_as_the_customer_saw_them() {
    let fixture = Fixture::new(&["hi", "2"]);
    let page = body(&fixture.get(&format!("/admin/conversations/{}", CUSTOMER.replace('+', "%2B"))));
    let menus: Vec<&str> = page.split("<ol class=\"options\"").skip(1).collect();
    assert_eq!(menus.len(), 2, "{page}");
    assert_eq!(menus[0].split("</ol>").next().unwrap().matches("<li>").count(), 5);
    assert!(menus[1].contains("<li>Report a defect</li>"), "{}", menus[1]);
    assert!(page.contains("<p class=\"footer\">0 Back to Menu</p>"), "{page}");
}

#[test]
fn the_owner_sees_and_sets_the_language_a_customer_is_answered_in() {
    let fixture = Fixture::new(&["hi"]);
    let path = format!("/admin/conversations/{}", CUSTOMER.replace('+', "%2B"));
    let page = body(&fixture.get(&path));
    assert!(
        page.contains("<option value=\"\" selected>English (by their number)</option>"),
        "{page}"
    );
    let set = fixture.call(
        Method::Post,
        &format!("{path}/language"),
        true,
        &[("csrf", CSRF), ("language", "de")],
    );
    assert_eq!(set.status, 303);
    let page = body(&fixture.get(&path));
    assert!(
        page.contains("<option value=\"de\" selected>Deutsch</option>"),
        "{page}"
    );
    let refused = fixture.call(
        Method::Post,
        &format!("{path}/language"),
        true,
        &[("csrf", CSRF), ("language", "fr")],
    );
    assert_eq!(refused.status, 400);
    let back = fixture.call(
        Method::Post,
        &format!("{path}/language"),
        true,
        &[("csrf", CSRF), ("language", "")],
    );
    assert_eq!(back.status, 303);
    assert!(body(&fixture.get(&path)).contains("<option value=\"\" selected>English (by their number)</option>"));
}

#[test]
fn the_inbox_says_whether_the_shop_is_open_and_who_arrived_while_closed() {
    let fixture = Fixture::new(&["hi", "4"]);
    let today = fixture
        .inbox
        .clock
        .now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    let day = Some("08:00-17:00");
    let hours = crate::hours::Hours::new([day; 7], &[today], jiff::tz::TimeZone::UTC).unwrap();
    fixture.inbox.bot.replace(Bot {
        hours: Some(hours),
        ..Bot::example()
    });
    let page = body(&fixture.get("/admin/"));
    assert!(page.contains("Closed, opens tomorrow at 08:00"), "{page}");
    assert!(page.contains("arrived while closed"), "{page}");
}

#[test]
fn the_owner_sets_a_submissions_status_with_the_csrf_token_and_comes_back_to_it() {
    let fixture = Fixture::new(&["2", "1", "Screen is cracked"]);
    let id = fixture
        .inbox
        .reader
        .read(|db| db.submissions(None, None, 10))
        .unwrap()
        .remove(0)
        .public_id;
    let path = format!("/admin/submissions/{id}/status");
    let form = [
        ("status", "in_progress"),
        ("note", " Parts ordered "),
        ("form", "defect_report"),
    ];
    assert_eq!(fixture.call(Method::Post, &path, true, &form).status, 403, "no csrf");
    let mut with_csrf = vec![("csrf", CSRF)];
    with_csrf.extend(form);
    let saved = fixture.call(Method::Post, &path, true, &with_csrf);
    assert_eq!(saved.status, 303, "{}", body(&saved));
    let back = location(&saved).unwrap().to_string();
    assert_eq!(
        back,
        format!("/admin/submissions?form=defect%5Freport&since=&saved={id}&told=off#{id}")
    );
    // A browser keeps the #fragment to itself.
    let page = body(&fixture.get(back.split('#').next().unwrap()));
    assert!(page.contains(&format!("{id} saved: customers are not told")), "{page}");
    assert!(
        page.contains("<option value=\"in_progress\" selected>In progress</option>"),
        "{page}"
    );
    assert!(page.contains(">Parts ordered</textarea>"), "{page}");
    let again = fixture.call(Method::Post, &path, true, &with_csrf);
    assert!(location(&again).unwrap().contains("&told=same#"), "nothing changed");
    for (field, value) in [("status", "closed"), ("note", &"n".repeat(1001))] {
        let mut bad = with_csrf.clone();
        bad.retain(|(k, _)| *k != field);
        bad.push((field, value));
        assert_eq!(fixture.call(Method::Post, &path, true, &bad).status, 400, "{field}");
    }
    let missing = fixture.call(Method::Post, "/admin/submissions/DEF-1/status", true, &with_csrf);
    assert_eq!(missing.status, 404);
}

#[test]
fn the_submissions_page_shows_the_newest_first_when_there_are_more_than_it_shows() {
    let fixture = Fixture::new(&["hi"]);
    let shown = super::submissions::SUBMISSIONS_SHOWN;
    let mut store = Store::open(&fixture._dir.path().join("shop.db")).unwrap();
    let who = ContactRef::phone(PhoneNumber::parse(CUSTOMER).unwrap());
    store
        .write(|db| {
            let contact = db.find_or_add_contact(&who, None, Timestamp::now())?;
            for n in 0..=shown {
                let id = format!("DEF-{n:05}");
                db.insert_submission(&id, "defect_report", contact, &[], "x", None, Timestamp::now())?;
            }
            Ok::<_, crate::store::StoreError>(())
        })
        .unwrap();
    let page = body(&fixture.get("/admin/submissions"));
    let newest = format!("<tr id=\"DEF-{shown:05}\">");
    let next = format!("<tr id=\"DEF-{:05}\">", shown - 1);
    let (at_newest, at_next) = (
        page.find(&newest).expect("the newest"),
        page.find(&next).expect("the next"),
    );
    assert!(at_newest < at_next, "newest first");
    assert!(!page.contains("<tr id=\"DEF-00000\">"), "the oldest is past the page");
    assert!(
        page.contains("<a href=\"/admin/conversations/%2B27825550101#reply\">"),
        "the customer's conversation opens at its newest message: {page}"
    );
}

fn json(response: &Response) -> serde_json::Value {
    serde_json::from_slice(&response.body).unwrap()
}

#[test]
fn the_updates_of_a_conversation_name_its_newest_message_not_anyone_elses() {
    let fixture = Fixture::new(&["hi", "1"]);
    let everyone = json(&fixture.get("/admin/updates"))["latest"].as_i64().unwrap();
    let other = PhoneNumber::parse("+27825550199").unwrap();
    let newer = Inbound {
        from: ContactRef::phone(other.clone()),
        from_addr: format!("whatsapp:{other}"),
        ..inbound("SM-other", "hi")
    };
    let bot = Bot::example();
    let mut store = Store::open(&fixture._dir.path().join("shop.db")).unwrap();
    store
        .write(|db| handle_inbound(db, &bot, &newer, Timestamp::now()))
        .unwrap();
    let now_everyone = json(&fixture.get("/admin/updates"))["latest"].as_i64().unwrap();
    assert!(now_everyone > everyone);
    let contact = fixture
        .inbox
        .reader
        .read(|db| db.contact_by_key(CUSTOMER))
        .unwrap()
        .unwrap();
    let mine = json(&fixture.get(&format!("/admin/updates?conversation={}", contact.id.0)))["latest"]
        .as_i64()
        .unwrap();
    assert_eq!(
        mine, everyone,
        "the other customer's message is not this conversation's news"
    );
    let page = body(&fixture.get(&format!("/admin/conversations/{}", contact.id.0)));
    assert!(
        page.contains(&format!(
            "data-latest=\"{mine}\" data-conversation=\"{}\"",
            contact.id.0
        )),
        "{page}"
    );
}

#[test]
fn sending_and_handing_back_confirm_with_a_link_to_the_message_at_the_reply_box() {
    let fixture = Fixture::new(&["hi", "4"]);
    let path = format!("/admin/conversations/{}", CUSTOMER.replace('+', "%2B"));
    let to = fixture.reply(&path, "On my way");
    assert!(to.contains("?done=sent&message=") && to.ends_with("#reply"), "{to}");
    let id = message_id(&to);
    let page = body(&fixture.get(to.trim_end_matches("#reply")));
    assert!(
        page.contains(&format!("<a href=\"#m{id}\">See your message</a>")),
        "{page}"
    );
    assert!(
        page.contains(&format!("id=\"m{id}\"")),
        "the message carries the anchor"
    );
    let handed = fixture.call(Method::Post, &format!("{path}/resolve"), true, &[("csrf", CSRF)]);
    let to = location(&handed).unwrap().to_string();
    assert!(
        to.contains("?done=handed-back&action=") && to.ends_with("#reply"),
        "{to}"
    );
    let id = to.split("action=").nth(1).unwrap().trim_end_matches("#reply");
    let page = body(&fixture.get(to.trim_end_matches("#reply")));
    assert!(page.contains("✓ Handed back"), "{page}");
    assert!(page.contains(&format!("<a href=\"#a{id}\">See the note</a>")), "{page}");
    assert!(
        page.contains(&format!("<li class=\"note\" id=\"a{id}\">")),
        "the action's note carries the anchor: {page}"
    );
    let plain = body(&fixture.get(&path));
    assert!(!plain.contains("notice done"), "no confirmation without one to give");
}

#[test]
fn the_outbox_shows_what_each_message_says_and_confirms_a_resend() {
    let fixture = Fixture::new(&["hi"]);
    let path = format!("/admin/conversations/{}", CUSTOMER.replace('+', "%2B"));
    let id = message_id(&fixture.reply(&path, "Your bike is ready")).to_string();
    fixture.inbox.clock.advance(SignedDuration::from_hours(25));
    fixture.call(
        Method::Post,
        &format!("{path}/template"),
        true,
        &[
            ("csrf", CSRF),
            ("content_sid", &format!("HX{}", "a".repeat(32))),
            ("values", "Ava\nA1002"),
        ],
    );
    let page = body(&fixture.get("/admin/outbox"));
    assert!(page.contains("<p class=\"what\">Your bike is ready</p>"), "{page}");
    assert!(
        page.contains("<a href=\"/admin/conversations/%2B27825550101#reply\">+27825550101</a>"),
        "the conversation opens at its newest message: {page}"
    );
    assert!(
        page.contains(&format!(
            "Template HX{}: {{{{1}}}} = Ava, {{{{2}}}} = A1002",
            "a".repeat(32)
        )),
        "{page}"
    );
    let confirmed = body(&fixture.get(&format!("/admin/outbox?done=resent&message={id}")));
    assert!(
        confirmed.contains(&format!("✓ Message {id} goes again.")),
        "{confirmed}"
    );
    assert!(
        confirmed.contains(&format!("%2B27825550101#m{id}\">See it in the conversation")),
        "{confirmed}"
    );
}

/// The owner's answer went out: the customer no longer waits (the sender
/// clears it), but is still with a person.
struct Answered;

impl crate::writer::Work for Answered {
    type Output = ();
    fn run(&self, db: &crate::store::Db<'_>, _: Timestamp) -> Result<(), crate::writer::WriterError> {
        let who = ContactRef::phone(PhoneNumber::parse(CUSTOMER).unwrap());
        let contact = db.find_contact(&who)?.unwrap();
        Ok(db.clear_waiting(contact)?)
    }
}

#[test]
fn an_answered_conversation_still_with_a_person_can_be_handed_back() {
    let fixture = Fixture::new(&["hi", "4"]);
    let path = format!("/admin/conversations/{}", CUSTOMER.replace('+', "%2B"));
    let waiting = body(&fixture.get(&path));
    assert!(waiting.contains("Waiting for a person since"), "{waiting}");
    assert!(waiting.contains("Hand back to the bot"), "{waiting}");
    fixture.inbox.writer.run(Answered).unwrap();
    let answered = body(&fixture.get(&path));
    assert!(!answered.contains("Waiting for a person"), "{answered}");
    assert!(
        answered.contains("With a person: the bot stays quiet until you hand back"),
        "{answered}"
    );
    assert!(answered.contains("Hand back to the bot"), "{answered}");
    let done = fixture.call(Method::Post, &format!("{path}/resolve"), true, &[("csrf", CSRF)]);
    assert_eq!(done.status, 303);
    let back = body(&fixture.get(&path));
    assert!(!back.contains("Hand back to the bot"), "the bot's again: {back}");
}

#[test]
fn a_message_still_queued_after_a_failed_try_says_it_will_be_tried_again_not_that_it_failed() {
    let fixture = Fixture::new(&["hi", "4"]);
    let path = format!("/admin/conversations/{}", CUSTOMER.replace('+', "%2B"));
    let id: i64 = message_id(&fixture.reply(&path, "On my way")).parse().unwrap();
    let mut store = Store::open(&fixture._dir.path().join("shop.db")).unwrap();
    let now = Timestamp::now();
    let mut try_once = |outcome: Settle<'_>| {
        store
            .write(|db| {
                assert!(db.claim(id, now)?);
                db.settle(id, &outcome, now)
            })
            .unwrap()
    };
    try_once(Settle::Retry {
        at: now + SignedDuration::from_secs(30),
        code: "network",
        message: "could not reach twilio",
    });
    let page = body(&fixture.get(&path));
    assert!(
        page.contains("Not sent yet: shopbot tries again (last try, code network: could not reach twilio)"),
        "{page}"
    );
    assert!(
        !page.contains("Not delivered"),
        "a queued message has not failed: {page}"
    );
    try_once(Settle::Failed {
        code: "21211",
        message: "invalid number",
    });
    let page = body(&fixture.get(&path));
    assert!(page.contains("Not delivered (code 21211): invalid number"), "{page}");
}
