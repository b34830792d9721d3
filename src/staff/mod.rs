//! The owner and staff answer customers from their own WhatsApp (`[staff]`).
//!
//! - **Alerts.** A handoff alerts every staff number through the outbox:
//!   free-form inside that number's 24-hour window, else the configured alert
//!   template; if neither can go, a warning is logged (the inbox shows the
//!   customer waiting either way). The window is judged again when the alert
//!   is sent: a free-form alert keeps its template, which goes instead if the
//!   window closed while it waited (held for the opening).
//! - **Forwards.** While a customer is with a person, their new lines go to
//!   the staff member holding the conversation, or (nobody holds it yet) to
//!   every staff number, batched: the first line waits `forward_every` for
//!   more, later lines join it while it is queued.
//! - **The relay.** A message from a staff number never runs the customer menu.
//!   A `#command` is answered (see [`command`]); anything else goes to the
//!   customer its quote names (an alert or a forward), else to the one this
//!   staff member handled last, through the outbox's one enqueue: the same
//!   rows, ticks and rules as an inbox reply.
//!
//! All of it runs inside the inbound message's transaction; the texts staff
//! read are in [`texts`].

pub mod command;
pub mod texts;

use jiff::Timestamp;

use crate::config::Staff;
use crate::engine::OptKeywords;
use crate::message::{Channel, ContactRef, Content, Inbound, Template, TextLimit};
use crate::outbox::policy::Refusal;
use crate::outbox::{self, Outgoing, Routing};
use crate::phone::PhoneNumber;
use crate::store::{ContactId, Db, InboxAction, MessageKey, NoteKind, StoreError};
use command::Command;

/// What the relay needs: `[staff]`, where messages go out from, and the
/// little of the menu it uses (so the relay does not import the conversation
/// that calls it).
#[derive(Debug, Clone)]
pub struct Desk {
    /// `[staff]`.
    pub staff: Staff,
    /// The shop's addresses.
    pub routing: Routing,
    /// The menu's start node (where `#done` sends a customer back).
    pub start: String,
    /// The stop and start words (never relayed from a staff number).
    pub opt: OptKeywords,
    /// The menu's languages: a staff member's alert template is the one of
    /// their language (picked, or their number's), else the default's; a
    /// customer's `[texts] handed_back` is the one of theirs.
    pub menus: crate::engine::Menus,
}

/// A customer as the relay names them.
struct Customer {
    id: ContactId,
    who: ContactRef,
    /// Their WhatsApp profile name, if any.
    name: Option<String>,
    label: String,
}

/// The most of the customer's last message an alert quotes (the whole of it
/// reaches staff as a forward when they answer; it keeps the alert within
/// every channel's limit).
const ALERT_QUOTE_CHARS: usize = 1_000;

/// The waiting customers on one page of `#list`.
const LIST_LIMIT: usize = 20;

fn customer(db: &Db<'_>, id: ContactId) -> Result<Option<Customer>, StoreError> {
    Ok(db.contact_by_key(&id.0.to_string())?.map(|view| Customer {
        id,
        label: texts::who(view.name.as_deref(), &view.who.display()),
        name: view.name,
        who: view.who,
    }))
}

/// A handoff: every staff number is alerted (never the customer about themselves).
/// With `hold_until` (the shop is closed), the alerts wait in the outbox
/// until the shop opens; they are dropped if the conversation goes back to
/// the bot before then.
pub fn alert_staff(
    db: &Db<'_>,
    desk: &Desk,
    customer_id: ContactId,
    last: &str,
    (now, hold_until): (Timestamp, Option<Timestamp>),
) -> Result<(), StoreError> {
    let Some(about) = customer(db, customer_id)? else {
        return Ok(());
    };
    for number in &desk.staff.numbers {
        if about.who.phone.as_ref() == Some(number) {
            continue;
        }
        match alert_one(db, desk, number, &about, last, now)? {
            Some(id) => {
                db.note_for_staff(id, about.id, NoteKind::Alert)?;
                if let Some(until) = hold_until {
                    db.hold_until(id, until)?;
                    log::info!(target: "staff", "alert {id} about {} waits until the shop opens at {until}", about.who);
                }
            }
            None => log::warn!(
                target: "staff",
                "{} asks for a person, but the alert cannot reach {number}: outside their 24-hour window and no [staff] alert template for their channel; the inbox shows the customer waiting",
                about.who
            ),
        }
    }
    Ok(())
}

