//! Every built-in word a customer reads, in one catalog keyed by name, in the
//! languages shopbot ships: English (`en`) and German (`de`). A menu file's
//! `[texts]` overrides any of them per language; a language not shipped here
//! gets the default language's text (English when that is not shipped
//! either), and `shopbot check` says so.
//!
//! The keys are the `[texts]` keys of the menu file. Adding a language is
//! data: one more table below, with every key and the same `{placeholders}`
//! (a unit test holds every table to that).
//!
//! Staff texts (the relay's alerts and `#` commands' answers) and the owner's
//! inbox ([`inbox`]) are read the same way, English only so far.

pub mod inbox;

/// The languages whose built-in texts ship with shopbot.
pub const SHIPPED: &[&str] = &["en", "de"];

/// The language every other falls back to.
pub const FALLBACK: &str = "en";

/// The keys, in the order `shopbot check` and the README list them.
pub const KEYS: &[&str] = &[
    "unknown",
    "back",
    "footer",
    "need_text",
    "need_photo",
    "photo_received",
    "photo_only",
    "form_cancelled",
    "waiting_ack",
    "opted_out",
    "opted_in",
    "choose",
    "language_prompt",
    "order_update",
    "away",
    "submission_update",
    "submission_new",
    "submission_in_progress",
    "submission_done",
];

const EN: &[(&str, &str)] = &[
    ("unknown", "Sorry, I didn't understand that."),
    ("back", "0 Back to Menu"),
    ("footer", "Reply 0 for the main menu."),
    ("need_text", "Please reply with some text."),
    ("need_photo", "Please send a photo, or reply skip."),
    ("photo_received", "📷 Photo received."),
    ("photo_only", "(photo)"),
    ("form_cancelled", "Cancelled: nothing was submitted."),
    (
        "waiting_ack",
        "Thanks, we have your message. A team member will answer here.",
    ),
    ("opted_out", "You are opted out. Reply START to re-subscribe."),
    ("opted_in", "You are subscribed again. Send hi for the menu."),
    ("choose", "Choose"),
    ("language_prompt", "🌐 Please choose your language:"),
    ("order_update", "📦 Order {number}: {status}\n{note}"),
    (
        "away",
        "We're closed now. We open {next_open}; a person will answer then. The menu works any time.",
    ),
    ("submission_update", "🛠 Your report {id}: {status}\n{note}"),
    ("submission_new", "new"),
    ("submission_in_progress", "in progress"),
    ("submission_done", "done"),
];

const DE: &[(&str, &str)] = &[
    ("unknown", "Entschuldigung, das habe ich nicht verstanden."),
    ("back", "0 Zurück zum Menü"),
    ("footer", "Antworten Sie mit 0 für das Hauptmenü."),
    ("need_text", "Bitte antworten Sie mit einem Text."),
    ("need_photo", "Bitte senden Sie ein Foto oder antworten Sie mit skip."),
    ("photo_received", "📷 Foto erhalten."),
    ("photo_only", "(Foto)"),
    ("form_cancelled", "Abgebrochen: Es wurde nichts gesendet."),
    (
        "waiting_ack",
        "Danke, wir haben Ihre Nachricht. Ein Teammitglied antwortet Ihnen hier.",
    ),
    (
        "opted_out",
        "Sie erhalten keine Nachrichten mehr. Antworten Sie mit START, um sie wieder zu erhalten.",
    ),
    (
        "opted_in",
        "Sie erhalten wieder Nachrichten. Senden Sie hi für das Menü.",
    ),
    ("choose", "Auswählen"),
    ("language_prompt", "🌐 Bitte wählen Sie Ihre Sprache:"),
    ("order_update", "📦 Bestellung {number}: {status}\n{note}"),
    (
        "away",
        "Wir haben gerade geschlossen. Wir öffnen {next_open}; dann antwortet Ihnen ein Mensch. Das Menü funktioniert jederzeit.",
    ),
    ("submission_update", "🛠 Ihre Meldung {id}: {status}\n{note}"),
    ("submission_new", "neu"),
    ("submission_in_progress", "in Bearbeitung"),
    ("submission_done", "erledigt"),
];

