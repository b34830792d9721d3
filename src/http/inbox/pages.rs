//! The inbox's pages, server-rendered with `maud`: templates are Rust macros
//! checked at compile time and every value is escaped, so a customer's text
//! can never become markup. Plain forms do all the work (no JavaScript needed);
//! the one stylesheet is embedded and served from `/admin/static/`.

use jiff::{tz::TimeZone, Timestamp};
use maud::{html, Markup, DOCTYPE};

use crate::engine::catalog::endonym;
use crate::engine::render::SubmissionStatus;
use crate::message::{Channel, Content, Direction, MessageStatus, OutboxState, ReplyPart, ReportedStatus};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use super::submissions::MAX_NOTE_CHARS;
use crate::orders::ImportReport;
use crate::store::{
    ActionRecord, ContactView, InboxAction, InboxRow, MessageRecord, OrderRecord, OutboxEntry, SubmissionRecord,
};

/// What every signed-in page needs.
pub struct Chrome<'a> {
    /// The shop's name.
    pub shop: &'a str,
    /// The session's CSRF token, for the forms.
    pub csrf: &'a str,
    /// Now, for ages.
    pub now: Timestamp,
    /// The bot in service: the shop's time zone, the `[staff]` numbers
    /// (their own chats with the bot are marked) and `[hours]`.
    pub bot: std::sync::Arc<crate::conversation::Bot>,
}

impl Chrome<'_> {
    /// The shop's time zone.
    fn tz(&self) -> &TimeZone {
        &self.bot.timezone
    }

    /// Whether `who` is a staff member.
    fn is_staff(&self, who: &crate::message::ContactRef) -> bool {
        self.bot.staff.as_ref().is_some_and(|desk| desk.staff.is_staff(who))
    }

    /// "Open until 17:00" or "Closed, opens Monday at 08:00" (with `[hours]`).
    fn shop_status(&self) -> Option<String> {
        let hours = self.bot.hours.as_ref()?;
        let language = crate::engine::catalog::FALLBACK;
        Some(match hours.open_until(self.now) {
            Some(until) => format!("Open until {}", until.strftime("%H:%M")),
            None => match hours.next_open(self.now) {
                Some(next) => format!("Closed, opens {}", hours.say_when(&next, self.now, language)),
                None => "Closed".to_string(),
            },
        })
    }

    /// Whether a customer started waiting while the shop was closed.
    fn arrived_closed(&self, since: Timestamp) -> bool {
        self.bot.hours.as_ref().is_some_and(|hours| !hours.is_open(since))
    }
}

/// The page frame.
fn layout(title: &str, shop: &str, csrf: Option<&str>, body: Markup) -> Markup {
    layout_live(title, shop, csrf, None, body)
}

/// What a page that follows new messages tells the live updates.
struct Live {
    /// `inbox` or `conversation`.
    page: &'static str,
    /// The newest message it shows: anything newer is news.
    latest: i64,
    /// The conversation it shows (its news only), if one.
    conversation: Option<i64>,
    /// Where "Show them" goes.
    show: String,
}

