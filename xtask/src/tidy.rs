//! `cargo xtask tidy`: the house rules a machine can check (also run as a `#[test]`, so plain
//! `cargo test` enforces them, as rust-analyzer's tidy.rs does).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use xshell::cmd;

use crate::project::Project;

/// Attributes every crate root carries.
const ROOT_ATTRIBUTES: &[&str] = &[
    "#![forbid(unsafe_code)]",
    "#![doc = include_str!(\"../README.md\")]",
    "#![cfg_attr(docsrs, feature(doc_cfg))]",
];
/// Crates that may print: the command-line tool and the test kit, whose benchmark reporter
/// prints each result line (xtask lives outside `crates/`).
const MAY_PRINT: &[&str] = &["palisade-cli", "palisade-test"];
/// Macros that print straight to the terminal.
const PRINT_MACROS: &[&str] = &["println!(", "eprintln!(", "print!(", "eprint!(", "dbg!("];
/// Crates that must never pull in a cloud SDK, and the SDK crate name prefixes.
const SDK_FREE: &[&str] = &["palisade-secrets", "palisade-password"];
const SDK_PREFIXES: &[&str] = &["aws-", "azure_", "vaultrs"];
/// Crates the facade does not re-export.
const NOT_IN_FACADE: &[&str] = &["palisade", "palisade-cli", "palisade-test"];

/// Runs every check and prints each problem.
///
/// # Errors
/// When any rule is broken.
pub fn run(project: &Project) -> Result<()> {
    let problems = check(project)?;
    for problem in &problems {
        eprintln!("tidy: {problem}");
    }
    if !problems.is_empty() {
        bail!("tidy found {} problem(s)", problems.len());
    }
    eprintln!("tidy: ok");
    Ok(())
}

/// Every broken rule, in words.
///
/// # Errors
/// When the workspace cannot be read.
pub fn check(project: &Project) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let crates = crate_dirs(project)?;
    for dir in &crates {
        check_crate(dir, &mut problems)?;
    }
    check_manifest_versions(&project.root().join("xtask/Cargo.toml"), &mut problems)?;
    check_facade(project, &crates, &mut problems)?;
    check_sdk_isolation(project, &mut problems)?;
    Ok(problems)
}

fn crate_dirs(project: &Project) -> Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(project.root().join("crates"))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

