//! TA102 conversation-growth: sessions whose input grows every turn because
//! the whole history is resent.
//!
//! Price (shipped catalog, `tokenaudit prices show gpt-4o`): input $2.50 per
//! million tokens. Calls here have no output, so all of a session's cost is
//! input at $2.50/M.

use serde_json::{json, Value};

use crate::util::{findings, gw_line, rule_coverage as rule, Env};

/// 2025-03-01 at `minute` minutes after midnight UTC.
fn at(minute: u32) -> String {
    format!("2025-03-01T{:02}:{:02}:00Z", minute / 60, minute % 60)
}

/// A session of `turns` turns whose turn t sends `input(t)` tokens; turn t
/// has request id `{session}-tNN`.
fn session(s: &mut String, start: u32, session: &str, turns: u32, input: impl Fn(u64) -> u64) {
    for t in 1..=turns {
        let extra = json!({
            "request_id": format!("{session}-t{t:02}"),
            "session_id": session,
            "turn": t,
        });
        *s += &(gw_line(
            &at(start + t),
            "support-chat",
            "gpt-4o",
            input(t as u64),
            0,
            extra,
        ) + "\n");
    }
}

/// Three 10-turn and two 5-turn sessions whose turn t sends
/// `base + growth × t` tokens, and one 8-turn session with a flat
/// 2,000-token input.
fn fixture(base: u64, growth: u64) -> String {
    let mut s = String::new();
    for (k, name) in ["L1", "L2", "L3"].iter().enumerate() {
        session(&mut s, 20 * k as u32, name, 10, |t| base + growth * t);
    }
    for (k, name) in ["S1", "S2"].iter().enumerate() {
        session(&mut s, 100 + 20 * k as u32, name, 5, |t| base + growth * t);
    }
    session(&mut s, 200, "F1", 8, |_| 2_000);
    s
}

#[test]
fn growing_sessions_are_found_with_the_window_saving() {
    let env = Env::new();
    // Turn t sends 1,000 × t tokens: the history grows by 1,000 a turn.
    env.write("calls.jsonl", fixture(0, 1_000));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA102");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    assert_eq!(
        f["scope"],
        json!({"feature": "support-chat", "model": "openai/gpt-4o"})
    );
    let e = &f["evidence"];
    // Six sessions; the flat one does not grow.
    assert_eq!(e["sessions"], 6);
    assert_eq!(e["growing_sessions"], 5);
    // (3 × 10 + 2 × 5) / 5 = 8 turns.
    assert_eq!(e["mean_turns"], json!(8.0));
    assert_eq!(e["max_turn"], 10);
    assert_eq!(e["mean_growth_tokens_per_turn"], json!(1000.0));
    assert_eq!(e["window_turns"], 6);
    // A 10-turn session beyond a 6-turn window: g × (n−N)(n−N+1)/2 =
    // 1,000 × 4 × 5 / 2 = 10,000 tokens; 5-turn sessions fit the window.
    assert_eq!(e["input_tokens_saved"], 30_000);
    // Cell input: 3 × 55,000 + 2 × 15,000 + 8 × 2,000 = 211,000;
    // 30,000 / 211,000 = 0.14218… → 0.1422.
    assert_eq!(e["input_share_saved"], json!(0.1422));
    // 30,000 tokens × $2.50/M = $0.075 over less than a day (one day):
    // × 30 = $2.25 a month.
    assert_eq!(f["savings"]["observed"], "0.075");
    assert_eq!(f["savings"]["monthly"], "2.25");
    assert_eq!(f["severity"], "low");
    // One request id per session that would save (the long ones).
    let mut ids: Vec<&str> = f["sample_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["L1-t01", "L2-t01", "L3-t01"]);
    assert_eq!(f["lever"]["kind"], "trim_input");
}

#[test]
fn sessions_growing_less_than_min_growth_are_not_reported() {
    let env = Env::new();
    // Turn t sends 2,000 + 99 × t tokens: 99 a turn, under the default 100.
    env.write("calls.jsonl", fixture(2_000, 99));
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA102"), Vec::<&Value>::new());
}

