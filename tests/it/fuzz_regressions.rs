//! What the fuzz targets (`fuzz/`, run by `benches/fuzz.sh`) found, kept
//! fixed: every input they crashed or hung on is under
//! `tests/fixtures/fuzz/TARGET/` and replayed here through the target's own
//! check (the fuzz crate's `src/lib.rs`, compiled into this test), and each
//! finding has a test of its own with the figures it must give.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use tokenaudit_ingest::{ingest, IngestOptions, Location, RecordSink, RejectReason, Source};

use crate::inputs::{samples, stderr, GOOD};
use crate::util::Env;

#[allow(dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod fuzz_checks;

/// Longer than any replay takes on a loaded machine with a debug build.
const TIMEOUT: Duration = Duration::from_secs(120);

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz")
}

/// Runs `f` on another thread; a hang fails the test instead of blocking
/// the suite (the stuck thread ends with the test process).
fn within_timeout<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(TIMEOUT) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {TIMEOUT:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

#[test]
fn every_fuzz_finding_replays_cleanly() {
    let mut replayed = Vec::new();
    let mut targets: Vec<_> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    targets.sort();
    for dir in targets {
        let target = dir.file_name().unwrap().to_string_lossy().into_owned();
        let check: fn(&[u8]) = match target.as_str() {
            "file" => fuzz_checks::file,
            "csv" => fuzz_checks::csv,
            "parquet" => fuzz_checks::parquet,
            "prices" => fuzz_checks::prices,
            other => panic!("no replay for the fuzz target {other}"),
        };
        let mut inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        inputs.sort();
        for input in inputs {
            let name = format!("{target}/{}", input.file_name().unwrap().to_string_lossy());
            let data = std::fs::read(&input).unwrap();
            within_timeout(&name, move || check(&data));
            replayed.push(name);
        }
    }
    assert_eq!(
        replayed,
        [
            "file/over-long-line-ends-a-read",
            "parquet/definition-levels-out-of-bounds.parquet",
            "parquet/negative-column-offset.parquet",
            "parquet/page-header-skips-past-the-end.parquet",
            "prices/genai-output-rate-1.9e29",
        ]
    );
}

/// Counts records and keeps their locations.
#[derive(Default)]
struct Lines(Vec<Location>);

impl RecordSink for Lines {
    fn record(&mut self, _: &tokenaudit_core::CallRecord<'_>, at: Location) {
        self.0.push(at);
    }
}

/// A line over the limit whose newline is the last byte of a read left the
/// reader an empty buffer, from which it asked for zero bytes forever: with
/// 1 KiB reads and an 80-byte limit, a 2 KiB line. (With the defaults, 4 MiB
/// reads and a 64 MiB limit, a line past 64 MiB ending on a read boundary.)
#[test]
fn an_over_long_line_ending_a_read_is_skipped_and_the_next_line_kept() {
    let env = Env::new();
    let long = format!(r#"{{"model":"gpt-4o","pad":"{}"}}"#, "x".repeat(2048 - 28));
    assert_eq!(long.len() + 1, 2048);
    let path = env.write("long.jsonl", format!("{long}\n{GOOD}\n"));
    let options = IngestOptions {
        threads: 1,
        chunk_bytes: 1024,
        max_line_bytes: 80,
        ..IngestOptions::default()
    };
    let (sinks, summary) = within_timeout("ingest", move || {
        ingest(&[Source::File(path)], &options, Lines::default)
    });
    let records: Vec<u64> = sinks
        .iter()
        .flat_map(|s| s.0.iter().map(|at| summary.line(*at)))
        .collect();
    assert_eq!(records, [2]);
    let rejects: Vec<(u64, RejectReason)> = summary
        .rejects
        .samples()
        .iter()
        .map(|s| (s.line, s.reason))
        .collect();
    assert_eq!(rejects, [(1, RejectReason::LineTooLong)]);
    assert_eq!((summary.sources[0].lines, summary.lines), (2, 2));
}

/// Audits the Parquet fixture `name` (as `bad.parquet`) beside one good
/// line: the audit succeeds, keeps the good call, and the file is one
/// `unreadable_file` reject at line 0. Returns what the audit printed on
/// stdout and on stderr (with `RUST_BACKTRACE=1`), and the reject's detail.
fn audit_bad_parquet(name: &str) -> (String, String, String) {
    let env = Env::new();
    let bytes = std::fs::read(fixtures().join("parquet").join(name)).unwrap();
    env.write("bad.parquet", bytes);
    env.write("good.jsonl", format!("{GOOD}\n"));
    let out = env
        .cmd()
        .args(["audit", "bad.parquet", "good.jsonl", "--out", "out"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let r = env.report();
    let input = &r["audit"]["input"];
    assert_eq!(
        (&input["records"], &input["rejected"]),
        (&1.into(), &1.into())
    );
    assert_eq!(
        samples(&r),
        [("bad.parquet".to_string(), 0, "unreadable_file".to_string())]
    );
    let detail = input["rejected_samples"][0]["detail"].as_str().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    (said, stderr(&out), detail.to_string())
}

/// No panic, no backtrace on stderr: the file named, as an input not read.
fn named_not_panicked(err: &str) {
    assert!(
        !err.contains("thread '") && !err.contains("backtrace"),
        "{err}"
    );
    assert!(
        err.contains("could not read 1 input") && err.contains("bad.parquet"),
        "{err}"
    );
}

/// arrow-rs asserts that a column chunk's offset and size are not negative
/// when it comes to read it: the panic was caught, but printed on stderr
/// with its backtrace, and the file's reject did not say what was wrong.
#[test]
fn a_parquet_column_at_a_negative_offset_is_a_corrupt_footer_not_a_panic() {
    let (_, err, detail) = audit_bad_parquet("negative-column-offset.parquet");
    named_not_panicked(&err);
    assert!(
        detail.contains("corrupt parquet footer (row group 0, column 0: 27 bytes at offset -4)"),
        "{detail}"
    );
}

/// A page header (1.6 KB file) declaring a list of about 1.8 million
/// fields that lie past the end of the file: arrow-rs' Thrift reader skips
/// each with a read that finds nothing, and took it for done, 1.8 million
/// reads (1.5 s; a list may declare 2^31). The file's reader now says the
/// end of the file is an error, and the file is one reject at once.
#[test]
fn a_parquet_page_header_reaching_past_the_end_is_one_reject() {
    let (_, _, detail) = audit_bad_parquet("page-header-skips-past-the-end.parquet");
    assert!(
        detail.contains("row group 0 (Parquet argument error: External: a page reaches past the end of the file)"),
        "{detail}"
    );
}

/// arrow-rs asserts while decoding this file's definition levels ("offset +
/// len out of bounds"): the reader catches it and rejects the file, and the
/// CLI's panic hook stays quiet for the panics the reader catches, so the
/// reject is all a user sees (before, the default hook printed the panic
/// and its backtrace on stderr, as for a crash).
#[test]
fn a_parquet_decoder_panic_is_one_reject_and_nothing_on_stderr() {
    let (said, err, detail) = audit_bad_parquet("definition-levels-out-of-bounds.parquet");
    named_not_panicked(&err);
    assert!(said.contains("1 line rejected"), "{said}");
    assert!(
        detail.contains(
            "row group 0 (Parquet argument error: the page decoder panicked on malformed data)"
        ),
        "{detail}"
    );
}
