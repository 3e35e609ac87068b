//! Keeping a store healthy: `check` (is every committed row there, and
//! nothing else), `compact` (merge a day's small parts), `prune` (drop the
//! days before a date). Compaction and pruning are commits like an ingest's,
//! so readers never see a half-done one.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;

use arrow_array::{Array, StringArray};
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use crate::commit::{self, Commit, PartEntry, SourceEntry, SCHEMA_VERSION};
use crate::error::{Result, StoreError};
use crate::layout;
use crate::store::Store;
use crate::write;

/// What `store check` found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub commits: u64,
    pub parts: usize,
    pub rows: u64,
    pub sources: usize,
    pub days: usize,
    /// Each inconsistency, in words.
    pub problems: Vec<String>,
    /// The audit cache's files kept and removed (stale, unreadable).
    pub cache: crate::cache::Sweep,
}

/// Checks every live part against the log: there, readable, with the rows
/// the log says, of the sources it says, and every source's rows adding up
/// to the records its ingests counted; and no `.parquet` file in `calls/`
/// that the log does not name. Removes the audit cache's files that are
/// stale or damaged ([`crate::cache::sweep`]): derived data, not a problem.
pub fn check(store: &Store) -> Result<CheckReport> {
    let state = store.state();
    let root = store.root();
    let mut r = CheckReport {
        commits: state.head,
        parts: state.parts.len(),
        rows: state.rows(),
        sources: state.sources.values().filter(|s| !s.pruned).count(),
        days: state.days().iter().filter(|d| d.is_some()).count(),
        problems: Vec::new(),
        cache: crate::cache::sweep(store, true),
    };
    let mut per_source: BTreeMap<String, u64> = BTreeMap::new();
    for p in state.parts.values() {
        let path = root.join(&p.path);
        let file = match crate::layout::open_file(&path) {
            Ok(f) => f,
            Err(e) => {
                r.problems
                    .push(format!("{}: committed but unreadable: {e}", p.path));
                continue;
            }
        };
        let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        if bytes != p.bytes {
            r.problems.push(format!(
                "{}: {bytes} bytes on disk, the log says {}",
                p.path, p.bytes
            ));
        }
        // Its bytes as written, when the log has their digest (hunt110: a
        // damaged data page behind an intact footer read as no problem);
        // in an older store, every column decoded instead.
        let digest_checked = match &p.xxh3 {
            Some(want) => match file_digest(&path) {
                Ok(got) if got == *want => true,
                Ok(got) => {
                    r.problems.push(format!(
                        "{}: damaged: its bytes are not those written (xxh3 {got}, the log says {want})",
                        p.path
                    ));
                    continue;
                }
                Err(e) => {
                    r.problems
                        .push(format!("{}: committed but unreadable: {e}", p.path));
                    continue;
                }
            },
            None => false,
        };
        let builder = match ParquetRecordBatchReaderBuilder::try_new(file) {
            Ok(b) => b,
            Err(e) => {
                r.problems
                    .push(format!("{}: not a readable Parquet file: {e}", p.path));
                continue;
            }
        };
        let rows = builder.metadata().file_metadata().num_rows() as u64;
        if rows != p.rows {
            r.problems
                .push(format!("{}: {rows} rows, the log says {}", p.path, p.rows));
        }
        let reader = match source_column(builder, !digest_checked) {
            Ok(reader) => reader,
            Err(e) => {
                r.problems.push(format!("{}: {e}", p.path));
                continue;
            }
        };
        let listed: BTreeSet<&str> = p.sources.iter().map(String::as_str).collect();
        // Cache hits are no calls: only the calls add up to the records.
        let calls = p.holds_calls();
        for batch in reader {
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    r.problems.push(format!("{}: {e}", p.path));
                    break;
                }
            };
            let Some(col) = batch
                .column_by_name(crate::schema::col::SOURCE)
                .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            else {
                continue;
            };
            for key in col.iter().flatten() {
                if !listed.contains(key) {
                    r.problems.push(format!(
                        "{}: holds rows of {key}, which the log does not list for it",
                        p.path
                    ));
                    break;
                }
                if calls {
                    *per_source.entry(key.to_string()).or_default() += 1;
                }
            }
        }
    }
    for s in state.sources.values().filter(|s| !s.pruned) {
        let rows = per_source.get(&s.key).copied().unwrap_or(0);
        let kept = s.records.saturating_sub(s.pruned_rows);
        if rows != kept {
            r.problems.push(format!(
                "{}: {rows} rows in the store, its ingests counted {kept} calls (after prunes)",
                s.name
            ));
        }
    }
    // Files the log does not name.
    let live: BTreeSet<&str> = state.parts.keys().map(String::as_str).collect();
    for path in layout::dataset_files(root) {
        let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy();
        let rel = rel.replace(std::path::MAIN_SEPARATOR, "/");
        if rel.ends_with(".parquet") && !live.contains(rel.as_str()) {
            r.problems.push(format!(
                "{rel}: a Parquet file no commit lists (engines reading its folder would count it)"
            ));
        } else if rel.ends_with(layout::TEMP_SUFFIX) {
            r.problems.push(format!(
                "{rel}: a part of an ingest still running, or of one that died (the next ingest removes it once it is known to be dead)"
            ));
        }
    }
    Ok(r)
}

