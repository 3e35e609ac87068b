//! The FinOps FOCUS export (`audit --format focus`): rows per day, model and
//! token type whose costs are computed here by hand, list cost against
//! effective cost (cache and batch discounts), the exact sum to the audit's
//! spend, and the Parquet file read back.
//!
//! Prices (shipped catalog, `tokenaudit prices show`):
//! - openai/gpt-4o: input $2.50, cached $1.25, output $10 per million; batch ×0.5
//! - anthropic/claude-sonnet-4-5: input $3, cached $0.30, 5m write $3.75,
//!   1h write $6, output $15 per million

use std::collections::BTreeMap;

use tokenaudit_core::Money;

use crate::util::Env;

/// A minimal RFC 4180 reader (quoted cells may hold commas, quotes, newlines).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(
        row.is_empty() && cell.is_empty(),
        "CSV ends without a newline"
    );
    rows
}

/// The CSV as one map per row, column name → cell.
pub(crate) fn records(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut rows = parse_csv(text).into_iter();
    let header = rows.next().expect("a header row");
    rows.map(|r| {
        assert_eq!(r.len(), header.len(), "ragged row {r:?}");
        header.iter().cloned().zip(r).collect()
    })
    .collect()
}

/// The file's one batch (the writer writes a single row group).
fn one_batch(batches: &[arrow_array::RecordBatch]) -> arrow_array::RecordBatch {
    assert_eq!(batches.len(), 1, "one batch");
    batches[0].clone()
}

pub(crate) fn money(text: &str) -> Money {
    Money::parse_usd(text).unwrap_or_else(|| panic!("not money: {text:?}"))
}

fn fixture(env: &Env) {
    let lines = [
        // gpt-4o, real time: 10,000 prompt tokens, 8,000 of them cached; 500 out.
        r#"{"timestamp":"2026-10-01T09:00:00Z","model":"gpt-4o","feature":"chat","route":"/v1/chat","team":"core","usage":{"prompt_tokens":10000,"completion_tokens":500,"prompt_tokens_details":{"cached_tokens":8000}}}"#,
        // gpt-4o, batch: 100,000 prompt, 10,000 out.
        r#"{"timestamp":"2026-10-01T10:00:00Z","model":"gpt-4o","feature":"chat","route":"/v1/chat","team":"core","batch":true,"usage":{"prompt_tokens":100000,"completion_tokens":10000}}"#,
        // gpt-4o, batch with cached reads: 4,000 prompt, 2,000 cached, no output.
        r#"{"timestamp":"2026-10-01T23:59:59Z","model":"gpt-4o","feature":"chat","route":"/v1/chat","team":"core","batch":true,"usage":{"prompt_tokens":4000,"completion_tokens":0,"prompt_tokens_details":{"cached_tokens":2000}}}"#,
        // Claude: 1,000 plain + 20,000 read + 3,000 written (1,000 5m, 2,000 1h); 400 out.
        r#"{"timestamp":"2026-10-02T08:00:00Z","model":"claude-sonnet-4-5-20250929","feature":"docs","usage":{"input_tokens":1000,"output_tokens":400,"cache_read_input_tokens":20000,"cache_creation_input_tokens":3000,"cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":2000}}}"#,
        // A model the catalog does not know: listed, never priced.
        r#"{"timestamp":"2026-10-02T09:00:00Z","model":"mystery-model-9","feature":"misc","usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
    ];
    env.write("calls.jsonl", lines.join("\n") + "\n");
}

