//! TA114 spend-spike: a day whose spend breaks from its trailing median.
//!
//! Price (shipped catalog, `tokenaudit prices show gpt-4o`): input $2.50,
//! output $10 per million tokens. Every call here sends 10,000 input and
//! 1,000 output tokens: $0.025 + $0.01 = $0.035.

use serde_json::json;

use crate::util::{findings, gw_line, Env};

/// `n` calls of `feature` on gpt-4o on 2026-10-`day`, from 10:00, a minute
/// apart.
fn day(feature: &str, day: u32, n: u32) -> String {
    (0..n)
        .map(|j| {
            let ts = format!("2026-10-{day:02}T{:02}:{:02}:00Z", 10 + j / 60, j % 60);
            gw_line(&ts, feature, "gpt-4o", 10_000, 1_000, json!({})) + "\n"
        })
        .collect()
}

/// `report-writer` makes 10 calls ($0.35) a day for seven days, then
/// `spike_calls` on October 8; `chat` makes 10 calls a day throughout.
fn fixture(spike_calls: u32) -> String {
    let mut s = String::new();
    for d in 1..=8 {
        s += &day("report-writer", d, if d == 8 { spike_calls } else { 10 });
        s += &day("chat", d, 10);
    }
    s
}

#[test]
fn a_day_far_above_its_trailing_median_is_a_spike() {
    let env = Env::new();
    env.write("calls.jsonl", fixture(100));
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA114");
    assert_eq!(f.len(), 1, "{f:#?}");
    let by_scope = |k: &str| {
        *f.iter()
            .find(|x| x["scope"].get(k).is_some())
            .unwrap_or_else(|| panic!("no {k} spike"))
    };
    // Feature report-writer: 100 × $0.035 = $3.50 on October 8 against a
    // flat $0.35 median (MAD 0, floored at 5% of the median, $0.0175):
    // 10× and $3.15 above it.
    let feat = by_scope("feature");
    assert_eq!(
        feat["scope"],
        json!({"feature": "report-writer", "day": "2026-10-08"})
    );
    assert_eq!(
        feat["title"],
        "feature report-writer: spend of $3.50 on 2026-10-08 is 10.0× its baseline median $0.35"
    );
    // Model gpt-4o carries both features: $3.50 + $0.35 = $3.85 against a
    // median of $0.70, 5.5×, $3.15 above: report-writer's excess, the same
    // event, told once, as the feature's naming the model (it was a second
    // finding).
    assert_eq!(
        feat["evidence"],
        json!({
            "day": "2026-10-08",
            "spend": "3.50",
            "baseline_median": "0.35",
            "baseline_mad": "0.00",
            "ratio": 10.0,
            "excess": "3.15",
            "same_spike_as_model": "openai/gpt-4o",
        })
    );
    // $3.15 × 30 / 7 days ≈ $13.50 a month, under the $50 medium threshold:
    // medium severity (spikes are never low), no savings figure.
    assert_eq!(feat["severity"], "medium");
    assert_eq!(feat["confidence"], "high");
    assert!(feat["savings"].is_null());
    assert_eq!(feat["sample_requests"], json!([]));
}

#[test]
fn a_day_under_twice_the_median_is_not_a_spike() {
    let env = Env::new();
    // 19 calls on October 8: $0.665, 1.9× the median.
    env.write("calls.jsonl", fixture(19));
    let cfg = env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    assert!(
        findings(&r, "TA114").is_empty(),
        "{:#?}",
        findings(&r, "TA114")
    );
}

