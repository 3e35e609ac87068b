//! Choosing a reader per file.
//!
//! This is the seam where log formats plug in: each [`Format`] turns one line
//! into a call record. Detection looks at the first lines of a file; a file
//! whose shape is not recognised is reported with the reason, never guessed.
//! New built-in formats add a variant here, a detection rule in [`detect`],
//! and a module with their reader.

use std::sync::Arc;

use tokenaudit_core::CallRecord;

use crate::gateway;
use crate::mapping::Mapping;
use crate::rejects::{Reject, RejectReason};

/// How to read the lines of one file.
#[derive(Clone, Debug)]
pub enum Format {
    /// The generic gateway shape (see [`crate::gateway`]).
    Gateway,
    /// The gateway reader with a user mapping on top.
    Mapped(Arc<Mapping>),
}

impl Format {
    pub fn name(&self) -> &'static str {
        match self {
            Format::Gateway => "gateway",
            Format::Mapped(_) => "mapped",
        }
    }

    pub fn parse_line<'a>(&self, line: &'a [u8]) -> Result<CallRecord<'a>, Reject> {
        match self {
            Format::Gateway => gateway::parse_line(line),
            Format::Mapped(m) => m.parse_line(line),
        }
    }

    /// The same for a line already validated as UTF-8 (the fast path).
    pub fn parse_line_str<'a>(&self, line: &'a str) -> Result<CallRecord<'a>, Reject> {
        match self {
            Format::Gateway => gateway::parse_line_str(line),
            Format::Mapped(m) => m.parse_line(line.as_bytes()),
        }
    }
}

/// How many non-blank lines detection looks at.
const SAMPLE_LINES: usize = 50;

/// Picks the format for a file from its first lines.
///
/// With a mapping, the mapping is used. Otherwise the gateway reader is used
/// if any sampled line yields a record, or if no sampled line is a JSON object
/// at all (then each line is rejected and counted as malformed). A file whose
/// lines are JSON objects but none has a model and usage is unrecognised: the
/// error names the keys seen so the user can write a mapping.
pub fn detect(head: &[u8], mapping: Option<&Arc<Mapping>>) -> Result<Format, String> {
    if let Some(m) = mapping {
        return Ok(Format::Mapped(m.clone()));
    }
    let mut objects = 0;
    let mut first_keys: Option<Vec<String>> = None;
    for line in head
        .split(|&b| b == b'\n')
        .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
        .take(SAMPLE_LINES)
    {
        match gateway::parse_line(line) {
            Ok(_) => return Ok(Format::Gateway),
            Err(Reject { reason, .. }) => {
                if matches!(
                    reason,
                    RejectReason::MalformedJson | RejectReason::NotAnObject
                ) {
                    continue;
                }
                objects += 1;
                // Rejections for bad values mean the shape was recognised.
                if !matches!(
                    reason,
                    RejectReason::MissingModel | RejectReason::MissingUsage
                ) {
                    return Ok(Format::Gateway);
                }
                if first_keys.is_none() {
                    if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice(line) {
                        first_keys = Some(m.keys().take(12).cloned().collect());
                    }
                }
            }
        }
    }
    if objects == 0 {
        return Ok(Format::Gateway);
    }
    Err(format!(
        "no line has both a model and token usage in a shape tokenaudit knows (keys seen: {}); \
         describe the fields in a [mapping] table of --config (see `tokenaudit formats`)",
        first_keys.unwrap_or_default().join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_gateway_and_refuses_to_guess() {
        let gw =
            b"{\"model\":\"gpt-4o\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n";
        assert!(matches!(detect(gw, None), Ok(Format::Gateway)));
        let garbage = b"\x00\x01\x02\nnot json\n";
        assert!(matches!(detect(garbage, None), Ok(Format::Gateway)));
        let trace = b"{\"timestamp\": 0, \"input_length\": 6758, \"output_length\": 500}\n";
        let err = detect(trace, None).unwrap_err();
        assert!(err.contains("input_length"), "{err}");
    }
}
