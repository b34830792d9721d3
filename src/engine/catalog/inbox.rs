//! Every word the owner reads in the inbox (`/admin/`): navigation, headings,
//! labels and buttons, notices, empty states, status words, hints, the
//! sign-in page and the short error pages, keyed by name. English only so
//! far; another language is one more table like `EN` (and a line in
//! `table`), with every key and the same `{placeholders}` (a unit test
//! holds every table to that).
//!
//! The pages read them through [`Words`]: a value goes in through
//! `{placeholders}` ([`Words::fill`]), and a text around a piece of markup (a
//! link, a command in `<code>`) is split at that piece's placeholder
//! ([`Words::around`]), so every part is still escaped by the template.

use super::FALLBACK;
use crate::engine::words::fill;

/// The languages whose inbox texts ship with shopbot.
pub const SHIPPED: &[&str] = &["en"];

/// The keys, in the order of `EN`.
pub const KEYS: &[&str] = &[
    "nav_inbox",
    "nav_submissions",
    "nav_orders",
    "nav_outbox",
    "sign_out",
    "live_news",
    "live_show",
    "live_bell",
    "shop_open_until",
    "shop_closed_opens",
    "shop_closed",
    "login_title",
    "login_heading",
    "login_name",
    "login_name_hint",
    "login_password",
    "login_button",
    "login_forgot",
    "login_no_account",
    "login_wrong_password",
    "login_no_match",
    "login_too_many_tries",
    "login_busy",
    "inbox_title",
    "inbox_empty",
    "badge_staff",
    "badge_staff_title",
    "badge_waiting",
    "badge_arrived_closed",
    "unread",
    "you_wrote",
    "pages",
    "pages_newer",
    "pages_of",
    "pages_older",
    "age_now",
    "age_minutes",
    "age_hours",
    "age_days",
    "span_minutes",
    "span_hours",
    "submissions_title",
    "filter_form",
    "filter_all_forms",
    "filter_since",
    "filter_show",
    "submissions_download",
    "submissions_empty",
    "column_id",
    "column_when",
    "column_customer",
    "column_answers",
    "column_status",
    "status_field",
    "note_field",
    "status_save",
    "status_set_at",
    "status_new",
    "status_in_progress",
    "status_done",
    "saved_told",
    "saved_opted_out",
    "saved_not_told",
    "saved_same",
    "saved_note",
    "saved_off",
    "answer_field",
    "answer_photo",
    "attachment",
    "attached",
    "attached_photo",
    "notice_sent",
    "notice_see_message",
    "notice_handed_back",
    "notice_see_note",
    "waiting_since",
    "waiting_since_closed",
    "with_person",
    "hand_back",
    "forms_filled",
    "your_note",
    "action_handed_back",
    "action_resent",
    "action_marked_sent",
    "action_dropped",
    "sent_by",
    "customer_photo",
    "bot",
    "options",
    "tick_read",
    "tick_delivered",
    "tick_not_delivered",
    "tick_sent",
    "tick_not_sent",
    "tick_maybe_sent",
    "tick_waiting",
    "failed_window",
    "failed_opted_out",
    "failed_uncertain",
    "failed_code_why",
    "retrying_code_why",
    "failed_code",
    "channel_local",
    "language_field",
    "language_by_number",
    "language_by_number_is",
    "language_set",
    "reply_field",
    "reply_window",
    "reply_send",
    "template_name",
    "template_language",
    "template_values",
    "template_sid",
    "template_send",
    "reply_empty",
    "template_unnamed",
    "not_sent",
    "opted_out",
    "window_closed",
    "orders_title",
    "upload_field",
    "upload_button",
    "upload_hint",
    "search_field",
    "search_button",
    "orders_count",
    "orders_match",
    "orders_capped",
    "column_order",
    "column_note",
    "column_updated",
    "order_only",
    "order_anyone",
    "upload_choose_file",
    "upload_refused",
    "upload_done",
    "upload_notices",
    "upload_kept",
    "upload_rejected",
    "upload_rejected_line",
    "upload_rejected_more",
    "outbox_title",
    "outbox_hint",
    "outbox_empty",
    "column_number",
    "column_to",
    "column_what",
    "column_state",
    "outbox_resent",
    "outbox_marked_sent",
    "outbox_dropped",
    "outbox_see_it",
    "outbox_attempts",
    "outbox_held",
    "outbox_error",
    "outbox_send_again",
    "outbox_template",
    "outbox_template_language",
    "kind_text",
    "kind_template",
    "kind_reply",
    "state_queued",
    "state_sending",
    "state_sent",
    "state_failed",
    "state_uncertain",
    "retry_title",
    "retry_heading",
    "retry_what",
    "retry_why_uncertain",
    "retry_why_failed",
    "retry_yes",
    "retry_no",
    "retry_or",
    "resolve_arrived",
    "resolve_dropped",
    "no_such_page",
    "no_such_conversation",
    "no_such_message",
    "no_such_attachment",
    "no_such_submission",
    "attachment_unfetched",
    "one_language",
    "language_not_offered",
    "language_missing",
    "status_invalid",
    "note_too_long",
    "spreadsheet_failed",
    "retry_refused",
    "resolve_unnamed",
    "resolve_refused",
    "form_unreadable",
    "csrf_failed",
];

