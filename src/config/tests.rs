//! Config parsing and the messages an operator reads.

use super::*;

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml(text, Path::new("/etc/shopbot/config.toml"), &no_env)
}

const MINIMAL: &str = r#"
[server]
listen = "127.0.0.1:9000"
public_base_url = "https://bot.example.com/"
[database]
path = "shopbot.db"
[twilio]
auth_token = "secret-token"
"#;

#[test]
fn a_minimal_file_loads_with_defaults() {
    let c = parse(MINIMAL).unwrap();
    assert_eq!(c.server.listen.port(), 9000);
    assert_eq!(c.server.public_base_url.as_deref(), Some("https://bot.example.com"));
    assert_eq!(c.database_path, PathBuf::from("/etc/shopbot/shopbot.db"));
    assert_eq!(c.webhooks.inbound_path, "/twilio/inbound");
    assert!(c.webhooks.validate_signatures);
    assert_eq!(c.opt.stop_keywords[0], "stop");
    assert_eq!(c.twilio.auth_token.as_ref().map(Secret::expose), Some("secret-token"));
    assert_eq!(format!("{:?}", c.twilio.auth_token), "Some(Secret(***))");
}

#[test]
fn the_environment_wins_for_secrets() {
    let env = |name: &str| match name {
        "TWILIO_AUTH_TOKEN" => Some("from-env".to_string()),
        "SHOPBOT_ADMIN_TOKEN" => Some("admin-env".to_string()),
        _ => None,
    };
    let c = Config::from_toml(MINIMAL, Path::new("c.toml"), &env).unwrap();
    assert_eq!(c.twilio.auth_token.unwrap().expose(), "from-env");
    assert_eq!(c.admin_token.unwrap().expose(), "admin-env");
}

#[test]
fn an_unknown_key_is_named() {
    let err = parse(&MINIMAL.replace("listen =", "lisen =")).unwrap_err().to_string();
    assert!(err.starts_with("/etc/shopbot/config.toml:"), "{err}");
    assert!(err.contains("lisen"), "{err}");
}

#[test]
fn a_missing_auth_token_names_the_key_and_the_env_var() {
    let err = parse(&MINIMAL.replace("auth_token = \"secret-token\"", ""))
        .unwrap_err()
        .to_string();
    assert!(err.contains("[twilio] auth_token"), "{err}");
    assert!(err.contains("TWILIO_AUTH_TOKEN"), "{err}");
}

#[test]
fn no_auth_token_is_fine_when_signatures_are_off() {
    let text = MINIMAL.replace("auth_token = \"secret-token\"", "") + "[webhooks]\nvalidate_signatures = false\n";
    assert!(parse(&text).is_ok());
}

#[test]
fn every_bad_value_is_reported_at_once() {
    let text = MINIMAL
        .replace("127.0.0.1:9000", "localhost")
        .replace("https://bot.example.com/", "bot.example.com")
        + "[shop]\ntimezone = \"Mars/Olympus\"\n";
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.contains("[server] listen: \"localhost\" is not an address and port"),
        "{err}"
    );
    assert!(err.contains("[server] public_base_url"), "{err}");
    assert!(err.contains("[shop] timezone: \"Mars/Olympus\""), "{err}");
    assert_eq!(err.lines().count(), 3, "{err}");
}

#[test]
fn the_example_config_in_the_repository_is_valid() {
    let text = include_str!("../../config.example.toml");
    let env = |name: &str| (name == "TWILIO_AUTH_TOKEN").then(|| "x".to_string());
    let c = Config::from_toml(text, Path::new("config.example.toml"), &env).unwrap();
    assert_eq!(c.shop.timezone_name, "Africa/Johannesburg");
    assert!(c.meta.is_none(), "the Meta section ships commented out");
}

