//! The JSON report: the whole audit under a versioned envelope.
//!
//! Schema `tokenaudit.audit/1`. Key order is fixed (struct order), money is an
//! exact decimal string of US dollars (`"12.345678901234"`), token counts are
//! integers, dates are `YYYY-MM-DD` and instants RFC 3339 UTC. Additive
//! changes keep the version; renaming or removing a key bumps it.
//! `docs/report-json.md` documents every key; its JSON Schema
//! (`docs/report-json.schema.json`) is [`schema`], derived from the same
//! types that serialize the report, so the two cannot drift.

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde::Serialize;

use tokenaudit_analyze::Audit;

use crate::RunInfo;

pub const SCHEMA: &str = "tokenaudit.audit/1";

/// The report.
#[derive(Serialize, JsonSchema)]
#[schemars(
    deny_unknown_fields,
    title = "tokenaudit audit report (audit.json)",
    description = "Schema tokenaudit.audit/1, derived from the types that write the report; docs/report-json.md explains every key. New keys may be added within /1; renaming or removing one bumps the version.",
    extend("$id" = SCHEMA)
)]
struct Envelope<'a> {
    /// The schema's name and version.
    #[schemars(extend("const" = SCHEMA))]
    schema: &'static str,
    /// tokenaudit's version.
    tool_version: &'a str,
    /// The inputs as given on the command line.
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

/// The JSON Schema (Draft 2020-12) of [`render`]'s output, as the text of
/// `docs/report-json.schema.json`: derived from the serialized types, for
/// what they serialize (a key left out when empty is not required).
pub fn schema() -> String {
    let generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let schema = generator.into_root_schema_for::<Envelope>();
    let mut s = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    s.push('\n');
    s
}
