//! Reading: every kind of bad input is counted with its reason, file and
//! line, never crashes and never silently disappears; every input mechanism
//! (directories, globs, stdin, compression, Parquet, mappings) works.
//!
//! Good lines here are gpt-4o calls of 1,000 input / 100 output tokens:
//! 1,000 × $2.50/M + 100 × $10/M = $0.0035 each.

use std::process::Output;

use crate::util::{usd, Env};

const GOOD: &str =
    r#"{"model":"gpt-4o","feature":"f","usage":{"prompt_tokens":1000,"completion_tokens":100}}"#;

fn good(n: usize) -> String {
    format!("{GOOD}\n").repeat(n)
}

fn run(env: &Env, args: &[&str]) -> Output {
    env.cmd()
        .arg("audit")
        .args(args)
        .args(["--out", "out", "--quiet"])
        .output()
        .unwrap()
}

#[test]
fn each_bad_line_is_counted_with_reason_and_line() {
    let env = Env::new();
    let lines = [
        GOOD,                                                                                  // 1
        r#"{"model":"gpt-4o","usage":{"prompt_tokens":10"#, // 2 malformed_json
        "[1, 2, 3]",                                        // 3 not_an_object
        r#"{"model":"gpt-4o","usage":{"prompt_tokens":"many","completion_tokens":1}}"#, // 4 wrong_type
        GOOD,                                                                           // 5
        r#"{"model":"gpt-4o","usage":{"prompt_tokens":-3,"completion_tokens":1}}"#, // 6 negative_tokens
        r#"{"model":"gpt-4o","usage":{"prompt_tokens":1000000000000,"completion_tokens":1}}"#, // 7 absurd_tokens
        r#"{"usage":{"prompt_tokens":5,"completion_tokens":1}}"#, // 8 missing_model
        r#"{"model":"gpt-4o","status":"ok"}"#,                    // 9 missing_usage
        r#"{"model":"gpt-4o","timestamp":"soon","usage":{"prompt_tokens":5,"completion_tokens":1}}"#, // 10 bad_timestamp
        r#"{"model":"gpt-4o","usage":{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":9}}}"#, // 11 inconsistent_usage
        GOOD, // 12
    ];
    env.write("a.jsonl", lines.join("\n") + "\n");
    let r = env.audit(&["a.jsonl"]);
    let input = &r["audit"]["input"];
    assert_eq!(input["lines"], 12);
    assert_eq!(input["records"], 3);
    assert_eq!(input["rejected"], 9);
    let want = [
        (2, "malformed_json"),
        (3, "not_an_object"),
        (4, "wrong_type"),
        (6, "negative_tokens"),
        (7, "absurd_tokens"),
        (8, "missing_model"),
        (9, "missing_usage"),
        (10, "bad_timestamp"),
        (11, "inconsistent_usage"),
    ];
    let samples = input["rejected_samples"].as_array().unwrap();
    let got: Vec<(u64, &str)> = samples
        .iter()
        .map(|s| (s["line"].as_u64().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        want.iter()
            .map(|(l, r)| (*l as u64, *r))
            .collect::<Vec<_>>()
    );
    for (_, reason) in want {
        assert_eq!(input["rejected_by_reason"][reason], 1, "{reason}");
    }
    assert_eq!(samples[2]["detail"], "prompt_tokens");
    // The three good lines: 3 × $0.0035.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0105");
}

#[test]
fn blank_lines_and_crlf_are_not_rejects_and_keep_line_numbers() {
    let env = Env::new();
    env.write(
        "a.jsonl",
        format!("{GOOD}\r\n\r\n   \n{GOOD}\r\nnot json\r\n"),
    );
    let r = env.audit(&["a.jsonl"]);
    assert_eq!(r["audit"]["input"]["records"], 2);
    assert_eq!(r["audit"]["input"]["rejected"], 1);
    assert_eq!(r["audit"]["input"]["rejected_samples"][0]["line"], 5);
}

#[test]
fn empty_files_and_binary_garbage_never_crash() {
    let env = Env::new();
    env.write("empty.jsonl", "");
    let mut garbage: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 7) as u8)
        .collect();
    garbage.extend_from_slice(b"\n\xff\xfe\x00\n");
    env.write("garbage.jsonl", &garbage);
    env.write("good.jsonl", good(2));
    let r = env.audit(&["empty.jsonl", "garbage.jsonl", "good.jsonl"]);
    let input = &r["audit"]["input"];
    assert_eq!(input["records"], 2);
    let garbage_lines = garbage
        .split(|&b| b == b'\n')
        .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
        .count() as u64;
    assert_eq!(input["rejected_by_reason"]["malformed_json"], garbage_lines);
    assert_eq!(input["files"][0]["lines"], 0);
}