#[test]
fn min_ratio_and_baseline_options_change_what_is_a_spike() {
    // min_ratio = 6: the feature's 10× stays, the model's 5.5× goes.
    let env = Env::new();
    env.write("calls.jsonl", fixture(100));
    let cfg = env.write("cfg.toml", "[rules.TA114]\nmin_ratio = 6\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    let f = findings(&r, "TA114");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["scope"]["feature"], "report-writer");

    // min_baseline_days = 8: October 8 has only seven earlier days.
    let env = Env::new();
    env.write("calls.jsonl", fixture(100));
    let cfg = env.write("cfg.toml", "[rules.TA114]\nmin_baseline_days = 8\n");
    let r = env.audit(&["calls.jsonl", "--config", cfg.to_str().unwrap()]);
    assert!(findings(&r, "TA114").is_empty());
}

/// A model only one feature uses spikes with it to the cent: one finding,
/// the feature's, naming the model, not two tickets for one event.
#[test]
fn a_models_spike_that_is_one_features_is_reported_once() {
    let env = Env::new();
    let mut s = String::new();
    for d in 1..=8 {
        s += &day("report-writer", d, if d == 8 { 100 } else { 10 });
        // chat on another model, so gpt-4o is report-writer's alone.
        s += &(0..10)
            .map(|j| {
                let ts = format!("2026-10-{d:02}T{:02}:{:02}:00Z", 12 + j / 60, j % 60);
                gw_line(&ts, "chat", "gpt-4o-mini", 10_000, 1_000, json!({})) + "\n"
            })
            .collect::<String>();
    }
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA114");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        f[0]["scope"],
        json!({"feature": "report-writer", "day": "2026-10-08"})
    );
    assert_eq!(f[0]["evidence"]["same_spike_as_model"], "openai/gpt-4o");
    assert_eq!(f[0]["evidence"]["spend"], "3.50");
    // hunt57: one small call of another feature on gpt-4o that day ($0.00035,
    // 100 in and 10 out) makes the model's spike a hundredth of a cent
    // more than the feature's: still one event, one ticket.
    let eval = gw_line(
        "2026-10-08T18:00:00Z",
        "eval-script",
        "gpt-4o",
        100,
        10,
        json!({}),
    ) + "\n";
    env.write(
        "calls.jsonl",
        eval + &std::fs::read_to_string(env.path("calls.jsonl")).unwrap(),
    );
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA114");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["evidence"]["same_spike_as_model"], "openai/gpt-4o");
}

/// Two features with the same spend day by day, each on its own model (a
/// on gpt-4o at $0.035 a call; b on gpt-4.1, 10,000 × $2 + 1,000 × $8
/// per million = $0.028, so 5 calls of it to 4 of a's... here equal
/// spend: a 8 calls = $0.28, b 10 calls = $0.28): each spike names its
/// own feature's model (both named gpt-4.1).
#[test]
fn a_feature_spike_names_the_model_it_uses() {
    let env = Env::new();
    let calls = |feature: &str, model: &str, d: u32, n: u32| -> String {
        (0..n)
            .map(|j| {
                let ts = format!("2026-10-{d:02}T10:{j:02}:00Z");
                gw_line(&ts, feature, model, 10_000, 1_000, json!({})) + "\n"
            })
            .collect()
    };
    let mut log = String::new();
    for d in 1..=8 {
        let k = if d == 8 { 5 } else { 1 };
        log += &calls("a", "gpt-4o", d, 8 * k);
        log += &calls("b", "gpt-4.1", d, 10 * k);
    }
    env.write("calls.jsonl", log);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA114");
    let named = |feature: &str| {
        f.iter()
            .find(|f| f["scope"]["feature"] == feature)
            .unwrap_or_else(|| panic!("{f:#?}"))["evidence"]["same_spike_as_model"]
            .clone()
    };
    assert_eq!(named("a"), "openai/gpt-4o");
    assert_eq!(named("b"), "openai/gpt-4.1");
}

/// hunt58: a feature's spike on one model took the spike of another model
/// of the same size, made by a feature launched that day. report-writer:
/// 10 calls a day on gpt-4o and one on gpt-4o-mini, 100 on gpt-4o on
/// October 8 ($3.15 over its median); chat: 10 a day on gpt-4o-mini; a new
/// feature, launch, 1,500 calls on gpt-4o-mini on October 8 ($0.0021 each,
/// $3.15). gpt-4o-mini's spike is launch's: reported on its own.
#[test]
fn a_models_spike_another_feature_made_is_its_own() {
    let env = Env::new();
    let mini = |d: u32, n: u32, feature: &str| -> String {
        (0..n)
            .map(|j| {
                let ts = format!(
                    "2026-10-{d:02}T{:02}:{:02}:{:02}Z",
                    14 + j / 3600,
                    j / 60 % 60,
                    j % 60
                );
                gw_line(&ts, feature, "gpt-4o-mini", 10_000, 1_000, json!({})) + "\n"
            })
            .collect()
    };
    let mut s = String::new();
    for d in 1..=8 {
        s += &day("report-writer", d, if d == 8 { 100 } else { 10 });
        s += &mini(d, 1, "report-writer");
        s += &mini(d, 10, "chat");
        if d == 8 {
            s += &mini(d, 1500, "launch");
        }
    }
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA114");
    let scopes: Vec<&serde_json::Value> = f.iter().map(|x| &x["scope"]).collect();
    assert!(
        scopes.contains(&&json!({"model": "openai/gpt-4o-mini", "day": "2026-10-08"})),
        "{scopes:?}"
    );
    let report = f
        .iter()
        .find(|x| x["scope"]["feature"] == "report-writer")
        .unwrap();
    assert_eq!(report["evidence"]["same_spike_as_model"], "openai/gpt-4o");
}

