//! `palisade ratelimit explain SPEC`: what a rate limit spec means, or where it is wrong.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use palisade_ratelimit::Spec;
use serde_json::json;

use crate::exit;
use crate::output::{self, Format};

/// Rate limits.
#[derive(Debug, Subcommand)]
pub(crate) enum RatelimitCommand {
    /// Print each limit of SPEC (`5/minute; 100 per hour`) with its burst and refill, or the
    /// parse error pointing at the bad part (exit 2).
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The spec, as slowapi and Python's `limits` write it.
    spec: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(crate) fn run(command: RatelimitCommand) -> ExitCode {
    match command {
        RatelimitCommand::Explain(args) => explain(&args),
    }
}

fn explain(args: &ExplainArgs) -> ExitCode {
    let spec = match args.spec.parse::<Spec>() {
        Ok(spec) => spec,
        Err(err) => {
            output::error(&err);
            // Under the spec on the line above, which follows "palisade: " and two spaces.
            let caret = format!(
                "  {}\n            {}{}",
                args.spec,
                " ".repeat(
                    args.spec
                        .get(..err.span().start)
                        .map_or(0, |s| s.chars().count())
                ),
                "^".repeat(
                    args.spec
                        .get(err.span())
                        .map_or(1, |s| s.chars().count().max(1))
                )
            );
            return output::input_error(&caret);
        }
    };
    let mut text = vec![format!("spec: {spec}")];
    let mut limits = Vec::new();
    for limit in spec.limits() {
        let refill = limit.refill_interval();
        text.push(format!(
            "{limit}: burst {}, then 1 more every {refill:?} (window {}s)",
            limit.count(),
            limit.period().as_secs()
        ));
        limits.push(json!({
            "limit": limit.to_string(),
            "burst": limit.count().get(),
            "period_seconds": limit.period().as_secs(),
            "refill_interval_seconds": refill.as_secs_f64(),
        }));
    }
    let report = json!({"kind": "ratelimit", "spec": spec.to_string(), "limits": limits});
    output::reported(args.format, &text, &report, exit::OK)
}
