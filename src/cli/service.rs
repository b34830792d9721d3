//! `shopbot service install|uninstall`: shopbot as a Windows service. On Linux
//! the packaged systemd unit does this job; the commands say how and exit 1.

use clap::Subcommand;

use super::{CliError, ConfigArg};

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Windows: register the auto-start service "shopbot" (run as Administrator).
    Install(InstallArgs),
    /// Windows: stop and remove the service.
    Uninstall,
    /// Windows: what the service manager starts (not for interactive use).
    #[command(hide = true)]
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    config: ConfigArg,
}

pub fn execute(command: Command) -> Result<(), CliError> {
    match command {
        Command::Install(args) => platform::install(args),
        Command::Uninstall => platform::uninstall(),
        Command::Run(args) => platform::run(args),
    }
}

#[cfg(not(windows))]
mod platform {
    use super::{CliError, InstallArgs, RunArgs};

    /// What to do instead on Linux (and other unix systems).
    pub const SYSTEMD_HOWTO: &str =
        "`shopbot service` manages the Windows service; on Linux shopbot runs as the packaged systemd unit.
With the Debian package (shopbot_*.deb) it is already installed:
    sudo editor /etc/shopbot/config.toml      # then: shopbot check --config /etc/shopbot/config.toml
    sudo systemctl enable --now shopbot       # logs: journalctl -u shopbot -f
Without the package, copy packaging/systemd/shopbot.service to /etc/systemd/system/ and
packaging/systemd/shopbot.sysusers to /etc/sysusers.d/shopbot.conf, then run
    sudo systemd-sysusers && sudo systemctl daemon-reload && sudo systemctl enable --now shopbot
See packaging/README.md.";

    pub fn install(_: InstallArgs) -> Result<(), CliError> {
        Err(CliError::Usage(SYSTEMD_HOWTO.into()))
    }

    pub fn uninstall() -> Result<(), CliError> {
        Err(CliError::Usage(format!(
            "{SYSTEMD_HOWTO}\nTo remove it: sudo systemctl disable --now shopbot (or apt remove shopbot)."
        )))
    }

    pub fn run(_: RunArgs) -> Result<(), CliError> {
        Err(CliError::Usage(SYSTEMD_HOWTO.into()))
    }
}

#[cfg(windows)]
mod platform {
    use std::ffi::OsString;
    use std::path::{Path, PathBuf};

    use simplelog::LevelFilter;

    use super::{CliError, InstallArgs, RunArgs};
    use crate::cli::{logging, serve};
    use crate::config::{Config, ENV_ADMIN_TOKEN, ENV_AUTH_TOKEN};
    use crate::service::windows::{self, DISPLAY_NAME, SERVICE_NAME};

    fn service_error(e: windows::Error) -> CliError {
        CliError::Usage(e.0)
    }

    /// Registers the service with the config's absolute path, after checking
    /// the config loads (so a typo shows now, not in the log at start).
    pub fn install(args: InstallArgs) -> Result<(), CliError> {
        let config_path = std::path::absolute(args.config.resolve()?).map_err(|source| CliError::Io {
            what: "finding the config file's absolute path".into(),
            source,
        })?;
        let config = Config::load(&config_path)?;
        let exe = std::env::current_exe().map_err(|source| CliError::Io {
            what: "finding shopbot.exe's own path".into(),
            source,
        })?;
        let arguments: Vec<OsString> = vec![
            "service".into(),
            "run".into(),
            "--config".into(),
            config_path.clone().into_os_string(),
        ];
        let warnings = windows::install(&exe, arguments).map_err(service_error)?;
        for warning in warnings {
            eprintln!("warning: {warning}");
        }
        println!("installed the Windows service \"{SERVICE_NAME}\" ({DISPLAY_NAME}): starts automatically at boot, as LocalSystem");
        println!(
            "  runs:   \"{}\" service run --config \"{}\"",
            exe.display(),
            config_path.display()
        );
        println!("  logs:   {}", log_path(&config).display());
        if [ENV_AUTH_TOKEN, ENV_ADMIN_TOKEN]
            .iter()
            .any(|v| std::env::var_os(v).is_some())
        {
            println!(
                "  note:   the service does not see this window's {ENV_AUTH_TOKEN} / {ENV_ADMIN_TOKEN}; give it its own (packaging/README.md, \"Windows\")"
            );
        }
        println!("Start it now:  Start-Service {SERVICE_NAME}      (or reboot)");
        Ok(())
    }

    pub fn uninstall() -> Result<(), CliError> {
        windows::uninstall().map_err(service_error)?;
        println!("removed the Windows service \"{SERVICE_NAME}\" (the config, database and log are kept)");
        Ok(())
    }

    /// Started by the service manager: serve until it says Stop or Shutdown.
    pub fn run(args: RunArgs) -> Result<(), CliError> {
        let config_path = args.config.resolve()?;
        windows::dispatch(Box::new(move |stop| serve_as_service(&config_path, &stop))).map_err(service_error)
    }

    /// The log file: `[log] file`, else `shopbot.log` beside the database.
    fn log_path(config: &Config) -> PathBuf {
        config
            .log
            .file
            .clone()
            .unwrap_or_else(|| config.database_path.with_file_name(logging::LOG_FILE))
    }

    /// Loads the config, logs to [`log_path`] at `[log] level` (or, when the
    /// config does not load, beside the config) and serves until `stop`.
    fn serve_as_service(config_path: &Path, stop: &std::sync::mpsc::Receiver<()>) -> Result<(), u32> {
        let config = match Config::load(config_path) {
            Ok(config) => config,
            Err(e) => {
                let _ = logging::init_file(LevelFilter::Info, &config_path.with_file_name(logging::LOG_FILE));
                let e = CliError::from(e);
                log::error!(target: "service", "{e}");
                return Err(e.exit_code().into());
            }
        };
        let level = config.log.level.unwrap_or(LevelFilter::Info);
        if let Err(e) = logging::init_file(level, &log_path(&config)) {
            // Keep serving: a missing log must not take the shop offline.
            let _ = logging::init_file(level, &config_path.with_file_name(logging::LOG_FILE));
            log::error!(target: "service", "cannot open {}: {e}; logging here instead", log_path(&config).display());
        }
        log::info!(target: "service", "shopbot {} starting as the Windows service \"{SERVICE_NAME}\"; config {}", env!("CARGO_PKG_VERSION"), config_path.display());
        match serve::run(&config, stop) {
            Ok(()) => Ok(()),
            Err(e) => {
                log::error!(target: "service", "{e}");
                Err(e.exit_code().into())
            }
        }
    }
}

#[cfg(all(test, not(windows)))]
mod tests {
    use super::platform::SYSTEMD_HOWTO;

    #[test]
    fn on_linux_the_howto_names_the_unit_and_the_commands() {
        for needle in ["systemd", "systemctl enable --now shopbot", "journalctl -u shopbot"] {
            assert!(SYSTEMD_HOWTO.contains(needle), "{needle}");
        }
    }
}
