//! A JWKS server of our own over TLS: OpenID discovery and a key set that tests change
//! (rotation, an outage, Entra-shaped keys with their `issuer` property), counting every
//! request, for the faults a real provider cannot be made to show on demand.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::{Served, TestCertificate};

/// The path of the key set.
pub const KEYS_PATH: &str = "/keys";

#[derive(Debug)]
struct JwksState {
    keys: Vec<Value>,
    issuer: String,
    base: String,
    failing: bool,
}

/// A running JWKS server. Dropping it stops the server.
#[derive(Debug)]
pub struct JwksServer {
    state: Arc<Mutex<JwksState>>,
    served: Served,
    certificate: TestCertificate,
}

impl JwksServer {
    /// Starts a server for `localhost` with a fresh certificate, serving an empty key set;
    /// its discovery document names `issuer` (with `{base}` replaced by the server's URL).
    ///
    /// # Errors
    /// When no port can be bound or the certificate cannot be made.
    pub async fn start(issuer: &str) -> io::Result<Self> {
        let certificate = TestCertificate::for_localhost()?;
        let state = Arc::new(Mutex::new(JwksState {
            keys: Vec::new(),
            issuer: issuer.to_owned(),
            base: String::new(),
            failing: false,
        }));
        let router = Router::new()
            .route(KEYS_PATH, get(keys))
            .fallback(discovery)
            .with_state(Arc::clone(&state));
        let served = Served::start(router, Some(&certificate)).await?;
        let base = served.url();
        {
            let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
            state.issuer = state.issuer.replace("{base}", &base);
            state.base = base;
        }
        Ok(Self {
            state,
            served,
            certificate,
        })
    }

    fn state(&self) -> MutexGuard<'_, JwksState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `https://localhost:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        self.served.url()
    }

    /// The key set's URL.
    #[must_use]
    pub fn keys_url(&self) -> String {
        format!("{}{KEYS_PATH}", self.served.url())
    }

    /// The issuer the discovery document names.
    #[must_use]
    pub fn issuer(&self) -> String {
        self.state().issuer.clone()
    }

    /// The certificate a client must trust.
    #[must_use]
    pub fn certificate(&self) -> &TestCertificate {
        &self.certificate
    }

    /// Serves these JWKs from now on (a rotation).
    pub fn set_keys(&self, keys: Vec<Value>) {
        self.state().keys = keys;
    }

    /// Answers 503 to everything until called with `false`.
    pub fn fail(&self, failing: bool) {
        self.state().failing = failing;
    }

    /// How many times the key set was fetched (any answer).
    #[must_use]
    pub fn key_fetches(&self) -> usize {
        self.served.count(|request| request.path == KEYS_PATH)
    }
}

/// The discovery document, at `/.well-known/openid-configuration` under any issuer path.
async fn discovery(State(state): State<Arc<Mutex<JwksState>>>, uri: Uri) -> Response {
    let state = state.lock().unwrap_or_else(PoisonError::into_inner);
    let wanted = format!("{}/.well-known/openid-configuration", state.issuer);
    if !wanted.ends_with(uri.path()) || !uri.path().ends_with("/.well-known/openid-configuration") {
        return StatusCode::NOT_FOUND.into_response();
    }
    if state.failing {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    axum::Json(json!({
        "issuer": state.issuer,
        "jwks_uri": format!("{}{KEYS_PATH}", state.base),
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
    }))
    .into_response()
}

async fn keys(State(state): State<Arc<Mutex<JwksState>>>) -> Response {
    let state = state.lock().unwrap_or_else(PoisonError::into_inner);
    if state.failing {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    axum::Json(json!({"keys": state.keys})).into_response()
}
