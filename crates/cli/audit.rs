//! `tokenaudit audit`: the main job.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;

use tokenaudit_analyze::detect::DetectConfig;
use tokenaudit_analyze::timings::Timings;
use tokenaudit_analyze::{AnalyzeConfig, Audit, Outcome, Profile};
use tokenaudit_core::pricing::Catalog;
use tokenaudit_ingest::mapping::Mapping;
use tokenaudit_ingest::pipeline::Progress;
use tokenaudit_ingest::source::{expand_inputs_and_left_out, Source};
use tokenaudit_ingest::{Format, IngestOptions};
use tokenaudit_report::{earlier_reports, write_reports, ReportFormat, RunInfo};

use crate::output::{counted, print, print_cache_use, print_timings};

#[derive(Debug, Args)]
#[command(after_long_help = "Examples:
  tokenaudit audit logs/ --out reports/
  tokenaudit audit logs/ --format md,html,png --out reports/2026-10
  tokenaudit audit 'logs/2026-10-*.jsonl.gz' --since 2026-10-01 --until 2026-10-31
  zcat today.jsonl.gz | tokenaudit audit - --format json --out /tmp/audit
  tokenaudit audit exports/ --config tokenaudit.toml --prices our-prices.json --strict

Exit codes: 0 the reports were written (rejected lines are counted in them
and warned about), 2 an error (bad flags, config or inputs, or under
--strict any rejected line): no report written.")]
pub struct AuditArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Folder to write the reports into (created if missing). Only
    /// tokenaudit's own files (audit.md, audit.json, audit-*.csv,
    /// audit.html, audit-chart-*.png, focus.csv, focus.parquet) are
    /// replaced; anything else in the folder is left alone.
    #[arg(long, short, default_value = "reports", value_name = "DIR")]
    pub out: PathBuf,

    /// Report formats, comma-separated: md, json, csv, html (one
    /// self-contained page with charts, for reading and printing), focus
    /// (FinOps FOCUS cost rows by day, model and token type: focus.csv and
    /// focus.parquet; not in the default set), png (the HTML report's charts
    /// as audit-chart-*.png images; not in the default set).
    #[arg(
        long,
        short,
        default_value = "md,json,csv,html",
        value_delimiter = ',',
        value_name = "LIST"
    )]
    pub format: Vec<String>,
}

/// What to read and how: shared by `audit`, `whatif` and `rules`' siblings.
/// Log files or a store, one of the two.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["paths", "store"])))]
pub struct InputArgs {
    /// Log files, directories, globs, or `-` for stdin. JSONL (plain, .gz,
    /// .zst), JSON, CSV and Parquet; the encoding is sniffed. Directories
    /// are read recursively for files named like logs (.jsonl, .ndjson,
    /// .json, .log, .csv, .tsv, .parquet, compressed or rotated copies such as
    /// app.jsonl.1 or app.log-20251001.gz); the others are named on stderr.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,

    /// Read the calls from a store that `tokenaudit ingest` keeps, instead
    /// of log files: only the days the window needs are read, and the
    /// result is the audit of the logs the store was fed. Each day's
    /// accumulated state is kept in DIR/_cache, so the next run reads only
    /// new days (derived data, often larger than the calls' Parquet:
    /// deleting it is safe; docs/store.md).
    #[arg(long, value_name = "DIR", conflicts_with = "paths")]
    pub store: Option<PathBuf>,

    /// Run the audit of --store on a Ballista cluster (df://HOST:PORT, a
    /// `tokenaudit cluster scheduler`), on Ballista inside this process
    /// (standalone), on DataFusion in this process (datafusion, the
    /// default), or with the store's own reader (reader: no DataFusion, as
    /// a build without the feature). --store may then also be
    /// s3://bucket/prefix or file:///dir. See docs/cluster.md.
    #[cfg(feature = "cluster")]
    #[arg(long, value_name = "ENGINE", requires = "store")]
    pub engine: Option<String>,

    /// Said, not taken, in a build without the `cluster` feature.
    #[cfg(not(feature = "cluster"))]
    #[arg(long, value_name = "ENGINE", hide = true)]
    pub engine: Option<String>,

    /// A price catalog file in tokenaudit's format (see `tokenaudit prices
    /// import`) whose models add to or replace the built-in ones. Repeatable;
    /// later files win.
    #[arg(long, value_name = "FILE")]
    pub prices: Vec<PathBuf>,

    /// Config file (TOML): [mapping] for logs in your own shape, [detect]
    /// and [rules.CODE] for detector thresholds, [[budget]] for budgets,
    /// [attribution] for which field is the feature.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Only calls at or after this date (YYYY-MM-DD, UTC) or instant (RFC 3339;
    /// without an offset, UTC).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,

    /// Only calls up to this date, inclusive (YYYY-MM-DD, UTC), or before this
    /// instant (RFC 3339; without an offset, UTC). With --since too, the window
    /// is compared with the span of the same length just before it.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,

    /// Read every input as this built-in format instead of detecting it per
    /// file: gateway, openai-batch, anthropic-batch, otlp-json, langfuse,
    /// helicone, bedrock, kong, openrouter, gemini-batch, bedrock-batch, claude-code,
    /// codex
    /// (see `tokenaudit formats`). A [mapping] in --config takes precedence.
    #[arg(long, value_name = "NAME")]
    pub input_format: Option<String>,

    /// Fail (exit 2, no report written) if any line or file was rejected.
    /// (Inputs with no log file at all always fail.)
    #[arg(long)]
    pub strict: bool,

    /// No progress bar and no summary on stdout.
    #[arg(long, short)]
    pub quiet: bool,

    /// Worker threads, at most 1,024 (default: all cores).
    #[arg(long, default_value_t = 0, value_name = "N", hide_default_value = true,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=1024))]
    pub threads: usize,

    /// Attribution only: skip the waste detectors and the savings estimate
    /// (a little faster on very large inputs).
    #[arg(long)]
    pub no_findings: bool,

    /// Show up to 3 excerpts (200 characters each) of the prompts behind the
    /// duplicate-request and system-prompt findings (TA103, TA104, TA109,
    /// TA110) in every report. Off by default: reports carry no prompt text,
    /// only fingerprints, so they can be shared without leaking user input.
    #[arg(long)]
    pub include_prompts: bool,
}

/// The report folder is never read as logs; as an input folder itself, the
/// run would read nothing and write over the logs' own names: an error.
fn refuse_input_as_out(out: &std::path::Path, inputs: &[String]) -> Result<()> {
    let Ok(canonical) = out.canonicalize() else {
        return Ok(());
    };
    if inputs.iter().any(|i| {
        std::path::Path::new(i)
            .canonicalize()
            .is_ok_and(|i| i == canonical)
    }) {
        // An input file given as the report folder (hunt77: called an
        // input folder, with a suggestion inside the file).
        if !canonical.is_dir() {
            bail!(
                "--out {} is one of the input logs: the reports are written into a folder; give another, e.g. --out report",
                out.display()
            );
        }
        bail!(
            "--out {} is an input folder: its logs would not be read (a report folder never is), and the report would be written among them; write the report elsewhere, e.g. --out {}",
            out.display(),
            out.join("report").display()
        );
    }
    // A folder inside an input folder that holds logs (`--out
    // exports/2026-10` among the exports): they would be left out.
    let inside = inputs.iter().any(|i| {
        std::path::Path::new(i)
            .canonicalize()
            .is_ok_and(|i| canonical.starts_with(i))
    });
    if inside {
        let logs = tokenaudit_ingest::source::expand_inputs_and_left_out(
            &[out.to_string_lossy().into_owned()],
            &[],
        )
        .map(|(sources, _)| sources)
        .unwrap_or_default();
        if let Some(first) = logs.first() {
            bail!(
                "--out {} holds {} log file{} ({}{}) that the audit of its input folder would leave out (a report folder is never read); write the report elsewhere",
                out.display(),
                logs.len(),
                if logs.len() == 1 { "" } else { "s" },
                first.display(),
                if logs.len() > 1 { ", …" } else { "" }
            );
        }
    }
    Ok(())
}

