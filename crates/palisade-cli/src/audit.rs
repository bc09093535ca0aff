//! `palisade audit verify`: check a chained audit log's hash chain and, with the key, its
//! checkpoints.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use palisade_audit::{Anchor, ChainKey, Verified, Verifier, log_files};
use serde_json::json;

use crate::output::{self, Format};
use crate::{exit, resolve};

/// Tamper-evident audit logs.
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Verify a chained audit log: exit 0 with the count of verified records, 1 at the first
    /// record where the chain breaks (edited, deleted, reordered, a file missing), 2 when a
    /// file or the key cannot be read.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Log files, or directories holding them (`<prefix>-<20 digits>.jsonl`); verified in
    /// the order of their names, which is the chain's.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// A reference to the checkpoint key (`env:AUDIT_CHAIN_KEY`, `file:/run/keys/audit`, ...);
    /// without it the hash chain is verified but the checkpoints' MACs are not.
    #[arg(long)]
    key: Option<String>,
    /// A checkpoint published when it was written (`SEQ:HASH`, as this command prints it):
    /// the log must hold it, so it cannot have been cut back or rebuilt before it.
    #[arg(long)]
    anchor: Option<String>,
    /// Accept a log that starts after record 1 (its earlier files archived).
    #[arg(long)]
    partial: bool,
    /// The file name prefix to look for in directories.
    #[arg(long, default_value = "audit")]
    prefix: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(crate) fn run(command: AuditCommand) -> ExitCode {
    match command {
        AuditCommand::Verify(args) => verify(&args),
    }
}

fn verify(args: &VerifyArgs) -> ExitCode {
    let key = match &args.key {
        None => None,
        Some(reference) => match resolve::value_of(reference) {
            Ok(secret) => match ChainKey::new(&secret) {
                Ok(key) => Some(key),
                Err(err) => return output::input_error(&err),
            },
            // A key that cannot be read is a usage error here: exit 1 means a broken chain.
            Err(resolve::ResolveFailure::Secret(err)) => {
                output::error(&err);
                return ExitCode::from(exit::USAGE);
            }
            Err(failure) => return failure.report(),
        },
    };
    let mut verifier = Verifier::new();
    if let Some(key) = &key {
        verifier = verifier.key(key);
    }
    if args.partial {
        verifier = verifier.partial();
    }
    if let Some(anchor) = &args.anchor {
        match anchor.parse::<Anchor>() {
            Ok(anchor) => verifier = verifier.anchor(anchor),
            Err(err) => return output::input_error(&err),
        }
    }
    let files = match files(&args.paths, &args.prefix) {
        Ok(files) => files,
        Err(message) => return output::input_error(&message),
    };
    match verifier.verify(&files) {
        Err(err) => output::input_error(&err),
        Ok(Ok(verified)) => intact(&verified, args.format),
        Ok(Err(broken)) => {
            let text = vec![format!("chain broken: {broken}")];
            let report = json!({
                "kind": "audit-verify",
                "intact": false,
                "file": broken.file.display().to_string(),
                "line": broken.line,
                "problem": broken.to_string(),
                "verified": broken.verified,
            });
            output::reported(args.format, &text, &report, exit::FINDING)
        }
    }
}

fn intact(verified: &Verified, format: Format) -> ExitCode {
    let macs = if verified.macs_checked {
        "checkpoint MACs verified"
    } else {
        "checkpoint MACs not checked (no --key)"
    };
    let mut notes = Vec::new();
    if verified.first_seq > 1 {
        notes.push(format!(
            "the log starts at record {} (--partial): earlier files were not verified",
            verified.first_seq
        ));
    }
    for torn in &verified.torn {
        notes.push(format!(
            "{}:{}: torn last line (a crash or a failed write); the records before it are verified",
            torn.file.display(),
            torn.line
        ));
    }
    for resumed in &verified.resumed {
        notes.push(format!(
            "{}: the writer restarted after {} records were left unsealed (a crash, or records rewritten before the restart)",
            resumed.file.display(),
            resumed.unsealed
        ));
    }
    if verified.unsealed > 0 {
        notes.push(format!(
            "the last {} records follow the last checkpoint: chained but not sealed",
            verified.unsealed
        ));
    }
    let mut text = vec![format!(
        "verified {} records and {} checkpoints in {} files (records {} to {}); {macs}",
        verified.records,
        verified.checkpoints,
        verified.files,
        verified.first_seq,
        verified.last_seq
    )];
    if let Some(sealed) = verified.sealed {
        text.push(format!(
            "last checkpoint (publish it, verify with --anchor): {sealed}"
        ));
    }
    text.extend(notes.iter().map(|note| format!("note: {note}")));
    let report = json!({
        "kind": "audit-verify",
        "intact": true,
        "records": verified.records,
        "checkpoints": verified.checkpoints,
        "files": verified.files,
        "first_seq": verified.first_seq,
        "last_seq": verified.last_seq,
        "unsealed": verified.unsealed,
        "sealed": verified.sealed.map(|anchor| anchor.to_string()),
        "torn": verified.torn.iter().map(|t| json!({"file": t.file.display().to_string(), "line": t.line})).collect::<Vec<_>>(),
        "resumed": verified.resumed.iter().map(|r| json!({"file": r.file.display().to_string(), "unsealed": r.unsealed})).collect::<Vec<_>>(),
        "macs_checked": verified.macs_checked,
        "notes": notes,
    });
    output::reported(format, &text, &report, exit::OK)
}

/// The files to verify, in name order, each once: the files given, and the log files in
/// each directory given.
fn files(paths: &[PathBuf], prefix: &str) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.extend(log_files(path, prefix).map_err(|e| e.to_string())?);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            return Err(format!("{}: not found", path.display()));
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    // A file named twice (itself and through its directory, or through a link) is read once.
    let mut seen = std::collections::HashSet::new();
    files.retain(|file| seen.insert(std::fs::canonicalize(file).unwrap_or_else(|_| file.clone())));
    if files.is_empty() {
        return Err("no audit log file was found".to_owned());
    }
    Ok(files)
}
