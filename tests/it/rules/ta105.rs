//! TA105 cache-hit-collapse: a feature's prompt-cache hit rate dropping
//! sharply from one day to the next.
//!
//! Price (shipped catalog, `tokenaudit prices show gpt-4o`): input $2.50,
//! cached read $1.25 per million tokens; a lost cache hit costs $1.25/M more.

use serde_json::{json, Value};

use crate::util::{findings, gw_line, Env};

/// 10 days (2025-03-01 … 03-10) of `autocomplete × gpt-4o`, 10 calls a day
/// at 00:00 … 09:00, each with 40,000 input tokens (no output): 400,000 a
/// day. Days 1–7 read 32,000 tokens per call from the cache (80%); days 8–10
/// read `after` per call.
///
/// The collapse lasts to the last day: a month of it is 30 / 3 = 10 times
/// its 3 days' loss.
fn fixture(after: u64) -> String {
    (1..=10u32)
        .map(|day| autocomplete_day(day, "gpt-4o", if day <= 7 { 32_000 } else { after }))
        .collect()
}

/// 10 calls of `autocomplete × model` on 2025-03-`day`, at 00:00 … 09:00,
/// each of 40,000 input tokens, `cached` of them read from the cache.
fn autocomplete_day(day: u32, model: &str, cached: u64) -> String {
    let mut s = String::new();
    for h in 0..10u32 {
        let extra = json!({
            "request_id": format!("ac-{day:02}-{h}"),
            "usage": {
                "prompt_tokens": 40_000,
                "completion_tokens": 0,
                "prompt_tokens_details": {"cached_tokens": cached},
            },
        });
        let ts = format!("2025-03-{day:02}T{h:02}:00:00Z");
        s += &(gw_line(&ts, "autocomplete", model, 40_000, 0, extra) + "\n");
    }
    s
}

#[test]
fn a_collapsed_cache_hit_rate_is_found_with_the_lost_hits() {
    let env = Env::new();
    // From 03-08 on, 2,000 cached per call: 5%, under half of 80%.
    env.write("calls.jsonl", fixture(2_000));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA105");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    assert_eq!(
        f["scope"],
        json!({"feature": "autocomplete", "model": "openai/gpt-4o"})
    );
    let e = &f["evidence"];
    assert_eq!(e["first_day"], "2025-03-08");
    assert_eq!(e["collapsed_days"], 3);
    assert_eq!(e["days"], json!(["2025-03-08", "2025-03-09", "2025-03-10"]));
    assert_eq!(e["baseline_cached_share"], json!(0.8));
    // 20,000 / 400,000.
    assert_eq!(e["cached_share_after"], json!(0.05));
    // Each collapsed day: 0.8 × 400,000 − 20,000 = 300,000 lost hits.
    assert_eq!(e["lost_cached_tokens"], 900_000);
    // 900,000 × $1.25/M = $1.125; still collapsed on the last day, a month
    // at the 3 collapsed days' rate: × 10 = $11.25 (spread over the period,
    // × 30/9.375, it was $3.60, and a smaller share of a longer log: hunt70).
    assert_eq!(f["savings"]["observed"], "1.125");
    assert_eq!(f["savings"]["monthly"], "11.25");
    assert_eq!(e["still_collapsed_on_last_day"], true);
    assert_eq!(f["severity"], "low");
    assert_eq!(
        f["lever"],
        json!({"kind": "prompt_cache", "feature": "autocomplete", "model": "openai/gpt-4o", "share": 0.8, "days": ["2025-03-08", "2025-03-09", "2025-03-10"]})
    );
    // The waterfall's caching step is the finding's saving: the lever
    // re-prices the days from the collapse on, not the healthy ones.
    let steps = r["audit"]["savings"]["steps"].as_array().unwrap();
    let caching = steps.iter().find(|s| s["category"] == "caching").unwrap();
    assert_eq!(caching["savings"], "1.125");
}

