//! The audit cache: each whole day's accumulator, encoded
//! ([`Accumulator::encode`]), kept in `_cache/day=…/` so that an audit of a
//! month merges thirty small states instead of reading and observing every
//! row again.
//!
//! A day's file is named by two digests: of the day's data (its live parts,
//! the commits that added them, and the sources they hold, numbered in the
//! store's source order) and of everything else the accumulation depends
//! on (the tool's build and the state's format, the catalog and the
//! `--prices` files' contents, the analysis options with the window
//! replaced by the day's role: [`AnalyzeConfig::whole_day`]). Any change
//! gives another name, so a file is never stale: it is used or ignored. A
//! file starts with a mark and the xxh3-64 of the state it holds; one that
//! is cut short, damaged or of another format is recomputed (with a
//! warning). Days a window cuts are read row by row, as without the cache.
//!
//! Sources are numbered per day in the cache (the day's own sources, in the
//! store's order) and renumbered as in the whole store when merged: a
//! source that a later night adds does not invalidate the other days, and
//! the order (which breaks ties between the costliest calls) is kept.
//!
//! The merge of a run's whole days is kept too, in `_cache/merged/`, named
//! by its days' file names and their sources' numbers in the store: the
//! same audit again (nothing new) reads one file instead of thirty. Such a
//! file lists its days and their sources (a manifest, before the state), so
//! that the next night's audit starts from it: an earlier merge of some of
//! the run's days (every day but the new night's), its sources renumbered
//! as the store numbers them now, and only the other days merged in.
//!
//! It is derived data: deleting `_cache/` costs the next audit the full
//! read. Writing it is best effort (a read-only store is audited without
//! it, with one warning). Stale files are removed when a commit changes a
//! day ([`sweep`], after ingest, compact and prune; with them the merged
//! states of a day that changed); a day keeps at most [`VARIANTS`] option
//! sets, and `merged/` as many states.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use chrono::NaiveDate;
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use tokenaudit_analyze::wire::{Reader, Wire};
use tokenaudit_analyze::{Accumulator, AnalyzeConfig};
use tokenaudit_core::pricing::Catalog;
use tokenaudit_ingest::pipeline::threads::worker_threads;
use tokenaudit_ingest::IngestSummary;

use crate::commit::{PartEntry, SourceEntry, State};
use crate::error::{Result, StoreError};
use crate::layout;
use crate::scan::{self, Query};
use crate::store::Store;

/// The first bytes of a day's cache file; then the xxh3-64 of the rest
/// (little endian), the file's own name (its length as a u64, little
/// endian, then its bytes: a file copied under another name is not used),
/// then the number of encoded accumulators (a u64, little endian) and each
/// one's length and bytes: one per worker that read the day's parts, merged
/// when read (a night's one new day is read by two workers, whose states
/// are encoded side by side instead of merged first: the merge and half of
/// the encoding were a tenth of the night's audit).
const MAGIC: &[u8; 4] = b"TAd2";
const HEADER: usize = MAGIC.len() + 8;
/// The first bytes of a merged state's file; then as a day's, with the
/// manifest (its length, then its bytes) between the name and the state.
const MERGED_MAGIC: &[u8; 4] = b"TAdm";

/// A merged state built on an earlier run's is written only once more than
/// `OUTSIDE` days are outside the earlier one. A nightly audit adds one day
/// to the last merge without writing the month again (a month's state is
/// 16 MB: about 55 ms to encode and write); the next night reads that
/// day's own file besides its new day (a day's state is about 5 MB: about
/// 20 ms to decode and merge), and writes. Writing every other night costs
/// least on average: every night pays the write, and waiting longer reads
/// each day's file again night after night (benches/README.md, "Session
/// 23").
const OUTSIDE: usize = 1;

/// A name longer than this is not read (a damaged length).
const NAME_MAX: u64 = 1 << 10;
/// A manifest longer than this is not read (a damaged length).
const MANIFEST_MAX: u64 = 1 << 26;

/// Option sets (say, with and without `--prices`) kept per day of data,
/// and merged states kept.
pub const VARIANTS: usize = 4;

/// The folder of merged states, in `_cache/`.
const MERGED: &str = "merged";

/// Temporary files of a writer that died are removed after this long.
const TEMP_AGE: Duration = Duration::from_secs(3600);

/// What a day's accumulation depends on besides its rows.
pub struct Spec<'c> {
    pub catalog: &'c Catalog,
    /// The `--prices` files' contents, in the order they were overlaid.
    pub prices: &'c [String],
    /// The run's analysis options.
    pub config: &'c AnalyzeConfig,
    /// The tool's build: its version, and whatever else tells builds
    /// apart (the CLI adds its executable's size and time).
    pub tool_version: &'c str,
}

/// How a read used the cache.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheUse {
    /// Days merged from their cache file.
    pub loaded: usize,
    /// Days read from their parts and accumulated whole (then written, if
    /// the store could be written).
    pub computed: usize,
    /// Of those, days written to the cache.
    pub written: usize,
    /// Days a window cuts, read row by row.
    pub cut: usize,
    /// The whole days came from one file holding their merged state (an
    /// earlier run over the same days).
    pub merged: bool,
    /// Of the days loaded, those that came from the merged state of an
    /// earlier run over some of the days (the nights before the new one).
    pub from_merged: usize,
    /// Each problem, in a line: an unreadable file, the cache not writable.
    pub warnings: Vec<String>,
}

/// One whole day to merge.
struct Day<'s> {
    parts: Vec<&'s PartEntry>,
    /// The day's sources in the store's order: the cache file's numbering.
    sources: Vec<&'s SourceEntry>,
    /// Each of those sources' number in the whole store.
    to: Vec<usize>,
    config: AnalyzeConfig,
    dir: PathBuf,
    name: String,
}

