//! The neutral vocabulary below the channel edges: what came in, what goes out,
//! and how far a message has got, with no provider's words in it.
//!
//! Each channel (`channel::twilio`, `channel::meta`) turns its own webhook into
//! an [`Inbound`] or a [`StatusEvent`], and turns an outbound [`Content`] into
//! its own request. The conversation, the outbox and the store only ever see
//! these types.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::phone::PhoneNumber;

pub use crate::channels::{Addressing, Channel, TextUnit};

/// What a [`Channel`]'s facts mean for messages.
impl Channel {
    /// The longest text one message may carry on this channel.
    pub fn text_limit(self) -> TextLimit {
        let facts = self.facts();
        TextLimit {
            channel: self,
            max: facts.text_max,
            unit: facts.text_unit,
        }
    }

    /// What this channel shows to tap in a reply through the outbox (`None`:
    /// menus go as numbered text).
    pub fn choice_limits(self) -> Option<ChoiceLimits> {
        self.facts().taps.then_some(ChoiceLimits::BUTTONS_AND_LISTS)
    }
}

/// How a channel measures a message body, and its maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextLimit {
    /// The channel it belongs to, for messages.
    pub channel: Channel,
    /// The most units one message may have.
    pub max: usize,
    /// What is counted.
    pub unit: TextUnit,
}

impl TextLimit {
    /// The length of `text` in this limit's units.
    pub fn len(&self, text: &str) -> usize {
        match self.unit {
            TextUnit::Utf16 => text.encode_utf16().count(),
            TextUnit::Chars => text.chars().count(),
        }
    }

    /// Whether `text` fits in one message.
    pub fn fits(&self, text: &str) -> bool {
        self.len(text) <= self.max
    }

    /// Units `c` takes.
    pub fn char_len(&self, c: char) -> usize {
        match self.unit {
            TextUnit::Utf16 => c.len_utf16(),
            TextUnit::Chars => 1,
        }
    }

    /// Splits `text` into at most `max_pieces` messages within this limit,
    /// cutting at line breaks, then spaces, then any character boundary. When
    /// more would be needed, the last piece ends with `…` and the rest is left
    /// out (logged).
    ///
    /// Linear in the part of the text it keeps: each piece looks at no more
    /// than one message's worth of text, so a huge text costs no more than the
    /// pieces it can send.
    pub fn split(&self, text: &str, max_pieces: usize) -> Vec<String> {
        let mut pieces: Vec<String> = Vec::new();
        let mut rest = text.trim();
        while !rest.is_empty() {
            if pieces.len() == max_pieces {
                log::warn!(target: "reply", "a reply needs more than {max_pieces} {} messages; the rest is cut", self.channel);
                if let Some(last) = pieces.last_mut() {
                    self.mark_cut(last);
                }
                break;
            }
            let hard = self.boundary_within(rest, self.max);
            if hard == rest.len() {
                pieces.push(rest.to_string());
                break;
            }
            let head = &rest[..hard];
            let cut = head
                .rfind('\n')
                .filter(|&i| i > 0)
                .or_else(|| head.rfind(' ').filter(|&i| i > 0))
                .unwrap_or(hard);
            pieces.push(rest[..cut].trim_end().to_string());
            rest = rest[cut..].trim_start();
        }
        pieces
    }

    /// The largest char boundary of `text` whose prefix is at most `units`
    /// long; `text.len()` when all of it fits. Looks at no more than `units + 1` chars.
    fn boundary_within(&self, text: &str, units: usize) -> usize {
        // A character takes at least as many UTF-8 bytes as UTF-16 units (or
        // characters): a text of at most `units` bytes fits whole, uncounted.
        if text.len() <= units {
            return text.len();
        }
        let mut used = 0;
        for (i, c) in text.char_indices() {
            used += self.char_len(c);
            if used > units {
                return i;
            }
        }
        text.len()
    }

    /// Ends `piece` with `…`, within the limit.
    fn mark_cut(&self, piece: &mut String) {
        let keep = self.boundary_within(piece, self.max - 1);
        piece.truncate(keep);
        piece.push('…');
    }
}

/// Who a contact is to WhatsApp: a phone number, a business-scoped user id
/// (a customer who hides their number behind a username), or both.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContactRef {
    /// The E.164 number, when the provider gave one.
    pub phone: Option<PhoneNumber>,
    /// The business-scoped user id (Meta `user_id`, Twilio `ExternalUserId`
    /// or a `From` that is not a number), when given.
    pub user_id: Option<String>,
}

impl ContactRef {
    /// A contact known by number.
    pub fn phone(phone: PhoneNumber) -> ContactRef {
        ContactRef {
            phone: Some(phone),
            user_id: None,
        }
    }

    /// A contact known only by a business-scoped user id.
    pub fn user_id(id: impl Into<String>) -> ContactRef {
        ContactRef {
            phone: None,
            user_id: Some(id.into()),
        }
    }

