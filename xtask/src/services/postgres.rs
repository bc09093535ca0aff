//! PostgreSQL from Debian: `initdb` and `pg_ctl`, as the `postgres` user when we are root.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use super::process::ServiceDir;
use super::tls::TlsFiles;

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

/// Who may connect how: trust on loopback (tests name the role in the URL), but the TLS-only
/// role is refused without TLS and the password role must give its password.
const PG_HBA: &str = "\
# Written by `cargo xtask services up`.
local    all  all                 trust
hostnossl all palisade_tls_only  127.0.0.1/32  reject
host     all  palisade_password  127.0.0.1/32  scram-sha-256
host     all  all                127.0.0.1/32  trust
host     all  all                ::1/128       trust
";

pub(super) fn start(dir: &ServiceDir, port: u16, tls: &TlsFiles) -> Result<()> {
    let bin = bin_dir().context("no PostgreSQL server under /usr/lib/postgresql")?;
    let data = dir.dir.join("data");
    // The server's own copies of the certificate and key: it refuses a key that another
    // user can read or that it does not own.
    let tls_dir = dir.dir.join("tls");
    fs::create_dir_all(&tls_dir)?;
    let (cert, key) = (tls_dir.join("server.crt"), tls_dir.join("server.key"));
    fs::copy(&tls.cert, &cert)?;
    fs::copy(&tls.key, &key)?;
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600))?;
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
    let hba = data.join("pg_hba.conf");
    fs::write(&hba, PG_HBA)?;
    if is_root() {
        let status = Command::new("chown")
            .arg("postgres:postgres")
            .arg(&hba)
            .status()?;
        if !status.success() {
            bail!("cannot hand {} to the postgres user", hba.display());
        }
    }
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off \
         -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
        dir.dir.display(),
        cert.display(),
        key.display()
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

/// The roles and tables `verify_privileges` is tested against, in a database of their own
/// (`palisade_privileges`), a database whose `pg_class` PUBLIC may not read
/// (`palisade_no_catalog`), and crud-api's database with its three logins: the owner that
/// creates the tables (`crud_api_owner`), the service's read-write login (`crud_api`) and
/// its read-only login (`crud_api_reader`), both granted by crud-api's schema; safe to run
/// on every `services up`.
const PROVISION: &str = r"
SELECT 'CREATE DATABASE palisade_privileges'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'palisade_privileges')\gexec
DO $$ DECLARE r text; BEGIN
  FOREACH r IN ARRAY ARRAY['palisade_ro', 'palisade_stray', 'palisade_super', 'palisade_owner',
      'palisade_writer', 'palisade_member', 'palisade_tls_only', 'palisade_password'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I LOGIN', r);
    END IF;
  END LOOP;
END $$;
ALTER ROLE palisade_super SUPERUSER;
ALTER ROLE palisade_writer NOLOGIN;
ALTER ROLE palisade_password PASSWORD 'palisade_password';
GRANT palisade_writer TO palisade_member;
\c palisade_privileges
CREATE TABLE IF NOT EXISTS accounts (id BIGINT PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (id BIGINT PRIMARY KEY, account_id BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS owned_notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL);
ALTER TABLE owned_notes OWNER TO palisade_owner;
GRANT SELECT ON accounts, orders TO palisade_ro, palisade_stray, palisade_member,
    palisade_tls_only, palisade_password;
GRANT INSERT ON accounts TO palisade_stray;
GRANT INSERT, UPDATE ON orders TO palisade_writer;
\c postgres
SELECT 'CREATE DATABASE palisade_no_catalog'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'palisade_no_catalog')\gexec
\c palisade_no_catalog
REVOKE SELECT ON pg_catalog.pg_class FROM PUBLIC;
\c postgres
DO $$ DECLARE r text; BEGIN
  FOREACH r IN ARRAY ARRAY['crud_api_owner', 'crud_api', 'crud_api_reader'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS', r);
    END IF;
  END LOOP;
END $$;
SELECT 'CREATE DATABASE crud_api OWNER crud_api_owner'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'crud_api')\gexec
";

/// Creates the roles and tables of [`PROVISION`].
pub(super) fn provision(dir: &ServiceDir, port: u16) -> Result<()> {
    let bin = bin_dir().context("no PostgreSQL server under /usr/lib/postgresql")?;
    let mut psql = pg_command(&bin.join("psql"));
    psql.arg("-h")
        .arg(&dir.dir)
        .args(["-p", &port.to_string(), "-U", "postgres", "-d", "postgres"])
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-f", "-"]);
    // From stdin, so the meta-commands (`\gexec`, `\c`) run.
    let mut child = psql
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("cannot run psql")?;
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().context("psql has no stdin")?;
        stdin.write_all(PROVISION.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "provisioning PostgreSQL failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
