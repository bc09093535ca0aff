//! `JwksVerifier`: tokens of a third-party issuer, verified against its published keys,
//! fetched over HTTPS and kept fresh without hammering the issuer.

mod issuers;
mod keyset;

use std::fmt;
#[cfg(feature = "axum")]
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use palisade_clock::Clock;
use serde::de::DeserializeOwned;

use self::issuers::{Issuers, TENANT_PLACEHOLDER};
use self::keyset::{KeySet, MAX_JWKS_BYTES};
use crate::token::rules::Rules;
use crate::token::verifier::{Compact, verify_with};
use crate::token::{TokenRefused, Verified, VerifierConfigInvalid};

/// What a JWKS verifier has done, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JwksStats {
    /// Key set fetches attempted.
    pub fetches: u64,
    /// Fetches that failed (outage, error status, not a key set).
    pub failed_fetches: u64,
    /// Tokens verified with keys older than their lifetime because the issuer was down.
    pub stale_served: u64,
}

#[derive(Default)]
struct Counters {
    fetches: AtomicU64,
    failed: AtomicU64,
    stale: AtomicU64,
}

struct Inner {
    jwks_url: url::Url,
    /// The URL as logs and `Debug` show it: no user information, no query.
    jwks_shown: String,
    client: reqwest::Client,
    rules: Rules,
    issuers: Issuers,
    keys: ArcSwap<KeySet>,
    fetch_lock: tokio::sync::Mutex<()>,
    /// When an unknown `kid` last caused a fetch (monotonic nanoseconds, 0 never).
    last_unknown_fetch: AtomicU64,
    /// When a fetch last failed (monotonic nanoseconds, 0 never): no fetch for a cooldown.
    last_failure: AtomicU64,
    /// Fetch attempts finished: a caller that waited for another's fetch does not repeat it.
    attempts: AtomicU64,
    refreshing: AtomicBool,
    ttl: Duration,
    refresh_every: Duration,
    cooldown: Duration,
    stale_limit: Duration,
    counters: Counters,
}

/// Verifies tokens of an issuer that publishes its keys as a JWKS (an OpenID provider,
/// Microsoft Entra ID): keys fetched over HTTPS and cached by `kid` for 24 hours, refreshed in
/// the background every hour (Microsoft's key rollover guidance), fetched again for an unknown
/// `kid` at most once per cooldown (30 s: a storm of random `kid`s costs the issuer one fetch
/// per window), one fetch at a time (single flight). While the issuer is down, keys past their
/// lifetime are still used up to a bound (7 days by default; counted in
/// [`stats`](Self::stats)), then tokens are refused.
///
/// Tokens are checked as [`TokenVerifier`](crate::TokenVerifier) checks its own: size first,
/// the key's one algorithm, signature, `exp`, `nbf`, `iat`, audience; the issuer must be an
/// accepted one, and a key that declares its `issuer` (Entra's do) only verifies that
/// issuer's tokens. An audience and an issuer (or issuer template) must be configured: a
/// verifier without them refuses every token
/// ([`VerifierIncomplete`](TokenRefused::VerifierIncomplete)), since a third party's keys sign
/// tokens for every application it serves. A failed fetch is not retried for a cooldown
/// (30 s), and no request waits for more than one fetch.
#[derive(Clone)]
pub struct JwksVerifier {
    inner: Arc<Inner>,
    events: crate::events::Events,
}

/// Microsoft's public key set for every tenant.
pub const ENTRA_COMMON_KEYS: &str = "https://login.microsoftonline.com/common/discovery/v2.0/keys";

impl JwksVerifier {
    /// Verifies with the keys at `jwks_url` (https).
    ///
    /// # Errors
    /// [`VerifierConfigInvalid`] for a URL that is not https (http only on loopback).
    pub fn new(jwks_url: &str) -> Result<Self, VerifierConfigInvalid> {
        let jwks_url = checked_url(jwks_url)?;
        let client = default_client()?;
        Ok(Self::build(jwks_url, client, Issuers::default()))
    }