#[test]
fn window_option_changes_the_saving() {
    let env = Env::new();
    env.write("calls.jsonl", fixture(0, 1_000));
    // An 8-turn window: 1,000 × 2 × 3 / 2 = 3,000 tokens per 10-turn
    // session, 9,000 in all: 9,000 × $2.50/M = $0.0225, × 30 = $0.675 a
    // month, under the default $1 minimum...
    env.write("window.toml", "[rules.TA102]\nwindow = 8\n");
    let r = env.audit(&["calls.jsonl", "--config", "window.toml"]);
    assert_eq!(findings(&r, "TA102"), Vec::<&Value>::new());
    // ... and reported once the minimum is lifted.
    env.write(
        "all.toml",
        "[detect]\nmin_savings = 0\n\n[rules.TA102]\nwindow = 8\n",
    );
    let r = env.audit(&["calls.jsonl", "--config", "all.toml"]);
    let f = findings(&r, "TA102");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    assert_eq!(e["window_turns"], 8);
    assert_eq!(e["input_tokens_saved"], 9_000);
    // 9,000 / 211,000 = 0.042654… → 0.0427.
    assert_eq!(e["input_share_saved"], json!(0.0427));
    assert_eq!(f[0]["savings"]["observed"], "0.0225");
    assert_eq!(f[0]["savings"]["monthly"], "0.675");
}

/// The fixture's calls as a log without `turn`: `keep` says which of
/// `session_id` and `user` (the session's name) each call keeps.
fn without_turns(session_ids: bool, users: bool) -> String {
    fixture(0, 1_000)
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("turn");
            let session = o.remove("session_id").unwrap();
            if session_ids {
                o.insert("session_id".into(), session.clone());
            }
            if users {
                o.insert("user".into(), session);
            }
            v.to_string() + "\n"
        })
        .collect()
}

#[test]
fn turns_are_inferred_from_time_order_without_turn_numbers() {
    let env = Env::new();
    // Sessions logged, turns not: each call a minute after the last is the
    // next turn, so the turns (and every figure) are those of the logged
    // fixture above.
    env.write("calls.jsonl", without_turns(true, false));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA102");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    assert_eq!(e["sessions"], 6);
    assert_eq!(e["growing_sessions"], 5);
    assert_eq!(e["max_turn"], 10);
    assert_eq!(e["input_tokens_saved"], 30_000);
    assert_eq!(e["sessions_with_inferred_turns"], 5);
    assert_eq!(e["sessions_cut_by_inactivity"], 0);
    assert_eq!(f[0]["savings"]["observed"], "0.075");
    assert_eq!(f[0]["confidence"], "medium");
    let cov = rule(&r, "TA102");
    assert_eq!(cov["status"], "ran_on_estimates");
    // 48 calls in all, their turns from time order.
    assert_eq!(
        cov["inputs"][1]["sources"],
        json!([{"via": "turn_from_order", "from": "time order (`timestamp`), retries folded in", "kind": "derived", "calls": 48, "confidence": "medium"}])
    );
}

#[test]
fn sessions_are_cut_from_a_users_calls_by_an_inactivity_gap() {
    let env = Env::new();
    // Neither turns nor sessions, but a user per conversation: each user's
    // calls, no further apart than 30 minutes, make one session.
    env.write("calls.jsonl", without_turns(false, true));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA102");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    assert_eq!(e["sessions"], 6);
    assert_eq!(e["growing_sessions"], 5);
    assert_eq!(e["input_tokens_saved"], 30_000);
    assert_eq!(e["sessions_cut_by_inactivity"], 5);
    assert_eq!(f[0]["savings"]["observed"], "0.075");
    // Inferred sessions cost the finding its confidence.
    assert_eq!(f[0]["confidence"], "low");
    assert_eq!(
        rule(&r, "TA102")["inputs"][0]["sources"][0]["via"],
        "session_by_gap"
    );

    // One user for all six conversations: L1 (minutes 1–10), L2 (21–30)
    // and L3 (41–50) are under 30 minutes apart and make one 30-turn
    // session; S1 and S2 (101–105, 121–125) one 10-turn session; F1 one
    // more. Two growing sessions, under `min_sessions` (5): nothing. A
    // 10-minute gap cuts the conversations apart again.
    let one_user: String = without_turns(false, false)
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v["user"] = json!("u1");
            v.to_string() + "\n"
        })
        .collect();
    env.write("one.jsonl", one_user);
    let r = env.audit(&["one.jsonl"]);
    assert_eq!(findings(&r, "TA102"), Vec::<&Value>::new());
    env.write("gap.toml", "[rules.TA102]\nsession_gap_minutes = 10\n");
    let r = env.audit(&["one.jsonl", "--config", "gap.toml"]);
    let f = findings(&r, "TA102");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["evidence"]["growing_sessions"], 5);
    assert_eq!(f[0]["evidence"]["input_tokens_saved"], 30_000);
}

