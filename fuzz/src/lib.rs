//! What the fuzz targets share: reading fuzzed bytes the ways tokenaudit
//! reads a log, and the invariants every read must keep beyond "no panic".

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use tokenaudit_core::pricing::{import_genai_prices, import_litellm, Catalog};
use tokenaudit_core::{CallRecord, Usage};
use tokenaudit_ingest::formats::REGISTRY;
use tokenaudit_ingest::rejects::Reject;
use tokenaudit_ingest::{ingest, Format, IngestOptions, Location, RecordSink, Source};

/// The lines of `data` as the pipeline cuts them (on `\n`, a trailing `\r`
/// left to the readers, blank lines skipped).
pub fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|&b| b == b'\n')
        .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
}

/// What every record a reader gives must hold: a model, and usage in the
/// one convention (cached and cache-write tokens part of input, reasoning
/// part of output).
pub fn check_record(record: &CallRecord<'_>) {
    assert!(!record.model.trim().is_empty(), "a record without a model");
    assert_eq!(record.usage.check(), Ok(()), "usage out of convention");
}

/// Reads one line with `format` both ways the pipeline may (as text when its
/// chunk is UTF-8, as bytes otherwise): both must give the same results.
pub fn read_line(format: &Format, line: &[u8]) {
    let read = |text: Option<&str>| {
        let mut out = Vec::new();
        format.read_line(text, line, |r| {
            if let Ok(record) = &r {
                check_record(record);
            }
            out.push(show(&r));
        });
        out
    };
    let raw = read(None);
    if let Ok(text) = std::str::from_utf8(line) {
        assert_eq!(read(Some(text)), raw, "text and bytes read differently");
    }
}

/// A result as the differential checks compare them.
pub fn show(r: &Result<CallRecord<'_>, Reject>) -> String {
    format!("{r:?}")
}

/// A built-in format by a fuzzed byte (its place in the registry), or
/// `None` (detect it).
pub fn builtin(selector: u8) -> Option<Format> {
    let i = usize::from(selector) % (REGISTRY.len() + 1);
    REGISTRY.get(i).map(|b| b.format.clone())
}

/// Counts what the pipeline hands over and checks each record.
#[derive(Default)]
struct Sink {
    locations: Vec<Location>,
}

impl RecordSink for Sink {
    fn record(&mut self, record: &CallRecord<'_>, at: Location) {
        check_record(record);
        self.locations.push(at);
    }
}

/// The shape of one pipeline run, from a fuzzed byte.
#[derive(Clone, Debug)]
pub struct Run {
    /// The file's name ends so (`.csv` makes it CSV; the rest are sniffed).
    pub suffix: &'static str,
    /// Tiny chunks, so lines and records straddle chunk boundaries.
    pub small_chunks: bool,
    /// A tiny longest line, so over-long lines are skipped and counted.
    pub short_lines: bool,
    /// `--input-format`, or `None` to detect the format.
    pub format: Option<Format>,
}

impl Run {
    pub fn from_byte(b: u8, suffixes: &[&'static str]) -> Run {
        Run {
            suffix: suffixes[usize::from(b & 3) % suffixes.len()],
            small_chunks: b & 4 != 0,
            short_lines: b & 8 != 0,
            format: builtin(b >> 4),
        }
    }
}

/// A file per process and thread, rewritten for every input (the pipeline
/// reads files).
fn scratch(suffix: &str) -> PathBuf {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let thread = format!("{:?}", std::thread::current().id());
    let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
    dir.join(format!(
        "tokenaudit-fuzz-{}-{thread}{suffix}",
        std::process::id()
    ))
}

/// Writes `data` to a file and audits it through the whole ingest pipeline
/// (sniffing, decompression, containers, chunking, detection, readers,
/// line numbering), then checks the accounting: every record and reject is
/// counted once, against its file, with a resolved line number.
pub fn ingest_file(data: &[u8], run: Run) {
    let path = scratch(run.suffix);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(data))
        .expect("the scratch file can be written");
    let options = IngestOptions {
        threads: 1,
        chunk_bytes: if run.small_chunks { 64 } else { 4 << 20 },
        max_line_bytes: if run.short_lines { 80 } else { 64 << 20 },
        input_format: run.format.clone(),
        ..IngestOptions::default()
    };
    let (sinks, summary) = ingest(&[Source::File(path.clone())], &options, Sink::default);
    let _ = std::fs::remove_file(&path);
    let source = &summary.sources[0];
    let records: u64 = sinks.iter().map(|s| s.locations.len() as u64).sum();
    assert_eq!(records, source.records, "records handed over: {source:?}");
    assert_eq!(summary.records, source.records, "{summary:?}");
    assert_eq!(summary.lines, source.lines, "{summary:?}");
    let rejects = &summary.rejects;
    assert_eq!(rejects.total(), source.rejected, "{summary:?}");
    assert_eq!(rejects.skipped(), source.skipped, "{summary:?}");
    // Each line, row or element takes at least one byte of the file (of
    // the decoded text, for compressed files: only bounded when plain).
    let bound = (source.encoding == "plain").then_some(data.len() as u64 + 1);
    let in_file = |line: u64, what: &str| {
        assert!(line >= 1, "{what} without a line number: {summary:?}");
        if let Some(bound) = bound {
            assert!(line <= bound, "{what} on line {line}: {summary:?}");
        }
    };
    for sink in &sinks {
        for at in &sink.locations {
            in_file(summary.line(*at), "a record");
        }
    }
    for sample in rejects.samples() {
        if !sample.reason.is_file_level() {
            in_file(sample.line, "a reject");
        }
    }
}

