//! TA112 output-bloat: answers cut at the length limit, and runaway outputs
//! on calls sent without max_tokens.
//!
//! Price (shipped catalog, `tokenaudit prices show gpt-4o`): input $2.50,
//! output $10 per million tokens. Output counts stay under 64, where the
//! output histogram is exact, so every quantile here is exact.

use serde_json::{json, Value};

use crate::util::{findings, gw_line, Env};

/// 2026-10-01 at `minute` minutes after 00:00 UTC.
fn at(minute: u32) -> String {
    format!("2026-10-01T{:02}:{:02}:00Z", minute / 60, minute % 60)
}

fn call(i: u32, id: String, input: u64, output: u64, extra: Value) -> String {
    let mut fields = json!({"request_id": id});
    if let (Some(o), Some(more)) = (fields.as_object_mut(), extra.as_object()) {
        o.extend(more.clone());
    }
    gw_line(&at(i * 5), "report-writer", "gpt-4o", input, output, fields) + "\n"
}

/// 90 calls without max_tokens (1,000 input each): 80 answer in 10 tokens,
/// 6 in 12 and 4 run away to 60. Ten calls with max_tokens 50 (20,000 input
/// each) stop on the limit at 50 tokens.
fn bloated() -> String {
    let mut s = String::new();
    let mut i = 0;
    for (n, output) in [(80, 10), (6, 12), (4, 60)] {
        for _ in 0..n {
            s += &call(i, format!("free-{i:03}"), 1000, output, json!({}));
            i += 1;
        }
    }
    for k in 0..10 {
        s += &call(
            i,
            format!("cap-{k:02}"),
            20_000,
            50,
            json!({"max_tokens": 50, "finish_reason": "length"}),
        );
        i += 1;
    }
    s
}

#[test]
fn capped_and_runaway_outputs_are_found_with_their_saving() {
    let env = Env::new();
    env.write("calls.jsonl", bloated());
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA112");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    assert_eq!(
        f["scope"],
        json!({"feature": "report-writer", "model": "openai/gpt-4o"})
    );
    assert_eq!(
        f["title"],
        "report-writer: 10% of calls cut at the length limit; no max_tokens and p99 output 60 tokens vs median 10 on gpt-4o"
    );
    let e = &f["evidence"];
    assert_eq!(e["calls"], 100);
    assert_eq!(e["length_capped_calls"], 10);
    assert_eq!(e["length_capped_share"], json!(0.1));
    // A capped call: 20,000 × $2.50/M + 50 × $10/M = $0.05 + $0.0005 =
    // $0.0505; ten of them $0.505.
    assert_eq!(e["length_capped_cost"], "0.505");
    assert_eq!(e["calls_without_max_tokens"], 90);
    // Nearest rank over the 90 uncapped outputs: p50 rank 45 → 10, p95 rank
    // ⌈85.5⌉ = 86 → 12, p99 rank ⌈89.1⌉ = 90 → 60 (≥ 5 × 10: a tail).
    assert_eq!(e["median_output_uncapped"], 10);
    assert_eq!(e["p95_output_uncapped"], 12);
    assert_eq!(e["p99_output_uncapped"], 60);
    // Above the p95: the 4 runaway calls, (60 − 12) × 4 = 192 tokens.
    assert_eq!(e["calls_above_p95"], 4);
    assert_eq!(e["output_tokens_above_p95"], 192);
    // 192 × $10/M = $0.00192, plus half the capped calls' $0.505 = $0.2525:
    // $0.25442 in one day (a period under a day counts as one); × 30 =
    // $7.6326 a month.
    assert_eq!(f["savings"]["observed"], "0.25442");
    assert_eq!(f["savings"]["monthly"], "7.6326");
    assert_eq!(f["severity"], "low");
    assert_eq!(f["confidence"], "medium");
    assert_eq!(f["sample_requests"], json!(["cap-00", "cap-01", "cap-02"]));
    assert_eq!(
        f["lever"],
        json!({"kind": "max_output", "feature": "report-writer", "model": "openai/gpt-4o", "tokens": 12, "unset_only": true})
    );
}

