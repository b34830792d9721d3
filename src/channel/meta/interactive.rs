//! A menu as Meta's interactive message: reply buttons for up to 3 options,
//! a list for 4 to 10 (the outbox sends a longer menu as numbered text).
//!
//! Meta's limits ([`ChoiceLimits::BUTTONS_AND_LISTS`]), from its Cloud API
//! reference: a button's `reply.id` at most 256 characters and `reply.title`
//! 20; a list's `action.button` 20, a row's `id` 200, `title` 24 and
//! `description` 72; the body 1,024 and the footer 60. Ids and titles must
//! be unique within a message: option ids are (the menu makes them so), and
//! `shopbot check` names two options that show the same title.
//! A label too long uses its `short` label, else it is cut at a word
//! boundary (and `check` names it); a row whose title is not the whole
//! label shows the label as its description. An id too long is cut and a
//! footer too long is left out; `check` names both, as a cut id comes back
//! matching no option (the customer gets `unknown` and the menu again).

use serde_json::{json, Value};

use crate::message::{cut_at_word, Choice, ChoiceLimits, ChoiceOption};

/// Meta's limits on buttons and lists.
const LIMITS: ChoiceLimits = ChoiceLimits::BUTTONS_AND_LISTS;

/// The `("interactive", payload)` of a menu that fits
/// [`ChoiceLimits::BUTTONS_AND_LISTS`](crate::message::ChoiceLimits).
pub fn payload(choice: &Choice) -> (&'static str, Value) {
    let mut interactive = if LIMITS.as_buttons(choice) {
        buttons(choice)
    } else {
        list(choice)
    };
    interactive["body"] = json!({ "text": choice.text });
    let fits = |footer: &&str| LIMITS.footer.is_some_and(|max| footer.chars().count() <= max);
    if let Some(footer) = choice.footer.as_deref().filter(fits) {
        interactive["footer"] = json!({ "text": footer });
    }
    ("interactive", interactive)
}

fn buttons(choice: &Choice) -> Value {
    let buttons: Vec<Value> = choice
        .options
        .iter()
        .map(|option| {
            json!({"type": "reply", "reply": {"id": cut(&option.id, LIMITS.button_id), "title": option.title(LIMITS.button_title)}})
        })
        .collect();
    json!({"type": "button", "action": {"buttons": buttons}})
}

fn list(choice: &Choice) -> Value {
    let rows: Vec<Value> = choice.options.iter().map(row).collect();
    json!({
        "type": "list",
        "action": {
            "button": cut_at_word(&choice.choose, LIMITS.list_button),
            "sections": [{"rows": rows}],
        }
    })
}

fn row(option: &ChoiceOption) -> Value {
    let title = option.title(LIMITS.row_title);
    let mut row = json!({"id": cut(&option.id, LIMITS.row_id), "title": title});
    if title != option.label {
        row["description"] = json!(cut_at_word(&option.label, LIMITS.row_description));
    }
    row
}

/// An id cut to `max` characters (ids are node names, short in practice;
/// `shopbot check` names longer ones, `ChoiceLimits::problems`).
fn cut(id: &str, max: usize) -> String {
    id.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(labels: &[(&str, Option<&str>)]) -> Choice {
        Choice {
            node: "main".into(),
            text: "Welcome! Select 1-5".into(),
            options: labels
                .iter()
                .enumerate()
                .map(|(i, (label, short))| ChoiceOption {
                    id: format!("main:n{i}"),
                    label: (*label).into(),
                    short: short.map(String::from),
                })
                .collect(),
            footer: Some("0 Back to Menu".into()),
            choose: "Choose".into(),
            language: None,
        }
    }

    #[test]
    fn up_to_three_options_are_reply_buttons_with_titles_of_at_most_20() {
        let (kind, value) = payload(&choice(&[
            ("Report a defect", None),
            ("View defect history of my orders", Some("Defect history")),
            ("Talk to somebody in the shop please", None),
        ]));
        assert_eq!(kind, "interactive");
        assert_eq!(value["type"], "button");
        assert_eq!(value["body"]["text"], "Welcome! Select 1-5");
        assert_eq!(value["footer"]["text"], "0 Back to Menu");
        let titles: Vec<&str> = value["action"]["buttons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["reply"]["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["Report a defect", "Defect history", "Talk to somebody…"]);
        assert!(titles.iter().all(|t| t.chars().count() <= LIMITS.button_title));
        assert_eq!(value["action"]["buttons"][0]["reply"]["id"], "main:n0");
    }

    #[test]
    fn four_to_ten_options_are_a_list_whose_shortened_rows_keep_the_label_as_description() {
        let labels: Vec<(&str, Option<&str>)> = vec![
            ("Check Order Status", None),
            ("Report Defect", None),
            ("View the Production Schedule", Some("Schedule")),
            ("Talk to a person", None),
            ("A label much too long for any row title", None),
        ];
        let (_, value) = payload(&choice(&labels));
        assert_eq!(value["type"], "list");
        assert_eq!(value["action"]["button"], "Choose");
        let rows = value["action"]["sections"][0]["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0]["title"], "Check Order Status");
        assert!(rows[0].get("description").is_none());
        assert_eq!(rows[2]["title"], "Schedule");
        assert_eq!(rows[2]["description"], "View the Production Schedule");
        assert_eq!(rows[4]["title"], "A label much too long…");
        assert!(rows
            .iter()
            .all(|r| r["title"].as_str().unwrap().chars().count() <= LIMITS.row_title));
    }
}
