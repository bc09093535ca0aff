//! Settings from the environment, with the reference back end's names; defaults point at the
//! services `cargo xtask services up` starts.

mod credential;
mod parse;

use std::net::SocketAddr;
use std::path::PathBuf;

use palisade_ratelimit::Spec;
use palisade_secrets::{SecretRef, SecretValue, TlsPolicy};
use palisade_web::TrustedProxies;

pub use credential::Connection;
use parse::{connection, optional_ref, rate, switch};

/// What the service runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `MODE`: `test`, `dev` (default) or `prod`.
    pub mode: Mode,
    /// `LISTEN_ADDR` (default `127.0.0.1:8000`).
    pub listen: SocketAddr,
    /// `JWT_SECRET`: a reference to the token key (`env:JWT_SECRET_VALUE`); required in
    /// `prod`, a fresh random key per process otherwise.
    pub jwt_secret: Option<SecretRef>,
    /// `JWT_KEY_ID` (default `k1`): the key version tokens name in `kid`.
    pub jwt_key_id: String,
    /// `JWT_PREVIOUS_SECRET`: the key being rotated out; tokens it signed are still accepted
    /// until they expire, new tokens are signed with `JWT_SECRET`.
    pub jwt_previous_secret: Option<SecretRef>,
    /// `JWT_PREVIOUS_KEY_ID` (default `k0`): the `kid` of the previous key.
    pub jwt_previous_key_id: String,
    /// `MONGO_URL` (default: the services' SecantusDB).
    pub mongo_url: Connection,
    /// `MONGO_DB` (default `crud_api`): the accounts live here, each organization's records in
    /// a database of its own named after it (`crud_api_org_<id>`).
    pub mongo_db: String,
    /// `DATABASE_URL` (default: the services' PostgreSQL as `crud_api`): the read-write
    /// credential, which creates the tables.
    pub database_url: Connection,
    /// `DATABASE_OWNER_URL`: the owner of the tables; when set, the service creates or
    /// updates them at start and grants the two logins above what they need, then drops the
    /// connection. Default: the services' `crud_api_owner` in `dev` and `test`, none in
    /// `prod` (run the schema as a deployment step: `crud-api --migrate`).
    pub database_owner_url: Option<Connection>,
    /// `DATABASE_READ_ONLY_URL` (default: the services' PostgreSQL as `crud_api_reader`): the
    /// credential of reports and exports, which can only read.
    pub database_read_only_url: Connection,
    /// `REDIS_URL` (default: the services' Redis): rate limits and one-time codes shared by
    /// every instance.
    pub redis_url: Connection,
    /// `TRUSTED_PROXIES`: comma-separated networks (`10.0.0.0/8,127.0.0.1/32`) whose
    /// `X-Forwarded-For` is believed; none by default.
    pub trusted_proxies: TrustedProxies,
    /// `AUTH_RATE_LIMIT` (default `5/minute`): per client address on sign-in, sign-up and
    /// forgot-password.
    pub auth_rate_limit: Spec,
    /// `WRITE_RATE_LIMIT` (default `60/minute`): per user on creates, updates and deletes.
    pub write_rate_limit: Spec,
    /// `RATE_LIMIT_ENABLED=false` turns the limits off, in `test` mode only.
    pub rate_limit_enabled: bool,
    /// `TURNSTILE_SITE_KEY`: with `TURNSTILE_SECRET_KEY`, sign-in, sign-up and
    /// forgot-password need a `CF-Turnstile-Token` header.
    pub turnstile_site_key: Option<String>,
    /// `TURNSTILE_SECRET_KEY`: a reference to the Turnstile secret.
    pub turnstile_secret_key: Option<SecretRef>,
    /// `TURNSTILE_VERIFY_URL`: siteverify's address (an emulator in tests; Cloudflare's by
    /// default). Only `MODE=test` accepts Cloudflare's documented test secret keys.
    pub turnstile_verify_url: Option<String>,
    /// `AUDIT_LOG_DIR`: where the tamper-evident audit log goes (none by default: audit
    /// events then go to the log only). Required in `prod`.
    pub audit_log_dir: Option<PathBuf>,
    /// `AUDIT_KEY`: a reference to the audit log's checkpoint key (32 bytes or more);
    /// required with `AUDIT_LOG_DIR`.
    pub audit_key: Option<SecretRef>,
    /// `VAULT_ADDR`: with `VAULT_TOKEN`, `vault:` references are read from this Vault or
    /// OpenBao server (KV v2), such as `JWT_SECRET=vault:secret/crud-api#jwt`.
    pub vault_addr: Option<String>,
    /// `VAULT_TOKEN`: a reference to the Vault token (`file:` a Vault Agent sink, `env:`).
    pub vault_token: Option<SecretRef>,
    /// `SECRETS_CACHE_TTL`: seconds a secret read at run time (the token keys) is used before
    /// it is read again (default 60); a rotation is seen within it.
    pub secrets_cache_ttl: std::time::Duration,
    /// `SECRETS_MAX_STALE`: seconds the last good value keeps serving while its store cannot
    /// be read (default 600); past it, requests that need the secret answer 503.
    pub secrets_max_stale: std::time::Duration,
    /// `FIELD_KEY`: a reference to the key-encryption key of the encrypted fields (32 bytes:
    /// 64 hex digits or base64); required in `prod`. Without it (`dev`, `test`) a key kept in
    /// the system's temporary directory is used, made on first start.
    pub field_key: Option<SecretRef>,
    /// `FIELD_INDEX_KEY`: a reference to the blind-index key (32 bytes, not the same as
    /// `FIELD_KEY`); required in `prod`, as `FIELD_KEY` otherwise.
    pub field_index_key: Option<SecretRef>,
    /// `LOG_FORMAT`: `json` or `text` (default), to standard output.
    pub log_format: LogFormat,
    /// `OIDC_ISSUER` and its companions: sign-in through an OpenID provider (none by
    /// default).
    pub oidc: Option<OidcSettings>,
}