#[test]
fn without_sessions_or_users_the_rule_says_it_could_not_run() {
    let env = Env::new();
    env.write("calls.jsonl", without_turns(false, false));
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA102"), Vec::<&Value>::new());
    let cov = rule(&r, "TA102");
    assert_eq!(cov["status"], "could_not_run");
    assert!(
        cov["missing"]
            .as_str()
            .unwrap()
            .starts_with("no call had session; it comes from a `session_id` with a `turn`"),
        "{cov:#?}"
    );
}

#[test]
fn turns_are_read_from_the_user_messages_when_logged() {
    let env = Env::new();
    // Five 8-turn conversations as LiteLLM stores them: a session id, no
    // turn, the history resent in `messages` (turn t: t user messages) and
    // 1,000 × t input tokens. Turn 3 of each fails and is sent again at
    // once: the user-message count keeps the retry in turn 3.
    let mut s = String::new();
    for k in 0..5u32 {
        let mut minute = 60 * k;
        for t in 1..=8u64 {
            let mut messages = Vec::new();
            for i in 1..=t {
                messages.push(json!({"role": "user", "content": format!("question {k}.{i}")}));
                if i < t {
                    messages.push(json!({"role": "assistant", "content": format!("answer {i}")}));
                }
            }
            let tries: &[&str] = if t == 3 { &["error", "ok"] } else { &["ok"] };
            for status in tries {
                minute += 1;
                let extra = json!({
                    "request_id": format!("M{k}-t{t}-{status}"),
                    "session_id": format!("M{k}"),
                    "status": status,
                    "messages": messages,
                });
                s += &(gw_line(&at(minute), "support-chat", "gpt-4o", 1_000 * t, 0, extra) + "\n");
            }
        }
    }
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA102");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    assert_eq!(e["growing_sessions"], 5);
    assert_eq!(e["max_turn"], 8);
    // Beyond the 6-turn window: 1,000 × 2 × 3 / 2 = 3,000 tokens a session,
    // 15,000 in all; × $2.50/M = $0.0375, × 30 = $1.125 a month.
    assert_eq!(e["input_tokens_saved"], 15_000);
    assert_eq!(f[0]["savings"]["observed"], "0.0375");
    assert_eq!(f[0]["savings"]["monthly"], "1.125");
    assert_eq!(
        rule(&r, "TA102")["inputs"][1]["sources"][0],
        json!({"via": "turn_from_messages", "from": "the user messages in `messages`", "kind": "derived", "calls": 45, "confidence": "medium"})
    );
}

