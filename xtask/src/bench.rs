//! `cargo xtask bench`: every crate's benchmarks, then one table of figure, peer figure,
//! ratio and target; with `--write`, the same figures in `BENCHMARKS.md`, one section per
//! crate (a run of one crate replaces that crate's section only), so the file never says
//! what the benchmarks did not print.
//!
//! Each benchmark writes its results as JSON lines to `target/bench-results/*.jsonl`, one
//! object per comparison: `{"crate", "name", "figure", "peer", "peer_figure", "unit",
//! "target", "met"}`; `ratio` is figure / peer figure.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use xshell::cmd;

use crate::project::Project;

/// Peer benchmark packages under `peers/`, with the crate each one measures.
const PEERS: &[(&str, &str)] = &[("aws-caching", "palisade-secrets-aws")];

/// Runs the benchmarks (of one package, or all) and prints the table; with `reuse`, prints
/// what the last run left instead of running.
///
/// # Errors
/// When a benchmark fails to build or run, or a result line is malformed.
pub fn run(project: &Project, package: Option<&str>, write: bool, reuse: bool) -> Result<()> {
    let results = project.target().join("bench-results");
    if !reuse {
        run_benchmarks(project, package, &results)?;
    }
    let mut rows = Vec::new();
    for entry in fs::read_dir(&results)
        .with_context(|| format!("no results in {} to reuse", results.display()))?
    {
        let path = entry?.path();
        for line in fs::read_to_string(&path)?
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            let row: serde_json::Value = serde_json::from_str(line)
                .with_context(|| format!("bad result line in {}", path.display()))?;
            rows.push(row);
        }
    }
    if write {
        write_markdown(project, &rows)?;
    }
    print_table(&rows)
}

/// Runs the benchmarks into `results`, emptied first.
fn run_benchmarks(project: &Project, package: Option<&str>, results: &Path) -> Result<()> {
    let sh = project.shell()?;
    let _ = fs::remove_dir_all(results);
    fs::create_dir_all(results)?;
    let selection: Vec<String> = match package {
        Some(p) => vec!["--package".into(), p.into()],
        None => vec!["--workspace".into()],
    };
    cmd!(
        sh,
        "cargo bench --locked --all-features --benches {selection...}"
    )
    .env("PALISADE_BENCH_RESULTS", results)
    .run()?;
    // Peers whose dependencies must stay out of the workspace's graph live in their own
    // packages under `peers/`, with their own lock files, built in the same target directory.
    for (peer, compared) in PEERS {
        if package.is_none_or(|p| p == *compared) {
            let manifest = project.root().join("peers").join(peer).join("Cargo.toml");
            let target = project.target();
            cmd!(
                sh,
                "cargo bench --locked --manifest-path {manifest} --target-dir {target}"
            )
            .env("PALISADE_BENCH_RESULTS", results)
            .run()?;
        }
    }
    Ok(())
}

/// The start of a crate's section in `BENCHMARKS.md`.
fn section_marker(krate: &str) -> String {
    format!("<!-- bench: {krate} -->")
}

/// Replaces the sections of the crates in `rows` in `BENCHMARKS.md` (creating it), keeping
/// the others, in crate order.
fn write_markdown(project: &Project, rows: &[serde_json::Value]) -> Result<()> {
    use std::collections::BTreeMap;
    let path = project.root().join("BENCHMARKS.md");
    let existing = fs::read_to_string(&path).unwrap_or_default();
    let mut sections: BTreeMap<String, String> = BTreeMap::new();
    // Sections already in the file: each from its marker to the next.
    for part in existing.split("<!-- bench: ").skip(1) {
        if let Some((krate, rest)) = part.split_once(" -->") {
            sections.insert(krate.to_owned(), rest.trim().to_owned());
        }
    }
    let mut by_crate: BTreeMap<String, Vec<&serde_json::Value>> = BTreeMap::new();
    for row in rows {
        let krate = row.get("crate").and_then(|v| v.as_str()).unwrap_or("-");
        by_crate.entry(krate.to_owned()).or_default().push(row);
    }
    let date = std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map_or_else(String::new, |d| d.trim().to_owned());
    for (krate, rows) in by_crate {
        let mut text = format!(
            "## {krate}\n\nMeasured {date} with `cargo xtask bench --package {krate} --write`.\n\n| benchmark | figure | peer | peer figure | ratio | target | met |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        );
        for row in rows {
            let text_of = |key: &str| {
                row.get(key)
                    .and_then(|v| v.as_str())
                    .unwrap_or("-")
                    .replace('|', "/")
            };
            let number = |key: &str| row.get(key).and_then(serde_json::Value::as_f64);
            let unit = text_of("unit");
            let figure = number("figure").context("a result without a figure")?;
            let peer = number("peer_figure");
            let met = row.get("met").and_then(serde_json::Value::as_bool) == Some(true);
            text.push_str(&format!(
                "| {} | {figure:.1} {unit} | {} | {} | {} | {} | {} |\n",
                text_of("name"),
                text_of("peer"),
                peer.map_or_else(|| "-".to_owned(), |p| format!("{p:.1} {unit}")),
                peer.map_or_else(|| "-".to_owned(), |p| format!("{:.3}", figure / p)),
                text_of("target"),
                if met { "yes" } else { "**no**" },
            ));
        }
        sections.insert(krate, text.trim().to_owned());
    }
    let mut out = String::from(
        "# Benchmarks\n\nWritten by `cargo xtask bench --write` from what the benchmarks print; each \
         figure beside its peer run in the same process or script. Do not edit by hand.\n",
    );
    for (krate, text) in sections {
        out.push_str(&format!("\n{}\n{text}\n", section_marker(&krate)));
    }
    fs::write(&path, out).with_context(|| format!("cannot write {}", path.display()))
}

fn print_table(rows: &[serde_json::Value]) -> Result<()> {
    if rows.is_empty() {
        println!("bench: no benchmark wrote results (no crate has benchmarks yet)");
        return Ok(());
    }
    println!(
        "{:<20} {:<40} {:>14} {:<28} {:>14} {:>8} {:<18} met",
        "crate", "benchmark", "figure", "peer", "peer figure", "ratio", "target"
    );
    let mut missed = 0;
    for row in rows {
        let text = |key: &str| {
            row.get(key)
                .and_then(|v| v.as_str())
                .unwrap_or("-")
                .to_owned()
        };
        let number = |key: &str| row.get(key).and_then(serde_json::Value::as_f64);
        let unit = text("unit");
        let figure = number("figure").context("a result without a figure")?;
        let peer_figure = number("peer_figure");
        let ratio = peer_figure.map_or_else(|| "-".to_owned(), |p| format!("{:.3}", figure / p));
        let met = row
            .get("met")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        if !met {
            missed += 1;
        }
        println!(
            "{:<20} {:<40} {:>14} {:<28} {:>14} {:>8} {:<18} {}",
            text("crate"),
            text("name"),
            format!("{figure:.1} {unit}"),
            text("peer"),
            peer_figure.map_or_else(|| "-".to_owned(), |p| format!("{p:.1} {unit}")),
            ratio,
            text("target"),
            if met { "yes" } else { "NO" }
        );
    }
    if missed > 0 {
        bail!("{missed} benchmark target(s) not met");
    }
    Ok(())
}
