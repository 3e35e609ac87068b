//! Writing parts: a [`PartSink`] per ingest worker prices each record as the
//! audit does, buffers it in Arrow builders per day, and writes a day's
//! buffered rows as one row group of that day's open Parquet part (under a
//! temporary name), which it closes at [`ROWS_PER_PART`] rows or at the end.
//! Rows are sorted by feature, model and time within a row group, so
//! row-group statistics prune well; memory is bounded by [`MAX_BUFFERED`]
//! rows per worker, whatever the part size.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use arrow_array::{Array, RecordBatch, StringArray, TimestampNanosecondArray, UInt32Array};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::Xxh3;

use tokenaudit_core::pricing::{Catalog, ModelId, ServedModels};
use tokenaudit_core::{CallRecord, CallStatus, MinHash, Money};
use tokenaudit_ingest::{Location, RecordSink};

use crate::commit::{PartEntry, SCHEMA_VERSION};
use crate::error::{Result, StoreError};
use crate::layout::{self, Dataset};
use crate::schema::{self, col, Extra, RowsBuilder};

/// Rows of one day a worker writes as one part, at most.
pub const ROWS_PER_PART: usize = 64 * 1024;
/// Rows a worker holds in its builders, across all days, before it writes
/// the largest day's as a row group. With [`MAX_OPEN`], this sets an
/// ingest's memory: parts written whole from 96k buffered rows made a 10 GB
/// ingest peak at 260 MB (`benches/rss_over_time.sh`).
pub const MAX_BUFFERED: usize = 24 * 1024;
/// Rows per row group, at most: a day's builder is written at this many.
pub const ROW_GROUP: usize = 16 * 1024;
/// Parts a worker keeps open at once (one per day it is writing); past
/// this, the fullest is closed. An open part costs about 1.5 MB (the
/// writer's state): 32 made a 1 GB ingest of 30 daily files peak at 142 MB,
/// 8 at 120 MB (with 94 parts instead of 61), 4 at 97 MB (136 parts).
const MAX_OPEN: usize = 8;

/// What every worker of one ingest shares.
pub struct Shared<'a> {
    pub store: PathBuf,
    /// This ingest's id, in every part's name.
    pub ingest: String,
    pub catalog: &'a Catalog,
    /// Per source index, the source's key (written in each row).
    pub keys: Vec<String>,
    /// Keep prompt text (`--include-prompts`).
    pub prompts: bool,
    /// Per source index, whether to keep its rows' request ids (Claude Code
    /// files read again while others are gone: [`PartSink::request_ids`]).
    pub collect_ids: Vec<bool>,
    /// Rows of days before this one are left out (a prune dropped them):
    /// counted per source in [`PartSink::pruned`].
    pub drop_before: Option<NaiveDate>,
    seq: AtomicU32,
    /// Syncs the parts the workers close while they go on writing.
    syncer: Option<Syncer>,
}

/// A thread syncing closed parts to disk, in the order they are closed,
/// so that no worker waits for the disk; [`Shared::synced`] waits for
/// them all (before the commit names them).
struct Syncer {
    send: std::sync::mpsc::Sender<(PathBuf, File)>,
    thread: std::thread::JoinHandle<Result<()>>,
}

impl Syncer {
    fn start() -> Syncer {
        let (send, receive) = std::sync::mpsc::channel::<(PathBuf, File)>();
        let thread = std::thread::spawn(move || {
            let mut first = Ok(());
            for (path, file) in receive {
                if first.is_ok() {
                    first = file.sync_all().map_err(StoreError::io(&path));
                }
            }
            first
        });
        Syncer { send, thread }
    }
}

impl<'a> Shared<'a> {
    pub fn new(
        store: PathBuf,
        ingest: String,
        catalog: &'a Catalog,
        keys: Vec<String>,
        prompts: bool,
    ) -> Self {
        Shared {
            store,
            ingest,
            catalog,
            keys,
            prompts,
            collect_ids: Vec::new(),
            drop_before: None,
            seq: AtomicU32::new(0),
            syncer: Some(Syncer::start()),
        }
    }