#[test]
fn the_example_meta_section_is_valid_once_uncommented() {
    let text = include_str!("../../config.example.toml");
    let start = 1 + text.find("\n# [meta]\n").expect("the commented [meta] section");
    let end = start + text[start..].find("graph_base_url").expect("its last key");
    let end = end + text[end..].find('\n').unwrap();
    let uncommented = text[start..end]
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            // As the README advises: the secrets stay in the environment.
            Some(rest)
                if rest.starts_with('[')
                    || (rest.contains(" = ") && !rest.contains("secret") && !rest.contains("token")) =>
            {
                rest
            }
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let text = format!("{}{uncommented}{}", &text[..start], &text[end..]);
    let no_secrets = |name: &str| (name == "TWILIO_AUTH_TOKEN").then(|| "x".to_string());
    let err = Config::from_toml(&text, Path::new("c.toml"), &no_secrets)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[meta] app_secret") && err.contains("[meta] verify_token"),
        "{err}"
    );
    let env = |name: &str| match name {
        "TWILIO_AUTH_TOKEN" | "META_APP_SECRET" | "META_VERIFY_TOKEN" | "META_ACCESS_TOKEN" => Some("x".to_string()),
        _ => None,
    };
    let c = Config::from_toml(&text, Path::new("c.toml"), &env).unwrap();
    let meta = c.meta.clone().expect("[meta] is read");
    assert_eq!(
        (meta.phone_number_id.as_str(), meta.api_version.as_str()),
        ("123456789012345", "v25.0")
    );
    assert_eq!(c.meta.as_ref().unwrap().phone_number_id, "123456789012345");
}

#[test]
fn server_limits_have_defaults_and_can_be_set() {
    let c = parse(MINIMAL).unwrap();
    assert_eq!(c.server.max_connections, 1024);
    assert_eq!(c.server.request_timeout, Duration::from_secs(10));
    let c = parse(&MINIMAL.replace(
        "[database]",
        "max_connections = 50\nrequest_timeout_secs = 2\n[database]",
    ))
    .unwrap();
    assert_eq!(c.server.max_connections, 50);
    assert_eq!(c.server.request_timeout, Duration::from_secs(2));
}

#[test]
fn server_limits_out_of_range_name_the_key_and_the_range() {
    let text = MINIMAL.replace(
        "[database]",
        "max_connections = 0\nrequest_timeout_secs = 3600\n[database]",
    );
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.contains("[server] max_connections: 0 must be between 1 and 100000"),
        "{err}"
    );
    assert!(
        err.contains("[server] request_timeout_secs: 3600 must be between 1 and 600"),
        "{err}"
    );
}

#[test]
fn a_main_menu_word_that_is_also_an_opt_keyword_is_refused() {
    let text = format!("{MINIMAL}[opt]\nstop_keywords = [\"stop\", \"menu\"]\nstart_keywords = [\"start\", \"hi\"]\n");
    let err = match parse(&text) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("refused"),
    };
    assert!(
        err.contains("\"menu\" in the main_menu_words of built-in example menu is also an opt-out keyword"),
        "{err}"
    );
    assert!(err.contains("\"hi\" in the main_menu_words"), "{err}");
    assert!(err.contains("an opt-in keyword"), "{err}");
}

#[test]
fn template_settings_take_one_value_or_a_table_by_language() {
    let sid = |n: u8| format!("HX{}{n:02}", "0".repeat(30));
    let c = parse(&format!(
        "{MINIMAL}[staff]\nnumbers = [\"+27821234567\"]\nalert_content_sid = {{ en = \"{}\", de = \"{}\" }}\nalert_template = \"staff_alert\"\nalert_language = \"en\"\n",
        sid(1),
        sid(2)
    ))
    .unwrap();
    let staff = c.staff.unwrap();
    assert_eq!(staff.alert.content_sid.for_language("de", "en"), Some(sid(2).as_str()));
    assert_eq!(
        staff.alert.content_sid.for_language("tr", "en"),
        Some(sid(1).as_str()),
        "else the default's"
    );
    assert_eq!(
        staff.alert.language.for_language("de", "en"),
        Some("en"),
        "one value for all"
    );
    let err = parse(&format!(
        "{MINIMAL}[notify]\norder_status = true\norder_content_sid = {{ de = \"XX1\" }}\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("[notify] order_content_sid: write it like \"HX…\": \"XX1\" is not a Content SID"),
        "{err}"
    );
}

