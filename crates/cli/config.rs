//! The config file (`--config FILE`, TOML). Each table belongs to one stage;
//! unknown keys are errors that name the key, so a typo never silently does
//! nothing.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use tokenaudit_ingest::mapping::MappingConfig;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Field mapping for logs in a shape of your own (see `tokenaudit formats`).
    pub mapping: Option<MappingConfig>,
}

pub fn load(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "config file {}: {}",
            path.display(),
            e.to_string().trim_end()
        )
    })
}
