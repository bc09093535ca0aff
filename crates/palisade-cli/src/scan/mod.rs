//! `palisade scan [PATH]...`: hard-coded credentials in a tree, honouring `.gitignore`.
//!
//! Text output is one line per finding, `path:line:column: detector: preview`, and a summary
//! on stderr. JSON output is one object per finding
//! (`{"kind": "scan-finding", "path", "line", "column", "detector", "preview"}`) and a last
//! `{"kind": "scan-summary", "files", "findings", "accepted", "skipped"}`. Exit 1 when a finding
//! is not accepted by the baseline, 2 when a path cannot be read, else 0.

mod baseline;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use ignore::WalkBuilder;
use palisade_redact::{Scanner, SourceKind};
use serde_json::json;

use crate::exit;
use crate::output::{self, Format};
use baseline::Baseline;

/// How many leading bytes are searched for a NUL to tell a binary file.
const BINARY_PROBE: usize = 8192;

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Files and directories to scan (the current directory when none is given).
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Accept the findings listed in this baseline file.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write every finding to this baseline file (keeping its salt if it exists) and exit 0.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    write_baseline: Option<PathBuf>,
    /// Skip files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    max_file_size: u64,
}

/// What a scan saw.
#[derive(Debug, Default)]
struct Tally {
    files: u64,
    findings: u64,
    accepted: u64,
    skipped: u64,
    errors: u64,
}

pub(crate) fn run(args: &ScanArgs) -> ExitCode {
    // Fingerprints are computed only when a baseline is read or written.
    let known = match (&args.baseline, &args.write_baseline) {
        (Some(path), _) => Baseline::read(path).map(Some),
        (None, Some(path)) if path.exists() => Baseline::read(path).map(|b| Some(b.emptied())),
        (None, Some(_)) => Baseline::new().map(Some),
        (None, None) => Ok(None),
    };
    let mut known = match known {
        Ok(known) => known,
        Err(message) => return output::input_error(&message),
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    if let Some(missing) = paths.iter().find(|p| !p.exists()) {
        return output::input_error(&format!("no such file or directory: {}", missing.display()));
    }
    let scanner = Scanner::new();
    let mut out = io::stdout().lock();
    let mut tally = Tally::default();
    for entry in walk(&paths) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                output::error(&err);
                tally.errors += 1;
                continue;
            }
        };
        if entry.file_type().is_some_and(|t| t.is_file()) {
            let step = scan_file(
                entry.path(),
                args,
                &scanner,
                &mut known,
                &mut out,
                &mut tally,
            );
            if let Err(err) = step {
                return output::input_error(&format!("cannot write the report: {err}"));
            }
        }
    }
    finish(args, known.as_ref(), &tally, &mut out)
}

/// Every file under `paths`, sorted, honouring `.gitignore` (in or out of a git repository)
/// and skipping `.git`; other hidden files (`.env`) are scanned.
fn walk(paths: &[PathBuf]) -> ignore::Walk {
    let mut builder = WalkBuilder::new(paths.first().map_or(Path::new("."), PathBuf::as_path));
    for path in paths.iter().skip(1) {
        builder.add(path);
    }
    builder
        .hidden(false)
        .require_git(false)
        .filter_entry(|entry| entry.file_name() != ".git")
        .sort_by_file_name(Ord::cmp)
        .build()
}

fn scan_file(
    path: &Path,
    args: &ScanArgs,
    scanner: &Scanner,
    known: &mut Option<Baseline>,
    out: &mut impl Write,
    tally: &mut Tally,
) -> io::Result<()> {
    let shown = display_path(path);
    let bytes = match fs::metadata(path).and_then(|meta| {
        if meta.len() > args.max_file_size {
            Ok(None)
        } else {
            fs::read(path).map(Some)
        }
    }) {
        Ok(Some(bytes)) if !bytes.iter().take(BINARY_PROBE).any(|&b| b == 0) => bytes,
        Ok(_) => {
            tally.skipped += 1;
            return Ok(());
        }
        Err(err) => {
            output::error(&format!("cannot read {shown}: {err}"));
            tally.errors += 1;
            return Ok(());
        }
    };
    tally.files += 1;
    let text = String::from_utf8_lossy(&bytes);
    for found in scanner.scan(&text, SourceKind::for_path(path)) {
        let secret = text.get(found.span.clone()).unwrap_or_default();
        if let Some(known) = known.as_mut() {
            let accepted = known.accepted(&shown, found.detector, secret);
            if args.write_baseline.is_some() {
                known.insert(accepted);
                tally.findings += 1;
                continue;
            }
            if known.contains(&accepted) {
                tally.accepted += 1;
                continue;
            }
        }
        tally.findings += 1;
        match args.format {
            Format::Text => writeln!(
                out,
                "{shown}:{}:{}: {}: {}",
                found.line, found.column, found.detector, found.preview
            )?,
            Format::Json => writeln!(
                out,
                "{}",
                json!({"kind": "scan-finding", "path": shown, "line": found.line,
                    "column": found.column, "detector": found.detector, "preview": found.preview})
            )?,
        }
    }
    Ok(())
}

/// A path as the baseline keys it: as walked, without a leading `./`, with `/` separators.
fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").map_or(text.clone(), str::to_owned)
}

fn finish(
    args: &ScanArgs,
    known: Option<&Baseline>,
    tally: &Tally,
    out: &mut impl Write,
) -> ExitCode {
    let written = args
        .write_baseline
        .as_ref()
        .zip(known)
        .map(|(path, known)| known.write(path));
    if let Some(Err(message)) = written {
        return output::input_error(&message);
    }
    let summary = format!(
        "{} finding(s) in {} file(s) scanned; {} accepted by the baseline, {} skipped (binary or too large), {} unreadable",
        tally.findings, tally.files, tally.accepted, tally.skipped, tally.errors
    );
    let written = match args.format {
        Format::Text => {
            output::error(&summary);
            out.flush()
        }
        Format::Json => writeln!(
            out,
            "{}",
            json!({"kind": "scan-summary", "files": tally.files, "findings": tally.findings,
                "accepted": tally.accepted, "skipped": tally.skipped, "unreadable": tally.errors})
        )
        .and_then(|()| out.flush()),
    };
    if let Err(err) = written {
        return output::input_error(&format!("cannot write the report: {err}"));
    }
    let code = if args.write_baseline.is_none() && tally.findings > 0 {
        exit::FINDING
    } else if tally.errors > 0 {
        exit::USAGE
    } else {
        exit::OK
    };
    ExitCode::from(code)
}
