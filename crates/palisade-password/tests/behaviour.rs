//! Policies, typed errors for bad stored hashes, bounds, peppers, the dummy verify and hygiene.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

use palisade_password::{
    Error, HashScheme, Passwords, Pepper, PepperError, Peppers, Policy, PolicyError, RehashReason,
    StoredLimits,
};
use palisade_secrets::{FileSource, SecretRef};
use palisade_test::Canary;

/// OWASP's cheapest configuration: the tests' hashes stay quick.
fn cheap() -> Policy {
    Policy::argon2id(7_168, 5, 1).unwrap()
}

#[test]
fn policies_below_the_owasp_floor_are_refused() {
    assert_eq!(
        Policy::argon2id(4_096, 10, 1).unwrap_err(),
        PolicyError::ParamBelowMin {
            name: "m_cost",
            min: 7_168
        }
    );
    assert_eq!(
        Policy::argon2id(19_456, 1, 1).unwrap_err(),
        PolicyError::WorkBelowFloor { min: 35_840 }
    );
    assert_eq!(
        Policy::argon2id(19_456, 0, 1).unwrap_err(),
        PolicyError::ParamBelowMin {
            name: "t_cost",
            min: 1
        }
    );
    assert_eq!(
        Policy::argon2id(19_456, 2, 65).unwrap_err(),
        PolicyError::ParamAboveMax {
            name: "p_cost",
            max: 64
        }
    );
    for (m, t) in [
        (47_104, 1),
        (19_456, 2),
        (12_288, 3),
        (9_216, 4),
        (7_168, 5),
    ] {
        assert!(Policy::argon2id(m, t, 1).is_ok(), "OWASP's m={m} t={t}");
    }
    assert_eq!(
        Policy::DEFAULT
            .with_max_password_len(0)
            .unwrap_err()
            .to_string(),
        "policy parameter max_password_len is below the minimum of 1"
    );
    assert!(StoredLimits::DEFAULT.with_max_bcrypt_cost(32).is_err());
    assert!(StoredLimits::DEFAULT.with_max_memory_kib(1024).is_err());
}

#[test]
fn unknown_and_malformed_hashes_get_typed_errors_that_never_quote_the_hash() {
    let canary = Canary::new();
    let c = canary.value();
    let hasher = Passwords::new(cheap()).unwrap();
    let cases: Vec<(String, Error)> = vec![
        (format!("md5${c}"), Error::FormatUnknown),
        (c.to_owned(), Error::FormatUnknown),
        (
            format!("$argon2id$v=19$m=1024,t=2,p=1${c}"),
            Error::FormatMalformed {
                scheme: HashScheme::Argon2id,
                problem: "it has no hash",
            },
        ),
        (
            format!("$argon2id$v=19$m=1024,t=2,p=1,x=1${c}$AAAAAAAAAAAAAAAAAAAAAA"),
            Error::FormatMalformed {
                scheme: HashScheme::Argon2id,
                problem: "it has an unknown parameter",
            },
        ),
        (
            format!("$argon2id$v=18$m=1024,t=2,p=1${c}$AAAAAAAAAAAAAAAAAAAAAA"),
            Error::FormatMalformed {
                scheme: HashScheme::Argon2id,
                problem: "its version is not 16 or 19",
            },
        ),
        (
            format!("$2b$04${c}"),
            Error::FormatMalformed {
                scheme: HashScheme::Bcrypt,
                problem: "it is not a 60-character bcrypt hash",
            },
        ),
        (
            format!("$pbkdf2-sha256$x1000${c}$abc"),
            Error::FormatMalformed {
                scheme: HashScheme::PasslibPbkdf2Sha256,
                problem: "its rounds are not a number",
            },
        ),
        (
            format!("pbkdf2_sha256$1000${c}$!!!"),
            Error::FormatMalformed {
                scheme: HashScheme::DjangoPbkdf2Sha256,
                problem: "its hash is not base64",
            },
        ),
        (
            format!("scrypt$1000${c}$8$1$AAAA"),
            Error::FormatMalformed {
                scheme: HashScheme::DjangoScrypt,
                problem: "its N is not a power of two",
            },
        ),
        (
            format!("{c}{}", "x".repeat(1100)),
            Error::StoredTooLong { max: 1024 },
        ),
    ];
    for (stored, expected) in cases {
        let err = hasher.verify("password", &stored).unwrap_err();
        assert_eq!(err, expected);
        canary.assert_not_in_error(&err);
        canary.assert_not_in_debug(&err);
    }
}