/// A job that runs on Mondays, Wednesdays and Fridays is no spike of the
/// model it shares with daily traffic once its weekday was seen (hunt92:
/// 24 tickets a month, each job day "4.0×" the days between); nor is a
/// Monday after a quiet week (the end of a holiday). A day above its
/// weekday's usual spend still is, and a spike a week after another is
/// judged without it (hunt95: it hid the second).
#[test]
fn a_weekday_job_and_the_end_of_a_quiet_week_are_no_spikes() {
    use chrono::Datelike;
    let mut s = String::new();
    for d in 1..=31 {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 10, d).unwrap();
        let weekday = date.weekday().num_days_from_monday();
        // A quiet week (October 12–18): 2 calls of chat a day, 10 else.
        s += &day("chat", d, if (12..=18).contains(&d) { 2 } else { 10 });
        // The job: 30 calls ($1.05) on Mondays, Wednesdays and Fridays.
        if [0, 2, 4].contains(&weekday) {
            s += &day("weekly-job", d, if d == 28 { 150 } else { 30 });
        }
    }
    let env = Env::new();
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let f = findings(&r, "TA114");
    // Wednesday October 28: 150 job calls ($5.25) against the job's $1.05
    // of the Wednesdays before: the spike. In the log's first week no
    // Wednesday was seen before: October 7's $1.40 on the model is 4× the
    // days before it ($0.35), a spike; left out of the model's Wednesdays
    // (the other two are the most), its October 28 ($5.60) is 4.4× those
    // of the 14th ($1.12) and 21st ($1.40), an excess other than the
    // job's, so said apart.
    let titles: Vec<&str> = f.iter().map(|x| x["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "model openai/gpt-4o: spend of $1.40 on 2026-10-07 is 4.0× its baseline median $0.35",
            "feature weekly-job: spend of $5.25 on 2026-10-28 is 5.0× its baseline median $1.05",
            "model openai/gpt-4o: spend of $5.60 on 2026-10-28 is 4.4× its baseline median $1.26",
        ],
        "{f:#?}"
    );
}

/// Two spikes a week apart: the first is no weekday's usual for the
/// second (hunt95: the second was judged against the first and missed).
#[test]
fn a_spike_a_week_after_another_is_found_too() {
    let mut s = String::new();
    for d in 1..=20 {
        s += &day("chat", d, 10);
        if d == 8 || d == 15 {
            s += &day("report-writer", d, 100);
        }
    }
    let env = Env::new();
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let days: Vec<&str> = findings(&r, "TA114")
        .iter()
        .map(|f| f["evidence"]["day"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2026-10-08", "2026-10-15"]);
}

/// A project worked on some days only (the same session each time, idle
/// between) is judged against its working days: no spike (hunt97: six of
/// its ordinary days were "2.0× its baseline median $1.29", the median of
/// an idle Thursday and a working one).
#[test]
fn a_project_worked_on_some_days_is_judged_against_them() {
    let worked = [
        "2025-09-01",
        "2025-09-03",
        "2025-09-04",
        "2025-09-09",
        "2025-09-12",
        "2025-09-15",
        "2025-09-16",
        "2025-09-18",
        "2025-09-24",
        "2025-09-26",
        "2025-09-29",
        "2025-10-02",
        "2025-10-03",
        "2025-10-08",
        "2025-10-13",
        "2025-10-14",
        "2025-10-15",
        "2025-10-21",
        "2025-10-23",
        "2025-10-24",
        "2025-10-30",
    ];
    let days = |heavy: Option<&str>| {
        let mut s = String::new();
        for d in worked.iter().copied().chain(heavy) {
            let n = if Some(d) == heavy { 400 } else { 80 };
            for j in 0..n {
                let ts = format!("{d}T{:02}:{:02}:00Z", 9 + j / 60, j % 60);
                s += &(gw_line(&ts, "infra", "gpt-4o", 10_000, 1_000, json!({})) + "\n");
            }
        }
        s
    };
    let env = Env::new();
    env.write("calls.jsonl", days(None));
    let r = env.audit(&["calls.jsonl"]);
    assert!(
        findings(&r, "TA114").is_empty(),
        "{:#?}",
        findings(&r, "TA114")
    );
    // A heavy working day is still one: 400 calls ($14) on October 31
    // against $2.80.
    env.write("calls.jsonl", days(Some("2025-10-31")));
    let r = env.audit(&["calls.jsonl"]);
    let found: Vec<&str> = findings(&r, "TA114")
        .iter()
        .map(|f| f["evidence"]["day"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["2025-10-31"]);
}

/// A job that runs every Monday is learned (hunt124: each Monday from the
/// first was "10.0× its baseline median", a ticket a week): chat's 10
/// calls ($0.35) every day of September and October 2026, and 100 more
/// calls ($3.50) of a weekly report every Monday. The first two Mondays
/// (September 7 and 14) are spikes, no Monday having been seen before the
/// first, and one spike being no weekday's usual; from the third on, two
/// or more Mondays found spikes are the weekday's usual, and none is.
#[test]
fn a_job_that_runs_every_monday_is_a_spike_twice() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        daily_and_a_job("2026-10-31", "weekly-report", |d| {
            d.format("%a").to_string() == "Mon"
        }),
    );
    let r = env.audit(&["calls.jsonl"]);
    let mut days: Vec<String> = findings(&r, "TA114")
        .iter()
        .map(|f| format!("{} {}", f["evidence"]["day"], f["title"]))
        .collect();
    days.sort();
    assert_eq!(days.len(), 2, "{days:#?}");
    assert!(days[0].starts_with("\"2026-09-07\""), "{days:#?}");
    assert!(days[1].starts_with("\"2026-09-14\""), "{days:#?}");
}

/// Two spikes among usual weeks do not hide a third (hunt129): chat's 10
/// calls every day of September and October 2026, and 100 more on the
/// Mondays of September 14 and 21 and October 5. October 5's weeks before
/// were usual twice and spikes twice: the spikes are not yet its usual.
#[test]
fn two_spikes_among_usual_weeks_do_not_hide_a_third() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        daily_and_a_job("2026-10-10", "report", |d| {
            ["2026-09-14", "2026-09-21", "2026-10-05"].contains(&d.to_string().as_str())
        }),
    );
    let r = env.audit(&["calls.jsonl"]);
    let mut days: Vec<&str> = findings(&r, "TA114")
        .iter()
        .map(|f| f["evidence"]["day"].as_str().unwrap())
        .collect();
    days.sort();
    assert_eq!(days, ["2026-09-14", "2026-09-21", "2026-10-05"]);
}

