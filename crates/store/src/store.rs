//! Opening a store (and finishing what an interrupted commit left), and
//! ingesting into it.
//!
//! An ingest writes its parts under temporary names, then claims the next
//! commit number (see [`crate::commit`]); only then are the parts renamed
//! into place and the parts it replaces deleted. A process killed at any
//! step leaves either no commit (its temporary files are orphans, deleted by
//! the next opener once their ingest is known to be dead) or a claimed
//! commit whose renames and deletions the next opener completes. Ingests
//! may run at once on one store: a loser of the race for a number re-reads
//! the log, drops rows of any source the winner already committed, redoes
//! replacements the winner made stale, and tries the next number.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::NaiveDate;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::{Deserialize, Serialize};

use tokenaudit_core::pricing::Catalog;
use tokenaudit_ingest::pipeline::{IngestOptions, Start};
use tokenaudit_ingest::{IngestSummary, Source};

use crate::commit::{
    self, sync_dir, Action, Commit, PartEntry, SourceEntry, State, StoredRejects, SCHEMA_VERSION,
};
use crate::error::{Result, StoreError};
use crate::fault;
use crate::layout;
use crate::plan::{self, Plan};
use crate::schema::Rows;
use crate::write::{self, PartSink, Shared};

/// An open store.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    state: State,
    /// What opening it repaired.
    pub recovered: Recovery,
}

/// What [`Store::open`] found and mended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Parts of a claimed commit renamed into place.
    pub completed: usize,
    /// Replaced parts still on disk, deleted.
    pub deleted: usize,
    /// Temporary parts of dead, uncommitted ingests, deleted.
    pub orphans: usize,
}

/// What an ingest is asked to do.
pub struct StoreIngest<'a> {
    pub sources: Vec<Source>,
    /// The ordinary ingest options (mapping, format, threads, progress).
    pub options: IngestOptions,
    pub catalog: &'a Catalog,
    /// Keep the prompt text columns.
    pub include_prompts: bool,
    pub tool_version: String,
    /// Commit nothing if any line or file was rejected.
    pub strict: bool,
}

/// What an ingest did.
#[derive(Debug, Default)]
pub struct IngestReport {
    /// The commit made (`None`: nothing was new).
    pub commit: Option<u64>,
    pub plan: Plan,
    /// Rows added and removed, parts added and removed.
    pub rows_added: u64,
    pub rows_removed: u64,
    pub parts_added: usize,
    pub parts_removed: usize,
    /// Sources another ingest committed first, so this one dropped them.
    pub raced: Vec<String>,
    /// What reading gave (rejects with files and lines), for `--strict`.
    pub summary: IngestSummary,
}

/// Who is writing: kept in `_inflight/` while an ingest runs, so a
/// concurrent opener does not take its temporary files for orphans.
#[derive(Serialize, Deserialize)]
struct Inflight {
    pid: u32,
    host: String,
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// An orphan's ingest is dead when its marker is gone, names a process of
/// this host that no longer runs, or is a day old.
fn ingest_alive(root: &Path, ingest: &str) -> bool {
    let marker = root.join(layout::INFLIGHT).join(format!("{ingest}.json"));
    let Ok(text) = std::fs::read_to_string(&marker) else {
        return false;
    };
    let old = std::fs::metadata(&marker)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > Duration::from_secs(24 * 3600));
    if old {
        return false;
    }
    match serde_json::from_str::<Inflight>(&text) {
        Ok(i) if i.host == host() => Path::new(&format!("/proc/{}", i.pid)).exists(),
        Ok(_) => true,
        Err(_) => false,
    }
}

/// A new ingest id: time, process and a little randomness (no `-`).
fn new_ingest_id() -> String {
    let now = chrono::Utc::now();
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}p{}r{:04x}",
        now.format("%Y%m%dt%H%M%S"),
        std::process::id(),
        nanos & 0xffff
    )
}

fn rename(from: &Path, to: &Path) -> Result<bool> {
    match std::fs::rename(from, to) {
        Ok(()) => Ok(true),
        // Someone else (a concurrent opener) finished it first.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && to.exists() => Ok(false),
        Err(e) => Err(StoreError::Io {
            path: from.to_path_buf(),
            error: e,
        }),
    }
}

fn remove(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::Io {
            path: path.to_path_buf(),
            error: e,
        }),
    }
}

impl Store {
    /// Creates the folders of a new store (or opens an existing one).
    pub fn create(root: &Path) -> Result<Store> {
        for dir in [
            layout::CALLS,
            layout::COMMITS,
            layout::FINDINGS,
            layout::INFLIGHT,
        ] {
            let d = root.join(dir);
            std::fs::create_dir_all(&d).map_err(StoreError::io(&d))?;
        }
        Store::open(root)
    }

