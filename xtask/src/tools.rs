//! Cargo subcommands xtask needs, installed at pinned versions when missing.

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

/// A cargo subcommand installed from crates.io.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CargoTool {
    /// The crate to install.
    pub(crate) krate: &'static str,
    /// The subcommand, as in `cargo <subcommand>`.
    pub(crate) subcommand: &'static str,
    /// The exact version we pin.
    pub(crate) version: &'static str,
}

pub(crate) const CARGO_DENY: CargoTool = CargoTool {
    krate: "cargo-deny",
    subcommand: "deny",
    version: "0.20.2",
};
pub(crate) const CARGO_FUZZ: CargoTool = CargoTool {
    krate: "cargo-fuzz",
    subcommand: "fuzz",
    version: "0.13.2",
};
pub(crate) const CARGO_NEXTEST: CargoTool = CargoTool {
    krate: "cargo-nextest",
    subcommand: "nextest",
    version: "0.9.143",
};

impl CargoTool {
    /// Installs the pinned version unless a binary that reports it is already there.
    ///
    /// nextest is accepted at any version the machine ships, since the machine image provides
    /// it; the others must match exactly.
    pub(crate) fn ensure(self, sh: &Shell) -> Result<()> {
        let subcommand = self.subcommand;
        let reported = cmd!(sh, "cargo {subcommand} --version")
            .quiet()
            .ignore_stderr()
            .read();
        if let Ok(text) = &reported {
            let pinned = text.contains(self.version);
            if pinned || (self.krate == CARGO_NEXTEST.krate && text.contains(self.krate)) {
                return Ok(());
            }
        }
        let spec = format!("{}@{}", self.krate, self.version);
        eprintln!("xtask: installing {spec}");
        cmd!(sh, "cargo install --locked {spec}")
            .run()
            .with_context(|| format!("installing {spec} failed"))
    }
}

/// Fails unless the nightly toolchain (needed by cargo-fuzz) is installed.
pub(crate) fn ensure_nightly(sh: &Shell) -> Result<()> {
    let toolchains = cmd!(sh, "rustup toolchain list").quiet().read()?;
    if !toolchains.lines().any(|line| line.starts_with("nightly")) {
        bail!(
            "cargo-fuzz needs a nightly toolchain and none is installed: rustup toolchain install nightly"
        );
    }
    Ok(())
}
