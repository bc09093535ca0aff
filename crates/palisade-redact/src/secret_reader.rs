//! Reading a candidate's secret group `s` in time linear in the match, at DFA speed where the
//! pattern allows it.
//!
//! regex-automata reads capture groups with its one-pass DFA when a pattern is one-pass, and
//! otherwise with the PikeVM, which costs tens of nanoseconds per byte: on a 1 MB value, 50
//! times the search that found it. Yet every detector's pattern is a sequence with the group
//! `s` at its top level: a key before it (`password=`), the secret, and a short tail after
//! it (a closing quote, a boundary). So each pattern is cut into those three parts, and the
//! end of each part is found with a DFA, anchored where the part before it ended: the three
//! ends are the secret's start, its end and the match's end, and no capture engine runs.
//!
//! The cut reads what the whole pattern reads. Leftmost-first matching takes the first path in
//! backtracking order; the whole pattern tries the key's paths in that order and the rest after
//! each, so when the rest matches after the key's own leftmost-first end, that is the whole
//! pattern's match (and the same holds between the secret and the tail). When a part does not
//! match where the part before it ended, the whole pattern is asked with its capture engine.

use regex_automata::meta::Regex;
use regex_automata::util::captures::Captures;
use regex_automata::{Anchored, Input, PatternID, Span};
use regex_syntax::hir::{Class, Hir, HirKind, Repetition};

/// The secret group's name in every detector's pattern.
const SECRET_GROUP: &str = "s";

/// One detector's pattern, ready to read the secret of a match that starts at a known place.
#[derive(Debug)]
pub(crate) struct SecretReader {
    whole: Whole,
    parts: Option<Parts>,
}

/// The whole pattern, asked when its parts cannot answer: compiled alone, or (should that
/// fail) the redactor's regex of every pattern, searched for this one.
#[derive(Debug)]
enum Whole {
    Alone(Regex),
    Among(Regex, PatternID),
}

/// The pattern cut around its group `s`: key, secret, tail (key and tail may be empty).
#[derive(Debug)]
struct Parts {
    key: Option<Regex>,
    secret: Secret,
    tail: Option<Regex>,
}

/// The secret part of a cut pattern: a greedy run of one class (`[^\s"',;]+`,
/// `[A-Za-z0-9]{20,}`), read by walking the characters (a DFA inside a match records the match
/// at every byte, at half its speed), then the rest with a DFA (`={0,2}`), or all of it with
/// a DFA. Either may be missing, not both.
#[derive(Debug)]
struct Secret {
    run: Option<ClassRun>,
    rest: Option<Regex>,
}

/// A class and the fewest characters of it a run needs.
#[derive(Debug)]
struct ClassRun {
    ascii: [bool; 128],
    /// Members beyond ASCII, as sorted inclusive ranges.
    wide: Vec<(char, char)>,
    min: usize,
}

impl ClassRun {
    fn new(repetition: &Repetition) -> Option<Self> {
        if repetition.max.is_some() || !repetition.greedy {
            return None;
        }
        let HirKind::Class(class) = repetition.sub.kind() else {
            return None;
        };
        let ranges: Vec<(char, char)> = match class {
            Class::Unicode(class) => class
                .ranges()
                .iter()
                .map(|r| (r.start(), r.end()))
                .collect(),
            Class::Bytes(class) => class
                .ranges()
                .iter()
                .map(|r| (char::from(r.start()), char::from(r.end())))
                .collect(),
        };
        let mut ascii = [false; 128];
        for (byte, member) in (0u8..).zip(ascii.iter_mut()) {
            *member = ranges
                .iter()
                .any(|(start, end)| (*start..=*end).contains(&char::from(byte)));
        }
        let wide = ranges
            .into_iter()
            .filter(|(_, end)| !end.is_ascii())
            .collect();
        Some(Self {
            ascii,
            wide,
            min: usize::try_from(repetition.min).ok()?,
        })
    }

