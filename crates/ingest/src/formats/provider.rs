//! Provider batch outputs: the result files of OpenAI's Batch API, of
//! Anthropic's Message Batches API, of Gemini's and Vertex AI's batch
//! predictions and of Amazon Bedrock's batch inference, read as the
//! providers write them.
//!
//! Both wrap an ordinary response (an OpenAI chat completion or Responses
//! object, an Anthropic message), which the gateway reader already knows how
//! to read; what they add is that every call in them is billed at the batch
//! rate, and that some lines are requests the provider never ran (expired,
//! cancelled, refused), which carry no model and no tokens and are not
//! billed. Those lines are skipped under [`RejectReason::NotBilled`] rather
//! than as broken lines.
//!
//! - OpenAI: `{id, custom_id, response: {status_code, request_id, body},
//!   error: {code, message}}`; the body's `usage` is read by the gateway
//!   reader (chat or Responses convention).
//! - Anthropic: `{custom_id, result: {type: succeeded|errored|canceled|expired,
//!   message?}}`; the message is read by the gateway reader (Anthropic
//!   convention: input excludes the cache).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use tokenaudit_core::{CallRecord, CallStatus};

use crate::formats::gateway;
use crate::formats::{Builtin, Detect, Format, JsonObject};
use crate::json::scan::{Bail, Scan, Scanner};
use crate::json::scan_value::once;
use crate::record::fields::{LBool, LStr, Lenient, Scalar};
use crate::record::staging::RawLine;
use crate::rejects::{Reject, RejectReason};

/// Reads one line of an OpenAI Batch API output file.
pub fn parse_openai_batch(line: &[u8]) -> Result<CallRecord<'_>, Reject> {
    openai_batch_record(gateway::parse_raw(line)?)
}

/// The same for a line already validated as UTF-8.
pub fn parse_openai_batch_str(line: &str) -> Result<CallRecord<'_>, Reject> {
    openai_batch_record(gateway::parse_raw_str(line)?)
}

fn openai_batch_record(mut raw: RawLine<'_>) -> Result<CallRecord<'_>, Reject> {
    if !raw.names_a_model() {
        // A request that did not run (`error.code` such as `batch_expired`)
        // or that the API refused (`status_code` 4xx/5xx, an error body):
        // neither has a model or usage, and neither is billed.
        let refused = match &raw.http_status.0 {
            Lenient::Value(code) => {
                u16::try_from(*code).map_or(true, |c| CallStatus::from_http(c) != CallStatus::Ok)
            }
            _ => false,
        };
        if raw.error_kind.0.is_present() || refused {
            return Err(Reject::new(
                RejectReason::NotBilled,
                "openai batch request that did not run (error, or a non-2xx response.status_code)",
            ));
        }
    }
    raw.batch = LBool(Lenient::Value(true));
    raw.into_record()
}

#[derive(Deserialize)]
struct AnthropicLine<'a> {
    #[serde(borrow, default)]
    result: Option<AnthropicResult<'a>>,
}

#[derive(Deserialize)]
struct AnthropicResult<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<&'a RawValue>,
}

/// Reads one line of an Anthropic Message Batches results file.
pub fn parse_anthropic_batch(line: &[u8]) -> Result<CallRecord<'_>, Reject> {
    match std::str::from_utf8(line) {
        Ok(text) => parse_anthropic_batch_str(text),
        Err(_) => Err(Reject::new(RejectReason::MalformedJson, "invalid UTF-8")),
    }
}

/// The same for a line already validated as UTF-8: the envelope is read
/// with the scanner (or, when it bails, with serde_json, which then decides
/// and words the result), and the message by the gateway reader.
pub fn parse_anthropic_batch_str(line: &str) -> Result<CallRecord<'_>, Reject> {
    if line.trim_start().as_bytes().first() != Some(&b'{') {
        // Let the gateway reader word the error (malformed or not an object).
        return gateway::parse_raw_str(line).and_then(|_| {
            Err(Reject::new(
                RejectReason::NotAnObject,
                "line is JSON but not an object",
            ))
        });
    }
    match scan_anthropic(line) {
        Ok(result) => result,
        Err(Bail) => anthropic_batch_serde(line),
    }
}

