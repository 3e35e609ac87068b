//! Delta Lake tables: a folder with a `_delta_log/` (Databricks, Spark,
//! delta-rs). Its data files are Parquet, but not every one on disk is the
//! table: OPTIMIZE, DELETE and overwrites leave the files they replace
//! until VACUUM removes them (7 days by default), and only the log says
//! which are live (hunt184: a table appended twice and optimized was read
//! 2×). The live files are the log's `add` actions less its `remove`
//! actions, replayed from version 0, or from the last checkpoint whose
//! later commits are all there.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The table at `dir`, if it is one: its live files (relative paths, as the
/// log names them), or why they cannot be told.
pub(crate) fn live_files(dir: &Path) -> Option<Result<BTreeSet<String>, &'static str>> {
    let log = dir.join("_delta_log");
    if !log.is_dir() {
        return None;
    }
    Some(replay(&log))
}

fn replay(log: &Path) -> Result<BTreeSet<String>, &'static str> {
    const UNREAD: &str = "its log could not be read";
    let mut commits: Vec<(u64, PathBuf)> = Vec::new();
    let mut checkpoints: Vec<(u64, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(log).map_err(|_| UNREAD)?.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let (digits, rest) = name.split_at(name.len().min(20));
        let Ok(version) = digits.parse::<u64>() else {
            continue;
        };
        if digits.len() != 20 {
            continue;
        }
        if rest == ".json" {
            commits.push((version, path));
        } else if rest == ".checkpoint.parquet" {
            checkpoints.push((version, path));
        } else if rest.starts_with(".checkpoint.") && rest.ends_with(".parquet") {
            // Classic checkpoints, one part or several
            // (`.checkpoint.0000000001.0000000002.parquet`); a V2
            // checkpoint (`.checkpoint.<uuid>.parquet`) has sidecars.
            let parts = &rest[".checkpoint.".len()..rest.len() - ".parquet".len()];
            let classic = parts.is_empty()
                || parts
                    .split('.')
                    .all(|p| p.len() == 10 && p.bytes().all(|b| b.is_ascii_digit()));
            if !classic {
                return Err("it uses a V2 checkpoint, which this version does not read");
            }
            checkpoints.push((version, path));
        }
    }
    commits.sort();
    checkpoints.sort();
    let versions: BTreeSet<u64> = commits.iter().map(|(v, _)| *v).collect();
    let last = versions.last().copied();
    // Every commit after `from` is there.
    let complete_after =
        |from: u64| last.is_none_or(|l| (from + 1..=l).all(|v| versions.contains(&v)));
    let mut live = BTreeSet::new();
    let start = if versions.first() == Some(&0) && complete_after(0) {
        None
    } else {
        let c = checkpoints
            .iter()
            .map(|(v, _)| *v)
            .filter(|&v| complete_after(v))
            .max()
            .ok_or("its log was cleaned up past the checkpoints that would say its files")?;
        for (_, part) in checkpoints.iter().filter(|(v, _)| *v == c) {
            read_checkpoint(part, &mut live).map_err(|_| "its checkpoint could not be read")?;
        }
        Some(c)
    };
    for (v, path) in &commits {
        if start.is_some_and(|c| *v <= c) {
            continue;
        }
        let text = std::fs::read_to_string(path).map_err(|_| UNREAD)?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let action: serde_json::Value = serde_json::from_str(line).map_err(|_| UNREAD)?;
            let path_of = |kind: &str| {
                action
                    .get(kind)
                    .and_then(|a| a.get("path"))
                    .and_then(|p| p.as_str())
                    .map(decode)
            };
            if let Some(p) = path_of("add") {
                live.insert(p);
            }
            if let Some(p) = path_of("remove") {
                live.remove(&p);
            }
        }
    }
    if live.iter().any(|p| p.contains("://") || p.starts_with('/')) {
        return Err(
            "its files live elsewhere (a shallow clone's), which a folder walk does not reach",
        );
    }
    Ok(live)
}

/// The `add.path` of each live file a checkpoint part lists.
fn read_checkpoint(path: &Path, live: &mut BTreeSet<String>) -> Result<(), ()> {
    use arrow_array::cast::AsArray;
    use arrow_array::Array;
    let file = std::fs::File::open(path).map_err(|_| ())?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|_| ())?;
    for batch in reader {
        let batch = batch.map_err(|_| ())?;
        let Some(add) = batch.column_by_name("add").and_then(|a| a.as_struct_opt()) else {
            continue;
        };
        let Some(paths) = add.column_by_name("path") else {
            continue;
        };
        let Some(paths) = paths.as_string_opt::<i32>() else {
            return Err(());
        };
        for i in 0..add.len() {
            if add.is_valid(i) && paths.is_valid(i) {
                live.insert(decode(paths.value(i)));
            }
        }
    }
    Ok(())
}

/// A path or a value with its `%XX` escapes decoded, as a Delta log
/// writes its paths (`day=2026-10-01/part%20a.parquet`) and Hive its
/// partition values.
pub(crate) fn decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_percent_decoded() {
        assert_eq!(
            decode("day=2026-10-01/part%20a.parquet"),
            "day=2026-10-01/part a.parquet"
        );
        assert_eq!(decode("a%3Db"), "a=b");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("x%2"), "x%2");
    }

    #[test]
    fn the_log_replayed_gives_the_live_files() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("_delta_log");
        std::fs::create_dir(&log).unwrap();
        let commit = |v: u64, lines: &[&str]| {
            std::fs::write(log.join(format!("{v:020}.json")), lines.join("\n")).unwrap();
        };
        commit(
            0,
            &[r#"{"protocol":{}}"#, r#"{"add":{"path":"a.parquet"}}"#],
        );
        commit(1, &[r#"{"add":{"path":"b%20c.parquet"}}"#]);
        commit(
            2,
            &[
                r#"{"remove":{"path":"a.parquet"}}"#,
                r#"{"remove":{"path":"b%20c.parquet"}}"#,
                r#"{"add":{"path":"d.parquet"}}"#,
            ],
        );
        let live = live_files(dir.path()).unwrap().unwrap();
        assert_eq!(live.into_iter().collect::<Vec<_>>(), ["d.parquet"]);
        // A log cleaned up with no checkpoint cannot say.
        std::fs::remove_file(log.join(format!("{:020}.json", 0))).unwrap();
        assert!(live_files(dir.path()).unwrap().is_err());
        assert!(live_files(&log).is_none());
    }
}
