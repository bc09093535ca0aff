//! Running wrk with the mix script and reading its one result line.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde::Deserialize;

/// What one wrk run measured.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Outcome {
    pub(crate) requests: u64,
    pub(crate) micros: u64,
    pub(crate) p50_us: u64,
    pub(crate) p90_us: u64,
    pub(crate) p99_us: u64,
    pub(crate) socket_errors: u64,
    pub(crate) statuses: BTreeMap<u16, u64>,
}

impl Outcome {
    pub(crate) fn per_second(&self) -> f64 {
        self.requests as f64 / (self.micros as f64 / 1e6)
    }

    /// Several runs as one: their requests, time and statuses summed, each percentile the
    /// median of the runs' (an odd number of equally long runs keeps it one run's figure).
    pub(crate) fn merged(runs: &[Self]) -> Self {
        let median = |pick: fn(&Self) -> u64| {
            let mut figures: Vec<u64> = runs.iter().map(pick).collect();
            figures.sort_unstable();
            figures.get(figures.len() / 2).copied().unwrap_or(0)
        };
        let mut statuses = BTreeMap::new();
        for run in runs {
            for (status, count) in &run.statuses {
                *statuses.entry(*status).or_default() += count;
            }
        }
        Self {
            requests: runs.iter().map(|r| r.requests).sum(),
            micros: runs.iter().map(|r| r.micros).sum(),
            p50_us: median(|r| r.p50_us),
            p90_us: median(|r| r.p90_us),
            p99_us: median(|r| r.p99_us),
            socket_errors: runs.iter().map(|r| r.socket_errors).sum(),
            statuses,
        }
    }

    /// The statuses outside `allowed`, with their counts.
    pub(crate) fn unexpected(&self, allowed: &[u16]) -> Vec<(u16, u64)> {
        self.statuses
            .iter()
            .filter(|(status, _)| !allowed.contains(status))
            .map(|(status, count)| (*status, *count))
            .collect()
    }
}

/// One run: `threads` threads, `connections` connections, `seconds` long, against `base`
/// (`http://127.0.0.1:PORT`), the users in `data`, the `mix` of the script.
pub(crate) fn run(
    base: &str,
    data: &Path,
    mix: &str,
    threads: u32,
    connections: u32,
    seconds: u32,
) -> Outcome {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/load/mix.lua");
    let output = Command::new("wrk")
        .args([
            "-t",
            &threads.to_string(),
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
            "--timeout",
            "15s",
            "-s",
        ])
        .arg(&script)
        .arg(base)
        .env("LOAD_DATA", data)
        .env("LOAD_MIX", mix)
        .output()
        .unwrap_or_else(|e| panic!("wrk did not run ({e}): `cargo xtask load` installs it"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("LOAD_RESULT "))
        .unwrap_or_else(|| {
            panic!(
                "no result from wrk: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    serde_json::from_str(line).unwrap()
}
