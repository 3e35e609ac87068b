use std::fs;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::types::Int64Type;
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, DurationMicrosecondArray, Float32Array,
    Float64Array, Int32Array, Int64Array, ListArray, StringArray, StructArray,
    TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray, UInt64Array,
};
use serde_json::json;

use super::*;

/// Writes `columns` as a Parquet file, `row_group_size` rows a row group.
pub(crate) fn write(
    dir: &Path,
    name: &str,
    columns: Vec<(&str, ArrayRef)>,
    row_group_size: Option<usize>,
) -> PathBuf {
    let path = dir.join(name);
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let mut props = ::parquet::file::properties::WriterProperties::builder();
    if let Some(n) = row_group_size {
        props = props.set_max_row_group_row_count(Some(n));
    }
    let file = File::create(&path).unwrap();
    let mut w =
        ::parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props.build())).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    path
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

fn arr(a: impl Array + 'static) -> ArrayRef {
    Arc::new(a)
}

#[test]
fn flat_columns_of_every_type() {
    let dir = tempfile::tempdir().unwrap();
    let columns = vec![
        (
            "model",
            arr(StringArray::from(vec![Some("gpt-4o"), None, Some("")])),
        ),
        (
            "i64",
            arr(Int64Array::from(vec![Some(i64::MIN), Some(-1), None])),
        ),
        ("i32", arr(Int32Array::from(vec![Some(7), None, Some(-7)]))),
        (
            "u64",
            arr(UInt64Array::from(vec![Some(u64::MAX), None, Some(0)])),
        ),
        (
            "f64",
            arr(Float64Array::from(vec![
                Some(1.5),
                Some(f64::NAN),
                Some(f64::INFINITY),
            ])),
        ),
        (
            "f32",
            arr(Float32Array::from(vec![Some(0.1f32), None, Some(-2.0)])),
        ),
        (
            "ok",
            arr(BooleanArray::from(vec![Some(true), Some(false), None])),
        ),
        (
            "ts_ms",
            arr(TimestampMillisecondArray::from(vec![
                Some(1_714_564_800_500),
                None,
                Some(0),
            ])),
        ),
        // Stored as UTC instants; the zone must not shift the output.
        (
            "ts_tz",
            arr(
                TimestampMicrosecondArray::from(vec![Some(1_714_564_800_000_001), None, None])
                    .with_timezone("Europe/Berlin"),
            ),
        ),
        (
            "ts_ns",
            arr(
                TimestampNanosecondArray::from(vec![Some(1_714_564_800_123_456_789), None, None])
                    .with_timezone("UTC"),
            ),
        ),
        (
            "day",
            arr(Date32Array::from(vec![Some(19_844), None, Some(-1)])),
        ),
        (
            "latency",
            arr(DurationMicrosecondArray::from(vec![
                Some(1_234_567),
                None,
                Some(-1_500),
            ])),
        ),
        (
            "raw",
            arr(
                arrow_array::FixedSizeBinaryArray::try_from_sparse_iter_with_size(
                    vec![Some(b"\x00\x01"), None, Some(b"xy")].into_iter(),
                    2,
                )
                .unwrap(),
            ),
        ),
        // Bytes without a text type (Impala's, Hive's strings): text where
        // they are UTF-8 (hunt184: dropped), no value where not.
        (
            "bytes",
            arr(BinaryArray::from(vec![
                Some(&b"gpt"[..]),
                None,
                Some(&b"\xff\xfe"[..]),
            ])),
        ),
        (
            "price",
            arr(
                arrow_array::Decimal64Array::from(vec![Some(1_250), None, Some(-7)])
                    .with_precision_and_scale(18, 3)
                    .unwrap(),
            ),
        ),
        (
            "usage.total_tokens",
            arr(UInt64Array::from(vec![Some(10), None, Some(3)])),
        ),
        (
            "nothing",
            arr(Int64Array::from(vec![None::<i64>, None, None])),
        ),
        (
            "cost",
            arr(
                arrow_array::Decimal128Array::from(vec![Some(123_000), None, Some(-5)])
                    .with_precision_and_scale(20, 6)
                    .unwrap(),
            ),
        ),
    ];
    let path = write(dir.path(), "flat.parquet", columns, None);
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
                "latency": 1234, "usage": {"total_tokens": 10}, "cost": "0.123000",
                "bytes": "gpt", "price": "1.250"
            }),
            json!({"i64": -1, "f64": "NaN", "ok": false}),
            json!({
                "model": "", "i32": -7, "u64": 0, "f64": "inf", "f32": -2.0,
                "ts_ms": "1970-01-01T00:00:00Z", "day": "1969-12-31", "latency": -1,
                "usage": {"total_tokens": 3}, "cost": "-0.000005", "price": "-0.007"
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
            "bytes",
            "price",
            "usage.total_tokens",
            "nothing",
            "cost"
        ]
        .map(String::from)
    );
    // Exactness: u64::MAX and i64::MIN survive as integers, not floats.
    assert!(batches[0].rows[0]["u64"].is_u64());
    assert!(batches[0].rows[0]["i64"].is_i64());
}

