//! Kong AI Gateway logs: what Kong's logging plugins (file-log, http-log,
//! tcp-log…) write for a request its AI Proxy plugin served, one JSON object
//! per line.
//!
//! Fields: `started_at` (epoch milliseconds), the AI plugin's `usage`
//! (`prompt_tokens` and `completion_tokens`, Kong 3.6's `prompt_token` and
//! `completion_token` under `ai-proxy`; `cost` when a price is set on the
//! plugin) and `meta`
//! (`response_model`, else `request_model`; `provider_name`;
//! `llm_latency`), under `ai.proxy` (Kong 3.8 and later) or `ai.ai-proxy`
//! (3.6, 3.7); the HTTP `response.status`; the Kong `route.name` as the
//! route and the consumer (`consumer.username`, else its `custom_id`) as
//! the user; `service.name` as a tag. A semantic-cache hit
//! (`cache.cache_status` "Hit") was answered by Kong, not billed: no call;
//! so is a request no AI plugin served (an auth plugin's 401, a health
//! check: Kong logs every request). A cost of 0 is Kong's default when no
//! price is set on the plugin: no logged cost.
//!
//! When the plugin logs payloads (`logging.log_payloads`), the request's
//! and the response's JSON text are read as a gateway log's logged pair:
//! the prompt fingerprints, the output limit, the finish reason, the
//! provider's request id, and the provider's own usage (with the cached
//! tokens Kong's copy leaves out), which is then the call's.
//!
//! Token convention: OpenAI's (`prompt_tokens` includes cached ones), as
//! Kong normalises every provider's usage to it.

use std::borrow::Cow;

use crate::engine::{Capture, Captured, Spec, Target as T};
use crate::formats::gateway::{self, Scope};
use crate::formats::{Builtin, Detect, Format, JsonObject};
use crate::json::value::Scalar;
use crate::record::fields::{LBool, LMoney, Lenient};
use crate::record::staging::RawLine;
use crate::rejects::{Reject, RejectReason};

/// Where a Kong log line keeps each field.
pub static SPEC: Spec = Spec::new(
    &[
        (T::Timestamp, &["started_at"]),
        (
            T::Model,
            &[
                "ai.proxy.meta.response_model",
                "ai.proxy.meta.request_model",
                "ai.ai-proxy.meta.response_model",
                "ai.ai-proxy.meta.request_model",
            ],
        ),
        (
            T::Provider,
            &[
                "ai.proxy.meta.provider_name",
                "ai.ai-proxy.meta.provider_name",
            ],
        ),
        (
            T::PromptTokens,
            &[
                "ai.proxy.usage.prompt_tokens",
                "ai.ai-proxy.usage.prompt_tokens",
                "ai.ai-proxy.usage.prompt_token",
            ],
        ),
        (
            T::CompletionTokens,
            &[
                "ai.proxy.usage.completion_tokens",
                "ai.ai-proxy.usage.completion_tokens",
                "ai.ai-proxy.usage.completion_token",
            ],
        ),
        // Kong 3.11's breakdown (its AI audit log reference:
        // `ai.proxy.usage.prompt_tokens_details`, `cached_tokens`): the
        // cached reads, inside the prompt as OpenAI's (hunt170: priced as
        // fresh input when the payload is not logged, Kong's default).
        (
            T::CachedTokens,
            &[
                "ai.proxy.usage.prompt_tokens_details.cached_tokens",
                "ai.ai-proxy.usage.prompt_tokens_details.cached_tokens",
            ],
        ),
        (
            T::ReasoningTokens,
            &[
                "ai.proxy.usage.completion_tokens_details.reasoning_tokens",
                "ai.ai-proxy.usage.completion_tokens_details.reasoning_tokens",
            ],
        ),
        (T::Cost, &["ai.proxy.usage.cost", "ai.ai-proxy.usage.cost"]),
        (
            T::Latency,
            &["ai.proxy.meta.llm_latency", "ai.ai-proxy.meta.llm_latency"],
        ),
        (T::HttpStatus, &["response.status"]),
        (T::Route, &["route.name"]),
        (T::User, &["consumer.username", "consumer.custom_id"]),
    ],
    &[],
    "tag",
    &[
        Capture::Value(&["service.name"]),
        Capture::Value(&[
            "ai.proxy.cache.cache_status",
            "ai.ai-proxy.cache.cache_status",
        ]),
        Capture::Value(&[
            "ai.proxy.payload.response",
            "ai.payload.response",
            "ai.ai-proxy.payload.response",
        ]),
        Capture::Value(&[
            "ai.payload.request",
            "ai.proxy.payload.request",
            "ai.ai-proxy.payload.request",
        ]),
        Capture::Object(&["ai.proxy", "ai.ai-proxy"]),
        Capture::Object(&["ai"]),
        Capture::Object(&["latencies"]),
    ],
    Some(hook),
);