/// One alert: free-form inside the staff number's window, else the template.
/// A free-form alert keeps the template of its channel with it: the window is
/// judged again when it is sent (a held alert may outlive it), and if it has
/// closed by then the template goes instead.
fn alert_one(
    db: &Db<'_>,
    desk: &Desk,
    number: &PhoneNumber,
    about: &Customer,
    last: &str,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    let to = ContactRef::phone(number.clone());
    let last = texts::shortened(last, ALERT_QUOTE_CHARS);
    let facts = db.contact_facts(&to)?;
    let language = staff_language(db, desk, &to)?;
    let values = alert_values(about, &last);
    let template = |channel| {
        desk.staff
            .alert
            .on(channel, (&language, desk.menus.default_language()), values.to_vec())
    };
    match free_form(db, desk, &to, texts::alert(&about.label, &last), now)? {
        Ok(id) => {
            if let Some(fallback) = template(desk.routing.text_channel(&to, &facts)) {
                db.set_fallback(id, &fallback)?;
            }
            return Ok(Some(id));
        }
        Err(Refusal::OutsideWindow(_)) => {}
        Err(refusal) => {
            log::warn!(target: "staff", "alert to {number}: {refusal}");
            return Ok(None);
        }
    }
    template_alert(db, desk, (to, facts.last_channel), &template, now)
}

/// An alert outside the window: the template of the channel the staff member
/// was last seen on first, then of any channel with one; its id, if queued.
fn template_alert(
    db: &Db<'_>,
    desk: &Desk,
    (to, last_channel): (ContactRef, Option<Channel>),
    template: &dyn Fn(Channel) -> Option<Template>,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    let found = last_channel.into_iter().chain(Channel::PROVIDERS).find_map(template);
    let Some(template) = found else {
        return Ok(None);
    };
    let message = Outgoing {
        to,
        content: Content::Template(template),
        channel: None,
    };
    Ok(outbox::enqueue(db, &desk.routing, &message, now)?.ok())
}

/// A staff member's language: the one they picked, else their number's.
fn staff_language(db: &Db<'_>, desk: &Desk, to: &ContactRef) -> Result<String, StoreError> {
    let picked = db.picked_language(to)?;
    Ok(desk.menus.language_of(picked.as_deref(), to).0.to_string())
}

/// The alert template's variables (or parameters): 1 the customer's name, 2
/// their number, 3 their last message. Template values are one line each
/// (Meta refuses a parameter with a line break or a tab, and a name must not
/// forge lines anywhere).
fn alert_values(about: &Customer, last: &str) -> [String; 3] {
    let name = about.name.as_deref().map(texts::one_line).filter(|n| !n.is_empty());
    let name = name.unwrap_or_else(|| about.who.display());
    [
        name,
        about.who.display(),
        texts::one_line(last).chars().take(200).collect(),
    ]
}

/// Queues a free-form text to `to`: its id, or why not.
fn free_form(
    db: &Db<'_>,
    desk: &Desk,
    to: &ContactRef,
    body: String,
    now: Timestamp,
) -> Result<Result<i64, Refusal>, StoreError> {
    let message = Outgoing {
        to: to.clone(),
        content: Content::Text {
            body,
            media_urls: Vec::new(),
        },
        channel: None,
    };
    outbox::enqueue(db, &desk.routing, &message, now)
}

