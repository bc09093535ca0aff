//! Exit codes scripts can rely on.

use std::process::ExitCode;

/// Success (`--help` and `--version` included).
pub(crate) const OK: u8 = 0;
/// A finding or a refusal.
pub(crate) const FINDING: u8 = 1;
/// A usage or input error.
pub(crate) const USAGE: u8 = 2;

/// Prints a clap error (or help or version) and returns its exit code: 0 for help and version,
/// [`USAGE`] for everything else.
pub(crate) fn clap_error(err: &clap::Error) -> ExitCode {
    // clap writes help and version to stdout and errors to stderr.
    if err.print().is_err() {
        return ExitCode::from(USAGE);
    }
    if err.use_stderr() {
        ExitCode::from(USAGE)
    } else {
        ExitCode::from(OK)
    }
}
