//! The inbox's pages, server-rendered with `maud`: templates are Rust macros
//! checked at compile time and every value is escaped, so a customer's text
//! can never become markup. Plain forms do all the work (no JavaScript needed);
//! the one stylesheet is embedded and served from `/admin/static/`.
//!
//! Every word the owner reads comes from the inbox catalog
//! ([`crate::engine::catalog::inbox`]) through [`Chrome::words`] (or the
//! [`Words`] a page is given); what stays inline is no language: markup,
//! class names, commands in `<code>`, the providers' names, separators.

use jiff::{tz::TimeZone, Timestamp};
use maud::{html, Markup, DOCTYPE};

use crate::engine::catalog::endonym;
use crate::engine::catalog::inbox::Words;
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
    /// The inbox's texts, in the owner's language.
    pub words: Words,
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
        let w = self.words;
        Some(match hours.open_until(self.now) {
            Some(until) => w.fill("shop_open_until", &[("time", &until.strftime("%H:%M").to_string())]),
            None => match hours.next_open(self.now) {
                Some(next) => w.fill(
                    "shop_closed_opens",
                    &[("when", &hours.say_when(&next, self.now, w.language()))],
                ),
                None => w.get("shop_closed").to_string(),
            },
        })
    }

    /// Whether a customer started waiting while the shop was closed.
    fn arrived_closed(&self, since: Timestamp) -> bool {
        self.bot.hours.as_ref().is_some_and(|hours| !hours.is_open(since))
    }
}

