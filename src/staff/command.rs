//! The relay's commands: a staff message that is one `#word` (any case) is a
//! command, anything else is a message for a customer. Pure.

/// What a staff member's message asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `#done`: hand the conversation back to the bot.
    Done,
    /// `#list` (page 1) or `#list N`: who is waiting.
    List(usize),
    /// `#N`: answer the Nth waiting customer.
    Switch(usize),
    /// `#take`: take over a conversation another staff member holds.
    Take,
    /// `#help`.
    Help,
    /// `#` and a word that is none of these.
    Unknown(String),
}

/// The command `text` is, or `None` for a message to relay.
pub fn parse(text: &str) -> Option<Command> {
    let word = text.trim();
    let rest = word.strip_prefix('#')?;
    if let Some(page) = list_page(rest) {
        return Some(Command::List(page));
    }
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return None;
    }
    Some(match rest.to_lowercase().as_str() {
        "done" => Command::Done,
        "take" => Command::Take,
        "help" => Command::Help,
        n => match n.parse::<usize>() {
            Ok(n) if n >= 1 => Command::Switch(n),
            _ => Command::Unknown(word.to_string()),
        },
    })
}

/// `list` or `list N` (N ≥ 1): the page asked for.
fn list_page(rest: &str) -> Option<usize> {
    let mut words = rest.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("list") {
        return None;
    }
    let page = match words.next() {
        None => 1,
        Some(n) => n.parse::<usize>().ok().filter(|n| *n >= 1)?,
    };
    words.next().is_none().then_some(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_one_hash_word_in_any_case() {
        assert_eq!(parse(" #DONE "), Some(Command::Done));
        assert_eq!(parse("#List"), Some(Command::List(1)));
        assert_eq!(parse("#list 2"), Some(Command::List(2)));
        assert_eq!(parse(" #LIST  3 "), Some(Command::List(3)));
        assert_eq!(parse("#2"), Some(Command::Switch(2)));
        assert_eq!(parse("#take"), Some(Command::Take));
        assert_eq!(parse("#help"), Some(Command::Help));
        assert_eq!(parse("#0"), Some(Command::Unknown("#0".into())));
        assert_eq!(parse("#dne"), Some(Command::Unknown("#dne".into())));
    }

    #[test]
    fn anything_else_is_a_message() {
        for text in [
            "done",
            "#1 is ready",
            "Your order #A1002 is ready",
            "#",
            "",
            "#list 0",
            "#list two",
            "#list 2 3",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }
}
