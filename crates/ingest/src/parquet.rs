//! Streaming Parquet reader: turns a Parquet file into batches of JSON objects, in bounded memory.
//!
//! # Why rows become `serde_json::Value`
//! The rest of the ingest crate maps one log row, given as a JSON object, onto the canonical call
//! record; JSONL lines are parsed into the same shape. So a Parquet row must come out exactly like
//! the equivalent JSON object: strings stay strings, integers stay exact (`u64`/`i64`), a struct
//! column becomes a nested object (so `usage.prompt_tokens` paths work), a list becomes an array,
//! and null values are *omitted* (a missing key and a null are the same to the mapper). Column
//! names containing dots stay literal keys. Full conversion table: see [`read_parquet`].
//!
//! # How memory stays bounded
//! We do not use `ParquetReader::finish` (it memory-maps the whole file and concatenates every
//! row group into one `DataFrame`), nor `ParquetReader::with_slice` per batch (it re-reads the
//! footer on every call and, depending on the parallel strategy, decodes every earlier row group
//! with an empty range). polars 0.55 has no batched Parquet reader in `polars-io` any more (the
//! streaming engine lives behind the heavy `lazy`/`new_streaming` features). Instead:
//!
//! 1. Check the `PAR1` magic bytes ourselves, so a non-Parquet or truncated file gets a precise
//!    error, then let polars parse the footer (`ParquetReader::get_metadata`/`schema`).
//! 2. Plan every column once from the Arrow schema: which JSON conversion it gets, which Arrow
//!    type to ask the decoder for, and whether it is skipped (binary) or unsupported (error
//!    *before* any data is decoded, naming the column).
//! 3. For each row group, `seek` + read only the byte ranges of the column chunks we need (skipped
//!    binary columns are never read), decode them with polars' own page decoder
//!    (`polars_io::parquet::read::_internal::to_deserializer`, the same function
//!    `ParquetReader` uses internally) into one `Series` per column.
//! 4. Slice that row group into windows of at most `batch_rows` rows and convert each window
//!    column-wise (each `Series` is downcast once per batch, no per-cell `AnyValue`) into JSON
//!    objects, then hand the batch to the callback, which may stop the read early.
//!
//! Peak memory is therefore one row group's compressed chunks + its decoded columns + one batch
//! of JSON objects, independent of the number of row groups in the file. (The footer metadata,
//! a few hundred bytes per column chunk, is the only thing that grows with the file.) A single
//! huge row group is decoded in one piece: Parquet pages cannot be decoded from the middle of a
//! column chunk through polars' public API, so the row group is the decoding unit; only the much
//! larger JSON form is bounded by `batch_rows`.
//!
//! # Types and polars features
//! The workspace builds polars with only `parquet`, `dtype-slim` and `dtype-struct`. Instead of
//! enabling more polars dtypes (each one recompiles all of polars), the planner asks the decoder
//! for a wider physical type where that is lossless: `Int8`/`Int16` are decoded as `Int32`,
//! `UInt8`/`UInt16` as `UInt32`, `Time32`/`Time64`/`Duration` as plain integers (the unit is kept
//! in the plan), dictionary-encoded (categorical) columns as their value type, extension types
//! as their storage type. What cannot be represented without more polars features (decimals,
//! which need `dtype-decimal`; 128-bit integers; intervals; unions) is rejected with
//! [`ParquetError::UnsupportedColumn`] before any data is read.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use polars::io::parquet::read::_internal::to_deserializer;
use polars::prelude::{
    ArrowDataType, ArrowField, ArrowTimeUnit, DataType, ParquetReader, SerReader, Series, TimeUnit,
};
use serde_json::{Map, Number, Value};

/// One batch of rows handed to the `on_batch` callback of [`read_parquet`].
#[derive(Debug, Clone, PartialEq)]
pub struct ParquetBatch {
    /// 0-based index, within the whole file, of the first row of this batch.
    pub first_row: u64,
    /// The rows, each a `Value::Object`, in file order.
    pub rows: Vec<Value>,
}

/// What [`read_parquet`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParquetStats {
    /// Rows handed to `on_batch` (all rows of the file unless the callback stopped early).
    pub rows: u64,
    /// Row groups decoded (all row groups of the file unless the callback stopped early).
    pub row_groups: usize,
    /// Top-level columns converted into JSON keys, in file order.
    pub columns: Vec<String>,
    /// Binary columns that were skipped, in file order. Top-level columns by name, fields
    /// nested inside a struct as a dotted path (`request.raw_body`).
    pub skipped_columns: Vec<String>,
}

