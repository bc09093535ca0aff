//! `SecretRef`: one syntax that names a secret in any source.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::str::FromStr;
use std::sync::Arc;

use foldhash::fast::FixedState;

/// The longest reference accepted, in bytes (an ARN or a Key Vault URL fits easily).
const MAX_LEN: usize = 4096;
/// The seed of [`SecretRef`]'s precomputed hash (a reference comes from configuration, not from
/// an attacker, so a fixed seed is safe; the map that holds it still seeds its own hasher).
const DIGEST_SEED: u64 = 0x7061_6c69_7361_6465;
/// The longest scheme accepted, in bytes.
const MAX_SCHEME_LEN: usize = 32;

/// The source a [`SecretRef`] names, from the part before the first `:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ReferenceScheme {
    /// `env:NAME`: a process environment variable.
    Env,
    /// `dotenv:PATH#NAME`: a variable in a `.env` file.
    DotEnv,
    /// `file:PATH`: a whole file, such as `/run/secrets/db_password`.
    File,
    /// `aws-sm:NAME`: AWS Secrets Manager (`palisade-secrets-aws`).
    AwsSecretsManager,
    /// `vault:MOUNT/PATH`: HashiCorp Vault KV v2 (`palisade-secrets-vault`).
    Vault,
    /// `azure-kv:https://NAME.vault.azure.net/SECRET`: Azure Key Vault (`palisade-secrets-azure`).
    AzureKeyVault,
    /// Any other scheme (lowercase letters, digits, `+`, `-`, `.`; a letter first), for sources
    /// registered by the application.
    Other(String),
}

impl ReferenceScheme {
    /// The scheme as written in a reference.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Env => "env",
            Self::DotEnv => "dotenv",
            Self::File => "file",
            Self::AwsSecretsManager => "aws-sm",
            Self::Vault => "vault",
            Self::AzureKeyVault => "azure-kv",
            Self::Other(name) => name,
        }
    }

    fn parse(text: &str) -> Result<Self, RefError> {
        Ok(match text {
            "env" => Self::Env,
            "dotenv" => Self::DotEnv,
            "file" => Self::File,
            "aws-sm" => Self::AwsSecretsManager,
            "vault" => Self::Vault,
            "azure-kv" => Self::AzureKeyVault,
            other => {
                let mut chars = other.chars();
                let first_is_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
                let rest_ok = chars
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
                if !first_is_letter || !rest_ok || other.len() > MAX_SCHEME_LEN {
                    return Err(RefError::SchemeInvalid);
                }
                Self::Other(other.to_owned())
            }
        })
    }
}

impl fmt::Display for ReferenceScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference to a secret: `SCHEME:LOCATOR[#FIELD]`.
///
/// The optional `#FIELD` selects a field of a JSON object value (`aws-sm:prod/database#dsn`);
/// for `dotenv:` it names the variable in the file and is required. The first `#` starts the
/// field. A reference is not a secret: it may be logged, displayed and stored in config.
///
/// | reference | names |
/// | --- | --- |
/// | `env:DATABASE_URL` | the environment variable `DATABASE_URL` |
/// | `dotenv:.env#DATABASE_URL` | `DATABASE_URL` in the file `.env` |
/// | `file:/run/secrets/db_password` | the file's content, trailing newline trimmed |
/// | `aws-sm:prod/database#dsn` | field `dsn` of the AWS secret `prod/database` |
/// | `vault:secret/database/prod#dsn` | field `dsn` at path `database/prod` of the KV v2 mount `secret` |
/// | `vault:secret/database/prod#dsn?version=3` | the same field of version 3 (also written `vault:secret/database/prod?version=3#dsn`) |
/// | `azure-kv:https://NAME.vault.azure.net/database-dsn` | the Key Vault secret `database-dsn` |
///
/// ```
/// use palisade_secrets::{ReferenceScheme, SecretRef};
///
/// let reference: SecretRef = "aws-sm:prod/database#dsn".parse()?;
/// assert_eq!(reference.scheme(), &ReferenceScheme::AwsSecretsManager);
/// assert_eq!(reference.locator(), "prod/database");
/// assert_eq!(reference.field(), Some("dsn"));
/// assert_eq!(reference.to_string(), "aws-sm:prod/database#dsn");
/// # Ok::<(), palisade_secrets::RefError>(())
/// ```
#[derive(Clone)]
pub struct SecretRef {
    /// Shared: a clone (a cache key, an error naming the reference) copies no text, and a
    /// lookup with the same reference the cache holds compares one pointer.
    parts: Arc<Parts>,
}

struct Parts {
    scheme: ReferenceScheme,
    locator: String,
    field: Option<String>,
    /// The parts' hash, computed once: a cache looks a reference up on every read.
    digest: u64,
}

