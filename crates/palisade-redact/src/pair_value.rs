//! Whether a `key = value` pair a detector found in a file is a credential worth reporting,
//! or a placeholder, an expression, a name or a type name that merely sits where one could.

use std::ops::Range;

use crate::scan::SourceKind;
use crate::validate::looks_generated;

/// Values that stand for a secret rather than being one: empty words, template and variable
/// references (`{password}`, `${DB_PASSWORD}`, `$DB_PASSWORD`, `%(pw)s`, `<password>`,
/// `[password]`), calls
/// (`get_secret(...)`), and runs of one character (`xxxx`, `***`).
pub(crate) fn is_placeholder(value: &str) -> bool {
    const WORDS: &[&str] = &[
        "none",
        "null",
        "nil",
        "true",
        "false",
        "undefined",
        "empty",
        "required",
        "optional",
        "string",
        "str",
        "bytes",
        "int",
        "password",
        "passwd",
        "secret",
        "token",
        "redacted",
        "hidden",
        "masked",
        "unknown",
        "example",
        "pass",
        "pw",
        "pwd",
        "foo",
        "bar",
        "baz",
    ];
    const OPENINGS: &[&str] = &["{", "<", "[", "${", "$(", "%(", "#{"];
    let identifier = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    };
    let call = value.split_once('(').is_some_and(|(name, _)| {
        identifier(name) && !name.starts_with(|c: char| c.is_ascii_digit())
    });
    let variable = value.strip_prefix('$').is_some_and(identifier);
    let mut chars = value.chars();
    let first = chars.next();
    let bare = value.trim_matches(['[', ']', '<', '>', '{', '}', '(', ')', '\'', '"']);
    WORDS.iter().any(|w| bare.eq_ignore_ascii_case(w))
        || value.contains("%s")
        || value.contains("%(")
        || OPENINGS.iter().any(|o| value.starts_with(o))
        || call
        || variable
        || (value.len() >= 3 && first.is_some_and(|c| chars.all(|d| d == c)))
}

/// Whether the value of a `password = value` pair or an authorization value at `span` is a
/// credential: not a placeholder, at least 4 characters, not punctuation left over from code
/// (`)`, `:`), not the shell's `PWD`; in code a string literal, elsewhere quoted or
/// generated-looking. And the pair must be one: its key not part of a qualified type name
/// (`AWS::IAM::AccessKey`) or of a colon-separated name (an ARN's `:secret:`), its value not a
/// colour; and a key for a machine credential (a token, a key, a secret: anything but a
/// password, which people choose) takes no name or prose (`NextToken`, `aws_access_key_id`,
/// `The token to use`) and nothing shorter than 8 characters.
pub(crate) fn pair_is_credential(text: &str, span: &Range<usize>, kind: SourceKind) -> bool {
    let value = text.get(span.clone()).unwrap_or_default();
    let before = text.get(..span.start).unwrap_or_default();
    // A string literal opens right before the value, or before its auth scheme (`"Bearer x`).
    let spaced = before.trim_end_matches([' ', '\t']);
    let scheme_start = if spaced.len() < before.len() {
        spaced.trim_end_matches(|c: char| c.is_ascii_alphabetic())
    } else {
        before
    };
    let quoted = before.ends_with(['"', '\'']) || scheme_start.ends_with(['"', '\'']);
    let shell_pwd = before
        .trim_end_matches(['"', '\'', '=', ' ', '\t'])
        .ends_with("PWD");
    let shape_holds = !is_placeholder(value)
        && value.chars().count() >= 4
        && !value.starts_with([')', ']', '}', ',', ':', ';'])
        && !shell_pwd
        && !is_colour(value)
        && match kind {
            SourceKind::Code => quoted,
            SourceKind::Text => quoted || looks_generated(value),
        };
    shape_holds
        && !names_a_secret(value)
        && PairKey::before(before).is_none_or(|key| {
            !key.is_part_of_a_name()
                && !key.is_public()
                && !key.name.eq_ignore_ascii_case(value)
                && (key.is_password()
                    || (value.chars().count() >= 8
                        && !reads_as_words(value)
                        && !reads_as_prose(value)))
        })
}

/// A name that talks about a secret rather than being one (`changeOwnPassword`,
/// `no-password-required`, `EXAMPLE-PASSWORD`, `NextToken`): words, one of them a secret's.
fn names_a_secret(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    reads_as_words(value)
        && ["password", "passwd", "secret", "token"]
            .iter()
            .any(|word| lower.contains(word))
}

