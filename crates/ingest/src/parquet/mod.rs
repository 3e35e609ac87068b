//! Parquet files, read with arrow-rs: opening, the cell values every reader
//! sees, and the conversion of rows to JSON objects.
//!
//! Two readers share this module. The column reader
//! ([`crate::parquet::columns`]) decodes only the columns a plan names and fills the
//! gateway reader's staging record straight from the Arrow arrays; it reads
//! gateway-shaped and `[mapping]`ed files. Every other file (a Langfuse,
//! Helicone or OTLP export written as Parquet, or a file whose shape the
//! plan cannot follow) goes through [`read_parquet`], which turns rows into
//! JSON objects for the line readers. Both convert a value through
//! [`Values::get`], so a cell means the same to both (the conversion table
//! is on [`read_parquet`]).
//!
//! # Memory
//! A row group is decoded in batches of rows over the projected columns
//! only (`ProjectionMask::leaves`): one batch of decoded columns, plus the
//! compressed chunks of the row group's projected columns, per reader. The
//! footer metadata is the only thing that grows with the file.

pub(crate) mod columns;
pub(crate) mod texts;

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use ::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use ::parquet::arrow::ProjectionMask;
use ::parquet::file::reader::{ChunkReader, Length};
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Decimal256Type, Decimal32Type, Decimal64Type,
    DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType,
    Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, PrimitiveArray, RecordBatch};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};
use serde_json::{Map, Number, Value};

use crate::record::fields::{non_empty, Lenient, Scalar};

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
    /// Row groups that could not be decoded, as (their first row from 0,
    /// their rows not handed on, why): the groups after one are read
    /// (hunt78: one damaged group lost every later one).
    pub bad_groups: Vec<(u64, u64, String)>,
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

    /// The footer is fine but the data of a row group could not be read or decoded.
    #[error("{}: corrupt parquet data in row group {row_group} ({reason}); re-export the file", .path.display())]
    CorruptData {
        path: PathBuf,
        row_group: usize,
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

/// An opened Parquet file: its path and footer, parsed once and shared by
/// every reader of its row groups.
#[derive(Clone, Debug)]
pub struct ParquetFile {
    path: PathBuf,
    meta: ArrowReaderMetadata,
    /// Stdin or a pipe saved to a temporary file: kept until the last row
    /// group is read (each opens the file anew).
    saved: Option<std::sync::Arc<tempfile::TempPath>>,
}

impl ParquetFile {
    /// Checks the magic bytes (so a non-Parquet or cut file gets a precise
    /// error) and parses the footer.
    pub fn open(path: &Path) -> Result<ParquetFile, ParquetError> {
        let mut file = File::open(path).map_err(|e| io_error(path, e))?;
        let len = file.metadata().map_err(|e| io_error(path, e))?.len();
        check_magic(path, &mut file, len)?;
        let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| {
            ParquetError::CorruptFooter {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        })?;
        check_chunks(path, &meta)?;
        Ok(ParquetFile {
            path: path.to_path_buf(),
            meta,
            saved: None,
        })
    }

    /// A file saved from stdin or a pipe, removed once nothing reads it.
    pub fn open_saved(saved: tempfile::TempPath) -> Result<ParquetFile, ParquetError> {
        let mut file = ParquetFile::open(&saved)?;
        file.saved = Some(std::sync::Arc::new(saved));
        Ok(file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The Arrow schema of the file's columns.
    pub fn schema(&self) -> &SchemaRef {
        self.meta.schema()
    }

    /// Each row group's row count and compressed size, in file order.
    pub fn row_groups(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.meta.metadata().row_groups().iter().map(|rg| {
            (
                rg.num_rows().max(0) as u64,
                rg.compressed_size().max(0) as u64,
            )
        })
    }

    /// A reader of one row group over the given Parquet leaf columns,
    /// `batch_rows` rows at a time. It opens the file anew: the decoders of
    /// several row groups run on several threads, and a cloned `File`
    /// would share one read position.
    pub fn row_group(
        &self,
        row_group: usize,
        leaves: &[usize],
        batch_rows: usize,
    ) -> Result<RowGroupReader<'_>, ParquetError> {
        let file = File::open(&self.path).map_err(|e| io_error(&self.path, e))?;
        let file = EndIsError(file);
        let mask = ProjectionMask::leaves(self.meta.parquet_schema(), leaves.iter().copied());
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.meta.clone())
            .with_projection(mask)
            .with_row_groups(vec![row_group])
            .with_batch_size(batch_rows.max(1))
            .build()
            .map_err(|e| self.corrupt(row_group, e.to_string()))?;
        Ok(RowGroupReader {
            reader,
            row_group,
            file: self,
        })
    }

    fn corrupt(&self, row_group: usize, reason: String) -> ParquetError {
        ParquetError::CorruptData {
            path: self.path.clone(),
            row_group,
            reason,
        }
    }
}

thread_local! {
    /// Set while this thread decodes pages, where a panic is caught.
    static DECODING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a panic on this thread now would be caught by the row group
/// reader and become its file's reject: arrow-rs asserts on some malformed
/// pages. A panic hook stays quiet for these (the CLI's does, so the file's
/// reject is all a user sees); any other panic is a bug, said as one.
pub fn panic_is_caught() -> bool {
    DECODING.get()
}

/// The decoded batches of one row group (see [`ParquetFile::row_group`]).
pub struct RowGroupReader<'f> {
    reader: ParquetRecordBatchReader,
    row_group: usize,
    file: &'f ParquetFile,
}

impl Iterator for RowGroupReader<'_> {
    type Item = Result<RecordBatch, ParquetError>;

    fn next(&mut self) -> Option<Self::Item> {
        // A decoder that panics on malformed pages is an error, not a crash.
        DECODING.set(true);
        let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.reader.next()));
        DECODING.set(false);
        let next = next.unwrap_or_else(|_| {
            Some(Err(arrow_schema::ArrowError::ParquetError(
                "the page decoder panicked on malformed data".into(),
            )))
        })?;
        Some(next.map_err(|e| self.file.corrupt(self.row_group, e.to_string())))
    }
}

