//! The outbox's rules, pure: may this message go to this contact now (opt-out,
//! WhatsApp's 24-hour window), what to do after a failed send (retry with
//! backoff, fail for good, or hold as uncertain), and the token bucket that keeps
//! under Twilio's per-sender throughput.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::channel::twilio::rest::SendError;

/// WhatsApp's customer-service window after the customer's last message.
pub const WINDOW: SignedDuration = SignedDuration::from_hours(24);
/// Twilio codes that mean the window is closed (63016: outside the allowed window).
pub const WINDOW_CLOSED_CODE: u32 = 63016;
/// No retry waits longer than this.
pub const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Free-form text or a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Body and media: only inside the 24-hour window.
    Text,
    /// An approved template: allowed any time.
    Template,
}

impl Kind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Template => "template",
        }
    }
}

/// What the store knows about a contact, for the rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContactFacts {
    /// The number sent a stop keyword and no start keyword since.
    pub suppressed: bool,
    /// The customer's last inbound message.
    pub last_inbound_at: Option<Timestamp>,
    /// When Twilio last said the window is closed (63016).
    pub window_closed_at: Option<Timestamp>,
}

/// Why a message may not go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The number opted out.
    #[error("the recipient opted out (sent STOP); nothing is sent to them until they send START")]
    OptedOut,
    /// Free-form outside the 24-hour window.
    #[error("{0}; free-form messages are only allowed within 24 hours of the customer's last message: send a template instead")]
    OutsideWindow(String),
}

impl Refusal {
    /// The API error code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::OptedOut => "opted_out",
            Refusal::OutsideWindow(_) => "outside_window",
        }
    }
}

/// May a message of `kind` go to a contact with these facts at `now`?
pub fn check(kind: Kind, facts: &ContactFacts, now: Timestamp) -> Result<(), Refusal> {
    if facts.suppressed {
        return Err(Refusal::OptedOut);
    }
    if kind == Kind::Template {
        return Ok(());
    }
    let Some(last) = facts.last_inbound_at else {
        return Err(Refusal::OutsideWindow(
            "the customer has never written to this number".into(),
        ));
    };
    if facts.window_closed_at.is_some_and(|closed| closed >= last) {
        return Err(Refusal::OutsideWindow(
            "Twilio reported the 24-hour window closed (63016) since the customer's last message".into(),
        ));
    }
    if now.duration_since(last) >= WINDOW {
        return Err(Refusal::OutsideWindow(format!("the customer last wrote at {last}")));
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
        /// Twilio's code, or our own word.
        code: String,
        /// Why.
        message: String,
    },
    /// Twilio may have the message: hold it until an operator decides.
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
/// 429/20429, 5xx and failures before anything was sent are retried; any other
/// 4xx is final; a lost answer is uncertain. `jitter` is in `[0.5, 1.5)`.
pub fn after_failure(error: &SendError, attempt: u32, retry: RetryPolicy, jitter: f64) -> AfterFailure {
    let retryable = match error {
        SendError::Rejected { http_status, error } => {
            *http_status == 429 || error.code == Some(20429) || (500..600).contains(http_status)
        }
        SendError::NotSent(_) => true,
        SendError::Unknown(detail) => return AfterFailure::Uncertain(detail.clone()),
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
    AfterFailure::Fail { code, message }
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
    use crate::channel::twilio::rest::TwilioError;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const RETRY: RetryPolicy = RetryPolicy {
        max_attempts: 5,
        base: Duration::from_secs(2),
    };

    fn rejected(http_status: u16, code: Option<u32>) -> SendError {
        SendError::Rejected {
            http_status,
            error: TwilioError {
                code,
                message: "m".into(),
                more_info: None,
            },
        }
    }

    #[test]
    fn the_window_and_opt_out() {
        let now = t("2026-01-02T12:00:00Z");
        let recent = ContactFacts {
            last_inbound_at: Some(t("2026-01-01T13:00:00Z")),
            ..ContactFacts::default()
        };
        assert_eq!(check(Kind::Text, &recent, now), Ok(()));
        let old = ContactFacts {
            last_inbound_at: Some(t("2026-01-01T11:59:59Z")),
            ..recent
        };
        assert!(matches!(check(Kind::Text, &old, now), Err(Refusal::OutsideWindow(_))));
        assert_eq!(check(Kind::Template, &old, now), Ok(()));
        let never = ContactFacts::default();
        assert!(matches!(check(Kind::Text, &never, now), Err(Refusal::OutsideWindow(_))));
        let closed = ContactFacts {
            window_closed_at: Some(t("2026-01-02T11:00:00Z")),
            ..recent
        };
        assert!(matches!(
            check(Kind::Text, &closed, now),
            Err(Refusal::OutsideWindow(_))
        ));
        let reopened = ContactFacts {
            window_closed_at: Some(t("2026-01-01T12:00:00Z")),
            ..recent
        };
        assert_eq!(check(Kind::Text, &reopened, now), Ok(()));
        let stopped = ContactFacts {
            suppressed: true,
            ..recent
        };
        assert_eq!(check(Kind::Template, &stopped, now), Err(Refusal::OptedOut));
    }

    #[test]
    fn only_throttling_server_errors_and_unsent_requests_are_retried() {
        for retryable in [rejected(429, None), rejected(400, Some(20429)), rejected(503, None)] {
            assert!(
                matches!(after_failure(&retryable, 1, RETRY, 1.0), AfterFailure::Retry(_)),
                "{retryable:?}"
            );
            assert!(matches!(
                after_failure(&retryable, 5, RETRY, 1.0),
                AfterFailure::Fail { .. }
            ));
        }
        assert!(matches!(
            after_failure(&SendError::NotSent("refused".into()), 1, RETRY, 1.0),
            AfterFailure::Retry(_)
        ));
        for code in [21211, 20003, 63016, 63018, 21610] {
            let status = if code == 20003 { 401 } else { 400 };
            let AfterFailure::Fail { code: got, .. } = after_failure(&rejected(status, Some(code)), 1, RETRY, 1.0)
            else {
                panic!("{code} must not be retried")
            };
            assert_eq!(got, code.to_string());
        }
        assert!(matches!(
            after_failure(&SendError::Unknown("reset".into()), 1, RETRY, 1.0),
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
