//! Logging to stderr with simplelog: `LEVEL area: message`, one line each
//! (journald adds timestamps). The level comes from `SHOPBOT_LOG` or `RUST_LOG`
//! (`error`, `warn`, `info`, `debug`, `trace`), else the command's default.
//! Message bodies are logged only at debug; tokens never.

use simplelog::{ColorChoice, ConfigBuilder, LevelFilter, TermLogger, TerminalMode};

/// Starts logging; `default` applies when no env var sets a level.
pub fn init(default: LevelFilter) {
    let level = ["SHOPBOT_LOG", "RUST_LOG"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
        .and_then(|v| v.trim().parse::<LevelFilter>().ok())
        .unwrap_or(default);
    let config = ConfigBuilder::new()
        .set_time_level(LevelFilter::Off)
        .set_thread_level(LevelFilter::Off)
        .set_target_level(LevelFilter::Error)
        .set_location_level(LevelFilter::Off)
        .add_filter_ignore_str("tiny_http")
        .build();
    let _ = TermLogger::init(level, config, TerminalMode::Stderr, ColorChoice::Never);
}
