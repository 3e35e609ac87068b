//! A run's reports are written as a set: when one file of it cannot be
//! written (a full disk, a name taken by a folder), the previous files are
//! left exactly as they were, no temporary file is left behind, and the
//! error is said once.

use std::collections::BTreeMap;
use std::path::Path;

use crate::inputs::{good, stderr};
use crate::util::Env;

/// Every file in `dir` (name, bytes), hidden ones included.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = std::fs::read(e.path()).unwrap_or_else(|_| b"<folder>".to_vec());
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect()
}

/// A first run's reports (one call), then a second input of three calls.
fn first_run(env: &Env) -> BTreeMap<String, Vec<u8>> {
    env.write("one.jsonl", good(1));
    env.write("three.jsonl", good(3));
    env.audit(&["one.jsonl"]);
    let before = snapshot(&env.path("out"));
    assert!(before.contains_key("audit.md") && before.contains_key("audit.html"));
    before
}

/// The disk fills up halfway through the set: with a file size limit
/// (`ulimit -f`) the small Markdown report fits and the larger JSON and
/// HTML ones do not, as on a disk with a few kilobytes left.
#[test]
fn a_disk_that_fills_up_mid_set_leaves_the_previous_set() {
    let env = Env::new();
    let before = first_run(&env);
    let sizes = |name: &str| before[name].len() as u64;
    // In 512-byte blocks (POSIX); what `sh` reads is at most twice that.
    let limit_bytes = sizes("audit.md") + 2048;
    assert!(
        2 * limit_bytes < sizes("audit.html").min(sizes("audit.json")),
        "the reports are too close in size for this test: {:?}",
        before.iter().map(|(k, v)| (k, v.len())).collect::<Vec<_>>()
    );
    let bin = assert_cmd::cargo::cargo_bin("tokenaudit");
    // SIGXFSZ ignored, so a write past the limit fails with EFBIG (as a
    // write to a full disk fails with ENOSPC) instead of killing the process.
    let script = format!(
        "trap '' XFSZ; ulimit -f {}; exec \"$0\" audit three.jsonl --out out --quiet",
        limit_bytes / 512
    );
    let out = std::process::Command::new("sh")
        .current_dir(env.dir.path())
        .args(["-c", &script])
        .arg(&bin)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(snapshot(&env.path("out")), before, "{err}");
    // One line, the OS error once.
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: cannot write out/audit"), "{err}");
    assert_eq!(err.matches("File too large").count(), 1, "{err}");
}

