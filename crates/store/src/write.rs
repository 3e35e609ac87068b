//! Writing parts: a [`PartSink`] per ingest worker prices each record as the
//! audit does, buffers it in Arrow builders per day, and writes a day's
//! buffered rows as one row group of that day's open Parquet part (under a
//! temporary name), which it closes at [`ROWS_PER_PART`] rows or at the end.
//! Rows are sorted by feature, model and time within a row group, so
//! row-group statistics prune well; memory is bounded by [`MAX_BUFFERED`]
//! rows per worker, whatever the part size.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use arrow_array::{Array, RecordBatch, StringArray, TimestampNanosecondArray, UInt32Array};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use tokenaudit_core::pricing::{Catalog, ModelId};
use tokenaudit_core::{CallRecord, CallStatus};
use tokenaudit_ingest::{Location, RecordSink};

use crate::commit::{PartEntry, SCHEMA_VERSION};
use crate::error::{Result, StoreError};
use crate::layout;
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
        }
    }

    /// A fresh part name for `day`.
    pub fn next_part(&self, day: Option<NaiveDate>) -> String {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        layout::part_path(day, &self.ingest, seq)
    }
}

/// A model's resolution, looked up once per (provider, model) a worker sees.
#[derive(Clone)]
struct Resolved {
    id: Option<ModelId>,
    name: Option<Arc<str>>,
}

/// One worker's writer (a [`RecordSink`]).
pub struct PartSink<'s, 'a> {
    shared: &'s Shared<'a>,
    days: HashMap<Option<NaiveDate>, RowsBuilder>,
    buffered: usize,
    /// Each day's part being written.
    open: HashMap<Option<NaiveDate>, OpenPart>,
    /// By `provider \0 model`.
    resolved: HashMap<Box<str>, Resolved>,
    key: String,
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
            days: HashMap::new(),
            buffered: 0,
            open: HashMap::new(),
            resolved: HashMap::new(),
            key: String::new(),
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

    /// Writes the buffered rows of `day` as a row group of its open part.
    fn flush(&mut self, day: Option<NaiveDate>) {
        let Some(mut rows) = self.days.remove(&day) else {
            return;
        };
        if rows.is_empty() {
            return;
        }
        self.buffered -= rows.len();
        let batch = sort(&rows.finish());
        if self.error.is_some() {
            return;
        }
        if !self.open.contains_key(&day) && self.open.len() >= MAX_OPEN {
            let fullest = self
                .open
                .iter()
                .max_by_key(|(d, p)| (p.rows, std::cmp::Reverse(**d)))
                .map(|(d, _)| *d);
            if let Some(d) = fullest {
                self.close(d);
            }
        }
        let part = match self.open.entry(day) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let path = self.shared.next_part(day);
                match OpenPart::create(&self.shared.store, path) {
                    Ok(p) => e.insert(p),
                    Err(err) => {
                        self.error = Some(err);
                        return;
                    }
                }
            }
        };
        if let Err(err) = part.append(&batch) {
            self.error = Some(err);
            return;
        }
        if part.rows >= ROWS_PER_PART as u64 {
            self.close(day);
        }
    }

    /// Closes `day`'s open part.
    fn close(&mut self, day: Option<NaiveDate>) {
        let Some(part) = self.open.remove(&day) else {
            return;
        };
        match part.close(day) {
            Ok(entry) => self.parts.push(entry),
            Err(e) => self.error = self.error.take().or(Some(e)),
        }
    }

    /// Writes every day still buffered and closes every part, in day order;
    /// after a failure, deletes the parts still open instead.
    pub fn finish(&mut self) {
        let mut days: Vec<Option<NaiveDate>> = self.days.keys().copied().collect();
        days.extend(self.open.keys().copied());
        days.sort();
        days.dedup();
        for d in days {
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
                .price(id, day, &r.usage, r.is_batch())
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
        let source = self.shared.keys.get(at.source).map_or("", String::as_str);
        let rows = self.days.entry(day).or_default();
        rows.push(
            r,
            &Extra {
                model_id: resolved.name.as_deref(),
                cost,
                minhash,
                source,
                line: at.line,
                prompts: self.shared.prompts,
            },
        );
        self.buffered += 1;
        if rows.len() >= ROW_GROUP {
            self.flush(day);
        } else if self.buffered >= MAX_BUFFERED {
            let largest = self
                .days
                .iter()
                .max_by_key(|(d, rows)| (rows.len(), std::cmp::Reverse(**d)))
                .map(|(d, _)| *d);
            if let Some(d) = largest {
                self.flush(d);
            }
        }
    }
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
    let mut keys: Vec<(u32, u32, Option<i64>, u32)> = (0..n)
        .map(|i| {
            let t = (!ts.is_null(i)).then(|| ts.value(i));
            (feature[i], model[i], t, i as u32)
        })
        .collect();
    keys.sort_unstable();
    let order: Vec<u32> = keys.into_iter().map(|k| k.3).collect();
    if order.windows(2).all(|w| w[0] < w[1]) {
        return batch.clone();
    }
    let indices = UInt32Array::from(order);
    arrow_select::take::take_record_batch(batch, &indices).expect("indices are in range")
}

