//! The ground truth of a generated log: what was written, and for each
//! planted waste what a correct audit of that shape should find.
//!
//! The traffic is the same in every shape (same seed, same calls); the
//! truth says it in what the shape carries: the sums leave out what the
//! shape cannot count (1-hour cache writes, reasoning tokens), and each
//! planted waste names where the shape keeps the feature and the fields
//! that show the waste, or why the shape cannot show it at all.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::Serialize;
use serde_json::{json, Value};

use crate::shapes::LogShape;
use crate::{Call, Repeat};

/// Sums of what was written for one (feature, logged model).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Sums {
    pub calls: u64,
    pub ok_calls: u64,
    pub failed_calls: u64,
    /// Canonical total input (including cached reads and cache writes).
    pub input: u64,
    pub cached_read: u64,
    pub cache_write: u64,
    /// Of the cache writes, those with a 1-hour lifetime (0 where the shape
    /// cannot tell them apart).
    pub cache_write_1h: u64,
    pub output: u64,
    /// 0 where the shape does not count reasoning apart from the output.
    pub reasoning: u64,
}

/// A malformed line the generator planted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BadLine {
    pub file: String,
    pub line: u64,
    pub kind: &'static str,
}

/// One planted waste as this shape shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Planted {
    /// The rule that should find it (None: a fact for the report's other
    /// sections, or a healthy feature that must stay clean).
    pub rule: Option<&'static str>,
    pub feature: &'static str,
    /// The logged model names involved.
    pub models: Vec<&'static str>,
    pub waste: &'static str,
    /// Where the shape keeps the feature.
    pub feature_in: &'static str,
    /// The fields that show the waste in this shape; None when it cannot.
    pub seen_in: Option<&'static str>,
    /// Why this shape cannot show it.
    pub hidden_because: Option<&'static str>,
    /// What a correct audit counts, from the calls written (an object).
    pub figures: Value,
}

/// Exactly what the generator wrote.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GroundTruth {
    pub shape: &'static str,
    pub seed: u64,
    pub lines: u64,
    pub calls: u64,
    pub ok_calls: u64,
    pub failed_calls: u64,
    /// Lines that are not calls (Langfuse spans): a reader counts them as
    /// skipped, not rejected.
    pub not_call_lines: u64,
    /// Keyed `feature|logged model`.
    pub by_feature_model: BTreeMap<String, Sums>,
    pub bad_lines: Vec<BadLine>,
    pub planted: Vec<Planted>,
}

/// Counts of the planted patterns, taken as calls are written (after the
/// random failures, so they count what the log holds).
#[derive(Clone, Debug, Default)]
pub(crate) struct Counters {
    sessions: u64,
    max_turns: u64,
    history_resent_tokens: u64,
    storms: u64,
    storm_retries: u64,
    storm_failed_retries: u64,
    failed_billed: BTreeMap<&'static str, u64>,
    word_for_word: u64,
    reworded: u64,
    length_capped: u64,
    without_max_tokens: u64,
    spike_day_calls: u64,
    oversized: u64,
    contract_cached_calls: u64,
    contract_after_break: u64,
    last_day: u32,
}

/// The day the report writer spikes, the contract prompt breaks.
pub(crate) const SPIKE_DAY: u32 = 17;
pub(crate) const BREAK_DAY: u32 = 20;

impl Counters {
    pub(crate) fn add(&mut self, day: u32, c: &Call) {
        self.last_day = self.last_day.max(day);
        if c.error.is_some() && !c.usage_missing {
            *self.failed_billed.entry(c.feature).or_default() += 1;
        }
        match c.feature {
            "support-chat" => {
                let turn = c.turn.unwrap_or(1) as u64;
                self.sessions += (turn == 1) as u64;
                self.max_turns = self.max_turns.max(turn);
                self.history_resent_tokens +=
                    c.history.iter().map(|&(u, a)| (u + a) as u64).sum::<u64>();
            }
            "code-review" if c.attempt >= 2 => {
                // A storm's first attempt always failed; retries may have.
                self.storms += (c.attempt == 2) as u64;
                self.storm_retries += 1;
                self.storm_failed_retries += c.error.is_some() as u64;
            }
            "faq-bot" => match c.repeat {
                Repeat::WordForWord => self.word_for_word += 1,
                Repeat::Reworded => self.reworded += 1,
                Repeat::No => {}
            },
            "report-writer" => {
                self.length_capped += (c.finish == "length") as u64;
                self.without_max_tokens += c.max_tokens.is_none() as u64;
                self.spike_day_calls += (day == SPIKE_DAY) as u64;
            }
            "translate" => self.oversized += (c.input >= 8_000) as u64,
            "contract-review" => {
                self.contract_cached_calls += (c.cached > 0) as u64;
                self.contract_after_break += (day >= BREAK_DAY) as u64;
            }
            _ => {}
        }
    }
}