/// What `compact` or `prune` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rewrite {
    pub commit: Option<u64>,
    pub parts_removed: usize,
    pub parts_added: usize,
    pub rows: u64,
}

/// Rows per compacted part.
pub const COMPACT_ROWS: usize = 1 << 20;

/// Merges each day's parts into as few as [`COMPACT_ROWS`] allows, sorted.
/// Days that already are one part are left alone.
pub fn compact(store: &mut Store, tool_version: &str) -> Result<Rewrite> {
    // A part it meant to merge removed meanwhile, or the store changed
    // under it before it could commit: another ingest or compaction
    // committed first. Compacted again on top of it (hunt71: it failed
    // with `No such file or directory`, or asked to be run again).
    let mut attempt = 0;
    loop {
        match compact_once(store, tool_version) {
            Err(e)
                if attempt < 5
                    && (e.part_vanished() || matches!(e, StoreError::Changed { .. })) =>
            {
                attempt += 1;
                store.refresh()?;
            }
            r => return r,
        }
    }
}

fn compact_once(store: &mut Store, tool_version: &str) -> Result<Rewrite> {
    // Its own writer id and in-flight marker, as an ingest has: a reused
    // id would name a new part as an old one it removes, and without the
    // marker a concurrent opener deletes its parts as orphans.
    let marker = crate::store::Marker::create(store.root())?;
    let ingest = marker.id.clone();
    let mut by_day: BTreeMap<(layout::Dataset, Option<String>), Vec<&PartEntry>> = BTreeMap::new();
    for p in store.state().parts.values() {
        by_day
            .entry((p.dataset(), p.day.clone()))
            .or_default()
            .push(p);
    }
    let shared_seq = std::sync::atomic::AtomicU32::new(0);
    let mut added = Vec::new();
    let mut removed = Vec::new();
    let root = store.root().to_path_buf();
    for ((dataset, day), parts) in by_day {
        if parts.len() < 2 {
            continue;
        }
        let date = day
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        // Streamed, part by part and batch by batch: memory stays a row
        // group whatever the day's size.
        let next = || {
            let seq = shared_seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            write::PartWriter::new(&root, layout::part_path(dataset, date, &ingest, seq), date)
        };
        let mut writer = next();
        for p in &parts {
            let path = root.join(&p.path);
            let file = crate::layout::open_file(&path).map_err(StoreError::io(&path))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(StoreError::parquet(&path))?
                .build()
                .map_err(StoreError::parquet(&path))?;
            for batch in reader {
                let batch = batch.map_err(StoreError::message(&path))?;
                writer.push(batch)?;
                if writer.rows() >= COMPACT_ROWS as u64 {
                    added.extend(std::mem::replace(&mut writer, next()).finish()?);
                }
            }
        }
        added.extend(writer.finish()?);
        removed.extend(parts.iter().map(|p| p.path.clone()));
    }
    // Calls only: cache hits are no calls.
    let rows = added
        .iter()
        .filter(|p: &&PartEntry| p.holds_calls())
        .map(|p| p.rows)
        .sum();
    let commit = rewrite_commit(
        store,
        &ingest,
        tool_version,
        Change {
            kind: "compact",
            added,
            removed,
            ..Change::default()
        },
    )?;
    Ok(Rewrite { rows, ..commit })
}

