//! The registered claims (RFC 7519 §4.1) every token is checked against, read beside the
//! application's own claims.

use serde::{Deserialize, Deserializer};

/// The registered claims of a verified token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Registered {
    /// `iss`: who issued it.
    #[serde(default, rename = "iss")]
    pub issuer: Option<String>,
    /// `sub`: whom it is about (the user).
    #[serde(default, rename = "sub")]
    pub subject: Option<String>,
    /// `aud`: whom it is for (one value or several).
    #[serde(default, rename = "aud", deserialize_with = "audience")]
    pub audience: Vec<String>,
    /// `exp`: when it expires (seconds since the epoch).
    #[serde(default, rename = "exp", deserialize_with = "numeric_date")]
    pub expires_at: Option<i64>,
    /// `nbf`: when it becomes valid.
    #[serde(default, rename = "nbf", deserialize_with = "numeric_date")]
    pub not_before: Option<i64>,
    /// `iat`: when it was issued.
    #[serde(default, rename = "iat", deserialize_with = "numeric_date")]
    pub issued_at: Option<i64>,
    /// `jti`: its unique id.
    #[serde(default, rename = "jti")]
    pub token_id: Option<String>,
    /// `tid`: the Microsoft Entra ID tenant that issued it (multi-tenant issuers).
    #[serde(default, rename = "tid")]
    pub tenant_id: Option<String>,
}

/// The claims of a token: the registered ones and the application's `C`, read from the same
/// JSON object.
#[derive(Debug, Deserialize)]
pub(crate) struct Both<C> {
    #[serde(flatten)]
    pub(crate) registered: Registered,
    #[serde(flatten)]
    pub(crate) custom: C,
}

/// A NumericDate (RFC 7519 §2): seconds since the epoch, an integer or a number with a
/// fraction (truncated towards the past for `nbf`/`iat` readers and `exp` alike: a fraction
/// never extends a token).
fn numeric_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Integer(i64),
        Float(f64),
    }
    match Option::<Number>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Number::Integer(seconds)) => Ok(Some(seconds)),
        Some(Number::Float(seconds)) if seconds.is_finite() && seconds.abs() < 1e15 =>
        {
            #[allow(
                clippy::cast_possible_truncation,
                reason = "finite and within ±1e15, which i64 holds exactly after floor"
            )]
            Ok(Some(seconds.floor() as i64))
        }
        Some(Number::Float(_)) => Err(serde::de::Error::custom("a date out of range")),
    }
}

/// `aud`: a string or an array of strings (RFC 7519 §4.1.3).
fn audience<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(OneOrMany::One(one)) => vec![one],
        Some(OneOrMany::Many(many)) => many,
    })
}
