//! `palisade crypt` as an operator runs it (R-CRY-1): encrypt and decrypt with a local key
//! from a secret reference, bound to a context; a wrong key, a wrong context or altered bytes
//! exit 1 with one message that does not say which; input that is not a ciphertext exits 2;
//! `inspect` reads the header without the key; no plaintext in any message.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use palisade_test::{Canary, unique_name};
use serde_json::Value;

const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
// The same 32 bytes in standard base64.
const B64_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("FIELD_KEY", HEX_KEY),
        ("FIELD_KEY_B64", B64_KEY),
        (
            "OTHER_KEY",
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        ),
        ("SHORT_KEY", "00ff"),
    ]
}

fn encrypt(plaintext: &str, context: &str) -> String {
    let (code, out, err) = common::run(
        &[
            "crypt",
            "encrypt",
            "--key",
            "env:FIELD_KEY",
            "--context",
            context,
        ],
        &env(),
        None,
        plaintext,
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with('\n'));
    out.trim().to_owned()
}

fn decrypt(ciphertext: &str, key: &str, context: &str) -> (i32, String, String) {
    common::run(
        &["crypt", "decrypt", "--key", key, "--context", context],
        &env(),
        None,
        ciphertext,
    )
}

#[test]
fn values_round_trip_only_with_their_key_and_context() {
    let canary = Canary::new();
    let plaintext = format!("{} · ünïcödé", canary.value());
    let ciphertext = encrypt(
        &format!("{plaintext}\n"),
        "tenant=acme,table=patients,field=ssn,id=7",
    );
    canary.assert_absent("ciphertext", &ciphertext);
    // The same key in another spelling, the context in another order or split.
    for (key, context) in [
        ("env:FIELD_KEY", "tenant=acme,table=patients,field=ssn,id=7"),
        (
            "env:FIELD_KEY_B64",
            "id=7,field=ssn,table=patients,tenant=acme",
        ),
    ] {
        let (code, out, err) = decrypt(&ciphertext, key, context);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            out, plaintext,
            "exact bytes, the trailing line break dropped at encryption"
        );
    }
    // Wrong key, each context entry changed, one missing, one extra: exit 1, one message.
    let failures = [
        ("env:OTHER_KEY", "tenant=acme,table=patients,field=ssn,id=7"),
        (
            "env:FIELD_KEY",
            "tenant=other,table=patients,field=ssn,id=7",
        ),
        ("env:FIELD_KEY", "tenant=acme,table=staff,field=ssn,id=7"),
        (
            "env:FIELD_KEY",
            "tenant=acme,table=patients,field=name,id=7",
        ),
        ("env:FIELD_KEY", "tenant=acme,table=patients,field=ssn,id=8"),
        ("env:FIELD_KEY", "tenant=acme,table=patients,field=ssn"),
        (
            "env:FIELD_KEY",
            "tenant=acme,table=patients,field=ssn,id=7,x=y",
        ),
    ];
    for (key, context) in failures {
        let (code, out, err) = decrypt(&ciphertext, key, context);
        assert_eq!(code, 1, "{key} {context}: {err}");
        assert_eq!(out, "");
        assert_eq!(err, "palisade: the ciphertext could not be decrypted\n");
        canary.assert_absent("stderr", &err);
    }
}

#[test]
fn every_altered_character_fails_and_never_decrypts() {
    let ciphertext = encrypt("078-05-1120", "id=7");
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for at in 0..ciphertext.len() {
        let mut bytes = ciphertext.clone().into_bytes();
        let current = alphabet.iter().position(|c| *c == bytes[at]).unwrap();
        bytes[at] = alphabet[(current + 1 + at % 63) % 64];
        let altered = String::from_utf8(bytes).unwrap();
        let (code, out, err) = decrypt(&altered, "env:FIELD_KEY", "id=7");
        assert!(code == 1 || code == 2, "char {at}: {code} {err}");
        assert_eq!(out, "", "char {at}");
        assert!(!err.contains("078-05-1120"));
    }
}

