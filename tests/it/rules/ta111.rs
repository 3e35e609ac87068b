//! TA111 premium-model-for-small-task: a premium model giving tiny answers
//! that its small sibling would give for a fraction of the price.
//!
//! Prices (shipped catalog, `tokenaudit prices show gpt-4o` / `gpt-4o-mini`),
//! USD per million tokens: gpt-4o input $2.50, output $10; gpt-4o-mini input
//! $0.15, output $0.60. Blended 3:1 (input:output): gpt-4o (3 × 2.5 + 10) / 4
//! = $4.375, gpt-4o-mini (3 × 0.15 + 0.6) / 4 = $0.2625, a ratio of 16.67.

use serde_json::json;

use crate::util::{findings, gw_line, Env};

/// `minute` minutes after 2026-10-01T00:00 UTC.
fn at(minute: u32) -> String {
    let (day, rest) = (1 + minute / 1440, minute % 1440);
    format!("2026-10-{day:02}T{:02}:{:02}:00Z", rest / 60, rest % 60)
}

/// 121 calls of 512 input and `output` output tokens on gpt-4o, 24 minutes
/// apart: two days from the first to the last, and of the third day the
/// calls at 00:00 (3 of 121, its one call's minute), so 2 + 3/121 days of
/// traffic. (512 is the lower
/// bound of its histogram bucket, so its p95 is exact.)
fn classifier(output: u64) -> String {
    (0..121u32)
        .map(|i| {
            gw_line(
                &at(i * 24),
                "ticket-classifier",
                "gpt-4o",
                512,
                output,
                json!({"request_id": format!("c-{i:03}")}),
            ) + "\n"
        })
        .collect()
}

#[test]
fn tiny_outputs_on_a_premium_model_are_routed_to_its_small_sibling() {
    let env = Env::new();
    env.write("calls.jsonl", classifier(4));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA111");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    assert_eq!(
        f["scope"],
        json!({"feature": "ticket-classifier", "model": "openai/gpt-4o"})
    );
    assert_eq!(
        f["title"],
        "ticket-classifier: gpt-4o answers with 4 tokens at p95; gpt-4o-mini costs 17× less"
    );
    let e = &f["evidence"];
    assert_eq!(e["calls"], 121);
    assert_eq!(e["p95_output_tokens"], 4);
    assert_eq!(e["p95_input_tokens"], 512);
    assert_eq!(e["target_model"], "openai/gpt-4o-mini");
    assert_eq!(e["price_ratio"], json!(16.67));
    // Per call on gpt-4o: 512 × $2.50/M + 4 × $10/M = $0.00128 + $0.00004
    // = $0.00132; × 121 = $0.15972.
    assert_eq!(e["cost_now"], "0.15972");
    // On gpt-4o-mini: 512 × $0.15/M + 4 × $0.60/M = $0.0000768 +
    // $0.0000024 = $0.0000792; × 121 = $0.0095832.
    assert_eq!(e["cost_on_target"], "0.0095832");
    // Saving $0.15972 − $0.0095832 = $0.1501368 over 2 + 3/121 days; × 30
    // × 121/245 = $2.224475853061 a month.
    assert_eq!(f["savings"]["observed"], "0.1501368");
    assert_eq!(f["savings"]["monthly"], "2.224475853061");
    assert_eq!(f["severity"], "low");
    assert_eq!(f["confidence"], "medium");
    assert_eq!(f["sample_requests"], json!([]));
    assert_eq!(
        f["lever"],
        json!({"kind": "route", "feature": "ticket-classifier", "model": "openai/gpt-4o", "to": "openai/gpt-4o-mini"})
    );
}

#[test]
fn long_answers_on_a_premium_model_are_not_flagged() {
    let env = Env::new();
    // p95 output 200: neither tiny (≤ 16) nor short-prompt small (≤ 64).
    env.write("calls.jsonl", classifier(200));
    let cfg = env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    assert!(findings(&r, "TA111").is_empty());
}

