//! Telling customers their order changed (PRODUCT.md "Order updates"): an
//! import that changes three statuses tells exactly those customers (inside
//! the window free-form, outside it by the order template, an opted-out one
//! not at all); importing the same sheet again sends nothing; `--dry-run`
//! sends and changes nothing; imports racing each other tell each customer
//! once, and a status changed back and forth is told each time; an update
//! queued inside the window but sent after it closed goes as the template;
//! on Meta, the order template goes through the Graph API. Through the real
//! CLI and server, against the recording Twilio and Graph mocks.

use std::time::Duration;

use crate::support::{output_text, run_to_end, shopbot_command, TestServer};
use crate::twilio_mock::{MockTwilio, Recorded};

const INSIDE: &str = "+27825552001";
const OUTSIDE: &str = "+27825552002";
const OPTED_OUT: &str = "+27825552003";
const TEMPLATE: &str = "HX00000000000000000000000000000042";

fn server(mock: &MockTwilio, template: bool) -> TestServer {
    let sid = if template {
        format!("order_content_sid = \"{TEMPLATE}\"\n")
    } else {
        String::new()
    };
    TestServer::start_with(&format!(
        "api_base_url = \"{}\"\n[notify]\norder_status = true\n{sid}[outbox]\nretry_after_seconds = 0.05\n",
        mock.url
    ))
}

fn sheet(status: &str) -> String {
    format!(
        "Order,Status,Phone,Note\nO1,{status},{INSIDE},Collect at the front desk\nO2,{status},{OUTSIDE},\nO3,{status},{OPTED_OUT},\nO4,{status},,\n"
    )
}

/// `shopbot orders import` of `csv` against the server's config and database.
fn import(server: &TestServer, csv: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("orders.csv");
    std::fs::write(&file, csv).unwrap();
    let config = server.config_path();
    let mut args = vec![
        "orders",
        "import",
        file.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = run_to_end(&mut shopbot_command(&args));
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    text
}

fn messages(mock: &MockTwilio) -> Vec<Recorded> {
    mock.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/Messages.json"))
        .collect()
}

fn to<'a>(sent: &'a [Recorded], number: &str) -> Vec<&'a Recorded> {
    let address = format!("whatsapp:{number}");
    sent.iter().filter(|r| r.get("To") == Some(address.as_str())).collect()
}

