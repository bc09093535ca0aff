//! `Passwords::verify` on an arbitrary stored hash: never panics, and no error quotes the
//! hash (checked with a marker appended to the text, so it lands in the hash's last field).
//! Stored-hash bounds are set to their lowest so a planted cost cannot stall the fuzzer.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use palisade_password::{Passwords, Policy, StoredLimits};

static HASHER: LazyLock<Option<Passwords>> = LazyLock::new(|| {
    let limits = StoredLimits::DEFAULT
        .with_max_memory_kib(Policy::MIN_M_COST)
        .ok()?
        .with_max_bcrypt_cost(4)
        .ok()?
        .with_max_pbkdf2_iterations(1000)
        .ok()?;
    let policy = Policy::argon2id(Policy::MIN_M_COST, 5, 1).ok()?;
    Passwords::new(policy.with_stored_limits(limits)).ok()
});

fuzz_target!(|text: &str| {
    let Some(hasher) = HASHER.as_ref() else {
        return;
    };
    let _ = hasher.verify("password", text);
    const MARKER: &str = "Qz9MarkerQz9";
    if let Err(err) = hasher.verify("password", &format!("{text}{MARKER}")) {
        assert!(!err.to_string().contains("Qz9Marker"));
        assert!(!format!("{err:?}").contains("Qz9Marker"));
    }
});
