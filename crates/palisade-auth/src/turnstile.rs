//! `TurnstileVerifier`: Cloudflare Turnstile's siteverify, failing closed.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use palisade_secrets::SecretValue;
use serde::Deserialize;

/// Cloudflare's siteverify endpoint.
pub const SITEVERIFY_URL: &str = "https://challenges.cloudflare.com/turnstile/v0/siteverify";

/// Cloudflare's documented test secret keys.
const TEST_SECRETS: [&str; 3] = [
    "1x0000000000000000000000000000000AA",
    "2x0000000000000000000000000000000AA",
    "3x0000000000000000000000000000000AA",
];

/// The longest token Turnstile issues.
const MAX_TOKEN_LEN: usize = 2048;

/// A Turnstile configuration that would not protect anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Turnstile cannot be configured so: {0}")]
pub struct TurnstileConfigInvalid(&'static str);

/// An error code of siteverify's `error-codes`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TurnstileErrorCode {
    /// `missing-input-secret`.
    MissingInputSecret,
    /// `invalid-input-secret`: the secret is wrong (a configuration error).
    InvalidInputSecret,
    /// `missing-input-response`.
    MissingInputResponse,
    /// `invalid-input-response`: the token is invalid or expired.
    InvalidInputResponse,
    /// `bad-request`.
    BadRequest,
    /// `timeout-or-duplicate`: the token was already validated or is too old.
    TimeoutOrDuplicate,
    /// `internal-error`.
    InternalError,
    /// Any other code, as sent (codes are Cloudflare's constants, never user input).
    Other(String),
}

impl TurnstileErrorCode {
    fn parse(code: &str) -> Self {
        match code {
            "missing-input-secret" => Self::MissingInputSecret,
            "invalid-input-secret" => Self::InvalidInputSecret,
            "missing-input-response" => Self::MissingInputResponse,
            "invalid-input-response" => Self::InvalidInputResponse,
            "bad-request" => Self::BadRequest,
            "timeout-or-duplicate" => Self::TimeoutOrDuplicate,
            "internal-error" => Self::InternalError,
            other => Self::Other(other.chars().take(64).collect()),
        }
    }
}

/// Why a request's Turnstile token was not accepted. Every case fails closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TurnstileRefused {
    /// No token came with the request (`400`).
    #[error("no Turnstile token")]
    Missing,
    /// The token is longer than any Turnstile issues (`400`, not sent to Cloudflare).
    #[error("the Turnstile token is too long")]
    TooLong,
    /// siteverify said no.
    #[error("Turnstile refused the token: {0:?}")]
    Rejected(Vec<TurnstileErrorCode>),
    /// The token was solved on another host name.
    #[error("the Turnstile token was solved on another host")]
    WrongHostname,
    /// The token was solved for another action.
    #[error("the Turnstile token was solved for another action")]
    WrongAction,
    /// siteverify could not be asked: timeout, network error, an error status or an answer
    /// that is not its JSON. Refused all the same.
    #[error("Turnstile could not be reached ({0})")]
    Unavailable(&'static str),
}

impl TurnstileRefused {
    /// A stable id for logs and metrics (`turnstile/rejected`).
    #[must_use]
    pub const fn id(&self) -> &'static str {
        match self {
            Self::Missing => "turnstile/missing",
            Self::TooLong => "turnstile/too-long",
            Self::Rejected(_) => "turnstile/rejected",
            Self::WrongHostname => "turnstile/hostname",
            Self::WrongAction => "turnstile/action",
            Self::Unavailable(_) => "turnstile/unavailable",
        }
    }
}

/// What siteverify said about an accepted token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TurnstileAccepted {
    /// The host name the widget ran on.
    pub hostname: String,
    /// The widget's action.
    pub action: String,
    /// When the challenge was solved (RFC 3339).
    pub challenge_ts: String,
}

#[derive(Deserialize)]
struct Answer {
    success: bool,
    #[serde(default, rename = "error-codes")]
    error_codes: Vec<String>,
    #[serde(default)]
    hostname: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    challenge_ts: String,
}