/// How the shape carries one kind of evidence: its field names, or why not.
type Seen = Result<&'static str, &'static str>;

const NO_PROMPT: &str =
    "no prompt data: spend logs store prompts only with store_prompts_in_spend_logs";
const HELICONE_NO_PROMPT: &str =
    "the export has no prompt (request bodies are behind signed_body_url)";
const HASHES_ONLY: &str = "prompt hashes only, no prompt text to compare";

fn feature_in(shape: LogShape) -> &'static str {
    match shape {
        LogShape::Gateway | LogShape::GatewayMinimal | LogShape::GatewayAltShuffled => "feature",
        LogShape::GatewayAltNested => "metadata.feature",
        LogShape::GatewayAltFlat => "use_case",
        LogShape::GatewayAltEnvelope => "request.metadata.feature",
        LogShape::LiteLlm | LogShape::LiteLlmMessages => "request_tags \"feature:<name>\"",
        LogShape::Langfuse => "traceName",
        LogShape::Otel => "resource attribute service.name",
        LogShape::Helicone => "properties.feature",
    }
}

/// The fields that show a conversation's history resent.
fn growth(shape: LogShape) -> Seen {
    Ok(match shape {
        LogShape::Gateway => "session, turn; usage input grows each turn",
        LogShape::GatewayMinimal => "session and timestamps (no turn); input grows in time order",
        LogShape::GatewayAltNested => "session_id, turn_index; usage input grows each turn",
        LogShape::GatewayAltFlat => {
            "thread_id, turn_number; prompt_tokens/input_tokens grow each turn"
        }
        LogShape::GatewayAltShuffled => "session, turn; messages resend the whole history",
        LogShape::GatewayAltEnvelope => {
            "request.metadata.session_id and turn; request.messages resend the whole history"
        }
        LogShape::LiteLlm => "session_id (no turn); prompt_tokens grow in time order",
        LogShape::LiteLlmMessages => "session_id (no turn); messages resend the whole history",
        LogShape::Langfuse => {
            "sessionId (no turn); the GENERATION's input resends the whole history"
        }
        LogShape::Otel => {
            "gen_ai.conversation.id (no turn); gen_ai.input.messages resend the whole history"
        }
        LogShape::Helicone => {
            "properties Helicone-Session-Id (no turn); prompt tokens grow in time order"
        }
    })
}

/// The fields that identify a call's system prompt.
fn system_prompt(shape: LogShape) -> Seen {
    match shape {
        LogShape::Gateway => Ok("system_prompt_hash, system_prompt_tokens"),
        LogShape::GatewayMinimal => Ok("system_prompt_hash (no token count)"),
        LogShape::GatewayAltNested => Ok("system_prompt_hash, prefix_tokens"),
        LogShape::GatewayAltFlat => Ok("prefix_fingerprint, prefix_tokens"),
        LogShape::GatewayAltShuffled => Ok("the system message in messages, system_prompt_tokens"),
        LogShape::GatewayAltEnvelope => {
            Ok("request.system (Anthropic) or the system message in request.messages")
        }
        LogShape::LiteLlm => Err(NO_PROMPT),
        LogShape::LiteLlmMessages => Ok("the system message's text in messages"),
        LogShape::Langfuse => Ok("the system message in the GENERATION's input"),
        LogShape::Otel => Ok("gen_ai.system_instructions"),
        LogShape::Helicone => Err(HELICONE_NO_PROMPT),
    }
}

