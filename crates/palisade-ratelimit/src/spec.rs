//! `Spec` and `Limit`: rate limits written as text, the way Python's `limits` and slowapi read
//! them (`5/minute`, `100 per hour`, `10 per 30 seconds`, several joined by `;`, `,` or `|`).

use std::fmt;
use std::num::NonZeroU32;
use std::ops::Range;
use std::str::FromStr;
use std::time::Duration;

/// The longest spec accepted, in bytes.
const MAX_SPEC_LEN: usize = 1024;
/// The most limits one spec may join.
pub(crate) const MAX_LIMITS: usize = 16;

/// A unit of time a limit is counted over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Unit {
    /// One second.
    Second,
    /// 60 seconds.
    Minute,
    /// 3,600 seconds.
    Hour,
    /// 86,400 seconds.
    Day,
    /// 30 days, as Python's `limits` counts a month.
    Month,
    /// 360 days (12 of those months), as Python's `limits` counts a year.
    Year,
}

impl Unit {
    const ALL: [Self; 6] = [
        Self::Second,
        Self::Minute,
        Self::Hour,
        Self::Day,
        Self::Month,
        Self::Year,
    ];

    /// The unit's name, singular.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Second => "second",
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    /// Its length in seconds.
    #[must_use]
    pub const fn seconds(self) -> u64 {
        match self {
            Self::Second => 1,
            Self::Minute => 60,
            Self::Hour => 3_600,
            Self::Day => 86_400,
            Self::Month => 30 * 86_400,
            Self::Year => 360 * 86_400,
        }
    }

    /// `second`, `seconds`, `SECOND`, ... (case-insensitive, singular or plural).
    fn parse(word: &str) -> Option<Self> {
        let word = word.to_ascii_lowercase();
        let singular = word.strip_suffix('s').unwrap_or(&word);
        Self::ALL.into_iter().find(|unit| unit.name() == singular)
    }
}

/// One limit: at most `count` requests per `multiple` × `unit` (`10 per 30 seconds`).
///
/// As a GCRA (governor's algorithm) it is a burst of `count` that refills one request every
/// `period / count`.
///
/// ```
/// use std::time::Duration;
/// use palisade_ratelimit::Limit;
///
/// let limit: Limit = "10 per 30 seconds".parse()?;
/// assert_eq!(limit.count().get(), 10);
/// assert_eq!(limit.period(), Duration::from_secs(30));
/// assert_eq!(limit.refill_interval(), Duration::from_secs(3));
/// assert_eq!(limit.to_string(), "10/30 seconds");
/// # Ok::<(), palisade_ratelimit::SpecError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limit {
    count: NonZeroU32,
    multiple: NonZeroU32,
    unit: Unit,
}

impl Limit {
    /// `count` requests per `multiple` × `unit`.
    #[must_use]
    pub const fn new(count: NonZeroU32, multiple: NonZeroU32, unit: Unit) -> Self {
        Self {
            count,
            multiple,
            unit,
        }
    }

    /// The burst: how many requests may pass at once.
    #[must_use]
    pub const fn count(&self) -> NonZeroU32 {
        self.count
    }

    /// How many units the window spans (30 in `10 per 30 seconds`).
    #[must_use]
    pub const fn multiple(&self) -> NonZeroU32 {
        self.multiple
    }

    /// The unit.
    #[must_use]
    pub const fn unit(&self) -> Unit {
        self.unit
    }

    /// The whole window: `multiple` × `unit`.
    #[must_use]
    pub const fn period(&self) -> Duration {
        Duration::from_secs(self.multiple.get() as u64 * self.unit.seconds())
    }

    /// How often one more request is allowed once the burst is spent: `period / count`.
    #[must_use]
    pub fn refill_interval(&self) -> Duration {
        self.period() / self.count.get()
    }

    /// The same limit as a governor [`Quota`](governor::Quota): a burst of `count`, refilled
    /// one every [`refill_interval`](Self::refill_interval) (at least a nanosecond), for code that
    /// hands limits to governor or to crates built on it.
    ///
    /// ```
    /// use palisade_ratelimit::Limit;
    ///
    /// let quota = "10 per 30 seconds".parse::<Limit>()?.quota();
    /// assert_eq!(quota.burst_size().get(), 10);
    /// assert_eq!(quota.replenish_interval(), std::time::Duration::from_secs(3));
    /// # Ok::<(), palisade_ratelimit::SpecError>(())
    /// ```
    #[must_use]
    pub fn quota(&self) -> governor::Quota {
        let interval = self.refill_interval().max(Duration::from_nanos(1));
        governor::Quota::with_period(interval)
            .unwrap_or(governor::Quota::per_second(NonZeroU32::MAX))
            .allow_burst(self.count)
    }

