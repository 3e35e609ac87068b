//! OpenRouter generation records: what `GET /api/v1/generation?id=…`
//! answers for each call, `{"data": {…}}`, kept one per line (a job that
//! fetches each generation's id after the call), with the API's snake_case
//! keys. The `data` objects alone are detected as the gateway reader's,
//! which prices them alike (its counts, cost and provider; not
//! `external_user`); `--input-format openrouter` reads them here. A line
//! with an `error` and no `data` (the endpoint's 404 when asked too soon)
//! is no call; detection looks at the first lines for a record.
//! (OpenRouter's SDKs give the same object with camelCase keys,
//! `nativeTokensPrompt`: a `[mapping]` reads those.)
//!
//! Fields: `id` (`gen-…`), `created_at`, `model` (OpenRouter's slug,
//! `anthropic/claude-sonnet-4.5`), `provider_name` (the provider that served
//! it: `Anthropic`, `Google AI Studio`, `Amazon Bedrock`, …, which picks the
//! catalog's prices: OpenRouter passes the provider's price through),
//! `total_cost` as the logged cost (reconciled; with `upstream_inference_cost`
//! added for a BYOK call, whose `total_cost` is OpenRouter's fee alone),
//! `latency` (the total
//! latency in milliseconds, as OpenRouter's API reference says),
//! `finish_reason` (else `native_finish_reason`), `external_user` (the
//! request's `user`), `session_id`, `service_tier`.
//!
//! Token convention: the `native_tokens_*` counts are the provider's
//! tokenizer's, the ones billed; `tokens_prompt` and `tokens_completion` are
//! OpenRouter's normalised counts (one tokenizer for every model), not
//! billed, and not read. `native_tokens_prompt` includes the cached tokens
//! (`native_tokens_cached`, the reads), as the `usage` of OpenRouter's
//! responses does (`prompt_tokens` with `prompt_tokens_details.cached_tokens`);
//! `native_tokens_completion` includes `native_tokens_reasoning`. OpenRouter
//! reports no cache writes: a call that wrote to Anthropic's cache is priced
//! as plain input, below its `total_cost` (the reconciliation shows it).

use crate::engine::{Capture, Captured, Spec, Target as T};
use crate::formats::{Builtin, Detect, Format, JsonObject};
use crate::record::staging::RawLine;
use crate::rejects::{Reject, RejectReason};

/// Where an OpenRouter generation record keeps each field.
pub static SPEC: Spec = Spec::new(
    &[
        (T::RequestId, &["data.id", "id"]),
        (T::Timestamp, &["data.created_at", "created_at"]),
        (T::Model, &["data.model", "model"]),
        (T::Provider, &["data.provider_name", "provider_name"]),
        (T::Cost, &["data.total_cost", "total_cost"]),
        (T::Latency, &["data.latency", "latency"]),
        (
            T::FinishReason,
            &[
                "data.finish_reason",
                "data.native_finish_reason",
                "finish_reason",
                "native_finish_reason",
            ],
        ),
        (T::User, &["data.external_user", "external_user"]),
        (T::Session, &["data.session_id", "session_id"]),
        (T::ServiceTier, &["data.service_tier", "service_tier"]),
        (
            T::PromptTokens,
            &["data.native_tokens_prompt", "native_tokens_prompt"],
        ),
        (
            T::CachedTokens,
            &["data.native_tokens_cached", "native_tokens_cached"],
        ),
        (
            T::CompletionTokens,
            &["data.native_tokens_completion", "native_tokens_completion"],
        ),
        (
            T::ReasoningTokens,
            &["data.native_tokens_reasoning", "native_tokens_reasoning"],
        ),
    ],
    &[],
    "",
    &[
        Capture::Object(&["error"]),
        Capture::Object(&["data"]),
        Capture::Value(&["data.upstream_inference_cost", "upstream_inference_cost"]),
        Capture::Value(&["data.is_byok", "is_byok"]),
    ],
    Some(hook),
);

/// An error the endpoint answered instead of a record (`{"error": {"code":
/// 404, "message": "Generation not found"}}`, asked too soon after the
/// call): no call, skipped as such (hunt58: such a first line hid the
/// file's records, and `--strict` failed on them). A BYOK call's
/// `total_cost` is OpenRouter's fee, the provider's charge beside it
/// (`upstream_inference_cost`): the logged cost is their sum
/// ([`crate::record::fields::RawUsage::with_upstream`]).
fn hook<'a>(raw: &mut RawLine<'a>, captured: &Captured<'_, 'a>) -> Result<(), Reject> {
    if captured.object(0) && !captured.object(1) {
        return Err(Reject::new(
            RejectReason::NotACall,
            "openrouter: an error answered instead of a generation record",
        ));
    }
    raw.usage
        .set_upstream_cost(crate::record::fields::LMoney::from_label(captured.label(2)).0);
    raw.usage.set_byok(&captured.label(3));
    Ok(())
}

/// Whether a file's first JSON object line is an OpenRouter generation
/// record as the API answers it: a `data` object with the native and the
/// normalised token counts. (The `data` objects alone are read by the
/// gateway reader, which knows the same `native_tokens_*` keys.)
pub fn looks_like(map: &JsonObject) -> bool {
    match map.get("data") {
        Some(serde_json::Value::Object(data)) => {
            data.contains_key("native_tokens_prompt") && data.contains_key("tokens_prompt")
        }
        _ => false,
    }
}

