//! `tokenaudit ingest PATH... --store DIR`: adds what is new in the logs to
//! the store (see `docs/store.md`), so nightly audits read only the store.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;

use tokenaudit_ingest::pipeline::Progress;
use tokenaudit_ingest::source::expand_inputs;
use tokenaudit_store::commit::Action;
use tokenaudit_store::{Store, StoreIngest};

use crate::output::{counted, print};

#[derive(Debug, Args)]
#[command(after_long_help = "What is read:
  a file the store has not seen           whole
  a file with the same size and time      not at all (not even opened)
  a JSON-lines file that grew (its earlier bytes unchanged)
                                          only what was appended
  a file that changed                     whole, and its earlier rows are replaced
  a file renamed or rotated (it begins with what the store read of a file
  of its folder that is gone or changed)  only what is past that; the
                                          rows stored under the old name
                                          become its own

Examples:
  tokenaudit ingest logs/ --store store/            # nightly: only what is new
  tokenaudit audit --store store/ --since 2026-10-01 --until 2026-10-31
  tokenaudit review --month 2026-10 --store store/
  tokenaudit findings --store store/ --changed-only --format github
  tokenaudit ingest 'exports/*.jsonl.gz' --store s3-mirror/ --config tokenaudit.toml
  aws s3 cp s3://logs/2026-10-31.jsonl.gz - \\
    | tokenaudit ingest - --stdin-name 2026-10-31 --store store/

Several ingests may run at once on one store (on disjoint files, from several
processes or machines sharing the folder); a file two of them read at once is
kept once. See docs/store.md for the layout, the schema and the commit log.")]
pub struct IngestArgs {
    /// Log files, directories (read recursively) or globs; `-` reads stdin
    /// (saved to a temporary file first; see --stdin-name).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,

    /// What stdin is, from one ingest to the next (for example the export's
    /// name): piped again under the same name, its earlier rows are
    /// replaced. Without it, stdin is known by its content: the same bytes
    /// piped again are skipped, any other bytes are a new source.
    #[arg(long, value_name = "NAME")]
    pub stdin_name: Option<String>,

    /// The store folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,

    /// A price catalog file whose models add to or replace the built-in ones
    /// (the `cost_usd` column; audits price again with their own --prices).
    #[arg(long, value_name = "FILE")]
    pub prices: Vec<PathBuf>,

    /// Config file (TOML): its [mapping] tells how to read logs in your own
    /// shape.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Read every input as this built-in format (see `tokenaudit formats`).
    #[arg(long, value_name = "NAME")]
    pub input_format: Option<String>,

    /// Also keep the prompt text the logs carry (off by default: the store
    /// keeps fingerprints and similarity signatures, never prompt text).
    #[arg(long)]
    pub include_prompts: bool,

    /// Commit nothing (exit 2) if any line or file was rejected.
    #[arg(long)]
    pub strict: bool,

    /// No progress bar and no summary.
    #[arg(long, short)]
    pub quiet: bool,

    /// Worker threads, at most 1,024 (default: all cores).
    #[arg(long, default_value_t = 0, value_name = "N", hide_default_value = true,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=1024))]
    pub threads: usize,

    /// Read only shard K of N (1-based) of the sorted file list: files
    /// 1+(K-1), 1+(K-1)+N, … Run N ingests with K = 1…N at once, from as many
    /// processes or machines (a Kubernetes indexed Job, an Airflow task per
    /// shard): each commits to the same store, and together they read every
    /// file once.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
}

/// Parses `K/N` (1 ≤ K ≤ N).
fn parse_shard(text: &str) -> Result<(usize, usize)> {
    let parsed = text.split_once('/').and_then(|(k, n)| {
        let (k, n) = (
            k.trim().parse::<usize>().ok()?,
            n.trim().parse::<usize>().ok()?,
        );
        (1 <= k && k <= n).then_some((k, n))
    });
    parsed.with_context(|| format!("--shard {text:?}: expected K/N with 1 <= K <= N, such as 2/3"))
}