#[test]
fn an_import_tells_exactly_the_customers_whose_status_changed_once() {
    let mock = MockTwilio::start();
    let server = server(&mock, true);
    server.say(INSIDE, "hi");
    server.say(OPTED_OUT, "STOP");
    let first = import(&server, &sheet("In production"), &[]);
    assert!(first.contains("4 added"), "{first}");
    assert!(
        !first.contains("order updates"),
        "an order seen for the first time is not a change: {first}"
    );

    let changed = import(&server, &sheet("Ready for collection"), &[]);
    assert!(
        changed.contains(
            "2 customer(s) told, 0 could not be told (outside the 24-hour window and no template), 1 opted out"
        ),
        "{changed}"
    );
    let sent = mock.wait_for(2, Duration::from_secs(20));
    let sent: Vec<Recorded> = sent
        .into_iter()
        .filter(|r| r.path.ends_with("/Messages.json"))
        .collect();
    let inside = to(&sent, INSIDE);
    assert_eq!(inside.len(), 1, "{sent:#?}");
    assert_eq!(
        inside[0].get("Body"),
        Some("📦 Order O1: Ready for collection\nCollect at the front desk")
    );
    let outside = to(&sent, OUTSIDE);
    assert_eq!(outside.len(), 1, "{sent:#?}");
    assert_eq!(outside[0].get("ContentSid"), Some(TEMPLATE));
    assert_eq!(
        outside[0].get("ContentVariables"),
        Some(r#"{"1":"O2","2":"Ready for collection"}"#)
    );
    assert!(to(&sent, OPTED_OUT).is_empty());

    let again = import(&server, &sheet("Ready for collection"), &[]);
    assert!(again.contains("0 updated, 4 unchanged"), "{again}");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(messages(&mock).len(), 2, "importing the same sheet again sends nothing");
    // The customer's answer is not taken as a person answering: the bot still does.
    assert!(server.say(INSIDE, "hi").text().starts_with("Welcome!"));
}

#[test]
fn a_dry_run_shows_what_would_be_sent_and_sends_and_changes_nothing() {
    let mock = MockTwilio::start();
    let server = server(&mock, true);
    server.say(INSIDE, "hi");
    import(&server, &sheet("In production"), &[]);
    let dry = import(&server, &sheet("Shipped"), &["--dry-run"]);
    assert!(dry.starts_with("dry run, nothing changed: "), "{dry}");
    assert!(
        dry.contains("order updates (would be queued): 3 customer(s) told"),
        "{dry}"
    );
    assert!(dry.contains("O1 → +27825552001: Shipped"), "{dry}");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(messages(&mock).is_empty(), "{:#?}", mock.requests());
    let real = import(&server, &sheet("Shipped"), &[]);
    assert!(real.contains("4 updated"), "the dry run changed nothing: {real}");
}

#[test]
fn without_a_template_a_customer_outside_the_window_is_counted_not_told() {
    let mock = MockTwilio::start();
    let server = server(&mock, false);
    import(&server, &sheet("In production"), &[]);
    let changed = import(&server, &sheet("Shipped"), &[]);
    assert!(
        changed.contains(
            "0 customer(s) told, 3 could not be told (outside the 24-hour window and no template), 0 opted out"
        ),
        "{changed}"
    );
}

#[test]
fn imports_racing_each_other_tell_each_customer_once_and_back_and_forth_tells_each_change() {
    let mock = MockTwilio::start();
    let server = server(&mock, true);
    server.say(INSIDE, "hi");
    import(&server, &sheet("In production"), &[]);
    let reports: Vec<String> = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| import(&server, &sheet("Shipped"), &[])))
            .collect();
        racers.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let told: usize = reports
        .iter()
        .filter_map(|r| {
            r.split(" customer(s) told")
                .next()?
                .rsplit(' ')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert_eq!(told, 3, "three customers told across the racing imports: {reports:#?}");
    mock.wait_for(3, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(1500));
    let sent = messages(&mock);
    assert_eq!(to(&sent, INSIDE).len(), 1, "{sent:#?}");
    assert_eq!(to(&sent, OUTSIDE).len(), 1, "{sent:#?}");
    assert_eq!(sent.len(), 3, "{sent:#?}");

    // Back, and forth again: each change is told.
    import(&server, &sheet("In production"), &[]);
    import(&server, &sheet("Shipped"), &[]);
    mock.wait_for(7, Duration::from_secs(20));
    let bodies: Vec<String> = to(&messages(&mock), INSIDE)
        .iter()
        .filter_map(|r| r.get("Body").map(str::to_string))
        .collect();
    assert_eq!(
        bodies,
        [
            "📦 Order O1: Shipped\nCollect at the front desk",
            "📦 Order O1: In production\nCollect at the front desk",
            "📦 Order O1: Shipped\nCollect at the front desk",
        ],
        "{bodies:#?}"
    );
}

#[test]
fn the_order_template_follows_the_customers_language() {
    let mock = MockTwilio::start();
    let dir = tempfile::tempdir().unwrap();
    let menu = dir.path().join("menu.toml");
    std::fs::write(
        &menu,
        include_str!("../../src/engine/default_menu.toml")
            .replace("by_country = {}", "by_country = { \"49\" = \"de\" }"),
    )
    .unwrap();
    let (english, german) = (
        "HX000000000000000000000000000000e1",
        "HX000000000000000000000000000000d1",
    );
    let server = TestServer::start_with(&format!(
        "api_base_url = \"{}\"\n[notify]\norder_status = true\norder_content_sid = {{ en = \"{english}\", de = \"{german}\" }}\n[outbox]\nretry_after_seconds = 0.05\n[menu]\npath = \"{}\"\n",
        mock.url,
        menu.display().to_string().replace('\\', "/")
    ));
    let (berlin, cape_town) = ("+4915112345678", "+27825552009");
    let sheet = |status: &str| format!("Order,Status,Phone\nB1,{status},{berlin}\nC1,{status},{cape_town}\n");
    import(&server, &sheet("In production"), &[]);
    import(&server, &sheet("Shipped"), &[]);
    let sent = mock.wait_for(2, Duration::from_secs(20));
    let sid_to = |number: &str| {
        to(&sent, number)
            .first()
            .and_then(|r| r.get("ContentSid"))
            .map(str::to_string)
    };
    assert_eq!(sid_to(berlin).as_deref(), Some(german), "{sent:#?}");
    assert_eq!(sid_to(cape_town).as_deref(), Some(english), "{sent:#?}");
}

/// The 24-hour window is judged when the update is sent: queued free-form
/// while the customer's window was open, but not sent before it closed (the
/// server's clock stands an hour behind, so the row is not yet due), it goes
/// as the order template.
#[test]
fn an_update_queued_inside_the_window_but_sent_after_it_closed_goes_as_the_template() {
    let mock = MockTwilio::start();
    let clock = shopbot::clock::Clock::fixed(jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1));
    let server = TestServer::start_with_clock(
        &format!(
            "api_base_url = \"{}\"\n[notify]\norder_status = true\norder_content_sid = \"{TEMPLATE}\"\n\
             [outbox]\nretry_after_seconds = 0.05\n",
            mock.url
        ),
        clock.clone(),
    );
    server.say(INSIDE, "hi");
    let one = |status: &str| format!("Order,Status,Phone\nO1,{status},{INSIDE}\n");
    import(&server, &one("In production"), &[]);
    let told = import(&server, &one("Ready for collection"), &[]);
    assert!(told.contains("1 customer(s) told"), "{told}");
    std::thread::sleep(Duration::from_millis(1500));
    assert!(messages(&mock).is_empty(), "not due yet: {:#?}", mock.requests());
    let queued = server.store().read(|db| db.outbox_list(50)).unwrap();
    assert_eq!(queued.len(), 1, "{queued:#?}");
    assert_eq!(
        queued[0].kind(),
        shopbot::message::ContentKind::Text,
        "queued free-form"
    );

    clock.advance(jiff::SignedDuration::from_hours(26));
    let sent = mock.wait_for(1, Duration::from_secs(20));
    let sent = to(&sent, INSIDE).into_iter().cloned().collect::<Vec<_>>();
    assert_eq!(sent.len(), 1, "{:#?}", mock.requests());
    assert_eq!(sent[0].get("ContentSid"), Some(TEMPLATE), "{sent:#?}");
    assert_eq!(
        sent[0].get("ContentVariables"),
        Some(r#"{"1":"O1","2":"Ready for collection"}"#)
    );
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(messages(&mock).len(), 1, "once");
    let entry = server.store().read(|db| db.outbox_list(50)).unwrap();
    assert_eq!(entry[0].state, shopbot::message::OutboxState::Sent, "{entry:#?}");
}

/// On Meta: a customer who wrote on Meta and is outside the window when
/// their order changes gets the order template through the Graph API
/// (`order_template` + `order_language`), its parameters the order number
/// and the status, in order; inside the window the update would be text.
#[test]
fn a_meta_customer_outside_the_window_gets_the_order_template_through_the_graph_api() {
    use crate::meta::meta_config;
    let graph = crate::graph_mock::MockGraph::start();
    let clock = shopbot::clock::Clock::fixed(jiff::Timestamp::now());
    let server = TestServer::start_with_clock(
        &format!(
            "[notify]\norder_status = true\norder_template = \"order_update\"\norder_language = \"en_US\"\n{}",
            meta_config(&graph.url)
        ),
        clock.clone(),
    );
    let customer = "+27825552010";
    assert_eq!(server.meta_say("wamid.O1", customer, "hi").status, 200);
    let replies = graph.wait_for(1, Duration::from_secs(20)).len();
    clock.advance(jiff::SignedDuration::from_hours(25));
    let one = |status: &str| format!("Order,Status,Phone\nM7,{status},{customer}\n");
    import(&server, &one("In production"), &[]);
    let told = import(&server, &one("Ready for collection"), &[]);
    assert!(told.contains("1 customer(s) told"), "{told}");
    let sent = graph.wait_for(replies + 1, Duration::from_secs(20));
    let update = &sent[replies].body;
    assert_eq!(update["to"], "27825552010", "{update}");
    assert_eq!(update["type"], "template", "{update}");
    assert_eq!(update["template"]["name"], "order_update");
    assert_eq!(update["template"]["language"]["code"], "en_US");
    let params: Vec<&str> = update["template"]["components"][0]["parameters"]
        .as_array()
        .expect("the template's parameters")
        .iter()
        .filter_map(|p| p["text"].as_str())
        .collect();
    assert_eq!(params, ["M7", "Ready for collection"]);
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(graph.requests().len(), replies + 1, "told once");
}
