//! `palisade redact [FILE]...`: stdin (or each file in turn) to stdout with every secret
//! masked, line by line with bounded memory.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use palisade_redact::{Profile, Redactor, redact_stream};

use crate::exit;
use crate::output;

#[derive(Debug, Args)]
pub(crate) struct RedactArgs {
    /// Files to redact to stdout, one after the other; stdin when none is given.
    files: Vec<PathBuf>,
    /// What to mask.
    #[arg(long, value_enum, default_value_t)]
    profile: ProfileArg,
}

/// The detector profiles.
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
enum ProfileArg {
    /// Secrets: credentials, keys, tokens, card numbers (client addresses stay).
    #[default]
    Secrets,
    /// Secrets and personal data: e-mail addresses, phone numbers, IP addresses, IBANs.
    Pii,
}

pub(crate) fn run(args: &RedactArgs) -> ExitCode {
    let redactor = Redactor::with_profile(match args.profile {
        ProfileArg::Secrets => Profile::Secrets,
        ProfileArg::Pii => Profile::Pii,
    });
    let mut stdout = io::stdout().lock();
    let copied = if args.files.is_empty() {
        redact_stream(&redactor, &mut io::stdin().lock(), &mut stdout)
            .map_err(|err| format!("cannot redact stdin: {err}"))
    } else {
        args.files.iter().try_fold(0, |total, path| {
            let mut file =
                File::open(path).map_err(|err| format!("cannot open {}: {err}", path.display()))?;
            redact_stream(&redactor, &mut file, &mut stdout)
                .map(|n| total + n)
                .map_err(|err| format!("cannot redact {}: {err}", path.display()))
        })
    };
    match copied.and_then(|_| stdout.flush().map_err(|err| format!("cannot write: {err}"))) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(message) => output::input_error(&message),
    }
}