    /// How `channel` addresses this contact (its [`Addressing`]): e.g.
    /// `whatsapp:+27…`, or the digits without `+`; the user id when there is
    /// no number.
    pub fn address_on(&self, channel: Channel) -> String {
        match (channel.facts().addressing, &self.phone) {
            (Addressing::WhatsAppUri, _) => format!("whatsapp:{}", self.display()),
            (Addressing::Digits, Some(phone)) => phone.as_str().trim_start_matches('+').to_string(),
            (Addressing::Digits | Addressing::AsShown, _) => self.display(),
        }
    }

    /// The number if there is one, else the user id: how logs and the API name it.
    pub fn display(&self) -> String {
        match (&self.phone, &self.user_id) {
            (Some(phone), _) => phone.to_string(),
            (None, Some(id)) => id.clone(),
            (None, None) => "(unknown)".into(),
        }
    }
}

impl fmt::Display for ContactRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

/// A media attachment: where the provider keeps it and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// Twilio: the media URL (needs the account's credentials); outbound: the
    /// public URL. Empty for Meta media, which is known by [`Media::id`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// Meta: the media id, fetched through the Graph API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its MIME type, e.g. `image/jpeg` (unknown for media the shop sends).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_type: String,
}

impl Media {
    /// Media at a URL.
    pub fn at_url(url: impl Into<String>, content_type: impl Into<String>) -> Media {
        Media {
            url: url.into(),
            id: None,
            content_type: content_type.into(),
        }
    }
}

/// One inbound message, as every channel hands it to the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// The channel it came through.
    pub channel: Channel,
    /// The provider's message id (`SM…`, `wamid.…`): unique per channel.
    pub key: String,
    /// The customer.
    pub from: ContactRef,
    /// The sender's address exactly as received (`whatsapp:+27…`, `27…`).
    pub from_addr: String,
    /// The shop's address as received (`whatsapp:+1…`, a phone number id).
    pub to_addr: String,
    /// The text (a caption for media, a button's title for a tap; may be empty).
    pub text: String,
    /// Attached media.
    pub media: Vec<Media>,
    /// The customer's WhatsApp profile name, if sent.
    pub profile_name: Option<String>,
    /// The key of the message this one quotes (WhatsApp's reply context).
    pub reply_to: Option<String>,
    /// The id of the option the customer tapped ([`ChoiceOption::id`]), when
    /// the message is a tap on a button or a list row (its title is `text`).
    pub tap: Option<String>,
    /// What arrived, as JSON, for the record.
    pub raw: String,
}

/// The bot's answer to one inbound message: its parts in reading order, not
/// yet fitted to any channel's limits (each channel's edge renders them).
/// Stored as JSON: a list of texts and choices (a reply stored before choices
/// existed, a list of texts, reads the same).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reply {
    /// Non-empty parts.
    pub parts: Vec<ReplyPart>,
}

/// One part of a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReplyPart {
    /// Text to send as is.
    Text(String),
    /// A menu: something to tap where the channel can show it, numbered text
    /// where it cannot.
    Choice {
        /// The menu.
        choice: Choice,
    },
}

/// A menu as the customer sees it: the node's text and its options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// The menu node's name.
    pub node: String,
    /// The node's text (the message body above the options).
    pub text: String,
    /// The options, in order.
    pub options: Vec<ChoiceOption>,
    /// A line under the numbered options (a sub-menu's way back); only
    /// numbered text shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    /// The button that opens the menu where it is shown as a list.
    #[serde(default = "default_choose", skip_serializing_if = "is_default_choose")]
    pub choose: String,
    /// The language its texts are in (`de`), where the conversation knows it;
    /// a channel that makes templates per language keys them by it. `None`
    /// in a choice stored before choices carried it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

const DEFAULT_CHOOSE: &str = "Choose";

fn default_choose() -> String {
    DEFAULT_CHOOSE.into()
}

fn is_default_choose(choose: &str) -> bool {
    choose == DEFAULT_CHOOSE
}

/// What a channel can show as something to tap: reply buttons for a few
/// options, a list for more; a menu with more options than a list takes, or a
/// longer text, goes as numbered text. Lengths are in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChoiceLimits {
    /// The most options shown as buttons; more are a list.
    pub max_buttons: usize,
    /// The most options (list rows).
    pub max_options: usize,
    /// The longest text above them.
    pub max_body: usize,
    /// The longest button title.
    pub button_title: usize,
    /// The longest list-row title.
    pub row_title: usize,
    /// The longest list-row description.
    pub row_description: usize,
    /// The longest text on the button that opens a list.
    pub list_button: usize,
    /// The longest id a button sends back when tapped.
    pub button_id: usize,
    /// The longest id a list row sends back when tapped.
    pub row_id: usize,
    /// The longest line under the options (a sub-menu's way back), left out
    /// when longer; `None`: the channel never shows one there.
    pub footer: Option<usize>,
}

