//! Languages end to end (PRODUCT.md "Languages"): a menu file in English and
//! German, the customer's language by calling code, switch words (also inside
//! a form), a restart that keeps the pick, `ask_first`, and fallbacks.

use crate::support::{output_text, run_to_end, shopbot_command, TestServer};

/// A small menu in English and German; `extra` goes into `[languages]`.
fn menu(extra: &str) -> String {
    format!(
        r#"start = "main"
[languages]
default = "en"
offer = ["en", "de"]
by_country = {{ "49" = "de", "43" = "de" }}
switch_words = {{ de = ["deutsch"], en = ["english"] }}
{extra}

[nodes.main]
kind = "menu"
text = {{ en = "Welcome! Select 1-2", de = "Willkommen! Wählen Sie 1-2" }}
options = [
  {{ label = {{ en = "Report Defect", de = "Mangel melden" }}, goto = "report" }},
  {{ label = {{ en = "Opening hours", de = "Öffnungszeiten" }}, goto = "hours" }},
]

[nodes.report]
kind = "form"
prefix = "DEF"
confirmation = {{ en = "✅ Defect Submitted! ID: {{id}}", de = "✅ Mangel gemeldet! Nummer: {{id}}" }}
questions = [ {{ field = "description", ask = {{ en = "Please describe the defect:", de = "Bitte beschreiben Sie den Mangel:" }} }} ]

[nodes.hours]
kind = "info"
text = {{ en = "Mon-Fri 08:00-17:00" }}
"#
    )
}

fn server_with(menu_text: &str) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("menu.toml");
    std::fs::write(&path, menu_text).unwrap();
    let server = TestServer::start_with(&format!(
        "[menu]\npath = \"{}\"\n",
        path.display().to_string().replace('\\', "/")
    ));
    (server, dir)
}

#[test]
fn the_calling_code_decides_until_the_customer_picks() {
    let (server, _dir) = server_with(&menu(""));
    assert!(server
        .say("+4915112345678", "hi")
        .text()
        .starts_with("Willkommen! Wählen Sie 1-2\n1 Mangel melden"));
    assert!(server.say("+436641234567", "hi").text().starts_with("Willkommen!"));
    assert!(server
        .say("+27825550101", "hi")
        .text()
        .starts_with("Welcome! Select 1-2\n1 Report Defect"));
    // The built-in texts follow the language too.
    let unknown = server.say("+4915112345678", "xyz").text();
    assert!(
        unknown.starts_with("Entschuldigung, das habe ich nicht verstanden."),
        "{unknown}"
    );
}

#[test]
fn a_switch_word_switches_and_the_pick_survives_a_restart() {
    let (mut server, _dir) = server_with(&menu(""));
    let customer = "+27825550102";
    assert!(server.say(customer, "hi").text().starts_with("Welcome!"));
    assert!(server
        .say(customer, "Deutsch")
        .text()
        .starts_with("Willkommen! Wählen Sie 1-2"));
    server.restart();
    assert!(
        server.say(customer, "hi").text().starts_with("Willkommen!"),
        "German after a restart"
    );
    assert!(server.say(customer, "english").text().starts_with("Welcome!"));
}

#[test]
fn a_switch_word_inside_a_form_submits_nothing() {
    let (server, _dir) = server_with(&menu(""));
    let customer = "+27825550103";
    server.say(customer, "hi");
    assert_eq!(server.say(customer, "1").text(), "Please describe the defect:");
    let switched = server.say(customer, "deutsch").text();
    assert!(switched.starts_with("Willkommen!"), "{switched}");
    assert_eq!(server.say(customer, "1").text(), "Bitte beschreiben Sie den Mangel:");
    let done = server.say(customer, "Kratzer am Gehäuse").text();
    assert!(done.starts_with("✅ Mangel gemeldet! Nummer: DEF-"), "{done}");
    let (status, listed) = server.api_get("/api/submissions?form=report");
    assert_eq!(status, 200, "{listed}");
    let all = listed["submissions"]
        .as_array()
        .or(listed.as_array())
        .cloned()
        .unwrap_or_default();
    assert_eq!(all.len(), 1, "only the German report was submitted: {listed}");
}

#[test]
fn ask_first_shows_the_language_choice_before_the_start_node() {
    let (server, _dir) = server_with(&menu("ask_first = true"));
    let customer = "+4915112345679";
    let first = server.say(customer, "hi").text();
    assert!(
        first.starts_with("🌐 Please choose your language:\n🌐 Bitte wählen Sie Ihre Sprache:"),
        "{first}"
    );
    assert!(first.contains("\n1 English\n2 Deutsch"), "{first}");
    assert!(server.say(customer, "2").text().starts_with("Willkommen!"));
    assert!(
        server.say(customer, "hi").text().starts_with("Willkommen!"),
        "asked once"
    );
}