/// chat's 10 calls ($0.35) every day from September 1, 2026 to `until`,
/// and `job`'s 100 more ($3.50) on the days `runs` takes.
fn daily_and_a_job(until: &str, job: &str, runs: impl Fn(chrono::NaiveDate) -> bool) -> String {
    let mut s = String::new();
    let mut d = chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
    let until: chrono::NaiveDate = until.parse().unwrap();
    while d <= until {
        for (feature, n) in [("chat", 10), (job, if runs(d) { 100 } else { 0 })] {
            for j in 0..n {
                let ts = format!("{d}T{:02}:{:02}:00Z", 10 + j / 60, j % 60);
                s += &(gw_line(&ts, feature, "gpt-4o", 10_000, 1_000, json!({})) + "\n");
            }
        }
        d = d.succ_opt().unwrap();
    }
    s
}

/// A line of `feature` on `model` at `ts` with `input` fresh and `cached`
/// cache-read tokens and 500 output tokens.
fn claude(ts: &str, feature: &str, input: u64, cached: u64) -> String {
    serde_json::json!({
        "timestamp": ts, "model": "claude-sonnet-4-6", "provider": "anthropic", "feature": feature,
        "usage": {"input_tokens": input, "cache_read_input_tokens": cached, "output_tokens": 500}
    })
    .to_string()
        + "\n"
}

/// A day whose model's price rose is no spike when its tokens did not
/// and its spend per token rose as the price did (hunt182: a doubled price
/// was four spikes); but a dated period with the same rates hides no
/// spike of use: a broken cache, the same tokens at 7.7× the spend
/// (hunt187). Claude Sonnet 4.6 (input 3, cached read 0.3, output 15; a
/// period from 2026-03-13 with the same rates below 200k): 20 calls a day
/// of 1,000 + 100,000 cached + 500 out = $0.0405, $0.81 a day; on the
/// last day the 100,000 are fresh input: $0.3105 a call, $6.21.
#[test]
fn a_price_period_of_the_same_rates_hides_no_spike() {
    let mut s = String::new();
    for d in 1..=20u32 {
        let date =
            chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + chrono::Days::new(d as u64 - 1);
        for j in 0..20u32 {
            let ts = format!("{date}T10:{j:02}:00Z");
            s += &if d == 20 {
                claude(&ts, "support", 101_000, 0)
            } else {
                claude(&ts, "support", 1_000, 100_000)
            };
        }
    }
    let env = Env::new();
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let titles: Vec<String> = findings(&r, "TA114")
        .iter()
        .map(|f| f["title"].as_str().unwrap().to_string())
        .collect();
    assert!(
        titles.contains(
            &"feature support: spend of $6.21 on 2026-03-20 is 7.7× its baseline median $0.81"
                .to_string()
        ),
        "{titles:?}"
    );
}