/// Hashes an attacker who can write one row plants so that every sign-in against it burns
/// seconds: each within every per-parameter bound, each past four times the policy's work.
#[test]
fn planted_hashes_within_each_parameter_bound_are_refused_by_total_work() {
    let hasher = Passwords::new(Policy::DEFAULT).unwrap();
    let max = StoredLimits::DEFAULT.max_work();
    assert_eq!(max, 4 * 19_456 * 2);
    let salt_and_hash = "c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let planted = [
        (
            format!("$argon2id$v=19$m=262144,t=32,p=1${salt_and_hash}"),
            HashScheme::Argon2id,
        ),
        (
            format!("$argon2id$v=19$m=65536,t=4,p=16${salt_and_hash}"),
            HashScheme::Argon2id,
        ),
        (
            format!("$scrypt$ln=20,r=2,p=16${salt_and_hash}"),
            HashScheme::Scrypt,
        ),
        (
            "$2b$13$M8ue616x3G5stQnzii/ApOWLv1JvW9x9xsgWA9El8hAqSDhDohk4K".to_owned(),
            HashScheme::Bcrypt,
        ),
        (
            "pbkdf2_sha256$4000000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned(),
            HashScheme::DjangoPbkdf2Sha256,
        ),
    ];
    for (stored, scheme) in planted {
        assert_eq!(
            hasher.verify("pw-long-enough", &stored).unwrap_err(),
            Error::ParamOutOfBounds {
                scheme,
                name: "work",
                max
            },
            "{stored}"
        );
    }
    // A policy that costs more admits proportionally more, and a factor narrows it.
    let heavy = Policy::argon2id(65_536, 3, 1).unwrap();
    assert_eq!(heavy.stored_limits().max_work(), 4 * 65_536 * 3);
    let narrow = heavy.with_stored_limits(StoredLimits::DEFAULT.with_max_work_factor(1).unwrap());
    assert_eq!(narrow.stored_limits().max_work(), 65_536 * 3);
    assert!(StoredLimits::DEFAULT.with_max_work_factor(0).is_err());
}

