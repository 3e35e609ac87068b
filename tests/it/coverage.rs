//! The report's rule coverage is what the rules did: fields are taken out
//! of fixtures one by one, and the coverage and the findings must agree
//! (a rule that could not run finds nothing; a rule that found something
//! ran, on the inputs the coverage names). Also: where a feature comes
//! from when no `feature` field is logged.
//!
//! Prices (shipped catalog): gpt-4o input $2.50, cached read $1.25 per
//! million tokens (writes billed as input).

use serde_json::{json, Value};

use crate::util::{assert_consistent, findings, gw_line, row, rule_coverage as rule, Env};

fn at(minute: u32) -> String {
    format!("2025-03-01T{:02}:{:02}:00Z", minute / 60, minute % 60)
}

/// One call of another feature that read 1,024 tokens from the cache: the
/// logs record cached tokens (with none anywhere, an OpenAI caching finding
/// is only a question: `rules/ta103.rs`).
fn cached_elsewhere() -> String {
    let extra = json!({"usage": {"prompt_tokens": 1_500, "completion_tokens": 10,
                                 "prompt_tokens_details": {"cached_tokens": 1_024}}});
    gw_line(&at(300), "other", "gpt-4o", 1_500, 10, extra) + "\n"
}

/// 40 calls of `doc-qa × gpt-4o`, one a minute, 3,000 input tokens each,
/// the same system prompt (`system_prompt_hash`), its size logged or not;
/// and [`cached_elsewhere`].
fn prefixed(hash: bool, tokens: bool) -> String {
    let mut s = cached_elsewhere();
    for i in 0..40 {
        let mut extra = json!({"request_id": format!("q-{i:02}")});
        if hash {
            extra["system_prompt_hash"] = json!("00000000000000a1");
        }
        if tokens {
            extra["system_prompt_tokens"] = json!(2_000);
        }
        // A cached count of 0: doc-qa's own logs record cached tokens.
        extra["usage"] = json!({"prompt_tokens": 3_000, "completion_tokens": 100,
            "prompt_tokens_details": {"cached_tokens": 0}});
        s += &(gw_line(&at(i), "doc-qa", "gpt-4o", 3_000, 100, extra) + "\n");
    }
    s
}

#[test]
fn a_logged_prefix_size_runs_plainly() {
    let env = Env::new();
    env.write("calls.jsonl", prefixed(true, true));
    let r = env.audit(&["calls.jsonl"]);
    assert_consistent(&r);
    assert_eq!(rule(&r, "TA103")["status"], "ran");
    let f = findings(&r, "TA103");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["confidence"], "high");
}

#[test]
fn without_a_prefix_size_the_smallest_input_bounds_it() {
    let env = Env::new();
    env.write("calls.jsonl", prefixed(true, false));
    let r = env.audit(&["calls.jsonl"]);
    assert_consistent(&r);
    let cov = rule(&r, "TA103");
    assert_eq!(cov["status"], "ran_on_estimates");
    assert_eq!(
        cov["inputs"][1]["sources"],
        json!([{"via": "prefix_min_input", "from": "the smallest input of the calls sharing the prefix (an upper bound)", "kind": "estimated", "calls": 40, "confidence": "low"}])
    );
    let f = findings(&r, "TA103");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    // No call sent more than 3,000 tokens: the prefix is at most that.
    // OpenAI caches 1,024 + 15 × 128 = 2,944 of them; 1 write, 39 hits:
    // 114,816 tokens × $1.25/M = $0.14352.
    assert_eq!(e["prefix_tokens_from"], "min_input");
    assert_eq!(e["largest_prefix_tokens"], 3_000);
    assert_eq!(e["cacheable_tokens"], 114_816);
    assert_eq!(f[0]["savings"]["observed"], "0.14352");
    assert_eq!(f[0]["confidence"], "low");
    // TA104 takes the feature's smallest input as its bound: it ran on it,
    // and found nothing (one prefix, not a volatile one).
    let cov = rule(&r, "TA104");
    assert_eq!(cov["status"], "ran_on_estimates");
    assert_eq!(
        cov["inputs"][1]["sources"][0]["from"],
        "the smallest input of the feature's calls with a system prompt (an upper bound)"
    );
    assert!(findings(&r, "TA104").is_empty());
}

#[test]
fn a_call_without_usage_does_not_bound_the_prefix() {
    // The 40 calls above and a 41st refused with a 429 that logged no
    // usage (as gateway-minimal logs them): its input reads as 0, which
    // says nothing of the prefix's size. The bound stays 3,000 tokens
    // (2,944 cacheable); the refused call is one more call of the prefix
    // (in the same minute as the first): 1 write, 40 hits, 117,760 tokens
    // × $1.25/M = $0.1472.
    let env = Env::new();
    let refused = json!({
        "timestamp": at(0),
        "request_id": "q-40",
        "model": "gpt-4o",
        "feature": "doc-qa",
        "http_status": 429,
        "system_prompt_hash": "00000000000000a1",
    });
    env.write(
        "calls.jsonl",
        prefixed(true, false) + &refused.to_string() + "\n",
    );
    let r = env.audit(&["calls.jsonl"]);
    assert_consistent(&r);
    let f = findings(&r, "TA103");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    assert_eq!(e["prefix_tokens_from"], "min_input");
    assert_eq!(e["largest_prefix_tokens"], 3_000);
    assert_eq!(e["calls"], 41);
    assert_eq!(e["cacheable_tokens"], 117_760);
    assert_eq!(f[0]["savings"]["observed"], "0.1472");
}