/// The keys of the texts staff read from the relay (alerts, forwards, the
/// `#` commands' answers), in the order of [`STAFF_EN`].
pub const STAFF_KEYS: &[&str] = &[
    "how_to_answer",
    "alert",
    "alert_quoting",
    "forward_header",
    "no_text",
    "attachments",
    "now_answering",
    "held_by_other",
    "taken",
    "taken_from_you",
    "outside_window",
    "opted_out",
    "not_sent",
    "media_not_relayed",
    "no_conversation",
    "handed_back",
    "list_line",
    "list_line_held",
    "list_empty",
    "list_no_page",
    "list_head",
    "list_more",
    "list_foot",
    "no_such_number",
    "switched",
    "switched_quoting",
    "opt_word",
    "help",
    "unknown_command",
    "waited_now",
    "waited_minutes",
    "waited_hours",
];

/// What staff read, in English: the only staff language shipped so far.
/// Another is one more table like this one (and a line in [`staff_table`]).
const STAFF_EN: &[(&str, &str)] = &[
    ("how_to_answer", "Reply to this message to answer; #done hands back to the bot."),
    ("alert", "🔔 {customer} asks for a person.\n{how_to_answer}"),
    ("alert_quoting", "🔔 {customer} asks for a person.\n{line}\n{how_to_answer}"),
    ("forward_header", "💬 {customer}:\n"),
    ("no_text", "(no text)"),
    ("attachments", "📎 {count} attachment(s)"),
    ("now_answering", "→ {customer}"),
    (
        "held_by_other",
        "{customer} is being answered by {holder}; nothing was sent. Send #take to take it over.",
    ),
    ("taken", "→ {customer} is yours now."),
    ("taken_from_you", "{by} took over {customer}."),
    (
        "outside_window",
        "Not sent: {customer} is outside the 24-hour window: send a template from the inbox.",
    ),
    (
        "opted_out",
        "Not sent: {customer} opted out (sent STOP) and gets nothing until they send START.",
    ),
    ("not_sent", "Not sent to {customer}: {why}."),
    (
        "media_not_relayed",
        "Not sent: photos and files sent to the shop's Meta number cannot be passed on yet; send them from your phone to the customer's chat, or write a text.",
    ),
    (
        "no_conversation",
        "There is no conversation to answer yet. #list shows who is waiting; #help explains the rest.",
    ),
    ("handed_back", "✓ {customer} is back with the bot."),
    ("list_line", "#{n} {customer} · {waiting}"),
    ("list_line_held", "#{n} {customer} · {waiting} · with {holder}"),
    ("list_empty", "Nobody is waiting."),
    ("list_no_page", "No page {page}: #list shows the first."),
    ("list_head", "Waiting for a person:"),
    ("list_more", "… and {more} more: #list {next} shows them."),
    ("list_foot", "Send #1, #2 … to answer one."),
    ("no_such_number", "There is no #{n} waiting. #list shows who is."),
    ("switched", "→ {customer}"),
    ("switched_quoting", "→ {customer}\n{line}"),
    (
        "opt_word",
        "\"{word}\" was not sent to anyone: stop and start words do nothing for staff numbers. To stop answering a customer, send #done; to leave staff, ask the owner to remove your number from [staff] numbers.",
    ),
    (
        "help",
        "Answering customers from WhatsApp:
• Reply to an alert (swipe it, or press and hold → Reply): your message goes to that customer.
• Without a reply, it goes to the customer you answered last.
#list – who is waiting (#list 2 – the next page)
#1, #2 … – answer that customer
#take – take over a customer another staff member is answering
#done – hand the customer back to the bot
#help – this list",
    ),
    ("unknown_command", "Unknown command {word}.\n{help}"),
    ("waited_now", "just now"),
    ("waited_minutes", "{minutes} min"),
    ("waited_hours", "{hours} h {minutes} min"),
];

