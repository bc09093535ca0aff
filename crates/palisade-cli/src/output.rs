//! `--format text|json`: how a report is printed.

use std::io::{self, Write};

use clap::ValueEnum;
use serde_json::Value;

/// How a subcommand prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum Format {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object per report, one per line.
    Json,
}

/// Prints one report: `text` lines, or the `json` object on one line.
pub(crate) fn report(format: Format, text: &[String], json: &Value) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match format {
        Format::Text => {
            for line in text {
                writeln!(out, "{line}")?;
            }
        }
        Format::Json => writeln!(out, "{json}")?,
    }
    out.flush()
}

/// Prints an error message on stderr, prefixed with the command name.
pub(crate) fn error(message: &dyn std::fmt::Display) {
    let _ignored = writeln!(io::stderr().lock(), "palisade: {message}");
}
