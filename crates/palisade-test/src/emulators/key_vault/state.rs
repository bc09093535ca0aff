//! The emulated Key Vault's state: secret versions, access tokens and Entra ID clients.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use palisade_clock::Clock;

/// What a bearer token may do.
#[derive(Debug, Clone, Copy)]
pub(super) struct Grant {
    /// Whether the identity has the `secrets/get` permission.
    pub(super) may_get: bool,
    pub(super) expires: SystemTime,
}

/// One version of a secret.
#[derive(Debug, Clone)]
pub(super) struct Version {
    pub(super) id: String,
    pub(super) value: String,
    pub(super) content_type: Option<String>,
    pub(super) enabled: bool,
    /// `exp` and `nbf`, in Unix seconds.
    pub(super) expires: Option<i64>,
    pub(super) not_before: Option<i64>,
    pub(super) created: i64,
    pub(super) updated: i64,
}

/// Attributes a set or update may give.
#[derive(Debug, Clone, Default)]
pub struct Attributes {
    /// `enabled` (default true).
    pub enabled: Option<bool>,
    /// `exp`, in Unix seconds.
    pub expires: Option<i64>,
    /// `nbf`, in Unix seconds.
    pub not_before: Option<i64>,
}

#[derive(Debug)]
pub(super) struct State {
    pub(super) clock: Arc<dyn Clock>,
    pub(super) tenant: String,
    pub(super) tokens: HashMap<String, Grant>,
    /// Entra ID applications: (tenant, client id) to client secret.
    pub(super) clients: HashMap<(String, String), String>,
    /// Versions by lower-cased secret name (Key Vault names are case-insensitive), oldest
    /// first.
    pub(super) secrets: BTreeMap<String, Vec<Version>>,
    /// Every request gets 503 while failing.
    pub(super) failing: bool,
    issued: u64,
}

impl State {
    pub(super) fn new(clock: Arc<dyn Clock>, tenant: &str) -> Self {
        Self {
            clock,
            tenant: tenant.to_owned(),
            tokens: HashMap::new(),
            clients: HashMap::new(),
            secrets: BTreeMap::new(),
            failing: false,
            issued: 0,
        }
    }

    pub(super) fn now(&self) -> SystemTime {
        self.clock.system_now()
    }

    pub(super) fn unix_now(&self) -> i64 {
        let seconds = self
            .now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        i64::try_from(seconds).unwrap_or(i64::MAX)
    }

    /// A live grant for `token`.
    pub(super) fn grant(&self, token: &str) -> Option<Grant> {
        let now = self.now();
        self.tokens.get(token).copied().filter(|g| now < g.expires)
    }

    pub(super) fn add_token(&mut self, token: &str, may_get: bool, lifetime: Duration) {
        let expires = self.now() + lifetime;
        self.tokens
            .insert(token.to_owned(), Grant { may_get, expires });
    }

    /// Issues a fresh token (for the Entra ID endpoint).
    pub(super) fn issue_token(&mut self, lifetime: Duration) -> String {
        self.issued += 1;
        let token = format!("emulated-entra-token-{}", self.issued);
        self.add_token(&token, true, lifetime);
        token
    }

    /// Adds a version; it becomes the latest.
    pub(super) fn set(
        &mut self,
        name: &str,
        value: &str,
        content_type: Option<String>,
        attributes: &Attributes,
    ) -> Version {
        self.issued += 1;
        let now = self.unix_now();
        let version = Version {
            id: format!("{:032x}", u128::from(self.issued) * 0x9e37_79b9_7f4a_7c15),
            value: value.to_owned(),
            content_type,
            enabled: attributes.enabled.unwrap_or(true),
            expires: attributes.expires,
            not_before: attributes.not_before,
            created: now,
            updated: now,
        };
        self.secrets
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(version.clone());
        version
    }

    /// The latest version, or the one with this id.
    pub(super) fn version(&self, name: &str, id: Option<&str>) -> Option<&Version> {
        let versions = self.secrets.get(&name.to_ascii_lowercase())?;
        match id {
            None => versions.last(),
            Some(id) => versions.iter().find(|v| v.id.eq_ignore_ascii_case(id)),
        }
    }

    pub(super) fn version_mut(&mut self, name: &str, id: &str) -> Option<&mut Version> {
        self.secrets
            .get_mut(&name.to_ascii_lowercase())?
            .iter_mut()
            .find(|v| v.id.eq_ignore_ascii_case(id))
    }
}