impl Day<'_> {
    /// The day's folder and file name: what a merged state's manifest
    /// names it by.
    fn id(&self) -> String {
        let folder = self.dir.file_name().unwrap_or_default().to_string_lossy();
        format!("{folder}/{}", self.name)
    }
}

/// Reads what `query` selects as [`scan::scan`] does, each whole day from
/// its cache file if it has one (and writing it if not): accumulators to
/// merge (one per worker, each the merge of the days it took), and the
/// summary of the read.
pub fn scan<'c>(
    store: &Store,
    query: &Query,
    spec: &Spec<'c>,
    make: &(dyn Fn() -> Accumulator<'c> + Sync),
) -> Result<(Vec<Accumulator<'c>>, IngestSummary, CacheUse)> {
    // A part gone when read: another process committed meanwhile (a
    // compaction, a prune, an ingest replacing a day), and the store is read
    // again as it is now, as an ingest plans again (hunt110: the nightly
    // audit failed when a compaction ran beside it); gone with no commit
    // since, the store is damaged.
    let mut reopened: Option<Store> = None;
    for attempt in 1.. {
        let current = reopened.as_ref().unwrap_or(store);
        match scan_planned(current, query, spec, make) {
            Err(e) if e.part_vanished() => {
                let now = Store::open(store.root())?;
                if now.state().head == current.state().head {
                    return Err(missing(e, store.root()));
                }
                if attempt == REPLANS {
                    return Err(vanished(e));
                }
                reopened = Some(now);
            }
            result => return result,
        }
    }
    unreachable!("the loop returns")
}

/// How many times a read is planned again on top of others' commits
/// before it gives up.
const REPLANS: usize = 5;

/// A committed part gone with no commit since: the store is damaged.
fn missing(e: StoreError, root: &Path) -> StoreError {
    let path = match &e {
        StoreError::Io { path, .. } | StoreError::Parquet { path, .. } => {
            path.display().to_string()
        }
        other => other.to_string(),
    };
    StoreError::Invalid(format!(
        "{path}: a committed part is missing; run `tokenaudit store check --store {}`",
        root.display()
    ))
}

/// A part removed while it was read, again and again: other processes
/// kept committing (a compaction, a prune, an ingest replacing a day);
/// said so (hunt110: "No such file or directory", which read as a damaged
/// store).
fn vanished(e: StoreError) -> StoreError {
    StoreError::Invalid(format!(
        "{e}: the part was removed while this command read the store, {REPLANS} times (a `store compact`, a `store prune` or an ingest committed meanwhile): run it again"
    ))
}

fn scan_planned<'c>(
    store: &Store,
    query: &Query,
    spec: &Spec<'c>,
    make: &(dyn Fn() -> Accumulator<'c> + Sync),
) -> Result<(Vec<Accumulator<'c>>, IngestSummary, CacheUse)> {
    let (root, state) = (store.root(), store.state());
    let index: HashMap<&str, usize> = scan::ordered_sources(state)
        .iter()
        .enumerate()
        .map(|(i, s)| (s.key.as_str(), i))
        .collect();
    let (wanted, mut summary) = scan::plan(state, query);
    crate::fault::point("audit-planned").map_err(StoreError::io(root))?;
    let config = spec.config;
    summary.counted_by_source = scan::counted_by_source(root, state, &wanted, &summary, |ns| {
        config.counts(ns.map(chrono::DateTime::from_timestamp_nanos))
    })?;
    // A day's cache file stands for its parts: with one of them gone (a
    // damaged store), the audit must fail, not answer from the cache.
    for part in &wanted {
        let path = root.join(&part.path);
        if let Err(error) = std::fs::metadata(&path) {
            return Err(StoreError::Io { path, error });
        }
    }
    let mut cut = Vec::new();
    let mut days = Vec::new();
    let mut cut_days = 0;
    for (day, parts) in by_day(wanted) {
        let config = parse_day(day).and_then(|d| spec.config.whole_day(d).map(|c| (d, c)));
        let Some((date, config)) = config else {
            cut_days += 1;
            cut.extend(parts);
            continue;
        };
        let sources = day_sources(state, &parts);
        let name = file_name(
            data_digest(state, day, &parts, &sources),
            options_digest(spec, &config),
        );
        let to = sources
            .iter()
            .map(|s| index.get(s.key.as_str()).copied().unwrap_or(usize::MAX))
            .collect();
        days.push(Day {
            parts,
            sources,
            to,
            config,
            dir: root.join(layout::cache_dir(date)),
            name,
        });
    }
    // An empty accumulator of the run's own config first: the merge starts
    // from it (a previous period with no day of its own still shows).
    let mut out = vec![make()];
    let mut used = whole_days(root, &days, query, spec, &mut out)?;
    if out.len() > 1 {
        // The first state loaded becomes that accumulator instead of being
        // merged into it (a copy of every table).
        let fresh = out.remove(0);
        let loaded = out.remove(0);
        out.insert(0, fresh.adopt(loaded));
    }
    used.cut = cut_days;
    if !cut.is_empty() {
        out.extend(scan::read_parts(root, &cut, query, &index, make)?);
    }
    Ok((out, summary, used))
}

