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
    assert_eq!(staff.alert_content_sid.for_language("de", "en"), Some(sid(2).as_str()));
    assert_eq!(
        staff.alert_content_sid.for_language("tr", "en"),
        Some(sid(1).as_str()),
        "else the default's"
    );
    assert_eq!(
        staff.alert_language.for_language("de", "en"),
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
