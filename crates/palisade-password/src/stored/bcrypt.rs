//! bcrypt (`$2a$ $2b$ $2y$ $2x$`), passlib's `$bcrypt-sha256$` (versions 1 and 2) and
//! Django's `bcrypt_sha256$`.
//!
//! bcrypt reads at most 72 bytes of a password. Hashes made by PHP, Apache, passlib and
//! Python's `bcrypt` < 5 silently ignored the rest, so verifying does the same (otherwise those
//! users could never log in again); the upgrade to Argon2id then binds every byte. The
//! SHA-256 pre-hashing forms never had the limit.

use hmac::{Hmac, KeyInit, Mac as _};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::{decimal, work_bounded};
use crate::error::{Result, bounded};
use crate::{Error, HashScheme, StoredLimits, encoding};

/// How the password is turned into bcrypt's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prehash {
    /// The password itself.
    None,
    /// passlib v1: base64(SHA-256(password)).
    PasslibV1,
    /// passlib v2: base64(HMAC-SHA-256(key = the bcrypt salt string, password)).
    PasslibV2,
    /// Django: hex(SHA-256(password)).
    DjangoHex,
}

/// A stored bcrypt hash, as the standard 60-character string bcrypt verifies.
#[derive(Debug)]
pub(crate) struct BcryptHash {
    scheme: HashScheme,
    prehash: Prehash,
    /// `$2b$NN$` + 22 salt characters + 31 digest characters.
    standard: String,
}

/// The length of a standard bcrypt hash.
const STANDARD_LEN: usize = 60;

impl BcryptHash {
    /// `$2b$12$` + 53 characters.
    pub(crate) fn parse(text: &str, limits: &StoredLimits) -> Result<Self> {
        Self::standard(text, HashScheme::Bcrypt, Prehash::None, limits)
    }

    /// passlib: `$bcrypt-sha256$v=2,t=2b,r=12$SALT$DIGEST` or `$bcrypt-sha256$2b,12$SALT$DIGEST`.
    pub(crate) fn parse_passlib(text: &str, limits: &StoredLimits) -> Result<Self> {
        let scheme = HashScheme::PasslibBcryptSha256;
        let malformed = |problem| Error::malformed(scheme, problem);
        let fields: Vec<&str> = text.split('$').collect();
        let [_, _, config, salt, digest] = fields.as_slice() else {
            return Err(malformed("it does not have four $-separated fields"));
        };
        let (prehash, ident, rounds) = match config.split(',').collect::<Vec<_>>().as_slice() {
            [version, ident, rounds] => {
                if *version != "v=2" {
                    return Err(malformed("its version is not v=2"));
                }
                let ident = ident
                    .strip_prefix("t=")
                    .ok_or(malformed("it has no t= type"))?;
                let rounds = rounds
                    .strip_prefix("r=")
                    .ok_or(malformed("it has no r= rounds"))?;
                (Prehash::PasslibV2, ident, rounds)
            }
            [ident, rounds] => (Prehash::PasslibV1, *ident, *rounds),
            _ => {
                return Err(malformed(
                    "its settings are not v=2,t=..,r=.. or IDENT,ROUNDS",
                ));
            }
        };
        if !matches!(ident, "2a" | "2b") {
            return Err(malformed("its bcrypt type is not 2a or 2b"));
        }
        let rounds = decimal(rounds, scheme, "its rounds are not a number")?;
        let standard = format!("${ident}${rounds:02}${salt}{digest}");
        Self::standard(&standard, scheme, prehash, limits)
    }

    /// Django: `bcrypt_sha256$` + a standard bcrypt hash of hex(SHA-256(password)).
    pub(crate) fn parse_django(text: &str, limits: &StoredLimits) -> Result<Self> {
        let standard = text.strip_prefix("bcrypt_sha256$").unwrap_or_default();
        Self::standard(
            standard,
            HashScheme::DjangoBcryptSha256,
            Prehash::DjangoHex,
            limits,
        )
    }

    fn standard(
        text: &str,
        scheme: HashScheme,
        prehash: Prehash,
        limits: &StoredLimits,
    ) -> Result<Self> {
        let malformed = |problem| Error::malformed(scheme, problem);
        if text.len() != STANDARD_LEN || !text.is_ascii() {
            return Err(malformed("it is not a 60-character bcrypt hash"));
        }
        let cost = text
            .get(4..6)
            .filter(|_| text.get(6..7) == Some("$"))
            .ok_or(malformed("it has no two-digit cost"))?;
        let cost = decimal(cost, scheme, "its cost is not a number")?;
        if !(4..=StoredLimits::MAX_BCRYPT_COST).contains(&cost) {
            return Err(malformed("its cost is outside bcrypt's 4 to 31"));
        }
        bounded(scheme, "cost", cost.into(), limits.max_bcrypt_cost().into())?;
        let owasp = crate::policy::owasp::BCRYPT_COST;
        let work = match cost.checked_sub(owasp) {
            Some(above) => crate::policy::owasp::ARGON2_WORK
                .checked_shl(above)
                .unwrap_or(u64::MAX),
            None => crate::policy::owasp::ARGON2_WORK >> (owasp - cost),
        };
        work_bounded(scheme, work, limits)?;
        Ok(Self {
            scheme,
            prehash,
            standard: text.to_owned(),
        })
    }

    pub(crate) const fn scheme(&self) -> HashScheme {
        self.scheme
    }

    pub(crate) fn matches(&self, password: &[u8]) -> Result<bool> {
        let key = self.key(password)?;
        bcrypt::verify(key.as_slice(), &self.standard)
            .map_err(|_| Error::malformed(self.scheme, "bcrypt cannot read it"))
    }

    /// The bytes bcrypt hashes for this form.
    fn key(&self, password: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        Ok(match self.prehash {
            Prehash::None => Zeroizing::new(password.to_vec()),
            Prehash::PasslibV1 => {
                let digest = Zeroizing::new(Sha256::digest(password).to_vec());
                Zeroizing::new(encoding::encode_padded(&digest).into_bytes())
            }
            Prehash::PasslibV2 => {
                let salt = self.standard.get(7..29).unwrap_or_default();
                let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(salt.as_bytes())
                    .map_err(|_| Error::malformed(self.scheme, "its salt is not an HMAC key"))?;
                mac.update(password);
                let digest = Zeroizing::new(mac.finalize().into_bytes().to_vec());
                Zeroizing::new(encoding::encode_padded(&digest).into_bytes())
            }
            Prehash::DjangoHex => {
                let digest = Zeroizing::new(Sha256::digest(password).to_vec());
                hex(&digest)
            }
        })
    }
}

/// Lowercase hex, in a buffer that is wiped on drop.
fn hex(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len() * 2));
    for byte in bytes {
        for nibble in [byte >> 4, byte & 0x0f] {
            out.extend(DIGITS.get(usize::from(nibble)));
        }
    }
    out
}