/// The fields that identify a call's whole prompt.
fn prompt_identity(shape: LogShape) -> Seen {
    match shape {
        LogShape::Gateway | LogShape::GatewayMinimal | LogShape::GatewayAltNested => {
            Ok("prompt_hash")
        }
        LogShape::GatewayAltFlat => Ok("prompt_fingerprint"),
        LogShape::GatewayAltShuffled | LogShape::LiteLlmMessages => Ok("messages"),
        LogShape::GatewayAltEnvelope => Ok("request.messages"),
        LogShape::LiteLlm => Err(NO_PROMPT),
        LogShape::Langfuse => Ok("the GENERATION's input"),
        LogShape::Otel => Ok("gen_ai.input.messages"),
        LogShape::Helicone => Err(HELICONE_NO_PROMPT),
    }
}

/// The text a near-duplicate check compares.
fn prompt_text(shape: LogShape) -> Seen {
    match shape {
        LogShape::Gateway => Ok("messages (logged for faq-bot)"),
        LogShape::GatewayMinimal | LogShape::GatewayAltNested | LogShape::GatewayAltFlat => {
            Err(HASHES_ONLY)
        }
        LogShape::LiteLlm => Err(NO_PROMPT),
        LogShape::Helicone => Err(HELICONE_NO_PROMPT),
        other => prompt_identity(other),
    }
}

fn retries(shape: LogShape) -> Seen {
    match shape {
        LogShape::Gateway | LogShape::GatewayAltNested | LogShape::GatewayAltEnvelope => {
            Ok("attempt, retry_of")
        }
        LogShape::GatewayAltFlat => Ok("attempt_number, retry_of_request_id"),
        LogShape::GatewayAltShuffled => Ok("attempt, retry_of; the same messages"),
        LogShape::GatewayMinimal => {
            Ok("the same prompt_hash from the same user within a second of a failure")
        }
        LogShape::LiteLlm => Err("no prompt data and no retry field: retries look like new calls"),
        LogShape::LiteLlmMessages => {
            Ok("the same messages from the same end_user within a second of a failure")
        }
        LogShape::Langfuse => Ok("the same input from the same userId after a level ERROR"),
        LogShape::Otel => {
            Ok("the same gen_ai.input.messages from the same user.id after an error.type")
        }
        LogShape::Helicone => Err("no prompt and no retry field: retries look like new calls"),
    }
}

fn output_limits(shape: LogShape) -> Seen {
    match shape {
        LogShape::Gateway | LogShape::GatewayAltNested | LogShape::GatewayAltShuffled => {
            Ok("finish_reason, max_tokens")
        }
        LogShape::GatewayAltFlat => Ok("stop_reason, max_output_tokens"),
        LogShape::GatewayAltEnvelope => Ok("response.finish_reason, request.max_tokens"),
        LogShape::GatewayMinimal => Err("no finish_reason and no max_tokens"),
        LogShape::LiteLlm | LogShape::LiteLlmMessages => {
            Err("spend logs have no finish reason and no max_tokens")
        }
        LogShape::Langfuse => {
            Ok("modelParameters.max_tokens (no finish reason: a capped output equals it)")
        }
        LogShape::Otel => Ok("gen_ai.response.finish_reasons, gen_ai.request.max_tokens"),
        LogShape::Helicone => Err("the export has no finish reason and no max_tokens"),
    }
}

fn not_user_facing(shape: LogShape) -> Seen {
    Ok(match shape {
        LogShape::Gateway | LogShape::GatewayAltShuffled | LogShape::GatewayAltEnvelope => {
            "tags.user_facing = \"false\""
        }
        LogShape::GatewayAltNested => "metadata.user_facing = false",
        LogShape::GatewayAltFlat => "labels.user_facing = \"false\"",
        LogShape::GatewayMinimal => "no tags: every call in 02:00-03:00 UTC",
        LogShape::LiteLlm | LogShape::LiteLlmMessages => "request_tags \"user_facing:false\"",
        LogShape::Langfuse => "metadata.user_facing = \"false\"",
        LogShape::Otel => "no tag: service nightly-summaries calls only in 02:00-03:00 UTC",
        LogShape::Helicone => "properties.user_facing = \"false\"",
    })
}

