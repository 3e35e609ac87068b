//! TA101 spend-concentration: the Pareto set of feature × model groups and
//! the long tail of a feature's cost per request.
//!
//! Prices (shipped catalog, `tokenaudit prices show MODEL`): gpt-4o input
//! $2.50 per million tokens, gpt-4o-mini input $0.15. Calls here have no
//! output, so a call of N input tokens costs N × $2.50/M (gpt-4o) or
//! N × $0.15/M (gpt-4o-mini).

use serde_json::{json, Value};

use crate::util::{findings, gw_line, Env};

/// 2025-03-01 at `minute` minutes after midnight UTC.
fn at(minute: u32) -> String {
    format!("2025-03-01T{:02}:{:02}:00Z", minute / 60, minute % 60)
}

fn call(minute: u32, id: &str, feature: &str, model: &str, input: u64) -> String {
    gw_line(
        &at(minute),
        feature,
        model,
        input,
        0,
        json!({"request_id": id}),
    ) + "\n"
}

/// Input tokens of `report`'s call `i` (1..=100). With `tail`, calls 99 and
/// 100 are far costlier than the rest.
fn report_input(i: u32, tail: bool) -> u64 {
    match i {
        1..=49 => 1_000,        // $0.0025 each
        50 => 1_200,            // $0.003: the median, alone in its histogram bucket
        51..=94 => 1_400,       // $0.0035
        95 => 4_000,            // $0.01: the p95
        96..=98 => 20_000,      // $0.05
        99 if tail => 40_000,   // $0.10: the p99
        100 if tail => 100_000, // $0.25: the costliest
        _ => 20_000,
    }
}

/// Five feature × model groups:
/// - chat × gpt-4o: 10 calls × 100,000 tokens × $2.50/M = $2.50;
/// - report × gpt-4o: 100 calls (see `report_input`): with the tail
///   49 × $0.0025 + $0.003 + 44 × $0.0035 + $0.01 + 3 × $0.05 + $0.10 +
///   $0.25 = $0.7895;
/// - chat × gpt-4o-mini: 20 × 100,000 × $0.15/M = $0.30;
/// - search × gpt-4o-mini: 10 × $0.015 = $0.15;
/// - misc × gpt-4o-mini: 1 × $0.015.
fn fixture(tail: bool) -> String {
    let mut s = String::new();
    for i in 1..=100 {
        s += &call(
            i,
            &format!("rep-{i:03}"),
            "report",
            "gpt-4o",
            report_input(i, tail),
        );
    }
    for i in 0..10 {
        s += &call(200 + i, &format!("chat-{i}"), "chat", "gpt-4o", 100_000);
    }
    for i in 0..20 {
        s += &call(
            300 + i,
            &format!("chat-mini-{i}"),
            "chat",
            "gpt-4o-mini",
            100_000,
        );
    }
    for i in 0..10 {
        s += &call(
            400 + i,
            &format!("search-{i}"),
            "search",
            "gpt-4o-mini",
            100_000,
        );
    }
    s += &call(500, "misc-0", "misc", "gpt-4o-mini", 100_000);
    s
}

fn with_scope<'a>(f: &[&'a Value], scope: Value) -> Vec<&'a Value> {
    f.iter().copied().filter(|f| f["scope"] == scope).collect()
}

#[test]
fn pareto_set_and_long_tail_are_found() {
    let env = Env::new();
    env.write("calls.jsonl", fixture(true));
    let r = env.audit(&["calls.jsonl"]);
    let all = findings(&r, "TA101");
    assert_eq!(all.len(), 2, "{all:#?}");

    // Total $2.50 + $0.7895 + $0.30 + $0.15 + $0.015 = $3.7545; 80% of it is
    // $3.0036: chat × gpt-4o ($2.50) is not enough, with report × gpt-4o
    // ($3.2895) it is.
    let p = with_scope(&all, json!({"scope": "all"}));
    assert_eq!(p.len(), 1);
    let p = p[0];
    assert_eq!(p["severity"], "info");
    assert_eq!(p["savings"], Value::Null);
    let e = &p["evidence"];
    assert_eq!(e["total_spend"], "3.7545");
    assert_eq!(e["groups"], 5);
    assert_eq!(e["pareto_groups"], 2);
    assert_eq!(e["pareto_set"], json!(["chat × gpt-4o", "report × gpt-4o"]));
    // 3.2895 / 3.7545 = 0.87614… → 0.8761.
    assert_eq!(e["pareto_share"], json!(0.8761));
    // The top 20% of 5 groups is one group: 2.50 / 3.7545 = 0.66587… → 0.6659.
    assert_eq!(e["top_20pct_groups"], 1);
    assert_eq!(e["top_20pct_share"], json!(0.6659));

    // report's 100 calls: the median (rank 50) is call 50 at $0.003, the p95
    // (rank 95) call 95 at $0.01, the p99 (rank 99) call 99 at $0.10:
    // 33× the median, above the default 20×. chat has 30 calls (< 100).
    let t = with_scope(&all, json!({"feature": "report"}));
    assert_eq!(t.len(), 1, "{all:#?}");
    let t = t[0];
    assert_eq!(t["severity"], "low");
    assert_eq!(t["savings"], Value::Null);
    let e = &t["evidence"];
    assert_eq!(e["calls"], 100);
    assert_eq!(e["p50_cost"], "0.003");
    assert_eq!(e["p95_cost"], "0.01");
    assert_eq!(e["p99_cost"], "0.10");
    assert_eq!(e["max_cost"], "0.25");
    // The three costliest requests; 96–98 tie at $0.05, the smallest id wins.
    assert_eq!(
        t["sample_requests"],
        json!(["rep-100", "rep-099", "rep-096"])
    );
}

