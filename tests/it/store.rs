//! The store: nightly ingest of only what is new, audits from the store equal
//! to audits of the logs, crash and concurrency safety, upkeep, the findings
//! ledger, and other engines reading the dataset.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::util::{gw_line, row, usd, Env};

/// gpt-4o at $2.50 / $10 per million: `prompt` input and `completion`
/// output tokens cost (2.5·prompt + 10·completion) µ$.
fn call(day: u32, hour: u32, feature: &str, prompt: u64, completion: u64, id: &str) -> String {
    gw_line(
        &format!("2026-10-{day:02}T{hour:02}:00:00Z"),
        feature,
        "gpt-4o",
        prompt,
        completion,
        json!({"request_id": id}),
    ) + "\n"
}

pub(crate) fn ingest(env: &Env, args: &[&str]) -> String {
    let out = env
        .cmd()
        .arg("ingest")
        .args(args)
        .args(["--store", "store"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ingest failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The audit part of a report (the run's inputs differ between a store and
/// its logs; everything the audit found must not).
pub(crate) fn audit_of(env: &Env, args: &[&str]) -> Value {
    env.audit(args)["audit"].clone()
}

/// `tokenaudit store check` on `store`: it must pass; its output.
pub(crate) fn store_check(env: &Env) -> String {
    let out = env
        .cmd()
        .args(["store", "check", "--store", "store"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    said
}

/// `tokenaudit store check` on `store`: it must find a problem (exit 2);
/// its stdout and stderr.
fn failed_store_check(env: &Env) -> String {
    let out = env
        .cmd()
        .args(["store", "check", "--store", "store"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub(crate) fn sample_logs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample-logs")
}

#[test]
fn the_audit_of_the_store_is_the_audit_of_the_logs() {
    let env = Env::new();
    // The shipped sample logs: plain, gzip and zstd files, broken lines,
    // every waste rule firing.
    let logs = sample_logs();
    let logs = logs.to_str().unwrap();
    let config = format!("{logs}/tokenaudit.toml");
    let said = ingest(&env, &[logs, "--config", &config]);
    assert!(said.contains("Commit 1: read "), "{said}");
    let raw = audit_of(&env, &[logs, "--config", &config]);
    let stored = audit_of(&env, &["--store", "store", "--config", &config]);
    assert!(raw["findings"].as_array().unwrap().len() >= 16);
    assert_eq!(stored, raw);
    // A window: the store reads only its days, the result is the same.
    let w = ["--since", "2026-10-08", "--until", "2026-10-14"];
    let raw = audit_of(&env, &[&[logs, "--config", &config][..], &w].concat());
    let stored = audit_of(
        &env,
        &[&["--store", "store", "--config", &config][..], &w].concat(),
    );
    assert!(raw["input"]["outside_window"].as_u64().unwrap() > 0);
    assert_eq!(stored, raw);
    // Nothing new: no commit, nothing read.
    let said = ingest(&env, &[logs, "--config", &config]);
    assert!(said.starts_with("Nothing new to ingest."), "{said}");
    assert!(store_check(&env).contains("No problems found."));
}

#[test]
fn three_nights_read_only_what_is_new() {
    let env = Env::new();
    // Night 1: two files.
    let a1 = call(1, 1, "chat", 1000, 100, "a1") + &call(1, 2, "chat", 2000, 200, "a2");
    env.write("logs/a.jsonl", &a1);
    env.write("logs/b.jsonl", call(1, 3, "search", 4000, 0, "b1"));
    let said = ingest(&env, &["logs"]);
    assert!(
        said.contains("read 2 new, 0 grown and 0 changed files"),
        "{said}"
    );
    // (1000+2000+4000)·2.5 + (100+200)·10 µ$ = $0.0205.
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&s["totals"]["cost"]), "0.0205");
    assert_eq!(s, audit_of(&env, &["logs"]));

    // Night 2: a.jsonl grows by a line (and a broken one), c.jsonl is new,
    // b.jsonl is untouched.
    let a2 = a1.clone() + &call(2, 1, "chat", 3000, 300, "a3") + "{broken\n";
    env.write("logs/a.jsonl", &a2);
    env.write("logs/c.jsonl", call(2, 5, "summary", 1000, 1000, "c1"));
    let said = ingest(&env, &["logs"]);
    assert!(
        said.contains("read 1 new, 1 grown and 0 changed files"),
        "{said}"
    );
    assert!(
        said.contains("Skipped 1 file already in the store as it is"),
        "{said}"
    );
    // Only the appended bytes were read: a3 and the broken line.
    let log = commit(&env, 2);
    let a = log["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "logs/a.jsonl")
        .unwrap();
    assert_eq!(a["action"], "grown");
    assert_eq!(a["from_offset"], a1.len());
    assert_eq!(a["first_line"], 3);
    assert_eq!(a["lines"], 4);
    assert_eq!(a["records"], 3);
    assert_eq!(a["rejected"], 1);
    // + 3000·2.5 + 300·10 + 1000·2.5 + 1000·10 µ$ = $0.0205 + $0.023.
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&s["totals"]["cost"]), "0.0435");
    let raw = audit_of(&env, &["logs"]);
    assert_eq!(s, raw);
    // The broken line is reported at its line in the file.
    assert_eq!(s["input"]["rejected_samples"][0]["line"], 4);

    // Night 3: b.jsonl is restated (rewritten with other figures): its old
    // row is replaced, not added to.
    env.write("logs/b.jsonl", call(1, 3, "search", 8000, 10, "b1"));
    let said = ingest(&env, &["logs"]);
    assert!(
        said.contains("read 0 new, 0 grown and 1 changed files"),
        "{said}"
    );
    assert!(said.contains("1 row replaced"), "{said}");
    // And says which, and what a log rotated over would lose (hunt139's
    // bug1: unsaid).
    assert!(
        said.contains("Read 1 file whole again, its text changed")
            && said.contains("ingest its rotated copy too")
            && said.contains("b.jsonl"),
        "{said}"
    );
    // b1 now costs 8000·2.5 + 10·10 = 20,100 µ$ instead of 10,000.
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&s["totals"]["cost"]), "0.0536");
    assert_eq!(s["totals"]["calls"], 5);
    assert_eq!(s, audit_of(&env, &["logs"]));
}

/// Claude Code copies a session's history into a new file when it is
/// resumed; an audit counts each call once across files. Rows stored on an
/// earlier night take part: the store's Claude Code files are read again
/// with a new one, so the store counts what one audit of all of them does,
/// and keeps the copy that audit keeps.
#[test]
fn claude_code_calls_repeated_on_a_later_night_are_counted_once() {
    let env = Env::new();
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats/claude-code");
    let shop = "3a6e1c52-7b1d-4f0e-9c8a-2d5b6e7f8a91";
    let original =
        std::fs::read_to_string(fixture.join(format!("projects/-home-dev-shop/{shop}.jsonl")))
            .unwrap();
    for f in walk(&fixture.join("projects")) {
        let rel = f.strip_prefix(&fixture).unwrap().to_str().unwrap();
        env.write(&format!("agents/{rel}"), std::fs::read(&f).unwrap());
    }
    env.write("gateway/a.jsonl", call(1, 1, "chat", 1000, 100, "a1"));
    let said = ingest(&env, &["agents", "gateway"]);
    assert!(said.contains("read 4 new"), "{said}");
    // The fixture's calls ($0.075948, tests/it/formats.rs) and the gateway
    // call's 1000·2.5 + 100·10 µ$.
    let night1 = audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&night1["totals"]["cost"]), "0.079448");

    // Night 2: the shop session resumed: its history copied into a new
    // file under a new session id, named so that it is read first (the
    // copy an audit keeps).
    let resumed = original.replace(shop, "00000000-resumed");
    env.write("agents/projects/-home-dev-shop/00-resumed.jsonl", &resumed);
    let said = ingest(&env, &["agents", "gateway"]);
    assert!(
        said.contains("read 1 new, 0 grown and 0 changed files"),
        "{said}"
    );
    assert!(
        said.contains("Read 3 Claude Code or Codex files of the store again"),
        "{said}"
    );
    assert!(
        said.contains("Skipped 1 file already in the store as it is"),
        "{said}"
    );
    let stored = audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&stored["totals"]["cost"]), "0.079448");
    assert_eq!(stored["totals"]["calls"], night1["totals"]["calls"]);
    let raw = audit_of(&env, &["agents", "gateway"]);
    assert_eq!(stored, raw);
    // The repeated calls count for the session the audit keeps them in.
    let by = stored["by"].as_array().unwrap();
    let sessions = by.iter().find(|d| d["dimension"] == "session").unwrap();
    let keys: Vec<&str> = sessions["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"00000000-resumed"), "{keys:?}");
    assert!(!keys.contains(&shop), "{keys:?}");

    // Night 3: nothing new, nothing read again.
    let said = ingest(&env, &["agents", "gateway"]);
    assert!(said.starts_with("Nothing new to ingest."), "{said}");

    // Night 4: a session goes on (a line appended): read whole, as agent
    // logs are, and said as such, not as a restated export (hunt183).
    let more = r#"{"parentUuid":"a1-text","isSidechain":false,"userType":"external","cwd":"/home/dev/shop","sessionId":"00000000-resumed","version":"2.0.14","message":{"id":"msg_09Z9","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Done."}],"stop_reason":"end_turn","usage":{"input_tokens":3,"cache_read_input_tokens":1000,"output_tokens":10}},"requestId":"req_09Z9","type":"assistant","uuid":"z9-text","timestamp":"2025-10-01T11:00:00.000Z"}"#;
    env.write(
        "agents/projects/-home-dev-shop/00-resumed.jsonl",
        format!("{resumed}{more}\n"),
    );
    let said = ingest(&env, &["agents", "gateway"]);
    assert!(
        said.contains("Read 1 Claude Code or Codex session file that grew or changed whole again, as agent logs are read"),
        "{said}"
    );
    assert!(!said.contains("restated export"), "{said}");
    assert_eq!(
        audit_of(&env, &["--store", "store"]),
        audit_of(&env, &["agents", "gateway"])
    );
}

/// A forked Codex session and a subagent's begin with a copy of their
/// parent's history; an audit counts those calls once. When the fork comes
/// on a later night than its parent, the store's Codex files are read again
/// with it, so the store counts what one audit of all of them does.
#[test]
fn codex_forks_on_a_later_night_are_counted_once() {
    let env = Env::new();
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats/codex-forks");
    let parents = ["T12-00-00-019a0005", "T13-00-00-019a0016"];
    let files = walk(&fixture);
    let (first, later): (Vec<_>, Vec<_>) = files.iter().partition(|f| {
        let name = f.file_name().unwrap().to_str().unwrap();
        parents.iter().any(|p| name.contains(p))
    });
    assert_eq!((first.len(), later.len()), (2, 4));
    let copy = |f: &PathBuf| {
        let rel = f.strip_prefix(&fixture).unwrap().to_str().unwrap();
        env.write(&format!("codex/{rel}"), std::fs::read(f).unwrap());
    };
    first.iter().for_each(|f| copy(f));
    ingest(&env, &["codex"]);
    // The parents' four calls (tests/it/formats.rs): $0.154 + $0.12075.
    let night1 = audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&night1["totals"]["cost"]), "0.27475");
    assert_eq!(night1["totals"]["calls"], 4);

    later.iter().for_each(|f| copy(f));
    let said = ingest(&env, &["codex"]);
    assert!(said.contains("read 4 new"), "{said}");
    assert!(
        said.contains("Read 2 Claude Code or Codex files of the store again"),
        "{said}"
    );
    // The fork's and the subagent's copies of their parents' calls are not
    // counted again: $0.4375 and 8 calls, as the raw audit.
    let stored = audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&stored["totals"]["cost"]), "0.4375");
    assert_eq!(stored["totals"]["calls"], 8);
    assert_eq!(stored, audit_of(&env, &["codex"]));
}

/// Two Claude Code session files in `agents/p/`, ingested: a holds
/// msg_01A1 (two streamed lines), b the same and then msg_01A2. Returns
/// b's next version, grown by a new message (msg_01A4).
fn two_claude_code_files_ingested(env: &Env) -> String {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(
        "tests/fixtures/formats/claude-code/projects/-home-dev-shop/3a6e1c52-7b1d-4f0e-9c8a-2d5b6e7f8a91.jsonl",
    );
    let text = std::fs::read_to_string(fixture).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let joined = |ls: &[&str]| ls.iter().map(|l| format!("{l}\n")).collect::<String>();
    env.write("agents/p/a.jsonl", joined(&lines[..3]));
    env.write("agents/p/b.jsonl", joined(&lines[..5]));
    ingest(env, &["agents"]);
    let s = audit_of(env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 2);
    let new = lines[4]
        .replace("msg_01A2", "msg_01A4")
        .replace("req_011A2", "req_011A4");
    joined(&lines[..5]) + &new + "\n"
}

/// Claude Code deletes old transcripts: when the files still there are
/// read again, a gone file's stored calls that they repeat are dropped
/// (the copy read now is kept), and its other calls stay.
#[test]
fn a_gone_claude_code_file_keeps_only_the_calls_no_other_file_repeats() {
    let env = Env::new();
    let grown = two_claude_code_files_ingested(&env);
    // a is deleted; b grows by a new message.
    std::fs::remove_file(env.path("agents/p/a.jsonl")).unwrap();
    env.write("agents/p/b.jsonl", grown);
    ingest(&env, &["agents"]);
    let stored = audit_of(&env, &["--store", "store"]);
    let raw = audit_of(&env, &["agents"]);
    assert_eq!(stored["totals"], raw["totals"]);
    assert_eq!(stored["totals"]["calls"], 3);
    let a = stored["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "agents/p/a.jsonl")
        .unwrap()
        .clone();
    assert_eq!(a["records"], 0);
    store_check(&env);
}

/// A Claude Code file of the store that is there but cannot be read (here
/// a folder in its place) when another is read: named on stderr, its rows
/// kept as a gone file's are, and the ingest goes on.
#[test]
fn an_unreadable_claude_code_file_is_named_and_kept_not_an_error() {
    let env = Env::new();
    let grown = two_claude_code_files_ingested(&env);
    std::fs::remove_file(env.path("agents/p/a.jsonl")).unwrap();
    std::fs::create_dir(env.path("agents/p/a.jsonl")).unwrap();
    env.write("agents/p/b.jsonl", grown);
    let out = env
        .cmd()
        .args(["ingest", "agents", "--store", "store", "--quiet"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("could not read 1 file;"), "{err}");
    assert!(err.contains("agents/p/a.jsonl"), "{err}");
    let stored = audit_of(&env, &["--store", "store"]);
    assert_eq!(stored["totals"]["calls"], 3);
    store_check(&env);
}

/// A `.gz` cut short (a partial download, a file still being written) is
/// one truncated file, as for an audit, not a failed ingest: the night's
/// other files are ingested, and once the file is whole it is read.
#[test]
fn a_gzip_cut_short_is_a_rejected_line_not_a_failed_ingest() {
    use std::io::Write;
    let env = Env::new();
    env.write(
        "logs/good.jsonl",
        call(1, 9, "chat", 1000, 100, "r1") + &call(1, 10, "chat", 2000, 0, "r2"),
    );
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(call(2, 9, "chat", 4000, 0, "r3").as_bytes())
        .unwrap();
    let whole = e.finish().unwrap();
    std::fs::write(env.path("logs/cut.jsonl.gz"), &whole[..8]).unwrap();
    let said = ingest(&env, &["logs"]);
    assert!(said.contains("1 line rejected"), "{said}");
    // 1,000 × $2.50/M + 100 × $10/M + 2,000 × $2.50/M = $0.0085.
    let stored = audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&stored["totals"]["cost"]), "0.0085");
    assert_eq!(stored["input"]["rejected_by_reason"]["truncated_file"], 1);
    // Whole the next night: its call is read (4,000 × $2.50/M = $0.01).
    std::fs::write(env.path("logs/cut.jsonl.gz"), &whole).unwrap();
    ingest(&env, &["logs"]);
    let stored = audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&stored["totals"]["cost"]), "0.0185");
    assert_eq!(stored["totals"]["calls"], 3);
    assert_eq!(stored["input"]["rejected"], 0);
    store_check(&env);
}

/// `tokenaudit ingest - --store DIR`, with `bytes` on stdin.
fn ingest_stdin(env: &Env, bytes: &str, args: &[&str]) -> String {
    let out = env
        .cmd()
        .args(["ingest", "-", "--store", "store"])
        .args(args)
        .write_stdin(bytes)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Stdin is known by its content, or by --stdin-name: the same bytes piped
/// twice count once, and a restated export piped under its name replaces
/// its rows.
#[test]
fn stdin_is_known_by_its_content_or_its_name() {
    let env = Env::new();
    let a = call(1, 1, "chat", 1000, 100, "a1") + &call(1, 2, "chat", 2000, 200, "a2");
    let said = ingest_stdin(&env, &a, &[]);
    assert!(said.contains("read 1 new"), "{said}");
    let said = ingest_stdin(&env, &a, &[]);
    assert!(said.starts_with("Nothing new to ingest."), "{said}");
    // (1000+2000)·2.5 + (100+200)·10 µ$.
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&s["totals"]["cost"]), "0.0105");

    let day2 = call(2, 1, "chat", 4000, 0, "b1");
    let said = ingest_stdin(&env, &day2, &["--stdin-name", "2026-10-02"]);
    assert!(said.contains("read 1 new"), "{said}");
    // Restated: b1 is now 8000 tokens; its row is replaced, not added to.
    let restated = call(2, 1, "chat", 8000, 0, "b1");
    let said = ingest_stdin(&env, &restated, &["--stdin-name", "2026-10-02"]);
    assert!(said.contains("read 0 new, 0 grown and 1 changed"), "{said}");
    assert!(said.contains("1 row replaced"), "{said}");
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 3);
    assert_eq!(usd(&s["totals"]["cost"]), "0.0305");
    let files: Vec<&str> = s["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["<stdin:2026-10-02>", "<stdin>"]);
    // hunt56: a correction of the same width in the middle of a long
    // export (beyond the 64 KiB at each end): its whole text tells it.
    let day3 = |tokens: u64| -> String {
        (0..1000)
            .map(|i| {
                let t = if i == 500 { tokens } else { 1000 };
                call(3, 1, "chat", t, 0, &format!("c{i:04}"))
            })
            .collect()
    };
    let said = ingest_stdin(&env, &day3(1000), &["--stdin-name", "2026-10-03"]);
    assert!(said.contains("read 1 new"), "{said}");
    let said = ingest_stdin(&env, &day3(9000), &["--stdin-name", "2026-10-03"]);
    assert!(said.contains("1 changed"), "{said}");
    // 1,000 calls of 1,000 tokens at $2.50/M, one of them now 9,000.
    let s = audit_of(&env, &["--store", "store", "--since", "2026-10-03"]);
    assert_eq!(usd(&s["totals"]["cost"]), "2.52");
}