/// Why a Parquet file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParquetError {
    /// The file is not Parquet at all (no `PAR1` magic bytes).
    #[error("{}: not a parquet file ({reason}); check the file extension or convert the log to parquet or jsonl", .path.display())]
    NotParquet { path: PathBuf, reason: String },

    /// The file starts like Parquet but its footer is missing or unreadable, e.g. a partial
    /// download or an export that was interrupted.
    #[error("{}: truncated or corrupt parquet footer ({reason}); the file was probably cut off while being written or copied, re-export or re-download it", .path.display())]
    CorruptFooter { path: PathBuf, reason: String },

    /// The footer is fine but the data of a column chunk could not be read or decoded.
    #[error("{}: corrupt parquet data in row group {row_group}, column '{column}' ({reason}); re-export the file", .path.display())]
    CorruptData {
        path: PathBuf,
        row_group: usize,
        column: String,
        reason: String,
    },

    /// A column has a type that cannot be turned into JSON. Detected before any data is read.
    #[error("{}: column '{column}' has unsupported parquet type {dtype}; cast it to a string or number when exporting, or drop the column", .path.display())]
    UnsupportedColumn {
        path: PathBuf,
        column: String,
        dtype: String,
    },

    /// The file could not be opened or read.
    #[error("{}: cannot read file ({source}); check that it exists and is readable", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Reads a Parquet file in bounded memory (one row group, or a slice of at most `batch_rows` rows, at a time)
/// and hands each batch of rows, converted to JSON objects, to `on_batch`. Stops early if on_batch returns false.
///
/// Batches never straddle row groups, so a batch may be shorter than `batch_rows`; a
/// `batch_rows` of 0 is treated as 1. Batches arrive in file order and `first_row` is the file
/// row index of the first row. Rows with every value null are still delivered, as `{}`.
///
/// Conversion (null values are omitted from objects, but kept as `null` inside arrays):
///
/// | Parquet / Arrow type                   | JSON                                            |
/// |----------------------------------------|-------------------------------------------------|
/// | string, categorical / dictionary       | string                                          |
/// | int8..int64, uint8..uint64             | number (exact)                                  |
/// | float, double                          | number; NaN and ±inf the strings `"NaN"`, `"inf"`, `"-inf"` |
/// | bool                                   | bool                                            |
/// | timestamp (any unit, with or without tz) | RFC 3339 UTC string, e.g. `2024-05-01T12:00:00.5Z` |
/// | date                                   | `"YYYY-MM-DD"`                                  |
/// | time of day                            | `"HH:MM:SS[.fraction]"`                         |
/// | duration                               | integer milliseconds (truncated toward zero)    |
/// | struct                                 | nested object                                   |
/// | list, fixed-size list, map             | array (a map is an array of `{key, value}`)     |
/// | binary, fixed-size binary              | skipped, listed in [`ParquetStats::skipped_columns`] |
/// | decimal, int128, interval              | [`ParquetError::UnsupportedColumn`]             |
///
/// Timestamps with a time zone are stored in Parquet as UTC instants, so they are rendered in
/// UTC without shifting; timestamps without a time zone are rendered as if they were UTC.
/// Timestamps and dates outside chrono's range become null.
pub fn read_parquet(
    path: &Path,
    batch_rows: usize,
    mut on_batch: impl FnMut(ParquetBatch) -> bool,
) -> Result<ParquetStats, ParquetError> {
    let batch_rows = batch_rows.max(1);
    let io_err = |source| ParquetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io_err)?;
    let file_len = file.metadata().map_err(io_err)?.len();
    check_magic(path, &mut file, file_len)?;

    let footer_err = |e: polars::prelude::PolarsError| ParquetError::CorruptFooter {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let (metadata, schema) = {
        let mut reader = ParquetReader::new(&mut file);
        let metadata = reader.get_metadata().map_err(footer_err)?.clone();
        let schema = reader.schema().map_err(footer_err)?;
        (metadata, schema)
    };

    // Plan every column before decoding anything, so unsupported types fail fast.
    let mut stats = ParquetStats::default();
    let mut columns: Vec<PlannedColumn> = Vec::new();
    for field in schema.iter_values() {
        let name = field.name.to_string();
        let planned = plan(&field.dtype, &name, &mut stats.skipped_columns).map_err(|dtype| {
            ParquetError::UnsupportedColumn {
                path: path.to_path_buf(),
                column: name.clone(),
                dtype,
            }
        })?;
        match planned {
            None => stats.skipped_columns.push(name),
            Some((target, plan)) => {
                stats.columns.push(name.clone());
                columns.push(PlannedColumn {
                    key: name,
                    field: ArrowField::new(field.name.clone(), target, field.is_nullable),
                    plan,
                });
            }
        }
    }

    let mut first_row: u64 = 0;
    for (rg_idx, rg) in metadata.row_groups.iter().enumerate() {
        let n_rows = rg.num_rows();
        stats.row_groups += 1;
        if n_rows == 0 {
            continue;
        }

        // Decode the row group, one Series per planned column.
        let mut decoded: Vec<(&PlannedColumn, Series)> = Vec::with_capacity(columns.len());
        for col in &columns {
            let data_err = |reason: String| ParquetError::CorruptData {
                path: path.to_path_buf(),
                row_group: rg_idx,
                column: col.key.clone(),
                reason,
            };
            let Some(chunks) = rg.columns_under_root_iter(col.field.name.as_str()) else {
                continue; // column absent from this row group: all null, i.e. omitted
            };
            let mut buffers = Vec::new();
            for chunk in chunks {
                let range = chunk.byte_range();
                if range.end > file_len || range.start > range.end {
                    return Err(data_err(format!(
                        "column chunk at bytes {}..{} lies outside the {file_len}-byte file",
                        range.start, range.end
                    )));
                }
                let mut bytes = Vec::with_capacity((range.end - range.start) as usize);
                file.seek(SeekFrom::Start(range.start))
                    .and_then(|_| {
                        (&mut file)
                            .take(range.end - range.start)
                            .read_to_end(&mut bytes)
                    })
                    .map_err(io_err)?;
                if bytes.len() as u64 != range.end - range.start {
                    return Err(data_err("file ended inside a column chunk".into()));
                }
                buffers.push((chunk, bytes.into()));
            }
            let field = col.field.clone();
            // polars' decoders may panic on malformed pages; turn that into an error.
            let arrays = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                to_deserializer(buffers, field, None).map(|(arrays, _)| arrays)
            }))
            .map_err(|_| data_err("the page decoder panicked on malformed data".into()))?
            .map_err(|e| data_err(e.to_string()))?;
            let column =
                Series::try_from((&col.field, arrays)).map_err(|e| data_err(e.to_string()))?;
            if column.len() != n_rows {
                return Err(data_err(format!(
                    "decoded {} values, the footer says {n_rows} rows",
                    column.len()
                )));
            }
            decoded.push((col, column));
        }

        // Hand it out in windows of at most batch_rows rows, converting column-wise.
        let mut offset = 0usize;
        while offset < n_rows {
            let len = batch_rows.min(n_rows - offset);
            let mut rows: Vec<Map<String, Value>> = (0..len).map(|_| Map::new()).collect();
            for (col, column) in &decoded {
                let values =
                    convert(&column.slice(offset as i64, len), &col.plan).map_err(|reason| {
                        ParquetError::CorruptData {
                            path: path.to_path_buf(),
                            row_group: rg_idx,
                            column: col.key.clone(),
                            reason,
                        }
                    })?;
                for (row, value) in rows.iter_mut().zip(values) {
                    if !value.is_null() {
                        row.insert(col.key.clone(), value);
                    }
                }
            }
            let batch = ParquetBatch {
                first_row: first_row + offset as u64,
                rows: rows.into_iter().map(Value::Object).collect(),
            };
            stats.rows += len as u64;
            offset += len;
            if !on_batch(batch) {
                return Ok(stats);
            }
        }
        first_row += n_rows as u64;
    }
    Ok(stats)
}