#[test]
fn focus_rows_split_list_and_effective_cost_by_token_type() {
    let env = Env::new();
    fixture(&env);
    let report = env.audit(&["calls.jsonl", "--format", "json,focus"]);
    let csv = std::fs::read_to_string(env.path("out/focus.csv")).unwrap();
    let rows = records(&csv);

    // (feature, batch, token type) → (tokens, EffectiveCost, ListCost).
    let got: Vec<(String, String, String, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["x_Feature"].clone(),
                r["x_Batch"].clone(),
                r["x_TokenType"].clone(),
                r["ConsumedQuantity"].clone(),
                r["EffectiveCost"].clone(),
                r["ListCost"].clone(),
            )
        })
        .collect();
    let want = |f: &str, b: &str, t: &str, q: &str, e: &str, l: &str| {
        (
            f.to_string(),
            b.to_string(),
            t.to_string(),
            q.to_string(),
            e.to_string(),
            l.to_string(),
        )
    };
    assert_eq!(
        got,
        vec![
            // Real time: uncached 2,000 × $2.50 = $0.005 (list the same);
            // cached 8,000 × $1.25 = $0.01, at list 8,000 × $2.50 = $0.02;
            // output 500 × $10 = $0.005.
            want("chat", "false", "input", "2000", "0.005", "0.005"),
            want("chat", "false", "cached_read", "8000", "0.01", "0.02"),
            want("chat", "false", "output", "500", "0.005", "0.005"),
            // Batch (half price): uncached 100,000 + 2,000 at $1.25 =
            // $0.1275, at list $2.50 = $0.255; cached 2,000 × $0.625 =
            // $0.00125, at list $2.50 = $0.005; output 10,000 × $5 = $0.05,
            // at list $10 = $0.10.
            want("chat", "true", "input", "102000", "0.1275", "0.255"),
            want("chat", "true", "cached_read", "2000", "0.00125", "0.005"),
            want("chat", "true", "output", "10000", "0.05", "0.10"),
            // Claude: plain 1,000 × $3 = $0.003; read 20,000 × $0.30 =
            // $0.006, at list 20,000 × $3 = $0.06; writes, each TTL its own
            // row: 1,000 × $3.75 = $0.00375 and 2,000 × $6 = $0.012 (a
            // premium, not a discount: list the same); output 400 × $15 =
            // $0.006.
            want("docs", "false", "input", "1000", "0.003", "0.003"),
            want("docs", "false", "cached_read", "20000", "0.006", "0.06"),
            want(
                "docs",
                "false",
                "cache_write_5m",
                "1000",
                "0.00375",
                "0.00375"
            ),
            want("docs", "false", "cache_write_1h", "2000", "0.012", "0.012"),
            want("docs", "false", "output", "400", "0.006", "0.006"),
            // Unknown model: its tokens are exported, its cost is not known.
            want("misc", "false", "input", "1000", "0.00", "0.00"),
            want("misc", "false", "output", "100", "0.00", "0.00"),
        ]
    );

    // EffectiveCost sums exactly to the audit's spend:
    // 0.02 + 0.1275 + 0.00125 + 0.05 + 0.03075 = 0.2295.
    let effective: Money = rows.iter().map(|r| money(&r["EffectiveCost"])).sum();
    let list: Money = rows.iter().map(|r| money(&r["ListCost"])).sum();
    assert_eq!(effective, money("0.2295"));
    assert_eq!(
        effective,
        money(report["audit"]["totals"]["cost"].as_str().unwrap())
    );
    // List: 0.03 + 0.36 + 0.08475 = 0.47475.
    assert_eq!(list, money("0.47475"));
    // The batch input row: $2.50/M at list (and contracted: no negotiated
    // rate), $1.25/M effective; its cached reads $2.50/M and $0.625/M;
    // Claude's 1-hour writes $6/M.
    let unit = |f: &str, b: &str, t: &str| {
        let r = rows
            .iter()
            .find(|r| r["x_Feature"] == f && r["x_Batch"] == b && r["x_TokenType"] == t)
            .unwrap();
        let q: u64 = r["PricingQuantity"].parse().unwrap();
        assert_eq!(r["ContractedUnitPrice"], r["ListUnitPrice"]);
        let effective = Money::from_picos(money(&r["EffectiveCost"]).picos() / q as i128);
        (money(&r["ListUnitPrice"]), effective)
    };
    assert_eq!(
        unit("chat", "true", "input"),
        (money("0.0000025"), money("0.00000125"))
    );
    assert_eq!(
        unit("chat", "true", "cached_read"),
        (money("0.0000025"), money("0.000000625"))
    );
    assert_eq!(
        unit("docs", "false", "cache_write_1h"),
        (money("0.000006"), money("0.000006"))
    );
    for r in &rows {
        assert_eq!(r["BilledCost"], r["EffectiveCost"]);
        assert_eq!(r["ServiceCategory"], "AI and Machine Learning");
        assert_eq!(r["ChargeCategory"], "Usage");
        assert_eq!(r["BillingCurrency"], "USD");
        assert_eq!(r["x_CostIsEstimate"], "true");
        // FOCUS 1.2's other mandatory columns: no negotiated prices (the
        // contracted cost is the list cost: hunt50 found it the effective
        // one, a negotiated discount that is not), the pricing unit the
        // consumed one, no account name or charge class in the logs, the
        // calendar month as billing period.
        assert_eq!(r["ContractedCost"], r["ListCost"]);
        // Unit prices per token: each row here is at one rate, so price ×
        // quantity is the cost exactly.
        let q: u64 = r["PricingQuantity"].parse().unwrap();
        assert_eq!(money(&r["ListUnitPrice"]) * q, money(&r["ListCost"]));
        assert_eq!(
            money(&r["ContractedUnitPrice"]) * q,
            money(&r["ContractedCost"])
        );
        assert_eq!(r["PricingQuantity"], r["ConsumedQuantity"]);
        assert_eq!(r["PricingUnit"], r["ConsumedUnit"]);
        assert_eq!(r["ChargeClass"], "");
        assert_eq!(r["BillingAccountName"], "");
        assert_eq!(r["BillingPeriodStart"], "2026-10-01T00:00:00Z");
        assert_eq!(r["BillingPeriodEnd"], "2026-11-01T00:00:00Z");
        assert_eq!(r["InvoiceIssuerName"], r["ProviderName"]);
    }
    assert_eq!(rows[0]["BillingAccountId"], "openai");
    assert_eq!(rows[0]["ProviderName"], "OpenAI");

    // Day bounds in UTC, the catalog model as SkuId, the price point.
    let first = &rows[0];
    assert_eq!(first["ChargePeriodStart"], "2026-10-01T00:00:00Z");
    assert_eq!(first["ChargePeriodEnd"], "2026-10-02T00:00:00Z");
    assert_eq!(first["SkuId"], "openai/gpt-4o");
    assert_eq!(first["x_Route"], "/v1/chat");
    assert_eq!(first["x_Team"], "core");
    assert_eq!(first["ConsumedUnit"], "Input Tokens");
    // Provider-defined properties only, so every key `x_`, and no amounts
    // or dates (FOCUS 1.2; hunt50).
    let details: serde_json::Value = serde_json::from_str(&rows[1]["SkuPriceDetails"]).unwrap();
    assert_eq!(
        details,
        serde_json::json!({"x_TokenType": "cached_read", "x_BatchPricing": false})
    );
    let batch: serde_json::Value = serde_json::from_str(&rows[4]["SkuPriceDetails"]).unwrap();
    assert_eq!(batch["x_BatchPricing"], true);
    assert!(rows[4]["SkuPriceId"].starts_with("openai/gpt-4o:cached_read:batch"));
    let tags: serde_json::Value = serde_json::from_str(&first["Tags"]).unwrap();
    assert_eq!(
        tags,
        serde_json::json!({"tokenaudit/feature": "chat", "tokenaudit/route": "/v1/chat", "tokenaudit/team": "core"})
    );
    // A dimension the call lacks is not a tag.
    let docs_tags: serde_json::Value = serde_json::from_str(&rows[6]["Tags"]).unwrap();
    assert_eq!(docs_tags, serde_json::json!({"tokenaudit/feature": "docs"}));
    assert_eq!(rows[6]["ChargePeriodStart"], "2026-10-02T00:00:00Z");
    assert_eq!(rows[11]["x_Priced"], "false");
    assert_eq!(rows[11]["SkuId"], "mystery-model-9");
    // Each cache write TTL at its own rate.
    for (i, ttl, rate) in [(8, "5m", "0.00000375"), (9, "1h", "0.000006")] {
        let d: serde_json::Value = serde_json::from_str(&rows[i]["SkuPriceDetails"]).unwrap();
        assert_eq!(d["x_TokenType"], format!("cache_write_{ttl}"));
        assert_eq!(money(&rows[i]["ListUnitPrice"]), money(rate));
    }
    // Units in FOCUS's unit format, the TTL in the meter (hunt99).
    assert_eq!(rows[9]["ConsumedUnit"], "Cache Write Tokens");
    assert_eq!(rows[9]["PricingUnit"], "Cache Write Tokens");
    assert_eq!(rows[9]["SkuMeter"], "1-Hour Cache Write Tokens");
    assert_eq!(rows[8]["SkuMeter"], "5-Minute Cache Write Tokens");
    assert_eq!(first["SkuMeter"], "Input Tokens");
    // FOCUS 1.2's recommended columns: usage-based, Generative AI, no
    // invoice (hunt99).
    assert_eq!(first["ChargeFrequency"], "Usage-Based");
    assert_eq!(first["ServiceSubcategory"], "Generative AI");
    assert_eq!(first["InvoiceId"], "");

    // The Parquet file holds the same rows: money as exact decimals.
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Decimal128Type, TimestampMicrosecondType};
    use arrow_schema::{DataType, TimeUnit};
    let file = std::fs::File::open(env.path("out/focus.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<arrow_array::RecordBatch> = reader.map(Result::unwrap).collect();
    let batch = one_batch(&batches);
    assert_eq!(batch.num_rows(), rows.len());
    let header = parse_csv(&csv).remove(0);
    let schema = batch.schema();
    let names: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
    assert_eq!(names, header.iter().collect::<Vec<_>>());
    for (name, column) in header.iter().zip(batch.columns()) {
        for (i, r) in rows.iter().enumerate() {
            let csv_cell = &r[name];
            let cell = match column.data_type() {
                DataType::Decimal128(38, 12) => {
                    let picos = column.as_primitive::<Decimal128Type>().value(i);
                    assert_eq!(picos, money(csv_cell).picos(), "{name} row {i}");
                    continue;
                }
                // Quantities: Decimal, whole (FOCUS; hunt99: unsigned).
                DataType::Decimal128(38, 0) => {
                    column.as_primitive::<Decimal128Type>().value(i).to_string()
                }
                DataType::Utf8 if column.is_null(i) => String::new(),
                DataType::Boolean => column.as_boolean().value(i).to_string(),
                DataType::Utf8 => column.as_string::<i32>().value(i).to_string(),
                DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) if &**tz == "UTC" => {
                    let us = column.as_primitive::<TimestampMicrosecondType>().value(i);
                    let t = chrono::DateTime::from_timestamp_micros(us).unwrap();
                    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
                }
                other => panic!("{name}: unexpected Parquet type {other:?}"),
            };
            assert_eq!(&cell, csv_cell, "{name} row {i}");
        }
    }
    // Only what was asked for is written.
    assert!(!env.path("out/audit.md").exists());
}

