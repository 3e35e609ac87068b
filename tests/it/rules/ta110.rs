//! TA110 near-duplicate-requests: reworded repeats of a prompt answered
//! within the TTL, found from the logged prompt text (MinHash), apart from
//! exact duplicates.
//!
//! Price (shipped catalog, `tokenaudit prices show gpt-4o-mini`): input
//! $0.15, output $0.60 per million tokens. Every call sends 1,000 input and
//! 100 output tokens: $0.00015 + $0.00006 = $0.00021.

use serde_json::json;

use crate::util::{findings, gw_line, Env};

/// 2026-10-01 at `minute` minutes after midnight UTC.
fn at(minute: u32) -> String {
    format!("2026-10-01T{:02}:{:02}:00Z", minute / 60, minute % 60)
}

fn call(minute: u32, id: String, hash: u64, text: &str) -> String {
    let extra = json!({
        "request_id": id,
        "prompt_hash": format!("{hash:016x}"),
        "messages": [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": text}],
    });
    gw_line(&at(minute), "faq", "gpt-4o-mini", 1000, 100, extra) + "\n"
}

/// Question i uses eight words no other question shares, so questions never
/// match each other. Asked at 10·i minutes (fills the cache), reworded (one
/// word added: 15 of 17 word and word-pair shingles shared, Jaccard 0.88) 5
/// minutes later (a near hit), asked again word for word at +6 (an exact
/// duplicate: TA109's, not counted here), reworded again at +120 (past the
/// 60-minute TTL: a miss).
fn questions(n: u32) -> String {
    let mut s = String::new();
    for i in 0..n {
        let words = [
            "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
        ]
        .map(|w| format!("{w}{i}"))
        .join(" ");
        let t = 10 * i;
        s += &call(t, format!("a{i:02}"), 0xa000 + i as u64, &words);
        s += &call(
            t + 5,
            format!("b{i:02}"),
            0xb000 + i as u64,
            &format!("{words} please"),
        );
        s += &call(t + 6, format!("c{i:02}"), 0xa000 + i as u64, &words);
        s += &call(
            t + 120,
            format!("d{i:02}"),
            0xd000 + i as u64,
            &format!("please {words}"),
        );
    }
    s
}

#[test]
fn reworded_repeats_within_the_ttl_are_semantic_cache_hits() {
    let env = Env::new();
    env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    env.write("logs.jsonl", questions(25));
    let report = env.audit(&["logs.jsonl", "--config", "cfg.toml"]);
    let f = findings(&report, "TA110");
    assert_eq!(f.len(), 1, "{f:?}");
    let f = f[0];
    assert_eq!(f["scope"]["feature"], "faq");
    assert_eq!(f["scope"]["model"], "openai/gpt-4o-mini");
    let e = &f["evidence"];
    assert_eq!(e["calls_with_text"], 100);
    // The 25 rewordings at +5 minutes; not the exact repeats, not the +120s.
    assert_eq!(e["semantic_cache_hits"], 25);
    assert_eq!(e["hit_rate"], 0.25);
    assert_eq!(f["confidence"], "low");
    // 25 × $0.00021 = $0.00525 over a period of one day (the minimum; the
    // calls span 6 h), × 30 for the month.
    assert_eq!(f["savings"]["observed"], "0.00525");
    assert_eq!(f["savings"]["monthly"], "0.1575");
    assert_eq!(f["lever"]["kind"], "response_cache");
    assert_eq!(f["lever"]["hit_rate"], 0.25);
    let ids: Vec<&str> = f["sample_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(ids, ["b00", "b01", "b02"]);
    // The exact repeats are TA109's business (with its 20-hit minimum: 25).
    let exact = findings(&report, "TA109");
    assert_eq!(exact.len(), 1);
    assert_eq!(exact[0]["evidence"]["cache_hits"], 25);
}

#[test]
fn unrelated_questions_and_exact_repeats_are_not_near_duplicates() {
    let env = Env::new();
    env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let mut s = String::new();
    for i in 0..40u32 {
        let words = ["kilo", "lima", "mike", "november", "oscar"]
            .map(|w| format!("{w}{i}"))
            .join(" ");
        s += &call(3 * i, format!("q{i}"), 0xe000 + i as u64, &words);
        s += &call(3 * i + 1, format!("r{i}"), 0xe000 + i as u64, &words);
    }
    env.write("logs.jsonl", s);
    let report = env.audit(&["logs.jsonl", "--config", "cfg.toml"]);
    assert!(findings(&report, "TA110").is_empty());
}

#[test]
fn the_ttl_option_decides_which_calls_hit() {
    let env = Env::new();
    // 4 minutes: each rewording at +5 misses (the fill at 0 expired) and
    // fills the cache; the word-for-word repeat at +6 is then a near hit of
    // that rewording (one minute old). Still 25 hits, now the c's.
    env.write(
        "cfg.toml",
        "[detect]\nmin_savings = 0\n[rules.TA110]\nttl_minutes = 4\n",
    );
    env.write("logs.jsonl", questions(25));
    let report = env.audit(&["logs.jsonl", "--config", "cfg.toml"]);
    let f = findings(&report, "TA110");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["evidence"]["semantic_cache_hits"], 25);
    assert_eq!(
        f[0]["sample_requests"],
        serde_json::json!(["c00", "c01", "c02"])
    );
    // Half a minute: no call comes that soon after a similar one.
    env.write(
        "cfg.toml",
        "[detect]\nmin_savings = 0\n[rules.TA110]\nttl_minutes = 0.5\n",
    );
    let report = env.audit(&["logs.jsonl", "--config", "cfg.toml"]);
    assert!(findings(&report, "TA110").is_empty());
}

#[test]
fn logs_without_prompt_text_cannot_show_near_duplicates() {
    let env = Env::new();
    env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let s: String = questions(25)
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("messages");
            v.to_string() + "\n"
        })
        .collect();
    env.write("logs.jsonl", s);
    let report = env.audit(&["logs.jsonl", "--config", "cfg.toml"]);
    assert!(findings(&report, "TA110").is_empty());
}