    /// Opens a store: reads the commit log, completes an interrupted commit
    /// and deletes the orphans of dead ingests.
    pub fn open(root: &Path) -> Result<Store> {
        let log = commit::read_log(root)?;
        let state = commit::fold(&log);
        let mut store = Store {
            root: root.to_path_buf(),
            state,
            recovered: Recovery::default(),
        };
        store.recovered = store.recover(&log)?;
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Re-reads the log (after another process committed).
    pub fn refresh(&mut self) -> Result<()> {
        let log = commit::read_log(&self.root)?;
        self.state = commit::fold(&log);
        Ok(())
    }

    /// Applies a commit this process made.
    pub(crate) fn apply(&mut self, c: &Commit) {
        self.state.apply(c);
    }

    fn recover(&self, log: &[Commit]) -> Result<Recovery> {
        let mut r = Recovery::default();
        // A claimed commit's renames and deletions, finished: every live
        // part in place, every removed one gone.
        for p in self.state.parts.values() {
            let fin = self.root.join(&p.path);
            if !fin.exists() && rename(&layout::temp_path(&self.root, &p.path), &fin)? {
                r.completed += 1;
            }
        }
        for c in log {
            for p in &c.removed {
                if remove(&self.root.join(p))? {
                    r.deleted += 1;
                }
            }
        }
        // Temporary parts no commit names, of ingests that are gone.
        let calls = self.root.join(layout::CALLS);
        let Ok(days) = std::fs::read_dir(&calls) else {
            return Ok(r);
        };
        for day in days.flatten() {
            let Ok(files) = std::fs::read_dir(day.path()) else {
                continue;
            };
            for f in files.flatten() {
                let name = f.file_name();
                let Some(name) = name.to_str() else { continue };
                let Some(ingest) = layout::temp_ingest(name) else {
                    continue;
                };
                if !ingest_alive(&self.root, ingest) && remove(&f.path())? {
                    r.orphans += 1;
                }
            }
        }
        Ok(r)
    }

    /// Ingests what is new among `req.sources` and commits it.
    pub fn ingest(&mut self, req: StoreIngest<'_>) -> Result<IngestReport> {
        let plan = plan::plan(&self.state, &req.sources)?;
        let mut report = IngestReport {
            plan,
            ..Default::default()
        };
        if report.plan.read.is_empty() {
            return Ok(report);
        }
        let ingest = new_ingest_id();
        let marker = self
            .root
            .join(layout::INFLIGHT)
            .join(format!("{ingest}.json"));
        let inflight = Inflight {
            pid: std::process::id(),
            host: host(),
        };
        std::fs::write(
            &marker,
            serde_json::to_vec(&inflight).expect("a marker serializes"),
        )
        .map_err(StoreError::io(&marker))?;
        let result = self.ingest_as(&ingest, req, &mut report);
        if result.is_err() || report.commit.is_none() {
            // Nothing committed: take back what was written.
            remove_temps(&self.root, &ingest);
        } else {
            // The audit cache of the days it changed is stale.
            crate::cache::sweep(self, false);
        }
        let _ = std::fs::remove_file(&marker);
        result.map(|()| report)
    }

    fn ingest_as(
        &mut self,
        ingest: &str,
        req: StoreIngest<'_>,
        report: &mut IngestReport,
    ) -> Result<()> {
        let read = report.plan.read.clone();
        let sources: Vec<Source> = read.iter().map(|p| Source::File(p.path.clone())).collect();
        let keys: Vec<String> = read.iter().map(|p| p.key.clone()).collect();
        let mut options = req.options.clone();
        options.eager_lines = true;
        options.starts = read.iter().map(|p| p.start).collect();
        let shared = Shared::new(
            self.root.clone(),
            ingest.to_string(),
            req.catalog,
            keys,
            req.include_prompts,
        );
        let (mut sinks, summary) =
            tokenaudit_ingest::ingest(&sources, &options, || PartSink::new(&shared));
        let mut parts: Vec<PartEntry> = Vec::new();
        for sink in &mut sinks {
            sink.finish();
            if let Some(e) = sink.error.take() {
                return Err(e);
            }
            parts.append(&mut sink.parts);
        }
        drop(sinks);
        parts.sort_by(|a, b| a.path.cmp(&b.path));
        let entries: Vec<SourceEntry> = read
            .iter()
            .enumerate()
            .map(|(i, p)| source_entry(p, i, &summary))
            .collect();
        report.summary = summary;
        if req.strict && report.summary.rejects.total() > 0 {
            return Ok(());
        }
        fault::point("parts-written").map_err(StoreError::io(&self.root))?;

        // Claim a commit number; on a lost race, adjust to the winner's
        // commits and try the next one.
        let mut entries = entries;
        let mut replaced = self.replace(&shared, &entries)?;
        for _attempt in 0..1000 {
            let commit = Commit {
                schema_version: SCHEMA_VERSION,
                number: self.state.head + 1,
                ingest: ingest.to_string(),
                tool_version: req.tool_version.clone(),
                catalog_version: req.catalog.version().to_string(),
                kind: "ingest".into(),
                sources: entries.clone(),
                dropped_sources: vec![],
                added: parts.iter().chain(&replaced.added).cloned().collect(),
                removed: replaced.removed.clone(),
                unsourced_skips: BTreeMap::new(),
            };
            fault::point("before-claim").map_err(StoreError::io(&self.root))?;
            if commit::claim(&self.root, &commit)? {
                fault::point("claimed").map_err(StoreError::io(&self.root))?;
                self.publish(&commit)?;
                report.commit = Some(commit.number);
                // The rows read now, and the earlier rows of the sources
                // read again (parts rewritten around them are neither).
                report.rows_added = parts.iter().map(|p| p.rows).sum();
                report.rows_removed = entries
                    .iter()
                    .filter(|e| e.action == Action::Changed)
                    .filter_map(|e| self.state.sources.get(&e.key))
                    .map(|prev| prev.records)
                    .sum();
                report.parts_added = commit.added.len();
                report.parts_removed = commit.removed.len();
                self.state.apply(&commit);
                return Ok(());
            }
            // Lost the race: see what the winners did.
            let base = self.state.head;
            self.refresh()?;
            let log = commit::read_log(&self.root)?;
            let theirs: BTreeSet<&str> = log[base as usize..]
                .iter()
                .flat_map(|c| c.sources.iter().map(|s| s.key.as_str()))
                .collect();
            let raced: BTreeSet<String> = entries
                .iter()
                .filter(|e| theirs.contains(e.key.as_str()))
                .map(|e| e.key.clone())
                .collect();
            if !raced.is_empty() {
                // Another ingest read these sources meanwhile: keep its
                // rows, drop ours, so nothing is counted twice.
                report.raced.extend(
                    entries
                        .iter()
                        .filter(|e| raced.contains(&e.key))
                        .map(|e| e.name.clone()),
                );
                entries.retain(|e| !raced.contains(&e.key));
                parts = drop_sources(&self.root, &shared, parts, &raced)?;
            }
            let stale = replaced
                .removed
                .iter()
                .any(|p| !self.state.parts.contains_key(p));
            if stale || !raced.is_empty() {
                for p in &replaced.added {
                    let _ = std::fs::remove_file(layout::temp_path(&self.root, &p.path));
                }
                replaced = self.replace(&shared, &entries)?;
            }
            if entries.is_empty() && parts.is_empty() {
                return Ok(());
            }
        }
        Err(StoreError::Contended { attempts: 1000 })
    }

    /// Renames a claimed commit's parts into place and deletes the parts
    /// it replaces.
    pub(crate) fn publish(&self, c: &Commit) -> Result<()> {
        let mut dirs = BTreeSet::new();
        for (i, p) in c.added.iter().enumerate() {
            let fin = self.root.join(&p.path);
            rename(&layout::temp_path(&self.root, &p.path), &fin)?;
            if let Some(d) = fin.parent() {
                dirs.insert(d.to_path_buf());
            }
            if i == 0 {
                fault::point("renamed-one").map_err(StoreError::io(&self.root))?;
            }
        }
        for d in &dirs {
            sync_dir(d);
        }
        fault::point("renamed-all").map_err(StoreError::io(&self.root))?;
        for p in &c.removed {
            remove(&self.root.join(p))?;
        }
        fault::point("removed").map_err(StoreError::io(&self.root))?;
        Ok(())
    }

    /// For the changed sources among `entries`: the live parts holding
    /// their earlier rows (to remove) and those parts' other rows, written
    /// anew (to add).
    fn replace(&self, shared: &Shared<'_>, entries: &[SourceEntry]) -> Result<Replaced> {
        let changed: BTreeSet<String> = entries
            .iter()
            .filter(|e| e.action == Action::Changed)
            .map(|e| e.key.clone())
            .collect();
        let mut out = Replaced::default();
        if changed.is_empty() {
            return Ok(out);
        }
        for part in self.state.parts.values() {
            if !part.sources.iter().any(|s| changed.contains(s)) {
                continue;
            }
            out.removed.push(part.path.clone());
            if part.sources.iter().all(|s| changed.contains(s)) {
                continue;
            }
            let path = self.root.join(&part.path);
            let kept = filter_part(&path, &changed)?;
            let day = part
                .day
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            if let Some(batch) = kept {
                let name = shared.next_part(day);
                out.added
                    .push(write::write_part(&self.root, &name, day, &batch)?);
            }
        }
        Ok(out)
    }
}

/// Parts a commit adds and removes to replace sources' rows.
#[derive(Default)]
struct Replaced {
    added: Vec<PartEntry>,
    removed: Vec<String>,
}

/// The rows of a part whose source is not in `drop` (`None`: none left).
fn filter_part(path: &Path, drop: &BTreeSet<String>) -> Result<Option<arrow_array::RecordBatch>> {
    let file = File::open(path).map_err(StoreError::io(path))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(StoreError::parquet(path))?
        .build()
        .map_err(StoreError::parquet(path))?;
    let mut kept = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| StoreError::Parquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let rows = Rows::new(&batch);
        let keep: arrow_array::BooleanArray = (0..rows.len())
            .map(|i| Some(!drop.contains(rows.source(i))))
            .collect();
        let b = arrow_select::filter::filter_record_batch(&batch, &keep).map_err(|e| {
            StoreError::Parquet {
                path: path.to_path_buf(),
                message: e.to_string(),
            }
        })?;
        if b.num_rows() > 0 {
            kept.push(b);
        }
    }
    if kept.is_empty() {
        return Ok(None);
    }
    arrow_select::concat::concat_batches(&crate::schema::schema(), &kept)
        .map(Some)
        .map_err(|e| StoreError::Parquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// This ingest's parts without the rows of `drop`ped sources (rewritten
/// under new names where they held other rows too).
fn drop_sources(
    root: &Path,
    shared: &Shared<'_>,
    parts: Vec<PartEntry>,
    drop: &BTreeSet<String>,
) -> Result<Vec<PartEntry>> {
    let mut out = Vec::new();
    for p in parts {
        if !p.sources.iter().any(|s| drop.contains(s)) {
            out.push(p);
            continue;
        }
        let tmp = layout::temp_path(root, &p.path);
        let kept = filter_part(&tmp, drop)?;
        let _ = std::fs::remove_file(&tmp);
        if let Some(batch) = kept {
            let day = p
                .day
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            let name = shared.next_part(day);
            out.push(write::write_part(root, &name, day, &batch)?);
        }
    }
    Ok(out)
}

/// Deletes an ingest's temporary parts.
fn remove_temps(root: &Path, ingest: &str) {
    let Ok(days) = std::fs::read_dir(root.join(layout::CALLS)) else {
        return;
    };
    for day in days.flatten() {
        let Ok(files) = std::fs::read_dir(day.path()) else {
            continue;
        };
        for f in files.flatten() {
            if f.file_name().to_str().and_then(layout::temp_ingest) == Some(ingest) {
                let _ = std::fs::remove_file(f.path());
            }
        }
    }
}

/// A source's entry after this ingest: what it read now, added to what
/// earlier ingests read of a grown file.
fn source_entry(p: &plan::Planned, index: usize, summary: &IngestSummary) -> SourceEntry {
    let s = &summary.sources[index];
    let (counts, samples) = summary.rejects.of_source(index);
    let mut rejects = StoredRejects {
        counts: counts
            .iter()
            .map(|(r, n)| (r.code().to_string(), *n))
            .collect(),
        samples: samples
            .into_iter()
            .map(|s| (s.line, s.reason.code().to_string(), s.detail))
            .collect(),
    };
    let (mut lines, mut records, mut rejected, mut skipped) =
        (s.lines, s.records, s.rejected, s.skipped);
    let (mut encoding, mut format) = (s.encoding.clone(), s.format.clone());
    if let (Action::Grown, Some(prev)) = (p.action, &p.previous) {
        lines += prev.lines;
        records += prev.records;
        rejected += prev.rejected;
        skipped += prev.skipped;
        (encoding, format) = (prev.encoding.clone(), prev.format.clone());
        for (k, n) in &prev.rejects.counts {
            *rejects.counts.entry(k.clone()).or_default() += n;
        }
        let mut all = prev.rejects.samples.clone();
        all.append(&mut rejects.samples);
        all.truncate(tokenaudit_ingest::rejects::MAX_SAMPLES);
        rejects.samples = all;
    }
    SourceEntry {
        key: p.key.clone(),
        name: p.name.clone(),
        action: p.action,
        size: p.size,
        mtime_ns: p.mtime_ns,
        head: p.head.clone(),
        tail: p.tail.clone(),
        from_offset: p.start.map_or(0, |s: Start| s.offset),
        first_line: p.start.map_or(1, |s| s.first_line),
        encoding,
        format,
        next_line: s.next_line,
        lines,
        records,
        rejected,
        skipped,
        rejects,
        pruned: false,
    }
}
