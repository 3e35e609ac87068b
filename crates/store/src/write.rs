//! Writing parts: a [`PartSink`] per ingest worker prices each record as the
//! audit does, buffers it in Arrow builders per day, and writes a day's rows
//! as a Parquet part (under a temporary name) once there are enough of them,
//! or at the end. Rows are sorted by feature, model and time within a part,
//! so row-group statistics prune well; memory is bounded by
//! [`MAX_BUFFERED`] rows per worker.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use arrow_array::{Array, RecordBatch, StringArray, TimestampNanosecondArray, UInt32Array};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use tokenaudit_core::pricing::{Catalog, ModelId};
use tokenaudit_core::{CallRecord, CallStatus};
use tokenaudit_ingest::{Location, RecordSink};

use crate::commit::{PartEntry, SCHEMA_VERSION};
use crate::error::{Result, StoreError};
use crate::layout;
use crate::schema::{self, col, Extra, RowsBuilder};

/// Rows of one day a worker writes as one part. With [`MAX_BUFFERED`],
/// this sets an ingest's memory: at 64k/96k rows a 10 GB ingest peaked at
/// 260 MB, at 16k/24k at 117 MB (`benches/rss_over_time.sh`); the more,
/// smaller parts cost the store's audit nothing measurable, and `store
/// compact` merges them.
pub const ROWS_PER_PART: usize = 16 * 1024;
/// Rows a worker holds across all days before it writes the largest day.
pub const MAX_BUFFERED: usize = 24 * 1024;
/// Rows per row group.
pub const ROW_GROUP: usize = 16 * 1024;

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
    /// By `provider \0 model`.
    resolved: HashMap<Box<str>, Resolved>,
    key: String,
    /// The parts written, under their temporary names.
    pub parts: Vec<PartEntry>,
    /// The first failure (a full disk): the ingest reports it and commits
    /// nothing.
    pub error: Option<StoreError>,
}

impl<'s, 'a> PartSink<'s, 'a> {
    pub fn new(shared: &'s Shared<'a>) -> Self {
        PartSink {
            shared,
            days: HashMap::new(),
            buffered: 0,
            resolved: HashMap::new(),
            key: String::new(),
            parts: Vec::new(),
            error: None,
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

    /// Writes the buffered rows of `day` as a part.
    fn flush(&mut self, day: Option<NaiveDate>) {
        let Some(mut rows) = self.days.remove(&day) else {
            return;
        };
        if rows.is_empty() {
            return;
        }
        self.buffered -= rows.len();
        let batch = rows.finish();
        if self.error.is_some() {
            return;
        }
        let path = self.shared.next_part(day);
        match write_part(&self.shared.store, &path, day, &batch) {
            Ok(entry) => self.parts.push(entry),
            Err(e) => self.error = Some(e),
        }
    }

    /// Writes every day still buffered, in day order.
    pub fn finish(&mut self) {
        let mut days: Vec<Option<NaiveDate>> = self.days.keys().copied().collect();
        days.sort();
        for d in days {
            self.flush(d);
        }
    }
}

impl RecordSink for PartSink<'_, '_> {
    fn record(&mut self, r: &CallRecord<'_>, at: Location) {
        if self.error.is_some() {
            return;
        }
        let day = r.timestamp.map(|t| t.date_naive());
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
        if rows.len() >= ROWS_PER_PART {
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
    let key = |i: usize| {
        (
            (!feature.is_null(i)).then(|| feature.value(i)),
            model.value(i),
            (!ts.is_null(i)).then(|| ts.value(i)),
        )
    };
    let mut order: Vec<u32> = (0..batch.num_rows() as u32).collect();
    order.sort_by(|&a, &b| key(a as usize).cmp(&key(b as usize)));
    if order.windows(2).all(|w| w[0] < w[1]) {
        return batch.clone();
    }
    let indices = UInt32Array::from(order);
    arrow_select::take::take_record_batch(batch, &indices).expect("indices are in range")
}

/// The writer settings of every part: zstd, row groups of [`ROW_GROUP`]
/// rows, the schema version in the file's metadata.
pub fn properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("a valid zstd level"),
        ))
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "tokenaudit.store.schema_version".to_string(),
            SCHEMA_VERSION.to_string(),
        )]))
        .build()
}

/// Writes `batch` (sorted) as part `path` under its temporary name, synced.
pub fn write_part(
    store: &std::path::Path,
    path: &str,
    day: Option<NaiveDate>,
    batch: &RecordBatch,
) -> Result<PartEntry> {
    let batch = sort(batch);
    let tmp = layout::temp_path(store, path);
    if let Some(dir) = tmp.parent() {
        std::fs::create_dir_all(dir).map_err(StoreError::io(dir))?;
    }
    let file = std::fs::File::create(&tmp).map_err(StoreError::io(&tmp))?;
    let mut writer = ArrowWriter::try_new(file, schema::schema(), Some(properties()))
        .map_err(StoreError::parquet(&tmp))?;
    writer.write(&batch).map_err(StoreError::parquet(&tmp))?;
    let file = writer.into_inner().map_err(StoreError::parquet(&tmp))?;
    file.sync_all().map_err(StoreError::io(&tmp))?;
    let bytes = file.metadata().map_err(StoreError::io(&tmp))?.len();
    let sources = batch
        .column_by_name(col::SOURCE)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .map(|a| {
            let keys: std::collections::BTreeSet<&str> = a.iter().flatten().collect();
            keys.into_iter().map(str::to_string).collect()
        })
        .unwrap_or_default();
    Ok(PartEntry {
        path: path.to_string(),
        day: day.map(|d| d.format("%Y-%m-%d").to_string()),
        rows: batch.num_rows() as u64,
        bytes,
        sources,
    })
}