/// Sign-in through an OpenID provider: the authorization-code flow with PKCE, a state and a
/// nonce; the browser then lands on `FRONTEND_URL?session_code=...`, which the front end
/// exchanges at `GET /api/v1/session` for the service's own token.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// `OIDC_ISSUER`: the provider's issuer URL (its discovery document is read at start).
    pub issuer: String,
    /// `OIDC_CLIENT_ID`.
    pub client_id: String,
    /// `OIDC_CLIENT_SECRET`: a reference to the client secret.
    pub client_secret: SecretRef,
    /// `OIDC_REDIRECT_URL`: this service's `/api/v1/auth/callback`, as registered with the
    /// provider.
    pub redirect_url: String,
    /// `FRONTEND_URL`: where the browser goes with its session code.
    pub frontend_url: String,
}

/// `MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Tests.
    Test,
    /// Development (the default).
    Dev,
    /// Production: HSTS, TLS to every database that is not on this machine, keys from a
    /// secret store, an audit log.
    Prod,
}

impl Mode {
    /// The TLS policy connection strings are checked against.
    #[must_use]
    pub fn tls_policy(self) -> TlsPolicy {
        match self {
            Self::Prod => TlsPolicy::Production,
            Self::Dev | Self::Test => TlsPolicy::Development,
        }
    }
}

/// `LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

/// A setting that cannot be used; names the variable, never its value.
#[derive(Debug)]
pub struct SettingInvalid {
    /// The variable.
    pub name: &'static str,
    /// What is wrong.
    pub reason: &'static str,
}

impl std::fmt::Display for SettingInvalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.reason)
    }
}

impl std::error::Error for SettingInvalid {}

const DEFAULT_MONGO_URL: &str = "mongodb://127.0.0.1:57017/?directConnection=true";
const DEFAULT_DATABASE_URL: &str = "postgres://crud_api@127.0.0.1:55432/crud_api";
const DEFAULT_DATABASE_READ_ONLY_URL: &str = "postgres://crud_api_reader@127.0.0.1:55432/crud_api";
const DEFAULT_DATABASE_OWNER_URL: &str = "postgres://crud_api_owner@127.0.0.1:55432/crud_api";
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:56379/";