/// The service tag, a cache hit, the logged payloads; a request no AI
/// plugin served is no call.
fn hook<'a>(raw: &mut RawLine<'a>, captured: &Captured<'_, 'a>) -> Result<(), Reject> {
    // Kong logs every request: an auth plugin's 401, a health check, a
    // route of no AI plugin (its envelope, `latencies`, and no `ai`). Any
    // other line without the AI Proxy's entry is said: another AI plugin's
    // call (3.6's transformers, `ai-proxy-advanced`), or no Kong line.
    if !captured.object(4) {
        // (Kong's envelope whole: an app's line with a `latencies` object of
        // its own is no Kong request; hunt43.)
        if captured.object(6) && !captured.object(5) && raw.timestamp.0.is_present() {
            return Err(Reject::new(
                RejectReason::NotACall,
                "a request no AI plugin served (a Kong log line without `ai`)",
            ));
        }
        return Err(Reject::new(
            RejectReason::MissingUsage,
            "no ai.proxy (or ai.ai-proxy) entry: another Kong AI plugin's call \
             (ai-request-transformer, ai-proxy-advanced…), which is not read, or no Kong line",
        ));
    }
    // Kong writes a cost of 0 when no price is set on the plugin (its
    // default): no logged cost.
    if matches!(&raw.cost.0, Lenient::Value(c) if c.picos() == 0) {
        raw.cost = LMoney(Lenient::Missing);
    }
    if let Lenient::Value(service) = captured.label(0) {
        raw.tags.push((Cow::Borrowed("service"), service));
    }
    if let Scalar::Str(status) = captured.value(1) {
        raw.cache_hit = LBool::from_label(Lenient::Value(status.clone()));
    }
    if let Scalar::Str(text) = captured.value(2) {
        // The provider's own usage, when the logged response has it, is the
        // call's: Kong's is its copy without the cached tokens.
        let kong = std::mem::take(&mut raw.usage);
        gateway::nested_from_text(raw, text, Scope::Response, 1);
        if !raw.usage.has_main_count() {
            raw.usage = kong;
        }
    }
    if let Scalar::Str(text) = captured.value(3) {
        gateway::nested_from_text(raw, text, Scope::Request, 1);
    }
    Ok(())
}

/// Whether a line is a Kong AI Gateway log's: Kong's envelope
/// (`started_at`, `latencies`) and an `ai` object whose AI Proxy entry has
/// its usage or meta (an app's own `ai` key is no Kong line).
pub fn looks_like(map: &JsonObject) -> bool {
    if !(map.contains_key("started_at") && map.contains_key("latencies")) {
        return false;
    }
    let Some(ai) = map.get("ai").and_then(|v| v.as_object()) else {
        return false;
    };
    ["proxy", "ai-proxy"].iter().any(|k| {
        ai.get(*k)
            .and_then(|v| v.as_object())
            .is_some_and(|p| p.contains_key("usage") || p.contains_key("meta"))
    })
}

