//! What every handler shares: the database, the password hasher, the token issuer and
//! verifier, and the filter policy.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use bson::doc;
use mongodb::options::IndexOptions;
use mongodb::{Client, Database, IndexModel};
use palisade_auth::{
    MemoryCodes, OneTimeCodes, OwnAlgorithm, SigningKey, TokenIssuer, TokenVerifier,
};
use palisade_mongo::FilterPolicy;
use palisade_password::{Passwords, Policy};
use palisade_secrets::{Registry, SecretSource as _};

use crate::outbox::Outbox;
use crate::settings::{Settings, ephemeral_key};

/// The shared state.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    database: Database,
    passwords: Passwords,
    issuer: TokenIssuer,
    verifier: TokenVerifier,
    filters: FilterPolicy,
    reset_codes: OneTimeCodes<MemoryCodes>,
    outbox: Arc<dyn Outbox>,
}

/// Why the service cannot start: names the part, never a secret.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

fn failed(what: &str) -> impl FnOnce(&dyn std::fmt::Display) -> StartError + '_ {
    move |err| StartError(format!("{what}: {err}"))
}

/// How long a password-reset code stays good.
const RESET_CODE_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// The key version tokens name in `kid`: a second key can be added beside it for rotation.
const KEY_ID: &str = "k1";

impl AppState {
    /// Connects and prepares what the routes need (the users' unique email index).
    ///
    /// # Errors
    /// [`StartError`] naming what failed.
    pub async fn new(settings: &Settings, outbox: Arc<dyn Outbox>) -> Result<Self, StartError> {
        let secret = match &settings.jwt_secret {
            Some(reference) => Registry::standard()
                .fetch(reference)
                .await
                .map_err(|e| failed("JWT_SECRET")(&e))?,
            None => ephemeral_key().map_err(|e| failed("a random token key")(&e))?,
        };
        let key = SigningKey::new(KEY_ID, OwnAlgorithm::Hs256, &secret)
            .map_err(|e| failed("JWT_SECRET")(&e))?;
        let issuer = TokenIssuer::new(key.clone()).audience("crud-api");
        let verifier = TokenVerifier::new([key.verifying_key()]).audience("crud-api");
        let client = Client::with_uri_str(&settings.mongo_url)
            .await
            .map_err(|e| failed("MONGO_URL")(&e))?;
        let database = client.database(&settings.mongo_db);
        let unique = IndexOptions::builder().unique(true).build();
        database
            .collection::<bson::Document>("users")
            .create_index(
                IndexModel::builder()
                    .keys(doc! {"email": 1})
                    .options(unique)
                    .build(),
            )
            .await
            .map_err(|e| failed("the users' email index")(&e))?;
        let passwords =
            Passwords::new(Policy::default()).map_err(|e| failed("the password policy")(&e))?;
        let filters = FilterPolicy::default()
            .object_id_field("*_id")
            .uuid_field("*_uuid");
        let reset_codes = OneTimeCodes::new(MemoryCodes::default())
            .lifetime(RESET_CODE_LIFETIME)
            .map_err(|e| failed("the reset codes")(&e))?;
        Ok(Self {
            inner: Arc::new(Inner {
                database,
                passwords,
                issuer,
                verifier,
                filters,
                reset_codes,
                outbox,
            }),
        })
    }

    pub(crate) fn database(&self) -> &Database {
        &self.inner.database
    }

    pub(crate) fn passwords(&self) -> &Passwords {
        &self.inner.passwords
    }

    pub(crate) fn issuer(&self) -> &TokenIssuer {
        &self.inner.issuer
    }

    pub(crate) fn filters(&self) -> &FilterPolicy {
        &self.inner.filters
    }

    pub(crate) fn reset_codes(&self) -> &OneTimeCodes<MemoryCodes> {
        &self.inner.reset_codes
    }

    pub(crate) fn outbox(&self) -> &dyn Outbox {
        &*self.inner.outbox
    }
}

impl FromRef<AppState> for TokenVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.inner.verifier.clone()
    }
}
