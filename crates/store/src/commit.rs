//! The commit log: one JSON file per commit under `_commits/`, numbered from
//! 1, each naming the sources it read (with their sizes, digests and
//! offsets), the parts it added and the parts it removed. The live state of
//! the store is the fold of the commits in order ([`State`]).
//!
//! A commit number is claimed by creating its file only if it is absent:
//! the file is written completely under a temporary name, then hard-linked
//! to its final name, which fails if another ingest took the number first
//! (the loser re-reads the log and tries the next number). So a commit file
//! is never seen half-written, and two ingests never share a number.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::layout;

/// The version of the commit files and the part schema this build writes
/// and reads. A store with a newer version is refused, not misread.
pub const SCHEMA_VERSION: u32 = 2;

/// What an ingest did to a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// First seen: read whole.
    New,
    /// Appended to since the last ingest (its earlier bytes unchanged): read
    /// from where it ended.
    Grown,
    /// Rewritten: read whole, and its earlier rows removed.
    Changed,
    /// Its earlier content is now another file of this ingest (a log
    /// rotated: `app.log` renamed `app.log.1` and a new `app.log` begun):
    /// read whole as new content; its earlier rows went with that content
    /// (they are the other file's).
    Rotated,
    /// The same bytes as a stored file's, renamed: nothing read, that
    /// file's rows re-keyed to this one.
    Moved,
}

/// Rejected or skipped lines of a source, as the report lists them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRejects {
    /// Count per reason code (`malformed_json`…).
    pub counts: BTreeMap<String, u64>,
    /// The first located samples: (line, reason code, detail).
    pub samples: Vec<(u64, String, String)>,
}

/// A source as of one commit: its identity and what reading it gave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceEntry {
    /// The absolute path: what identifies the source from ingest to ingest.
    pub key: String,
    /// The name reports show (the path as the ingest was given it).
    pub name: String,
    pub action: Action,
    /// Bytes read so far (the file's size when it was read).
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// xxh3-64 of the first [`DIGEST_SPAN`] bytes, and of the last
    /// [`DIGEST_SPAN`] bytes before `size`: an append keeps both.
    pub head: String,
    pub tail: String,
    /// Where this commit's reading started (0, or the previous `size`).
    pub from_offset: u64,
    /// The first line this commit read (1, or one past the earlier lines).
    pub first_line: u64,
    pub encoding: String,
    pub format: String,
    /// The number of the line after the last one read (where reading a
    /// grown file goes on).
    pub next_line: u64,
    /// Totals over everything read of this source so far.
    pub lines: u64,
    pub records: u64,
    pub rejected: u64,
    pub skipped: u64,
    pub rejects: StoredRejects,
    /// All its rows were pruned (`store prune`): it stays known, so an
    /// ingest does not read it again, but reports leave it out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pruned: bool,
    /// Of its `records`, those whose days `store prune` dropped (or an
    /// ingest after a prune left out): reports count them outside the
    /// window.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pruned_rows: u64,
    /// What its text looked like when last read whole (a plain file's
    /// length and xxh3 of its first MiB, as `IngestSummary`'s `content`):
    /// a rotated-over file's text that comes back compressed is told by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The xxh3-64 (hex) of its first `size` bytes, for a source read
    /// whole (none for a grown file, read from its old end, and in an
    /// earlier build's entry): a restatement of the same size anywhere in
    /// it is told by it (hunt56).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whole: Option<String>,
    /// How its rows were read ([`reading_of`]): `mapping:DIGEST` (a
    /// `[mapping]`), `format:NAME` (`--input-format`), or none, each file's
    /// format detected. A file read otherwise now is read again whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reading: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Bytes hashed at each end of a source to recognise an append.
pub const DIGEST_SPAN: u64 = 64 << 10;

/// A Parquet part: where it is and what it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartEntry {
    /// Relative to the store (`calls/day=…/part-….parquet`).
    pub path: String,
    /// `YYYY-MM-DD`, or `None` for calls without a timestamp.
    pub day: Option<String>,
    pub rows: u64,
    pub bytes: u64,
    /// The keys of the sources whose rows it holds.
    pub sources: Vec<String>,
    /// The xxh3-64 digest of its bytes (hex), which `store check`
    /// verifies; absent in stores written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xxh3: Option<String>,
}

