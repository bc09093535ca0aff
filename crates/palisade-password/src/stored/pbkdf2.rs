//! PBKDF2-HMAC-SHA256/SHA512: PHC (`$pbkdf2-sha256$i=..,l=..$salt$hash`), passlib
//! (`$pbkdf2-sha256$ROUNDS$salt$hash`, adapted base64) and Django (`pbkdf2_sha256$..`).

use sha2::{Sha256, Sha512};
use zeroize::Zeroizing;

use super::{decimal, in_argon2_work, phc, phc_salt_and_digest, same_digest, work_bounded};
use crate::error::{Result, bounded};
use crate::{Error, HashScheme, StoredLimits, encoding};

/// The HMAC hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prf {
    Sha256,
    Sha512,
}

/// A stored PBKDF2 hash.
#[derive(Debug)]
pub(crate) struct Pbkdf2Hash {
    scheme: HashScheme,
    prf: Prf,
    iterations: u32,
    salt: Vec<u8>,
    digest: Vec<u8>,
}

/// The longest digest accepted (SHA-512's output; longer ones only cost time).
const MAX_DIGEST_LEN: usize = 64;

impl Pbkdf2Hash {
    /// `$pbkdf2-sha256$...`: PHC when the third field holds `i=`, passlib's form otherwise.
    pub(crate) fn parse_dollar(text: &str, limits: &StoredLimits) -> Result<Self> {
        let sha512 = text.starts_with("$pbkdf2-sha512$");
        let fields: Vec<&str> = text.split('$').collect();
        let phc_form = fields.get(2).is_some_and(|f| f.contains('='));
        match (phc_form, sha512) {
            (true, false) => Self::parse_phc(text, HashScheme::Pbkdf2Sha256, Prf::Sha256, limits),
            (true, true) => Self::parse_phc(text, HashScheme::Pbkdf2Sha512, Prf::Sha512, limits),
            (false, false) => Self::parse_passlib(
                &fields,
                HashScheme::PasslibPbkdf2Sha256,
                Prf::Sha256,
                limits,
            ),
            (false, true) => Self::parse_passlib(
                &fields,
                HashScheme::PasslibPbkdf2Sha512,
                Prf::Sha512,
                limits,
            ),
        }
    }

    fn parse_phc(text: &str, scheme: HashScheme, prf: Prf, limits: &StoredLimits) -> Result<Self> {
        let hash = phc(text, scheme)?;
        let (mut iterations, mut length) = (None, None);
        for (name, value) in hash.params.iter() {
            let number = decimal(value.as_str(), scheme, "a parameter is not a number")?;
            match name.as_str() {
                "i" => iterations = Some(number),
                "l" => length = Some(number),
                _ => return Err(Error::malformed(scheme, "it has an unknown parameter")),
            }
        }
        let iterations = iterations.ok_or(Error::malformed(scheme, "it has no i= iterations"))?;
        let (salt, digest) = phc_salt_and_digest(&hash, scheme)?;
        if length.is_some_and(|l| usize::try_from(l).ok() != Some(digest.len())) {
            return Err(Error::malformed(scheme, "its l= is not its hash length"));
        }
        Self::checked(scheme, prf, iterations, salt, digest, limits)
    }

    fn parse_passlib(
        fields: &[&str],
        scheme: HashScheme,
        prf: Prf,
        limits: &StoredLimits,
    ) -> Result<Self> {
        let malformed = |problem| Error::malformed(scheme, problem);
        let [_, _, rounds, salt, digest] = fields else {
            return Err(malformed("it does not have three $-separated fields"));
        };
        let iterations = decimal(rounds, scheme, "its rounds are not a number")?;
        let salt =
            encoding::decode_adapted(salt).ok_or(malformed("its salt is not adapted base64"))?;
        let digest =
            encoding::decode_adapted(digest).ok_or(malformed("its hash is not adapted base64"))?;
        Self::checked(scheme, prf, iterations, salt, digest, limits)
    }

    /// `pbkdf2_sha256$ITERATIONS$SALT$BASE64`: the salt is used as text, the hash is padded
    /// base64.
    pub(crate) fn parse_django(text: &str, limits: &StoredLimits) -> Result<Self> {
        let scheme = HashScheme::DjangoPbkdf2Sha256;
        let malformed = |problem| Error::malformed(scheme, problem);
        let fields: Vec<&str> = text.split('$').collect();
        let [_, iterations, salt, digest] = fields.as_slice() else {
            return Err(malformed("it does not have three $-separated fields"));
        };
        let iterations = decimal(iterations, scheme, "its iterations are not a number")?;
        let digest = encoding::decode(digest).ok_or(malformed("its hash is not base64"))?;
        Self::checked(
            scheme,
            Prf::Sha256,
            iterations,
            salt.as_bytes().to_vec(),
            digest,
            limits,
        )
    }

    fn checked(
        scheme: HashScheme,
        prf: Prf,
        iterations: u32,
        salt: Vec<u8>,
        digest: Vec<u8>,
        limits: &StoredLimits,
    ) -> Result<Self> {
        if iterations == 0 {
            return Err(Error::malformed(scheme, "it has zero iterations"));
        }
        bounded(
            scheme,
            "iterations",
            iterations.into(),
            limits.max_pbkdf2_iterations().into(),
        )?;
        let equal = match prf {
            Prf::Sha256 => crate::policy::owasp::PBKDF2_SHA256,
            Prf::Sha512 => crate::policy::owasp::PBKDF2_SHA512,
        };
        work_bounded(scheme, in_argon2_work(iterations.into(), equal), limits)?;
        if digest.is_empty() || digest.len() > MAX_DIGEST_LEN {
            return Err(Error::malformed(scheme, "its hash has an unusable length"));
        }
        if salt.is_empty() {
            return Err(Error::malformed(scheme, "it has an empty salt"));
        }
        Ok(Self {
            scheme,
            prf,
            iterations,
            salt,
            digest,
        })
    }

    pub(crate) const fn scheme(&self) -> HashScheme {
        self.scheme
    }

    pub(crate) fn matches(&self, password: &[u8]) -> bool {
        let mut computed = Zeroizing::new(vec![0u8; self.digest.len()]);
        match self.prf {
            Prf::Sha256 => {
                pbkdf2::pbkdf2_hmac::<Sha256>(password, &self.salt, self.iterations, &mut computed);
            }
            Prf::Sha512 => {
                pbkdf2::pbkdf2_hmac::<Sha512>(password, &self.salt, self.iterations, &mut computed);
            }
        }
        same_digest(&computed, &self.digest)
    }
}