#[test]
fn focus_cells_from_logs_are_guarded_against_formulas() {
    let env = Env::new();
    env.write(
        "a.jsonl",
        r#"{"timestamp":"2026-10-01T09:00:00Z","model":"gpt-4o","feature":"=HYPERLINK(\"http://x\")","usage":{"prompt_tokens":10,"completion_tokens":1}}"#.to_string() + "\n",
    );
    env.audit(&["a.jsonl", "--format", "json,focus"]);
    let csv = std::fs::read_to_string(env.path("out/focus.csv")).unwrap();
    let rows = records(&csv);
    assert_eq!(rows[0]["x_Feature"], "'=HYPERLINK(\"http://x\")");
    // 10 × $2.50/M + 1 × $10/M = $0.000035.
    let total: Money = rows.iter().map(|r| money(&r["EffectiveCost"])).sum();
    assert_eq!(total, money("0.000035"));
}

/// hunt50: FOCUS 1.2 never lets a charge or billing period be null, and a
/// charge lies within its billing period. A call without a timestamp was
/// exported with empty periods, or (beside timestamped calls) with a
/// charge period from the first call's day to the day after the last one,
/// across a month's end. It now takes the last timestamped call's day;
/// with none, the export's day.
#[test]
fn calls_without_a_timestamp_get_a_day_within_one_billing_period() {
    let env = Env::new();
    env.write(
        "a.jsonl",
        concat!(
            r#"{"timestamp":"2026-09-30T09:00:00Z","model":"gpt-4o","feature":"a","usage":{"prompt_tokens":10,"completion_tokens":1}}"#,
            "\n",
            r#"{"timestamp":"2026-10-02T09:00:00Z","model":"gpt-4o","feature":"a","usage":{"prompt_tokens":10,"completion_tokens":1}}"#,
            "\n",
            r#"{"model":"gpt-4o","feature":"b","usage":{"prompt_tokens":10,"completion_tokens":1}}"#,
            "\n",
        ),
    );
    env.audit(&["a.jsonl", "--format", "json,focus"]);
    let rows = records(&std::fs::read_to_string(env.path("out/focus.csv")).unwrap());
    let b: Vec<_> = rows.iter().filter(|r| r["x_Feature"] == "b").collect();
    assert_eq!(b.len(), 2);
    for r in &b {
        assert_eq!(r["ChargePeriodStart"], "2026-10-02T00:00:00Z");
        assert_eq!(r["ChargePeriodEnd"], "2026-10-03T00:00:00Z");
        assert_eq!(r["BillingPeriodStart"], "2026-10-01T00:00:00Z");
        assert_eq!(r["BillingPeriodEnd"], "2026-11-01T00:00:00Z");
    }
    // No timestamp at all: the day of the export.
    env.write(
        "b.jsonl",
        r#"{"model":"gpt-4o","feature":"b","usage":{"prompt_tokens":10,"completion_tokens":1}}"#
            .to_string()
            + "\n",
    );
    let before = chrono::Utc::now().date_naive();
    env.audit(&["b.jsonl", "--format", "json,focus"]);
    let after = chrono::Utc::now().date_naive();
    let rows = records(&std::fs::read_to_string(env.path("out/focus.csv")).unwrap());
    for r in &rows {
        let day = |d: chrono::NaiveDate| d.format("%Y-%m-%dT00:00:00Z").to_string();
        assert!(
            [day(before), day(after)].contains(&r["ChargePeriodStart"]),
            "{r:?}"
        );
        assert!(!r["BillingPeriodStart"].is_empty() && !r["ChargePeriodEnd"].is_empty());
        // Every SkuPriceDetails key is a provider-defined one: `x_`.
        let d: serde_json::Value = serde_json::from_str(&r["SkuPriceDetails"]).unwrap();
        assert!(
            d.as_object().unwrap().keys().all(|k| k.starts_with("x_")),
            "{d}"
        );
    }
}

