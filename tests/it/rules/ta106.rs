//! TA106 prompt-size-drift: prompts growing week over week, and contexts far
//! above the median.
//!
//! Price (shipped catalog, `tokenaudit prices show gpt-4o`): input $2.50 per
//! million tokens. Calls here have no output.
//!
//! Medians and p95s come from a log-linear histogram whose buckets span 1/32
//! of their values; the token counts here are chosen so the figures the rule
//! reports are exact: a bucket's lower bound (2,048, 32,768 = 2^15, 39,936 =
//! 2^15 + 7 × 1,024, 49,152 = 2^15 + 16 × 1,024 …) that is also the largest
//! value seen, or a value alone in its bucket.

use serde_json::{json, Value};

use crate::util::{findings, gw_line, Env};

fn line(ts: &str, feature: &str, id: String, input: u64) -> String {
    gw_line(ts, feature, "gpt-4o", input, 0, json!({"request_id": id})) + "\n"
}

/// `doc-qa × gpt-4o`: 50 calls of 32,768 input tokens in the week of
/// Monday 2025-03-03 (from 03-03 00:00, one a minute), then 50 calls of
/// `later` tokens in the week of 2025-03-10 (one a minute, the last at
/// 03-13 00:00). The period is 10.02 days: the 9 days between and the first
/// day whole (all calls come at or after its first call's 00:00), and of
/// the last day the 2 calls of 100 that come at 00:00 of a day (its first
/// call's minute or before): a month is 30 / 10.02 periods.
fn drift(later: u64) -> String {
    let mut s = String::new();
    for i in 0..50u32 {
        let ts = format!("2025-03-03T{:02}:{:02}:00Z", i / 60, i % 60);
        s += &line(&ts, "doc-qa", format!("w1-{i:02}"), 32_768);
    }
    for i in 0..50u32 {
        let ts = if i < 49 {
            format!("2025-03-12T23:{:02}:00Z", 11 + i)
        } else {
            "2025-03-13T00:00:00Z".to_string()
        };
        s += &line(&ts, "doc-qa", format!("w2-{i:02}"), later);
    }
    s
}

/// `rag × gpt-4o`: 100 calls on 2025-03-04, one a minute: 49 of 1,024
/// input tokens, one of 2,048 (the median, rank 50), 40 of 3,072 and 10 of
/// `big` (the p95, rank 95).
fn oversized(big: u64) -> String {
    let mut s = String::new();
    for i in 0..100u32 {
        let input = match i {
            0..=48 => 1_024,
            49 => 2_048,
            50..=89 => 3_072,
            _ => big,
        };
        let ts = format!("2025-03-04T{:02}:{:02}:00Z", i / 60, i % 60);
        s += &line(&ts, "rag", format!("rag-{i:02}"), input);
    }
    s
}

#[test]
fn weekly_prompt_growth_is_found_with_the_trim_saving() {
    let env = Env::new();
    // 32,768 → 49,152 tokens: +50%, above the default 25%.
    env.write("calls.jsonl", drift(49_152));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA106");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    assert_eq!(
        f["scope"],
        json!({"feature": "doc-qa", "model": "openai/gpt-4o", "kind": "drift"})
    );
    let e = &f["evidence"];
    assert_eq!(e["first_week"], "2025-03-03");
    assert_eq!(e["last_week"], "2025-03-10");
    assert_eq!(e["first_week_median_input"], 32_768);
    assert_eq!(e["last_week_median_input"], 49_152);
    assert_eq!(e["growth"], json!(0.5));
    assert_eq!(e["weeks"], 2);
    // The logs end on Thursday 03-13: the last week is a part of one, said
    // (hunt83: a Monday's calls were "the week of").
    assert_eq!(e["last_week_days"], 4);
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .contains("to the week of 2025-03-10 (the logs have 4 of its 7 days) on"),
        "{}",
        f["title"]
    );
    // The second week's 50 × 49,152 = 2,457,600 tokens cut by 1 − 2/3:
    // 819,200 tokens × $2.50/M = $2.048; × 30/10.02 = $6.131736526946 a
    // month.
    assert_eq!(f["savings"]["observed"], "2.048");
    assert_eq!(f["savings"]["monthly"], "6.131736526946");
    assert_eq!(f["severity"], "low");
    assert_eq!(f["lever"]["kind"], "trim_input");
}

