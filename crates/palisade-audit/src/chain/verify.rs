//! Verification of a chained log: every line's hash against the next line's `prev`, the
//! sequence numbers, the links between files and, with the key, every checkpoint's MAC.

use std::fmt;
use std::fs::File;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};

use super::line::{self, GENESIS};
use super::{ChainError, ChainKey};

/// A log that verified: what was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// Files read.
    pub files: usize,
    /// Event records verified (checkpoints not counted).
    pub records: u64,
    /// Checkpoints verified (their MAC too when a key was given).
    pub checkpoints: u64,
    /// The first sequence number read (1 when the log is complete from its start).
    pub first_seq: u64,
    /// The last sequence number read.
    pub last_seq: u64,
    /// Event records after the last checkpoint: chained but not sealed (a crash mid-batch,
    /// or a log cut between two checkpoints).
    pub unsealed: u64,
    /// Lines a crash cut short, each at the end of its file; the records before each are
    /// verified, and the next file continues from the last whole record.
    pub torn: Vec<TornTail>,
    /// Whether checkpoint MACs were checked (a key was given).
    pub macs_checked: bool,
}

/// A line without its newline at the end of a file: what a crash mid-write leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The file.
    pub file: PathBuf,
    /// Its 1-based line number.
    pub line: u64,
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
    /// The line is not a chained record (edited beyond its head, or not from this log).
    Unreadable,
    /// Its `prev` is not the hash of the line before: that line (at `previous_line`, in the
    /// previous file when 0) was edited, or this one's `prev` was.
    Changed {
        /// The line whose hash no longer matches (0: the last line of the previous file).
        previous_line: u64,
    },
    /// Sequence numbers jump forward: records were deleted before this line.
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
    /// The log's first record claims to start the log but does not chain from nothing.
    StartForged,
    /// A checkpoint's MAC does not verify under the key: the chain before it was rebuilt by
    /// someone without the key.
    CheckpointForged,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file.display(), self.line)?;
        match &self.kind {
            BreakKind::Unreadable => f.write_str("not a chained audit record"),
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
            BreakKind::OutOfOrder { expected, found } => {
                write!(
                    f,
                    "record {found} where {expected} was expected: records were moved"
                )
            }
            BreakKind::FileMissing { expected, found } => write!(
                f,
                "the file starts at record {found} where {expected} was expected: a file is missing"
            ),
            BreakKind::StartForged => f.write_str("record 1 does not start a chain"),
            BreakKind::CheckpointForged => {
                f.write_str("the checkpoint's MAC does not verify: the chain before it was rebuilt")
            }
        }?;
        write!(f, " ({} records verified before it)", self.verified)
    }
}

/// Verifies the log made of `files`, in the order given (the writer's names sort in chain
/// order). With `key`, every checkpoint's MAC is checked too.
///
/// Returns three shapes: `Ok(Ok(Verified))` when the chain holds (possibly with torn tails
/// or unsealed records, which [`Verified`] reports), `Ok(Err(ChainBreak))` at the first
/// line that cannot be trusted, and `Err(ChainError)` when a file cannot be read.
///
/// Limits: the records after the last checkpoint can be edited by someone who rebuilds
/// their hashes, and a log cut back exactly to a checkpoint looks complete; compare
/// [`Verified::last_seq`] with a sequence number published elsewhere
/// ([`ChainHealth::sealed_seq`](super::ChainHealth::sealed_seq)) to catch that.
///
/// # Errors
/// [`ChainError::NoFiles`], [`ChainError::Io`].
pub fn verify_files(
    files: &[PathBuf],
    key: Option<&ChainKey>,
) -> Result<Result<Verified, ChainBreak>, ChainError> {
    if files.is_empty() {
        return Err(ChainError::NoFiles);
    }
    let mut state = State {
        key,
        expected: None,
        prev: None,
        since_checkpoint: 0,
        named_first: None,
        verified: Verified {
            files: 0,
            records: 0,
            checkpoints: 0,
            first_seq: 0,
            last_seq: 0,
            unsealed: 0,
            torn: Vec::new(),
            macs_checked: key.is_some(),
        },
    };
    for path in files {
        if let Err(kind_at) = state.file(path)? {
            let (line, kind) = kind_at;
            return Ok(Err(ChainBreak {
                file: path.clone(),
                line,
                kind,
                verified: state.verified.records,
            }));
        }
    }
    state.verified.unsealed = state.since_checkpoint;
    Ok(Ok(state.verified))
}

