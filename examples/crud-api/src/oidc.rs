//! Sign-in through an OpenID provider, as a confidential client: the authorization-code
//! flow with PKCE (S256), a one-time `state` that carries the PKCE verifier and the nonce
//! (kept in Redis, spent by the callback), the ID token verified with `palisade-auth`'s
//! `JwksVerifier` (issuer, audience, signature, expiry) and its nonce checked, then a
//! one-time session code for the front end. Accounts are linked by the provider's
//! `(issuer, sub)`, never by email alone: an account with the same email that was never
//! linked is not taken over.

use std::time::Duration;

use palisade_auth::{JwksVerifier, OneTimeCode, OneTimeCodes, PkceChallenge, RedisCodes};
use palisade_secrets::{Registry, SecretSource as _, SecretValue};
use redis::aio::ConnectionManager;
use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::settings::OidcSettings;

/// How long a sign-in at the provider may take.
const STATE_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// How long the front end has to exchange its session code.
const SESSION_CODE_LIFETIME: Duration = Duration::from_secs(60);
/// How long one call to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// What the `state` carries from the login to the callback.
#[derive(Serialize, Deserialize)]
struct Pending {
    verifier: String,
    nonce: String,
    /// The front end's own PKCE challenge, which its session code is then bound to.
    front_end_challenge: Option<String>,
}

/// The claims of an ID token this flow reads.
#[derive(Deserialize)]
struct IdClaims {
    nonce: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
}

/// Who signed in at the provider.
pub(crate) struct Identity {
    pub(crate) issuer: String,
    pub(crate) subject: String,
    pub(crate) email: Option<String>,
    /// The front end's PKCE challenge from the login, if it sent one.
    pub(crate) front_end_challenge: Option<PkceChallenge>,
}

/// Why a sign-in through the provider failed; never carries a code, token or secret.
#[derive(Debug)]
pub(crate) enum OidcError {
    /// The state is unknown, spent or expired, or the callback is malformed (`400`).
    Refused(&'static str),
    /// The provider or the code store cannot be reached (`503`).
    Unavailable,
}

/// The configured provider.
pub(crate) struct Oidc {
    http: reqwest::Client,
    issuer: String,
    client_id: String,
    client_secret: SecretValue,
    authorization: Url,
    token: Url,
    redirect: String,
    frontend: Url,
    ids: JwksVerifier,
    states: OneTimeCodes<RedisCodes>,
    sessions: OneTimeCodes<RedisCodes>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A URL the service calls or sends browsers to: `https`, or `http` on loopback.
fn endpoint(name: &str, text: &str) -> Result<Url, String> {
    palisade_secrets::check_endpoint(text).map_err(|refused| format!("{name}: {refused}"))
}

fn random_text() -> Result<String, String> {
    use base64::Engine as _;
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| "no randomness".to_owned())?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

impl Oidc {
    /// Reads the provider's discovery document and prepares the flow.
    ///
    /// # Errors
    /// A message naming the setting that failed, never the secret.
    pub(crate) async fn connect(
        settings: &OidcSettings,
        registry: &Registry,
        redis: &ConnectionManager,
        prefix: &str,
    ) -> Result<Self, String> {
        endpoint("OIDC_ISSUER", &settings.issuer)?;
        endpoint("OIDC_REDIRECT_URL", &settings.redirect_url)?;
        let frontend = endpoint("FRONTEND_URL", &settings.frontend_url)?;
        let client_secret = registry
            .fetch(&settings.client_secret)
            .await
            .map_err(|e| format!("OIDC_CLIENT_SECRET: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(PROVIDER_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| "OIDC_ISSUER: no HTTP client".to_owned())?;
        let discovery: serde_json::Value = http
            .get(format!(
                "{}/.well-known/openid-configuration",
                settings.issuer.trim_end_matches('/')
            ))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|_| "OIDC_ISSUER: the discovery document cannot be read".to_owned())?
            .json()
            .await
            .map_err(|_| "OIDC_ISSUER: the discovery document is not JSON".to_owned())?;
        let field = |name: &str| {
            discovery
                .get(name)
                .and_then(serde_json::Value::as_str)
                .ok_or_else(|| format!("OIDC_ISSUER: the discovery document has no {name}"))
        };
        let authorization = endpoint("authorization_endpoint", field("authorization_endpoint")?)?;
        let token = endpoint("token_endpoint", field("token_endpoint")?)?;
        let ids = JwksVerifier::discover(&settings.issuer, Some(http.clone()))
            .await
            .and_then(|verifier| verifier.audience(&settings.client_id))
            .map_err(|e| format!("OIDC_ISSUER: {e}"))?;
        let codes = |name: &str, lifetime| {
            OneTimeCodes::new(RedisCodes::new(redis.clone(), &format!("{prefix}:{name}:")))
                .lifetime(lifetime)
                .map_err(|e| format!("the {name} codes: {e}"))
        };
        Ok(Self {
            http,
            issuer: settings.issuer.clone(),
            client_id: settings.client_id.clone(),
            client_secret,
            authorization,
            token,
            redirect: settings.redirect_url.clone(),
            frontend,
            ids,
            states: codes("oidc-state", STATE_LIFETIME)?,
            sessions: codes("session", SESSION_CODE_LIFETIME)?,
        })
    }

    /// The same verifier, reporting refused ID tokens to `audit`.
    pub(crate) fn with_audit(mut self, audit: palisade_audit::Audit) -> Self {
        self.ids = self.ids.with_audit(audit.clone());
        self.states = self.states.with_audit(audit.clone());
        self.sessions = self.sessions.with_audit(audit);
        self
    }

    /// The provider's authorization URL for a new sign-in; `login_hint` is passed on,
    /// `front_end_challenge` (the front end's own PKCE challenge) binds the session code.
    pub(crate) async fn login_url(
        &self,
        login_hint: Option<&str>,
        front_end_challenge: Option<PkceChallenge>,
    ) -> Result<Url, OidcError> {
        let verifier = random_text().map_err(|_| OidcError::Unavailable)?;
        let nonce = random_text().map_err(|_| OidcError::Unavailable)?;
        let challenge = PkceChallenge::of_verifier(&verifier).encoded();
        let pending = Pending {
            verifier,
            nonce,
            front_end_challenge: front_end_challenge.map(|c| c.encoded()),
        };
        let payload = serde_json::to_vec(&pending).map_err(|_| OidcError::Unavailable)?;
        let state = self
            .states
            .issue(&payload, None)
            .await
            .map_err(|_| OidcError::Unavailable)?;
        let mut url = self.authorization.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", &self.client_id)
                .append_pair("response_type", "code")
                .append_pair("scope", "openid email")
                .append_pair("redirect_uri", &self.redirect)
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256")
                .append_pair("state", state.expose())
                .append_pair("nonce", &pending.nonce);
            if let Some(hint) = login_hint {
                query.append_pair("login_hint", hint);
            }
        }
        Ok(url)
    }