/// The key of a pair, read back from where its value starts.
struct PairKey<'t> {
    name: &'t str,
    /// The line before the name.
    prefix: &'t str,
    /// Whether the value follows the `:` after the name with nothing between (`secret:Name`).
    glued: bool,
}

impl<'t> PairKey<'t> {
    /// The key whose value starts where `before` ends: the name before the last `=` or `:` on
    /// the line, past quotes and JSON escapes.
    fn before(before: &'t str) -> Option<Self> {
        let line = before.rsplit('\n').next().unwrap_or(before);
        let separator = line.rfind(['=', ':'])?;
        let glued = line.get(separator..)? == ":";
        let name_end = line
            .get(..separator)?
            .trim_end_matches([' ', '\t', '"', '\'', '\\']);
        let name_start = name_end
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
            .map_or(0, |at| at + 1);
        Some(Self {
            name: name_end.get(name_start..)?,
            prefix: name_end.get(..name_start)?,
            glued,
        })
    }

    /// A segment of a qualified type name (`AWS::IAM::AccessKey`) or of a colon-separated
    /// name such as an ARN (`...:123456789012:secret:Name`), not a key.
    fn is_part_of_a_name(&self) -> bool {
        self.prefix.ends_with("::") || (self.glued && self.prefix.ends_with(':'))
    }

    /// A key naming something public (`publicKeyToken`, `PUBLIC_KEY_OR_PASSWORD`).
    fn is_public(&self) -> bool {
        self.name.to_ascii_lowercase().contains("public")
    }

    /// A password's key: people choose its value, which may be any word.
    fn is_password(&self) -> bool {
        let name = self.name.to_ascii_lowercase();
        ["pass", "pwd"].iter().any(|word| name.contains(word))
    }
}