/// Verifies Turnstile tokens with siteverify: the secret, the token, the client's address
/// and an idempotency key (a UUID, so the one retry after a network error cannot spend the
/// token twice). A timeout (default 5 s), a network error, an error status or an answer that
/// is not siteverify's JSON refuses the request: there is no fail-open path. The host name
/// and action are checked when configured.
#[derive(Clone)]
pub struct TurnstileVerifier {
    client: reqwest::Client,
    endpoint: url::Url,
    secret: SecretValue,
    hostnames: Vec<String>,
    action: Option<String>,
    events: crate::events::Events,
}

impl TurnstileVerifier {
    /// A verifier with `secret`, calling Cloudflare.
    ///
    /// # Errors
    /// [`TurnstileConfigInvalid`] for an empty secret.
    pub fn new(secret: SecretValue) -> Result<Self, TurnstileConfigInvalid> {
        if secret
            .expose_str()
            .is_some_and(|text| TEST_SECRETS.contains(&text.trim()))
        {
            return Err(TurnstileConfigInvalid(
                "the secret key is one of Cloudflare's test keys, which pass or fail every token: use for_testing",
            ));
        }
        Self::for_testing(secret)
    }

    /// A verifier that also takes Cloudflare's documented test secret keys
    /// (`1x0000000000000000000000000000000AA` always passes, `2x...` always fails, `3x...`
    /// answers "already spent"), for end-to-end tests; [`new`](Self::new) refuses them so a
    /// test configuration cannot reach production unnoticed.
    ///
    /// # Errors
    /// [`TurnstileConfigInvalid`] for an empty secret.
    pub fn for_testing(secret: SecretValue) -> Result<Self, TurnstileConfigInvalid> {
        if secret
            .expose_str()
            .is_none_or(|text| text.trim().is_empty())
        {
            return Err(TurnstileConfigInvalid("the secret key is empty"));
        }
        let endpoint = url::Url::parse(SITEVERIFY_URL)
            .map_err(|_| TurnstileConfigInvalid("the siteverify URL"))?;
        Ok(Self {
            client: client(Duration::from_secs(5))?,
            endpoint,
            secret,
            hostnames: Vec::new(),
            action: None,
            events: crate::events::Events::default(),
        })
    }

    /// The verifier a deployment's settings ask for: none when neither the site key nor the
    /// secret is set (Turnstile off, on purpose), an error when the site key is set without a
    /// secret (pages would show the widget and the server would check nothing).
    ///
    /// # Errors
    /// [`TurnstileConfigInvalid`] for a site key without a secret, or an empty secret.
    pub fn from_settings(
        site_key: Option<&str>,
        secret: Option<SecretValue>,
    ) -> Result<Option<Self>, TurnstileConfigInvalid> {
        let site_key = site_key.filter(|key| !key.trim().is_empty());
        match (site_key, secret) {
            (None, None) => Ok(None),
            (Some(_), None) => Err(TurnstileConfigInvalid(
                "a site key is set without its secret key: every token would go unchecked",
            )),
            (_, Some(secret)) => Self::new(secret).map(Some),
        }
    }

    /// Calls `endpoint` instead of Cloudflare (an emulator in tests): `https`, or `http` on
    /// loopback only.
    ///
    /// # Errors
    /// [`TurnstileConfigInvalid`] for another URL.
    pub fn endpoint(mut self, endpoint: &str) -> Result<Self, TurnstileConfigInvalid> {
        let url = palisade_secrets::check_endpoint(endpoint)
            .map_err(|_| TurnstileConfigInvalid("the endpoint is https (http only on loopback)"))?;
        self.endpoint = url;
        Ok(self)
    }

    /// Accept tokens solved on this host name only (call again for several).
    #[must_use]
    pub fn hostname(mut self, hostname: &str) -> Self {
        self.hostnames.push(hostname.to_ascii_lowercase());
        self
    }

    /// Accept tokens solved for this action only.
    #[must_use]
    pub fn action(mut self, action: &str) -> Self {
        self.action = Some(action.to_owned());
        self
    }

