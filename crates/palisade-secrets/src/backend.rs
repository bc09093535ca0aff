//! What every secret backend (AWS, Vault, Azure) shares: the rule for the address it is given,
//! checked before anything is sent, and how long one request may take by default.

use std::time::Duration;

use url::{Host, Url};

/// How long one request to a secret backend may take unless its options say otherwise.
/// Backends do not retry: a [`Cached`](crate::Cached) source serves its last good value
/// through an outage, and a retry inside the backend would only hold its single flight longer.
pub const BACKEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a backend's address was refused: a fixed reason, never the address itself (which
/// could carry credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressRefused {
    reason: &'static str,
}

impl std::fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.reason)
    }
}

impl std::error::Error for AddressRefused {}

impl AddressRefused {
    /// What is wrong with the address.
    #[must_use]
    pub const fn reason(&self) -> &'static str {
        self.reason
    }
}

/// Checks a secret backend's address: `https://HOST[:PORT]` with no credentials, path, query
/// or fragment, or plain `http://` on a loopback host only (an emulator, a local agent),
/// since a token sent in clear text is a token given away.
///
/// ```
/// use palisade_secrets::check_backend_address;
///
/// assert!(check_backend_address("https://vault.example.com:8200").is_ok());
/// assert!(check_backend_address("http://127.0.0.1:8200").is_ok());
/// let refused = check_backend_address("http://vault.example.com:8200").unwrap_err();
/// assert_eq!(refused.reason(), "plain http is allowed only on loopback; use https");
/// ```
///
/// # Errors
/// [`AddressRefused`] naming the rule the address breaks.
pub fn check_backend_address(text: &str) -> Result<(), AddressRefused> {
    let url = check_endpoint(text)?;
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(AddressRefused {
            reason: "it must be only a scheme, a host and a port",
        });
    }
    Ok(())
}

/// Checks the URL of an endpoint a service calls with something worth stealing (a client
/// secret, a code, a token): `https`, or plain `http` on a loopback host only, with no
/// credentials in it; unlike [`check_backend_address`] it may have a path and a query
/// (a token endpoint, a JWKS document, Turnstile's siteverify).
///
/// ```
/// use palisade_secrets::check_endpoint;
///
/// assert!(check_endpoint("https://login.example.com/oauth2/token").is_ok());
/// assert!(check_endpoint("http://localhost:9000/jwks.json").is_ok());
/// assert!(check_endpoint("http://login.example.com/oauth2/token").is_err());
/// assert!(check_endpoint("https://user:pw@login.example.com/").is_err());
/// ```
///
/// # Errors
/// [`AddressRefused`] naming the rule the URL breaks.
pub fn check_endpoint(text: &str) -> Result<Url, AddressRefused> {
    let refused = |reason| AddressRefused { reason };
    let url = Url::parse(text).map_err(|_| refused("it is not a URL"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(refused("the scheme must be https"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused("it must not contain credentials"));
    }
    let loopback = match url.host() {
        Some(Host::Domain(name)) => name == "localhost",
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(refused("it has no host")),
    };
    if url.scheme() == "http" && !loopback {
        return Err(refused("plain http is allowed only on loopback; use https"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_before_anything_is_sent() {
        let reason = |text: &str| check_backend_address(text).err().map_or("ok", |r| r.reason);
        assert_eq!(reason("https://vault.example.com:8200"), "ok");
        assert_eq!(reason("http://127.0.0.1:8200"), "ok");
        assert_eq!(reason("http://localhost:8200"), "ok");
        assert_eq!(reason("http://[::1]:8200"), "ok");
        assert_eq!(
            reason("http://vault.example.com:8200"),
            "plain http is allowed only on loopback; use https"
        );
        assert_eq!(
            reason("https://user:pw@vault.example.com"),
            "it must not contain credentials"
        );
        assert_eq!(
            reason("https://vault.example.com/v1"),
            "it must be only a scheme, a host and a port"
        );
        assert_eq!(
            reason("ftp://vault.example.com"),
            "the scheme must be https"
        );
        assert_eq!(reason("vault.example.com:8200"), "the scheme must be https");
        assert_eq!(reason("not a url"), "it is not a URL");
    }
}
