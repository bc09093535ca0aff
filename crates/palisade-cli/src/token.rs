//! `palisade token`: read a bearer token's header and claims without trusting them, or verify
//! one against an issuer's published keys.

use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::{Args, Subcommand};
use palisade_auth::{DEFAULT_MAX_TOKEN_LEN, JwksVerifier};
use serde_json::{Value, json};

use crate::exit;
use crate::output::{self, Format};
use crate::resolve;

/// Bearer tokens, read from stdin (never from an argument, where shells keep them).
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Print the header and claims of the token on stdin with its signature masked. Nothing
    /// is verified: the output says so.
    Inspect(InspectArgs),
    /// Verify the token on stdin against the keys at `--jwks`; exit 0 when it verifies, 1 with
    /// the reason when it is refused.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The issuer's JWKS URL (https; http only on loopback).
    #[arg(long)]
    jwks: String,
    /// An accepted audience (repeatable; then `aud` is required).
    #[arg(long = "aud")]
    audiences: Vec<String>,
    /// An accepted issuer (repeatable; then `iss` is required).
    #[arg(long = "iss")]
    issuers: Vec<String>,
    /// A PEM file of certificate authorities to trust for the JWKS URL, besides the system's.
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(crate) fn run(command: TokenCommand) -> ExitCode {
    let token = match resolve::stdin_at_most(DEFAULT_MAX_TOKEN_LEN, "the token") {
        Ok(value) => value,
        Err(failure) => return failure.report(),
    };
    let Some(token) = token.expose_str().map(str::trim) else {
        return output::input_error(&"the token on stdin is not UTF-8");
    };
    match command {
        TokenCommand::Inspect(args) => inspect(token, args.format),
        TokenCommand::Verify(args) => verify(token, &args),
    }
}

/// A base64url part as JSON, or `None`.
fn part(text: &str) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).ok()?).ok()
}

fn inspect(token: &str, format: Format) -> ExitCode {
    let parts: Vec<&str> = token.split('.').collect();
    let (Some(header), Some(claims), Some(signature), 3) = (
        parts.first().and_then(|p| part(p)),
        parts.get(1).and_then(|p| part(p)),
        parts.get(2),
        parts.len(),
    ) else {
        return output::input_error(
            &"not a signed JWT (three base64url parts, JSON header and claims)",
        );
    };
    let signature_bytes = URL_SAFE_NO_PAD
        .decode(signature)
        .map_or(0, |bytes| bytes.len());
    let masked = format!("*** ({signature_bytes} bytes, masked)");
    let text = vec![
        format!("header: {header}"),
        format!("claims: {claims}"),
        format!("signature: {masked}"),
        "verified: no (inspect never verifies; use `palisade token verify`)".to_owned(),
    ];
    let report = json!({
        "kind": "token-inspect",
        "header": header,
        "claims": claims,
        "signature": masked,
        "verified": false,
    });
    output::reported(format, &text, &report, exit::OK)
}

fn verify(token: &str, args: &VerifyArgs) -> ExitCode {
    let verifier = match verifier(args) {
        Ok(verifier) => verifier,
        Err(message) => return output::input_error(&message),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return output::input_error(&format!("cannot start the async runtime: {err}")),
    };
    match runtime.block_on(verifier.verify::<Value>(token)) {
        Ok(verified) => {
            let registered = &verified.registered;
            let text = vec![format!(
                "verified: sub {}, iss {}, expires at {}",
                registered.subject.as_deref().unwrap_or("-"),
                registered.issuer.as_deref().unwrap_or("-"),
                registered.expires_at.unwrap_or_default()
            )];
            let report = json!({
                "kind": "token-verify",
                "result": "verified",
                "subject": registered.subject,
                "issuer": registered.issuer,
                "audience": registered.audience,
                "expires_at": registered.expires_at,
                "claims": verified.claims,
            });
            output::reported(args.format, &text, &report, exit::OK)
        }
        Err(refused) => output::reported(
            args.format,
            &[format!("refused: {refused} ({})", refused.id())],
            &json!({"kind": "token-verify", "result": "refused", "reason": refused.id()}),
            exit::FINDING,
        ),
    }
}

fn verifier(args: &VerifyArgs) -> Result<JwksVerifier, String> {
    if args.audiences.is_empty() || args.issuers.is_empty() {
        return Err("token verify needs --iss and --aud: an issuer's keys sign tokens for every audience it serves".to_owned());
    }
    let mut verifier = JwksVerifier::new(&args.jwks).map_err(|err| err.to_string())?;
    for issuer in &args.issuers {
        verifier = verifier.issuer(issuer).map_err(|err| err.to_string())?;
    }
    for audience in &args.audiences {
        verifier = verifier.audience(audience).map_err(|err| err.to_string())?;
    }
    if let Some(path) = &args.ca_file {
        let pem = std::fs::read(path).map_err(|err| format!("cannot read the CA file: {err}"))?;
        let mut builder = reqwest::Client::builder()
            .timeout(palisade_secrets::BACKEND_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none());
        for certificate in reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|_| "the CA file holds no PEM certificate".to_owned())?
        {
            builder = builder.add_root_certificate(certificate);
        }
        let client = builder
            .build()
            .map_err(|err| format!("cannot build the HTTP client: {err}"))?;
        verifier = verifier
            .http_client(client)
            .map_err(|err| err.to_string())?;
    }
    Ok(verifier)
}
