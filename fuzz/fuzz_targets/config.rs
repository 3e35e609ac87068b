//! The config file (`--config`, TOML) as the CLI reads it: its tables,
//! then the attribution, the detector settings with each rule's typed
//! options, the budgets and the mapping compiled from it. Errors are
//! fine; panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The CLI's own module (the binary has no library to link against).
#[allow(dead_code)]
#[path = "../../crates/cli/config.rs"]
mod config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = toml::from_str::<config::Config>(text) else {
        return;
    };
    let _ = config.feature_from(None);
    let _ = config.detect_config(None);
    let _ = config.budgets(None);
    if let Some(m) = config.mapping {
        let _ = tokenaudit_ingest::mapping::Mapping::new(m);
    }
});