impl ChoiceLimits {
    /// Up to 3 reply buttons (titles of 20, ids of 256), a list of up to 10
    /// rows (titles of 24, descriptions of 72, ids of 200, opened by a button
    /// of 20), a body up to 1,024 and a footer up to 60: Meta's interactive
    /// messages, and (without the footer) Twilio's `twilio/quick-reply` and
    /// `twilio/list-picker`.
    pub const BUTTONS_AND_LISTS: ChoiceLimits = ChoiceLimits {
        max_buttons: 3,
        max_options: 10,
        max_body: 1024,
        button_title: 20,
        row_title: 24,
        row_description: 72,
        list_button: 20,
        button_id: 256,
        row_id: 200,
        footer: Some(60),
    };

    /// [`ChoiceLimits::BUTTONS_AND_LISTS`] where nothing is shown under the
    /// options (Twilio's Content templates: the way back is only in their
    /// text fallback; typing 0 still works).
    pub const BUTTONS_AND_LISTS_NO_FOOTER: ChoiceLimits = ChoiceLimits {
        footer: None,
        ..ChoiceLimits::BUTTONS_AND_LISTS
    };

    /// Whether `choice` can be shown to tap.
    pub fn fit(&self, choice: &Choice) -> bool {
        !choice.options.is_empty()
            && choice.options.len() <= self.max_options
            && !choice.text.trim().is_empty()
            && choice.text.chars().count() <= self.max_body
    }

    /// Whether `choice` is shown as buttons (else a list).
    pub fn as_buttons(&self, choice: &Choice) -> bool {
        choice.options.len() <= self.max_buttons
    }

    /// The longest option title `choice` shows.
    pub fn title(&self, choice: &Choice) -> usize {
        if self.as_buttons(choice) {
            self.button_title
        } else {
            self.row_title
        }
    }

    /// The longest option id `choice` shows.
    pub fn id(&self, choice: &Choice) -> usize {
        if self.as_buttons(choice) {
            self.button_id
        } else {
            self.row_id
        }
    }

    /// What `choice`'s options are called here: "button" or "list row".
    fn kind(&self, choice: &Choice) -> &'static str {
        if self.as_buttons(choice) {
            "button"
        } else {
            "list row"
        }
    }

    /// What will not show as written: a menu sent as numbered text instead,
    /// a label with no `short` that fits, a tap id that would be cut, a way
    /// back left out, two options showing the same title, a list button cut.
    /// For `shopbot check`.
    pub fn problems(&self, choice: &Choice) -> Vec<String> {
        if let Some(problem) = self.as_text(choice) {
            return vec![problem];
        }
        let mut problems = self.long_labels(choice);
        problems.extend(self.long_ids(choice));
        problems.extend(self.long_footer(choice));
        problems.extend(self.same_titles(choice));
        if !self.as_buttons(choice) && choice.choose.chars().count() > self.list_button {
            problems.push(format!(
                "[texts] choose is {} characters, over {}: the list's button shows \"{}\"",
                choice.choose.chars().count(),
                self.list_button,
                cut_at_word(&choice.choose, self.list_button)
            ));
        }
        problems
    }

    /// Why `choice` goes as numbered text, if it does for its size.
    fn as_text(&self, choice: &Choice) -> Option<String> {
        let node = &choice.node;
        if choice.options.len() > self.max_options {
            return Some(format!(
                "menu `{node}` has {} options: more than {} go as numbered text, not a list",
                choice.options.len(),
                self.max_options
            ));
        }
        let body = choice.text.chars().count();
        (body > self.max_body).then(|| {
            format!(
                "menu `{node}`: its text is {body} characters, over {}: it goes as numbered text",
                self.max_body
            )
        })
    }

    /// Each label too long to show, with no `short` that fits.
    fn long_labels(&self, choice: &Choice) -> Vec<String> {
        let (node, max, kind) = (&choice.node, self.title(choice), self.kind(choice));
        choice
            .options
            .iter()
            .filter(|o| o.title(max) != o.label && o.short.as_ref().is_none_or(|s| s.chars().count() > max))
            .map(|o| {
                format!(
                    "menu `{node}`: option \"{}\" is {} characters, over the {kind} limit of {max}, \
                     and has no short label that fits: it shows as \"{}\"; add short = \"…\" to the option",
                    o.label,
                    o.label.chars().count(),
                    o.title(max)
                )
            })
            .collect()
    }

    /// Each option whose tap id would be cut (a tap on it would then match
    /// no option).
    fn long_ids(&self, choice: &Choice) -> Vec<String> {
        let (node, max, kind) = (&choice.node, self.id(choice), self.kind(choice));
        choice
            .options
            .iter()
            .filter(|o| o.id.chars().count() > max)
            .map(|o| {
                format!(
                    "menu `{node}`: option \"{}\" has a tap id of {} characters (the names of the menu and the node it leads to), \
                     over the {kind} id limit of {max}: a tap on it would come back cut and not be understood; give the nodes shorter names",
                    o.label,
                    o.id.chars().count()
                )
            })
            .collect()
    }

    /// The way back, when it is too long to show under the options.
    fn long_footer(&self, choice: &Choice) -> Option<String> {
        let (max, footer) = (self.footer?, choice.footer.as_ref()?);
        let length = footer.chars().count();
        (length > max).then(|| {
            format!(
                "menu `{}`: its way back \"{footer}\" is {length} characters, over the footer limit of {max}: \
                 it is not shown under the menu; shorten [texts] back",
                choice.node
            )
        })
    }

    /// Each option that shows the same title as an earlier one (channels
    /// refuse buttons or rows with the same title).
    fn same_titles(&self, choice: &Choice) -> Vec<String> {
        let max = self.title(choice);
        let titles: Vec<String> = choice.options.iter().map(|o| o.title(max)).collect();
        let mut problems = Vec::new();
        for (later, title) in titles.iter().enumerate() {
            if let Some(earlier) = titles[..later].iter().position(|t| t == title) {
                problems.push(format!(
                    "menu `{}`: options \"{}\" and \"{}\" both show as \"{title}\": \
                     buttons or rows with the same title are refused; give one a short label",
                    choice.node, choice.options[earlier].label, choice.options[later].label
                ));
            }
        }
        problems
    }
}

