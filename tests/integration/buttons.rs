//! Buttons and lists end to end (PRODUCT.md "Buttons and lists"): a Meta
//! customer taps through the example menu (a list, then buttons, then the
//! form), through the real server and the Graph API mock; typing the number
//! or the label still works; a stale tap gets `unknown` and the menu again.

use serde_json::{json, Value};

use crate::graph_mock::{MockGraph, Recorded};
use crate::meta::{entry, meta_server, wait_texts, webhook};
use crate::support::TestServer;

/// A tap on a reply button (`button_reply`) or list row (`list_reply`).
fn tap(server: &TestServer, wamid: &str, from: &str, kind: &str, id: &str, title: &str) {
    let message = json!({
        "from": from.trim_start_matches('+'),
        "id": wamid,
        "timestamp": "1749416383",
        "type": "interactive",
        "interactive": {"type": kind, kind: {"id": id, "title": title}}
    });
    let answer = server.meta_post(&webhook(vec![entry(vec![], vec![message])]));
    assert_eq!(answer.status, 200, "{answer:?}");
}

/// The Graph calls that went to `to`.
fn sent_to(graph: &MockGraph, to: &str) -> Vec<Recorded> {
    let digits = to.trim_start_matches('+');
    graph
        .requests()
        .into_iter()
        .filter(|r| r.body["to"] == digits)
        .collect()
}

/// Waits for the `n`th message to `to` and returns it.
fn nth(graph: &MockGraph, to: &str, n: usize) -> Value {
    let texts = wait_texts(graph, to, n);
    assert!(texts.len() >= n, "expected {n} messages to {to}: {texts:?}");
    sent_to(graph, to)[n - 1].body.clone()
}