impl PartEntry {
    /// The dataset its folder belongs to.
    pub fn dataset(&self) -> crate::layout::Dataset {
        crate::layout::Dataset::of(&self.path)
    }

    /// Whether it holds calls (not LiteLLM's cache hits, which are no calls).
    pub fn holds_calls(&self) -> bool {
        self.dataset() == crate::layout::Dataset::Calls
    }
}

/// One commit file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    pub schema_version: u32,
    pub number: u64,
    /// Which ingest wrote it (also in its parts' names).
    pub ingest: String,
    pub tool_version: String,
    /// The price catalog that priced the rows' `cost_usd`.
    pub catalog_version: String,
    /// What kind of change: `ingest`, `compact`, `prune`.
    pub kind: String,
    pub sources: Vec<SourceEntry>,
    /// Sources whose rows this commit removed without reading them again
    /// (`prune`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped_sources: Vec<String>,
    pub added: Vec<PartEntry>,
    pub removed: Vec<String>,
    /// Skips the ingest counted for no one source (repeated Claude Code
    /// messages across files): reason code → count.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unsourced_skips: BTreeMap<String, u64>,
    /// `prune`: the first day kept (`YYYY-MM-DD`); later ingests leave out
    /// the rows before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune_before: Option<String>,
    /// An ingest that kept prompt text (`--include-prompts`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prompts: bool,
    /// Of `added`, parts that took rows of schema-1 parts (a compaction, a
    /// day rewritten): those rows' near-duplicate signatures, of the older
    /// scheme, were not kept ([`unsigned_parts`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsigned: Vec<String>,
}

/// The parts of `added` that take rows of a removed part of schema 1 (of
/// the same dataset and day): their signatures were not kept, so they are
/// told as schema-1 rows are ([`State::schema_1_rows`]).
pub fn unsigned_parts(state: &State, added: &[PartEntry], removed: &[String]) -> Vec<String> {
    let legacy: Vec<&PartEntry> = removed
        .iter()
        .filter(|r| state.schema_1_parts.contains(*r))
        .filter_map(|r| state.parts.get(r))
        .collect();
    added
        .iter()
        .filter(|p| {
            legacy
                .iter()
                .any(|l| l.day == p.day && l.dataset() == p.dataset())
        })
        .map(|p| p.path.clone())
        .collect()
}

/// The live store: the fold of every commit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    /// The last commit number (0 for an empty store).
    pub head: u64,
    /// Each source's latest entry, by key.
    pub sources: BTreeMap<String, SourceEntry>,
    /// Live parts by path.
    pub parts: BTreeMap<String, PartEntry>,
    /// The commit that added each live part (what the audit cache's keys
    /// name, with the part).
    pub added_in: BTreeMap<String, u64>,
    /// Catalog versions that priced the live rows.
    pub catalogs: Vec<String>,
    /// Skips not tied to a source (see [`Commit::unsourced_skips`]).
    pub unsourced_skips: BTreeMap<String, u64>,
    /// The latest prune's first day kept (see [`Commit::prune_before`]).
    pub prune_before: Option<String>,
    /// The commit that set `prune_before`.
    pub pruned_in: Option<u64>,
    /// Some ingest kept prompt text (see [`Commit::prompts`]).
    pub prompts: bool,
    /// Live parts added by commits of schema 1, whose near-duplicate
    /// signatures (the `minhash` column, of an older scheme) are not read.
    pub schema_1_parts: std::collections::BTreeSet<String>,
}

impl State {
    /// The latest prune's first day kept, as a date.
    pub fn prune_day(&self) -> Option<chrono::NaiveDate> {
        let day = self.prune_before.as_deref()?;
        chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
    }

