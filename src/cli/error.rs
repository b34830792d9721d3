//! Errors of the command line, rendered once, with exit codes.

use std::process::ExitCode;

use crate::config::ConfigError;
use crate::orders::ImportError;
use crate::outbox::policy::Refusal;
use crate::outbox::validate::FieldError;
use crate::server::StartError;
use crate::store::StoreError;

/// Anything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The config is unusable (exit 1).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No config file was given or found (exit 1).
    #[error(
        "no config file: pass --config FILE, set SHOPBOT_CONFIG, or create ./config.toml (copy config.example.toml)"
    )]
    NoConfig,
    /// The user's input is wrong (exit 1).
    #[error("{0}")]
    Usage(String),
    /// A flag's value cannot be used (exit 1).
    #[error("{flag}: {}", source.reason)]
    Field {
        /// The flag, like `--to`.
        flag: &'static str,
        /// What is wrong with it.
        #[source]
        source: FieldError,
    },
    /// An argument's value cannot be used (exit 1).
    #[error("{arg}: {source}")]
    InvalidArg {
        /// The argument, like `--from`, or the file it names.
        arg: String,
        /// What is wrong with it.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The demo's port is taken (exit 1).
    #[error("cannot listen on {addr}: {source}; try another port: shopbot demo --port {next}")]
    DemoPort {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The port to suggest.
        next: u16,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The message may not be sent (opted out, outside the window …) (exit 1).
    #[error("not queued: {0}")]
    Refused(#[source] Refusal),
    /// The server could not start (exit 2, or 1 for a busy port).
    #[error(transparent)]
    Start(#[from] StartError),
    /// The database failed (exit 2).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An import failed as a whole.
    #[error("{path}: {source}")]
    Import {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: ImportError,
    },
    /// A file the user named cannot be read (exit 1: fix the path).
    #[error("cannot read {}: {source}", path.display())]
    InputFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing a file or the terminal failed (exit 2).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Ctrl+C / SIGTERM handling could not be installed (exit 2: not the user's fault).
    #[error("cannot install the signal handler: {0}")]
    Signal(#[source] std::io::Error),
    /// The command finished but reports a partial failure it already printed (exit 1).
    #[error("{0}")]
    Partial(String),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_)
            | CliError::NoConfig
            | CliError::Usage(_)
            | CliError::Field { .. }
            | CliError::InvalidArg { .. }
            | CliError::InputFile { .. }
            | CliError::DemoPort { .. }
            | CliError::Refused(_)
            | CliError::Partial(_) => 1,
            CliError::Start(StartError::Bind { .. } | StartError::Store(StoreError::InUse { .. })) => 1,
            // A user's mistake: the server still runs, or the file is no backup.
            CliError::Store(
                StoreError::InUse { .. }
                | StoreError::TooNew { .. }
                | StoreError::Invalid(_)
                | StoreError::Corrupt { .. },
            ) => 1,
            CliError::Import {
                source: ImportError::Store(_),
                ..
            } => 2,
            CliError::Import { .. } => 1,
            CliError::Start(_) | CliError::Store(_) | CliError::Io { .. } | CliError::Signal(_) => 2,
        }
    }

    /// Prints the error to stderr and returns the exit code.
    pub fn report(&self) -> ExitCode {
        let text = self.to_string();
        let mut lines = text.lines();
        eprintln!("error: {}", lines.next().unwrap_or_default());
        for line in lines {
            eprintln!("       {line}");
        }
        ExitCode::from(self.exit_code())
    }
}