    /// Waits until every part closed so far is on disk: the first failure
    /// to sync one, if any.
    pub fn synced(&mut self) -> Result<()> {
        let Some(Syncer { send, thread }) = self.syncer.take() else {
            return Ok(());
        };
        drop(send);
        thread.join().expect("the sync thread does not panic")
    }

    /// A fresh part name for `day` in `dataset`.
    pub fn next_part(&self, dataset: Dataset, day: Option<NaiveDate>) -> String {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        layout::part_path(dataset, day, &self.ingest, seq)
    }
}

/// A model's resolution, looked up once per (provider, model) a worker sees.
#[derive(Clone)]
struct Resolved {
    id: Option<ModelId>,
    name: Option<Arc<str>>,
}

/// A day's buffered rows and the sources (by index) they came from.
#[derive(Default)]
struct DayRows {
    rows: RowsBuilder,
    sources: BTreeSet<usize>,
}

/// The keys in a batch's `source` column (rows of a source come together,
/// so a key is compared with the last one before the set).
fn batch_sources(batch: &RecordBatch) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    if let Some(a) = batch
        .column_by_name(col::SOURCE)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
    {
        let mut last = None;
        for key in a.iter().flatten() {
            if last != Some(key) && !keys.contains(key) {
                keys.insert(key.to_string());
            }
            last = Some(key);
        }
    }
    keys
}

/// Where a row goes: a dataset's day (`None`: no timestamp).
type Slot = (Dataset, Option<NaiveDate>);

/// One worker's writer (a [`RecordSink`]).
pub struct PartSink<'s, 'a> {
    shared: &'s Shared<'a>,
    days: FxHashMap<Slot, DayRows>,
    buffered: usize,
    /// Each day's part being written.
    open: FxHashMap<Slot, OpenPart>,
    /// By `provider \0 model`.
    resolved: FxHashMap<Box<str>, Resolved>,
    key: String,
    /// Which model prices a call whose response names another one: the
    /// one written as the row's model (the store keeps no second name).
    served: ServedModels,
    /// The parts written, under their temporary names.
    pub parts: Vec<PartEntry>,
    /// The first failure (a full disk): the ingest reports it and commits
    /// nothing.
    pub error: Option<StoreError>,
    /// The request ids of the rows of the sources `Shared::collect_ids`
    /// names.
    pub request_ids: std::collections::HashSet<String>,
    /// Per source index, the rows left out as before the last prune.
    pub pruned: Vec<u64>,
}

impl<'s, 'a> PartSink<'s, 'a> {
    pub fn new(shared: &'s Shared<'a>) -> Self {
        PartSink {
            shared,
            days: FxHashMap::default(),
            buffered: 0,
            open: FxHashMap::default(),
            resolved: FxHashMap::default(),
            key: String::new(),
            served: ServedModels::default(),
            parts: Vec::new(),
            error: None,
            request_ids: std::collections::HashSet::new(),
            pruned: Vec::new(),
        }
    }

    fn resolve(&mut self, r: &CallRecord<'_>) -> Resolved {
        self.key.clear();
        self.key.push_str(r.provider.as_deref().unwrap_or(""));
        self.key.push('\0');
        self.key.push_str(&r.model);
        if let Some(hit) = self.resolved.get(self.key.as_str()) {
            return hit.clone();
        }
        let catalog = self.shared.catalog;
        let id = catalog.resolve(r.provider.as_deref(), &r.model);
        let name = id.map(|id| {
            let m = catalog.model(id);
            Arc::from(format!("{}/{}", m.provider, m.id))
        });
        let hit = Resolved { id, name };
        self.resolved.insert(self.key.as_str().into(), hit.clone());
        hit
    }