/// A customer who is with a person wrote `line`: it goes to the staff member
/// holding the conversation, or batched to every staff number.
pub fn forward_line(
    db: &Db<'_>,
    desk: &Desk,
    customer_id: ContactId,
    line: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(about) = customer(db, customer_id)? else {
        return Ok(());
    };
    let holder = match db.holder(about.id)? {
        Some(holder) => db.contact_by_key(&holder.0.to_string())?.and_then(|v| v.who.phone),
        None => None,
    };
    let batched = holder.is_none();
    let targets: Vec<PhoneNumber> = match holder {
        Some(phone) => vec![phone],
        None => desk.staff.numbers.clone(),
    };
    for number in targets.iter().filter(|n| about.who.phone.as_ref() != Some(*n)) {
        forward_to(db, desk, number, &about, line, batched, now)?;
    }
    Ok(())
}

/// One staff member gets `line`: joined to their queued forward of this
/// customer if it still fits one message of their channel, else in new ones
/// (held back `forward_every` for more lines when `batched`). A line too long
/// for one message with its header goes in several, never cut or dropped.
fn forward_to(
    db: &Db<'_>,
    desk: &Desk,
    number: &PhoneNumber,
    about: &Customer,
    line: &str,
    batched: bool,
    now: Timestamp,
) -> Result<(), StoreError> {
    let to = ContactRef::phone(number.clone());
    let staff_id = db.find_or_add_contact(&to, None, now)?;
    let limit = text_limit_of(db, desk, &to)?;
    if let Some(latest) = db.latest_forward(staff_id, about.id)? {
        let more = texts::forward_more(line);
        if latest.queued && still_fits(db, latest.id, &more, limit)? && db.append_to_queued_text(latest.id, &more)? {
            return Ok(());
        }
    }
    for piece in forward_pieces(&about.label, line, limit) {
        match free_form(db, desk, &to, piece, now)? {
            Ok(id) => {
                db.note_for_staff(id, about.id, NoteKind::Forward)?;
                if batched {
                    let every = jiff::SignedDuration::try_from(desk.staff.forward_every).unwrap_or_default();
                    db.send_not_before(id, now.checked_add(every).unwrap_or(now))?;
                }
            }
            Err(refusal) => {
                log::info!(target: "staff", "a line of {} not forwarded to {number}: {refusal}", about.who);
                break;
            }
        }
    }
    Ok(())
}

/// The text limit of the channel a message to `to` would take.
fn text_limit_of(db: &Db<'_>, desk: &Desk, to: &ContactRef) -> Result<TextLimit, StoreError> {
    let facts = db.contact_facts(to)?;
    Ok(desk.routing.text_channel(to, &facts).text_limit())
}

/// Whether the queued forward `id` still fits one message with `more` added.
fn still_fits(db: &Db<'_>, id: i64, more: &str, limit: TextLimit) -> Result<bool, StoreError> {
    let body = db
        .message(&MessageKey::Id(id))?
        .and_then(|m| m.body)
        .unwrap_or_default();
    Ok(limit.fits(&format!("{body}\n{more}")))
}

/// `line` forwarded as one or more texts, each with its header and within `limit`.
fn forward_pieces(customer: &str, line: &str, limit: TextLimit) -> Vec<String> {
    let used = limit.len(&texts::forward_header(customer)) + texts::QUOTE_MARKS;
    // A header longer than a message leaves no room: the name is cut, not the line.
    let room = TextLimit {
        max: limit.max.saturating_sub(used).max(limit.max / 2),
        ..limit
    };
    let pieces = room.split(line, usize::MAX);
    if pieces.is_empty() {
        return vec![texts::forward(customer, line)];
    }
    pieces.iter().map(|piece| texts::forward(customer, piece)).collect()
}

/// A message from the staff member `staff` (contact `staff_id`): a command's
/// answer, or the message relayed to a customer. The texts are the reply to
/// the staff member.
pub fn from_staff(
    db: &Db<'_>,
    desk: &Desk,
    msg: &Inbound,
    staff_id: ContactId,
    now: Timestamp,
) -> Result<Vec<String>, StoreError> {
    let quoted = match &msg.reply_to {
        Some(key) => quoted_customer(db, key)?,
        None => None,
    };
    let (current, _) = db.desk(staff_id)?;
    let target = quoted.or(current);
    let relay = Relay {
        db,
        desk,
        staff_id,
        now,
    };
    // A stop or start word from a staff number is neither a command nor a
    // line for the customer: relayed, it would read as the shop's STOP.
    if msg.media.is_empty() && desk.opt.is_keyword(&msg.text) {
        return Ok(vec![texts::staff_opt_word(msg.text.trim())]);
    }
    match command::parse(&msg.text).filter(|_| msg.media.is_empty()) {
        Some(command) => relay.command(command, target),
        None => match target.map(|id| customer(db, id)).transpose()?.flatten() {
            Some(about) => relay.message(&about, msg, current),
            None => Ok(vec![texts::no_conversation()]),
        },
    }
}