/// One option of a [`Choice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceOption {
    /// What a tap sends back: the node and the option's target
    /// (`main:defects`; `main:defects#2` for a second option to the same
    /// target), unique in its menu and stable while the menu keeps that option.
    pub id: String,
    /// The label, as typed options and numbered text show it.
    pub label: String,
    /// A shorter label for buttons and list rows the label does not fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<String>,
}

impl Choice {
    /// The menu as numbered text: the text, one `N label` line per option,
    /// then the footer.
    pub fn numbered(&self) -> String {
        let mut out = String::new();
        self.write_numbered(&mut out);
        out
    }

    /// [`Choice::numbered`], appended to `out`.
    pub fn write_numbered(&self, out: &mut String) {
        use std::fmt::Write as _;
        let labels: usize = self.options.iter().map(|o| o.label.len() + 4).sum();
        out.reserve(self.text.len() + labels + self.footer.as_ref().map_or(0, |f| f.len() + 1));
        out.push_str(&self.text);
        for (i, option) in self.options.iter().enumerate() {
            let _ = write!(out, "\n{} ", i + 1);
            out.push_str(&option.label);
        }
        if let Some(footer) = &self.footer {
            out.push('\n');
            out.push_str(footer);
        }
    }
}

impl ChoiceOption {
    /// The id of the option of menu node `node` that goes to `goto`.
    pub fn id_for(node: &str, goto: &str) -> String {
        format!("{node}:{goto}")
    }

    /// The label to show where at most `max` characters fit: the label, else
    /// the short label, else the label cut at a word boundary with `…`
    /// (`shopbot check` warns about that one).
    pub fn title(&self, max: usize) -> String {
        if self.label.chars().count() <= max {
            return self.label.clone();
        }
        if let Some(short) = self.short.as_ref().filter(|s| s.chars().count() <= max) {
            return short.clone();
        }
        cut_at_word(&self.label, max)
    }
}

/// `text` cut to at most `max` characters at a word boundary, ending in `…`.
pub fn cut_at_word(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let room: String = text.chars().take(max.saturating_sub(1)).collect();
    let cut = match room.rfind(char::is_whitespace) {
        Some(at) if at > 0 => room[..at].trim_end(),
        _ => room.as_str(),
    };
    format!("{cut}…")
}

impl ReplyPart {
    /// The part as text: itself, or the choice numbered.
    pub fn as_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            ReplyPart::Text(text) => std::borrow::Cow::Borrowed(text),
            ReplyPart::Choice { choice } => std::borrow::Cow::Owned(choice.numbered()),
        }
    }

    fn is_blank(&self) -> bool {
        match self {
            ReplyPart::Text(text) => text.trim().is_empty(),
            ReplyPart::Choice { .. } => false,
        }
    }
}

impl Reply {
    /// A reply of these texts (empty ones dropped).
    pub fn new(texts: impl IntoIterator<Item = String>) -> Reply {
        Reply::of(texts.into_iter().map(ReplyPart::Text))
    }

    /// A reply of these parts (empty texts dropped).
    pub fn of(parts: impl IntoIterator<Item = ReplyPart>) -> Reply {
        Reply {
            parts: parts.into_iter().filter(|p| !p.is_blank()).collect(),
        }
    }

    /// Whether there is nothing to say.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The parts as texts (a choice numbered).
    pub fn texts(&self) -> Vec<String> {
        self.parts.iter().map(|p| p.as_text().into_owned()).collect()
    }

