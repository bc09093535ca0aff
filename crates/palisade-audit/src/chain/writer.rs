//! `ChainedLog`: the sink that appends every event to hash-chained JSON lines, seals each
//! batch with a keyed checkpoint and rotates files by size.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::line::{self, GENESIS};
use super::verify::{Anchor, Verifier};
use super::{ChainError, ChainKey, record};
use crate::{QueryEvent, SecurityEvent, Sink};

/// When a batch reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// Each batch is written and `fdatasync`ed before the next one starts: a power loss
    /// loses at most the batch being written. The default.
    #[default]
    EveryBatch,
    /// Each batch is written (`write`) but not synced: a crash of the process loses nothing
    /// written, a power loss may lose what the kernel had not written out.
    OsBuffered,
}

/// How a [`ChainedLog`] names, sizes and syncs its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainOptions {
    prefix: String,
    max_file_bytes: u64,
    max_batch_records: u64,
    durability: Durability,
}

impl Default for ChainOptions {
    fn default() -> Self {
        Self {
            prefix: "audit".to_owned(),
            max_file_bytes: Self::DEFAULT_MAX_FILE_BYTES,
            max_batch_records: Self::DEFAULT_MAX_BATCH_RECORDS,
            durability: Durability::EveryBatch,
        }
    }
}

impl ChainOptions {
    /// A file is closed and the next one opened once it holds this many bytes.
    pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
    /// A batch is sealed and written once it holds this many records, even if more are
    /// queued.
    pub const DEFAULT_MAX_BATCH_RECORDS: u64 = 4096;
    /// Records held in memory while the disk refuses writes, before new ones are dropped.
    const MAX_PENDING_BYTES: usize = 64 * 1024 * 1024;

    /// Files are named `<prefix>-<first sequence number, 20 digits>.jsonl` (default
    /// `audit`); only ASCII letters, digits, `-` and `_` are kept.
    #[must_use]
    pub fn prefix(mut self, prefix: &str) -> Self {
        let kept: String = prefix
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            .collect();
        if !kept.is_empty() {
            self.prefix = kept;
        }
        self
    }

    /// The size at which a file is rotated (at least 4 KiB).
    #[must_use]
    pub fn max_file_bytes(mut self, bytes: u64) -> Self {
        self.max_file_bytes = bytes.max(4096);
        self
    }

    /// The most records in one sealed batch (at least 1).
    #[must_use]
    pub fn max_batch_records(mut self, records: u64) -> Self {
        self.max_batch_records = records.max(1);
        self
    }

    /// When batches reach the disk.
    #[must_use]
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }
}

/// Counts a running [`ChainedLog`] keeps, readable from any thread.
#[derive(Debug, Default)]
pub struct ChainHealth {
    records: AtomicU64,
    sealed: std::sync::Mutex<Option<Anchor>>,
    write_failures: AtomicU64,
    dropped: AtomicU64,
}

