#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod audit;
mod backends;
mod crypt;
mod db;
mod dsn;
mod exit;
mod mongo;
mod output;
mod password;
mod ratelimit;
mod redact;
mod resolve;
mod scan;
mod secret;
mod sql;
mod token;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Palisade's command line: secrets, DSNs, passwords, SQL and MongoDB guards, redaction, rate
/// limits, bearer tokens and audit logs.
#[derive(Debug, Parser)]
#[command(
    name = "palisade",
    version,
    about,
    subcommand_required = true,
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// One subcommand group per Palisade crate; each arrives with its crate's issue.
#[derive(Debug, Subcommand)]
enum Command {
    /// Resolve secret references.
    #[command(subcommand)]
    Secret(secret::SecretCommand),
    /// Check database connection strings.
    #[command(subcommand)]
    Dsn(dsn::DsnCommand),
    /// Ask a database server what a credential can really do.
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Check MongoDB filters against the operator allow-list, and scope them.
    #[command(subcommand)]
    Mongo(mongo::MongoCommand),
    /// Quote SQL identifiers per dialect.
    #[command(subcommand)]
    Sql(sql::SqlCommand),
    /// Hash and verify passwords (read from stdin).
    #[command(subcommand)]
    Password(password::PasswordCommand),
    /// Explain rate limit specs.
    #[command(subcommand)]
    Ratelimit(ratelimit::RatelimitCommand),
    /// Copy stdin (or files) to stdout with secrets and personal data masked.
    Redact(redact::RedactArgs),
    /// Find hard-coded credentials in files and trees (honouring `.gitignore`); exit 1 when
    /// any is found.
    Scan(scan::ScanArgs),
    /// Inspect bearer tokens (signature masked, never trusted) or verify them against an
    /// issuer's JWKS.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Verify tamper-evident audit logs.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Encrypt and decrypt field values (envelope encryption with a local key), and read a
    /// ciphertext's header.
    #[command(subcommand)]
    Crypt(crypt::CryptCommand),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return exit::clap_error(&err),
    };
    match cli.command {
        Command::Secret(command) => secret::run(command),
        Command::Dsn(command) => dsn::run(command),
        Command::Db(command) => db::run(command),
        Command::Mongo(command) => mongo::run(command),
        Command::Sql(command) => sql::run(command),
        Command::Password(command) => password::run(command),
        Command::Ratelimit(command) => ratelimit::run(command),
        Command::Redact(args) => redact::run(&args),
        Command::Scan(args) => scan::run(&args),
        Command::Token(command) => token::run(command),
        Command::Audit(command) => audit::run(command),
        Command::Crypt(command) => crypt::run(command),
    }
}
