//! The service as its own process, as `cargo run -p crud-api` starts it: JSON logs to
//! standard output, a tamper-evident audit log, a clean stop on `SIGTERM`. A unique password,
//! token, key and filter value used in the run appear in no log line, error body or audit
//! record, and the audit chain verifies.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palisade_audit::{ChainKey, log_files, verify_files};
use palisade_secrets::SecretValue;
use palisade_test::{Canary, unique_name};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::common::{call, database_name, filtered, secret_file, settings_env, sign_up};

/// A running `crud-api` process and every line it wrote.
pub(crate) struct Process {
    child: Child,
    reader: std::thread::JoinHandle<()>,
    lines: Arc<Mutex<Vec<String>>>,
    pub(crate) base: String,
}

impl Process {
    /// Starts it with a JSON log, which announces the address it listens on.
    pub(crate) fn start(env: &[(String, String)]) -> Self {
        Self::spawn(env, |line| {
            serde_json::from_str::<Value>(line)
                .ok()
                .filter(|event| event["message"] == "listening")
                .and_then(|event| event["address"].as_str().map(str::to_owned))
        })
    }

    /// Starts it with a text log (`... listening address=127.0.0.1:PORT`).
    fn start_text(env: &[(String, String)]) -> Self {
        Self::spawn(env, |line| {
            line.contains("listening")
                .then(|| line.split("address=").nth(1))
                .flatten()
                .map(|rest| {
                    rest.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                })
        })
    }

