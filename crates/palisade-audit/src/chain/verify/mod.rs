//! Verification of a chained log: every line's hash against the next line's `prev`, the
//! sequence numbers, the links between files, torn lines only where a crash or a failed write
//! explains them, and, with the key, every checkpoint's MAC and record count.

mod reader;
mod state;

pub(super) use state::State;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::{ChainError, ChainKey};

/// A checkpoint published outside the log (a metric, another store, a ticket): its sequence
/// number and the SHA-256 of its line, written `SEQ:HEX`. Verifying with it proves the log
/// was not cut back to an earlier checkpoint, nor the chain before it rebuilt.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Anchor {
    seq: u64,
    hash: [u8; 32],
}

impl Anchor {
    pub(crate) const fn new(seq: u64, hash: [u8; 32]) -> Self {
        Self { seq, hash }
    }

    /// The checkpoint's sequence number.
    #[must_use]
    pub const fn seq(&self) -> u64 {
        self.seq
    }
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.seq)?;
        self.hash.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Anchor({self})")
    }
}

/// A text that is not `SEQ:HEX` (a sequence number, a colon, 64 lower-case hex digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an anchor is SEQ:HASH, the hash 64 lower-case hex digits")]
pub struct AnchorInvalid;

impl FromStr for Anchor {
    type Err = AnchorInvalid;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (seq, hex) = text.split_once(':').ok_or(AnchorInvalid)?;
        let seq = seq.parse().map_err(|_| AnchorInvalid)?;
        if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(AnchorInvalid);
        }
        let mut hash = [0_u8; 32];
        for (byte, pair) in hash.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| AnchorInvalid)?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| AnchorInvalid)?;
        }
        Ok(Self { seq, hash })
    }
}

/// A log that verified: what was checked, and what a reader should know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// Files read.
    pub files: usize,
    /// Event records verified (checkpoints and resume records not counted).
    pub records: u64,
    /// Checkpoints verified (their MAC too when a key was given).
    pub checkpoints: u64,
    /// The first sequence number read (1 unless the verification was partial).
    pub first_seq: u64,
    /// The last sequence number read.
    pub last_seq: u64,
    /// Records after the last checkpoint: chained but not sealed (a crash mid-batch, or a
    /// log cut between two checkpoints).
    pub unsealed: u64,
    /// The last checkpoint, to publish as an [`Anchor`] for the next verification.
    pub sealed: Option<Anchor>,
    /// Lines a crash or a failed write cut short, each at the end of its file.
    pub torn: Vec<TornTail>,
    /// Where a writer restarted after a run that left records unsealed: those records are
    /// chained but were never sealed by the run that wrote them.
    pub resumed: Vec<Resumed>,
    /// Whether checkpoint MACs were checked (a key was given).
    pub macs_checked: bool,
}

/// A line without its newline at the end of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The file.
    pub file: PathBuf,
    /// Its 1-based line number.
    pub line: u64,
}

/// A writer's restart after a run that ended with `unsealed` records after its last
/// checkpoint (a crash; or records rewritten by someone without the key before the restart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed {
    /// The file the restart began.
    pub file: PathBuf,
    /// The records the previous run left unsealed.
    pub unsealed: u64,
}

/// Where and how the chain breaks: the first line that cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChainBreak {
    /// The file.
    pub file: PathBuf,
    /// The 1-based line number in it.
    pub line: u64,
    /// What is wrong there.
    pub kind: BreakKind,
    /// Event records verified before it.
    pub verified: u64,
}

