//! R-CRY-1: the documented ciphertext format, byte by byte: vectors made by an independent
//! implementation (tests/python/make_vectors.py on Python `cryptography`) decrypt here, their
//! headers read as documented, and any single changed byte fails.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]

use std::sync::Arc;

use palisade_crypt::hazmat::RawAead;
use palisade_crypt::{
    Algorithm, Ciphertext, Context, CryptError, DataKey, DataKeyId, DataKeyStore, Envelope,
    KeyName, KeyScope, LocalKeyWrapper, MemoryKeyStore, StoredKey, WrappedKey,
};
use palisade_secrets::SecretValue;
use serde_json::Value;

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn vectors() -> Vec<Value> {
    let text = include_str!("vectors/format-v1.json");
    let file: Value = serde_json::from_str(text).unwrap();
    file["vectors"].as_array().unwrap().clone()
}

fn algorithm(name: &str) -> Algorithm {
    match name {
        "A256GCM" => Algorithm::Aes256Gcm,
        "A256GCM-SIV" => Algorithm::Aes256GcmSiv,
        other => panic!("unknown algorithm {other}"),
    }
}

fn context(v: &Value) -> Context {
    let mut context = Context::new();
    for (name, value) in v["context"].as_object().unwrap() {
        context.insert(name, value.as_str().unwrap()).unwrap();
    }
    context
}

async fn envelope_for(v: &Value) -> Envelope {
    let kek = SecretValue::from_string(v["kek"].as_str().unwrap().to_owned());
    let wrapper = LocalKeyWrapper::new(
        u32::try_from(v["kek_version"].as_u64().unwrap()).unwrap(),
        &kek,
    )
    .unwrap();
    let store = MemoryKeyStore::new();
    let id: [u8; 16] = hex(v["data_key_id"].as_str().unwrap()).try_into().unwrap();
    store
        .insert(&StoredKey {
            id: DataKeyId::from_bytes(id),
            key_name: KeyName::new(v["key_name"].as_str().unwrap()).unwrap(),
            scope: KeyScope::new(v["scope"].as_str().unwrap()).unwrap(),
            algorithm: algorithm(v["algorithm"].as_str().unwrap()),
            wrapped: WrappedKey {
                kek_version: u32::try_from(v["kek_version"].as_u64().unwrap()).unwrap(),
                blob: hex(v["wrapped_key"].as_str().unwrap()),
            },
            created_at: 1_700_000_000,
        })
        .await
        .unwrap();
    Envelope::new(
        KeyName::new(v["key_name"].as_str().unwrap()).unwrap(),
        Arc::new(wrapper),
        Arc::new(store),
    )
}

#[tokio::test]
async fn vectors_from_an_independent_implementation_decrypt() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 3);
    for v in &vectors {
        let envelope = envelope_for(v).await;
        let ciphertext = Ciphertext::from_text(v["ciphertext"].as_str().unwrap()).unwrap();
        let opened = envelope.decrypt(&context(v), &ciphertext).await.unwrap();
        assert_eq!(
            opened.plaintext.expose_bytes(),
            hex(v["plaintext"].as_str().unwrap()).as_slice(),
            "{}",
            v["comment"]
        );
        // The header reads as documented.
        let header = ciphertext.header();
        assert_eq!(header.format, 1);
        assert_eq!(header.algorithm, v["algorithm"].as_str().unwrap());
        assert_eq!(header.key_name, v["key_name"].as_str().unwrap());
        assert_eq!(
            u64::from(header.key_version),
            v["kek_version"].as_u64().unwrap()
        );
        assert_eq!(header.data_key_id, v["data_key_id"].as_str().unwrap());
        assert_eq!(
            header.plaintext_len,
            hex(v["plaintext"].as_str().unwrap()).len()
        );
        // The text form round-trips exactly.
        assert_eq!(ciphertext.to_text(), v["ciphertext"].as_str().unwrap());
    }
}

#[tokio::test]
async fn the_raw_layer_reproduces_the_vectors_bytes() {
    for v in vectors() {
        let ciphertext = Ciphertext::from_text(v["ciphertext"].as_str().unwrap()).unwrap();
        let bytes = ciphertext.as_bytes();
        let header_len = 3 + v["key_name"].as_str().unwrap().len() + 4 + 16 + 12;
        let mut aad = bytes[..header_len].to_vec();
        aad.extend_from_slice(&context(&v).canonical_bytes());
        let mut key = hex(v["data_key"].as_str().unwrap());
        let raw = RawAead::new(
            algorithm(v["algorithm"].as_str().unwrap()),
            &DataKey::from_slice(&mut key).unwrap(),
        );
        let nonce: [u8; 12] = hex(v["nonce"].as_str().unwrap()).try_into().unwrap();
        let sealed = raw
            .seal(&nonce, &aad, &hex(v["plaintext"].as_str().unwrap()))
            .unwrap();
        assert_eq!(sealed, &bytes[header_len..], "{}", v["comment"]);
    }
}

#[tokio::test]
async fn every_single_changed_byte_fails() {
    let v = &vectors()[0];
    let envelope = envelope_for(v).await;
    let good = Ciphertext::from_text(v["ciphertext"].as_str().unwrap()).unwrap();
    let context = context(v);
    for at in 0..good.as_bytes().len() {
        for flip in [0x01u8, 0x80] {
            let mut bytes = good.as_bytes().to_vec();
            bytes[at] ^= flip;
            let Ok(changed) = Ciphertext::from_bytes(bytes) else {
                continue; // refused by the parser: also a failure to decrypt
            };
            let err = envelope.decrypt(&context, &changed).await.unwrap_err();
            assert!(
                matches!(err, CryptError::Undecryptable | CryptError::KeyDestroyed),
                "byte {at} flipped by {flip:#x}: {err:?}"
            );
        }
    }
    // Every shorter prefix is refused, never a panic.
    for len in 0..good.as_bytes().len() {
        if let Ok(cut) = Ciphertext::from_bytes(good.as_bytes()[..len].to_vec()) {
            assert!(envelope.decrypt(&context, &cut).await.is_err());
        }
    }
}

#[tokio::test]
async fn a_changed_context_fails_with_the_same_error() {
    let v = &vectors()[0];
    let envelope = envelope_for(v).await;
    let good = Ciphertext::from_text(v["ciphertext"].as_str().unwrap()).unwrap();
    let base = [
        ("tenant", "acme"),
        ("table", "patients"),
        ("field", "ssn"),
        ("id", "7"),
    ];
    for changed in 0..base.len() {
        let mut context = Context::new();
        for (i, (name, value)) in base.iter().enumerate() {
            let value = if i == changed {
                format!("{value}x")
            } else {
                (*value).to_owned()
            };
            context.insert(name, value).unwrap();
        }
        let err = envelope.decrypt(&context, &good).await.unwrap_err();
        assert!(matches!(err, CryptError::Undecryptable), "{err:?}");
        assert_eq!(err.to_string(), "the ciphertext could not be decrypted");
    }
    let missing = Context::new()
        .with("tenant", "acme")
        .unwrap()
        .with("table", "patients")
        .unwrap()
        .with("field", "ssn")
        .unwrap();
    assert!(envelope.decrypt(&missing, &good).await.is_err());
}
