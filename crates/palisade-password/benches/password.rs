//! palisade-password benchmarks, each against a peer in the same run:
//! - Argon2id hash at the default policy vs the `argon2` crate called directly with the same
//!   parameters (target: <= 1.05x), and hash and verify vs argon2-cffi (target: <= 1.0x);
//! - bcrypt cost 12 verify vs Python's `bcrypt` (target: <= 1.1x);
//! - PBKDF2-SHA256 at 600,000 iterations vs Python's `hashlib.pbkdf2_hmac` (target: <= 1.2x);
//! - a flood of 2,000 concurrent `verify_async` calls: peak RSS <= bound x m_cost + 64 MiB,
//!   and a 1 ms ticker on the same runtime never more than 20 ms late;
//! - `dummy_verify` vs a real failed verify: medians within 2% over 200 runs.
//!
//! The Python peers run from the project venv (`cargo xtask services up` installs them), in
//! `tests/python/hashes.py bench`, during this benchmark. Built with the `bench` profile
//! (release, one codegen unit, thin LTO).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark that cannot set up fails loudly"
)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use argon2::{Algorithm, Argon2, Params, Version};
use palisade_password::{Error, Passwords, Policy};
use palisade_test::bench::{
    Row, keep, median_ms, median_pair_ms, peak_rss_kib, report, reset_peak_rss,
};
use palisade_test::python::run_script;
use serde_json::Value;

const KRATE: &str = "palisade-password";
const PASSWORD: &str = "correct horse battery staple";
const FLOOD: usize = 2_000;

fn row(name: &str, ours: f64, peer: &str, peer_figure: f64, target: &str, met: bool) -> Row {
    Row {
        krate: KRATE,
        name: name.into(),
        figure: ours,
        unit: "ms/op",
        peer: peer.into(),
        peer_figure: Some(peer_figure),
        target: target.into(),
        met,
    }
}

/// The Python peers' medians, in milliseconds, and the bcrypt hash they verified.
fn python_peers(runs: usize) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/hashes.py");
    serde_json::from_str(&run_script(&script, &["bench", &runs.to_string()], "")).unwrap()
}

fn seconds_as_ms(peers: &Value, key: &str) -> f64 {
    peers[key].as_f64().unwrap() * 1e3
}

fn flood(hasher: &Passwords, stored: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let bound = std::thread::available_parallelism().unwrap().get();
    reset_peak_rss().unwrap();
    let (max_lag, busy) = runtime.block_on(async {
        let done = Arc::new(AtomicBool::new(false));
        let ticker = tokio::spawn({
            let done = Arc::clone(&done);
            async move {
                let mut interval = tokio::time::interval(Duration::from_millis(1));
                let mut max_lag = Duration::ZERO;
                while !done.load(Ordering::Relaxed) {
                    let scheduled = interval.tick().await;
                    max_lag = max_lag.max(tokio::time::Instant::now() - scheduled);
                }
                max_lag
            }
        });
        let calls: Vec<_> = (0..FLOOD)
            .map(|i| {
                let (hasher, stored) = (hasher.clone(), stored.to_owned());
                tokio::spawn(async move {
                    let password = if i % 2 == 0 { PASSWORD } else { "wrong" };
                    hasher.verify_async(password, &stored).await
                })
            })
            .collect();
        let mut busy = 0;
        for call in calls {
            match call.await.unwrap() {
                Ok(_) | Err(Error::Mismatch) => {}
                Err(Error::Busy) => busy += 1,
                Err(e) => panic!("flood verify failed: {e}"),
            }
        }
        done.store(true, Ordering::Relaxed);
        (ticker.await.unwrap(), busy)
    });
    let peak_mib = peak_rss_kib().unwrap() as f64 / 1024.0;
    let m_cost_mib = f64::from(hasher.policy().m_cost()) / 1024.0;
    let rss_target = bound as f64 * m_cost_mib + 64.0;
    report(&Row {
        krate: KRATE,
        name: format!("{FLOOD} concurrent verify_async, peak RSS ({busy} busy)"),
        figure: peak_mib,
        unit: "MiB",
        peer: format!("bound {bound} x m_cost + 64 MiB"),
        peer_figure: Some(rss_target),
        target: "<= 1.0x".into(),
        met: peak_mib <= rss_target,
    });
    let lag_ms = max_lag.as_secs_f64() * 1e3;
    report(&Row {
        krate: KRATE,
        name: format!("{FLOOD} concurrent verify_async, 1 ms ticker's worst lag"),
        figure: lag_ms,
        unit: "ms",
        peer: "the 20 ms limit".into(),
        peer_figure: Some(20.0),
        target: "<= 1.0x".into(),
        met: lag_ms <= 20.0,
    });
}

