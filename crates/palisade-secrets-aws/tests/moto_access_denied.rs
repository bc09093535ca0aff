//! Access denied, against a private moto server this test starts with IAM authentication on
//! (moto's `INITIAL_NO_AUTH_ACTION_COUNT`: the first request is not checked, every later one
//! must be signed by a key moto's IAM knows). The shared moto from `cargo xtask services up`
//! accepts any key, so it cannot show a refusal.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use aws_config::BehaviorVersion;
use aws_sdk_secretsmanager::config::{Credentials, Region};
use palisade_secrets::{SecretError, SecretRef, SecretSource};
use palisade_secrets_aws::{AwsOptions, AwsSecretsManagerSource, StaticCredentials};
use secrecy::SecretString;

/// A moto server on a free port that checks credentials after its first request.
struct AuthenticatingMoto {
    port: u16,
    child: Child,
}

impl AuthenticatingMoto {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(palisade_test::python::python())
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("moto from the project's venv (`cargo xtask services up` installs it)");
        // Werkzeug prints `Running on http://...` once it accepts connections.
        let stderr = child.stderr.take().unwrap();
        let ready = BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.contains("Running on"));
        assert!(ready, "moto on port {port} exited before it was ready");
        Self { port, child }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for AuthenticatingMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn credentials_moto_does_not_know_are_access_denied() {
    let moto = AuthenticatingMoto::start();
    // The one unchecked request creates the secret.
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto.url())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await;
    aws_sdk_secretsmanager::Client::new(&config)
        .create_secret()
        .name("prod/db")
        .secret_string("pw")
        .send()
        .await
        .unwrap();

    let source = AwsSecretsManagerSource::connect(
        AwsOptions::new()
            .region("us-east-1")
            .endpoint(moto.url())
            .credentials(StaticCredentials::new(
                "AKIAUNKNOWN",
                SecretString::from("not-a-key"),
            )),
    )
    .await
    .unwrap();
    let reference: SecretRef = "aws-sm:prod/db".parse().unwrap();
    let error = source.fetch(&reference).await.unwrap_err();
    assert!(
        matches!(error, SecretError::AccessDenied { .. }),
        "{error:?}"
    );
    assert!(
        !error.is_outage(),
        "a refusal is not an outage: no stale value hides it"
    );
    assert_eq!(
        error.to_string(),
        "access to secret aws-sm:prod/db was denied"
    );
}
