//! Reading a secret through a reference, with the sources this build of the CLI has.

use std::io::Read;
use std::process::ExitCode;

use palisade_secrets::{SecretError, SecretRef, SecretSource, SecretValue};

use crate::{backends, exit, output};

/// Why a value could not be read.
pub(crate) enum ResolveFailure {
    /// The argument is not a reference (exit 2).
    Usage(String),
    /// The source did not produce the value (exit 1).
    Secret(SecretError),
}

impl ResolveFailure {
    /// Prints the failure on stderr and returns its exit code: 2 for usage, 1 for a source
    /// that did not produce the value.
    pub(crate) fn report(self) -> ExitCode {
        match self {
            Self::Usage(message) => output::input_error(&message),
            Self::Secret(err) => {
                output::error(&err);
                ExitCode::from(exit::FINDING)
            }
        }
    }
}

/// Parses `argument` as a reference.
pub(crate) fn reference(argument: &str) -> Result<SecretRef, ResolveFailure> {
    SecretRef::parse(argument)
        .map_err(|err| ResolveFailure::Usage(format!("not a secret reference: {err}")))
}

/// Fetches `reference` from the CLI's registry.
pub(crate) fn fetch(reference: &SecretRef) -> Result<SecretValue, ResolveFailure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| ResolveFailure::Usage(format!("cannot start the async runtime: {err}")))?;
    runtime.block_on(async {
        let registry = backends::registry_for(reference).await?;
        registry
            .fetch(reference)
            .await
            .map_err(ResolveFailure::Secret)
    })
}

/// Reads `argument` as a reference, or stdin when it is `-`.
pub(crate) fn value_of(argument: &str) -> Result<SecretValue, ResolveFailure> {
    if argument == "-" {
        return stdin();
    }
    fetch(&reference(argument)?)
}

/// All of stdin, without its trailing line break.
pub(crate) fn stdin() -> Result<SecretValue, ResolveFailure> {
    stdin_at_most(64 * 1024, "the input")
}

/// Stdin without its trailing line breaks, reading no more than `max` bytes of value (and a
/// line break): a longer input is a usage error naming `what`, and the rest is never read.
pub(crate) fn stdin_at_most(max: usize, what: &str) -> Result<SecretValue, ResolveFailure> {
    let mut bytes = stdin_bounded(max, what)?;
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    at_most(bytes, max, what)
}

/// Stdin's exact bytes but one trailing line break (`\n` or `\r\n`), at most `max` of them:
/// for values whose other bytes all count (a plaintext to encrypt).
pub(crate) fn stdin_value_at_most(max: usize, what: &str) -> Result<SecretValue, ResolveFailure> {
    let mut bytes = stdin_bounded(max, what)?;
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    at_most(bytes, max, what)
}

/// Up to `max` + 2 bytes of stdin (a value and a `\r\n`); one byte more is refused, so a
/// longer input is never cut short and accepted.
fn stdin_bounded(max: usize, what: &str) -> Result<Vec<u8>, ResolveFailure> {
    let mut bytes = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(3);
    std::io::stdin()
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|err| ResolveFailure::Usage(format!("cannot read stdin: {err}")))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) >= limit {
        zeroize::Zeroize::zeroize(&mut bytes);
        return Err(longer(max, what));
    }
    Ok(bytes)
}

fn at_most(mut bytes: Vec<u8>, max: usize, what: &str) -> Result<SecretValue, ResolveFailure> {
    if bytes.len() > max {
        zeroize::Zeroize::zeroize(&mut bytes);
        return Err(longer(max, what));
    }
    Ok(SecretValue::from_bytes(bytes))
}

fn longer(max: usize, what: &str) -> ResolveFailure {
    ResolveFailure::Usage(format!("{what} is longer than {max} bytes"))
}
