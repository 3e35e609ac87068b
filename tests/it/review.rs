//! `tokenaudit review --month`: the audit of one calendar month with its
//! changes against the month before, every figure computed here by hand.
//!
//! Prices (shipped catalog, `tokenaudit prices show`): openai/gpt-4o input
//! $2.50, output $10 per million; openai/gpt-4o-mini input $0.15, output $0.60.

use serde_json::json;

use crate::util::{gw_line, usd, Env};

fn two_months(env: &Env) {
    let lines = [
        // August and November: in neither month.
        gw_line("2026-08-31T23:59:59Z", "chat", "gpt-4o", 1000, 0, json!({})),
        gw_line("2026-11-01T00:00:00Z", "chat", "gpt-4o", 1000, 0, json!({})),
        // September (the previous month): chat 2 × (100,000 × $2.50 +
        // 10,000 × $10)/M = 2 × $0.35 = $0.70; search, failed, 1,000,000 ×
        // $0.15 + 100,000 × $0.60 = $0.21. Spend $0.91 over 3 calls, 2 ok.
        gw_line(
            "2026-09-01T00:00:00Z",
            "chat",
            "gpt-4o",
            100_000,
            10_000,
            json!({}),
        ),
        gw_line(
            "2026-09-30T23:59:59Z",
            "chat",
            "gpt-4o",
            100_000,
            10_000,
            json!({}),
        ),
        gw_line(
            "2026-09-15T12:00:00Z",
            "search",
            "gpt-4o-mini",
            1_000_000,
            100_000,
            json!({"status": "error"}),
        ),
        // October: chat $0.35; search 2 × $0.21 = $0.42; summaries
        // 2,000,000 × $0.15 = $0.30. Spend $1.07 over 4 calls, all ok.
        gw_line(
            "2026-10-01T00:00:00Z",
            "chat",
            "gpt-4o",
            100_000,
            10_000,
            json!({}),
        ),
        gw_line(
            "2026-10-10T08:00:00Z",
            "search",
            "gpt-4o-mini",
            1_000_000,
            100_000,
            json!({}),
        ),
        gw_line(
            "2026-10-20T08:00:00Z",
            "search",
            "gpt-4o-mini",
            1_000_000,
            100_000,
            json!({}),
        ),
        gw_line(
            "2026-10-31T23:59:59Z",
            "summaries",
            "gpt-4o-mini",
            2_000_000,
            0,
            json!({}),
        ),
    ];
    env.write("calls.jsonl", lines.join("\n") + "\n");
}

