//! `tokenaudit findings`: the audit's findings as ticket records (JSON
//! lines, GitHub issues, CSV), marked against a previous run, with an exit
//! code for CI and cron jobs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;

use tokenaudit_report::tickets::{self, FailOn, Record};

use crate::audit::InputArgs;
use crate::output::print;

#[derive(Debug, Args)]
#[command(
    after_long_help = "Exit codes: 0 success, 1 a finding met --fail-on, 2 error.

Examples:
  tokenaudit findings logs/ --format jsonl > findings.jsonl
  tokenaudit findings logs/ --baseline yesterday.jsonl --format github --out new-issues.jsonl
  tokenaudit findings logs/ --baseline reports/2026-10/audit.json --fail-on high
  tokenaudit findings logs/ --fail-on 'savings>=100'
  tokenaudit findings --store store/ --changed-only --format github   # nightly: vs the night before
  tokenaudit findings --store store/ --changed-only --format github --again   # its retry

With --store (and no --baseline), each run is recorded in the store's
findings ledger and marked against the run before it, so a nightly job keeps
no baseline file of its own. A look at another window (one that ends before
the last run's, ends with it and starts later, or has no calls) is marked but
not recorded; an open window ends with its last call.
On GitHub, a log's @name and #12 are kept as text (no mention, no link)."
)]
pub struct FindingsArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// jsonl (one record per finding), github (issue title, Markdown body and
    /// labels per finding, as JSON lines) or csv.
    #[arg(long, short, default_value = "jsonl", value_name = "FORMAT")]
    pub format: String,

    /// A previous run's findings (an audit.json or this command's jsonl
    /// output): each finding is marked new, persisting, worse or resolved.
    /// A finding the run still finds under `[detect] min_savings` persists
    /// at its saving now (its ticket stays open); resolved means not found.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// With --baseline, a persisting finding whose monthly savings grew by
    /// more than this share since its ticket was raised (`new`, or its last
    /// `worse`: `filed_monthly_savings`) is `worse`.
    #[arg(long, default_value_t = 0.2, value_name = "SHARE")]
    pub worse_by: f64,

    /// With --baseline (or --store's ledger), write only new and worse
    /// findings (and resolved ones, so their tickets can be closed).
    #[arg(long)]
    pub changed_only: bool,

    /// With --store: this run repeats the ledger's last one, whose output
    /// was lost (a nightly job retried after its GitHub step failed). It is
    /// marked against the entry that run was marked against, so it gives
    /// the same changes again (with what data come since changed), and it
    /// is not recorded.
    #[arg(long)]
    pub again: bool,

    /// Exit 1 when a (not resolved) finding written is at or above a
    /// severity (info, low, medium, high) or saves at least an amount a
    /// month (`savings>=100`). With --changed-only, only the new and worse
    /// findings it writes count, so a nightly gate fails on what changed.
    #[arg(long, value_name = "CONDITION")]
    pub fail_on: Option<String>,

    /// Write to this file instead of stdout (not overwritten unless --force;
    /// `-` is stdout).
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(mut args: FindingsArgs) -> Result<ExitCode> {
    let fail_on = args
        .fail_on
        .as_deref()
        .map(|t| {
            FailOn::parse(t).with_context(|| {
                format!("--fail-on {t:?}: expected info, low, medium, high or savings>=AMOUNT")
            })
        })
        .transpose()?;
    let render: fn(&[Record]) -> String = match args.format.as_str() {
        "jsonl" | "json" => tickets::jsonl,
        "github" => tickets::github,
        "csv" => tickets::csv,
        other => bail!("--format {other:?}: expected jsonl, github or csv"),
    };
    if !(args.worse_by.is_finite() && args.worse_by >= 0.0) {
        bail!("--worse-by must be a non-negative share (0.2 = 20%)");
    }
    // `--out -` is stdout, as `-` is stdin for the inputs (hunt63: a file
    // named `-` was written).
    if args.out.as_deref().is_some_and(|o| o.as_os_str() == "-") {
        args.out = None;
    }
    if let Some(out) = &args.out {
        if out.is_dir() {
            bail!(
                "--out {} is a folder; give the file to write",
                out.display()
            );
        }
        if out.exists() && !args.force {
            bail!("{} exists: pass --force to overwrite it", out.display());
        }
        // Not even with --force: a log given to read (named, or found in
        // a folder or by a glob) is no place for the findings (it would be
        // lost, and the next run would read them).
        let reads_out = out.exists()
            && std::fs::canonicalize(out).is_ok_and(|out| {
                tokenaudit_ingest::source::expand_inputs(&args.input.paths)
                    .unwrap_or_default()
                    .iter()
                    .any(|s| match s {
                        tokenaudit_ingest::source::Source::File(p) => {
                            std::fs::canonicalize(p).is_ok_and(|p| p == out)
                        }
                        _ => false,
                    })
            });
        if reads_out {
            bail!(
                "--out {} is one of the logs to read: give another file",
                out.display()
            );
        }
    }
    // With --store and no --baseline, the ledger's last night is the
    // baseline and this run becomes its next entry.
    let ledger = match (&args.baseline, &args.input.store) {
        #[cfg(feature = "cluster")]
        (None, Some(url)) if crate::cluster::is_url(url) => bail!(
            "--store {}: the findings ledger is kept in a store directory; give --baseline FILE with a store URL",
            url.display()
        ),
        (None, Some(dir)) => Some(dir.clone()),
        _ => None,
    };
    if args.again && (ledger.is_none() || args.baseline.is_some()) {
        bail!("--again repeats the last run recorded in a store's findings ledger: give --store DIR (and no --baseline)");
    }
    let baseline = match (&args.baseline, &ledger) {
        (Some(p), _) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("--baseline: cannot read {}", p.display()))?;
            Some(
                tickets::read_baseline(&text)
                    .with_context(|| format!("--baseline {}", p.display()))?,
            )
        }
        // Read once the window is known (see below).
        (None, Some(_)) => Some(Vec::new()),
        (None, None) => None,
    };
    if args.input.no_findings {
        bail!("--no-findings leaves `findings` nothing to give (and a ledger's open findings would all be marked resolved); leave it out");
    }
    if args.changed_only && baseline.is_none() {
        bail!("--changed-only needs something to compare with: --baseline FILE, or --store DIR (its findings ledger)");
    }
    // The store's last commit before the audit reads it: a later one than
    // the last entry's means new data came in (see the ledger below).
    // And its latest prune: (first day kept, commit).
    let (head, pruned) = match &ledger {
        Some(dir) => {
            let store = tokenaudit_store::Store::open(dir)
                .with_context(|| format!("--store {}", dir.display()))?;
            let s = store.state();
            (Some(s.head), s.prune_before.clone().zip(s.pruned_in))
        }
        None => (None, None),
    };
    // (`--strict`'s refusal is audit's, which would say no report: here
    // no ticket is printed and the ledger is not written; hunt105.)
    let (audit, _, _) = args.input.prepare()?.run().map_err(|e| {
        anyhow::anyhow!(
            "{}",
            format!("{e:#}").replace("no report written", "no ticket written, nothing recorded")
        )
    })?;
    // As audit's, on stderr (the tickets are on stdout): a log read twice
    // makes tickets of its doubled calls (hunt100: ten ticket events of a
    // file delivered under two names, and no word of it here).
    crate::audit::warn_without_report(&audit, &[]);
    // The ledger's baseline: its newest entry of a window as long as this
    // one (a one-off look of another length keeps its own history), or of
    // a window open at the start as this one is or not; none on the first
    // night (everything is new).
    let mut last_window = None;
    let mut baseline = baseline;
    if let (None, Some(dir)) = (&args.baseline, &ledger) {
        let length = audit.since.zip(audit.until).map(|(s, u)| u - s);
        // Without a length, an entry with a start as this window's (none,
        // for the open-ended nightly): a look `--since` a day, run before
        // the nightly on a night with new data, is no baseline of it
        // (hunt56: it made a live finding "resolved", then "new" again).
        let open_start = audit.since.is_none();
        let mut last = tokenaudit_store::ledger::latest_of_length(dir, length, open_start, None)?;
        if args.again {
            // The run repeated is the last entry; its baseline, the entry
            // before it of the same kind (none: everything is new again).
            let Some((n, _, window)) = last else {
                bail!(
                    "--again: the findings ledger of {} has no run to repeat",
                    dir.display()
                );
            };
            // A commit since (a compaction, the retry's own ingest of a
            // later export) is no reason to lose the night's tickets
            // (hunt62): what it changed is given now, and again against
            // this entry tomorrow.
            if let (Some(now), Some(then)) = (head, window.head) {
                if now != then {
                    eprintln!(
                        "findings: {} took commits since entry {n} (commit {then}, now {now}): what they changed is given now too, and again tomorrow",
                        dir.display()
                    );
                }
            }
            last = tokenaudit_store::ledger::latest_of_length(dir, length, open_start, Some(n))?;
            eprintln!(
                "findings: marked as entry {n} of the findings ledger of {} was, and not recorded (--again)",
                dir.display()
            );
        }
        if let Some((n, text, window)) = last {
            baseline = Some(tickets::read_baseline(&text).with_context(|| {
                format!("the findings ledger of {} (entry {n})", dir.display())
            })?);
            // A prune committed since that entry, under a window open at
            // the start: this run sees fewer days than the entry did
            // (hunt75: the run after such a prune said nothing).
            if audit.since.is_none() {
                let since_entry = pruned
                    .as_ref()
                    .filter(|(_, at)| window.head.is_some_and(|h| *at > h));
                if let Some((before, _)) = since_entry {
                    eprintln!(
                        "findings: {} was pruned before {before} since entry {n} of its findings ledger: findings that relied on the pruned days are marked resolved now (and new if they come back)",
                        dir.display()
                    );
                }
            }
            last_window = Some(window);
        }
    }
    let mut records: Vec<Record> = audit.findings.iter().map(Record::from_finding).collect();
    // The ledger's new entry, recorded once the output is written whole: a
    // run whose tickets were lost (a full disk, a closed pipe) must not be
    // the next night's baseline.
    let mut entry = None;
    if let Some(b) = &baseline {
        records = if audit.totals.calls == 0 {
            // No call, so no finding looked for: none is resolved (its
            // issue closed, then never reopened, as the next night compares
            // with the last entry again).
            eprintln!(
                "findings: this window has no calls, so nothing was looked for: the baseline's findings are kept as they were (persisting), none resolved"
            );
            b.iter()
                .map(|r| Record {
                    status: Some(tickets::Status::Persisting),
                    previous_monthly_savings: r.monthly_savings.clone(),
                    ..r.clone()
                })
                .collect()
        } else {
            // The rules turned off resolve nothing. (One that could not
            // run does: its input is often the problem's own trace, a
            // failure's `error` field, gone with the problem: hunt121.)
            let unchecked: Vec<&str> = audit
                .rule_coverage
                .iter()
                .filter(|r| r.status == tokenaudit_analyze::coverage::Status::Disabled)
                .map(|r| r.rule)
                .collect();
            tickets::diff(
                records,
                b,
                &audit.below_min_savings,
                &unchecked,
                args.worse_by,
            )
        };
        // A baseline or ledger entry written under --include-prompts holds
        // excerpts: a run that did not ask for them carries none on
        // (hunt163: a resolved ticket, or one whose rule is off, printed
        // and recorded its prompts every night).
        if !args.input.include_prompts {
            for r in &mut records {
                r.sample_prompts.clear();
            }
        }
        if let Some(dir) = &ledger {
            // Nights follow each other: a run over a window that ends
            // before the last entry's (a look back at another month), or
            // that ends with it and starts later (a look at its last days),
            // is compared but not recorded, or it would be the next night's
            // baseline and its findings outside the window "resolved".
            // An open window ends with its data (its last call): a rolling
            // window (`--since` a month ago, every night) ends later each
            // night as new calls come in; a second look at the same data
            // ends with the last one.
            // The window's end is its data's: its last call (an `--until`
            // past the data ends there too).
            let until = audit
                .last_call
                .or(audit.until)
                .map(|t| t.to_rfc3339())
                .unwrap_or_default();
            let since = audit.since.map(|t| t.to_rfc3339()).unwrap_or_default();
            let asked_until = audit.until.map(|t| t.to_rfc3339()).unwrap_or_default();
            let last = last_window.take();
            let why = last.and_then(|last| {
                // An entry with no end (an earlier build's open window, or
                // a window without calls) is no bound.
                let later = match last.until.as_str() {
                    "" => true,
                    end => until.is_empty() || ends_after(&until, end),
                };
                let same_end = !until.is_empty() && until == last.until;
                let starts_later = !since.is_empty()
                    && (last.since.is_empty() || !ends_after(&last.since, &since));
                // A rolling window the next night, when the new data holds
                // no later call (a late export of days already seen): the
                // store moved on, and the start moved by less than half the
                // last window (a look at the last few days moves it by
                // most of it).
                let moved = matches!((head, last.head), (Some(h), Some(l)) if h > l);
                // Or the same length of window asked later (`--since` and
                // `--until` both a day on): the next night, though no new
                // data came (a late export), whose changes are then told
                // once, not again with the data the night after.
                let shifted = shifted_on(&last.since, &last.asked_until, &since, &asked_until);
                let rolled = shifted || (moved && rolled_on(&last.since, &last.until, &since));
                if audit.totals.calls == 0 {
                    Some("this window has no calls")
                } else if !later {
                    Some("this window ends before its last entry's")
                } else if same_end && starts_later && !rolled {
                    Some("this window ends with its last entry's and starts later")
                } else {
                    None
                }
            });
            match why {
                _ if args.again => {}
                None => {
                    let window = tokenaudit_store::ledger::Window {
                        until,
                        since,
                        head,
                        asked_until,
                    };
                    entry = Some((dir, tickets::jsonl(&records), window))
                }
                Some(why) => eprintln!(
                    "findings: compared, not recorded in the ledger of {}: {why}",
                    dir.display()
                ),
            }
        }
        if args.changed_only {
            records.retain(|r| r.status != Some(tickets::Status::Persisting));
        }
    }
    let text = render(&records);
    // A reader that stops early (`| head`) closes the pipe: the ledger is
    // still recorded and `--fail-on` still decides the exit code (hunt185:
    // a gate of 121 findings exited 0 under `| head -20`).
    match &args.out {
        Some(p) => tokenaudit_report::write_atomic(p, text.as_bytes())?,
        // CSV keeps a label's characters as they are, but not on a terminal
        // (hunt181: a log's ESC sequences set its title and cleared it).
        None => match print(&match args.format.as_str() {
            "csv" if std::io::IsTerminal::is_terminal(&std::io::stdout()) => {
                tokenaudit_report::terminal_text(&text)
            }
            _ => text.as_str().into(),
        }) {
            Err(e) if crate::output::is_broken_pipe(&e) => {}
            other => other?,
        },
    }
    if let Some((dir, jsonl, window)) = entry {
        tokenaudit_store::ledger::append(dir, &jsonl, &window)
            .with_context(|| format!("recording the findings in {}", dir.display()))?;
    }
    if let Some(cond) = fail_on {
        // A window without calls found nothing: the baseline's findings it
        // kept open are not this run's.
        let hits = if audit.totals.calls == 0 {
            Vec::new()
        } else {
            cond.matching(&records)
        };
        if !hits.is_empty() {
            eprintln!(
                "{} --fail-on {}: {}",
                if hits.len() == 1 {
                    "1 finding meets".to_string()
                } else {
                    format!("{} findings meet", hits.len())
                },
                args.fail_on.as_deref().unwrap_or(""),
                hits.iter()
                    .take(5)
                    .map(|r| format!("{} {}", r.rule, r.fingerprint))
                    .chain((hits.len() > 5).then(|| format!("and {} more", hits.len() - 5)))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether a window starting at `since` is the window `last_since` ..
/// `last_until` rolled on: its start moved by less than half its length
/// (RFC 3339 instants; an open bound is no roll).
fn rolled_on(last_since: &str, last_until: &str, since: &str) -> bool {
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    match (t(last_since), t(last_until), t(since)) {
        (Some(a), Some(b), Some(s)) => s > a && (s - a) * 2 < (b - a),
        _ => false,
    }
}

/// Whether the window `since` .. `asked_until` is the window `last_since`
/// .. `last_asked` moved later, of the same length (RFC 3339 instants; an
/// open or unknown bound is no shift).
fn shifted_on(last_since: &str, last_asked: &str, since: &str, asked_until: &str) -> bool {
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    match (t(last_since), t(last_asked), t(since), t(asked_until)) {
        (Some(a), Some(b), Some(s), Some(u)) => s > a && u - s == b - a,
        _ => false,
    }
}

/// Whether the RFC 3339 instant `a` is at or after `b`.
fn ends_after(a: &str, b: &str) -> bool {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(a), Ok(b)) => a >= b,
        _ => true,
    }
}