/// A job run every other week is no holiday: its light week's Monday at
/// 3× is a spike against the median of its four Mondays, [30, 30, 54, 54]
/// calls of $3.0075 → $42.11 (hunt187: judged against the heavy weeks' $54, it was missed),
/// while weeks below a quarter of the highest are left out as a holiday's.
#[test]
fn a_fortnightly_jobs_spike_is_found() {
    let mut s = String::new();
    // Monday 2026-10-12 to Monday 2026-11-16; each call 1M input at $3.
    for d in 0..=35u32 {
        let date =
            chrono::NaiveDate::from_ymd_opt(2026, 10, 12).unwrap() + chrono::Days::new(d as u64);
        use chrono::Datelike;
        let monday = date.weekday() == chrono::Weekday::Mon;
        let week = d / 7;
        let calls = match (monday, d) {
            (true, 35) => 30,
            (true, _) if week % 2 == 1 => 18,
            _ => 10,
        };
        for j in 0..calls {
            s += &claude(&format!("{date}T10:{j:02}:00Z"), "payroll", 1_000_000, 0);
        }
    }
    let env = Env::new();
    env.write("calls.jsonl", s);
    let r = env.audit(&["calls.jsonl"]);
    let titles: Vec<String> = findings(&r, "TA114")
        .iter()
        .map(|f| f["title"].as_str().unwrap().to_string())
        .collect();
    assert!(
        titles.contains(
            &"feature payroll: spend of $90.23 on 2026-11-16 is 2.1× its baseline median $42.11"
                .to_string()
        ),
        "{titles:?}"
    );
}

/// `n` calls of `feature` on `model` a day from `from` to `to`, `input`
/// tokens each and no output, but for the days `quiet` gives a count.
fn daily(
    model: &str,
    from: &str,
    to: &str,
    input: u64,
    n: impl Fn(chrono::NaiveDate) -> u32,
) -> String {
    let (from, to) = (
        chrono::NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap(),
        chrono::NaiveDate::parse_from_str(to, "%Y-%m-%d").unwrap(),
    );
    let mut s = String::new();
    for date in from.iter_days().take_while(|d| *d <= to) {
        for j in 0..n(date) {
            s += &serde_json::json!({
                "timestamp": format!("{date}T10:{j:02}:00Z"), "model": model, "feature": "tagger",
                "usage": {"prompt_tokens": input, "completion_tokens": 0}
            })
            .to_string();
            s.push('\n');
        }
    }
    s
}

/// A model whose price doubled on a date (Gemini 3.6 Flash: input $0.75,
/// $1.50 from 2027-01-01): the same 20 calls of 500,000 tokens a day, $7.50
/// then $15.00, are no spikes (hunt182: four, "look at its deploys").
/// After a two-week holiday of one call a day, ordinary weekdays are no
/// spikes either (hunt182: 2.0× a median of holiday and working Mondays).
#[test]
fn a_price_rise_and_the_end_of_a_holiday_are_no_spikes() {
    let env = Env::new();
    env.write(
        "price.jsonl",
        daily(
            "gemini-3.6-flash",
            "2026-12-04",
            "2027-01-14",
            500_000,
            |_| 20,
        ),
    );
    let r = env.audit(&["price.jsonl"]);
    assert!(
        findings(&r, "TA114").is_empty(),
        "{:?}",
        findings(&r, "TA114")
    );
    use chrono::Datelike;
    let holiday = |d: chrono::NaiveDate| {
        let weekend = d.weekday().number_from_monday() >= 6;
        let off = d >= chrono::NaiveDate::from_ymd_opt(2026, 12, 21).unwrap()
            && d <= chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        match (weekend, off) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => 25 + d.day() % 2,
        }
    };
    env.write(
        "holiday.jsonl",
        daily("gpt-4o", "2026-12-01", "2027-01-15", 160_000, holiday),
    );
    let r = env.audit(&["holiday.jsonl"]);
    assert!(
        findings(&r, "TA114").is_empty(),
        "{:?}",
        findings(&r, "TA114")
    );
}
