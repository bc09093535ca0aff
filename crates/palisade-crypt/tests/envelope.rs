//! R-CRY-1: envelope encryption end to end with a local key-encryption key: binding to the
//! context, crypto-shredding, the data-key cache (single flight, lifetime), rotation, the
//! per-key message limit, and no secret in any `Debug` or error.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::num::NonZeroU64;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use palisade_clock::{Clock, SharedClock};
use palisade_crypt::{
    Algorithm, Context, CryptError, DataKey, Encrypted, Envelope, EnvelopeOptions, GeneratedKey,
    KeyFuture, KeyName, KeyScope, KeyWrapper, LocalKeyWrapper, MemoryKeyStore, WrapContext,
    WrappedKey,
};
use palisade_secrets::SecretValue;
use palisade_test::{Canary, FakeClock};

/// A wrapper that counts its calls to the one it wraps (the cost a KMS bills).
#[derive(Debug)]
struct Counting {
    inner: LocalKeyWrapper,
    generated: AtomicU64,
    unwrapped: AtomicU64,
}

impl Counting {
    fn new(inner: LocalKeyWrapper) -> Arc<Self> {
        Arc::new(Self {
            inner,
            generated: AtomicU64::new(0),
            unwrapped: AtomicU64::new(0),
        })
    }
}

impl KeyWrapper for Counting {
    fn kind(&self) -> &'static str {
        "counting"
    }
    fn generate<'a>(&'a self, context: &'a WrapContext) -> KeyFuture<'a, GeneratedKey> {
        self.generated.fetch_add(1, Ordering::SeqCst);
        self.inner.generate(context)
    }
    fn unwrap_key<'a>(
        &'a self,
        wrapped: &'a WrappedKey,
        context: &'a WrapContext,
    ) -> KeyFuture<'a, DataKey> {
        self.unwrapped.fetch_add(1, Ordering::SeqCst);
        KeyFuture::new(async move {
            tokio::task::yield_now().await; // let the other callers pile up
            self.inner.unwrap_key(wrapped, context).await
        })
    }
    fn rotate_due(&self, kek_version: u32) -> bool {
        self.inner.rotate_due(kek_version)
    }
}

fn kek(byte: u8) -> SecretValue {
    SecretValue::from_string(format!("{byte:02x}").repeat(32))
}

fn place(id: &str) -> Context {
    Context::new()
        .with("tenant", "acme")
        .unwrap()
        .with("table", "patients")
        .unwrap()
        .with("field", "ssn")
        .unwrap()
        .with("id", id)
        .unwrap()
}

fn scope(s: &str) -> KeyScope {
    KeyScope::new(s).unwrap()
}

fn envelope_with(
    wrapper: Arc<dyn KeyWrapper>,
    store: Arc<MemoryKeyStore>,
    options: EnvelopeOptions,
    clock: &FakeClock,
) -> Envelope {
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    Envelope::with_clock(
        KeyName::new("pii").unwrap(),
        wrapper,
        store,
        options,
        SharedClock::new(clock),
    )
}

/// An envelope over `store` with the local key-encryption key 1 and the default options.
fn local(store: &Arc<MemoryKeyStore>, clock: &FakeClock) -> Envelope {
    envelope_with(
        Arc::new(LocalKeyWrapper::new(1, &kek(1)).unwrap()),
        store.clone(),
        EnvelopeOptions::DEFAULT,
        clock,
    )
}

