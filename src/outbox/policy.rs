//! The outbox's rules, in one place for every channel: may this message go to
//! this contact now (opt-out, WhatsApp's 24-hour window), what a status event
//! or a refused send means for the contact's window, what to do after a failed
//! send (retry with backoff, fail for good, or hold as uncertain), and the
//! token bucket that keeps under a provider's throughput.
//!
//! The channels decide what their own codes mean ([`Refused`], a status
//! event's `window_closed`); this module decides what the outbox does about it.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::message::{Channel, ContentKind, Refused, SendError, StatusEvent};
use crate::store::{ContactFacts, Db, Recorded, StoreError};

/// WhatsApp's customer-service window after the customer's last message.
pub const WINDOW: SignedDuration = SignedDuration::from_hours(24);
/// No retry waits longer than this.
pub const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Why a message may not go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The contact opted out.
    #[error("the recipient opted out (sent STOP); nothing is sent to them until they send START")]
    OptedOut,
    /// Free-form outside the 24-hour window.
    #[error("{0}; free-form messages are only allowed within 24 hours of the customer's last message: send a template instead")]
    OutsideWindow(String),
    /// The text is longer than the channel it would go out on allows.
    #[error("the text is {len} characters; {channel} allows {max} in one message")]
    TooLong {
        /// The channel chosen.
        channel: Channel,
        /// The text's length in that channel's units.
        len: usize,
        /// The channel's limit.
        max: usize,
    },
    /// The content only exists on another channel than the one asked for.
    #[error("a {kind} can only be sent on {only}, not on {asked}")]
    WrongChannel {
        /// The content's kind.
        kind: &'static str,
        /// Where it can go.
        only: Channel,
        /// Where it was asked to go.
        asked: Channel,
    },
}

impl Refusal {
    /// The API error code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::OptedOut => "opted_out",
            Refusal::OutsideWindow(_) => "outside_window",
            Refusal::TooLong { .. } | Refusal::WrongChannel { .. } => "invalid_field",
        }
    }

    /// The fault is in the request itself, not in the contact's state.
    pub fn is_bad_request(&self) -> bool {
        matches!(self, Refusal::TooLong { .. } | Refusal::WrongChannel { .. })
    }
}

/// May a message of `kind` go to a contact with these facts at `now`?
///
/// A bot reply answers the message the customer just sent, like an inline
/// TwiML reply: it goes whatever the window or the opt-out (the confirmation of
/// a STOP is such a reply). Templates may go outside the window; nothing goes
/// to a contact who opted out.
pub fn check(kind: ContentKind, facts: &ContactFacts, now: Timestamp) -> Result<(), Refusal> {
    if kind == ContentKind::Reply {
        return Ok(());
    }
    if facts.suppressed {
        return Err(Refusal::OptedOut);
    }
    if kind.is_template() {
        return Ok(());
    }
    let Some(last) = facts.last_inbound_at else {
        return Err(Refusal::OutsideWindow(
            "the customer has never written to this number".into(),
        ));
    };
    if facts.window_closed_at.is_some_and(|closed| closed >= last) {
        return Err(Refusal::OutsideWindow(
            "WhatsApp reported the 24-hour window closed since the customer's last message".into(),
        ));
    }
    if now.duration_since(last) >= WINDOW {
        return Err(Refusal::OutsideWindow(format!("the customer last wrote at {last}")));
    }
    Ok(())
}

/// How long the 24-hour window stays open for a contact with these facts, if
/// it is open at `now`.
pub fn window_left(facts: &ContactFacts, now: Timestamp) -> Option<SignedDuration> {
    check(ContentKind::Text, facts, now).ok()?;
    let last = facts.last_inbound_at?;
    let closes = last.checked_add(WINDOW).ok()?;
    Some(closes.duration_since(now))
}

/// Stores a status event and applies what it means: a report that the window
/// is closed closes the contact's window (for a message not known yet, when it
/// becomes known: [`window_after_send`]).
pub fn record_status(db: &Db<'_>, event: &StatusEvent, now: Timestamp) -> Result<Recorded, StoreError> {
    let recorded = db.record_status(event, now)?;
    if recorded == Recorded::New && event.window_closed {
        db.close_window_for_sid(event.channel, &event.key, now)?;
    }
    Ok(recorded)
}

/// After a message got its key: a status event that arrived for that key
/// before, saying the window is closed, applies now.
pub fn window_after_send(db: &Db<'_>, channel: Channel, key: &str, now: Timestamp) -> Result<(), StoreError> {
    if db.window_closed_reported(channel, key)? {
        db.close_window_for_sid(channel, key, now)?;
    }
    Ok(())
}

/// What to do after a send failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again after this long.
    Retry(Duration),
    /// Give up: recorded as failed with this code and message.
    Fail {
        /// The provider's code, or our own word.
        code: String,
        /// Why.
        message: String,
        /// The provider said the 24-hour window is closed: close it for the contact.
        window_closed: bool,
    },
    /// The provider may have the message: hold it until an operator decides.
    Uncertain(String),
}

/// How retries are spaced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts before a retryable error becomes a failure.
    pub max_attempts: u32,
    /// The first retry waits about this long; each further one twice as long.
    pub base: Duration,
}

