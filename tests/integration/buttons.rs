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

/// A Meta test server on the menu file `menu` (kept in the returned folder).
fn meta_server_with_menu(menu: &str) -> (TestServer, MockGraph, tempfile::TempDir) {
    let graph = MockGraph::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("menu.toml");
    std::fs::write(&path, menu).unwrap();
    let server = TestServer::start_with(&format!(
        "{}\n[menu]\npath = \"{}\"\n",
        crate::meta::meta_config(&graph.url),
        path.display().to_string().replace('\\', "/")
    ));
    (server, graph, dir)
}

#[test]
fn two_options_to_the_same_node_are_buttons_with_different_ids_and_each_works() {
    let (server, graph, _dir) = meta_server_with_menu(
        r#"start = "main"
[nodes.main]
kind = "menu"
text = "Hello"
options = [
  { label = "Opening hours", goto = "info" },
  { label = "Address", goto = "info" },
]
[nodes.info]
kind = "info"
text = "Mon-Fri 8-5, 1 Main Road."
"#,
    );
    let customer = "+27821239006";
    assert_eq!(server.meta_say("wamid.D0", customer, "hi").status, 200);
    let menu = buttons(&nth(&graph, customer, 1));
    let ids: Vec<&str> = menu.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["main:info", "main:info#2"], "ids unique in the message");
    tap(&server, "wamid.D1", customer, "button_reply", &menu[1].0, &menu[1].1);
    let info = nth(&graph, customer, 2);
    assert!(
        info["text"]["body"].as_str().unwrap().starts_with("Mon-Fri 8-5"),
        "{info}"
    );
}

/// A menu node takes at most 9 options (the menu file refuses more), so the
/// choice with more than 10 is the language choice of a menu offering 11
/// languages with `ask_first`.
#[test]
fn a_choice_of_more_than_ten_options_goes_to_a_meta_customer_as_numbered_text() {
    let eleven = r#"offer = ["en", "de", "af", "nl", "fr", "es", "pt", "it", "tr", "pl", "zu"]"#;
    let menu = include_str!("../../src/engine/default_menu.toml")
        .replace(r#"offer = ["en", "de"]"#, eleven)
        .replace("# ask_first = true", "ask_first = true");
    assert!(menu.contains(eleven) && menu.contains("\nask_first = true"));
    let (server, graph, _dir) = meta_server_with_menu(&menu);
    let customer = "+27821239007";
    assert_eq!(server.meta_say("wamid.L0", customer, "hi").status, 200);
    let choice = nth(&graph, customer, 1);
    assert_eq!(choice["type"], "text", "not a list: {choice}");
    assert!(choice.get("interactive").is_none(), "{choice}");
    let body = choice["text"]["body"].as_str().unwrap();
    assert!(
        body.contains("\n1 English\n2 Deutsch\n") && body.ends_with("\n10 Polski\n11 isiZulu"),
        "{body}"
    );
    // Typing a number still chooses; the main menu (5 options) is a list again.
    assert_eq!(server.meta_say("wamid.L1", customer, "11").status, 200);
    let main = nth(&graph, customer, 2);
    assert_eq!(main["interactive"]["type"], "list", "{main}");
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
    let meta = crate::meta::meta_config("https://graph.facebook.com");
    let (code, text) = crate::support::check_in(dir.path(), &meta, Some(&menu));
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(
            "meta: menu `main`: option \"Talk to somebody in the shop please\" is 35 characters, over the button limit of 20, \
             and has no short label that fits: it shows as \"Talk to somebody…\"; add short = \"…\" to the option\n"
        ),
        "the whole sentence: {text}"
    );
    assert!(!text.contains("A label that has its own short one"), "{text}");
    assert!(
        text.contains(
            "meta: menu `big`: option \"Option 9 of a long list here\" is 28 characters, over the list row limit of 24, \
             and has no short label that fits: it shows as \"Option 9 of a long…\"; add short = \"…\" to the option\n"
        ),
        "{text}"
    );
    assert!(
        !text.contains("twilio: menu"),
        "Twilio shows numbered text by default: {text}"
    );
}