#[test]
fn options_change_what_counts_as_a_small_task_and_a_premium_price() {
    // max_output = 50: prompts are short (p95 512 < 1000) and outputs up to
    // 4 × 50 = 200 tokens now qualify, at low confidence.
    let env = Env::new();
    env.write("calls.jsonl", classifier(200));
    let cfg = env.write("cfg.toml", "[rules.TA111]\nmax_output = 50\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    let f = findings(&r, "TA111");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["confidence"], "low");
    assert_eq!(f[0]["evidence"]["p95_output_tokens"], 200);
    // gpt-4o: $0.00128 + 200 × $10/M = $0.00328 a call, × 121 = $0.39688;
    // gpt-4o-mini: $0.0000768 + 200 × $0.60/M = $0.0001968, × 121 =
    // $0.0238128. Saving $0.3730672; × 30 × 121/245 = $5.527485453061 a
    // month.
    assert_eq!(f[0]["evidence"]["cost_now"], "0.39688");
    assert_eq!(f[0]["evidence"]["cost_on_target"], "0.0238128");
    assert_eq!(f[0]["savings"]["observed"], "0.3730672");
    assert_eq!(f[0]["savings"]["monthly"], "5.527485453061");

    // min_ratio = 20: gpt-4o is only 16.67× its sibling.
    let env = Env::new();
    env.write("calls.jsonl", classifier(4));
    let cfg = env.write("cfg.toml", "[rules.TA111]\nmin_ratio = 20\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    assert!(findings(&r, "TA111").is_empty());
}

/// A tiny answer about a long document is a reading task, not a small one:
/// above `max_input` (8,000) p95 input tokens, no routing finding.
#[test]
fn yes_no_about_long_documents_is_not_a_small_task() {
    let env = Env::new();
    let calls = |input: u64| -> String {
        (0..121u32)
            .map(|i| {
                gw_line(
                    &at(i * 24),
                    "contract-risk",
                    "gpt-4o",
                    input,
                    2,
                    json!({"request_id": format!("r-{i:03}")}),
                ) + "\n"
            })
            .collect()
    };
    env.write("calls.jsonl", calls(12_288));
    let r = env.audit(&["calls.jsonl"]);
    assert!(findings(&r, "TA111").is_empty());
    // Raised above the documents' size, the rule finds them again.
    env.write("cfg.toml", "[rules.TA111]\nmax_input = 20000\n");
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    assert_eq!(findings(&r, "TA111").len(), 1);
}

/// gpt-4.1-mini (input $0.40, output $1.60 per million) giving 8-token
/// answers: its cheaper siblings are gpt-4.1-nano ($0.10 / $0.40) and
/// gpt-5-nano ($0.05 / $0.40), which reasons, billing hidden reasoning
/// tokens these logs cannot show. The target is the one that does not.
#[test]
fn a_model_that_does_not_reason_is_routed_to_one_that_does_not() {
    let env = Env::new();
    let calls: String = (0..121u32)
        .map(|i| {
            gw_line(
                &at(i * 24),
                "triage",
                "gpt-4.1-mini",
                512,
                8,
                json!({"request_id": format!("t-{i:03}")}),
            ) + "\n"
        })
        .collect();
    env.write("calls.jsonl", calls);
    let cfg = env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    let f = findings(&r, "TA111");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["evidence"]["target_model"], "openai/gpt-4.1-nano");
    // 121 × (512 × $0.40 + 8 × $1.60)/M = $0.0263296 now; on gpt-4.1-nano
    // 121 × (512 × $0.10 + 8 × $0.40)/M = $0.0065824: saves $0.0197472.
    assert_eq!(f[0]["evidence"]["cost_now"], "0.0263296");
    assert_eq!(f[0]["evidence"]["cost_on_target"], "0.0065824");
    assert_eq!(f[0]["savings"]["observed"], "0.0197472");
}

/// Speech models are not routed to a text model (hunt132: transcriptions
/// "routed" to gpt-4.1-nano, their audio re-priced at its text rate, "saved
/// $7.63 of $7.68"): the same tiny answers from gpt-4o-transcribe,
/// gpt-audio or gpt-realtime give no finding.
#[test]
fn speech_models_are_not_routed_to_a_text_model() {
    for model in ["gpt-4o-transcribe", "gpt-audio", "gpt-realtime"] {
        let env = Env::new();
        env.write(
            "calls.jsonl",
            classifier(4).replace("\"gpt-4o\"", &format!("\"{model}\"")),
        );
        let r = env.audit(&["calls.jsonl"]);
        assert_eq!(r["audit"]["totals"]["calls"], 121, "{model}");
        assert_eq!(findings(&r, "TA111").len(), 0, "{model}");
    }
}

/// hunt156: a cell whose calls ran web searches (Responses' web_search_call
/// items, the fee given with --prices: $10 per 1,000) saves only its tokens
/// by moving to a model without a search price: the searches run there too.
/// 600 calls of 1,000 tokens in and 10 out on gpt-4.1 ($2, $8 per million):
/// $1.248 of tokens, $0.0624 on gpt-4.1-nano ($0.10, $0.40), and $6 of
/// searches either way.
#[test]
fn routing_saves_the_tokens_not_the_searches() {
    let env = Env::new();
    env.write(
        "fee.json",
        r#"{"schema": 1, "version": "fee", "models": [{"provider": "openai", "id": "gpt-4.1",
            "prices": [{"input": "2", "output": "8", "cached_read": "0.5", "web_search_kcount": "10"}]}]}"#,
    );
    let mut s = String::new();
    for i in 0..600u64 {
        s += &serde_json::json!({"id": format!("resp_{i:06}"), "object": "response",
            "created_at": 1_793_664_000 + i * 600, "status": "completed", "model": "gpt-4.1",
            "metadata": {"feature": "price-lookup"},
            "input": [{"role": "user", "content": format!("price of item {i}")}],
            "output": [{"type": "web_search_call", "id": format!("ws_{i}"), "status": "completed",
                "action": {"type": "search", "query": "price"}}],
            "usage": {"input_tokens": 1000, "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 10, "total_tokens": 1010}})
        .to_string();
        s.push('\n');
    }
    env.write("r.jsonl", s);
    let r = env.audit(&["r.jsonl", "--prices", "fee.json"]);
    assert_eq!(r["audit"]["totals"]["cost"], "7.248");
    let f = findings(&r, "TA111");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["savings"]["observed"], "1.1856");
    let step = r["audit"]["savings"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["category"] == "routing")
        .unwrap()
        .clone();
    assert_eq!(step["savings"], "1.1856");
}
