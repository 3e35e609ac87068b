//! Price files: a `--prices` catalog (the first byte 0 mod 3), LiteLLM's
//! (1) or genai-prices' (2) catalog through their importers. A catalog we
//! read or import must write out and read back unchanged, overlay the
//! built-in catalog, and resolve and price a call of each of its models,
//! of any token count, without overflow.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tokenaudit_fuzz::prices(data));
