//! Every text a staff member reads from the relay, in one place (pinned word
//! for word by golden tests). Pure: names and numbers in, text out.

//!
//! Outside text (a profile name, a customer's line) never shapes these texts:
//! names are flattened to one line ([`one_line`]), and a customer's line keeps
//! its line breaks only inside its quote marks, every other control
//! character becoming a space (`quote`).

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

/// The last line of every alert and forward.
const HOW_TO_ANSWER: &str = "Reply to this message to answer; #done hands back to the bot.";

/// A customer asked for a person; their last message is quoted unless it was
/// only a menu number.
pub fn alert(customer: &str, last_message: &str) -> String {
    let last = last_message.trim();
    if last.is_empty() || last.chars().all(|c| c.is_ascii_digit()) {
        format!("🔔 {customer} asks for a person.\n{HOW_TO_ANSWER}")
    } else {
        format!("🔔 {customer} asks for a person.\n{}\n{HOW_TO_ANSWER}", quote(last))
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
        "“(no text)”".into()
    } else {
        format!("“{line}”")
    }
}

/// The header a forward's text starts with (its room is what is left of the
/// channel's limit for the line).
pub fn forward_header(customer: &str) -> String {
    format!("💬 {customer}:\n")
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
    match (text.trim().is_empty(), photos) {
        (_, 0) => text.trim().to_string(),
        (true, n) => format!("📎 {n} attachment(s)"),
        (false, n) => format!("{} 📎 {n} attachment(s)", text.trim()),
    }
}

/// Said the first time in a row a message goes to a customer without a quote.
pub fn now_answering(customer: &str) -> String {
    format!("→ {customer}")
}

/// Another staff member holds the conversation.
pub fn held_by_other(customer: &str, holder: &str) -> String {
    format!("{customer} is being answered by {holder}; nothing was sent. Send #take to take it over.")
}

/// `#take` done.
pub fn taken(customer: &str) -> String {
    format!("→ {customer} is yours now.")
}

/// Told to the staff member a conversation was taken from.
pub fn taken_from_you(customer: &str, by: &str) -> String {
    format!("{by} took over {customer}.")
}

/// The customer's 24-hour window is closed.
pub fn outside_window(customer: &str) -> String {
    format!("Not sent: {customer} is outside the 24-hour window: send a template from the inbox.")
}

/// The customer opted out.
pub fn opted_out(customer: &str) -> String {
    format!("Not sent: {customer} opted out (sent STOP) and gets nothing until they send START.")
}

/// Anything else that stopped a relayed message.
pub fn not_sent(customer: &str, why: &str) -> String {
    format!("Not sent to {customer}: {why}.")
}

/// Meta's media come as ids the shop cannot pass on.
pub const MEDIA_NOT_RELAYED: &str =
    "Not sent: photos and files sent to the shop's Meta number cannot be passed on yet; send them from your phone to the customer's chat, or write a text.";

/// Nothing to answer.
pub const NO_CONVERSATION: &str =
    "There is no conversation to answer yet. #list shows who is waiting; #help explains the rest.";

/// `#done`.
pub fn handed_back(customer: &str) -> String {
    format!("✓ {customer} is back with the bot.")
}

/// One line of `#list`.
pub fn list_line(n: usize, customer: &str, waiting: &str, holder: Option<&str>) -> String {
    match holder {
        Some(holder) => format!("#{n} {customer} · {waiting} · with {holder}"),
        None => format!("#{n} {customer} · {waiting}"),
    }
}

/// `#list` with these lines, and how many more wait after them (on page
/// `page`; the next is `#list page+1`).
pub fn list(lines: &[String], more: usize, page: usize) -> String {
    if lines.is_empty() {
        return match page {
            1 => "Nobody is waiting.".into(),
            _ => format!("No page {page}: #list shows the first."),
        };
    }
    let mut text = format!("Waiting for a person:\n{}", lines.join("\n"));
    if more > 0 {
        text.push_str(&format!("\n… and {more} more: #list {} shows them.", page + 1));
    }
    text.push_str("\nSend #1, #2 … to answer one.");
    text
}

/// `#N` past the list.
pub fn no_such_number(n: usize) -> String {
    format!("There is no #{n} waiting. #list shows who is.")
}

/// `#N` switched: who, and their last line.
pub fn switched(customer: &str, last: Option<&str>) -> String {
    match last {
        Some(last) => format!("→ {customer}\n{}", quote(last)),
        None => format!("→ {customer}"),
    }
}

/// A staff member sent a stop or start word: it does nothing for a staff
/// number, and it is not passed on.
pub fn staff_opt_word(word: &str) -> String {
    format!(
        "\"{}\" was not sent to anyone: stop and start words do nothing for staff numbers. \
         To stop answering a customer, send #done; to leave staff, ask the owner to remove your number from [staff] numbers.",
        one_line(word)
    )
}

/// `#help`.
pub const HELP: &str = "Answering customers from WhatsApp:
• Reply to an alert (swipe it, or press and hold → Reply): your message goes to that customer.
• Without a reply, it goes to the customer you answered last.
#list – who is waiting (#list 2 – the next page)
#1, #2 … – answer that customer
#take – take over a customer another staff member is answering
#done – hand the customer back to the bot
#help – this list";

/// An unknown `#word`.
pub fn unknown_command(word: &str) -> String {
    format!("Unknown command {word}.\n{HELP}")
}

/// "5 min" and friends, for `#list`.
pub fn waited(minutes: i64) -> String {
    match minutes.max(0) {
        0 => "just now".into(),
        m @ 1..=59 => format!("{m} min"),
        m => format!("{} h {} min", m / 60, m % 60),
    }
}
