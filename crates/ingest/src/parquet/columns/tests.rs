//! The column reader against the JSON form: for each fixture, every row
//! read column by column gives exactly the record (or reject) its JSON line
//! gives the line reader.

use std::sync::Arc;

use arrow_array::builder::{
    Int64Builder, ListBuilder, MapBuilder, StringBuilder, StringDictionaryBuilder, StructBuilder,
};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, Decimal128Array, Float32Array, Float64Array, Int32Array, Int64Array,
    StringArray, StructArray, TimestampMicrosecondArray, TimestampMillisecondArray,
    TimestampNanosecondArray, UInt64Array,
};
use arrow_schema::{DataType, Field as ArrowField, Fields};

use super::*;
use crate::formats::mapping::MappingConfig;
use crate::formats::Format;
use crate::parquet::tests::write;
use crate::parquet::{read_parquet, ParquetFile};

fn arr(a: impl Array + 'static) -> ArrayRef {
    Arc::new(a)
}

fn strings(v: &[Option<&str>]) -> ArrayRef {
    arr(StringArray::from(v.to_vec()))
}

/// Reads the file both ways and checks they agree; returns the records'
/// debug forms for checks of real values.
fn agree(columns: Vec<(&str, ArrayRef)>, mapping: Option<&str>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "f.parquet", columns, Some(3));
    let mapping = mapping.map(|toml_text| {
        let config: MappingConfig = toml::from_str(toml_text).unwrap();
        Arc::new(Mapping::new(config).unwrap())
    });
    let format = match &mapping {
        Some(m) => Format::Mapped(m.clone()),
        None => Format::Gateway,
    };
    let mut want = Vec::new();
    read_parquet(&path, 1000, |b| {
        for row in b.rows {
            let line = row.to_string();
            want.push(format!("{:?}", format.parse_line_str(&line)));
        }
        true
    })
    .unwrap();

    let file = ParquetFile::open(&path).unwrap();
    let plan = ColumnPlan::new(file.schema(), mapping).unwrap();
    let mut got = Vec::new();
    let groups = file.row_groups().count();
    assert!(groups > 1, "the fixture spans row groups");
    for rg in 0..groups {
        for batch in file.row_group(rg, plan.leaves(), 2).unwrap() {
            plan.read_batch(&batch.unwrap(), |_, r| got.push(format!("{r:?}")));
        }
    }
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "row {i}");
    }
    got
}

#[test]
fn flat_columns_of_many_types() {
    let mut model = StringDictionaryBuilder::<Int32Type>::new();
    for m in [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4o",
        "claude-sonnet-4",
        "gpt-4o",
        "gpt-4o",
    ] {
        model.append_value(m);
    }
    let got = agree(
        vec![
            ("model", arr(model.finish())),
            (
                "provider",
                strings(&[
                    Some("openai"),
                    None,
                    Some(""),
                    Some("anthropic"),
                    Some(" "),
                    Some("openai"),
                ]),
            ),
            (
                "timestamp",
                arr(TimestampMillisecondArray::from(vec![
                    Some(1_714_564_800_500),
                    None,
                    Some(0),
                    Some(1),
                    Some(2),
                    Some(3),
                ])),
            ),
            (
                "prompt_tokens",
                arr(Int32Array::from(vec![
                    Some(1000),
                    Some(5),
                    None,
                    Some(-3),
                    Some(7),
                    Some(8),
                ])),
            ),
            (
                "completion_tokens",
                arr(Int64Array::from(vec![
                    Some(100),
                    Some(1),
                    Some(2),
                    Some(3),
                    None,
                    Some(4),
                ])),
            ),
            (
                "cached_tokens",
                arr(UInt64Array::from(vec![
                    Some(200),
                    None,
                    None,
                    None,
                    None,
                    Some(u64::MAX),
                ])),
            ),
            (
                "cost",
                arr(
                    Decimal128Array::from(vec![Some(12_345), None, Some(1), None, None, Some(-1)])
                        .with_precision_and_scale(18, 6)
                        .unwrap(),
                ),
            ),
            (
                "latency_ms",
                arr(Float64Array::from(vec![
                    Some(12.5),
                    Some(f64::NAN),
                    None,
                    Some(-1.0),
                    Some(3.0),
                    Some(1e300),
                ])),
            ),
            (
                "ttft_ms",
                arr(Float32Array::from(vec![
                    Some(0.1f32),
                    None,
                    None,
                    None,
                    None,
                    None,
                ])),
            ),
            (
                "status",
                strings(&[
                    Some("ok"),
                    Some("429"),
                    Some("error"),
                    None,
                    Some(" 200 "),
                    Some("success"),
                ]),
            ),
            (
                "user",
                arr(UInt64Array::from(vec![
                    Some(42),
                    None,
                    None,
                    None,
                    None,
                    None,
                ])),
            ),
            (
                "batch",
                arr(BooleanArray::from(vec![
                    Some(true),
                    Some(false),
                    None,
                    None,
                    None,
                    None,
                ])),
            ),
            (
                "request_id",
                strings(&[
                    Some("r1"),
                    None,
                    Some("r3"),
                    Some("r4"),
                    Some("r5"),
                    Some("r6"),
                ]),
            ),
            (
                "http_status",
                arr(Int64Array::from(vec![
                    None,
                    Some(500),
                    None,
                    None,
                    None,
                    None,
                ])),
            ),
        ],
        None,
    );
    assert!(
        got[0].contains("model: \"gpt-4o\"") && got[0].contains("input: 1000"),
        "{}",
        got[0]
    );
    assert!(
        got[0].contains("logged_cost: Some(Money(12345000000))"),
        "{}",
        got[0]
    );
    assert!(got[3].starts_with("Err("), "{}", got[3]);
}

