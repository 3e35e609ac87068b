//! TA103 uncached-repeated-prefix: a long system prompt sent again and again
//! without reading anything from the provider's prompt cache.
//!
//! Prices (shipped catalog, `tokenaudit prices show MODEL`), per million
//! tokens:
//! - gpt-4o: input $2.50, cached read $1.25, no cache-write price (writes
//!   are billed as input);
//! - claude-sonnet-4-5: input $3, cached read $0.30, 5-minute cache write
//!   $3.75, 1-hour cache write $6.
//!
//! The saving replays the prefix's calls under the provider's rules: an
//! entry lives 5 minutes after its last use (OpenAI: and at most an hour),
//! so calls a minute apart write once and hit after; OpenAI caches from
//! 1,024 tokens in 128-token steps, Anthropic the whole marked prefix. Per
//! cacheable token: hits × (input − cached) − writes × (write − input).

use serde_json::{json, Value};

use crate::util::{findings, gw_line, usd, Env};

/// 2025-03-01 at `minute` minutes after midnight UTC (midnight starts a
/// 5-minute window).
fn at(minute: u32) -> String {
    format!("2025-03-01T{:02}:{:02}:00Z", minute / 60, minute % 60)
}

const PREFIX_A: &str = "00000000000000a1";
const PREFIX_B: &str = "00000000000000b2";

/// `n` calls of `doc-qa` on `model`, one a minute from `start`, each with
/// 3,000 input and 100 output tokens, of which the first `prefix_tokens` are
/// the system prompt `prefix`, and `cached` input tokens read from the cache.
#[allow(clippy::too_many_arguments)]
fn calls(
    s: &mut String,
    model: &str,
    start: u32,
    n: u32,
    prefix: &str,
    prefix_tokens: u64,
    cached: u64,
    id: &str,
) {
    for i in 0..n {
        let extra = json!({
            "request_id": format!("{id}-{i:02}"),
            "prefix_hash": prefix,
            "prefix_tokens": prefix_tokens,
            "usage": {
                "prompt_tokens": 3_000,
                "completion_tokens": 100,
                "prompt_tokens_details": {"cached_tokens": cached},
            },
        });
        *s += &(gw_line(&at(start + i), "doc-qa", model, 3_000, 100, extra) + "\n");
    }
}

/// On gpt-4o: 40 calls with prefix A of `tokens` tokens, never cached, in
/// minutes 0–39 (8 five-minute windows); 30 calls with prefix B, all reading
/// 2,000 tokens from the cache. On claude-sonnet-4-5: 40 calls with prefix A,
/// never cached, in minutes 200–239 (8 windows).
fn fixture(tokens: u64) -> String {
    let mut s = String::new();
    calls(&mut s, "gpt-4o", 0, 40, PREFIX_A, tokens, 0, "oa");
    calls(&mut s, "gpt-4o", 100, 30, PREFIX_B, 2_000, 2_000, "ob");
    calls(
        &mut s,
        "claude-sonnet-4-5",
        200,
        40,
        PREFIX_A,
        tokens,
        0,
        "an",
    );
    s
}

fn of_model<'a>(f: &[&'a Value], model: &str) -> &'a Value {
    let v: Vec<_> = f
        .iter()
        .copied()
        .filter(|f| f["scope"]["model"] == model)
        .collect();
    assert_eq!(v.len(), 1, "{f:#?}");
    v[0]
}

