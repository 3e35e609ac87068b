//! TA113 batch-eligible: background traffic paid at real-time prices.
//!
//! Price (shipped catalog, `tokenaudit prices show gpt-4o`): input $2.50,
//! output $10 per million tokens, batch: every rate × 0.5. Every call here
//! sends 10,000 input and 1,000 output tokens: $0.025 + $0.01 = $0.035 in
//! real time, $0.0175 through the batch API.

use serde_json::{json, Value};

use crate::util::{findings, gw_line, Env};

fn at(day: u32, minute: u32) -> String {
    format!("2026-10-{day:02}T{:02}:{:02}:00Z", minute / 60, minute % 60)
}

/// A nightly job: on each of October 1–4, 15 calls from 02:00 to 02:56,
/// and one more on October 5 at 02:00 — 61 calls, all in the 02:00 hour,
/// over 4 + 5/61 days of traffic: the days between and the first whole,
/// and of the last the 5 calls (of 61) at 02:00, its one call's minute.
fn nightly(extra: Value) -> String {
    let mut times: Vec<(u32, u32)> = (1..=4)
        .flat_map(|d| (0..15).map(move |j| (d, 120 + j * 4)))
        .collect();
    times.push((5, 120));
    times
        .iter()
        .enumerate()
        .map(|(i, (d, m))| {
            let mut fields = json!({"request_id": format!("n-{i:02}")});
            if let (Some(o), Some(more)) = (fields.as_object_mut(), extra.as_object()) {
                o.extend(more.clone());
            }
            gw_line(
                &at(*d, *m),
                "nightly-summaries",
                "gpt-4o",
                10_000,
                1_000,
                fields,
            ) + "\n"
        })
        .collect()
}

#[test]
fn traffic_tagged_not_user_facing_is_priced_at_batch_rates() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        nightly(json!({"tags": {"user_facing": "false"}})),
    );
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA113");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    assert_eq!(
        f["scope"],
        json!({"feature": "nightly-summaries", "model": "openai/gpt-4o"})
    );
    assert_eq!(
        f["title"],
        "nightly-summaries: background traffic on gpt-4o paid at real-time prices (61 of 61 tagged calls not user-facing)"
    );
    let e = &f["evidence"];
    assert_eq!(e["calls"], 61);
    assert_eq!(e["not_user_facing_calls"], 61);
    assert_eq!(e["user_facing_calls"], 0);
    // Every call is in the 02:00 hour: the densest 3-hour windows (00–03,
    // 01–04, 02–05) tie, and the burst starts at its first busy hour, as
    // the title says (it said 0 before).
    assert_eq!(e["burst_start_hour_utc"], 2);
    assert_eq!(e["burst_share"], json!(1.0));
    assert_eq!(e["batch_multiplier"], "0.5");
    // 61 × $0.035 = $2.135 in real time; 61 × $0.0175 = $1.0675 in batch.
    assert_eq!(e["realtime_cost"], "2.135");
    assert_eq!(e["batch_cost"], "1.0675");
    // Saving $1.0675 over 4 + 5/61 days; × 30 × 61/249 = $7.845481927711 a
    // month.
    assert_eq!(f["savings"]["observed"], "1.0675");
    assert_eq!(f["savings"]["monthly"], "7.845481927711");
    assert_eq!(f["severity"], "low");
    assert_eq!(f["confidence"], "high");
    assert_eq!(
        f["lever"],
        json!({"kind": "batch", "feature": "nightly-summaries", "model": "openai/gpt-4o", "standard_only": true})
    );
}

#[test]
fn an_untagged_nightly_burst_is_batch_eligible() {
    let env = Env::new();
    env.write("calls.jsonl", nightly(json!({})));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA113");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        f[0]["title"],
        "nightly-summaries: calls on gpt-4o come in a daily burst and may be background work paid at real-time prices (100% of calls between 02:00 and 03:00 UTC; no user_facing tag says)"
    );
    // The hour alone does not tell a job from people at work.
    assert_eq!(f[0]["confidence"], "low");
    assert!(
        f[0]["recommendation"]
            .as_str()
            .unwrap()
            .starts_with("If nobody waits for nightly-summaries's answers"),
        "{}",
        f[0]["recommendation"]
    );
    assert_eq!(f[0]["evidence"]["not_user_facing_calls"], 0);
    assert_eq!(f[0]["savings"]["observed"], "1.0675");
    assert_eq!(f[0]["savings"]["monthly"], "7.845481927711");
}

