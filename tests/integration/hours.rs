//! Opening hours (PRODUCT.md "Opening hours"): a handoff while the shop is
//! closed tells the customer when it opens, and the staff alert waits for the
//! opening (or goes at once with `alert_outside_hours`), and is dropped when
//! the conversation goes back to the bot first or a person answers it first;
//! a kill -9 while an alert is held loses it not, and it goes once at the
//! opening; an alert held past the staff member's 24-hour window goes as the
//! alert template; a staff member's own answers (Meta, through the outbox) do
//! not wait behind their held alert; a DST week in Europe/Berlin holds the
//! alert until the real opening. Most tests run on a fixed clock
//! (`TestServer::start_with_clock`) or make the shop closed today by `closed`
//! (today's date in the shop's zone), so nothing waits for a real hour; the
//! wording of every next opening is a unit test (`src/hours/tests.rs`).

use std::time::Duration;

use shopbot::message::OutboxState;
use shopbot::store::OutboxEntry;

use crate::support::{check_in, TestServer};
use crate::twilio_mock::MockTwilio;

const STAFF: &str = "+27825553000";
const CUSTOMER: &str = "+27825553001";

/// `[hours]` open every day 08:00-17:00 but closed today and tomorrow's day
/// after (so the next opening is "tomorrow at 08:00"), in Johannesburg.
fn hours() -> String {
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Africa/Johannesburg").unwrap())
        .date();
    let day = "\"08:00-17:00\"";
    format!(
        "[hours]\nmon = {day}\ntue = {day}\nwed = {day}\nthu = {day}\nfri = {day}\nsat = {day}\nsun = {day}\nclosed = [\"{today}\"]\n"
    )
}

fn extra(mock: &MockTwilio, alert_at_once: bool) -> String {
    let at_once = if alert_at_once {
        "alert_outside_hours = true\n"
    } else {
        ""
    };
    format!(
        "api_base_url = \"{}\"\n[outbox]\nretry_after_seconds = 0.05\n[staff]\nnumbers = [\"{STAFF}\"]\n{at_once}{}",
        mock.url,
        hours()
    )
}

fn server(mock: &MockTwilio, alert_at_once: bool) -> TestServer {
    TestServer::start_with(&extra(mock, alert_at_once))
}

/// `hh:mm` on the date `days` after today, in the shop's zone.
fn shop_time(days: i64, hh: i8, mm: i8) -> jiff::Timestamp {
    let zone = jiff::tz::TimeZone::get("Africa/Johannesburg").unwrap();
    let today = jiff::Timestamp::now().to_zoned(zone.clone()).date();
    today
        .checked_add(jiff::Span::new().days(days))
        .unwrap()
        .at(hh, mm, 0, 0)
        .to_zoned(zone)
        .unwrap()
        .timestamp()
}

#[test]
fn a_held_alert_goes_once_when_the_shop_opens() {
    let mock = MockTwilio::start();
    // Tonight at 20:00 (today is closed); the shop opens tomorrow at 08:00.
    let clock = shopbot::clock::Clock::fixed(shop_time(0, 20, 0));
    let server = TestServer::start_with_clock(&extra(&mock, false), clock.clone());
    server.say(STAFF, "hi");
    server.say(CUSTOMER, "hi");
    assert!(server
        .say(CUSTOMER, "4")
        .text()
        .starts_with("We're closed now. We open tomorrow at 08:00"));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(alerts(&mock), 0, "held overnight");
    clock.advance(jiff::SignedDuration::from_hours(11) + jiff::SignedDuration::from_mins(59));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(alerts(&mock), 0, "07:59 is still closed");
    clock.advance(jiff::SignedDuration::from_mins(1));
    let started = std::time::Instant::now();
    while alerts(&mock) == 0 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(alerts(&mock), 1, "sent at 08:00");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(alerts(&mock), 1, "and once");
}

fn alerts(mock: &MockTwilio) -> usize {
    let to = format!("whatsapp:{STAFF}");
    mock.requests()
        .iter()
        .filter(|r| r.get("To") == Some(to.as_str()))
        .count()
}

