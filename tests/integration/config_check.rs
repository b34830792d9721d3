//! `shopbot check` reports every problem at once: each unknown key (of the
//! config and of its menu file) with the key it was meant to be, each value
//! of the wrong kind with an example, the config's problems and its menu
//! file's together, a missing file by its full path with the fix. `serve`
//! refuses to start with the same report.

use crate::support::{check_in, config_text, output_text, run_to_end, shopbot_command};

/// A menu whose only option leads nowhere.
const BROKEN_MENU: &str = "start = \"main\"\n[nodes.main]\nkind = \"menu\"\ntext = \"Hi\"\n\
                           options = [{ label = \"Orders\", goto = \"orderz\" }]\n";

/// Mistyped keys (the first lands in the test config's `[twilio]`), an
/// unknown section, and a bad value after them all.
const MISTYPED: &str = "interactve = \"content\"\n[webhooks]\nvalidate_signature = true\n\
                        [shopp]\nname = \"x\"\n[outbox]\nmax_attempts = 0\n";

/// The lines of `output` that report a problem in `file`.
fn lines_about<'a>(output: &'a str, file: &str) -> Vec<&'a str> {
    output.lines().filter(|line| line.contains(file)).collect()
}

/// One line per problem, each ending as `expected` says, in that order.
fn assert_each_ends_with(lines: &[&str], expected: &[&str], output: &str) {
    assert_eq!(lines.len(), expected.len(), "one line each:\n{output}");
    for (line, problem) in lines.iter().zip(expected) {
        assert!(line.ends_with(problem), "{line}\n  should end with\n{problem}");
    }
}

#[test]
fn check_names_every_mistyped_key_with_what_was_meant_and_still_checks_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (code, output) = check_in(dir.path(), MISTYPED, None);
    assert_eq!(code, Some(1), "{output}");
    assert!(!output.contains("TOML parse error"), "{output}");
    let lines = lines_about(&output, "config.toml: ");
    let expected = [
        "[shopp]: unknown section; did you mean [shop]?",
        "[twilio] interactve: unknown key; did you mean interactive? Write it like interactive = \"off\"",
        "[webhooks] validate_signature: unknown key; did you mean validate_signatures? \
         Write it like validate_signatures = true",
        "[outbox] max_attempts: is 0; give 1 to 50",
    ];
    assert_each_ends_with(&lines, &expected, &output);
}

#[test]
fn check_reports_the_configs_problems_and_its_menus_together() {
    let dir = tempfile::tempdir().unwrap();
    let (code, output) = check_in(dir.path(), "[outbox]\nmax_attempts = 0\n", Some(BROKEN_MENU));
    assert_eq!(code, Some(1), "{output}");
    let config = lines_about(&output, "config.toml: ");
    let menu = lines_about(&output, "menu.toml: ");
    assert_eq!(config.len(), 1, "{output}");
    assert!(
        config[0].ends_with("[outbox] max_attempts: is 0; give 1 to 50"),
        "{output}"
    );
    assert_eq!(menu.len(), 1, "{output}");
    assert!(
        menu[0].ends_with("node `main`: leads to `orderz`, which is not a node; add [nodes.orderz] or fix the name"),
        "{output}"
    );
}

/// Three problems in three places of a menu file: a mistyped top-level key,
/// a mistyped key in a node, a timeout of the wrong kind.
const MISTYPED_MENU: &str = "strat = \"main\"\nstart = \"main\"\nsession_timeout_minutes = \"60\"\n\
                             [nodes.main]\nkind = \"menu\"\ntext = \"Hi\"\n\
                             options = [{ label = \"Help\", goto = \"help\" }]\n\
                             [nodes.help]\nkind = \"info\"\ntxt = \"Call us\"\ntext = \"Call us\"\n";

#[test]
fn check_reports_every_mistyped_key_and_wrong_kind_of_the_menu_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (code, output) = check_in(dir.path(), "", Some(MISTYPED_MENU));
    assert_eq!(code, Some(1), "{output}");
    assert!(
        !output.contains("unknown field") && !output.contains("invalid type"),
        "{output}"
    );
    let lines = lines_about(&output, "menu.toml: ");
    let expected = [
        "node `menu`: `strat` is not a key of the menu file; did you mean start? Write it like start = \"main\"",
        "node `menu`: `session_timeout_minutes`: write it like session_timeout_minutes = 60 \
         (a whole number, not the text \"60\")",
        "node `help`: `txt` is not a key of an info node; did you mean text? \
         Write it like text = \"We are open Mon-Fri 07:00-17:00.\"",
    ];
    assert_each_ends_with(&lines, &expected, &output);
}

