//! How each kind of setting is read: names the variable in every error, never the value.

use palisade_ratelimit::Spec;
use palisade_secrets::SecretRef;
use palisade_web::TrustedProxies;

use super::{Connection, SettingInvalid};

/// The most proxies `TRUSTED_PROXIES` lists.
const MAX_PROXIES: usize = 64;

pub(super) fn optional_ref(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<SecretRef>, SettingInvalid> {
    lookup(name)
        .map(|text| {
            SecretRef::parse(&text).map_err(|_| {
                SettingInvalid::new(name, "expected a secret reference such as env:NAME")
            })
        })
        .transpose()
}

pub(super) fn connection(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<Connection, SettingInvalid> {
    Connection::parse(name, lookup(name).as_deref().unwrap_or(default))
}

pub(super) fn rate(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<Spec, SettingInvalid> {
    lookup(name)
        .as_deref()
        .unwrap_or(default)
        .parse()
        .map_err(|_| SettingInvalid::new(name, "expected a rate such as 5/minute"))
}

pub(super) fn switch(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: bool,
) -> Result<bool, SettingInvalid> {
    match lookup(name).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(SettingInvalid::new(name, "expected true or false")),
    }
}

/// A `kid`: 1 to 32 letters, digits, `-`, `_` and `.`.
pub(super) fn key_id(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<String, SettingInvalid> {
    let id = lookup(name).unwrap_or_else(|| default.to_owned());
    let valid = (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(id)
    } else {
        Err(SettingInvalid::new(
            name,
            "expected 1 to 32 letters, digits, '-', '_' or '.'",
        ))
    }
}

/// A database name that stays a valid MongoDB name with an organization suffix.
pub(super) fn database_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

pub(super) fn trusted_proxies(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<TrustedProxies, SettingInvalid> {
    let Some(text) = lookup("TRUSTED_PROXIES") else {
        return Ok(TrustedProxies::none());
    };
    let invalid = || {
        SettingInvalid::new(
            "TRUSTED_PROXIES",
            "expected comma-separated networks or addresses, such as 10.0.0.0/8,127.0.0.1",
        )
    };
    let mut networks = Vec::new();
    for item in text.split(',').map(str::trim) {
        let network = match item.parse::<ipnet::IpNet>() {
            Ok(network) => network,
            Err(_) => ipnet::IpNet::from(item.parse::<std::net::IpAddr>().map_err(|_| invalid())?),
        };
        networks.push(network);
        if networks.len() > MAX_PROXIES {
            return Err(SettingInvalid::new(
                "TRUSTED_PROXIES",
                "lists more than 64 networks",
            ));
        }
    }
    Ok(TrustedProxies::new(networks))
}

/// A whole number of seconds, at least 1.
pub(super) fn seconds(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<std::time::Duration, SettingInvalid> {
    match lookup(name) {
        None => Ok(std::time::Duration::from_secs(default)),
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=86_400).contains(n))
            .map(std::time::Duration::from_secs)
            .ok_or(SettingInvalid::new(
                name,
                "expected a whole number of seconds, 1 to 86400",
            )),
    }
}