#[test]
fn check_warns_of_cut_tap_ids_a_dropped_way_back_and_titles_shown_twice() {
    let dir = tempfile::tempdir().unwrap();
    let long = "n".repeat(255);
    let menu = format!(
        r#"start = "main"
[texts]
back = "0 Back to the main menu of our shop, where everything started"
[nodes.main]
kind = "menu"
text = "Welcome"
options = [{{ label = "More", goto = "sub" }}, {{ label = "Long", goto = "{long}" }}]
[nodes.sub]
kind = "menu"
text = "Which?"
options = [
  {{ label = "Opening hours today and tomorrow", goto = "main" }},
  {{ label = "Opening hours today and on Sunday", goto = "main" }},
  {{ label = "Long", goto = "{long}" }},
  {{ label = "Back", goto = "main" }},
]
[nodes.{long}]
kind = "info"
text = "Long."
"#
    );
    let meta = crate::meta::meta_config("https://graph.facebook.com");
    let (code, text) = crate::support::check_in(dir.path(), &meta, Some(&menu));
    assert_eq!(code, Some(0), "{text}");
    for expected in [
        "meta: menu `main`: option \"Long\" has a tap id of 260 characters (the names of the menu and the node it leads to), \
         over the button id limit of 256: a tap on it would come back cut and not be understood; give the nodes shorter names\n",
        "meta: menu `sub`: option \"Long\" has a tap id of 259 characters (the names of the menu and the node it leads to), \
         over the list row id limit of 200: a tap on it would come back cut and not be understood; give the nodes shorter names\n",
        "meta: menu `sub`: its way back \"0 Back to the main menu of our shop, where everything started\" is 61 characters, \
         over the footer limit of 60: it is not shown under the menu; shorten [texts] back\n",
        "meta: menu `sub`: options \"Opening hours today and tomorrow\" and \"Opening hours today and on Sunday\" \
         both show as \"Opening hours today…\": buttons or rows with the same title are refused; give one a short label\n",
    ] {
        assert!(text.contains(expected), "expected {expected:?} in:\n{text}");
    }
    assert!(
        !text.contains("menu `main`: its way back"),
        "the start menu has no way back: {text}"
    );
}

/// The README's routes table names only demo routes the demo serves (it
/// listed `GET /demo/replies/{MessageSid}` after that route was removed).
#[test]
fn every_demo_route_the_readme_lists_is_served() {
    let demo = crate::support::DemoServer::start(false);
    let agent = crate::support::agent(std::time::Duration::from_secs(20));
    let routes: Vec<String> = include_str!("../../README.md")
        .lines()
        .filter_map(|line| line.strip_prefix("| `GET /demo"))
        .filter_map(|rest| rest.split_once('`').map(|(path, _)| format!("/demo{path}")))
        .collect();
    assert!(routes.contains(&"/demo".to_string()), "{routes:?}");
    for route in routes {
        let url = format!("{}{}", demo.base, route.replace("{MessageSid}", "SM0123"));
        let status = agent.get(&url).call().unwrap().status().as_u16();
        assert_ne!(status, 404, "README lists {route}, which the demo does not serve");
    }
}

mod twilio_content {
    //! `[twilio] interactive = "content"`: menus as Content API templates
    //! sent by REST, against the recording Twilio mock (Messages and Content).

    use std::time::Duration;

    use crate::support::{new_sid, whatsapp_params, TestServer};
    use crate::twilio_mock::{MockTwilio, Recorded};

    fn content_server(mock: &MockTwilio) -> TestServer {
        TestServer::start_with(&format!(
            "api_base_url = \"{0}\"\ninteractive = \"content\"\ncontent_base_url = \"{0}\"\n[outbox]\nretry_after_seconds = 0.05\n",
            mock.url
        ))
    }

    fn templates(requests: &[Recorded]) -> Vec<&Recorded> {
        requests.iter().filter(|r| r.path == "/v1/Content").collect()
    }

