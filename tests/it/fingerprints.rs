//! Finding fingerprints identify a problem, not a run: the same calls in a
//! different order, split across files, give the same fingerprints, the
//! same figures and the same sample request ids.

use serde_json::{json, Value};

use crate::util::{gw_line, Env};

/// Calls that plant several kinds of waste: repeated prompts (TA109), tiny
/// answers on a premium model (TA111), runaway outputs (TA112), a tagged
/// nightly job (TA113), a spend spike (TA114) and a daily budget overrun
/// (TA116), over eight days.
fn lines() -> Vec<String> {
    let mut v = Vec::new();
    let ts = |day: u32, minute: u32| {
        format!(
            "2026-10-{day:02}T{:02}:{:02}:00Z",
            minute / 60 % 24,
            minute % 60
        )
    };
    for day in 1..=8u32 {
        // faq-bot repeats three prompts within minutes.
        for k in 0..3u64 {
            for i in 0..4u32 {
                v.push(gw_line(
                    &ts(day, 600 + k as u32 * 60 + i * 5),
                    "faq-bot",
                    "gpt-4o",
                    2_000,
                    200,
                    json!({"request_id": format!("faq-{day}-{k}-{i}"), "prompt_hash": format!("{:016x}", day as u64 * 10 + k)}),
                ));
            }
        }
        // ticket-classifier answers in 4 tokens on gpt-4o.
        for i in 0..20u32 {
            v.push(gw_line(
                &ts(day, 480 + i * 7),
                "ticket-classifier",
                "gpt-4o",
                800,
                4,
                json!({"request_id": format!("tc-{day}-{i}")}),
            ));
        }
        // report-writer spikes on day 8, where three answers run away.
        let n = if day == 8 { 120 } else { 12 };
        for i in 0..n {
            v.push(gw_line(
                &ts(day, 720 + i),
                "report-writer",
                "gpt-4o",
                20_000,
                if i % 40 == 39 { 60 } else { 8 },
                json!({"request_id": format!("rw-{day}-{i:03}")}),
            ));
        }
        // nightly-summaries, tagged background.
        for i in 0..10u32 {
            v.push(gw_line(
                &ts(day, 120 + i * 3),
                "nightly-summaries",
                "gpt-4o-mini",
                20_000,
                1_500,
                json!({"request_id": format!("ns-{day}-{i}"), "tags": {"user_facing": "false"}}),
            ));
        }
    }
    v
}

/// Each finding (sample request ids included: the smallest ids are kept,
/// whatever the order), keyed by fingerprint.
fn by_fingerprint(report: &Value) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> = report["audit"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["fingerprint"].as_str().unwrap().to_string(), f.clone()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn fingerprints_and_figures_do_not_depend_on_order_or_files() {
    let cfg = "[detect]\nmin_savings = 0\n\n[[budget]]\nfeature = \"report-writer\"\ndaily = 1.0\n";
    let all = lines();

    let env = Env::new();
    env.write("all.jsonl", all.join("\n") + "\n");
    let c = env.write("cfg.toml", cfg);
    let one = env.audit(&["all.jsonl", "--config", c.to_str().unwrap()]);

    // The same lines reversed, every other line in a second file.
    let env2 = Env::new();
    let reversed: Vec<&String> = all.iter().rev().collect();
    let (mut a, mut b) = (String::new(), String::new());
    for (i, l) in reversed.iter().enumerate() {
        let s = if i % 2 == 0 { &mut a } else { &mut b };
        s.push_str(l);
        s.push('\n');
    }
    env2.write("a.jsonl", a);
    env2.write("b.jsonl", b);
    let c = env2.write("cfg.toml", cfg);
    let two = env2.audit(&["a.jsonl", "b.jsonl", "--config", c.to_str().unwrap()]);

    let (f1, f2) = (by_fingerprint(&one), by_fingerprint(&two));
    let rules: std::collections::BTreeSet<&str> = f1
        .iter()
        .map(|(_, f)| f["rule"].as_str().unwrap())
        .collect();
    for code in ["TA109", "TA111", "TA112", "TA113", "TA114", "TA116"] {
        assert!(rules.contains(code), "{code} not planted: {rules:?}");
    }
    assert_eq!(f1.len(), f2.len());
    for ((k1, x1), (k2, x2)) in f1.iter().zip(&f2) {
        assert_eq!(k1, k2);
        assert_eq!(x1, x2, "finding {k1} differs");
    }
    // The report's order of findings and the savings waterfall too.
    let order = |r: &Value| -> Vec<String> {
        r["audit"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(order(&one), order(&two));
    assert_eq!(one["audit"]["savings"], two["audit"]["savings"]);
    assert_eq!(one["audit"]["totals"], two["audit"]["totals"]);
}
