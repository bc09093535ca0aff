//! An emulator of Cloudflare Turnstile's siteverify endpoint, as documented:
//!
//! - <https://developers.cloudflare.com/turnstile/get-started/server-side-validation/>: a
//!   `POST` of `secret`, `response`, optional `remoteip` and `idempotency_key`, as a form or
//!   JSON; the answer `{"success", "challenge_ts", "hostname", "error-codes", "action",
//!   "cdata", "metadata"}`; error codes `missing-input-secret`, `invalid-input-secret`,
//!   `missing-input-response`, `invalid-input-response`, `bad-request`,
//!   `timeout-or-duplicate`, `internal-error`; a token is valid for 300 seconds and can be
//!   validated once; a repeated request with the same `idempotency_key` gets the first
//!   answer again; tokens are at most 2048 characters.
//! - <https://developers.cloudflare.com/turnstile/troubleshooting/testing/>: the dummy secret
//!   keys `1x0000000000000000000000000000000AA` (always passes),
//!   `2x0000000000000000000000000000000AA` (always fails) and
//!   `3x0000000000000000000000000000000AA` (token already spent), and the dummy token
//!   `XXXX.DUMMY.TOKEN.XXXX`, which production secret keys reject.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use palisade_clock::Clock;
use serde_json::{Value, json};

use super::{Recorded, Served};

/// The dummy secret that always passes.
pub const PASSING_SECRET: &str = "1x0000000000000000000000000000000AA";
/// The dummy secret that always fails.
pub const FAILING_SECRET: &str = "2x0000000000000000000000000000000AA";
/// The dummy secret that answers "token already spent".
pub const SPENT_SECRET: &str = "3x0000000000000000000000000000000AA";
/// The token the dummy site keys produce.
pub const DUMMY_TOKEN: &str = "XXXX.DUMMY.TOKEN.XXXX";
/// How long a token may be validated.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// The path of the endpoint.
pub const SITEVERIFY_PATH: &str = "/turnstile/v0/siteverify";

/// How the emulator misbehaves, for fail-closed tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// Answers as documented.
    #[default]
    None,
    /// Never answers (the client's timeout fires).
    Hang,
    /// Answers 200 with a body that is not JSON.
    NotJson,
    /// Answers 502, as a failing edge would.
    BadGateway,
    /// Answers 200 with a JSON array where the object belongs (`[true]`).
    ArrayAnswer,
}

/// A token a widget handed out.
#[derive(Debug)]
struct Issued {
    hostname: String,
    action: String,
    cdata: String,
    issued_at: SystemTime,
    spent: bool,
}

#[derive(Debug)]
struct TurnstileState {
    clock: Arc<dyn Clock>,
    secret: String,
    tokens: HashMap<String, Issued>,
    answers: HashMap<String, Value>,
    fault: Fault,
    next: u64,
}

/// A running siteverify emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct TurnstileEmulator {
    state: Arc<Mutex<TurnstileState>>,
    served: Served,
}

impl TurnstileEmulator {
    /// Starts an emulator whose site's secret is `secret`, on `clock`.
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn start(clock: Arc<dyn Clock>, secret: &str) -> io::Result<Self> {
        let state = Arc::new(Mutex::new(TurnstileState {
            clock,
            secret: secret.to_owned(),
            tokens: HashMap::new(),
            answers: HashMap::new(),
            fault: Fault::None,
            next: 0,
        }));
        let router = Router::new()
            .route(SITEVERIFY_PATH, post(siteverify))
            .with_state(Arc::clone(&state));
        let served = Served::start(router, None).await?;
        Ok(Self { state, served })
    }

    fn state(&self) -> MutexGuard<'_, TurnstileState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The siteverify URL.
    #[must_use]
    pub fn siteverify_url(&self) -> String {
        format!("{}{SITEVERIFY_PATH}", self.served.url())
    }

    /// A token as the widget on `hostname` would give a browser for `action`.
    #[must_use]
    pub fn issue_token(&self, hostname: &str, action: &str) -> String {
        let mut state = self.state();
        state.next += 1;
        let token = format!("0.emulated-{:08}.{}", state.next, "x".repeat(200));
        let issued_at = state.clock.system_now();
        state.tokens.insert(
            token.clone(),
            Issued {
                hostname: hostname.to_owned(),
                action: action.to_owned(),
                cdata: String::new(),
                issued_at,
                spent: false,
            },
        );
        token
    }

