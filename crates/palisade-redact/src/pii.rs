//! Personal data, as an opt-in profile: e-mail addresses, phone numbers, IP addresses and
//! IBANs. Security logs keep client addresses by default; a deployment that must keep
//! personal data out of its logs (GDPR) turns the `Pii` profile on.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::detectors::{DEFAULT, Detector, replace};
use crate::validate::always;

/// Which detectors a [`Redactor`](crate::Redactor) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Profile {
    /// Secrets only ([`DEFAULT_DETECTORS`](crate::DEFAULT_DETECTORS)): credentials, keys,
    /// tokens, card numbers. Client addresses and e-mail addresses stay readable.
    #[default]
    Secrets,
    /// Secrets and personal data ([`PII_DETECTORS`](crate::PII_DETECTORS)): e-mail
    /// addresses, phone numbers, IPv4 and IPv6 addresses, IBANs.
    Pii,
}

impl Profile {
    /// The profile's detectors, most specific first.
    #[must_use]
    pub fn detectors(self) -> Vec<Detector> {
        match self {
            Self::Secrets => DEFAULT.to_vec(),
            Self::Pii => DEFAULT.iter().chain(PII).copied().collect(),
        }
    }
}

/// The personal-data detectors of [`Profile::Pii`], run after the secrets.
pub const PII: &[Detector] = &[
    replace(
        "email",
        r"(?-u:\b)(?P<s>[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24})(?-u:\b)",
        always,
    ),
    replace(
        "iban",
        // Country, check digits, then the account in groups of four (spaced or not).
        r"(?-u:\b)(?P<s>[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)(?-u:\b)",
        iban,
    ),
    replace(
        "ip-address",
        r"(?:^|[^0-9A-Za-z_.])(?P<s>[0-9]{1,3}(?:\.[0-9]{1,3}){3})(?:$|[^0-9A-Za-z_.]|\.(?:$|[^0-9]))",
        ipv4,
    ),
    replace(
        "ip-address",
        r"(?:^|[^0-9A-Za-z_:.])(?P<s>(?:[0-9A-Fa-f]{1,4}:|:){1,7}(?::|[0-9A-Fa-f]{1,4})(?:%[0-9A-Za-z]{1,16})?)(?:$|[^0-9A-Za-z_:])",
        ipv6,
    ),
    replace(
        "phone-number",
        // International (`+49 (0) 30 1234567`, `+1-914-958-5630x740`, `001-914-958-5630`, the
        // `00` prefix with separators) or North American with
        // its separators (`(555)123-4567`, `555.123.4567`): national formats elsewhere are
        // digit runs that ids and times share.
        concat!(
            r"(?:^|[^0-9A-Za-z_+])(?P<s>",
            r"\+[1-9][0-9]{0,3}(?:[ .-]?(?:\([0-9]{1,4}\)[ .-]?)?[0-9]{1,8}){1,7}(?:x[0-9]{1,6})?",
            r"|00[1-9][0-9]{0,2}(?:[ .-](?:\([0-9]{1,4}\)[ .-]?)?[0-9]{1,8}){2,6}(?:x[0-9]{1,6})?",
            r"|(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ .-])[0-9]{3}[ .-][0-9]{4}(?:x[0-9]{1,6})?",
            r")(?:$|[^0-9A-Za-z_])",
        ),
        phone,
    ),
];

/// An IBAN whose check digits hold (ISO 13616: the rearranged number mod 97 is 1), 15 to 34
/// characters without spaces.
fn iban(candidate: &str) -> bool {
    let compact: Vec<u8> = candidate.bytes().filter(|b| *b != b' ').collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let remainder = tail.iter().chain(head).try_fold(0u32, |acc, &b| {
        let value = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return None,
        };
        Some(if value >= 10 {
            (acc * 100 + value) % 97
        } else {
            (acc * 10 + value) % 97
        })
    });
    remainder == Some(1)
}

fn ipv4(candidate: &str) -> bool {
    candidate.parse::<Ipv4Addr>().is_ok()
}

/// An IPv6 address (a zone allowed); `::` alone and plain words made of hex letters are not.
fn ipv6(candidate: &str) -> bool {
    let address = candidate.split('%').next().unwrap_or_default();
    address.len() > 2 && address.parse::<Ipv6Addr>().is_ok()
}

/// 7 to 15 digits (E.164's bound), an extension aside.
fn phone(candidate: &str) -> bool {
    let number = candidate.split('x').next().unwrap_or_default();
    let digits = number.bytes().filter(u8::is_ascii_digit).count();
    (7..=15).contains(&digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iban_check_digits() {
        assert!(iban("GB82 WEST 1234 5698 7654 32"));
        assert!(iban("DE89370400440532013000"));
        assert!(!iban("GB83 WEST 1234 5698 7654 32"));
        assert!(!iban("DE8937040044"));
    }

    #[test]
    fn addresses_and_phones() {
        assert!(ipv4("192.168.1.10") && !ipv4("999.1.1.1"));
        assert!(ipv6("2001:db8::1") && ipv6("fe80::1%eth0") && !ipv6("::") && !ipv6("12:30:45"));
        assert!(phone("+49 30 1234567") && !phone("+1 23"));
    }
}
