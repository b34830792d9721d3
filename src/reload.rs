//! Reloading the bot while serving: [`Watcher`] (started by `serve`) reloads the config and its menu file when
//! either changes on disk (checked every two seconds) or on SIGHUP, checks
//! them first exactly as a start would, and swaps the bot only if they are
//! valid (into the [`LiveBot`] the webhooks and the inbox answer with). An
//! invalid file is refused with a log line naming the problem, and
//! the old bot keeps serving.
//!
//! What reloads is what the bot is made of: the menu (every language), and
//! from the config `[shop] timezone`, `[opt]`, `[staff]` and `[hours]`. The
//! rest (the port, the database, the providers' credentials, the outbox)
//! needs a restart, as the log line says.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crate::config::Config;
use crate::conversation::{Bot, LiveBot};

/// How often the files are looked at.
pub const POLL_EVERY: Duration = Duration::from_secs(2);

/// What a file looked like when last seen (a change of either is a change).
type Seen = Option<(SystemTime, u64)>;

fn seen(path: &Path) -> Seen {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// The thread that reloads; stops when dropped.
pub struct Watcher {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Watches `config`'s file and its menu file for `bot`.
    pub fn start(config: &Config, bot: LiveBot) -> std::io::Result<Watcher> {
        let (stop, stopped) = mpsc::channel();
        let hangup = hangup_flag();
        let source = config.source.clone();
        let mut files = Files::of(&source, config.menu_path.clone());
        let thread = std::thread::Builder::new().name("reload".into()).spawn(move || loop {
            match stopped.recv_timeout(POLL_EVERY) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => return,
            }
            let asked = hangup.swap(false, Ordering::SeqCst);
            if asked || files.changed() {
                files = reload(&source, &bot, asked).unwrap_or_else(|| files.seen_now());
            }
        })?;
        Ok(Watcher {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The config file and the menu file it names, as last seen.
#[derive(Debug, Clone)]
struct Files {
    config: (PathBuf, Seen),
    menu: Option<(PathBuf, Seen)>,
}

impl Files {
    fn of(config: &Path, menu: Option<PathBuf>) -> Files {
        Files {
            config: (config.to_path_buf(), seen(config)),
            menu: menu.map(|path| {
                let now = seen(&path);
                (path, now)
            }),
        }
    }

    fn changed(&self) -> bool {
        seen(&self.config.0) != self.config.1 || self.menu.as_ref().is_some_and(|(path, was)| seen(path) != *was)
    }

    /// The same files, as they are now (a refused change is not retried
    /// until they change again).
    fn seen_now(&self) -> Files {
        Files::of(&self.config.0, self.menu.as_ref().map(|(path, _)| path.clone()))
    }
}

/// Loads and checks the config; swaps the bot if it is valid. Returns the
/// files to watch from now on, or `None` if nothing was swapped.
fn reload(source: &Path, bot: &LiveBot, asked: bool) -> Option<Files> {
    let why = if asked { "SIGHUP" } else { "a changed file" };
    match Config::load(source) {
        Ok(config) => {
            bot.replace(Bot::from_config(&config));
            log::info!(
                target: "reload",
                "reloaded on {why}: menu from {} (languages: {}); [shop] timezone, [opt], [staff] and [hours] apply now, other settings after a restart",
                config.menu_source,
                config.menus.all().map(|(language, _)| language).collect::<Vec<_>>().join(", ")
            );
            Some(Files::of(source, config.menu_path.clone()))
        }
        Err(e) => {
            log::error!(target: "reload", "not reloaded ({why}), the menu and settings in use stay: {e}");
            None
        }
    }
}

/// A flag SIGHUP raises (never on Windows, which has no SIGHUP: there the
/// files' changes alone reload).
fn hangup_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    #[cfg(unix)]
    if let Err(e) = signal_hook::flag::register(signal_hook::consts::SIGHUP, flag.clone()) {
        log::warn!(target: "reload", "SIGHUP will not reload (the files' changes still do): {e}");
    }
    flag
}