/// The shape DuckDB writes from gateway JSON: struct columns.
#[test]
fn nested_struct_columns() {
    let details = |name: &str, v: Vec<Option<u64>>| {
        arr(StructArray::from(vec![(
            Arc::new(ArrowField::new(name, DataType::UInt64, true)),
            arr(UInt64Array::from(v)),
        )]))
    };
    let usage = StructArray::from(vec![
        (
            Arc::new(ArrowField::new("prompt_tokens", DataType::Int64, true)),
            arr(Int64Array::from(vec![
                Some(1000),
                Some(10),
                None,
                Some(5),
                Some(6),
                Some(7),
            ])),
        ),
        (
            Arc::new(ArrowField::new("completion_tokens", DataType::Int64, true)),
            arr(Int64Array::from(vec![
                Some(50),
                Some(1),
                Some(2),
                Some(3),
                Some(4),
                Some(5),
            ])),
        ),
        (
            Arc::new(ArrowField::new(
                "prompt_tokens_details",
                DataType::Struct(Fields::from(vec![ArrowField::new(
                    "cached_tokens",
                    DataType::UInt64,
                    true,
                )])),
                true,
            )),
            details(
                "cached_tokens",
                vec![Some(400), None, None, Some(1), None, None],
            ),
        ),
        (
            Arc::new(ArrowField::new(
                "completion_tokens_details",
                DataType::Struct(Fields::from(vec![ArrowField::new(
                    "reasoning_tokens",
                    DataType::UInt64,
                    true,
                )])),
                true,
            )),
            details(
                "reasoning_tokens",
                vec![Some(20), None, None, None, None, Some(1)],
            ),
        ),
    ]);
    let metadata = StructArray::from(vec![
        (
            Arc::new(ArrowField::new("user_id", DataType::Utf8, true)),
            strings(&[Some("u1"), None, Some("u3"), None, None, None]),
        ),
        (
            Arc::new(ArrowField::new("env", DataType::Utf8, true)),
            strings(&[Some("prod"), Some("dev"), None, None, Some(""), None]),
        ),
        (
            Arc::new(ArrowField::new("feature", DataType::Utf8, true)),
            strings(&[Some("chat"), None, None, None, None, None]),
        ),
        (
            // LiteLLM's spend logs: the failure's class and code.
            Arc::new(ArrowField::new(
                "error_information",
                DataType::Struct(Fields::from(vec![
                    ArrowField::new("error_code", DataType::Utf8, true),
                    ArrowField::new("error_class", DataType::Utf8, true),
                ])),
                true,
            )),
            arr(StructArray::from(vec![
                (
                    Arc::new(ArrowField::new("error_code", DataType::Utf8, true)),
                    strings(&[None, None, Some("429"), None, None, None]),
                ),
                (
                    Arc::new(ArrowField::new("error_class", DataType::Utf8, true)),
                    strings(&[None, None, Some("RateLimitError"), None, None, None]),
                ),
            ])),
        ),
    ]);
    let error = StructArray::from(vec![
        (
            Arc::new(ArrowField::new("message", DataType::Utf8, true)),
            strings(&[None, Some("rate limited"), None, None, Some("x"), None]),
        ),
        (
            // Before `type`, which names the kind whatever the order.
            Arc::new(ArrowField::new("code", DataType::Utf8, true)),
            strings(&[None, Some("429"), None, None, None, None]),
        ),
        (
            Arc::new(ArrowField::new("type", DataType::Utf8, true)),
            strings(&[None, Some("rate_limit_error"), None, None, None, None]),
        ),
    ]);
    let error = StructArray::try_new(
        error.fields().clone(),
        error.columns().to_vec(),
        Some(vec![false, true, false, false, true, false].into()),
    )
    .unwrap();
    let mut tags = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for row in [
        vec![("team", Some("core")), ("b", Some("2"))],
        vec![],
        vec![("a", Some("1")), ("a", Some("2"))],
        vec![("k", None)],
        vec![],
        vec![("z", Some("last"))],
    ] {
        for (k, v) in row {
            tags.keys().append_value(k);
            match v {
                Some(v) => tags.values().append_value(v),
                None => tags.values().append_null(),
            }
        }
        tags.append(true).unwrap();
    }
    let mut messages = ListBuilder::new(StructBuilder::from_fields(
        vec![
            ArrowField::new("role", DataType::Utf8, true),
            ArrowField::new("content", DataType::Utf8, true),
        ],
        0,
    ));
    for (i, content) in [
        Some("Hello there, how are you?"),
        None,
        Some("{}"),
        None,
        None,
        Some("Hi again"),
    ]
    .iter()
    .enumerate()
    {
        if let Some(c) = content {
            let s = messages.values();
            s.field_builder::<StringBuilder>(0)
                .unwrap()
                .append_value(if i == 0 { "system" } else { "user" });
            s.field_builder::<StringBuilder>(1).unwrap().append_value(c);
            s.append(true);
            messages.append(true);
        } else {
            messages.append(false);
        }
    }
    let got = agree(
        vec![
            (
                "model",
                strings(&[
                    Some("gpt-4o"),
                    Some("gpt-4o"),
                    Some("gpt-4o-mini"),
                    None,
                    Some("gpt-4o"),
                    Some("o3"),
                ]),
            ),
            (
                "created_at",
                arr(TimestampNanosecondArray::from(vec![
                    Some(1_714_564_800_123_456_789),
                    None,
                    None,
                    None,
                    None,
                    None,
                ])
                .with_timezone("UTC")),
            ),
            ("usage", arr(usage)),
            ("metadata", arr(metadata)),
            ("error", arr(error)),
            ("tags", arr(tags.finish())),
            ("messages", arr(messages.finish())),
        ],
        None,
    );
    assert!(
        got[0].contains("cached_read: 400") && got[0].contains("reasoning: 20"),
        "{}",
        got[0]
    );
    assert!(
        got[0].contains("(\"env\", \"prod\")") && got[0].contains("(\"team\", \"core\")"),
        "{}",
        got[0]
    );
    assert!(got[1].contains("rate_limit_error"), "{}", got[1]);
    assert!(got[2].contains("\"RateLimitError\""), "{}", got[2]);
}