/// Drops the days before `before`, and marks the sources left without rows
/// as pruned (kept, so a nightly ingest does not read them again).
pub fn prune(store: &mut Store, before: NaiveDate, tool_version: &str) -> Result<Rewrite> {
    let cut = before.format("%Y-%m-%d").to_string();
    let state = store.state();
    let removed: Vec<&PartEntry> = state
        .parts
        .values()
        .filter(|p| p.day.as_deref().is_some_and(|d| d < cut.as_str()))
        .collect();
    let remaining: BTreeSet<&str> = state
        .parts
        .values()
        .filter(|p| p.day.as_deref().is_none_or(|d| d >= cut.as_str()))
        .flat_map(|p| p.sources.iter().map(String::as_str))
        .collect();
    let touched: BTreeSet<&str> = removed
        .iter()
        .flat_map(|p| p.sources.iter().map(String::as_str))
        .collect();
    // Each touched source's rows dropped: its records stay what its
    // ingests counted, and reports count these outside the window.
    // (Calls only: cache hits are no calls.)
    let calls: Vec<&PartEntry> = removed
        .iter()
        .copied()
        .filter(|p| p.holds_calls())
        .collect();
    let dropped = rows_per_source(store.root(), &calls)?;
    let pruned: Vec<SourceEntry> = touched
        .iter()
        .filter_map(|k| state.sources.get(*k))
        .map(|s| SourceEntry {
            pruned: !remaining.contains(s.key.as_str()),
            pruned_rows: s.pruned_rows + dropped.get(&s.key).copied().unwrap_or(0),
            ..s.clone()
        })
        .collect();
    let rows = calls.iter().map(|p| p.rows).sum();
    let removed: Vec<String> = removed.iter().map(|p| p.path.clone()).collect();
    let ingest = format!("prune{}", std::process::id());
    let commit = rewrite_commit(
        store,
        &ingest,
        tool_version,
        Change {
            kind: "prune",
            removed,
            sources: pruned,
            prune_before: Some(cut),
            ..Change::default()
        },
    )?;
    Ok(Rewrite { rows, ..commit })
}

/// The rows of `parts` per source key (their `source` column).
fn rows_per_source(root: &std::path::Path, parts: &[&PartEntry]) -> Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for p in parts {
        let path = root.join(&p.path);
        let file = crate::layout::open_file(&path).map_err(StoreError::io(&path))?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(StoreError::parquet(&path))?;
        let reader = source_column(builder, false)
            .map_err(|e| StoreError::Invalid(format!("{}: {e}", p.path)))?;
        for batch in reader {
            let batch = batch.map_err(StoreError::message(&path))?;
            if let Some(col) = batch.column(0).as_any().downcast_ref::<StringArray>() {
                for key in col.iter().flatten() {
                    *out.entry(key.to_string()).or_default() += 1;
                }
            }
        }
    }
    Ok(out)
}

/// A reader of the part's `source` column, or of every column (`all`: each
/// data page decoded, for a part whose digest the log does not keep).
fn source_column(
    builder: ParquetRecordBatchReaderBuilder<File>,
    all: bool,
) -> std::result::Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader, String> {
    let Some(i) = builder
        .schema()
        .fields()
        .iter()
        .position(|f| f.name() == crate::schema::col::SOURCE)
    else {
        return Err("no `source` column".into());
    };
    let builder = if all {
        builder
    } else {
        let mask = ProjectionMask::roots(builder.parquet_schema(), [i]);
        builder.with_projection(mask)
    };
    builder.build().map_err(|e| e.to_string())
}

