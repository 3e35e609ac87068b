//! Broken and hostile input, kind by kind: none crashes or hangs the audit,
//! every bad line is counted with its reason, file and line, and every good
//! line planted beside the bad ones is kept.
//!
//! Most kinds are one row of [`CASES`]: a function writes the input into a
//! temp dir and says what the audit must make of it; the test runs the real
//! binary on each (with a timeout, so a hang fails) and lists every case
//! that went wrong. Kinds that need a thread feeding the input, or that
//! check more than the counts, are tests of their own below the table.
//!
//! Every good call is `GOOD` (gpt-4o, 1,000 input and 100 output tokens:
//! $0.0035), so the kept calls must cost exactly `records` × $0.0035.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray, UInt32Array, UInt64Array,
};
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::inputs::{
    assert_files_add_up, decodable_prefix, files, good, good_cost, numbered_good, samples, stderr,
    write_parquet, GOOD,
};
use crate::util::{missing_tool, row, usd, Env};

/// Longer than any case takes on a loaded machine with a debug build.
const TIMEOUT: Duration = Duration::from_secs(120);

/// What the audit must make of one case's input.
struct Want {
    /// Inputs and flags (`--out out --quiet` are added).
    args: Vec<String>,
    /// Bytes fed to stdin, when an input is `-`.
    stdin: Option<Vec<u8>>,
    /// Good calls kept, each `GOOD`.
    records: u64,
    /// Every reject, in report order: (file, line, reason). Line 0 is a
    /// whole file.
    rejects: Vec<(String, u64, String)>,
}

impl Want {
    fn new(args: &[&str], records: u64, rejects: &[(&str, u64, &str)]) -> Want {
        Want {
            args: args.iter().map(|a| a.to_string()).collect(),
            stdin: None,
            records,
            rejects: rejects
                .iter()
                .map(|(f, l, r)| (f.to_string(), *l, r.to_string()))
                .collect(),
        }
    }

    fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Want {
        self.stdin = Some(bytes.into());
        self
    }
}

/// Runs one case; `Err` says what differs.
fn check(case: fn(&Env) -> Want) -> Result<(), String> {
    let env = Env::new();
    let want = case(&env);
    let mut cmd = env.cmd();
    cmd.arg("audit")
        .args(&want.args)
        .args(["--out", "out", "--quiet"])
        .timeout(TIMEOUT);
    if let Some(bytes) = want.stdin {
        cmd.write_stdin(bytes);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("did not finish within {TIMEOUT:?}: {e}"))?;
    if out.status.code() != Some(0) {
        return Err(format!("exit {:?}: {}", out.status.code(), stderr(&out)));
    }
    let r = env.report();
    let input = &r["audit"]["input"];
    let mut by_reason = serde_json::Map::new();
    for (_, _, reason) in want.rejects.iter().filter(|r| r.2 != "field_ignored") {
        let n = by_reason.get(reason).and_then(Value::as_u64).unwrap_or(0);
        by_reason.insert(reason.clone(), (n + 1).into());
    }
    let got = (
        input["records"].as_u64(),
        samples(&r),
        &input["rejected_by_reason"],
        usd(&r["audit"]["totals"]["cost"]),
    );
    let wanted = (
        Some(want.records),
        want.rejects,
        &Value::Object(by_reason),
        good_cost(want.records),
    );
    if got != wanted {
        return Err(format!(
            "(records, rejects, by reason, cost)\n  got  {got:?}\n  want {wanted:?}"
        ));
    }
    assert_files_add_up(&r);
    Ok(())
}

/// Lines, each ended by a newline.
fn lines(parts: &[&str]) -> String {
    parts.iter().map(|l| format!("{l}\n")).collect()
}

/// `GOOD` with its prompt token count written as `value`.
fn prompt_tokens(value: &str) -> String {
    GOOD.replace(
        "\"prompt_tokens\":1000",
        &format!("\"prompt_tokens\":{value}"),
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 1).unwrap()
}

const BOM: &str = "\u{feff}";

/// A compressed file cut in half: the lines its decoder yields before the
/// cut are kept, a line cut in two is malformed, and the cut is reported
/// at the line after the last whole one.
fn truncated(env: &Env, name: &str, whole: &[u8], decoded: fn(&[u8]) -> Vec<u8>) -> Want {
    let cut = &whole[..whole.len() / 2];
    env.write(name, cut);
    let prefix = decoded(cut);
    let complete = prefix.iter().filter(|&&b| b == b'\n').count() as u64;
    assert!(complete > 100, "{name}: the cut should fall mid-stream");
    // The cut line is the truncation, reported once (not also as malformed).
    Want::new(&[name], complete, &[(name, complete + 1, "truncated_file")])
}