    /// Misbehave so from now on.
    pub fn set_fault(&self, fault: Fault) {
        self.state().fault = fault;
    }

    /// Every request answered so far.
    #[must_use]
    pub fn requests(&self) -> Vec<Recorded> {
        self.served.requests()
    }
}

/// The fields of a request, from a form or a JSON object.
fn fields(headers: &HeaderMap, body: &[u8]) -> Option<HashMap<String, String>> {
    let json = headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if json {
        let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
            return None;
        };
        return Some(
            object
                .into_iter()
                .filter_map(|(name, value)| Some((name, value.as_str()?.to_owned())))
                .collect(),
        );
    }
    Some(url::form_urlencoded::parse(body).into_owned().collect())
}

fn failure(codes: &[&str]) -> Value {
    json!({"success": false, "error-codes": codes, "messages": []})
}

/// RFC 3339 with milliseconds, as `challenge_ts` is written.
fn timestamp(at: SystemTime) -> String {
    let millis = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let seconds = i64::try_from(millis / 1000).unwrap_or(0);
    let formatted = time_of(seconds);
    format!("{formatted}.{:03}Z", millis % 1000)
}

/// `YYYY-MM-DDTHH:MM:SS` for seconds since the epoch (proleptic Gregorian, UTC).
fn time_of(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The documented answer to one request.
fn answer(state: &mut TurnstileState, fields: &HashMap<String, String>) -> Value {
    let secret = fields.get("secret").map(String::as_str).unwrap_or_default();
    let token = fields
        .get("response")
        .map(String::as_str)
        .unwrap_or_default();
    if secret.is_empty() {
        return failure(&["missing-input-secret"]);
    }
    let now = state.clock.system_now();
    match secret {
        PASSING_SECRET if !token.is_empty() => {
            return json!({
                "success": true, "challenge_ts": timestamp(now), "hostname": "example.com",
                "error-codes": [], "action": "", "cdata": "", "metadata": {}
            });
        }
        FAILING_SECRET if !token.is_empty() => return failure(&["invalid-input-response"]),
        SPENT_SECRET if !token.is_empty() => return failure(&["timeout-or-duplicate"]),
        PASSING_SECRET | FAILING_SECRET | SPENT_SECRET => {}
        other if other != state.secret => return failure(&["invalid-input-secret"]),
        _ => {}
    }
    if token.is_empty() {
        return failure(&["missing-input-response"]);
    }
    if token.len() > 2048 || token == DUMMY_TOKEN {
        return failure(&["invalid-input-response"]);
    }
    let Some(issued) = state.tokens.get_mut(token) else {
        return failure(&["invalid-input-response"]);
    };
    let expired = now
        .duration_since(issued.issued_at)
        .is_ok_and(|age| age > TOKEN_LIFETIME);
    if issued.spent || expired {
        return failure(&["timeout-or-duplicate"]);
    }
    issued.spent = true;
    json!({
        "success": true, "challenge_ts": timestamp(issued.issued_at), "hostname": issued.hostname,
        "error-codes": [], "action": issued.action, "cdata": issued.cdata, "metadata": {}
    })
}

async fn siteverify(
    State(state): State<Arc<Mutex<TurnstileState>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = state.lock().unwrap_or_else(PoisonError::into_inner).fault;
    match fault {
        Fault::Hang => return std::future::pending().await,
        Fault::NotJson => return (StatusCode::OK, "<html>upstream error</html>").into_response(),
        Fault::BadGateway => return StatusCode::BAD_GATEWAY.into_response(),
        Fault::ArrayAnswer => return axum::Json(json!([true])).into_response(),
        Fault::None => {}
    }
    let Some(fields) = fields(&headers, &body) else {
        return axum::Json(failure(&["bad-request"])).into_response();
    };
    let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
    let key = fields.get("idempotency_key").cloned();
    if let Some(previous) = key.as_ref().and_then(|key| state.answers.get(key)) {
        return axum::Json(previous.clone()).into_response();
    }
    let answer = answer(&mut state, &fields);
    if let Some(key) = key {
        state.answers.insert(key, answer.clone());
    }
    axum::Json(answer).into_response()
}

#[cfg(test)]
mod tests {
    use super::time_of;

    #[test]
    fn timestamps_are_civil_dates() {
        assert_eq!(time_of(0), "1970-01-01T00:00:00");
        assert_eq!(time_of(1_764_988_496), "2025-12-06T02:34:56");
        assert_eq!(time_of(951_782_400), "2000-02-29T00:00:00");
    }
}