struct State<'k> {
    key: Option<&'k ChainKey>,
    /// The next sequence number, once one record was read.
    expected: Option<u64>,
    /// The last whole line's hash and its line number in the current file (0 when in the
    /// previous file).
    prev: Option<([u8; 32], u64)>,
    since_checkpoint: u64,
    /// The first sequence number the current file's name gives, when it has the writer's.
    named_first: Option<u64>,
    verified: Verified,
}

/// The first sequence number in a writer's file name (`audit-00000000000000000042.jsonl`).
fn first_seq_in_name(path: &Path) -> Option<u64> {
    let stem = path.file_name()?.to_str()?.strip_suffix(".jsonl")?;
    let (_, number) = stem.rsplit_once('-')?;
    if number.len() != 20 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse().ok()
}

impl State<'_> {
    /// Verifies one file; `Ok(Err((line, kind)))` at a break.
    fn file(&mut self, path: &Path) -> Result<Result<(), (u64, BreakKind)>, ChainError> {
        let file = File::open(path).map_err(ChainError::io(path))?;
        let mut reader = BufReader::with_capacity(1024 * 1024, file);
        let mut buffer = Vec::with_capacity(4096);
        let mut number = 0_u64;
        if let Some((hash, _)) = self.prev {
            self.prev = Some((hash, 0));
        }
        self.named_first = first_seq_in_name(path);
        self.verified.files += 1;
        loop {
            buffer.clear();
            let read = reader
                .read_until(b'\n', &mut buffer)
                .map_err(ChainError::io(path))?;
            if read == 0 {
                return Ok(Ok(()));
            }
            number += 1;
            let Some(line) = buffer.strip_suffix(b"\n") else {
                self.verified.torn.push(TornTail {
                    file: path.to_path_buf(),
                    line: number,
                });
                return Ok(Ok(()));
            };
            if let Err(kind) = self.line(line, number) {
                return Ok(Err((number, kind)));
            }
        }
    }

    fn line(&mut self, line: &[u8], number: u64) -> Result<(), BreakKind> {
        let (seq, prev, body) = line::read_head(line).ok_or(BreakKind::Unreadable)?;
        // The writer names each file after its first record: a file whose first records were
        // cut away no longer starts where its name says.
        if number == 1
            && let Some(named) = self.named_first
            && named != seq
        {
            return Err(BreakKind::Missing {
                expected: named,
                found: seq,
            });
        }
        match self.expected {
            None if seq == 1 && prev != GENESIS => return Err(BreakKind::StartForged),
            None => self.verified.first_seq = seq,
            Some(expected) if seq != expected => {
                return Err(match (number, seq > expected) {
                    (1, _) => BreakKind::FileMissing {
                        expected,
                        found: seq,
                    },
                    (_, true) => BreakKind::Missing {
                        expected,
                        found: seq,
                    },
                    (_, false) => BreakKind::OutOfOrder {
                        expected,
                        found: seq,
                    },
                });
            }
            Some(_) => {}
        }
        if let Some((hash, previous_line)) = self.prev
            && hash != prev
        {
            return Err(BreakKind::Changed { previous_line });
        }
        match line::read_checkpoint(body) {
            // The count is the writer's batch, for people reading the file: after a crash
            // the next batch also seals the records the crashed one left unsealed.
            Some(Ok((records, mac))) => {
                if let Some(key) = self.key
                    && !key.opens(seq, records, &prev, &mac)
                {
                    return Err(BreakKind::CheckpointForged);
                }
                self.verified.checkpoints += 1;
                self.since_checkpoint = 0;
            }
            Some(Err(())) => return Err(BreakKind::Unreadable),
            None if !line::is_event(body) => return Err(BreakKind::Unreadable),
            None => {
                self.verified.records += 1;
                self.since_checkpoint += 1;
            }
        }
        self.prev = Some((line::hash(line), number));
        self.expected = Some(seq.saturating_add(1));
        self.verified.last_seq = seq;
        Ok(())
    }
}
