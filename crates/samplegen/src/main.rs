//! `tokenaudit-samplegen`: writes the committed sample logs, or a large
//! benchmark file.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::Parser;

use tokenaudit_samplegen::{generate, GenConfig, Output, SampleLayout, SingleFile};

/// Generate realistic LLM gateway logs with planted waste (deterministic).
///
/// Without --size: a month of logs into OUT as a folder (gateway/ plain and
/// gzip, batch/ zstd). With --size: one JSONL file of about that size at OUT,
/// covering about the same month (traffic per day scales with the size).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Output folder (sample mode) or file (--size mode).
    #[arg(long)]
    out: PathBuf,
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

fn create(path: &PathBuf, force: bool) -> Result<File> {
    if path.exists() && !force {
        bail!("{} exists; pass --force to replace it", path.display());
    }
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p)?;
    }
    File::create(path).with_context(|| format!("cannot create {}", path.display()))
}

fn main() -> Result<()> {
    let a = Args::parse();
    let cfg = GenConfig {
        seed: a.seed,
        start: a.start,
        days: a.days,
        events_per_day: a.events_per_day,
        bad_lines: a.bad_lines,
    };
    let truth = if let Some(size) = &a.size {
        let max = parse_size(size)?;
        let f = create(&a.out, a.force)?;
        let mut sink = SingleFile(vec![Output {
            name: a.out.display().to_string(),
            writer: Box::new(BufWriter::with_capacity(1 << 20, f)),
            lines: 0,
            bytes: 0,
        }]);
        // About a month whatever the size: more traffic per day, not more
        // days, so that bigger files test more calls (not longer daily
        // series). An event writes about 950 bytes on average.
        let per_day = (max / (cfg.days.max(1) as u64 * 950)).clamp(1, u32::MAX as u64) as u32;
        generate(
            &GenConfig {
                events_per_day: a.events_per_day.max(per_day),
                ..cfg
            },
            &mut sink,
            Some(max),
        )?
    } else {
        let split = a.days.div_ceil(2);
        let end = |d: u32| a.start + chrono::Duration::days(d as i64);
        let names = [
            format!("gateway/{}..{}.jsonl", a.start, end(split - 1).format("%d")),
            format!(
                "gateway/{}..{}.jsonl.gz",
                end(split),
                end(a.days - 1).format("%d")
            ),
            format!("batch/nightly-{}.jsonl.zst", a.start.format("%Y-%m")),
        ];
        let mut files = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let f = BufWriter::new(create(&a.out.join(n), a.force)?);
            let writer: Box<dyn std::io::Write> = match i {
                0 => Box::new(f),
                1 => Box::new(
                    flate2::write::GzEncoder::new(f, flate2::Compression::best())
                        .auto_finish_wrapper(),
                ),
                _ => Box::new(zstd::stream::write::Encoder::new(f, 19)?.auto_finish()),
            };
            files.push(Output {
                name: a.out.join(n).display().to_string(),
                writer,
                lines: 0,
                bytes: 0,
            });
        }
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

/// flate2's encoder finishes on drop only through `finish`; this wrapper does
/// it on drop so a boxed writer closes the gzip stream properly.
trait AutoFinish {
    fn auto_finish_wrapper(self) -> GzFinish;
}

impl AutoFinish for flate2::write::GzEncoder<BufWriter<File>> {
    fn auto_finish_wrapper(self) -> GzFinish {
        GzFinish(Some(self))
    }
}

struct GzFinish(Option<flate2::write::GzEncoder<BufWriter<File>>>);

impl std::io::Write for GzFinish {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.as_mut().expect("open until drop").write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.as_mut().expect("open until drop").flush()
    }
}

impl Drop for GzFinish {
    fn drop(&mut self) {
        if let Some(e) = self.0.take() {
            if let Ok(mut inner) = e.finish() {
                let _ = std::io::Write::flush(&mut inner);
            }
        }
    }
}
