//! `palisade mongo check`: guard (and scope) a MongoDB filter given as extended JSON on stdin.

use std::io::{self, Read};
use std::process::ExitCode;

use bson::{Bson, Document};
use clap::{Args, Subcommand};
use palisade_mongo::{FilterPolicy, Scope, document_from_json};
use serde_json::{Value, json};

use crate::exit;
use crate::output::{self, Format};

/// MongoDB filters.
#[derive(Debug, Subcommand)]
pub(crate) enum MongoCommand {
    /// Check the filter on stdin (extended JSON; one per line with `--lines`): print it guarded
    /// and scoped, or the rejection with its operator and path (exit 1).
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Scope the filter to this owner (a string).
    #[arg(long, value_name = "U")]
    scope_user: Option<String>,
    /// The owner field.
    #[arg(long, value_name = "FIELD", default_value = "user_id")]
    scope_field: String,
    /// A field that only takes plain values (`password`, `email`); repeatable.
    #[arg(long = "scalar-field", value_name = "F")]
    scalar_fields: Vec<String>,
    /// Fields that hold ObjectIds, by name or pattern (`_id`, `*_id`: `*` stands for any
    /// characters within one segment); strings are converted; repeatable.
    #[arg(long = "object-id-field", value_name = "PATTERN")]
    object_id_fields: Vec<String>,
    /// Fields that hold UUIDs (binary subtype 4), by name or pattern (`*_uuid`); repeatable.
    #[arg(long = "uuid-field", value_name = "PATTERN")]
    uuid_fields: Vec<String>,
    /// Fields that hold dates (RFC 3339 strings are converted), by name or pattern
    /// (`*_at`); repeatable.
    #[arg(long = "date-field", value_name = "PATTERN")]
    date_fields: Vec<String>,
    /// Read one filter per line.
    #[arg(long)]
    lines: bool,
    /// The most input read from stdin, in bytes (16 MiB, BSON's document limit, by default).
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024)]
    max_input_bytes: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(crate) fn run(command: MongoCommand) -> ExitCode {
    match command {
        MongoCommand::Check(args) => check(&args),
    }
}

fn check(args: &CheckArgs) -> ExitCode {
    // Read at most the cap (and one byte to tell a longer input apart).
    let mut input = String::new();
    let cap = args.max_input_bytes;
    if let Err(err) = io::stdin()
        .take(u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_string(&mut input)
    {
        return output::input_error(&format!("cannot read stdin: {err}"));
    }
    if input.len() > cap {
        return output::input_error(&format!("the input is longer than {cap} bytes"));
    }
    let policy = policy(args);
    let scope = args
        .scope_user
        .as_ref()
        .map(|user| Scope::new(&args.scope_field, user.as_str()));
    let filters: Vec<&str> = if args.lines {
        input.lines().filter(|l| !l.trim().is_empty()).collect()
    } else {
        vec![input.as_str()]
    };
    let mut code = exit::OK;
    for (index, text) in filters.iter().enumerate() {
        let line = index + 1;
        let filter = match parse(text) {
            Ok(filter) => filter,
            Err(problem) => {
                let at = if args.lines {
                    format!(" (line {line})")
                } else {
                    String::new()
                };
                return output::input_error(&format!("the filter{at} {problem}"));
            }
        };
        let (text_report, json_report) = match policy.guard(&filter) {
            Ok(guarded) => {
                let checked = match &scope {
                    Some(scope) => scope.filter(guarded),
                    None => guarded.into_document(),
                };
                let shown = Bson::Document(checked).into_relaxed_extjson();
                (
                    format!("ok {shown}"),
                    json!({"kind": "mongo-check", "result": "ok", "filter": shown}),
                )
            }
            Err(rejected) => {
                code = exit::FINDING;
                (
                    format!("rejected: {rejected}"),
                    json!({"kind": "mongo-check", "result": "rejected", "status": rejected.status().as_u16(),
                        "path": rejected.path(), "message": rejected.to_string()}),
                )
            }
        };
        if let Err(err) = output::report(args.format, &[text_report], &json_report) {
            return output::input_error(&format!("cannot write the report: {err}"));
        }
    }
    ExitCode::from(code)
}

/// The policy the flags declare.
fn policy(args: &CheckArgs) -> FilterPolicy {
    let mut policy = FilterPolicy::default();
    for field in &args.scalar_fields {
        policy = policy.scalar_field(field);
    }
    for pattern in &args.object_id_fields {
        policy = policy.object_id_field(pattern);
    }
    for pattern in &args.uuid_fields {
        policy = policy.uuid_field(pattern);
    }
    for pattern in &args.date_fields {
        policy = policy.date_field(pattern);
    }
    policy
}

/// A filter document from extended JSON (legacy binary too); the problem, never the text,
/// on failure.
fn parse(text: &str) -> Result<Document, &'static str> {
    let value: Value = serde_json::from_str(text).map_err(|_| "is not JSON")?;
    if !value.is_object() {
        return Err("is not a JSON object");
    }
    document_from_json(value).map_err(|_| "is not valid extended JSON")
}