/// The whole days' accumulators, pushed to `out`: the merged state of
/// exactly these days if a file holds it, else [`each_day`]'s, then merged
/// and written as that file.
fn whole_days<'c>(
    root: &Path,
    days: &[Day<'_>],
    query: &Query,
    spec: &Spec<'c>,
    out: &mut Vec<Accumulator<'c>>,
) -> Result<CacheUse> {
    if days.len() < 2 {
        let days: Vec<&Day<'_>> = days.iter().collect();
        let (accs, used, _) = each_day(root, &days, query, spec)?;
        out.extend(accs);
        return Ok(used);
    }
    let (dir, name) = (root.join(layout::CACHE).join(MERGED), merged_name(days));
    let mut warning = None;
    // The merged state is read alone: its timelines on a second thread, if
    // the run has more than one.
    let two_threads = worker_threads(query.threads) > 1;
    match read_state(&dir.join(&name), spec, two_threads) {
        Ok(Some(acc)) => {
            out.push(acc);
            return Ok(CacheUse {
                loaded: days.len(),
                merged: true,
                ..CacheUse::default()
            });
        }
        Ok(None) => {}
        Err(why) => {
            warning = Some(format!(
                "{}: {why}; merged from the days again",
                dir.join(&name).display()
            ));
        }
    }
    // An earlier run's merge of some of these days (a nightly audit: every
    // day but the new night's): read on a thread of its own while the
    // others are read, and merged with them.
    let earlier = earlier_merge(&dir, &name, days);
    let covered = earlier.as_ref().map(|e| &e.2);
    let rest: Vec<&Day<'_>> = days
        .iter()
        .filter(|d| covered.is_none_or(|c| !c.contains(&d.id())))
        .collect();
    let (base, each) = std::thread::scope(|scope| {
        let base = earlier.as_ref().map(|(path, to, _)| {
            scope.spawn(move || -> std::result::Result<Accumulator<'c>, String> {
                let mut acc = read_state(path, spec, false)?.ok_or("gone")?;
                acc.map_sources(to).map_err(|e| e.to_string())?;
                Ok(acc)
            })
        });
        let each = each_day(root, &rest, query, spec);
        let base = base.map(|h| h.join().expect("a cache thread does not panic"));
        (base, each)
    });
    // An earlier merge that does not read: said, and its days read as
    // they are.
    let base = match (base, &earlier) {
        (Some(Err(why)), Some((path, _, _))) => {
            warning.get_or_insert(format!(
                "{}: {why}; its days were merged again",
                path.display()
            ));
            None
        }
        (base, _) => base.and_then(Result::ok),
    };
    let (mut accs, mut used, mut writable) = each?;
    used.warnings.splice(0..0, warning);
    // Whether this merge is worth a file of its own: see [`OUTSIDE`].
    let mut rewrite = true;
    match (&base, earlier) {
        (Some(_), Some((path, _, covered))) => {
            used.loaded += covered.len();
            used.from_merged = covered.len();
            rewrite = days.len() - covered.len() > OUTSIDE;
            if !rewrite {
                used_now(&path);
            }
        }
        // It did not read after all: its days are read as they are.
        (None, Some((_, _, covered))) => {
            let again: Vec<&Day<'_>> = days.iter().filter(|d| covered.contains(&d.id())).collect();
            let (more, u, w) = each_day(root, &again, query, spec)?;
            accs.extend(more);
            used.loaded += u.loaded;
            used.computed += u.computed;
            used.written += u.written;
            used.warnings.extend(u.warnings);
            writable &= w;
        }
        _ => {}
    }
    // Merged and written only if the days could be (else `accs` is the
    // result as it is); the days merged into the earlier merge, the
    // largest.
    let mut first = base;
    if !writable {
        accs.extend(first.take());
    } else if first.is_none() {
        first = accs.pop();
    }
    if let Some(mut all) = first {
        for a in accs.drain(..) {
            all.merge(a);
        }
        if rewrite {
            // Its bytes, the state kept for the audit.
            let bytes = file_bytes(&name, Some(&manifest(days)), &mut all, two_threads)
                .map_err(StoreError::io(&dir))?;
            match write_file(&dir, &name, &bytes) {
                Ok(()) => keep_newest(&dir, &name, |n| n.ends_with(".acc").then_some(false)),
                Err(e) => used.warnings.push(format!(
                    "the audit cache's merged states in {} cannot be written ({e}): the next audit of these days merges them again",
                    dir.display()
                )),
            }
        }
        accs.push(all);
    }
    out.extend(accs);
    Ok(used)
}

/// A merged state's manifest: each day's folder and file name, and its
/// sources' numbers in the store (as the state numbers them) and keys.
type Manifest = Vec<(String, Vec<(u64, String)>)>;

