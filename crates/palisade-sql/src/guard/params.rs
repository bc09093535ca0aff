//! `Params`: the parameters a caller binds, for checking that placeholders and parameters
//! match one to one.

/// The parameters bound to a statement: by name (`:id`, `@id`) or by position (`?`, `$1`).
///
/// ```
/// use palisade_sql::Params;
///
/// let named = Params::named(["user_id", "status"]);
/// let positional = Params::positional(2);
/// assert_ne!(named, positional);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Params {
    /// Named parameters.
    Named(Vec<String>),
    /// This many positional parameters.
    Positional(usize),
}

impl Params {
    /// Parameters with these names (without the `:` or `@`).
    #[must_use]
    pub fn named<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self::Named(names.into_iter().map(str::to_owned).collect())
    }

    /// `count` positional parameters.
    #[must_use]
    pub fn positional(count: usize) -> Self {
        Self::Positional(count)
    }

    /// No parameters.
    #[must_use]
    pub fn none() -> Self {
        Self::Positional(0)
    }
}