fn cache_tokens(shape: LogShape) -> Seen {
    Ok(match shape {
        LogShape::GatewayAltFlat => "cache_read_input_tokens, cache_creation_input_tokens",
        LogShape::LiteLlm | LogShape::LiteLlmMessages => {
            "metadata.additional_usage_values (cache_read_input_tokens, cache_creation_input_tokens)"
        }
        LogShape::Langfuse => "usageDetails cache_read_input_tokens, cache_creation_input_tokens",
        LogShape::Otel => "gen_ai.usage.cache_read.input_tokens, gen_ai.usage.cache_creation.input_tokens",
        LogShape::Helicone => "prompt_cache_read_tokens, prompt_cache_write_tokens",
        LogShape::GatewayAltEnvelope => "response.usage: cache_read_input_tokens, cache_creation_input_tokens (Anthropic), prompt_tokens_details.cached_tokens (OpenAI)",
        _ => "usage: cache_read_input_tokens, cache_creation_input_tokens (Anthropic), prompt_tokens_details.cached_tokens (OpenAI)",
    })
}

fn logged_cost(shape: LogShape) -> Seen {
    match shape {
        LogShape::GatewayAltFlat => Ok("cost_usd"),
        LogShape::LiteLlm | LogShape::LiteLlmMessages => Ok("spend"),
        LogShape::Langfuse => Ok("totalCost, costDetails.total"),
        LogShape::Otel => Err("OpenTelemetry GenAI spans have no cost attribute"),
        _ => Ok("cost"),
    }
}

