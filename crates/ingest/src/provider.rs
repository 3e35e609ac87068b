//! Provider batch outputs: the result files of OpenAI's Batch API and of
//! Anthropic's Message Batches API, read as the providers write them.
//!
//! Both wrap an ordinary response (an OpenAI chat completion or Responses
//! object, an Anthropic message), which the gateway reader already knows how
//! to read; what they add is that every call in them is billed at the batch
//! rate, and that some lines are requests the provider never ran (expired,
//! cancelled, refused), which carry no model and no tokens and are not
//! billed. Those lines are counted under [`RejectReason::NotBilled`] rather
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

use crate::fields::{LBool, Lenient};
use crate::gateway::{self, RawLine};
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
    if !raw.model.0.is_present() {
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

/// The same for a line already validated as UTF-8.
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
    let parsed: AnthropicLine<'_> = serde_json::from_str(line).map_err(|e| {
        Reject::new(
            RejectReason::MalformedJson,
            format!("invalid JSON at column {}", e.column()),
        )
    })?;
    let Some(result) = parsed.result else {
        return Err(Reject::new(RejectReason::MissingModel, "no result object"));
    };
    match (result.kind.as_deref(), result.message) {
        (Some("succeeded") | None, Some(message)) => {
            let mut raw = gateway::parse_raw_str(message.get())?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
