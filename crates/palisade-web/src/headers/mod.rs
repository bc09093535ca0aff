//! `SecurityHeaders`: the response headers a service sets (and removes) on every response, from
//! a preset that tracks current guidance, adjusted with a builder, checked when it is built.

mod layer;
mod nonce;
mod presets;

use std::fmt;
use std::sync::Arc;

use http::header::{HeaderName, HeaderValue, STRICT_TRANSPORT_SECURITY};

pub use layer::{ResponseFuture, SecurityHeadersLayer, SecurityHeadersService};
pub use nonce::CspNonce;

/// Where the service runs: HTTP Strict Transport Security is sent in production only.
///
/// Browsers ignore `Strict-Transport-Security` received over plain HTTP (RFC 6797 §8.1), and a
/// development server on `http://localhost` that sent it over HTTPS once would pin every
/// service on that host name to HTTPS for a year: development never sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Every header of the preset, HSTS included.
    #[default]
    Production,
    /// Every header but `Strict-Transport-Security`.
    Development,
}

/// A header name or value a builder was given that HTTP does not allow; the name is shown
/// (it is the caller's constant), the value never is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the security header {name} cannot be used: {reason}")]
pub struct HeaderInvalid {
    name: String,
    reason: &'static str,
}

impl HeaderInvalid {
    /// The header's name as given.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The headers set on every response and the ones removed from it.
///
/// A header of the set is added only when the response does not already have it: a handler
/// (or a route's own `SecurityHeaders` layer, which runs first) that sets one on purpose
/// keeps its value. A header of the removal list (`X-Powered-By`, `Server`, ...) is always
/// removed, whoever set it. `Content-Security-Policy` gets the request's nonce when
/// [`with_csp_nonce`](Self::with_csp_nonce) is on.
///
/// ```
/// use palisade_web::{Mode, SecurityHeaders};
///
/// let headers = SecurityHeaders::helmet()
///     .mode(Mode::Development)
///     .set("Permissions-Policy", "camera=(), microphone=()")?
///     .without("X-Download-Options");
/// assert_eq!(headers.get("x-frame-options"), Some("SAMEORIGIN"));
/// assert_eq!(headers.get("strict-transport-security"), None);
/// assert_eq!(headers.get("x-download-options"), None);
/// # Ok::<(), palisade_web::HeaderInvalid>(())
/// ```
#[derive(Clone)]
pub struct SecurityHeaders {
    set: Vec<(HeaderName, HeaderValue)>,
    remove: Vec<HeaderName>,
    mode: Mode,
    csp_nonce: bool,
}

impl SecurityHeaders {
    /// No headers set, none removed: the start of a set of one's own.
    #[must_use]
    pub const fn empty() -> Self {
        Self {
            set: Vec::new(),
            remove: Vec::new(),
            mode: Mode::Production,
            csp_nonce: false,
        }
    }

    /// Sets `name: value` on every response that does not have it (replacing the preset's
    /// value of the same header).
    ///
    /// # Errors
    /// [`HeaderInvalid`] when the name or the value is not allowed in an HTTP header.
    pub fn set(mut self, name: &str, value: &str) -> Result<Self, HeaderInvalid> {
        let invalid = |reason| HeaderInvalid {
            name: name.to_owned(),
            reason,
        };
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid("it is not a header name"))?;
        let value =
            HeaderValue::from_str(value).map_err(|_| invalid("its value is not allowed"))?;
        self.remove.retain(|removed| removed != header);
        match self.set.iter_mut().find(|(set, _)| *set == header) {
            Some((_, existing)) => *existing = value,
            None => self.set.push((header, value)),
        }
        Ok(self)
    }

    /// Stops setting `name` (a header of the preset the service does not want).
    #[must_use]
    pub fn without(mut self, name: &str) -> Self {
        self.set
            .retain(|(set, _)| !set.as_str().eq_ignore_ascii_case(name));
        self
    }

    /// Removes `name` from every response, whoever set it (a header that tells attackers
    /// what runs the service).
    ///
    /// # Errors
    /// [`HeaderInvalid`] when `name` is not a header name.
    pub fn remove(mut self, name: &str) -> Result<Self, HeaderInvalid> {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| HeaderInvalid {
            name: name.to_owned(),
            reason: "it is not a header name",
        })?;
        self.set.retain(|(set, _)| *set != header);
        if !self.remove.contains(&header) {
            self.remove.push(header);
        }
        Ok(self)
    }

    /// Where the service runs (HSTS in [`Mode::Production`] only).
    #[must_use]
    pub const fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// A fresh nonce per request (128 random bits, base64), given to handlers as the request
    /// extension [`CspNonce`] and added to the policy's `script-src` (made from `default-src`
    /// when the policy has none), so an inline `<script nonce="...">` of this response runs
    /// and an injected one does not.
    #[must_use]
    pub const fn with_csp_nonce(mut self) -> Self {
        self.csp_nonce = true;
        self
    }

    /// The value set for `name` in this mode, if any.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.effective()
            .find(|(set, _)| set.as_str().eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.to_str().ok())
    }

    /// The headers removed from every response.
    pub fn removed(&self) -> impl Iterator<Item = &str> {
        self.remove.iter().map(HeaderName::as_str)
    }

    /// The tower layer that applies these headers.
    #[must_use]
    pub fn layer(&self) -> SecurityHeadersLayer {
        SecurityHeadersLayer::new(self)
    }

    /// The headers this mode sets, in order.
    fn effective(&self) -> impl Iterator<Item = &(HeaderName, HeaderValue)> {
        let mode = self.mode;
        self.set
            .iter()
            .filter(move |(name, _)| mode == Mode::Production || name != STRICT_TRANSPORT_SECURITY)
    }

    /// What the layer applies: the headers of this mode, the removal list, the nonce rule.
    fn plan(&self) -> Arc<layer::Plan> {
        Arc::new(layer::Plan::new(
            self.effective().cloned().collect(),
            self.remove.clone(),
            self.csp_nonce,
        ))
    }
}

impl fmt::Debug for SecurityHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityHeaders")
            .field(
                "set",
                &self.set.iter().map(|(name, _)| name).collect::<Vec<_>>(),
            )
            .field("removed", &self.remove.len())
            .field("mode", &self.mode)
            .field("csp_nonce", &self.csp_nonce)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_names_and_values_are_refused_when_built() {
        let refused = SecurityHeaders::empty().set("X Frame", "DENY").unwrap_err();
        assert_eq!(refused.name(), "X Frame");
        let refused = SecurityHeaders::empty()
            .set("X-Frame-Options", "DENY\r\nSet-Cookie: a=b")
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "the security header X-Frame-Options cannot be used: its value is not allowed"
        );
        assert!(SecurityHeaders::empty().remove("Bad Name").is_err());
    }

    #[test]
    fn set_replaces_and_remove_wins_over_set() {
        let headers = SecurityHeaders::empty()
            .set("X-Frame-Options", "DENY")
            .and_then(|h| h.set("x-frame-options", "SAMEORIGIN"))
            .and_then(|h| h.remove("Server"))
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(headers.get("X-Frame-Options"), Some("SAMEORIGIN"));
        assert_eq!(headers.removed().collect::<Vec<_>>(), ["server"]);
        let headers = headers
            .set("Server", "x")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(headers.removed().count(), 0, "set after remove sets it");
    }
}