fn usage_struct() -> ArrayRef {
    let prompt = arr(UInt64Array::from(vec![Some(100), Some(5), None, Some(1)]));
    let completion = arr(UInt64Array::from(vec![Some(20), None, None, Some(2)]));
    let body = arr(
        arrow_array::FixedSizeBinaryArray::try_from_sparse_iter_with_size(
            vec![Some(b"ab"), None, None, None].into_iter(),
            2,
        )
        .unwrap(),
    );
    arr(StructArray::try_from(vec![
        ("prompt_tokens", prompt),
        ("completion_tokens", completion),
        ("body", body),
    ])
    .unwrap())
}

#[test]
fn struct_and_list_columns_nest() {
    let dir = tempfile::tempdir().unwrap();
    let mut tags = ListBuilder::new(StringBuilder::new());
    tags.append_value([Some("a"), None]);
    tags.append_value(Vec::<Option<&str>>::new());
    tags.append_null();
    tags.append_value([Some("b")]);
    let nums = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        None,
        Some(vec![Some(3)]),
        Some(vec![Some(4), Some(5), Some(6)]),
    ]);
    let columns = vec![
        ("id", arr(Int64Array::from(vec![0, 1, 2, 3]))),
        ("usage", usage_struct()),
        ("tags", arr(tags.finish())),
        ("nums", arr(nums)),
    ];
    let path = write(dir.path(), "nested.parquet", columns, None);

    let expected = vec![
        json!({"id": 0, "usage": {"prompt_tokens": 100, "completion_tokens": 20}, "tags": ["a", null], "nums": [1, 2]}),
        json!({"id": 1, "usage": {"prompt_tokens": 5}, "tags": []}),
        json!({"id": 2, "usage": {}, "nums": [3]}),
        json!({"id": 3, "usage": {"prompt_tokens": 1, "completion_tokens": 2}, "tags": ["b"], "nums": [4, 5, 6]}),
    ];
    // Whole row group at once, and in smaller batches.
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
    let names: Vec<String> = (0..n).map(|i| format!("req-{i}")).collect();
    let columns = vec![
        ("id", arr(UInt64Array::from_iter_values(0..n))),
        ("name", arr(StringArray::from(names))),
    ];
    let path = write(dir.path(), "groups.parquet", columns, Some(100));

    let (batches, stats) = read_all(&path, 30);
    assert_eq!(
        stats.row_groups, 10,
        "writer should have produced 10 row groups"
    );
    assert_eq!(stats.rows, n);
    // 100 rows per group in batches of 30: 30, 30, 30, 10, never straddling a group.
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
    let columns = vec![("id", arr(Int64Array::from_iter_values(0..500)))];
    let path = write(dir.path(), "stop.parquet", columns, Some(100));
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

    let columns = vec![("id", arr(Int64Array::from_iter_values(0..2000)))];
    let good = write(dir.path(), "good.parquet", columns, Some(500));
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

    // Footer intact, data pages overwritten: an error naming the row group, never a panic.
    let mut smashed = bytes.clone();
    for b in &mut smashed[4..bytes.len() / 2] {
        *b = 0xA5;
    }
    let smashed_path = dir.path().join("smashed.parquet");
    fs::write(&smashed_path, &smashed).unwrap();
    // Its first half smashed: the groups there are said, each with its
    // rows, and the groups after them are read (hunt78: one bad group lost
    // every later one).
    let result = std::panic::catch_unwind(|| read_parquet(&smashed_path, 10, |_| true));
    match result {
        Ok(Ok(stats)) => {
            let bad: Vec<(u64, u64)> = stats.bad_groups.iter().map(|(f, n, _)| (*f, *n)).collect();
            assert_eq!(bad, [(0, 500), (500, 500), (1000, 500)]);
            assert!(stats.bad_groups[0]
                .2
                .contains("corrupt parquet data in row group 0"));
            assert_eq!(stats.rows, 500);
        }
        other => panic!("expected the bad groups said, got {other:?}"),
    }

    let missing = dir.path().join("missing.parquet");
    let err = read_parquet(&missing, 10, never).unwrap_err();
    assert!(matches!(err, ParquetError::Io { .. }), "{err:?}");
}

#[test]
fn time_of_day_and_decimal_formatting() {
    assert_eq!(
        time_of_day(3_723_500, TimeUnit::Millisecond).unwrap(),
        "01:02:03.500"
    );
    assert_eq!(time_of_day(0, TimeUnit::Second).unwrap(), "00:00:00");
    assert_eq!(time_of_day(-1, TimeUnit::Second), None);
    assert_eq!(decimal("123".into(), 5), "0.00123");
    assert_eq!(decimal("-123".into(), 2), "-1.23");
    assert_eq!(decimal("7".into(), 0), "7");
    assert_eq!(decimal("7".into(), -2), "700");
}
