//! `shopbot check --config FILE`: validate the config and its menu, print a short
//! summary or every problem; exit 0 or 1.

use clap::Args as ClapArgs;

use super::{CliError, ConfigArg};
use crate::config::{Config, ENV_AUTH_TOKEN};

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    config: ConfigArg,
}

pub fn execute(args: Args) -> Result<(), CliError> {
    let path = args.config.resolve()?;
    let config = Config::load(&path)?;
    println!("{}: OK", path.display());
    for (name, value) in summary(&config) {
        println!("  {name:<16} {value}");
    }
    Ok(())
}

fn summary(c: &Config) -> Vec<(&'static str, String)> {
    let base = c.server.public_base_url.clone();
    let signatures = match (c.webhooks.validate_signatures, &c.twilio.auth_token) {
        (false, _) => "NOT checked ([webhooks] validate_signatures = false)".to_string(),
        (true, Some(_)) if std::env::var_os(ENV_AUTH_TOKEN).is_some() => {
            format!("checked (auth token from {ENV_AUTH_TOKEN})")
        }
        (true, Some(_)) => "checked (auth token from the config file)".to_string(),
        (true, None) => "checked with SharedKeys only".to_string(),
    };
    let mut lines = vec![
        ("listen", c.server.listen.to_string()),
        (
            "public_base_url",
            base.clone()
                .unwrap_or_else(|| "(not set: the Host header is used)".into()),
        ),
        (
            "webhook URL",
            match base {
                Some(base) => format!("{base}{}  <- enter this in the Twilio console", c.webhooks.inbound_path),
                None => format!("https://<your host>{}", c.webhooks.inbound_path),
            },
        ),
        ("signatures", signatures),
        ("database", c.database_path.display().to_string()),
        ("shop", format!("{} ({})", c.shop.name, c.shop.timezone_name)),
        (
            "menu",
            format!(
                "{}: {} nodes, starts at `{}`",
                c.menu_source,
                c.menu.nodes.len(),
                c.menu.start
            ),
        ),
    ];
    if let Some(folder) = c
        .database_path
        .parent()
        .filter(|f| !f.as_os_str().is_empty() && !f.is_dir())
    {
        lines.push((
            "warning",
            format!("the database folder {} does not exist yet", folder.display()),
        ));
    }
    lines
}
