//! Argon2 (id, i, d) in PHC form, and Django's `argon2$` wrapping of it.

use argon2::{Algorithm, Argon2, AssociatedData, ParamsBuilder, Version};

use super::{decimal, phc, phc_salt_and_digest, same_digest, work_bounded};
use crate::error::{Result, bounded};
use crate::memory::Memory;
use crate::{Error, HashScheme, Pepper, StoredLimits};

/// A stored Argon2 hash.
#[derive(Debug)]
pub(crate) struct Argon2Hash {
    scheme: HashScheme,
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
    /// `$argon2id$v=19$m=..,t=..,p=..[,keyid=..][,data=..]$salt$hash`, the variant named by
    /// its first field.
    pub(crate) fn parse(text: &str, limits: &StoredLimits) -> Result<Self> {
        let (algorithm, scheme) = variant(text);
        Self::parse_as(text, algorithm, scheme, limits)
    }

    /// A PHC string of `algorithm`, reported (in errors and [`scheme`](Self::scheme)) as
    /// `scheme`.
    fn parse_as(
        text: &str,
        algorithm: Algorithm,
        scheme: HashScheme,
        limits: &StoredLimits,
    ) -> Result<Self> {
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
        work_bounded(scheme, u64::from(m_cost) * u64::from(t_cost), limits)?;
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
                HashScheme::DjangoArgon2,
                "no PHC string follows the argon2 prefix",
            ));
        }
        Self::parse_as(phc, variant(phc).0, HashScheme::DjangoArgon2, limits)
    }

    pub(crate) const fn scheme(&self) -> HashScheme {
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
        let params = builder
            .build()
            .map_err(|_| Error::malformed(self.scheme, "argon2 refuses its parameters"))?;
        let argon2 = keyed(self.algorithm, self.version, params, pepper)
            .map_err(|_| Error::malformed(self.scheme, "argon2 refuses the pepper"))?;
        let mut computed = zeroize::Zeroizing::new(vec![0u8; self.digest.len()]);
        memory
            .hash_into(&argon2, password, &self.salt, &mut computed)
            .map_err(|_| Error::malformed(self.scheme, "argon2 refuses its salt or length"))?;
        Ok(same_digest(&computed, &self.digest))
    }
}

/// The Argon2 variant a PHC string's first field names, and its scheme.
fn variant(phc: &str) -> (Algorithm, HashScheme) {
    match phc.split('$').nth(1) {
        Some("argon2i") => (Algorithm::Argon2i, HashScheme::Argon2i),
        Some("argon2d") => (Algorithm::Argon2d, HashScheme::Argon2d),
        _ => (Algorithm::Argon2id, HashScheme::Argon2id),
    }
}

/// An Argon2 context, keyed with the pepper's secret when there is one.
pub(crate) fn keyed(
    algorithm: Algorithm,
    version: Version,
    params: argon2::Params,
    pepper: Option<&Pepper>,
) -> std::result::Result<Argon2<'_>, argon2::Error> {
    match pepper {
        Some(pepper) => Argon2::new_with_secret(pepper.secret(), algorithm, version, params),
        None => Ok(Argon2::new(algorithm, version, params)),
    }
}