#[tokio::test]
async fn values_open_only_in_their_place() {
    let clock = FakeClock::new();
    let store = Arc::new(MemoryKeyStore::new());
    let envelope = local(&store, &clock);
    let sealed = envelope
        .encrypt(&scope("user:1"), &place("7"), b"078-05-1120")
        .await
        .unwrap();
    assert!(!sealed.to_text().contains("078"));
    let opened = envelope.decrypt(&place("7"), &sealed).await.unwrap();
    assert_eq!(opened.plaintext.expose_str(), Some("078-05-1120"));
    assert!(!opened.rotate_due);
    // Another row, field or tenant: the same single error.
    for other in [
        place("8"),
        Context::new()
            .with("tenant", "other")
            .unwrap()
            .with("table", "patients")
            .unwrap()
            .with("field", "ssn")
            .unwrap()
            .with("id", "7")
            .unwrap(),
        Context::new()
            .with("tenant", "acme")
            .unwrap()
            .with("table", "patients")
            .unwrap()
            .with("field", "name")
            .unwrap()
            .with("id", "7")
            .unwrap(),
        Context::new(),
    ] {
        let err = envelope.decrypt(&other, &sealed).await.unwrap_err();
        assert!(matches!(err, CryptError::Undecryptable), "{err:?}");
    }
    // Two encryptions of one value differ (random nonces), under one data key per scope.
    let again = envelope
        .encrypt(&scope("user:1"), &place("7"), b"078-05-1120")
        .await
        .unwrap();
    assert_ne!(sealed, again);
    assert_eq!(sealed.data_key_id(), again.data_key_id());
    let other_user = envelope
        .encrypt(&scope("user:2"), &place("7"), b"x")
        .await
        .unwrap();
    assert_ne!(sealed.data_key_id(), other_user.data_key_id());
    assert_eq!(store.len(), 2);
    // Another keyring with the same store and key does not open it either.
    let other_ring = Envelope::new(
        KeyName::new("billing").unwrap(),
        Arc::new(LocalKeyWrapper::new(1, &kek(1)).unwrap()),
        store.clone(),
    );
    assert!(matches!(
        other_ring.decrypt(&place("7"), &sealed).await.unwrap_err(),
        CryptError::Undecryptable
    ));
}

#[tokio::test]
async fn a_wrong_key_encryption_key_opens_nothing() {
    let clock = FakeClock::new();
    let store = Arc::new(MemoryKeyStore::new());
    let right = local(&store, &clock);
    let sealed = right
        .encrypt(&scope("user:1"), &place("7"), b"secret")
        .await
        .unwrap();
    let wrong = envelope_with(
        Arc::new(LocalKeyWrapper::new(1, &kek(2)).unwrap()),
        store,
        EnvelopeOptions::DEFAULT,
        &clock,
    );
    let err = wrong.decrypt(&place("7"), &sealed).await.unwrap_err();
    assert!(matches!(err, CryptError::Undecryptable), "{err:?}");
}

#[tokio::test]
async fn shredding_a_scope_makes_its_values_unreadable_and_spares_the_rest() {
    let clock = FakeClock::new();
    let store = Arc::new(MemoryKeyStore::new());
    let envelope = local(&store, &clock);
    let alice = envelope
        .encrypt(&scope("user:alice"), &place("1"), b"alice's")
        .await
        .unwrap();
    let bob = envelope
        .encrypt(&scope("user:bob"), &place("2"), b"bob's")
        .await
        .unwrap();
    assert_eq!(envelope.shred(&scope("user:alice")).await.unwrap(), 1);
    let err = envelope.decrypt(&place("1"), &alice).await.unwrap_err();
    assert!(matches!(err, CryptError::KeyDestroyed), "{err:?}");
    assert_eq!(
        envelope
            .decrypt(&place("2"), &bob)
            .await
            .unwrap()
            .plaintext
            .expose_bytes(),
        b"bob's"
    );
    // A second instance (cold cache) cannot open it either, and the same key material plus
    // the store's remaining rows do not bring it back.
    let fresh = local(&store, &clock);
    assert!(matches!(
        fresh.decrypt(&place("1"), &alice).await.unwrap_err(),
        CryptError::KeyDestroyed
    ));
    // The scope stays destroyed: nothing is encrypted for it again (a write racing an
    // erasure cannot leave readable data behind), here or in a fresh instance.
    for instance in [&envelope, &fresh] {
        let err = instance
            .encrypt(&scope("user:alice"), &place("1"), b"new")
            .await
            .unwrap_err();
        assert!(matches!(err, CryptError::KeyDestroyed), "{err:?}");
    }
    assert_eq!(store.len(), 1, "bob's key only");
}