    /// The menu in the reply, if there is one.
    pub fn choice(&self) -> Option<&Choice> {
        self.parts.iter().find_map(|p| match p {
            ReplyPart::Choice { choice } => Some(choice),
            ReplyPart::Text(_) => None,
        })
    }

    /// The texts as one message body, a blank line between them (one chat
    /// bubble when it fits the channel).
    pub fn joined(&self) -> String {
        let mut out = String::with_capacity(256);
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                out.push_str("\n\n");
            }
            match part {
                ReplyPart::Text(text) => out.push_str(text),
                ReplyPart::Choice { choice } => choice.write_numbered(&mut out),
            }
        }
        out
    }
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From a customer to the shop.
    Inbound,
    /// From the shop to a customer.
    Outbound,
}

impl Direction {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }

    /// The stored word back.
    pub fn parse(text: &str) -> Option<Direction> {
        match text {
            "inbound" => Some(Direction::Inbound),
            "outbound" => Some(Direction::Outbound),
            _ => None,
        }
    }
}

/// How far a message has got: one ladder for every channel. Each channel maps
/// its own words onto it ([`crate::channel`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    /// Waiting to be sent (ours, or the provider's `queued`/`accepted`).
    Queued,
    /// On its way to the provider or from the provider to WhatsApp.
    Sending,
    /// WhatsApp has it.
    Sent,
    /// An inbound message the shop received.
    Received,
    /// On the customer's phone.
    Delivered,
    /// The customer opened it.
    Read,
    /// Not sent (final).
    Failed,
    /// Sent but never delivered (final).
    Undelivered,
    /// Cancelled before sending (final).
    Canceled,
}

impl MessageStatus {
    /// As stored and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Queued => "queued",
            MessageStatus::Sending => "sending",
            MessageStatus::Sent => "sent",
            MessageStatus::Received => "received",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
            MessageStatus::Failed => "failed",
            MessageStatus::Undelivered => "undelivered",
            MessageStatus::Canceled => "canceled",
        }
    }

    /// The stored word back; `None` for a word no channel maps (kept as
    /// received, ranked lowest).
    pub fn parse(word: &str) -> Option<MessageStatus> {
        Some(match word {
            "queued" => MessageStatus::Queued,
            "sending" => MessageStatus::Sending,
            "sent" => MessageStatus::Sent,
            "received" => MessageStatus::Received,
            "delivered" => MessageStatus::Delivered,
            "read" => MessageStatus::Read,
            "failed" => MessageStatus::Failed,
            "undelivered" => MessageStatus::Undelivered,
            "canceled" => MessageStatus::Canceled,
            _ => return None,
        })
    }

    /// How far along it is. Final failures outrank everything, so nothing
    /// after them changes a message's status.
    pub fn rank(self) -> u8 {
        match self {
            MessageStatus::Failed | MessageStatus::Undelivered | MessageStatus::Canceled => 100,
            MessageStatus::Read => 60,
            MessageStatus::Delivered => 50,
            MessageStatus::Received => 45,
            MessageStatus::Sent => 40,
            MessageStatus::Sending => 30,
            MessageStatus::Queued => 20,
        }
    }

    /// The current status of a message whose own status is `base` and whose
    /// status events said `events`, in arrival order: the highest by
    /// [`ReportedStatus::rank`]; among equals (two final failures) the first stays.
    pub fn current<'a>(
        base: Option<&'a ReportedStatus>,
        events: impl IntoIterator<Item = &'a ReportedStatus>,
    ) -> Option<&'a ReportedStatus> {
        base.into_iter()
            .chain(events)
            .fold(None, |best: Option<&ReportedStatus>, next| match best {
                Some(b) if b.rank() >= next.rank() => Some(b),
                _ => Some(next),
            })
    }
}

/// A status as a channel reported it (or as we set it): a step on the
/// neutral ladder, or a provider's word that maps to none, kept lower-cased
/// as received and ranked below every step, so it never hides a known one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReportedStatus {
    /// A step on the ladder.
    Ladder(MessageStatus),
    /// A word no channel maps (a provider's new status, say).
    Unmapped(String),
}

impl ReportedStatus {
    /// A stored or reported word: its step, or itself (lower-cased) unmapped.
    pub fn from_word(word: &str) -> ReportedStatus {
        let word = word.trim().to_ascii_lowercase();
        MessageStatus::parse(&word).map_or(ReportedStatus::Unmapped(word), ReportedStatus::Ladder)
    }

    /// A provider's `word`, read by the channel's own `ladder`.
    pub fn mapped(word: &str, ladder: fn(&str) -> Option<MessageStatus>) -> ReportedStatus {
        let word = word.trim().to_ascii_lowercase();
        ladder(&word).map_or(ReportedStatus::Unmapped(word), ReportedStatus::Ladder)
    }

