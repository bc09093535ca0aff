//! Checks a pattern alone cannot make: checksums, number ranges, decodable headers.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The text a mask leaves behind; a candidate equal to it was redacted already.
pub(crate) const MASK: &str = "***";

/// No check beyond the pattern.
pub(crate) fn always(_candidate: &str) -> bool {
    true
}

/// A card number: 13 to 19 digits (spaces and dashes between them allowed), a card network's
/// prefix, and a valid Luhn check digit.
pub(crate) fn card_number(candidate: &str) -> bool {
    let digits: Vec<u32> = candidate.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) || !card_network_prefix(&digits) {
        return false;
    }
    luhn(&digits)
}

/// Visa, Mastercard, American Express, Discover, JCB, Diners Club and UnionPay prefixes.
fn card_network_prefix(digits: &[u32]) -> bool {
    let prefix = |n: usize| digits.iter().take(n).fold(0_u32, |acc, d| acc * 10 + d);
    match digits.first() {
        Some(4) => true,
        Some(5) => (51..=55).contains(&prefix(2)),
        Some(2) => (2221..=2720).contains(&prefix(4)) || prefix(4) == 2131,
        Some(3) => matches!(prefix(2), 34 | 37 | 35 | 36 | 38 | 30),
        // JCB's 15-digit numbers.
        Some(1) => prefix(4) == 1800,
        Some(6) => {
            prefix(4) == 6011
                || prefix(2) == 65
                || prefix(2) == 62
                || (644..=649).contains(&prefix(3))
        }
        _ => false,
    }
}

/// The Luhn (mod 10) check over all digits, the last being the check digit.
fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A US SSN `AAA-GG-SSSS` that the SSA could issue, with the exclusions Presidio's
/// `UsSsnRecognizer` applies: area 000, 666 and 900-999, group 00, serial 0000, one digit
/// repeated, and the well-known sample numbers.
pub(crate) fn us_ssn(candidate: &str) -> bool {
    let digits: String = candidate.chars().filter(char::is_ascii_digit).collect();
    let (Some(area), Some(group), Some(serial)) = (
        digits.get(0..3).and_then(|a| a.parse::<u32>().ok()),
        digits.get(3..5),
        digits.get(5..9),
    ) else {
        return false;
    };
    let one_digit = digits.chars().all(|c| digits.starts_with(c));
    let samples = ["078051120", "123456789", "219099999", "457555462"];
    area != 0
        && area != 666
        && area < 900
        && group != "00"
        && serial != "0000"
        && !one_digit
        && !samples.contains(&digits.as_str())
}

/// A JWT: its header decodes (base64url) to a JSON object with an `alg`.
pub(crate) fn jwt(candidate: &str) -> bool {
    let Some(header) = candidate.split('.').next() else {
        return false;
    };
    URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|header| header.get("alg").is_some())
}

/// An authorization credential rather than a word of prose ("Basic functionality.", "Bearer
/// authentication", "Basic Multilingual Plane", "Basic ConcurrentInitializer"):
/// letters and digits, or mixed case that is not a CamelCase word, or base64's `+`.
pub(crate) fn credential(candidate: &str) -> bool {
    let value = candidate.trim_end_matches(['.', ',']).trim_end_matches('=');
    let has = |f: fn(&u8) -> bool| value.as_bytes().iter().any(f);
    let letters_and_digits = has(u8::is_ascii_alphabetic) && has(u8::is_ascii_digit);
    let mixed_case =
        has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase) && !camel_case(value);
    let base64 = has(|b| *b == b'+');
    letters_and_digits || mixed_case || base64
}

/// `ConcurrentInitializer`: capitalized lower-case words run together.
fn camel_case(value: &str) -> bool {
    let mut previous_upper = false;
    value.starts_with(|c: char| c.is_ascii_uppercase())
        && value.bytes().all(|b| {
            let ok = b.is_ascii_lowercase() || (b.is_ascii_uppercase() && !previous_upper);
            previous_upper = b.is_ascii_uppercase();
            ok
        })
        && !value.ends_with(|c: char| c.is_ascii_uppercase())
}

/// A value that looks generated rather than a word or a name: it has a digit, an upper-case
/// letter after its first character, or a symbol other than `-`, `.` and `_`.
pub(crate) fn looks_generated(value: &str) -> bool {
    value.starts_with(|c: char| c.is_ascii_digit())
        || value.chars().skip(1).any(|c| {
            c.is_ascii_digit()
                || c.is_ascii_uppercase()
                || !(c.is_alphanumeric() || matches!(c, '-' | '.' | '_'))
        })
}