#[test]
fn inspect_reads_the_header_without_the_key() {
    let ciphertext = encrypt("hello", "id=1");
    let (code, out, err) = common::run(&["crypt", "inspect"], &[], None, &ciphertext);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("format 1\nalgorithm A256GCM\nkey local version 1\ndata key "),
        "{out}"
    );
    assert!(out.ends_with("plaintext 5 bytes\n"), "{out}");
    let (code, out, _) = common::run(
        &["crypt", "inspect", "--format", "json"],
        &[],
        None,
        &ciphertext,
    );
    assert_eq!(code, 0);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["algorithm"], "A256GCM");
    assert_eq!(json["key_name"], "local");
    assert_eq!(json["key_version"], 1);
    assert_eq!(json["data_key_id"].as_str().unwrap().len(), 32);
    assert_eq!(json["plaintext_len"], 5);
    for garbage in ["", "not base64!", "AAAA", &"A".repeat(100)] {
        let (code, _, err) = common::run(&["crypt", "inspect"], &[], None, garbage);
        assert_eq!(code, 2, "{garbage:?}");
        assert!(
            err.starts_with("palisade: not a palisade-crypt ciphertext"),
            "{err}"
        );
    }
}

#[test]
fn key_names_versions_and_gcm_siv_are_written_and_checked() {
    let (code, out, err) = common::run(
        &[
            "crypt",
            "encrypt",
            "--key",
            "env:FIELD_KEY",
            "--context",
            "id=1",
            "--key-name",
            "pii.v2",
            "--key-version",
            "9",
            "--siv",
        ],
        &env(),
        None,
        "siv",
    );
    assert_eq!(code, 0, "{err}");
    let ciphertext = out.trim();
    let (_, header, _) = common::run(&["crypt", "inspect"], &[], None, ciphertext);
    assert!(
        header.contains("algorithm A256GCM-SIV\nkey pii.v2 version 9\n"),
        "{header}"
    );
    let args = |extra: &[&'static str]| {
        let mut args = vec![
            "crypt",
            "decrypt",
            "--key",
            "env:FIELD_KEY",
            "--context",
            "id=1",
        ];
        args.extend_from_slice(extra);
        args
    };
    let (code, out, _) = common::run(
        &args(&["--key-name", "pii.v2", "--key-version", "9", "--siv"]),
        &env(),
        None,
        ciphertext,
    );
    assert_eq!((code, out.as_str()), (0, "siv"));
    for wrong in [
        &["--key-name", "pii.v2", "--key-version", "9"][..],
        &["--key-name", "pii", "--key-version", "9", "--siv"][..],
        &["--key-name", "pii.v2", "--key-version", "8", "--siv"][..],
    ] {
        let (code, _, _) = common::run(&args(wrong), &env(), None, ciphertext);
        assert_eq!(code, 1, "{wrong:?}");
    }
}

#[test]
fn usage_errors_exit_2_and_name_the_problem() {
    let dir = std::env::temp_dir().join(unique_name("crypt-cli"));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["crypt", "encrypt", "--key", "env:SHORT_KEY"],
            "invalid key material",
        ),
        (&["crypt", "encrypt", "--key", "env:MISSING"], "not found"),
        (
            &[
                "crypt",
                "encrypt",
                "--key",
                "env:FIELD_KEY",
                "--context",
                "novalue",
            ],
            "not written name=value",
        ),
        (
            &[
                "crypt",
                "encrypt",
                "--key",
                "env:FIELD_KEY",
                "--context",
                "a=1,a=2",
            ],
            "named twice",
        ),
        (
            &[
                "crypt",
                "encrypt",
                "--key",
                "env:FIELD_KEY",
                "--key-name",
                "no spaces",
            ],
            "key name",
        ),
    ];
    for (args, says) in cases {
        let (code, out, err) = common::run(args, &env(), Some(&dir), "x");
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(out, "");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains(HEX_KEY));
    }
    let (code, _, _) = common::run(&["crypt", "encrypt"], &env(), None, "x");
    assert_eq!(code, 2);
}

