//! `Cached<S>`: a caching layer over any source, with TTL, refresh ahead, single flight,
//! stale-if-error and a bounded size.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use foldhash::fast::RandomState;
use palisade_clock::{Clock, SystemClock};
use tokio::sync::OnceCell;

use crate::error::duplicate;
use crate::handles::Handles;
use crate::published::{Published, lock};
use crate::{CachePolicy, Fetch, SecretError, SecretRef, SecretSource, SecretValue};

/// A value read through [`Cached`]: the secret, and whether it is stale.
///
/// A stale value is the last good one, served past its TTL because the backend failed
/// (stale-if-error, bounded by [`CachePolicy::max_stale`]). Callers that must not use an old
/// credential check [`is_stale`](Self::is_stale).
#[derive(Clone)]
pub struct CachedSecret {
    value: SecretValue,
    stale: bool,
}

impl CachedSecret {
    /// The secret.
    #[must_use]
    pub const fn value(&self) -> &SecretValue {
        &self.value
    }

    /// The secret, by value.
    #[must_use]
    pub fn into_value(self) -> SecretValue {
        self.value
    }

    /// Whether this is the last good value served past its TTL because the backend failed.
    #[must_use]
    pub const fn is_stale(&self) -> bool {
        self.stale
    }
}

impl fmt::Debug for CachedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedSecret")
            .field("value", &self.value)
            .field("stale", &self.stale)
            .finish()
    }
}

/// Caches another source's values.
///
/// - **TTL**: a value is fresh for [`CachePolicy::ttl`]; a fresh hit is a lock-free map read
///   (no lock, no shared write, no backend call).
/// - **Refresh ahead**: in the last [`CachePolicy::refresh_ahead`] of the TTL, the first read
///   starts a refresh and every read is still answered from the cache. The refresh runs as a
///   spawned task when a Tokio runtime is current; otherwise that first reader refreshes
///   inline while everyone else is served the cached value.
/// - **Single flight**: however many callers miss at once, the backend is called once and all
///   of them get its answer. A caller that gives up (its future is dropped) does not strand
///   the others: one of them takes over.
/// - **Stale-if-error**: when an expired value's refresh fails with an outage
///   ([`SecretError::is_outage`]), the last good value is served, flagged
///   [stale](CachedSecret::is_stale), until [`CachePolicy::max_stale`] past expiry, and the
///   backend is retried at most once per [`CachePolicy::error_retry`]. "Not found" and
///   "access denied" are answers, not outages: they are returned (and a deleted secret is
///   dropped from the cache).
/// - **Forced refresh**: [`refresh_now`](Self::refresh_now) for a caller whose credential was
///   just refused, and [`invalidate`](Self::invalidate).
/// - **Bounded**: at most [`CachePolicy::max_entries`] secrets; past it the one fetched longest
///   ago is dropped.
///
/// Time comes from an injected [`Clock`]. A rotation (a new version id from the backend) is
/// logged at `info` with the reference and both version ids, never the value.
///
/// ```
/// use std::sync::Arc;
/// use palisade_secrets::{CachePolicy, Cached, EnvSource};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let cache = Cached::new(EnvSource::new(), CachePolicy::DEFAULT);
/// let reference = "env:CARGO_PKG_NAME".parse()?;
/// let secret = cache.get(&reference).await?;
/// assert_eq!(secret.value().expose_str(), Some("palisade-secrets"));
/// assert!(!secret.is_stale());
/// assert_eq!(cache.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Cached<S> {
    inner: Arc<Inner<S>>,
}

type Slots = HashMap<SecretRef, Arc<Slot>, RandomState>;
type Outcome = Result<CachedSecret, Arc<SecretError>>;

struct Inner<S> {
    source: S,
    policy: CachePolicy,
    clock: Arc<dyn Clock>,
    /// Read without locks or shared writes; replaced whole (copy on write).
    slots: Published<Slots>,
    flights: Mutex<HashMap<SecretRef, Arc<Flight>, RandomState>>,
    generation: AtomicU64,
}

/// One cached value and its deadlines. Immutable except for the refresh-ahead latch.
struct Slot {
    handles: Handles,
    generation: u64,
    fetched_at: Nanos,
    refresh_at: Nanos,
    expires_at: Nanos,
    stale_until: Nanos,
    /// Set while the backend is failing past expiry: serve stale until then.
    retry_at: Option<Nanos>,
    refresh_started: AtomicBool,
}

/// One backend call that every concurrent caller for the same reference waits on.
#[derive(Default)]
struct Flight {
    outcome: OnceCell<Outcome>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A read that missed or found an expired value.
    Read,
    /// A refresh ahead of expiry; the cached value stays valid if it fails.
    Ahead,
    /// A caller asked for a new value (its credential was refused): no stale fallback.
    Forced,
}