#[test]
fn an_uncached_repeated_prefix_is_found_with_the_caching_saving() {
    let env = Env::new();
    env.write("calls.jsonl", fixture(2_000));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA103");
    assert_eq!(f.len(), 2, "{f:#?}");

    // gpt-4o: prefix B is cached on every call and is not counted. Prefix A:
    // 40 calls a minute apart over 39 minutes: 1 write, 39 hits, each of
    // 1,024 + 7 × 128 = 1,920 of the 2,000 tokens (OpenAI's 128-token
    // steps): 74,880 × ($2.50 − $1.25)/M = $0.0936 (a write costs the input
    // rate: nothing extra). Over less than a day (one day): × 30 = $2.808.
    let o = of_model(&f, "openai/gpt-4o");
    assert_eq!(
        o["scope"],
        json!({"feature": "doc-qa", "model": "openai/gpt-4o"})
    );
    let e = &o["evidence"];
    assert_eq!(e["prefixes"], 1);
    assert_eq!(e["calls"], 40);
    assert_eq!(e["largest_prefix"], PREFIX_A);
    assert_eq!(e["largest_prefix_tokens"], 2_000);
    assert_eq!(e["input_rate_per_mtok"], "2.50");
    assert_eq!(e["cached_rate_per_mtok"], "1.25");
    assert_eq!(e["cacheable_tokens"], 74_880);
    assert_eq!(e["cache_write_tokens"], 0);
    assert_eq!(e["min_cacheable_tokens"], 1_024);
    assert_eq!(e["cache_lifetime"], "5m");
    assert_eq!(e["prefix_tokens_from"], "logged");
    // Cached now 30 × 2,000 = 60,000, plus 74,880, of 70 × 3,000 = 210,000
    // input: 0.642285… → 0.6423.
    assert_eq!(e["cached_share_after"], json!(0.6423));
    assert_eq!(o["savings"]["observed"], "0.0936");
    assert_eq!(o["savings"]["monthly"], "2.808");
    assert_eq!(o["severity"], "low");
    assert_eq!(o["confidence"], "high");
    assert_eq!(o["lever"]["kind"], "prompt_cache");
    assert_eq!(o["lever"]["share"], json!(134_880.0 / 210_000.0));

    // claude-sonnet-4-5: 1 write, 39 hits of the whole 2,000 tokens. With
    // 5-minute entries: 2,000 × (39 × ($3 − $0.30) − 1 × ($3.75 − $3))/M =
    // 2,000 × $104.55/M = $0.2091; 1-hour entries write at $6 and save
    // 2,000 × $102.30/M, less. × 30 = $6.273 a month.
    let a = of_model(&f, "anthropic/claude-sonnet-4-5");
    let e = &a["evidence"];
    assert_eq!(e["calls"], 40);
    assert_eq!(e["input_rate_per_mtok"], "3.00");
    assert_eq!(e["cached_rate_per_mtok"], "0.30");
    assert_eq!(e["cacheable_tokens"], 78_000);
    assert_eq!(e["cache_write_tokens"], 2_000);
    assert_eq!(e["cache_lifetime"], "5m");
    // 78,000 / 120,000 = 0.65.
    assert_eq!(e["cached_share_after"], json!(0.65));
    assert_eq!(a["savings"]["observed"], "0.2091");
    assert_eq!(a["savings"]["monthly"], "6.273");
    // The lever writes 2,000 of 120,000 input tokens at the 5-minute rate.
    assert_eq!(a["lever"]["write_share"], json!(2_000.0 / 120_000.0));
    assert!(
        a["recommendation"]
            .as_str()
            .unwrap()
            .contains("cache_control"),
        "{a:#?}"
    );
}

#[test]
fn a_prefix_just_under_min_tokens_is_not_reported() {
    let env = Env::new();
    // 1,023 tokens: under the default 1,024 (the provider minimum).
    env.write("calls.jsonl", fixture(1_023));
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA103"), Vec::<&Value>::new());
}

#[test]
fn the_providers_minimum_applies_whatever_min_tokens_says() {
    let env = Env::new();
    env.write("calls.jsonl", fixture(1_023));
    // The rule's own threshold lowered: neither provider caches a
    // 1,023-token prefix (both need 1,024), so there is still nothing.
    env.write("cfg.toml", "[rules.TA103]\nmin_tokens = 1000\n");
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    assert_eq!(findings(&r, "TA103"), Vec::<&Value>::new());
}

