//! `tokenaudit-samplegen`: writes the committed sample logs, or a large
//! benchmark file.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::Parser;

use tokenaudit_samplegen::{
    generate, write_file, GenConfig, LogShape, Output, SampleLayout, SingleFile,
};

/// Generate realistic LLM call logs with planted waste (deterministic).
///
/// Without --size: a month of logs into OUT as a folder (gateway/ plain and
/// gzip, batch/ zstd), or into one file when OUT ends in .jsonl, .jsonl.gz or
/// .jsonl.zst (compressed to match). With --size: one JSONL file of about
/// that size at OUT, covering about the same month (traffic per day scales
/// with the size).
///
/// --shape writes the same calls as another producer would (see
/// `tokenaudit-samplegen --list-shapes`).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Output folder (sample mode) or file (--size mode, or a .jsonl[.gz|.zst] name).
    #[arg(long, required_unless_present = "list_shapes")]
    out: Option<PathBuf>,
    /// How to write the calls: gateway (default), gateway-minimal,
    /// gateway-alt-{nested,flat,shuffled,envelope}, litellm,
    /// litellm-messages, langfuse, otel, helicone.
    #[arg(long, default_value = "gateway", value_parser = parse_shape)]
    shape: LogShape,
    /// List the shapes and exit.
    #[arg(long)]
    list_shapes: bool,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// First day (UTC).
    #[arg(long, default_value = "2026-10-01")]
    start: NaiveDate,
    #[arg(long, default_value_t = 31)]
    days: u32,
    /// Traffic events per day (a conversation or a retry storm is one event).
    #[arg(long, default_value_t = 700)]
    events_per_day: u32,
    /// Malformed lines to plant (cycling through kinds).
    #[arg(long, default_value_t = 0)]
    bad_lines: u32,
    /// Write one file of about this size instead: 500MB, 1GB, 4GB.
    #[arg(long)]
    size: Option<String>,
    /// Also write the ground truth as JSON here.
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Replace existing output.
    #[arg(long)]
    force: bool,
}

fn parse_shape(s: &str) -> Result<LogShape, String> {
    LogShape::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = LogShape::ALL.iter().map(|s| s.name()).collect();
        format!("unknown shape {s:?}; use one of: {}", names.join(", "))
    })
}

fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim().to_ascii_uppercase();
    let (num, mult) = if let Some(n) = t.strip_suffix("GB") {
        (n, 1u64 << 30)
    } else if let Some(n) = t.strip_suffix("MB") {
        (n, 1 << 20)
    } else {
        bail!("--size {s:?}: use e.g. 500MB or 1GB");
    };
    Ok((num.trim().parse::<f64>().context("--size number")? * mult as f64) as u64)
}

/// Makes room for an output file: an existing file is replaced only with
/// --force.
fn prepare(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        bail!("{} exists; pass --force to replace it", path.display());
    }
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p)?;
    }
    Ok(())
}

/// One output file, compressed as its name says.
fn create(path: &Path, force: bool) -> Result<Output> {
    prepare(path, force)?;
    Output::create(path).with_context(|| format!("cannot create {}", path.display()))
}

/// The average bytes an event writes in `cfg.shape`: 950 for the gateway
/// shape (the figure the benchmark files were sized with), measured on a
/// day of 2,000 events for the others (prompt text makes lines ten times
/// longer).
fn bytes_per_event(cfg: &GenConfig) -> Result<u64> {
    if cfg.shape == LogShape::Gateway {
        return Ok(950);
    }
    let events = 2_000;
    let mut sink = SingleFile(vec![Output {
        name: "(sizing)".into(),
        writer: Box::new(std::io::sink()),
        lines: 0,
        bytes: 0,
    }]);
    let probe = GenConfig {
        days: 1,
        events_per_day: events,
        bad_lines: 0,
        ..cfg.clone()
    };
    generate(&probe, &mut sink, None)?;
    Ok((sink.0[0].bytes / events as u64).max(1))
}

fn main() -> Result<()> {
    let a = Args::parse();
    if a.list_shapes {
        for s in LogShape::ALL {
            println!("{}", s.name());
        }
        return Ok(());
    }
    let out = a.out.clone().expect("clap requires --out");
    let cfg = GenConfig {
        seed: a.seed,
        start: a.start,
        days: a.days,
        events_per_day: a.events_per_day,
        bad_lines: a.bad_lines,
        shape: a.shape,
    };
    let one_file = [".jsonl", ".jsonl.gz", ".jsonl.zst"]
        .iter()
        .any(|ext| out.to_string_lossy().ends_with(ext));
    let truth = if let Some(size) = &a.size {
        let max = parse_size(size)?;
        let mut sink = SingleFile(vec![create(&out, a.force)?]);
        // About a month whatever the size: more traffic per day, not more
        // days, so that bigger files test more calls (not longer daily
        // series).
        let per_day = (max / (cfg.days.max(1) as u64 * bytes_per_event(&cfg)?))
            .clamp(1, u32::MAX as u64) as u32;
        generate(
            &GenConfig {
                events_per_day: a.events_per_day.max(per_day),
                ..cfg
            },
            &mut sink,
            Some(max),
        )?
    } else if one_file {
        prepare(&out, a.force)?;
        write_file(&cfg, &out).with_context(|| format!("cannot write {}", out.display()))?
    } else {
        let split = a.days.div_ceil(2);
        let end = |d: u32| a.start + chrono::Duration::days(d as i64);
        let out = &out;
        let names = [
            format!("gateway/{}..{}.jsonl", a.start, end(split - 1).format("%d")),
            format!(
                "gateway/{}..{}.jsonl.gz",
                end(split),
                end(a.days - 1).format("%d")
            ),
            format!("batch/nightly-{}.jsonl.zst", a.start.format("%Y-%m")),
        ];
        let files = names
            .iter()
            .map(|n| create(&out.join(n), a.force))
            .collect::<Result<Vec<_>>>()?;
        let mut sink = SampleLayout {
            files,
            split_day: split,
        };
        let t = generate(&cfg, &mut sink, None)?;
        drop(sink);
        t
    };
    if let Some(p) = &a.truth {
        let mut text = serde_json::to_string_pretty(&truth)?;
        text.push('\n');
        std::fs::write(p, text)?;
    }
    eprintln!(
        "wrote {} lines ({} calls, {} malformed)",
        truth.lines,
        truth.calls,
        truth.bad_lines.len()
    );
    Ok(())
}