/// Distinguishes "not Parquet" from "Parquet, but cut off" using the 4-byte magic at both ends.
fn check_magic(path: &Path, file: &mut File, file_len: u64) -> Result<(), ParquetError> {
    const MAGIC: &[u8; 4] = b"PAR1";
    let not_parquet = |reason: String| ParquetError::NotParquet {
        path: path.to_path_buf(),
        reason,
    };
    let io_err = |source| ParquetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut head = [0u8; 4];
    let mut tail = [0u8; 4];
    if file_len >= 4 {
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_exact(&mut head))
            .map_err(io_err)?;
        file.seek(SeekFrom::End(-4))
            .and_then(|_| file.read_exact(&mut tail))
            .map_err(io_err)?;
    }
    if &head != MAGIC {
        return Err(not_parquet(if file_len < 4 {
            format!("the file is only {file_len} bytes")
        } else if &tail == b"PARE" {
            "it is an encrypted parquet file, which is not supported; export it unencrypted".into()
        } else {
            "it does not start with the PAR1 magic bytes".into()
        }));
    }
    if file_len < 12 {
        return Err(ParquetError::CorruptFooter {
            path: path.to_path_buf(),
            reason: format!("the file is only {file_len} bytes"),
        });
    }
    if &tail != MAGIC {
        return Err(ParquetError::CorruptFooter {
            path: path.to_path_buf(),
            reason: "the file does not end with the PAR1 magic bytes".into(),
        });
    }
    Ok(())
}

/// A top-level column we convert: its JSON key, the Arrow field we ask the decoder for, and how
/// to turn the decoded values into JSON.
struct PlannedColumn {
    key: String,
    field: ArrowField,
    plan: Plan,
}