#[test]
fn every_key_has_an_example_of_the_right_kind_in_the_example_config() {
    let layout = raw::layout();
    assert!(layout.sections.contains(&"server") && layout.sections.len() > 10);
    for section in layout.sections {
        let section_keys = (layout.keys)(section);
        assert!(!section_keys.is_empty(), "[{section}] has no keys in the layout");
        for key in section_keys {
            let Some(example) = keys::example_value(section, key) else {
                panic!("config.example.toml documents no [{section}] {key}");
            };
            let mut one = toml::Table::new();
            one.insert(key.to_string(), example.clone());
            let table = toml::Table::from_iter([(section.to_string(), toml::Value::Table(one))]);
            let (read, problems) = raw::RawConfig::read(table);
            assert!(read.is_some(), "[{section}] {key}");
            assert_eq!(problems.into_vec(), vec![], "[{section}] {key} = {example}");
        }
    }
}

/// The problems of a config that fails, one `key: message` per line.
fn problems_of(text: &str) -> Vec<String> {
    match parse(text) {
        Err(ConfigError::Invalid { problems, .. }) => {
            problems.iter().map(|p| format!("{}: {}", p.key, p.message)).collect()
        }
        other => panic!("not refused for its values: {other:?}"),
    }
}

/// One problem per line, each starting as `expected` says, in that order.
fn assert_each_starts_with(found: &[String], expected: &[&str]) {
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for (line, start) in found.iter().zip(expected) {
        assert!(line.starts_with(start), "{line}\n  does not start with\n{start}");
    }
}

#[test]
fn every_unknown_key_is_named_with_what_was_meant_and_the_rest_is_still_checked() {
    let text = MINIMAL
        .replace("listen =", "lisen =")
        .replace("[database]", "colour = \"red\"\n[database]")
        + "[shopp]\nname = \"x\"\n[shop]\ntimezone = \"Mars/Olympus\"\nlisten = \"127.0.0.1:1\"\n";
    let found = problems_of(&("debug = true\n".to_string() + &text));
    let expected = [
        "debug: unknown key; every key goes under one of the sections [server], [database]",
        "[shopp]: unknown section; did you mean [shop]?",
        "[server] colour: unknown key; the keys of [server] are listen, public_base_url, workers",
        "[server] lisen: unknown key; did you mean listen? Write it like listen = \"127.0.0.1:8080\"",
        "[shop] listen: is not a key of [shop]; did you mean [server] listen? Move it under [server], like listen = ",
        "[shop] timezone: \"Mars/Olympus\" is not an IANA time zone name",
    ];
    assert_each_starts_with(&found, &expected);
}

#[test]
fn a_value_of_the_wrong_kind_is_one_line_with_an_example_and_the_rest_is_still_checked() {
    let text = MINIMAL.replace("[database]", "workers = \"8\"\n[database]").replace("\"shopbot.db\"", "5")
        + "[webhooks]\nvalidate_signatures = \"yes\"\n[meta]\nphone_number_id = 123456789012345\napp_secret = \"s\"\nverify_token = \"v\"\n[shop]\ntimezone = \"Mars/Olympus\"\n";
    let found = problems_of(&text);
    let expected = [
        "[database] path: write it like path = \"/var/lib/shopbot/shopbot.db\" (text in quotes, not the number 5)",
        "[meta] phone_number_id: write it like phone_number_id = \"123456789012345\" (text in quotes, not the number 123456789012345)",
        "[server] workers: write it like workers = 16 (a number, not the text \"8\")",
        "[webhooks] validate_signatures: write it like validate_signatures = true (true or false, not the text \"yes\")",
        "[shop] timezone: \"Mars/Olympus\" is not an IANA time zone name",
    ];
    // No second line ("is missing") for a key set aside.
    assert_each_starts_with(&found, &expected);
}

