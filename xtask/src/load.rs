//! `cargo xtask load`: crud-api under wrk, with faults (its `load` benchmark): wrk installed
//! and the services started first, the figures printed and, with `--write`, put in
//! `BENCHMARKS.md` as crud-api's section.

use std::fs;

use anyhow::Result;
use xshell::cmd;

use crate::project::Project;

/// Runs the load benchmark: `seconds` of mixed traffic from `connections` connections, then
/// the overhead comparison and the faults.
///
/// # Errors
/// When the services cannot start, or the run fails or misses a target.
pub fn run(project: &Project, seconds: u64, connections: u32, write: bool) -> Result<()> {
    crate::services::up(project)?;
    let results = project.target().join("bench-results");
    let _ = fs::remove_dir_all(&results);
    fs::create_dir_all(&results)?;
    let sh = project.shell()?;
    cmd!(
        sh,
        "cargo bench --locked --all-features --package crud-api --bench load"
    )
    .env("PALISADE_BENCH_RESULTS", &results)
    .env("LOAD_SECONDS", seconds.to_string())
    .env("LOAD_CONNECTIONS", connections.to_string())
    .run()?;
    crate::bench::run(project, Some("crud-api"), write, true)
}
