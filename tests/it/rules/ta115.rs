//! TA115 model-mix-drift: a feature's calls moving to a pricier model.
//!
//! Prices (shipped catalog, `tokenaudit prices show gpt-4o` / `gpt-4o-mini`),
//! USD per million tokens: gpt-4o input $2.50, output $10; gpt-4o-mini input
//! $0.15, output $0.60. Every call here sends 10,000 input and 1,000 output
//! tokens: $0.035 on gpt-4o, $0.0015 + $0.0006 = $0.0021 on gpt-4o-mini.

use serde_json::json;

use crate::util::{findings, gw_line, Env};

/// Ten calls a day of `search-summarize` from October 1 to 14; on day `d`
/// the first `premium(d)` go to gpt-4o, the rest to gpt-4o-mini. The first
/// day's calls run 10:00–10:45 and the last day's 09:15–10:00, so the period
/// is exactly 13 days.
fn fixture(premium: impl Fn(u32) -> u32) -> String {
    let mut s = String::new();
    for d in 1..=14u32 {
        for j in 0..10u32 {
            let minute = 600 + j * 5 - if d == 14 { 45 } else { 0 };
            let ts = format!("2026-10-{d:02}T{:02}:{:02}:00Z", minute / 60, minute % 60);
            let model = if j < premium(d) {
                "gpt-4o"
            } else {
                "gpt-4o-mini"
            };
            s += &(gw_line(&ts, "search-summarize", model, 10_000, 1_000, json!({})) + "\n");
        }
    }
    s
}

/// 1 of 10 calls on gpt-4o in the first week, 9 of 10 in the second.
fn drifting() -> String {
    fixture(|d| if d <= 7 { 1 } else { 9 })
}

#[test]
fn a_feature_moving_to_a_pricier_model_is_found() {
    let env = Env::new();
    env.write("calls.jsonl", drifting());
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA115");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    assert_eq!(
        f["scope"],
        json!({"feature": "search-summarize", "model": "openai/gpt-4o"})
    );
    assert_eq!(
        f["title"],
        "search-summarize: gpt-4o's share of calls rose from 10% to 90%"
    );
    // Windows: October 1–7 (70 calls, 7 on gpt-4o) and 8–14 (70, 63).
    // Per call at the last window's mix: 0.9 × $0.035 + 0.1 × $0.0021 =
    // $0.03171; at the first window's: 0.1 × $0.035 + 0.9 × $0.0021 =
    // $0.00539. Extra: $0.02632 × 70 calls = $1.8424.
    assert_eq!(
        f["evidence"],
        json!({
            "premium_model": "openai/gpt-4o",
            "share_first_window": 0.1,
            "share_last_window": 0.9,
            "window_days": 7,
            "extra_spend_last_window": "1.8424",
            "extra_spend_period": "1.8424",
        })
    );
    // Paid in the period over the first window's mix: 140 calls, 70 on
    // each model, $2.45 + $0.147 = $2.597, against 140 × $0.00539 =
    // $0.7546: $1.8424 (the first week is at that mix; it said $3.4216,
    // the last week's rate stretched over 13 days, more than was paid). A
    // month at the last week's rate: $1.8424 × 30 / 7 = $7.896.
    assert_eq!(f["savings"]["observed"], "1.8424");
    assert_eq!(f["savings"]["monthly"], "7.896");
    assert_eq!(f["severity"], "low");
    assert_eq!(f["confidence"], "medium");
    assert!(f.get("lever").is_none());
}

#[test]
fn a_stable_model_mix_is_not_drift() {
    let env = Env::new();
    env.write("calls.jsonl", fixture(|_| 5));
    let cfg = env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    assert!(findings(&r, "TA115").is_empty());
}

#[test]
fn window_and_rise_options_change_the_comparison() {
    // Three-day windows (30 calls each, so min_calls 30): October 1–3 and
    // 12–14, the same shares. Extra: $0.02632 × 30 = $0.7896, × 30 / 3 =
    // the same $7.896 a month; paid in the period, the same $1.8424 (days
    // 4–7 are at the first window's mix too).
    let env = Env::new();
    env.write("calls.jsonl", drifting());
    let cfg = env.write(
        "cfg.toml",
        "[rules.TA115]\nwindow_days = 3\nmin_calls = 30\n",
    );
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    let f = findings(&r, "TA115");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["evidence"]["window_days"], 3);
    assert_eq!(f[0]["evidence"]["extra_spend_last_window"], "0.7896");
    assert_eq!(f[0]["savings"]["observed"], "1.8424");
    assert_eq!(f[0]["savings"]["monthly"], "7.896");

    // A rise of 0.8 is below min_rise = 0.9.
    let env = Env::new();
    env.write("calls.jsonl", drifting());
    let cfg = env.write("cfg.toml", "[rules.TA115]\nmin_rise = 0.9\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    assert!(findings(&r, "TA115").is_empty());
}

/// hunt57: another feature's stray call dated weeks away (a health check
/// from a host with a skewed clock) moved both windows off this feature's
/// days and closed its ticket. Windows are at the ends of the feature's
/// own calls: the same finding, fingerprint and evidence.
#[test]
fn another_features_stray_call_moves_no_window() {
    let env = Env::new();
    env.write("calls.jsonl", drifting());
    let before = env.audit(&["calls.jsonl"]);
    let stray = gw_line(
        "2026-09-10T00:00:00Z",
        "healthcheck",
        "gpt-4o-mini",
        10,
        1,
        json!({}),
    ) + "\n"
        + &gw_line(
            "2026-11-20T00:00:00Z",
            "healthcheck",
            "gpt-4o-mini",
            10,
            1,
            json!({}),
        )
        + "\n";
    env.write("calls.jsonl", drifting() + &stray);
    let after = env.audit(&["calls.jsonl"]);
    let (b, a) = (findings(&before, "TA115"), findings(&after, "TA115"));
    assert_eq!(a.len(), 1, "{a:#?}");
    assert_eq!(a[0]["fingerprint"], b[0]["fingerprint"]);
    assert_eq!(a[0]["evidence"], b[0]["evidence"]);
    assert_eq!(a[0]["savings"]["observed"], "1.8424");
}

/// hunt58: a feature gone before the period's end (renamed on October 14,
/// its traffic goes on as another feature to the 28th) drifted while it
/// lived; a month at its last window's rate would be money no longer
/// spent: no finding. The feature that goes on is not a drift.
#[test]
fn a_feature_gone_before_the_end_is_not_reported() {
    let env = Env::new();
    let renamed: String = (15..=28u32)
        .flat_map(|d| {
            (0..10u32).map(move |j| {
                let ts = format!("2026-10-{d:02}T10:{:02}:00Z", j * 5);
                gw_line(
                    &ts,
                    "search-summary",
                    "gpt-4o-mini",
                    10_000,
                    1_000,
                    json!({}),
                ) + "\n"
            })
        })
        .collect();
    env.write("calls.jsonl", drifting() + &renamed);
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA115"), Vec::<&serde_json::Value>::new());
}