#[test]
fn no_tail_under_the_ratio_and_nothing_for_a_single_group() {
    let env = Env::new();
    // Calls 99 and 100 cost $0.05 like 96–98: p99 ≈ $0.05 is under 20 × $0.003.
    env.write("calls.jsonl", fixture(false));
    let r = env.audit(&["calls.jsonl"]);
    let all = findings(&r, "TA101");
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(all[0]["scope"], json!({"scope": "all"}));

    // One feature × model group: no concentration to report, and its calls
    // all cost the same.
    let mut s = String::new();
    for i in 0..150 {
        s += &call(i, &format!("q-{i}"), "qa", "gpt-4o", 1_000);
    }
    env.write("one.jsonl", s);
    let r = env.audit(&["one.jsonl"]);
    assert_eq!(findings(&r, "TA101"), Vec::<&Value>::new());
}

#[test]
fn share_and_tail_ratio_options_change_the_findings() {
    let env = Env::new();
    env.write("calls.jsonl", fixture(true));
    env.write("cfg.toml", "[rules.TA101]\nshare = 0.6\ntail_ratio = 40\n");
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    let all = findings(&r, "TA101");
    // p99 / p50 = 33 is under 40: no tail finding.
    assert_eq!(all.len(), 1, "{all:#?}");
    let e = &all[0]["evidence"];
    // 60% of $3.7545 is $2.2527: chat × gpt-4o alone reaches it.
    assert_eq!(e["pareto_groups"], 1);
    assert_eq!(e["pareto_set"], json!(["chat × gpt-4o"]));
    assert_eq!(e["pareto_share"], json!(0.6659));
}

/// A costly call without a request id is named by its file and line; a
/// logged id that looks like such a location is kept as it was logged.
#[test]
fn sample_requests_keep_ids_that_look_like_locations() {
    let env = Env::new();
    let s: String = fixture(true)
        .lines()
        .map(|line| {
            let mut v: Value = serde_json::from_str(line).unwrap();
            match v["request_id"].as_str() {
                // The costliest call ($0.25), line 100.
                Some("rep-100") => v["request_id"] = json!("@100:1"),
                // The next ($0.10), line 99.
                Some("rep-099") => {
                    v.as_object_mut().unwrap().remove("request_id");
                }
                _ => {}
            }
            v.to_string() + "\n"
        })
        .collect();
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let all = findings(&r, "TA101");
    let t = with_scope(&all, json!({"feature": "report"}));
    assert_eq!(t.len(), 1, "{all:#?}");
    let ids = t[0]["sample_requests"].as_array().unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], "@100:1");
    let located = ids[1].as_str().unwrap();
    assert!(located.ends_with("calls.jsonl:99"), "{located}");
    assert_eq!(ids[2], "rep-096");
}

/// hunt154: two features of equal spend made "2 of 2 feature × model
/// groups make 100% of spend", a standing ticket: a set of every group is
/// no concentration. Three groups where two make 80% are one.
#[test]
fn every_group_is_no_concentration() {
    let env = Env::new();
    let s: String = (0..20u32)
        .map(|i| {
            call(
                i,
                &format!("e-{i}"),
                ["billing", "search"][i as usize % 2],
                "gpt-4o",
                1000,
            )
        })
        .collect();
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let pareto = |r: &Value| {
        findings(r, "TA101")
            .iter()
            .filter(|f| f["evidence"]["pareto_groups"].is_number())
            .count()
    };
    assert_eq!(pareto(&r), 0);
    // A third, small feature: billing and search make 80% of the spend.
    let s: String = (0..22u32)
        .map(|i| {
            let feature = if i >= 20 {
                "tiny"
            } else {
                ["billing", "search"][i as usize % 2]
            };
            call(
                i,
                &format!("e-{i}"),
                feature,
                "gpt-4o",
                if i >= 20 { 100 } else { 1000 },
            )
        })
        .collect();
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(pareto(&r), 1);
}