    /// Applies one commit.
    pub fn apply(&mut self, c: &Commit) {
        self.head = c.number;
        for p in &c.removed {
            self.parts.remove(p);
            self.added_in.remove(p);
            self.schema_1_parts.remove(p);
        }
        for key in &c.dropped_sources {
            self.sources.remove(key);
        }
        for p in &c.added {
            self.parts.insert(p.path.clone(), p.clone());
            self.added_in.insert(p.path.clone(), c.number);
            if c.schema_version < 2 || c.unsigned.contains(&p.path) {
                self.schema_1_parts.insert(p.path.clone());
            }
        }
        for s in &c.sources {
            self.sources.insert(s.key.clone(), s.clone());
        }
        if !c.added.is_empty() && !self.catalogs.contains(&c.catalog_version) {
            self.catalogs.push(c.catalog_version.clone());
        }
        for (k, n) in &c.unsourced_skips {
            *self.unsourced_skips.entry(k.clone()).or_default() += n;
        }
        self.prompts |= c.prompts;
        if let Some(d) = &c.prune_before {
            if self.prune_before.as_ref().is_none_or(|old| d > old) {
                self.prune_before = Some(d.clone());
                self.pruned_in = Some(c.number);
            }
        }
    }

    /// The live parts of calls (not of cache hits).
    pub fn call_parts(&self) -> impl Iterator<Item = &PartEntry> {
        self.parts.values().filter(|p| p.holds_calls())
    }

    /// Live calls written by an ingest of schema 1 (stop 32 and before), or
    /// merged into a part with them: their near-duplicate signatures (the
    /// calls with prompt text had one) are of another scheme, not read, so
    /// TA110 compares them only when the store keeps their prompt text. At
    /// most: a merged part counts whole.
    pub fn schema_1_rows(&self) -> u64 {
        self.call_parts()
            .filter(|p| self.schema_1_parts.contains(&p.path))
            .map(|p| p.rows)
            .sum()
    }

    /// Live calls in all.
    pub fn rows(&self) -> u64 {
        self.call_parts().map(|p| p.rows).sum()
    }

    /// The days that hold calls (`None`: calls without a timestamp), sorted.
    pub fn days(&self) -> Vec<Option<String>> {
        let mut days: Vec<Option<String>> = self.call_parts().map(|p| p.day.clone()).collect();
        days.sort();
        days.dedup();
        days
    }
}

/// Reads every commit file in order. A gap in the numbers is an error (a
/// commit file was deleted by hand), as is a file of a newer schema.
pub fn read_log(store: &Path) -> Result<Vec<Commit>> {
    let dir = store.join(layout::COMMITS);
    if !dir.is_dir() {
        return Err(StoreError::NotAStore {
            path: store.to_path_buf(),
        });
    }
    let mut numbers = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(StoreError::io(&dir))? {
        let entry = entry.map_err(StoreError::io(&dir))?;
        if let Some(n) = entry
            .file_name()
            .to_str()
            .and_then(layout::parse_commit_file)
        {
            numbers.push(n);
        }
    }
    numbers.sort_unstable();
    let mut out = Vec::with_capacity(numbers.len());
    for (i, n) in numbers.into_iter().enumerate() {
        let path = layout::commit_file(store, n);
        if n != i as u64 + 1 {
            return Err(StoreError::BadCommit {
                path,
                message: format!("commit {} is missing before it", i + 1),
            });
        }
        out.push(read_commit(&path)?);
    }
    Ok(out)
}

pub fn read_commit(path: &Path) -> Result<Commit> {
    let text = std::fs::read(path).map_err(StoreError::io(path))?;
    parse_commit(&text, path)
}

