//! Amazon Bedrock model invocation logs: what Bedrock writes, one JSON line
//! per call, to S3 (`AWSLogs/<account>/BedrockModelInvocationLogs/…`) or to
//! a CloudWatch Logs group once invocation logging is turned on.
//!
//! Fields: `timestamp`, `requestId`, `modelId` (a model id such as
//! `anthropic.claude-3-5-haiku-20241022-v1:0`, a cross-region profile
//! `us.anthropic.…`, or the ARN of either), `errorCode`, `identity.arn`
//! (the IAM role or user that called: the user), `region`, and
//! `requestMetadata` (the Converse API's caller-set key-value pairs) as
//! tags; a `feature`, `team` or `session` entry is that field. From the
//! logged bodies: the stop reason (`stopReason` of Converse,
//! `stop_reason` of Anthropic's InvokeModel body), Converse's
//! `metrics.latencyMs`, the request's output limit, and the service tier
//! (Converse's `serviceTier.type`: `flex` and `priority` are priced at
//! their rates, `reserved` is said to be billed by reservation), the
//! response's before the request's.
//!
//! Token convention: `input.inputTokenCount` excludes the prompt cache, as
//! the Converse API's `inputTokens` does (its `totalTokens` adds the cache
//! reads and writes); `input.cacheReadInputTokenCount` and
//! `input.cacheWriteInputTokenCount` are added to it; cache writes are
//! split by TTL as the logged response says (Anthropic's InvokeModel body's
//! `usage.cache_creation`, Converse's `usage.cacheDetails`), else priced at
//! the 5-minute rate. `output.outputTokenCount` is the output.
//!
//! Every call is Bedrock's (provider `bedrock`), so model ids resolve to
//! the catalog's AWS prices. A call with an `errorCode` is a failure. The
//! logged request body's `system` and `messages` (Converse's and
//! Anthropic's InvokeModel body alike) give the prompt fingerprints, as a
//! gateway log's do; bodies of other shapes (Titan's `inputText`) give
//! none, and the report's rule coverage says which rules could not run.

use std::borrow::Cow;

use crate::engine::{Capture, Captured, Spec, Target as T};
use crate::formats::{gateway, Builtin, Detect, Format, JsonObject};
use crate::record::fields::{LStr, Lenient};
use crate::record::staging::RawLine;
use crate::rejects::Reject;

/// Where a Bedrock invocation log line keeps each field.
pub static SPEC: Spec = Spec::new(
    &[
        (T::RequestId, &["requestId"]),
        (T::Timestamp, &["timestamp"]),
        (T::Model, &["modelId"]),
        (T::ErrorKind, &["errorCode"]),
        (T::User, &["identity.arn"]),
        (T::InputTokens, &["input.inputTokenCount"]),
        (T::CacheReadTokens, &["input.cacheReadInputTokenCount"]),
        (T::CacheWriteTokens, &["input.cacheWriteInputTokenCount"]),
        // Anthropic's InvokeModel body splits the writes by TTL.
        (
            T::CacheWrite5mTokens,
            &["output.outputBodyJson.usage.cache_creation.ephemeral_5m_input_tokens"],
        ),
        (
            T::CacheWrite1hTokens,
            &["output.outputBodyJson.usage.cache_creation.ephemeral_1h_input_tokens"],
        ),
        (T::OutputTokens, &["output.outputTokenCount"]),
        (
            T::FinishReason,
            &[
                "output.outputBodyJson.stopReason",
                "output.outputBodyJson.stop_reason",
            ],
        ),
        (T::Latency, &["output.outputBodyJson.metrics.latencyMs"]),
        (
            T::ServiceTier,
            &[
                "output.outputBodyJson.serviceTier.type",
                "input.inputBodyJson.serviceTier.type",
            ],
        ),
        (
            T::MaxTokens,
            &[
                "input.inputBodyJson.inferenceConfig.maxTokens",
                "input.inputBodyJson.max_tokens",
            ],
        ),
    ],
    &["requestMetadata"],
    "metadata",
    &[
        Capture::Value(&["region"]),
        Capture::Text(&["input.inputBodyJson.system"]),
        Capture::Text(&["input.inputBodyJson.messages"]),
        // Converse's split of the writes by TTL.
        Capture::Text(&["output.outputBodyJson.usage.cacheDetails"]),
        // A streamed call's body: the list of its events.
        Capture::ListText(&["output.outputBodyJson"]),
    ],
    Some(hook),
);

