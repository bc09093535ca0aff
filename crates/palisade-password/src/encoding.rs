//! The base64 dialects stored hashes use.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::{DecodePaddingMode, general_purpose::STANDARD_NO_PAD};

/// Standard alphabet, padding optional on input: Django's PBKDF2 and scrypt digests (padded)
/// and PHC's B64 (unpadded).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes standard base64, padded or not; `None` when it is not base64.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    LENIENT.decode(text).ok()
}

/// Decodes passlib's "adapted base64" (`.` in place of `+`, no padding).
pub(crate) fn decode_adapted(text: &str) -> Option<Vec<u8>> {
    if text.contains('+') {
        return None;
    }
    LENIENT.decode(text.replace('.', "+")).ok()
}

/// PHC's B64: the standard alphabet without padding.
pub(crate) fn encode_phc(bytes: &[u8]) -> String {
    STANDARD_NO_PAD.encode(bytes)
}

/// Standard base64 with padding (the key passlib's `bcrypt_sha256` hands to bcrypt).
pub(crate) fn encode_padded(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapted_base64_maps_dot_to_plus_and_refuses_plus() {
        assert_eq!(decode_adapted("+/8"), None);
        assert_eq!(decode_adapted("./8"), Some(vec![0xfb, 0xff]));
        assert_eq!(decode("+/8"), Some(vec![0xfb, 0xff]));
        assert_eq!(decode("+/8="), Some(vec![0xfb, 0xff]));
        assert_eq!(decode("not base64!"), None);
        assert_eq!(encode_phc(&[0xfb, 0xff]), "+/8");
        assert_eq!(encode_padded(&[0xfb, 0xff]), "+/8=");
    }
}
