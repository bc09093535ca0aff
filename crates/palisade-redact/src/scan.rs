//! Scanning files for hard-coded credentials: each finding with its line, column and a masked
//! preview, and the filters a scanner needs that a log redactor does not (a redactor masks
//! `password=None` to be safe; a scanner that reports it is noise).

use std::ops::Range;
use std::path::Path;

use crate::detectors::{DEFAULT, Mask};
use crate::pair_value::{is_placeholder, pair_is_credential};
use crate::validate::{MASK, github_checksum};
use crate::{Finding, Redactor};

/// The longest preview, in characters, before it is cut with `...`.
const PREVIEW_CHARS: usize = 160;

/// What kind of file a text comes from, which decides how a `password = value` pair is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// Program source: a credential is a string literal, so an unquoted value is a variable or
    /// an expression, not a secret.
    Code,
    /// Configuration, text and logs: an unquoted value counts unless it is a placeholder or a
    /// plain lower-case word.
    Text,
}

/// File extensions of program source.
const CODE_EXTENSIONS: &[&str] = &[
    "c", "cc", "cpp", "cs", "cxx", "dart", "ex", "exs", "go", "groovy", "h", "hpp", "java", "js",
    "jsx", "kt", "kts", "lua", "m", "mjs", "php", "pl", "pm", "py", "pyi", "r", "rb", "rs",
    "scala", "swift", "ts", "tsx", "vb",
];

impl SourceKind {
    /// [`Code`](SourceKind::Code) for a program source extension, else
    /// [`Text`](SourceKind::Text).
    ///
    /// ```
    /// use palisade_redact::SourceKind;
    /// use std::path::Path;
    ///
    /// assert_eq!(SourceKind::for_path(Path::new("src/db.py")), SourceKind::Code);
    /// assert_eq!(SourceKind::for_path(Path::new(".env")), SourceKind::Text);
    /// ```
    #[must_use]
    pub fn for_path(path: &Path) -> Self {
        let code = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| CODE_EXTENSIONS.iter().any(|c| e.eq_ignore_ascii_case(c)));
        if code { Self::Code } else { Self::Text }
    }
}

/// One finding placed in its text: never the secret, only where it is and its line masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The detector's id.
    pub detector: &'static str,
    /// The line of the secret's first byte, from 1.
    pub line: usize,
    /// The column of the secret's first character, from 1.
    pub column: usize,
    /// The secret's byte range in the text.
    pub span: Range<usize>,
    /// The line with the secret (and every other secret in it) masked, cut to 160 characters.
    pub preview: String,
}

/// Detectors for what logs carry and source trees only mention: request cookies, `.netrc`
/// lines and command lines. Redaction masks them; a scan of code would report every HTTP
/// library and every test of a `.netrc` parser.
const LOG_ONLY: &[&str] = &["cookie", "netrc-password", "command-line-password"];

/// Finds hard-coded credentials and personal data in files: the default detectors without the
/// base64 payload ones (a payload is redacted in logs but is not a credential) and the
/// log-only ones (cookies, `.netrc` lines, command lines), and pairs
/// whose value is a placeholder, an expression or (in code) not a string literal dropped.
///
/// ```
/// use palisade_redact::{Scanner, SourceKind};
///
/// let scanner = Scanner::new();
/// let code = "user = 'app'\npassword = 'Tr0ub4dor&3'\nsecret = os.environ['SECRET']\n";
/// let found = scanner.scan(code, SourceKind::Code);
/// assert_eq!(found.len(), 1);
/// assert_eq!((found[0].detector, found[0].line, found[0].column), ("secret-pair", 2, 13));
/// assert_eq!(found[0].preview, "password = '***'");
/// ```
#[derive(Debug)]
pub struct Scanner {
    redactor: Redactor,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

impl Scanner {
    /// The default detectors without the base64 payload ones.
    ///
    /// # Panics
    /// Never: the default patterns are tested to compile.
    #[must_use]
    #[allow(
        clippy::expect_used,
        reason = "the default patterns are constants tested to compile"
    )]
    pub fn new() -> Self {
        let detectors = DEFAULT
            .iter()
            .filter(|d| d.mask == Mask::Replace && !LOG_ONLY.contains(&d.id))
            .copied()
            .collect();
        Self::with_redactor(
            Redactor::with_detectors(detectors).expect("the default detectors compile"),
        )
    }

    /// Scans with this redactor's detectors.
    #[must_use]
    pub fn with_redactor(redactor: Redactor) -> Self {
        Self { redactor }
    }

    /// Every credential in `text`, read as `kind`, in order.
    #[must_use]
    pub fn scan(&self, text: &str, kind: SourceKind) -> Vec<Located> {
        let mut lines = LineIndex::new(text);
        self.redactor
            .find(text)
            .into_iter()
            .filter(|finding| self.reportable(text, finding, kind))
            .map(|finding| {
                let (line, line_span) = lines.line_of(finding.span.start);
                let column = text
                    .get(line_span.start..finding.span.start)
                    .map_or(1, |before| before.chars().count() + 1);
                let preview = self.preview(text, line_span, &finding.span);
                Located {
                    detector: finding.detector,
                    line,
                    column,
                    span: finding.span,
                    preview,
                }
            })
            .collect()
    }

    /// Whether a finding is a credential worth reporting rather than a pair whose value is
    /// code or a placeholder.
    fn reportable(&self, text: &str, finding: &Finding, kind: SourceKind) -> bool {
        let value = text.get(finding.span.clone()).unwrap_or_default();
        // AWS's documentation marks its sample keys (`AKIAIOSFODNN7EXAMPLE`,
        // `wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY`), and others follow it.
        if value.contains("EXAMPLE") {
            return false;
        }
        match finding.detector {
            "secret-pair" | "authorization" => pair_is_credential(text, &finding.span, kind),
            "url-credentials" | "connection-string-password" => !is_placeholder(value),
            // The redactor masks any token of the shape; the scanner reports real ones.
            "github-token" => github_checksum(value),
            "card-number" => !in_a_run_of_numbers(text, &finding.span),
            _ => true,
        }
    }

    /// The line with the finding masked and the rest redacted, cut to [`PREVIEW_CHARS`].
    fn preview(&self, text: &str, line: Range<usize>, secret: &Range<usize>) -> String {
        // The secret starts on `line`; a PEM block ends on a later one.
        let before = text.get(line.start..secret.start).unwrap_or_default();
        let after = text
            .get(secret.end.min(line.end)..line.end)
            .unwrap_or_default();
        let masked = format!("{before}{MASK}{after}");
        let redacted = self.redactor.redact(masked.trim_end_matches('\r'));
        match redacted.char_indices().nth(PREVIEW_CHARS) {
            Some((cut, _)) => format!("{}...", redacted.get(..cut).unwrap_or_default()),
            None => redacted.into_owned(),
        }
    }
}

