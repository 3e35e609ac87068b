//! Reading the store back: the live parts of the days a command asks for,
//! row group by row group on every core, each row a [`CallRecord`] handed to
//! a sink exactly as the ingest pipeline hands records read from logs. The
//! [`IngestSummary`] it returns is the one the original ingests gave (files,
//! line counts, rejects with their lines), so a report from the store says
//! what a report from the logs says.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, TimestampNanosecondType};
use arrow_array::Array;
use arrow_schema::{DataType, FieldRef, Schema, SchemaRef};
use chrono::NaiveDate;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;

use tokenaudit_ingest::pipeline::SourceSummary;
use tokenaudit_ingest::{IngestSummary, Location, RecordSink, RejectReason, RejectSample, Rejects};

use crate::commit::{PartEntry, SourceEntry, State};
use crate::error::{Result, StoreError};
use crate::layout::Dataset;
use crate::schema::{self, Rows, PROMPT_COLUMNS};

/// What to read.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// Only days in this range, inclusive (`None`: every day, and the calls
    /// without a timestamp).
    pub days: Option<(NaiveDate, NaiveDate)>,
    /// Read the prompt text columns too (`--include-prompts`).
    pub prompts: bool,
    /// Worker threads (0: all cores).
    pub threads: usize,
}

impl Query {
    fn wants(&self, part: &PartEntry) -> bool {
        let Some((from, to)) = self.days else {
            return true;
        };
        match part
            .day
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            Some(d) => from <= d && d <= to,
            None => false,
        }
    }
}

/// The store's sources in the order reports list them (by name, as a
/// directory walk sorts paths), each with its index.
pub fn ordered_sources(state: &State) -> Vec<&SourceEntry> {
    let mut v: Vec<&SourceEntry> = state.sources.values().filter(|s| !s.pruned).collect();
    v.sort_by(|a, b| source_order(a, b));
    v
}

/// The order of [`ordered_sources`]: a total order of the sources
/// themselves, so any subset of them is numbered in the same order.
pub fn source_order(a: &SourceEntry, b: &SourceEntry) -> std::cmp::Ordering {
    std::path::Path::new(&a.name)
        .cmp(std::path::Path::new(&b.name))
        .then_with(|| a.key.cmp(&b.key))
}

/// The summary the ingests of these sources gave.
pub fn summary(state: &State, sources: &[&SourceEntry]) -> IngestSummary {
    let mut rejects = Rejects::default();
    let mut out = Vec::with_capacity(sources.len());
    for (i, s) in sources.iter().enumerate() {
        for (code, n) in &s.rejects.counts {
            if let Some(reason) = RejectReason::from_code(code) {
                rejects.add_count(i, reason, *n);
            }
        }
        for (line, code, detail) in &s.rejects.samples {
            if let Some(reason) = RejectReason::from_code(code) {
                rejects.add_sample(
                    i,
                    RejectSample {
                        file: s.name.clone(),
                        line: *line,
                        reason,
                        detail: detail.clone(),
                    },
                );
            }
        }
        out.push(SourceSummary {
            name: s.name.clone(),
            encoding: s.encoding.clone(),
            format: s.format.clone(),
            lines: s.lines,
            records: s.records,
            rejected: s.rejected,
            skipped: s.skipped,
            next_line: 0,
            // As the ingest saw it, so the store's audit marks two files
            // with the same text as the logs' audit does.
            content: s.content.as_deref().and_then(crate::plan::parse_content),
            whole: None,
            resumed_bytes: None,
        });
    }
    for (code, n) in &state.unsourced_skips {
        if let Some(reason) = RejectReason::from_code(code) {
            rejects.skip(reason, *n);
        }
    }
    IngestSummary {
        lines: out.iter().map(|s| s.lines).sum(),
        records: out.iter().map(|s| s.records).sum(),
        sources: out,
        rejects,
        ..Default::default()
    }
}

/// The live parts `query` reads, and the summary of the read: the one the
/// ingests gave, with the rows of the days left out counted in
/// `outside_window`, as the audit of the logs counts calls outside its
/// window.
pub fn plan<'s>(state: &'s State, query: &Query) -> (Vec<&'s PartEntry>, IngestSummary) {
    let mut summary = summary(state, &ordered_sources(state));
    let (wanted, left): (Vec<&PartEntry>, Vec<&PartEntry>) =
        state.parts.values().partition(|p| query.wants(p));
    // Of them, the parts of calls without a time (no day to place them).
    summary.untimed_outside_window = left
        .iter()
        .filter(|p| p.holds_calls() && p.day.is_none())
        .map(|p| p.rows)
        .sum();
    // And the rows a prune dropped from the sources it left in the store.
    summary.outside_window = left
        .iter()
        .filter(|p| p.holds_calls())
        .map(|p| p.rows)
        .sum::<u64>()
        + state
            .sources
            .values()
            .filter(|s| !s.pruned)
            .map(|s| s.pruned_rows)
            .sum::<u64>();
    (wanted, summary)
}