/// A GitHub token whose checksum holds: for the `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` formats,
/// the last 6 characters are the CRC32 of the 30 before them in base62 (GitHub's token format,
/// github.blog, April 2021). Fine-grained `github_pat_` tokens have no published checksum.
pub(crate) fn github_checksum(token: &str) -> bool {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
    if token.starts_with("github_pat_") {
        return true;
    }
    let Some((random, check)) = token
        .split_once('_')
        .map(|(_, body)| body)
        .filter(|body| body.len() == 36)
        .and_then(|body| Some((body.get(..30)?, body.get(30..)?)))
    else {
        return false;
    };
    let mut rest = u64::from(CRC32.checksum(random.as_bytes()));
    let mut digits = [b'0'; 6];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62.get((rest % 62) as usize).copied().unwrap_or(b'0');
        rest /= 62;
    }
    rest == 0 && check.as_bytes() == digits
}

/// A long run of base64 that is not a hex digest or a word: it mixes upper case, lower case
/// and digits (or uses `+` or `/`).
pub(crate) fn base64_payload(candidate: &str) -> bool {
    let has = |f: fn(&u8) -> bool| candidate.as_bytes().iter().any(f);
    (has(u8::is_ascii_uppercase) && has(u8::is_ascii_lowercase) && has(u8::is_ascii_digit))
        || has(|b| *b == b'+' || *b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_need_a_network_prefix_and_the_luhn_digit() {
        // The networks' published test numbers.
        for number in [
            "4111 1111 1111 1111",
            "5555-5555-5555-4444",
            "378282246310005",
            "6011111111111117",
            "3530111333300000",
            "2223003122003222",
        ] {
            assert!(card_number(number), "{number}");
        }
        assert!(!card_number("4111 1111 1111 1112"), "wrong check digit");
        assert!(!card_number("1234567812345670"), "Luhn-valid, no network");
        assert!(!card_number("411111111111"), "too short");
    }

    #[test]
    fn ssns_follow_presidios_exclusions() {
        assert!(us_ssn("536-90-4399"));
        for invalid in [
            "000-12-3456",
            "666-12-3456",
            "901-12-3456",
            "536-00-4399",
            "536-90-0000",
            "111-11-1111",
            "078-05-1120",
            "123-45-6789",
        ] {
            assert!(!us_ssn(invalid), "{invalid}");
        }
    }

    #[test]
    fn a_jwt_header_must_decode_to_json_with_alg() {
        assert!(jwt("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"));
        assert!(!jwt("eyJub3RoaW5nIjoxfQ.eyJzdWIiOiIxIn0.sig"), "no alg");
        assert!(!jwt("eyJ!!!.x.y"));
    }

    #[test]
    fn an_authorization_credential_is_not_a_lower_case_word() {
        assert!(credential("dXNlcjpwYXNz"));
        assert!(credential("abc.def.gh1"));
        for word in ["handling", "my_password", "some-thing", "e.g."] {
            assert!(!looks_generated(word), "{word}");
        }
        for value in ["hunter2", "aB3dE", "p@ss", "9f8e7d", "dG9r+w=="] {
            assert!(looks_generated(value), "{value}");
        }
        assert!(!credential("functionality"));
        assert!(!credential("authorization="));
        assert!(!credential("functionality."));
        assert!(!credential("Multilingual"));
        assert!(!credential("ConcurrentInitializer"));
        assert!(credential("YWxhZGRpbjpvcGVuc2VzYW1l"));
        assert!(!credential("***"));
    }

    #[test]
    fn github_tokens_carry_a_crc32_checksum() {
        assert!(github_checksum("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"));
        assert!(!github_checksum("ghp_Zx81Qk0pLm4Rt7Yw2Vb6Nc3Hs9Jd5F46zEkN"));
        assert!(!github_checksum("ghp_Zx81Qk0pLm4Rt7Yw2Vb6Nc3Hs9Jd5F46zEk"));
    }

    #[test]
    fn hex_digests_and_words_are_not_base64_payloads() {
        assert!(!base64_payload(
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        ));
        assert!(base64_payload(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        ));
    }
}
