//! A CSV file (named `.csv`) through the whole ingest pipeline: the CSV
//! container turns rows into JSON lines, numbered by their line in the
//! file. The first byte picks chunk and line limits and the format.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokenaudit_fuzz::csv(data));
