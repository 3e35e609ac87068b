//! Where things are in a store directory (see the crate docs for the tree).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

/// The Hive partition value of calls without a timestamp: the name Hive,
/// Spark and DuckDB read as NULL.
pub const NO_DAY: &str = "__HIVE_DEFAULT_PARTITION__";

/// The extension of a part being written: readers that glob `*.parquet`
/// never see it.
pub const TEMP_SUFFIX: &str = ".parquet.tmp";

pub const CALLS: &str = "calls";
pub const CACHE_HITS: &str = "cache_hits";
pub const COMMITS: &str = "_commits";
pub const FINDINGS: &str = "_findings";
pub const INFLIGHT: &str = "_inflight";
pub const CACHE: &str = "_cache";

/// The store's own folders, where everything is tokenaudit's.
pub const OWN: [&str; 6] = [CALLS, CACHE_HITS, COMMITS, FINDINGS, INFLIGHT, CACHE];

/// Whether `path` (absolute, inside the store at `root`, also absolute) is
/// in one of the store's own folders ([`OWN`]), not a file put in the
/// store's folder by hand.
pub fn is_own(root: &Path, path: &Path) -> bool {
    path.strip_prefix(root)
        .ok()
        .and_then(|rel| rel.components().next())
        .is_some_and(|first| OWN.iter().any(|o| first.as_os_str() == *o))
}

/// The two datasets parts belong to, each a Hive-partitioned folder of the
/// same schema: the calls, and the lines LiteLLM answered from its own
/// cache (no call: kept as the caching findings' evidence, out of `calls/`
/// so that engines reading it count calls).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dataset {
    #[default]
    Calls,
    CacheHits,
}

impl Dataset {
    pub const ALL: [Dataset; 2] = [Dataset::Calls, Dataset::CacheHits];

    /// Its folder, relative to the store.
    pub fn dir(self) -> &'static str {
        match self {
            Dataset::Calls => CALLS,
            Dataset::CacheHits => CACHE_HITS,
        }
    }

    /// The dataset of a part, by its path relative to the store.
    pub fn of(part: &str) -> Dataset {
        match part.split('/').next() {
            Some(CACHE_HITS) => Dataset::CacheHits,
            _ => Dataset::Calls,
        }
    }
}

/// The files in every day folder of both datasets (parts and temporary
/// parts; a missing folder has none).
pub fn part_files(store: &Path) -> impl Iterator<Item = std::fs::DirEntry> + '_ {
    Dataset::ALL
        .into_iter()
        .filter_map(move |d| std::fs::read_dir(store.join(d.dir())).ok())
        .flat_map(|days| days.flatten())
        .filter_map(|day| std::fs::read_dir(day.path()).ok())
        .flat_map(|files| files.flatten())
}

/// Every file under both datasets' folders, at any depth: what an engine
/// reading `calls/**/*.parquet` would read (a file dropped beside the day
/// folders, or in a folder of its own, too).
pub fn dataset_files(store: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo: Vec<std::path::PathBuf> = Dataset::ALL
        .into_iter()
        .map(|d| store.join(d.dir()))
        .collect();
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => todo.push(e.path()),
                Ok(_) => out.push(e.path()),
                Err(_) => {}
            }
        }
    }
    out.sort();
    out
}

/// A day's partition name (`None`: no timestamp): `day=2026-10-01`.
pub fn partition(day: Option<NaiveDate>) -> String {
    match day {
        Some(d) => format!("day={}", d.format("%Y-%m-%d")),
        None => format!("day={NO_DAY}"),
    }
}

/// The audit cache's folder of a day, relative to the store.
pub fn cache_dir(day: Option<NaiveDate>) -> String {
    format!("{CACHE}/{}", partition(day))
}

