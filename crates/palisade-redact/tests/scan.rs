//! The scanner: line, column and masked preview per finding, and what it leaves out that a
//! log redactor masks (placeholders, expressions, unquoted names in code, base64 payloads).
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use palisade_redact::{Located, Scanner, SourceKind};

fn scan(text: &str, kind: SourceKind) -> Vec<(&'static str, usize, usize, String)> {
    Scanner::new()
        .scan(text, kind)
        .into_iter()
        .map(|l: Located| (l.detector, l.line, l.column, l.preview))
        .collect()
}

#[test]
fn findings_carry_line_column_and_a_masked_preview() {
    let text = "# settings\nDATABASE_URL=postgres://app:Sup3rS3cret@db/app\r\n  API_KEY=\"k-8f3a9c\" # prod\n";
    assert_eq!(
        scan(text, SourceKind::Text),
        [
            (
                "url-credentials",
                2,
                29,
                "DATABASE_URL=postgres://app:***@db/app".to_owned()
            ),
            ("secret-pair", 3, 12, "  API_KEY=\"***\" # prod".to_owned()),
        ]
    );
}

#[test]
fn a_pem_block_is_reported_at_its_first_line() {
    let key = "x = 1\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\nAoGCCqGSM49\n-----END EC PRIVATE KEY-----\n";
    assert_eq!(
        scan(key, SourceKind::Text),
        [(
            "pem-private-key",
            2,
            31,
            "-----BEGIN EC PRIVATE KEY-----***".to_owned()
        )]
    );
}

#[test]
fn code_reports_string_literals_only() {
    let code = r#"
def connect(user, password=None):
    password = password or os.environ["DB_PASSWORD"]
    token = self._token
    secret = get_secret("db")
    api_key = f"{prefix}-{suffix}"
    client_secret = "9c1f-4be2-a7d0"
"#;
    assert_eq!(
        scan(code, SourceKind::Code),
        [(
            "secret-pair",
            7,
            22,
            r#"    client_secret = "***""#.to_owned()
        )]
    );
}

#[test]
fn text_reports_values_that_look_generated_or_are_quoted() {
    let text = "password: handling of empty values\nsecret: ${VAULT_SECRET}\npassword: hunter2\ntoken: 'tk-8f3a2c19e7'\npassword: 'plainword'\n";
    let lines: Vec<usize> = scan(text, SourceKind::Text).iter().map(|f| f.1).collect();
    assert_eq!(lines, [3, 4, 5]);
}

/// A machine credential (a token, a key, a secret) is generated: a name, a phrase or a short
/// number under such a key is an identifier (botocore's `"input_token": "NextToken"`), while
/// a password may be any word. Type names and ARN segments are no keys at all.
#[test]
fn names_under_token_keys_type_names_and_arns_are_not_credentials() {
    let text = r##"{"input_token": "NextToken", "output_token": "DistributionList.NextMarker",
 "AWS::IAM::AccessKey": "bf29289b78d371e3", "token": "781501",
 "SecretId": "arn:aws:secretsmanager:us-west-2:123456789012:secret:MyDbSecret-a1b2c3",
 "description": "secret: the name of the secret to use", "Token": "#d8dee9",
 "password": "letmein", "api_key": "sk_4f1c2e9a7b3d", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
 "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SessionToken": "kq9Zr2Lm4Wx7Tb1Vn8Ys3Hd6Pf0Ce5Ua"}"##;
    let found: Vec<String> = scan(text, SourceKind::Text)
        .into_iter()
        .map(|f| f.3)
        .collect();
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found.iter().all(|preview| preview.contains("***")));
    // AWS's documented sample keys carry `EXAMPLE`: not reported.
    for kept in ["password", "api_key", "SessionToken"] {
        assert!(found.iter().any(|p| p.contains(kept)), "{kept}: {found:#?}");
    }
}

#[test]
fn base64_payloads_are_not_credentials_but_tokens_are() {
    let payload = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    assert!(scan(&format!("image = \"{payload}\""), SourceKind::Code).is_empty());
    assert!(
        scan(
            &format!("<img src=\"data:image/png;base64,{payload}\">"),
            SourceKind::Text
        )
        .is_empty()
    );
    let key_id = format!("AKIA{}", "Q".repeat(16));
    assert_eq!(
        scan(&format!("id={key_id}"), SourceKind::Code)[0].0,
        "aws-access-key-id"
    );
}

#[test]
fn the_preview_is_cut_and_never_holds_a_secret() {
    let canary = "CanaryS3cretValue";
    let long = format!(
        "{} password=\"{canary}\" {}",
        "a".repeat(300),
        "b".repeat(10)
    );
    let found = Scanner::new().scan(&long, SourceKind::Text);
    assert_eq!(found.len(), 1);
    assert!(!found[0].preview.contains(canary));
    assert_eq!(found[0].preview.chars().count(), 163);
    assert!(found[0].preview.ends_with("..."));
    assert!(!format!("{:?}", found[0]).contains(canary));
}
