//! `Ident`, `QualifiedName` and `SortKeys` on arbitrary text: never panic; an accepted name's
//! quoted form is one quoted identifier (every closing quote inside is doubled) that unquotes
//! to the name byte for byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_sql::{Dialect, Ident, QualifiedName, SortKeys};

fuzz_target!(|text: &str| {
    for dialect in Dialect::ALL {
        if let Ok(ident) = Ident::new(text, dialect) {
            let quoted = ident.quoted();
            let (open, close) = match dialect {
                Dialect::Postgres => ('"', '"'),
                Dialect::MsSql => ('[', ']'),
                _ => ('`', '`'),
            };
            let inner = quoted
                .strip_prefix(open)
                .and_then(|q| q.strip_suffix(close))
                .expect("quoted form is not enclosed in its quotes");
            let doubled: String = [close, close].iter().collect();
            let single = close.to_string();
            assert!(
                !inner.replace(&doubled, "").contains(close),
                "a closing quote inside is not doubled"
            );
            assert_eq!(inner.replace(&doubled, &single), text);
        }
        let _ = QualifiedName::parse(text, dialect);
        if let Ok(keys) = SortKeys::new(dialect, ["a", "b c"]) {
            let _ = keys.resolve_list(text, 4);
        }
    }
});