/// Whether digits at `span` belong to an identifier, a list of numbers or arithmetic rather
/// than being a card number: joined to what precedes by `/`, `-`, `_`, `.` or `#` (a test case
/// id, a file name, a decimal), followed or preceded by more digit groups, or an operand of
/// an arithmetic operator (`120352542776360960*x + 269116466014453760`).
fn in_a_run_of_numbers(text: &str, span: &Range<usize>) -> bool {
    let before = text.get(..span.start).unwrap_or_default();
    let after = text.get(span.end..).unwrap_or_default();
    let mut back = before.chars().rev();
    let mut ahead = after.chars();
    let joined = back.next();
    let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    let operator = |c: Option<char>| matches!(c, Some('+' | '-' | '*' | '/' | '^' | '(' | ')'));
    let next = ahead.next();
    matches!(joined, Some('/' | '-' | '_' | '.' | '#' | '*' | '^' | '('))
        || (matches!(joined, Some(' ')) && {
            let before_space = back.next();
            digit(before_space) || operator(before_space)
        })
        || matches!(next, Some('*' | '/' | '^' | ')'))
        || (matches!(next, Some(' ' | '-' | '.')) && {
            let after = ahead.next();
            digit(after) || (next == Some(' ') && operator(after))
        })
}

/// Finds the line of a byte offset, for offsets given in increasing order.
struct LineIndex<'t> {
    text: &'t str,
    /// The current line's number and start.
    line: usize,
    start: usize,
}

impl<'t> LineIndex<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            line: 1,
            start: 0,
        }
    }

    /// The line number of `offset` and the byte range of that line (without its newline).
    fn line_of(&mut self, offset: usize) -> (usize, Range<usize>) {
        let bytes = self.text.as_bytes();
        while let Some(newline) = bytes
            .get(self.start..offset)
            .and_then(|part| part.iter().position(|&b| b == b'\n'))
        {
            self.start += newline + 1;
            self.line += 1;
        }
        let end = bytes
            .get(self.start..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
            .map_or(self.text.len(), |n| self.start + n);
        (self.line, self.start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_in_ids_and_lists_are_not_card_numbers() {
        let at = |text: &str, number: &str| {
            let start = text.find(number).unwrap_or_default();
            in_a_run_of_numbers(text, &(start..start + number.len()))
        };
        assert!(at("testcase-detail/4111111111111111.", "4111111111111111"));
        assert!(at("fuzzer-4111111111111111 | Bin", "4111111111111111"));
        assert!(at("648 4111 1111 1111 1111 9608", "4111 1111 1111 1111"));
        assert!(at("h = 120352542776360960*x + 269", "120352542776360960"));
        assert!(at("h = 12*x + 269116466014453760", "269116466014453760"));
        assert!(!at("card=4111111111111111&cvc=1", "4111111111111111"));
        assert!(!at("paid with 4111 1111 1111 1111.", "4111 1111 1111 1111"));
    }

    #[test]
    fn lines_are_found_in_order() {
        let mut index = LineIndex::new("a\nbc\n\nd");
        assert_eq!(index.line_of(0), (1, 0..1));
        assert_eq!(index.line_of(3), (2, 2..4));
        assert_eq!(index.line_of(6), (4, 6..7));
    }
}