/// Columns with a value per call, or nearly (ids, times, fingerprints,
/// exact costs, line numbers): a dictionary only costs the interning, and
/// the writer gives up on it at its page size anyway.
const NO_DICTIONARY: [&str; 13] = [
    col::TS,
    col::REQUEST_ID,
    col::RETRY_OF,
    col::LATENCY,
    col::TTFT,
    col::PROMPT_FP,
    col::MINHASH,
    col::LOGGED_COST,
    col::COST,
    col::LINE,
    col::PROMPT_TEXT,
    col::PROMPT_RAW,
    col::SYSTEM_RAW,
];

/// The columns rows are sorted by, the ones readers prune row groups and
/// pages on: the only ones with page statistics (and a page index).
const PRUNED_ON: [&str; 3] = [col::FEATURE, col::MODEL, col::TS];

/// Columns no one selects rows by (ids, fingerprints, exact costs, where a
/// row was read): no statistics at all, whose minimum and maximum cost a
/// comparison per value (a long path's, for `source`).
const NO_STATISTICS: [&str; 12] = [
    col::REQUEST_ID,
    col::RETRY_OF,
    col::PROMPT_FP,
    col::PREFIX_FP,
    col::MINHASH,
    col::LOGGED_COST,
    col::COST,
    col::SOURCE,
    col::LINE,
    col::PROMPT_TEXT,
    col::PROMPT_RAW,
    col::SYSTEM_RAW,
];

/// Each of `n` rows' value's rank among the distinct values (`None`
/// first, then in string order).
fn ranks<'a>(n: usize, value: impl Fn(usize) -> Option<&'a str>) -> Vec<u32> {
    let mut first_seen: HashMap<Option<&str>, u32> = HashMap::new();
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

/// The writer settings of every part: zstd at level 1 (as small as level
/// 3 on call logs, within 1%, for a third less compression work), row
/// groups of [`ROW_GROUP`]
/// rows, the schema version in the file's metadata; statistics per row
/// group (per page on [`PRUNED_ON`]), no dictionary on [`NO_DICTIONARY`].
pub fn properties() -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("a valid zstd level"),
        ))
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "tokenaudit.store.schema_version".to_string(),
            SCHEMA_VERSION.to_string(),
        )]));
    for c in PRUNED_ON {
        b = b.set_column_statistics_enabled(ColumnPath::from(c), EnabledStatistics::Page);
    }
    for c in NO_STATISTICS {
        b = b.set_column_statistics_enabled(ColumnPath::from(c), EnabledStatistics::None);
    }
    for c in NO_DICTIONARY {
        b = b.set_column_dictionary_enabled(ColumnPath::from(c), false);
    }
    b.build()
}

/// A part being written, under its temporary name, one row group at a
/// time.
struct OpenPart {
    path: String,
    tmp: PathBuf,
    writer: ArrowWriter<File>,
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
    /// nothing of it buffered).
    fn append(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer
            .write(batch)
            .map_err(StoreError::parquet(&self.tmp))?;
        self.writer
            .flush()
            .map_err(StoreError::parquet(&self.tmp))?;
        self.rows += batch.num_rows() as u64;
        if let Some(a) = batch
            .column_by_name(col::SOURCE)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        {
            for key in a.iter().flatten() {
                if !self.sources.contains(key) {
                    self.sources.insert(key.to_string());
                }
            }
        }
        Ok(())
    }

    /// Finishes the file and syncs it.
    fn close(self, day: Option<NaiveDate>) -> Result<PartEntry> {
        let tmp = self.tmp;
        let file = self
            .writer
            .into_inner()
            .map_err(StoreError::parquet(&tmp))?;
        file.sync_all().map_err(StoreError::io(&tmp))?;
        let bytes = file.metadata().map_err(StoreError::io(&tmp))?.len();
        Ok(PartEntry {
            path: self.path,
            day: day.map(|d| d.format("%Y-%m-%d").to_string()),
            rows: self.rows,
            bytes,
            sources: self.sources.into_iter().collect(),
        })
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
        part.append(&sort(&batch))?;
        self.written += batch.num_rows() as u64;
        Ok(())
    }

    /// Closes the part (synced); `None` if no row came.
    pub fn finish(mut self) -> Result<Option<PartEntry>> {
        self.flush()?;
        self.part.take().map(|p| p.close(self.day)).transpose()
    }
}
