//! Helicone request exports (`npx @helicone/export`, the request API's rows):
//! JSON lines, a JSON array, or CSV, one request per row.
//!
//! Fields: `request_id` (or `response_id`), `request_created_at`,
//! `response_status` (HTTP; Helicone writes negative or zero codes for
//! requests that got no response, read as failures), `delay_ms`,
//! `time_to_first_token`, `model` (or `response_model`, `request_model`),
//! `provider`, `cost` (or `costUSD`) as the logged cost, `request_user_id`,
//! and the custom properties (`properties` or `request_properties`, an object
//! or, in CSV, its JSON text) as tags; a `feature` property is the feature,
//! Helicone's own `Helicone-Session-Id` property the session.
//!
//! Token convention: `prompt_tokens` excludes the prompt cache. Helicone's
//! cost code (`costOfPrompt` in its `packages/cost`) bills `prompt_tokens`
//! as "the fresh, uncached tokens" and adds `prompt_cache_read_tokens` and
//! `prompt_cache_write_tokens` at their own rates, so input is the sum of the
//! three. `completion_tokens` is the output less its reasoning, which
//! `reasoning_tokens` counts beside it.
//!
//! A request Helicone answered from its own response cache
//! (`cache_reference_id` set to a request id other than the nil UUID) never
//! reached the provider and was not billed: it is counted under
//! [`RejectReason::NotACall`], not priced as a call.

use std::borrow::Cow;

use tokenaudit_core::{CallRecord, Money};

use crate::engine::{Capture, Captured, Spec, Target as T};
use crate::formats::{Builtin, Detect, Format, JsonObject};
use crate::record::fields::{LStr, Lenient, LU64};
use crate::record::staging::RawLine;
use crate::rejects::{Reject, RejectReason};

/// Where a Helicone request keeps each field.
pub static SPEC: Spec = Spec::new(
    &[
        (T::RequestId, &["request_id", "response_id"]),
        (T::Timestamp, &["request_created_at"]),
        (T::Model, &["model", "response_model", "request_model"]),
        (T::Provider, &["provider"]),
        // The export tool's CSV names the delay `latency`.
        (T::Latency, &["delay_ms", "latency"]),
        (T::Ttft, &["time_to_first_token"]),
        (T::Cost, &["cost", "costUSD"]),
        (T::User, &["request_user_id"]),
        (T::InputTokens, &["prompt_tokens"]),
        (T::OutputTokens, &["completion_tokens"]),
        (T::CacheReadTokens, &["prompt_cache_read_tokens"]),
        (T::CacheWriteTokens, &["prompt_cache_write_tokens"]),
        // Beside the prompt's and the completion's other tokens, as the
        // cache's are (Helicone's cost is prompt_tokens, each cache count
        // and the audio count, each at its rate: its `costOfPrompt`);
        // `hook` adds them to the counts (hunt79: not read, the audio lost).
        (T::AudioInTokens, &["prompt_audio_tokens"]),
        (T::AudioOutTokens, &["completion_audio_tokens"]),
        // Beside `completion_tokens` too (Helicone's request store keeps
        // them apart, its `total_tokens` adds them, and its handler says
        // "reasoning/thinking tokens are … NOT included in completion
        // tokens": hunt142's bug1, gpt-5's reasoning unbilled, −69%).
        (T::ReasoningTokens, &["reasoning_tokens"]),
    ],
    // The API gives the properties twice; the export tool's CSV only the
    // second.
    &["properties", "request_properties"],
    "property",
    &[
        Capture::Value(&["response_status"]),
        Capture::Value(&["cache_reference_id"]),
        // Helicone's own ClickHouse table (`request_response_rmt`, a
        // self-hosted Helicone's export): `status`, and `cost` in
        // billionths of a dollar (its migrations' `cost Nullable(UInt64)`).
        Capture::Value(&["status"]),
    ],
    Some(hook),
);