/// [`layout`] for a page that follows new messages (see [`Live`]).
fn layout_live(title: &str, shop: &str, csrf: Option<&str>, live: Option<Live>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (shop) }
                link rel="icon" href="/favicon.ico" type="image/svg+xml";
                link rel="stylesheet" href="/admin/static/admin.css";
                @if live.is_some() { script src="/admin/static/live.js" defer {} }
            }
            body data-page=[live.as_ref().map(|l| l.page)] data-latest=[live.as_ref().map(|l| l.latest)]
                data-conversation=[live.as_ref().and_then(|l| l.conversation)] {
                header.top {
                    a.brand href="/admin/" { (shop) }
                    @if let Some(csrf) = csrf {
                        nav {
                            a href="/admin/" { "Inbox" }
                            a href="/admin/submissions" { "Submissions" }
                            a href="/admin/orders" { "Orders" }
                            a href="/admin/outbox" { "Outbox" }
                            form method="post" action="/admin/logout" {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                @if let Some(live) = &live {
                    div.live {
                        p #news hidden role="status" { "New messages. " a href=(live.show) { "Show them" } }
                        button #bell type="button" aria-pressed="false" { "🔔 Sound for new messages" }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The sign-in form; `problem` says why the last try failed.
pub fn login(shop: &str, next: &str, problem: Option<&str>) -> Markup {
    layout(
        "Sign in",
        shop,
        None,
        html! {
            section.login {
                h1 { "Sign in to the inbox" }
                @if let Some(problem) = problem {
                    p.problem role="alert" { (problem) }
                }
                form method="post" action="/admin/login" {
                    input type="hidden" name="next" value=(next);
                    label for="name" { "Your name" }
                    input #name name="name" autocomplete="username" autocapitalize="none";
                    p.hint { "As your account was made (" code { "shopbot dashboard add-user NAME" } "); leave it empty if the inbox has one account." }
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                    button type="submit" { "Sign in" }
                }
                p.hint { "Forgot it? Set a new one on the server: " code { "shopbot dashboard set-password" } }
            }
        },
    )
}

/// The inbox: conversations, those waiting for a person first.
pub fn inbox(chrome: &Chrome<'_>, rows: &[InboxRow], page: usize, pages: usize, latest: i64) -> Markup {
    layout_live(
        "Inbox",
        chrome.shop,
        Some(chrome.csrf),
        Some(Live {
            page: "inbox",
            latest,
            conversation: None,
            show: "/admin/".into(),
        }),
        html! {
            h1 { "Inbox" }
            @if let Some(status) = chrome.shop_status() { p.shop-hours role="status" { (status) } }
            @if rows.is_empty() {
                p.empty { "No conversations yet. When a customer writes, it shows here." }
            }
            ul.inbox {
                @for row in rows {
                    li.waiting[row.waiting_since.is_some()] {
                        a href={ "/admin/conversations/" (row.contact.0) "#reply" } {
                            span.card-main {
                                span.who { (row.name.clone().unwrap_or_else(|| row.who.display())) }
                                @if row.name.is_some() { span.number { (row.who.display()) } }
                                span.tags {
                                    span.channel { (row.channel.facts().title) }
                                    @if chrome.is_staff(&row.who) { span.badge.staff title="A [staff] number: alerts and your relayed answers" { "staff" } }
                                    @if row.waiting_since.is_some() { span.badge.wait { "waiting for you" } }
                                    @if row.waiting_since.is_some_and(|since| chrome.arrived_closed(since)) {
                                        span.badge.closed { "arrived while closed" }
                                    }
                                }
                            }
                            span.card-side {
                                time datetime=(row.at.to_string()) { (age(row.at, chrome.now)) }
                                @if row.unread > 0 { span.badge.unread aria-label={ (row.unread) " unread" } { (row.unread) } }
                            }
                            span.last {
                                @if row.direction == Direction::Outbound { "You: " }
                                (preview(&row.body, row.has_media))
                            }
                        }
                    }
                }
            }
            @if pages > 1 {
                nav.pages aria-label="Pages" {
                    @if page > 1 { a href={ "/admin/?page=" (page - 1) } { "← Newer" } }
                    span { "Page " (page) " of " (pages) }
                    @if page < pages { a href={ "/admin/?page=" (page + 1) } { "Older →" } }
                }
            }
        },
    )
}

/// The submissions, filtered by form and date, with the spreadsheet download
/// and each one's status form; `saved` says what the last save did.
pub fn submissions(
    chrome: &Chrome<'_>,
    rows: &[SubmissionRecord],
    forms: &[(String, String)],
    (form, since): (&str, &str),
    saved: Option<&str>,
) -> Markup {
    let query = format!(
        "form={}&since={}",
        utf8_percent_encode(form, NON_ALPHANUMERIC),
        utf8_percent_encode(since, NON_ALPHANUMERIC)
    );
    layout(
        "Submissions",
        chrome.shop,
        Some(chrome.csrf),
        html! {
            h1 { "Submissions" }
            form.filters method="get" action="/admin/submissions" {
                label for="form" { "Form" }
                select #form name="form" {
                    option value="" selected[form.is_empty()] { "All forms" }
                    @for (name, prefix) in forms {
                        option value=(name) selected[form == name] { (prefix) " · " (name) }
                    }
                }
                label for="since" { "Since" }
                input #since type="date" name="since" value=(since);
                button type="submit" { "Show" }
                a.download href={ "/admin/submissions.csv?" (query) } { "Download for a spreadsheet (CSV)" }
            }
            @if let Some(saved) = saved { p.notice role="status" { (saved) } }
            @if rows.is_empty() { p.empty { "No submissions match." } }
            table.submissions {
                thead { tr { th { "ID" } th { "When" } th { "Customer" } th { "Answers" } th { "Status" } } }
                tbody {
                    @for row in rows {
                        tr id=(row.public_id) {
                            td.public-id { (row.public_id) }
                            td { (clock(row.created_at, chrome.tz())) }
                            td {
                                a href={ "/admin/conversations/" (utf8_percent_encode(&row.phone, NON_ALPHANUMERIC)) } {
                                    (row.profile_name.clone().unwrap_or_else(|| row.phone.clone()))
                                }
                            }
                            td { (answers(row)) }
                            td { (status_form(chrome, row, (form, since))) }
                        }
                    }
                }
            }
        },
    )
}

/// A submission's status and note, for the owner to set (`filters`: the
/// page's, to come back to).
fn status_form(chrome: &Chrome<'_>, row: &SubmissionRecord, (form, since): (&str, &str)) -> Markup {
    html! {
        form.status method="post" action={ "/admin/submissions/" (row.public_id) "/status" } {
            input type="hidden" name="csrf" value=(chrome.csrf);
            input type="hidden" name="form" value=(form);
            input type="hidden" name="since" value=(since);
            label {
                "Status "
                select name="status" {
                    @for status in SubmissionStatus::ALL {
                        option value=(status.as_str()) selected[status == row.status] { (status.label()) }
                    }
                }
            }
            label {
                "Note for the customer "
                textarea name="note" rows="2" maxlength=(MAX_NOTE_CHARS) { (row.status_note.as_deref().unwrap_or_default()) }
            }
            button type="submit" { "Save" }
            @if let Some(at) = row.status_at { p.hint { "Set " (clock(at, chrome.tz())) } }
        }
    }
}

/// What a path segment escapes: everything but letters, digits, `-`, `_` and `.`.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// A submission's answers: each field with what the customer sent, a photo
/// as a thumbnail (fetched through `/admin/submissions/{id}/media/{n}`, as a
/// conversation's photos are), any other file as a link.
fn answers(submission: &SubmissionRecord) -> Markup {
    let base = format!(
        "/admin/submissions/{}/media",
        utf8_percent_encode(&submission.public_id, PATH_SEGMENT)
    );
    let mut next = 0usize;
    let numbered: Vec<(&crate::engine::Answer, Vec<(usize, &crate::message::Media)>)> = submission
        .answers
        .iter()
        .map(|answer| {
            let media = answer
                .media
                .iter()
                .enumerate()
                .map(|(i, m)| (next + i, m))
                .collect::<Vec<_>>();
            next += media.len();
            (answer, media)
        })
        .collect();
    html! {
        @for (answer, media) in &numbered {
            p { span.field { (answer.field) ": " } (answer.text) }
            @for (n, media) in media {
                @let href = format!("{base}/{n}");
                @if media.content_type.starts_with("image/") {
                    a.photo href=(href) {
                        img src=(href) alt={ "A photo for " (answer.field) } loading="lazy";
                    }
                } @else {
                    p.media { a href=(href) { "📎 " (attachment_label(media)) } }
                }
            }
        }
    }
}

/// "image/jpeg", or "attachment" when the type is unknown.
fn attachment_label(media: &crate::message::Media) -> &str {
    if media.content_type.is_empty() {
        "attachment"
    } else {
        &media.content_type
    }
}

/// What the reply box may do for this contact now.
pub enum ReplyBox {
    /// Free text may go, for this long yet.
    Open(jiff::SignedDuration),
    /// Only a template may go (the 24-hour window is closed): why, and the
    /// channel whose template form to show.
    TemplateOnly(String, Channel),
    /// Nothing may go (opted out), with why.
    Refused(String),
}

/// What the conversation page says above the reply box.
pub enum Notice<'a> {
    /// What the owner asked for did not happen, and why.
    Problem(&'a str),
    /// Their message is queued (its id).
    Sent(i64),
    /// The conversation went back to the bot.
    HandedBack,
}

impl Notice<'_> {
    /// The notice as the page shows it: a problem as an alert, a done thing
    /// with a link to the message it made.
    fn render(&self) -> Markup {
        match self {
            Notice::Problem(why) => html! { p.notice.problem role="alert" { (why) } },
            Notice::Sent(id) => html! {
                p.notice.done role="status" {
                    "✓ Queued to go out; its ticks show when it is sent, delivered and read. "
                    a href={ "#m" (id) } { "See your message" }
                }
            },
            Notice::HandedBack => html! {
                p.notice.done role="status" { "✓ Handed back: the bot answers this customer's next message." }
            },
        }
    }
}

/// What a conversation shows: its messages, the inbox users' actions in it
/// (hand-backs, messages sent again), and the customer's submissions.
pub struct Thread<'a> {
    /// The messages, oldest first.
    pub messages: &'a [MessageRecord],
    /// The actions, oldest first.
    pub actions: &'a [ActionRecord],
    /// The customer's newest submissions.
    pub submissions: &'a [SubmissionRecord],
}

/// One conversation with its reply form. It opens at `#reply`: the reply
/// box at the end of the page, the newest messages just above it.
pub fn conversation(
    chrome: &Chrome<'_>,
    (contact, with_person): (&ContactView, bool),
    thread: &Thread<'_>,
    (reply, language): (&ReplyBox, Option<&LanguageBox>),
    notice: Option<&Notice<'_>>,
) -> Markup {
    let (messages, submissions) = (thread.messages, thread.submissions);
    let name = contact.name.clone().unwrap_or_else(|| contact.who.display());
    let base = format!("/admin/conversations/{}", contact.id.0);
    let live = Live {
        page: "conversation",
        latest: messages.last().and_then(|m| m.id).unwrap_or(0),
        conversation: Some(contact.id.0),
        show: format!("{base}#reply"),
    };
    layout_live(
        &name,
        chrome.shop,
        Some(chrome.csrf),
        Some(live),
        html! {
            div.conversation-head {
                h1 { (name) }
                @if contact.name.is_some() { p.number { (contact.who.display()) } }
                @if let Some(language) = language { (language_form(&base, chrome.csrf, language)) }
                @if let Some(since) = contact.waiting_since {
                    p.badge.wait {
                        "Waiting for a person since " (clock(since, chrome.tz()))
                        @if chrome.arrived_closed(since) { " (arrived while closed)" }
                    }
                } @else if with_person {
                    p.badge.person { "With a person: the bot stays quiet until you hand back" }
                }
                @if contact.waiting_since.is_some() || with_person {
                    form method="post" action={ (base) "/resolve" } {
                        input type="hidden" name="csrf" value=(chrome.csrf);
                        button type="submit" { "Hand back to the bot" }
                    }
                }
            }
            @if !submissions.is_empty() {
                details.forms open {
                    summary { "Forms filled in (" (submissions.len()) ")" }
                    @for submission in submissions {
                        div.form {
                            p {
                                strong.public-id { (submission.public_id) } " · " (clock(submission.created_at, chrome.tz())) " · "
                                a.status href={ "/admin/submissions?form=" (utf8_percent_encode(&submission.form, NON_ALPHANUMERIC)) "#" (submission.public_id) } {
                                    (submission.status.label())
                                }
                            }
                            @if let Some(note) = &submission.status_note { p.note { "Your note: " (note) } }
                            (answers(submission))
                        }
                    }
                }
            }
            ol.thread {
                @for (notes, message) in interleave(thread.actions, messages) {
                    @for note in notes { (action_note(note, chrome.tz())) }
                    @if let Some(message) = message { (bubbles(message, chrome.tz())) }
                }
            }
            section #reply {
                @if let Some(notice) = notice { (notice.render()) }
                (reply_form(&base, chrome.csrf, reply))
            }
        },
    )
}

/// The messages, each with the actions taken before it; the actions after the
/// newest message come last, with no message.
fn interleave<'a>(
    actions: &'a [ActionRecord],
    messages: &'a [MessageRecord],
) -> Vec<(&'a [ActionRecord], Option<&'a MessageRecord>)> {
    let mut rest = actions;
    let mut items = Vec::with_capacity(messages.len() + 1);
    for message in messages {
        let before = rest.partition_point(|a| a.at < message.created_at);
        items.push((&rest[..before], Some(message)));
        rest = &rest[before..];
    }
    items.push((rest, None));
    items
}

/// An inbox user's action, as a line in the thread.
fn action_note(note: &ActionRecord, tz: &TimeZone) -> Markup {
    let what = match note.action {
        InboxAction::HandedBack => "handed the conversation back to the bot".to_string(),
        InboxAction::Resent => format!("sent message {} again", note.message.unwrap_or_default()),
        InboxAction::MarkedSent => format!("said message {} arrived", note.message.unwrap_or_default()),
        InboxAction::Dropped => format!(
            "dropped message {} (it did not arrive)",
            note.message.unwrap_or_default()
        ),
    };
    html! {
        li.note { (note.user) " " (what) " · " time datetime=(note.at.to_string()) { (clock(note.at, tz)) } }
    }
}

/// A message, and for an inbound one the bot's reply to it.
fn bubbles(message: &MessageRecord, tz: &TimeZone) -> Markup {
    let from_customer = message.direction == Direction::Inbound;
    html! {
        li.msg.customer[from_customer].shop[!from_customer] id=[message.id.map(|id| format!("m{id}"))] {
            @if let Some(by) = &message.sent_by { p.by { (by) ":" } }
            @if let Some(body) = message.body.as_deref().filter(|b| !b.is_empty()) { p { (body) } }
            @for (n, media) in message.media.iter().enumerate() {
                @let label = attachment_label(media);
                @match message.id.filter(|_| from_customer) {
                    Some(id) if media.content_type.starts_with("image/") => {
                        a.photo href={ "/admin/media/" (id) "/" (n) } {
                            img src={ "/admin/media/" (id) "/" (n) } alt="A photo the customer sent" loading="lazy";
                        }
                    }
                    Some(id) => p.media { a href={ "/admin/media/" (id) "/" (n) } { "📎 " (label) } },
                    None => p.media { "📎 " (label) },
                }
            }
            span.meta {
                time datetime=(message.created_at.to_string()) { (clock(message.created_at, tz)) }
                @if !from_customer { " " (ticks(message)) }
            }
            @if let Some(problem) = failure(message) { p.failure { (problem) } }
        }
        @if let Some(reply) = &message.reply {
            @if !reply.is_empty() {
                li.msg.bot {
                    @for part in &reply.parts { (reply_part(part)) }
                    span.meta { "bot" }
                }
            }
        }
    }
}

/// One part of the bot's reply as the customer saw it: a menu's options as
/// the buttons they tap (numbered, as they can type them too).
fn reply_part(part: &ReplyPart) -> Markup {
    match part {
        ReplyPart::Text(text) => html! { p { (text) } },
        ReplyPart::Choice { choice } => html! {
            p { (choice.text) }
            ol.options aria-label="Options the customer could tap or type" {
                @for option in &choice.options { li { (option.label) } }
            }
            @if let Some(footer) = &choice.footer { p.footer { (footer) } }
        },
    }
}

/// The language a customer is answered in, when the menu offers several.
pub struct LanguageBox {
    /// The language they are answered in now.
    pub current: String,
    /// They (or the owner) picked it; else it comes from their number.
    pub picked: bool,
    /// The offered languages.
    pub offer: Vec<String>,
}

/// The customer's language, and a form to set it.
fn language_form(base: &str, csrf: &str, language: &LanguageBox) -> Markup {
    html! {
        form.language method="post" action={ (base) "/language" } {
            input type="hidden" name="csrf" value=(csrf);
            label for="language" { "Answered in " }
            select #language name="language" {
                option value="" selected[!language.picked] {
                    @if language.picked { "By their number" } @else { (endonym(&language.current)) " (by their number)" }
                }
                @for code in &language.offer {
                    option value=(code) selected[language.picked && *code == language.current] { (endonym(code)) }
                }
            }
            " "
            button type="submit" { "Set" }
        }
    }
}

/// The reply form, or why there is none.
fn reply_form(base: &str, csrf: &str, reply: &ReplyBox) -> Markup {
    html! {
        @match reply {
            ReplyBox::Open(left) => {
                form.reply method="post" action={ (base) "/reply" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="body" { "Your reply" }
                    textarea #body name="body" rows="3" required maxlength="1600" {}
                    p.hint { "The 24-hour window closes in " (span_words(*left)) "; after that only an approved template can go." }
                    button type="submit" { "Send" }
                }
            }
            ReplyBox::TemplateOnly(why, channel) => {
                p.closed role="note" { (why) }
                form.reply method="post" action={ (base) "/template" } {
                    input type="hidden" name="csrf" value=(csrf);
                    @if *channel == Channel::Meta {
                        label for="template_name" { "Template name (as in WhatsApp Manager)" }
                        input #template_name name="template_name" required;
                        label for="language_code" { "Language" }
                        input #language_code name="language_code" value="en_US" required;
                        label for="values" { "Values for {{1}}, {{2}}, … (one per line)" }
                    } @else {
                        label for="content_sid" { "Content template SID (HX…)" }
                        input #content_sid name="content_sid" required pattern="HX[0-9a-fA-F]{32}";
                        label for="values" { "Values for {{1}}, {{2}}, … (one per line)" }
                    }
                    textarea #values name="values" rows="3" {}
                    button type="submit" { "Send the template" }
                }
            }
            ReplyBox::Refused(why) => {
                p.closed role="note" { (why) }
            }
        }
    }
}

/// Delivery ticks from the status events: ✓ sent, ✓✓ delivered, ✓✓ read.
fn ticks(message: &MessageRecord) -> Markup {
    let state = message.outbox.as_ref().map(|o| o.state);
    let status = message.status().and_then(ReportedStatus::ladder);
    let (mark, label) = match (state, status) {
        (_, Some(MessageStatus::Read)) => ("✓✓", "read"),
        (_, Some(MessageStatus::Delivered)) => ("✓✓", "delivered"),
        (_, Some(MessageStatus::Failed | MessageStatus::Undelivered | MessageStatus::Canceled)) => {
            ("⚠", "not delivered")
        }
        (Some(OutboxState::Sent), _) | (_, Some(MessageStatus::Sent)) => ("✓", "sent"),
        (Some(OutboxState::Failed), _) => ("⚠", "not sent"),
        (Some(OutboxState::Uncertain), _) => ("?", "maybe sent"),
        _ => ("🕓", "waiting to be sent"),
    };
    html! { span.ticks.(label.replace(' ', "-")) title=(label) aria-label=(label) { (mark) } }
}

/// A failure in words, if the message has one.
fn failure(message: &MessageRecord) -> Option<String> {
    let (code, why) = message.error()?;
    Some(match code.as_str() {
        "63016" | "131047" | "outside_window" => {
            "Not delivered: outside the 24-hour window. Send a template instead.".to_string()
        }
        "opted_out" | "21610" => "Not sent: this customer opted out (sent STOP).".to_string(),
        "uncertain" => "Maybe sent: shopbot stopped while sending. Check before resending.".to_string(),
        other => match why.filter(|w| !w.trim().is_empty()) {
            Some(why) => format!("Not delivered (code {other}): {why}"),
            None => format!("Not delivered (code {other})."),
        },
    })
}

/// The first line of a message, shortened.
fn preview(body: &str, has_media: bool) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = if flat.chars().count() > 80 {
        format!("{}…", flat.chars().take(80).collect::<String>())
    } else {
        flat
    };
    match (text.is_empty(), has_media) {
        (true, true) => "📎 photo".into(),
        (false, true) => format!("📎 {text}"),
        _ => text,
    }
}