    /// Writes the buffered rows of `slot` as a row group of its open part.
    fn flush(&mut self, slot: Slot) {
        let Some(DayRows { mut rows, sources }) = self.days.remove(&slot) else {
            return;
        };
        if rows.is_empty() {
            return;
        }
        self.buffered -= rows.len();
        let batch = sort(&rows.finish());
        let keys = &self.shared.keys;
        let sources = sources.into_iter().filter_map(|i| keys.get(i).cloned());
        if self.error.is_some() {
            return;
        }
        if !self.open.contains_key(&slot) && self.open.len() >= MAX_OPEN {
            let fullest = self
                .open
                .iter()
                .max_by_key(|(d, p)| (p.rows, std::cmp::Reverse(**d)))
                .map(|(d, _)| *d);
            if let Some(d) = fullest {
                self.close(d);
            }
        }
        let part = match self.open.entry(slot) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let path = self.shared.next_part(slot.0, slot.1);
                match OpenPart::create(&self.shared.store, path) {
                    Ok(p) => e.insert(p),
                    Err(err) => {
                        self.error = Some(err);
                        return;
                    }
                }
            }
        };
        if let Err(err) = part.append(&batch, sources) {
            self.error = Some(err);
            return;
        }
        if part.rows >= ROWS_PER_PART as u64 {
            self.close(slot);
        }
    }

    /// Closes `slot`'s open part.
    fn close(&mut self, slot: Slot) {
        let Some(part) = self.open.remove(&slot) else {
            return;
        };
        let syncer = self.shared.syncer.as_ref();
        match part.close(slot.1, syncer) {
            Ok(entry) => self.parts.push(entry),
            Err(e) => self.error = self.error.take().or(Some(e)),
        }
    }

    /// Writes every day still buffered and closes every part, in day order;
    /// after a failure, deletes the parts still open instead.
    pub fn finish(&mut self) {
        let mut slots: Vec<Slot> = self.days.keys().copied().collect();
        slots.extend(self.open.keys().copied());
        slots.sort();
        slots.dedup();
        for d in slots {
            self.flush(d);
            if self.error.is_none() {
                self.close(d);
            }
        }
        for (_, part) in self.open.drain() {
            let _ = std::fs::remove_file(&part.tmp);
        }
    }
}

impl RecordSink for PartSink<'_, '_> {
    fn settle_model(&mut self, r: &mut CallRecord<'_>) {
        self.served.settle(self.shared.catalog, r);
    }

    fn record(&mut self, r: &CallRecord<'_>, at: Location) {
        if self.error.is_some() {
            return;
        }
        let day = r.timestamp.map(|t| t.date_naive());
        if let (Some(d), Some(cut)) = (day, self.shared.drop_before) {
            if d < cut {
                if self.pruned.len() <= at.source {
                    self.pruned.resize(at.source + 1, 0);
                }
                self.pruned[at.source] += 1;
                return;
            }
        }
        let resolved = self.resolve(r);
        let cost = resolved.id.map(|id| {
            self.shared
                .catalog
                .price(id, day, &r.usage, r.processing())
                .cost
                .total()
        });
        // Only calls the near-duplicate check can use get a signature (it
        // compares successful calls with a time), and only once: the text
        // is not kept.
        let minhash = match (&r.prompt_text, r.minhash, r.timestamp) {
            (Some(text), None, Some(_)) if r.effective_status() == CallStatus::Ok => {
                tokenaudit_ingest::fields::minhash(text)
            }
            _ => None,
        };
        if self.shared.collect_ids.get(at.source) == Some(&true) {
            if let Some(id) = r.request_id.as_deref() {
                self.request_ids.insert(id.to_string());
            }
        }
        let model_id = resolved.name.clone();
        self.push(
            (Dataset::Calls, day),
            r,
            at,
            model_id.as_deref(),
            cost,
            minhash,
        );
    }

