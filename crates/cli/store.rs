//! `tokenaudit store check | compact | prune`: the store's upkeep.

use crate::output::counted;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::{Args, Subcommand};

use tokenaudit_store::{maintain, Store};

use crate::output::print;

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Check that every committed part is there and readable, holds the rows
    /// and sources the commit log says, that each file's rows add up to the
    /// calls its ingests counted, and that calls/ holds nothing else. Exit 2
    /// on any problem. Removes the audit cache's stale or damaged files
    /// (derived data: the next audit rebuilds them).
    Check {
        #[command(flatten)]
        store: StoreDir,
        #[command(flatten)]
        quiet: Quiet,
    },
    /// Merge each day's parts into as few files as possible (nightly ingests
    /// add a few small ones a day), in one commit.
    Compact {
        #[command(flatten)]
        store: StoreDir,
        #[command(flatten)]
        quiet: Quiet,
    },
    /// Drop the calls of the days before DATE (retention), in one commit.
    /// Files whose calls are all dropped stay known, so an ingest of the same
    /// logs does not read them again.
    Prune {
        #[command(flatten)]
        store: StoreDir,
        #[command(flatten)]
        quiet: Quiet,
        /// The first day to keep (YYYY-MM-DD). Later ingests leave out
        /// the calls of days before it too.
        #[arg(long, value_name = "DATE")]
        before: String,
        /// Prune even when DATE is after today or after the store's last
        /// day (every call in the store is dropped, and with a date to come,
        /// every call ingested before it).
        #[arg(long)]
        force: bool,
    },
}

/// The store's folder, as `--store DIR` (as every other command takes it)
/// or as the one argument.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct StoreDir {
    /// The store's folder (made by `tokenaudit ingest --store DIR`).
    #[arg(long = "store", value_name = "DIR")]
    flag: Option<PathBuf>,
    /// The store's folder, as --store.
    #[arg(value_name = "DIR")]
    positional: Option<PathBuf>,
}

/// `--quiet`, as the other commands take it (hunt107: a nightly script
/// passing `-q` to every step failed at `store compact`).
#[derive(Debug, Args)]
pub struct Quiet {
    /// Print nothing on success (problems and warnings still go to
    /// stderr).
    #[arg(long, short)]
    quiet: bool,
}

impl Quiet {
    /// Prints `text` unless quiet.
    fn print(&self, text: &str) -> Result<()> {
        if self.quiet {
            return Ok(());
        }
        print(text)
    }
}

impl StoreDir {
    fn into_path(self) -> PathBuf {
        self.flag.or(self.positional).unwrap_or_default()
    }
}

fn open(dir: &std::path::Path) -> Result<Store> {
    Store::open(dir).with_context(|| format!("--store {}", dir.display()))
}

pub fn run(cmd: StoreCommand) -> Result<ExitCode> {
    let version = env!("CARGO_PKG_VERSION");
    match cmd {
        StoreCommand::Check { store, quiet } => {
            let store = store.into_path();
            let s = open(&store)?;
            let r = maintain::check(&s)?;
            let mut text = format!(
                "{}: {}, {} from {} over {} in {}.\n",
                store.display(),
                counted(r.commits as u64, "commit", "commits"),
                counted(r.rows as u64, "call", "calls"),
                counted(r.sources as u64, "file", "files"),
                counted(r.days as u64, "day", "days"),
                counted(r.parts as u64, "part", "parts"),
            );
            let rec = &s.recovered;
            if rec.completed + rec.deleted + rec.orphans > 0 {
                text.push_str(&format!(
                    "Repaired on opening: {} parts of an interrupted commit renamed into place, {} replaced parts deleted, {} orphaned parts removed.\n",
                    rec.completed, rec.deleted, rec.orphans
                ));
            }
            if !r.cache.removed.is_empty() {
                text.push_str(&format!(
                    "Removed {} audit cache files (derived data, rebuilt by the next audit):\n",
                    r.cache.removed.len()
                ));
                for f in &r.cache.removed {
                    text.push_str(&format!("  {f}\n"));
                }
            }
            if r.problems.is_empty() {
                text.push_str("No problems found.\n");
                quiet.print(&text)?;
                Ok(ExitCode::SUCCESS)
            } else {
                print(&text)?;
                for p in &r.problems {
                    eprintln!("problem: {p}");
                }
                eprintln!(
                    "{} found",
                    crate::output::counted(r.problems.len() as u64, "problem", "problems")
                );
                // A part's rows cannot be had again from the store itself:
                // only from the logs it was fed.
                if r.problems
                    .iter()
                    .any(|p| p.contains("committed but unreadable"))
                {
                    eprintln!(
                        "A committed part is gone or unreadable: its calls are lost to this store, and audits of it are refused. \
                         Rebuild it from the logs it was fed, if they are still there: `tokenaudit ingest LOGS --store NEW-STORE`."
                    );
                }
                Ok(ExitCode::from(2))
            }
        }
        StoreCommand::Compact { store, quiet } => {
            let store = store.into_path();
            let mut s = open(&store)?;
            let r = maintain::compact(&mut s, version)?;
            match r.commit {
                Some(n) => quiet.print(&format!(
                    "Commit {n}: {} parts merged into {} ({} calls).\n",
                    r.parts_removed, r.parts_added, r.rows
                ))?,
                None => quiet.print("Nothing to compact: every day is one part.\n")?,
            }
            Ok(ExitCode::SUCCESS)
        }
        StoreCommand::Prune {
            store,
            quiet,
            before,
            force,
        } => {
            let store = store.into_path();
            let date = NaiveDate::parse_from_str(&before, "%Y-%m-%d")
                .with_context(|| format!("--before {before:?}: expected a date like 2026-10-01"))?;
            let mut s = open(&store)?;
            let last = s
                .state()
                .parts
                .values()
                .filter_map(|p| p.day.as_deref())
                .filter_map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .max();
            let today = chrono::Utc::now().date_naive();
            if !force {
                if date > today {
                    bail!(
                        "--before {before} is after today ({today}): the store would drop every call it holds, and every later ingest the calls of the days before {before}; pass --force to prune so"
                    );
                }
                if let Some(last) = last.filter(|&l| date > l) {
                    bail!(
                        "--before {before} is after the store's last day ({last}): every call in the store would be dropped; pass --force to prune so"
                    );
                }
            }
            let r = maintain::prune(&mut s, date, version)?;
            match r.commit {
                Some(n) => quiet.print(&format!(
                    "Commit {n}: dropped {} ({}) before {before}.\n",
                    counted(r.parts_removed as u64, "part", "parts"),
                    counted(r.rows, "call", "calls")
                ))?,
                None => quiet.print(&format!("Nothing before {before}.\n"))?,
            }
            // The findings ledger's last window reaches into the pruned
            // days: its next run sees fewer days, and the findings that
            // relied on them resolve, to come back as new (hunt71).
            let window = tokenaudit_store::ledger::latest_window(&store)
                .ok()
                .flatten();
            let from = window.as_ref().and_then(|w| match w.since.as_str() {
                // An open start (the nightly without --since): every day.
                "" => Some("all the store's days".to_string()),
                since => chrono::DateTime::parse_from_rfc3339(since)
                    .ok()
                    .map(|t| t.date_naive())
                    .filter(|&s| s < date)
                    .map(|s| format!("a window from {s}")),
            });
            if let (Some(from), Some(_)) = (from, r.commit) {
                eprintln!(
                    "warning: the findings ledger's last run audited {from}, before {before}: the next such run sees only the days from {before} on, and findings that relied on the pruned days are marked resolved (and new if they come back); prune only days before the nightly window"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
