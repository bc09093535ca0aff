//! Paired timing for benchmarks: ours and a peer measured in the same process, interleaved
//! round by round so that noise from a shared machine lands on both, and the result rows
//! `cargo xtask bench` prints as one table.

use std::fs::OpenOptions;
use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use serde_json::json;

/// The environment variable naming the directory `cargo xtask bench` collects results from.
pub const RESULTS_ENV: &str = "PALISADE_BENCH_RESULTS";

/// How long one timed batch runs; long enough that the clock's resolution does not matter.
const BATCH: Duration = Duration::from_millis(5);
/// How many batches each side gets; the median is reported.
const ROUNDS: usize = 41;

/// Iterations per batch so one batch of `op` takes about [`BATCH`].
fn calibrate(op: &mut dyn FnMut()) -> u64 {
    let mut iterations: u64 = 1;
    loop {
        let start = Instant::now();
        for _ in 0..iterations {
            op();
        }
        let elapsed = start.elapsed();
        if elapsed >= BATCH / 4 || iterations >= 1 << 30 {
            let per_op = elapsed.as_secs_f64() / iterations as f64;
            let wanted = (BATCH.as_secs_f64() / per_op.max(1e-12)).ceil();
            #[allow(
                clippy::cast_possible_truncation,
                reason = "wanted is clamped to 1..=1e9, which u64 holds exactly"
            )]
            return if wanted < 1.0 {
                1
            } else {
                wanted.min(1e9) as u64
            };
        }
        iterations *= 4;
    }
}

fn batch_ns(op: &mut dyn FnMut(), iterations: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..iterations {
        op();
    }
    start.elapsed().as_nanos() as f64 / iterations as f64
}

/// The middle of `samples` (the upper middle of an even count; NaN when empty).
#[must_use]
pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Nanoseconds per call of `ours` and of `peer`, each the median of 41 batches run
/// alternately (ours, peer, ours, ...). Wrap results in [`black_box`] inside the closures.
pub fn time_pair(mut ours: impl FnMut(), mut peer: impl FnMut()) -> (f64, f64) {
    let ours_n = calibrate(&mut ours);
    let peer_n = calibrate(&mut peer);
    let mut ours_samples = Vec::with_capacity(ROUNDS);
    let mut peer_samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        ours_samples.push(batch_ns(&mut ours, ours_n));
        peer_samples.push(batch_ns(&mut peer, peer_n));
    }
    (median(ours_samples), median(peer_samples))
}

/// Nanoseconds per call of `op`: the median of 41 batches, as [`time_pair`] times each side;
/// for comparisons with a peer that runs in another process.
pub fn time_ns(mut op: impl FnMut()) -> f64 {
    let iterations = calibrate(&mut op);
    median((0..ROUNDS).map(|_| batch_ns(&mut op, iterations)).collect())
}

/// Nanoseconds per call of `op` on inputs it consumes: inputs are made with `make` in chunks
/// of 32 (small enough to stay in cache, as a request's input is) and outputs dropped after
/// each chunk, both outside the timing; the median of 41 batches.
pub fn time_consuming<I, O>(mut make: impl FnMut() -> I, mut op: impl FnMut(I) -> O) -> f64 {
    const CHUNK: u64 = 32;
    let iterations = calibrate(&mut || {
        black_box(op(make()));
    })
    .div_ceil(CHUNK);
    let mut batch = || {
        let mut elapsed = Duration::ZERO;
        for _ in 0..iterations {
            let inputs: Vec<I> = (0..CHUNK).map(|_| make()).collect();
            let mut outputs = Vec::with_capacity(inputs.len());
            let start = Instant::now();
            for input in inputs {
                outputs.push(op(input));
            }
            elapsed += start.elapsed();
            black_box(outputs);
        }
        elapsed.as_nanos() as f64 / (iterations * CHUNK) as f64
    };
    median((0..ROUNDS).map(|_| batch()).collect())
}

/// Milliseconds per call of `ours` and of `peer` for slow operations (a password hash): the
/// median of `runs` single calls each, run alternately.
pub fn median_pair_ms(runs: usize, mut ours: impl FnMut(), mut peer: impl FnMut()) -> (f64, f64) {
    let mut ours_samples = Vec::with_capacity(runs);
    let mut peer_samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        ours_samples.push(call_ms(&mut ours));
        peer_samples.push(call_ms(&mut peer));
    }
    (median(ours_samples), median(peer_samples))
}

/// Milliseconds per call of `op`: the median of `runs` single calls.
pub fn median_ms(runs: usize, mut op: impl FnMut()) -> f64 {
    median((0..runs).map(|_| call_ms(&mut op)).collect())
}

fn call_ms(op: &mut dyn FnMut()) -> f64 {
    let start = Instant::now();
    op();
    start.elapsed().as_secs_f64() * 1e3
}

