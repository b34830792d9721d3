//! The conversations: the list (those waiting for a person first), one
//! conversation with its reply box, the owner's reply or template, hand-back
//! to the bot, live updates, and customers' attachments.

use super::{chrome, html, pages, query_param, words, Inbox, SignedIn};
use crate::channel::client::Fetched;
use crate::engine::State;
use crate::http::router::Call;
use crate::http::{demo, errors, Response};
use crate::message::{Content, ContentKind, Direction};
use crate::outbox::policy::{self, Refusal};
use crate::outbox::{validate, Enqueue, Outgoing};
use crate::store::{ContactId, ContactView, MessageKey};
use crate::urlencoded::param;
use crate::work::{HandBack, MarkRead, SetLanguage};
use pages::{Notice, ReplyBox};

/// Conversations on one page of the inbox.
const PAGE_SIZE: usize = 50;
/// Messages shown of one conversation.
const THREAD_SIZE: usize = 200;
/// A customer's newest submissions shown above their conversation.
const CONTACT_SUBMISSIONS: usize = 20;
/// Attachment types the inbox shows as pictures.
const SHOWN_INLINE: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/gif"];

type Page<'a> = Call<'a, SignedIn>;

/// `GET /admin/?page=N`: the conversations. A page past the last (or beyond
/// any number) shows the last.
pub fn list(inbox: &Inbox, call: &Page<'_>) -> Response {
    let asked = page_number(&query_param(call.request, "page"));
    let read = inbox.reader.read(|db| {
        let size = db.inbox_size()?;
        let latest = db.inbox_pulse(None)?.latest;
        let pages = size.div_ceil(PAGE_SIZE).max(1);
        let page = asked.min(pages);
        Ok((db.inbox(PAGE_SIZE, (page - 1) * PAGE_SIZE)?, page, pages, latest))
    });
    match read {
        Ok((rows, page, pages, latest)) => html(
            200,
            pages::inbox(&chrome(inbox, &call.guard), &rows, page, pages, latest),
        ),
        Err(e) => errors::api_store_error(&e),
    }
}

/// The page a `?page=` value asks for: its number, a number of only digits
/// too big for `usize` as the largest (so it shows the last page), anything
/// else (nothing, a word, a sign) as the first.
fn page_number(value: &str) -> usize {
    match value.parse::<usize>() {
        Ok(page) => page.max(1),
        Err(_) if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => usize::MAX,
        Err(_) => 1,
    }
}

/// `GET /admin/updates[?conversation=ID]`: what the page polls for (unread,
/// waiting, and the newest message: of that conversation, when one is named).
pub fn updates(inbox: &Inbox, call: &Page<'_>) -> Response {
    let conversation = query_param(call.request, "conversation").parse::<i64>().ok();
    match inbox.reader.read(|db| db.inbox_pulse(conversation.map(ContactId))) {
        Ok(pulse) => Response::json(200, &serde_json::json!(pulse)),
        Err(e) => errors::api_store_error(&e),
    }
}

/// `GET /admin/conversations/{key}[?done=sent&message=ID | ?done=handed-back&action=ID]`:
/// the whole chat and the reply form, with what the owner just did confirmed.
/// A real `GET` marks it read; `HEAD` only asks about the page.
pub fn show(inbox: &Inbox, call: &Page<'_>) -> Response {
    let done = match query_param(call.request, "done").as_str() {
        "sent" => query_param(call.request, "message").parse().ok().map(Notice::Sent),
        "handed-back" => Some(Notice::HandedBack(query_param(call.request, "action").parse().ok())),
        _ => None,
    };
    match contact(inbox, call) {
        Ok(contact) => conversation(inbox, &contact, &call.guard, done.as_ref(), 200, !call.request.head),
        Err(response) => response,
    }
}