/// The provider, the region tag, the logged prompt and the metadata
/// entries that are fields. (An `errorCode` makes the call a failure by
/// itself: a record with an error kind and no status is one.)
fn hook<'a>(raw: &mut RawLine<'a>, captured: &Captured<'_, 'a>) -> Result<(), Reject> {
    raw.provider = LStr(Lenient::Value(Cow::Borrowed("bedrock")));
    let mut i = 0;
    while i < raw.tags.len() {
        let key = &raw.tags[i].0;
        let is = |name: &str| key.eq_ignore_ascii_case(name);
        let slot = if is("feature") {
            &mut raw.feature
        } else if is("team") {
            &mut raw.team
        } else if is("session") || is("session_id") || is("sessionid") {
            &mut raw.session
        } else {
            i += 1;
            continue;
        };
        *slot = LStr(Lenient::Value(raw.tags.remove(i).1));
    }
    if let Lenient::Value(region) = captured.label(0) {
        raw.tags.push((Cow::Borrowed("region"), region));
    }
    // The logged request's prompt, read as the gateway reads a logged
    // `system` and `messages` (fingerprints only; no text is kept).
    if let Some(system) = captured.text(1) {
        gateway::set_text(raw, gateway::Field::System, system);
    }
    if let Some(messages) = captured.text(2).filter(|m| m.starts_with('[')) {
        raw.set_messages(messages);
    }
    if let Some(details) = captured.text(3) {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(details) {
            gateway::cache_details(&mut raw.usage, &v);
        }
    }
    if let Some(events) = captured.text(4).filter(|t| t.starts_with('[')) {
        streamed_body(raw, events);
    }
    Ok(())
}

/// A streamed call's body (`InvokeModelWithResponseStream`): the list of
/// its events: Anthropic's, whose `message_start` splits the cache writes
/// by TTL and whose `message_delta` has the stop reason (hunt130: a
/// stream's 1-hour writes priced at the 5-minute rate, said nowhere);
/// Nova's `messageStop` and Llama's and Mistral's chunks' `stop_reason`
/// have theirs.
fn streamed_body(raw: &mut RawLine<'_>, events: &str) {
    let Ok(serde_json::Value::Array(events)) = serde_json::from_str(events) else {
        return;
    };
    let stop = |raw: &mut RawLine<'_>, reason: Option<&str>| {
        if let (Some(reason), false) = (reason, raw.finish_reason.0.is_present()) {
            raw.finish_reason = LStr(Lenient::Value(Cow::Owned(reason.to_string())));
        }
    };
    for e in &events {
        // Nova's `messageStop.stopReason` (its Converse-shaped events) and
        // Llama's or Mistral's chunks' `stop_reason` (hunt136: a stream's
        // truncations unseen by TA112).
        if let Some(reason) = e.pointer("/messageStop/stopReason") {
            stop(raw, reason.as_str());
            continue;
        }
        if e.get("type").is_none() {
            let reason = e.get("stop_reason").and_then(|s| s.as_str());
            stop(raw, reason.filter(|r| !r.is_empty()));
            continue;
        }
        match e.get("type").and_then(|t| t.as_str()) {
            Some("message_start") => {
                let split = e.pointer("/message/usage/cache_creation");
                for (key, slot) in [
                    ("ephemeral_5m_input_tokens", &mut raw.usage.cache_write_5m),
                    ("ephemeral_1h_input_tokens", &mut raw.usage.cache_write_1h),
                ] {
                    if let Some(n) = split.and_then(|s| s.get(key)).and_then(|n| n.as_u64()) {
                        if !slot.is_present() {
                            *slot = Lenient::Value(n);
                        }
                    }
                }
            }
            Some("message_delta") => {
                stop(
                    raw,
                    e.pointer("/delta/stop_reason").and_then(|s| s.as_str()),
                );
            }
            _ => {}
        }
    }
}

