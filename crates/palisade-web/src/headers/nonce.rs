//! `CspNonce`: the per-request nonce a page's inline scripts carry.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The request's Content-Security-Policy nonce (128 random bits, base64), a request
/// extension when [`SecurityHeaders::with_csp_nonce`](crate::SecurityHeaders::with_csp_nonce)
/// is on: a handler writes it into `<script nonce="...">`, and the response's policy allows
/// exactly the scripts that carry it.
#[derive(Clone, PartialEq, Eq)]
pub struct CspNonce(String);

impl CspNonce {
    /// A fresh nonce: 128 bits from a cryptographically secure generator.
    pub(crate) fn generate() -> Self {
        Self(STANDARD.encode(crate::random::bits_128()))
    }

    /// The nonce as it goes into the page's `nonce` attribute.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CspNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not a secret once the page is sent, but not a thing to log either.
        f.write_str("CspNonce(..)")
    }
}

/// The policy `csp` with `'nonce-NONCE'` in its `script-src` and `script-src-elem` (which
/// takes precedence for `<script>` elements when present); a policy without `script-src`
/// gets one made from its `default-src` (which `script-src` would otherwise fall back to).
pub(crate) fn with_nonce(csp: &str, nonce: &CspNonce) -> String {
    let source = format!(" 'nonce-{}'", nonce.as_str());
    let mut out = String::with_capacity(csp.len() + source.len() + 16);
    let mut placed = false;
    let mut default_src = None;
    for (index, directive) in csp.split(';').enumerate() {
        if index > 0 {
            out.push(';');
        }
        out.push_str(directive);
        let mut words = directive.split_ascii_whitespace();
        match words.next() {
            Some(name) if name.eq_ignore_ascii_case("script-src") => {
                out.push_str(&source);
                placed = true;
            }
            Some(name) if name.eq_ignore_ascii_case("script-src-elem") => {
                out.push_str(&source);
            }
            Some(name) if name.eq_ignore_ascii_case("default-src") => {
                default_src = Some(words.collect::<Vec<_>>().join(" "));
            }
            _ => {}
        }
    }
    if !placed {
        out.push_str(";script-src");
        match default_src.as_deref() {
            // `'none'` cannot stand beside another source.
            Some(sources) if !sources.is_empty() && sources != "'none'" => {
                out.push(' ');
                out.push_str(sources);
            }
            _ => {}
        }
        out.push_str(&source);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nonce_goes_into_script_src_or_a_new_one() {
        let nonce = CspNonce("abc=".to_owned());
        assert_eq!(
            with_nonce(
                "default-src 'self';script-src 'self';object-src 'none'",
                &nonce
            ),
            "default-src 'self';script-src 'self' 'nonce-abc=';object-src 'none'"
        );
        assert_eq!(
            with_nonce("default-src 'self' https:; frame-ancestors 'none'", &nonce),
            "default-src 'self' https:; frame-ancestors 'none';script-src 'self' https: 'nonce-abc='"
        );
        assert_eq!(
            with_nonce("default-src 'none'", &nonce),
            "default-src 'none';script-src 'nonce-abc='"
        );
        assert_eq!(
            with_nonce("script-src 'self';script-src-elem 'self'", &nonce),
            "script-src 'self' 'nonce-abc=';script-src-elem 'self' 'nonce-abc='"
        );
    }

    #[test]
    fn nonces_are_fresh_and_128_bits() {
        let (a, b) = (CspNonce::generate(), CspNonce::generate());
        assert_ne!(a, b);
        assert_eq!(STANDARD.decode(a.as_str()).map(|v| v.len()).ok(), Some(16));
        assert_eq!(format!("{a:?}"), "CspNonce(..)");
    }
}