#[test]
fn a_handoff_while_closed_says_when_the_shop_opens_and_holds_the_alert() {
    let mock = MockTwilio::start();
    let server = server(&mock, false);
    server.say(STAFF, "hi"); // the staff number's window is open
    server.say(CUSTOMER, "hi");
    let away = server.say(CUSTOMER, "4").text();
    assert!(
        away.starts_with(
            "We're closed now. We open tomorrow at 08:00; a person will answer then. The menu works any time."
        ),
        "{away}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        alerts(&mock),
        0,
        "the alert waits for the opening: {:#?}",
        mock.requests()
    );
    let to_staff = |entries: Vec<OutboxEntry>| -> Vec<OutboxEntry> {
        entries.into_iter().filter(|e| e.to.contains(&STAFF[1..])).collect()
    };
    let held = to_staff(server.store().read(|db| db.outbox_list(50)).unwrap());
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].state, OutboxState::Queued, "held in the outbox: {held:?}");
    // Back with the bot before the opening: the held alert is dropped, never sent.
    assert!(server.say(CUSTOMER, "hi").text().starts_with("Welcome!"));
    let dropped = to_staff(server.store().read(|db| db.outbox_list(50)).unwrap());
    assert_eq!(dropped[0].state, OutboxState::Failed, "{dropped:?}");
    assert_eq!(dropped[0].error_code.as_deref(), Some("dropped"));
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(alerts(&mock), 0);
}

#[test]
fn alert_outside_hours_sends_the_alert_at_once() {
    let mock = MockTwilio::start();
    let server = server(&mock, true);
    server.say(STAFF, "hi");
    server.say(CUSTOMER, "hi");
    assert!(server.say(CUSTOMER, "4").text().starts_with("We're closed now."));
    let started = std::time::Instant::now();
    while alerts(&mock) == 0 && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(alerts(&mock), 1);
}

#[test]
fn check_prints_todays_hours_and_the_next_opening() {
    let dir = tempfile::tempdir().unwrap();
    let (code, text) = check_in(dir.path(), &hours(), None);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("hours            closed today; opens tomorrow at 08:00"),
        "{text}"
    );
    let (code, text) = check_in(dir.path(), "[hours]\nmon = \"8-17\"\n", None);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("[hours] mon"), "{text}");
}

/// The next whole minute in the shop's zone at least 15 s away, as `HH:MM`,
/// and when it is; waits past midnight first when it would fall on or after it
/// (a range cannot reach into the next day).
fn an_opening_soon() -> (String, jiff::Timestamp) {
    let zone = jiff::tz::TimeZone::get("Africa/Johannesburg").unwrap();
    loop {
        let now = jiff::Timestamp::now().to_zoned(zone.clone());
        let soon = now.checked_add(jiff::Span::new().seconds(75)).unwrap();
        if soon.date() != now.date() {
            std::thread::sleep(Duration::from_secs(5));
            continue;
        }
        let opening = now
            .checked_add(jiff::Span::new().seconds(15 + 60 - i64::from(now.second())))
            .unwrap();
        let hh_mm = format!("{:02}:{:02}", opening.hour(), opening.minute());
        let at = opening.date().at(opening.hour(), opening.minute(), 0, 0);
        return (hh_mm, at.to_zoned(zone).unwrap().timestamp());
    }
}