#[test]
fn review_of_a_month_with_month_over_month_changes() {
    let env = Env::new();
    two_months(&env);
    env.cmd()
        .args([
            "review",
            "--month",
            "2026-10",
            "calls.jsonl",
            "--out",
            "out",
            "--quiet",
        ])
        .assert()
        .success();
    let r = env.report();
    let a = &r["audit"];
    assert_eq!(usd(&a["totals"]["cost"]), "1.07");
    assert_eq!(a["totals"]["calls"], 4);
    assert_eq!(a["since"], "2026-10-01T00:00:00Z");
    assert_eq!(a["until"], "2026-11-01T00:00:00Z");
    // September's 3 calls, August's and November's.
    assert_eq!(a["input"]["outside_window"], 5);
    let p = &a["previous"];
    assert_eq!(p["since"], "2026-09-01T00:00:00Z");
    assert_eq!(usd(&p["totals"]["cost"]), "0.91");
    assert_eq!(p["totals"]["calls"], 3);
    assert_eq!(p["totals"]["ok_calls"], 2);
    // $0.91 / 3 = $0.303333333333 (truncated to the pico-dollar); / 2 = $0.455.
    assert_eq!(usd(&p["cost_per_call"]), "0.303333333333");
    assert_eq!(usd(&p["cost_per_success"]), "0.455");
    assert_eq!(p["by_feature"][0]["key"], "chat");
    assert_eq!(usd(&p["by_feature"][0]["cost"]), "0.70");
    assert_eq!(p["by_model"][0]["key"], "gpt-4o");

    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    // September is the comparison, not calls left out (hunt116).
    assert!(
        md.contains("5 calls fell outside the time window: 3 in the period it is compared with (the change figures), and 2 before or after both, or without a time to place them, left out."),
        "{md}"
    );
    for line in [
        "### Change against the previous period (2026-09-01 to 2026-09-30)",
        "| | this month | previous month | change |",
        // +$0.16 = 0.16 / 0.91 = +17.6%.
        "| Spend | $1.07 | $0.91 | +$0.16 (+17.6%) |",
        // $1.07 / 4 = $0.2675 against $0.303333…: −$0.035833… (−11.8%).
        "| Cost per request | $0.2675 | $0.3033 | -$0.0358 (-11.8%) |",
        // $0.2675 against $0.455: −$0.1875 (−41.2%).
        "| Cost per successful request | $0.2675 | $0.4550 | -$0.1875 (-41.2%) |",
        "## Month over month",
        "| search | $0.42 | $0.21 | +$0.21 (+100.0%) |",
        "| chat | $0.35 | $0.70 | -$0.35 (-50.0%) |",
        "| summaries | $0.30 | $0.00 | +$0.30 (new) |",
        // Models: mini $0.42 + $0.30 = $0.72 against $0.21: +$0.51 (+242.9%).
        "| gpt-4o-mini | $0.72 | $0.21 | +$0.51 (+242.9%) |",
        "| gpt-4o | $0.35 | $0.70 | -$0.35 (-50.0%) |",
    ] {
        assert!(md.lines().any(|l| l == line), "missing {line:?} in\n{md}");
    }
    let html = std::fs::read_to_string(env.path("out/audit.html")).unwrap();
    assert!(html.contains("Change against the previous period (2026-09-01 to 2026-09-30)"));
    assert!(html.contains("<td class=\"n\">+$0.16 (+17.6%)</td>"));
    assert!(html.contains("<h2>Month over month</h2>"));
    let csv = std::fs::read_to_string(env.path("out/audit-change.csv")).unwrap();
    assert!(
        csv.contains("\nfeature,search,2,1,0.42,0.21,0.21,0,0\n"),
        "{csv}"
    );
    assert!(
        csv.contains("\nfeature,chat,1,2,0.35,0.70,-0.35,0,0\n"),
        "{csv}"
    );
    assert!(
        csv.contains("\nmodel,gpt-4o-mini,3,1,0.72,0.21,0.51,0,0\n"),
        "{csv}"
    );
}

#[test]
fn review_without_the_previous_month_says_so() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        gw_line(
            "2026-10-05T00:00:00Z",
            "chat",
            "gpt-4o",
            100_000,
            10_000,
            json!({}),
        ) + "\n",
    );
    env.cmd()
        .args([
            "review",
            "--month",
            "2026-10",
            "calls.jsonl",
            "--out",
            "out",
            "--quiet",
        ])
        .assert()
        .success();
    let r = env.report();
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.35");
    assert_eq!(r["audit"]["previous"]["totals"]["calls"], 0);
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(md.contains("n/a — no calls in the previous month."));
    assert!(!md.contains("| Spend |"));
    let html = std::fs::read_to_string(env.path("out/audit.html")).unwrap();
    assert!(html.contains("n/a — no calls in the previous month."));
    // A plain audit has no previous period at all.
    env.audit(&["calls.jsonl"]);
    assert!(env.report()["audit"].get("previous").is_none());
}

