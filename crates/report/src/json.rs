//! The JSON report: the whole audit under a versioned envelope.
//!
//! Schema `tokenaudit.audit/1`. Key order is fixed (struct order), money is an
//! exact decimal string of US dollars (`"12.345678901234"`), token counts are
//! integers, dates are `YYYY-MM-DD` and instants RFC 3339 UTC. Additive
//! changes keep the version; renaming or removing a key bumps it.
//! `docs/report-json.md` documents every key.

use serde::Serialize;

use tokenaudit_analyze::Audit;

use crate::RunInfo;

pub const SCHEMA: &str = "tokenaudit.audit/1";

#[derive(Serialize)]
struct Envelope<'a> {
    schema: &'static str,
    tool_version: &'a str,
    inputs: &'a [String],
    audit: &'a Audit,
}

pub fn render(audit: &Audit, info: &RunInfo) -> String {
    let env = Envelope {
        schema: SCHEMA,
        tool_version: &info.tool_version,
        inputs: &info.inputs,
        audit,
    };
    let mut s = serde_json::to_string_pretty(&env).expect("the audit serializes");
    s.push('\n');
    s
}