/// The future [`Cached::get`] returns: a ready value for a hit, a boxed one otherwise.
enum Get<'a, T> {
    Ready(Option<Result<T, SecretError>>),
    Slow(Pin<Box<dyn Future<Output = Result<T, SecretError>> + Send + 'a>>),
}

impl<T> Unpin for Get<'_, T> {}

impl<T> Future for Get<'_, T> {
    type Output = Result<T, SecretError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut *self {
            Self::Ready(result) => match result.take() {
                Some(result) => Poll::Ready(result),
                None => Poll::Pending,
            },
            Self::Slow(future) => future.as_mut().poll(cx),
        }
    }
}

enum Lookup {
    Hit { secret: CachedSecret, refresh: bool },
    Miss { seen: Option<u64> },
}

impl<S: SecretSource + 'static> Cached<S> {
    /// Caches `source` under `policy`, on the system clock.
    #[must_use]
    pub fn new(source: S, policy: CachePolicy) -> Self {
        Self::with_clock(source, policy, Arc::new(SystemClock))
    }

    /// Caches `source` under `policy`, on `clock`.
    #[must_use]
    pub fn with_clock(source: S, policy: CachePolicy, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                source,
                policy,
                clock,
                slots: Published::new(Slots::default()),
                flights: Mutex::new(HashMap::default()),
                generation: AtomicU64::new(0),
            }),
        }
    }

    /// The secret `reference` names, from the cache when fresh.
    ///
    /// # Errors
    /// The source's error when there is no usable cached value: on a miss, after expiry
    /// unless stale-if-error applies, and always for "not found" and "access denied".
    pub fn get<'a>(
        &'a self,
        reference: &'a SecretRef,
    ) -> impl Future<Output = Result<CachedSecret, SecretError>> + Send + 'a {
        // A hit is decided here, before the caller awaits, on the coarse clock (a TTL is
        // seconds; a tick is milliseconds): the returned future is then a ready value, and
        // only the slow paths are boxed futures.
        let now = self.inner.clock.coarse_nanos();
        match self.inner.lookup(reference, now) {
            Lookup::Hit {
                secret,
                refresh: false,
            } => Get::Ready(Some(Ok(secret))),
            Lookup::Hit {
                secret,
                refresh: true,
            } => Get::Slow(Box::pin(async move {
                self.refresh_ahead(reference).await;
                Ok(secret)
            })),
            Lookup::Miss { seen } => Get::Slow(Box::pin(async move {
                self.inner.fly_together(reference, seen, Mode::Read).await
            })),
        }
    }

    /// Uses the secret `reference` names without taking a handle on it: `read` gets the value
    /// and whether it is stale, and what it returns is the result. On a fresh hit `read` runs
    /// on the cached value in place (no reference count taken, nothing copied): the cheapest
    /// way to use a secret, and no handle to it outlives the call. Every other case goes
    /// through [`get`](Self::get).
    ///
    /// ```
    /// # use palisade_secrets::{CachePolicy, Cached, EnvSource, SecretRef};
    /// # async fn run(cache: &Cached<EnvSource>) -> Result<(), palisade_secrets::SecretError> {
    /// let reference: SecretRef = "env:API_KEY".parse().expect("a valid reference");
    /// let length = cache.get_with(&reference, |key, _stale| key.len()).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn get_with<'a, R, F>(
        &'a self,
        reference: &'a SecretRef,
        read: F,
    ) -> impl Future<Output = Result<R, SecretError>> + Send + 'a
    where
        F: FnOnce(&SecretValue, bool) -> R + Send + 'a,
        R: Send + 'a,
    {
        let now = self.inner.clock.coarse_nanos();
        match self.inner.peek(reference, now, read) {
            Ok(result) => Get::Ready(Some(Ok(result))),
            Err(read) => Get::Slow(Box::pin(async move {
                let secret = self.get(reference).await?;
                Ok(read(secret.value(), secret.is_stale()))
            })),
        }
    }

    /// Fetches a new value now, for a caller whose cached credential was just refused.
    /// Concurrent calls (and concurrent misses) share one backend call; a value fetched after
    /// the one this call replaces is returned without another call. There is no stale fallback.
    ///
    /// # Errors
    /// The source's error.
    pub async fn refresh_now(&self, reference: &SecretRef) -> Result<CachedSecret, SecretError> {
        let seen = self.inner.current(reference).map(|slot| slot.generation);
        self.inner.fly_together(reference, seen, Mode::Forced).await
    }

    /// Drops the cached value for `reference`; the next read fetches it.
    pub fn invalidate(&self, reference: &SecretRef) {
        self.inner.update(|slots| {
            slots.remove(reference);
        });
    }

    /// How many secrets are cached.
    #[must_use]
    pub fn len(&self) -> usize {
        self.inner.slots.read(Slots::len)
    }

    /// Whether nothing is cached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The policy.
    #[must_use]
    pub fn policy(&self) -> &CachePolicy {
        &self.inner.policy
    }

    /// The source being cached.
    #[must_use]
    pub fn source(&self) -> &S {
        &self.inner.source
    }

    async fn refresh_ahead(&self, reference: &SecretRef) {
        let seen = self.inner.current(reference).map(|slot| slot.generation);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let inner = Arc::clone(&self.inner);
            let reference = reference.clone();
            drop(runtime.spawn(async move {
                // The outcome is stored in the cache (or logged) by `fly_together`.
                let _refreshed = inner.fly_together(&reference, seen, Mode::Ahead).await;
            }));
        } else {
            let _refreshed = self.inner.fly_together(reference, seen, Mode::Ahead).await;
        }
    }
}