/// When no call of the audit shows a cached read, the logs may not record
/// cached tokens: on OpenAI, which caches without being asked, the finding
/// says so with low confidence instead of stating the prompt is uncached;
/// Anthropic's caching must be asked for, so its finding stands.
#[test]
fn no_cached_counts_anywhere_make_an_automatic_cache_finding_a_question() {
    let env = Env::new();
    let mut s = String::new();
    calls(&mut s, "gpt-4o", 0, 40, PREFIX_A, 2_000, 0, "oa");
    calls(
        &mut s,
        "claude-sonnet-4-5",
        200,
        40,
        PREFIX_A,
        2_000,
        0,
        "an",
    );
    // No cached count at all (a zero logged is a count: below).
    let zeros = ",\"prompt_tokens_details\":{\"cached_tokens\":0}";
    assert_eq!(s.matches(zeros).count(), 80);
    let none = s.replace(zeros, "");
    env.write("calls.jsonl", &none);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA103");
    assert_eq!(f.len(), 2, "{f:#?}");
    // The same figures as above: 74,880 tokens × $1.25/M = $0.0936.
    let o = of_model(&f, "openai/gpt-4o");
    assert_eq!(o["savings"]["observed"], "0.0936");
    assert_eq!(o["confidence"], "low");
    assert_eq!(o["evidence"]["cached_tokens_recorded"], false);
    assert_eq!(
        o["title"],
        "doc-qa: a 2000-token system prompt is repeated on 40 calls to gpt-4o and the logs show no cached tokens"
    );
    let rec = o["recommendation"].as_str().unwrap();
    assert!(
        rec.contains("OpenAI prompt caching caches prompts of 1024 tokens or more"),
        "{rec}"
    );
    let a = of_model(&f, "anthropic/claude-sonnet-4-5");
    assert_eq!(a["savings"]["observed"], "0.2091");
    assert_eq!(a["confidence"], "high");
    assert!(a["evidence"].get("cached_tokens_recorded").is_none());
    assert!(a["title"].as_str().unwrap().contains("is sent uncached"));

    // `cached_tokens: 0` on every call: the logs record cached tokens, and
    // none were read (hunt70: a zero was taken for no count, the finding
    // hedged to low confidence, and TA105 said it could not run).
    env.write("zeros.jsonl", &s);
    let r = env.audit(&["zeros.jsonl"]);
    let f = findings(&r, "TA103");
    let o = of_model(&f, "openai/gpt-4o");
    assert_eq!(o["savings"]["observed"], "0.0936");
    assert_ne!(o["confidence"], "low");
    assert!(o["evidence"].get("cached_tokens_recorded").is_none());
    assert!(
        o["title"].as_str().unwrap().contains("is sent uncached"),
        "{}",
        o["title"]
    );
    let coverage = r["audit"]["coverage"].as_array().unwrap();
    let cached = coverage
        .iter()
        .find(|c| c["field"] == "cached_read_tokens")
        .unwrap();
    assert_eq!(cached["present"], 80);

    // Another log's zeros say nothing of doc-qa's (hunt74): a feature
    // without counts beside them is still a question.
    let other: String = (0..5u32)
        .map(|i| {
            let extra = json!({"usage": {"prompt_tokens": 100, "completion_tokens": 10,
                "prompt_tokens_details": {"cached_tokens": 0}}});
            gw_line(&at(300 + i), "chat", "gpt-4o", 100, 10, extra) + "\n"
        })
        .collect();
    env.write("mixed.jsonl", none + &other);
    let r = env.audit(&["mixed.jsonl"]);
    let o = of_model(&findings(&r, "TA103"), "openai/gpt-4o");
    assert_eq!(o["confidence"], "low");
    assert_eq!(o["evidence"]["cached_tokens_recorded"], false);
}