/// How decoded values become JSON. Decided once per file from the Arrow schema.
#[derive(Debug, Clone)]
enum Plan {
    /// Arrow `Null` type: every value is null.
    Null,
    Bool,
    /// Signed integers, decoded as Int32 or Int64.
    Int,
    /// Unsigned integers, decoded as UInt32 or UInt64.
    UInt,
    Float,
    Str,
    /// Days since the epoch (polars `Date`).
    Date,
    /// polars `Datetime`, any unit; rendered as RFC 3339 UTC.
    Datetime,
    /// Integer duration in the given unit, rendered as integer milliseconds.
    Duration(ArrowTimeUnit),
    /// Integer time of day in the given unit, rendered as `HH:MM:SS[.fraction]`.
    Time(ArrowTimeUnit),
    /// Binary nested in a struct: decoded (Parquet needs all leaves) but omitted.
    Skip,
    Struct(Vec<(String, Plan)>),
    List(Box<Plan>),
}

/// Plans one Arrow type. Returns the Arrow type to request from the decoder and the conversion,
/// `Ok(None)` if the value should be skipped (binary), or `Err(type description)` if unsupported.
/// Nested skipped fields are appended to `skipped` as dotted paths.
fn plan(
    dtype: &ArrowDataType,
    path: &str,
    skipped: &mut Vec<String>,
) -> Result<Option<(ArrowDataType, Plan)>, String> {
    use ArrowDataType as A;
    let planned = match dtype {
        A::Null => (A::Null, Plan::Null),
        A::Boolean => (A::Boolean, Plan::Bool),
        A::Int8 | A::Int16 | A::Int32 => (A::Int32, Plan::Int),
        A::Int64 => (A::Int64, Plan::Int),
        A::UInt8 | A::UInt16 | A::UInt32 => (A::UInt32, Plan::UInt),
        A::UInt64 => (A::UInt64, Plan::UInt),
        A::Float32 => (A::Float32, Plan::Float),
        A::Float64 => (A::Float64, Plan::Float),
        A::Utf8 | A::LargeUtf8 | A::Utf8View => (A::Utf8View, Plan::Str),
        A::Binary | A::LargeBinary | A::BinaryView | A::FixedSizeBinary(_) => return Ok(None),
        A::Date32 => (A::Date32, Plan::Date),
        A::Date64 => (A::Date64, Plan::Datetime),
        // The zone is display metadata only: Parquet stores tz-aware timestamps as UTC instants.
        A::Timestamp(unit, _tz) => (A::Timestamp(*unit, None), Plan::Datetime),
        A::Duration(unit) => (A::Int64, Plan::Duration(*unit)),
        A::Time32(unit) => (A::Int32, Plan::Time(*unit)),
        A::Time64(unit) => (A::Int64, Plan::Time(*unit)),
        A::Dictionary(_, values, _) => return plan(values, path, skipped),
        A::Extension(ext) => return plan(&ext.inner, path, skipped),
        A::List(inner) | A::LargeList(inner) | A::FixedSizeList(inner, _) => {
            // A list of binary is skipped as a whole.
            let Some((inner_target, inner_plan)) = plan(&inner.dtype, path, skipped)? else {
                return Ok(None);
            };
            let inner_field = ArrowField::new(inner.name.clone(), inner_target, inner.is_nullable);
            (
                A::LargeList(Box::new(inner_field)),
                Plan::List(Box::new(inner_plan)),
            )
        }
        A::Struct(fields) => {
            let mut targets = Vec::with_capacity(fields.len());
            let mut plans = Vec::with_capacity(fields.len());
            for f in fields {
                let sub_path = format!("{path}.{}", f.name);
                match plan(&f.dtype, &sub_path, skipped)? {
                    Some((target, p)) => {
                        targets.push(ArrowField::new(f.name.clone(), target, f.is_nullable));
                        plans.push((f.name.to_string(), p));
                    }
                    None => {
                        // Parquet decodes a struct from all its leaves, so keep decoding the
                        // binary field but never emit it.
                        let keep = match &f.dtype {
                            A::FixedSizeBinary(n) => A::FixedSizeBinary(*n),
                            _ => A::BinaryView,
                        };
                        if !matches!(
                            f.dtype,
                            A::Binary | A::LargeBinary | A::BinaryView | A::FixedSizeBinary(_)
                        ) {
                            // e.g. a list of binary: we cannot decode it without its real shape.
                            return Err(format!(
                                "{} (field '{}' is a nested binary list)",
                                describe(dtype),
                                f.name
                            ));
                        }
                        skipped.push(sub_path);
                        targets.push(ArrowField::new(f.name.clone(), keep, f.is_nullable));
                        plans.push((f.name.to_string(), Plan::Skip));
                    }
                }
            }
            (A::Struct(targets), Plan::Struct(plans))
        }
        other => return Err(describe(other)),
    };
    Ok(Some(planned))
}

fn describe(dtype: &ArrowDataType) -> String {
    format!("{dtype:?}").to_lowercase()
}

