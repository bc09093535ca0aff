//! The verifier's walk over the lines of a log, file by file.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::reader::{Line, next_line};
use super::{Anchor, BreakKind, ChainBreak, Resumed, TornTail, Verified, Verifier};
use crate::chain::ChainError;
use crate::chain::line::{self, Body, GENESIS};

/// Where a verified log ends: what a writer continuing it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tail {
    /// The hash of the last whole record, if any.
    pub(crate) last_hash: Option<[u8; 32]>,
    /// The sequence number of the last checkpoint, 0 when none was read.
    pub(crate) sealed_seq: u64,
    /// Whether the log ends with a checkpoint and a newline (a clean end).
    pub(crate) ends_sealed: bool,
    /// The SHA-256 of the part of a line the log ends with, if it does.
    pub(crate) torn_hash: Option<[u8; 32]>,
}

/// A torn line at the end of the previous file, and whether it was a whole record.
enum Torn {
    /// Part of a record: the next file must open with a resume record or with the whole
    /// record this is the start of.
    Partial(Vec<u8>),
    /// A whole record without its newline (verified and counted): the next file may repeat it.
    Whole(Vec<u8>),
}

pub(crate) struct State<'k> {
    options: Verifier<'k>,
    expected: Option<u64>,
    /// The last whole line's hash and its line number (0: in the previous file).
    prev: Option<([u8; 32], u64)>,
    /// The last checkpoint's sequence number.
    last_checkpoint: Option<u64>,
    /// Records since the last checkpoint (a resume record starts a new count).
    since_checkpoint: u64,
    /// Whether checkpoint counts must match exactly (false only for the first batch of a
    /// partial verification, which may have lost its start).
    strict_count: bool,
    torn: Option<Torn>,
    named_first: Option<u64>,
    /// The file being read.
    current: PathBuf,
    /// The last line read in it.
    last_line: u64,
    anchor_seen: bool,
    ends_sealed: bool,
    verified: Verified,
}

impl<'k> State<'k> {
    pub(crate) fn new(options: Verifier<'k>) -> Self {
        Self {
            options,
            expected: None,
            prev: None,
            last_checkpoint: None,
            since_checkpoint: 0,
            strict_count: !options.partial,
            torn: None,
            named_first: None,
            current: PathBuf::new(),
            last_line: 0,
            anchor_seen: false,
            ends_sealed: false,
            verified: Verified {
                files: 0,
                records: 0,
                checkpoints: 0,
                first_seq: 0,
                last_seq: 0,
                unsealed: 0,
                sealed: None,
                torn: Vec::new(),
                resumed: Vec::new(),
                macs_checked: options.key.is_some(),
            },
        }
    }

    pub(super) fn run(self, files: &[PathBuf]) -> Result<Result<Verified, ChainBreak>, ChainError> {
        Ok(self.run_to_tail(files)?.map(|(verified, _)| verified))
    }

    /// Verifies `files` and says where the log ends.
    pub(crate) fn run_to_tail(
        mut self,
        files: &[PathBuf],
    ) -> Result<Result<(Verified, Tail), ChainBreak>, ChainError> {
        let mut last = None;
        for path in files {
            if let Err((line, kind)) = self.file(path)? {
                return Ok(Err(self.broken(path, line, kind)));
            }
            last = Some(path);
        }
        if self.options.anchor.is_some() && !self.anchor_seen {
            let path = last.cloned().unwrap_or_default();
            let line = self.last_line;
            return Ok(Err(self.broken(&path, line, BreakKind::AnchorMissing)));
        }
        self.verified.unsealed = self.since_checkpoint;
        let tail = Tail {
            last_hash: self.prev.map(|(hash, _)| hash),
            sealed_seq: self.last_checkpoint.unwrap_or(0),
            ends_sealed: self.ends_sealed && self.torn.is_none(),
            torn_hash: self.partial_hash(),
        };
        Ok(Ok((self.verified, tail)))
    }

    fn broken(&self, path: &Path, line: u64, kind: BreakKind) -> ChainBreak {
        ChainBreak {
            file: path.to_path_buf(),
            line,
            kind,
            verified: self.verified.records,
        }
    }