    /// A line LiteLLM answered from its cache: kept in `cache_hits/` (not
    /// priced, no signature), for the audit of the store to count as the
    /// audit of the logs does.
    fn cache_hit(&mut self, r: &CallRecord<'_>, at: Location) {
        if self.error.is_some() {
            return;
        }
        let day = r.timestamp.map(|t| t.date_naive());
        if day
            .zip(self.shared.drop_before)
            .is_some_and(|(d, cut)| d < cut)
        {
            return;
        }
        let model_id = self.resolve(r).name;
        self.push(
            (Dataset::CacheHits, day),
            r,
            at,
            model_id.as_deref(),
            None,
            None,
        );
    }
}

impl PartSink<'_, '_> {
    /// Buffers a row in `slot`, and writes a row group when a day's rows
    /// or all the rows buffered reach their bounds.
    fn push(
        &mut self,
        slot: Slot,
        r: &CallRecord<'_>,
        at: Location,
        model_id: Option<&str>,
        cost: Option<Money>,
        minhash: Option<MinHash>,
    ) {
        let source = self.shared.keys.get(at.source).map_or("", String::as_str);
        let DayRows { rows, sources } = self.days.entry(slot).or_default();
        sources.insert(at.source);
        rows.push(
            r,
            &Extra {
                model_id,
                cost,
                minhash,
                source,
                line: at.line,
                prompts: self.shared.prompts,
            },
        );
        self.buffered += 1;
        if rows.len() >= ROW_GROUP {
            self.flush(slot);
        } else if self.buffered >= MAX_BUFFERED {
            let largest = self
                .days
                .iter()
                .max_by_key(|(s, day)| (day.rows.len(), std::cmp::Reverse(**s)))
                .map(|(s, _)| *s);
            if let Some(s) = largest {
                self.flush(s);
            }
        }
    }
}