/// Found by an outside attacker: a key or a context value written where a reference or a name
/// belongs was echoed in errors; stdin lost trailing line breaks and long tails; `--key -`
/// read an unbounded stdin; weak keys were taken; a header altered in transit exited 2.
#[test]
fn attacker_findings_stay_fixed() {
    let key_b64 = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg=";
    let (code, _, err) = common::run(
        &["crypt", "encrypt", "--key", &format!("base64:{key_b64}")],
        &env(),
        None,
        "x",
    );
    assert_eq!(code, 2);
    assert!(!err.contains(key_b64), "{err}");
    let (code, _, err) = common::run(
        &[
            "crypt",
            "encrypt",
            "--key",
            "env:FIELD_KEY",
            "--context",
            "email=alice@example.com,bob@example.org",
        ],
        &env(),
        None,
        "x",
    );
    assert_eq!(code, 2);
    assert!(err.contains("entry 2") && !err.contains("bob"), "{err}");
    // Exactly one trailing line break is dropped.
    let ciphertext = encrypt("abc\n\n", "id=1");
    let (code, out, _) = decrypt(&ciphertext, "env:FIELD_KEY", "id=1");
    assert_eq!((code, out.as_str()), (0, "abc\n"));
    let ciphertext = encrypt("abc\r\n", "id=1");
    assert_eq!(decrypt(&ciphertext, "env:FIELD_KEY", "id=1").1, "abc");
    // A plaintext over the limit is refused, however many line breaks precede its tail.
    let long = format!("{}\n\n\n\nTAIL", "A".repeat(16 * 1024 * 1024));
    let (code, out, err) = common::run(
        &["crypt", "encrypt", "--key", "env:FIELD_KEY"],
        &env(),
        None,
        &long,
    );
    assert_eq!(code, 2, "{err}");
    assert_eq!(out, "");
    assert!(err.contains("longer than"), "{err}");
    // The key never comes from stdin.
    let (code, _, err) = common::run(&["crypt", "encrypt", "--key", "-"], &env(), None, HEX_KEY);
    assert_eq!(code, 2);
    assert!(err.contains("cannot come from stdin"), "{err}");
    // Text and repeated bytes are no keys.
    for weak in [
        "passwordpasswordpasswordpassword",
        "0123456789abcdef0123456789abcdef",
        &"A".repeat(43),
        &"0".repeat(64),
    ] {
        let (code, _, err) = common::run(
            &["crypt", "encrypt", "--key", "env:WEAK"],
            &[("WEAK", weak)],
            None,
            "x",
        );
        assert_eq!(code, 2, "{weak}: {err}");
        assert!(!err.contains(weak));
    }
    // A header altered in transit is the one failure, exit 1.
    let ciphertext = encrypt("abc", "id=1");
    let mut bytes = palisade_crypt::decode_text(&ciphertext).unwrap();
    for (at, value) in [(0usize, 9u8), (1, 7), (2, 0)] {
        let mut altered = bytes.clone();
        altered[at] = value;
        let text = palisade_crypt::Ciphertext::from_bytes(altered).map_or_else(
            |_| base64_url(&bytes_with(&bytes, at, value)),
            |c| c.to_text(),
        );
        let (code, _, err) = decrypt(&text, "env:FIELD_KEY", "id=1");
        assert_eq!(code, 1, "byte {at}: {err}");
        assert_eq!(err, "palisade: the ciphertext could not be decrypted\n");
    }
    bytes.truncate(10);
    let (code, _, _) = decrypt(&base64_url(&bytes), "env:FIELD_KEY", "id=1");
    assert_eq!(code, 1);
}

fn bytes_with(bytes: &[u8], at: usize, value: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] = value;
    out
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