#[test]
fn a_list_item_of_the_wrong_kind_is_named_and_a_section_that_is_no_table_too() {
    let text = MINIMAL.to_string() + "[staff]\nnumbers = [\"+27821234567\", 27821234568]\n";
    let found = problems_of(&("shop = \"Acme\"\n".to_string() + &text));
    assert_eq!(
        found,
        [
            "[shop]: must be a section ([shop] on a line of its own, its keys below it), not the text \"Acme\"",
            "[staff] numbers: write it like numbers = [\"+27821234567\"] (text in quotes, not the number 27821234568)",
        ],
    );
}

#[test]
fn a_missing_database_section_is_a_problem_like_any_other() {
    let text = MINIMAL.replace("[database]\npath = \"shopbot.db\"\n", "") + "[log]\nlevel = \"loud\"\n";
    let found = problems_of(&text);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].starts_with("[log] level: \"loud\" is not a level"),
        "{found:#?}"
    );
    assert_eq!(
        found[1],
        "[database] path: is missing or empty; give the database file, like path = \"/var/lib/shopbot/shopbot.db\""
    );
}

#[test]
fn a_bad_staff_number_is_one_line_with_the_example_first() {
    let found = problems_of(&(MINIMAL.to_string() + "[staff]\nnumbers = [\"0821234567\"]\n"));
    assert_eq!(
        found,
        ["[staff] numbers: \"0821234567\" is not a phone number like +27821234567 (international E.164 form: it must start with +)"]
    );
}

#[test]
fn notify_reads_order_and_submission_templates_alike_and_names_each_key() {
    let ok = parse(&format!(
        "{MINIMAL}[notify]\nsubmission_status = true\nsubmission_template = \"report_update\"\n\
         submission_language = {{ en = \"en_US\", de = \"de\" }}\n"
    ))
    .unwrap();
    let notify = ok.notify.expect("on with submission_status alone");
    assert!(!notify.order_status && notify.submission_status);
    assert_eq!(notify.submission.language.for_language("de", "en"), Some("de"));
    assert_eq!(notify.submission.language.for_language("tr", "en"), Some("en_US"));
    let err = parse(&format!(
        "{MINIMAL}[notify]\norder_status = true\nsubmission_content_sid = \"SM1\"\nsubmission_template = \"x\"\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("[notify] submission_content_sid: write it like \"HX…\": \"SM1\" is not a Content SID"),
        "{err}"
    );
    assert!(
        err.contains("[notify] submission_language: is needed with submission_template"),
        "{err}"
    );
    assert!(!err.contains("order_"), "{err}");
    let off = parse(&format!("{MINIMAL}[notify]\nsubmission_content_sid = \"HX1\"\n")).unwrap();
    assert!(off.notify.is_none(), "neither switch on: nobody is told");
}

#[test]
fn content_menus_need_a_rest_api_to_send_them_by() {
    let content = MINIMAL.replace(
        "auth_token = \"secret-token\"",
        "auth_token = \"secret-token\"\ninteractive = \"content\"",
    );
    assert_each_starts_with(
        &problems_of(&content),
        &["[twilio] interactive: is \"content\", which sends menus by Twilio's REST API, but [twilio] account_sid is not set: set what is missing"],
    );
    // Offline chores never send a menu: not their business.
    let offline = Config::parse_for(&content, Path::new("c.toml"), &no_env, Purpose::Offline).unwrap();
    assert_eq!(offline.choice_limits(Channel::Twilio), None, "no sender: numbered text");
    let ready = content.replace(
        "interactive",
        "account_sid = \"AC00000000000000000000000000000000\"\nwhatsapp_from = \"whatsapp:+14155238886\"\ninteractive",
    );
    let mut c = parse(&ready).unwrap();
    assert_eq!(
        c.choice_limits(Channel::Twilio),
        Some(ChoiceLimits::BUTTONS_AND_LISTS_NO_FOOTER)
    );
    // A config made in code without a sender never queues menus it cannot send.
    c.twilio.whatsapp_from = None;
    assert_eq!(
        c.twilio.rest_missing(),
        Some("neither [twilio] whatsapp_from nor messaging_service_sid is set")
    );
    assert_eq!(c.choice_limits(Channel::Twilio), None);
}
