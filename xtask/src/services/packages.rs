//! Debian packages the services need, installed with apt-get when missing.

use std::path::Path;

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

/// Whether a package is installed, judged by a file it provides.
type Installed = fn() -> bool;

/// A Debian package and a check that it is installed.
const PACKAGES: &[(&str, Installed)] = &[
    ("postgresql", || super::postgres::bin_dir().is_some()),
    ("mariadb-server", || {
        Path::new("/usr/sbin/mariadbd").exists()
    }),
    ("mariadb-client", || Path::new("/usr/bin/mariadb").exists()),
    ("redis-server", || {
        Path::new("/usr/bin/redis-server").exists()
    }),
    // `htpasswd -B` makes palisade-password's `$2y$` known-answer hashes.
    ("apache2-utils", || Path::new("/usr/bin/htpasswd").exists()),
    // palisade-redact's labelled corpus: PEM keys made by openssl and ssh-keygen.
    ("openssl", || Path::new("/usr/bin/openssl").exists()),
    ("openssh-client", || {
        Path::new("/usr/bin/ssh-keygen").exists()
    }),
    // `cargo xtask load` drives crud-api with wrk.
    ("wrk", || Path::new("/usr/bin/wrk").exists()),
];

/// Installs every missing package. Debian's `policy-rc.d` keeps apt from starting the
/// system services, so nothing but our own processes listens afterwards.
pub(super) fn ensure(sh: &Shell) -> Result<()> {
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(_, installed)| !installed())
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let uid = cmd!(sh, "id -u").quiet().read()?;
    if uid.trim() != "0" {
        bail!(
            "missing Debian packages {}: run `sudo apt-get install {}`",
            missing.join(" "),
            missing.join(" ")
        );
    }
    eprintln!("services: installing {}", missing.join(" "));
    cmd!(sh, "apt-get update -qq")
        .run()
        .context("apt-get update failed")?;
    cmd!(
        sh,
        "apt-get install -y -qq --no-install-recommends {missing...}"
    )
    .env("DEBIAN_FRONTEND", "noninteractive")
    .run()
    .context("apt-get install failed")?;
    Ok(())
}