fn manifest(days: &[Day<'_>]) -> Vec<u8> {
    let list: Manifest = days
        .iter()
        .map(|d| {
            let sources = d.sources.iter().zip(&d.to);
            (
                d.id(),
                sources.map(|(s, &to)| (to as u64, s.key.clone())).collect(),
            )
        })
        .collect();
    let mut bytes = Vec::new();
    list.put(&mut bytes);
    bytes
}

/// The manifest near the start of a merged state's file, read without the
/// state (`None`: not such a file, or not readable).
fn read_manifest(path: &Path) -> Option<Manifest> {
    use std::io::Read;
    let mut f = std::io::BufReader::new(crate::layout::open_file(path).ok()?);
    let mut head = [0u8; HEADER];
    f.read_exact(&mut head).ok()?;
    if &head[..MAGIC.len()] != MERGED_MAGIC {
        return None;
    }
    let mut read = |max: u64| -> Option<Vec<u8>> {
        let mut n = [0u8; 8];
        f.read_exact(&mut n).ok()?;
        let n = u64::from_le_bytes(n);
        (n <= max).then_some(())?;
        let mut bytes = vec![0; n as usize];
        f.read_exact(&mut bytes).ok()?;
        Some(bytes)
    };
    read(NAME_MAX)?;
    let bytes = read(MANIFEST_MAX)?;
    let mut r = Reader::new(&bytes);
    let list = Manifest::get(&mut r).ok()?;
    r.is_done().then_some(list)
}

/// The largest merge an earlier run left of some of `days` (each of its
/// days one of them, as named now; each of its sources still in the
/// store): its file, the store's numbers now of its sources (the order of
/// any sources is the same in every numbering), and its days. A file that
/// does not read is passed over: the days are merged again.
fn earlier_merge(
    dir: &Path,
    exact: &str,
    days: &[Day<'_>],
) -> Option<(PathBuf, Vec<usize>, HashSet<String>)> {
    let ids: HashSet<String> = days.iter().map(Day::id).collect();
    let now: HashMap<&str, usize> = days
        .iter()
        .flat_map(|d| {
            d.sources
                .iter()
                .map(|s| s.key.as_str())
                .zip(d.to.iter().copied())
        })
        .collect();
    let mut best: Option<(PathBuf, Vec<usize>, HashSet<String>)> = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".acc") || name == exact {
            continue;
        }
        let Some(list) = read_manifest(&e.path()) else {
            continue;
        };
        if list.is_empty()
            || best.as_ref().is_some_and(|b| b.2.len() >= list.len())
            || !list.iter().all(|(id, _)| ids.contains(id))
        {
            continue;
        }
        if let Some(to) = renumbering(&list, &now) {
            let covered = list.into_iter().map(|(id, _)| id).collect();
            best = Some((e.path(), to, covered));
        }
    }
    best
}

/// The store's number now of each source a manifest numbers (indexed by
/// its number then), if every one is still in the store.
fn renumbering(list: &Manifest, now: &HashMap<&str, usize>) -> Option<Vec<usize>> {
    let mut to: Vec<usize> = Vec::new();
    for (old, key) in list.iter().flat_map(|(_, s)| s) {
        let new = *now.get(key.as_str())?;
        let old = usize::try_from(*old)
            .ok()
            .filter(|&o| o < now.len().max(1) << 20)?;
        if to.len() <= old {
            to.resize(old + 1, usize::MAX);
        }
        if to[old] != usize::MAX && to[old] != new {
            return None;
        }
        to[old] = new;
    }
    Some(to)
}

/// The name of the merged state of `days`: their files' names and how
/// their sources are numbered in the store.
fn merged_name(days: &[Day<'_>]) -> String {
    let mut h = Xxh3::new();
    for d in days {
        put(&mut h, &d.name);
        h.update(&(d.to.len() as u64).to_le_bytes());
        for &to in &d.to {
            h.update(&(to as u64).to_le_bytes());
        }
    }
    format!("{:032x}.acc", h.digest128())
}

/// Loads each of `days` from its cache file, or accumulates it from its
/// parts and writes the file; several days at once on the cores (or one day
/// on all of them), each worker merging the days it took into one
/// accumulator; and whether the cache could be written.
fn each_day<'c>(
    root: &Path,
    days: &[&Day<'_>],
    query: &Query,
    spec: &Spec<'c>,
) -> Result<(Vec<Accumulator<'c>>, CacheUse, bool)> {
    if days.is_empty() {
        return Ok((Vec::new(), CacheUse::default(), true));
    }
    let threads = worker_threads(query.threads);
    let outer = threads.min(days.len());
    // The cores go to the days read from their parts, shared by those
    // being read at the time: a day loaded from its file is soon done (the
    // night that writes the month loaded the night before's and read the
    // new one's parts on one thread while the other sat idle). Counted as
    // they start, not from which files exist: a damaged file is read
    // around (hunt110: 8 days at 8 threads each, RSS 218 MB for 154).
    let reading = AtomicUsize::new(0);
    let next = AtomicUsize::new(0);
    let (loaded, computed, written) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let warnings: Mutex<Vec<String>> = Mutex::new(Vec::new());
    // The first write failure: later days are not tried.
    let unwritable: Mutex<Option<String>> = Mutex::new(None);
    let day_state = |day: &Day<'_>| -> Result<Vec<Accumulator<'c>>> {
        match load(day, spec) {
            Ok(Some(accs)) => {
                loaded.fetch_add(1, Ordering::Relaxed);
                return Ok(accs);
            }
            Ok(None) => {}
            Err(why) => warnings.lock().expect("no panic holding it").push(format!(
                "{}: {why}; read from the parts again",
                day.dir.join(&day.name).display()
            )),
        }
        computed.fetch_add(1, Ordering::Relaxed);
        let now = reading.fetch_add(1, Ordering::Relaxed) + 1;
        let inner = (threads / now.min(outer)).max(1);
        let accumulated = accumulate(root, day, query, inner, spec);
        reading.fetch_sub(1, Ordering::Relaxed);
        let (bytes, accs) = accumulated?;
        if unwritable.lock().expect("no panic holding it").is_none() {
            match write(day, &bytes) {
                Ok(()) => {
                    written.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    unwritable
                        .lock()
                        .expect("no panic holding it")
                        .get_or_insert(e);
                }
            }
        }
        // The day's states go on under the run's config (its file is
        // decoded with it).
        accs.into_iter()
            .map(|acc| {
                let mut acc = acc.rebind(spec.catalog, spec.config);
                acc.map_sources(&day.to).map_err(|e| {
                    StoreError::Invalid(format!("a day's state as just accumulated: {e}"))
                })?;
                Ok(acc)
            })
            .collect()
    };
    let results: Vec<Result<Vec<Accumulator<'c>>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..outer)
            .map(|_| {
                scope.spawn(|| {
                    // A thread's first day's states as they are (a night's
                    // one day: each merged once, into the month), the next
                    // days' merged into the first.
                    let mut mine: Vec<Accumulator<'c>> = Vec::new();
                    while let Some(day) = days.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let accs = day_state(day)?;
                        match mine.first_mut() {
                            Some(m) => accs.into_iter().for_each(|a| m.merge(a)),
                            None => mine = accs,
                        }
                    }
                    Ok(mine)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a cache thread does not panic"))
            .collect()
    });
    let mut out = Vec::with_capacity(outer);
    for r in results {
        out.extend(r?);
    }
    let mut warnings = warnings.into_inner().expect("no panic holding it");
    warnings.sort();
    let unwritable = unwritable.into_inner().expect("no panic holding it");
    let writable = unwritable.is_none();
    warnings.extend(unwritable.map(|e| {
        format!(
            "the audit cache in {} cannot be written ({e}): this audit was not cached",
            root.join(layout::CACHE).display()
        )
    }));
    let used = CacheUse {
        loaded: loaded.into_inner(),
        computed: computed.into_inner(),
        written: written.into_inner(),
        warnings,
        ..CacheUse::default()
    };
    Ok((out, used, writable))
}

/// Parts by day, in day order.
fn by_day(parts: Vec<&PartEntry>) -> BTreeMap<Option<&str>, Vec<&PartEntry>> {
    let mut days: BTreeMap<Option<&str>, Vec<&PartEntry>> = BTreeMap::new();
    for p in parts {
        days.entry(p.day.as_deref()).or_default().push(p);
    }
    days
}

/// A part's day as a date (`Some(None)`: the calls without a timestamp;
/// `None`: not a day this build names).
fn parse_day(day: Option<&str>) -> Option<Option<NaiveDate>> {
    match day {
        None => Some(None),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").ok().map(Some),
    }
}

/// The sources whose rows `parts` hold, in the store's order.
fn day_sources<'s>(state: &'s State, parts: &[&PartEntry]) -> Vec<&'s SourceEntry> {
    let mut v: Vec<&SourceEntry> = parts
        .iter()
        .flat_map(|p| &p.sources)
        .filter_map(|k| state.sources.get(k))
        .filter(|s| !s.pruned)
        .collect();
    v.sort_by(|a, b| scan::source_order(a, b));
    v.dedup_by(|a, b| a.key == b.key);
    v
}

