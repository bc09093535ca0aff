//! Unique secret values and assertions that they never leak.

use std::error::Error;
use std::fmt::{Debug, Display};
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

/// The shortest fragment of a canary that counts as a leak.
const FRAGMENT_LEN: usize = 8;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A secret value unique to one test, and assertions that it appears nowhere it must not.
///
/// The value is `cnry` followed by 32 lowercase hex digits: letters and digits only, so
/// percent-encoding, JSON escaping and URL userinfo leave it as it is and a leak cannot
/// hide behind an encoding. Every assertion also refuses any 8-character fragment of it,
/// so a type that prints "the first few characters" of a secret fails too.
///
/// Every assertion panics: this is a test kit, and a panic is how a test fails.
///
/// ```
/// use palisade_test::Canary;
///
/// let canary = Canary::new();
/// let dsn = format!("postgres://app:{}@db/app", canary.value());
/// let redacted = dsn.replace(canary.value(), "***");
/// canary.assert_not_in_display(&redacted);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canary {
    value: String,
}

impl Canary {
    /// A new canary, different from every other canary of any test in any process.
    #[must_use]
    pub fn new() -> Self {
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut high = RandomState::new().build_hasher();
        high.write_u64(count);
        high.write_u32(std::process::id());
        let mut low = RandomState::new().build_hasher();
        low.write_u64(count.wrapping_add(0x9e37_79b9_7f4a_7c15));
        Self {
            value: format!("cnry{:016x}{:016x}", high.finish(), low.finish()),
        }
    }

    /// The secret value, to put wherever the code under test keeps secrets.
    #[must_use]
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Asserts that neither the canary nor any 8-character fragment of it occurs in `text`;
    /// `what` names the text in the failure message.
    #[allow(
        clippy::panic,
        reason = "a test kit fails the test that leaked the secret"
    )]
    pub fn assert_absent(&self, what: &str, text: &str) {
        if let Some(fragment) = self.leaked_fragment(text) {
            panic!("secret canary leaked into {what}: found fragment {fragment:?} in {text:?}");
        }
    }

    /// Asserts that `value`'s `Debug` output (plain and pretty) holds no part of the canary.
    pub fn assert_not_in_debug<T: Debug + ?Sized>(&self, value: &T) {
        self.assert_absent("Debug output", &format!("{value:?}"));
        self.assert_absent("pretty Debug output", &format!("{value:#?}"));
    }

    /// Asserts that `value`'s `Display` output holds no part of the canary.
    pub fn assert_not_in_display<T: Display + ?Sized>(&self, value: &T) {
        self.assert_absent("Display output", &value.to_string());
    }

    /// Asserts that no error in `error`'s chain (itself and every `source()`) shows any part of
    /// the canary in its `Display` or `Debug` output.
    pub fn assert_not_in_error(&self, error: &(dyn Error + 'static)) {
        let mut current = Some(error);
        let mut depth = 0usize;
        while let Some(err) = current {
            self.assert_absent(
                &format!("error chain level {depth} (Display)"),
                &err.to_string(),
            );
            self.assert_absent(
                &format!("error chain level {depth} (Debug)"),
                &format!("{err:?}"),
            );
            current = err.source();
            depth += 1;
        }
    }

    fn leaked_fragment<'t>(&self, text: &'t str) -> Option<&'t str> {
        let bytes = self.value.as_bytes();
        bytes.windows(FRAGMENT_LEN).find_map(|window| {
            let fragment = std::str::from_utf8(window).ok()?;
            text.find(fragment)
                .and_then(|at| text.get(at..at + FRAGMENT_LEN))
        })
    }
}

impl Default for Canary {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canaries_are_unique_and_plain() {
        let a = Canary::new();
        let b = Canary::new();
        assert_ne!(a, b);
        assert_eq!(a.value().len(), 36);
        assert!(a.value().bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn clean_text_passes() {
        let canary = Canary::new();
        canary.assert_absent("text", "postgres://app:***@db/app");
        canary.assert_not_in_debug(&("no", "secret"));
    }

    #[test]
    #[should_panic(expected = "secret canary leaked into Display output")]
    fn the_whole_value_is_caught() {
        let canary = Canary::new();
        canary.assert_not_in_display(&format!("password={}", canary.value()));
    }

    #[test]
    #[should_panic(expected = "secret canary leaked into Debug output")]
    fn a_fragment_is_caught() {
        let canary = Canary::new();
        let fragment = &canary.value()[10..18];
        canary.assert_not_in_debug(&format!("key starts {fragment}..."));
    }

    struct Outer(Inner);
    impl Debug for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Outer")
        }
    }
    #[derive(Debug)]
    #[expect(
        dead_code,
        reason = "read only by the derived Debug, which is what the test inspects"
    )]
    struct Inner(String);
    impl Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("outer failed")
        }
    }
    impl Display for Inner {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("inner failed")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }
    impl Error for Inner {}

    #[test]
    #[should_panic(expected = "error chain level 1 (Debug)")]
    fn a_leak_deep_in_the_error_chain_is_caught() {
        let canary = Canary::new();
        let err = Outer(Inner(canary.value().to_owned()));
        canary.assert_not_in_error(&err);
    }
}
