//! `palisade dsn`: parse a DSN and judge its TLS settings.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use palisade_secrets::{Dsn, TlsPolicy, TlsVerdict};
use serde_json::json;

use crate::exit;
use crate::output::{self, Format};
use crate::resolve;

/// Database connection strings.
#[derive(Debug, Subcommand)]
pub(crate) enum DsnCommand {
    /// Print a DSN with its password as `***`, its parts and its TLS verdict.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// A reference to the DSN (`env:DATABASE_URL`), or `-` to read it from stdin.
    reference: String,
    /// Refuse (exit 1) a remote host unless TLS verifies the server (`sslmode=verify-full`,
    /// `ssl-mode=VERIFY_IDENTITY`, `Encrypt=strict`, `tls=true` with certificate checks on).
    #[arg(long, conflicts_with = "encrypted")]
    production: bool,
    /// Refuse (exit 1) a remote host without TLS, accepting TLS that does not verify the
    /// server (`sslmode=require`): the explicit weaker level.
    #[arg(long)]
    encrypted: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(crate) fn run(command: DsnCommand) -> ExitCode {
    match command {
        DsnCommand::Check(args) => check(&args),
    }
}

fn check(args: &CheckArgs) -> ExitCode {
    let value = match resolve::value_of(&args.reference) {
        Ok(value) => value,
        Err(failure) => return failure.report(),
    };
    let dsn = match Dsn::from_secret(&value) {
        Ok(dsn) => dsn,
        Err(err) => return output::input_error(&err),
    };
    let policy = if args.production {
        TlsPolicy::Production
    } else if args.encrypted {
        TlsPolicy::Encrypted
    } else {
        TlsPolicy::Development
    };
    let verdict = dsn.check_tls(policy);
    let (tls, by, refusal) = match &verdict {
        Ok(TlsVerdict::Local) => ("local", None, None),
        Ok(TlsVerdict::Verified { by }) => ("verified", Some(*by), None),
        Ok(TlsVerdict::Encrypted { by }) => ("encrypted", Some(*by), None),
        Ok(_) => ("unencrypted", None, None),
        Err(err) => ("refused", None, Some(err.to_string())),
    };
    let hosts = dsn.hosts();
    let host_list: Vec<String> = hosts
        .iter()
        .map(|host| match host.port {
            Some(port) => format!("{}:{port}", host.name),
            None => host.name.clone(),
        })
        .collect();
    let tls_line = match (by, &refusal) {
        (Some(by), _) => format!("tls: {tls} (required by {by})"),
        (_, Some(refusal)) => format!("tls: refused: {refusal}"),
        _ => format!("tls: {tls}"),
    };
    let text = vec![
        format!("dsn: {dsn}"),
        format!("engine: {}", dsn.engine()),
        format!("hosts: {}", host_list.join(", ")),
        format!("database: {}", dsn.database().as_deref().unwrap_or("")),
        tls_line,
    ];
    let json = json!({
        "kind": "dsn",
        "dsn": dsn.to_string(),
        "engine": dsn.engine().to_string(),
        "hosts": hosts.iter().map(|host| json!({"name": host.name, "port": host.port})).collect::<Vec<_>>(),
        "database": dsn.database(),
        "tls": tls,
        "tls_by": by,
        "refusal": refusal,
        "policy": format!("{policy:?}").to_lowercase(),
    });
    let code = if verdict.is_err() {
        exit::FINDING
    } else {
        exit::OK
    };
    output::reported(args.format, &text, &json, code)
}
