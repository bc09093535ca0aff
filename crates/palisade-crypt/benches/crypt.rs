//! Envelope encryption with a cached data key against the raw AEAD on the same bytes:
//! - encrypt + decrypt of a 1 KiB field vs RustCrypto `aes-gcm` with the same key, nonce
//!   generation and associated data (target: at most 1.2x), and vs Python `cryptography`'s
//!   `AESGCM` in the same run (target: at least 3x faster);
//! - a 32-byte field: encrypt and decrypt each under 1 µs;
//! - what the envelope adds to a decryption on a cache hit (key lookup, header checks,
//!   associated data) over the AEAD it runs (AWS-LC's AES-256-GCM): under 100 ns.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::print_stderr,
    missing_docs,
    reason = "a benchmark fails loudly and prints its figures"
)]

use std::path::Path;
use std::sync::Arc;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use palisade_crypt::{
    Ciphertext, Context, Envelope, KeyName, KeyScope, LocalKeyWrapper, MemoryKeyStore,
};
use palisade_secrets::SecretValue;
use palisade_test::bench::{Row, keep, report, time_ns, time_pair};
use palisade_test::ready_now;
use serde_json::Value;

const KRATE: &str = "palisade-crypt";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The raw AEAD: a fresh random nonce, encrypt in place, decrypt in place.
struct Raw {
    cipher: Aes256Gcm,
    aad: Vec<u8>,
}

impl Raw {
    fn pair(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).unwrap();
        let nonce = Nonce::from(nonce);
        let mut buffer = plaintext.to_vec();
        let tag = self
            .cipher
            .encrypt_inout_detached(&nonce, &self.aad, buffer.as_mut_slice().into())
            .unwrap();
        let mut opened = buffer.clone();
        self.cipher
            .decrypt_inout_detached(
                &nonce,
                &self.aad,
                opened.as_mut_slice().into(),
                &Tag::from(tag),
            )
            .unwrap();
        opened
    }
}