#[test]
fn oversized_contexts_are_found_with_the_cap_saving() {
    let env = Env::new();
    // p95 16,384 = 8 × the 2,048 median, above the default 4×.
    env.write("calls.jsonl", oversized(16_384));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA106");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    assert_eq!(
        f["scope"],
        json!({"feature": "rag", "model": "openai/gpt-4o", "kind": "oversized"})
    );
    let e = &f["evidence"];
    assert_eq!(e["median_input"], 2_048);
    assert_eq!(e["p95_input"], 16_384);
    assert_eq!(e["max_input"], 16_384);
    // Capped at 2 × 2,048 = 4,096: 10 calls over it by 12,288 each.
    assert_eq!(e["calls_over_2x_median"], 10);
    assert_eq!(e["excess_tokens"], 122_880);
    // 122,880 × $2.50/M = $0.3072 over under a day: × 30 = $9.216.
    assert_eq!(f["savings"]["observed"], "0.3072");
    assert_eq!(f["savings"]["monthly"], "9.216");
    assert_eq!(f["confidence"], "low");
}

#[test]
fn growth_and_p95_just_under_the_thresholds_are_not_reported() {
    let env = Env::new();
    // 32,768 → 39,936: +21.9%, under 25%.
    env.write("drift.jsonl", drift(39_936));
    let r = env.audit(&["drift.jsonl"]);
    assert_eq!(findings(&r, "TA106"), Vec::<&Value>::new());
    // p95 8,064 = 3.94 × the median, under 4×.
    env.write("rag.jsonl", oversized(8_064));
    let r = env.audit(&["rag.jsonl"]);
    assert_eq!(findings(&r, "TA106"), Vec::<&Value>::new());
}

#[test]
fn growth_and_p95_ratio_options_change_the_outcome() {
    let env = Env::new();
    env.write("cfg.toml", "[rules.TA106]\ngrowth = 0.2\np95_ratio = 3\n");
    env.write("drift.jsonl", drift(39_936));
    let r = env.audit(&["drift.jsonl", "--config", "cfg.toml"]);
    let f = findings(&r, "TA106");
    assert_eq!(f.len(), 1, "{f:#?}");
    // 39,936 / 32,768 − 1 = 0.21875 → 0.2188.
    assert_eq!(f[0]["evidence"]["growth"], json!(0.2188));
    // 50 × 39,936 × (1 − 32,768 / 39,936) = 50 × 7,168 = 358,400 tokens ×
    // $2.50/M = $0.896; × 30/10.02 = $2.682634730539.
    assert_eq!(f[0]["savings"]["observed"], "0.896");
    assert_eq!(f[0]["savings"]["monthly"], "2.682634730539");

    env.write("rag.jsonl", oversized(8_064));
    let r = env.audit(&["rag.jsonl", "--config", "cfg.toml"]);
    let f = findings(&r, "TA106");
    assert_eq!(f.len(), 1, "{f:#?}");
    // 10 calls × (8,064 − 4,096) = 39,680 tokens × $2.50/M = $0.0992; × 30 =
    // $2.976.
    assert_eq!(f[0]["evidence"]["p95_input"], 8_064);
    assert_eq!(f[0]["evidence"]["excess_tokens"], 39_680);
    assert_eq!(f[0]["savings"]["observed"], "0.0992");
    assert_eq!(f[0]["savings"]["monthly"], "2.976");
}

#[test]
fn the_weeks_are_compared_in_time_order_whatever_order_the_log_is_in() {
    let env = Env::new();
    // The growth's log read newest line first, on one thread (one
    // accumulator, nothing merged): the same finding.
    let newest_first: String = drift(49_152)
        .lines()
        .rev()
        .map(|l| format!("{l}\n"))
        .collect();
    env.write("calls.jsonl", newest_first);
    let r = env.audit(&["calls.jsonl", "--threads", "1"]);
    let f = findings(&r, "TA106");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["evidence"]["first_week"], "2025-03-03");
    assert_eq!(f[0]["evidence"]["growth"], json!(0.5));
    assert_eq!(f[0]["savings"]["observed"], "2.048");
    // Prompts that shrank by a third (49,152 → 32,768), newest first: no
    // growth to report (it read "grew 50%" from the last week to the
    // first).
    let mut lines: Vec<String> = drift(32_768)
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i < 50 {
                l.replace("\"prompt_tokens\":32768", "\"prompt_tokens\":49152")
            } else {
                l.to_string()
            }
        })
        .collect();
    lines.reverse();
    let shrinking: String = lines.iter().map(|l| format!("{l}\n")).collect();
    assert_eq!(shrinking.matches("\"prompt_tokens\":49152").count(), 50);
    env.write("calls.jsonl", shrinking);
    let r = env.audit(&["calls.jsonl", "--threads", "1"]);
    assert_eq!(findings(&r, "TA106").len(), 0);
}

