//! `cargo xtask deny`: cargo-deny, offline, against the shared RustSec snapshot.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use xshell::cmd;

use crate::project::Project;
use crate::tools::CARGO_DENY;

/// Where deny.toml's `db-path` points, relative to the workspace root.
const DB_PATH: &str = "target/advisory-dbs";
/// The directory name cargo-deny derives for the default RustSec database URL.
const DB_DIR_NAME: &str = "advisory-db-3157b0e258782691";

/// Copies the RustSec snapshot from `../shared/data/advisory-db` to where deny.toml tells
/// cargo-deny to look, then runs every check without fetching.
///
/// # Errors
/// When the snapshot is missing, cargo-deny cannot be installed, or a check fails.
pub fn run(project: &Project) -> Result<()> {
    let sh = project.shell()?;
    CARGO_DENY.ensure(&sh)?;
    let snapshot = project.shared().join("data/advisory-db");
    if !snapshot.join("crates").is_dir() {
        bail!(
            "no RustSec snapshot at {}: it comes with ../shared beside the checkout",
            snapshot.display()
        );
    }
    let db = project.root().join(DB_PATH).join(DB_DIR_NAME);
    let _ = fs::remove_dir_all(&db);
    copy_dir(&snapshot, &db).context("cannot copy the RustSec snapshot")?;
    make_writable(&db)?;
    let note = fs::read_to_string(snapshot.join("SNAPSHOT")).unwrap_or_default();
    eprintln!("deny: advisories from {}", note.trim());
    commit_snapshot(&sh, &db, snapshot_date(&note))?;
    // cargo-deny reads every platform's dependencies; fetch them (from crates.io) first so
    // that the check itself runs offline, which also stops it fetching the advisory database.
    cmd!(sh, "cargo fetch --locked")
        .quiet()
        .run()
        .context("cargo fetch failed")?;
    cmd!(
        sh,
        "cargo deny --offline --locked check advisories licenses bans sources"
    )
    .run()
    .context("cargo deny found problems")?;
    Ok(())
}

/// The snapshot is read-only; git needs to write its copy's index.
fn make_writable(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let mut permissions = entry.metadata()?.permissions();
        #[allow(
            clippy::permissions_set_readonly_false,
            reason = "our own copy, under target/"
        )]
        permissions.set_readonly(false);
        fs::set_permissions(entry.path(), permissions)?;
        if entry.file_type()?.is_dir() {
            make_writable(&entry.path())?;
        }
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// cargo-deny reads the database's HEAD commit time (its age), so the copy becomes a git
/// repository with one commit dated as the snapshot.
fn commit_snapshot(sh: &xshell::Shell, db: &Path, date: Option<String>) -> Result<()> {
    let _dir = sh.push_dir(db);
    let date = date.unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
    cmd!(sh, "git init -q").quiet().run()?;
    cmd!(sh, "git add -A").quiet().run()?;
    cmd!(
        sh,
        "git -c user.name=xtask -c user.email=xtask@localhost commit -q -m snapshot"
    )
    .env("GIT_AUTHOR_DATE", &date)
    .env("GIT_COMMITTER_DATE", &date)
    .quiet()
    .run()
    .context("cannot commit the advisory snapshot copy")?;
    Ok(())
}

/// The date in SNAPSHOT's "(YYYY-MM-DD)", as an ISO timestamp.
fn snapshot_date(note: &str) -> Option<String> {
    let (_, rest) = note.rsplit_once('(')?;
    let (date, _) = rest.split_once(')')?;
    let shaped = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    shaped.then(|| format!("{date}T00:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::snapshot_date;

    #[test]
    fn the_snapshot_date_is_read_from_the_note() {
        let note = "rustsec/advisory-db snapshot, commit bf5c0d2 (2026-08-21)";
        assert_eq!(snapshot_date(note).as_deref(), Some("2026-08-21T00:00:00Z"));
        assert_eq!(snapshot_date("no date here"), None);
        assert_eq!(snapshot_date("(yesterday)"), None);
    }
}