/// 60 calls of `agent × claude-sonnet-4-5` ten minutes apart, each writing
/// its 5,000-token system prompt to the cache (5-minute lifetime: expired
/// by the next call) with 500 other input and 100 output tokens. Prices:
/// input $3, cached read $0.30, 5-minute write $3.75, 1-hour write $6,
/// output $15 per million; each call $0.02175, $1.305 in all.
#[test]
fn a_prefix_written_again_on_every_call_saves_the_premium_paid_too() {
    let env = Env::new();
    let lines: String = (0..60u32)
        .map(|i| {
            json!({
                "timestamp": format!("2026-10-01T{:02}:{:02}:00Z", 8 + i / 6, (i % 6) * 10),
                "request_id": format!("r{i}"), "provider": "anthropic",
                "model": "claude-sonnet-4-5", "feature": "agent",
                "system_prompt_hash": "p1", "system_prompt_tokens": 5000,
                "usage": {"input_tokens": 500, "cache_read_input_tokens": 0,
                          "cache_creation_input_tokens": 5000, "output_tokens": 100},
            })
            .to_string()
                + "\n"
        })
        .collect();
    env.write("calls.jsonl", lines);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA103");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    assert!(
        f["title"]
            .as_str()
            .unwrap()
            .contains("is written to the cache again and again on 60 calls"),
        "{}",
        f["title"]
    );
    assert_eq!(f["evidence"]["cache_write_tokens_logged"], 300_000);
    // A 1-hour lifetime: one write, 59 reads. 59 × 5,000 × ($3 − $0.30)/M
    // = $0.7965, less the write's premium 5,000 × ($6 − $3)/M = $0.015,
    // plus the premium the logs show was paid on every call, 300,000 ×
    // ($3.75 − $3)/M = $0.225: $1.0065 (it said $0.7815). By hand, the
    // calls with the fix: 30,000 × $3 + 5,000 × $6 + 295,000 × $0.30 +
    // 6,000 × $15 per million = $0.2985, $1.305 − $0.2985 = $1.0065.
    assert_eq!(f["savings"]["observed"], "1.0065");
    let steps = r["audit"]["savings"]["steps"].as_array().unwrap();
    let caching = steps.iter().find(|s| s["category"] == "caching").unwrap();
    assert_eq!(caching["savings"], "1.0065");

    // The same writes with a 1-hour lifetime: each call $0.033 ($1.98 in
    // all), the premium paid 300,000 × ($6 − $3)/M = $0.90: $1.6815 (the
    // 5-minute rate's premium said $1.0065), and the entries cannot have
    // expired between calls ten minutes apart: the prefix must differ.
    let lines = std::fs::read_to_string(env.path("calls.jsonl")).unwrap().replace(
        r#""cache_creation_input_tokens":5000"#,
        r#""cache_creation_input_tokens":5000,"cache_creation":{"ephemeral_1h_input_tokens":5000}"#,
    );
    env.write("calls.jsonl", lines);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA103");
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "1.98");
    assert_eq!(f[0]["savings"]["observed"], "1.6815");
    assert!(
        f[0]["recommendation"]
            .as_str()
            .unwrap()
            .contains("with a 1-hour lifetime but rarely read it back"),
        "{}",
        f[0]["recommendation"]
    );
}

/// Calls billed at batch rates save at batch rates (hunt140's bug2: the
/// finding priced the saving at standard rates, twice its waterfall step).
#[test]
fn a_batch_cells_saving_is_at_batch_rates() {
    let env = Env::new();
    let mut s = String::new();
    calls(&mut s, "gpt-4o", 0, 40, PREFIX_A, 2_000, 0, "oa");
    let batch: String = s
        .lines()
        .map(|l| format!("{{\"batch\":true,{}\n", &l[1..]))
        .collect();
    env.write("calls.jsonl", batch);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA103");
    // As above at half the rates: 74,880 × ($1.25 − $0.625)/M = $0.0468.
    let o = of_model(&f, "openai/gpt-4o");
    assert_eq!(o["evidence"]["input_rate_per_mtok"], "1.25");
    assert_eq!(o["savings"]["observed"], "0.0468");
    let step = r["audit"]["savings"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["category"] == "caching")
        .unwrap()
        .clone();
    assert_eq!(usd(&step["savings"]), "0.0468");
}