/// hunt49: a tool-calling agent loop logs one user message on every call
/// (the model's tool calls and their results are what grows): the
/// user-message count made every call turn 1, so the loop was found only
/// when its `messages` were not logged. Six 10-step loops growing 1,500
/// tokens a step (1,000 at the first): beyond the 6-step window,
/// 1,500 × 4 × 5 / 2 = 15,000 tokens a loop, 90,000 in all, whether the
/// messages are logged or not.
#[test]
fn a_tool_calling_loop_grows_at_every_step() {
    let lines = |with_messages: bool| {
        let mut s = String::new();
        for k in 0..6u32 {
            let mut messages = vec![json!({"role": "user", "content": format!("task {k}")})];
            for step in 0..10u32 {
                let mut extra = json!({
                    "request_id": format!("A{k}-{step:02}"),
                    "session_id": format!("A{k}"),
                });
                if with_messages {
                    extra["messages"] = json!(messages.clone());
                }
                let input = 1_000 + 1_500 * step as u64;
                s += &(gw_line(&at(20 * k + step), "agent", "gpt-4o", input, 0, extra) + "\n");
                messages.push(json!({"role": "assistant", "tool_calls": [{"id": format!("c{step}"), "type": "function", "function": {"name": "search", "arguments": "{}"}}]}));
                messages.push(json!({"role": "tool", "tool_call_id": format!("c{step}"), "content": "result"}));
            }
        }
        s
    };
    for with_messages in [false, true] {
        let env = Env::new();
        env.write("calls.jsonl", lines(with_messages));
        let r = env.audit(&["calls.jsonl"]);
        let f = findings(&r, "TA102");
        assert_eq!(f.len(), 1, "messages: {with_messages}: {f:#?}");
        let e = &f[0]["evidence"];
        assert_eq!(e["growing_sessions"], 6);
        assert_eq!(e["input_tokens_saved"], 90_000, "messages: {with_messages}");
    }
}

/// A history the provider's prompt cache already serves is left alone: a
/// sliding window would change the prompt's start every turn and lose the
/// hits, so trimming would cost more. Above `max_cached_share` (0.5) of
/// the input read from the cache, no finding; below it, the finding.
#[test]
fn a_history_already_served_from_the_cache_is_left_alone() {
    let lines = |cached_share: f64| {
        let mut s = String::new();
        for (k, name) in ["L1", "L2", "L3", "L4", "L5"].iter().enumerate() {
            for t in 1..=10u64 {
                let input = 1_000 * t;
                let cached = (input as f64 * cached_share) as u64;
                s += &(json!({
                    "timestamp": at(20 * k as u32 + t as u32),
                    "feature": "code-chat", "model": "gpt-4o",
                    "request_id": format!("{name}-t{t:02}"), "session_id": name, "turn": t,
                    "usage": {"prompt_tokens": input, "completion_tokens": 0,
                              "prompt_tokens_details": {"cached_tokens": cached}}
                })
                .to_string()
                    + "\n");
            }
        }
        s
    };
    let env = Env::new();
    env.write("cached.jsonl", lines(0.9));
    let r = env.audit(&["cached.jsonl"]);
    assert_eq!(findings(&r, "TA102"), Vec::<&Value>::new());
    env.write("cached.jsonl", lines(0.4));
    let r = env.audit(&["cached.jsonl"]);
    let f = findings(&r, "TA102");
    assert_eq!(f.len(), 1, "{f:#?}");
    // Five 10-turn sessions beyond a 6-turn window: 5 × 10,000 tokens.
    assert_eq!(f[0]["evidence"]["input_tokens_saved"], 50_000);
}

/// A finding under `[detect] min_savings` is left out, and counted: the
/// report says how many more there are and how to see them.
#[test]
fn findings_under_min_savings_are_counted_and_said() {
    let env = Env::new();
    env.write("calls.jsonl", fixture(0, 1_000));
    // The finding saves $2.25 a month (see the first test).
    env.write("cfg.toml", "[detect]\nmin_savings = 5\n");
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    assert_eq!(findings(&r, "TA102"), Vec::<&Value>::new());
    assert!(r["audit"]["findings_below_min_savings"].as_u64().unwrap() >= 1);
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("more would each save less than the threshold (`[detect] min_savings`: $5.00 a month) and are not listed"),
        "{md}"
    );
    env.write("cfg.toml", "[detect]\nmin_savings = 2\n");
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    assert_eq!(findings(&r, "TA102").len(), 1);
}

