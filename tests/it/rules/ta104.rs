//! TA104 volatile-prefix: a long system prompt whose fingerprint changes on
//! (nearly) every call, so it can never be cached.
//!
//! Price (shipped catalog, `tokenaudit prices show gpt-4o`): input $2.50,
//! cached read $1.25 per million tokens, no cache-write price (writes are
//! billed as input). The saving is TA103's: once the prefix is stable, the
//! calls replayed under OpenAI's rules (an entry lives 5 minutes after its
//! last use and at most an hour; 1,024 tokens and 128-token steps).

use serde_json::{json, Value};

use crate::util::{findings, gw_line, Env};

/// 2025-03-01 at `minute` minutes after midnight UTC (midnight starts a
/// 5-minute window).
fn at(minute: u32) -> String {
    format!("2025-03-01T{:02}:{:02}:00Z", minute / 60, minute % 60)
}

/// 60 calls of `agent-planner × gpt-4o`, call i at minute `i × every`, each
/// with 3,000 input tokens (2,000 of them the system prompt) and 100 output;
/// call i's prefix is number `i % distinct`.
fn fixture(distinct: u32, every: u32) -> String {
    let mut s = String::new();
    for i in 0..60 {
        let extra = json!({
            "request_id": format!("plan-{i:02}"),
            "prefix_hash": format!("{:016x}", 0x1000 + i % distinct),
            "prefix_tokens": 2_000,
        });
        s += &(gw_line(&at(i * every), "agent-planner", "gpt-4o", 3_000, 100, extra) + "\n");
    }
    s
}

/// [`fixture`] with a cached count of 0 on every call: the feature's logs
/// record cached tokens (none read).
fn with_zero_cached_counts(distinct: u32, every: u32) -> String {
    let s = fixture(distinct, every).replace(
        "\"completion_tokens\":100,\"prompt_tokens\":3000}",
        "\"completion_tokens\":100,\"prompt_tokens\":3000,\"prompt_tokens_details\":{\"cached_tokens\":0}}",
    );
    assert_eq!(s.matches("\"cached_tokens\":0").count(), 60);
    s
}

#[test]
fn a_prefix_changing_on_every_call_is_found() {
    let env = Env::new();
    // A different prefix on each of 60 calls, one a minute for 59 minutes.
    env.write("calls.jsonl", with_zero_cached_counts(60, 1));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA104");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    assert_eq!(
        f["scope"],
        json!({"feature": "agent-planner", "model": "openai/gpt-4o"})
    );
    let e = &f["evidence"];
    assert_eq!(e["calls"], 60);
    assert_eq!(e["distinct_prefixes"], 60);
    assert_eq!(e["distinct_per_call"], json!(1.0));
    assert_eq!(e["mean_prefix_tokens"], 2_000);
    // Stable, it would be written once and hit 59 times, each hit reading
    // 1,024 + 7 × 128 = 1,920 tokens: 113,280 cached of 60 × 3,000 =
    // 180,000 input → 0.629333… → 0.6293.
    assert_eq!(e["cached_share_after"], json!(0.6293));
    assert_eq!(e["prefix_tokens_from"], "logged");
    // 113,280 × ($2.50 − $1.25)/M = $0.1416; × 30 (under a day) = $4.248.
    assert_eq!(f["savings"]["observed"], "0.1416");
    assert_eq!(f["savings"]["monthly"], "4.248");
    assert_eq!(f["severity"], "low");
    assert_eq!(f["confidence"], "high");
    assert_eq!(f["lever"]["kind"], "prompt_cache");
    // No single prefix repeats: TA103 has nothing to say.
    assert_eq!(findings(&r, "TA103"), Vec::<&Value>::new());
    // Under a floor of $5 a month it is left out and counted as such
    // (hunt78: listed, and counted among those not listed).
    env.write("cfg.toml", "[detect]\nmin_savings = 5\n");
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    assert_eq!(findings(&r, "TA104"), Vec::<&Value>::new());
    assert_eq!(r["audit"]["findings_below_min_savings"], 1);
}

#[test]
fn a_volatile_prefix_is_reported_even_without_a_saving() {
    let env = Env::new();
    // One call every 6 minutes: each would find the entry expired and write
    // it again, so caching saves nothing; the finding still stands, without
    // savings.
    env.write("calls.jsonl", fixture(60, 6));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA104");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["savings"], Value::Null);
    assert_eq!(f[0]["severity"], "low");
    assert_eq!(f[0]["evidence"]["cached_share_after"], json!(0.0));
}

