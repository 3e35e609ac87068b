//! TA109 duplicate-requests: the same prompt to the same model within the
//! TTL, and what an exact-match response cache would have saved.
//!
//! Price (shipped catalog, `tokenaudit prices show gpt-4o`): input $2.50,
//! output $10 per million tokens. Every call here sends 1,000 input and 100
//! output tokens: 1,000 × $2.50/M + 100 × $10/M = $0.0025 + $0.001 = $0.0035.

use serde_json::{json, Value};

use crate::util::{findings, gw_line, Env};

/// 2026-10-01 at `minute` minutes after 08:00 UTC.
fn at(minute: u32) -> String {
    format!("2026-10-01T{:02}:{:02}:00Z", 8 + minute / 60, minute % 60)
}

fn call(minute: u32, id: &str, prompt: u64, extra: Value) -> String {
    let mut fields = json!({"request_id": id, "prompt_hash": format!("{prompt:016x}")});
    if let (Some(o), Some(more)) = (fields.as_object_mut(), extra.as_object()) {
        o.extend(more.clone());
    }
    gw_line(&at(minute), "faq-bot", "gpt-4o", 1000, 100, fields) + "\n"
}

/// Three prompts each sent ten times, five minutes apart (prompt k starting
/// at 08:00 + 2k hours): nine hits each within the 60-minute TTL. Prompt 0
/// comes once more 61 minutes after the call that filled the cache: a miss.
/// A failed call of prompt 1 is not replayed. 33 one-off prompts never hit.
fn duplicates() -> String {
    let mut s = String::new();
    for k in 0..3u32 {
        for i in 0..10u32 {
            s += &call(
                k * 120 + i * 5,
                &format!("dup-{k}-{i}"),
                100 + k as u64,
                json!({}),
            );
        }
    }
    s += &call(61, "dup-0-late", 100, json!({}));
    s += &call(
        121,
        "dup-1-failed",
        101,
        json!({"http_status": 500, "usage": {"prompt_tokens": 1000, "completion_tokens": 0}}),
    );
    for u in 0..33u32 {
        s += &call(u * 7, &format!("one-{u:02}"), 1000 + u as u64, json!({}));
    }
    s
}

#[test]
fn repeated_prompts_within_the_ttl_are_found_with_the_cache_saving() {
    let env = Env::new();
    env.write("calls.jsonl", duplicates());
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA109");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    assert_eq!(
        f["scope"],
        json!({"feature": "faq-bot", "model": "openai/gpt-4o"})
    );
    // Successful calls with a fingerprint: 30 + 1 late + 33 one-offs = 64
    // (the failed call is not replayed); 3 + 33 distinct prompts.
    let e = &f["evidence"];
    assert_eq!(e["calls_with_fingerprint"], 64);
    assert_eq!(e["distinct_prompts"], 36);
    assert_eq!(e["repeated_prompts"], 3);
    // Nine hits per prompt; the late call is 61 minutes after the fill.
    assert_eq!(e["cache_hits"], 27);
    // 27 / 64 = 0.421875 → 0.4219.
    assert_eq!(e["hit_rate"], json!(0.4219));
    assert_eq!(e["ttl_minutes"], json!(60.0));
    // 27 hits × $0.0035 = $0.0945 over a period under a day (counted as
    // one): × 30 = $2.835 a month; low severity (under $50).
    assert_eq!(f["savings"]["observed"], "0.0945");
    assert_eq!(f["savings"]["monthly"], "2.835");
    assert_eq!(f["severity"], "low");
    assert_eq!(f["confidence"], "high");
    // One request id per repeated prompt: its first call.
    let mut ids: Vec<&str> = f["sample_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["dup-0-0", "dup-1-0", "dup-2-0"]);
    // The lever's hit rate is the share of the cell's cost the cache
    // answers: $0.0945 of 64 × $0.0035 and the failed call's 1,000 input
    // tokens ($0.0025), $0.2265.
    assert_eq!(f["lever"]["kind"], "response_cache");
    assert_eq!(f["lever"]["feature"], "faq-bot");
    assert_eq!(f["lever"]["model"], "openai/gpt-4o");
    assert_eq!(f["lever"]["hit_rate"], json!(0.0945 / 0.2265));
    assert_eq!(
        f["title"],
        "faq-bot: 42% of calls to gpt-4o repeat a prompt sent in the previous 60 minutes"
    );
}

