//! Redaction of one JSON log line in place: the value of every key named like a secret
//! becomes `"***"` (a `null` stays `null`), every other string is redacted as text, and
//! everything else (key order, spacing, numbers) is copied as it is, so the line stays the
//! same JSON document with its secrets masked.

use crate::FieldMasker;
use crate::validate::MASK;

/// Deeper documents than a log line holds are left to the text redactor.
const MAX_DEPTH: usize = 64;

/// `line` with its secrets masked, or `None` when it is not one JSON value (the caller then
/// redacts it as text).
pub(crate) fn redact_json(line: &str, masker: &FieldMasker) -> Option<String> {
    let mut walk = Walk {
        src: line,
        at: 0,
        out: String::with_capacity(line.len()),
        masker,
        depth: 0,
    };
    walk.value(false)?;
    walk.whitespace();
    (walk.at == line.len()).then_some(walk.out)
}

struct Walk<'a> {
    src: &'a str,
    at: usize,
    out: String,
    masker: &'a FieldMasker,
    depth: usize,
}

impl Walk<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.at).copied()
    }

    /// Copies the text from `self.at` to `end` and moves there.
    fn copy_to(&mut self, end: usize) -> Option<()> {
        self.out.push_str(self.src.get(self.at..end)?);
        self.at = end;
        Some(())
    }

    fn whitespace(&mut self) {
        let rest = self.src.get(self.at..).unwrap_or_default();
        let skipped = rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
        let _copied = self.copy_to(self.at + skipped);
    }

    fn masked(&mut self, end: usize) {
        self.out.push('"');
        self.out.push_str(MASK);
        self.out.push('"');
        self.at = end;
    }

    /// One value; `sensitive` when its key names a secret.
    fn value(&mut self, sensitive: bool) -> Option<()> {
        self.whitespace();
        match self.peek()? {
            b'{' | b'[' if sensitive => {
                let end = container_end(self.src, self.at)?;
                self.masked(end);
                Some(())
            }
            b'{' => self.container(b'}'),
            b'[' => self.container(b']'),
            b'"' => {
                let end = string_end(self.src, self.at)?;
                if sensitive {
                    self.masked(end);
                    return Some(());
                }
                let text = string_text(self.src.get(self.at..end)?)?;
                match self.masker.redactor().redact(&text) {
                    std::borrow::Cow::Borrowed(_) => self.copy_to(end),
                    std::borrow::Cow::Owned(redacted) => {
                        self.out.push_str(&serde_json::to_string(&redacted).ok()?);
                        self.at = end;
                        Some(())
                    }
                }
            }
            _ => {
                let rest = self.src.get(self.at..)?;
                let len = rest
                    .find([',', '}', ']', ' ', '\t', '\r', '\n'])
                    .unwrap_or(rest.len());
                let literal = rest.get(..len)?;
                let end = self.at + len;
                if literal.is_empty() {
                    return None;
                }
                if sensitive && literal != "null" {
                    self.masked(end);
                    Some(())
                } else {
                    self.copy_to(end)
                }
            }
        }
    }

    /// An object or an array, from its opening bracket to `close`.
    fn container(&mut self, close: u8) -> Option<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.copy_to(self.at + 1)?;
        loop {
            self.whitespace();
            if self.peek()? == close {
                self.copy_to(self.at + 1)?;
                self.depth -= 1;
                return Some(());
            }
            let sensitive = if close == b'}' {
                let end = string_end(self.src, self.at)?;
                let key = string_text(self.src.get(self.at..end)?)?;
                self.copy_to(end)?;
                self.whitespace();
                if self.peek()? != b':' {
                    return None;
                }
                self.copy_to(self.at + 1)?;
                self.masker.is_sensitive(&key)
            } else {
                false
            };
            self.value(sensitive)?;
            self.whitespace();
            match self.peek()? {
                b',' => self.copy_to(self.at + 1)?,
                c if c == close => {}
                _ => return None,
            }
        }
    }
}

/// The text of a JSON string literal (quotes included in `raw`): borrowed when it has no
/// escape (the common case, no allocation), decoded by serde_json otherwise; `None` when it is
/// not a valid literal.
fn string_text(raw: &str) -> Option<std::borrow::Cow<'_, str>> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if inner.bytes().all(|b| b != b'\\' && b != b'"' && b >= 0x20) {
        return Some(std::borrow::Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(raw)
        .ok()
        .map(std::borrow::Cow::Owned)
}

/// Where the string that starts at `at` ends (after its closing quote).
fn string_end(src: &str, at: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let mut i = at + 1;
    loop {
        match bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// Where the object or array that starts at `at` ends.
fn container_end(src: &str, at: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut depth = 0_usize;
    let mut i = at;
    loop {
        match bytes.get(i)? {
            b'"' => {
                i = string_end(src, i)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_line_keeps_its_shape_and_loses_its_secrets() {
        let masker = FieldMasker::new();
        let line = r#"{"timestamp":"t","level":"INFO","fields":{"message":"login with password=hunter2","token":"abc","count":3,"api_key":12345,"secret":null,"nested":{"password":{"a":[1,"x"]}}},"spans":[{"dsn":"postgres://app:pw@db/app","name":"r"}]}"#;
        let redacted = redact_json(line, &masker).unwrap();
        assert_eq!(
            redacted,
            r#"{"timestamp":"t","level":"INFO","fields":{"message":"login with password=***","token":"***","count":3,"api_key":"***","secret":null,"nested":{"password":"***"}},"spans":[{"dsn":"postgres://app:***@db/app","name":"r"}]}"#
        );
        let _parsed: serde_json::Value = serde_json::from_str(&redacted).unwrap();
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        /// The borrowed path reads a literal exactly as serde_json decodes it, escapes,
        /// quotes, control characters and any Unicode included.
        #[test]
        fn a_string_literal_reads_as_serde_json_decodes_it(text in "\\PC*|[\\x00-\\x7f\"\\\\]*") {
            let literal = serde_json::to_string(&text).unwrap();
            let read = string_text(&literal);
            proptest::prop_assert_eq!(read.as_deref(), Some(text.as_str()));
            let unicode_escaped: String = std::iter::once("\"".to_owned())
                .chain(text.encode_utf16().map(|unit| format!("\\u{unit:04x}")))
                .chain(std::iter::once("\"".to_owned()))
                .collect();
            let read = string_text(&unicode_escaped);
            proptest::prop_assert_eq!(read.as_deref(), Some(text.as_str()));
        }
    }

    #[test]
    fn text_and_broken_json_are_not_json_lines() {
        let masker = FieldMasker::new();
        for line in [
            "INFO login",
            r#"{"a":"#,
            r#"{"a" 1}"#,
            r#"{"a":"b"} x"#,
            "{",
            "[1,",
        ] {
            assert!(redact_json(line, &masker).is_none(), "{line}");
        }
        assert_eq!(
            redact_json(" [1, \"x\"] ", &masker).as_deref(),
            Some(" [1, \"x\"] ")
        );
    }
}
