//! Opt-out and opt-in: which inbound texts are STOP / START keywords, and what a
//! number on the suppression list may still get an answer to.
//!
//! Pure, like the rest of the engine: [`OptKeywords::gate`] decides, and the shell
//! (`crate::conversation`) records the suppression and the consent log row.

/// The keywords of `[opt]`, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptKeywords {
    /// Put the number on the suppression list.
    pub stop_keywords: Vec<String>,
    /// Take it off again.
    pub start_keywords: Vec<String>,
}

/// What to do with an inbound message before the menu sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// A stop keyword (lower-cased): suppress the number and confirm.
    OptOut(String),
    /// A start keyword (lower-cased): lift the suppression and confirm.
    OptIn(String),
    /// The number is suppressed and this is not a start keyword: answer nothing.
    Silent,
    /// Neither: the menu answers as usual.
    Converse,
}

impl OptKeywords {
    /// The defaults for WhatsApp: `stop` and `unsubscribe` opt out, `start`,
    /// `unstop` and `subscribe` opt in. (Twilio's SMS list adds `cancel`, `end`
    /// and `quit`; on WhatsApp those are everyday words in a chat with a shop,
    /// and WhatsApp has its own block button.)
    pub fn standard() -> OptKeywords {
        let words = |list: &[&str]| list.iter().map(|w| w.to_string()).collect();
        OptKeywords {
            stop_keywords: words(&["stop", "unsubscribe"]),
            start_keywords: words(&["start", "unstop", "subscribe"]),
        }
    }

    /// Whether `text` (trimmed, any case) is a stop or a start word.
    pub fn is_keyword(&self, text: &str) -> bool {
        let word = text.trim().to_lowercase();
        self.stop_keywords.contains(&word) || self.start_keywords.contains(&word)
    }

    /// Decides on the trimmed, case-insensitive text of a message from a number
    /// that is (`suppressed`) or is not on the suppression list. Inside a form
    /// (`in_form`) the word `cancel` cancels the form, even if it is also a stop
    /// keyword: a customer who gives up on a question must not be opted out.
    pub fn gate(&self, text: &str, suppressed: bool, in_form: bool) -> Gate {
        let word = text.trim().to_lowercase();
        if in_form && word == super::CANCEL_WORD {
            return if suppressed { Gate::Silent } else { Gate::Converse };
        }
        if self.start_keywords.contains(&word) {
            Gate::OptIn(word)
        } else if self.stop_keywords.contains(&word) {
            Gate::OptOut(word)
        } else if suppressed {
            Gate::Silent
        } else {
            Gate::Converse
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_match_the_whole_trimmed_text_in_any_case() {
        let opt = OptKeywords::standard();
        assert_eq!(opt.gate("  STOP ", false, false), Gate::OptOut("stop".into()));
        assert_eq!(opt.gate("Unsubscribe", true, false), Gate::OptOut("unsubscribe".into()));
        assert_eq!(opt.gate("start", true, false), Gate::OptIn("start".into()));
        assert_eq!(opt.gate("please stop", false, false), Gate::Converse);
        assert_eq!(opt.gate("stop it", true, false), Gate::Silent);
    }

    #[test]
    fn cancel_inside_a_form_never_opts_out() {
        let opt = OptKeywords {
            stop_keywords: vec!["stop".into(), "cancel".into()],
            start_keywords: vec!["start".into()],
        };
        assert_eq!(opt.gate("Cancel", false, true), Gate::Converse);
        assert_eq!(opt.gate("cancel", false, false), Gate::OptOut("cancel".into()));
        assert_eq!(opt.gate("stop", false, true), Gate::OptOut("stop".into()));
        assert_eq!(OptKeywords::standard().gate("cancel", false, false), Gate::Converse);
    }

    #[test]
    fn a_suppressed_number_gets_nothing_but_start() {
        let opt = OptKeywords::standard();
        assert_eq!(opt.gate("hi", true, false), Gate::Silent);
        assert_eq!(opt.gate("hi", false, false), Gate::Converse);
        assert_eq!(opt.gate("SUBSCRIBE", true, false), Gate::OptIn("subscribe".into()));
    }
}