#[test]
fn without_a_prefix_fingerprint_prefix_rules_could_not_run() {
    let env = Env::new();
    env.write("calls.jsonl", prefixed(false, false));
    let r = env.audit(&["calls.jsonl"]);
    assert_consistent(&r);
    for code in ["TA103", "TA104"] {
        let cov = rule(&r, code);
        assert_eq!(cov["status"], "could_not_run", "{cov}");
        assert!(cov["missing"]
            .as_str()
            .unwrap()
            .starts_with("no call had system_prompt_fingerprint"));
    }
    // No prompt fingerprint either: the duplicate and retry rules cannot
    // run; the spend rules can.
    assert_eq!(rule(&r, "TA109")["status"], "could_not_run");
    assert_eq!(rule(&r, "TA108")["status"], "could_not_run");
    assert_eq!(rule(&r, "TA101")["status"], "ran");
    // The Markdown report and the page say so (one report model: the
    // page sets the declarations' `code` as code).
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("- TA103 uncached-repeated-prefix: could not run: no call had system_prompt_fingerprint; it comes from a `system_prompt_hash`, or the system prompt in `messages` or `system`."),
        "{md}"
    );
    let html = std::fs::read_to_string(env.path("out/audit.html")).unwrap();
    assert!(
        html.contains("<li>TA103 uncached-repeated-prefix: could not run: no call had system_prompt_fingerprint; it comes from a <code>system_prompt_hash</code>, or the system prompt in <code>messages</code> or <code>system</code>.</li>"),
        "{html}"
    );
}

#[test]
fn the_system_prompt_text_gives_its_size() {
    let env = Env::new();
    // The system prompt's text in `messages`: 8,000 characters at OpenAI's
    // 4 a token are 2,000 tokens.
    let system = "abcd ".repeat(1_600);
    let mut s = String::new();
    for i in 0..40 {
        let extra = json!({
            "request_id": format!("t-{i:02}"),
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": format!("question {i}")},
            ],
            "usage": {"prompt_tokens": 3_000, "completion_tokens": 100,
                "prompt_tokens_details": {"cached_tokens": 0}},
        });
        s += &(gw_line(&at(i), "doc-qa", "gpt-4o", 3_000, 100, extra) + "\n");
    }
    s += &cached_elsewhere();
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    assert_consistent(&r);
    assert_eq!(
        rule(&r, "TA103")["inputs"][1]["sources"][0]["via"],
        "prefix_from_text"
    );
    let f = findings(&r, "TA103");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    assert_eq!(e["prefix_tokens_from"], "text");
    assert_eq!(e["largest_prefix_tokens"], 2_000);
    // 1,920 cacheable tokens (1,024 + 7 × 128) on 39 hits: $0.0936.
    assert_eq!(f[0]["savings"]["observed"], "0.0936");
    assert_eq!(f[0]["confidence"], "medium");
}