/// hunt151: the finding's cap is for the calls sent without a limit; the
/// waterfall cut the calls that set `max_tokens` too, to the others' p95
/// (its step 7.7× the finding). 80 calls without a limit answer in 10
/// tokens and 4 run away to 60; 40 calls with `max_tokens: 60` answer in
/// 40 and stop.
#[test]
fn the_output_step_cuts_only_the_calls_without_a_limit() {
    let env = Env::new();
    let mut s = String::new();
    let mut i = 0;
    for (n, output, extra) in [
        (80, 10, json!({})),
        (4, 60, json!({})),
        (40, 40, json!({"max_tokens": 60, "finish_reason": "stop"})),
    ] {
        for _ in 0..n {
            s += &call(i, format!("c-{i:03}"), 1000, output, extra.clone());
            i += 1;
        }
    }
    env.write("calls.jsonl", s);
    env.write("c.toml", "[detect]\nmin_savings = 0.0001\n");
    let r = env.audit(&["calls.jsonl", "--config", "c.toml"]);
    let f = findings(&r, "TA112");
    assert_eq!(f.len(), 1, "{f:#?}");
    // p95 of the 84 outputs without a limit: rank ⌈79.8⌉ = 80 → 10; above
    // it, 4 × 50 = 200 tokens × $10/M = $0.002.
    assert_eq!(f[0]["evidence"]["p95_output_uncapped"], 10);
    assert_eq!(f[0]["savings"]["observed"], "0.002");
    let step = r["audit"]["savings"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["category"] == "retry_output")
        .unwrap()
        .clone();
    // (The 40 calls at 40 tokens cut to 10 would have added 40 × 30 ×
    // $10/M = $0.012.)
    assert_eq!(step["savings"], "0.002");
}

#[test]
fn bounded_outputs_that_finish_are_not_bloat() {
    let env = Env::new();
    // Every call sets max_tokens and stops on its own, with outputs from 10
    // to 60 tokens.
    let s: String = (0..100u32)
        .map(|i| {
            call(
                i,
                format!("ok-{i:03}"),
                1000,
                10 + (i % 51) as u64,
                json!({"max_tokens": 200, "finish_reason": "stop"}),
            )
        })
        .collect();
    env.write("calls.jsonl", s);
    let cfg = env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    assert!(findings(&r, "TA112").is_empty());
}