/// The status code's meaning, the cache-hit skip rule and the properties
/// that are fields. (Helicone's upper-case providers, `OPENAI`, are
/// lower-cased with every format's, by the record builder.)
fn hook<'a>(raw: &mut RawLine<'a>, captured: &Captured<'_, 'a>) -> Result<(), Reject> {
    let (mut status, cache_reference) = (captured.label(0), captured.label(1));
    if status == Lenient::Missing {
        status = captured.label(2);
        if status != Lenient::Missing {
            // (hunt144's bug5: its nano-dollars reconciled as dollars; a
            // whole number, as its UInt64 column holds.)
            if let Lenient::Value(cost) = &raw.cost.0 {
                if cost.picos() % 1_000_000_000_000 == 0 {
                    raw.cost.0 = Lenient::Value(Money::from_picos(cost.picos() / 1_000_000_000));
                }
            }
        }
    }
    if let Lenient::Value(id) = &cache_reference {
        if id.bytes().any(|b| b != b'0' && b != b'-') {
            return Err(Reject::new(
                RejectReason::NotACall,
                "helicone cache hit (cache_reference_id): answered from Helicone's cache, \
                 not billed by the provider",
            ));
        }
    }
    match &status {
        Lenient::Value(code) => match code.trim().parse::<i64>() {
            Ok(c @ 100..=599) => raw.http_status = LU64(Lenient::Value(c as u64)),
            Ok(c) => {
                raw.status = LStr(Lenient::Value(Cow::Borrowed("error")));
                raw.error_kind = LStr(Lenient::Value(Cow::Owned(format!("helicone_status_{c}"))));
            }
            Err(_) => raw.http_status = LU64(Lenient::WrongType),
        },
        Lenient::Missing => {}
        _ => raw.http_status = LU64(Lenient::WrongType),
    }
    // The audio counts beside the prompt and the completion tokens, and
    // the reasoning beside the completion: the record's counts hold them
    // (its audio and reasoning counts say how many). (A count absent or
    // null beside them is none: the audio alone, hunt80: rejected as audio
    // above the input.)
    let add = |total: &mut Lenient<u64>, more: &Lenient<u64>| match (&*total, more) {
        (Lenient::Value(t), Lenient::Value(m)) => *total = Lenient::Value(t.saturating_add(*m)),
        (Lenient::Missing, Lenient::Value(m)) => *total = Lenient::Value(*m),
        _ => {}
    };
    if let Some(x) = raw.usage.extras.as_deref() {
        let (audio_in, audio_out) = (x.audio_in.clone(), x.audio_out.clone());
        add(&mut raw.usage.input_tokens, &audio_in);
        add(&mut raw.usage.output_tokens, &audio_out);
    }
    // (Where a response's output was all reasoning, Helicone stores the
    // provider's `completion_tokens`, reasoning included, beside the same
    // `reasoning_tokens`: equal counts are that, hunt143's bug3.)
    let reasoning = raw.usage.reasoning_tokens.clone();
    if raw.usage.output_tokens != reasoning {
        add(&mut raw.usage.output_tokens, &reasoning);
    }
    const PREFIX: &str = "helicone-property-";
    let mut i = 0;
    while i < raw.tags.len() {
        let key = &raw.tags[i].0;
        if key.eq_ignore_ascii_case("feature")
            || key.eq_ignore_ascii_case("helicone-property-feature")
        {
            raw.feature = LStr(Lenient::Value(raw.tags.remove(i).1));
        } else if key.eq_ignore_ascii_case("helicone-session-id") {
            raw.session = LStr(Lenient::Value(raw.tags.remove(i).1));
        } else {
            let prefixed = key
                .as_bytes()
                .get(..PREFIX.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(PREFIX.as_bytes()));
            if prefixed {
                // The prefix is ASCII, so its end is a character boundary.
                let name = match &raw.tags[i].0 {
                    Cow::Borrowed(k) => Cow::Borrowed(&k[PREFIX.len()..]),
                    Cow::Owned(k) => Cow::Owned(k[PREFIX.len()..].to_string()),
                };
                raw.tags[i].0 = name;
            }
            i += 1;
        }
    }
    Ok(())
}

/// Whether a file's first JSON object line is a Helicone request.
pub fn looks_like(map: &JsonObject) -> bool {
    map.contains_key("request_created_at")
        && (map.contains_key("response_status")
            // Its ClickHouse table's columns.
            || (map.contains_key("status") && map.contains_key("prompt_cache_read_tokens")))
}