fn parse_instant(text: &str, flag: &str, end_of_day: bool) -> Result<DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let d = if end_of_day {
            d.succ_opt().unwrap_or(d)
        } else {
            d
        };
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    // An instant without an offset is UTC, as a log's timestamp is.
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        // (As a log's time may be written: hunt154.)
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Ok(t.and_utc());
        }
    }
    // A day the month has not (2026-11-31): said so.
    let no_such_day = text.len() == 10
        && text.as_bytes()[4] == b'-'
        && text.as_bytes()[7] == b'-'
        && text[..4].parse::<i32>().is_ok_and(|y| {
            text[5..7].parse::<u32>().is_ok_and(|m| {
                (1..=12).contains(&m)
                    && text[8..]
                        .parse::<u32>()
                        .is_ok_and(|d| (29..=31).contains(&d))
                    && NaiveDate::from_ymd_opt(y, m, 1).is_some()
            })
        });
    if no_such_day {
        bail!("{flag} {text:?}: that month has no such day");
    }
    bail!(
        "{flag} {text:?}: expected a date like 2026-10-31 or an instant like 2026-10-31T12:00:00Z (UTC without an offset)"
    )
}

fn formats(list: &[String]) -> Result<Vec<ReportFormat>> {
    let mut out = Vec::new();
    for f in list {
        match ReportFormat::parse(f) {
            Some(f) if !out.contains(&f) => out.push(f),
            Some(_) => {}
            None => {
                bail!(
                    "--format {f:?}: expected md, json, csv, html, focus or png (comma-separated)"
                )
            }
        }
    }
    Ok(out)
}

/// The built-in catalog with the `--prices` files overlaid, and the files'
/// texts (a cluster's executors build the same catalog from them).
pub fn catalog(paths: &[PathBuf]) -> Result<(Catalog, Vec<String>)> {
    let texts = paths
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .with_context(|| format!("--prices: cannot read {}", p.display()))
        })
        .collect::<Result<Vec<String>>>()?;
    let catalog = Catalog::builtin_with(texts.iter().map(String::as_str)).map_err(|(i, e)| {
        anyhow::Error::new(e).context(format!(
            "--prices {}: not a tokenaudit price catalog (convert LiteLLM or genai-prices files with `tokenaudit prices import`)",
            paths[i].display()
        ))
    })?;
    Ok((catalog, texts))
}

/// Where the calls come from.
pub enum Input {
    Logs(Vec<Source>),
    Store(Box<tokenaudit_store::Store>),
    /// A store named by an object store URL (its state read from there).
    #[cfg(feature = "cluster")]
    StoreUrl(
        tokenaudit_cluster::StoreUrl,
        Box<tokenaudit_store::commit::State>,
    ),
}

/// Everything read from the command line and config, ready to analyse.
pub struct Prepared {
    pub input: Input,
    pub options: IngestOptions,
    pub catalog: Catalog,
    /// The `--prices` files' texts (a cluster's executors build the same
    /// catalog from them; the store's audit cache names them).
    pub prices: Vec<String>,
    pub analyze: AnalyzeConfig,
    pub detect: DetectConfig,
    total_bytes: u64,
    show_bar: bool,
    strict: bool,
    #[cfg(feature = "cluster")]
    pub engine: tokenaudit_cluster::Engine,
}

impl InputArgs {
    /// Reads the config and price files and expands the inputs.
    pub fn prepare(&self) -> Result<Prepared> {
        self.prepare_skipping(&[])
    }

    /// [`InputArgs::prepare`], with the walks of input folders not
    /// entering `skip` (the run's report folder: its CSV and JSON files
    /// would be read as calls on the next run).
    pub fn prepare_skipping(&self, skip: &[PathBuf]) -> Result<Prepared> {
        let config = match &self.config {
            Some(p) => crate::config::load(p)?,
            None => Default::default(),
        };
        let mut detect = config.detect_config(self.config.as_deref())?;
        detect.threads = self.threads;
        let budgets = config.budgets(self.config.as_deref())?;
        let feature_from = config.feature_from(self.config.as_deref())?;
        let mapping = match config.mapping {
            Some(m) => Some(Arc::new(Mapping::new(m).with_context(|| {
                format!(
                    "config file {}",
                    self.config
                        .as_ref()
                        .map_or(String::new(), |p| p.display().to_string())
                )
            })?)),
            None => None,
        };
        let mut analyze = AnalyzeConfig {
            since: self
                .since
                .as_deref()
                .map(|s| parse_instant(s, "--since", false))
                .transpose()?,
            until: self
                .until
                .as_deref()
                .map(|s| parse_instant(s, "--until", true))
                .transpose()?,
            budgets,
            attribution_only: self.no_findings,
            list_costs: false,
            previous: None,
            include_prompts: self.include_prompts,
            feature_from,
        };
        if let (Some(s), Some(u)) = (analyze.since, analyze.until) {
            if s >= u {
                let until = self.until.as_deref().unwrap_or("");
                // A date's whole day is in the window; an instant is its end.
                let day_included = NaiveDate::parse_from_str(until, "%Y-%m-%d").is_ok();
                bail!(
                    "--since {} is not before --until {until}{}",
                    self.since.as_deref().unwrap_or(""),
                    if day_included {
                        " (--until's day is included)"
                    } else {
                        " (--until is the window's end, not in it)"
                    }
                );
            }
            // A whole window is compared with the span of the same length
            // just before it (`review` sets the previous month instead).
            analyze.previous = Some((s - (u - s), s));
        }
        // (clap's `requires` does not see the flattened --store: hunt72's
        // `audit LOGS --engine df://…` ran here, exit 0.)
        #[cfg(feature = "cluster")]
        if let (Some(engine), None) = (&self.engine, &self.store) {
            bail!(
                "--engine {engine}: an engine audits a store, given with --store DIR or a store URL; log files are read by this process (ingest them into a store first: `tokenaudit ingest LOGS --store DIR`)"
            );
        }
        // As a `cluster` build says it, and the engines it would take.
        #[cfg(not(feature = "cluster"))]
        if let Some(engine) = self.engine.as_deref() {
            if self.store.is_none() {
                bail!(
                    "--engine {engine}: an engine audits a store, given with --store DIR; log files are read by this process (ingest them into a store first: `tokenaudit ingest LOGS --store DIR`)"
                );
            }
            if ["datafusion", "standalone"].contains(&engine) || engine.starts_with("df://") {
                bail!(
                    "--engine {engine}: this build has no DataFusion or Ballista (build with `cargo build --release --features cluster`, docs/cluster.md); without --engine, the store's own reader audits --store DIR"
                );
            }
            if engine != "reader" {
                bail!(
                    "--engine {engine}: no such engine (reader; with the `cluster` feature also datafusion, standalone and df://HOST:PORT)"
                );
            }
        }
        let (catalog, prices) = catalog(&self.prices)?;
        let (input, total_bytes) = match &self.store {
            #[cfg(feature = "cluster")]
            Some(url) if crate::cluster::is_url(url) => {
                if self.engine.as_deref() == Some("reader") {
                    bail!(
                        "--store {}: --engine reader reads a store directory; give a DataFusion engine for a URL",
                        url.display()
                    );
                }
                let (url, state) = crate::cluster::open(url)?;
                warn_schema_1(&state, url.as_str());
                let bytes = state.parts.values().map(|p| p.bytes).sum();
                (Input::StoreUrl(url, Box::new(state)), bytes)
            }
            Some(dir) => {
                let store = tokenaudit_store::Store::open(dir)
                    .with_context(|| format!("--store {}", dir.display()))?;
                if self.include_prompts && !store.holds_prompt_text() {
                    eprintln!(
                        "warning: --include-prompts: the store {} holds no prompt text (no ingest into it had --include-prompts): the reports have no excerpts",
                        dir.display()
                    );
                }
                warn_schema_1(store.state(), &dir.display().to_string());
                let bytes = store.state().parts.values().map(|p| p.bytes).sum();
                (Input::Store(Box::new(store)), bytes)
            }
            None => {
                for out in skip {
                    refuse_input_as_out(out, &self.paths)?;
                }
                let (sources, left_out) = expand_inputs_and_left_out(&self.paths, skip)?;
                crate::output::print_left_out(&left_out);
                // Everything named lies in the report folder, which is
                // never read: a $0 report would say nothing of the logs.
                if sources.is_empty()
                    && left_out
                        .folders
                        .iter()
                        .any(|(_, why)| *why == tokenaudit_ingest::source::REPORT_FOLDER)
                {
                    bail!(
                        "every file the inputs match lies in the report folder (--out), where folders and globs are not read (it holds the reports): name the log files themselves, or write the reports elsewhere"
                    );
                }
                let bytes = sources
                    .iter()
                    .map(|s| match s {
                        Source::File(p) => std::fs::metadata(p).map_or(0, |m| m.len()),
                        Source::Stdin => 0,
                    })
                    .sum();
                (Input::Logs(sources), bytes)
            }
        };
        let input_format = match &self.input_format {
            Some(name) => Some(Format::from_name(name).with_context(|| {
                let names: Vec<&str> = tokenaudit_ingest::formats::REGISTRY
                    .iter()
                    .map(|b| b.name)
                    .collect();
                // Names a user may try for what is read without one
                // (hunt154).
                let hint = match name.to_ascii_lowercase().as_str() {
                    "csv" | "tsv" | "parquet" | "jsonl" | "json" => {
                        "; CSV, Parquet and JSON are told from the file itself: leave --input-format out, or name the shape its records have"
                    }
                    "litellm" | "litellm-spend-logs" | "openai" | "anthropic" => {
                        "; LiteLLM's spend logs and OpenAI's and Anthropic's responses are read by `gateway` (also told from the file)"
                    }
                    _ => "",
                };
                format!(
                    "--input-format {name:?}: not a built-in format; expected one of {} (see `tokenaudit formats`){hint}",
                    names.join(", ")
                )
            })?),
            None => None,
        };
        let options = IngestOptions {
            threads: self.threads,
            mapping,
            input_format,
            ..Default::default()
        };
        if let Input::Store(store) = &input {
            warn_read_otherwise(store.state(), &options);
            warn_pruned(store.state(), analyze.since);
        }
        Ok(Prepared {
            input,
            options,
            catalog,
            prices,
            analyze,
            detect,
            total_bytes,
            show_bar: !self.quiet && std::io::stderr().is_terminal(),
            strict: self.strict,
            #[cfg(feature = "cluster")]
            engine: crate::cluster::engine(self.engine.as_deref())?,
        })
    }
}