impl SecretRef {
    /// Parses and validates a reference (the same as [`str::parse`]).
    ///
    /// # Errors
    /// A [`RefError`] naming what is wrong; it never repeats the input, in case a secret was
    /// passed where a reference belongs.
    pub fn parse(text: &str) -> Result<Self, RefError> {
        if text.len() > MAX_LEN {
            return Err(RefError::TooLong { max: MAX_LEN });
        }
        if text.chars().any(char::is_control) {
            return Err(RefError::ControlCharacter);
        }
        let (scheme, rest) = text.split_once(':').ok_or(RefError::SchemeMissing)?;
        let scheme = ReferenceScheme::parse(scheme)?;
        let (locator, field) = match rest.split_once('#') {
            Some((locator, field)) => (locator, Some(field)),
            None => (rest, None),
        };
        Self::new(scheme, locator, field)
    }

    /// Builds a reference from its parts, with the same validation as [`parse`](Self::parse).
    ///
    /// # Errors
    /// As [`parse`](Self::parse).
    pub fn new(
        scheme: ReferenceScheme,
        locator: &str,
        field: Option<&str>,
    ) -> Result<Self, RefError> {
        // `vault:MOUNT/PATH#field?version=3` is written with the query after the field; it
        // is kept on the locator, so both spellings name the same reference.
        if scheme == ReferenceScheme::Vault
            && let Some((name, query)) = field.and_then(|f| f.split_once('?'))
        {
            if locator.contains('?') {
                return Err(RefError::VaultPathInvalid {
                    reason: "`?version=N` is given twice",
                });
            }
            return Self::new(scheme, &format!("{locator}?{query}"), Some(name));
        }
        if locator.is_empty() {
            return Err(RefError::LocatorEmpty);
        }
        if field.is_some_and(str::is_empty) {
            return Err(RefError::FieldEmpty);
        }
        if [locator, field.unwrap_or_default()]
            .iter()
            .any(|part| part.chars().any(char::is_control))
        {
            return Err(RefError::ControlCharacter);
        }
        if field.is_some_and(|f| f.contains('#')) {
            return Err(RefError::FieldInvalid);
        }
        match scheme {
            ReferenceScheme::Env if !is_variable_name(locator) => {
                return Err(RefError::VariableNameInvalid);
            }
            ReferenceScheme::DotEnv => match field {
                None => return Err(RefError::DotEnvVariableMissing),
                Some(name) if !is_variable_name(name) => return Err(RefError::VariableNameInvalid),
                Some(_) => {}
            },
            ReferenceScheme::AwsSecretsManager if !is_aws_secret_id(locator) => {
                return Err(RefError::AwsSecretIdInvalid);
            }
            ReferenceScheme::Vault => validate_vault_path(locator)?,
            // `postgres://user:password@host/db` is a DSN pasted where a reference belongs: it
            // must never be stored, shown or routed as if it were a reference.
            ReferenceScheme::Other(_) if locator.starts_with("//") => {
                return Err(RefError::LooksLikeUrl);
            }
            ReferenceScheme::AzureKeyVault => validate_azure_url(locator)?,
            _ => {}
        }
        if locator.contains('#') {
            return Err(RefError::FieldInvalid);
        }
        let digest = FixedState::with_seed(DIGEST_SEED).hash_one((scheme.as_str(), locator, field));
        Ok(Self {
            parts: Arc::new(Parts {
                scheme,
                locator: locator.to_owned(),
                field: field.map(str::to_owned),
                digest,
            }),
        })
    }

    /// The parts, in the order they are compared.
    fn parts(&self) -> (&ReferenceScheme, &str, Option<&str>) {
        (&self.parts.scheme, &self.parts.locator, self.field())
    }

    /// The source the reference names.
    #[must_use]
    pub fn scheme(&self) -> &ReferenceScheme {
        &self.parts.scheme
    }

    /// Where in that source: a variable name, a path, a secret id or a URL.
    #[must_use]
    pub fn locator(&self) -> &str {
        &self.parts.locator
    }

    /// The JSON field to select, or for `dotenv:` the variable name.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        self.parts.field.as_deref()
    }
}

impl PartialEq for SecretRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.parts, &other.parts)
            || (self.parts.digest == other.parts.digest && self.parts() == other.parts())
    }
}

impl Eq for SecretRef {}

impl Hash for SecretRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.parts.digest);
    }
}

impl PartialOrd for SecretRef {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SecretRef {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts().cmp(&other.parts())
    }
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretRef")
            .field("scheme", self.scheme())
            .field("locator", &self.locator())
            .field("field", &self.field())
            .finish()
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scheme(), self.locator())?;
        if let Some(field) = self.field() {
            write!(f, "#{field}")?;
        }
        Ok(())
    }
}