    fn spawn(env: &[(String, String)], address_in: fn(&str) -> Option<String>) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crud-api"))
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (listening, address) = mpsc::channel();
        let kept = Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(address) = address_in(&line) {
                    let _ = listening.send(address);
                }
                kept.lock().unwrap().push(line);
            }
        });
        let address = match address.recv_timeout(Duration::from_secs(60)) {
            Ok(address) => address,
            Err(_) => {
                let output = child.wait_with_output().unwrap();
                panic!(
                    "crud-api did not start: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        };
        Self {
            child,
            reader,
            lines,
            base: format!("http://{address}/api/v1"),
        }
    }

    /// `SIGTERM`, then the exit status and every line written.
    pub(crate) fn stop(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = self.child.wait().unwrap();
        // Every line the process wrote is read once its pipe closes.
        self.reader.join().unwrap();
        let lines = self.lines.lock().unwrap().clone();
        (status, lines)
    }
}

#[tokio::test]
async fn no_secret_reaches_a_log_line_an_error_or_the_audit_log_and_the_chain_verifies() {
    let audit_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(unique_name("audit"));
    let audit_key = Canary::new();
    let jwt_key = Canary::new();
    let mut env = settings_env(&database_name());
    env.extend([
        ("LISTEN_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("LOG_FORMAT".to_owned(), "json".to_owned()),
        ("AUDIT_LOG_DIR".to_owned(), audit_dir.display().to_string()),
        (
            "AUDIT_KEY".to_owned(),
            secret_file(&format!("{}{}", audit_key.value(), audit_key.value())),
        ),
        (
            "JWT_SECRET".to_owned(),
            secret_file(&format!("{}{}", jwt_key.value(), jwt_key.value())),
        ),
        ("AUTH_RATE_LIMIT".to_owned(), "6/minute".to_owned()),
    ]);
    let process = Process::start(&env);
    let base = process.base.clone();
    let http = Client::new();
    let password = Canary::new();
    let filter_value = Canary::new();
    let email = format!("{}@example.com", unique_name("ann"));
    // Error bodies (a success answers with the user's own data, the filter value included).
    let mut bodies = Vec::new();

    let token = sign_up(&http, &base, &email, password.value()).await;
    for secret in [password.value(), "a wrong password"] {
        let (status, body) = call(
            http.post(format!("{base}/signin"))
                .json(&json!({"email": email, "password": secret})),
        )
        .await;
        if !status.is_success() {
            bodies.push(body);
        }
    }
    let (status, body) = call(
        http.post(format!("{base}/clients"))
            .bearer_auth(&token)
            .json(&json!({"name": filter_value.value()})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A document: its index row goes to PostgreSQL.
    let (status, body) = call(
        http.post(format!("{base}/documents"))
            .bearer_auth(&token)
            .json(&json!({"title": "Plan"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for filters in [
        format!(r#"{{"name": "{}"}}"#, filter_value.value()),
        format!(r#"{{"name": {{"$where": "{}"}}}}"#, filter_value.value()),
        format!(r#"{{"client_id": "{}"}}"#, filter_value.value()),
    ] {
        let (status, body) = call(
            http.get(filtered(&format!("{base}/clients"), &filters))
                .bearer_auth(&token),
        )
        .await;
        if !status.is_success() {
            bodies.push(body);
        }
    }
    let (status, body) = call(
        http.get(format!(
            "{base}/reports/documents-per-project?project_id={}",
            filter_value.value()
        ))
        .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    bodies.push(body);
    // A forged token, and sign-ins until the limit refuses one.
    let (_, body) = call(
        http.get(format!("{base}/clients"))
            .bearer_auth(format!("{token}x")),
    )
    .await;
    bodies.push(body);
    let mut limited = false;
    for _ in 0..6 {
        let (status, body) = call(
            http.post(format!("{base}/signin"))
                .json(&json!({"email": email, "password": password.value()})),
        )
        .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            bodies.push(body);
        }
    }
    assert!(limited);

    let (status, lines) = process.stop();
    assert!(status.success(), "{status}");
    assert!(
        lines
            .iter()
            .any(|line| line.contains(r#""message":"stopped""#)),
        "{lines:?}"
    );
    // Every line is one JSON object; requests are logged by route template.
    for line in &lines {
        let event: Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(event.is_object(), "{line}");
    }
    assert!(
        lines
            .iter()
            .any(|line| line.contains(r#""route":"/api/v1/{entity}""#)),
        "no access line"
    );
    let audit_lines: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("palisade::audit"))
        .collect();
    assert!(!audit_lines.is_empty(), "no audit event in the log");

    // The audit log: verifies under its key, and holds the events of the run.
    let files = log_files(&audit_dir, "audit").unwrap();
    let key = ChainKey::new(&SecretValue::from_string(format!(
        "{}{}",
        audit_key.value(),
        audit_key.value()
    )))
    .unwrap();
    let verified = verify_files(&files, Some(&key)).unwrap().unwrap();
    assert!(verified.records > 10, "{} records", verified.records);
    let audit: String = files
        .iter()
        .map(|file| std::fs::read_to_string(file).unwrap())
        .collect();
    for kind in [
        "auth_succeeded",
        "auth_failed",
        "token_refused",
        "rate_limited",
        "guard_refused",
    ] {
        assert!(
            audit.contains(&format!(r#""security.kind":"{kind}""#)),
            "no {kind}"
        );
    }
    for system in ["postgresql", "mongodb"] {
        assert!(
            audit.contains(&format!(r#""db.system.name":"{system}""#)),
            "no {system} query"
        );
    }

    let everything = format!(
        "{}\n{audit}\n{}",
        lines.join("\n"),
        bodies
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    for (what, canary) in [
        ("the password", &password),
        ("a filter value", &filter_value),
        ("the token key", &jwt_key),
        ("the audit key", &audit_key),
    ] {
        canary.assert_absent(what, &everything);
    }
    assert!(!everything.contains(&token), "the token");
}

#[tokio::test]
async fn the_text_log_is_redacted_too() {
    let mut env = settings_env(&database_name());
    env.extend([
        ("LISTEN_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("LOG_FORMAT".to_owned(), "text".to_owned()),
    ]);
    // The text format announces its address in a text line: find it there.
    let process = Process::start_text(&env);
    let base = process.base.clone();
    let http = Client::new();
    let password = Canary::new();
    let email = format!("{}@example.com", unique_name("ann"));
    let token = sign_up(&http, &base, &email, password.value()).await;
    let (status, _) = call(
        http.get(filtered(
            &format!("{base}/clients"),
            &format!(r#"{{"name": {{"$regex": "{}"}}}}"#, password.value()),
        ))
        .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, lines) = process.stop();
    assert!(status.success());
    assert!(
        lines
            .iter()
            .all(|line| serde_json::from_str::<Value>(line).is_err()),
        "JSON in a text log"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.contains("palisade::audit") && line.contains("guard_refused"))
    );
    let text = lines.join("\n");
    password.assert_absent("the text log", &text);
    assert!(!text.contains(&token), "the token in the text log");
}