/// For each source with the same text as an earlier one (the ones an
/// audit says are counted twice), its rows among `parts` whose time
/// `counts` (its window or the period before it; `None` for a row without
/// one), read from the parts' `source` and `ts` columns alone; the other
/// sources' counts are their `records`. A day's cached state cannot say
/// which file its calls came from, nor a part of several files how many
/// are each one's (hunt109: a copy named "counted twice" by a window
/// starting inside its last day). `None` without such a source.
pub fn counted_by_source(
    root: &std::path::Path,
    state: &State,
    parts: &[&PartEntry],
    summary: &IngestSummary,
    counts: impl Fn(Option<i64>) -> bool,
) -> Result<Option<Vec<u64>>> {
    let copies: Vec<usize> = summary
        .same_content()
        .iter()
        .enumerate()
        .filter_map(|(i, same)| same.map(|_| i))
        .collect();
    if copies.is_empty() {
        return Ok(None);
    }
    let sources = ordered_sources(state);
    let mut counted: Vec<u64> = sources.iter().map(|s| s.records).collect();
    let keys: HashMap<&str, usize> = copies
        .iter()
        .map(|&i| (sources[i].key.as_str(), i))
        .collect();
    for &i in &copies {
        counted[i] = 0;
    }
    for part in parts {
        if !part.holds_calls() || !part.sources.iter().any(|k| keys.contains_key(k.as_str())) {
            continue;
        }
        let path = root.join(&part.path);
        let file = crate::layout::open_file(&path).map_err(StoreError::io(&path))?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(StoreError::parquet(&path))?;
        let wanted: Vec<usize> = builder
            .schema()
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name() == schema::col::SOURCE || f.name() == schema::col::TS)
            .map(|(i, _)| i)
            .collect();
        let mask = ProjectionMask::roots(builder.parquet_schema(), wanted);
        let reader = builder
            .with_projection(mask)
            .build()
            .map_err(StoreError::parquet(&path))?;
        for batch in reader {
            let batch = batch.map_err(StoreError::message(&path))?;
            let (Some(source), ts) = (
                batch.column_by_name(schema::col::SOURCE),
                batch.column_by_name(schema::col::TS),
            ) else {
                continue;
            };
            let ts = ts.and_then(|t| t.as_primitive_opt::<TimestampNanosecondType>());
            // Each row's copy (its index), if it is one's.
            let copy_of: Vec<Option<usize>> = if let Some(plain) = source.as_string_opt::<i32>() {
                (0..batch.num_rows())
                    .map(|row| {
                        plain
                            .is_valid(row)
                            .then(|| keys.get(plain.value(row)).copied())
                            .flatten()
                    })
                    .collect()
            } else if let Some(dict) = source.as_dictionary_opt::<Int32Type>() {
                let values = dict.values().as_string::<i32>();
                let of_value: Vec<Option<usize>> = (0..values.len())
                    .map(|v| keys.get(values.value(v)).copied())
                    .collect();
                let codes = dict.keys();
                (0..batch.num_rows())
                    .map(|row| {
                        codes
                            .is_valid(row)
                            .then(|| of_value.get(codes.value(row) as usize).copied().flatten())
                            .flatten()
                    })
                    .collect()
            } else {
                return Err(StoreError::Invalid(format!(
                    "{}: its source column is no text",
                    path.display()
                )));
            };
            for (row, copy) in copy_of.into_iter().enumerate() {
                let Some(i) = copy else { continue };
                let t = ts.filter(|t| t.is_valid(row)).map(|t| t.value(row));
                if counts(t) {
                    counted[i] += 1;
                }
            }
        }
    }
    Ok(Some(counted))
}

/// The columns an audit reads, in schema order: every one but the stored
/// cost and resolution (the audit prices again, so `--prices` applies) and,
/// unless asked for, the prompt text.
pub fn columns(prompts: bool) -> Vec<String> {
    schema::schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| {
            n != schema::col::COST
                && n != schema::col::MODEL_ID
                && (prompts || !PROMPT_COLUMNS.contains(&n.as_str()))
        })
        .collect()
}