/// The fast path. The message is read once, by the gateway reader: the
/// envelope's scan takes it as the text up to the line's last two braces
/// without checking it ([`scan_anthropic_line`]), and a JSON object's extent
/// is fixed by its start, so the gateway reader accepting that text as an
/// object (or, for a record that does not read the message, the scanner
/// stepping over exactly that text) proves it is the whole message. Any
/// other outcome bails, and serde_json reads the line.
fn scan_anthropic(line: &str) -> Scan<Result<CallRecord<'_>, Reject>> {
    let (parts, guessed) = match scan_anthropic_plain(line) {
        Some(envelope) => envelope,
        None => scan_anthropic_line(line)?,
    };
    if let (Some((kind, Some(message))), true) = (&parts, guessed) {
        if reads_message(kind.as_deref()) {
            // An error here may mean the text was not the message.
            let mut raw = gateway::parse_raw_str(message).map_err(|_| Bail)?;
            raw.batch = LBool(Lenient::Value(true));
            return Ok(raw.into_record());
        }
        let mut m = Scanner::new(message);
        m.skip_value()?;
        if !m.at_end() {
            return Err(Bail);
        }
    }
    Ok(anthropic_record(parts))
}

/// Where a message starting at `start` ends if it is the last value of
/// `result` and `result` the last of the line: before the line's last two
/// closing braces (and the whitespace around them).
fn message_by_extent(line: &str, start: usize) -> Option<usize> {
    let b = line.as_bytes();
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r');
    let mut end = b.len();
    for _ in 0..2 {
        while end > start && ws(b[end - 1]) {
            end -= 1;
        }
        if end <= start || b[end - 1] != b'}' {
            return None;
        }
        end -= 1;
    }
    while end > start && ws(b[end - 1]) {
        end -= 1;
    }
    (end > start).then_some(end)
}

/// Whether a result of this `type` is read from its message.
fn reads_message(kind: Option<&str>) -> bool {
    matches!(kind, Some("succeeded") | None)
}

/// The serde_json path: the reference the scanner path must agree with.
fn anthropic_batch_serde(line: &str) -> Result<CallRecord<'_>, Reject> {
    let parsed: AnthropicLine<'_> = serde_json::from_str(line).map_err(|e| {
        Reject::new(
            RejectReason::MalformedJson,
            format!("invalid JSON at column {}", e.column()),
        )
    })?;
    anthropic_record(
        parsed
            .result
            .map(|r| (r.kind, r.message.map(RawValue::get))),
    )
}

/// `result` read from the line: its `type` and the raw JSON of its `message`.
type AnthropicResultParts<'a> = Option<(Option<Cow<'a, str>>, Option<&'a str>)>;