/// The page frame.
fn layout(w: Words, title: &str, shop: &str, csrf: Option<&str>, body: Markup) -> Markup {
    layout_live(w, title, shop, csrf, None, body)
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
fn layout_live(w: Words, title: &str, shop: &str, csrf: Option<&str>, live: Option<Live>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(w.language()) {
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
                    @if let Some(csrf) = csrf { (navigation(w, csrf)) }
                }
                @if let Some(live) = &live {
                    @let (news, after) = w.around("live_news", "show", &[]);
                    div.live {
                        p #news hidden role="status" { (news) a href=(live.show) { (w.get("live_show")) } (after) }
                        button #bell type="button" aria-pressed="false" { (w.get("live_bell")) }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The pages' links and the sign-out button.
fn navigation(w: Words, csrf: &str) -> Markup {
    html! {
        nav {
            a href="/admin/" { (w.get("nav_inbox")) }
            a href="/admin/submissions" { (w.get("nav_submissions")) }
            a href="/admin/orders" { (w.get("nav_orders")) }
            a href="/admin/outbox" { (w.get("nav_outbox")) }
            form method="post" action="/admin/logout" {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" { (w.get("sign_out")) }
            }
        }
    }
}

/// The sign-in form; `problem` says why the last try failed.
pub fn login(w: Words, shop: &str, next: &str, problem: Option<&str>) -> Markup {
    let (name_hint, name_hint_after) = w.around("login_name_hint", "command", &[]);
    let (forgot, forgot_after) = w.around("login_forgot", "command", &[]);
    layout(
        w,
        w.get("login_title"),
        shop,
        None,
        html! {
            section.login {
                h1 { (w.get("login_heading")) }
                @if let Some(problem) = problem {
                    p.problem role="alert" { (problem) }
                }
                form method="post" action="/admin/login" {
                    input type="hidden" name="next" value=(next);
                    label for="name" { (w.get("login_name")) }
                    input #name name="name" autocomplete="username" autocapitalize="none";
                    p.hint { (name_hint) code { "shopbot dashboard add-user NAME" } (name_hint_after) }
                    label for="password" { (w.get("login_password")) }
                    input #password type="password" name="password" autocomplete="current-password" required;
                    button type="submit" { (w.get("login_button")) }
                }
                p.hint { (forgot) code { "shopbot dashboard set-password" } (forgot_after) }
            }
        },
    )
}

/// The inbox: conversations, those waiting for a person first.
pub fn inbox(chrome: &Chrome<'_>, rows: &[InboxRow], page: usize, pages: usize, latest: i64) -> Markup {
    let w = chrome.words;
    layout_live(
        w,
        w.get("inbox_title"),
        chrome.shop,
        Some(chrome.csrf),
        Some(Live {
            page: "inbox",
            latest,
            conversation: None,
            show: "/admin/".into(),
        }),
        html! {
            h1 { (w.get("inbox_title")) }
            @if let Some(status) = chrome.shop_status() { p.shop-hours role="status" { (status) } }
            @if rows.is_empty() {
                p.empty { (w.get("inbox_empty")) }
            }
            ul.inbox {
                @for row in rows { (inbox_row(chrome, row)) }
            }
            @if pages > 1 { (page_links(w, page, pages)) }
        },
    )
}

/// One conversation in the inbox's list.
fn inbox_row(chrome: &Chrome<'_>, row: &InboxRow) -> Markup {
    let w = chrome.words;
    let last = preview(w, &row.body, row.has_media);
    html! {
        li.waiting[row.waiting_since.is_some()] {
            a href={ "/admin/conversations/" (row.contact.0) "#reply" } {
                span.card-main {
                    span.who { (row.name.clone().unwrap_or_else(|| row.who.display())) }
                    @if row.name.is_some() { span.number { (row.who.display()) } }
                    span.tags {
                        span.channel { (channel_name(w, row.channel)) }
                        @if chrome.is_staff(&row.who) { span.badge.staff title=(w.get("badge_staff_title")) { (w.get("badge_staff")) } }
                        @if row.waiting_since.is_some() { span.badge.wait { (w.get("badge_waiting")) } }
                        @if row.waiting_since.is_some_and(|since| chrome.arrived_closed(since)) {
                            span.badge.closed { (w.get("badge_arrived_closed")) }
                        }
                    }
                }
                span.card-side {
                    time datetime=(row.at.to_string()) { (age(w, row.at, chrome.now)) }
                    @if row.unread > 0 {
                        span.badge.unread aria-label=(w.fill("unread", &[("count", &row.unread.to_string())])) { (row.unread) }
                    }
                }
                span.last {
                    @if row.direction == Direction::Outbound { (w.fill("you_wrote", &[("text", &last)])) } @else { (last) }
                }
            }
        }
    }
}

/// The links to the inbox's newer and older pages.
fn page_links(w: Words, page: usize, pages: usize) -> Markup {
    let of = w.fill(
        "pages_of",
        &[("page", &page.to_string()), ("pages", &pages.to_string())],
    );
    html! {
        nav.pages aria-label=(w.get("pages")) {
            @if page > 1 { a href={ "/admin/?page=" (page - 1) } { (w.get("pages_newer")) } }
            span { (of) }
            @if page < pages { a href={ "/admin/?page=" (page + 1) } { (w.get("pages_older")) } }
        }
    }
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
    let w = chrome.words;
    layout(
        w,
        w.get("submissions_title"),
        chrome.shop,
        Some(chrome.csrf),
        html! {
            h1 { (w.get("submissions_title")) }
            form.filters method="get" action="/admin/submissions" {
                label for="form" { (w.get("filter_form")) }
                select #form name="form" {
                    option value="" selected[form.is_empty()] { (w.get("filter_all_forms")) }
                    @for (name, prefix) in forms {
                        option value=(name) selected[form == name] { (prefix) " · " (name) }
                    }
                }
                label for="since" { (w.get("filter_since")) }
                input #since type="date" name="since" value=(since);
                button type="submit" { (w.get("filter_show")) }
                a.download href={ "/admin/submissions.csv?" (query) } { (w.get("submissions_download")) }
            }
            @if let Some(saved) = saved { p.notice role="status" { (saved) } }
            @if rows.is_empty() { p.empty { (w.get("submissions_empty")) } }
            table.submissions {
                thead { (headings(w, &["column_id", "column_when", "column_customer", "column_answers", "column_status"])) }
                tbody {
                    @for row in rows {
                        tr id=(row.public_id) {
                            td.public-id { (row.public_id) }
                            td { (clock(row.created_at, chrome.tz())) }
                            td {
                                a href={ "/admin/conversations/" (utf8_percent_encode(&row.phone, NON_ALPHANUMERIC)) "#reply" } {
                                    (row.profile_name.clone().unwrap_or_else(|| row.phone.clone()))
                                }
                            }
                            td { (answers(w, row)) }
                            td { (status_form(chrome, row, (form, since))) }
                        }
                    }
                }
            }
        },
    )
}

/// A table's head row: the texts `keys`.
fn headings(w: Words, keys: &[&str]) -> Markup {
    html! { tr { @for key in keys { th { (w.get(key)) } } } }
}

/// The owner's word for a submission's status.
pub fn status_word(w: Words, status: SubmissionStatus) -> &'static str {
    w.get(match status {
        SubmissionStatus::New => "status_new",
        SubmissionStatus::InProgress => "status_in_progress",
        SubmissionStatus::Done => "status_done",
    })
}

/// A submission's status and note, for the owner to set (`filters`: the
/// page's, to come back to).
fn status_form(chrome: &Chrome<'_>, row: &SubmissionRecord, (form, since): (&str, &str)) -> Markup {
    let w = chrome.words;
    html! {
        form.status method="post" action={ "/admin/submissions/" (row.public_id) "/status" } {
            input type="hidden" name="csrf" value=(chrome.csrf);
            input type="hidden" name="form" value=(form);
            input type="hidden" name="since" value=(since);
            label {
                (w.get("status_field")) " "
                select name="status" {
                    @for status in SubmissionStatus::ALL {
                        option value=(status.as_str()) selected[status == row.status] { (status_word(w, status)) }
                    }
                }
            }
            label {
                (w.get("note_field")) " "
                textarea name="note" rows="2" maxlength=(MAX_NOTE_CHARS) { (row.status_note.as_deref().unwrap_or_default()) }
            }
            button type="submit" { (w.get("status_save")) }
            @if let Some(at) = row.status_at { p.hint { (w.fill("status_set_at", &[("time", &clock(at, chrome.tz()))])) } }
        }
    }
}

/// What a path segment escapes: everything but letters, digits, `-`, `_` and `.`.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// A submission's answers: each field with what the customer sent, a photo
/// as a thumbnail (fetched through `/admin/submissions/{id}/media/{n}`, as a
/// conversation's photos are), any other file as a link.
fn answers(w: Words, submission: &SubmissionRecord) -> Markup {
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
            p { span.field { (w.fill("answer_field", &[("field", &answer.field)])) } (answer.text) }
            @for (n, media) in media {
                @let href = format!("{base}/{n}");
                @if media.content_type.starts_with("image/") {
                    a.photo href=(href) {
                        img src=(href) alt=(w.fill("answer_photo", &[("field", &answer.field)])) loading="lazy";
                    }
                } @else {
                    p.media { a href=(href) { (attachment_label(w, media)) } }
                }
            }
        }
    }
}