/// Timestamps as strings, epoch integers and unzoned microseconds; tags as
/// a list and as a struct; Anthropic-style counts with a 1-hour write.
#[test]
fn timestamps_tags_and_anthropic_counts() {
    let mut labels = ListBuilder::new(StringBuilder::new());
    labels.append_value([Some("a"), None, Some("b")]);
    labels.append_null();
    labels.append_value(Vec::<Option<&str>>::new());
    labels.append_value([Some("c")]);
    let cache_creation = StructArray::from(vec![(
        Arc::new(ArrowField::new(
            "ephemeral_1h_input_tokens",
            DataType::Int64,
            true,
        )),
        arr(Int64Array::from(vec![Some(100), None, None, Some(1)])),
    )]);
    let usage = StructArray::from(vec![
        (
            Arc::new(ArrowField::new("input_tokens", DataType::Float64, true)),
            arr(Float64Array::from(vec![
                Some(10.0),
                Some(1.5),
                Some(3.0),
                Some(4.0),
            ])),
        ),
        (
            Arc::new(ArrowField::new("output_tokens", DataType::Int64, true)),
            arr(Int64Array::from(vec![Some(5), Some(1), None, Some(2)])),
        ),
        (
            Arc::new(ArrowField::new(
                "cache_creation_input_tokens",
                DataType::Int64,
                true,
            )),
            arr(Int64Array::from(vec![Some(300), None, None, Some(1)])),
        ),
        (
            Arc::new(ArrowField::new(
                "cache_creation",
                cache_creation.data_type().clone(),
                true,
            )),
            arr(cache_creation),
        ),
    ]);
    let mut team = Int64Builder::new();
    team.append_value(7);
    team.append_null();
    team.append_value(8);
    team.append_value(9);
    let got = agree(
        vec![
            (
                "model",
                strings(&[
                    Some("claude-sonnet-4"),
                    Some("claude-sonnet-4"),
                    Some("x"),
                    Some("claude-sonnet-4"),
                ]),
            ),
            (
                "timestamp",
                strings(&[
                    Some("2024-05-01T12:00:00Z"),
                    Some("yesterday"),
                    None,
                    Some("2024-05-01 12:00:00"),
                ]),
            ),
            (
                "ts",
                arr(Int64Array::from(vec![
                    Some(1_714_564_800),
                    Some(1_714_564_800_000),
                    None,
                    Some(-5),
                ])),
            ),
            (
                "start_time",
                arr(TimestampMicrosecondArray::from(vec![
                    None,
                    None,
                    Some(1_714_564_800_000_001),
                    None,
                ])),
            ),
            ("labels", arr(labels.finish())),
            ("team_id", arr(team.finish())),
            ("usage", arr(usage)),
        ],
        None,
    );
    assert!(
        got[0].contains("cache_write: 300, cache_write_1h: 100"),
        "{}",
        got[0]
    );
    assert!(
        got[0].contains("(\"tag\", \"a\"), (\"tag\", \"b\")"),
        "{}",
        got[0]
    );
}

