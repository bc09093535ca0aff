//! `Redactor`: every detector in one multi-pattern automaton, one pass over the text.

use std::borrow::Cow;
use std::ops::Range;

use regex_automata::meta::{BuildError, Regex};
use regex_automata::util::captures::Captures;
use regex_automata::{Anchored, Input, Match, PatternID};

use crate::detectors::{DEFAULT, Detector, Mask};
use crate::validate::MASK;

/// How many characters of a base64 payload stay visible (R-RED-3).
const TRUNCATE_KEEP: usize = 7;

/// One secret found: which detector and where, never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The detector's id (`jwt`, `card-number`).
    pub detector: &'static str,
    /// The secret's byte range in the text.
    pub span: Range<usize>,
}

/// Finds and masks secrets and personal data in text, with every detector compiled into one
/// automaton (regex-automata's meta engine): one pass over the text, whatever the number of
/// detectors. A clean text is returned borrowed, with no allocation.
///
/// ```
/// use palisade_redact::Redactor;
///
/// let redactor = Redactor::new();
/// let line = "connecting to postgres://app:hunter2@db:5432/app with token=abc123";
/// assert_eq!(
///     redactor.redact(line),
///     "connecting to postgres://app:***@db:5432/app with token=***"
/// );
/// assert!(matches!(redactor.redact("nothing to see"), std::borrow::Cow::Borrowed(_)));
/// ```
#[derive(Debug)]
pub struct Redactor {
    regex: Regex,
    detectors: Vec<Detector>,
}

impl Default for Redactor {
    fn default() -> Self {
        Self::new()
    }
}

impl Redactor {
    /// The default detectors ([`DEFAULT_DETECTORS`](crate::DEFAULT_DETECTORS)).
    ///
    /// # Panics
    /// Never: the default patterns are tested to compile.
    #[must_use]
    #[allow(
        clippy::expect_used,
        reason = "the default patterns are constants tested to compile"
    )]
    pub fn new() -> Self {
        Self::with_detectors(DEFAULT.to_vec()).expect("the default detectors compile")
    }

    /// These detectors, most specific first.
    ///
    /// # Errors
    /// When a pattern does not compile.
    pub fn with_detectors(detectors: Vec<Detector>) -> Result<Self, Box<BuildError>> {
        let patterns: Vec<&str> = detectors.iter().map(|d| d.pattern).collect();
        let regex = Regex::new_many(&patterns).map_err(Box::new)?;
        Ok(Self { regex, detectors })
    }

    /// Every secret in `text`, left to right, without overlaps.
    #[must_use]
    pub fn find(&self, text: &str) -> Vec<Finding> {
        let mut findings = Vec::new();
        self.each(text, |finding, _| findings.push(finding));
        findings
    }

    /// `text` with every secret masked: `***`, or a base64 payload cut to its first 7
    /// characters and `...`. Redacting the result again changes nothing.
    #[must_use]
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out: Option<String> = None;
        let mut copied = 0;
        self.each(text, |finding, mask| {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(text.get(copied..finding.span.start).unwrap_or_default());
            let secret = text.get(finding.span.clone()).unwrap_or_default();
            match mask {
                Mask::Replace => out.push_str(MASK),
                Mask::Truncate => {
                    let kept = secret
                        .char_indices()
                        .nth(TRUNCATE_KEEP)
                        .map_or(secret.len(), |(i, _)| i);
                    out.push_str(secret.get(..kept).unwrap_or_default());
                    out.push_str("...");
                }
            }
            copied = finding.span.end;
        });
        match out {
            None => Cow::Borrowed(text),
            Some(mut out) => {
                out.push_str(text.get(copied..).unwrap_or_default());
                Cow::Owned(out)
            }
        }
    }

    /// Calls `found` for each secret and its detector's mask, left to right.
    fn each(&self, text: &str, mut found: impl FnMut(Finding, Mask)) {
        let mut at = 0;
        let mut captures: Option<Captures> = None;
        while at <= text.len() {
            let Some(candidate) = self.regex.find(Input::new(text).range(at..)) else {
                return;
            };
            let captures = captures.get_or_insert_with(|| self.regex.create_captures());
            match self.accept(text, candidate, captures) {
                Some((finding, mask, end)) => {
                    at = end.max(next_boundary(text, candidate.start()));
                    found(finding, mask);
                }
                None => at = next_boundary(text, candidate.start()),
            }
        }
    }

    /// The finding for `candidate` if its detector's check passes, else the first later
    /// detector that matches at the same place and passes; with its mask and the end of its
    /// match.
    fn accept(
        &self,
        text: &str,
        candidate: Match,
        captures: &mut Captures,
    ) -> Option<(Finding, Mask, usize)> {
        let start = candidate.start();
        let first = candidate.pattern().as_usize();
        (first..self.detectors.len()).find_map(|index| {
            let pattern = PatternID::new(index).ok()?;
            let input = Input::new(text)
                .range(start..)
                .anchored(Anchored::Pattern(pattern));
            self.regex.search_captures(&input, captures);
            if !captures.is_match() {
                return None;
            }
            let whole = captures.get_match()?;
            let span = captures.get_group_by_name("s").unwrap_or(whole.span());
            let detector = self.detectors.get(index)?;
            let secret = text.get(span.start..span.end)?;
            (detector.check)(secret).then(|| {
                let finding = Finding {
                    detector: detector.id,
                    span: span.start..span.end,
                };
                (finding, detector.mask, whole.end())
            })
        })
    }
}

/// The next character boundary after `at`.
fn next_boundary(text: &str, at: usize) -> usize {
    let mut next = at + 1;
    while next < text.len() && !text.is_char_boundary(next) {
        next += 1;
    }
    next
}
