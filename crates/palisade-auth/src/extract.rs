//! axum extractors: `Bearer<C>` and `Turnstile`, with problem+json rejections; the verified
//! user goes into `palisade-web`'s request context.

use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::{FromRef, FromRequestParts};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use palisade_problem::Problem;
use palisade_web::context::RequestContext;
use serde::de::DeserializeOwned;

use crate::code::RedeemError;
use crate::token::{TokenRefused, TokenVerifier, Verified};
use crate::turnstile::{TurnstileAccepted, TurnstileRefused, TurnstileVerifier};

/// What `Bearer` verifies tokens with: the application's own [`TokenVerifier`], or a JWKS
/// verifier for a third-party issuer.
pub trait BearerVerifier: Send + Sync {
    /// Verifies `token` and reads its claims.
    fn verify_bearer<C: DeserializeOwned + Send>(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Verified<C>, TokenRefused>> + Send;
}

impl BearerVerifier for TokenVerifier {
    fn verify_bearer<C: DeserializeOwned + Send>(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Verified<C>, TokenRefused>> + Send {
        std::future::ready(self.verify(token))
    }
}

/// The token of `Authorization: Bearer TOKEN` (RFC 6750 §2.1; the scheme in any case), for
/// middleware of its own that verifies before the handler: `None` when the header is
/// missing, not text, another scheme, or holds more than one token.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert(http::header::AUTHORIZATION, "bearer abc.def.ghi".parse().unwrap());
/// assert_eq!(palisade_auth::bearer_token(&headers), Some("abc.def.ghi"));
/// headers.insert(http::header::AUTHORIZATION, "Basic dXNlcjpwdw==".parse().unwrap());
/// assert_eq!(palisade_auth::bearer_token(&headers), None);
/// ```
#[must_use]
pub fn bearer_token(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}

/// A request's verified bearer token, with the application's claims `C`; verified by `V`
/// (the state's [`TokenVerifier`] by default). A route that takes it answers every missing or
/// refused token `401` with `WWW-Authenticate: Bearer error="invalid_token"`, one opaque
/// answer; the reason is logged (`tracing`, target `palisade_auth`, never the token). The
/// token's `sub` becomes the request context's user.
#[derive(Debug, Clone)]
pub struct Bearer<C, V = TokenVerifier> {
    verified: Verified<C>,
    verifier: PhantomData<fn() -> V>,
}

impl<C, V> Bearer<C, V> {
    /// The verified token.
    pub fn into_inner(self) -> Verified<C> {
        self.verified
    }

    /// The token's subject (always set: a token without `sub` is refused).
    pub fn subject(&self) -> &str {
        self.verified
            .registered
            .subject
            .as_deref()
            .unwrap_or_default()
    }
}

impl<C, V> Deref for Bearer<C, V> {
    type Target = Verified<C>;

    fn deref(&self) -> &Verified<C> {
        &self.verified
    }
}

impl<S, C, V> FromRequestParts<S> for Bearer<C, V>
where
    S: Send + Sync,
    C: DeserializeOwned + Send,
    V: BearerVerifier + FromRef<S>,
{
    type Rejection = TokenRefused;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, TokenRefused> {
        let verifier = V::from_ref(state);
        let outcome = match bearer_token(&parts.headers) {
            None => Err(TokenRefused::Missing),
            Some(token) => verifier.verify_bearer::<C>(token).await,
        };
        let verified = outcome.and_then(|verified| {
            let subject = verified
                .registered
                .subject
                .as_deref()
                .ok_or(TokenRefused::Claim("sub"))?;
            if let Some(context) = parts.extensions.get::<RequestContext>() {
                // Another layer set someone else: refuse rather than mix two users.
                context
                    .identify(subject, None)
                    .map_err(|_| TokenRefused::Claim("sub"))?;
            }
            Ok(verified)
        });
        outcome_logged(verified).map(|verified| Self {
            verified,
            verifier: PhantomData,
        })
    }
}

/// Logs a refusal's reason (never the token).
fn outcome_logged<C>(
    outcome: Result<Verified<C>, TokenRefused>,
) -> Result<Verified<C>, TokenRefused> {
    if let Err(refused) = &outcome {
        tracing::info!(target: "palisade_auth", reason = refused.id(), "bearer token refused");
    }
    outcome
}

/// The header a page sends its Turnstile token in.
pub const TURNSTILE_HEADER: &str = "cf-turnstile-token";

/// A request whose `CF-Turnstile-Token` siteverify accepted (checked with the state's
/// [`TurnstileVerifier`], with the client's address from the request context or the peer).
/// Missing or refused: `400` problem details; siteverify unreachable: `503`, never a pass.
#[derive(Debug, Clone)]
pub struct Turnstile(pub TurnstileAccepted);

impl<S> FromRequestParts<S> for Turnstile
where
    S: Send + Sync,
    TurnstileVerifier: FromRef<S>,
{
    type Rejection = TurnstileRefused;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, TurnstileRefused> {
        let verifier = TurnstileVerifier::from_ref(state);
        let token = parts
            .headers
            .get(TURNSTILE_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let client = parts
            .extensions
            .get::<RequestContext>()
            .and_then(RequestContext::client)
            .or_else(|| palisade_web::peer_addr(&parts.extensions).map(|peer| peer.ip()));
        let outcome = verifier.verify(token, client).await;
        if let Err(refused) = &outcome {
            tracing::info!(target: "palisade_auth", reason = %refused, "turnstile refused");
        }
        outcome.map(Self)
    }
}

impl IntoResponse for TurnstileRefused {
    fn into_response(self) -> Response {
        let problem = match self {
            Self::Unavailable(_) => Problem::new(
                "auth/turnstile-unavailable",
                "bot verification is unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            _ => Problem::new(
                "auth/turnstile-refused",
                "bot verification failed",
                StatusCode::BAD_REQUEST,
            ),
        };
        problem.into_response()
    }
}

impl IntoResponse for RedeemError {
    /// A refused code is `400` `invalid_grant`-like problem details, the same for an unknown,
    /// expired or spent code; an unavailable store is `503`.
    fn into_response(self) -> Response {
        let problem = match self {
            Self::Refused => Problem::new(
                "auth/invalid-code",
                "the code is invalid or expired",
                StatusCode::BAD_REQUEST,
            ),
            Self::Unavailable(_) => Problem::database_unavailable("auth/code-store-unavailable"),
        };
        problem.into_response()
    }
}