/// A stored source read again whole that is now empty (a night whose
/// `aws s3 cp … - |` failed) keeps its stored calls, said, and `--strict`
/// fails; one cut short while read replaces them, said even with --quiet
/// (hunt185: 3,000 calls emptied, exit 0 under --strict, nothing said).
#[test]
fn an_emptied_or_cut_stdin_does_not_silently_replace_its_calls() {
    use std::io::Write;
    let env = Env::new();
    let night: String = (0..200)
        .map(|i| call(2, 1, "chat", 1000, 0, &format!("n{i:03}")))
        .collect();
    ingest_stdin(&env, &night, &["--stdin-name", "2026-10-02"]);
    let stored = |env: &Env| audit_of(env, &["--store", "store"])["totals"]["calls"].clone();
    // `ingest -` of the night's export under its name, with `flag`.
    let piped = |flag: &str, bytes: Vec<u8>| {
        env.cmd()
            .args([
                "ingest",
                "-",
                "--store",
                "store",
                "--stdin-name",
                "2026-10-02",
                flag,
            ])
            .write_stdin(bytes)
            .output()
            .unwrap()
    };
    assert_eq!(stored(&env), 200);
    let out = piped("-q", Vec::new());
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("store: kept the stored calls of 1 file: it is now empty, which is taken for a failed copy"),
        "{err}"
    );
    assert_eq!(stored(&env), 200);
    let out = piped("--strict", Vec::new());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--strict: 1 input has stored calls of its own and is now empty"),
        "{err}"
    );
    assert_eq!(stored(&env), 200);
    // Cut short: gzip's first half.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(night.as_bytes()).unwrap();
    let gz = e.finish().unwrap();
    let out = piped("-q", gz[..gz.len() / 2].to_vec());
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: store: <stdin:2026-10-02> was cut short while read (a copy that failed half-way?): its 200 stored calls were replaced by the"),
        "{err}"
    );
    // Whole again the next night.
    let out = piped("-q", gz);
    assert!(out.status.success());
    assert_eq!(stored(&env), 200);
    store_check(&env);

    // A log emptied in place by logrotate (`copytruncate` with
    // `compress`): its calls are in the rotated copy, counted once
    // (hunt186: kept, they were counted twice). An export emptied with no
    // copy of its text: its calls leave the store, said.
    let day: String = (0..20)
        .map(|i| call(3, 1, "chat", 1000, 0, &format!("l{i:02}")))
        .collect();
    env.write("logs/app.jsonl", &day);
    env.write("logs/export.jsonl", call(4, 1, "chat", 1000, 0, "e1"));
    ingest(&env, &["logs"]);
    assert_eq!(stored(&env), 221);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(day.as_bytes()).unwrap();
    std::fs::write(env.path("logs/app.jsonl.1.gz"), e.finish().unwrap()).unwrap();
    env.write("logs/app.jsonl", "");
    env.write("logs/export.jsonl", "");
    let out = env
        .cmd()
        .args(["ingest", "logs", "--store", "store", "-q"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: store: 1 file is now empty, and its calls left the store")
            && err.contains("export.jsonl (1 call)"),
        "{err}"
    );
    assert!(!err.contains("app.jsonl ("), "{err}");
    assert_eq!(stored(&env), 220);
    store_check(&env);
}

/// A pipe given by its path (`… | tokenaudit ingest /dev/stdin`) is read
/// as stdin is: spooled, known by its content (hunt78: "Illegal seek",
/// nothing ingested, exit 0).
#[cfg(target_os = "linux")]
#[test]
fn a_pipe_given_by_its_path_is_ingested_as_stdin() {
    let env = Env::new();
    let a = call(1, 1, "chat", 1000, 100, "a1") + &call(1, 2, "chat", 2000, 200, "a2");
    let out = env
        .cmd()
        .args(["ingest", "/dev/stdin", "--store", "store"])
        .write_stdin(a.clone())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("read 1 new"),
        "{said}"
    );
    // (1000+2000)·2.5 + (100+200)·10 µ$.
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&s["totals"]["cost"]), "0.0105");
    // The same bytes again, by `-`: known by their content.
    let said = ingest_stdin(&env, &a, &[]);
    assert!(said.starts_with("Nothing new to ingest."), "{said}");
}

/// Two pipes of one ingest with the same bytes are one input; two under
/// one `--stdin-name` are refused (hunt81: both ingested under one entry,
/// their rows counted twice, `store check` failing).
#[cfg(target_os = "linux")]
#[test]
fn two_pipes_of_one_ingest_are_not_counted_twice() {
    let env = Env::new();
    env.write(
        "a.jsonl",
        call(1, 1, "chat", 1000, 100, "a1") + &call(1, 2, "chat", 2000, 200, "a2"),
    );
    env.write("b.jsonl", call(1, 3, "chat", 4000, 0, "b1"));
    let bin = assert_cmd::cargo::cargo_bin("tokenaudit");
    let sh = |args: &str| {
        std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("{} {args}", bin.display()))
            .current_dir(env.dir.path())
            .output()
            .unwrap()
    };
    let out = sh("ingest <(cat a.jsonl) <(cat a.jsonl) --store store --quiet");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = audit_of(&env, &["--store", "store"]);
    // Once: (1000+2000)·2.5 + (100+200)·10 µ$.
    assert_eq!(s["totals"]["calls"], 2);
    assert_eq!(usd(&s["totals"]["cost"]), "0.0105");
    let out = sh("ingest <(cat a.jsonl) <(cat b.jsonl) --store store --stdin-name x --quiet");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("two piped inputs of this ingest"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A UTF-16 file that grows is read again whole (its appended bytes are no
/// UTF-8 lines to resume from).
#[test]
fn a_growing_utf16_file_is_read_again_whole() {
    let utf16 = |text: &str| -> Vec<u8> {
        let mut out = vec![0xff, 0xfe];
        for u in text.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out
    };
    let env = Env::new();
    let a1 = call(1, 1, "chat", 1000, 100, "a1");
    env.write("logs/a.jsonl", utf16(&a1));
    ingest(&env, &["logs"]);
    let a2 = a1 + &call(2, 1, "chat", 2000, 100, "a2");
    env.write("logs/a.jsonl", utf16(&a2));
    let said = ingest(&env, &["logs"]);
    assert!(said.contains("read 0 new, 0 grown and 1 changed"), "{said}");
    // 3000·2.5 + 200·10 µ$.
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&s["totals"]["cost"]), "0.0095");
    assert_eq!(s["input"]["files"][0]["format"], "gateway (UTF-16)");
    assert_eq!(s, audit_of(&env, &["logs"]));
}

/// The rest of a grown file is read as what its start was, even when its
/// first appended lines alone would not tell the format: each is counted
/// at its line, as an audit of the whole file counts it.
#[test]
fn the_rest_of_a_grown_file_is_read_as_its_start_was() {
    let env = Env::new();
    let a1 = call(1, 1, "chat", 1000, 100, "a1");
    env.write("logs/a.jsonl", &a1);
    ingest(&env, &["logs"]);
    // Night 2: two lines with a model and no usage (no format can be told
    // from them alone), then night 3 a call.
    let a2 = a1 + "{\"model\":\"gpt-4o\",\"feature\":\"chat\"}\n{\"model\":\"gpt-4o\"}\n";
    env.write("logs/a.jsonl", &a2);
    let said = ingest(&env, &["logs"]);
    assert!(said.contains("1 grown"), "{said}");
    let a3 = a2 + &call(3, 1, "chat", 2000, 100, "a3");
    env.write("logs/a.jsonl", &a3);
    ingest(&env, &["logs"]);
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["input"]["rejected"], 2);
    let lines: Vec<u64> = s["input"]["rejected_samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3]);
    assert_eq!(s, audit_of(&env, &["logs"]));
}

/// hunt56: a file empty when first ingested (a rotated OpenTelemetry
/// file, say) is a gateway log only by default; when spans come, they are
/// read as spans, from the start, as the audit of the file reads them.
#[test]
fn a_file_first_seen_empty_is_detected_when_lines_come() {
    let env = Env::new();
    env.write("logs/traces.jsonl", "");
    env.write("logs/a.jsonl", call(1, 1, "chat", 1000, 100, "a1"));
    ingest(&env, &["logs"]);
    let spans = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/formats/otlp-json/traces.jsonl"
    ))
    .unwrap();
    env.write("logs/traces.jsonl", &spans);
    ingest(&env, &["logs"]);
    let s = audit_of(&env, &["--store", "store"]);
    let raw = audit_of(&env, &["logs"]);
    assert_eq!(s["totals"], raw["totals"]);
    assert_eq!(s["input"]["rejected"], 0, "{}", s["input"]);
    assert_eq!(s, raw);
    // hunt58: a Kong log whose first night holds only an auth plugin's 401
    // (no record) is read as Kong when its AI calls come.
    let kong = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/formats/kong/kong-file-log.jsonl"
    ))
    .unwrap();
    let (first, rest) = kong.split_once('\n').unwrap();
    env.write("logs/kong.jsonl", format!("{first}\n"));
    ingest(&env, &["logs"]);
    env.write("logs/kong.jsonl", format!("{first}\n{rest}"));
    ingest(&env, &["logs"]);
    assert_eq!(
        audit_of(&env, &["--store", "store"]),
        audit_of(&env, &["logs"])
    );
}

