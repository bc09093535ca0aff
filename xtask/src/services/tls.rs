//! The test CA and the database servers' certificate, made with `openssl` on the first
//! `services up` and kept under `target/services/tls/`: the CA signs one server certificate
//! for `localhost` only, so a client that verifies the host name connects to `localhost` and
//! refuses `127.0.0.1`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Where the test CA and the server's certificate and key are.
#[derive(Debug, Clone)]
pub(super) struct TlsFiles {
    /// The test CA's certificate, which clients trust.
    pub(super) ca: PathBuf,
    /// The server certificate (`CN=localhost`, `subjectAltName=DNS:localhost`).
    pub(super) cert: PathBuf,
    /// The server certificate's private key.
    pub(super) key: PathBuf,
}

/// Makes the CA and the server certificate unless they exist.
pub(super) fn ensure(services: &Path) -> Result<TlsFiles> {
    let dir = services.join("tls");
    let files = TlsFiles {
        ca: dir.join("ca.crt"),
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
    };
    if files.ca.exists() && files.cert.exists() && files.key.exists() {
        return Ok(files);
    }
    fs::create_dir_all(&dir)?;
    let ca_key = dir.join("ca.key");
    let csr = dir.join("server.csr");
    let extensions = dir.join("server.ext");
    fs::write(
        &extensions,
        "subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )?;
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(
        &dir,
        &[
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.crt", "-days", "3650"],
            &["-subj", "/CN=Palisade test CA"],
            &["-addext", "basicConstraints=critical,CA:TRUE"],
            &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ]
        .concat(),
    )?;
    openssl(
        &dir,
        &[
            &["req"][..],
            &ec,
            &["-keyout", "server.key", "-out", "server.csr"],
            &["-subj", "/CN=localhost"],
        ]
        .concat(),
    )?;
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "3650",
            "-extfile",
            "server.ext",
        ],
    )?;
    let _ = fs::remove_file(csr);
    let _ = fs::remove_file(ca_key);
    Ok(files)
}

fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .context("cannot run openssl")?;
    if !out.status.success() {
        bail!(
            "openssl {} failed: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