/// The `helicone` entry of the format registry (see [`crate::formats::REGISTRY`]).
pub static BUILTIN: Builtin = Builtin {
    name: "helicone",
    aliases: &[],
    format: Format::Spec(&SPEC),
    detect: Detect::FirstLine(looks_like),
    doc: "Helicone request exports (JSON, JSON lines, CSV): prompt_tokens\n\
         (uncached) + prompt_cache_read_tokens + prompt_cache_write_tokens,\n\
         completion_tokens, cost, response_status, delay_ms,\n\
         time_to_first_token, request_user_id, properties as tags (a\n\
         `feature` property is the feature, Helicone-Session-Id the\n\
         session). Requests answered from Helicone's cache\n\
         (cache_reference_id) were not billed: counted as not_a_call.",
};

/// Reads one Helicone request row.
pub fn parse_line(line: &[u8]) -> Result<CallRecord<'_>, Reject> {
    SPEC.parse_line(line)
}

/// The same for a line already validated as UTF-8.
pub fn parse_line_str(line: &str) -> Result<CallRecord<'_>, Reject> {
    SPEC.parse_line_str(line)
}

/// Reads a line both ways; when the engine accepts it, the result must be
/// the reference's. Returns whether it accepted it.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn agree(line: &str) -> bool {
    SPEC.agree(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_tokens_exclude_the_cache_and_cache_hits_are_not_calls() {
        let line = r#"{"request_id":"r1","request_created_at":"2026-10-01T08:00:00.000Z","response_status":200,"delay_ms":812,"time_to_first_token":240,"model":"claude-sonnet-4-5-20250929","provider":"ANTHROPIC","prompt_tokens":100,"completion_tokens":50,"prompt_cache_read_tokens":2000,"prompt_cache_write_tokens":300,"cost":0.0025,"request_user_id":"u-7","properties":{"Helicone-Property-Feature":"support-chat","Helicone-Session-Id":"s-1","env":"prod"},"cache_reference_id":"00000000-0000-0000-0000-000000000000"}"#;
        let r = parse_line_str(line).unwrap();
        assert_eq!(
            (r.usage.input, r.usage.cached_read, r.usage.cache_write),
            (2400, 2000, 300)
        );
        assert_eq!(r.provider.as_deref(), Some("anthropic"));
        assert_eq!(r.feature.as_deref(), Some("support-chat"));
        assert_eq!(r.session.as_deref(), Some("s-1"));
        assert_eq!(r.tags, vec![(Cow::from("env"), Cow::from("prod"))]);
        assert_eq!((r.latency_ms, r.ttft_ms), (Some(812), Some(240)));
        let hit = line.replace(
            "00000000-0000-0000-0000-000000000000",
            "5b3c1f0e-1111-4f7e-9a7e-000000000001",
        );
        assert_eq!(
            parse_line_str(&hit).unwrap_err().reason,
            RejectReason::NotACall
        );
        let failed = r#"{"request_id":"r2","response_status":-1,"model":"gpt-4o","prompt_tokens":null,"completion_tokens":null}"#;
        let r = parse_line_str(failed).unwrap();
        assert_eq!(r.effective_status(), tokenaudit_core::CallStatus::Error);
        // The export tool's CSV: properties as JSON text.
        let csv_row = r#"{"response_id":"x","request_created_at":"2026-10-01T08:00:00Z","response_status":200,"request_properties":"{\"feature\":\"search\"}","model":"gpt-4o","prompt_tokens":10,"completion_tokens":2,"latency":300,"cost":0.000045}"#;
        let r = parse_line_str(csv_row).unwrap();
        assert_eq!(r.feature.as_deref(), Some("search"));
        assert_eq!(r.latency_ms, Some(300));
        assert_eq!(r.request_id.as_deref(), Some("x"));
    }

    /// Lines for the scanner-versus-serde checks.
    const TRICKY: &[&str] = &[
        r#"{"response_id":"c1","response_created_at":"2026-10-01T18:46:08.129Z","response_status":200,"response_model":"claude-3-5-haiku-20241022","request_id":"r1","model":"claude-3-5-haiku-20241022","request_created_at":"2026-10-01T18:46:03.250Z","request_path":"https://api.anthropic.com/v1/messages","request_user_id":"u_0263","request_properties":{"feature":"agent-planner","team":"agents","env":"prod","user_facing":"true"},"request_model":"claude-3-5-haiku-20241022","model_override":null,"provider":"ANTHROPIC","delay_ms":4879,"time_to_first_token":224,"total_tokens":3352,"prompt_tokens":2967,"prompt_cache_write_tokens":0,"prompt_cache_read_tokens":0,"completion_tokens":385,"cost":null,"scores":{},"costUSD":null,"properties":{"feature":"agent-planner","team":"agents","env":"prod","user_facing":"true"},"assets":[],"cache_reference_id":"00000000-0000-0000-0000-000000000000","cache_enabled":false}"#,
        r#"{"request_id":"r1","request_created_at":"2026-10-01T08:00:00.000Z","response_status":200,"delay_ms":812,"time_to_first_token":240,"model":"claude-sonnet-4-5-20250929","provider":"ANTHROPIC","prompt_tokens":100,"completion_tokens":50,"prompt_cache_read_tokens":2000,"prompt_cache_write_tokens":300,"cost":0.0025,"request_user_id":"u-7","properties":{"Helicone-Property-Feature":"support-chat","Helicone-Session-Id":"s-1","env":"prod","HELICONE-PROPERTY-Tier":"pro","feature":"later-wins","prompt_text":"secret","n":7,"f":1.0,"big":1e20,"b":true,"z":null,"o":{"x":[1]}},"cache_reference_id":"00000000-0000-0000-0000-000000000000"}"#,
        r#"{"request_id":"r2","response_status":-1,"model":"gpt-4o","prompt_tokens":null,"completion_tokens":null}"#,
        r#"{"response_id":"x","request_created_at":"2026-10-01T08:00:00Z","response_status":"200","request_properties":"{\"feature\":\"search\"}","model":"gpt-4o","prompt_tokens":"10","completion_tokens":2.0,"latency":"300","cost":0.000045}"#,
        r#"{"response_id":"x","response_status":" 429 ","request_properties":"{\"\"feature\"\":\"\"triage\"\"}","model":"gpt-4o","prompt_tokens":1,"completion_tokens":1,"costUSD":"0.5"}"#,
        r#"{"request_id":"r","response_status":0,"model":"gpt-4o","response_model":"gpt-4o-2024","request_model":"x","prompt_tokens":1,"completion_tokens":1}"#,
        r#"{"request_id":"r","response_status":700,"model":null,"response_model":"","request_model":"gpt-4o-mini","prompt_tokens":1,"completion_tokens":1,"provider":"openai"}"#,
        r#"{"request_id":"r","response_status":"ok","model":"gpt-4o","prompt_tokens":1,"completion_tokens":1}"#,
        r#"{"request_id":"r","response_status":[200],"model":"gpt-4o","prompt_tokens":1,"completion_tokens":1}"#,
        r#"{"request_id":"r","response_status":200.0,"model":"gpt-4o","prompt_tokens":1,"completion_tokens":1}"#,
        r#"{"request_id":"r","response_status":1e2,"model":"gpt-4o","prompt_tokens":1,"completion_tokens":1,"delay_ms":-5}"#,
        r#"{"request_id":"r","response_status":18446744073709551615,"model":"gpt-4o","prompt_tokens":1,"completion_tokens":1,"delay_ms":[1]}"#,
        r#"{"request_id":"r","model":"gpt-4o","prompt_tokens":-1,"completion_tokens":"x","prompt_cache_read_tokens":1.5}"#,
        r#"{"request_id":"r","model":"gpt-4o","prompt_tokens":10,"completion_tokens":1,"prompt_cache_read_tokens":200000000}"#,
        r#"{"request_id":"r","model":"gpt-4o","prompt_tokens":10,"completion_tokens":1,"cache_reference_id":"5b3c1f0e-1111-4f7e-9a7e-000000000001"}"#,
        r#"{"request_id":"r","model":"gpt-4o","prompt_tokens":10,"completion_tokens":1,"cache_reference_id":null,"properties":null,"request_properties":{"feature":"from-request"}}"#,
        r#"{"request_id":"r","model":"gpt-4o","prompt_tokens":10,"completion_tokens":1,"properties":5,"request_properties":{"feature":"unused"}}"#,
        r#"{"request_id":"r","model":"gpt-4o","prompt_tokens":10,"completion_tokens":1,"properties":["a",1,null,"",{"k":1}],"request_properties":{"feature":"unused"}}"#,
        r#"{"request_id":"r","model":"gpt-4o","prompt_tokens":10,"completion_tokens":1,"properties":"not json"}"#,
        r#"{"request_id":"r","model":"gpt-4o","prompt_tokens":10,"completion_tokens":1,"request_properties":{"k":1e400},"properties":{"feature":"f"}}"#,
        r#"{"request_id":"r","model":"gpt-4o","prompt_tokens":10,"completion_tokens":1,"request_properties":{"k":[1e400]}}"#,
        r#"{"request_id":"r","model":"gpt-4o","prompt_tokens":10,"completion_tokens":1,"unknown":{"k":[1e400]}}"#,
        r#"{"request_id":"r","model":"gpt-4o","prompt_tokens":10,"completion_tokens":1,"model":"dup"}"#,
        r#"{"re\u0071uest_id":"r\"1","model":"gpt\u002d4o","provider":"\u004fPENAI","prompt_tokens":10,"completion_tokens":1,"properties":{"fe\u0061ture":"caf\u00e9","Helicone-Property-\u00e9":"v"}}"#,
        r#"{"request_id":"r","model":"gpt-4o","prompt_tokens":10,"completion_tokens":1,"request_created_at":"not a time"}"#,
        r#"{"request_id":"r","model":"gpt-4o","prompt_tokens":10,"completion_tokens":1,"request_created_at":1790841600000,"cost":"abc"}"#,
        r#"{"request_id":"r","model":"gpt-4o","prompt_tokens":10,"completion_tokens":1,"properties":{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1,"q":1}}"#,
        r#"{"request_id":12,"model":true,"provider":7,"request_user_id":-3,"prompt_tokens":10,"completion_tokens":1}"#,
        r#"{"request_id":"r","model":"gpt-4o","prompt_tokens":10,"completion_tokens":1} trailing"#,
        r#"{"request_id":"lone \ud83d","model":"gpt-4o","prompt_tokens":10,"completion_tokens":1}"#,
        "  {\"request_id\" : \"r\" ,\t\"model\" :\"gpt-4o\", \"prompt_tokens\":1,\r\n\"completion_tokens\" : 1 }  ",
        r#"{"model":"gpt-4o"}"#,
        r#"{}"#,
        r#"[1]"#,
        r#"not json"#,
    ];

    #[test]
    fn scanner_reads_tricky_lines_like_serde() {
        let bailed: Vec<&str> = TRICKY.iter().copied().filter(|l| !agree(l)).collect();
        // Out-of-range numbers (19-21: serde_json refuses the line),
        // properties over the stack's capacity, trailing text, a lone
        // surrogate, and the two lines that are not objects. A repeated
        // key (22) is read: the last one wins.
        let want: Vec<&str> = [19, 20, 21, 26, 28, 29, 33, 34]
            .iter()
            .map(|&i| TRICKY[i])
            .collect();
        assert_eq!(bailed, want);
    }

    #[test]
    fn predicted_keys_read_like_serde_whatever_line_came_before() {
        let alone = TRICKY.iter().filter(|l| agree(l)).count();
        let mut fast = 0;
        for before in TRICKY {
            for line in TRICKY {
                agree(before);
                fast += usize::from(agree(line));
            }
        }
        assert_eq!(fast, alone * TRICKY.len());
        assert!(agree(TRICKY[0]) && agree(TRICKY[0]));
        let r = parse_line_str(TRICKY[0]).unwrap();
        assert_eq!(r.feature.as_deref(), Some("agent-planner"));
        assert_eq!(r.provider.as_deref(), Some("anthropic"));
    }

    #[test]
    fn scanner_reads_the_fixtures_like_serde() {
        let files = [
            "helicone/requests.jsonl",
            "mixed/helicone-export.json",
            "mixed/helicone-output.csv",
        ];
        assert_eq!(
            crate::json::scan_value::fixtures_read_fast(&files, agree),
            9
        );
    }

    #[test]
    fn scanner_never_disagrees_with_serde_on_broken_lines() {
        let variants = crate::json::scan_value::broken_variants(&TRICKY[1..2]);
        let fast = variants.iter().filter(|l| agree(l)).count();
        assert!(variants.len() > 20_000, "{}", variants.len());
        assert!(fast > 1_000, "{fast}");
    }
}
