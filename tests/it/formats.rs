//! Conformance: each built-in format read from `tests/fixtures/formats/`,
//! lines shaped exactly as their producers write them, with every cost and
//! token figure computed by hand here from the catalog's rates (USD per
//! million tokens, `tokenaudit prices show MODEL`; batch is every rate × 0.5):
//! - openai/gpt-4o-mini: input 0.15, cached 0.075, output 0.60
//! - openai/gpt-4o: input 2.50, cached 1.25, output 10
//! - openai/o4-mini: input 1.10, cached 0.275, output 4.40
//! - anthropic/claude-sonnet-4-5: input 3, cached 0.30, 5m write 3.75,
//!   1h write 6, output 15
//! - anthropic/claude-haiku-4-5: input 1, cached 0.10, 5m write 1.25, output 5
//! - google/gemini-2.5-flash: input 0.30, cached 0.03, output 2.50
//! - google/gemini-2.5-pro: input 1.25, output 10
//!
//! Each test also checks the token convention through the totals, so a
//! double-counted cache or reasoning count shows as a wrong token total.

use serde_json::Value;

use crate::util::{missing_tool, row, usd, Env};

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/formats/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// Audits one fixture folder and checks which reader each file got.
fn audit(name: &str, format: &str) -> Value {
    let env = Env::new();
    let r = env.audit(&[&fixture(name)]);
    for f in r["audit"]["input"]["files"].as_array().unwrap() {
        assert_eq!(f["format"], format, "{f}");
    }
    r
}

fn totals(r: &Value) -> (String, u64, u64, u64, u64, u64) {
    let t = &r["audit"]["totals"];
    let n = |k: &str| t[k].as_u64().unwrap();
    (
        usd(&t["cost"]),
        n("calls"),
        n("input_tokens"),
        n("cached_read_tokens"),
        n("output_tokens"),
        n("reasoning_tokens"),
    )
}

fn rejected(r: &Value) -> &Value {
    &r["audit"]["input"]["rejected_by_reason"]
}

#[test]
fn openai_chat_completions_bare_and_as_logged_pairs() {
    let r = audit("openai-chat", "gateway");
    // Pair: gpt-4o-mini (the request's model), 2,000 prompt of which 1,024
    // cached, 300 output: 976 × 0.15 = $0.0001464; 1,024 × 0.075 =
    // $0.0000768; 300 × 0.60 = $0.00018. Total $0.0004032, feature from the
    // request's `metadata`.
    assert_eq!(usd(&row(&r, "feature", "summarise")["cost"]), "0.0004032");
    // Bare object: gpt-4o, 1,000 in, 100 out: $0.0025 + $0.001 = $0.0035.
    assert_eq!(usd(&row(&r, "model", "gpt-4o")["cost"]), "0.0035");
    // Cached tokens are inside prompt_tokens: input 3,000, not 4,024.
    assert_eq!(totals(&r), ("0.0039032".into(), 2, 3000, 1024, 400, 0));
}

#[test]
fn openai_responses_object() {
    let r = audit("openai-responses", "gateway");
    // o4-mini: 5,000 in (4,096 cached) and 1,200 out (1,000 of them
    // reasoning, inside output_tokens): 904 × 1.10 = $0.0009944; 4,096 ×
    // 0.275 = $0.0011264; 1,200 × 4.40 = $0.00528. Total $0.0074008.
    assert_eq!(totals(&r), ("0.0074008".into(), 1, 5000, 4096, 1200, 1000));
    assert_eq!(
        usd(&row(&r, "feature", "billing-agent")["cost"]),
        "0.0074008"
    );
}

#[test]
fn openai_batch_output_is_batch_priced_and_unrun_requests_are_counted() {
    let r = audit("openai-batch", "openai-batch");
    // At batch rates (half): chat body 10,000 in × 0.075 = $0.00075 +
    // 1,000 out × 0.30 = $0.0003; Responses body 20,000 × 0.075 = $0.0015 +
    // 500 × 0.30 = $0.00015. Total $0.0027 (real time would be $0.0054).
    assert_eq!(totals(&r), ("0.0027".into(), 2, 30000, 0, 1500, 0));
    // The refused (400) and the expired request ran nowhere and cost
    // nothing: skipped, not rejected (--strict does not fail on them).
    assert_eq!(skipped(&r)["not_billed"], 2);
    assert_eq!(r["audit"]["input"]["rejected"], 0);
    assert_eq!(r["audit"]["input"]["lines"], 4);
}

#[test]
fn anthropic_messages_with_ttl_cache_writes() {
    let r = audit("anthropic-messages", "gateway");
    // Sonnet 4.5: 100 plain + 20,000 read + 3,000 written (1,000 5m, 2,000
    // 1h), 400 out: 100 × 3 = $0.0003; 20,000 × 0.30 = $0.006; 1,000 × 3.75 =
    // $0.00375; 2,000 × 6 = $0.012; 400 × 15 = $0.006. Total $0.02805.
    assert_eq!(
        usd(&row(&r, "model", "claude-sonnet-4-5")["cost"]),
        "0.02805"
    );
    // Haiku 4.5 in a logged pair: 2,095 × 1 = $0.002095 + 503 × 5 =
    // $0.002515 = $0.00461; the user from the request's metadata.user_id.
    assert_eq!(
        usd(&row(&r, "model", "claude-haiku-4-5")["cost"]),
        "0.00461"
    );
    assert_eq!(usd(&row(&r, "user", "u-123")["cost"]), "0.00461");
    // Anthropic's input excludes the cache: canonical input is
    // 100 + 20,000 + 3,000 + 2,095 = 25,195.
    assert_eq!(totals(&r), ("0.03266".into(), 2, 25195, 20000, 903, 0));
    assert_eq!(r["audit"]["totals"]["cache_write_tokens"], 3000);
}

#[test]
fn anthropic_batch_results_are_batch_priced_and_unrun_ones_counted() {
    let r = audit("anthropic-batch", "anthropic-batch");
    // Batch rates (half): Haiku 10,000 × 0.50 = $0.005 + 2,000 × 2.50 =
    // $0.005 → $0.01; Sonnet 1,000 × 1.50 = $0.0015 + 50,000 read × 0.15 =
    // $0.0075 + 500 × 7.50 = $0.00375 → $0.01275. Total $0.02275.
    assert_eq!(usd(&row(&r, "model", "claude-haiku-4-5")["cost"]), "0.01");
    assert_eq!(
        usd(&row(&r, "model", "claude-sonnet-4-5")["cost"]),
        "0.01275"
    );
    // Input 10,000 + 1,000 + 50,000 read = 61,000 (the read added once).
    assert_eq!(totals(&r), ("0.02275".into(), 2, 61000, 50000, 2500, 0));
    // errored, expired, canceled: not run, not billed, each counted (as
    // skipped).
    assert_eq!(skipped(&r)["not_billed"], 3);
    assert_eq!(r["audit"]["input"]["rejected"], 0);
}

#[test]
fn gemini_usage_metadata_with_thoughts_and_cached_content() {
    let r = audit("gemini", "gateway");
    // Flash: 8,000 prompt incl. 6,000 cached; 200 candidates + 800 thoughts
    // (billed as output, beside the candidates): 2,000 × 0.30 = $0.0006;
    // 6,000 × 0.03 = $0.00018; 1,000 × 2.50 = $0.0025. Total $0.00328.
    assert_eq!(
        usd(&row(&r, "model", "gemini-2.5-flash")["cost"]),
        "0.00328"
    );
    // Pro (Vertex, with createTime): 1,000 × 1.25 = $0.00125 + 100 × 10 =
    // $0.001 = $0.00225.
    assert_eq!(usd(&row(&r, "model", "gemini-2.5-pro")["cost"]), "0.00225");
    // Output 200 + 800 + 100 = 1,100 with 800 reasoning; input 9,000.
    assert_eq!(totals(&r), ("0.00553".into(), 2, 9000, 6000, 1100, 800));
    let days = r["audit"]["daily"].as_array().unwrap();
    assert_eq!(days[0]["day"], "2026-10-01", "createTime is the time");
}

#[test]
fn otlp_genai_spans_one_record_per_model_call() {
    let r = audit("otlp-json", "otlp-json");
    // Line 1: gpt-4o-mini chat, 12,000 in incl. 10,000 cache read, 800 out:
    // 2,000 × 0.15 = $0.0003 + 10,000 × 0.075 = $0.00075 + 800 × 0.60 =
    // $0.00048 = $0.00153. The HTTP span and the invoke_agent span (whose
    // usage repeats its child's) are not calls. Sonnet chat, 1,000 in incl.
    // 600 read, 200 out: 400 × 3 = $0.0012 + 600 × 0.30 = $0.00018 + 200 × 15
    // = $0.003 = $0.00438. A rate-limited call: a failure, no cost.
    // Line 2: only an HTTP span: one no_gen_ai_spans skip.
    // Line 3: Haiku from an instrumentation passing Anthropic's exclusive
    // input (100, with 5,000 read and 300 written: parts above the whole):
    // read as 5,400 in: 100 × 1 = $0.0001 + 5,000 × 0.10 = $0.0005 + 300 ×
    // 1.25 = $0.000375 + 50 × 5 = $0.00025 = $0.001225.
    assert_eq!(totals(&r), ("0.007135".into(), 4, 18400, 15600, 1050, 0));
    assert_eq!(usd(&row(&r, "model", "gpt-4o-mini")["cost"]), "0.00153");
    assert_eq!(
        usd(&row(&r, "model", "claude-sonnet-4-5")["cost"]),
        "0.00438"
    );
    assert_eq!(
        usd(&row(&r, "model", "claude-haiku-4-5")["cost"]),
        "0.001225"
    );
    assert_eq!(usd(&row(&r, "session", "conv-7")["cost"]), "0.00438");
    assert_eq!(row(&r, "model", "gpt-4o-mini")["failed_calls"], 1);
    let input = &r["audit"]["input"];
    assert_eq!((&input["lines"], &input["records"]), (&3.into(), &4.into()));
    assert_eq!(skipped(&r)["no_gen_ai_spans"], 1);
    assert_eq!(input["rejected"], 0);
    // Resource attributes are tags; span attributes naming servers are not.
    let tags: Vec<(String, String)> = r["audit"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["key"].as_str().unwrap().to_string(), usd(&t["cost"])))
        .collect();
    assert!(tags.contains(&("service.name=support-bot".into(), "0.00591".into())));
    assert!(tags.contains(&("service.name=batch-worker".into(), "0.001225".into())));
    assert!(
        !tags.iter().any(|(k, _)| k.starts_with("server.")),
        "{tags:?}"
    );
}

#[test]
fn litellm_spend_logs_read_by_the_gateway_reader() {
    let r = audit("litellm-spend-logs", "gateway");
    // gpt-4o-mini 2,500 × 0.15 = $0.000375 + 500 × 0.60 = $0.0003 =
    // $0.000675; Haiku 4,000 × 1 = $0.004 + 100 × 5 = $0.0005 = $0.0045; a
    // failed call with no tokens. Total $0.005175.
    assert_eq!(totals(&r), ("0.005175".into(), 3, 6500, 0, 600, 0));
    assert_eq!(usd(&row(&r, "team", "team-support")["cost"]), "0.005175");
    assert_eq!(usd(&row(&r, "user", "internal-user-7")["cost"]), "0.005175");
    assert_eq!(row(&r, "model", "gpt-4o-mini")["failed_calls"], 1);
    // What failed, from `metadata.error_information`: its class.
    assert_eq!(r["audit"]["failures"][0]["key"], "RateLimitError");
    assert_eq!(r["audit"]["failures"][0]["failed_calls"], 1);
    let tags: Vec<&str> = r["audit"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert!(
        tags.contains(&"user_api_key_alias=support-bot-key"),
        "{tags:?}"
    );
    // LiteLLM's `feature:<name>` request tags are the feature tag, and so
    // the feature: $0.000675 + a failed call for summarise, $0.0045 for
    // classify.
    assert!(tags.contains(&"feature=classify"), "{tags:?}");
    assert_eq!(usd(&row(&r, "feature", "summarise")["cost"]), "0.000675");
    assert_eq!(usd(&row(&r, "feature", "classify")["cost"]), "0.0045");
    // The logged spend agrees with the catalog's price.
    for rec in r["audit"]["reconciliation"].as_array().unwrap() {
        assert_eq!(usd(&rec["difference"]), "0.00", "{rec}");
    }
}

/// LiteLLM's spend logs as CSV (a Postgres `\copy`): `metadata` is JSON
/// text in its cell, and its cache counts are read as from the JSON rows.
#[test]
fn litellm_spend_logs_as_csv_keep_their_cache_counts() {
    let env = Env::new();
    env.write(
        "spend.csv",
        "request_id,spend,prompt_tokens,completion_tokens,startTime,model,custom_llm_provider,metadata,request_tags\n\
         r1,0.005475,3000,100,2026-10-01 10:00:00,claude-sonnet-4-20250514,anthropic,\
         \"{\"\"additional_usage_values\"\": {\"\"cache_read_input_tokens\"\": 2000, \"\"cache_creation_input_tokens\"\": 500}, \"\"user_api_key_alias\"\": \"\"k1\"\"}\",\
         \"[\"\"feature:search\"\"]\"\n",
    );
    let r = env.audit(&["spend.csv", "--strict"]);
    assert_eq!(r["audit"]["input"]["files"][0]["format"], "gateway (CSV)");
    // prompt_tokens includes the cache: 500 uncached × $3/M = $0.0015 +
    // 2,000 read × $0.30/M = $0.0006 + 500 written × $3.75/M = $0.001875
    // + 100 out × $15/M = $0.0015: $0.005475, as LiteLLM logged.
    assert_eq!(totals(&r), ("0.005475".into(), 1, 3000, 2000, 100, 0));
    assert_eq!(usd(&row(&r, "feature", "search")["cost"]), "0.005475");
    for rec in r["audit"]["reconciliation"].as_array().unwrap() {
        assert_eq!(usd(&rec["difference"]), "0.00", "{rec}");
    }
}

#[test]
fn mixed_folder_detects_each_file_and_input_format_overrides() {
    let env = Env::new();
    for (dir, file) in [
        ("openai-batch", "batch_output.jsonl"),
        ("anthropic-batch", "results.jsonl"),
        ("otlp-json", "traces.jsonl"),
        ("gemini", "generate_content.jsonl"),
    ] {
        let text = std::fs::read_to_string(format!("{}/{file}", fixture(dir))).unwrap();
        env.write(&format!("mixed/{dir}.jsonl"), text);
    }
    env.write(
        "mixed/unknown.jsonl",
        "{\"input_length\":5,\"output_length\":7}\n",
    );
    let r = env.audit(&["mixed"]);
    let formats: Vec<(String, String)> = r["audit"]["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = f["file"].as_str().unwrap();
            let base = name.rsplit('/').next().unwrap().to_string();
            (base, f["format"].as_str().unwrap().to_string())
        })
        .collect();
    for (file, format) in [
        ("openai-batch.jsonl", "openai-batch"),
        ("anthropic-batch.jsonl", "anthropic-batch"),
        ("otlp-json.jsonl", "otlp-json"),
        ("gemini.jsonl", "gateway"),
        ("unknown.jsonl", "none"),
    ] {
        assert!(
            formats.contains(&(file.to_string(), format.to_string())),
            "{formats:?}"
        );
    }
    // $0.0027 + $0.02275 + $0.007135 + $0.00553 = $0.038115.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.038115");
    assert_eq!(rejected(&r)["unrecognized_format"], 1);

    // Forced: the batch file read as plain gateway lines is real-time priced
    // ($0.0054), and an unknown name is an error naming the choices.
    let r = env.audit(&[
        &format!("{}/batch_output.jsonl", fixture("openai-batch")),
        "--input-format",
        "gateway",
    ]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0054");
    let out = env
        .cmd()
        .args(["audit", "mixed", "--input-format", "csv", "--out", "o"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--input-format") && err.contains("otlp-json"),
        "{err}"
    );
}

#[test]
fn formats_command_lists_every_builtin_format() {
    let env = Env::new();
    let out = env.cmd().arg("formats").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in [
        "gateway",
        "openai-batch",
        "anthropic-batch",
        "otlp-json",
        "kong",
        "mapped",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
}

/// Kong AI Gateway's file-log lines: first a request no AI plugin served
/// (an auth plugin's 401: no call, and the file is still Kong's), a 3.8
/// line with payloads (the logged response's usage, with its cached
/// tokens, is the call's), a 3.6 line, a rate-limited call and a
/// semantic-cache hit (no call).
/// gpt-4o-2024-08-06: 600 × $2.50/M + 400 × $1.25/M + 100 × $10/M = $0.003;
/// claude-3-5-haiku: 300 × $0.80/M + 20 × $4/M = $0.00032.
#[test]
fn kong_ai_gateway_logs() {
    let r = audit("kong", "kong");
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00332");
    assert_eq!(r["audit"]["totals"]["calls"], 3);
    assert_eq!(r["audit"]["totals"]["failed_calls"], 1);
    assert_eq!(r["audit"]["totals"]["cached_read_tokens"], 400);
    assert_eq!(r["audit"]["input"]["skipped_by_reason"]["not_a_call"], 2);
    assert_eq!(r["audit"]["input"]["rejected"], 0);
    assert_eq!(usd(&row(&r, "route", "openai-chat")["cost"]), "0.003");
    assert_eq!(usd(&row(&r, "user", "app-7")["cost"]), "0.00032");
}

// Langfuse, Helicone, CSV and JSON-document files (issue 5, items 6 and 8).
// Rates as above; claude-haiku-4-5 cache write 5m 1.25.

#[test]
fn langfuse_observations_generations_are_calls_spans_are_not() {
    let r = audit("langfuse", "langfuse");
    // Sonnet: usageDetails input 100 (uncached) + cache read 2,000 + cache
    // write 300 = 2,400 in: 100 × 3 = $0.0003 + 2,000 × 0.30 = $0.0006 +
    // 300 × 3.75 = $0.001125 + 50 out × 15 = $0.00075 = $0.002775.
    // gpt-4o-mini: input 976 + input_cached_tokens 1,024 = 2,000 in: 976 ×
    // 0.15 = $0.0001464 + 1,024 × 0.075 = $0.0000768 + 300 × 0.60 = $0.00018
    // = $0.0004032. o4-mini, level ERROR: 500 × 1.10 = $0.00055.
    assert_eq!(totals(&r), ("0.0037282".into(), 3, 4900, 3024, 350, 0));
    assert_eq!(usd(&row(&r, "feature", "support-chat")["cost"]), "0.002775");
    assert_eq!(usd(&row(&r, "feature", "summarise")["cost"]), "0.0004032");
    assert_eq!(usd(&row(&r, "session", "sess-1001")["cost"]), "0.002775");
    assert_eq!(usd(&row(&r, "team", "growth")["cost"]), "0.0004032");
    assert_eq!(row(&r, "model", "o4-mini")["failed_calls"], 1);
    // The SPAN and the EVENT: counted, not calls, no samples.
    assert_eq!(skipped(&r)["not_a_call"], 2);
    assert_eq!(
        r["audit"]["input"]["rejected_samples"],
        serde_json::json!([])
    );
    // totalCost agrees with the catalog on every call.
    for rec in r["audit"]["reconciliation"].as_array().unwrap() {
        assert_eq!(usd(&rec["difference"]), "0.00", "{rec}");
    }
    // Not bad input: --strict still writes the report.
    let env = Env::new();
    let r = env.audit(&[&fixture("langfuse"), "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0037282");
}

/// OpenRouter's generation records (`GET /api/v1/generation`, one
/// `{"data": {…}}` per line): the native counts, OpenAI's convention, the
/// serving provider's prices, `total_cost` reconciled.
#[test]
fn openrouter_generations_are_priced_from_the_native_counts() {
    let r = audit("openrouter", "openrouter");
    // gpt-4o (OpenAI): 10,000 in of which 4,000 cached, 1,000 out:
    // 6,000 × $2.50 + 4,000 × $1.25 + 1,000 × $10 per million = $0.03.
    // claude-sonnet-4.5 (Anthropic): 20,000 in of which 15,000 read, 500
    // out: 5,000 × $3 + 15,000 × $0.30 + 500 × $15 = $0.027. o4-mini:
    // 1,000 × $1.10 + 3,000 out (2,500 of them reasoning) × $4.40 =
    // $0.0143. Llama 3.3 70B on DeepInfra is not in the catalog: listed,
    // unpriced. The cancelled generation has no native counts (the
    // normalised `tokens_prompt` is not billed): rejected, said.
    assert_eq!(
        totals(&r),
        ("0.0713".into(), 4, 32_000, 19_000, 4_800, 2_500)
    );
    assert_eq!(rejected(&r)["missing_usage"], 1);
    // The file opens with the endpoint's 404 (asked too soon): no call.
    assert_eq!(skipped(&r)["not_a_call"], 1);
    assert_eq!(cost_of(&r, "provider", "anthropic"), "0.027");
    assert_eq!(cost_of(&r, "user", "u-17"), "0.057");
    let unknown = &r["audit"]["unknown_models"];
    assert!(
        unknown
            .to_string()
            .contains("meta-llama/llama-3.3-70b-instruct"),
        "{unknown}"
    );
    for rec in r["audit"]["reconciliation"].as_array().unwrap() {
        if rec["unpriced"] != true {
            assert_eq!(usd(&rec["difference"]), "0.00", "{rec}");
        }
    }
}

#[test]
fn helicone_requests_add_the_cache_to_prompt_tokens_once() {
    let r = audit("helicone", "helicone");
    // Haiku: prompt_tokens 200 (uncached) + 5,000 read + 1,000 written =
    // 6,200 in: 200 × 1 = $0.0002 + 5,000 × 0.10 = $0.0005 + 1,000 × 1.25 =
    // $0.00125 + 100 out × 5 = $0.0005 = $0.00245. gpt-4o-mini: 1,500 + 500
    // read = 2,000 in: 1,500 × 0.15 = $0.000225 + 500 × 0.075 = $0.0000375 +
    // 200 × 0.60 = $0.00012 = $0.0003825. A 429 and a request with no
    // response (status -1): failures, no tokens. The cache hit (a
    // cache_reference_id) was not billed: not a call.
    assert_eq!(totals(&r), ("0.0028325".into(), 4, 8200, 5500, 300, 0));
    assert_eq!(skipped(&r)["not_a_call"], 1);
    assert_eq!(row(&r, "model", "gpt-4o-mini")["failed_calls"], 2);
    assert_eq!(usd(&row(&r, "feature", "doc-qa")["cost"]), "0.00245");
    assert_eq!(usd(&row(&r, "session", "sess-77")["cost"]), "0.00245");
    assert_eq!(usd(&row(&r, "provider", "anthropic")["cost"]), "0.00245");
    assert_eq!(usd(&row(&r, "user", "user-12")["cost"]), "0.0028325");
    for rec in r["audit"]["reconciliation"].as_array().unwrap() {
        assert_eq!(usd(&rec["difference"]), "0.00", "{rec}");
    }
}

/// Langfuse's CSV export writes usageDetails as JSON text in a cell.
#[test]
fn langfuse_csv_reads_usage_from_json_text_cells() {
    let env = Env::new();
    env.write(
        "observations.csv",
        "id,traceId,type,name,startTime,model,usageDetails,metadata\n\
         o1,t1,GENERATION,chat,2025-10-01T10:00:00Z,gpt-4o,\"{\"\"input\"\":1000,\"\"output\"\":100,\"\"input_cached_tokens\"\":200}\",\"{\"\"feature\"\":\"\"faq\"\"}\"\n",
    );
    let r = env.audit(&["observations.csv", "--strict"]);
    assert_eq!(r["audit"]["input"]["files"][0]["format"], "langfuse (CSV)");
    // gpt-4o: 1,000 uncached × $2.50/M = $0.0025 + 200 cached × $1.25/M =
    // $0.00025 + 100 out × $10/M = $0.001: $0.00375.
    assert_eq!(totals(&r), ("0.00375".into(), 1, 1200, 200, 100, 0));
    assert_eq!(usd(&row(&r, "feature", "faq")["cost"]), "0.00375");
}

/// Gemini Batch API and Vertex AI batch prediction output, at batch rates.
#[test]
fn gemini_and_vertex_batch_output_is_priced_at_batch_rates() {
    let r = audit("gemini-batch", "gemini-batch");
    // Half the list prices. gemini-2.5-flash: 10,000 in × $0.15/M =
    // $0.0015 + 1,000 out × $1.25/M = $0.00125 = $0.00275. gemini-2.0-flash:
    // 20,000 × $0.05/M = $0.001 + (2,000 + 1,000 thoughts) × $0.20/M =
    // $0.0006 = $0.0016. $0.00435 in all; the two errors were not billed.
    assert_eq!(totals(&r), ("0.00435".into(), 2, 30000, 0, 4000, 1000));
    assert_eq!(skipped(&r)["not_billed"], 2);
    assert_eq!(r["audit"]["batch_calls_at_full_price"], 0);
    // Vertex's `processed_time` is the call's time (Gemini's lines have none).
    assert_eq!(r["audit"]["first_call"], "2025-10-01T18:13:16.826Z");
    assert_eq!(r["audit"]["input"]["rejected"], 0);
}

/// Batch output is in no particular order: a file whose first line is a
/// failed request (Gemini's `{key, error}`, Vertex's `{status,
/// processed_time, request}`) is batch output all the same. It was read as a
/// gateway log, every call at full price.
#[test]
fn gemini_batch_output_starting_with_an_error_is_batch_output() {
    let env = Env::new();
    let ok = r#"{"candidates":[{"content":{"parts":[{"text":"x"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":100000,"candidatesTokenCount":1000,"totalTokenCount":105000,"thoughtsTokenCount":4000},"modelVersion":"gemini-2.5-pro"}"#;
    env.write(
        "gemini.jsonl",
        format!(
            "{}\n{}\n",
            r#"{"key":"request-2","error":{"code":400,"message":"Request contains an invalid argument.","status":"INVALID_ARGUMENT"}}"#,
            format_args!(r#"{{"key":"request-1","response":{ok}}}"#)
        ),
    );
    env.write(
        "vertex.jsonl",
        format!(
            "{}\n{}\n",
            r#"{"status":"Bad Request: empty text","processed_time":"2025-09-01T00:00:00.000+00:00","request":{"contents":[{"role":"user","parts":[{"text":""}]}]}}"#,
            format_args!(r#"{{"status":"","processed_time":"2025-09-01T00:00:00.000+00:00","request":{{"contents":[]}},"response":{ok}}}"#)
        ),
    );
    let r = env.audit(&["gemini.jsonl", "vertex.jsonl", "--strict"]);
    // gemini-2.5-pro, 100,000 in × $1.25/M = $0.125 + (1,000 + 4,000
    // thoughts) × $10/M = $0.05: $0.175 at list price, $0.0875 at batch
    // rates; two calls $0.175 (it was $0.35).
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.175");
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(skipped(&r)["not_billed"], 2);
    for f in r["audit"]["input"]["files"].as_array().unwrap() {
        assert_eq!(f["format"], "gemini-batch", "{f}");
    }
}

/// Bedrock's service tiers (Converse's `serviceTier: {"type": …}`, in the
/// logged response or request) are priced at their rates, as OpenAI's
/// `service_tier` is; `reserved` capacity is billed by reservation and said.
#[test]
fn bedrock_service_tiers_are_priced_at_their_rates() {
    let env = Env::new();
    let line = |id: &str, tier: &str, place: &str| {
        let tier = format!(r#""serviceTier":{{"type":"{tier}"}}"#);
        let (input_body, output_body) = match place {
            "response" => (String::new(), format!(r#","outputBodyJson":{{{tier}}}"#)),
            _ => (format!(r#","inputBodyJson":{{{tier}}}"#), String::new()),
        };
        format!(
            r#"{{"schemaType":"ModelInvocationLog","timestamp":"2025-12-01T10:00:00Z","requestId":"{id}","modelId":"amazon.nova-pro-v1:0","input":{{"inputTokenCount":1000{input_body}}},"output":{{"outputTokenCount":1000{output_body}}}}}"#
        )
    };
    env.write(
        "tiers.jsonl",
        [
            line("f", "flex", "response"),
            line("p", "priority", "request"),
            line("r", "reserved", "response"),
            line("d", "default", "request"),
        ]
        .join("\n"),
    );
    let r = env.audit(&["tiers.jsonl"]);
    // Nova Pro: $0.80 in, $3.20 out per million; 1,000 of each is $0.004
    // at standard rates (the default tier, and the reserved call, said);
    // flex × 0.5 = $0.002; priority × 1.75 = $0.007. In all $0.017.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.017");
    assert_eq!(r["audit"]["provisioned_calls_at_on_demand_price"], 1);
    assert_eq!(r["audit"]["tier_calls_at_standard_price"], 0);
}

/// Bedrock's invocation logs, priced at the catalog's AWS rates.
#[test]
fn bedrock_invocation_logs_add_the_cache_and_price_as_bedrock() {
    let r = audit("bedrock", "bedrock");
    // Haiku 3.5 on Bedrock ($0.80 in, $4 out): 1,200 × 0.8 = $0.00096 +
    // 40 × 4 = $0.00016 = $0.00112. Sonnet 3.7 through the EU profile
    // ARN ($3 in, $0.30 cached, $3.75 written, $15 out): 100 uncached ×
    // 3 = $0.0003 + 5,000 × 0.30 = $0.0015 + 2,000 × 3.75 = $0.0075 +
    // 300 × 15 = $0.0045 = $0.0138. The throttled call: a failure, no
    // tokens. $0.01492 in all; input 1,200 + 7,100.
    assert_eq!(totals(&r), ("0.01492".into(), 3, 8300, 5000, 340, 0));
    // Logged as `bedrock`: the provider table's row is the catalog's
    // provider that bills, AWS.
    assert_eq!(usd(&row(&r, "provider", "aws")["cost"]), "0.01492");
    assert_eq!(usd(&row(&r, "feature", "ticket-triage")["cost"]), "0.00112");
    assert_eq!(usd(&row(&r, "team", "support")["cost"]), "0.00112");
    assert_eq!(
        row(
            &r,
            "model",
            "regional.anthropic.claude-3-5-haiku-20241022-v1:0"
        )["failed_calls"],
        1
    );
    assert_eq!(r["audit"]["unknown_models"].as_array().unwrap().len(), 0);

    // Sonnet 4 on Bedrock past 200,000 input tokens: the whole request at
    // the long-context rates LiteLLM gives ($6 in, $22.50 out; genai-prices
    // gives none): 300,000 × 6 = $1.80 + 1,000 × 22.5 = $0.0225.
    let env = Env::new();
    env.write(
        "long.jsonl",
        r#"{"schemaType":"ModelInvocationLog","timestamp":"2025-10-01T10:00:00Z","requestId":"l1","modelId":"us.anthropic.claude-sonnet-4-20250514-v1:0","input":{"inputTokenCount":300000},"output":{"outputTokenCount":1000}}"#,
    );
    let r = env.audit(&["long.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "1.8225");
    assert_eq!(r["audit"]["long_context_calls"], 1);
    assert_eq!(r["audit"]["priced_elsewhere"], serde_json::json!([]));

    // CloudWatch Logs' export to S3: a time before each line, gzipped.
    // The fixture's three calls, the same $0.01492.
    let fixture_text =
        std::fs::read_to_string(format!("{}/invocations.jsonl", fixture("bedrock"))).unwrap();
    let exported: String = fixture_text
        .lines()
        .map(|l| format!("2025-10-01T10:00:00.000Z {l}\n"))
        .collect();
    env.write_gz("000000.gz", &exported);
    let r = env.audit(&["000000.gz", "--strict"]);
    assert_eq!(
        r["audit"]["input"]["files"][0]["format"],
        "bedrock (time-prefixed)"
    );
    assert_eq!(totals(&r), ("0.01492".into(), 3, 8300, 5000, 340, 0));

    // A model Bedrock's prices in the catalog lack is priced at its
    // maker's, and said to be: Command R+ at Cohere's $2.50/$10, 1M in and
    // 100k out = $3.50.
    env.write(
        "cohere.jsonl",
        r#"{"schemaType":"ModelInvocationLog","timestamp":"2025-10-01T10:00:00Z","requestId":"c1","modelId":"cohere.command-r-plus-v1:0","input":{"inputTokenCount":1000000},"output":{"outputTokenCount":100000}}"#,
    );
    let r = env.audit(&["cohere.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "3.50");
    let elsewhere = &r["audit"]["priced_elsewhere"][0];
    assert_eq!(
        (
            &elsewhere["logged_provider"],
            &elsewhere["resolved"],
            &elsewhere["calls"]
        ),
        (
            &"bedrock".into(),
            &"cohere/command-r-plus".into(),
            &1.into()
        )
    );
    // A host named before the model (LiteLLM's `azure_ai/…`) is said as a
    // logged provider is (hunt131: DeepSeek-R1 on Azure AI Foundry at
    // DeepSeek's own rates, said nowhere); a maker's slug is no host.
    env.write(
        "hosts.jsonl",
        concat!(
            r#"{"timestamp":"2025-10-01T10:00:00Z","model":"azure_ai/deepseek-r1","usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
            "\n",
            r#"{"timestamp":"2025-10-01T10:00:00Z","model":"openai/gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["hosts.jsonl"]);
    let elsewhere = r["audit"]["priced_elsewhere"].as_array().unwrap();
    assert_eq!(elsewhere.len(), 1, "{elsewhere:?}");
    assert_eq!(elsewhere[0]["logged_model"], "azure_ai/deepseek-r1");
    assert_eq!(elsewhere[0]["resolved"], "deepseek/deepseek-reasoner");
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("`azure_ai/deepseek-r1` (azure\\_ai) → `deepseek/deepseek-reasoner`"),
        "{md}"
    );
}

#[test]
fn json_arrays_documents_and_csv_side_by_side() {
    let env = Env::new();
    let r = env.audit(&[&fixture("mixed")]);
    let files: Vec<(String, String, u64)> = r["audit"]["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = f["file"].as_str().unwrap().rsplit('/').next().unwrap();
            let n = f["records"].as_u64().unwrap();
            (name.into(), f["format"].as_str().unwrap().into(), n)
        })
        .collect();
    let want = [
        ("helicone-export.json", "helicone (JSON documents)", 2),
        ("helicone-output.csv", "helicone (CSV)", 2),
        ("langfuse-export.json", "langfuse (JSON documents)", 1),
        ("notes.csv", "none", 0),
        ("otlp-pretty.json", "otlp-json (JSON documents)", 1),
    ];
    let want: Vec<(String, String, u64)> = want
        .iter()
        .map(|(a, b, n)| (a.to_string(), b.to_string(), *n))
        .collect();
    assert_eq!(files, want);
    // Helicone's pretty array (with the export tool's trailing comma):
    // $0.00245 + $0.0003825. Its CSV has no cache columns, so the
    // gpt-4o-mini row is 1,500 uncached in and 200 out: $0.000225 + $0.00012
    // = $0.000345, and the 429 costs nothing. The Langfuse one-line array:
    // the span (not a call) and the Sonnet generation, $0.002775. The
    // indented OTLP document: Haiku, 5,400 in (5,000 read, 300 written):
    // $0.001225; the second document has no GenAI span.
    assert_eq!(totals(&r), ("0.0071775".into(), 6, 17500, 12500, 600, 0));
    // The CSV's properties cell (escaped twice by the export tool) still
    // gives the feature: $0.0003825 (JSON) + $0.000345 (CSV).
    assert_eq!(
        usd(&row(&r, "feature", "ticket-triage")["cost"]),
        "0.0007275"
    );
    // The OTLP document with no GenAI span is skipped (bad_input.rs checks
    // that element numbers locate rejects in JSON documents); a CSV without
    // a mapping is reported with its header, not guessed.
    assert_eq!(skipped(&r)["no_gen_ai_spans"], 1);
    let samples = r["audit"]["input"]["rejected_samples"].as_array().unwrap();
    let notes = samples
        .iter()
        .find(|s| s["file"].as_str().unwrap().ends_with("notes.csv"))
        .unwrap();
    assert_eq!(notes["reason"], "unrecognized_format");
    assert!(
        notes["detail"]
            .as_str()
            .unwrap()
            .contains("date, hours, team"),
        "{notes}"
    );
}

/// CSV on stdin has no name to tell it: its header does. Helicone's export
/// piped in reads as it does from its file ($0.000345, 2 calls, a 429).
#[test]
fn csv_on_stdin_is_told_by_its_header() {
    let env = Env::new();
    let csv = std::fs::read(format!("{}/helicone-output.csv", fixture("mixed"))).unwrap();
    let out = env
        .cmd()
        .args(["audit", "-", "--out", "out", "--quiet"])
        .write_stdin(csv)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let r = env.report();
    let f = &r["audit"]["input"]["files"][0];
    assert_eq!(
        (&f["format"], &f["records"], &f["rejected"]),
        (&"helicone (CSV)".into(), &2.into(), &0.into())
    );
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.000345");
}

/// A spreadsheet's export writes counts with thousands separators
/// (`"1,000,000"`): read as the count (the row was a wrong_type reject).
#[test]
fn csv_counts_with_thousands_separators() {
    let env = Env::new();
    env.write(
        "calls.csv",
        "timestamp,model,feature,prompt_tokens,completion_tokens\n\
         2025-10-01T10:00:00Z,gpt-4o,report,\"1,000,000\",\"10,000\"\n\
         2025-10-01T10:01:00Z,gpt-4o,report,2000,100\n",
    );
    let r = env.audit(&["calls.csv", "--strict"]);
    // gpt-4o: 1,000,000 × $2.50/M + 10,000 × $10/M = $2.60; 2,000 × 2.5 +
    // 100 × 10 = $0.006.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "2.606");
    assert_eq!(r["audit"]["totals"]["calls"], 2);
}

/// hunt57: a CSV cell that looks like a number is text where it reads
/// back otherwise: a hex hash `81285e…` (out of a float's range, the row was
/// rejected as malformed JSON), ids `12e5` and features `2024.10` (they were
/// `1200000` and `2024.1`). Costs and latencies so written still read as
/// numbers; a count's column keeps `3e2`.
#[test]
fn csv_cells_that_look_like_numbers_keep_their_text() {
    let env = Env::new();
    env.write(
        "calls.csv",
        "timestamp,model,feature,request_id,prompt_hash,prompt_tokens,completion_tokens,cost,latency_ms\n\
         2025-10-01T10:00:00Z,gpt-4o,2024.10,12e5,81285e7693381053,1000,100,2e-3,1.20e3\n\
         2025-10-01T10:01:00Z,gpt-4o,2024.1,12e6,81285e7693381054,2e3,100,0.0060,800\n",
    );
    let r = env.audit(&["calls.csv", "--strict"]);
    // gpt-4o: 1,000 × $2.50/M + 100 × $10/M = $0.0035; 2,000 in: $0.006.
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0095");
    assert_eq!(cost_of(&r, "feature", "2024.10"), "0.0035");
    assert_eq!(cost_of(&r, "feature", "2024.1"), "0.006");
    let logged = &r["audit"]["reconciliation"][0];
    assert_eq!(usd(&logged["logged"]), "0.008");
    let top = &r["audit"]["most_expensive_calls"];
    assert_eq!(top[0]["request_id"], "12e6");
    assert_eq!(top[1]["request_id"], "12e5");
    // hunt58: what numeric fields read from such text: an epoch in a
    // float's exponent form (Spark's, Java's), flags and codes as floats.
    // One batch call at half of $0.0035, one failed (HTTP 500.0).
    env.write(
        "spark.csv",
        "created,model,feature,prompt_tokens,completion_tokens,http_status,attempt,batch,latency_ms\n\
         1.7593128E9,gpt-4o,f1,1000,100,500.0,2.0,1.0,1.20e3\n\
         1.7593129E9,gpt-4o,f1,1000,100,200.0,1.0,0.0,800.0\n",
    );
    let r = env.audit(&["spark.csv", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(
        (t["calls"].as_u64(), t["failed_calls"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(usd(&t["cost"]), "0.00525");
    assert_eq!(r["audit"]["first_call"], "2025-10-01T10:00:00Z");
}

/// A spreadsheet set to a language whose decimal mark is the comma saves
/// CSV with semicolons; a `.tsv` file has tabs. The header's separator is
/// the file's: each reads as the comma-separated file does (before, every
/// row of the semicolon file was rejected, and a `.tsv` file was not CSV).
#[test]
fn csv_with_semicolons_or_tabs_is_read_by_its_header() {
    let env = Env::new();
    env.write(
        "semi.csv",
        "\u{feff}timestamp;model;feature;prompt_tokens;completion_tokens;note\r\n\
         2025-10-01T10:00:00Z;gpt-4o;report;\"1,000,000\";10000;\"a; b\"\r\n\
         2025-10-01T10:01:00Z;gpt-4o-mini;chat;2000;100;\r\n",
    );
    env.write(
        "tabs.tsv",
        "timestamp\tmodel\tfeature\tprompt_tokens\tcompletion_tokens\n\
         2025-10-01T10:02:00Z\tgpt-4o\treport\t1000\t10\n",
    );
    let r = env.audit(&["semi.csv", "tabs.tsv", "--strict"]);
    // gpt-4o: 1,000,000 × $2.50/M + 10,000 × $10/M = $2.60, and 1,000 ×
    // 2.5 + 10 × 10 = $0.0026; gpt-4o-mini: 2,000 × 0.15 + 100 × 0.60 =
    // $0.00036.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "2.60296");
    assert_eq!(r["audit"]["totals"]["calls"], 3);
    assert_eq!(cost_of(&r, "feature", "report"), "2.6026");
    assert_eq!(r["audit"]["input"]["rejected"], 0);
    // In a directory, a `.tsv` file is a log as a `.csv` one is.
    std::fs::create_dir_all(env.path("dir")).unwrap();
    std::fs::rename(env.path("tabs.tsv"), env.path("dir/tabs.tsv")).unwrap();
    let r = env.audit(&["dir", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0026");
}

/// A CSV row that cannot be read is said as one (hunt63: "malformed_json:
/// invalid JSON syntax at column 1"): a quoted cell that never closes, at
/// the row's line, and a row of a Latin-1 byte. The other rows are read:
/// 100 in at $2.50 and 10 out at $10 per million, $0.00035 each.
#[test]
fn a_csv_row_that_cannot_be_read_is_said_as_csv() {
    let env = Env::new();
    let head = "timestamp,model,prompt_tokens,completion_tokens,note\n";
    let row = |m: u32, note: &str| format!("2026-10-01T00:0{m}:00Z,gpt-4o,100,10,{note}\n");
    env.write(
        "quote.csv",
        format!(
            "{head}{}{}{}",
            row(0, "ok"),
            row(1, "\"he said"),
            row(2, "ok")
        ),
    );
    let mut latin1 = format!("{head}{}", row(0, "caf")).into_bytes();
    latin1.insert(latin1.len() - 1, 0xe9);
    latin1.extend(row(2, "ok").into_bytes());
    std::fs::write(env.path("latin1.csv"), latin1).unwrap();
    for (file, line, detail, calls, cost) in [
        (
            "quote.csv",
            3,
            "CSV row whose quoted cell never closes",
            2,
            "0.0007",
        ),
        (
            "latin1.csv",
            2,
            "CSV row that is not UTF-8 text (is the file in another encoding?)",
            1,
            "0.00035",
        ),
    ] {
        let r = env.audit(&[file]);
        let s = &r["audit"]["input"]["rejected_samples"][0];
        assert_eq!(
            (&s["line"], &s["reason"], &s["detail"]),
            (&line.into(), &"malformed_csv".into(), &detail.into()),
            "{file}"
        );
        assert_eq!(rejected(&r)["malformed_csv"], 1);
        assert_eq!(r["audit"]["totals"]["calls"], calls, "{file}");
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), cost, "{file}");
    }
}

#[test]
fn csv_through_a_mapping_with_quoting_and_line_numbers() {
    let env = Env::new();
    let config = format!("{}/tokenaudit.toml", fixture("csv"));
    let r = env.audit(&[&fixture("csv"), "--config", &config]);
    // gpt-4o: 10,000 in incl. 4,000 cached: 6,000 × 2.5 = $0.015 + 4,000 ×
    // 1.25 = $0.005 + 500 × 10 = $0.005 = $0.025, feature "search, ranking"
    // (a quoted comma). gpt-4o-mini: 2,000 × 0.15 = $0.0003 + 100 × 0.60 =
    // $0.00006 = $0.00036; its quoted note spans lines 3-4, so the row with
    // "many" tokens is line 5 of the file.
    assert_eq!(totals(&r), ("0.02536".into(), 2, 12000, 4000, 600, 0));
    assert_eq!(usd(&row(&r, "feature", "search, ranking")["cost"]), "0.025");
    let s = &r["audit"]["input"]["rejected_samples"][0];
    assert_eq!(
        (&s["line"], &s["reason"]),
        (&5.into(), &"wrong_type".into())
    );
    assert_eq!(r["audit"]["input"]["files"][0]["format"], "mapped (CSV)");
}

/// Sums two integer columns of a CSV with a header, read here without the
/// csv crate (the trace has no quoting).
fn column_sums(path: &str, a: &str, b: &str) -> (u64, u64, u64) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let ia = header.iter().position(|h| *h == a).unwrap();
    let ib = header.iter().position(|h| *h == b).unwrap();
    let (mut rows, mut sa, mut sb) = (0, 0, 0);
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        sa += cells[ia].trim().parse::<u64>().unwrap();
        sb += cells[ib].trim().parse::<u64>().unwrap();
        rows += 1;
    }
    (rows, sa, sb)
}

/// The first 300 rows of each of Azure's two LLM inference traces
/// (`tests/fixtures/real/README.md` gives their source and license).
#[test]
fn real_azure_trace_csv_with_a_default_model() {
    let dir = format!(
        "{}/tests/fixtures/real/azure-llm-inference-2023",
        env!("CARGO_MANIFEST_DIR")
    );
    let code = format!("{dir}/AzureLLMInferenceTrace_code.csv");
    let conv = format!("{dir}/AzureLLMInferenceTrace_conv.csv");
    let env = Env::new();
    env.write(
        "azure.toml",
        "[mapping]\ntimestamp = \"TIMESTAMP\"\ninput_tokens = \"ContextTokens\"\n\
         output_tokens = \"GeneratedTokens\"\n[mapping.defaults]\nmodel = \"gpt-4o-mini\"\n",
    );
    let r = env.audit(&[&code, &conv, "--config", "azure.toml", "--strict"]);
    let (mut calls, mut input, mut output) = (0, 0, 0);
    for f in [&code, &conv] {
        let (n, i, o) = column_sums(f, "ContextTokens", "GeneratedTokens");
        (calls, input, output) = (calls + n, input + i, output + o);
    }
    // gpt-4o-mini: $0.15 and $0.60 per million tokens, i.e. 150,000 and
    // 600,000 pico-dollars per token.
    let picos = u128::from(input) * 150_000 + u128::from(output) * 600_000;
    let cost = format!(
        "{}.{:012}",
        picos / 1_000_000_000_000,
        picos % 1_000_000_000_000
    );
    let cost = cost.trim_end_matches('0').trim_end_matches('.').to_string();
    assert_eq!(totals(&r), (cost, calls, input, 0, output, 0));
    // The rows the slices hold: 300 of each trace.
    assert_eq!(calls, 300 + 300);
}

#[test]
fn langfuse_and_helicone_are_builtin_names() {
    let env = Env::new();
    let out = env.cmd().arg("formats").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in ["langfuse", "helicone", "input_tokens = \"ContextTokens\""] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    // Forced on a file detection would also get right, and on the CSV.
    let r = env.audit(&[
        &format!("{}/helicone-output.csv", fixture("mixed")),
        "--input-format",
        "helicone",
    ]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.000345");
}

// Agent session logs (Claude Code, Codex), at the catalog's rates (USD per
// million tokens):
// - anthropic/claude-sonnet-4-5: input 3, cached 0.30, 5m write 3.75,
//   1h write 6, output 15; claude-haiku-4-5: input 1, output 5;
//   claude-opus-4-1: input 15, output 75
// - openai/gpt-5 (`gpt-5-codex` resolves to it): input 1.25, cached 0.125,
//   output 10

fn skipped(r: &Value) -> &Value {
    &r["audit"]["input"]["skipped_by_reason"]
}

fn cost_of(r: &Value, dimension: &str, key: &str) -> String {
    usd(&row(r, dimension, key)["cost"])
}

#[test]
fn claude_code_sessions_count_each_message_once() {
    let r = audit("claude-code", "claude-code");
    // Kept, one per (message.id, requestId), the most complete copy:
    // - msg_01A1 (Sonnet 4.5, 10-01): 3 in + 12,000 read + 5,000 5m write,
    //   250 out (its first line said 12 out; a sidechain replay under
    //   req_011A9 and a resumed copy in the second file say it again):
    //   3 × 3 = $0.000009; 12,000 × 0.30 = $0.0036; 5,000 × 3.75 =
    //   $0.01875; 250 × 15 = $0.00375 → $0.026109.
    // - msg_01A2 (Sonnet, 10-01, also copied): 5 in + 17,000 read + 2,000 1h
    //   write, 400 out: $0.000015 + $0.0051 + 2,000 × 6 = $0.012 + $0.006
    //   → $0.023115.
    // - msg_01A3 (Haiku 4.5, a sidechain's own call, 10-01): 1,200 × 1 =
    //   $0.0012 + 300 × 5 = $0.0015 → $0.0027.
    // - the rate-limit API error (10-01): a failed call, no tokens, $0.
    // - msg_01B1 (Sonnet, 10-02, two streamed lines, 1 then 600 out): 8 in +
    //   20,000 read + 1,000 5m write: $0.000024 + $0.006 + $0.00375 + 600 ×
    //   15 = $0.009 → $0.018774.
    // - msg_01C1 (Opus 4.1, 10-02): 100 × 15 = $0.0015 + 50 × 75 =
    //   $0.00375 → $0.00525.
    // Total $0.075948. Input includes the cache once: 17,003 + 19,005 +
    // 1,200 + 21,008 + 100 = 58,316.
    assert_eq!(totals(&r), ("0.075948".into(), 6, 58316, 49000, 1600, 0));
    let t = &r["audit"]["totals"];
    assert_eq!(t["cache_write_tokens"], 8000);
    assert_eq!(t["failed_calls"], 1);
    // Projects are features (the cwd's last component).
    assert_eq!(cost_of(&r, "feature", "shop"), "0.070698");
    assert_eq!(cost_of(&r, "feature", "api"), "0.00525");
    // Sessions: the copies in the resumed session's file are not its calls.
    assert_eq!(
        cost_of(&r, "session", "3a6e1c52-7b1d-4f0e-9c8a-2d5b6e7f8a91"),
        "0.051924"
    );
    assert_eq!(
        cost_of(&r, "session", "9d04b2f1-5c3e-4a7b-8f61-0e2d3c4b5a69"),
        "0.018774"
    );
    let tag = |key: &str| {
        r["audit"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["key"] == key)
            .unwrap_or_else(|| panic!("no tag {key}"))
            .clone()
    };
    assert_eq!(usd(&tag("sidechain=true")["cost"]), "0.0027");
    assert_eq!(usd(&tag("project=/home/dev/api")["cost"]), "0.00525");
    // 19 lines: 6 calls; 5 copies (a streamed partial of A1 and of B1, the
    // sidechain replay, 2 resumed copies); 1 synthetic message; 7 lines that
    // are no call (6 user lines, one of them a resumed copy, and a summary).
    assert_eq!(r["audit"]["input"]["lines"], 19);
    assert_eq!(r["audit"]["input"]["rejected"], 0);
    assert_eq!(skipped(&r)["duplicate"], 5);
    assert_eq!(skipped(&r)["synthetic"], 1);
    assert_eq!(skipped(&r)["not_a_call"], 7);
    assert_eq!(r["audit"]["input"]["skipped"], 13);
    // `message.stop_reason` is the finish reason (hunt97: not read, so a
    // cut answer could not be told): every one of the 6 calls logs one.
    let finish = r["audit"]["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "finish_reason")
        .unwrap()
        .clone();
    assert_eq!(finish["present"], 6, "{finish}");
}

#[test]
fn claude_code_dedup_does_not_depend_on_threads_or_strict() {
    let env = Env::new();
    let dir = fixture("claude-code");
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = env
            .cmd()
            .args(["audit", &dir, "--format", "json", "--quiet", "--strict"])
            .args(["--threads", threads, "--out", &format!("t{threads}")])
            .output()
            .unwrap();
        // Skips (duplicates, synthetic and non-call lines) are not rejects.
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        outs.push(std::fs::read(env.path(&format!("t{threads}/audit.json"))).unwrap());
    }
    assert!(outs[0] == outs[1], "--threads 1 and 2 differ");
}

#[test]
fn codex_rollouts_read_token_counts_with_the_turn_model() {
    let r = audit("codex", "codex");
    // Session 1 (10-01, /home/dev/api):
    // - gpt-5-codex: 12,000 in (8,000 cached), 500 out (200 reasoning):
    //   4,000 × 1.25 = $0.005; 8,000 × 0.125 = $0.001; 500 × 10 = $0.005
    //   → $0.011. The same token_count again right after is a repeat.
    // - after the turn_context switches to gpt-5, last_token_usage 18,000
    //   in (12,000 cached), 800 out (400 reasoning): $0.0075 + $0.0015 +
    //   $0.008 → $0.017.
    // Session 2 (10-02, /home/dev/web), gpt-5-codex: 5,000 in (1,000
    // cached), 200 out: $0.005 + $0.000125 + $0.002 → $0.007125; then
    // 4,000 in (2,000 cached), 300 out (100 reasoning): $0.0025 + $0.00025
    // + $0.003 → $0.00575.
    // Cached inside input, reasoning inside output (no double count).
    assert_eq!(totals(&r), ("0.040875".into(), 4, 39000, 23000, 1800, 700));
    assert_eq!(cost_of(&r, "feature", "api"), "0.028");
    assert_eq!(cost_of(&r, "feature", "web"), "0.012875");
    assert_eq!(
        cost_of(&r, "session", "0199a6c7-d8e9-7f0a-9b1c-2d3e4f5a6b7c"),
        "0.012875"
    );
    // 18 lines: 4 calls, 1 repeated token_count, 13 lines that are no call
    // (session_meta, turn_context, response items, messages, and the two
    // token_counts with info null).
    assert_eq!(r["audit"]["input"]["lines"], 18);
    assert_eq!(skipped(&r)["duplicate"], 1);
    assert_eq!(skipped(&r)["not_a_call"], 13);
    assert_eq!(r["audit"]["input"]["rejected"], 0);
}

/// hunt152: Codex's Fast mode (`thread_settings_applied` with
/// `service_tier: "fast"`, priority processing) was priced at standard
/// rates. gpt-5.5: $5 in, $30 out per million, priority × 2.5.
#[test]
fn codex_fast_mode_is_priced_at_priority_rates() {
    let env = Env::new();
    let settings = |tier: serde_json::Value, at: &str| {
        serde_json::json!({"timestamp": at, "type": "event_msg", "payload": {
            "type": "thread_settings_applied",
            "thread_settings": {"model": "gpt-5.5", "service_tier": tier}}})
    };
    let count = |at: &str, total: u64| {
        let u = |i: u64| {
            serde_json::json!({"input_tokens": i, "cached_input_tokens": 0,
            "output_tokens": 0, "reasoning_output_tokens": 0, "total_tokens": i})
        };
        serde_json::json!({"timestamp": at, "type": "event_msg", "payload": {
            "type": "token_count", "info": {"total_token_usage": u(total), "last_token_usage": u(10_000)}}})
    };
    let lines = [
        serde_json::json!({"timestamp": "2026-12-01T09:00:00.000Z", "type": "session_meta",
            "payload": {"id": "019ad5c0-0000-7000-8000-0000000000f1", "cwd": "/home/dev/api"}}),
        settings("fast".into(), "2026-12-01T09:00:01.000Z"),
        count("2026-12-01T09:01:00.000Z", 10_000),
        settings(serde_json::Value::Null, "2026-12-01T09:02:00.000Z"),
        count("2026-12-01T09:03:00.000Z", 20_000),
    ];
    let text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
    env.write("rollout-2026-12-01T09-00-00-019ad5c0.jsonl", text);
    let r = env.audit(&["rollout-2026-12-01T09-00-00-019ad5c0.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["calls"], 2);
    // 10,000 × $5/M × 2.5 = $0.125 in Fast mode, then $0.05.
    assert_eq!(usd(&t["cost"]), "0.175");
}

/// hunt152: late 2026's Codex counts cache writes (`cache_write_input_tokens`,
/// inside `input_tokens` as the cached tokens are): they were priced as
/// plain input. gpt-5.6-sol: input $5, cache writes $6.25, cached reads
/// $0.50, output $30 per million.
#[test]
fn codex_cache_writes_are_priced_at_the_write_rate() {
    let env = Env::new();
    let usage = |i: u64, c: u64, w: u64, o: u64| {
        serde_json::json!({"input_tokens": i, "cached_input_tokens": c,
            "cache_write_input_tokens": w, "output_tokens": o,
            "reasoning_output_tokens": 0, "total_tokens": i + o})
    };
    let mut total = [0u64; 4];
    let mut lines = vec![
        serde_json::json!({"timestamp": "2026-12-01T09:00:00.000Z", "type": "session_meta",
            "payload": {"id": "019ad5c0-0000-7000-8000-0000000000b1", "cwd": "/home/dev/api"}}),
        serde_json::json!({"timestamp": "2026-12-01T09:00:01.000Z", "type": "turn_context",
            "payload": {"cwd": "/home/dev/api", "model": "gpt-5.6-sol"}}),
    ];
    for (k, [i, c, w, o]) in [[20_000u64, 0, 18_000, 1_000], [24_000, 18_000, 5_000, 800]]
        .into_iter()
        .enumerate()
    {
        for (t, n) in total.iter_mut().zip([i, c, w, o]) {
            *t += n;
        }
        lines.push(
            serde_json::json!({"timestamp": format!("2026-12-01T09:0{}:00.000Z", k + 1),
            "type": "event_msg", "payload": {"type": "token_count", "info": {
                "total_token_usage": usage(total[0], total[1], total[2], total[3]),
                "last_token_usage": usage(i, c, w, o)}}}),
        );
    }
    let text: String = lines.iter().map(|l| l.to_string() + "\n").collect();
    env.write("rollout-2026-12-01T09-00-00-019ad5c0.jsonl", text);
    let r = env.audit(&["rollout-2026-12-01T09-00-00-019ad5c0.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["calls"], 2);
    assert_eq!(t["cache_write_tokens"], 23_000);
    // 2,000 × 5 + 18,000 × 6.25 + 1,000 × 30 = $0.1525; 1,000 × 5 + 18,000
    // × 0.5 + 5,000 × 6.25 + 800 × 30 = $0.06925.
    assert_eq!(usd(&t["cost"]), "0.22175");
}

#[test]
fn agent_formats_can_be_forced_by_name() {
    let env = Env::new();
    let r = env.audit(&[&fixture("codex"), "--input-format", "codex"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.040875");
    let r = env.audit(&[&fixture("claude-code"), "--input-format", "claude-code"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.075948");
}

/// Per-day tokens of `ccusage` (npm, 20.0.24) on the same logs: input
/// (uncached), output, cache writes, cache reads.
fn ccusage_daily(args: &[&str], env_var: &str, dir: &str) -> Vec<(String, [u64; 4])> {
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("ccusage")
        .args(args)
        .args(["daily", "--json", "--offline", "-z", "UTC"])
        .env(env_var, dir)
        .env("HOME", home.path())
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| missing_tool("ccusage", e, "npm i -g ccusage@20.0.24"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let n = |d: &Value, k: &str| d[k].as_u64().unwrap_or_else(|| panic!("no {k} in {d}"));
    v["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().to_string(),
                [
                    n(d, "inputTokens"),
                    n(d, "outputTokens"),
                    n(d, "cacheCreationTokens"),
                    n(d, "cacheReadTokens"),
                ],
            )
        })
        .collect()
}

/// The same from tokenaudit's daily table (its input includes the cache).
fn tokenaudit_daily(r: &Value) -> Vec<(String, [u64; 4])> {
    r["audit"]["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let n = |k: &str| d[k].as_u64().unwrap();
            let (input, read, write) = (
                n("input_tokens"),
                n("cached_read_tokens"),
                n("cache_write_tokens"),
            );
            (
                d["day"].as_str().unwrap().to_string(),
                [input - read - write, n("output_tokens"), write, read],
            )
        })
        .collect()
}

/// Per-day tokens (uncached input, output, cache writes, cache reads) of
/// the agent-log fixtures, computed by hand from their lines.
fn per_day_by_hand(format: &str) -> Vec<(String, [u64; 4])> {
    let days: &[(&str, [u64; 4])] = match format {
        "codex" => &[
            ("2025-10-01", [10000, 1300, 0, 20000]),
            ("2025-10-02", [6000, 500, 0, 3000]),
        ],
        _ => &[
            ("2025-10-01", [1208, 950, 7000, 29000]),
            ("2025-10-02", [108, 650, 1000, 20000]),
        ],
    };
    days.iter().map(|(d, t)| (d.to_string(), *t)).collect()
}

#[test]
fn per_day_tokens_are_the_hand_computed_ones() {
    for format in ["claude-code", "codex"] {
        let ours = tokenaudit_daily(&audit(format, format));
        assert_eq!(ours, per_day_by_hand(format), "{format}");
    }
}

/// ccusage reads the same logs to the same figures, so a mistake shared by
/// the hand computation and tokenaudit would show here.
#[test]
fn per_day_tokens_match_ccusage() {
    for (format, sub, var) in [
        ("claude-code", "claude", "CLAUDE_CONFIG_DIR"),
        ("codex", "codex", "CODEX_HOME"),
    ] {
        let theirs = ccusage_daily(&[sub], var, &fixture(format));
        assert_eq!(
            theirs,
            per_day_by_hand(format),
            "{format}: ccusage vs by hand"
        );
        let ours = tokenaudit_daily(&audit(format, format));
        assert_eq!(ours, theirs, "{format}: tokenaudit vs ccusage per day");
    }
}

/// `audit --help` names every built-in format `--input-format` accepts.
#[test]
fn input_format_help_names_every_builtin_format() {
    let env = Env::new();
    let out = env.cmd().args(["audit", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let at = help.find("--input-format").expect("the flag is documented");
    let text: String = help[at..]
        .lines()
        .take_while(|l| !l.trim_start().starts_with("--") || l.contains("--input-format"))
        .collect::<Vec<_>>()
        .join(" ");
    for b in tokenaudit_ingest::formats::REGISTRY {
        assert!(text.contains(b.name), "{} missing from: {text}", b.name);
    }
}

/// OpenAI's `service_tier`: flex calls at the flex rates, priority calls at
/// the priority rates, a tier the catalog has no price for at standard
/// rates (counted and said), the same from the store, in what-if and in
/// FOCUS.
#[test]
fn flex_and_priority_calls_are_priced_at_their_service_tier() {
    let env = Env::new();
    let response = |id: &str, model: &str, tier: &str, input: u64, cached: u64, output: u64| {
        format!(
            r#"{{"id":"{id}","object":"response","created_at":1790852400,"status":"completed","model":"{model}","service_tier":"{tier}","usage":{{"input_tokens":{input},"input_tokens_details":{{"cached_tokens":{cached}}},"output_tokens":{output},"output_tokens_details":{{"reasoning_tokens":0}},"total_tokens":{}}}}}"#,
            input + output
        ) + "\n"
    };
    let logs = [
        // gpt-5 ($1.25 in, $0.125 cached, $10 out): 6,000 × 1.25 +
        // 4,000 × 0.125 + 1,000 × 10 = $0.018 at standard rates.
        response("r1", "gpt-5", "default", 10_000, 4_000, 1_000),
        // Flex: every rate × 0.5 = $0.009.
        response("r2", "gpt-5", "flex", 10_000, 4_000, 1_000),
        // Priority: every rate × 2 = $0.036.
        response("r3", "gpt-5", "priority", 10_000, 4_000, 1_000),
        // gpt-4o ($2.50 in, $10 out) has no priority price in the
        // catalog (its sources disagree): standard, 1,000 × 2.5 + 100 ×
        // 10 = $0.0035, and said.
        response("r4", "gpt-4o-2024-08-06", "priority", 1_000, 0, 100),
    ]
    .concat();
    env.write("logs/responses.jsonl", &logs);
    let out = env
        .cmd()
        .args(["audit", "logs", "--out", "out", "--format", "json,md,focus"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 flex, priority, fast or ultrafast call was priced at standard rates"),
        "{stderr}"
    );
    let r = env.report();
    // 0.018 + 0.009 + 0.036 + 0.0035 = 0.0665
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0665");
    assert_eq!(usd(&row(&r, "model", "gpt-5")["cost"]), "0.063");
    assert_eq!(r["audit"]["tier_calls_at_standard_price"], 1);
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("1 flex, priority, fast or ultrafast call was priced at standard rates"),
        "{md}"
    );
    // FOCUS names the tier's price point and sums to the same cost.
    let focus = std::fs::read_to_string(env.path("out/focus.csv")).unwrap();
    assert!(focus.contains("openai/gpt-5:input:flex"), "{focus}");
    assert!(focus.contains("openai/gpt-5:output:priority"), "{focus}");
    // List cost undoes flex's discount but keeps priority's premium (the
    // call's list price): input 6,000 × 1.25 = $0.0075 at list, $0.00375
    // at flex rates, $0.015 at priority rates.
    let mut lines = focus.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (sku, list, effective) = (col("SkuPriceId"), col("ListCost"), col("EffectiveCost"));
    let costs = |price_id: &str| -> (String, String) {
        let row: Vec<&str> = lines
            .clone()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|r| r[sku] == price_id)
            .unwrap_or_else(|| panic!("no {price_id} row: {focus}"));
        (row[list].to_string(), row[effective].to_string())
    };
    assert_eq!(
        costs("openai/gpt-5:input:flex"),
        ("0.0075".into(), "0.00375".into())
    );
    assert_eq!(
        costs("openai/gpt-5:input:priority"),
        ("0.015".into(), "0.015".into())
    );
    // The store keeps the tier: its audit is the raw one.
    let said = env.ok(&["ingest", "logs", "--store", "store"]);
    assert!(said.contains("Commit 1"), "{said}");
    env.ok(&[
        "audit", "--store", "store", "--out", "stored", "--format", "json", "--quiet",
    ]);
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("stored/audit.json")).unwrap())
            .unwrap();
    assert_eq!(stored["audit"], r["audit"]);
    // What-if batch: every call at batch rates (× 0.5 for both models),
    // the flex and priority ones included: 3 × 0.009 + 0.00175 = 0.02875.
    let said = env.ok(&["whatif", "logs", "--batch", "(none)"]);
    assert!(said.contains("$0.0665        $0.0288"), "{said}");
}

/// A line with token counts of its own beside its usage object (a
/// gateway's estimate next to the provider's usage) is priced from the
/// usage object, and a line's usage object beats one in a logged
/// `response`, whichever comes first in the line.
#[test]
fn the_usage_object_beats_the_lines_own_counts_in_any_key_order() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        concat!(
            r#"{"timestamp":"2025-03-01T00:00:03Z","model":"gpt-4o","prompt_tokens":7,"completion_tokens":7,"usage":{"prompt_tokens":1000000,"completion_tokens":100000}}"#,
            "\n",
            r#"{"timestamp":"2025-03-01T00:00:04Z","model":"gpt-4o","usage":{"prompt_tokens":1000000,"completion_tokens":100000},"prompt_tokens":7,"completion_tokens":7}"#,
            "\n",
            r#"{"timestamp":"2025-03-01T00:00:05Z","model":"gpt-4o","prompt_tokens":1000000,"completion_tokens":100000,"usage":{"prompt_tokens":null}}"#,
            "\n",
            // Another convention in the object: none of the line's counts.
            r#"{"timestamp":"2025-03-01T00:00:06Z","model":"gemini-2.0-flash","completion_tokens":1000000,"usageMetadata":{"promptTokenCount":100,"candidatesTokenCount":100}}"#,
            "\n",
            r#"{"timestamp":"2025-03-01T00:00:07Z","model":"gpt-4o","usage":{"input_tokens":100,"output_tokens":100},"prompt_tokens":1000000,"completion_tokens":1000000}"#,
            "\n",
            // An object with only a total: the line's counts stand.
            r#"{"timestamp":"2025-03-01T00:00:08Z","model":"gpt-4o","prompt_tokens":100,"completion_tokens":100,"usage":{"total_tokens":200}}"#,
            "\n",
            // The line's usage object beats a logged response's, either way.
            r#"{"timestamp":"2025-03-01T00:00:09Z","model":"gpt-4o","usage":{"prompt_tokens":100,"completion_tokens":100},"response":{"usage":{"prompt_tokens":1000000,"completion_tokens":1000000}}}"#,
            "\n",
            r#"{"timestamp":"2025-03-01T00:00:10Z","model":"gpt-4o","response":{"usage":{"prompt_tokens":1000000,"completion_tokens":1000000}},"usage":{"prompt_tokens":100,"completion_tokens":100}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["calls.jsonl"]);
    // gpt-4o ($2.50 in, $10 out): 1,000,000 in and 100,000 out are $2.50 +
    // $1 = $3.50 a call; the third line's usage object has no count, so its
    // own keys stand. Before, the first line cost $0.0000875. Then 100 in
    // and 100 out: gemini-2.0-flash ($0.10, $0.40) $0.00005 (it was $0.40),
    // gpt-4o $0.00125 twice (it was $12.50 for the first), and twice
    // more from the line's usage beside a response's (one was $12.50).
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "10.50505");
    assert_eq!(r["audit"]["totals"]["input_tokens"], 3_000_500);
    assert_eq!(r["audit"]["totals"]["output_tokens"], 300_500);
}

/// The same precedence in Parquet, whatever the columns' order: a
/// top-level `prompt_tokens` column before or after the `usage` struct.
#[test]
fn the_usage_struct_beats_the_rows_own_count_columns_in_any_order() {
    use arrow_array::{ArrayRef, Int64Array, StringArray, StructArray};
    use std::sync::Arc;
    let env = Env::new();
    let ints = |v: i64| Arc::new(Int64Array::from(vec![v])) as ArrayRef;
    let usage = || -> ArrayRef {
        Arc::new(
            StructArray::try_from(vec![
                ("prompt_tokens", ints(1_000_000)),
                ("completion_tokens", ints(100_000)),
            ])
            .unwrap(),
        )
    };
    let model = || Arc::new(StringArray::from(vec!["gpt-4o"])) as ArrayRef;
    let time = || Arc::new(StringArray::from(vec!["2025-03-01T00:00:03Z"])) as ArrayRef;
    crate::inputs::write_parquet(
        &env.path("before.parquet"),
        vec![
            ("timestamp", time()),
            ("model", model()),
            ("prompt_tokens", ints(7)),
            ("completion_tokens", ints(7)),
            ("usage", usage()),
        ],
    );
    crate::inputs::write_parquet(
        &env.path("after.parquet"),
        vec![
            ("timestamp", time()),
            ("model", model()),
            ("usage", usage()),
            ("prompt_tokens", ints(7)),
            ("completion_tokens", ints(7)),
        ],
    );
    for file in ["before.parquet", "after.parquet"] {
        let r = env.audit(&[file]);
        // gpt-4o: 1,000,000 in at $2.50 and 100,000 out at $10: $3.50.
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "3.50", "{file}");
        assert_eq!(r["audit"]["totals"]["input_tokens"], 1_000_000, "{file}");
    }
}

/// A `usage` struct's labels in Parquet: `inference_geo` and `speed` are
/// read as in JSON (the Parquet reader took only `service_tier`: a US-only
/// fast call on claude-opus-5 was priced at the global standard $0.03 for
/// $0.066).
#[test]
fn a_parquet_usage_structs_labels_are_read() {
    use arrow_array::{ArrayRef, Int64Array, StringArray, StructArray};
    use std::sync::Arc;
    let env = Env::new();
    let ints = |v: i64| Arc::new(Int64Array::from(vec![v])) as ArrayRef;
    let text = |v: &str| Arc::new(StringArray::from(vec![v.to_string()])) as ArrayRef;
    let usage: ArrayRef = Arc::new(
        StructArray::try_from(vec![
            ("input_tokens", ints(1000)),
            ("output_tokens", ints(1000)),
            ("speed", text("fast")),
            ("inference_geo", text("us")),
        ])
        .unwrap(),
    );
    crate::inputs::write_parquet(
        &env.path("calls.parquet"),
        vec![
            ("timestamp", text("2026-10-01T10:00:00Z")),
            ("model", text("claude-opus-5")),
            ("usage", usage),
        ],
    );
    let r = env.audit(&["calls.parquet"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.066");
    assert_eq!(r["audit"]["us_only_calls"], 1);
}

/// OpenRouter's BYOK calls (hunt125): the logged cost is OpenRouter's fee
/// (`cost`, 5%) plus the provider's charge (`upstream_inference_cost`),
/// in every container: a response's usage in JSON lines and as a Parquet
/// struct, a generation record in its envelope, and its `data` object
/// alone as a CSV row. gpt-4o ($2.50 in, $10 out): 1,000 × 2.5 + 100 × 10
/// = $0.0035 computed; logged $0.000175 + $0.0035 = $0.003675, a
/// difference of +$0.000175 (the fee), not −95%.
#[test]
fn an_openrouter_byok_call_is_logged_at_its_fee_and_its_providers_charge() {
    use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, StructArray};
    use std::sync::Arc;
    let env = Env::new();
    env.write(
        "response.jsonl",
        r#"{"id":"gen-1","provider":"OpenAI","model":"openai/gpt-4o","object":"chat.completion","created":1772445600,"usage":{"prompt_tokens":1000,"completion_tokens":100,"total_tokens":1100,"cost":0.000175,"is_byok":true,"cost_details":{"upstream_inference_cost":0.0035,"upstream_inference_prompt_cost":0.0025,"upstream_inference_completions_cost":0.001}}}"#.to_string() + "\n",
    );
    env.write(
        "generations.jsonl",
        r#"{"data":{"id":"gen-2","total_cost":0.000175,"upstream_inference_cost":0.0035,"is_byok":true,"created_at":"2026-10-01T10:00:00Z","model":"openai/gpt-4o","provider_name":"OpenAI","tokens_prompt":990,"tokens_completion":99,"native_tokens_prompt":1000,"native_tokens_completion":100,"native_tokens_cached":0,"native_tokens_reasoning":0,"latency":400}}"#.to_string() + "\n",
    );
    env.write(
        "generations.csv",
        "id,total_cost,upstream_inference_cost,is_byok,created_at,model,native_tokens_prompt,native_tokens_completion\n\
         gen-3,0.000175,0.0035,true,2026-10-01T10:00:00Z,openai/gpt-4o,1000,100\n",
    );
    let ints = |v: i64| Arc::new(Int64Array::from(vec![v])) as ArrayRef;
    let money = |v: f64| Arc::new(Float64Array::from(vec![v])) as ArrayRef;
    let text = |v: &str| Arc::new(StringArray::from(vec![v.to_string()])) as ArrayRef;
    let details: ArrayRef =
        Arc::new(StructArray::try_from(vec![("upstream_inference_cost", money(0.0035))]).unwrap());
    let usage: ArrayRef = Arc::new(
        StructArray::try_from(vec![
            ("prompt_tokens", ints(1000)),
            ("completion_tokens", ints(100)),
            ("cost", money(0.000175)),
            (
                "is_byok",
                Arc::new(BooleanArray::from(vec![true])) as ArrayRef,
            ),
            ("cost_details", details),
        ])
        .unwrap(),
    );
    crate::inputs::write_parquet(
        &env.path("responses.parquet"),
        vec![
            ("id", text("gen-4")),
            ("created", ints(1772445600)),
            ("model", text("openai/gpt-4o")),
            ("usage", usage),
        ],
    );
    for file in [
        "response.jsonl",
        "generations.jsonl",
        "generations.csv",
        "responses.parquet",
    ] {
        let r = env.audit(&[file, "--strict"]);
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0035", "{file}");
        let row = &r["audit"]["reconciliation"][0];
        assert_eq!(row["logged"], "0.003675", "{file}");
        assert_eq!(row["difference"], "0.000175", "{file}");
    }
}

/// Cache counts under other names (hunt131): Bifrost's log entries
/// (`token_usage.prompt_tokens_details.cached_read_tokens` and
/// `cached_write_tokens`, inside `prompt_tokens`) and xAI's SDK's usage
/// (`cached_prompt_text_tokens`, snake or camel case, inside
/// `prompt_tokens`; reasoning beside `completion_tokens`). They were fresh
/// input: $0.0405 for Bifrost's call, $0.0285 for xAI's.
#[test]
fn bifrost_and_xai_sdk_cache_counts_are_read() {
    let env = Env::new();
    // claude-sonnet-4-5 ($3 in, $0.30 read, $3.75 5m write, $15 out):
    // 1,000 × 3 + 8,000 × 0.3 + 1,000 × 3.75 + 500 × 15 = $0.01665.
    env.write(
        "bifrost.jsonl",
        r#"{"id":"req-1","provider":"anthropic","model":"claude-sonnet-4-5-20250929","object":"chat.completion","status":"success","timestamp":"2026-10-01T10:00:00Z","latency":1234.5,"cost":0.01665,"token_usage":{"prompt_tokens":10000,"prompt_tokens_details":{"text_tokens":10000,"cached_read_tokens":8000,"cached_write_tokens":1000},"completion_tokens":500,"completion_tokens_details":{"reasoning_tokens":0},"total_tokens":10500,"cost":{"total_cost":0.01665}}}"#.to_string() + "\n",
    );
    // grok-4 ($3 in, $0.75 cached, $15 out): 500 × 3 + 1,500 × 0.75 +
    // (300 + 1,200) × 15 = $0.025125.
    env.write(
        "xai.jsonl",
        concat!(
            r#"{"timestamp":"2026-10-01T10:00:00Z","model":"grok-4","response_id":"r1","usage":{"completion_tokens":300,"reasoning_tokens":1200,"prompt_tokens":2000,"total_tokens":3500,"prompt_text_tokens":2000,"cached_prompt_text_tokens":1500,"prompt_image_tokens":0}}"#,
            "\n",
            r#"{"timestamp":"2026-10-01T10:01:00Z","model":"grok-4","response_id":"r2","usage":{"completionTokens":300,"reasoningTokens":1200,"promptTokens":2000,"totalTokens":3500,"promptTextTokens":2000,"cachedPromptTextTokens":1500}}"#,
            "\n",
        ),
    );
    // The same names beside an `input_tokens` that leaves the cache out
    // (an agent daemon's, hunt134: one call rejected, the other's input
    // cut twice). claude-sonnet-4-5: 100 × 3 + 20,000 × 0.3 + 1,000 × 3.75
    // + 400 × 15 = $0.01605, and 1,000 × 3 + 200 × 0.3 + 100 × 3.75 + 40 ×
    // 15 = $0.004035.
    env.write(
        "agent.jsonl",
        concat!(
            r#"{"timestamp":"2026-10-01T10:00:00Z","request_id":"t1","model":"claude-sonnet-4-5","usage":{"input_tokens":100,"cached_read_tokens":20000,"cached_write_tokens":1000,"output_tokens":400,"total_tokens":21500}}"#,
            "\n",
            r#"{"timestamp":"2026-10-01T10:01:00Z","request_id":"t2","model":"claude-sonnet-4-5","usage":{"input_tokens":1000,"cached_read_tokens":200,"cached_write_tokens":100,"output_tokens":40,"total_tokens":1340}}"#,
            "\n",
        ),
    );
    // Bifrost's Responses API logs (`input_tokens_details`, inside the
    // input) and its counts spread into a CSV's columns (hunt135: rejected,
    // or the reads billed as input). claude-sonnet-4 ($3, $0.30, $3.75,
    // $15): 100 × 3 + 700 × 0.3 + 200 × 3.75 + 100 × 15 = $0.00276;
    // gpt-4.1 ($2, $0.50, $8): 200 × 2 + 800 × 0.5 + 100 × 8 = $0.0016.
    env.write(
        "responses.jsonl",
        r#"{"timestamp":"2025-10-01T10:00:00Z","request_id":"r1","model":"claude-sonnet-4","usage":{"input_tokens":1000,"input_tokens_details":{"cached_read_tokens":700,"cached_write_tokens":200},"output_tokens":100,"total_tokens":1100}}"#.to_string() + "\n",
    );
    env.write(
        "bifrost.csv",
        "timestamp,model,prompt_tokens,cached_read_tokens,completion_tokens\n2025-10-01T10:00:00Z,gpt-4.1,1000,800,100\n",
    );
    for (file, calls, cost, cached) in [
        ("bifrost.jsonl", 1, "0.01665", 8000),
        ("xai.jsonl", 2, "0.05025", 3000),
        ("agent.jsonl", 2, "0.020085", 20200),
        ("responses.jsonl", 1, "0.00276", 700),
        ("bifrost.csv", 1, "0.0016", 800),
    ] {
        let r = env.audit(&[file, "--strict"]);
        assert_eq!(r["audit"]["totals"]["calls"], calls, "{file}");
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), cost, "{file}");
        assert_eq!(r["audit"]["totals"]["cached_read_tokens"], cached, "{file}");
    }
}

/// Models the shipped catalog takes from LiteLLM, genai-prices having no
/// entry of their own (hunt133, hunt132): Claude Opus 5.5 ($4 in, $0.20
/// read, $8 1h write, $20 out) was priced as Opus 5, Titan Text Embeddings
/// V2 ($0.02) as V1 ($0.10). Opus 5.5: 3 × 4 + 12,000 × 8 + 18,000 × 0.2 +
/// 480 × 20 = $0.109212; Titan V2: 1,000,000 × 0.02 = $0.02.
#[test]
fn models_genai_prices_lacks_are_priced_at_litellms_rates() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        concat!(
            r#"{"timestamp":"2026-11-20T10:00:00Z","model":"claude-opus-5-5","usage":{"input_tokens":3,"cache_creation_input_tokens":12000,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":12000},"cache_read_input_tokens":18000,"output_tokens":480}}"#,
            "\n",
            r#"{"timestamp":"2026-11-20T10:01:00Z","provider":"bedrock","model":"amazon.titan-embed-text-v2:0","usage":{"prompt_tokens":1000000,"total_tokens":1000000}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["calls.jsonl", "--strict"]);
    assert_eq!(
        usd(&row(&r, "model", "claude-opus-5-5")["cost"]),
        "0.109212"
    );
    assert_eq!(
        usd(&row(&r, "model", "amazon.titan-embed-text-v2:0")["cost"]),
        "0.02"
    );
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.129212");
}

/// Calls billed by another unit than tokens (DALL·E's images, Whisper's
/// minutes, TTS's characters) to models the catalog does not know, logged
/// with no token: unpriced and listed, not $0 (hunt132: three of five were
/// "priced" at $0.00, the two with a logged cost "not priced" and listed
/// nowhere, the cost per priced call over four calls). A failed call
/// without usage still costs nothing and is no unknown model's.
#[test]
fn successful_calls_without_tokens_to_unknown_models_are_unpriced_and_listed() {
    let env = Env::new();
    let line = |model: &str, status: u16, cost: &str| {
        format!(
            r#"{{"timestamp":"2026-10-01T10:00:00Z","provider":"openai","model":"{model}","status_code":{status},"usage":{{"prompt_tokens":0,"completion_tokens":0}}{cost}}}"#
        ) + "\n"
    };
    env.write(
        "calls.jsonl",
        [
            // gpt-4o-mini ($0.15 in, $0.60 out): 1,000 × 0.15 + 100 × 0.6
            // = $0.00021.
            r#"{"timestamp":"2026-10-01T10:00:00Z","model":"gpt-4o-mini","usage":{"prompt_tokens":1000,"completion_tokens":100}}"#.to_string() + "\n",
            line("dall-e-3", 200, ""),
            line("dall-e-3", 200, r#","cost":0.04"#),
            line("whisper-1", 200, ""),
            line("mystery-model", 500, ""),
            // OpenAI's moderation is free, with tokens or none (hunt135,
            // hunt136: listed as unpriced).
            line("omni-moderation-latest", 200, ""),
            r#"{"timestamp":"2026-10-01T10:00:00Z","model":"omni-moderation-latest","usage":{"prompt_tokens":500,"completion_tokens":0}}"#.to_string() + "\n",
            // Voyage AI's embeddings give their total alone: the input
            // (hunt132: rejected). voyage-3-large at $0.18: 1,000,000 ×
            // 0.18 = $0.18.
            r#"{"object":"list","data":[],"model":"voyage-3-large","usage":{"total_tokens":1000000}}"#.to_string() + "\n",
            // A total beside an output of 0 is the input (hunt137: $0):
            // gpt-4o-mini 1,000,000 × 0.15 = $0.15.
            r#"{"timestamp":"2026-10-01T10:00:00Z","model":"gpt-4o-mini","usage":{"total_tokens":1000000,"completion_tokens":0}}"#.to_string() + "\n",
        ]
        .concat(),
    );
    let r = env.audit(&["calls.jsonl"]);
    let a = &r["audit"];
    assert_eq!(a["totals"]["calls"], 9);
    assert_eq!(usd(&a["totals"]["cost"]), "0.33021");
    assert_eq!(a["totals"]["unpriced_calls"], 3);
    let unknown: Vec<&str> = a["unknown_models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["logged_model"].as_str().unwrap())
        .collect();
    assert_eq!(unknown, ["dall-e-3", "whisper-1"]);
}

/// Lines only a stream has, without usage, are no calls (hunt130: each a
/// rejected line, `--strict` failing on a complete log): Azure OpenAI's
/// content-filter chunks (`prompt_filter_results` and its annotations, with
/// `id`, `model` and `object` empty) and Bedrock ConverseStream's events
/// before its `metadata`. gpt-4o-mini ($0.15 in, $0.60 out): 1,000 × 0.15 +
/// 100 × 0.6 = $0.00021; Claude 3.5 Haiku on Bedrock ($0.80 in, $0.08
/// read, $1 write, $4 out): 4,000 × 0.8 + 3,000 × 0.08 + 2,000 × 1 + 500
/// × 4 = $0.00744. A whole Azure response keeps its `prompt_filter_results`
/// beside its usage, and is read as any response.
#[test]
fn content_filter_chunks_and_stream_events_are_no_calls() {
    let env = Env::new();
    env.write(
        "azure.jsonl",
        concat!(
            r#"{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}],"usage":null}"#,
            "\n",
            r#"{"choices":[{"index":0,"finish_reason":null,"delta":{"content":"w"},"content_filter_results":{}}],"created":1760006000,"id":"chatcmpl-AZ0","model":"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk","usage":null}"#,
            "\n",
            r#"{"choices":[],"created":1760006000,"id":"chatcmpl-AZ0","model":"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk","usage":{"prompt_tokens":1000,"completion_tokens":100,"total_tokens":1100}}"#,
            "\n",
            r#"{"id":"","object":"","created":0,"model":"","choices":[{"index":0,"finish_reason":null,"content_filter_results":{},"content_filter_offsets":{"check_offset":10,"start_offset":10,"end_offset":40}}],"usage":null}"#,
            "\n",
            r#"{"choices":[{"finish_reason":"stop","index":0,"message":{"content":"hi","role":"assistant"},"content_filter_results":{}}],"created":1760006001,"id":"chatcmpl-AZ1","model":"gpt-4o-mini-2024-07-18","object":"chat.completion","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}],"usage":{"completion_tokens":100,"prompt_tokens":1000,"total_tokens":1100}}"#,
            "\n",
        ),
    );
    let events = [
        r#"{"messageStart":{"role":"assistant"}}"#,
        r#"{"contentBlockStart":{"start":{},"contentBlockIndex":0}}"#,
        r#"{"contentBlockDelta":{"delta":{"text":"w"},"contentBlockIndex":0}}"#,
        r#"{"contentBlockStop":{"contentBlockIndex":0}}"#,
        r#"{"messageStop":{"stopReason":"end_turn"}}"#,
        r#"{"metadata":{"usage":{"inputTokens":4000,"outputTokens":500,"totalTokens":9500,"cacheReadInputTokens":3000,"cacheWriteInputTokens":2000},"metrics":{"latencyMs":2100}}}"#,
    ];
    let stream: String = events
        .iter()
        .map(|e| {
            format!(
                r#"{{"modelId":"us.anthropic.claude-3-5-haiku-20241022-v1:0","requestId":"req-1","timestamp":"2025-10-09T10:00:00Z",{}"#,
                &e[1..]
            ) + "\n"
        })
        .collect();
    env.write("converse.jsonl", stream);
    for (file, calls, cost, skipped) in [
        ("azure.jsonl", 2, "0.00042", 3),
        ("converse.jsonl", 1, "0.00744", 5),
    ] {
        let r = env.audit(&[file, "--strict"]);
        assert_eq!(r["audit"]["totals"]["calls"], calls, "{file}");
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), cost, "{file}");
        assert_eq!(
            r["audit"]["input"]["skipped_by_reason"]["not_a_call"], skipped,
            "{file}"
        );
    }
}

/// A stream's server-sent events saved as they came (hunt130: every line
/// a malformed one, the calls lost): each `data:` line's JSON is read,
/// `event:` lines, comments, blank lines and `data: [DONE]` are no lines,
/// and a broken event is cited at its own line. gpt-4.1 ($2 in, $0.50
/// cached, $8 out): 3,808 × 2 + 8,192 × 0.5 + 800 × 8 = $0.018112;
/// gemini-2.5-flash ($0.30 in, $2.50 out): 500 × 0.3 + 20 × 2.5 = $0.0002.
#[test]
fn server_sent_events_saved_as_they_came_are_read() {
    let env = Env::new();
    let chunk = |usage: &str| {
        format!(
            r#"data: {{"id":"chatcmpl-S1","object":"chat.completion.chunk","created":1760000000,"model":"gpt-4.1-2025-04-14","choices":[{{"index":0,"delta":{{"content":"w"}},"finish_reason":null}}],"usage":{usage}}}"#
        )
    };
    let usage = r#"{"prompt_tokens":12000,"completion_tokens":800,"total_tokens":12800,"prompt_tokens_details":{"cached_tokens":8192}}"#;
    env.write(
        "openai.sse",
        [
            ": keep-alive".to_string(),
            chunk("null"),
            String::new(),
            chunk("null"),
            String::new(),
            "data: {\"id\": broken".to_string(),
            String::new(),
            chunk(usage),
            String::new(),
            "data: [DONE]".to_string(),
            String::new(),
        ]
        .join("\r\n"),
    );
    env.write(
        "gemini.log",
        concat!(
            "event: message\n",
            r#"data: {"candidates":[{"content":{"parts":[{"text":"a"}],"role":"model"},"index":0}],"modelVersion":"gemini-2.5-flash","responseId":"rB","usageMetadata":{"promptTokenCount":500,"candidatesTokenCount":3,"totalTokenCount":503}}"#,
            "\n\n",
            r#"data: {"candidates":[{"content":{"parts":[{"text":"b"}],"role":"model"},"finishReason":"STOP","index":0}],"modelVersion":"gemini-2.5-flash","responseId":"rB","usageMetadata":{"promptTokenCount":500,"candidatesTokenCount":20,"totalTokenCount":520}}"#,
            "\n\n",
        ),
    );
    let r = env.audit(&["openai.sse"]);
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.018112");
    let rejected = &r["audit"]["input"]["rejected_samples"];
    assert_eq!(
        r["audit"]["input"]["rejected_by_reason"]["malformed_json"], 1,
        "{rejected}"
    );
    assert_eq!(rejected[0]["line"], 6, "{rejected}");
    let r = env.audit(&["gemini.log", "--strict"]);
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0002");
}

/// A total beside an output count is the input (less the output) only
/// when nothing else can be in it: xAI's total holds reasoning its
/// completion count leaves out (hunt138: grok-3-mini's input invented as
/// 1,200 where 1,000 and 200 of reasoning could be): its input is said
/// missing, as before.
#[test]
fn an_xai_total_is_not_taken_for_its_input() {
    let env = Env::new();
    env.write(
        "grok.jsonl",
        r#"{"timestamp":"2026-10-01T10:00:00Z","model":"grok-3-mini","usage":{"completion_tokens":100,"total_tokens":1300}}"#.to_string() + "\n",
    );
    let r = env.audit(&["grok.jsonl"]);
    assert_eq!(r["audit"]["totals"]["input_tokens"], 0);
    assert_eq!(r["audit"]["input"]["fields_ignored"], 1);
}

/// Vendors' spellings of the same counts: DeepSeek's cache hits,
/// OpenRouter's cache writes, xAI's reasoning beside `completion_tokens`.
#[test]
fn deepseek_openrouter_and_xai_usage_is_read_in_their_own_conventions() {
    let env = Env::new();
    let lines = [
        // DeepSeek Chat ($0.27 in, $0.07 cache hit, $1.10 out): only
        // prompt_cache_hit_tokens gives the hits. 400 × 0.27 + 600 × 0.07 +
        // 100 × 1.1 = $0.00026.
        r#"{"id":"ds-2","object":"chat.completion","created":1760000000,"model":"deepseek-chat","usage":{"prompt_tokens":1000,"completion_tokens":100,"total_tokens":1100,"prompt_cache_hit_tokens":600,"prompt_cache_miss_tokens":400},"feature":"ds"}"#,
        // OpenRouter, Claude Sonnet 4.5 ($3 in, $0.30 cached, $3.75
        // written, $15 out): prompt_tokens includes 6,000 cached and 2,000
        // written. 2,000 × 3 + 6,000 × 0.3 + 2,000 × 3.75 + 500 × 15 =
        // $0.0228.
        r#"{"id":"gen-1","provider":"Anthropic","model":"anthropic/claude-sonnet-4.5","object":"chat.completion","created":1760000000,"usage":{"prompt_tokens":10000,"completion_tokens":500,"total_tokens":10500,"cost":0.0228,"prompt_tokens_details":{"cached_tokens":6000,"cache_write_tokens":2000,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},"feature":"or"}"#,
        // xAI Grok 4 ($3 in, $0.75 cached, $15 out): total_tokens 7,000 =
        // 2,000 + 3,000 + 2,000 reasoning, so the output is 5,000. 1,000 ×
        // 3 + 1,000 × 0.75 + 5,000 × 15 = $0.07875.
        r#"{"id":"xai-2","object":"chat.completion","created":1760000000,"model":"grok-4-0709","usage":{"prompt_tokens":2000,"completion_tokens":3000,"total_tokens":7000,"prompt_tokens_details":{"cached_tokens":1000},"completion_tokens_details":{"reasoning_tokens":2000}},"feature":"xai"}"#,
        // Grok 3 Mini ($0.30 in, $0.50 out): 386 reasoning tokens beside 1
        // completion token cannot be inside it (no total logged). 12 × 0.3
        // + 387 × 0.5 = $0.0001971.
        r#"{"id":"xai-3","object":"chat.completion","created":1760000000,"model":"grok-3-mini","usage":{"prompt_tokens":12,"completion_tokens":1,"completion_tokens_details":{"reasoning_tokens":386}},"feature":"xai"}"#,
        // OpenAI's convention is unchanged: reasoning inside completion
        // (total = prompt + completion). gpt-4o-mini ($0.15 in, $0.60
        // out): 1,000 × 0.15 + 500 × 0.6 = $0.00045.
        r#"{"id":"oa-1","object":"chat.completion","created":1760000000,"model":"gpt-4o-mini","usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,"completion_tokens_details":{"reasoning_tokens":200}},"feature":"oa"}"#,
    ];
    env.write("logs/calls.jsonl", lines.join("\n") + "\n");
    let r = env.audit(&["logs"]);
    assert_eq!(r["audit"]["input"]["rejected"], 0);
    assert_eq!(usd(&row(&r, "feature", "ds")["cost"]), "0.00026");
    assert_eq!(row(&r, "feature", "ds")["cached_read_tokens"], 600);
    assert_eq!(usd(&row(&r, "feature", "or")["cost"]), "0.0228");
    assert_eq!(row(&r, "feature", "or")["cache_write_tokens"], 2000);
    // OpenRouter's usage.cost is the logged cost, reconciled.
    assert_eq!(
        r["audit"]["reconciliation"],
        serde_json::json!([{"model": "claude-sonnet-4-5", "calls": 1, "logged": "0.0228",
            "computed": "0.0228", "difference": "0.00", "calls_differing": 0,
            "difference_per_call": "0.00", "unpriced": false}])
    );
    assert_eq!(usd(&row(&r, "feature", "xai")["cost"]), "0.0789471");
    assert_eq!(row(&r, "feature", "xai")["output_tokens"], 5387);
    assert_eq!(usd(&row(&r, "feature", "oa")["cost"]), "0.00045");
    assert_eq!(row(&r, "feature", "oa")["output_tokens"], 500);
}

/// OpenTelemetry spans as OpenLLMetry and pydantic-ai name the cache
/// counts, and a workflow span that repeats its child's usage.
#[test]
fn otlp_vendor_cache_names_and_workflow_spans() {
    let r = audit("otlp-vendors", "otlp-json");
    // OpenLLMetry (`gen_ai.usage.cache_read_input_tokens`, `Anthropic` as
    // gen_ai.system) and pydantic-ai (`gen_ai.usage.details.*`), each
    // Claude Sonnet 4.5 with 10,000 input of which 6,000 cached and 2,000
    // written, 500 out: $0.0228 each (as above). The workflow span's usage
    // is its child chat span's, counted once: gpt-4o 1,000 × 2.5 + 100 ×
    // 10 = $0.0035. OpenInference (Phoenix) LLM spans: gpt-4o 4,000 in of
    // which 3,000 cached ($1.25), 100 out: 1,000 × 2.5 + 3,000 × 1.25 + 100
    // × 10 = $0.00725; Claude Sonnet 4.5 as above, $0.0228. An AGENT span
    // with the same counts is not a call. An EMBEDDING span naming its
    // model as embedding.model_name: text-embedding-3-small ($0.02), 1,000
    // × 0.02 = $0.00002.
    assert_eq!(totals(&r), ("0.07917".into(), 6, 36000, 21000, 1700, 0));
    assert_eq!(usd(&row(&r, "provider", "anthropic")["cost"]), "0.0684");
    let providers = r["audit"]["by"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dimension"] == "provider")
        .unwrap()["rows"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(providers, 2);
}

/// hunt114's three exports. Google ADK's `call_llm` span on gemini-2.5-flash
/// (its `gen_ai.usage.*` without Gemini's 1,800 thoughts and 8,000 cache
/// reads, all in `gcp.vertex.agent.llm_response`): 2,000 × $0.30/M + 8,000
/// × $0.03/M + (200 + 1,800) × $2.50/M = $0.00584 (was $0.0035). Pydantic
/// Logfire's streamed call (a request span without usage, then its
/// streaming log with `response_data`) and a plain one, gpt-4o-mini 1,000
/// in and 100 out each: 2 × $0.00021 (was 1 call and 2 rejects). Two ada
/// calls of 1M input, one `gen_ai.provider.name` `azure.ai.openai`, one
/// `azure`: Azure's $0.10 each (was OpenAI's $0.40, under `openai`).
#[test]
fn otlp_adk_logfire_and_azure_semconv_spans() {
    let r = audit("otlp-adk-logfire", "otlp-json");
    assert_eq!(
        totals(&r),
        ("0.20626".into(), 5, 2_012_000, 8_000, 2_200, 1_800)
    );
    assert_eq!(rejected(&r), &serde_json::json!({}));
    // The streamed call's request span is said to be no call of its own.
    assert_eq!(
        r["audit"]["input"]["skipped_by_reason"],
        serde_json::json!({"not_a_call": 1})
    );
    assert_eq!(usd(&row(&r, "provider", "azure")["cost"]), "0.20");
    assert_eq!(row(&r, "provider", "azure")["calls"], 2);
    assert_eq!(
        usd(&row(&r, "model", "gemini-2.5-flash")["cost"]),
        "0.00584"
    );
}

/// Pydantic Logfire's OpenAI Agents spans (`instrument_openai_agents()`):
/// the Responses API span's `gen_ai.usage.*` leave the cached reads out;
/// its `response` attribute (the Response as JSON) has them. Two gpt-4.1
/// calls ($2 in, $0.50 cached, $8 out): 5,000 in with 2,000 cached and 300
/// out, 5,600 in with 4,000 cached and 200 out: 0.0094 + 0.0068 = $0.0162
/// (hunt120: $0.0252, cached 0). The task and turn spans' summed `usage`
/// is no call.
#[test]
fn otlp_logfire_agents_cached_reads_are_read_from_the_response() {
    let r = audit("otlp-logfire-agents", "otlp-json");
    assert_eq!(totals(&r), ("0.0162".into(), 2, 10_600, 6_000, 500, 0));
}

/// Pydantic Logfire's Anthropic span of a call not streamed: its
/// `gen_ai.usage.input_tokens` is Anthropic's (the cache left out), its
/// `response_data` the response with the cache's reads and writes.
/// claude-sonnet-4-5: 1,000 × 3 + 8,000 × 0.3 + 1,000 × 3.75 + 500 × 15 =
/// $0.01665, Logfire's own `operation.cost` (hunt131: $0.0105, the cache
/// lost).
#[test]
fn otlp_logfire_anthropic_cache_is_read_from_the_response() {
    let r = audit("otlp-logfire-anthropic", "otlp-json");
    assert_eq!(totals(&r), ("0.01665".into(), 1, 10_000, 8_000, 500, 0));
}

/// The Vercel AI SDK's spans: its cached input in `ai.usage.*`, beside the
/// conventions' `gen_ai.usage.input_tokens` that include it; the outer
/// `ai.streamText` span (no `gen_ai.*`) is not a call.
#[test]
fn otlp_ai_sdk_cached_input_is_read() {
    let r = audit("otlp-ai-sdk", "otlp-json");
    // gpt-4.1 (the response's gpt-4.1-2025-04-14): 1,000,000 in of which
    // 800,000 cached: 200,000 × $2/M = $0.40 + 800,000 × $0.50/M = $0.40.
    // Before, all 1,000,000 at $2: $2.00.
    assert_eq!(totals(&r), ("0.80".into(), 1, 1_000_000, 800_000, 0, 0));
}

/// The Vercel AI SDK's attribution and embeddings: the call site
/// (`ai.telemetry.functionId`) is the feature, `ai.telemetry.metadata`'s
/// userId and sessionId the user and session; an `ai.embedMany.doEmbed`
/// span (no `gen_ai.*`, its count in `ai.usage.tokens`) is a call and its
/// `ai.embedMany` parent, which sums it, is not; `ai.usage.*` counts are
/// no tags; `openai.chat` and `openai.embedding` are one provider.
#[test]
fn otlp_ai_sdk_function_id_user_session_and_embeddings() {
    let r = audit("otlp-ai-sdk-embed", "otlp-json");
    // gpt-4o-mini (0.15 / 0.60): 1,000,000 × 0.15 + 100,000 × 0.60 =
    // $0.21; text-embedding-3-small (0.02): (1,000,000 + 500,000) × 0.02
    // = $0.03. The outer ai.generateText and ai.embedMany spans (1,000,000
    // and 1,500,000 tokens) are not counted again. Before, $0.21 over one
    // call, the feature `web-app` (the service), no user, no session.
    assert_eq!(totals(&r), ("0.24".into(), 3, 2_500_000, 0, 100_000, 0));
    assert_eq!(cost_of(&r, "model", "text-embedding-3-small"), "0.03");
    assert_eq!(cost_of(&r, "feature", "doc-qa"), "0.24");
    assert_eq!(cost_of(&r, "user", "u_42"), "0.24");
    assert_eq!(cost_of(&r, "session", "s_7"), "0.24");
    assert_eq!(cost_of(&r, "provider", "openai"), "0.24");
    let tags: Vec<&str> = r["audit"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert!(tags.contains(&"ai.telemetry.metadata.env=prod"), "{tags:?}");
    assert!(
        !tags.iter().any(|t| t.starts_with("ai.usage.")
            || t.starts_with("ai.telemetry.metadata.userId")
            || t.starts_with("ai.response.")),
        "{tags:?}"
    );
    // A doEmbed span without its count is a call without usage, rejected
    // (not a $0 call).
    let env = Env::new();
    env.write(
        "e.jsonl",
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"1","attributes":[{"key":"ai.operationId","value":{"stringValue":"ai.embed.doEmbed"}},{"key":"ai.model.id","value":{"stringValue":"text-embedding-3-small"}}]}]}]}]}"#,
    );
    let r = env.audit(&["e.jsonl"]);
    assert_eq!(
        r["audit"]["input"]["rejected_by_reason"]["missing_usage"],
        1
    );
}

/// Strands Agents' chat spans pass Bedrock Converse's counts: the input
/// without the cache, the cache in `gen_ai.usage.cache_read_input_tokens`
/// and `cache_write_input_tokens`, and a `gen_ai.usage.total_tokens` that
/// adds them; its `invoke_agent` spans sum the chats and are no calls.
#[test]
fn otlp_strands_cache_writes_and_exclusive_input() {
    let r = audit("otlp-strands", "otlp-json");
    // us.anthropic.claude-sonnet-4-5 (3.3 in, 0.33 read, 4.125 written,
    // 16.5 out), 300 out each: 6,000 in + 4,000 written = $0.04125; 800 +
    // 5,000 written = $0.028215; 200 + 5,000 read = $0.00726; 7,000 + 5,000
    // read = $0.0297; 1,500 + 2,000 read = $0.01056. $0.116985 in all;
    // before, $0.06336 (the writes unread, 5,000 of call 4's 7,000 priced
    // as reads).
    assert_eq!(totals(&r), ("0.116985".into(), 5, 36_500, 12_000, 1_500, 0));
    assert_eq!(r["audit"]["totals"]["cache_write_tokens"], 9000);
    // `gen_ai.system` is `strands-agents`, the framework: the provider is
    // the model's (Bedrock's), not a row named after the framework.
    assert_eq!(cost_of(&r, "provider", "aws"), "0.116985");
}

/// OpenLLMetry's Bedrock spans (`gen_ai.provider.name` `aws.bedrock`)
/// pass Bedrock's counts as they are: the input without the cache, and a
/// total of input and output only. Read as exclusive (before, 5,000 of the
/// 7,000 uncached tokens were priced as cache reads: $0.0032).
#[test]
fn otlp_bedrock_counts_leave_the_cache_out() {
    let r = audit("otlp-bedrock-openllmetry", "otlp-json");
    // Claude 3.5 Haiku on Bedrock (0.80 in, 0.08 read, 4 out): 7,000 ×
    // 0.80 + 5,000 × 0.08 + 300 × 4 = $0.0072.
    assert_eq!(totals(&r), ("0.0072".into(), 1, 12_000, 5_000, 300, 0));
}

/// An OTLP span named `name`, of the pairs as attributes (numbers as
/// `intValue`, the rest as `stringValue`), lasting two seconds.
fn otlp_span(id: &str, name: &str, pairs: &[(&str, Value)]) -> Value {
    use serde_json::json;
    let attributes: Vec<Value> = pairs
        .iter()
        .map(|(k, v)| match v {
            Value::Number(n) => json!({"key": k, "value": {"intValue": n.to_string()}}),
            v => json!({"key": k, "value": {"stringValue": v}}),
        })
        .collect();
    json!({"traceId": "5b8efff798038103d269b633813fc60c", "spanId": id, "name": name, "kind": 1,
        "startTimeUnixNano": "1790880363250000000", "endTimeUnixNano": "1790880365250000000",
        "attributes": attributes, "status": {}})
}

/// OpenInference's Bedrock spans (`llm.provider: aws`) count the cache in
/// `llm.token_count.prompt` (its Bedrock instrumentor adds Anthropic's
/// parts; its LiteLLM one passes OpenAI-style counts): read as inclusive,
/// not as Bedrock's own counts (hunt160: the cache added again, 3.3× and
/// 4.6×).
#[test]
fn openinference_bedrock_spans_hold_the_cache_in_the_prompt() {
    use serde_json::json;
    let env = Env::new();
    let span = |id: &str, attrs: &[(&str, Value)]| otlp_span(id, "InvokeModel", attrs);
    let model = (
        "llm.model_name",
        json!("anthropic.claude-sonnet-4-5-20250929-v1:0"),
    );
    let spans = [
        span(
            "0000000000000001",
            &[
                ("openinference.span.kind", json!("LLM")),
                ("llm.provider", json!("aws")),
                ("llm.system", json!("anthropic")),
                model.clone(),
                ("llm.token_count.prompt", json!(25_000)),
                ("llm.token_count.completion", json!(500)),
                ("llm.token_count.prompt_details.cache_read", json!(20_000)),
                ("llm.token_count.prompt_details.cache_write", json!(4_000)),
            ],
        ),
        // Its Converse spans pass Bedrock's counts: the prompt without the
        // cache, the total with it (hunt165: read as inclusive, −58%).
        span(
            "0000000000000003",
            &[
                ("openinference.span.kind", json!("LLM")),
                ("llm.provider", json!("aws")),
                model.clone(),
                ("llm.token_count.prompt", json!(30_000)),
                ("llm.token_count.completion", json!(500)),
                ("llm.token_count.total", json!(50_500)),
                ("llm.token_count.prompt_details.cache_read", json!(20_000)),
            ],
        ),
        span(
            "0000000000000002",
            &[
                ("openinference.span.kind", json!("LLM")),
                ("llm.provider", json!("aws")),
                model,
                ("llm.token_count.prompt", json!(21_000)),
                ("llm.token_count.completion", json!(500)),
                ("llm.token_count.total", json!(21_500)),
                ("llm.token_count.prompt_details.cache_read", json!(20_000)),
            ],
        ),
        // Its instrumentors log the id without its vendor
        // (`_get_llm_model_name_from_input`): still Bedrock's regional
        // entry, not LiteLLM's bare name at the global rate (hunt160: −9%).
        span(
            "0000000000000004",
            &[
                ("openinference.span.kind", json!("LLM")),
                ("llm.provider", json!("aws")),
                ("llm.system", json!("anthropic")),
                ("llm.model_name", json!("claude-sonnet-4-5-20250929-v1:0")),
                ("llm.token_count.prompt", json!(1_000)),
                ("llm.token_count.completion", json!(100)),
            ],
        ),
    ];
    let line = json!({"resourceSpans": [{"resource": {"attributes": []},
        "scopeSpans": [{"scope": {"name": "openinference.instrumentation.bedrock"}, "spans": spans}]}]});
    env.write("spans.jsonl", format!("{line}\n"));
    let r = env.audit(&["spans.jsonl", "--strict"]);
    // Regional Sonnet 4.5 on Bedrock (3.3 in, 0.33 read, 4.125 write, 16.5
    // out): 1,000 × 3.3 + 20,000 × 0.33 + 4,000 × 4.125 + 500 × 16.5 =
    // $0.03465; 30,000 × 3.3 + 20,000 × 0.33 + 500 × 16.5 = $0.11385;
    // 1,000 × 3.3 + 20,000 × 0.33 + 500 × 16.5 = $0.01815; 1,000 × 3.3 +
    // 100 × 16.5 = $0.00495.
    assert_eq!(totals(&r), ("0.1716".into(), 4, 97_000, 60_000, 1_600, 0));
}

/// Span keys of late-2026 producers (hunt175): Mastra's exporter's
/// `gen_ai.usage.cached_input_tokens` (unread: +62.5%), Langfuse's
/// `langfuse.session.id` and `langfuse.user.id` and Google ADK's
/// `gcp.vertex.agent.session_id` on the call's own span (every session and
/// user `(none)`), and ADK's request JSON, the user's text, which became a
/// tag when short.
#[test]
fn late_span_keys_give_the_cache_session_and_user_and_no_request_tag() {
    use serde_json::json;
    let env = Env::new();
    let span = |id: &str, attrs: &[(&str, Value)]| otlp_span(id, "chat", attrs);
    let spans = [
        span(
            "0000000000000001",
            &[
                ("gen_ai.operation.name", json!("chat")),
                ("gen_ai.request.model", json!("gpt-4o")),
                ("gen_ai.usage.input_tokens", json!(10_000)),
                ("gen_ai.usage.cached_input_tokens", json!(8_000)),
                ("gen_ai.usage.output_tokens", json!(100)),
                ("langfuse.session.id", json!("sess-A")),
                ("langfuse.user.id", json!("u-1")),
            ],
        ),
        span(
            "0000000000000002",
            &[
                ("gen_ai.request.model", json!("gemini-2.5-flash")),
                ("gen_ai.usage.input_tokens", json!(1_000)),
                ("gen_ai.usage.output_tokens", json!(100)),
                ("gcp.vertex.agent.session_id", json!("sess-B")),
                (
                    "gcp.vertex.agent.llm_request",
                    json!("{\"contents\": \"my secret question\"}"),
                ),
                ("gcp.vertex.agent.event_id", json!("e-123")),
            ],
        ),
    ];
    let line = json!({"resourceSpans": [{"resource": {"attributes": []},
        "scopeSpans": [{"spans": spans}]}]});
    env.write("spans.jsonl", format!("{line}\n"));
    let r = env.audit(&["spans.jsonl", "--strict"]);
    // gpt-4o: 2,000 × 2.50 + 8,000 × 1.25 + 100 × 10 = $0.016; Gemini 2.5
    // Flash: 1,000 × 0.30 + 100 × 2.50 = $0.00055.
    assert_eq!(totals(&r), ("0.01655".into(), 2, 11_000, 8_000, 200, 0));
    assert_eq!(cost_of(&r, "session", "sess-A"), "0.016");
    assert_eq!(cost_of(&r, "session", "sess-B"), "0.00055");
    assert_eq!(cost_of(&r, "user", "u-1"), "0.016");
    let tags = r["audit"]["tags"].to_string();
    assert!(
        !tags.contains("secret") && !tags.contains("gcp.vertex.agent"),
        "{tags}"
    );
}

/// OpenInference's `metadata` (the app's pairs as JSON text) gives tags,
/// its `feature` the feature and its `team` the team; a per-call uuid in
/// it is no tag (hunt176: the whole text one tag per call, the feature the
/// service's name).
#[test]
fn openinference_metadata_gives_the_feature_and_team() {
    use serde_json::json;
    let env = Env::new();
    let span = |id: &str, feature: &str, team: &str, input: u64| {
        let meta = json!({"feature": feature, "team": team, "request_uuid": format!("uuid-{id}")})
            .to_string();
        json!({"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": id, "name": "ChatCompletion", "kind": 1,
            "startTimeUnixNano": "1790880363250000000", "endTimeUnixNano": "1790880364250000000",
            "attributes": [
                {"key": "openinference.span.kind", "value": {"stringValue": "LLM"}},
                {"key": "llm.model_name", "value": {"stringValue": "gpt-4o"}},
                {"key": "llm.token_count.prompt", "value": {"intValue": input.to_string()}},
                {"key": "llm.token_count.completion", "value": {"intValue": "0"}},
                {"key": "metadata", "value": {"stringValue": meta}}],
            "status": {}})
    };
    let line = json!({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "my-app"}}]},
        "scopeSpans": [{"spans": [span("0000000000000001", "checkout", "payments", 3_000),
            span("0000000000000002", "search", "discovery", 4_000)]}]}]});
    env.write("spans.jsonl", format!("{line}\n"));
    let r = env.audit(&["spans.jsonl", "--strict"]);
    // gpt-4o: 3,000 × 2.50 = $0.0075; 4,000 × 2.50 = $0.01.
    assert_eq!(cost_of(&r, "feature", "checkout"), "0.0075");
    assert_eq!(cost_of(&r, "feature", "search"), "0.01");
    assert_eq!(cost_of(&r, "team", "payments"), "0.0075");
    assert_eq!(r["audit"]["tags_distinct"], 5, "{}", r["audit"]["tags"]);
}

/// Google ADK (1.34 on) logs each model call twice, on its `call_llm`
/// span and on the `generate_content` span inside it, both with the
/// answer's `gcp.vertex.agent.event_id`: one call (hunt175: every call
/// counted twice), whatever order the spans come in.
#[test]
fn adks_two_spans_of_a_call_are_one_call() {
    use serde_json::json;
    let env = Env::new();
    let mut spans = Vec::new();
    for (n, input, output) in [(1, 1_000, 500), (2, 2_000, 1_000)] {
        let event = format!("ev-{n}");
        spans.push(otlp_span(
            &format!("000000000000000{n}"),
            "call_llm",
            &[
                ("gen_ai.system", json!("gcp.vertex.agent")),
                ("gen_ai.request.model", json!("gemini-2.5-flash")),
                ("gcp.vertex.agent.event_id", json!(event)),
                ("gen_ai.usage.input_tokens", json!(input)),
                ("gen_ai.usage.output_tokens", json!(output)),
            ],
        ));
        let mut inner = otlp_span(
            &format!("00000000000000a{n}"),
            "generate_content gemini-2.5-flash",
            &[
                ("gen_ai.operation.name", json!("generate_content")),
                ("gen_ai.system", json!("gemini")),
                ("gen_ai.request.model", json!("gemini-2.5-flash")),
                ("gcp.vertex.agent.event_id", json!(event)),
                ("gen_ai.usage.input_tokens", json!(input)),
                ("gen_ai.usage.output_tokens", json!(output)),
            ],
        );
        // Inside its parent, and started in the next second (hunt179: a
        // key of the second kept both).
        inner["startTimeUnixNano"] = json!("1790880364010000000");
        spans.push(inner);
    }
    let export = |spans: &[serde_json::Value]| {
        json!({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": spans}]}]})
            .to_string()
            + "\n"
    };
    env.write("together.jsonl", export(&spans));
    env.write(
        "apart.jsonl",
        spans
            .iter()
            .rev()
            .map(|s| export(std::slice::from_ref(s)))
            .collect::<String>(),
    );
    for file in ["together.jsonl", "apart.jsonl"] {
        let r = env.audit(&[file, "--strict"]);
        // Gemini 2.5 Flash (0.30 in, 2.50 out): 1,000 × 0.30 + 500 × 2.50 +
        // 2,000 × 0.30 + 1,000 × 2.50 = $0.00465.
        assert_eq!(
            totals(&r),
            ("0.00465".into(), 2, 3_000, 0, 1_500, 0),
            "{file}"
        );
    }
}

/// A client's address and values of their own per call (ids, storage
/// keys, timings) are no tags (hunt176: LiteLLM's `requester_ip_address`
/// and `cold_storage_object_key`, Portkey's `request_id`: 179 of 184 tags,
/// the addresses in every tag table); OpenAI's `safety_identifier` is the
/// user.
#[test]
fn personal_and_per_call_values_are_no_tags() {
    let env = Env::new();
    let line = |i: u32| {
        serde_json::json!({"timestamp": format!("2026-10-01T10:00:{i:02}Z"), "model": "gpt-4o",
            "safety_identifier": "u-42",
            "metadata": {"env": "prod", "requester_ip_address": format!("10.0.0.{i}"),
                "request_id": format!("r-{i}"), "cold_storage_object_key": format!("k/{i}"),
                "litellm_overhead_time_ms": i, "trace_id": format!("t{i}"),
                "invocation_id": format!("inv-{i}"), "contact_phone": "+1-555-0100",
                "tenant_uuid": "7d3c1e2a"},
            "usage": {"prompt_tokens": 1000, "completion_tokens": 100}})
        .to_string()
            + "\n"
    };
    env.write("calls.jsonl", (1..=3).map(line).collect::<String>());
    let r = env.audit(&["calls.jsonl", "--strict"]);
    let tags: Vec<&str> = r["audit"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    // (A stable id a user may attribute by stays: hunt179.)
    assert_eq!(tags, ["env=prod", "tenant_uuid=7d3c1e2a"]);
    // 3 × (1,000 × 2.50 + 100 × 10) = $0.0105, the user's.
    assert_eq!(cost_of(&r, "user", "u-42"), "0.0105");
}

/// Cursor's usage events (its Admin API's `tokenUsage`: `inputTokens`
/// beside `cacheReadTokens` and `cacheWriteTokens`, the input without
/// them) are read in Anthropic's convention, not as the AI SDK 6's parts
/// of the input, which it keeps in `inputTokenDetails` (hunt166: −35%, and
/// the usual agent turn rejected as inconsistent).
#[test]
fn cursor_usage_events_count_the_cache_beside_the_input() {
    let env = Env::new();
    env.write(
        "cursor.jsonl",
        concat!(
            r#"{"timestamp":"1760921734850","model":"claude-4.5-sonnet","kind":"USAGE_EVENT_KIND_USAGE_BASED","isTokenBasedCall":true,"tokenUsage":{"inputTokens":50000,"outputTokens":1000,"cacheReadTokens":20000,"totalCents":17.1},"userEmail":"alice@acme.com"}"#,
            "\n",
            r#"{"timestamp":"1760921794850","model":"claude-4.5-sonnet","kind":"USAGE_EVENT_KIND_USAGE_BASED","isTokenBasedCall":true,"tokenUsage":{"inputTokens":1200,"outputTokens":800,"cacheWriteTokens":6000,"cacheReadTokens":100000,"totalCents":6.81},"userEmail":"alice@acme.com"}"#,
            "\n",
            // AI SDK 6's own usage: the cache inside the input.
            r#"{"model":"claude-sonnet-4-5","usage":{"inputTokens":30000,"inputTokenDetails":{"noCacheTokens":10000,"cacheReadTokens":20000},"outputTokens":100}}"#,
            "\n",
            // The same flattened, beside its `noCacheTokens`: inside the
            // input too (hunt169). (A total of input and output does not
            // say so: strands-agents' Anthropic usage adds one to an input
            // without the cache, hunt171.)
            r#"{"model":"claude-sonnet-4-5","usage":{"inputTokens":30000,"noCacheTokens":10000,"cacheReadTokens":20000,"outputTokens":100}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["cursor.jsonl", "--strict"]);
    // Sonnet 4.5 (3 in, 0.30 read, 3.75 write, 15 out): 50,000 × 3 +
    // 20,000 × 0.3 + 1,000 × 15 = $0.171; 1,200 × 3 + 6,000 × 3.75 +
    // 100,000 × 0.3 + 800 × 15 = $0.0681; 10,000 × 3 + 20,000 × 0.3 + 100
    // × 15 = $0.0375, twice.
    assert_eq!(totals(&r), ("0.3141".into(), 4, 237_200, 160_000, 2_000, 0));
}

/// OpenLLMetry (Traceloop) ties a trace to its user and chat with
/// association properties, and names the workflow: the user, the session
/// and the feature. Before, all three were `(none)` and not even tags.
#[test]
fn otlp_traceloop_association_properties_attribute_the_calls() {
    let r = audit("otlp-traceloop", "otlp-json");
    // 16 calls, two users, four chats (the costs were right before).
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0563094");
    assert_eq!(r["audit"]["totals"]["calls"], 16);
    assert_eq!(cost_of(&r, "feature", "answer_question"), "0.0563094");
    assert_eq!(cost_of(&r, "user", "user0"), "0.0350838");
    assert_eq!(cost_of(&r, "user", "user1"), "0.0212256");
    assert_eq!(cost_of(&r, "session", "chat0"), "0.02439945");
}

/// Spans in the draft convention before `gen_ai.*` (`llm.request.model`,
/// `llm.usage.prompt_tokens`, `llm.vendor`), as early OpenLLMetry wrote
/// them: calls (before, skipped as no GenAI span, and --strict passed).
#[test]
fn otlp_draft_llm_convention_is_read() {
    let r = audit("otlp-llm-draft", "otlp-json");
    // 5 × (1,000 × $0.15/M + 100 × $0.60/M) of gpt-4o-mini = $0.00105.
    assert_eq!(totals(&r), ("0.00105".into(), 5, 5000, 0, 500, 0));
}

/// Portkey's logs export: a request its cache answered (`cache_status`
/// `HIT` or `SEMANTIC HIT`, logged at cost 0) was not billed, and is
/// skipped as LiteLLM's cache hits are; `MISS` and `SEMANTIC MISS` went to
/// the provider. The user is the reserved `metadata._user`.
#[test]
fn portkey_cache_hits_are_not_billed_and_metadata_user_is_the_user() {
    let env = Env::new();
    let line = |model: &str, usage: &str, status: &str, user: &str| {
        format!(
            r#"{{"created_at":"2026-03-01T00:15:00.000Z","response":{{"body":{{"model":"{model}","usage":{usage}}}}},"ai_model":"{model}","cost":0,"cache_status":"{status}","metadata":{{"_user":"{user}","feature":"faq"}}}}"#
        ) + "\n"
    };
    let mini = r#"{"prompt_tokens":1000,"completion_tokens":100}"#;
    let sonnet = r#"{"input_tokens":2000,"output_tokens":100}"#;
    let text = line("gpt-4o-mini", mini, "MISS", "u0")
        + &line("claude-sonnet-4-5-20250929", sonnet, "SEMANTIC MISS", "u1")
        + &line(
            "gpt-4o-mini",
            r#"{"prompt_tokens":5000,"completion_tokens":500}"#,
            "HIT",
            "u0",
        )
        + &line("gpt-4o-mini", mini, "SEMANTIC HIT", "u0");
    env.write("portkey.jsonl", text);
    let r = env.audit(&["portkey.jsonl", "--strict"]);
    // gpt-4o-mini: 1,000 × $0.15/M + 100 × $0.60/M = $0.00021; Sonnet 4.5:
    // 2,000 × 3 + 100 × 15 = $0.0075. Before, the two cache hits were
    // billed too ($0.00813 more) and every user was (none).
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00771");
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(r["audit"]["input"]["skipped_by_reason"]["not_a_call"], 2);
    assert_eq!(cost_of(&r, "user", "u1"), "0.0075");
}

/// Grafana Tempo's trace download (`{"batches": [...]}`, pretty-printed)
/// holds OTLP resource spans: detected and read (before, an unknown shape,
/// and with --input-format otlp-json a $0 report that --strict passed).
/// A line of another format read as OTLP is rejected, not skipped.
#[test]
fn tempo_batches_are_otlp_and_other_lines_read_as_otlp_are_rejected() {
    let env = Env::new();
    let trace = format!("{}/trace.json", fixture("otlp-tempo"));
    let r = env.audit(&[&trace, "--strict"]);
    // gpt-4o-mini 1,200 in, 150 out: $0.00027; claude-sonnet-4-5 5,000 in
    // (1,000 of them written to the cache) and 400 out: 4,000 × 3 + 1,000
    // × 3.75 + 400 × 15 = $0.02175; gemini-2.5-flash 2,000 in (1,024 read)
    // and 300 out: 976 × 0.3 + 1,024 × 0.03 + 300 × 2.5 = $0.00107352. The
    // invoke_agent span's 8,200 / 850 sum them and are not counted.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.02309352");
    assert_eq!(r["audit"]["totals"]["calls"], 3);
    // Tempo's v2 answer holds the same export under `trace`.
    let v1: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    let v2 = serde_json::json!({"trace": {"resourceSpans": v1["batches"]}});
    env.write("v2.json", v2.to_string());
    let r = env.audit(&["v2.json", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.02309352");
    env.write(
        "gw.jsonl",
        r#"{"model":"claude-sonnet-4-5","usage":{"input_tokens":1000000,"output_tokens":0}}"#,
    );
    let out = env
        .cmd()
        .args([
            "audit",
            "gw.jsonl",
            "--input-format",
            "otlp-json",
            "--strict",
            "--out",
            "o",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gw.jsonl:1: unrecognized_format (not an OTLP JSON export"),
        "{err}"
    );
    // A collector's file exporter serving every pipeline writes metrics
    // and logs lines among the traces: OTLP lines without a model call,
    // skipped as before (not rejected: --strict passes).
    let span = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"1","attributes":[{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"1000"}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"100"}}]}]}]}]}"#;
    env.write(
        "collector.jsonl",
        format!(
            "{span}\n{}\n{}\n",
            r#"{"resourceMetrics":[{"scopeMetrics":[]}]}"#,
            r#"{"resourceLogs":[{"scopeLogs":[]}]}"#
        ),
    );
    let r = env.audit(&["collector.jsonl", "--strict"]);
    // 1,000 × $0.15/M + 100 × $0.60/M.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00021");
    assert_eq!(
        r["audit"]["input"]["skipped_by_reason"]["no_gen_ai_spans"],
        2
    );
    // The same file opened by its metrics line is still OTLP (before, it
    // was not detected and its spans were lost).
    env.write(
        "metrics-first.jsonl",
        format!(
            "{}\n{span}\n",
            r#"{"resourceMetrics":[{"scopeMetrics":[]}]}"#
        ),
    );
    let r = env.audit(&["metrics-first.jsonl", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00021");
}

/// A span export's status word under `status_code` (`"OK"`, `"ERROR"`,
/// as Phoenix and OTel-style rows write it) is the call's status, not an
/// HTTP code of the wrong type: the error is a failed call and nothing is
/// flagged (before, both calls were successful, each line was flagged
/// and --strict failed).
#[test]
fn a_status_word_under_status_code_is_the_status() {
    let env = Env::new();
    env.write(
        "x.jsonl",
        concat!(
            r#"{"model":"gpt-4o-mini","usage":{"prompt_tokens":1000,"completion_tokens":100},"status_code":"OK","timestamp":"2025-10-01T10:00:00Z"}"#,
            "\n",
            r#"{"model":"gpt-4o-mini","usage":{"prompt_tokens":1000,"completion_tokens":100},"status_code":"ERROR","timestamp":"2025-10-01T10:01:00Z"}"#,
            "\n",
            r#"{"model":"gpt-4o-mini","usage":{"prompt_tokens":1000,"completion_tokens":100},"status_code":"503","timestamp":"2025-10-01T10:02:00Z"}"#,
            "\n",
        ),
    );
    let r = env.audit(&["x.jsonl", "--strict"]);
    // Three calls of 1,000 in and 100 out at $0.15 / $0.60: $0.00063.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00063");
    assert_eq!(r["audit"]["totals"]["failed_calls"], 2);
    assert_eq!(r["audit"]["input"]["fields_ignored"], 0);
    // A `status` key says the outcome wherever it is on the line; a word
    // under `status_code` only when none does. OpenTelemetry's `UNSET` is
    // no error; any other word there (`DEADLINE_EXCEEDED`, `Internal
    // Server Error`) is one.
    let line = |code: &str, status: &str| {
        format!(
            r#"{{"model":"gpt-4o-mini","usage":{{"prompt_tokens":1000,"completion_tokens":100}},"status_code":"{code}"{status}}}"#
        ) + "\n"
    };
    env.write(
        "y.jsonl",
        line("UNSET", r#","status":"error""#)
            + &line("OK", r#","status":"failed""#)
            + &line("UNSET", "")
            + &line("STATUS_CODE_UNSET", "")
            + &line("DEADLINE_EXCEEDED", "")
            + &line("Internal Server Error", "")
            // UNSET says nothing: the error type says the outcome.
            + &line("UNSET", r#","error_type":"overloaded""#)
            // An empty value's spelling, Python's enum: no error.
            + &line("NULL", "")
            + &line("StatusCode.OK", ""),
    );
    let r = env.audit(&["y.jsonl", "--strict"]);
    assert_eq!(r["audit"]["totals"]["calls"], 9);
    assert_eq!(r["audit"]["totals"]["failed_calls"], 5);
    assert_eq!(r["audit"]["input"]["fields_ignored"], 0);
}

/// Vertex AI's request-response logs exported from BigQuery hold
/// `full_request` and `full_response` as JSON text (a JSON column), in
/// JSON lines as in Parquet: a `[mapping]` path goes on inside that text.
/// Before, every row was rejected as without usage, with a warning to
/// check the column's name.
#[test]
fn vertex_bigquery_json_text_columns_are_read_through_a_mapping() {
    let env = Env::new();
    let dir = fixture("vertex-bigquery");
    let config = format!("{dir}/tokenaudit.toml");
    for file in ["requests.jsonl", "requests.parquet"] {
        let r = env.audit(&[&format!("{dir}/{file}"), "--config", &config, "--strict"]);
        // gemini-2.5-flash: 10,000 in of which 4,000 cached, 500 out and
        // 1,500 thinking (not in the output count): 6,000 × 0.30 + 4,000 ×
        // 0.03 + 2,000 × 2.50 = $0.00692. gemini-2.5-pro over 200,000 in:
        // 250,000 × 2.50 + 1,000 × 15 = $0.64.
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.64692", "{file}");
        assert_eq!(r["audit"]["totals"]["calls"], 2, "{file}");
        assert_eq!(cost_of(&r, "feature", "summarize"), "0.00692", "{file}");
    }
}

/// A spreadsheet set to a comma-decimal language writes `2.000` for two
/// thousand and `0,5` for a half; one that saves dates as numbers writes
/// days since 1899-12-30. In a semicolon file's token columns the dots
/// group thousands, a decimal comma is a decimal, and a serial number in a
/// date column is that day (before: 2 tokens, and calls dated 1 January
/// 1970).
#[test]
fn spreadsheet_numbers_and_serial_dates_are_read_as_meant() {
    let env = Env::new();
    env.write(
        "sheet.csv",
        "created_at;model;prompt_tokens;completion_tokens;cost\n\
         46023,4375;gpt-4o;2.000;100;0,006\n\
         46024.5;gpt-4o;1.234.000;1.000;1,2\n",
    );
    let r = env.audit(&["sheet.csv", "--strict"]);
    // gpt-4o: 2,000 × $2.50/M + 100 × $10/M = $0.006; 1,234,000 × 2.5 +
    // 1,000 × 10 = $3.095.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "3.101");
    assert_eq!(r["audit"]["totals"]["input_tokens"], 1_236_000);
    assert_eq!(r["audit"]["first_call"], "2026-01-01T10:30:00Z");
    assert_eq!(r["audit"]["last_call"], "2026-01-02T12:00:00Z");
}

/// A spreadsheet saves dates in its own spelling (`1/12/2026 10:00`,
/// month first here): `timestamp_format` in the `[mapping]` reads them
/// (before, every row was a bad_timestamp and no setting could help). A
/// format strftime cannot read is an error that shows one.
#[test]
fn a_mapping_timestamp_format_reads_spreadsheet_dates() {
    let env = Env::new();
    env.write(
        "excel.csv",
        "\u{feff}created_at,model,tokens_prompt,tokens_completion\r\n\
         1/12/2026 10:00,gpt-4o-mini,\"1,200\",300\r\n\
         12/31/2025 23:30,gpt-4o-mini,1000,100\r\n",
    );
    env.write(
        "t.toml",
        "[mapping]\ntimestamp = \"created_at\"\ntimestamp_format = \"%m/%d/%Y %H:%M\"\n\
         input_tokens = \"tokens_prompt\"\noutput_tokens = \"tokens_completion\"\n",
    );
    let r = env.audit(&["excel.csv", "--config", "t.toml", "--strict"]);
    // 1,200 × $0.15/M + 300 × $0.60/M = $0.00036; 1,000 × 0.15 + 100 × 0.60
    // = $0.00021.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00057");
    assert_eq!(r["audit"]["first_call"], "2025-12-31T23:30:00Z");
    assert_eq!(r["audit"]["last_call"], "2026-01-12T10:00:00Z");
    env.write(
        "bad.toml",
        "[mapping]\ntimestamp = \"created_at\"\ntimestamp_format = \"%Q\"\n",
    );
    let out = env
        .cmd()
        .args(["audit", "excel.csv", "--config", "bad.toml", "--out", "o"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mapping.timestamp_format: \"%Q\" is not a strftime format"),
        "{err}"
    );
    // A format reads the mapped timestamp (without one it would read
    // nothing); a zone's name (%Z) cannot be read as an offset.
    for (config, said) in [
        (
            "[mapping]\ntimestamp_format = \"%m/%d/%Y %H:%M\"\n",
            "mapping.timestamp_format reads the mapped timestamp",
        ),
        (
            "[mapping]\ntimestamp = \"created_at\"\ntimestamp_format = \"%m/%d/%Y %H:%M %Z\"\n",
            "has %Z, a zone's name",
        ),
    ] {
        env.write("bad.toml", config);
        let out = env
            .cmd()
            .args(["audit", "excel.csv", "--config", "bad.toml", "--out", "o"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(said), "{err}");
    }
}

/// LangSmith's run export holds chain and tool runs beside the model
/// calls, with the chains' sums of their calls' tokens: `[mapping.only]`
/// takes the rows whose `run_type` is a call; the others are skipped, not
/// rejected (before, each was a missing_model reject, --strict always
/// failed). In JSON lines and in Parquet alike.
#[test]
fn a_mapping_only_filter_skips_rows_that_are_not_calls() {
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    use std::sync::Arc;
    let env = Env::new();
    let run = |id: &str, kind: &str, model: &str, input: u64, output: u64| {
        format!(
            r#"{{"id":"{id}","run_type":"{kind}","prompt_tokens":{input},"completion_tokens":{output},"extra":{{"metadata":{{"ls_model_name":"{model}"}}}}}}"#
        ) + "\n"
    };
    env.write(
        "runs.jsonl",
        run("r1", "chain", "", 3000, 300)
            + &run("r2", "llm", "gpt-4o-mini", 1000, 100)
            + &run("r3", "LLM", "gpt-4o-mini", 2000, 200)
            + &run("r4", "tool", "", 0, 0),
    );
    env.write(
        "t.toml",
        "[mapping]\nmodel = \"extra.metadata.ls_model_name\"\n\
         input_tokens = \"prompt_tokens\"\noutput_tokens = \"completion_tokens\"\n\
         [mapping.only]\nrun_type = [\"llm\", \"embedding\"]\n",
    );
    let col = |v: Vec<&str>| Arc::new(StringArray::from(v)) as ArrayRef;
    let num = |v: Vec<i64>| Arc::new(Int64Array::from(v)) as ArrayRef;
    crate::inputs::write_parquet(
        &env.path("runs.parquet"),
        vec![
            ("run_type", col(vec!["chain", "llm", "LLM", "tool"])),
            ("model", col(vec!["", "gpt-4o-mini", "gpt-4o-mini", ""])),
            ("prompt_tokens", num(vec![3000, 1000, 2000, 0])),
            ("completion_tokens", num(vec![300, 100, 200, 0])),
        ],
    );
    env.write(
        "p.toml",
        "[mapping]\nmodel = \"model\"\n[mapping.only]\nrun_type = \"llm\"\n",
    );
    for (file, config) in [("runs.jsonl", "t.toml"), ("runs.parquet", "p.toml")] {
        let r = env.audit(&[file, "--config", config, "--strict"]);
        // The two llm runs: 1,000 × $0.15/M + 100 × $0.60/M = $0.00021 and
        // 2,000 × 0.15 + 200 × 0.60 = $0.00042.
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00063", "{file}");
        assert_eq!(r["audit"]["totals"]["calls"], 2, "{file}");
        assert_eq!(
            r["audit"]["input"]["skipped_by_reason"]["not_selected"], 2,
            "{file}"
        );
    }
    // A misspelled path skips every row as not selected: said, with the
    // path (and not said of a path some row has).
    env.write(
        "typo.toml",
        "[mapping]\nmodel = \"model\"\n[mapping.only]\nrun_typ = \"llm\"\n",
    );
    let said = |file: &str, config: &str| {
        let out = env
            .cmd()
            .args(["audit", file, "--config", config, "--out", "out"])
            .output()
            .unwrap();
        String::from_utf8(out.stderr).unwrap()
    };
    let stderr = said("runs.parquet", "typo.toml");
    assert!(
        stderr.contains(
            "warning: [mapping.only] \"run_typ\": no line read with the mapping has a value there, so every line was skipped as not selected"
        ),
        "{stderr}"
    );
    assert!(!said("runs.parquet", "p.toml").contains("[mapping.only]"));
    // With --strict, an error, not a $0 report (hunt65).
    let out = env
        .cmd()
        .args([
            "audit",
            "runs.parquet",
            "--config",
            "typo.toml",
            "--out",
            "strict",
            "--strict",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "--strict: 1 path of [mapping.only] that no line has (above), so every line was skipped; no report written."
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!env.path("strict/audit.json").exists());
    // A path whose value is a list is there (no value equals it): no
    // warning (hunt35).
    env.write(
        "kinds.jsonl",
        r#"{"model":"gpt-4o-mini","kinds":["llm"],"prompt_tokens":1,"completion_tokens":1}"#,
    );
    env.write(
        "list.toml",
        "[mapping]\nmodel = \"model\"\n[mapping.only]\nkinds = \"llm\"\n",
    );
    let stderr = said("kinds.jsonl", "list.toml");
    assert!(!stderr.contains("[mapping.only]"), "{stderr}");
}

/// Tracing APIs' pages saved as files: Datadog LLM Observability's
/// (`{"data":[{"type":"span","attributes":{…}}],"meta":…}`) and Logfire's
/// query API (`{"columns":[…],"rows":[{…}]}`), read through a mapping, one
/// record per span or row (before, each page was one record: $0).
#[test]
fn tracing_api_pages_are_read_record_by_record() {
    let env = Env::new();
    env.write(
        "datadog.json",
        r#"{"data":[
  {"id":"1","type":"span","attributes":{"model_name":"gpt-4o-mini","metrics":{"input_tokens":1000,"output_tokens":100}}},
  {"id":"2","type":"span","attributes":{"model_name":"gpt-4o-mini","metrics":{"input_tokens":2000,"output_tokens":200}}}
],"meta":{"page":{"after":null}}}"#,
    );
    env.write(
        "dd.toml",
        "[mapping]\nmodel = \"attributes.model_name\"\n\
         input_tokens = \"attributes.metrics.input_tokens\"\n\
         output_tokens = \"attributes.metrics.output_tokens\"\n",
    );
    let r = env.audit(&["datadog.json", "--config", "dd.toml", "--strict"]);
    // 1,000 × $0.15/M + 100 × $0.60/M = $0.00021; 2,000 and 200: $0.00042.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00063");
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    env.write(
        "logfire.json",
        r#"{"columns":[{"name":"trace_id","datatype":"Utf8"},{"name":"attributes","datatype":"Utf8"}],"rows":[
  {"trace_id":"t1","attributes":{"gen_ai.request.model":"gpt-4o-mini","gen_ai.usage.input_tokens":1000,"gen_ai.usage.output_tokens":100}},
  {"trace_id":"t2","attributes":{"gen_ai.request.model":"gpt-4o-mini","gen_ai.usage.input_tokens":1000,"gen_ai.usage.output_tokens":100}}
]}"#,
    );
    env.write(
        "lf.toml",
        "[mapping]\nmodel = \"attributes.gen_ai.request.model\"\n\
         input_tokens = \"attributes.gen_ai.usage.input_tokens\"\n\
         output_tokens = \"attributes.gen_ai.usage.output_tokens\"\n",
    );
    let r = env.audit(&["logfire.json", "--config", "lf.toml", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00042");
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    // A call that lists its own spans, or a `data` list of attribute
    // objects, is a call (its `response`, `model_name`, `tokens_in` say so),
    // not a page.
    env.write(
        "calls.jsonl",
        concat!(
            r#"{"request":{"model":"gpt-4o-mini"},"response":{"model":"gpt-4o-mini","usage":{"prompt_tokens":1000,"completion_tokens":100}},"spans":[{"span_id":"s1","attributes":{"passed":true}}]}"#,
            "\n",
            r#"{"model_name":"gpt-4o-mini","tokens_in":1000,"tokens_out":100,"data":[{"type":"tag","attributes":{"team":"a"}}]}"#,
            "\n"
        ),
    );
    let r = env.audit(&["calls.jsonl", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00042");
}

/// A warehouse unload's upper-case columns (Snowflake's MODEL,
/// PROMPT_TOKENS) are said to be upper case, with a mapping that names
/// them (before, the message offered --input-format gateway, which
/// rejected every row as without a model).
#[test]
fn upper_case_columns_are_told_with_a_mapping_to_write() {
    let env = Env::new();
    env.write(
        "sf.csv",
        "MODEL,PROMPT_TOKENS,COMPLETION_TOKENS\ngpt-4o,100,10\n",
    );
    let r = env.audit(&["sf.csv"]);
    let detail = r["audit"]["input"]["rejected_samples"][0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("its keys are in upper case (COMPLETION_TOKENS, MODEL, PROMPT_TOKENS)")
            && detail.contains(r#"(output_tokens = "COMPLETION_TOKENS", model = "MODEL", input_tokens = "PROMPT_TOKENS";"#),
        "{detail}"
    );
}

/// A `service_tier` of the wrong type is read as absent (standard rates)
/// and counted, as other optional fields are.
#[test]
fn a_service_tier_of_the_wrong_type_is_counted() {
    let env = Env::new();
    env.write(
        "a.jsonl",
        r#"{"model":"gpt-5","service_tier":{"kind":"flex"},"usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
    );
    let r = env.audit(&["a.jsonl"]);
    // Standard gpt-5: 1,000 × 1.25 + 100 × 10 = $0.00225.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00225");
    assert_eq!(r["audit"]["input"]["fields_ignored"], 1);
    assert_eq!(
        r["audit"]["input"]["rejected_samples"][0]["detail"],
        "service_tier: wrong type, read as absent"
    );
}

/// OpenAI's `service_tier: "ultrafast"` (openai-python's `ServiceTier`
/// literal, gpt-5.6-sol's access-controlled tier), which no catalog prices,
/// is priced at standard rates and counted as such, not silently; a
/// Realtime response's `max_output_tokens: "inf"` (its GA default, the
/// SDK's `Union[int, Literal["inf"], None]`) is no limit, not a field
/// ignored (`--strict` refused a clean log: hunt156).
#[test]
fn an_ultrafast_tier_is_said_and_an_infinite_output_limit_is_none() {
    let env = Env::new();
    env.write(
        "a.jsonl",
        concat!(
            r#"{"id":"resp_1","object":"response","created_at":1793700000,"status":"completed","model":"gpt-5.6-sol","service_tier":"ultrafast","usage":{"input_tokens":100000,"input_tokens_details":{"cached_tokens":20000},"output_tokens":1000,"output_tokens_details":{"reasoning_tokens":500},"total_tokens":101000}}"#,
            "\n",
            r#"{"type":"response.done","model":"gpt-5.6-sol","timestamp":"2026-11-02T10:00:00Z","response":{"object":"realtime.response","id":"resp_2","status":"completed","max_output_tokens":"inf","usage":{"input_tokens":1000,"output_tokens":100}}}"#,
            "\n"
        ),
    );
    let r = env.audit(&["a.jsonl", "--strict"]);
    // Standard gpt-5.6-sol (5 / cached 0.5 / 30): 80,000 × 5 + 20,000 ×
    // 0.5 + 1,000 × 30 = $0.44; 1,000 × 5 + 100 × 30 = $0.008.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.448");
    assert_eq!(r["audit"]["tier_calls_at_standard_price"], 1);
    assert_eq!(r["audit"]["input"]["fields_ignored"], 0);
}

/// Audio tokens at the model's audio rates: OpenAI's chat completion with
/// `prompt_tokens_details.audio_tokens`, a Realtime usage object (its
/// `input_token_details`, cached audio in `cached_tokens_details`), Gemini's
/// modality lists. Before, all three were billed at text rates ($0.01263).
#[test]
fn audio_tokens_are_priced_at_audio_rates() {
    let r = audit("audio", "gateway");
    // gpt-4o-audio-preview (2.5 / 10, audio 40 / 80): 200 text in × 2.5 +
    // 1,000 audio in × 40 + 100 text out × 10 + 500 audio out × 80 =
    // 0.0005 + 0.04 + 0.001 + 0.04 = $0.0815.
    // gpt-realtime-mini (0.6 / 2.4, cached 0.06; audio 10 / 20, cached
    // audio 0.3): 2,000 in of which 1,200 cached (1,000 of them audio),
    // 1,600 audio: 200 text × 0.6 + 600 audio × 10 + 200 cached text × 0.06
    // + 1,000 cached audio × 0.3 + 60 text out × 2.4 + 240 audio out × 20 =
    // 0.00012 + 0.006 + 0.000012 + 0.0003 + 0.000144 + 0.0048 = $0.011376.
    // gemini-2.5-flash (0.3 / 2.5, cached 0.03; audio 1, cached audio 0.1):
    // 5,000 in, 4,000 audio, 2,000 cached (all audio), 200 out + 100
    // thoughts: 1,000 × 0.3 + 2,000 × 1 + 2,000 × 0.1 + 300 × 2.5 =
    // 0.0003 + 0.002 + 0.0002 + 0.00075 = $0.00325.
    assert_eq!(totals(&r), ("0.096126".into(), 3, 8200, 3200, 1200, 100));
    for (model, cost) in [
        ("gpt-4o-audio-preview", "0.0815"),
        ("gpt-realtime-mini", "0.011376"),
        ("gemini-2.5-flash", "0.00325"),
    ] {
        assert_eq!(usd(&row(&r, "model", model)["cost"]), cost, "{model}");
    }
}

/// FOCUS gives audio tokens rows of their own at the audio rates, the text
/// rows count the rest, and the store keeps the audio counts: its audit is
/// the raw one.
#[test]
fn audio_tokens_in_focus_rows_and_the_store() {
    let env = Env::new();
    let logs = fixture("audio");
    env.audit(&[&logs, "--format", "json,focus"]);
    let csv = std::fs::read_to_string(env.path("out/focus.csv")).unwrap();
    let mut rows: Vec<String> = crate::focus::records(&csv)
        .iter()
        .filter(|r| r["SkuId"] == "openai/gpt-realtime-mini")
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["x_TokenType"], r["ConsumedQuantity"], r["BilledCost"], r["ListCost"]
            )
        })
        .collect();
    rows.sort();
    // List cost: cached reads at the plain rates, text at 0.6 and audio at
    // 10 (200 × 0.6 = 0.00012; 1,000 × 10 = 0.01).
    assert_eq!(
        rows,
        [
            "cached_audio_read 1000 0.0003 0.01",
            "cached_read 200 0.000012 0.00012",
            "input 200 0.00012 0.00012",
            "input_audio 600 0.006 0.006",
            "output 60 0.000144 0.000144",
            "output_audio 240 0.0048 0.0048",
        ]
    );
    crate::store::ingest(&env, &[&logs]);
    let stored = crate::store::audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&stored["totals"]["cost"]), "0.096126");
}

/// A forked Codex session and a subagent's begin with a copy of the
/// parent's history, token_count events included (the subagent's
/// re-stamped, after a copy of the parent's session_meta); a rollout also
/// kept under `archived_sessions/`. Each call is counted once, in the
/// session that made it.
#[test]
fn codex_forks_subagents_and_archived_copies_count_each_call_once() {
    let r = audit("codex-forks", "codex");
    // gpt-5.2 (1.75 / cached 0.175 / 14; gpt-5.2-codex is priced as it):
    // - fork family: the parent's two calls, 20,000 uncached + 80,000
    //   cached + 2,000 out = $0.077 and 10,000 + 100,000 + 3,000 = $0.077;
    //   the fork's own call 5,000 + 110,000 + 1,000 = $0.042;
    // - subagent family: the parent's 10,000 + 40,000 + 2,000 = $0.0525
    //   and 10,000 + 50,000 + 3,000 = $0.06825; the subagent's own
    //   10,000 + 20,000 + 1,000 = $0.035 and 5,000 + 30,000 + 1,500 =
    //   $0.035;
    // - the archived session: 10,000 + 30,000 + 2,000 = $0.05075.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.4375");
    assert_eq!(r["audit"]["totals"]["calls"], 8);
    for (session, cost) in [
        ("019a0005-0000-7000-8000-00000000000a", "0.154"),
        ("019a0005-0000-7000-8000-00000000000b", "0.042"),
        ("019a0016-0000-7000-8000-00000000000a", "0.12075"),
        ("019a0016-0000-7000-8000-00000000000b", "0.07"),
        ("019a0010-0000-7000-8000-000000000010", "0.05075"),
    ] {
        assert_eq!(cost_of(&r, "session", session), cost, "{session}");
    }
    // The copies: two in the fork, two in the subagent's file, the
    // archived rollout's one.
    assert_eq!(skipped(&r)["duplicate"], 5);
    // None of the archived copy's calls is counted: it is not said to be.
    for f in r["audit"]["input"]["files"].as_array().unwrap() {
        assert!(f["same_content_as"].is_null(), "{f}");
    }
}

/// Two sessions that are no copy of each other (no parent named) are two
/// calls even when their counts are the same: `codex exec` run by CI with
/// a fixed prompt. They were one call and a `duplicate`.
#[test]
fn codex_sessions_with_the_same_counts_are_not_copies() {
    let env = Env::new();
    for (day, id) in [("20", "sess-a"), ("21", "sess-b")] {
        let t = |s: u32| format!("2025-11-{day}T09:00:{s:02}.000Z");
        let usage = r#"{"input_tokens":9000,"cached_input_tokens":0,"output_tokens":120,"reasoning_output_tokens":64,"total_tokens":9120}"#;
        env.write(
            &format!("sessions/2025/11/{day}/rollout-2025-11-{day}T09-00-00-{id}.jsonl"),
            format!(
                "{}\n{}\n{}\n",
                format_args!(r#"{{"timestamp":"{}","type":"session_meta","payload":{{"id":"{id}","cwd":"/home/ci/repo","originator":"codex_exec","source":"exec"}}}}"#, t(0)),
                format_args!(r#"{{"timestamp":"{}","type":"turn_context","payload":{{"cwd":"/home/ci/repo","model":"gpt-5-codex"}}}}"#, t(1)),
                format_args!(r#"{{"timestamp":"{}","type":"event_msg","payload":{{"type":"token_count","info":{{"total_token_usage":{usage},"last_token_usage":{usage}}}}}}}"#, t(5)),
            ),
        );
    }
    let r = env.audit(&["sessions"]);
    // gpt-5-codex at gpt-5's rates: 9,000 × $1.25/M + 120 × $10/M =
    // $0.01245 a call.
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0249");
    assert_eq!(cost_of(&r, "session", "sess-a"), "0.01245");
    assert_eq!(cost_of(&r, "session", "sess-b"), "0.01245");
    assert!(skipped(&r).get("duplicate").is_none(), "{:?}", skipped(&r));
}

/// A subagent's file whose `source.subagent` is a name (`"review"`, a unit
/// variant), not an object, is a subagent's all the same: its copy of the
/// parent's call gives way to the parent's (it was counted again, as the
/// original of another session).
#[test]
fn codex_subagents_named_by_a_string_are_derived() {
    let env = Env::new();
    let usage = |input: u64, output: u64| {
        format!(
            r#"{{"input_tokens":{input},"cached_input_tokens":0,"output_tokens":{output},"reasoning_output_tokens":0,"total_tokens":{}}}"#,
            input + output
        )
    };
    let count = |t: &str, total: &str, last: &str| {
        format!(
            r#"{{"timestamp":"{t}","type":"event_msg","payload":{{"type":"token_count","info":{{"total_token_usage":{total},"last_token_usage":{last}}}}}}}"#
        )
    };
    let context = r#"{"timestamp":"2025-11-20T09:00:01.000Z","type":"turn_context","payload":{"cwd":"/r","model":"gpt-5-codex"}}"#;
    env.write(
        "sessions/2025/11/20/rollout-2025-11-20T09-00-00-p.jsonl",
        [
            r#"{"timestamp":"2025-11-20T09:00:00.000Z","type":"session_meta","payload":{"id":"p","cwd":"/r"}}"#.to_string(),
            context.to_string(),
            count("2025-11-20T09:00:05.000Z", &usage(9000, 120), &usage(9000, 120)),
        ]
        .join("\n"),
    );
    env.write(
        "sessions/2025/11/20/rollout-2025-11-20T09-10-00-s.jsonl",
        [
            r#"{"timestamp":"2025-11-20T09:10:00.000Z","type":"session_meta","payload":{"id":"s","cwd":"/r","source":{"subagent":"review"}}}"#.to_string(),
            context.to_string(),
            count("2025-11-20T09:10:05.000Z", &usage(9000, 120), &usage(9000, 120)),
            count("2025-11-20T09:10:09.000Z", &usage(10000, 220), &usage(1000, 100)),
        ]
        .join("\n"),
    );
    let r = env.audit(&["sessions"]);
    // gpt-5's rates: the parent's 9,000 × $1.25/M + 120 × $10/M = $0.01245;
    // the subagent's own 1,000 × 1.25 + 100 × 10 = $0.00225.
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0147");
    assert_eq!(skipped(&r)["duplicate"], 1);
}

/// A fork read before its parent (kept under `archived_sessions/`, which
/// sorts first): the parent's calls stay the parent's, in its session, at
/// its time, and the fork's copies are the duplicates; a subagent's
/// re-stamped copies too.
#[test]
fn codex_copies_give_way_to_the_parents_calls_whatever_the_order() {
    let env = Env::new();
    let fixture = fixture("codex-forks");
    let day = std::path::Path::new(&fixture).join("sessions/2026/11/20");
    for (name, to) in [
        ("12-00-00-019a0005-0000-7000-8000-00000000000a", "sessions"),
        (
            "12-10-00-019a0005-0000-7000-8000-00000000000b",
            "archived_sessions",
        ),
        ("13-00-00-019a0016-0000-7000-8000-00000000000a", "sessions"),
        (
            "13-03-00-019a0016-0000-7000-8000-00000000000b",
            "archived_sessions",
        ),
    ] {
        let file = format!("rollout-2026-11-20T{name}.jsonl");
        env.write(
            &format!("codex/{to}/{file}"),
            std::fs::read(day.join(&file)).unwrap(),
        );
    }
    let r = env.audit(&["codex"]);
    // As in the fixture's audit: the parents' $0.154 and $0.12075, the
    // fork's own $0.042, the subagent's own $0.07.
    for (session, cost) in [
        ("019a0005-0000-7000-8000-00000000000a", "0.154"),
        ("019a0005-0000-7000-8000-00000000000b", "0.042"),
        ("019a0016-0000-7000-8000-00000000000a", "0.12075"),
        ("019a0016-0000-7000-8000-00000000000b", "0.07"),
    ] {
        assert_eq!(cost_of(&r, "session", session), cost, "{session}");
    }
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.38675");
    assert_eq!(skipped(&r)["duplicate"], 4);
}

/// Usage shapes read where the vendors put them: Amazon Bedrock's Converse
/// responses (`modelId`, camelCase usage, alone and as a logged pair) and
/// an InvokeModel log whose `modelId` names the Bedrock profile; Vertex's
/// `usageMetadata.trafficType`; Anthropic's `usage.service_tier`.
#[test]
fn converse_traffic_type_and_usage_service_tier() {
    let r = audit("usage-shapes", "gateway");
    // Converse, us.anthropic.claude-sonnet-4 on Bedrock (3 / 0.3 / 3.75 /
    // 15), input without the cache as Anthropic's: 1,200 × 3 + 5,000 × 0.3
    // + 2,000 × 3.75 + 300 × 15 = $0.0171, twice. InvokeModel with
    // `modelId` us.anthropic.claude-sonnet-4-5 (Bedrock's regional 3.3 /
    // 16.5, before the body's own `model`): 10,000 × 3.3 + 1,000 × 16.5 =
    // $0.0495. aws: $0.0837.
    assert_eq!(cost_of(&r, "provider", "aws"), "0.0837");
    // Vertex: gemini-2.5-flash on demand and on provisioned throughput (at
    // on-demand rates), 10,000 × 0.3 + 1,000 × 2.5 = $0.0055 each;
    // gemini-2.5-pro ON_DEMAND_PRIORITY, 8,000 of 10,000 cached, at 1.8×:
    // (2,000 × 1.25 + 8,000 × 0.125 + 1,000 × 10) × 1.8 = $0.0243;
    // ON_DEMAND_FLEX, which the catalog has no price for: standard, said,
    // 10,000 × 1.25 + 1,000 × 10 = $0.0225. google: $0.0578.
    assert_eq!(cost_of(&r, "provider", "google"), "0.0578");
    assert_eq!(r["audit"]["tier_calls_at_standard_price"], 1);
    // The provisioned call is said to be priced at on-demand rates.
    assert_eq!(r["audit"]["provisioned_calls_at_on_demand_price"], 1);
    // The store keeps the tier (`provisioned`): its audit says the same.
    let env = Env::new();
    crate::store::ingest(&env, &[&fixture("usage-shapes")]);
    let stored = crate::store::audit_of(&env, &["--store", "store"]);
    assert_eq!(stored["provisioned_calls_at_on_demand_price"], 1);
    assert_eq!(usd(&stored["totals"]["cost"]), "0.3665");
    // Anthropic's batch result message (`usage.service_tier: "batch"`),
    // Sonnet 4.5 at half of 3 / 15: 100,000 × 1.5 + 10,000 × 7.5 = $0.225.
    assert_eq!(cost_of(&r, "provider", "anthropic"), "0.225");
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.3665");
    assert_eq!(r["audit"]["totals"]["calls"], 8);
}

/// Cohere's v2 usage is billed by `billed_units` (its `tokens`, first here,
/// count the prompt template too); a Claude model Vertex's price list lacks
/// is not priced as the Vertex model whose `contains` rule it matches.
#[test]
fn cohere_billed_units_and_vertex_claude_names() {
    let r = audit("cohere-vertex", "gateway");
    // command-a (2.5 / 10): 1,000 × 2.5 + 500 × 10 = $0.0075.
    assert_eq!(cost_of(&r, "model", "command-a"), "0.0075");
    // Sonnet 4.6 on Vertex, 300,000 in: Vertex lists no Sonnet 4.6, and its
    // `*claude-sonnet-4*` is Sonnet 4, with a tier over 200,000 input
    // tokens (6 / 22.5: $1.8225). Anthropic's Sonnet 4.6 has none since
    // 2026-03-13: 300,000 × 3 + 1,000 × 15 = $0.915, and it is said to be
    // priced at another provider's rates.
    assert_eq!(cost_of(&r, "model", "claude-sonnet-4-6"), "0.915");
    let elsewhere = r["audit"]["priced_elsewhere"].as_array().unwrap();
    assert_eq!(elsewhere.len(), 1, "{elsewhere:?}");
    assert_eq!(elsewhere[0]["resolved"], "anthropic/claude-sonnet-4-6");
    // Sonnet 4 on Vertex stays Vertex's: 300,000 × 6 + 1,000 × 22.5.
    assert_eq!(cost_of(&r, "model", "claude-4-sonnet"), "1.8225");
    // Logged as `vertex_ai`: Google's row.
    assert_eq!(cost_of(&r, "provider", "google"), "2.7375");
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "2.745");
    assert_eq!(r["audit"]["totals"]["calls"], 3);
}

/// Perplexity counts reasoning beside `completion_tokens` (its
/// `total_tokens` leaves it out) and bills it at its own rate; its
/// `num_search_queries` and `citation_tokens` tell its usage. Before, a
/// deep-research call with no more reasoning than completion was read as
/// OpenAI's convention and its answer billed as reasoning.
#[test]
fn perplexity_reasoning_is_beside_the_completion() {
    let r = audit("perplexity", "gateway");
    // sonar-deep-research (2 / 8, reasoning 3, searches $5 per 1,000):
    // Perplexity's own example, 19 × 2 + 8,541 × 8 + 86,030 × 3 = $0.326456
    // and 20 searches $0.10; then 1,000 × 2 + 1,000 × 8 + 1,000 × 3 =
    // $0.013 and 10 searches $0.05 (it was $0.055). Citation tokens are not
    // billed here.
    assert_eq!(cost_of(&r, "model", "sonar-deep-research"), "0.489456");
    // sonar-pro (3 / 15), no search price in the catalog: 1,000 × 3 + 500
    // × 15 = $0.0105.
    assert_eq!(cost_of(&r, "model", "sonar-pro"), "0.0105");
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.499956");
    // Its one search is counted at $0, and said so.
    assert_eq!(r["audit"]["web_search_calls_unpriced"], 1);
    assert_eq!(r["audit"]["totals"]["reasoning_tokens"], 87030);
}

/// Claude Code on Amazon Bedrock logs Bedrock's model ids: a regional
/// profile is priced at Bedrock's rates (10% over Anthropic's on Sonnet
/// 4.5), as `prices show` resolves the name, not at Anthropic's.
#[test]
fn claude_code_on_bedrock_is_priced_at_bedrock_rates() {
    let r = audit("claude-code-bedrock", "claude-code");
    // 1,000 in and 1,000 out each: us.anthropic.claude-sonnet-4-5 (3.3 /
    // 16.5) $0.0198; global.anthropic.claude-opus-4-5 (5 / 25) $0.03;
    // anthropic.claude-3-5-haiku (0.8 / 4) $0.0048. On Anthropic: Sonnet
    // 4.5 twice (3 / 15, also as Vertex names it) $0.036, Opus 4.6 $0.03.
    assert_eq!(cost_of(&r, "provider", "aws"), "0.0546");
    assert_eq!(cost_of(&r, "provider", "anthropic"), "0.066");
    assert_eq!(
        cost_of(
            &r,
            "model",
            "regional.anthropic.claude-sonnet-4-5-20250929-v1:0"
        ),
        "0.0198"
    );
}

/// A batch call of a model the catalog has no batch price for is priced at
/// real-time rates, and said on stderr (a nightly job reads no report).
#[test]
fn batch_calls_at_full_price_are_said_on_stderr() {
    let env = Env::new();
    env.write(
        "logs/batch.jsonl",
        r#"{"id":"msg_01C","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[],"usage":{"input_tokens":100000,"output_tokens":10000,"service_tier":"batch"}}"#,
    );
    let out = env
        .cmd()
        .args(["audit", "logs", "--out", "out", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 batch call was priced at real-time rates"),
        "{stderr}"
    );
    let r = env.report();
    // Sonnet 4 at 3 / 15: 100,000 × 3 + 10,000 × 15 = $0.45.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.45");
    assert_eq!(r["audit"]["batch_calls_at_full_price"], 1);
}

/// 1-hour cache writes of a model the catalog gives no 1-hour rate (Sonnet
/// 4 on Bedrock) are priced at the 5-minute rate, and said: in the report
/// and on stderr.
#[test]
fn one_hour_writes_at_the_five_minute_rate_are_said() {
    let env = Env::new();
    let usage = r#""usage":{"input_tokens":1000,"output_tokens":100,"cache_creation_input_tokens":10000,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":10000}}"#;
    env.write(
        "logs/calls.jsonl",
        format!(
            "{{\"timestamp\":\"2026-11-03T10:00:00Z\",\"model\":\"us.anthropic.claude-sonnet-4-20250514-v1:0\",{usage}}}\n\
             {{\"timestamp\":\"2026-11-03T10:00:00Z\",\"model\":\"claude-sonnet-4-5\",{usage}}}\n"
        ),
    );
    let out = env
        .cmd()
        .args(["audit", "logs", "--out", "out", "--format", "json,md"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 call wrote to the prompt cache for an hour"),
        "{stderr}"
    );
    let r = env.report();
    // Bedrock's Sonnet 4 (3 / 3.75 / 15, no 1h rate): 1,000 × 3 + 10,000 ×
    // 3.75 + 100 × 15 = $0.042. Sonnet 4.5 (1h at 6): 1,000 × 3 + 10,000 ×
    // 6 + 100 × 15 = $0.0645.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.1065");
    assert_eq!(r["audit"]["cache_write_1h_calls_at_5m_price"], 1);
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(md.contains("and that write was priced at the 5-minute rate"));
}

/// A usage object logged as JSON text (as CSV exports and some loggers
/// write it) is read as the object; other text is a wrong type.
#[test]
fn usage_as_json_text_is_read() {
    let env = Env::new();
    env.write(
        "logs/calls.jsonl",
        concat!(
            r#"{"timestamp":"2026-11-03T10:00:00Z","model":"gpt-4o","usage":"{\"prompt_tokens\":1000,\"completion_tokens\":100,\"prompt_tokens_details\":{\"cached_tokens\":400}}"}"#,
            "\n",
            r#"{"timestamp":"2026-11-03T10:01:00Z","model":"gpt-4o","usage":"n/a"}"#,
            "\n"
        ),
    );
    let r = env.audit(&["logs"]);
    // gpt-4o (2.5 / cached 1.25 / 10): 600 × 2.5 + 400 × 1.25 + 100 × 10 =
    // $0.003.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.003");
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    assert_eq!(r["audit"]["input"]["rejected_by_reason"]["wrong_type"], 1);
}

/// A logged request/response pair: the response's model and service tier
/// (what was served) over the request's (what was asked for: an Azure
/// deployment's name, `priority` that was not granted, `auto`).
#[test]
fn pairs_take_the_response_model_and_tier_over_the_request() {
    let r = audit("pairs", "gateway");
    // gpt-5 (1.25 / 10), 10,000 in and 1,000 out: asked priority, served
    // default, $0.0225; asked auto, served priority (2×), $0.045.
    assert_eq!(cost_of(&r, "model", "gpt-5"), "0.0675");
    // gpt-4o-2024-11-20 (2.5 / cached 1.25 / 10) under the deployment
    // name prod-gpt4o-eastus, and a flat line: 952 × 2.5 + 2,048 × 1.25 +
    // 250 × 10 = $0.00744 each.
    assert_eq!(cost_of(&r, "model", "gpt-4o"), "0.01488");
    assert!(r["audit"]["unknown_models"].as_array().unwrap().is_empty());
}

/// Web searches the provider ran (Anthropic's
/// `usage.server_tool_use.web_search_requests`, in an API response and in
/// Claude Code's log) at the catalog's price per search ($10 per 1,000 for
/// Claude, from genai-prices); FOCUS gives them a row of their own; the
/// store keeps the count.
#[test]
fn web_searches_are_billed_per_search() {
    let r = audit("web-search", "gateway");
    // Sonnet 4 (3 / 0.3 / 3.75 / 6 / 15): 1,500 × 3 + 10,000 × 0.3 +
    // 1,000 × 3.75 + 2,000 × 6 + 700 × 15 = $0.03375, and 3 searches ×
    // $0.01 = $0.03: $0.06375.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.06375");
    assert_eq!(usd(&r["audit"]["cost_by_token_kind"]["web_search"]), "0.03");
    // Claude Code, Opus 4.5 (5 / 25): 100 × 5 + 200 × 25 = $0.0055, and 5
    // searches (web fetches are free): $0.0555.
    let cc = audit("web-search-claude-code", "claude-code");
    assert_eq!(usd(&cc["audit"]["totals"]["cost"]), "0.0555");

    let env = Env::new();
    let logs = fixture("web-search");
    env.audit(&[&logs, "--format", "json,focus"]);
    let csv = std::fs::read_to_string(env.path("out/focus.csv")).unwrap();
    let rows = crate::focus::records(&csv);
    let search: Vec<_> = rows
        .iter()
        .filter(|r| r["x_TokenType"] == "web_search")
        .map(|r| {
            (
                r["ConsumedQuantity"].as_str(),
                r["BilledCost"].as_str(),
                r["ConsumedUnit"].as_str(),
            )
        })
        .collect();
    assert_eq!(search, [("3", "0.03", "Web Searches")]);
    let billed: tokenaudit_core::Money = rows
        .iter()
        .map(|r| crate::focus::money(&r["BilledCost"]))
        .sum();
    assert_eq!(billed.to_decimal_string(), "0.06375");
    crate::store::ingest(&env, &[&logs]);
    let stored = crate::store::audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&stored["totals"]["cost"]), "0.06375");
}

/// A Claude Code API error (`isApiErrorMessage`, model `<synthetic>`, no
/// tokens) is a failed call, and no model to price: it is not listed among
/// the models missing from the catalog (with advice to add a price).
#[test]
fn api_errors_are_failed_calls_not_unknown_models() {
    let r = audit("claude-code-errors", "claude-code");
    // Opus 4.5 (5 / read 0.5 / write 6.25 / 25): 10 × 5 + 1,000 × 0.5 +
    // 100 × 25 = $0.00305; 10 × 5 + 8,000 × 6.25 + 100 × 25 = $0.05255.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0556");
    assert_eq!(r["audit"]["totals"]["calls"], 3);
    assert_eq!(r["audit"]["totals"]["failed_calls"], 1);
    assert_eq!(r["audit"]["unknown_models"], serde_json::json!([]));
    assert_eq!(row(&r, "model", "<synthetic>")["calls"], 1);
    // Nothing to price costs $0: no unpriced call (there was one, and the
    // summary said to see Data quality about it).
    assert_eq!(row(&r, "model", "<synthetic>")["unpriced_calls"], 0);
    assert_eq!(row(&r, "model", "<synthetic>")["cost"], "0.00");
    assert_eq!(r["audit"]["totals"]["unpriced_calls"], 0);
}

/// A gateway line's `model` is what was asked for (an alias, an Azure
/// deployment's name, the first model of a fallback list); its logged
/// response names the model that answered and was billed. The response's
/// model prices the call when it is another model the catalog knows, in
/// any key order; a platform's listing (Bedrock's) stays on its rates. The
/// store keeps the settled name, so its audit agrees.
#[test]
fn a_logged_response_names_the_model_that_is_priced() {
    let env = Env::new();
    env.write(
        "logs/calls.jsonl",
        concat!(
            // An Azure deployment's name, then the snapshot that served it.
            r#"{"timestamp":"2026-11-01T00:00:00Z","model":"prod-gpt4o-eastus","response":{"object":"chat.completion","model":"gpt-4o-2024-08-06","usage":{"prompt_tokens":1000000,"completion_tokens":0}}}"#,
            "\n",
            r#"{"timestamp":"2026-11-01T00:00:01Z","response":{"object":"chat.completion","model":"gpt-4o-2024-08-06","usage":{"prompt_tokens":1000000,"completion_tokens":0}},"model":"prod-gpt4o-eastus"}"#,
            "\n",
            // A fallback to a cheaper model, and to another provider's.
            r#"{"timestamp":"2026-11-01T00:00:02Z","model":"gpt-4o","response":{"model":"gpt-4o-mini-2024-07-18","usage":{"prompt_tokens":1000000,"completion_tokens":0}}}"#,
            "\n",
            r#"{"timestamp":"2026-11-01T00:00:03Z","model":"gpt-4o","response":{"model":"claude-3-5-haiku-20241022","usage":{"input_tokens":1000000,"output_tokens":0}}}"#,
            "\n",
            // Bedrock's listing; its response names Anthropic's id.
            r#"{"timestamp":"2026-11-01T00:00:04Z","provider":"bedrock","model":"us.anthropic.claude-3-5-haiku-20241022-v1:0","response":{"model":"claude-3-5-haiku-20241022","usage":{"input_tokens":1000000,"output_tokens":0}}}"#,
            "\n",
            // Bedrock's global profile, whose body names the snapshot: the
            // global listing's rate, not the regional one.
            r#"{"timestamp":"2026-11-01T00:00:06Z","provider":"bedrock","model":"global.anthropic.claude-sonnet-4-5-20250929-v1:0","response":{"model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":100000,"output_tokens":0}}}"#,
            "\n",
            // A fallback to the larger model whose name the line's holds.
            r#"{"timestamp":"2026-11-01T00:00:07Z","model":"gpt-4.1-mini","response":{"model":"gpt-4.1","usage":{"prompt_tokens":1000000,"completion_tokens":0}}}"#,
            "\n",
            // A `response` inside metadata, and the first of `choices`, are
            // no logged response: the line's model stands.
            r#"{"timestamp":"2026-11-01T00:00:08Z","model":"gpt-4o","metadata":{"response":{"model":"gpt-4o-mini"}},"choices":[{"model":"gpt-4o-mini","finish_reason":"stop"}],"usage":{"prompt_tokens":1000000,"completion_tokens":0}}"#,
            "\n",
            // The same before the line's own model, whatever the order; and
            // a model in metadata alone is the call's, as a request's is.
            r#"{"timestamp":"2026-11-01T00:00:09Z","metadata":{"response":{"model":"gpt-4o-mini"}},"choices":[{"model":"gpt-4o-mini","finish_reason":"stop"}],"model":"gpt-4o","usage":{"prompt_tokens":1000000,"completion_tokens":0}}"#,
            "\n",
            r#"{"timestamp":"2026-11-01T00:00:10Z","metadata":{"model":"gpt-4o"},"usage":{"prompt_tokens":1000000,"completion_tokens":0}}"#,
            "\n",
            // A batch request's body is the request: its model is asked for.
            r#"{"timestamp":"2026-11-01T00:00:05Z","request":{"body":{"model":"my-deployment"}},"response":{"model":"gpt-4o-2024-08-06","usage":{"prompt_tokens":1000000,"completion_tokens":0}}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["logs"]);
    // 1,000,000 input tokens each: gpt-4o $2.50 three times, gpt-4o-mini
    // $0.15, Claude 3.5 Haiku $0.80 on Anthropic and $0.80 on Bedrock.
    // Before, the first line was unpriced, the third $2.50 and the fourth
    // $2.50. And 100,000 on Bedrock's global Claude Sonnet 4.5 at $3/M:
    // $0.30 (the regional listing would be $0.33); gpt-4.1 for the
    // fallback from gpt-4.1-mini, 1,000,000 at $2: $2 (not $0.40); gpt-4o
    // for the lines whose metadata and choices name another, either order,
    // and for the one whose metadata alone names it: 3 × $2.50.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "19.05");
    assert_eq!(r["audit"]["unknown_models"], serde_json::json!([]));
    // By calls, then name.
    let names: Vec<(&str, &str)> = r["audit"]["model_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["logged_model"].as_str().unwrap(),
                m["resolved"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("gpt-4o", "openai/gpt-4o"),
            ("gpt-4o-2024-08-06", "openai/gpt-4o"),
            (
                "claude-3-5-haiku-20241022",
                "anthropic/claude-3-5-haiku-latest"
            ),
            (
                "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "aws/global.anthropic.claude-sonnet-4-5-20250929-v1:0"
            ),
            ("gpt-4.1", "openai/gpt-4.1"),
            ("gpt-4o-mini-2024-07-18", "openai/gpt-4o-mini"),
            (
                "us.anthropic.claude-3-5-haiku-20241022-v1:0",
                "aws/regional.anthropic.claude-3-5-haiku-20241022-v1:0"
            ),
        ]
    );
    crate::store::ingest(&env, &["logs", "--quiet"]);
    let s = env.audit(&["--store", "store"]);
    assert_eq!(s["audit"]["totals"], r["audit"]["totals"]);
    assert_eq!(s["audit"]["model_names"], r["audit"]["model_names"]);
}

/// LiteLLM's chat responses give Anthropic's cache writes in
/// `prompt_tokens_details` (`cache_creation_tokens`, and the TTL split in
/// `cache_creation_token_details`), not always at the top of `usage`.
#[test]
fn litellm_cache_writes_in_prompt_tokens_details_are_priced_by_ttl() {
    let env = Env::new();
    env.write(
        "litellm.jsonl",
        concat!(
            r#"{"id":"chatcmpl-x","created":1756807200,"model":"claude-sonnet-4-5-20250929","object":"chat.completion","usage":{"completion_tokens":500,"prompt_tokens":10000,"total_tokens":10500,"completion_tokens_details":null,"prompt_tokens_details":{"audio_tokens":null,"cached_tokens":6000,"cache_creation_tokens":3000,"cache_creation_token_details":{"ephemeral_5m_input_tokens":3000,"ephemeral_1h_input_tokens":0}},"cache_creation_input_tokens":3000,"cache_read_input_tokens":6000}}"#,
            "\n",
            r#"{"id":"chatcmpl-y","created":1756807200,"model":"anthropic/claude-sonnet-4-5-20250929","object":"chat.completion","usage":{"completion_tokens":500,"prompt_tokens":10000,"total_tokens":10500,"prompt_tokens_details":{"cached_tokens":6000,"cache_creation_tokens":3000,"cache_creation_token_details":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":3000}}}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["litellm.jsonl", "--strict"]);
    // claude-sonnet-4-5: prompt_tokens 10,000 hold 6,000 cache reads and
    // 3,000 writes: 1,000 × $3/M = $0.003, 6,000 × $0.30/M = $0.0018, 500
    // out × $15/M = $0.0075; writes 3,000 × $3.75/M = $0.01125 (5 minutes)
    // and 3,000 × $6/M = $0.018 (1 hour). $0.02355 + $0.0303 = $0.05385.
    // Before, the second line's writes were plain input ($0.0213).
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.05385");
    assert_eq!(r["audit"]["totals"]["cache_write_tokens"], 6000);
    assert_eq!(r["audit"]["cache_write_1h_calls_at_5m_price"], 0);
}

/// In-house logs with keys other formats are recognised by (a `traceId`
/// and a `type`; a `sessionId` and a `uuid`) are read as gateway lines,
/// not taken for Langfuse or Claude Code and every call skipped.
#[test]
fn in_house_logs_with_trace_and_session_ids_are_not_taken_for_other_formats() {
    let env = Env::new();
    env.write(
        "logs/trace.jsonl",
        r#"{"timestamp":"2025-09-02T10:00:00Z","type":"llm_call","traceId":"abc123","spanId":"s1","model":"gpt-4o","usage":{"prompt_tokens":100000,"completion_tokens":10000}}"#,
    );
    env.write(
        "logs/snake.jsonl",
        r#"{"timestamp":"2025-09-02T10:00:00Z","type":"completion","trace_id":"abc124","model":"gpt-4o","usage":{"prompt_tokens":100000,"completion_tokens":10000}}"#,
    );
    env.write(
        "logs/uuid.jsonl",
        r#"{"timestamp":"2025-09-02T10:00:00Z","sessionId":"s-1","uuid":"0b6f","parentUuid":null,"model":"gpt-4o","usage":{"prompt_tokens":100000,"completion_tokens":10000}}"#,
    );
    let r = env.audit(&["logs", "--strict"]);
    // gpt-4o: 100,000 in × $2.50/M + 10,000 out × $10/M = $0.35, three times.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "1.05");
    for f in r["audit"]["input"]["files"].as_array().unwrap() {
        assert_eq!(f["format"], "gateway", "{f}");
    }
}

/// A file whose every line the format it was taken for skips as no call
/// is said on stderr, with how to read it otherwise.
#[test]
fn a_file_of_no_calls_in_a_detected_format_is_said() {
    let env = Env::new();
    env.write(
        "spans.jsonl",
        r#"{"id":"o1","traceId":"t1","type":"SPAN","name":"retrieve","startTime":"2025-10-01T10:00:00Z"}"#,
    );
    let out = env
        .cmd()
        .args([
            "audit",
            "spans.jsonl",
            "--format",
            "json",
            "--out",
            "out",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("spans.jsonl: read as langfuse, none of its 1 line is a call; if it is another kind of log, name its format (--input-format gateway)"),
        "{err}"
    );
}

/// The logged cost of calls on a model the catalog cannot price is said in
/// the reconciliation (marked unpriced, nothing computed): the one figure
/// of their money, which the totals leave out.
#[test]
fn logged_cost_of_unpriced_models_is_reconciled_as_unpriced() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        concat!(
            r#"{"timestamp":"2025-09-02T10:00:00Z","model":"ft:gpt-4.1-2025-04-14:acme::abc","cost":4.2,"usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
            "\n",
            r#"{"timestamp":"2025-09-02T10:00:01Z","model":"gpt-4o","cost":0.0035,"usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["calls.jsonl"]);
    // gpt-4o: 1,000 × $2.50/M + 100 × $10/M = $0.0035, as logged.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0035");
    assert_eq!(
        r["audit"]["reconciliation"],
        serde_json::json!([
            {"model": "ft:gpt-4.1-2025-04-14:acme::abc", "calls": 1, "logged": "4.20",
             "computed": "0.00", "difference": "4.20", "calls_differing": 0,
             "difference_per_call": "0.00", "unpriced": true},
            {"model": "gpt-4o", "calls": 1, "logged": "0.0035",
             "computed": "0.0035", "difference": "0.00", "calls_differing": 0,
             "difference_per_call": "0.00", "unpriced": false},
        ])
    );
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("Calls of models the catalog has no price for logged $4.20, which the totals above leave out"),
        "{md}"
    );
    assert!(
        md.contains("| 4.2000 | not priced | – |") || md.contains("not priced"),
        "{md}"
    );
}

/// LiteLLM's spend logs exported through a database's JSON column: the
/// `metadata` object as JSON text, in JSON lines and in a Parquet string
/// column, is read as the object (its cache reads, its key alias).
#[test]
fn litellm_metadata_given_as_json_text_is_read_as_the_object() {
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    use std::sync::Arc;
    let env = Env::new();
    let metadata = r#"{"user_api_key_alias": "svc", "additional_usage_values": {"prompt_tokens_details": {"cached_tokens": 400}}, "status": "success"}"#;
    let line = serde_json::json!({
        "request_id": "chatcmpl-1", "spend": 0.0045, "prompt_tokens": 1000,
        "completion_tokens": 200, "startTime": "2025-09-02 10:00:00.123",
        "model": "gpt-4o", "custom_llm_provider": "openai",
        "metadata": metadata, "request_tags": "[\"feature:chat\"]", "status": "success"
    });
    env.write("logs/spend.jsonl", format!("{line}\n"));
    let text = |v: &str| Arc::new(StringArray::from(vec![v])) as ArrayRef;
    let int = |v: i64| Arc::new(Int64Array::from(vec![v])) as ArrayRef;
    crate::inputs::write_parquet(
        &env.path("logs/spend.parquet"),
        vec![
            ("request_id", text("chatcmpl-2")),
            ("prompt_tokens", int(1000)),
            ("completion_tokens", int(200)),
            ("startTime", text("2025-09-02 10:00:01.123")),
            ("model", text("gpt-4o")),
            ("metadata", text(metadata)),
            ("request_tags", text("[\"feature:chat\"]")),
        ],
    );
    let r = env.audit(&["logs", "--strict"]);
    // gpt-4o: 600 uncached × $2.50/M = $0.0015 + 400 cached × $1.25/M =
    // $0.0005 + 200 out × $10/M = $0.002: $0.004 each (the JSON line's
    // logged spend, $0.0045, priced the cache as input). Before, $0.0045.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.008");
    assert_eq!(r["audit"]["totals"]["cached_read_tokens"], 800);
    assert_eq!(usd(&row(&r, "feature", "chat")["cost"]), "0.008");
}

/// Streamed responses logged chunk by chunk, or event by event: the chunks
/// and events without usage are no calls (not rejected lines, so --strict
/// passes); the last chunk, `response.completed` and a failed stream's
/// `response.failed` are.
#[test]
fn streaming_chunks_and_events_without_usage_are_not_calls() {
    let env = Env::new();
    env.write(
        "stream.jsonl",
        concat!(
            r#"{"id":"chatcmpl-A","object":"chat.completion.chunk","created":1756800000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}"#,
            "\n",
            r#"{"id":"chatcmpl-A","object":"chat.completion.chunk","created":1756800000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}"#,
            "\n",
            r#"{"id":"chatcmpl-A","object":"chat.completion.chunk","created":1756800000,"model":"gpt-4o-2024-08-06","choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":200,"total_tokens":1200}}"#,
            "\n",
            r#"{"type":"response.created","sequence_number":0,"response":{"id":"resp_9","object":"response","created_at":1756807200,"status":"in_progress","model":"gpt-5-mini-2025-08-07","output":[],"usage":null}}"#,
            "\n",
            r#"{"type":"response.output_text.delta","sequence_number":2,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi"}"#,
            "\n",
            r#"{"type":"response.completed","sequence_number":3,"response":{"id":"resp_9","object":"response","created_at":1756807200,"status":"completed","model":"gpt-5-mini-2025-08-07","output":[],"usage":{"input_tokens":1000000,"input_tokens_details":{"cached_tokens":0},"output_tokens":100000,"output_tokens_details":{"reasoning_tokens":60000},"total_tokens":1100000}}}"#,
            "\n",
            r#"{"type":"response.failed","sequence_number":3,"response":{"id":"resp_11","object":"response","created_at":1756807200,"status":"failed","error":{"code":"server_error","message":"x"},"model":"gpt-5-mini-2025-08-07","output":[],"usage":null}}"#,
            "\n",
            // A chunk whose gateway logs a cost of 0 is still no call.
            r#"{"id":"chatcmpl-B","object":"chat.completion.chunk","model":"gpt-4o","cost":0,"usage":null}"#,
            "\n",
            // Failed by its HTTP code alone: a failed call, as before.
            r#"{"type":"response.done","model":"gpt-4o","http_status":500}"#,
            "\n",
        ),
    );
    let r = env.audit(&["stream.jsonl", "--strict"]);
    // gpt-4o: 1,000 × $2.50/M + 200 × $10/M = $0.0045; gpt-5-mini:
    // 1,000,000 × $0.25/M + 100,000 × $2/M = $0.45. Before, the four
    // lines without usage were rejected (missing_usage, missing_model).
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.4545");
    assert_eq!(r["audit"]["totals"]["calls"], 4);
    assert_eq!(r["audit"]["totals"]["failed_calls"], 2);
    assert_eq!(r["audit"]["input"]["rejected"], 0);
    assert_eq!(r["audit"]["input"]["skipped"], 5);
}

/// OpenAI's background responses polled and logged as they go: the
/// `queued` and `in_progress` objects (no usage) are no calls, not lines
/// rejected without usage (which failed `--strict`); the completed one is
/// the call (hunt34).
#[test]
fn background_responses_logged_before_they_finish_are_not_calls() {
    let env = Env::new();
    let line = |t: &str, status: &str, usage: &str| {
        format!(
            r#"{{"timestamp":"2026-01-06T10:0{t}:00Z","feature":"research","response":{{"id":"resp_bg1","object":"response","created_at":1767693600,"status":"{status}","background":true,"model":"o3-deep-research-2025-06-26","output":[],"usage":{usage}}}}}"#
        ) + "\n"
    };
    env.write(
        "bg.jsonl",
        line("0", "queued", "null")
            + &line("1", "in_progress", "null")
            + &line(
                "5",
                "completed",
                r#"{"input_tokens":50000,"input_tokens_details":{"cached_tokens":0},"output_tokens":10000,"output_tokens_details":{"reasoning_tokens":8000},"total_tokens":60000}"#,
            )
            // A line that says it failed is a failed call whatever its
            // status word (hunt35).
            + r#"{"timestamp":"2026-01-06T10:07:00Z","model":"gpt-4o-mini","status":"running","http_status":500}"#
            + "\n",
    );
    let r = env.audit(&["bg.jsonl", "--strict"]);
    // o3-deep-research: 50,000 × $10/M + 10,000 × $40/M = $0.90.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.90");
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(r["audit"]["totals"]["failed_calls"], 1);
    assert_eq!(r["audit"]["input"]["rejected"], 0);
    assert_eq!(r["audit"]["input"]["skipped_by_reason"]["not_a_call"], 2);
}

/// xAI's responses carry the exact charge in `usage.cost_in_usd_ticks`
/// (1e-10 USD each): read as the logged cost, so the reconciliation shows
/// what the tokens do not (its server-side tools' fees), where before the
/// report said no call carried a cost (hunt34).
#[test]
fn xai_cost_in_ticks_is_the_logged_cost() {
    let env = Env::new();
    let line = |id: &str, ticks: u64| {
        format!(
            r#"{{"id":"{id}","object":"chat.completion","created":1767952800,"model":"grok-4-0709","usage":{{"prompt_tokens":1000,"completion_tokens":200,"total_tokens":2000,"prompt_tokens_details":{{"cached_tokens":600}},"completion_tokens_details":{{"reasoning_tokens":800}},"cost_in_usd_ticks":{ticks}}}}}"#
        ) + "\n"
    };
    env.write(
        "xai.jsonl",
        line("x-1", 166_500_000) + &line("x-2", 366_500_000),
    );
    let r = env.audit(&["xai.jsonl", "--strict"]);
    // Each: 400 × $3/M + 600 × $0.75/M + (200 + 800) × $15/M = $0.01665;
    // logged 166,500,000 and 366,500,000 ticks = $0.01665 and $0.03665.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0333");
    let rec = &r["audit"]["reconciliation"][0];
    assert_eq!(rec["logged"], "0.0533");
    assert_eq!(rec["computed"], "0.0333");
}

/// Groq's and Cerebras' own responses name no provider, and the model
/// several hosts sell (`openai/gpt-oss-120b`): their marks (`x_groq`,
/// `time_info` with Cerebras' timings) name the host, whose price the
/// catalog has (hunt34: 3× and 5× too low at OpenAI's listed rates). In a
/// `metadata` object they do not, nor does another logger's `time_info`.
#[test]
fn groq_and_cerebras_responses_are_priced_at_their_hosts_rates() {
    let env = Env::new();
    env.write(
        "hosts.jsonl",
        concat!(
            r#"{"id":"chatcmpl-g2","object":"chat.completion","created":1767344820,"model":"openai/gpt-oss-120b","usage":{"queue_time":0.02,"prompt_tokens":2000,"prompt_time":0.05,"completion_tokens":600,"total_tokens":2600,"prompt_tokens_details":{"cached_tokens":1000},"completion_tokens_details":{"reasoning_tokens":400}},"x_groq":{"id":"req_2"},"service_tier":"on_demand"}"#,
            "\n",
            r#"{"id":"chatcmpl-c1","object":"chat.completion","created":1767952800,"model":"gpt-oss-120b","usage":{"prompt_tokens":1000000,"completion_tokens":1000000,"total_tokens":2000000},"time_info":{"queue_time":0.0001,"prompt_time":0.002,"completion_time":0.1,"total_time":0.11}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["hosts.jsonl", "--strict"]);
    // Groq: 1,000 × $0.15/M + 1,000 cached × $0.075/M + 600 × $0.60/M =
    // $0.000585; Cerebras: 1,000,000 × $0.35/M + 1,000,000 × $0.75/M =
    // $1.10.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "1.100585");
    env.write(
        "meta.jsonl",
        r#"{"model":"gpt-oss-120b","usage":{"prompt_tokens":1000000,"completion_tokens":0},"metadata":{"x_groq":{"id":"r"}}}"#,
    );
    let r = env.audit(&["meta.jsonl", "--strict"]);
    // Not Groq's: 1,000,000 × OpenAI's $0.039/M.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.039");
    // A `time_info` of another logger's (no Cerebras timings) names no
    // host.
    env.write(
        "timing.jsonl",
        r#"{"model":"gpt-oss-120b","usage":{"prompt_tokens":1000000,"completion_tokens":0},"time_info":{"started":1,"ended":2}}"#,
    );
    let r = env.audit(&["timing.jsonl", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.039");
    // Nor does an `x_groq` with no value (hunt35: a null, an empty cell).
    env.write(
        "null.jsonl",
        r#"{"model":"gpt-oss-120b","usage":{"prompt_tokens":1000000,"completion_tokens":0},"x_groq":null}
{"model":"gpt-oss-120b","usage":{"prompt_tokens":1000000,"completion_tokens":0},"x_groq":""}"#,
    );
    let r = env.audit(&["null.jsonl", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.078");
}

/// Image-generation models are priced at their token rates as text (the
/// catalog has no image-token rates): counted and said, where the report
/// said nothing of it (hunt34: 3× to 12× under on image output).
#[test]
fn calls_to_image_models_are_said_priced_as_text() {
    let env = Env::new();
    env.write(
        "img.jsonl",
        concat!(
            r#"{"timestamp":"2026-01-06T10:00:00Z","model":"gpt-image-1.5","usage":{"input_tokens":1000,"output_tokens":4160}}"#,
            "\n",
            r#"{"timestamp":"2026-01-06T10:01:00Z","model":"gpt-4o-mini","usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
            "\n",
            // A failed call without tokens cost nothing: not counted.
            r#"{"timestamp":"2026-01-06T10:02:00Z","model":"gpt-image-1.5","status":"error","http_status":500}"#,
            "\n",
            // Gemini 2.0 Flash's image generation resolves to the text
            // model by its name's prefix: counted by the name logged
            // (hunt164).
            r#"{"timestamp":"2026-01-06T10:03:00Z","model":"gemini-2.0-flash-exp-image-generation","usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":1290,"candidatesTokensDetails":[{"modality":"IMAGE","tokenCount":1290}]}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["img.jsonl", "--strict"]);
    // gpt-image-1.5 at its text rates: 1,000 × $5/M + 4,160 × $10/M =
    // $0.0466; gpt-4o-mini: 1,000 × $0.15/M + 100 × $0.60/M = $0.00021;
    // gemini-2.0-flash: 20 × $0.10/M + 1,290 × $0.40/M = $0.000518.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.047328");
    assert_eq!(r["audit"]["image_model_calls_at_text_rates"], 2);
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("2 calls went to image-generation models"),
        "{md}"
    );
}

/// Cohere's v1 chat responses give the billed counts in `meta.billed_units`
/// (its `meta.tokens` count the prompt template too).
#[test]
fn cohere_v1_billed_units_are_read() {
    let env = Env::new();
    env.write(
        "cohere.jsonl",
        r#"{"timestamp":"2025-09-02T10:00:00Z","response_id":"r1","generation_id":"g1","text":"hi","model":"command-r-plus-08-2024","meta":{"api_version":{"version":"1"},"billed_units":{"input_tokens":100000,"output_tokens":10000},"tokens":{"input_tokens":100500,"output_tokens":10000}},"finish_reason":"COMPLETE"}"#,
    );
    let r = env.audit(&["cohere.jsonl", "--strict"]);
    // command-r-plus: 100,000 × $2.50/M + 10,000 × $10/M = $0.35. Before,
    // the line was rejected (missing_usage).
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.35");
    assert_eq!(r["audit"]["totals"]["input_tokens"], 100_000);
    assert_eq!(r["audit"]["totals"]["output_tokens"], 10_000);
}

/// Bedrock's cache writes by TTL: Converse's `usage.cacheDetails`, in an
/// invocation log and in a logged pair, and Anthropic's InvokeModel body's
/// `usage.cache_creation`; and Amazon Nova's own cache-read key.
#[test]
fn bedrock_cache_writes_are_priced_by_ttl() {
    let env = Env::new();
    let r = env.audit(&[&fixture("bedrock-cache-ttl"), "--strict"]);
    let files: Vec<(&str, u64)> = r["audit"]["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["format"].as_str().unwrap(),
                f["records"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(files, [("bedrock", 2), ("gateway", 2)]);
    // Claude Sonnet 4.5 on Bedrock's global profile ($3 in, $6 a 1-hour
    // write, $3.75 a 5-minute one): 1,000 in + 100,000 written for an hour
    // = $0.003 + $0.60 = $0.603, three times (it was $0.378: 5-minute
    // writes). Nova Pro ($0.80 in, $0.20 cached, $3.20 out): 20,000 in,
    // 80,000 cached, 1,000 out = $0.016 + $0.016 + $0.0032 = $0.0352 (it
    // was $0.0192: the cache reads unread).
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "1.8442");
    assert_eq!(r["audit"]["totals"]["cache_write_tokens"], 300_000);
    assert_eq!(r["audit"]["totals"]["cached_read_tokens"], 80_000);
    assert_eq!(r["audit"]["cache_write_1h_calls_at_5m_price"], 0);
}

/// A `metadata` object's model, provider or request id is not the call's,
/// as text as well as as an object.
#[test]
fn metadata_text_does_not_name_the_calls_model() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        concat!(
            r#"{"metadata":"{\"model\":\"o1\",\"provider\":\"x\",\"feature\":\"mf\"}","timestamp":"2025-09-02T10:00:00Z","model":"gpt-4o","usage":{"prompt_tokens":1000000,"completion_tokens":0}}"#,
            "\n",
            r#"{"metadata":{"model":"o1","provider":"x","feature":"mf"},"timestamp":"2025-09-02T10:00:01Z","model":"gpt-4o","usage":{"prompt_tokens":1000000,"completion_tokens":0}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["calls.jsonl", "--strict"]);
    // gpt-4o twice, 1,000,000 at $2.50/M (o1 would be $15 each).
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "5.00");
    assert_eq!(usd(&row(&r, "feature", "mf")["cost"]), "5.00");
}

/// An OTel span's response model prices the call when the catalog knows
/// it; one the catalog lacks falls back to the requested model, as a
/// gateway line's logged response does.
#[test]
fn otlp_response_model_the_catalog_lacks_falls_back_to_the_request() {
    let env = Env::new();
    let span = |id: u32, request: &str, response: &str| {
        format!(
            r#"{{"traceId":"t","spanId":"{id:016}","name":"chat","kind":3,"startTimeUnixNano":"1790880363250000000","endTimeUnixNano":"1790880364250000000","attributes":[{{"key":"gen_ai.operation.name","value":{{"stringValue":"chat"}}}},{{"key":"gen_ai.provider.name","value":{{"stringValue":"openai"}}}},{{"key":"gen_ai.request.model","value":{{"stringValue":"{request}"}}}},{{"key":"gen_ai.response.model","value":{{"stringValue":"{response}"}}}},{{"key":"gen_ai.usage.input_tokens","value":{{"intValue":"10000"}}}},{{"key":"gen_ai.usage.output_tokens","value":{{"intValue":"1000"}}}}],"status":{{}}}}"#
        )
    };
    let spans = [
        span(1, "gpt-4o-mini", "gpt-4o-mini-2099-01-01-preview"),
        span(2, "my-azure-deployment", "gpt-4.1-2025-04-14"),
    ]
    .join(",");
    env.write(
        "traces.jsonl",
        format!(r#"{{"resourceSpans":[{{"resource":{{"attributes":[]}},"scopeSpans":[{{"scope":{{"name":"s"}},"spans":[{spans}]}}]}}]}}"#),
    );
    let r = env.audit(&["traces.jsonl"]);
    // gpt-4o-mini (the response's snapshot is unknown): 10,000 × 0.15 +
    // 1,000 × 0.60 = $0.0021; gpt-4.1 (the deployment's name is unknown):
    // 10,000 × 2 + 1,000 × 8 = $0.028. Before, the first was unpriced.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0301");
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(usd(&row(&r, "model", "gpt-4o-mini")["cost"]), "0.0021");
    assert_eq!(usd(&row(&r, "model", "gpt-4.1")["cost"]), "0.028");
}

/// Langfuse exports: `totalCost: 0` beside the cost Langfuse computed is no
/// cost given (the reconciliation said half the spend was logged), and the
/// SDK's `usage` may carry its costs beside the counts (the call was
/// rejected over `inputCost`).
#[test]
fn langfuse_zero_total_cost_and_usage_costs() {
    let env = Env::new();
    let obs = |id: &str, extra: &str| {
        format!(
            r#"{{"id":"{id}","traceId":"t1","type":"GENERATION","name":"chat","startTime":"2025-03-01T10:00:00.000Z","model":"gpt-4o",{extra},"calculatedTotalCost":3.5}}"#
        )
    };
    env.write(
        "observations.jsonl",
        [
            obs("g1", r#""usageDetails":{"input":1000000,"output":100000},"totalCost":null"#),
            obs("g2", r#""usageDetails":{"input":1000000,"output":100000},"totalCost":0"#),
            obs("g3", r#""usage":{"input":1000000,"output":100000,"total":1100000,"unit":"TOKENS","inputCost":2.5,"outputCost":1.0,"totalCost":3.5}"#),
        ]
        .join("\n"),
    );
    let r = env.audit(&["observations.jsonl", "--strict"]);
    // gpt-4o: 1,000,000 × $2.50/M + 100,000 × $10/M = $3.50 a call.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "10.50");
    assert_eq!(r["audit"]["totals"]["calls"], 3);
    let rec = &r["audit"]["reconciliation"][0];
    assert_eq!(rec["model"], "gpt-4o");
    assert_eq!(usd(&rec["logged"]), "10.50");
    assert_eq!(usd(&rec["computed"]), "10.50");
}

/// pydantic-ai's agent run before it named the operation (an agent's name,
/// the run's token totals, no model) is not a call beside its model span
/// (it was a `missing_model` reject that failed --strict); spans under the
/// pre-0.15 key `instrumentationLibrarySpans` are read (they were skipped
/// as "0 spans").
#[test]
fn otlp_agent_roll_ups_and_old_span_keys() {
    let env = Env::new();
    env.write(
        "traces.jsonl",
        concat!(
            r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},"scopeSpans":[{"scope":{"name":"x"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"c1","name":"chat gpt-4o","kind":3,"startTimeUnixNano":"1761000000000000000","endTimeUnixNano":"1761000001000000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.system","value":{"stringValue":"openai"}},{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},{"key":"gen_ai.response.model","value":{"stringValue":"gpt-4o-2024-08-06"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"100000"}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"10000"}},{"key":"model_request_parameters","value":{"stringValue":"{}"}}],"status":{},"parentSpanId":"a1"},{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"a1","name":"support run","kind":3,"startTimeUnixNano":"1761000000000000000","endTimeUnixNano":"1761000001000000000","attributes":[{"key":"model_name","value":{"stringValue":"gpt-4o"}},{"key":"agent_name","value":{"stringValue":"support"}},{"key":"gen_ai.agent.name","value":{"stringValue":"support"}},{"key":"logfire.msg","value":{"stringValue":"support run"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"100000"}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"10000"}}],"status":{}}]}]}]}"#,
            "\n",
            r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},"instrumentationLibrarySpans":[{"scope":{"name":"x"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"c1","name":"span","kind":3,"startTimeUnixNano":"1761000000000000000","endTimeUnixNano":"1761000001000000000","attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"1000000"}},{"key":"gen_ai.usage.output_tokens","value":{"intValue":"100000"}}],"status":{}}]}]}]}"#,
            "\n",
        ),
    );
    let r = env.audit(&["traces.jsonl", "--strict"]);
    // gpt-4o: 100,000 × $2.50/M + 10,000 × $10/M = $0.35; the old key's
    // 1,000,000 × 2.5 + 100,000 × 10 = $3.50.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "3.85");
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(r["audit"]["input"]["rejected"], 0);
}

/// Amazon Bedrock's batch inference output (`records.jsonl.out` in a
/// folder): Anthropic's messages at Bedrock's batch rates; a record that
/// failed is not billed; Nova's output names no model.
#[test]
fn bedrock_batch_output_is_read_at_batch_rates() {
    let env = Env::new();
    let input = r#""modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}"#;
    env.write(
        "batch/job-1/records.jsonl.out",
        format!(
            "{}\n{}\n{}\n",
            format_args!(r#"{{"recordId":"r0",{input},"error":{{"errorCode":400,"errorMessage":"Malformed input request"}}}}"#),
            format_args!(r#"{{"recordId":"r1",{input},"modelOutput":{{"id":"msg_bdrk_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{{"type":"text","text":"x"}}],"stop_reason":"end_turn","usage":{{"input_tokens":100000,"output_tokens":1000}}}}}}"#),
            format_args!(r#"{{"recordId":"r2","modelInput":{{"messages":[]}},"modelOutput":{{"output":{{"message":{{"role":"assistant","content":[]}}}},"stopReason":"end_turn","usage":{{"inputTokens":10,"outputTokens":5}}}}}}"#),
        ),
    );
    let r = env.audit(&["batch"]);
    // Claude Sonnet 4.5 on Bedrock in its region ($3.30 / $16.50): 100,000
    // × 3.3 + 1,000 × 16.5 = $0.3465, half at batch rates: $0.17325.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.17325");
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    assert_eq!(r["audit"]["batch_calls_at_full_price"], 0);
    assert_eq!(r["audit"]["input"]["files"][0]["format"], "bedrock-batch");
    assert_eq!(skipped(&r)["not_billed"], 1);
    assert_eq!(r["audit"]["input"]["rejected"], 1);
    assert_eq!(
        r["audit"]["input"]["rejected_samples"][0]["reason"],
        "missing_model"
    );
}

/// A Langfuse trace as its API returns one (`GET /api/public/traces/{id}`:
/// the trace's fields, then its observations): the observations are
/// attributed to the trace's name, user, session and tags, which they do
/// not carry (all of it was `(none)`).
#[test]
fn a_langfuse_trace_attributes_its_observations() {
    let env = Env::new();
    // Pretty, in the API's key order (the trace's fields first).
    env.write(
        "trace.json",
        r#"{
  "id": "tr-1",
  "timestamp": "2025-03-01T10:00:00.000Z",
  "name": "support-chat",
  "userId": "u1",
  "sessionId": "s1",
  "tags": [
    "prod"
  ],
  "totalCost": 7.0,
  "latency": 2.0,
  "observations": [
    {
      "id": "obs-1",
      "traceId": "tr-1",
      "type": "GENERATION",
      "name": "ChatOpenAI",
      "startTime": "2025-03-01T10:00:00.000Z",
      "endTime": "2025-03-01T10:00:02.000Z",
      "completionStartTime": null,
      "model": "gpt-4o",
      "modelParameters": {
        "max_tokens": "1024"
      },
      "level": "DEFAULT",
      "statusMessage": null,
      "parentObservationId": "p",
      "usageDetails": {
        "input": 1000000,
        "output": 100000,
        "total": 1100000
      },
      "costDetails": {
        "input": 2.5,
        "output": 1.0,
        "total": 3.5
      },
      "calculatedTotalCost": 3.5,
      "totalCost": 3.5
    },
    {
      "id": "obs-2",
      "traceId": "tr-1",
      "type": "GENERATION",
      "name": "ChatOpenAI",
      "startTime": "2025-03-01T10:00:00.000Z",
      "endTime": "2025-03-01T10:00:02.000Z",
      "completionStartTime": null,
      "model": "gpt-4o",
      "modelParameters": {
        "max_tokens": "1024"
      },
      "level": "DEFAULT",
      "statusMessage": null,
      "parentObservationId": "p",
      "usageDetails": {
        "input": 1000000,
        "output": 100000,
        "total": 1100000
      },
      "costDetails": {
        "input": 2.5,
        "output": 1.0,
        "total": 3.5
      },
      "calculatedTotalCost": 3.5,
      "totalCost": 3.5
    },
    {
      "id": "obs-3",
      "traceId": "tr-1",
      "type": "SPAN",
      "name": "ChatOpenAI",
      "startTime": "2025-03-01T10:00:00.000Z",
      "endTime": "2025-03-01T10:00:02.000Z",
      "completionStartTime": null,
      "model": null,
      "modelParameters": {
        "max_tokens": "1024"
      },
      "level": "DEFAULT",
      "statusMessage": null,
      "parentObservationId": "p",
      "usageDetails": {},
      "costDetails": {},
      "calculatedTotalCost": 3.5,
      "totalCost": 3.5
    }
  ],
  "scores": [],
  "htmlPath": "/project/x/traces/tr-1"
}"#,
    );
    let r = env.audit(&["trace.json", "--strict"]);
    // Two gpt-4o generations of 1,000,000 in and 100,000 out: 2.50 + 1.00
    // = $3.50 each.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "7.00");
    assert_eq!(
        r["audit"]["input"]["files"][0]["format"],
        "langfuse (API page)"
    );
    assert_eq!(cost_of(&r, "feature", "support-chat"), "7.00");
    assert_eq!(cost_of(&r, "user", "u1"), "7.00");
    assert_eq!(cost_of(&r, "session", "s1"), "7.00");
    let tags = r["audit"]["tags"].as_array().unwrap();
    assert!(
        tags.iter()
            .any(|t| t["key"] == "tag=prod" && t["cost"] == "7.00"),
        "{tags:?}"
    );
}

/// A file of Langfuse trace pages, one a line, whose first line was cut
/// in its second observation (an exporter killed mid-write): the cut
/// observation is one rejected line, and the pages after it are read (they
/// were lost, silently: 1 call of 3, $0.0035).
#[test]
fn a_cut_page_in_a_file_of_pages_loses_no_later_page() {
    let env = Env::new();
    let obs = |id: &str, second: u32| {
        format!(
            r#"{{"id": "{id}", "traceId": "t1", "type": "GENERATION", "name": "gen", "startTime": "2026-10-01T08:00:0{second}.000Z", "model": "gpt-4o", "usageDetails": {{"input": 1000, "output": 100}}}}"#
        )
    };
    let page = |id: &str, name: &str, body: &str| {
        format!(
            r#"{{"id": "{id}", "name": "{name}", "userId": "u{name}", "observations": [{body}]}}"#
        )
    };
    let first = page("t1", "A", &format!("{}, {}", obs("o1", 1), obs("o2", 2)));
    // Cut inside o2's usage.
    let cut = &first[..first.find(r#""output": 100}}]"#).unwrap() + 12];
    let text = format!(
        "{cut}\n{}\n{}\n",
        page("t2", "B", &obs("o3", 3)),
        page("t3", "C", &obs("o4", 4))
    );
    env.write("pages.jsonl", &text);
    let r = env.audit(&["pages.jsonl"]);
    // Three gpt-4o calls of 1,000 in and 100 out: 0.0025 + 0.001 each.
    assert_eq!(r["audit"]["totals"]["calls"], 3);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0105");
    assert_eq!(cost_of(&r, "feature", "B"), "0.0035");
    assert_eq!(cost_of(&r, "user", "uC"), "0.0035");
    assert_eq!(rejected(&r)["malformed_json"], 1, "{}", rejected(&r));
}

/// Rows of a mapping whose reasoning count is larger than their output
/// count, which `output_includes_reasoning` (true, its default) says holds
/// it, are read with it beside; the warning says the other rows were read
/// with it inside, and how to say otherwise (hunt167: a Gemini CSV, its
/// candidates beside its thoughts, −19% without a word). Declared, each row
/// is read so.
#[test]
fn rows_read_in_the_other_reasoning_convention_are_said() {
    let env = Env::new();
    env.write(
        "gemini.csv",
        "Time,Model,Input Tokens,Output Tokens,Thinking Tokens
\
         2026-11-01 00:00:00,gemini-2.5-flash,100000,10000,20000
\
         2026-11-01 00:00:01,gemini-2.5-flash,100000,30000,20000
",
    );
    let mapping = "[mapping]\ntimestamp = \"Time\"\nmodel = \"Model\"\ninput_tokens = \"Input Tokens\"\noutput_tokens = \"Output Tokens\"\nreasoning_tokens = \"Thinking Tokens\"\n";
    env.write("map.toml", mapping);
    let run = |config: &str| {
        let out = env
            .cmd()
            .args([
                "audit",
                "gemini.csv",
                "--config",
                config,
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
    // Gemini 2.5 Flash (0.30 in, 2.50 out): 200,000 × 0.30 + (30,000 +
    // 30,000) × 2.50 = $0.21, the second row's thoughts inside its output.
    let (cost, err) = run("map.toml");
    assert_eq!(cost, "0.21");
    assert!(
        err.contains("warning: [mapping] 1 row has more reasoning_tokens than output_tokens")
            && err.contains("set output_includes_reasoning = false"),
        "{err}"
    );
    // Declared: (30,000 + 50,000) × 2.50 = $0.20 of output, $0.26 in all.
    env.write(
        "beside.toml",
        format!("{mapping}output_includes_reasoning = false\n"),
    );
    let (cost, err) = run("beside.toml");
    assert_eq!(cost, "0.26");
    assert!(!err.contains("reasoning_tokens"), "{err}");
}

/// Two exports joined, the second's columns in another order or one more:
/// its rows are read under its own header (hunt172: under the first's,
/// input and output swapped, +89%; with a column more, every row rejected).
#[test]
fn a_second_export_is_read_under_its_own_header() {
    let env = Env::new();
    let first =
        "timestamp,model,prompt_tokens,completion_tokens\n2026-10-01T10:00:00Z,gpt-4o,1000,200\n";
    for second in [
        "timestamp,model,completion_tokens,prompt_tokens\n2026-10-02T10:00:00Z,gpt-4o,200,1000\n2026-10-02T11:00:00Z,gpt-4o,200,1000\n",
        "timestamp,model,completion_tokens,prompt_tokens,user\n2026-10-02T10:00:00Z,gpt-4o,200,1000,u1\n2026-10-02T11:00:00Z,gpt-4o,200,1000,u2\n",
    ] {
        env.write("joined.csv", format!("{first}{second}"));
        let r = env.audit(&["joined.csv", "--strict"]);
        // 3 × (1,000 × 2.50 + 200 × 10) = $0.0135.
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0135", "{second}");
        assert_eq!(r["audit"]["totals"]["input_tokens"], 3_000);
    }
}

/// A spreadsheet's totals row (token counts that are the sums of the rows
/// above, no time) is no call: skipped and said (hunt172: priced as one
/// more call, the bill doubled, exit 0 with `--strict`). A call whose
/// counts happen to be the others' sums, with its time, is a call.
#[test]
fn a_spreadsheets_totals_row_is_no_call() {
    let env = Env::new();
    env.write(
        "calls.csv",
        "timestamp,model,prompt_tokens,completion_tokens\n\
         2026-10-01T10:00:00Z,gpt-4o-mini,1000,500\n\
         2026-10-01T11:00:00Z,gpt-4o-mini,1000,500\n\
         2026-10-01T12:00:00Z,gpt-4o-mini,2000,1000\n\
         ,Total,4000,2000\n",
    );
    let r = env.audit(&["calls.csv", "--strict"]);
    // gpt-4o-mini (0.15 in, 0.60 out): 4,000 × 0.15 + 2,000 × 0.60 = $0.0018.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0018");
    assert_eq!(r["audit"]["totals"]["calls"], 3);
    assert_eq!(skipped(&r)["not_a_call"], 1, "{}", skipped(&r));
    // Its cost summed too, its label empty, or another (hunt179: a call).
    for (label, file) in [
        ("", "cost.csv"),
        ("Subtotal", "sub.csv"),
        ("Total (USD)", "usd.csv"),
    ] {
        env.write(
            file,
            format!(
                "timestamp,model,prompt_tokens,completion_tokens,cost_usd\n\
             2026-10-01T10:00:00Z,gpt-4o-mini,1000,500,0.00045\n\
             2026-10-01T11:00:00Z,gpt-4o-mini,1000,500,0.00045\n\
             2026-10-01T12:00:00Z,gpt-4o-mini,2000,1000,0.0009\n\
             ,{label},4000,2000,0.0018\n"
            ),
        );
        let r = env.audit(&[file, "--strict"]);
        assert_eq!(r["audit"]["totals"]["calls"], 3, "{file}");
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0018", "{file}");
    }
    // With a time it is a call: 4,000 more in, 2,000 more out.
    env.write(
        "timed.csv",
        "timestamp,model,prompt_tokens,completion_tokens\n\
         2026-10-01T10:00:00Z,gpt-4o-mini,1000,500\n\
         2026-10-01T11:00:00Z,gpt-4o-mini,3000,1500\n\
         2026-10-01T12:00:00Z,gpt-4o-mini,4000,2000\n",
    );
    let r = env.audit(&["timed.csv", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0036");
    assert_eq!(r["audit"]["totals"]["calls"], 3);
    // Identical calls after a failure, their time in a column the reader
    // knows by another name (`ts`), or with no time column at all: calls
    // (hunt178: 2 calls of 5, −75%). 4 × (120 × 0.15 + 1 × 0.60) =
    // $0.0000744.
    for time in ["ts", "status"] {
        let rows: String = (0..5)
            .map(|i| {
                let (input, output, status) = if i == 0 {
                    (0, 0, "error")
                } else {
                    (120, 1, "ok")
                };
                let first = if time == "ts" {
                    format!("2026-10-01T10:00:0{i}Z")
                } else {
                    status.to_string()
                };
                format!("{first},gpt-4o-mini,{input},{output}\n")
            })
            .collect();
        env.write(
            "same.csv",
            format!("{time},model,prompt_tokens,completion_tokens\n{rows}"),
        );
        let r = env.audit(&["same.csv"]);
        assert_eq!(r["audit"]["totals"]["calls"], 5, "{time}");
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0000744", "{time}");
    }
}

/// Gemini responses flattened to CSV (json_normalize's dotted headers):
/// `candidatesTokenCount` holds the letters of "date" and is no time column,
/// whose numbers from 20,000 to 79,999 would be a spreadsheet's serial days
/// (hunt172: the call rejected, −61%).
#[test]
fn a_count_column_is_no_time_column_whatever_its_letters() {
    let env = Env::new();
    env.write(
        "gemini.csv",
        "createTime,modelVersion,responseId,usageMetadata.promptTokenCount,usageMetadata.candidatesTokenCount,usageMetadata.thoughtsTokenCount,usageMetadata.totalTokenCount\n\
         2026-12-01T10:00:00.000000Z,gemini-2.5-flash,r1,1000,30000,2000,33000\n\
         2026-12-01T11:00:00.000000Z,gemini-2.5-flash,r2,1000,19999,0,20999\n",
    );
    let r = env.audit(&["gemini.csv", "--strict"]);
    // Gemini 2.5 Flash (0.30 in, 2.50 out, thoughts as output): 1,000 ×
    // 0.30 + 32,000 × 2.50 = $0.0803; 1,000 × 0.30 + 19,999 × 2.50 =
    // $0.0502975.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.1305975");
    assert_eq!(r["audit"]["totals"]["calls"], 2);
}

/// A mapped `cache_hit` path no line has a flag at is said, as a
/// misspelled `batch` or `status` path is (hunt167: the gateway's cache
/// hits billed without a word, +33%).
#[test]
fn a_mapped_cache_hit_path_no_line_has_is_said() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        "{\"ts\":\"2026-11-01T00:00:00Z\",\"model\":\"gpt-4o\",\"in\":1000000,\"out\":100000,\"cache\":{\"hit\":false}}\n\
         {\"ts\":\"2026-11-01T00:00:01Z\",\"model\":\"gpt-4o\",\"in\":1000000,\"out\":100000,\"cache\":{\"hit\":true}}\n",
    );
    let run = |path: &str| {
        env.write(
            "map.toml",
            format!("[mapping]\ntimestamp = \"ts\"\nmodel = \"model\"\ninput_tokens = \"in\"\noutput_tokens = \"out\"\ncache_hit = \"{path}\"\n"),
        );
        let out = env
            .cmd()
            .args([
                "audit",
                "calls.jsonl",
                "--config",
                "map.toml",
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
    // gpt-4o (2.50 in, 10 out): 1,000,000 × 2.50 + 100,000 × 10 = $3.50 a
    // call; the cache's answer is not billed.
    let (cost, err) = run("cache.hit");
    assert_eq!(cost, "3.50");
    assert!(!err.contains("cache_hit"), "{err}");
    let (cost, err) = run("cache_hit");
    assert_eq!(cost, "7.00");
    assert!(
        err.contains("warning: [mapping] cache_hit = \"cache_hit\": no line read with the mapping has a value there, so no call is known to have been answered from a cache"),
        "{err}"
    );
}

/// A `[mapping]` token column that no row has (`input_tokns`): a warning
/// names the path (it was silent), and its calls count what the gateway
/// reader finds by its common names, here the file's `input_tokens`
/// ($0.0105, as the right name gives; they counted no input, $0.003, until
/// hunt127's misspelled path beside a usage object rejected the call).
#[test]
fn a_mapped_token_column_no_row_has_is_said() {
    let env = Env::new();
    env.write(
        "export.csv",
        "date,model,input_tokens,output_tokens\n2026-10-06,gpt-4o,1000,100\n2026-10-07,gpt-4o,2000,200\n",
    );
    env.write(
        "typo.toml",
        "[mapping]\ntimestamp = \"date\"\nmodel = \"model\"\ninput_tokens = \"input_tokns\"\noutput_tokens = \"output_tokens\"\n",
    );
    let out = env
        .cmd()
        .args([
            "audit",
            "export.csv",
            "--config",
            "typo.toml",
            "--out",
            "out",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: [mapping] input_tokens = \"input_tokns\": no line read with the mapping has a count there"),
        "{err}"
    );
    // 3,000 input × $2.50 + 300 output × $10 per million.
    assert_eq!(usd(&env.report()["audit"]["totals"]["cost"]), "0.0105");
    // A column that is there but always empty is said the same way, and
    // is no error: --strict writes the report.
    env.write(
        "empty.csv",
        "date,model,input_tokens,output_tokens,cached\n2026-10-06,gpt-4o,1000,100,\n",
    );
    env.write(
        "cached.toml",
        "[mapping]\ntimestamp = \"date\"\nmodel = \"model\"\ninput_tokens = \"input_tokens\"\noutput_tokens = \"output_tokens\"\ncached_read_tokens = \"cached\"\n",
    );
    let strict = env
        .cmd()
        .args([
            "audit",
            "empty.csv",
            "--config",
            "cached.toml",
            "--out",
            "out2",
            "--strict",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(strict.status.success());
    assert!(String::from_utf8_lossy(&strict.stderr)
        .contains("cached_read_tokens = \"cached\": no line"));
}

/// A mapped label or model path no line has is said, as a count path is
/// (hunt65: a misspelled `feature` made every call's feature `(none)`
/// without a word, a misspelled `model` was said only as "none of its
/// lines is a call"); a path some line has is not.
#[test]
fn a_mapped_label_or_model_path_no_row_has_is_said() {
    let env = Env::new();
    env.write(
        "export.csv",
        "date,llm,app,input_tokens,output_tokens\n2026-10-06,gpt-4o,search,1000,100\n2026-10-07,gpt-4o,,2000,200\n",
    );
    let said = |mapping: &str, window: &[&str]| {
        env.write("m.toml", format!("[mapping]\ntimestamp = \"date\"\ninput_tokens = \"input_tokens\"\noutput_tokens = \"output_tokens\"\n{mapping}"));
        let out = env
            .cmd()
            .args([
                "audit",
                "export.csv",
                "--config",
                "m.toml",
                "--out",
                "out",
                "--quiet",
            ])
            .args(window)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = said("model = \"llm\"\nfeature = \"feature_name\"\n", &[]);
    assert!(
        err.contains("warning: [mapping] feature = \"feature_name\": no line read with the mapping has a value there, so every call's feature is (none)"),
        "{err}"
    );
    let err = said("model = \"modl\"\n", &[]);
    assert!(
        err.contains("warning: [mapping] model = \"modl\": no line read with the mapping has a value there, so every line was rejected as missing its model"),
        "{err}"
    );
    let err = said("model = \"llm\"\nfeature = \"app\"\n", &[]);
    assert!(!err.contains("[mapping]"), "{err}");
    // A misspelled status or messages path, and one of a field no report
    // table shows (hunt167: silent, failures counted as successes).
    let err = said(
        "model = \"llm\"\nstatus = \"Outcome\"\nmessages = \"msgs\"\nrequest_id = \"req\"\nfinish_reason = \"stop\"\n",
        &[],
    );
    // Fields a clean night leaves out (no retries, no streaming, no limit)
    // are no misspelling (hunt169).
    let quiet = said(
        "model = \"llm\"\nretry_of = \"retry\"\nattempt = \"try\"\nttft_ms = \"ttft\"\nmax_tokens = \"max\"\n",
        &[],
    );
    assert!(!quiet.contains("[mapping]"), "{quiet}");
    for said in [
        "warning: [mapping] status = \"Outcome\": no line read with the mapping has a value there, so no call is known to have failed",
        "warning: [mapping] messages = \"msgs\": no line read with the mapping has a value there, so no call's prompt is compared",
        "warning: [mapping] request_id = \"req\": no line read with the mapping has a value there, so no call has its request_id",
        "warning: [mapping] finish_reason = \"stop\": no line read with the mapping has a value there, so no call has its finish_reason",
    ] {
        assert!(err.contains(said), "{said}: {err}");
    }
    // Rows of a model without tokens, and agent rows without a model
    // (Logfire's): the model's path is not blamed (hunt98).
    env.write("m.toml", "[mapping]\nmodel = \"m\"\n");
    env.write(
        "rows.jsonl",
        "{\"m\":\"gpt-4o\",\"kind\":\"chat\"}\n{\"kind\":\"agent run\"}\n",
    );
    let out = env
        .cmd()
        .args([
            "audit",
            "rows.jsonl",
            "--config",
            "m.toml",
            "--out",
            "out",
            "--quiet",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("[mapping] model"), "{err}");
    // The logged cost and a tag, misspelt, are said too (hunt84: silent;
    // the time's is in `time_paths_no_row_has_are_said` below); present,
    // they are not.
    let err = said(
        "model = \"llm\"\ncost = \"dollars\"\n[mapping.tags]\napp = \"ap\"\n",
        &[],
    );
    assert!(
        err.contains("warning: [mapping] cost = \"dollars\": no line read with the mapping has a value there, so no call's logged cost is reconciled with its price"),
        "{err}"
    );
    assert!(
        err.contains("warning: [mapping] tags.app = \"ap\": no line read with the mapping has a value there, so no call has the tag app"),
        "{err}"
    );
    let err = said(
        "model = \"llm\"\ncost = \"input_tokens\"\n[mapping.tags]\napp = \"app\"\n",
        &[],
    );
    assert!(!err.contains("[mapping]"), "{err}");
    // A window that leaves out the lines holding the values says nothing
    // of the mapping (hunt69: said to be misspelled).
    let err = said(
        "model = \"llm\"\nfeature = \"app\"\n",
        &["--since", "2026-10-07"],
    );
    assert!(!err.contains("[mapping]"), "{err}");
}

/// A mapped time path no row has: every call without a time, said
/// (hunt84: silent, the audit priced at today's prices with no days).
#[test]
fn time_paths_no_row_has_are_said() {
    let env = Env::new();
    env.write(
        "export.csv",
        "date,llm,input_tokens,output_tokens\n2026-10-06,gpt-4o,1000,100\n",
    );
    env.write("m.toml", "[mapping]\ntimestamp = \"dat\"\nmodel = \"llm\"\ninput_tokens = \"input_tokens\"\noutput_tokens = \"output_tokens\"\n");
    let out = env
        .cmd()
        .args([
            "audit",
            "export.csv",
            "--config",
            "m.toml",
            "--out",
            "out",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: [mapping] timestamp = \"dat\": no line read with the mapping has a value there, so no call has a time"),
        "{err}"
    );
}

/// The Vercel AI SDK 5 calling Anthropic: its input count is Anthropic's
/// own (without the cache), and cache writes are only in
/// `ai.response.providerMetadata`. claude-sonnet-4-5 ($3 in, $0.30 cached
/// read, $3.75 5-minute write, $15 out per million): 500 in + 8,000 read +
/// 2,000 written + 300 out = $0.0159; 5,000 in + 3,000 read + 100 out =
/// $0.0174; $0.0333 (it said $0.0168: the writes dropped, the second call's
/// 5,000 read as including its 3,000 cached).
#[test]
fn otlp_ai_sdk5_anthropic_usage_is_read_as_exclusive() {
    let r = audit("otlp-ai-sdk5-anthropic", "otlp-json");
    assert_eq!(totals(&r), ("0.0333".into(), 2, 18_500, 11_000, 400, 0));
    assert_eq!(r["audit"]["totals"]["cache_write_tokens"], 2000);
}

/// The same through Google Vertex (`vertex.anthropic.messages`, the same
/// provider code): $0.0333 as above; and a call whose 2,000 writes are
/// 1-hour ones (Anthropic's raw usage in the provider metadata says so):
/// 500 × $3 + 8,000 × $0.30 + 2,000 × $6 + 300 × $15 per million =
/// $0.0204 (at the 5-minute rate it said $0.0159). $0.0537 in all.
#[test]
fn otlp_ai_sdk5_anthropic_on_vertex_and_one_hour_writes() {
    let r = audit("otlp-ai-sdk5-vertex-1h", "otlp-json");
    assert_eq!(totals(&r), ("0.0537".into(), 3, 29_000, 19_000, 700, 0));
    assert_eq!(r["audit"]["totals"]["cache_write_tokens"], 4000);
}

/// What hunt79 found priced wrong in current shapes, each by hand:
/// - gpt-5 (input $1.25, cached $0.125, output $10 a million; flex ×0.5,
///   priority ×2): 10,000 in of which 4,000 cached, 2,000 out is $0.028.
///   OTel spans' `openai.response.service_tier` (`gen_ai.openai.` before
///   semconv 1.37) was a tag: flex $0.014 and priority $0.056 were $0.028.
///   OpenAI's `service_tier: "fast"` (priority renamed, July 2026) is
///   priority's $0.056; `"scale"` (Scale Tier's reserved units) is said as
///   a reserved tier.
/// - gpt-4o-audio-preview (text $2.50 / $10, audio $40 / $80): 1,000 in of
///   which 400 audio, 500 out of which 300 audio is 600 × 2.5 + 400 × 40 +
///   200 × 10 + 300 × 80 = $0.0435. OpenInference's
///   `llm.token_count.*_details.audio` were not read ($0.0075), nor
///   Helicone's `prompt_audio_tokens`/`completion_audio_tokens`, which are
///   beside its prompt and completion counts ($0.0035).
#[test]
fn service_tiers_and_audio_counts_of_current_shapes() {
    let env = Env::new();
    let attr = |k: &str, v: serde_json::Value| match v {
        serde_json::Value::Number(n) => {
            serde_json::json!({"key": k, "value": {"intValue": n.to_string()}})
        }
        v => serde_json::json!({"key": k, "value": {"stringValue": v}}),
    };
    let span = |id: &str, attrs: Vec<(&str, serde_json::Value)>| {
        serde_json::json!({"traceId": "5b8efff798038103d269b633813fc60c", "spanId": id, "name": "chat",
            "startTimeUnixNano": "1790880363250000000", "endTimeUnixNano": "1790880365250000000",
            "attributes": attrs.into_iter().map(|(k, v)| attr(k, v)).collect::<Vec<_>>(), "status": {}})
    };
    let gpt5 = |id: &str, key: &str, tier: &str| {
        span(
            id,
            vec![
                ("gen_ai.operation.name", "chat".into()),
                ("gen_ai.provider.name", "openai".into()),
                ("gen_ai.request.model", "gpt-5".into()),
                ("gen_ai.usage.input_tokens", 10_000.into()),
                ("gen_ai.usage.cache_read.input_tokens", 4_000.into()),
                ("gen_ai.usage.output_tokens", 2_000.into()),
                (key, tier.into()),
            ],
        )
    };
    let spans = vec![
        gpt5("0000000000000001", "openai.response.service_tier", "flex"),
        gpt5(
            "0000000000000002",
            "openai.response.service_tier",
            "priority",
        ),
        gpt5(
            "0000000000000003",
            "gen_ai.openai.response.service_tier",
            "priority",
        ),
        span(
            "0000000000000004",
            vec![
                ("openinference.span.kind", "LLM".into()),
                ("llm.model_name", "gpt-4o-audio-preview".into()),
                ("llm.provider", "openai".into()),
                ("llm.token_count.prompt", 1_000.into()),
                ("llm.token_count.prompt_details.audio", 400.into()),
                ("llm.token_count.completion", 500.into()),
                ("llm.token_count.completion_details.audio", 300.into()),
            ],
        ),
    ];
    let otlp = serde_json::json!({"resourceSpans": [{"resource": {"attributes": [attr("service.name", "svc".into())]},
        "scopeSpans": [{"scope": {"name": "otel"}, "spans": spans}]}]});
    env.write("spans.jsonl", otlp.to_string() + "\n");
    let r = env.audit(&["spans.jsonl"]);
    let costs: Vec<(String, String)> = {
        let mut v: Vec<(String, String)> = r["audit"]["most_expensive_calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["request_id"].as_str().unwrap().to_string(),
                    c["cost"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let want: Vec<(String, String)> = [
        ("0000000000000001", "0.014"),
        ("0000000000000002", "0.056"),
        ("0000000000000003", "0.056"),
        ("0000000000000004", "0.0435"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(costs, want);

    // OpenAI's `fast` and `scale` words on Responses objects.
    let resp = |id: &str, tier: &str| {
        serde_json::json!({"id": id, "object": "response", "created_at": 1790880363, "model": "gpt-5",
            "service_tier": tier, "status": "completed",
            "usage": {"input_tokens": 10000, "input_tokens_details": {"cached_tokens": 4000},
                      "output_tokens": 2000, "output_tokens_details": {"reasoning_tokens": 1500}}})
        .to_string()
    };
    env.write(
        "resp.jsonl",
        [resp("resp_fast", "fast"), resp("resp_scale", "scale")].join("\n") + "\n",
    );
    let r = env.audit(&["resp.jsonl"]);
    // $0.056 + $0.028.
    assert_eq!(r["audit"]["totals"]["cost"], "0.084");
    assert_eq!(r["audit"]["provisioned_calls_at_on_demand_price"], 1);

    // Helicone's audio columns, beside its other counts; Helicone's own
    // cost agrees.
    let helicone = serde_json::json!({"data": [{"request_id": "r1", "request_created_at": "2025-10-01T10:00:00.250Z",
        "response_status": 200, "model": "gpt-4o-audio-preview", "provider": "OPENAI",
        "prompt_tokens": 600, "prompt_cache_write_tokens": 0, "prompt_cache_read_tokens": 0,
        "completion_tokens": 200, "prompt_audio_tokens": 400, "completion_audio_tokens": 300,
        "cost": 0.0435, "cache_reference_id": "00000000-0000-0000-0000-000000000000"}]});
    env.write("helicone.json", helicone.to_string());
    let r = env.audit(&["helicone.json"]);
    assert_eq!(totals(&r).0, "0.0435");
    assert_eq!(
        (
            &r["audit"]["totals"]["input_tokens"],
            &r["audit"]["totals"]["output_tokens"]
        ),
        (&serde_json::json!(1000), &serde_json::json!(500))
    );
    assert_eq!(r["audit"]["reconciliation"][0]["difference"], "0.00");
    // A null prompt count beside the audio: the audio alone (hunt80:
    // rejected as audio above the input). 400 × $40 + 200 × $10 + 300 ×
    // $80 a million: $0.042.
    env.write(
        "helicone-null.json",
        helicone
            .to_string()
            .replace("\"prompt_tokens\":600", "\"prompt_tokens\":null"),
    );
    let r = env.audit(&["helicone-null.json"]);
    assert_eq!(totals(&r).0, "0.042");
}

/// Fast mode: Anthropic's `usage.speed: "fast"` at the model's fast
/// multiple (LiteLLM's `provider_specific_entry.fast`: 2 on Claude Opus 5;
/// claude-opus-5 is $5 / $25 a million, so 1,000 in and 1,000 out cost
/// $0.03, in fast mode $0.06), as a Messages response, a Claude Code line,
/// and OpenAI's `service_tier: "fast"` at its priority rates (gpt-5: $0.056
/// for $0.028). hunt79: every one was priced at standard rates, unsaid.
#[test]
fn fast_mode_is_priced_at_the_models_fast_multiple() {
    let env = Env::new();
    let usage = |speed: &str| {
        serde_json::json!({"input_tokens": 1000, "output_tokens": 1000, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0, "service_tier": "standard", "speed": speed})
    };
    let msg = |id: &str, speed: &str| {
        serde_json::json!({"id": id, "type": "message", "role": "assistant", "model": "claude-opus-5",
            "content": [], "usage": usage(speed), "created_at": "2026-10-01T10:00:00Z"})
        .to_string()
    };
    let cc = serde_json::json!({"type": "assistant", "sessionId": "s1", "cwd": "/p", "uuid": "u1",
        "parentUuid": null, "version": "2.1.0", "isSidechain": false, "userType": "external",
        "timestamp": "2026-10-01T10:00:00.000Z", "requestId": "req_1",
        "message": {"id": "msg_cc", "type": "message", "role": "assistant", "model": "claude-opus-5",
                    "content": [{"type": "text", "text": "x"}], "usage": usage("fast")}});
    env.write(
        "anthropic.jsonl",
        [msg("msg_fast", "fast"), msg("msg_std", "standard")].join("\n") + "\n",
    );
    env.write("claude.jsonl", cc.to_string() + "\n");
    let r = env.audit(&["anthropic.jsonl"]);
    assert_eq!(r["audit"]["totals"]["cost"], "0.09");
    assert_eq!(r["audit"]["tier_calls_at_standard_price"], 0);
    let r = env.audit(&["claude.jsonl"]);
    assert_eq!(r["audit"]["totals"]["cost"], "0.06");
    let resp = serde_json::json!({"id": "resp_f", "object": "response", "created_at": 1790880363, "model": "gpt-5",
        "service_tier": "fast", "status": "completed",
        "usage": {"input_tokens": 10000, "input_tokens_details": {"cached_tokens": 4000},
                  "output_tokens": 2000, "output_tokens_details": {"reasoning_tokens": 1500}}});
    env.write("openai.jsonl", resp.to_string() + "\n");
    let r = env.audit(&["openai.jsonl"]);
    assert_eq!(r["audit"]["totals"]["cost"], "0.056");
    assert_eq!(r["audit"]["tier_calls_at_standard_price"], 0);
    // A model with neither a fast multiple nor priority rates: standard,
    // and said.
    env.write(
        "sonnet.jsonl",
        msg("msg_s", "fast").replace("claude-opus-5", "claude-sonnet-4-5") + "\n",
    );
    let r = env.audit(&["sonnet.jsonl"]);
    assert_eq!(r["audit"]["tier_calls_at_standard_price"], 1);
    // A batch's word wins over `speed` read before it (hunt80: $0.06, or
    // $0.015 with the keys the other way round): half of $0.03.
    env.write(
        "batch.jsonl",
        r#"{"id":"msg_b","type":"message","role":"assistant","model":"claude-opus-5","content":[],"created_at":"2026-10-01T10:00:00Z","usage":{"speed":"fast","input_tokens":1000,"output_tokens":1000,"service_tier":"batch"}}"#.to_string()
            + "\n",
    );
    let r = env.audit(&["batch.jsonl"]);
    assert_eq!(r["audit"]["totals"]["cost"], "0.015");
    // OpenAI's fast is its priority processing: routed to Claude Opus 5 it
    // is a standard call there, not Anthropic's fast mode (hunt80: $0.328
    // for $0.164). 6,000 uncached, 4,000 cached and 2,000 out at $5, $0.50
    // and $25 a million: $0.082.
    let out = env
        .cmd()
        .args([
            "whatif",
            "openai.jsonl",
            "--route",
            "(none)=claude-opus-5",
            "--quiet",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text
        .lines()
        .find(|l| l.starts_with("all traffic"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains("$0.0560") && row.contains("$0.0820"), "{text}");
}

/// Gemini's logs as Google's own tools write them (hunt117): a stream
/// saved chunk by chunk (each chunk a whole response with the usage so
/// far; only the last has a `finishReason`), the same as `?alt=json`'s one
/// array, Vertex's chunks whose usage is `trafficType` alone, the Python
/// SDK's `model_dump()` (snake_case, its `prompt_tokens_details` a
/// modality list, the model in `model_version`), the Live API's
/// `responseTokenCount`, and Vertex's batch output with its JSON columns
/// as text. Before: 3 calls for one stream, rejected chunks, 0 calls for
/// the SDK's dump, the Live API's output unpriced, the batch at full price.
#[test]
fn gemini_streams_sdk_dumps_live_and_batch_text_are_read_once_and_priced() {
    let env = Env::new();
    // gemini-2.5-flash: $0.30 in, $1.00 audio in, $2.50 out (thoughts
    // too). The stream's last chunk: 4,000 × 0.30 + (245 + 2,042) × 2.50 =
    // $0.0069175.
    let chunk = |out: u64, finish: bool| {
        let mut c =
            serde_json::json!({"content": {"parts": [{"text": "x"}], "role": "model"}, "index": 0});
        if finish {
            c["finishReason"] = "STOP".into();
        }
        serde_json::json!({"candidates": [c], "usageMetadata": {"promptTokenCount": 4000,
            "candidatesTokenCount": out, "thoughtsTokenCount": 2042, "totalTokenCount": 6042 + out},
            "modelVersion": "gemini-2.5-flash", "responseId": "IZI2acSKMoWl0"})
    };
    let chunks = [chunk(49, false), chunk(97, false), chunk(245, true)];
    let lines: String = chunks.iter().map(|c| c.to_string() + "\n").collect();
    env.write("stream.jsonl", &lines);
    let r = env.audit(&["stream.jsonl", "--strict"]);
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0069175");
    assert_eq!(skipped(&r)["duplicate"], 2);
    // Cut before its end (a dropped connection: no chunk has a
    // finishReason), a stream is still its call, at its last chunk's
    // counts; a code-execution round's early STOP does not make two
    // (hunt119).
    let cut: String = chunks[..2].iter().map(|c| c.to_string() + "\n").collect();
    env.write("cut.jsonl", &cut);
    let r = env.audit(&["cut.jsonl", "--strict"]);
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    // 4,000 × 0.30 + (97 + 2,042) × 2.50 = $0.0065475.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0065475");
    // Each chunk logged with its arrival time, a second apart; and the
    // stream's last chunk read before the others (a rotated log: `app.log`
    // sorts before `app.log.1`): one call (hunt121: 3, and 2).
    let timed: String = chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            serde_json::json!({"timestamp": format!("2026-11-04T08:00:0{i}Z"), "response": c})
                .to_string()
                + "\n"
        })
        .collect();
    env.write("timed.jsonl", &timed);
    let r = env.audit(&["timed.jsonl"]);
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0069175");
    env.write("rot/app.log", chunks[2].to_string() + "\n");
    env.write("rot/app.log.1", &cut);
    let r = env.audit(&["rot", "--threads", "1"]);
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0069175");
    let mut early = chunks.to_vec();
    early[1]["candidates"][0]["finishReason"] = "STOP".into();
    let early: String = early.iter().map(|c| c.to_string() + "\n").collect();
    env.write("early.jsonl", &early);
    let r = env.audit(&["early.jsonl", "--strict"]);
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0069175");
    env.write(
        "alt.json",
        serde_json::Value::from(chunks.to_vec()).to_string(),
    );
    let r = env.audit(&["alt.json"]);
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0069175");
    // Vertex's stream: counts on the last chunk only (gemini-2.0-flash-001,
    // $0.10 / $0.40: 1,000 in and 500 out, $0.0003); the others skipped,
    // not rejected, so --strict passes.
    let vertex = |usage: serde_json::Value, finish: bool| {
        let mut c = serde_json::json!({"content": {"parts": [{"text": "x"}], "role": "model"}});
        if finish {
            c["finishReason"] = "STOP".into();
        }
        serde_json::json!({"candidates": [c], "usageMetadata": usage, "modelVersion": "gemini-2.0-flash-001",
            "createTime": "2026-11-06T10:00:00.000Z", "responseId": "v1"})
        .to_string()
            + "\n"
    };
    let traffic = serde_json::json!({"trafficType": "ON_DEMAND"});
    env.write(
        "vertex.jsonl",
        vertex(traffic.clone(), false)
            + &vertex(traffic, false)
            + &vertex(
                serde_json::json!({"promptTokenCount": 1000, "candidatesTokenCount": 500,
                    "totalTokenCount": 1500, "trafficType": "ON_DEMAND"}),
                true,
            ),
    );
    let r = env.audit(&["vertex.jsonl", "--strict"]);
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0003");
    // The Python SDK's dump, bare and wrapped: 1,000 text and 4,000 audio
    // in, 500 out: 300 + 4,000 + 1,250 = $0.00555 each.
    let dump = serde_json::json!({"sdk_http_response": {"headers": {}, "body": null},
        "candidates": [{"content": {"parts": [{"text": "hi", "thought": null}], "role": "model"},
                        "finish_reason": "STOP", "index": 0}],
        "create_time": "2026-11-04T08:00:00Z", "model_version": "gemini-2.5-flash",
        "response_id": "r1", "usage_metadata": {"cached_content_token_count": null,
            "candidates_token_count": 500, "candidates_tokens_details": null,
            "prompt_token_count": 5000, "prompt_tokens_details": [
                {"modality": "TEXT", "token_count": 1000}, {"modality": "AUDIO", "token_count": 4000}],
            "thoughts_token_count": null, "total_token_count": 5500, "traffic_type": null}});
    let wrapped = serde_json::json!({"ts": "2026-11-04T08:00:00Z", "model": "gemini-2.5-flash",
        "feature": "x", "response": dump.clone()});
    env.write("dump.jsonl", format!("{dump}\n{wrapped}\n"));
    let r = env.audit(&["dump.jsonl", "--strict"]);
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0111");
    // `model_version` beside a `model_id` is its version, not the model.
    env.write(
        "versioned.jsonl",
        r#"{"model_id":"gpt-4o","model_version":"2024-08-06","usage":{"prompt_tokens":1000,"completion_tokens":100}}"#.to_string() + "\n",
    );
    let r = env.audit(&["versioned.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0035");
    // The Live API (gemini-live-2.5-flash: $0.50 text in, $3 audio in, $12
    // audio out): 500 × 0.5 + 2,500 × 3 + 5,000 × 12 = $0.06775.
    let live = serde_json::json!({"timestamp": "2026-11-04T08:00:00Z", "model": "gemini-live-2.5-flash-preview",
        "usageMetadata": {"promptTokenCount": 3000, "responseTokenCount": 5000, "totalTokenCount": 8000,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 500}, {"modality": "AUDIO", "tokenCount": 2500}],
            "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": 5000}]}});
    env.write("live.jsonl", live.to_string() + "\n");
    let r = env.audit(&["live.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.06775");
    // Grounding with Google Search: a search the catalog has no price for
    // (Gemini's fee per grounded prompt), counted and said, not silent
    // (hunt117's bug6); the tokens at their rates, 2,300 × 0.30 + 100 ×
    // 2.50 = $0.00094.
    let grounded = serde_json::json!({"candidates": [{"content": {"parts": [{"text": "x"}], "role": "model"},
        "finishReason": "STOP", "groundingMetadata": {"webSearchQueries": ["weather paris"],
        "groundingChunks": []}}], "usageMetadata": {"promptTokenCount": 2300, "candidatesTokenCount": 100,
        "totalTokenCount": 2400}, "modelVersion": "gemini-2.5-flash", "responseId": "g1"});
    env.write("grounded.jsonl", grounded.to_string() + "\n");
    let r = env.audit(&["grounded.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00094");
    assert_eq!(r["audit"]["web_search_calls_unpriced"], 1);
    // A caller's note of that name in `metadata` is no search (hunt122).
    env.write(
        "noted.jsonl",
        r#"{"model":"gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":100},"metadata":{"groundingMetadata":{"webSearchQueries":["q"]}}}"#.to_string() + "\n",
    );
    let r = env.audit(&["noted.jsonl"]);
    assert_eq!(r["audit"]["web_search_calls_unpriced"], 0);
    // Vertex batch output with its JSON columns as text: at batch rates,
    // half of $0.0011; the failed row not billed.
    let response = serde_json::json!({"candidates": [{"content": {"parts": [{"text": "x"}], "role": "model"},
        "finishReason": "STOP"}], "modelVersion": "gemini-2.0-flash-001",
        "usageMetadata": {"promptTokenCount": 9000, "candidatesTokenCount": 500, "totalTokenCount": 9500}});
    let request = r#"{"contents": [{"parts": [{"text": "hi"}], "role": "user"}]}"#;
    let ok = serde_json::json!({"status": "", "processed_time": "2026-11-06T14:04:28.376+00:00",
        "request": request, "response": response.to_string()});
    let failed = serde_json::json!({"status": "Bad Request: {\"error\": {\"code\": 400}}",
        "processed_time": "2026-11-06T14:04:30.376+00:00", "request": request, "response": null});
    env.write("batch.jsonl", format!("{ok}\n{failed}\n"));
    let r = env.audit(&["batch.jsonl", "--strict"]);
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00055");
    assert_eq!(skipped(&r)["not_billed"], 1);
}

/// A `[mapping]` names where the prompt is (hunt118: a log's own nesting
/// of its messages could not be named, and TA103, TA104, TA108, TA109 and
/// TA110 could not run). 20 questions asked twice, 2 minutes apart, behind
/// one long system prompt: TA109 finds 20 repeats of 40 calls, the repeats'
/// cost 20 × (1,000 × $2.50 + 100 × $10)/M = $0.07, as the same calls with
/// `messages` at the top level give.
#[test]
fn a_mapping_names_where_the_prompt_is() {
    let env = Env::new();
    let system = "You are the support bot of ACME. ".repeat(200);
    let mut nested = String::new();
    let mut top = String::new();
    for i in 0..40 {
        let messages = serde_json::json!([{"role": "system", "content": system},
            {"role": "user", "content": format!("where is order {}?", i % 20)}]);
        let ts = format!("2026-10-05T{:02}:{:02}:00Z", 10 + i / 20, (i % 20) * 2);
        let llm = serde_json::json!({"model": "gpt-4o", "in": 1000, "out": 100});
        nested +=
            &(serde_json::json!({"ts": ts, "llm": llm, "req": {"body": {"messages": messages}}})
                .to_string()
                + "\n");
        top +=
            &(serde_json::json!({"ts": ts, "llm": llm, "messages": messages}).to_string() + "\n");
    }
    env.write("nested.jsonl", nested);
    env.write("top.jsonl", top);
    let base = "[detect]\nmin_savings = 0\n[mapping]\ntimestamp = \"ts\"\nmodel = \"llm.model\"\ninput_tokens = \"llm.in\"\noutput_tokens = \"llm.out\"\n";
    env.write("top.toml", base);
    env.write(
        "nested.toml",
        format!("{base}messages = \"req.body.messages\"\n"),
    );
    let ta109 = |r: &Value| -> Vec<String> {
        r["audit"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "TA109")
            .map(|f| format!("{} {}", f["title"], f["savings"]["observed"]))
            .collect()
    };
    let r = env.audit(&["top.jsonl", "--config", "top.toml"]);
    let expected = ta109(&r);
    assert_eq!(expected.len(), 1);
    assert!(expected[0].ends_with("\"0.07\""), "{expected:?}");
    let r = env.audit(&["nested.jsonl", "--config", "nested.toml"]);
    assert_eq!(ta109(&r), expected);
    // A mapped system prompt is part of what was asked: one per customer
    // beside the same question is no repeat (hunt122: 98% said to repeat).
    let mut per_customer = String::new();
    for i in 0..40 {
        let ts = format!("2026-10-05T{:02}:{:02}:00Z", 10 + i / 20, (i % 20) * 2);
        per_customer += &(serde_json::json!({"ts": ts,
            "llm": {"model": "gpt-4o", "in": 1000, "out": 100},
            "req": {"body": {"system": format!("Customer {i}'s account: balance {i}00 USD."),
                "messages": [{"role": "user", "content": "what is my balance?"}]}}})
        .to_string()
            + "\n");
    }
    env.write("customers.jsonl", per_customer);
    env.write(
        "customers.toml",
        format!("{base}messages = \"req.body.messages\"\nsystem = \"req.body.system\"\n"),
    );
    let r = env.audit(&["customers.jsonl", "--config", "customers.toml"]);
    assert_eq!(ta109(&r), Vec::<String>::new());
}

/// A `[mapping]`'s usage object is read whole (hunt120, hunt126: the
/// cached tokens beside a mapped `span_data.usage.input_tokens` or inside
/// APIM's `BackendResponseBody` went unread, +31%): the object holding
/// the mapped counts, or the one `usage` names, as a line's `usage` is.
/// Two gpt-4o calls, 5,000 in (2,000 cached) / 300 out and 5,600 in
/// (4,000 cached) / 200 out: (3,000 × 2.5 + 2,000 × 1.25 + 300 × 10 +
/// 1,600 × 2.5 + 4,000 × 1.25 + 200 × 10)/M = $0.024 (without the cache
/// $0.0315). In place (the scanner's pass), through `[mapping.only]` (the
/// tree), as JSON text, named by `usage` beside a mapped model only, and
/// in a Parquet struct; LangSmith's `prompt_token_details.cache_read`
/// beside its top-level `prompt_tokens` too.
#[test]
fn a_mapped_usage_object_is_read_whole() {
    use arrow_array::{ArrayRef, StringArray, StructArray, UInt64Array};
    use std::sync::Arc;
    let env = Env::new();
    let calls = [(5000u64, 2000u64, 300u64), (5600, 4000, 200)];
    let usage = |&(i, c, o): &(u64, u64, u64)| {
        serde_json::json!({"input_tokens": i, "output_tokens": o,
            "input_tokens_details": {"cached_tokens": c}, "total_tokens": i + o})
    };
    let mut spans = String::new();
    let mut text = String::new();
    let mut langsmith = String::new();
    for (n, call) in calls.iter().enumerate() {
        let ts = format!("2026-11-03T10:0{n}:00Z");
        spans += &(serde_json::json!({"started_at": ts, "trace_id": "t1",
            "span_data": {"type": "generation", "model": "gpt-4o", "usage": usage(call)}})
        .to_string()
            + "\n");
        text += &(serde_json::json!({"ts": ts,
            "body": serde_json::json!({"model": "gpt-4o", "usage": usage(call)}).to_string()})
        .to_string()
            + "\n");
        langsmith += &(serde_json::json!({"start_time": ts, "run_type": "llm",
            "extra": {"invocation_params": {"model": "gpt-4o"}},
            "prompt_tokens": call.0, "completion_tokens": call.2, "total_tokens": call.0 + call.2,
            "prompt_token_details": {"cache_read": call.1}})
        .to_string()
            + "\n");
    }
    env.write("spans.jsonl", spans);
    env.write("text.jsonl", text);
    env.write("langsmith.jsonl", langsmith);
    let counts = "[mapping]\ntimestamp = \"started_at\"\nmodel = \"span_data.model\"\ninput_tokens = \"span_data.usage.input_tokens\"\noutput_tokens = \"span_data.usage.output_tokens\"\n";
    env.write("counts.toml", counts);
    env.write(
        "only.toml",
        format!("{counts}[mapping.only]\n\"span_data.type\" = \"generation\"\n"),
    );
    env.write(
        "named.toml",
        "[mapping]\ntimestamp = \"started_at\"\nmodel = \"span_data.model\"\nusage = \"span_data.usage\"\n",
    );
    env.write(
        "text.toml",
        "[mapping]\ntimestamp = \"ts\"\nmodel = \"body.model\"\ninput_tokens = \"body.usage.input_tokens\"\noutput_tokens = \"body.usage.output_tokens\"\n",
    );
    env.write(
        "langsmith.toml",
        "[mapping]\ntimestamp = \"start_time\"\nmodel = \"extra.invocation_params.model\"\n",
    );
    let totals = |args: &[&str]| {
        let r = env.audit(&[args, &["--strict"]].concat());
        let t = &r["audit"]["totals"];
        format!(
            "{} calls, {} in, {} cached, ${}",
            t["calls"],
            t["input_tokens"],
            t["cached_read_tokens"],
            usd(&t["cost"])
        )
    };
    let expected = "2 calls, 10600 in, 6000 cached, $0.024";
    for (file, config) in [
        ("spans.jsonl", "counts.toml"),
        ("spans.jsonl", "only.toml"),
        ("spans.jsonl", "named.toml"),
        ("text.jsonl", "text.toml"),
        ("langsmith.jsonl", "langsmith.toml"),
    ] {
        assert_eq!(
            totals(&[file, "--config", config]),
            expected,
            "{file} {config}"
        );
    }
    // The same spans as Parquet, the usage a struct column.
    let n = |f: fn(&(u64, u64, u64)) -> u64| -> ArrayRef {
        Arc::new(UInt64Array::from(calls.iter().map(f).collect::<Vec<_>>()))
    };
    let obj = |fields: Vec<(&str, ArrayRef)>| -> ArrayRef {
        Arc::new(StructArray::try_from(fields).unwrap())
    };
    let strings = |v: Vec<&str>| -> ArrayRef { Arc::new(StringArray::from(v)) };
    crate::inputs::write_parquet(
        &env.path("spans.parquet"),
        vec![
            (
                "started_at",
                strings(vec!["2026-11-03T10:00:00Z", "2026-11-03T10:01:00Z"]),
            ),
            (
                "span_data",
                obj(vec![
                    ("model", strings(vec!["gpt-4o", "gpt-4o"])),
                    (
                        "usage",
                        obj(vec![
                            ("input_tokens", n(|c| c.0)),
                            ("output_tokens", n(|c| c.2)),
                            (
                                "input_tokens_details",
                                obj(vec![("cached_tokens", n(|c| c.1))]),
                            ),
                        ]),
                    ),
                ]),
            ),
        ],
    );
    for config in ["counts.toml", "named.toml"] {
        assert_eq!(
            totals(&["spans.parquet", "--config", config]),
            expected,
            "{config}"
        );
    }
}

/// A usage API's sums are said to be sums (hunt123): OpenAI's usage page
/// saved as returned is named for what it is (not "a shape tokenaudit
/// does not know", with a mapping to write, which would price each sum as
/// one call), and its rows flattened beside a one-request row are counted
/// as left out of the spend, in the warnings and the report, not only as
/// "1 line rejected".
#[test]
fn usage_reports_are_said_to_be_sums() {
    let env = Env::new();
    env.write(
        "page.json",
        r#"{"object":"page","data":[{"object":"bucket","start_time":1730419200,"end_time":1730505600,"results":[{"object":"organization.usage.completions.result","input_tokens":1000000,"output_tokens":200000,"input_cached_tokens":400000,"num_model_requests":250,"model":"gpt-4o-2024-08-06","batch":false}]}],"has_more":false,"next_page":null}"#,
    );
    let out = env
        .cmd()
        .args(["audit", "page.json", "--out", "out", "--quiet"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("page.json: not read: it is a usage or cost report's page of time buckets"),
        "{err}"
    );
    assert!(!err.contains("[mapping] table"), "{err}");
    env.write(
        "rows.jsonl",
        concat!(
            r#"{"start_time":1730419200,"input_tokens":1000000,"output_tokens":200000,"input_cached_tokens":400000,"num_model_requests":250,"model":"gpt-4o-2024-08-06","batch":false}"#,
            "\n",
            r#"{"start_time":1730419200,"input_tokens":1000,"output_tokens":100,"input_cached_tokens":0,"num_model_requests":1,"model":"gpt-4o-mini","batch":false}"#,
            "\n"
        ),
    );
    let out = env
        .cmd()
        .args(["audit", "rows.jsonl", "--out", "out2"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let said = "1 line sums many requests (a usage API's row, a daily spend table's, an agent run's total) and is no call: it is not priced";
    assert!(err.contains(&format!("warning: {said}")), "{err}");
    let md = std::fs::read_to_string(env.path("out2/audit.md")).unwrap();
    assert!(md.contains(said), "{md}");
    // The one-request row alone is the spend: 1,000 × $0.15/M + 100 × $0.60/M.
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("out2/audit.json")).unwrap())
            .unwrap();
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00021");
    assert_eq!(r["audit"]["input"]["rejected_by_reason"]["summed_usage"], 1);
}

/// Amazon Data Firehose writes records back to back with no separator by
/// default (hunt126: every call of such a file lost as one malformed
/// line). Three Bedrock invocation records, `{…}{…}{…}`: (1,000 × 3.3 +
/// 100 × 16.5) + (10,000 × 0.8 + 1,000 × 4) + (5,000 × 0.8 + 1,000 × 3.2)
/// per million = $0.02415, as the same records one per line.
#[test]
fn records_written_back_to_back_are_read() {
    let env = Env::new();
    let records: Vec<String> = [
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 1000, 100),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", 10000, 1000),
        ("amazon.nova-pro-v1:0", 5000, 1000),
    ]
    .iter()
    .enumerate()
    .map(|(i, (model, input, output))| {
        serde_json::json!({"schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
            "timestamp": format!("2025-11-03T09:0{i}:00Z"), "accountId": "123456789012",
            "region": "us-east-1", "requestId": format!("r{i}"), "operation": "Converse",
            "modelId": model, "input": {"inputContentType": "application/json", "inputTokenCount": input},
            "output": {"outputContentType": "application/json", "outputTokenCount": output}})
        .to_string()
    })
    .collect();
    env.write("firehose", records.concat());
    env.write("lines.jsonl", records.join("\n") + "\n");
    for file in ["firehose", "lines.jsonl"] {
        let r = env.audit(&[file, "--strict"]);
        assert_eq!(r["audit"]["totals"]["calls"], 3, "{file}");
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.02415", "{file}");
    }
}

/// Logged costs (hunt125): Portkey's model in `ai_model` (its response
/// body not exported), and the HTML report reconciles logged costs as the
/// Markdown does, each amount to its own places (a model the catalog does
/// not know logged $0.004, not "$0.00").
#[test]
fn logged_costs_are_read_in_their_unit_and_reconciled_in_every_report() {
    let env = Env::new();
    env.write(
        "portkey.jsonl",
        concat!(
            r#"{"created_at":"2026-10-01T10:46:03.250Z","ai_org":"openai","ai_model":"gpt-4o","req_units":1000,"res_units":200,"cost":0.45,"cost_currency":"USD","response":{"body":{"usage":{"prompt_tokens":1000,"completion_tokens":200}}}}"#,
            "\n",
            r#"{"timestamp":"2026-10-01T10:47:00Z","model":"mystery-small","usage":{"prompt_tokens":100,"completion_tokens":10},"cost":0.004}"#,
            "\n",
            // A corrupt cost column: no logged cost (hunt125: twenty such
            // wrapped the sum below zero).
            r#"{"timestamp":"2026-10-01T10:48:00Z","model":"gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":200},"cost":1e25}"#,
            "\n"
        ),
    );
    let out = env
        .cmd()
        .args([
            "audit",
            "portkey.jsonl",
            "--out",
            "out",
            "--format",
            "md,html,json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = env.report();
    // gpt-4o (the model from `ai_model`): 1,000 × $2.50/M + 200 × $10/M.
    let rows = r["audit"]["reconciliation"].as_array().unwrap();
    let gpt = rows.iter().find(|x| x["model"] == "gpt-4o").unwrap();
    assert_eq!(
        (usd(&gpt["logged"]), usd(&gpt["computed"])),
        ("0.0045".into(), "0.0045".into())
    );
    assert_eq!(gpt["calls"], 1);
    assert_eq!(r["audit"]["input"]["fields_ignored"], 1);
    let said = "Calls of models the catalog has no price for logged $0.0040, which";
    for report in ["out/audit.md", "out/audit.html"] {
        let text = std::fs::read_to_string(env.path(report)).unwrap();
        assert!(
            text.contains("Logged cost against computed cost"),
            "{report}"
        );
        assert!(text.contains(said), "{report}");
    }
}

/// Anthropic's usage flattened the two common ways (hunt123): a CSV of
/// `pandas.json_normalize` (headers `cache_creation.ephemeral_1h_input_tokens`,
/// `server_tool_use.web_search_requests`) and a line with the usage spread
/// into it. 1,000 in, 2,000 cache reads, 4,000 5-minute and 3,000 1-hour
/// writes, 100 out and 5 web searches on claude-sonnet-4-5: (1,000 × 3 +
/// 2,000 × 0.3 + 4,000 × 3.75 + 3,000 × 6 + 100 × 15)/M + 5 × $10/1,000 =
/// $0.0881, as with the usage nested.
#[test]
fn usage_flattened_into_the_line_or_dotted_columns_is_read_whole() {
    let env = Env::new();
    env.write(
        "normalized.csv",
        "timestamp,model,input_tokens,output_tokens,cache_creation_input_tokens,cache_read_input_tokens,service_tier,cache_creation.ephemeral_5m_input_tokens,cache_creation.ephemeral_1h_input_tokens,server_tool_use.web_search_requests\n\
         2025-10-01T10:00:00Z,claude-sonnet-4-5-20250929,1000,100,7000,2000,standard,4000,3000,5\n",
    );
    let usage = serde_json::json!({"input_tokens": 1000, "output_tokens": 100,
        "cache_read_input_tokens": 2000,
        "cache_creation": {"ephemeral_5m_input_tokens": 4000, "ephemeral_1h_input_tokens": 3000},
        "server_tool_use": {"web_search_requests": 5}});
    let mut spread = serde_json::json!({"timestamp": "2025-10-01T10:00:00Z",
        "model": "claude-sonnet-4-5-20250929"});
    for (k, v) in usage.as_object().unwrap() {
        spread[k] = v.clone();
    }
    env.write("spread.jsonl", spread.to_string() + "\n");
    env.write(
        "nested.jsonl",
        serde_json::json!({"timestamp": "2025-10-01T10:00:00Z",
            "model": "claude-sonnet-4-5-20250929", "usage": usage})
        .to_string()
            + "\n",
    );
    for file in ["normalized.csv", "spread.jsonl", "nested.jsonl"] {
        let r = env.audit(&[file, "--strict"]);
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0881", "{file}");
    }
}

/// hunt127's review of the mapped usage object and of summed rows. A
/// named `usage` (or the object of the mapped counts) is the usage, beside
/// a line's own: (500 × 2.5 + 1,500 × 1.25 + 30 × 10) + (1,000 × 2.5 +
/// 4,000 × 1.25 + 100 × 10) per million = $0.011925. A misspelled mapped
/// input takes the object's: 3,000 × 2.5 + 2,000 × 1.25 + 300 × 10 =
/// $0.013. Cached tokens beside a mapped input of another name:
/// 2 × $0.013 = $0.026. Anthropic's usage with a null
/// `input_tokens_details`: 6,000 × 3 + 4,000 × 0.3 + 200 × 15 = $0.0222.
/// A per-call log's `uncached_input_tokens` is priced; a bucket with
/// `ending_at`, and OpenAI's Batch object (`request_counts`), are sums.
#[test]
fn mapped_usage_objects_and_sums_as_reviewed() {
    let env = Env::new();
    env.write(
        "two.jsonl",
        concat!(
            r#"{"ts":"2026-11-03T10:00:00Z","model":"gpt-4o","usage":{"input_tokens":100,"output_tokens":50},"llm":{"usage":{"prompt_tokens":2000,"completion_tokens":30,"prompt_tokens_details":{"cached_tokens":1500}}}}"#,
            "\n",
            r#"{"ts":"2026-11-03T10:01:00Z","model":"gpt-4o","usage":{"prompt_tokens":300,"completion_tokens":20},"llm":{"usage":{"prompt_tokens":5000,"completion_tokens":100,"prompt_tokens_details":{"cached_tokens":4000}}}}"#,
            "\n"
        ),
    );
    let base = "[mapping]\ntimestamp = \"ts\"\nmodel = \"model\"\n";
    env.write("named.toml", format!("{base}usage = \"llm.usage\"\n"));
    env.write(
        "counts.toml",
        format!("{base}input_tokens = \"llm.usage.prompt_tokens\"\noutput_tokens = \"llm.usage.completion_tokens\"\n"),
    );
    env.write(
        "misspelled.toml",
        format!("{base}input_tokens = \"llm.usage.prompt_tokns\"\noutput_tokens = \"llm.usage.completion_tokens\"\n"),
    );
    env.write(
        "one.jsonl",
        r#"{"ts":"2026-11-03T10:00:00Z","model":"gpt-4o","llm":{"usage":{"prompt_tokens":5000,"completion_tokens":300,"prompt_tokens_details":{"cached_tokens":2000}}}}"#.to_string() + "\n",
    );
    env.write(
        "other.jsonl",
        r#"{"ts":"2026-11-03T10:00:00Z","model":"gpt-4o","usage":{"input":5000,"output":300,"prompt_tokens_details":{"cached_tokens":2000}}}
{"ts":"2026-11-03T10:01:00Z","model":"gpt-4o","usage":{"input":5000,"output":300,"input_tokens_details":{"cached_tokens":2000}}}
"#,
    );
    env.write(
        "other.toml",
        format!("{base}input_tokens = \"usage.input\"\noutput_tokens = \"usage.output\"\n"),
    );
    env.write(
        "null.jsonl",
        r#"{"ts":"2026-11-03T10:00:00Z","model":"claude-sonnet-4-5","usage":{"input_tokens":6000,"output_tokens":200,"cache_read_input_tokens":4000,"input_tokens_details":null}}
{"ts":"2026-11-03T10:01:00Z","model":"claude-sonnet-4-5","uncached_input_tokens":6000,"output_tokens":200,"cache_read_input_tokens":4000}
"#,
    );
    env.write(
        "sums.jsonl",
        r#"{"starting_at":"2025-10-01T00:00:00Z","ending_at":"2025-10-02T00:00:00Z","uncached_input_tokens":300000,"output_tokens":1000,"model":"claude-sonnet-4-5"}
{"object":"batch","model":"gpt-4.1","request_counts":{"total":1000,"completed":1000,"failed":0},"usage":{"input_tokens":5000000,"output_tokens":200000},"created_at":1793700000}
"#,
    );
    let cost = |args: &[&str]| {
        let r = env.audit(args);
        let t = &r["audit"]["totals"];
        format!("{} calls ${}", t["calls"], usd(&t["cost"]))
    };
    assert_eq!(
        cost(&["two.jsonl", "--config", "named.toml"]),
        "2 calls $0.011925"
    );
    assert_eq!(
        cost(&["two.jsonl", "--config", "counts.toml"]),
        "2 calls $0.011925"
    );
    assert_eq!(
        cost(&["one.jsonl", "--config", "misspelled.toml"]),
        "1 calls $0.013"
    );
    assert_eq!(
        cost(&["other.jsonl", "--config", "other.toml"]),
        "2 calls $0.026"
    );
    assert_eq!(cost(&["null.jsonl", "--strict"]), "2 calls $0.0444");
    let r = env.audit(&["sums.jsonl"]);
    assert_eq!(r["audit"]["totals"]["calls"], 0);
    assert_eq!(r["audit"]["input"]["rejected_by_reason"]["summed_usage"], 2);
}

/// US-only inference: Anthropic bills `usage.inference_geo: "us"` at the
/// model's US multiple (LiteLLM's `provider_specific_entry.us`: 1.1 on
/// Claude Opus 4.6 and later) of every token rate, on top of batch and
/// fast mode's (hunt79: priced at the global rate, unsaid). claude-opus-5
/// is $5 / $25 a million: 1,000 in and 1,000 out cost $0.03 globally,
/// $0.033 in the US, $0.066 fast in the US, $0.0165 batched in the US.
#[test]
fn us_only_inference_is_priced_at_the_models_us_multiple() {
    let env = Env::new();
    let usage = |geo: &str, speed: &str, tier: &str| {
        serde_json::json!({"input_tokens": 1000, "output_tokens": 1000, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0, "service_tier": tier, "speed": speed, "inference_geo": geo})
    };
    let msg = |id: &str, model: &str, u: serde_json::Value| {
        serde_json::json!({"id": id, "type": "message", "role": "assistant", "model": model,
            "content": [], "usage": u, "created_at": "2026-10-01T10:00:00Z"})
        .to_string()
    };
    env.write(
        "logs/anthropic.jsonl",
        [
            msg(
                "m1",
                "claude-opus-5",
                usage("global", "standard", "standard"),
            ),
            msg("m2", "claude-opus-5", usage("us", "standard", "standard")),
            msg("m3", "claude-opus-5", usage("us", "fast", "standard")),
            msg("m4", "claude-opus-5", usage("us", "standard", "batch")),
            msg(
                "m5",
                "claude-opus-5",
                usage("not_available", "standard", "standard"),
            ),
        ]
        .join("\n")
            + "\n",
    );
    // claude-opus-4-6 ($5 in, $0.50 cached, $6.25 5-minute writes, $25
    // out): 1,000 × 5 + 2,000 × 0.5 + 500 × 6.25 + 300 × 25 = $0.016625,
    // × 1.1 = $0.0182875 (cache reads and writes too).
    let cached = serde_json::json!({"input_tokens": 1000, "cache_read_input_tokens": 2000,
        "cache_creation_input_tokens": 500, "output_tokens": 300, "inference_geo": "us"});
    env.write(
        "logs/cached.jsonl",
        msg("m6", "claude-opus-4-6", cached) + "\n",
    );
    let out = env
        .cmd()
        .args([
            "audit",
            "logs",
            "--out",
            "out",
            "--format",
            "json,md,focus",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = env.report();
    // 0.03 + 0.033 + 0.066 + 0.0165 + 0.03 + 0.0182875
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.1937875");
    assert_eq!(r["audit"]["us_only_calls"], 4);
    assert_eq!(r["audit"]["us_only_calls_at_global_price"], 0);
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("**US-only inference:** 4 calls ran on US-only inference"),
        "{md}"
    );
    let focus = std::fs::read_to_string(env.path("out/focus.csv")).unwrap();
    assert!(
        focus.contains("anthropic/claude-opus-5:output:fast:us"),
        "{focus}"
    );
    assert!(
        focus.contains("anthropic/claude-opus-5:input:batch:us"),
        "{focus}"
    );
    assert!(focus.contains("anthropic/claude-opus-5:input,"), "{focus}");
    // The store keeps the place of inference: its audit is the raw one.
    env.ok(&["ingest", "logs", "--store", "store", "--quiet"]);
    env.ok(&[
        "audit", "--store", "store", "--out", "stored", "--format", "json", "--quiet",
    ]);
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("stored/audit.json")).unwrap())
            .unwrap();
    assert_eq!(stored["audit"], r["audit"]);
    // What-if batch keeps the US multiple: every call at batch rates (the
    // fast one too, as flex and priority calls are), the US ones at
    // 0.55: 0.015 + 0.0165 + 0.0165 + 0.0165 + 0.015 + 0.00914375 (half
    // of $0.0182875) = $0.08864375; at the global batch rate the US calls
    // would come to $0.0833125.
    let said = env.ok(&["whatif", "logs", "--batch", "(none)", "--quiet"]);
    let row = said
        .lines()
        .find(|l| l.starts_with("all traffic"))
        .unwrap_or_else(|| panic!("{said}"));
    assert!(row.contains("$0.1938") && row.contains("$0.0886"), "{said}");
    // A Claude Code line names it too; a model the catalog gives no US
    // multiple is priced at the global rates, and said (claude-sonnet-4-5:
    // $3 / $15, $0.018).
    let cc = serde_json::json!({"type": "assistant", "sessionId": "s1", "cwd": "/p", "uuid": "u1",
        "parentUuid": null, "version": "2.1.0", "isSidechain": false, "userType": "external",
        "timestamp": "2026-10-01T10:00:00.000Z", "requestId": "req_1",
        "message": {"id": "msg_cc", "type": "message", "role": "assistant", "model": "claude-opus-5",
                    "content": [{"type": "text", "text": "x"}], "usage": usage("us", "standard", "standard")}});
    env.write("claude.jsonl", cc.to_string() + "\n");
    let r = env.audit(&["claude.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.033");
    env.write(
        "sonnet.jsonl",
        msg(
            "m7",
            "claude-sonnet-4-5",
            usage("us", "standard", "standard"),
        ) + "\n",
    );
    let r = env.audit(&["sonnet.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.018");
    assert_eq!(r["audit"]["us_only_calls_at_global_price"], 1);
    // Outside the usage object (hunt119): at the line's top level beside
    // flattened counts, and in a logged pair's request (binding: the call
    // runs in the US or fails).
    let flat = serde_json::json!({"timestamp": "2026-10-01T10:00:00Z", "model": "claude-opus-5",
        "input_tokens": 1000, "output_tokens": 1000, "inference_geo": "us"});
    let pair = serde_json::json!({"timestamp": "2026-10-01T10:00:00Z",
        "request": {"model": "claude-opus-5", "max_tokens": 100, "inference_geo": "us"},
        "response": serde_json::from_str::<Value>(&msg("m8", "claude-opus-5",
            serde_json::json!({"input_tokens": 1000, "output_tokens": 1000}))).unwrap()});
    env.write("elsewhere.jsonl", format!("{flat}\n{pair}\n"));
    let r = env.audit(&["elsewhere.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.066");
    assert_eq!(r["audit"]["us_only_calls"], 2);
}

/// Claude Code 2.x writes `subagents/agent-<id>.meta.json` beside each
/// subagent's transcript (its type and description): no log. Read, it was
/// a rejected line in every audit of a Claude Code folder, and `--strict`
/// failed on it (hunt86).
#[test]
fn claude_codes_subagent_notes_are_not_read_as_logs() {
    let env = Env::new();
    let src = std::path::PathBuf::from(fixture("claude-code"));
    for project in std::fs::read_dir(src.join("projects")).unwrap() {
        let project = project.unwrap().path();
        for f in std::fs::read_dir(&project).unwrap() {
            let f = f.unwrap().path();
            let rel = f.strip_prefix(&src).unwrap().to_str().unwrap().to_string();
            env.write(&format!("claude/{rel}"), std::fs::read(&f).unwrap());
        }
    }
    env.write(
        "claude/projects/-home-dev-api/5e8f7a6b-1c2d-4e3f-a4b5-c6d7e8f9a0b1/subagents/agent-a1b2c3.meta.json",
        r#"{"agentType":"general-purpose","description":"Find the failing test","toolUseId":"toolu_01"}"#,
    );
    // A user's own log named `*.meta.json` is still read (hunt88).
    env.write(
        "claude/export.meta.json",
        crate::util::gw_line(
            "2025-10-01T10:00:00Z",
            "f",
            "gpt-4o",
            1000,
            100,
            serde_json::json!({}),
        ) + "\n",
    );
    let r = env.audit(&["claude", "--strict"]);
    assert_eq!(r["audit"]["input"]["files"].as_array().unwrap().len(), 4);
    std::fs::remove_file(env.path("claude/export.meta.json")).unwrap();
    let r = env.audit(&["claude", "--strict"]);
    assert_eq!(
        r["audit"]["input"]["rejected"], 0,
        "{}",
        r["audit"]["input"]
    );
    assert_eq!(r["audit"]["input"]["files"].as_array().unwrap().len(), 3);
    assert_eq!(
        r["audit"]["totals"]["cost"],
        audit("claude-code", "claude-code")["audit"]["totals"]["cost"]
    );
}

/// A mapped tag on every row, of more distinct values than the report
/// lists (1,000): not said to be misspelt (hunt88: its rows past the
/// first 1,000 were taken for none).
#[test]
fn a_tag_of_many_values_is_not_said_misspelt() {
    let env = Env::new();
    let mut csv = String::from("date,llm,app,input_tokens,output_tokens\n");
    for i in 0..1_501 {
        csv += &format!("2026-10-06,gpt-4o,app-{i:04},{},10\n", 1000 + i);
    }
    env.write("export.csv", csv);
    env.write(
        "m.toml",
        "[mapping]\ntimestamp = \"date\"\nmodel = \"llm\"\ninput_tokens = \"input_tokens\"\noutput_tokens = \"output_tokens\"\n[mapping.tags]\napp = \"app\"\n",
    );
    let out = env
        .cmd()
        .args([
            "audit",
            "export.csv",
            "--config",
            "m.toml",
            "--out",
            "out",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("[mapping]"), "{err}");
}

/// A stream logged chunk by chunk is one call, whichever chunks carry the
/// usage: every chunk its running total (xAI, Perplexity, and a stream cut
/// before its last chunk), the last choice and an empty usage chunk both
/// (vLLM's continuous usage), or a usage chunk after the last choice
/// (OpenRouter). Each chunk was a call (hunt82: $0.546 for $0.144); a rule
/// on one line could not tell OpenRouter's chunk from a running one
/// (hunt85). The chunks of a stream are kept by its id, the most complete
/// counted, across files and threads.
#[test]
fn a_streams_chunks_are_one_call_whichever_carry_the_usage() {
    let chunk = |id: &str, model: &str, finish: Option<&str>, usage: Option<(u64, u64)>| {
        let finish = finish.map_or("null".to_string(), |f| format!("\"{f}\""));
        let usage = usage.map_or(String::new(), |(i, o)| {
            format!(
                r#","usage":{{"prompt_tokens":{i},"completion_tokens":{o},"total_tokens":{}}}"#,
                i + o
            )
        });
        format!(
            r#"{{"id":"{id}","object":"chat.completion.chunk","created":1790841600,"model":"{model}","choices":[{{"index":0,"delta":{{"content":"x"}},"finish_reason":{finish}}}]{usage}}}"#
        )
    };
    let mut a = Vec::new();
    let mut b = Vec::new();
    // xAI: every chunk its running usage; the last has the finish reason.
    for k in 1..=4 {
        let fin = (k == 4).then_some("stop");
        a.push(chunk("xai-1", "grok-3", fin, Some((38_000, k))));
    }
    // Perplexity: the same, its chunks split over two files.
    for k in 1..=3 {
        let fin = (k == 3).then_some("stop");
        let to = if k == 2 { &mut b } else { &mut a };
        to.push(chunk("pplx-1", "sonar-pro", fin, Some((10_000, k))));
    }
    // Perplexity's last event: a `chat.completion` of the chunks' id, its
    // choice a `delta` too (hunt94: a second call).
    a.push(
        r#"{"id":"pplx-1","object":"chat.completion","created":1790841600,"model":"sonar-pro","choices":[{"index":0,"delta":{"role":"assistant","content":""},"message":{"role":"assistant","content":"xxx"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10000,"completion_tokens":3,"total_tokens":10003}}"#.to_string(),
    );
    // vLLM's continuous usage: the finishing chunk and an empty usage
    // chunk carry the same total.
    a.push(chunk("vllm-1", "gpt-4o", Some("stop"), Some((1_000, 4))));
    a.push(
        r#"{"id":"vllm-1","object":"chat.completion.chunk","created":1790841600,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":4,"total_tokens":1004}}"#.to_string(),
    );
    // OpenRouter: chunks without usage, then a usage chunk after the
    // finishing one, with a choice of no finish reason.
    a.push(chunk("gen-1", "openai/gpt-4o", None, None));
    a.push(chunk("gen-1", "openai/gpt-4o", Some("stop"), None));
    a.push(chunk("gen-1", "openai/gpt-4o", None, Some((1_697, 52))));
    // An xAI stream cut before its last chunk: its last chunk seen.
    for k in 1..=3 {
        b.push(chunk("xai-cut", "grok-3", None, Some((38_000, k))));
    }
    // vLLM's continuous usage with the app's arrival time on each chunk,
    // a second apart: one stream by its chunks' `created` (hunt130: a call
    // a second).
    for k in 1..=3u64 {
        let fin = (k == 3).then_some("stop");
        let line = chunk("vllm-2", "gpt-4o", fin, Some((1_000, k)));
        a.push(format!(
            r#"{{"timestamp":"2026-10-01T10:00:0{k}Z",{}"#,
            &line[1..]
        ));
    }
    // Two calls Ollama's server gave one id (it draws them from 999), an
    // hour apart: two calls (hunt94: one).
    for created in [1790841600, 1790845200] {
        a.push(format!(
            r#"{{"id":"chatcmpl-7","object":"chat.completion.chunk","created":{created},"model":"gpt-4o","choices":[],"usage":{{"prompt_tokens":100,"completion_tokens":10,"total_tokens":110}}}}"#
        ));
    }
    let env = Env::new();
    env.write("a.jsonl", a.join("\n") + "\n");
    env.write("b.jsonl", b.join("\n") + "\n");
    // grok-3 at $3/$15 a million: 38,000 in and 4 out, $0.11406, and 3
    // out, $0.114045; sonar-pro at $3/$15: 10,000 in and 3 out, $0.030045;
    // gpt-4o at $2.50/$10: 1,000 in and 4 out, $0.00254, and 1,697 in and
    // 52 out, $0.0047625, twice 100 in and 10 out, $0.00035, and 1,000
    // in and 3 out, $0.00253. In all $0.2686825 over 8 calls.
    for threads in ["1", "2"] {
        let r = env.audit(&["a.jsonl", "b.jsonl", "--threads", threads]);
        let a = &r["audit"];
        assert_eq!(usd(&a["totals"]["cost"]), "0.2686825", "threads {threads}");
        assert_eq!(a["totals"]["calls"], 8, "threads {threads}");
        assert_eq!(a["totals"]["output_tokens"], 4 + 3 + 3 + 4 + 52 + 20 + 3);
        // The other chunks with usage are copies of their stream's call.
        // (OpenRouter's finishing chunk stands for its stream's call
        // until its usage chunk comes: a copy of it too.)
        assert_eq!(
            a["input"]["skipped_by_reason"]["duplicate"],
            3 + 3 + 1 + 2 + 2 + 1
        );
        assert_eq!(a["input"]["skipped_by_reason"]["not_a_call"], 1);
        assert_eq!(row(&r, "model", "grok-3")["calls"], 2);
    }
}

/// A Claude response's `usage.iterations` bills sub-inferences beside the
/// usage's own counts, which are the executor's alone (Anthropic's advisor
/// tool, `advisor_message` at the advisor model's rates, and server-side
/// compaction at the request's model's): each is a call of its own (hunt133's
/// bug4: dropped, −87%).
#[test]
fn a_claude_usages_iterations_are_calls_of_their_own() {
    let usage = |top: &str, steps: &str| format!(r#"{top},"iterations":[{steps}]"#);
    // Sonnet 4.6 advised by Opus 4.6: the executor's two message iterations
    // add to the usage's counts; the advisor's is apart.
    let advised = usage(
        r#""input_tokens":100,"cache_read_input_tokens":20000,"cache_creation_input_tokens":1000,"cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":0},"output_tokens":500"#,
        r#"{"type":"message","input_tokens":60,"cache_read_input_tokens":20000,"cache_creation_input_tokens":1000,"output_tokens":200},{"type":"advisor_message","model":"claude-opus-4-6","input_tokens":800,"cache_read_input_tokens":0,"cache_creation_input_tokens":0,"output_tokens":1600},{"type":"message","input_tokens":40,"cache_read_input_tokens":0,"cache_creation_input_tokens":0,"output_tokens":300}"#,
    );
    // Compaction (Anthropic's documented example): 180,000 in and 3,500
    // out summarised before the 23,000 in and 1,000 out of the answer.
    let compacted = usage(
        r#""input_tokens":23000,"output_tokens":1000"#,
        r#"{"type":"compaction","input_tokens":180000,"output_tokens":3500},{"type":"message","input_tokens":23000,"output_tokens":1000}"#,
    );
    let line = |id: &str, text: &str, usage: &str| {
        format!(
            r#"{{"type":"assistant","uuid":"u-{id}-{text}","isSidechain":false,"timestamp":"2026-11-10T10:00:00Z","sessionId":"s1","requestId":"req_{id}","cwd":"/home/dev/shop","message":{{"id":"msg_{id}","model":"claude-sonnet-4-6","role":"assistant","content":[{{"type":"text","text":"{text}"}}],"stop_reason":"end_turn","usage":{{{usage}}}}}}}"#
        )
    };
    let env = Env::new();
    // Claude Code writes a message once per content block: the advised
    // message twice, which is one call and one advisor call.
    env.write(
        "projects/shop/s1.jsonl",
        [
            line("A", "thinking", &advised),
            line("A", "done", &advised),
            line("B", "summary", &compacted),
        ]
        .join("\n")
            + "\n",
    );
    // The same responses logged by a gateway, and one whose counts already
    // add every iteration (a proxy that summed them): nothing more.
    let gw = |id: &str, usage: &str| {
        format!(
            r#"{{"timestamp":"2026-11-10T11:00:00Z","request_id":"{id}","provider":"anthropic","model":"claude-sonnet-4-6","feature":"agent","usage":{{{usage}}}}}"#
        )
    };
    let summed = usage(
        r#""input_tokens":203000,"output_tokens":4500"#,
        r#"{"type":"compaction","input_tokens":180000,"output_tokens":3500},{"type":"message","input_tokens":23000,"output_tokens":1000}"#,
    );
    // A response served by the fallback model: its `fallback_message` is
    // the answer the usage's counts are (hunt143, hunt145: counted twice).
    let fallback = usage(
        r#""input_tokens":1000,"output_tokens":100"#,
        r#"{"type":"fallback_message","model":"claude-sonnet-4-6","input_tokens":1000,"output_tokens":100}"#,
    );
    env.write(
        "gateway.jsonl",
        [
            gw("g1", &advised),
            gw("g2", &compacted),
            gw("g3", &summed),
            gw("g4", &fallback),
        ]
        .join("\n")
            + "\n",
    );
    // Executor (Sonnet 4.6, $3/$15, reads $0.30, 5m writes $3.75): 100 × 3
    // + 20,000 × 0.3 + 1,000 × 3.75 + 500 × 15 = $0.01755. Its advisor
    // (Opus 4.6, $5/$25): 800 × 5 + 1,600 × 25 = $0.044. The compacted
    // call: 23,000 × 3 + 1,000 × 15 = $0.084, its compaction 180,000 × 3 +
    // 3,500 × 15 = $0.5925. Claude Code's: $0.73805 over 4 calls.
    let r = env.audit(&["projects"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.73805");
    assert_eq!(r["audit"]["totals"]["calls"], 4);
    assert_eq!(usd(&row(&r, "model", "claude-opus-4-6")["cost"]), "0.044");
    assert_eq!(row(&r, "model", "claude-opus-4-6")["calls"], 1);
    assert_eq!(
        usd(&row(&r, "model", "claude-sonnet-4-6")["cost"]),
        "0.69405"
    );
    // Attributed as the line is (project, session), and tagged.
    assert_eq!(usd(&row(&r, "feature", "shop")["cost"]), "0.73805");
    let tag = |r: &Value, key: &str| {
        r["audit"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["key"] == key)
            .map(|t| usd(&t["cost"]))
    };
    assert_eq!(
        tag(&r, "iteration=advisor_message").as_deref(),
        Some("0.044")
    );
    assert_eq!(tag(&r, "iteration=compaction").as_deref(), Some("0.5925"));
    // The second copy is one duplicate line, not two.
    assert_eq!(skipped(&r)["duplicate"], 1);
    // A store holds them as the audit counts them.
    env.ok(&["ingest", "projects", "--store", "st", "--quiet"]);
    let s = env.audit(&["--store", "st"]);
    assert_eq!(usd(&s["audit"]["totals"]["cost"]), "0.73805");
    assert_eq!(s["audit"]["totals"]["calls"], 4);
    // The gateway's: the same $0.73805, the summed line at its own counts,
    // 203,000 × 3 + 4,500 × 15 = $0.6765, and the fallback's answer once,
    // 1,000 × 3 + 100 × 15 = $0.0045: $1.41905 over 6 calls.
    let r = env.audit(&["gateway.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "1.41905");
    assert_eq!(r["audit"]["totals"]["calls"], 6);
    assert_eq!(r["audit"]["input"]["lines"], 4);
}

/// An OpenAI chat stream logged without `stream_options.include_usage` has
/// no usage in any chunk: its last chunk is a `missing_usage` reject at its
/// line, not a chunk skipped as no call (hunt130's bug3: five streams were
/// "1 call", nothing said, `--strict` passing). A stream whose usage chunk
/// comes after its last chunk is one call, as before.
#[test]
fn a_stream_without_usage_in_any_chunk_is_said() {
    let chunk = |id: &str, finish: Option<&str>, usage: &str| {
        let finish = finish.map_or("null".to_string(), |f| format!("\"{f}\""));
        format!(
            r#"{{"id":"{id}","object":"chat.completion.chunk","created":1790841600,"model":"gpt-4o","choices":[{{"index":0,"delta":{{"content":"x"}},"finish_reason":{finish}}}]{usage}}}"#
        )
    };
    let mut lines = Vec::new();
    for id in ["s1", "s2", "s3"] {
        lines.push(chunk(id, None, ""));
        lines.push(chunk(id, Some("stop"), ""));
    }
    // include_usage: the usage chunk after the finishing one, no choices.
    lines.push(chunk("s4", None, ""));
    lines.push(chunk("s4", Some("stop"), r#","usage":null"#));
    lines.push(
        r#"{"id":"s4","object":"chat.completion.chunk","created":1790841600,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":20,"total_tokens":1020}}"#
            .to_string(),
    );
    let env = Env::new();
    env.write("chunks.jsonl", lines.join("\n") + "\n");
    for threads in ["1", "2"] {
        let r = env.audit(&["chunks.jsonl", "--threads", threads]);
        let a = &r["audit"];
        // gpt-4o at $2.50/$10: 1,000 × 2.5 + 20 × 10 = $0.0027.
        assert_eq!(usd(&a["totals"]["cost"]), "0.0027");
        assert_eq!(a["totals"]["calls"], 1);
        assert_eq!(a["input"]["rejected_by_reason"]["missing_usage"], 3);
        let lines: Vec<u64> = a["input"]["rejected_samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["line"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, [2, 4, 6], "threads {threads}");
        // The first chunks are no calls; s4's finishing chunk a copy.
        assert_eq!(a["input"]["skipped_by_reason"]["not_a_call"], 4);
        assert_eq!(a["input"]["skipped_by_reason"]["duplicate"], 1);
    }
    let out = env
        .cmd()
        .args(["audit", "chunks.jsonl", "--strict", "--out", "o", "-q"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// hunt144's bug5: a self-hosted Helicone's own ClickHouse table
/// (`request_response_rmt`: `status`, and `cost` in billionths of a dollar,
/// its migrations' `cost Nullable(UInt64)`) was read as a gateway log: its
/// cache reads dropped (-22.5%) and its costs reconciled as dollars.
#[test]
fn helicones_clickhouse_table_is_read_as_helicone() {
    let env = Env::new();
    let row = |id: &str, model: &str, prompt: u64, read: u64, write: u64, out: u64, cost: u64| {
        serde_json::json!({"response_id": id, "request_id": id, "status": 200,
            "request_created_at": "2026-03-02 04:30:00.000", "model": model, "provider": "ANTHROPIC",
            "prompt_tokens": prompt, "prompt_cache_read_tokens": read,
            "prompt_cache_write_tokens": write, "completion_tokens": out,
            "cache_reference_id": "00000000-0000-0000-0000-000000000000",
            "properties": {"feature": "chat"}, "cost": cost})
        .to_string()
            + "\n"
    };
    // Sonnet 4.5: 200 × $3 + 3,000 × $0.30 + 1,000 × $3.75 + 500 × $15 per
    // million = $0.01275, as logged (12,750,000 billionths).
    env.write(
        "rmt.jsonl",
        row(
            "r1",
            "claude-sonnet-4-5-20250929",
            200,
            3000,
            1000,
            500,
            12_750_000,
        ),
    );
    let r = env.audit(&["rmt.jsonl", "--strict"]);
    assert_eq!(r["audit"]["input"]["files"][0]["format"], "helicone");
    assert_eq!(r["audit"]["totals"]["cached_read_tokens"], 3000);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.01275");
    let rec = &r["audit"]["reconciliation"][0];
    assert_eq!(usd(&rec["logged"]), "0.01275");
    assert_eq!(usd(&rec["difference"]), "0.00");
}

/// Helicone keeps reasoning tokens beside `completion_tokens` (its request
/// store's `reasoning_tokens`, which its `total_tokens` adds): billed as
/// output (hunt142's bug1: unbilled, gpt-5's call at 31% of its cost).
#[test]
fn helicone_reasoning_tokens_are_billed_beside_the_completion() {
    let env = Env::new();
    env.write(
        "helicone.jsonl",
        r#"{"request_id":"r1","request_created_at":"2026-11-03T10:00:00.000Z","response_status":200,"model":"gpt-5","provider":"OPENAI","prompt_tokens":904,"prompt_cache_read_tokens":4096,"prompt_cache_write_tokens":0,"completion_tokens":500,"reasoning_tokens":1500,"total_tokens":7000,"cost":0.021642}
"#,
    );
    let r = env.audit(&["helicone.jsonl", "--strict"]);
    // gpt-5 at $1.25/$10, reads $0.125: 904 × 1.25 + 4,096 × 0.125 +
    // (500 + 1,500) × 10 = $0.021642, Helicone's own cost.
    assert_eq!(totals(&r), ("0.021642".into(), 1, 5000, 4096, 2000, 1500));
    for rec in r["audit"]["reconciliation"].as_array().unwrap() {
        assert_eq!(usd(&rec["difference"]), "0.00", "{rec}");
    }
}

/// Langfuse's UI export writes each value that is not a string through
/// `JSON.stringify` into its CSV (`stringifyForCsv`): its dates are JSON
/// string literals, quotes and all, and the trace's tags are `traceTags`
/// (hunt142's bug3: every call a `bad_timestamp`, the tags lost).
#[test]
fn langfuse_ui_csv_dates_as_json_strings_are_read() {
    let env = Env::new();
    env.write(
        "ui.csv",
        "id,traceId,type,name,startTime,model,usageDetails,traceTags\n\
         o1,t1,GENERATION,chat,\"\"\"2025-10-01T10:00:00.123Z\"\"\",gpt-4o,\"{\"\"input\"\":1000,\"\"output\"\":100}\",\"[\"\"beta\"\"]\"\n",
    );
    let r = env.audit(&["ui.csv", "--strict"]);
    // gpt-4o: 1,000 × $2.50/M + 100 × $10/M = $0.0035.
    assert_eq!(totals(&r), ("0.0035".into(), 1, 1000, 0, 100, 0));
    assert_eq!(r["audit"]["first_call"], "2025-10-01T10:00:00.123Z");
    let tags: Vec<&str> = r["audit"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert!(tags.contains(&"tag=beta"), "{tags:?}");
}

/// LiteLLM's managed batches log the batch's cost as one spend-log row,
/// `<batch id>_batch_cost` (its docs' "Spend log fields"): at batch rates
/// (hunt142's bug2: real-time rates, twice LiteLLM's spend).
#[test]
fn a_litellm_batch_cost_row_is_priced_at_batch_rates() {
    let env = Env::new();
    env.write(
        "spend.json",
        r#"[{"request_id":"batch_bGl0ZW_batch_cost","session_id":"batch_bGl0ZW","call_type":"aretrieve_batch","startTime":"2026-11-03T15:00:12.000Z","model":"gemini-2.5-flash","custom_llm_provider":"vertex_ai","spend":0.0003221,"prompt_tokens":14,"completion_tokens":256,"total_tokens":270,"status":"success","metadata":{"batch_models":["gemini-2.5-flash"],"batch_successful_requests":2}}]"#,
    );
    let r = env.audit(&["spend.json", "--strict"]);
    // gemini-2.5-flash at half its $0.30/$2.50: 14 × 0.15 + 256 × 1.25 =
    // $0.0003221, LiteLLM's own spend.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0003221");
    assert_eq!(r["audit"]["batch_calls_at_full_price"], 0);
}

/// A Helicone row whose output was all reasoning: Helicone stores the
/// provider's `completion_tokens` (reasoning included) beside the same
/// `reasoning_tokens`, billed once (hunt143's bug3: twice).
#[test]
fn a_helicone_answer_of_reasoning_alone_is_billed_once() {
    let env = Env::new();
    env.write(
        "helicone.jsonl",
        r#"{"request_id":"r2","request_created_at":"2026-11-03T10:00:00.000Z","response_status":200,"model":"gpt-5","provider":"OPENAI","prompt_tokens":1000,"completion_tokens":2000,"reasoning_tokens":2000,"cost":0.02125}
"#,
    );
    let r = env.audit(&["helicone.jsonl", "--strict"]);
    // 1,000 × $1.25/M + 2,000 × $10/M = $0.02125, Helicone's own.
    assert_eq!(totals(&r), ("0.02125".into(), 1, 1000, 0, 2000, 2000));
}

/// A `[mapping]` for the gateway logs of a folder leaves the files a
/// built-in reader recognises to it (hunt139's bug3: OpenAI batch output
/// read through the mapping at real-time rates, Anthropic's batch results
/// rejected).
#[test]
fn a_mapping_leaves_batch_output_to_its_reader() {
    let env = Env::new();
    env.write(
        "tokenaudit.toml",
        // (Paths the batch output holds too, a time and an id, do not
        // make the mapping its: hunt149's bug1.)
        "[mapping]\nfeature = \"metadata.requester_metadata.feature\"\ntimestamp = \"timestamp\"\nrequest_id = \"id\"\n",
    );
    let dir = fixture("openai-batch");
    let r = env.audit(&[
        &format!("{dir}/batch_output.jsonl"),
        "--config",
        "tokenaudit.toml",
    ]);
    // As without the mapping: $0.0027 at batch rates.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0027");
    assert_eq!(r["audit"]["input"]["files"][0]["format"], "openai-batch");
}

/// Claude Code's headless output, `claude -p --output-format stream-json`
/// (the Agent SDK's message parser: `session_id`, `uuid`,
/// `parent_tool_use_id`), read as Claude Code's: its assistant messages are
/// the calls, its final `result` line (their sum) none (hunt145's bug4).
#[test]
fn claude_code_stream_json_output_is_read() {
    let sid = "0b1c2d3e-0000-4000-8000-000000000001";
    let msg = |id: &str, uuid: &str, usage: &str| {
        format!(
            r#"{{"type":"assistant","message":{{"id":"{id}","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[{{"type":"text","text":"x"}}],"stop_reason":"end_turn","usage":{usage}}},"parent_tool_use_id":null,"session_id":"{sid}","uuid":"{uuid}"}}"#
        )
    };
    let lines = [
        format!(
            r#"{{"type":"system","subtype":"init","cwd":"/ci/repo","session_id":"{sid}","model":"claude-sonnet-4-6","uuid":"a0"}}"#
        ),
        msg(
            "msg_A",
            "a1",
            r#"{"input_tokens":3,"cache_creation_input_tokens":12000,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":12000},"output_tokens":400}"#,
        ),
        msg(
            "msg_B",
            "a3",
            r#"{"input_tokens":5,"cache_creation_input_tokens":800,"cache_read_input_tokens":12000,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":800},"output_tokens":300}"#,
        ),
        format!(
            r#"{{"type":"result","subtype":"success","session_id":"{sid}","total_cost_usd":0.090924,"usage":{{"input_tokens":8,"cache_creation_input_tokens":12800,"cache_read_input_tokens":12000,"output_tokens":700}},"uuid":"a4"}}"#
        ),
    ];
    let env = Env::new();
    env.write("ci-run.jsonl", lines.join("\n") + "\n");
    // Told by --input-format: Qwen Code writes the same envelope with
    // another usage convention (hunt146's bug1).
    let r = env.audit(&["ci-run.jsonl", "--strict", "--input-format", "claude-code"]);
    assert_eq!(r["audit"]["input"]["files"][0]["format"], "claude-code");
    // Sonnet 4.6 ($3, reads $0.30, 1-hour writes $6, $15 out): 3 × 3 +
    // 12,000 × 6 + 400 × 15 = $0.078009; 5 × 3 + 800 × 6 + 12,000 × 0.3 +
    // 300 × 15 = $0.012915. $0.090924 over 2 calls, the session's.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.090924");
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(usd(&row(&r, "session", sid)["cost"]), "0.090924");
}

/// Gemini's request body names the tier `serviceTier` (the google-genai
/// SDK's camelCase): flex and priority calls at their rates (hunt147's
/// bug2: standard rates, unsaid).
#[test]
fn a_gemini_requests_service_tier_prices_the_call() {
    let resp = r#"{"candidates":[{"content":{"parts":[{"text":"ok"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":10000,"candidatesTokenCount":1000,"totalTokenCount":11000},"modelVersion":"gemini-3.5-flash","responseId":"t1"}"#;
    let line = |tier: &str| {
        format!(
            r#"{{"timestamp":"2026-11-02T10:00:00Z","request":{{"contents":[{{"role":"user","parts":[{{"text":"hi"}}]}}],"serviceTier":"{tier}"}},"response":{resp}}}"#
        )
    };
    let env = Env::new();
    env.write("flex.jsonl", line("flex") + "\n");
    env.write("priority.jsonl", line("priority") + "\n");
    // gemini-3.5-flash, $1.50/$9: 10,000 in and 1,000 out, $0.024; flex
    // half, priority × 1.8.
    let r = env.audit(&["flex.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.012");
    let r = env.audit(&["priority.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0432");
    // Its enum's spelling (hunt149's bug2).
    env.write("enum.jsonl", line("SERVICE_TIER_FLEX") + "\n");
    let r = env.audit(&["enum.jsonl"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.012");
}

/// The `[mapping.defaults]` `tokenaudit formats` gives for Bedrock batch
/// output that names no model (Nova's) reads it: a mapping written for a
/// file is not set aside for the built-in reader (hunt146's bug5: every
/// record `missing_model`).
#[test]
fn a_mapping_of_defaults_reads_batch_output_that_names_no_model() {
    let env = Env::new();
    let record = |id: &str| {
        format!(
            r#"{{"recordId":"{id}","modelInput":{{"messages":[]}},"modelOutput":{{"output":{{"message":{{"role":"assistant","content":[]}}}},"stopReason":"end_turn","usage":{{"inputTokens":10000,"outputTokens":1000}}}}}}"#
        )
    };
    env.write(
        "job/records.jsonl.out",
        [record("r1"), record("r2"), record("r3")].join("\n") + "\n",
    );
    env.write(
        "tokenaudit.toml",
        "[mapping.defaults]\nmodel = \"amazon.nova-pro-v1:0\"\nprovider = \"bedrock\"\nbatch = true\n",
    );
    let r = env.audit(&["job", "--config", "tokenaudit.toml", "--strict"]);
    // Nova Pro ($0.80/$3.20), at batch rates: 3 × (10,000 × 0.8 + 1,000 ×
    // 3.2) / 2 = $0.0168.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0168");
    assert_eq!(r["audit"]["totals"]["calls"], 3);
}

/// Langfuse observations of Gemini calls whose usage keeps Gemini's own
/// names (Langfuse's LangChain handler for ChatVertexAI; `usage_metadata`
/// passed as `usage_details`, in either case): the prompt count holds the
/// cache, the thoughts are beside the candidates (hunt147's bug1: −54% to
/// −68%, unsaid).
#[test]
fn langfuse_gemini_usage_names_are_read() {
    let shapes = [
        r#"{"input":0,"output":0,"total":13000,"input_modality_1":6000,"output_modality_1":1000,"cached_modality_1":4000,"cached_content_token_count":4000,"thoughts_token_count":2000}"#,
        r#"{"prompt_token_count":10000,"candidates_token_count":1000,"cached_content_token_count":4000,"thoughts_token_count":2000,"total_token_count":13000}"#,
        r#"{"promptTokenCount":10000,"candidatesTokenCount":1000,"cachedContentTokenCount":4000,"thoughtsTokenCount":2000,"totalTokenCount":13000}"#,
        // A modality named, not numbered (hunt149's bug4).
        r#"{"input":0,"output":0,"total":13000,"input_modality_TEXT":6000,"output_modality_TEXT":1000,"cached_modality_TEXT":4000,"cached_content_token_count":4000,"thoughts_token_count":2000}"#,
    ];
    let env = Env::new();
    for (i, usage) in shapes.iter().enumerate() {
        env.write(
            &format!("o{i}.jsonl"),
            format!(
                r#"{{"id":"o{i}","traceId":"t-1","type":"GENERATION","name":"ChatVertexAI","startTime":"2026-11-02T10:00:00.000Z","model":"gemini-2.5-flash","level":"DEFAULT","usageDetails":{usage}}}"#
            ) + "\n",
        );
        let r = env.audit(&[&format!("o{i}.jsonl"), "--strict"]);
        // gemini-2.5-flash ($0.30, cached $0.03, $2.50 out): 6,000 × 0.30
        // + 4,000 × 0.03 + (1,000 + 2,000) × 2.50 = $0.00942.
        assert_eq!(
            totals(&r),
            ("0.00942".into(), 1, 10000, 4000, 3000, 2000),
            "{usage}"
        );
    }
    // A built-in tool's prompt is input beside the prompt count (hunt149's
    // bug3: taken for it, the cache left out twice): 500 × 0.30 more.
    env.write(
        "tool.jsonl",
        r#"{"id":"t","traceId":"t-1","type":"GENERATION","startTime":"2026-11-02T10:00:00.000Z","model":"gemini-2.5-flash","usageDetails":{"input":0,"output":0,"input_modality_1":6000,"output_modality_1":1000,"cached_modality_1":4000,"cached_content_token_count":4000,"thoughts_token_count":2000,"tool_use_prompt_token_count":500}}"#.to_string() + "\n",
    );
    let r = env.audit(&["tool.jsonl", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00957");
}

/// An inline-request Gemini batch's results (`inlinedResponses`, each
/// `{response, metadata: {key}}`), one per line: batch output at batch
/// rates (hunt147's bug4: a gateway log at twice them).
#[test]
fn gemini_inlined_batch_responses_are_batch_output() {
    let line = |k: u32| {
        format!(
            r#"{{"response":{{"candidates":[{{"content":{{"parts":[{{"text":"x"}}],"role":"model"}},"finishReason":"STOP"}}],"usageMetadata":{{"promptTokenCount":10000,"candidatesTokenCount":1000,"totalTokenCount":11000}},"modelVersion":"gemini-2.5-flash"}},"metadata":{{"key":"req-{k}"}}}}"#
        )
    };
    let env = Env::new();
    env.write(
        "inlined.jsonl",
        (1..=3).map(line).collect::<Vec<_>>().join("\n") + "\n",
    );
    let r = env.audit(&["inlined.jsonl", "--strict"]);
    assert_eq!(r["audit"]["input"]["files"][0]["format"], "gemini-batch");
    // gemini-2.5-flash at half its $0.30/$2.50: 3 × (10,000 × 0.15 +
    // 1,000 × 1.25) = $0.00825.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00825");
    // Its metadata the user's own, without a `key`, a failed request
    // first (hunt149's bug5).
    let other = |k: u32| line(k).replace(r#""key":"#, r#""request_id":"#);
    let failed =
        r#"{"error":{"code":8,"message":"RESOURCE_EXHAUSTED"},"metadata":{"request_id":"req-0"}}"#;
    env.write(
        "inlined2.jsonl",
        std::iter::once(failed.to_string())
            .chain((1..=3).map(other))
            .collect::<Vec<_>>()
            .join("\n")
            + "\n",
    );
    let r = env.audit(&["inlined2.jsonl"]);
    assert_eq!(r["audit"]["input"]["files"][0]["format"], "gemini-batch");
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00825");
}

/// MLflow stores every span attribute as JSON text (`"\"gpt-4o\""`): a
/// mapped path reads the string it holds in a Parquet struct column as in
/// JSON lines (the model kept its quotes, unpriced), and `[mapping.only]`
/// compares the string too (every span was skipped: hunt167).
#[test]
fn json_text_of_a_string_is_its_string_in_parquet_structs_and_mapping_only() {
    use arrow_array::{ArrayRef, Int64Array, StringArray, StructArray};
    use std::sync::Arc;
    let env = Env::new();
    let strs = |v: Vec<&str>| Arc::new(StringArray::from(v)) as ArrayRef;
    let ints = |v: Vec<i64>| Arc::new(Int64Array::from(v)) as ArrayRef;
    let attributes: ArrayRef = Arc::new(
        StructArray::try_from(vec![
            (
                "model",
                strs(vec!["\"gpt-4o\"", "\"gpt-4o\"", "\"gpt-4o\""]),
            ),
            (
                "span_type",
                strs(vec!["\"CHAT_MODEL\"", "\"CHAT_MODEL\"", "\"CHAIN\""]),
            ),
            ("user", strs(vec!["\"u0\"", "\"u1\"", "\"u1\""])),
            ("input_tokens", ints(vec![10_000, 20_000, 30_000])),
            ("output_tokens", ints(vec![500, 1_000, 1_500])),
        ])
        .unwrap(),
    );
    crate::inputs::write_parquet(&env.path("spans.parquet"), vec![("attributes", attributes)]);
    let mut jsonl = String::new();
    for (t, u, i, o) in [
        ("CHAT_MODEL", "u0", 10_000, 500),
        ("CHAT_MODEL", "u1", 20_000, 1_000),
        ("CHAIN", "u1", 30_000, 1_500),
    ] {
        jsonl += &serde_json::json!({"attributes": {"model": "\"gpt-4o\"", "span_type": format!("\"{t}\""), "user": format!("\"{u}\""), "input_tokens": i, "output_tokens": o}}).to_string();
        jsonl.push('\n');
    }
    env.write("spans.jsonl", jsonl);
    let mapping = "[mapping]\nmodel = \"attributes.model\"\nuser = \"attributes.user\"\ninput_tokens = \"attributes.input_tokens\"\noutput_tokens = \"attributes.output_tokens\"\n";
    env.write("map.toml", mapping);
    env.write(
        "only.toml",
        format!("{mapping}[mapping.only]\n\"attributes.span_type\" = [\"CHAT_MODEL\"]\n"),
    );
    // gpt-4o (2.5 / 10): 10,000 × 2.5 + 500 × 10 = $0.03; 20,000 × 2.5 +
    // 1,000 × 10 = $0.06; 30,000 × 2.5 + 1,500 × 10 = $0.09.
    for (file, config, cost, calls) in [
        ("spans.parquet", "map.toml", "0.18", 3),
        ("spans.jsonl", "only.toml", "0.09", 2),
        ("spans.parquet", "only.toml", "0.09", 2),
    ] {
        let r = env.audit(&[file, "--config", config]);
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), cost, "{file} {config}");
        assert_eq!(r["audit"]["totals"]["calls"], calls, "{file} {config}");
        assert_eq!(cost_of(&r, "user", "u0"), "0.03", "{file} {config}");
    }
}

/// A mapped `messages` path is read from Parquet as from JSON lines: the
/// prompt's fingerprints are made (hunt167: never read from Parquet, and
/// the prompt rules had nothing to compare, unsaid).
#[test]
fn a_mapped_messages_path_is_read_from_parquet() {
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    use std::sync::Arc;
    let env = Env::new();
    let n = 6;
    let messages: Vec<String> = (0..n)
        .map(|i| {
            serde_json::json!([{"role": "system", "content": "You are a bot."}, {"role": "user", "content": format!("question {}", i % 2)}]).to_string()
        })
        .collect();
    crate::inputs::write_parquet(
        &env.path("calls.parquet"),
        vec![
            (
                "model",
                Arc::new(StringArray::from(vec!["gpt-4o"; n])) as ArrayRef,
            ),
            (
                "req_messages",
                Arc::new(StringArray::from(
                    messages.iter().map(String::as_str).collect::<Vec<_>>(),
                )) as ArrayRef,
            ),
            (
                "tok_in",
                Arc::new(Int64Array::from(vec![1000; n])) as ArrayRef,
            ),
            (
                "tok_out",
                Arc::new(Int64Array::from(vec![100; n])) as ArrayRef,
            ),
        ],
    );
    env.write(
        "map.toml",
        "[mapping]\nmodel = \"model\"\nmessages = \"req_messages\"\ninput_tokens = \"tok_in\"\noutput_tokens = \"tok_out\"\n",
    );
    let r = env.audit(&["calls.parquet", "--config", "map.toml", "--strict"]);
    // 6 × (1,000 × 2.5 + 100 × 10) per million = $0.021.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.021");
    let present = |field: &str| {
        r["audit"]["coverage"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["field"] == field)
            .map_or(0, |c| c["present"].as_u64().unwrap())
    };
    assert_eq!(present("prompt_fingerprint"), 6);
}

/// `cache_read_tokens` and `cache_creation_tokens` beside the input (the
/// columns of Anthropic's Claude Code analytics report, flattened) are the
/// cache's reads and writes, in a JSON line and a CSV row (hunt166: they
/// were dropped, −80%).
#[test]
fn cache_read_and_creation_token_columns_are_read() {
    let env = Env::new();
    env.write(
        "a.jsonl",
        r#"{"model":"claude-sonnet-4-5","input_tokens":1000,"cache_read_tokens":5000,"cache_creation_tokens":400,"output_tokens":100}"#,
    );
    env.write(
        "a.csv",
        "model,input_tokens,output_tokens,cache_read_tokens,cache_creation_tokens\nclaude-sonnet-4-5,1000,100,5000,400\n",
    );
    for file in ["a.jsonl", "a.csv"] {
        let r = env.audit(&[file, "--strict"]);
        // Sonnet 4.5: 1,000 × 3 + 5,000 × 0.3 + 400 × 3.75 + 100 × 15 =
        // $0.0075.
        assert_eq!(
            totals(&r),
            ("0.0075".into(), 1, 6_400, 5_000, 100, 0),
            "{file}"
        );
    }
    // pydantic-ai's usage (`ModelResponse.usage`: its `input_tokens` holds
    // the cache, `models/anthropic.py`'s `_map_usage`): the reads fit in
    // the input, so are inside it (hunt171: counted twice, 2.51×);
    // Anthropic's own names with a total of input and output added by a
    // logger (strands-agents) stay beside it (hunt171: −45%).
    env.write(
        "b.jsonl",
        concat!(
            r#"{"kind":"response","model_name":"claude-sonnet-4-5","provider_name":"anthropic","usage":{"input_tokens":10000,"cache_write_tokens":0,"cache_read_tokens":8000,"output_tokens":500,"details":{}}}"#,
            "\n",
            r#"{"model":"claude-sonnet-4-5","usage":{"input_tokens":6000,"cache_read_input_tokens":4000,"output_tokens":500,"total_tokens":6500}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["b.jsonl", "--strict"]);
    // 2,000 × 3 + 8,000 × 0.3 + 500 × 15 = $0.0159; 6,000 × 3 + 4,000 ×
    // 0.3 + 500 × 15 = $0.0267.
    assert_eq!(totals(&r), ("0.0426".into(), 2, 20_000, 12_000, 1_000, 0));
}

/// Rows that sum many requests are refused as summed, not priced as one
/// call at the long-context tier (hunt166, hunt170): Cursor's per-model
/// export (`Request Count`), Vercel AI Gateway's spend report
/// (`request_count`, `requestCount`), the Claude Console's export (its
/// `context_window` of `≤ 200k`).
#[test]
fn summed_rows_of_usage_exports_are_refused() {
    let env = Env::new();
    env.write(
        "cursor.csv",
        "Model,Request Count,Input (w/o Cache Write),Cache Read,Output Tokens,Cost ($)\nclaude-4.5-sonnet,150,1500000,12000000,600000,17.10\n",
    );
    env.write(
        "vercel.jsonl",
        concat!(
            r#"{"day":"2026-11-01","model":"anthropic/claude-sonnet-4.5","total_cost":23.3,"input_tokens":4200000,"output_tokens":980000,"request_count":8400}"#,
            "\n",
            r#"{"day":"2026-11-01","model":"anthropic/claude-sonnet-4.5","totalCost":23.3,"inputTokens":4200000,"outputTokens":980000,"requestCount":8400}"#,
            "\n",
        ),
    );
    env.write(
        "console.jsonl",
        r#"{"usage_date_utc":"2026-11-01","model_version":"claude-sonnet-4-5-20250929","context_window":"≤ 200k","input_tokens":1000000,"output_tokens":50000}"#,
    );
    // Anthropic's hourly usage report unloaded in upper case (a warehouse's):
    // the file is refused as a usage report, not offered a mapping that
    // would price each bucket as one call (hunt166: 1.76×).
    env.write(
        "upper.csv",
        "STARTING_AT,ENDING_AT,MODEL,UNCACHED_INPUT_TOKENS,OUTPUT_TOKENS,CONTEXT_WINDOW\n2026-11-01T00:00:00Z,2026-11-01T01:00:00Z,claude-sonnet-4-5,1000000,50000,0-200k\n",
    );
    let out = env
        .cmd()
        .args(["audit", "upper.csv", "--out", "out", "--quiet"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not read: it is a usage report's rows"),
        "{err}"
    );
    assert_eq!(env.report()["audit"]["totals"]["calls"], 0);
    // A query's count of calls (CloudWatch Logs Insights over Bedrock's
    // invocation logs), a collector's OpenAI buckets (`num_requests`), and
    // Anthropic's usage-report buckets saved one a line, whose `results`
    // were read as a page of calls (hunt180: 1,500 invocations priced as 2
    // calls; each bucket's sum as one call at the long-context tier).
    env.write(
        "insights.csv",
        "modelId,identity.arn,input_tokens,cache_read,cache_write,output_tokens,calls
anthropic.claude-sonnet-4-5-20250929-v1:0,arn:aws:iam::1:user/alice,150000,500000,20000,30000,1000
",
    );
    env.write(
        "buckets.jsonl",
        concat!(
            r#"{"provider":"openai","source":"openai_admin","model":"gpt-4o","bucket_start":1790000000,"bucket_end":1790003600,"prompt_tokens":800000,"completion_tokens":60000,"num_requests":1200}"#,
            "\n",
            r#"{"timestamp":"2026-11-01T00:00:00Z","model":"gpt-4o","n_requests":40,"prompt_tokens":80000,"completion_tokens":6000}"#,
            "\n",
        ),
    );
    env.write(
        "report.jsonl",
        concat!(
            r#"{"starting_at":"2026-11-01T00:00:00Z","ending_at":"2026-11-02T00:00:00Z","results":[{"uncached_input_tokens":600000,"output_tokens":20000,"model":"claude-sonnet-4-5-20250929","context_window":null},{"uncached_input_tokens":60000,"output_tokens":4000,"model":"claude-opus-4-1-20250805"}]}"#,
            "\n",
            r#"{"starting_at":"2026-11-02T00:00:00Z","ending_at":"2026-11-03T00:00:00Z","results":[{"uncached_input_tokens":600000,"output_tokens":20000,"model":"claude-sonnet-4-5-20250929"}]}"#,
            "\n",
        ),
    );
    for (file, lines) in [
        ("cursor.csv", 1),
        ("vercel.jsonl", 2),
        ("console.jsonl", 1),
        ("insights.csv", 1),
        ("buckets.jsonl", 2),
        ("report.jsonl", 2),
    ] {
        let out = env
            .cmd()
            .args(["audit", file, "--out", "out", "--quiet"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{file}");
        let r = env.report();
        assert_eq!(r["audit"]["totals"]["calls"], 0, "{file}");
        assert_eq!(
            r["audit"]["input"]["rejected_by_reason"]["summed_usage"], lines,
            "{file}"
        );
    }
}

/// A row's `cache_write_tokens` beside its input (Bedrock's invocation
/// counts spread into a row, hunt180) are cache writes: 1,000 × $3 + 2,000
/// × $3.75 + 100 × $15 per million = $0.012.
#[test]
fn cache_write_tokens_beside_the_input_are_writes() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        r#"{"timestamp":"2026-11-01T10:00:00Z","model":"claude-sonnet-4-5","input_tokens":1000,"cache_write_tokens":2000,"output_tokens":100}"#,
    );
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.012");
}

/// Kong 3.11's `ai.proxy.usage.prompt_tokens_details.cached_tokens` (its AI
/// audit log reference) is read when the payload is not logged, Kong's
/// default (hunt170: priced as fresh input, +50%).
#[test]
fn kongs_usage_breakdown_gives_the_cached_reads() {
    let env = Env::new();
    env.write(
        "kong.jsonl",
        r#"{"request":{"method":"POST","uri":"/openai/v1/chat/completions"},"response":{"status":200},"route":{"name":"openai-chat"},"latencies":{"request":2700,"kong":20,"proxy":2680},"started_at":1790000000000,"ai":{"proxy":{"usage":{"prompt_tokens":10000,"completion_tokens":500,"total_tokens":10500,"prompt_tokens_details":{"cached_tokens":8000,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},"meta":{"request_model":"gpt-4o","provider_name":"openai","response_model":"gpt-4o-2024-08-06"}}}}"#,
    );
    let r = env.audit(&["kong.jsonl", "--strict"]);
    // gpt-4o: 2,000 × 2.5 + 8,000 × 1.25 + 500 × 10 per million = $0.02.
    assert_eq!(totals(&r), ("0.02".into(), 1, 10_000, 8_000, 500, 0));
}
