//! Menus as Twilio Content API templates (`[twilio] interactive = "content"`).
//!
//! Each menu node gets one template per language and content, made once by
//! `POST {content_base_url}/v1/Content`: `twilio/quick-reply` for up to 3
//! options, `twilio/list-picker` for 4 to 10, each with a `twilio/text`
//! fallback (the numbered menu). Its `HX…` SID is kept in the database under
//! the node, the language and a hash of the template's content, so a restart
//! reuses it and a changed text or label makes a new one. Titles keep the
//! limits of [`ChoiceLimits::BUTTONS_AND_LISTS_NO_FOOTER`]; ids are the
//! options' ids, which come back as `ButtonPayload` or `ListId` when tapped.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::rest::Credentials;
use crate::channel::client;
use crate::config::Config;
use crate::message::{cut_at_word, Channel, Choice, ChoiceLimits, SendError};
use crate::store::{Db, ReadPool, TemplateKey};
use crate::writer::{Work, Writer, WriterError};

/// Twilio's limits on quick replies and list pickers: WhatsApp's, as on
/// Meta, except that these templates show no footer.
const LIMITS: ChoiceLimits = ChoiceLimits::BUTTONS_AND_LISTS_NO_FOOTER;

/// The language of a choice that does not say (one stored before choices
/// carried their language, when every template was made in English).
pub const FALLBACK_LANGUAGE: &str = "en";

/// The language `choice`'s template is made in: the one its texts are in.
pub fn language(choice: &Choice) -> &str {
    choice.language.as_deref().unwrap_or(FALLBACK_LANGUAGE)
}

/// The Content API client.
pub struct ContentClient {
    agent: ureq::Agent,
    base_url: String,
    credentials: Credentials,
}

impl ContentClient {
    /// A client for `base_url` (scheme and host).
    pub fn new(base_url: &str, credentials: Credentials) -> ContentClient {
        ContentClient {
            agent: client::agent(),
            base_url: base_url.trim_end_matches('/').to_string(),
            credentials,
        }
    }

    /// The client `config` describes, or what is missing.
    pub fn from_config(config: &Config) -> Result<ContentClient, String> {
        Ok(ContentClient::new(
            &config.twilio.content_base_url,
            Credentials::from_config(config)?,
        ))
    }

    /// The Content resource URL.
    pub fn content_url(&self) -> String {
        format!("{}/v1/Content", self.base_url)
    }

    /// Makes a template; its `HX…` SID.
    pub fn create(&self, request: &Value) -> Result<String, SendError> {
        let response = self
            .agent
            .post(&self.content_url())
            .header("Authorization", &self.credentials.authorization())
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .send(request.to_string().as_bytes());
        let response = response.map_err(|e| client::classify(Channel::Twilio, e))?;
        let status = response.status().as_u16();
        let body = client::read_body(response, status, Channel::Twilio)?;
        let sid = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|v| v.get("sid").and_then(Value::as_str).map(str::to_string))
            .filter(|sid| sid.starts_with("HX"));
        match sid {
            Some(sid) if (200..300).contains(&status) => Ok(sid),
            _ => Err(super::rest::parse_answer(status, &body).err().unwrap_or_else(|| {
                SendError::Unknown(
                    Channel::Twilio,
                    format!("the Content API answered {status} without a template SID"),
                )
            })),
        }
    }

    /// Whether the Content API answers these credentials (for `shopbot check`):
    /// `Ok` with the status, or why not.
    pub fn probe(&self) -> Result<u16, String> {
        let response = self
            .agent
            .get(&format!("{}?PageSize=1", self.content_url()))
            .header("Authorization", &self.credentials.authorization())
            .header("Accept", "application/json")
            .call()
            .map_err(|e| e.to_string())?;
        match response.status().as_u16() {
            status @ 200..=299 => Ok(status),
            status => Err(format!("it answered {status}")),
        }
    }
}

/// The body of the Content API request that makes `choice`'s template.
pub fn request(choice: &Choice, key: &TemplateKey) -> Value {
    json!({
        "friendly_name": format!("shopbot_{}_{}_{}", key.node, key.language, &key.hash[..12.min(key.hash.len())]),
        "language": key.language,
        "variables": {},
        "types": types(choice),
    })
}

/// The template's types: the tappable one and the text fallback.
pub fn types(choice: &Choice) -> Value {
    let tappable = if LIMITS.as_buttons(choice) {
        let actions: Vec<Value> = choice
            .options
            .iter()
            .map(|o| json!({"title": o.title(LIMITS.button_title), "id": o.id}))
            .collect();
        json!({"twilio/quick-reply": {"body": choice.text, "actions": actions}})
    } else {
        let items: Vec<Value> = choice
            .options
            .iter()
            .map(|o| {
                json!({
                    "item": o.title(LIMITS.row_title),
                    "id": o.id,
                    "description": cut_at_word(&o.label, LIMITS.row_description),
                })
            })
            .collect();
        json!({"twilio/list-picker": {
            "body": choice.text,
            "button": cut_at_word(&choice.choose, LIMITS.list_button),
            "items": items,
        }})
    };
    let mut types = tappable;
    types["twilio/text"] = json!({"body": choice.numbered()});
    types
}

