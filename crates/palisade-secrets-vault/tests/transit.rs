//! R-CRY-1: palisade-crypt data keys wrapped by Vault Transit, on the real OpenBao server
//! (`cargo xtask services up`, or a private one a test seals): `datakey` and `decrypt` with
//! the wrap context as associated data, key rotation seen as `rotate_due`,
//! `min_decryption_version` refusing old data keys, shredding, and a sealed server as an
//! outage the data-key cache rides out.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::path::PathBuf;
use std::sync::Arc;

use palisade_crypt::{
    Context, CryptError, DataKeyStore, Envelope, KeyName, KeyScope, KeyWrapper, MemoryKeyStore,
    WrapContext,
};
use palisade_secrets::FileSource;
use palisade_secrets_vault::{VaultConfigError, VaultOptions, VaultSource, VaultTransitKeyWrapper};
use palisade_test::{OpenBao, unique_name};

/// A token file, removed on drop.
struct TokenFile(PathBuf);

impl Drop for TokenFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A Transit engine on a fresh mount with one `aes256-gcm96` key, and a wrapper for it.
struct Transit {
    mount: String,
    wrapper: Arc<VaultTransitKeyWrapper>,
    _token: TokenFile,
}

async fn transit(bao: &OpenBao) -> Transit {
    let mount = unique_name("transit").replace(['/', ':'], "-");
    let _ = bao.cli(&["secrets", "enable", &format!("-path={mount}"), "transit"]);
    let _ = bao.cli(&["write", "-f", &format!("{mount}/keys/pii")]);
    let token = TokenFile(std::env::temp_dir().join(unique_name("bao-token")));
    std::fs::write(&token.0, bao.root_token()).unwrap();
    let options = VaultOptions::new(
        bao.url(),
        format!("file:{}", token.0.display()).parse().unwrap(),
        Arc::new(FileSource::new()),
    );
    let vault = Arc::new(VaultSource::connect(options).await.unwrap());
    let wrapper = Arc::new(VaultTransitKeyWrapper::new(vault, &mount, "pii").unwrap());
    Transit {
        mount,
        wrapper,
        _token: token,
    }
}

fn envelope(wrapper: Arc<VaultTransitKeyWrapper>, store: Arc<MemoryKeyStore>) -> Envelope {
    Envelope::new(KeyName::new("pii").unwrap(), wrapper, store)
}

fn place(id: &str) -> Context {
    Context::new()
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

#[tokio::test]
async fn data_keys_are_bound_to_their_context_and_shredding_holds() {
    let bao = OpenBao::shared();
    let transit = transit(&bao).await;
    let store = Arc::new(MemoryKeyStore::new());
    let writer = envelope(transit.wrapper.clone(), store.clone());
    let sealed = writer
        .encrypt(&scope("user:alice"), &place("1"), b"alice's")
        .await
        .unwrap();
    let stored = store.load(&sealed.data_key_id()).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&stored.wrapped.blob).starts_with("vault:v1:"));
    assert_eq!(sealed.key_version(), 1);
    // A cold instance decrypts through Transit.
    let reader = envelope(transit.wrapper.clone(), store.clone());
    assert_eq!(
        reader
            .decrypt(&place("1"), &sealed)
            .await
            .unwrap()
            .plaintext
            .expose_bytes(),
        b"alice's"
    );
    // The wrapped key under another scope: Transit's associated data refuses it.
    let moved = WrapContext {
        key_name: stored.key_name.clone(),
        data_key: stored.id,
        scope: scope("user:mallory"),
        algorithm: stored.algorithm,
    };
    let err = transit
        .wrapper
        .unwrap_key(&stored.wrapped, &moved)
        .await
        .unwrap_err();
    assert!(matches!(err, CryptError::Undecryptable), "{err:?}");
    // Shredding: no instance opens it any more.
    writer.shred(&scope("user:alice")).await.unwrap();
    let cold = envelope(transit.wrapper.clone(), store);
    assert!(matches!(
        cold.decrypt(&place("1"), &sealed).await.unwrap_err(),
        CryptError::KeyDestroyed
    ));
    assert_eq!(
        format!("{:?}", transit.wrapper),
        format!(
            "VaultTransitKeyWrapper {{ mount: {:?}, key: \"pii\", .. }}",
            transit.mount
        )
    );
}

