//! Stored hashes: recognising the format, bounding the cost, and checking a password.

mod argon2;
mod bcrypt;
mod pbkdf2;
mod scrypt;

pub(crate) use self::argon2::{Argon2Hash, keyed};

use crate::error::Result;
use crate::{Error, Scheme, StoredLimits};

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
    pub(crate) fn scheme(&self) -> Scheme {
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
fn decimal(text: &str, scheme: Scheme, problem: &'static str) -> Result<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::malformed(scheme, problem));
    }
    text.parse().map_err(|_| Error::malformed(scheme, problem))
}

/// A PHC string parsed by the `phc` crate, or a malformed-format error.
fn phc(text: &str, scheme: Scheme) -> Result<::phc::PasswordHash> {
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
fn phc_salt_and_digest(hash: &::phc::PasswordHash, scheme: Scheme) -> Result<(Vec<u8>, Vec<u8>)> {
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