/// hunt56: a restated export of the same size, its correction in the
/// middle (beyond the 64 KiB at each end), was "already in the store". The
/// whole text's digest, kept for a file read whole, tells it: its rows are
/// replaced. A grown file is read from its end, as before.
#[test]
fn a_restatement_in_the_middle_of_a_file_replaces_its_rows() {
    let env = Env::new();
    let day = |d: u32, tokens: u64| -> String {
        (0..1000)
            .map(|i| {
                let t = if i == 500 { tokens } else { 1000 };
                call(d, 1 + i % 20, "chat", t, 0, &format!("d{d}-{i:04}"))
            })
            .collect()
    };
    env.write("logs/a.jsonl", day(1, 1000));
    ingest(&env, &["logs"]);
    // The same size: one call's 1,000 input tokens are 9,000.
    env.write("logs/a.jsonl", day(1, 9000));
    let said = ingest(&env, &["logs"]);
    assert!(said.contains("1 changed"), "{said}");
    let s = audit_of(&env, &["--store", "store"]);
    // 999 × 1,000 + 9,000 input tokens at $2.50/M.
    assert_eq!(usd(&s["totals"]["cost"]), "2.52");
    assert_eq!(s, audit_of(&env, &["logs"]));
    // Appended to: grown, read from its end (its earlier text is not read
    // again: a correction before an append is not seen, as documented).
    env.write("logs/a.jsonl", day(1, 9000) + &day(2, 1000));
    let said = ingest(&env, &["logs"]);
    assert!(said.contains("1 grown"), "{said}");
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 2000);
    assert_eq!(s, audit_of(&env, &["logs"]));
    // hunt59: renamed and corrected at the same size (both read whole): not
    // the same text moved; read whole under its new name, the old rows
    // replaced.
    env.write("logs/b.jsonl", day(3, 1000));
    ingest(&env, &["logs"]);
    std::fs::remove_file(env.path("logs/b.jsonl")).unwrap();
    env.write("logs/b-restated.jsonl", day(3, 9000));
    ingest(&env, &["logs"]);
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 3000);
    assert_eq!(s["totals"], audit_of(&env, &["logs"])["totals"]);
    // The ingest digests a plain file as it reads it: so too one with a
    // byte-order mark (digested mark and all), and one read through an
    // adapter (a JSON array, digested below it as it is read).
    type Text<'a> = &'a dyn Fn(u32, u64) -> String;
    let array =
        |d: u32, tokens: u64| format!("[{}]", day(d, tokens).trim_end().replace('\n', ",\n"));
    let marked = |d: u32, tokens: u64| format!("\u{feff}{}", day(d, tokens));
    let files: [(&str, Text<'_>, u32); 2] =
        [("logs/c.json", &array, 4), ("logs/d.jsonl", &marked, 5)];
    for (i, (name, text, d)) in files.into_iter().enumerate() {
        env.write(name, text(d, 1000));
        ingest(&env, &["logs"]);
        // Written again as it was (a new time, the same bytes): the digest
        // kept is the file's, so nothing is read again.
        std::thread::sleep(std::time::Duration::from_millis(20));
        env.write(name, text(d, 1000));
        let said = ingest(&env, &["logs"]);
        assert!(said.starts_with("Nothing new to ingest."), "{name}: {said}");
        env.write(name, text(d, 9000));
        let said = ingest(&env, &["logs"]);
        assert!(said.contains("1 changed"), "{name}: {said}");
        let s = audit_of(&env, &["--store", "store"]);
        assert_eq!(s["totals"]["calls"], 4000 + 1000 * i);
        assert_eq!(s["totals"], audit_of(&env, &["logs"])["totals"], "{name}");
    }
}

/// A store kept inside the folder it ingests is not read as logs.
#[test]
fn a_store_inside_its_input_folder_is_not_read_as_logs() {
    let env = Env::new();
    env.write("logs/a.jsonl", call(1, 1, "chat", 1000, 100, "a1"));
    for _ in 0..2 {
        let out = env
            .cmd()
            .args(["ingest", "logs", "--store", "logs/store"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let s = audit_of(&env, &["--store", "logs/store"]);
    assert_eq!(s["totals"]["calls"], 1);
    assert_eq!(s["input"]["files"].as_array().unwrap().len(), 1);
}

fn commit(env: &Env, n: u64) -> Value {
    let text = std::fs::read_to_string(env.path(&format!("store/_commits/{n:020}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Writes `n` files of calls into `dir`.
fn many_files(env: &Env, dir: &str, n: u32) {
    for i in 0..n {
        let mut text = String::new();
        for j in 0..20 {
            text += &call(
                1 + (i % 28),
                j % 24,
                "f",
                100 + u64::from(i),
                10,
                &format!("{i}-{j}"),
            );
        }
        env.write(&format!("{dir}/f{i:03}.jsonl"), text);
    }
}

/// `tokenaudit ARGS` started, and waited for until it stands at the fault
/// point `step` (`TOKENAUDIT_FAULT=step:wait`); the returned call lets it
/// go on.
fn waiting_at<'e>(
    env: &'e Env,
    args: &[&str],
    step: &str,
) -> (std::process::Child, impl Fn() + 'e) {
    let flag = env.path("go");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tokenaudit"))
        .current_dir(env.dir.path())
        .args(args)
        .env("TOKENAUDIT_FAULT", format!("{step}:wait"))
        .env("TOKENAUDIT_FAULT_FLAG", &flag)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let reached = env.path("go.reached");
    for _ in 0..3000 {
        if reached.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(reached.exists(), "{args:?} never reached {step}");
    (child, move || std::fs::write(env.path("go"), "").unwrap())
}

/// hunt56: `store prune` racing the nightly ingest of a grown file put the
/// file's entry back as it was before the append, so the next ingest read
/// the appended day again (counted twice, and `store check` failed). The
/// prune waits before its claim while the ingest commits: it gives up,
/// says to run it again, and the store stays whole.
#[test]
fn a_prune_racing_an_ingest_puts_back_no_stale_entry() {
    let env = Env::new();
    let days: String = (1..=4)
        .map(|d| call(d, 1, "chat", 1000, 100, &format!("a{d}")))
        .collect();
    env.write("logs/app.jsonl", &days);
    ingest(&env, &["logs"]);
    let (prune, go) = waiting_at(
        &env,
        &[
            "store",
            "prune",
            "--before",
            "2026-10-02",
            "--store",
            "store",
        ],
        "rewrite-before-claim",
    );
    // The nightly: one more day appended and ingested, while the prune waits.
    env.write(
        "logs/app.jsonl",
        days + &call(5, 1, "chat", 1000, 100, "a5"),
    );
    ingest(&env, &["logs"]);
    go();
    let out = prune.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("run it again"), "{err}");
    store_check(&env);
    let said = ingest(&env, &["logs"]);
    assert!(said.starts_with("Nothing new to ingest."), "{said}");
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 5);
}

/// hunt162: a prune committed while a nightly ingest stood between its
/// reading and its claim: the ingest's rows before the prune's day came
/// back (a late file's), and a grown file the prune had touched was taken
/// for "committed by another ingest", its new day dropped. The ingest
/// plans again under the prune.
#[test]
fn an_ingest_racing_a_prune_keeps_the_pruned_days_out_and_its_rows_in() {
    let env = Env::new();
    let two: String = (1..=2)
        .map(|d| call(d, 1, "chat", 1000, 100, &format!("a{d}")))
        .collect();
    env.write("logs/app.jsonl", &two);
    ingest(&env, &["logs"]);
    // The night: app.jsonl grows by a day 1 call and a day 3 call, a late
    // file brings calls of days 1 and 3.
    env.write(
        "logs/app.jsonl",
        two + &call(1, 2, "chat", 1000, 100, "a1b") + &call(3, 1, "chat", 1000, 100, "a3"),
    );
    env.write(
        "logs/late.jsonl",
        call(1, 3, "chat", 1000, 100, "l1") + &call(3, 2, "chat", 1000, 100, "l3"),
    );
    let (nightly, go) = waiting_at(
        &env,
        &["ingest", "logs", "--store", "store"],
        "before-claim",
    );
    env.ok(&[
        "store",
        "prune",
        "--before",
        "2026-10-02",
        "--store",
        "store",
        "--force",
    ]);
    go();
    let out = nightly.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("committed by another ingest"), "{err}");
    store_check(&env);
    // Day 2's call and the two of day 3; nothing of day 1.
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 3, "{err}");
    let days = days_of(&s);
    assert_eq!(days, ["2026-10-02", "2026-10-03"]);
}

/// hunt165: a prune that stood before its claim while a late file's
/// ingest committed rows of a day it prunes put them in a store it then
/// said was pruned (and `store check` passed). It gives up, says to run it
/// again, and the run again prunes them.
#[test]
fn a_prune_racing_an_ingest_of_earlier_days_prunes_them_or_gives_up() {
    let env = Env::new();
    env.write(
        "logs/app.jsonl",
        call(1, 1, "chat", 1000, 100, "a1") + &call(2, 1, "chat", 1000, 100, "a2"),
    );
    ingest(&env, &["logs"]);
    let prune = [
        "store",
        "prune",
        "--before",
        "2026-10-02",
        "--store",
        "store",
        "--force",
    ];
    let (pruning, go) = waiting_at(&env, &prune, "rewrite-before-claim");
    env.write(
        "logs/late.jsonl",
        call(1, 3, "chat", 1000, 100, "l1") + &call(3, 2, "chat", 1000, 100, "l3"),
    );
    ingest(&env, &["logs"]);
    go();
    let out = pruning.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("run it again"), "{err}");
    env.ok(&prune);
    store_check(&env);
    let s = audit_of(&env, &["--store", "store"]);
    let days = days_of(&s);
    assert_eq!(days, ["2026-10-02", "2026-10-03"]);
    assert_eq!(s["totals"]["calls"], 2);
}

/// The days of an audit's daily table.
fn days_of(audit: &Value) -> Vec<&str> {
    audit["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["day"].as_str().unwrap())
        .collect()
}

/// Three days of calls of `file` (`file1`…`file3`), `out` output tokens each.
fn three_days(file: &str, out: u64) -> String {
    (1..=3)
        .map(|d| call(d, 1, "chat", 1000, out, &format!("{file}{d}")))
        .collect()
}

/// `logs/a.jsonl` and `logs/b.jsonl` (three days each) ingested apart: two
/// parts a day, for a compaction.
fn two_parts_a_day(env: &Env, a_out: u64, b_out: u64) {
    env.write("logs/a.jsonl", three_days("a", a_out));
    ingest(env, &["logs"]);
    env.write("logs/b.jsonl", three_days("b", b_out));
    ingest(env, &["logs"]);
}

/// An ingest and a compaction at once, each losing in turn (hunt71: the
/// loser failed with `No such file or directory` on a part the winner
/// removed, 5 to 7 times in 10, and the nightly stopped there). The ingest
/// that finds a part it meant to rewrite merged away plans again on top of
/// the compaction; the compaction that finds its parts rewritten compacts
/// again on top of the ingest.
#[test]
fn an_ingest_and_a_compaction_at_once_both_finish() {
    let env = Env::new();
    let days = three_days;
    two_parts_a_day(&env, 100, 100);
    // a.jsonl restated, the same size: its parts are rewritten.
    env.write("logs/a.jsonl", days("a", 101));
    let (nightly, go) = waiting_at(
        &env,
        &["ingest", "logs", "--store", "store"],
        "parts-written",
    );
    let out = env
        .cmd()
        .args(["store", "compact", "--store", "store"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    go();
    let out = nightly.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    store_check(&env);
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 6);
    assert_eq!(s["totals"], audit_of(&env, &["logs"])["totals"]);

    // The other way: the compaction waits before its claim while the
    // restatement commits.
    env.write("logs/b.jsonl", days("b", 102));
    let (compact, go) = waiting_at(
        &env,
        &["store", "compact", "--store", "store"],
        "rewrite-before-claim",
    );
    ingest(&env, &["logs"]);
    go();
    let out = compact.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    store_check(&env);
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"], audit_of(&env, &["logs"])["totals"]);
}

/// An audit of the store with a compaction committing beside it (hunt110:
/// the nightly audit failed, "the part was removed while this command read
/// the store", 1 run in 6): it reads the store again as it is now, and
/// gives the audit of the logs.
#[test]
fn an_audit_racing_a_compaction_reads_the_store_again() {
    let env = Env::new();
    two_parts_a_day(&env, 100, 200);
    let (audit, go) = waiting_at(
        &env,
        &["audit", "--store", "store", "--out", "out", "--quiet"],
        "audit-planned",
    );
    assert!(env
        .ok(&["store", "compact", "--store", "store"])
        .contains("6 parts merged into 3"));
    go();
    let out = audit.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(err, "");
    let s: Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("out/audit.json")).unwrap())
            .unwrap();
    let s = &s["audit"];
    assert_eq!(s["totals"]["calls"], 6);
    assert_eq!(s["totals"], audit_of(&env, &["logs"])["totals"]);

    // A part gone with no commit since is a damaged store, not a race.
    let part = walk(&env.path("store/calls/day=2026-10-02"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    for flag in ["go", "go.reached"] {
        std::fs::remove_file(env.path(flag)).unwrap();
    }
    let (audit, go) = waiting_at(
        &env,
        &["audit", "--store", "store", "--out", "out2", "--quiet"],
        "audit-planned",
    );
    std::fs::remove_file(&part).unwrap();
    go();
    let out = audit.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("a committed part is missing; run `tokenaudit store check"),
        "{err}"
    );
}

/// hunt56: two ingests at once on a rotation night (`app.jsonl` moved to
/// `app.jsonl.1`, a new `app.jsonl`): the one that lost the commit race
/// re-keyed the winner's fresh `app.jsonl` rows to `app.jsonl.1`, from the
/// move it had planned before (`store check` failed, and a later
/// restatement of `app.jsonl` left its old rows). The loser keeps the
/// winner's rows as they are.
#[test]
fn a_rotation_raced_by_two_ingests_keys_each_file_once() {
    let env = Env::new();
    let calls = |day: u32, tag: &str, n: u32| -> String {
        (0..n)
            .map(|i| {
                call(
                    day,
                    1 + i % 20,
                    "chat",
                    1000 + u64::from(i),
                    100,
                    &format!("{tag}{i}"),
                )
            })
            .collect()
    };
    env.write("logs/app.jsonl", calls(1, "a", 20));
    ingest(&env, &["logs"]);
    std::fs::rename(env.path("logs/app.jsonl"), env.path("logs/app.jsonl.1")).unwrap();
    env.write("logs/app.jsonl", calls(2, "b", 20));
    env.write("other/h.jsonl", calls(2, "h", 5));
    let (loser, go) = waiting_at(
        &env,
        &["ingest", "logs", "other", "--store", "store", "--quiet"],
        "before-claim",
    );
    ingest(&env, &["logs"]);
    go();
    let out = loser.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    store_check(&env);
    let s = audit_of(&env, &["--store", "store"]);
    let raw = audit_of(&env, &["logs", "other"]);
    assert_eq!(s["totals"], raw["totals"]);
    assert_eq!(s["totals"]["calls"], 45);
}

/// hunt59: a prune committed while the nightly ingest of a rotation
/// (`app.log` to `app.log.1`, a new `app.log`) waited to claim its commit:
/// the ingest's planned move is stale, and it plans again on top of the
/// prune: the store holds what an audit of the logs from the prune date
/// gives, and `store check` passes.
#[test]
fn a_rotation_ingested_across_a_prune_plans_again() {
    let env = Env::new();
    let days = |from: u32, to: u32| -> String {
        (from..=to)
            .flat_map(|d| {
                (0..5).map(move |i| call(d, 1 + i, "chat", 1000, 100, &format!("a{d}-{i}")))
            })
            .collect()
    };
    env.write("logs/app.log.jsonl", days(1, 4));
    ingest(&env, &["logs"]);
    std::fs::rename(
        env.path("logs/app.log.jsonl"),
        env.path("logs/app.log.jsonl.1"),
    )
    .unwrap();
    env.write("logs/app.log.jsonl", days(5, 6));
    let (nightly, go) = waiting_at(
        &env,
        &["ingest", "logs", "--store", "store"],
        "before-claim",
    );
    env.ok(&[
        "store",
        "prune",
        "--before",
        "2026-10-03",
        "--store",
        "store",
    ]);
    go();
    let out = nightly.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    store_check(&env);
    let s = audit_of(&env, &["--store", "store"]);
    let raw = audit_of(&env, &["logs", "--since", "2026-10-03"]);
    assert_eq!(s["totals"]["calls"], raw["totals"]["calls"]);
    assert_eq!(s["totals"]["calls"], 20);
}

#[test]
fn concurrent_ingests_and_shards_count_every_file_once() {
    let env = Env::new();
    many_files(&env, "logs", 24);
    // Three shards at once, and a fourth ingest of everything racing them.
    let spawn = |args: &[&str]| {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("tokenaudit"))
            .current_dir(env.dir.path())
            .arg("ingest")
            .arg("logs")
            .args(["--store", "store", "--quiet", "--threads", "1"])
            .args(args)
            .spawn()
            .unwrap()
    };
    let mut children = vec![
        spawn(&["--shard", "1/3"]),
        spawn(&["--shard", "2/3"]),
        spawn(&["--shard", "3/3"]),
        spawn(&[]),
    ];
    for c in &mut children {
        assert!(c.wait().unwrap().success());
    }
    let s = audit_of(&env, &["--store", "store"]);
    // 24 files × 20 calls, each counted once.
    assert_eq!(s["totals"]["calls"], 480);
    assert_eq!(s, audit_of(&env, &["logs"]));
    store_check(&env);
}

/// Killed (`kill -9`) or failing (a full disk, an I/O error) at each step
/// of a commit: the store is as before or as after, and the next command
/// that opens it finishes what was claimed.
#[test]
fn a_killed_ingest_leaves_the_store_as_before_or_after_never_between() {
    let steps = [
        "parts-written",
        "before-claim",
        "claimed",
        "renamed-one",
        "renamed-all",
        "removed",
    ];
    for (step, fault) in steps
        .iter()
        .flat_map(|s| [(*s, s.to_string()), (*s, format!("{s}:enospc"))])
    {
        let env = Env::new();
        env.write("logs/a.jsonl", call(1, 1, "chat", 1000, 100, "a1"));
        env.write("logs/b.jsonl", call(2, 1, "chat", 2000, 100, "b1"));
        ingest(&env, &["logs"]);
        let before = audit_of(&env, &["--store", "store"]);
        // Night 2: a new file and a restated one, killed at `step`.
        env.write("logs/c.jsonl", call(3, 1, "chat", 3000, 100, "c1"));
        env.write("logs/b.jsonl", call(2, 1, "chat", 5000, 100, "b1"));
        let out = env
            .cmd()
            .args(["ingest", "logs", "--store", "store", "--quiet"])
            .env("TOKENAUDIT_FAULT", &fault)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{fault}: the fault did not fire");
        let claimed = !matches!(step, "parts-written" | "before-claim");
        // hunt56: a full disk after the claim says the data is in the
        // store, and how it is finished.
        if claimed && fault.ends_with(":enospc") && step != "removed" {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains("is made (its data is in the store)"),
                "{fault}: {err}"
            );
        }
        // The next command that opens the store completes or undoes it.
        store_check(&env);
        let now = audit_of(&env, &["--store", "store"]);
        if claimed {
            assert_eq!(now, audit_of(&env, &["logs"]), "{fault}");
        } else {
            assert_eq!(now, before, "{fault}");
        }
        // The next nightly run brings it up to date either way.
        ingest(&env, &["logs"]);
        assert_eq!(
            audit_of(&env, &["--store", "store"]),
            audit_of(&env, &["logs"])
        );
        // No temporary part is left.
        let leftovers: Vec<_> = walk(&env.path("store/calls"))
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{fault}: {leftovers:?}");
    }
}

#[test]
fn a_full_disk_commits_nothing_and_says_so_once() {
    let env = Env::new();
    env.write("logs/a.jsonl", call(1, 1, "chat", 1000, 100, "a1"));
    ingest(&env, &["logs"]);
    env.write("logs/b.jsonl", call(2, 1, "chat", 2000, 100, "b1"));
    let out = env
        .cmd()
        .args(["ingest", "logs", "--store", "store", "--quiet"])
        .env("TOKENAUDIT_FAULT", "parts-written:enospc")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("No space left on device").count(), 1, "{err}");
    assert!(!env
        .path("store/_commits/00000000000000000002.json")
        .exists());
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 1);
    assert!(walk(&env.path("store/calls"))
        .iter()
        .all(|p| !p.to_string_lossy().ends_with(".tmp")));
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn compact_and_prune_keep_the_audit_honest() {
    let env = Env::new();
    // Four nights of one file each: four small parts.
    for d in 1..=4 {
        env.write(
            &format!("logs/d{d}.jsonl"),
            call(d, 1, "chat", 1000 * u64::from(d), 0, &format!("r{d}")),
        );
        ingest(&env, &["logs"]);
    }
    let (before, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [0, 4, 4, 0], "{said}");
    // Two ingests of day 4's calls: another file of the same day.
    env.write("logs/d4b.jsonl", call(4, 2, "chat", 500, 0, "r4b"));
    ingest(&env, &["logs"]);
    let (_, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [3, 1, 1, 0], "{said}");
    assert_eq!(walk(&env.path("store/_cache/day=2026-10-04")).len(), 1);
    // As quiet as the other commands with -q (hunt107: a nightly passing
    // -q to every step failed here): nothing printed when all is well.
    assert_eq!(env.ok(&["store", "check", "--store", "store", "-q"]), "");
    assert!(env
        .ok(&["store", "compact", "--store", "store"])
        .contains("2 parts merged into 1"));
    assert_eq!(env.ok(&["store", "compact", "store", "--quiet"]), "");
    // Day 4's cache file went with its parts.
    assert!(walk(&env.path("store/_cache/day=2026-10-04")).is_empty());
    let raw = audit_of(&env, &["logs"]);
    let (s, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [3, 1, 1, 0], "{said}");
    assert_eq!(s, raw);
    assert_ne!(before, raw);
    // Drop October 1 and 2: the calls of d1 and d2 (1000 + 2000 tokens).
    let out = env
        .cmd()
        .args([
            "store",
            "prune",
            "--store",
            "store",
            "--before",
            "2026-10-03",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    // The dropped days' cache files went with them.
    assert!(!env.path("store/_cache/day=2026-10-01").exists());
    assert!(!env.path("store/_cache/day=2026-10-02").exists());
    let (s, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [2, 0, 0, 0], "{said}");
    assert_eq!(s["totals"]["calls"], 3);
    // (3000 + 4000 + 500) × $2.50/M.
    assert_eq!(usd(&s["totals"]["cost"]), "0.01875");
    // The pruned files stay known: the same logs bring nothing new.
    let said = ingest(&env, &["logs"]);
    assert!(said.starts_with("Nothing new to ingest."), "{said}");
    store_check(&env);
}

/// A prune that cuts a file's days: its records stay what it held, the
/// dropped ones count outside the window, and an ingest of the file
/// restated later does not bring the pruned days back.
#[test]
fn a_prune_through_a_file_keeps_the_counts_and_stays_pruned() {
    let env = Env::new();
    let days = |last: u32| -> String {
        (1..=last)
            .map(|d| call(d, 1, "chat", 1000 * u64::from(d), 0, &format!("r{d}")))
            .collect()
    };
    env.write("logs/a.jsonl", days(4));
    ingest(&env, &["logs"]);
    let out = env
        .cmd()
        .args([
            "store",
            "prune",
            "--store",
            "store",
            "--before",
            "2026-10-03",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    store_check(&env);
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 2);
    // Every call the file held is accounted for.
    assert_eq!(s["input"]["records"], 4);
    assert_eq!(s["input"]["outside_window"], 2);
    // (3000 + 4000) × $2.50/M.
    assert_eq!(usd(&s["totals"]["cost"]), "0.0175");

    // Restated with a fifth day: read again whole, the pruned days stay out.
    env.write("logs/a.jsonl", days(5).replace("\"r1\"", "\"r1x\""));
    let said = ingest(&env, &["logs"]);
    assert!(said.contains("1 changed"), "{said}");
    // Two rows were still there to replace (the other two were pruned).
    assert!(said.contains("3 rows added, 2 rows replaced"), "{said}");
    assert!(
        said.contains("Left out 2 calls of days before 2026-10-03, the store's prune date"),
        "{said}"
    );
    store_check(&env);
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 3);
    assert_eq!(s["input"]["records"], 5);
    assert_eq!(s["input"]["outside_window"], 2);
    // + 5000 × $2.50/M.
    assert_eq!(usd(&s["totals"]["cost"]), "0.03");
}

/// A prune date after today or after the store's last day would drop
/// every call: refused without --force.
#[test]
fn a_prune_past_the_last_day_needs_force() {
    let env = Env::new();
    env.write("logs/a.jsonl", call(1, 1, "chat", 1000, 0, "r1"));
    ingest(&env, &["logs"]);
    let prune = |args: &[&str]| {
        env.cmd()
            .args(["store", "prune", "--store", "store"])
            .args(args)
            .output()
            .unwrap()
    };
    for (date, says) in [
        ("2999-01-01", "is after today"),
        ("2026-10-02", "is after the store's last day (2026-10-01)"),
    ] {
        let out = prune(&["--before", date]);
        assert_eq!(out.status.code(), Some(2), "{date}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says) && err.contains("--force"), "{err}");
    }
    assert_eq!(audit_of(&env, &["--store", "store"])["totals"]["calls"], 1);
    let out = prune(&["--before", "2026-10-02", "--force"]);
    assert!(out.status.success());
    assert_eq!(audit_of(&env, &["--store", "store"])["totals"]["calls"], 0);
}

/// `--store` given a folder of logs, or a file, says what it is and what to
/// do instead.
#[test]
fn a_store_flag_on_logs_or_a_file_says_what_to_do() {
    let env = Env::new();
    env.write("logs/a.jsonl", call(1, 1, "chat", 1000, 0, "a1"));
    for (store, says) in [
        (
            "logs",
            "(no _commits/ folder); it holds logs: audit them with `tokenaudit audit logs`",
        ),
        ("logs/a.jsonl", "(it is a file); give the store's folder"),
    ] {
        let out = env
            .cmd()
            .args(["audit", "--store", store, "--out", "out", "--quiet"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
    }
}

/// A store missing a committed part fails the audit, even when its audit
/// cache still holds that day.
#[test]
fn a_missing_part_fails_the_audit_despite_the_cache() {
    let env = Env::new();
    env.write("logs/a.jsonl", call(1, 1, "chat", 1000, 0, "a1"));
    env.write("logs/b.jsonl", call(2, 1, "chat", 1000, 0, "b1"));
    ingest(&env, &["logs"]);
    assert_eq!(audit_of(&env, &["--store", "store"])["totals"]["calls"], 2);
    let part = walk(&env.path("store/calls/day=2026-10-01"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    std::fs::remove_file(&part).unwrap();
    let out = env
        .cmd()
        .args(["audit", "--store", "store", "--out", "out", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a committed part is missing"), "{err}");
    // `store check` names it and says how to get the calls back.
    let err = failed_store_check(&env);
    assert!(err.contains("committed but unreadable"), "{err}");
    assert!(
        err.contains("Rebuild it from the logs it was fed, if they are still there"),
        "{err}"
    );
}

/// hunt110: `store check` said "No problems found" of a part whose data
/// pages were damaged behind an intact footer, and the next audit failed
/// on it. The log keeps each part's digest, which the check verifies; a
/// store written before that has every column decoded instead.
#[test]
fn store_check_finds_a_damaged_data_page() {
    let env = Env::new();
    let days: String = (1..=2)
        .map(|d| call(d, 1, "chat", 1000 + u64::from(d), 100, &format!("a{d}")))
        .collect();
    env.write("logs/a.jsonl", days);
    ingest(&env, &["logs"]);
    let c = commit(&env, 1);
    let digest = c["added"][0]["xxh3"].as_str().unwrap().to_string();
    assert_eq!(digest.len(), 16);
    store_check(&env);
    let part = env.path(&format!(
        "store/{}",
        c["added"][0]["path"].as_str().unwrap()
    ));
    let mut bytes = std::fs::read(&part).unwrap();
    // A byte in the middle of the first column chunk: the footer intact.
    bytes[100] ^= 0x55;
    std::fs::write(&part, &bytes).unwrap();
    let said = failed_store_check(&env);
    assert!(
        said.contains("damaged: its bytes are not those written (xxh3 "),
        "{said}"
    );
    assert!(said.contains(&format!("the log says {digest})")), "{said}");
}

/// hunt113: an ingest counted a `.jsonl.bz2` it could not read as "lines
/// rejected", named it nowhere, and recorded it: the next night it was
/// "already in the store", and `--strict` passed. It is named, not
/// recorded, and tried (and named) again each night.
#[test]
fn an_input_that_cannot_be_read_is_named_and_tried_again() {
    let env = Env::new();
    env.write(
        "logs/a.jsonl",
        call(1, 1, "chat", 1000, 100, "a1") + "garbage\n",
    );
    env.write("logs/b.jsonl.bz2", "BZh91AY&SY not really");
    let night = || {
        let out = env
            .cmd()
            .args(["ingest", "logs", "--store", "store"])
            .output()
            .unwrap();
        assert!(out.status.success());
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for n in 1..=2 {
        let (said, err) = night();
        assert!(
            err.contains("warning: could not read 1 input, not ingested (the next ingest tries again): logs/b.jsonl.bz2 (cannot open: a bzip2-compressed file"),
            "{err}"
        );
        if n == 1 {
            assert!(
                said.contains("1 line rejected and 1 input could not be read (the audit's Data quality section lists the lines;"),
                "{said}"
            );
        } else {
            assert!(
                said.contains("Nothing committed: no new file could be read (below).\n"),
                "{said}"
            );
        }
    }
    assert_eq!(walk(&env.path("store/_commits")).len(), 1);
    let out = env
        .cmd()
        .args(["ingest", "logs", "--store", "store", "--strict"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(audit_of(&env, &["--store", "store"])["totals"]["calls"], 1);
    // A file the store has, recompressed in place in a way not read: its
    // calls stay, and it is tried again (hunt115: its rows were replaced
    // by none).
    env.write("logs/a.jsonl", "BZh91AY&SY not really either");
    for _ in 0..2 {
        let (_, err) = night();
        assert!(
            err.contains("not ingested (the next ingest tries again): logs/a.jsonl (cannot open"),
            "{err}"
        );
        assert_eq!(audit_of(&env, &["--store", "store"])["totals"]["calls"], 1);
    }
    store_check(&env);
}

/// A night whose tickets could not be written (a full disk) is not
/// recorded: the next run still finds them new.
#[test]
fn a_night_whose_output_failed_is_not_recorded() {
    let env = Env::new();
    env.write(
        "tokenaudit.toml",
        "[[budget]]\nfeature = \"chat\"\nper_call = 0.001\n",
    );
    env.write("logs/a.jsonl", call(1, 1, "chat", 10_000, 1000, "a1"));
    ingest(&env, &["logs"]);
    let args = [
        "findings",
        "--store",
        "store",
        "--config",
        "tokenaudit.toml",
        "--changed-only",
    ];
    let full = std::fs::File::create("/dev/full").unwrap();
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("tokenaudit"))
        .current_dir(env.path(""))
        .args(args)
        .stdout(full)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
    assert!(!env.path("store/_findings").exists() || walk(&env.path("store/_findings")).is_empty());
    let out = env.cmd().args(args).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("\"rule\":\"TA116\"") && text.contains("\"status\":\"new\""),
        "{text}"
    );
}

/// hunt56's bug4: a nightly job whose `findings --changed-only` printed and
/// whose GitHub step then failed filed nothing on its retry (the first try
/// was recorded; the retry, marked against it, found nothing new).
/// `--again` marks the retry as the first try was marked, and records
/// nothing; it is refused once new data came in.
#[test]
fn a_retried_nightly_gives_its_changes_again() {
    let env = Env::new();
    env.write(
        "tokenaudit.toml",
        "[[budget]]\nfeature = \"chat\"\nper_call = 0.001\n[[budget]]\nfeature = \"search\"\nper_call = 0.001\n",
    );
    let run = |args: &[&str]| {
        let out = env
            .cmd()
            .args([
                "findings",
                "--store",
                "store",
                "--config",
                "tokenaudit.toml",
            ])
            .args(args)
            .output()
            .unwrap();
        let lines: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let r: Value = serde_json::from_str(l).unwrap();
                format!("{} {} {}", r["rule"], r["scope"]["feature"], r["status"])
            })
            .collect();
        (
            out.status.success(),
            lines,
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    // No ledger yet: nothing to repeat.
    env.write("logs/a.jsonl", call(1, 1, "chat", 10_000, 1000, "a1"));
    ingest(&env, &["logs"]);
    let (ok, _, err) = run(&["--changed-only", "--again"]);
    assert!(!ok && err.contains("no run to repeat"), "{err}");
    let (ok, night1, _) = run(&["--changed-only"]);
    assert!(ok);
    assert_eq!(night1, [r#""TA116" "chat" "new""#]);
    // The first night retried: everything is new again.
    let (ok, again, err) = run(&["--changed-only", "--again"]);
    assert!(ok, "{err}");
    assert_eq!(again, night1);
    assert!(err.contains("not recorded (--again)"), "{err}");
    // Night 2: `search` goes over budget; its first try printed it.
    env.write("logs/b.jsonl", call(2, 1, "search", 10_000, 1000, "b1"));
    ingest(&env, &["logs"]);
    let (_, night2, _) = run(&["--changed-only"]);
    assert!(
        night2.contains(&r#""TA116" "search" "new""#.to_string()),
        "{night2:?}"
    );
    let entries = || {
        std::fs::read_dir(env.path("store/_findings"))
            .unwrap()
            .count()
    };
    let recorded = entries();
    // Its retry gives the same change, as often as it is retried, and
    // records nothing.
    for _ in 0..2 {
        let (ok, again, err) = run(&["--changed-only", "--again"]);
        assert!(ok, "{err}");
        assert_eq!(again, night2);
        assert_eq!(entries(), recorded);
    }
    // Data since the last run (hunt62: a compaction, the retry's own
    // ingest of a later export): said, the night's changes still given.
    env.write("logs/c.jsonl", call(3, 1, "chat", 10, 1, "c1"));
    ingest(&env, &["logs"]);
    let (ok, again, err) = run(&["--changed-only", "--again"]);
    assert!(ok && err.contains("took commits since entry"), "{err}");
    assert!(
        again.contains(&r#""TA116" "search" "new""#.to_string()),
        "{again:?}"
    );
    assert_eq!(entries(), recorded);
    // A run without it is the next night: the search overrun is no news.
    let (_, next, _) = run(&["--changed-only"]);
    assert!(
        !next.contains(&r#""TA116" "search" "new""#.to_string()),
        "{next:?}"
    );
    // And the next run without new data is a quiet night.
    let (_, quiet, _) = run(&["--changed-only"]);
    assert!(quiet.is_empty(), "{quiet:?}");
    // Nor is --again meant for a baseline file.
    let (ok, _, err) = run(&["--again", "--baseline", "tokenaudit.toml"]);
    assert!(!ok && err.contains("--again repeats"), "{err}");
}

#[test]
fn the_findings_ledger_marks_each_night_against_the_last() {
    let env = Env::new();
    // Night 1: a retry storm in `chat` (TA108 needs failures followed by a
    // success of the same prompt) is not needed here: a budget overrun is
    // the simplest finding to plant.
    env.write(
        "tokenaudit.toml",
        "[[budget]]\nfeature = \"chat\"\nper_call = 0.001\n[[budget]]\nfeature = \"search\"\nper_call = 0.001\n[[budget]]\nfeature = \"late\"\nper_call = 0.001\n",
    );
    env.write("logs/a.jsonl", call(1, 1, "chat", 10_000, 1000, "a1"));
    ingest(&env, &["logs"]);
    let run = |args: &[&str]| {
        let out = env
            .cmd()
            .args([
                "findings",
                "--store",
                "store",
                "--config",
                "tokenaudit.toml",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let night1 = run(&[]);
    let over: Vec<_> = night1.iter().filter(|r| r["rule"] == "TA116").collect();
    assert_eq!(over.len(), 1);
    assert_eq!(over[0]["status"], "new");
    // Night 2: the search feature goes over budget too.
    env.write("logs/b.jsonl", call(2, 1, "search", 10_000, 1000, "b1"));
    ingest(&env, &["logs"]);
    let night2 = run(&["--changed-only"]);
    let statuses: Vec<(&str, &str)> = night2
        .iter()
        .map(|r| {
            (
                r["scope"]["feature"].as_str().unwrap_or(""),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(statuses.contains(&("search", "new")), "{statuses:?}");
    assert!(!statuses.iter().any(|(f, _)| *f == "chat"), "{statuses:?}");
    // The ledger holds both nights.
    assert!(env
        .path("store/_findings/00000000000000000002.json")
        .exists());
    // A look back at October 1 alone is compared, but not recorded: it
    // would be the next night's baseline (and `search` would be new again).
    let _ = run(&["--since", "2026-10-01", "--until", "2026-10-01"]);
    assert!(!env
        .path("store/_findings/00000000000000000003.json")
        .exists());
    let night3 = run(&["--changed-only"]);
    assert!(night3.is_empty(), "{night3:?}");
    assert!(env
        .path("store/_findings/00000000000000000003.json")
        .exists());
    // hunt56: a look at the days from October 3, run before the nightly on
    // a night with new data, is recorded (it ends later), but it is no
    // baseline of the open-ended nightly: `chat` and `search`, outside the
    // look, persist for the nightly; they are neither "resolved" by the
    // look's entry nor "new" again.
    env.write("logs/c.jsonl", call(3, 1, "team", 10, 1, "c1"));
    ingest(&env, &["logs"]);
    let _ = run(&["--since", "2026-10-03"]);
    assert!(env
        .path("store/_findings/00000000000000000004.json")
        .exists());
    let night4 = run(&["--changed-only"]);
    let over: Vec<_> = night4.iter().filter(|r| r["rule"] == "TA116").collect();
    assert!(over.is_empty(), "{over:?}");
    // hunt58: a look's baseline is the newest entry, the nightly's, not the
    // last look's: `late`, filed new by the nightly, is no news to the look.
    env.write("logs/d.jsonl", call(4, 1, "late", 10_000, 1000, "d1"));
    ingest(&env, &["logs"]);
    let night5 = run(&["--changed-only"]);
    assert!(
        night5
            .iter()
            .any(|r| r["scope"]["feature"] == "late" && r["status"] == "new"),
        "{night5:?}"
    );
    let look = run(&["--since", "2026-10-03", "--changed-only"]);
    assert!(
        !look.iter().any(|r| r["scope"]["feature"] == "late"),
        "{look:?}"
    );
}

/// Runs a Python snippet; fails (never skips) when Python or its package is
/// missing, naming what to install.
fn python(code: &str, package: &str) -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", code])
        .output()
        .unwrap_or_else(|e| panic!("python3 cannot be run ({e}); .ci/run installs it"));
    assert!(
        out.status.success(),
        "python3 with {package} failed (install it with `pip install {package}`; .ci/run does): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn duckdb_and_polars_read_the_store_and_get_the_audits_totals() {
    let env = Env::new();
    env.write(
        "logs/a.jsonl",
        call(1, 1, "chat", 1000, 100, "a1") + &call(2, 1, "chat", 2000, 200, "a2"),
    );
    // A call without a timestamp lands in the NULL day partition.
    env.write(
        "logs/b.jsonl",
        r#"{"model":"gpt-4o","feature":"search","usage":{"prompt_tokens":4000,"completion_tokens":0}}"#
            .to_string()
            + "\n",
    );
    ingest(&env, &["logs"]);
    let (s, said) = cached_audit(&env, &[]);
    // (1000 + 2000 + 4000) × 2.5 + 300 × 10 µ$.
    assert_eq!(usd(&s["totals"]["cost"]), "0.0205");
    // The audit cache (two days and the calls without a time) is beside
    // calls/, not in it: the engines below do not see it.
    assert_eq!(cache_use(&said), [0, 3, 3, 0], "{said}");
    let calls = env.path("store/calls");
    let glob = format!("{}/**/*.parquet", calls.display());
    let duck = python(
        &format!(
            "import duckdb; print(duckdb.sql(\"SELECT count(*), sum(cost_usd), sum(input_tokens), count(*) FILTER (WHERE day IS NULL) FROM read_parquet('{glob}', hive_partitioning = true)\").fetchall()[0])"
        ),
        "duckdb",
    );
    assert_eq!(duck, "(3, Decimal('0.020500000000'), 7000, 1)");
    let polars = python(
        &format!(
            "import polars as pl; df = pl.scan_parquet('{glob}', hive_partitioning=True).select(pl.len(), pl.col('cost_usd').sum(), pl.col('input_tokens').sum()).collect(); print(df.row(0))"
        ),
        "polars",
    );
    assert_eq!(polars, "(3, Decimal('0.020500000000'), 7000)");
}

/// `examples/nightly.sh` for the night of `today`, over `logs/` into
/// `store/` and `reports/` with `tokenaudit.toml`, in `env`'s folder.
fn nightly(env: &Env, today: &str) -> std::process::Command {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/nightly.sh");
    let mut cmd = std::process::Command::new("bash");
    cmd.arg(script)
        .current_dir(env.dir.path())
        .env("LOGS", "logs")
        .env("STORE", "store")
        .env("REPORTS", "reports")
        .env("CONFIG", "tokenaudit.toml")
        .env("TODAY", today)
        .env("TOKENAUDIT", assert_cmd::cargo::cargo_bin("tokenaudit"));
    cmd
}

#[test]
fn the_nightly_recipe_runs_three_nights() {
    let env = Env::new();
    // One planted finding: a chat call over its per-call budget (the
    // concentration rule, which two calls trip, is switched off).
    env.write(
        "tokenaudit.toml",
        "[rules.TA101]\nenabled = false\n[[budget]]\nfeature = \"chat\"\nper_call = 0.001\n",
    );
    let run_night = |today: &str, retry: bool| {
        let mut cmd = nightly(&env, today);
        if retry {
            cmd.env("RETRY", "1");
        }
        let out = cmd.env_remove("GH_REPO").output().unwrap();
        assert!(
            out.status.success(),
            "night {today}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let night = |today: &str| run_night(today, false);
    let tickets = |today: &str| -> Vec<Value> {
        std::fs::read_to_string(env.path(&format!("reports/tickets-{today}.jsonl")))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    // Night of Oct 31: the exports of Oct 29 and 30 (a chat call over its
    // per-call budget on the 30th).
    env.write(
        "logs/2026-10-29.jsonl",
        call(29, 9, "search", 1000, 10, "s1"),
    );
    env.write(
        "logs/2026-10-30.jsonl",
        call(30, 9, "chat", 10_000, 1000, "c1"),
    );
    night("2026-10-31");
    let month = env.audit(&[
        "--store",
        "store",
        "--config",
        "tokenaudit.toml",
        "--since",
        "2026-10-01",
        "--until",
        "2026-10-30",
    ]);
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(env.path("reports/2026-10/audit.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(written["audit"], month["audit"]);
    // 1000·2.5 + 10·10 + 10,000·2.5 + 1000·10 µ$.
    assert_eq!(usd(&written["audit"]["totals"]["cost"]), "0.0376");
    let t = tickets("2026-10-31");
    assert_eq!(t.len(), 1, "{t:?}");
    assert!(t[0]["labels"].as_array().unwrap().contains(&json!("new")));
    // The night retried (its `gh` step failed): the same ticket again,
    // and the ledger still holds one night.
    run_night("2026-10-31", true);
    assert_eq!(tickets("2026-10-31"), t);
    assert!(!env
        .path("store/_findings/00000000000000000002.json")
        .exists());
    assert!(!env.path("reports/review-2026-10").exists());
    // Night of Nov 1: Oct 31's export arrives; the review of October is written.
    env.write(
        "logs/2026-10-31.jsonl",
        call(31, 9, "search", 2000, 10, "s2"),
    );
    night("2026-11-01");
    let review: Value = serde_json::from_str(
        &std::fs::read_to_string(env.path("reports/review-2026-10/audit.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(review["audit"]["totals"]["calls"], 3);
    // Nothing changed in the findings: no ticket.
    assert!(tickets("2026-11-01").is_empty());
    // Night of Nov 2: the chat budget holds again on Nov 1, and the over-budget
    // call of Oct 30 is still in the 30-day window: persisting, not reported.
    env.write(
        "logs/2026-11-01.jsonl",
        call(1, 9, "chat", 100, 10, "c2").replace("2026-10-01", "2026-11-01"),
    );
    night("2026-11-02");
    assert!(tickets("2026-11-02").is_empty());
    assert!(env.path("reports/2026-11/audit.json").exists());
    // The ledger holds the three nights.
    assert!(env
        .path("store/_findings/00000000000000000003.json")
        .exists());
}

/// A stand-in for GitHub's `gh` (the calls `examples/nightly.sh` makes):
/// issues kept in `gh-issues.json`, each call appended to `gh-calls.log`.
const FAKE_GH: &str = r#"#!/usr/bin/env python3
import json, os, re, sys
here = os.path.dirname(os.path.abspath(__file__))
state = os.path.join(here, "gh-issues.json")
issues = json.load(open(state)) if os.path.exists(state) else []
a = sys.argv[1:]
open(os.path.join(here, "gh-calls.log"), "a").write(" ".join(a[:3]) + "\n")
def opt(name):
    return a[a.index(name) + 1]
assert a[0] == "issue" and opt("--repo") == "acme/llm", a
if a[1] == "list":
    # GitHub's search: every word of the query in the body, newest first;
    # HTML comments are not searched (GitHub Enterprise Server's: hunt146).
    words = opt("--search").replace('"', "").replace(" in:body", "").split()
    text = lambda b: re.sub(r"<!--.*?-->", "", b, flags=re.S)
    hits = [i for i in reversed(issues)
            if i["state"] == opt("--state") and all(w in text(i["body"]) for w in words)]
    print(json.dumps([{"number": i["number"], "body": i["body"]} for i in hits]))
elif a[1] == "view":
    i = issues[int(a[2]) - 1]
    print(json.dumps({"comments": [{"body": c} for c in i["comments"]]}))
elif a[1] == "create":
    issues.append({"number": len(issues) + 1, "state": "open", "title": opt("--title"),
                   "body": opt("--body"), "comments": []})
else:
    i = issues[int(a[2]) - 1]
    i["comments"].append(opt("--body") if a[1] == "comment" else opt("--comment"))
    i["state"] = {"close": "closed", "reopen": "open"}.get(a[1], i["state"])
json.dump(issues, open(state, "w"))
"#;

/// The recipe's night `today` in `env`, with a per-call budget on `chat`
/// and the fake `gh` (issues in `bin/gh-issues.json`); it must succeed.
fn gh_night(env: &Env, today: &str) {
    use std::os::unix::fs::PermissionsExt;
    if !env.path("bin/gh").exists() {
        env.write(
            "tokenaudit.toml",
            "[rules.TA101]\nenabled = false\n[[budget]]\nfeature = \"chat\"\nper_call = 0.001\n",
        );
        let gh = env.write("bin/gh", FAKE_GH);
        std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        env.path("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = nightly(env, today)
        .env("GH_REPO", "acme/llm")
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "night {today}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The fake `gh`'s issues.
fn gh_issues(env: &Env) -> Vec<Value> {
    let text = std::fs::read_to_string(env.path("bin/gh-issues.json")).unwrap();
    serde_json::from_str::<Vec<Value>>(&text).unwrap()
}

/// The recipe's GitHub step: a finding opens an issue, its resolution
/// closes it, and its return reopens it (before, it opened a second issue
/// beside the closed one: hunt100's bug3); an issue a person closed stays
/// closed. A chat call over its $0.001
/// per-call budget on Oct 30; on Dec 1 the 30-day window starts on Nov 1
/// (resolved); Dec 2's call is over again (new: the same fingerprint).
#[test]
fn the_nightly_recipe_reopens_the_issue_of_a_finding_that_comes_back() {
    let env = Env::new();
    let (night, issues) = (|t: &str| gh_night(&env, t), || gh_issues(&env));
    env.write(
        "logs/2026-10-30.jsonl",
        call(30, 9, "chat", 10_000, 1000, "c1"),
    );
    night("2026-10-31");
    let i = issues();
    assert_eq!(i.len(), 1);
    assert_eq!(i[0]["state"], "open");
    assert_eq!(
        i[0]["title"],
        "[TA116] chat: 1 call costs more than the per-call budget of $0.0010"
    );
    env.write(
        "logs/2026-11-30.jsonl",
        call(1, 9, "search", 1000, 10, "s1").replace("2026-10-01", "2026-11-30"),
    );
    night("2026-12-01");
    let i = issues();
    assert_eq!((i.len(), &i[0]["state"]), (1, &json!("closed")));
    assert!(i[0]["comments"][0]
        .as_str()
        .unwrap()
        .starts_with("Resolved: tokenaudit no longer finds this."));
    env.write(
        "logs/2026-12-02.jsonl",
        call(2, 9, "chat", 10_000, 1000, "c2").replace("2026-10-02", "2026-12-02"),
    );
    night("2026-12-03");
    let i = issues();
    assert_eq!((i.len(), &i[0]["state"]), (1, &json!("open")), "{i:?}");
    assert!(i[0]["comments"][1]
        .as_str()
        .unwrap()
        .starts_with("Found again by tokenaudit."));
    // A person closes it. It is resolved on Jan 2 (the window starts on
    // Dec 3, and holds a call under the budget), and found again on Jan 3:
    // a comment on the closed issue, which stays closed (hunt109: reopened
    // as "Found again", undoing the person's close).
    let mut closed = issues();
    closed[0]["state"] = json!("closed");
    env.write(
        "bin/gh-issues.json",
        serde_json::to_string(&closed).unwrap(),
    );
    env.write(
        "logs/2026-12-31.jsonl",
        call(31, 9, "chat", 100, 10, "c3").replace("2026-10-31", "2026-12-31"),
    );
    night("2027-01-02");
    let t = std::fs::read_to_string(env.path("reports/tickets-2027-01-02.jsonl")).unwrap();
    assert!(t.contains(r#""resolved""#), "{t}");
    env.write(
        "logs/2027-01-02.jsonl",
        call(2, 9, "chat", 10_000, 1000, "c4").replace("2026-10-02", "2027-01-02"),
    );
    night("2027-01-03");
    let t = std::fs::read_to_string(env.path("reports/tickets-2027-01-03.jsonl")).unwrap();
    assert!(t.contains(r#""new""#), "{t}");
    let i = issues();
    assert_eq!((i.len(), &i[0]["state"]), (1, &json!("closed")), "{i:?}");
    assert_eq!(i[0]["comments"].as_array().unwrap().len(), 3, "{i:?}");
    assert!(i[0]["comments"][2]
        .as_str()
        .unwrap()
        .starts_with("**TA116** budget-overrun (new)"));
    let calls = std::fs::read_to_string(env.path("bin/gh-calls.log")).unwrap();
    let verbs: Vec<&str> = calls
        .lines()
        .map(|l| l.split(' ').nth(1).unwrap())
        .filter(|v| *v != "list" && *v != "view")
        .collect();
    assert_eq!(verbs, ["create", "close", "reopen", "comment"], "{calls}");
}

/// `audit --store store ARGS` on the store's own reader (the one that keeps
/// the audit cache; a `cluster` build defaults to DataFusion), with its
/// stderr: the warnings, and the `cache` line `TOKENAUDIT_TIMINGS` adds.
fn cached_audit(env: &Env, args: &[&str]) -> (Value, String) {
    let mut cmd = env.cmd();
    cmd.args(["audit", "--store", "store", "--out", "out", "--quiet"])
        .args(args)
        .env("TOKENAUDIT_TIMINGS", "1");
    #[cfg(feature = "cluster")]
    cmd.args(["--engine", "reader"]);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "audit failed: {stderr}");
    (env.report()["audit"].clone(), stderr)
}

/// The cache line's counts: days loaded, computed, written, cut by the
/// window.
fn cache_use(stderr: &str) -> [usize; 4] {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("cache "))
        .unwrap_or_else(|| panic!("no cache line in {stderr}"));
    let counts = line.split(" (").next().unwrap();
    let n: Vec<usize> = counts
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    n.try_into().unwrap()
}

/// Every file under the store's `_cache/`, with its modification time.
fn cache_files(env: &Env) -> Vec<(PathBuf, std::time::SystemTime)> {
    let mut v: Vec<_> = walk(&env.path("store/_cache"))
        .into_iter()
        .map(|p| {
            let t = std::fs::metadata(&p).unwrap().modified().unwrap();
            (p, t)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_audit_cache_gives_the_audit_of_the_logs_cold_and_warm() {
    let env = Env::new();
    let logs = sample_logs();
    let logs = logs.to_str().unwrap();
    let config = format!("{logs}/tokenaudit.toml");
    ingest(&env, &[logs, "--config", &config]);
    let days = std::fs::read_dir(env.path("store/calls")).unwrap().count();
    assert!(days >= 30, "{days} day partitions");
    let raw = audit_of(&env, &[logs, "--config", &config]);
    // Cold: every day read and its accumulator written, and their merge;
    // warm: the merge read back, and the files stay as they were.
    let (cold, said) = cached_audit(&env, &["--config", &config]);
    assert_eq!(cache_use(&said), [0, days, days, 0], "{said}");
    let files = cache_files(&env);
    assert_eq!(files.len(), days + 1);
    let merged = walk(&env.path("store/_cache/merged"));
    assert_eq!(merged.len(), 1);
    let (warm, said) = cached_audit(&env, &["--config", &config]);
    assert_eq!(cache_use(&said), [days, 0, 0, 0], "{said}");
    assert!(said.contains("(merged, from one file)"), "{said}");
    assert_eq!(cache_files(&env), files);
    assert_eq!(cold, raw);
    assert_eq!(warm, raw);
    assert!(raw["findings"].as_array().unwrap().len() >= 16);
    // Without the merged file (or with a damaged one), every day's own.
    std::fs::remove_file(&merged[0]).unwrap();
    let (warm, said) = cached_audit(&env, &["--config", &config]);
    assert_eq!(cache_use(&said), [days, 0, 0, 0], "{said}");
    assert!(!said.contains("merged"), "{said}");
    assert_eq!(warm, raw);
    std::fs::write(&merged[0], "TAdc but not a state").unwrap();
    let (warm, said) = cached_audit(&env, &["--config", &config]);
    assert_eq!(cache_use(&said), [days, 0, 0, 0], "{said}");
    assert!(said.contains("merged from the days again"), "{said}");
    assert_eq!(warm, raw);
    // A day's file copied under another day's name (a restore gone
    // wrong): not used, and said.
    std::fs::remove_dir_all(env.path("store/_cache/merged")).unwrap();
    let file = |d: &str| walk(&env.path(&format!("store/_cache/day={d}")))[0].clone();
    std::fs::copy(file("2026-10-02"), file("2026-10-03")).unwrap();
    let (warm, said) = cached_audit(&env, &["--config", &config]);
    assert!(said.contains("holds the state of another file"), "{said}");
    assert_eq!(cache_use(&said), [days - 1, 1, 1, 0], "{said}");
    assert_eq!(warm, raw);
    assert!(cached_audit(&env, &["--config", &config])
        .1
        .contains("(merged"));

    // A week and the week before it: whole days of either role. The
    // week's days are accumulated as in the full audit (its files serve);
    // the week before's, as a previous period, get their own.
    let w = ["--since", "2026-10-08", "--until", "2026-10-14"];
    let raw = audit_of(&env, &[&[logs, "--config", &config][..], &w].concat());
    assert!(raw["input"]["outside_window"].as_u64().unwrap() > 0);
    let args = [&["--config", &config][..], &w].concat();
    let (cold, said) = cached_audit(&env, &args);
    assert_eq!(cache_use(&said), [7, 7, 7, 0], "{said}");
    let (warm, said) = cached_audit(&env, &args);
    assert_eq!(cache_use(&said), [14, 0, 0, 0], "{said}");
    assert!(said.contains("(merged, from one file)"), "{said}");
    assert_eq!(cold, raw);
    assert_eq!(warm, raw);
    // Half days at both ends: those are read row by row, the rest cached.
    let w = [
        "--since",
        "2026-10-08T12:00:00Z",
        "--until",
        "2026-10-14T06:00:00Z",
    ];
    let raw = audit_of(&env, &[&[logs, "--config", &config][..], &w].concat());
    let (warm, said) = cached_audit(&env, &[&["--config", &config][..], &w].concat());
    // The window's first and last day, and the previous period's (which
    // ends on the window's first instant).
    let [loaded, computed, _, cut] = cache_use(&said);
    assert_eq!(cut, 3, "{said}");
    assert_eq!(loaded + computed, 10, "{said}");
    assert_eq!(warm, raw);
    // Derived data: deleting it changes nothing but the time.
    std::fs::remove_dir_all(env.path("store/_cache")).unwrap();
    let (cold, said) = cached_audit(&env, &["--config", &config]);
    assert_eq!(cache_use(&said), [0, days, days, 0], "{said}");
    assert_eq!(cold, audit_of(&env, &[logs, "--config", &config]));
}

#[test]
fn the_audit_cache_follows_new_nights_prices_and_config() {
    let env = Env::new();
    // Calls without a request id are named by file and line: the cache
    // must keep naming the right file when a new one sorts before it.
    let no_id = |day, prompt, completion| {
        gw_line(
            &format!("2026-10-{day:02}T09:00:00Z"),
            "chat",
            "gpt-4o",
            prompt,
            completion,
            json!({}),
        ) + "\n"
    };
    env.write(
        "logs/b.jsonl",
        call(1, 1, "chat", 1000, 100, "b1") + &no_id(1, 2000, 200) + &no_id(2, 3000, 300),
    );
    env.write("logs/c.jsonl", call(2, 5, "search", 500, 50, "c1"));
    ingest(&env, &["logs"]);
    let (s, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [0, 2, 2, 0], "{said}");
    // 3,500 + 7,000 + 10,500 + 1,750 µ$.
    assert_eq!(usd(&s["totals"]["cost"]), "0.02275");
    assert_eq!(s, audit_of(&env, &["logs"]));

    // Night 2: a.jsonl, a new day, sorts before b and c: only its day is
    // read, the other two come from the cache, renumbered: from night 1's
    // merge of them, which the ingest kept (its days did not change).
    env.write("logs/a.jsonl", no_id(3, 4000, 400));
    ingest(&env, &["logs"]);
    let merged = || walk(&env.path("store/_cache/merged"));
    assert_eq!(merged().len(), 1);
    let (s, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [2, 1, 1, 0], "{said}");
    assert!(
        said.contains("(of them, 2 from an earlier run's merged state)"),
        "{said}"
    );
    // One day outside night 1's merge: no merge of its own yet.
    assert_eq!(merged().len(), 1);
    // + 14,000 µ$.
    assert_eq!(usd(&s["totals"]["cost"]), "0.03675");
    let top = &s["most_expensive_calls"];
    assert_eq!(
        (&top[0]["file"], &top[0]["line"]),
        (&json!("logs/a.jsonl"), &json!(1))
    );
    assert_eq!(
        (&top[1]["file"], &top[1]["line"]),
        (&json!("logs/b.jsonl"), &json!(3))
    );
    assert_eq!(s, audit_of(&env, &["logs"]));

    // Night 3: c.jsonl restated (day 2 changes): day 2 is read again, and
    // its old cache file is gone.
    let day2 = || walk(&env.path("store/_cache/day=2026-10-02"));
    let old = day2();
    assert_eq!(old.len(), 1);
    env.write("logs/c.jsonl", call(2, 5, "search", 900, 50, "c1"));
    ingest(&env, &["logs"]);
    assert!(day2().is_empty());
    // The merge holds the old day 2: gone with it.
    assert!(merged().is_empty());
    let (s, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [2, 1, 1, 0], "{said}");
    assert!(!said.contains("earlier run"), "{said}");
    // c1: 900·2.5 + 50·10 = 2,750 µ$ instead of 1,750.
    assert_eq!(usd(&s["totals"]["cost"]), "0.03775");
    assert_ne!(day2(), old);
    assert_eq!(s, audit_of(&env, &["logs"]));

    // Other prices: every day priced again ($5 / $20 per million).
    env.write(
        "prices.json",
        r#"{"schema":1,"version":"ours-1","models":[
            {"provider":"openai","id":"gpt-4o","prices":[{"input":"5","output":"20"}]}]}"#,
    );
    let (s, said) = cached_audit(&env, &["--prices", "prices.json"]);
    assert_eq!(cache_use(&said), [0, 3, 3, 0], "{said}");
    assert_eq!(usd(&s["totals"]["cost"]), "0.0755");
    assert_eq!(s, audit_of(&env, &["logs", "--prices", "prices.json"]));
    // The same file changed is other prices again.
    env.write(
        "prices.json",
        r#"{"schema":1,"version":"ours-1","models":[
            {"provider":"openai","id":"gpt-4o","prices":[{"input":"10","output":"40"}]}]}"#,
    );
    let (s, said) = cached_audit(&env, &["--prices", "prices.json"]);
    assert_eq!(cache_use(&said), [0, 3, 3, 0], "{said}");
    assert_eq!(usd(&s["totals"]["cost"]), "0.151");
    // Without them: the built-in catalog's files are still there.
    let (_, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [3, 0, 0, 0], "{said}");

    // A config that changes what is accumulated (the feature is the team).
    env.write("team.toml", "[attribution]\nfeature = \"team\"\n");
    let (s, said) = cached_audit(&env, &["--config", "team.toml"]);
    assert_eq!(cache_use(&said), [0, 3, 3, 0], "{said}");
    // No call names a team: all five under (none).
    assert_eq!(
        row(&json!({ "audit": s.clone() }), "feature", "(none)")["calls"],
        5
    );
    assert_eq!(s, audit_of(&env, &["logs", "--config", "team.toml"]));
    // A day keeps at most four option sets.
    assert!(walk(&env.path("store/_cache/day=2026-10-01")).len() <= 4);
}

#[test]
fn a_nightly_audit_writes_the_month_every_other_night() {
    // Eight days audited: one merged state. Each night adds a day; the
    // merged state is written again only once more than one day is
    // outside the last one, and the audit between reads it and the newer
    // day's own file: the same audit.
    let env = Env::new();
    let night = |d: u32| {
        // Day d: d calls of d·1,000 prompt and 100 completion tokens.
        let lines: String = (0..d)
            .map(|h| call(d, h, "chat", u64::from(d) * 1000, 100, &format!("d{d}h{h}")))
            .collect();
        env.write(&format!("logs/{d:02}.jsonl"), lines);
        ingest(&env, &["logs"]);
    };
    for d in 1..=8 {
        night(d);
    }
    let merged = || walk(&env.path("store/_cache/merged"));
    let (s, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [0, 8, 8, 0], "{said}");
    assert_eq!(s, audit_of(&env, &["logs"]));
    let first = merged();
    assert_eq!(first.len(), 1);
    // Audits of other windows keep merges of their own, the 4 newest: the
    // month's, built on though not written again, stays among them.
    let window = |from: u32, to: u32| {
        let w = [format!("2026-10-{from:02}"), format!("2026-10-{to:02}")];
        cached_audit(&env, &["--since", &w[0], "--until", &w[1]]);
    };
    window(1, 3);
    window(2, 4);
    // Night 9: one day computed, no new merged state.
    night(9);
    let (s, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [8, 1, 1, 0], "{said}");
    assert!(
        said.contains("(of them, 8 from an earlier run's merged state)"),
        "{said}"
    );
    assert_eq!(merged().len(), 3);
    assert_eq!(s, audit_of(&env, &["logs"]));
    // The same audit again: the earlier merge and day 9's file.
    let (again, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [9, 0, 0, 0], "{said}");
    assert_eq!(again, s);
    window(3, 5);
    window(4, 6);
    assert_eq!(merged().len(), 4);
    assert!(merged().contains(&first[0]));
    // Night 10: two days outside the merge of eight, written again.
    night(10);
    let (s, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [9, 1, 1, 0], "{said}");
    assert!(
        said.contains("(of them, 8 from an earlier run's merged state)"),
        "{said}"
    );
    // Σ d·(d·1,000·2.5 + 100·10) µ$ for d = 1..10: 2,500·385 + 1,000·55.
    assert_eq!(usd(&s["totals"]["cost"]), "1.0175");
    assert_eq!(s, audit_of(&env, &["logs"]));
    let (again, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [10, 0, 0, 0], "{said}");
    assert!(said.contains("(merged, from one file)"), "{said}");
    assert_eq!(again, s);
}

#[test]
fn a_damaged_or_unwritable_audit_cache_is_read_around() {
    let env = Env::new();
    for d in 1..=3 {
        env.write(
            &format!("logs/d{d}.jsonl"),
            call(d, 1, "chat", 1000 * u64::from(d), 0, &format!("r{d}")),
        );
    }
    ingest(&env, &["logs"]);
    let raw = audit_of(&env, &["logs"]);
    let (s, _) = cached_audit(&env, &[]);
    assert_eq!(s, raw);
    // One file cut short, one with a byte changed (and the merge of the
    // three gone, else it would be read instead).
    let files: Vec<PathBuf> = cache_files(&env).into_iter().map(|(p, _)| p).collect();
    assert_eq!(files.len(), 4);
    assert!(files[3].starts_with(env.path("store/_cache/merged")));
    std::fs::remove_file(&files[3]).unwrap();
    let bytes = std::fs::read(&files[0]).unwrap();
    std::fs::write(&files[0], &bytes[..bytes.len() / 2]).unwrap();
    let mut bytes = std::fs::read(&files[1]).unwrap();
    *bytes.last_mut().unwrap() ^= 0x40;
    std::fs::write(&files[1], &bytes).unwrap();
    let (s, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [1, 2, 2, 0], "{said}");
    assert_eq!(said.matches("warning: ").count(), 2, "{said}");
    assert!(
        said.contains("damaged (its checksum does not match)"),
        "{said}"
    );
    assert_eq!(s, raw);
    // Rewritten: the next audit loads all three.
    let (_, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [3, 0, 0, 0], "{said}");

    // `store check` removes what no audit can use: a stale file and a
    // damaged one; it is not a problem of the store.
    let stale = env.path(&format!(
        "store/_cache/day=2026-10-01/{}-{}.acc",
        "0".repeat(32),
        "0".repeat(32)
    ));
    std::fs::write(&stale, "old").unwrap();
    std::fs::write(&files[2], "not a state").unwrap();
    let said = store_check(&env);
    assert!(said.contains("Removed 2 audit cache files"), "{said}");
    assert!(said.contains("its day's parts changed"), "{said}");
    assert!(said.contains(": unreadable"), "{said}");
    assert!(said.contains("No problems found."), "{said}");
    // Two days' files and their merge (made after the last commit) stay.
    assert_eq!(cache_files(&env).len(), 3);

    // A store whose cache cannot be written (here `_cache` is a file):
    // audited all the same, with one warning.
    std::fs::remove_dir_all(env.path("store/_cache")).unwrap();
    std::fs::write(env.path("store/_cache"), "in the way").unwrap();
    let (s, said) = cached_audit(&env, &[]);
    assert_eq!(cache_use(&said), [0, 3, 0, 0], "{said}");
    assert_eq!(said.matches("warning: ").count(), 1, "{said}");
    assert!(said.contains("cannot be written"), "{said}");
    assert_eq!(s, raw);
}

/// LiteLLM's cache hits are no calls, but the caching findings cite them:
/// the store keeps them in `cache_hits/` (outside `calls/`, so engines
/// reading it count calls), and the audit of the store gives what the
/// audit of the logs gives, before and after a compaction.
#[test]
fn litellm_cache_hits_are_kept_beside_the_calls() {
    let env = Env::new();
    env.write(
        "logs/spend_logs.jsonl",
        crate::rules::ta109::spend_log_with_cache_hits(),
    );
    let said = ingest(&env, &["logs"]);
    // 63 calls and 8 cache hits: the hits are no rows of calls.
    assert!(said.contains("63 rows added"), "{said}");
    assert!(said.contains("Kept 8 gateway cache hits"), "{said}");
    assert!(said.contains("The store holds 63 calls"), "{said}");
    let hits: Vec<PathBuf> = walk(&env.path("store/cache_hits"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    assert_eq!(hits.len(), 1, "{hits:?}");
    let raw = audit_of(&env, &["logs"]);
    let ta109: Vec<&Value> = raw["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "TA109")
        .collect();
    let e = &ta109[0]["evidence"];
    assert_eq!(e["litellm_cache_hits"], 7);
    assert_eq!(raw["input"]["skipped_by_reason"]["not_a_call"], 8);
    assert_eq!(audit_of(&env, &["--store", "store"]), raw);
    assert!(store_check(&env).contains("No problems found."));
    // A second night's hits: two parts of each dataset, compacted apart.
    env.write(
        "logs/more.jsonl",
        crate::rules::ta109::spend_log_with_cache_hits()
            .replace("\"request_id\":\"", "\"request_id\":\"night2-"),
    );
    ingest(&env, &["logs"]);
    let said = env.ok(&["store", "compact", "--store", "store"]);
    // 126 calls: the 16 cache hits merged beside them are not counted.
    assert!(said.contains("4 parts merged into 2 (126 calls)"), "{said}");
    let raw = audit_of(&env, &["logs"]);
    assert_eq!(raw["totals"]["calls"], 126);
    assert_eq!(audit_of(&env, &["--store", "store"]), raw);
    assert!(store_check(&env).contains("No problems found."));
}

/// Logs renamed or rotated between ingests keep each call once: `mv
/// app.log app.log.1` is the same calls, and logrotate (`app.log` →
/// `app.log.1`, a new `app.log`, the oldest deleted) keeps every night's.
#[test]
fn renamed_and_rotated_logs_keep_each_call_once() {
    let env = Env::new();
    // One gpt-4o call of 1,000 in and 100 out costs $0.0035.
    let night = |day: u32, n: u32| -> String {
        (0..n)
            .map(|i| call(day, i % 24, "chat", 1000, 100, &format!("d{day}-{i}")))
            .collect()
    };
    // A rename, then lines appended to the renamed file.
    env.write("a/app.log", night(1, 30));
    ingest(&env, &["a"]);
    std::fs::rename(env.path("a/app.log"), env.path("a/app.log.1")).unwrap();
    let said = ingest(&env, &["a"]);
    assert!(said.contains("a/app.log.1 (was a/app.log)"), "{said}");
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(
        (s["totals"]["calls"].as_u64(), usd(&s["totals"]["cost"])),
        (Some(30), "0.105".into())
    );
    // The store's audit is the logs' audit, file list included.
    assert_eq!(s, audit_of(&env, &["a"]));
    std::fs::write(env.path("a/app.log.1"), night(1, 30) + &night(2, 10)).unwrap();
    ingest(&env, &["a"]);
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 40);
    assert_eq!(s["totals"], audit_of(&env, &["a"])["totals"]);

    // logrotate with `rotate 1` over three nights, 10, 20 and 30 calls.
    let env = Env::new();
    env.write("b/app.log", night(1, 10));
    ingest(&env, &["b"]);
    std::fs::rename(env.path("b/app.log"), env.path("b/app.log.1")).unwrap();
    env.write("b/app.log", night(2, 20));
    let said = ingest(&env, &["b"]);
    assert!(said.contains("1 files began anew"), "{said}");
    std::fs::remove_file(env.path("b/app.log.1")).unwrap();
    std::fs::rename(env.path("b/app.log"), env.path("b/app.log.1")).unwrap();
    env.write("b/app.log", night(3, 30));
    let said = ingest(&env, &["b"]);
    assert!(said.contains("b/app.log.1 (was b/app.log)"), "{said}");
    // Every night's calls once: 60 × $0.0035 = $0.21.
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 60);
    assert_eq!(usd(&s["totals"]["cost"]), "0.21");
    // The rows went with their content: app.log.1 holds nights 1 and 2,
    // app.log night 3. A restated file (the same path, other content found
    // nowhere else) still replaces its own rows, and only those.
    env.write("b/app.log", night(3, 5));
    ingest(&env, &["b"]);
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 10 + 20 + 5);
    assert!(store_check(&env).contains("No problems found."));
}

/// A `[mapping]` fixed in the nightly's config reaches the days already in
/// the store: their files are read again whole (hunt71: "nothing new to
/// ingest", and the store kept the first mapping's money, $4.43 for
/// $3.30). An audit of the store given another mapping than its files were
/// read with says so.
#[test]
fn a_fixed_mapping_reads_the_stored_files_again() {
    let env = Env::new();
    // Ten gpt-4o calls of 1,000 input tokens (800 of them cached) and 100
    // output.
    let lines: String = (0..10)
        .map(|i| {
            json!({"ts": format!("2026-10-01T{i:02}:00:00Z"), "m": "gpt-4o", "in": 1000,
                "cached": 800, "out": 100, "team": "t1", "app": "doc-qa"})
            .to_string()
                + "\n"
        })
        .collect();
    env.write("logs/calls.jsonl", lines);
    env.write(
        "v1.toml",
        "[mapping]\ntimestamp = \"ts\"\nmodel = \"m\"\ninput_tokens = \"in\"\noutput_tokens = \"out\"\nfeature = \"team\"\n",
    );
    env.write(
        "v2.toml",
        "[mapping]\ntimestamp = \"ts\"\nmodel = \"m\"\ninput_tokens = \"in\"\noutput_tokens = \"out\"\ncached_read_tokens = \"cached\"\nfeature = \"app\"\n",
    );
    ingest(&env, &["logs", "--config", "v1.toml"]);
    // v1: 1,000 × $2.50/M + 100 × $10/M = $0.0035 a call.
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&s["totals"]["cost"]), "0.035");
    // The store audited with v2 before it is ingested: said.
    let out = env
        .cmd()
        .args([
            "audit", "--store", "store", "--config", "v2.toml", "--out", "r", "-q",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 of its files were read with another [mapping]"),
        "{err}"
    );
    let said = ingest(&env, &["logs", "--config", "v2.toml"]);
    assert!(said.contains("Read 1 file again whole"), "{said}");
    // v2: 200 × $2.50/M + 800 × $1.25/M + 100 × $10/M = $0.0025 a call.
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&s["totals"]["cost"]), "0.025");
    assert_eq!(s["totals"]["calls"], 10);
    assert_eq!(
        s["totals"],
        audit_of(&env, &["logs", "--config", "v2.toml"])["totals"]
    );
    // A night without the config reads the file again and finds no call in
    // it: the stored calls stay, and it is said (hunt118: replaced by none,
    // exit 0; the log's retention then lost them for good).
    let out = env
        .cmd()
        .args(["ingest", "logs", "--store", "store", "--quiet"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("store: kept the stored calls of 1 file: no line of it is a call as read now, with another [mapping]"),
        "{err}"
    );
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(usd(&s["totals"]["cost"]), "0.025");
    assert_eq!(s["totals"]["calls"], 10);
    let said = ingest(&env, &["logs", "--config", "v2.toml"]);
    assert!(said.starts_with("Nothing new to ingest."), "{said}");
    assert!(store_check(&env).contains("No problems found."));
}

/// What a night without the config keeps, and what it does not (hunt119):
/// a rotated mapped log's rows move to its new name as on any night (its
/// rows never name a source no commit lists); a file a fixed mapping reads
/// as no call (`[mapping.only]` skips its lines) has its old rows replaced;
/// a restated export under a new name that fails to read keeps the rows of
/// the file it restates. Each call: 1,000 × $2.50/M + 100 × $10/M =
/// $0.0035.
#[test]
fn a_night_without_the_config_keeps_only_what_failed_to_read() {
    let mapping = "[mapping]\ntimestamp = \"ts\"\nmodel = \"m\"\ninput_tokens = \"in\"\noutput_tokens = \"out\"\n";
    let new_env = || {
        let env = Env::new();
        env.write("v1.toml", mapping);
        env
    };
    let lines = |day: u32, from: u32, to: u32, kind: &str| -> String {
        (from..to)
            .map(|i| {
                json!({"ts": format!("2026-10-{day:02}T{:02}:{:02}:00Z", i / 60, i % 60), "m": "gpt-4o",
                    "in": 1000, "out": 100, "kind": kind})
                .to_string()
                    + "\n"
            })
            .collect()
    };
    // Rotation: app.log.1 (5 calls) and app.log (10); then app.log.1
    // dropped, app.log renamed app.log.1 with 3 more lines, a new app.log
    // (4); a night without the config, then one with it: 5 + 13 + 4 = 22.
    let env = new_env();
    env.write("rot/app.log.1", lines(1, 0, 5, "llm"));
    env.write("rot/app.log", lines(2, 0, 10, "llm"));
    ingest(&env, &["rot", "--config", "v1.toml"]);
    std::fs::remove_file(env.path("rot/app.log.1")).unwrap();
    std::fs::rename(env.path("rot/app.log"), env.path("rot/app.log.1")).unwrap();
    let grown = lines(2, 0, 10, "llm") + &lines(2, 10, 13, "llm");
    env.write("rot/app.log.1", grown);
    env.write("rot/app.log", lines(3, 0, 4, "llm"));
    env.cmd()
        .args(["ingest", "rot", "--store", "store", "--quiet"])
        .assert()
        .success();
    audit_of(&env, &["--store", "store"]);
    ingest(&env, &["rot", "--config", "v1.toml"]);
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 22);
    assert_eq!(usd(&s["totals"]["cost"]), "0.077");
    // A fixed mapping that reads a file as no call replaces its rows.
    let env = new_env();
    env.write("only/llm.jsonl", lines(1, 0, 10, "llm"));
    env.write("only/chains.jsonl", lines(1, 10, 20, "chain"));
    ingest(&env, &["only", "--config", "v1.toml"]);
    assert_eq!(audit_of(&env, &["--store", "store"])["totals"]["calls"], 20);
    env.write(
        "v2.toml",
        format!("{mapping}[mapping.only]\nkind = \"llm\"\n"),
    );
    ingest(&env, &["only", "--config", "v2.toml"]);
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 10);
    assert_eq!(usd(&s["totals"]["cost"]), "0.035");
    // A restated export under a new name, on a night without the config.
    let env = new_env();
    // (Big enough to be told by its first and last 64 KiB.)
    let many: String = (1..=20).map(|d| lines(d, 0, 150, "llm")).collect();
    env.write("re/x.jsonl", &many);
    ingest(&env, &["re", "--config", "v1.toml"]);
    std::fs::remove_file(env.path("re/x.jsonl")).unwrap();
    // Restated: a row in the middle corrected, two appended.
    let at = many.len() / 2;
    let fixed = many[..at].to_string() + &many[at..].replacen("\"in\":1000", "\"in\":1001", 1);
    env.write("re/x.v2.jsonl", fixed + &lines(21, 0, 2, "llm"));
    let out = env
        .cmd()
        .args(["ingest", "re", "--store", "store", "--quiet"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("store: kept the stored calls of 1 file"),
        "{err}"
    );
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 3000);
    // With the config again, the restated file replaces them: 3,002 calls.
    ingest(&env, &["re", "--config", "v1.toml"]);
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 3002);
    assert!(store_check(&env).contains("No problems found."));
}

/// A prune inside the findings' window is said, at the prune and at each
/// run over that window (hunt71: it closed live tickets, "resolved", and
/// opened them again as new two nights later, without a word).
#[test]
fn a_prune_inside_the_findings_window_is_said() {
    let env = Env::new();
    let days: String = (1..=10)
        .map(|d| call(d, 1, "chat", 1000, 100, &format!("a{d}")))
        .collect();
    env.write("logs/app.jsonl", days);
    ingest(&env, &["logs"]);
    // A command that must succeed; its stderr.
    let stderr = |args: &str| {
        let out = env.cmd().args(args.split(' ')).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args}: {err}");
        err
    };
    stderr("findings --store store --since 2026-10-01 --format jsonl");
    let err = stderr("store prune --before 2026-10-05 --store store");
    assert!(
        err.contains(
            "the findings ledger's last run audited a window from 2026-10-01, before 2026-10-05"
        ),
        "{err}"
    );
    let err = stderr("audit --store store --since 2026-10-01 --out r -q");
    assert!(
        err.contains("--since 2026-10-01 is before the store's prune date 2026-10-05"),
        "{err}"
    );
    // The nightly without --since audits every day: a prune is said too
    // (hunt73).
    stderr("findings --store store --format jsonl");
    let err = stderr("store prune --before 2026-10-06 --store store");
    assert!(
        err.contains(
            "the findings ledger's last run audited all the store's days, before 2026-10-06"
        ),
        "{err}"
    );
    // The nightly's next run says it too (hunt75).
    let err = stderr("findings --store store --format jsonl");
    assert!(
        err.contains("was pruned before 2026-10-06 since entry"),
        "{err}"
    );
    // A window from the prune date on: nothing to say.
    let err = stderr("audit --store store --since 2026-10-06 --out r -q");
    assert!(!err.contains("prune date"), "{err}");
}

/// A cached-read count of zero is kept as a count (the store's
/// `cached_read_logged`): the store's audit says the logs record cached
/// tokens, as the logs' audit does.
#[test]
fn a_logged_zero_cached_count_is_kept_by_the_store() {
    let env = Env::new();
    let lines: String = (0..6u32)
        .map(|i| {
            let usage = json!({"usage": {"prompt_tokens": 1000, "completion_tokens": 100,
                "prompt_tokens_details": {"cached_tokens": 0}}, "request_id": format!("z{i}")});
            gw_line(
                &format!("2026-10-01T0{i}:00:00Z"),
                "chat",
                "gpt-4o",
                1000,
                100,
                usage,
            ) + "\n"
        })
        .chain((0..4u32).map(|i| call(2, i, "chat", 1000, 100, &format!("n{i}"))))
        .collect();
    env.write("logs/app.jsonl", lines);
    ingest(&env, &["logs"]);
    let s = audit_of(&env, &["--store", "store"]);
    let present = |a: &Value| {
        a["coverage"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["field"] == "cached_read_tokens")
            .unwrap()["present"]
            .clone()
    };
    assert_eq!(present(&s), 6);
    assert_eq!(s, audit_of(&env, &["logs"]));
}

/// A log the store read that is gone from its folder is said, its calls
/// kept (hunt71: the ingest said nothing of it).
#[test]
fn a_gone_log_is_said_and_its_calls_kept() {
    let env = Env::new();
    env.write("logs/a.jsonl", call(1, 1, "chat", 1000, 100, "a1"));
    env.write("logs/b.jsonl", call(1, 2, "chat", 1000, 100, "b1"));
    ingest(&env, &["logs"]);
    std::fs::remove_file(env.path("logs/a.jsonl")).unwrap();
    let said = ingest(&env, &["logs"]);
    assert!(
        said.contains(
            "1 file the store read is no longer in its folder; its calls stay in the store"
        ),
        "{said}"
    );
    assert!(said.contains("logs/a.jsonl"), "{said}");
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 2);
}

/// A log moved to another folder while its writer goes on appending is
/// the same content grown, not a new file beside the old one's rows
/// (hunt71: 2,570 calls for 1,435); and a re-export under a new name that
/// corrects rows inside and adds more is read whole in place of the old
/// one, not only past its length (hunt71: the corrections were lost).
#[test]
fn moved_and_restated_files_keep_each_call_once_and_correct() {
    let env = Env::new();
    // One gpt-4o call of 1,000 in and 100 out costs $0.0035.
    let night = |day: u32, n: u32, out: u64| -> String {
        (0..n)
            .map(|i| call(day, i % 24, "chat", 1000, out, &format!("d{day}-{i}")))
            .collect()
    };
    env.write("logs/app.jsonl", night(1, 30, 100));
    ingest(&env, &["logs"]);
    std::fs::create_dir_all(env.path("logs/replica-a")).unwrap();
    std::fs::rename(
        env.path("logs/app.jsonl"),
        env.path("logs/replica-a/app.jsonl"),
    )
    .unwrap();
    std::fs::write(
        env.path("logs/replica-a/app.jsonl"),
        night(1, 30, 100) + &night(2, 10, 100),
    )
    .unwrap();
    let said = ingest(&env, &["logs"]);
    assert!(
        said.contains("logs/replica-a/app.jsonl (was logs/app.jsonl)"),
        "{said}"
    );
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 40);
    assert_eq!(usd(&s["totals"]["cost"]), "0.14");
    assert_eq!(s["totals"], audit_of(&env, &["logs"])["totals"]);

    // x.v2.jsonl for x.jsonl (1,000 calls, 170 KB: the correction is in
    // neither 64 KiB end): call 500 with 200 output tokens instead of 100
    // (+$0.001), and 5 more calls of day 2.
    let env = Env::new();
    env.write("logs/x.jsonl", night(1, 1000, 100));
    ingest(&env, &["logs"]);
    std::fs::remove_file(env.path("logs/x.jsonl")).unwrap();
    let corrected: String = night(1, 1000, 100)
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let l = if i == 500 {
                l.replace("\"completion_tokens\":100", "\"completion_tokens\":200")
            } else {
                l.to_string()
            };
            l + "\n"
        })
        .collect();
    assert!(corrected.len() > 2 * 65_536);
    env.write("logs/x.v2.jsonl", corrected + &night(2, 5, 100));
    let said = ingest(&env, &["logs"]);
    assert!(
        said.contains("logs/x.v2.jsonl (in place of logs/x.jsonl)"),
        "{said}"
    );
    // Its calls were replaced, not kept: not said to be gone (hunt75).
    assert!(!said.contains("no longer in their folders"), "{said}");
    let s = audit_of(&env, &["--store", "store"]);
    // 1,005 × $0.0035 + $0.001 = $3.5185.
    assert_eq!(s["totals"]["calls"], 1005);
    assert_eq!(usd(&s["totals"]["cost"]), "3.5185");
    assert_eq!(s["totals"], audit_of(&env, &["logs"])["totals"]);
    assert!(store_check(&env).contains("No problems found."));
}

/// logrotate with `rotate 3` and `delaycompress` over five nights: plain
/// renames, a compression (other bytes: read whole, the plain copy's rows
/// replaced), compressed renames (the same bytes), the oldest deleted, a
/// file rotated over. Every night's calls are kept once, and `store check`
/// finds every source's rows where its entry says.
#[test]
fn a_rotate_3_delaycompress_week_keeps_every_night_once() {
    let env = Env::new();
    let night = |day: u32| -> String {
        (0..3)
            .map(|i| call(day, i, "chat", 1000, 100, &format!("d{day}-{i}")))
            .collect()
    };
    let p = |n: &str| env.path(&format!("logs/{n}"));
    for day in 1..=5u32 {
        if day > 1 {
            let _ = std::fs::remove_file(p("app.log.3.gz"));
            if p("app.log.2.gz").exists() {
                std::fs::rename(p("app.log.2.gz"), p("app.log.3.gz")).unwrap();
            }
            if p("app.log.1").exists() {
                let text = std::fs::read_to_string(p("app.log.1")).unwrap();
                env.write_gz("logs/app.log.2.gz", &text);
                std::fs::remove_file(p("app.log.1")).unwrap();
            }
            std::fs::rename(p("app.log"), p("app.log.1")).unwrap();
        }
        env.write("logs/app.log", night(day));
        let said = ingest(&env, &["logs"]);
        assert!(
            store_check(&env).contains("No problems found."),
            "night {day}"
        );
        if day == 3 {
            // The first compression: the day-1 text came back whole in
            // app.log.2.gz, its 3 rows replaced. The summary said "0 rows
            // replaced" and that they were kept.
            assert!(said.contains(": 6 rows added, 3 rows replaced."), "{said}");
            assert!(!said.contains("Kept the calls"), "{said}");
        }
    }
    // 5 nights × 3 calls × $0.0035.
    let s = audit_of(&env, &["--store", "store"]);
    assert_eq!(s["totals"]["calls"], 15);
    assert_eq!(usd(&s["totals"]["cost"]), "0.0525");
    assert_eq!(s["input"]["repeated_calls"]["calls"], 0);
}

/// Two inputs with the same text (a log and its gzip copy) are marked in
/// the store's audit as in the logs' audit: the calls counted twice, said.
#[test]
fn the_store_marks_two_files_with_the_same_text_as_the_logs_audit_does() {
    let env = Env::new();
    let text = call(1, 1, "chat", 1000, 100, "a1") + &call(1, 2, "chat", 2000, 100, "a2");
    env.write("logs/a.jsonl", &text);
    env.write_gz("logs/b.jsonl.gz", &text);
    ingest(&env, &["logs"]);
    let stored = audit_of(&env, &["--store", "store"]);
    let raw = audit_of(&env, &["logs"]);
    let files = stored["input"]["files"].as_array().unwrap();
    assert_eq!(files[1]["same_content_as"], "logs/a.jsonl", "{files:?}");
    assert_eq!(stored, raw);
}

/// A file with another's text is said to be counted twice only for its
/// calls the audit counts: in its window or the period it is compared
/// with. a.jsonl and its copy b.jsonl.gz hold calls on Oct 1 at 01:00 and
/// 02:00, Oct 2 at 01:00 and Oct 3 at 10:00; c.jsonl one on Oct 5.
#[test]
fn a_copy_is_counted_twice_only_for_the_calls_an_audit_counts() {
    let env = Env::new();
    let text = call(1, 1, "chat", 1000, 100, "a1")
        + &call(1, 2, "chat", 2000, 100, "a2")
        + &call(2, 1, "chat", 1000, 100, "a3")
        + &call(3, 10, "chat", 1000, 100, "a4");
    env.write("logs/a.jsonl", &text);
    env.write_gz("logs/b.jsonl.gz", &text);
    env.write("logs/c.jsonl", call(5, 1, "chat", 1000, 100, "c1"));
    ingest(&env, &["logs"]);
    // (window, copy's calls counted): none on Oct 5 nor on Oct 4, the day
    // it is compared with (hunt100: a November copy named in every
    // December month-to-date report); none after Oct 3 12:00, a window
    // starting inside the copy's last day (hunt109: the store named it,
    // its day read for c.jsonl); 1 of 4 from Oct 3 00:00; 2 from Oct 2
    // 12:00 to Oct 3 12:00, its one on Oct 3 and one in the day before,
    // which the figures compare with (hunt109: not said after the first
    // change, though in the comparison twice); all 4 without a window.
    let cases: [(&[&str], Option<u64>); 5] = [
        (&["--since", "2026-10-05", "--until", "2026-10-05"], None),
        (&["--since", "2026-10-03T12:00:00Z"], None),
        (&["--since", "2026-10-03"], Some(1)),
        (
            &[
                "--since",
                "2026-10-02T12:00:00Z",
                "--until",
                "2026-10-03T12:00:00Z",
            ],
            Some(2),
        ),
        (&[], Some(4)),
    ];
    for (window, counted) in cases {
        let out = env
            .cmd()
            .args(["audit", "logs", "--out", "out", "--quiet"])
            .args(window)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let said = match counted {
            None => None,
            Some(4) => Some("its 4 calls are counted a second time".to_string()),
            Some(n) => Some(format!(
                "{n} of its 4 calls (those in the period or the one it is compared with) are counted a second time"
            )),
        };
        assert_eq!(
            err.contains("logs/b.jsonl.gz holds the same text as logs/a.jsonl"),
            said.is_some(),
            "{window:?}: {err}"
        );
        if let Some(said) = &said {
            assert!(err.contains(said), "{window:?}: {err}");
        }
        let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
        assert_eq!(
            md.contains("**Counted twice:**"),
            said.is_some(),
            "{window:?}"
        );
        let raw = env.report()["audit"].clone();
        let stored = audit_of(&env, &[&["--store", "store"][..], window].concat());
        let files = stored["input"]["files"].as_array().unwrap();
        assert_eq!(files[1]["file"], "logs/b.jsonl.gz");
        let named = counted.map(|_| "logs/a.jsonl");
        assert_eq!(files[1]["same_content_as"], json!(named), "{window:?}");
        assert_eq!(stored, raw, "{window:?}");
    }
}

/// `store check` names every Parquet file no commit lists, at any depth of
/// the dataset folders (an engine reading `calls/**/*.parquet` would count
/// them), not only those in a day's folder.
#[test]
fn store_check_finds_stray_parquet_files_at_any_depth() {
    let env = Env::new();
    env.write("logs/a.jsonl", call(1, 1, "chat", 10_000, 1000, "a1"));
    ingest(&env, &["logs", "--quiet"]);
    store_check(&env);
    let part = std::fs::read_dir(env.path("store/calls/day=2026-10-01"))
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "parquet"))
        .unwrap()
        .path();
    std::fs::copy(&part, env.path("store/calls/stray.parquet")).unwrap();
    std::fs::create_dir_all(env.path("store/calls/day=2026-10-01/sub")).unwrap();
    std::fs::copy(&part, env.path("store/calls/day=2026-10-01/sub/x.parquet")).unwrap();
    let out = env
        .cmd()
        .args(["store", "check", "--store", "store"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for stray in ["calls/stray.parquet", "calls/day=2026-10-01/sub/x.parquet"] {
        assert!(
            err.contains(&format!("{stray}: a Parquet file no commit lists")),
            "{err}"
        );
    }
}

/// A look at a narrower window (the same end, a later start) is compared
/// with the ledger but not recorded: recorded, its findings outside the
/// window would be "resolved" and come back "new" the next night, as
/// duplicate tickets. `--no-findings` is refused for the same reason.
#[test]
fn a_narrower_look_is_not_recorded_in_the_ledger() {
    let env = Env::new();
    env.write(
        "tokenaudit.toml",
        "[[budget]]\nfeature = \"chat\"\nper_call = 0.001\n",
    );
    let mut logs = call(1, 1, "chat", 10_000, 1000, "a1");
    logs.push_str(&call(5, 1, "search", 100, 10, "b1"));
    env.write("logs/a.jsonl", logs);
    ingest(&env, &["logs", "--quiet"]);
    let run = |args: &[&str]| {
        let out = env
            .cmd()
            .args([
                "findings",
                "--store",
                "store",
                "--config",
                "tokenaudit.toml",
                "--format",
                "jsonl",
            ])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let status = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|r| r["rule"] == "TA116")
            .map(|r| {
                format!(
                    "{} {}",
                    r["rule"].as_str().unwrap(),
                    r["status"].as_str().unwrap()
                )
            })
            .collect()
    };
    // Night 1: the overrun on 2026-10-01 is new (the budget's finding is
    // the one followed here).
    let (code, out, _) = run(&[]);
    assert_eq!(code, Some(0));
    assert_eq!(status(&out), ["TA116 new"]);
    // From 2026-10-03 on, it is outside the window: resolved there, but
    // not recorded.
    let (code, out, err) = run(&["--since", "2026-10-03"]);
    assert_eq!(code, Some(0));
    assert_eq!(status(&out), ["TA116 resolved"]);
    assert!(
        err.contains("compared, not recorded in the ledger of store: this window ends with its last entry's and starts later"),
        "{err}"
    );
    // The next whole run finds it persisting, not new again.
    let (_, out, _) = run(&[]);
    assert_eq!(status(&out), ["TA116 persisting"]);
    let (code, _, err) = run(&["--no-findings"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--no-findings leaves `findings` nothing to give"),
        "{err}"
    );
    let (_, out, _) = run(&[]);
    assert_eq!(status(&out), ["TA116 persisting"]);
}

/// A late export (calls of days already seen, none later) changes no
/// window's end: the rolling window the next night is still a new night
/// (the store moved on, the start by a day), recorded, so its new
/// findings are not "new" again the night after (duplicate tickets). A
/// look at the last days after the same new data stays unrecorded.
#[test]
fn a_rolling_window_over_late_data_is_recorded() {
    let env = Env::new();
    env.write(
        "tokenaudit.toml",
        "[[budget]]\nfeature = \"late\"\nper_call = 0.001\n",
    );
    let days: String = (1..=10)
        .map(|d| call(d, 1, "chat", 100, 10, &format!("a{d}")))
        .collect();
    env.write("logs/a.jsonl", days);
    ingest(&env, &["logs", "--quiet"]);
    let run = |since: &str| {
        let out = env
            .cmd()
            .args([
                "findings",
                "--store",
                "store",
                "--config",
                "tokenaudit.toml",
            ])
            .args(["--since", since, "--format", "jsonl", "--changed-only"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let tickets: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|r| r["rule"] == "TA116")
            .map(|r| r["status"].as_str().unwrap().to_string())
            .collect();
        (tickets, String::from_utf8(out.stderr).unwrap())
    };
    assert_eq!(run("2026-09-11").0, Vec::<String>::new());
    // The late export: a costly call on 2 October, over its budget.
    env.write("logs/late.jsonl", call(2, 3, "late", 10_000, 1000, "l1"));
    ingest(&env, &["logs", "--quiet"]);
    // A look at the last two days only, after it: compared, not recorded.
    let (tickets, err) = run("2026-10-09");
    assert!(tickets.is_empty(), "{tickets:?}");
    assert!(err.contains("not recorded"), "{err}");
    // The next night's rolling window: new, and recorded.
    let (tickets, err) = run("2026-09-12");
    assert_eq!(tickets, ["new"]);
    assert!(!err.contains("not recorded"), "{err}");
    // The night after (no new data either): nothing changed. It was "new"
    // again.
    let (tickets, _) = run("2026-09-13");
    assert!(tickets.is_empty(), "{tickets:?}");
}

/// A rolling window (`--since` a day later each night, no `--until`) ends
/// with the new night's calls: each night is recorded.
#[test]
fn a_rolling_window_is_recorded_every_night() {
    let env = Env::new();
    env.write(
        "tokenaudit.toml",
        "[[budget]]\nfeature = \"chat\"\nper_call = 0.001\n",
    );
    env.write("logs/a.jsonl", call(1, 1, "chat", 10_000, 1000, "a1"));
    ingest(&env, &["logs", "--quiet"]);
    let run = |since: &str| {
        let out = env
            .cmd()
            .args([
                "findings",
                "--store",
                "store",
                "--config",
                "tokenaudit.toml",
            ])
            .args(["--since", since, "--quiet"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    assert_eq!(run("2026-09-01"), "");
    // The next night: a new day's calls, the window a day later.
    env.write("logs/b.jsonl", call(2, 1, "chat", 10_000, 1000, "b1"));
    ingest(&env, &["logs", "--quiet"]);
    let err = run("2026-09-02");
    assert!(!err.contains("not recorded"), "{err}");
    let entries = walk(&env.path("store/_findings"))
        .into_iter()
        .filter(|p| p.extension().is_none_or(|e| e != "until"))
        .count();
    assert_eq!(entries, 2);
}

/// An entry an earlier build wrote for an open window (no end kept) bounds
/// nothing: the next night is recorded (the ledger froze after an
/// upgrade). A window without calls is compared, not recorded.
#[test]
fn the_ledger_goes_on_after_an_upgrade_and_skips_empty_windows() {
    let env = Env::new();
    env.write(
        "tokenaudit.toml",
        "[[budget]]\nfeature = \"chat\"\nper_call = 0.001\n",
    );
    env.write("logs/a.jsonl", call(1, 1, "chat", 10_000, 1000, "a1"));
    ingest(&env, &["logs", "--quiet"]);
    let run = |args: &[&str]| {
        let out = env
            .cmd()
            .args([
                "findings",
                "--store",
                "store",
                "--config",
                "tokenaudit.toml",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    let entries = || {
        walk(&env.path("store/_findings"))
            .into_iter()
            .filter(|p| p.extension().is_none_or(|e| e != "until"))
            .count()
    };
    assert_eq!(run(&["--quiet"]), "");
    // As an earlier build left it: an open window's entry, no end.
    let side = walk(&env.path("store/_findings"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "until"))
        .unwrap();
    std::fs::write(&side, "").unwrap();
    let err = run(&["--quiet"]);
    assert!(!err.contains("not recorded"), "{err}");
    assert_eq!(entries(), 2);
    let err = run(&["--since", "2030-01-01"]);
    assert!(err.contains("this window has no calls"), "{err}");
    assert_eq!(entries(), 2);
}

/// The TA116 tickets' statuses of `findings --store store --since S
/// --until U --changed-only`, and its stderr.
fn budget_tickets(env: &Env, since: &str, until: &str) -> (Vec<String>, String) {
    let out = env
        .cmd()
        .args([
            "findings",
            "--store",
            "store",
            "--config",
            "tokenaudit.toml",
        ])
        .args([
            "--since",
            since,
            "--until",
            until,
            "--format",
            "jsonl",
            "--changed-only",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let tickets = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["rule"] == "TA116")
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect();
    (tickets, String::from_utf8(out.stderr).unwrap())
}

/// The recipe's window (`--since` 30 days and `--until` yesterday) on a
/// night whose export is late (no new data): the same length of window a
/// day later is the next night, recorded, so the changes the moving window
/// makes are told that night only, not again the next night with the late
/// data (every changed ticket went out twice).
#[test]
fn a_night_without_new_data_is_recorded_when_its_window_moved_on() {
    let env = Env::new();
    env.write(
        "tokenaudit.toml",
        "[[budget]]\nfeature = \"old\"\nper_call = 0.001\n",
    );
    let mut logs: String = (1..=10)
        .map(|d| call(d, 1, "chat", 100, 10, &format!("a{d}")))
        .collect();
    // A costly call on 1 October, over its budget: it leaves the window on
    // the night of 12 October (since 2 October).
    logs.push_str(&call(1, 2, "old", 10_000, 1000, "o1"));
    env.write("logs/a.jsonl", logs);
    ingest(&env, &["logs", "--quiet"]);
    let run = |since: &str, until: &str| budget_tickets(&env, since, until);
    // Night of 11 October: the overrun is new.
    assert_eq!(run("2026-10-01", "2026-10-10").0, ["new"]);
    // Night of 12 October, the export of the 11th late: the window moved
    // on a day; the overrun left it: resolved, and recorded.
    let (tickets, err) = run("2026-10-02", "2026-10-11");
    assert_eq!(tickets, ["resolved"]);
    assert!(!err.contains("not recorded"), "{err}");
    // Night of 13 October, with the late export: nothing changed.
    env.write("logs/b.jsonl", call(11, 1, "chat", 100, 10, "b11"));
    ingest(&env, &["logs", "--quiet"]);
    let (tickets, _) = run("2026-10-03", "2026-10-12");
    assert!(tickets.is_empty(), "{tickets:?}");
}

/// A one-off look at the last days, run the same night before the nightly
/// window: it keeps a history of its own in the ledger (by its length), so
/// the nightly still compares with last night's: the overrun it found on
/// 5 October persists (it was `new` again: a second issue).
#[test]
fn a_shorter_look_before_the_nightly_is_not_its_baseline() {
    let env = Env::new();
    env.write(
        "tokenaudit.toml",
        "[[budget]]\nfeature = \"big\"\nper_call = 0.001\n",
    );
    let mut logs: String = (1..=10)
        .map(|d| call(d, 1, "chat", 100, 10, &format!("a{d}")))
        .collect();
    logs.push_str(&call(5, 2, "big", 10_000, 1000, "o5"));
    env.write("logs/a.jsonl", logs);
    ingest(&env, &["logs", "--quiet"]);
    let run = |since: &str, until: &str| budget_tickets(&env, since, until).0;
    assert_eq!(run("2026-10-01", "2026-10-10"), ["new"]);
    env.write("logs/b.jsonl", call(11, 1, "chat", 100, 10, "b11"));
    ingest(&env, &["logs", "--quiet"]);
    // The look at 9–11 October: the overrun is outside it.
    assert_eq!(run("2026-10-09", "2026-10-11"), ["resolved"]);
    // The nightly window, 2–11 October: it persists.
    assert!(run("2026-10-02", "2026-10-11").is_empty());
}

#[test]
fn calls_an_older_tokenaudit_ingested_are_told() {
    let env = Env::new();
    let lines: String = (0..3)
        .map(|i| call(1, 10 + i, "chat", 1000, 100, &format!("r{i}")))
        .collect();
    env.write("logs/a.jsonl", lines);
    ingest(&env, &["logs"]);
    assert_eq!(commit(&env, 1)["schema_version"], 2);
    let (_, said) = cached_audit(&env, &[]);
    assert!(!said.contains("schema 1"), "{said}");
    // The commit as an ingest of store schema 1 wrote it: its rows'
    // near-duplicate signatures are of the older scheme.
    let mut c = commit(&env, 1);
    c["schema_version"] = json!(1);
    std::fs::write(
        env.path(&format!("store/_commits/{:020}.json", 1)),
        serde_json::to_vec_pretty(&c).unwrap(),
    )
    .unwrap();
    let (_, said) = cached_audit(&env, &[]);
    assert!(
        said.contains("warning: --store store: up to 3 of its calls were ingested by an older tokenaudit (store schema 1)"),
        "{said}"
    );
    // A second night, then a compaction merging the two parts of the day:
    // the merged part holds schema-1 rows (without their signatures), and
    // is told as such.
    env.write(
        "logs/b.jsonl",
        (3..5)
            .map(|i| call(1, 10 + i, "chat", 1000, 100, &format!("r{i}")))
            .collect::<String>(),
    );
    ingest(&env, &["logs"]);
    let out = env
        .cmd()
        .args(["store", "compact", "--store", "store"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let compaction = commit(&env, 3);
    assert_eq!(compaction["kind"], "compact");
    assert_eq!(compaction["unsigned"].as_array().unwrap().len(), 1);
    let (a, said) = cached_audit(&env, &[]);
    assert_eq!(a["totals"]["calls"], 5);
    assert!(
        said.contains("warning: --store store: up to 5 of its calls were ingested by an older tokenaudit (store schema 1)"),
        "{said}"
    );
}

#[test]
fn a_log_compressed_after_it_was_ingested_is_not_counted_twice() {
    // logrotate with dateext and delaycompress: the plain copy of a night
    // is gzipped (same name + .gz) the night after.
    let env = Env::new();
    let day = |d: u32, ids: std::ops::Range<u32>| -> String {
        ids.map(|i| call(d, i % 24, "f", 1000, 100, &format!("r{i}")))
            .collect()
    };
    env.write("logs/app.jsonl", day(1, 0..10));
    ingest(&env, &["logs"]);
    std::fs::rename(
        env.path("logs/app.jsonl"),
        env.path("logs/app.jsonl-20261002"),
    )
    .unwrap();
    env.write("logs/app.jsonl", day(2, 10..20));
    ingest(&env, &["logs"]);
    let text = std::fs::read_to_string(env.path("logs/app.jsonl-20261002")).unwrap();
    std::fs::remove_file(env.path("logs/app.jsonl-20261002")).unwrap();
    env.write_gz("logs/app.jsonl-20261002.gz", &text);
    std::fs::rename(
        env.path("logs/app.jsonl"),
        env.path("logs/app.jsonl-20261003"),
    )
    .unwrap();
    env.write("logs/app.jsonl", day(3, 20..30));
    let said = ingest(&env, &["logs"]);
    assert!(
        said.contains("Read 1 file that holds the text of stored files now gone (moved or compressed since): their calls replace those files' rather than count twice: logs/app.jsonl-20261002.gz (was logs/app.jsonl-20261002)."),
        "{said}"
    );
    // 30 calls of gpt-4o: 1,000 × $2.50/M + 100 × $10/M = $0.0035 each.
    let stored = audit_of(&env, &["--store", "store"]);
    assert_eq!(stored["totals"]["calls"], 30);
    assert_eq!(usd(&stored["totals"]["cost"]), "0.105");
    let raw = audit_of(&env, &["logs"]);
    assert_eq!(raw["totals"]["calls"], 30);
    // The next night, nothing new.
    let said = ingest(&env, &["logs"]);
    assert!(said.starts_with("Nothing new to ingest."), "{said}");
}

/// `--store s3://…` in a build without the `cluster` feature: the audit
/// does not suggest ingesting to the URL, and an ingest to a URL is
/// refused, not made a local folder `s3:/bucket/…` that a later audit
/// reads as the bucket (hunt84).
#[test]
fn a_store_url_is_never_made_a_local_folder() {
    let env = Env::new();
    env.write("logs/calls.jsonl", call(1, 9, "chat", 100, 10, "r1") + "\n");
    let out = env
        .cmd()
        .args(["ingest", "logs", "--store", "s3://acme/store", "--quiet"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not an object store URL"), "{err}");
    assert!(!env.path("s3:").exists());
    if cfg!(not(feature = "cluster")) {
        let out = env
            .cmd()
            .args([
                "audit",
                "--store",
                "s3://acme/store",
                "--out",
                "out",
                "--quiet",
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("`cluster` feature"), "{err}");
        assert!(!err.contains("--store s3://acme/store`"), "{err}");
    }
}

/// The parent session of the `codex-forks` fixture: its path and file name.
fn codex_parent_fixture() -> (PathBuf, String) {
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats/codex-forks");
    let parent = walk(&fixture)
        .into_iter()
        .find(|f| f.to_str().unwrap().contains("T12-00-00-019a0005"))
        .unwrap();
    let name = parent.file_name().unwrap().to_str().unwrap().to_string();
    (parent, name)
}

/// Codex archives a session by moving its file from `sessions/` to
/// `archived_sessions/`; a nightly ingest of both folders counted its calls
/// twice (hunt86: its calls carry no request ids to drop the gone file's
/// copies by), and `audit --store` said so with advice that could not be
/// followed. A gone agent log that a file read now begins with moved: its
/// rows are replaced. The same for a Claude Code file moved to another
/// project folder (its totals were right, a warning said otherwise).
#[test]
fn an_archived_codex_session_or_a_moved_claude_code_file_is_counted_once() {
    let env = Env::new();
    let (parent, name) = codex_parent_fixture();
    env.write(
        &format!("codex/sessions/2026/03/10/{name}"),
        std::fs::read(&parent).unwrap(),
    );
    std::fs::create_dir_all(env.path("codex/archived_sessions")).unwrap();
    let inputs = ["codex/sessions", "codex/archived_sessions"];
    ingest(&env, &inputs);
    let night1 = audit_of(&env, &["--store", "store"]);
    std::fs::rename(
        env.path(&format!("codex/sessions/2026/03/10/{name}")),
        env.path(&format!("codex/archived_sessions/{name}")),
    )
    .unwrap();
    let said = ingest(&env, &inputs);
    assert!(said.contains("rows replaced"), "{said}");
    let out = env
        .cmd()
        .args(["audit", "--store", "store", "--out", "out", "--quiet"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("counted a second time"), "{err}");
    let night2 = env.report()["audit"].clone();
    assert_eq!(night2["totals"], night1["totals"]);
    assert_eq!(night2["totals"], audit_of(&env, &["codex"])["totals"]);
}

/// Codex compresses a cold rollout in place (`….jsonl` becomes
/// `….jsonl.zst`, the plain file removed) and decompresses it again when
/// the session is resumed: each was read as a new file beside the gone
/// one's rows (hunt152: 2× the session, then 5 calls for 3).
#[test]
fn a_codex_rollout_compressed_in_place_and_back_is_counted_once() {
    let env = Env::new();
    let (parent, name) = codex_parent_fixture();
    let text = std::fs::read(&parent).unwrap();
    let plain = format!("codex/sessions/2026/03/10/{name}");
    env.write(&plain, text.clone());
    let inputs = ["codex/sessions"];
    ingest(&env, &inputs);
    let night1 = audit_of(&env, &["--store", "store"]);
    assert!(night1["totals"]["calls"].as_u64().unwrap() > 0);
    // Compressed in place.
    std::fs::write(
        env.path(&format!("{plain}.zst")),
        zstd::encode_all(&text[..], 3).unwrap(),
    )
    .unwrap();
    std::fs::remove_file(env.path(&plain)).unwrap();
    let said = ingest(&env, &inputs);
    assert!(said.contains("rows replaced"), "{said}");
    assert_eq!(
        audit_of(&env, &["--store", "store"])["totals"],
        night1["totals"]
    );
    // Resumed: decompressed again, and a line more (a repeat of the last
    // token count: no new call, the same totals).
    let last = text
        .split(|&b| b == b'\n')
        .rfind(|l| l.windows(11).any(|w| w == b"token_count"))
        .unwrap()
        .to_vec();
    let mut grown = text.clone();
    grown.extend_from_slice(&last);
    grown.push(b'\n');
    std::fs::write(env.path(&plain), grown).unwrap();
    std::fs::remove_file(env.path(&format!("{plain}.zst"))).unwrap();
    let said = ingest(&env, &inputs);
    assert!(said.contains("rows replaced"), "{said}");
    let night3 = audit_of(&env, &["--store", "store"]);
    assert_eq!(night3["totals"], night1["totals"]);
    assert_eq!(night3["totals"], audit_of(&env, &["codex"])["totals"]);
    // Compressed again, the plain file left beside it for one night (Codex
    // writes the `.zst` before it removes the plain file; hunt153: the
    // stored sibling came after the gone file, its calls counted twice).
    let text = std::fs::read(env.path(&plain)).unwrap();
    std::fs::write(
        env.path(&format!("{plain}.zst")),
        zstd::encode_all(&text[..], 3).unwrap(),
    )
    .unwrap();
    ingest(&env, &inputs);
    std::fs::remove_file(env.path(&plain)).unwrap();
    ingest(&env, &inputs);
    let night5 = audit_of(&env, &["--store", "store"]);
    assert_eq!(night5["totals"], night1["totals"]);
}

/// A build without the `cluster` feature says what `--engine` needs
/// instead of "unexpected argument", and takes `--engine reader`, which is
/// what it does anyway.
#[cfg(not(feature = "cluster"))]
#[test]
fn engine_in_a_build_without_the_cluster_feature_says_what_it_needs() {
    let env = Env::new();
    env.write("logs/a.jsonl", call(1, 1, "chat", 10_000, 1000, "a1"));
    ingest(&env, &["logs", "--quiet"]);
    let out = env
        .cmd()
        .args([
            "audit",
            "--store",
            "store",
            "--engine",
            "datafusion",
            "--out",
            "out",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: --engine datafusion: this build has no DataFusion or Ballista (build with `cargo build --release --features cluster`, docs/cluster.md); without --engine, the store's own reader audits --store DIR\n"
    );
    assert!(!env.path("out").exists());
    // As a `cluster` build: an engine needs a store; an unknown one is
    // said unknown (hunt109).
    for (args, said) in [
        (
            &["audit", "logs", "--engine", "reader"][..],
            "error: --engine reader: an engine audits a store, given with --store DIR; log files are read by this process (ingest them into a store first: `tokenaudit ingest LOGS --store DIR`)\n",
        ),
        (
            &["audit", "--store", "store", "--engine", "nonsense"][..],
            "error: --engine nonsense: no such engine (reader; with the `cluster` feature also datafusion, standalone and df://HOST:PORT)\n",
        ),
    ] {
        let out = env.cmd().args(args).args(["--out", "out"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(String::from_utf8_lossy(&out.stderr), said);
    }
    let read = audit_of(&env, &["--store", "store", "--engine", "reader"]);
    // 10,000 × $2.50/M + 1,000 × $10/M.
    assert_eq!(usd(&read["totals"]["cost"]), "0.035");
}

/// A FIFO put in a part's or a day's cache file's place is no file of the
/// store's: the audit reads the day around the cache file and refuses the
/// part, and `store check` names it, instead of blocking on it for good
/// (hunt110). Run under `timeout`, so that a hang fails the test.
#[test]
fn a_fifo_in_a_files_place_is_refused_not_waited_on() {
    let env = Env::new();
    env.write(
        "logs/a.jsonl",
        call(1, 1, "chat", 10_000, 1000, "a1") + &call(2, 1, "chat", 10_000, 1000, "a2"),
    );
    ingest(&env, &["logs", "--quiet"]);
    let first = audit_of(&env, &["--store", "store"]);
    let bin = assert_cmd::cargo::cargo_bin("tokenaudit");
    let within = |args: &[&str]| {
        std::process::Command::new("timeout")
            .arg("60")
            .arg(&bin)
            .args(args)
            .current_dir(env.dir.path())
            .output()
            .unwrap()
    };
    let only = |dir: &str| -> PathBuf {
        let mut files: Vec<PathBuf> = std::fs::read_dir(env.path(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        files.pop().unwrap()
    };
    // The day's own file, not the merge of both days, is what is read.
    std::fs::remove_dir_all(env.path("store/_cache/merged")).unwrap();
    let cached = only("store/_cache/day=2026-10-01");
    std::fs::remove_file(&cached).unwrap();
    crate::bad_input::mkfifo(&cached);
    let out = within(&["audit", "--store", "store", "--out", "again", "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("not a regular file; read from the parts again"),
        "{err}"
    );
    let again: Value =
        serde_json::from_str(&std::fs::read_to_string(env.path("again/audit.json")).unwrap())
            .unwrap();
    // 2 × (10,000 × $2.50/M + 1,000 × $10/M).
    assert_eq!(usd(&again["audit"]["totals"]["cost"]), "0.07");
    assert_eq!(again["audit"]["totals"], first["totals"]);
    let part = only("store/calls/day=2026-10-02");
    std::fs::remove_file(&part).unwrap();
    crate::bad_input::mkfifo(&part);
    // Its day read from its parts, not from the cache.
    std::fs::remove_dir_all(env.path("store/_cache")).unwrap();
    let out = within(&["audit", "--store", "store", "--out", "third", "--quiet"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    let out = within(&["store", "check", "--store", "store"]);
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("committed but unreadable: not a regular file"),
        "{said}"
    );
}

/// The recipe acts on its own issue of a finding, the one whose body holds
/// the fingerprint's marker, not on a person's issue that names the
/// fingerprint (hunt141's bug1: GitHub's search gives the newest first, and
/// the person's issue was closed as resolved).
#[test]
fn the_nightly_recipe_leaves_a_persons_issue_naming_the_fingerprint_alone() {
    let env = Env::new();
    let (night, issues) = (|t: &str| gh_night(&env, t), || gh_issues(&env));
    env.write(
        "logs/2026-10-30.jsonl",
        call(30, 9, "chat", 10_000, 1000, "c1"),
    );
    night("2026-10-31");
    let mut i = issues();
    let body = i[0]["body"].as_str().unwrap().to_string();
    let fp = body
        .split("<!-- tokenaudit-fingerprint: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .to_string();
    // A person's issue, newer, naming the finding.
    i.push(json!({"number": 2, "state": "open", "title": "Try a smaller model",
        "body": format!("See tokenaudit finding {fp}: tokenaudit-fingerprint: {fp}"), "comments": []}));
    env.write("bin/gh-issues.json", serde_json::to_string(&i).unwrap());
    env.write(
        "logs/2026-11-30.jsonl",
        call(1, 9, "search", 1000, 10, "s1").replace("2026-10-01", "2026-11-30"),
    );
    night("2026-12-01");
    let i = issues();
    assert_eq!(i[0]["state"], "closed", "{i:?}");
    assert_eq!(i[1]["state"], "open", "{i:?}");
    assert_eq!(i[1]["comments"], json!([]));
}

/// A log rotated between an ingest's plan and its reading: the grown file
/// opened by its path is the new one, shorter than where the old one ended,
/// and the lines that grew were never read. The source keeps what the
/// store knew of it, so the next night finds the grown log under its new
/// name and reads them (hunt139's bug2: recorded as read, 10 calls lost for
/// good, `store check` passing).
#[test]
fn a_log_rotated_while_an_ingest_runs_loses_no_call() {
    let env = Env::new();
    let first: String = (0..10)
        .map(|i| call(1, 1, "chat", 1000, 100, &format!("a{i}")))
        .collect();
    env.write("logs/app.log", &first);
    ingest(&env, &["logs"]);
    let grown: String = (0..10)
        .map(|i| call(2, 1, "chat", 1000, 100, &format!("b{i}")))
        .collect();
    env.write("logs/app.log", first.clone() + &grown);
    let (nightly, go) = waiting_at(
        &env,
        &["ingest", "logs/app.log", "--store", "store", "-q"],
        "ingest-planned",
    );
    // logrotate: the log renamed, a new one begun.
    std::fs::rename(env.path("logs/app.log"), env.path("logs/app.log.1")).unwrap();
    let new: String = (0..3)
        .map(|i| call(3, 1, "chat", 1000, 100, &format!("c{i}")))
        .collect();
    env.write("logs/app.log", &new);
    go();
    let out = nightly.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ingest(&env, &["logs"]);
    store_check(&env);
    // 23 calls, as the logs hold them.
    let s = audit_of(&env, &["--store", "store"]);
    let raw = audit_of(&env, &["logs"]);
    assert_eq!(raw["totals"]["calls"], 23);
    assert_eq!(s["totals"]["calls"], 23);
    assert_eq!(s["totals"]["cost"], raw["totals"]["cost"]);
}

/// Reports are refused before the run where they cannot go: inside a store
/// (hunt185: a `focus.parquet` among the calls, read by DuckDB as calls,
/// and `store check` failed from then on), or at a file.
#[test]
fn reports_are_not_written_inside_a_store_or_at_a_file() {
    let env = Env::new();
    env.write("logs/a.jsonl", call(1, 1, "chat", 1000, 100, "a1"));
    ingest(&env, &["logs"]);
    for out in ["store/calls/day=2026-10-01", "store/x"] {
        let o = env
            .cmd()
            .args([
                "audit", "--store", "store", "--out", out, "--format", "md,focus", "-q",
            ])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{out}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("is inside the store"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // Through a link into the store too; a path out of it through `..`
    // is no path inside it (hunt187).
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(env.path("store/calls"), env.path("link")).unwrap();
        let o = env
            .cmd()
            .args(["audit", "--store", "store", "--out", "link/rep", "-q"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
    }
    let o = env
        .cmd()
        .args([
            "audit",
            "--store",
            "store",
            "--out",
            "store/calls/../../rep",
            "-q",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    store_check(&env);
    env.write("afile", "mine");
    let o = env
        .cmd()
        .args(["audit", "logs", "--out", "afile", "-q"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("cannot create output folder afile: it is a file"));
    assert_eq!(std::fs::read_to_string(env.path("afile")).unwrap(), "mine");
}