#[test]
fn a_held_alert_survives_kill_9_and_goes_once_at_the_opening() {
    let mock = MockTwilio::start();
    let (opening, opens_at) = an_opening_soon();
    let day = format!("\"{opening}-24:00\"");
    let hours =
        format!("[hours]\nmon = {day}\ntue = {day}\nwed = {day}\nthu = {day}\nfri = {day}\nsat = {day}\nsun = {day}\n");
    let dir = tempfile::tempdir().unwrap();
    let (db, config) = (dir.path().join("shop.db"), dir.path().join("config.toml"));
    let extra = format!(
        "api_base_url = \"{}\"\n[outbox]\nretry_after_seconds = 0.05\n[staff]\nnumbers = [\"{STAFF}\"]\n{hours}",
        mock.url
    );
    std::fs::write(&config, crate::support::config_text(&db, &extra)).unwrap();
    let (mut child, http) = crate::crash::serve(&config);
    let agent = crate::support::agent(Duration::from_secs(10));
    let say = |from: &str, text: &str| {
        let params = crate::support::whatsapp_params(&crate::support::new_sid(), from, text);
        let reply = crate::support::post_signed_to(&agent, &http, "/twilio/inbound", &params).unwrap();
        assert_eq!(reply.status, 200, "{reply:?}");
        crate::support::parse_twiml(&reply.body).join("\n")
    };
    say(STAFF, "hi");
    say(CUSTOMER, "hi");
    let away = say(CUSTOMER, "4");
    assert!(
        away.starts_with(&format!("We're closed now. We open today at {opening}")),
        "{away}"
    );
    child.kill().unwrap(); // SIGKILL while the alert is held
    child.wait().unwrap();
    let held = shopbot::store::Store::open(&db)
        .unwrap()
        .read(|db| db.outbox_list(50))
        .unwrap()
        .into_iter()
        .filter(|e| e.to.contains(&STAFF[1..]))
        .collect::<Vec<_>>();
    assert_eq!(
        held.len(),
        1,
        "the held alert is in the outbox after the kill: {held:?}"
    );
    assert_eq!(held[0].state, OutboxState::Queued, "{held:?}");

    let (mut child, _http) = crate::crash::serve(&config);
    if jiff::Timestamp::now() < opens_at.checked_sub(jiff::SignedDuration::from_secs(2)).unwrap() {
        std::thread::sleep(Duration::from_millis(1000));
        assert_eq!(alerts(&mock), 0, "still held after the restart, before {opening}");
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while alerts(&mock) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(jiff::Timestamp::now() >= opens_at, "sent before the opening");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(alerts(&mock), 1, "sent once at {opening}: {:#?}", mock.requests());
    child.kill().unwrap();
    child.wait().unwrap();
}

const ALERT_SID: &str = "HX00000000000000000000000000000077";

/// Waits up to 20 s for `n` alerts to the staff number.
fn wait_for_alerts(mock: &MockTwilio, n: usize) -> usize {
    let started = std::time::Instant::now();
    while alerts(mock) < n && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    alerts(mock)
}

/// The requests to the staff number.
fn to_staff(mock: &MockTwilio) -> Vec<crate::twilio_mock::Recorded> {
    let to = format!("whatsapp:{STAFF}");
    mock.requests()
        .into_iter()
        .filter(|r| r.get("To") == Some(to.as_str()))
        .collect()
}

/// The 24-hour window is judged when the alert is sent: staff wrote on
/// Friday at 16:00, a customer asked for a person at 18:00 (closed until
/// Monday 08:00), so the alert was queued free-form; by Monday the staff
/// member's window has closed and the alert goes as the alert template,
/// once, at 08:00.
#[test]
fn a_held_alert_outliving_the_staff_window_goes_as_the_template_at_the_opening() {
    let mock = MockTwilio::start();
    let friday_16: jiff::Timestamp = "2026-12-04T16:00:00+02:00".parse().unwrap();
    let clock = shopbot::clock::Clock::fixed(friday_16);
    let day = "\"08:00-17:00\"";
    let extra = format!(
        "api_base_url = \"{}\"\n[outbox]\nretry_after_seconds = 0.05\n[staff]\nnumbers = [\"{STAFF}\"]\n\
         alert_content_sid = \"{ALERT_SID}\"\n\
         [hours]\nmon = {day}\ntue = {day}\nwed = {day}\nthu = {day}\nfri = {day}\n",
        mock.url
    );
    let server = TestServer::start_with_clock(&extra, clock.clone());
    server.say(STAFF, "hi");
    clock.advance(jiff::SignedDuration::from_hours(2));
    server.say(CUSTOMER, "hi");
    let away = server.say(CUSTOMER, "4").text();
    assert!(away.starts_with("We're closed now. We open Monday at 08:00"), "{away}");
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(alerts(&mock), 0, "held over the weekend");
    // Monday 07:59: still held; 08:00: it goes.
    clock.advance(jiff::SignedDuration::from_hours(61) + jiff::SignedDuration::from_mins(59));
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(alerts(&mock), 0, "07:59 is still closed");
    clock.advance(jiff::SignedDuration::from_mins(1));
    assert_eq!(wait_for_alerts(&mock, 1), 1, "sent at 08:00: {:#?}", mock.requests());
    let sent = to_staff(&mock);
    assert_eq!(sent[0].get("ContentSid"), Some(ALERT_SID), "as the template: {sent:#?}");
    assert_eq!(sent[0].get("Body"), None, "{sent:#?}");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(alerts(&mock), 1, "and once");
    let entries = server.store().read(|db| db.outbox_list(50)).unwrap();
    let alert: Vec<_> = entries.iter().filter(|e| e.to.contains(&STAFF[1..])).collect();
    assert_eq!(alert.len(), 1, "{entries:#?}");
    assert_eq!(alert[0].state, OutboxState::Sent, "{alert:#?}");
}

/// On Meta the relay's answers to a staff member go through the outbox: they
/// do not wait behind an alert to that staff member held for the opening
/// (the staff member is awake: they just wrote), and the held alert still
/// goes once at the opening.
#[test]
fn a_staff_members_own_answers_do_not_wait_behind_their_held_alert() {
    use crate::meta::{meta_config, wait_texts};
    let graph = crate::graph_mock::MockGraph::start();
    // Thursday 20:00: closed, opens tomorrow at 08:00.
    let clock = shopbot::clock::Clock::fixed("2026-12-03T20:00:00+02:00".parse().unwrap());
    let day = "\"08:00-17:00\"";
    let extra = format!(
        "{}[staff]\nnumbers = [\"{STAFF}\"]\n[hours]\nmon = {day}\ntue = {day}\nwed = {day}\nthu = {day}\nfri = {day}\n",
        meta_config(&graph.url)
    );
    let server = TestServer::start_with_clock(&extra, clock.clone());
    assert_eq!(server.meta_say("wamid.S1", STAFF, "#help").status, 200);
    assert_eq!(wait_texts(&graph, STAFF, 1).len(), 1, "the #help answer");
    assert_eq!(server.meta_say("wamid.C1", CUSTOMER, "hi").status, 200);
    assert_eq!(server.meta_say("wamid.C2", CUSTOMER, "4").status, 200);
    let away = wait_texts(&graph, CUSTOMER, 2);
    assert!(
        away.iter()
            .any(|t| t.starts_with("We're closed now. We open tomorrow at 08:00")),
        "{away:?}"
    );
    assert_eq!(server.meta_say("wamid.S2", STAFF, "#list").status, 200);
    let answers = wait_texts(&graph, STAFF, 2);
    assert_eq!(answers.len(), 2, "the #list answer goes now, not at 08:00: {answers:?}");
    assert!(!answers[1].contains("asks for a person"), "not the alert: {answers:?}");
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        crate::meta::texts_to(&graph.requests(), STAFF).len(),
        2,
        "the alert is still held"
    );
    clock.advance(jiff::SignedDuration::from_hours(12));
    let all = wait_texts(&graph, STAFF, 3);
    assert!(all.len() == 3 && all[2].contains("asks for a person"), "{all:?}");
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(crate::meta::texts_to(&graph.requests(), STAFF).len(), 3, "once");
}