/// 10 days of `contracts × claude-sonnet-4-5` (input $3, cached read $0.30,
/// 1-hour cache write $6 per million), 10 calls a day of 10,000 input
/// tokens: an 8,000-token prefix and 2,000 fresh. Days 1–7: the first call
/// writes the prefix (1-hour TTL), the other nine read it; from 03-08 every
/// call writes it again and none reads (a per-request field slipped into
/// the prefix).
fn rewrites() -> String {
    let mut s = String::new();
    for day in 1..=10u32 {
        for h in 0..10u32 {
            let write = day >= 8 || h == 0;
            let usage = json!({
                "input_tokens": 2_000,
                "cache_read_input_tokens": if write { 0 } else { 8_000 },
                "cache_creation_input_tokens": if write { 8_000 } else { 0 },
                "cache_creation": {"ephemeral_1h_input_tokens": if write { 8_000 } else { 0 }},
                "output_tokens": 0,
            });
            let extra = json!({"request_id": format!("c-{day:02}-{h}"), "provider": "anthropic", "usage": usage});
            let ts = format!("2025-03-{day:02}T{h:02}:00:00Z");
            s += &(gw_line(&ts, "contracts", "claude-sonnet-4-5", 10_000, 0, extra) + "\n");
        }
    }
    s
}

#[test]
fn a_prefix_written_again_on_every_call_is_priced_at_its_write_rate() {
    let env = Env::new();
    env.write("calls.jsonl", rewrites());
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA105");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    let e = &f["evidence"];
    // Healthy days: 72,000 of 100,000 input tokens read (0.72), 8,000
    // written (0.08). Collapsed: none read, 80,000 written.
    assert_eq!(e["baseline_cached_share"], json!(0.72));
    assert_eq!(e["collapsed_days"], 3);
    // Each collapsed day: 72,000 reads lost, all of them written again
    // (the 8,000 of the baseline's one write a day are kept).
    assert_eq!(e["lost_cached_tokens"], 216_000);
    assert_eq!(e["rewritten_tokens"], 216_000);
    // 216,000 × ($6 − $0.30)/M = $1.2312 (it said 0: only uncached input
    // was counted, and there is none past the baseline); a month at the 3
    // collapsed days' rate, × 10 = $12.312.
    assert_eq!(f["savings"]["observed"], "1.2312");
    assert_eq!(f["savings"]["monthly"], "12.312");
    let steps = r["audit"]["savings"]["steps"].as_array().unwrap();
    let caching = steps.iter().find(|s| s["category"] == "caching").unwrap();
    assert_eq!(caching["savings"], "1.2312");
}