/// `batch` (rows read back from a part, perhaps of an earlier schema) in
/// the current schema, column by column by name: a column the part lacks
/// is null, one the schema no longer has is dropped. By position, a
/// schema-1 part's `minhash` (another signature scheme) became
/// `minhash_oph`.
fn conform(batch: &RecordBatch) -> Result<RecordBatch> {
    let target = schema::schema();
    let n = batch.num_rows();
    let columns = target
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) if c.data_type() == f.data_type() => Ok(c.clone()),
            Some(_) | None if f.is_nullable() => Ok(arrow_array::new_null_array(f.data_type(), n)),
            _ => Err(StoreError::Invalid(format!(
                "a part's rows lack the column {} the store's schema needs",
                f.name()
            ))),
        })
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new(target, columns).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// The order of rows within a part: feature, model, time.
fn sort(batch: &RecordBatch) -> RecordBatch {
    let strings = |name| {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .expect("the schema has the column")
    };
    let (feature, model) = (strings(col::FEATURE), strings(col::MODEL));
    let ts = batch
        .column_by_name(col::TS)
        .and_then(|c| c.as_any().downcast_ref::<TimestampNanosecondArray>())
        .expect("the schema has the column");
    // Rows compare as integers: each string's rank among the column's
    // distinct values (features and models are few), and the row's index
    // last, so that equal rows keep their order as a stable sort would.
    let n = batch.num_rows();
    let feature = ranks(n, |i| (!feature.is_null(i)).then(|| feature.value(i)));
    let model = ranks(n, |i| Some(model.value(i)));
    // As plain integers, which compare in a few instructions: feature and
    // model in one, the time with its sign bit flipped (so that unsigned
    // order is time order; no time sorts first, with the earliest).
    let mut keys: Vec<(u64, u64, u32)> = (0..n)
        .map(|i| {
            let t = if ts.is_null(i) {
                0
            } else {
                ts.value(i) as u64 ^ (1 << 63)
            };
            ((feature[i] as u64) << 32 | model[i] as u64, t, i as u32)
        })
        .collect();
    if keys.is_sorted() {
        return batch.clone();
    }
    keys.sort_unstable();
    let indices: UInt32Array = keys.into_iter().map(|k| k.2).collect::<Vec<u32>>().into();
    // A column with no value in the batch (prompt text not kept, fields
    // the log does not have) stays as it is: gathering it would copy
    // nothing but its placeholder values.
    let columns = batch
        .columns()
        .iter()
        .map(|c| {
            if c.null_count() == c.len() {
                Ok(c.clone())
            } else {
                arrow_select::take::take(c, &indices, None)
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .expect("indices are in range");
    RecordBatch::try_new(batch.schema(), columns).expect("the columns keep their types")
}

/// Columns that grow by small steps within a feature and model, and the
/// audio and web search counts (zero on most calls): delta-encoded a few
/// bits per row.
const DELTA: [&str; 6] = [
    col::TS,
    col::LINE,
    col::INPUT_AUDIO,
    col::CACHED_AUDIO,
    col::OUTPUT_AUDIO,
    col::WEB_SEARCHES,
];

/// Stored uncompressed so as not to spend the compression work (and, on
/// every read, a decompressor's): hashes, random bits that zstd cannot
/// shrink (within 2% on call logs), and the delta-encoded columns, a few
/// bits a row that it shrinks by 5-8% (`ts`, `line`; the audio and search
/// counts, zero on most calls, are a few bytes a page).
const UNCOMPRESSED: [&str; 8] = [
    col::PROMPT_FP,
    col::PREFIX_FP,
    col::TS,
    col::LINE,
    col::INPUT_AUDIO,
    col::CACHED_AUDIO,
    col::OUTPUT_AUDIO,
    col::WEB_SEARCHES,
];

/// The columns rows are sorted by, the ones readers prune row groups and
/// pages on: the only ones with statistics (per page, and a page index).
/// No other column has any: their minimum and maximum cost a comparison
/// per value.
const PRUNED_ON: [&str; 3] = [col::FEATURE, col::MODEL, col::TS];

/// Each of `n` rows' value's rank among the distinct values (`None`
/// first, then in string order).
fn ranks<'a>(n: usize, value: impl Fn(usize) -> Option<&'a str>) -> Vec<u32> {
    let mut first_seen: FxHashMap<Option<&str>, u32> = FxHashMap::default();
    let ids: Vec<u32> = (0..n)
        .map(|i| {
            let next = first_seen.len() as u32;
            *first_seen.entry(value(i)).or_insert(next)
        })
        .collect();
    let mut distinct: Vec<(Option<&str>, u32)> = first_seen.into_iter().collect();
    distinct.sort_unstable();
    let mut rank = vec![0; distinct.len()];
    for (r, (_, id)) in distinct.into_iter().enumerate() {
        rank[id as usize] = r as u32;
    }
    ids.into_iter().map(|id| rank[id as usize]).collect()
}

/// The label columns: a few distinct values each (a file, a model, a
/// feature), repeated on every row. With a dictionary, their pages hold a
/// few bits a row: 17 MB of text a day otherwise, for zstd to shrink on
/// writing and expand again on every read (a tenth of a day's reading, and
/// its rows copied out one by one), for the same ingest time
/// (benches/README.md, "Session 34"). A column of many values (a tag
/// holding an id) falls back to plain pages past the dictionary's size
/// limit.
pub const DICTIONARY: [&str; 11] = [
    col::SOURCE,
    col::PROVIDER,
    col::MODEL,
    col::MODEL_ID,
    col::FEATURE,
    col::ROUTE,
    col::TEAM,
    col::STATUS,
    col::ERROR_KIND,
    col::FINISH_REASON,
    col::SERVICE_TIER,
];

/// The writer settings of every part: zstd at level 1 (as small as level
/// 3 on call logs, within 1%, for a third less compression work) except on
/// [`UNCOMPRESSED`], row groups of [`ROW_GROUP`] rows, the schema version
/// in the file's metadata, statistics on [`PRUNED_ON`] only, [`DELTA`]
/// encoding, and a dictionary on [`DICTIONARY`] and the tags only: on the
/// other columns zstd makes the parts as small within 4% (on the gateway
/// and nested shapes), and arrow-rs' writer interns every value of a
/// dictionary column, 7% of an ingest's instructions when every column had
/// one (benches/README.md, "Session 12").
pub fn properties() -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("a valid zstd level"),
        ))
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_statistics_enabled(EnabledStatistics::None)
        .set_dictionary_enabled(false)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "tokenaudit.store.schema_version".to_string(),
            SCHEMA_VERSION.to_string(),
        )]));
    for c in PRUNED_ON {
        b = b.set_column_statistics_enabled(ColumnPath::from(c), EnabledStatistics::Page);
    }
    for c in DELTA {
        b = b.set_column_encoding(ColumnPath::from(c), Encoding::DELTA_BINARY_PACKED);
    }
    for c in UNCOMPRESSED {
        b = b.set_column_compression(ColumnPath::from(c), Compression::UNCOMPRESSED);
    }
    let tag = |field: &str| {
        ColumnPath::new(vec![
            col::TAGS.into(),
            "list".into(),
            "item".into(),
            field.into(),
        ])
    };
    for path in DICTIONARY
        .iter()
        .map(|c| ColumnPath::from(*c))
        .chain([tag("key"), tag("value")])
    {
        b = b.set_column_dictionary_enabled(path, true);
    }
    b.build()
}