/// A format, given by the input's first byte, and the rest of the input.
pub fn format_and_rest(data: &[u8]) -> Option<(Option<Format>, &[u8])> {
    let (&first, rest) = data.split_first()?;
    Some((builtin(first), rest))
}

/// A user mapping compiled from TOML, as `--config`'s `[mapping]` table.
pub fn mapping(toml_text: &str) -> Option<Arc<tokenaudit_ingest::mapping::Mapping>> {
    #[derive(serde::Deserialize)]
    struct Wrap {
        mapping: tokenaudit_ingest::mapping::MappingConfig,
    }
    let w: Wrap = toml::from_str(toml_text).ok()?;
    tokenaudit_ingest::mapping::Mapping::new(w.mapping)
        .ok()
        .map(Arc::new)
}

/// The `file` target: the first byte picks the suffix (not `.csv`), chunk
/// and line limits and the format (see [`Run`]), the rest is the file.
pub fn file(data: &[u8]) {
    if let Some((&first, rest)) = data.split_first() {
        ingest_file(rest, Run::from_byte(first, &[".jsonl", ".json", ".log"]));
    }
}

/// The `csv` target: as [`file`], the file named `.csv`.
pub fn csv(data: &[u8]) {
    if let Some((&first, rest)) = data.split_first() {
        ingest_file(rest, Run::from_byte(first, &[".csv"]));
    }
}

/// The `parquet` target: the file named `.parquet`, its format detected.
pub fn parquet(data: &[u8]) {
    let run = Run {
        suffix: ".parquet",
        small_chunks: false,
        short_lines: false,
        format: None,
    };
    ingest_file(data, run);
}

/// The `prices` target: the first byte picks our catalog (0 mod 3),
/// LiteLLM's (1) or genai-prices' (2), the rest is the JSON.
pub fn prices(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let catalog = match first % 3 {
        0 => Catalog::from_json_str(text).ok(),
        1 => import_litellm(text).ok().map(|(c, _)| c),
        _ => import_genai_prices(text).ok().map(|(c, _)| c),
    };
    let Some(catalog) = catalog else {
        return;
    };
    let written = catalog.to_json_string();
    let read = Catalog::from_json_str(&written)
        .unwrap_or_else(|e| panic!("a catalog we wrote does not read back: {e}\n{written}"));
    assert_eq!(
        read.to_json_string(),
        written,
        "the catalog changed on a round trip"
    );

    // Any token count: rates are capped so that no price overflows.
    let most = Usage {
        input: u64::MAX,
        cached_read: u64::MAX / 4,
        cache_write: u64::MAX / 4,
        cache_write_1h: u64::MAX / 8,
        output: u64::MAX,
        reasoning: u64::MAX / 2,
        input_audio: u64::MAX / 2,
        cached_audio: u64::MAX / 8,
        output_audio: u64::MAX / 4,
        web_searches: u64::MAX,
    };
    for (id, model) in catalog.models() {
        let _ = catalog.resolve(Some(&model.provider), &model.id);
        for batch in [false, true] {
            catalog.price(id, None, &most, batch).cost.total();
            catalog.price_base(id, None, &most, batch).cost.total();
        }
    }
    let mut overlaid = builtin_catalog().clone();
    overlaid.overlay(catalog);
}

fn builtin_catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(Catalog::builtin)
}