impl Prepared {
    /// Runs the audit with a progress bar on a terminal; with `--strict`,
    /// fails on any rejected input.
    pub fn run(mut self) -> Result<(Audit, Profile, Catalog)> {
        // An empty folder (tonight's logs not there yet, a wrong path) is
        // no report of $0 over the last one: an error, as a glob that
        // matches nothing is (hunt154).
        if matches!(&self.input, Input::Logs(s) if s.is_empty()) {
            bail!(
                "no log file was found in the inputs, so nothing was written: check the paths (the notes above name what was left out), or whether tonight's export has arrived."
            );
        }
        let progress = Arc::new(Progress::default());
        self.options.progress = Some(progress.clone());
        let done = std::sync::atomic::AtomicBool::new(false);
        let mut cache_use = None;
        let outcome = std::thread::scope(|scope| {
            let bar_thread = self.show_bar.then(|| {
                let (progress, done, total) = (&progress, &done, self.total_bytes);
                scope.spawn(move || {
                    draw_progress(
                        progress,
                        done,
                        total,
                        "analysing (merging the workers' results, running the rules)",
                    )
                })
            });
            let result = match &self.input {
                Input::Logs(sources) => Ok(tokenaudit_analyze::run_with_profile(
                    sources,
                    &self.options,
                    &self.catalog,
                    &self.analyze,
                    &self.detect,
                )),
                #[cfg(feature = "cluster")]
                Input::Store(store) if self.engine != tokenaudit_cluster::Engine::Reader => {
                    tokenaudit_cluster::StoreUrl::parse(&store.root().to_string_lossy())
                        .and_then(|url| crate::cluster::audit(&self, &url, store.state()))
                }
                #[cfg(feature = "cluster")]
                Input::StoreUrl(url, state) => crate::cluster::audit(&self, url, state),
                Input::Store(store) => {
                    let query = store_query(&self.analyze, &self.options);
                    let build = build_id();
                    let spec = tokenaudit_store::cache::Spec {
                        catalog: &self.catalog,
                        prices: &self.prices,
                        config: &self.analyze,
                        tool_version: &build,
                    };
                    tokenaudit_analyze::run_with_reader(
                        &self.catalog,
                        &self.analyze,
                        &self.detect,
                        |make| {
                            let (sinks, summary, u) =
                                tokenaudit_store::cache::scan(store, &query, &spec, make)?;
                            cache_use = Some(u);
                            Ok::<_, tokenaudit_store::StoreError>((sinks, summary))
                        },
                    )
                    .with_context(|| format!("reading the store {}", store.root().display()))
                }
            };
            done.store(true, Ordering::SeqCst);
            if let Some(t) = bar_thread {
                let _ = t.join();
            }
            result
        });
        if let Some(u) = &cache_use {
            print_cache_use(u);
        }
        let outcome = outcome?;
        print_timings(&outcome.timings);
        let Outcome {
            audit,
            profile,
            summary,
            ..
        } = outcome;
        warn_unmatched_config(&audit, &self.analyze);
        warn_misspelled_prices(&audit, &self.prices);
        warn_unmatched_mapping(self.options.mapping.as_deref());
        // (Of logs read with the mapping, and all in the window: a window
        // or a store says nothing of what the lines hold, hunt69.)
        if matches!(self.input, Input::Logs(_)) && audit.input.outside_window == 0 {
            warn_unmatched_labels(self.options.mapping.as_deref(), &audit, &summary);
        }
        // A `[mapping.only]` path no line has skips every line: with
        // --strict, an error, not a $0 report (hunt65). (A count column no
        // line fills is said, and is no error: a column can be empty.)
        if self.strict {
            let absent = self
                .options
                .mapping
                .as_deref()
                .map(|m| m.only_absent())
                .unwrap_or_default();
            if !absent.is_empty() {
                bail!(
                    "--strict: {} of [mapping.only] that no line has (above), so every line was skipped; no report written.",
                    counted(absent.len() as u64, "path", "paths")
                );
            }
        }
        // Inputs that hold no line at all (an export that came empty, a
        // pipe whose copy failed): with --strict, an error, not a $0 report
        // in place of the last good one (hunt185).
        // (Bytes, not lines: a CSV of its header alone or a Parquet file of
        // no row is a whole export of a quiet day, hunt186.)
        // (Nor a gzip or zstd of nothing, or of a line break: hunt187.)
        // Looked at only when no line was read, and a pipe or a FIFO, read
        // once, not opened again.
        let empty = || match &self.input {
            Input::Logs(sources) => sources.iter().all(|s| match s {
                tokenaudit_ingest::Source::File(p) if p.is_file() => holds_nothing(s),
                _ => true,
            }),
            _ => false,
        };
        if self.strict && audit.input.lines == 0 && summary.rejects.total() == 0 && empty() {
            bail!(
                "--strict: the inputs hold no line (an empty file or stdin: an export or a copy that failed?); no report written."
            );
        }
        if self.strict && summary.rejects.strict_failures() > 0 {
            let mut msg = format!(
                "--strict: {}; no report written.\n",
                strict_counts(summary.rejects.total(), summary.rejects.fields_ignored())
            );
            for s in summary.rejects.samples().iter().take(10) {
                let at = if s.line == 0 {
                    String::new()
                } else {
                    format!(":{}", s.line)
                };
                msg.push_str(&format!("  {}{at}: {} ({})\n", s.file, s.reason, s.detail));
            }
            bail!("{}", msg.trim_end());
        }
        Ok((audit, profile, self.catalog))
    }
}