/// A part being written, under its temporary name, one row group at a
/// time.
struct OpenPart {
    path: String,
    tmp: PathBuf,
    writer: ArrowWriter<Digesting>,
    rows: u64,
    sources: BTreeSet<String>,
}

impl OpenPart {
    fn create(store: &Path, path: String) -> Result<OpenPart> {
        let tmp = layout::temp_path(store, &path);
        if let Some(dir) = tmp.parent() {
            std::fs::create_dir_all(dir).map_err(StoreError::io(dir))?;
        }
        let file = File::create(&tmp).map_err(StoreError::io(&tmp))?;
        let file = Digesting {
            file,
            digest: Xxh3::new(),
        };
        let writer = ArrowWriter::try_new(file, schema::schema(), Some(properties()))
            .map_err(StoreError::parquet(&tmp))?;
        Ok(OpenPart {
            path,
            tmp,
            writer,
            rows: 0,
            sources: BTreeSet::new(),
        })
    }

    /// Writes `batch` as the part's next row groups (the writer keeps
    /// nothing of it buffered); `sources` are the keys of its rows' sources.
    fn append(&mut self, batch: &RecordBatch, sources: impl Iterator<Item = String>) -> Result<()> {
        self.writer
            .write(batch)
            .map_err(StoreError::parquet(&self.tmp))?;
        self.writer
            .flush()
            .map_err(StoreError::parquet(&self.tmp))?;
        self.rows += batch.num_rows() as u64;
        self.sources.extend(sources);
        Ok(())
    }

    /// Finishes the file and syncs it (or hands it to `syncer` to).
    fn close(self, day: Option<NaiveDate>, syncer: Option<&Syncer>) -> Result<PartEntry> {
        let tmp = self.tmp;
        let Digesting { file, digest } = self
            .writer
            .into_inner()
            .map_err(StoreError::parquet(&tmp))?;
        let bytes = file.metadata().map_err(StoreError::io(&tmp))?.len();
        let unsent = match syncer {
            Some(s) => s.send.send((tmp.clone(), file)).err().map(|e| e.0 .1),
            None => Some(file),
        };
        if let Some(file) = unsent {
            file.sync_all().map_err(StoreError::io(&tmp))?;
        }
        Ok(PartEntry {
            path: self.path,
            day: day.map(|d| d.format("%Y-%m-%d").to_string()),
            rows: self.rows,
            bytes,
            sources: self.sources.into_iter().collect(),
            xxh3: Some(format!("{:016x}", digest.digest())),
        })
    }
}