#[test]
fn review_rejects_a_bad_month_and_a_second_window() {
    let env = Env::new();
    env.write("calls.jsonl", "");
    env.cmd()
        .args(["review", "--month", "2026-13", "calls.jsonl"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--month \"2026-13\""));
    env.cmd()
        .args([
            "review",
            "--month",
            "2026-10",
            "--since",
            "2026-10-02",
            "calls.jsonl",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("drop --since/--until"));
    // A month with no call points at --month, not at options review
    // refuses (hunt63).
    env.write(
        "october.jsonl",
        gw_line("2026-10-05T10:00:00Z", "chat", "gpt-4o", 100, 10, json!({})) + "\n",
    );
    env.cmd()
        .args(["review", "--month", "2026-11", "october.jsonl", "--out", "r"])
        .assert()
        .code(0)
        .stderr(predicates::str::contains(
            "no call was read (1 line, 0 rejected, 1 outside the window): the report's spend is $0; check the inputs, --input-format and --month (the calls' month)",
        ));
}

#[test]
fn an_audit_window_is_compared_with_the_span_just_before_it() {
    let env = Env::new();
    two_months(&env);
    // --until is inclusive: the window is [Oct 1, Nov 1), 31 days, so the
    // previous period is [Aug 31, Oct 1): September's $0.91 over 3 calls
    // plus August 31st's 1,000 × $2.50/M = $0.0025: $0.9125 over 4 calls,
    // 3 of them ok.
    env.audit(&[
        "calls.jsonl",
        "--since",
        "2026-10-01",
        "--until",
        "2026-10-31",
    ]);
    let r = env.report();
    let a = &r["audit"];
    assert_eq!(usd(&a["totals"]["cost"]), "1.07");
    let p = &a["previous"];
    assert_eq!(p["since"], "2026-08-31T00:00:00Z");
    assert_eq!(p["until"], "2026-10-01T00:00:00Z");
    assert_eq!(usd(&p["totals"]["cost"]), "0.9125");
    assert_eq!(
        (&p["totals"]["calls"], &p["totals"]["ok_calls"]),
        (&json!(4), &json!(3))
    );
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    // +$0.1575 against $0.9125: +17.3%.
    let line = "| Spend | $1.07 | $0.91 | +$0.16 (+17.3%) |";
    assert!(md.lines().any(|l| l == line), "missing {line:?} in\n{md}");
    assert!(md.contains("### Change against the previous period (2026-08-31 to 2026-09-30)"));
}

/// A month with no call says so, not that the calls had no timestamps.
#[test]
fn a_month_without_calls_says_none_were_read() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        crate::util::gw_line(
            "2026-10-05T10:00:00Z",
            "chat",
            "gpt-4o",
            1000,
            100,
            serde_json::json!({}),
        ) + "\n",
    );
    env.cmd()
        .args([
            "review",
            "--month",
            "2026-12",
            "calls.jsonl",
            "--out",
            "rv",
            "--quiet",
        ])
        .assert()
        .success();
    let md = std::fs::read_to_string(env.path("rv/audit.md")).unwrap();
    assert!(
        md.contains("**Calls from** none in the window (1 call read outside it)"),
        "{md}"
    );
    assert!(!md.contains("no timestamps"), "{md}");
}

/// Logs that start inside the previous month cover only part of it: the
/// review says which part, beside figures that would otherwise read as
/// growth.
#[test]
fn a_previous_month_the_logs_cover_in_part_is_said() {
    let env = Env::new();
    let mut lines = Vec::new();
    for (month, days) in [(9, 15..=30), (10, 1..=31)] {
        for d in days {
            lines.push(gw_line(
                &format!("2026-{month:02}-{d:02}T12:00:00Z"),
                "chat",
                "gpt-4o",
                1000,
                100,
                json!({}),
            ));
        }
    }
    env.write("calls.jsonl", lines.join("\n") + "\n");
    env.cmd()
        .args([
            "review",
            "--month",
            "2026-10",
            "calls.jsonl",
            "--out",
            "out",
            "--quiet",
        ])
        .assert()
        .success();
    let r = env.report();
    assert_eq!(r["audit"]["previous"]["first_call"], "2026-09-15T12:00:00Z");
    let md = std::fs::read_to_string(env.path("out/review.md"))
        .or_else(|_| std::fs::read_to_string(env.path("out/audit.md")))
        .unwrap();
    assert!(
        md.contains("The logs cover the previous month only from 2026-09-15 to 2026-09-30 (16 of its 30 days)"),
        "{md}"
    );
}

