//! The project-local Python virtual environment (`target/venv`) with exact pinned versions.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

use crate::project::Project;

/// A requirements file under `xtask/python/` installed into `target/venv`.
#[derive(Debug, Clone)]
pub struct Venv {
    root: PathBuf,
    requirements: PathBuf,
    name: &'static str,
}

impl Venv {
    /// The venv with the service servers (SecantusDB, moto), pinned in
    /// `xtask/python/services.txt`.
    #[must_use]
    pub fn services(project: &Project) -> Self {
        Self::with_requirements(project, "services")
    }

    /// The venv with the requirements in `xtask/python/NAME.txt`.
    #[must_use]
    pub fn with_requirements(project: &Project, name: &'static str) -> Self {
        Self {
            root: project.target().join("venv"),
            requirements: project
                .root()
                .join("xtask/python")
                .join(format!("{name}.txt")),
            name,
        }
    }

    /// A program in the venv's `bin/`.
    #[must_use]
    pub fn bin(&self, program: &str) -> PathBuf {
        self.root.join("bin").join(program)
    }

    /// Creates the venv if needed and installs the requirements unless the same file was
    /// already installed (a stamp holds the installed copy).
    ///
    /// # Errors
    /// When python3 or pip fails.
    pub fn ensure(&self, sh: &Shell) -> Result<()> {
        let wanted = fs::read_to_string(&self.requirements)
            .with_context(|| format!("cannot read {}", self.requirements.display()))?;
        let stamp = self.root.join(format!("palisade-{}.stamp", self.name));
        if fs::read_to_string(&stamp).is_ok_and(|installed| installed == wanted) {
            return Ok(());
        }
        if !self.bin("python").exists() {
            let root = &self.root;
            cmd!(sh, "python3 -m venv {root}")
                .run()
                .context("cannot create the Python venv")?;
        }
        let pip = self.bin("pip");
        let requirements = &self.requirements;
        cmd!(
            sh,
            "{pip} install --disable-pip-version-check -q -r {requirements}"
        )
        .run()
        .with_context(|| format!("pip install -r {} failed", requirements.display()))?;
        fs::write(&stamp, wanted)?;
        Ok(())
    }
}