impl<S: SecretSource> Inner<S> {
    /// Runs `read` on a fresh value that needs no refresh yet, in place; hands `read` back
    /// otherwise.
    fn peek<R, F: FnOnce(&SecretValue, bool) -> R>(
        &self,
        reference: &SecretRef,
        now: Nanos,
        read: F,
    ) -> Result<R, F> {
        self.slots.read(move |slots| match slots.get(reference) {
            Some(slot)
                if now < slot.expires_at
                    && (now < slot.refresh_at || slot.refresh_started.load(Ordering::Relaxed)) =>
            {
                Ok(read(slot.handles.first(), false))
            }
            _ => Err(read),
        })
    }

    fn lookup(&self, reference: &SecretRef, now: Nanos) -> Lookup {
        self.slots
            .read(|slots| Self::lookup_in(slots, reference, now))
    }

    fn lookup_in(slots: &Slots, reference: &SecretRef, now: Nanos) -> Lookup {
        let Some(slot) = slots.get(reference) else {
            return Lookup::Miss { seen: None };
        };
        if now < slot.expires_at {
            let refresh = now >= slot.refresh_at
                && !slot.refresh_started.load(Ordering::Relaxed)
                && !slot.refresh_started.swap(true, Ordering::Relaxed);
            return Lookup::Hit {
                secret: CachedSecret {
                    value: slot.handles.for_this_thread().clone(),
                    stale: false,
                },
                refresh,
            };
        }
        if slot.retry_at.is_some_and(|retry_at| now < retry_at) && now < slot.stale_until {
            return Lookup::Hit {
                secret: CachedSecret {
                    value: slot.handles.for_this_thread().clone(),
                    stale: true,
                },
                refresh: false,
            };
        }
        Lookup::Miss {
            seen: Some(slot.generation),
        }
    }

    fn current(&self, reference: &SecretRef) -> Option<Arc<Slot>> {
        self.slots.read(|slots| slots.get(reference).cloned())
    }

    /// Joins (or starts) the one backend call for `reference` and returns its outcome.
    async fn fly_together(
        &self,
        reference: &SecretRef,
        seen: Option<u64>,
        mode: Mode,
    ) -> Result<CachedSecret, SecretError> {
        let flight = {
            let mut flights = lock(&self.flights);
            Arc::clone(flights.entry(reference.clone()).or_default())
        };
        let outcome = flight
            .outcome
            .get_or_init(|| self.fly(reference, seen, mode, &flight))
            .await;
        outcome.clone().map_err(|shared| duplicate(&shared))
    }

    /// The leader's part of a flight: the backend call and what it means for the cache.
    async fn fly(
        &self,
        reference: &SecretRef,
        seen: Option<u64>,
        mode: Mode,
        flight: &Arc<Flight>,
    ) -> Outcome {
        let outcome = match self.newer_than(reference, seen) {
            Some(secret) => Ok(secret),
            None => {
                let result = self.source.fetch(reference).await;
                let now = self.clock.coarse_nanos();
                match result {
                    Ok(value) => {
                        self.store(reference, &value, now);
                        Ok(CachedSecret {
                            value,
                            stale: false,
                        })
                    }
                    Err(err) => self.failed(reference, err, now, mode),
                }
            }
        };
        let mut flights = lock(&self.flights);
        if flights
            .get(reference)
            .is_some_and(|current| Arc::ptr_eq(current, flight))
        {
            flights.remove(reference);
        }
        outcome
    }

    /// A fresh value fetched after the one the caller saw, if another flight just landed.
    fn newer_than(&self, reference: &SecretRef, seen: Option<u64>) -> Option<CachedSecret> {
        let slot = self.current(reference)?;
        let newer = seen.is_none_or(|seen| slot.generation > seen);
        (newer && slot.retry_at.is_none() && self.clock.coarse_nanos() < slot.expires_at).then(
            || CachedSecret {
                value: slot.handles.first().clone(),
                stale: false,
            },
        )
    }