/// The file as arrow-rs reads its pages: as `File`'s own `ChunkReader`,
/// except that a read at the end of the file is an error. arrow-rs' Thrift
/// reader skips a page header's field by copying it to nowhere and does not
/// notice a short copy, so a header declaring a list of millions of doubles
/// in a 2 KB file made millions of empty reads (the `parquet` fuzz target's
/// slowest input: 1.8 million reads, 1.5 s; a list may declare 2^31).
struct EndIsError(File);

impl Length for EndIsError {
    fn len(&self) -> u64 {
        self.0.len()
    }
}

impl ChunkReader for EndIsError {
    type T = BufReader<EndIsError>;

    fn get_read(&self, start: u64) -> ::parquet::errors::Result<Self::T> {
        let mut file = self.0.try_clone()?;
        file.seek(SeekFrom::Start(start))?;
        Ok(BufReader::new(EndIsError(file)))
    }

    fn get_bytes(&self, start: u64, length: usize) -> ::parquet::errors::Result<bytes::Bytes> {
        self.0.get_bytes(start, length)
    }
}

impl Read for EndIsError {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.0.read(buf)? {
            0 if !buf.is_empty() => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "a page reaches past the end of the file",
            )),
            n => Ok(n),
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> ParquetError {
    ParquetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks that no column chunk of the footer starts at a negative offset or
/// has a negative size: arrow-rs asserts both (a panic) when it comes to read
/// the chunk, and such a file is a corrupt footer, said as one.
fn check_chunks(path: &Path, meta: &ArrowReaderMetadata) -> Result<(), ParquetError> {
    for (g, group) in meta.metadata().row_groups().iter().enumerate() {
        for (c, chunk) in group.columns().iter().enumerate() {
            let start = chunk
                .dictionary_page_offset()
                .unwrap_or(chunk.data_page_offset());
            let size = chunk.compressed_size();
            if start < 0 || size < 0 {
                return Err(ParquetError::CorruptFooter {
                    path: path.to_path_buf(),
                    reason: format!("row group {g}, column {c}: {size} bytes at offset {start}"),
                });
            }
        }
    }
    Ok(())
}

/// Distinguishes "not Parquet" from "Parquet, but cut off" using the 4-byte magic at both ends.
fn check_magic(path: &Path, file: &mut File, file_len: u64) -> Result<(), ParquetError> {
    const MAGIC: &[u8; 4] = b"PAR1";
    let not_parquet = |reason: String| ParquetError::NotParquet {
        path: path.to_path_buf(),
        reason,
    };
    let mut head = [0u8; 4];
    let mut tail = [0u8; 4];
    if file_len >= 4 {
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_exact(&mut head))
            .map_err(|e| io_error(path, e))?;
        file.seek(SeekFrom::End(-4))
            .and_then(|_| file.read_exact(&mut tail))
            .map_err(|e| io_error(path, e))?;
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

/// How many Parquet leaf columns an Arrow type spans (the leaves of a
/// file's schema are its Arrow fields' leaves in depth-first order).
pub(crate) fn leaf_count(dtype: &DataType) -> usize {
    match dtype {
        DataType::Struct(fields) => fields.iter().map(|f| leaf_count(f.data_type())).sum(),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::Map(f, _) => leaf_count(f.data_type()),
        _ => 1,
    }
}

/// Whether values of this type are never read (binary blobs: request
/// bodies, embeddings).
/// Sixteen bytes: a UUID (DuckDB writes UUID-looking text as Parquet's
/// UUID type, which arrow-rs reads as these), read as its hyphenated text
/// (hunt57: sessions and request ids so written were dropped).
pub(crate) fn is_uuid(dtype: &DataType) -> bool {
    matches!(dtype, DataType::FixedSizeBinary(16))
}

/// A UUID's 16 bytes as its text, `8-4-4-4-12` lower-case hex digits.
fn uuid_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A column of bytes no reader takes: fixed-size binary other than a UUID
/// (a hash, an embedding). Variable-length binary is text when its bytes
/// are UTF-8 ([`Col::Binary`]).
/// Variable-length bytes: text when UTF-8 ([`Col::Binary`]).
fn is_bytes(dtype: &DataType) -> bool {
    matches!(
        dtype,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView
    )
}

pub(crate) fn is_binary(dtype: &DataType) -> bool {
    match dtype {
        DataType::FixedSizeBinary(_) => !is_uuid(dtype),
        DataType::Dictionary(_, v) => is_binary(v),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            is_binary(f.data_type())
        }
        _ => false,
    }
}

/// One value as the readers see it: a [`Scalar`], or an instant (a
/// timestamp column), which the column reader takes as it is and the JSON
/// form writes as RFC 3339 text that reads back to the same instant.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cell<'a> {
    Scalar(Scalar<'a>),
    Instant(DateTime<Utc>),
}

impl<'a> Cell<'a> {
    pub(crate) fn into_scalar(self) -> Scalar<'a> {
        match self {
            Cell::Scalar(s) => s,
            Cell::Instant(t) => Scalar::Str(Cow::Owned(rfc3339(t))),
        }
    }

    pub(crate) fn into_json(self) -> Value {
        match self.into_scalar() {
            Scalar::Null | Scalar::Container => Value::Null,
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::U64(n) => Value::from(n),
            Scalar::I64(n) => Value::from(n),
            Scalar::F64(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            Scalar::Str(s) => Value::String(s.into_owned()),
        }
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A column's values, downcast once per batch, with the validity of the
/// column and of every struct it is nested in.
pub(crate) struct Values<'a> {
    nulls: Option<NullBuffer>,
    col: Col<'a>,
}

enum Col<'a> {
    /// Never read: the `Null` type, binary blobs.
    Absent,
    Bool(&'a arrow_array::BooleanArray),
    // Numbers as their value slices: indexing a slice is cheaper than
    // `PrimitiveArray::value`, which the compiler does not inline here.
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
    F16(&'a PrimitiveArray<Float16Type>),
    F32(&'a [f32]),
    F64(&'a [f64]),
    Utf8(&'a arrow_array::StringArray),
    LargeUtf8(&'a arrow_array::LargeStringArray),
    Utf8View(&'a arrow_array::StringViewArray),
    /// A UUID's bytes ([`is_uuid`]), read as its text.
    Uuid(&'a arrow_array::FixedSizeBinaryArray),
    /// Bytes with no type of text: Impala's, Hive's and old Spark's strings
    /// (BYTE_ARRAY without the UTF8 annotation; hunt184: every such column
    /// dropped, the model's too). Text where they are UTF-8, else no value.
    Binary(&'a arrow_array::BinaryArray),
    LargeBinary(&'a arrow_array::LargeBinaryArray),
    BinaryView(&'a arrow_array::BinaryViewArray),
    /// Dictionary-encoded: each row's index into `values`.
    Dict(Vec<usize>, Box<Values<'a>>),
    Decimal32(&'a PrimitiveArray<Decimal32Type>, i8),
    Decimal64(&'a PrimitiveArray<Decimal64Type>, i8),
    Decimal128(&'a PrimitiveArray<Decimal128Type>, i8),
    Decimal256(&'a PrimitiveArray<Decimal256Type>, i8),
    /// Integers in a time unit: timestamps, durations, times of day.
    Timestamp(&'a [i64], TimeUnit),
    Duration(&'a [i64], TimeUnit),
    Time32(&'a [i32], TimeUnit),
    Time64(&'a [i64], TimeUnit),
    Date32(&'a PrimitiveArray<Date32Type>),
    Date64(&'a PrimitiveArray<Date64Type>),
    /// Struct, list, map: an object or array, as far as a scalar goes.
    Nested,
}

impl<'a> Values<'a> {
    /// The values of `array`, nested in structs whose combined validity is
    /// `parents`. An `Err` describes a type no reader can convert.
    pub(crate) fn new(array: &'a dyn Array, parents: Option<&NullBuffer>) -> Result<Self, String> {
        use DataType as D;
        let nulls = NullBuffer::union(parents, array.logical_nulls().as_ref());
        let unit_values = |unit: &TimeUnit| -> &'a [i64] {
            match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().values(),
                TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().values(),
                TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().values(),
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().values(),
            }
        };
        let col = match array.data_type() {
            D::Null => Col::Absent,
            dt if is_binary(dt) => Col::Absent,
            D::Boolean => Col::Bool(array.as_boolean()),
            D::Int8 => Col::I8(array.as_primitive::<Int8Type>().values()),
            D::Int16 => Col::I16(array.as_primitive::<Int16Type>().values()),
            D::Int32 => Col::I32(array.as_primitive::<Int32Type>().values()),
            D::Int64 => Col::I64(array.as_primitive::<Int64Type>().values()),
            D::UInt8 => Col::U8(array.as_primitive::<UInt8Type>().values()),
            D::UInt16 => Col::U16(array.as_primitive::<UInt16Type>().values()),
            D::UInt32 => Col::U32(array.as_primitive::<UInt32Type>().values()),
            D::UInt64 => Col::U64(array.as_primitive::<UInt64Type>().values()),
            D::Float16 => Col::F16(array.as_primitive()),
            D::Float32 => Col::F32(array.as_primitive::<Float32Type>().values()),
            D::Float64 => Col::F64(array.as_primitive::<Float64Type>().values()),
            D::Utf8 => Col::Utf8(array.as_string()),
            D::LargeUtf8 => Col::LargeUtf8(array.as_string()),
            D::Utf8View => Col::Utf8View(array.as_string_view()),
            D::Binary => Col::Binary(array.as_binary()),
            D::LargeBinary => Col::LargeBinary(array.as_binary()),
            D::BinaryView => Col::BinaryView(array.as_binary_view()),
            dt if is_uuid(dt) => Col::Uuid(array.as_fixed_size_binary()),
            D::Dictionary(_, _) => {
                let dict = array
                    .as_any_dictionary_opt()
                    .ok_or_else(|| describe(array.data_type()))?;
                let values = Values::new(dict.values().as_ref(), None)?;
                // `normalized_keys` clamps a null key to 0: the
                // dictionary's own validity (in `nulls`) covers it.
                Col::Dict(dict.normalized_keys(), Box::new(values))
            }
            // pyarrow 18's `decimal32` and `decimal64` (hunt184: the file
            // refused), read as the wider type.
            D::Decimal32(_, scale) => Col::Decimal32(array.as_primitive(), *scale),
            D::Decimal64(_, scale) => Col::Decimal64(array.as_primitive(), *scale),
            D::Decimal128(_, scale) => Col::Decimal128(array.as_primitive(), *scale),
            D::Decimal256(_, scale) => Col::Decimal256(array.as_primitive(), *scale),
            D::Timestamp(unit, _) => Col::Timestamp(unit_values(unit), *unit),
            D::Duration(unit) => Col::Duration(
                match unit {
                    TimeUnit::Second => array.as_primitive::<DurationSecondType>().values(),
                    TimeUnit::Millisecond => {
                        array.as_primitive::<DurationMillisecondType>().values()
                    }
                    TimeUnit::Microsecond => {
                        array.as_primitive::<DurationMicrosecondType>().values()
                    }
                    TimeUnit::Nanosecond => array.as_primitive::<DurationNanosecondType>().values(),
                },
                *unit,
            ),
            D::Time32(unit) => Col::Time32(
                match unit {
                    TimeUnit::Second => array.as_primitive::<Time32SecondType>().values(),
                    _ => array.as_primitive::<Time32MillisecondType>().values(),
                },
                *unit,
            ),
            D::Time64(unit) => Col::Time64(
                match unit {
                    TimeUnit::Microsecond => array.as_primitive::<Time64MicrosecondType>().values(),
                    _ => array.as_primitive::<Time64NanosecondType>().values(),
                },
                *unit,
            ),
            D::Date32 => Col::Date32(array.as_primitive()),
            D::Date64 => Col::Date64(array.as_primitive()),
            D::Struct(_) | D::List(_) | D::LargeList(_) | D::FixedSizeList(_, _) | D::Map(_, _) => {
                Col::Nested
            }
            other => return Err(describe(other)),
        };
        Ok(Values { nulls, col })
    }

    /// A column that is not there: every value is missing.
    pub(crate) fn absent() -> Values<'static> {
        Values {
            nulls: None,
            col: Col::Absent,
        }
    }

    /// Whether row `i` holds a value (it and every struct around it are
    /// valid), whatever its type.
    #[inline]
    pub(crate) fn is_valid(&self, i: usize) -> bool {
        !matches!(self.col, Col::Absent) && self.nulls.as_ref().is_none_or(|n| n.is_valid(i))
    }

    /// Row `i`'s value as a label ([`Scalar::label`]); text is read
    /// straight from a string column.
    #[inline]
    pub(crate) fn label(&self, i: usize) -> Option<Lenient<Cow<'a, str>>> {
        match &self.col {
            Col::Utf8(a) => self
                .is_valid(i)
                .then(|| non_empty(Cow::Borrowed(a.value(i)))),
            _ => self.get(i).map(|c| c.into_scalar().label()),
        }
    }

    /// Row `i`'s value; `None` where the JSON form omits the key (null, a
    /// timestamp out of range, a binary blob).
    #[inline]
    pub(crate) fn get(&self, i: usize) -> Option<Cell<'a>> {
        if !self.is_valid(i) {
            return None;
        }
        let s = |v: Scalar<'a>| Some(Cell::Scalar(v));
        let utf8 = |b: &'a [u8]| {
            std::str::from_utf8(b)
                .ok()
                .map(|t| Cell::Scalar(Scalar::Str(Cow::Borrowed(t))))
        };
        let signed = |v: i64| {
            Some(Cell::Scalar(if v >= 0 {
                Scalar::U64(v as u64)
            } else {
                Scalar::I64(v)
            }))
        };
        match &self.col {
            Col::Absent => None,
            Col::Bool(a) => s(Scalar::Bool(a.value(i))),
            Col::I8(a) => signed(a[i].into()),
            Col::I16(a) => signed(a[i].into()),
            Col::I32(a) => signed(a[i].into()),
            Col::I64(a) => signed(a[i]),
            Col::U8(a) => s(Scalar::U64(a[i].into())),
            Col::U16(a) => s(Scalar::U64(a[i].into())),
            Col::U32(a) => s(Scalar::U64(a[i].into())),
            Col::U64(a) => s(Scalar::U64(a[i])),
            Col::F16(a) => float32(a.value(i).to_f32()),
            Col::F32(a) => float32(a[i]),
            Col::F64(a) => float(a[i]),
            Col::Utf8(a) => s(Scalar::Str(Cow::Borrowed(a.value(i)))),
            Col::LargeUtf8(a) => s(Scalar::Str(Cow::Borrowed(a.value(i)))),
            Col::Utf8View(a) => s(Scalar::Str(Cow::Borrowed(a.value(i)))),
            Col::Uuid(a) => s(Scalar::Str(Cow::Owned(uuid_text(a.value(i))))),
            Col::Binary(a) => utf8(a.value(i)),
            Col::LargeBinary(a) => utf8(a.value(i)),
            Col::BinaryView(a) => utf8(a.value(i)),
            Col::Decimal32(a, scale) => s(Scalar::Str(Cow::Owned(decimal(
                a.value(i).to_string(),
                *scale,
            )))),
            Col::Decimal64(a, scale) => s(Scalar::Str(Cow::Owned(decimal(
                a.value(i).to_string(),
                *scale,
            )))),
            Col::Dict(keys, values) => values.get(keys[i]),
            Col::Decimal128(a, scale) => s(Scalar::Str(Cow::Owned(decimal(
                a.value(i).to_string(),
                *scale,
            )))),
            Col::Decimal256(a, scale) => s(Scalar::Str(Cow::Owned(decimal(
                a.value(i).to_string(),
                *scale,
            )))),
            Col::Timestamp(v, unit) => instant(v[i], *unit).map(Cell::Instant),
            Col::Duration(v, unit) => {
                let ms = match unit {
                    TimeUnit::Second => v[i].checked_mul(1000)?,
                    TimeUnit::Millisecond => v[i],
                    TimeUnit::Microsecond => v[i] / 1_000,
                    TimeUnit::Nanosecond => v[i] / 1_000_000,
                };
                signed(ms)
            }
            Col::Time32(v, unit) => time_of_day(v[i].into(), *unit).map(text),
            Col::Time64(v, unit) => time_of_day(v[i], *unit).map(text),
            Col::Date32(a) => {
                let day =
                    chrono::NaiveDate::from_num_days_from_ce_opt(a.value(i).checked_add(719_163)?)?;
                Some(text(day.to_string()))
            }
            Col::Date64(a) => instant(a.value(i), TimeUnit::Millisecond).map(Cell::Instant),
            Col::Nested => s(Scalar::Container),
        }
    }
}

fn text(s: String) -> Cell<'static> {
    Cell::Scalar(Scalar::Str(Cow::Owned(s)))
}

/// Finite floats as numbers; NaN and infinities as the strings `"NaN"`,
/// `"inf"`, `"-inf"`, which no field reads as a number: a NaN token count
/// is a wrong type, not a missing (zero) one.
fn float(v: f64) -> Option<Cell<'static>> {
    Some(if v.is_finite() {
        Cell::Scalar(Scalar::F64(v))
    } else if v.is_nan() {
        text("NaN".into())
    } else if v > 0.0 {
        text("inf".into())
    } else {
        text("-inf".into())
    })
}

/// Through the shortest decimal form, so 0.1f32 is 0.1, not 0.10000000149.
fn float32(v: f32) -> Option<Cell<'static>> {
    float(v.to_string().parse().unwrap_or(f64::NAN))
}

/// An unscaled decimal integer's digits with the point put back: exact.
fn decimal(digits: String, scale: i8) -> String {
    let (sign, digits) = match digits.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", digits.as_str()),
    };
    if scale <= 0 {
        let zeros = "0".repeat(usize::from(scale.unsigned_abs()));
        return format!("{sign}{digits}{zeros}");
    }
    let scale = usize::from(scale.unsigned_abs());
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

fn instant(v: i64, unit: TimeUnit) -> Option<DateTime<Utc>> {
    match unit {
        TimeUnit::Second => DateTime::from_timestamp(v, 0),
        TimeUnit::Millisecond => DateTime::from_timestamp_millis(v),
        TimeUnit::Microsecond => DateTime::from_timestamp_micros(v),
        TimeUnit::Nanosecond => Some(DateTime::from_timestamp_nanos(v)),
    }
}

fn time_of_day(v: i64, unit: TimeUnit) -> Option<String> {
    let per_sec: i64 = match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    let secs = u32::try_from(v.div_euclid(per_sec)).ok()?;
    let nanos = u32::try_from(v.rem_euclid(per_sec) * (1_000_000_000 / per_sec)).ok()?;
    chrono::NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos).map(|t| t.to_string())
}

fn describe(dtype: &DataType) -> String {
    format!("{dtype:?}").to_lowercase()
}

/// Checks that every value of a type can be converted, nested ones too.
/// Binary leaves are left out of the projection and listed in `skipped`.
fn plan_json(
    dtype: &DataType,
    path: &str,
    first_leaf: usize,
    leaves: &mut Vec<usize>,
    skipped: &mut Vec<String>,
    blob: &dyn Fn(usize) -> bool,
) -> Result<(), String> {
    use DataType as D;
    if is_binary(dtype) || (is_bytes(dtype) && blob(first_leaf)) {
        skipped.push(path.to_string());
        return Ok(());
    }
    match dtype {
        D::Struct(fields) => {
            let mut leaf = first_leaf;
            for f in fields {
                plan_json(
                    f.data_type(),
                    &format!("{path}.{}", f.name()),
                    leaf,
                    leaves,
                    skipped,
                    blob,
                )?;
                leaf += leaf_count(f.data_type());
            }
            Ok(())
        }
        D::List(f) | D::LargeList(f) | D::FixedSizeList(f, _) | D::Map(f, _) => {
            plan_json(f.data_type(), path, first_leaf, leaves, skipped, blob)
        }
        D::Dictionary(_, values) => {
            check_scalar(values)?;
            leaves.push(first_leaf);
            Ok(())
        }
        other => {
            check_scalar(other)?;
            leaves.push(first_leaf);
            Ok(())
        }
    }
}

fn check_scalar(dtype: &DataType) -> Result<(), String> {
    use DataType as D;
    match dtype {
        D::Null
        | D::Boolean
        | D::Int8
        | D::Int16
        | D::Int32
        | D::Int64
        | D::UInt8
        | D::UInt16
        | D::UInt32
        | D::UInt64
        | D::Float16
        | D::Float32
        | D::Float64
        | D::Utf8
        | D::LargeUtf8
        | D::Utf8View
        | D::Binary
        | D::LargeBinary
        | D::BinaryView
        | D::Decimal32(_, _)
        | D::Decimal64(_, _)
        | D::Decimal128(_, _)
        | D::Decimal256(_, _)
        | D::Timestamp(_, _)
        | D::Duration(_)
        | D::Time32(_)
        | D::Time64(_)
        | D::Date32
        | D::Date64 => Ok(()),
        dt if is_uuid(dt) => Ok(()),
        other => Err(describe(other)),
    }
}

/// The JSON form of every row of `array` (nested in structs of validity
/// `parents`); nulls are `Value::Null`.
pub(crate) fn to_json(
    array: &dyn Array,
    parents: Option<&NullBuffer>,
) -> Result<Vec<Value>, String> {
    let n = array.len();
    let nulls = NullBuffer::union(parents, array.logical_nulls().as_ref());
    let valid = |i: usize| nulls.as_ref().is_none_or(|b| b.is_valid(i));
    let nested = |children: Vec<(String, Vec<Value>)>| -> Vec<Value> {
        let mut columns: Vec<_> = children
            .into_iter()
            .map(|(k, v)| (k, v.into_iter()))
            .collect();
        (0..n)
            .map(|i| {
                let mut obj = Map::new();
                for (name, values) in columns.iter_mut() {
                    let v = values.next().unwrap_or(Value::Null);
                    if !v.is_null() {
                        obj.insert(name.clone(), v);
                    }
                }
                if valid(i) {
                    Value::Object(obj)
                } else {
                    Value::Null
                }
            })
            .collect()
    };
    let lists = |offsets: Vec<usize>, items: Vec<Value>| -> Vec<Value> {
        let mut items = items.into_iter();
        let mut skip = offsets.first().copied().unwrap_or(0);
        offsets
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let _ = items.by_ref().take(skip).count();
                skip = 0;
                let row: Vec<Value> = items.by_ref().take(w[1] - w[0]).collect();
                if valid(i) {
                    Value::Array(row)
                } else {
                    Value::Null
                }
            })
            .collect()
    };
    Ok(match array.data_type() {
        DataType::Struct(_) => {
            let s = array.as_struct();
            let mut children = Vec::new();
            for (field, child) in s.fields().iter().zip(s.columns()) {
                if !is_binary(field.data_type()) {
                    children.push((field.name().clone(), to_json(child, nulls.as_ref())?));
                }
            }
            nested(children)
        }
        DataType::List(_) => {
            let l = array.as_list::<i32>();
            let offsets = l.offsets().iter().map(|&o| o as usize).collect();
            lists(offsets, to_json(l.values(), None)?)
        }
        DataType::LargeList(_) => {
            let l = array.as_list::<i64>();
            let offsets = l.offsets().iter().map(|&o| o as usize).collect();
            lists(offsets, to_json(l.values(), None)?)
        }
        DataType::FixedSizeList(_, size) => {
            let l = array.as_fixed_size_list();
            let size = usize::try_from(*size).unwrap_or(0);
            let offsets = (0..=n).map(|i| (i + l.offset()) * size).collect();
            lists(offsets, to_json(l.values(), None)?)
        }
        DataType::Map(_, _) => {
            // An object; a later duplicate key wins, as in a JSON object.
            let m = array.as_map();
            let keys = Values::new(m.keys().as_ref(), None)?;
            let values = to_json(m.values(), None)?;
            let offsets = m.value_offsets();
            (0..n)
                .map(|i| {
                    if !valid(i) {
                        return Value::Null;
                    }
                    let mut obj = Map::new();
                    let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
                    for (j, value) in values.iter().enumerate().take(end).skip(start) {
                        let key = keys.get(j).map(|k| k.into_scalar().label());
                        if let Some(crate::record::fields::Lenient::Value(k)) = key {
                            if !value.is_null() {
                                obj.insert(k.into_owned(), value.clone());
                            }
                        }
                    }
                    Value::Object(obj)
                })
                .collect()
        }
        _ => {
            let values = Values::new(array, parents)?;
            (0..n)
                .map(|i| values.get(i).map_or(Value::Null, Cell::into_json))
                .collect()
        }
    })
}

/// Which columns the JSON form reads: every top-level column but binary
/// ones, every leaf but binary ones. An unsupported type anywhere is an
/// error naming its column, before any data is read.
fn json_projection(file: &ParquetFile) -> Result<(Vec<usize>, ParquetStats), ParquetError> {
    let mut stats = ParquetStats::default();
    let mut leaves = Vec::new();
    let mut first_leaf = 0;
    // Bytes of a kilobyte and more a row (an image, a document) are no
    // label: left out, as before bytes were read as text (hunt186: a 200 KB
    // blob column decoded for every row, 16 MB of memory to 140 MB).
    let meta = file.meta.metadata();
    let blob = |leaf: usize| {
        meta.row_groups().first().is_some_and(|rg| {
            rg.num_rows() > 0
                && leaf < rg.num_columns()
                && rg.column(leaf).uncompressed_size() / rg.num_rows() > 1024
        })
    };
    for field in file.schema().fields() {
        let name = field.name().clone();
        let dtype = field.data_type();
        if is_binary(dtype) || (is_bytes(dtype) && blob(first_leaf)) {
            stats.skipped_columns.push(name);
        } else {
            let mut nested_skipped = Vec::new();
            plan_json(
                dtype,
                &name,
                first_leaf,
                &mut leaves,
                &mut nested_skipped,
                &blob,
            )
            .map_err(|dtype| ParquetError::UnsupportedColumn {
                path: file.path.clone(),
                column: name.clone(),
                dtype,
            })?;
            stats.skipped_columns.append(&mut nested_skipped);
            stats.columns.push(name);
        }
        first_leaf += leaf_count(dtype);
    }
    Ok((leaves, stats))
}

/// Converts one decoded batch to JSON objects, one per row.
fn batch_rows_json(batch: &RecordBatch) -> Result<Vec<Value>, String> {
    let mut rows: Vec<Map<String, Value>> = (0..batch.num_rows()).map(|_| Map::new()).collect();
    let schema = batch.schema();
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if is_binary(field.data_type()) {
            continue;
        }
        let dotted = field.name().contains('.');
        for (row, value) in rows.iter_mut().zip(to_json(column.as_ref(), None)?) {
            if value.is_null() {
                continue;
            }
            if dotted {
                insert_dotted(row, field.name(), value);
            } else {
                row.insert(field.name().clone(), value);
            }
        }
    }
    Ok(rows.into_iter().map(Value::Object).collect())
}

/// A value under a name flattened with dots (`usage.prompt_tokens`, as
/// pandas' `json_normalize` writes columns), nested again as the CSV reader
/// nests its headers (hunt144's bug5: every call rejected as without
/// usage). A name whose parent is a value already stays as it is.
fn insert_dotted(row: &mut Map<String, Value>, name: &str, value: Value) {
    let mut at = &mut *row;
    let mut parts = name.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            at.entry(part.to_string()).or_insert(value);
            return;
        }
        let child = at
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        match child {
            Value::Object(m) => at = m,
            _ => {
                row.insert(name.to_string(), value);
                return;
            }
        }
    }
}

/// The first `n` rows of the file as JSON lines (for format detection).
pub(crate) fn head_json(
    file: &ParquetFile,
    n: usize,
    max_bytes: usize,
) -> Result<Vec<u8>, ParquetError> {
    let (leaves, _) = json_projection(file)?;
    let mut out = Vec::new();
    let mut failed = None;
    let mut left = n;
    for (rg, (rows, _)) in file.row_groups().enumerate() {
        if left == 0 || out.len() >= max_bytes {
            break;
        }
        if rows == 0 {
            continue;
        }
        // A group that does not decode is passed over (its rows are
        // rejected when read): the file's format is told from the next
        // (hunt78: a damaged first group made the whole file unreadable).
        // Rows a few hundred at a time, up to `max_bytes` of their text.
        let mut read = || -> Result<(), ParquetError> {
            for batch in file.row_group(rg, &leaves, left.min(256))? {
                let rows = batch_rows_json(&batch?).map_err(|e| file.corrupt(rg, e))?;
                left -= rows.len().min(left);
                for row in rows {
                    serde_json::to_writer(&mut out, &row).expect("a JSON value serializes");
                    out.push(b'\n');
                }
                if left == 0 || out.len() >= max_bytes {
                    break;
                }
            }
            Ok(())
        };
        if let Err(e) = read() {
            failed.get_or_insert(e);
        }
    }
    match failed {
        Some(e) if out.is_empty() => Err(e),
        _ => Ok(out),
    }
}

/// Reads a Parquet file in bounded memory (one row group, a batch of at most `batch_rows` rows at
/// a time) and hands each batch of rows, converted to JSON objects, to `on_batch`. Stops early if
/// `on_batch` returns false.
///
/// Batches never straddle row groups, so a batch may be shorter than `batch_rows`; a
/// `batch_rows` of 0 is treated as 1. Batches arrive in file order and `first_row` is the file
/// row index of the first row. Rows with every value null are still delivered, as `{}`.
///
/// Conversion (null values are omitted from objects, but kept as `null` inside arrays); the
/// column reader ([`crate::parquet::columns`]) reads each value the same way:
///
/// | Parquet / Arrow type                   | JSON                                            |
/// |----------------------------------------|-------------------------------------------------|
/// | string, dictionary-encoded string      | string                                          |
/// | int8..int64, uint8..uint64             | number (exact)                                  |
/// | half, float, double                    | number; NaN and ±inf the strings `"NaN"`, `"inf"`, `"-inf"` |
/// | decimal (128 and 256 bits)             | string of the exact decimal, e.g. `"0.001230"`  |
/// | bool                                   | bool                                            |
/// | timestamp (any unit, with or without tz) | RFC 3339 UTC string, e.g. `2024-05-01T12:00:00.5Z` |
/// | date                                   | `"YYYY-MM-DD"` (date64: a timestamp)            |
/// | time of day                            | `"HH:MM:SS[.fraction]"`                         |
/// | duration                               | integer milliseconds (truncated toward zero)    |
/// | struct                                 | nested object                                   |
/// | list, fixed-size list                  | array                                           |
/// | map                                    | object (keys as text; a later duplicate wins)   |
/// | binary, fixed-size binary              | skipped, listed in [`ParquetStats::skipped_columns`] |
/// | interval, union, …                     | [`ParquetError::UnsupportedColumn`]             |
///
/// Timestamps with a time zone are stored in Parquet as UTC instants, so they are rendered in
/// UTC without shifting; timestamps without a time zone are rendered as if they were UTC.
/// Timestamps and dates outside chrono's range become null.
pub fn read_parquet(
    path: &Path,
    batch_rows: usize,
    mut on_batch: impl FnMut(ParquetBatch) -> bool,
) -> Result<ParquetStats, ParquetError> {
    let file = ParquetFile::open(path)?;
    let (leaves, mut stats) = json_projection(&file)?;
    let mut first_row = 0u64;
    let row_groups: Vec<(u64, u64)> = file.row_groups().collect();
    for (rg, (rows, _)) in row_groups.into_iter().enumerate() {
        stats.row_groups += 1;
        if rows == 0 {
            continue;
        }
        let group_start = first_row;
        let mut read = || -> Result<bool, ParquetError> {
            for batch in file.row_group(rg, &leaves, batch_rows)? {
                let batch = batch?;
                let rows = batch_rows_json(&batch).map_err(|e| file.corrupt(rg, e))?;
                let n = rows.len() as u64;
                stats.rows += n;
                let go_on = on_batch(ParquetBatch { first_row, rows });
                first_row += n;
                if !go_on {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        match read() {
            Ok(true) => {}
            Ok(false) => return Ok(stats),
            Err(e) => {
                let lost = (group_start + rows).saturating_sub(first_row);
                stats.bad_groups.push((first_row, lost, e.to_string()));
                first_row = group_start + rows;
            }
        }
    }
    Ok(stats)
}

/// A column of a batch found by its path through structs, with the
/// validity of the structs around it.
pub(crate) fn column_at<'b>(
    batch: &'b RecordBatch,
    path: &[String],
) -> Option<(&'b ArrayRef, Option<NullBuffer>)> {
    let (first, rest) = path.split_first()?;
    let mut column = batch.column_by_name(first)?;
    let mut parents: Option<NullBuffer> = None;
    for name in rest {
        let s = column.as_struct_opt()?;
        parents = NullBuffer::union(parents.as_ref(), s.nulls());
        column = s.column_by_name(name)?;
    }
    Some((column, parents))
}

#[cfg(test)]
pub(crate) mod tests;
