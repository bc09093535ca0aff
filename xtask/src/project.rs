//! Where things are in the workspace.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use xshell::Shell;

/// The workspace and the paths xtask works with.
#[derive(Debug, Clone)]
pub struct Project {
    root: PathBuf,
    /// Whether cargo keeps incremental compilation state (on for development; off in CI,
    /// where a clean clone builds each crate once and the state would only take disk).
    incremental: bool,
}

impl Project {
    /// The workspace this xtask binary was built from.
    ///
    /// # Errors
    /// When the workspace root cannot be found from xtask's manifest directory.
    pub fn locate() -> Result<Self> {
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest_dir
            .parent()
            .context("xtask has no parent directory")?
            .canonicalize()
            .context("cannot resolve the workspace root")?;
        Ok(Self {
            root,
            incremental: true,
        })
    }

    /// The workspace root.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `target/` at the workspace root.
    #[must_use]
    pub fn target(&self) -> PathBuf {
        self.root.join("target")
    }

    /// `../shared`, beside the workspace, which holds the RustSec snapshot.
    #[must_use]
    pub fn shared(&self) -> PathBuf {
        self.root.join("..").join("shared")
    }

    /// A shell whose working directory is the workspace root.
    ///
    /// # Errors
    /// When the shell cannot be created.
    pub fn shell(&self) -> Result<Shell> {
        let sh = Shell::new()?;
        sh.change_dir(&self.root);
        if !self.incremental {
            sh.set_var("CARGO_INCREMENTAL", "0");
        }
        Ok(sh)
    }

    /// The same project with cargo's incremental state turned off for every command its
    /// shells run: a one-time build (CI on a clean clone) writes gigabytes of it and never
    /// reads them back.
    #[must_use]
    pub fn without_incremental(&self) -> Self {
        Self {
            root: self.root.clone(),
            incremental: false,
        }
    }
}