#[test]
fn a_mapped_file() {
    let llm = StructArray::from(vec![
        (
            Arc::new(ArrowField::new("model_name", DataType::Utf8, true)),
            strings(&[Some("gpt-4o"), Some("gpt-4o-mini"), None, Some("gpt-4o")]),
        ),
        (
            Arc::new(ArrowField::new("tokens_in", DataType::Int64, true)),
            arr(Int64Array::from(vec![Some(1000), Some(20), Some(3), None])),
        ),
        (
            Arc::new(ArrowField::new("tokens_out", DataType::UInt64, true)),
            arr(UInt64Array::from(vec![Some(10), Some(2), Some(1), Some(4)])),
        ),
    ]);
    let payload = StructArray::from(vec![(
        Arc::new(ArrowField::new("llm", llm.data_type().clone(), true)),
        arr(llm),
    )]);
    let got = agree(
        vec![
            ("payload", arr(payload)),
            (
                "when",
                arr(Int64Array::from(vec![
                    Some(1_714_564_800_000),
                    None,
                    Some(1_714_564_805_000),
                    Some(6),
                ])),
            ),
            (
                "service",
                strings(&[Some("search"), None, Some("chat"), None]),
            ),
            ("env", strings(&[Some("prod"), Some("dev"), None, None])),
            (
                "payload.llm.model_name",
                strings(&[None, None, Some("dotted"), None]),
            ),
        ],
        Some(
            r#"
            model = "payload.llm.model_name"
            feature = ["labels.feature", "service"]
            input_tokens = "payload.llm.tokens_in"
            output_tokens = "payload.llm.tokens_out"
            timestamp = "when"
            timestamp_unit = "ms"
            [defaults]
            provider = "openai"
            [tags]
            env = "env"
            "#,
        ),
    );
    assert!(
        got[0].contains("model: \"gpt-4o\"") && got[0].contains("feature: Some(\"search\")"),
        "{}",
        got[0]
    );
    assert!(got[2].contains("model: \"dotted\""), "{}", got[2]);
}

#[test]
fn what_the_plan_cannot_follow_is_said() {
    let mut meta = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    meta.append(true).unwrap();
    let batch = RecordBatch::try_from_iter(vec![("metadata", arr(meta.finish()))]).unwrap();
    let err = ColumnPlan::new(&batch.schema(), None).unwrap_err();
    assert!(err.contains("'metadata' is a map"), "{err}");
}

#[test]
fn a_plan_lists_only_the_columns_it_reads_in_key_order() {
    let usage = StructArray::from(vec![
        (
            Arc::new(ArrowField::new("prompt_tokens", DataType::Int64, true)),
            arr(Int64Array::from(vec![1])),
        ),
        (
            Arc::new(ArrowField::new(
                "prompt_tokens_ratio",
                DataType::Int64,
                true,
            )),
            arr(Int64Array::from(vec![1])),
        ),
    ]);
    let batch = RecordBatch::try_from_iter(vec![
        ("zzz_unknown", strings(&[Some("x")])),
        ("usage", arr(usage)),
        ("model", strings(&[Some("gpt-4o")])),
        ("messages", strings(&[Some("hi")])),
    ])
    .unwrap();
    let plan = ColumnPlan::new(&batch.schema(), None).unwrap();
    let entries: Vec<(String, Target)> = plan.entries().map(|(p, t)| (p, t.clone())).collect();
    assert_eq!(
        entries,
        vec![
            ("messages".into(), Target::Text(Field::Messages)),
            (
                "model".into(),
                Target::Key {
                    field: Field::Model,
                    key: "model".into(),
                    at: KeyAt {
                        metadata: false,
                        depth: 0,
                        rank: 0
                    }
                }
            ),
            (
                "usage.prompt_tokens".into(),
                Target::UsageCount(UsageKey::PromptTokens)
            ),
        ]
    );
    // Leaves in file order: zzz_unknown 0, usage.prompt_tokens 1,
    // usage.total_tokens 2, model 3, messages 4.
    assert_eq!(plan.leaves(), &[1, 3, 4]);
}

