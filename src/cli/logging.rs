//! Logging to stderr with simplelog: `LEVEL area: message`, one line each
//! (journald adds timestamps). The level comes from `SHOPBOT_LOG` or `RUST_LOG`
//! (`error`, `warn`, `info`, `debug`, `trace`), else the command's default.
//! Message bodies are logged only at debug; tokens never.
//!
//! Every line is one line: control characters in a message (a newline in a
//! signed `MessageSid`, an escape sequence in a customer's name) are written
//! escaped (`\n`, `\u{1b}`), so nothing from outside can forge a log line.

use simplelog::{
    ColorChoice, CombinedLogger, Config, ConfigBuilder, LevelFilter, SharedLogger, TermLogger, TerminalMode,
    WriteLogger,
};

/// Starts logging as `[log]` says: to its `file`, else to stderr; at its
/// `level` unless `SHOPBOT_LOG` / `RUST_LOG` set one; else at `default`.
pub fn init_for(log: &crate::config::Log, default: LevelFilter) -> std::io::Result<()> {
    let default = log.level.unwrap_or(default);
    match &log.file {
        Some(path) => init_file(default, path),
        None => {
            init(default);
            Ok(())
        }
    }
}

/// Starts logging; `default` applies when no env var sets a level.
pub fn init(default: LevelFilter) {
    let level = level_from_env(default);
    let (ours, tiny_http) = (config(false, IGNORE_TINY_HTTP), config(false, ONLY_TINY_HTTP));
    install(vec![
        TermLogger::new(level, ours, TerminalMode::Stderr, ColorChoice::Never),
        TermLogger::new(
            level.min(LevelFilter::Warn),
            tiny_http,
            TerminalMode::Stderr,
            ColorChoice::Never,
        ),
    ]);
}

/// Installs `loggers` behind [`OneLine`] (once per process; later calls do nothing).
fn install(loggers: Vec<Box<dyn SharedLogger>>) {
    let combined = CombinedLogger::new(loggers);
    let level = combined.level();
    if log::set_boxed_logger(Box::new(OneLine(combined))).is_ok() {
        log::set_max_level(level);
    }
}

/// A logger that escapes control characters in each message before the
/// inner one writes it.
struct OneLine<L>(L);

impl<L: log::Log> log::Log for OneLine<L> {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.0.enabled(record.metadata()) {
            return;
        }
        let text = record.args().to_string();
        if !text.contains(char::is_control) {
            return self.0.log(record);
        }
        let escaped = escape_controls(&text);
        self.0.log(
            &log::Record::builder()
                .metadata(record.metadata().clone())
                .args(format_args!("{escaped}"))
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// `text` with each control character as its Rust escape (`\n`, `\u{1b}`).
fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

type Filter = fn(&mut ConfigBuilder) -> &mut ConfigBuilder;
/// Our own lines.
const IGNORE_TINY_HTTP: Filter = |c| c.add_filter_ignore_str("tiny_http");
/// tiny_http's warnings and errors (connections refused over the limit,
/// accept errors), not its debug chatter: logged at `Warn` at most.
const ONLY_TINY_HTTP: Filter = |c| c.add_filter_allow_str("tiny_http");

/// The level `SHOPBOT_LOG` or `RUST_LOG` sets, else `default`.
fn level_from_env(default: LevelFilter) -> LevelFilter {
    ["SHOPBOT_LOG", "RUST_LOG"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
        .and_then(|v| v.trim().parse::<LevelFilter>().ok())
        .unwrap_or(default)
}

/// `area: message` lines; `timed` (files) puts the local RFC 3339 time first
/// (journald and terminals add their own).
fn config(timed: bool, filter: Filter) -> Config {
    let mut builder = ConfigBuilder::new();
    builder
        .set_time_level(LevelFilter::Off)
        .set_thread_level(LevelFilter::Off)
        .set_target_level(LevelFilter::Error)
        .set_location_level(LevelFilter::Off);
    if timed {
        builder.set_time_level(LevelFilter::Error).set_time_format_rfc3339();
        let _ = builder.set_time_offset_to_local();
    }
    filter(&mut builder).build()
}

/// A Windows service has no console: it logs to this file, beside the database.
#[cfg(any(windows, test))]
pub const LOG_FILE: &str = "shopbot.log";

/// A log file at start-up larger than this is renamed to `….old` first.
const LOG_FILE_LIMIT: u64 = 10 * 1024 * 1024;

/// Starts logging to the file `path` (see [`open_file`]) as `time [LEVEL]
/// area: message` lines; the level as for [`init`].
pub fn init_file(default: LevelFilter, path: &std::path::Path) -> std::io::Result<()> {
    let level = level_from_env(default);
    let file = open_file(path, LOG_FILE_LIMIT)?;
    install(vec![
        WriteLogger::new(level, config(true, IGNORE_TINY_HTTP), file.try_clone()?),
        WriteLogger::new(level.min(LevelFilter::Warn), config(true, ONLY_TINY_HTTP), file),
    ]);
    Ok(())
}

/// Opens `path` for appending (creating it and its folder); one larger than
/// `limit` bytes is first renamed to `path` + `.old`, replacing an older one.
fn open_file(path: &std::path::Path, limit: u64) -> std::io::Result<std::fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    if std::fs::metadata(path).is_ok_and(|m| m.len() > limit) {
        let mut old = path.as_os_str().to_owned();
        old.push(".old");
        std::fs::rename(path, old)?;
    }
    std::fs::OpenOptions::new().create(true).append(true).open(path)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// Collects what a logger writes.
    #[derive(Clone, Default)]
    struct Collected(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Collected {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_value_from_outside_cannot_forge_a_log_line() {
        use log::Log as _;
        let out = Collected::default();
        let inner = WriteLogger::new(LevelFilter::Info, config(false, IGNORE_TINY_HTTP), out.clone());
        let logger = OneLine(inner);
        let sid = "SM1\n[ERROR] forged\r\u{1b}[31mred";
        logger.log(
            &log::Record::builder()
                .level(log::Level::Info)
                .target("twilio")
                .args(format_args!("{sid}: stored"))
                .build(),
        );
        let written = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(written.lines().count(), 1, "{written:?}");
        assert!(
            written.contains("SM1\\n[ERROR] forged\\r\\u{1b}[31mred: stored"),
            "{written:?}"
        );
    }

    #[test]
    fn the_log_file_is_appended_to_and_set_aside_when_too_large() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs").join(LOG_FILE);
        writeln!(open_file(&path, 100).unwrap(), "one").unwrap();
        writeln!(open_file(&path, 100).unwrap(), "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
        writeln!(open_file(&path, 5).unwrap(), "three").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three\n");
        let old = dir.path().join("logs").join("shopbot.log.old");
        assert_eq!(std::fs::read_to_string(old).unwrap(), "one\ntwo\n");
    }
}