/// A held alert whose conversation a person answers before the opening (a
/// staff member through the relay, the owner from the inbox or the API) is
/// dropped like one handed back; the answers themselves go at once.
#[test]
fn a_held_alert_is_dropped_when_a_person_answers_before_the_opening() {
    const OTHER: &str = "+27825553002";
    let mock = MockTwilio::start();
    // Thursday 20:00: closed, opens tomorrow at 08:00.
    let clock = shopbot::clock::Clock::fixed("2026-12-03T20:00:00+02:00".parse().unwrap());
    let day = "\"08:00-17:00\"";
    let extra = format!(
        "api_base_url = \"{}\"\n[outbox]\nretry_after_seconds = 0.05\n[staff]\nnumbers = [\"{STAFF}\"]\n\
         [hours]\nmon = {day}\ntue = {day}\nwed = {day}\nthu = {day}\nfri = {day}\n",
        mock.url
    );
    let server = TestServer::start_with_clock(&extra, clock.clone());
    server.say(STAFF, "hi");
    server.say(CUSTOMER, "hi");
    assert!(server.say(CUSTOMER, "4").text().starts_with("We're closed now."));
    server.say(STAFF, "#1");
    server.say(STAFF, "Hi, owner here");
    server.say(OTHER, "hi");
    assert!(server.say(OTHER, "4").text().starts_with("We're closed now."));
    let (status, _) = server.api_post(
        "/api/messages",
        &serde_json::json!({"to": OTHER, "body": "Hello from the shop"}),
    );
    assert_eq!(status, 202);
    let answers = mock.wait_for(2, Duration::from_secs(20));
    assert_eq!(answers.len(), 2, "both answers go at once: {answers:#?}");
    let entries = server.store().read(|db| db.outbox_list(50)).unwrap();
    let held: Vec<_> = entries.iter().filter(|e| e.to.contains(&STAFF[1..])).collect();
    assert_eq!(held.len(), 2, "{entries:#?}");
    for alert in &held {
        assert_eq!(alert.state, OutboxState::Failed, "{held:#?}");
        assert_eq!(alert.error_code.as_deref(), Some("dropped"));
    }
    clock.advance(jiff::SignedDuration::from_hours(13));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        alerts(&mock),
        0,
        "no stale alert at the opening: {:#?}",
        mock.requests()
    );
}