    /// Parses one limit; `offset` is where `text` starts in the whole spec (for errors).
    fn parse_at(text: &str, offset: usize) -> Result<Self, SpecError> {
        let trimmed_start = text.len() - text.trim_start().len();
        let body = text.trim();
        let at = |part: &str| {
            // `part` is a sub-slice of `text`; its position in the whole spec.
            let start = offset + (part.as_ptr() as usize - text.as_ptr() as usize);
            start..start + part.len()
        };
        if body.is_empty() {
            let start = offset + trimmed_start;
            return Err(SpecError::new(
                SpecErrorKind::EmptyLimit,
                start..start,
                text,
            ));
        }
        let (count, rest) = match body.split_once('/') {
            Some((count, rest)) => (count.trim(), rest.trim()),
            None => {
                let mut words = body.splitn(2, char::is_whitespace);
                let count = words.next().unwrap_or_default();
                let rest = words.next().unwrap_or_default().trim_start();
                match rest.split_once(char::is_whitespace) {
                    Some((per, rest)) if per.eq_ignore_ascii_case("per") => (count, rest.trim()),
                    _ => {
                        return Err(SpecError::new(
                            SpecErrorKind::SeparatorMissing,
                            at(body),
                            body,
                        ));
                    }
                }
            }
        };
        let count = parse_positive(count)
            .ok_or_else(|| SpecError::new(SpecErrorKind::CountInvalid, at(count), count))?;
        let (multiple, unit_word) = match rest.split_once(char::is_whitespace) {
            Some((multiple, unit)) => (Some(multiple), unit.trim()),
            None => (None, rest),
        };
        let multiple = match multiple {
            Some(text) => parse_positive(text)
                .ok_or_else(|| SpecError::new(SpecErrorKind::MultipleInvalid, at(text), text))?,
            None => NonZeroU32::MIN,
        };
        let unit = Unit::parse(unit_word)
            .ok_or_else(|| SpecError::new(SpecErrorKind::UnitUnknown, at(unit_word), unit_word))?;
        Ok(Self::new(count, multiple, unit))
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.multiple.get() {
            1 => write!(f, "{}/{}", self.count, self.unit.name()),
            n => write!(f, "{}/{n} {}s", self.count, self.unit.name()),
        }
    }
}

impl FromStr for Limit {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let spec: Spec = text.parse()?;
        match spec.limits.as_slice() {
            [limit] => Ok(*limit),
            _ => Err(SpecError::new(
                SpecErrorKind::MoreThanOneLimit,
                0..text.len(),
                text,
            )),
        }
    }
}

/// One or more limits that a request must all pass (`5/minute; 100 per hour`).
///
/// Parsing accepts what Python's `limits` accepts (`N/unit`, `N per unit`, `N per M units`,
/// `N/M units`, units singular or plural, any case) joined by `;`, `,` or `|`; `Display` writes
/// the canonical form (`5/minute; 100/hour`), which parses back to the same spec.
///
/// ```
/// use palisade_ratelimit::Spec;
///
/// let spec: Spec = "5/minute; 100 per hour".parse()?;
/// assert_eq!(spec.limits().len(), 2);
/// assert_eq!(spec.to_string(), "5/minute; 100/hour");
///
/// let err = "5/minute; 100 per fortnight".parse::<Spec>().unwrap_err();
/// assert_eq!(err.to_string(), "rate limit spec has an unknown unit `fortnight` at bytes 18..27");
/// assert_eq!(err.span(), 18..27);
/// # Ok::<(), palisade_ratelimit::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Spec {
    limits: Vec<Limit>,
}

