//! Pure text rendering: menus, and the replies whose text depends on data the
//! shell fetched for an [`Effect`](super::Effect) (a new submission's ID, a list of
//! submissions, an order). Templates use `{name}` placeholders, filled in one pass
//! so a value that itself contains `{…}` is never expanded again.

pub use super::words::{fill, StatusWords, SubmissionStatus};
use std::fmt::Write as _;

use jiff::{tz::TimeZone, Timestamp};

use super::menu::{Menu, Node};
use crate::message::{Choice, ChoiceOption};

/// How many characters of a submission a history line shows.
pub const PREVIEW_CHARS: usize = 60;

/// The texts of a lookup node, carried by its effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderTexts {
    /// `{number}`, `{status}`.
    pub found: String,
    /// `{updated}`, added when the order has an update date.
    pub found_updated: Option<String>,
    /// `{note}`, added when the order has a note.
    pub found_note: Option<String>,
    /// `{number}`.
    pub not_found: String,
}

/// An order as the customer may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    /// The order number as the shop wrote it.
    pub number: String,
    /// The shop's status text.
    pub status: String,
    /// When the shop last updated it, as the shop wrote it.
    pub updated: Option<String>,
    /// A note for the customer.
    pub note: Option<String>,
}

/// One line of a submission history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionSummary {
    /// The public ID, e.g. `DEF-20250119143022`.
    pub public_id: String,
    /// When it was stored.
    pub created_at: Timestamp,
    /// The first answer's text (or a media note).
    pub preview: String,
    /// Where it is, as the owner set it.
    pub status: SubmissionStatus,
    /// The owner's note for the customer, if any.
    pub note: Option<String>,
}

/// A menu node as a choice: its text, its options with their ids, and the
/// back line below sub-menus. `None` for a name that is not a menu node.
pub fn choice(menu: &Menu, name: &str) -> Option<Choice> {
    let Some(Node::Menu { text, options }) = menu.node(name) else {
        return None;
    };
    Some(Choice {
        node: name.to_string(),
        text: text.clone(),
        options: options
            .iter()
            .map(|option| ChoiceOption {
                id: option.id.clone(),
                label: option.label.clone(),
                short: option.short.clone(),
            })
            .collect(),
        footer: (name != menu.start).then(|| menu.texts.back.clone()),
        choose: menu.texts.choose.clone(),
        language: None,
    })
}

/// A menu node as numbered text (empty for a name that is not a menu node).
pub fn menu(menu: &Menu, name: &str) -> String {
    choice(menu, name).map(|c| c.numbered()).unwrap_or_default()
}

/// The confirmation of a stored submission.
pub fn submitted(confirmation: &str, id: &str) -> String {
    fill(confirmation, &[("id", id)])
}

/// The texts of a history (a list node), carried by its effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryTexts {
    /// Heading template (`{count}`).
    pub title: String,
    /// Said when there are none.
    pub empty: String,
    /// Each submission's status.
    pub statuses: StatusWords,
    /// In place of the start of a submission without text (`[texts] photo_only`).
    pub photo: String,
}

/// A customer's newest submissions, newest first: each as "ID: status
/// (date)", its start, and the owner's note (on one line, cut like the start).
pub fn submission_list(texts: &HistoryTexts, items: &[SubmissionSummary], tz: &TimeZone) -> String {
    if items.is_empty() {
        return texts.empty.clone();
    }
    let mut out = fill(&texts.title, &[("count", &items.len().to_string())]);
    for item in items {
        // `%Y-%m-%d %H:%M` in the shop's time zone, written straight into the
        // answer (jiff's strftime parses its format string for every item).
        let when = tz.to_datetime(item.created_at);
        let status = texts.statuses.of(item.status);
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "\n\n{}: {status} ({:04}-{:02}-{:02} {:02}:{:02})\n{}",
            item.public_id,
            when.year(),
            when.month(),
            when.day(),
            when.hour(),
            when.minute(),
            preview(if item.preview.is_empty() {
                &texts.photo
            } else {
                &item.preview
            })
        );
        if let Some(note) = &item.note {
            out.push_str("\n💬 ");
            out.push_str(&preview(note));
        }
    }
    out
}

