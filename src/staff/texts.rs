//! Every text a staff member reads from the relay, in one place (pinned word
//! for word by golden tests). Pure: names and numbers in, text out. The words
//! come from the catalog (`engine::catalog::staff`, English for now), so a
//! staff language is a table of data there, not code here.

//!
//! Outside text (a profile name, a customer's line) never shapes these texts:
//! names are flattened to one line ([`one_line`]), and a customer's line keeps
//! its line breaks only inside its quote marks, every other control
//! character becoming a space (`quote`).

use crate::engine::catalog;
use crate::engine::render::fill;

/// How a customer is named to staff: "Ava (+27821234567)", or the number
/// alone. The name is one line whatever the customer put in their profile.
pub fn who(name: Option<&str>, address: &str) -> String {
    match name.map(one_line).filter(|n| !n.is_empty()) {
        Some(name) => format!("{name} ({address})"),
        None => one_line(address),
    }
}

/// `text` on one line: control characters (line breaks included), line and
/// paragraph separators and bidirectional overrides become spaces, and runs
/// of spaces one.
pub fn one_line(text: &str) -> String {
    text.split(|c: char| is_layout_control(c) || c.is_whitespace())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A character that moves or reorders text rather than showing something.
fn is_layout_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The staff text `key` (in the staff's language: English for now).
fn said(key: &str) -> &'static str {
    catalog::staff(catalog::FALLBACK, key)
}

/// The staff text `key` with its `{placeholders}` filled in.
fn say(key: &str, values: &[(&str, &str)]) -> String {
    fill(said(key), values)
}

/// A customer asked for a person; their last message is quoted unless it was
/// only a menu number.
pub fn alert(customer: &str, last_message: &str) -> String {
    let last = last_message.trim();
    let how = said("how_to_answer");
    if last.is_empty() || last.chars().all(|c| c.is_ascii_digit()) {
        say("alert", &[("customer", customer), ("how_to_answer", how)])
    } else {
        let line = quote(last);
        say(
            "alert_quoting",
            &[("customer", customer), ("line", &line), ("how_to_answer", how)],
        )
    }
}

/// A waiting customer's new lines (more join it while it is queued; a reply
/// to it answers the customer, as the alert said).
pub fn forward(customer: &str, line: &str) -> String {
    format!("{}{}", forward_header(customer), quote(line))
}

/// The quote marks around a forwarded line (what [`forward`] adds besides
/// the header).
pub const QUOTE_MARKS: usize = 2;

/// The first line of a further batch of lines (appended to a queued forward).
pub fn forward_more(line: &str) -> String {
    quote(line)
}

/// A customer's line as staff see it: inside quote marks, its line breaks
/// kept, any other control character a space.
fn quote(line: &str) -> String {
    let line: String = line
        .trim()
        .chars()
        .map(|c| if c != '\n' && is_layout_control(c) { ' ' } else { c })
        .collect();
    let line = line.trim();
    if line.is_empty() {
        format!("“{}”", said("no_text"))
    } else {
        format!("“{line}”")
    }
}

/// The header a forward's text starts with (its room is what is left of the
/// channel's limit for the line).
pub fn forward_header(customer: &str) -> String {
    say("forward_header", &[("customer", customer)])
}

/// `text` cut to at most `max` characters, with "…" where it was cut.
pub fn shortened(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
    }
}

/// The text of a line with `photos` attachments.
pub fn line_with_media(text: &str, photos: usize) -> String {
    let attachments = |n: usize| say("attachments", &[("count", &n.to_string())]);
    match (text.trim().is_empty(), photos) {
        (_, 0) => text.trim().to_string(),
        (true, n) => attachments(n),
        (false, n) => format!("{} {}", text.trim(), attachments(n)),
    }
}

/// Said the first time in a row a message goes to a customer without a quote.
pub fn now_answering(customer: &str) -> String {
    say("now_answering", &[("customer", customer)])
}

/// Another staff member holds the conversation.
pub fn held_by_other(customer: &str, holder: &str) -> String {
    say("held_by_other", &[("customer", customer), ("holder", holder)])
}

/// `#take` done.
pub fn taken(customer: &str) -> String {
    say("taken", &[("customer", customer)])
}

/// Told to the staff member a conversation was taken from.
pub fn taken_from_you(customer: &str, by: &str) -> String {
    say("taken_from_you", &[("customer", customer), ("by", by)])
}

/// The customer's 24-hour window is closed.
pub fn outside_window(customer: &str) -> String {
    say("outside_window", &[("customer", customer)])
}

/// The customer opted out.
pub fn opted_out(customer: &str) -> String {
    say("opted_out", &[("customer", customer)])
}

/// Anything else that stopped a relayed message.
pub fn not_sent(customer: &str, why: &str) -> String {
    say("not_sent", &[("customer", customer), ("why", why)])
}

/// Meta's media come as ids the shop cannot pass on.
pub fn media_not_relayed() -> String {
    said("media_not_relayed").to_string()
}

/// Nothing to answer.
pub fn no_conversation() -> String {
    said("no_conversation").to_string()
}

/// `#done`.
pub fn handed_back(customer: &str) -> String {
    say("handed_back", &[("customer", customer)])
}

/// One line of `#list`.
pub fn list_line(n: usize, customer: &str, waiting: &str, holder: Option<&str>) -> String {
    let n = n.to_string();
    let mut values = vec![("n", n.as_str()), ("customer", customer), ("waiting", waiting)];
    match holder {
        Some(holder) => {
            values.push(("holder", holder));
            say("list_line_held", &values)
        }
        None => say("list_line", &values),
    }
}

/// `#list` with these lines, and how many more wait after them (on page
/// `page`; the next is `#list page+1`).
pub fn list(lines: &[String], more: usize, page: usize) -> String {
    if lines.is_empty() {
        return match page {
            1 => said("list_empty").to_string(),
            _ => say("list_no_page", &[("page", &page.to_string())]),
        };
    }
    let mut text = format!("{}\n{}", said("list_head"), lines.join("\n"));
    if more > 0 {
        let (more, next) = (more.to_string(), (page + 1).to_string());
        text.push('\n');
        text.push_str(&say("list_more", &[("more", &more), ("next", &next)]));
    }
    text.push('\n');
    text.push_str(said("list_foot"));
    text
}

/// `#N` past the list.
pub fn no_such_number(n: usize) -> String {
    say("no_such_number", &[("n", &n.to_string())])
}

/// `#N` switched: who, and their last line.
pub fn switched(customer: &str, last: Option<&str>) -> String {
    match last {
        Some(last) => say("switched_quoting", &[("customer", customer), ("line", &quote(last))]),
        None => say("switched", &[("customer", customer)]),
    }
}

/// A staff member sent a stop or start word: it does nothing for a staff
/// number, and it is not passed on.
pub fn staff_opt_word(word: &str) -> String {
    say("opt_word", &[("word", &one_line(word))])
}

/// `#help`.
pub fn help() -> String {
    said("help").to_string()
}

/// An unknown `#word`.
pub fn unknown_command(word: &str) -> String {
    say("unknown_command", &[("word", word), ("help", said("help"))])
}

/// "5 min" and friends, for `#list`.
pub fn waited(minutes: i64) -> String {
    match minutes.max(0) {
        0 => said("waited_now").to_string(),
        m @ 1..=59 => say("waited_minutes", &[("minutes", &m.to_string())]),
        m => say(
            "waited_hours",
            &[("hours", &(m / 60).to_string()), ("minutes", &(m % 60).to_string())],
        ),
    }
}