#[test]
fn a_missing_german_text_falls_back_to_english_and_check_names_it() {
    let (server, dir) = server_with(&menu(""));
    let customer = "+4915112345670";
    server.say(customer, "hi");
    let hours = server.say(customer, "2").text();
    assert!(hours.starts_with("Mon-Fri 08:00-17:00"), "the English text: {hours}");
    let config = server.config_path();
    let out = run_to_end(&mut shopbot_command(&["check", "--config", config.to_str().unwrap()]));
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("node `hours`: `text` has no \"de\" text; the \"en\" text is used"),
        "{text}"
    );
    drop(dir);
}

#[test]
fn a_default_language_missing_a_text_makes_check_fail() {
    let dir = tempfile::tempdir().unwrap();
    let broken = menu("").replace(
        r#"text = { en = "Mon-Fri 08:00-17:00" }"#,
        r#"text = { de = "Mo-Fr 08:00-17:00" }"#,
    );
    let (code, text) = crate::support::check_in(dir.path(), "", Some(&broken));
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("node `hours`: `text` has no \"en\" text, and \"en\" is the default language"),
        "{text}"
    );
}

#[test]
fn check_refuses_languages_that_do_not_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let broken = menu("")
        .replace(
            r#"by_country = { "49" = "de", "43" = "de" }"#,
            r#"by_country = { "49" = "fr" }"#,
        )
        .replace(
            r#"switch_words = { de = ["deutsch"], en = ["english"] }"#,
            r#"switch_words = { de = ["deutsch", "menu"] }"#,
        );
    let (code, text) = crate::support::check_in(dir.path(), "", Some(&broken));
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(r#"by_country "49" = "fr", which is not in offer"#),
        "{text}"
    );
}

#[test]
fn the_terminal_chat_takes_a_language() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let chat = |args: &[&str], input: &[u8]| {
        let mut child = crate::support::start_child(
            shopbot_command(&[&["chat", "--from", "+27820000009"], args].concat())
                .current_dir(dir.path())
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped()),
        );
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    };
    let german = chat(&["--language", "de"], b"hi\n");
    let text = output_text(&german);
    assert!(german.status.success(), "{text}");
    assert!(text.contains("bot> Willkommen! Wählen Sie 1-5"), "{text}");
    let english = chat(&[], b"english\n");
    assert!(output_text(&english).contains("bot> Welcome! Select 1-5"));
    let unknown = chat(&["--language", "fr"], b"hi\n");
    assert_eq!(unknown.status.code(), Some(1), "{}", output_text(&unknown));
    assert!(output_text(&unknown).contains("--language fr: the menu offers en, de"));
}

/// PRODUCT.md's "Languages" example, word for word: its `[nodes.main]` has no
/// `kind`.
const PRODUCT_EXAMPLE: &str = r#"[languages]                           # in the menu file
default = "en"
offer = ["en", "de"]                  # the languages a customer can pick
by_country = { "49" = "de", "43" = "de" }   # calling code → language, for one who never picked
switch_words = { de = ["deutsch"], en = ["english"] }   # at any time: switch, then the start node

[nodes.main]
text = { en = "Welcome! Select 1-5", de = "Willkommen! Wählen Sie 1-5" }
options = [ { label = { en = "Check Order Status", de = "Bestellstatus" }, goto = "orders" } ]
"#;

/// What the example needs besides itself to be a whole menu file.
const PRODUCT_EXAMPLE_REST: &str = r#"
[nodes.orders]
kind = "lookup"
prompt = { en = "Your order number?", de = "Ihre Bestellnummer?" }
found = "{number}: {status}"
not_found = { en = "No order {number}.", de = "Keine Bestellung {number}." }
"#;

#[test]
fn products_example_without_kind_is_a_menu() {
    let text = format!("start = \"main\"\n{PRODUCT_EXAMPLE}{PRODUCT_EXAMPLE_REST}");
    let (server, _dir) = server_with(&text);
    let german = server.say("+4915112345671", "hi").text();
    assert!(
        german.starts_with("Willkommen! Wählen Sie 1-5\n1 Bestellstatus"),
        "{german}"
    );
    assert!(server
        .say("+4915112345671", "1")
        .text()
        .starts_with("Ihre Bestellnummer?"));
    let english = server.say("+27825550109", "hi").text();
    assert!(
        english.starts_with("Welcome! Select 1-5\n1 Check Order Status"),
        "{english}"
    );
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = crate::support::check_in(dir.path(), "", Some(&text));
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn a_menu_in_one_language_may_leave_out_kind_too() {
    let text = "start = \"main\"\n[nodes.main]\ntext = \"Welcome! Select 1\"\n\
                options = [ { label = \"Hours\", goto = \"hours\" } ]\n\
                [nodes.hours]\nkind = \"info\"\ntext = \"Mon-Fri\"\n";
    let (server, _dir) = server_with(text);
    let reply = server.say("+27825550110", "hi").text();
    assert!(reply.starts_with("Welcome! Select 1\n1 Hours"), "{reply}");
}

#[test]
fn a_node_without_kind_or_options_is_refused_by_name_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    for text in [
        "start = \"main\"\n[nodes.main]\ntext = \"Hi\"\n".to_string(),
        "start = \"main\"\n[languages]\ndefault = \"en\"\noffer = [\"en\"]\n[nodes.main]\ntext = \"Hi\"\n".to_string(),
    ] {
        let (code, out) = crate::support::check_in(dir.path(), "", Some(&text));
        assert_eq!(code, Some(1), "{out}");
        assert!(
            out.contains("menu.toml: node `main`: has no `kind`: add a line like `kind = \"info\"` under [nodes.main]"),
            "{out}"
        );
    }
}

