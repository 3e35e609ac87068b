//! Reading: every kind of bad input is counted with its reason, file and
//! line (1-based), never crashes and never silently disappears; every input
//! mechanism (directories, globs, stdin, compression, Parquet, mappings) works.
//!
//! Prices used (shipped catalog): gpt-4o $2.50/M input, $1.25/M cached,
//! $10/M output; gpt-4o-mini $0.15/M input, $0.60/M output.
//!
//! `GOOD` is a gpt-4o call of 1,000 input / 100 output tokens:
//! 1,000 × $2.50/M + 100 × $10/M = $0.0025 + $0.001 = $0.0035 each.

use std::io::Read;
use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};
use tokenaudit_core::Money;

use crate::util::{row, usd, Env};

pub(crate) const GOOD: &str =
    r#"{"model":"gpt-4o","feature":"f","usage":{"prompt_tokens":1000,"completion_tokens":100}}"#;

pub(crate) fn good(n: usize) -> String {
    format!("{GOOD}\n").repeat(n)
}

/// `n` × $0.0035, as the report writes it.
pub(crate) fn good_cost(n: u64) -> String {
    (Money::parse_usd("0.0035").unwrap() * n).to_decimal_string()
}

fn run(env: &Env, args: &[&str]) -> Output {
    env.cmd()
        .arg("audit")
        .args(args)
        .args(["--out", "out", "--quiet"])
        .output()
        .unwrap()
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `(file, line, reason)` of every rejected sample, in report order.
pub(crate) fn samples(r: &Value) -> Vec<(String, u64, String)> {
    r["audit"]["input"]["rejected_samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["file"].as_str().unwrap().to_string(),
                s["line"].as_u64().unwrap(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub(crate) fn at(file: &str, line: u64, reason: &str) -> (String, u64, String) {
    (file.to_string(), line, reason.to_string())
}

/// `(file, encoding, format, lines, records, rejected)` of one input file.
pub(crate) type FileRow = (String, String, String, u64, u64, u64);

/// Every input file's row, in report order.
pub(crate) fn files(r: &Value) -> Vec<FileRow> {
    r["audit"]["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["encoding"].as_str().unwrap().to_string(),
                f["format"].as_str().unwrap().to_string(),
                f["lines"].as_u64().unwrap(),
                f["records"].as_u64().unwrap(),
                f["rejected"].as_u64().unwrap(),
            )
        })
        .collect()
}

pub(crate) fn file(
    name: &str,
    encoding: &str,
    format: &str,
    lines: u64,
    records: u64,
    rejected: u64,
) -> FileRow {
    (
        name.to_string(),
        encoding.to_string(),
        format.to_string(),
        lines,
        records,
        rejected,
    )
}

/// The per-file figures add up to the input totals.
pub(crate) fn assert_files_add_up(r: &Value) {
    let input = &r["audit"]["input"];
    let fs = files(r);
    let sum = |f: fn(&FileRow) -> u64| -> u64 { fs.iter().map(f).sum() };
    assert_eq!(input["lines"], sum(|f| f.3), "lines: {input}");
    assert_eq!(input["records"], sum(|f| f.4), "records: {input}");
    assert_eq!(input["rejected"], sum(|f| f.5), "rejected: {input}");
    let by_reason: u64 = input["rejected_by_reason"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(input["rejected"], by_reason);
}

// 1. Every kind of bad line, mixed with good ones in one file.

#[test]
fn each_bad_line_is_counted_with_reason_and_line() {
    let env = Env::new();
    let lines = [
        GOOD,                                                                           // 1
        r#"{"model":"gpt-4o","usage":{"prompt_tokens":10"#, // 2 malformed_json
        "[1, 2, 3]",                                        // 3 not_an_object
        r#"{"model":"gpt-4o","usage":{"prompt_tokens":"many","completion_tokens":1}}"#, // 4 wrong_type
        GOOD,                                                                           // 5
        r#"{"model":"gpt-4o","usage":{"prompt_tokens":-3,"completion_tokens":1}}"#, // 6 negative_tokens
        r#"{"model":"gpt-4o","usage":{"prompt_tokens":1e12,"completion_tokens":1}}"#, // 7 absurd_tokens
        r#"{"usage":{"prompt_tokens":5,"completion_tokens":1}}"#, // 8 missing_model
        r#"{"model":"gpt-4o","status":"ok"}"#,                    // 9 missing_usage
        r#"{"model":"gpt-4o","timestamp":"soon","usage":{"prompt_tokens":5,"completion_tokens":1}}"#, // 10 bad_timestamp
        r#"{"model":"gpt-4o","usage":{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":9}}}"#, // 11 inconsistent_usage
        // 12: a failed call without usage is a record (free), not a reject.
        r#"{"model":"gpt-4o","feature":"f","status":"error","error":"rate_limited"}"#,
        // 13: 2,000 prompt of which 500 cached, 300 output.
        r#"{"model":"gpt-4o","feature":"g","usage":{"prompt_tokens":2000,"completion_tokens":300,"prompt_tokens_details":{"cached_tokens":500}}}"#,
    ];
    env.write("a.jsonl", lines.join("\n") + "\n");
    let r = env.audit(&["a.jsonl"]);
    let input = &r["audit"]["input"];
    assert_eq!(input["lines"], 13);
    assert_eq!(input["records"], 4);
    assert_eq!(input["rejected"], 9);
    assert_eq!(
        input["rejected_by_reason"],
        json!({
            "malformed_json": 1, "not_an_object": 1, "wrong_type": 1,
            "negative_tokens": 1, "absurd_tokens": 1, "missing_model": 1,
            "missing_usage": 1, "bad_timestamp": 1, "inconsistent_usage": 1,
        })
    );
    assert_eq!(
        samples(&r),
        [
            at("a.jsonl", 2, "malformed_json"),
            at("a.jsonl", 3, "not_an_object"),
            at("a.jsonl", 4, "wrong_type"),
            at("a.jsonl", 6, "negative_tokens"),
            at("a.jsonl", 7, "absurd_tokens"),
            at("a.jsonl", 8, "missing_model"),
            at("a.jsonl", 9, "missing_usage"),
            at("a.jsonl", 10, "bad_timestamp"),
            at("a.jsonl", 11, "inconsistent_usage"),
        ]
    );
    // Details name the field at fault.
    let details: Vec<&str> = input["rejected_samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["detail"].as_str().unwrap())
        .collect();
    assert_eq!(
        details[2..=5],
        ["prompt_tokens", "prompt_tokens", "prompt_tokens", "model"]
    );
    assert_eq!(
        details[7],
        "timestamp (read: RFC 3339, YYYY-MM-DD HH:MM[:SS] with an optional offset, epoch s/ms/µs/ns; other spellings with timestamp_format in a [mapping], e.g. \"%m/%d/%Y %H:%M\")"
    );
    assert_eq!(files(&r), [file("a.jsonl", "plain", "gateway", 13, 4, 9)]);
    assert_files_add_up(&r);
    // Good lines 1 and 5: 2 × $0.0035 = $0.007. Line 12: $0.
    // Line 13: uncached 1,500 × $2.50/M = $0.00375; cached 500 × $1.25/M =
    // $0.000625; output 300 × $10/M = $0.003 → $0.007375. Total $0.014375.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.014375");
    assert_eq!(usd(&row(&r, "feature", "f")["cost"]), "0.007");
    assert_eq!(usd(&row(&r, "feature", "g")["cost"]), "0.007375");
    assert_eq!(r["audit"]["totals"]["calls"], 4);
    assert_eq!(r["audit"]["totals"]["failed_calls"], 1);
}

// 2. Blank lines and CRLF.

#[test]
fn blank_lines_and_crlf_are_not_rejects_and_keep_line_numbers() {
    let env = Env::new();
    let text = [
        format!("{GOOD}\r\n"),                                           // 1
        "\r\n".to_string(),                                              // 2 blank
        "   \n".to_string(),                                             // 3 blank
        "\t\r\n".to_string(),                                            // 4 blank
        format!("{GOOD}\r\n"),                                           // 5
        "not json\r\n".to_string(),                                      // 6 malformed_json
        "\n".to_string(),                                                // 7 blank
        r#"{"usage":{"prompt_tokens":5,"completion_tokens":1}}"#.into(), // 8 missing_model
        "\r\n".to_string(),
        GOOD.to_string(), // 9, no final newline
    ]
    .concat();
    env.write("a.jsonl", text);
    let r = env.audit(&["a.jsonl"]);
    let input = &r["audit"]["input"];
    // Non-blank lines: 1, 5, 6, 8, 9.
    assert_eq!(input["lines"], 5);
    assert_eq!(input["records"], 3);
    assert_eq!(input["rejected"], 2);
    assert_eq!(
        input["rejected_by_reason"],
        json!({"malformed_json": 1, "missing_model": 1})
    );
    assert_eq!(
        samples(&r),
        [
            at("a.jsonl", 6, "malformed_json"),
            at("a.jsonl", 8, "missing_model")
        ]
    );
    // 3 × $0.0035, all under one feature (no stray "\r" in keys).
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0105");
    assert_eq!(row(&r, "feature", "f")["calls"], 3);
}

// 3. Empty files, blank-only files and binary garbage.

/// Deterministic pseudo-random bytes (xorshift64).
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn empty_files_and_binary_garbage_never_crash() {
    let env = Env::new();
    env.write("empty.jsonl", "");
    env.write("blank.jsonl", "\n  \r\n\n");
    // 200 garbage lines (random bytes, each with a NUL and invalid UTF-8),
    // with one good line in the middle, at line 101.
    let mut garbage = Vec::new();
    for i in 0..200u64 {
        let mut l = vec![0u8];
        l.extend(
            noise(i + 1, 1 + (i as usize * 37) % 300)
                .into_iter()
                .filter(|&b| b != b'\n'),
        );
        l.extend_from_slice(b"\xff\xfe");
        garbage.extend_from_slice(&l);
        garbage.push(b'\n');
        if i == 99 {
            garbage.extend_from_slice(GOOD.as_bytes());
            garbage.push(b'\n');
        }
    }
    env.write("garbage.jsonl", &garbage);
    env.write("good.jsonl", good(2));
    let r = env.audit(&["empty.jsonl", "blank.jsonl", "garbage.jsonl", "good.jsonl"]);
    let input = &r["audit"]["input"];
    assert_eq!(input["records"], 3);
    assert_eq!(input["rejected"], 200);
    assert_eq!(input["rejected_by_reason"], json!({"malformed_json": 200}));
    assert_eq!(
        files(&r),
        [
            file("empty.jsonl", "plain", "gateway", 0, 0, 0),
            file("blank.jsonl", "plain", "gateway", 0, 0, 0),
            file("garbage.jsonl", "plain", "gateway", 201, 1, 200),
            file("good.jsonl", "plain", "gateway", 2, 2, 0),
        ]
    );
    // The first 20 samples: garbage lines 1..=20.
    let want: Vec<_> = (1..=20)
        .map(|l| at("garbage.jsonl", l, "malformed_json"))
        .collect();
    assert_eq!(samples(&r), want);
    assert_files_add_up(&r);
    // The good line inside the garbage file still counts: 3 × $0.0035.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0105");
}

// 4. Truncated compressed files.

/// Distinct good lines, all priced $0.0035.
pub(crate) fn numbered_good(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"model":"gpt-4o","feature":"f","request_id":"req-{i}","usage":{{"prompt_tokens":1000,"completion_tokens":100}}}}"#
            ) + "\n"
        })
        .collect()
}

/// What a decoder yields before failing on a truncated stream.
pub(crate) fn decodable_prefix(mut decoder: impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match decoder.read(&mut buf) {
            Ok(0) => panic!("the cut stream decoded to the end without an error"),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => return out,
        }
    }
}

/// Audits a compressed file cut in half; `prefix` is what its decoder yields.
fn check_truncated(name: &str, encoding: &str, cut: &[u8], prefix: &[u8]) {
    let env = Env::new();
    env.write(name, cut);
    // The lines complete before the cut, and a partial line after them.
    let complete = prefix.iter().filter(|&&b| b == b'\n').count() as u64;
    let tail = &prefix[prefix
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)..];
    let partial = u64::from(!tail.is_empty());
    assert!(
        complete > 1_000 && complete < 20_000,
        "{name}: the cut should fall mid-stream ({complete} lines)"
    );

    let out = run(&env, &[name]);
    assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
    let r = env.report();
    let input = &r["audit"]["input"];
    assert_eq!(input["records"], complete, "{name}");
    // The line cut in the middle is the truncation, reported once at its
    // number, the line after the last complete one (it was counted a second
    // time as malformed).
    assert_eq!(partial, 1, "{name}: the cut falls mid-line");
    assert_eq!(input["rejected_by_reason"]["truncated_file"], 1, "{name}");
    assert_eq!(input["rejected"], 1, "{name}");
    assert_eq!(
        samples(&r),
        [at(name, complete + 1, "truncated_file")],
        "{name}"
    );
    assert!(
        input["rejected_samples"][0]["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("after line {complete}")),
        "{name}: {}",
        input["rejected_samples"][0]
    );
    assert_eq!(
        files(&r),
        [file(name, encoding, "gateway", complete, complete, 1)],
        "{name}"
    );
    assert_files_add_up(&r);
    // Every kept call is a whole one: exactly complete × $0.0035.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), good_cost(complete));
    // --strict refuses it.
    assert_eq!(run(&env, &[name, "--strict"]).status.code(), Some(2));
}

#[test]
fn truncated_gzip_keeps_the_lines_before_the_cut() {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(numbered_good(20_000).as_bytes()).unwrap();
    let bytes = e.finish().unwrap();
    let cut = &bytes[..bytes.len() / 2];
    let prefix = decodable_prefix(flate2::read::MultiGzDecoder::new(cut));
    check_truncated("a.jsonl.gz", "gzip", cut, &prefix);
}

/// A gzip file padded with zero bytes (as some writers pad a block; `gzip
/// -d` ignores them) is whole: it was a `truncated_file`, failing
/// `--strict`.
#[test]
fn a_gzip_padded_with_zeros_is_read_whole() {
    use std::io::Write;
    let env = Env::new();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(numbered_good(300).as_bytes()).unwrap();
    let bytes = [e.finish().unwrap(), vec![0; 4096]].concat();
    std::fs::write(env.dir.path().join("padded.jsonl.gz"), bytes).unwrap();
    let r = env.audit(&["padded.jsonl.gz", "--strict"]);
    assert_eq!(r["audit"]["totals"]["calls"], 300);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), good_cost(300));
}

#[test]
fn truncated_zstd_keeps_the_lines_before_the_cut() {
    let bytes = zstd::encode_all(numbered_good(20_000).as_bytes(), 1).unwrap();
    let cut = &bytes[..bytes.len() / 2];
    let prefix = decodable_prefix(zstd::stream::read::Decoder::new(cut).unwrap());
    check_truncated("a.jsonl.zst", "zstd", cut, &prefix);
}

// 5. --strict.

