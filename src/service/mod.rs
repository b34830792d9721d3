//! Running under a service manager: telling systemd or the Windows Service
//! Control Manager when shopbot is ready and when it is stopping, proving it is
//! alive (systemd's watchdog), and stopping cleanly on a signal or a Stop control.

pub mod systemd;
#[cfg(windows)]
pub mod windows;

/// Tells the service manager start-up is finished (the database is open, the
/// port is bound). Does nothing when not started by one.
pub fn ready() {
    systemd::ready();
    #[cfg(windows)]
    windows::ready();
}

/// Tells the service manager shopbot is draining. Does nothing when not
/// started by one.
pub fn stopping() {
    systemd::stopping();
    #[cfg(windows)]
    windows::stopping();
}
