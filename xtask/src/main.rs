//! `cargo xtask`: Palisade's project automation (matklad's cargo-xtask pattern).
#![forbid(unsafe_code)]
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "xtask reports to the terminal"
)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::{bench, ci, deny, fuzz, load, project::Project, services, tidy};

/// Palisade's project automation.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The whole CI job: fmt, tidy, clippy, rustdoc, services, tests, deny, fuzz build.
    Ci,
    /// Start, stop or inspect the test services (PostgreSQL, MariaDB, Redis, SecantusDB, moto).
    Services {
        #[command(subcommand)]
        action: ServicesAction,
    },
    /// Run every crate's benchmarks and print figure, peer figure, ratio and target.
    Bench {
        /// Run only the benchmarks of this crate.
        #[arg(long)]
        package: Option<String>,
        /// Write the figures into BENCHMARKS.md (the sections of the crates that ran).
        #[arg(long)]
        write: bool,
        /// Run nothing: print (and with --write, write) what the last run left in
        /// target/bench-results, such as a run whose last step failed after the rest.
        #[arg(long)]
        reuse: bool,
    },
    /// crud-api under load (wrk, 200 connections) with faults injected; figures as `bench`.
    Load {
        /// How long the steady mixed run lasts, in seconds.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// How many connections wrk keeps open in the steady run.
        #[arg(long, default_value_t = 200)]
        connections: u32,
        /// Write the figures into BENCHMARKS.md (crud-api's section).
        #[arg(long)]
        write: bool,
    },
    /// cargo-deny: advisories (offline, from the shared snapshot), licenses, bans, sources.
    Deny,
    /// Build and run cargo-fuzz targets.
    Fuzz {
        /// The target to run; every target when omitted.
        #[arg(conflicts_with = "all")]
        target: Option<String>,
        /// Run every target in turn (as when no target is named).
        #[arg(long)]
        all: bool,
        /// How long to run each target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Only build the targets.
        #[arg(long)]
        build_only: bool,
    },
    /// Check the house rules a machine can check.
    Tidy,
}

#[derive(Debug, Subcommand)]
enum ServicesAction {
    /// Install what is missing and start every service (idempotent).
    Up,
    /// Stop the services this project started (by PID file).
    Down,
    /// Show each service's state and URL.
    Status,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = Project::locate().and_then(|project| match cli.command {
        Command::Ci => ci::run(&project),
        Command::Services {
            action: ServicesAction::Up,
        } => services::up(&project),
        Command::Services {
            action: ServicesAction::Down,
        } => services::down(&project),
        Command::Services {
            action: ServicesAction::Status,
        } => services::status(&project),
        Command::Bench {
            package,
            write,
            reuse,
        } => bench::run(&project, package.as_deref(), write, reuse),
        Command::Load {
            seconds,
            connections,
            write,
        } => load::run(&project, seconds, connections, write),
        Command::Deny => deny::run(&project),
        Command::Fuzz {
            target,
            all: _,
            seconds,
            build_only,
        } => {
            if build_only {
                fuzz::build(&project)
            } else {
                fuzz::run(&project, target.as_deref(), seconds)
            }
        }
        Command::Tidy => tidy::run(&project),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
