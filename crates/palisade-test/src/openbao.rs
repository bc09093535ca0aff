//! OpenBao (Vault's HTTP API) for tests: the shared dev server `cargo xtask services up` runs,
//! and private ones a test starts for what it must not do to the shared server (seal it) or
//! what the shared one does not do (serve TLS with a CA of its own).

use std::ffi::OsStr;
use std::fmt;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::{Service, unique_name};

/// An OpenBao dev server: in memory, unsealed, KV v2 at `secret/`, a root token.
///
/// ```no_run
/// use palisade_test::OpenBao;
///
/// let shared = OpenBao::shared();
/// assert!(shared.url().starts_with("http://127.0.0.1:"));
/// let private = OpenBao::start_own(true);
/// assert!(private.url().starts_with("https://127.0.0.1:"));
/// assert!(private.ca_certificate().is_some());
/// ```
pub struct OpenBao {
    program: String,
    url: String,
    root_token: String,
    ca_certificate: Option<PathBuf>,
    own: Option<Own>,
}

/// A server this test started: stopped, and its directory removed, on drop.
struct Own {
    child: Child,
    dir: PathBuf,
    /// The unseal key the dev server prints after it starts.
    unseal_key: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl OpenBao {
    /// What the dev server prints (on stdout) once its setup is done: unsealed, root token
    /// made, KV v2 mounted at `secret/`.
    pub const STARTED: &str = "==> OpenBao server started!";

    /// The command that runs `program` (the `bao` binary) as an in-memory dev server on
    /// loopback `port` whose root token is `root_token` (given through the environment, not
    /// the command line), writing no token file to the home directory.
    #[must_use]
    pub fn dev_server_command(program: impl AsRef<OsStr>, port: u16, root_token: &str) -> Command {
        let mut command = Command::new(program);
        command
            .args([
                "server",
                "-dev",
                "-dev-no-store-token",
                "-dev-listen-address",
            ])
            .arg(format!("127.0.0.1:{port}"))
            .env("BAO_DEV_ROOT_TOKEN_ID", root_token)
            .env_remove("BAO_ADDR")
            .env_remove("VAULT_ADDR");
        command
    }

    /// The shared server of `cargo xtask services up`.
    ///
    /// # Panics
    /// When it is not running: the message says how to start it.
    #[must_use]
    #[allow(
        clippy::panic,
        reason = "a test kit fails the test that needs a missing service"
    )]
    pub fn shared() -> Self {
        let url = Service::Vault.url();
        let field = |key| Service::Vault.field(key).unwrap_or_else(|e| panic!("{e}"));
        Self {
            program: field("program"),
            root_token: field("token"),
            url,
            ca_certificate: None,
            own: None,
        }
    }

    /// A private dev server on a free loopback port: plain HTTP, or TLS with a CA and
    /// certificate the server makes for itself (`-dev-tls`; the CA is
    /// [`ca_certificate`](Self::ca_certificate)). Ready when this returns; stopped on drop.
    ///
    /// # Panics
    /// When the `bao` program the services file names cannot start (run
    /// `cargo xtask services up`) or exits before it is ready.
    #[must_use]
    #[allow(
        clippy::panic,
        reason = "a test kit fails the test whose server cannot start"
    )]
    pub fn start_own(tls: bool) -> Self {
        let program = Service::Vault
            .field("program")
            .unwrap_or_else(|e| panic!("{e}"));
        let dir = std::env::temp_dir().join(unique_name("openbao"));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {dir:?}: {e}"));
        let port = free_port();
        let root_token = unique_name("palisade-root");
        let mut command = Self::dev_server_command(&program, port, &root_token);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if tls {
            command.arg("-dev-tls").arg("-dev-tls-cert-dir").arg(&dir);
        }
        let mut child = command.spawn().unwrap_or_else(|e| {
            panic!("cannot start {program} (run `cargo xtask services up`): {e}")
        });
        let unseal_key = std::sync::Arc::new(std::sync::Mutex::new(None));
        let ready = child.stdout.take().is_some_and(|stdout| {
            let mut lines = BufReader::new(stdout).lines();
            let ready = lines
                .by_ref()
                .map_while(Result::ok)
                .any(|line| line.contains(Self::STARTED));
            // Keep reading what it prints later (a Go program dies on a closed stdout),
            // keeping the unseal key it prints.
            let key = std::sync::Arc::clone(&unseal_key);
            std::thread::spawn(move || {
                for line in lines.map_while(Result::ok) {
                    if let Some(value) = line.trim().strip_prefix("Unseal Key: ") {
                        *key.lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) =
                            Some(value.trim().to_owned());
                    }
                }
            });
            ready
        });
        let own = Own {
            child,
            dir,
            unseal_key,
        };
        assert!(ready, "{program} exited before it was ready");
        let scheme = if tls { "https" } else { "http" };
        Self {
            program,
            url: format!("{scheme}://127.0.0.1:{port}"),
            root_token,
            ca_certificate: tls.then(|| own.dir.join("vault-ca.pem")),
            own: Some(own),
        }
    }

    /// Unseals a private server sealed with `bao operator seal`, with the unseal key it printed
    /// when it started.
    ///
    /// # Panics
    /// On the shared server (its key is not ours to use), or when the key was not printed or
    /// the unseal fails.
    #[allow(clippy::panic, reason = "a test kit fails the test whose setup fails")]
    pub fn unseal(&self) {
        let Some(own) = &self.own else {
            panic!("only a private server (start_own) is unsealed by a test");
        };
        let key = own
            .unseal_key
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| panic!("the dev server printed no unseal key"));
        let _ = self.cli(&["operator", "unseal", &key]);
    }

    /// The server's address (`http://127.0.0.1:PORT`, or `https://` for a TLS one).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The root token.
    #[must_use]
    pub fn root_token(&self) -> &str {
        &self.root_token
    }

    /// Runs the `bao` command line against this server as its root (`bao kv put ...`, the
    /// operator's own client) and returns what it printed.
    ///
    /// # Panics
    /// When it cannot run or fails: the message holds its error output.
    #[must_use]
    #[allow(clippy::panic, reason = "a test kit fails the test whose setup fails")]
    pub fn cli(&self, args: &[&str]) -> String {
        let mut command = Command::new(&self.program);
        command
            .args(args)
            .env("BAO_ADDR", &self.url)
            .env("BAO_TOKEN", &self.root_token)
            .env_remove("BAO_NAMESPACE")
            .env_remove("VAULT_NAMESPACE");
        if let Some(ca) = &self.ca_certificate {
            command.env("BAO_CACERT", ca);
        }
        let output = command
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.program));
        assert!(
            output.status.success(),
            "bao {}: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The CA that signed a TLS server's certificate.
    #[must_use]
    pub fn ca_certificate(&self) -> Option<&Path> {
        self.ca_certificate.as_deref()
    }
}

impl fmt::Debug for OpenBao {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenBao")
            .field("url", &self.url)
            .field("own", &self.own.is_some())
            .finish_non_exhaustive()
    }
}

impl Drop for Own {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A loopback port nothing listens on right now.
#[allow(
    clippy::panic,
    reason = "a test kit fails the test that cannot get a port"
)]
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}
