//! The project's Python venv (`target/venv`), where `cargo xtask services up` installs the
//! pinned libraries that make known-answer vectors (passlib, Django, argon2-cffi, bcrypt).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The environment variable that overrides the venv's location.
pub const VENV_ENV: &str = "PALISADE_VENV";

/// The venv's Python interpreter: `$PALISADE_VENV/bin/python`, else `target/venv/bin/python`
/// at the workspace root.
///
/// # Panics
/// When it does not exist, with a message that says to run `cargo xtask services up`.
#[must_use]
#[allow(
    clippy::panic,
    reason = "a test kit fails the test that needs a missing tool"
)]
pub fn python() -> PathBuf {
    let venv = std::env::var_os(VENV_ENV).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/venv"),
        PathBuf::from,
    );
    let python = venv.join("bin/python");
    if !python.exists() {
        panic!(
            "the project's Python venv is missing ({} does not exist); create it with `cargo xtask services up`",
            python.display()
        );
    }
    python
}

/// Runs a Python script with the venv's interpreter, `input` on its stdin, and returns its
/// stdout.
///
/// # Panics
/// When the venv is missing or the script fails; the message carries the script's stderr.
#[must_use]
pub fn run_script(script: &Path, args: &[&str], input: &str) -> String {
    let mut command = Command::new(python());
    command.arg(script).args(args);
    crate::script::output_of(command, script, input)
}

/// The venv's `lib/python3.X/site-packages`: a real tree of third-party packages nobody here
/// wrote (botocore, moto, SQLAlchemy, ...), for scanners to be measured on.
///
/// # Panics
/// When the venv is missing or holds no `python3.X` library directory.
#[must_use]
#[allow(
    clippy::panic,
    reason = "a test kit fails the test that needs a missing tool"
)]
pub fn site_packages() -> PathBuf {
    let python = python();
    let lib = python
        .parent()
        .and_then(Path::parent)
        .map(|venv| venv.join("lib"))
        .unwrap_or_default();
    let version = std::fs::read_dir(&lib)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("python3"))
        })
        .unwrap_or_else(|| {
            panic!(
                "{} holds no python3.X; create the venv with `cargo xtask services up`",
                lib.display()
            )
        });
    version.join("site-packages")
}
