//! scrypt: PHC (`$scrypt$ln=..,r=..,p=..$salt$hash`, as passlib writes it) and Django
//! (`scrypt$N$SALT$r$p$BASE64`).

use zeroize::Zeroizing;

use super::{decimal, in_argon2_work, phc, phc_salt_and_digest, same_digest, work_bounded};
use crate::error::{Result, bounded};
use crate::{Error, HashScheme, StoredLimits, encoding};

/// A stored scrypt hash.
#[derive(Debug)]
pub(crate) struct ScryptHash {
    scheme: HashScheme,
    params: scrypt::Params,
    salt: Vec<u8>,
    digest: Vec<u8>,
}

/// The longest digest accepted.
const MAX_DIGEST_LEN: usize = 64;

impl ScryptHash {
    pub(crate) fn parse_phc(text: &str, limits: &StoredLimits) -> Result<Self> {
        let scheme = HashScheme::Scrypt;
        let hash = phc(text, scheme)?;
        let (mut log_n, mut r, mut p) = (None, None, None);
        for (name, value) in hash.params.iter() {
            let number = decimal(value.as_str(), scheme, "a parameter is not a number")?;
            match name.as_str() {
                "ln" => log_n = Some(number),
                "r" => r = Some(number),
                "p" => p = Some(number),
                _ => return Err(Error::malformed(scheme, "it has an unknown parameter")),
            }
        }
        let missing = || Error::malformed(scheme, "it lacks one of ln, r, p");
        let (log_n, r, p) = (
            log_n.ok_or_else(missing)?,
            r.ok_or_else(missing)?,
            p.ok_or_else(missing)?,
        );
        let (salt, digest) = phc_salt_and_digest(&hash, scheme)?;
        Self::checked(scheme, log_n, r, p, salt, digest, limits)
    }

    pub(crate) fn parse_django(text: &str, limits: &StoredLimits) -> Result<Self> {
        let scheme = HashScheme::DjangoScrypt;
        let malformed = |problem| Error::malformed(scheme, problem);
        let fields: Vec<&str> = text.split('$').collect();
        let [_, n, salt, r, p, digest] = fields.as_slice() else {
            return Err(malformed("it does not have five $-separated fields"));
        };
        let n = decimal(n, scheme, "its N is not a number")?;
        if !n.is_power_of_two() || n < 2 {
            return Err(malformed("its N is not a power of two"));
        }
        let r = decimal(r, scheme, "its r is not a number")?;
        let p = decimal(p, scheme, "its p is not a number")?;
        let digest = encoding::decode(digest).ok_or(malformed("its hash is not base64"))?;
        Self::checked(
            scheme,
            n.trailing_zeros(),
            r,
            p,
            salt.as_bytes().to_vec(),
            digest,
            limits,
        )
    }

    fn checked(
        scheme: HashScheme,
        log_n: u32,
        r: u32,
        p: u32,
        salt: Vec<u8>,
        digest: Vec<u8>,
        limits: &StoredLimits,
    ) -> Result<Self> {
        let malformed = |problem| Error::malformed(scheme, problem);
        if log_n == 0 || log_n >= 64 || r == 0 || p == 0 {
            return Err(malformed("its ln, r or p is out of scrypt's range"));
        }
        // 128 · r · N bytes, in KiB; saturating so a huge N is simply out of bounds.
        let memory_kib = 1u64
            .checked_shl(log_n)
            .and_then(|n| n.checked_mul(u64::from(r)))
            .and_then(|n| n.checked_mul(128))
            .map_or(u64::MAX, |bytes| bytes / 1024);
        bounded(scheme, "memory", memory_kib, limits.max_memory_kib().into())?;
        bounded(scheme, "p", p.into(), limits.max_parallelism().into())?;
        let units = 1u64
            .checked_shl(log_n)
            .and_then(|n| n.checked_mul(u64::from(r)))
            .and_then(|n| n.checked_mul(u64::from(p)))
            .unwrap_or(u64::MAX);
        work_bounded(
            scheme,
            in_argon2_work(units, crate::policy::owasp::SCRYPT_WORK),
            limits,
        )?;
        if digest.is_empty() || digest.len() > MAX_DIGEST_LEN {
            return Err(malformed("its hash has an unusable length"));
        }
        let log_n = u8::try_from(log_n).map_err(|_| malformed("its ln is out of range"))?;
        let params = scrypt::Params::new(log_n, r, p)
            .map_err(|_| malformed("scrypt refuses its parameters"))?;
        Ok(Self {
            scheme,
            params,
            salt,
            digest,
        })
    }

    pub(crate) const fn scheme(&self) -> HashScheme {
        self.scheme
    }

    pub(crate) fn matches(&self, password: &[u8]) -> Result<bool> {
        let mut computed = Zeroizing::new(vec![0u8; self.digest.len()]);
        scrypt::scrypt(password, &self.salt, &self.params, &mut computed)
            .map_err(|_| Error::malformed(self.scheme, "its hash has an unusable length"))?;
        Ok(same_digest(&computed, &self.digest))
    }
}