/// Whether a file's first JSON object line is a Bedrock invocation log.
pub fn looks_like(map: &JsonObject) -> bool {
    map.get("schemaType").and_then(|v| v.as_str()) == Some("ModelInvocationLog")
        || (map.contains_key("modelId")
            && map.contains_key("requestId")
            && map.contains_key("input"))
}

/// The `bedrock` entry of the format registry (see [`crate::formats::REGISTRY`]).
pub static BUILTIN: Builtin = Builtin {
    name: "bedrock",
    aliases: &["bedrock-invocation-logs"],
    format: Format::Spec(&SPEC),
    detect: Detect::FirstLine(looks_like),
    doc: "Amazon Bedrock model invocation logs as Bedrock delivers them to S3\n\
         (one JSON object per line), or as CloudWatch Logs exports them (a\n\
         time before each object): input.inputTokenCount (uncached)\n\
         + cacheReadInputTokenCount + cacheWriteInputTokenCount,\n\
         output.outputTokenCount, modelId (ids, profiles and ARNs, priced as\n\
         Bedrock's), errorCode (a failure), identity.arn as the user, region\n\
         and requestMetadata as tags (a `feature`, `team` or `session` entry\n\
         is that field), serviceTier.type (flex and priority at their\n\
         rates; reserved is billed by reservation). The logged body's\n\
         system and messages give the prompt fingerprints.",
};

#[cfg(test)]
mod tests {
    use super::*;
    use tokenaudit_core::{CallRecord, CallStatus};