/// The customer a quoted message was about (an alert or a forward).
fn quoted_customer(db: &Db<'_>, key: &str) -> Result<Option<ContactId>, StoreError> {
    match db.message(&MessageKey::Sid(key.to_string()))?.and_then(|m| m.id) {
        Some(id) => db.customer_of_note(id),
        None => Ok(None),
    }
}

/// One staff message being handled.
struct Relay<'a, 'c> {
    db: &'a Db<'c>,
    desk: &'a Desk,
    staff_id: ContactId,
    now: Timestamp,
}

impl Relay<'_, '_> {
    /// The staff member's text (and photos) to the customer.
    fn message(&self, about: &Customer, msg: &Inbound, current: Option<ContactId>) -> Result<Vec<String>, StoreError> {
        if let Some(holder) = self.db.holder(about.id)?.filter(|h| *h != self.staff_id) {
            return Ok(vec![texts::held_by_other(&about.label, &self.label_of(holder)?)]);
        }
        let media_urls: Vec<String> = msg
            .media
            .iter()
            .filter(|m| !m.url.is_empty())
            .map(|m| m.url.clone())
            .collect();
        let dropped = media_urls.len() < msg.media.len();
        if dropped && msg.text.trim().is_empty() {
            return Ok(vec![texts::media_not_relayed()]);
        }
        let message = Outgoing {
            to: about.who.clone(),
            content: Content::Text {
                body: msg.text.trim().to_string(),
                media_urls,
            },
            channel: None,
        };
        let queued = outbox::enqueue(self.db, &self.desk.routing, &message, self.now)?;
        let sent = queued.is_ok();
        let mut said = match queued {
            Ok(id) => {
                log::info!(target: "staff", "staff {} answered {} (message {id})", msg.from, about.who);
                self.db.set_sent_by(id, &self.label_of(self.staff_id)?)?;
                self.db.set_holder(about.id, Some(self.staff_id))?;
                self.db.set_desk(self.staff_id, Some(about.id), true)?;
                match current == Some(about.id) {
                    true => Vec::new(),
                    false => vec![texts::now_answering(&about.label)],
                }
            }
            Err(Refusal::OptedOut) => vec![texts::opted_out(&about.label)],
            Err(Refusal::OutsideWindow(_)) => vec![texts::outside_window(&about.label)],
            Err(other) => vec![texts::not_sent(&about.label, &other.to_string())],
        };
        if dropped && sent {
            said.push(texts::media_not_relayed());
        }
        Ok(said)
    }

    fn command(&self, command: Command, target: Option<ContactId>) -> Result<Vec<String>, StoreError> {
        let text = match command {
            Command::Help => texts::help(),
            Command::Unknown(word) => texts::unknown_command(&word),
            Command::List(page) => self.list(page)?,
            Command::Switch(n) => self.switch(n)?,
            Command::Done | Command::Take => match target.map(|id| customer(self.db, id)).transpose()?.flatten() {
                None => texts::no_conversation(),
                Some(about) if command == Command::Done => self.done(&about)?,
                Some(about) => self.take(&about)?,
            },
        };
        Ok(vec![text])
    }

