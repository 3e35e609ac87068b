//! Log lines read by every built-in format (the first byte picks one, or
//! detection), each line both as text and as bytes; for the readers with a
//! scanner, the scanner's reading must equal its serde reference's whenever
//! the scanner accepts a line, whatever lines came before (key prediction);
//! and each line's MinHash signature must be the reference one's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenaudit_fuzz::{check_record, format_and_rest, lines, read_line};
use tokenaudit_ingest::formats::{codex, detect, gateway, otel, provider};
use tokenaudit_ingest::Format;

fuzz_target!(|data: &[u8]| {
    let Some((format, rest)) = format_and_rest(data) else {
        return;
    };
    let format = match format {
        Some(f) => f,
        None => match detect(rest, None) {
            Ok(f) => f,
            Err(_) => return,
        },
    };
    let mut codex = codex::State::default();
    for line in lines(rest) {
        read_line(&format, line);
        if let Ok(record) = codex.parse_line(line) {
            check_record(&record);
        }
        let Ok(text) = std::str::from_utf8(line) else {
            continue;
        };
        gateway::agree(text);
        tokenaudit_ingest::fields::minhash_agree(text);
        match format {
            Format::Spec(spec) => {
                spec.agree(text);
            }
            Format::OtlpJson => {
                otel::agree(text);
            }
            Format::AnthropicBatch => {
                provider::agree(text);
            }
            _ => {}
        }
    }
});