impl ChainHealth {
    /// Event records written and sealed.
    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    /// The last checkpoint written (sequence number and line hash): publish it elsewhere
    /// (a metric, another store) and verify against it to detect a log cut back to an
    /// earlier checkpoint or rebuilt before it.
    pub fn sealed(&self) -> Option<Anchor> {
        *self
            .sealed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Batches the disk refused (each retried at the next batch, in a new file).
    pub fn write_failures(&self) -> u64 {
        self.write_failures.load(Ordering::Relaxed)
    }

    /// Events not chained because the disk refused writes for too long.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// A tamper-evident audit log, as a [`Sink`]: each event becomes one JSON line starting with
/// its sequence number and the SHA-256 of the line before it (`{"seq":7,"prev":"…",...}`);
/// each batch ends with a checkpoint line whose HMAC, under a [`ChainKey`], covers the chain
/// up to it. Files rotate by size and the first record of a file chains to the last of the
/// one before. Every run starts a new file, so an existing file is never written again, and
/// a torn last line left by a crash stays where verification expects one.
///
/// ```no_run
/// use palisade_audit::{Audit, ChainKey, ChainOptions, ChainedLog};
/// use palisade_secrets::SecretValue;
///
/// let key = ChainKey::new(&SecretValue::from_string("a key of at least thirty-two bytes!".into()))?;
/// let log = ChainedLog::open("/var/log/app/audit", key, ChainOptions::default())?;
/// let audit = Audit::builder().sink(log).build();
/// # Ok::<(), palisade_audit::ChainError>(())
/// ```
pub struct ChainedLog {
    dir: PathBuf,
    options: ChainOptions,
    key: ChainKey,
    file: Option<File>,
    file_bytes: u64,
    /// The next record's sequence number.
    seq: u64,
    /// The hash of the last record chained (written or pending).
    prev: [u8; 32],
    pending: Vec<u8>,
    pending_records: u64,
    scratch: Vec<u8>,
    health: Arc<ChainHealth>,
}

impl fmt::Debug for ChainedLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainedLog")
            .field("dir", &self.dir)
            .field("options", &self.options)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl ChainedLog {
    /// Opens the log in `dir` (created if missing), continuing its chain in a new file.
    ///
    /// The newest files (back to the last checkpoint) are verified under `key` first. When
    /// the last run did not end with a checkpoint (a crash, or records rewritten since), the
    /// new file opens with a resume record naming the last checkpoint and the records after
    /// it, so verification keeps reporting them as never sealed by the run that wrote them.
    ///
    /// # Errors
    /// [`ChainError::Io`] when the directory or a file cannot be read or created;
    /// [`ChainError::ExistingLogBroken`] when the newest files do not verify.
    pub fn open(
        dir: impl AsRef<Path>,
        key: ChainKey,
        options: ChainOptions,
    ) -> Result<Self, ChainError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(ChainError::io(&dir))?;
        let recovered = recover(&dir, &options.prefix, &key)?;
        let (seq, prev) = (recovered.next_seq, recovered.prev);
        let mut log = Self {
            dir,
            options,
            key,
            file: None,
            file_bytes: 0,
            seq,
            prev,
            pending: Vec::with_capacity(64 * 1024),
            pending_records: 0,
            scratch: Vec::with_capacity(1024),
            health: Arc::new(ChainHealth::default()),
        };
        log.start_file(seq)?;
        if let Some((sealed_seq, unsealed, torn)) = recovered.resume {
            log.append(|out, _| line::write_resume(out, sealed_seq, unsealed, torn.as_ref()));
            log.write_batch();
        }
        Ok(log)
    }

    /// Its counts, shared with whoever holds the returned handle.
    #[must_use]
    pub fn health(&self) -> Arc<ChainHealth> {
        Arc::clone(&self.health)
    }

    /// Where its files are.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file_path(&self, first_seq: u64) -> PathBuf {
        self.dir
            .join(format!("{}-{first_seq:020}.jsonl", self.options.prefix))
    }

    /// Opens the file whose first record is `first_seq`.
    fn start_file(&mut self, first_seq: u64) -> Result<(), ChainError> {
        let path = self.file_path(first_seq);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(ChainError::io(&path))?;
        let existing = file.metadata().map_err(ChainError::io(&path))?.len();
        if existing > 0 {
            return Err(ChainError::Io {
                path,
                source: io::Error::new(io::ErrorKind::AlreadyExists, "the next file is not empty"),
            });
        }
        if let Some(old) = self.file.take() {
            // The old file's last batch was synced (or its failure counted) before rotation.
            drop(old);
        }
        self.file = Some(file);
        self.file_bytes = 0;
        Ok(())
    }

    /// Chains one record whose body `write_body` appends.
    fn append(&mut self, write_body: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>)) {
        if self.pending.len() >= ChainOptions::MAX_PENDING_BYTES {
            self.health.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let start = self.pending.len();
        line::write_head(&mut self.pending, self.seq, &self.prev);
        write_body(&mut self.pending, &mut self.scratch);
        let end = self.pending.len().saturating_sub(1);
        self.prev = line::hash(self.pending.get(start..end).unwrap_or_default());
        self.seq = self.seq.saturating_add(1);
        self.pending_records += 1;
        if self.pending_records >= self.options.max_batch_records {
            self.write_batch();
        }
    }

    /// Seals the pending records with a checkpoint and writes them out.
    fn write_batch(&mut self) {
        if self.pending_records > 0 {
            let start = self.pending.len();
            line::write_head(&mut self.pending, self.seq, &self.prev);
            let mac = self.key.seal(self.seq, self.pending_records, &self.prev);
            line::write_checkpoint(&mut self.pending, self.pending_records, &mac);
            let end = self.pending.len().saturating_sub(1);
            self.prev = line::hash(self.pending.get(start..end).unwrap_or_default());
            self.seq = self.seq.saturating_add(1);
            self.health
                .records
                .fetch_add(self.pending_records, Ordering::Relaxed);
            self.pending_records = 0;
        }
        if self.pending.is_empty() {
            return;
        }
        match self.write_pending() {
            Ok(()) => {
                let sealed = Anchor::new(self.seq.saturating_sub(1), self.prev);
                *self
                    .health
                    .sealed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(sealed);
                if self.file_bytes >= self.options.max_file_bytes {
                    // A failure here is retried by the next batch's write.
                    let _ = self.start_file(self.seq);
                }
            }
            Err(failure) => {
                self.health.write_failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    target: "palisade::audit::chain",
                    io_error = %failure.kind(),
                    "writing the audit log failed; the batch is kept and retried in a new file"
                );
                self.file = None;
            }
        }
    }

    /// Writes `pending` to the current file (a new one if the last write failed); on failure
    /// keeps what was not written whole, so the next file starts at a line boundary.
    fn write_pending(&mut self) -> io::Result<()> {
        if self.file.is_none() {
            // The new file is named after its first record: the first one not yet written.
            let first = line::read_head(&self.pending).map_or(self.seq, |(seq, _, _)| seq);
            self.start_file(first).map_err(|e| match e {
                ChainError::Io { source, .. } => source,
                other => io::Error::other(other.to_string()),
            })?;
        }
        let Some(file) = self.file.as_mut() else {
            return Err(io::Error::other("no audit file is open"));
        };
        let mut written = 0;
        let result = loop {
            match self.pending.get(written..) {
                Some([]) | None => break Ok(()),
                Some(rest) => match file.write(rest) {
                    Ok(0) => break Err(io::Error::from(io::ErrorKind::WriteZero)),
                    Ok(n) => written += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                },
            }
        };
        let synced = result.and_then(|()| match self.options.durability {
            Durability::EveryBatch => file.sync_data(),
            Durability::OsBuffered => Ok(()),
        });
        self.file_bytes = self.file_bytes.saturating_add(written as u64);
        match synced {
            Ok(()) => {
                self.pending.clear();
                Ok(())
            }
            Err(error) => {
                // Lines written whole stay in the old file; a partly written one is its torn
                // tail and is written again, whole, in the next.
                let whole = self
                    .pending
                    .get(..written)
                    .and_then(|w| w.iter().rposition(|b| *b == b'\n'))
                    .map_or(0, |at| at + 1);
                self.pending.drain(..whole);
                Err(error)
            }
        }
    }
}