/// `schema` with its label columns of text ([`crate::write::DICTIONARY`])
/// as dictionaries.
fn with_dictionaries(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<FieldRef> = schema
        .fields()
        .iter()
        .map(|f| {
            if crate::write::DICTIONARY.contains(&f.name().as_str())
                && *f.data_type() == DataType::Utf8
            {
                let keyed =
                    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
                Arc::new(f.as_ref().clone().with_data_type(keyed))
            } else {
                f.clone()
            }
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Hands each row of `batch` to `sink` as a record read at its source (found
/// by `index`, from the row's file key) and line: as a call, or as a cache
/// hit for a part of `cache_hits/`.
pub fn feed<S: RecordSink>(
    batch: &arrow_array::RecordBatch,
    dataset: Dataset,
    index: impl Fn(&str) -> Option<usize>,
    sink: &mut S,
) -> std::result::Result<(), String> {
    let rows = Rows::new(batch);
    // Rows of a source come in runs: compare with the last key before
    // hashing it.
    let mut last: (&str, usize) = ("", usize::MAX);
    for i in 0..rows.len() {
        let key = rows.source(i);
        let source = if key == last.0 {
            last.1
        } else {
            let s = index(key).unwrap_or(usize::MAX);
            last = (key, s);
            s
        };
        if source == usize::MAX {
            return Err(format!(
                "a row names source {key:?}, which no commit lists; run `tokenaudit store check`"
            ));
        }
        let record = rows.record(i);
        let at = Location {
            source,
            line: rows.line(i),
        };
        match dataset {
            Dataset::Calls => sink.record(&record, at),
            Dataset::CacheHits => sink.cache_hit(&record, at),
        }
    }
    // No unit ends here: a part holds whichever chunks of its sources the
    // ingest's workers took, so the store's unit is the day (settled when
    // the day's state is encoded), not a batch.
    Ok(())
}

/// One unit of reading: a row group of a part.
struct Unit<'p> {
    part: &'p PartEntry,
    row_group: usize,
}

/// Reads the rows `query` selects into sinks made by `make_sink` (one per
/// worker). Rows of days the query leaves out are counted in the summary's
/// `outside_window`, as the audit of the logs counts calls outside its
/// window, but not read.
pub fn scan<S, F>(
    root: &std::path::Path,
    state: &State,
    query: &Query,
    make_sink: F,
) -> Result<(Vec<S>, IngestSummary)>
where
    S: RecordSink,
    F: Fn() -> S + Sync,
{
    let sources = ordered_sources(state);
    let index: HashMap<&str, usize> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.key.as_str(), i))
        .collect();
    let (wanted, summary) = plan(state, query);
    let sinks = read_parts(root, &wanted, query, &index, make_sink)?;
    Ok((sinks, summary))
}

/// Reads the rows of `parts` into sinks made by `make_sink` (one per worker,
/// `query.threads` of them), row group by row group; a row's source is
/// numbered by `index` (from its key).
pub fn read_parts<S, F>(
    root: &std::path::Path,
    parts: &[&PartEntry],
    query: &Query,
    index: &HashMap<&str, usize>,
    make_sink: F,
) -> Result<Vec<S>>
where
    S: RecordSink,
    F: Fn() -> S + Sync,
{
    // Plan the units: each part's row groups (from its footer).
    let mut units = Vec::new();
    for part in parts {
        let path = root.join(&part.path);
        let file = crate::layout::open_file(&path).map_err(StoreError::io(&path))?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(StoreError::parquet(&path))?;
        for row_group in 0..builder.metadata().num_row_groups() {
            units.push(Unit { part, row_group });
        }
    }
    let threads = tokenaudit_ingest::pipeline::threads::worker_threads(query.threads);
    let next = AtomicUsize::new(0);
    let failure: Mutex<Option<StoreError>> = Mutex::new(None);
    let sinks: Vec<S> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads.min(units.len()).max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut sink = make_sink();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(unit) = units.get(i) else { break };
                        if let Err(e) = read_unit(root, unit, query, index, &mut sink) {
                            failure
                                .lock()
                                .expect("no panic holding it")
                                .get_or_insert(e);
                            next.store(units.len(), Ordering::Relaxed);
                        }
                    }
                    sink
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a reader thread does not panic"))
            .collect()
    });
    if let Some(e) = failure.into_inner().expect("no panic holding it") {
        return Err(e);
    }
    Ok(sinks)
}

fn read_unit<S: RecordSink>(
    root: &std::path::Path,
    unit: &Unit<'_>,
    query: &Query,
    index: &HashMap<&str, usize>,
    sink: &mut S,
) -> Result<()> {
    let path = root.join(&unit.part.path);
    let file = crate::layout::open_file(&path).map_err(StoreError::io(&path))?;
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(StoreError::parquet(&path))?;
    // The label columns read with their dictionaries (see
    // [`crate::write::DICTIONARY`]): each row a key into values decoded
    // once, not its text copied out.
    let hint = ArrowReaderOptions::new().with_schema(with_dictionaries(meta.schema()));
    let meta = ArrowReaderMetadata::try_new(meta.metadata().clone(), hint)
        .map_err(StoreError::parquet(&path))?;
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta);
    let names = columns(query.prompts);
    // By name in the part's own schema (a part of another schema version
    // has its columns elsewhere; one it lacks reads as null).
    let wanted: Vec<usize> = builder
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| names.contains(f.name()))
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), wanted);
    let reader = builder
        .with_projection(mask)
        .with_row_groups(vec![unit.row_group])
        .with_batch_size(8192)
        .build()
        .map_err(StoreError::parquet(&path))?;
    let dataset = unit.part.dataset();
    for batch in reader {
        let batch = batch.map_err(StoreError::message(&path))?;
        feed(&batch, dataset, |key| index.get(key).copied(), sink)
            .map_err(|m| StoreError::Invalid(format!("{}: {m}", path.display())))?;
    }
    Ok(())
}
