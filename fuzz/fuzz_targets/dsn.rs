//! `Dsn::parse` on arbitrary text: never panics; what parses keeps its text byte for byte,
//! its redacted form parses again, and a password that occurs once in the text is not in the
//! redacted form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_secrets::{Dsn, TlsPolicy};
use secrecy::ExposeSecret;

fuzz_target!(|text: &str| {
    let Ok(dsn) = Dsn::parse(text) else {
        return;
    };
    assert_eq!(dsn.expose_secret(), text);
    let redacted = dsn.to_string();
    assert!(Dsn::parse(&redacted).is_ok());
    if let Some(password) = dsn.password() {
        let password = password.expose_secret();
        // Checkable when the password is written as is (nothing percent-encoded or quoted),
        // occurs once, and has no `*` (which could join the mask and its neighbours).
        let verbatim = !text.contains(['%', '"', '\'', '{']);
        if verbatim && password.len() >= 4 && !password.contains('*') && text.matches(password).count() == 1 {
            assert!(!redacted.contains(password));
        }
    }
    let _ = (dsn.hosts(), dsn.params(), dsn.database(), dsn.username());
    let _ = dsn.check_tls(TlsPolicy::Production);
});
