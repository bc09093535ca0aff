//! A token session: a Vault client holding the current token, and when to renew it.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use vaultrs::client::{VaultClient, VaultClientSettings};

use crate::errors::Failure;

/// How long to wait before trying again after a renewal failed for another reason than a
/// refusal (an outage): the token usually has most of its TTL left.
const RENEW_RETRY: Duration = Duration::from_secs(30);

/// One token in use. Replaced (never changed) when the token is read again.
pub(crate) struct Session {
    pub(crate) client: VaultClient,
    /// Counts replacements, so concurrent readers refused with one token read it again once.
    pub(crate) generation: u64,
    renewal: Mutex<Renewal>,
}

/// When the token should be renewed, and by how much.
#[derive(Debug, Clone, Copy)]
struct Renewal {
    /// `None` when the token is not renewable, never expires or a renewal is under way.
    due: Option<Instant>,
    /// What to ask `renew-self` for: the token's creation TTL.
    increment: Duration,
}

/// What `lookup-self` said about the token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokenLease {
    pub(crate) renewable: bool,
    pub(crate) ttl: Duration,
    pub(crate) creation_ttl: Duration,
}

impl Session {
    /// A client for `token` on top of `settings` (which carry no token).
    pub(crate) fn client(settings: &VaultClientSettings, token: &str) -> Option<VaultClient> {
        let mut settings = settings.clone();
        token.clone_into(&mut settings.token);
        VaultClient::new(settings).ok()
    }

    /// A session whose token has `lease` (or unknown, when the token may not look itself up).
    pub(crate) fn new(
        client: VaultClient,
        generation: u64,
        lease: Option<TokenLease>,
        now: Instant,
    ) -> Self {
        let renewal = match lease {
            Some(lease) if lease.renewable && !lease.ttl.is_zero() => Renewal {
                due: Some(now + renew_point(lease.ttl)),
                increment: lease.creation_ttl.max(lease.ttl),
            },
            _ => Renewal {
                due: None,
                increment: Duration::ZERO,
            },
        };
        Self {
            client,
            generation,
            renewal: Mutex::new(renewal),
        }
    }

    /// Takes the renewal when it is due (so one caller renews), returning the increment.
    pub(crate) fn claim_renewal(&self, now: Instant) -> Option<Duration> {
        let mut renewal = self.renewal.lock().unwrap_or_else(PoisonError::into_inner);
        match renewal.due {
            Some(due) if now >= due => {
                renewal.due = None;
                Some(renewal.increment)
            }
            _ => None,
        }
    }

    /// Records a renewal's outcome: Vault granted `lease` more (zero: no more renewals), or
    /// the renewal failed for another reason than a refusal and is retried later.
    pub(crate) fn renewed(&self, outcome: Result<Duration, &Failure>, now: Instant) {
        let mut renewal = self.renewal.lock().unwrap_or_else(PoisonError::into_inner);
        renewal.due = match outcome {
            Ok(lease) if lease.is_zero() => None,
            Ok(lease) => Some(now + renew_point(lease)),
            Err(_) => Some(now + RENEW_RETRY),
        };
    }
}

/// Renew when two thirds of the lease have passed, as Vault Agent's lifetime watcher does.
fn renew_point(lease: Duration) -> Duration {
    lease.mul_f64(2.0 / 3.0)
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}