impl Settings {
    /// Reads the environment.
    ///
    /// # Errors
    /// [`SettingInvalid`] naming the variable that cannot be used.
    pub fn from_env() -> Result<Self, SettingInvalid> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    ///
    /// # Errors
    /// [`SettingInvalid`] naming the variable that cannot be used.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingInvalid> {
        let lookup = |name: &str| lookup(name).filter(|value| !value.is_empty());
        let mode = match lookup("MODE").as_deref() {
            None | Some("dev") => Mode::Dev,
            Some("test") => Mode::Test,
            Some("prod") => Mode::Prod,
            Some(_) => return Err(SettingInvalid::new("MODE", "expected test, dev or prod")),
        };
        let listen = match lookup("LISTEN_ADDR") {
            None => SocketAddr::from(([127, 0, 0, 1], 8000)),
            Some(text) => text.parse().map_err(|_| {
                SettingInvalid::new(
                    "LISTEN_ADDR",
                    "expected an address and port, such as 127.0.0.1:8000",
                )
            })?,
        };
        let jwt_secret = optional_ref(&lookup, "JWT_SECRET")?;
        if jwt_secret.is_none() && mode == Mode::Prod {
            return Err(SettingInvalid::new(
                "JWT_SECRET",
                "required in prod: a secret reference such as env:JWT_SECRET_VALUE",
            ));
        }
        let jwt_key_id = parse::key_id(&lookup, "JWT_KEY_ID", "k1")?;
        let jwt_previous_secret = optional_ref(&lookup, "JWT_PREVIOUS_SECRET")?;
        let jwt_previous_key_id = parse::key_id(&lookup, "JWT_PREVIOUS_KEY_ID", "k0")?;
        if jwt_previous_secret.is_some() && jwt_previous_key_id == jwt_key_id {
            return Err(SettingInvalid::new(
                "JWT_PREVIOUS_KEY_ID",
                "must differ from JWT_KEY_ID: each key version has its own kid",
            ));
        }
        let mongo_db = lookup("MONGO_DB").unwrap_or_else(|| "crud_api".to_owned());
        if !parse::database_name(&mongo_db) {
            return Err(SettingInvalid::new(
                "MONGO_DB",
                "expected 1 to 32 lowercase letters, digits and underscores",
            ));
        }
        let rate_limit_enabled = switch(&lookup, "RATE_LIMIT_ENABLED", true)?;
        if !rate_limit_enabled && mode != Mode::Test {
            return Err(SettingInvalid::new(
                "RATE_LIMIT_ENABLED",
                "only MODE=test may turn the rate limits off",
            ));
        }
        let audit_log_dir = lookup("AUDIT_LOG_DIR").map(PathBuf::from);
        let audit_key = optional_ref(&lookup, "AUDIT_KEY")?;
        match (&audit_log_dir, &audit_key) {
            (None, _) if mode == Mode::Prod => {
                return Err(SettingInvalid::new(
                    "AUDIT_LOG_DIR",
                    "required in prod: where the tamper-evident audit log goes",
                ));
            }
            (Some(_), None) => {
                return Err(SettingInvalid::new(
                    "AUDIT_KEY",
                    "required with AUDIT_LOG_DIR: a secret reference to the log's checkpoint key",
                ));
            }
            _ => {}
        }
        let vault_addr = lookup("VAULT_ADDR");
        let vault_token = optional_ref(&lookup, "VAULT_TOKEN")?;
        if vault_addr.is_some() != vault_token.is_some() {
            return Err(SettingInvalid::new(
                "VAULT_TOKEN",
                "VAULT_ADDR and VAULT_TOKEN go together: a server and a reference to its token",
            ));
        }
        let secrets_cache_ttl = parse::seconds(&lookup, "SECRETS_CACHE_TTL", 60)?;
        let secrets_max_stale = parse::seconds(&lookup, "SECRETS_MAX_STALE", 600)?;
        let field_key = optional_ref(&lookup, "FIELD_KEY")?;
        let field_index_key = optional_ref(&lookup, "FIELD_INDEX_KEY")?;
        if mode == Mode::Prod {
            if field_key.is_none() {
                return Err(SettingInvalid::new(
                    "FIELD_KEY",
                    "required in prod: a secret reference to the field encryption key",
                ));
            }
            if field_index_key.is_none() {
                return Err(SettingInvalid::new(
                    "FIELD_INDEX_KEY",
                    "required in prod: a secret reference to the blind-index key",
                ));
            }
        }
        let log_format = match lookup("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(_) => return Err(SettingInvalid::new("LOG_FORMAT", "expected json or text")),
        };
        let oidc = match lookup("OIDC_ISSUER") {
            None => None,
            Some(issuer) => {
                let required = |name: &'static str| {
                    lookup(name).ok_or(SettingInvalid::new(name, "required with OIDC_ISSUER"))
                };
                Some(OidcSettings {
                    issuer,
                    client_id: required("OIDC_CLIENT_ID")?,
                    client_secret: optional_ref(&lookup, "OIDC_CLIENT_SECRET")?.ok_or(
                        SettingInvalid::new(
                            "OIDC_CLIENT_SECRET",
                            "required with OIDC_ISSUER: a secret reference such as env:NAME",
                        ),
                    )?,
                    redirect_url: required("OIDC_REDIRECT_URL")?,
                    frontend_url: required("FRONTEND_URL")?,
                })
            }
        };
        Ok(Self {
            oidc,
            mode,
            listen,
            jwt_secret,
            jwt_key_id,
            jwt_previous_secret,
            jwt_previous_key_id,
            mongo_url: connection(&lookup, "MONGO_URL", DEFAULT_MONGO_URL)?,
            mongo_db,
            database_url: connection(&lookup, "DATABASE_URL", DEFAULT_DATABASE_URL)?,
            database_read_only_url: connection(
                &lookup,
                "DATABASE_READ_ONLY_URL",
                DEFAULT_DATABASE_READ_ONLY_URL,
            )?,
            database_owner_url: match lookup("DATABASE_OWNER_URL") {
                Some(text) => Some(Connection::parse("DATABASE_OWNER_URL", &text)?),
                None if mode == Mode::Prod => None,
                None => Some(Connection::parse(
                    "DATABASE_OWNER_URL",
                    DEFAULT_DATABASE_OWNER_URL,
                )?),
            },
            redis_url: connection(&lookup, "REDIS_URL", DEFAULT_REDIS_URL)?,
            trusted_proxies: parse::trusted_proxies(&lookup)?,
            auth_rate_limit: rate(&lookup, "AUTH_RATE_LIMIT", "5/minute")?,
            write_rate_limit: rate(&lookup, "WRITE_RATE_LIMIT", "60/minute")?,
            rate_limit_enabled,
            turnstile_site_key: lookup("TURNSTILE_SITE_KEY"),
            turnstile_secret_key: optional_ref(&lookup, "TURNSTILE_SECRET_KEY")?,
            turnstile_verify_url: lookup("TURNSTILE_VERIFY_URL"),
            audit_log_dir,
            audit_key,
            field_key,
            field_index_key,
            vault_addr,
            vault_token,
            secrets_cache_ttl,
            secrets_max_stale,
            log_format,
        })
    }
}

impl SettingInvalid {
    pub(crate) const fn new(name: &'static str, reason: &'static str) -> Self {
        Self { name, reason }
    }
}

/// A random key for a process without `JWT_SECRET` (dev and test): tokens end with it.
pub(crate) fn ephemeral_key() -> Result<SecretValue, getrandom::Error> {
    // A fixed first byte, then 32 random ones: random bytes alone would now and then begin
    // with what a public key begins with (`{`, after whitespace), which the key is refused for.
    let mut bytes = vec![b'k'; 33];
    if let Some((_, random)) = bytes.split_first_mut() {
        getrandom::fill(random)?;
    }
    Ok(SecretValue::from_bytes(bytes))
}
