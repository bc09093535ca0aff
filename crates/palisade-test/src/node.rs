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

/// A Node script running as a server: started with [`spawn`], stopped (killed) on drop.
#[derive(Debug)]
pub struct NodeServer {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    ready: String,
}

impl NodeServer {
    /// The first line the script printed on stdout, which says it is ready (its address).
    #[must_use]
    pub fn ready_line(&self) -> &str {
        &self.ready
    }

    /// Sends one command line to the script's stdin and waits for its one-line answer.
    ///
    /// # Panics
    /// When the script has exited or answers nothing: the test fails.
    #[allow(
        clippy::expect_used,
        reason = "a test kit fails the test whose server died"
    )]
    pub fn command(&mut self, line: &str) -> String {
        use std::io::{BufRead as _, Write as _};
        writeln!(self.stdin, "{line}").expect("the Node server's stdin");
        self.stdin.flush().expect("the Node server's stdin");
        let stdout = self
            .child
            .stdout
            .as_mut()
            .expect("the Node server's stdout");
        let mut answer = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut answer)
            .expect("an answer from the Node server");
        answer.trim_end().to_owned()
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `script` with Node as a server (arguments: the `node_modules` directory holding
/// `package`, then `args`) and waits for the first line it prints on stdout.
///
/// # Panics
/// When Node or the package is missing, or the script exits before printing a line; the
/// message carries its stderr.
#[must_use]
#[allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a test kit fails the test whose server cannot start"
)]
pub fn spawn(script: &Path, package: &str, args: &[&str]) -> NodeServer {
    use std::io::{BufRead as _, Read as _};
    use std::process::Stdio;
    let mut child = Command::new("node")
        .arg(script)
        .arg(node_modules(package))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("Node to start (is it installed?)");
    let stdin = child.stdin.take().expect("the child's stdin");
    // Drained all along, so the script never blocks on a full pipe; kept for the failure.
    let mut stderr = child.stderr.take().expect("the child's stderr");
    let drained = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut ready = String::new();
    let stdout = child.stdout.as_mut().expect("the child's stdout");
    let read = std::io::BufReader::new(stdout).read_line(&mut ready);
    if !matches!(read, Ok(n) if n > 0) {
        let _ = child.kill();
        let _ = child.wait();
        let stderr = drained.join().unwrap_or_default();
        panic!("{} did not start: {stderr}", script.display());
    }
    NodeServer {
        child,
        stdin,
        ready: ready.trim_end().to_owned(),
    }
}