fn put(h: &mut Xxh3, text: &str) {
    h.update(&(text.len() as u64).to_le_bytes());
    h.update(text.as_bytes());
}

/// The digest of a day's data: its parts (path, rows, bytes, the commit
/// that added them) and its sources as numbered in its cache file.
fn data_digest(
    state: &State,
    day: Option<&str>,
    parts: &[&PartEntry],
    sources: &[&SourceEntry],
) -> u128 {
    let mut h = Xxh3::new();
    put(&mut h, day.unwrap_or(layout::NO_DAY));
    let mut parts = parts.to_vec();
    parts.sort_by(|a, b| a.path.cmp(&b.path));
    for p in parts {
        put(&mut h, &p.path);
        h.update(&p.rows.to_le_bytes());
        h.update(&p.bytes.to_le_bytes());
        let commit = state.added_in.get(&p.path).copied().unwrap_or(0);
        h.update(&commit.to_le_bytes());
    }
    for s in sources {
        put(&mut h, &s.key);
        put(&mut h, &s.name);
    }
    h.digest128()
}

/// The digest of what else a day's accumulation depends on.
fn options_digest(spec: &Spec<'_>, day_config: &AnalyzeConfig) -> u128 {
    let mut h = Xxh3::new();
    put(&mut h, spec.tool_version);
    h.update(&Accumulator::FORMAT.to_le_bytes());
    put(&mut h, spec.catalog.version());
    h.update(&(spec.prices.len() as u64).to_le_bytes());
    for text in spec.prices {
        put(&mut h, text);
    }
    // Every option, whatever is added to them later (the window replaced
    // by the day's role).
    put(&mut h, &format!("{day_config:?}"));
    h.digest128()
}

fn file_name(data: u128, options: u128) -> String {
    format!("{data:032x}-{options:032x}.acc")
}

/// The data digest a cache file's name carries.
fn name_data(name: &str) -> Option<&str> {
    let stem = name.strip_suffix(".acc")?;
    let (data, options) = stem.split_once('-')?;
    (data.len() == 32 && options.len() == 32).then_some(data)
}

/// The state a cache file holds, if its mark (a merged state's in
/// `merged/`, a day's elsewhere), checksum and own name (`name`, the name
/// it is read under) are right.
fn payload<'b>(bytes: &'b [u8], name: &str, merged: bool) -> std::result::Result<&'b [u8], String> {
    let magic = if merged { MERGED_MAGIC } else { MAGIC };
    if bytes.len() < HEADER || &bytes[..MAGIC.len()] != magic {
        let other = if merged { MAGIC } else { MERGED_MAGIC };
        return Err(if bytes.starts_with(other) {
            "a cache file of the other kind (a day's where a merged state belongs, or the reverse)"
        } else {
            "not a tokenaudit cache file"
        }
        .into());
    }
    let sum = u64::from_le_bytes(bytes[MAGIC.len()..HEADER].try_into().expect("8 bytes"));
    let mut rest = &bytes[HEADER..];
    if xxh3_64(rest) != sum {
        return Err("damaged (its checksum does not match)".into());
    }
    let damaged = || "damaged (a length is past its end)".to_string();
    let take = |rest: &mut &'b [u8]| -> std::result::Result<&'b [u8], String> {
        let (n, tail) = rest.split_first_chunk::<8>().ok_or_else(damaged)?;
        let n = usize::try_from(u64::from_le_bytes(*n)).map_err(|_| damaged())?;
        let (field, tail) = tail.split_at_checked(n).ok_or_else(damaged)?;
        *rest = tail;
        Ok(field)
    };
    let own = take(&mut rest)?;
    if own != name.as_bytes() {
        return Err(format!(
            "holds the state of another file ({}), copied under this name",
            String::from_utf8_lossy(own)
        ));
    }
    if merged {
        take(&mut rest)?;
    }
    Ok(rest)
}

