//! The whole example menu over signed webhooks, as a customer walks it.

use crate::support::TestServer;

const CUSTOMER: &str = "+27820000001";

#[test]
fn greeting_lists_the_five_options() {
    let server = TestServer::start();
    let reply = server.say(CUSTOMER, "Hi").text();
    assert_eq!(
        reply,
        "Welcome! Select 1-5\n1 Check Order Status\n2 Report Defect\n3 View Production Schedule\n4 Get Help & Support\n5 Back to Menu"
    );
}

#[test]
fn order_lookup_finds_an_imported_order_only_for_its_customer() {
    let server = TestServer::start();
    // A second connection while the server runs, as `shopbot orders import` does.
    let mut store = shopbot::store::Store::open(&server.db_path).unwrap();
    let csv = shopbot::orders::SAMPLE_ORDERS_CSV.as_bytes();
    shopbot::orders::import(&mut store, csv, &jiff::Zoned::now()).unwrap();
    drop(store);

    assert!(server
        .say(CUSTOMER, "1")
        .text()
        .starts_with("Please enter your order number"));
    let reply = server.say(CUSTOMER, "a1002").text();
    assert!(reply.starts_with("📦 Order A1002: Ready for collection"), "{reply}");
    assert!(reply.contains("Collect at the front desk"), "{reply}");
    let reply = server.say(CUSTOMER, "A1001").text();
    assert!(reply.contains("Order A1001: In production"), "{reply}");

    let stranger = "+27829999999";
    server.say(stranger, "1");
    let reply = server.say(stranger, "A1002").text();
    assert!(reply.starts_with("We couldn't find order A1002"), "{reply}");
    let reply = server.say(stranger, "Z999").text();
    assert!(reply.starts_with("We couldn't find order Z999"), "{reply}");
}

#[test]
fn defect_report_then_history_lists_it() {
    let server = TestServer::start();
    server.say(CUSTOMER, "hi");
    let reply = server.say(CUSTOMER, "2").text();
    assert!(reply.contains("1 Report a defect\n2 View defect history"), "{reply}");
    assert_eq!(server.say(CUSTOMER, "1").text(), "Please describe the defect:");
    let reply = server.say(CUSTOMER, "Screen is cracked").text();
    let id = reply
        .strip_prefix("✅ Defect Submitted! ID: ")
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("no confirmation in {reply:?}"))
        .to_string();
    assert!(id.starts_with("DEF-") && id.len() >= "DEF-20250119143022".len(), "{id}");
    assert!(id[4..18].chars().all(|c| c.is_ascii_digit()), "{id}");

    server.say(CUSTOMER, "2");
    let history = server.say(CUSTOMER, "2").text();
    assert!(history.contains(&id), "{history}");
    assert!(history.contains("Screen is cracked"), "{history}");
}

#[test]
fn customer_text_with_markup_and_emoji_round_trips_exactly() {
    let server = TestServer::start();
    let nasty = "Lid <b>bent</b> & hinge ]]> gone 🙂👍🏽🇿🇦 \"quoted\" 'single'";
    server.say(CUSTOMER, "2");
    server.say(CUSTOMER, "1");
    let confirmation = server.say(CUSTOMER, nasty);
    assert!(confirmation.body.contains("Defect Submitted"));
    server.say(CUSTOMER, "2");
    let history = server.say(CUSTOMER, "2");
    assert!(
        history.body.contains("&lt;b&gt;") && !history.body.contains("<b>"),
        "{}",
        history.body
    );
    assert!(history.text().contains(nasty), "{}", history.text());
}

#[test]
fn five_newest_reports_newest_first() {
    let server = TestServer::start();
    let mut ids = Vec::new();
    for i in 0..7 {
        server.say(CUSTOMER, "2");
        server.say(CUSTOMER, "1");
        let reply = server.say(CUSTOMER, &format!("defect number {i}")).text();
        ids.push(reply.lines().next().unwrap().rsplit(' ').next().unwrap().to_string());
    }
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 7, "IDs must be unique even within one second: {ids:?}");
    server.say(CUSTOMER, "2");
    let history = server.say(CUSTOMER, "2").text();
    let shown: Vec<&str> = ids.iter().rev().take(5).map(String::as_str).collect();
    // An ID is followed by ": status"; searching for that keeps DEF-…55 from matching DEF-…55-2.
    let at = |id: &str| history.find(&format!("{id}: "));
    let positions: Vec<usize> = shown.iter().map(|id| at(id).expect(id)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "not newest first: {history}");
    assert!(at(&ids[1]).is_none(), "more than five: {history}");
}

#[test]
fn schedule_and_help() {
    let server = TestServer::start();
    let schedule = server.say(CUSTOMER, "3").text();
    assert!(
        schedule.contains("Production schedule") && schedule.contains("Mon-Fri"),
        "{schedule}"
    );
    let help = server.say(CUSTOMER, "4").text();
    assert!(help.contains("A team member will reply"), "{help}");
}

#[test]
fn unknown_input_repeats_the_menu_with_a_hint() {
    let server = TestServer::start();
    server.say(CUSTOMER, "hi");
    server.say(CUSTOMER, "2");
    let reply = server.say(CUSTOMER, "what?").text();
    assert!(reply.starts_with("Sorry, I didn't understand that."), "{reply}");
    assert!(reply.contains("1 Report a defect"), "{reply}");
}

#[test]
fn menu_from_deep_inside_a_form_submits_nothing() {
    let server = TestServer::start();
    server.say(CUSTOMER, "2");
    server.say(CUSTOMER, "1");
    let reply = server.say(CUSTOMER, " MENU ").text();
    assert!(reply.starts_with("Welcome! Select 1-5"), "{reply}");
    server.say(CUSTOMER, "2");
    let history = server.say(CUSTOMER, "2").text();
    assert!(
        history.starts_with("You have not reported any defects yet."),
        "{history}"
    );
}

#[test]
fn customers_do_not_share_state() {
    let server = TestServer::start();
    server.say(CUSTOMER, "2");
    server.say(CUSTOMER, "1");
    let other = server.say("+27821112222", "1").text();
    assert!(other.starts_with("Please enter your order number"), "{other}");
    let mine = server.say(CUSTOMER, "My report").text();
    assert!(mine.starts_with("✅ Defect Submitted!"), "{mine}");
}
