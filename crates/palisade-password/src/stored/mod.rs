//! Stored hashes: recognising the format, bounding the cost, and checking a password.

mod argon2;
mod bcrypt;
mod pbkdf2;
mod scrypt;

pub(crate) use self::argon2::{Argon2Hash, keyed};

use crate::error::Result;
use crate::{Error, HashScheme, StoredLimits};

/// Longer than any hash of a known format (a PBKDF2-SHA512 PHC string is about 200 bytes).
pub(crate) const MAX_STORED_LEN: usize = 1024;

/// A parsed stored hash, its cost checked against the limits.
#[derive(Debug)]
pub(crate) enum Stored {
    Argon2(Argon2Hash),
    Bcrypt(bcrypt::BcryptHash),
    Pbkdf2(pbkdf2::Pbkdf2Hash),
    Scrypt(scrypt::ScryptHash),
}

impl Stored {
    /// Recognises the format by its prefix and parses it.
    pub(crate) fn parse(text: &str, limits: &StoredLimits) -> Result<Self> {
        if text.len() > MAX_STORED_LEN {
            return Err(Error::StoredTooLong {
                max: MAX_STORED_LEN,
            });
        }
        let mut fields = text.split('$');
        let (first, second) = (
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
        );
        Ok(match (first, second) {
            ("", "argon2id" | "argon2i" | "argon2d") => {
                Self::Argon2(Argon2Hash::parse(text, limits)?)
            }
            ("argon2", _) => Self::Argon2(Argon2Hash::parse_django(text, limits)?),
            ("", "2a" | "2b" | "2y" | "2x") => {
                Self::Bcrypt(bcrypt::BcryptHash::parse(text, limits)?)
            }
            ("", "bcrypt-sha256") => Self::Bcrypt(bcrypt::BcryptHash::parse_passlib(text, limits)?),
            ("bcrypt_sha256", _) => Self::Bcrypt(bcrypt::BcryptHash::parse_django(text, limits)?),
            ("", "pbkdf2-sha256" | "pbkdf2-sha512") => {
                Self::Pbkdf2(pbkdf2::Pbkdf2Hash::parse_dollar(text, limits)?)
            }
            ("pbkdf2_sha256", _) => Self::Pbkdf2(pbkdf2::Pbkdf2Hash::parse_django(text, limits)?),
            ("", "scrypt") => Self::Scrypt(scrypt::ScryptHash::parse_phc(text, limits)?),
            ("scrypt", _) => Self::Scrypt(scrypt::ScryptHash::parse_django(text, limits)?),
            _ => return Err(Error::FormatUnknown),
        })
    }

    /// The scheme it is in.
    pub(crate) fn scheme(&self) -> HashScheme {
        match self {
            Self::Argon2(hash) => hash.scheme(),
            Self::Bcrypt(hash) => hash.scheme(),
            Self::Pbkdf2(hash) => hash.scheme(),
            Self::Scrypt(hash) => hash.scheme(),
        }
    }
}

/// Compares a computed digest with the stored one in constant time.
pub(crate) fn same_digest(computed: &[u8], stored: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    computed.ct_eq(stored).into()
}

/// `text` parsed as a decimal `u32`, or a malformed-format error naming `what`.
fn decimal(text: &str, scheme: HashScheme, problem: &'static str) -> Result<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::malformed(scheme, problem));
    }
    text.parse().map_err(|_| Error::malformed(scheme, problem))
}

/// A PHC string parsed by the `phc` crate, or a malformed-format error.
fn phc(text: &str, scheme: HashScheme) -> Result<::phc::PasswordHash> {
    ::phc::PasswordHash::new(text).map_err(|e| {
        Error::malformed(
            scheme,
            match e {
                ::phc::Error::SaltTooShort => "its salt is too short",
                ::phc::Error::SaltTooLong => "its salt is too long",
                ::phc::Error::OutputSize { .. } => "its hash has an unusable length",
                ::phc::Error::Base64(_) => "it has invalid base64",
                _ => "it is not a valid PHC string",
            },
        )
    })
}

/// The salt and digest of a PHC string, both required.
fn phc_salt_and_digest(
    hash: &::phc::PasswordHash,
    scheme: HashScheme,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let salt = hash
        .salt
        .as_ref()
        .ok_or(Error::malformed(scheme, "it has no salt"))?;
    let digest = hash
        .hash
        .as_ref()
        .ok_or(Error::malformed(scheme, "it has no hash"))?;
    Ok((salt.as_ref().to_vec(), digest.as_bytes().to_vec()))
}

/// A stored hash's total work, in Argon2 KiB-passes, against the limits' bound: refused as
/// [`Error::ParamOutOfBounds`] (`work`) before any of it is done.
pub(crate) fn work_bounded(scheme: HashScheme, work: u64, limits: &StoredLimits) -> Result<()> {
    crate::error::bounded(scheme, "work", work, limits.max_work())
}

/// `units` of a scheme's work, of which `equal` match OWASP's Argon2id m = 19 MiB, t = 2, in
/// Argon2 KiB-passes, rounded up (saturating: a huge count is simply out of bounds).
pub(crate) fn in_argon2_work(units: u64, equal: u64) -> u64 {
    let scaled = (u128::from(units) * u128::from(crate::policy::owasp::ARGON2_WORK))
        .div_ceil(u128::from(equal.max(1)));
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::owasp;

    /// The legacy hashes people have must verify under the default policy's bound (four
    /// times OWASP's Argon2id m = 19 MiB, t = 2); planted ones must not.
    #[test]
    fn work_converts_through_owasp_equivalents() {
        let max = StoredLimits::DEFAULT.max_work();
        let scrypt =
            |ln: u32, r: u64, p: u64| in_argon2_work((1 << ln) * r * p, owasp::SCRYPT_WORK);
        assert!(scrypt(16, 8, 1) <= max, "passlib's scrypt default");
        assert!(scrypt(17, 8, 1) <= max, "OWASP's scrypt minimum");
        assert!(scrypt(20, 2, 16) > max);
        let pbkdf2 = |i: u64| in_argon2_work(i, owasp::PBKDF2_SHA256);
        assert!(pbkdf2(1_200_000) <= max, "Django 5.2");
        assert!(pbkdf2(2_400_000) <= max);
        assert!(pbkdf2(2_400_001) > max);
        assert_eq!(
            in_argon2_work(owasp::PBKDF2_SHA512, owasp::PBKDF2_SHA512),
            owasp::ARGON2_WORK
        );
    }
}