/// The rate of the title is of the calls whose prompt the log holds: said
/// so when some have none (hunt161: LiteLLM keeps no prompt by default;
/// "85% of calls" where 17% of the feature's were answered).
#[test]
fn the_rate_of_a_log_with_few_prompts_says_whose_it_is() {
    let env = Env::new();
    let mut s = duplicates();
    for u in 0..100u32 {
        s += &(gw_line(
            &at(u),
            "faq-bot",
            "gpt-4o",
            1000,
            100,
            json!({"request_id": format!("bare-{u}")}),
        ) + "\n");
    }
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA109");
    assert_eq!(
        f[0]["title"],
        "faq-bot: 42% of calls with a logged prompt to gpt-4o repeat a prompt sent in the previous 60 minutes"
    );
    assert_eq!(f[0]["evidence"]["calls_with_fingerprint"], 64);
}

#[test]
fn repeats_further_apart_than_the_ttl_are_not_duplicates() {
    let env = Env::new();
    // The same three prompts, ten times each, but 61 minutes apart: every
    // call refills the cache and none hits.
    let mut s = String::new();
    for k in 0..3u32 {
        for i in 0..10u32 {
            s += &call(
                k * 20 + i * 61,
                &format!("r-{k}-{i}"),
                100 + k as u64,
                json!({}),
            );
        }
    }
    env.write("calls.jsonl", s);
    let cfg = env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    assert!(findings(&r, "TA109").is_empty());
}