    /// `#list N`: the waiting customers on page `page`, numbered from the
    /// first page on (so `#N` answers the one numbered N), longest first.
    fn list(&self, page: usize) -> Result<String, StoreError> {
        let skip = (page - 1).saturating_mul(LIST_LIMIT);
        let mut lines = Vec::new();
        for (n, waiting) in self.db.waiting_customers(LIST_LIMIT, skip)?.into_iter().enumerate() {
            let Some(about) = customer(self.db, waiting.contact)? else {
                continue;
            };
            let minutes = self.now.duration_since(waiting.since).as_secs() / 60;
            let holder = waiting.held_by.map(|h| self.label_of(h)).transpose()?;
            lines.push(texts::list_line(
                skip + n + 1,
                &about.label,
                &texts::waited(minutes),
                holder.as_deref(),
            ));
        }
        let more = self.db.waiting_count()?.saturating_sub(skip + lines.len());
        Ok(texts::list(&lines, more, page))
    }

    /// `#N`: answer the Nth waiting customer from now on.
    fn switch(&self, n: usize) -> Result<String, StoreError> {
        let waiting = self.db.waiting_customers(1, n - 1)?;
        let Some(about) = waiting
            .first()
            .map(|w| customer(self.db, w.contact))
            .transpose()?
            .flatten()
        else {
            return Ok(texts::no_such_number(n));
        };
        self.db.set_desk(self.staff_id, Some(about.id), true)?;
        let last = self
            .db
            .contact_messages(about.id, 20)?
            .into_iter()
            .rev()
            .find(|m| m.direction == crate::message::Direction::Inbound)
            .and_then(|m| m.body);
        Ok(texts::switched(&about.label, last.as_deref()))
    }

    /// `#done`: back to the bot, recorded in the inbox by the staff
    /// member's name; the customer hears only what the menu's `[texts]
    /// handed_back` says in their language (nothing by default).
    fn done(&self, about: &Customer) -> Result<String, StoreError> {
        // The goodbye first: a message from the shop puts the conversation
        // with a person, and the hand-back after it ends that.
        self.say_goodbye(about)?;
        crate::session::hand_back(self.db, about.id, &self.desk.start, self.now)?;
        let me = self.label_of(self.staff_id)?;
        self.db
            .record_action(about.id, None, (&me, InboxAction::HandedBack), self.now)?;
        self.db.set_desk(self.staff_id, None, false)?;
        log::info!(target: "staff", "{} handed back to the bot", about.who);
        Ok(texts::handed_back(&about.label))
    }

    /// `[texts] handed_back` in the customer's language, if it says anything.
    fn say_goodbye(&self, about: &Customer) -> Result<(), StoreError> {
        let picked = self.db.contact_language(about.id)?;
        let language = self.desk.menus.language_of(picked.as_deref(), &about.who).0;
        let goodbye = self.desk.menus.get(language).texts.handed_back.trim();
        if goodbye.is_empty() {
            return Ok(());
        }
        if let Err(refusal) = free_form(self.db, self.desk, &about.who, goodbye.to_string(), self.now)? {
            log::info!(target: "staff", "the hand-back text to {} was not sent: {refusal}", about.who);
        }
        Ok(())
    }

    /// `#take`: this staff member holds the conversation now; the one who
    /// held it is told.
    fn take(&self, about: &Customer) -> Result<String, StoreError> {
        let before = self.db.holder(about.id)?;
        self.db.set_holder(about.id, Some(self.staff_id))?;
        self.db.set_desk(self.staff_id, Some(about.id), true)?;
        if let Some(previous) = before.filter(|p| *p != self.staff_id) {
            let me = self.label_of(self.staff_id)?;
            if let Some(view) = self.db.contact_by_key(&previous.0.to_string())? {
                let told = free_form(
                    self.db,
                    self.desk,
                    &view.who,
                    texts::taken_from_you(&about.label, &me),
                    self.now,
                )?;
                if let Err(refusal) = told {
                    log::info!(target: "staff", "{} was not told of the take-over: {refusal}", view.who);
                }
            }
        }
        Ok(texts::taken(&about.label))
    }

    /// A staff member as others see them.
    fn label_of(&self, staff: ContactId) -> Result<String, StoreError> {
        Ok(customer(self.db, staff)?.map_or_else(|| "another staff member".into(), |c| c.label))
    }
}
