//! Settings from the environment, with the reference back end's names; defaults point at the
//! services `cargo xtask services up` starts.

use std::net::SocketAddr;

use palisade_ratelimit::Spec;
use palisade_secrets::{SecretRef, SecretValue};

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
    /// `MONGO_URL` (default: the services' SecantusDB).
    pub mongo_url: String,
    /// `MONGO_DB` (default `crud_api`).
    pub mongo_db: String,
    /// `AUTH_RATE_LIMIT` (default `5/minute`): per client address on sign-in and sign-up.
    pub auth_rate_limit: Spec,
    /// `RATE_LIMIT_ENABLED=false` turns the limits off, in `test` mode only.
    pub rate_limit_enabled: bool,
}

/// `MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Tests.
    Test,
    /// Development (the default).
    Dev,
    /// Production: HSTS, a key from a secret store.
    Prod,
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
        let mode = match lookup("MODE").as_deref() {
            None | Some("dev") => Mode::Dev,
            Some("test") => Mode::Test,
            Some("prod") => Mode::Prod,
            Some(_) => {
                return Err(SettingInvalid {
                    name: "MODE",
                    reason: "expected test, dev or prod",
                });
            }
        };
        let listen = match lookup("LISTEN_ADDR") {
            None => SocketAddr::from(([127, 0, 0, 1], 8000)),
            Some(text) => text.parse().map_err(|_| SettingInvalid {
                name: "LISTEN_ADDR",
                reason: "expected an address and port, such as 127.0.0.1:8000",
            })?,
        };
        let jwt_secret = match lookup("JWT_SECRET") {
            None if mode == Mode::Prod => {
                return Err(SettingInvalid {
                    name: "JWT_SECRET",
                    reason: "required in prod: a secret reference such as env:JWT_SECRET_VALUE",
                });
            }
            None => None,
            Some(text) => Some(SecretRef::parse(&text).map_err(|_| SettingInvalid {
                name: "JWT_SECRET",
                reason: "expected a secret reference such as env:JWT_SECRET_VALUE",
            })?),
        };
        let auth_rate_limit = lookup("AUTH_RATE_LIMIT")
            .as_deref()
            .unwrap_or("5/minute")
            .parse()
            .map_err(|_| SettingInvalid {
                name: "AUTH_RATE_LIMIT",
                reason: "expected a rate such as 5/minute",
            })?;
        let rate_limit_enabled = match lookup("RATE_LIMIT_ENABLED").as_deref() {
            None | Some("true") => true,
            Some("false") if mode == Mode::Test => false,
            Some("false") => {
                return Err(SettingInvalid {
                    name: "RATE_LIMIT_ENABLED",
                    reason: "only MODE=test may turn the rate limits off",
                });
            }
            Some(_) => {
                return Err(SettingInvalid {
                    name: "RATE_LIMIT_ENABLED",
                    reason: "expected true or false",
                });
            }
        };
        Ok(Self {
            auth_rate_limit,
            rate_limit_enabled,
            mode,
            listen,
            jwt_secret,
            mongo_url: lookup("MONGO_URL").unwrap_or_else(|| DEFAULT_MONGO_URL.to_owned()),
            mongo_db: lookup("MONGO_DB").unwrap_or_else(|| "crud_api".to_owned()),
        })
    }
}

/// A random key for a process without `JWT_SECRET` (dev and test): tokens end with it.
pub(crate) fn ephemeral_key() -> Result<SecretValue, getrandom::Error> {
    let mut bytes = vec![0_u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(SecretValue::from_bytes(bytes))
}