/// The record (or reject) of a results line; both paths end here.
fn anthropic_record(result: AnthropicResultParts<'_>) -> Result<CallRecord<'_>, Reject> {
    let Some((kind, message)) = result else {
        return Err(Reject::new(RejectReason::MissingModel, "no result object"));
    };
    match (kind.as_deref(), message) {
        (k, Some(message)) if reads_message(k) => {
            let mut raw = gateway::parse_raw_str(message)?;
            raw.batch = LBool(Lenient::Value(true));
            raw.into_record()
        }
        (Some(kind @ ("errored" | "canceled" | "expired")), _) => Err(Reject::new(
            RejectReason::NotBilled,
            format!("anthropic batch result.type {kind}: the request did not run"),
        )),
        _ => Err(Reject::new(
            RejectReason::MissingModel,
            "result has no message (result.type is not succeeded)",
        )),
    }
}

/// The envelope as results files write it, read as literal bytes instead of
/// keys: `{"custom_id":"…","result":{"type":"succeeded","message":{…}}}`
/// with no whitespace before the message and a `custom_id` with no escape
/// (a string [`Scanner::plain_string`] takes is valid JSON as it stands).
/// The message is taken by extent, as [`scan_anthropic_line`] takes it, and
/// proven the same way by [`scan_anthropic`]. `None` for anything else,
/// which [`scan_anthropic_line`] then reads key by key.
#[inline]
fn scan_anthropic_plain(line: &str) -> Option<(AnthropicResultParts<'_>, bool)> {
    let mut s = Scanner::new(line);
    s.eat(b"{\"custom_id\":")?;
    s.plain_string()?;
    s.eat(b",\"result\":{\"type\":\"succeeded\",\"message\":")?;
    let start = s.pos();
    s.eat(b"{")?;
    let end = message_by_extent(line, start)?;
    let kind = Some(Cow::Borrowed("succeeded"));
    Some((Some((kind, Some(&line[start..end]))), true))
}

/// The envelope with the scanner: `result.type` and `result.message`'s
/// text, everything else stepped over. An object message is taken
/// unchecked up to the line's last two braces (results files write it last;
/// see [`scan_anthropic`] for how it is then proven), any other message is
/// checked and stepped over. Bails where the serde structs could read
/// otherwise or fail: a duplicate field, a `result` or `type` of another
/// type, trailing text.
/// Also says whether the message was taken unchecked.
fn scan_anthropic_line(line: &str) -> Scan<(AnthropicResultParts<'_>, bool)> {
    let mut s = Scanner::new(line);
    s.begin_object()?;
    let (mut first, mut seen) = (true, 0u64);
    let (mut result, mut guessed) = (None, false);
    while let Some(key) = s.next_key(&mut first)? {
        if key != "result" {
            s.skip_value()?;
            continue;
        }
        once(&mut seen, 0)?;
        if s.peek()? == b'n' {
            s.skip_value()?;
            continue;
        }
        s.begin_object()?;
        let (mut kind, mut message) = (None, None);
        let mut first = true;
        while let Some(key) = s.next_key(&mut first)? {
            match key.as_ref() {
                "type" => {
                    once(&mut seen, 1)?;
                    kind = match s.scalar()? {
                        Scalar::Str(k) => Some(k),
                        Scalar::Null => None,
                        _ => return Err(Bail),
                    };
                }
                "message" => {
                    once(&mut seen, 2)?;
                    message = match (s.peek()?, message_by_extent(line, s.pos())) {
                        (b'{', Some(end)) => {
                            let text = s.slice(s.pos(), end);
                            s.eat(text.as_bytes());
                            guessed = true;
                            Some(text)
                        }
                        _ => s.raw_value()?,
                    };
                }
                _ => s.skip_value()?,
            }
        }
        result = Some((kind, message));
    }
    if !s.at_end() {
        return Err(Bail);
    }
    Ok((result, guessed))
}

/// Whether a file's first JSON object line is an Anthropic batch result:
/// `custom_id` and a `result` object with its `type`.
pub fn looks_like_anthropic_batch(map: &JsonObject) -> bool {
    map.contains_key("custom_id")
        && matches!(map.get("result"), Some(serde_json::Value::Object(r)) if r.contains_key("type"))
}

/// Whether a file's first JSON object line is an OpenAI batch output line:
/// `custom_id` and the API's envelope, a `response` object with its
/// `status_code` or `body`, or a null `response` beside an `error`. A
/// gateway's line that keeps a request's `custom_id` beside the response
/// itself is no batch output (hunt112: such a log was read at batch rates,
/// half its cost).
pub fn looks_like_openai_batch(map: &JsonObject) -> bool {
    let response = |r: &JsonObject| r.contains_key("status_code") || r.contains_key("body");
    map.contains_key("custom_id")
        && match map.get("response") {
            Some(serde_json::Value::Object(r)) => response(r),
            // A warehouse's JSON column, written as text (hunt144's bug1:
            // read as a gateway log, at real-time rates).
            Some(serde_json::Value::String(text)) => {
                serde_json::from_str::<JsonObject>(text).is_ok_and(|r| response(&r))
            }
            Some(serde_json::Value::Null) => map.get("error").is_some_and(|e| !e.is_null()),
            // (A Parquet row leaves a null out: an expired request first,
            // told by its batch request id, as a gateway's failed line with
            // a `custom_id` is not: hunt146's bug2.)
            None => {
                map.get("error").is_some_and(|e| !e.is_null())
                    && map
                        .get("id")
                        .and_then(|i| i.as_str())
                        .is_some_and(|i| i.starts_with("batch_req_"))
            }
            _ => false,
        }
}

/// Reads one line of a Gemini Batch API output file (`{key, response}`) or
/// of a Vertex AI batch prediction's output (`{status, processed_time,
/// request, response}`): the response as the gateway reader reads a
/// `generateContent` response, at batch rates. A line with no response
/// (an error) has no model and no tokens: not billed.
pub fn parse_gemini_batch(line: &[u8]) -> Result<CallRecord<'_>, Reject> {
    gemini_batch_record(gateway::parse_raw(line)?)
}

/// The same for a line already validated as UTF-8.
pub fn parse_gemini_batch_str(line: &str) -> Result<CallRecord<'_>, Reject> {
    gemini_batch_record(gateway::parse_raw_str(line)?)
}

