//! systemd's notify protocol (`Type=notify`): `READY=1` once the database is open
//! and the port is bound, `STOPPING=1` when draining, and `WATCHDOG=1` pings
//! from a thread that first checks the database answers, so a wedged server is
//! restarted. Without `NOTIFY_SOCKET` (not under systemd, or on Windows) every
//! call does nothing.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Tells systemd startup is finished.
pub fn ready() {
    #[cfg(unix)]
    if let Err(e) = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]) {
        log::warn!(target: "service", "telling systemd we are ready failed: {e}");
    }
}

/// Tells systemd shopbot is stopping.
pub fn stopping() {
    #[cfg(unix)]
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
}

/// The watchdog interval systemd asked for (`WatchdogSec=`), if any.
fn watchdog_interval() -> Option<Duration> {
    #[cfg(unix)]
    {
        let mut usec = 0;
        if sd_notify::watchdog_enabled(false, &mut usec) {
            return Some(Duration::from_micros(usec));
        }
    }
    None
}

/// A running watchdog thread; dropping it stops the pings.
pub struct Watchdog {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Pings systemd at half the interval it asked for, each time only if
    /// `healthy()` says so. Does nothing when systemd asked for no watchdog.
    pub fn start(healthy: impl Fn() -> bool + Send + 'static) -> Watchdog {
        let Some(interval) = watchdog_interval() else {
            return Watchdog {
                stop: None,
                thread: None,
            };
        };
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = thread::Builder::new().name("watchdog".into()).spawn(move || loop {
            match stopped.recv_timeout(interval / 2) {
                Err(RecvTimeoutError::Timeout) if healthy() => ping(),
                Err(RecvTimeoutError::Timeout) => {
                    log::error!(target: "service", "the database does not answer; not pinging the watchdog")
                }
                _ => break,
            }
        });
        Watchdog {
            stop: Some(stop),
            thread: thread.ok(),
        }
    }
}

fn ping() {
    #[cfg(unix)]
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