fn main() {
    let hasher = Passwords::new(Policy::DEFAULT).unwrap();
    let stored = hasher.hash(PASSWORD).unwrap();
    flood(&hasher, &stored);

    let policy = hasher.policy();
    let params = Params::new(policy.m_cost(), policy.t_cost(), policy.p_cost(), Some(32)).unwrap();
    let direct = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let (ours, peer) = median_pair_ms(
        31,
        || {
            keep(hasher.hash(keep(PASSWORD)).unwrap());
        },
        || {
            let mut out = [0u8; 32];
            direct
                .hash_password_into(keep(PASSWORD).as_bytes(), b"0123456789abcdef", &mut out)
                .unwrap();
            keep(out);
        },
    );
    report(&row(
        "Argon2id hash, m=19456 t=2 p=1",
        ours,
        "argon2 crate directly",
        peer,
        "<= 1.05x",
        ours <= 1.05 * peer,
    ));

    let peers = python_peers(21);
    let ours_hash = median_ms(21, || {
        keep(hasher.hash(keep(PASSWORD)).unwrap());
    });
    let cffi_hash = seconds_as_ms(&peers, "argon2_cffi_hash");
    report(&row(
        "Argon2id hash, m=19456 t=2 p=1",
        ours_hash,
        "argon2-cffi 25.1 (Python)",
        cffi_hash,
        "<= 1.0x",
        ours_hash <= cffi_hash,
    ));
    let ours_verify = median_ms(21, || {
        keep(hasher.verify(keep(PASSWORD), &stored).unwrap());
    });
    let cffi_verify = seconds_as_ms(&peers, "argon2_cffi_verify");
    report(&row(
        "Argon2id verify, m=19456 t=2 p=1",
        ours_verify,
        "argon2-cffi 25.1 (Python)",
        cffi_verify,
        "<= 1.0x",
        ours_verify <= cffi_verify,
    ));

    // Failed verifies: no upgrade hash is made, so only the scheme's own work is timed.
    let bcrypt_hash = peers["bcrypt_12_hash"].as_str().unwrap();
    let ours_bcrypt = median_ms(21, || {
        assert_eq!(
            hasher.verify("wrong", keep(bcrypt_hash)).unwrap_err(),
            Error::Mismatch
        );
    });
    let python_bcrypt = seconds_as_ms(&peers, "bcrypt_12_verify");
    report(&row(
        "bcrypt cost 12 verify",
        ours_bcrypt,
        "bcrypt 4.0.1 (Python)",
        python_bcrypt,
        "<= 1.1x",
        ours_bcrypt <= 1.1 * python_bcrypt,
    ));

    let pbkdf2_hash = "$pbkdf2-sha256$i=600000,l=32$c2FsdHNhbHRzYWx0c2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let ours_pbkdf2 = median_ms(21, || {
        assert_eq!(
            hasher.verify("wrong", keep(pbkdf2_hash)).unwrap_err(),
            Error::Mismatch
        );
    });
    let python_pbkdf2 = seconds_as_ms(&peers, "pbkdf2_sha256_600000");
    report(&row(
        "PBKDF2-SHA256 600,000 iterations verify",
        ours_pbkdf2,
        "hashlib.pbkdf2_hmac (Python)",
        python_pbkdf2,
        "<= 1.2x",
        ours_pbkdf2 <= 1.2 * python_pbkdf2,
    ));

    let (dummy, failed) = median_pair_ms(
        201,
        || {
            assert_eq!(
                hasher.dummy_verify(keep("unknown user")).unwrap_err(),
                Error::Mismatch
            );
        },
        || {
            assert_eq!(
                hasher.verify(keep("wrong"), &stored).unwrap_err(),
                Error::Mismatch
            );
        },
    );
    report(&row(
        "dummy_verify (unknown user)",
        dummy,
        "verify with a wrong password",
        failed,
        "within 2%",
        (dummy / failed - 1.0).abs() <= 0.02,
    ));
}
