//! `SecretRef::parse` on arbitrary text: never panics; whatever parses prints to a text that
//! parses to the same reference and prints the same again; and the printed text is the text
//! itself, except for the one documented second spelling, Vault's version after the field
//! (`vault:mount/path#field?version=3`, printed `vault:mount/path?version=3#field`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_secrets::{ReferenceScheme, SecretRef};

fuzz_target!(|text: &str| {
    if let Ok(reference) = SecretRef::parse(text) {
        let printed = reference.to_string();
        let again = SecretRef::parse(&printed).ok();
        assert_eq!(again.as_ref(), Some(&reference));
        assert_eq!(again.map(|r| r.to_string()).as_deref(), Some(printed.as_str()));
        if printed != text {
            let version_after_field = text
                .split_once('#')
                .is_some_and(|(_, field)| field.contains('?'));
            assert!(
                *reference.scheme() == ReferenceScheme::Vault && version_after_field,
                "{text:?} printed as {printed:?}"
            );
        }
    }
});
