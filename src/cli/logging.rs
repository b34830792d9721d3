//! Logging to stderr with simplelog: `LEVEL area: message`, one line each
//! (journald adds timestamps). The level comes from `SHOPBOT_LOG` or `RUST_LOG`
//! (`error`, `warn`, `info`, `debug`, `trace`), else the command's default.
//! Message bodies are logged only at debug; tokens never.

use simplelog::{ColorChoice, CombinedLogger, Config, ConfigBuilder, LevelFilter, TermLogger, TerminalMode};

/// Starts logging; `default` applies when no env var sets a level.
pub fn init(default: LevelFilter) {
    let level = ["SHOPBOT_LOG", "RUST_LOG"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
        .and_then(|v| v.trim().parse::<LevelFilter>().ok())
        .unwrap_or(default);
    let ours = config(|c| c.add_filter_ignore_str("tiny_http"));
    // tiny_http's warnings and errors (connections refused over the limit,
    // accept errors), not its debug chatter.
    let tiny_http = config(|c| c.add_filter_allow_str("tiny_http"));
    let _ = CombinedLogger::init(vec![
        TermLogger::new(level, ours, TerminalMode::Stderr, ColorChoice::Never),
        TermLogger::new(
            level.min(LevelFilter::Warn),
            tiny_http,
            TerminalMode::Stderr,
            ColorChoice::Never,
        ),
    ]);
}

fn config(filter: impl FnOnce(&mut ConfigBuilder) -> &mut ConfigBuilder) -> Config {
    let mut builder = ConfigBuilder::new();
    builder
        .set_time_level(LevelFilter::Off)
        .set_thread_level(LevelFilter::Off)
        .set_target_level(LevelFilter::Error)
        .set_location_level(LevelFilter::Off);
    filter(&mut builder).build()
}