#[test]
fn truncated_gzip_and_zstd_keep_the_lines_before_the_cut() {
    for (name, bytes) in [
        ("a.jsonl.gz", {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(good(20_000).as_bytes()).unwrap();
            e.finish().unwrap()
        }),
        (
            "a.jsonl.zst",
            zstd::encode_all(good(20_000).as_bytes(), 1).unwrap(),
        ),
    ] {
        let env = Env::new();
        env.write(name, &bytes[..bytes.len() / 2]);
        let out = run(&env, &[name]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r = env.report();
        let input = &r["audit"]["input"];
        assert_eq!(input["rejected_by_reason"]["truncated_file"], 1, "{name}");
        let records = input["records"].as_u64().unwrap();
        // About half the lines decompress; all of them complete calls.
        assert!(records > 2_000 && records < 20_000, "{name}: {records}");
        // A cut inside a line leaves at most one partial line, rejected as malformed.
        let malformed = input["rejected_by_reason"]["malformed_json"]
            .as_u64()
            .unwrap_or(0);
        assert!(malformed <= 1, "{name}: {malformed}");
        assert_eq!(input["files"][0]["records"], records);
        // Every kept call is a whole one: cost is exactly records × $0.0035.
        let cost = usd(&r["audit"]["totals"]["cost"]);
        let want = tokenaudit_core::Money::parse_usd("0.0035").unwrap() * records;
        assert_eq!(cost, want.to_decimal_string(), "{name}");
    }
}

#[test]
fn strict_fails_on_any_reject_and_writes_nothing() {
    let env = Env::new();
    env.write("a.jsonl", format!("{GOOD}\nnot json\n"));
    let out = run(&env, &["a.jsonl", "--strict"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a.jsonl:2") && stderr.contains("malformed_json"),
        "{stderr}"
    );
    assert!(!env.path("out/audit.json").exists());
    env.write("b.jsonl", good(3));
    assert_eq!(run(&env, &["b.jsonl", "--strict"]).status.code(), Some(0));
}

#[test]
fn a_line_longer_than_a_chunk_is_parsed() {
    let env = Env::new();
    let padding = "x".repeat(10 << 20);
    let long = format!(
        r#"{{"model":"gpt-4o","padding":"{padding}","usage":{{"prompt_tokens":1000,"completion_tokens":100}}}}"#
    );
    env.write("a.jsonl", format!("{}{long}\n{}", good(5), good(5)));
    let r = env.audit(&["a.jsonl", "--threads", "2"]);
    assert_eq!(r["audit"]["input"]["records"], 11);
    assert_eq!(r["audit"]["input"]["rejected"], 0);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0385");
}

#[test]
fn directories_globs_stdin_and_duplicates() {
    let env = Env::new();
    env.write("logs/a.jsonl", good(1));
    env.write_gz("logs/sub/b.jsonl.gz", &good(2));
    env.write_zst("logs/sub/deeper/c.jsonl.zst", &good(4));
    env.write("logs/notes.txt", "not a log");
    let r = env.audit(&["logs"]);
    assert_eq!(r["audit"]["totals"]["calls"], 7);
    let encodings: Vec<&str> = r["audit"]["input"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["encoding"].as_str().unwrap())
        .collect();
    assert_eq!(encodings, ["plain", "gzip", "zstd"]);

    let r = env.audit(&["logs/**/*.gz", "logs/a.jsonl", "logs/a.jsonl"]);
    assert_eq!(
        r["audit"]["totals"]["calls"], 3,
        "a file named twice is read once"
    );

    // stdin, plain and gzip (sniffed).
    let out = env
        .cmd()
        .args(["audit", "-", "--out", "out", "--quiet"])
        .write_stdin(good(3))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(env.report()["audit"]["totals"]["calls"], 3);
    let gz = std::fs::read(env.path("logs/sub/b.jsonl.gz")).unwrap();
    let out = env
        .cmd()
        .args(["audit", "-", "--out", "out", "--quiet"])
        .write_stdin(gz)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(env.report()["audit"]["totals"]["calls"], 2);

    let out = run(&env, &["nowhere/x.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere/x.jsonl"));
}

#[test]
fn parquet_rows_price_like_the_same_jsonl() {
    use polars::prelude::*;
    let env = Env::new();
    let prompt = Series::new("prompt_tokens".into(), &[1000u64, 2000, 1000]);
    let completion = Series::new("completion_tokens".into(), &[100u64, 50, 100]);
    let usage = StructChunked::from_series("usage".into(), 3, [&prompt, &completion].into_iter())
        .unwrap()
        .into_series();
    let model = Series::new("model".into(), &["gpt-4o", "gpt-4o", "gpt-4o-mini"]);
    let feature = Series::new("feature".into(), &["a", "b", "a"]);
    let mut df = DataFrame::new_infer_height(vec![
        model.into_column(),
        feature.into_column(),
        usage.into_column(),
    ])
    .unwrap();
    let file = std::fs::File::create(env.path("calls.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut df).unwrap();
    let r = env.audit(&["calls.parquet"]);
    // gpt-4o: $0.0035 + (2,000 × $2.50/M + 50 × $10/M = $0.0055);
    // gpt-4o-mini: 1,000 × $0.15/M + 100 × $0.60/M = $0.00021. Total $0.00921.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.00921");
    assert_eq!(r["audit"]["input"]["files"][0]["encoding"], "parquet");
}

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
    let s = &r["audit"]["input"]["rejected_samples"][0];
    assert_eq!(s["reason"], "unrecognized_format");
    assert!(s["detail"].as_str().unwrap().contains("input_length"));
    assert_eq!(r["audit"]["totals"]["calls"], 0);

    env.write("map.toml", "[mapping]\ninput_tokens = \"input_length\"\noutput_tokens = \"output_length\"\n[mapping.defaults]\nmodel = \"gpt-4o\"\n");
    let r = env.audit(&["trace.jsonl", "--config", "map.toml"]);
    // $0.0035 + (3,000 × $2.50/M + 10 × $10/M = $0.0076) = $0.0111.
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), "0.0111");

    env.write("bad.toml", "[mapping]\nmodell = \"x\"\n");
    let out = run(&env, &["trace.jsonl", "--config", "bad.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("modell"));
}

#[test]
fn the_output_folder_keeps_other_files() {
    let env = Env::new();
    env.write("a.jsonl", good(1));
    env.write("out/notes.md", "mine");
    env.audit(&["a.jsonl"]);
    env.write("a.jsonl", good(2));
    let r = env.audit(&["a.jsonl"]);
    assert_eq!(r["audit"]["totals"]["calls"], 2);
    assert_eq!(
        std::fs::read_to_string(env.path("out/notes.md")).unwrap(),
        "mine"
    );
    let leftovers: Vec<_> = std::fs::read_dir(env.path("out"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn output_is_identical_whatever_the_thread_count() {
    let env = Env::new();
    let mut text = String::new();
    let models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "acme-x"];
    for i in 0..120_000u64 {
        let m = models[(i % 4) as usize];
        text.push_str(&format!(
            r#"{{"timestamp":"2026-10-{:02}T{:02}:00:00Z","model":"{m}","feature":"f{}","user":"u{}","session":"s{}","usage":{{"prompt_tokens":{},"completion_tokens":{}}}}}"#,
            1 + i % 28, i % 24, i % 7, i % 97, i % 1009, 100 + i % 5000, 1 + i % 300
        ));
        text.push('\n');
        if i % 10_007 == 0 {
            text.push_str("garbage line\n");
        }
    }
    env.write("a.jsonl", &text);
    let run_with = |threads: &str| {
        let out = env
            .cmd()
            .args([
                "audit",
                "a.jsonl",
                "--quiet",
                "--threads",
                threads,
                "--out",
                &format!("out{threads}"),
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        (
            std::fs::read(env.path(&format!("out{threads}/audit.json"))).unwrap(),
            std::fs::read(env.path(&format!("out{threads}/audit.md"))).unwrap(),
        )
    };
    let one = run_with("1");
    let two = run_with("2");
    assert!(one.0 == two.0, "audit.json differs between 1 and 2 threads");
    assert!(one.1 == two.1, "audit.md differs between 1 and 2 threads");
}