#[tokio::test]
async fn rotation_is_seen_and_min_decryption_version_refuses_old_keys() {
    let bao = OpenBao::shared();
    let transit = transit(&bao).await;
    let store = Arc::new(MemoryKeyStore::new());
    let writer = envelope(transit.wrapper.clone(), store.clone());
    let old = writer
        .encrypt(&scope("user:1"), &place("1"), b"old")
        .await
        .unwrap();
    assert!(!writer.decrypt(&place("1"), &old).await.unwrap().rotate_due);

    let _ = bao.cli(&["write", "-f", &format!("{}/keys/pii/rotate", transit.mount)]);
    assert_eq!(transit.wrapper.refresh().await.unwrap(), 2);
    assert!(writer.decrypt(&place("1"), &old).await.unwrap().rotate_due);
    let new = writer
        .encrypt(&scope("user:2"), &place("2"), b"new")
        .await
        .unwrap();
    assert_eq!(new.key_version(), 2);
    assert!(!writer.decrypt(&place("2"), &new).await.unwrap().rotate_due);

    let _ = bao.cli(&[
        "write",
        &format!("{}/keys/pii/config", transit.mount),
        "min_decryption_version=2",
    ]);
    let cold = envelope(transit.wrapper.clone(), store);
    let err = cold.decrypt(&place("1"), &old).await.unwrap_err();
    assert!(
        matches!(
            err,
            CryptError::Wrapper {
                wrapper: "vault-transit",
                retryable: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        std::error::Error::source(&err)
            .map(ToString::to_string)
            .as_deref(),
        Some("the key version is below the key's min_decryption_version")
    );
    assert_eq!(
        cold.decrypt(&place("2"), &new)
            .await
            .unwrap()
            .plaintext
            .expose_bytes(),
        b"new"
    );
}

#[tokio::test]
async fn a_sealed_server_is_an_outage_the_cache_rides_out() {
    let bao = OpenBao::start_own(false);
    let transit = transit(&bao).await;
    let store = Arc::new(MemoryKeyStore::new());
    let warm = envelope(transit.wrapper.clone(), store.clone());
    let sealed = warm
        .encrypt(&scope("user:1"), &place("1"), b"v")
        .await
        .unwrap();
    let _ = bao.cli(&["operator", "seal"]);
    // Cached data keys keep working within the cache lifetime.
    assert_eq!(
        warm.decrypt(&place("1"), &sealed)
            .await
            .unwrap()
            .plaintext
            .expose_bytes(),
        b"v"
    );
    warm.encrypt(&scope("user:1"), &place("3"), b"w")
        .await
        .unwrap();
    // A key not in the cache is a retryable outage (503).
    let cold = envelope(transit.wrapper.clone(), store);
    let err = cold.decrypt(&place("1"), &sealed).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    let err = cold
        .encrypt(&scope("user:2"), &place("2"), b"x")
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
}

#[tokio::test]
async fn names_that_would_change_the_path_are_refused() {
    let bao = OpenBao::shared();
    let options = VaultOptions::new(
        bao.url(),
        "env:UNUSED".parse().unwrap(),
        Arc::new(FileSource::new()),
    );
    let vault = Arc::new(VaultSource::connect(options).await.unwrap());
    for (mount, key, what) in [
        ("../sys", "k", "mount"),
        ("transit", "a/../b", "key"),
        ("transit", "k?x=1", "key"),
        ("", "k", "mount"),
    ] {
        let err = VaultTransitKeyWrapper::new(vault.clone(), mount, key).unwrap_err();
        assert_eq!(err, VaultConfigError::TransitNameInvalid { what });
    }
}