fn main() {
    let store = Arc::new(MemoryKeyStore::new());
    let envelope = Envelope::new(
        KeyName::new("pii").unwrap(),
        Arc::new(LocalKeyWrapper::new(1, &SecretValue::from_bytes(vec![1; 32])).unwrap()),
        store.clone(),
    );
    let scope = KeyScope::new("user:42").unwrap();
    let context = Context::new()
        .with("tenant", "acme")
        .unwrap()
        .with("table", "patients")
        .unwrap()
        .with("field", "notes")
        .unwrap()
        .with("id", "65f0c0ffee0000000000abcd")
        .unwrap();
    // The data key the envelope uses, recovered from its store, for the raw peer.
    let probe = ready_now(envelope.encrypt(&scope, &context, b"probe")).unwrap();
    let stored = ready_now(palisade_crypt::DataKeyStore::load(
        store.as_ref(),
        &probe.data_key_id(),
    ))
    .unwrap()
    .unwrap();
    let data_key = ready_now(palisade_crypt::KeyWrapper::unwrap_key(
        &LocalKeyWrapper::new(1, &SecretValue::from_bytes(vec![1; 32])).unwrap(),
        &stored.wrapped,
        &palisade_crypt::WrapContext {
            key_name: stored.key_name.clone(),
            data_key: stored.id,
            scope: stored.scope.clone(),
            algorithm: stored.algorithm,
        },
    ))
    .unwrap();
    let (header, _) = probe.as_bytes().split_at(3 + 3 + 4 + 16 + 12);
    let mut aad = header.to_vec();
    aad.extend_from_slice(&context.canonical_bytes());
    let raw = Raw {
        cipher: Aes256Gcm::new(data_key.expose_bytes().into()),
        aad: aad.clone(),
    };

    // 1 KiB, encrypt + decrypt.
    let field = vec![0x5a; 1024];
    let (ours, peer) = time_pair(
        || {
            let sealed = ready_now(envelope.encrypt(&scope, &context, keep(&field))).unwrap();
            keep(ready_now(envelope.decrypt(&context, &sealed)).unwrap());
        },
        || {
            keep(raw.pair(keep(&field)));
        },
    );
    report(&Row {
        krate: KRATE,
        name: "encrypt + decrypt 1 KiB field, cached data key".into(),
        figure: ours,
        unit: "ns/op",
        peer: "aes-gcm 0.11 (raw AEAD, same key, nonce source and associated data)".into(),
        peer_figure: Some(peer),
        target: "<= 1.2x peer".into(),
        met: ours <= 1.2 * peer,
    });

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/python/aesgcm_peer.py");
    let python: Value = serde_json::from_str(&palisade_test::python::run_script(
        &script,
        &[&hex(data_key.expose_bytes()), &hex(&aad), "1024", "3"],
        "",
    ))
    .unwrap();
    let python_ns = python["ns_per_pair"].as_f64().unwrap();
    report(&Row {
        krate: KRATE,
        name: "encrypt + decrypt 1 KiB field vs Python".into(),
        figure: ours,
        unit: "ns/op",
        peer: "cryptography 50.0 AESGCM (Python)".into(),
        peer_figure: Some(python_ns),
        target: "<= 0.33x peer (3x faster)".into(),
        met: ours * 3.0 <= python_ns,
    });

    // 32 bytes, each way.
    let small = vec![0x33; 32];
    let encrypt_ns = time_ns(|| {
        keep(ready_now(envelope.encrypt(&scope, &context, keep(&small))).unwrap());
    });
    report(&Row {
        krate: KRATE,
        name: "encrypt 32-byte field, cached data key".into(),
        figure: encrypt_ns,
        unit: "ns/op",
        peer: "-".into(),
        peer_figure: None,
        target: "< 1000 ns".into(),
        met: encrypt_ns < 1000.0,
    });
    let sealed: Ciphertext = ready_now(envelope.encrypt(&scope, &context, &small)).unwrap();
    // A cache hit, isolated: the same decryption with the data key in hand (the header split,
    // the associated data built from the header and the context, AWS-LC's open, the plaintext
    // allocated), against the envelope's, which also finds the key in its cache.
    let aws_lc = aws_lc_rs::aead::LessSafeKey::new(
        aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, data_key.expose_bytes())
            .unwrap(),
    );
    let in_hand = || {
        let (header, body) = keep(&sealed).as_bytes().split_at(38);
        let mut aad = header.to_vec();
        aad.extend_from_slice(&context.canonical_bytes());
        let (encrypted, tag) = body.split_at(body.len() - 16);
        let mut opened = encrypted.to_vec();
        aws_lc
            .open_in_place_separate_tag(
                aws_lc_rs::aead::Nonce::try_assume_unique_for_key(&header[26..]).unwrap(),
                aws_lc_rs::aead::Aad::from(&aad),
                tag,
                &mut opened,
            )
            .unwrap();
        keep(opened);
    };
    let (decrypt_ns, in_hand_ns) = time_pair(
        || {
            keep(ready_now(envelope.decrypt(&context, keep(&sealed))).unwrap());
        },
        in_hand,
    );
    report(&Row {
        krate: KRATE,
        name: "decrypt 32-byte field, cached data key".into(),
        figure: decrypt_ns,
        unit: "ns/op",
        peer: "-".into(),
        peer_figure: None,
        target: "< 1000 ns".into(),
        met: decrypt_ns < 1000.0,
    });
    let added = decrypt_ns - in_hand_ns;
    report(&Row {
        krate: KRATE,
        name: "data-key cache hit (32-byte decryption, against the same work with the key in hand)"
            .into(),
        figure: added,
        unit: "ns/op",
        peer: "the same decryption with the key in hand (aws-lc-rs 1.19)".into(),
        peer_figure: Some(in_hand_ns),
        target: "< 100 ns added".into(),
        met: added < 100.0,
    });
    eprintln!(
        "32-byte decryption with the key in hand: {in_hand_ns:.1} ns; envelope: {decrypt_ns:.1} ns"
    );
}