#[test]
fn a_longer_ttl_option_turns_the_late_repeat_into_a_hit() {
    let env = Env::new();
    env.write("calls.jsonl", duplicates());
    let cfg = env.write("cfg.toml", "[rules.TA109]\nttl_minutes = 90\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    let f = findings(&r, "TA109");
    assert_eq!(f.len(), 1);
    // The late call of prompt 0 is 61 minutes after the fill: a hit now.
    // 28 hits × $0.0035 = $0.098; × 30 = $2.94.
    assert_eq!(f[0]["evidence"]["cache_hits"], 28);
    assert_eq!(f[0]["evidence"]["ttl_minutes"], json!(90.0));
    assert_eq!(f[0]["savings"]["observed"], "0.098");
    assert_eq!(f[0]["savings"]["monthly"], "2.94");

    // And a min_hits above the hits found drops the finding.
    let env = Env::new();
    env.write("calls.jsonl", duplicates());
    let cfg = env.write("cfg.toml", "[rules.TA109]\nmin_hits = 28\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    assert!(findings(&r, "TA109").is_empty());
}

/// One LiteLLM spend-log row for `faq-bot` (or `feature`) on gpt-4o at
/// `minute`, its prompt in `messages` (the prompt fingerprint is taken from
/// it), answered from LiteLLM's cache when `hit`.
fn litellm_row(minute: u32, id: &str, feature: &str, prompt: &str, hit: bool) -> String {
    let start = format!(
        "2026-10-01T{:02}:{:02}:00.000000",
        8 + minute / 60,
        minute % 60
    );
    let (prompt_tokens, completion_tokens, spend) = if hit {
        (0, 0, 0.0)
    } else {
        (1000, 100, 0.0035)
    };
    json!({
        "request_id": id,
        "call_type": "acompletion",
        "spend": spend,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "startTime": start,
        "endTime": start,
        "model": "gpt-4o",
        "custom_llm_provider": "openai",
        "user": "u-1",
        "cache_hit": if hit { "True" } else { "False" },
        "cache_key": if hit { "7f3c" } else { "" },
        "request_tags": [format!("feature:{feature}"), "env:prod"],
        "messages": [{"role": "user", "content": prompt}],
        "status": "success",
    })
    .to_string()
        + "\n"
}

/// LiteLLM spend logs: three prompts ten times each, five minutes apart,
/// and 33 one-off prompts, all reaching the provider; besides them,
/// eight rows LiteLLM answered from its own cache: prompt 0 four times
/// and prompt 1 twice (between the provider's calls), a prompt the
/// provider never saw, and one of another feature.
pub(crate) fn spend_log_with_cache_hits() -> String {
    let question = |k: u32| format!("What does plan {k} include, and how do I upgrade to it?");
    let mut s = String::new();
    for k in 0..3u32 {
        for i in 0..10u32 {
            s += &litellm_row(
                k * 120 + i * 5,
                &format!("dup-{k}-{i}"),
                "faq-bot",
                &question(k),
                false,
            );
        }
    }
    for u in 0..33u32 {
        s += &litellm_row(
            u * 7,
            &format!("one-{u:02}"),
            "faq-bot",
            &format!("A one-off question number {u}?"),
            false,
        );
    }
    for (minute, k) in [
        (2, 0),
        (7, 0),
        (12, 0),
        (17, 0),
        (122, 1),
        (127, 1),
        (300, 9),
    ] {
        s += &litellm_row(
            minute,
            &format!("hit-{minute}"),
            "faq-bot",
            &question(k),
            true,
        );
    }
    s += &litellm_row(400, "hit-search", "search", &question(0), true);
    s
}

#[test]
fn litellm_cache_hits_are_counted_beside_the_repeats_it_missed() {
    // See `spend_log_with_cache_hits`.
    let env = Env::new();
    let s = spend_log_with_cache_hits();
    env.write("spend_logs.jsonl", s);
    let r = env.audit(&["spend_logs.jsonl"]);

    // Skipped as not calls, never priced: 30 + 33 calls at $0.0035 =
    // $0.2205.
    assert_eq!(r["audit"]["input"]["skipped_by_reason"]["not_a_call"], 8);
    assert_eq!(r["audit"]["totals"]["calls"], 63);
    assert_eq!(r["audit"]["totals"]["cost"], "0.2205");

    let f = findings(&r, "TA109");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    // The repeats replayed are the provider's calls only: nine hits for
    // each of the three prompts, as without LiteLLM's rows.
    assert_eq!(e["calls_with_fingerprint"], 63);
    assert_eq!(e["cache_hits"], 27);
    // LiteLLM's hits of this cell: 7, of three prompts (0, 1 and 9); the
    // search row is another cell's.
    assert_eq!(e["litellm_cache_hits"], 7);
    assert_eq!(e["litellm_cache_hit_prompts"], 3);
    let rec = f[0]["recommendation"].as_str().unwrap();
    assert!(
        rec.starts_with(
            "The gateway's cache (LiteLLM's, Portkey's) already answered 7 requests of faq-bot on this model (3 distinct prompts); the repeats counted here are the ones it missed. Put an exact-match response cache"
        ),
        "{rec}"
    );

    // The rule coverage counts every cache hit once, from its source.
    let cov = crate::util::rule_coverage(&r, "TA109");
    let input = cov["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["input"] == "gateway_cache_hits")
        .unwrap();
    assert_eq!(input["required"], false);
    assert_eq!(input["sources"][0]["via"], "litellm_cache_hit");
    assert_eq!(input["sources"][0]["calls"], 8);
    // And the report's coverage section says it.
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains(
            "The gateway's cache answered 8 requests (rows with LiteLLM's `cache_hit` true or Portkey's `cache_status` HIT: skipped, never priced); the duplicate-request findings (TA109, TA110) count the repeats it missed."
        ),
        "{md}"
    );
}

/// 40 customers ask one of three questions a minute apart, each within a
/// system prompt of their own (their account data), logged beside the
/// messages (Anthropic's top-level `system`) or as the first of them.
fn personal(shared: bool) -> String {
    const QS: [&str; 3] = [
        "What is my current balance?",
        "When is my next payment due?",
        "Show my recent transactions",
    ];
    let mut s = String::new();
    for i in 0..40u32 {
        let system = if shared {
            "You are the bank's assistant.".to_string()
        } else {
            format!(
                "You are the bank's assistant for cust{i}: balance {} USD.",
                1000 + 7 * i
            )
        };
        let q = QS[i as usize % 3];
        let extra = if i % 2 == 0 {
            json!({"request_id": format!("r{i:02}"), "system": system,
                   "messages": [{"role": "user", "content": q}]})
        } else {
            json!({"request_id": format!("r{i:02}"),
                   "messages": [{"role": "system", "content": system}, {"role": "user", "content": q}]})
        };
        s += &(gw_line(&at(i), "account-assistant", "gpt-4o", 1000, 100, extra) + "\n");
    }
    s
}

#[test]
fn a_question_asked_within_each_customers_own_system_prompt_is_no_repeat() {
    let env = Env::new();
    env.write("calls.jsonl", personal(false));
    let r = env.audit(&["calls.jsonl"]);
    // 40 different prompts: no response cache (exact or semantic) would
    // have answered one customer with another's answer.
    assert_eq!(findings(&r, "TA109").len(), 0);
    assert_eq!(findings(&r, "TA110").len(), 0);
    // The same questions within one shared system prompt are repeats:
    // each question's first call in each form (top-level system or a
    // system message: two prompts of the same text) fills the cache, the
    // other 34 hit, 34 × $0.0035 = $0.119.
    env.write("calls.jsonl", personal(true));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA109");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["evidence"]["cache_hits"], 34);
    assert_eq!(f[0]["savings"]["observed"], "0.119");
}

/// hunt156: turns of different stateful conversations (the Responses API's
/// `previous_response_id`, `conversation`) saying the same words are not
/// repeats: the history each goes on is another (300 such turns made a
/// $270-a-month finding); nor turns of one conversation (hunt158). The
/// same prompt without a conversation is.
#[test]
fn stateful_turns_of_other_conversations_are_not_repeats() {
    let env = Env::new();
    let pair = |i: u64, chain: Option<(&str, serde_json::Value)>| {
        let mut req = json!({"model": "gpt-5.5", "instructions": "You are a patient tutor.",
            "input": [{"role": "user", "content": "Yes, please continue."}],
            "metadata": {"feature": "tutor-chat"}});
        if let Some((key, value)) = &chain {
            req[*key] = value.clone();
        }
        json!({"request": req, "response": {"id": format!("resp_{i:06}"), "object": "response",
            "created_at": 1_793_664_000 + i * 120, "status": "completed", "model": "gpt-5.5",
            "usage": {"input_tokens": 3000 + i, "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 300, "total_tokens": 3300 + i}}})
        .to_string()
            + "\n"
    };
    for (name, chain) in [
        ("previous", |i: u64| {
            Some(("previous_response_id", json!(format!("resp_prev_{i:06}"))))
        }),
        ("conversation", |i: u64| {
            Some(("conversation", json!({"id": format!("conv_{i:06}")})))
        }),
        ("one", |_: u64| Some(("conversation", json!("conv_one")))),
    ] as [(&str, fn(u64) -> Option<(&'static str, serde_json::Value)>); 3]
    {
        let s: String = (0..300).map(|i| pair(i, chain(i))).collect();
        env.write(&format!("{name}.jsonl"), s);
        let r = env.audit(&[&format!("{name}.jsonl")]);
        assert_eq!(findings(&r, "TA109").len(), 0, "{name}");
    }
    let s: String = (0..300).map(|i| pair(i, None)).collect();
    env.write("stateless.jsonl", s);
    let r = env.audit(&["stateless.jsonl"]);
    assert_eq!(findings(&r, "TA109").len(), 1);
}
