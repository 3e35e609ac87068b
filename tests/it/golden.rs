//! Golden costs: small fixtures whose every dollar figure is computed by hand
//! here from the catalog's published per-million-token prices.
//!
//! Prices used (from the shipped catalog, genai-prices 47df840a):
//! - openai/gpt-4o: input $2.50, cached $1.25, output $10, batch ×0.5
//! - anthropic/claude-sonnet-4-5: input $3, cached $0.30, 5m write $3.75,
//!   1h write $6, output $15; above 200k input: $6 / $0.60 / $7.50 / $12 / $22.50
//! - openai/o3-mini: input $1.10, cached $0.55, output $4.40 (reasoning billed as output)
//! - openai/o3: $10/$40 until 2025-06-09, $2/$8 from 2025-06-10

use serde_json::Value;

use crate::util::{row, usd, Env};

fn line(fields: &str) -> String {
    format!("{{{fields}}}\n")
}

#[test]
fn cached_tokens_are_billed_once_at_the_cached_rate() {
    let env = Env::new();
    // 10,000 prompt tokens of which 8,000 cached; 500 output.
    // uncached 2,000 × $2.50/M = $0.005; cached 8,000 × $1.25/M = $0.01;
    // output 500 × $10/M = $0.005. Total $0.02.
    env.write(
        "a.jsonl",
        line(r#""model":"gpt-4o","feature":"f","usage":{"prompt_tokens":10000,"completion_tokens":500,"prompt_tokens_details":{"cached_tokens":8000}}"#),
    );
    let r = env.audit(&["a.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.02");
    assert_eq!(usd(&r["audit"]["cost_by_token_kind"]["input"]), "0.005");
    assert_eq!(
        usd(&r["audit"]["cost_by_token_kind"]["cached_read"]),
        "0.01"
    );
    assert_eq!(r["audit"]["totals"]["input_tokens"], 10000);
    assert_eq!(r["audit"]["totals"]["cached_read_tokens"], 8000);
}

#[test]
fn anthropic_cache_writes_by_ttl_and_reads() {
    let env = Env::new();
    // Anthropic counts input without the cache: 1,000 plain + 20,000 read +
    // 3,000 written (1,000 at 5m, 2,000 at 1h). Output 400.
    // plain 1,000 × $3/M = $0.003; read 20,000 × $0.30/M = $0.006;
    // 5m 1,000 × $3.75/M = $0.00375; 1h 2,000 × $6/M = $0.012;
    // output 400 × $15/M = $0.006. Total $0.03075.
    env.write(
        "a.jsonl",
        line(r#""model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":1000,"output_tokens":400,"cache_read_input_tokens":20000,"cache_creation_input_tokens":3000,"cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":2000}}"#),
    );
    let r = env.audit(&["a.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.03075");
    assert_eq!(
        usd(&r["audit"]["cost_by_token_kind"]["cache_write"]),
        "0.01575"
    );
    // Canonical total input includes reads and writes: 24,000.
    assert_eq!(r["audit"]["totals"]["input_tokens"], 24000);
}

#[test]
fn litellm_prompt_tokens_are_not_double_counted() {
    let env = Env::new();
    // The same call as above, as a LiteLLM proxy logs it: prompt_tokens already
    // includes the 20,000 read and 3,000 written (no TTL split: all 5-minute).
    // plain 1,000 × $3/M = $0.003; read $0.006; write 3,000 × $3.75/M = $0.01125;
    // output $0.006. Total $0.02625.
    env.write(
        "a.jsonl",
        line(r#""model":"anthropic/claude-sonnet-4-5","usage":{"prompt_tokens":24000,"completion_tokens":400,"cache_read_input_tokens":20000,"cache_creation_input_tokens":3000,"prompt_tokens_details":{"cached_tokens":20000}}"#),
    );
    let r = env.audit(&["a.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.02625");
    assert_eq!(r["audit"]["totals"]["input_tokens"], 24000);
}

#[test]
fn long_context_tier_prices_the_whole_request() {
    let env = Env::new();
    // 250,000 input (50,000 cached) crosses 200k: everything at tier rates.
    // plain 200,000 × $6/M = $1.20; cached 50,000 × $0.60/M = $0.03;
    // output 1,000 × $22.50/M = $0.0225. Total $1.2525.
    // A second call at exactly 200,000 input stays at base rates:
    // 200,000 × $3/M = $0.60 + 1,000 × $15/M = $0.015 → $0.615.
    env.write(
        "a.jsonl",
        [
            line(r#""model":"claude-sonnet-4-5","feature":"long","usage":{"input_tokens":200000,"output_tokens":1000,"cache_read_input_tokens":50000}"#),
            line(r#""model":"claude-sonnet-4-5","feature":"edge","usage":{"input_tokens":200000,"output_tokens":1000}"#),
        ]
        .concat(),
    );
    let r = env.audit(&["a.jsonl"]);
    assert_eq!(usd(&row(&r, "feature", "long")["cost"]), "1.2525");
    assert_eq!(usd(&row(&r, "feature", "edge")["cost"]), "0.615");
    assert_eq!(r["audit"]["long_context_calls"], 1);
    // The report says why a call cost twice the list rate (hunt111).
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("**Long context:** 1 call was priced at its model's long-context rates"),
        "{md}"
    );
}

#[test]
fn batch_calls_get_the_batch_price() {
    let env = Env::new();
    // gpt-4o batch: half of every rate. 100,000 input × $1.25/M = $0.125;
    // 10,000 output × $5/M = $0.05. Total $0.175. The same call in real time: $0.35.
    env.write(
        "a.jsonl",
        [
            line(r#""model":"gpt-4o","feature":"batch","batch":true,"usage":{"prompt_tokens":100000,"completion_tokens":10000}"#),
            line(r#""model":"gpt-4o","feature":"realtime","usage":{"prompt_tokens":100000,"completion_tokens":10000}"#),
        ]
        .concat(),
    );
    let r = env.audit(&["a.jsonl"]);
    assert_eq!(usd(&row(&r, "feature", "batch")["cost"]), "0.175");
    assert_eq!(usd(&row(&r, "feature", "realtime")["cost"]), "0.35");
}

#[test]
fn batch_calls_count_in_the_daily_tables() {
    let env = Env::new();
    // The calls above on one day: $0.175 in batch + $0.35 in real time.
    env.write(
        "a.jsonl",
        [
            line(r#""timestamp":"2026-10-01T10:00:00Z","model":"gpt-4o","feature":"batch","batch":true,"usage":{"prompt_tokens":100000,"completion_tokens":10000}"#),
            line(r#""timestamp":"2026-10-01T11:00:00Z","model":"gpt-4o","feature":"realtime","usage":{"prompt_tokens":100000,"completion_tokens":10000}"#),
        ]
        .concat(),
    );
    let r = env.audit(&["a.jsonl"]);
    let daily = r["audit"]["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 1);
    assert_eq!(daily[0]["calls"], 2);
    assert_eq!(usd(&daily[0]["cost"]), "0.525");
    let by_model = r["audit"]["daily_by_model"].as_array().unwrap();
    assert_eq!(by_model.len(), 1);
    assert_eq!(usd(&by_model[0]["cost"]), "0.525");
    let by_feature: Vec<(&str, String)> = r["audit"]["daily_by_feature"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["key"].as_str().unwrap(), usd(&d["cost"])))
        .collect();
    assert_eq!(
        by_feature,
        [
            ("realtime", "0.35".to_string()),
            ("batch", "0.175".to_string())
        ]
    );
}

#[test]
fn reasoning_tokens_are_billed_as_output() {
    let env = Env::new();
    // o3-mini: 2,000 input × $1.10/M = $0.0022; 3,000 output (2,500 of them
    // reasoning, inside completion_tokens) × $4.40/M = $0.0132. Total $0.0154.
    env.write(
        "a.jsonl",
        line(r#""model":"o3-mini-2025-01-31","usage":{"prompt_tokens":2000,"completion_tokens":3000,"completion_tokens_details":{"reasoning_tokens":2500}}"#),
    );
    let r = env.audit(&["a.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0154");
    assert_eq!(r["audit"]["totals"]["reasoning_tokens"], 2500);
    assert_eq!(r["audit"]["totals"]["output_tokens"], 3000);
}

#[test]
fn a_price_change_mid_month_prices_each_day_by_its_own_price() {
    let env = Env::new();
    // o3 dropped from $10/$40 to $2/$8 on 2025-06-10. The same call
    // (1M input, 100k output) on the 9th: $10 + $4 = $14; on the 10th: $2 + $0.80 = $2.80.
    let call = r#""model":"o3","usage":{"prompt_tokens":1000000,"completion_tokens":100000}"#;
    env.write(
        "a.jsonl",
        [
            line(&format!(r#""timestamp":"2025-06-09T23:59:59Z",{call}"#)),
            line(&format!(r#""timestamp":"2025-06-10T00:00:00Z",{call}"#)),
        ]
        .concat(),
    );
    let r = env.audit(&["a.jsonl"]);
    let daily = r["audit"]["daily"].as_array().unwrap();
    assert_eq!(daily[0]["day"], "2025-06-09");
    assert_eq!(usd(&daily[0]["cost"]), "14.00");
    assert_eq!(daily[1]["day"], "2025-06-10");
    assert_eq!(usd(&daily[1]["cost"]), "2.80");
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "16.80");
    // The report says the price changed, and when (hunt111).
    let prices = |input: &str, output: &str| {
        serde_json::json!({"input": input, "output": output, "cached_read": "0.50",
            "cache_write_5m": null, "cache_write_1h": null, "long_context_above": null})
    };
    assert_eq!(
        r["audit"]["price_changes"],
        serde_json::json!([{"model": "openai/o3", "effective": "2025-06-10",
            "before": prices("10.00", "40.00"), "after": prices("2.00", "8.00"),
            "changed": ["input", "output"]}])
    );
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("- openai/o3 from 2025-06-10: input $10.00 → $2.00, output $40.00 → $8.00\n"),
        "{md}"
    );
    // A change before or after all of a model's calls priced none of them
    // at two prices (hunt113): o3 only before the date, with another
    // model's call after it.
    env.write(
        "c.jsonl",
        line(&format!(r#""timestamp":"2025-06-09T00:00:00Z",{call}"#))
            + &line(r#""timestamp":"2025-06-12T00:00:00Z","model":"gpt-4o","usage":{"prompt_tokens":1,"completion_tokens":1}"#),
    );
    assert_eq!(
        env.audit(&["c.jsonl"])["audit"]["price_changes"],
        serde_json::json!([])
    );
    // A window that starts on the change, compared with the days before
    // it, where o3 has calls too: the two periods are at two prices
    // (hunt116: a review of the month that starts with a change said
    // nothing of it).
    env.write(
        "d.jsonl",
        line(&format!(r#""timestamp":"2025-06-06T00:00:00Z",{call}"#))
            + &line(&format!(r#""timestamp":"2025-06-12T00:00:00Z",{call}"#)),
    );
    let r = env.audit(&["d.jsonl", "--since", "2025-06-10", "--until", "2025-06-14"]);
    assert_eq!(r["audit"]["price_changes"][0]["effective"], "2025-06-10");
    // Without calls of o3 in the period compared with, none.
    let r = env.audit(&["d.jsonl", "--since", "2025-06-11", "--until", "2025-06-14"]);
    assert_eq!(r["audit"]["price_changes"], serde_json::json!([]));
    assert!(!md.contains("Long context"), "{md}");
    // A period after the change has none to say.
    env.write(
        "b.jsonl",
        line(&format!(r#""timestamp":"2025-06-10T00:00:00Z",{call}"#)),
    );
    let r = env.audit(&["b.jsonl"]);
    assert_eq!(r["audit"]["price_changes"], serde_json::json!([]));
}

#[test]
fn user_prices_override_and_date_effective_prices() {
    let env = Env::new();
    // A private model with a price change on 2026-10-16:
    // before: $1/M input, $2/M output; from the 16th: $0.50 and $1.
    // Oct 15: 1M in + 1M out = $3.00; Oct 16: $1.50. And gpt-4o overridden to
    // $5/M input, $20/M output: 1M + 1M = $25.
    env.write(
        "prices.json",
        r#"{"schema":1,"version":"ours-1","models":[
            {"provider":"acme","id":"acme-llm-7b","prices":[
                {"input":"1","output":"2"},
                {"effective":"2026-10-16","input":"0.5","output":"1"}]},
            {"provider":"openai","id":"gpt-4o","prices":[{"input":"5","output":"20"}]}]}"#,
    );
    let call = r#""usage":{"prompt_tokens":1000000,"completion_tokens":1000000}"#;
    env.write(
        "a.jsonl",
        [
            line(&format!(r#""timestamp":"2026-10-15T12:00:00Z","model":"acme-llm-7b","feature":"before",{call}"#)),
            line(&format!(r#""timestamp":"2026-10-16T12:00:00Z","model":"acme-llm-7b","feature":"after",{call}"#)),
            line(&format!(r#""timestamp":"2026-10-16T12:00:00Z","model":"gpt-4o","feature":"override",{call}"#)),
        ]
        .concat(),
    );
    let r = env.audit(&["a.jsonl", "--prices", "prices.json"]);
    assert_eq!(usd(&row(&r, "feature", "before")["cost"]), "3.00");
    assert_eq!(usd(&row(&r, "feature", "after")["cost"]), "1.50");
    assert_eq!(usd(&row(&r, "feature", "override")["cost"]), "25.00");
    assert_eq!(r["audit"]["unknown_models"].as_array().unwrap().len(), 0);
}

/// An override that only sets a negotiated rate keeps the builtin entry's
/// other names and batch multiplier: the dated snapshots a response logs
/// were unpriced ($0) before.
#[test]
fn a_price_override_keeps_the_builtin_names_and_batch_rate() {
    let env = Env::new();
    env.write(
        "prices.json",
        r#"{"schema":1,"version":"ours-2","models":[
            {"provider":"openai","id":"gpt-4o","prices":[{"input":"2","output":"8","cached_read":"1"}]}]}"#,
    );
    let call = r#""usage":{"prompt_tokens":1000000,"completion_tokens":0}"#;
    env.write(
        "a.jsonl",
        [
            line(&format!(r#""timestamp":"2026-10-16T12:00:00Z","model":"gpt-4o","feature":"plain",{call}"#)),
            line(&format!(r#""timestamp":"2026-10-16T12:00:00Z","model":"gpt-4o-2024-08-06","feature":"dated",{call}"#)),
            line(&format!(r#""timestamp":"2026-10-16T12:00:00Z","model":"gpt-4o-2024-11-20","feature":"dated",{call}"#)),
            line(&format!(r#""timestamp":"2026-10-16T12:00:00Z","model":"gpt-4o","batch":true,"feature":"batch",{call}"#)),
        ]
        .concat(),
    );
    let r = env.audit(&["a.jsonl", "--prices", "prices.json"]);
    // 1,000,000 input tokens at the negotiated $2/M: $2 a call; the batch
    // call at the builtin half: $1.
    assert_eq!(usd(&row(&r, "feature", "plain")["cost"]), "2.00");
    assert_eq!(usd(&row(&r, "feature", "dated")["cost"]), "4.00");
    assert_eq!(usd(&row(&r, "feature", "batch")["cost"]), "1.00");
    assert_eq!(r["audit"]["unknown_models"].as_array().unwrap().len(), 0);
}

/// hunt150: a `--prices` entry that sets only a negotiated input rate made
/// the output free and the cache reads full price; its provider, not listed
/// in the file, became a host, so Anthropic's dated names went to Bedrock's
/// entries (+37.5% against the contract, +10% on a model the file does not
/// name); and any file moved calls without a time onto the catalog's last,
/// future, period.
#[test]
fn a_partial_contract_entry_keeps_the_rest_of_the_builtin_prices() {
    let env = Env::new();
    env.write(
        "contract.json",
        r#"{"schema":1,"version":"contract-1","models":[
            {"provider":"openai","id":"gpt-4o","prices":[{"input":"2"}]},
            {"provider":"anthropic","id":"claude-sonnet-4-5","prices":[{"input":"2.4","output":"12"}]}]}"#,
    );
    let usage = r#""usage":{"prompt_tokens":10000,"completion_tokens":1000,"prompt_tokens_details":{"cached_tokens":4000}}"#;
    let claude = |model: &str| {
        format!(
            r#"{{"timestamp":"2026-10-16T12:00:00Z","model":"{model}","feature":"{model}","usage":{{"input_tokens":100000,"output_tokens":10000}}}}"#
        ) + "\n"
    };
    env.write(
        "a.jsonl",
        line(&format!(
            r#""timestamp":"2026-10-16T12:00:00Z","model":"gpt-4o","feature":"oai",{usage}"#
        )) + &claude("claude-sonnet-4-5-20250929")
            + &claude("claude-haiku-4-5-20251001"),
    );
    let r = env.audit(&["a.jsonl", "--prices", "contract.json", "--strict"]);
    // gpt-4o: 6,000 × $2 (the contract) + 4,000 × $1.25 + 1,000 × $10 (the
    // builtin's) per M = $0.027.
    assert_eq!(usd(&row(&r, "feature", "oai")["cost"]), "0.027");
    // The dated Sonnet name at the contract: 100,000 × 2.4 + 10,000 × 12 =
    // $0.36; Haiku 4.5 at Anthropic's list price: 100,000 × 1 + 10,000 × 5
    // = $0.15.
    let sonnet = row(&r, "feature", "claude-sonnet-4-5-20250929");
    assert_eq!(usd(&sonnet["cost"]), "0.36");
    let haiku = row(&r, "feature", "claude-haiku-4-5-20251001");
    assert_eq!(usd(&haiku["cost"]), "0.15");
    assert_eq!(row(&r, "provider", "anthropic")["calls"], 2);
    // An Anthropic batch result carries no time: priced on the catalog's
    // date, with a file or without: 100,000 × 1.5 + 10,000 × 7.5 per M =
    // $0.225 for Sonnet 4.5 at batch rates, the contract's only dated from
    // 2027.
    env.write(
        "dated.json",
        r#"{"schema":1,"version":"2026-12-01","models":[
            {"provider":"anthropic","id":"claude-sonnet-4-5","prices":[{"effective":"2027-01-01","input":"1","output":"5"}]}]}"#,
    );
    env.write(
        "batch.jsonl",
        r#"{"custom_id":"r1","result":{"type":"succeeded","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":"end_turn","usage":{"input_tokens":100000,"output_tokens":10000}}}}"#.to_string() + "\n",
    );
    for prices in [None, Some("dated.json")] {
        let mut args = vec!["batch.jsonl"];
        args.extend(prices.iter().flat_map(|p| ["--prices", *p]));
        let r = env.audit(&args);
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.225", "{prices:?}");
    }
}

/// hunt150: logged costs reconciled per model only: a call logged 50% over
/// its price and one 50% under summed to "0.0%", nothing said. Each priced
/// call's difference is counted apart.
#[test]
fn reconciliation_counts_the_calls_whose_logged_cost_is_off() {
    let env = Env::new();
    // gpt-4o: 2,000 × $2.50/M + 500 × $10/M = $0.01 a call; logged $0.015,
    // $0.005, $0.01 and $0.0100001 (off by a millionth of a cent: not off).
    let call = |cost: &str| {
        line(&format!(
            r#""timestamp":"2026-10-16T12:00:00Z","model":"gpt-4o","cost":{cost},"usage":{{"prompt_tokens":2000,"completion_tokens":500}}"#
        ))
    };
    env.write(
        "a.jsonl",
        call("0.015") + &call("0.005") + &call("0.01") + &call("0.0100001"),
    );
    let r = env.audit(&["a.jsonl"]);
    let rec = &r["audit"]["reconciliation"][0];
    assert_eq!(rec["calls"], 4);
    assert_eq!(usd(&rec["difference"]), "0.0000001");
    assert_eq!(rec["calls_differing"], 2);
    assert_eq!(usd(&rec["difference_per_call"]), "0.0100001");
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("| gpt-4o | 4 | $0.0400 | $0.0400 | $0.000000 (0.0%) | 2 ($0.0100 apart) |"),
        "{md}"
    );
}

#[test]
fn unknown_models_are_listed_never_priced_as_zero_silently() {
    let env = Env::new();
    env.write(
        "a.jsonl",
        [
            line(r#""model":"acme-llm-7b","provider":"acme","usage":{"prompt_tokens":1200,"completion_tokens":30}"#),
            line(r#""model":"acme-llm-7b","provider":"acme","usage":{"prompt_tokens":800,"completion_tokens":20}"#),
            line(r#""model":"gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":100}"#),
        ]
        .concat(),
    );
    let r = env.audit(&["a.jsonl"]);
    let unknown = r["audit"]["unknown_models"].as_array().unwrap();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0]["logged_model"], "acme-llm-7b");
    assert_eq!(unknown[0]["calls"], 2);
    assert_eq!(unknown[0]["input_tokens"], 2000);
    assert_eq!(unknown[0]["output_tokens"], 50);
    assert_eq!(r["audit"]["totals"]["unpriced_calls"], 2);
    // Only gpt-4o is priced: 1,000 × $2.50/M + 100 × $10/M = $0.0035.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0035");
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(md.contains("Models not in the price catalog"), "{md}");
    assert!(md.contains("acme-llm-7b"));
}

#[test]
fn logged_cost_is_reconciled_per_model() {
    let env = Env::new();
    // Computed: 10,000 × $2.50/M + 1,000 × $10/M = $0.035 per call; the log says $0.04.
    let l =
        r#""model":"gpt-4o","cost":0.04,"usage":{"prompt_tokens":10000,"completion_tokens":1000}"#;
    env.write("a.jsonl", [line(l), line(l)].concat());
    let r = env.audit(&["a.jsonl"]);
    let rec = &r["audit"]["reconciliation"][0];
    assert_eq!(rec["model"], "gpt-4o");
    assert_eq!(rec["calls"], 2);
    assert_eq!(usd(&rec["logged"]), "0.08");
    assert_eq!(usd(&rec["computed"]), "0.07");
    assert_eq!(usd(&rec["difference"]), "0.01");
}

#[test]
fn attribution_cost_per_success_and_failures() {
    let env = Env::new();
    // Three gpt-4o calls of 1,000 in / 100 out = $0.0035 each; one failed (500).
    // feature "chat": 2 calls (1 failed) = $0.007, per success $0.007.
    // feature "search": 1 call = $0.0035. Tag env=prod on all.
    let u = r#""usage":{"prompt_tokens":1000,"completion_tokens":100},"tags":{"env":"prod"}"#;
    env.write(
        "a.jsonl",
        [
            line(&format!(r#""timestamp":"2026-10-01T01:00:00Z","model":"gpt-4o","feature":"chat","team":"t1","user":"u1","session":"s1",{u}"#)),
            line(&format!(r#""timestamp":"2026-10-01T02:00:00Z","model":"gpt-4o","feature":"chat","team":"t1","user":"u1","session":"s1","status":"error","http_status":500,{u}"#)),
            line(&format!(r#""timestamp":"2026-10-02T01:00:00Z","model":"gpt-4o","feature":"search","team":"t2","user":"u2","route":"/search",{u}"#)),
        ]
        .concat(),
    );
    let r = env.audit(&["a.jsonl"]);
    let chat = row(&r, "feature", "chat");
    assert_eq!(chat["calls"], 2);
    assert_eq!(chat["failed_calls"], 1);
    assert_eq!(usd(&chat["cost"]), "0.007");
    assert_eq!(usd(&chat["failed_cost"]), "0.0035");
    assert_eq!(usd(&row(&r, "team", "t2")["cost"]), "0.0035");
    assert_eq!(usd(&row(&r, "session", "s1")["cost"]), "0.007");
    assert_eq!(usd(&row(&r, "route", "(none)")["cost"]), "0.007");
    let tag = &r["audit"]["tags"][0];
    assert_eq!(tag["key"], "env=prod");
    assert_eq!(usd(&tag["cost"]), "0.0105");
    // Cost per success: $0.0105 / 2 successful calls = $0.00525.
    assert_eq!(usd(&r["audit"]["cost_per_success"]), "0.00525");
    assert_eq!(usd(&r["audit"]["cost_per_call"]), "0.0035");
    assert_eq!(r["audit"]["failures"][0]["key"], "http_500");
    let daily: Vec<&Value> = r["audit"]["daily"].as_array().unwrap().iter().collect();
    assert_eq!(daily.len(), 2);
    assert_eq!(usd(&daily[0]["cost"]), "0.007");
}

/// Per-call values in routes and tags keep memory and the report bounded:
/// a route naming the object it acts on is grouped by its template, and
/// only the 1,000 most expensive tags are listed (exact: the rest summed).
/// 1,500 gpt-4o calls of 1,000 in / 100 out ($0.0035 each), each in its
/// own thread and of its own ticket; call i also has i extra input tokens,
/// so the most expensive tags are the last calls' tickets. (A trace id is
/// no tag at all.)
#[test]
fn ids_in_routes_and_tags_do_not_make_a_row_per_call() {
    let env = Env::new();
    let lines: String = (0..1_500u64)
        .map(|i| {
            line(&format!(
                r#""timestamp":"2026-10-01T01:00:00Z","model":"gpt-4o","feature":"chat","route":"/v1/threads/thread_{i:012}/runs?x={i}","metadata":{{"ticket":"tk-{i:012}","env":"prod"}},"usage":{{"prompt_tokens":{},"completion_tokens":100}}"#,
                1_000 + i
            ))
        })
        .collect();
    env.write("a.jsonl", lines);
    let r = env.audit(&["a.jsonl"]);
    let route = row(&r, "route", "/v1/threads/{id}/runs");
    assert_eq!(route["calls"], 1_500);
    // 1,500 × $0.0035 + (0 + … + 1,499) × $2.50/M = $5.25 + $2.810625.
    assert_eq!(usd(&route["cost"]), "8.060625");
    let a = &r["audit"];
    assert_eq!(a["tags_distinct"], 1_501);
    let tags = a["tags"].as_array().unwrap();
    assert_eq!(tags.len(), 1_000);
    assert_eq!(tags[0]["key"], "env=prod");
    assert_eq!(tags[1]["key"], "ticket=tk-000000001499");
    // Not listed: the tickets of calls 0..=500 (env=prod and 999 tickets
    // are), 501 calls at $0.0035 and (0 + … + 500) × $2.50/M more:
    // $1.7535 + $0.313125.
    assert_eq!(a["tags_omitted"]["calls"], 501);
    assert_eq!(usd(&a["tags_omitted"]["cost"]), "2.066625");
}

#[test]
fn since_and_until_select_whole_days() {
    let env = Env::new();
    let u = r#""model":"gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":100}"#;
    env.write(
        "a.jsonl",
        [
            line(&format!(r#""timestamp":"2026-09-30T23:59:59Z",{u}"#)),
            line(&format!(r#""timestamp":"2026-10-01T00:00:00Z",{u}"#)),
            line(&format!(r#""timestamp":"2026-10-31T23:59:59Z",{u}"#)),
            line(&format!(r#""timestamp":"2026-11-01T00:00:00Z",{u}"#)),
            line(u),
        ]
        .concat(),
    );
    let r = env.audit(&["a.jsonl", "--since", "2026-10-01", "--until", "2026-10-31"]);
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(r["audit"]["input"]["outside_window"], 3);
    // An instant without an offset is UTC, as a log's time is: the same
    // window.
    let r = env.audit(&[
        "a.jsonl",
        "--since",
        "2026-10-01T00:00:00",
        "--until",
        "2026-11-01 00:00:00",
    ]);
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(r["audit"]["input"]["outside_window"], 3);
}

#[test]
fn money_is_exact_over_many_calls() {
    let env = Env::new();
    // 300,000 calls of 7 input + 3 output tokens on gpt-4o-mini ($0.15/M in,
    // $0.60/M out): each costs 7 × 0.00000015 + 3 × 0.0000006 = $0.00000285.
    // Total 300,000 × $0.00000285 = $0.855 exactly (f64 summation drifts).
    let l = line(r#""model":"gpt-4o-mini","usage":{"prompt_tokens":7,"completion_tokens":3}"#);
    env.write("a.jsonl", l.repeat(300_000));
    let r = env.audit(&["a.jsonl", "--threads", "2"]);
    assert_eq!(r["audit"]["totals"]["calls"], 300_000);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.855");
}

/// OpenRouter's permaslugs put a Claude 4+ version before the family
/// (`anthropic/claude-4.5-sonnet-20250929`): priced as Anthropic's names
/// (Sonnet 4.5 and Opus 4.1 were unpriced; Haiku 4.5 and Opus 4.5 already
/// resolved through their catalog rules).
#[test]
fn claude_names_with_the_version_first_are_priced() {
    let env = Env::new();
    let call = |model: &str, feature: &str| {
        line(&format!(
            r#""timestamp":"2025-10-01T12:00:00Z","provider":"openrouter","model":"{model}","feature":"{feature}","usage":{{"prompt_tokens":1000,"completion_tokens":1500}}"#
        ))
    };
    env.write(
        "a.jsonl",
        [
            call("anthropic/claude-4.5-sonnet-20250929", "sonnet"),
            call("anthropic/claude-4.1-opus-20250805", "opus"),
        ]
        .concat(),
    );
    let r = env.audit(&["a.jsonl", "--strict"]);
    // Sonnet 4.5: 1,000 × $3/M + 1,500 × $15/M = $0.0255; Opus 4.1:
    // 1,000 × 15 + 1,500 × 75 = $0.1275.
    assert_eq!(usd(&row(&r, "feature", "sonnet")["cost"]), "0.0255");
    assert_eq!(usd(&row(&r, "feature", "opus")["cost"]), "0.1275");
    assert_eq!(r["audit"]["totals"]["unpriced_calls"], 0);
}

/// `prices show` and `prices list` show the catalog an audit with the
/// same `--prices` files uses (hunt65: they took no `--prices`); the
/// entry whose id is the longer spelling of the name is the one shown.
#[test]
fn prices_commands_show_the_catalog_with_its_overlays() {
    let env = Env::new();
    env.write(
        "own.json",
        r#"{"schema":1,"version":"ours","models":[{"provider":"azure","id":"eu/o1","prices":[{"input":"16.5","output":"66"}]}]}"#,
    );
    let out = env
        .cmd()
        .args(["prices", "show", "azure/eu/o1", "--prices", "own.json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("azure / eu/o1"), "{text}");
    assert!(text.contains("input 16.5, output 66"), "{text}");
    let out = env
        .cmd()
        .args([
            "prices",
            "list",
            "--provider",
            "azure",
            "--prices",
            "own.json",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().take(4).collect::<Vec<_>>()
                == ["azure", "eu/o1", "16.5", "66"]),
        "{text}"
    );
    // A file that is no catalog is said, as for `audit`.
    env.write("bad.json", "{}");
    let out = env
        .cmd()
        .args(["prices", "show", "gpt-4o", "--prices", "bad.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--prices bad.json: not a tokenaudit price catalog"));
}

/// `prices show` with a partial name lists the names that hold it;
/// `prices list --provider` takes a provider by a name it is logged under
/// (`bedrock` is `aws`).
#[test]
fn prices_commands_take_partial_and_logged_names() {
    let env = Env::new();
    let out = env
        .cmd()
        .args(["prices", "show", "sonnet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("names holding it: anthropic/claude-3-5-sonnet"),
        "{err}"
    );
    let out = env
        .cmd()
        .args(["prices", "list", "--provider", "bedrock"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = text.lines().skip(1).take_while(|l| !l.is_empty()).collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|l| l.starts_with("aws ")), "{text}");
}

/// claude-opus-4-6's change of 2026-03-13 ends its long-context rates and
/// keeps its base rates: said as such, not "input $5.00 → $5.00"
/// (hunt113). Two calls of 250,000 input and 1,000 output: before, at the
/// tier, 250,000 × $10/M + 1,000 × $37.50/M = $2.5375; after, at base
/// rates, 250,000 × $5/M + 1,000 × $25/M = $1.275.
#[test]
fn a_price_change_of_the_long_context_tier_alone_is_said_so() {
    let env = Env::new();
    let call = r#""model":"claude-opus-4-6","usage":{"input_tokens":250000,"output_tokens":1000}"#;
    env.write(
        "a.jsonl",
        line(&format!(r#""timestamp":"2026-03-10T12:00:00Z",{call}"#))
            + &line(&format!(r#""timestamp":"2026-03-20T12:00:00Z",{call}"#)),
    );
    let r = env.audit(&["a.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "3.8125");
    let c = &r["audit"]["price_changes"][0];
    assert_eq!(c["changed"], serde_json::json!(["long_context"]));
    assert_eq!(
        (
            &c["before"]["long_context_above"],
            &c["after"]["long_context_above"]
        ),
        (&serde_json::json!(200_000), &Value::Null)
    );
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("- anthropic/claude-opus-4-6 from 2026-03-13: the long-context rates above 200,000 input tokens end\n"),
        "{md}"
    );
}

/// A `--prices` entry one or two letters from a built-in model, which
/// replaced nothing and priced no call, is said (hunt174: a contract's
/// rates for `gemini-2.5-por` did nothing, without a word); the right id
/// prices the calls and is not.
#[test]
fn a_misspelled_prices_entry_is_said() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        crate::util::gw_line(
            "2026-10-01T10:00:00Z",
            "qa",
            "gemini-2.5-pro",
            100_000,
            10_000,
            serde_json::json!({}),
        ) + "\n",
    );
    let run = |id: &str| {
        let entry = |id: &str| {
            format!(
                r#"{{"provider": "google", "id": "{id}", "prices": [{{"input": "1", "output": "8"}}]}}"#
            )
        };
        let models: Vec<String> = id.split(' ').map(entry).collect();
        env.write(
            "prices.json",
            format!(
                r#"{{"schema": 1, "version": "contract", "models": [{}]}}"#,
                models.join(",")
            ),
        );
        let out = env
            .cmd()
            .args([
                "audit",
                "calls.jsonl",
                "--prices",
                "prices.json",
                "--out",
                "out",
                "--quiet",
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (usd(&env.report()["audit"]["totals"]["cost"]), err)
    };
    // Built-in: 100,000 × 1.25 + 10,000 × 10 = $0.225.
    let (cost, err) = run("gemini-2.5-por");
    assert_eq!(cost, "0.225");
    assert!(
        err.contains("warning: --prices: google/gemini-2.5-por is no model of the built-in catalog and priced no call of this run; if it is google/gemini-2.5-pro misspelled"),
        "{err}"
    );
    // The contract's: 100,000 × 1 + 10,000 × 8 = $0.18.
    let (cost, err) = run("gemini-2.5-pro");
    assert_eq!(cost, "0.18");
    assert!(!err.contains("--prices"), "{err}");
    // An imported catalog's models a letter or two from a built-in one are
    // no misspelling when that one priced no call of the run, or when the
    // file prices it too (117 warnings on LiteLLM's catalog).
    let (cost, err) = run("gemini-2.5-pro gemini-2.5-por gemini-2.0-flashy");
    assert_eq!(cost, "0.18");
    assert!(!err.contains("--prices"), "{err}");
}
