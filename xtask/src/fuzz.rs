//! `cargo xtask fuzz`: cargo-fuzz targets from `fuzz/` (its own workspace), on nightly.

use anyhow::{Result, bail};
use xshell::{Shell, cmd};

use crate::project::Project;
use crate::tools::{CARGO_FUZZ, ensure_nightly};

fn prepare(project: &Project) -> Result<(Shell, Vec<String>)> {
    let sh = project.shell()?;
    ensure_nightly(&sh)?;
    CARGO_FUZZ.ensure(&sh)?;
    // cargo-fuzz has no --locked: this fails, as --locked would, when fuzz/Cargo.lock is stale.
    cmd!(
        sh,
        "cargo +nightly metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml"
    )
    .quiet()
    .ignore_stdout()
    .run()?;
    let list = cmd!(sh, "cargo +nightly fuzz list").read()?;
    let targets: Vec<String> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if targets.is_empty() {
        bail!("fuzz/ has no targets: every parser and guard needs one");
    }
    Ok((sh, targets))
}

/// Builds every fuzz target.
///
/// # Errors
/// When nightly or cargo-fuzz is missing, there are no targets, or a build fails.
pub fn build(project: &Project) -> Result<()> {
    let (sh, targets) = prepare(project)?;
    eprintln!(
        "fuzz: building {} targets: {}",
        targets.len(),
        targets.join(", ")
    );
    cmd!(sh, "cargo +nightly fuzz build").run()?;
    Ok(())
}

/// Runs one target, or each in turn, for `seconds` each.
///
/// # Errors
/// When a target is unknown, fails to build, or finds a crash.
pub fn run(project: &Project, target: Option<&str>, seconds: u64) -> Result<()> {
    let (sh, targets) = prepare(project)?;
    let chosen: Vec<String> = match target {
        Some(name) if targets.iter().any(|t| t == name) => vec![name.to_owned()],
        Some(name) => bail!(
            "no fuzz target {name}; the targets are: {}",
            targets.join(", ")
        ),
        None => targets,
    };
    let limit = format!("-max_total_time={seconds}");
    for target in chosen {
        eprintln!("fuzz: running {target} for {seconds}s");
        cmd!(sh, "cargo +nightly fuzz run {target} -- {limit}").run()?;
    }
    Ok(())
}
