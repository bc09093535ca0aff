//! The README's walkthrough, run as written against the service's own process.

use std::process::Command;

use crate::common::{database_name, settings_env};
use crate::process::Process;

/// The README's walkthrough: its `sh` block, each command followed by a marker line, and
/// the `# => TEXT` expectations of each command.
fn walkthrough() -> (String, Vec<(usize, String)>) {
    let readme = include_str!("../../README.md");
    let start = readme.find("## Walkthrough").unwrap();
    let block = readme[start..].split("```sh\n").nth(1).unwrap();
    let block = block.split("\n```").next().unwrap();
    let mut script = String::from("set -eu\n");
    let mut expectations = Vec::new();
    let mut command = String::new();
    for (index, line) in block.lines().enumerate() {
        command.push_str(line);
        command.push('\n');
        if line.ends_with('\\') {
            continue;
        }
        if let Some((_, expected)) = line.rsplit_once("  # => ") {
            expectations.push((index, expected.trim().to_owned()));
        }
        script.push_str(&command);
        script.push_str(&format!("echo; echo '::step {index}'\n"));
        command.clear();
    }
    (script, expectations)
}

#[tokio::test]
async fn the_readme_walkthrough_works_as_written() {
    let mut env = settings_env(&database_name());
    env.push(("LISTEN_ADDR".to_owned(), "127.0.0.1:0".to_owned()));
    env.push(("LOG_FORMAT".to_owned(), "json".to_owned()));
    // The README's commands run as a newcomer runs them (dev mode, default limits).
    env.retain(|(key, _)| key != "MODE");
    let process = Process::start(&env);
    let (script, expectations) = walkthrough();
    assert!(expectations.len() >= 8, "{expectations:?}");
    let output = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("BASE", &process.base)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let (status, _) = process.stop();
    assert!(status.success());
    assert!(
        output.status.success(),
        "the walkthrough failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for (index, expected) in expectations {
        let marker = format!("::step {index}\n");
        let end = stdout
            .find(&marker)
            .unwrap_or_else(|| panic!("no step {index}: {stdout}"));
        let before = &stdout[..end];
        let step_output = before.rsplit("::step ").next().unwrap_or(before);
        assert!(
            step_output.contains(&expected),
            "step at line {index}: expected {expected:?} in {step_output:?}"
        );
    }
}