#[test]
fn interactive_traffic_and_batch_traffic_are_not_flagged() {
    let env = Env::new();
    // Untagged calls every 48 minutes around the clock for two days: the
    // densest 3 hours hold about an eighth of them.
    let spread: String = (0..61u32)
        .map(|i| {
            let m = i * 48;
            gw_line(
                &at(1 + m / 1440, m % 1440),
                "chat",
                "gpt-4o",
                10_000,
                1_000,
                json!({}),
            ) + "\n"
        })
        .collect();
    // The nightly job tagged user-facing, and one already sent as batch.
    let mut s = spread;
    s += &nightly(json!({"feature": "live", "tags": {"user_facing": "true"}}));
    s += &nightly(json!({"feature": "batched", "batch": true}));
    env.write("calls.jsonl", s);
    let cfg = env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    assert!(
        findings(&r, "TA113").is_empty(),
        "{:#?}",
        findings(&r, "TA113")
    );
}

#[test]
fn burst_options_decide_what_counts_as_a_burst() {
    // A 1-hour window still holds every nightly call…
    let env = Env::new();
    env.write("calls.jsonl", nightly(json!({})));
    let cfg = env.write("cfg.toml", "[rules.TA113]\nburst_hours = 1\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    let f = findings(&r, "TA113");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["evidence"]["burst_start_hour_utc"], 2);
    // …but 61 calls are fewer than min_calls = 100.
    let env = Env::new();
    env.write("calls.jsonl", nightly(json!({})));
    let cfg = env.write("cfg.toml", "[rules.TA113]\nmin_calls = 100\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    assert!(findings(&r, "TA113").is_empty());
}

/// An untagged burst of later conversation turns is people talking with
/// the model at their hour (a region's working day), not a job.
#[test]
fn an_untagged_burst_of_conversations_is_not_batch_eligible() {
    let env = Env::new();
    // The same times; every other call is a session's second turn.
    let mut s = String::new();
    for (i, line) in nightly(json!({})).lines().enumerate() {
        let mut v: Value = serde_json::from_str(line).unwrap();
        v["session_id"] = json!(format!("s{}", i / 2));
        v["turn"] = json!(1 + i % 2);
        s += &(v.to_string() + "\n");
    }
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    assert!(findings(&r, "TA113").is_empty());
    // With the share raised above a half, the burst is a job again.
    env.write("cfg.toml", "[rules.TA113]\nmax_conversation_share = 0.6\n");
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    assert_eq!(findings(&r, "TA113").len(), 1);
}

/// An agent's sessions (Claude Code's, Codex's) log neither a turn nor the
/// user messages: a session's calls after its first are steps of its
/// loop, someone waiting on each (hunt97: $77.90 a month of batch pricing
/// on coding-agent traffic). A session id on every call of its own
/// (LiteLLM's per-request `session_id`) is no conversation.
#[test]
fn an_untagged_burst_of_session_steps_is_not_batch_eligible() {
    let env = Env::new();
    let with_sessions = |calls_per_session: usize| {
        let mut s = String::new();
        for (i, line) in nightly(json!({})).lines().enumerate() {
            let mut v: Value = serde_json::from_str(line).unwrap();
            v["session_id"] = json!(format!("s{}", i / calls_per_session));
            s += &(v.to_string() + "\n");
        }
        s
    };
    env.write("calls.jsonl", with_sessions(15));
    let r = env.audit(&["calls.jsonl"]);
    assert!(
        findings(&r, "TA113").is_empty(),
        "{:#?}",
        findings(&r, "TA113")
    );
    env.write("calls.jsonl", with_sessions(1));
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA113").len(), 1);
}

/// hunt49: calls of one morning all fall within any window of a few
/// hours. 60 untagged calls between 09:00 and 10:58 on one day are no
/// daily burst; the same hours on two days are.
#[test]
fn calls_of_one_day_are_no_daily_burst() {
    let env = Env::new();
    let line = |i: u32, day: u32| {
        gw_line(
            &at(day, 540 + 2 * (i % 60)),
            "support-chat",
            "gpt-4o",
            10_000,
            1_000,
            json!({"request_id": format!("c-{day}-{i:02}")}),
        ) + "\n"
    };
    let one_day: String = (0..60).map(|i| line(i, 3)).collect();
    env.write("calls.jsonl", &one_day);
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA113"), Vec::<&Value>::new());
    let two_days: String = one_day.clone() + &(0..60).map(|i| line(i, 4)).collect::<String>();
    env.write("calls.jsonl", two_days);
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA113").len(), 1);
    // hunt51: three hours across midnight (22:30 to 01:27) are no day
    // either; a day's log whose other calls span it shows the burst.
    let midnight = run_across_midnight(3, "m");
    env.write("calls.jsonl", midnight);
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA113"), Vec::<&Value>::new());
    let other = |minute: u32| {
        gw_line(
            &at(3, minute),
            "other",
            "gpt-4o",
            10,
            1,
            json!({"request_id": format!("o-{minute}")}),
        ) + "\n"
    };
    // One day shows no daily habit, in a day's log or a longer one
    // (hunt52: one morning's calls beside another feature's three days).
    let day_log = one_day.clone() + &other(5) + &other(23 * 60 + 50);
    env.write("calls.jsonl", day_log);
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA113"), Vec::<&Value>::new());
    let longer =
        one_day + &other(5) + &gw_line(&at(5, 600), "other", "gpt-4o", 10, 1, json!({})) + "\n";
    env.write("calls.jsonl", longer);
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA113"), Vec::<&Value>::new());
}

/// 60 calls of `support-chat`, three minutes apart, from 22:30 on October
/// `night` to 01:27 the day after: one run across UTC midnight.
fn run_across_midnight(night: u32, tag: &str) -> String {
    (0..60u32)
        .map(|i| {
            let m = 22 * 60 + 30 + 3 * i;
            let (day, m) = (night + m / 1440, m % 1440);
            gw_line(
                &at(day, m),
                "support-chat",
                "gpt-4o",
                10_000,
                1_000,
                json!({"request_id": format!("{tag}-{night}-{i:02}")}),
            ) + "\n"
        })
        .collect()
}

/// Stop 39's point: one run across midnight (22:30 to 01:27) in a longer
/// log falls on two UTC days but is one night's; the same run on two nights
/// is a daily burst, and so are calls at 23:00 on two days, whose densest
/// window may wrap midnight while the calls do not cross it.
#[test]
fn one_run_across_midnight_is_no_daily_burst() {
    let env = Env::new();
    let run = run_across_midnight;
    // Another feature's calls make the log three days long.
    let others = gw_line(&at(3, 5), "other", "gpt-4o", 10, 1, json!({}))
        + "\n"
        + &gw_line(&at(5, 600), "other", "gpt-4o", 10, 1, json!({}))
        + "\n";
    env.write("calls.jsonl", run(3, "a") + &others);
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA113"), Vec::<&Value>::new());
    // Two nights: October 3 to 5; 120 calls at $0.035, half saved.
    env.write("calls.jsonl", run(3, "a") + &run(4, "b") + &others);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA113");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["savings"]["observed"], "2.10");
    // Calls at 23:00–23:59 on two days do not cross midnight.
    let late: String = (3..=4u32)
        .flat_map(|d| {
            (0..30u32).map(move |i| {
                gw_line(
                    &at(d, 23 * 60 + 2 * i),
                    "support-chat",
                    "gpt-4o",
                    10_000,
                    1_000,
                    json!({"request_id": format!("l-{d}-{i:02}")}),
                ) + "\n"
            })
        })
        .collect();
    env.write("calls.jsonl", late + &others);
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(findings(&r, "TA113").len(), 1);
}

/// Three nights of a nightly job are three days of spend, not the 2.04
/// days between its first and last calls (hunt70: every monthly figure of
/// a three-day export was 29–48% high, and moved with unrelated traffic in
/// the same file).
#[test]
fn three_nights_are_scaled_as_three_days() {
    let env = Env::new();
    let three = three_again();
    env.write("calls.jsonl", &three);
    // Daytime chat on another feature, to the evening of the third day,
    // changes nothing.
    let day: String = (0..10u32)
        .map(|i| {
            let fields = json!({"request_id": format!("c-{i}")});
            gw_line(&at(3, 600 + i * 60), "chat", "gpt-4o", 100, 10, fields) + "\n"
        })
        .collect();
    env.write("with-chat.jsonl", three + &day);
    for file in ["calls.jsonl", "with-chat.jsonl"] {
        let r = env.audit(&[file]);
        let f = findings(&r, "TA113");
        assert_eq!(f.len(), 1, "{file}: {f:#?}");
        // 60 × ($0.035 − $0.0175) = $1.05 over 3 days: × 10 = $10.50 a
        // month (× 30/2.04 = $15.44 from 02:00 on the 1st to 02:57 on the
        // 3rd; × 30/2.7 with the chat).
        assert_eq!(f[0]["savings"]["observed"], "1.05", "{file}");
        assert_eq!(f[0]["savings"]["monthly"], "10.50", "{file}");
    }
    // One stray call at 00:01 on the 4th is not a fourth day (hunt73:
    // rounding the span up made it one, a quarter off every figure): of the
    // 61 calls, 60 come at or after the first call's 02:00 and 1 at or
    // before the last's 00:01, so 2 + 60/61 + 1/61 = 3 days, × 10 = $10.50
    // (× 30/4 = $7.875 rounded up).
    let stray = gw_line(
        &at(4, 1),
        "chat",
        "gpt-4o",
        100,
        10,
        json!({"request_id": "late"}),
    );
    env.write("stray.jsonl", three_again() + &stray + "\n");
    let r = env.audit(&["stray.jsonl"]);
    let f = findings(&r, "TA113");
    assert_eq!(f[0]["savings"]["monthly"], "10.50");
}

/// On each of October 1–3, 20 calls tagged not user-facing from 02:00 to
/// 02:57.
fn three_again() -> String {
    (1..=3u32)
        .flat_map(|d| (0..20u32).map(move |j| (d, j)))
        .map(|(d, j)| {
            let fields = json!({
                "request_id": format!("n-{d}-{j:02}"),
                "tags": {"user_facing": "false"},
            });
            gw_line(
                &at(d, 120 + j * 3),
                "nightly-summaries",
                "gpt-4o",
                10_000,
                1_000,
                fields,
            ) + "\n"
        })
        .collect()
}

/// Days of traffic by the time of day: a two-hour job across midnight is
/// one day, not two, and a quiet last day with calls all day long is a
/// whole one (hunt74: weighing end days by their calls alone made the one
/// two days and the other a quarter of a day).
#[test]
fn the_period_counts_end_days_by_the_time_of_day() {
    let env = Env::new();
    let tagged = |d: u32, minute: u32, id: String| {
        let fields = json!({"request_id": id, "tags": {"user_facing": "false"}});
        gw_line(
            &at(d, minute),
            "nightly-summaries",
            "gpt-4o",
            10_000,
            1_000,
            fields,
        ) + "\n"
    };
    // 60 calls from 23:00 on October 1 to 00:58 on the 2nd.
    let burst: String = (0..60u32)
        .map(|i| {
            let m = 23 * 60 + i * 2;
            tagged(1 + m / 1440, m % 1440, format!("b{i}"))
        })
        .collect();
    env.write("burst.jsonl", burst);
    let r = env.audit(&["burst.jsonl"]);
    // Half the calls at or after 23:00, half at or before 00:58: one day,
    // 60 × $0.0175 = $1.05 × 30.
    assert_eq!(findings(&r, "TA113")[0]["savings"]["monthly"], "31.50");
    // 24 calls on each of October 1 and 2, one an hour, and 6 on the 3rd,
    // every 4 hours to 20:00: the last day holds the calls at or before
    // 20:00, 48 of 54, so 2 + 48/54 days; 54 × $0.0175 = $0.945 × 30 ×
    // 9/26 = $9.813461538462.
    let quiet: String = (0..24u32)
        .flat_map(|h| [(1, h * 60), (2, h * 60)])
        .chain((0..6u32).map(|k| (3, k * 240)))
        .enumerate()
        .map(|(i, (d, m))| tagged(d, m, format!("q{i}")))
        .collect();
    env.write("quiet.jsonl", quiet);
    let r = env.audit(&["quiet.jsonl"]);
    assert_eq!(
        findings(&r, "TA113")[0]["savings"]["monthly"],
        "9.813461538462"
    );
}

/// A nightly job whose third call a night is a long one: the saving is
/// the calls' real cost, long-context tier and all, at batch rates
/// (hunt116: base rates said $44.80 and a $22.40 saving). claude-opus-4-6
/// before 13 March 2026 (`prices show`): $5/$25, above 200,000 input
/// $10/$37.50, batch × 0.5. Each night 2 × (20,000 × 5 + 2,000 × 25)/1M
/// = $0.30, and 250,000 × 10/1M + 2,000 × 37.5/1M = $2.575: 28 nights
/// $80.50, batch $40.25.
#[test]
fn long_requests_are_priced_at_their_tier_in_the_saving() {
    let env = Env::new();
    let mut text = String::new();
    for day in 1..=28u32 {
        for (i, input) in [20_000u64, 20_000, 250_000].into_iter().enumerate() {
            text += &gw_line(
                &format!("2026-02-{day:02}T02:{:02}:00Z", 10 * i),
                "nightly-docs",
                "claude-opus-4-6",
                input,
                2_000,
                json!({"request_id": format!("r{day}-{i}")}),
            );
            text += "\n";
        }
    }
    env.write("calls.jsonl", text);
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(r["audit"]["totals"]["cost"], "80.50");
    let f = findings(&r, "TA113");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["evidence"]["realtime_cost"], "80.50");
    assert_eq!(f[0]["evidence"]["batch_cost"], "40.25");
    assert_eq!(f[0]["savings"]["observed"], "40.25");
}

/// hunt151: the finding leaves priority calls out (asked to be fast); the
/// waterfall's batch step batched them too (2.25× the finding). Each night
/// of October three calls at 02:00, the third at priority; gpt-4.1 ($2 and
/// $8 per million, batch × 0.5, priority × 1.75): a call of 10,000 in and
/// 1,000 out is $0.028 at standard rates, $0.049 at priority.
#[test]
fn the_batch_step_leaves_priority_calls_as_the_finding_does() {
    let env = Env::new();
    let s: String = (1..=31u32)
        .flat_map(|d| (0..3u32).map(move |k| (d, k)))
        .map(|(d, k)| {
            let mut fields =
                json!({"request_id": format!("n-{d:02}-{k}"), "tags": {"user_facing": "false"}});
            if k == 2 {
                fields["service_tier"] = "priority".into();
            }
            gw_line(
                &at(d, 120 + k * 10),
                "enrich",
                "gpt-4.1",
                10_000,
                1_000,
                fields,
            ) + "\n"
        })
        .collect();
    env.write("calls.jsonl", s);
    env.write(
        "c.toml",
        "[rules.TA113]\nmin_calls = 20\n[detect]\nmin_savings = 0.001\n",
    );
    let r = env.audit(&["calls.jsonl", "--config", "c.toml"]);
    assert_eq!(r["audit"]["totals"]["cost"], "3.255");
    let f = findings(&r, "TA113");
    assert_eq!(f.len(), 1, "{f:#?}");
    // The 62 standard calls: $1.736 in real time, half in batch.
    assert_eq!(f[0]["evidence"]["realtime_cost"], "1.736");
    assert_eq!(f[0]["savings"]["observed"], "0.868");
    let step = r["audit"]["savings"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["category"] == "batch")
        .unwrap()
        .clone();
    assert_eq!(step["savings"], "0.868");
}

/// Calls tagged as background beside calls of the same feature with no
/// tag: only the tagged ones are batched, in the finding and in the
/// waterfall's step (hunt173: the untagged daytime calls batched too, the
/// saving 4.3×). 61 nightly calls tagged `user_facing=false` and 122
/// untagged daytime calls, one every 5 minutes from 10:00 on October 1–4
/// (30 and 31 a day): 183 × $0.035 = $6.405 in real time, of which the 61
/// tagged calls' $1.0675 is saved.
#[test]
fn only_the_tagged_calls_of_a_partly_tagged_feature_are_batched() {
    let env = Env::new();
    let mut log = nightly(json!({"tags": {"user_facing": "false"}}));
    for i in 0..122u32 {
        let fields = json!({"request_id": format!("d-{i:03}")});
        log += &(gw_line(
            &at(1 + i / 31, 600 + (i % 31) * 5),
            "nightly-summaries",
            "gpt-4o",
            10_000,
            1_000,
            fields,
        ) + "\n");
    }
    env.write("calls.jsonl", log);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA113");
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = f[0];
    assert_eq!(
        f["title"],
        "nightly-summaries: background traffic on gpt-4o paid at real-time prices (61 of 61 tagged calls not user-facing; 122 calls without the tag left as they are)"
    );
    // (A third of each day's saving, the share of the calls tagged: to a
    // pico of the exact figure.)
    let near = |v: &Value, want: f64| {
        let got: f64 = v.as_str().unwrap().parse().unwrap();
        assert!((got - want).abs() < 2e-12, "{got} for {want}");
    };
    assert_eq!(f["evidence"]["realtime_cost"], "6.405");
    near(&f["evidence"]["batch_cost"], 5.3375);
    near(&f["savings"]["observed"], 1.0675);
    let step = r["audit"]["savings"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["category"] == "batch")
        .unwrap()
        .clone();
    assert_eq!(step["savings"], f["savings"]["observed"], "{step}");
    near(&step["savings"], 1.0675);
}

/// The tagged calls' share is of the cost, not of the calls: nightly
/// answers of 4,000 tokens beside daytime ones of 100 (hunt178: 40% low).
/// 61 nightly calls at 10,000 × 2.50 + 4,000 × 10 = $0.065, half of which
/// batching saves: $1.9825; 122 daytime calls at $0.026 left as they are.
#[test]
fn the_tagged_share_of_a_partly_tagged_feature_is_of_its_cost() {
    let env = Env::new();
    let mut log = String::new();
    for d in 1..=4u32 {
        for j in 0..15u32 {
            let fields =
                json!({"request_id": format!("n-{d}-{j}"), "tags": {"user_facing": "false"}});
            log += &(gw_line(
                &at(d, 120 + j * 4),
                "nightly-summaries",
                "gpt-4o",
                10_000,
                4_000,
                fields,
            ) + "\n");
        }
    }
    log += &(gw_line(
        &at(5, 120),
        "nightly-summaries",
        "gpt-4o",
        10_000,
        4_000,
        json!({"request_id": "n-5", "tags": {"user_facing": "false"}}),
    ) + "\n");
    for i in 0..122u32 {
        let fields = json!({"request_id": format!("d-{i:03}")});
        log += &(gw_line(
            &at(1 + i / 31, 600 + (i % 31) * 5),
            "nightly-summaries",
            "gpt-4o",
            10_000,
            100,
            fields,
        ) + "\n");
    }
    env.write("calls.jsonl", log);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA113");
    assert_eq!(f.len(), 1, "{f:#?}");
    let saved: f64 = f[0]["savings"]["observed"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((saved - 1.9825).abs() < 2e-12, "{saved}");
}