/// Decides after attempt number `attempt` (1-based) failed with `error`. Only
/// rate limits, provider errors (5xx) and failures before anything was sent are
/// retried; any other refusal is final; a lost answer is uncertain. `jitter`
/// is in `[0.5, 1.5)`.
pub fn after_failure(error: &SendError, attempt: u32, retry: RetryPolicy, jitter: f64) -> AfterFailure {
    let (retryable, window_closed) = match error {
        SendError::Rejected { verdict, .. } => (
            matches!(verdict, Refused::RateLimited | Refused::ServerError),
            *verdict == Refused::WindowClosed,
        ),
        SendError::NotSent(..) => (true, false),
        SendError::Unknown(_, detail) => return AfterFailure::Uncertain(detail.clone()),
    };
    if retryable && attempt < retry.max_attempts {
        return AfterFailure::Retry(backoff(retry.base, attempt, jitter));
    }
    let (code, message) = error.code_and_message();
    let message = if retryable {
        format!("{message} (gave up after {attempt} attempts)")
    } else {
        message
    };
    AfterFailure::Fail {
        code,
        message,
        window_closed,
    }
}

/// Exponential backoff with jitter: about `base * 2^(attempt-1)`, scaled by
/// `jitter` in `[0.5, 1.5)` so many senders do not retry in step.
pub fn backoff(base: Duration, attempt: u32, jitter: f64) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    exp.min(BACKOFF_MAX).mul_f64(jitter.clamp(0.5, 1.5))
}

/// A token bucket: `rate` sends per second on average, bursts up to `burst`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: std::time::Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: f64, burst: f64, now: std::time::Instant) -> TokenBucket {
        TokenBucket {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes a token, or says how long to wait for one.
    pub fn take(&mut self, now: std::time::Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const RETRY: RetryPolicy = RetryPolicy {
        max_attempts: 5,
        base: Duration::from_secs(2),
    };

    fn rejected(verdict: Refused, code: &str) -> SendError {
        SendError::Rejected {
            channel: Channel::Twilio,
            http_status: 400,
            code: Some(code.into()),
            message: "m".into(),
            verdict,
        }
    }

    #[test]
    fn the_window_and_opt_out() {
        let now = t("2026-01-02T12:00:00Z");
        let recent = ContactFacts {
            last_inbound_at: Some(t("2026-01-01T13:00:00Z")),
            ..ContactFacts::default()
        };
        assert_eq!(check(ContentKind::Text, &recent, now), Ok(()));
        let old = ContactFacts {
            last_inbound_at: Some(t("2026-01-01T11:59:59Z")),
            ..recent
        };
        assert!(matches!(
            check(ContentKind::Text, &old, now),
            Err(Refusal::OutsideWindow(_))
        ));
        assert_eq!(check(ContentKind::Template, &old, now), Ok(()));
        assert_eq!(check(ContentKind::Template, &old, now), Ok(()));
        let never = ContactFacts::default();
        assert!(matches!(
            check(ContentKind::Text, &never, now),
            Err(Refusal::OutsideWindow(_))
        ));
        let closed = ContactFacts {
            window_closed_at: Some(t("2026-01-02T11:00:00Z")),
            ..recent
        };
        assert!(matches!(
            check(ContentKind::Text, &closed, now),
            Err(Refusal::OutsideWindow(_))
        ));
        let reopened = ContactFacts {
            window_closed_at: Some(t("2026-01-01T12:00:00Z")),
            ..recent
        };
        assert_eq!(check(ContentKind::Text, &reopened, now), Ok(()));
        let stopped = ContactFacts {
            suppressed: true,
            ..recent
        };
        assert_eq!(check(ContentKind::Template, &stopped, now), Err(Refusal::OptedOut));
        assert_eq!(check(ContentKind::Reply, &stopped, now), Ok(()), "a STOP is confirmed");
    }

    #[test]
    fn only_rate_limits_server_errors_and_unsent_requests_are_retried() {
        for retryable in [
            rejected(Refused::RateLimited, "20429"),
            rejected(Refused::ServerError, "http_503"),
        ] {
            assert!(
                matches!(after_failure(&retryable, 1, RETRY, 1.0), AfterFailure::Retry(_)),
                "{retryable:?}"
            );
            assert!(matches!(
                after_failure(&retryable, 5, RETRY, 1.0),
                AfterFailure::Fail {
                    window_closed: false,
                    ..
                }
            ));
        }
        assert!(matches!(
            after_failure(&SendError::NotSent(Channel::Meta, "refused".into()), 1, RETRY, 1.0),
            AfterFailure::Retry(_)
        ));
        let AfterFailure::Fail {
            code, window_closed, ..
        } = after_failure(&rejected(Refused::Final, "21211"), 1, RETRY, 1.0)
        else {
            panic!("a final refusal must not be retried")
        };
        assert_eq!((code.as_str(), window_closed), ("21211", false));
        let AfterFailure::Fail { window_closed, .. } =
            after_failure(&rejected(Refused::WindowClosed, "131047"), 1, RETRY, 1.0)
        else {
            panic!("outside the window is final")
        };
        assert!(window_closed);
        assert!(matches!(
            after_failure(&SendError::Unknown(Channel::Twilio, "reset".into()), 1, RETRY, 1.0),
            AfterFailure::Uncertain(_)
        ));
    }

    #[test]
    fn backoff_doubles_with_jitter_and_a_cap() {
        let base = Duration::from_secs(2);
        assert_eq!(backoff(base, 1, 1.0), Duration::from_secs(2));
        assert_eq!(backoff(base, 3, 1.0), Duration::from_secs(8));
        assert_eq!(backoff(base, 3, 0.5), Duration::from_secs(4));
        assert_eq!(backoff(base, 30, 1.0), BACKOFF_MAX);
    }

    #[test]
    fn the_bucket_refills_at_its_rate() {
        let start = std::time::Instant::now();
        let mut bucket = TokenBucket::new(2.0, 2.0, start);
        assert!(bucket.take(start).is_ok() && bucket.take(start).is_ok());
        let wait = bucket.take(start).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-9, "{wait:?}");
        assert!(bucket.take(start + Duration::from_millis(500)).is_ok());
    }
}
