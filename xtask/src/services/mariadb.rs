//! MariaDB from Debian: `mariadb-install-db`, then `mariadbd` on our own port and socket.

use std::process::Command;

use anyhow::{Context, Result, bail};

use super::process::ServiceDir;
use super::tls::TlsFiles;

/// The user (and its password and database) tests connect as.
pub(super) const TEST_USER: &str = "palisade";

pub(super) fn start(dir: &ServiceDir, port: u16, tls: &TlsFiles) -> Result<()> {
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
        .arg(format!("--ssl-ca={}", tls.ca.display()))
        .arg(format!("--ssl-cert={}", tls.cert.display()))
        .arg(format!("--ssl-key={}", tls.key.display()))
        .args([
            "--innodb-buffer-pool-size=64M",
            "--skip-log-bin",
            "--innodb-flush-log-at-trx-commit=0",
        ]);
    dir.spawn(cmd)?;
    dir.wait_ready("mariadb", port)
}

/// The users and tables `verify_privileges` is tested against, in a database of their own
/// (`palisade_privileges`); each user's password is its name. A database name in a grant is a
/// `LIKE` pattern: its `_` is escaped where the grant means that one database.
const PRIVILEGES: &str = "\
    CREATE DATABASE IF NOT EXISTS palisade_privileges; \
    CREATE TABLE IF NOT EXISTS palisade_privileges.accounts \
        (id BIGINT PRIMARY KEY, email TEXT NOT NULL); \
    CREATE TABLE IF NOT EXISTS palisade_privileges.orders \
        (id BIGINT PRIMARY KEY, account_id BIGINT NOT NULL); \
    CREATE USER IF NOT EXISTS 'palisade_ro'@'127.0.0.1' IDENTIFIED BY 'palisade_ro'; \
    CREATE USER IF NOT EXISTS 'palisade_stray'@'127.0.0.1' IDENTIFIED BY 'palisade_stray'; \
    CREATE USER IF NOT EXISTS 'palisade_super'@'127.0.0.1' IDENTIFIED BY 'palisade_super'; \
    CREATE USER IF NOT EXISTS 'palisade_wild'@'127.0.0.1' IDENTIFIED BY 'palisade_wild'; \
    CREATE USER IF NOT EXISTS 'palisade_member'@'127.0.0.1' IDENTIFIED BY 'palisade_member'; \
    CREATE USER IF NOT EXISTS 'palisade_tls_only'@'127.0.0.1' IDENTIFIED BY 'palisade_tls_only' \
        REQUIRE SSL; \
    CREATE ROLE IF NOT EXISTS palisade_writer; \
    GRANT SELECT ON `palisade\\_privileges`.* TO 'palisade_ro'@'127.0.0.1', \
        'palisade_stray'@'127.0.0.1', 'palisade_super'@'127.0.0.1', \
        'palisade_member'@'127.0.0.1', 'palisade_tls_only'@'127.0.0.1'; \
    GRANT INSERT ON palisade_privileges.accounts TO 'palisade_stray'@'127.0.0.1'; \
    GRANT SUPER ON *.* TO 'palisade_super'@'127.0.0.1'; \
    GRANT SELECT ON `palisade_privilege_`.* TO 'palisade_wild'@'127.0.0.1'; \
    GRANT INSERT, UPDATE ON palisade_privileges.orders TO palisade_writer; \
    GRANT palisade_writer TO 'palisade_member'@'127.0.0.1'; \
    SET DEFAULT ROLE palisade_writer FOR 'palisade_member'@'127.0.0.1';";

/// Creates the test user and database, and the users of [`PRIVILEGES`]; safe to run on every
/// `services up`.
pub(super) fn provision(dir: &ServiceDir) -> Result<()> {
    let socket = dir.dir.join("mysqld.sock");
    let setup = format!(
        "CREATE DATABASE IF NOT EXISTS {TEST_USER}; \
         CREATE USER IF NOT EXISTS '{TEST_USER}'@'127.0.0.1' IDENTIFIED BY '{TEST_USER}'; \
         GRANT ALL PRIVILEGES ON *.* TO '{TEST_USER}'@'127.0.0.1' WITH GRANT OPTION; {PRIVILEGES}"
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