#[test]
fn a_prefix_changing_on_under_half_the_calls_is_not_volatile() {
    let env = Env::new();
    // 29 distinct prefixes over 60 calls: 0.483 per call, under 0.5.
    env.write("calls.jsonl", fixture(29, 1));
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA104"), Vec::<&Value>::new());
}

#[test]
fn distinct_share_option_lowers_the_bar() {
    let env = Env::new();
    env.write("calls.jsonl", with_zero_cached_counts(29, 1));
    env.write("cfg.toml", "[rules.TA104]\ndistinct_share = 0.4\n");
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    let f = findings(&r, "TA104");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    assert_eq!(e["distinct_prefixes"], 29);
    // 29 / 60 = 0.48333… → 0.4833.
    assert_eq!(e["distinct_per_call"], json!(0.4833));
    assert_eq!(f[0]["confidence"], "medium");
    // The same replay: the same $0.1416.
    assert_eq!(f[0]["savings"]["observed"], "0.1416");
}

#[test]
fn without_a_prefix_size_the_features_smallest_input_bounds_it() {
    let env = Env::new();
    // The fixture's 60 variants, one a minute, with no size logged and no
    // text (as gateway-minimal logs them); call i sends 3,000 + 10 × i
    // tokens. Each variant's own smallest input is its one call, which
    // bounds nothing; the feature's smallest input, 3,000 (call 0), bounds
    // every variant, which differ in a few characters: the size is taken as
    // 3,000 tokens (the real 2,000 is below; an upper bound, so the
    // confidence is low).
    let mut s = String::new();
    for i in 0..60 {
        let extra = json!({
            "request_id": format!("plan-{i:02}"),
            "system_prompt_hash": format!("{:016x}", 0x1000 + i),
        });
        s += &(gw_line(
            &at(i),
            "agent-planner",
            "gpt-4o",
            3_000 + 10 * i as u64,
            100,
            extra,
        ) + "\n");
    }
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA104");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    assert_eq!(e["mean_prefix_tokens"], 3_000);
    assert_eq!(e["prefix_tokens_from"], "min_input");
    assert_eq!(f[0]["confidence"], "low");
    // 1,024 + 15 × 128 = 2,944 tokens cached on 59 hits: 173,696 of
    // 197,700 input tokens (0.87858… → 0.8786), × ($2.50 − $1.25)/M =
    // $0.21712.
    assert_eq!(e["cached_share_after"], json!(0.8786));
    assert_eq!(f[0]["savings"]["observed"], "0.21712");
    let cov = crate::util::rule_coverage(&r, "TA104");
    assert_eq!(cov["status"], "ran_on_estimates");
    assert_eq!(cov["inputs"][1]["sources"][0]["via"], "prefix_min_input");
}

/// 60 calls as [`fixture`]'s, each with its own prefix, whose usage says
/// `cached` of its 3,000 input tokens were read from the cache (from the
/// second call on): the static start of the prompt cached, the variable
/// part after it.
fn cached_fixture(cached: u64) -> String {
    let mut s = String::new();
    for i in 0..60u32 {
        let read = if i == 0 { 0 } else { cached };
        let extra = json!({
            "request_id": format!("plan-{i:02}"),
            "prefix_hash": format!("{:016x}", 0x1000 + i),
            "prefix_tokens": 2_000,
            "usage": {"prompt_tokens": 3_000, "completion_tokens": 100,
                      "prompt_tokens_details": {"cached_tokens": read}},
        });
        s += &(gw_line(&at(i), "agent-planner", "gpt-4o", 3_000, 100, extra) + "\n");
    }
    s
}