    /// Verifies one file; `Ok(Err((line, kind)))` at a break.
    fn file(&mut self, path: &Path) -> Result<Result<(), (u64, BreakKind)>, ChainError> {
        let metadata = std::fs::metadata(path).map_err(ChainError::io(path))?;
        if !metadata.is_file() {
            return Ok(Err((1, BreakKind::NotAFile)));
        }
        let file = File::open(path).map_err(ChainError::io(path))?;
        let mut reader = BufReader::with_capacity(1024 * 1024, file);
        let mut buffer = Vec::with_capacity(4096);
        let mut number = 0_u64;
        if let Some((hash, _)) = self.prev {
            self.prev = Some((hash, 0));
        }
        self.named_first = match first_seq_in_name(path) {
            Some(Ok(first)) => Some(first),
            Some(Err(())) => return Ok(Err((1, BreakKind::NameInvalid))),
            None => None,
        };
        self.current = path.to_path_buf();
        self.verified.files += 1;
        loop {
            let read = next_line(&mut reader, &mut buffer).map_err(ChainError::io(path))?;
            number += 1;
            let outcome = match read {
                Line::End => return Ok(Ok(())),
                Line::TooLong => Err(BreakKind::LineTooLong),
                Line::Whole if number == 1 && self.torn.is_some() => self.after_torn(&buffer, true),
                Line::Whole => self.line(&buffer, number),
                Line::Torn => {
                    let outcome = if number == 1 && self.torn.is_some() {
                        self.after_torn(&buffer, false)
                    } else {
                        self.torn_line(&buffer, number)
                    };
                    if outcome.is_ok() {
                        self.verified.torn.push(TornTail {
                            file: path.to_path_buf(),
                            line: number,
                        });
                    }
                    outcome
                }
            };
            if let Err(kind) = outcome {
                return Ok(Err((number, kind)));
            }
            self.last_line = number;
        }
    }

    /// The hash of a pending part of a line (what a resume record must name).
    fn partial_hash(&self) -> Option<[u8; 32]> {
        match &self.torn {
            Some(Torn::Partial(bytes)) => Some(line::hash(bytes)),
            _ => None,
        }
    }

    /// The first line of a file after a file that ended torn (`whole`: with its newline).
    /// Only the writer's two ways of going on are accepted: a retried write (the same line
    /// again, whole or torn again) or a restart (a resume record naming the torn part's hash).
    fn after_torn(&mut self, bytes: &[u8], whole: bool) -> Result<(), BreakKind> {
        let resume = line::read_head(bytes)
            .and_then(|(_, _, body)| line::read_body(body))
            .is_some_and(|body| matches!(body, Body::Resume { .. }));
        match &self.torn {
            // A retried write repeats the whole record it cut short; that record was counted.
            Some(Torn::Whole(torn)) if whole && torn == bytes => {
                self.torn = None;
                self.prev = Some((line::hash(bytes), 1));
                Ok(())
            }
            Some(Torn::Partial(torn)) if !resume && bytes.starts_with(torn) => {
                self.torn = None;
                if whole {
                    self.line(bytes, 1)
                } else {
                    self.torn_line(bytes, 1)
                }
            }
            // The resume record checks the torn part's hash, then the part is settled.
            _ if whole && resume => {
                self.line(bytes, 1)?;
                self.torn = None;
                Ok(())
            }
            // A restart torn itself: the resume of the next restart names this part.
            _ if !whole
                && line::read_head(bytes)
                    .is_some_and(|(_, _, body)| body.starts_with(b"\"type\":\"resume\"")) =>
            {
                self.torn = None;
                self.torn_line(bytes, 1)
            }
            _ => Err(BreakKind::TornInside),
        }
    }