/// "📎 image/jpeg", or "📎 attachment" when the type is unknown.
fn attachment_label(w: Words, media: &crate::message::Media) -> String {
    let what = if media.content_type.is_empty() {
        w.get("attachment")
    } else {
        &media.content_type
    };
    w.fill("attached", &[("what", what)])
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
    /// The conversation went back to the bot (the action's id, for its note).
    HandedBack(Option<i64>),
}

impl Notice<'_> {
    /// The notice as the page shows it: a problem as an alert, a done thing
    /// with a link to the message it made.
    fn render(&self, w: Words) -> Markup {
        match self {
            Notice::Problem(why) => html! { p.notice.problem role="alert" { (why) } },
            Notice::Sent(id) => {
                let (sent, after) = w.around("notice_sent", "link", &[]);
                html! {
                    p.notice.done role="status" {
                        (sent) a href={ "#m" (id) } { (w.get("notice_see_message")) } (after)
                    }
                }
            }
            Notice::HandedBack(action) => {
                let (done, after) = w.around("notice_handed_back", "link", &[]);
                html! {
                    p.notice.done role="status" {
                        (done)
                        @if let Some(id) = action { a href={ "#a" (id) } { (w.get("notice_see_note")) } }
                        (after)
                    }
                }
            }
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
    let w = chrome.words;
    layout_live(
        w,
        &name,
        chrome.shop,
        Some(chrome.csrf),
        Some(live),
        html! {
            div.conversation-head {
                h1 { (name) }
                @if contact.name.is_some() { p.number { (contact.who.display()) } }
                @if let Some(language) = language { (language_form(w, &base, chrome.csrf, language)) }
                @if let Some(since) = contact.waiting_since {
                    @let key = if chrome.arrived_closed(since) { "waiting_since_closed" } else { "waiting_since" };
                    p.badge.wait { (w.fill(key, &[("time", &clock(since, chrome.tz()))])) }
                } @else if with_person {
                    p.badge.person { (w.get("with_person")) }
                }
                @if contact.waiting_since.is_some() || with_person {
                    form method="post" action={ (base) "/resolve" } {
                        input type="hidden" name="csrf" value=(chrome.csrf);
                        button type="submit" { (w.get("hand_back")) }
                    }
                }
            }
            @if !submissions.is_empty() { (forms_filled(chrome, submissions)) }
            ol.thread {
                @for (notes, message) in interleave(thread.actions, messages) {
                    @for note in notes { (action_note(w, note, chrome.tz())) }
                    @if let Some(message) = message { (bubbles(w, message, chrome.tz())) }
                }
            }
            section #reply {
                @if let Some(notice) = notice { (notice.render(w)) }
                (reply_form(w, &base, chrome.csrf, reply))
            }
        },
    )
}