pub fn run(args: IngestArgs) -> Result<ExitCode> {
    // The same reading setup as `audit` (mapping, format, prices).
    let input = crate::audit::InputArgs {
        paths: args.paths.clone(),
        store: None,
        engine: None,
        prices: args.prices.clone(),
        config: args.config.clone(),
        since: None,
        until: None,
        input_format: args.input_format.clone(),
        strict: args.strict,
        quiet: args.quiet,
        threads: args.threads,
        no_findings: true,
        include_prompts: args.include_prompts,
    };
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    // The store inside an input folder is left out of it (below); the store
    // as an input folder, or holding one, would leave nothing to read.
    let absolute = |p: &std::path::Path| {
        p.canonicalize()
            .or_else(|_| std::path::absolute(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    let store_at = absolute(&args.store);
    for path in &args.paths {
        let p = std::path::Path::new(path);
        if p.is_dir() && absolute(p).starts_with(&store_at) {
            bail!(
                "--store {}: the store cannot be the input folder {path} or hold it; give the store a folder of its own (for example {}-store)",
                args.store.display(),
                path.trim_end_matches('/')
            );
        }
        // A log inside the store's folder would be left out as the store's
        // own (hunt63: nothing ingested, exit 0).
        // (A file as the store, the input itself given twice, is said as
        // a file by the store: hunt84's "inside the store's folder".)
        if p.is_file() && absolute(p).starts_with(&store_at) && !args.store.is_file() {
            bail!(
                "--store {}: the input {path} is inside the store's folder, which holds only what tokenaudit writes; keep the logs in a folder of their own",
                args.store.display()
            );
        }
    }
    let prepared = input.prepare()?;
    // The inputs `prepare` expanded (with no --store given, they are logs).
    let mut sources = match &prepared.input {
        crate::audit::Input::Logs(sources) => sources.clone(),
        _ => expand_inputs(&args.paths)?,
    };
    // No log file at all (a glob that matched only the store, an empty
    // folder): nothing new, said; an error with --strict, as for `audit`.
    if sources.is_empty() {
        if args.strict {
            bail!("--strict: no log file was found in the inputs; nothing ingested.");
        }
        if !args.quiet {
            eprintln!("warning: no log file was found in the inputs");
        }
    }
    if let Some((k, n)) = shard {
        sources.sort();
        sources = sources
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % n == k - 1)
            .map(|(_, s)| s)
            .collect();
    }
    let mut store =
        Store::create(&args.store).with_context(|| format!("--store {}", args.store.display()))?;
    // A store inside an input folder is not a log: reading its parts and
    // commit files as calls would add the store to itself every night. Any
    // other file in the store's folder (a glob's) is a log put there: said,
    // not left out (hunt63).
    if let Ok(root) = store.root().canonicalize() {
        // Each file's real path, once: in the store's folder or not.
        let mut strays: Vec<String> = Vec::new();
        let before = sources.len();
        sources.retain(|s| {
            let tokenaudit_ingest::Source::File(p) = s else {
                return true;
            };
            match p.canonicalize().ok().filter(|abs| abs.starts_with(&root)) {
                None => true,
                Some(abs) => {
                    if !tokenaudit_store::layout::is_own(&root, &abs) {
                        strays.push(p.display().to_string());
                    }
                    false
                }
            }
        });
        if !strays.is_empty() {
            bail!(
                "--store {}: {} inside the store's folder, which holds only what tokenaudit writes ({}); keep the logs in a folder of their own",
                args.store.display(),
                counted(strays.len() as u64, "input is", "inputs are"),
                crate::output::first_of(&strays, 3)
            );
        }
        if !args.quiet && sources.len() < before {
            eprintln!(
                "store: left out {} of the store itself, which is inside an input",
                counted((before - sources.len()) as u64, "file", "files")
            );
        }
    }
    let r = &store.recovered;
    if !args.quiet && r.completed + r.deleted + r.orphans > 0 {
        eprintln!(
            "store: finished an interrupted commit ({} parts renamed, {} replaced parts deleted) and removed {} orphaned parts",
            r.completed, r.deleted, r.orphans
        );
    }
    let progress = Arc::new(Progress::default());
    let mut options = prepared.options.clone();
    options.progress = Some(progress.clone());
    let show_bar = !args.quiet && std::io::stderr().is_terminal();
    let done = std::sync::atomic::AtomicBool::new(false);
    let catalog = &prepared.catalog;
    let report = std::thread::scope(|scope| {
        let bar = show_bar.then(|| {
            let (progress, done) = (&progress, &done);
            let total = sources
                .iter()
                .map(|s| match s {
                    tokenaudit_ingest::Source::File(p) => {
                        std::fs::metadata(p).map_or(0, |m| m.len())
                    }
                    tokenaudit_ingest::Source::Stdin => 0,
                })
                .sum();
            scope.spawn(move || {
                crate::audit::draw_progress(
                    progress,
                    done,
                    total,
                    "finishing the store's parts and committing them",
                )
            })
        });
        let result = store.ingest(StoreIngest {
            sources,
            options,
            catalog,
            include_prompts: args.include_prompts,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            strict: args.strict,
            stdin_name: args.stdin_name.clone(),
        });
        done.store(true, Ordering::SeqCst);
        if let Some(t) = bar {
            let _ = t.join();
        }
        result
    })
    .with_context(|| format!("ingest into {}", args.store.display()))?;
    crate::audit::warn_unmatched_mapping(prepared.options.mapping.as_deref());
    let unreadable = &report.plan.unreadable;
    let emptied = &report.kept_emptied;
    if args.strict && !emptied.is_empty() && report.summary.rejects.strict_failures() == 0 {
        bail!(
            "--strict: {} stored calls of its own and {} now empty (a failed copy?); nothing committed: {}",
            counted(emptied.len() as u64, "input has", "inputs have"),
            if emptied.len() == 1 { "is" } else { "are" },
            crate::output::first_of(emptied, 5)
        );
    }
    if args.strict && (report.summary.rejects.strict_failures() > 0 || !unreadable.is_empty()) {
        let mut msg = format!(
            "--strict: {}; nothing committed.\n",
            crate::audit::strict_counts(
                report.summary.rejects.total() + unreadable.len() as u64,
                report.summary.rejects.fields_ignored()
            )
        );
        for (name, why) in unreadable.iter().take(10) {
            msg.push_str(&format!("  {name}: unreadable_file ({why})\n"));
        }
        for s in report.summary.rejects.samples().iter().take(10) {
            let at = if s.line == 0 {
                String::new()
            } else {
                format!(":{}", s.line)
            };
            // Stdin by its name, not the file it was saved to.
            let file = report
                .plan
                .read
                .iter()
                .find(|p| p.path.display().to_string() == s.file)
                .map_or(s.file.as_str(), |p| p.name.as_str());
            msg.push_str(&format!("  {file}{at}: {} ({})\n", s.reason, s.detail));
        }
        bail!("{}", msg.trim_end());
    }
    if !unreadable.is_empty() {
        // A warning, so on stderr even with --quiet.
        eprintln!(
            "store: could not read {}; the store keeps what it had of {}, and the next ingest tries {} again:",
            crate::output::counted(unreadable.len() as u64, "file", "files"),
            if unreadable.len() == 1 { "it" } else { "them" },
            if unreadable.len() == 1 { "it" } else { "them" },
        );
        for (name, why) in unreadable {
            eprintln!("  {name}: {why}");
        }
    }
    if !emptied.is_empty() {
        let one = emptied.len() == 1;
        eprintln!(
            "store: kept the stored calls of {}: {} now empty, which is taken for a failed copy, not a restated export of no call (the next ingest reads {} again): {}",
            crate::output::counted(emptied.len() as u64, "file", "files"),
            if one { "it is" } else { "they are" },
            if one { "it" } else { "them" },
            crate::output::first_of(emptied, 5)
        );
    }
    // A stored file read again whole that was cut short (a copy that failed
    // half-way): its calls are replaced by the fewer read (hunt185: 1,096
    // of 3,000, said only as "1 line rejected").
    // (By the source's own counts: its samples keep 20, which a file of
    // other bad lines fills: hunt186.)
    // (A count looked up, not each source's samples gathered: a folder of
    // 100,000 files made that quadratic.)
    let truncated = tokenaudit_ingest::RejectReason::TruncatedFile;
    let cut_sources = report.summary.sources.iter().enumerate().filter(|(i, _)| {
        report.summary.rejects.count(truncated) > 0
            && report.summary.rejects.count_in(*i, truncated) > 0
    });
    for (_, now) in cut_sources {
        // (Stdin is read from the file it was saved to.)
        let planned = report.plan.read.iter().find(|p| {
            p.action == Action::Changed
                && (now.name == p.name || now.name == p.path.display().to_string())
        });
        let Some((p, previous)) = planned.and_then(|p| Some((p, p.previous.as_ref()?))) else {
            continue;
        };
        if report.commit.is_some() {
            eprintln!(
                "warning: store: {} was cut short while read (a copy that failed half-way?): its {} stored calls were replaced by the {} read; ingest it again once it is whole",
                p.name, previous.records, now.records
            );
        }
    }
    if !report.emptied.is_empty() && report.commit.is_some() {
        let listed: Vec<String> = report
            .emptied
            .iter()
            .map(|(name, n)| format!("{name} ({})", counted(*n, "call", "calls")))
            .collect();
        eprintln!(
            "warning: store: {} now empty, and {} calls left the store (a log rotated: give its rotated copy too; an export that came empty: its calls come back when it is whole): {}",
            counted(listed.len() as u64, "file is", "files are"),
            if listed.len() == 1 { "its" } else { "their" },
            crate::output::first_of(&listed, 5)
        );
    }
    let kept = &report.kept_unread;
    if !kept.is_empty() {
        let one = kept.len() == 1;
        eprintln!(
            "store: kept the stored calls of {}: no line of {} is a call as read now, with another [mapping] or --input-format than {} stored with (give the same --config or --input-format; the next ingest tries {} again): {}",
            crate::output::counted(kept.len() as u64, "file", "files"),
            if one { "it" } else { "them" },
            if one { "it was" } else { "they were" },
            if one { "it" } else { "them" },
            crate::output::first_of(kept, 5)
        );
    }
    if !args.quiet {
        print(&tokenaudit_report::terminal_text(&summary(&report, &store)))?;
    }
    for w in warnings(&report.summary, args.quiet) {
        eprintln!("warning: {}", tokenaudit_report::terminal_text(&w));
    }
    Ok(ExitCode::SUCCESS)
}

/// What a nightly ingest should not miss, on stderr even with --quiet
/// (whose summary on stdout, which says the rejects, is left out): files
/// of which no line was a call, and rejected lines.
fn warnings(s: &tokenaudit_ingest::IngestSummary, quiet: bool) -> Vec<String> {
    let mut out = Vec::new();
    let samples = s.rejects.samples();
    for f in &s.sources {
        let first = samples.iter().find(|r| r.file == f.name);
        out.extend(crate::audit::no_call_warning(
            &f.name, &f.format, f.lines, f.records, f.rejected, first,
        ));
    }
    // Inputs that could not be read at all, named with why (hunt113: only
    // "2 lines rejected", where `audit` named the `.bz2`): not recorded,
    // so the next ingest tries them again.
    let unreadable: Vec<String> = unreadable(s)
        .map(|f| {
            match samples.iter().find(|r| {
                r.file == f.name && r.reason == tokenaudit_ingest::RejectReason::UnreadableFile
            }) {
                Some(r) => format!("{} ({})", f.name, r.detail),
                None => f.name.clone(),
            }
        })
        .collect();
    if !unreadable.is_empty() {
        out.push(format!(
            "could not read {}, not ingested (the next ingest tries again): {} (--strict makes this an error)",
            crate::output::counted(unreadable.len() as u64, "input", "inputs"),
            crate::output::first_of(&unreadable, 5)
        ));
    }
    if quiet && s.rejects.total() > 0 {
        out.push(rejected_text(s));
    }
    out
}

/// The inputs no line of which could be read (no permission, gone, a
/// compression not read).
fn unreadable(
    s: &tokenaudit_ingest::IngestSummary,
) -> impl Iterator<Item = &tokenaudit_ingest::pipeline::SourceSummary> {
    s.sources.iter().filter(|f| f.unreadable())
}

/// What the summary (or, with --quiet, stderr) says of rejected lines:
/// lines, and inputs that could not be read, apart.
fn rejected_text(s: &tokenaudit_ingest::IngestSummary) -> String {
    let inputs = unreadable(s).count() as u64;
    let lines = s.rejects.total().saturating_sub(inputs);
    let what = crate::output::rejected_count(lines, inputs);
    let listed = match (lines, inputs) {
        (0, _) => "",
        (_, 0) => "the audit's Data quality section lists them; ",
        _ => "the audit's Data quality section lists the lines; ",
    };
    format!("{what} ({listed}--strict makes this an error)")
}

fn summary(r: &tokenaudit_store::IngestReport, store: &Store) -> String {
    let mut s = String::new();
    let count = |a: Action| r.plan.read.iter().filter(|p| p.action == a).count();
    match r.commit {
        Some(n) => s.push_str(&format!(
            "Commit {n}: read {} new, {} grown and {} changed files ({} bytes): {} added, {} replaced.\n",
            count(Action::New),
            count(Action::Grown),
            count(Action::Changed) + count(Action::Rotated) - r.plan.read_again.len(),
            r.plan.bytes(),
            counted(r.rows_added, "row", "rows"),
            counted(r.rows_removed, "row", "rows"),
        )),
        None if r.plan.read.is_empty() => s.push_str("Nothing new to ingest.\n"),
        None if r.nothing_readable => {
            s.push_str("Nothing committed: no new file could be read (below).\n")
        }
        None => s.push_str("Nothing committed: another ingest committed these files first.\n"),
    }
    if r.rows_pruned > 0 {
        s.push_str(&format!(
            "Left out {} of days before {}, the store's prune date (`store prune --before`).\n",
            counted(r.rows_pruned, "call", "calls"),
            store
                .state()
                .prune_before
                .as_deref()
                .unwrap_or("the prune date")
        ));
    }
    if r.cache_hits_added > 0 {
        s.push_str(&format!(
            "Kept {} gateway cache hits beside the calls (cache_hits/): answered by LiteLLM's or Portkey's cache, they cost nothing and count as evidence for TA109 and TA110.\n",
            r.cache_hits_added
        ));
    }
    let moved: Vec<String> = r
        .plan
        .moves
        .iter()
        .map(|(new, old)| format!("{new} (was {old})"))
        .collect();
    if !moved.is_empty() {
        s.push_str(&format!(
            "Recognised {} renamed or rotated, {} stored calls kept under the new {} and only what is past them read: {}.\n",
            crate::output::counted(moved.len() as u64, "file", "files"),
            if moved.len() == 1 { "its" } else { "their" },
            if moved.len() == 1 { "name" } else { "names" },
            crate::output::first_of(&moved, 4)
        ));
    }
    if !r.plan.reread.is_empty() {
        s.push_str(&format!(
            "Read {} again whole: the store had read {} with another [mapping] or --input-format than this run's: {}.\n",
            crate::output::counted(r.plan.reread.len() as u64, "file", "files"),
            if r.plan.reread.len() == 1 { "it" } else { "them" },
            crate::output::first_of(&r.plan.reread, 4)
        ));
    }
    if !r.plan.gone.is_empty() {
        s.push_str(&format!(
            "{} the store read {} no longer in {} folder; {} calls stay in the store (`store prune --before DATE` drops old days): {}.\n",
            crate::output::counted(r.plan.gone.len() as u64, "file", "files"),
            if r.plan.gone.len() == 1 { "is" } else { "are" },
            if r.plan.gone.len() == 1 { "its" } else { "their" },
            if r.plan.gone.len() == 1 { "its" } else { "their" },
            crate::output::first_of(&r.plan.gone, 4)
        ));
    }
    // Files whose text changed in place: a restated export, or a log
    // rotated over whose rotated copy is not among the inputs (hunt139's
    // bug1: its calls left the store, "replaced", unsaid).
    let changed: Vec<String> = r
        .plan
        .read
        .iter()
        .filter(|p| p.action == Action::Changed && !p.reread && p.previous.is_some())
        .filter(|p| !r.plan.read_again.contains(&p.name) && !r.kept_emptied.contains(&p.name))
        .map(|p| p.name.clone())
        .collect();
    // A session log that grew is read whole, as every agent log is (its
    // calls repeat across files): no restated export (hunt183).
    let (sessions, changed): (Vec<String>, Vec<String>) = changed
        .into_iter()
        .partition(|n| r.plan.read.iter().any(|p| p.name == *n && p.agent_log));
    if !sessions.is_empty() && r.commit.is_some() {
        s.push_str(&format!(
            "Read {} that grew or changed whole again, as agent logs are read (a call they repeat across files is counted once): {}.\n",
            crate::output::counted(
                sessions.len() as u64,
                "Claude Code or Codex session file",
                "Claude Code or Codex session files"
            ),
            crate::output::first_of(&sessions, 4)
        ));
    }
    if !changed.is_empty() && r.commit.is_some() {
        s.push_str(&format!(
            "Read {} whole again, {} text changed since the store read {}: {} earlier calls are replaced by what {} now (a restated export). If one is a log rotated over, ingest its rotated copy too (give its folder or name), or the calls only that copy holds leave the store: {}.\n",
            crate::output::counted(changed.len() as u64, "file", "files"),
            if changed.len() == 1 { "its" } else { "their" },
            if changed.len() == 1 { "it" } else { "them" },
            if changed.len() == 1 { "its" } else { "their" },
            if changed.len() == 1 { "it holds" } else { "they hold" },
            crate::output::first_of(&changed, 4)
        ));
    }
    let restated: Vec<String> = r
        .plan
        .restated
        .iter()
        .map(|(new, old)| format!("{new} (in place of {old})"))
        .collect();
    if !restated.is_empty() {
        s.push_str(&format!(
            "Read {} whole under new names; the stored rows of the files they take the place of are replaced: {}.\n",
            crate::output::counted(restated.len() as u64, "file", "files"),
            crate::output::first_of(&restated, 4)
        ));
    }
    let recompressed: Vec<String> = r
        .recompressed
        .iter()
        .map(|(new, old)| format!("{new} (was {old})"))
        .collect();
    if !recompressed.is_empty() {
        let files: std::collections::BTreeSet<&str> =
            r.recompressed.iter().map(|(new, _)| new.as_str()).collect();
        s.push_str(&format!(
            "Read {} file{} that hold{} the text of stored files now gone (moved or compressed since): their calls replace those files' rather than count twice: {}.\n",
            files.len(),
            if files.len() == 1 { "" } else { "s" },
            if files.len() == 1 { "s" } else { "" },
            crate::output::first_of(&recompressed, 4)
        ));
    }
    let rotated = count(Action::Rotated);
    if rotated > 0 {
        s.push_str(&format!(
            "{rotated} files began anew after their content moved (a rotation): read whole; their earlier rows went with that content.\n"
        ));
    }
    if !r.plan.retired.is_empty() {
        s.push_str(&format!(
            "Kept the calls of {} files' content that a rotation overwrote (no file holds it now), as a deleted file's are.\n",
            r.plan.retired.len()
        ));
    }
    if !r.plan.read_again.is_empty() {
        s.push_str(&format!(
            "Read {} Claude Code or Codex files of the store again with them, so that a call the session logs repeat across files is counted once.\n",
            r.plan.read_again.len()
        ));
    }
    if !r.plan.unchanged.is_empty() {
        s.push_str(&format!(
            "Skipped {} already in the store as {}.\n",
            crate::output::counted(r.plan.unchanged.len() as u64, "file", "files"),
            if r.plan.unchanged.len() == 1 {
                "it is"
            } else {
                "they are"
            }
        ));
    }
    if !r.raced.is_empty() {
        s.push_str(&format!(
            "{} files were committed by another ingest running at the same time; their rows were kept once: {}.\n",
            r.raced.len(),
            r.raced.join(", ")
        ));
    }
    if r.summary.rejects.total() > 0 {
        s.push_str(&format!("{}.\n", rejected_text(&r.summary)));
    }
    let ignored = r.summary.rejects.fields_ignored();
    if ignored > 0 {
        s.push_str(&format!(
            "{} read without a field whose value had the wrong type or was out of range (kept and priced; the audit's Data quality section lists them; --strict makes this an error).\n",
            counted(ignored, "call", "calls")
        ));
    }
    let st = store.state();
    s.push_str(&format!(
        "The store holds {} from {} over {} in {}.\n",
        counted(st.rows(), "call", "calls"),
        counted(st.sources.len() as u64, "file", "files"),
        counted(
            st.days().iter().filter(|d| d.is_some()).count() as u64,
            "day",
            "days"
        ),
        counted(st.parts.len() as u64, "part", "parts"),
    ));
    s
}