    /// Microsoft Entra ID, any tenant: v2 (`https://login.microsoftonline.com/{tid}/v2.0`)
    /// and v1 (`https://sts.windows.net/{tid}/`) issuers, the token's `tid` a GUID in its
    /// place; narrow it with [`tenants`](Self::tenants).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn entra_multi_tenant() -> Result<Self, VerifierConfigInvalid> {
        Self::new(ENTRA_COMMON_KEYS)?
            .issuer_template("https://login.microsoftonline.com/{tenantid}/v2.0")?
            .issuer_template("https://sts.windows.net/{tenantid}/")
    }

    /// OpenID discovery: reads `{issuer}/.well-known/openid-configuration`, whose `issuer`
    /// must be `issuer` exactly (OpenID Connect Discovery §4.3), and verifies with its
    /// `jwks_uri`, accepting that issuer.
    ///
    /// # Errors
    /// [`VerifierConfigInvalid`] when the document cannot be read or does not match.
    pub async fn discover(
        issuer: &str,
        client: Option<reqwest::Client>,
    ) -> Result<Self, VerifierConfigInvalid> {
        let client = match client {
            Some(client) => client,
            None => default_client()?,
        };
        let url = checked_url(&format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        ))?;
        let document: serde_json::Value = client
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|_| VerifierConfigInvalid("the discovery document cannot be read"))?
            .json()
            .await
            .map_err(|_| VerifierConfigInvalid("the discovery document is not JSON"))?;
        if document.get("issuer").and_then(serde_json::Value::as_str) != Some(issuer) {
            return Err(VerifierConfigInvalid(
                "the discovery document names another issuer",
            ));
        }
        let jwks_uri = document
            .get("jwks_uri")
            .and_then(serde_json::Value::as_str)
            .ok_or(VerifierConfigInvalid(
                "the discovery document has no jwks_uri",
            ))?;
        let mut issuers = Issuers::default();
        issuers.exact.push(issuer.to_owned());
        Ok(Self::build(checked_url(jwks_uri)?, client, issuers))
    }

    fn build(jwks_url: url::Url, client: reqwest::Client, issuers: Issuers) -> Self {
        Self {
            events: crate::events::Events::default(),
            inner: Arc::new(Inner {
                jwks_shown: shown(&jwks_url),
                jwks_url,
                client,
                rules: Rules::default(),
                issuers,
                keys: ArcSwap::from_pointee(KeySet::default()),
                fetch_lock: tokio::sync::Mutex::new(()),
                last_unknown_fetch: AtomicU64::new(0),
                last_failure: AtomicU64::new(0),
                attempts: AtomicU64::new(0),
                refreshing: AtomicBool::new(false),
                ttl: Duration::from_secs(24 * 3600),
                refresh_every: Duration::from_secs(3600),
                cooldown: Duration::from_secs(30),
                stale_limit: Duration::from_secs(7 * 24 * 3600),
                counters: Counters::default(),
            }),
        }
    }

    /// Changes settings before the verifier is shared.
    fn configure(
        mut self,
        change: impl FnOnce(&mut Inner) -> Result<(), VerifierConfigInvalid>,
    ) -> Result<Self, VerifierConfigInvalid> {
        let inner = Arc::get_mut(&mut self.inner).ok_or(VerifierConfigInvalid(
            "configure a JWKS verifier before cloning it",
        ))?;
        change(inner)?;
        Ok(self)
    }

    /// Accept tokens from this issuer (call again for several).
    ///
    /// # Errors
    /// [`VerifierConfigInvalid`] once the verifier is shared.
    pub fn issuer(self, issuer: &str) -> Result<Self, VerifierConfigInvalid> {
        self.configure(|inner| {
            inner.issuers.exact.push(issuer.to_owned());
            Ok(())
        })
    }

    /// Accept tokens from issuers of this form, `{tenantid}` standing for the token's `tid`
    /// (which must be a GUID).
    ///
    /// # Errors
    /// [`VerifierConfigInvalid`] when the template has no `{tenantid}`.
    pub fn issuer_template(self, template: &str) -> Result<Self, VerifierConfigInvalid> {
        if !template.contains(TENANT_PLACEHOLDER) {
            return Err(VerifierConfigInvalid("an issuer template holds {tenantid}"));
        }
        self.configure(|inner| {
            inner.issuers.templates.push(template.to_owned());
            Ok(())
        })
    }

    /// Accept tokens of these tenants only (for issuer templates).
    ///
    /// # Errors
    /// [`VerifierConfigInvalid`] for a tenant id that is not a GUID.
    pub fn tenants<'a>(
        self,
        tenants: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, VerifierConfigInvalid> {
        let tenants: Vec<String> = tenants.into_iter().map(str::to_owned).collect();
        if !tenants.iter().all(|tenant| issuers::is_guid(tenant)) {
            return Err(VerifierConfigInvalid("a tenant id is a GUID"));
        }
        self.configure(|inner| {
            inner.issuers.tenants = tenants;
            Ok(())
        })
    }

    /// Accept tokens for this audience (`aud` then required; call again for several).
    ///
    /// # Errors
    /// [`VerifierConfigInvalid`] once the verifier is shared.
    pub fn audience(self, audience: &str) -> Result<Self, VerifierConfigInvalid> {
        self.configure(|inner| {
            inner.rules.accept_audience(audience);
            Ok(())
        })
    }

    /// The allowance for clock differences (default 30 s, at most 5 minutes).
    ///
    /// # Errors
    /// [`VerifierConfigInvalid`] above 5 minutes.
    pub fn leeway(self, leeway: Duration) -> Result<Self, VerifierConfigInvalid> {
        self.configure(|inner| inner.rules.set_leeway(leeway))
    }

    /// Key lifetime, background refresh period, unknown-`kid` cooldown and the bound on
    /// stale keys during an outage (defaults 24 h, 1 h, 30 s, 7 days).
    ///
    /// # Errors
    /// [`VerifierConfigInvalid`] when the cooldown is under 1 s or the periods are out of
    /// order (refresh ≤ lifetime ≤ stale bound).
    pub fn timings(
        self,
        ttl: Duration,
        refresh_every: Duration,
        cooldown: Duration,
        stale_limit: Duration,
    ) -> Result<Self, VerifierConfigInvalid> {
        if cooldown < Duration::from_secs(1) || refresh_every > ttl || ttl > stale_limit {
            return Err(VerifierConfigInvalid(
                "cooldown ≥ 1 s and refresh ≤ lifetime ≤ stale bound",
            ));
        }
        self.configure(|inner| {
            (
                inner.ttl,
                inner.refresh_every,
                inner.cooldown,
                inner.stale_limit,
            ) = (ttl, refresh_every, cooldown, stale_limit);
            Ok(())
        })
    }

    /// Fetch with this HTTP client (a private CA, a proxy); redirects should stay off.
    ///
    /// # Errors
    /// [`VerifierConfigInvalid`] once the verifier is shared.
    pub fn http_client(self, client: reqwest::Client) -> Result<Self, VerifierConfigInvalid> {
        self.configure(|inner| {
            inner.client = client;
            Ok(())
        })
    }

    /// Read the time from `clock` (a test's fake clock).
    ///
    /// # Errors
    /// [`VerifierConfigInvalid`] once the verifier is shared.
    pub fn clock(self, clock: Arc<dyn Clock>) -> Result<Self, VerifierConfigInvalid> {
        self.configure(|inner| {
            inner.rules.set_clock(clock);
            Ok(())
        })
    }

    /// What the verifier has done so far.
    #[must_use]
    pub fn stats(&self) -> JwksStats {
        let counters = &self.inner.counters;
        JwksStats {
            fetches: counters.fetches.load(Ordering::Relaxed),
            failed_fetches: counters.failed.load(Ordering::Relaxed),
            stale_served: counters.stale.load(Ordering::Relaxed),
        }
    }

    /// Verifies `token` and reads its claims.
    ///
    /// # Errors
    /// [`TokenRefused`] naming the reason ([`KeysUnavailable`](TokenRefused::KeysUnavailable)
    /// when the keys cannot be had).
    pub async fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Verified<C>, TokenRefused> {
        let result = self.verify_quietly(token).await;
        if let Err(refused) = &result {
            self.events.token_refused(refused.id());
        }
        result
    }

    /// Emits a palisade-audit `TokenRefused` security event for every token it refuses (reason
    /// `token/expired`), with the request's actor; nothing of the token.
    #[cfg(feature = "audit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
    #[must_use]
    pub fn with_audit(mut self, audit: palisade_audit::Audit) -> Self {
        self.events = crate::events::Events::new(audit);
        self
    }

    async fn verify_quietly<C: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<Verified<C>, TokenRefused> {
        let inner = &self.inner;
        // A third party's keys sign tokens for every application and tenant it serves: one
        // for another audience or issuer must never pass, so both are required.
        if inner.rules.audiences.is_empty() || inner.issuers.is_empty() {
            return Err(TokenRefused::VerifierIncomplete);
        }
        inner.rules.check_len(token)?;
        let token = Compact::split(token)?;
        let kid = token
            .header
            .kid
            .as_deref()
            .ok_or(TokenRefused::UnknownKey)?;
        let mut keys = self.usable_keys().await?;
        if !keys.keys.contains_key(kid) {
            keys = self.refetch_for_unknown_kid(&keys).await;
        }
        let key = keys.keys.get(kid).ok_or(TokenRefused::UnknownKey)?;
        let verified = verify_with::<C>(&key.key, &inner.rules, &[], &token)?;
        inner
            .issuers
            .check(&verified.registered, key.issuer.as_deref())?;
        Ok(verified)
    }

    fn now(&self) -> u64 {
        self.inner.rules.clock.monotonic_nanos()
    }

    fn age(&self, keys: &KeySet) -> Option<Duration> {
        keys.fetched_at
            .map(|at| Duration::from_nanos(self.now().saturating_sub(at)))
    }

    /// Keys that may be used now. Fetched on first use (the only wait: every request that
    /// arrives meanwhile waits for that one fetch). Once an hour old they are refreshed in the
    /// background; past their lifetime they are still used, while the refresh runs or the
    /// issuer is down, up to the stale bound; past it a request waits for one fetch.
    async fn usable_keys(&self) -> Result<Arc<KeySet>, TokenRefused> {
        let keys = self.inner.keys.load_full();
        let age = match self.age(&keys) {
            Some(age) if age <= self.inner.stale_limit => age,
            _ => {
                return self
                    .fetch_once(keys.generation, self.inner.attempts.load(Ordering::Acquire))
                    .await
                    .map_err(|()| TokenRefused::KeysUnavailable);
            }
        };
        if age > self.inner.refresh_every {
            self.refresh_in_background();
        }
        if age > self.inner.ttl {
            self.inner.counters.stale.fetch_add(1, Ordering::Relaxed);
        }
        Ok(keys)
    }

    /// A fetch for a `kid` the keys do not have, at most once per cooldown.
    async fn refetch_for_unknown_kid(&self, keys: &Arc<KeySet>) -> Arc<KeySet> {
        let last = self.inner.last_unknown_fetch.load(Ordering::Relaxed);
        let now = self.now();
        let cooled =
            last == 0 || Duration::from_nanos(now.saturating_sub(last)) >= self.inner.cooldown;
        if !cooled {
            return Arc::clone(keys);
        }
        let attempts = self.inner.attempts.load(Ordering::Acquire);
        // One caller wins the right to fetch for this window; the rest use what it fetched.
        if self
            .inner
            .last_unknown_fetch
            .compare_exchange(last, now.max(1), Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            let _wait = self.inner.fetch_lock.lock().await;
            return self.inner.keys.load_full();
        }
        self.fetch_once(keys.generation, attempts)
            .await
            .unwrap_or_else(|()| Arc::clone(keys))
    }

    fn refresh_in_background(&self) {
        if self.inner.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let verifier = self.clone();
        let generation = self.inner.keys.load().generation;
        let attempts = self.inner.attempts.load(Ordering::Acquire);
        tokio::spawn(async move {
            let _ = verifier.fetch_once(generation, attempts).await;
            verifier.inner.refreshing.store(false, Ordering::Release);
        });
    }

    /// Fetches the keys (single flight): not when another caller fetched since
    /// `seen_generation` (its keys are returned), nor when another attempt finished since
    /// `seen_attempts` or one failed within the cooldown (an outage is not hammered, and
    /// requests never queue for one fetch after another).
    async fn fetch_once(
        &self,
        seen_generation: u64,
        seen_attempts: u64,
    ) -> Result<Arc<KeySet>, ()> {
        let _guard = self.inner.fetch_lock.lock().await;
        let current = self.inner.keys.load_full();
        if current.generation != seen_generation {
            return Ok(current);
        }
        let failed_at = self.inner.last_failure.load(Ordering::Acquire);
        let recently_failed = failed_at != 0
            && Duration::from_nanos(self.now().saturating_sub(failed_at)) < self.inner.cooldown;
        if self.inner.attempts.load(Ordering::Acquire) != seen_attempts || recently_failed {
            return Err(());
        }
        self.inner.counters.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = self.fetch().await;
        self.inner.attempts.fetch_add(1, Ordering::AcqRel);
        match fetched {
            Some(keys) => {
                let fresh = Arc::new(KeySet {
                    keys,
                    fetched_at: Some(self.now()),
                    generation: current.generation + 1,
                });
                self.inner.keys.store(Arc::clone(&fresh));
                Ok(fresh)
            }
            None => {
                self.inner.counters.failed.fetch_add(1, Ordering::Relaxed);
                self.inner
                    .last_failure
                    .store(self.now().max(1), Ordering::Release);
                tracing::warn!(target: "palisade_auth", url = %self.inner.jwks_shown, "the issuer's key set could not be fetched");
                Err(())
            }
        }
    }

    async fn fetch(&self) -> Option<std::collections::HashMap<String, keyset::JwksKey>> {
        let mut response = self
            .inner
            .client
            .get(self.inner.jwks_url.clone())
            .send()
            .await
            .ok()?
            .error_for_status()
            .ok()?;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.ok()? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return None;
            }
            body.extend_from_slice(&chunk);
        }
        keyset::parse(&body)
    }
}

impl fmt::Debug for JwksVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksVerifier")
            .field("jwks_url", &self.inner.jwks_shown)
            .field("keys", &self.inner.keys.load().keys.len())
            .finish_non_exhaustive()
    }
}

/// `url` without user information or query, for logs.
fn shown(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

fn checked_url(text: &str) -> Result<url::Url, VerifierConfigInvalid> {
    palisade_secrets::check_endpoint(text)
        .map_err(|_| VerifierConfigInvalid("keys are fetched over https (http only on loopback)"))
}

fn default_client() -> Result<reqwest::Client, VerifierConfigInvalid> {
    reqwest::Client::builder()
        .timeout(palisade_secrets::BACKEND_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|_| VerifierConfigInvalid("no HTTP client could be built"))
}

#[cfg(feature = "axum")]
impl crate::BearerVerifier for JwksVerifier {
    fn verify_bearer<C: DeserializeOwned + Send>(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Verified<C>, TokenRefused>> + Send {
        self.verify(token)
    }
}