/// The planted wastes of a generated log, in `shape`'s terms.
pub(crate) fn planted(
    shape: LogShape,
    start: NaiveDate,
    days: u32,
    k: &Counters,
    sums: &BTreeMap<String, Sums>,
) -> Vec<Planted> {
    let sum = |feature: &str, model: &str| sums.get(&format!("{feature}|{model}"));
    let calls = |feature: &str, model: &str| sum(feature, model).map_or(0, |s| s.calls);
    let day = |d: u32| (start + Duration::days(d as i64)).to_string();
    let all = |_: LogShape| -> Seen { Ok("model and usage tokens") };
    let p = |rule: Option<&'static str>,
             feature: &'static str,
             models: &[&'static str],
             waste: &'static str,
             seen: fn(LogShape) -> Seen,
             figures: Value| {
        let seen = seen(shape);
        Planted {
            rule,
            feature,
            models: models.to_vec(),
            waste,
            feature_in: feature_in(shape),
            seen_in: seen.ok(),
            hidden_because: seen.err(),
            figures,
        }
    };
    let classifier = "gpt-4o-2024-08-06";
    let sonnet = "claude-sonnet-4-20250514";
    let haiku = "claude-3-5-haiku-20241022";
    let opus = "anthropic/claude-opus-4-1";
    let ticket = sum("ticket-classifier", classifier);
    let faq = calls("faq-bot", "gpt-4.1-mini");
    let mut out = vec![
        p(
            Some("TA111"),
            "ticket-classifier",
            &[classifier],
            "a premium model classifying: 1-5 output tokens a call",
            all,
            json!({"calls": calls("ticket-classifier", classifier), "max_output_tokens": 5, "output_tokens": ticket.map_or(0, |s| s.output)}),
        ),
        p(
            Some("TA102"),
            "support-chat",
            &[sonnet],
            "conversation history resent every turn",
            growth,
            json!({"sessions": k.sessions, "calls": calls("support-chat", sonnet), "max_turns": k.max_turns, "history_tokens_resent": k.history_resent_tokens}),
        ),
        p(
            Some("TA103"),
            "doc-qa",
            &["gpt-4.1"],
            "the same 3,200-token system prompt on every call, never cached",
            system_prompt,
            json!({"calls": calls("doc-qa", "gpt-4.1"), "prefix_tokens": 3200, "prefixes": 1, "uncached_prefix_tokens": 3200 * calls("doc-qa", "gpt-4.1")}),
        ),
        p(
            Some("TA104"),
            "agent-planner",
            &[haiku],
            "a 2,500-token system prompt that starts with the current time",
            system_prompt,
            json!({"calls": calls("agent-planner", haiku), "distinct_prefixes": calls("agent-planner", haiku), "prefix_tokens": 2500}),
        ),
        p(
            Some("TA105"),
            "contract-review",
            &[opus],
            "the cached 8,000-token prefix breaks: every call writes the cache, none reads it",
            cache_tokens,
            json!({"first_collapsed_day": (days > BREAK_DAY).then(|| day(BREAK_DAY)), "calls_after_break": k.contract_after_break, "calls_reading_the_cache": k.contract_cached_calls}),
        ),
        p(
            Some("TA106"),
            "doc-qa",
            &["gpt-4.1"],
            "retrieved context growing by 450 tokens a week",
            all,
            json!({"growth_tokens_per_week": 450}),
        ),
        p(
            Some("TA106"),
            "translate",
            &["mistral-large-latest"],
            "whole documents (8,000-20,000 tokens) pasted into 8% of prompts",
            all,
            json!({"oversized_calls": k.oversized, "calls": calls("translate", "mistral-large-latest")}),
        ),
        p(
            Some("TA107"),
            "code-review",
            &["gpt-4o"],
            "failed attempts that were billed their input",
            all,
            json!({"failed_calls": sum("code-review", "gpt-4o").map_or(0, |s| s.failed_calls), "failed_billed_calls": k.failed_billed.get("code-review").copied().unwrap_or(0)}),
        ),
        p(
            Some("TA108"),
            "code-review",
            &["gpt-4o"],
            "retry storms: 3-6 attempts within a second after 429/500",
            retries,
            json!({"storms": k.storms, "attempts": k.storms + k.storm_retries, "failed_attempts": k.storms + k.storm_failed_retries}),
        ),
        p(
            Some("TA109"),
            "faq-bot",
            &["gpt-4.1-mini"],
            "questions asked again word for word 1-10 minutes later",
            prompt_identity,
            json!({"calls": faq, "word_for_word_repeats": k.word_for_word, "distinct_prompts": 40}),
        ),
        p(
            Some("TA110"),
            "faq-bot",
            &["gpt-4.1-mini"],
            "questions asked again in other words",
            prompt_text,
            json!({"calls": faq, "reworded_repeats": k.reworded}),
        ),
        p(
            Some("TA112"),
            "report-writer",
            &["o3-mini"],
            "outputs cut at the length limit; most calls without max_tokens",
            output_limits,
            json!({"calls": calls("report-writer", "o3-mini"), "length_capped_calls": k.length_capped, "calls_without_max_tokens": k.without_max_tokens}),
        ),
        p(
            Some("TA113"),
            "nightly-summaries",
            &["gemini-2.5-flash"],
            "a nightly batch job paid at real-time prices",
            not_user_facing,
            json!({"calls": calls("nightly-summaries", "gemini-2.5-flash"), "burst_hour_utc": 2}),
        ),
        p(
            Some("TA114"),
            "report-writer",
            &["o3-mini"],
            "6x the calls on one day",
            all,
            json!({"day": (days > SPIKE_DAY).then(|| day(SPIKE_DAY)), "calls_that_day": k.spike_day_calls}),
        ),
        p(
            Some("TA115"),
            "search-summarize",
            &["gpt-4o-mini", "gpt-4o"],
            "calls moved from gpt-4o-mini to gpt-4o halfway",
            all,
            json!({"first_day_on_gpt_4o": day(days / 2), "calls_gpt_4o_mini": calls("search-summarize", "gpt-4o-mini"), "calls_gpt_4o": calls("search-summarize", "gpt-4o")}),
        ),
        p(
            None,
            "internal-tools",
            &["acme-llm-7b"],
            "a model no catalog knows (unpriced)",
            all,
            json!({"calls": calls("internal-tools", "acme-llm-7b")}),
        ),
        p(
            None,
            "translate",
            &["mistral-large-latest"],
            "the logged cost is 10% above the list price (reconciliation)",
            logged_cost,
            json!({"markup": 0.1}),
        ),
        p(
            None,
            "autocomplete",
            &["deepseek-chat"],
            "none: prompt caching works (80% of input cached); no finding",
            cache_tokens,
            json!({"calls": calls("autocomplete", "deepseek-chat")}),
        ),
    ];
    // A log too short for the spike or the break day does not plant them.
    out.retain(|w| {
        w.figures
            .as_object()
            .is_some_and(|m| m.values().all(|v| !v.is_null()))
    });
    out
}