/// hunt156: OpenAI bills cache writes from GPT-5.6 on (1.25× input: the
/// catalog's cache-write rate); the replay wrote for free, the saving 38%
/// high. A 54,955-token instruction sent in pairs a minute apart, each pair
/// 25 hours after the last (past the 24-hour retention), on gpt-5.6-terra
/// ($2 in, $0.20 cached, $2.50 cache write per million).
#[test]
fn gpt_5_6_cache_writes_cost_in_the_replay() {
    let env = Env::new();
    let system: String = std::iter::once("You are the nightly reconciliation agent.".to_string())
        .chain((0..3000).map(|i| {
            format!("Rule {i}: match ledger line {i} against the bank export and flag drift.")
        }))
        .collect::<Vec<_>>()
        .join(" ");
    let mut s = String::new();
    for k in 0..24u64 {
        let (day, j) = (k / 2, k % 2);
        s += &serde_json::json!({"id": format!("resp_{k:06}"), "object": "response",
            "created_at": 1_793_664_000 + day * 25 * 3600 + j * 60, "status": "completed",
            "model": "gpt-5.6-terra", "metadata": {"feature": "recon"}, "instructions": system,
            "input": [{"role": "user", "content": format!("batch {k}")}], "output": [],
            "usage": {"input_tokens": 60000, "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 200, "total_tokens": 60200}})
        .to_string();
        s.push('\n');
    }
    env.write("r.jsonl", s);
    let r = env.audit(&["r.jsonl"]);
    let f = crate::util::findings(&r, "TA103");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["evidence"]["cache_lifetime"], "24h");
    // 12 hits of the 54,912 cacheable tokens at $2 − $0.20, less 12 writes
    // at $2.50 − $2: $1.1860992 − $0.329472.
    assert_eq!(f[0]["savings"]["observed"], "0.8566272");
}

/// The cached reads a prefix's calls already logged are among the replay's
/// hits: the waterfall's caching step counts them once, and saves what
/// the finding saves (hunt173: counted twice, the step $0.6318 for the
/// finding's $0.5832). Claude Sonnet 4.5 (3 in, 0.30 read, 3.75 write, 15
/// out), a 3,000-token system prompt on 40 calls a day, two minutes apart,
/// for two days; one call a day wrote it and three read it. Now, a day:
/// 36 × 3,000 × 3 + 3,000 × 3.75 + 3 × 3,000 × 0.30 = 337,950 (millionths);
/// cached: 3,000 × 3.75 + 39 × 3,000 × 0.30 = 46,350; two days, $0.5832.
#[test]
fn the_caching_step_counts_the_reads_already_logged_once() {
    let env = Env::new();
    let mut log = String::new();
    for day in 0..2u32 {
        for i in 0..40u32 {
            let (input, read, write) = match i {
                10 => (1_000, 0, 3_000),
                11..=13 => (1_000, 3_000, 0),
                _ => (4_000, 0, 0),
            };
            log += &(serde_json::json!({
                "timestamp": format!("2026-10-{:02}T{:02}:{:02}:00Z", 5 + day, 8 + i * 2 / 60, i * 2 % 60),
                "model": "claude-sonnet-4-5-20250929", "feature": "support",
                "request_id": format!("r{day}-{i}"), "prompt_hash": format!("{:016x}", day * 1000 + i),
                "system_prompt_hash": "00000000000000aa", "system_prompt_tokens": 3000,
                "usage": {"input_tokens": input, "output_tokens": 200,
                    "cache_read_input_tokens": read, "cache_creation_input_tokens": write}})
            .to_string()
                + "\n");
        }
    }
    env.write("calls.jsonl", log);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA103");
    assert_eq!(f[0]["savings"]["observed"], "0.5832");
    let step = r["audit"]["savings"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["category"] == "caching")
        .unwrap()
        .clone();
    assert_eq!(step["savings"], "0.5832", "{step}");
}
