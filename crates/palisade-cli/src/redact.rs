//! `palisade redact [FILE]...`: stdin (or each file in turn) to stdout with every secret
//! masked, line by line with bounded memory.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use palisade_redact::{Redactor, redact_stream};

use crate::exit;
use crate::output;

#[derive(Debug, Args)]
pub(crate) struct RedactArgs {
    /// Files to redact to stdout, one after the other; stdin when none is given.
    files: Vec<PathBuf>,
}

pub(crate) fn run(args: &RedactArgs) -> ExitCode {
    let redactor = Redactor::new();
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
