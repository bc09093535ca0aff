//! `palisade password`: hash a password, or verify one against a stored hash of any scheme.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use palisade_password::{Error, Passwords, Policy};
use serde_json::json;

use crate::exit;
use crate::output::{self, Format};
use crate::resolve;

/// Passwords, read from stdin (never from an argument).
#[derive(Debug, Subcommand)]
pub(crate) enum PasswordCommand {
    /// Hash the password on stdin with Argon2id under the default policy.
    Hash(HashArgs),
    /// Verify the password on stdin against HASH; print `ok`, `ok, rehash due` with the
    /// upgraded hash, or `mismatch` (exit 1).
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct HashArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The stored hash (Argon2, bcrypt, PBKDF2, scrypt; PHC, passlib or Django form).
    hash: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(crate) fn run(command: PasswordCommand) -> ExitCode {
    let hasher = match Passwords::new(Policy::DEFAULT) {
        Ok(hasher) => hasher,
        Err(err) => return output::input_error(&err),
    };
    // A longer password is refused without being read whole.
    let password = match resolve::stdin_at_most(hasher.policy().max_password_len(), "password") {
        Ok(value) => value,
        Err(failure) => return failure.report(),
    };
    let Some(password) = password.expose_str() else {
        return output::input_error(&"the password on stdin is not UTF-8");
    };
    match command {
        PasswordCommand::Hash(args) => hash(&hasher, password, args.format),
        PasswordCommand::Verify(args) => verify(&hasher, password, &args),
    }
}

fn hash(hasher: &Passwords, password: &str, format: Format) -> ExitCode {
    match hasher.hash(password) {
        Ok(hash) => output::reported(
            format,
            std::slice::from_ref(&hash),
            &json!({"kind": "password-hash", "hash": hash}),
            exit::OK,
        ),
        Err(err) => output::input_error(&err),
    }
}

fn verify(hasher: &Passwords, password: &str, args: &VerifyArgs) -> ExitCode {
    match hasher.verify(password, &args.hash) {
        Ok(verified) => {
            let upgraded = verified.upgraded_hash();
            let mut text = vec![if upgraded.is_some() {
                "ok, rehash due".to_owned()
            } else {
                "ok".to_owned()
            }];
            text.extend(upgraded.map(str::to_owned));
            let report = json!({
                "kind": "password-verify",
                "result": "ok",
                "scheme": verified.scheme().name(),
                "rehash_due": verified.rehash_due(),
                "reason": verified.rehash_reason().map(|r| r.name()),
                "upgraded_hash": upgraded,
            });
            output::reported(args.format, &text, &report, exit::OK)
        }
        Err(Error::Mismatch) => output::reported(
            args.format,
            &["mismatch".to_owned()],
            &json!({"kind": "password-verify", "result": "mismatch"}),
            exit::FINDING,
        ),
        Err(err) => output::input_error(&err),
    }
}