    /// As stored and shown by the API.
    pub fn as_str(&self) -> &str {
        match self {
            ReportedStatus::Ladder(status) => status.as_str(),
            ReportedStatus::Unmapped(word) => word,
        }
    }

    /// The step, if it is one.
    pub fn ladder(&self) -> Option<MessageStatus> {
        match self {
            ReportedStatus::Ladder(status) => Some(*status),
            ReportedStatus::Unmapped(_) => None,
        }
    }

    /// How far along it is (0 for an unmapped word).
    pub fn rank(&self) -> u8 {
        self.ladder().map_or(0, MessageStatus::rank)
    }
}

impl From<MessageStatus> for ReportedStatus {
    fn from(status: MessageStatus) -> ReportedStatus {
        ReportedStatus::Ladder(status)
    }
}

impl fmt::Display for ReportedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An item of a provider's webhook batch (a message or a status) that could
/// not be read: kept whole, beside the rest of the batch, which is handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    /// Where in the batch and why (`entry[0].changes[0].messages[1]: message wamid.X has no usable sender`).
    pub reason: String,
    /// The item as it came, as JSON.
    pub raw: String,
}

/// A delivery report from a channel: a status for one of its message keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    /// The channel that reported it.
    pub channel: Channel,
    /// The message's key on that channel (it may name a message not stored yet).
    pub key: String,
    /// The status on the neutral ladder, or the provider's own word when it
    /// maps to none.
    pub status: ReportedStatus,
    /// The provider's error code, if any (`63016`, `131047`).
    pub error_code: Option<String>,
    /// The provider's explanation, if any.
    pub error_message: Option<String>,
    /// The channel read the error as "outside the 24-hour window" (Twilio
    /// 63016, Meta 131047): the contact's window is closed until they write.
    pub window_closed: bool,
    /// The recipient as reported.
    pub to_addr: Option<String>,
    /// The sender as reported.
    pub from_addr: Option<String>,
    /// What arrived, as JSON, for the record.
    pub raw: String,
}

/// What an outbound message says. Stored and loaded through one mapping
/// (`store::outbox`), so a row that fits none of these is an error, never a default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Free-form text and optional media (only inside the 24-hour window).
    Text {
        /// The text (may be empty when there is media).
        body: String,
        /// Public `https` URLs of media to attach.
        media_urls: Vec<String>,
    },
    /// A template registered with one channel (allowed outside the window).
    Template(Template),
    /// A piece of the bot's reply to a customer's message (channels without
    /// inline replies send these through the outbox).
    Reply {
        /// The text, within the channel's limit (a menu: numbered, for the
        /// record and for a channel that cannot show it).
        body: String,
        /// The menu this piece shows, to tap where the channel can.
        choice: Option<Choice>,
    },
}

impl Content {
    /// The kind word the outbox stores and shows.
    pub fn kind(&self) -> ContentKind {
        match self {
            Content::Text { .. } => ContentKind::Text,
            Content::Template(_) => ContentKind::Template,
            Content::Reply { .. } => ContentKind::Reply,
        }
    }

    /// The text stored with the message (templates have none of their own).
    pub fn body(&self) -> Option<&str> {
        match self {
            Content::Text { body, .. } | Content::Reply { body, .. } => Some(body),
            Content::Template(_) => None,
        }
    }

    /// Media URLs to attach.
    pub fn media_urls(&self) -> &[String] {
        match self {
            Content::Text { media_urls, .. } => media_urls,
            _ => &[],
        }
    }

    /// The channel this content only makes sense on, if it is tied to one.
    pub fn only_channel(&self) -> Option<Channel> {
        match self {
            Content::Template(template) => Some(template.channel),
            Content::Text { .. } | Content::Reply { .. } => None,
        }
    }
}

/// A message template as a channel knows it: approved beforehand, so it may
/// go outside the 24-hour window. Each channel maps it to its own request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The channel it is registered with (it exists on no other).
    pub channel: Channel,
    /// Its name there, or the id the channel gave it.
    pub name: String,
    /// Its language code (`en_US`), where the channel asks for one.
    pub language: Option<String>,
    /// Its variables in order, each with its key (`"1"`, `"2"`, …).
    pub variables: Vec<(String, String)>,
}

impl Template {
    /// `name` on `channel` with `values` as variables `1`, `2`, … in order.
    pub fn numbered(
        channel: Channel,
        name: &str,
        language: Option<&str>,
        values: impl IntoIterator<Item = String>,
    ) -> Template {
        Template {
            channel,
            name: name.to_string(),
            language: language.map(String::from),
            variables: values
                .into_iter()
                .enumerate()
                .map(|(i, value)| ((i + 1).to_string(), value))
                .collect(),
        }
    }

    /// The variables' values, in order.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.variables.iter().map(|(_, value)| value.as_str())
    }
}

