//! PostgreSQL from Debian: `initdb` and `pg_ctl`, as the `postgres` user when we are root.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::process::ServiceDir;

/// The newest `/usr/lib/postgresql/N/bin` that has a server.
pub(super) fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// A command for a PostgreSQL program, run as `postgres` when we are root (the server
/// refuses to run as root).
fn pg_command(program: &Path) -> Command {
    if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn run(mut cmd: Command, what: &str, dir: &ServiceDir) -> Result<()> {
    let out = cmd.output().with_context(|| format!("cannot run {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            dir.log_tail()
        );
    }
    Ok(())
}

pub(super) fn start(dir: &ServiceDir, port: u16) -> Result<()> {
    let bin = bin_dir().context("no PostgreSQL server under /usr/lib/postgresql")?;
    let data = dir.dir.join("data");
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir.dir)
            .status()?;
        if !status.success() {
            bail!("cannot hand {} to the postgres user", dir.dir.display());
        }
        let reachable = Command::new("runuser")
            .args(["-u", "postgres", "--", "test", "-w"])
            .arg(&dir.dir)
            .status()?;
        if !reachable.success() {
            bail!(
                "the postgres user cannot write {}: a parent directory is not traversable by other users; put the checkout where every user can reach it",
                dir.dir.display()
            );
        }
    }
    if !data.join("PG_VERSION").exists() {
        let mut initdb = pg_command(&bin.join("initdb"));
        initdb.arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--no-locale",
        ]);
        run(initdb, "initdb", dir)?;
    }
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
        dir.dir.display()
    );
    let mut pg_ctl = pg_command(&bin.join("pg_ctl"));
    pg_ctl
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.log_file())
        .args(["-w", "-t", "120", "-o", &options, "start"]);
    run(pg_ctl, "pg_ctl start", dir)?;
    let postmaster =
        fs::read_to_string(data.join("postmaster.pid")).context("no postmaster.pid after start")?;
    let pid = postmaster
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .context("bad postmaster.pid")?;
    dir.record_pid(pid)?;
    dir.wait_ready("postgres", port)
}

pub(super) fn stop(dir: &ServiceDir) -> Result<bool> {
    if dir.running_pid().is_none() {
        dir.forget_pid();
        return Ok(false);
    }
    let bin = bin_dir().context("no PostgreSQL server under /usr/lib/postgresql")?;
    let mut pg_ctl = pg_command(&bin.join("pg_ctl"));
    pg_ctl
        .arg("-D")
        .arg(dir.dir.join("data"))
        .args(["-m", "fast", "-w", "stop"]);
    run(pg_ctl, "pg_ctl stop", dir)?;
    dir.forget_pid();
    Ok(true)
}