/// A mapped token column no line had a count in (a misspelled name, or a
/// column always empty): its calls were read at 0 tokens of that kind,
/// which only this says.
/// Says how many of a store's calls an older tokenaudit ingested (store
/// schema 1): their near-duplicate signatures are of another scheme, which
/// this one does not read.
/// A window that starts before the store's prune date: the days before it
/// are gone, so its totals are of the days kept, and findings that relied
/// on the pruned days are resolved in the findings ledger, to come back
/// as new (hunt71: a prune inside the nightly's 30-day window closed live
/// tickets and opened them again two nights later, without a word).
fn warn_pruned(state: &tokenaudit_store::commit::State, since: Option<DateTime<Utc>>) {
    let (Some(pruned), Some(since)) = (&state.prune_before, since) else {
        return;
    };
    let Ok(first) = NaiveDate::parse_from_str(pruned, "%Y-%m-%d") else {
        return;
    };
    if since.date_naive() < first {
        eprintln!(
            "warning: --store: --since {} is before the store's prune date {pruned}: the days before it were pruned, so this window holds only the days from {pruned} on, and findings that relied on earlier days are no longer found (the findings ledger marks them resolved); prune only days before the windows you audit",
            since.date_naive()
        );
    }
}

/// A `[mapping]` or `--input-format` given with `--store` other than the
/// one its files were read with: the store's rows are as that reading made
/// them (the next `ingest` with this one reads them again).
fn warn_read_otherwise(state: &tokenaudit_store::commit::State, options: &IngestOptions) {
    let Some(reading) = tokenaudit_store::commit::reading_of(options) else {
        return;
    };
    let other: Vec<&str> = state
        .sources
        .values()
        .filter(|e| !e.pruned && !tokenaudit_store::plan::same_reading(e, Some(&reading)))
        .map(|e| e.name.as_str())
        .collect();
    if !other.is_empty() {
        eprintln!(
            "warning: --store: {} of its files were read with another [mapping] or --input-format than this run's ({}): their calls are as that reading made them; `tokenaudit ingest` with this config reads them again",
            other.len(),
            other.iter().take(3).copied().collect::<Vec<_>>().join(", ")
        );
    }
}

fn warn_schema_1(state: &tokenaudit_store::commit::State, store: &str) {
    let rows = state.schema_1_rows();
    if rows > 0 {
        eprintln!(
            "warning: --store {store}: up to {rows} of its calls were ingested by an older tokenaudit (store schema 1); the near-duplicate signatures of those with prompt text are of an older scheme this version does not read, so TA110 does not compare them (unless the store keeps their prompt text and --include-prompts is given). Ingest their logs again into a new store to include them."
        );
    }
}

pub(crate) fn warn_unmatched_mapping(mapping: Option<&tokenaudit_ingest::mapping::Mapping>) {
    for path in mapping.map(|m| m.unmatched()).unwrap_or_default() {
        eprintln!(
            "warning: [mapping] {path}: no line read with the mapping has a count there, so its calls count no such tokens; check the name against the file's columns or keys"
        );
    }
    let beside = mapping.map_or(0, |m| m.reasoning_beside());
    if beside > 0 {
        eprintln!(
            "warning: [mapping] {beside} {} more reasoning_tokens than output_tokens, which cannot hold them, as output_includes_reasoning = true (its default) says: {} read with the reasoning beside the output, the other rows with it inside; if the output count leaves the reasoning out on every row (Gemini's candidatesTokenCount beside thoughtsTokenCount), set output_includes_reasoning = false",
            if beside == 1 { "row has" } else { "rows have" },
            if beside == 1 { "it was" } else { "they were" },
        );
    }
    for path in mapping.map(|m| m.only_absent()).unwrap_or_default() {
        eprintln!(
            "warning: [mapping.only] {path:?}: no line read with the mapping has a value there, so every line was skipped as not selected; check the path against the file's columns or keys"
        );
    }
}

/// The mapped label and model paths no call had a value at (hunt65: a
/// misspelled `feature` path made every call's feature `(none)` without a
/// word; a misspelled `model` path was said only as "none of its lines is
/// a call").
fn warn_unmatched_labels(
    mapping: Option<&tokenaudit_ingest::mapping::Mapping>,
    audit: &Audit,
    summary: &tokenaudit_ingest::IngestSummary,
) {
    let Some(m) = mapping else { return };
    for (name, path) in m.label_paths() {
        let unmatched = if name == "model" {
            // Every reject a missing model: lines rejected for another
            // reason had one (hunt98: rows with a model and no tokens sent
            // the user to fix the model's path).
            let missing = summary
                .rejects
                .count(tokenaudit_ingest::rejects::RejectReason::MissingModel);
            audit.totals.calls == 0 && missing > 0 && missing == summary.rejects.total()
        } else {
            audit.totals.calls > 0
                && audit
                    .dim(name)
                    .iter()
                    .all(|r| r.key == tokenaudit_analyze::accumulate::NONE)
        };
        if unmatched {
            eprintln!(
                "warning: [mapping] {path}: no line read with the mapping has a value there, so {}; check the name against the file's columns or keys",
                if name == "model" {
                    "every line was rejected as missing its model".to_string()
                } else {
                    format!("every call's {name} is (none)")
                }
            );
        }
    }
    if audit.totals.calls == 0 {
        return;
    }
    let present = |field: &str| {
        audit
            .coverage
            .iter()
            .find(|c| c.field == field)
            .map_or(0, |c| c.present)
    };
    for (name, path) in m.other_paths() {
        // Whether no call has the path's field, and what that costs.
        let (absent, consequence) = match name.as_str() {
            "timestamp" => (
                present("timestamp") == 0,
                "no call has a time (priced at today's prices, no daily figures, no spike or drift rules)".to_string(),
            ),
            "cost" => (
                present("logged_cost") == 0,
                "no call's logged cost is reconciled with its price".to_string(),
            ),
            "messages" | "prompt" | "prompt_fingerprint" => (
                present("prompt_fingerprint") == 0,
                "no call's prompt is compared (no repeats, caching or retry findings from it)"
                    .to_string(),
            ),
            "batch" => (
                present("batch") == 0,
                "no call is known to be a batch call (all are priced at real-time rates)".to_string(),
            ),
            "cache_hit" => (
                !m.cache_hit_found(),
                "no call is known to have been answered from a cache (each is counted and priced as billed)".to_string(),
            ),
            "status" | "http_status" | "error_kind" => (
                present("status") + present("http_status") + present("error_kind") == 0,
                "no call is known to have failed".to_string(),
            ),
            // (Told from the tag rows when all of them are listed.)
            tag if tag.starts_with("tag ") => {
                let t = &tag["tag ".len()..];
                (
                    audit.tags_distinct as usize <= audit.tags.len()
                        && !audit.tags.iter().any(|r| {
                            r.key.strip_prefix(t).is_some_and(|rest| rest.starts_with('='))
                        }),
                    format!("no call has the tag {t}"),
                )
            }
            field => (present(field) == 0, format!("no call has its {field}")),
        };
        if !absent {
            continue;
        }
        eprintln!(
            "warning: [mapping] {path}: no line read with the mapping has a value there, so {consequence}; check the name against the file's columns or keys"
        );
    }
}