/// [`Content`] without its data: what the outbox stores in its `kind` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentKind {
    /// [`Content::Text`].
    Text,
    /// [`Content::Template`].
    Template,
    /// [`Content::Reply`].
    Reply,
}

impl ContentKind {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Text => "text",
            ContentKind::Template => "template",
            ContentKind::Reply => "reply",
        }
    }

    /// The stored word back.
    pub fn parse(word: &str) -> Option<ContentKind> {
        Some(match word {
            "text" => ContentKind::Text,
            // `meta_template`: a Meta template as releases before 0.3 stored it.
            "template" | "meta_template" => ContentKind::Template,
            "reply" => ContentKind::Reply,
            _ => return None,
        })
    }

    /// Templates are allowed outside the 24-hour window.
    pub fn is_template(self) -> bool {
        self == ContentKind::Template
    }
}

impl fmt::Display for ContentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an outbound message is in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxState {
    /// Waiting (maybe for a retry).
    Queued,
    /// Claimed; the provider call is in flight.
    Sending,
    /// The provider took it.
    Sent,
    /// Not sent, for good.
    Failed,
    /// The provider may have it; not resent until an operator says so.
    Uncertain,
}

impl OutboxState {
    /// As stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Uncertain => "uncertain",
        }
    }

    /// The stored word back.
    pub fn parse(word: &str) -> Option<OutboxState> {
        Some(match word {
            "queued" => OutboxState::Queued,
            "sending" => OutboxState::Sending,
            "sent" => OutboxState::Sent,
            "failed" => OutboxState::Failed,
            "uncertain" => OutboxState::Uncertain,
            _ => return None,
        })
    }
}

impl fmt::Display for OutboxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a provider answered to a message that it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The provider's key for it (`SM…`, `wamid.…`); never empty.
    pub key: String,
    /// Its first status.
    pub status: MessageStatus,
}

/// What a provider's refusal means for the outbox, decided by the channel that
/// knows its codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Never resent (a bad number, a bad template, an invalid token …).
    Final,
    /// The 24-hour window is closed: fails, and the contact's window is marked closed.
    WindowClosed,
    /// Too many messages: retried with backoff.
    RateLimited,
    /// The provider's own failure (5xx): retried with backoff.
    ServerError,
}

/// Why a send did not succeed, in the outbox's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The provider answered with an error.
    #[error("{channel} answered HTTP {http_status}{}: {message}", code.as_deref().map(|c| format!(" code {c}")).unwrap_or_default())]
    Rejected {
        /// Which provider.
        channel: Channel,
        /// The HTTP status.
        http_status: u16,
        /// The provider's error code, if it gave one.
        code: Option<String>,
        /// The provider's explanation.
        message: String,
        /// What it means for the outbox.
        verdict: Refused,
    },
    /// No connection was made: the request certainly did not arrive (retried).
    #[error("could not reach {0}: {1}")]
    NotSent(Channel, String),
    /// The answer was lost after the request may have arrived: the provider may
    /// or may not have the message (held as uncertain, never resent automatically).
    #[error("no usable answer from {0} after sending: {1}")]
    Unknown(Channel, String),
}