/// An order lookup's answer.
pub fn order(texts: &OrderTexts, number: &str, order: Option<&OrderView>) -> String {
    let Some(order) = order else {
        return fill(&texts.not_found, &[("number", number)]);
    };
    let mut out = fill(&texts.found, &[("number", &order.number), ("status", &order.status)]);
    if let (Some(template), Some(updated)) = (&texts.found_updated, &order.updated) {
        out.push('\n');
        out.push_str(&fill(template, &[("updated", updated)]));
    }
    if let (Some(template), Some(note)) = (&texts.found_note, &order.note) {
        out.push('\n');
        out.push_str(&fill(template, &[("note", note)]));
    }
    out
}

/// The first [`PREVIEW_CHARS`] characters on one line, with `…` when cut.
pub fn preview(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= PREVIEW_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(PREVIEW_CHARS).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_does_not_expand_values_twice() {
        assert_eq!(fill("ID: {id} {x}", &[("id", "{id}")]), "ID: {id} {x}");
        assert_eq!(fill("{a}{b}", &[("a", "1"), ("b", "2")]), "12");
        assert_eq!(fill("{ unclosed", &[("a", "1")]), "{ unclosed");
    }

    #[test]
    fn preview_keeps_at_least_forty_characters_on_one_line() {
        let text = "The screen is cracked\nacross the top left corner and the hinge squeaks badly";
        let p = preview(text);
        assert!(p.starts_with("The screen is cracked across the top left corner"));
        assert!(!p.contains('\n'));
        assert!(p.ends_with('…'));
        assert_eq!(preview("short <&>"), "short <&>");
    }

    #[test]
    fn a_history_line_says_the_status_in_the_customers_words_and_the_note() {
        let texts = HistoryTexts {
            title: "Your {count}:".into(),
            empty: "None.".into(),
            statuses: crate::engine::Texts::default().status_words(),
            photo: "(photo)".into(),
        };
        let at = Timestamp::from_second(1_737_297_022).unwrap();
        let item = |id: &str, status, note: Option<&str>| SubmissionSummary {
            public_id: id.into(),
            created_at: at,
            preview: "Screen is cracked".into(),
            status,
            note: note.map(String::from),
        };
        let items = [
            item(
                "DEF-2",
                SubmissionStatus::InProgress,
                Some("Parts ordered,\nback Monday"),
            ),
            item("DEF-1", SubmissionStatus::New, None),
        ];
        assert_eq!(
            submission_list(&texts, &items, &TimeZone::UTC),
            "Your 2:\n\nDEF-2: in progress (2025-01-19 14:30)\nScreen is cracked\n💬 Parts ordered, back Monday\n\n\
             DEF-1: new (2025-01-19 14:30)\nScreen is cracked"
        );
        assert_eq!(submission_list(&texts, &[], &TimeZone::UTC), "None.");
        // In the shop's time zone, as jiff's strftime wrote it before.
        let tz = TimeZone::get("Africa/Johannesburg").unwrap();
        let early = Timestamp::from_second(-1).unwrap();
        for at in [at, early] {
            let one = [SubmissionSummary {
                created_at: at,
                ..item("DEF-3", SubmissionStatus::New, None)
            }];
            let when = at.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string();
            assert_eq!(
                submission_list(&texts, &one, &tz),
                format!("Your 1:\n\nDEF-3: new ({when})\nScreen is cracked")
            );
        }
        for status in SubmissionStatus::ALL {
            assert_eq!(SubmissionStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn the_main_menu_reads_as_in_the_product_description() {
        let m = Menu::example();
        let text = menu(&m, "main");
        assert_eq!(
            text,
            "Welcome! Select 1-5\n1 Check Order Status\n2 Report Defect\n3 View Production Schedule\n4 Get Help & Support\n5 Back to Menu"
        );
        assert!(super::menu(&m, "defects").ends_with("\n0 Back to Menu"));
    }
}