    fn parse_line_str(line: &str) -> Result<CallRecord<'_>, Reject> {
        SPEC.parse_line_str(line)
    }

    fn agree(line: &str) -> bool {
        SPEC.agree(line)
    }

    /// A Converse call with caller metadata, an InvokeModel call with an
    /// Anthropic body and the cache, a throttled call, and odd shapes.
    const TRICKY: &[&str] = &[
        r#"{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"2025-10-01T10:00:00Z","accountId":"123456789012","identity":{"arn":"arn:aws:sts::123456789012:assumed-role/support-bot/i-0abc"},"region":"us-east-1","requestId":"b1c2","operation":"Converse","modelId":"anthropic.claude-3-5-haiku-20241022-v1:0","input":{"inputContentType":"application/json","inputBodyJson":{"messages":[{"role":"user","content":[{"text":"Where is my order?"}]}],"system":[{"text":"You are a support agent."}],"inferenceConfig":{"maxTokens":512}},"inputTokenCount":1200},"output":{"outputContentType":"application/json","outputBodyJson":{"output":{"message":{"role":"assistant","content":[{"text":"ok"}]}},"stopReason":"max_tokens","metrics":{"latencyMs":850},"usage":{"inputTokens":1200,"outputTokens":40,"totalTokens":1240}},"outputTokenCount":40},"requestMetadata":{"feature":"ticket-triage","Team":"support","env":"prod"}}"#,
        r#"{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"2025-10-01T10:05:00Z","accountId":"123456789012","identity":{"arn":"arn:aws:iam::123456789012:user/etl"},"region":"eu-west-1","requestId":"c3d4","operation":"InvokeModel","modelId":"arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0","input":{"inputContentType":"application/json","inputBodyJson":{"anthropic_version":"bedrock-2023-05-31","max_tokens":1024,"system":"Summarise the ticket.","messages":[{"role":"user","content":"Ticket 7: refund"}]},"inputTokenCount":100,"cacheReadInputTokenCount":5000,"cacheWriteInputTokenCount":2000},"output":{"outputContentType":"application/json","outputBodyJson":{"id":"msg_1","type":"message","stop_reason":"end_turn","usage":{"input_tokens":100,"output_tokens":300}},"outputTokenCount":300}}"#,
        r#"{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"2025-10-01T10:06:00Z","accountId":"123456789012","identity":{"arn":"arn:aws:sts::123456789012:assumed-role/support-bot/i-0abc"},"region":"us-east-1","requestId":"e5f6","operation":"Converse","modelId":"anthropic.claude-3-5-haiku-20241022-v1:0","errorCode":"ThrottlingException","input":{"inputContentType":"application/json","inputTokenCount":null},"output":{}}"#,
        r#"{"timestamp":"2025-10-01T10:07:00Z","requestId":"x","modelId":"amazon.nova-pro-v1:0","input":{"inputTokenCount":"10"},"output":{"outputTokenCount":2.0},"requestMetadata":{"session_id":"s1","n":7,"o":{"deep":1}},"region":5}"#,
        r#"{"timestamp":"2025-10-01T10:07:00Z","requestId":"x","modelId":"amazon.nova-pro-v1:0","input":"none","output":[1],"requestMetadata":"feature"}"#,
        r#"{"modelId":"m","input":{"inputTokenCount":-1},"output":{"outputTokenCount":1}}"#,
        // A streamed call: its body is the list of its events.
        r#"{"schemaType":"ModelInvocationLog","timestamp":"2025-10-09T09:21:12Z","requestId":"s1","operation":"InvokeModelWithResponseStream","modelId":"us.anthropic.claude-sonnet-4-5-20250929-v1:0","input":{"inputTokenCount":3,"cacheReadInputTokenCount":0,"cacheWriteInputTokenCount":31814},"output":{"outputBodyJson":[{"type":"message_start","message":{"id":"msg_1","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":3,"cache_creation_input_tokens":31814,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":31814},"output_tokens":1}}},{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}},{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":130}},{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":3,"outputTokenCount":130}}],"outputTokenCount":130}}"#,
        r#"{}"#,
        r#"not json"#,
    ];

    #[test]
    fn converse_invoke_and_failed_calls() {
        let r = parse_line_str(TRICKY[0]).unwrap();
        assert_eq!(r.provider.as_deref(), Some("bedrock"));
        assert_eq!((r.usage.input, r.usage.output), (1200, 40));
        assert_eq!(r.feature.as_deref(), Some("ticket-triage"));
        assert_eq!(r.team.as_deref(), Some("support"));
        assert_eq!(
            r.user.as_deref(),
            Some("arn:aws:sts::123456789012:assumed-role/support-bot/i-0abc")
        );
        assert_eq!(
            r.tags,
            [
                (Cow::from("env"), Cow::from("prod")),
                (Cow::from("region"), Cow::from("us-east-1"))
            ]
        );
        assert_eq!(
            (r.finish_reason.as_deref(), r.max_tokens, r.latency_ms),
            (Some("max_tokens"), Some(512), Some(850))
        );
        // The body's prompt, as the gateway reads a logged pair's.
        let pair = r#"{"model":"m","usage":{"input_tokens":1,"output_tokens":1},"system":[{"text":"You are a support agent."}],"messages":[{"role":"user","content":[{"text":"Where is my order?"}]}]}"#;
        let want = gateway::parse_line_str(pair).unwrap();
        assert!(r.prompt_fp.is_some() && r.prefix_fp.is_some());
        assert_eq!(
            (r.prompt_fp, r.prefix_fp, r.prefix_chars, r.user_messages),
            (
                want.prompt_fp,
                want.prefix_fp,
                want.prefix_chars,
                want.user_messages
            )
        );
        assert_eq!(r.prompt_text.as_deref(), Some("Where is my order?"));
        // Input excludes the cache: 100 + 5,000 read + 2,000 written.
        let r = parse_line_str(TRICKY[1]).unwrap();
        assert_eq!(
            (
                r.usage.input,
                r.usage.cached_read,
                r.usage.cache_write,
                r.usage.output
            ),
            (7100, 5000, 2000, 300)
        );
        assert_eq!(
            (r.finish_reason.as_deref(), r.max_tokens),
            (Some("end_turn"), Some(1024))
        );
        assert_eq!(r.prefix_chars, Some("Summarise the ticket.".len() as u64));
        let r = parse_line_str(TRICKY[2]).unwrap();
        assert_eq!(r.effective_status(), CallStatus::Error);
        assert_eq!(r.error_kind.as_deref(), Some("ThrottlingException"));
        let r = parse_line_str(TRICKY[3]).unwrap();
        assert_eq!((r.usage.input, r.usage.output), (10, 2));
        assert_eq!(r.session.as_deref(), Some("s1"));
        assert_eq!(
            parse_line_str(TRICKY[5]).unwrap_err().reason,
            crate::rejects::RejectReason::NegativeTokens
        );
    }

    /// A streamed call's body is the list of its events: the cache writes'
    /// split by TTL and the stop reason are read from them (hunt130: the
    /// 1-hour writes priced at the 5-minute rate).
    #[test]
    fn a_streamed_calls_events_split_its_cache_writes() {
        let r = parse_line_str(TRICKY[6]).unwrap();
        assert_eq!(
            (r.usage.cache_write, r.usage.cache_write_1h),
            (31_814, 31_814)
        );
        assert_eq!(r.finish_reason.as_deref(), Some("end_turn"));
        assert!(agree(TRICKY[6]));
        // Nova's events and Llama's chunks give theirs (hunt136).
        for (body, reason) in [
            (
                r#"[{"messageStart":{"role":"assistant"}},{"contentBlockDelta":{"delta":{"text":"x"},"contentBlockIndex":0}},{"messageStop":{"stopReason":"max_tokens"}},{"metadata":{"usage":{"inputTokens":100,"outputTokens":200}}}]"#,
                "max_tokens",
            ),
            (
                r#"[{"generation":"x","stop_reason":null},{"generation":"y","stop_reason":"length"}]"#,
                "length",
            ),
        ] {
            let line = format!(
                r#"{{"timestamp":"2025-10-09T09:21:12Z","requestId":"s2","modelId":"amazon.nova-pro-v1:0","input":{{"inputTokenCount":100}},"output":{{"outputBodyJson":{body},"outputTokenCount":200}}}}"#
            );
            let r = parse_line_str(&line).unwrap();
            assert_eq!(r.finish_reason.as_deref(), Some(reason), "{line}");
            assert!(agree(&line), "{line}");
        }
    }

    #[test]
    fn detected_from_its_first_line() {
        let map: JsonObject = serde_json::from_str(TRICKY[0]).unwrap();
        assert!(looks_like(&map));
        let map: JsonObject = serde_json::from_str(r#"{"model":"m","input":{}}"#).unwrap();
        assert!(!looks_like(&map));
    }

    #[test]
    fn scanner_reads_tricky_lines_like_serde() {
        let bailed: Vec<&str> = TRICKY.iter().copied().filter(|l| !agree(l)).collect();
        assert_eq!(bailed, [TRICKY[8]]);
    }

    #[test]
    fn scanner_never_disagrees_with_serde_on_broken_lines() {
        let variants = crate::json::scan_value::broken_variants(&TRICKY[..1]);
        let fast = variants.iter().filter(|l| agree(l)).count();
        assert!(variants.len() > 20_000, "{}", variants.len());
        assert!(fast > 1_000, "{fast}");
    }
}
