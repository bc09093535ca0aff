//! `RequestId`: the id every log line and the response of one request carry.

use std::fmt;
use std::sync::Arc;

use http::HeaderValue;

/// The longest request id taken from a trusted proxy (a UUID is 36 bytes).
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// A request's id: taken from a trusted proxy's `X-Request-Id` (its last line) when it is 1
/// to [`MAX_REQUEST_ID_LEN`] bytes of letters, digits and `-_.:+/=@` starting with a letter or
/// digit, otherwise 128 random bits as 32 lowercase hex digits. Nothing else is ever echoed,
/// so an id is safe in a log line, a response header and a spreadsheet cell (no leading `=`,
/// `+`, `-` or `@`). Cheap to clone.
///
/// The proxy must set or overwrite the header: one that passes a client's `X-Request-Id`
/// through lets the client pick the id (within these characters) for its own requests.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RequestId(Text);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Text {
    /// Made here: hex, held inline.
    Generated([u8; 32]),
    /// A trusted proxy's, checked.
    Forwarded(Arc<str>),
}

impl RequestId {
    /// A fresh id: 128 random bits, hex.
    #[must_use]
    pub fn generate() -> Self {
        let mut text = [0_u8; 32];
        for (pair, byte) in text.chunks_exact_mut(2).zip(crate::random::bits_128()) {
            pair.copy_from_slice(&[hex_digit(byte >> 4), hex_digit(byte & 0x0f)]);
        }
        Self(Text::Generated(text))
    }

    /// `text` as an id, or `None` when it is empty, longer than [`MAX_REQUEST_ID_LEN`], holds
    /// anything but letters, digits and `-_.:+/=@`, or starts with anything but a letter or
    /// digit.
    #[must_use]
    pub fn parse(text: &[u8]) -> Option<Self> {
        let allowed = |byte: &u8| byte.is_ascii_alphanumeric() || b"-_.:+/=@".contains(byte);
        let starts_plain = text.first().is_some_and(u8::is_ascii_alphanumeric);
        if !starts_plain || text.len() > MAX_REQUEST_ID_LEN || !text.iter().all(allowed) {
            return None;
        }
        let text = std::str::from_utf8(text).ok()?;
        Some(Self(Text::Forwarded(Arc::from(text))))
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Only ASCII hex digits are ever stored.
            Text::Generated(text) => std::str::from_utf8(text).unwrap_or_default(),
            Text::Forwarded(text) => text,
        }
    }

    /// The id as a header value.
    #[must_use]
    pub fn to_header_value(&self) -> HeaderValue {
        HeaderValue::from_str(self.as_str()).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// The lowercase hex digit for `nibble` (0 to 15).
const fn hex_digit(nibble: u8) -> u8 {
    match nibble {
        0..=9 => b'0' + nibble,
        _ => b'a' + (nibble & 0x0f) - 10,
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RequestId").field(&self.as_str()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_128_bits_of_hex_and_fresh() {
        let (a, b) = (RequestId::generate(), RequestId::generate());
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 32);
        assert!(
            a.as_str()
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(a.to_header_value(), a.as_str());
    }

    #[test]
    fn only_plain_ids_are_taken() {
        for good in [
            "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
            "Root=1-67891233:abc",
            "a",
        ] {
            assert_eq!(
                RequestId::parse(good.as_bytes()).map(|id| id.to_string()),
                Some(good.to_owned())
            );
        }
        let long = "a".repeat(MAX_REQUEST_ID_LEN + 1);
        for bad in [
            "=1+2",
            "+1",
            "-1",
            "@SUM(A1)",
            "",
            "a b",
            "a\r\nSet-Cookie: x=1",
            "<script>",
            "é",
            "a\"b",
            "a;b",
            "a,b",
            long.as_str(),
        ] {
            assert_eq!(RequestId::parse(bad.as_bytes()), None, "{bad:?}");
        }
        assert!(RequestId::parse(&[b'a'; MAX_REQUEST_ID_LEN]).is_some());
    }
}