/// A turn refused twice before it ran (two 429s logged with no tokens,
/// then the call that succeeded) is one turn of its history: the failed
/// attempts are no points of the growth fit (hunt83: the slope fell from
/// 500 to 145 tokens a turn, the saving to 29%), with turns logged or
/// inferred from time order and the prompts' fingerprints.
#[test]
fn refused_attempts_without_tokens_are_not_turns_of_the_fit() {
    let with_refusals = |log: String| -> String {
        let mut out = String::new();
        for line in log.lines() {
            let mut v: Value = serde_json::from_str(line).unwrap();
            let id = v["request_id"].as_str().unwrap().to_string();
            // Each turn's prompt, which its refused attempts repeat (so
            // time order folds them into the turn; without a fingerprint
            // each refusal would be a turn of its own).
            v["prompt_hash"] = json!(id);
            let line = v.to_string();
            if id.starts_with('L') && id.ends_with("-t10") {
                // Seconds before the turn's call, as a client retries.
                let ts = v["timestamp"].as_str().unwrap().replace(":00Z", ":00.000Z");
                for k in 0..2 {
                    let mut failed = v.clone();
                    failed["timestamp"] = json!(ts.replace(":00.000Z", &format!(":00.00{k}Z")));
                    failed["request_id"] = json!(format!("{id}-429-{k}"));
                    failed["status"] = json!(429);
                    failed["usage"] = json!({"prompt_tokens": 0, "completion_tokens": 0});
                    out += &(failed.to_string() + "\n");
                }
                let mut ok = v.clone();
                ok["timestamp"] = json!(ts.replace(":00.000Z", ":02.000Z"));
                out += &(ok.to_string() + "\n");
            } else {
                out += &(line.to_string() + "\n");
            }
        }
        out
    };
    for (log, inferred) in [(fixture(0, 1_000), 0), (without_turns(true, false), 5)] {
        let env = Env::new();
        env.write("calls.jsonl", with_refusals(log));
        let r = env.audit(&["calls.jsonl"]);
        let f = findings(&r, "TA102");
        assert_eq!(f.len(), 1, "{f:#?}");
        let e = &f[0]["evidence"];
        // The figures of the log without the refusals (above).
        assert_eq!(e["sessions"], 6);
        assert_eq!(e["growing_sessions"], 5);
        assert_eq!(e["mean_turns"], json!(8.0));
        assert_eq!(e["max_turn"], 10);
        assert_eq!(e["mean_growth_tokens_per_turn"], json!(1000.0));
        assert_eq!(e["input_tokens_saved"], 30_000);
        assert_eq!(
            e["sessions_with_inferred_turns"].as_u64().unwrap_or(0),
            inferred
        );
        assert_eq!(f[0]["savings"]["observed"], "0.075");
    }
}

/// An export that starts mid-conversation (hunt83): the calls carry 4 to
/// 13 user messages, so turns 4 to 13 of five conversations whose turn t
/// sends 1,000 × t tokens. The conversations have 13 turns (the count was
/// taken one short, as logged turns stored from 1 are): beyond the 6-turn
/// window, 1,000 × 7 × 8 / 2 = 28,000 tokens a session (at most its
/// 85,000 tokens), 140,000 in all, × $2.50/M = $0.35.
#[test]
fn turns_from_messages_of_an_export_begun_mid_conversation_keep_their_numbers() {
    let env = Env::new();
    let mut s = String::new();
    for k in 0..5u32 {
        for t in 4..=13u64 {
            let mut messages = Vec::new();
            for i in 1..=t {
                messages.push(json!({"role": "user", "content": format!("question {k}.{i}")}));
                if i < t {
                    messages.push(json!({"role": "assistant", "content": format!("answer {i}")}));
                }
            }
            let extra = json!({
                "request_id": format!("M{k}-t{t:02}"),
                "session_id": format!("M{k}"),
                "messages": messages,
            });
            s += &(gw_line(
                &at(60 * k + t as u32),
                "support-chat",
                "gpt-4o",
                1_000 * t,
                0,
                extra,
            ) + "\n");
        }
    }
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA102");
    assert_eq!(f.len(), 1, "{f:#?}");
    let e = &f[0]["evidence"];
    assert_eq!(e["growing_sessions"], 5);
    assert_eq!(e["max_turn"], 13);
    assert_eq!(e["input_tokens_saved"], 140_000);
    assert_eq!(f[0]["savings"]["observed"], "0.35");
}