#[test]
fn strict_fails_on_any_reject_and_writes_nothing() {
    let env = Env::new();
    // A first, lenient run leaves a report behind (1 call).
    env.write("a.jsonl", format!("{GOOD}\nnot json\n{GOOD}\n"));
    env.write("b.jsonl", good(1));
    let first = run(&env, &["b.jsonl"]);
    assert_eq!(first.status.code(), Some(0));
    let before = std::fs::read(env.path("out/audit.json")).unwrap();

    let out = run(&env, &["a.jsonl", "--strict"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("a.jsonl:2") && err.contains("malformed_json"),
        "{err}"
    );
    // Nothing written: the earlier report is untouched.
    assert_eq!(std::fs::read(env.path("out/audit.json")).unwrap(), before);
    // In a fresh folder, no report at all.
    let out = env
        .cmd()
        .args(["audit", "a.jsonl", "--strict", "--quiet", "--out", "fresh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!env.path("fresh/audit.json").exists());
    assert!(!env.path("fresh/audit.md").exists());

    // Clean input passes.
    env.write("c.jsonl", good(3));
    let out = run(&env, &["c.jsonl", "--strict"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(env.report()["audit"]["totals"]["calls"], 3);
}

/// An optional field of the wrong type (`"latency_ms": "fast"`) does not
/// lose the call: it is counted and priced without that field, each such
/// call is named with its line and field, and `--strict` fails on it.
#[test]
fn optional_fields_of_the_wrong_type_keep_their_call() {
    let env = Env::new();
    let with = |extra: &str| GOOD.replacen('{', &format!("{{{extra},"), 1);
    let text = [
        with(r#""latency_ms":"fast""#),
        with(r#""user":{"id":7}"#),
        with(r#""session_id":[1,2]"#),
        GOOD.to_string(),
        // `http_status: "OK"` is a status word, the call's status (a
        // success), not a code of the wrong type: `batch` is the field
        // flagged.
        with(r#""batch":"maybe","http_status":"OK""#),
        with(r#""max_tokens":"lots","cost":"n/a","turn":"3rd""#),
        // A status word no product writes: the outcome is then unknown.
        with(r#""status":"fast""#),
        // OpenAI Responses cut short: billed, a success.
        with(r#""status":"incomplete""#),
        // A token count of the wrong type still rejects the line: it
        // cannot be priced.
        GOOD.replace("1000", r#""many""#),
    ]
    .join("\n");
    env.write("a.jsonl", text);
    let out = run(&env, &["a.jsonl"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = env.report();
    let input = &r["audit"]["input"];
    assert_eq!(r["audit"]["totals"]["calls"], 8);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), good_cost(8));
    assert_eq!(r["audit"]["totals"]["ok_calls"], 8);
    assert_eq!(input["fields_ignored"], 6);
    assert_eq!(
        (input["rejected"].as_u64(), &input["rejected_by_reason"]),
        (Some(1), &json!({"wrong_type": 1}))
    );
    let details: Vec<(u64, String, String)> = input["rejected_samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["line"].as_u64().unwrap(),
                s["reason"].as_str().unwrap().to_string(),
                s["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let ignored = |line, field: &str| {
        (
            line,
            "field_ignored".to_string(),
            format!("{field}: wrong type, read as absent"),
        )
    };
    assert_eq!(
        details,
        [
            ignored(1, "latency_ms"),
            ignored(2, "user"),
            ignored(3, "session"),
            ignored(5, "batch"),
            ignored(6, "turn"),
            ignored(7, "status"),
            (9, "wrong_type".to_string(), "prompt_tokens".to_string()),
        ]
    );
    // Lines, calls, rejected: the calls read without a field are calls.
    let f = &files(&r)[0];
    assert_eq!((f.3, f.4, f.5), (9, 8, 1));
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(md.contains("**6 calls read without a field**"), "{md}");
    assert!(
        stderr(&out).contains("6 calls were read without a field whose value had the wrong type")
    );

    let out = run(&env, &["a.jsonl", "--strict"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "--strict: 1 line (or file) rejected and 6 calls read without a field of the wrong type (or a cost below zero, a time before 2015, or no input count beside the output); no report written."
        ),
        "{}",
        stderr(&out)
    );
}

// 6. Long lines.

#[test]
fn a_line_longer_than_a_chunk_is_parsed() {
    let env = Env::new();
    // 10 MB, more than twice the 4 MB chunk.
    let padding = "x".repeat(10 << 20);
    let long = format!(
        r#"{{"model":"gpt-4o","feature":"f","padding":"{padding}","usage":{{"prompt_tokens":1000,"completion_tokens":100}}}}"#
    );
    // Lines 1-5 good, 6 long, 7-11 good, 12 malformed, 13-15 good.
    env.write(
        "a.jsonl",
        format!("{}{long}\n{}not json\n{}", good(5), good(5), good(3)),
    );
    let r = env.audit(&["a.jsonl", "--threads", "2"]);
    let input = &r["audit"]["input"];
    assert_eq!(input["lines"], 15);
    assert_eq!(input["records"], 14);
    assert_eq!(input["rejected"], 1);
    assert_eq!(samples(&r), [at("a.jsonl", 12, "malformed_json")]);
    // 14 × $0.0035.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.049");
}

#[test]
fn a_line_over_the_limit_is_rejected_and_counted_against_its_file() {
    let env = Env::new();
    // 65 MB: over the 64 MiB line limit. Lines: 1 good, 2 too long, 3 good,
    // 4 malformed, 5 good.
    let padding = "x".repeat(65 << 20);
    let long = format!(r#"{{"model":"gpt-4o","padding":"{padding}"}}"#);
    env.write(
        "a.jsonl",
        format!("{GOOD}\n{long}\n{GOOD}\nnot json\n{GOOD}\n"),
    );
    let r = env.audit(&["a.jsonl", "--threads", "2"]);
    let input = &r["audit"]["input"];
    assert_eq!(
        samples(&r),
        [
            at("a.jsonl", 2, "line_too_long"),
            at("a.jsonl", 4, "malformed_json")
        ]
    );
    assert_eq!(input["records"], 3);
    assert_eq!(input["rejected"], 2);
    // The skipped line is a line of the file, and a reject of the file.
    assert_eq!(input["lines"], 5);
    assert_eq!(files(&r), [file("a.jsonl", "plain", "gateway", 5, 3, 2)]);
    assert_files_add_up(&r);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0105");
}

// 7. Input mechanisms.

fn write_logs(env: &Env) {
    env.write("logs/a.jsonl", good(1));
    env.write_gz("logs/sub/b.jsonl.gz", &good(2));
    env.write_zst("logs/sub/deeper/c.jsonl.zst", &good(4));
    // Not a log name: ignored by the walk even though its lines are calls.
    env.write("logs/notes.txt", good(8));
}

#[test]
fn a_directory_is_walked_recursively_for_log_files() {
    let env = Env::new();
    write_logs(&env);
    let r = env.audit(&["logs"]);
    assert_eq!(
        files(&r),
        [
            file("logs/a.jsonl", "plain", "gateway", 1, 1, 0),
            file("logs/sub/b.jsonl.gz", "gzip", "gateway", 2, 2, 0),
            file("logs/sub/deeper/c.jsonl.zst", "zstd", "gateway", 4, 4, 0),
        ]
    );
    // 7 × $0.0035.
    assert_eq!(r["audit"]["totals"]["calls"], 7);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0245");
}

/// Rotated logs are read from a directory; a file the walk leaves out by
/// its name is named on stderr, even with --quiet.
#[test]
fn rotated_logs_are_read_and_files_left_out_are_named() {
    let env = Env::new();
    env.write("logs/app.jsonl.1", good(1));
    env.write("logs/app.jsonl-20251001", good(2));
    env.write_gz("logs/app.log.2.gz", &good(4));
    env.write("logs/notes.txt", good(8));
    let out = run(&env, &["logs"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: 1 file in the input directories not read")
            && err.contains("logs/notes.txt"),
        "{err}"
    );
    let r: Value =
        serde_json::from_slice(&std::fs::read(env.path("out/audit.json")).unwrap()).unwrap();
    // 7 × $0.0035: the three rotated files, not the notes.
    assert_eq!(r["audit"]["totals"]["calls"], 7);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0245");
}

/// An audit run again over a folder that holds its own reports, or a store,
/// reads neither as calls: the second run's totals are the first's.
#[test]
fn the_report_folder_and_stores_are_not_read_as_logs() {
    let env = Env::new();
    env.write("logs/a.jsonl", good(2));
    let ingest = env
        .cmd()
        .args(["ingest", "logs", "--store", "logs/st", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(ingest.status.code(), Some(0), "{}", stderr(&ingest));
    for run in 0..2 {
        let out = env
            .cmd()
            .args([
                "audit",
                "logs",
                "--out",
                "logs/reports",
                "-f",
                "json,csv,md",
                "--quiet",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("logs/st not read (a tokenaudit store"),
            "{err}"
        );
        assert_eq!(err.contains("logs/reports not read"), run == 1, "{err}");
        let r: Value =
            serde_json::from_slice(&std::fs::read(env.path("logs/reports/audit.json")).unwrap())
                .unwrap();
        assert_eq!(r["audit"]["totals"]["calls"], 2, "run {run}");
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.007");
    }
    // A glob's matches inside them are left out too: `logs/**/*` matches
    // the report's CSV tables and the store's parts and commits.
    let out = env
        .cmd()
        .args([
            "audit",
            "logs/**/*",
            "--out",
            "logs/reports",
            "-f",
            "json",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("logs/st not read (a tokenaudit store"),
        "{err}"
    );
    assert!(err.contains("logs/reports not read"), "{err}");
    let r: Value =
        serde_json::from_slice(&std::fs::read(env.path("logs/reports/audit.json")).unwrap())
            .unwrap();
    assert_eq!(r["audit"]["input"]["files"].as_array().unwrap().len(), 1);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.007");

    // An earlier run's report in another folder among the logs: its CSV
    // tables and JSON are not read as calls, by a walk or by a glob; a
    // user's log named like a table (no report header) is.
    env.write(
        "logs/audit-2025.csv",
        "model,prompt_tokens,completion_tokens\ngpt-4o,1000,100\n",
    );
    for input in ["logs", "logs/**/*"] {
        let out = env
            .cmd()
            .args([
                "audit",
                input,
                "--out",
                "logs/reports",
                "-f",
                "json,csv,md,html,focus",
                "--quiet",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let out = env
            .cmd()
            .args([
                "audit",
                input,
                "--out",
                "elsewhere",
                "-f",
                "json",
                "--quiet",
                "--strict",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("files an earlier tokenaudit report wrote not read as logs: logs/reports/audit-by-feature-model.csv"),
            "{input}: {err}"
        );
        let r: Value =
            serde_json::from_slice(&std::fs::read(env.path("elsewhere/audit.json")).unwrap())
                .unwrap();
        assert_eq!(r["audit"]["totals"]["calls"], 3, "{input}");
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0105", "{input}");
    }
}

/// A store that is the input folder (or holds it) is refused before
/// anything is written.
#[test]
fn a_store_cannot_be_its_own_input_folder() {
    let env = Env::new();
    env.write("logs/a.jsonl", good(2));
    for store in ["logs", "logs/", "."] {
        let out = env
            .cmd()
            .args(["ingest", "logs", "--store", store, "--quiet"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{store}");
        assert!(
            stderr(&out).contains("cannot be the input folder logs"),
            "{}",
            stderr(&out)
        );
        assert!(!env.path("logs/_commits").exists() && !env.path("_commits").exists());
    }
}

/// A log inside the store's folder, named or globbed, is refused (hunt63:
/// it was left out as the store's own, nothing ingested, exit 0 under
/// --strict); so is making a store of a folder of logs (its logs would no
/// longer be read by `audit FOLDER`), or of a file. Nothing is written.
#[test]
fn logs_are_never_made_part_of_a_store() {
    let env = Env::new();
    env.write("exports/2026-10-01.jsonl", good(5));
    for input in ["exports/2026-10-01.jsonl", "exports/*.jsonl"] {
        let out = env
            .cmd()
            .args(["ingest", input, "--store", "exports", "--strict"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{input}");
        let err = stderr(&out);
        assert!(
            err.contains("the input exports/2026-10-01.jsonl is inside the store's folder")
                || err.contains(
                    "exports is not a tokenaudit store (no _commits/ folder); it holds logs"
                ),
            "{err}"
        );
        assert!(!env.path("exports/_commits").exists(), "{input}");
    }
    env.write("new/a.jsonl", good(2));
    let out = env
        .cmd()
        .args(["ingest", "new", "--store", "exports", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("exports is not a tokenaudit store (no _commits/ folder); it holds logs"),
        "{}",
        stderr(&out)
    );
    assert!(!env.path("exports/_commits").exists() && !env.path("exports/calls").exists());
    // Calls in a `.log` file, or a rotated one, are logs too (hunt66).
    for name in ["app/gateway.log", "rotated/calls.jsonl.1"] {
        env.write(name, good(1));
        let dir = name.split('/').next().unwrap();
        let out = env
            .cmd()
            .args(["ingest", "new", "--store", dir, "--quiet"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(!env.path(&format!("{dir}/_commits")).exists(), "{name}");
    }
    // The folder still audits as logs: 5 calls.
    let out = run(&env, &["exports"]);
    assert_eq!(out.status.code(), Some(0));
    let r: Value =
        serde_json::from_slice(&std::fs::read(env.path("out/audit.json")).unwrap()).unwrap();
    assert_eq!(r["audit"]["totals"]["calls"], 5);
    // The input file itself as the store: a file, said so (hunt84).
    let out = env
        .cmd()
        .args(["ingest", "new/a.jsonl", "--store", "new/a.jsonl", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("(it is a file)"), "{}", stderr(&out));
    // A file is no store's folder.
    env.write("notes.txt", "x");
    let out = env
        .cmd()
        .args(["ingest", "new", "--store", "notes.txt", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "notes.txt is not a tokenaudit store (it is a file); give the store's folder"
        ),
        "{}",
        stderr(&out)
    );
    // A new folder, or one of other files, becomes a store: a cron job's
    // log (empty, made by its own redirection), a price file, editor
    // settings, a backup are no call logs (hunt64).
    env.write("st/README.txt", "our store");
    env.write("st/ingest.log", "");
    env.write("st/prices.json", "{}");
    env.write("st/.vscode/settings.json", "{}");
    env.write("st/old/backup.tar.gz", "x");
    let out = env
        .cmd()
        .args(["ingest", "new", "--store", "st", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(env.path("st/_commits").is_dir());
    // A log put in a store's folder afterwards: named, refused; globbed,
    // the walk passes the store over, and --strict says nothing was found.
    env.write("st/late.jsonl", good(1));
    let out = env
        .cmd()
        .args(["ingest", "st/late.jsonl", "--store", "st", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the input st/late.jsonl is inside the store's folder"),
        "{}",
        stderr(&out)
    );
    let out = env
        .cmd()
        .args(["ingest", "st/*.jsonl", "--store", "st", "--strict"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("note: st not read (a tokenaudit store: read it with --store)"),
        "{err}"
    );
    assert!(
        err.contains("--strict: no log file was found in the inputs; nothing ingested."),
        "{err}"
    );
}

/// With --quiet, what a nightly job must not miss still reaches stderr: no
/// call read at all, rejected lines, unpriced calls.
#[test]
fn quiet_runs_still_warn_on_stderr() {
    let env = Env::new();
    env.write("empty/a.jsonl", "");
    let out = run(&env, &["empty"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("warning: no call was read (0 lines, 0 rejected"),
        "{}",
        stderr(&out)
    );
    env.write(
        "logs/a.jsonl",
        format!(
            "{}not json\n{{\"model\":\"no-such-model-9\",\"usage\":{{\"prompt_tokens\":1,\"completion_tokens\":1}}}}\n",
            good(1)
        ),
    );
    let err = stderr(&run(&env, &["logs"]));
    assert!(err.contains("warning: 1 line rejected"), "{err}");
    assert!(
        err.contains("warning: 1 call to 1 model not in the price catalog"),
        "{err}"
    );
    assert!(!err.contains("no call was read"), "{err}");
    // Counts of one read as one, in the report too.
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("1 file, 3 lines, 2 calls read, 1 line rejected"),
        "{md}"
    );
    let html = std::fs::read_to_string(env.path("out/audit.html")).unwrap();
    assert!(html.contains("1 call not priced"), "{html}");
    // A file none of whose lines is a call is named.
    env.write("bin/x.log", "\u{1}ELF\n\u{0}\u{0}\n");
    let err = stderr(&run(&env, &["bin"]));
    assert!(
        err.contains("bin/x.log: none of its 2 lines is a call"),
        "{err}"
    );
}

/// Two inputs with the same text (a log and its `gzip -k` copy, a copy
/// under another name) are each read, and each later one is marked: in
/// the report's file rows, its Data quality section and on stderr. A file
/// of the same length and other text is not.
#[test]
fn inputs_with_the_same_text_are_marked_as_counted_twice() {
    let env = Env::new();
    env.write("logs/a.jsonl", good(2));
    env.write_gz("logs/a.jsonl.gz", &good(2));
    env.write("logs/copy.jsonl", good(2));
    env.write("logs/other.jsonl", good(2).replace("\"f\"", "\"g\""));
    let out = env
        .cmd()
        .args(["audit", "logs", "--out", "out", "-f", "json,md", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r: Value =
        serde_json::from_slice(&std::fs::read(env.path("out/audit.json")).unwrap()).unwrap();
    let same: Vec<(String, Value)> = r["audit"]["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = f["file"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string();
            (name, f["same_content_as"].clone())
        })
        .collect();
    assert_eq!(
        same,
        [
            ("a.jsonl".to_string(), Value::Null),
            ("a.jsonl.gz".to_string(), "logs/a.jsonl".into()),
            ("copy.jsonl".to_string(), "logs/a.jsonl".into()),
            ("other.jsonl".to_string(), Value::Null),
        ]
    );
    // Read all the same: 8 calls, 6 of them the same 2 three times.
    assert_eq!(r["audit"]["totals"]["calls"], 8);
    let err = stderr(&out);
    assert!(
        err.contains("warning: logs/copy.jsonl holds the same text as logs/a.jsonl once decompressed and unwrapped: its 2 calls are counted a second time"),
        "{err}"
    );
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("**Counted twice:** logs/a.jsonl.gz holds the same text as logs/a.jsonl once decompressed and unwrapped"),
        "{md}"
    );
}

/// Overlapping exports: calls with the same request id, time, model and
/// tokens in two files are counted twice, and said to be; so is a
/// provider's response id logged at two times. A retry (another id),
/// another call with the same id but other tokens, or a gateway's id at
/// another time is no repeat.
#[test]
fn calls_logged_twice_across_exports_are_said() {
    let env = Env::new();
    let call = |id: &str, tokens: u32| {
        format!(
            r#"{{"timestamp":"2026-10-01T10:00:00Z","request_id":"{id}","model":"gpt-4o","usage":{{"prompt_tokens":{tokens},"completion_tokens":100}}}}"#
        )
    };
    // A webhook's line and a poll's, minutes apart.
    let at = |id: &str, time: &str| call(id, 1000).replace("10:00:00", time);
    env.write(
        "logs/monday.jsonl",
        [
            call("r1", 1000),
            call("r2", 1000),
            call("r3", 1000),
            at("resp_68a4b2c1d0e5", "10:00:00"),
            at("r5", "10:00:00"),
        ]
        .join("\n"),
    );
    env.write(
        "logs/monday-and-tuesday.jsonl",
        [
            call("r2", 1000),
            call("r3", 1000),
            call("r3", 2000),
            call("r4", 1000),
            at("resp_68a4b2c1d0e5", "10:04:31"),
            at("r5", "10:04:31"),
        ]
        .join("\n"),
    );
    let out = env
        .cmd()
        .args([
            "audit",
            "logs",
            "--out",
            "out",
            "-f",
            "json,md,html",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r: Value =
        serde_json::from_slice(&std::fs::read(env.path("out/audit.json")).unwrap()).unwrap();
    assert_eq!(r["audit"]["totals"]["calls"], 11);
    assert_eq!(
        r["audit"]["input"]["repeated_calls"],
        json!({"calls": 3, "estimated": false, "seen": 3, "one_in": 1})
    );
    let err = stderr(&out);
    assert!(
        err.contains(
            "warning: 3 calls repeat another: the same request id, time, model and tokens, or the same response id"
        ),
        "{err}"
    );
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("**Logged twice:** 3 calls repeat another: the same request id"),
        "{md}"
    );
    // And in the summary, beside the totals they are in twice (hunt154).
    let summary = &md[..md.find("## ").unwrap_or(md.len())];
    let summary = md.split("## Summary").nth(1).unwrap_or(summary);
    assert!(
        summary.contains("| Calls logged twice (counted twice above) | **3** — see Data quality |"),
        "{md}"
    );
    let html = std::fs::read_to_string(env.path("out/audit.html")).unwrap();
    assert!(html.contains("logged twice, counted twice"));
    // The same from a store the two files were ingested into.
    let ingest = env
        .cmd()
        .args(["ingest", "logs", "--store", "st", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(ingest.status.code(), Some(0), "{}", stderr(&ingest));
    let r = env.audit(&["--store", "st"]);
    assert_eq!(r["audit"]["input"]["repeated_calls"]["calls"], 3);
}

/// A provider logged in other cases is one provider.
#[test]
fn providers_are_one_row_whatever_their_case() {
    let env = Env::new();
    let line = |p: &str| GOOD.replace("{\"model\"", &format!("{{\"provider\":\"{p}\",\"model\""));
    env.write(
        "logs/a.jsonl",
        format!("{}\n{}\n", line("OpenAI"), line("openai")),
    );
    let r = env.audit(&["logs"]);
    assert_eq!(row(&r, "provider", "openai")["calls"], 2);
    assert_eq!(usd(&row(&r, "provider", "openai")["cost"]), good_cost(2));
}

#[test]
fn globs_and_duplicates_read_each_file_once() {
    let env = Env::new();
    write_logs(&env);
    let r = env.audit(&[
        "logs/**/*.gz",
        "logs/a.jsonl",
        "logs/a.jsonl",
        "./logs/a.jsonl",
    ]);
    assert_eq!(
        files(&r),
        [
            file("logs/sub/b.jsonl.gz", "gzip", "gateway", 2, 2, 0),
            file("logs/a.jsonl", "plain", "gateway", 1, 1, 0),
        ]
    );
    assert_eq!(r["audit"]["totals"]["calls"], 3);

    // A directory and a glob covering the same files: 7 calls, not 9.
    let r = env.audit(&["logs", "logs/sub/*.gz"]);
    assert_eq!(r["audit"]["input"]["files"].as_array().unwrap().len(), 3);
    assert_eq!(r["audit"]["totals"]["calls"], 7);

    // A glob matching nothing is an error naming it.
    let out = run(&env, &["logs/*.parquet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("logs/*.parquet"), "{}", stderr(&out));
}

/// hunt112: a quoted glob read hidden folders the walk and the shell leave
/// out (a `.snapshot/` copy, 23 calls for the walk's 10), and a brace list
/// matched nothing.
#[test]
fn a_quoted_glob_reads_what_the_shell_would() {
    let env = Env::new();
    write_logs(&env);
    env.write("logs/.snapshot/hourly.0/a.jsonl", good(16));
    env.write("logs/.old.jsonl", good(32));
    for glob in ["logs/**/*.jsonl*", "logs/{a.jsonl,sub/**/*.*}"] {
        let r = env.audit(&[glob]);
        assert_eq!(r["audit"]["totals"]["calls"], 7, "{glob}");
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0245", "{glob}");
    }
    // A dot written in the pattern reads the hidden files it names.
    let r = env.audit(&["logs/.snapshot/*/*.jsonl", "logs/.old.*"]);
    assert_eq!(r["audit"]["totals"]["calls"], 48);
}

/// hunt112: a gateway log keeping a batch request's `custom_id` beside the
/// synchronous response was read as an OpenAI batch output, at half price.
#[test]
fn a_gateway_line_with_a_custom_id_is_no_batch_output() {
    let env = Env::new();
    let line = r#"{"custom_id":"job-1","timestamp":"2026-10-01T12:00:00Z","feature":"f","request":{"model":"gpt-4.1","messages":[]},"response":{"object":"chat.completion","model":"gpt-4.1-2025-04-14","usage":{"prompt_tokens":1000,"completion_tokens":500}}}"#;
    env.write("logs/a.jsonl", format!("{line}\n{line}\n"));
    let r = env.audit(&["logs"]);
    assert_eq!(r["audit"]["input"]["files"][0]["format"], "gateway");
    // 2 × (1000 × $2 + 500 × $8) / 1M = 2 × $0.006.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.012");
    // Its first line a failed call with OpenAI's error object and no
    // response: a gateway log all the same (hunt146's bug2: batch output,
    // at half price).
    let failed = r#"{"custom_id":"job-0","timestamp":"2026-10-01T11:59:00Z","feature":"f","request":{"model":"gpt-4.1","messages":[]},"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"},"status_code":429}"#;
    env.write("logs/a.jsonl", format!("{failed}\n{line}\n{line}\n"));
    let r = env.audit(&["logs"]);
    assert_eq!(r["audit"]["input"]["files"][0]["format"], "gateway");
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.012");
}

/// hunt112: a walked folder's `app.jsonl.bz2` was "not named like a log",
/// and its calls lost with exit 0 under `--strict`.
#[test]
fn a_log_compressed_in_a_way_not_read_fails_strict() {
    let env = Env::new();
    env.write("logs/a.jsonl", good(1));
    env.write("logs/b.jsonl.bz2", "BZh91AY&SY not really");
    let out = env
        .cmd()
        .args(["audit", "logs", "--out", "out", "--strict"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("logs/b.jsonl.bz2"), "{err}");
    assert!(err.contains("bzip2-compressed"), "{err}");
    assert!(!err.contains("not named like a log"), "{err}");
}

/// hunt112: `--format focus` said "see Data quality in the report" and
/// wrote none; inputs that could not be read were "lines rejected".
#[test]
fn rejected_lines_are_named_where_no_report_lists_them() {
    let env = Env::new();
    env.write(
        "logs/a.jsonl",
        format!("{}\nnot json\n", good(1).trim_end()),
    );
    env.write("logs/b.jsonl.bz2", "BZh91AY&SY not really");
    let said = env.ok(&["audit", "logs", "--out", "focus", "--format", "focus"]);
    assert!(
        said.contains("1 line rejected and 1 input could not be read: logs/a.jsonl:2 (malformed_json), logs/b.jsonl.bz2 (unreadable_file); `--format md` or `json` lists them all"),
        "{said}"
    );
    assert!(said.contains("Wrote 1 CSV table to focus"), "{said}");
    let said = env.ok(&["audit", "logs", "--out", "md", "--format", "md"]);
    assert!(
        said.contains(
            "1 line rejected and 1 input could not be read (see Data quality in the report"
        ),
        "{said}"
    );
    let md = std::fs::read_to_string(env.path("md/audit.md")).unwrap();
    assert!(
        md.contains("1 call read, 1 line rejected and 1 input that could not be read\n"),
        "{md}"
    );
    // Where a csv or json run lists them (hunt113: "see Data quality").
    let said = env.ok(&["audit", "logs", "--out", "json", "--format", "json"]);
    assert!(
        said.contains("could not be read (audit.json's input.rejected_samples lists them;"),
        "{said}"
    );
    let said = env.ok(&["audit", "logs", "--out", "csv", "--format", "csv"]);
    assert!(
        said.contains("could not be read (csv/audit-rejected-samples.csv lists them;"),
        "{said}"
    );
}

#[test]
fn stdin_is_read_plain_gzip_or_zstd() {
    let env = Env::new();
    let text = format!("{GOOD}\nnot json\n{GOOD}\n{GOOD}\n");
    let gz = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    let zst = zstd::encode_all(text.as_bytes(), 3).unwrap();
    for (encoding, bytes) in [
        ("plain", text.as_bytes().to_vec()),
        ("gzip", gz),
        ("zstd", zst),
    ] {
        let out = env
            .cmd()
            .args(["audit", "-", "--out", "out", "--quiet"])
            .write_stdin(bytes)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{encoding}: {}", stderr(&out));
        let r = env.report();
        assert_eq!(
            files(&r),
            [file("<stdin>", encoding, "gateway", 4, 3, 1)],
            "{encoding}"
        );
        assert_eq!(samples(&r), [at("<stdin>", 2, "malformed_json")]);
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0105", "{encoding}");
    }
}

#[test]
fn a_missing_path_is_an_error_naming_it() {
    let env = Env::new();
    env.write("a.jsonl", good(1));
    let out = run(&env, &["a.jsonl", "nowhere/x.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nowhere/x.jsonl"), "{}", stderr(&out));
    assert!(!env.path("out/audit.json").exists());
}

// 8. Parquet.

pub(crate) fn write_parquet(path: &Path, columns: Vec<(&str, arrow_array::ArrayRef)>) {
    write_parquet_groups(path, columns, 1 << 20);
}

/// Writes `columns` with at most `rows` rows per row group.
fn write_parquet_groups(path: &Path, columns: Vec<(&str, arrow_array::ArrayRef)>, rows: usize) {
    let batch = arrow_array::RecordBatch::try_from_iter(columns).unwrap();
    let f = std::fs::File::create(path).unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows))
        .build();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Row groups are read by several workers at once: a rejected row is
/// still reported with its own row number, and a mapped file is read
/// through its struct columns.
#[test]
fn parquet_row_groups_in_parallel_keep_row_numbers_and_mappings() {
    use arrow_array::{ArrayRef, Int64Array, StringArray, StructArray};
    use std::sync::Arc;
    let env = Env::new();
    // 10 rows in row groups of 3; rows 3 and 9 have no model.
    let model: Vec<Option<&str>> = (1..=10)
        .map(|i| (i % 3 != 0 || i == 6).then_some("gpt-4o"))
        .collect();
    let tokens: ArrayRef = Arc::new(Int64Array::from_iter_values(1..=10));
    let llm: ArrayRef = Arc::new(
        StructArray::try_from(vec![
            ("name", Arc::new(StringArray::from(model)) as ArrayRef),
            ("tokens_in", tokens.clone()),
            ("tokens_out", tokens),
        ])
        .unwrap(),
    );
    write_parquet_groups(&env.path("calls.parquet"), vec![("llm", llm)], 3);
    env.write(
        "map.toml",
        "[mapping]\nmodel = \"llm.name\"\ninput_tokens = \"llm.tokens_in\"\n\
         output_tokens = \"llm.tokens_out\"\n",
    );
    let r = env.audit(&["calls.parquet", "--config", "map.toml", "--threads", "2"]);
    assert_eq!(
        samples(&r),
        [
            at("calls.parquet", 3, "missing_model"),
            at("calls.parquet", 9, "missing_model")
        ]
    );
    assert_eq!(
        files(&r),
        [file("calls.parquet", "parquet", "mapped", 10, 8, 2)]
    );
    // Rows 1, 2, 4, 5, 6, 7, 8, 10: 43 tokens in and out, at $2.50 and
    // $10 per million: $0.0001075 + $0.00043 = $0.0005375.
    assert_eq!(r["audit"]["totals"]["input_tokens"], 43);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0005375");
}

/// Strings written as bytes with no text type (Impala's, Hive's, Spark's
/// before 1.1) and a pyarrow `decimal64` cost are read (hunt184: the model
/// column dropped, every call rejected; the file refused for its type).
#[test]
fn parquet_strings_as_bytes_and_narrow_decimals_are_read() {
    use arrow_array::{ArrayRef, BinaryArray, Decimal64Array, Int64Array};
    use std::sync::Arc;
    let env = Env::new();
    let bytes = |v: Vec<&'static str>| -> ArrayRef {
        Arc::new(BinaryArray::from(
            v.into_iter()
                .map(|s| Some(s.as_bytes()))
                .collect::<Vec<_>>(),
        ))
    };
    write_parquet(
        &env.path("calls.parquet"),
        vec![
            (
                "timestamp",
                bytes(vec!["2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"]),
            ),
            ("model", bytes(vec!["gpt-4o", "gpt-4o"])),
            ("feature", bytes(vec!["chat", "search"])),
            ("prompt_tokens", Arc::new(Int64Array::from(vec![2000, 500]))),
            (
                "completion_tokens",
                Arc::new(Int64Array::from(vec![200, 50])),
            ),
            (
                "cost",
                Arc::new(
                    Decimal64Array::from(vec![7_000, 1_750])
                        .with_precision_and_scale(18, 6)
                        .unwrap(),
                ),
            ),
        ],
    );
    let r = env.audit(&["calls.parquet", "--strict"]);
    // 2,000 × 2.5 + 200 × 10 = $0.007; 500 × 2.5 + 50 × 10 = $0.00175.
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00875");
    assert_eq!(usd(&row(&r, "feature", "search")["cost"]), "0.00175");
    assert_eq!(r["audit"]["first_call"], "2026-03-02T10:00:00Z");
    assert_eq!(r["audit"]["reconciliation"][0]["logged"], "0.00875");
}

/// A table that opens with more than 50 rows of no call (a gateway's polls
/// of `/v1/models`: no model, no usage) is read as its JSON lines are: the
/// format is told from as many rows as a text file's head holds (hunt184:
/// the whole file refused).
#[test]
fn a_parquet_table_opening_with_many_rows_of_no_call_is_read() {
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    use std::sync::Arc;
    let env = Env::new();
    let polls = 120;
    let n = polls + 2;
    let model: Vec<Option<&str>> = (0..n).map(|i| (i >= polls).then_some("gpt-4o")).collect();
    let route: Vec<&str> = (0..n)
        .map(|i| {
            if i < polls {
                "/v1/models"
            } else {
                "/v1/chat/completions"
            }
        })
        .collect();
    let tokens: Vec<Option<i64>> = (0..n).map(|i| (i >= polls).then_some(1000)).collect();
    write_parquet(
        &env.path("calls.parquet"),
        vec![
            (
                "timestamp",
                Arc::new(StringArray::from(vec!["2026-03-02T10:00:00Z"; n])) as ArrayRef,
            ),
            ("route", Arc::new(StringArray::from(route))),
            ("model", Arc::new(StringArray::from(model))),
            ("prompt_tokens", Arc::new(Int64Array::from(tokens.clone()))),
            ("completion_tokens", Arc::new(Int64Array::from(tokens))),
        ],
    );
    let r = env.audit(&["calls.parquet"]);
    // 2 × (1,000 × 2.5 + 1,000 × 10) = $0.025; the polls rejected.
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.025");
    assert_eq!(
        r["audit"]["input"]["rejected_by_reason"]["missing_model"],
        polls
    );
}

/// Parquet compressed with Brotli (a pandas, Spark and DuckDB option) is
/// read (hunt184: refused as "corrupt parquet data").
#[test]
fn brotli_parquet_is_read() {
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    use std::sync::Arc;
    let env = Env::new();
    let batch = arrow_array::RecordBatch::try_from_iter(vec![
        (
            "timestamp",
            Arc::new(StringArray::from(vec!["2026-03-02T10:00:00Z"])) as ArrayRef,
        ),
        ("model", Arc::new(StringArray::from(vec!["gpt-4o"]))),
        ("prompt_tokens", Arc::new(Int64Array::from(vec![2000]))),
        ("completion_tokens", Arc::new(Int64Array::from(vec![200]))),
    ])
    .unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::BROTLI(Default::default()))
        .build();
    let f = std::fs::File::create(env.path("calls.parquet")).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let r = env.audit(&["calls.parquet", "--strict"]);
    // 2,000 × 2.5 + 200 × 10 = $0.007.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.007");
}

/// Parquet piped to `audit -` is read (saved to be read from its footer;
/// hunt185: refused, a $0 report); inputs that hold no line are an error
/// under --strict, the last report kept (hunt185: a $0 report in its
/// place).
#[test]
fn parquet_on_stdin_is_read_and_no_line_is_an_error_under_strict() {
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    use std::sync::Arc;
    let env = Env::new();
    write_parquet(
        &env.path("calls.parquet"),
        vec![
            (
                "timestamp",
                Arc::new(StringArray::from(vec!["2026-03-02T10:00:00Z"; 2])) as ArrayRef,
            ),
            ("model", Arc::new(StringArray::from(vec!["gpt-4o"; 2]))),
            ("prompt_tokens", Arc::new(Int64Array::from(vec![2000, 500]))),
            (
                "completion_tokens",
                Arc::new(Int64Array::from(vec![200, 50])),
            ),
        ],
    );
    let out = env
        .cmd()
        .args(["audit", "-", "--out", "out", "--quiet", "--strict"])
        .write_stdin(std::fs::read(env.path("calls.parquet")).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // 2,000 × 2.5 + 200 × 10 + 500 × 2.5 + 50 × 10 = $0.00875.
    assert_eq!(usd(&env.report()["audit"]["totals"]["cost"]), "0.00875");
    env.write("empty.jsonl", "");
    env.write("blank.jsonl", "\n");
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::fs::write(env.path("empty.jsonl.gz"), gz.finish().unwrap()).unwrap();
    for (args, stdin) in [
        (vec!["empty.jsonl"], None),
        (vec!["-"], Some("")),
        (vec!["blank.jsonl", "empty.jsonl.gz"], None),
    ] {
        let mut cmd = env.cmd();
        cmd.arg("audit")
            .args(&args)
            .args(["--out", "out", "--quiet", "--strict"]);
        if let Some(text) = stdin {
            cmd.write_stdin(text);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains("--strict: the inputs hold no line"),
            "{}",
            stderr(&out)
        );
        assert_eq!(usd(&env.report()["audit"]["totals"]["cost"]), "0.00875");
    }
    // A CSV of its header alone is a whole export of a quiet day: a $0
    // report, no error (hunt186).
    env.write(
        "day.csv",
        "timestamp,model,prompt_tokens,completion_tokens\n",
    );
    let r = env.audit(&["day.csv", "--strict"]);
    assert_eq!(r["audit"]["totals"]["calls"], 0);
}

/// A Delta Lake table folder is read by its log: the files an OPTIMIZE
/// replaced, still on disk until VACUUM, are not read again (hunt184: 2×);
/// from the last checkpoint when the log before it was cleaned up.
#[test]
fn a_delta_table_is_read_by_its_log() {
    use arrow_array::{ArrayRef, Int64Array, StringArray, StructArray};
    use std::sync::Arc;
    let env = Env::new();
    let part = |name: &str, tokens: Vec<i64>| {
        let n = tokens.len();
        write_parquet(
            &env.path(&format!("table/{name}")),
            vec![
                (
                    "timestamp",
                    Arc::new(StringArray::from(vec!["2026-03-02T10:00:00Z"; n])) as ArrayRef,
                ),
                ("model", Arc::new(StringArray::from(vec!["gpt-4o"; n]))),
                ("prompt_tokens", Arc::new(Int64Array::from(tokens.clone()))),
                ("completion_tokens", Arc::new(Int64Array::from(vec![0; n]))),
            ],
        );
    };
    std::fs::create_dir_all(env.path("table/_delta_log")).unwrap();
    part("part-0.parquet", vec![1000]);
    part("part-1.parquet", vec![2000]);
    part("part-2.parquet", vec![1000, 2000]);
    let commit = |v: u64, text: &str| env.write(&format!("table/_delta_log/{v:020}.json"), text);
    commit(
        0,
        "{\"protocol\":{\"minReaderVersion\":1}}\n{\"add\":{\"path\":\"part-0.parquet\"}}\n",
    );
    commit(1, "{\"add\":{\"path\":\"part-1.parquet\"}}\n");
    commit(2, "{\"remove\":{\"path\":\"part-0.parquet\"}}\n{\"remove\":{\"path\":\"part-1.parquet\"}}\n{\"add\":{\"path\":\"part-2.parquet\"}}\n");
    let out = run(&env, &["table"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is a Delta Lake table: read its 1 live file as its log lists them; 2 files its log replaced"),
        "{}",
        stderr(&out)
    );
    // 3,000 tokens at $2.50 a million, once.
    let r = env.report();
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0075");
    // The log cleaned up to a checkpoint of version 2 (its `add` column).
    for v in 0..=2 {
        std::fs::remove_file(env.path(&format!("table/_delta_log/{v:020}.json"))).unwrap();
    }
    let add: ArrayRef = Arc::new(
        StructArray::try_from(vec![(
            "path",
            Arc::new(StringArray::from(vec![Some("part-2.parquet"), None])) as ArrayRef,
        )])
        .unwrap(),
    );
    write_parquet(
        &env.path("table/_delta_log/00000000000000000002.checkpoint.parquet"),
        vec![("add", add)],
    );
    let r = env.audit(&["table"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0075");
}

/// Hive-style partition folders name their rows' fields (Spark's
/// `partitionBy("feature", "team")`): read as the rows' own when they lack
/// them, other keys as tags, time partitions not (hunt184: every call
/// `(none)` by feature and team).
#[test]
fn hive_partition_folders_give_the_rows_fields() {
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    use std::sync::Arc;
    let env = Env::new();
    let part = |dir: &str, n: usize| {
        std::fs::create_dir_all(env.path(dir)).unwrap();
        write_parquet(
            &env.path(&format!("{dir}/part-0.parquet")),
            vec![
                (
                    "timestamp",
                    Arc::new(StringArray::from(vec!["2026-03-02T10:00:00Z"; n])) as ArrayRef,
                ),
                ("model", Arc::new(StringArray::from(vec!["gpt-4o"; n]))),
                ("prompt_tokens", Arc::new(Int64Array::from(vec![1000; n]))),
                ("completion_tokens", Arc::new(Int64Array::from(vec![0; n]))),
            ],
        );
    };
    part("calls/feature=chat/team=t1/dt=2026-03-02/env=prod", 2);
    part("calls/feature=search/team=t2/dt=2026-03-02/env=prod", 1);
    let r = env.audit(&["calls", "--strict"]);
    // 1,000 tokens at $2.50 a million a call.
    assert_eq!(usd(&row(&r, "feature", "chat")["cost"]), "0.005");
    assert_eq!(usd(&row(&r, "feature", "search")["cost"]), "0.0025");
    assert_eq!(row(&r, "team", "t1")["calls"], 2);
    let tags: Vec<&str> = r["audit"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["env=prod"]);
}

/// hunt144's bug9: tags kept as a list of `{key, value}` records
/// (BigQuery's map, a `REPEATED RECORD<key, value>`; OTLP's attributes
/// with `{"stringValue": …}` values) were dropped silently, the call's
/// `feature` tag with them: in JSON lines and in Parquet alike.
#[test]
fn tags_as_a_list_of_key_value_records() {
    use arrow_array::builder::{ListBuilder, StringBuilder, StructBuilder};
    use arrow_array::{ArrayRef, StringArray, StructArray};
    use std::sync::Arc;
    let env = Env::new();
    let line = |tags: &str| {
        format!(
            r#"{{"timestamp":"2026-03-02T03:30:00Z","model":"gpt-4o-mini","usage":{{"prompt_tokens":3000,"completion_tokens":200}},"tags":{tags}}}"#
        ) + "\n"
    };
    env.write(
        "kv.jsonl",
        line(r#"[{"key":"feature","value":"search"},{"key":"env","value":"prod"}]"#)
            + &line(r#"[{"key":"feature","value":{"stringValue":"search"}},"team:core",{"note":"no pair"}]"#),
    );
    let r = env.audit(&["kv.jsonl", "--strict"]);
    let feature = |r: &serde_json::Value| r["audit"]["by"][0]["rows"][0].clone();
    assert_eq!(feature(&r)["key"], "search");
    assert_eq!(feature(&r)["calls"], 2);
    let mut tags: Vec<&str> = r["audit"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    tags.sort();
    assert_eq!(tags, ["env=prod", "feature=search", "team=core"]);
    // The same first line as Parquet: `tags` a list of structs.
    let fields = vec![
        arrow_schema::Field::new("key", arrow_schema::DataType::Utf8, true),
        arrow_schema::Field::new("value", arrow_schema::DataType::Utf8, true),
    ];
    let mut list = ListBuilder::new(StructBuilder::from_fields(fields, 2));
    for (k, v) in [("feature", "search"), ("env", "prod")] {
        let pair = list.values();
        pair.field_builder::<StringBuilder>(0)
            .unwrap()
            .append_value(k);
        pair.field_builder::<StringBuilder>(1)
            .unwrap()
            .append_value(v);
        pair.append(true);
    }
    list.append(true);
    let tags: ArrayRef = Arc::new(list.finish());
    let s = |v: &str| Arc::new(StringArray::from(vec![v])) as ArrayRef;
    let usage: ArrayRef = Arc::new(
        StructArray::try_from(vec![
            (
                "prompt_tokens",
                Arc::new(arrow_array::Int64Array::from(vec![3000])) as ArrayRef,
            ),
            (
                "completion_tokens",
                Arc::new(arrow_array::Int64Array::from(vec![200])) as ArrayRef,
            ),
        ])
        .unwrap(),
    );
    write_parquet(
        &env.path("kv.parquet"),
        vec![
            ("timestamp", s("2026-03-02T03:30:00Z")),
            ("model", s("gpt-4o-mini")),
            ("usage", usage),
            ("tags", tags),
        ],
    );
    let r = env.audit(&["kv.parquet", "--strict"]);
    assert_eq!(feature(&r)["key"], "search");
    // gpt-4o-mini: 3,000 × $0.15/M + 200 × $0.60/M = $0.00057.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00057");
}

/// hunt144's bug6: the AI SDK's `totalUsage` (every step of a multi-step
/// call) with DECIMAL or text counts, as a warehouse writes them, was
/// dropped in Parquet: the call priced from `usage`, its last step (-67%).
#[test]
fn a_parquet_total_usage_of_decimal_or_text_counts_is_read() {
    use arrow_array::{ArrayRef, Decimal128Array, Int64Array, StringArray, StructArray};
    use std::sync::Arc;
    let env = Env::new();
    let ints = |a: i64, b: i64| {
        Arc::new(
            StructArray::try_from(vec![
                (
                    "inputTokens",
                    Arc::new(Int64Array::from(vec![a])) as ArrayRef,
                ),
                (
                    "outputTokens",
                    Arc::new(Int64Array::from(vec![b])) as ArrayRef,
                ),
            ])
            .unwrap(),
        ) as ArrayRef
    };
    let decimal = |v: i128| {
        Arc::new(
            Decimal128Array::from(vec![v])
                .with_precision_and_scale(38, 0)
                .unwrap(),
        ) as ArrayRef
    };
    let text = |v: &str| Arc::new(StringArray::from(vec![v])) as ArrayRef;
    let s = |v: &str| Arc::new(StringArray::from(vec![v])) as ArrayRef;
    let totals: [(&str, ArrayRef, &str); 3] = [
        (
            "decimal",
            Arc::new(
                StructArray::try_from(vec![
                    ("inputTokens", decimal(3000)),
                    ("outputTokens", decimal(300)),
                ])
                .unwrap(),
            ),
            "0.0105",
        ),
        (
            "text",
            Arc::new(
                StructArray::try_from(vec![
                    ("inputTokens", text("3000")),
                    ("outputTokens", text("300")),
                ])
                .unwrap(),
            ),
            "0.0105",
        ),
        // Blank text counts (a row without them): none, the call priced
        // from its usage (hunt155: the row rejected), 1,000 × $2.50/M +
        // 100 × $10/M.
        (
            "blank",
            Arc::new(
                StructArray::try_from(vec![("inputTokens", text("")), ("outputTokens", text(" "))])
                    .unwrap(),
            ),
            "0.0035",
        ),
    ];
    for (name, total, cost) in totals {
        let file = format!("{name}.parquet");
        write_parquet(
            &env.path(&file),
            vec![
                ("timestamp", s("2026-03-02T04:30:00Z")),
                ("model", s("gpt-4o")),
                ("usage", ints(1000, 100)),
                ("totalUsage", total),
            ],
        );
        let r = env.audit(&[&file, "--strict"]);
        // The whole call: 3,000 × $2.50/M + 300 × $10/M = $0.0105.
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), cost, "{name}");
    }
}

#[test]
fn parquet_rows_price_like_the_same_jsonl() {
    use arrow_array::{ArrayRef, StringArray, StructArray, UInt64Array};
    use std::sync::Arc;
    let env = Env::new();
    let models = ["gpt-4o", "gpt-4o", "gpt-4o-mini"];
    let features = ["a", "b", "a"];
    let prompt = [1000u64, 2000, 1000];
    let completion = [100u64, 50, 100];
    let text = |v: &[&str]| -> ArrayRef { Arc::new(StringArray::from(v.to_vec())) };
    let count = |v: &[u64]| -> ArrayRef { Arc::new(UInt64Array::from(v.to_vec())) };
    // A `usage` struct column.
    let usage: ArrayRef = Arc::new(
        StructArray::try_from(vec![
            ("prompt_tokens", count(&prompt)),
            ("completion_tokens", count(&completion)),
        ])
        .unwrap(),
    );
    write_parquet(
        &env.path("nested.parquet"),
        vec![
            ("model", text(&models)),
            ("feature", text(&features)),
            ("usage", usage),
        ],
    );
    // Flat token columns.
    write_parquet(
        &env.path("flat.parquet"),
        vec![
            ("model", text(&models)),
            ("feature", text(&features)),
            ("prompt_tokens", count(&prompt)),
            ("completion_tokens", count(&completion)),
        ],
    );
    // The same calls as JSONL.
    let jsonl: String = (0..3)
        .map(|i| {
            format!(
                r#"{{"model":"{}","feature":"{}","usage":{{"prompt_tokens":{},"completion_tokens":{}}}}}"#,
                models[i], features[i], prompt[i], completion[i]
            ) + "\n"
        })
        .collect();
    env.write("calls.jsonl", jsonl);

    // gpt-4o/a: $0.0035; gpt-4o/b: 2,000 × $2.50/M + 50 × $10/M = $0.0055;
    // gpt-4o-mini/a: 1,000 × $0.15/M + 100 × $0.60/M = $0.00021.
    // Feature a $0.00371, b $0.0055; total $0.00921.
    let mut costs = Vec::new();
    for (name, encoding) in [
        ("nested.parquet", "parquet"),
        ("flat.parquet", "parquet"),
        ("calls.jsonl", "plain"),
    ] {
        let r = env.audit(&[name]);
        assert_eq!(
            files(&r),
            [file(name, encoding, "gateway", 3, 3, 0)],
            "{name}"
        );
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00921", "{name}");
        assert_eq!(usd(&row(&r, "feature", "a")["cost"]), "0.00371", "{name}");
        assert_eq!(usd(&row(&r, "feature", "b")["cost"]), "0.0055", "{name}");
        costs.push((
            r["audit"]["by"].clone(),
            r["audit"]["cost_by_token_kind"].clone(),
        ));
    }
    assert_eq!(costs[0], costs[2], "nested Parquet vs JSONL");
    assert_eq!(costs[1], costs[2], "flat Parquet vs JSONL");
}

/// A usage struct's `service_tier` and `cost` are read from Parquet as
/// from JSON: the tier prices the call, the cost is reconciled.
#[test]
fn parquet_usage_tier_and_cost_read_like_jsonl() {
    use arrow_array::{ArrayRef, Float64Array, StringArray, StructArray, UInt64Array};
    use std::sync::Arc;
    let env = Env::new();
    let usage: ArrayRef = Arc::new(
        StructArray::try_from(vec![
            (
                "prompt_tokens",
                Arc::new(UInt64Array::from(vec![10_000u64, 10_000])) as ArrayRef,
            ),
            (
                "completion_tokens",
                Arc::new(UInt64Array::from(vec![1_000u64, 1_000])) as ArrayRef,
            ),
            (
                "service_tier",
                Arc::new(StringArray::from(vec![Some("flex"), None])) as ArrayRef,
            ),
            (
                "cost",
                Arc::new(Float64Array::from(vec![0.02, 0.03])) as ArrayRef,
            ),
        ])
        .unwrap(),
    );
    let model: ArrayRef = Arc::new(StringArray::from(vec!["gpt-5", "gpt-5"]));
    write_parquet(
        &env.path("calls.parquet"),
        vec![("model", model), ("usage", usage)],
    );
    env.write(
        "calls.jsonl",
        concat!(
            r#"{"model":"gpt-5","usage":{"prompt_tokens":10000,"completion_tokens":1000,"service_tier":"flex","cost":0.02}}"#,
            "\n",
            r#"{"model":"gpt-5","usage":{"prompt_tokens":10000,"completion_tokens":1000,"service_tier":null,"cost":0.03}}"#,
            "\n"
        ),
    );
    // gpt-5 (1.25 / 10): 10,000 × 1.25 + 1,000 × 10 = $0.0225; flex at half:
    // $0.01125. Total $0.03375, against $0.05 logged.
    let mut seen = Vec::new();
    for name in ["calls.parquet", "calls.jsonl"] {
        let r = env.audit(&[name]);
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.03375", "{name}");
        let rec = &r["audit"]["reconciliation"][0];
        assert_eq!(usd(&rec["logged"]), "0.05", "{name}: {rec}");
        seen.push((
            r["audit"]["by"].clone(),
            r["audit"]["reconciliation"].clone(),
        ));
    }
    assert_eq!(seen[0], seen[1], "Parquet vs JSONL");
}

// 9. Unrecognised shapes and mappings.

#[test]
fn unknown_shapes_are_reported_not_guessed_and_a_mapping_reads_them() {
    let env = Env::new();
    env.write(
        "trace.jsonl",
        r#"{"timestamp":0,"input_length":1000,"output_length":100}
{"timestamp":5,"input_length":3000,"output_length":10}
"#,
    );
    let r = env.audit(&["trace.jsonl"]);
    let input = &r["audit"]["input"];
    assert_eq!(samples(&r), [at("trace.jsonl", 0, "unrecognized_format")]);
    let detail = input["rejected_samples"][0]["detail"].as_str().unwrap();
    for key in ["timestamp", "input_length", "output_length"] {
        assert!(detail.contains(key), "{key} not in {detail}");
    }
    assert_eq!(
        input["rejected_by_reason"],
        json!({"unrecognized_format": 1})
    );
    assert_eq!(files(&r), [file("trace.jsonl", "plain", "none", 0, 0, 1)]);
    assert_files_add_up(&r);
    assert_eq!(r["audit"]["totals"]["calls"], 0);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00");

    env.write(
        "map.toml",
        "[mapping]\ninput_tokens = \"input_length\"\noutput_tokens = \"output_length\"\n\
         [mapping.defaults]\nmodel = \"gpt-4o\"\n",
    );
    let r = env.audit(&["trace.jsonl", "--config", "map.toml"]);
    assert_eq!(files(&r), [file("trace.jsonl", "plain", "mapped", 2, 2, 0)]);
    assert_eq!(r["audit"]["input"]["rejected"], 0);
    // 1,000 × $2.50/M + 100 × $10/M = $0.0035;
    // 3,000 × $2.50/M + 10 × $10/M = $0.0075 + $0.0001 = $0.0076. Total $0.0111.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0111");
    assert_eq!(r["audit"]["totals"]["input_tokens"], 4000);
    assert_eq!(r["audit"]["totals"]["output_tokens"], 110);
    // Its times are seconds since the trace's start: read as absent (a
    // call of 1970 would be priced at the catalog's first price), and said.
    assert_eq!(r["audit"]["input"]["fields_ignored"], 2);
    assert!(r["audit"]["first_call"].is_null());
    let detail = r["audit"]["input"]["rejected_samples"][0]["detail"]
        .as_str()
        .unwrap();
    assert!(detail.starts_with("timestamp: before 2015"), "{detail}");
}

// 10. The output folder.

#[test]
fn the_output_folder_keeps_other_files_and_replaces_its_own() {
    let env = Env::new();
    env.write("out/notes.md", "mine");
    env.write("out/data.csv", "a,b\n");
    env.write("out/sub/keep.jsonl", GOOD);
    env.write("a.jsonl", good(1));
    env.audit(&["a.jsonl"]);
    let md1 = std::fs::read(env.path("out/audit.md")).unwrap();
    env.write("a.jsonl", good(2));
    let r = env.audit(&["a.jsonl"]);
    // The second run replaced the report.
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_ne!(std::fs::read(env.path("out/audit.md")).unwrap(), md1);
    for (name, contents) in [
        ("out/notes.md", "mine"),
        ("out/data.csv", "a,b\n"),
        ("out/sub/keep.jsonl", GOOD),
    ] {
        assert_eq!(
            std::fs::read_to_string(env.path(name)).unwrap(),
            contents,
            "{name}"
        );
    }
    // Only our own names besides the user's files; no temporaries left.
    for e in std::fs::read_dir(env.path("out")).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        let ours = n == "audit.md"
            || n == "audit.json"
            || n == "audit.html"
            || (n.starts_with("audit-") && n.ends_with(".csv"));
        let theirs = ["notes.md", "data.csv", "sub"].contains(&n.as_str());
        assert!(ours || theirs, "unexpected file in out/: {n}");
    }
    assert!(env.path("out/audit.json").exists());

    // A run of fewer formats leaves the earlier ones, and says so.
    let out = env
        .cmd()
        .args(["audit", "a.jsonl", "--out", "out", "--format", "json,md"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains("also holds report files an earlier run wrote and this one did not (audit-by-feature-model.csv, audit-by-feature.csv, audit-by-model.csv, audit-by-provider.csv and 14 more)"),
        "{err}"
    );
    assert!(env.path("out/audit.html").exists());
    env.audit(&["a.jsonl"]);
    // A user's own files with report-like names are not called an earlier
    // run's.
    env.write("out/audit-notes.csv", "note,owner\ncheck,ana\n");
    env.write("out/focus.csv", "BillingAccount,Amount\nx,1\n");
    let out = env
        .cmd()
        .args(["audit", "a.jsonl", "--out", "out"])
        .output()
        .unwrap();
    assert!(!stderr(&out).contains("earlier run"), "{}", stderr(&out));
}

// 11. Parallel determinism.

#[test]
fn output_is_identical_whatever_the_thread_count() {
    let env = Env::new();
    let models = [
        "gpt-4o",
        "gpt-4o-mini",
        "claude-sonnet-4-5",
        "o3-mini",
        "acme-x",
    ];
    let mut text = String::new();
    let mut garbage = Vec::new();
    let mut line = 0u64;
    for i in 0..200_000u64 {
        let m = models[(i % 5) as usize];
        let cached = if i % 3 == 0 {
            format!(r#","prompt_tokens_details":{{"cached_tokens":{}}}"#, i % 90)
        } else {
            String::new()
        };
        let status = if i % 101 == 0 { "error" } else { "ok" };
        text.push_str(&format!(
            r#"{{"timestamp":"2026-10-{:02}T{:02}:{:02}:00Z","model":"{m}","feature":"f{}","team":"t{}","user":"u{}","session":"s{}","status":"{status}","tags":{{"env":"e{}"}},"usage":{{"prompt_tokens":{},"completion_tokens":{}{cached}}}}}"#,
            1 + i % 28,
            i % 24,
            i % 60,
            i % 7,
            i % 3,
            i % 97,
            i % 1009,
            i % 2,
            100 + i % 5000,
            1 + i % 300
        ));
        text.push('\n');
        line += 1;
        if i % 7_001 == 0 {
            text.push_str("garbage line\n");
            line += 1;
            garbage.push(line);
        }
    }
    env.write("a.jsonl", &text);
    let run_with = |threads: &str| {
        let out_dir = format!("out{threads}");
        let out = env
            .cmd()
            .args(["audit", "a.jsonl", "--quiet", "--threads", threads])
            .args(["--out", &out_dir])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(env.path(&out_dir))
            .unwrap()
            .flatten()
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let one = run_with("1");
    let two = run_with("2");
    let names: Vec<&String> = one.iter().map(|f| &f.0).collect();
    assert!(names.iter().any(|n| *n == "audit.json") && names.iter().any(|n| *n == "audit.md"));
    assert_eq!(names, two.iter().map(|f| &f.0).collect::<Vec<_>>());
    for (a, b) in one.iter().zip(&two) {
        assert!(a.1 == b.1, "{} differs between 1 and 2 threads", a.0);
    }
    let r: Value =
        serde_json::from_slice(&one.iter().find(|f| f.0 == "audit.json").unwrap().1).unwrap();
    let input = &r["audit"]["input"];
    // 200,000 calls and 29 garbage lines (i = 0, 7,001, …, 196,028).
    assert_eq!(garbage.len(), 29);
    assert_eq!(input["records"], 200_000);
    assert_eq!(input["rejected"], 29);
    assert_eq!(input["lines"], 200_029);
    // The samples are the first 20 garbage lines, in file order.
    let want: Vec<_> = garbage[..20]
        .iter()
        .map(|&l| at("a.jsonl", l, "malformed_json"))
        .collect();
    assert_eq!(samples(&r), want);
}

// 12. Config errors.

#[test]
fn config_with_an_unknown_key_is_an_error_naming_it() {
    let env = Env::new();
    env.write("a.jsonl", good(1));
    for (toml, key) in [
        ("colour = \"red\"\n", "colour"),
        ("[mapping]\nmodell = \"x\"\n", "modell"),
    ] {
        env.write("bad.toml", toml);
        let out = run(&env, &["a.jsonl", "--config", "bad.toml"]);
        assert_eq!(out.status.code(), Some(2), "{key}");
        assert!(stderr(&out).contains(key), "{key}: {}", stderr(&out));
        assert!(stderr(&out).contains("bad.toml"), "{}", stderr(&out));
        assert!(!env.path("out/audit.json").exists());
    }
}

/// A mapped path that is no path (a number, an empty list) is said as
/// such (it was "data did not match any variant of untagged enum Paths",
/// and an empty list was taken, mapping the field to nothing).
#[test]
fn a_mapping_path_that_is_no_path_is_said() {
    let env = Env::new();
    env.write("a.jsonl", good(1));
    for toml in [
        "[mapping]\ninput_tokens = 5\n",
        "[mapping]\ninput_tokens = []\n",
    ] {
        env.write("bad.toml", toml);
        let out = run(&env, &["a.jsonl", "--config", "bad.toml"]);
        assert_eq!(out.status.code(), Some(2), "{toml}");
        let err = stderr(&out);
        assert!(
            err.contains("a dotted path (\"usage.input\") or a non-empty list of them"),
            "{err}"
        );
        assert!(err.contains("input_tokens"), "{err}");
    }
}

#[test]
fn stage_timings_go_to_stderr_only_when_asked() {
    let env = Env::new();
    env.write("calls.jsonl", good(3));
    let stages = |out: &Output| -> Vec<String> {
        stderr(out)
            .lines()
            .filter_map(|l| l.strip_prefix("timing "))
            .map(|l| l.split_whitespace().next().unwrap().to_string())
            .collect()
    };
    let audit = |timings: Option<&str>| {
        let mut cmd = env.cmd();
        if let Some(v) = timings {
            cmd.env("TOKENAUDIT_TIMINGS", v);
        }
        let out = cmd
            .args(["audit", "calls.jsonl", "--out", "out", "--quiet"])
            .output()
            .unwrap();
        assert!(out.status.success());
        out
    };
    assert_eq!(stages(&audit(None)), Vec::<String>::new());
    assert_eq!(
        stages(&audit(Some("1"))),
        [
            "ingest",
            "merge",
            "finish",
            "detect",
            "waterfall",
            "reports"
        ]
    );
    // The reports do not change.
    assert_eq!(row(&env.report(), "feature", "f")["cost"], good_cost(3));
    assert_eq!(stages(&audit(Some("0"))), Vec::<String>::new());
}

/// Mistakes that used to end in a confusing error or a useless file.
#[test]
fn cli_mistakes_are_refused_clearly() {
    let env = Env::new();
    env.write("empty.json", "{}");
    env.write("logs/a.jsonl", good(1));
    std::fs::create_dir_all(env.path("dir")).unwrap();
    for (args, says) in [
        (
            &[
                "prices",
                "import",
                "litellm",
                "empty.json",
                "--out",
                "cat.json",
            ][..],
            "no model could be imported from it",
        ),
        (
            &["findings", "logs", "--out", "dir"][..],
            "--out dir is a folder; give the file to write",
        ),
        // 99,999 threads panicked and hung.
        (
            &["audit", "logs", "--threads", "99999"][..],
            "99999 is not in 0..=1024",
        ),
        (
            &[
                "audit",
                "logs",
                "--since",
                "2026-10-05",
                "--until",
                "2026-10-01",
            ][..],
            "--since 2026-10-05 is not before --until 2026-10-01 (--until's day is included)",
        ),
        (
            &[
                "audit",
                "logs",
                "--since",
                "2026-10-05T12:00:00Z",
                "--until",
                "2026-10-05T06:00:00",
            ][..],
            "--since 2026-10-05T12:00:00Z is not before --until 2026-10-05T06:00:00 (--until is the window's end, not in it)",
        ),
        (
            &[
                "whatif",
                "logs",
                "--route",
                "f=gpt-4o-mini",
                "--route",
                "f=gpt-4.1-nano",
            ][..],
            "is already routed",
        ),
        // A negative amount would fail on every finding.
        (
            &["findings", "logs", "--fail-on", "savings>=-5"][..],
            "--fail-on \"savings>=-5\": expected",
        ),
    ] {
        let out = env.cmd().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
    }
    assert!(!env.path("cat.json").exists());
}

/// `review --help` does not offer the window flags `--month` replaces.
#[test]
fn review_help_leaves_out_since_and_until() {
    let env = Env::new();
    let out = env.cmd().args(["review", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--month") && !help.contains("--since") && !help.contains("--until"),
        "{help}"
    );
}

/// hunt112: `whatif --help` listed `--no-findings` and `--include-prompts`
/// and `findings --help` `--no-findings`, which they refuse; `--threads`
/// said its default twice.
#[test]
fn help_offers_only_what_a_command_takes() {
    let env = Env::new();
    let help = |cmd: &str| {
        let out = env.cmd().args([cmd, "--help"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let whatif = help("whatif");
    assert!(
        !whatif.contains("--no-findings") && !whatif.contains("--include-prompts"),
        "{whatif}"
    );
    assert!(
        whatif.contains("--threads") && !whatif.contains("[default: 0]"),
        "{whatif}"
    );
    assert!(!help("findings").contains("--no-findings"));
    let audit = help("audit");
    assert!(audit.contains("--no-findings") && audit.contains("--include-prompts"));
    assert!(!audit.contains("the reports compare"), "{audit}");
    assert!(!help("ingest").contains("[default: 0]"));
}

/// An empty timestamp is no time (as `null` and an empty CSV cell are),
/// not a bad one that loses the call; an HTTP `Date` header's spelling
/// (RFC 2822) is a time.
#[test]
fn empty_and_http_date_timestamps_keep_their_calls() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        concat!(
            r#"{"timestamp":"","model":"gpt-4o","usage":{"prompt_tokens":1000000,"completion_tokens":0}}"#,
            "\n",
            r#"{"timestamp":"  ","created_at":"2025-09-02T11:00:00Z","model":"gpt-4o","usage":{"prompt_tokens":1000000,"completion_tokens":0}}"#,
            "\n",
            r#"{"timestamp":"Tue, 02 Sep 2025 10:00:00 GMT","model":"gpt-4o","usage":{"prompt_tokens":1000000,"completion_tokens":0}}"#,
            "\n",
            r#"{"timestamp":"Tue, 02 Sep 2025 12:00:00 +0200","model":"gpt-4o","usage":{"prompt_tokens":1000000,"completion_tokens":0}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["calls.jsonl", "--strict"]);
    // Four calls of 1,000,000 gpt-4o input tokens at $2.50/M.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "10.00");
    assert_eq!(r["audit"]["first_call"], "2025-09-02T10:00:00Z");
    assert_eq!(r["audit"]["last_call"], "2025-09-02T11:00:00Z");
    assert_eq!(r["audit"]["input"]["rejected"], 0);
}

/// A log's escape sequences are printed as text on the terminal (the
/// summary, warnings), never run: a feature named `\x1b[2J` would clear
/// the screen.
#[test]
fn escape_sequences_from_logs_are_shown_not_run_on_the_terminal() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        concat!(
            r#"{"timestamp":"2025-09-02T10:00:00Z","feature":"\u001b[2Jwipe\u001b]0;owned\u0007","model":"gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":0}}"#,
            "\n",
            r#"{"timestamp":"2025-09-02T10:00:00Z","feature":"x\nWrote /etc/passwd","model":"gpt-4o","usage":{"prompt_tokens":100,"completion_tokens":0}}"#,
        ),
    );
    let out = env
        .cmd()
        .args(["audit", "calls.jsonl", "--format", "json", "--out", "out"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(
        !said.contains('\u{1b}') && !said.contains('\u{7}'),
        "{said:?}"
    );
    // A line break in a name is shown too: no line of its own.
    assert!(
        said.contains("Top features: \u{241b}[2Jwipe\u{241b}]0;owned\u{2407} $0.0025, x\u{240a}Wrote /etc/passwd $0.0003\n"),
        "{said:?}"
    );
    assert!(!said.lines().any(|l| l.starts_with("Wrote /etc/passwd")));
}

/// An API's pages saved as files (`curl … > page.json`): the records in an
/// array under `data` (or `items`, `results` …), the rest of the page
/// dropped; one page on a line, pretty-printed, or several in a row. An
/// object that merely holds a list (an embeddings response's `data`) is
/// read as the call it is.
#[test]
fn api_pages_are_read_as_their_records() {
    let env = Env::new();
    let call = |i: u32| {
        json!({"id": i.to_string(), "timestamp": format!("2025-09-02T10:00:0{i}Z"),
               "model": "gpt-4o", "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 0}})
    };
    env.write(
        "logs/openai-list.json",
        json!({"object": "list", "data": [call(1), call(2)], "has_more": false,
               "meta": {"data": [1, 2]}})
        .to_string(),
    );
    let observation = |i: u32| {
        json!({"id": format!("o{i}"), "traceId": format!("t{i}"), "type": "GENERATION",
               "startTime": format!("2025-09-02T11:00:0{i}Z"), "model": "gpt-4o",
               "usageDetails": {"input": 1_000_000, "output": 0}})
    };
    env.write(
        "logs/langfuse-page.json",
        serde_json::to_string_pretty(&json!({"data": [observation(1), observation(2)],
                                             "meta": {"page": 1, "totalItems": 3}}))
        .unwrap(),
    );
    env.write(
        "logs/pages.json",
        format!(
            "{}\n{}\n",
            json!({"data": [call(3)]}),
            json!({"data": [call(4)], "next": null})
        ),
    );
    // A JSON-lines log whose first call happens to hold a list of calls
    // under `data` is JSON lines, every line read.
    env.write(
        "logs/lines.jsonl",
        format!(
            "{}\n{}\n",
            json!({"id": "5", "timestamp": "2025-09-02T10:00:05Z", "model": "gpt-4o",
                   "usage": {"prompt_tokens": 1_000_000, "completion_tokens": 0},
                   "data": [{"model": "gpt-4o", "usage": {"prompt_tokens": 5}}]}),
            call(6)
        ),
    );
    env.write(
        "logs/embedding.json",
        serde_json::to_string_pretty(&json!({"object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 1_000_000, "total_tokens": 1_000_000}}))
        .unwrap(),
    );
    let r = env.audit(&["logs", "--strict"]);
    let formats: Vec<(&str, &str, u64)> = r["audit"]["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = f["file"].as_str().unwrap();
            (
                &name[name.rfind('/').map_or(0, |i| i + 1)..],
                f["format"].as_str().unwrap(),
                f["records"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        formats,
        [
            ("embedding.json", "gateway (JSON documents)", 1),
            ("langfuse-page.json", "langfuse (API page)", 2),
            ("lines.jsonl", "gateway", 2),
            ("openai-list.json", "gateway (API page)", 2),
            ("pages.json", "gateway (API page)", 2),
        ]
    );
    // Eight gpt-4o calls of 1,000,000 input tokens at $2.50/M: $20; the
    // embedding, 1,000,000 at $0.02/M: $0.02. Before, every page was
    // unrecognized.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "20.02");
}

/// Calls with no feature are said in Data quality: `(none)` reads like a
/// feature of its own in the tables and findings.
#[test]
fn calls_without_a_feature_are_said() {
    let env = Env::new();
    let mut s = String::new();
    for i in 0..10 {
        let mut v = json!({"timestamp": format!("2026-10-01T10:{i:02}:00Z"), "model": "gpt-4o",
                           "usage": {"prompt_tokens": 1000, "completion_tokens": 100}});
        if i < 7 {
            v["feature"] = json!("chat");
        }
        s += &(v.to_string() + "\n");
    }
    env.write("calls.jsonl", s);
    env.audit(&["calls.jsonl"]);
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    assert!(
        md.contains("**3 calls (30.0%) have no feature**: they are one row, `(none)`, in every table and finding."),
        "{md}"
    );
}

/// `"status": 200` is read as the HTTP status: the outcome is known, so
/// Data quality does not list `status` among the fields no call carried.
#[test]
fn an_http_code_as_status_is_not_a_missing_status() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        r#"{"timestamp":"2026-10-01T10:00:00Z","model":"gpt-4o","status":200,"usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
    );
    let r = env.audit(&["calls.jsonl"]);
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    let carried = md.split("**Fields no call carried**").nth(1).unwrap_or("");
    let list = carried.split("\n\n").nth(1).unwrap_or("");
    assert!(!list.contains("`status`"), "{list}");
    // It was: "`status`: all calls count as successful unless …".
    assert!(r["audit"]["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["field"] == "http_status" && c["present"] == 1));
}

/// A string cut in the middle of an emoji by JavaScript (`"\ud83d"`, a lone
/// UTF-16 surrogate escape: Node writes it, serde_json refuses it) does not
/// lose the line's call; the rest of the line is read as it stands.
#[test]
fn a_lone_surrogate_escape_does_not_lose_the_call() {
    let env = Env::new();
    env.write(
        "projects/-home-dev-shop/s1.jsonl",
        concat!(
            r#"{"parentUuid":"p","isSidechain":false,"userType":"external","cwd":"/home/dev/shop","sessionId":"s1","version":"2.0.30","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"ok"}],"usage":{"input_tokens":100,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1000}},"requestId":"req_1","type":"assistant","uuid":"u1","timestamp":"2025-10-01T10:00:01.000Z"}"#,
            "\n",
            r#"{"parentUuid":"p","isSidechain":false,"userType":"external","cwd":"/home/dev/shop","sessionId":"s1","version":"2.0.30","message":{"id":"msg_2","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"truncated emoji \ud83d"}],"usage":{"input_tokens":200,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2000}},"requestId":"req_2","type":"assistant","uuid":"u3","timestamp":"2025-10-01T10:00:03.000Z"}"#,
            "\n",
        ),
    );
    env.write(
        "gateway.jsonl",
        r#"{"timestamp":"2025-10-01T10:00:00Z","model":"gpt-4o","feature":"cut \udc00 here","messages":[{"role":"user","content":"\ud83d"}],"usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
    );
    let r = env.audit(&["projects", "gateway.jsonl", "--strict"]);
    // Sonnet 4.5 ($3 / $15): 100 × 3 + 1,000 × 15 = $0.0153 and 200 × 3 +
    // 2,000 × 15 = $0.0306; gpt-4o 1,000 × 2.5 + 100 × 10 = $0.0035. The
    // second and third lines were malformed_json, and --strict failed.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0494");
    assert_eq!(r["audit"]["totals"]["calls"], 3);
    assert_eq!(r["audit"]["input"]["rejected"], 0);
    assert_eq!(
        usd(&row(&r, "feature", "cut \u{fffd} here")["cost"]),
        "0.0035"
    );
}

/// A cut emoji on a file's first line decides its format as the line would
/// without it: an OpenAI batch output whose first line has one was read as
/// a gateway log, every call at twice its batch price.
#[test]
fn a_lone_surrogate_on_the_first_line_does_not_change_the_format() {
    let env = Env::new();
    let fixture = format!(
        "{}/tests/fixtures/formats/openai-batch/batch_output.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(fixture).unwrap();
    let cut = text.replacen(
        r#""custom_id":"request-1""#,
        r#""custom_id":"request-1 \ud83d""#,
        1,
    );
    assert_ne!(cut, text);
    env.write("batch_output.jsonl", &cut);
    let r = env.audit(&["batch_output.jsonl", "--strict"]);
    assert_eq!(r["audit"]["input"]["files"][0]["format"], "openai-batch");
    // As the fixture's own test: 2 calls at batch rates, $0.0027.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0027");
}

/// A feature taken from a tag attributes by feature: Data quality does not
/// list `feature` among the fields no call carried (it said per-feature
/// findings were unavailable beside a table of spend by feature).
#[test]
fn a_feature_from_a_tag_is_not_a_missing_feature() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        r#"{"timestamp":"2026-10-01T10:00:00Z","model":"gpt-4o","tags":{"feature":"support"},"usage":{"prompt_tokens":1000,"completion_tokens":100}}
{"timestamp":"2026-10-01T10:01:00Z","model":"gpt-4o","request_tags":["feature:search"],"usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
    );
    let r = env.audit(&["calls.jsonl"]);
    let md = std::fs::read_to_string(env.path("out/audit.md")).unwrap();
    let carried = md.split("**Fields no call carried**").nth(1).unwrap_or("");
    let list = carried.split("\n\n").nth(1).unwrap_or("");
    assert!(!list.contains("`feature`"), "{list}");
    assert!(list.contains("`session`"), "{list}");
    // 1,000 × 2.5 + 100 × 10 = $0.0035 each, under its tag's feature.
    assert_eq!(usd(&row(&r, "feature", "support")["cost"]), "0.0035");
    assert_eq!(usd(&row(&r, "feature", "search")["cost"]), "0.0035");
}

/// A tag a call carries twice is one tag of the call (hunt181: LiteLLM's
/// `request_tags` of `["prod","prod"]`, before BerriAI/litellm#6932, and a
/// gateway line's `tags` and `metadata` with the same pair, counted the
/// call twice in the tag table).
#[test]
fn a_tag_carried_twice_counts_the_call_once() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        r#"{"timestamp":"2026-10-01T10:00:00Z","model":"gpt-4o","request_tags":["prod","prod","eu"],"usage":{"prompt_tokens":1000,"completion_tokens":100}}
{"timestamp":"2026-10-01T10:01:00Z","model":"gpt-4o","tags":{"env":"prod"},"metadata":{"env":"prod"},"usage":{"prompt_tokens":1000,"completion_tokens":100}}
{"timestamp":"2026-10-01T10:02:00Z","model":"gpt-4o","request_tags":["prod"],"usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
    );
    let r = env.audit(&["calls.jsonl"]);
    let tag = |key: &str| {
        r["audit"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("no tag {key}: {}", r["audit"]["tags"]))
    };
    // 1,000 × 2.5 + 100 × 10 = $0.0035 a call.
    assert_eq!(tag("tag=prod")["calls"], 2);
    assert_eq!(usd(&tag("tag=prod")["cost"]), "0.007");
    assert_eq!(tag("tag=eu")["calls"], 1);
    assert_eq!(tag("env=prod")["calls"], 1);
    assert_eq!(usd(&tag("env=prod")["cost"]), "0.0035");
}

/// A line that is not UTF-8 is read with U+FFFD for its other bytes and
/// said as such (hunt101: the call was lost); Go's RFC 1123 dates (`…
/// UTC`) are times.
#[test]
fn invalid_utf8_is_said_and_go_dates_are_read() {
    let env = Env::new();
    let mut bytes =
        br#"{"timestamp":"Tue, 02 Sep 2025 10:00:00 UTC","model":"gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":0}}"#
            .to_vec();
    bytes.extend_from_slice(
        b"\n{\"model\":\"gpt-4o\",\"feature\":\"caf\xe9\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":0}}\n",
    );
    std::fs::write(env.path("calls.jsonl"), bytes).unwrap();
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(r["audit"]["first_call"], "2025-09-02T10:00:00Z");
    // Both calls: 2 × 1,000 × $2.50/M.
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.005");
    assert_eq!(usd(&row(&r, "feature", "caf\u{fffd}")["cost"]), "0.0025");
    let sample = &r["audit"]["input"]["rejected_samples"][0];
    assert_eq!(sample["line"], 2);
    assert_eq!(sample["reason"], "field_ignored");
    assert_eq!(
        sample["detail"],
        "text: not UTF-8, its other bytes read as \u{fffd} (is the file in another encoding?)"
    );
    // The report says the text is kept, not left empty (hunt163).
    let out = env
        .cmd()
        .args(["audit", "calls.jsonl", "--out", "md", "--format", "md"])
        .output()
        .unwrap();
    let md = std::fs::read_to_string(env.path("md/audit.md")).unwrap();
    assert!(
        md.contains("or, for text that was not UTF-8, kept with its bad bytes shown as \u{fffd}"),
        "{md}"
    );
    // (The summary, on stdout without --quiet.)
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("or with text that was not UTF-8"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A mapping's list of paths goes on past a null or empty value (every
/// empty CSV cell is null): the next path is read. It stopped there: the
/// tokens were 0 ($0.01 instead of $0.035) and a model in the next column
/// left the call `missing_model`.
#[test]
fn a_mapping_goes_on_past_a_null_or_empty_value() {
    let env = Env::new();
    env.write(
        "m.toml",
        "[mapping]\nrequest_id = \"id\"\nmodel = [\"llm.model\", \"request_model\"]\n\
         input_tokens = [\"llm.tokens.prompt\", \"llm.tokens.input\"]\noutput_tokens = \"llm.out\"\n\
         feature = [\"labels.feature\", \"service\"]\n",
    );
    env.write(
        "calls.jsonl",
        concat!(
            r#"{"id":"1","llm":{"model":"gpt-4o","tokens":{"prompt":null,"input":10000},"out":1000},"labels":{"feature":null},"service":"search"}"#,
            "\n",
            r#"{"id":"2","llm":{"model":"","tokens":{"prompt":"","input":1000},"out":10},"request_model":"gpt-4o","labels":{"feature":" "},"service":"search"}"#,
            "\n",
        ),
    );
    let r = env.audit(&["calls.jsonl", "--config", "m.toml", "--strict"]);
    // gpt-4o: 10,000 × $2.50/M + 1,000 × $10/M = $0.035; 1,000 × 2.5 + 10
    // × 10 = $0.0026.
    assert_eq!(usd(&row(&r, "feature", "search")["cost"]), "0.0376");
    assert_eq!(r["audit"]["totals"]["calls"], 2);

    env.write(
        "csv.toml",
        "[mapping]\nrequest_id = \"id\"\nmodel = [\"response_model\", \"request_model\"]\n\
         input_tokens = [\"prompt_tokens\", \"input_tokens\"]\noutput_tokens = \"completion_tokens\"\n\
         feature = [\"feature\", \"app\"]\n",
    );
    env.write(
        "calls.csv",
        "id,response_model,request_model,prompt_tokens,input_tokens,completion_tokens,feature,app\n\
         1,,gpt-4o,,1000,10,,search\n\
         2,gpt-4o,gpt-4o,1000,,10,chat,\n",
    );
    let r = env.audit(&["calls.csv", "--config", "csv.toml", "--strict"]);
    assert_eq!(usd(&row(&r, "feature", "search")["cost"]), "0.0026");
    assert_eq!(usd(&row(&r, "feature", "chat")["cost"]), "0.0026");
}

/// Token counts a mapping does not name are still the gateway reader's: a
/// mapped input and output keep the usage object's cached tokens (they
/// were billed as input: $0.038 instead of $0.033), and a mapping of the
/// cached count alone keeps the rest (every call was `missing_usage`).
#[test]
fn token_counts_a_mapping_does_not_name_are_still_found() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        concat!(
            r#"{"id":"pk-0","model":"gpt-4o","usage":{"prompt_tokens":12000,"completion_tokens":800,"prompt_tokens_details":{"cached_tokens":4000}},"req_units":12000,"res_units":800,"x_cache":{"read":4000}}"#,
            "\n",
            r#"{"id":"pk-1","model":"gpt-4o-mini","usage":{"prompt_tokens":5000,"completion_tokens":300},"req_units":5000,"res_units":300,"x_cache":{"read":0}}"#,
            "\n",
        ),
    );
    env.write(
        "in_out.toml",
        "[mapping]\ninput_tokens = \"req_units\"\noutput_tokens = \"res_units\"\n",
    );
    env.write(
        "cached.toml",
        "[mapping]\ncached_read_tokens = \"x_cache.read\"\n",
    );
    // gpt-4o: 8,000 × $2.50/M + 4,000 × $1.25/M + 800 × $10/M = $0.033;
    // gpt-4o-mini: 5,000 × 0.15 + 300 × 0.6 = $0.00093.
    for config in ["in_out.toml", "cached.toml"] {
        let r = env.audit(&["calls.jsonl", "--config", config, "--strict"]);
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.03393", "{config}");
        assert_eq!(r["audit"]["totals"]["cached_read_tokens"], 4000, "{config}");
    }
}

/// Anthropic's cache writes by TTL mapped as such (`cache_write_5m_tokens`,
/// `cache_write_1h_tokens`): there was no key for the 5-minute part, and
/// mapped as the total it lost the 1-hour writes or rejected the call.
#[test]
fn a_mapping_names_cache_writes_by_ttl() {
    let env = Env::new();
    env.write(
        "m.toml",
        "[mapping]\nmodel = \"m\"\ninput_includes_cache = false\ninput_tokens = \"u.in\"\n\
         cached_read_tokens = \"u.read\"\ncache_write_5m_tokens = \"u.w5\"\n\
         cache_write_1h_tokens = \"u.w1\"\noutput_tokens = \"u.out\"\n",
    );
    env.write(
        "calls.jsonl",
        concat!(
            r#"{"m":"claude-sonnet-4-5","u":{"in":10,"read":1000,"w5":100,"w1":100,"out":5}}"#,
            "\n",
            r#"{"m":"claude-sonnet-4-5","u":{"in":10,"read":1000,"w5":0,"w1":300,"out":5}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["calls.jsonl", "--config", "m.toml", "--strict"]);
    // Sonnet 4.5 ($3 in, $0.30 read, $3.75 5-minute and $6 1-hour writes,
    // $15 out): 10 × 3 + 1,000 × 0.3 + 100 × 3.75 + 100 × 6 + 5 × 15 =
    // $0.00138; 30 + 300 + 300 × 6 + 75 = $0.002205.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.003585");
    assert_eq!(r["audit"]["totals"]["cache_write_tokens"], 500);
}

/// A mapped epoch in another unit than `timestamp_unit` says falls outside
/// the times a call can have: a `bad_timestamp`, as the gateway reader's,
/// not a call clamped to 2262-04-11.
#[test]
fn a_mapped_epoch_out_of_range_is_no_time() {
    let env = Env::new();
    env.write(
        "m.toml",
        "[mapping]\ntimestamp = \"t\"\ntimestamp_unit = \"s\"\n",
    );
    env.write(
        "calls.jsonl",
        concat!(
            r#"{"t":1733300000,"model":"gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":10}}"#,
            "\n",
            r#"{"t":1733300000123,"model":"gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":10}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["calls.jsonl", "--config", "m.toml"]);
    assert_eq!(r["audit"]["last_call"], "2024-12-04T08:13:20Z");
    assert_eq!(r["audit"]["input"]["rejected"], 1);
    assert_eq!(
        r["audit"]["input"]["rejected_samples"][0]["reason"],
        "bad_timestamp"
    );
}

/// A mapped epoch is converted exactly (hunt124: through an f64, the last
/// nanosecond of October in nanoseconds was November's first instant, and
/// `review --month 2026-10` read no call; 1790841600.123 seconds was
/// .122999808, and `--since …00.123Z` left the call out). The same in the
/// scanner's pass and the tree (`[mapping.only]`), numbers and text.
#[test]
fn a_mapped_epoch_is_read_to_the_nanosecond() {
    let env = Env::new();
    let usage = r#""model":"gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":10}"#;
    env.write(
        "ns.jsonl",
        format!(
            "{{\"t\":1793491199999999999,{usage}}}\n{{\"t\":\"1793491199999999999\",{usage}}}\n"
        ),
    );
    env.write(
        "s.jsonl",
        format!("{{\"t\":1790841600.123,{usage}}}\n{{\"t\":\"1790841600.123\",{usage}}}\n"),
    );
    for only in ["", "[mapping.only]\nmodel = \"gpt-4o\"\n"] {
        env.write(
            "ns.toml",
            format!("[mapping]\ntimestamp = \"t\"\ntimestamp_unit = \"ns\"\n{only}"),
        );
        env.write(
            "s.toml",
            format!("[mapping]\ntimestamp = \"t\"\ntimestamp_unit = \"s\"\n{only}"),
        );
        let r = env.audit(&["ns.jsonl", "--config", "ns.toml", "--until", "2026-10-31"]);
        assert_eq!(r["audit"]["totals"]["calls"], 2, "{only}");
        assert_eq!(r["audit"]["last_call"], "2026-10-31T23:59:59.999999999Z");
        let r = env.audit(&[
            "s.jsonl",
            "--config",
            "s.toml",
            "--since",
            "2026-10-01T08:00:00.123Z",
        ]);
        assert_eq!(r["audit"]["totals"]["calls"], 2, "{only}");
        assert_eq!(r["audit"]["first_call"], "2026-10-01T08:00:00.123Z");
    }
}

/// Cloudflare's API answers under `result` (its AI Gateway's logs): a
/// saved page is read as its records (the page was one `missing_model`
/// reject, with a mapping that reads each row right).
#[test]
fn a_cloudflare_page_is_read_as_its_records() {
    let env = Env::new();
    env.write(
        "m.toml",
        "[mapping]\nrequest_id = \"id\"\ntimestamp = \"created_at\"\ninput_tokens = \"tokens_in\"\n\
         output_tokens = \"tokens_out\"\nfeature = \"metadata.feature\"\ncache_hit = \"cached\"\n",
    );
    let row = |id: &str, model: &str, tin: u64, tout: u64| {
        json!({"id": id, "created_at": "2025-03-01T10:00:00.000Z", "provider": "openai",
               "model": model, "tokens_in": tin, "tokens_out": tout, "cached": false,
               "success": true, "status_code": 200, "metadata": "{\"feature\":\"search\"}"})
    };
    // An answer from the gateway's cache (`cached: true`, a mapped
    // `cache_hit`): not billed by the provider, not a call.
    let mut hit = row("01J4", "gpt-4o-mini", 10_000, 1_000);
    hit["cached"] = json!(true);
    let page = json!({"result": [row("01J1", "gpt-4o-mini", 10_000, 1_000),
                                  row("01J2", "gpt-4o-mini", 10_000, 1_000),
                                  row("01J3", "claude-sonnet-4-5", 2_000, 100), hit],
                      "result_info": {"page": 1, "per_page": 3, "count": 3},
                      "success": true, "errors": [], "messages": []});
    env.write("logs.json", serde_json::to_string_pretty(&page).unwrap());
    let r = env.audit(&["logs.json", "--config", "m.toml", "--strict"]);
    // gpt-4o-mini: 10,000 × $0.15/M + 1,000 × $0.60/M = $0.0021, twice;
    // Sonnet 4.5: 2,000 × 3 + 100 × 15 = $0.0075.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0117");
    assert_eq!(r["audit"]["totals"]["calls"], 3);
    assert_eq!(
        r["audit"]["input"]["files"][0]["format"],
        "mapped (API page)"
    );
    assert_eq!(r["audit"]["input"]["skipped_by_reason"]["not_a_call"], 1);
    // Without the mapping: the reader knows Cloudflare's names (`cached`,
    // `tokens_in`, `tokens_out`, the metadata's JSON text) itself.
    let r = env.audit(&["logs.json", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0117");
    assert_eq!(r["audit"]["totals"]["calls"], 3);
    assert_eq!(
        r["audit"]["input"]["files"][0]["format"],
        "gateway (API page)"
    );
    assert_eq!(r["audit"]["input"]["skipped_by_reason"]["not_a_call"], 1);
    // The same rows as a spreadsheet's CSV (Excel's TRUE): the same.
    env.write(
        "logs.csv",
        "id,created_at,provider,model,tokens_in,tokens_out,cached,cost\n\
         01J1,2025-03-01T10:00:00Z,openai,gpt-4o-mini,10000,1000,FALSE,0.0021\n\
         01J2,2025-03-01T10:00:00Z,openai,gpt-4o-mini,10000,1000,FALSE,0.0021\n\
         01J3,2025-03-01T10:00:00Z,anthropic,claude-sonnet-4-5,2000,100,FALSE,0.0075\n\
         01J4,2025-03-01T10:00:00Z,openai,gpt-4o-mini,10000,1000,TRUE,0\n",
    );
    let r = env.audit(&["logs.csv", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0117");
    assert_eq!(r["audit"]["input"]["skipped_by_reason"]["not_a_call"], 1);
}

/// A CSV cell of more digits than a 64-bit integer holds is an identifier
/// kept as its text: two 21-digit request ids that differ in their last
/// digit were read as the same float, and their calls said to be one call
/// logged twice.
#[test]
fn long_numeric_ids_in_a_csv_stay_apart() {
    let env = Env::new();
    env.write(
        "calls.csv",
        "request_id,timestamp,model,prompt_tokens,completion_tokens\n\
         123456789012345678901,2025-10-01T10:00:00Z,gpt-4o,1000,100\n\
         123456789012345678902,2025-10-01T10:00:00Z,gpt-4o,1000,100\n",
    );
    env.write(
        "m.toml",
        "[mapping]\nrequest_id = \"request_id\"\ninput_tokens = \"prompt_tokens\"\noutput_tokens = \"completion_tokens\"\n",
    );
    let r = env.audit(&["calls.csv", "--config", "m.toml", "--strict"]);
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(r["audit"]["input"]["repeated_calls"]["calls"], 0);
    // 1,000 × $2.50/M + 100 × $10/M = $0.0035 a call.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.007");
}

/// Anthropic-style counts (input without the cache) mapped with the default
/// `input_includes_cache = true` are rejected with the setting that reads
/// them (the reject said only that the counts disagreed).
#[test]
fn a_mapping_in_the_wrong_convention_is_told_how_to_read_it() {
    let env = Env::new();
    env.write(
        "m.toml",
        "[mapping]\ninput_tokens = \"u.in\"\ncached_read_tokens = \"u.read\"\noutput_tokens = \"u.out\"\n",
    );
    env.write(
        "calls.jsonl",
        r#"{"model":"claude-sonnet-4-5","u":{"in":10,"read":1000,"out":5}}"#,
    );
    let r = env.audit(&["calls.jsonl", "--config", "m.toml"]);
    let detail = r["audit"]["input"]["rejected_samples"][0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("set input_includes_cache = false in [mapping]"),
        "{detail}"
    );
}

/// Cloudflare AI Gateway's logs read without a mapping: a saved page of
/// them under `result`, its `tokens_in` / `tokens_out` (the page was
/// unwrapped, then every record was missing its usage).
#[test]
fn cloudflare_gateway_logs_need_no_mapping() {
    let env = Env::new();
    env.write(
        "page.json",
        r#"{"result":[{"id":"01J","created_at":"2025-10-01T10:00:00Z","provider":"openai","model":"gpt-4o","tokens_in":1000,"tokens_out":100,"cost":0.0035,"success":true},{"id":"01K","created_at":"2025-10-01T10:01:00Z","provider":"openai","model":"gpt-4o","tokens_in":2000,"tokens_out":100,"cost":0.006,"success":true}],"result_info":{"page":1,"per_page":2,"count":2,"total_count":3},"success":true,"errors":[],"messages":[]}"#,
    );
    let r = env.audit(&["page.json", "--strict"]);
    // gpt-4o: 1,000 × $2.50/M + 100 × $10/M = $0.0035; 2,000 × 2.5 + 100 ×
    // 10 = $0.006: as logged.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0095");
    assert_eq!(
        r["audit"]["input"]["files"][0]["format"],
        "gateway (API page)"
    );
    assert_eq!(usd(&r["audit"]["reconciliation"][0]["difference"]), "0.00");
}

/// LiteLLM's spend logs carry a call's whole usage in
/// `metadata.usage_object`; a row without `additional_usage_values` (a batch
/// cost row, an older proxy) had its cache reads and writes priced as
/// fresh input ($0.0252 for these two rows, whose logged spend is right).
#[test]
fn litellm_usage_object_gives_the_cache_counts() {
    let env = Env::new();
    env.write(
        "spend.json",
        r#"[{"request_id":"chatcmpl-A1","call_type":"acompletion","spend":0.00408,"total_tokens":2100,"prompt_tokens":2000,"completion_tokens":100,"startTime":"2025-11-20T10:00:00.123000Z","model":"gpt-4o-2024-08-06","model_group":"gpt-4o","custom_llm_provider":"openai","metadata":{"user_api_key_team_id":"team-a","status":"success","usage_object":{"completion_tokens":100,"prompt_tokens":2000,"total_tokens":2100,"completion_tokens_details":{"reasoning_tokens":0},"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":1536}},"cost_breakdown":{"total_cost":0.00408}},"cache_hit":"False","status":"success"},
{"request_id":"chatcmpl-B1","call_type":"acompletion","spend":0.005925,"total_tokens":5600,"prompt_tokens":5400,"completion_tokens":200,"startTime":"2025-11-20T11:00:00.000000Z","model":"claude-sonnet-4-5-20250929","custom_llm_provider":"anthropic","metadata":{"usage_object":{"completion_tokens":200,"prompt_tokens":5400,"total_tokens":5600,"prompt_tokens_details":{"cached_tokens":5000},"cache_creation_input_tokens":300,"cache_read_input_tokens":5000}},"cache_hit":"False","status":"success"}]"#,
    );
    let r = env.audit(&["spend.json", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["cached_read_tokens"], 6536);
    assert_eq!(t["cache_write_tokens"], 300);
    // gpt-4o: 464 × $2.50/M + 1,536 × $1.25/M + 100 × $10/M = $0.00408;
    // Sonnet 4.5: 100 × 3 + 5,000 × 0.30 + 300 × 3.75 + 200 × 15 =
    // $0.005925: both as logged.
    assert_eq!(usd(&t["cost"]), "0.010005");
}

/// LiteLLM's spend logs: a row whose `model` is empty is the model its
/// router's `model_group` names; its `model_id` is a deployment's id (a
/// hex digest), no model: the first row was priced $0 under the hash, the
/// second rejected as `missing_model`.
#[test]
fn litellm_rows_without_a_model_take_the_model_group() {
    let env = Env::new();
    let row = |id: &str| {
        format!(
            r#"{{"request_id":"r{id}","call_type":"acompletion","spend":0.00408,"prompt_tokens":2000,"completion_tokens":100,"startTime":"2025-11-20T10:00:00Z","model":"","model_id":"{id}","model_group":"gpt-4o","custom_llm_provider":"openai","metadata":{{"usage_object":{{"prompt_tokens":2000,"completion_tokens":100,"prompt_tokens_details":{{"cached_tokens":1536}}}}}},"status":"success"}}"#
        )
    };
    env.write(
        "spend.jsonl",
        format!(
            "{}\n{}\n{}\n",
            row("3f1c9b3e2a7d4c1e8b0f6a5d9c2e7b41"),
            row(""),
            row("5e8a2c1e-1111-4f2a-9b3c-0d4e5f6a7b8c")
        ),
    );
    let r = env.audit(&["spend.jsonl", "--strict"]);
    assert_eq!(r["audit"]["totals"]["calls"], 3);
    // 3 × (464 × $2.50/M + 1,536 × $1.25/M + 100 × $10/M) = 3 × $0.00408.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.01224");
    assert_eq!(r["audit"]["unknown_models"], json!([]));
}

/// The Vercel AI SDK's usage logged as it is: AI SDK 6's `inputTokens`
/// with `inputTokenDetails` (cache reads and writes inside the input), AI
/// SDK 5's `cachedInputTokens` (inside the input for OpenAI; beside it for
/// Anthropic, told by more cached tokens than input). The cache counts were
/// unread: $0.0345 for these four calls.
#[test]
fn ai_sdk_usage_gives_its_cache_counts() {
    let env = Env::new();
    env.write(
        "app.jsonl",
        concat!(
            r#"{"timestamp":"2025-11-20T10:00:00Z","provider":"openai","model":"gpt-4o","usage":{"inputTokens":2000,"inputTokenDetails":{"noCacheTokens":464,"cacheReadTokens":1536,"cacheWriteTokens":0},"outputTokens":100,"outputTokenDetails":{"textTokens":100,"reasoningTokens":0},"totalTokens":2100}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:01:00Z","provider":"openai","model":"gpt-4o","usage":{"inputTokens":2000,"outputTokens":100,"totalTokens":2100,"reasoningTokens":0,"cachedInputTokens":1536}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:02:00Z","provider":"anthropic","model":"claude-sonnet-4-5","usage":{"inputTokens":100,"outputTokens":200,"totalTokens":300,"cachedInputTokens":5000}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:03:00Z","provider":"anthropic","model":"claude-sonnet-4-5","usage":{"inputTokens":5400,"inputTokenDetails":{"noCacheTokens":100,"cacheReadTokens":5000,"cacheWriteTokens":300},"outputTokens":200,"outputTokenDetails":{"textTokens":200,"reasoningTokens":0},"totalTokens":5600}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["app.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["input_tokens"], 14_500);
    assert_eq!(t["cached_read_tokens"], 13_072);
    assert_eq!(t["cache_write_tokens"], 300);
    // gpt-4o twice: 464 × $2.50/M + 1,536 × $1.25/M + 100 × $10/M =
    // $0.00408; Sonnet 4.5: 100 × 3 + 5,000 × 0.30 + 200 × 15 = $0.0048,
    // then with 300 written at 3.75: $0.005925.
    assert_eq!(usd(&t["cost"]), "0.018885");
    // The same usage spread into the line (`{ model, ...result.usage }`),
    // and as a CSV's columns: it was an unrecognized format.
    env.write(
        "flat.jsonl",
        concat!(
            r#"{"timestamp":"2025-11-20T10:00:00Z","provider":"openai","model":"gpt-4o","inputTokens":2000,"outputTokens":100,"totalTokens":2100,"reasoningTokens":0,"cachedInputTokens":1536}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:02:00Z","provider":"anthropic","model":"claude-sonnet-4-5","inputTokens":100,"outputTokens":200,"totalTokens":300,"cachedInputTokens":5000}"#,
            "\n",
        ),
    );
    env.write(
        "flat.csv",
        "timestamp,provider,model,inputTokens,outputTokens,totalTokens,cachedInputTokens\n\
         2025-11-20T10:00:00Z,openai,gpt-4o,2000,100,2100,1536\n\
         2025-11-20T10:02:00Z,anthropic,claude-sonnet-4-5,100,200,300,5000\n",
    );
    for file in ["flat.jsonl", "flat.csv"] {
        let r = env.audit(&[file, "--strict"]);
        // $0.00408 + $0.0048, as above.
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00888", "{file}");
    }
}

/// Bedrock Converse's usage spread into the line, beside `modelId`: its
/// input leaves the cache reads and writes out (it was rejected: no usage
/// was read).
#[test]
fn bedrock_converse_usage_at_the_top_of_a_line() {
    let env = Env::new();
    env.write(
        "converse.jsonl",
        concat!(
            r#"{"timestamp":"2025-11-20T10:00:00Z","modelId":"anthropic.claude-3-5-sonnet-20241022-v2:0","inputTokens":100,"outputTokens":200,"totalTokens":5600,"cacheReadInputTokens":5000,"cacheWriteInputTokens":300}"#,
            "\n",
        ),
    );
    let r = env.audit(&["converse.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["input_tokens"], 5_400);
    // 100 × $3/M + 5,000 × 0.30 + 300 × 3.75 + 200 × 15.
    assert_eq!(usd(&t["cost"]), "0.005925");
}

/// The AI SDK's `totalUsage` is the whole call: a multi-step
/// `generateText` logs `usage` (AI SDK 5: the last step's) beside it, and
/// every step's usage under `steps`. Only the last step was priced: 3,000
/// input tokens of 9,000 for these three calls, whatever the key order,
/// and the same from JSON text (the serde path) and a CSV's column.
#[test]
fn ai_sdk_total_usage_is_the_whole_call() {
    let env = Env::new();
    env.write(
        "steps.jsonl",
        concat!(
            r#"{"timestamp":"2025-11-20T10:00:00Z","provider":"openai","model":"gpt-4o-mini","usage":{"inputTokens":1000,"outputTokens":100,"totalTokens":1100},"totalUsage":{"inputTokens":3000,"outputTokens":300,"totalTokens":3300}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:01:00Z","provider":"openai","model":"gpt-4o-mini","totalUsage":{"inputTokens":3000,"outputTokens":300,"totalTokens":3300},"usage":{"inputTokens":1000,"outputTokens":100,"totalTokens":1100},"inputTokens":1000}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:02:00Z","provider":"openai","model":"gpt-4o-mini","steps":[{"usage":{"inputTokens":1000,"outputTokens":100}},{"usage":{"inputTokens":2000,"outputTokens":200}}],"usage":"{\"inputTokens\":2000,\"outputTokens\":200}","totalUsage":{"inputTokens":3000,"outputTokens":300}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["steps.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["calls"], 3);
    assert_eq!(t["input_tokens"], 9_000);
    assert_eq!(t["output_tokens"], 900);
    // 9,000 × $0.15/M + 900 × $0.60/M.
    assert_eq!(usd(&t["cost"]), "0.00189");
    env.write(
        "steps.csv",
        "timestamp,provider,model,usage,totalUsage\n\
         2025-11-20T10:00:00Z,openai,gpt-4o-mini,\"{\"\"inputTokens\"\":1000,\"\"outputTokens\"\":100}\",\"{\"\"inputTokens\"\":3000,\"\"outputTokens\"\":300}\"\n",
    );
    let r = env.audit(&["steps.csv", "--strict"]);
    assert_eq!(r["audit"]["totals"]["input_tokens"], 3_000);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00063");
}

/// hunt57: OpenAI's usage spread into the line (`{...response.usage}`):
/// its detail objects at the top are the usage's. gpt-4o, 10,000 in of
/// which 4,000 cached, 500 out of which 200 reasoning: 6,000 × $2.50 +
/// 4,000 × $1.25 + 500 × $10 per million = $0.025 (it was $0.03, the cache
/// priced as fresh input), from JSON, a CSV's JSON text and Parquet.
#[test]
fn openai_usage_spread_into_the_line_keeps_its_details() {
    use arrow_array::{ArrayRef, StringArray, StructArray, UInt64Array};
    use std::sync::Arc;
    let env = Env::new();
    env.write(
        "spread.jsonl",
        concat!(
            r#"{"timestamp":"2026-10-01T10:00:00Z","model":"gpt-4o","prompt_tokens":10000,"completion_tokens":500,"prompt_tokens_details":{"cached_tokens":4000,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":200,"audio_tokens":0}}"#,
            "\n",
            r#"{"timestamp":"2026-10-01T10:01:00Z","model":"gpt-4o","output_tokens_details":{"reasoning_tokens":200},"input_tokens_details":{"cached_tokens":4000},"input_tokens":10000,"output_tokens":500}"#,
            "\n",
        ),
    );
    let r = env.audit(&["spread.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["cached_read_tokens"], 8_000);
    assert_eq!(t["reasoning_tokens"], 400);
    assert_eq!(usd(&t["cost"]), "0.05");
    env.write(
        "spread.csv",
        "timestamp,model,prompt_tokens,completion_tokens,prompt_tokens_details\n\
         2026-10-01T10:00:00Z,gpt-4o,10000,500,\"{\"\"cached_tokens\"\":4000}\"\n",
    );
    let r = env.audit(&["spread.csv", "--strict"]);
    assert_eq!(r["audit"]["totals"]["cached_read_tokens"], 4_000);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.025");
    let text = |v: &str| -> ArrayRef { Arc::new(StringArray::from(vec![v])) };
    let count = |v: u64| -> ArrayRef { Arc::new(UInt64Array::from(vec![v])) };
    let obj = |fields: Vec<(&str, ArrayRef)>| -> ArrayRef {
        Arc::new(StructArray::try_from(fields).unwrap())
    };
    write_parquet(
        &env.path("spread.parquet"),
        vec![
            ("timestamp", text("2026-10-01T10:00:00Z")),
            ("model", text("gpt-4o")),
            ("prompt_tokens", count(10_000)),
            ("completion_tokens", count(500)),
            (
                "prompt_tokens_details",
                obj(vec![("cached_tokens", count(4000))]),
            ),
            (
                "completion_tokens_details",
                obj(vec![("reasoning_tokens", count(200))]),
            ),
        ],
    );
    let r = env.audit(&["spread.parquet", "--strict"]);
    assert_eq!(r["audit"]["totals"]["reasoning_tokens"], 200);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.025");
    // hunt58: a null or empty detail is no Responses usage. Anthropic's
    // usage spread into the line with `input_tokens_details` null (or an
    // empty CSV cell): 100 fresh + 5,000 read + 50 out on Sonnet 4.5,
    // $0.0003 + $0.0015 + $0.00075 (it was rejected as inconsistent).
    env.write(
        "anthropic.jsonl",
        concat!(
            r#"{"timestamp":"2026-10-01T10:00:00Z","model":"claude-sonnet-4-5-20250929","input_tokens":100,"cache_read_input_tokens":5000,"output_tokens":50,"input_tokens_details":null,"output_tokens_details":"none"}"#,
            "\n",
        ),
    );
    let r = env.audit(&["anthropic.jsonl", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00255");
    env.write(
        "anthropic.csv",
        "timestamp,model,input_tokens,cache_read_input_tokens,output_tokens,input_tokens_details\n\
         2026-10-01T10:00:00Z,claude-sonnet-4-5-20250929,100,5000,50,\n",
    );
    let r = env.audit(&["anthropic.csv", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00255");
}

/// hunt57: DuckDB writes UUID-looking text as Parquet's UUID type (16
/// bytes); such a session or request id was dropped as a binary blob. It
/// is read as its text.
#[test]
fn parquet_uuid_columns_are_read_as_their_text() {
    use arrow_array::{ArrayRef, FixedSizeBinaryArray, StringArray, UInt64Array};
    use std::sync::Arc;
    let env = Env::new();
    let uuid = |b: u8| {
        let mut v = [0u8; 16];
        v[0] = 0x9d;
        v[15] = b;
        v
    };
    let ids: ArrayRef = Arc::new(
        FixedSizeBinaryArray::try_from_iter([uuid(1), uuid(1), uuid(2)].into_iter()).unwrap(),
    );
    write_parquet(
        &env.path("calls.parquet"),
        vec![
            (
                "timestamp",
                Arc::new(StringArray::from(vec![
                    "2026-10-01T10:00:00Z",
                    "2026-10-01T10:01:00Z",
                    "2026-10-01T10:02:00Z",
                ])) as ArrayRef,
            ),
            ("model", Arc::new(StringArray::from(vec!["gpt-4o"; 3]))),
            ("session_id", ids),
            (
                "prompt_tokens",
                Arc::new(UInt64Array::from(vec![1000, 2000, 4000])),
            ),
            (
                "completion_tokens",
                Arc::new(UInt64Array::from(vec![0, 0, 0])),
            ),
        ],
    );
    let r = env.audit(&["calls.parquet", "--strict"]);
    // 1,000 + 2,000 in at $2.50/M in one session, 4,000 in the other.
    let session = |key: &str| usd(&crate::util::row(&r, "session", key)["cost"]);
    assert_eq!(session("9d000000-0000-0000-0000-000000000001"), "0.0075");
    assert_eq!(session("9d000000-0000-0000-0000-000000000002"), "0.01");
}

/// hunt51: AI SDK 4's `promptTokens` leaves the cache out for Anthropic,
/// whose cache reads and writes are in `providerMetadata.anthropic` (read
/// as a prompt including the cache, the call was priced without them);
/// OpenAI's cached tokens (`providerMetadata.openai.cachedPromptTokens`)
/// are inside it. A `reasoning` or `cache_read` that is no number, and a
/// `token_usage` at a line's top, leave the call as it was.
#[test]
fn ai_sdk_4_provider_metadata_and_keys_that_are_no_counts() {
    let env = Env::new();
    env.write(
        "v4.jsonl",
        concat!(
            r#"{"timestamp":"2025-11-20T10:00:00Z","provider":"anthropic.messages","model":"claude-sonnet-4-5","usage":{"promptTokens":100,"completionTokens":200,"totalTokens":300},"providerMetadata":{"anthropic":{"cacheCreationInputTokens":1000,"cacheReadInputTokens":5000}}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:01:00Z","provider":"openai.chat","model":"gpt-4o-mini","usage":{"promptTokens":2000,"completionTokens":100,"totalTokens":2100},"providerMetadata":{"openai":{"cachedPromptTokens":1536,"reasoningTokens":0}}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:02:00Z","model":"gpt-4o-mini","usage":{"prompt_tokens":1000,"completion_tokens":200,"reasoning":"low","cache_read":true}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:03:00Z","model":"gpt-4o-mini","token_usage":{"prompt_tokens":100000,"completion_tokens":1},"usage":{"prompt_tokens":1000,"completion_tokens":200}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["v4.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["calls"], 4);
    assert_eq!(t["cached_read_tokens"], 6_536);
    assert_eq!(t["cache_write_tokens"], 1_000);
    // Sonnet 4.5: 100 × 3 + 5,000 × 0.30 + 1,000 × 3.75 + 200 × 15 =
    // $0.00855; gpt-4o-mini: 464 × 0.15 + 1,536 × 0.075 + 100 × 0.60 =
    // $0.0002448, then twice 1,000 × 0.15 + 200 × 0.60 = $0.00027.
    assert_eq!(usd(&t["cost"]), "0.0093348");
    // hunt52: a Claude model behind the AI SDK's OpenAI provider (a
    // proxy's) is counted OpenAI's way: the cached tokens inside the
    // prompt (1,100 × 3 + 2,000 × 0.30 + 50 × 15 = $0.00465). A
    // LangChain result (`llm_output`) logged as a line is read, and its
    // audio counts are audio (gpt-4o-audio-preview: 1,000 text tokens at
    // $2.50/M, 1,000 audio at $40/M, 100 text out at $10/M: $0.0435).
    env.write(
        "more.jsonl",
        concat!(
            r#"{"timestamp":"2025-11-20T10:04:00Z","provider":"openai.chat","model":"claude-sonnet-4-5","usage":{"promptTokens":3100,"completionTokens":50},"providerMetadata":{"openai":{"cachedPromptTokens":2000}}}"#,
            "
",
            r#"{"timestamp":"2025-11-20T10:05:00Z","token_usage":{"prompt_tokens":1000,"completion_tokens":200},"model_name":"gpt-4o-mini"}"#,
            "
",
            r#"{"timestamp":"2025-11-20T10:06:00Z","model":"gpt-4o-audio-preview","usage_metadata":{"input_tokens":2000,"output_tokens":100,"input_token_details":{"audio":1000},"output_token_details":{"audio":0}}}"#,
            "
",
        ),
    );
    let r = env.audit(&["more.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["calls"], 3);
    // $0.00465 + $0.00027 + $0.0435.
    assert_eq!(usd(&t["cost"]), "0.04842");
}

/// hunt51: the same calls as Parquet struct columns: the AI SDK's
/// `totalUsage` replaces the last step's `usage` (only the last step was
/// priced), and LangChain's `input_token_details.cache_creation` count is
/// read (the row was rejected as a wrong type).
#[test]
fn parquet_total_usage_and_langchain_cache_creation() {
    use arrow_array::{ArrayRef, StringArray, StructArray, UInt64Array};
    use std::sync::Arc;
    let env = Env::new();
    let text = |v: &str| -> ArrayRef { Arc::new(StringArray::from(vec![v])) };
    let count = |v: u64| -> ArrayRef { Arc::new(UInt64Array::from(vec![v])) };
    let obj = |fields: Vec<(&str, ArrayRef)>| -> ArrayRef {
        Arc::new(StructArray::try_from(fields).unwrap())
    };
    write_parquet(
        &env.path("steps.parquet"),
        vec![
            ("timestamp", text("2025-11-20T10:00:00Z")),
            ("model", text("gpt-4o-mini")),
            (
                "usage",
                obj(vec![
                    ("inputTokens", count(1000)),
                    ("outputTokens", count(100)),
                ]),
            ),
            (
                "totalUsage",
                obj(vec![
                    ("inputTokens", count(3000)),
                    ("outputTokens", count(300)),
                ]),
            ),
        ],
    );
    let r = env.audit(&["steps.parquet", "--strict"]);
    // 3,000 × $0.15/M + 300 × $0.60/M.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00063");
    write_parquet(
        &env.path("lc.parquet"),
        vec![
            ("timestamp", text("2025-11-20T10:03:00Z")),
            ("model", text("claude-sonnet-4-5")),
            (
                "usage_metadata",
                obj(vec![
                    ("input_tokens", count(5400)),
                    ("output_tokens", count(200)),
                    (
                        "input_token_details",
                        obj(vec![
                            ("cache_read", count(5000)),
                            ("cache_creation", count(300)),
                        ]),
                    ),
                ]),
            ),
        ],
    );
    let r = env.audit(&["lc.parquet", "--strict"]);
    // As the JSON line: 100 × 3 + 5,000 × 0.30 + 300 × 3.75 + 200 × 15.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.005925");
    // hunt54: an aggregate `token_usage` column beside the row's `usage`
    // does not replace it (1,000 × $0.15/M + 100 × $0.60/M).
    write_parquet(
        &env.path("agg.parquet"),
        vec![
            ("timestamp", text("2025-11-20T10:04:00Z")),
            ("model", text("gpt-4o-mini")),
            (
                "token_usage",
                obj(vec![
                    ("prompt_tokens", count(50_000)),
                    ("completion_tokens", count(500)),
                ]),
            ),
            (
                "usage",
                obj(vec![
                    ("prompt_tokens", count(1000)),
                    ("completion_tokens", count(100)),
                ]),
            ),
        ],
    );
    let r = env.audit(&["agg.parquet", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00021");
}

/// LangChain's and AI SDK 4's usage: AI SDK 4's `promptTokens` /
/// `completionTokens` (also LangChain.js' `llmOutput.tokenUsage`), a
/// LangChain message's `response_metadata.token_usage`, and its
/// `usage_metadata`, whose `input_tokens` counts the cache reads and
/// writes (`input_token_details.cache_read`, `cache_creation`) for every
/// provider. The first three were rejected for want of usage; the last
/// had its cache priced as fresh input ($0.0192 for $0.005925).
#[test]
fn langchain_and_ai_sdk_4_usage() {
    let env = Env::new();
    env.write(
        "lc.jsonl",
        concat!(
            r#"{"timestamp":"2025-11-20T10:00:00Z","provider":"openai","model":"gpt-4o-mini","usage":{"promptTokens":1000,"completionTokens":100,"totalTokens":1100}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:01:00Z","model":"gpt-4o-mini","llmOutput":{"tokenUsage":{"promptTokens":1000,"completionTokens":100,"totalTokens":1100}}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:02:00Z","type":"ai","content":"hi","response_metadata":{"token_usage":{"prompt_tokens":1000,"completion_tokens":100,"total_tokens":1100,"prompt_tokens_details":{"cached_tokens":400}},"model_name":"gpt-4o-mini-2024-07-18","finish_reason":"stop"}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:03:00Z","type":"ai","response_metadata":{"model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":100,"output_tokens":200,"cache_read_input_tokens":5000,"cache_creation_input_tokens":300}},"usage_metadata":{"input_tokens":5400,"output_tokens":200,"total_tokens":5600,"input_token_details":{"cache_read":5000,"cache_creation":300}}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:04:00Z","model":"gpt-4o-mini","usage_metadata":{"input_tokens":1000,"output_tokens":100,"total_tokens":1100,"input_token_details":{"audio":0,"cache_read":0},"output_token_details":{"audio":0,"reasoning":50}}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["lc.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["calls"], 5);
    assert_eq!(t["input_tokens"], 9_400);
    assert_eq!(t["cached_read_tokens"], 5_400);
    assert_eq!(t["cache_write_tokens"], 300);
    assert_eq!(t["reasoning_tokens"], 50);
    // gpt-4o-mini three times at 1,000 + 100: $0.00021 each; with 400
    // cached: 600 × 0.15 + 400 × 0.075 + 100 × 0.60 = $0.00018. Sonnet
    // 4.5: 100 × 3 + 5,000 × 0.30 + 300 × 3.75 + 200 × 15 = $0.005925.
    assert_eq!(usd(&t["cost"]), "0.006735");
    // hunt51: langchain-anthropic writes `cache_creation: 0` beside the
    // writes' TTL split: the split is the writes (the call was rejected
    // as 1-hour writes over the total). 10 × 3 + 5,000 × 0.30 + 400 ×
    // 3.75 + 600 × 6 + 300 × 15 = $0.01113.
    env.write(
        "split.jsonl",
        r#"{"timestamp":"2025-11-20T10:05:00Z","model":"claude-sonnet-4-5","usage_metadata":{"input_tokens":6010,"output_tokens":300,"input_token_details":{"cache_read":5000,"cache_creation":0,"ephemeral_5m_input_tokens":400,"ephemeral_1h_input_tokens":600}}}"#.to_string() + "\n",
    );
    let r = env.audit(&["split.jsonl", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.01113");
}

/// hunt48's cases against the AI SDK's usage: AI SDK 5 passes Gemini's and
/// xAI's reasoning beside the output (told by `totalTokens`, or by more
/// reasoning than output: they were rejected as inconsistent), and
/// Anthropic's and Bedrock's input without the cache (told by the
/// provider); AI SDK 6's cache writes without a read count are inside its
/// input. OpenAI's own `cached_tokens` above the input stays a rejected,
/// inconsistent row.
#[test]
fn ai_sdk_usage_follows_each_provider_convention() {
    let env = Env::new();
    let line = |provider: &str, model: &str, usage: &str| {
        format!(
            r#"{{"timestamp":"2025-11-20T10:00:00Z","provider":"{provider}","model":"{model}","usage":{usage}}}"#
        )
    };
    let cases = [
        // 2,000 × $0.30/M + (100 + 500) × $2.50/M.
        (
            line(
                "google",
                "gemini-2.5-flash",
                r#"{"inputTokens":2000,"outputTokens":100,"totalTokens":2600,"reasoningTokens":500,"cachedInputTokens":0}"#,
            ),
            "0.0021",
        ),
        // Reasoning below the output, beside it by the total: 600 + 300.
        (
            line(
                "google",
                "gemini-2.5-flash",
                r#"{"inputTokens":2000,"outputTokens":600,"totalTokens":2900,"reasoningTokens":300}"#,
            ),
            "0.00285",
        ),
        // AI SDK 5 for Anthropic: 5,000 fresh + 1,000 read: 5,000 × 3 +
        // 1,000 × 0.30 + 200 × 15.
        (
            line(
                "anthropic",
                "claude-sonnet-4-5",
                r#"{"inputTokens":5000,"outputTokens":200,"totalTokens":5200,"cachedInputTokens":1000}"#,
            ),
            "0.0183",
        ),
        // AI SDK 6 writes without reads: 5,000 × 3 + 300 × 3.75 + 200 × 15.
        (
            line(
                "anthropic",
                "claude-sonnet-4-5",
                r#"{"inputTokens":5300,"inputTokenDetails":{"noCacheTokens":5000,"cacheWriteTokens":300},"outputTokens":200}"#,
            ),
            "0.019125",
        ),
    ];
    for (i, (text, cost)) in cases.iter().enumerate() {
        let name = format!("case{i}.jsonl");
        env.write(&name, format!("{text}\n"));
        let r = env.audit(&[&name, "--strict"]);
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), *cost, "{text}");
    }
    env.write(
        "corrupt.jsonl",
        format!(
            "{}\n",
            line(
                "openai",
                "gpt-4o",
                r#"{"input_tokens":2000,"output_tokens":100,"cached_tokens":2500}"#
            )
        ),
    );
    let r = env.audit(&["corrupt.jsonl"]);
    assert_eq!(
        r["audit"]["input"]["rejected_by_reason"]["inconsistent_usage"],
        1
    );
}

/// A blank model with a request's model and LiteLLM's `model_group`: the
/// request's wins, whichever comes first (hunt48); a deployment's id
/// under `response` gives way to `model_group` too.
#[test]
fn the_request_model_comes_before_the_model_group() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        concat!(
            r#"{"timestamp":"2025-11-20T10:00:00Z","model":"","request":{"model":"gpt-4o-mini"},"model_group":"gpt-4o","usage":{"prompt_tokens":2000,"completion_tokens":100}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:00:00Z","model_group":"gpt-4o","request":{"model":"gpt-4o-mini"},"model":"","usage":{"prompt_tokens":2000,"completion_tokens":100}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:00:00Z","model":"","response":{"model_id":"3f1c9b3e2a7d4c1e8b0f6a5d9c2e7b41"},"model_group":"gpt-4o","usage":{"prompt_tokens":2000,"completion_tokens":100}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["calls.jsonl", "--strict"]);
    // gpt-4o-mini twice: 2,000 × $0.15/M + 100 × $0.60/M = $0.00036; gpt-4o:
    // 2,000 × 2.50 + 100 × 10 = $0.006.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00672");
}

/// Cloudflare AI Gateway's `success: false` is a failed call when no
/// `status` says otherwise, in JSON and in its CSV export (`FALSE`), with or
/// without an HTTP code; a caller's `metadata.success` is a note, and
/// `success: true` leaves the outcome to the HTTP code. Before, every such
/// call without an error code was counted a success.
#[test]
fn cloudflare_success_false_is_a_failed_call() {
    let env = Env::new();
    env.write(
        "cf.jsonl",
        concat!(
            r#"{"id":"01A","created_at":"2025-06-01T10:00:00Z","model":"gpt-4o-mini","provider":"openai","success":false,"tokens_in":1000,"tokens_out":0}"#,
            "\n",
            r#"{"id":"01B","created_at":"2025-06-01T10:01:00Z","model":"gpt-4o-mini","provider":"openai","success":true,"status_code":500,"tokens_in":1000,"tokens_out":0}"#,
            "\n",
            r#"{"id":"01C","created_at":"2025-06-01T10:02:00Z","model":"gpt-4o-mini","provider":"openai","success":true,"status_code":200,"tokens_in":1000,"tokens_out":100,"metadata":{"success":false}}"#,
            "\n",
            r#"{"id":"01D","created_at":"2025-06-01T10:03:00Z","model":"gpt-4o-mini","provider":"openai","status":"ok","success":false,"tokens_in":1000,"tokens_out":100}"#,
            "\n",
            // A status word under the HTTP code says it too, either side
            // (hunt46: the first of the two won).
            r#"{"id":"01G","created_at":"2025-06-01T10:06:00Z","model":"gpt-4o-mini","provider":"openai","success":false,"status_code":"OK","tokens_in":1000,"tokens_out":100}"#,
            "\n",
            r#"{"id":"01H","created_at":"2025-06-01T10:07:00Z","model":"gpt-4o-mini","provider":"openai","status_code":"OK","success":false,"tokens_in":1000,"tokens_out":100}"#,
            "\n",
        ),
    );
    env.write(
        "cf.csv",
        "id,created_at,model,provider,success,status_code,tokens_in,tokens_out\n\
         01E,2025-06-01T10:04:00Z,gpt-4o-mini,openai,FALSE,,1000,0\n\
         01F,2025-06-01T10:05:00Z,gpt-4o-mini,openai,TRUE,200,1000,100\n",
    );
    for (file, ok, failed) in [("cf.jsonl", 4, 2), ("cf.csv", 1, 1)] {
        let r = env.audit(&[file, "--strict"]);
        let t = &r["audit"]["totals"];
        assert_eq!(
            (t["ok_calls"].as_u64(), t["failed_calls"].as_u64()),
            (Some(ok), Some(failed)),
            "{file}"
        );
    }
    // The failed calls' input is still billed: gpt-4o-mini at $0.15/M,
    // 1,000 tokens each = $0.00015.
    let r = env.audit(&["cf.csv", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["failed_cost"]), "0.00015");
}

/// A failed call with no token on a model the catalog lacks costs $0, but
/// no catalog priced it: the rules that need prices still could not run,
/// and it is no "most expensive call" (both said otherwise).
#[test]
fn a_no_token_call_is_no_priced_call_for_the_rules() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        concat!(
            r#"{"timestamp":"2025-10-01T10:00:03Z","model":"acme-llm-7","status":"error","usage":{"prompt_tokens":0,"completion_tokens":0}}"#,
            "\n",
            r#"{"timestamp":"2025-10-01T10:00:04Z","model":"acme-llm-7","usage":{"prompt_tokens":100,"completion_tokens":10}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["calls.jsonl"]);
    assert_eq!(r["audit"]["totals"]["unpriced_calls"], 1);
    assert_eq!(
        crate::util::rule_coverage(&r, "TA101")["status"],
        "could_not_run"
    );
    assert_eq!(r["audit"]["most_expensive_calls"], json!([]));
}

/// A mapped count and the usage object's parts: the parts join a mapped
/// input that is the heuristics' own in the mapping's convention, or in the
/// other one (Anthropic's `input_tokens` mapped with the default
/// `input_includes_cache`: read as what the log's keys say), or when the
/// heuristics found no input of their own (a CSV's cache columns beside a
/// mapped prompt column). Each was priced without its cache counts, or
/// rejected, at some point today.
#[test]
fn cache_counts_join_the_mapped_input_they_belong_to() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        r#"{"model":"claude-sonnet-4-5","usage":{"input_tokens":100,"cache_read_input_tokens":10000,"cache_creation_input_tokens":2000,"output_tokens":50}}"#,
    );
    let mapping = "[mapping]\ninput_tokens = \"usage.input_tokens\"\noutput_tokens = \"usage.output_tokens\"\n";
    env.write("inclusive.toml", mapping);
    env.write(
        "exclusive.toml",
        format!("{mapping}input_includes_cache = false\n"),
    );
    // 100 × 3 + 10,000 × 0.30 + 2,000 × 3.75 + 50 × 15 = $0.01155, in
    // either convention.
    for config in ["inclusive.toml", "exclusive.toml"] {
        let r = env.audit(&["calls.jsonl", "--config", config, "--strict"]);
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.01155", "{config}");
    }
    env.write(
        "calls.csv",
        "timestamp,model,tokens_prompt,cache_read_input_tokens,cache_creation_input_tokens,tokens_completion\n\
         2026-10-01T00:00:00Z,claude-sonnet-4-5,1000,10000,2000,50\n",
    );
    env.write(
        "csv.toml",
        "[mapping]\ninput_tokens = \"tokens_prompt\"\noutput_tokens = \"tokens_completion\"\ninput_includes_cache = false\n",
    );
    // 1,000 × 3 + 10,000 × 0.30 + 2,000 × 3.75 + 50 × 15 = $0.01425.
    let r = env.audit(&["calls.csv", "--config", "csv.toml", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.01425");
}

/// A zstd file that begins with a skippable frame (as `pzstd` writes its
/// files) is zstd: its 3 calls were one `malformed_json` line of binary.
#[test]
fn a_zstd_file_starting_with_a_skippable_frame_is_read() {
    let env = Env::new();
    let mut bytes = vec![0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 0xa0, 0, 0, 0];
    bytes.extend(zstd::encode_all(good(3).as_bytes(), 3).unwrap());
    env.write("calls.jsonl.zst", bytes);
    let out = run(&env, &["calls.jsonl.zst"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = env.report();
    assert_eq!(r["audit"]["input"]["files"][0]["encoding"], "zstd");
    assert_eq!(r["audit"]["totals"]["calls"], 3);
    assert_eq!(r["audit"]["totals"]["cost"], good_cost(3));
    assert_eq!(r["audit"]["input"]["rejected"], 0);
}

/// A folder of logs that is a symbolic link (`september ->
/// ../archive/2026-09`) is walked; a link back up (`up -> ..`) is not
/// walked, nor what is beside the folder there. Its 2 calls were left out
/// without a word.
#[cfg(unix)]
#[test]
fn a_linked_folder_is_walked_once() {
    let env = Env::new();
    env.write("archive/2026-09/sept.jsonl", good(2));
    env.write("archive/other/not-asked.jsonl", good(5));
    env.write("logs/today.jsonl", good(1));
    std::os::unix::fs::symlink("../archive/2026-09", env.path("logs/september")).unwrap();
    std::os::unix::fs::symlink("..", env.path("archive/2026-09/up")).unwrap();
    let out = run(&env, &["logs"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = env.report();
    assert_eq!(r["audit"]["totals"]["calls"], 3);
    assert_eq!(r["audit"]["totals"]["cost"], good_cost(3));
    let files: Vec<&str> = r["audit"]["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["logs/september/sept.jsonl", "logs/today.jsonl"]);
    // The link up (to `archive`, which holds the folder) is not entered:
    // its other folders were read (8 calls).
    assert!(
        stderr(&out)
            .contains("logs/september/up not read (a link to a folder above it: not entered)"),
        "{}",
        stderr(&out)
    );
}

/// Two hourly exports that each begin with a byte-order mark, gzipped and
/// concatenated (`cat a.gz b.gz`): the second member's first line is a
/// call (it was `malformed_json` "at column 1").
#[test]
fn a_byte_order_mark_starting_a_later_member_is_dropped() {
    use std::io::Write;
    let env = Env::new();
    let member = |n| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(format!("\u{feff}{}", good(n)).as_bytes())
            .unwrap();
        enc.finish().unwrap()
    };
    let mut bytes = member(2);
    bytes.extend(member(2));
    env.write("day.jsonl.gz", bytes);
    let out = run(&env, &["day.jsonl.gz"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = env.report();
    assert_eq!(r["audit"]["totals"]["calls"], 4);
    assert_eq!(r["audit"]["totals"]["cost"], good_cost(4));
    assert_eq!(r["audit"]["input"]["rejected"], 0);
}

/// Pretty-printed documents, one cut short by its writer, then 50 whole
/// ones: the cut one is one rejected line and the 50 are read (they were
/// part of the cut one: 1 call and 1 reject in all). The same in an array.
#[test]
fn a_cut_document_does_not_swallow_the_next_ones() {
    let env = Env::new();
    let doc = serde_json::to_string_pretty(&serde_json::from_str::<Value>(GOOD).unwrap()).unwrap();
    let cut = &doc[..60];
    let docs = format!("{doc}\n{cut}\n{}", format!("{doc}\n").repeat(50));
    env.write("calls.json", &docs);
    let array = format!(
        "[\n{doc},\n{cut}\n{}]\n",
        vec![doc.as_str(); 50].join(",\n")
    );
    env.write("array.json", &array);
    // The cut one is cited at the line it starts on: after the first
    // document's lines (and the array's `[`).
    let k = doc.lines().count() as u64;
    for (name, line) in [("calls.json", k + 1), ("array.json", k + 2)] {
        let out = run(&env, &[name]);
        assert!(out.status.success(), "{}", stderr(&out));
        let r = env.report();
        assert_eq!(r["audit"]["totals"]["calls"], 51, "{name}");
        assert_eq!(r["audit"]["totals"]["cost"], good_cost(51), "{name}");
        assert_eq!(samples(&r), [at(name, line, "malformed_json")], "{name}");
    }
}

/// A link inside a linked folder that leads back to a folder holding the
/// walked one (`site/logs/shared -> srv/shared`, `srv/shared/home ->
/// site`) is not entered: it read the site's other folders (another
/// team's 5 calls).
#[cfg(unix)]
#[test]
fn a_link_inside_a_link_does_not_leave_the_input() {
    let env = Env::new();
    env.write("site/logs/mine.jsonl", good(1));
    env.write("site/other/theirs.jsonl", good(5));
    env.write("srv/shared/s.jsonl", good(1));
    std::os::unix::fs::symlink(env.path("srv/shared"), env.path("site/logs/shared")).unwrap();
    std::os::unix::fs::symlink(env.path("site"), env.path("srv/shared/home")).unwrap();
    let out = run(&env, &["site/logs"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = env.report();
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(r["audit"]["totals"]["cost"], good_cost(2));
}

/// `--out` a folder inside the input that holds logs (`exports/2026-10`
/// among the exports) is refused: its logs would be left out ($1.40 of
/// $1.75), said only in a note. A report folder of reports alone is fine.
#[test]
fn an_out_folder_holding_logs_inside_the_input_is_refused() {
    let env = Env::new();
    env.write("exports/2026-09/calls.jsonl", good(1));
    env.write("exports/2026-10/calls.jsonl", good(4));
    let out = env
        .cmd()
        .args(["audit", "exports", "--out", "exports/2026-10", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--out exports/2026-10 holds 1 log file (exports/2026-10/calls.jsonl) that the audit of its input folder would leave out"),
        "{}",
        stderr(&out)
    );
    // Twice into a folder of its own reports: read as no logs, written.
    for _ in 0..2 {
        let out = env
            .cmd()
            .args(["audit", "exports", "--out", "exports/reports", "--quiet"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(env.path("exports/reports/audit.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["audit"]["totals"]["calls"], 5);
}

/// `audit ~/.claude` (a level above `projects/`): its sessions are read,
/// its history and settings named as left out, not rejected (they were two
/// rejects that advised a mapping, and failed `--strict`).
#[test]
fn an_agents_home_folder_reads_its_sessions_only() {
    let env = Env::new();
    let session = r#"{"parentUuid":null,"isSidechain":false,"userType":"external","cwd":"/home/me/proj","sessionId":"3f2a1b2c","version":"2.0.14","type":"assistant","timestamp":"2026-10-05T09:00:05.000Z","requestId":"req_1","uuid":"a1","message":{"id":"msg_a1","type":"message","model":"claude-sonnet-4-5-20250929","role":"assistant","content":[{"type":"text","text":"hi"}],"stop_reason":null,"usage":{"input_tokens":10,"output_tokens":300,"cache_creation_input_tokens":5000,"cache_read_input_tokens":12000,"service_tier":"standard"}}}"#;
    env.write(
        ".claude/projects/-home-me-proj/3f2a1b2c.jsonl",
        format!("{session}\n"),
    );
    env.write(
        ".claude/history.jsonl",
        "{\"display\":\"hello\",\"timestamp\":1790000000000,\"project\":\"/home/me/proj\"}\n",
    );
    env.write(".claude/settings.json", "{\"model\":\"opus\"}\n");
    let out = run(&env, &[".claude", "--strict"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = env.report();
    assert_eq!(r["audit"]["input"]["rejected"], 0);
    // 10 × $3 + 5,000 written × $3.75 + 12,000 read × $0.30 + 300 × $15
    // per million: 0.00003 + 0.01875 + 0.0036 + 0.0045.
    assert_eq!(r["audit"]["totals"]["cost"], "0.02688");
    assert!(
        stderr(&out).contains(".claude/history.jsonl not read (an agent's own file, not a session"),
        "{}",
        stderr(&out)
    );
}

/// Calls of the same cost are listed among the most expensive by request
/// id, whatever order the lines come in or what the files are named (by
/// where they were read, a nightly export's order or name changed the list).
#[test]
fn most_expensive_ties_are_listed_by_request_id() {
    let env = Env::new();
    let line = |id: &str| {
        crate::util::gw_line(
            "2026-10-01T08:00:00Z",
            "chat",
            "gpt-4o",
            1000,
            100,
            serde_json::json!({"request_id": id}),
        ) + "\n"
    };
    let ids = ["r3", "r1", "r2"];
    env.write("b.jsonl", ids.iter().map(|i| line(i)).collect::<String>());
    let others = ["q2", "q1", "q3"];
    env.write(
        "a.jsonl",
        others.iter().map(|i| line(i)).collect::<String>(),
    );
    let listed = |args: &[&str]| -> Vec<String> {
        env.audit(args)["audit"]["most_expensive_calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["request_id"].as_str().unwrap().to_string())
            .collect()
    };
    let want = ["q1", "q2", "q3", "r1", "r2", "r3"];
    assert_eq!(listed(&["a.jsonl", "b.jsonl"]), want);
    assert_eq!(listed(&["b.jsonl", "a.jsonl", "--threads", "1"]), want);
}

/// A spreadsheet's CSV export: UTF-16 with its mark though named `.csv`
/// (Excel's "Unicode Text"), rows of separators only where rows were
/// cleared. The text is read as UTF-8 (it was every row rejected); the
/// cleared rows are blank lines (they were rejected as missing a model),
/// and the lines keep their numbers.
#[test]
fn a_utf16_csv_with_cleared_rows_is_read() {
    let env = Env::new();
    let text = "timestamp,model,feature,prompt_tokens,completion_tokens\r\n\
                2026-10-01T10:00:00Z,gpt-4o,a,1000,100\r\n\
                ,,,,\r\n\
                2026-10-01T11:00:00Z,gpt-4o,b,2000,200\r\n\
                2026-10-01T12:00:00Z,,b,5,5\r\n\
                , , ,,\r\n";
    let mut bytes = vec![0xff, 0xfe];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    std::fs::write(env.path("export.csv"), bytes).unwrap();
    let out = run(&env, &["export.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = env.report();
    // gpt-4o: (1,000 + 2,000) × $2.50/M + (100 + 200) × $10/M = $0.0105.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0105");
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(samples(&r), [at("export.csv", 5, "missing_model")]);
    assert_eq!(files(&r)[0].2, "gateway (CSV) (UTF-16)");
}

/// An input folder with no log in it (tonight's logs not there yet, a
/// folder of notes): an error, as a glob that matches nothing is, and the
/// last report is kept (hunt154: a $0 report replaced it, exit 0).
#[test]
fn an_empty_input_folder_is_an_error_and_keeps_the_last_report() {
    let env = Env::new();
    env.write(
        "logs/a.jsonl",
        r#"{"model":"gpt-4o-mini","usage":{"prompt_tokens":1000,"completion_tokens":500}}"#,
    );
    std::fs::create_dir_all(env.path("empty")).unwrap();
    env.write("notes/usage-notes.txt", "hello\n");
    let out = run(&env, &["logs"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for (input, strict) in [("empty", false), ("empty", true), ("notes", false)] {
        let mut args = vec![input];
        if strict {
            args.push("--strict");
        }
        let out = run(&env, &args);
        assert_eq!(out.status.code(), Some(2), "{input}");
        assert!(
            stderr(&out).contains("no log file was found in the inputs, so nothing was written"),
            "{}",
            stderr(&out)
        );
        // The last report stands: 1,000 × 0.15 + 500 × 0.6 per million.
        assert_eq!(usd(&env.report()["audit"]["totals"]["cost"]), "0.00045");
    }
}

/// hunt53: Gemini's OpenAI-style usage (its OpenAI-compatible API, and the
/// converters of its usage) leaves the thoughts out of `completion_tokens`
/// and counts them in `total_tokens` only; so do OpenInference's
/// google-genai spans (`llm.token_count.total`). The thoughts were
/// dropped. Another model's total beyond prompt + completion is left as
/// it was. And a Langfuse observation built from OpenAI's usage of an
/// audio model lists `input_text_tokens`, which hold the cached tokens:
/// they were counted twice.
#[test]
fn gemini_thoughts_in_the_total_and_langfuse_modalities() {
    let env = Env::new();
    env.write(
        "compat.jsonl",
        concat!(
            r#"{"timestamp":"2025-11-20T10:00:00Z","model":"gemini-2.5-flash","usage":{"prompt_tokens":20,"completion_tokens":198,"total_tokens":623}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:01:00Z","model":"gpt-4o-mini","usage":{"prompt_tokens":20,"completion_tokens":198,"total_tokens":623}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["compat.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["reasoning_tokens"], 405);
    // Gemini 2.5 Flash: 20 × $0.30/M + (198 + 405) × $2.50/M =
    // $0.0015135; gpt-4o-mini as logged: 20 × 0.15 + 198 × 0.60 =
    // $0.0001218.
    assert_eq!(usd(&t["cost"]), "0.0016353");
    let attrs = serde_json::json!([
        {"key": "openinference.span.kind", "value": {"stringValue": "LLM"}},
        {"key": "llm.model_name", "value": {"stringValue": "gemini-2.5-flash"}},
        {"key": "llm.token_count.total", "value": {"intValue": "3300"}},
        {"key": "llm.token_count.prompt", "value": {"intValue": "2000"}},
        {"key": "llm.token_count.completion", "value": {"intValue": "800"}},
    ]);
    let span = serde_json::json!({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "openinference.instrumentation.google_genai"}, "spans": [{
        "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "0000000000000011",
        "name": "GenerateContent", "kind": 3,
        "startTimeUnixNano": "1761991200000000000", "endTimeUnixNano": "1761991202000000000",
        "attributes": attrs, "status": {"code": 1}}]}]}]});
    env.write("spans.jsonl", span.to_string() + "\n");
    let r = env.audit(&["spans.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["reasoning_tokens"], 500);
    // 2,000 × $0.30/M + 1,300 × $2.50/M.
    assert_eq!(usd(&t["cost"]), "0.00385");
    // OpenLLMetry's Gemini spans: the thoughts in `gen_ai.usage.total_tokens`
    // only (hunt131: $0.0008 for $0.0053); an OpenAI span's total beyond
    // input + output is left as it was. 1,000 × 0.3 + (200 + 1,800) × 2.5
    // = $0.0053; gpt-4o-mini 1,000 × 0.15 + 200 × 0.6 = $0.00027.
    let span = |model: &str| {
        let attrs = serde_json::json!([
            {"key": "gen_ai.system", "value": {"stringValue": "gemini"}},
            {"key": "gen_ai.request.model", "value": {"stringValue": model}},
            {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1000"}},
            {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "200"}},
            {"key": "gen_ai.usage.total_tokens", "value": {"intValue": "3000"}},
        ]);
        serde_json::json!({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.google_generativeai"}, "spans": [{
            "traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "0000000000000012",
            "name": "gemini.generate_content", "kind": 3,
            "startTimeUnixNano": "1761991200000000000", "endTimeUnixNano": "1761991202000000000",
            "attributes": attrs, "status": {"code": 1}}]}]}]})
        .to_string()
            + "\n"
    };
    env.write(
        "ollm.jsonl",
        span("gemini-2.5-flash") + &span("gpt-4o-mini"),
    );
    let r = env.audit(&["ollm.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["calls"], 2);
    assert_eq!(t["reasoning_tokens"], 1800);
    assert_eq!(usd(&t["cost"]), "0.00557");
    // Thoughts as many as the cache reads: still thoughts, Gemini's prompt
    // holding its reads (hunt136: read as a total that adds the cache).
    // 600 × 0.3 + 400 × 0.03 + (200 + 400) × 2.5 = $0.001692.
    let cached = span("gemini-2.5-flash")
        .replace(r#""intValue":"3000""#, r#""intValue":"1600""#)
        .replace(
            r#"{"key":"gen_ai.usage.total_tokens""#,
            r#"{"key":"gen_ai.usage.cache_read_input_tokens","value":{"intValue":"400"}},{"key":"gen_ai.usage.total_tokens""#,
        );
    assert!(
        cached.contains("cache_read_input_tokens") && cached.contains("1600"),
        "{cached}"
    );
    env.write("cached.jsonl", cached);
    let r = env.audit(&["cached.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(
        (&t["cached_read_tokens"], &t["reasoning_tokens"]),
        (&400.into(), &400.into())
    );
    assert_eq!(usd(&t["cost"]), "0.001692");
    env.write(
        "lf.jsonl",
        r#"{"id":"g1","type":"GENERATION","startTime":"2025-11-20T10:00:00.000Z","model":"gpt-4o-mini","usageDetails":{"input":0,"input_cached_tokens":8000,"input_audio_tokens":0,"input_text_tokens":10000,"input_image_tokens":0,"output":0,"output_text_tokens":100,"total":10100}}"#
            .to_string()
            + "\n",
    );
    let r = env.audit(&["lf.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["input_tokens"], 10_000);
    assert_eq!(t["cached_read_tokens"], 8_000);
    // 2,000 × $0.15/M + 8,000 × $0.075/M + 100 × $0.60/M.
    assert_eq!(usd(&t["cost"]), "0.00096");
}

/// hunt153, hunt155, reviews of the rule above: LiteLLM's usage before its
/// fix of May 2025 left the thoughts out of `completion_tokens` (in the
/// total only): priced as input (-77%), but on a model that does not think
/// (Gemini 2.0) the rest is a tool's prompt; a proxy's thoughts inside
/// `completion_tokens` (LiteLLM's convention, logged by a client without
/// `model_group`) with a tool's prompt in the total were counted twice.
#[test]
fn gemini_thoughts_in_older_litellm_usage_and_beside_a_tool_prompt() {
    let env = Env::new();
    let row = |model: &str, prompt: u64, completion: u64, total: u64| {
        serde_json::json!({"request_id": "chatcmpl-a", "call_type": "acompletion",
            "startTime": "2025-05-07T10:00:00.123000", "model": model,
            "model_group": model, "custom_llm_provider": "gemini",
            "metadata": {"status": "success", "usage_object": {
                "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total,
                "prompt_tokens_details": null, "completion_tokens_details": null}}})
        .to_string()
            + "\n"
    };
    env.write("spend.jsonl", row("gemini-2.5-pro", 264, 104, 1357));
    let r = env.audit(&["spend.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    // 264 × $1.25/M + (104 + 989) × $10/M = $0.01126.
    assert_eq!(t["reasoning_tokens"], 989);
    assert_eq!(usd(&t["cost"]), "0.01126");
    // Gemini 2.0 Flash thinks not: 3,200 × $0.10/M + 400 × $0.40/M.
    env.write("spend2.jsonl", row("gemini-2.0-flash", 200, 400, 3600));
    let r = env.audit(&["spend2.jsonl", "--strict"]);
    assert_eq!(r["audit"]["totals"]["reasoning_tokens"], 0);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00048");
    let line = serde_json::json!({"timestamp": "2026-11-02T10:00:00Z", "feature": "research",
        "response": {"id": "proxy-1", "object": "chat.completion", "model": "gemini-2.5-flash",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "."}}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 800, "total_tokens": 31800,
                "completion_tokens_details": {"reasoning_tokens": 300}}}});
    env.write("proxy.jsonl", line.to_string() + "\n");
    let r = env.audit(&["proxy.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    // 31,000 × $0.30/M (the prompt and the tool's) + 800 × $2.50/M.
    assert_eq!(t["input_tokens"], 31_000);
    assert_eq!(t["output_tokens"], 800);
    assert_eq!(usd(&t["cost"]), "0.0113");
    // The counts at the line's top level (LiteLLM's spend-log columns,
    // without a usage object): the total read there too. 200 × 0.3 +
    // (400 + 600) × 2.5 = $0.00256; another model's total less its output
    // is its input: 1,000 × $2.50/M + 100 × $10/M.
    env.write(
        "top.jsonl",
        concat!(
            r#"{"timestamp":"2026-11-02T10:00:00Z","model":"gemini-2.5-flash","prompt_tokens":200,"completion_tokens":400,"total_tokens":1200}"#,
            "\n",
            r#"{"timestamp":"2026-11-02T10:00:00Z","model":"gpt-4o","completion_tokens":100,"total_tokens":1100}"#,
            "\n",
        ),
    );
    let r = env.audit(&["top.jsonl", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00606");
}

/// hunt147's bugs 3 and 6: LiteLLM's usage of a Gemini call that used a
/// built-in tool (URL context) counts the tool's prompt in `total_tokens`
/// alone (LiteLLM's `_calculate_usage`: `prompt_tokens` is Gemini's
/// `promptTokenCount`, the thoughts are in `completion_tokens`): it is
/// input, not lost (with thoughts logged) nor thoughts (without). And
/// LangChain's `usage_metadata` of ChatVertexAI keeps the thoughts out of
/// `output_tokens` (its total holds them): they were dropped when fewer than
/// the answer.
#[test]
fn a_gemini_tools_prompt_in_the_total_and_langchains_vertex_thoughts() {
    let env = Env::new();
    let row = |id: &str, completion: u64, total: u64, reasoning: Option<u64>| {
        let mut details = serde_json::json!({"text_tokens": completion - reasoning.unwrap_or(0)});
        if let Some(r) = reasoning {
            details["reasoning_tokens"] = r.into();
        }
        serde_json::json!({
            "request_id": id, "call_type": "acompletion", "spend": 0.0,
            "startTime": "2026-11-02T10:00:00.123000", "model": "gemini-2.5-flash",
            "model_group": "gemini-2.5-flash", "custom_llm_provider": "gemini",
            "prompt_tokens": 200, "completion_tokens": completion, "total_tokens": total,
            "metadata": {"status": "success", "usage_object": {
                "prompt_tokens": 200, "completion_tokens": completion, "total_tokens": total,
                "completion_tokens_details": details}},
            "status": "success"})
        .to_string()
            + "\n"
    };
    // 30,000 tokens of URL context beside a 200-token prompt; 1,000 tokens
    // out of which 600 thoughts, or 400 without thoughts; a control call
    // without a tool.
    env.write(
        "spend.jsonl",
        row("a", 1000, 31_200, Some(600))
            + &row("b", 400, 30_600, None)
            + &row("c", 1000, 1200, Some(600)),
    );
    let r = env.audit(&["spend.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["calls"], 3);
    assert_eq!(t["input_tokens"], 30_200 + 30_200 + 200);
    assert_eq!(t["output_tokens"], 1000 + 400 + 1000);
    // Gemini 2.5 Flash $0.30/M in, $2.50/M out: 30,200 × 0.3 + 1,000 × 2.5
    // = $0.01156; 30,200 × 0.3 + 400 × 2.5 = $0.01006; 200 × 0.3 + 1,000 ×
    // 2.5 = $0.00256.
    assert_eq!(usd(&t["cost"]), "0.02418");
    // LangChain: 10,000 in (4,000 read from the cache), 1,500 answer and
    // 1,000 thoughts, total 12,500: 6,000 × 0.3 + 4,000 × 0.03 + 2,500 ×
    // 2.5 = $0.00817 (ChatVertexAI's, thoughts beside); the same call as
    // ChatGoogleGenerativeAI logs it (thoughts inside `output_tokens`).
    let lc = |output: u64| {
        serde_json::json!({"timestamp": "2026-11-02T10:00:00Z", "model": "gemini-2.5-flash",
            "usage_metadata": {"input_tokens": 10000, "output_tokens": output, "total_tokens": 12500,
                "input_token_details": {"cache_read": 4000},
                "output_token_details": {"reasoning": 1000}}})
        .to_string()
            + "\n"
    };
    env.write("lc.jsonl", lc(1500) + &lc(2500));
    let r = env.audit(&["lc.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["output_tokens"], 5000);
    assert_eq!(t["reasoning_tokens"], 2000);
    assert_eq!(usd(&t["cost"]), "0.01634");
    // OpenAI's Responses usage totals input and output (reasoning inside):
    // unchanged. o3-mini: 1,000 × 1.1 + 500 × 4.4 = $0.0033.
    env.write(
        "resp.jsonl",
        r#"{"timestamp":"2026-11-02T10:00:00Z","model":"o3-mini","usage":{"input_tokens":1000,"output_tokens":500,"total_tokens":1500,"input_tokens_details":{"cached_tokens":0},"output_tokens_details":{"reasoning_tokens":400}}}"#.to_string() + "\n",
    );
    let r = env.audit(&["resp.jsonl", "--strict"]);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0033");
}

/// hunt49: camelCase loggers write the HTTP status as `statusCode` or
/// `httpStatus`; the calls they mark failed were counted as successes.
/// hunt52: only at a line's top, and only an HTTP code (100 to 599): a
/// `statusCode` of 0 or 1 is gRPC's or OTel's OK, and a response's 200
/// does not override the line's error.
#[test]
fn camel_case_http_status_keys_mark_failed_calls() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        concat!(
            r#"{"timestamp":"2025-11-20T10:00:00Z","model":"gpt-4o-mini","statusCode":500,"usage":{"prompt_tokens":1000,"completion_tokens":0}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:01:00Z","model":"gpt-4o-mini","httpStatus":"429","usage":{"prompt_tokens":1000,"completion_tokens":0}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:02:00Z","model":"gpt-4o-mini","statusCode":200,"usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:03:00Z","model":"gpt-4o-mini","statusCode":1,"usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:04:00Z","model":"gpt-4o-mini","statusCode":0,"usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:05:00Z","model":"gpt-4o-mini","error":{"type":"server_error"},"response":{"statusCode":200},"usage":{"prompt_tokens":1000,"completion_tokens":0}}"#,
            "\n",
            // hunt55: an app's own 200 says nothing of its LLM call's
            // error, and another key's status wins whatever the order.
            r#"{"timestamp":"2025-11-20T10:06:00Z","model":"gpt-4o-mini","statusCode":200,"error":{"type":"rate_limit_error"},"usage":{"prompt_tokens":1000,"completion_tokens":0}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:07:00Z","model":"gpt-4o-mini","statusCode":200,"http_status":500,"usage":{"prompt_tokens":1000,"completion_tokens":0}}"#,
            "\n",
            r#"{"timestamp":"2025-11-20T10:08:00Z","model":"gpt-4o-mini","statusCode":503,"http_status":200,"usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
            "\n",
        ),
    );
    let r = env.audit(&["calls.jsonl", "--strict"]);
    let t = &r["audit"]["totals"];
    assert_eq!(t["calls"], 9);
    assert_eq!(t["failed_calls"], 5);
    assert_eq!(t["ok_calls"], 4);
    // Five failed calls of 1,000 input tokens at $0.15/M.
    assert_eq!(usd(&t["failed_cost"]), "0.00075");
    // The same as a CSV's columns.
    env.write(
        "calls.csv",
        "timestamp,model,statusCode,http_status,prompt_tokens,completion_tokens\n\
         2025-11-20T10:00:00Z,gpt-4o-mini,500,,1000,0\n\
         2025-11-20T10:01:00Z,gpt-4o-mini,200,500,1000,0\n\
         2025-11-20T10:02:00Z,gpt-4o-mini,1,,1000,100\n",
    );
    let r = env.audit(&["calls.csv", "--strict"]);
    assert_eq!(r["audit"]["totals"]["failed_calls"], 2);
}

/// A JSON object's keys written in reverse order of their names, all the
/// way down: another producer's key order for the same values.
fn keys_reversed(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let members: Vec<String> = m
                .iter()
                .rev()
                .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), keys_reversed(v)))
                .collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(keys_reversed).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// hunt57: the gateway reader kept the first of two keys for one field in
/// line order, so the shipped LiteLLM export gave its team table as
/// `team-support` (`team_id`) and, with each row's keys sorted (`jq -S`,
/// a warehouse's JSON, Parquet's column order), as `support`
/// (`metadata.user_api_key_team_alias`). A field's keys now rank
/// (`gateway::aliases`): the same rows in three key orders give the same
/// audit, every table and finding.
#[test]
fn json_key_order_decides_no_field() {
    let env = Env::new();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-logs/litellm/spend-logs-2026-10.jsonl.zst");
    let text = String::from_utf8(zstd::decode_all(std::fs::File::open(shipped).unwrap()).unwrap())
        .unwrap();
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut audits = Vec::new();
    for order in ["as shipped", "sorted", "reversed"] {
        let lines: String = match order {
            "as shipped" => text.clone(),
            // serde_json's objects are sorted by key.
            "sorted" => rows.iter().map(|r| format!("{r}\n")).collect(),
            _ => rows.iter().map(|r| keys_reversed(r) + "\n").collect(),
        };
        env.write("spend-logs.jsonl", lines);
        let r = env.audit(&["spend-logs.jsonl"]);
        audits.push((order, r["audit"].clone()));
    }
    let teams = |a: &Value| -> Vec<String> {
        let by = a["by"].as_array().unwrap();
        let team = by.iter().find(|t| t["dimension"] == "team").unwrap();
        team["rows"].as_array().unwrap()[..3]
            .iter()
            .map(|r| format!("{} {}", r["key"].as_str().unwrap(), r["calls"]))
            .collect()
    };
    assert_eq!(
        teams(&audits[0].1),
        ["team-support 455", "team-legal 14", "team-finance 54"]
    );
    for (order, a) in &audits[1..] {
        assert_eq!(teams(a), teams(&audits[0].1), "{order}");
        assert_eq!(a, &audits[0].1, "{order}");
    }

    // One call under two keys for one field, in both orders: the same
    // day, user, team, feature, session and route either way.
    let usage = r#""model":"gpt-4o","usage":{"prompt_tokens":1000,"completion_tokens":100}"#;
    let pairs = [
        (
            r#""timestamp":"2026-10-01T10:00:00Z""#,
            r#""created_at":"2026-10-05T10:00:00Z""#,
        ),
        (r#""user":"alice""#, r#""user_id":"bob""#),
        (r#""feature":"search""#, r#""metadata":{"feature":"chat"}"#),
        (r#""team":"t-1""#, r#""team_id":"t-2""#),
        (r#""session":"s1""#, r#""session_id":"s2""#),
        (r#""route":"/v1/chat""#, r#""endpoint":"/v1/other""#),
    ];
    let mut one_way = String::new();
    let mut other_way = String::new();
    for (i, (first, second)) in pairs.iter().enumerate() {
        let time = if i == 0 {
            ""
        } else {
            r#""timestamp":"2026-10-01T10:00:00Z","#
        };
        one_way += &format!("{{{time}{first},{second},{usage}}}\n");
        other_way += &format!("{{{time}{second},{first},{usage}}}\n");
    }
    let mut tables = Vec::new();
    for lines in [one_way, other_way] {
        env.write("pairs.jsonl", lines);
        let r = env.audit(&["pairs.jsonl", "--strict"]);
        let a = &r["audit"];
        assert_eq!(a["first_call"], "2026-10-01T10:00:00Z");
        assert_eq!(a["last_call"], "2026-10-01T10:00:00Z");
        for (dimension, key) in [
            ("user", "alice"),
            ("feature", "search"),
            ("team", "t-1"),
            ("session", "s1"),
            ("route", "/v1/chat"),
        ] {
            assert_eq!(row(&r, dimension, key)["calls"], 1, "{dimension}");
        }
        tables.push(a["by"].clone());
    }
    assert_eq!(tables[0], tables[1]);
}

/// hunt57: a prompt's fingerprint followed the key order and spacing
/// inside `messages`, so 300 calls of one prompt, half of them logged by a
/// producer that writes `content` before `role` (or Python's spaces), were
/// two prompts, and TA110 called the other half near-duplicates.
#[test]
fn one_prompt_in_two_spellings_is_one_prompt() {
    let env = Env::new();
    env.write("cfg.toml", "[detect]\nmin_savings = 0\n");
    let mut lines = String::new();
    for i in 0..300 {
        let messages = if i % 2 == 0 {
            r#"[{"role":"system","content":"You are helpful."},{"role":"user","content":"What is the refund policy?"}]"#
        } else {
            r#"[{"content": "You are helpful.", "role": "system"}, {"content": "What is the refund policy?", "role": "user"}]"#
        };
        lines += &format!(
            "{{\"timestamp\":\"2026-10-01T{:02}:{:02}:00Z\",\"request_id\":\"r{i}\",\"model\":\"gpt-4o\",\"feature\":\"faq\",\"messages\":{messages},\"usage\":{{\"prompt_tokens\":1000,\"completion_tokens\":100}}}}\n",
            10 + i / 60,
            i % 60
        );
    }
    env.write("calls.jsonl", lines);
    let r = env.audit(&["calls.jsonl", "--config", "cfg.toml"]);
    let exact = crate::util::findings(&r, "TA109");
    assert_eq!(exact.len(), 1);
    assert_eq!(exact[0]["evidence"]["distinct_prompts"], 1);
    assert!(crate::util::findings(&r, "TA110").is_empty());
}

/// A gzip log through a pipe (`gzip -c … | tokenaudit audit /dev/stdin`,
/// or `<(gzip -c …)`) is read whole: the progress count opened it again by
/// its path, and read nothing from the drained pipe (hunt77: 0 of 10 calls,
/// a `truncated_file`).
#[cfg(target_os = "linux")]
#[test]
fn a_gzip_log_through_a_pipe_is_read_whole() {
    use std::io::Write;
    let env = Env::new();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(numbered_good(300).as_bytes()).unwrap();
    let gz = e.finish().unwrap();
    let out = env
        .cmd()
        .args([
            "audit",
            "/dev/stdin",
            "--out",
            "out",
            "--format",
            "json",
            "--strict",
        ])
        .write_stdin(gz)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value =
        serde_json::from_slice(&std::fs::read(env.path("out/audit.json")).unwrap()).unwrap();
    assert_eq!(r["audit"]["totals"]["calls"], 300);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), good_cost(300));
}

/// A compressed file of no bytes (a download cut before its first) is an
/// unreadable file, not an empty text one (hunt77: `--strict` passed with
/// the day missing); a file compressed another way is said to be so.
#[test]
fn an_empty_gzip_or_an_xz_file_is_rejected_as_such() {
    let env = Env::new();
    env.write("a.jsonl", good(1));
    env.write("cut.jsonl.gz", b"");
    env.write(
        "old.jsonl.xz",
        [0xfd, b'7', b'z', b'X', b'Z', 0, 0, 4, 0xe6, 0xd6],
    );
    let out = run(
        &env,
        &["a.jsonl", "cut.jsonl.gz", "old.jsonl.xz", "--strict"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cut.jsonl.gz: unreadable_file (cannot open: a gzip file of no bytes"),
        "{err}"
    );
    assert!(
        err.contains("old.jsonl.xz: unreadable_file (cannot open: an xz-compressed file"),
        "{err}"
    );
    let r = env.audit(&["a.jsonl", "cut.jsonl.gz", "old.jsonl.xz"]);
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    assert_eq!(
        r["audit"]["input"]["rejected_by_reason"]["unreadable_file"],
        2
    );
}

/// A damaged row group's rows are each a rejected line, counted from the
/// footer's row count (hunt77: 20,000 rows lost were "1 line rejected", at
/// line 0, and the file's lines 20,000 short).
#[test]
fn a_damaged_parquet_row_group_counts_each_of_its_rows() {
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    use std::sync::Arc;
    let env = Env::new();
    let n = 4_000;
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "timestamp",
            Arc::new(StringArray::from(vec!["2026-10-01T12:00:00Z"; n])),
        ),
        (
            "request_id",
            Arc::new(StringArray::from(
                (0..n).map(|i| format!("r{i}")).collect::<Vec<_>>(),
            )),
        ),
        ("model", Arc::new(StringArray::from(vec!["gpt-4o"; n]))),
        ("prompt_tokens", Arc::new(Int64Array::from(vec![1000; n]))),
        ("completion_tokens", Arc::new(Int64Array::from(vec![0; n]))),
    ];
    let path = env.path("calls.parquet");
    let batch = arrow_array::RecordBatch::try_from_iter(columns).unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(1_000))
        .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
        .build();
    let f = std::fs::File::create(&path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    let meta = w.close().unwrap();
    // Damage the request ids of the third row group (rows 2,001 to 3,000).
    let chunk = &meta.row_groups()[2].columns()[1];
    let (start, len) = chunk.byte_range();
    let mut bytes = std::fs::read(&path).unwrap();
    for b in &mut bytes[start as usize..(start + len) as usize] {
        *b ^= 0xff;
    }
    std::fs::write(&path, bytes).unwrap();
    let r = env.audit(&["calls.parquet"]);
    let input = &r["audit"]["input"];
    assert_eq!(r["audit"]["totals"]["calls"], 3_000);
    // 3,000 calls of 1,000 input tokens at $2.50 a million.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "7.50");
    assert_eq!(input["lines"], 4_000);
    assert_eq!(input["rejected_by_reason"]["truncated_file"], 1_000);
    let sample = &input["rejected_samples"][0];
    assert_eq!(sample["line"], 2_001);
    assert!(
        sample["detail"]
            .as_str()
            .unwrap()
            .starts_with("1000 rows not read (rows 2001 to 3000): "),
        "{sample}"
    );
    // The row groups after it were read: no "cut short" (hunt184).
    let err = stderr(&run(&env, &["calls.parquet"]));
    assert!(
        err.contains("1 input has a damaged part whose rows could not be read, its other rows read: calls.parquet (1000 rows not read"),
        "{err}"
    );
    assert!(!err.contains("cut short"), "{err}");
}

/// A link beside the file it leads to (`current.jsonl -> day1.jsonl`) is
/// read once, under the file's own name (hunt77: the calls and rejects
/// were named by the link, which the store kept once the link moved on).
#[cfg(unix)]
#[test]
fn a_link_beside_its_file_is_read_under_the_files_name() {
    let env = Env::new();
    env.write("logs/day1.jsonl", format!("{GOOD}\nnot json\n{GOOD}\n"));
    std::os::unix::fs::symlink("day1.jsonl", env.path("logs/current.jsonl")).unwrap();
    let out = run(&env, &["logs"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = env.report();
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(samples(&r), [at("logs/day1.jsonl", 2, "malformed_json")]);
    let files: Vec<&str> = r["audit"]["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["logs/day1.jsonl"]);
}

/// A Parquet page whose header carries a checksum is checked (pyarrow's
/// `write_page_checksum`): one flipped bit in a count is a rejected row
/// group, not a wrong count (hunt78: 1,000 tokens read as 1,016). The
/// fixtures: 900 gpt-4o calls of 1,000 input tokens in three row groups of
/// 300 (pyarrow, uncompressed, checksums), and the same with one bit of the
/// second group's `prompt_tokens` flipped.
#[test]
fn a_parquet_page_with_a_wrong_checksum_is_rejected() {
    let env = Env::new();
    for f in ["checksummed.parquet", "checksummed-flipped.parquet"] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/parquet")
                .join(f),
            env.path(f),
        )
        .unwrap();
    }
    let r = env.audit(&["checksummed.parquet"]);
    // 900 × 1,000 × $2.50 a million.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "2.25");
    let r = env.audit(&["checksummed-flipped.parquet"]);
    assert_eq!(r["audit"]["totals"]["calls"], 600);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "1.50");
    assert_eq!(
        r["audit"]["input"]["rejected_by_reason"]["truncated_file"],
        300
    );
    let detail = r["audit"]["input"]["rejected_samples"][0]["detail"]
        .as_str()
        .unwrap();
    assert!(detail.contains("Page CRC checksum mismatch"), "{detail}");
}

/// A damaged first row group, and a damaged group of a file read through
/// the JSON-lines path (a Langfuse export): the other groups are read, the
/// damaged one's rows rejected (hunt78: the first made the file unreadable,
/// 0 of 900 good calls; the second lost every later group). Fixtures in
/// tests/fixtures/parquet: 1,200 gpt-4o calls of 1,000 input tokens in
/// four groups of 300.
#[test]
fn a_damaged_first_group_or_a_json_path_group_loses_only_its_rows() {
    let env = Env::new();
    for (f, first) in [
        ("gateway-first-damaged.parquet", 1),
        ("langfuse-damaged.parquet", 301),
    ] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/parquet")
                .join(f),
            env.path(f),
        )
        .unwrap();
        let r = env.audit(&[f]);
        let input = &r["audit"]["input"];
        assert_eq!(r["audit"]["totals"]["calls"], 900, "{f}");
        // 900 × 1,000 × $2.50 a million.
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "2.25", "{f}");
        assert_eq!(input["lines"], 1_200, "{f}");
        assert_eq!(input["rejected_by_reason"]["truncated_file"], 300, "{f}");
        assert_eq!(input["rejected_samples"][0]["line"], first, "{f}");
    }
}

/// A FIFO holding Parquet is read once, saved to be read from its footer
/// (hunt78: the audit hung, the file opened again; then it was refused).
#[cfg(target_os = "linux")]
#[test]
fn a_parquet_fifo_is_read_not_waited_on() {
    let env = Env::new();
    let fifo = env.path("calls.parquet");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parquet/checksummed.parquet"),
    )
    .unwrap();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .open(&fifo)
                .and_then(|mut f| f.write_all(&bytes));
        })
    };
    let out = run(&env, &["calls.parquet", "--strict"]);
    writer.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let piped = env.report()["audit"]["totals"].clone();
    std::fs::remove_file(&fifo).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parquet/checksummed.parquet"),
        env.path("file.parquet"),
    )
    .unwrap();
    let direct = env.audit(&["file.parquet", "--strict"]);
    assert!(piped["calls"].as_u64().unwrap() > 0);
    assert_eq!(piped, direct["audit"]["totals"]);
}

/// A successful call with output tokens and no input count (`null`,
/// absent, an empty CSV cell) is priced without input and said at its
/// line (hunt101: $0.004 for $0.006, unsaid, and `--strict` passed).
#[test]
fn output_without_an_input_count_is_said() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        format!(
            "{GOOD}\n{}\n{}\n",
            r#"{"model":"gpt-4o","feature":"f","usage":{"prompt_tokens":null,"completion_tokens":100}}"#,
            r#"{"model":"gpt-4o","feature":"f","usage":{"completion_tokens":100}}"#,
        ),
    );
    let r = env.audit(&["calls.jsonl"]);
    // $0.0035 + 2 × 100 × $10/M.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0055");
    let notes: Vec<(u64, String)> = r["audit"]["input"]["rejected_samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["line"].as_u64().unwrap(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        notes,
        [
            (2, "field_ignored".to_string()),
            (3, "field_ignored".to_string())
        ]
    );
    let out = env
        .cmd()
        .args(["audit", "calls.jsonl", "--strict", "--out", "s", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// OpenAI Batch API output kept in a warehouse and exported as Parquet:
/// its `response` a JSON column written as text, an expired request (no
/// response, its null left out of the row) first. Batch output all the same,
/// at batch rates (hunt144's bug1: read as a gateway log, at twice them).
#[test]
fn openai_batch_output_as_parquet_with_json_text_is_batch_output() {
    use arrow_array::{ArrayRef, StringArray};
    use std::sync::Arc;
    let env = Env::new();
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/formats/openai-batch/batch_output.jsonl"),
    )
    .unwrap();
    let mut rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The expired request first.
    rows.sort_by_key(|r| !r["response"].is_null());
    let col = |key: &str| -> ArrayRef {
        Arc::new(StringArray::from(
            rows.iter()
                .map(|r| match &r[key] {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    v => Some(v.to_string()),
                })
                .collect::<Vec<_>>(),
        ))
    };
    write_parquet(
        &env.path("batch.parquet"),
        vec![
            ("id", col("id")),
            ("custom_id", col("custom_id")),
            ("response", col("response")),
            ("error", col("error")),
        ],
    );
    let r = env.audit(&["batch.parquet"]);
    // As the JSON lines (formats.rs): $0.0027 at batch rates.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0027");
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(r["audit"]["batch_calls_at_full_price"], 0);
}

/// pandas' `json_normalize(...).to_parquet()`: nested keys flattened with
/// dots into column names, nested again as the CSV reader nests its
/// headers (hunt144's bug5: every call rejected as without usage).
#[test]
fn parquet_columns_flattened_with_dots_are_nested_again() {
    use arrow_array::{ArrayRef, Float64Array, StringArray};
    use std::sync::Arc;
    let env = Env::new();
    write_parquet(
        &env.path("normalized.parquet"),
        vec![
            (
                "model",
                Arc::new(StringArray::from(vec!["gpt-4o", "gpt-4o-mini"])) as ArrayRef,
            ),
            (
                "usage.prompt_tokens",
                Arc::new(Float64Array::from(vec![1000.0, 2000.0])) as ArrayRef,
            ),
            (
                "usage.completion_tokens",
                Arc::new(Float64Array::from(vec![100.0, 200.0])) as ArrayRef,
            ),
            (
                "usage.prompt_tokens_details.cached_tokens",
                Arc::new(Float64Array::from(vec![Some(800.0), None])) as ArrayRef,
            ),
        ],
    );
    let r = env.audit(&["normalized.parquet", "--strict"]);
    // gpt-4o: 200 × 2.50 + 800 × 1.25 + 100 × 10 = $0.0025; gpt-4o-mini:
    // 2,000 × 0.15 + 200 × 0.60 = $0.00042. $0.00292.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00292");
    assert_eq!(r["audit"]["totals"]["cached_read_tokens"], 800);
}

/// Inputs cut short are named on the terminal with what happened: a `.gz`
/// cut in half (its first calls read) and a Parquet file without its
/// footer (none read), beside a good log (hunt148's bug3: "2 lines
/// rejected", neither named).
#[test]
fn inputs_cut_short_are_named_on_the_terminal() {
    let env = Env::new();
    env.write("logs/a.jsonl", good(2));
    let text: String = (0..200).map(|_| good(1)).collect();
    let gz = {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap()
    };
    env.write("logs/b.jsonl.2.gz", &gz[..gz.len() / 2]);
    env.write("logs/c.parquet", b"PAR1 rows and no footer".as_slice());
    let out = env
        .cmd()
        .args(["audit", "logs", "--out", "out", "-q"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("1 input is cut short") && err.contains("b.jsonl.2.gz"),
        "{err}"
    );
    assert!(
        err.contains("could not read 1 input") && err.contains("c.parquet"),
        "{err}"
    );
}

/// Names from logs and folders reach the terminal shown, not run: a
/// feature in whatif's and a budget's "misspelled?" lists, the files a
/// folder walk left out and the files `--strict` names (hunt163: raw
/// escape sequences, one setting the window title).
#[test]
fn escape_sequences_in_names_are_shown_on_the_terminal() {
    let env = Env::new();
    let evil = "ok\u{1b}]0;PWNED\u{7}\u{1b}[2J";
    env.write(
        "logs/gw.jsonl",
        format!(
            "{}\n",
            serde_json::json!({"model": "gpt-4o-mini", "feature": evil, "usage": {"prompt_tokens": 10, "completion_tokens": 1}})
        ),
    );
    env.write("logs/notes\u{1b}]0;FILE\u{7}.txt", "hello\n");
    env.write("logs/bad\u{1b}]0;REJ\u{7}.jsonl", "not json\n");
    env.write(
        "budget.toml",
        "[[budget]]\nfeature = \"nosuch\"\ndaily = 1\n",
    );
    for args in [
        vec!["whatif", "logs", "--route", "nosuch=gpt-4o"],
        vec!["audit", "logs", "--out", "o1", "--config", "budget.toml"],
        vec!["audit", "logs", "--out", "o2", "--strict"],
    ] {
        let out = env.cmd().args(&args).output().unwrap();
        let err = stderr(&out);
        assert!(!err.contains('\u{1b}'), "{args:?}: {err:?}");
        assert!(err.contains('\u{241b}'), "{args:?}: {err}");
    }
}

/// A log compressed with `zstd --long=31` (a window past the 128 MiB a
/// decoder takes by default) is read (hunt168: every call lost, said as a
/// cut file).
#[test]
fn a_zstd_log_with_a_long_window_is_read() {
    use std::io::Write;
    let env = Env::new();
    let line = r#"{"model":"gpt-4o-mini","usage":{"prompt_tokens":1000,"completion_tokens":100}}"#;
    let text = format!("{line}\n").repeat(1000);
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    enc.long_distance_matching(true).unwrap();
    enc.window_log(31).unwrap();
    enc.write_all(text.as_bytes()).unwrap();
    let bytes = enc.finish().unwrap();
    // The frame asks for more than the default window: the default
    // decoder refuses it.
    assert!(zstd::stream::decode_all(&bytes[..]).is_err());
    env.write("w31.jsonl.zst", bytes);
    let r = env.audit(&["w31.jsonl.zst", "--strict"]);
    // 1,000 × (1,000 × $0.15/M + 100 × $0.60/M) = $0.21.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.21");
    assert_eq!(r["audit"]["totals"]["calls"], 1000);
}

/// Standard input named twice (`- -`, `- /dev/stdin`) is read once (hunt168:
/// two readers of one stream tore its lines apart, rejects and garbled
/// model names).
#[test]
fn stdin_named_twice_is_read_once() {
    let env = Env::new();
    let line = r#"{"model":"gpt-4o-mini","usage":{"prompt_tokens":1000,"completion_tokens":100}}"#;
    let text = format!("{line}\n").repeat(20_000);
    for twice in [["-", "-"], ["-", "/dev/stdin"], ["-", "/dev/fd/0"]] {
        let out = env
            .cmd()
            .args([
                "audit", twice[0], twice[1], "--out", "out", "--quiet", "--strict",
            ])
            .write_stdin(text.clone())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{twice:?}: {}", stderr(&out));
        let r = env.report();
        // 20,000 × $0.00021.
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), "4.20", "{twice:?}");
        assert_eq!(r["audit"]["totals"]["calls"], 20_000);
    }
}