fn gemini_batch_record(mut raw: RawLine<'_>) -> Result<CallRecord<'_>, Reject> {
    if !raw.names_a_model() {
        return Err(Reject::new(
            RejectReason::NotBilled,
            "gemini batch request with no response (an error): not billed",
        ));
    }
    raw.batch = LBool(Lenient::Value(true));
    // Vertex writes an empty `status` for a request that ran.
    raw.status = LStr(Lenient::Missing);
    raw.into_record()
}

/// Whether a file's first JSON object line is a Gemini or Vertex AI batch
/// output line: a `key` (Gemini) or `processed_time` (Vertex) beside a
/// `response` that is a `generateContent` response; or, as the output is in
/// no particular order and may start with a failed request, Gemini's
/// `{key, error}` (nothing else) or Vertex's `{status, processed_time,
/// request}` with no response.
pub fn looks_like_gemini_batch(map: &JsonObject) -> bool {
    // An object, or its JSON text (Vertex's BigQuery output table read
    // back through pandas or DuckDB, its JSON columns as text: hunt117,
    // read as a gateway log at twice the batch price).
    let object = |v: &serde_json::Value, test: &dyn Fn(&JsonObject) -> bool| match v {
        serde_json::Value::Object(o) => test(o),
        serde_json::Value::String(text) if text.trim_start().starts_with('{') => {
            serde_json::from_str::<JsonObject>(text).is_ok_and(|o| test(&o))
        }
        _ => false,
    };
    let generate = |v: &serde_json::Value| {
        object(v, &|r| {
            r.contains_key("usageMetadata") || r.contains_key("candidates")
        })
    };
    // (An inline-request batch's results, `inlinedResponses`, one per
    // line: `{response, metadata: {key}}`, hunt147's bug4 and hunt142's
    // bug5: at real-time rates.)
    // (Its `metadata` is the user's own, with a `key` or not: a record of
    // `response`, `metadata` and `error` alone is one, hunt149's bug5.)
    let inlined = map.get("metadata").is_some_and(|m| m.is_object())
        && map
            .keys()
            .all(|k| matches!(k.as_str(), "response" | "metadata" | "error"));
    let keyed = map.contains_key("key") || map.contains_key("processed_time") || inlined;
    let answered = keyed && map.get("response").is_some_and(generate);
    let inlined_error = inlined && map.get("error").is_some_and(|e| e.is_object());
    let gemini_error = map.len() == 2
        && map.get("key").is_some_and(|k| k.is_string())
        && map.get("error").is_some_and(|e| e.is_object());
    let vertex_error = map.contains_key("processed_time")
        && map.get("request").is_some_and(|r| object(r, &|_| true))
        && map.get("status").is_some_and(|s| s.is_string())
        && map.get("response").is_none_or(|r| r.is_null());
    answered || gemini_error || vertex_error || inlined_error
}

/// The `gemini-batch` entry of the format registry (see [`crate::formats::REGISTRY`]).
pub static GEMINI_BATCH: Builtin = Builtin {
    name: "gemini-batch",
    aliases: &["vertex-batch"],
    format: Format::GeminiBatch,
    detect: Detect::FirstLine(looks_like_gemini_batch),
    doc: "Gemini Batch API output ({key, response}) and Vertex AI batch\n\
         prediction output ({status, processed_time, request, response}):\n\
         the response's usageMetadata as a Gemini response's, priced at\n\
         batch rates; lines with no response (errors) are skipped as\n\
         not_billed.",
};

/// Reads one line of an Amazon Bedrock batch inference output file
/// (`{recordId, modelInput, modelOutput}`, or `error` for a record that
/// did not run): `modelOutput` is the model's response (Anthropic's
/// message names its model; Nova's and Titan's name none, and are
/// `missing_model`), `modelInput` the request.
pub fn parse_bedrock_batch(line: &[u8]) -> Result<CallRecord<'_>, Reject> {
    bedrock_batch_record(gateway::parse_raw(line)?)
}

/// The same for a line already validated as UTF-8.
pub fn parse_bedrock_batch_str(line: &str) -> Result<CallRecord<'_>, Reject> {
    bedrock_batch_record(gateway::parse_raw_str(line)?)
}