/// Logged turns counted from 0 or from 1 give the same finding when a
/// session's first turn was refused (hunt88: counted from 0, one turn was
/// lost), and a session of refusals only is still a session.
#[test]
fn a_refused_first_turn_keeps_the_count_from_zero_or_one() {
    let log = |from_zero: bool| -> String {
        let mut out = String::new();
        for line in fixture(0, 1_000).lines() {
            let mut v: Value = serde_json::from_str(line).unwrap();
            let id = v["request_id"].as_str().unwrap().to_string();
            if id.starts_with('L') && id.ends_with("-t01") {
                v["status"] = json!(429);
                v["usage"] = json!({"prompt_tokens": 0, "completion_tokens": 0});
            }
            if from_zero {
                v["turn"] = json!(v["turn"].as_u64().unwrap() - 1);
            }
            out += &(v.to_string() + "\n");
        }
        for k in 0..2 {
            out += &(gw_line(
                &at(300 + k),
                "support-chat",
                "gpt-4o",
                0,
                0,
                json!({"request_id": format!("R1-{k}"), "session_id": "R1", "turn": 1, "status": 429}),
            ) + "\n");
        }
        out
    };
    let mut seen = Vec::new();
    for from_zero in [false, true] {
        let env = Env::new();
        env.write("calls.jsonl", log(from_zero));
        let r = env.audit(&["calls.jsonl"]);
        let f = findings(&r, "TA102");
        assert_eq!(f.len(), 1, "{f:#?}");
        let e = f[0]["evidence"].clone();
        // Seven sessions: the six and the one of refusals.
        assert_eq!(e["sessions"], 7, "{e}");
        assert_eq!(e["max_turn"], 10, "{e}");
        seen.push((e, f[0]["savings"]["observed"].clone()));
    }
    assert_eq!(seen[0], seen[1]);
}

/// Sessions that already keep their history to the last few turns grow
/// only at their start: their input is flat once the window is full, so
/// a window of 6 turns saves nothing (hunt92: sessions sending their last
/// 5 earlier turns, flat at 4,000 tokens from turn 6 to 14, were told to
/// send the last 6: $13.24 a month). Sessions that resend everything beside
/// them are still found, alone.
#[test]
fn sessions_already_kept_to_a_window_are_not_growing() {
    let env = Env::new();
    let mut s = String::new();
    for k in 0..20 {
        session(&mut s, 15 * k, &format!("W{k}"), 14, |t| {
            1_000 + 600 * (t - 1).min(5)
        });
    }
    env.write("calls.jsonl", s.clone());
    let cfg = env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    assert!(
        findings(&r, "TA102").is_empty(),
        "{:#?}",
        findings(&r, "TA102")
    );
    // Five sessions that resend everything: 10 turns, 1,000 × t tokens.
    for (k, name) in ["L1", "L2", "L3", "L4", "L5"].iter().enumerate() {
        session(&mut s, 400 + 20 * k as u32, name, 10, |t| 1_000 * t);
    }
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    let f = findings(&r, "TA102");
    assert_eq!(f.len(), 1, "{f:#?}");
    // Each: 1,000 × (10−6)(10−6+1)/2 = 10,000 tokens beyond the window.
    assert_eq!(f[0]["evidence"]["growing_sessions"], 5, "{:#?}", f[0]);
}

/// A session of more than 512 calls without turn numbers is judged by its
/// first 512: the report says how many calls were left out and that the
/// saving is a lower bound (hunt168: 5.6× under, unsaid).
#[test]
fn calls_past_a_timelines_512_are_said() {
    let env = Env::new();
    let mut s = String::new();
    for t in 0..600u64 {
        let extra = json!({"request_id": format!("long-{t}"), "session_id": "long"});
        let time = format!(
            "2025-03-01T{:02}:{:02}:{:02}Z",
            t / 180,
            t / 3 % 60,
            t % 3 * 20
        );
        s += &(gw_line(&time, "support-chat", "gpt-4o", 1_000 + 100 * t, 0, extra) + "\n");
    }
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl", "--format", "json,md"]);
    assert_eq!(r["audit"]["sampling"]["timeline_calls_dropped"], 88);
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("88 calls of sessions longer than 512 calls (without turn numbers) were left out of turn inference"),
        "{md}"
    );
}