/// The `openrouter` entry of the format registry (see [`crate::formats::REGISTRY`]).
pub static BUILTIN: Builtin = Builtin {
    name: "openrouter",
    aliases: &["openrouter-generation"],
    format: Format::Spec(&SPEC),
    // Any of the first lines: a job that fetches records too soon after
    // their calls logs the endpoint's 404 errors among them.
    detect: Detect::AnyLine {
        markers: &["\"native_tokens_prompt\""],
        looks_like,
    },
    doc: "OpenRouter generation records (GET /api/v1/generation, {\"data\": {…}}\n\
         per line):\n\
         native_tokens_prompt (cached included) + native_tokens_cached,\n\
         native_tokens_completion (reasoning included) +\n\
         native_tokens_reasoning, total_cost (with upstream_inference_cost\n\
         added for a BYOK call, whose total_cost is OpenRouter's fee),\n\
         provider_name (the serving provider prices the call), latency,\n\
         external_user, session_id. The normalised tokens_prompt and\n\
         tokens_completion are not billed and not read; cache writes are not\n\
         reported by OpenRouter.",
};

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"data":{"id":"gen-1771967930-1gsys6ZhRaY0TPbuRsDR","upstream_id":"chatcmpl-791b","total_cost":0.03,"cache_discount":0.005,"upstream_inference_cost":null,"created_at":"2026-10-01T10:00:00.705Z","model":"openai/gpt-4o","app_id":2872617,"external_user":"u-1","streamed":true,"cancelled":false,"provider_name":"OpenAI","latency":412,"moderation_latency":null,"generation_time":2940,"finish_reason":"stop","native_finish_reason":"stop","tokens_prompt":9950,"tokens_completion":990,"native_tokens_prompt":10000,"native_tokens_completion":1000,"native_tokens_completion_images":null,"native_tokens_reasoning":0,"native_tokens_cached":4000,"num_media_prompt":null,"num_search_results":null,"origin":"https://example.com/","usage":0.03,"is_byok":false}}"#;

    #[test]
    fn native_counts_openai_convention_and_the_logged_cost() {
        let r = SPEC.parse_line_str(LINE).unwrap();
        assert_eq!(
            (
                r.usage.input,
                r.usage.cached_read,
                r.usage.output,
                r.usage.reasoning
            ),
            (10_000, 4_000, 1_000, 0)
        );
        assert_eq!(r.model, "openai/gpt-4o");
        assert_eq!(r.provider.as_deref(), Some("openai"));
        assert_eq!(
            r.request_id.as_deref(),
            Some("gen-1771967930-1gsys6ZhRaY0TPbuRsDR")
        );
        assert_eq!(r.user.as_deref(), Some("u-1"));
        assert_eq!(r.latency_ms, Some(412));
        assert_eq!(r.finish_reason.as_deref(), Some("stop"));
        assert_eq!(
            r.logged_cost.map(|m| m.to_string()),
            Some("0.03".to_string())
        );
        // The data object alone.
        let bare = r#"{"id":"gen-2","created_at":"2026-10-01T10:00:00Z","model":"openai/o4-mini","provider_name":"OpenAI","total_cost":0.0143,"tokens_prompt":990,"tokens_completion":2900,"native_tokens_prompt":1000,"native_tokens_completion":3000,"native_tokens_reasoning":2500,"native_tokens_cached":0}"#;
        let r = SPEC.parse_line_str(bare).unwrap();
        assert_eq!(
            (r.usage.input, r.usage.output, r.usage.reasoning),
            (1_000, 3_000, 2_500)
        );
        let map: JsonObject = serde_json::from_str(LINE).unwrap();
        assert!(looks_like(&map));
        let map: JsonObject = serde_json::from_str(bare).unwrap();
        assert!(!looks_like(&map), "the gateway reader's");
        let gateway: JsonObject =
            serde_json::from_str(r#"{"data":{"model":"gpt-4o","usage":{"prompt_tokens":1}}}"#)
                .unwrap();
        assert!(!looks_like(&gateway));
    }

    #[test]
    fn the_engine_reads_lines_like_the_reference() {
        let lines = [
            LINE,
            r#"{"data":{"id":"gen-3","model":"anthropic/claude-sonnet-4.5","provider_name":"Anthropic","native_tokens_prompt":20000,"native_tokens_cached":15000,"native_tokens_completion":500,"tokens_prompt":1,"tokens_completion":1,"total_cost":"0.027"}}"#,
            r#"{"data":{"id":"gen-4","model":"openai/gpt-4o","native_tokens_prompt":null,"native_tokens_completion":null,"tokens_prompt":10,"tokens_completion":2}}"#,
            r#"{"data":null,"id":"gen-5","model":"openai/gpt-4o","native_tokens_prompt":5,"native_tokens_completion":1}"#,
        ];
        for line in lines {
            assert!(SPEC.agree(line), "{line}");
        }
        let error = r#"{"error":{"code":404,"message":"Generation not found"}}"#;
        assert_eq!(
            SPEC.parse_line_str(error).unwrap_err().reason,
            RejectReason::NotACall
        );
    }
}
