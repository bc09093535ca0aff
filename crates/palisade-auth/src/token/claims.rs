//! The registered claims (RFC 7519 §4.1) every token is checked against, read beside the
//! application's own claims.

use std::fmt;

use serde::de::{self, Visitor};
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

/// A NumericDate (RFC 7519 §2): seconds since the epoch, an integer or a number with a
/// fraction (floored: a fraction never extends a token).
fn numeric_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    struct Seconds;
    impl<'de> Visitor<'de> for Seconds {
        type Value = Option<i64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a NumericDate")
        }

        fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<Self::Value, E> {
            Ok(Some(seconds))
        }

        fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<Self::Value, E> {
            i64::try_from(seconds)
                .map(Some)
                .map_err(|_| E::custom("a date out of range"))
        }

        fn visit_f64<E: de::Error>(self, seconds: f64) -> Result<Self::Value, E> {
            if seconds.is_finite() && seconds.abs() < 1e15 {
                #[allow(
                    clippy::cast_possible_truncation,
                    reason = "finite and within ±1e15, which i64 holds exactly after floor"
                )]
                Ok(Some(seconds.floor() as i64))
            } else {
                Err(E::custom("a date out of range"))
            }
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_any(self)
        }
    }
    deserializer.deserialize_option(Seconds)
}

/// `aud`: a string or an array of strings (RFC 7519 §4.1.3).
fn audience<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct Audience;
    impl<'de> Visitor<'de> for Audience {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or an array of strings")
        }

        fn visit_str<E: de::Error>(self, one: &str) -> Result<Self::Value, E> {
            Ok(vec![one.to_owned()])
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut items: A) -> Result<Self::Value, A::Error> {
            let mut all = Vec::new();
            while let Some(item) = items.next_element::<String>()? {
                all.push(item);
            }
            Ok(all)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    deserializer.deserialize_any(Audience)
}
