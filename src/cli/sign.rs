//! `shopbot sign --url URL --param K=V …`: print the X-Twilio-Signature Twilio
//! would send, to compare with the header in a 403 log line; `shopbot sign
//! --meta --body-file F`: the X-Hub-Signature-256 Meta would send for that body.

use std::path::PathBuf;

use clap::{Args as ClapArgs, ValueEnum};

use super::{CliError, ConfigArg};
use crate::channel::meta;
use crate::channel::twilio::signature::{self, Algorithm};
use crate::channel::twilio::webhook::parse_form;
use crate::config::{ENV_AUTH_TOKEN, ENV_META_APP_SECRET};
use crate::urlencoded;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Sign a Meta webhook body (--body-file, the exact bytes) with the app
    /// secret [default key: $META_APP_SECRET, else the config's [meta] app_secret].
    #[arg(long, requires = "body_file", conflicts_with_all = ["url", "params", "algorithm"])]
    meta: bool,
    /// The full URL Twilio requested, query string included.
    #[arg(long, required_unless_present = "meta")]
    url: Option<String>,
    /// A form parameter (repeat for each).
    #[arg(long = "param", value_name = "K=V")]
    params: Vec<String>,
    /// A captured body: Twilio's form instead of --param, or Meta's JSON.
    #[arg(long, value_name = "FILE", conflicts_with = "params")]
    body_file: Option<PathBuf>,
    /// The signing key [default: $TWILIO_AUTH_TOKEN, else the config's auth token;
    /// with --meta: $META_APP_SECRET, else [meta] app_secret].
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
    match (&args.url, args.meta) {
        (_, true) => sign_meta(&args),
        (Some(url), false) => sign_twilio(&args, url),
        (None, false) => Err(CliError::Usage("give --url (Twilio) or --meta --body-file FILE".into())),
    }
}

fn read_body(args: &Args) -> Result<Option<Vec<u8>>, CliError> {
    args.body_file
        .as_ref()
        .map(|path| {
            std::fs::read(path).map_err(|source| CliError::InputFile {
                path: path.clone(),
                source,
            })
        })
        .transpose()
}

/// The key: `--key`, else the environment, else the config's value.
fn key(
    args: &Args,
    env: &str,
    from_config: impl FnOnce(crate::config::Config) -> Option<String>,
    what: &str,
) -> Result<String, CliError> {
    if let Some(key) = &args.key {
        return Ok(key.clone());
    }
    if let Some(value) = std::env::var(env).ok().filter(|v| !v.is_empty()) {
        return Ok(value);
    }
    from_config(args.config.load_offline()?)
        .ok_or_else(|| CliError::Usage(format!("no key: pass --key, set {env}, or set {what}")))
}

fn sign_meta(args: &Args) -> Result<(), CliError> {
    let body = read_body(args)?.unwrap_or_default();
    let key = key(
        args,
        ENV_META_APP_SECRET,
        |c| c.meta.map(|m| m.app_secret.expose().to_string()),
        "[meta] app_secret",
    )?;
    if args.verbose {
        println!(
            "signed: the {} raw bytes of the body, as received (re-serialised JSON differs)",
            body.len()
        );
    }
    println!("{}: {}", meta::signature::HEADER, meta::signature::sign(&key, &body));
    Ok(())
}

fn sign_twilio(args: &Args, url: &str) -> Result<(), CliError> {
    let params = match read_body(args)? {
        Some(body) => parse_form(&body)
            .map(urlencoded::into_owned)
            .map_err(|e| CliError::InvalidArg {
                arg: args
                    .body_file
                    .as_deref()
                    .unwrap_or(std::path::Path::new("-"))
                    .display()
                    .to_string(),
                source: Box::new(e),
            })?,
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
    let key = key(
        args,
        ENV_AUTH_TOKEN,
        |c| c.twilio.auth_token.map(|t| t.expose().to_string()),
        "[twilio] auth_token",
    )?;
    let algorithm = match args.algorithm {
        Alg::HmacSha1 => Algorithm::HmacSha1,
        Alg::HmacSha256 => Algorithm::HmacSha256,
    };
    if args.verbose {
        println!("string to sign: {}", signature::string_to_sign(url, &params));
    }
    println!(
        "X-Twilio-Signature: {}",
        signature::compute(algorithm, key.as_bytes(), url, &params)
    );
    Ok(())
}