/// The day's cached accumulators (`Ok(None)`: none kept).
fn load<'c>(
    day: &Day<'_>,
    spec: &Spec<'c>,
) -> std::result::Result<Option<Vec<Accumulator<'c>>>, String> {
    let Some(bytes) = read_file(&day.dir.join(&day.name))? else {
        return Ok(None);
    };
    let states = day_states(payload(&bytes, &day.name, false)?)?;
    let decode = |state: &[u8]| -> std::result::Result<Accumulator<'c>, String> {
        let mut acc = Accumulator::decode_on(state, spec.catalog, spec.config, false)
            .map_err(|e| e.to_string())?;
        acc.map_sources(&day.to).map_err(|e| e.to_string())?;
        Ok(acc)
    };
    let accs = if states.len() > 1 {
        std::thread::scope(|scope| {
            let handles: Vec<_> = states.iter().map(|s| scope.spawn(|| decode(s))).collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a cache thread does not panic"))
                .collect::<std::result::Result<Vec<_>, String>>()
        })?
    } else {
        states
            .iter()
            .map(|s| decode(s))
            .collect::<std::result::Result<Vec<_>, String>>()?
    };
    Ok(Some(accs))
}

/// A day's states in its file's payload (see [`MAGIC`]).
fn day_states(mut rest: &[u8]) -> std::result::Result<Vec<&[u8]>, String> {
    let damaged = || "damaged (a length is past its end)".to_string();
    let take_u64 = |rest: &mut &[u8]| -> std::result::Result<u64, String> {
        let (n, tail) = rest.split_first_chunk::<8>().ok_or_else(damaged)?;
        *rest = tail;
        Ok(u64::from_le_bytes(*n))
    };
    let count = take_u64(&mut rest)?;
    // Each state is at least its length's 8 bytes.
    if count > (rest.len() / 8) as u64 || count == 0 {
        return Err(damaged());
    }
    let mut states = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let n = usize::try_from(take_u64(&mut rest)?).map_err(|_| damaged())?;
        let (state, tail) = rest.split_at_checked(n).ok_or_else(damaged)?;
        states.push(state);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(damaged());
    }
    Ok(states)
}

/// A cache file's bytes (`Ok(None)`: no file).
fn read_file(path: &Path) -> std::result::Result<Option<Vec<u8>>, String> {
    match crate::layout::read_file(path) {
        Ok(b) => Ok(Some(b)),
        // No file, or no folder (`_cache` may even be a file).
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The state a merged state's file holds (`Ok(None)`: no file).
fn read_state<'c>(
    path: &Path,
    spec: &Spec<'c>,
    two_threads: bool,
) -> std::result::Result<Option<Accumulator<'c>>, String> {
    let Some(bytes) = read_file(path)? else {
        return Ok(None);
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let state = payload(&bytes, &name, true)?;
    Accumulator::decode_on(state, spec.catalog, spec.config, two_threads)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// A day's accumulators from its parts (one per worker that read them),
/// and its cache file's bytes.
fn accumulate<'d, 'c: 'd>(
    root: &Path,
    day: &'d Day<'_>,
    query: &Query,
    threads: usize,
    spec: &Spec<'c>,
) -> Result<(Vec<u8>, Vec<Accumulator<'d>>)> {
    let local: HashMap<&str, usize> = day
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.key.as_str(), i))
        .collect();
    let query = Query {
        days: None,
        prompts: query.prompts,
        threads,
    };
    let mut sinks = scan::read_parts(root, &day.parts, &query, &local, || {
        Accumulator::new(spec.catalog, &day.config)
    })?;
    if sinks.is_empty() {
        sinks.push(Accumulator::new(spec.catalog, &day.config));
    }
    // The day is one unit of retry chains, whichever worker read which of
    // its rows: settled across the workers' states before they are
    // written apart.
    Accumulator::settle_together(&mut sinks);
    let bytes =
        day_file_bytes(&day.name, &mut sinks, threads > 1).map_err(StoreError::io(&day.dir))?;
    Ok((bytes, sinks))
}