/// `POST …/reply`: the owner's answer, queued in the outbox like any message.
pub fn reply(inbox: &Inbox, call: &Page<'_>) -> Response {
    let contact = match contact(inbox, call) {
        Ok(contact) => contact,
        Err(response) => return response,
    };
    let body = param(&call.guard.form.fields, "body").unwrap_or_default();
    if body.trim().is_empty() {
        let problem = Notice::Problem(words().get("reply_empty"));
        return conversation(inbox, &contact, &call.guard, Some(&problem), 400, true);
    }
    let message = Outgoing {
        to: contact.who.clone(),
        content: Content::Text {
            body: body.to_string(),
            media_urls: Vec::new(),
        },
        channel: None,
    };
    send(inbox, &contact, &call.guard, message)
}

/// `POST …/template`: a Twilio content template or a Meta template, with the
/// values one per line (`{{1}}`, `{{2}}`, …).
pub fn template(inbox: &Inbox, call: &Page<'_>) -> Response {
    let contact = match contact(inbox, call) {
        Ok(contact) => contact,
        Err(response) => return response,
    };
    let form = &call.guard.form.fields;
    let to = contact.who.display();
    let values: std::collections::BTreeMap<String, String> = param(form, "values")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, v)| ((i + 1).to_string(), v.to_string()))
        .collect();
    let message = match (param(form, "content_sid"), param(form, "template_name")) {
        (Some(sid), _) => validate::twilio_template(&to, sid.trim(), values),
        (None, Some(name)) => validate::meta_template(
            &to,
            name.trim(),
            param(form, "language_code").unwrap_or("en_US").trim(),
            values,
        ),
        (None, None) => {
            let problem = Notice::Problem(words().get("template_unnamed"));
            return conversation(inbox, &contact, &call.guard, Some(&problem), 400, true);
        }
    };
    match message {
        Ok(message) => send(inbox, &contact, &call.guard, message),
        Err(e) => {
            let problem = words().fill("not_sent", &[("why", &e.to_string())]);
            conversation(
                inbox,
                &contact,
                &call.guard,
                Some(&Notice::Problem(&problem)),
                400,
                true,
            )
        }
    }
}

/// `POST …/resolve`: the conversation goes back to the bot.
pub fn hand_back(inbox: &Inbox, call: &Page<'_>) -> Response {
    let contact = match contact(inbox, call) {
        Ok(contact) => contact,
        Err(response) => return response,
    };
    let work = HandBack {
        contact: contact.id,
        start: inbox.bot.current().menu().start.clone(),
        by: call.guard.session.user.clone(),
    };
    match inbox.writer.run(work) {
        Ok(action) => Response::see_other(&format!(
            "/admin/conversations/{}?done=handed-back&action={action}#reply",
            contact.id.0
        )),
        Err(e) => errors::writer_unavailable("hand back", &e),
    }
}

/// `POST …/language`: the language the customer is answered in, set by the
/// owner (`language` = an offered code, or empty for "by their number").
pub fn language(inbox: &Inbox, call: &Page<'_>) -> Response {
    let contact = match contact(inbox, call) {
        Ok(contact) => contact,
        Err(response) => return response,
    };
    let bot = inbox.bot.current();
    let Some(languages) = bot.menus.languages() else {
        return Response::text(404, words().get("one_language"));
    };
    let chosen = param(&call.guard.form.fields, "language").map(str::trim);
    let language = match chosen {
        Some("") => None,
        Some(code) if languages.offer.iter().any(|l| l == code) => Some(code.to_string()),
        Some(code) => {
            let (code, offer) = (format!("{code:?}"), format!("{:?}", languages.offer));
            let why = words().fill("language_not_offered", &[("code", &code), ("offer", &offer)]);
            return Response::text(400, &why);
        }
        None => return Response::text(400, words().get("language_missing")),
    };
    match inbox.writer.run(SetLanguage {
        contact: contact.id,
        language,
    }) {
        Ok(()) => Response::see_other(&format!("/admin/conversations/{}#reply", contact.id.0)),
        Err(e) => errors::writer_unavailable("set language", &e),
    }
}