    /// Bytes without a newline at the end of a file: a whole record (verified and counted),
    /// or part of one whose head, when complete, must fit the chain. A part of a line is
    /// never a whole JSON value (the writer's line is one object), so nothing that reads as
    /// an event is accepted unverified.
    fn torn_line(&mut self, bytes: &[u8], number: u64) -> Result<(), BreakKind> {
        let head = line::read_head(bytes);
        match self.line(bytes, number) {
            Ok(()) => {
                self.torn = Some(Torn::Whole(bytes.to_vec()));
                self.ends_sealed = false;
                return Ok(());
            }
            // A whole record (a checkpoint whose newline was cut, say) is checked as one.
            Err(kind) if head.is_some_and(|(_, _, body)| line::read_body(body).is_some()) => {
                return Err(kind);
            }
            Err(_) => {}
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() {
            return Err(BreakKind::Unreadable);
        }
        if let Some((seq, prev, _)) = head {
            self.check_position(seq, prev, number)?;
        }
        self.torn = Some(Torn::Partial(bytes.to_vec()));
        self.ends_sealed = false;
        Ok(())
    }

    /// Whether a record numbered `seq` chaining from `prev` belongs at line `number`.
    fn check_position(&self, seq: u64, prev: [u8; 32], number: u64) -> Result<(), BreakKind> {
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
            None if seq != 1 && !self.options.partial => {
                return Err(BreakKind::StartMissing { found: seq });
            }
            None => {}
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
        match self.prev {
            Some((hash, previous_line)) if hash != prev => {
                Err(BreakKind::Changed { previous_line })
            }
            _ => Ok(()),
        }
    }

    /// Checks one whole line and, only when it holds, records it.
    fn line(&mut self, line: &[u8], number: u64) -> Result<(), BreakKind> {
        let (seq, prev, body) = line::read_head(line).ok_or(BreakKind::Unreadable)?;
        self.check_position(seq, prev, number)?;
        let body = line::read_body(body).ok_or(BreakKind::Unreadable)?;
        match body {
            Body::Checkpoint { records, mac } => {
                if let Some(key) = self.options.key
                    && !key.opens(seq, records, &prev, &mac)
                {
                    return Err(BreakKind::CheckpointForged);
                }
                let counted = if self.strict_count {
                    records == self.since_checkpoint
                } else {
                    records >= self.since_checkpoint
                };
                if !counted {
                    return Err(BreakKind::CheckpointMiscounted);
                }
            }
            Body::Resume {
                sealed_seq,
                unsealed,
                torn,
            } => {
                let described = sealed_seq == self.last_checkpoint.unwrap_or(0)
                    && unsealed == self.since_checkpoint
                    && torn == self.partial_hash();
                if number != 1 || (self.strict_count && !described) {
                    return Err(BreakKind::ResumeMismatch);
                }
            }
            Body::Event => {}
        }
        let hash = line::hash(line);
        if let Some(anchor) = self.options.anchor
            && anchor.seq == seq
        {
            if anchor.hash != hash || !matches!(body, Body::Checkpoint { .. }) {
                return Err(BreakKind::AnchorMismatch);
            }
            self.anchor_seen = true;
        }
        // Every check passed: record the line.
        match body {
            Body::Checkpoint { .. } => {
                self.verified.checkpoints += 1;
                self.verified.sealed = Some(Anchor::new(seq, hash));
                self.since_checkpoint = 0;
                self.last_checkpoint = Some(seq);
                self.strict_count = true;
            }
            Body::Resume { unsealed, .. } => {
                if unsealed > 0 {
                    self.verified.resumed.push(Resumed {
                        file: self.current.clone(),
                        unsealed,
                    });
                }
                self.since_checkpoint = 1;
                self.strict_count = true;
            }
            Body::Event => {
                self.verified.records += 1;
                self.since_checkpoint += 1;
            }
        }
        self.ends_sealed = matches!(body, Body::Checkpoint { .. });
        if self.expected.is_none() {
            self.verified.first_seq = seq;
        }
        self.prev = Some((hash, number));
        self.expected = Some(seq.saturating_add(1));
        self.verified.last_seq = seq;
        Ok(())
    }
}

/// The first sequence number in a writer's file name (`audit-00000000000000000042.jsonl`);
/// `Some(Err(()))` for a writer's name no sequence number fits (past `u64::MAX`).
fn first_seq_in_name(path: &Path) -> Option<Result<u64, ()>> {
    let stem = path.file_name()?.to_str()?.strip_suffix(".jsonl")?;
    let (_, number) = stem.rsplit_once('-')?;
    if number.len() != 20 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(number.parse().map_err(|_| ()))
}
