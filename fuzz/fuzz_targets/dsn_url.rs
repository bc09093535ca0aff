//! Differential: where both `Dsn::parse` and the `url` crate (which sqlx reads DSNs with)
//! accept a single-host URL DSN, they read the same host, port, user and password.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_secrets::{Dsn, Engine};
use percent_encoding::percent_decode_str;
use secrecy::ExposeSecret;

fn decoded(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

fuzz_target!(|text: &str| {
    if text.len() > 4096 {
        return;
    }
    let (Ok(dsn), Ok(url)) = (Dsn::parse(text), url::Url::parse(text)) else {
        return;
    };
    if dsn.engine() == Engine::Sqlite || dsn.scheme().is_none() {
        return;
    }
    // Host lists are no URL to the `url` crate; an empty host is no host to it.
    let hosts = dsn.hosts();
    let ([ours], Some(theirs)) = (hosts.as_slice(), url.host_str()) else {
        return;
    };
    let theirs = decoded(theirs.trim_start_matches('[').trim_end_matches(']'));
    assert!(
        ours.name.eq_ignore_ascii_case(&theirs),
        "host: {text:?}: Dsn {ours:?}, url {theirs:?}"
    );
    assert_eq!(ours.port, url.port(), "port: {text:?}");
    assert_eq!(
        dsn.username().unwrap_or_default(),
        decoded(url.username()),
        "user: {text:?}"
    );
    if let Some(password) = url.password() {
        let ours = dsn.password().map(|p| p.expose_secret().to_owned());
        assert_eq!(ours.as_deref(), Some(decoded(password).as_str()), "password: {text:?}");
    }
});