#[test]
fn stored_hashes_past_the_bounds_are_refused_before_any_work() {
    let hasher = Passwords::new(cheap()).unwrap();
    let salt_and_hash = "c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    // 4 GiB of memory: refused instantly rather than allocated.
    let huge = format!("$argon2id$v=19$m=4194304,t=2,p=1${salt_and_hash}");
    assert_eq!(
        hasher.verify("pw-long-enough", &huge).unwrap_err(),
        Error::ParamOutOfBounds {
            scheme: HashScheme::Argon2id,
            name: "m",
            max: 262_144
        }
    );
    let slow = format!("$argon2id$v=19$m=8192,t=1000,p=1${salt_and_hash}");
    assert_eq!(
        hasher.verify("pw-long-enough", &slow).unwrap_err(),
        Error::ParamOutOfBounds {
            scheme: HashScheme::Argon2id,
            name: "t",
            max: 32
        }
    );
    let bcrypt31 = "$2b$31$M8ue616x3G5stQnzii/ApOWLv1JvW9x9xsgWA9El8hAqSDhDohk4K";
    assert_eq!(
        hasher.verify("pw-long-enough", bcrypt31).unwrap_err(),
        Error::ParamOutOfBounds {
            scheme: HashScheme::Bcrypt,
            name: "cost",
            max: 15
        }
    );
    let pbkdf2 = "pbkdf2_sha256$900000000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert_eq!(
        hasher.verify("pw-long-enough", pbkdf2).unwrap_err(),
        Error::ParamOutOfBounds {
            scheme: HashScheme::DjangoPbkdf2Sha256,
            name: "iterations",
            max: 5_000_000
        }
    );
    // 128 · 8 · 2^20 bytes = 1 GiB.
    let scrypt =
        "$scrypt$ln=20,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_eq!(
        hasher.verify("pw-long-enough", scrypt).unwrap_err(),
        Error::ParamOutOfBounds {
            scheme: HashScheme::Scrypt,
            name: "memory",
            max: 262_144
        }
    );
    let django = format!("argon2$argon2id$v=19$m=4194304,t=2,p=1${salt_and_hash}");
    assert_eq!(
        hasher.verify("pw-long-enough", &django).unwrap_err(),
        Error::ParamOutOfBounds {
            scheme: HashScheme::DjangoArgon2,
            name: "m",
            max: 262_144
        }
    );
    let lower = StoredLimits::DEFAULT.with_max_bcrypt_cost(10).unwrap();
    let strict = Passwords::new(cheap().with_stored_limits(lower)).unwrap();
    let bcrypt12 = "$2b$12$M8ue616x3G5stQnzii/ApOWLv1JvW9x9xsgWA9El8hAqSDhDohk4K";
    assert_eq!(
        strict.verify("pw-long-enough", bcrypt12).unwrap_err(),
        Error::ParamOutOfBounds {
            scheme: HashScheme::Bcrypt,
            name: "cost",
            max: 10
        }
    );
}

#[test]
fn passwords_past_the_maximum_are_refused_before_hashing() {
    let hasher = Passwords::new(cheap()).unwrap();
    let at_max = "p".repeat(4096);
    let stored = hasher.hash(&at_max).unwrap();
    assert!(hasher.verify(&at_max, &stored).is_ok());
    let over = "p".repeat(4097);
    assert_eq!(
        hasher.hash(&over).unwrap_err(),
        Error::PasswordTooLong { max: 4096 }
    );
    assert_eq!(
        hasher.verify(&over, &stored).unwrap_err(),
        Error::PasswordTooLong { max: 4096 }
    );
    assert_eq!(
        hasher.dummy_verify(&over).unwrap_err(),
        Error::PasswordTooLong { max: 4096 }
    );
    let short = Passwords::new(cheap().with_max_password_len(64).unwrap()).unwrap();
    assert_eq!(
        short.hash(&"p".repeat(65)).unwrap_err().to_string(),
        "password is longer than 64 bytes"
    );
}

#[test]
fn current_hashes_need_no_rehash_and_stronger_policies_ask_for_one() {
    let hasher = Passwords::new(cheap()).unwrap();
    let stored = hasher.hash("pw-long-enough").unwrap();
    assert!(
        stored.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"),
        "{stored}"
    );
    let verified = hasher.verify("pw-long-enough", &stored).unwrap();
    assert_eq!(verified.scheme(), HashScheme::Argon2id);
    assert_eq!(verified.rehash_reason(), None);
    assert_eq!(verified.upgraded_hash(), None);
    assert_ne!(
        hasher.hash("pw-long-enough").unwrap(),
        stored,
        "every hash has its own salt"
    );

    let stronger = Passwords::new(Policy::argon2id(7_168, 6, 1).unwrap()).unwrap();
    let verified = stronger.verify("pw-long-enough", &stored).unwrap();
    assert_eq!(
        verified.rehash_reason(),
        Some(RehashReason::WeakerParameters)
    );
    assert!(
        verified
            .upgraded_hash()
            .unwrap()
            .starts_with("$argon2id$v=19$m=7168,t=6,p=1$")
    );
    assert_eq!(
        stronger.verify("wrong", &stored).unwrap_err(),
        Error::Mismatch
    );
}

