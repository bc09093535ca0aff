//! `cargo xtask ci`: every check, each timed, none skipped.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use xshell::cmd;

use crate::project::Project;
use crate::tools::CARGO_NEXTEST;
use crate::{deny, fuzz, services, tidy};

/// One CI step: a name and the work.
struct Step {
    name: &'static str,
    work: fn(&Project) -> Result<()>,
}

const STEPS: &[Step] = &[
    Step {
        name: "fmt",
        work: fmt,
    },
    Step {
        name: "tidy",
        work: tidy::run,
    },
    Step {
        name: "clippy",
        work: clippy,
    },
    Step {
        name: "rustdoc",
        work: rustdoc,
    },
    Step {
        name: "services up",
        work: services::up,
    },
    Step {
        name: "tests (nextest)",
        work: nextest,
    },
    Step {
        name: "doc tests",
        work: doctests,
    },
    Step {
        name: "scan",
        work: scan,
    },
    Step {
        name: "deny",
        work: deny::run,
    },
    Step {
        name: "fuzz build",
        work: fuzz::build,
    },
    Step {
        name: "package",
        work: package,
    },
];

/// Runs every step, even after a failure, prints one summary line per step with its time,
/// and fails when any step failed.
///
/// # Errors
/// When any step fails; the summary names which.
pub fn run(project: &Project) -> Result<()> {
    let project = &project.without_incremental();
    let started = Instant::now();
    report_free_disk(project, "before");
    let mut results: Vec<(&str, Duration, Result<()>)> = Vec::new();
    for step in STEPS {
        eprintln!("\n==> ci: {}", step.name);
        let begun = Instant::now();
        let outcome = (step.work)(project);
        let took = begun.elapsed();
        match &outcome {
            Ok(()) => eprintln!("==> ci: {} ok in {}", step.name, seconds(took)),
            Err(err) => eprintln!("==> ci: {} FAILED in {}: {err:#}", step.name, seconds(took)),
        }
        results.push((step.name, took, outcome));
    }
    report_free_disk(project, "after");
    eprintln!("\nci summary");
    let mut failed = Vec::new();
    for (name, took, outcome) in &results {
        let verdict = if outcome.is_ok() { "ok" } else { "FAILED" };
        eprintln!("  {name:<16} {verdict:<7} {:>9}", seconds(*took));
        if outcome.is_err() {
            failed.push(*name);
        }
    }
    eprintln!(
        "  {:<16} {:<7} {:>9}",
        "total",
        "",
        seconds(started.elapsed())
    );
    if !failed.is_empty() {
        bail!("ci failed: {}", failed.join(", "));
    }
    Ok(())
}

/// Prints the free space where the build writes, so a run that fills the disk says how much
/// it had. Informational: a failure to ask is printed, not fatal.
fn report_free_disk(project: &Project, when: &str) {
    eprintln!("==> ci: free disk {when} the run");
    let outcome = project
        .shell()
        .and_then(|sh| Ok(cmd!(sh, "df -h .").run()?));
    if let Err(err) = outcome {
        eprintln!("    (df failed: {err:#})");
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

fn fmt(project: &Project) -> Result<()> {
    let sh = project.shell()?;
    cmd!(sh, "cargo fmt --all -- --check").run()?;
    Ok(())
}

fn clippy(project: &Project) -> Result<()> {
    let sh = project.shell()?;
    cmd!(
        sh,
        "cargo clippy --workspace --all-targets --all-features --locked -- -D warnings"
    )
    .run()?;
    Ok(())
}

fn rustdoc(project: &Project) -> Result<()> {
    let sh = project.shell()?;
    cmd!(
        sh,
        "cargo doc --workspace --all-features --no-deps --locked"
    )
    .env("RUSTDOCFLAGS", "-D warnings")
    .run()?;
    Ok(())
}

fn nextest(project: &Project) -> Result<()> {
    let sh = project.shell()?;
    CARGO_NEXTEST.ensure(&sh)?;
    cmd!(
        sh,
        "cargo nextest run --workspace --all-features --locked --profile ci --no-tests=fail"
    )
    .run()?;
    Ok(())
}

/// The README's first set-up command: `palisade scan` over this tree, with the reviewed test
/// fixtures accepted by `palisade-scan.baseline.json`. It runs the binary the test step built
/// for the CLI's integration tests (the whole workspace, all features): nothing is compiled
/// again.
fn scan(project: &Project) -> Result<()> {
    let sh = project.shell()?;
    let palisade = project.target().join("debug").join("palisade");
    anyhow::ensure!(
        palisade.exists(),
        "{} is missing: the test step builds it (`cargo nextest run --workspace --all-features`)",
        palisade.display()
    );
    cmd!(
        sh,
        "{palisade} scan --baseline palisade-scan.baseline.json ."
    )
    .run()?;
    Ok(())
}

fn doctests(project: &Project) -> Result<()> {
    let sh = project.shell()?;
    cmd!(sh, "cargo test --doc --workspace --all-features --locked").run()?;
    Ok(())
}

/// Every library crate and the CLI as crates.io would get them: packaged with the metadata a
/// registry page needs, and each package built from its own sources (path dependencies
/// between workspace crates resolve to the packages just made). The test kit, xtask and the
/// crud-api example are not published.
fn package(project: &Project) -> Result<()> {
    forget_extracted_packages()?;
    let sh = project.shell()?;
    // A packaged manifest carries no workspace profile: the workspace's light dev profile is
    // given again so the verifying builds reuse what the test build compiled where they can.
    let profile = [
        "--config",
        "profile.dev.debug=\"line-tables-only\"",
        "--config",
        "profile.dev.package.\"*\".opt-level=1",
        "--config",
        "profile.dev.package.\"*\".debug=false",
    ];
    cmd!(
        sh,
        "cargo package {profile...} --workspace --exclude xtask --exclude palisade-test --exclude crud-api --locked --allow-dirty"
    )
    .run()?;
    Ok(())
}

/// Removes cargo's extracted copies of this workspace's own packages. The verifying builds read
/// the packages just made through a local registry under `target/package/`, and cargo keeps
/// what it extracts from a registry by the registry's path and the package's version, never
/// by content: a copy left by an earlier run at the same path (same version, older sources)
/// would be built in place of the new one. None of these names is on crates.io, so nothing
/// else is touched.
fn forget_extracted_packages() -> Result<()> {
    let Some(cargo_home) = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| std::path::Path::new(&home).join(".cargo"))
        })
    else {
        return Ok(());
    };
    for area in ["src", "cache"] {
        let Ok(registries) = std::fs::read_dir(cargo_home.join("registry").join(area)) else {
            continue;
        };
        for registry in registries.flatten() {
            let Ok(entries) = std::fs::read_dir(registry.path()) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let ours = name.to_str().is_some_and(|n| n.starts_with("palisade-"));
                if !ours {
                    continue;
                }
                let path = entry.path();
                let removed = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                removed.with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
    }
    Ok(())
}
