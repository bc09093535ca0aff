//! Where things are in the workspace.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use xshell::Shell;

/// The workspace and the paths xtask works with.
#[derive(Debug, Clone)]
pub struct Project {
    root: PathBuf,
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
        Ok(Self { root })
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
        Ok(sh)
    }
}
