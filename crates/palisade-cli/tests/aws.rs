//! `palisade secret check aws-sm:...` against moto, configured the way users configure the AWS
//! CLI: through the standard environment variables.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::process::Command;

use aws_config::BehaviorVersion;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{Credentials, Region};
use palisade_test::{Canary, Service, unique_name};

fn aws_env(endpoint: &str) -> [(&'static str, String); 4] {
    [
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
    ]
}

fn palisade(args: &[&str], env: &[(&'static str, String)]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v.as_str())))
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test]
async fn an_aws_secret_is_checked_through_the_standard_chain() {
    let endpoint = Service::Aws.url();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await;
    let admin = Client::new(&config);
    let canary = Canary::new();
    let name = unique_name("palisade/cli");
    let version = admin
        .create_secret()
        .name(&name)
        .secret_string(format!("{{\"password\": \"{}\"}}", canary.value()))
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();

    let reference = format!("aws-sm:{name}#password");
    let (code, stdout, stderr) = palisade(&["secret", "check", &reference], &aws_env(&endpoint));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        format!("{reference}: found (source aws-sm, version {version}, 36 bytes)\n")
    );
    canary.assert_absent("stdout", &stdout);

    let missing = format!("aws-sm:{}", unique_name("palisade/cli-missing"));
    let (code, _, stderr) = palisade(&["secret", "check", &missing], &aws_env(&endpoint));
    assert_eq!(code, 1);
    assert_eq!(stderr, format!("palisade: secret {missing} not found\n"));
}