/// The pairs read straight from typed arrays (`Op::Str`, `Op::Int`,
/// `Op::Instant`) at their edges: a negative count inside a usage struct
/// is the row's reject, a timestamp past chrono's range leaves the next
/// timestamp key to fill it, blank text is no label, a status that is a
/// number is the HTTP status, text under `metadata` is a tag.
#[test]
fn typed_reads_at_their_edges() {
    let usage = StructArray::from(vec![
        (
            Arc::new(ArrowField::new("completion_tokens", DataType::Int64, true)),
            arr(Int64Array::from(vec![Some(40), Some(-2), None, Some(0)])),
        ),
        (
            Arc::new(ArrowField::new("prompt_tokens", DataType::Int64, true)),
            arr(Int64Array::from(vec![Some(1000), Some(10), Some(7), None])),
        ),
    ]);
    let metadata = StructArray::from(vec![(
        Arc::new(ArrowField::new("tenant", DataType::Utf8, true)),
        strings(&[Some("acme"), Some(""), None, Some("beta")]),
    )]);
    let got = agree(
        vec![
            (
                "model",
                strings(&[Some("gpt-4o"), Some("gpt-4o"), Some("  "), Some("gpt-4o")]),
            ),
            (
                "status",
                strings(&[Some("ok"), Some("503"), None, Some(" 429")]),
            ),
            (
                "timestamp",
                arr(TimestampMicrosecondArray::from(vec![
                    Some(1_714_564_800_000_000),
                    Some(i64::MAX),
                    None,
                    Some(i64::MIN),
                ])),
            ),
            (
                "ts",
                arr(Int64Array::from(vec![
                    None,
                    Some(1_714_564_801),
                    None,
                    None,
                ])),
            ),
            ("usage", arr(usage)),
            ("metadata", arr(metadata)),
        ],
        None,
    );
    assert!(
        got[0].starts_with("Ok(")
            && got[0].contains("timestamp: Some(2024-05-01T12:00:00Z)")
            && got[0].contains("input: 1000")
            && got[0].contains("output: 40")
            && got[0].contains("(\"tenant\", \"acme\")"),
        "{}",
        got[0]
    );
    // -2 completion tokens: the row is a reject, whatever else it holds.
    assert!(
        got[1].starts_with("Err(") && got[1].contains("Negative"),
        "{}",
        got[1]
    );
    // A blank model: a reject too.
    assert!(got[2].starts_with("Err("), "{}", got[2]);
    assert!(
        got[3].contains("http_status: Some(429)") && got[3].contains("timestamp: None"),
        "{}",
        got[3]
    );
}

/// A `tags` struct: text and numbers are labels, blank text and nulls are
/// no tag, and a field whose name is blank is never one.
#[test]
fn a_tags_struct_reads_labels_and_skips_blank_names() {
    let tags = StructArray::from(vec![
        (
            Arc::new(ArrowField::new(" ", DataType::Utf8, true)),
            strings(&[Some("x"), Some("y"), Some("z"), None, None, None]),
        ),
        (
            Arc::new(ArrowField::new("env", DataType::Utf8, true)),
            strings(&[Some("prod"), Some(" "), None, Some("dev"), None, None]),
        ),
        (
            Arc::new(ArrowField::new("shard", DataType::Int64, true)),
            arr(Int64Array::from(vec![
                Some(7),
                None,
                Some(-1),
                None,
                None,
                Some(0),
            ])),
        ),
    ]);
    let got = agree(
        vec![
            ("model", strings(&[Some("gpt-4o"); 6])),
            ("prompt_tokens", arr(Int64Array::from(vec![10; 6]))),
            ("tags", arr(tags)),
        ],
        None,
    );
    assert!(
        got[0].contains("tags: [(\"env\", \"prod\"), (\"shard\", \"7\")]"),
        "{}",
        got[0]
    );
    assert!(got[1].contains("tags: []"), "{}", got[1]);
    assert!(got[2].contains("tags: [(\"shard\", \"-1\")]"), "{}", got[2]);
    assert!(got[3].contains("tags: [(\"env\", \"dev\")]"), "{}", got[3]);
    assert!(got[5].contains("tags: [(\"shard\", \"0\")]"), "{}", got[5]);
}

/// DuckDB's `unnest(usage, recursive := true)` puts Anthropic's cache-write
/// split at the top level; it is read there as inside `usage`.
#[test]
fn a_flattened_cache_write_split_is_read() {
    let got = agree(
        vec![
            ("model", strings(&[Some("claude-sonnet-4"); 4])),
            ("input_tokens", arr(Int64Array::from(vec![10, 20, 30, 40]))),
            ("output_tokens", arr(Int64Array::from(vec![1, 2, 3, 4]))),
            (
                "cache_creation_input_tokens",
                arr(Int64Array::from(vec![300, 0, 5, 7])),
            ),
            (
                "ephemeral_5m_input_tokens",
                arr(Int64Array::from(vec![Some(200), Some(0), None, Some(7)])),
            ),
            (
                "ephemeral_1h_input_tokens",
                arr(Int64Array::from(vec![Some(100), Some(0), None, Some(0)])),
            ),
        ],
        None,
    );
    assert!(
        got[0].contains("cache_write: 300, cache_write_1h: 100"),
        "{}",
        got[0]
    );
    assert!(
        got[3].contains("cache_write: 7, cache_write_1h: 0"),
        "{}",
        got[3]
    );
}