/// The xxh3-64 digest of a file's bytes, as the writer keeps it (hex).
fn file_digest(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut file = crate::layout::open_file(path)?;
    let mut digest = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf)? {
            0 => return Ok(format!("{:016x}", digest.digest())),
            n => digest.update(&buf[..n]),
        }
    }
}

/// What a compaction or a prune changes.
#[derive(Default)]
struct Change {
    kind: &'static str,
    added: Vec<PartEntry>,
    removed: Vec<String>,
    sources: Vec<SourceEntry>,
    prune_before: Option<String>,
}

/// Commits a rewrite (parts added and removed, sources updated), retrying
/// on a lost race as long as the parts it removes are still live.
fn rewrite_commit(
    store: &mut Store,
    ingest: &str,
    tool_version: &str,
    change: Change,
) -> Result<Rewrite> {
    let Change {
        kind,
        added,
        removed,
        sources,
        prune_before,
    } = change;
    if added.is_empty() && removed.is_empty() {
        return Ok(Rewrite::default());
    }
    let root = store.root().to_path_buf();
    // The sources' entries as the rewrite read them: one another commit
    // changed since (an ingest of a grown file) must not be put back as
    // it was (hunt56: a prune racing the nightly undid its append, which
    // the next ingest read again).
    let read: Vec<(String, Option<SourceEntry>)> = sources
        .iter()
        .map(|s| (s.key.clone(), store.state().sources.get(&s.key).cloned()))
        .collect();
    // The parts as the rewrite planned: a prune's day a commit since added
    // rows to (a late file's ingest) must be pruned too (hunt165: the
    // pruned day came back, and `store check` passed).
    let planned: std::collections::BTreeSet<String> = store.state().parts.keys().cloned().collect();
    for _ in 0..1000 {
        let state = store.state();
        let before_prune = |p: &PartEntry| match (&prune_before, &p.day) {
            (Some(cut), Some(day)) => day < cut,
            _ => false,
        };
        let changed = read
            .iter()
            .any(|(key, entry)| state.sources.get(key) != entry.as_ref())
            || state
                .parts
                .iter()
                .any(|(path, p)| !planned.contains(path) && before_prune(p));
        if changed || removed.iter().any(|p| !state.parts.contains_key(p)) {
            for p in &added {
                let _ = std::fs::remove_file(layout::temp_path(&root, &p.path));
            }
            return Err(StoreError::Changed { kind });
        }
        crate::fault::point("rewrite-before-claim").map_err(StoreError::io(&root))?;
        let c = Commit {
            schema_version: SCHEMA_VERSION,
            number: state.head + 1,
            ingest: ingest.to_string(),
            tool_version: tool_version.to_string(),
            catalog_version: state.catalogs.last().cloned().unwrap_or_default(),
            kind: kind.to_string(),
            sources: sources.clone(),
            dropped_sources: vec![],
            added: added.clone(),
            removed: removed.clone(),
            unsourced_skips: BTreeMap::new(),
            prune_before: prune_before.clone(),
            prompts: false,
            unsigned: commit::unsigned_parts(state, &added, &removed),
        };
        if commit::claim(&root, &c)? {
            store.publish(&c).map_err(|e| StoreError::Unfinished {
                number: c.number,
                cause: Box::new(e),
            })?;
            store.apply(&c);
            // The audit cache of the days it changed is stale.
            crate::cache::sweep(store, false);
            return Ok(Rewrite {
                commit: Some(c.number),
                parts_removed: c.removed.len(),
                parts_added: c.added.len(),
                rows: 0,
            });
        }
        store.refresh()?;
    }
    Err(StoreError::Contended { attempts: 1000 })
}