#[test]
fn dummy_verify_always_mismatches() {
    let hasher = Passwords::new(cheap()).unwrap();
    for password in ["pw-long-enough", "correct horse battery staple", "short"] {
        assert_eq!(hasher.dummy_verify(password).unwrap_err(), Error::Mismatch);
    }
    // An empty password is refused before any work, by a real verify and a dummy alike.
    assert_eq!(
        hasher.dummy_verify("").unwrap_err(),
        Error::PasswordTooShort { min: 1 }
    );
}

#[test]
fn new_passwords_meet_the_minimum_and_an_empty_one_never_verifies() {
    let hasher = Passwords::new(cheap()).unwrap();
    assert_eq!(
        hasher.hash("seven77").unwrap_err(),
        Error::PasswordTooShort { min: 8 }
    );
    // Characters, not bytes: eight of them in 16 bytes is long enough.
    let stored = hasher.hash("ééééééé1").unwrap();
    assert!(hasher.verify("ééééééé1", &stored).is_ok());
    assert_eq!(
        hasher.verify("", &stored).unwrap_err(),
        Error::PasswordTooShort { min: 1 }
    );
    // A legacy password shorter than today's minimum still verifies.
    let lenient = Passwords::new(cheap().with_min_password_len(4).unwrap()).unwrap();
    let old = lenient.hash("four").unwrap();
    assert!(hasher.verify("four", &old).is_ok());
    assert!(cheap().with_min_password_len(0).is_err());
    assert!(cheap().with_min_password_len(5000).is_err());
}

fn pepper(id: &str, byte: u8) -> Pepper {
    Pepper::new(id, vec![byte; 32]).unwrap()
}

#[test]
fn peppers_rotate_old_ones_verify_and_ask_for_a_rehash() {
    let v1 = Passwords::with_peppers(cheap(), Peppers::new(pepper("v1", 1))).unwrap();
    let stored_v1 = v1.hash("pw-long-enough").unwrap();
    assert!(stored_v1.contains(",keyid=djE$"), "{stored_v1}");
    assert!(
        !v1.verify("pw-long-enough", &stored_v1)
            .unwrap()
            .rehash_due()
    );

    let unpeppered = Passwords::new(cheap()).unwrap();
    assert_eq!(
        unpeppered.verify("pw-long-enough", &stored_v1).unwrap_err(),
        Error::PepperUnknown {
            key_id: "v1".into()
        }
    );

    let peppers = Peppers::new(pepper("v2", 2))
        .with_previous(pepper("v1", 1))
        .unwrap();
    let v2 = Passwords::with_peppers(cheap(), peppers).unwrap();
    let verified = v2.verify("pw-long-enough", &stored_v1).unwrap();
    assert_eq!(verified.rehash_reason(), Some(RehashReason::OldPepper));
    let stored_v2 = verified.into_upgraded_hash().unwrap();
    assert!(stored_v2.contains(",keyid=djI$"), "{stored_v2}");
    assert!(
        !v2.verify("pw-long-enough", &stored_v2)
            .unwrap()
            .rehash_due()
    );
    assert_eq!(v2.verify("wrong", &stored_v1).unwrap_err(), Error::Mismatch);

    // The same key id with another secret is another pepper: nothing verifies.
    let impostor = Passwords::with_peppers(cheap(), Peppers::new(pepper("v2", 9))).unwrap();
    assert_eq!(
        impostor.verify("pw-long-enough", &stored_v2).unwrap_err(),
        Error::Mismatch
    );

    // Unpeppered hashes verify under a peppered hasher and ask to be peppered.
    let plain = unpeppered.hash("pw-long-enough").unwrap();
    assert_eq!(
        v2.verify("pw-long-enough", &plain).unwrap().rehash_reason(),
        Some(RehashReason::NotPeppered)
    );
    // The dummy verify is peppered like a real one.
    assert_eq!(
        v2.dummy_verify("pw-long-enough").unwrap_err(),
        Error::Mismatch
    );
}

