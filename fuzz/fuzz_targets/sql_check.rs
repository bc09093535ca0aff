//! `SqlGuard::check` on arbitrary text in every dialect: never panics, time bounded by the
//! length cap and the parser's recursion limit; a violation's message never contains the
//! statement (checked on statements with a quote, `;`, `=` or `*`, which no message has).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_sql::{Dialect, Params, SqlGuard, SqlPolicy};

fuzz_target!(|text: &str| {
    for dialect in Dialect::ALL {
        let guard = SqlGuard::new(SqlPolicy::read_write(dialect));
        for params in [Params::none(), Params::named(["id"]), Params::positional(1)] {
            if let Err(violation) = guard.check(text, &params) {
                let message = violation.to_string();
                if text.trim().len() >= 12 && text.contains(['\'', '"', ';', '=', '*']) {
                    assert!(!message.contains(text.trim()), "the message quotes the statement");
                }
            }
        }
    }
});
