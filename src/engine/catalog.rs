//! Every built-in word a customer reads, in one catalog keyed by name, in the
//! languages shopbot ships: English (`en`) and German (`de`). A menu file's
//! `[texts]` overrides any of them per language; a language not shipped here
//! gets the English text (and `shopbot check` says so).
//!
//! The keys are the `[texts]` keys of the menu file. Adding a language is
//! data: one more table below, with every key and the same `{placeholders}`
//! (a unit test holds every table to that).

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
    table(language)?.iter().find(|(k, _)| *k == key).map(|(_, text)| *text)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_in_every_shipped_language_with_the_same_placeholders() {
        for language in SHIPPED {
            let table = table(language).unwrap();
            let keys: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
            assert_eq!(keys, KEYS, "{language}: the keys, in order");
            for (key, text) in table {
                assert!(!text.trim().is_empty(), "{language}.{key} is empty");
                assert_eq!(
                    placeholders(text),
                    placeholders(super::text(FALLBACK, key)),
                    "{language}.{key}: its placeholders"
                );
            }
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