#[test]
fn pepper_configuration_errors_are_typed() {
    assert!(matches!(
        Pepper::new("", vec![1; 32]),
        Err(PepperError::KeyIdInvalid)
    ));
    assert!(matches!(
        Pepper::new("123456789", vec![1; 32]),
        Err(PepperError::KeyIdInvalid)
    ));
    assert!(matches!(
        Pepper::new("a b", vec![1; 32]),
        Err(PepperError::KeyIdInvalid)
    ));
    assert!(matches!(
        Pepper::new("v1", vec![1; 15]),
        Err(PepperError::TooShort { min: 16 })
    ));
    assert!(matches!(
        Peppers::new(pepper("v1", 1)).with_previous(pepper("v1", 2)),
        Err(PepperError::KeyIdDuplicated { .. })
    ));
}

#[tokio::test]
async fn a_pepper_is_read_through_palisade_secrets() {
    let canary = Canary::new();
    let dir = std::env::temp_dir().join(format!("palisade-pepper-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pepper");
    std::fs::write(&path, format!("{}\n", canary.value())).unwrap();
    let reference: SecretRef = format!("file:{}", path.display()).parse().unwrap();
    let pepper = Pepper::fetch("2026a", &FileSource::new(), &reference)
        .await
        .unwrap();
    assert_eq!(format!("{pepper:?}"), r#"Pepper { key_id: "2026a", .. }"#);
    let hasher = Passwords::with_peppers(cheap(), Peppers::new(pepper)).unwrap();
    canary.assert_not_in_debug(&hasher);
    let stored = hasher.hash("pw-long-enough").unwrap();
    canary.assert_absent("hash", &stored);
    assert!(hasher.verify("pw-long-enough", &stored).is_ok());

    let missing: SecretRef = format!("file:{}", dir.join("absent").display())
        .parse()
        .unwrap();
    let err = Pepper::fetch("2026a", &FileSource::new(), &missing)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PepperError::Secret(ref e) if e.is_not_found()),
        "{err:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn debug_output_is_pinned_and_holds_no_secret() {
    let hasher = Passwords::with_peppers(cheap(), Peppers::new(pepper("v1", 7))).unwrap();
    assert_eq!(
        format!("{hasher:?}"),
        "Passwords { policy: Policy { m_cost: 7168, t_cost: 5, p_cost: 1, \
         max_password_len: 4096, min_password_len: 8, concurrency: None, queue_bound: 4096, stored: StoredLimits { \
         max_memory_kib: 262144, max_passes: 32, max_parallelism: 16, max_bcrypt_cost: 15, \
         max_pbkdf2_iterations: 5000000, max_work_factor: 4, reference_work: 35840 } }, pepper: Some(\"v1\"), .. }"
    );
    let stored = hasher.hash("pw-long-enough").unwrap();
    let verified = Passwords::with_peppers(
        Policy::argon2id(7_168, 6, 1).unwrap(),
        Peppers::new(pepper("v1", 7)),
    )
    .unwrap()
    .verify("pw-long-enough", &stored)
    .unwrap();
    let debug = format!("{verified:?}");
    assert_eq!(
        debug,
        "Verified { scheme: Argon2id, rehash: Some(WeakerParameters), .. }"
    );
    assert!(!debug.contains(verified.upgraded_hash().unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_calls_answer_as_the_blocking_ones_do() {
    let hasher = Passwords::new(cheap()).unwrap();
    let stored = hasher.hash_async("pw-long-enough").await.unwrap();
    assert!(hasher.verify_async("pw-long-enough", &stored).await.is_ok());
    assert_eq!(
        hasher.verify_async("wrong", &stored).await.unwrap_err(),
        Error::Mismatch
    );
    assert_eq!(
        hasher
            .dummy_verify_async("pw-long-enough")
            .await
            .unwrap_err(),
        Error::Mismatch
    );
    assert_eq!(
        hasher
            .verify_async(&"p".repeat(5000), &stored)
            .await
            .unwrap_err(),
        Error::PasswordTooLong { max: 4096 }
    );
    assert_eq!(hasher.pending(), 0);
    assert_eq!(
        Error::Busy.to_string(),
        "password hashing is busy, retry later"
    );
}