    fn messages_to<'a>(requests: &'a [Recorded], to: &str) -> Vec<&'a Recorded> {
        let to = format!("whatsapp:{to}");
        requests
            .iter()
            .filter(|r| r.path.ends_with("/Messages.json") && r.get("To") == Some(to.as_str()))
            .collect()
    }

    /// Waits until `to` got `n` messages by REST.
    fn wait_messages(mock: &MockTwilio, to: &str, n: usize) -> Vec<Recorded> {
        let started = std::time::Instant::now();
        loop {
            let requests = mock.requests();
            let sent: Vec<Recorded> = messages_to(&requests, to).into_iter().cloned().collect();
            if sent.len() >= n || started.elapsed() > Duration::from_secs(20) {
                assert!(sent.len() >= n, "expected {n} messages to {to}: {requests:#?}");
                return sent;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn tap(server: &TestServer, from: &str, id: &str, title: &str) -> crate::support::Reply {
        let mut params = whatsapp_params(&new_sid(), from, title);
        params.retain(|(k, _)| k != "MessageType");
        params.push(("MessageType".into(), "button".into()));
        params.push(("ButtonText".into(), title.into()));
        params.push(("ButtonPayload".into(), id.into()));
        server.post_signed("/twilio/inbound", &params)
    }

    #[test]
    fn a_menu_goes_as_a_list_picker_by_rest_made_once_and_reused() {
        let mock = MockTwilio::start();
        let server = content_server(&mock);
        let first = server.say("+27825551001", "hi");
        assert!(first.messages().is_empty(), "an empty <Response/>: {}", first.body);
        let sent = wait_messages(&mock, "+27825551001", 1);
        let requests = mock.requests();
        let made = templates(&requests);
        assert_eq!(made.len(), 1, "{requests:#?}");
        let picker = &made[0].json["types"]["twilio/list-picker"];
        assert_eq!(picker["items"].as_array().unwrap().len(), 5, "{}", made[0].json);
        assert_eq!(picker["button"], "Choose");
        assert!(made[0].json["types"]["twilio/text"]["body"]
            .as_str()
            .unwrap()
            .contains("\n1 Check Order Status"));
        let sid = sent[0].get("ContentSid").expect("sent by its template").to_string();
        assert!(sid.starts_with("HX") && sent[0].get("Body").is_none(), "{:?}", sent[0]);

        let second = server.say("+27825551002", "hi");
        assert!(second.messages().is_empty());
        let sent = wait_messages(&mock, "+27825551002", 1);
        assert_eq!(sent[0].get("ContentSid"), Some(sid.as_str()), "the cached template");
        assert_eq!(templates(&mock.requests()).len(), 1, "one creation in all");
    }

    /// A `[menu]` table naming the example menu with `+49` numbers in German,
    /// written into `dir`.
    fn german_by_country_menu(dir: &std::path::Path) -> String {
        let text = include_str!("../../src/engine/default_menu.toml")
            .replace("by_country = {}", "by_country = { \"49\" = \"de\" }");
        let path = dir.join("menu.toml");
        std::fs::write(&path, text).unwrap();
        format!("[menu]\npath = \"{}\"\n", path.display().to_string().replace('\\', "/"))
    }

    #[test]
    fn each_language_gets_its_own_template_made_in_that_language_and_reused() {
        let mock = MockTwilio::start();
        let dir = tempfile::tempdir().unwrap();
        let server = TestServer::start_with(&format!(
            "api_base_url = \"{0}\"\ninteractive = \"content\"\ncontent_base_url = \"{0}\"\n{1}",
            mock.url,
            german_by_country_menu(dir.path())
        ));
        let (english, german, switched) = ("+27825551011", "+4915112345011", "+27825551012");
        server.say(english, "hi");
        wait_messages(&mock, english, 1);
        server.say(german, "hi");
        let german_sent = wait_messages(&mock, german, 1);
        let requests = mock.requests();
        let made = templates(&requests);
        assert_eq!(made.len(), 2, "one template per language: {requests:#?}");
        let languages: Vec<&str> = made.iter().map(|r| r.json["language"].as_str().unwrap()).collect();
        assert_eq!(languages, ["en", "de"], "{made:#?}");
        let de = &made[1].json;
        assert!(
            de["friendly_name"].as_str().unwrap().starts_with("shopbot_main_de_"),
            "{de}"
        );
        assert!(de.to_string().contains(r#""language":"de""#), "{de}");
        assert!(de["types"]["twilio/list-picker"]["body"]
            .as_str()
            .unwrap()
            .starts_with("Willkommen!"));

        // One who typed the switch word gets the German template already made.
        server.say(switched, "deutsch");
        let sent = wait_messages(&mock, switched, 1);
        assert_eq!(sent[0].get("ContentSid"), german_sent[0].get("ContentSid"));
        assert_eq!(templates(&mock.requests()).len(), 2, "the German template is reused");
    }

    #[test]
    fn a_tap_by_button_payload_chooses_and_the_texts_stay_inline() {
        let mock = MockTwilio::start();
        let server = content_server(&mock);
        let customer = "+27825551003";
        server.say(customer, "hi");
        wait_messages(&mock, customer, 1);
        let picker = templates(&mock.requests())[0].json["types"]["twilio/list-picker"].clone();
        let defects = &picker["items"][1];
        let tapped = tap(
            &server,
            customer,
            defects["id"].as_str().unwrap(),
            defects["item"].as_str().unwrap(),
        );
        assert!(tapped.messages().is_empty(), "{}", tapped.body);
        let sent = wait_messages(&mock, customer, 2);
        let requests = mock.requests();
        let made = templates(&requests);
        assert_eq!(made.len(), 2);
        let quick = &made[1].json["types"]["twilio/quick-reply"];
        assert_eq!(quick["actions"].as_array().unwrap().len(), 2, "{}", made[1].json);
        assert!(sent[1].get("ContentSid").is_some());
        // A reply without a menu stays inline TwiML.
        let report = quick["actions"][0]["id"].as_str().unwrap();
        let asked = tap(&server, customer, report, "Report a defect");
        assert_eq!(asked.messages(), ["Please describe the defect:"]);
    }

    /// A list-picker reply: `ListId`, `ListTitle`, and the title as `Body`
    /// (no `ButtonPayload`).
    fn tap_list(server: &TestServer, from: &str, item: &serde_json::Value) -> crate::support::Reply {
        let title = item["item"].as_str().unwrap();
        let mut params = whatsapp_params(&new_sid(), from, title);
        params.retain(|(k, _)| k != "MessageType");
        params.push(("MessageType".into(), "interactive".into()));
        params.push(("ListId".into(), item["id"].as_str().unwrap().into()));
        params.push(("ListTitle".into(), title.into()));
        server.post_signed("/twilio/inbound", &params)
    }

    #[test]
    fn a_tap_by_list_id_chooses_also_on_an_earlier_list() {
        let mock = MockTwilio::start();
        let server = content_server(&mock);
        let customer = "+27825551013";
        server.say(customer, "hi");
        wait_messages(&mock, customer, 1);
        let picker = templates(&mock.requests())[0].json["types"]["twilio/list-picker"].clone();
        let tapped = tap_list(&server, customer, &picker["items"][1]);
        assert!(tapped.messages().is_empty(), "{}", tapped.body);
        let sent = wait_messages(&mock, customer, 2);
        let made = templates(&mock.requests()).len();
        assert_eq!(made, 2, "the defects menu's template");
        assert!(sent[1].get("ContentSid").is_some());
        // At the defects menu, the main list's first item: its title typed
        // there would not be understood, its ListId is.
        let order = tap_list(&server, customer, &picker["items"][0]);
        assert_eq!(
            order.messages(),
            ["Please enter your order number (for example A1001):"]
        );
    }

    #[test]
    fn a_replayed_message_sid_answers_an_empty_response_and_queues_nothing_again() {
        let mock = MockTwilio::start();
        let server = content_server(&mock);
        let customer = "+27825551014";
        let params = whatsapp_params(&new_sid(), customer, "hi");
        let first = server.post_signed("/twilio/inbound", &params);
        assert_eq!(first.status, 200);
        assert!(first.messages().is_empty(), "{}", first.body);
        wait_messages(&mock, customer, 1);
        let again = server.post_signed("/twilio/inbound", &params);
        assert_eq!(again.status, 200);
        assert_eq!(again.body, first.body, "the same empty <Response/>");
        assert!(again.body.contains("<Response/>"), "{}", again.body);
        // Give a wrongly queued second menu time to go out.
        std::thread::sleep(Duration::from_millis(500));
        let requests = mock.requests();
        assert_eq!(messages_to(&requests, customer).len(), 1, "{requests:#?}");
        assert_eq!(templates(&requests).len(), 1);
    }

    #[test]
    fn a_restart_keeps_the_templates_and_a_changed_label_makes_a_new_one() {
        let mock = MockTwilio::start();
        let mut server = content_server(&mock);
        server.say("+27825551004", "hi");
        wait_messages(&mock, "+27825551004", 1);
        server.restart();
        server.say("+27825551005", "hi");
        wait_messages(&mock, "+27825551005", 1);
        assert_eq!(templates(&mock.requests()).len(), 1, "kept across the restart");

        // The example menu with one label changed.
        let dir = tempfile::tempdir().unwrap();
        let text =
            include_str!("../../src/engine/default_menu.toml").replace("Check Order Status", "Where is my order?");
        let path = dir.path().join("menu.toml");
        std::fs::write(&path, text).unwrap();
        let menu_line = format!("[menu]\npath = \"{}\"\n", path.display().to_string().replace('\\', "/"));
        server.restart_edited(|config| format!("{config}\n{menu_line}"));
        server.say("+27825551006", "hi");
        let sent = wait_messages(&mock, "+27825551006", 1);
        let requests = mock.requests();
        let made = templates(&requests);
        assert_eq!(made.len(), 2, "a new template for the changed label");
        assert_eq!(
            made[1].json["types"]["twilio/list-picker"]["items"][0]["item"],
            "Where is my order?"
        );
        assert_ne!(
            sent[0].get("ContentSid"),
            messages_to(&requests, "+27825551005")[0].get("ContentSid")
        );
    }

    #[test]
    fn a_content_api_failure_sends_the_numbered_menu_never_silence() {
        let mock = MockTwilio::start();
        let server = content_server(&mock);
        mock.then(500, r#"{"code":20500,"message":"Internal Server Error","status":500}"#);
        let first = server.say("+27825551007", "hi");
        assert!(first.messages().is_empty());
        let sent = wait_messages(&mock, "+27825551007", 1);
        let body = sent[0].get("Body").expect("the numbered text");
        assert!(
            body.starts_with("Welcome!") && body.contains("\n2 Report Defect"),
            "{body}"
        );
        assert!(sent[0].get("ContentSid").is_none());
    }

    #[test]
    fn with_interactive_off_a_menu_is_inline_and_no_rest_call_is_made() {
        let mock = MockTwilio::start();
        let server = TestServer::start_with(&format!("api_base_url = \"{}\"\n", mock.url));
        let reply = server.say("+27825551008", "hi");
        assert!(reply.text().contains("\n1 Check Order Status"), "{}", reply.body);
        std::thread::sleep(Duration::from_millis(300));
        assert!(mock.requests().is_empty(), "{:#?}", mock.requests());
    }
}

/// `interactive = "content"` sends menus by REST: without credentials or a
/// sender they could never go, so the config is refused (never silence).
#[test]
fn content_menus_without_rest_credentials_or_a_sender_are_a_config_problem() {
    let cases = [
        (
            "account_sid = \"AC00000000000000000000000000000000\"\n",
            "[twilio] account_sid is not set",
        ),
        (
            "whatsapp_from = \"whatsapp:+14155238886\"\n",
            "neither [twilio] whatsapp_from nor messaging_service_sid is set",
        ),
    ];
    for (line, why) in cases {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        let text = crate::support::config_text(&dir.path().join("s.db"), "interactive = \"content\"\n");
        assert!(text.contains(line));
        std::fs::write(&config, text.replace(line, "")).unwrap();
        let out = crate::support::run_to_end(&mut crate::support::shopbot_command(&[
            "check",
            "--config",
            config.to_str().unwrap(),
        ]));
        let said = crate::support::output_text(&out);
        assert_ne!(out.status.code(), Some(0), "{said}");
        let expected = format!(
            "[twilio] interactive: is \"content\", which sends menus by Twilio's REST API, but {why}: \
             set what is missing (README \"Sending messages\"), or set interactive = \"off\" for numbered text menus"
        );
        assert!(said.contains(&expected), "{said}");
    }
}

#[test]
fn check_says_whether_the_content_api_answers() {
    let mock = crate::twilio_mock::MockTwilio::start();
    let run = |content_url: &str| {
        let dir = tempfile::tempdir().unwrap();
        let extra = format!("interactive = \"content\"\ncontent_base_url = \"{content_url}\"\n");
        crate::support::check_in(dir.path(), &extra, None).1
    };
    mock.then(200, r#"{"contents": [], "meta": {}}"#);
    let answers = run(&mock.url);
    assert!(
        answers.contains("twilio menus     tappable: the Content API at"),
        "{answers}"
    );
    assert_eq!(mock.requests()[0].method, "GET");
    let silent = run("http://127.0.0.1:9");
    assert!(silent.contains("does not answer"), "{silent}");
}