/// A warehouse's JSON column exported to Parquet is text (BigQuery's
/// `full_response`, Snowflake's VARIANT): a mapped path goes on inside the
/// JSON, for tokens and tags, as it does in the same row read as JSON text.
/// Before, every row was rejected as without usage.
#[test]
fn mapped_paths_go_on_inside_json_text_columns() {
    let response = |p: u64, c: u64| {
        Some(format!(
            r#"{{"usageMetadata":{{"promptTokenCount":{p},"candidatesTokenCount":{c}}},"labels":[{{"env":"prod"}}]}}"#
        ))
    };
    let responses: Vec<Option<String>> = vec![
        response(6000, 2000),
        None,
        Some("not json".into()),
        response(10, 1),
        // Written twice over: JSON text of the JSON text.
        Some(serde_json::to_string(&response(20, 2).unwrap()).unwrap()),
    ];
    let got = agree(
        vec![
            ("MODEL", strings(&[Some("gemini-2.5-flash"); 5])),
            (
                "full_response",
                arr(StringArray::from_iter(
                    responses.iter().map(|r| r.as_deref()),
                )),
            ),
        ],
        Some(
            "model = \"MODEL\"\n\
             input_tokens = \"full_response.usageMetadata.promptTokenCount\"\n\
             output_tokens = \"full_response.usageMetadata.candidatesTokenCount\"\n\
             [tags]\nenv = \"full_response.labels.0.env\"\n",
        ),
    );
    assert!(
        got[0].contains("input: 6000") && got[0].contains("output: 2000"),
        "{}",
        got[0]
    );
    assert!(got[0].contains("(\"env\", \"prod\")"), "{}", got[0]);
    assert!(got[1].starts_with("Err"), "{}", got[1]);
    assert!(got[2].starts_with("Err"), "{}", got[2]);
    assert!(got[3].contains("input: 10"), "{}", got[3]);
    assert!(got[4].contains("input: 20"), "{}", got[4]);
}