impl Spec {
    /// Parses a spec (the same as [`str::parse`]).
    ///
    /// # Errors
    /// A [`SpecError`] whose [`span`](SpecError::span) points at the bad part.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        if text.len() > MAX_SPEC_LEN {
            return Err(SpecError::new(
                SpecErrorKind::TooLong { max: MAX_SPEC_LEN },
                MAX_SPEC_LEN..text.len(),
                "",
            ));
        }
        let mut limits = Vec::new();
        let mut offset = 0;
        for part in text.split([';', ',', '|']) {
            if limits.len() == MAX_LIMITS {
                return Err(SpecError::new(
                    SpecErrorKind::TooManyLimits { max: MAX_LIMITS },
                    offset..text.len(),
                    "",
                ));
            }
            limits.push(Limit::parse_at(part, offset)?);
            offset += part.len() + 1;
        }
        Ok(Self { limits })
    }

    /// A spec of these limits.
    ///
    /// # Errors
    /// [`SpecErrorKind::EmptyLimit`] when `limits` is empty; [`SpecErrorKind::TooManyLimits`].
    pub fn new(limits: Vec<Limit>) -> Result<Self, SpecError> {
        if limits.is_empty() {
            return Err(SpecError::new(SpecErrorKind::EmptyLimit, 0..0, ""));
        }
        if limits.len() > MAX_LIMITS {
            return Err(SpecError::new(
                SpecErrorKind::TooManyLimits { max: MAX_LIMITS },
                0..0,
                "",
            ));
        }
        Ok(Self { limits })
    }

    /// The limits, in the order written.
    #[must_use]
    pub fn limits(&self) -> &[Limit] {
        &self.limits
    }
}

impl From<Limit> for Spec {
    fn from(limit: Limit) -> Self {
        Self {
            limits: vec![limit],
        }
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, limit) in self.limits.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{limit}")?;
        }
        Ok(())
    }
}

impl FromStr for Spec {
    type Err = SpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl serde::Serialize for Spec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl<'de> serde::Deserialize<'de> for Spec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A decimal number from 1 to `u32::MAX`, digits only.
fn parse_positive(text: &str) -> Option<NonZeroU32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// What is wrong with a spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpecErrorKind {
    /// Nothing between two separators, or an empty spec.
    EmptyLimit,
    /// Neither `/` nor `per` between the count and the unit.
    SeparatorMissing,
    /// The count is not a whole number from 1 to 4,294,967,295.
    CountInvalid,
    /// The number before the unit (`30` in `10 per 30 seconds`) is not a whole number from 1.
    MultipleInvalid,
    /// The unit is not second, minute, hour, day, month or year.
    UnitUnknown,
    /// A single [`Limit`] was parsed from text holding several.
    MoreThanOneLimit,
    /// The spec is longer than the maximum.
    TooLong {
        /// The maximum, in bytes.
        max: usize,
    },
    /// The spec joins more limits than the maximum.
    TooManyLimits {
        /// The maximum.
        max: usize,
    },
}

/// A spec that does not parse: what is wrong and where (a byte range of the input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    kind: SpecErrorKind,
    span: Range<usize>,
    /// The bad part (a spec is configuration, not a secret), at most 40 bytes of it.
    part: String,
}

impl SpecError {
    fn new(kind: SpecErrorKind, span: Range<usize>, part: &str) -> Self {
        let mut end = part.len().min(40);
        while !part.is_char_boundary(end) {
            end -= 1;
        }
        Self {
            kind,
            span,
            part: part.get(..end).unwrap_or_default().to_owned(),
        }
    }

    /// What is wrong.
    #[must_use]
    pub const fn kind(&self) -> SpecErrorKind {
        self.kind
    }

    /// Where, as a byte range of the parsed text.
    #[must_use]
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            SpecErrorKind::EmptyLimit => "an empty limit",
            SpecErrorKind::SeparatorMissing => "no `/` or `per` between count and unit in",
            SpecErrorKind::CountInvalid => "a count that is not a whole number from 1",
            SpecErrorKind::MultipleInvalid => "a unit multiple that is not a whole number from 1",
            SpecErrorKind::UnitUnknown => "an unknown unit",
            SpecErrorKind::MoreThanOneLimit => "more than one limit in",
            SpecErrorKind::TooLong { max } => {
                return write!(f, "rate limit spec is longer than {max} bytes");
            }
            SpecErrorKind::TooManyLimits { max } => {
                return write!(f, "rate limit spec joins more than {max} limits");
            }
        };
        write!(f, "rate limit spec has {what}")?;
        if !self.part.is_empty() {
            write!(f, " `{}`", self.part)?;
        }
        write!(f, " at bytes {}..{}", self.span.start, self.span.end)
    }
}

impl std::error::Error for SpecError {}