/// A part's file, digested as it is written: `store check` compares it
/// with the file's bytes, so a damaged data page is found, not only a
/// damaged footer (hunt110: "No problems found" of a part the next audit
/// failed on).
struct Digesting {
    file: File,
    digest: Xxh3,
}

impl std::io::Write for Digesting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// A part written batch by batch (compaction, rows rewritten around
/// replaced sources), under its temporary name: rows are gathered into
/// sorted row groups of about [`ROW_GROUP`] rows, so memory stays one row
/// group whatever the part's size. Nothing is created until rows come.
pub struct PartWriter {
    store: PathBuf,
    path: String,
    day: Option<NaiveDate>,
    part: Option<OpenPart>,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    written: u64,
}

impl PartWriter {
    pub fn new(store: &Path, path: String, day: Option<NaiveDate>) -> PartWriter {
        PartWriter {
            store: store.to_path_buf(),
            path,
            day,
            part: None,
            pending: Vec::new(),
            pending_rows: 0,
            written: 0,
        }
    }

    /// Rows pushed so far.
    pub fn rows(&self) -> u64 {
        self.written + self.pending_rows as u64
    }

    pub fn push(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let batch = conform(&batch)?;
        self.pending_rows += batch.num_rows();
        self.pending.push(batch);
        if self.pending_rows >= ROW_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = arrow_select::concat::concat_batches(&schema::schema(), &self.pending)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.pending.clear();
        self.pending_rows = 0;
        let part = match &mut self.part {
            Some(p) => p,
            None => self
                .part
                .insert(OpenPart::create(&self.store, self.path.clone())?),
        };
        part.append(&sort(&batch), batch_sources(&batch).into_iter())?;
        self.written += batch.num_rows() as u64;
        Ok(())
    }

    /// Closes the part (synced); `None` if no row came.
    pub fn finish(mut self) -> Result<Option<PartEntry>> {
        self.flush()?;
        self.part
            .take()
            .map(|p| p.close(self.day, None))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Rows;
    use chrono::TimeZone;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::file::serialized_reader::ReadOptionsBuilder;

    fn record(feature: &str, model: &str, second: u32) -> CallRecord<'static> {
        CallRecord {
            timestamp: Some(
                chrono::Utc
                    .with_ymd_and_hms(2026, 10, 1, 12, 0, second)
                    .unwrap(),
            ),
            model: model.to_string().into(),
            feature: Some(feature.to_string().into()),
            prompt_fp: Some(0x9e37_79b9_7f4a_7c15 ^ second as u64),
            ..Default::default()
        }
    }

