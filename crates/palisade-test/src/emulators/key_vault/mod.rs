//! An emulator of Azure Key Vault's secrets API and of the Entra ID token endpoint a client
//! secret credential calls, served over TLS (the Azure SDK sends bearer tokens only over
//! HTTPS) on an injected clock.
//!
//! Clients reach it as `https://NAME.vault.azure.net:PORT` by resolving that name to
//! [`address`](KeyVaultEmulator::address) and trusting the [`TestCertificate`] it serves,
//! which is made for `*.vault.azure.net`; the Key Vault client's check that the challenge's
//! resource matches the vault's domain stays on.

mod api;
mod state;

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use palisade_clock::Clock;

use super::{Recorded, Served, TestCertificate};
pub use state::Attributes;
use state::State;

/// A running Key Vault emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct KeyVaultEmulator {
    state: Arc<Mutex<State>>,
    served: Served,
    certificate: TestCertificate,
}

/// The tenant the emulator's challenge names.
pub const TENANT: &str = "00000000-0000-0000-0000-0000000000aa";

impl KeyVaultEmulator {
    /// Starts an emulator with a fresh certificate for `*.vault.azure.net`, in the current
    /// Tokio runtime.
    ///
    /// # Errors
    /// When no port can be bound or the certificate cannot be made.
    pub async fn start(clock: Arc<dyn Clock>) -> io::Result<Self> {
        let certificate =
            TestCertificate::for_names(&["*.vault.azure.net", "login.emulated.test"])?;
        let state = Arc::new(Mutex::new(State::new(clock, TENANT)));
        let router = Router::new()
            .fallback(api::handle)
            .with_state(Arc::clone(&state));
        let served = Served::start(router, Some(&certificate)).await?;
        Ok(Self {
            state,
            served,
            certificate,
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `https://{name}.vault.azure.net:PORT`: the vault URL a client uses, once it resolves
    /// that host to [`address`](Self::address).
    #[must_use]
    pub fn vault_url(&self, name: &str) -> String {
        format!(
            "https://{name}.vault.azure.net:{}",
            self.served.address().port()
        )
    }

    /// `https://login.emulated.test:PORT`: the Entra ID authority host the emulator also
    /// serves (resolve it to [`address`](Self::address) as well).
    #[must_use]
    pub fn authority_url(&self) -> String {
        format!(
            "https://login.emulated.test:{}",
            self.served.address().port()
        )
    }

    /// The loopback address every emulated host name must resolve to.
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.served.address()
    }

    /// The certificate a client must trust.
    #[must_use]
    pub fn certificate(&self) -> &TestCertificate {
        &self.certificate
    }

    /// Accepts `token` as a bearer token for `lifetime`; `may_get` grants `secrets/get`.
    pub fn add_token(&self, token: &str, may_get: bool, lifetime: Duration) {
        self.state().add_token(token, may_get, lifetime);
    }

    /// Registers an Entra ID application whose client secret credential gets tokens.
    pub fn add_client(&self, tenant: &str, client_id: &str, client_secret: &str) {
        self.state().clients.insert(
            (tenant.to_owned(), client_id.to_owned()),
            client_secret.to_owned(),
        );
    }

    /// Sets a new version of `name` (as `PUT /secrets/{name}` would); its version id.
    #[allow(
        clippy::must_use_candidate,
        reason = "a test that sets up one version has no use for its id"
    )]
    pub fn set(&self, name: &str, value: &str, attributes: &Attributes) -> String {
        self.state().set(name, value, None, attributes).id
    }

    /// Enables or disables version `id` of `name` (as `PATCH` would); false when there is none.
    #[must_use = "false means there was no such version"]
    pub fn set_enabled(&self, name: &str, id: &str, enabled: bool) -> bool {
        let mut state = self.state();
        match state.version_mut(name, id) {
            Some(version) => {
                version.enabled = enabled;
                true
            }
            None => false,
        }
    }

    /// Makes every request fail with 503 (an outage) until called with `false`.
    pub fn fail(&self, failing: bool) {
        self.state().failing = failing;
    }

    /// Every request answered so far.
    #[must_use]
    pub fn requests(&self) -> Vec<Recorded> {
        self.served.requests()
    }

    /// How many `GET`s of secret `name` reached the emulator (any version, any answer).
    #[must_use]
    pub fn gets_of(&self, name: &str) -> usize {
        let prefix = format!("/secrets/{name}/");
        self.served.count(|r| {
            r.method == "GET"
                && (r.path == format!("/secrets/{name}") || r.path.starts_with(&prefix))
        })
    }
}
