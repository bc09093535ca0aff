//! The project-local Node packages (`target/node`) that benchmarks compare against, pinned
//! by `xtask/node/package-lock.json`.

use std::fs;

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

use crate::project::Project;

/// Installs `xtask/node/package.json` with its lock file into `target/node` (`npm ci`),
/// unless the same lock file was already installed.
///
/// # Errors
/// When the files cannot be copied or `npm ci` fails.
pub(super) fn ensure(project: &Project, sh: &Shell) -> Result<()> {
    let source = project.root().join("xtask/node");
    let root = project.target().join("node");
    let lock = fs::read_to_string(source.join("package-lock.json"))
        .context("cannot read xtask/node/package-lock.json")?;
    let stamp = root.join("palisade.stamp");
    if fs::read_to_string(&stamp).is_ok_and(|installed| installed == lock) {
        return Ok(());
    }
    fs::create_dir_all(&root)?;
    for file in ["package.json", "package-lock.json"] {
        fs::copy(source.join(file), root.join(file))
            .with_context(|| format!("cannot copy xtask/node/{file}"))?;
    }
    let _dir = sh.push_dir(&root);
    cmd!(sh, "npm ci --no-audit --no-fund --ignore-scripts")
        .run()
        .context("npm ci in target/node failed (is Node installed?)")?;
    fs::write(&stamp, lock)?;
    Ok(())
}