/// A Parquet file of `model` and `feature` columns plus `columns`.
fn parquet(env: &Env, name: &str, rows: usize, columns: Vec<(&'static str, ArrayRef)>) {
    let mut all: Vec<(&str, ArrayRef)> = vec![
        ("model", Arc::new(StringArray::from(vec!["gpt-4o"; rows]))),
        ("feature", Arc::new(StringArray::from(vec!["f"; rows]))),
    ];
    all.extend(columns);
    write_parquet(&env.path(name), all);
}

/// A column of any type the cases use.
fn col<T: Column>(name: &'static str, values: &[T]) -> (&'static str, ArrayRef) {
    (name, T::array(values))
}

trait Column: Sized {
    fn array(values: &[Self]) -> ArrayRef;
}

macro_rules! column {
    ($($t:ty => $a:ty),* $(,)?) => {$(
        impl Column for $t {
            fn array(values: &[Self]) -> ArrayRef {
                Arc::new(<$a>::from(values.to_vec()))
            }
        }
    )*};
}

column!(
    u64 => UInt64Array,
    i64 => Int64Array,
    u32 => UInt32Array,
    f64 => Float64Array,
    bool => BooleanArray,
    &str => StringArray,
);

/// Runs `mkfifo`, which the standard library has no call for.
pub(crate) fn mkfifo(path: &Path) {
    let out = StdCommand::new("mkfifo")
        .arg(path)
        .output()
        .unwrap_or_else(|e| missing_tool("mkfifo", e, "apt-get install coreutils"));
    assert!(out.status.success(), "mkfifo: {}", stderr(&out));
}

fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

type Case = (&'static str, fn(&Env) -> Want);

const CASES: &[Case] = &[
    ("truncated gzip", |env| {
        let whole = gzip(numbered_good(4000).as_bytes());
        truncated(env, "a.jsonl.gz", &whole, |cut| {
            decodable_prefix(flate2::read::MultiGzDecoder::new(cut))
        })
    }),
    ("truncated zstd", |env| {
        let whole = zstd(numbered_good(4000).as_bytes());
        truncated(env, "a.jsonl.zst", &whole, |cut| {
            decodable_prefix(zstd::stream::read::Decoder::new(cut).unwrap())
        })
    }),
    ("gzip with garbage after its last member", |env| {
        let mut bytes = gzip(good(2).as_bytes());
        bytes.extend_from_slice(b"\x1f\x8bgarbage");
        env.write("a.jsonl.gz", bytes);
        Want::new(&["a.jsonl.gz"], 2, &[("a.jsonl.gz", 3, "truncated_file")])
    }),
    ("zstd with garbage after its frame", |env| {
        let mut bytes = zstd(good(2).as_bytes());
        bytes.extend_from_slice(b"garbage!");
        env.write("a.jsonl.zst", bytes);
        Want::new(&["a.jsonl.zst"], 2, &[("a.jsonl.zst", 3, "truncated_file")])
    }),
    ("concatenated gzip members", |env| {
        let mut bytes = gzip(good(1).as_bytes());
        bytes.extend(gzip(good(2).as_bytes()));
        env.write("a.jsonl.gz", bytes);
        Want::new(&["a.jsonl.gz"], 3, &[])
    }),
    (
        "compressed, named as plain text, and the other way round",
        |env| {
            env.write("gzip.jsonl", gzip(good(2).as_bytes()));
            env.write("plain.jsonl.gz", good(1));
            Want::new(&["gzip.jsonl", "plain.jsonl.gz"], 3, &[])
        },
    ),
    ("truncated Parquet", |env| {
        parquet(
            env,
            "whole.parquet",
            3,
            vec![
                col("prompt_tokens", &[1000u64; 3]),
                col("completion_tokens", &[100u64; 3]),
            ],
        );
        let bytes = std::fs::read(env.path("whole.parquet")).unwrap();
        env.write("cut.parquet", &bytes[..bytes.len() / 2]);
        Want::new(
            &["cut.parquet", "whole.parquet"],
            3,
            &[("cut.parquet", 0, "unreadable_file")],
        )
    }),
    ("Parquet magic bytes with no Parquet behind them", |env| {
        env.write("fake.parquet", b"PAR1 this is not parquet at all");
        env.write("good.jsonl", good(1));
        Want::new(
            &["fake.parquet", "good.jsonl"],
            1,
            &[("fake.parquet", 0, "unreadable_file")],
        )
    }),
    (
        "Parquet float token counts: fractional, NaN, infinite, negative, huge",
        |env| {
            let prompt = [1000.0, 1.5, f64::NAN, f64::INFINITY, -3.0, 1e12, 1000.0];
            parquet(
                env,
                "floats.parquet",
                prompt.len(),
                vec![
                    col("prompt_tokens", &prompt),
                    col("completion_tokens", &[100i64; 7]),
                ],
            );
            let f = "floats.parquet";
            Want::new(
                &[f],
                2,
                &[
                    (f, 2, "wrong_type"),
                    (f, 3, "wrong_type"),
                    (f, 4, "wrong_type"),
                    (f, 5, "negative_tokens"),
                    (f, 6, "absurd_tokens"),
                ],
            )
        },
    ),
    ("Parquet token counts as text and as booleans", |env| {
        parquet(
            env,
            "text.parquet",
            3,
            vec![
                col("prompt_tokens", &["1000", "many", " 1000 "]),
                col("completion_tokens", &["100", "100", "100"]),
            ],
        );
        parquet(
            env,
            "bool.parquet",
            2,
            vec![
                col("prompt_tokens", &[1000u32, 1000]),
                col("completion_tokens", &[true, false]),
            ],
        );
        Want::new(
            &["text.parquet", "bool.parquet"],
            2,
            &[
                ("text.parquet", 2, "wrong_type"),
                ("bool.parquet", 1, "wrong_type"),
                ("bool.parquet", 2, "wrong_type"),
            ],
        )
    }),
    (
        "duplicate keys: the first one wins (the gateway reader's rule)",
        |env| {
            let text = lines(&[
                r#"{"model":"gpt-4o","feature":"f","model":"gpt-4o-mini","usage":{"prompt_tokens":1000,"completion_tokens":100}}"#,
                r#"{"model":"gpt-4o","feature":"f","usage":{"prompt_tokens":1000,"completion_tokens":100},"usage":{"prompt_tokens":7,"completion_tokens":1}}"#,
                r#"{"model":"gpt-4o","feature":"f","usage":{"prompt_tokens":1000,"completion_tokens":100,"prompt_tokens":7}}"#,
            ]);
            env.write("a.jsonl", &text);
            // One invalid byte elsewhere sends the chunk down the bytes path:
            // the same rule there.
            let mut bytes = b"\xff\n".to_vec();
            bytes.extend_from_slice(text.as_bytes());
            env.write("b.jsonl", bytes);
            Want::new(
                &["a.jsonl", "b.jsonl"],
                6,
                &[("b.jsonl", 1, "malformed_json")],
            )
        },
    ),
    (
        "100,000 levels of nesting in a field no reader uses",
        |env| {
            let deep = format!(
                r#"{{"model":"gpt-4o","feature":"f","x":{}{},"usage":{{"prompt_tokens":1000,"completion_tokens":100}}}}"#,
                "[".repeat(100_000),
                "]".repeat(100_000)
            );
            env.write("a.jsonl", lines(&[GOOD, &deep, GOOD]));
            // Valid JSON: serde_json steps over an unused value without
            // recursing (its 128-level limit is for values it builds).
            Want::new(&["a.jsonl"], 3, &[])
        },
    ),
    ("100 levels of nesting", |env| {
        let nested = format!(
            r#"{{"model":"gpt-4o","feature":"f","x":{}1{},"usage":{{"prompt_tokens":1000,"completion_tokens":100}}}}"#,
            "[{\"a\":".repeat(50),
            "}]".repeat(50)
        );
        env.write("a.jsonl", lines(&[GOOD, &nested, GOOD]));
        Want::new(&["a.jsonl"], 3, &[])
    }),
    ("deep unclosed brackets as whole lines", |env| {
        let open = "{\"a\":[".repeat(100_000);
        let close = "]}".repeat(100_000);
        env.write("a.jsonl", lines(&[GOOD, &open, &close, GOOD]));
        Want::new(
            &["a.jsonl"],
            2,
            &[
                ("a.jsonl", 2, "malformed_json"),
                ("a.jsonl", 3, "malformed_json"),
            ],
        )
    }),
    ("NaN, Infinity and 1e400 as JSON numbers", |env| {
        let text = lines(&[
            GOOD,
            &prompt_tokens("NaN"),
            &prompt_tokens("Infinity"),
            &prompt_tokens("-Infinity"),
            &prompt_tokens("1e400"),
            GOOD,
            &GOOD.replace("\"feature\"", "\"latency_ms\":NaN,\"feature\""),
        ]);
        env.write("a.jsonl", text);
        // Python's NaN and Infinity are values of the wrong type, as in a
        // CSV (hunt101: the line was malformed JSON; hunt103: read as no
        // count, the call was priced without its input); 1e400 is no
        // number.
        // A NaN latency: the call kept, the latency said ignored.
        Want::new(
            &["a.jsonl"],
            3,
            &[
                ("a.jsonl", 2, "wrong_type"),
                ("a.jsonl", 3, "wrong_type"),
                ("a.jsonl", 4, "wrong_type"),
                ("a.jsonl", 5, "malformed_json"),
                ("a.jsonl", 7, "field_ignored"),
            ],
        )
    }),
    ("NaN, Infinity and 1e400 as strings", |env| {
        let text = lines(&[
            &prompt_tokens("\"NaN\""),
            &prompt_tokens("\"Infinity\""),
            &prompt_tokens("\"1e400\""),
            &prompt_tokens("\"1000\""),
        ]);
        env.write("a.jsonl", text);
        Want::new(
            &["a.jsonl"],
            1,
            &[
                ("a.jsonl", 1, "wrong_type"),
                ("a.jsonl", 2, "wrong_type"),
                ("a.jsonl", 3, "wrong_type"),
            ],
        )
    }),
    ("negative token counts", |env| {
        let text = lines(&[
            &prompt_tokens("-3"),
            &prompt_tokens("\"-3\""),
            &prompt_tokens("-3.0"),
            GOOD,
        ]);
        env.write("a.jsonl", text);
        Want::new(
            &["a.jsonl"],
            1,
            &[
                ("a.jsonl", 1, "negative_tokens"),
                ("a.jsonl", 2, "negative_tokens"),
                ("a.jsonl", 3, "negative_tokens"),
            ],
        )
    }),
    ("token counts that overflow u64", |env| {
        let text = lines(&[
            &prompt_tokens("18446744073709551615"),
            &prompt_tokens("18446744073709551616"),
            &prompt_tokens("99999999999999999999999999999"),
            &prompt_tokens("\"18446744073709551616\""),
            GOOD,
        ]);
        env.write("a.jsonl", text);
        Want::new(
            &["a.jsonl"],
            1,
            &[
                ("a.jsonl", 1, "absurd_tokens"),
                ("a.jsonl", 2, "absurd_tokens"),
                ("a.jsonl", 3, "absurd_tokens"),
                ("a.jsonl", 4, "absurd_tokens"),
            ],
        )
    }),
    (
        "fractional token counts (an integral float is a count)",
        |env| {
            let text = lines(&[
                &prompt_tokens("1.5"),
                &prompt_tokens("1000.0"),
                &prompt_tokens("1e3"),
            ]);
            env.write("a.jsonl", text);
            Want::new(&["a.jsonl"], 2, &[("a.jsonl", 1, "wrong_type")])
        },
    ),
    ("token counts of the wrong type", |env| {
        let text = lines(&[
            &prompt_tokens("true"),
            &prompt_tokens("[1000]"),
            &prompt_tokens("{\"n\":1000}"),
            &prompt_tokens("\"many\""),
            GOOD,
        ]);
        env.write("a.jsonl", text);
        Want::new(
            &["a.jsonl"],
            1,
            &[
                ("a.jsonl", 1, "wrong_type"),
                ("a.jsonl", 2, "wrong_type"),
                ("a.jsonl", 3, "wrong_type"),
                ("a.jsonl", 4, "wrong_type"),
            ],
        )
    }),
    ("timestamps out of range", |env| {
        let at = |t: &str| GOOD.replacen('{', &format!("{{\"timestamp\":{t},"), 1);
        let text = lines(&[
            &at("\"99999-01-01T00:00:00Z\""),
            &at("1e30"),
            &at("\"2026-02-30T00:00:00Z\""),
            &at("\"2026-10-01T00:00:00Z\""),
            // Readable, but past what a nanosecond timestamp (the store's,
            // Arrow's) holds.
            &at("\"3000-01-01T00:00:00Z\""),
            &at("\"1600-01-01T00:00:00Z\""),
        ]);
        env.write("a.jsonl", text);
        Want::new(
            &["a.jsonl"],
            1,
            &[
                ("a.jsonl", 1, "bad_timestamp"),
                ("a.jsonl", 2, "bad_timestamp"),
                ("a.jsonl", 3, "bad_timestamp"),
                ("a.jsonl", 5, "bad_timestamp"),
                ("a.jsonl", 6, "bad_timestamp"),
            ],
        )
    }),
    ("JSON values that are not objects", |env| {
        let text = lines(&[GOOD, "\"text\"", "42", "null", "true", "[1, 2]", GOOD]);
        env.write("a.jsonl", text);
        let a = "a.jsonl";
        Want::new(
            &[a],
            2,
            &[
                (a, 2, "not_an_object"),
                (a, 3, "not_an_object"),
                (a, 4, "not_an_object"),
                (a, 5, "not_an_object"),
                (a, 6, "not_an_object"),
            ],
        )
    }),
    ("an object pretty-printed inside JSON lines", |env| {
        let text = lines(&[GOOD, "{", "  \"model\": \"gpt-4o\"", "}", GOOD]);
        env.write("a.jsonl", text);
        let a = "a.jsonl";
        Want::new(
            &[a],
            2,
            &[
                (a, 2, "malformed_json"),
                (a, 3, "malformed_json"),
                (a, 4, "malformed_json"),
            ],
        )
    }),
    ("a last line cut in the middle", |env| {
        env.write(
            "a.jsonl",
            format!("{}{}", good(2), r#"{"model":"gpt-4o","usage":{"prompt_tok"#),
        );
        Want::new(&["a.jsonl"], 2, &[("a.jsonl", 3, "malformed_json")])
    }),
    ("a byte-order mark, plain", |env| {
        env.write("a.jsonl", format!("{BOM}{}", good(2)));
        Want::new(&["a.jsonl"], 2, &[])
    }),
    ("a byte-order mark, gzip", |env| {
        env.write("a.jsonl.gz", gzip(format!("{BOM}{}", good(2)).as_bytes()));
        Want::new(&["a.jsonl.gz"], 2, &[])
    }),
    ("a byte-order mark, zstd", |env| {
        env.write("a.jsonl.zst", zstd(format!("{BOM}{}", good(2)).as_bytes()));
        Want::new(&["a.jsonl.zst"], 2, &[])
    }),
    ("a byte-order mark, JSON array", |env| {
        env.write("a.json", format!("{BOM}[{GOOD},\n{GOOD},\n{{\"oops\"}}]"));
        Want::new(&["a.json"], 2, &[("a.json", 3, "malformed_json")])
    }),
    ("a byte-order mark, CSV", |env| {
        env.write(
            "a.csv",
            format!("{BOM}model,feature,prompt_tokens,completion_tokens\ngpt-4o,f,1000,100\ngpt-4o,f,x,100\n"),
        );
        Want::new(&["a.csv"], 1, &[("a.csv", 3, "wrong_type")])
    }),
    ("a byte-order mark on stdin", |_| {
        Want::new(&["-"], 2, &[]).stdin(format!("{BOM}{}", good(2)))
    }),
    // One starting a line is a concatenated file's (or a later gzip
    // member's): dropped. Inside a line it breaks it.
    ("a byte-order mark that is not at the start", |env| {
        env.write("a.jsonl", format!("{GOOD}\n{BOM}{GOOD}\n {BOM}{GOOD}\n"));
        Want::new(&["a.jsonl"], 2, &[("a.jsonl", 3, "malformed_json")])
    }),
    (
        "UTF-16 text, little- and big-endian, with its byte-order mark",
        |env| {
            let utf16 = |text: &str, big_endian: bool| {
                let mut bytes = Vec::new();
                for u in format!("{BOM}{text}").encode_utf16() {
                    bytes.extend(if big_endian {
                        u.to_be_bytes()
                    } else {
                        u.to_le_bytes()
                    });
                }
                bytes
            };
            env.write("le.jsonl", utf16(&lines(&[GOOD, "not json", GOOD]), false));
            env.write("be.jsonl", utf16(&good(1), true));
            Want::new(
                &["le.jsonl", "be.jsonl"],
                3,
                &[("le.jsonl", 2, "malformed_json")],
            )
        },
    ),
    ("Latin-1 bytes in a label", |env| {
        let mut bytes = good(1).into_bytes();
        bytes.extend_from_slice(b"{\"model\":\"gpt-4o\",\"feature\":\"caf\xe9\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100}}\n");
        bytes.extend(good(2).into_bytes());
        env.write("a.jsonl", bytes);
        // Read with U+FFFD for the byte, and a note (hunt101: lost).
        Want::new(&["a.jsonl"], 4, &[("a.jsonl", 2, "field_ignored")])
    }),
    ("binary garbage", |env| {
        let mut bytes = good(1).into_bytes();
        // Every byte value but the newline, on one line.
        bytes.extend((0u8..=255).filter(|&b| b != b'\n'));
        bytes.push(b'\n');
        bytes.extend(good(1).into_bytes());
        env.write("a.jsonl", bytes);
        Want::new(&["a.jsonl"], 2, &[("a.jsonl", 2, "malformed_json")])
    }),
    ("CRLF line ends", |env| {
        env.write("a.jsonl", format!("{GOOD}\r\nnot json\r\n\r\n{GOOD}\r\n"));
        Want::new(&["a.jsonl"], 2, &[("a.jsonl", 2, "malformed_json")])
    }),
    (
        "CR-only line ends (classic Mac): one line that is not JSON",
        |env| {
            env.write("a.jsonl", format!("{GOOD}\n{GOOD}\r{GOOD}\r\n{GOOD}\n"));
            Want::new(&["a.jsonl"], 2, &[("a.jsonl", 2, "malformed_json")])
        },
    ),
    (
        "NUL bytes: a line of them, one inside a string, a zeroed tail",
        |env| {
            let mut bytes = lines(&[GOOD, "\0\0\0"]).into_bytes();
            bytes.extend_from_slice(b"{\"model\":\"gpt-4o\0\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n");
            bytes.extend(good(1).into_bytes());
            bytes.extend(vec![0u8; 4096]);
            env.write("a.jsonl", bytes);
            let a = "a.jsonl";
            Want::new(
                &[a],
                2,
                &[
                    (a, 2, "malformed_json"),
                    (a, 3, "malformed_json"),
                    (a, 5, "malformed_json"),
                ],
            )
        },
    ),
    ("a raw control character inside a string", |env| {
        let text = lines(&[GOOD, &GOOD.replace("\"f\"", "\"a\u{1f}b\""), GOOD]);
        env.write("a.jsonl", text);
        Want::new(&["a.jsonl"], 2, &[("a.jsonl", 2, "malformed_json")])
    }),
    ("a 1 MB label", |env| {
        let big = GOOD.replace("\"f\"", &format!("\"{}\"", "x".repeat(1 << 20)));
        env.write("a.jsonl", lines(&[GOOD, &big, GOOD]));
        Want::new(&["a.jsonl"], 3, &[])
    }),
    ("an object with 100,000 keys", |env| {
        let keys: String = (0..100_000).map(|i| format!("\"k{i}\":{i},")).collect();
        let wide = GOOD.replacen('{', &format!("{{{keys}"), 1);
        env.write("a.jsonl", lines(&[GOOD, &wide, GOOD]));
        Want::new(&["a.jsonl"], 3, &[])
    }),
    ("a JSON array cut off", |env| {
        env.write(
            "a.json",
            format!("[{GOOD},\n{GOOD},\n{{\"model\":\"gpt-4o\",\"usa"),
        );
        Want::new(&["a.json"], 2, &[("a.json", 3, "malformed_json")])
    }),
    ("a JSON array with a broken element", |env| {
        env.write("a.json", format!("[{GOOD}, {{\"model\": tru}}, 7, {GOOD}]"));
        Want::new(
            &["a.json"],
            2,
            &[
                ("a.json", 2, "malformed_json"),
                ("a.json", 3, "not_an_object"),
            ],
        )
    }),
    ("CSV with ragged rows and invalid UTF-8", |env| {
        let mut bytes = b"model,feature,prompt_tokens,completion_tokens\n".to_vec();
        bytes.extend_from_slice(b"gpt-4o,f,1000,100\n");
        bytes.extend_from_slice(b"gpt-4o,caf\xe9,1000,100\n");
        bytes.extend_from_slice(b"gpt-4o,f,1000,100,extra,cells\n");
        bytes.extend_from_slice(b"gpt-4o,f\n");
        env.write("a.csv", bytes);
        // A row of more cells or fewer than its header is no call
        // (hunt101: a short row's cells fell in the next columns, unsaid).
        Want::new(
            &["a.csv"],
            1,
            &[
                ("a.csv", 3, "malformed_csv"),
                ("a.csv", 4, "malformed_csv"),
                ("a.csv", 5, "malformed_csv"),
            ],
        )
    }),
    ("empty and blank files", |env| {
        env.write("empty.jsonl", "");
        env.write("blank.jsonl", "\n \r\n\t\n");
        env.write("good.jsonl", good(1));
        Want::new(&["empty.jsonl", "blank.jsonl", "good.jsonl"], 1, &[])
    }),
    ("empty stdin", |_| {
        Want::new(&["-"], 0, &[]).stdin(Vec::new())
    }),
    ("a symbolic link in a loop, named", |env| {
        symlink("loop.jsonl", &env.path("loop.jsonl"));
        env.write("good.jsonl", good(1));
        Want::new(
            &["loop.jsonl", "good.jsonl"],
            1,
            &[("loop.jsonl", 0, "unreadable_file")],
        )
    }),
    (
        "symbolic links in a walked folder: loops, dangling, to a file",
        |env| {
            env.write("logs/a.jsonl", good(1));
            env.write("elsewhere.jsonl", good(2));
            symlink(".", &env.path("logs/self"));
            symlink("..", &env.path("logs/up"));
            symlink("loop.jsonl", &env.path("logs/loop.jsonl"));
            symlink("nowhere.jsonl", &env.path("logs/gone.jsonl"));
            symlink("../elsewhere.jsonl", &env.path("logs/link.jsonl"));
            Want::new(
                &["logs"],
                3,
                &[
                    ("logs/gone.jsonl", 0, "unreadable_file"),
                    ("logs/loop.jsonl", 0, "unreadable_file"),
                ],
            )
        },
    ),
    ("a FIFO and a socket in a walked folder", |env| {
        env.write("logs/a.jsonl", good(1));
        mkfifo(&env.path("logs/fifo.jsonl"));
        let socket = std::os::unix::net::UnixListener::bind(env.path("logs/socket.jsonl"));
        std::mem::forget(socket.unwrap());
        Want::new(&["logs"], 1, &[])
    }),
    ("a tar archive of logs beside the logs (hunt101)", |env| {
        env.write("logs/a.jsonl", good(2));
        // A ustar header (its magic at byte 257, its checksum), then a
        // member's lines.
        let mut header = vec![0u8; 512];
        header[..7].copy_from_slice(b"a.jsonl");
        header[257..263].copy_from_slice(b"ustar\0");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let mut tar = String::from_utf8(header).unwrap();
        tar.push_str(&good(2));
        env.write_gz("logs/logs.tar.gz", &tar);
        Want::new(&["logs"], 2, &[("logs/logs.tar.gz", 0, "unreadable_file")])
    }),
    ("a CSV opening with Excel's sep= line (hunt101)", |env| {
        env.write(
            "a.csv",
            "sep=;\r\nmodel;feature;prompt_tokens;completion_tokens\r\ngpt-4o;f;1000;100\r\n",
        );
        Want::new(&["a.csv"], 1, &[])
    }),
    ("two CSV exports joined with cat (hunt101)", |env| {
        let csv = "model,feature,prompt_tokens,completion_tokens\ngpt-4o,f,1000,100\n";
        env.write("a.csv", format!("{csv}{csv}"));
        // Each with Excel's byte-order mark (hunt103).
        env.write("b.csv", format!("\u{feff}{csv}\u{feff}{csv}"));
        // Bytes 257–261 spelling "ustar" in a log are no tar (hunt103).
        let long = GOOD.replace("\"f\"", &format!("\"{}custard\"", "x".repeat(200)));
        let at = long.find("custard").unwrap() + 1;
        let pad = "y".repeat(257 - at);
        env.write(
            "c.jsonl",
            format!("{}\n", long.replacen("\"x", &format!("\"{pad}x"), 1)),
        );
        Want::new(&["a.csv", "b.csv", "c.jsonl"], 5, &[])
    }),
    ("a folder named like a log file", |env| {
        env.write("logs/x.jsonl/y.jsonl", good(2));
        Want::new(&["logs"], 2, &[])
    }),
];

#[test]
fn every_kind_of_bad_input_is_counted_and_every_good_line_kept() {
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|(kind, case)| check(*case).err().map(|e| format!("{kind}: {e}")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} kinds failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

// Kinds with a test of their own.

/// Runs the audit on `-` with `feed` writing stdin from a thread; fails
/// after `limit` rather than hang.
fn audit_stdin(env: &Env, limit: Duration, feed: impl FnOnce(&mut dyn Write) + Send + 'static) {
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("tokenaudit"))
        .current_dir(env.dir.path())
        .args(["audit", "-", "--out", "out", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || feed(&mut stdin));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the audit did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    writer.join().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{status}: {err}");
}

/// A 1 GiB line between good ones, streamed through stdin (never held in
/// memory here): rejected as over the 64 MiB line limit, in bounded memory
/// (the reader drops it as it comes), and its neighbours kept.
#[test]
fn a_one_gigabyte_line_is_rejected_and_the_lines_around_it_kept() {
    let env = Env::new();
    audit_stdin(&env, Duration::from_secs(300), |w| {
        let block = vec![b'x'; 1 << 20];
        w.write_all(format!("{GOOD}\n{GOOD}\n{{\"model\":\"gpt-4o\",\"pad\":\"").as_bytes())
            .unwrap();
        for _ in 0..1024 {
            w.write_all(&block).unwrap();
        }
        w.write_all(format!("\"}}\n{GOOD}\nnot json\n").as_bytes())
            .unwrap();
    });
    let r = env.report();
    assert_eq!(
        samples(&r),
        [
            ("<stdin>".to_string(), 3, "line_too_long".to_string()),
            ("<stdin>".to_string(), 5, "malformed_json".to_string()),
        ]
    );
    assert_eq!(r["audit"]["input"]["records"], 3);
    assert_eq!(r["audit"]["input"]["lines"], 5);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), good_cost(3));
}

/// A FIFO named as an input is read as it is written.
#[test]
fn a_fifo_named_as_input_is_read_while_written() {
    let env = Env::new();
    let fifo = env.path("pipe.jsonl");
    mkfifo(&fifo);
    let writer = std::thread::spawn(move || {
        // Opening blocks until the audit opens the other end.
        let mut w = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
        w.write_all(format!("{}not json\n{}", good(2), good(1)).as_bytes())
            .unwrap();
    });
    let out = env
        .cmd()
        .args(["audit", "pipe.jsonl", "--out", "out", "--quiet"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = env.report();
    assert_eq!(
        samples(&r),
        [("pipe.jsonl".to_string(), 3, "malformed_json".to_string())]
    );
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), good_cost(3));
}

/// A file without read permission is counted as unreadable, and the audit
/// goes on. Root reads it anyway (permissions do not bind root), so there
/// the file must simply be read.
#[test]
fn a_file_without_read_permission_is_counted_or_read_by_root() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let locked = env.write("logs/locked.jsonl", good(2));
    env.write("logs/open.jsonl", good(1));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let root = std::fs::read(&locked).is_ok();
    let r = env.audit(&["logs"]);
    if root {
        assert_eq!(r["audit"]["input"]["rejected"], 0);
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), good_cost(3));
    } else {
        assert_eq!(
            samples(&r),
            [(
                "logs/locked.jsonl".to_string(),
                0,
                "unreadable_file".to_string()
            )]
        );
        assert!(r["audit"]["input"]["rejected_samples"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("ermission denied"));
        assert_eq!(usd(&r["audit"]["totals"]["cost"]), good_cost(1));
    }
}