fn bedrock_batch_record(mut raw: RawLine<'_>) -> Result<CallRecord<'_>, Reject> {
    if !raw.names_a_model() && raw.error_kind.0.is_present() {
        return Err(Reject::new(
            RejectReason::NotBilled,
            "bedrock batch record with an error and no output: not billed",
        ));
    }
    raw.batch = LBool(Lenient::Value(true));
    if !raw.provider.0.is_present() {
        raw.provider = LStr(Lenient::Value(Cow::Borrowed("bedrock")));
    }
    raw.into_record()
}

/// Whether a file's first JSON object line is a Bedrock batch inference
/// output line: a `recordId` and a `modelInput` beside a `modelOutput` or
/// an `error`.
pub fn looks_like_bedrock_batch(map: &JsonObject) -> bool {
    map.contains_key("recordId")
        && map.get("modelInput").is_some_and(|v| v.is_object())
        && (map.get("modelOutput").is_some_and(|v| v.is_object()) || map.contains_key("error"))
}

/// The `bedrock-batch` entry of the format registry (see [`crate::formats::REGISTRY`]).
pub static BEDROCK_BATCH: Builtin = Builtin {
    name: "bedrock-batch",
    aliases: &[],
    format: Format::BedrockBatch,
    detect: Detect::FirstLine(looks_like_bedrock_batch),
    doc: "Amazon Bedrock batch inference output (.jsonl.out: {recordId,\n\
         modelInput, modelOutput}): the output's usage as the model's\n\
         response (Anthropic's message, with its model), priced at Bedrock's\n\
         batch rates; records with an error and no output are skipped as\n\
         not_billed. Outputs that name no model (Nova, Titan) are\n\
         missing_model: give the batch job's model in [mapping.defaults]\n\
         (model = \"amazon.nova-pro-v1:0\", provider = \"bedrock\",\n\
         batch = true; a mapping reads the file as a gateway log).",
};

/// The `anthropic-batch` entry of the format registry (see [`crate::formats::REGISTRY`]).
pub static ANTHROPIC_BATCH: Builtin = Builtin {
    name: "anthropic-batch",
    aliases: &[],
    format: Format::AnthropicBatch,
    detect: Detect::FirstLine(looks_like_anthropic_batch),
    doc: "Anthropic Message Batches results ({custom_id, result: {type,\n\
         message}}): priced at batch rates; errored, canceled and expired\n\
         results are skipped as not_billed. Feature: as the gateway reader\n\
         finds it in the message, else [attribution] feature in --config.",
};

/// The `openai-batch` entry of the format registry (see [`crate::formats::REGISTRY`]).
pub static OPENAI_BATCH: Builtin = Builtin {
    name: "openai-batch",
    aliases: &[],
    format: Format::OpenAiBatch,
    detect: Detect::FirstLine(looks_like_openai_batch),
    doc: "OpenAI Batch API output files ({id, custom_id, response: {status_code,\n\
         body}, error}): priced at batch rates; requests that did not run\n\
         (expired, cancelled, refused) are skipped as not_billed. Feature:\n\
         as the gateway reader finds it in the body (a Responses object's\n\
         metadata.feature), else [attribution] feature in --config.",
};

/// Reads a line both ways; when the scanner accepts the envelope, the
/// result must be the serde path's. Returns whether it accepted it.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn agree(line: &str) -> bool {
    if line.trim_start().as_bytes().first() != Some(&b'{') {
        return false;
    }
    let slow = anthropic_batch_serde(line);
    crate::json::scan_value::agrees(line, scan_anthropic(line), slow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(line: &str) -> JsonObject {
        serde_json::from_str(line).unwrap()
    }

    /// A batch file is told by the API's envelope, not by `custom_id`
    /// alone (hunt112: a gateway log keeping the request's `custom_id`
    /// beside the response was read at batch rates).
    #[test]
    fn batch_files_are_told_by_their_envelope() {
        for (line, openai, anthropic) in [
            (
                r#"{"id":"batch_req_1","custom_id":"a","response":{"status_code":200,"request_id":"r","body":{}},"error":null}"#,
                true,
                false,
            ),
            (
                r#"{"custom_id":"a","response":{"body":{"model":"m"}}}"#,
                true,
                false,
            ),
            (
                r#"{"id":"batch_req_2","custom_id":"b","response":null,"error":{"code":"batch_expired"}}"#,
                true,
                false,
            ),
            (
                r#"{"custom_id":"job-1","timestamp":"2026-10-01T00:00:00Z","request":{"model":"gpt-4.1"},"response":{"object":"chat.completion","model":"gpt-4.1","usage":{"prompt_tokens":1000,"completion_tokens":500}}}"#,
                false,
                false,
            ),
            (
                r#"{"custom_id":"b","response":null,"error":null}"#,
                false,
                false,
            ),
            (
                r#"{"custom_id":"a","result":{"type":"succeeded","message":{}}}"#,
                false,
                true,
            ),
            (
                r#"{"custom_id":"a","result":"ok","model":"m"}"#,
                false,
                false,
            ),
        ] {
            let map = object(line);
            assert_eq!(looks_like_openai_batch(&map), openai, "{line}");
            assert_eq!(looks_like_anthropic_batch(&map), anthropic, "{line}");
        }
    }

    #[test]
    fn openai_batch_lines_are_batch_priced_and_unrun_ones_not_billed() {
        let ok = r#"{"id":"batch_req_1","custom_id":"a","response":{"status_code":200,"request_id":"r","body":{"object":"chat.completion","created":1790852400,"model":"gpt-4o-mini","usage":{"prompt_tokens":10,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":4}}}},"error":null}"#;
        let r = parse_openai_batch_str(ok).unwrap();
        assert_eq!(r.batch, Some(true));
        assert_eq!(r.model, "gpt-4o-mini");
        assert_eq!(r.request_id.as_deref(), Some("batch_req_1"));
        assert_eq!((r.usage.input, r.usage.cached_read), (10, 4));
        let expired = r#"{"id":"batch_req_2","custom_id":"b","response":null,"error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}}"#;
        assert_eq!(
            parse_openai_batch_str(expired).unwrap_err().reason,
            RejectReason::NotBilled
        );
        let refused = r#"{"id":"batch_req_3","custom_id":"c","response":{"status_code":400,"request_id":"r","body":{"error":{"message":"bad","type":"invalid_request_error"}}},"error":null}"#;
        assert_eq!(
            parse_openai_batch_str(refused).unwrap_err().reason,
            RejectReason::NotBilled
        );
        // A line without model, usage or error is broken, not "not billed".
        let broken =
            r#"{"id":"batch_req_4","custom_id":"d","response":{"status_code":200,"body":{}}}"#;
        assert_eq!(
            parse_openai_batch_str(broken).unwrap_err().reason,
            RejectReason::MissingModel
        );
    }

    #[test]
    fn anthropic_batch_results_read_the_message_in_anthropic_convention() {
        let ok = r#"{"custom_id":"a","result":{"type":"succeeded","message":{"id":"msg_1","type":"message","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":100,"cache_read_input_tokens":1000,"cache_creation_input_tokens":50,"output_tokens":7,"service_tier":"batch"}}}}"#;
        let r = parse_anthropic_batch_str(ok).unwrap();
        assert_eq!(r.batch, Some(true));
        assert_eq!(r.request_id.as_deref(), Some("msg_1"));
        // Input excludes the cache in Anthropic's counts: 100 + 1000 + 50.
        assert_eq!(r.usage.input, 1150);
        assert_eq!(r.usage.cached_read, 1000);
        assert_eq!(r.usage.cache_write, 50);
        for kind in ["errored", "canceled", "expired"] {
            let line = format!(r#"{{"custom_id":"x","result":{{"type":"{kind}"}}}}"#);
            assert_eq!(
                parse_anthropic_batch_str(&line).unwrap_err().reason,
                RejectReason::NotBilled
            );
        }
        assert_eq!(
            parse_anthropic_batch_str(r#"{"custom_id":"x""#)
                .unwrap_err()
                .reason,
            RejectReason::MalformedJson
        );
        assert_eq!(
            parse_anthropic_batch_str("[1]").unwrap_err().reason,
            RejectReason::NotAnObject
        );
        assert_eq!(
            parse_anthropic_batch(b"{\"custom_id\":\"\xff\"}")
                .unwrap_err()
                .reason,
            RejectReason::MalformedJson
        );
    }

    /// Lines for the scanner-versus-serde checks of the envelope.
    const TRICKY: &[&str] = &[
        r#"{"custom_id":"a","result":{"type":"succeeded","message":{"id":"msg_1","type":"message","model":"claude-haiku-4-5-20251001","content":[{"type":"text","text":"ok \"quoted\" \u00e9"}],"usage":{"input_tokens":100,"cache_read_input_tokens":1000,"cache_creation_input_tokens":50,"output_tokens":7,"service_tier":"batch"}}}}"#,
        r#"{"result":{"message":{"id":"m","model":"claude-x","usage":{"input_tokens":1,"output_tokens":1}},"type":null},"custom_id":7}"#,
        r#"{"custom_id":"x","result":{"type":"errored","error":{"type":"invalid_request_error","message":"bad"}}}"#,
        r#"{"custom_id":"x","result":{"type":"canceled","message":{"model":"m"}}}"#,
        r#"{"custom_id":"x","result":{"type":"expired"}}"#,
        r#"{"custom_id":"x","result":{"type":"succeeded"}}"#,
        r#"{"custom_id":"x","result":{"type":"succeeded","message":null}}"#,
        r#"{"custom_id":"x","result":{"type":"other","message":{"model":"m","usage":{"input_tokens":1}}}}"#,
        r#"{"custom_id":"x","result":{"type":"succ\u0065eded","message":{"model":"m","usage":{"input_tokens":"2","output_tokens":-1}}}}"#,
        r#"{"custom_id":"x","result":{"type":"succeeded","message":"not an object"}}"#,
        r#"{"custom_id":"x","result":{"type":"succeeded","message":[1,2]}}"#,
        r#"{"custom_id":"x","result":{"type":"succeeded","message":{"model":"m","usage":{"input_tokens":1e400}}}}"#,
        r#"{"custom_id":"x","result":{"type":"succeeded","message":{"model":"m","extra":1e400,"usage":{"input_tokens":1,"output_tokens":1}}}}"#,
        r#"{"custom_id":"x","result":{"type":"succeeded","message":{"model":"m","usage":{"input_tokens":1}} }, "extra": {"deep":[1,{"a":null}]}}"#,
        r#"{"custom_id":"x","result":null}"#,
        r#"{"result":{"message":{"model":"m","usage":{"input_tokens":1,"output_tokens":1}},"type":"errored"},"custom_id":"x"}"#,
        r#"{"result":{"message":{"model":"m","usage":{"input_tokens":1,"output_tokens":1}},"type":"succeeded"}}"#,
        r#"{"result":{"type":"succeeded","message":{"model":"m","usage":{"input_tokens":1,"output_tokens":1}},"x":{"y":1}}}"#,
        r#"{"result":{"type":"errored","message":{"model":"m"},"x":{}}}"#,
        r#"{"result":{"type":"errored","message":{"model":"m","bad":1e400}}}"#,
        r#"{"result":{"type":"errored","message":{"model":"m","bad":[1,]}}}"#,
        r#"{"result":{"type":"succeeded","message":{"model":"m","usage":{"input_tokens":1,"output_tokens":1}}}	}  "#,
        r#"{"result":{"type":"succeeded","message":{"model":"m","usage":{"input_tokens":1,"output_tokens":1}}}}}"#,
        r#"{"result":{"type":"succeeded","message":{"model":"m","usage":{"input_tokens":1,"output_tokens":1}},"message":{}}}"#,
        r#"{"result":{"type":"succeeded","message":{}}}"#,
        r#"{"result":{"type":"succeeded","message":{"model":"m","usage":{"input_tokens":1,"output_tokens":1}}}"#,
        r#"{"custom_id":"x"}"#,
        r#"{}"#,
        r#"{"custom_id":"x","result":{"type":"succeeded"},"result":null}"#,
        r#"{"custom_id":"x","result":{"type":"succeeded","type":"errored"}}"#,
        r#"{"custom_id":"x","result":{"message":{},"message":{}}}"#,
        r#"{"custom_id":"x","result":{"type":5}}"#,
        r#"{"custom_id":"x","result":[1]}"#,
        r#"{"custom_id":"x","result":"succeeded"}"#,
        r#"{"custom_id":"x","result":{"type":"expired"}} trailing"#,
        r#"{"custom_id":"lone \ud83d","result":{"type":"expired"}}"#,
        "  {\"custom_id\" : \"x\" ,\t\"result\" :\r\n{ \"type\" : \"expired\" } }  ",
        r#"{"custom_id":"x""#,
        r#"[1]"#,
        r#"not json"#,
    ];

    #[test]
    fn anthropic_scanner_reads_tricky_lines_like_serde() {
        let bailed: Vec<&str> = TRICKY.iter().copied().filter(|l| !agree(l)).collect();
        // The usual shapes, messages that are not objects or not read, and
        // the gateway reader's own rejects take the fast path (a line not
        // ending in `}}` has its message checked in place: 1 and 15).
        let fast = [
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 15, 19, 21, 24, 26, 27, 36,
        ];
        let fast: Vec<&str> = fast.iter().map(|&i| TRICKY[i]).collect();
        // Bailing: a message the gateway reader rejects after it was taken
        // by extent (`1e400` read as a token count), messages not last in
        // `result` or followed by more text, a broken message, duplicate
        // fields, `result` or `type` of another type, trailing text and
        // extra braces, a lone surrogate, truncated lines, and the lines
        // that are not objects.
        let want: Vec<&str> = TRICKY
            .iter()
            .copied()
            .filter(|l| !fast.contains(l))
            .collect();
        assert_eq!(bailed, want);
        assert_eq!(bailed.len(), 20);
    }

    #[test]
    fn anthropic_scanner_reads_the_fixture_like_serde() {
        let lines = crate::json::scan_value::fixture_lines("anthropic-batch/results.jsonl");
        for line in &lines {
            assert!(agree(line), "the fast path bailed: {line}");
        }
        assert_eq!(lines.len(), 5);
    }

    /// Lines of the results files' own shape, which the literal envelope
    /// reads, and near misses of it, which it must leave to the key-by-key
    /// reader or which the message's proof must send to serde.
    const PLAIN: &[&str] = &[
        r#"{"custom_id":"req_1","result":{"type":"succeeded","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":2967,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":385,"service_tier":"batch"}}}}"#,
        r#"{"custom_id":"é ☃","result":{"type":"succeeded","message":{"model":"m","usage":{"input_tokens":1,"output_tokens":1}}}} "#,
        r#"{"custom_id":"","result":{"type":"succeeded","message":{}}}"#,
        r#"{"custom_id":"a\"b","result":{"type":"succeeded","message":{"model":"m","usage":{"input_tokens":1,"output_tokens":1}}}}"#,
        r#"{"custom_id":7,"result":{"type":"succeeded","message":{"model":"m","usage":{"input_tokens":1,"output_tokens":1}}}}"#,
        r#"{"custom_id":"a", "result":{"type":"succeeded","message":{"model":"m","usage":{"input_tokens":1,"output_tokens":1}}}}"#,
        r#"{"custom_id":"a","result":{"type":"succeeded","message": {"model":"m","usage":{"input_tokens":1,"output_tokens":1}}}}"#,
        r#"{"custom_id":"a","result":{"type":"succeeded","message":{"model":"m"},"x":1}}"#,
        r#"{"custom_id":"a","result":{"type":"succeeded","message":{"model":"m"}},"result":{"type":"x"}}"#,
        r#"{"custom_id":"a","result":{"type":"succeeded","message":{"model":"m"},"message":{"model":"n"}}}"#,
        r#"{"custom_id":"a","result":{"type":"succeeded","message":{"model":"m"}}}}"#,
        r#"{"custom_id":"a","result":{"type":"succeeded","message":{"model":"m"}}"#,
        r#"{"custom_id":"a","result":{"type":"succeeded","message":null}}"#,
        r#"{"custom_id":"a","result":{"type":"errored","message":{"model":"m"}}}"#,
    ];

    #[test]
    fn anthropic_plain_envelope_reads_like_serde() {
        let plain: Vec<bool> = PLAIN
            .iter()
            .map(|l| scan_anthropic_plain(l).is_some())
            .collect();
        let want = [
            true, true, true, false, false, false, false, true, true, true, true, true, false,
            false,
        ];
        assert_eq!(plain, want);
        let fast: Vec<bool> = PLAIN.iter().map(|l| agree(l)).collect();
        // The literal envelope's lines are read fast unless the text taken
        // by extent is not one object (7 to 11: serde decides); the near
        // misses are read key by key, fast.
        let want = [
            true, true, true, true, true, true, true, false, false, false, false, false, true, true,
        ];
        assert_eq!(fast, want);
        for line in crate::json::scan_value::fixture_lines("anthropic-batch/results.jsonl") {
            if line.contains("\"succeeded\"") {
                assert!(scan_anthropic_plain(&line).is_some(), "{line}");
            }
        }
    }

    #[test]
    fn anthropic_plain_envelope_never_disagrees_with_serde_on_broken_lines() {
        let variants = crate::json::scan_value::broken_variants(&PLAIN[1..3]);
        let plain = variants
            .iter()
            .filter(|l| scan_anthropic_plain(l).is_some())
            .count();
        let fast = variants.iter().filter(|l| agree(l)).count();
        assert!(variants.len() > 5_000, "{}", variants.len());
        assert!(plain > 1_000 && fast > 1_000, "{plain} {fast}");
    }

    #[test]
    fn anthropic_scanner_never_disagrees_with_serde_on_broken_lines() {
        let variants = crate::json::scan_value::broken_variants(&TRICKY[..2]);
        let fast = variants.iter().filter(|l| agree(l)).count();
        assert!(variants.len() > 10_000, "{}", variants.len());
        assert!(fast > 1_000, "{fast}");
    }
}