/// How a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BreakKind {
    /// The line is not one of the writer's records.
    Unreadable,
    /// The line is longer than any record the writer writes (1 MiB).
    LineTooLong,
    /// The path is not a regular file (a directory, a device, a pipe).
    NotAFile,
    /// The file has a writer's name whose number no record can have.
    NameInvalid,
    /// Its `prev` is not the hash of the line before: that line (at `previous_line`, in the
    /// previous file when 0) was edited, or this one's `prev` was.
    Changed {
        /// The line whose hash no longer matches (0: the last line of the previous file).
        previous_line: u64,
    },
    /// Sequence numbers jump forward: records were deleted or moved.
    Missing {
        /// The number expected here.
        expected: u64,
        /// The number found.
        found: u64,
    },
    /// Sequence numbers go back or repeat: records were moved or copied.
    OutOfOrder {
        /// The number expected here.
        expected: u64,
        /// The number found.
        found: u64,
    },
    /// The file's first record does not follow the previous file's last: a file is missing
    /// between them (or was cut).
    FileMissing {
        /// The number expected first in this file.
        expected: u64,
        /// The number found.
        found: u64,
    },
    /// The log does not start at record 1 (verify it as partial when earlier files were
    /// archived).
    StartMissing {
        /// The first number found.
        found: u64,
    },
    /// The log's first record claims to start the log but does not chain from nothing.
    StartForged,
    /// A torn line in the middle of the log that neither a restart (the next file opening
    /// with a resume record) nor a retried write (the next file repeating it) explains.
    TornInside,
    /// A resume record that does not describe the log before it.
    ResumeMismatch,
    /// A checkpoint's MAC does not verify under the key: the chain before it was rebuilt by
    /// someone without the key.
    CheckpointForged,
    /// A checkpoint counts other records than the ones before it.
    CheckpointMiscounted,
    /// The anchored checkpoint is not in the log: it was cut back before it.
    AnchorMissing,
    /// The line with the anchored sequence number is not the anchored checkpoint.
    AnchorMismatch,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file.display(), self.line)?;
        match &self.kind {
            BreakKind::Unreadable => f.write_str("not a chained audit record"),
            BreakKind::LineTooLong => f.write_str("a line longer than any audit record"),
            BreakKind::NotAFile => f.write_str("not a regular file"),
            BreakKind::NameInvalid => f.write_str("a log file name no record number fits"),
            BreakKind::Changed { previous_line: 0 } => f.write_str(
                "does not chain from the previous file's last record: one of them was changed",
            ),
            BreakKind::Changed { previous_line } => write!(
                f,
                "does not chain from line {previous_line}: that line or this one was changed"
            ),
            BreakKind::Missing { expected, found } => write!(
                f,
                "record {found} where {expected} was expected: records were deleted or moved"
            ),
            BreakKind::OutOfOrder { expected, found } => write!(
                f,
                "record {found} where {expected} was expected: records were moved or copied"
            ),
            BreakKind::FileMissing { expected, found } => write!(
                f,
                "the file starts at record {found} where {expected} was expected: a file is missing"
            ),
            BreakKind::StartMissing { found } => write!(
                f,
                "the log starts at record {found}: the records before it are missing"
            ),
            BreakKind::StartForged => f.write_str("record 1 does not start a chain"),
            BreakKind::TornInside => f.write_str(
                "a torn line in the middle of the log that no restart or retried write explains",
            ),
            BreakKind::ResumeMismatch => {
                f.write_str("the resume record does not describe the log before it")
            }
            BreakKind::CheckpointForged => {
                f.write_str("the checkpoint's MAC does not verify: the chain before it was rebuilt")
            }
            BreakKind::CheckpointMiscounted => {
                f.write_str("the checkpoint counts other records than the ones before it")
            }
            BreakKind::AnchorMissing => {
                f.write_str("the anchored checkpoint is not in the log: it was cut back")
            }
            BreakKind::AnchorMismatch => {
                f.write_str("this is not the anchored checkpoint: the chain was rebuilt")
            }
        }?;
        write!(f, " ({} records verified before it)", self.verified)
    }
}

/// How to verify: with or without the key, from the log's start or from the middle, against
/// an anchor or not.
///
/// ```no_run
/// use palisade_audit::{Anchor, Verifier, log_files};
///
/// # fn run(key: &palisade_audit::ChainKey, published: &str) -> Result<(), Box<dyn std::error::Error>> {
/// let files = log_files("/var/log/app/audit".as_ref(), "audit")?;
/// let anchor: Anchor = published.parse()?;
/// match Verifier::new().key(key).anchor(anchor).verify(&files)? {
///     Ok(verified) => assert!(verified.records > 0),
///     Err(broken) => return Err(broken.to_string().into()),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Verifier<'k> {
    key: Option<&'k ChainKey>,
    partial: bool,
    anchor: Option<Anchor>,
}

impl<'k> Verifier<'k> {
    /// A verifier of a whole log (from record 1), without the key.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            key: None,
            partial: false,
            anchor: None,
        }
    }

    /// Checks every checkpoint's MAC under `key`.
    #[must_use]
    pub const fn key(mut self, key: &'k ChainKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Accepts a log that starts after record 1 (earlier files archived); its first batch is
    /// checked as far as it is present.
    #[must_use]
    pub const fn partial(mut self) -> Self {
        self.partial = true;
        self
    }

    /// Requires the checkpoint `anchor` (published when it was written) in the log.
    #[must_use]
    pub const fn anchor(mut self, anchor: Anchor) -> Self {
        self.anchor = Some(anchor);
        self
    }

    /// Verifies the log made of `files`, in the order given (the writer's names sort in chain
    /// order).
    ///
    /// Three shapes: `Ok(Ok(Verified))` when the chain holds (torn tails, resumes and
    /// unsealed records are reported in [`Verified`]), `Ok(Err(ChainBreak))` at the first
    /// line that cannot be trusted, and `Err(ChainError)` when a file cannot be read.
    ///
    /// Limits: the records after the last checkpoint can be rewritten by someone who can
    /// write the files; a log cut back exactly to a checkpoint looks complete unless it is
    /// verified against an [`Anchor`] published elsewhere; and the MAC does not name the log,
    /// so two logs under one key can be swapped (give each log its own key).
    ///
    /// # Errors
    /// [`ChainError::NoFiles`], [`ChainError::Io`].
    pub fn verify(&self, files: &[PathBuf]) -> Result<Result<Verified, ChainBreak>, ChainError> {
        if files.is_empty() {
            return Err(ChainError::NoFiles);
        }
        State::new(*self).run(files)
    }
}

/// [`Verifier`] of a whole log, with `key` when given: see [`Verifier::verify`].
///
/// # Errors
/// [`ChainError::NoFiles`], [`ChainError::Io`].
pub fn verify_files(
    files: &[PathBuf],
    key: Option<&ChainKey>,
) -> Result<Result<Verified, ChainBreak>, ChainError> {
    let verifier = Verifier::new();
    match key {
        Some(key) => verifier.key(key).verify(files),
        None => verifier.verify(files),
    }
}