    /// The callback: spends `state`, exchanges `code`, verifies the ID token and its nonce.
    pub(crate) async fn callback(&self, code: &str, state: &str) -> Result<Identity, OidcError> {
        let pending = self.states.redeem(state, None).await.map_err(|e| match e {
            palisade_auth::RedeemError::Refused => OidcError::Refused("state"),
            _ => OidcError::Unavailable,
        })?;
        let pending: Pending = serde_json::from_slice(pending.expose_bytes())
            .map_err(|_| OidcError::Refused("state"))?;
        let secret = self
            .client_secret
            .expose_str()
            .ok_or(OidcError::Unavailable)?;
        let response = self
            .http
            .post(self.token.clone())
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.redirect),
                ("code_verifier", &pending.verifier),
                ("client_id", &self.client_id),
                ("client_secret", secret),
            ])
            .send()
            .await
            .map_err(|_| OidcError::Unavailable)?;
        if response.status().is_client_error() {
            // An unknown, spent or foreign code.
            return Err(OidcError::Refused("code"));
        }
        let tokens: serde_json::Value = response
            .error_for_status()
            .map_err(|_| OidcError::Unavailable)?
            .json()
            .await
            .map_err(|_| OidcError::Unavailable)?;
        let id_token = tokens
            .get("id_token")
            .and_then(serde_json::Value::as_str)
            .ok_or(OidcError::Refused("id_token"))?;
        let verified = self
            .ids
            .verify::<IdClaims>(id_token)
            .await
            .map_err(|_| OidcError::Refused("id_token"))?;
        let nonce_matches = verified.claims.nonce.as_deref().is_some_and(|nonce| {
            nonce.len() == pending.nonce.len()
                && nonce
                    .bytes()
                    .zip(pending.nonce.bytes())
                    .fold(0_u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        });
        if !nonce_matches {
            return Err(OidcError::Refused("nonce"));
        }
        let subject = verified
            .registered
            .subject
            .ok_or(OidcError::Refused("id_token"))?;
        Ok(Identity {
            issuer: self.issuer.clone(),
            subject,
            // An address the provider has not verified is not the user's to claim.
            email: verified
                .claims
                .email
                .filter(|_| verified.claims.email_verified == Some(true)),
            front_end_challenge: pending
                .front_end_challenge
                .and_then(|c| PkceChallenge::s256(&c).ok()),
        })
    }

    /// A session code for `user`, and the front-end URL that carries it.
    pub(crate) async fn session_redirect(
        &self,
        user: &str,
        challenge: Option<PkceChallenge>,
    ) -> Result<Url, OidcError> {
        let code: OneTimeCode = self
            .sessions
            .issue(user.as_bytes(), challenge)
            .await
            .map_err(|_| OidcError::Unavailable)?;
        let mut url = self.frontend.clone();
        url.query_pairs_mut()
            .append_pair("session_code", code.expose());
        Ok(url)
    }

    /// The user a session code was issued for; the code is spent.
    pub(crate) async fn redeem_session(
        &self,
        code: &str,
        verifier: Option<&str>,
    ) -> Result<String, OidcError> {
        let user = self
            .sessions
            .redeem(code, verifier)
            .await
            .map_err(|e| match e {
                palisade_auth::RedeemError::Refused => OidcError::Refused("session_code"),
                _ => OidcError::Unavailable,
            })?;
        user.expose_str()
            .map(str::to_owned)
            .ok_or(OidcError::Refused("session_code"))
    }
}
