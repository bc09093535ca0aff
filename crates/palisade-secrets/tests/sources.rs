//! The env, `.env` and file sources, JSON field selection, `Chain` and `Registry`, through the
//! public API, with a canary in every secret that an error or log could leak.
#![allow(
    clippy::unwrap_used,
    reason = "a test fails by panicking, with the location"
)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;

use palisade_secrets::{
    Chain, DotEnvSource, EnvSource, Fetch, FileSource, Metadata, Registry, SecretError, SecretRef,
    SecretSource, SecretValue, SourceCause,
};
use palisade_test::{Canary, LogCapture};

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

fn fetch(source: &dyn SecretSource, reference: &str) -> Result<SecretValue, SecretError> {
    let reference = SecretRef::parse(reference).unwrap();
    block_on(source.fetch(&reference))
}

/// A file in a fresh temporary directory, with mode 0600 unless told otherwise.
fn secret_file(name: &str, content: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("palisade-secrets-{}", Canary::new().value()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

#[test]
fn env_reads_the_process_environment() {
    // cargo and nextest set CARGO_PKG_NAME for every test process.
    let value = fetch(&EnvSource::new(), "env:CARGO_PKG_NAME").unwrap();
    assert_eq!(value.expose_str(), Some("palisade-secrets"));
    assert!(
        fetch(&EnvSource::new(), "env:PALISADE_SURELY_UNSET_VARIABLE")
            .unwrap_err()
            .is_not_found()
    );
    assert!(matches!(
        fetch(&EnvSource::new(), "file:/etc/hostname").unwrap_err(),
        SecretError::SchemeUnsupported { .. }
    ));
}

#[test]
fn env_falls_back_to_dotenv_but_never_overrides_a_set_variable() {
    let canary = Canary::new();
    let path = secret_file(
        ".env",
        format!(
            "CARGO_PKG_NAME=from-the-file\nPALISADE_ONLY_IN_FILE={}\n",
            canary.value()
        )
        .as_bytes(),
    );
    let source = EnvSource::with_dotenv_fallback(&path);
    assert_eq!(
        fetch(&source, "env:CARGO_PKG_NAME").unwrap().expose_str(),
        Some("palisade-secrets")
    );
    assert_eq!(
        fetch(&source, "env:PALISADE_ONLY_IN_FILE")
            .unwrap()
            .expose_str(),
        Some(canary.value())
    );
    assert!(
        fetch(&source, "env:PALISADE_IN_NEITHER")
            .unwrap_err()
            .is_not_found()
    );
}

#[test]
fn dotenv_reads_its_variable_and_later_lines_win() {
    let canary = Canary::new();
    let path = secret_file(
        "app.env",
        format!("# database\nDATABASE_URL=first\nexport DATABASE_URL=\"postgres://app:{}@db/app\"\nOTHER=x\n", canary.value())
            .as_bytes(),
    );
    let reference = format!("dotenv:{}#DATABASE_URL", path.display());
    let value = fetch(&DotEnvSource::new(), &reference).unwrap();
    assert_eq!(
        value.expose_str().unwrap(),
        format!("postgres://app:{}@db/app", canary.value())
    );
    assert!(
        fetch(
            &DotEnvSource::new(),
            &format!("dotenv:{}#MISSING", path.display())
        )
        .unwrap_err()
        .is_not_found()
    );
    assert!(
        fetch(&DotEnvSource::new(), "dotenv:/nonexistent/.env#X")
            .unwrap_err()
            .is_not_found()
    );
    // The process environment wins over the file.
    let path = secret_file(".env", b"CARGO_PKG_NAME=from-the-file\n");
    let value = fetch(
        &DotEnvSource::new(),
        &format!("dotenv:{}#CARGO_PKG_NAME", path.display()),
    )
    .unwrap();
    assert_eq!(value.expose_str(), Some("palisade-secrets"));
}

#[test]
fn a_malformed_dotenv_line_is_reported_by_number_not_content() {
    let canary = Canary::new();
    let path = secret_file(
        ".env",
        format!("A=1\n\nB=2\nbad line {}\nC=3\n", canary.value()).as_bytes(),
    );
    let err = fetch(
        &DotEnvSource::new(),
        &format!("dotenv:{}#C", path.display()),
    )
    .unwrap_err();
    assert!(
        matches!(err, SecretError::DotEnvLine { line: 4, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("{} line 4 is not a valid .env line", path.display())
    );
    canary.assert_not_in_error(&err);
}

#[test]
fn file_trims_trailing_newlines() {
    let canary = Canary::new();
    let path = secret_file(
        "db_password",
        format!("{}\r\n\n", canary.value()).as_bytes(),
    );
    let value = fetch(&FileSource::new(), &format!("file:{}", path.display())).unwrap();
    assert_eq!(value.expose_str(), Some(canary.value()));
    assert_eq!(value.len(), canary.value().len());
}

#[test]
fn file_selects_a_json_field() {
    let canary = Canary::new();
    let json = format!(
        r#"{{"username":"app","password":"{}\"x","port":5432,"dsn":{{"a":1}}}}"#,
        canary.value()
    );
    let path = secret_file("db.json", json.as_bytes());
    let at = |field: &str| format!("file:{}#{field}", path.display());
    let source = FileSource::new();
    assert_eq!(
        fetch(&source, &at("username")).unwrap().expose_str(),
        Some("app")
    );
    assert_eq!(
        fetch(&source, &at("password"))
            .unwrap()
            .expose_str()
            .unwrap(),
        format!("{}\"x", canary.value())
    );
    assert_eq!(
        fetch(&source, &at("port")).unwrap().expose_str(),
        Some("5432")
    );
    assert_eq!(
        fetch(&source, &at("dsn")).unwrap().expose_str(),
        Some(r#"{"a":1}"#)
    );

    let err = fetch(&source, &at("host")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("secret file:{}#host has no field `host`", path.display())
    );
    canary.assert_not_in_error(&err);
}

#[test]
fn a_value_that_is_not_a_json_object_cannot_have_a_field() {
    let canary = Canary::new();
    for content in [
        canary.value().to_owned(),
        format!(r#"["{}"]"#, canary.value()),
    ] {
        let path = secret_file("plain", content.as_bytes());
        let err = fetch(&FileSource::new(), &format!("file:{}#dsn", path.display())).unwrap_err();
        assert!(matches!(err, SecretError::NotJsonObject { .. }), "{err:?}");
        canary.assert_not_in_error(&err);
    }
}

#[test]
fn file_size_is_bounded() {
    let path = secret_file("big", &[b'x'; 65]);
    let err = fetch(
        &FileSource::with_max_bytes(64),
        &format!("file:{}", path.display()),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("secret file:{} is larger than 64 bytes", path.display())
    );
    assert!(
        fetch(
            &FileSource::with_max_bytes(65),
            &format!("file:{}", path.display())
        )
        .is_ok()
    );
}

#[test]
fn a_missing_file_is_not_found_and_an_unreadable_one_is_an_io_error() {
    assert!(
        fetch(&FileSource::new(), "file:/nonexistent/secret")
            .unwrap_err()
            .is_not_found()
    );
    let dir = secret_file("x", b"x").parent().unwrap().to_owned();
    let err = fetch(&FileSource::new(), &format!("file:{}", dir.display())).unwrap_err();
    assert!(
        matches!(err, SecretError::Io { .. }),
        "reading a directory: {err:?}"
    );
}

#[test]
fn a_world_readable_secret_file_is_warned_about_without_its_value() {
    let canary = Canary::new();
    let path = secret_file("shared", canary.value().as_bytes());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let capture = LogCapture::start();
    let value = fetch(&FileSource::new(), &format!("file:{}", path.display())).unwrap();
    assert_eq!(value.expose_str(), Some(canary.value()));
    let logs = capture.text();
    assert!(
        logs.contains("secret file is readable by every user"),
        "{logs}"
    );
    assert!(logs.contains(&path.display().to_string()), "{logs}");
    canary.assert_absent("log output", &logs);
}

/// A source whose answer is scripted, counting its calls.
#[derive(Debug)]
struct Scripted {
    answer: fn(&SecretRef) -> Result<SecretValue, SecretError>,
    calls: std::sync::atomic::AtomicUsize,
}

impl Scripted {
    fn new(answer: fn(&SecretRef) -> Result<SecretValue, SecretError>) -> Arc<Self> {
        Arc::new(Self {
            answer,
            calls: 0.into(),
        })
    }
    fn calls(&self) -> usize {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl SecretSource for Scripted {
    fn fetch<'a>(&'a self, reference: &'a SecretRef) -> Fetch<'a> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Fetch::new(async move { (self.answer)(reference) })
    }
}

fn not_found(r: &SecretRef) -> Result<SecretValue, SecretError> {
    Err(SecretError::NotFound {
        reference: r.clone(),
    })
}
fn found(_: &SecretRef) -> Result<SecretValue, SecretError> {
    Ok(SecretValue::from_string("second".into()).with_metadata(Metadata::with_version("v2")))
}
fn outage(r: &SecretRef) -> Result<SecretValue, SecretError> {
    let cause: SourceCause = "connection refused".into();
    Err(SecretError::Unavailable {
        reference: r.clone(),
        cause,
    })
}

#[test]
fn chain_falls_through_not_found_only() {
    let (first, second) = (Scripted::new(not_found), Scripted::new(found));
    let chain = Chain::new(vec![first.clone(), second.clone()]);
    let value = fetch(&chain, "vault:secret/db").unwrap();
    assert_eq!(value.expose_str(), Some("second"));
    assert_eq!(value.metadata().version.as_deref(), Some("v2"));
    assert_eq!((first.calls(), second.calls()), (1, 1));

    let (down, fallback) = (Scripted::new(outage), Scripted::new(found));
    let chain = Chain::new(vec![down.clone(), fallback.clone()]);
    let err = fetch(&chain, "vault:secret/db").unwrap_err();
    assert_eq!(
        err.to_string(),
        "secret source for vault:secret/db is unavailable"
    );
    assert_eq!(
        std::error::Error::source(&err).unwrap().to_string(),
        "connection refused"
    );
    assert_eq!(
        fallback.calls(),
        0,
        "an outage must not fall through to the next source"
    );

    let chain = Chain::new(vec![Scripted::new(not_found), Scripted::new(not_found)]);
    assert!(fetch(&chain, "vault:secret/db").unwrap_err().is_not_found());
    let chain = Chain::new(vec![
        Arc::new(FileSource::new()),
        Arc::new(EnvSource::new()),
    ]);
    assert_eq!(
        fetch(&chain, "env:CARGO_PKG_NAME").unwrap().expose_str(),
        Some("palisade-secrets")
    );
    assert!(matches!(
        fetch(&chain, "vault:a/b").unwrap_err(),
        SecretError::SchemeUnsupported { .. }
    ));
}

#[test]
fn registry_routes_by_scheme() {
    let vault = Scripted::new(found);
    let registry =
        Registry::standard().with(palisade_secrets::ReferenceScheme::Vault, vault.clone());
    assert_eq!(
        fetch(&registry, "vault:secret/db").unwrap().expose_str(),
        Some("second")
    );
    assert_eq!(
        fetch(&registry, "env:CARGO_PKG_NAME").unwrap().expose_str(),
        Some("palisade-secrets")
    );
    let err = fetch(&registry, "azure-kv:https://v.vault.azure.net/db").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no secret source handles the scheme `azure-kv`"
    );
    assert_eq!(vault.calls(), 1);
}

#[test]
fn secret_values_never_print() {
    let canary = Canary::new();
    let value = SecretValue::from_string(canary.value().to_owned())
        .with_metadata(Metadata::with_version("7"));
    assert_eq!(
        format!("{value:?}"),
        r#"SecretValue { value: "***", version: Some("7"), .. }"#
    );
    canary.assert_not_in_debug(&value);
    canary.assert_not_in_debug(&value.clone());
    let mut spare = Vec::with_capacity(100);
    spare.extend_from_slice(canary.value().as_bytes());
    assert_eq!(
        SecretValue::from_bytes(spare).expose_bytes(),
        canary.value().as_bytes()
    );
}

#[test]
fn fetch_futures_say_what_they_are() {
    let ready = Fetch::ready(Ok(SecretValue::from_string(String::new())));
    assert_eq!(format!("{ready:?}"), r#"Fetch("ready")"#);
    let boxed = Fetch::new(async { Ok(SecretValue::from_string(String::new())) });
    assert_eq!(format!("{boxed:?}"), r#"Fetch("pending")"#);
}
