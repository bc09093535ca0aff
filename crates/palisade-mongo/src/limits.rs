//! `Limits` (R-MDB-5): how deep, how many keys, how long an array or a string may be.

use std::fmt;

/// Bounds on a client-supplied document, checked while it is walked, so a hostile filter costs
/// at most the limits' worth of work.
///
/// Depth counts every level: the filter itself is level 1, and every document or array inside
/// it (a logical operator's array, an `$elemMatch`, a `$not`, a sub-document) adds one.
///
/// ```
/// use palisade_mongo::Limits;
///
/// let limits = Limits::new(8, 100, 50, 1024).unwrap();
/// assert_eq!(limits.max_depth(), 8);
/// assert!(Limits::new(0, 100, 50, 1024).is_err());
/// assert_eq!(Limits::DEFAULT.max_depth(), Limits::DEFAULT_MAX_DEPTH);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    max_depth: usize,
    max_keys: usize,
    max_array_len: usize,
    max_string_len: usize,
}

/// A limit outside its allowed range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitInvalid {
    /// The limit's name (`max_depth`).
    pub name: &'static str,
    /// The largest value allowed.
    pub max: usize,
}

impl fmt::Display for LimitInvalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} must be between 1 and {}", self.name, self.max)
    }
}

impl std::error::Error for LimitInvalid {}

impl Limits {
    /// Default depth, in documents (an array that holds documents is no level; an array in an
    /// array is): ten nested logical operators pass, fifteen nested documents of any kind
    /// (operators, `$elemMatch`, `$not`, plain sub-documents) do not.
    pub const DEFAULT_MAX_DEPTH: usize = 14;
    /// MongoDB's own nesting limit.
    pub const MAX_MAX_DEPTH: usize = 100;
    /// Default total keys in one document, at every level.
    pub const DEFAULT_MAX_KEYS: usize = 256;
    /// The largest key limit accepted.
    pub const MAX_MAX_KEYS: usize = 100_000;
    /// Default array length (an `$in` list, an inserted array).
    pub const DEFAULT_MAX_ARRAY_LEN: usize = 1_000;
    /// The largest array limit accepted.
    pub const MAX_MAX_ARRAY_LEN: usize = 1_000_000;
    /// Default string length, in bytes.
    pub const DEFAULT_MAX_STRING_LEN: usize = 16 * 1024;
    /// MongoDB's document size limit (16 MiB).
    pub const MAX_MAX_STRING_LEN: usize = 16 * 1024 * 1024;

    /// The defaults.
    pub const DEFAULT: Self = Self {
        max_depth: Self::DEFAULT_MAX_DEPTH,
        max_keys: Self::DEFAULT_MAX_KEYS,
        max_array_len: Self::DEFAULT_MAX_ARRAY_LEN,
        max_string_len: Self::DEFAULT_MAX_STRING_LEN,
    };

    /// Every limit at its maximum: for documents that come from the server, not a client.
    pub const MAX_LIMITS: Self = Self {
        max_depth: Self::MAX_MAX_DEPTH,
        max_keys: Self::MAX_MAX_KEYS,
        max_array_len: Self::MAX_MAX_ARRAY_LEN,
        max_string_len: Self::MAX_MAX_STRING_LEN,
    };

    /// Limits, each between 1 and its `MAX_*`.
    ///
    /// # Errors
    /// [`LimitInvalid`] naming the first limit out of range.
    pub const fn new(
        max_depth: usize,
        max_keys: usize,
        max_array_len: usize,
        max_string_len: usize,
    ) -> Result<Self, LimitInvalid> {
        if let Some(invalid) = out_of_range("max_depth", max_depth, Self::MAX_MAX_DEPTH) {
            return Err(invalid);
        }
        if let Some(invalid) = out_of_range("max_keys", max_keys, Self::MAX_MAX_KEYS) {
            return Err(invalid);
        }
        if let Some(invalid) = out_of_range("max_array_len", max_array_len, Self::MAX_MAX_ARRAY_LEN)
        {
            return Err(invalid);
        }
        if let Some(invalid) =
            out_of_range("max_string_len", max_string_len, Self::MAX_MAX_STRING_LEN)
        {
            return Err(invalid);
        }
        Ok(Self {
            max_depth,
            max_keys,
            max_array_len,
            max_string_len,
        })
    }

    /// The deepest nesting allowed.
    #[must_use]
    pub const fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// The most keys allowed, counted over every level.
    #[must_use]
    pub const fn max_keys(&self) -> usize {
        self.max_keys
    }

    /// The longest array allowed.
    #[must_use]
    pub const fn max_array_len(&self) -> usize {
        self.max_array_len
    }

    /// The longest string allowed, in bytes.
    #[must_use]
    pub const fn max_string_len(&self) -> usize {
        self.max_string_len
    }
}

const fn out_of_range(name: &'static str, value: usize, max: usize) -> Option<LimitInvalid> {
    if value == 0 || value > max {
        Some(LimitInvalid { name, max })
    } else {
        None
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
