//! The `tokenaudit` command: parses flags, calls the library crates, prints,
//! and sets the exit code (0 success, 1 findings at or above `--fail-on`,
//! 2 error). Only this crate writes to
//! stdout and stderr.

mod alloc;
mod audit;
#[cfg(feature = "cluster")]
mod cluster;
mod config;
mod findings;
mod formats;
mod ingest;
mod output;
mod prices;
mod review;
mod rules;
mod store;
mod whatif;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Audit what your company spends on LLM APIs, from the call logs it already exports.
///
/// tokenaudit reads JSON lines (plain, .gz, .zst), JSON, CSV and Parquet call logs, prices
/// every call exactly from a versioned price catalog shipped in the binary,
/// attributes the spend by feature, model, provider, route, team, user,
/// session, day and tag, finds waste (`tokenaudit rules`) and estimates what
/// fixing it would save, compounded so savings are never counted twice.
///
/// Start with (your exported call logs in logs/; `tokenaudit formats` lists
/// what is read; the source repository's sample-logs/ is a month to try):
///   tokenaudit audit logs/ --out reports/
///   tokenaudit rules
///   tokenaudit whatif logs/ --route support-chat=gpt-4.1-nano
#[derive(Debug, Parser)]
#[command(
    name = "tokenaudit",
    version,
    about,
    long_about,
    propagate_version = true,
    verbatim_doc_comment
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read call logs, price every call, and write the cost report.
    Audit(audit::AuditArgs),
    /// Review one calendar month: the audit of that month with its changes
    /// against the month before.
    Review(review::ReviewArgs),
    /// Inspect the price catalog, or import LiteLLM's or genai-prices' catalogs.
    #[command(subcommand)]
    Prices(prices::PricesCommand),
    /// List the log formats tokenaudit reads and print an example mapping file.
    Formats,
    /// Write the findings as ticket records (JSON lines, GitHub issues, CSV),
    /// marked against a previous run; exit 1 on --fail-on.
    Findings(findings::FindingsArgs),
    /// List the waste detectors, or explain one: `tokenaudit rules TA109`.
    Rules(rules::RulesArgs),
    /// Re-price the logged traffic under changes (routing, caching, batch,
    /// output caps) and compare the bill with self-hosting.
    Whatif(whatif::WhatifArgs),
    /// Add what is new in the logs to a store (a day-partitioned Parquet
    /// dataset) that `audit`, `review`, `findings` and `whatif` read with
    /// `--store`.
    Ingest(ingest::IngestArgs),
    /// Check a store, merge its small parts, or drop old days.
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Run a Ballista scheduler or executor that knows tokenaudit's
    /// functions, for `--engine df://HOST:PORT` (docs/cluster.md).
    #[cfg(feature = "cluster")]
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Ad-hoc SQL over a store's calls (and its findings ledger), on
    /// DataFusion or a Ballista cluster.
    #[cfg(feature = "cluster")]
    Sql(cluster::SqlArgs),
    /// Needs a build with the `cluster` feature (DataFusion and Ballista):
    /// `cargo build --release --features cluster`; docs/cluster.md.
    #[cfg(not(feature = "cluster"))]
    #[command(hide = true, disable_help_flag = true)]
    Cluster {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        rest: Vec<String>,
    },
    /// Needs a build with the `cluster` feature (DataFusion and Ballista):
    /// `cargo build --release --features cluster`; docs/cluster.md.
    #[cfg(not(feature = "cluster"))]
    #[command(hide = true, disable_help_flag = true)]
    Sql {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        rest: Vec<String>,
    },
}

/// The command line, with the options a command shares but refuses hidden
/// from its help (hunt112: `whatif --help` listed `--no-findings` and
/// `--include-prompts`, which it refuses; `findings --help`
/// `--no-findings`).
fn command() -> clap::Command {
    let hide = |names: &'static [&'static str]| {
        move |mut c: clap::Command| {
            for &name in names {
                c = c.mut_arg(name, |a| a.hide(true));
            }
            c
        }
    };
    Cli::command()
        .mut_subcommand("whatif", hide(&["no_findings", "include_prompts"]))
        .mut_subcommand("findings", hide(&["no_findings"]))
}

fn main() -> ExitCode {
    quiet_caught_panics();
    let cli = Cli::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit());
    #[cfg(feature = "cluster")]
    let serving = matches!(cli.command, Command::Cluster(_));
    #[cfg(not(feature = "cluster"))]
    let serving = false;
    if !serving {
        alloc::tune();
    }
    let result = match cli.command {
        Command::Audit(args) => audit::run(args),
        Command::Review(args) => review::run(args),
        Command::Prices(cmd) => prices::run(cmd).map(|_| ExitCode::SUCCESS),
        Command::Formats => formats::run().map(|_| ExitCode::SUCCESS),
        Command::Findings(args) => findings::run(args),
        Command::Rules(args) => rules::run(args).map(|_| ExitCode::SUCCESS),
        Command::Whatif(args) => whatif::run(args),
        Command::Ingest(args) => ingest::run(args),
        Command::Store(cmd) => store::run(cmd),
        #[cfg(feature = "cluster")]
        Command::Cluster(cmd) => cluster::run(cmd),
        #[cfg(feature = "cluster")]
        Command::Sql(args) => cluster::sql(args),
        // hunt84: the README's `sql` and `cluster` were "unrecognized".
        #[cfg(not(feature = "cluster"))]
        Command::Cluster { .. } | Command::Sql { .. } => Err(anyhow::anyhow!(
            "`cluster` and `sql` run DataFusion and Ballista, which this build leaves out: build tokenaudit with `cargo build --release --features cluster` (docs/cluster.md)"
        )),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if output::is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", output::error_text(&e));
            ExitCode::from(2)
        }
    }
}

/// A panic the Parquet reader catches (arrow-rs asserts on some malformed
/// pages) becomes that file's reject, reported like any other: the default
/// hook's message and backtrace on stderr would say a crash happened. Every
/// other panic still prints.
fn quiet_caught_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !tokenaudit_ingest::parquet::panic_is_caught() {
            default(info);
        }
    }));
}
