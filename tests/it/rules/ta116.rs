//! TA116 budget-overrun: spend above the `[[budget]]` tables of the config
//! file, per day, per calendar month and per call.
//!
//! Price (shipped catalog, `tokenaudit prices show gpt-4o`): input $2.50,
//! output $10 per million tokens. A small call (10,000 in, 1,000 out) costs
//! $0.025 + $0.01 = $0.035; a big one (100,000 in, 1,000 out) $0.25 + $0.01 =
//! $0.26.

use serde_json::json;

use crate::util::{findings, gw_line, Env};

fn calls(feature: &str, date: &str, n: u32, input: u64, id: &str) -> String {
    (0..n)
        .map(|j| {
            let ts = format!("{date}T{:02}:{:02}:00Z", 10 + j / 60, j % 60);
            gw_line(
                &ts,
                feature,
                "gpt-4o",
                input,
                1_000,
                json!({"request_id": format!("{id}-{j}")}),
            ) + "\n"
        })
        .collect()
}

/// report-writer: $0.35 on October 1, 40 small calls ($1.40) on October 2,
/// and 18 small + 2 big calls ($0.63 + $0.52 = $1.15) on October 3. chat: 10
/// small calls ($0.35) on September 30 and on October 1.
fn fixture() -> String {
    [
        calls("chat", "2026-09-30", 10, 10_000, "chat-sep"),
        calls("chat", "2026-10-01", 10, 10_000, "chat-oct"),
        calls("report-writer", "2026-10-01", 10, 10_000, "rw1"),
        calls("report-writer", "2026-10-02", 40, 10_000, "rw2"),
        calls("report-writer", "2026-10-03", 18, 10_000, "rw3"),
        calls("report-writer", "2026-10-03", 2, 100_000, "big"),
    ]
    .concat()
}

const BUDGETS: &str = r#"
[[budget]]
feature = "report-writer"
daily = 1.0
per_call = 0.10

[[budget]]
feature = "*"
monthly = 2.0
"#;

#[test]
fn daily_monthly_and_per_call_overruns_are_found() {
    let env = Env::new();
    env.write("calls.jsonl", fixture());
    let cfg = env.write("cfg.toml", BUDGETS);
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    let f = findings(&r, "TA116");
    assert_eq!(f.len(), 3, "{f:#?}");
    let budget = |kind: &str| {
        *f.iter()
            .find(|x| x["scope"]["budget"] == kind)
            .unwrap_or_else(|| panic!("no {kind} overrun"))
    };

    // Daily $1.00: over on October 2 by $0.40 and October 3 by $0.15.
    let daily = budget("daily");
    assert_eq!(
        daily["scope"],
        json!({"feature": "report-writer", "budget": "daily"})
    );
    assert_eq!(
        daily["title"],
        "report-writer: over its daily budget of $1.00 on 2 days (by $0.55 in all)"
    );
    assert_eq!(
        daily["evidence"],
        json!({
            "budget": "1.00",
            "days_over": 2,
            "total_over": "0.55",
            "overruns": [
                {"day": "2026-10-02", "over_by": "0.40"},
                {"day": "2026-10-03", "over_by": "0.15"},
            ],
            "worst_day": "2026-10-02",
            "worst_over_by": "0.40",
        })
    );
    assert_eq!(daily["severity"], "high");
    assert!(daily["savings"].is_null());

    // Monthly $2.00 for all spend: October is $0.35 + $0.35 + $1.40 + $1.15
    // = $3.25, over by $1.25; September's $0.35 is within budget.
    let monthly = budget("monthly");
    assert_eq!(
        monthly["scope"],
        json!({"feature": "*", "budget": "monthly", "month": "2026-10"})
    );
    assert_eq!(
        monthly["title"],
        "all features: spent $3.25 in 2026-10, over its monthly budget of $2.00 by $1.25"
    );
    assert_eq!(
        monthly["evidence"],
        json!({"budget": "2.00", "month": "2026-10", "spend": "3.25", "over_by": "1.25"})
    );
    assert_eq!(monthly["severity"], "high");

    // A window on part of the month (a rolling 30 days, say) saw part of
    // its spend: October 2 and 3, $1.40 + $1.15 = $2.55, and says so.
    let r = env.audit(&[
        "calls.jsonl",
        "--config",
        cfg.to_str().unwrap(),
        "--since",
        "2026-10-02",
    ]);
    let windowed = findings(&r, "TA116")
        .into_iter()
        .find(|x| x["scope"]["budget"] == "monthly")
        .unwrap();
    assert_eq!(
        windowed["title"],
        "all features: spent at least $2.55 in 2026-10 (audited from 2026-10-02 to 2026-10-31 only), over its monthly budget of $2.00 by $0.55"
    );
    assert_eq!(windowed["fingerprint"], monthly["fingerprint"]);

    // Per call $0.10: the two big calls, $0.16 over each.
    let per_call = budget("per_call");
    assert_eq!(
        per_call["scope"],
        json!({"feature": "report-writer", "budget": "per_call"})
    );
    assert_eq!(
        per_call["title"],
        "report-writer: 2 calls cost more than the per-call budget of $0.1000"
    );
    assert_eq!(
        per_call["evidence"],
        json!({"budget": "0.10", "calls_over": 2, "total_over": "0.32"})
    );
    assert_eq!(per_call["sample_requests"], json!(["big-0", "big-1"]));
    assert_eq!(per_call["severity"], "medium");
    assert_eq!(per_call["confidence"], "high");
}