/// Follow-ups ("make it shorter") alike across conversations are no match:
/// their answers depend on histories a cache keyed by the question would
/// not see. Only a conversation's first question is compared.
#[test]
fn follow_ups_from_different_conversations_are_not_near_duplicates() {
    let env = Env::new();
    env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let mut s = String::new();
    for i in 0..60u32 {
        let text = if i % 2 == 0 {
            "make it shorter"
        } else {
            "make it shorter please"
        };
        let extra = json!({
            "request_id": format!("f{i:02}"),
            "messages": [
                {"role": "user", "content": format!("write an email about topic{i} for client{i}")},
                {"role": "assistant", "content": "Dear client, ..."},
                {"role": "user", "content": text},
            ],
        });
        s += &(gw_line(&at(i), "writer-chat", "gpt-4o-mini", 1000, 100, extra) + "\n");
    }
    env.write("logs.jsonl", s);
    let report = env.audit(&["logs.jsonl", "--config", "cfg.toml"]);
    // Before, 59 of the 60 matched one another within the hour.
    assert!(findings(&report, "TA110").is_empty());
}

/// Questions that differ only in an identifier are no near-duplicates: a
/// semantic cache would answer one customer's order with another's (hunt49,
/// hunt92: "Where is my order 483920?" matched 1,009 other orders' at 50%).
/// A reworded question about the same order still is.
#[test]
fn questions_about_different_orders_are_not_near_duplicates() {
    let env = Env::new();
    env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let mut s = String::new();
    for i in 0..200u32 {
        let order = 483_920 + 7 * i;
        s += &call(
            i / 4,
            format!("o{i:03}"),
            0xe000 + u64::from(i),
            &format!(
                "Hello, where is my order {order}? I placed it last week and it has not arrived."
            ),
        );
    }
    env.write("orders.jsonl", &s);
    let report = env.audit(&["orders.jsonl", "--config", "cfg.toml"]);
    assert!(
        findings(&report, "TA110").is_empty(),
        "{:#?}",
        findings(&report, "TA110")
    );
    // The same orders asked again, reworded, minutes later: near hits.
    for i in 0..200u32 {
        let order = 483_920 + 7 * i;
        s += &call(
            60 + i / 4,
            format!("r{i:03}"),
            0xf000 + u64::from(i),
            &format!("Hello, where is my order {order}? I placed it last week and it still has not arrived."),
        );
    }
    env.write("orders.jsonl", &s);
    let report = env.audit(&["orders.jsonl", "--config", "cfg.toml"]);
    let f = findings(&report, "TA110");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["evidence"]["semantic_cache_hits"], 200, "{:#?}", f[0]);
}