/// A month still under way (calls on November 1–15, against all of
/// October's 31 days, $0.0035 a day each): its spend is compared with a
/// whole month, which the review says (−51.6% read as a drop). A month with
/// no calls has no cost per request (it read $0.0000, −100%).
#[test]
fn a_month_under_way_and_a_month_without_calls_are_said() {
    let env = Env::new();
    let mut lines = Vec::new();
    for (month, days) in [(10, 1..=31), (11, 1..=15)] {
        for d in days {
            lines.push(gw_line(
                &format!("2026-{month:02}-{d:02}T12:00:00Z"),
                "chat",
                "gpt-4o",
                1000,
                100,
                json!({}),
            ));
        }
    }
    env.write("calls.jsonl", lines.join("\n") + "\n");
    let review = |month: &str| {
        env.cmd()
            .args([
                "review",
                "--month",
                month,
                "calls.jsonl",
                "--out",
                month,
                "--quiet",
            ])
            .assert()
            .success();
        std::fs::read_to_string(env.path(&format!("{month}/audit.md"))).unwrap()
    };
    let md = review("2026-11");
    // 15 × $0.0035 = $0.0525 against 31 × $0.0035 = $0.1085.
    assert!(
        md.contains("| Spend | $0.05 | $0.11 | -$0.06 (-51.6%) |"),
        "{md}"
    );
    assert!(
        md.contains("Note: The logs cover this month only from 2026-11-01 to 2026-11-15 (15 of its 30 days)"),
        "{md}"
    );
    // No call in December (its logs not there yet): no change to give
    // (hunt87: "-100%" on every row).
    let md = review("2026-12");
    assert!(
        md.contains("n/a — no calls in this month (are its logs in the inputs?)."),
        "{md}"
    );
    assert!(!md.contains("-100.0%"), "{md}");
    assert!(md.contains("| Cost per call | – |"), "{md}");
}

/// A week without calls inside a month (an export that lost it) is said
/// at the head of the review and beside its change; a change whose months
/// have unpriced calls gives no percentage of the priced part (hunt87:
/// "-8.1%" for a month 37% unpriced, "+25%" from a missing week).
#[test]
fn a_gap_inside_the_month_and_partly_unpriced_changes_are_said() {
    let env = Env::new();
    let mut lines = Vec::new();
    for d in 1..=30 {
        lines.push(gw_line(
            &format!("2026-09-{d:02}T12:00:00Z"),
            "chat",
            "gpt-4o",
            100_000,
            10_000,
            json!({}),
        ));
    }
    for d in (1..=31).filter(|d| !(3..=9).contains(d)) {
        // From the 20th, a third of chat's calls go to a model without a price.
        let model = if d >= 20 { "acme-9b" } else { "gpt-4o" };
        lines.push(gw_line(
            &format!("2026-10-{d:02}T12:00:00Z"),
            "chat",
            "gpt-4o",
            100_000,
            10_000,
            json!({}),
        ));
        lines.push(gw_line(
            &format!("2026-10-{d:02}T13:00:00Z"),
            "chat",
            model,
            100_000,
            10_000,
            json!({}),
        ));
    }
    env.write("calls.jsonl", lines.join("\n") + "\n");
    env.cmd()
        .args([
            "review",
            "--month",
            "2026-10",
            "calls.jsonl",
            "--out",
            "out",
            "--quiet",
        ])
        .assert()
        .success();
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("- **Gaps** no call from 2026-10-03 to 2026-10-09 (7 days): 7 days the figures leave out (UTC days)"),
        "{md}"
    );
    assert!(
        md.contains("Note: The logs have no call from 2026-10-03 to 2026-10-09 (7 days) in this month: 7 days its figures leave out"),
        "{md}"
    );
    // September: 30 × $0.35 = $10.50. October: 24 days × 2 calls, of which
    // the 12 from the 20th on acme-9b are unpriced: 36 × $0.35 = $12.60.
    assert!(
        md.contains("| Spend | $12.60 | $10.50 | +$2.10 (and 12 calls unpriced now) |"),
        "{md}"
    );
    assert!(
        md.contains(
            "| chat | $12.60 + 12 unpriced | $10.50 | +$2.10 (and 12 calls unpriced now) |"
        ),
        "{md}"
    );
}