#[test]
fn a_feature_tag_is_the_feature_unless_the_config_picks_another() {
    let env = Env::new();
    let line = |feature_tag: &str, product: &str| {
        let mut v: Value =
            serde_json::from_str(&gw_line(&at(0), "x", "gpt-4o", 1_000, 0, json!({}))).unwrap();
        v.as_object_mut().unwrap().remove("feature");
        v["tags"] = json!({"feature": feature_tag, "product": product});
        v.to_string() + "\n"
    };
    env.write(
        "calls.jsonl",
        line("support-assistant", "help")
            + &line("support-assistant", "help")
            + &line("search", "web"),
    );
    // No `feature` field: the `feature` tag is the feature. 1,000 tokens ×
    // $2.50/M = $0.0025 a call.
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(row(&r, "feature", "support-assistant")["calls"], 2);
    assert_eq!(row(&r, "feature", "support-assistant")["cost"], "0.005");
    assert_eq!(row(&r, "feature", "search")["calls"], 1);
    assert_eq!(
        rule(&r, "TA101")["inputs"][1]["sources"],
        json!([{"via": "feature_tag", "from": "a tag named `feature`", "kind": "derived", "calls": 3, "confidence": "medium"}])
    );
    // `[attribution] feature = "tag:product"`: the product tag is.
    env.write("cfg.toml", "[attribution]\nfeature = \"tag:product\"\n");
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    assert_eq!(row(&r, "feature", "help")["calls"], 2);
    assert_eq!(row(&r, "feature", "web")["calls"], 1);
    // Said, in audit.json and over the feature table (hunt118: teams were
    // listed as features without a word).
    assert_eq!(r["audit"]["feature_from"], "tag:product");
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("A call's feature here is its tag \"product\" (`[attribution] feature = \"tag:product\"`)"),
        "{md}"
    );
    // `feature = "route"`: the route as the route table names it, its ids
    // templated (hunt176: a feature per Assistants thread).
    let routed = |thread: &str| {
        let mut v: Value =
            serde_json::from_str(&gw_line(&at(0), "x", "gpt-4o", 1_000, 0, json!({}))).unwrap();
        v["route"] = json!(format!("/v1/threads/{thread}/runs"));
        v.to_string() + "\n"
    };
    env.write(
        "routes.jsonl",
        routed("thread_abc123XYZ") + &routed("thread_def456UVW") + &routed("thread_ghi789RST"),
    );
    env.write("route.toml", "[attribution]\nfeature = \"route\"\n");
    let r = env.audit(&["routes.jsonl", "--config", "route.toml"]);
    assert_eq!(row(&r, "feature", "/v1/threads/{id}/runs")["calls"], 3);
    assert_eq!(
        row(&r, "feature", "/v1/threads/{id}/runs")["cost"],
        "0.0075"
    );
    // A tag tokenaudit keeps none of (a client's address) is said as such,
    // not as one no call carries (hunt178).
    let with_ip = |ip: &str| {
        let mut v: Value =
            serde_json::from_str(&gw_line(&at(0), "x", "gpt-4o", 1_000, 0, json!({}))).unwrap();
        v.as_object_mut().unwrap().remove("feature");
        v["tags"] = json!({"client_ip": ip});
        v.to_string() + "\n"
    };
    env.write("ips.jsonl", with_ip("10.0.0.1") + &with_ip("10.0.0.2"));
    env.write("ip.toml", "[attribution]\nfeature = \"tag:client_ip\"\n");
    let out = env
        .cmd()
        .args([
            "audit",
            "ips.jsonl",
            "--config",
            "ip.toml",
            "--out",
            "o",
            "--quiet",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tokenaudit keeps no tag of this key") && !err.contains("no call carries"),
        "{err}"
    );
    // A misspelt choice is an error that names the key.
    env.write("bad.toml", "[attribution]\nfeature = \"tags:product\"\n");
    let out = env
        .cmd()
        .args(["audit", "calls.jsonl", "--config", "bad.toml", "--out", "o"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[attribution] feature"), "{err}");
}

/// A Langfuse observation whose `usageDetails` has no cached-read key gives
/// no cached count; one with `input_cached_tokens: 0` gives one (hunt75:
/// every Langfuse call read as "cached reads logged, 0", which took back
/// TA104's caveat).
#[test]
fn a_langfuse_observation_without_a_cache_key_logs_no_cached_count() {
    let env = Env::new();
    let line = |id: &str, usage: Value| {
        json!({"id": id, "type": "GENERATION", "model": "gpt-4o",
            "startTime": "2026-10-01T08:00:00.000Z", "usageDetails": usage})
        .to_string()
            + "\n"
    };
    env.write(
        "obs.jsonl",
        line("o1", json!({"input": 100, "output": 10}))
            + &line(
                "o2",
                json!({"input": 100, "input_cached_tokens": 0, "output": 10}),
            ),
    );
    let r = env.audit(&["obs.jsonl"]);
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    let cached = r["audit"]["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "cached_read_tokens")
        .unwrap()
        .clone();
    assert_eq!(cached["present"], 1);
}

/// Per-key analyses on a hash sample are said in the Markdown as in the
/// HTML, with every sample's rate (hunt104: the Markdown said nothing, and
/// the turn timelines' sample went unsaid): 260,000 distinct prompts, each
/// a session of one call.
#[test]
fn a_sampled_analysis_is_said_in_every_report() {
    let env = crate::util::Env::new();
    let mut log = String::with_capacity(260_000 * 200);
    for i in 0..260_000u64 {
        let t = 1_793_491_200 + i * 9;
        log.push_str(&format!(
            r#"{{"timestamp":{t},"request_id":"r{i}","model":"gpt-4.1-nano","feature":"bulk","session_id":"s{i}","prompt_hash":"x{i}","usage":{{"prompt_tokens":100,"completion_tokens":10}}}}"#
        ));
        log.push('\n');
    }
    env.write("calls.jsonl", log);
    let r = env.audit(&["calls.jsonl", "--format", "json,md,html"]);
    let s = &r["audit"]["sampling"];
    let prompts = s["prompts_scale"].as_u64().unwrap();
    let timelines = s["timelines_scale"].as_u64().unwrap();
    assert!(prompts > 1 && timelines > 1, "{s}");
    let note = format!(
        "Per-key analyses ran on a hash sample (prompts 1 in {prompts}, turn timelines 1 in {timelines})"
    );
    for file in ["out/audit.md", "out/audit.html"] {
        let text = std::fs::read_to_string(env.path(file)).unwrap();
        assert!(text.contains(&note), "{file}: no {note:?}");
    }
}
