//! The emulated Vault's state: tokens and KV v2 mounts per namespace, on an injected clock.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use palisade_clock::Clock;
use serde_json::{Map, Value};

/// What a token may do, as a test sets it up.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    /// The TTL it is issued with (`creation_ttl`); zero means it never expires (a root token).
    pub ttl: Duration,
    /// Whether `renew-self` may extend it.
    pub renewable: bool,
    /// The longest it may live in total, however often renewed; zero means no limit.
    pub explicit_max_ttl: Duration,
    /// The namespace it was made in (`""` for the root namespace); it works there and below.
    pub namespace: String,
    /// `MOUNT/PATH` prefixes it may read and write; `None` allows every path.
    pub allowed_paths: Option<Vec<String>>,
}

impl TokenSpec {
    /// A renewable token with this TTL, in the root namespace, allowed everywhere.
    #[must_use]
    pub fn renewable(ttl: Duration) -> Self {
        Self {
            ttl,
            renewable: true,
            explicit_max_ttl: Duration::ZERO,
            namespace: String::new(),
            allowed_paths: None,
        }
    }

    /// A token that never expires and cannot be renewed (as a root token), allowed everywhere.
    #[must_use]
    pub fn root() -> Self {
        Self {
            renewable: false,
            ..Self::renewable(Duration::ZERO)
        }
    }

    /// The same token, made in `namespace`.
    #[must_use]
    pub fn in_namespace(mut self, namespace: &str) -> Self {
        self.namespace = normalize_namespace(namespace);
        self
    }

    /// The same token, allowed only under these `MOUNT/PATH` prefixes.
    #[must_use]
    pub fn only(mut self, prefixes: &[&str]) -> Self {
        self.allowed_paths = Some(prefixes.iter().map(|p| (*p).to_owned()).collect());
        self
    }
}

/// A token as the server keeps it.
#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) spec: TokenSpec,
    pub(super) accessor: String,
    pub(super) issued: SystemTime,
    pub(super) expires: Option<SystemTime>,
}

impl Token {
    pub(super) fn is_live(&self, now: SystemTime) -> bool {
        self.expires.is_none_or(|at| now < at)
    }

    pub(super) fn may_use(&self, namespace: &str, mount: &str, path: &str) -> bool {
        let full = format!("{mount}/{path}");
        namespace.starts_with(&self.spec.namespace)
            && self.spec.allowed_paths.as_ref().is_none_or(|prefixes| {
                prefixes
                    .iter()
                    .any(|prefix| full.starts_with(prefix.as_str()))
            })
    }

    /// Seconds left, as `ttl` in `lookup-self` (zero for a token that never expires).
    pub(super) fn ttl_left(&self, now: SystemTime) -> u64 {
        self.expires
            .map_or(0, |at| at.duration_since(now).unwrap_or_default().as_secs())
    }

    /// Renews by `increment` (or the creation TTL), capped by the explicit max TTL; the
    /// lease duration granted.
    pub(super) fn renew(&mut self, increment: Option<Duration>, now: SystemTime) -> Duration {
        let mut granted = increment.unwrap_or(self.spec.ttl);
        if !self.spec.explicit_max_ttl.is_zero() {
            let lived = now.duration_since(self.issued).unwrap_or_default();
            granted = granted.min(self.spec.explicit_max_ttl.saturating_sub(lived));
        }
        self.expires = Some(now + granted);
        granted
    }
}

/// One version of a KV v2 secret.
#[derive(Debug, Clone)]
pub(super) struct Version {
    /// `None` once destroyed.
    pub(super) data: Option<Map<String, Value>>,
    pub(super) created: SystemTime,
    pub(super) deleted: Option<SystemTime>,
}

/// A KV v2 secret: its versions, oldest first (version `n` at index `n - 1`).
#[derive(Debug, Clone, Default)]
pub(super) struct Secret {
    pub(super) versions: Vec<Version>,
    pub(super) custom_metadata: Option<Map<String, Value>>,
    pub(super) updated: Option<SystemTime>,
}

impl Secret {
    pub(super) fn current_version(&self) -> u64 {
        self.versions.len() as u64
    }

    /// Version `n` (1-based); `0` means the latest.
    pub(super) fn version(&self, n: u64) -> Option<(u64, &Version)> {
        let n = if n == 0 { self.current_version() } else { n };
        let index = usize::try_from(n.checked_sub(1)?).ok()?;
        self.versions.get(index).map(|v| (n, v))
    }

    pub(super) fn version_mut(&mut self, n: u64) -> Option<&mut Version> {
        let index = usize::try_from(n.checked_sub(1)?).ok()?;
        self.versions.get_mut(index)
    }
}

/// Everything the emulated server holds.
#[derive(Debug)]
pub(super) struct State {
    pub(super) clock: Arc<dyn Clock>,
    pub(super) tokens: HashMap<String, Token>,
    /// Secrets by (namespace, mount), then path.
    pub(super) mounts: HashMap<(String, String), BTreeMap<String, Secret>>,
    /// Every request gets 503 while sealed.
    pub(super) sealed: bool,
    issued: u64,
}

impl State {
    pub(super) fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            tokens: HashMap::new(),
            mounts: HashMap::new(),
            sealed: false,
            issued: 0,
        }
    }

    pub(super) fn now(&self) -> SystemTime {
        self.clock.system_now()
    }

    pub(super) fn add_token(&mut self, token: &str, spec: TokenSpec) {
        self.issued += 1;
        let now = self.now();
        let expires = (!spec.ttl.is_zero()).then(|| now + spec.ttl);
        let accessor = format!("accessor-{}", self.issued);
        self.tokens.insert(
            token.to_owned(),
            Token {
                spec,
                accessor,
                issued: now,
                expires,
            },
        );
    }

    /// A live token, or `None` (missing, revoked or expired).
    pub(super) fn live_token(&mut self, token: &str) -> Option<&mut Token> {
        let now = self.now();
        self.tokens.get_mut(token).filter(|t| t.is_live(now))
    }

    pub(super) fn mount(
        &mut self,
        namespace: &str,
        mount: &str,
    ) -> Option<&mut BTreeMap<String, Secret>> {
        self.mounts
            .get_mut(&(normalize_namespace(namespace), mount.to_owned()))
    }

    /// Writes a new version; the version number.
    pub(super) fn write(
        &mut self,
        namespace: &str,
        mount: &str,
        path: &str,
        data: Map<String, Value>,
    ) -> Option<u64> {
        let now = self.now();
        let secret = self
            .mount(namespace, mount)?
            .entry(path.to_owned())
            .or_default();
        secret.versions.push(Version {
            data: Some(data),
            created: now,
            deleted: None,
        });
        secret.updated = Some(now);
        Some(secret.current_version())
    }
}

/// `ns1/ns2/` with exactly one trailing slash, or `""` for the root namespace.
pub(super) fn normalize_namespace(namespace: &str) -> String {
    let trimmed = namespace.trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}/")
    }
}
