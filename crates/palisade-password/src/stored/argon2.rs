//! Argon2 (id, i, d) in PHC form, and Django's `argon2$` wrapping of it.

use argon2::{Algorithm, Argon2, AssociatedData, ParamsBuilder, Version};

use super::{decimal, phc, phc_salt_and_digest, same_digest};
use crate::error::{Result, bounded};
use crate::memory::Memory;
use crate::{Error, Pepper, Scheme, StoredLimits};

/// A stored Argon2 hash.
#[derive(Debug)]
pub(crate) struct Argon2Hash {
    scheme: Scheme,
    algorithm: Algorithm,
    version: Version,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    key_id: Option<Vec<u8>>,
    data: Option<Vec<u8>>,
    salt: Vec<u8>,
    digest: Vec<u8>,
}

impl Argon2Hash {
    /// `$argon2id$v=19$m=..,t=..,p=..[,keyid=..][,data=..]$salt$hash`.
    pub(crate) fn parse(text: &str, scheme: Scheme, limits: &StoredLimits) -> Result<Self> {
        let algorithm = match scheme {
            Scheme::Argon2i => Algorithm::Argon2i,
            Scheme::Argon2d => Algorithm::Argon2d,
            _ => Algorithm::Argon2id,
        };
        let hash = phc(text, scheme)?;
        let version = match hash.version {
            None | Some(0x10) => Version::V0x10,
            Some(0x13) => Version::V0x13,
            Some(_) => return Err(Error::malformed(scheme, "its version is not 16 or 19")),
        };
        let (mut m_cost, mut t_cost, mut p_cost) = (None, None, None);
        let (mut key_id, mut data) = (None, None);
        for (name, value) in hash.params.iter() {
            let number = || decimal(value.as_str(), scheme, "a cost parameter is not a number");
            let bytes = || {
                crate::encoding::decode(value.as_str())
                    .ok_or(Error::malformed(scheme, "its keyid or data is not base64"))
            };
            match name.as_str() {
                "m" => m_cost = Some(number()?),
                "t" => t_cost = Some(number()?),
                "p" => p_cost = Some(number()?),
                "keyid" => key_id = Some(bytes()?),
                "data" => data = Some(bytes()?),
                _ => return Err(Error::malformed(scheme, "it has an unknown parameter")),
            }
        }
        let missing = Error::malformed(scheme, "it lacks one of m, t, p");
        let (m_cost, t_cost, p_cost) = (
            m_cost.ok_or_else(|| missing.clone())?,
            t_cost.ok_or_else(|| missing.clone())?,
            p_cost.ok_or(missing)?,
        );
        bounded(scheme, "m", m_cost.into(), limits.max_memory_kib().into())?;
        bounded(scheme, "t", t_cost.into(), limits.max_passes().into())?;
        bounded(scheme, "p", p_cost.into(), limits.max_parallelism().into())?;
        let (salt, digest) = phc_salt_and_digest(&hash, scheme)?;
        Ok(Self {
            scheme,
            algorithm,
            version,
            m_cost,
            t_cost,
            p_cost,
            key_id,
            data,
            salt,
            digest,
        })
    }

    /// Django's `argon2$argon2id$v=19$...`: the PHC string after the `argon2` prefix.
    pub(crate) fn parse_django(text: &str, limits: &StoredLimits) -> Result<Self> {
        let phc = text.strip_prefix("argon2").unwrap_or(text);
        if !phc.starts_with("$argon2") {
            return Err(Error::malformed(
                Scheme::DjangoArgon2,
                "no PHC string follows the argon2 prefix",
            ));
        }
        let inner = match phc.split('$').nth(1) {
            Some("argon2i") => Scheme::Argon2i,
            Some("argon2d") => Scheme::Argon2d,
            _ => Scheme::Argon2id,
        };
        let mut hash =
            Self::parse(phc, inner, limits).map_err(|e| e.in_scheme(Scheme::DjangoArgon2))?;
        hash.scheme = Scheme::DjangoArgon2;
        Ok(hash)
    }

    pub(crate) const fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The pepper key id the hash names, as raw bytes.
    pub(crate) fn key_id(&self) -> Option<&[u8]> {
        self.key_id.as_deref()
    }

    /// Whether this hash is weaker than a new one would be: fewer KiB, passes or lanes than
    /// the policy, or a shorter salt or digest than this crate writes, or an older version.
    pub(crate) fn weaker_than(&self, m_cost: u32, t_cost: u32, p_cost: u32) -> bool {
        self.m_cost < m_cost
            || self.t_cost < t_cost
            || self.p_cost < p_cost
            || self.salt.len() < crate::hasher::SALT_LEN
            || self.digest.len() < crate::hasher::DIGEST_LEN
            || self.version != Version::V0x13
    }

    /// Whether `password` (with `pepper`, when the hash names one) gives the stored digest.
    pub(crate) fn matches(
        &self,
        password: &[u8],
        pepper: Option<&Pepper>,
        memory: &Memory,
    ) -> Result<bool> {
        let mut builder = ParamsBuilder::new();
        builder
            .m_cost(self.m_cost)
            .t_cost(self.t_cost)
            .p_cost(self.p_cost)
            .output_len(self.digest.len());
        if let Some(data) = &self.data {
            let data = AssociatedData::new(data)
                .map_err(|_| Error::malformed(self.scheme, "its data parameter is too long"))?;
            builder.data(data);
        }
        let params: argon2::Params = builder
            .build()
            .map_err(|_| Error::malformed(self.scheme, "argon2 refuses its parameters"))?;
        let block_count = params.block_count();
        let argon2 = match pepper {
            Some(pepper) => {
                Argon2::new_with_secret(pepper.secret(), self.algorithm, self.version, params)
                    .map_err(|_| Error::malformed(self.scheme, "argon2 refuses the pepper"))?
            }
            None => Argon2::new(self.algorithm, self.version, params),
        };
        let mut computed = zeroize::Zeroizing::new(vec![0u8; self.digest.len()]);
        memory
            .with(block_count, |blocks| {
                argon2.hash_password_into_with_memory(password, &self.salt, &mut computed, blocks)
            })
            .map_err(|_| Error::malformed(self.scheme, "argon2 refuses its salt or length"))?;
        Ok(same_digest(&computed, &self.digest))
    }
}