#[test]
fn spend_within_budget_or_without_budgets_is_not_an_overrun() {
    let env = Env::new();
    env.write("calls.jsonl", fixture());
    // No budgets at all.
    let r = env.audit(&["calls.jsonl"]);
    assert!(findings(&r, "TA116").is_empty());
    // Budgets the spend stays within (the biggest day is $1.40, the biggest
    // call $0.26, October $3.25).
    let cfg = env.write(
        "cfg.toml",
        "[[budget]]\nfeature = \"report-writer\"\ndaily = 1.40\nper_call = 0.26\n\n[[budget]]\nfeature = \"*\"\nmonthly = 3.25\n",
    );
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    assert!(
        findings(&r, "TA116").is_empty(),
        "{:#?}",
        findings(&r, "TA116")
    );
}

#[test]
fn a_feature_budget_wins_over_the_star_budget_per_call() {
    let env = Env::new();
    env.write("calls.jsonl", fixture());
    // `*` allows $0.01 a call (every call is over), report-writer $0.10:
    // report-writer's calls are judged by its own budget (the 2 big calls),
    // chat's 20 calls by `*`, each $0.025 over: $0.50.
    let cfg = env.write(
        "cfg.toml",
        "[[budget]]\nfeature = \"*\"\nper_call = 0.01\n\n[[budget]]\nfeature = \"report-writer\"\nper_call = 0.10\n",
    );
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    let f = findings(&r, "TA116");
    assert_eq!(f.len(), 2, "{f:#?}");
    let star = f.iter().find(|x| x["scope"]["feature"] == "*").unwrap();
    assert_eq!(star["evidence"]["calls_over"], 20);
    assert_eq!(star["evidence"]["total_over"], "0.50");
    assert_eq!(
        star["title"],
        "all features: 20 calls cost more than the per-call budget of $0.0100"
    );
    let own = f
        .iter()
        .find(|x| x["scope"]["feature"] == "report-writer")
        .unwrap();
    assert_eq!(own["evidence"]["calls_over"], 2);
    assert_eq!(own["evidence"]["total_over"], "0.32");

    // Equal amounts: `*` still judges only the features without a budget of
    // their own (chat's calls are within $0.10), so the big calls are not
    // counted twice.
    let cfg = env.write(
        "equal.toml",
        "[[budget]]\nfeature = \"*\"\nper_call = 0.10\n\n[[budget]]\nfeature = \"report-writer\"\nper_call = 0.10\n",
    );
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    let f = findings(&r, "TA116");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["scope"]["feature"], "report-writer");
    assert_eq!(f[0]["evidence"]["calls_over"], 2);

    // `enabled = false` turns the rule off whatever the budgets.
    let cfg = env.write(
        "off.toml",
        format!("{BUDGETS}\n[rules.TA116]\nenabled = false\n"),
    );
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    assert!(findings(&r, "TA116").is_empty());
}

/// A budget with more decimals than cents is said as written, and an
/// overrun under a cent with its own decimals (hunt118: "spent $7.00 …
/// over its monthly budget of $7.00 by $0.00"). October's all-feature
/// spend is $3.25: a monthly budget of $3.2499 is over by $0.0001; a daily
/// $0.3499 for chat (its $0.35 days, 2026-09-30 and 2026-10-01) is over by
/// $0.0001 on each, $0.0002 in all.
#[test]
fn budgets_and_overruns_under_a_cent_are_said_with_their_decimals() {
    let env = Env::new();
    env.write("calls.jsonl", fixture());
    let cfg = env.write(
        "cfg.toml",
        "[[budget]]\nfeature = \"*\"\nmonthly = 3.2499\n[[budget]]\nfeature = \"chat\"\ndaily = 0.3499\n",
    );
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    let f = findings(&r, "TA116");
    let title = |kind: &str| {
        f.iter()
            .find(|x| x["scope"]["budget"] == kind)
            .unwrap_or_else(|| panic!("no {kind} overrun: {f:#?}"))["title"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        title("monthly"),
        "all features: spent $3.25 in 2026-10, over its monthly budget of $3.2499 by $0.0001"
    );
    assert_eq!(
        title("daily"),
        "chat: over its daily budget of $0.3499 on 2 days (by $0.0002 in all)"
    );
}