fn rows(list: &Value) -> Vec<(String, String)> {
    list["interactive"]["action"]["sections"][0]["rows"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["title"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn buttons(message: &Value) -> Vec<(String, String)> {
    message["interactive"]["action"]["buttons"]
        .as_array()
        .expect("buttons")
        .iter()
        .map(|b| {
            let reply = &b["reply"];
            (
                reply["id"].as_str().unwrap().to_string(),
                reply["title"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_meta_customer_taps_through_the_example_menu_list_buttons_form() {
    let (server, graph) = meta_server();
    let customer = "+27821239001";
    assert_eq!(server.meta_say("wamid.T0", customer, "hi").status, 200);
    let main = nth(&graph, customer, 1);
    assert_eq!(main["type"], "interactive");
    assert_eq!(main["interactive"]["type"], "list");
    assert_eq!(main["interactive"]["action"]["button"], "Choose");
    assert!(main["interactive"]["body"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Welcome!"));
    let main_rows = rows(&main);
    assert_eq!(main_rows.len(), 5, "{main_rows:?}");
    assert!(main_rows.iter().all(|(_, title)| title.chars().count() <= 24));
    let (defects_id, defects_title) = main_rows[1].clone();
    assert_eq!(defects_title, "Report Defect");

    tap(&server, "wamid.T1", customer, "list_reply", &defects_id, &defects_title);
    let defects = nth(&graph, customer, 2);
    assert_eq!(defects["interactive"]["type"], "button", "{defects}");
    assert!(defects["interactive"]["body"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Defects: select 1-2"));
    assert!(
        defects["interactive"]["footer"]["text"].is_string(),
        "the way back: {defects}"
    );
    let defect_buttons = buttons(&defects);
    assert_eq!(defect_buttons.len(), 2);
    assert!(defect_buttons.iter().all(|(_, title)| title.chars().count() <= 20));

    let (report_id, report_title) = defect_buttons[0].clone();
    tap(&server, "wamid.T2", customer, "button_reply", &report_id, &report_title);
    let ask = nth(&graph, customer, 3);
    assert_eq!(ask["text"]["body"], "Please describe the defect:");

    assert_eq!(server.meta_say("wamid.T3", customer, "Screen is cracked").status, 200);
    let done = nth(&graph, customer, 4);
    assert!(
        done["text"]["body"]
            .as_str()
            .unwrap()
            .contains("✅ Defect Submitted! ID: DEF-"),
        "{done}"
    );
    let (_, stored) = server.api_get("/api/messages/wamid.T1");
    assert_eq!(stored["body"], "Report Defect", "a tap is stored as its title");
}

#[test]
fn typing_the_number_or_the_label_does_what_the_tap_does() {
    let (server, graph) = meta_server();
    let [by_tap, by_number, by_label] = ["+27821239002", "+27821239003", "+27821239004"];
    for (i, customer) in [by_tap, by_number, by_label].iter().enumerate() {
        assert_eq!(server.meta_say(&format!("wamid.H{i}"), customer, "hi").status, 200);
    }
    let main = nth(&graph, by_tap, 1);
    let (id, title) = rows(&main)[1].clone();
    tap(&server, "wamid.X1", by_tap, "list_reply", &id, &title);
    assert_eq!(server.meta_say("wamid.X2", by_number, "2").status, 200);
    assert_eq!(server.meta_say("wamid.X3", by_label, "  report DEFECT ").status, 200);
    let replies: Vec<Value> = [by_tap, by_number, by_label]
        .iter()
        .map(|c| {
            let mut body = nth(&graph, c, 2);
            body["to"] = Value::Null;
            body
        })
        .collect();
    assert_eq!(replies[0]["interactive"]["type"], "button");
    assert_eq!(replies[0], replies[1]);
    assert_eq!(replies[0], replies[2]);
}

#[test]
fn a_tap_on_an_earlier_menu_works_and_a_stale_one_gets_unknown_and_the_menu_again() {
    let (server, graph) = meta_server();
    let customer = "+27821239005";
    assert_eq!(server.meta_say("wamid.E0", customer, "hi").status, 200);
    let main_rows = rows(&nth(&graph, customer, 1));
    assert_eq!(server.meta_say("wamid.E1", customer, "2").status, 200);
    nth(&graph, customer, 2);
    // At the defects menu, the main menu's first row (order status) still works.
    let (order_id, order_title) = main_rows[0].clone();
    tap(&server, "wamid.E2", customer, "list_reply", &order_id, &order_title);
    let asked = nth(&graph, customer, 3);
    assert!(
        asked["text"]["body"].as_str().unwrap().to_lowercase().contains("order"),
        "{asked}"
    );
    // A made-up id: `unknown`, then the menu the customer is at.
    assert_eq!(server.meta_say("wamid.E3", customer, "0").status, 200);
    nth(&graph, customer, 4);
    tap(
        &server,
        "wamid.E4",
        customer,
        "button_reply",
        "main:no-such-node",
        "Gone",
    );
    let unknown = nth(&graph, customer, 5);
    assert!(unknown["text"]["body"].is_string(), "unknown first, as text: {unknown}");
    let again = nth(&graph, customer, 6);
    assert_eq!(again["interactive"]["type"], "list", "then the menu again: {again}");
}

#[test]
fn check_names_per_channel_every_label_that_will_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let nine: Vec<String> = (1..=9)
        .map(|n| format!("{{ label = \"Option {n} of a long list here\", goto = \"main\" }}"))
        .collect();
    let menu = format!(
        r#"start = "main"
[nodes.main]
kind = "menu"
text = "Welcome"
options = [
  {{ label = "Talk to somebody in the shop please", goto = "big" }},
  {{ label = "A label that has its own short one", short = "Short one", goto = "big" }},
]
[nodes.big]
kind = "menu"
text = "Many"
options = [{}]
"#,
        nine.join(", ")
    );
    std::fs::write(dir.path().join("menu.toml"), menu).unwrap();
    let extra = format!(
        "{}\n[menu]\npath = \"{}\"\n",
        crate::meta::meta_config("https://graph.facebook.com"),
        dir.path().join("menu.toml").display().to_string().replace('\\', "/")
    );
    let config = dir.path().join("config.toml");
    std::fs::write(&config, crate::support::config_text(&dir.path().join("s.db"), &extra)).unwrap();
    let out = crate::support::run_to_end(&mut crate::support::shopbot_command(&[
        "check",
        "--config",
        config.to_str().unwrap(),
    ]));
    let text = crate::support::output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("meta: menu `main`: option \"Talk to somebody in the shop please\" is 35 characters, over the button limit of 20"),
        "{text}"
    );
    assert!(!text.contains("A label that has its own short one"), "{text}");
    assert!(
        text.contains(
            "meta: menu `big`: option \"Option 9 of a long list here\" is 28 characters, over the list row limit of 24"
        ),
        "{text}"
    );
    assert!(
        !text.contains("twilio: menu"),
        "Twilio shows numbered text by default: {text}"
    );
}
