//! The sign-in throttle: how many passwords may be checked, per trier and in
//! all.
//!
//! - **Counted before the check.** A try is counted when it is admitted, before
//!   argon2 runs, and forgotten only when it succeeds: a burst of simultaneous
//!   wrong passwords from one address cannot pass more than the limit (the
//!   check used to happen before the hash and the failure was counted after
//!   it, so 19 of 40 simultaneous tries got through; issue 19, finding 4).
//! - **Per trier.** A client address may try [`PER_TRIER`] times a minute. A
//!   device that signed in before (its signed cookie, see [`super::device`])
//!   is its own trier: the owner's phone is not locked out because someone
//!   else, or everyone behind the same proxy, is guessing.
//! - **A ceiling for everyone else.** Addresses together get at most
//!   [`GLOBAL_PER_SECOND`] checks a second, and at most [`MAX_IN_FLIGHT`] at
//!   once (one hashing in the one argon2 buffer, one waiting for it), so a
//!   flood from rotating addresses neither queues worker threads (which
//!   Twilio's webhooks need) nor burns the CPU, however slow the machine.
//!   Known devices are not counted against it.
//!
//! The state is bounded: only admitted tries are kept, at most the limit per
//! trier, and quiet triers are pruned when the table grows.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Tries per trier per [`WINDOW`].
pub const PER_TRIER: usize = 5;
/// The window of [`PER_TRIER`].
pub const WINDOW: Duration = Duration::from_secs(60);
/// Checks a second for all client addresses together.
pub const GLOBAL_PER_SECOND: usize = 10;
/// Checks of client addresses running or waiting at once.
pub const MAX_IN_FLIGHT: usize = 2;
/// Triers remembered before quiet ones are pruned.
const PRUNE_AT: usize = 10_000;

/// Who is trying a password.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Trier {
    /// A client address (the proxy's client when the proxy is trusted).
    Address(IpAddr),
    /// A device that signed in before, by its id.
    KnownDevice(String),
}

/// Why a try is not checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// This trier used up its tries; it may try again after the wait.
    TooManyTries(Duration),
    /// Too many sign-ins from everywhere right now; try again after the wait.
    Busy(Duration),
}

/// See the module's doc.
pub struct Throttle {
    per_trier: usize,
    window: Duration,
    global_per_second: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    tries: HashMap<Trier, VecDeque<Instant>>,
    /// Admitted tries of addresses in the last second.
    recent: VecDeque<Instant>,
    /// Admitted tries of addresses not yet done.
    in_flight: usize,
}

/// An admitted try of an address: it holds its place among the
/// [`MAX_IN_FLIGHT`] until dropped.
#[must_use = "the try is in flight while this lives"]
pub struct Permit<'a> {
    throttle: Option<&'a Throttle>,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let Some(throttle) = self.throttle {
            throttle.lock().in_flight -= 1;
        }
    }
}

impl Throttle {
    /// The sign-in throttle: [`PER_TRIER`] a minute, [`GLOBAL_PER_SECOND`] in all.
    pub fn sign_in() -> Throttle {
        Throttle::new(PER_TRIER, WINDOW, GLOBAL_PER_SECOND)
    }