#[test]
fn a_higher_tail_ratio_leaves_only_the_capped_calls() {
    let env = Env::new();
    env.write("calls.jsonl", bloated());
    let cfg = env.write("cfg.toml", "[rules.TA112]\ntail_ratio = 7\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    let f = findings(&r, "TA112");
    assert_eq!(f.len(), 1, "{f:#?}");
    // p99 60 < 7 × 10: no tail, so no output cap and no lever; the saving
    // is half the capped calls: $0.2525, × 30 = $7.575 a month.
    assert_eq!(
        f[0]["title"],
        "report-writer: 10% of calls cut at the length limit on gpt-4o"
    );
    assert_eq!(f[0]["evidence"]["output_tokens_above_p95"], 0);
    assert_eq!(f[0]["savings"]["observed"], "0.2525");
    assert_eq!(f[0]["savings"]["monthly"], "7.575");
    assert!(f[0].get("lever").is_none());

    // And with a capped share above 10% too, nothing is left.
    let env = Env::new();
    env.write("calls.jsonl", bloated());
    let cfg = env.write(
        "cfg.toml",
        "[rules.TA112]\ntail_ratio = 7\nmin_capped_share = 0.2\n",
    );
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    assert!(findings(&r, "TA112").is_empty());
}

#[test]
fn without_a_finish_reason_an_output_at_max_tokens_was_cut() {
    // The same calls as a log with no finish reason writes them (Langfuse,
    // most gateways): the ten capped calls carry only `max_tokens` 50 and an
    // output of 50, which reached it; two more with max_tokens 50 answer in
    // 49 and were not cut.
    let env = Env::new();
    let mut s = bloated().replace(r#","finish_reason":"length""#, "");
    assert!(!s.contains("finish_reason"));
    for k in 0..2 {
        s += &call(
            200 + k,
            format!("under-{k}"),
            20_000,
            49,
            json!({"max_tokens": 50}),
        );
    }
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA112");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    assert_eq!(e["calls"], 102);
    assert_eq!(e["length_capped_calls"], 10);
    // 10 of 102 calls: 0.09803… → 0.098.
    assert_eq!(e["length_capped_share"], json!(0.098));
    assert_eq!(e["length_capped_cost"], "0.505");
}

/// 90 calls as [`bloated`]'s uncapped ones (80 at 10 tokens, 6 at 12, 4
/// at 60), each with `extra`.
fn tail_only(extra: Value) -> String {
    let mut s = String::new();
    let mut i = 0;
    for (n, output) in [(80, 10), (6, 12), (4, 60)] {
        for _ in 0..n {
            s += &call(i, format!("free-{i:03}"), 1000, output, extra.clone());
            i += 1;
        }
    }
    s
}

/// hunt49: a log that shows no call's limit (responses only) cannot say
/// the calls had none; a Gemini request's `generationConfig.maxOutputTokens`
/// and Bedrock Converse's `inferenceConfig.maxTokens` are limits.
#[test]
fn a_limit_the_logs_do_not_show_is_not_said_missing() {
    let env = Env::new();
    // (The saving is small: every finding is kept.)
    env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    env.write("calls.jsonl", tail_only(json!({})));
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    let f = findings(&r, "TA112");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        f[0]["title"],
        "report-writer: p99 output 60 tokens vs median 10 (the logs show no max_tokens) on gpt-4o"
    );
    assert_eq!(f[0]["confidence"], "low");
    // The same saving: (60 − 12) × 4 = 192 tokens at $10/M.
    assert_eq!(f[0]["savings"]["observed"], "0.00192");
    // It ran (the tail needs neither field: hunt83's "could not run"
    // beside a finding).
    let cov = r["audit"]["rule_coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rule"] == "TA112")
        .unwrap();
    assert_eq!(cov["status"], "ran", "{cov}");
    // Another feature's calls that log their limit do not make these calls'
    // missing one a logged "no max_tokens" (hunt83: decided run-wide).
    let other: String = (0..3u32)
        .map(|i| {
            gw_line(
                &at(200 + i),
                "summarise",
                "gpt-4o",
                1000,
                10,
                json!({"max_tokens": 256}),
            ) + "\n"
        })
        .collect();
    env.write("calls.jsonl", tail_only(json!({})) + &other);
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    let f = findings(&r, "TA112");
    assert_eq!(
        f[0]["title"],
        "report-writer: p99 output 60 tokens vs median 10 (the logs show no max_tokens) on gpt-4o"
    );
    assert_eq!(f[0]["confidence"], "low");
    for limit in [
        json!({"request": {"generationConfig": {"maxOutputTokens": 2048}}}),
        json!({"request": {"inferenceConfig": {"maxTokens": 2048}}}),
    ] {
        env.write("calls.jsonl", tail_only(limit.clone()));
        let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
        assert_eq!(findings(&r, "TA112"), Vec::<&Value>::new(), "{limit}");
    }
}

/// A Claude call cut at the length limit had a limit, though the response
/// does not log it (Anthropic's API requires `max_tokens`), where another
/// model's may have run to its own ceiling with none set; and outputs of
/// equal size above the histogram's exact range give their size back
/// (hunt70: 100 of 100 Claude calls "without max_tokens", the capped ones
/// in the uncapped p95; a median of 202 and a p99 of 2,981 for outputs of
/// exactly 200 and 3,000; hunt73: OpenAI's calls stopped at the model's
/// ceiling are the runaway tail).
#[test]
fn capped_calls_had_a_limit_and_equal_outputs_read_exactly() {
    let env = Env::new();
    let lines = |model: &str| -> String {
        (0..100u32)
            .map(|i| {
                let (output, reason) = if i < 90 { (10, "stop") } else { (50, "length") };
                let extra = json!({"request_id": format!("c-{i:03}"),
                    "choices": [{"finish_reason": reason}]});
                gw_line(&at(i * 5), "report-writer", model, 1000, output, extra) + "\n"
            })
            .collect()
    };
    env.write("capped.jsonl", lines("claude-sonnet-4-5"));
    env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let r = env.audit(&["capped.jsonl", "--config", "cfg.toml"]);
    let f = findings(&r, "TA112");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    assert_eq!(e["length_capped_calls"], 10);
    assert_eq!(e["calls_without_max_tokens"], 90);
    assert_eq!(e["p95_output_uncapped"], 10);
    // The same calls on gpt-4o: the 10 stopped at the limit may have had
    // none.
    env.write("openai.jsonl", lines("gpt-4o"));
    let r = env.audit(&["openai.jsonl", "--config", "cfg.toml"]);
    let e = &findings(&r, "TA112")[0]["evidence"];
    assert_eq!(e["calls_without_max_tokens"], 100);
    assert_eq!(e["p95_output_uncapped"], 50);

    // 97 calls of 200 output tokens and 3 of 3,000, none capped.
    let mut s = String::new();
    for i in 0..100u32 {
        let output = if i < 97 { 200 } else { 3_000 };
        s += &call(i, format!("t-{i:03}"), 1000, output, json!({}));
    }
    env.write("tail.jsonl", s);
    let r = env.audit(&["tail.jsonl", "--config", "cfg.toml"]);
    let f = findings(&r, "TA112");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    assert_eq!(e["median_output_uncapped"], 200);
    assert_eq!(e["p95_output_uncapped"], 200);
    assert_eq!(e["p99_output_uncapped"], 3_000);
    // 3 × (3,000 − 200) = 8,400 tokens above the p95.
    assert_eq!(e["output_tokens_above_p95"], 8_400);
}

