//! `TokenRefused`: why a bearer token was not accepted, for logs; the client only ever sees
//! one opaque 401.

use http::StatusCode;
use http::header::HeaderValue;

/// Why a token was refused. The token itself is never part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenRefused {
    /// No `Authorization: Bearer` token was sent.
    #[error("no bearer token")]
    Missing,
    /// Longer than the limit (8 KiB by default), refused before any decoding.
    #[error("the token is longer than {limit} bytes")]
    TooLong {
        /// The limit.
        limit: usize,
    },
    /// Not three base64url parts with a JSON header and claims.
    #[error("the token is malformed")]
    Malformed,
    /// The header's `alg` is not the one of the key it names (or is `none`).
    #[error("the token's algorithm is not the key's")]
    AlgorithmNotAllowed,
    /// No key has the token's `kid` (or the token names none and several keys exist).
    #[error("no key for the token's key id")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// A required claim is missing or not of its type.
    #[error("the claim {0} is missing or malformed")]
    Claim(&'static str),
    /// Past `exp` (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// Before `nbf` or issued in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is not an accepted issuer.
    #[error("the token's issuer is not accepted")]
    WrongIssuer,
    /// `aud` names none of the accepted audiences.
    #[error("the token is for another audience")]
    WrongAudience,
    /// The issuer's keys could not be read and no cached copy is usable.
    #[error("the issuer's keys are unavailable")]
    KeysUnavailable,
    /// The verifier accepts no audience or no issuer: a configuration error, every token is
    /// refused until both are set.
    #[error("the verifier has no accepted audience or issuer configured")]
    VerifierIncomplete,
}

impl TokenRefused {
    /// A stable id for logs and metrics (`token/expired`).
    #[must_use]
    pub const fn id(&self) -> &'static str {
        match self {
            Self::Missing => "token/missing",
            Self::TooLong { .. } => "token/too-long",
            Self::Malformed => "token/malformed",
            Self::AlgorithmNotAllowed => "token/algorithm",
            Self::UnknownKey => "token/unknown-key",
            Self::BadSignature => "token/signature",
            Self::Claim(_) => "token/claim",
            Self::Expired => "token/expired",
            Self::NotYetValid => "token/not-yet-valid",
            Self::WrongIssuer => "token/issuer",
            Self::WrongAudience => "token/audience",
            Self::KeysUnavailable => "token/keys-unavailable",
            Self::VerifierIncomplete => "token/verifier-incomplete",
        }
    }

    /// What the client is told: `401` problem details with
    /// `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1), the same for every
    /// reason (a missing token gets `Bearer` alone, as RFC 6750 §3.1 asks). The reason is
    /// for the server's logs only.
    #[must_use]
    pub fn to_response(&self) -> http::Response<String> {
        let mut response = palisade_problem::Problem::new(
            "auth/unauthenticated",
            "authentication required",
            StatusCode::UNAUTHORIZED,
        )
        .to_response();
        let challenge = match self {
            Self::Missing => HeaderValue::from_static("Bearer"),
            _ => HeaderValue::from_static("Bearer error=\"invalid_token\""),
        };
        response
            .headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, challenge);
        response
    }
}

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
impl axum::response::IntoResponse for TokenRefused {
    fn into_response(self) -> axum::response::Response {
        self.to_response().map(axum::body::Body::from)
    }
}