#[test]
fn reasoning_gets_its_own_row_only_when_priced_apart() {
    let env = Env::new();
    // acme-think prices reasoning apart: $1/M input, $2/M output, $8/M
    // reasoning. gpt-4o bills reasoning as output.
    env.write(
        "prices.json",
        r#"{"schema":1,"version":"ours-1","models":[
            {"provider":"acme","id":"acme-think","prices":[{"input":"1","output":"2","reasoning":"8"}]}]}"#,
    );
    env.write(
        "a.jsonl",
        [
            r#"{"timestamp":"2026-10-01T00:00:00Z","model":"acme-think","feature":"a","usage":{"prompt_tokens":1000000,"completion_tokens":1000000,"completion_tokens_details":{"reasoning_tokens":250000}}}"#,
            r#"{"timestamp":"2026-10-01T00:00:00Z","model":"gpt-4o","feature":"b","usage":{"prompt_tokens":0,"completion_tokens":500,"completion_tokens_details":{"reasoning_tokens":100}}}"#,
        ]
        .join("\n")
            + "\n",
    );
    let r = env.audit(&[
        "a.jsonl",
        "--prices",
        "prices.json",
        "--format",
        "json,focus",
    ]);
    let rows = records(&std::fs::read_to_string(env.path("out/focus.csv")).unwrap());
    let got: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["x_Feature"].as_str(),
                r["x_TokenType"].as_str(),
                r["ConsumedQuantity"].as_str(),
                r["EffectiveCost"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            // 1,000,000 × $1 = $1.00; visible 750,000 × $2 = $1.50;
            // reasoning 250,000 × $8 = $2.00.
            ("a", "input", "1000000", "1.00"),
            ("a", "output", "750000", "1.50"),
            ("a", "reasoning", "250000", "2.00"),
            // 500 output tokens (reasoning included) × $10 = $0.005.
            ("b", "output", "500", "0.005"),
        ]
    );
    let total: Money = rows.iter().map(|r| money(&r["EffectiveCost"])).sum();
    assert_eq!(total, money("4.505"));
    assert_eq!(total, money(r["audit"]["totals"]["cost"].as_str().unwrap()));
}

