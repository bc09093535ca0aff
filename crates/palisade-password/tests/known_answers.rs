//! Known answers made at test time by the real libraries (passlib 1.7.4, Django 5.2,
//! argon2-cffi 25.1, bcrypt 4.0.1, Apache's htpasswd; pinned in `xtask/python/password.txt`),
//! and the reverse: hashes this crate makes verify under passlib and argon2-cffi.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use std::collections::BTreeMap;
use std::path::PathBuf;

use palisade_password::{Error, HashScheme, Passwords, Policy, RehashReason};
use palisade_test::python::run_script;
use serde_json::{Value, json};

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/hashes.py")
}

/// The scheme each maker's hashes must be recognised as.
fn expected_scheme(maker: &str) -> HashScheme {
    match maker {
        "passlib-argon2id" | "argon2-cffi-argon2id" => HashScheme::Argon2id,
        "argon2-cffi-argon2i" => HashScheme::Argon2i,
        "argon2-cffi-argon2d" => HashScheme::Argon2d,
        "django-bcrypt-sha256" => HashScheme::DjangoBcryptSha256,
        m if m.starts_with("passlib-bcrypt-sha256") => HashScheme::PasslibBcryptSha256,
        m if m.contains("bcrypt") || m.starts_with("htpasswd") => HashScheme::Bcrypt,
        "passlib-pbkdf2-sha256" => HashScheme::PasslibPbkdf2Sha256,
        "passlib-pbkdf2-sha512" => HashScheme::PasslibPbkdf2Sha512,
        "phc-pbkdf2-sha256" => HashScheme::Pbkdf2Sha256,
        "phc-pbkdf2-sha512" => HashScheme::Pbkdf2Sha512,
        "passlib-scrypt" => HashScheme::Scrypt,
        "django-pbkdf2-sha256" => HashScheme::DjangoPbkdf2Sha256,
        "django-argon2" => HashScheme::DjangoArgon2,
        "django-scrypt" => HashScheme::DjangoScrypt,
        other => panic!("no expectation for maker {other}"),
    }
}

#[test]
fn every_hash_the_real_libraries_make_verifies_and_upgrades() {
    let vectors: Vec<Value> = serde_json::from_str(&run_script(&script(), &["make"], "")).unwrap();
    let hasher = Passwords::new(Policy::DEFAULT).unwrap();
    let mut per_maker: BTreeMap<String, usize> = BTreeMap::new();
    for vector in &vectors {
        let maker = vector["scheme"].as_str().unwrap();
        let password = vector["password"].as_str().unwrap();
        let stored = vector["hash"].as_str().unwrap();
        let verified = hasher
            .verify(password, stored)
            .unwrap_or_else(|e| panic!("{maker}: the right password fails: {e}"));
        assert_eq!(verified.scheme(), expected_scheme(maker), "{maker}");
        // Every vector is legacy or made at a lower cost than the policy.
        let upgraded = verified
            .upgraded_hash()
            .unwrap_or_else(|| panic!("{maker}: no rehash"));
        let expected_reason = if verified.scheme() == HashScheme::Argon2id {
            RehashReason::WeakerParameters
        } else {
            RehashReason::LegacyScheme
        };
        assert_eq!(verified.rehash_reason(), Some(expected_reason), "{maker}");
        let again = hasher.verify(password, upgraded).unwrap();
        assert!(!again.rehash_due(), "{maker}: the upgraded hash is current");

        let wrong = format!("x{password}");
        assert_eq!(
            hasher.verify(&wrong, stored).unwrap_err(),
            Error::Mismatch,
            "{maker}: a wrong password"
        );
        *per_maker.entry(maker.to_owned()).or_default() += 1;
    }
    assert_eq!(
        per_maker.len(),
        20,
        "every maker produced vectors: {per_maker:?}"
    );
    assert!(per_maker.values().all(|&n| n == 3), "{per_maker:?}");
}

/// bcrypt hashes from the libraries users had ignore bytes past 72; verifying does too, and the
/// upgrade binds every byte.
#[test]
fn bcrypt_72_byte_limit_is_honoured_then_upgraded_away() {
    let vectors: Vec<Value> = serde_json::from_str(&run_script(&script(), &["make"], "")).unwrap();
    let hasher = Passwords::new(Policy::DEFAULT).unwrap();
    let long = vectors
        .iter()
        .find(|v| v["scheme"] == "htpasswd-2y" && v["password"].as_str().unwrap().len() > 72)
        .unwrap();
    let (password, stored) = (
        long["password"].as_str().unwrap(),
        long["hash"].as_str().unwrap(),
    );
    assert_eq!(password.len(), 80);
    let same_prefix = format!("{}{}", &password[..72], "DIFFERENT");
    let legacy = hasher.verify(&same_prefix, stored).unwrap();
    assert_eq!(
        legacy.scheme(),
        HashScheme::Bcrypt,
        "bytes past 72 never counted"
    );

    let upgraded = hasher
        .verify(password, stored)
        .unwrap()
        .into_upgraded_hash()
        .unwrap();
    assert_eq!(
        hasher.verify(&same_prefix, &upgraded).unwrap_err(),
        Error::Mismatch,
        "after the upgrade every byte counts"
    );
    // The pre-hashing forms never had the limit.
    let sha = vectors
        .iter()
        .find(|v| {
            v["scheme"] == "passlib-bcrypt-sha256-v2" && v["password"].as_str().unwrap().len() > 72
        })
        .unwrap();
    assert_eq!(
        hasher
            .verify(&same_prefix, sha["hash"].as_str().unwrap())
            .unwrap_err(),
        Error::Mismatch
    );
}

#[test]
fn hashes_this_crate_makes_verify_under_passlib_and_argon2_cffi() {
    let hasher = Passwords::new(Policy::argon2id(7_168, 5, 1).unwrap()).unwrap();
    let passwords = ["correct horse battery staple", "pässwörd-🔑", "exactly8"];
    let mut cases = Vec::new();
    for password in passwords {
        let hash = hasher.hash(password).unwrap();
        cases.push(json!({"password": password, "hash": hash}));
        cases.push(json!({"password": format!("{password}!"), "hash": hash}));
    }
    let out = run_script(
        &script(),
        &["verify"],
        &serde_json::to_string(&cases).unwrap(),
    );
    let results: Vec<Value> = serde_json::from_str(&out).unwrap();
    for (i, result) in results.iter().enumerate() {
        let right = i % 2 == 0;
        assert_eq!(result["passlib"], right, "case {i}: {result}");
        assert_eq!(result["argon2_cffi"], right, "case {i}: {result}");
    }
    assert_eq!(results.len(), 6);
}