    /// A throttle of `per_trier` tries per `window`, and `global_per_second`
    /// tries a second of all addresses together.
    pub fn new(per_trier: usize, window: Duration, global_per_second: usize) -> Throttle {
        Throttle {
            per_trier,
            window,
            global_per_second,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a try of `trier` now, or says why it may not try.
    pub fn admit(&self, trier: &Trier, now: Instant) -> Result<Permit<'_>, Refused> {
        let mut state = self.lock();
        let window = self.window;
        if let Some(times) = state.tries.get_mut(trier) {
            forget_older(times, now, window);
            if times.len() >= self.per_trier {
                let oldest = times.front().copied().unwrap_or(now);
                return Err(Refused::TooManyTries(window.saturating_sub(now.duration_since(oldest))));
            }
        }
        let counted_globally = matches!(trier, Trier::Address(_));
        if counted_globally {
            forget_older(&mut state.recent, now, Duration::from_secs(1));
            if state.in_flight >= MAX_IN_FLIGHT {
                return Err(Refused::Busy(Duration::from_secs(1)));
            }
            if state.recent.len() >= self.global_per_second {
                let oldest = state.recent.front().copied().unwrap_or(now);
                let wait = Duration::from_secs(1).saturating_sub(now.duration_since(oldest));
                return Err(Refused::Busy(wait));
            }
            state.recent.push_back(now);
            state.in_flight += 1;
        }
        if state.tries.len() > PRUNE_AT {
            state
                .tries
                .retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        state.tries.entry(trier.clone()).or_default().push_back(now);
        Ok(Permit {
            throttle: counted_globally.then_some(self),
        })
    }

    /// A successful sign-in forgets the trier's tries.
    pub fn succeeded(&self, trier: &Trier) {
        self.lock().tries.remove(trier);
    }
}

fn forget_older(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times.front().is_some_and(|t| now.duration_since(*t) >= window) {
        times.pop_front();
    }
}

impl Refused {
    /// How long to wait, in whole seconds (at least one).
    pub fn retry_after_secs(self) -> u64 {
        let (Refused::TooManyTries(wait) | Refused::Busy(wait)) = self;
        wait.as_secs_f64().ceil().max(1.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> Trier {
        Trier::Address(text.parse().unwrap())
    }

    #[test]
    fn five_tries_a_minute_counted_before_the_check() {
        let throttle = Throttle::new(5, WINDOW, 100);
        let client = address("192.0.2.7");
        let start = Instant::now();
        for _ in 0..5 {
            assert!(throttle.admit(&client, start).is_ok());
        }
        assert_eq!(
            throttle.admit(&client, start).err(),
            Some(Refused::TooManyTries(Duration::from_secs(60))),
            "the sixth try is refused before any outcome is known"
        );
        assert!(throttle.admit(&address("192.0.2.8"), start).is_ok(), "per address");
        assert!(throttle.admit(&client, start + Duration::from_secs(61)).is_ok());
        throttle.succeeded(&client);
        assert!(throttle.admit(&client, start + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn a_known_device_is_its_own_trier_and_skips_the_global_ceiling() {
        let throttle = Throttle::new(5, WINDOW, 2);
        let now = Instant::now();
        drop(throttle.admit(&address("192.0.2.1"), now).unwrap());
        drop(throttle.admit(&address("192.0.2.2"), now).unwrap());
        let busy = throttle.admit(&address("192.0.2.3"), now).err();
        assert_eq!(busy, Some(Refused::Busy(Duration::from_secs(1))));
        assert_eq!(busy.unwrap().retry_after_secs(), 1);
        let phone = Trier::KnownDevice("owner-phone".into());
        for _ in 0..5 {
            assert!(throttle.admit(&phone, now).is_ok());
        }
        assert!(matches!(
            throttle.admit(&phone, now).err(),
            Some(Refused::TooManyTries(_))
        ));
        assert!(throttle
            .admit(&address("192.0.2.3"), now + Duration::from_secs(1))
            .is_ok());
    }

    #[test]
    fn at_most_two_checks_of_addresses_at_once() {
        let throttle = Throttle::new(5, WINDOW, 100);
        let now = Instant::now();
        let first = throttle.admit(&address("192.0.2.1"), now).unwrap();
        let second = throttle.admit(&address("192.0.2.2"), now).unwrap();
        let third = throttle.admit(&address("192.0.2.3"), now).err();
        assert_eq!(
            third,
            Some(Refused::Busy(Duration::from_secs(1))),
            "not counted: it may try again"
        );
        assert!(
            throttle.admit(&Trier::KnownDevice("phone".into()), now).is_ok(),
            "known devices wait their turn"
        );
        drop(first);
        let third = throttle.admit(&address("192.0.2.3"), now);
        assert!(third.is_ok());
        drop((second, third));
    }

    #[test]
    fn concurrent_tries_never_pass_more_than_the_limit() {
        let throttle = std::sync::Arc::new(Throttle::new(5, WINDOW, 1000));
        let now = Instant::now();
        let admitted: usize = (0..40)
            .map(|_| {
                let throttle = throttle.clone();
                // Each permit is dropped at once: only the per-address count limits.
                std::thread::spawn(move || throttle.admit(&address("198.51.100.9"), now).is_ok())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| usize::from(t.join().unwrap()))
            .sum();
        assert_eq!(admitted, 5);
    }
}