/// What the owner reads, in English.
const EN: &[(&str, &str)] = &[
    ("nav_inbox", "Inbox"),
    ("nav_submissions", "Submissions"),
    ("nav_orders", "Orders"),
    ("nav_outbox", "Outbox"),
    ("sign_out", "Sign out"),
    ("live_news", "New messages. {show}"),
    ("live_show", "Show them"),
    ("live_bell", "🔔 Sound for new messages"),
    ("shop_open_until", "Open until {time}"),
    ("shop_closed_opens", "Closed, opens {when}"),
    ("shop_closed", "Closed"),
    ("login_title", "Sign in"),
    ("login_heading", "Sign in to the inbox"),
    ("login_name", "Your name"),
    (
        "login_name_hint",
        "As your account was made ({command}); leave it empty for the first account.",
    ),
    ("login_password", "Password"),
    ("login_button", "Sign in"),
    ("login_forgot", "Forgot it? Set a new one on the server: {command}"),
    (
        "login_no_account",
        "No account yet: run `shopbot dashboard set-password` on the server.",
    ),
    ("login_wrong_password", "That password is not right."),
    ("login_no_match", "That name and password do not match."),
    ("login_too_many_tries", "Too many wrong passwords. Try again in {seconds} seconds."),
    ("login_busy", "Too many sign-ins right now. Try again in {seconds} seconds."),
    ("inbox_title", "Inbox"),
    ("inbox_empty", "No conversations yet. When a customer writes, it shows here."),
    ("badge_staff", "staff"),
    ("badge_staff_title", "A [staff] number: alerts and your relayed answers"),
    ("badge_waiting", "waiting for you"),
    ("badge_arrived_closed", "arrived while closed"),
    ("unread", "{count} unread"),
    ("you_wrote", "You: {text}"),
    ("pages", "Pages"),
    ("pages_newer", "← Newer"),
    ("pages_of", "Page {page} of {pages}"),
    ("pages_older", "Older →"),
    ("age_now", "just now"),
    ("age_minutes", "{minutes} min ago"),
    ("age_hours", "{hours} h ago"),
    ("age_days", "{days} d ago"),
    ("span_minutes", "{minutes} min"),
    ("span_hours", "{hours} h {minutes} min"),
    ("submissions_title", "Submissions"),
    ("filter_form", "Form"),
    ("filter_all_forms", "All forms"),
    ("filter_since", "Since"),
    ("filter_show", "Show"),
    ("submissions_download", "Download for a spreadsheet (CSV)"),
    ("submissions_empty", "No submissions match."),
    ("column_id", "ID"),
    ("column_when", "When"),
    ("column_customer", "Customer"),
    ("column_answers", "Answers"),
    ("column_status", "Status"),
    ("status_field", "Status"),
    ("note_field", "Note for the customer"),
    ("status_save", "Save"),
    ("status_set_at", "Set {time}"),
    ("status_new", "New"),
    ("status_in_progress", "In progress"),
    ("status_done", "Done"),
    ("saved_told", "{id} saved: the customer is told (see the Outbox)."),
    (
        "saved_opted_out",
        "{id} saved: the customer opted out (sent STOP), so they were not told.",
    ),
    (
        "saved_not_told",
        "{id} saved: the customer could not be told: the 24-hour window is closed and [notify] has no submission template.",
    ),
    ("saved_same", "{id} saved: nothing changed."),
    (
        "saved_note",
        "{id} saved: the note is saved; the customer is told when the status changes.",
    ),
    (
        "saved_off",
        "{id} saved: customers are not told ([notify] submission_status = true tells them).",
    ),
    ("answer_field", "{field}: "),
    ("answer_photo", "A photo for {field}"),
    ("attachment", "attachment"),
    ("attached", "📎 {what}"),
    ("attached_photo", "📎 photo"),
    (
        "notice_sent",
        "✓ Queued to go out; its ticks show when it is sent, delivered and read. {link}",
    ),
    ("notice_see_message", "See your message"),
    (
        "notice_handed_back",
        "✓ Handed back: the bot answers this customer's next message. {link}",
    ),
    ("notice_see_note", "See the note"),
    ("waiting_since", "Waiting for a person since {time}"),
    ("waiting_since_closed", "Waiting for a person since {time} (arrived while closed)"),
    ("with_person", "With a person: the bot stays quiet until you hand back"),
    ("hand_back", "Hand back to the bot"),
    ("forms_filled", "Forms filled in ({count})"),
    ("your_note", "Your note: {note}"),
    ("action_handed_back", "{user} handed the conversation back to the bot"),
    ("action_resent", "{user} sent message {id} again"),
    ("action_marked_sent", "{user} said message {id} arrived"),
    ("action_dropped", "{user} dropped message {id} (it did not arrive)"),
    ("sent_by", "{name}:"),
    ("customer_photo", "A photo the customer sent"),
    ("bot", "bot"),
    ("options", "Options the customer could tap or type"),
    ("tick_read", "read"),
    ("tick_delivered", "delivered"),
    ("tick_not_delivered", "not delivered"),
    ("tick_sent", "sent"),
    ("tick_not_sent", "not sent"),
    ("tick_maybe_sent", "maybe sent"),
    ("tick_waiting", "waiting to be sent"),
    (
        "failed_window",
        "Not delivered: outside the 24-hour window. Send a template instead.",
    ),
    ("failed_opted_out", "Not sent: this customer opted out (sent STOP)."),
    (
        "failed_uncertain",
        "Maybe sent: shopbot stopped while sending. Check before resending.",
    ),
    ("failed_code_why", "Not delivered (code {code}): {why}"),
    (
        "retrying_code_why",
        "Not sent yet: shopbot tries again (last try, code {code}: {why})",
    ),
    ("failed_code", "Not delivered (code {code})."),
    ("channel_local", "terminal"),
    ("language_field", "Answered in"),
    ("language_by_number", "By their number"),
    ("language_by_number_is", "{language} (by their number)"),
    ("language_set", "Set"),
    ("reply_field", "Your reply"),
    (
        "reply_window",
        "The 24-hour window closes in {left}; after that only an approved template can go.",
    ),
    ("reply_send", "Send"),
    ("template_name", "Template name (as in WhatsApp Manager)"),
    ("template_language", "Language"),
    ("template_values", "Values for {{1}}, {{2}}, … (one per line)"),
    ("template_sid", "Content template SID (HX…)"),
    ("template_send", "Send the template"),
    ("reply_empty", "Write something first."),
    ("template_unnamed", "Name the template first."),
    ("not_sent", "Not sent: {why}"),
    (
        "opted_out",
        "This customer opted out (sent STOP): nothing can be sent until they send START.",
    ),
    (
        "window_closed",
        "The 24-hour window is closed ({why}). Only an approved template can go now.",
    ),
    ("orders_title", "Orders"),
    ("upload_field", "Update orders from a spreadsheet (CSV)"),
    ("upload_button", "Import"),
    (
        "upload_hint",
        "Columns: order number and status; optional phone (then only that customer can look it up), note and updated date. Export from Excel or Google Sheets as CSV. Larger files (over 2 MB): {command} on the server.",
    ),
    ("search_field", "Order number starts with"),
    ("search_button", "Find"),
    ("orders_count", "{total} orders"),
    ("orders_match", "{shown} of {total} orders match"),
    ("orders_capped", "(the first {cap} are shown: search for the rest)"),
    ("column_order", "Order"),
    ("column_note", "Note"),
    ("column_updated", "Updated"),
    ("order_only", "Only {phone}"),
    ("order_anyone", "Anyone with the number"),
    ("upload_choose_file", "Choose a CSV file first."),
    ("upload_refused", "Nothing was imported: {why}"),
    (
        "upload_done",
        "Imported: {added} added, {updated} updated, {unchanged} unchanged, {rejected} rejected.",
    ),
    ("upload_notices", "Order updates: {notices}."),
    (
        "upload_kept",
        "Not in the file, so kept as they were: {columns} (a column that is there but empty clears the value).",
    ),
    (
        "upload_rejected",
        "These lines were not imported; fix them in the spreadsheet and upload it again:",
    ),
    ("upload_rejected_line", "Line {line}: {reason}"),
    (
        "upload_rejected_more",
        "… and {more} more lines were not imported. `shopbot orders import FILE.csv` on the server lists every one.",
    ),
    ("outbox_title", "Outbox"),
    ("outbox_hint", "Messages the shop sends: replies, notifications, templates."),
    ("outbox_empty", "Nothing sent yet."),
    ("column_number", "#"),
    ("column_to", "To"),
    ("column_what", "What"),
    ("column_state", "State"),
    ("outbox_resent", "✓ Message {id} goes again."),
    ("outbox_marked_sent", "✓ Message {id} is marked sent."),
    ("outbox_dropped", "✓ Message {id} is dropped."),
    ("outbox_see_it", "See it in the conversation"),
    ("outbox_attempts", "after {attempts} tries"),
    (
        "outbox_held",
        "waiting behind message {id} (uncertain): it goes once that one is sent again or resolved",
    ),
    ("outbox_error", "{code}: {message}"),
    ("outbox_send_again", "Send again…"),
    ("outbox_template", "Template {name}: {values}"),
    ("outbox_template_language", "Template {name} ({language}): {values}"),
    ("kind_text", "text"),
    ("kind_template", "template"),
    ("kind_reply", "reply"),
    ("state_queued", "queued"),
    ("state_sending", "sending"),
    ("state_sent", "sent"),
    ("state_failed", "failed"),
    ("state_uncertain", "uncertain"),
    ("retry_title", "Send again?"),
    ("retry_heading", "Send message {id} again?"),
    ("retry_what", "To {to} on {channel}. It is {state}: {why}"),
    (
        "retry_why_uncertain",
        "shopbot stopped, or lost the provider's answer, while sending it: the customer may already have it. It was not sent again by itself so that they never get it twice. Check the customer's chat (or the provider's console) first.",
    ),
    (
        "retry_why_failed",
        "it failed for good (the reason is below): sending it again only helps if the cause is gone, e.g. the customer wrote again and the 24-hour window is open.",
    ),
    ("retry_yes", "Yes, send it again"),
    ("retry_no", "No, go back"),
    (
        "retry_or",
        "Or, without sending it again (the messages to this customer waiting behind it then go):",
    ),
    ("resolve_arrived", "It arrived: mark it sent"),
    ("resolve_dropped", "It did not arrive: drop it"),
    ("no_such_page", "no such page in the inbox"),
    ("no_such_conversation", "no such conversation"),
    ("no_such_message", "no such message"),
    ("no_such_attachment", "no such attachment"),
    ("no_such_submission", "no such submission"),
    ("attachment_unfetched", "the attachment could not be fetched: {why}"),
    ("one_language", "the menu has one language only ([languages] in the menu file)"),
    ("language_not_offered", "{code} is not an offered language ({offer})"),
    ("language_missing", "the form has no language field"),
    ("status_invalid", "the status must be new, in_progress or done"),
    (
        "note_too_long",
        "the note has {chars} characters; at most {max} fit in the customer's message",
    ),
    ("spreadsheet_failed", "could not write the spreadsheet"),
    ("retry_refused", "only an uncertain or failed message can be sent again"),
    (
        "resolve_unnamed",
        "name the message and say whether it arrived (arrived=yes or no)",
    ),
    ("resolve_refused", "only an uncertain message can be resolved"),
    ("form_unreadable", "the form could not be read: {why}"),
    (
        "csrf_failed",
        "the form is stale or not from this inbox (CSRF check failed); nothing was done",
    ),
];