/// The bytes of the day's cache file `name` holding `accs`' states (see
/// [`MAGIC`]), each encoded on a thread of its own (the accumulators kept).
fn day_file_bytes(
    name: &str,
    accs: &mut [Accumulator<'_>],
    two_threads: bool,
) -> std::io::Result<Vec<u8>> {
    let encoded: Vec<std::io::Result<Vec<u8>>> = if accs.len() > 1 {
        std::thread::scope(|scope| {
            let handles: Vec<_> = accs
                .iter_mut()
                .map(|a| scope.spawn(move || a.encode_kept()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a cache thread does not panic"))
                .collect()
        })
    } else {
        accs.iter_mut()
            .map(|a| {
                let mut w = Vec::new();
                a.encode_kept_into(&mut w, two_threads).map(|()| w)
            })
            .collect()
    };
    let mut bytes = file_head(name, None);
    bytes.extend_from_slice(&(encoded.len() as u64).to_le_bytes());
    for state in encoded {
        let state = state?;
        bytes.extend_from_slice(&(state.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&state);
    }
    seal(&mut bytes);
    Ok(bytes)
}

/// Writes a day's cache file (aside, then renamed into place) and removes
/// the day's files it makes stale.
fn write(day: &Day<'_>, bytes: &[u8]) -> std::result::Result<(), String> {
    write_file(&day.dir, &day.name, bytes)?;
    let data = name_data(&day.name).expect("a name this module made");
    tidy(&day.dir, data, &day.name);
    Ok(())
}

/// Writes `dir/name` aside, then renames it into place.
fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> std::result::Result<(), String> {
    let fail = |e: std::io::Error| e.to_string();
    std::fs::create_dir_all(dir).map_err(fail)?;
    let tmp = dir.join(format!("{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(fail)?;
    std::fs::rename(&tmp, dir.join(name)).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}

/// The bytes of the cache file `name` holding `acc`'s state (encoded
/// with the accumulator kept): a merged state's with its `manifest`, else
/// a day's. I/O errors reading spilled tables back are returned.
fn file_bytes(
    name: &str,
    manifest: Option<&[u8]>,
    acc: &mut Accumulator<'_>,
    two_threads: bool,
) -> std::io::Result<Vec<u8>> {
    let mut bytes = file_head(name, manifest);
    // Encoded after the head, not copied there: a month's state is tens
    // of megabytes.
    acc.encode_kept_into(&mut bytes, two_threads)?;
    seal(&mut bytes);
    Ok(bytes)
}

/// A cache file's bytes before its state: its mark, room for the sum
/// ([`seal`] fills it), its name and, for a merged state, its manifest.
fn file_head(name: &str, manifest: Option<&[u8]>) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(if manifest.is_some() {
        MERGED_MAGIC
    } else {
        MAGIC
    });
    bytes.extend_from_slice(&[0; 8]);
    for field in std::iter::once(name.as_bytes()).chain(manifest) {
        bytes.extend_from_slice(&(field.len() as u64).to_le_bytes());
        bytes.extend_from_slice(field);
    }
    bytes
}

/// Writes the sum of everything after the header into the header.
fn seal(bytes: &mut [u8]) {
    let sum = xxh3_64(&bytes[HEADER..]);
    bytes[MAGIC.len()..HEADER].copy_from_slice(&sum.to_le_bytes());
}

/// Marks a merged state a nightly audit built on without writing its own
/// (see [`OUTSIDE`]) as just made (its time is now): the newest are kept
/// ([`keep_newest`]), so it is not dropped for merges of other windows
/// made since, as the merge it would have written would not be. Best
/// effort.
fn used_now(path: &Path) {
    if let Ok(f) = std::fs::File::options().append(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// In a day's folder: removes the files of other data, and keeps the
/// newest [`VARIANTS`] of `data`'s (always `keep`). Best effort.
fn tidy(dir: &Path, data: &str, keep: &str) {
    keep_newest(dir, keep, |name| match name_data(name) {
        Some(d) if d != data => Some(true),
        Some(_) => Some(false),
        None => None,
    });
}

/// Among the files of `dir` that `verdict` names (`Some(stale)`), removes
/// the stale ones and keeps the newest [`VARIANTS`] of the others, `keep`
/// among them. Best effort.
fn keep_newest(dir: &Path, keep: &str, verdict: impl Fn(&str) -> Option<bool>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut others = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        match verdict(&name) {
            Some(true) => {
                let _ = std::fs::remove_file(e.path());
            }
            Some(false) if name != keep => {
                let age = e.metadata().and_then(|m| m.modified()).ok();
                others.push((age, e.path()));
            }
            _ => {}
        }
    }
    // Newest first; `keep` is one of the VARIANTS.
    others.sort_by(|a, b| b.cmp(a));
    for (_, path) in others.into_iter().skip(VARIANTS - 1) {
        let _ = std::fs::remove_file(path);
    }
}

/// What [`sweep`] found in `_cache/`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Cache files kept.
    pub kept: usize,
    /// Each file removed, relative to the store, with why.
    pub removed: Vec<String>,
}

/// For a file's name and path: `None` if it is not a cache file, else why
/// it goes (`Some(None)`: it stays).
type Judge<'a> = dyn Fn(&str, &Path) -> Option<Option<&'static str>> + 'a;

/// Removes the cache files no audit can use any more: of days with no
/// live parts or whose parts changed, merged states made before the last
/// commit (which may have changed their days), temporary files of writers
/// gone for an hour, and (with `verify`) files that are not intact. Files
/// it does not name are left alone. Best effort: a file it cannot remove
/// stays.
pub fn sweep(store: &Store, verify: bool) -> Sweep {
    let (root, state) = (store.root(), store.state());
    let mut r = Sweep::default();
    let Ok(folders) = std::fs::read_dir(root.join(layout::CACHE)) else {
        return r;
    };
    let live = by_day(state.parts.values().collect());
    // Each day's data digest now, by its folder's name.
    let digests: HashMap<String, String> = live
        .iter()
        .filter_map(|(day, parts)| {
            let folder = layout::partition(parse_day(*day)?);
            let digest = data_digest(state, *day, parts, &day_sources(state, parts));
            Some((folder, format!("{digest:032x}")))
        })
        .collect();
    let current = |folder: &str, name: &str| -> Option<&'static str> {
        let d = name_data(name)?;
        Some(match digests.get(folder) {
            None => "its day has no calls left",
            Some(now) if d != now => "its day's parts changed",
            Some(_) => return None,
        })
    };
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let last_commit = modified(&layout::commit_file(root, state.head));
    for folder in folders.flatten() {
        let folder_name = folder.file_name().to_string_lossy().into_owned();
        let judge: Box<Judge> = if folder_name == MERGED {
            // A merged state stays while each of its days is as it was; one
            // without a manifest (an older build's), until the next commit.
            Box::new(|name, path| {
                name.ends_with(".acc").then(|| match read_manifest(path) {
                    Some(list) => list.iter().find_map(|(id, _)| {
                        let (folder, name) = id.split_once('/').unwrap_or((id, ""));
                        current(folder, name).map(|_| "one of its days changed")
                    }),
                    None => (modified(path) < last_commit)
                        .then_some("made before the store's last commit"),
                })
            })
        } else if layout::parse_day_dir(&folder_name).is_some() {
            let folder_name = folder_name.clone();
            Box::new(move |name, _| {
                name_data(name)?;
                Some(current(&folder_name, name))
            })
        } else {
            continue;
        };
        let Ok(files) = std::fs::read_dir(folder.path()) else {
            continue;
        };
        for f in files.flatten() {
            let (name, path) = (f.file_name().to_string_lossy().into_owned(), f.path());
            let verdict = judge(&name, &path);
            let why = match verdict {
                Some(None) if verify => crate::layout::read_file(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|b| payload(&b, &name, folder_name == MERGED).map(|_| ()))
                    .err()
                    .map(|_| "unreadable"),
                Some(why) => why,
                None if name.contains(".acc.tmp-") => modified(&path)
                    .and_then(|t| SystemTime::now().duration_since(t).ok())
                    .is_some_and(|age| age > TEMP_AGE)
                    .then_some("left by a writer that stopped"),
                None => None,
            };
            match why {
                Some(why) if std::fs::remove_file(&path).is_ok() => r
                    .removed
                    .push(format!("{}/{folder_name}/{name}: {why}", layout::CACHE)),
                _ if verdict.is_some() => r.kept += 1,
                _ => {}
            }
        }
        // An emptied folder goes too (fails harmlessly if not empty).
        let _ = std::fs::remove_dir(folder.path());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache file's bytes holding `state` as it is.
    fn file_bytes(name: &str, manifest: Option<&[u8]>, state: &[u8]) -> Vec<u8> {
        let mut bytes = file_head(name, manifest);
        bytes.extend_from_slice(state);
        seal(&mut bytes);
        bytes
    }

    #[test]
    fn a_part_removed_while_read_says_to_run_again() {
        let gone = || StoreError::Io {
            path: "/s/calls/day=2026-10-01/part-a-00000.parquet".into(),
            error: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(
            vanished(gone()).to_string(),
            "/s/calls/day=2026-10-01/part-a-00000.parquet: entity not found: the part was removed while this command read the store, 5 times (a `store compact`, a `store prune` or an ingest committed meanwhile): run it again"
        );
        // Gone with no commit since: a damaged store.
        assert_eq!(
            missing(gone(), Path::new("/s")).to_string(),
            "/s/calls/day=2026-10-01/part-a-00000.parquet: a committed part is missing; run `tokenaudit store check --store /s`"
        );
    }

    #[test]
    fn a_file_is_used_only_if_intact() {
        let state = b"any state".to_vec();
        let bytes = file_bytes("a.acc", None, &state);
        assert_eq!(payload(&bytes, "a.acc", false), Ok(&state[..]));
        // Cut short, a byte changed, another kind of file.
        assert!(payload(&bytes[..bytes.len() - 1], "a.acc", false).is_err());
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(payload(&flipped, "a.acc", false).is_err());
        assert!(payload(b"TAd", "a.acc", false).is_err());
        assert!(payload(b"PAR1 and more bytes", "a.acc", false).is_err());
        // Under another name (a copy), or where a merged state belongs.
        let err = payload(&bytes, "b.acc", false).unwrap_err();
        assert!(err.contains("another file (a.acc)"), "{err}");
        let err = payload(&bytes, "a.acc", true).unwrap_err();
        assert!(err.contains("other kind"), "{err}");
        // A merged state's: the manifest stepped over.
        let merged = file_bytes("m.acc", Some(b"days"), &state);
        assert_eq!(payload(&merged, "m.acc", true), Ok(&state[..]));
        assert!(payload(&merged, "m.acc", false).is_err());
        assert!(payload(&merged, "n.acc", true).is_err());
    }

    /// A day's file holds each worker's state, each with its length: read
    /// back as they were written, and refused cut short, with bytes after
    /// them, or with no state.
    #[test]
    fn a_days_states_are_read_as_written() {
        let mut payload = 2u64.to_le_bytes().to_vec();
        for state in [&b"first"[..], b"second state"] {
            payload.extend((state.len() as u64).to_le_bytes());
            payload.extend(state);
        }
        assert_eq!(
            day_states(&payload),
            Ok(vec![&b"first"[..], &b"second state"[..]])
        );
        assert!(day_states(&payload[..payload.len() - 1]).is_err());
        let mut longer = payload.clone();
        longer.push(0);
        assert!(day_states(&longer).is_err());
        assert!(day_states(&0u64.to_le_bytes()).is_err());
        assert!(day_states(&u64::MAX.to_le_bytes()).is_err());
    }

    #[test]
    fn names_carry_the_data_digest() {
        let name = file_name(1, u128::MAX);
        assert_eq!(name_data(&name), Some("00000000000000000000000000000001"));
        assert_eq!(name_data(&format!("{name}.tmp-42")), None);
        assert_eq!(name_data("notes.txt"), None);
    }
}