    fn store(&self, reference: &SecretRef, value: &SecretValue, now: Nanos) {
        let policy = &self.policy;
        let expires_at = after(now, policy.ttl());
        let slot = Arc::new(Slot {
            handles: Handles::new(value),
            generation: self.generation.fetch_add(1, Ordering::Relaxed) + 1,
            fetched_at: now,
            refresh_at: after(now, policy.ttl().saturating_sub(policy.refresh_ahead())),
            expires_at,
            stale_until: after(expires_at, policy.max_stale()),
            retry_at: None,
            refresh_started: AtomicBool::new(false),
        });
        let max_entries = policy.max_entries().get();
        self.update(|slots| {
            if !slots.contains_key(reference) && slots.len() >= max_entries {
                evict(slots, now);
            }
            if let Some(previous) = slots.insert(reference.clone(), slot) {
                let (before, after) = (
                    &previous.handles.first().metadata().version,
                    &value.metadata().version,
                );
                if before != after {
                    tracing::info!(
                        %reference,
                        previous_version = before.as_deref().unwrap_or("none"),
                        version = after.as_deref().unwrap_or("none"),
                        "secret rotated"
                    );
                }
            }
        });
    }

    fn failed(&self, reference: &SecretRef, err: SecretError, now: Nanos, mode: Mode) -> Outcome {
        if err.is_not_found() && mode != Mode::Ahead {
            self.update(|slots| {
                slots.remove(reference);
            });
            return Err(Arc::new(err));
        }
        let Some(slot) = self.current(reference) else {
            return Err(Arc::new(err));
        };
        let retry_at = after(now, self.policy.error_retry());
        match mode {
            Mode::Ahead if now < slot.expires_at => {
                tracing::warn!(%reference, error = %err, "refresh ahead of expiry failed; the cached value is served until it expires");
                self.replace(reference, &slot, |copy| copy.refresh_at = retry_at);
            }
            Mode::Read if err.is_outage() && now < slot.stale_until => {
                tracing::warn!(%reference, error = %err, "secret source failed; serving the last good value, stale");
                self.replace(reference, &slot, |copy| copy.retry_at = Some(retry_at));
                return Ok(CachedSecret {
                    value: slot.handles.first().clone(),
                    stale: true,
                });
            }
            _ => {}
        }
        Err(Arc::new(err))
    }

    /// Replaces `slot` (if it is still the cached one) with an edited copy.
    fn replace(&self, reference: &SecretRef, slot: &Arc<Slot>, edit: impl FnOnce(&mut Slot)) {
        let mut copy = Slot {
            handles: slot.handles.clone(),
            generation: slot.generation,
            fetched_at: slot.fetched_at,
            refresh_at: slot.refresh_at,
            expires_at: slot.expires_at,
            stale_until: slot.stale_until,
            retry_at: slot.retry_at,
            refresh_started: AtomicBool::new(false),
        };
        edit(&mut copy);
        let copy = Arc::new(copy);
        self.update(|slots| {
            if let Some(current) = slots.get_mut(reference)
                && Arc::ptr_eq(current, slot)
            {
                *current = copy;
            }
        });
    }

    /// Copy-on-write update of the slot map; readers never wait for it.
    fn update(&self, edit: impl FnOnce(&mut Slots)) {
        self.slots.update(edit);
    }
}

/// Makes room for one more entry: drops everything past its stale bound, then, if still full,
/// the entry fetched longest ago.
fn evict(slots: &mut Slots, now: Nanos) {
    let before = slots.len();
    slots.retain(|_, slot| now < slot.stale_until);
    if slots.len() < before {
        return;
    }
    let oldest = slots
        .iter()
        .min_by_key(|(_, slot)| slot.fetched_at)
        .map(|(reference, _)| reference.clone());
    if let Some(oldest) = oldest {
        slots.remove(&oldest);
    }
}

/// A reading of the clock's coarse nanoseconds ([`Clock::coarse_nanos`]): deadlines are plain
/// numbers, so a hit compares integers.
type Nanos = u64;

fn after(instant: Nanos, duration: Duration) -> Nanos {
    instant.saturating_add(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX))
}

impl<S: SecretSource + 'static> SecretSource for Cached<S> {
    /// Reads through the cache. A stale value is returned as a value: callers that need the
    /// stale flag use [`Cached::get`].
    fn fetch<'a>(&'a self, reference: &'a SecretRef) -> Fetch<'a> {
        Fetch::new(async move { self.get(reference).await.map(CachedSecret::into_value) })
    }
}

impl<S> Clone for Cached<S> {
    /// Another handle on the same cache.
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for Cached<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cached")
            .field("source", &self.inner.source)
            .field("policy", &self.inner.policy)
            .field("entries", &self.inner.slots.read(Slots::len))
            .finish_non_exhaustive()
    }
}
