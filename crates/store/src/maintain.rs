//! Keeping a store healthy: `check` (is every committed row there, and
//! nothing else), `compact` (merge a day's small parts), `prune` (drop the
//! days before a date). Compaction and pruning are commits like an ingest's,
//! so readers never see a half-done one.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;

use arrow_array::{Array, RecordBatch, StringArray};
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
        let file = match File::open(&path) {
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
        let Some(i) = builder
            .schema()
            .fields()
            .iter()
            .position(|f| f.name() == crate::schema::col::SOURCE)
        else {
            r.problems.push(format!("{}: no `source` column", p.path));
            continue;
        };
        let mask = ProjectionMask::roots(builder.parquet_schema(), [i]);
        let reader = match builder.with_projection(mask).build() {
            Ok(reader) => reader,
            Err(e) => {
                r.problems.push(format!("{}: {e}", p.path));
                continue;
            }
        };
        let listed: BTreeSet<&str> = p.sources.iter().map(String::as_str).collect();
        for batch in reader {
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    r.problems.push(format!("{}: {e}", p.path));
                    break;
                }
            };
            let Some(col) = batch.column(0).as_any().downcast_ref::<StringArray>() else {
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
                *per_source.entry(key.to_string()).or_default() += 1;
            }
        }
    }
    for s in state.sources.values().filter(|s| !s.pruned) {
        let rows = per_source.get(&s.key).copied().unwrap_or(0);
        if rows != s.records {
            r.problems.push(format!(
                "{}: {rows} rows in the store, its ingests counted {} calls",
                s.name, s.records
            ));
        }
    }
    // Files the log does not name.
    let live: BTreeSet<&str> = state.parts.keys().map(String::as_str).collect();
    if let Ok(days) = std::fs::read_dir(root.join(layout::CALLS)) {
        for day in days.flatten() {
            let Ok(files) = std::fs::read_dir(day.path()) else {
                continue;
            };
            for f in files.flatten() {
                let name = f.file_name().to_string_lossy().into_owned();
                let rel = format!(
                    "{}/{}/{name}",
                    layout::CALLS,
                    day.file_name().to_string_lossy()
                );
                if name.ends_with(".parquet") && !live.contains(rel.as_str()) {
                    r.problems.push(format!(
                        "{rel}: a Parquet file no commit lists (engines reading calls/ would count it)"
                    ));
                } else if name.ends_with(layout::TEMP_SUFFIX) {
                    r.problems.push(format!(
                        "{rel}: a part of an ingest still running, or of one that died (the next ingest removes it once it is known to be dead)"
                    ));
                }
            }
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

fn read_all(root: &std::path::Path, parts: &[&PartEntry]) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::new();
    for p in parts {
        let path = root.join(&p.path);
        let file = File::open(&path).map_err(StoreError::io(&path))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(StoreError::parquet(&path))?
            .build()
            .map_err(StoreError::parquet(&path))?;
        for b in reader {
            out.push(b.map_err(|e| StoreError::Parquet {
                path: path.clone(),
                message: e.to_string(),
            })?);
        }
    }
    Ok(out)
}

/// Rows per compacted part.
pub const COMPACT_ROWS: usize = 1 << 20;

/// Merges each day's parts into as few as [`COMPACT_ROWS`] allows, sorted.
/// Days that already are one part are left alone.
pub fn compact(store: &mut Store, tool_version: &str) -> Result<Rewrite> {
    let ingest = format!("compact{}", std::process::id());
    let mut by_day: BTreeMap<Option<String>, Vec<&PartEntry>> = BTreeMap::new();
    for p in store.state().parts.values() {
        by_day.entry(p.day.clone()).or_default().push(p);
    }
    let shared_seq = std::sync::atomic::AtomicU32::new(0);
    let mut added = Vec::new();
    let mut removed = Vec::new();
    let root = store.root().to_path_buf();
    for (day, parts) in by_day {
        if parts.len() < 2 {
            continue;
        }
        let date = day
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        let batches = read_all(&root, &parts)?;
        let all = arrow_select::concat::concat_batches(&crate::schema::schema(), &batches)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut offset = 0;
        while offset < all.num_rows() {
            let len = COMPACT_ROWS.min(all.num_rows() - offset);
            let seq = shared_seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let name = layout::part_path(date, &ingest, seq);
            added.push(write::write_part(
                &root,
                &name,
                date,
                &all.slice(offset, len),
            )?);
            offset += len;
        }
        removed.extend(parts.iter().map(|p| p.path.clone()));
    }
    let rows = added.iter().map(|p: &PartEntry| p.rows).sum();
    let commit = rewrite_commit(
        store,
        &ingest,
        "compact",
        tool_version,
        added,
        removed,
        vec![],
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
    let pruned: Vec<SourceEntry> = touched
        .iter()
        .filter(|k| !remaining.contains(*k))
        .filter_map(|k| state.sources.get(*k))
        .map(|s| SourceEntry {
            pruned: true,
            ..s.clone()
        })
        .collect();
    let rows = removed.iter().map(|p| p.rows).sum();
    let removed: Vec<String> = removed.iter().map(|p| p.path.clone()).collect();
    let ingest = format!("prune{}", std::process::id());
    let commit = rewrite_commit(
        store,
        &ingest,
        "prune",
        tool_version,
        vec![],
        removed,
        pruned,
    )?;
    Ok(Rewrite { rows, ..commit })
}

/// Commits a rewrite (parts added and removed, sources updated), retrying
/// on a lost race as long as the parts it removes are still live.
fn rewrite_commit(
    store: &mut Store,
    ingest: &str,
    kind: &str,
    tool_version: &str,
    added: Vec<PartEntry>,
    removed: Vec<String>,
    sources: Vec<SourceEntry>,
) -> Result<Rewrite> {
    if added.is_empty() && removed.is_empty() {
        return Ok(Rewrite::default());
    }
    let root = store.root().to_path_buf();
    for _ in 0..1000 {
        let state = store.state();
        if removed.iter().any(|p| !state.parts.contains_key(p)) {
            for p in &added {
                let _ = std::fs::remove_file(layout::temp_path(&root, &p.path));
            }
            return Err(StoreError::Invalid(format!(
                "another process changed the store during the {kind}: run it again"
            )));
        }
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
        };
        if commit::claim(&root, &c)? {
            store.publish(&c)?;
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
