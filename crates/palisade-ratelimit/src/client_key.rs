//! `ClientKey`: who a keyed limit counts, with IP addresses grouped by network prefix.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The client a keyed limit counts against: an IP address (grouped by [`IpGrouping`]) or an
/// authenticated user id.
///
/// ```
/// use std::net::IpAddr;
/// use palisade_ratelimit::{ClientKey, IpGrouping};
///
/// let grouping = IpGrouping::DEFAULT;
/// let a: IpAddr = "2001:db8:aa:bb01::1".parse()?;
/// let b: IpAddr = "2001:db8:aa:bbff:ffff::9".parse()?;
/// // One /56: an attacker who owns it cannot get a fresh limit per address.
/// assert_eq!(grouping.key(a), grouping.key(b));
/// assert_eq!(grouping.key(a).to_string(), "ip:2001:db8:aa:bb00::/56");
/// // IPv4-mapped IPv6 is the IPv4 client it maps.
/// let mapped: IpAddr = "::ffff:192.0.2.7".parse()?;
/// assert_eq!(grouping.key(mapped), grouping.key("192.0.2.7".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientKey {
    /// A network: the address with the bits past the prefix cleared, and the prefix length.
    Ip {
        /// The network address.
        network: IpAddr,
        /// The prefix length.
        prefix: u8,
    },
    /// An authenticated user.
    User(String),
}

impl ClientKey {
    /// The key of an authenticated user.
    #[must_use]
    pub fn user(id: impl Into<String>) -> Self {
        Self::User(id.into())
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip { network, prefix } => write!(f, "ip:{network}/{prefix}"),
            Self::User(id) => write!(f, "user:{id}"),
        }
    }
}

/// How client addresses are grouped into keys: IPv4 by a /32 (each address) and IPv6 by a /56
/// by default, as express-rate-limit v8 does: one subscriber usually gets a /56 or a /64, and
/// keying by single IPv6 address would give an attacker 2^64 fresh limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpGrouping {
    v4_prefix: u8,
    v6_prefix: u8,
}

/// A prefix length outside 1..=32 (IPv4) or 1..=128 (IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("IP grouping prefix /{prefix} is outside 1..={max} for {family}")]
pub struct PrefixError {
    /// The prefix asked for.
    pub prefix: u8,
    /// The family's longest prefix.
    pub max: u8,
    /// `IPv4` or `IPv6`.
    pub family: &'static str,
}

impl IpGrouping {
    /// IPv4 addresses one by one.
    pub const DEFAULT_V4_PREFIX: u8 = 32;
    /// IPv6 by /56.
    pub const DEFAULT_V6_PREFIX: u8 = 56;
    /// /32 for IPv4, /56 for IPv6.
    pub const DEFAULT: Self = Self {
        v4_prefix: Self::DEFAULT_V4_PREFIX,
        v6_prefix: Self::DEFAULT_V6_PREFIX,
    };

    /// Other prefix lengths.
    ///
    /// # Errors
    /// [`PrefixError`] when a prefix is 0 (every client one key) or longer than the family's
    /// address.
    pub const fn new(v4_prefix: u8, v6_prefix: u8) -> Result<Self, PrefixError> {
        if v4_prefix == 0 || v4_prefix > 32 {
            return Err(PrefixError {
                prefix: v4_prefix,
                max: 32,
                family: "IPv4",
            });
        }
        if v6_prefix == 0 || v6_prefix > 128 {
            return Err(PrefixError {
                prefix: v6_prefix,
                max: 128,
                family: "IPv6",
            });
        }
        Ok(Self {
            v4_prefix,
            v6_prefix,
        })
    }

    /// The key for a client address: IPv4-mapped IPv6 read as IPv4, then the network of the
    /// family's prefix.
    #[must_use]
    pub fn key(&self, ip: IpAddr) -> ClientKey {
        match ip {
            IpAddr::V4(v4) => self.v4_key(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => self.v4_key(v4),
                None => {
                    let bits = u128::from(v6) & mask_u128(self.v6_prefix);
                    ClientKey::Ip {
                        network: IpAddr::V6(Ipv6Addr::from(bits)),
                        prefix: self.v6_prefix,
                    }
                }
            },
        }
    }

    fn v4_key(&self, v4: Ipv4Addr) -> ClientKey {
        let shift = 32 - u32::from(self.v4_prefix);
        let mask = u32::MAX.checked_shl(shift).unwrap_or(0);
        ClientKey::Ip {
            network: IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask)),
            prefix: self.v4_prefix,
        }
    }
}

impl Default for IpGrouping {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The top `prefix` bits set.
fn mask_u128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}