/// The staff table of a language, if shopbot ships one.
fn staff_table(language: &str) -> Option<&'static [(&'static str, &'static str)]> {
    match language {
        "en" => Some(STAFF_EN),
        _ => None,
    }
}

/// The staff text `key` in `language`, else in English (empty for a key the
/// catalog does not have).
pub fn staff(language: &str, key: &str) -> &'static str {
    staff_table(language)
        .and_then(|table| find(table, key))
        .or_else(|| find(STAFF_EN, key))
        .unwrap_or_default()
}

/// The text `key` of a table.
fn find(table: &'static [(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, text)| *text)
}

/// The table of a shipped language.
fn table(language: &str) -> Option<&'static [(&'static str, &'static str)]> {
    match language {
        "en" => Some(EN),
        "de" => Some(DE),
        _ => None,
    }
}

/// The built-in text `key` in `language`, if shopbot ships that language.
pub fn shipped(language: &str, key: &str) -> Option<&'static str> {
    find(table(language)?, key)
}

/// The built-in text `key` in `language`, else in English (empty for a key
/// the catalog does not have).
pub fn text(language: &str, key: &str) -> &'static str {
    shipped(language, key)
        .or_else(|| shipped(FALLBACK, key))
        .unwrap_or_default()
}

/// A language's own name, for the language choice (the code for one not known).
pub fn endonym(code: &str) -> &str {
    match code {
        "en" => "English",
        "de" => "Deutsch",
        "af" => "Afrikaans",
        "nl" => "Nederlands",
        "fr" => "Français",
        "es" => "Español",
        "pt" => "Português",
        "it" => "Italiano",
        "tr" => "Türkçe",
        "pl" => "Polski",
        "zu" => "isiZulu",
        "xh" => "isiXhosa",
        "st" => "Sesotho",
        "tn" => "Setswana",
        "sw" => "Kiswahili",
        "ar" => "العربية",
        "hi" => "हिन्दी",
        "zh" => "中文",
        _ => code,
    }
}

/// The `{placeholders}` of a text, sorted.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut found: Vec<&str> = text
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

/// A catalog's table of a language, if shopbot ships one.
#[cfg(test)]
type TableOf = fn(&str) -> Option<&'static [(&'static str, &'static str)]>;

/// Holds every shipped table of a catalog (`name`, for the messages) to its
/// keys, in order, none empty, each with the English text's placeholders.
#[cfg(test)]
fn assert_tables_agree(name: &str, shipped: &[&str], table: TableOf, keys: &[&str]) {
    let english = table(FALLBACK).expect("every catalog ships English");
    for language in shipped {
        let table = table(language).expect("a shipped language has a table");
        let found: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
        assert_eq!(found, keys, "{name}.{language}: the keys, in order");
        for (key, text) in table {
            assert!(!text.trim().is_empty(), "{name}.{language}.{key} is empty");
            assert_eq!(
                placeholders(text),
                placeholders(find(english, key).unwrap_or_default()),
                "{name}.{language}.{key}: its placeholders"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_in_every_shipped_language_with_the_same_placeholders() {
        assert_tables_agree("texts", SHIPPED, table, KEYS);
    }

    #[test]
    fn the_staff_table_has_every_key_in_order_and_none_empty() {
        assert_tables_agree("staff", &[FALLBACK], staff_table, STAFF_KEYS);
        for (key, text) in STAFF_EN {
            assert_eq!(staff("de", key), *text, "an unshipped staff language reads English");
        }
    }

    #[test]
    fn an_unshipped_language_reads_english() {
        assert_eq!(text("tr", "unknown"), text("en", "unknown"));
        assert_eq!(shipped("tr", "unknown"), None);
        assert_eq!(
            placeholders("Order {number}: {status} {number} {}"),
            ["number", "status"]
        );
    }
}