/// Converts one column window to JSON values, one per row; nulls are `Value::Null`.
fn convert(s: &Series, plan: &Plan) -> Result<Vec<Value>, String> {
    let e = |err: polars::prelude::PolarsError| err.to_string();
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let values = match plan {
        Plan::Null | Plan::Skip => vec![Value::Null; s.len()],
        Plan::Bool => s.bool().map_err(e)?.iter().map(opt(Value::Bool)).collect(),
        Plan::Int => match s.dtype() {
            DataType::Int32 => s.i32().map_err(e)?.iter().map(opt(Value::from)).collect(),
            _ => s.i64().map_err(e)?.iter().map(opt(Value::from)).collect(),
        },
        Plan::UInt => match s.dtype() {
            DataType::UInt32 => s.u32().map_err(e)?.iter().map(opt(Value::from)).collect(),
            _ => s.u64().map_err(e)?.iter().map(opt(Value::from)).collect(),
        },
        Plan::Float => match s.dtype() {
            // Go through the shortest decimal form so 0.1f32 becomes 0.1, not 0.10000000149.
            DataType::Float32 => s
                .f32()
                .map_err(e)?
                .iter()
                .map(|v| {
                    v.map_or(Value::Null, |v| {
                        float(v.to_string().parse().unwrap_or(f64::NAN))
                    })
                })
                .collect(),
            _ => s
                .f64()
                .map_err(e)?
                .iter()
                .map(|v| v.map_or(Value::Null, float))
                .collect(),
        },
        Plan::Str => s
            .str()
            .map_err(e)?
            .iter()
            .map(|v| v.map_or(Value::Null, |v| Value::String(v.to_owned())))
            .collect(),
        Plan::Date => s
            .date()
            .map_err(e)?
            .physical()
            .iter()
            .map(|v| {
                v.and_then(|days| {
                    chrono::NaiveDate::from_num_days_from_ce_opt(days.checked_add(719_163)?)
                })
                .map_or(Value::Null, |d| Value::String(d.to_string()))
            })
            .collect(),
        Plan::Datetime => {
            let ca = s.datetime().map_err(e)?;
            let unit = ca.time_unit();
            ca.physical()
                .iter()
                .map(|v| {
                    v.and_then(|v| datetime(v, unit))
                        .map_or(Value::Null, Value::String)
                })
                .collect()
        }
        Plan::Duration(unit) => {
            let to_ms = |v: i64| match unit {
                ArrowTimeUnit::Second => v.checked_mul(1000),
                ArrowTimeUnit::Millisecond => Some(v),
                ArrowTimeUnit::Microsecond => Some(v / 1_000),
                ArrowTimeUnit::Nanosecond => Some(v / 1_000_000),
            };
            s.i64()
                .map_err(e)?
                .iter()
                .map(|v| v.and_then(to_ms).map_or(Value::Null, Value::from))
                .collect()
        }
        Plan::Time(unit) => {
            let ints: Vec<Option<i64>> = match s.dtype() {
                DataType::Int32 => s
                    .i32()
                    .map_err(e)?
                    .iter()
                    .map(|v| v.map(i64::from))
                    .collect(),
                _ => s.i64().map_err(e)?.iter().collect(),
            };
            ints.into_iter()
                .map(|v| {
                    v.and_then(|v| time_of_day(v, *unit))
                        .map_or(Value::Null, Value::String)
                })
                .collect()
        }
        Plan::Struct(fields) => {
            let ca = s.struct_().map_err(e)?;
            let mut field_values = Vec::with_capacity(fields.len());
            for (series, (name, plan)) in ca.fields_as_series().iter().zip(fields) {
                if !matches!(plan, Plan::Skip) {
                    field_values.push((name, convert(series, plan)?.into_iter()));
                }
            }
            let valid = s.is_not_null();
            valid
                .iter()
                .map(|is_valid| {
                    let mut obj = Map::new();
                    for (name, values) in field_values.iter_mut() {
                        let v = values.next().unwrap_or(Value::Null);
                        if !v.is_null() {
                            obj.insert((*name).clone(), v);
                        }
                    }
                    if is_valid == Some(true) {
                        Value::Object(obj)
                    } else {
                        Value::Null
                    }
                })
                .collect()
        }
        Plan::List(inner_plan) => {
            let ca = s.list().map_err(e)?.rechunk();
            let arr = ca.downcast_as_array();
            let offsets = arr.offsets().as_slice();
            let start = offsets.first().copied().unwrap_or(0);
            let end = offsets.last().copied().unwrap_or(0);
            let inner = ca.get_inner().slice(start, (end - start) as usize);
            let mut inner_values = convert(&inner, inner_plan)?.into_iter();
            let valid = s.is_not_null();
            offsets
                .windows(2)
                .zip(valid.iter())
                .map(|(w, is_valid)| {
                    let items: Vec<Value> =
                        inner_values.by_ref().take((w[1] - w[0]) as usize).collect();
                    if is_valid == Some(true) {
                        Value::Array(items)
                    } else {
                        Value::Null
                    }
                })
                .collect()
        }
    };
    Ok(values)
}