/// A `--prices` entry that replaced no built-in model, priced no call of
/// the run, and is one or two letters from a built-in model of its
/// provider: a misspelled id, whose price did nothing (hunt174:
/// `gemini-2.5-por`'s contract rates unused, the calls at list prices).
fn warn_misspelled_prices(audit: &Audit, texts: &[String]) {
    if texts.is_empty() || audit.totals.calls == 0 {
        return;
    }
    let builtin = Catalog::builtin();
    let used: std::collections::HashSet<&str> = audit
        .model_names
        .iter()
        .filter_map(|r| r.resolved.as_deref())
        .collect();
    for text in texts {
        let Ok(file) = Catalog::from_json_str(text) else {
            continue;
        };
        for (_, m) in file.models() {
            if builtin.models().any(|(_, o)| same_entry(o, m))
                || used.contains(format!("{}/{}", m.provider, m.id).as_str())
            {
                continue;
            }
            // Only a near model that priced calls of this run at the
            // built-in's rates, and that the file does not price itself:
            // an imported catalog holds hundreds of models a letter or two
            // from another (`claude-3-5-haiku`, `claude-3-haiku`), which
            // were 117 false warnings on LiteLLM's.
            let near = builtin.models().find(|(_, o)| {
                o.provider == m.provider
                    && used.contains(format!("{}/{}", o.provider, o.id).as_str())
                    && !file.models().any(|(_, f)| same_entry(f, o))
                    && edit_distance(&o.id.to_lowercase(), &m.id.to_lowercase()) <= 2
            });
            if let Some((_, o)) = near {
                eprintln!(
                    "warning: --prices: {}/{} is no model of the built-in catalog and priced no call of this run; if it is {}/{} misspelled, its prices did nothing (the calls are at the built-in's)",
                    m.provider, m.id, o.provider, o.id
                );
            }
        }
    }
}

/// The edit distance of two short names (insertions, deletions and
/// substitutions of one character).
fn same_entry(
    a: &tokenaudit_core::pricing::ModelEntry,
    b: &tokenaudit_core::pricing::ModelEntry,
) -> bool {
    a.provider == b.provider && a.id.eq_ignore_ascii_case(&b.id)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Configuration values no call matched, which would otherwise do nothing
/// unseen: a budget's feature no call has (the budget is never checked, a
/// `--fail-on` gate never fails), and an attribution tag no call carries
/// (every call is `(none)`).
fn warn_unmatched_config(audit: &Audit, analyze: &AnalyzeConfig) {
    if audit.totals.calls == 0 {
        return;
    }
    let features: std::collections::BTreeSet<&str> = audit
        .dim("feature")
        .iter()
        .map(|r| r.key.as_str())
        .collect();
    let ta116_off = audit
        .rule_coverage
        .iter()
        .any(|r| r.rule == "TA116" && r.status == tokenaudit_analyze::coverage::Status::Disabled);
    if ta116_off && !analyze.budgets.is_empty() {
        // (hunt118: budgets checked nothing, without a word.)
        eprintln!(
            "warning: [[budget]]: TA116 (budget-overrun) is turned off by [rules.TA116] enabled = false, so no budget was checked"
        );
    }
    for b in &analyze.budgets {
        if b.feature != "*" && !features.contains(b.feature.as_str()) {
            eprintln!(
                "warning: [[budget]] feature = {:?}: no call of this run has this feature, so the budget checked nothing (misspelled? features: {})",
                b.feature,
                crate::output::first_of(&features.iter().copied().collect::<Vec<_>>(), 8)
            );
        }
    }
    if let tokenaudit_analyze::accumulate::FeatureFrom::Tag(tag) = &analyze.feature_from {
        let none = features.len() == 1 && features.contains(tokenaudit_analyze::NONE);
        if none && tokenaudit_ingest::record::tags::unkept_key(tag) {
            // (hunt178: said as "no call carries the tag" of a log whose
            // every call did.)
            eprintln!(
                "warning: [attribution] feature = \"tag:{tag}\": tokenaudit keeps no tag of this key (a network address, a phone number or a value of its own per call: a row per call), so every call's feature is (none); name a tag of a label, or map the field to `feature` in a [mapping]"
            );
        } else if none {
            eprintln!(
                "warning: [attribution] feature = \"tag:{tag}\": no call carries the tag {tag:?}, so every call's feature is (none); see the tags in audit-by-tag.csv"
            );
        }
    }
}

/// This build, for the store's audit cache: the version, and the
/// executable's size and time (a rebuilt binary may accumulate otherwise).
fn build_id() -> String {
    let version = env!("CARGO_PKG_VERSION");
    match std::env::current_exe().and_then(std::fs::metadata) {
        Ok(m) => format!("{version} {} {:?}", m.len(), m.modified().ok()),
        Err(_) => version.to_string(),
    }
}

/// The days of the store a run needs: its window and, for a comparison,
/// the period before it (`None`: all).
pub fn store_query(
    analyze: &AnalyzeConfig,
    options: &IngestOptions,
) -> tokenaudit_store::scan::Query {
    let from = match (analyze.since, analyze.previous) {
        (Some(s), Some((p, _))) => Some(s.min(p)),
        (s, _) => s,
    };
    let days = match (from, analyze.until) {
        (None, None) => None,
        (from, until) => Some((
            from.map_or(NaiveDate::MIN, |t| t.date_naive()),
            // `until` is exclusive.
            until.map_or(NaiveDate::MAX, |t| {
                (t - chrono::Duration::nanoseconds(1)).date_naive()
            }),
        )),
    };
    tokenaudit_store::scan::Query {
        days,
        prompts: analyze.include_prompts,
        threads: options.threads,
    }
}

pub fn run(args: AuditArgs) -> Result<ExitCode> {
    let prepared = args
        .input
        .prepare_skipping(std::slice::from_ref(&args.out))?;
    write(
        prepared,
        Reports {
            out: &args.out,
            formats: &args.format,
            inputs: &args.input.paths,
            quiet: args.input.quiet,
            window: "--since/--until",
        },
    )
}

/// Whether a file holds no text but blanks, once decompressed.
fn holds_nothing(source: &tokenaudit_ingest::Source) -> bool {
    use std::io::Read;
    let Ok((_, stream)) = tokenaudit_ingest::source::open(source) else {
        return false;
    };
    let mut head = Vec::new();
    stream.take(4096).read_to_end(&mut head).is_ok()
        && head.len() < 4096
        && head.iter().all(u8::is_ascii_whitespace)
}

/// An `--out` no report can go to, refused before the run (hunt185: found
/// after the whole input was read): a file, a folder that cannot be
/// written, or a folder inside a store, whose `calls/` hold only the
/// store's parts (a `focus.parquet` there was read as calls by DuckDB and
/// failed `store check`).
fn refuse_out(out: &std::path::Path) -> Result<()> {
    if out.is_file() {
        bail!(
            "cannot create output folder {}: it is a file; give a folder for the reports",
            out.display()
        );
    }
    // Where it really is: its deepest existing folder with links and `..`
    // resolved, and the rest (hunt187: a link into a store got through,
    // `store/calls/../../x` was refused).
    let absolute = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    let absolute = loop {
        if let Ok(real) = existing.canonicalize() {
            break rest
                .iter()
                .rev()
                .fold(real, |p: std::path::PathBuf, c| p.join(c));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break absolute.clone(),
        }
    };
    if let Some(store) = absolute
        .ancestors()
        .find(|a| a.join("_commits").is_dir() && a.join("calls").is_dir())
    {
        bail!(
            "--out {}: is inside the store {}, which holds only what `tokenaudit ingest` writes; write the reports to a folder of their own",
            out.display(),
            store.display()
        );
    }
    if out.is_dir() {
        let probe = out.join(format!(".tokenaudit-probe-{}", std::process::id()));
        std::fs::File::create(&probe)
            .map_err(|e| anyhow::anyhow!("--out {}: cannot write there ({e})", out.display()))?;
        let _ = std::fs::remove_file(&probe);
    }
    Ok(())
}

/// Where and what to write (shared by `audit` and `review`).
pub struct Reports<'a> {
    pub out: &'a std::path::Path,
    pub formats: &'a [String],
    pub inputs: &'a [String],
    pub quiet: bool,
    /// The options that set the window, for a hint when no call was read
    /// (`--since/--until`, `review`'s `--month`).
    pub window: &'a str,
}

