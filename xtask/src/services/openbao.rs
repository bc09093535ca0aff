//! OpenBao (Vault's HTTP API) as a test service: `bao server -dev` from the project venv,
//! in memory, on a loopback port of ours, with a root token made once per service directory.

use std::fs;
use std::io::Read;

use anyhow::{Context, Result};
use palisade_test::OpenBao;

use super::process::ServiceDir;
use super::python::Venv;

/// What the server's command line holds (the venv's `bao` wrapper replaces itself with the
/// bundled binary, whose command line is `.../bin/bao server -dev ...`).
pub(super) const PROGRAM: &str = "bao";

/// Starts the dev server: KV v2 mounted at `secret/`, the root token from [`root_token`], no
/// token file written to the home directory (the CLI's own `~/.vault-token` lookup stays
/// untouched).
pub(super) fn start(venv: &Venv, dir: &ServiceDir, port: u16) -> Result<()> {
    let token = root_token(dir)?;
    let cmd = OpenBao::dev_server_command(venv.bin("bao"), port, &token);
    // A fresh log: the readiness line below must be this run's.
    let _ = fs::remove_file(dir.log_file());
    dir.spawn(cmd)?;
    dir.wait_ready("vault", port)?;
    // The listener accepts before the dev setup (unseal, root token, `secret/` mount) is done.
    dir.wait_for_log_line("vault", OpenBao::STARTED)
}

/// The dev server's root token: made from 16 random bytes the first time, then kept in the
/// service directory so a restarted server and the services file agree.
pub(super) fn root_token(dir: &ServiceDir) -> Result<String> {
    let path = dir.dir.join("root-token");
    if let Ok(token) = fs::read_to_string(&path) {
        return Ok(token.trim().to_owned());
    }
    let mut bytes = [0_u8; 16];
    fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .context("cannot read /dev/urandom")?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    // `s.` and `hvs.` are prefixes the server keeps for tokens it makes itself.
    let token = format!("palisade-{token}");
    fs::create_dir_all(&dir.dir)?;
    fs::write(&path, &token).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(token)
}