/// `GET /admin/media/{message}/{n}`: a customer's attachment, fetched on the
/// owner's behalf (the provider's credentials never reach the page). Only
/// photos of [`SHOWN_INLINE`] types are shown as themselves; anything else a
/// customer sent (HTML, SVG, scripts …) is a download of opaque bytes, so
/// nothing a customer sends can run in the inbox's origin.
pub fn media(inbox: &Inbox, call: &Page<'_>) -> Response {
    let (Ok(id), Ok(n)) = (
        call.params.get("message").parse::<i64>(),
        call.params.get("n").parse::<usize>(),
    ) else {
        return Response::text(404, words().get("no_such_attachment"));
    };
    let record = match inbox.reader.read(|db| db.message(&MessageKey::Id(id))) {
        Ok(Some(record)) => record,
        Ok(None) => return Response::text(404, words().get("no_such_message")),
        Err(e) => return errors::api_store_error(&e),
    };
    let Some(attachment) = record.media.get(n).filter(|_| record.direction == Direction::Inbound) else {
        return Response::text(404, words().get("no_such_attachment"));
    };
    fetched_attachment(
        inbox,
        record.channel,
        attachment,
        &format!("message-{id}-attachment-{n}"),
    )
}

/// `GET /admin/submissions/{id}/media/{n}`: the `n`th attachment of a
/// submission's answers, fetched as a conversation's are (a Meta media id
/// through the Graph API, a Twilio URL with the account's credentials), so
/// the submissions show the customer's photos, not their types.
pub fn submission_media(inbox: &Inbox, call: &Page<'_>) -> Response {
    let Ok(n) = call.params.get("n").parse::<usize>() else {
        return Response::text(404, words().get("no_such_attachment"));
    };
    let submission = match inbox.reader.read(|db| db.submission(call.params.get("id"))) {
        Ok(Some(submission)) => submission,
        Ok(None) => return Response::text(404, words().get("no_such_submission")),
        Err(e) => return errors::api_store_error(&e),
    };
    let Some(attachment) = submission.answers.iter().flat_map(|a| &a.media).nth(n) else {
        return Response::text(404, words().get("no_such_attachment"));
    };
    // The channel of the message that completed it; for one whose message
    // was deleted, a media id is Meta's and a URL Twilio's.
    let channel = submission.channel.unwrap_or(if attachment.id.is_some() {
        crate::message::Channel::Meta
    } else {
        crate::message::Channel::Twilio
    });
    fetched_attachment(
        inbox,
        channel,
        attachment,
        &format!("{}-attachment-{n}", submission.public_id),
    )
}

/// A customer's attachment fetched through `channel` and answered (see
/// [`attachment_response`]), or `502` with why; `name` names it in the log
/// and as a download. The demo's own sample photo is served by the demo.
fn fetched_attachment(
    inbox: &Inbox,
    channel: crate::message::Channel,
    attachment: &crate::message::Media,
    name: &str,
) -> Response {
    if inbox.demo && attachment.url.ends_with(demo::SAMPLE_PHOTO_PATH) {
        return Response::with_body(200, "image/png", demo::SAMPLE_PHOTO);
    }
    match inbox.media.fetch(channel, attachment) {
        Ok(fetched) => attachment_response(fetched, name),
        Err(e) => {
            log::warn!(target: "admin", "{name}: {e}");
            Response::text(502, &words().fill("attachment_unfetched", &[("why", &e.to_string())]))
        }
    }
}

/// A photo as itself, anything else as a download.
fn attachment_response(fetched: Fetched, name: &str) -> Response {
    let essence = fetched
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if SHOWN_INLINE.contains(&essence.as_str()) {
        Response::with_body(200, &essence, fetched.bytes)
    } else {
        Response::with_body(200, "application/octet-stream", fetched.bytes)
            .header("Content-Disposition", format!("attachment; filename=\"{name}\""))
    }
}

