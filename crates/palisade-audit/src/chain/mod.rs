//! The tamper-evident log: JSON lines chained by SHA-256, sealed by keyed checkpoints,
//! rotated by size, and its verifier.

mod key;
mod line;
mod record;
mod verify;
mod writer;

use std::io;
use std::path::PathBuf;

pub use key::ChainKey;
pub use verify::{
    Anchor, AnchorInvalid, BreakKind, ChainBreak, Resumed, TornTail, Verified, Verifier,
    verify_files,
};
pub use writer::{ChainHealth, ChainOptions, ChainedLog, Durability, log_files};

/// What went wrong opening, writing or reading a chained log (not a broken chain: that is a
/// [`ChainBreak`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The checkpoint key is shorter than 32 bytes.
    #[error("the audit chain key is shorter than 32 bytes")]
    KeyTooShort,
    /// The key's secret store did not answer.
    #[error("the audit chain key cannot be read from its store")]
    KeyUnavailable(#[source] Box<palisade_secrets::SecretError>),
    /// A file could not be read, written or created.
    #[error("audit log file {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// No file was given to verify.
    #[error("no audit log file was given")]
    NoFiles,
    /// The newest files of the log in the directory do not verify: the writer will not
    /// continue a broken chain (move the log aside after `palisade audit verify`).
    #[error("the existing audit log does not verify: {0}")]
    ExistingLogBroken(Box<ChainBreak>),
}

impl ChainError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
