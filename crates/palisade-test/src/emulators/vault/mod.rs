//! An emulator of HashiCorp Vault's HTTP API: KV v2 secrets, token lookup and renewal,
//! namespaces and path-based permissions, on an injected clock.
//!
//! It follows the documented API (see the links in `api.rs` and the conformance tests in
//! `tests/vault_emulator.rs`), so a client tested against it is tested against the contract.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! use std::sync::Arc;
//! use palisade_test::FakeClock;
//! use palisade_test::emulators::vault::{TokenSpec, VaultEmulator};
//!
//! let vault = VaultEmulator::start(Arc::new(FakeClock::new())).await?;
//! vault.enable_kv2("", "secret");
//! vault.add_token("s.test", TokenSpec::root());
//! let version = vault.put("", "secret", "db", serde_json::json!({ "password": "pw" }));
//! assert_eq!(version, Some(1));
//! assert!(vault.url().starts_with("http://127.0.0.1:"));
//! # Ok::<(), std::io::Error>(())
//! # })?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod api;
mod state;

use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use palisade_clock::Clock;
use serde_json::Value;

use super::{Recorded, Served, TestCertificate};
pub use state::TokenSpec;
use state::{State, normalize_namespace};

/// A running Vault emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct VaultEmulator {
    state: Arc<Mutex<State>>,
    served: Served,
}

impl VaultEmulator {
    /// Starts an emulator over plain HTTP on a loopback port, in the current Tokio runtime.
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn start(clock: Arc<dyn Clock>) -> io::Result<Self> {
        Self::start_with(clock, None).await
    }

    /// Starts an emulator that serves TLS with `certificate`.
    ///
    /// # Errors
    /// When no port can be bound or the certificate cannot be used.
    pub async fn start_tls(
        clock: Arc<dyn Clock>,
        certificate: &TestCertificate,
    ) -> io::Result<Self> {
        Self::start_with(clock, Some(certificate)).await
    }

    async fn start_with(
        clock: Arc<dyn Clock>,
        certificate: Option<&TestCertificate>,
    ) -> io::Result<Self> {
        let state = Arc::new(Mutex::new(State::new(clock)));
        let router = Router::new()
            .fallback(api::handle)
            .with_state(Arc::clone(&state));
        let served = Served::start(router, certificate).await?;
        Ok(Self { state, served })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The address to give a client (`VAULT_ADDR`).
    #[must_use]
    pub fn url(&self) -> String {
        self.served.url()
    }

    /// Mounts a KV v2 engine at `mount` in `namespace` (`""` for the root namespace).
    pub fn enable_kv2(&self, namespace: &str, mount: &str) {
        self.state()
            .mounts
            .entry((normalize_namespace(namespace), mount.to_owned()))
            .or_default();
    }

    /// Issues `token` with `spec`; its TTL starts now on the emulator's clock.
    pub fn add_token(&self, token: &str, spec: TokenSpec) {
        self.state().add_token(token, spec);
    }

    /// Revokes `token`: from now on it gets 403.
    pub fn revoke_token(&self, token: &str) {
        self.state().tokens.remove(token);
    }

    /// Seconds left on `token`'s TTL, or `None` when it is gone or expired.
    #[must_use]
    pub fn token_ttl(&self, token: &str) -> Option<u64> {
        let mut state = self.state();
        let now = state.now();
        state.live_token(token).map(|t| t.ttl_left(now))
    }

    /// Writes a new version of `MOUNT/PATH` (as `POST /v1/MOUNT/data/PATH` would) and returns
    /// its number, or `None` when the mount does not exist; `data` must be a JSON object.
    #[must_use = "None means the mount does not exist"]
    pub fn put(&self, namespace: &str, mount: &str, path: &str, data: Value) -> Option<u64> {
        let Value::Object(data) = data else {
            return None;
        };
        self.state().write(namespace, mount, path, data)
    }

    /// Seals the emulated Vault: every request gets 503 `{"errors": ["Vault is sealed"]}` until
    /// [`unseal`](Self::unseal), as a real Vault does while sealed or in maintenance.
    pub fn seal(&self) {
        self.state().sealed = true;
    }

    /// Unseals it again.
    pub fn unseal(&self) {
        self.state().sealed = false;
    }

    /// Every request answered so far.
    #[must_use]
    pub fn requests(&self) -> Vec<Recorded> {
        self.served.requests()
    }

    /// How many reads of `MOUNT/PATH`'s data reached the emulator (any version, any answer).
    #[must_use]
    pub fn reads_of(&self, mount: &str, path: &str) -> usize {
        let target = format!("/v1/{mount}/data/{path}");
        self.served.count(|r| r.method == "GET" && r.path == target)
    }

    /// How many requests went to `path` (such as `/v1/auth/token/renew-self`).
    #[must_use]
    pub fn calls_to(&self, path: &str) -> usize {
        self.served.count(|r| r.path == path)
    }
}