/// The customer's submissions above their conversation, each with its status
/// (a link to it on the Submissions page) and the owner's note.
fn forms_filled(chrome: &Chrome<'_>, submissions: &[SubmissionRecord]) -> Markup {
    let w = chrome.words;
    html! {
        details.forms open {
            summary { (w.fill("forms_filled", &[("count", &submissions.len().to_string())])) }
            @for submission in submissions {
                div.form {
                    p {
                        strong.public-id { (submission.public_id) } " · " (clock(submission.created_at, chrome.tz())) " · "
                        a.status href={ "/admin/submissions?form=" (utf8_percent_encode(&submission.form, NON_ALPHANUMERIC)) "#" (submission.public_id) } {
                            (status_word(w, submission.status))
                        }
                    }
                    @if let Some(note) = &submission.status_note { p.note { (w.fill("your_note", &[("note", note)])) } }
                    (answers(w, submission))
                }
            }
        }
    }
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
fn action_note(w: Words, note: &ActionRecord, tz: &TimeZone) -> Markup {
    let key = match note.action {
        InboxAction::HandedBack => "action_handed_back",
        InboxAction::Resent => "action_resent",
        InboxAction::MarkedSent => "action_marked_sent",
        InboxAction::Dropped => "action_dropped",
    };
    let id = note.message.unwrap_or_default().to_string();
    let what = w.fill(key, &[("user", &note.user), ("id", &id)]);
    html! {
        li.note id={ "a" (note.id) } { (what) " · " time datetime=(note.at.to_string()) { (clock(note.at, tz)) } }
    }
}

/// A message, and for an inbound one the bot's reply to it.
fn bubbles(w: Words, message: &MessageRecord, tz: &TimeZone) -> Markup {
    let from_customer = message.direction == Direction::Inbound;
    html! {
        li.msg.customer[from_customer].shop[!from_customer] id=[message.id.map(|id| format!("m{id}"))] {
            @if let Some(by) = &message.sent_by { p.by { (w.fill("sent_by", &[("name", by)])) } }
            @if let Some(body) = message.body.as_deref().filter(|b| !b.is_empty()) { p { (body) } }
            @for (n, media) in message.media.iter().enumerate() {
                @let label = attachment_label(w, media);
                @match message.id.filter(|_| from_customer) {
                    Some(id) if media.content_type.starts_with("image/") => {
                        a.photo href={ "/admin/media/" (id) "/" (n) } {
                            img src={ "/admin/media/" (id) "/" (n) } alt=(w.get("customer_photo")) loading="lazy";
                        }
                    }
                    Some(id) => p.media { a href={ "/admin/media/" (id) "/" (n) } { (label) } },
                    None => p.media { (label) },
                }
            }
            span.meta {
                time datetime=(message.created_at.to_string()) { (clock(message.created_at, tz)) }
                @if !from_customer { " " (ticks(w, message)) }
            }
            @if let Some(problem) = failure(w, message) { p.failure { (problem) } }
        }
        @if let Some(reply) = &message.reply {
            @if !reply.is_empty() {
                li.msg.bot {
                    @for part in &reply.parts { (reply_part(w, part)) }
                    span.meta { (w.get("bot")) }
                }
            }
        }
    }
}

/// One part of the bot's reply as the customer saw it: a menu's options as
/// the buttons they tap (numbered, as they can type them too).
fn reply_part(w: Words, part: &ReplyPart) -> Markup {
    match part {
        ReplyPart::Text(text) => html! { p { (text) } },
        ReplyPart::Choice { choice } => html! {
            p { (choice.text) }
            ol.options aria-label=(w.get("options")) {
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
fn language_form(w: Words, base: &str, csrf: &str, language: &LanguageBox) -> Markup {
    let by_number = if language.picked {
        w.get("language_by_number").to_string()
    } else {
        w.fill("language_by_number_is", &[("language", endonym(&language.current))])
    };
    html! {
        form.language method="post" action={ (base) "/language" } {
            input type="hidden" name="csrf" value=(csrf);
            label for="language" { (w.get("language_field")) " " }
            select #language name="language" {
                option value="" selected[!language.picked] { (by_number) }
                @for code in &language.offer {
                    option value=(code) selected[language.picked && *code == language.current] { (endonym(code)) }
                }
            }
            " "
            button type="submit" { (w.get("language_set")) }
        }
    }
}

/// The reply form, or why there is none.
fn reply_form(w: Words, base: &str, csrf: &str, reply: &ReplyBox) -> Markup {
    html! {
        @match reply {
            ReplyBox::Open(left) => {
                form.reply method="post" action={ (base) "/reply" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="body" { (w.get("reply_field")) }
                    textarea #body name="body" rows="3" required maxlength="1600" {}
                    p.hint { (w.fill("reply_window", &[("left", &span_words(w, *left))])) }
                    button type="submit" { (w.get("reply_send")) }
                }
            }
            ReplyBox::TemplateOnly(why, channel) => {
                p.closed role="note" { (why) }
                (template_form(w, base, csrf, *channel))
            }
            ReplyBox::Refused(why) => {
                p.closed role="note" { (why) }
            }
        }
    }
}

/// The template form, for when only a template may go: a Meta template's
/// name and language, or a Twilio content template's SID, and the values.
fn template_form(w: Words, base: &str, csrf: &str, channel: Channel) -> Markup {
    html! {
        form.reply method="post" action={ (base) "/template" } {
            input type="hidden" name="csrf" value=(csrf);
            @if channel == Channel::Meta {
                label for="template_name" { (w.get("template_name")) }
                input #template_name name="template_name" required;
                label for="language_code" { (w.get("template_language")) }
                input #language_code name="language_code" value="en_US" required;
            } @else {
                label for="content_sid" { (w.get("template_sid")) }
                input #content_sid name="content_sid" required pattern="HX[0-9a-fA-F]{32}";
            }
            label for="values" { (w.get("template_values")) }
            textarea #values name="values" rows="3" {}
            button type="submit" { (w.get("template_send")) }
        }
    }
}

/// Delivery ticks from the status events: ✓ sent, ✓✓ delivered, ✓✓ read
/// (the class names the tick in English, for the stylesheet).
fn ticks(w: Words, message: &MessageRecord) -> Markup {
    let state = message.outbox.as_ref().map(|o| o.state);
    let status = message.status().and_then(ReportedStatus::ladder);
    let (mark, class, key) = match (state, status) {
        (_, Some(MessageStatus::Read)) => ("✓✓", "read", "tick_read"),
        (_, Some(MessageStatus::Delivered)) => ("✓✓", "delivered", "tick_delivered"),
        (_, Some(MessageStatus::Failed | MessageStatus::Undelivered | MessageStatus::Canceled)) => {
            ("⚠", "not-delivered", "tick_not_delivered")
        }
        (Some(OutboxState::Sent), _) | (_, Some(MessageStatus::Sent)) => ("✓", "sent", "tick_sent"),
        (Some(OutboxState::Failed), _) => ("⚠", "not-sent", "tick_not_sent"),
        (Some(OutboxState::Uncertain), _) => ("?", "maybe-sent", "tick_maybe_sent"),
        _ => ("🕓", "waiting-to-be-sent", "tick_waiting"),
    };
    let label = w.get(key);
    html! { span.ticks.(class) title=(label) aria-label=(label) { (mark) } }
}

/// A failure in words, if the message has one. A message still queued after
/// a failed try is not a failure yet: it says it will be tried again.
fn failure(w: Words, message: &MessageRecord) -> Option<String> {
    let (code, why) = message.error()?;
    if message.outbox.as_ref().is_some_and(|o| o.state == OutboxState::Queued) {
        let why = why.unwrap_or_default();
        return Some(w.fill("retrying_code_why", &[("code", &code), ("why", &why)]));
    }
    Some(match code.as_str() {
        "63016" | "131047" | "outside_window" => w.get("failed_window").to_string(),
        "opted_out" | "21610" => w.get("failed_opted_out").to_string(),
        "uncertain" => w.get("failed_uncertain").to_string(),
        other => match why.filter(|w| !w.trim().is_empty()) {
            Some(why) => w.fill("failed_code_why", &[("code", other), ("why", &why)]),
            None => w.fill("failed_code", &[("code", other)]),
        },
    })
}

/// A channel's name (the providers' are their own).
fn channel_name(w: Words, channel: Channel) -> &'static str {
    if channel.is_provider() {
        channel.facts().title
    } else {
        w.get("channel_local")
    }
}

/// The first line of a message, shortened.
fn preview(w: Words, body: &str, has_media: bool) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = if flat.chars().count() > 80 {
        format!("{}…", flat.chars().take(80).collect::<String>())
    } else {
        flat
    };
    match (text.is_empty(), has_media) {
        (true, true) => w.get("attached_photo").into(),
        (false, true) => w.fill("attached", &[("what", &text)]),
        _ => text,
    }
}

/// "5 h 12 min" and friends.
fn span_words(w: Words, span: jiff::SignedDuration) -> String {
    let minutes = span.as_secs().max(0) / 60;
    let (hours, minutes) = ((minutes / 60).to_string(), (minutes % 60).to_string());
    match hours.as_str() {
        "0" => w.fill("span_minutes", &[("minutes", &minutes)]),
        _ => w.fill("span_hours", &[("hours", &hours), ("minutes", &minutes)]),
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
    let w = chrome.words;
    let (hint, hint_after) = w.around("upload_hint", "command", &[]);
    layout(
        w,
        w.get("orders_title"),
        chrome.shop,
        Some(chrome.csrf),
        html! {
            h1 { (w.get("orders_title")) }
            @if let Some(upload) = upload { (upload_report(w, upload)) }
            form.upload method="post" action="/admin/orders" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(chrome.csrf);
                label for="file" { (w.get("upload_field")) }
                input #file type="file" name="file" accept=".csv,text/csv" required;
                button type="submit" { (w.get("upload_button")) }
                p.hint { (hint) code { "shopbot orders import FILE.csv" } (hint_after) }
            }
            form.filters method="get" action="/admin/orders" {
                label for="q" { (w.get("search_field")) }
                input #q type="search" name="q" value=(search);
                button type="submit" { (w.get("search_button")) }
            }
            p.hint { (orders_count(w, rows.len(), total, search.is_empty())) }
            @if !rows.is_empty() { (orders_table(w, rows)) }
        },
    )
}

/// "12 orders", "3 of 12 orders match", and whether the list is cut short.
fn orders_count(w: Words, shown: usize, total: usize, all: bool) -> String {
    let total = total.to_string();
    let mut count = if all {
        w.fill("orders_count", &[("total", &total)])
    } else {
        w.fill("orders_match", &[("shown", &shown.to_string()), ("total", &total)])
    };
    if shown == ORDERS_CAP {
        count.push(' ');
        count.push_str(&w.fill("orders_capped", &[("cap", &ORDERS_CAP.to_string())]));
    }
    count
}

/// The orders' table.
fn orders_table(w: Words, rows: &[OrderRecord]) -> Markup {
    html! {
        table.submissions {
            thead { (headings(w, &["column_order", "column_status", "column_customer", "column_note", "column_updated"])) }
            tbody {
                @for order in rows {
                    tr {
                        td { (order.number) }
                        td { (order.status) }
                        td {
                            @match &order.phone {
                                Some(phone) => { (w.fill("order_only", &[("phone", phone)])) }
                                None => (w.get("order_anyone")),
                            }
                        }
                        td { (order.note.as_deref().unwrap_or_default()) }
                        td { (order.updated.as_deref().unwrap_or_default()) }
                    }
                }
            }
        }
    }
}

/// The most orders the page lists.
pub const ORDERS_CAP: usize = 500;

/// Rejected lines listed on the upload's page; the CLI lists them all.
pub const REJECTED_SHOWN: usize = 200;

/// An upload's outcome, each rejected row with its line (the first
/// [`REJECTED_SHOWN`]: a sheet of bad lines must not make a page of megabytes).
fn upload_report(w: Words, upload: &Upload) -> Markup {
    match upload {
        Upload::Refused(why) => html! { p.problem role="alert" { (w.fill("upload_refused", &[("why", why)])) } },
        Upload::Done(report) => html! {
            section.report role="status" {
                p.notice { (upload_counts(w, report)) }
                @if report.notices != Default::default() {
                    p.notice { (w.fill("upload_notices", &[("notices", &report.notices.to_string())])) }
                }
                @if !report.kept_columns.is_empty() {
                    p.hint { (w.fill("upload_kept", &[("columns", &report.kept_columns.join(", "))])) }
                }
                @if !report.rejected.is_empty() { (rejected_rows(w, report)) }
            }
        },
    }
}

/// "Imported: 3 added, 1 updated, …".
fn upload_counts(w: Words, report: &ImportReport) -> String {
    let count = |n: usize| n.to_string();
    w.fill(
        "upload_done",
        &[
            ("added", &count(report.added)),
            ("updated", &count(report.updated)),
            ("unchanged", &count(report.unchanged)),
            ("rejected", &count(report.rejected.len())),
        ],
    )
}

/// The rows an upload rejected, each with its line and why.
fn rejected_rows(w: Words, report: &ImportReport) -> Markup {
    let more = report.rejected.len().saturating_sub(REJECTED_SHOWN);
    html! {
        p.problem { (w.get("upload_rejected")) }
        ul.rejected {
            @for row in report.rejected.iter().take(REJECTED_SHOWN) {
                li { (w.fill("upload_rejected_line", &[("line", &row.line.to_string()), ("reason", &row.reason)])) }
            }
        }
        @if more > 0 {
            p.hint { (w.fill("upload_rejected_more", &[("more", &more.to_string())])) }
        }
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
fn outbox_done(w: Words, entries: &[OutboxEntry], (done, id): (OutboxDone, i64)) -> Markup {
    let key = match done {
        OutboxDone::Resent => "outbox_resent",
        OutboxDone::MarkedSent => "outbox_marked_sent",
        OutboxDone::Dropped => "outbox_dropped",
    };
    let to = entries.iter().find(|e| e.id == id).map(|e| &e.to);
    html! {
        p.notice.done role="status" {
            (w.fill(key, &[("id", &id.to_string())])) " "
            @if let Some(to) = to {
                a href={ "/admin/conversations/" (utf8_percent_encode(to, NON_ALPHANUMERIC)) "#m" (id) } { (w.get("outbox_see_it")) }
            }
        }
    }
}

/// The outbox: each message's text or template, its state and last error.
pub fn outbox(chrome: &Chrome<'_>, entries: &[OutboxEntry], done: Option<(OutboxDone, i64)>) -> Markup {
    let w = chrome.words;
    layout(
        w,
        w.get("outbox_title"),
        chrome.shop,
        Some(chrome.csrf),
        html! {
            h1 { (w.get("outbox_title")) }
            @if let Some(done) = done { (outbox_done(w, entries, done)) }
            p.hint { (w.get("outbox_hint")) }
            @if entries.is_empty() { p.empty { (w.get("outbox_empty")) } }
            table.submissions {
                thead { tr {
                    @for key in ["column_number", "column_to", "column_what", "column_state"] { th { (w.get(key)) } }
                    th { "" }
                } }
                tbody {
                    @for e in entries { (outbox_row(chrome, e)) }
                }
            }
        },
    )
}

/// One outbound message in the outbox's table.
fn outbox_row(chrome: &Chrome<'_>, e: &OutboxEntry) -> Markup {
    let w = chrome.words;
    html! {
        tr {
            td { (e.id) }
            td { a href={ "/admin/conversations/" (utf8_percent_encode(&e.to, NON_ALPHANUMERIC)) "#reply" } { (e.to) } " · " (channel_name(w, e.channel)) }
            td {
                (kind_word(w, e.kind())) " · " (clock(e.created_at, chrome.tz()))
                p.what { (what_it_says(w, &e.content)) }
            }
            td {
                (state_word(w, e.state))
                @if e.attempts > 1 { " " (w.fill("outbox_attempts", &[("attempts", &e.attempts.to_string())])) }
                @if let Some(behind) = e.waiting_behind {
                    p.failure { (w.fill("outbox_held", &[("id", &behind.to_string())])) }
                } @else if let Some(code) = &e.error_code { (error_line(w, code, e.error_message.as_deref())) }
            }
            td {
                @if matches!(e.state, OutboxState::Uncertain | OutboxState::Failed) {
                    a href={ "/admin/outbox/" (e.id) "/retry" } { (w.get("outbox_send_again")) }
                }
            }
        }
    }
}

/// A message's last error: its code and the provider's words.
fn error_line(w: Words, code: &str, message: Option<&str>) -> Markup {
    html! { p.failure { (w.fill("outbox_error", &[("code", code), ("message", message.unwrap_or_default())])) } }
}

/// What kind of message it is, in the owner's words.
fn kind_word(w: Words, kind: crate::message::ContentKind) -> &'static str {
    use crate::message::ContentKind;
    w.get(match kind {
        ContentKind::Text => "kind_text",
        ContentKind::Template => "kind_template",
        ContentKind::Reply => "kind_reply",
    })
}

/// Where an outbound message is, in the owner's words.
fn state_word(w: Words, state: OutboxState) -> &'static str {
    w.get(match state {
        OutboxState::Queued => "state_queued",
        OutboxState::Sending => "state_sending",
        OutboxState::Sent => "state_sent",
        OutboxState::Failed => "state_failed",
        OutboxState::Uncertain => "state_uncertain",
    })
}

/// An outbound message's words: its text, or its template and values.
fn what_it_says(w: Words, content: &Content) -> String {
    let values = |values: Vec<(String, &String)>| {
        values
            .iter()
            .map(|(key, v)| format!("{{{{{key}}}}} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match content {
        Content::Text { body, media_urls } if body.is_empty() => w.fill("attached", &[("what", &media_urls.join(" "))]),
        Content::Text { body, .. } | Content::Reply { body, .. } => body.clone(),
        Content::Template(template) => {
            let values = values(template.variables.iter().map(|(k, v)| (k.clone(), v)).collect());
            match &template.language {
                None => w.fill("outbox_template", &[("name", &template.name), ("values", &values)]),
                Some(language) => w.fill(
                    "outbox_template_language",
                    &[("name", &template.name), ("language", language), ("values", &values)],
                ),
            }
        }
    }
}

/// The confirmation before an uncertain or failed message goes out again.
pub fn confirm_retry(chrome: &Chrome<'_>, entry: &OutboxEntry) -> Markup {
    let w = chrome.words;
    let why = w.get(match entry.state {
        OutboxState::Uncertain => "retry_why_uncertain",
        _ => "retry_why_failed",
    });
    let values = [
        ("to", entry.to.as_str()),
        ("channel", channel_name(w, entry.channel)),
        ("why", why),
    ];
    let (what, what_after) = w.around("retry_what", "state", &values);
    layout(
        w,
        w.get("retry_title"),
        chrome.shop,
        Some(chrome.csrf),
        html! {
            h1 { (w.fill("retry_heading", &[("id", &entry.id.to_string())])) }
            p { (what) strong { (state_word(w, entry.state)) } (what_after) }
            @if let Some(code) = &entry.error_code { (error_line(w, code, entry.error_message.as_deref())) }
            form method="post" action={ "/admin/outbox/" (entry.id) "/retry" } {
                input type="hidden" name="csrf" value=(chrome.csrf);
                button type="submit" { (w.get("retry_yes")) }
                " "
                a href="/admin/outbox" { (w.get("retry_no")) }
            }
            @if entry.state == OutboxState::Uncertain { (resolve_forms(chrome, entry.id)) }
        },
    )
}

/// The owner's word on an uncertain message without sending it again: it
/// arrived, or it did not.
fn resolve_forms(chrome: &Chrome<'_>, id: i64) -> Markup {
    let w = chrome.words;
    html! {
        p { (w.get("retry_or")) }
        @for (arrived, key) in [("yes", "resolve_arrived"), ("no", "resolve_dropped")] {
            form.inline method="post" action={ "/admin/outbox/" (id) "/resolve" } {
                input type="hidden" name="csrf" value=(chrome.csrf);
                input type="hidden" name="arrived" value=(arrived);
                button type="submit" { (w.get(key)) }
            }
        }
    }
}

/// "5 min ago" and friends.
fn age(w: Words, at: Timestamp, now: Timestamp) -> String {
    let secs = now.duration_since(at).as_secs().max(0);
    let (key, name, n) = match secs {
        0..=59 => return w.get("age_now").into(),
        60..=3599 => ("age_minutes", "minutes", secs / 60),
        3600..=86_399 => ("age_hours", "hours", secs / 3600),
        _ => ("age_days", "days", secs / 86_400),
    };
    w.fill(key, &[(name, &n.to_string())])
}

/// A time in the shop's zone.
fn clock(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string()
}

/// The stylesheet (no CDN; works offline and on a phone).
pub const CSS: &str = include_str!("admin.css");

/// The one script: live updates (reading and replying work without it).
pub const LIVE_JS: &str = include_str!("live.js");
