//! Running under a service manager: telling systemd when shopbot is ready,
//! proving it is alive (watchdog), and stopping cleanly on a signal.

pub mod systemd;