impl Sink for ChainedLog {
    fn on_query(&mut self, event: &QueryEvent) {
        self.append(|out, scratch| record::write_query(out, scratch, event));
    }

    fn on_security(&mut self, event: &SecurityEvent) {
        self.append(|out, scratch| record::write_security(out, scratch, event));
    }

    fn flush(&mut self) {
        self.write_batch();
    }
}

impl Drop for ChainedLog {
    fn drop(&mut self) {
        self.write_batch();
    }
}

/// Where the log in `dir` ends, for a writer continuing it.
struct Recovered {
    next_seq: u64,
    prev: [u8; 32],
    /// The last checkpoint's number, the records after it and the hash of a torn part of a
    /// line, when the last run did not end with a checkpoint.
    resume: Option<(u64, u64, Option<[u8; 32]>)>,
}

/// Verifies the newest files of the log (back to the one holding its last checkpoint) and
/// says where it ends.
fn recover(dir: &Path, prefix: &str, key: &ChainKey) -> Result<Recovered, ChainError> {
    let files = log_files(dir, prefix)?;
    if files.is_empty() {
        return Ok(Recovered {
            next_seq: 1,
            prev: GENESIS,
            resume: None,
        });
    }
    let mut from = files.len().saturating_sub(1);
    loop {
        let newest = files.get(from..).unwrap_or_default();
        let (verified, tail) = match super::verify::State::new(Verifier::new().key(key).partial())
            .run_to_tail(newest)?
        {
            Ok(found) => found,
            Err(broken) => return Err(ChainError::ExistingLogBroken(Box::new(broken))),
        };
        if verified.checkpoints == 0 && from > 0 {
            from -= 1;
            continue;
        }
        let next_seq = match tail.last_hash {
            Some(_) => verified.last_seq.saturating_add(1),
            None => 1,
        };
        return Ok(Recovered {
            next_seq,
            prev: tail.last_hash.unwrap_or(GENESIS),
            resume: (!tail.ends_sealed && (tail.last_hash.is_some() || tail.torn_hash.is_some()))
                .then_some((tail.sealed_seq, verified.unsealed, tail.torn_hash)),
        });
    }
}

/// The files of the chained log named `prefix` in `dir` (`<prefix>-<20 digits>.jsonl`), in
/// chain order, to give to [`verify_files`](super::verify_files).
///
/// # Errors
/// [`ChainError::Io`] when the directory cannot be read.
pub fn log_files(dir: &Path, prefix: &str) -> Result<Vec<PathBuf>, ChainError> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(ChainError::io(dir))? {
        let entry = entry.map_err(ChainError::io(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(number) = name
            .strip_prefix(prefix)
            .and_then(|n| n.strip_prefix('-'))
            .and_then(|n| n.strip_suffix(".jsonl"))
        else {
            continue;
        };
        if number.len() == 20 && number.bytes().all(|b| b.is_ascii_digit()) {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}