/// hunt49: a prefix whose variable part comes after a cached block was
/// said to be "never cached", with a saving above the period's spend (the
/// reads the logs show were not taken off).
#[test]
fn a_prefix_the_logs_show_cached_is_not_volatile_and_cached_reads_are_not_saved_again() {
    let env = Env::new();
    // 1,920 of each prefix's 2,000 tokens read from the cache on 59 calls:
    // 113,280 ≥ half the 120,000 prefix tokens sent. No finding.
    env.write("calls.jsonl", cached_fixture(1_920));
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA104"), Vec::<&Value>::new());
    // 512 read on 59 calls: 30,208, under half. The replay's $0.1416 less
    // what was read already: 30,208 × ($2.50 − $1.25)/M = $0.03776, leaves
    // $0.10384.
    env.write("calls.jsonl", cached_fixture(512));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA104");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["savings"]["observed"], "0.10384");
    // hunt51: the reads of the feature's calls without a prefix are not
    // the prefix's. 60 such calls reading 2,048 tokens each leave the
    // volatile prefix and its $0.1416 as they are.
    let mut s = fixture(60, 1);
    for i in 0..60u32 {
        let extra = json!({
            "request_id": format!("other-{i:02}"),
            "usage": {"prompt_tokens": 3_000, "completion_tokens": 100,
                      "prompt_tokens_details": {"cached_tokens": 2_048}},
        });
        s += &(gw_line(&at(i), "agent-planner", "gpt-4o", 3_000, 100, extra) + "\n");
    }
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA104");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["savings"]["observed"], "0.1416");
}

/// No call of the audit shows a cached read, and OpenAI caches a prompt's
/// unchanged start on its own: the fingerprint tells that the prompt
/// changes, not where, so the finding says what the logs cannot show, at
/// low confidence (hunt70: a timestamp at the end of a 2,000-token system
/// prompt was said to make it "never cached", at medium confidence).
#[test]
fn without_cached_counts_an_automatic_cache_is_said_possible() {
    let env = Env::new();
    env.write("calls.jsonl", fixture(60, 1));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA104");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    assert_eq!(
        f["title"],
        "agent-planner: the 2000-token system prompt changes on 100% of calls to gpt-4o and the logs show no cached tokens"
    );
    assert_eq!(f["confidence"], "low");
    assert_eq!(f["evidence"]["cached_tokens_recorded"], false);
    let rec = f["recommendation"].as_str().unwrap();
    assert!(
        rec.starts_with(
            "Check where what varies (timestamps, ids, user details) sits in agent-planner's system prompt"
        ),
        "{rec}"
    );
    assert!(
        rec.contains("the part before it may be cached already"),
        "{rec}"
    );
    // The saving is the same replay's.
    assert_eq!(f["savings"]["observed"], "0.1416");
}

/// A volatile prefix the logs show written to the cache on every call: the
/// write premium paid is saved too, as TA103 and the waterfall count it
/// (hunt140's bug6: left out), and the title says it was written.
#[test]
fn the_write_premium_a_volatile_prefix_paid_is_saved_too() {
    let statik = "Apply Acme's clause checklist: indemnity, liability cap, termination, governing law, data protection. ".repeat(140);
    let log = |write: u64| -> String {
        (0..60u32)
            .map(|i| {
                let ts = format!("2026-11-03T09:{i:02}:00Z");
                serde_json::json!({
                    "timestamp": ts,
                    "request": {"model": "claude-sonnet-4-5", "max_tokens": 1024,
                        "system": [{"type": "text", "text": format!("Current time: {ts}. {}", &statik[..13900]),
                            "cache_control": {"type": "ephemeral"}}],
                        "messages": [{"role": "user", "content": format!("Review clause {i}.")}]},
                    "response": {"id": format!("msg_{i:04}"), "type": "message", "role": "assistant",
                        "model": "claude-sonnet-4-5-20250929", "content": [{"type": "text", "text": "ok"}],
                        "stop_reason": "end_turn",
                        "usage": {"input_tokens": 4060 - write, "cache_creation_input_tokens": write,
                            "cache_read_input_tokens": 0, "output_tokens": 10}}
                })
                .to_string()
                    + "\n"
            })
            .collect()
    };
    let env = Env::new();
    env.write("c.toml", "[detect]\nmin_savings = 0\n");
    env.write("written.jsonl", log(4000));
    env.write("plain.jsonl", log(0));
    let saving = |file: &str| {
        let r = env.audit(&[file, "--config", "c.toml"]);
        let f = findings(&r, "TA104");
        assert_eq!(f.len(), 1, "{file}: {f:#?}");
        (
            crate::util::picos(&f[0]["savings"]["observed"]),
            f[0]["title"].as_str().unwrap().to_string(),
        )
    };
    let (written, title) = saving("written.jsonl");
    let (plain, _) = saving("plain.jsonl");
    // 60 calls × 4,000 written × ($3.75 − $3)/M = $0.18 more.
    assert_eq!(written - plain, 180_000_000_000);
    assert!(
        title.contains("each call writes it to the cache"),
        "{title}"
    );
}
