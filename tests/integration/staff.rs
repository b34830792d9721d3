//! The owner answers from their own WhatsApp (`[staff]`): handoff alerts,
//! batched forwards, the relay by quote and by "last handled", the commands,
//! the window and opt-out rules, a relayed photo. Real server, real signed
//! Twilio webhooks, the local Twilio REST mock.

use std::time::Duration;

use serde_json::Value;

use crate::support::{new_sid, pairs, whatsapp_params, TestServer};
use crate::twilio_mock::{MockTwilio, Recorded};

const STAFF_A: &str = "+27825550801";
const STAFF_B: &str = "+27825550802";
const CUSTOMER: &str = "+27825550810";
const OTHER_CUSTOMER: &str = "+27825550811";
const ALERT_SID: &str = "HX0123456789abcdef0123456789abcdef";

/// A server with two staff numbers, forwards batched over 3 s (room for a
/// slow machine, or qemu, to write a test's lines within one batch).
fn relay_server(mock: &MockTwilio) -> TestServer {
    TestServer::start_with(&format!(
        "api_base_url = \"{}\"\n[outbox]\nretry_after_seconds = 0.05\n[staff]\nnumbers = [\"{STAFF_A}\", \"{STAFF_B}\"]\n\
         alert_content_sid = \"{ALERT_SID}\"\nforward_every_seconds = 3\n",
        mock.url
    ))
}

/// A signed message from `from`, quoting the message `quoted` if given; the texts replied inline.
fn write(server: &TestServer, from: &str, body: &str, quoted: Option<&str>) -> Vec<String> {
    let mut params = whatsapp_params(&new_sid(), from, body);
    if let Some(sid) = quoted {
        params.extend(pairs(&[("OriginalRepliedMessageSid", sid)]));
    }
    server.post_signed("/twilio/inbound", &params).messages()
}

/// The requests the mock received for `to`.
fn sent_to(mock: &MockTwilio, to: &str) -> Vec<Recorded> {
    let address = format!("whatsapp:{to}");
    mock.requests()
        .into_iter()
        .filter(|r| r.get("To") == Some(address.as_str()))
        .collect()
}

