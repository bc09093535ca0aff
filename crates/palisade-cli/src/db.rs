//! `palisade db verify`: what a credential can really do, asked of the server.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use palisade_secrets::Dsn;
use palisade_sql::{Excess, Expect, PrivilegeReport, VerifyError, verify_privileges};
use serde_json::{Value, json};
use sqlx::{Connection as _, MySqlConnection, PgConnection};

use crate::exit;
use crate::output::{self, Format};
use crate::resolve::{self, ResolveFailure};

/// Live checks against a database server.
#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Log in with a DSN and report everything the credential can do beyond what is
    /// expected: exit 0 when it is exactly that, 1 with one line per excess, 2 when the DSN
    /// cannot be read or the server cannot be asked. The DSN's password is never printed.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// A reference to the DSN (`env:DATABASE_READ_ONLY_URL`, `file:...`, `vault:...`), or `-`
    /// to read it from stdin. PostgreSQL (`postgres://`) or MariaDB/MySQL (`mysql://`,
    /// `mariadb://`).
    #[arg(long)]
    dsn: String,
    /// What the credential is meant to do.
    #[arg(long, value_enum)]
    expect: Expectation,
    /// A table the credential may write (`schema.table`, `database.table`, or a bare name for
    /// `public` or the DSN's database); with `--expect read-write`, repeatable.
    #[arg(long = "table", value_name = "TABLE")]
    tables: Vec<String>,
    /// Seconds to wait for the server to log in and answer, before exit 2.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// `--expect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Expectation {
    /// Read, never write.
    ReadOnly,
    /// Write the `--table`s, read any.
    ReadWrite,
}

pub(crate) fn run(command: DbCommand) -> ExitCode {
    match command {
        DbCommand::Verify(args) => verify(&args),
    }
}

fn verify(args: &VerifyArgs) -> ExitCode {
    let expect = match (args.expect, args.tables.is_empty()) {
        (Expectation::ReadOnly, true) => Expect::ReadOnly,
        (Expectation::ReadOnly, false) => {
            return output::input_error(&"--table goes with --expect read-write");
        }
        (Expectation::ReadWrite, _) => Expect::ReadWrite {
            tables: args.tables.clone(),
        },
    };
    let value = match resolve::value_of(&args.dsn) {
        Ok(value) => value,
        // A reference that does not resolve is a usage error here (exit 2): the check never
        // reached a server.
        Err(ResolveFailure::Secret(err)) => {
            return output::input_error(&format!("cannot read the DSN: {err}"));
        }
        Err(failure) => return failure.report(),
    };
    let dsn = match Dsn::from_secret(&value) {
        Ok(dsn) => dsn,
        Err(err) => return output::input_error(&err),
    };
    let engine = match dsn.scheme().map(str::to_ascii_lowercase).as_deref() {
        Some("postgres" | "postgresql") => Engine::Postgres,
        Some("mysql" | "mariadb") => Engine::MySql,
        _ => {
            return output::input_error(
                &"db verify reads PostgreSQL (postgres://) and MariaDB/MySQL (mysql://) DSNs",
            );
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return output::input_error(&format!("cannot start the runtime: {err}")),
    };
    let limit = Duration::from_secs(args.timeout);
    let outcome = runtime.block_on(async {
        tokio::time::timeout(limit, check(engine, dsn.expose_secret(), &expect)).await
    });
    match outcome {
        Ok(Ok(report)) => print(&report, args.format),
        Ok(Err(err)) => output::input_error(&err),
        Err(_) => output::input_error(&format!(
            "the database server did not answer within {} s",
            args.timeout
        )),
    }
}

#[derive(Debug, Clone, Copy)]
enum Engine {
    Postgres,
    MySql,
}

/// One connection (no pool: no retries), the check, and a clean close.
async fn check(engine: Engine, url: &str, expect: &Expect) -> Result<PrivilegeReport, VerifyError> {
    match engine {
        Engine::Postgres => {
            let mut conn = PgConnection::connect(url).await?;
            let report = verify_privileges(&mut conn, expect).await?;
            let _ = conn.close().await;
            Ok(report)
        }
        Engine::MySql => {
            let mut conn = MySqlConnection::connect(url).await?;
            let report = verify_privileges(&mut conn, expect).await?;
            let _ = conn.close().await;
            Ok(report)
        }
    }
}

fn print(report: &PrivilegeReport, format: Format) -> ExitCode {
    let tls = report.tls_cipher.as_deref().unwrap_or("none");
    let mut text = vec![
        format!("role: {}", report.role),
        format!("tls: {tls}"),
        format!("search path: {}", report.search_path),
    ];
    if !report.unchecked_databases.is_empty() {
        text.push(format!(
            "not checked: the role may also connect to {}",
            report.unchecked_databases.join(", ")
        ));
    }
    text.extend(report.excesses.iter().map(|e| format!("excess: {e}")));
    if report.excesses.is_empty() {
        text.push("exactly as expected".to_owned());
    }
    let excesses: Vec<Value> = report.excesses.iter().map(excess_json).collect();
    let json = json!({
        "role": report.role,
        "tls_cipher": report.tls_cipher,
        "search_path": report.search_path,
        "exact": report.excesses.is_empty(),
        "unchecked_databases": report.unchecked_databases,
        "excesses": excesses,
    });
    let code = if report.excesses.is_empty() {
        exit::OK
    } else {
        exit::FINDING
    };
    output::reported(format, &text, &json, code)
}

/// An excess as `{"kind", ..., "message"}`.
fn excess_json(excess: &Excess) -> Value {
    let message = excess.to_string();
    match excess {
        Excess::Superuser => json!({"kind": "superuser", "message": message}),
        Excess::BypassRls => json!({"kind": "bypass-rls", "message": message}),
        Excess::CreateRole => json!({"kind": "create-role", "message": message}),
        Excess::CreateDb => json!({"kind": "create-db", "message": message}),
        Excess::Replication => json!({"kind": "replication", "message": message}),
        Excess::SessionRole { role } => {
            json!({"kind": "session-role", "role": role, "message": message})
        }
        Excess::Owns { kind, name } => {
            json!({"kind": "owns", "object": kind, "name": name, "message": message})
        }
        Excess::SecurityDefiner { function } => {
            json!({"kind": "security-definer", "function": function, "message": message})
        }
        Excess::Unchecked { reason } => {
            json!({"kind": "unchecked", "reason": reason, "message": message})
        }
        Excess::MemberOfPrivileged { role } => {
            json!({"kind": "member-of-privileged", "role": role, "message": message})
        }
        Excess::OwnsTable { table } => {
            json!({"kind": "owns-table", "table": table, "message": message})
        }
        Excess::TableWrite { table, privilege } => json!({
            "kind": "table-write", "table": table, "privilege": privilege, "message": message
        }),
        Excess::AllPrivileges { scope } => {
            json!({"kind": "all-privileges", "scope": scope, "message": message})
        }
        Excess::GrantOption { scope } => {
            json!({"kind": "grant-option", "scope": scope, "message": message})
        }
        Excess::WildcardDatabase { pattern } => {
            json!({"kind": "wildcard-database", "pattern": pattern, "message": message})
        }
        Excess::Privilege { privilege, scope } => json!({
            "kind": "privilege", "privilege": privilege, "scope": scope, "message": message
        }),
        _ => json!({"kind": "other", "message": message}),
    }
}
