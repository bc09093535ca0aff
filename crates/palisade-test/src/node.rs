//! The project's Node packages (`target/node/node_modules`), where `cargo xtask services up`
//! installs the pinned npm peers and rule sets (express-mongo-sanitize, gitleaks' rules,
//! knex, helmet).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `node_modules` directory holding `package`.
///
/// # Panics
/// When the package is not installed, with a message that says to run
/// `cargo xtask services up`.
#[must_use]
pub fn node_modules(package: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/node/node_modules");
    assert!(
        dir.join(package).exists(),
        "{} has no {package}; install it with `cargo xtask services up`",
        dir.display()
    );
    dir
}

/// Runs `script` with Node: its arguments are the `node_modules` directory holding `package`
/// and then `args`; `input` goes to its stdin. Returns its stdout.
///
/// # Panics
/// When Node or the package is missing or the script fails; the message carries the
/// script's stderr.
#[must_use]
pub fn run(script: &Path, package: &str, args: &[&str], input: &str) -> String {
    let mut command = Command::new("node");
    command.arg(script).arg(node_modules(package)).args(args);
    crate::script::output_of(command, script, input)
}