/// A model the catalog has no price for, in both months: its change-table
/// row says unpriced, not $0.00 twice and ±$0.00.
#[test]
fn an_unpriced_model_in_the_change_tables_is_said_unpriced() {
    let env = Env::new();
    let lines: String = ["2026-09-10T00:00:00Z", "2026-10-10T00:00:00Z"]
        .iter()
        .flat_map(|t| {
            [
                gw_line(t, "chat", "gpt-4o", 1000, 0, json!({})) + "\n",
                gw_line(t, "nightly", "acme-9b", 1000, 0, json!({})) + "\n",
            ]
        })
        .chain([
            // gamma moved from the unknown model to gpt-4o: 10,000 ×
            // $2.50/M = $0.025 this month, unknown before.
            gw_line(
                "2026-09-10T00:00:00Z",
                "gamma",
                "acme-9b",
                10_000,
                0,
                json!({}),
            ) + "\n",
            gw_line(
                "2026-10-10T00:00:00Z",
                "gamma",
                "gpt-4o",
                10_000,
                0,
                json!({}),
            ) + "\n",
        ])
        .collect();
    env.write("calls.jsonl", lines);
    env.cmd()
        .args([
            "review",
            "--month",
            "2026-10",
            "calls.jsonl",
            "--out",
            "out",
            "--quiet",
            "--format",
            "md,csv",
        ])
        .assert()
        .success();
    let md = std::fs::read_to_string(env.path("out/review-2026-10.md"))
        .or_else(|_| std::fs::read_to_string(env.path("out/audit.md")))
        .unwrap();
    assert!(
        md.contains("| acme-9b | **unpriced** | **unpriced** | unpriced |"),
        "{md}"
    );
    // gpt-4o: 1,000 × $2.50/M = $0.0025 in September, $0.0275 in October
    // with gamma's.
    assert!(
        md.contains("| gpt-4o | $0.03 | $0.00 | +$0.03 (+1000.0%) |"),
        "{md}"
    );
    // The CSV counts the unpriced calls apart.
    let names: Vec<String> = std::fs::read_dir(env.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let change = names
        .iter()
        .find(|n| n.ends_with("-change.csv"))
        .expect("a change table");
    let csv = std::fs::read_to_string(env.path(&format!("out/{change}"))).unwrap();
    // acme-9b: 1 call this month, 2 the month before (gamma's and
    // nightly's), none priced.
    assert!(
        csv.lines()
            .any(|l| l == "model,acme-9b,1,2,0.00,0.00,0.00,1,2"),
        "{csv}"
    );
    // gamma: not "(new)" against an unknown $0.
    assert!(
        md.contains("| gamma | $0.03 | **unpriced** | +$0.03 (unpriced before) |"),
        "{md}"
    );
}

/// hunt61: the month-over-month tables showed the 15 features that cost
/// most this month, so a feature that cost $100 last month and nothing this
/// month, the whole change of the month, was in neither audit.md nor the
/// page. They show the rows that changed most.
#[test]
fn the_change_tables_show_what_changed_most() {
    let env = Env::new();
    let mut lines = String::new();
    for i in 0..20u64 {
        for m in ["09", "10"] {
            lines += &(gw_line(
                &format!("2026-{m}-10T10:00:00Z"),
                &format!("f{i:02}"),
                "gpt-4o",
                100_000 * (i + 1),
                0,
                json!({}),
            ) + "\n");
        }
    }
    // 40M input tokens at $2.50 a million in September alone.
    lines += &(gw_line(
        "2026-09-10T10:00:00Z",
        "legacy-batch",
        "gpt-4o",
        40_000_000,
        0,
        json!({}),
    ) + "\n");
    env.write("calls.jsonl", lines);
    env.cmd()
        .args([
            "review",
            "--month",
            "2026-10",
            "calls.jsonl",
            "--out",
            "out",
            "--quiet",
        ])
        .assert()
        .success();
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("| legacy-batch | $0.00 | $100.00 | -$100.00 (-100.0%) |"),
        "{md}"
    );
    let html = std::fs::read_to_string(env.path("out/audit.html")).unwrap();
    assert!(html.contains("legacy-batch"));
}