/// A rename that fails (a folder sits at one report's name) after others
/// have been renamed: those get their previous version back.
#[test]
fn a_failed_rename_puts_back_the_files_renamed_before_it() {
    let env = Env::new();
    let mut before = first_run(&env);
    // The last file of the set (CSV tables come before the HTML page).
    let taken = env.path("out/audit.html");
    std::fs::remove_file(&taken).unwrap();
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("keep"), "").unwrap();
    before.insert("audit.html".into(), b"<folder>".to_vec());
    let out = env
        .cmd()
        .args(["audit", "three.jsonl", "--out", "out", "--quiet"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(snapshot(&env.path("out")), before, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot write out/audit.html: "),
        "{err}"
    );
    // Once the folder is gone, the same run writes the new set.
    std::fs::remove_dir_all(&taken).unwrap();
    let r = env.audit(&["three.jsonl"]);
    assert_eq!(r["audit"]["totals"]["calls"], 3);
}

/// A file named as a report file but not written by tokenaudit (a log
/// named `audit.json`, a user's own `audit.md`) is never replaced, and an
/// input folder is not a report folder.
#[test]
fn a_users_file_with_a_report_name_is_never_replaced() {
    let env = Env::new();
    // A folder of logs, one of them named audit.json.
    env.write("logs/audit.json", good(2));
    env.write("logs/more.jsonl", good(1));
    let logs_before = snapshot(&env.path("logs"));
    let out = env
        .cmd()
        .args(["audit", "logs", "--out", "logs", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--out logs is an input folder"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&env.path("logs")), logs_before);
    // An input file as the report folder is said to be one (hunt77: "an
    // input folder", suggesting a folder inside the file).
    let out = env
        .cmd()
        .args([
            "audit",
            "logs/more.jsonl",
            "--out",
            "logs/more.jsonl",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--out logs/more.jsonl is one of the input logs"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&env.path("logs")), logs_before);
    // The same through a glob: logs/*.jsonl into logs/, whose audit.json
    // is the user's: nothing is written.
    let out = env
        .cmd()
        .args(["audit", "logs/more.jsonl", "--out", "logs", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("audit.json is not a tokenaudit report"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&env.path("logs")), logs_before);
    // A user's notes named audit.md in the report folder: kept; a report
    // tokenaudit wrote is replaced as before.
    env.write("out/audit.md", "# Our notes on the audit\n");
    let out = env
        .cmd()
        .args(["audit", "logs/more.jsonl", "--out", "out", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(env.path("out/audit.md")).unwrap(),
        "# Our notes on the audit\n"
    );
    std::fs::remove_file(env.path("out/audit.md")).unwrap();
    env.audit(&["logs/more.jsonl"]);
    env.audit(&["logs/more.jsonl"]);
    assert_eq!(env.report()["audit"]["totals"]["calls"], 1);
}

/// A user's own picture named as a chart is not replaced by a `--format
/// png` run (hunt84: it was, unsaid, though `audit.md` was refused); the
/// charts a run wrote, which say so in a `tEXt` chunk, are replaced by the
/// next one, as are charts of an earlier version (their header is the
/// encoder's own).
#[test]
fn a_users_picture_named_as_a_chart_is_never_replaced() {
    let env = Env::new();
    env.write("calls.jsonl", good(3));
    let png = |dir: &str| {
        env.cmd()
            .args([
                "audit",
                "calls.jsonl",
                "--format",
                "png",
                "--quiet",
                "--out",
                dir,
            ])
            .output()
            .unwrap()
    };
    // Its own charts, with no other report beside them, are replaced.
    let out = png("charts");
    assert!(out.status.success(), "{}", stderr(&out));
    let name = snapshot(&env.path("charts")).into_keys().next().unwrap();
    assert!(name.starts_with("audit-chart-"), "{name}");
    let chart = std::fs::read(env.path("charts").join(&name)).unwrap();
    assert_eq!(&chart[37..49], b"tEXtSoftware");
    let out = png("charts");
    assert!(out.status.success(), "{}", stderr(&out));
    // A chart of an earlier version (no `tEXt` chunk) is replaced when a
    // report of that run is beside it; alone, it is a picture like any
    // user's (hunt85: one saved by Pillow has the same header).
    let mut old = chart[..33].to_vec();
    old.extend_from_slice(&chart[64..]);
    std::fs::write(env.path("charts").join(&name), &old).unwrap();
    let out = png("charts");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(std::fs::read(env.path("charts").join(&name)).unwrap(), old);
    env.write(
        "charts/audit.md",
        "# tokenaudit report\n\nPriced with the tokenaudit catalog 2026-11-01.\n",
    );
    let out = png("charts");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(env.path("charts").join(&name)).unwrap(),
        chart
    );
    // A user's file of that name is kept, and nothing is written.
    env.write(&format!("mine/{name}"), "our own notes, not a picture\n");
    let out = png("mine");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("{name} is not a tokenaudit report")),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&env.path("mine")).len(), 1);
    assert_eq!(
        std::fs::read_to_string(env.path("mine").join(&name)).unwrap(),
        "our own notes, not a picture\n"
    );
}

/// Every file of a full report set (a window, so the change table too, and
/// FOCUS) is recognised as tokenaudit's: a second run into the same folder
/// replaces them all.
#[test]
fn every_report_file_is_recognised_and_replaced_by_the_next_run() {
    let env = Env::new();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out_dir = env.path("out");
    for _ in 0..2 {
        let out = env
            .cmd()
            .arg("audit")
            .arg(repo.join("sample-logs"))
            .arg("--config")
            .arg(repo.join("sample-logs/tokenaudit.toml"))
            .args(["--since", "2026-10-08", "--until", "2026-10-20"])
            .args(["--format", "md,json,html,csv,focus,png", "--quiet", "--out"])
            .arg(&out_dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let names: Vec<String> = snapshot(&out_dir).into_keys().collect();
    assert!(names.contains(&"audit-change.csv".to_string()), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with(".png")), "{names:?}");
}

/// A user's FOCUS export or Parquet log named as tokenaudit's FOCUS files
/// is not replaced, and a glob whose every match lies in the report folder
/// is refused rather than giving a $0 report.
#[test]
fn a_users_focus_files_are_kept_and_inputs_inside_out_are_refused() {
    let env = Env::new();
    env.write("logs/a.jsonl", good(1));
    env.write("out/focus.csv", "BilledCost,Notes\n1.00,ours\n");
    let out = env
        .cmd()
        .args([
            "audit", "logs", "--out", "out", "--format", "focus", "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("focus.csv is not a tokenaudit report"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(env.path("out/focus.csv")).unwrap();
    env.write("out/focus.parquet", b"PAR1 a user's own file".as_slice());
    let out = env
        .cmd()
        .args([
            "audit", "logs", "--out", "out", "--format", "focus", "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("focus.parquet is not a tokenaudit report"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(env.path("out/focus.parquet")).unwrap(),
        b"PAR1 a user's own file"
    );
    // A glob whose matches all lie in the report folder.
    env.write("gl/x.jsonl", good(3));
    let out = env
        .cmd()
        .args([
            "audit",
            "gl/*.jsonl",
            "--out",
            "gl",
            "--format",
            "json",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("every file the inputs match lies in the report folder (--out), where folders and globs are not read (it holds the reports): name the log files themselves"),
        "{}",
        stderr(&out)
    );
    assert!(!env.path("gl/audit.json").exists());
    // Named, the file is read, as the message says (hunt63: the message
    // said the folder was never read).
    let out = env
        .cmd()
        .args([
            "audit",
            "gl/x.jsonl",
            "--out",
            "gl",
            "--format",
            "json",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.path("gl/audit.json")).unwrap()).unwrap();
    assert_eq!(r["audit"]["totals"]["calls"], 3);
}

/// The user and session CSVs keep the 1,000 most expensive keys and one
/// row of the rest, so that they sum to the total: 1,000 sessions of one
/// gpt-4o call of 1,000 in and 200 out ($0.0045) and 5 of 500 in and 100
/// out ($0.00225) are $4.51125 (the CSV said $4.50, with nothing left out
/// said).
#[test]
fn user_and_session_csvs_sum_to_the_total() {
    let env = Env::new();
    let mut log = String::new();
    for i in 0..1005u64 {
        let (input, output) = if i < 1000 { (1000, 200) } else { (500, 100) };
        let extra = serde_json::json!({"session": format!("s{i}"), "user": format!("u{i}")});
        log += &(crate::util::gw_line("2026-10-01T10:00:00Z", "f", "gpt-4o", input, output, extra)
            + "\n");
    }
    env.write("calls.jsonl", log);
    env.cmd()
        .args([
            "audit",
            "calls.jsonl",
            "--format",
            "csv",
            "--out",
            "out",
            "--quiet",
        ])
        .assert()
        .success();
    for (table, key) in [("session", "sessions"), ("user", "users")] {
        let csv = std::fs::read_to_string(env.path(&format!("out/audit-by-{table}.csv"))).unwrap();
        assert_eq!(csv.lines().count(), 1 + 1000 + 1);
        assert_eq!(
            csv.lines().last().unwrap(),
            format!("(5 more {key}),5,5,0,2500,0,0,500,0,0.01125,0.00,0")
        );
        let total: i128 = csv
            .lines()
            .skip(1)
            .map(|l| {
                crate::util::picos(&serde_json::Value::String(
                    l.split(',').nth(9).unwrap().into(),
                ))
            })
            .sum();
        assert_eq!(total, 4_511_250_000_000);
    }
}

/// Calls without a time beside dated ones (an Anthropic response logged
/// bare): the report says how many, and what that leaves out (the daily
/// table held 1 call of 3, unexplained).
#[test]
fn calls_without_a_time_are_said() {
    let env = Env::new();
    let dated = crate::util::gw_line(
        "2026-10-01T10:00:00Z",
        "f",
        "gpt-4o",
        1000,
        100,
        serde_json::json!({}),
    );
    let undated = r#"{"model":"gpt-4o","feature":"f","usage":{"prompt_tokens":1000,"completion_tokens":100}}"#;
    env.write("calls.jsonl", format!("{dated}\n{undated}\n{undated}\n"));
    env.cmd()
        .args([
            "audit",
            "calls.jsonl",
            "--format",
            "md",
            "--out",
            "out",
            "--quiet",
        ])
        .assert()
        .success();
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("**2 calls (66.7%) have no time**: they are in the totals but in no day"),
        "{md}"
    );
}

/// A feature whose calls are all on a model the catalog lacks is
/// "unpriced" in the feature tables, not $0.00; a provider with some such
/// calls shows its priced spend and how many it leaves out.
#[test]
fn unpriced_calls_are_never_a_bare_zero_in_the_tables() {
    let env = Env::new();
    let line = |feature: &str, model: &str| {
        crate::util::gw_line(
            "2026-10-01T10:00:00Z",
            feature,
            model,
            1000,
            100,
            serde_json::json!({"provider": "openai"}),
        ) + "\n"
    };
    env.write(
        "calls.jsonl",
        line("chat", "gpt-4o") + &line("lab", "mystery-9"),
    );
    env.cmd()
        .args([
            "audit",
            "calls.jsonl",
            "--format",
            "md",
            "--out",
            "out",
            "--quiet",
        ])
        .assert()
        .success();
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(md.contains("| lab | 1 | **unpriced** |"), "{md}");
    assert!(
        md.contains("| lab | mystery-9 | 1 | **unpriced** |"),
        "{md}"
    );
    // gpt-4o: 1,000 × $2.50 + 100 × $10 per million = $0.0035.
    assert!(md.contains("| openai | 2 | $0.00 + 1 unpriced |"), "{md}");
}

/// With calls of an unknown model, the average cost is over the priced
/// calls and says so: 3 calls of gpt-4o ($0.0035 each) and one of a model
/// the catalog lacks average $0.0035 per priced call ($0.0026 per call
/// would count the unknown one as free).
#[test]
fn averages_over_priced_calls_say_so() {
    let env = Env::new();
    let line = |model: &str, id: u32| {
        crate::util::gw_line(
            "2026-10-01T08:00:00Z",
            "chat",
            model,
            1000,
            100,
            serde_json::json!({"request_id": format!("r{id}")}),
        ) + "\n"
    };
    // What the audit of a log says on stdout, and its audit.md.
    let audit = |log: &str, out: &str| {
        let run = env
            .cmd()
            .args(["audit", log, "--out", out, "--format", "md"])
            .output()
            .unwrap();
        let md = std::fs::read_to_string(env.path(&format!("{out}/audit.md"))).unwrap();
        (String::from_utf8_lossy(&run.stdout).into_owned(), md)
    };
    let text: String = (0..3).map(|i| line("gpt-4o", i)).collect::<String>() + &line("acme-9b", 9);
    env.write("calls.jsonl", text);
    let (said, md) = audit("calls.jsonl", "out");
    assert!(
        said.starts_with("Spend $0.0105 over 4 calls (4 successful); $0.0035 per priced call, $0.0035 per successful priced call.\nTop features: chat $0.0105 + 1 unpriced\n"),
        "{said}"
    );
    assert!(md.contains("| Cost per priced call | $0.0035 |"), "{md}");
    // No call priced: no average, not $0 (hunt99).
    env.write("unknown.jsonl", line("acme-9b", 1) + &line("acme-9b", 2));
    let (said, md) = audit("unknown.jsonl", "out2");
    assert!(
        said.starts_with("Spend $0.00 over 2 calls (2 successful); – per priced call, – per successful priced call.\n"),
        "{said}"
    );
    assert!(md.contains("| Cost per priced call | – |"), "{md}");
}

/// hunt61: the tag table's CSV kept its top 1,000 tags and dropped the
/// rest without a word, where the user and session tables close with a row
/// of the rest.
#[test]
fn the_tag_csv_closes_with_the_tags_not_listed() {
    let env = Env::new();
    let lines: String = (0..1002)
        .map(|i| {
            format!(
                "{{\"timestamp\":\"2026-10-01T10:00:00Z\",\"model\":\"gpt-4o\",\"tags\":{{\"trace\":\"t{i:04}\"}},\"usage\":{{\"prompt_tokens\":{},\"completion_tokens\":0}}}}\n",
                1000 + i
            )
        })
        .collect();
    env.write("calls.jsonl", lines);
    let r = env.audit(&["calls.jsonl", "--format", "json,csv"]);
    assert_eq!(r["audit"]["tags_distinct"], 1002);
    let csv = std::fs::read_to_string(env.path("out/audit-by-tag.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 1000 + 1, "{}", &csv[..200]);
    // The two cheapest: 1,000 and 1,001 input tokens at $2.50 a million.
    let last = csv.lines().last().unwrap();
    assert!(last.starts_with("(2 more tags),2,"), "{last}");
    assert!(last.contains(",0.0050025,"), "{last}");
}

/// A `=` in a tag's name is escaped in its row's key: `a=b` → `c` and `a`
/// → `b=c` are two tags (hunt76: one row, `a=b=c`, of both calls).
#[test]
fn a_tag_name_with_an_equals_sign_is_its_own_tag() {
    let env = Env::new();
    env.write(
        "t.jsonl",
        [
            r#"{"timestamp":"2026-10-01T10:00:00Z","model":"gpt-4o","tags":{"a=b":"c"},"usage":{"prompt_tokens":1000000,"completion_tokens":0}}"#,
            r#"{"timestamp":"2026-10-01T10:00:00Z","model":"gpt-4o","tags":{"a":"b=c"},"usage":{"prompt_tokens":2000000,"completion_tokens":0}}"#,
            r#"{"timestamp":"2026-10-01T10:00:00Z","model":"gpt-4o","tags":{"a\\b":"c"},"usage":{"prompt_tokens":400000,"completion_tokens":0}}"#,
        ]
        .join("\n")
            + "\n",
    );
    let r = env.audit(&["t.jsonl", "--format", "json"]);
    assert_eq!(r["audit"]["tags_distinct"], 3);
    let rows: Vec<(&str, &str)> = r["audit"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["key"].as_str().unwrap(), t["cost"].as_str().unwrap()))
        .collect();
    // $2.50 a million input tokens.
    assert_eq!(
        rows,
        vec![("a=b=c", "5.00"), (r"a\=b=c", "2.50"), (r"a\\b=c", "1.00")]
    );
}

/// The model, feature × model and failure tables list 15 rows and close
/// with one of the rest (hunt76: 17 models listed as 15, their shares
/// summing under 100%, with nothing said).
#[test]
fn the_model_feature_and_failure_tables_close_with_the_rows_not_listed() {
    let env = Env::new();
    let models: Vec<String> = (0..17)
        .map(|i| {
            format!(
                r#"{{"provider":"acme","id":"acme-{i}","prices":[{{"input":"1","output":"1"}}]}}"#
            )
        })
        .collect();
    env.write(
        "prices.json",
        format!(
            r#"{{"schema":1,"version":"ours-1","models":[{}]}}"#,
            models.join(",")
        ),
    );
    // Call i: model acme-i, feature fi, (i + 1) million input tokens, an
    // HTTP 400 + i failure.
    let lines: String = (0..17)
        .map(|i| {
            format!(
                "{{\"timestamp\":\"2026-10-01T10:00:00Z\",\"model\":\"acme-{i}\",\"provider\":\"acme\",\"feature\":\"f{i}\",\"status\":{},\"usage\":{{\"prompt_tokens\":{},\"completion_tokens\":0}}}}\n",
                400 + i,
                (i + 1) * 1_000_000
            )
        })
        .collect();
    env.write("calls.jsonl", lines);
    env.audit(&[
        "calls.jsonl",
        "--prices",
        "prices.json",
        "--format",
        "json,md",
    ]);
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    // The two cheapest: $1 and $2 of $153, 2 of 17 calls.
    assert!(
        md.contains("| *2 more* | 2 | 11.8% | $3.00 | 2.0% | | |"),
        "{md}"
    );
    assert!(
        md.contains("| *2 more* | | 2 | $3.00 | 2.0% | $1.5000 | 1,500,000 | 0 |"),
        "{md}"
    );
    assert!(md.contains("| *2 more* | 2 | $3.00 |"), "{md}");
}

/// Tables and charts whose rows come from the logs' own variety stay
/// readable (hunt77: 40,000 unknown models were a 40,000-row table, 20,000
/// clean files 20,000 rows, the Pareto set of 600,000 features 347,132
/// names in one finding, its curve two 4 MB SVG attributes). 1,500
/// features on gpt-4o, one call each of 1,000 + i input tokens, in 30
/// files; 30 unknown models of 1 + j calls each.
#[test]
fn tables_and_charts_of_many_models_files_and_groups_stay_readable() {
    let env = Env::new();
    for file in 0..30 {
        let mut text = String::new();
        for k in 0..50 {
            let i = file * 50 + k;
            text += &format!(
                "{{\"timestamp\":\"2026-10-01T10:00:00Z\",\"model\":\"gpt-4o\",\"feature\":\"f{i:04}\",\"usage\":{{\"prompt_tokens\":{},\"completion_tokens\":0}}}}\n",
                1000 + i
            );
        }
        for _ in 0..=file {
            text += &format!(
                "{{\"timestamp\":\"2026-10-01T10:00:00Z\",\"model\":\"mystery-{file:02}\",\"feature\":\"u\",\"usage\":{{\"prompt_tokens\":10,\"completion_tokens\":1}}}}\n"
            );
        }
        env.write(&format!("logs/{file:02}.jsonl"), text);
    }
    let r = env.audit(&["logs", "--format", "json,md,html"]);
    assert_eq!(r["audit"]["unknown_models"].as_array().unwrap().len(), 30);
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    // The 25 most used unknown models (mystery-29 with 30 calls first),
    // then the 5 least: 1 + 2 + 3 + 4 + 5 calls.
    // (Every one of their calls not priced.)
    assert!(
        md.contains("| mystery-29 | – | 30 | 30 | 300 | 30 |"),
        "{md}"
    );
    assert!(md.contains("| *5 more* | | 15 | 15 | 150 | 15 |"), "{md}");
    let unknown = &md[md.find("**Models not in the price catalog**").unwrap()..];
    assert!(!unknown.contains("| mystery-04 |"), "{unknown}");
    // 25 files listed, the other 5 summed: 50 + 26..30 calls each.
    assert!(
        md.contains("| *5 more files* | | | 390 | 390 | 0 |"),
        "{md}"
    );
    // The Pareto set's first 50 groups in the evidence, all counted.
    let ta101 = &crate::util::findings(&r, "TA101")[0]["evidence"];
    assert_eq!(ta101["pareto_set"].as_array().unwrap().len(), 50);
    assert_eq!(ta101["pareto_set"][0], "f1499 × gpt-4o");
    assert!(ta101["pareto_groups"].as_u64().unwrap() > 1_000);
    // The curve of 1,500 groups is drawn with at most 1,000 points or so.
    let html = std::fs::read_to_string(env.path("out/audit.html")).unwrap();
    let at = html.find("chart-pareto").unwrap();
    let svg = &html[at..at + html[at..].find("</svg>").unwrap()];
    let most = svg
        .split("points=\"")
        .skip(1)
        .map(|p| p[..p.find('"').unwrap()].split_whitespace().count())
        .max()
        .unwrap();
    assert!((700..=1_003).contains(&most), "{most} points");
}

/// Users of equal cost (unpriced, all $0) list the most calls first in the
/// report's user table too (hunt81: ten one-call users shown, the 30-call
/// one folded into "more").
#[test]
fn unpriced_users_of_equal_cost_list_the_most_calls_first() {
    let env = Env::new();
    let line = |user: &str| {
        format!(
            "{{\"timestamp\":\"2026-10-01T10:00:00Z\",\"model\":\"mystery-1\",\"user\":\"{user}\",\"usage\":{{\"prompt_tokens\":10,\"completion_tokens\":1}}}}\n"
        )
    };
    let mut text: String = (0..12).map(|i| line(&format!("a{i:02}"))).collect();
    text += &line("zz-busy").repeat(30);
    env.write("calls.jsonl", text);
    let r = env.audit(&["calls.jsonl", "--format", "json"]);
    let users = r["audit"]["by"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dimension"] == "user")
        .unwrap();
    assert_eq!(users["rows"][0]["key"], "zz-busy");
    assert_eq!(users["rows"][0]["calls"], 30);
}

/// A user's FOCUS export saved as `focus.parquet` in a folder holding an
/// earlier report is theirs, not tokenaudit's (hunt148's bug4: replaced,
/// exit 0); tokenaudit's own is replaced on the next run.
#[test]
fn a_users_focus_parquet_beside_a_report_is_kept() {
    use arrow_array::{ArrayRef, Float64Array, StringArray};
    use std::sync::Arc;
    let env = Env::new();
    env.write("logs/a.jsonl", good(1));
    let run = || {
        env.cmd()
            .args([
                "audit", "logs", "--out", "out", "--format", "md,focus", "--quiet",
            ])
            .output()
            .unwrap()
    };
    let out = run();
    assert!(out.status.success(), "{}", stderr(&out));
    // Ours, replaced on the next run.
    let out = run();
    assert!(out.status.success(), "{}", stderr(&out));
    // The user's own export, beside the report.
    crate::inputs::write_parquet(
        &env.path("out/focus.parquet"),
        vec![
            (
                "BilledCost",
                Arc::new(Float64Array::from(vec![1.0])) as ArrayRef,
            ),
            (
                "ServiceName",
                Arc::new(StringArray::from(vec!["Compute"])) as ArrayRef,
            ),
        ],
    );
    let before = std::fs::read(env.path("out/focus.parquet")).unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("focus.parquet is not a tokenaudit report"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(env.path("out/focus.parquet")).unwrap(),
        before
    );
}