#[test]
fn a_missing_menu_file_is_named_by_its_full_path_with_the_fix_beside_the_other_problems() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().canonicalize().unwrap();
    let text = config_text(
        &folder.join("s.db"),
        "[menu]\npath = \"menus/shop.toml\"\n[outbox]\nmax_attempts = 0\n",
    );
    std::fs::write(folder.join("config.toml"), text).unwrap();
    // A relative --config: the error still gives the menu's full path.
    let out = run_to_end(shopbot_command(&["check", "--config", "config.toml"]).current_dir(&folder));
    let output = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{output}");
    let full = folder.join("menus").join("shop.toml");
    let expected = format!(
        "config.toml: [menu] path: there is no menu file {}; create it (README \"The menu file\"; \
         shopbot's built-in example, src/engine/default_menu.toml, is a good start) or remove [menu] path \
         to use the built-in example menu",
        shown(&full)
    );
    assert!(output.contains(&expected), "{output}\nshould contain\n{expected}");
    assert!(output.contains("config.toml: [outbox] max_attempts: is 0"), "{output}");
    assert!(!output.contains("os error"), "{output}");
}

#[test]
fn a_missing_config_file_is_named_by_its_full_path_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().canonicalize().unwrap();
    let out = run_to_end(shopbot_command(&["check", "--config", "nope.toml"]).current_dir(&folder));
    let output = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{output}");
    let expected = format!(
        "error: {}: there is no config file here; give the right path with --config (or SHOPBOT_CONFIG), \
         or create it from config.example.toml",
        shown(&folder.join("nope.toml"))
    );
    assert_eq!(output.trim_end(), expected);
}

#[test]
fn a_value_of_the_wrong_kind_is_one_line_with_an_example_and_the_rest_is_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let extra = "[webhooks]\nvalidate_signatures = \"yes\"\n[staff]\nnumbers = \"+27825550801\"\n\
                 [outbox]\nmax_attempts = 0\n";
    let (code, output) = check_in(dir.path(), extra, None);
    assert_eq!(code, Some(1), "{output}");
    // Values set aside come first (by section name), then the rest.
    let lines = lines_about(&output, "config.toml: ");
    let expected = [
        "[staff] numbers: write it like numbers = [\"+27821234567\"] (a list in [ ], not the text \"+27825550801\")",
        "[webhooks] validate_signatures: write it like validate_signatures = true \
         (true or false, not the text \"yes\")",
        "[outbox] max_attempts: is 0; give 1 to 50",
    ];
    assert_each_ends_with(&lines, &expected, &output);
}

#[test]
fn a_bad_staff_number_is_one_line_that_gives_its_value_once_and_an_example_first() {
    let dir = tempfile::tempdir().unwrap();
    let (code, output) = check_in(dir.path(), "[staff]\nnumbers = [\"0825550802\"]\n", None);
    assert_eq!(code, Some(1), "{output}");
    let lines = lines_about(&output, "[staff] numbers");
    assert_eq!(lines.len(), 1, "{output}");
    let line = lines[0];
    assert_eq!(line.matches("0825550802").count(), 1, "the value once: {line}");
    let example = line.find("+27821234567").expect("an example");
    assert!(line.find("E.164").is_none_or(|jargon| example < jargon), "{line}");
}

#[test]
fn serve_refuses_to_start_with_the_same_report_as_check() {
    let dir = tempfile::tempdir().unwrap();
    let (_, checked) = check_in(dir.path(), MISTYPED, None);
    let config = dir.path().join("config.toml");
    let out = run_to_end(&mut shopbot_command(&["serve", "--config", config.to_str().unwrap()]));
    let served = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{served}");
    let problems = lines_about(&checked, "config.toml: ");
    assert!(problems.len() > 1, "{checked}");
    for line in problems {
        assert!(
            served.contains(line.trim_start_matches("error: ").trim()),
            "{line}\n  not in\n{served}"
        );
    }
}

/// A canonical path as shopbot prints it (on Windows without the `\\?\`
/// prefix canonicalize adds).
fn shown(path: &std::path::Path) -> String {
    let text = path.display().to_string();
    text.strip_prefix(r"\\?\").map(str::to_string).unwrap_or(text)
}
