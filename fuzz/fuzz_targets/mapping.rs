//! A user `[mapping]` compiled from fuzzed TOML, then run on fuzzed lines
//! (TOML, a NUL byte, then the lines): the compiled paths, read in the
//! gateway scanner's pass, must give exactly what the reference (a JSON
//! tree of the mapped keys) gives, line after line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenaudit_fuzz::{check_record, lines, mapping, read_line, show};
use tokenaudit_ingest::Format;

fuzz_target!(|data: &[u8]| {
    let Some(nul) = data.iter().position(|&b| b == 0) else {
        return;
    };
    let Ok(toml_text) = std::str::from_utf8(&data[..nul]) else {
        return;
    };
    let Some(m) = mapping(toml_text) else {
        return;
    };
    let body = &data[nul + 1..];
    for line in lines(body) {
        if let Ok(text) = std::str::from_utf8(line) {
            let want = m.parse_line_str_tree(text);
            if let Ok(record) = &want {
                check_record(record);
            }
            assert_eq!(show(&m.parse_line_str(text)), show(&want), "{text}");
        }
    }
    let format = Format::Mapped(m);
    for line in lines(body) {
        read_line(&format, line);
    }
});