/// Claude calls cut at the length limit with no limit logged (a log of
/// responses only) beside ones without a limit: the logs show none, said
/// so (hunt89: the cut calls, kept out of the tally of calls without one,
/// made the cell read as logging limits: "no max_tokens").
#[test]
fn claude_calls_cut_at_an_unlogged_limit_keep_the_logs_show_no_max_tokens() {
    let env = Env::new();
    env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let mut s = tail_only(json!({})).replace("\"gpt-4o\"", "\"claude-sonnet-4-5\"");
    for i in 0..10u32 {
        s += &call(
            200 + i,
            format!("cut-{i}"),
            1000,
            50,
            json!({"stop_reason": "max_tokens"}),
        )
        .replace("\"gpt-4o\"", "\"claude-sonnet-4-5\"");
    }
    env.write("calls.jsonl", &s);
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    let f = findings(&r, "TA112");
    assert_eq!(f.len(), 1, "{f:#?}");
    let title = f[0]["title"].as_str().unwrap();
    assert!(title.contains("(the logs show no max_tokens)"), "{title}");
    assert!(!title.contains("; no max_tokens"), "{title}");
    // Cut at a limit the logs show: the others had none (hunt90).
    let s = s.replace(
        "\"stop_reason\":\"max_tokens\"",
        "\"stop_reason\":\"max_tokens\",\"max_tokens\":50",
    );
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    let title = findings(&r, "TA112")[0]["title"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(title.contains("; no max_tokens and p99 output"), "{title}");
}

/// The long outputs of calls that ended in a tool call are its arguments
/// (an agent writing a file), no runaway answer (hunt97: "set max_tokens to
/// about 497" on a coding agent). The same lengths ending in prose are.
#[test]
fn outputs_that_end_in_a_tool_call_are_no_runaway_tail() {
    let tail = |long_finish: &str| {
        let mut s = String::new();
        let mut i = 0;
        for (n, output, finish) in [(80, 10, "stop"), (6, 12, "stop"), (4, 60, long_finish)] {
            for _ in 0..n {
                let extra = json!({"finish_reason": finish});
                s += &call(i, format!("c-{i:03}"), 1000, output, extra);
                i += 1;
            }
        }
        s
    };
    let env = Env::new();
    env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    env.write("calls.jsonl", tail("tool_calls"));
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    assert!(
        findings(&r, "TA112").is_empty(),
        "{:#?}",
        findings(&r, "TA112")
    );
    env.write("calls.jsonl", tail("stop"));
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    assert_eq!(findings(&r, "TA112").len(), 1);
}

/// Text-to-speech, transcription and image models take no output limit
/// that would not cut what they make (hunt132: "set max_tokens to about
/// 160" for reading articles aloud): the same outputs give no finding.
#[test]
fn speech_and_image_outputs_are_not_bloat() {
    for model in ["gpt-4o-mini-tts", "gpt-4o-transcribe", "gpt-image-1"] {
        let env = Env::new();
        env.write(
            "calls.jsonl",
            bloated().replace("\"gpt-4o\"", &format!("\"{model}\"")),
        );
        let r = env.audit(&["calls.jsonl"]);
        assert_eq!(r["audit"]["totals"]["calls"], 100, "{model}");
        assert_eq!(findings(&r, "TA112").len(), 0, "{model}");
    }
}