/// The `kong` entry of the format registry (see [`crate::formats::REGISTRY`]).
pub static BUILTIN: Builtin = Builtin {
    name: "kong",
    aliases: &["kong-ai-gateway"],
    format: Format::Spec(&SPEC),
    // Any of the first lines: Kong logs every request, and a file can
    // open with an auth plugin's 401 or a health check.
    detect: Detect::AnyLine {
        markers: &["\"ai\""],
        looks_like,
    },
    doc: "Kong AI Gateway logs (its file-log, http-log… plugins' JSON lines):\n\
         the AI Proxy plugin's usage (prompt_tokens, completion_tokens,\n\
         cost) and meta (response_model else request_model, provider_name,\n\
         llm_latency) under ai.proxy (or 3.6's ai.ai-proxy), started_at,\n\
         response.status, route.name as the route, the consumer as the\n\
         user, service.name as a tag; a semantic-cache hit is no call.\n\
         Logged payloads (JSON text) give the prompt fingerprints, the\n\
         finish reason and the cached tokens.",
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rejects::RejectReason;
    use tokenaudit_core::CallStatus;

    /// A 3.8 line with payloads, a 3.6 line, a failed call, a cache hit,
    /// odd shapes.
    const TRICKY: &[&str] = &[
        r#"{"request":{"method":"POST","uri":"/openai/v1/chat/completions","size":512,"headers":{"host":"kong:8000"}},"response":{"status":200,"size":900},"route":{"id":"r1","name":"openai-chat","paths":["/openai"]},"service":{"id":"s1","name":"openai-svc"},"consumer":{"id":"c1","username":"team-search"},"latencies":{"request":2700,"kong":20,"proxy":2680},"started_at":1748772000000,"ai":{"payload":{"request":"{\"model\": \"gpt-4o\", \"max_tokens\": 256, \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}"},"proxy":{"usage":{"prompt_tokens":1000,"completion_tokens":100,"total_tokens":1100,"cost":0.0035,"time_per_token":30},"meta":{"request_model":"gpt-4o","provider_name":"openai","response_model":"gpt-4o-2024-08-06","plugin_id":"546c","llm_latency":2670},"payload":{"response":"{\"id\": \"chatcmpl-k1\", \"model\": \"gpt-4o-2024-08-06\", \"choices\": [{\"index\": 0, \"finish_reason\": \"stop\"}], \"usage\": {\"prompt_tokens\": 1000, \"completion_tokens\": 100, \"prompt_tokens_details\": {\"cached_tokens\": 400}}}"}}}}"#,
        r#"{"latencies":{"request":10,"kong":1,"proxy":9},"response":{"status":200},"started_at":1717236000000,"consumer":{"custom_id":"app-7"},"ai":{"ai-proxy":{"usage":{"prompt_token":300,"completion_token":20,"total_tokens":320},"meta":{"request_model":"claude-3-5-haiku-20241022","provider_name":"anthropic"}}}}"#,
        r#"{"latencies":{"request":10,"kong":1,"proxy":9},"response":{"status":429},"started_at":1748772060000,"route":{"name":"openai-chat"},"ai":{"proxy":{"meta":{"request_model":"gpt-4o","provider_name":"openai"}}}}"#,
        r#"{"latencies":{"request":10,"kong":1,"proxy":9},"response":{"status":200},"started_at":1748772120000,"ai":{"proxy":{"usage":{"prompt_tokens":1000,"completion_tokens":100},"meta":{"request_model":"gpt-4o","provider_name":"openai"},"cache":{"cache_status":"Hit"}}}}"#,
        r#"{"latencies":{"request":10,"kong":1,"proxy":9},"response":{"status":200},"started_at":1717236060000,"ai":{"ai-proxy":{"usage":{"prompt_token":1000,"completion_token":100,"cost":0},"meta":{"request_model":"gpt-4o","provider_name":"openai"},"payload":{"response":"{\"id\":\"chatcmpl-k2\",\"model\":\"gpt-4o-2024-08-06\",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":100,\"prompt_tokens_details\":{\"cached_tokens\":400}}}"}}}}"#,
        r#"{"latencies":{"request":10,"kong":1,"proxy":9},"request":{"method":"GET","uri":"/status"},"response":{"status":401},"started_at":1748772000000,"route":{"name":"openai-chat"}}"#,
        r#"{"latencies":{"request":10},"started_at":1717236000000,"ai":{"ai-request-transformer":{"usage":{"prompt_tokens":10,"completion_tokens":1},"meta":{"request_model":"gpt-4o"}}}}"#,
        r#"{"ai":{"proxy":{"usage":"none","meta":[1]}},"route":"x","service":{"name":7}}"#,
        r#"{"ai":{"proxy":{"usage":{"prompt_tokens":-1,"completion_tokens":1},"meta":{"request_model":"m"}}}}"#,
        r#"{}"#,
        r#"not json"#,
    ];

    #[test]
    fn kong_lines_of_each_version() {
        let r = SPEC.parse_line_str(TRICKY[0]).unwrap();
        assert_eq!(r.model, "gpt-4o-2024-08-06");
        assert_eq!(r.provider.as_deref(), Some("openai"));
        // Kong's usage, and the cached tokens its usage leaves out from the
        // logged response.
        assert_eq!(
            (r.usage.input, r.usage.cached_read, r.usage.output),
            (1000, 400, 100)
        );
        assert_eq!(r.route.as_deref(), Some("openai-chat"));
        assert_eq!(r.user.as_deref(), Some("team-search"));
        assert_eq!(r.request_id.as_deref(), Some("chatcmpl-k1"));
        assert_eq!(r.finish_reason.as_deref(), Some("stop"));
        assert_eq!(r.max_tokens, Some(256));
        assert!(r.prompt_fp.is_some());
        assert_eq!(r.latency_ms, Some(2670));
        assert_eq!(
            r.timestamp.unwrap().to_rfc3339(),
            "2025-06-01T10:00:00+00:00"
        );
        assert!(r
            .tags
            .iter()
            .any(|(k, v)| k == "service" && v == "openai-svc"));
        let r = SPEC.parse_line_str(TRICKY[1]).unwrap();
        assert_eq!(r.model, "claude-3-5-haiku-20241022");
        assert_eq!((r.usage.input, r.usage.output), (300, 20));
        assert_eq!(r.user.as_deref(), Some("app-7"));
        let r = SPEC.parse_line_str(TRICKY[2]).unwrap();
        assert_eq!(r.effective_status(), CallStatus::Error);
        let hit = SPEC.parse_line_str(TRICKY[3]).unwrap_err();
        assert_eq!(hit.reason, RejectReason::NotACall);
        // 3.6's logged response (hunt41), and its cost of 0: Kong's
        // default when no price is set, no logged cost.
        let r = SPEC.parse_line_str(TRICKY[4]).unwrap();
        assert_eq!(
            (r.usage.input, r.usage.cached_read, r.usage.output),
            (1000, 400, 100)
        );
        assert_eq!(r.logged_cost, None);
        // A request no AI plugin served (an auth plugin's 401).
        let other = SPEC.parse_line_str(TRICKY[5]).unwrap_err();
        assert_eq!(other.reason, RejectReason::NotACall);
        // An app's line with a `latencies` object of its own, in a Kong
        // file, is said, not skipped (hunt43).
        let app = r#"{"latencies":{"request":5},"model":"gpt-4o","usage":{"prompt_tokens":1}}"#;
        assert_eq!(
            SPEC.parse_line_str(app).unwrap_err().reason,
            RejectReason::MissingUsage
        );
        // Another AI plugin's call (3.6's transformers) is said, not read.
        let other = SPEC.parse_line_str(TRICKY[6]).unwrap_err();
        assert_eq!(other.reason, RejectReason::MissingUsage);
        for line in &TRICKY[7..] {
            assert!(SPEC.parse_line_str(line).is_err(), "{line}");
        }
    }

    /// The engine reads every line as its reference does, and only text
    /// that is no JSON object falls back to it.
    #[test]
    fn the_engine_and_its_reference_agree() {
        let bailed: Vec<&str> = TRICKY.iter().copied().filter(|l| !SPEC.agree(l)).collect();
        assert_eq!(bailed, ["not json"]);
    }

    #[test]
    fn detection() {
        let map = |line: &str| serde_json::from_str::<JsonObject>(line).unwrap();
        assert!(looks_like(&map(TRICKY[0])));
        assert!(looks_like(&map(TRICKY[1])));
        assert!(!looks_like(&map(TRICKY[5])));
        // An app's own `ai` key, without Kong's envelope (hunt42).
        assert!(!looks_like(&map(
            r#"{"model":"gpt-4o","ai":{"proxy":{"meta":{"x":1},"usage":{}}},"usage":{"prompt_tokens":1}}"#
        )));
        assert!(!looks_like(&map(r#"{"ai":{"usage":{}}}"#)));
        assert!(!looks_like(&map(r#"{"model":"gpt-4o"}"#)));
    }
}