/// A logged response (or request, or `output`) column of JSON text is read
/// as the object it holds, as in the same row read as a JSON line: the
/// model that answered, its usage, the request's model and max tokens.
#[test]
fn bodies_in_json_text_columns_are_read() {
    let gpt = r#"{"id":"chatcmpl-1","model":"gpt-4o-2024-08-06","usage":{"prompt_tokens":1000,"completion_tokens":100,"prompt_tokens_details":{"cached_tokens":200}}}"#;
    let claude = r#"{"id":"msg_1","model":"claude-sonnet-4-5-20250929","stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":100}}"#;
    let asked = r#"{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"#;
    let mini = r#"{"model":"gpt-4o-mini","usage":{"prompt_tokens":7,"completion_tokens":3}}"#;
    let got = agree(
        vec![
            ("ts", strings(&[Some("2026-10-01T09:00:00Z"); 6])),
            (
                "response",
                strings(&[
                    Some(gpt),
                    None,
                    Some(claude),
                    Some("just text"),
                    Some(r#"{"model":"gpt-4o","usage":"#),
                    Some(mini),
                ]),
            ),
            (
                "request_body",
                strings(&[None, None, Some(asked), None, None, None]),
            ),
            (
                "output",
                strings(&[None, Some(claude), None, None, None, None]),
            ),
        ],
        None,
    );
    let has = |i: usize, parts: &[&str]| {
        for p in parts {
            assert!(got[i].contains(p), "row {i}: {p} in {}", got[i]);
        }
    };
    has(
        0,
        &[
            "gpt-4o-2024-08-06",
            "input: 1000",
            "cached_read: 200",
            "output: 100",
        ],
    );
    has(
        1,
        &[
            "claude-sonnet-4-5-20250929",
            "input: 110",
            "cached_read: 100",
        ],
    );
    has(
        2,
        &[
            "claude-sonnet-4-5-20250929",
            "max_tokens: Some(64)",
            "input: 110",
        ],
    );
    has(3, &["Err", "MissingModel"]);
    has(4, &["Err", "MissingModel"]);
    has(5, &["gpt-4o-mini", "input: 7", "output: 3"]);
}

/// A row's columns are read in name order, as a key-sorted JSON line:
/// which of two keys for one slot a row gives is their rank's, not their
/// order's (hunt57: LiteLLM's `team_id` against its key's
/// `user_api_key_team_alias`, which sorts first, in `metadata`).
#[test]
fn of_two_keys_for_one_slot_the_rank_decides() {
    let metadata = StructArray::from(vec![
        (
            Arc::new(ArrowField::new("feature", DataType::Utf8, true)),
            strings(&[Some("meta-feature"), Some("meta-feature"), None, None]),
        ),
        (
            Arc::new(ArrowField::new(
                "user_api_key_team_alias",
                DataType::Utf8,
                true,
            )),
            strings(&[Some("support"); 4]),
        ),
    ]);
    let got = agree(
        vec![
            ("model", strings(&[Some("gpt-4o"); 4])),
            (
                "created_at",
                arr(TimestampMillisecondArray::from(vec![
                    Some(1_759_658_400_000),
                    None,
                    Some(1_759_658_400_000),
                    None,
                ])),
            ),
            (
                "feature",
                strings(&[Some("search"), None, Some("search"), None]),
            ),
            ("metadata", arr(metadata)),
            (
                "team_id",
                strings(&[Some("team-support"), Some("team-support"), None, None]),
            ),
            (
                "timestamp",
                strings(&[
                    Some("2025-10-01T10:00:00Z"),
                    Some("2025-10-01T10:00:00Z"),
                    None,
                    Some("2025-10-02T10:00:00Z"),
                ]),
            ),
            ("prompt_tokens", arr(Int64Array::from(vec![Some(10); 4]))),
            ("completion_tokens", arr(Int64Array::from(vec![Some(1); 4]))),
        ],
        None,
    );
    // `timestamp` over `created_at` (2025-10-05); the line's `feature`
    // over `metadata`'s; `team_id` over the key's alias.
    assert!(got[0].contains("2025-10-01T10:00:00Z"), "{}", got[0]);
    assert!(got[0].contains("feature: Some(\"search\")"), "{}", got[0]);
    assert!(
        got[0].contains("team: Some(\"team-support\")"),
        "{}",
        got[0]
    );
    // What a row lacks, the next key gives.
    assert!(
        got[1].contains("feature: Some(\"meta-feature\")"),
        "{}",
        got[1]
    );
    assert!(got[2].contains("2025-10-05T10:00:00Z"), "{}", got[2]);
    assert!(got[2].contains("team: Some(\"support\")"), "{}", got[2]);
}

/// hunt60: an unset time in a timestamp column (Go's zero time, DuckDB's
/// copy of a JSON line's `0001-01-01T00:00:00Z`) under the key that ranks
/// first gives way to another key's time, as in the JSON form.
#[test]
fn an_unset_time_column_gives_way() {
    const GO_ZERO_MICROS: i64 = -62_135_596_800_000_000;
    let got = agree(
        vec![
            ("model", strings(&[Some("gpt-4o"); 4])),
            ("created_at", strings(&[Some("2025-10-05T10:00:00Z"); 4])),
            (
                "timestamp",
                arr(TimestampMicrosecondArray::from(vec![
                    Some(GO_ZERO_MICROS),
                    Some(1_759_312_800_000_000),
                    None,
                    Some(GO_ZERO_MICROS),
                ])
                .with_timezone("UTC")),
            ),
            ("prompt_tokens", arr(Int64Array::from(vec![Some(10); 4]))),
            ("completion_tokens", arr(Int64Array::from(vec![Some(1); 4]))),
        ],
        None,
    );
    for (row, day) in [
        (0, "2025-10-05"),
        (1, "2025-10-01"),
        (2, "2025-10-05"),
        (3, "2025-10-05"),
    ] {
        assert!(
            got[row].contains(&format!("{day}T10:00:00Z")),
            "{row}: {}",
            got[row]
        );
    }
}

/// hunt62: a request's `metadata` column of JSON text (DuckDB's JSON type)
/// was read at the line's depth, so it beat the line's own metadata, where
/// the JSON line and a STRUCT column rank it last.
#[test]
fn a_bodys_metadata_text_ranks_after_the_lines() {
    let request = StructArray::from(vec![(
        Arc::new(ArrowField::new("metadata", DataType::Utf8, true)),
        strings(&[Some(r#"{"user":"sha256:0f3a"}"#); 4]),
    )]);
    let metadata = StructArray::from(vec![(
        Arc::new(ArrowField::new("user_id", DataType::Utf8, true)),
        strings(&[Some("alice"), None, Some("alice"), Some("alice")]),
    )]);
    let got = agree(
        vec![
            ("model", strings(&[Some("gpt-4o"); 4])),
            ("metadata", arr(metadata)),
            ("request", arr(request)),
            ("prompt_tokens", arr(Int64Array::from(vec![Some(10); 4]))),
            ("completion_tokens", arr(Int64Array::from(vec![Some(1); 4]))),
        ],
        None,
    );
    assert!(got[0].contains("user: Some(\"alice\")"), "{}", got[0]);
    // Without the line's, the request's is the user.
    assert!(got[1].contains("user: Some(\"sha256:0f3a\")"), "{}", got[1]);
}

/// OpenAI completion objects copied to Parquet (DuckDB writes `choices` as
/// a list of structs): the first choice's finish reason is read as in the
/// JSON line (hunt60's bug8: TA112 was never found in such a file). A
/// second choice, an empty list and a null list give nothing more.
#[test]
fn a_choices_list_column_is_read_as_json_reads_it() {
    use arrow_array::ListArray;
    use arrow_buffer::OffsetBuffer;
    let message = StructArray::from(vec![
        (
            Arc::new(ArrowField::new("content", DataType::Utf8, true)),
            strings(&[Some("a"), Some("b"), Some("c"), Some("d")]),
        ),
        (
            Arc::new(ArrowField::new("role", DataType::Utf8, true)),
            strings(&[Some("assistant"); 4]),
        ),
    ]);
    let element = StructArray::from(vec![
        (
            Arc::new(ArrowField::new("finish_reason", DataType::Utf8, true)),
            strings(&[Some("length"), Some("stop"), Some("content_filter"), None]),
        ),
        (
            Arc::new(ArrowField::new("index", DataType::Int64, true)),
            arr(Int64Array::from(vec![Some(0), Some(0), Some(1), Some(0)])),
        ),
        (
            Arc::new(ArrowField::new(
                "message",
                message.data_type().clone(),
                true,
            )),
            arr(message),
        ),
    ]);
    let item = Arc::new(ArrowField::new("item", element.data_type().clone(), true));
    // Rows: [length], [stop, content_filter], [], null, [no reason].
    let choices = ListArray::new(
        item,
        OffsetBuffer::new(vec![0, 1, 3, 3, 3, 4].into()),
        arr(element),
        Some(vec![true, true, true, false, true].into()),
    );
    let got = agree(
        vec![
            ("model", strings(&[Some("gpt-4o"); 5])),
            (
                "created",
                arr(Int64Array::from(vec![Some(1_790_000_000); 5])),
            ),
            ("choices", arr(choices)),
            ("prompt_tokens", arr(Int64Array::from(vec![Some(10); 5]))),
            ("completion_tokens", arr(Int64Array::from(vec![Some(1); 5]))),
        ],
        None,
    );
    let reasons: Vec<bool> = ["Some(\"length\")", "Some(\"stop\")"]
        .iter()
        .zip(&got)
        .map(|(want, g)| g.contains(&format!("finish_reason: {want}")))
        .collect();
    assert_eq!(reasons, [true, true], "{got:#?}");
    for g in &got[2..] {
        assert!(g.contains("finish_reason: None"), "{g}");
    }
}

/// The same `choices` as JSON text (DuckDB's JSON type, a VARCHAR copy of
/// it): read as the list, in the column and in the JSON line (hunt64).
#[test]
fn a_choices_column_of_json_text_is_read_as_the_list() {
    let got = agree(
        vec![
            ("model", strings(&[Some("gpt-4o"); 4])),
            (
                "choices",
                strings(&[
                    Some(r#"[{"finish_reason":"length","index":0}]"#),
                    Some(r#"[{"index":0,"finish_reason":"stop"},{"finish_reason":"length"}]"#),
                    Some("not a list"),
                    None,
                ]),
            ),
            ("prompt_tokens", arr(Int64Array::from(vec![Some(10); 4]))),
            ("completion_tokens", arr(Int64Array::from(vec![Some(1); 4]))),
        ],
        None,
    );
    assert!(
        got[0].contains("finish_reason: Some(\"length\")"),
        "{}",
        got[0]
    );
    assert!(
        got[1].contains("finish_reason: Some(\"stop\")"),
        "{}",
        got[1]
    );
    for g in &got[2..] {
        assert!(g.contains("finish_reason: None"), "{g}");
    }
}

/// A mapped usage object is read whole, in a struct column or in JSON
/// text, as its JSON line reads it (hunt120: the cached tokens beside the
/// mapped counts went unread): the object holding the mapped counts, or
/// the one `usage` names; a null one goes on to the next place.
#[test]
fn mapped_usage_objects_are_read_whole() {
    let counts = |i: &[Option<i64>]| arr(Int64Array::from(i.to_vec()));
    let usage = StructArray::from(vec![
        (
            Arc::new(ArrowField::new("input_tokens", DataType::Int64, true)),
            counts(&[Some(5000), Some(10), Some(7), Some(5000)]),
        ),
        (
            Arc::new(ArrowField::new("output_tokens", DataType::Int64, true)),
            counts(&[Some(300), Some(1), Some(2), Some(300)]),
        ),
        (
            Arc::new(ArrowField::new(
                "input_tokens_details",
                DataType::Struct(Fields::from(vec![ArrowField::new(
                    "cached_tokens",
                    DataType::Int64,
                    true,
                )])),
                true,
            )),
            arr(StructArray::from(vec![(
                Arc::new(ArrowField::new("cached_tokens", DataType::Int64, true)),
                counts(&[Some(2000), None, Some(3), Some(2000)]),
            )])),
        ),
    ]);
    let span = arr(StructArray::from(vec![
        (
            Arc::new(ArrowField::new("model", DataType::Utf8, true)),
            strings(&[Some("gpt-4o"); 4]),
        ),
        (
            Arc::new(ArrowField::new("usage", usage.data_type().clone(), true)),
            arr(usage),
        ),
    ]));
    let body = strings(&[
        Some(
            r#"{"usage":{"prompt_tokens":900,"completion_tokens":9,"prompt_tokens_details":{"cached_tokens":800}}}"#,
        ),
        None,
        Some(r#"{"usage":null}"#),
        Some(
            r#"{"usage":{"prompt_tokens":900,"completion_tokens":9,"prompt_tokens_details":{"cached_tokens":800}}}"#,
        ),
    ]);
    let columns = || {
        vec![
            ("span", span.clone()),
            ("answer", body.clone()),
            ("ts", strings(&[Some("2026-11-03T10:00:00Z"); 4])),
        ]
    };
    let got = agree(
        columns(),
        Some(
            "model = \"span.model\"\ninput_tokens = \"span.usage.input_tokens\"\noutput_tokens = \"span.usage.output_tokens\"\n",
        ),
    );
    assert!(got[0].contains("cached_read: 2000"), "{}", got[0]);
    assert!(got[2].contains("cached_read: 3"), "{}", got[2]);
    let got = agree(
        columns(),
        Some("model = \"span.model\"\nusage = [\"answer.usage\", \"span.usage\"]\n"),
    );
    assert!(
        got[0].contains("input: 900") && got[0].contains("cached_read: 800"),
        "{}",
        got[0]
    );
    assert!(got[1].contains("input: 10"), "{}", got[1]);
    assert!(
        got[2].contains("input: 7") && got[2].contains("cached_read: 3"),
        "{}",
        got[2]
    );
}