/// "5 h 12 min" and friends.
fn span_words(span: jiff::SignedDuration) -> String {
    let minutes = span.as_secs().max(0) / 60;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// What an orders upload did.
pub enum Upload {
    /// The import ran: its counts and the rows it rejected.
    Done(ImportReport),
    /// Nothing was imported, and why.
    Refused(String),
}

/// The orders: the upload form, the last upload's report, the table.
pub fn orders(
    chrome: &Chrome<'_>,
    rows: &[OrderRecord],
    total: usize,
    search: &str,
    upload: Option<&Upload>,
) -> Markup {
    layout(
        "Orders",
        chrome.shop,
        Some(chrome.csrf),
        html! {
            h1 { "Orders" }
            @if let Some(upload) = upload { (upload_report(upload)) }
            form.upload method="post" action="/admin/orders" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(chrome.csrf);
                label for="file" { "Update orders from a spreadsheet (CSV)" }
                input #file type="file" name="file" accept=".csv,text/csv" required;
                button type="submit" { "Import" }
                p.hint {
                    "Columns: order number and status; optional phone (then only that customer can look it up), note and updated date. "
                    "Export from Excel or Google Sheets as CSV. Larger files (over 2 MB): "
                    code { "shopbot orders import FILE.csv" } " on the server."
                }
            }
            form.filters method="get" action="/admin/orders" {
                label for="q" { "Order number starts with" }
                input #q type="search" name="q" value=(search);
                button type="submit" { "Find" }
            }
            p.hint {
                @if search.is_empty() { (total) " orders" } @else { (rows.len()) " of " (total) " orders match" }
                @if rows.len() == ORDERS_CAP { " (the first " (ORDERS_CAP) " are shown: search for the rest)" }
            }
            @if !rows.is_empty() {
                table.submissions {
                    thead { tr { th { "Order" } th { "Status" } th { "Customer" } th { "Note" } th { "Updated" } } }
                    tbody {
                        @for order in rows {
                            tr {
                                td { (order.number) }
                                td { (order.status) }
                                td {
                                    @match &order.phone {
                                        Some(phone) => { "Only " (phone) }
                                        None => "Anyone with the number",
                                    }
                                }
                                td { (order.note.as_deref().unwrap_or_default()) }
                                td { (order.updated.as_deref().unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The most orders the page lists.
pub const ORDERS_CAP: usize = 500;

/// Rejected lines listed on the upload's page; the CLI lists them all.
pub const REJECTED_SHOWN: usize = 200;

/// An upload's outcome, each rejected row with its line (the first
/// [`REJECTED_SHOWN`]: a sheet of bad lines must not make a page of megabytes).
fn upload_report(upload: &Upload) -> Markup {
    match upload {
        Upload::Refused(why) => html! { p.problem role="alert" { "Nothing was imported: " (why) } },
        Upload::Done(report) => html! {
            section.report role="status" {
                p.notice {
                    "Imported: " (report.added) " added, " (report.updated) " updated, "
                    (report.unchanged) " unchanged, " (report.rejected.len()) " rejected."
                }
                @if report.notices != Default::default() {
                    p.notice { "Order updates: " (report.notices) "." }
                }
                @if !report.kept_columns.is_empty() {
                    p.hint { "Not in the file, so kept as they were: " (report.kept_columns.join(", ")) " (a column that is there but empty clears the value)." }
                }
                @if !report.rejected.is_empty() {
                    p.problem { "These lines were not imported; fix them in the spreadsheet and upload it again:" }
                    ul.rejected {
                        @for row in report.rejected.iter().take(REJECTED_SHOWN) { li { "Line " (row.line) ": " (row.reason) } }
                    }
                    @if report.rejected.len() > REJECTED_SHOWN {
                        p.hint {
                            "… and " (report.rejected.len() - REJECTED_SHOWN) " more lines were not imported. "
                            "`shopbot orders import FILE.csv` on the server lists every one."
                        }
                    }
                }
            }
        },
    }
}

/// What the owner just did on the outbox page.
#[derive(Debug, Clone, Copy)]
pub enum OutboxDone {
    /// A held or failed message is queued again.
    Resent,
    /// An uncertain message is marked sent (it arrived).
    MarkedSent,
    /// An uncertain message is dropped (it did not arrive).
    Dropped,
}

/// The outbox's confirmation, linking to the message in its conversation.
fn outbox_done(entries: &[OutboxEntry], (done, id): (OutboxDone, i64)) -> Markup {
    let said = match done {
        OutboxDone::Resent => "goes again",
        OutboxDone::MarkedSent => "is marked sent",
        OutboxDone::Dropped => "is dropped",
    };
    let to = entries.iter().find(|e| e.id == id).map(|e| &e.to);
    html! {
        p.notice.done role="status" {
            "✓ Message " (id) " " (said) ". "
            @if let Some(to) = to {
                a href={ "/admin/conversations/" (utf8_percent_encode(to, NON_ALPHANUMERIC)) "#m" (id) } { "See it in the conversation" }
            }
        }
    }
}

/// The outbox: each message's text or template, its state and last error.
pub fn outbox(chrome: &Chrome<'_>, entries: &[OutboxEntry], done: Option<(OutboxDone, i64)>) -> Markup {
    layout(
        "Outbox",
        chrome.shop,
        Some(chrome.csrf),
        html! {
            h1 { "Outbox" }
            @if let Some(done) = done { (outbox_done(entries, done)) }
            p.hint { "Messages the shop sends: replies, notifications, templates." }
            @if entries.is_empty() { p.empty { "Nothing sent yet." } }
            table.submissions {
                thead { tr { th { "#" } th { "To" } th { "What" } th { "State" } th { "" } } }
                tbody {
                    @for e in entries {
                        tr {
                            td { (e.id) }
                            td { a href={ "/admin/conversations/" (utf8_percent_encode(&e.to, NON_ALPHANUMERIC)) } { (e.to) } " · " (e.channel.facts().title) }
                            td {
                                (e.kind().as_str()) " · " (clock(e.created_at, chrome.tz()))
                                p.what { (what_it_says(&e.content)) }
                            }
                            td {
                                (e.state.as_str())
                                @if e.attempts > 1 { " after " (e.attempts) " tries" }
                                @if let Some(held) = e.held_by() {
                                    p.failure { (held) ": it goes once that one is sent again or resolved" }
                                } @else if let Some(code) = &e.error_code {
                                    p.failure { (code) ": " (e.error_message.clone().unwrap_or_default()) }
                                }
                            }
                            td {
                                @if matches!(e.state, OutboxState::Uncertain | OutboxState::Failed) {
                                    a href={ "/admin/outbox/" (e.id) "/retry" } { "Send again…" }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// An outbound message's words: its text, or its template and values.
fn what_it_says(content: &Content) -> String {
    let values = |values: Vec<(String, &String)>| {
        values
            .iter()
            .map(|(key, v)| format!("{{{{{key}}}}} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match content {
        Content::Text { body, media_urls } if body.is_empty() => format!("📎 {}", media_urls.join(" ")),
        Content::Text { body, .. } | Content::Reply { body, .. } => body.clone(),
        Content::Template(template) => format!(
            "Template {}{}: {}",
            template.name,
            template
                .language
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default(),
            values(template.variables.iter().map(|(k, v)| (k.clone(), v)).collect())
        ),
    }
}

/// The confirmation before an uncertain or failed message goes out again.
pub fn confirm_retry(chrome: &Chrome<'_>, entry: &OutboxEntry) -> Markup {
    let why = match entry.state {
        OutboxState::Uncertain => "shopbot stopped, or lost the provider's answer, while sending it: the customer may already have it. It was not sent again by itself so that they never get it twice. Check the customer's chat (or the provider's console) first.",
        _ => "it failed for good (the reason is below): sending it again only helps if the cause is gone, e.g. the customer wrote again and the 24-hour window is open.",
    };
    layout(
        "Send again?",
        chrome.shop,
        Some(chrome.csrf),
        html! {
            h1 { "Send message " (entry.id) " again?" }
            p { "To " (entry.to) " on " (entry.channel.facts().title) ". It is " strong { (entry.state.as_str()) } ": " (why) }
            @if let Some(code) = &entry.error_code { p.failure { (code) ": " (entry.error_message.clone().unwrap_or_default()) } }
            form method="post" action={ "/admin/outbox/" (entry.id) "/retry" } {
                input type="hidden" name="csrf" value=(chrome.csrf);
                button type="submit" { "Yes, send it again" }
                " "
                a href="/admin/outbox" { "No, go back" }
            }
            @if entry.state == OutboxState::Uncertain {
                p { "Or, without sending it again (the messages to this customer waiting behind it then go):" }
                @for (arrived, label) in [("yes", "It arrived: mark it sent"), ("no", "It did not arrive: drop it")] {
                    form.inline method="post" action={ "/admin/outbox/" (entry.id) "/resolve" } {
                        input type="hidden" name="csrf" value=(chrome.csrf);
                        input type="hidden" name="arrived" value=(arrived);
                        button type="submit" { (label) }
                    }
                }
            }
        },
    )
}

/// "5 min ago" and friends.
fn age(at: Timestamp, now: Timestamp) -> String {
    let secs = now.duration_since(at).as_secs().max(0);
    match secs {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

/// A time in the shop's zone.
fn clock(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string()
}

/// The stylesheet (no CDN; works offline and on a phone).
pub const CSS: &str = include_str!("admin.css");

/// The one script: live updates (reading and replying work without it).
pub const LIVE_JS: &str = include_str!("live.js");
