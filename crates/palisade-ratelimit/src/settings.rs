//! `Settings`: a limiter's configuration, as read from a config file.

use std::fmt;
use std::num::NonZeroUsize;

use crate::gcra::Rules;
use crate::{Admitted, Spec};

/// Whether a limiter enforces its spec. Disabling is a deliberate setting (there is no
/// environment variable that turns limits off), and a disabled limiter says so in `Debug`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Mode {
    /// Decide every request (the default).
    #[default]
    Enforce,
    /// Admit every request and track nothing: for tests that must not be limited.
    Disabled,
}

/// A limiter's configuration: the spec, the mode and, for keyed limiters, the key cap.
///
/// With the `serde` feature it reads from configuration; only `spec` is required:
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use palisade_ratelimit::{Mode, Settings};
///
/// let settings: Settings = serde_json::from_str(r#"{"spec": "5/minute; 100/hour"}"#)?;
/// assert_eq!(settings.mode(), Mode::Enforce);
/// assert_eq!(settings.max_keys().get(), Settings::DEFAULT_MAX_KEYS);
///
/// let off: Settings = serde_json::from_str(r#"{"spec": "5/minute", "mode": "disabled"}"#)?;
/// assert_eq!(off.mode(), Mode::Disabled);
/// # }
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Settings {
    spec: Spec,
    #[cfg_attr(feature = "serde", serde(default))]
    mode: Mode,
    #[cfg_attr(feature = "serde", serde(default = "Settings::default_max_keys"))]
    max_keys: NonZeroUsize,
}

impl Settings {
    /// How many client keys a keyed limiter tracks unless told otherwise.
    pub const DEFAULT_MAX_KEYS: usize = 100_000;

    /// Enforce `spec`, tracking up to [`DEFAULT_MAX_KEYS`](Self::DEFAULT_MAX_KEYS) keys.
    #[must_use]
    pub const fn new(spec: Spec) -> Self {
        Self {
            spec,
            mode: Mode::Enforce,
            max_keys: Self::default_max_keys(),
        }
    }

    /// The same settings in another mode.
    #[must_use]
    pub const fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// The same settings with another key cap.
    #[must_use]
    pub const fn with_max_keys(mut self, max_keys: NonZeroUsize) -> Self {
        self.max_keys = max_keys;
        self
    }

    /// The spec.
    #[must_use]
    pub const fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The mode.
    #[must_use]
    pub const fn mode(&self) -> Mode {
        self.mode
    }

    /// The most client keys a keyed limiter tracks.
    #[must_use]
    pub const fn max_keys(&self) -> NonZeroUsize {
        self.max_keys
    }

    const fn default_max_keys() -> NonZeroUsize {
        match NonZeroUsize::new(Self::DEFAULT_MAX_KEYS) {
            Some(n) => n,
            None => NonZeroUsize::MIN,
        }
    }
}

impl From<Spec> for Settings {
    fn from(spec: Spec) -> Self {
        Self::new(spec)
    }
}

/// What every limiter keeps of its settings: the settings and the spec compiled for deciding.
#[derive(Debug, Clone)]
pub(crate) struct Configured {
    pub(crate) settings: Settings,
    pub(crate) rules: Rules,
}

impl Configured {
    pub(crate) fn new(settings: &Settings) -> Self {
        Self {
            rules: Rules::new(settings.spec().limits()),
            settings: settings.clone(),
        }
    }

    /// A disabled limiter's answer, given without deciding; `None` when enforcing.
    #[inline]
    pub(crate) fn bypass(&self) -> Option<Admitted> {
        (self.settings.mode() == Mode::Disabled).then(|| self.rules.fresh())
    }

    /// A limiter's `Debug`, begun with its spec and mode (never a client key or a URL).
    pub(crate) fn debug<'a, 'b>(
        &self,
        name: &str,
        f: &'a mut fmt::Formatter<'b>,
    ) -> fmt::DebugStruct<'a, 'b> {
        let mut debug = f.debug_struct(name);
        debug
            .field("spec", &format_args!("{}", self.settings.spec()))
            .field("mode", &self.settings.mode());
        debug
    }
}