/// One daylight-saving case in Berlin on the real server: a handoff at
/// `handoff` (the clock stands there) with Sunday's hours `sun` gets the away
/// text saying `says`; the alert is held until `opens` (UTC) and goes once
/// then, not a minute before (an hour's error either way would show).
fn berlin_case(handoff: &str, sun: &str, says: &str, opens: &str) {
    let mock = MockTwilio::start();
    let handoff: jiff::Timestamp = handoff.parse().unwrap();
    let opens: jiff::Timestamp = opens.parse().unwrap();
    let clock = shopbot::clock::Clock::fixed(handoff);
    let extra = format!(
        "api_base_url = \"{}\"\n[outbox]\nretry_after_seconds = 0.05\n[staff]\nnumbers = [\"{STAFF}\"]\n\
         [hours]\nsat = \"08:00-17:00\"\nsun = \"{sun}\"\n",
        mock.url
    );
    let server = TestServer::start_with_clock_edited(&extra, clock.clone(), |text| {
        text.replace("Africa/Johannesburg", "Europe/Berlin")
    });
    server.say(STAFF, "hi");
    server.say(CUSTOMER, "hi");
    let away = server.say(CUSTOMER, "4").text();
    assert!(away.starts_with(&format!("We're closed now. We open {says}")), "{away}");
    clock.advance(opens.duration_since(handoff) - jiff::SignedDuration::from_mins(1));
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(alerts(&mock), 0, "{handoff}: still held a minute before {opens}");
    clock.advance(jiff::SignedDuration::from_mins(1));
    assert_eq!(wait_for_alerts(&mock, 1), 1, "{handoff}: sent at {opens}");
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(alerts(&mock), 1, "{handoff}: once");
}

/// The DST week in Europe/Berlin on the real server (PRODUCT.md: daylight-
/// saving days are right): the night the clocks go forward (29 March 2026,
/// 02:00 CET → 03:00 CEST) and the night they go back (25 October 2026,
/// 03:00 CEST → 02:00 CET), and a range starting in the skipped hour, which
/// starts as late as the gap is long (02:30 → 03:30 CEST), as README and
/// `src/hours.rs` say.
#[test]
fn a_dst_week_in_berlin_holds_the_alert_until_the_real_opening() {
    // Saturday 22:00 CET; Sunday 09:00 is CEST, 07:00Z (not 08:00Z).
    berlin_case(
        "2026-03-28T22:00:00+01:00",
        "09:00-12:00",
        "tomorrow at 09:00",
        "2026-03-29T07:00:00Z",
    );
    // Saturday 22:00 CEST; Sunday 09:00 is CET, 08:00Z (not 07:00Z).
    berlin_case(
        "2026-10-24T22:00:00+02:00",
        "09:00-12:00",
        "tomorrow at 09:00",
        "2026-10-25T08:00:00Z",
    );
    // 02:30 does not exist on 29 March: the range starts at 03:30 CEST (01:30Z).
    berlin_case(
        "2026-03-28T22:00:00+01:00",
        "02:30-06:00",
        "tomorrow at 03:30",
        "2026-03-29T01:30:00Z",
    );
}
