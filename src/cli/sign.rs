//! `shopbot sign --url URL --param K=V …`: print the X-Twilio-Signature Twilio
//! would send, to compare with the header in a 403 log line.

use std::path::PathBuf;

use clap::{Args as ClapArgs, ValueEnum};

use super::{CliError, ConfigArg};
use crate::channel::twilio::signature::{self, Algorithm};
use crate::channel::twilio::webhook::parse_form;
use crate::config::ENV_AUTH_TOKEN;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The full URL Twilio requested, query string included.
    #[arg(long)]
    url: String,
    /// A form parameter (repeat for each).
    #[arg(long = "param", value_name = "K=V")]
    params: Vec<String>,
    /// A captured application/x-www-form-urlencoded body instead of --param.
    #[arg(long, value_name = "FILE", conflicts_with = "params")]
    body_file: Option<PathBuf>,
    /// The signing key [default: $TWILIO_AUTH_TOKEN, else the config's auth token].
    #[arg(long, value_name = "SECRET")]
    key: Option<String>,
    /// HMAC algorithm (hmac-sha256 for SharedKeys that ask for it).
    #[arg(long, value_enum, default_value_t = Alg::HmacSha1)]
    algorithm: Alg,
    /// Also print the string that is signed.
    #[arg(long, short)]
    verbose: bool,
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Alg {
    HmacSha1,
    HmacSha256,
}

pub fn execute(args: Args) -> Result<(), CliError> {
    let params = match &args.body_file {
        Some(path) => {
            let body = std::fs::read(path).map_err(|source| CliError::Io {
                what: format!("reading {}", path.display()),
                source,
            })?;
            parse_form(&body).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?
        }
        None => args
            .params
            .iter()
            .map(|p| {
                p.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .ok_or_else(|| CliError::Usage(format!("--param {p:?} must look like Name=value")))
            })
            .collect::<Result<_, _>>()?,
    };
    let key = match (&args.key, std::env::var(ENV_AUTH_TOKEN).ok().filter(|v| !v.is_empty())) {
        (Some(key), _) => key.clone(),
        (None, Some(env)) => env,
        (None, None) => args
            .config
            .load()?
            .twilio
            .auth_token
            .map(|t| t.expose().to_string())
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "no key: pass --key, set {ENV_AUTH_TOKEN}, or set [twilio] auth_token"
                ))
            })?,
    };
    let algorithm = match args.algorithm {
        Alg::HmacSha1 => Algorithm::HmacSha1,
        Alg::HmacSha256 => Algorithm::HmacSha256,
    };
    if args.verbose {
        println!("string to sign: {}", signature::string_to_sign(&args.url, &params));
    }
    println!(
        "X-Twilio-Signature: {}",
        signature::compute(algorithm, key.as_bytes(), &args.url, &params)
    );
    Ok(())
}
