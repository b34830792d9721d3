//! The time, passed in rather than read: the server reads the system clock,
//! tests set it. Handlers and pages take their "now" from a [`Clock`], never
//! from `Timestamp::now()`, so session expiry, ages and the 24-hour window are
//! tested at any moment without waiting or ageing rows.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

/// Where "now" comes from.
#[derive(Clone)]
pub struct Clock(Source);

#[derive(Clone)]
enum Source {
    System,
    Set(Arc<Mutex<Timestamp>>),
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    /// A clock that stands at `at` until moved ([`Clock::advance`]).
    pub fn fixed(at: Timestamp) -> Clock {
        Clock(Source::Set(Arc::new(Mutex::new(at))))
    }

    /// Now.
    pub fn now(&self) -> Timestamp {
        match &self.0 {
            Source::System => Timestamp::now(),
            Source::Set(at) => *at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// Moves a fixed clock on by `by` (the system clock moves by itself).
    pub fn advance(&self, by: SignedDuration) {
        if let Source::Set(at) = &self.0 {
            let mut at = at.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            *at = at.checked_add(by).unwrap_or(Timestamp::MAX);
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Source::System => f.write_str("Clock::system()"),
            Source::Set(_) => write!(f, "Clock::fixed({})", self.now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stands_until_moved_and_its_clones_move_with_it() {
        let start: Timestamp = "2026-12-05T09:00:00Z".parse().unwrap();
        let clock = Clock::fixed(start);
        let seen_by_a_handler = clock.clone();
        assert_eq!(seen_by_a_handler.now(), start);
        clock.advance(SignedDuration::from_hours(2));
        assert_eq!(
            seen_by_a_handler.now(),
            "2026-12-05T11:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert!(Clock::system().now() > start - SignedDuration::from_hours(24 * 365));
    }
}