/// Claude on Bedrock and on Vertex, logged under the providers' LiteLLM
/// names: the host is the provider (as its display name, like Azure's),
/// Anthropic the publisher.
#[test]
fn hosts_are_providers_and_makers_publishers() {
    let env = Env::new();
    let lines = [
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "bedrock"),
        ("claude-3-5-haiku-20241022", "vertex_ai"),
        ("gpt-4o", "azure"),
        ("gpt-4o", "azure_openai"),
        ("claude-3-5-haiku-20241022", "anthropic_vertex"),
    ]
    .map(|(model, provider)| {
        crate::util::gw_line(
            "2026-10-01T10:00:00Z",
            "a",
            model,
            1000,
            200,
            serde_json::json!({"provider": provider}),
        )
    });
    env.write("calls.jsonl", lines.join("\n") + "\n");
    env.audit(&["calls.jsonl", "--format", "json,focus"]);
    let rows = records(&std::fs::read_to_string(env.path("out/focus.csv")).unwrap());
    let mut got: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["ProviderName"].clone(),
                r["PublisherName"].clone(),
                r["BillingAccountId"].clone(),
            )
        })
        .collect();
    got.sort();
    got.dedup();
    assert_eq!(
        got,
        [
            ("AWS Bedrock".into(), "Anthropic".into(), "aws".into()),
            // Vertex's, and `anthropic_vertex` (the host that bills, though
            // the name holds the maker's).
            ("Google".into(), "Anthropic".into(), "google".into()),
            ("Microsoft Azure".into(), "OpenAI".into(), "azure".into()),
        ]
    );
}