impl FromStr for SecretRef {
    type Err = RefError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl serde::Serialize for SecretRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl<'de> serde::Deserialize<'de> for SecretRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`, the portable shape of an environment variable name.
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A secret name (`[A-Za-z0-9/_+=.@-]`, at most 512) or an ARN (which adds `:`), with an
/// optional `@STAGE` or `@VERSION_ID` that the AWS source reads.
fn is_aws_secret_id(id: &str) -> bool {
    let is_arn = id.starts_with("arn:");
    let max = if is_arn { 2048 } else { 512 };
    id.len() <= max
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c) || (is_arn && c == ':'))
}

/// `MOUNT/PATH[?version=N]`: at least two segments, none empty, `.` or `..`.
fn validate_vault_path(locator: &str) -> Result<(), RefError> {
    let invalid = |reason| Err(RefError::VaultPathInvalid { reason });
    let (path, query) = match locator.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (locator, None),
    };
    let segments: Vec<&str> = path.split('/').collect();
    if segments.len() < 2 {
        return invalid("it needs a mount and a path, as MOUNT/PATH");
    }
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return invalid("a path segment is empty, `.` or `..`");
    }
    if let Some(query) = query {
        let version = query
            .strip_prefix("version=")
            .ok_or(RefError::VaultPathInvalid {
                reason: "the only query parameter is `version=N`",
            })?;
        if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) || version.len() > 18
        {
            return invalid("`version` must be a positive whole number");
        }
    }
    Ok(())
}

/// `https://HOST/NAME[/VERSION]` with a Key Vault secret name (1..=127 of `[0-9A-Za-z-]`).
fn validate_azure_url(locator: &str) -> Result<(), RefError> {
    let invalid = |reason| Err(RefError::AzureUrlInvalid { reason });
    let Some(rest) = locator.strip_prefix("https://") else {
        return invalid("it must start with https://");
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:".contains(c))
        && !host.starts_with(['.', '-', ':']);
    if !host_ok {
        return invalid("the vault host is missing or malformed");
    }
    let mut segments = path.split('/');
    let name = segments.next().unwrap_or_default();
    if name.is_empty()
        || name.len() > 127
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return invalid("the secret name must be 1 to 127 letters, digits and dashes");
    }
    match (segments.next(), segments.next()) {
        (None, _) => Ok(()),
        (Some(version), None)
            if !version.is_empty()
                && version.len() <= 64
                && version.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            Ok(())
        }
        _ => invalid("only https://HOST/NAME or https://HOST/NAME/VERSION is accepted"),
    }
}

/// What is wrong with a secret reference. Never contains the reference itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefError {
    /// The reference is longer than the limit.
    TooLong {
        /// The limit, in bytes.
        max: usize,
    },
    /// The reference contains a control character (a newline, a NUL, ...).
    ControlCharacter,
    /// There is no `SCHEME:` prefix.
    SchemeMissing,
    /// The scheme is not lowercase letters, digits, `+`, `-` and `.` starting with a letter.
    SchemeInvalid,
    /// Nothing follows `SCHEME:`.
    LocatorEmpty,
    /// A `#` is followed by nothing.
    FieldEmpty,
    /// The field contains a second `#`, or the locator would need one.
    FieldInvalid,
    /// An environment variable name is not `[A-Za-z_][A-Za-z0-9_]*`.
    VariableNameInvalid,
    /// A `dotenv:` reference does not name its variable after `#`.
    DotEnvVariableMissing,
    /// The text is a URL or DSN (`SCHEME://...`), not a reference: a DSN is itself a secret.
    LooksLikeUrl,
    /// An `aws-sm:` secret id has characters AWS does not allow, or is too long.
    AwsSecretIdInvalid,
    /// A `vault:` path is malformed.
    VaultPathInvalid {
        /// What is wrong.
        reason: &'static str,
    },
    /// An `azure-kv:` URL is malformed.
    AzureUrlInvalid {
        /// What is wrong.
        reason: &'static str,
    },
}

impl fmt::Display for RefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { max } => write!(f, "secret reference is longer than {max} bytes"),
            Self::ControlCharacter => f.write_str("secret reference contains a control character"),
            Self::SchemeMissing => {
                f.write_str("secret reference has no scheme (expected SCHEME:LOCATOR, e.g. env:DATABASE_URL)")
            }
            Self::SchemeInvalid => f.write_str(
                "secret reference scheme must be lowercase letters, digits, `+`, `-` or `.`, starting with a letter",
            ),
            Self::LocatorEmpty => f.write_str("secret reference names nothing after its scheme"),
            Self::FieldEmpty => f.write_str("secret reference has an empty field after `#`"),
            Self::FieldInvalid => f.write_str("secret reference has more than one `#`"),
            Self::VariableNameInvalid => {
                f.write_str("secret reference variable name must match [A-Za-z_][A-Za-z0-9_]*")
            }
            Self::DotEnvVariableMissing => {
                f.write_str("dotenv reference must name its variable, as dotenv:PATH#NAME")
            }
            Self::LooksLikeUrl => f.write_str(
                "secret reference looks like a URL or DSN; keep the DSN in a secret source and reference it (e.g. env:DATABASE_URL)",
            ),
            Self::AwsSecretIdInvalid => f.write_str(
                "aws-sm reference secret id must be letters, digits and /_+=.@- (at most 512), or an ARN",
            ),
            Self::VaultPathInvalid { reason } => write!(f, "vault reference path is invalid: {reason}"),
            Self::AzureUrlInvalid { reason } => write!(f, "azure-kv reference URL is invalid: {reason}"),
        }
    }
}

impl std::error::Error for RefError {}
