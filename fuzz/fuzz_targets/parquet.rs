//! A Parquet file through the whole ingest pipeline, format detected
//! (arrow-rs' reader, the column plan and its row groups, or rows as JSON
//! lines for the line readers). Most fuzzed files are not valid Parquet:
//! each must be one counted file-level reject, never a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// arrow-rs' page decoders panic on some malformed pages; the reader
/// catches that (`RowGroupReader`) and rejects the file. libFuzzer's hook
/// would abort on the caught panic, so panics raised inside arrow-rs are let
/// unwind to that catch; one nobody catches still aborts, as it unwinds out
/// of the fuzzer's entry point.
fn let_arrow_panics_unwind() {
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let file = info.location().map_or("", |l| l.file());
        if !(file.contains("/parquet-") || file.contains("/arrow-")) {
            abort(info);
        }
    }));
}

fuzz_target!(init: let_arrow_panics_unwind(), |data: &[u8]| tokenaudit_fuzz::parquet(data));
