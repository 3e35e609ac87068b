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
use tokenaudit_ingest::{Format, IngestSummary, RejectReason, Source};

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
#[derive(Clone)]
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
    /// What identifies stdin from ingest to ingest (`--stdin-name`).
    pub stdin_name: Option<String>,
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
    /// LiteLLM cache-hit rows kept beside the calls (no calls: not in
    /// `rows_added`).
    pub cache_hits_added: u64,
    /// Calls left out because their day is before the store's prune date
    /// (`store prune --before`; the state's `prune_before`).
    pub rows_pruned: u64,
    pub parts_added: usize,
    pub parts_removed: usize,
    /// Sources another ingest committed first, so this one dropped them.
    pub raced: Vec<String>,
    /// Files read now that hold the text of a stored file that is gone
    /// (compressed after it was read): (new name, old name). The old rows
    /// were replaced.
    pub recompressed: Vec<(String, String)>,
    /// What reading gave (rejects with files and lines), for `--strict`.
    pub summary: IngestSummary,
    /// Nothing to commit: every file planned could not be read (they are
    /// not recorded, and the next ingest tries them again).
    pub nothing_readable: bool,
    /// Files read again for another `[mapping]` or `--input-format` than
    /// the store's, of which no line is a call as read now: their stored
    /// rows and entry are kept (the next ingest tries them again).
    pub kept_unread: Vec<String>,
    /// Files whose stored calls were read again whole because their text
    /// changed, and which are now empty (a failed copy, `false | ingest -`):
    /// their stored rows and entry are kept (the next ingest tries them
    /// again).
    pub kept_emptied: Vec<String>,
    /// Files emptied in place whose calls (how many) left the store, their
    /// text in no file of this ingest.
    pub emptied: Vec<(String, u64)>,
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

