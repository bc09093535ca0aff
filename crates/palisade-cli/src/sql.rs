//! `palisade sql quote-ident`: a name validated and quoted as an identifier of one dialect.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use palisade_sql::{Dialect, Ident, IdentError, QualifiedName};
use serde_json::json;

use crate::exit;
use crate::output::{self, Format};

/// SQL guards.
#[derive(Debug, Subcommand)]
pub(crate) enum SqlCommand {
    /// Print NAME quoted as an identifier of the dialect, or refuse it (exit 1) naming the
    /// rule it breaks.
    QuoteIdent(QuoteIdentArgs),
}

/// The dialects, as the command line names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DialectArg {
    /// PostgreSQL.
    Postgres,
    /// MySQL and MariaDB.
    #[value(alias = "mariadb")]
    Mysql,
    /// SQLite.
    Sqlite,
    /// Microsoft SQL Server.
    Mssql,
}

impl From<DialectArg> for Dialect {
    fn from(arg: DialectArg) -> Self {
        match arg {
            DialectArg::Postgres => Self::Postgres,
            DialectArg::Mysql => Self::MySql,
            DialectArg::Sqlite => Self::Sqlite,
            DialectArg::Mssql => Self::MsSql,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct QuoteIdentArgs {
    /// The dialect to quote for.
    #[arg(long, value_enum)]
    dialect: DialectArg,
    /// Split NAME at `.` into up to three parts (`schema.table`).
    #[arg(long)]
    qualified: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// The name.
    name: String,
}

pub(crate) fn run(command: SqlCommand) -> ExitCode {
    match command {
        SqlCommand::QuoteIdent(args) => quote_ident(&args),
    }
}

fn quote_ident(args: &QuoteIdentArgs) -> ExitCode {
    let dialect = Dialect::from(args.dialect);
    let quoted = if args.qualified {
        QualifiedName::parse(&args.name, dialect).map(|name| name.quoted().to_owned())
    } else {
        Ident::new(&args.name, dialect).map(|ident| ident.quoted().to_owned())
    };
    match quoted {
        Ok(quoted) => output::reported(
            args.format,
            std::slice::from_ref(&quoted),
            &json!({"kind": "sql-quote-ident", "result": "ok", "dialect": dialect.name(), "quoted": quoted}),
            exit::OK,
        ),
        Err(refused) => output::reported(
            args.format,
            &[format!("refused: {refused}")],
            &json!({"kind": "sql-quote-ident", "result": "refused", "dialect": dialect.name(),
                "rule": rule(refused), "message": refused.to_string()}),
            exit::FINDING,
        ),
    }
}

/// A stable id for each refusal, for scripts.
fn rule(refused: IdentError) -> &'static str {
    match refused {
        IdentError::Empty => "empty",
        IdentError::TooLong { .. } => "too-long",
        IdentError::ControlCharacter => "control-character",
        IdentError::TrailingSpace => "trailing-space",
        IdentError::OutsideBmp => "outside-bmp",
        IdentError::PartsInvalid { .. } => "parts-invalid",
        _ => "invalid",
    }
}
