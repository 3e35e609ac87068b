//! A Parquet file through the whole ingest pipeline, format detected
//! (arrow-rs' reader, the column plan and its row groups, or rows as JSON
//! lines for the line readers). Most fuzzed files are not valid Parquet:
//! each must be one counted file-level reject, never a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// arrow-rs' page decoders panic on some malformed pages; the reader
/// catches that (`RowGroupReader`) and rejects the file. libFuzzer's hook
/// would abort on the caught panic, so the panics the reader catches are
/// let unwind to that catch, as the CLI's hook lets them (quietly); any
/// other panic still aborts.
fn let_caught_panics_unwind() {
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !tokenaudit_ingest::parquet::panic_is_caught() {
            abort(info);
        }
    }));
}

fuzz_target!(init: let_caught_panics_unwind(), |data: &[u8]| tokenaudit_fuzz::parquet(data));
