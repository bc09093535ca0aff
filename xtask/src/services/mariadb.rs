//! MariaDB from Debian: `mariadb-install-db`, then `mariadbd` on our own port and socket.

use std::process::Command;

use anyhow::{Context, Result, bail};

use super::process::ServiceDir;

/// The user (and its password and database) tests connect as.
pub(super) const TEST_USER: &str = "palisade";

pub(super) fn start(dir: &ServiceDir, port: u16) -> Result<()> {
    let data = dir.dir.join("data");
    let socket = dir.dir.join("mysqld.sock");
    if !data.join("mysql").exists() {
        let out = Command::new("mariadb-install-db")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args([
                "--user=root",
                "--skip-test-db",
                "--auth-root-authentication-method=socket",
            ])
            .output()
            .context("cannot run mariadb-install-db")?;
        if !out.status.success() {
            bail!(
                "mariadb-install-db failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let mut cmd = Command::new("/usr/sbin/mariadbd");
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--socket={}", socket.display()))
        .arg(format!(
            "--pid-file={}",
            dir.dir.join("mariadbd.pid").display()
        ))
        .arg(format!("--port={port}"))
        .args([
            "--bind-address=127.0.0.1",
            "--user=root",
            "--skip-name-resolve",
        ])
        .args([
            "--innodb-buffer-pool-size=64M",
            "--skip-log-bin",
            "--innodb-flush-log-at-trx-commit=0",
        ]);
    dir.spawn(cmd)?;
    dir.wait_ready("mariadb", port)
}

/// Creates the test user and database; safe to run on every `services up`.
pub(super) fn provision(dir: &ServiceDir) -> Result<()> {
    let socket = dir.dir.join("mysqld.sock");
    let setup = format!(
        "CREATE DATABASE IF NOT EXISTS {TEST_USER}; \
         CREATE USER IF NOT EXISTS '{TEST_USER}'@'127.0.0.1' IDENTIFIED BY '{TEST_USER}'; \
         GRANT ALL PRIVILEGES ON *.* TO '{TEST_USER}'@'127.0.0.1';"
    );
    let out = Command::new("mariadb")
        .arg("--no-defaults")
        .arg(format!("--socket={}", socket.display()))
        .args(["-uroot", "-e", &setup])
        .output()
        .context("cannot run the mariadb client")?;
    if !out.status.success() {
        bail!(
            "creating the test user failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