/// The contact the path's `{key}` names (its id, or its E.164 number).
fn contact(inbox: &Inbox, call: &Page<'_>) -> Result<ContactView, Response> {
    match inbox.reader.read(|db| db.contact_by_key(call.params.get("key"))) {
        Ok(Some(contact)) => Ok(contact),
        Ok(None) => Err(Response::text(404, words().get("no_such_conversation"))),
        Err(e) => Err(errors::api_store_error(&e)),
    }
}

/// Queues the owner's message; back to the conversation, or why not.
fn send(inbox: &Inbox, contact: &ContactView, signed: &SignedIn, message: Outgoing) -> Response {
    let work = Enqueue {
        routing: inbox.routing.clone(),
        message,
        sent_by: Some(signed.session.user.clone()),
    };
    match inbox.writer.run(work) {
        Ok(Ok(record)) => {
            inbox.outbox.wake();
            let id = record.id.unwrap_or_default();
            log::info!(target: "admin", "{} wrote to {} (message {id})", signed.session.user, contact.who);
            Response::see_other(&format!(
                "/admin/conversations/{}?done=sent&message={id}#reply",
                contact.id.0
            ))
        }
        Ok(Err(refusal)) => {
            let problem = words().fill("not_sent", &[("why", &refusal.to_string())]);
            conversation(inbox, contact, signed, Some(&Notice::Problem(&problem)), 409, true)
        }
        Err(e) => errors::writer_unavailable("the owner's message", &e),
    }
}

/// The conversation page (with `notice` above the reply box, answered with
/// `status`); marks the conversation read when `mark_read`.
fn conversation(
    inbox: &Inbox,
    contact: &ContactView,
    signed: &SignedIn,
    notice: Option<&Notice<'_>>,
    status: u16,
    mark_read: bool,
) -> Response {
    let now = inbox.clock.now();
    let read = inbox.reader.read(|db| {
        let messages = db.contact_messages(contact.id, THREAD_SIZE)?;
        let facts = db.contact_facts(&contact.who)?;
        let submissions = db.contact_submissions(contact.id, CONTACT_SUBMISSIONS)?;
        let actions = db.contact_actions(contact.id, THREAD_SIZE)?;
        let session = db.session(contact.id)?;
        let with_person = session.is_some_and(|s| matches!(s.state, State::WithPerson { .. }));
        Ok((messages, facts, submissions, actions, with_person))
    });
    let (messages, facts, submissions, actions, with_person) = match read {
        Ok(read) => read,
        Err(e) => return errors::api_store_error(&e),
    };
    let reply_box = match policy::check(ContentKind::Text, &facts, now) {
        Ok(()) => ReplyBox::Open(policy::window_left(&facts, now).unwrap_or_default()),
        Err(Refusal::OptedOut) => ReplyBox::Refused(words().get("opted_out").into()),
        Err(refusal) => {
            let channel = inbox.routing.text_channel(&contact.who, &facts);
            let why = words().fill("window_closed", &[("why", &refusal.to_string())]);
            ReplyBox::TemplateOnly(why, channel)
        }
    };
    if let Some(newest) = messages.last().and_then(|m| m.id).filter(|_| mark_read) {
        let _ = inbox.writer.run(MarkRead {
            contact: contact.id,
            up_to: newest,
        });
    }
    html(
        status,
        pages::conversation(
            &chrome(inbox, signed),
            (contact, with_person),
            &pages::Thread {
                messages: &messages,
                actions: &actions,
                submissions: &submissions,
            },
            (&reply_box, language_box(inbox, contact).as_ref()),
            notice,
        ),
    )
}

/// The customer's language, when the menu offers several.
fn language_box(inbox: &Inbox, contact: &ContactView) -> Option<pages::LanguageBox> {
    let bot = inbox.bot.current();
    let languages = bot.menus.languages()?;
    let (current, picked) = bot.menus.language_of(contact.language.as_deref(), &contact.who);
    Some(pages::LanguageBox {
        current: current.to_string(),
        picked,
        offer: languages.offer.clone(),
    })
}