/// A folder of 100,000 one-line files is read in full, and not slowly: the
/// per-file overhead stays small.
#[test]
fn a_folder_of_a_hundred_thousand_tiny_files_is_read_in_full() {
    let env = Env::new();
    let dir = env.path("many");
    std::fs::create_dir(&dir).unwrap();
    let line = format!("{GOOD}\n");
    for i in 0..100_000 {
        std::fs::write(dir.join(format!("{i:06}.jsonl")), &line).unwrap();
    }
    std::fs::write(dir.join("bad.jsonl"), "not json\n").unwrap();
    let start = Instant::now();
    let out = env
        .cmd()
        .args([
            "audit", "many", "--out", "out", "--quiet", "--format", "json",
        ])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let r = env.report();
    assert_eq!(r["audit"]["input"]["records"], 100_000);
    assert_eq!(
        samples(&r),
        [(
            "many/bad.jsonl".to_string(),
            1,
            "malformed_json".to_string()
        )]
    );
    assert_eq!(files(&r).len(), 100_001);
    assert_eq!(usd(&r["audit"]["totals"]["cost"]), good_cost(100_000));
    eprintln!("100,001 files: {took:?}");
}

/// Control characters in labels come out intact (JSON, CSV) or visibly
/// escaped (Markdown, HTML), and U+001F, which joins the parts of a group's
/// key, never merges or splits groups.
#[test]
fn control_characters_in_labels_keep_groups_apart_in_every_format() {
    let env = Env::new();
    let call = |extra: &str| GOOD.replacen("\"feature\":\"f\"", extra, 1);
    let text = lines(&[
        // A feature and route that would make the same key as the next
        // line's if U+001F were not escaped in it.
        &call(r#""feature":"a\u001fb","route":"r""#),
        &call(r#""feature":"a","route":"b\u001fr""#),
        // A feature `a` with a team `b`.
        &call(r#""feature":"a","team":"b""#),
        &call(r#""feature":"bell\u0007 del\u007f c1\u0085 nul\u0000 esc\u001e""#),
    ]);
    env.write("a.jsonl", text);
    let r = env.audit(&["a.jsonl", "--format", "md,json,csv,html"]);
    let calls = |dim: &str, key: &str| row(&r, dim, key)["calls"].as_u64().unwrap();
    let weird = "bell\u{7} del\u{7f} c1\u{85} nul\u{0} esc\u{1e}";
    assert_eq!(calls("feature", "a\u{1f}b"), 1);
    assert_eq!(calls("feature", "a"), 2);
    assert_eq!(calls("feature", weird), 1);
    assert_eq!(calls("route", "r"), 1);
    assert_eq!(calls("route", "b\u{1f}r"), 1);
    assert_eq!(calls("route", "(none)"), 2);
    assert_eq!(calls("team", "b"), 1);
    assert_eq!(calls("team", "(none)"), 3);
    let features: Vec<&Value> = r["audit"]["feature_model"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(features.len(), 3, "{features:?}");
    let read = |name: &str| std::fs::read_to_string(env.path(&format!("out/{name}"))).unwrap();
    // CSV keeps them as they are (quoted only for commas, quotes,
    // newlines), but NUL, which stops some CSV readers, shown as ␀
    // (hunt141's bug3).
    let csv = read("audit-by-feature.csv");
    assert!(csv.contains("\na\u{1f}b,1,"), "{csv:?}");
    assert!(
        csv.contains(&format!("\n{},1,", weird.replace('\0', "\u{2400}"))),
        "{csv:?}"
    );
    assert!(!csv.contains('\0'));
    // Markdown and HTML show each as a visible character.
    let shown = "bell␇ del␡ c1\\u{85} nul␀ esc␞";
    for name in ["audit.md", "audit.html"] {
        let text = read(name);
        assert!(text.contains("a␟b"), "{name}");
        assert!(text.contains(shown), "{name}");
        assert!(!text.contains('\u{1f}'), "{name}");
    }
}

/// A folder inside a walked input that cannot be listed (no permission) is
/// one counted `unreadable_file`, named, and the rest is read; `--strict`
/// fails on it. As root (who may list any folder) the run drops to an
/// unprivileged user with `setpriv`.
#[test]
fn a_folder_that_cannot_be_listed_is_counted_and_the_rest_read() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.write("logs/a/ok.jsonl", good(1));
    env.write("logs/b/hidden.jsonl", good(2));
    let open = std::fs::Permissions::from_mode(0o777);
    for dir in ["", "logs", "logs/a"] {
        std::fs::set_permissions(env.path(dir), open.clone()).unwrap();
    }
    std::fs::set_permissions(env.path("logs/a/ok.jsonl"), open.clone()).unwrap();
    std::fs::set_permissions(env.path("logs/b"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let bin = env.cmd().get_program().to_owned();
    let run = |extra: &[&str]| {
        // Root owns this process's /proc entry.
        let root = std::fs::metadata("/proc/self").map(|m| {
            use std::os::unix::fs::MetadataExt;
            m.uid() == 0
        });
        let mut c = if root.unwrap_or(false) {
            let mut c = std::process::Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(&bin);
            c
        } else {
            std::process::Command::new(&bin)
        };
        c.current_dir(env.path(""))
            .args([
                "audit", "logs", "--out", "out", "--format", "json", "--quiet",
            ])
            .args(extra)
            .output()
            .unwrap_or_else(|e| missing_tool("setpriv", e, "apt-get install util-linux"))
    };
    let out = run(&[]);
    std::fs::set_permissions(env.path("logs/b"), open.clone()).unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let r = env.report();
    assert_eq!(r["audit"]["totals"]["calls"], 1);
    assert_eq!(
        r["audit"]["input"]["rejected_by_reason"]["unreadable_file"], 1,
        "{}",
        r["audit"]["input"]
    );
    let sample = &r["audit"]["input"]["rejected_samples"][0];
    assert_eq!(sample["file"], "logs/b", "{sample}");
    assert!(
        sample["detail"]
            .as_str()
            .unwrap()
            .contains("Permission denied"),
        "{sample}"
    );
    std::fs::set_permissions(env.path("logs/b"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let strict = run(&["--strict"]);
    std::fs::set_permissions(env.path("logs/b"), open).unwrap();
    assert_eq!(strict.status.code(), Some(2), "{}", stderr(&strict));
}

/// Inputs that cannot be opened are named on stderr with why (they were
/// only counted among the rejected lines, while a junk file was named).
#[test]
fn inputs_that_cannot_be_opened_are_named() {
    let env = Env::new();
    env.write("logs/a.jsonl", good(1));
    symlink("nowhere.jsonl", &env.path("logs/gone.jsonl"));
    symlink("loop.jsonl", &env.path("logs/loop.jsonl"));
    let out = env
        .cmd()
        .args(["audit", "logs", "--out", "out", "--quiet"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: could not read 2 inputs, counted as rejected: logs/gone.jsonl (cannot open: No such file or directory (os error 2)), logs/loop.jsonl (cannot open: "),
        "{err}"
    );
}

/// An OpenAI Batch output whose first line has NUL padding after its
/// record (a crash's): the NULs are left out, with a note, and the format
/// is told as for the others: 3 calls of gpt-4.1 at batch price, 3 ×
/// (1,000 × $2 + 100 × $8)/M × 0.5 = $0.0042 (the damaged line once made it
/// a gateway log at full price; then one reject, hunt101: a call lost).
#[test]
fn a_damaged_first_line_does_not_decide_the_format() {
    let env = Env::new();
    let line = |i: u32| {
        format!(
            r#"{{"id": "batch_req_{i}", "custom_id": "r{i}", "response": {{"status_code": 200, "request_id": "x{i}", "body": {{"id": "chatcmpl-{i}", "object": "chat.completion", "created": 1790000000, "model": "gpt-4.1-2025-04-14", "choices": [{{"index": 0, "message": {{"role": "assistant", "content": "hi"}}, "finish_reason": "stop"}}], "usage": {{"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}}}}}}, "error": null}}"#
        )
    };
    env.write(
        "batch_output.jsonl",
        format!("{}\0\0\0\0\n{}\n{}\n", line(0), line(1), line(2)),
    );
    let r = env.audit(&["batch_output.jsonl"]);
    let a = &r["audit"];
    assert_eq!(a["input"]["files"][0]["format"], "openai-batch");
    assert_eq!(a["totals"]["calls"], 3);
    assert_eq!(usd(&a["totals"]["cost"]), "0.0042");
    assert_eq!(
        samples(&r),
        [(
            "batch_output.jsonl".to_string(),
            1,
            "field_ignored".to_string()
        )]
    );
}

/// Bad places to write are said as what they are (hunt63: the OS's error
/// about a temporary file, "File exists (os error 17)", a folder named
/// `-`), and `findings --out -` is stdout; one finding meets --fail-on,
/// not "1 findings meet".
#[test]
fn bad_output_paths_are_said_plainly() {
    let env = Env::new();
    env.write(
        "calls.jsonl",
        "{\"timestamp\":\"2026-10-01T00:00:00Z\",\"model\":\"gpt-4o\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100}}\n\
         {\"timestamp\":\"2026-10-01T00:00:00Z\",\"model\":\"gpt-4o-mini\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100}}\n",
    );
    env.write(
        "litellm.json",
        r#"{"gpt-4o":{"input_cost_per_token":1e-06,"output_cost_per_token":2e-06,"litellm_provider":"openai","mode":"chat"}}"#,
    );
    env.write("notes.txt", "notes");
    let err = |args: &[&str]| {
        let out = env.cmd().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert_eq!(
        err(&[
            "prices",
            "import",
            "litellm",
            "litellm.json",
            "-o",
            "missing/dir/ours.json"
        ]),
        "error: cannot write missing/dir/ours.json: the folder missing/dir does not exist\n"
    );
    assert_eq!(
        err(&["audit", "calls.jsonl", "--out", "notes.txt", "--quiet"]),
        "error: cannot create output folder notes.txt: it is a file; give a folder for the reports\n"
    );
    assert!(err(&["audit", "calls.jsonl", "--out", "-", "--quiet"])
        .starts_with("error: --out -: the reports are files written into a folder"));
    assert!(!env.path("-").exists());
    let out = env
        .cmd()
        .args([
            "findings",
            "calls.jsonl",
            "--out",
            "-",
            "--fail-on",
            "info",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!env.path("-").exists());
    let records = String::from_utf8_lossy(&out.stdout);
    assert_eq!(records.lines().count(), 1, "{records}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("1 finding meets --fail-on info: TA101 "),
        "{stderr}"
    );
}

/// A file no reader recognises is named on the console with the keys it
/// has and the [mapping] that would read it (hunt84: "1 line rejected", no
/// file named, the hint only in the report); a mapping's timestamp_format
/// that the dates do not fit is said as such (it asked whether the file was
/// a log tokenaudit reads, and to set the format already set).
#[test]
fn files_without_calls_say_why_on_the_console() {
    let env = crate::util::Env::new();
    env.write(
        "app.jsonl",
        "{\"when\":\"2026-10-01T10:00:00Z\",\"llm\":\"gpt-4o\",\"tok_in\":10,\"tok_out\":2}\n"
            .repeat(3),
    );
    let out = env
        .cmd()
        .args(["audit", "app.jsonl", "--out", "out", "--quiet"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: app.jsonl: not read: none of the first 3 records has both a model and token usage")
            && err.contains("keys seen: llm, tok_in, tok_out, when")
            && err.contains("[mapping]"),
        "{err}"
    );
    env.write(
        "sheet.csv",
        "when,model,in,out\n10/01/2026 14:30,gpt-4o,10,2\n",
    );
    env.write(
        "map.toml",
        "[mapping]\ntimestamp = \"when\"\ntimestamp_format = \"%d-%m-%Y\"\nmodel = \"model\"\ninput_tokens = \"in\"\noutput_tokens = \"out\"\n",
    );
    let out = env
        .cmd()
        .args([
            "audit",
            "sheet.csv",
            "--config",
            "map.toml",
            "--out",
            "out2",
            "--quiet",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: sheet.csv: its one line is no call; line 2: bad_timestamp (timestamp: fits neither the [mapping]'s timestamp_format \"%d-%m-%Y\""),
        "{err}"
    );
}

/// A newcomer's slips said in words they can act on (hunt84): `[budget]`
/// for `[[budget]]`, and `sql` or `cluster` in a build without the
/// `cluster` feature.
#[test]
fn a_budget_table_and_the_cluster_commands_say_what_to_do() {
    let env = crate::util::Env::new();
    env.write("calls.jsonl", crate::inputs::good(1));
    env.write("cfg.toml", "[budget]\nfeature = \"chat\"\nmonthly = 10\n");
    let out = env
        .cmd()
        .args([
            "audit",
            "calls.jsonl",
            "--config",
            "cfg.toml",
            "--out",
            "out",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("write each as [[budget]] (two brackets)"),
        "{err}"
    );
    if cfg!(not(feature = "cluster")) {
        for cmd in [
            &["sql", "--store", "s", "SELECT 1"][..],
            &["cluster", "scheduler"],
        ] {
            let out = env.cmd().args(cmd).output().unwrap();
            assert_eq!(out.status.code(), Some(2));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("--features cluster"), "{err}");
        }
    }
}

/// An unread file's keys are said with those a mapping would name first
/// (tokens, usage, cost, model, time), 12 in all and how many more (hunt91:
/// Langfuse's trace export said its first 12 keys in alphabetical order,
/// which left out `totalCost` and `timestamp`).
#[test]
fn an_unread_files_telling_keys_are_said_first() {
    let env = crate::util::Env::new();
    env.write(
        "traces.jsonl",
        "{\"bookmarked\":false,\"createdAt\":\"x\",\"environment\":\"default\",\"htmlPath\":\"/p\",\"id\":\"t1\",\"input\":\"q\",\"latency\":1.5,\"metadata\":{},\"name\":\"chat\",\"observations\":[\"o1\"],\"output\":\"a\",\"projectId\":\"p\",\"public\":false,\"release\":null,\"scores\":[],\"sessionId\":\"s\",\"tags\":[],\"timestamp\":\"2026-10-01T10:00:00Z\",\"totalCost\":0.01,\"updatedAt\":\"x\",\"userId\":\"u\",\"version\":null}\n"
            .repeat(2),
    );
    let out = env
        .cmd()
        .args(["audit", "traces.jsonl", "--out", "out", "--quiet"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "keys seen: createdAt, timestamp, totalCost, bookmarked, environment, htmlPath, id, input, latency, metadata, name, observations and 10 more)"
        ),
        "{err}"
    );
}

/// hunt154: an Excel workbook in a folder was "not named like a log; name
/// it to read it", and named, "a zip archive (extract its logs)": both said
/// now as a workbook to save as CSV.
#[test]
fn a_spreadsheet_workbook_is_said_to_be_saved_as_csv() {
    let env = Env::new();
    env.write("exports/usage.xlsx", b"PK\x03\x04\x14\x00\x00\x00\x08\x00");
    env.write(
        "exports/calls.jsonl",
        r#"{"timestamp":"2026-10-01T10:00:00Z","model":"gpt-4o","usage":{"prompt_tokens":10,"completion_tokens":1}}"#.to_string() + "\n",
    );
    for (input, said) in [
        (
            "exports",
            "1 spreadsheet workbook in the input directories not read",
        ),
        (
            "exports/usage.xlsx",
            "a spreadsheet workbook: save it as CSV (UTF-8) and audit the .csv",
        ),
    ] {
        let out = env
            .cmd()
            .args(["audit", input, "--out", "out", "-q"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(said), "{input}: {err}");
        assert!(!err.contains("zip archive"), "{input}: {err}");
    }
}

/// hunt154: `--input-format csv` (or `litellm`) was "not a built-in
/// format" and no more: it says what is read without one.
#[test]
fn input_format_names_a_user_may_try_are_answered() {
    let env = Env::new();
    env.write("a.jsonl", "{}\n");
    for (name, said) in [
        ("csv", "CSV, Parquet and JSON are told from the file itself"),
        (
            "litellm",
            "LiteLLM's spend logs and OpenAI's and Anthropic's responses are read by `gateway`",
        ),
    ] {
        let out = env
            .cmd()
            .args(["audit", "a.jsonl", "--input-format", name, "--out", "o"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(said), "{name}: {err}");
    }
}