/// The inbox table of a language, if shopbot ships one.
fn table(language: &str) -> Option<&'static [(&'static str, &'static str)]> {
    match language {
        "en" => Some(EN),
        _ => None,
    }
}

/// The inbox text `key` in `language`, else in English (empty for a key the
/// catalog does not have).
pub fn text(language: &str, key: &str) -> &'static str {
    table(language)
        .and_then(|table| super::find(table, key))
        .or_else(|| super::find(EN, key))
        .unwrap_or_default()
}

/// The inbox's texts in one language: what its pages and answers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    /// A shipped inbox language.
    language: &'static str,
}

impl Words {
    /// The texts in `language`, or in English when it is not shipped.
    pub fn new(language: &'static str) -> Words {
        let language = if table(language).is_some() { language } else { FALLBACK };
        Words { language }
    }

    /// Their language's code (a page's `lang`).
    pub fn language(self) -> &'static str {
        self.language
    }

    /// The text `key`, as it is.
    pub fn get(self, key: &str) -> &'static str {
        text(self.language, key)
    }

    /// The text `key` with its `{placeholders}` filled from `values`.
    pub fn fill(self, key: &str, values: &[(&str, &str)]) -> String {
        fill(self.get(key), values)
    }

    /// The text `key` filled from `values`, split where `{markup}` stands
    /// (the page puts a link or a `<code>` there): before and after it.
    pub fn around(self, key: &str, markup: &str, values: &[(&str, &str)]) -> (String, String) {
        let text = self.get(key);
        let (before, after) = text.split_once(&format!("{{{markup}}}")).unwrap_or((text, ""));
        (fill(before, values), fill(after, values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_inbox_key_is_in_every_shipped_language_with_the_same_placeholders() {
        crate::engine::catalog::assert_tables_agree("inbox", SHIPPED, table, KEYS);
    }

    #[test]
    fn an_unshipped_language_reads_english_and_markup_splits_the_text() {
        let words = Words::new("de");
        assert_eq!(words.language(), "en");
        assert_eq!(words.get("nav_inbox"), "Inbox");
        assert_eq!(words.get("no such key"), "");
        assert_eq!(
            words.around("live_news", "show", &[]),
            ("New messages. ".to_string(), String::new())
        );
        assert_eq!(
            words.around(
                "retry_what",
                "state",
                &[("to", "+1"), ("channel", "Meta"), ("why", "{to}")]
            ),
            ("To +1 on Meta. It is ".to_string(), ": {to}".to_string())
        );
    }
}