#[test]
fn quiet_days_whose_cache_expires_between_calls_are_no_collapse() {
    let env = Env::new();
    // The gpt-4o fixture's last three days with 3 calls each (under half of
    // the baseline's 10), none cached: a weekend, not a changed prompt.
    let quiet: String = fixture(0)
        .lines()
        .filter(|l| {
            let late = ["2025-03-08", "2025-03-09", "2025-03-10"]
                .iter()
                .any(|d| l.contains(d));
            !late || ["T00:", "T01:", "T02:"].iter().any(|h| l.contains(h))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(quiet.lines().count(), 79);
    env.write("calls.jsonl", quiet);
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA105"), Vec::<&Value>::new());
}

#[test]
fn a_drop_to_just_over_half_the_baseline_is_not_a_collapse() {
    let env = Env::new();
    // 16,400 cached per call: 41%, just over half of 80%.
    env.write("calls.jsonl", fixture(16_400));
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA105"), Vec::<&Value>::new());
    // A steady 80% all along: nothing either.
    env.write("steady.jsonl", fixture(32_000));
    let r = env.audit(&["steady.jsonl"]);
    assert_eq!(findings(&r, "TA105"), Vec::<&Value>::new());
}

#[test]
fn drop_option_makes_a_smaller_fall_a_collapse() {
    let env = Env::new();
    env.write("calls.jsonl", fixture(16_400));
    env.write("cfg.toml", "[rules.TA105]\ndrop = 0.6\n");
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    let f = findings(&r, "TA105");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    // 41% is under 0.6 × 80% = 48%.
    assert_eq!(e["collapsed_days"], 3);
    assert_eq!(e["cached_share_after"], json!(0.41));
    // Each day: 320,000 − 164,000 = 156,000 lost hits; 468,000 in all.
    assert_eq!(e["lost_cached_tokens"], 468_000);
    // 468,000 × $1.25/M = $0.585; × 10 = $5.85 a month.
    assert_eq!(f[0]["savings"]["observed"], "0.585");
    assert_eq!(f[0]["savings"]["monthly"], "5.85");
}

/// A collapse the feature recovered from by its last day is a loss of the
/// past: scaled from the period, not a month at its rate.
#[test]
fn a_recovered_collapse_is_scaled_from_the_period() {
    let env = Env::new();
    // Collapsed on 03-08 and 03-09, 80% again on 03-10.
    let recovered: String = fixture(2_000)
        .lines()
        .map(|l| {
            if l.contains("2025-03-10") {
                l.replace("\"cached_tokens\":2000", "\"cached_tokens\":32000")
            } else {
                l.to_string()
            }
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(recovered.matches("\"cached_tokens\":2000").count(), 20);
    env.write("calls.jsonl", recovered);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA105");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    assert_eq!(e["collapsed_days"], 2);
    assert_eq!(e.get("still_collapsed_on_last_day"), None);
    // 2 × 300,000 lost hits × $1.25/M = $0.75, over the 10 days from 03-01
    // 00:00 to 03-10 09:00 (the first and last days whole: every call
    // comes between 00:00 and 09:00): × 3 = $2.25 a month.
    assert_eq!(f[0]["savings"]["observed"], "0.75");
    assert_eq!(f[0]["savings"]["monthly"], "2.25");
}

/// A collapse that lasts to the feature's last day is going on when the
/// log ends at most a long weekend later (hunt74: a weekday feature
/// collapsed on Friday in a log that ends on Sunday was a loss of the
/// past), and is not when the feature stopped well before (hunt73).
#[test]
fn a_collapse_is_going_on_up_to_a_long_weekend_before_the_logs_end() {
    let env = Env::new();
    let other = |day: u32| {
        gw_line(
            &format!("2025-03-{day:02}T09:00:00Z"),
            "other",
            "gpt-4o",
            10,
            1,
            json!({}),
        ) + "\n"
    };
    env.write("weekend.jsonl", fixture(2_000) + &other(12));
    let r = env.audit(&["weekend.jsonl"]);
    let f = findings(&r, "TA105");
    assert_eq!(f[0]["evidence"]["still_collapsed_on_last_day"], true);
    assert_eq!(f[0]["savings"]["monthly"], "11.25");
    env.write("stopped.jsonl", fixture(2_000) + &other(15));
    let r = env.audit(&["stopped.jsonl"]);
    let f = findings(&r, "TA105");
    assert_eq!(f[0]["evidence"].get("still_collapsed_on_last_day"), None);
    // $1.125 over the 15 days from 03-01 00:00 to 03-15 09:00 (every call
    // between 00:00 and 09:00): × 2 = $2.25.
    assert_eq!(f[0]["savings"]["monthly"], "2.25");
}

#[test]
fn a_quiet_day_inside_a_collapse_is_neither_collapsed_nor_baseline() {
    let env = Env::new();
    // 12 days of the gpt-4o fixture's calls: days 1–7 at 80% cached, then
    // 2,000 cached per call (5%), except day 10 with only 3 calls, none
    // cached (a holiday).
    let mut s = String::new();
    for day in 1..=12u32 {
        let (cached, calls) = match day {
            1..=7 => (32_000, 10),
            10 => (0, 3),
            _ => (2_000, 10),
        };
        for h in 0..calls {
            let extra = json!({
                "request_id": format!("ac-{day:02}-{h}"),
                "usage": {"prompt_tokens": 40_000, "completion_tokens": 0,
                          "prompt_tokens_details": {"cached_tokens": cached}},
            });
            let ts = format!("2025-03-{day:02}T{h:02}:00:00Z");
            s += &(gw_line(&ts, "autocomplete", "gpt-4o", 40_000, 0, extra) + "\n");
        }
    }
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA105");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    let days = json!(["2025-03-08", "2025-03-09", "2025-03-11", "2025-03-12"]);
    assert_eq!(e["days"], days);
    assert_eq!(e["quiet_days_left_out"], 1);
    // Each collapsed day: 0.8 × 400,000 − 20,000 = 300,000 × $1.25/M =
    // $0.375; four days $1.50. The lever re-prices those days only.
    assert_eq!(f[0]["savings"]["observed"], "1.50");
    assert_eq!(f[0]["lever"]["days"], days);
    let steps = r["audit"]["savings"]["steps"].as_array().unwrap();
    let caching = steps.iter().find(|s| s["category"] == "caching").unwrap();
    assert_eq!(caching["savings"], "1.50");
}

/// A feature moved to another model starts on an empty cache: no
/// collapse (hunt92: a move from a cached Claude Sonnet 4 to GPT-4.1 mini,
/// 9 times cheaper a call, was "a collapse" at high confidence). A
/// collapse on the new model, judged against its own days, still is: each
/// model of a feature is judged apart.
#[test]
fn a_move_to_another_model_is_no_collapse() {
    let mut s = String::new();
    for day in 1..=20u32 {
        // gpt-4o 80% cached to the 7th; gpt-4o-mini from the 8th, none
        // cached for three days, then 80% from the 11th, 5% from the 18th.
        let (model, cached) = match day {
            1..=7 => ("gpt-4o", 32_000),
            8..=10 => ("gpt-4o-mini", 0),
            11..=17 => ("gpt-4o-mini", 32_000),
            _ => ("gpt-4o-mini", 2_000),
        };
        s += &autocomplete_day(day, model, cached);
    }
    let env = Env::new();
    env.write("calls.jsonl", s);
    let cfg = env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    let f = findings(&r, "TA105");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    assert_eq!(e["first_day"], "2025-03-18", "{e:#?}");
    assert_eq!(e["collapsed_days"], 3);
    assert_eq!(
        f[0]["scope"],
        json!({"feature": "autocomplete", "model": "openai/gpt-4o-mini"})
    );
}

/// The cache read as much as ever, and one call of some days carried a
/// long document never cached: the day's share fell, the cache did not
/// (hunt116: a "collapse" on each such day). Days 8–10 add one call of
/// 500,000 uncached tokens: 320,000 cached of 900,000 (36%, under half of
/// the 80% baseline) with the same 320,000 cached a day.
#[test]
fn a_day_with_more_uncached_input_and_the_same_cache_reads_is_no_collapse() {
    let env = Env::new();
    let with_documents = |cached: u64| -> String {
        let mut text = fixture(cached);
        for day in 8..=10u32 {
            let extra = json!({
                "request_id": format!("doc-{day:02}"),
                "usage": {"prompt_tokens": 500_000, "completion_tokens": 0},
            });
            let ts = format!("2025-03-{day:02}T10:00:00Z");
            text += &(gw_line(&ts, "autocomplete", "gpt-4o", 500_000, 0, extra) + "\n");
        }
        text
    };
    let text = with_documents(32_000);
    env.write("calls.jsonl", text);
    let r = env.audit(&["calls.jsonl"]);
    assert!(
        findings(&r, "TA105").is_empty(),
        "{:#?}",
        findings(&r, "TA105")
    );
    // The same days with the cache reads gone are a collapse.
    let text = with_documents(2_000);
    env.write("calls.jsonl", text);
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA105").len(), 1);
}

/// A collapse going on after an earlier one the feature recovered from: a
/// month at the rate of the collapse going on, over the calendar days since
/// it began (hunt146's bug7: both episodes over their span, 5.6× low;
/// hunt140's bug8: weekdays alone, 40% high).
#[test]
fn a_collapse_going_on_is_a_month_at_its_own_rate() {
    let env = Env::new();
    // 30 days of 32,000 cached of 40,000 a call; none on days 3–4 and
    // 28–30. A collapsed day loses 10 × 32,000 × $1.25/M = $0.40.
    let text: String = (1..=30u32)
        .map(|day| {
            let cached = if [3, 4, 28, 29, 30].contains(&day) {
                0
            } else {
                32_000
            };
            autocomplete_day(day, "gpt-4o", cached)
        })
        .collect();
    env.write("calls.jsonl", text);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA105");
    assert_eq!(f.len(), 1, "{f:#?}");
    // Five days lost, $2.00; the one going on loses $0.40 a day: $12 a
    // month.
    assert_eq!(f[0]["savings"]["observed"], "2.00");
    assert_eq!(f[0]["savings"]["monthly"], "12.00");
}