/// A form of one photo and the list of its submissions, in English and German.
const PHOTO_MENU: &str = r#"start = "main"
[languages]
default = "en"
offer = ["en", "de"]
by_country = { "49" = "de" }

[nodes.main]
text = { en = "Welcome!", de = "Willkommen!" }
options = [
  { label = { en = "Send a photo", de = "Foto senden" }, goto = "pics" },
  { label = { en = "My photos", de = "Meine Fotos" }, goto = "mine" },
]

[nodes.pics]
kind = "form"
prefix = "PIC"
confirmation = { en = "Got it: {id}", de = "Erhalten: {id}" }
questions = [ { field = "photo", ask = { en = "Your photo?", de = "Ihr Foto?" }, accept = "optional_photo" } ]

[nodes.mine]
kind = "list"
form = "pics"
title = { en = "Your {count}:", de = "Ihre {count}:" }
empty = { en = "None.", de = "Keine." }
"#;

/// A photo without a caption from `from`.
fn photo_from(server: &TestServer, from: &str) -> String {
    let mut params = crate::support::whatsapp_params(&crate::support::new_sid(), from, "");
    for (k, v) in params.iter_mut() {
        match k.as_str() {
            "NumMedia" => *v = "1".into(),
            "MessageType" => *v = "image".into(),
            _ => {}
        }
    }
    params.push(("MediaUrl0".into(), "https://api.twilio.com/media/ME1".into()));
    params.push(("MediaContentType0".into(), "image/jpeg".into()));
    server.post_signed("/twilio/inbound", &params).text()
}

#[test]
fn a_photo_only_report_reads_photo_in_the_customers_language() {
    let (server, _dir) = server_with(PHOTO_MENU);
    for (customer, hello, word) in [
        ("+4915112345672", "Erhalten", "(Foto)"),
        ("+27825550111", "Got it", "(photo)"),
    ] {
        server.say(customer, "hi");
        server.say(customer, "1");
        let confirmation = photo_from(&server, customer);
        assert!(confirmation.starts_with(hello), "{confirmation}");
        server.say(customer, "hi");
        let list = server.say(customer, "2").text();
        assert!(list.contains(&format!(")\n{word}")), "{list}");
    }
}

#[test]
fn check_names_the_default_language_whose_built_in_texts_an_unshipped_one_gets() {
    let dir = tempfile::tempdir().unwrap();
    let text = "start = \"main\"\n[languages]\ndefault = \"de\"\noffer = [\"de\", \"tr\"]\n\
                [nodes.main]\ntext = \"Hallo\"\noptions = [ { label = \"Zeiten\", goto = \"hours\" } ]\n\
                [nodes.hours]\nkind = \"info\"\ntext = \"Mo-Fr\"\n";
    let (code, out) = crate::support::check_in(dir.path(), "", Some(text));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("`unknown` has no \"tr\" text and shopbot ships none; the \"de\" text is used"),
        "{out}"
    );
    assert!(!out.contains("English"), "{out}");
}

#[test]
fn check_refuses_switch_words_that_a_menu_or_form_already_understands() {
    let dir = tempfile::tempdir().unwrap();
    let broken = menu("").replace(
        r#"switch_words = { de = ["deutsch"], en = ["english"] }"#,
        r#"switch_words = { de = ["deutsch", "1", "Cancel", "skip", "Mangel melden", "menu", "stop"], en = ["opening hours"] }"#,
    );
    let (code, text) = crate::support::check_in(dir.path(), "", Some(&broken));
    assert_eq!(code, Some(1), "{text}");
    for line in [
        r#""1" (for "de") in"#,
        r#"is also a number, which picks a menu option; use another word"#,
        r#""cancel" (for "de") in"#,
        r#"is also the word that cancels a form; use another word"#,
        r#""skip" (for "de") in"#,
        r#"is also the word that skips a photo question; use another word"#,
        r#""mangel melden" (for "de") in"#,
        r#"is also the label of option 1 of menu `main` ("de"); use another word"#,
        r#""opening hours" (for "en") in"#,
        r#"is also the label of option 2 of menu `main` ("en"); use another word"#,
        r#""menu" (for "de") in"#,
        r#"is also a main-menu word; use another word"#,
        r#""stop" (for "de") in"#,
        r#"is also an opt-out or opt-in keyword ([opt]); use another word"#,
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    assert!(!text.contains(r#""deutsch""#), "{text}");
}