/// Which template `choice` needs: its node, the language and a hash of its types.
pub fn key(choice: &Choice, language: &str) -> TemplateKey {
    let digest = Sha256::digest(types(choice).to_string().as_bytes());
    TemplateKey {
        node: choice.node.clone(),
        language: language.to_string(),
        hash: digest.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// The menus' templates: looked up in the database, made when missing.
pub struct ContentTemplates {
    client: ContentClient,
    reader: Arc<ReadPool>,
    writer: Writer,
}

impl ContentTemplates {
    /// Templates made by `client`, kept through `reader` and `writer`.
    pub fn new(client: ContentClient, reader: Arc<ReadPool>, writer: Writer) -> ContentTemplates {
        ContentTemplates { client, reader, writer }
    }

    /// The SID of `choice`'s template, made now if it never was.
    pub fn sid_for(&self, choice: &Choice) -> Result<String, SendError> {
        let key = key(choice, language(choice));
        let stored = self.reader.read(|db| db.content_template(&key));
        if let Ok(Some(sid)) = stored {
            return Ok(sid);
        }
        let sid = self.client.create(&request(choice, &key))?;
        log::info!(target: "outbox", "menu `{}`: made Content API template {sid}", choice.node);
        if let Err(e) = self.writer.run(Remember { key, sid: sid.clone() }) {
            log::warn!(target: "outbox", "menu `{}`: template {sid} could not be kept ({e}); it is made again next time", choice.node);
        }
        Ok(sid)
    }
}

/// Keeps a made template's SID.
struct Remember {
    key: TemplateKey,
    sid: String,
}

impl Work for Remember {
    type Output = ();

    fn run(&self, db: &Db<'_>, now: Timestamp) -> Result<(), WriterError> {
        Ok(db.remember_content_template(&self.key, &self.sid, now)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::ChoiceOption;

    fn choice(n: usize) -> Choice {
        Choice {
            node: "main".into(),
            text: "Welcome! Select".into(),
            options: (0..n)
                .map(|i| ChoiceOption {
                    id: format!("main:n{i}"),
                    label: format!("Option number {i} with a long label"),
                    short: (i == 0).then(|| "First".to_string()),
                })
                .collect(),
            footer: None,
            choose: "Choose".into(),
            language: None,
        }
    }

    #[test]
    fn three_options_are_a_quick_reply_and_more_a_list_picker_each_with_a_text_fallback() {
        let quick = types(&choice(3));
        let actions = quick["twilio/quick-reply"]["actions"].as_array().unwrap();
        assert_eq!(actions.len(), 3);
        assert_eq!(actions[0], json!({"title": "First", "id": "main:n0"}));
        assert!(actions
            .iter()
            .all(|a| a["title"].as_str().unwrap().chars().count() <= 20));
        assert!(quick["twilio/text"]["body"]
            .as_str()
            .unwrap()
            .contains("\n3 Option number 2"));
        let list = types(&choice(7));
        let picker = &list["twilio/list-picker"];
        assert_eq!(picker["button"], "Choose");
        assert_eq!(picker["items"].as_array().unwrap().len(), 7);
        assert_eq!(picker["items"][1]["item"], "Option number 1 with a…");
        assert_eq!(picker["items"][1]["description"], "Option number 1 with a long label");
        assert!(list.get("twilio/quick-reply").is_none());
    }

    #[test]
    fn the_key_changes_with_what_the_template_shows() {
        let a = key(&choice(3), "en");
        assert_eq!(a, key(&choice(3), "en"));
        let mut changed = choice(3);
        changed.options[1].label = "Another label".into();
        assert_ne!(a.hash, key(&changed, "en").hash);
        assert_ne!(a, key(&choice(3), "af"));
        assert_eq!(request(&choice(3), &a)["language"], "en");
    }

    #[test]
    fn a_template_is_made_in_the_language_of_its_choice() {
        let mut german = choice(3);
        assert_eq!(language(&german), FALLBACK_LANGUAGE, "a choice stored without one");
        german.language = Some("de".into());
        let key = key(&german, language(&german));
        assert_eq!(key.language, "de");
        let body = request(&german, &key);
        assert_eq!(body["language"], "de");
        assert!(body["friendly_name"].as_str().unwrap().starts_with("shopbot_main_de_"));
    }
}
