//! `dotenv:PATH#NAME`: a variable in a `.env` file, parsed by dotenvy.

use std::fs;
use std::path::Path;

use zeroize::Zeroize;

use crate::json_field::wipe;
use crate::{Fetch, ReferenceScheme, SecretError, SecretRef, SecretSource, SecretValue};

/// Reads `dotenv:PATH#NAME`: the variable `NAME` from the `.env` file at `PATH` (relative
/// paths from the working directory).
///
/// As with `dotenvy::dotenv()`, a `.env` file never overrides a variable that is already set:
/// when `NAME` is in the process environment, that value is returned. Unlike it, nothing is
/// written into the process environment (which is `unsafe` to change in Rust 2024).
///
/// A malformed line is reported by file and line number, never by content.
#[derive(Debug, Clone, Copy, Default)]
pub struct DotEnvSource;

impl DotEnvSource {
    /// A `.env` file source.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }

    fn read(reference: &SecretRef) -> Result<SecretValue, SecretError> {
        let not_found = || SecretError::NotFound {
            reference: reference.clone(),
        };
        let (ReferenceScheme::DotEnv, Some(name)) = (reference.scheme(), reference.field()) else {
            return Err(SecretError::SchemeUnsupported {
                reference: reference.clone(),
            });
        };
        if let Some(value) = std::env::var_os(name) {
            let text = value.into_string().map_err(|_| SecretError::NotUtf8 {
                reference: reference.clone(),
            })?;
            return Ok(SecretValue::from_string(text));
        }
        let text =
            lookup(Path::new(reference.locator()), name, reference)?.ok_or_else(not_found)?;
        Ok(SecretValue::from_string(text))
    }
}

impl SecretSource for DotEnvSource {
    fn fetch<'a>(&'a self, reference: &'a SecretRef) -> Fetch<'a> {
        Fetch::ready(Self::read(reference))
    }
}

/// The value of `name` in the `.env` file at `path`: `Ok(None)` when the file does not exist
/// or does not set it. Every other value read is zeroized.
pub(crate) fn lookup(
    path: &Path,
    name: &str,
    reference: &SecretRef,
) -> Result<Option<String>, SecretError> {
    let entries = match dotenvy::from_path_iter(path) {
        Ok(entries) => entries,
        Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(failure(e, path, reference)),
    };
    let mut found = None;
    for entry in entries {
        match entry {
            // Later lines win, as in dotenvy.
            Ok((key, value)) if key == name => {
                if let Some(previous) = found.replace(value) {
                    wipe(previous);
                }
            }
            Ok((_, value)) => wipe(value),
            Err(e) => {
                if let Some(previous) = found.take() {
                    wipe(previous);
                }
                return Err(failure(e, path, reference));
            }
        }
    }
    Ok(found)
}

/// Maps a dotenvy error to ours: I/O stays I/O; a parse error becomes the line's number, and
/// the line's text (which dotenvy carries, and which may hold a secret) is zeroized.
fn failure(error: dotenvy::Error, path: &Path, reference: &SecretRef) -> SecretError {
    match error {
        dotenvy::Error::Io(cause) => SecretError::Io {
            reference: reference.clone(),
            cause,
        },
        dotenvy::Error::LineParse(mut line, _) => {
            let number = line_number(path, &line);
            line.zeroize();
            SecretError::DotEnvLine {
                path: path.to_owned(),
                line: number,
            }
        }
        _ => SecretError::DotEnvLine {
            path: path.to_owned(),
            line: 1,
        },
    }
}

/// The 1-based number of the first line of `path` at which `line` (the text dotenvy could not
/// parse) starts; dotenvy reports the text, we report only where it is.
fn line_number(path: &Path, line: &str) -> usize {
    let mut content = fs::read_to_string(path).unwrap_or_default();
    let number = content.find(line.trim()).map_or(1, |at| {
        content.get(..at).unwrap_or_default().matches('\n').count() + 1
    });
    content.zeroize();
    number
}
