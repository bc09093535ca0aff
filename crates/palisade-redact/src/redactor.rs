//! `Redactor`: every detector in one multi-pattern automaton, one pass over the text.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

use regex_automata::meta::Regex;
use regex_automata::util::captures::Captures;
use regex_automata::{Input, Match, PatternID};

use crate::detectors::{DEFAULT, Detector, Mask};
use crate::secret_reader::SecretReader;
use crate::validate::MASK;

/// The most passes [`Redactor::redact`] makes over a text that keeps changing.
const MAX_PASSES: usize = 4;

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
    /// Every detector's pattern: finds where a candidate starts, in one pass.
    regex: Regex,
    /// Each detector's pattern alone, to read a candidate's secret at DFA speed; built when
    /// the detector first meets a candidate (most never do), which keeps construction cheap.
    readers: Vec<OnceLock<SecretReader>>,
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

    /// The detectors of `profile`: [`Profile::Secrets`](crate::Profile::Secrets) as
    /// [`new`](Self::new), or with personal data masked too
    /// ([`Profile::Pii`](crate::Profile::Pii)).
    ///
    /// ```
    /// use palisade_redact::{Profile, Redactor};
    ///
    /// let line = "login by ana@example.com from 203.0.113.7";
    /// assert_eq!(Redactor::new().redact(line), line);
    /// assert_eq!(Redactor::with_profile(Profile::Pii).redact(line), "login by *** from ***");
    /// ```
    ///
    /// # Panics
    /// Never: every profile's patterns are tested to compile.
    #[must_use]
    #[allow(
        clippy::expect_used,
        reason = "the profiles' patterns are constants tested to compile"
    )]
    pub fn with_profile(profile: crate::Profile) -> Self {
        Self::with_detectors(profile.detectors()).expect("the profile's detectors compile")
    }

    /// These detectors, most specific first.
    ///
    /// # Errors
    /// [`PatternError`] naming the first detector whose pattern does not compile.
    pub fn with_detectors(detectors: Vec<Detector>) -> Result<Self, PatternError> {
        let patterns: Vec<&str> = detectors.iter().map(|d| d.pattern).collect();
        let regex = Regex::new_many(&patterns).map_err(|err| {
            let detector = detectors
                .iter()
                .find(|d| Regex::new(d.pattern).is_err())
                .map_or("(the patterns together)", |d| d.id);
            PatternError {
                detector,
                reason: err.to_string(),
            }
        })?;
        let readers = patterns.iter().map(|_| OnceLock::new()).collect();
        Ok(Self {
            regex,
            readers,
            detectors,
        })
    }

    /// Every secret in `text`, left to right, without overlaps.
    #[must_use]
    pub fn find(&self, text: &str) -> Vec<Finding> {
        let mut findings = Vec::new();
        self.each(text, &mut 0, |finding, _| findings.push(finding));
        findings
    }

    /// How many bytes one pass over `text` hands to the regex engine: each search's span up to
    /// its match's end (or the end of the text), anchored retries included. A test seam: it
    /// shows the work per byte stays constant whatever the input.
    #[doc(hidden)]
    #[must_use]
    pub fn bytes_examined(&self, text: &str) -> usize {
        let mut examined = 0;
        self.each(text, &mut examined, |_, _| {});
        examined
    }

    /// `text` with every secret masked: `***`, or a base64 payload cut to its first 7
    /// characters and `...`. Redacting the result again changes nothing: masking can join what
    /// a separator kept apart (a cut payload loses its `/`, a `#` becomes `***`), so a text
    /// that changed is redacted again until it stops changing (at most 4 passes; a clean
    /// text takes one).
    #[must_use]
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Cow::Owned(mut current) = self.redact_once(text) else {
            return Cow::Borrowed(text);
        };
        for _ in 1..MAX_PASSES {
            match self.redact_once(&current) {
                Cow::Borrowed(_) => break,
                Cow::Owned(next) => current = next,
            }
        }
        Cow::Owned(current)
    }

    /// One pass of [`redact`](Redactor::redact).
    fn redact_once<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out: Option<String> = None;
        let mut copied = 0;
        self.each(text, &mut 0, |finding, mask| {
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
    /// `examined` counts the bytes searched (see [`bytes_examined`](Self::bytes_examined)).
    fn each(&self, text: &str, examined: &mut usize, mut found: impl FnMut(Finding, Mask)) {
        let mut at = 0;
        // Each detector's capture slots, made when its detector first reads a candidate.
        let mut slots: Vec<Option<Captures>> = Vec::new();
        while at <= text.len() {
            let Some(candidate) = self.regex.find(Input::new(text).range(at..)) else {
                *examined += text.len() - at;
                return;
            };
            *examined += candidate.end() - at;
            if slots.is_empty() {
                slots.resize_with(self.detectors.len(), || None);
            }
            let next = next_boundary(text, candidate.start());
            match self.accept(text, candidate, &mut slots, examined) {
                Accepted::Found(finding, mask, end) => {
                    at = end.max(next);
                    found(finding, mask);
                }
                // Redacted already: its context (a key, a scheme) is not another secret.
                Accepted::Masked(end) => at = end.max(next),
                Accepted::Nothing => at = next,
            }
        }
    }

    /// The finding for `candidate` if its detector's check passes, else the first later
    /// detector that matches at the same place and passes; or, when a detector's secret there
    /// is a mask already, the end of that match. A secret found after context (a key, the
    /// character before a base64 run) goes to a more specific detector that matches the whole
    /// of it from its first character: `AAAA…` after a quote is a Twitter bearer token, masked
    /// whole, rather than a base64 run cut to seven characters.
    fn accept(
        &self,
        text: &str,
        candidate: Match,
        slots: &mut [Option<Captures>],
        examined: &mut usize,
    ) -> Accepted {
        let start = candidate.start();
        let first = candidate.pattern().as_usize();
        for index in first..self.detectors.len() {
            match self.try_detector(index, text, start, candidate.end(), slots, examined) {
                Some(Accepted::Found(finding, mask, end)) if finding.span.start > start => {
                    let secret = finding.span.clone();
                    let specific = (0..index).find_map(|earlier| {
                        match self.try_detector(earlier, text, secret.start, end, slots, examined) {
                            Some(Accepted::Found(better, mask, better_end))
                                if better.span.start == secret.start
                                    && better.span.end >= secret.end =>
                            {
                                Some(Accepted::Found(better, mask, better_end.max(end)))
                            }
                            _ => None,
                        }
                    });
                    return specific.unwrap_or(Accepted::Found(finding, mask, end));
                }
                Some(accepted) => return accepted,
                None => {}
            }
        }
        Accepted::Nothing
    }

    /// Detector `index` at `start`: its finding if it matches there and its check passes,
    /// the end of its match if its secret is a mask already, else `None`. `candidate_end`
    /// bounds the count of bytes examined by a search that found nothing.
    fn try_detector(
        &self,
        index: usize,
        text: &str,
        start: usize,
        candidate_end: usize,
        slots: &mut [Option<Captures>],
        examined: &mut usize,
    ) -> Option<Accepted> {
        let detector = self.detectors.get(index)?;
        let reader = self.readers.get(index)?.get_or_init(|| {
            let id = PatternID::new(index).unwrap_or_default();
            SecretReader::new(detector.pattern, &self.regex, id)
        });
        let slots = slots
            .get_mut(index)?
            .get_or_insert_with(|| reader.create_captures());
        let Some(read) = reader.read(text, start, slots) else {
            *examined += candidate_end.saturating_sub(start);
            return None;
        };
        *examined += read.end - start;
        let span = read.secret;
        let secret = text.get(span.start..span.end)?;
        if is_masked(secret) {
            return Some(Accepted::Masked(read.end));
        }
        (detector.check)(secret).then(|| {
            let finding = Finding {
                detector: detector.id,
                span: span.start..span.end,
            };
            Accepted::Found(finding, detector.mask, read.end)
        })
    }
}

/// A detector's pattern that does not compile (or patterns too large together).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    detector: &'static str,
    reason: String,
}

impl PatternError {
    /// The detector's id.
    #[must_use]
    pub fn detector(&self) -> &'static str {
        self.detector
    }
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the pattern of detector {} does not compile: {}",
            self.detector, self.reason
        )
    }
}

impl std::error::Error for PatternError {}

/// What a candidate match turned out to be.
enum Accepted {
    /// A secret, its mask and the end of its match.
    Found(Finding, Mask, usize),
    /// A secret masked by an earlier pass; skip to the end of its match.
    Masked(usize),
    /// No detector's check passed here.
    Nothing,
}

/// A secret that an earlier pass masked, wholly or in part.
fn is_masked(secret: &str) -> bool {
    secret.contains(MASK)
}

/// The next character boundary after `at`.
fn next_boundary(text: &str, at: usize) -> usize {
    let mut next = at + 1;
    while next < text.len() && !text.is_char_boundary(next) {
        next += 1;
    }
    next
}
