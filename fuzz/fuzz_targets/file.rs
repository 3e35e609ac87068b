//! A log file through the whole ingest pipeline: sniffing (plain, gzip,
//! zstd, Parquet), containers (JSON arrays, multi-line documents, UTF-16),
//! chunking, detection or `--input-format`, the readers and line numbering.
//! The first byte picks the name's suffix, chunk and line limits and the
//! format (see `Run`); every record and reject must be counted once, with
//! its line.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokenaudit_fuzz::file(data));
