//! `palisade crypt`: encrypt and decrypt values with a local key, and read a ciphertext's
//! header.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use palisade_crypt::{
    Algorithm, Ciphertext, Context, CryptError, DerivedKeys, Envelope, KeyName, KeyScope,
    MAX_CIPHERTEXT_LEN, MAX_PLAINTEXT_LEN,
};
use serde_json::json;

use crate::output::{self, Format};
use crate::{exit, resolve};

/// Field-level envelope encryption (palisade-crypt) with a local key.
#[derive(Debug, Subcommand)]
pub(crate) enum CryptCommand {
    /// Encrypt stdin (one trailing line break dropped) and print the ciphertext's text form.
    /// Exit 0, or 2 when the key, the context or the input is not usable.
    Encrypt(KeyArgs),
    /// Decrypt a ciphertext's text form read from stdin and write the plaintext's exact bytes.
    /// Exit 0; 1 when it does not decrypt (a wrong key, a wrong context or altered bytes: one
    /// error that does not say which); 2 when the input is not a ciphertext or the key or
    /// context is not usable.
    Decrypt(KeyArgs),
    /// Print a ciphertext's header (format, algorithm, key name and version, data key id),
    /// read from stdin, without decrypting it. Exit 0, or 2 when it is not a ciphertext.
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub(crate) struct KeyArgs {
    /// A reference to the key (`env:FIELD_KEY`, `file:/run/keys/field`, ...): 32 bytes as 64
    /// hex digits, base64 or raw bytes. Data keys are derived from it and each ciphertext's
    /// random id, so the key and the ciphertext are all decryption needs.
    #[arg(long)]
    key: String,
    /// Where the value belongs, bound to it: `name=value[,name=value...]`; may be repeated.
    /// Decryption needs the same entries.
    #[arg(long = "context")]
    contexts: Vec<String>,
    /// The key's name, written in the header.
    #[arg(long, default_value = "local")]
    key_name: String,
    /// The key's version, written in the header.
    #[arg(long, default_value_t = 1)]
    key_version: u32,
    /// Use AES-256-GCM-SIV (nonce-misuse resistant) instead of AES-256-GCM.
    #[arg(long)]
    siv: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(crate) fn run(command: CryptCommand) -> ExitCode {
    match command {
        CryptCommand::Encrypt(args) => encrypt(&args),
        CryptCommand::Decrypt(args) => decrypt(&args),
        CryptCommand::Inspect(args) => inspect(&args),
    }
}

fn encrypt(args: &KeyArgs) -> ExitCode {
    let (envelope, context) = match prepare(args) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let plaintext = match resolve::stdin_value_at_most(MAX_PLAINTEXT_LEN, "the plaintext") {
        Ok(plaintext) => plaintext,
        Err(failure) => return failure.report(),
    };
    let Ok(scope) = KeyScope::new("derived") else {
        return ExitCode::from(exit::USAGE);
    };
    match block_on(envelope.encrypt(&scope, &context, plaintext.expose_bytes())) {
        Ok(Ok(ciphertext)) => written(format!("{}\n", ciphertext.to_text()).as_bytes()),
        Ok(Err(err)) => output::input_error(&err),
        Err(code) => code,
    }
}

fn decrypt(args: &KeyArgs) -> ExitCode {
    let (envelope, context) = match prepare(args) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    // Bytes that are base64url but no ciphertext are altered bytes: the one failure.
    let ciphertext = match read_ciphertext() {
        Ok(Ok(ciphertext)) => ciphertext,
        Ok(Err(_)) => return undecryptable(),
        Err(code) => return code,
    };
    match block_on(envelope.decrypt(&context, &ciphertext)) {
        Ok(Ok(decrypted)) => written(decrypted.plaintext.expose_bytes()),
        Ok(Err(CryptError::KeyInvalid { what })) => output::input_error(&what),
        Ok(Err(_)) => undecryptable(),
        Err(code) => code,
    }
}

fn undecryptable() -> ExitCode {
    output::error(&CryptError::Undecryptable);
    ExitCode::from(exit::FINDING)
}

fn inspect(args: &InspectArgs) -> ExitCode {
    let ciphertext = match read_ciphertext() {
        Ok(Ok(ciphertext)) => ciphertext,
        Ok(Err(err)) => {
            return output::input_error(&format!("not a palisade-crypt ciphertext: {err}"));
        }
        Err(code) => return code,
    };
    let header = ciphertext.header();
    let text: Vec<String> = header.to_string().lines().map(str::to_owned).collect();
    let json = json!(header);
    output::reported(args.format, &text, &json, exit::OK)
}

/// The envelope over keys derived from `--key`, and the context.
fn prepare(args: &KeyArgs) -> Result<(Envelope, Context), ExitCode> {
    let mut context = Context::new();
    for pairs in &args.contexts {
        context
            .parse_pairs(pairs)
            .map_err(|err| output::input_error(&err))?;
    }
    let key_name = KeyName::new(&args.key_name).map_err(|err| output::input_error(&err))?;
    if args.key == "-" {
        return Err(output::input_error(
            &"the key cannot come from stdin, which carries the value: give a reference (env:, file:, ...)",
        ));
    }
    let key = match resolve::value_of(&args.key) {
        Ok(key) => key,
        // A key that cannot be read is a usage error: exit 1 means "does not decrypt".
        Err(resolve::ResolveFailure::Secret(err)) => return Err(output::input_error(&err)),
        Err(failure) => return Err(failure.report()),
    };
    let algorithm = if args.siv {
        Algorithm::Aes256GcmSiv
    } else {
        Algorithm::Aes256Gcm
    };
    let keys = Arc::new(
        DerivedKeys::new(&key, key_name.clone(), args.key_version, algorithm)
            .map_err(|err| output::input_error(&err))?,
    );
    let mut options = palisade_crypt::EnvelopeOptions::DEFAULT;
    options.algorithm = algorithm;
    Ok((
        Envelope::with_options(key_name, keys.clone(), keys, options),
        context,
    ))
}

/// The ciphertext on stdin (surrounding whitespace ignored): an exit code when stdin is not
/// base64url text, else the parse.
fn read_ciphertext() -> Result<Result<Ciphertext, CryptError>, ExitCode> {
    let text = resolve::stdin_at_most(MAX_CIPHERTEXT_LEN.div_ceil(3) * 4 + 2, "the ciphertext")
        .map_err(resolve::ResolveFailure::report)?;
    let not_text =
        || output::input_error(&"not a palisade-crypt ciphertext: the text form is base64url");
    let text = text.expose_str().map(str::trim).ok_or_else(not_text)?;
    let bytes = palisade_crypt::decode_text(text).ok_or_else(not_text)?;
    Ok(Ciphertext::from_bytes(bytes))
}

fn block_on<F: Future>(future: F) -> Result<F::Output, ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| output::input_error(&format!("cannot start the async runtime: {err}")))?;
    Ok(runtime.block_on(future))
}

fn written(bytes: &[u8]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(err) => output::input_error(&format!("cannot write stdout: {err}")),
    }
}