/// A failed call without usage to a model the catalog lacks costs $0, in
/// the reviewed month and in the month before alike (hunt93: "1 call
/// unpriced before", cost per call $0.0035 where September's own audit
/// has none unpriced and $0.003379); the table of unknown models says how
/// many of their calls are not priced, as the summary counts them.
#[test]
fn a_failed_call_without_usage_is_unpriced_in_no_month() {
    let env = Env::new();
    let mut lines = Vec::new();
    for month in [9, 10] {
        for d in 1..=28 {
            lines.push(gw_line(
                &format!("2026-{month:02}-{d:02}T12:00:00Z"),
                "chat",
                "gpt-4o",
                1000,
                100,
                json!({}),
            ));
        }
    }
    lines.push(
        r#"{"timestamp":"2026-09-15T13:00:00Z","request_id":"x1","provider":"acme","model":"acme-llm-7b","feature":"chat","status":"error","http_status":429}"#
            .to_string(),
    );
    lines.push(
        r#"{"timestamp":"2026-10-15T13:00:00Z","provider":"acme","model":"acme-llm-7b","feature":"chat","usage":{"prompt_tokens":10,"completion_tokens":1}}"#
            .to_string(),
    );
    env.write("calls.jsonl", lines.join("\n") + "\n");
    env.cmd()
        .args([
            "review",
            "--month",
            "2026-10",
            "calls.jsonl",
            "--out",
            "rev",
            "--quiet",
        ])
        .assert()
        .success();
    let text = std::fs::read_to_string(env.path("rev/audit.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    let prev = &r["audit"]["previous"];
    // September: 28 × (1,000 × $2.50 + 100 × $10)/M = $0.098 over 29
    // calls, none unpriced: $0.003379 a call.
    assert_eq!(prev["totals"]["calls"], 29);
    assert_eq!(prev["totals"]["unpriced_calls"], 0);
    assert_eq!(usd(&prev["totals"]["cost"]), "0.098");
    let md = std::fs::read_to_string(env.path("rev/audit.md")).unwrap();
    assert!(!md.contains("unpriced before"), "{md}");
    // October's one priced call of the unknown model: 1 of 1 not priced.
    assert!(
        md.contains("| acme-llm-7b | acme | 1 | 1 | 10 | 1 |"),
        "{md}"
    );
    // September's own audit: the same $0.098 over 29 calls, none unpriced.
    let r = env.audit(&["calls.jsonl", "--until", "2026-09-30"]);
    assert_eq!(r["audit"]["totals"]["calls"], 29);
    assert_eq!(r["audit"]["totals"]["unpriced_calls"], 0);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.098");
}

/// The titles of the TA114 findings in `DIR/audit.json`.
fn spike_titles(env: &Env, dir: &str) -> Vec<String> {
    let text = std::fs::read_to_string(env.path(&format!("{dir}/audit.json"))).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    r["audit"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "TA114")
        .map(|f| f["title"].as_str().unwrap().to_string())
        .collect()
}

/// TA114 judges the month's first days against the month before, as an
/// audit of both months does (hunt95, hunt97: a spike on the 2nd was found
/// by `audit` and missed by `review`, its first days having no baseline).
#[test]
fn a_spike_on_the_months_second_day_is_judged_against_the_month_before() {
    let env = Env::new();
    // October: 10,000,000 input tokens of gpt-4o-mini a day ($0.15/M:
    // $1.50), but 100,000,000 on the 20th ($15.00: a spike of October's,
    // no finding of November's review). November: $1.50 on the 1st,
    // $15.00 on the 2nd, 10.0× the median $1.50 of the days before.
    let mut lines = Vec::new();
    let day = |month: u32, d: u32, tokens: u64| {
        gw_line(
            &format!("2026-{month:02}-{d:02}T12:00:00Z"),
            "chat",
            "gpt-4o-mini",
            tokens,
            0,
            json!({}),
        )
    };
    for d in 1..=31 {
        lines.push(day(10, d, if d == 20 { 100_000_000 } else { 10_000_000 }));
    }
    lines.push(day(11, 1, 10_000_000));
    lines.push(day(11, 2, 100_000_000));
    env.write("calls.jsonl", lines.join("\n") + "\n");
    let spikes = |dir: &str| spike_titles(&env, dir);
    let want = "feature chat: spend of $15.00 on 2026-11-02 is 10.0× its baseline median $1.50";
    env.ok(&[
        "review",
        "--month",
        "2026-11",
        "calls.jsonl",
        "--out",
        "rev",
        "--quiet",
    ]);
    assert_eq!(spikes("rev"), [want]);
    // From a store, the same.
    env.ok(&["ingest", "calls.jsonl", "--store", "st", "--quiet"]);
    env.ok(&[
        "review", "--month", "2026-11", "--store", "st", "--out", "rev2", "--quiet",
    ]);
    assert_eq!(spikes("rev2"), [want]);
    // The audit of both months finds both spikes.
    env.audit(&["calls.jsonl"]);
    let both = spikes("out");
    assert_eq!(both.len(), 2, "{both:?}");
    assert!(both.iter().any(|t| t.contains("on 2026-10-20")), "{both:?}");
    assert!(both.contains(&want.to_string()), "{both:?}");
}

/// The month before is history for a model's spend as for a feature's
/// (hunt103: it was kept under `gpt-4o-mini`, the groups' model is
/// `openai/gpt-4o-mini`, so the model's spike on the 2nd was missed).
#[test]
fn a_models_spike_on_the_months_second_day_is_judged_against_the_month_before() {
    let env = Env::new();
    // Two features, 5,000,000 input tokens of gpt-4o-mini each a day
    // ($0.75); on November 2, 15,000,000 each ($2.25: 3.0× $0.75, $1.50
    // over). The model: $4.50 against $1.50, 3.0×, $3.00 over (no one
    // feature's excess: a finding of its own).
    let mut lines = Vec::new();
    for (month, days) in [(10u32, 31u32), (11, 2)] {
        for d in 1..=days {
            let tokens = if (month, d) == (11, 2) {
                15_000_000
            } else {
                5_000_000
            };
            for feature in ["chat", "search"] {
                lines.push(gw_line(
                    &format!("2026-{month:02}-{d:02}T12:00:00Z"),
                    feature,
                    "gpt-4o-mini",
                    tokens,
                    0,
                    json!({}),
                ));
            }
        }
    }
    env.write("calls.jsonl", lines.join("\n") + "\n");
    env.ok(&[
        "review",
        "--month",
        "2026-11",
        "calls.jsonl",
        "--out",
        "rev",
        "--quiet",
    ]);
    let mut titles = spike_titles(&env, "rev");
    titles.sort();
    assert_eq!(
        titles,
        [
            "feature chat: spend of $2.25 on 2026-11-02 is 3.0× its baseline median $0.75",
            "feature search: spend of $2.25 on 2026-11-02 is 3.0× its baseline median $0.75",
            "model openai/gpt-4o-mini: spend of $4.50 on 2026-11-02 is 3.0× its baseline median $1.50",
        ]
    );
}

/// A day without calls between the first and the last is a row of no
/// calls in the daily table, its CSV and the JSON (hunt102: an outage day
/// was no row, and the chart put the days around it side by side); not
/// when such days outnumber the days with calls (a stray old call).
#[test]
fn a_quiet_day_is_a_row_of_its_own() {
    let env = Env::new();
    let day = |d: &str| gw_line(d, "chat", "gpt-4o", 1000, 0, json!({}));
    let calls = [
        day("2026-11-01T12:00:00Z"),
        day("2026-11-03T12:00:00Z"),
        day("2026-11-04T12:00:00Z"),
    ];
    env.write("calls.jsonl", calls.join("\n") + "\n");
    let r = env.audit(&["calls.jsonl"]);
    let daily: Vec<(String, u64)> = r["audit"]["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["day"].as_str().unwrap().to_string(),
                d["calls"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        daily,
        [
            ("2026-11-01".to_string(), 1),
            ("2026-11-02".to_string(), 0),
            ("2026-11-03".to_string(), 1),
            ("2026-11-04".to_string(), 1),
        ]
    );
    let csv = std::fs::read_to_string(env.path("out/audit-daily.csv")).unwrap();
    assert!(csv.lines().any(|l| l.starts_with("2026-11-02,0,")), "{csv}");
    // A stray call a year before: no year of empty rows.
    let stray = day("2025-11-01T12:00:00Z");
    env.write(
        "calls.jsonl",
        [stray].join("\n") + "\n" + &calls.join("\n") + "\n",
    );
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(r["audit"]["daily"].as_array().unwrap().len(), 4);
}

/// hunt151: a month's review over a gateway log and a Message Batches
/// results file (no time on its lines) left the results out, said only in
/// the report's Data quality: the terminal said the month's spend over the
/// gateway's calls alone. Now said there, counted apart in the JSON, and
/// the same from a store.
#[test]
fn calls_without_a_time_left_out_of_a_month_are_said_on_the_terminal() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        gw_line(
            "2026-10-05T10:00:00Z",
            "chat",
            "gpt-4o",
            1000,
            100,
            json!({}),
        ) + "\n",
    );
    let result = |i: usize| {
        json!({"custom_id": format!("r{i}"), "result": {"type": "succeeded", "message": {
            "id": format!("msg_{i}"), "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5", "content": [], "stop_reason": "end_turn",
            "usage": {"input_tokens": 1000, "output_tokens": 100}}}})
        .to_string()
            + "\n"
    };
    env.write("results.jsonl", (0..3).map(result).collect::<String>());
    let said =
        "3 calls had no time (batch results, for one, carry none) and were left out: --month";
    let out = env
        .cmd()
        .args([
            "review",
            "--month",
            "2026-10",
            "calls.jsonl",
            "results.jsonl",
        ])
        .args(["--out", "rv", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(said), "{stderr}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("rv/audit.json")).unwrap()).unwrap();
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    assert_eq!(r["audit"]["input"]["outside_window"], 3);
    assert_eq!(r["audit"]["input"]["untimed_outside_window"], 3);
    // gpt-4o: 1,000 × $2.50/M + 100 × $10/M.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0035");
    // The same from a store.
    env.cmd()
        .args([
            "ingest",
            "calls.jsonl",
            "results.jsonl",
            "--store",
            "st",
            "-q",
        ])
        .assert()
        .success();
    let out = env
        .cmd()
        .args(["review", "--month", "2026-10", "--store", "st"])
        .args(["--out", "rv2", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(said), "{stderr}");
    // Without a window, nothing is left out nor said.
    let out = env
        .cmd()
        .args([
            "audit",
            "calls.jsonl",
            "results.jsonl",
            "--out",
            "all",
            "-q",
        ])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("had no time"));
}