#[tokio::test]
async fn a_cold_cache_unwraps_each_key_once_however_many_ask() {
    let clock = FakeClock::new();
    let store = Arc::new(MemoryKeyStore::new());
    let writer = envelope_with(
        Counting::new(LocalKeyWrapper::new(1, &kek(1)).unwrap()),
        store.clone(),
        EnvelopeOptions::DEFAULT,
        &clock,
    );
    let mut sealed = Vec::new();
    for user in 0..4 {
        sealed.push(
            writer
                .encrypt(&scope(&format!("user:{user}")), &place("1"), b"v")
                .await
                .unwrap(),
        );
    }
    let wrapper = Counting::new(LocalKeyWrapper::new(1, &kek(1)).unwrap());
    let reader = Arc::new(envelope_with(
        wrapper.clone(),
        store.clone(),
        EnvelopeOptions::DEFAULT,
        &clock,
    ));
    let tasks: Vec<_> = (0..2_000)
        .map(|i| {
            let reader = reader.clone();
            let ciphertext = sealed[i % 4].clone();
            tokio::spawn(async move {
                reader
                    .decrypt(&place("1"), &ciphertext)
                    .await
                    .map(|d| d.plaintext.expose_bytes().to_vec())
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), b"v");
    }
    assert_eq!(
        wrapper.unwrapped.load(Ordering::SeqCst),
        4,
        "one unwrap per data key"
    );
    // A cache hit touches neither the store nor the wrapper.
    let loads = store.loads();
    reader.decrypt(&place("1"), &sealed[0]).await.unwrap();
    assert_eq!(store.loads(), loads);
    // Past the cache lifetime, the key is unwrapped again (a revoked KEK stops working).
    clock.advance(EnvelopeOptions::DEFAULT_CACHE_TTL + Duration::from_secs(1));
    reader.decrypt(&place("1"), &sealed[0]).await.unwrap();
    assert_eq!(wrapper.unwrapped.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_newer_key_encryption_key_takes_over_and_old_values_ask_to_rotate() {
    let clock = FakeClock::new();
    let store = Arc::new(MemoryKeyStore::new());
    let v1 = local(&store, &clock);
    let old = v1
        .encrypt(&scope("user:1"), &place("1"), b"old")
        .await
        .unwrap();
    assert_eq!(old.key_version(), 1);
    let both = LocalKeyWrapper::new(1, &kek(1))
        .unwrap()
        .with_version(2, &kek(2))
        .unwrap();
    let v2 = envelope_with(
        Arc::new(both),
        store.clone(),
        EnvelopeOptions::DEFAULT,
        &clock,
    );
    let opened = v2.decrypt(&place("1"), &old).await.unwrap();
    assert_eq!(opened.plaintext.expose_bytes(), b"old");
    assert!(opened.rotate_due, "wrapped by version 1, version 2 exists");
    // The scope's stored key was wrapped by version 1: new values get a key of version 2.
    let new = v2
        .encrypt(&scope("user:1"), &place("1"), b"new")
        .await
        .unwrap();
    assert_eq!(new.key_version(), 2);
    assert_ne!(new.data_key_id(), old.data_key_id());
    let opened = v2.decrypt(&place("1"), &new).await.unwrap();
    assert!(!opened.rotate_due);
    // The old value still opens (and still asks to rotate).
    assert!(v2.decrypt(&place("1"), &old).await.unwrap().rotate_due);
}

#[tokio::test]
async fn a_data_key_is_retired_after_its_message_limit() {
    let clock = FakeClock::new();
    let store = Arc::new(MemoryKeyStore::new());
    let mut options = EnvelopeOptions::DEFAULT;
    options.max_messages_per_key = NonZeroU64::new(3).unwrap();
    let envelope = envelope_with(
        Arc::new(LocalKeyWrapper::new(1, &kek(1)).unwrap()),
        store.clone(),
        options,
        &clock,
    );
    let mut ids = Vec::new();
    for i in 0..7 {
        let sealed = envelope
            .encrypt(&scope("user:1"), &place(&i.to_string()), b"v")
            .await
            .unwrap();
        ids.push(sealed.data_key_id());
        // Every value still opens.
        envelope
            .decrypt(&place(&i.to_string()), &sealed)
            .await
            .unwrap();
    }
    assert_eq!(ids[0], ids[2]);
    assert_ne!(ids[2], ids[3]);
    assert_eq!(ids[3], ids[5]);
    assert_ne!(ids[5], ids[6]);
    assert_eq!(store.len(), 3);
}

#[tokio::test]
async fn gcm_siv_keys_work_and_keep_their_algorithm() {
    let clock = FakeClock::new();
    let store = Arc::new(MemoryKeyStore::new());
    let mut options = EnvelopeOptions::DEFAULT;
    options.algorithm = Algorithm::Aes256GcmSiv;
    let siv = envelope_with(
        Arc::new(LocalKeyWrapper::new(1, &kek(1)).unwrap()),
        store.clone(),
        options,
        &clock,
    );
    let sealed = siv
        .encrypt(&scope("user:1"), &place("1"), b"siv")
        .await
        .unwrap();
    assert_eq!(sealed.algorithm(), Algorithm::Aes256GcmSiv);
    // An envelope configured for GCM still opens it, and asks for rotation.
    let gcm = envelope_with(
        Arc::new(LocalKeyWrapper::new(1, &kek(1)).unwrap()),
        store,
        EnvelopeOptions::DEFAULT,
        &clock,
    );
    let opened = gcm.decrypt(&place("1"), &sealed).await.unwrap();
    assert_eq!(opened.plaintext.expose_bytes(), b"siv");
    assert!(opened.rotate_due);
    // The algorithm byte cannot be switched: the data key is bound to its algorithm.
    let mut bytes = sealed.as_bytes().to_vec();
    bytes[1] = Algorithm::Aes256Gcm.id();
    let switched = palisade_crypt::Ciphertext::from_bytes(bytes).unwrap();
    assert!(matches!(
        gcm.decrypt(&place("1"), &switched).await.unwrap_err(),
        CryptError::Undecryptable
    ));
}

#[tokio::test]
async fn no_secret_in_any_debug_or_error() {
    let canary = Canary::new();
    let kek_text = "ab".repeat(32);
    let wrapper = LocalKeyWrapper::new(1, &SecretValue::from_string(kek_text.clone())).unwrap();
    assert_eq!(
        format!("{wrapper:?}"),
        "LocalKeyWrapper { versions: [1], .. }"
    );
    let store = Arc::new(MemoryKeyStore::new());
    let envelope = Envelope::new(
        KeyName::new("pii").unwrap(),
        Arc::new(wrapper),
        store.clone(),
    );
    let context = Context::new().with("email", canary.value()).unwrap();
    let sealed = envelope
        .encrypt(&scope("user:1"), &context, canary.value().as_bytes())
        .await
        .unwrap();
    let opened = envelope.decrypt(&context, &sealed).await.unwrap();
    for debug in [
        format!("{envelope:?}"),
        format!("{context:?}"),
        format!("{sealed:?}"),
        format!("{opened:?}"),
        format!("{store:?}"),
    ] {
        canary.assert_absent("debug", &debug);
        assert!(!debug.contains(&kek_text), "{debug}");
    }
    assert_eq!(format!("{:?}", opened.plaintext), "Plaintext(\"***\")");
    let err = envelope
        .decrypt(&Context::new(), &sealed)
        .await
        .unwrap_err();
    canary.assert_not_in_error(&err);
    let err = Context::new()
        .with("email", canary.value().repeat(100))
        .unwrap_err();
    canary.assert_not_in_error(&err);
    let err =
        LocalKeyWrapper::new(1, &SecretValue::from_string(canary.value().to_owned())).unwrap_err();
    canary.assert_not_in_error(&err);
    // The serde wrapper: JSON carries the ciphertext only, Debug the header.
    let field: Encrypted<String> = Encrypted::seal(
        &envelope,
        &scope("user:1"),
        &context,
        &canary.value().to_owned(),
    )
    .await
    .unwrap();
    let json = serde_json::to_string(&field).unwrap();
    canary.assert_absent("json", &json);
    canary.assert_not_in_debug(&field);
    let back: Encrypted<String> = serde_json::from_str(&json).unwrap();
    assert_eq!(
        back.open(&envelope, &context).await.unwrap(),
        canary.value()
    );
    let err = serde_json::from_str::<Encrypted<String>>("\"not a ciphertext\"").unwrap_err();
    assert!(err.to_string().contains("malformed ciphertext"), "{err}");
}

#[tokio::test]
async fn oversized_plaintexts_and_scopes_are_refused() {
    let envelope = Envelope::new(
        KeyName::new("pii").unwrap(),
        Arc::new(LocalKeyWrapper::random().unwrap()),
        Arc::new(MemoryKeyStore::new()),
    );
    let big = vec![0u8; palisade_crypt::MAX_PLAINTEXT_LEN + 1];
    assert!(matches!(
        envelope
            .encrypt(&scope("u"), &Context::new(), &big)
            .await
            .unwrap_err(),
        CryptError::PlaintextTooLong { .. }
    ));
    let exact = vec![7u8; palisade_crypt::MAX_PLAINTEXT_LEN];
    let sealed = envelope
        .encrypt(&scope("u"), &Context::new(), &exact)
        .await
        .unwrap();
    let text = sealed.to_text();
    let parsed = palisade_crypt::Ciphertext::from_text(&text).unwrap();
    assert_eq!(
        envelope
            .decrypt(&Context::new(), &parsed)
            .await
            .unwrap()
            .plaintext
            .expose_bytes()
            .len(),
        exact.len()
    );
    assert!(palisade_crypt::Ciphertext::from_text(&format!("{text}AAAA")).is_err());
}

#[tokio::test]
async fn data_keys_are_retired_after_their_lifetime_even_a_zero_one() {
    let clock = FakeClock::new();
    let store = Arc::new(MemoryKeyStore::new());
    let mut options = EnvelopeOptions::DEFAULT;
    options.key_lifetime = Duration::from_secs(3600);
    let envelope = envelope_with(
        Arc::new(LocalKeyWrapper::new(1, &kek(1)).unwrap()),
        store.clone(),
        options.clone(),
        &clock,
    );
    let first = envelope
        .encrypt(&scope("user:1"), &place("1"), b"v")
        .await
        .unwrap();
    clock.advance(Duration::from_secs(3599));
    let same = envelope
        .encrypt(&scope("user:1"), &place("1"), b"v")
        .await
        .unwrap();
    assert_eq!(first.data_key_id(), same.data_key_id());
    assert!(
        !envelope
            .decrypt(&place("1"), &first)
            .await
            .unwrap()
            .rotate_due
    );
    clock.advance(Duration::from_secs(1));
    let next = envelope
        .encrypt(&scope("user:1"), &place("1"), b"v")
        .await
        .unwrap();
    assert_ne!(first.data_key_id(), next.data_key_id());
    assert!(
        envelope
            .decrypt(&place("1"), &first)
            .await
            .unwrap()
            .rotate_due
    );
    // A zero lifetime makes a key per value, and never loops.
    options.key_lifetime = Duration::ZERO;
    let every = envelope_with(
        Arc::new(LocalKeyWrapper::new(1, &kek(1)).unwrap()),
        store,
        options,
        &clock,
    );
    let a = every
        .encrypt(&scope("user:2"), &place("1"), b"v")
        .await
        .unwrap();
    let b = every
        .encrypt(&scope("user:2"), &place("1"), b"v")
        .await
        .unwrap();
    assert_ne!(a.data_key_id(), b.data_key_id());
}