/// Runs the prepared audit and writes the reports.
pub fn write(mut prepared: Prepared, to: Reports<'_>) -> Result<ExitCode> {
    // `-` is stdin for the inputs; reports are files (hunt63: a folder
    // named `-` was made).
    if to.out.as_os_str() == "-" {
        bail!("--out -: the reports are files written into a folder; give one (the summary is printed on stdout)");
    }
    let formats = formats(to.formats)?;
    let threads = prepared.options.threads;
    let want_focus = formats.contains(&ReportFormat::Focus);
    prepared.analyze.list_costs = want_focus;
    // A file of the user's where a report of fixed name goes is refused
    // before the run, not after it (hunt154: 93% of a run waited for it).
    for name in formats.iter().flat_map(|f| f.fixed_names()) {
        tokenaudit_report::refuse_not_ours(to.out, name)?;
    }
    refuse_out(to.out)?;
    let (audit, profile, catalog) = prepared.run()?;
    let focus =
        want_focus.then(|| tokenaudit_report::focus::rows(&audit, &profile.groups, &catalog));
    // The process ends right after the reports are written: freeing millions
    // of small observations one by one would only make it end later.
    std::mem::forget(profile);
    let info = RunInfo {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        inputs: to.inputs.to_vec(),
        focus,
    };
    let mut timings = Timings::start();
    let written = write_reports(to.out, &audit, &formats, &info, threads)?;
    timings.lap("reports");
    print_timings(&timings);
    if !to.quiet {
        print(&tokenaudit_report::terminal_text(&summary_text(
            &audit, &written,
        )))?;
    }
    for w in warnings(&audit, to.quiet, to.window, Some(&written)) {
        eprintln!("warning: {}", tokenaudit_report::terminal_text(&w));
    }
    let earlier = earlier_reports(to.out, &written);
    if !earlier.is_empty() {
        eprintln!(
            "warning: {} also holds report files an earlier run wrote and this one did not ({}): \
             they are not this report; remove them, or ask for their formats too (--format)",
            to.out.display(),
            crate::output::first_of(&earlier, 4)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What a nightly job should not miss, on stderr: inputs with the same
/// text (counted twice), no call read at all (a $0 report), and with
/// --quiet (no summary on stdout) rejected lines and calls left unpriced.
/// [`warnings`] on stderr for a command that writes no report (`whatif`,
/// `findings`): what the report would name is named by `tokenaudit audit`;
/// `more` replaces further phrases.
pub(crate) fn warn_without_report(a: &Audit, more: &[(&str, &str)]) {
    for w in warnings(a, true, "--since/--until", None) {
        let mut w = w
            .replace(
                "see Data quality in the report",
                "`tokenaudit audit` names them",
            )
            .replace("(see the report)", "(`tokenaudit audit` lists them)")
            .replace(
                "see the report's Data quality",
                "`tokenaudit audit` says more",
            );
        for (from, to) in more {
            w = w.replace(from, to);
        }
        eprintln!("warning: {}", tokenaudit_report::terminal_text(&w));
    }
}

pub(crate) fn warnings(
    a: &Audit,
    quiet: bool,
    window: &str,
    written: Option<&[PathBuf]>,
) -> Vec<String> {
    let mut out = Vec::new();
    // Inputs that could not be opened (no permission, gone, a dangling
    // link): named, with why when a sample says.
    let mut unreadable: Vec<String> = a
        .input
        .unreadable()
        .map(|f| {
            let why = a.input.rejected_samples.iter().find(|s| {
                s.file == f.file && s.reason == tokenaudit_ingest::RejectReason::UnreadableFile
            });
            match why {
                Some(s) => format!("{} ({})", f.file, s.detail),
                None => f.file.clone(),
            }
        })
        .collect();
    // (A Parquet file without its footer is one too, its rows unread:
    // hunt148's bug3.)
    for s in &a.input.rejected_samples {
        let named = a.input.unreadable().any(|f| f.file == s.file);
        if s.reason == tokenaudit_ingest::RejectReason::UnreadableFile && !named {
            unreadable.push(format!("{} ({})", s.file, s.detail));
        }
    }
    if !unreadable.is_empty() {
        out.push(format!(
            "could not read {} input{}, counted as rejected: {} (--strict makes this an error)",
            unreadable.len(),
            if unreadable.len() == 1 { "" } else { "s" },
            crate::output::first_of(&unreadable, 4)
        ));
    }
    // Inputs cut short (a `.gz` still being written, a Parquet file
    // without its footer): named, with what was read (hunt148's bug3:
    // "1 line rejected", the file named nowhere on the terminal).
    // A damaged row group of a Parquet file is not where it ends: the row
    // groups after it are read (hunt184: said as "cut short").
    let (damaged, cut): (Vec<String>, Vec<String>) = a
        .input
        .rejected_samples
        .iter()
        .filter(|s| s.reason == tokenaudit_ingest::RejectReason::TruncatedFile)
        .map(|s| format!("{} ({})", s.file, s.detail))
        .partition(|s| s.contains("corrupt parquet data in row group"));
    if !damaged.is_empty() {
        out.push(format!(
            "{} a damaged part whose rows could not be read, {} other rows read: {} (--strict makes this an error)",
            if damaged.len() == 1 {
                "1 input has".to_string()
            } else {
                format!("{} inputs have", damaged.len())
            },
            if damaged.len() == 1 { "its" } else { "their" },
            crate::output::first_of(&damaged, 4)
        ));
    }
    if !cut.is_empty() {
        out.push(format!(
            "{} cut short, read up to where {} ends: {} (--strict makes this an error)",
            if cut.len() == 1 {
                "1 input is".to_string()
            } else {
                format!("{} inputs are", cut.len())
            },
            if cut.len() == 1 { "it" } else { "each" },
            crate::output::first_of(&cut, 4)
        ));
    }
    for f in &a.input.files {
        let first = a.input.rejected_samples.iter().find(|s| s.file == f.file);
        out.extend(no_call_warning(
            &f.file, &f.format, f.lines, f.records, f.rejected, first,
        ));
        if let Some(earlier) = &f.same_content_as {
            let calls = if f.counted < f.records {
                format!(
                    "{} of its {} calls (those in the period or the one it is compared with) are",
                    f.counted, f.records
                )
            } else {
                format!("its {} calls are", f.records)
            };
            out.push(format!(
                "{} holds the same text as {earlier} once decompressed and unwrapped: {calls} counted a second time; leave one out of the inputs",
                f.file
            ));
        }
    }
    if !a.priced_elsewhere.is_empty() {
        let calls: u64 = a.priced_elsewhere.iter().map(|m| m.stats.calls).sum();
        let first = &a.priced_elsewhere[0];
        out.push(format!(
            "{} at another provider's rates: the catalog has no price from {} logged provider (e.g. {} from {}, priced as {}); see the report's Data quality",
            if calls == 1 { "1 call was priced".to_string() } else { format!("{calls} calls were priced") },
            if calls == 1 { "its" } else { "their" },
            first.logged_model,
            first.logged_host().unwrap_or(""),
            first.resolved.as_deref().unwrap_or("")
        ));
    }
    if let Some((n, said)) = a.input.summed() {
        out.push(format!("{n} {said}"));
    }
    // Calls priced at rates other than their own: the catalog lacks theirs.
    for (n, said, hint) in a.priced_at_other_rates() {
        let hint = hint.map_or(String::new(), |h| format!(" ({h})"));
        out.push(format!("{n} {said}{hint}; see the report's Data quality"));
    }
    let repeated = a.input.repeated_calls;
    if repeated.calls > 0 {
        out.push(format!(
            "{}{} {} (overlapping exports, a copied log, one response logged twice?); {} counted twice",
            if repeated.estimated { "about " } else { "" },
            repeated.calls,
            repeated.said(),
            if repeated.calls == 1 { "it is" } else { "they are" },
        ));
    }
    // Calls without a time (batch results carry none) cannot be placed in
    // a window: said, not left out in silence (hunt151: a review of a
    // month without its Message Batches results, nothing on the terminal).
    let untimed = a.input.untimed_outside_window;
    if untimed > 0 {
        out.push(format!(
            "{} no time (batch results, for one, carry none) and {} left out: {window} cannot place {}; audit {} without it, or log {} time",
            if untimed == 1 {
                "1 call had".to_string()
            } else {
                format!("{untimed} calls had")
            },
            if untimed == 1 { "was" } else { "were" },
            if untimed == 1 { "it" } else { "them" },
            if untimed == 1 { "it" } else { "them" },
            if untimed == 1 { "its" } else { "their" },
        ));
    }
    if a.totals.calls == 0 {
        out.push(format!(
            "no call was read ({}, {} rejected, {} outside the window): the report's spend is $0; \
             check the inputs, --input-format and {window}",
            counted(a.input.lines, "line", "lines"),
            a.input.rejected,
            a.input.outside_window
        ));
    }
    if quiet && a.input.rejected > 0 {
        out.push(rejected_text(a, written));
    }
    if quiet && a.input.fields_ignored > 0 {
        out.push(fields_ignored_text(a.input.fields_ignored));
    }
    if quiet && !a.unknown_models.is_empty() {
        let calls: u64 = a
            .unknown_models
            .iter()
            .map(|m| m.stats.unpriced_calls)
            .sum();
        let models = a.unknown_models.len();
        out.push(format!(
            "{} to {} not in the price catalog {} not priced (see the report)",
            counted(calls, "call", "calls"),
            counted(models as u64, "model", "models"),
            if calls == 1 { "was" } else { "were" }
        ));
    }
    out
}

pub fn draw_progress(
    progress: &Progress,
    done: &std::sync::atomic::AtomicBool,
    total_bytes: u64,
    after: &str,
) {
    let bar = if total_bytes > 0 {
        indicatif::ProgressBar::new(total_bytes)
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    // A bar of its own width, so the line fits 80 columns; without a size
    // (stdin) no bar at all, only what was read (hunt154: an empty bar
    // beside "10.00 MiB/10.00 MiB" the whole run, a bar of one cell on an
    // 80-column terminal). No byte rate: its first tick said 47 GiB/s.
    let template = if total_bytes > 0 {
        "{spinner} [{elapsed_precise}] {bar:24} {percent:>3}% of {binary_total_bytes}, {msg}"
    } else {
        "{spinner} [{elapsed_precise}] {binary_bytes} read, {msg}"
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(template)
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let start = std::time::Instant::now();
    let mut reading = true;
    while !done.load(Ordering::SeqCst) {
        let lines = progress.lines.load(Ordering::Relaxed);
        let secs = start.elapsed().as_secs_f64().max(0.001);
        if reading && progress.read.load(Ordering::Relaxed) {
            // Read: the rest is analysis, said as such, with the reading's
            // own figures (hunt77: the bar sat at 100% for most of a run
            // with 600,000 features, its rates falling).
            reading = false;
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.set_message(format!(
                "read {} lines in {secs:.1} s; {after}…",
                tokenaudit_report::count_text(lines)
            ));
        }
        if reading {
            bar.set_position(progress.bytes.load(Ordering::Relaxed));
            bar.set_message(format!("{} lines", tokenaudit_report::count_text(lines)));
        } else {
            bar.tick();
        }
        std::thread::sleep(Duration::from_millis(120));
    }
    bar.finish_and_clear();
}

fn summary_text(a: &Audit, written: &[PathBuf]) -> String {
    let t = &a.totals;
    // With calls of unknown models, the averages are over the priced ones
    // (an unknown cost is no $0), and say so.
    let priced = if t.unpriced_calls > 0 { " priced" } else { "" };
    let mut s = format!(
        "Spend {} over {} call{} ({} successful); {} per{priced} call, {} per successful{priced} call.\n",
        t.cost.to_total_string(),
        tokenaudit_report::count_text(t.calls),
        if t.calls == 1 { "" } else { "s" },
        tokenaudit_report::count_text(t.ok_calls),
        // No priced call: no average (hunt99: "$0.0000 per priced call").
        match t.calls > t.unpriced_calls {
            true => a.cost_per_call.to_rounded_string(4),
            false => "–".into(),
        },
        a.cost_per_success
            .map_or("–".into(), |m| m.to_rounded_string(4)),
    );
    let features = a.dim("feature");
    if !features.is_empty() {
        s.push_str("Top features: ");
        let top: Vec<String> = features
            .iter()
            .take(3)
            // A log's name on one line: its line breaks shown, not kept
            // (a feature named "x\nWrote /etc/passwd" wrote a line).
            .map(|r| {
                format!(
                    "{} {}",
                    tokenaudit_report::one_line_text(&r.key),
                    tokenaudit_report::spend_text(&r.stats, |m| m.to_total_string())
                )
            })
            .collect();
        s.push_str(&top.join(", "));
        s.push('\n');
    }
    if !a.findings.is_empty() {
        let high = a
            .findings
            .iter()
            .filter(|f| f.severity == tokenaudit_analyze::detect::Severity::High)
            .count();
        s.push_str(&format!(
            "{} finding{} ({high} high severity)",
            a.findings.len(),
            if a.findings.len() == 1 { "" } else { "s" }
        ));
        if let Some(w) = a.savings.as_ref().filter(|w| w.total_savings.picos() > 0) {
            s.push_str(&format!(
                "; fixing them would have saved {} of {} over this period",
                w.total_savings.to_cents_string(),
                w.spend.to_cents_string()
            ));
        }
        s.push_str(".\n");
    }
    if a.input.rejected > 0 {
        s.push_str(&format!("{}.\n", rejected_text(a, Some(written))));
    }
    if a.input.fields_ignored > 0 {
        s.push_str(&format!(
            "{}.\n",
            fields_ignored_text(a.input.fields_ignored)
        ));
    }
    // Entries that are valid but not (new) calls: Langfuse spans, Helicone
    // cache hits, agent-log bookkeeping and repeats. --strict ignores them.
    if a.input.skipped > 0 {
        let reasons: Vec<String> = a
            .input
            .skipped_by_reason
            .iter()
            .map(|(code, n)| format!("{n} {code}"))
            .collect();
        s.push_str(&format!(
            "{} skipped as not new model calls ({}).\n",
            match a.input.skipped {
                1 => "1 entry was".to_string(),
                n => format!("{n} entries were"),
            },
            reasons.join(", ")
        ));
    }
    if !a.unknown_models.is_empty() {
        let calls: u64 = a
            .unknown_models
            .iter()
            .map(|m| m.stats.unpriced_calls)
            .sum();
        // A model is listed once per provider it was logged with: name it.
        let mut names: Vec<String> = a
            .unknown_models
            .iter()
            .take(5)
            .map(|m| match &m.logged_provider {
                Some(p) => format!("{} ({p})", m.logged_model),
                None => m.logged_model.clone(),
            })
            .collect();
        if a.unknown_models.len() > 5 {
            names.push(format!("{} more", a.unknown_models.len() - 5));
        }
        s.push_str(&format!(
            "{calls} call{} to {} not in the price catalog {} not priced: {}.\n",
            if calls == 1 { "" } else { "s" },
            if a.unknown_models.len() == 1 {
                "a model"
            } else {
                "models"
            },
            if calls == 1 { "was" } else { "were" },
            names.join(", ")
        ));
    }
    for w in written
        .iter()
        .filter(|p| !p.to_string_lossy().ends_with(".csv"))
    {
        s.push_str(&format!("Wrote {}\n", w.display()));
    }
    let csvs = written
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".csv"))
        .count();
    if csvs > 0 {
        if let Some(dir) = written[0].parent() {
            s.push_str(&format!(
                "Wrote {} to {}\n",
                counted(csvs as u64, "CSV table", "CSV tables"),
                dir.display()
            ));
        }
    }
    s
}

/// What the summary (or, with --quiet, stderr) says of rejected lines:
/// inputs that could not be read at all counted apart from lines (hunt112:
/// "2 lines rejected" of a dangling link and a bzip2 file), and, when no
/// report with a Data quality section was written (`--format focus`,
/// `png`), the first of them named here (hunt112: "see Data quality in the
/// report" of a run that wrote none).
fn rejected_text(a: &Audit, written: Option<&[PathBuf]>) -> String {
    let (lines, inputs) = a.input.rejected_split();
    let what = crate::output::rejected_count(lines, inputs);
    // Where the written files list them: the report's Data quality, or
    // audit.json's `input.rejected_samples`, or the rejected-samples CSV
    // (hunt113: "see Data quality in the report" of a csv or json run).
    let wrote = |end: &str| {
        written.is_none_or(|w| {
            w.iter().any(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().ends_with(end))
            })
        })
    };
    let listed = if wrote(".md") || wrote(".html") {
        Some("see Data quality in the report".to_string())
    } else if wrote("audit.json") {
        Some("audit.json's input.rejected_samples lists them".to_string())
    } else {
        written.and_then(|w| {
            w.iter()
                .find(|p| p.to_string_lossy().ends_with("rejected-samples.csv"))
                .map(|p| format!("{} lists them", p.display()))
        })
    };
    if let Some(listed) = listed {
        return format!("{what} ({listed}; --strict makes this an error)");
    }
    let first: Vec<String> = a
        .input
        .rejected_samples
        .iter()
        .take(3)
        .map(|r| match r.line {
            0 => format!("{} ({})", r.file, r.reason.code()),
            l => format!("{}:{l} ({})", r.file, r.reason.code()),
        })
        .collect();
    format!(
        "{what}: {}{}; `--format md` or `json` lists them all; --strict makes this an error",
        first.join(", "),
        if a.input.rejected > first.len() as u64 {
            ", …"
        } else {
            ""
        }
    )
}

/// What the summary (or, with --quiet, stderr) says of calls read without
/// a field of the wrong type.
fn fields_ignored_text(n: u64) -> String {
    format!(
        "{n} call{} read without a field whose value had the wrong type (or was a cost below zero, a time before 2015, or no input count beside the output), or with text that was not UTF-8 (counted and priced; see Data quality; --strict makes this an error)",
        if n == 1 { " was" } else { "s were" }
    )
}

/// A file of which no line was a call, said (for `audit` and `ingest`):
/// every line rejected (is it a log tokenaudit reads?), or every line
/// skipped as no call by a format detected from its keys (perhaps another
/// kind of log that shares them; an agent's session without a call is
/// common, and not said).
pub(crate) fn no_call_warning(
    file: &str,
    format: &str,
    total: u64,
    records: u64,
    rejected: u64,
    first: Option<&tokenaudit_ingest::RejectSample>,
) -> Option<String> {
    if records > 0 || (total == 0 && rejected == 0) {
        return None;
    }
    // A file whose shape no reader recognised: why, and the keys it has,
    // which a [mapping] names (hunt84: "1 line rejected", no file named).
    if format == "none" {
        let why = first.filter(|s| s.reason == tokenaudit_ingest::RejectReason::UnrecognizedFormat);
        return why.map(|s| format!("{file}: not read: {}", s.detail));
    }
    if rejected > 0 {
        // What the first rejected line says (a mapping's timestamp_format
        // that does not match: hunt84 was asked whether the file is a log).
        let none = if rejected == 1 {
            "its one line is no call".to_string()
        } else {
            format!(
                "none of its {} is a call",
                counted(rejected, "line", "lines")
            )
        };
        return Some(match first {
            Some(s) if rejected == 1 => format!(
                "{file}: {none}; line {}: {} ({})",
                s.line, s.reason, s.detail
            ),
            Some(s) => format!(
                "{file}: {none}; the first, line {}: {} ({})",
                s.line, s.reason, s.detail
            ),
            None => format!(
                "{file}: none of its {} is a call: is it a log of a format tokenaudit reads (`tokenaudit formats`)?",
                counted(rejected, "line", "lines")
            ),
        });
    }
    let agent = ["claude-code", "codex"]
        .iter()
        .any(|a| format.starts_with(a));
    (!agent).then(|| {
        format!(
            "{file}: read as {format}, none of its {} is a call; if it is another kind of log, name its format (--input-format gateway) or map it ([mapping])",
            counted(total, "line", "lines")
        )
    })
}

/// What `--strict` refused, counted: "2 lines rejected and 1 call read
/// without a field of the wrong type", each part only when it has any.
pub(crate) fn strict_counts(rejected: u64, ignored: u64) -> String {
    let mut parts = Vec::new();
    if rejected > 0 {
        parts.push(counted(
            rejected,
            "line (or file) rejected",
            "lines (or files) rejected",
        ));
    }
    if ignored > 0 {
        parts.push(counted(
            ignored,
            "call read without a field of the wrong type (or a cost below zero, a time before 2015, or no input count beside the output)",
            "calls read without a field of the wrong type (or a cost below zero, a time before 2015, or no input count beside the output)",
        ));
    }
    parts.join(" and ")
}