/// A priority call's cached reads are listed at the priority input rate,
/// the call's own (hunt76: at the standard rate the list cost of 40,000
/// cached o3 tokens was −$0.01, below what they cost). o3: input $2,
/// cached $0.50, output $8 per million; priority ×1.75.
#[test]
fn a_priority_calls_cached_reads_are_listed_at_its_own_input_rate() {
    let env = Env::new();
    env.write(
        "p.jsonl",
        r#"{"timestamp":"2026-10-20T00:00:00Z","model":"o3","provider":"openai","feature":"f","service_tier":"priority","usage":{"prompt_tokens":100000,"completion_tokens":10000,"prompt_tokens_details":{"cached_tokens":40000}}}"#
            .to_string()
            + "\n",
    );
    let r = env.audit(&["p.jsonl", "--format", "json,focus"]);
    let rows = records(&std::fs::read_to_string(env.path("out/focus.csv")).unwrap());
    let got: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["x_TokenType"].as_str(),
                r["ConsumedQuantity"].as_str(),
                r["EffectiveCost"].as_str(),
                r["ListCost"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            // 60,000 × $3.50 = $0.21.
            ("input", "60000", "0.21", "0.21"),
            // 40,000 × $0.875 = $0.035; listed at $3.50: $0.14.
            ("cached_read", "40000", "0.035", "0.14"),
            // 10,000 × $14 = $0.14.
            ("output", "10000", "0.14", "0.14"),
        ]
    );
    assert_eq!(r["audit"]["totals"]["cost"], "0.385");
}

/// One model logged under several names on one day is one row (hunt76:
/// four identical rows of $2.50, three of which a consumer dropping
/// duplicates would lose).
#[test]
fn one_model_under_several_names_is_one_row() {
    let env = Env::new();
    let lines: Vec<String> = ["gpt-4o", "openai/gpt-4o", "GPT-4O", "gpt-4o"]
        .iter()
        .map(|m| {
            format!(
                r#"{{"timestamp":"2026-10-20T10:00:00Z","model":"{m}","provider":"openai","feature":"s","usage":{{"prompt_tokens":1000000,"completion_tokens":0}}}}"#
            )
        })
        .collect();
    env.write("m.jsonl", lines.join("\n") + "\n");
    env.audit(&["m.jsonl", "--format", "json,focus"]);
    let rows = records(&std::fs::read_to_string(env.path("out/focus.csv")).unwrap());
    let got: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["SkuId"].as_str(),
                r["x_TokenType"].as_str(),
                r["ConsumedQuantity"].as_str(),
                r["EffectiveCost"].as_str(),
            )
        })
        .collect();
    // 4,000,000 × $2.50 = $10.
    assert_eq!(got, vec![("openai/gpt-4o", "input", "4000000", "10.00")]);
}