/// `value` without the array indexes of a path expression (`Shards[-1].ShardId`).
fn without_indexes(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(open) = rest.find('[') {
        let (before, from) = rest.split_at(open);
        out.push_str(before);
        let inside = from.get(1..).unwrap_or_default();
        let close = inside.find(']');
        let index = close.and_then(|end| inside.get(..end)).is_some_and(|i| {
            !i.is_empty()
                && i.trim_start_matches('-')
                    .bytes()
                    .all(|b| b.is_ascii_digit())
        });
        match close {
            Some(end) if index => {
                out.push('.');
                rest = inside.get(end + 1..).unwrap_or_default();
            }
            _ => {
                out.push('[');
                rest = inside;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A sentence (`A dynamically generated value, used for paginating`, `The quick brown fox
/// 0123456789`): four words or more, at least three in four of them words.
fn reads_as_prose(value: &str) -> bool {
    let pieces: Vec<&str> = value.split_whitespace().collect();
    let words = pieces.iter().filter(|piece| reads_as_words(piece)).count();
    pieces.len() >= 4 && words * 4 >= pieces.len() * 3
}

/// A CSS colour (`#d8dee9`): a syntax theme's token colours are no tokens.
fn is_colour(value: &str) -> bool {
    value.strip_prefix('#').is_some_and(|hex| {
        matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// A name or a phrase rather than a generated value: no digits, and words of at most 15
/// letters (lower case, capitalized or upper case) joined by `_ . - : /`, spaces, or camel
/// case (`NextToken`, `DistributionList.NextMarker`, `aws_access_key_id`, `The token to use`).
/// Random letters fail: they change case inside a word, make mostly one- or two-letter words,
/// or run longer than a word.
fn reads_as_words(value: &str) -> bool {
    const LONGEST_WORD: usize = 15;
    without_indexes(value)
        .split([
            '_', '.', '-', ':', '/', ' ', ',', ';', '!', '?', '(', ')', '[', ']', '|', '*',
        ])
        .filter(|piece| !piece.is_empty())
        .all(|piece| {
            let letters = piece.bytes().all(|b| b.is_ascii_alphabetic());
            // Camel-case words: each starts at an upper-case letter after a lower-case one, or
            // at the last capital of an acronym that a word follows (`XML|Http|Request`).
            let mut words = Vec::new();
            let mut start = 0;
            let bytes = piece.as_bytes();
            let upper = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_uppercase);
            let lower = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_lowercase);
            for at in 1..bytes.len() {
                if upper(at) && (lower(at - 1) || (upper(at - 1) && lower(at + 1))) {
                    words.push(piece.get(start..at).unwrap_or_default());
                    start = at;
                }
            }
            words.push(piece.get(start..).unwrap_or_default());
            // Random case makes words of one or two letters (`aBcDeF`); names have few.
            let short = words.iter().filter(|word| word.len() <= 2).count();
            letters
                && short * 2 <= words.len().max(2)
                && words.iter().all(|word| {
                    let rest = word.get(1..).unwrap_or_default();
                    word.len() <= LONGEST_WORD
                        && (rest.bytes().all(|b| b.is_ascii_lowercase())
                            || word.bytes().all(|b| b.is_ascii_uppercase()))
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_not_credentials() {
        for value in [
            "None",
            "null",
            "${DB_PASSWORD}",
            "%(pw)s",
            "{{ vault }}",
            "<password>",
            "get()",
            "xxxxxx",
            "***",
        ] {
            assert!(is_placeholder(value), "{value}");
        }
        for value in [
            "hunter2",
            "Tr0ub4dor&3",
            "s3cr3t",
            "%40pw",
            "$x(y)!",
            "&Ab9",
            "*Ab9",
        ] {
            assert!(!is_placeholder(value), "{value}");
        }
    }

    #[test]
    fn names_and_phrases_read_as_words_and_generated_values_do_not() {
        for value in [
            "NextToken",
            "nextToken",
            "DistributionList.NextMarker",
            "aws_access_key_id",
            "set-password",
            "MISSING",
            "The token to use",
            "XMLHttpRequest",
            "StreamDescription.Shards[-1].ShardId",
            "NextMarker || Contents[-1].Key",
        ] {
            assert!(reads_as_words(value), "{value}");
        }
        for value in [
            "hunter2",
            "aBcDeFgHiJkL",
            "qwhdkslfjrutyghdkslq",
            "RW5DdDJkMWYwZjM2MzM2VHVp",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
            "Tr0ub4dor&3",
        ] {
            assert!(!reads_as_words(value), "{value}");
        }
    }

    #[test]
    fn type_names_and_arn_segments_are_no_keys() {
        let pair = |line: &str, value: &str| {
            let start = line.rfind(value).unwrap_or_default();
            pair_is_credential(line, &(start..start + value.len()), SourceKind::Text)
        };
        assert!(!pair(
            r#""AWS::IAM::AccessKey": "bf29289b78d371e3""#,
            "bf29289b78d371e3"
        ));
        assert!(!pair(
            "arn:aws:secretsmanager:us-west-2:123456789012:secret:MyDbSecret-a1b2c3",
            "MyDbSecret-a1b2c3"
        ));
        assert!(!pair(r#""input_token": "NextToken","#, "NextToken"));
        assert!(!pair(r##"Token: "#d8dee9","##, "#d8dee9"));
        assert!(!pair(r#"token = '781501'"#, "781501"));
        assert!(!pair(
            r#"PUBLIC_KEY_OR_PASSWORD = "PUBLIC_KEY_OR_PASSWORD""#,
            "PUBLIC_KEY_OR_PASSWORD"
        ));
        assert!(!pair(
            r#"A_CHANGE_PASSWORD = "changeOwnPassword""#,
            "changeOwnPassword"
        ));
        assert!(!pair(
            r#"publicKeyToken="1fc8b3b9a1e18e3b""#,
            "1fc8b3b9a1e18e3b"
        ));
        assert!(!pair(
            r#"secret = "The quick brown fox 0123456789""#,
            "The quick brown fox 0123456789"
        ));
        assert!(!pair(
            r#"set_password = 'ALTER USER %(user)s'"#,
            "ALTER USER %(user)s"
        ));
        assert!(pair(
            r#""AccessKey": "bf29289b78d371e3""#,
            "bf29289b78d371e3"
        ));
        assert!(pair(r#"secret: "s3cr3t-Va1ue""#, "s3cr3t-Va1ue"));
        assert!(pair(r#""password": "tiger""#, "tiger"));
        assert!(pair(r#"\"password\":\"letmein\""#, "letmein"));
        assert!(pair(
            r#"MasterUserPassword = "correct horse""#,
            "correct horse"
        ));
    }
}
