//! `palisade secret`: resolve references.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::exit;
use crate::output::{self, Format};
use crate::resolve;

/// Secret references: `env:NAME`, `dotenv:.env#NAME`, `file:/run/secrets/x`, with `#field`
/// to select from a JSON object.
#[derive(Debug, Subcommand)]
pub(crate) enum SecretCommand {
    /// Resolve a reference and print its source, version and length, never the value.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The reference, such as `env:DATABASE_URL` or `file:/run/secrets/db#password`.
    reference: String,
    /// Print the value itself and nothing else (no newline), for scripts.
    #[arg(long, conflicts_with = "format")]
    reveal: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(crate) fn run(command: SecretCommand) -> ExitCode {
    match command {
        SecretCommand::Check(args) => check(&args),
    }
}

fn check(args: &CheckArgs) -> ExitCode {
    let result = resolve::reference(&args.reference)
        .and_then(|reference| resolve::fetch(&reference).map(|value| (reference, value)));
    let (reference, value) = match result {
        Ok(found) => found,
        Err(failure) => return failure.report(),
    };
    if args.reveal {
        let mut out = std::io::stdout().lock();
        return match out
            .write_all(value.expose_bytes())
            .and_then(|()| out.flush())
        {
            Ok(()) => ExitCode::from(exit::OK),
            Err(err) => output::input_error(&format!("cannot write the value: {err}")),
        };
    }
    let version = value.metadata().version.as_deref().map(str::to_owned);
    let text = format!(
        "{reference}: found (source {}, version {}, {} bytes)",
        reference.scheme(),
        version.as_deref().unwrap_or("none"),
        value.len()
    );
    let json = json!({
        "kind": "secret",
        "reference": reference.to_string(),
        "source": reference.scheme().to_string(),
        "version": version,
        "length": value.len(),
    });
    output::reported(args.format, &[text], &json, exit::OK)
}