/// Each later week is brought back to the first week's median on its own
/// calls (hunt70: all later input was cut by 1 − first/last median, which
/// took weeks that never grew below the first week: 2.3× the saving).
#[test]
fn each_later_week_is_brought_back_to_the_first_weeks_median() {
    let env = Env::new();
    // Four weeks of 50 calls: 32,768 tokens in the first three, 49,152 in
    // the last (the last call at 2025-03-27 00:00, 24 days after the
    // first).
    let mut s = String::new();
    for (w, day, input) in [(1, 3, 32_768), (2, 10, 32_768), (3, 17, 32_768)] {
        for i in 0..50u32 {
            let ts = format!("2025-03-{day:02}T{:02}:{:02}:00Z", i / 60, i % 60);
            s += &line(&ts, "doc-qa", format!("w{w}-{i:02}"), input);
        }
    }
    for i in 0..50u32 {
        let ts = if i < 49 {
            format!("2025-03-26T23:{:02}:00Z", 11 + i)
        } else {
            "2025-03-27T00:00:00Z".to_string()
        };
        s += &line(&ts, "doc-qa", format!("w4-{i:02}"), 49_152);
    }
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA106");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["evidence"]["weeks"], 4);
    assert_eq!(f[0]["evidence"]["growth"], json!(0.5));
    // Only the last week is above 32,768: 50 × 16,384 = 819,200 tokens ×
    // $2.50/M = $2.048 (all later input × 1/3 was 1,911,467 tokens,
    // $4.7787); over 24.02 days (23 between, the first whole, and of the
    // last the 4 calls of 200 that come at 00:00, its one call's minute),
    // × 30/24.02 = $2.557868442964 a month.
    assert_eq!(f[0]["savings"]["observed"], "2.048");
    assert_eq!(f[0]["savings"]["monthly"], "2.557868442964");
}

/// A prompt whose input is mostly read from the provider's cache (an
/// agent's context) is trimmed at what its input tokens cost, not at the
/// input rate (hunt97: an agent's cached history priced 10 times what it
/// was billed).
#[test]
fn a_cached_prompts_growth_is_priced_at_what_its_tokens_cost() {
    let mut s = String::new();
    for line in drift(49_152).lines() {
        let mut v: Value = serde_json::from_str(line).unwrap();
        let input = v["usage"]["prompt_tokens"].as_u64().unwrap();
        v["usage"]["prompt_tokens_details"] = json!({"cached_tokens": input / 4 * 3});
        s += &(v.to_string() + "\n");
    }
    let env = Env::new();
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA106");
    assert_eq!(f.len(), 1, "{f:#?}");
    // Three quarters of every input token read at $1.25/M, a quarter at
    // $2.50/M: $1.5625/M; 819,200 tokens cut, $1.28.
    assert_eq!(f[0]["savings"]["observed"], "1.28");
}

/// An embedding model's input is the document it indexes: no prompt to
/// trim (hunt132: an indexer told to truncate its long documents). The
/// planted growth and oversized contexts on text-embedding-3-large give no
/// finding.
#[test]
fn embeddings_have_no_prompt_to_trim() {
    for calls in [drift(49_152), oversized(16_384)] {
        let env = Env::new();
        env.write(
            "calls.jsonl",
            calls.replace("\"gpt-4o\"", "\"text-embedding-3-large\""),
        );
        // (At an embedding's price the savings are below the default
        // floor: none, so that only the model's kind keeps the rule off.)
        env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
        let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
        assert!(r["audit"]["totals"]["calls"].as_u64().unwrap() >= 100);
        assert_eq!(findings(&r, "TA106").len(), 0);
    }
}

/// A log that begins on a Sunday: that one day is no first week to compare
/// with when two whole weeks follow (hunt182: a weekend's smaller prompts
/// were "the week of" the month's start, a drift of 33% with no growth).
/// Weekdays 60 calls of 4,096 tokens, weekends 60 of 2,048, for three
/// weeks from Sunday 2026-11-01: no drift.
#[test]
fn a_first_week_of_one_day_is_no_base() {
    let mut s = String::new();
    for day in 1..=22u32 {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        use chrono::Datelike;
        let weekend = date.weekday().number_from_monday() >= 6;
        for i in 0..60u32 {
            let ts = format!("2026-11-{day:02}T{:02}:{:02}:00Z", 8 + i / 60, i % 60);
            let input = if weekend { 2_048 } else { 4_096 };
            s += &line(&ts, "qa", format!("q{day:02}-{i:02}"), input);
        }
    }
    // Another feature from the Monday before: the week is the cell's own,
    // not the log's (hunt187).
    for day in 26..=31u32 {
        for i in 0..60u32 {
            let ts = format!("2026-10-{day:02}T{:02}:{:02}:00Z", 8 + i / 60, i % 60);
            s += &line(&ts, "other", format!("o{day:02}-{i:02}"), 1_024);
        }
    }
    let env = Env::new();
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let drift: Vec<&Value> = findings(&r, "TA106")
        .into_iter()
        .filter(|f| f["title"].as_str().unwrap().contains("grew"))
        .collect();
    assert!(drift.is_empty(), "{drift:?}");
}