/// Reads a partition folder's name (`day=2026-10-01`) back.
pub fn parse_day_dir(name: &str) -> Option<Option<NaiveDate>> {
    let value = name.strip_prefix("day=")?;
    if value == NO_DAY {
        return Some(None);
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok().map(Some)
}

/// A part's final path, relative to the store. Names do not depend on the
/// commit number, so an ingest that loses a race for a number keeps its
/// parts as they are and tries the next one.
pub fn part_path(dataset: Dataset, day: Option<NaiveDate>, ingest: &str, seq: u32) -> String {
    format!(
        "{}/{}/part-{ingest}-{seq:05}.parquet",
        dataset.dir(),
        partition(day)
    )
}

/// Where a part is written before its commit.
pub fn temp_path(store: &Path, part: &str) -> PathBuf {
    let mut p = store.join(part).into_os_string();
    p.push(".tmp");
    PathBuf::from(p)
}

/// The commit file of a commit number.
pub fn commit_file(store: &Path, number: u64) -> PathBuf {
    store.join(COMMITS).join(format!("{number:020}.json"))
}

/// A commit number from its file name.
pub fn parse_commit_file(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".json")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// The ledger entry of a night.
pub fn ledger_file(store: &Path, number: u64) -> PathBuf {
    store.join(FINDINGS).join(format!("{number:020}.json"))
}

/// The ingest id hidden in a temporary part's name, if it is one.
pub fn temp_ingest(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(TEMP_SUFFIX)?.strip_prefix("part-")?;
    let (ingest, seq) = stem.rsplit_once('-')?;
    // Five digits, or more past part 99,999.
    (seq.len() >= 5 && seq.bytes().all(|b| b.is_ascii_digit())).then_some(ingest)
}

/// Whether a folder holds call logs, at its top or one folder down (a
/// store's own and hidden folders aside): such a folder is audited as
/// logs, and is not made a store (its logs would no longer be read).
pub(crate) fn holds_logs(path: &std::path::Path) -> bool {
    // Files of call logs' own kinds, or a `.json`, `.log` or rotated file
    // that reads like calls (not a cron job's log, a price file, editor
    // settings, a `.tar.gz` backup), with something in them (hunt64: an
    // empty `ingest.log` made by the job's own redirection refused every
    // night).
    let log = |p: &std::path::Path| {
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let name = ["gz", "zst", "zstd"]
            .iter()
            .find_map(|c| name.strip_suffix(&format!(".{c}")))
            .unwrap_or(&name);
        let call_log = [".jsonl", ".ndjson", ".parquet", ".csv", ".tsv"]
            .iter()
            .any(|e| name.ends_with(e));
        !name.starts_with('.')
            && p.metadata().is_ok_and(|m| m.is_file() && m.len() > 0)
            && (call_log
                // A `.log`, `.json` or rotated log: if it reads like calls
                // (hunt66: `app.log` and `calls.jsonl.1` were made stores).
                || (tokenaudit_ingest::source::is_log_candidate(p) && reads_like_calls(p)))
    };
    std::fs::read_dir(path).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let p = e.path();
            let hidden = e.file_name().to_string_lossy().starts_with('.');
            if hidden || OWN.iter().any(|o| e.file_name() == *o) {
                return false;
            }
            log(&p)
                || (p.is_dir()
                    && std::fs::read_dir(&p)
                        .is_ok_and(|inner| inner.flatten().any(|i| log(&i.path()))))
        })
    })
}

/// Whether a file's first 64 KB (decompressed when it is gzip or zstd)
/// name a model, a usage or an OpenTelemetry GenAI span: a log of calls, not
/// a cron job's output or a price file.
fn reads_like_calls(path: &std::path::Path) -> bool {
    use std::io::Read;
    let source = tokenaudit_ingest::Source::File(path.to_path_buf());
    let Ok((_, reader)) = tokenaudit_ingest::source::open(&source) else {
        return false;
    };
    let mut head = Vec::new();
    let _ = reader.take(64 << 10).read_to_end(&mut head);
    let text = String::from_utf8_lossy(&head);
    // (OpenTelemetry's spans name theirs in attributes, hunt67.)
    [
        "\"model\"",
        "\"usage\"",
        "\"gen_ai.",
        "\"resourceSpans\"",
        "\"prompt_tokens\"",
        "\"input_tokens\"",
        "\"usageMetadata\"",
    ]
    .iter()
    .any(|k| text.contains(k))
}

/// Opens a file of the store's for reading, refusing what is no regular
/// file: opening a FIFO put in a part's or a cache file's place blocks
/// until something writes to it (hunt110: the audit hung).
pub fn open_file(path: &Path) -> std::io::Result<std::fs::File> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    std::fs::File::open(path)
}

/// A file of the store's read whole, refusing what is no regular file
/// ([`open_file`]).
pub fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut open_file(path)?, &mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let d = NaiveDate::from_ymd_opt(2026, 10, 1);
        assert_eq!(
            part_path(Dataset::Calls, d, "abc", 7),
            "calls/day=2026-10-01/part-abc-00007.parquet"
        );
        let hits = part_path(Dataset::CacheHits, d, "abc", 8);
        assert_eq!(hits, "cache_hits/day=2026-10-01/part-abc-00008.parquet");
        assert_eq!(Dataset::of(&hits), Dataset::CacheHits);
        assert_eq!(Dataset::of("calls/day=x/p.parquet"), Dataset::Calls);
        assert_eq!(parse_day_dir("day=2026-10-01"), Some(d));
        assert_eq!(cache_dir(d), "_cache/day=2026-10-01");
        assert_eq!(cache_dir(None), format!("_cache/day={NO_DAY}"));
        assert_eq!(parse_day_dir(&format!("day={NO_DAY}")), Some(None));
        assert_eq!(parse_day_dir("day=yesterday"), None);
        assert_eq!(parse_commit_file("00000000000000000042.json"), Some(42));
        assert_eq!(parse_commit_file("42.json"), None);
        assert_eq!(parse_commit_file(".tmp-x"), None);
        assert_eq!(
            temp_ingest("part-20261001t1-99-00007.parquet.tmp"),
            Some("20261001t1-99")
        );
        assert_eq!(temp_ingest("part-abc-00007.parquet"), None);
        assert_eq!(temp_ingest("part-abc-123456.parquet.tmp"), Some("abc"));
        let t = temp_path(Path::new("/s"), &part_path(Dataset::Calls, d, "abc", 7));
        assert_eq!(
            t,
            Path::new("/s/calls/day=2026-10-01/part-abc-00007.parquet.tmp")
        );
    }
}