impl SendError {
    /// The code the outbox records (the provider's, `http_NNN` without one,
    /// `network` for a transport failure) and the explanation.
    pub fn code_and_message(&self) -> (String, String) {
        match self {
            SendError::Rejected {
                http_status,
                code,
                message,
                ..
            } => (
                code.clone().unwrap_or_else(|| format!("http_{http_status}")),
                message.clone(),
            ),
            other => ("network".to_string(), other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_not_arrival_order() {
        fn current<const N: usize>(base: Option<&str>, events: [&str; N]) -> Option<String> {
            let base = base.map(ReportedStatus::from_word);
            let events = events.map(ReportedStatus::from_word);
            MessageStatus::current(base.as_ref(), &events).map(|s| s.as_str().to_string())
        }
        assert_eq!(
            current(Some("queued"), ["sent", "read", "delivered"]),
            Some("read".into())
        );
        assert_eq!(current(None, ["delivered", "sent", "queued"]), Some("delivered".into()));
        assert_eq!(
            current(Some("queued"), ["read", "failed", "delivered"]),
            Some("failed".into())
        );
        assert_eq!(
            current(None, ["undelivered", "failed", "read"]),
            Some("undelivered".into())
        );
        assert_eq!(current(Some("queued"), []), Some("queued".into()));
        assert_eq!(current(None, []), None);
        assert_eq!(current(None, ["something_new", "sent"]), Some("sent".into()));
    }

    #[test]
    fn a_reported_word_is_a_step_or_kept_unmapped_below_every_step() {
        assert_eq!(ReportedStatus::from_word(" Delivered"), MessageStatus::Delivered.into());
        let new = ReportedStatus::from_word("Pending_Review");
        assert_eq!(new, ReportedStatus::Unmapped("pending_review".into()));
        assert_eq!((new.as_str(), new.rank(), new.ladder()), ("pending_review", 0, None));
        assert!(new.rank() < ReportedStatus::from(MessageStatus::Queued).rank());
        for step in [MessageStatus::Queued, MessageStatus::Read, MessageStatus::Canceled] {
            assert_eq!(ReportedStatus::from_word(step.as_str()).ladder(), Some(step));
        }
    }

    #[test]
    fn choice_problems_name_what_will_not_show_as_written() {
        let option = |n: usize, label: &str, short: Option<&str>| ChoiceOption {
            id: format!("m:{n}"),
            label: label.into(),
            short: short.map(String::from),
        };
        let mut choice = Choice {
            node: "m".into(),
            text: "Pick".into(),
            options: (0..11).map(|n| option(n, &format!("Fine {n}"), None)).collect(),
            footer: None,
            choose: "Choose".into(),
            language: None,
        };
        let limits = ChoiceLimits::BUTTONS_AND_LISTS;
        assert!(!limits.fit(&choice));
        assert!(limits.problems(&choice)[0].contains("has 11 options"));
        choice.options.truncate(4);
        assert!(limits.fit(&choice) && limits.problems(&choice).is_empty());
        choice.options[0] = option(0, "A label far too long for a row", Some("Also much too long for it"));
        choice.options[1] = option(1, "A label far too long for a row", Some("Short"));
        choice.choose = "Please choose one of these".into();
        let problems = limits.problems(&choice);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(
            problems[0],
            "menu `m`: option \"A label far too long for a row\" is 30 characters, over the list row limit of 24, \
             and has no short label that fits: it shows as \"A label far too long…\"; add short = \"…\" to the option"
        );
        assert!(problems[1].contains("[texts] choose"), "{problems:?}");
        choice.text = "x".repeat(1025);
        assert!(!limits.fit(&choice));
    }

    #[test]
    fn limits_count_what_each_channel_counts() {
        assert_eq!(Channel::Twilio.text_limit().len("🙂a"), 3);
        assert_eq!(Channel::Meta.text_limit().len("🙂a"), 2);
        assert!(Channel::Meta.text_limit().fits(&"🙂".repeat(4096)));
        assert!(!Channel::Twilio.text_limit().fits(&"🙂".repeat(801)));
    }

    #[test]
    fn long_text_splits_at_lines_and_words_within_the_limit() {
        let line = "word ".repeat(50); // 250 chars
        let text = [line.trim_end(); 10].join("\n");
        let pieces = Channel::Twilio.text_limit().split(&text, 10);
        assert_eq!(pieces.len(), 2);
        assert!(pieces.iter().all(|p| Channel::Twilio.text_limit().fits(p)));
        assert!(pieces[0].ends_with("word"));
        let one_line = "x".repeat(100) + &" y".repeat(1000);
        assert!(Channel::Twilio
            .text_limit()
            .split(&one_line, 10)
            .iter()
            .all(|p| Channel::Twilio.text_limit().fits(p) && !p.starts_with(' ')));
    }

    #[test]
    fn emoji_are_counted_per_channel_and_never_cut_in_half() {
        let text = "🙂".repeat(1000);
        let pieces = Channel::Twilio.text_limit().split(&text, 10);
        assert_eq!(pieces.len(), 2);
        assert_eq!(Channel::Twilio.text_limit().len(&pieces[0]), 1600);
        assert_eq!(pieces.concat(), text);
        assert_eq!(Channel::Meta.text_limit().split(&text, 10), [text]);
    }

    #[test]
    fn never_more_pieces_than_allowed() {
        let text = "z".repeat(1600 * 12);
        let bodies = Channel::Twilio.text_limit().split(&text, 10);
        assert_eq!(bodies.len(), 10);
        assert!(bodies[9].ends_with('…'));
        assert!(Channel::Twilio.text_limit().fits(&bodies[9]));
    }

    #[test]
    fn a_huge_text_costs_only_the_pieces_it_keeps() {
        // 10 MB without a space: the old split rescanned the rest for every
        // piece (quadratic, 33 s on the writer thread); this looks at 10 pieces.
        let text = "x".repeat(10 * 1024 * 1024);
        let started = std::time::Instant::now();
        let pieces = Channel::Meta.text_limit().split(&text, 10);
        assert_eq!(pieces.len(), 10);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn stored_words_round_trip() {
        for kind in [ContentKind::Text, ContentKind::Template, ContentKind::Reply] {
            assert_eq!(ContentKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ContentKind::parse("meta_template"), Some(ContentKind::Template));
        for state in [
            OutboxState::Queued,
            OutboxState::Sending,
            OutboxState::Sent,
            OutboxState::Failed,
            OutboxState::Uncertain,
        ] {
            assert_eq!(OutboxState::parse(state.as_str()), Some(state));
        }
        for channel in [Channel::Twilio, Channel::Meta, Channel::Local] {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
        }
    }
}