fn name_of(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn check_crate(dir: &Path, problems: &mut Vec<String>) -> Result<()> {
    let name = name_of(dir);
    match fs::read_to_string(dir.join("README.md")) {
        Err(_) => problems.push(format!("{name}: no README.md")),
        Ok(readme) if !readme.contains("## Crate features") => {
            problems.push(format!(
                "{name}: README.md has no `## Crate features` section"
            ));
        }
        Ok(_) => {}
    }
    let root = ["src/lib.rs", "src/main.rs"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file());
    match root {
        None => problems.push(format!("{name}: no src/lib.rs or src/main.rs")),
        Some(root) => {
            let source = fs::read_to_string(&root)?;
            for attribute in ROOT_ATTRIBUTES {
                if !source.contains(attribute) {
                    problems.push(format!("{name}: crate root lacks `{attribute}`"));
                }
            }
            if source.contains("doc_auto_cfg") {
                problems.push(format!(
                    "{name}: uses doc_auto_cfg, which rustc removed (use doc_cfg)"
                ));
            }
        }
    }
    let manifest = fs::read_to_string(dir.join("Cargo.toml"))?;
    let table: toml::Table =
        toml::from_str(&manifest).with_context(|| format!("{name}/Cargo.toml"))?;
    let lints_inherited = table
        .get("lints")
        .and_then(|l| l.get("workspace"))
        .and_then(toml::Value::as_bool)
        .unwrap_or(false);
    if !lints_inherited {
        problems.push(format!(
            "{name}: Cargo.toml lacks `[lints] workspace = true`"
        ));
    }
    check_manifest_versions(&dir.join("Cargo.toml"), problems)?;
    if !MAY_PRINT.contains(&name.as_str()) {
        check_no_print(dir, &name, problems)?;
    }
    Ok(())
}

/// Every dependency of a member manifest says `workspace = true` and sets no version of its own.
fn check_manifest_versions(path: &Path, problems: &mut Vec<String>) -> Result<()> {
    let text = fs::read_to_string(path)?;
    let table: toml::Table = toml::from_str(&text).with_context(|| path.display().to_string())?;
    let mut sections: Vec<(String, &toml::Table)> = Vec::new();
    let kinds = ["dependencies", "dev-dependencies", "build-dependencies"];
    for kind in kinds {
        if let Some(deps) = table.get(kind).and_then(toml::Value::as_table) {
            sections.push((kind.to_owned(), deps));
        }
    }
    if let Some(targets) = table.get("target").and_then(toml::Value::as_table) {
        for (cfg, target) in targets {
            for kind in kinds {
                if let Some(deps) = target.get(kind).and_then(toml::Value::as_table) {
                    sections.push((format!("target.{cfg}.{kind}"), deps));
                }
            }
        }
    }
    for (section, deps) in sections {
        for (dep, spec) in deps {
            let inherited = spec
                .get("workspace")
                .and_then(toml::Value::as_bool)
                .unwrap_or(false);
            let sets_own = ["version", "path", "git"]
                .iter()
                .any(|k| spec.get(k).is_some())
                || spec.is_str();
            if !inherited || sets_own {
                problems.push(format!(
                    "{}: [{section}] {dep} must be `{dep}.workspace = true` (versions live in [workspace.dependencies])",
                    path.display()
                ));
            }
        }
    }
    Ok(())
}

fn check_no_print(dir: &Path, name: &str, problems: &mut Vec<String>) -> Result<()> {
    for file in rust_files(dir)? {
        // Benchmarks are measurement programs whose output is their result.
        if file.components().any(|c| c.as_os_str() == "benches") {
            continue;
        }
        let source = fs::read_to_string(&file)?;
        for (number, line) in source.lines().enumerate() {
            if let Some(mac) = PRINT_MACROS.iter().find(|m| contains_macro(line, m)) {
                problems.push(format!(
                    "{name}: {}:{}: `{}` outside the CLI and xtask (log with tracing or return the text)",
                    file.display(),
                    number + 1,
                    mac.trim_end_matches('(')
                ));
            }
        }
    }
    Ok(())
}

/// Whether `line` calls `mac` (not as the tail of a longer name such as `eprintln!`).
fn contains_macro(line: &str, mac: &str) -> bool {
    line.match_indices(mac).any(|(at, _)| {
        let before = line.get(..at).and_then(|s| s.chars().next_back());
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    Ok(files)
}

fn check_facade(project: &Project, crates: &[PathBuf], problems: &mut Vec<String>) -> Result<()> {
    let manifest = fs::read_to_string(project.root().join("crates/palisade/Cargo.toml"))?;
    let table: toml::Table = toml::from_str(&manifest)?;
    let features = table.get("features").and_then(toml::Value::as_table);
    for dir in crates {
        let name = name_of(dir);
        if NOT_IN_FACADE.contains(&name.as_str()) {
            continue;
        }
        let feature = name.trim_start_matches("palisade-");
        let gated = features
            .and_then(|f| f.get(feature))
            .and_then(toml::Value::as_array)
            .is_some_and(|deps| {
                deps.iter()
                    .any(|d| d.as_str() == Some(&format!("dep:{name}")))
            });
        if !gated {
            problems.push(format!(
                "palisade: no feature `{feature}` re-exporting {name}"
            ));
        }
    }
    Ok(())
}

/// `palisade-secrets` and `palisade-password` compile no cloud SDK, whatever features are on.
fn check_sdk_isolation(project: &Project, problems: &mut Vec<String>) -> Result<()> {
    let sh = project.shell()?;
    for krate in SDK_FREE {
        let tree = cmd!(
            sh,
            "cargo tree --locked -p {krate} --all-features -e normal,build --prefix none"
        )
        .quiet()
        .read()
        .with_context(|| format!("cargo tree -p {krate} failed"))?;
        for line in tree.lines() {
            if SDK_PREFIXES.iter().any(|p| line.starts_with(p)) {
                problems.push(format!("{krate} depends on the cloud SDK crate `{line}`"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::contains_macro;

    #[test]
    fn print_macros_are_found_but_not_inside_longer_names() {
        assert!(contains_macro("    println!(\"x\");", "println!("));
        assert!(!contains_macro("    eprintln!(\"x\");", "println!("));
        assert!(contains_macro("eprintln!(\"x\")", "eprintln!("));
        assert!(!contains_macro("my_print!(x)", "print!("));
    }
}