/// Nanoseconds per call of `op` on one thread alone, and per call on each of `threads` threads
/// running it at the same time (the mean over threads of each thread's median), interleaved
/// round by round. A ratio near 1 means the threads do not contend.
pub fn time_contended(threads: usize, op: impl Fn() + Sync) -> (f64, f64) {
    let mut single = || op();
    let iterations = calibrate(&mut single);
    let barrier = Barrier::new(threads);
    let mut alone = Vec::with_capacity(ROUNDS);
    let mut together = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        alone.push(batch_ns(&mut single, iterations));
        let per_thread: Vec<f64> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut op = || op();
                        barrier.wait();
                        batch_ns(&mut op, iterations)
                    })
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|handle| handle.join().ok())
                .collect()
        });
        together.push(per_thread.iter().sum::<f64>() / per_thread.len().max(1) as f64);
    }
    (median(alone), median(together))
}

/// The resident set size now, in KiB (Linux's `VmRSS`).
///
/// # Errors
/// When `/proc/self/status` cannot be read or has no such line.
pub fn rss_kib() -> std::io::Result<u64> {
    status_kib("VmRSS:")
}

/// The peak resident set size since the last [`reset_peak_rss`], in KiB (Linux's `VmHWM`).
///
/// # Errors
/// When `/proc/self/status` cannot be read or has no such line.
pub fn peak_rss_kib() -> std::io::Result<u64> {
    status_kib("VmHWM:")
}

/// Resets the peak resident set size to the current one.
///
/// # Errors
/// When `/proc/self/clear_refs` cannot be written.
pub fn reset_peak_rss() -> std::io::Result<()> {
    std::fs::write("/proc/self/clear_refs", "5")
}

fn status_kib(field: &str) -> std::io::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("/proc/self/status has no {field}")))
}

/// Prints a row's [`line`](Row::line) and [`record`](Row::record)s it.
///
/// # Panics
/// When the results file cannot be written: the benchmark fails loudly.
#[allow(
    clippy::print_stdout,
    clippy::panic,
    reason = "a benchmark reports on stdout and fails loudly"
)]
pub fn report(row: &Row) {
    println!("{}", row.line());
    if let Err(e) = row.record() {
        panic!("cannot record a benchmark result: {e}");
    }
}

/// Keeps a value alive and opaque to the optimiser (re-exported for benchmark closures).
pub fn keep<T>(value: T) -> T {
    black_box(value)
}

/// One benchmark result: our figure, the peer's from the same run, the target and whether it
/// was met.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The crate measured.
    pub krate: &'static str,
    /// What was measured.
    pub name: String,
    /// Our figure.
    pub figure: f64,
    /// Its unit (`ns/op`).
    pub unit: &'static str,
    /// What we compare against.
    pub peer: String,
    /// The peer's figure from the same run.
    pub peer_figure: Option<f64>,
    /// The target, in words (`< 1.0x peer and < 100 ns`).
    pub target: String,
    /// Whether the target was met.
    pub met: bool,
}

impl Row {
    /// One line for the bench's own output.
    #[must_use]
    pub fn line(&self) -> String {
        let ratio = self.peer_figure.map_or_else(
            || "-".to_owned(),
            |peer| format!("{:.3}", self.figure / peer),
        );
        format!(
            "{}: {} = {:.1} {} (peer {} = {}; ratio {ratio}; target {}; {})",
            self.krate,
            self.name,
            self.figure,
            self.unit,
            self.peer,
            self.peer_figure
                .map_or_else(|| "-".to_owned(), |peer| format!("{peer:.1} {}", self.unit)),
            self.target,
            if self.met { "met" } else { "NOT MET" }
        )
    }

    /// Appends the row to `$PALISADE_BENCH_RESULTS/<crate>.jsonl` when `cargo xtask bench`
    /// set that variable; does nothing otherwise.
    ///
    /// # Errors
    /// When the results file cannot be written.
    pub fn record(&self) -> std::io::Result<()> {
        let Some(dir) = std::env::var_os(RESULTS_ENV) else {
            return Ok(());
        };
        let path = PathBuf::from(dir).join(format!("{}.jsonl", self.krate));
        let row = json!({
            "crate": self.krate,
            "name": self.name,
            "figure": self.figure,
            "unit": self.unit,
            "peer": self.peer,
            "peer_figure": self.peer_figure,
            "target": self.target,
            "met": self.met,
        });
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        writeln!(file, "{row}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_readings_are_plausible() {
        let rss = rss_kib().unwrap_or(0);
        let peak = peak_rss_kib().unwrap_or(0);
        assert!(rss > 100, "{rss} KiB");
        assert!(peak >= rss, "{peak} < {rss}");
    }

    #[test]
    fn a_slower_operation_measures_slower() {
        let (fast, slow) = time_pair(
            || {
                keep(1 + keep(1));
            },
            || {
                keep((0..200).map(keep).sum::<u64>());
            },
        );
        assert!(slow > fast, "{slow} should exceed {fast}");
    }

    #[test]
    fn rows_print_their_ratio() {
        let row = Row {
            krate: "palisade-x",
            name: "op".into(),
            figure: 50.0,
            unit: "ns/op",
            peer: "peer".into(),
            peer_figure: Some(100.0),
            target: "< 1.0x".into(),
            met: true,
        };
        assert_eq!(
            row.line(),
            "palisade-x: op = 50.0 ns/op (peer peer = 100.0 ns/op; ratio 0.500; target < 1.0x; met)"
        );
    }
}
