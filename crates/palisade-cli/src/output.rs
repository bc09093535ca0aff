//! `--format text|json`: how a report is printed.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::ValueEnum;
use serde_json::Value;

use crate::exit;

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
                writeln!(out, "{}", escape_controls(line))?;
            }
        }
        Format::Json => writeln!(out, "{json}")?,
    }
    out.flush()
}

/// `line` with every control character written as an escape (`\n`, `\u{1b}`): a key or a
/// value taken from the input can never start a line of its own or drive the terminal.
fn escape_controls(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(line);
    }
    std::borrow::Cow::Owned(
        line.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().collect()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// Prints an error message on stderr, prefixed with the command name.
pub(crate) fn error(message: &dyn std::fmt::Display) {
    let _ignored = writeln!(io::stderr().lock(), "palisade: {message}");
}

/// Prints an input or usage error (a message that never quotes a secret) and returns the
/// usage exit code.
pub(crate) fn input_error(message: &dyn std::fmt::Display) -> ExitCode {
    error(message);
    ExitCode::from(exit::USAGE)
}

/// Prints a report and returns `code`; when stdout cannot be written, says so and returns the
/// usage exit code.
pub(crate) fn reported(format: Format, text: &[String], json: &Value, code: u8) -> ExitCode {
    match report(format, text, json) {
        Ok(()) => ExitCode::from(code),
        Err(err) => input_error(&format!("cannot write the report: {err}")),
    }
}