/// A commit from its file's bytes (read from wherever the store is; `path`
/// names it in errors).
pub fn parse_commit(text: &[u8], path: &Path) -> Result<Commit> {
    let c: Commit = serde_json::from_slice(text).map_err(|e| StoreError::BadCommit {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if c.schema_version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_path_buf(),
            found: c.schema_version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(c)
}

/// The state after every commit.
pub fn fold(commits: &[Commit]) -> State {
    let mut s = State::default();
    for c in commits {
        s.apply(c);
    }
    s
}

/// Creates `path` with `bytes` only if no file is there: written and synced
/// under a temporary name, then hard-linked into place. `Ok(false)` when the
/// name was taken.
pub fn create_exclusive(path: &Path, bytes: &[u8]) -> Result<bool> {
    let dir = path.parent().expect("a file in a folder");
    // A fresh random name: two writers (containers all run as process 1)
    // never share the temporary file.
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(StoreError::io(dir))?;
    tmp.write_all(bytes).map_err(StoreError::io(tmp.path()))?;
    tmp.as_file()
        .sync_all()
        .map_err(StoreError::io(tmp.path()))?;
    let linked = std::fs::hard_link(tmp.path(), path);
    drop(tmp);
    match linked {
        Ok(()) => {
            sync_dir(dir);
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(StoreError::Io {
            path: path.to_path_buf(),
            error: e,
        }),
    }
}

/// Makes a folder's entries durable (best effort: not every filesystem
/// allows opening a folder).
pub fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Tries to claim commit `number` with `commit`; `Ok(false)` if it is taken.
pub fn claim(store: &Path, commit: &Commit) -> Result<bool> {
    let bytes = serde_json::to_vec_pretty(commit).expect("a commit serializes");
    create_exclusive(&layout::commit_file(store, commit.number), &bytes)
}

/// How an ingest reads its files, as [`SourceEntry::reading`] keeps it:
/// `None` when each file's format is detected, with no mapping.
pub fn reading_of(options: &tokenaudit_ingest::IngestOptions) -> Option<String> {
    match (&options.mapping, &options.input_format) {
        (Some(m), _) => Some(format!("mapping:{}", m.digest())),
        (None, Some(f)) => Some(format!("format:{}", f.name())),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(n: u64, added: &[&str], removed: &[&str]) -> Commit {
        Commit {
            schema_version: SCHEMA_VERSION,
            number: n,
            ingest: "t".into(),
            tool_version: "0".into(),
            catalog_version: "c1".into(),
            kind: "ingest".into(),
            sources: vec![],
            dropped_sources: vec![],
            added: added
                .iter()
                .map(|p| PartEntry {
                    path: p.to_string(),
                    day: Some("2026-10-01".into()),
                    rows: 10,
                    bytes: 100,
                    sources: vec![],
                    xxh3: None,
                })
                .collect(),
            removed: removed.iter().map(|s| s.to_string()).collect(),
            unsourced_skips: BTreeMap::new(),
            prune_before: None,
            prompts: false,
            unsigned: vec![],
        }
    }

    #[test]
    fn numbers_are_claimed_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(layout::COMMITS)).unwrap();
        assert!(claim(dir.path(), &commit(1, &["a"], &[])).unwrap());
        // A second claim of the same number fails and leaves the first intact.
        assert!(!claim(dir.path(), &commit(1, &["b"], &[])).unwrap());
        assert!(claim(dir.path(), &commit(2, &["b"], &["a"])).unwrap());
        let log = read_log(dir.path()).unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].added[0].path, "a");
        let s = fold(&log);
        assert_eq!(s.head, 2);
        assert_eq!(s.parts.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(s.rows(), 10);
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path().join(layout::COMMITS))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2);
    }

    #[test]
    fn rows_of_schema_1_are_told_until_their_parts_go() {
        let mut old = commit(1, &["a", "b"], &[]);
        old.schema_version = 1;
        let mut s = fold(&[old.clone()]);
        assert_eq!((s.schema_1_rows(), s.rows()), (20, 20));
        s.apply(&commit(2, &["c"], &["a"]));
        assert_eq!((s.schema_1_rows(), s.rows()), (10, 20));
        // A compaction of schema 2 rewrites "b": its rows have no signature
        // of the old scheme any more (nor of the new one: no text).
        s.apply(&commit(3, &["d"], &["b"]));
        assert_eq!((s.schema_1_rows(), s.rows()), (0, 20));
    }

    #[test]
    fn a_gap_or_a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(layout::COMMITS)).unwrap();
        assert!(claim(dir.path(), &commit(2, &["a"], &[])).unwrap());
        let e = read_log(dir.path()).unwrap_err().to_string();
        assert!(e.contains("commit 1 is missing"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(layout::COMMITS)).unwrap();
        let mut c = commit(1, &[], &[]);
        c.schema_version = SCHEMA_VERSION + 1;
        assert!(claim(dir.path(), &c).unwrap());
        let e = read_log(dir.path()).unwrap_err().to_string();
        assert!(e.contains("upgrade tokenaudit"), "{e}");
        let e = read_log(&dir.path().join("nope")).unwrap_err().to_string();
        assert!(e.contains("not a tokenaudit store"), "{e}");
    }
}