    /// How long one siteverify call may take (default 5 s).
    ///
    /// # Errors
    /// [`TurnstileConfigInvalid`] for zero or over 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Result<Self, TurnstileConfigInvalid> {
        if timeout.is_zero() || timeout > Duration::from_secs(30) {
            return Err(TurnstileConfigInvalid(
                "the timeout is over 0 and at most 30 s",
            ));
        }
        self.client = client(timeout)?;
        Ok(self)
    }

    /// Verifies `token` from a client at `remote_ip`.
    ///
    /// # Errors
    /// [`TurnstileRefused`]: every failure, the service's included, refuses.
    pub async fn verify(
        &self,
        token: &str,
        remote_ip: Option<IpAddr>,
    ) -> Result<TurnstileAccepted, TurnstileRefused> {
        let result = self.verify_quietly(token, remote_ip).await;
        if let Err(refused) = &result {
            self.events.turnstile_refused(refused.id());
        }
        result
    }

    /// Emits a palisade-audit `AccessDenied` security event for every Turnstile token it refuses (reason
    /// `turnstile/rejected`), with the request's actor; nothing of the token or the secret.
    #[cfg(feature = "audit")]
    #[cfg_attr(docsrs, doc(cfg(feature = "audit")))]
    #[must_use]
    pub fn with_audit(mut self, audit: palisade_audit::Audit) -> Self {
        self.events = crate::events::Events::new(audit);
        self
    }

    async fn verify_quietly(
        &self,
        token: &str,
        remote_ip: Option<IpAddr>,
    ) -> Result<TurnstileAccepted, TurnstileRefused> {
        if token.is_empty() {
            return Err(TurnstileRefused::Missing);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(TurnstileRefused::TooLong);
        }
        let secret = self.secret.expose_str().unwrap_or_default();
        let idempotency_key = uuid_v4();
        let remote_ip = remote_ip.map(|ip| ip.to_string());
        let mut form = vec![
            ("secret", secret),
            ("response", token),
            ("idempotency_key", idempotency_key.as_str()),
        ];
        if let Some(ip) = &remote_ip {
            form.push(("remoteip", ip.as_str()));
        }
        let mut answer = self.call(&form).await;
        if matches!(answer, Err(TurnstileRefused::Unavailable("network error"))) {
            // Safe to repeat: the same idempotency key gets the first answer again.
            answer = self.call(&form).await;
        }
        self.judge(answer?)
    }

    async fn call(&self, form: &[(&str, &str)]) -> Result<Answer, TurnstileRefused> {
        let response = self
            .client
            .post(self.endpoint.clone())
            .form(form)
            .send()
            .await
            .map_err(|error| {
                TurnstileRefused::Unavailable(if error.is_timeout() {
                    "timeout"
                } else {
                    "network error"
                })
            })?;
        if !response.status().is_success() {
            return Err(TurnstileRefused::Unavailable("error status"));
        }
        let body = response
            .bytes()
            .await
            .map_err(|_| TurnstileRefused::Unavailable("network error"))?;
        // siteverify answers a JSON object; an array would be read by position.
        if body.trim_ascii_start().first() != Some(&b'{') {
            return Err(TurnstileRefused::Unavailable("not siteverify's JSON"));
        }
        serde_json::from_slice::<Answer>(&body)
            .map_err(|_| TurnstileRefused::Unavailable("not siteverify's JSON"))
    }

    fn judge(&self, answer: Answer) -> Result<TurnstileAccepted, TurnstileRefused> {
        if !answer.success {
            return Err(TurnstileRefused::Rejected(
                answer
                    .error_codes
                    .iter()
                    .map(|code| TurnstileErrorCode::parse(code))
                    .collect(),
            ));
        }
        if !self.hostnames.is_empty()
            && !self
                .hostnames
                .iter()
                .any(|hostname| hostname.eq_ignore_ascii_case(&answer.hostname))
        {
            return Err(TurnstileRefused::WrongHostname);
        }
        if self
            .action
            .as_ref()
            .is_some_and(|action| *action != answer.action)
        {
            return Err(TurnstileRefused::WrongAction);
        }
        Ok(TurnstileAccepted {
            hostname: answer.hostname,
            action: answer.action,
            challenge_ts: answer.challenge_ts,
        })
    }
}

impl fmt::Debug for TurnstileVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TurnstileVerifier")
            .field("endpoint", &self.endpoint.as_str())
            .field("hostnames", &self.hostnames)
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

fn client(timeout: Duration) -> Result<reqwest::Client, TurnstileConfigInvalid> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|_| TurnstileConfigInvalid("no HTTP client could be built"))
}

/// A random (version 4) UUID.
fn uuid_v4() -> String {
    let mut bytes = crate::random::bytes::<16>();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
