//! `fingerprint` on arbitrary text in every dialect: never panics, time bounded by the
//! length cap and the recursion limit, and deterministic. (A shape's own text is not always
//! its shape again: sqlparser's printing is not a fixed point for every input, e.g. an alias
//! written as a dollar-quoted string; that is not required of a fingerprint.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_sql::{Dialect, fingerprint};

fuzz_target!(|text: &str| {
    for dialect in Dialect::ALL {
        let first = fingerprint(text, dialect);
        let second = fingerprint(text, dialect);
        assert_eq!(first, second, "fingerprint is not deterministic");
        if let Ok(shape) = first {
            assert_eq!(shape.id_hex().len(), 16);
        }
    }
});