    /// A part's rows come out sorted by feature, model, time, with
    /// statistics and a page index on exactly those columns, a dictionary on the label columns and tags only,
    /// `ts` and `line` delta-encoded and the fingerprints uncompressed.
    /// Rows read back from a part of schema 1 (its signature column was
    /// `minhash`, of another scheme) are written by name: the signatures
    /// are dropped, not taken for `minhash_oph` by their position.
    #[test]
    fn rows_of_an_earlier_schema_are_written_by_name() {
        let mut rows = RowsBuilder::default();
        rows.push(
            &record("chat", "gpt-4o", 1),
            &Extra {
                model_id: None,
                cost: None,
                minhash: Some([7; tokenaudit_core::MINHASH_LEN]),
                source: "/logs/a.jsonl",
                line: 1,
                prompts: false,
            },
        );
        let batch = rows.finish();
        let fields: Vec<arrow_schema::Field> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| {
                if f.name() == col::MINHASH {
                    f.as_ref().clone().with_name("minhash")
                } else {
                    f.as_ref().clone()
                }
            })
            .collect();
        let old = RecordBatch::try_new(
            std::sync::Arc::new(arrow_schema::Schema::new(fields)),
            batch.columns().to_vec(),
        )
        .unwrap();
        assert_eq!(old.column_by_name("minhash").unwrap().null_count(), 0);
        let now = conform(&old).unwrap();
        assert_eq!(now.schema(), schema::schema());
        assert_eq!(now.column_by_name(col::MINHASH).unwrap().null_count(), 1);
        assert_eq!(
            now.column_by_name(col::FEATURE),
            batch.column_by_name(col::FEATURE)
        );
        // The current schema's rows are as they were.
        assert_eq!(conform(&batch).unwrap(), batch);
    }

    #[test]
    fn parts_are_sorted_and_encoded_as_documented() {
        let dir = tempfile::tempdir().unwrap();
        let mut rows = RowsBuilder::default();
        let calls = [
            ("search", "gpt-4o", 5),
            ("chat", "gpt-4o-mini", 3),
            ("chat", "gpt-4o", 9),
            ("search", "gpt-4o", 1),
            ("chat", "gpt-4o", 2),
        ];
        for (line, (feature, model, second)) in calls.into_iter().enumerate() {
            rows.push(
                &record(feature, model, second),
                &Extra {
                    model_id: None,
                    cost: None,
                    minhash: None,
                    source: "/logs/a.jsonl",
                    line: line as u64 + 1,
                    prompts: false,
                },
            );
        }
        let mut w = PartWriter::new(
            dir.path(),
            "calls/day=2026-10-01/part-t.parquet".into(),
            None,
        );
        w.push(rows.finish()).unwrap();
        let entry = w.finish().unwrap().expect("rows were written");
        assert_eq!(entry.rows, 5);
        assert_eq!(entry.sources, ["/logs/a.jsonl"]);
        let file = File::open(layout::temp_path(dir.path(), &entry.path)).unwrap();

        let batch = parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
            file.try_clone().unwrap(),
            1024,
        )
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
        let read = Rows::new(&batch);
        let order: Vec<(String, String, u64)> = (0..5)
            .map(|i| {
                let r = read.record(i);
                (
                    r.feature.unwrap().to_string(),
                    r.model.to_string(),
                    read.line(i),
                )
            })
            .collect();
        let expect = [
            ("chat", "gpt-4o", 5),
            ("chat", "gpt-4o", 3),
            ("chat", "gpt-4o-mini", 2),
            ("search", "gpt-4o", 4),
            ("search", "gpt-4o", 1),
        ];
        let expect: Vec<(String, String, u64)> = expect
            .iter()
            .map(|(f, m, l)| (f.to_string(), m.to_string(), *l))
            .collect();
        assert_eq!(order, expect);

        let options = ReadOptionsBuilder::new().with_page_index().build();
        let reader = SerializedFileReader::new_with_options(file, options).unwrap();
        let meta = reader.metadata();
        let group = meta.row_group(0);
        let index = meta.column_index().expect("a page index")[0].clone();
        for (i, c) in group.columns().iter().enumerate() {
            let name = c.column_path().string();
            let pruned = PRUNED_ON.contains(&name.as_str());
            assert_eq!(c.statistics().is_some(), pruned, "statistics on {name}");
            assert_eq!(
                !matches!(
                    index[i],
                    parquet::file::page_index::column_index::ColumnIndexMetaData::NONE
                ),
                pruned,
                "page index on {name}"
            );
            let dictionary = DICTIONARY.contains(&name.as_str()) || name.starts_with("tags.");
            assert_eq!(
                c.encodings().any(|e| e == Encoding::RLE_DICTIONARY),
                dictionary,
                "dictionary on {name}"
            );
            let delta = c.encodings().any(|e| e == Encoding::DELTA_BINARY_PACKED);
            assert_eq!(delta, DELTA.contains(&name.as_str()), "delta on {name}");
            let raw = c.compression() == Compression::UNCOMPRESSED;
            assert_eq!(
                raw,
                UNCOMPRESSED.contains(&name.as_str()),
                "compression of {name}"
            );
        }
    }
}