fn opt<T>(f: impl Fn(T) -> Value) -> impl Fn(Option<T>) -> Value {
    move |v| v.map_or(Value::Null, &f)
}

/// Finite floats become numbers. NaN and infinities, which JSON has no
/// number for, become the strings `"NaN"`, `"inf"` and `"-inf"`: a reader
/// that wants a number then rejects the row (`wrong_type`) instead of
/// taking the value as missing (a token count of NaN is not zero tokens).
fn float(v: f64) -> Value {
    Number::from_f64(v).map_or_else(|| Value::String(v.to_string()), Value::Number)
}

fn datetime(v: i64, unit: TimeUnit) -> Option<String> {
    let dt = match unit {
        TimeUnit::Nanoseconds => chrono::DateTime::from_timestamp_nanos(v),
        TimeUnit::Microseconds => chrono::DateTime::from_timestamp_micros(v)?,
        TimeUnit::Milliseconds => chrono::DateTime::from_timestamp_millis(v)?,
    };
    Some(dt.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

fn time_of_day(v: i64, unit: ArrowTimeUnit) -> Option<String> {
    let per_sec: i64 = match unit {
        ArrowTimeUnit::Second => 1,
        ArrowTimeUnit::Millisecond => 1_000,
        ArrowTimeUnit::Microsecond => 1_000_000,
        ArrowTimeUnit::Nanosecond => 1_000_000_000,
    };
    let secs = u32::try_from(v.div_euclid(per_sec)).ok()?;
    let nanos = u32::try_from(v.rem_euclid(per_sec) * (1_000_000_000 / per_sec)).ok()?;
    chrono::NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos).map(|t| t.to_string())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use polars::prelude::{
        DataFrame, IntoColumn, IntoSeries, ListChunked, NamedFrom, ParquetWriter, StructChunked,
        TimeZone,
    };
    use serde_json::json;

    use super::*;

    fn write(dir: &Path, name: &str, mut df: DataFrame, row_group_size: Option<usize>) -> PathBuf {
        let path = dir.join(name);
        let file = File::create(&path).unwrap();
        ParquetWriter::new(file)
            .with_row_group_size(row_group_size)
            .finish(&mut df)
            .unwrap();
        path
    }

    fn frame(columns: Vec<Series>) -> DataFrame {
        DataFrame::new_infer_height(columns.into_iter().map(|s| s.into_column()).collect()).unwrap()
    }

    fn read_all(path: &Path, batch_rows: usize) -> (Vec<ParquetBatch>, ParquetStats) {
        let mut batches = Vec::new();
        let stats = read_parquet(path, batch_rows, |b| {
            batches.push(b);
            true
        })
        .unwrap();
        (batches, stats)
    }

    #[test]
    fn flat_columns_of_every_type() {
        let dir = tempfile::tempdir().unwrap();
        let df = frame(vec![
            Series::new("model".into(), &[Some("gpt-4o"), None, Some("")]),
            Series::new("i64".into(), &[Some(i64::MIN), Some(-1), None]),
            Series::new("i32".into(), &[Some(7i32), None, Some(-7)]),
            Series::new("u64".into(), &[Some(u64::MAX), None, Some(0)]),
            Series::new(
                "f64".into(),
                &[Some(1.5f64), Some(f64::NAN), Some(f64::INFINITY)],
            ),
            Series::new("f32".into(), &[Some(0.1f32), None, Some(-2.0)]),
            Series::new("ok".into(), &[Some(true), Some(false), None]),
            polars::prelude::Int64Chunked::new(
                "ts_ms".into(),
                &[Some(1_714_564_800_500i64), None, Some(0)],
            )
            .into_datetime(TimeUnit::Milliseconds, None)
            .into_series(),
            // Stored as UTC instants; the zone must not shift the output.
            polars::prelude::Int64Chunked::new(
                "ts_tz".into(),
                &[Some(1_714_564_800_000_001i64), None, None],
            )
            .into_datetime(
                TimeUnit::Microseconds,
                TimeZone::opt_try_new(Some("Europe/Berlin")).unwrap(),
            )
            .into_series(),
            polars::prelude::Int64Chunked::new(
                "ts_ns".into(),
                &[Some(1_714_564_800_123_456_789i64), None, None],
            )
            .into_datetime(TimeUnit::Nanoseconds, Some(TimeZone::UTC))
            .into_series(),
            polars::prelude::Int32Chunked::new("day".into(), &[Some(19_844i32), None, Some(-1)])
                .into_date()
                .into_series(),
            polars::prelude::Int64Chunked::new(
                "latency".into(),
                &[Some(1_234_567i64), None, Some(-1_500)],
            )
            .into_duration(TimeUnit::Microseconds)
            .into_series(),
            Series::new(
                "raw".into(),
                &[Some(&b"\x00\x01"[..]), None, Some(&b"x"[..])],
            ),
            Series::new("usage.total_tokens".into(), &[Some(10u64), None, Some(3)]),
            Series::new("nothing".into(), &[None::<i64>, None, None]),
        ]);
        let path = write(dir.path(), "flat.parquet", df, None);
        let (batches, stats) = read_all(&path, 100);

        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].first_row, 0);
        assert_eq!(
            batches[0].rows,
            vec![
                json!({
                    "model": "gpt-4o", "i64": i64::MIN, "i32": 7, "u64": u64::MAX, "f64": 1.5,
                    "f32": 0.1, "ok": true, "ts_ms": "2024-05-01T12:00:00.500Z",
                    "ts_tz": "2024-05-01T12:00:00.000001Z",
                    "ts_ns": "2024-05-01T12:00:00.123456789Z", "day": "2024-05-01",
                    "latency": 1234, "usage.total_tokens": 10
                }),
                json!({"i64": -1, "ok": false, "f64": "NaN"}),
                json!({
                    "model": "", "i32": -7, "u64": 0, "f64": "inf", "f32": -2.0,
                    "ts_ms": "1970-01-01T00:00:00Z", "day": "1969-12-31", "latency": -1,
                    "usage.total_tokens": 3
                }),
            ]
        );
        assert_eq!(stats.rows, 3);
        assert_eq!(stats.row_groups, 1);
        assert_eq!(stats.skipped_columns, vec!["raw".to_string()]);
        assert_eq!(
            stats.columns,
            [
                "model",
                "i64",
                "i32",
                "u64",
                "f64",
                "f32",
                "ok",
                "ts_ms",
                "ts_tz",
                "ts_ns",
                "day",
                "latency",
                "usage.total_tokens",
                "nothing"
            ]
            .map(String::from)
        );
        // Exactness: u64::MAX and i64::MIN survive as integers, not floats.
        assert!(batches[0].rows[0]["u64"].is_u64());
        assert!(batches[0].rows[0]["i64"].is_i64());
    }

    #[test]
    fn struct_and_list_columns_nest() {
        let dir = tempfile::tempdir().unwrap();
        let prompt = Series::new(
            "prompt_tokens".into(),
            &[Some(100u64), Some(5), None, Some(1)],
        );
        let completion = Series::new(
            "completion_tokens".into(),
            &[Some(20u64), None, None, Some(2)],
        );
        let body = Series::new("body".into(), &[Some(&b"ab"[..]), None, None, None]);
        let usage = StructChunked::from_series(
            "usage".into(),
            4,
            [&prompt, &completion, &body].into_iter(),
        )
        .unwrap()
        .into_series();
        let tags: ListChunked = vec![
            Some(Series::new("".into(), &[Some("a"), None])),
            Some(Series::new("".into(), Vec::<&str>::new())),
            None,
            Some(Series::new("".into(), &["b"])),
        ]
        .into_iter()
        .collect();
        let nums: ListChunked = vec![
            Some(Series::new("".into(), &[1i64, 2])),
            None,
            Some(Series::new("".into(), &[3i64])),
            Some(Series::new("".into(), &[4i64, 5, 6])),
        ]
        .into_iter()
        .collect();
        let df = frame(vec![
            Series::new("id".into(), &[0i64, 1, 2, 3]),
            usage,
            tags.with_name("tags".into()).into_series(),
            nums.with_name("nums".into()).into_series(),
        ]);
        let path = write(dir.path(), "nested.parquet", df, None);

        let expected = vec![
            json!({"id": 0, "usage": {"prompt_tokens": 100, "completion_tokens": 20}, "tags": ["a", null], "nums": [1, 2]}),
            json!({"id": 1, "usage": {"prompt_tokens": 5}, "tags": []}),
            json!({"id": 2, "usage": {}, "nums": [3]}),
            json!({"id": 3, "usage": {"prompt_tokens": 1, "completion_tokens": 2}, "tags": ["b"], "nums": [4, 5, 6]}),
        ];
        // Whole row group at once, and sliced into windows (exercises sliced struct/list arrays).
        for batch_rows in [10, 3, 1] {
            let (batches, stats) = read_all(&path, batch_rows);
            let rows: Vec<Value> = batches.into_iter().flat_map(|b| b.rows).collect();
            assert_eq!(rows, expected, "batch_rows = {batch_rows}");
            assert_eq!(stats.skipped_columns, vec!["usage.body".to_string()]);
        }
    }

    #[test]
    fn row_groups_arrive_in_order_in_bounded_batches() {
        let dir = tempfile::tempdir().unwrap();
        let n = 1000u64;
        let ids: Vec<u64> = (0..n).collect();
        let names: Vec<String> = (0..n).map(|i| format!("req-{i}")).collect();
        let df = frame(vec![
            Series::new("id".into(), &ids),
            Series::new("name".into(), &names),
        ]);
        let path = write(dir.path(), "groups.parquet", df, Some(100));

        let (batches, stats) = read_all(&path, 30);
        assert_eq!(
            stats.row_groups, 10,
            "writer should have produced 10 row groups"
        );
        assert_eq!(stats.rows, n);
        // 100 rows per group in windows of 30: 30, 30, 30, 10, never straddling a group.
        assert_eq!(batches.len(), 40);
        let mut next = 0u64;
        for b in &batches {
            assert!(!b.rows.is_empty() && b.rows.len() <= 30);
            assert_eq!(b.first_row, next);
            assert_eq!(
                b.first_row / 100,
                (b.first_row + b.rows.len() as u64 - 1) / 100
            );
            for (k, row) in b.rows.iter().enumerate() {
                let i = b.first_row + k as u64;
                assert_eq!(row, &json!({"id": i, "name": format!("req-{i}")}));
            }
            next += b.rows.len() as u64;
        }
        assert_eq!(next, n);

        // batch_rows larger than a row group: one batch per row group.
        let (batches, _) = read_all(&path, 1_000_000);
        assert_eq!(
            batches.iter().map(|b| b.rows.len()).collect::<Vec<_>>(),
            vec![100; 10]
        );
    }

    #[test]
    fn early_stop() {
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<i64> = (0..500).collect();
        let df = frame(vec![Series::new("id".into(), &ids)]);
        let path = write(dir.path(), "stop.parquet", df, Some(100));
        let mut calls = 0;
        let stats = read_parquet(&path, 40, |b| {
            calls += 1;
            assert_eq!(b.first_row, 40 * (calls - 1));
            calls < 2
        })
        .unwrap();
        assert_eq!(calls, 2);
        assert_eq!(stats.rows, 80);
        assert_eq!(stats.row_groups, 1);
    }

    #[test]
    fn not_parquet_truncated_and_corrupt_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let never = |_: ParquetBatch| -> bool { panic!("no batch expected") };

        let text = dir.path().join("calls.jsonl");
        fs::write(&text, "{\"model\":\"gpt-4o\"}\n").unwrap();
        let err = read_parquet(&text, 10, never).unwrap_err();
        assert!(matches!(err, ParquetError::NotParquet { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("calls.jsonl") && msg.contains("not a parquet file"),
            "{msg}"
        );

        let empty = dir.path().join("empty.parquet");
        fs::write(&empty, "").unwrap();
        let err = read_parquet(&empty, 10, never).unwrap_err();
        assert!(matches!(err, ParquetError::NotParquet { .. }), "{err:?}");

        let ids: Vec<i64> = (0..2000).collect();
        let good = write(
            dir.path(),
            "good.parquet",
            frame(vec![Series::new("id".into(), &ids)]),
            Some(500),
        );
        let bytes = fs::read(&good).unwrap();

        let truncated = dir.path().join("truncated.parquet");
        fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_parquet(&truncated, 10, never).unwrap_err();
        assert!(matches!(err, ParquetError::CorruptFooter { .. }), "{err:?}");
        assert!(err.to_string().contains("truncated"), "{err}");

        // Magic bytes intact but the footer itself is garbage.
        let mut garbage = b"PAR1".to_vec();
        garbage.extend_from_slice(&[0xff; 64]);
        garbage.extend_from_slice(&40u32.to_le_bytes());
        garbage.extend_from_slice(b"PAR1");
        let bad_footer = dir.path().join("bad_footer.parquet");
        fs::write(&bad_footer, &garbage).unwrap();
        let err = read_parquet(&bad_footer, 10, never).unwrap_err();
        assert!(matches!(err, ParquetError::CorruptFooter { .. }), "{err:?}");

        // Footer intact, data pages overwritten: an error (or garbage values), never a panic.
        let mut smashed = bytes.clone();
        for b in &mut smashed[4..bytes.len() / 2] {
            *b = 0xA5;
        }
        let smashed_path = dir.path().join("smashed.parquet");
        fs::write(&smashed_path, &smashed).unwrap();
        let result = std::panic::catch_unwind(|| read_parquet(&smashed_path, 10, |_| true));
        match result {
            Ok(Err(ParquetError::CorruptData {
                row_group, column, ..
            })) => {
                assert_eq!((row_group, column.as_str()), (0, "id"));
            }
            other => panic!("expected CorruptData, got {other:?}"),
        }

        let missing = dir.path().join("missing.parquet");
        let err = read_parquet(&missing, 10, never).unwrap_err();
        assert!(matches!(err, ParquetError::Io { .. }), "{err:?}");
    }

    #[test]
    fn time_of_day_formatting() {
        assert_eq!(
            time_of_day(3_723_500, ArrowTimeUnit::Millisecond).unwrap(),
            "01:02:03.500"
        );
        assert_eq!(time_of_day(0, ArrowTimeUnit::Second).unwrap(), "00:00:00");
        assert_eq!(time_of_day(-1, ArrowTimeUnit::Second), None);
    }
}