    fn contains(&self, c: char) -> bool {
        if c.is_ascii() {
            return self.ascii.get(c as usize).copied().unwrap_or(false);
        }
        self.wide
            .binary_search_by(|(start, end)| {
                if *end < c {
                    std::cmp::Ordering::Less
                } else if *start > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }

    /// Where the run that starts at `at` ends, if it is long enough.
    fn end(&self, text: &str, at: usize) -> Option<usize> {
        let rest = text.get(at..)?;
        let mut count = 0;
        let mut end = at;
        for c in rest.chars() {
            if !self.contains(c) {
                break;
            }
            count += 1;
            end += c.len_utf8();
        }
        (count >= self.min).then_some(end)
    }
}

/// A match read: its end and its secret's span.
pub(crate) struct Read {
    pub(crate) end: usize,
    pub(crate) secret: Span,
}

impl SecretReader {
    /// The reader of `pattern`, pattern `id` of `all`.
    pub(crate) fn new(pattern: &str, all: &Regex, id: PatternID) -> Self {
        let hir = regex_automata::util::syntax::parse(pattern).ok();
        let alone = hir.as_ref().and_then(|hir| build(hir.clone()));
        Self {
            whole: alone.map_or_else(|| Whole::Among(all.clone(), id), Whole::Alone),
            parts: hir.as_ref().and_then(cut),
        }
    }

    /// Slots for [`read`](Self::read).
    pub(crate) fn create_captures(&self) -> Captures {
        match &self.whole {
            Whole::Alone(regex) | Whole::Among(regex, _) => regex.create_captures(),
        }
    }

    /// The match of this pattern that starts at `start`, if any.
    pub(crate) fn read(&self, text: &str, start: usize, captures: &mut Captures) -> Option<Read> {
        if let Some(parts) = &self.parts {
            match parts.read(text, start) {
                PartsRead::Matched(read) => return Some(read),
                PartsRead::NoMatch => return None,
                PartsRead::AskWhole => {}
            }
        }
        match &self.whole {
            Whole::Alone(regex) => regex.search_captures(&anchored(text, start), captures),
            Whole::Among(regex, id) => {
                let input = Input::new(text)
                    .range(start..)
                    .anchored(Anchored::Pattern(*id));
                regex.search_captures(&input, captures);
            }
        }
        let whole = captures.get_match()?;
        Some(Read {
            end: whole.end(),
            secret: captures
                .get_group_by_name(SECRET_GROUP)
                .unwrap_or(whole.span()),
        })
    }
}

/// What the three parts say about a match at a place.
enum PartsRead {
    Matched(Read),
    /// No path through the key: the whole pattern cannot match either.
    NoMatch,
    /// The secret or the tail did not match where the part before ended: the whole pattern
    /// may still match along another path.
    AskWhole,
}

impl Parts {
    fn read(&self, text: &str, start: usize) -> PartsRead {
        let end_of = |part: Option<&Regex>, at: usize| match part {
            None => Some(at),
            Some(regex) => regex.search_half(&anchored(text, at)).map(|m| m.offset()),
        };
        let Some(secret_start) = end_of(self.key.as_ref(), start) else {
            return PartsRead::NoMatch;
        };
        let run_end = match &self.secret.run {
            Some(run) => run.end(text, secret_start),
            None => Some(secret_start),
        };
        let secret_end = run_end.and_then(|at| end_of(self.secret.rest.as_ref(), at));
        let read = secret_end.and_then(|secret_end| {
            Some(Read {
                end: end_of(self.tail.as_ref(), secret_end)?,
                secret: Span::from(secret_start..secret_end),
            })
        });
        read.map_or(PartsRead::AskWhole, PartsRead::Matched)
    }
}

fn anchored(text: &str, start: usize) -> Input<'_> {
    Input::new(text).range(start..).anchored(Anchored::Yes)
}

/// `pattern` cut around its group `s`, when that group stands at the top level of the
/// pattern and is its only group (flags are resolved in the syntax tree, so a `(?i)` before
/// the group still applies after the cut).
/// The secret part: a leading class run, and the rest. A run is longest first, so by the
/// same argument as the cut, reading the rest after it reads what the secret's pattern reads.
fn secret(hir: &Hir, optional: impl Fn(&[Hir]) -> Option<Option<Regex>>) -> Option<Secret> {
    let run_of = |hir: &Hir| match hir.kind() {
        HirKind::Repetition(repetition) => ClassRun::new(repetition),
        _ => None,
    };
    let (run, rest) = match hir.kind() {
        HirKind::Concat(parts) => match parts.split_first() {
            Some((first, rest)) => match run_of(first) {
                Some(run) => (Some(run), rest),
                None => (None, parts.as_slice()),
            },
            None => (None, parts.as_slice()),
        },
        _ => match run_of(hir) {
            Some(run) => (Some(run), &[][..]),
            None => (None, std::slice::from_ref(hir)),
        },
    };
    Some(Secret {
        run,
        rest: optional(rest)?,
    })
}

fn build(hir: Hir) -> Option<Regex> {
    regex_automata::meta::Builder::new()
        .build_from_hir(&hir)
        .ok()
}

fn cut(hir: &Hir) -> Option<Parts> {
    if hir.properties().explicit_captures_len() != 1 {
        return None;
    }
    let HirKind::Concat(parts) = hir.kind() else {
        return None;
    };
    let at = parts.iter().position(|part| {
        matches!(part.kind(), HirKind::Capture(group) if group.name.as_deref() == Some(SECRET_GROUP))
    })?;
    let HirKind::Capture(group) = parts.get(at)?.kind() else {
        return None;
    };
    let optional = |parts: &[Hir]| match parts {
        [] => Some(None),
        parts => build(Hir::concat(parts.to_vec())).map(Some),
    };
    Some(Parts {
        key: optional(parts.get(..at)?)?,
        secret: secret(&group.sub, optional)?,
        tail: optional(parts.get(at + 1..)?)?,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{DEFAULT_DETECTORS, PII_DETECTORS};

    /// Pieces of the detectors' keys, secrets and tails, so that random texts keep meeting
    /// partial and whole matches.
    const PIECES: &[&str] = &[
        "password",
        "Password",
        "db_pass",
        "token",
        "secret",
        "api_key",
        "=",
        ":",
        "=>",
        "\"",
        "'",
        "\\\"",
        "\\",
        " ",
        "\t",
        "\n",
        ";",
        ",",
        "&",
        "?",
        "@",
        "#",
        "/",
        ".",
        "-",
        "_",
        "Bearer ",
        "bearer",
        "Basic ",
        "Authorization: ",
        "authorization=",
        "postgres://",
        "u:p",
        "AKIA",
        "IOSFODNN7EXAMPLE",
        "-----BEGIN PRIVATE KEY-----",
        "-----END PRIVATE KEY-----",
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJzdWIiOiIxIn0",
        "Pwd={",
        "}",
        "}}",
        "Server=x;",
        "mysql -u root -p",
        "--password ",
        "machine h login u password ",
        "Cookie: ",
        "Set-Cookie: id=",
        "<password>",
        "</",
        "data:image/png;base64,",
        "&sig=",
        "ghp_",
        "sk-proj-",
        "xoxb-",
        "0123456789",
        "4111111111111111",
        "123-45-6789",
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3",
        "a@b.example",
        "203.0.113.7",
        "::1",
        "+44 20 7946 0958",
        "GB82WEST12345698765432",
        "é",
        "ü€",
    ];

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(PIECES), 0..24).prop_map(|p| p.concat())
    }

    fn reader_of(pattern: &str) -> SecretReader {
        let all = Regex::new(pattern).unwrap();
        SecretReader::new(pattern, &all, PatternID::ZERO)
    }

    fn whole_read(reader: &SecretReader, text: &str, start: usize) -> Option<(usize, Span)> {
        let mut captures = reader.create_captures();
        let Whole::Alone(regex) = &reader.whole else {
            panic!("every detector compiles alone")
        };
        regex.search_captures(&anchored(text, start), &mut captures);
        let whole = captures.get_match()?;
        let secret = captures
            .get_group_by_name(SECRET_GROUP)
            .unwrap_or(whole.span());
        Some((whole.end(), secret))
    }

    #[test]
    fn every_detector_is_cut_into_key_secret_and_tail() {
        for detector in DEFAULT_DETECTORS.iter().chain(PII_DETECTORS) {
            let reader = reader_of(detector.pattern);
            assert!(reader.parts.is_some(), "{} is read whole", detector.id);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The cut pattern reads what the whole pattern reads, at every start.
        #[test]
        fn the_cut_reads_what_the_whole_pattern_reads(text in text()) {
            let readers: Vec<(&str, SecretReader)> = DEFAULT_DETECTORS
                .iter()
                .chain(PII_DETECTORS)
                .map(|d| (d.id, reader_of(d.pattern)))
                .collect();
            for (id, reader) in &readers {
                let Some(parts) = &reader.parts else { continue };
                for start in (0..=text.len()).filter(|at| text.is_char_boundary(*at)) {
                    let cut = match parts.read(&text, start) {
                        PartsRead::Matched(read) => Some((read.end, read.secret)),
                        PartsRead::NoMatch => None,
                        PartsRead::AskWhole => continue,
                    };
                    let whole = whole_read(reader, &text, start);
                    prop_assert_eq!(cut, whole, "{} at {} in {:?}", id, start, text);
                }
            }
        }
    }
}