/// Waits until the mock has `n` requests for `to` (20 s at most).
fn wait_sent_to(mock: &MockTwilio, to: &str, n: usize) -> Vec<Recorded> {
    let started = std::time::Instant::now();
    loop {
        let sent = sent_to(mock, to);
        if sent.len() >= n {
            return sent;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{to} got {} of {n}: {sent:?}",
            sent.len()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The SID the newest sent message to `to` got (from the admin API), once it
/// has one: the mock may have the request before shopbot has stored its answer.
fn newest_sid_to(server: &TestServer, to: &str) -> String {
    newest_sid_where(server, to, |_| true)
}

/// The SID of the newest alert to the staff member `to`, once it has one.
fn alert_sid(server: &TestServer, to: &str) -> String {
    newest_sid_where(server, to, |body| body.starts_with("🔔"))
}

fn newest_sid_where(server: &TestServer, to: &str, wanted: impl Fn(&str) -> bool) -> String {
    let started = std::time::Instant::now();
    loop {
        let (_, conversation) = server.api_get(&format!("/api/messages?contact=%2B{}", &to[1..]));
        let newest = conversation["messages"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|m| m["direction"] == "outbound" && wanted(m["body"].as_str().unwrap_or_default()))
            .cloned();
        if let Some(sid) = newest.as_ref().and_then(|m| m["sid"].as_str()) {
            return sid.to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no sent message to {to}: {conversation}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Both staff members wrote to the bot (their 24-hour windows are open).
fn staff_on_duty(server: &TestServer) {
    for staff in [STAFF_A, STAFF_B] {
        let help = write(server, staff, "#help", None);
        assert!(help[0].starts_with("Answering customers from WhatsApp"), "{help:?}");
    }
}

/// `customer` asks for a person; both alerts are sent.
fn ask_for_help(server: &TestServer, mock: &MockTwilio, customer: &str) {
    write(server, customer, "hi", None);
    write(server, customer, "4", None);
    wait_sent_to(mock, STAFF_A, 1);
    wait_sent_to(mock, STAFF_B, 1);
}

fn body(r: &Recorded) -> &str {
    r.get("Body").unwrap_or_default()
}

#[test]
fn a_handoff_alerts_each_staff_number_exactly_once() {
    let mock = MockTwilio::start();
    let server = relay_server(&mock);
    staff_on_duty(&server);
    ask_for_help(&server, &mock, CUSTOMER);
    std::thread::sleep(Duration::from_millis(300));
    for staff in [STAFF_A, STAFF_B] {
        let alerts = sent_to(&mock, staff);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(
            body(&alerts[0]),
            format!(
                "🔔 Thandi ({CUSTOMER}) asks for a person.\nReply to this message to answer; #done hands back to the bot."
            )
        );
    }
    assert!(sent_to(&mock, CUSTOMER).is_empty(), "the customer's replies are inline");
}

#[test]
fn three_lines_while_waiting_become_one_batched_forward_per_staff_member() {
    let mock = MockTwilio::start();
    let server = relay_server(&mock);
    staff_on_duty(&server);
    ask_for_help(&server, &mock, CUSTOMER);
    for line in [
        "My order A1042 has not arrived",
        "It was due Monday",
        "Can someone call me?",
    ] {
        write(&server, CUSTOMER, line, None);
    }
    for staff in [STAFF_A, STAFF_B] {
        let sent = wait_sent_to(&mock, staff, 2);
        assert_eq!(
            body(&sent[1]),
            format!(
                "💬 Thandi ({CUSTOMER}):\n“My order A1042 has not arrived”\n“It was due Monday”\n“Can someone call me?”"
            )
        );
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(sent_to(&mock, STAFF_A).len(), 2, "one alert and one forward");
}

#[test]
fn a_quoted_reply_and_the_next_unquoted_one_reach_the_customer_and_another_staff_member_is_told_who_holds_it() {
    let mock = MockTwilio::start();
    let server = relay_server(&mock);
    staff_on_duty(&server);
    ask_for_help(&server, &mock, CUSTOMER);
    let alert_to_a = alert_sid(&server, STAFF_A);
    let said = write(&server, STAFF_A, "Hi, Sam here. Let me check.", Some(&alert_to_a));
    assert_eq!(said, [format!("→ Thandi ({CUSTOMER})")]);
    let to_customer = wait_sent_to(&mock, CUSTOMER, 1);
    assert_eq!(body(&to_customer[0]), "Hi, Sam here. Let me check.");
    let who = shopbot::message::ContactRef::phone(shopbot::phone::PhoneNumber::parse(CUSTOMER).unwrap());
    let relayed = server
        .store()
        .read(|db| {
            let contact = db.find_contact(&who)?.expect("the customer");
            db.contact_messages(contact, 50)
        })
        .unwrap()
        .into_iter()
        .find(|m| m.body.as_deref() == Some("Hi, Sam here. Let me check."))
        .unwrap();
    assert_eq!(
        relayed.sent_by,
        Some(format!("Thandi ({STAFF_A})")),
        "the inbox shows who answered from their phone"
    );
    // Without a quote: the same customer, and no second confirmation.
    let said = write(&server, STAFF_A, "It ships tomorrow.", None);
    assert!(said.is_empty(), "{said:?}");
    let to_customer = wait_sent_to(&mock, CUSTOMER, 2);
    assert_eq!(body(&to_customer[1]), "It ships tomorrow.");
    // The customer's next line goes to A alone, at once.
    write(&server, CUSTOMER, "Thanks!", None);
    let to_a = wait_sent_to(&mock, STAFF_A, 2);
    assert_eq!(body(&to_a[1]), format!("💬 Thandi ({CUSTOMER}):\n“Thanks!”"));
    // Staff B answers the same alert: told who holds it, nothing sent.
    let alert_to_b = alert_sid(&server, STAFF_B);
    let said = write(&server, STAFF_B, "Hello from Lee", Some(&alert_to_b));
    assert_eq!(
        said,
        [format!(
            "Thandi ({CUSTOMER}) is being answered by Thandi ({STAFF_A}); nothing was sent. Send #take to take it over."
        )]
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sent_to(&mock, CUSTOMER).len(), 2, "each text exactly once");
    // B takes it over; A is told.
    let said = write(&server, STAFF_B, "#take", Some(&alert_to_b));
    assert_eq!(said, [format!("→ Thandi ({CUSTOMER}) is yours now.")]);
    let to_a = wait_sent_to(&mock, STAFF_A, 3);
    assert_eq!(
        body(&to_a[2]),
        format!("Thandi ({STAFF_B}) took over Thandi ({CUSTOMER}).")
    );
    write(&server, STAFF_B, "Lee here, I'll take it from here.", None);
    let to_customer = wait_sent_to(&mock, CUSTOMER, 3);
    assert_eq!(body(&to_customer[2]), "Lee here, I'll take it from here.");
}

#[test]
fn list_switch_and_done_from_the_phone() {
    let mock = MockTwilio::start();
    let server = relay_server(&mock);
    staff_on_duty(&server);
    ask_for_help(&server, &mock, CUSTOMER);
    write(&server, OTHER_CUSTOMER, "hi", None);
    write(&server, OTHER_CUSTOMER, "4", None);
    write(&server, OTHER_CUSTOMER, "Do you repair gates?", None);
    let list = write(&server, STAFF_A, "#LIST", None);
    assert_eq!(list.len(), 1);
    let lines: Vec<&str> = list[0].lines().collect();
    assert_eq!(lines[0], "Waiting for a person:");
    assert!(lines[1].starts_with(&format!("#1 Thandi ({CUSTOMER}) · ")), "{list:?}");
    assert!(
        lines[2].starts_with(&format!("#2 Thandi ({OTHER_CUSTOMER}) · ")),
        "{list:?}"
    );
    assert_eq!(lines[3], "Send #1, #2 … to answer one.");
    let switched = write(&server, STAFF_A, "#2", None);
    assert_eq!(
        switched,
        [format!("→ Thandi ({OTHER_CUSTOMER})\n“Do you repair gates?”")]
    );
    let said = write(&server, STAFF_A, "Yes we do. Send a photo?", None);
    assert!(said.is_empty(), "already told by #2: {said:?}");
    let to_other = wait_sent_to(&mock, OTHER_CUSTOMER, 1);
    assert_eq!(body(&to_other[0]), "Yes we do. Send a photo?");
    assert_eq!(
        write(&server, STAFF_A, "#9", None),
        ["There is no #9 waiting. #list shows who is."]
    );
    let done = write(&server, STAFF_A, "#done", None);
    assert_eq!(done, [format!("✓ Thandi ({OTHER_CUSTOMER}) is back with the bot.")]);
    let menu = write(&server, OTHER_CUSTOMER, "1", None);
    assert!(menu[0].contains("order number"), "the bot answers again: {menu:?}");
    assert_eq!(
        write(&server, STAFF_A, "#done", None),
        ["There is no conversation to answer yet. #list shows who is waiting; #help explains the rest."]
    );
}

#[test]
fn a_customer_who_writes_done_is_an_ordinary_customer() {
    let mock = MockTwilio::start();
    let server = relay_server(&mock);
    let said = write(&server, CUSTOMER, "#done", None);
    assert!(said[0].starts_with("Welcome!"), "the menu, not a command: {said:?}");
    let said = write(&server, CUSTOMER, "#list", None);
    assert!(said[0].starts_with("Sorry, I didn't understand that."), "{said:?}");
}

#[test]
fn a_staff_member_outside_their_window_gets_the_alert_template() {
    let mock = MockTwilio::start();
    let server = relay_server(&mock);
    // Only A wrote in the last 24 hours.
    write(&server, STAFF_A, "#help", None);
    ask_for_help(&server, &mock, CUSTOMER);
    let to_b = sent_to(&mock, STAFF_B);
    assert_eq!(to_b[0].get("ContentSid"), Some(ALERT_SID));
    let variables: Value = serde_json::from_str(to_b[0].get("ContentVariables").unwrap()).unwrap();
    assert_eq!(variables, serde_json::json!({"1": "Thandi", "2": CUSTOMER, "3": "4"}));
    assert_eq!(
        sent_to(&mock, STAFF_A)[0].get("ContentSid"),
        None,
        "free-form inside the window"
    );
}

#[test]
fn a_customer_outside_the_window_or_opted_out_is_not_messaged_and_staff_is_told() {
    let mock = MockTwilio::start();
    let server = relay_server(&mock);
    staff_on_duty(&server);
    ask_for_help(&server, &mock, CUSTOMER);
    let alert = alert_sid(&server, STAFF_A);
    write(&server, STAFF_A, "Hi!", Some(&alert));
    wait_sent_to(&mock, CUSTOMER, 1);
    // Twilio says the window is closed (63016) for the message just sent.
    let sid = newest_sid_to(&server, CUSTOMER);
    let mut callback = pairs(&[
        ("MessageSid", sid.as_str()),
        ("MessageStatus", "failed"),
        ("To", &format!("whatsapp:{CUSTOMER}")),
        ("From", "whatsapp:+14155238886"),
        ("AccountSid", "AC00000000000000000000000000000000"),
    ]);
    callback.extend(pairs(&[
        ("ErrorCode", "63016"),
        ("ErrorMessage", "Outside the allowed window"),
    ]));
    assert_eq!(server.post_signed("/twilio/status", &callback).status, 204);
    let said = write(&server, STAFF_A, "Are you there?", None);
    assert_eq!(
        said,
        [format!(
            "Not sent: Thandi ({CUSTOMER}) is outside the 24-hour window: send a template from the inbox."
        )]
    );
    // The customer writes again (window open), then opts out.
    write(&server, CUSTOMER, "stop", None);
    let said = write(&server, STAFF_A, "Sorry to see you go", None);
    assert_eq!(
        said,
        [format!(
            "Not sent: Thandi ({CUSTOMER}) opted out (sent STOP) and gets nothing until they send START."
        )]
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(sent_to(&mock, CUSTOMER).len(), 1);
}

#[test]
fn a_photo_from_staff_is_relayed_to_the_customer() {
    let mock = MockTwilio::start();
    let server = relay_server(&mock);
    staff_on_duty(&server);
    ask_for_help(&server, &mock, CUSTOMER);
    let alert = alert_sid(&server, STAFF_A);
    let photo = "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages/MM1/Media/ME1";
    let mut params = whatsapp_params(&new_sid(), STAFF_A, "This is the part");
    for (key, value) in [
        ("NumMedia", "1"),
        ("MediaUrl0", photo),
        ("MediaContentType0", "image/jpeg"),
        ("OriginalRepliedMessageSid", alert.as_str()),
    ] {
        params.retain(|(k, _)| k != key);
        params.extend(pairs(&[(key, value)]));
    }
    let said = server.post_signed("/twilio/inbound", &params).messages();
    assert_eq!(said, [format!("→ Thandi ({CUSTOMER})")]);
    let sent = wait_sent_to(&mock, CUSTOMER, 1);
    assert_eq!(body(&sent[0]), "This is the part");
    assert_eq!(sent[0].get("MediaUrl"), Some(photo));
}

/// The Graph API texts to `to`.
fn graph_texts_to(graph: &crate::graph_mock::MockGraph, to: &str) -> Vec<String> {
    let digits = to.trim_start_matches('+');
    graph
        .requests()
        .iter()
        .filter(|r| r.body["to"] == digits)
        .map(|r| r.body["text"]["body"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn wait_graph_texts(graph: &crate::graph_mock::MockGraph, to: &str, n: usize) -> Vec<String> {
    let started = std::time::Instant::now();
    loop {
        let texts = graph_texts_to(graph, to);
        if texts.len() >= n {
            return texts;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{to}: {texts:?}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn staff_and_customers_mix_twilio_and_meta() {
    use crate::meta::{entry, meta_config, text_message, webhook};
    let mock = MockTwilio::start();
    let graph = crate::graph_mock::MockGraph::start();
    let server = TestServer::start_with(&format!(
        "api_base_url = \"{}\"\n{}[staff]\nnumbers = [\"{STAFF_A}\", \"{STAFF_B}\"]\n",
        mock.url,
        meta_config(&graph.url)
    ));
    // A is on Twilio, B on Meta; the customer on Meta.
    write(&server, STAFF_A, "#help", None);
    assert_eq!(server.meta_say("wamid.B1", STAFF_B, "#help").status, 200);
    assert!(wait_graph_texts(&graph, STAFF_B, 1)[0].starts_with("Answering customers from WhatsApp"));
    for (i, text) in ["hi", "4"].iter().enumerate() {
        assert_eq!(server.meta_say(&format!("wamid.C{i}"), CUSTOMER, text).status, 200);
    }
    let alert_a = wait_sent_to(&mock, STAFF_A, 1);
    assert!(body(&alert_a[0]).starts_with(&format!("🔔 Ava ({CUSTOMER}) asks for a person.")));
    let alert_b = wait_graph_texts(&graph, STAFF_B, 2);
    assert!(alert_b[1].starts_with(&format!("🔔 Ava ({CUSTOMER}) asks for a person.")));
    // B answers on Meta, quoting the alert (context.id): the customer gets it on Meta.
    let alert_wamid = alert_sid(&server, STAFF_B);
    let mut reply = text_message("wamid.B2", STAFF_B, "Hi Ava, Lee here.");
    reply["context"] = serde_json::json!({"from": "15550783881", "id": alert_wamid});
    assert_eq!(server.meta_post(&webhook(vec![entry(vec![], vec![reply])])).status, 200);
    let to_customer = wait_graph_texts(&graph, CUSTOMER, 3);
    assert!(
        to_customer.contains(&"Hi Ava, Lee here.".to_string()),
        "{to_customer:?}"
    );
    // A answers the same customer from Twilio: told that B holds it.
    let alert_to_a = alert_sid(&server, STAFF_A);
    let said = write(&server, STAFF_A, "Hello?", Some(&alert_to_a));
    assert_eq!(
        said,
        [format!(
            "Ava ({CUSTOMER}) is being answered by Ava ({STAFF_B}); nothing was sent. Send #take to take it over."
        )]
    );
}

/// `kill -9` while an alert is with Twilio: after the restart it is held as
/// uncertain (Twilio may have it) and never sent again; the other alert goes once.
#[test]
fn kill_9_between_an_alert_and_its_send_never_sends_it_twice() {
    use crate::support::{agent, config_text, post_signed_to};
    let mock = MockTwilio::start();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let extra = format!(
        "api_base_url = \"{}\"\n[outbox]\nretry_after_seconds = 0.05\n[staff]\nnumbers = [\"{STAFF_A}\", \"{STAFF_B}\"]\n",
        mock.url
    );
    std::fs::write(&config, config_text(&dir.path().join("shop.db"), &extra)).unwrap();
    let (mut child, http) = crate::crash::serve(&config);
    let client = agent(Duration::from_secs(10));
    let say = |http: &str, from: &str, text: &str| {
        let reply = post_signed_to(
            &client,
            http,
            "/twilio/inbound",
            &whatsapp_params(&new_sid(), from, text),
        )
        .unwrap();
        assert_eq!(reply.status, 200, "{reply:?}");
    };
    say(&http, STAFF_A, "#help");
    say(&http, STAFF_B, "#help");
    // The first alert's answer never comes back before the kill.
    mock.then_after(201, r#"{"sid":"SMlate","status":"queued"}"#, Duration::from_secs(30));
    say(&http, CUSTOMER, "hi");
    say(&http, CUSTOMER, "4");
    assert_eq!(
        mock.wait_for(1, Duration::from_secs(10)).len(),
        1,
        "the first alert is in flight"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let (mut child, _http) = crate::crash::serve(&config);
    let started = std::time::Instant::now();
    while mock.requests().len() < 2 && started.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let requests = mock.requests();
    let to = |staff: &str| {
        let address = format!("whatsapp:{staff}");
        requests
            .iter()
            .filter(|r| r.get("To") == Some(address.as_str()))
            .count()
    };
    assert_eq!(
        (to(STAFF_A) + to(STAFF_B), requests.len()),
        (2, 2),
        "each alert reached Twilio once: {requests:?}"
    );
    let listing = crate::support::output_text(&crate::support::run_to_end(
        crate::support::shopbot_command(&["outbox", "list"])
            .arg("--config")
            .arg(&config),
    ));
    let uncertain: Vec<&str> = listing.lines().filter(|l| l.contains(" uncertain ")).collect();
    assert_eq!(uncertain.len(), 1, "{listing}");
    assert!(
        uncertain[0].contains(STAFF_A),
        "the alert that was in flight: {listing}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_staff_members_own_chat_is_marked_staff_in_the_inbox() {
    let mock = MockTwilio::start();
    let server = relay_server(&mock);
    let hash = shopbot::auth::hash_password("owner-pass").unwrap();
    server
        .store()
        .write(|db| db.set_owner_password(&hash, jiff::Timestamp::now()))
        .unwrap();
    write(&server, STAFF_A, "#help", None);
    write(&server, CUSTOMER, "hi", None);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent();
    let signed = agent
        .post(&format!("{}/admin/login", server.http))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("password=owner-pass&next=%2Fadmin%2F".as_bytes())
        .unwrap();
    let cookie = signed.headers().get("Set-Cookie").unwrap().to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    let mut inbox = agent
        .get(&format!("{}/admin/", server.http))
        .header("Cookie", &cookie)
        .call()
        .unwrap();
    let page = inbox.body_mut().read_to_string().unwrap();
    let rows: Vec<&str> = page.split("<li").skip(1).collect();
    let staff_row = rows.iter().find(|r| r.contains(STAFF_A)).expect("the staff chat");
    let customer_row = rows.iter().find(|r| r.contains(CUSTOMER)).expect("the customer");
    assert!(staff_row.contains(">staff<"), "{staff_row}");
    assert!(!customer_row.contains(">staff<"), "{customer_row}");
}

// ---------------------------------------------------------------------------
// Issue 19: hostile data on the way to staff.

/// The forwarded texts `texts` carry every word of `words`, and
/// each fits `max` units of `len`.
fn assert_forwarded_in_full(texts: &[String], words: &[String], max: usize, len: impl Fn(&str) -> usize) {
    for text in texts {
        assert!(
            len(text) <= max,
            "a forward of {} units over {max}: {text:.80}…",
            len(text)
        );
    }
    // Every word arrives; the mock may see the pieces of one batch in either
    // order when they go out at the same moment (as under emulation).
    let all = texts.join("\n");
    for word in words {
        assert!(
            all.contains(word.as_str()),
            "{word} was not forwarded ({} bytes arrived)",
            all.len()
        );
    }
}

/// `n` distinct words of ten characters, `w00001…`.
fn numbered_words(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:08}")).collect()
}

/// The forwards (texts starting "💬") among `texts`.
fn forwards(texts: Vec<String>) -> Vec<String> {
    texts.into_iter().filter(|t| t.starts_with("💬")).collect()
}

/// Waits until the forwards to a staff member carry the last of `words`.
fn wait_forwards(mut texts: impl FnMut() -> Vec<String>, last: &str) -> Vec<String> {
    let started = std::time::Instant::now();
    loop {
        let found = forwards(texts());
        if found.iter().any(|t| t.contains(last)) {
            return found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{last} never forwarded: {found:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn finding_2_twenty_five_quick_lines_and_a_1590_character_line_reach_twilio_staff_in_full() {
    let mock = MockTwilio::start();
    let server = relay_server(&mock);
    staff_on_duty(&server);
    ask_for_help(&server, &mock, CUSTOMER);
    // 25 lines of 8 words (about 90 characters) arrive within the batch's second.
    let words = numbered_words("w", 25 * 8 + 160);
    for line in words[..200].chunks(8) {
        write(&server, CUSTOMER, &line.join(" "), None);
    }
    // 160 words: a 1,599-character line, over 1,600 with its header.
    let long = words[200..].join(" ");
    assert!(long.len() >= 1590, "{}", long.len());
    write(&server, CUSTOMER, &long, None);
    let last = words.last().unwrap();
    for staff in [STAFF_A, STAFF_B] {
        let texts = wait_forwards(
            || sent_to(&mock, staff).iter().map(|r| body(r).to_string()).collect(),
            last,
        );
        assert!(texts.len() >= 3, "{} forwards: {texts:?}", texts.len());
        assert_forwarded_in_full(&texts, &words, 1600, |t| t.encode_utf16().count());
    }
}

#[test]
fn finding_2_a_1590_character_line_reaches_the_staff_member_holding_the_conversation_in_full() {
    let mock = MockTwilio::start();
    let server = relay_server(&mock);
    staff_on_duty(&server);
    ask_for_help(&server, &mock, CUSTOMER);
    let alert_to_a = alert_sid(&server, STAFF_A);
    write(&server, STAFF_A, "Sam here.", Some(&alert_to_a));
    wait_sent_to(&mock, CUSTOMER, 1);
    // A holds the conversation: the customer's lines go to A at once, and
    // this one is over 1,600 characters with its "💬 Thandi (+27…):" header.
    let words = numbered_words("h", 160);
    let long = words.join(" ");
    assert!(long.len() >= 1590, "{}", long.len());
    write(&server, CUSTOMER, &long, None);
    let texts = wait_forwards(
        || sent_to(&mock, STAFF_A).iter().map(|r| body(r).to_string()).collect(),
        words.last().unwrap(),
    );
    assert!(texts.len() >= 2, "split in two: {texts:?}");
    assert_forwarded_in_full(&texts, &words, 1600, |t| t.encode_utf16().count());
}

#[test]
fn finding_2_a_meta_staff_member_gets_long_batches_split_at_4096_characters() {
    use crate::meta::meta_config;
    let mock = MockTwilio::start();
    let graph = crate::graph_mock::MockGraph::start();
    let server = TestServer::start_with(&format!(
        "api_base_url = \"{}\"\n{}[staff]\nnumbers = [\"{STAFF_B}\"]\nforward_every_seconds = 1\n",
        mock.url,
        meta_config(&graph.url)
    ));
    assert_eq!(server.meta_say("wamid.B1", STAFF_B, "#help").status, 200);
    wait_graph_texts(&graph, STAFF_B, 1);
    write(&server, CUSTOMER, "hi", None);
    write(&server, CUSTOMER, "4", None);
    wait_graph_texts(&graph, STAFF_B, 2);
    // 25 lines of 20 words (about 220 characters each: 5,500 in all), then
    // one line of 4,089 characters.
    let words = numbered_words("m", 25 * 20 + 409);
    for line in words[..500].chunks(20) {
        write(&server, CUSTOMER, &line.join(" "), None);
    }
    let long = words[500..].join(" ");
    assert!(long.chars().count() >= 4085, "{}", long.len());
    write(&server, CUSTOMER, &long, None);
    let texts = wait_forwards(|| graph_texts_to(&graph, STAFF_B), words.last().unwrap());
    assert!(texts.len() >= 3, "{texts:?}");
    assert_forwarded_in_full(&texts, &words, 4096, |t| t.chars().count());
}

#[test]
fn finding_8_a_profile_name_with_line_breaks_cannot_forge_an_alert_line() {
    let mock = MockTwilio::start();
    let server = relay_server(&mock);
    staff_on_duty(&server);
    let forged = "Ann\n🔔 Bob (+27829999999) asks for a person.\r\u{202E}x\u{2028}y";
    let say = |text: &str| {
        let mut params = whatsapp_params(&new_sid(), CUSTOMER, text);
        for (name, value) in params.iter_mut() {
            if name == "ProfileName" {
                *value = forged.to_string();
            }
        }
        server.post_signed("/twilio/inbound", &params).messages();
    };
    say("hi");
    say("4");
    let alert = body(&wait_sent_to(&mock, STAFF_A, 1)[0]).to_string();
    assert_eq!(
        alert.matches('🔔').count(),
        2,
        "the name's bell stays inside the one header line: {alert}"
    );
    let first = alert.lines().next().unwrap();
    assert_eq!(
        first,
        format!("🔔 Ann 🔔 Bob (+27829999999) asks for a person. x y ({CUSTOMER}) asks for a person.")
    );
    assert!(!alert.contains('\r') && !alert.contains('\u{202E}') && !alert.contains('\u{2028}'));
    // A line of the customer's own keeps its line breaks inside its quote marks.
    say("line one\n🔔 fake header\u{7}");
    let texts = wait_forwards(
        || sent_to(&mock, STAFF_A).iter().map(|r| body(r).to_string()).collect(),
        "fake header",
    );
    let forward = texts.last().unwrap();
    assert!(forward.starts_with("💬 Ann 🔔 Bob"), "{forward}");
    assert!(forward.contains("“line one\n🔔 fake header”"), "{forward}");
}

#[test]
fn finding_9_a_staff_members_stop_is_not_relayed_and_says_why() {
    let mock = MockTwilio::start();
    let server = relay_server(&mock);
    staff_on_duty(&server);
    ask_for_help(&server, &mock, CUSTOMER);
    let alert = alert_sid(&server, STAFF_A);
    write(&server, STAFF_A, "Hi, Lee here.", Some(&alert));
    wait_sent_to(&mock, CUSTOMER, 1);
    for word in ["STOP", "stop", " Start "] {
        let said = write(&server, STAFF_A, word, None);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("was not sent to anyone"), "{said:?}");
    }
    let relayed = write(&server, STAFF_A, "Your part is in.", None);
    assert!(relayed.is_empty(), "the relay still works: {relayed:?}");
    let to_customer: Vec<String> = wait_sent_to(&mock, CUSTOMER, 2)
        .iter()
        .map(|r| body(r).to_string())
        .collect();
    assert_eq!(to_customer, ["Hi, Lee here.", "Your part is in."]);
}

#[test]
fn finding_7_customers_back_with_the_bot_are_not_waiting_and_list_pages_the_rest() {
    let mock = MockTwilio::start();
    let server = relay_server(&mock);
    staff_on_duty(&server);
    // 22 customers press 4 and then go back to the menu with "hi".
    for n in 0..22 {
        let customer = format!("+278255509{n:02}");
        for text in ["hi", "4", "hi"] {
            write(&server, &customer, text, None);
        }
    }
    let waiting = || server.store().read(|db| db.waiting_count()).unwrap();
    assert_eq!(waiting(), 0, "nobody who went back to the bot waits");
    write(&server, CUSTOMER, "hi", None);
    write(&server, CUSTOMER, "4", None);
    let list = write(&server, STAFF_A, "#list", None);
    assert_eq!(list.len(), 1);
    assert!(list[0].contains(&format!("#1 Thandi ({CUSTOMER})")), "{list:?}");
    assert!(!list[0].contains("\n#2 "), "only the one really waiting: {list:?}");
    // 22 more really wait: 23 in all, over one page of 20.
    for n in 0..22 {
        let customer = format!("+278255507{n:02}");
        write(&server, &customer, "hi", None);
        write(&server, &customer, "4", None);
    }
    let first = write(&server, STAFF_A, "#list", None).join("\n");
    assert!(first.contains("\n#20 ") && !first.contains("\n#21 "), "{first}");
    assert!(first.contains("… and 3 more: #list 2 shows them."), "{first}");
    let second = write(&server, STAFF_A, "#list 2", None).join("\n");
    assert!(
        second.contains("\n#21 ") && second.contains("\n#23 ") && !second.contains("\n#20 "),
        "{second}"
    );
    assert!(!second.contains("more"), "{second}");
    let switched = write(&server, STAFF_A, "#23", None).join("\n");
    assert!(
        switched.starts_with("→ Thandi (+27825550721)"),
        "#N reaches past the first page: {switched}"
    );
}

/// A menu in English and German with a person to ask and `[texts]
/// handed_back` in both.
const GERMAN_HANDOFF_MENU: &str = r#"start = "main"
[languages]
default = "en"
offer = ["en", "de"]
by_country = { "49" = "de" }

[texts]
handed_back = { en = "You are back with the bot.", de = "Sie sind wieder beim Bot." }

[nodes.main]
text = { en = "Welcome!", de = "Willkommen!" }
options = [ { label = { en = "A person", de = "Ein Mensch" }, goto = "person" } ]

[nodes.person]
kind = "handoff"
text = { en = "Someone will answer.", de = "Jemand antwortet." }
"#;

const GERMAN_CUSTOMER: &str = "+4915112345679";

/// One staff number (STAFF_A, on duty) and `GERMAN_HANDOFF_MENU`; a German
/// customer has asked for a person, and STAFF_A answers them.
fn german_customer_with_staff(mock: &MockTwilio) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let menu = dir.path().join("menu.toml");
    std::fs::write(&menu, GERMAN_HANDOFF_MENU).unwrap();
    let server = TestServer::start_with(&format!(
        "api_base_url = \"{}\"\n[outbox]\nretry_after_seconds = 0.05\n[staff]\nnumbers = [\"{STAFF_A}\"]\n\
         alert_content_sid = \"{ALERT_SID}\"\n[menu]\npath = \"{}\"\n",
        mock.url,
        menu.display().to_string().replace('\\', "/")
    ));
    write(&server, STAFF_A, "#help", None);
    write(&server, GERMAN_CUSTOMER, "hi", None);
    assert!(write(&server, GERMAN_CUSTOMER, "1", None)[0].starts_with("Jemand antwortet."));
    wait_sent_to(mock, STAFF_A, 1);
    let switched = write(&server, STAFF_A, "#1", None);
    assert!(switched[0].starts_with("→ "), "{switched:?}");
    (server, dir)
}

#[test]
fn done_from_the_phone_says_handed_back_in_the_customers_language() {
    let mock = MockTwilio::start();
    let (server, _dir) = german_customer_with_staff(&mock);
    let done = write(&server, STAFF_A, "#done", None);
    assert!(done[0].starts_with("✓ "), "{done:?}");
    let sent = wait_sent_to(&mock, GERMAN_CUSTOMER, 1);
    assert_eq!(body(&sent[0]), "Sie sind wieder beim Bot.");
}

#[test]
fn done_from_the_phone_is_recorded_in_the_inbox_with_the_staff_members_name() {
    let mock = MockTwilio::start();
    let (server, _dir) = german_customer_with_staff(&mock);
    write(&server, STAFF_A, "#done", None);
    let hash = shopbot::auth::hash_password(crate::inbox::PASSWORD).unwrap();
    server
        .store()
        .write(|db| db.set_owner_password(&hash, jiff::Timestamp::now()))
        .unwrap();
    let mut owner = crate::inbox::Owner::new(&server);
    assert_eq!(owner.sign_in(crate::inbox::PASSWORD).status, 303);
    let id = crate::inbox::conversation_id(&server, GERMAN_CUSTOMER);
    let page = owner.get(&format!("/admin/conversations/{id}")).body;
    assert!(
        page.contains(&format!("Thandi ({STAFF_A}) handed the conversation back to the bot")),
        "{page}"
    );
    assert!(
        !page.contains("With a person"),
        "the hand-back text does not put the conversation with a person again: {page}"
    );
    let menu = write(&server, GERMAN_CUSTOMER, "hi", None);
    assert!(menu[0].starts_with("Willkommen!"), "the bot answers: {menu:?}");
}