/// An orphan's ingest is dead when its marker is gone or unlocked (a
/// running writer holds an exclusive lock on it, which the OS releases
/// when the process dies, on any host sharing the folder); where the
/// filesystem has no locks: when it names a process of this host that no
/// longer runs, or is a day old.
fn ingest_alive(root: &Path, ingest: &str) -> bool {
    let marker = root.join(layout::INFLIGHT).join(format!("{ingest}.json"));
    let Ok(text) = std::fs::read_to_string(&marker) else {
        return false;
    };
    if let Ok(f) = File::open(&marker) {
        match f.try_lock() {
            Ok(()) => return false,
            Err(std::fs::TryLockError::WouldBlock) => return true,
            Err(std::fs::TryLockError::Error(_)) => {}
        }
    }
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

/// A new writer id: time, process and 32 bits mixing the host, the
/// nanoseconds and a fresh temporary file's name (no `-`): containers all
/// run as process 1, so the process alone does not tell two apart.
fn new_ingest_id() -> String {
    let now = chrono::Utc::now();
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let noise = tempfile::Builder::new()
        .make(|_| Ok(()))
        .map(|t| t.path().to_string_lossy().into_owned())
        .unwrap_or_default();
    let mix = xxhash_rust::xxh3::xxh3_64(format!("{}{nanos}{noise}", host()).as_bytes());
    format!(
        "{}p{}r{:08x}",
        now.format("%Y%m%dt%H%M%S"),
        std::process::id(),
        mix as u32
    )
}

/// A writer's entry in `_inflight/` (see [`Inflight`]), removed when it
/// is dropped: held by every command that writes parts (ingest, compact),
/// so that a concurrent opener does not delete them as orphans.
pub(crate) struct Marker {
    pub(crate) id: String,
    path: PathBuf,
    /// Held open with an exclusive lock while the writer runs.
    _lock: Option<File>,
}

impl Marker {
    pub(crate) fn create(root: &Path) -> Result<Marker> {
        let id = new_ingest_id();
        let path = root.join(layout::INFLIGHT).join(format!("{id}.json"));
        let inflight = Inflight {
            pid: std::process::id(),
            host: host(),
        };
        std::fs::write(
            &path,
            serde_json::to_vec(&inflight).expect("a marker serializes"),
        )
        .map_err(StoreError::io(&path))?;
        // Best effort: without locks, liveness falls back to the process.
        let lock = File::open(&path).ok().filter(|f| f.lock().is_ok());
        Ok(Marker {
            id,
            path,
            _lock: lock,
        })
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
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
    /// Creates the folders of a new store (or opens an existing one). A
    /// file, or a folder of logs that is no store yet, is refused: made a
    /// store, its logs would no longer be read as logs (hunt63).
    pub fn create(root: &Path) -> Result<Store> {
        // `s3://bucket/prefix` would be made a local folder `s3:/bucket/…`
        // that later commands read as if it were the bucket (hunt84).
        if root
            .to_str()
            .is_some_and(|s| s.contains("://") && !s.starts_with("file://"))
        {
            return Err(StoreError::Invalid(
                "ingest writes a store folder on this machine, not an object store URL: ingest into a folder, then copy the folder to the object store, where `audit --store URL --engine …` reads it in a build with the `cluster` feature (docs/cluster.md)".to_string(),
            ));
        }
        let store = root.join(layout::COMMITS).is_dir();
        if root.is_file() || (!store && layout::holds_logs(root)) {
            return Err(StoreError::NotAStore {
                path: root.to_path_buf(),
            });
        }
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

    /// Whether an ingest kept prompt text (`--include-prompts`): an audit
    /// with `--include-prompts` of a store without any has no excerpts.
    pub fn holds_prompt_text(&self) -> bool {
        self.state.prompts
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
        // A part under neither name (lost outside the store's protocol) is
        // left for `store check` to name, so that it and every other
        // command can still open the store.
        for p in self.state.parts.values() {
            let fin = self.root.join(&p.path);
            let temp = layout::temp_path(&self.root, &p.path);
            if !fin.exists() && temp.exists() && rename(&temp, &fin)? {
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
        for f in layout::part_files(&self.root) {
            let name = f.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(ingest) = layout::temp_ingest(name) else {
                continue;
            };
            if !ingest_alive(&self.root, ingest) && remove(&f.path())? {
                r.orphans += 1;
            }
        }
        Ok(r)
    }

    /// Ingests what is new among `req.sources` and commits it.
    pub fn ingest(&mut self, req: StoreIngest<'_>) -> Result<IngestReport> {
        // Claude Code files are read as one group (see
        // `plan::read_agent_logs_together`): when another ingest commits
        // some meanwhile, this one plans again on top of it (stdin, read
        // once, cannot be).
        let retries = if req.sources.contains(&Source::Stdin) {
            0
        } else {
            5
        };
        let mut attempt = 0;
        loop {
            let reading = commit::reading_of(&req.options);
            let plan = plan::plan(
                &self.state,
                &req.sources,
                req.stdin_name.as_deref(),
                reading.as_deref(),
            )?;
            let spooled = plan.spooled.clone();
            let result = plan::read_agent_logs_together(&self.state, plan, &req.options)
                .and_then(|plan| self.ingest_planned(plan, req.clone()));
            for f in spooled {
                let _ = std::fs::remove_file(f);
            }
            match result {
                Err(StoreError::AgentLogsRaced | StoreError::Replan) if attempt < retries => {
                    attempt += 1;
                    self.refresh()?;
                }
                other => return other,
            }
        }
    }

    fn ingest_planned(&mut self, plan: plan::Plan, req: StoreIngest<'_>) -> Result<IngestReport> {
        let mut report = IngestReport {
            plan,
            ..Default::default()
        };
        if report.plan.read.is_empty() && report.plan.moved.is_empty() {
            return Ok(report);
        }
        let marker = Marker::create(&self.root)?;
        let result = self.ingest_as(&marker.id, req, &mut report);
        if report.commit.is_none() {
            // Nothing committed (nor claimed): take back what was written.
            remove_temps(&self.root, &marker.id);
        } else {
            // The audit cache of the days it changed is stale.
            crate::cache::sweep(self, false);
        }
        result.map(|()| report)
    }

    fn ingest_as(
        &mut self,
        ingest: &str,
        req: StoreIngest<'_>,
        report: &mut IngestReport,
    ) -> Result<()> {
        fault::point("ingest-planned").map_err(StoreError::io(&self.root))?;
        let reading = commit::reading_of(&req.options);
        let read = report.plan.read.clone();
        let sources: Vec<Source> = read.iter().map(|p| Source::File(p.path.clone())).collect();
        let keys: Vec<String> = read.iter().map(|p| p.key.clone()).collect();
        let mut options = req.options.clone();
        options.eager_lines = true;
        options.digest_files = true;
        options.starts = read.iter().map(|p| p.start).collect();
        // Up to the size planned (and recorded in the commit): what is
        // appended while this ingest runs is read by the next one, once.
        options.ends = read.iter().map(|p| Some(p.size)).collect();
        // The rest of a grown file is read as what its start was: its first
        // appended lines alone may not tell.
        options.formats = read
            .iter()
            .map(|p| {
                let prev = p.previous.as_ref().filter(|_| p.start.is_some())?;
                Format::from_name(&prev.format)
            })
            .collect();
        let mut shared = Shared::new(
            self.root.clone(),
            ingest.to_string(),
            req.catalog,
            keys,
            req.include_prompts,
        );
        let mut gone = Gone {
            keys: report.plan.agent_logs_gone.iter().cloned().collect(),
            request_ids: Default::default(),
            moved: report.plan.rekey.clone(),
            replaced: report.plan.replaced.iter().cloned().collect(),
        };
        if !gone.keys.is_empty() {
            shared.collect_ids = read.iter().map(|p| p.agent_log).collect();
        }
        // After a prune, rows before its first day kept stay out.
        shared.drop_before = self.state.prune_day();
        let (mut sinks, summary) =
            tokenaudit_ingest::ingest(&sources, &options, || PartSink::new(&shared));
        let mut parts: Vec<PartEntry> = Vec::new();
        let mut pruned = vec![0u64; read.len()];
        // Each worker's last rows written and its parts closed, at once.
        std::thread::scope(|scope| {
            for sink in &mut sinks {
                scope.spawn(|| sink.finish());
            }
        });
        for sink in &mut sinks {
            if let Some(e) = sink.error.take() {
                return Err(e);
            }
            parts.append(&mut sink.parts);
            gone.request_ids
                .extend(std::mem::take(&mut sink.request_ids));
            for (i, n) in sink.pruned.iter().enumerate() {
                if let Some(total) = pruned.get_mut(i) {
                    *total += n;
                }
            }
        }
        drop(sinks);
        // Every part on disk before a commit names it.
        shared.synced()?;
        report.rows_pruned = pruned.iter().sum();
        parts.sort_by(|a, b| a.path.cmp(&b.path));
        // The text of each file read whole in this ingest (its length and
        // first MiB), with its name and number of lines.
        let reread: BTreeMap<String, (&str, u64)> = read
            .iter()
            .enumerate()
            .filter(|(_, p)| p.start.is_none())
            .filter_map(|(i, p)| {
                let s = &summary.sources[i];
                Some((plan::content_text(s.content?), (p.name.as_str(), s.lines)))
            })
            .collect();
        // A rotated-over file's text read again whole from a new file of
        // this ingest (logrotate's delaycompress: `app.log.1` compressed to
        // `app.log.2.gz`): its earlier rows are replaced, not kept.
        let mut retired = report.plan.retired.clone();
        retired.retain(|r| {
            let back = r.content.as_ref().is_some_and(|c| reread.contains_key(c));
            if back {
                let old = gone.moved.iter().find(|(_, to)| **to == r.key);
                if let Some(old) = old.map(|(from, _)| from.clone()) {
                    gone.moved.remove(&old);
                    gone.replaced.insert(old);
                }
            }
            !back
        });
        // What the summary says was kept: not what came back.
        report.plan.retired = retired.clone();
        // A gone file's text read again whole from a file of this ingest:
        // compressed after it was read (`gzip app.log-20261002`, logrotate's
        // dateext with delaycompress). Its earlier rows are replaced, not
        // counted twice: by the text and its number of lines.
        let read_keys: BTreeSet<&str> = read.iter().map(|p| p.key.as_str()).collect();
        for e in self.state.sources.values() {
            let candidate = !e.pruned
                && !e.key.starts_with("stdin:")
                && !matches!(e.format.as_str(), "claude-code" | "codex")
                && !read_keys.contains(e.key.as_str())
                && !gone.moved.contains_key(&e.key)
                && !gone.replaced.contains(&e.key);
            let Some(&(new, lines)) = e.content.as_ref().and_then(|c| reread.get(c)) else {
                continue;
            };
            if candidate && e.lines == lines && !Path::new(&e.key).exists() {
                gone.replaced.insert(e.key.clone());
                report.recompressed.push((new.to_string(), e.name.clone()));
            }
        }
        // Gone, and no file of this ingest took their calls (a renamed
        // re-export, a log compressed in place: hunt75).
        let taken: BTreeSet<String> = report
            .plan
            .restated
            .iter()
            .chain(&report.recompressed)
            .map(|(_, old)| old.clone())
            .collect();
        report.plan.gone.retain(|g| !taken.contains(g));
        // A file that could not be read at all (a compression not read,
        // gone meanwhile) is not recorded: a new one is tried again by the
        // next ingest, which says so again (hunt113: a `.jsonl.bz2` was
        // "already in the store" the night after, its calls lost without a
        // word), and one the store has keeps its rows and its entry as they
        // were (hunt115: a log recompressed in place with bzip2 had its
        // calls replaced by none).
        // So does a file read again for another reading (a `[mapping]` or
        // `--input-format` left out) of which no line is a call now
        // (hunt118: a night without the config replaced a mapped log's 20
        // calls by none, and the log's retention then lost them for good).
        // Only a file that failed to read (its lines rejected or not
        // recognised), not one the new reading says has no call (a
        // `[mapping.only]` that skips its lines: hunt119); and only the
        // file itself read again, not a rotated or renamed one, whose rows
        // move to another key (hunt119: the rows then named a source no
        // commit lists). A restated export under a new name that fails to
        // read keeps the rows of the file it restates.
        let failed = |i: usize| summary.sources[i].records == 0 && summary.sources[i].rejected > 0;
        let restates: BTreeMap<String, String> = report
            .plan
            .restated
            .iter()
            .filter_map(|(new, old)| {
                let key = self
                    .state
                    .sources
                    .values()
                    .find(|e| e.name == *old)?
                    .key
                    .clone();
                Some((new.clone(), key))
            })
            .collect();
        let lost_reading = |i: usize| {
            let p = &read[i];
            failed(i)
                && ((p.reread
                    && p.action == Action::Changed
                    && p.previous
                        .as_ref()
                        .is_some_and(|e| e.key == p.key && e.records > 0))
                    || restates.contains_key(&p.name))
        };
        report.kept_unread = (0..read.len())
            .filter(|&i| lost_reading(i))
            .map(|i| read[i].name.clone())
            .collect();
        // A stored source read again whole that is now empty replaces its
        // calls by none. Stdin so (hunt185: a night's failed `aws s3 cp …
        // - | tokenaudit ingest - --stdin-name …` emptied its 3,000 calls,
        // exit 0 under --strict) is a failed copy: kept as it was, said. A
        // file emptied in place is a log rotated (logrotate's create or
        // copytruncate, its calls in the rotated copy: hunt186, kept they
        // were counted twice) or an export that came empty: replaced, and
        // said when no file of this ingest holds its text.
        let emptied = |i: usize| {
            let (p, s) = (&read[i], &summary.sources[i]);
            p.action == Action::Changed
                && p.previous
                    .as_ref()
                    .is_some_and(|e| e.key == p.key && e.records > 0)
                && s.lines == 0
                && s.records == 0
                && s.rejected == 0
        };
        let piped = |i: usize| read[i].key.starts_with("stdin:");
        report.kept_emptied = (0..read.len())
            .filter(|&i| emptied(i) && piped(i))
            .map(|i| read[i].name.clone())
            .collect();
        report.emptied = (0..read.len())
            .filter(|&i| emptied(i) && !piped(i))
            .filter_map(|i| {
                let e = read[i].previous.as_ref()?;
                let moved = e.content.as_ref().is_some_and(|c| reread.contains_key(c));
                (!moved).then(|| (read[i].name.clone(), e.records))
            })
            .collect();
        for i in (0..read.len()).filter(|&i| lost_reading(i)) {
            if let Some(old) = restates.get(&read[i].name) {
                gone.replaced.remove(old);
            }
        }
        let kept = report.kept_unread.clone();
        report.plan.restated.retain(|(new, _)| !kept.contains(new));
        let unreadable = |i: usize| {
            (matches!(
                read[i].action,
                Action::New | Action::Changed | Action::Grown
            ) && summary.sources[i].unreadable())
                || lost_reading(i)
                || (emptied(i) && piped(i))
        };
        for i in (0..read.len()).filter(|&i| unreadable(i)) {
            gone.replaced.remove(&read[i].key);
        }
        let entries: Vec<SourceEntry> = read
            .iter()
            .enumerate()
            .filter(|&(i, _)| !unreadable(i))
            .map(|(i, p)| source_entry(p, i, &summary, pruned[i], &reading))
            .chain(report.plan.moved.iter().cloned())
            .chain(retired)
            .collect();
        // A moved file's entry goes with its rows (and a file read again
        // whole under a new name with its rows), unless an entry of its
        // key is committed now too.
        let committed_now: BTreeSet<&str> = entries.iter().map(|e| e.key.as_str()).collect();
        let dropped_sources: Vec<String> = gone
            .moved
            .keys()
            .chain(&gone.replaced)
            .filter(|k| !committed_now.contains(k.as_str()))
            .cloned()
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect();
        report.summary = summary;
        if req.strict
            && (report.summary.rejects.strict_failures() > 0
                || !report.plan.unreadable.is_empty()
                || !report.kept_emptied.is_empty())
        {
            return Ok(());
        }
        if entries.is_empty()
            && parts.is_empty()
            && dropped_sources.is_empty()
            && gone.keys.is_empty()
            && gone.moved.is_empty()
            && gone.replaced.is_empty()
        {
            report.nothing_readable = true;
            return Ok(());
        }
        fault::point("parts-written").map_err(StoreError::io(&self.root))?;

        // Claim a commit number; on a lost race, adjust to the winner's
        // commits and try the next one.
        let mut entries = entries;
        let mut replaced = match self.replace(&shared, &entries, &gone) {
            Err(e) if e.part_vanished() => {
                remove_temp(&self.root, &parts);
                return Err(StoreError::Replan);
            }
            r => r?,
        };
        for _attempt in 0..1000 {
            let commit = Commit {
                schema_version: SCHEMA_VERSION,
                number: self.state.head + 1,
                ingest: ingest.to_string(),
                tool_version: req.tool_version.clone(),
                catalog_version: req.catalog.version().to_string(),
                kind: "ingest".into(),
                sources: entries
                    .iter()
                    .cloned()
                    .chain(gone_entries(&self.state, &replaced.repeats))
                    .collect(),
                dropped_sources: dropped_sources.clone(),
                added: parts.iter().chain(&replaced.added).cloned().collect(),
                removed: replaced.removed.clone(),
                unsourced_skips: BTreeMap::new(),
                prune_before: None,
                prompts: req.include_prompts,
                unsigned: commit::unsigned_parts(&self.state, &replaced.added, &replaced.removed),
            };
            fault::point("before-claim").map_err(StoreError::io(&self.root))?;
            if commit::claim(&self.root, &commit)? {
                // Claimed: from here on its temporary parts are the commit's,
                // never taken back (if publishing fails, the next opening of
                // the store finishes it).
                report.commit = Some(commit.number);
                fault::point("claimed")
                    .map_err(StoreError::io(&self.root))
                    .and_then(|()| self.publish(&commit))
                    .map_err(|e| StoreError::Unfinished {
                        number: commit.number,
                        cause: Box::new(e),
                    })?;
                // The calls read now (LiteLLM's cache hits are no calls),
                // and the earlier calls of the sources read again (parts
                // rewritten around them are neither).
                let (calls, hits): (Vec<&PartEntry>, Vec<&PartEntry>) =
                    parts.iter().partition(|p| p.holds_calls());
                report.rows_added = calls.iter().map(|p| p.rows).sum();
                report.cache_hits_added = hits.iter().map(|p| p.rows).sum();
                // The rows of the files read again (changed, or a
                // rotated-over text that came back whole in a new file).
                let changed = entries
                    .iter()
                    .filter(|e| e.action == Action::Changed)
                    .map(|e| &e.key);
                report.rows_removed = changed
                    .chain(&gone.replaced)
                    .collect::<BTreeSet<&String>>()
                    .into_iter()
                    .filter_map(|k| self.state.sources.get(k))
                    // Rows a prune dropped were no longer there to replace.
                    .map(|prev| prev.records.saturating_sub(prev.pruned_rows))
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
            // The sources another ingest read meanwhile (a prune lists the
            // files whose rows it dropped, read by no one: hunt162, a
            // night's reading of them thrown away as "committed by another
            // ingest").
            let read_by_them: BTreeSet<&str> = log[base as usize..]
                .iter()
                .filter(|c| c.kind == "ingest")
                .flat_map(|c| c.sources.iter().map(|s| s.key.as_str()))
                .collect();
            // A prune committed meanwhile: rows before its day, which this
            // reading kept, must stay out (hunt162: the pruned days came
            // back); plan again under it.
            if self.state.prune_day() != shared.drop_before {
                remove_temp(&self.root, parts.iter().chain(&replaced.added));
                return Err(StoreError::Replan);
            }
            let their_agent_logs = log[base as usize..]
                .iter()
                .flat_map(|c| &c.sources)
                .any(|s| crate::plan::is_agent_log(&s.format));
            if their_agent_logs && read.iter().any(|p| p.agent_log) {
                // Their agent-log calls and ours were not deduplicated
                // together: plan again (see `Store::ingest`).
                return Err(StoreError::AgentLogsRaced);
            }
            // Moves and replacements planned against the state before the
            // winners' commits, of keys they committed (a rotation another
            // ingest or a prune committed meanwhile): this plan is stale,
            // and its entries depend on it; plan again on top of theirs
            // (hunt56: a loser re-keyed the winner's fresh rows; hunt59:
            // dropping the moves alone lost a prune's rotation night).
            let moves_raced =
                gone.moved.iter().any(|(old, new)| {
                    theirs.contains(old.as_str()) || theirs.contains(new.as_str())
                }) || gone.replaced.iter().any(|k| theirs.contains(k.as_str()));
            if moves_raced {
                remove_temp(&self.root, parts.iter().chain(&replaced.added));
                return Err(StoreError::Replan);
            }
            let raced: BTreeSet<String> = entries
                .iter()
                .filter(|e| read_by_them.contains(e.key.as_str()))
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
                replaced = match self.replace(&shared, &entries, &gone) {
                    Err(e) if e.part_vanished() => {
                        remove_temp(&self.root, &parts);
                        return Err(StoreError::Replan);
                    }
                    r => r?,
                };
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
            // Synced below: the part's directory, which holds its new name,
            // and each one above it up to the store's, which may hold the
            // entry of a new directory (a first `day=`, `cache_hits/`).
            let mut d = fin.parent();
            while let Some(dir) = d.filter(|d| d.starts_with(&self.root)) {
                if !dirs.insert(dir.to_path_buf()) {
                    break;
                }
                d = dir.parent();
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
    fn replace(
        &self,
        shared: &Shared<'_>,
        entries: &[SourceEntry],
        gone: &Gone,
    ) -> Result<Replaced> {
        let changed: BTreeSet<String> = entries
            .iter()
            .filter(|e| e.action == Action::Changed)
            .map(|e| e.key.clone())
            .chain(gone.replaced.iter().cloned())
            .collect();
        let mut out = Replaced::default();
        let repeats = !gone.request_ids.is_empty();
        if changed.is_empty() && !repeats && gone.moved.is_empty() {
            return Ok(out);
        }
        for part in self.state.parts.values() {
            let touches = |set: &BTreeSet<String>| part.sources.iter().any(|s| set.contains(s));
            let has_gone = repeats && touches(&gone.keys);
            let has_moved = part.sources.iter().any(|s| gone.moved.contains_key(s));
            if !touches(&changed) && !has_gone && !has_moved {
                continue;
            }
            if !has_gone && !has_moved && part.sources.iter().all(|s| changed.contains(s)) {
                out.removed.push(part.path.clone());
                continue;
            }
            let path = self.root.join(&part.path);
            let day = part
                .day
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            let dataset = part.dataset();
            let writer = write::PartWriter::new(&self.root, shared.next_part(dataset, day), day);
            let (kept, dropped) = filter_part(&path, &changed, gone, writer)?;
            if dropped.is_empty() && !touches(&changed) && !has_moved {
                // A gone file's rows, none of them read again: as it was.
                if let Some(k) = kept {
                    let _ = std::fs::remove_file(layout::temp_path(&self.root, &k.path));
                }
                continue;
            }
            out.removed.push(part.path.clone());
            for (key, n) in dropped {
                *out.repeats.entry(key).or_default() += n;
            }
            out.added.extend(kept);
        }
        Ok(out)
    }
}

/// Parts a commit adds and removes to replace sources' rows.
#[derive(Default)]
struct Replaced {
    added: Vec<PartEntry>,
    removed: Vec<String>,
    /// Per gone Claude Code source, its stored calls read again now from a
    /// file still there (dropped as duplicates).
    repeats: BTreeMap<String, u64>,
}

/// The store's Claude Code sources whose files are gone, and the request
/// ids of the Claude Code calls this ingest read: a gone file's stored call
/// that was read again is a copy, and the copy read now is kept.
#[derive(Default)]
struct Gone {
    keys: BTreeSet<String>,
    request_ids: std::collections::HashSet<String>,
    /// Sources whose content moved to another file (renamed or rotated):
    /// their rows are the other file's now (old key → new key).
    moved: BTreeMap<String, String>,
    /// Sources whose rows are replaced though not read under their key
    /// (read again whole under a new name).
    replaced: BTreeSet<String>,
}

/// The entries of gone sources whose repeated calls this commit drops:
/// fewer records, as many more skipped as duplicates.
fn gone_entries<'s>(
    state: &'s State,
    repeats: &'s BTreeMap<String, u64>,
) -> impl Iterator<Item = SourceEntry> + 's {
    repeats.iter().filter_map(|(key, n)| {
        let mut e = state.sources.get(key)?.clone();
        e.records = e.records.saturating_sub(*n);
        e.skipped += n;
        *e.rejects
            .counts
            .entry(RejectReason::Duplicate.code().into())
            .or_default() += n;
        Some(e)
    })
}

/// Rewrites part `path` as `out` without the rows whose source is in
/// `drop`, nor the gone sources' calls read again (streamed: one row group
/// in memory); returns the part (`None`: no row left) and how many rows
/// were dropped per gone source.
fn filter_part(
    path: &Path,
    drop: &BTreeSet<String>,
    gone: &Gone,
    out: write::PartWriter,
) -> Result<(Option<PartEntry>, BTreeMap<String, u64>)> {
    let mut repeats: BTreeMap<String, u64> = BTreeMap::new();
    let mut out = out;
    let file = File::open(path).map_err(StoreError::io(path))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(StoreError::parquet(path))?
        .build()
        .map_err(StoreError::parquet(path))?;
    let parquet_error = |e: &dyn std::fmt::Display| StoreError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    for batch in reader {
        let batch = batch.map_err(|e| parquet_error(&e))?;
        let rows = Rows::new(&batch);
        let keep: arrow_array::BooleanArray = (0..rows.len())
            .map(|i| {
                let source = rows.source(i);
                let repeat = gone.keys.contains(source)
                    && rows
                        .request_id(i)
                        .is_some_and(|id| gone.request_ids.contains(id));
                if repeat {
                    *repeats.entry(source.to_string()).or_default() += 1;
                }
                Some(!drop.contains(source) && !repeat)
            })
            .collect();
        let mut b = arrow_select::filter::filter_record_batch(&batch, &keep)
            .map_err(|e| parquet_error(&e))?;
        if !gone.moved.is_empty() {
            b = rekey(&b, &gone.moved).map_err(|e| parquet_error(&e))?;
        }
        out.push(b)?;
    }
    Ok((out.finish()?, repeats))
}

/// `batch` with the `source` of moved sources' rows set to their new key.
fn rekey(
    batch: &arrow_array::RecordBatch,
    moved: &BTreeMap<String, String>,
) -> std::result::Result<arrow_array::RecordBatch, arrow_schema::ArrowError> {
    let Some(i) = batch.schema().index_of(crate::schema::col::SOURCE).ok() else {
        return Ok(batch.clone());
    };
    let Some(keys) = batch
        .column(i)
        .as_any()
        .downcast_ref::<arrow_array::StringArray>()
    else {
        return Ok(batch.clone());
    };
    if !keys.iter().flatten().any(|k| moved.contains_key(k)) {
        return Ok(batch.clone());
    }
    let mapped: arrow_array::StringArray = keys
        .iter()
        .map(|k| k.map(|k| moved.get(k).map_or(k, String::as_str)))
        .collect();
    let mut columns = batch.columns().to_vec();
    columns[i] = std::sync::Arc::new(mapped);
    arrow_array::RecordBatch::try_new(batch.schema(), columns)
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
        let day = p
            .day
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
        let writer = write::PartWriter::new(root, shared.next_part(p.dataset(), day), day);
        let (kept, _) = filter_part(&tmp, drop, &Gone::default(), writer)?;
        let _ = std::fs::remove_file(&tmp);
        out.extend(kept);
    }
    Ok(out)
}

/// Deletes an ingest's temporary parts.
fn remove_temps(root: &Path, ingest: &str) {
    for f in layout::part_files(root) {
        if f.file_name().to_str().and_then(layout::temp_ingest) == Some(ingest) {
            let _ = std::fs::remove_file(f.path());
        }
    }
}

/// A source's entry after this ingest: what it read now, added to what
/// earlier ingests read of a grown file.
fn source_entry(
    p: &plan::Planned,
    index: usize,
    summary: &IngestSummary,
    pruned_now: u64,
    reading: &Option<String>,
) -> SourceEntry {
    let s = &summary.sources[index];
    // A file that grew, read from where it ended, that gave fewer bytes
    // than planned: the file at its path was replaced (rotated) after the
    // plan, and the bytes that grew were not read. What the store knew of
    // it stays, so the next ingest finds the grown file under its new name
    // and reads them (hunt139's bug2: recorded as read, lost for good).
    if let (Action::Grown, Some(prev), Some(start), Some(read)) =
        (p.action, &p.previous, p.start, s.resumed_bytes)
    {
        if read < p.size.saturating_sub(start.offset) {
            return prev.clone();
        }
    }
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
    let mut pruned_rows = pruned_now;
    if let (Action::Grown, Some(prev)) = (p.action, &p.previous) {
        pruned_rows += prev.pruned_rows;
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
        pruned: records > 0 && pruned_rows >= records,
        pruned_rows,
        // What its text is now, as the ingest's summary tells it when the
        // file was read whole (decompressed), else as planned (a grown
        // plain file's whole text).
        content: match (p.start, s.content) {
            (None, Some(c)) => Some(plan::content_text(c)),
            _ => p.content.clone(),
        },
        whole: plan::whole_after(p, s),
        reading: reading.clone(),
    }
}

/// Removes the temporary files of parts never claimed.
fn remove_temp<'p>(root: &Path, parts: impl IntoIterator<Item = &'p PartEntry>) {
    for p in parts {
        let _ = std::fs::remove_file(layout::temp_path(root, &p.path));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A running writer's marker is locked; a marker left by a writer that
    /// died (unlocked) is dead even when its pid is running here (pids are
    /// reused; in containers every writer is process 1).
    #[test]
    fn a_writer_is_alive_while_it_holds_its_marker() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(layout::INFLIGHT)).unwrap();
        let marker = Marker::create(dir.path()).unwrap();
        assert!(ingest_alive(dir.path(), &marker.id));
        let left = dir.path().join(layout::INFLIGHT).join("dead.json");
        let ours = Inflight {
            pid: std::process::id(),
            host: host(),
        };
        std::fs::write(&left, serde_json::to_vec(&ours).unwrap()).unwrap();
        assert!(!ingest_alive(dir.path(), "dead"));
        let id = marker.id.clone();
        drop(marker);
        assert!(!ingest_alive(dir.path(), &id));
    }
}
