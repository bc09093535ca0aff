//! `palisade sql check|fingerprint|quote-ident`: the SQL guard, statement shapes and quoted
//! identifiers, for SQL on stdin.

use std::io::{self, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use palisade_sql::{
    AllowList, Dialect, Ident, IdentError, Params, QualifiedName, SqlGuard, SqlPolicy, Violation,
    fingerprint,
};
use serde_json::{Value, json};

use crate::exit;
use crate::output::{self, Format};

/// SQL guards.
#[derive(Debug, Subcommand)]
pub(crate) enum SqlCommand {
    /// Check the SQL on stdin (one statement per line with `--lines`) against the guard's
    /// rules; exit 1 when any is refused. Never prints the SQL.
    Check(CheckArgs),
    /// Print the shape of the SQL on stdin (`id text`, literals out); `--learn FILE` adds
    /// the shapes to an allow-list file.
    Fingerprint(FingerprintArgs),
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
pub(crate) struct CheckArgs {
    /// The dialect the SQL is written in.
    #[arg(long, value_enum)]
    dialect: DialectArg,
    /// Admit reads only (the default admits reads and writes).
    #[arg(long)]
    read_only: bool,
    /// Admit only these tables (repeatable; compared by their last name part).
    #[arg(long = "table", value_name = "NAME")]
    tables: Vec<String>,
    /// Admit literal values anywhere (for trusted, hand-written SQL).
    #[arg(long)]
    allow_literals: bool,
    /// Admit reads of the system catalogs.
    #[arg(long)]
    allow_catalog: bool,
    /// A named parameter the statement is run with (without `:` or `@`); repeatable.
    #[arg(long = "param", value_name = "NAME", conflicts_with = "positional")]
    params: Vec<String>,
    /// The number of positional parameters (`?`, `$1`) the statement is run with.
    #[arg(long, value_name = "N")]
    positional: Option<usize>,
    /// Admit only the shapes in this allow-list (JSON lines from `sql fingerprint --learn`).
    #[arg(long, value_name = "FILE")]
    allow_list: Option<PathBuf>,
    /// Read one statement per line.
    #[arg(long)]
    lines: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct FingerprintArgs {
    /// The dialect the SQL is written in.
    #[arg(long, value_enum)]
    dialect: DialectArg,
    /// Add the shapes to this allow-list file (created if missing).
    #[arg(long, value_name = "FILE")]
    learn: Option<PathBuf>,
    /// Read one statement per line.
    #[arg(long)]
    lines: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
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
        SqlCommand::Check(args) => check(&args),
        SqlCommand::Fingerprint(args) => fingerprints(&args),
        SqlCommand::QuoteIdent(args) => quote_ident(&args),
    }
}

/// The statements on stdin: the whole input, or one per non-blank line, each with its
/// 1-based number.
fn statements(lines: bool) -> Result<Vec<(usize, String)>, ExitCode> {
    let mut input = String::new();
    if let Err(err) = io::stdin().read_to_string(&mut input) {
        return Err(output::input_error(&format!("cannot read stdin: {err}")));
    }
    Ok(if lines {
        input
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(index, line)| (index + 1, line.to_owned()))
            .collect()
    } else {
        vec![(1, input)]
    })
}

/// Reports each statement's verdict (`verdict` gives the text and JSON of a pass); a
/// refusal is reported as its rule and position, never the statement, and makes the exit
/// code 1.
fn report_each(
    format: Format,
    kind: &str,
    statements: &[(usize, String)],
    mut verdict: impl FnMut(usize, &str) -> Result<(String, Value), Violation>,
) -> ExitCode {
    let mut code = exit::OK;
    for (number, sql) in statements {
        let (text, json) = verdict(*number, sql).unwrap_or_else(|violation| {
            code = exit::FINDING;
            (
                format!("statement {number}: refused: {violation}"),
                json!({"kind": kind, "statement": number, "result": "refused",
                    "rule": violation.rule().id(), "line": violation.line(),
                    "column": violation.column(), "message": violation.to_string()}),
            )
        });
        if let Err(err) = output::report(format, &[text], &json) {
            return output::input_error(&format!("cannot write the report: {err}"));
        }
    }
    ExitCode::from(code)
}

fn check(args: &CheckArgs) -> ExitCode {
    let dialect = Dialect::from(args.dialect);
    let mut policy = if args.read_only {
        SqlPolicy::read_only(dialect)
    } else {
        SqlPolicy::read_write(dialect)
    };
    if !args.tables.is_empty() {
        policy = policy.with_tables(args.tables.iter().map(String::as_str));
    }
    if args.allow_literals {
        policy = policy.allow_literals();
    }
    if args.allow_catalog {
        policy = policy.allow_catalog();
    }
    let mut guard = SqlGuard::new(policy);
    if let Some(path) = &args.allow_list {
        match AllowList::load(dialect, path) {
            Ok(list) => guard = guard.with_allow_list(list),
            Err(err) => return output::input_error(&err),
        }
    }
    let params = match args.positional {
        Some(count) => Params::positional(count),
        None => Params::named(args.params.iter().map(String::as_str)),
    };
    let statements = match statements(args.lines) {
        Ok(statements) => statements,
        Err(code) => return code,
    };
    report_each(args.format, "sql-check", &statements, |number, sql| {
        let checked = guard.check(sql, &params)?;
        let shape = fingerprint(sql, dialect)?;
        Ok((
            format!("statement {number}: ok {}", shape.id_hex()),
            json!({"kind": "sql-check", "statement": number, "result": "ok",
                "fingerprint": shape.id_hex(), "tables": checked.tables(),
                "functions": checked.functions(), "placeholders": checked.placeholders()}),
        ))
    })
}

fn fingerprints(args: &FingerprintArgs) -> ExitCode {
    let dialect = Dialect::from(args.dialect);
    let mut learned = match &args.learn {
        Some(path) if path.exists() => match AllowList::load(dialect, path) {
            Ok(list) => Some(list),
            Err(err) => return output::input_error(&err),
        },
        Some(_) => Some(AllowList::new(dialect)),
        None => None,
    };
    let statements = match statements(args.lines) {
        Ok(statements) => statements,
        Err(code) => return code,
    };
    let code = report_each(
        args.format,
        "sql-fingerprint",
        &statements,
        |number, sql| {
            let shape = fingerprint(sql, dialect)?;
            if let Some(list) = learned.as_mut() {
                list.add(&shape);
            }
            Ok((
                shape.to_string(),
                json!({"kind": "sql-fingerprint", "statement": number, "result": "ok",
                "id": shape.id_hex(), "shape": shape.text()}),
            ))
        },
    );
    if let (Some(list), Some(path)) = (&learned, &args.learn)
        && let Err(err) = list.save(path)
    {
        return output::input_error(&err);
    }
    code
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
