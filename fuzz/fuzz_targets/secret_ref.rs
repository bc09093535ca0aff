//! `SecretRef::parse` on arbitrary text: never panics, and whatever parses prints back to
//! the same text and parses again to the same reference.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_secrets::SecretRef;

fuzz_target!(|text: &str| {
    if let Ok(reference) = SecretRef::parse(text) {
        let printed = reference.to_string();
        assert_eq!(printed, text);
        assert_eq!(SecretRef::parse(&printed).ok(), Some(reference));
    }
});
