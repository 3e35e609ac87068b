//! Waste detectors: each rule reads the finished audit and the observations
//! gathered while the calls streamed past, and pushes [`Finding`]s a platform
//! team can act on, each with a dollar figure it can defend.
//!
//! One rule per file under `rules/`, ruff's shape: the file opens with a doc
//! comment (`## What it finds`, `## Why it costs money`, `## Example`,
//! `## How to fix`, `## Options`), then what the rule reads (`INPUTS`:
//! each input's sources best first, from which the report's rule coverage
//! is made, see [`coverage`]), its `Options` (declared with `rule_options!`:
//! a struct read from the config file's `[rules.CODE]` table, with its
//! defaults and a doc line per option), then its `check` function, which
//! gets them typed. [`RULES`] is the one table that lists
//! the rules and the only place a rule's code and name are written (the
//! runner stamps them on its findings); `tokenaudit rules CODE` prints the
//! code and name, the doc comment straight from the source file, the
//! options from the struct and the inputs, so the docs and the code cannot drift (a test
//! checks that each doc's `## Options` matches its struct).
//!
//! A finding's [`Finding::fingerprint`] is derived from the rule and its
//! scope only, so the same problem keeps the same id from one nightly run to
//! the next while its figures change.

mod config;
mod context;
mod held;
pub mod rules;

use std::any::Any;

use tokenaudit_core::Money;

pub(crate) use config::rule_options;
use config::{default_options, parse_options, AnyOptions};
pub use config::{DetectConfig, DetectFile, OptDoc, RuleOptions};
pub use context::{Context, EffectiveRates};
pub use held::Held;

use crate::coverage::{rule_coverage, Counts, Input, RuleCoverage};

// Types that moved out (the finding types to the leaf `finding`, groups to
// `audit`, budgets to `budget`) stay reachable where rules and callers have
// always found them.
use crate::accumulate::Cell;
pub use crate::audit::GroupRow;
pub use crate::budget::{Budget, BudgetFile};
use crate::finding::Lever;
pub use crate::finding::{
    fingerprint, sample_prompts, scope, Confidence, Evidence, Finding, Savings, Scope, Severity,
    MONTH_DAYS, SAMPLE_PROMPTS,
};

/// What a rule is: its code, name, summary, options and check, and its
/// source (for the doc). The code and name are given here only: the runner
/// stamps them on the rule's findings.
#[derive(Clone, Copy, Debug)]
pub struct RuleInfo {
    pub code: &'static str,
    pub name: &'static str,
    /// One line: what it finds.
    pub summary: &'static str,
    /// Each option with its default and meaning (from the rule's `Options`).
    pub options: fn() -> Vec<OptDoc>,
    /// The rule's `check`, given its `Options` (erased: see `rule!`).
    check: fn(&Context<'_>, &(dyn Any + Send + Sync), &mut Vec<Finding>),
    default_options: fn() -> AnyOptions,
    parse_options:
        fn(&str, &serde_json::Map<String, serde_json::Value>) -> Result<AnyOptions, String>,
    /// The inputs the rule reads, each with its sources best first: the
    /// report's rule coverage is generated from these (`coverage.rs`).
    pub inputs: &'static [Input],
    /// The rule's source file, whose leading `//!` comment is its doc.
    source: &'static str,
}

impl RuleInfo {
    /// The rule's documentation: its code and name, then its source file's
    /// leading `//!` comment.
    pub fn doc(&self) -> String {
        let mut out = format!("{} {}\n\n", self.code, self.name);
        for line in self.source.lines() {
            let Some(rest) = line.strip_prefix("//!") else {
                break;
            };
            out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            out.push('\n');
        }
        out
    }
}

/// A registry entry. Its options, defaults and check all come from the
/// rule's module, so the options a rule gets are always of the type it
/// declares: the downcast in `check` cannot fail.
macro_rules! rule {
    ($code:literal, $name:literal, $module:ident, $summary:literal) => {
        RuleInfo {
            code: $code,
            name: $name,
            summary: $summary,
            options: <rules::$module::Options as RuleOptions>::describe,
            check: |ctx, options, out| {
                let options = options
                    .downcast_ref()
                    .expect("a rule's options are of its own Options type");
                rules::$module::check(ctx, options, out)
            },
            default_options: default_options::<rules::$module::Options>,
            parse_options: parse_options::<rules::$module::Options>,
            inputs: rules::$module::INPUTS,
            source: include_str!(concat!("rules/", stringify!($module), ".rs")),
        }
    };
}

/// Every rule, in code order. Nothing else lists them.
pub static RULES: &[RuleInfo] = &[
    rule!(
        "TA101",
        "spend-concentration",
        ta101_spend_concentration,
        "The few feature × model groups that make most of the spend, and each feature's costliest calls."
    ),
    rule!(
        "TA102",
        "conversation-growth",
        ta102_conversation_growth,
        "Sessions whose input grows every turn because the history is resent."
    ),
    rule!(
        "TA103",
        "uncached-repeated-prefix",
        ta103_uncached_repeated_prefix,
        "A long system prompt sent again and again without provider prompt caching."
    ),
    rule!(
        "TA104",
        "volatile-prefix",
        ta104_volatile_prefix,
        "A system prompt that changes on every call (a timestamp in it), so it is never cached."
    ),
    rule!(
        "TA105",
        "cache-hit-collapse",
        ta105_cache_hit_collapse,
        "A feature's prompt-cache hit rate dropping sharply from one day to the next."
    ),
    rule!(
        "TA106",
        "prompt-size-drift",
        ta106_prompt_size_drift,
        "Prompts growing week over week, and p95 input far above the median."
    ),
    rule!(
        "TA107",
        "failed-call-spend",
        ta107_failed_call_spend,
        "Spend on calls that failed, and cost per successful call against cost per call."
    ),
    rule!(
        "TA108",
        "retry-storm",
        ta108_retry_storm,
        "Retry chains, storms faster than any backoff, and fallbacks to another model."
    ),
    rule!(
        "TA109",
        "duplicate-requests",
        ta109_duplicate_requests,
        "The same prompt to the same model within a TTL: what a response cache would save."
    ),
    rule!(
        "TA110",
        "near-duplicate-requests",
        ta110_near_duplicate_requests,
        "Reworded repeats of a recent prompt: what a semantic cache would save (needs prompt text)."
    ),
    rule!(
        "TA111",
        "premium-model-for-small-task",
        ta111_premium_model_for_small_task,
        "A premium model producing tiny outputs that a cheaper sibling would do."
    ),
    rule!(
        "TA112",
        "output-bloat",
        ta112_output_bloat,
        "Outputs cut at the length limit, and runaway outputs with no max_tokens."
    ),
    rule!(
        "TA113",
        "batch-eligible",
        ta113_batch_eligible,
        "Background traffic (tagged, or a nightly burst) paid at real-time prices."
    ),
    rule!(
        "TA114",
        "spend-spike",
        ta114_spend_spike,
        "A day whose spend for a feature or model breaks from its baseline (the trailing days, or the same weekday of the weeks before)."
    ),
    rule!(
        "TA115",
        "model-mix-drift",
        ta115_model_mix_drift,
        "A feature's calls moving to a pricier model over the period."
    ),
    rule!(
        "TA116",
        "budget-overrun",
        ta116_budget_overrun,
        "Daily, monthly and per-call spend above the budgets in the config file."
    ),
];

/// The rule with this code (case-insensitive) or name.
pub fn rule(code_or_name: &str) -> Option<&'static RuleInfo> {
    RULES
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

/// Every rule's coverage in code order: whether this run's input let it
/// run, and on which sources of its inputs (`crate::coverage`).
pub fn coverage(counts: &Counts, config: &DetectConfig) -> Vec<RuleCoverage> {
    RULES
        .iter()
        .map(|r| {
            let enabled = config.settings(r.code).is_some_and(|s| s.enabled);
            rule_coverage(r.code, r.name, r.inputs, enabled, counts)
        })
        .collect()
}

/// Runs every enabled rule and returns the findings, most savings first.
pub fn run(ctx: &Context<'_>) -> Vec<Finding> {
    let enabled: Vec<(&RuleInfo, &config::RuleSettings)> = RULES
        .iter()
        .filter_map(|r| {
            let settings = ctx.config.settings(r.code).filter(|s| s.enabled)?;
            Some((r, settings))
        })
        .collect();
    let check = |(r, settings): &(&RuleInfo, &config::RuleSettings)| {
        let mut found = Vec::new();
        RULE.with(|c| c.set(r.code));
        (r.check)(ctx, &*settings.options, &mut found);
        RULE.with(|c| c.set(""));
        for f in &mut found {
            f.rule = r.code;
            f.name = r.name;
            f.fingerprint = fingerprint(r.code, &f.scope);
        }
        found
    };
    // On threads, each taking the next rule; the results in rule order, so
    // the findings are the same.
    let per_rule =
        tokenaudit_ingest::pipeline::threads::map_in_order(&enabled, ctx.config.threads, check);
    let mut all: Vec<Finding> = per_rule.into_iter().flatten().collect();
    sort_findings(&mut all);
    all
}

thread_local! {
    /// The rule whose check runs on this thread: the fingerprint of a
    /// finding it leaves out under the floor is its code's and scope's.
    static RULE: std::cell::Cell<&'static str> = const { std::cell::Cell::new("") };
}

/// Most monthly savings first, then severity, rule and fingerprint.
pub fn sort_findings(v: &mut [Finding]) {
    v.sort_by(|a, b| {
        let sa = a.savings.as_ref().map_or(Money::ZERO, |s| s.monthly);
        let sb = b.savings.as_ref().map_or(Money::ZERO, |s| s.monthly);
        sb.cmp(&sa)
            .then_with(|| b.severity.cmp(&a.severity))
            .then_with(|| a.rule.cmp(b.rule))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
}

impl Finding {
    /// Sets the savings (scaled to a month), the severity they imply and the
    /// lever they assume; returns whether the finding is worth reporting.
    pub fn set_savings(
        &mut self,
        ctx: &Context<'_>,
        observed: Money,
        method: impl Into<String>,
        lever: Option<Lever>,
    ) -> bool {
        let monthly = ctx.monthly_in(&self.scope, observed);
        self.savings_of(ctx, observed, monthly, method.into(), lever)
    }

    /// [`Finding::set_savings`] with a month's figure the rule measures
    /// itself (TA115's: the run rate of the period's last days), beside
    /// what was spent in the period.
    pub fn set_savings_at_rate(
        &mut self,
        ctx: &Context<'_>,
        observed: Money,
        monthly: Money,
        method: impl Into<String>,
        lever: Option<Lever>,
    ) -> bool {
        self.savings_of(ctx, observed, monthly, method.into(), lever)
    }

    fn savings_of(
        &mut self,
        ctx: &Context<'_>,
        observed: Money,
        monthly: Money,
        method: String,
        lever: Option<Lever>,
    ) -> bool {
        self.severity = ctx.severity(monthly);
        self.savings = Some(Savings {
            observed,
            monthly,
            method,
        });
        self.lever = lever;
        let worth = ctx.worth_reporting(monthly);
        if !worth && monthly > Money::ZERO {
            self.clone().keep_for_tickets(ctx);
        }
        worth
    }

    /// Leaves the finding out of the report but keeps it for the tickets
    /// ([`Context::below_floor`]), under its rule's code and fingerprint.
    fn keep_for_tickets(mut self, ctx: &Context<'_>) {
        let rule = RULE.with(std::cell::Cell::get);
        if let Some(info) = RULES.iter().find(|r| r.code == rule) {
            self.rule = info.code;
            self.name = info.name;
            self.fingerprint = fingerprint(info.code, &self.scope);
            ctx.below_floor
                .lock()
                .expect("no panic holding it")
                .push(self);
        }
    }

    /// A finding a sampled estimate put under its rule's thresholds by less
    /// than the sample's error ([`Held`]), after [`Finding::set_savings`]
    /// said `worth`: not reported (the rule did not find it), but an open
    /// ticket stays open, as it is now, rather than close on the luck of
    /// the sample (hunt108: a TA109 ticket closed the night a 30-day window
    /// went past 50,000 prompts and was read 1 in 2, its repeat rate
    /// estimated at 4.2% where the calls give 5.45%).
    pub fn hold(self, ctx: &Context<'_>, worth: bool) {
        if worth {
            self.keep_for_tickets(ctx);
        } else if self
            .savings
            .as_ref()
            .is_some_and(|s| s.monthly > Money::ZERO)
        {
            // Already kept by `set_savings`, and counted as under the
            // floor: not reported for its threshold first.
            ctx.below_min_savings
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// `x` rounded to `digits` decimals (for evidence figures).
/// What a gateway's own response cache already answered in a finding's
/// cell (LiteLLM's `cache_hit` rows), for the response-caching findings:
/// the counts in the evidence, and a sentence before the recommendation
/// saying that the repeats found are the ones that cache missed.
pub(crate) fn with_gateway_cache_hits(mut f: Finding, cell: &Cell) -> Finding {
    let hits = &cell.obs.litellm_cache_hits;
    if hits.calls == 0 {
        return f;
    }
    f = f.with("litellm_cache_hits", hits.calls);
    let prompts = if hits.with_prompt > 0 {
        f = f.with("litellm_cache_hit_prompts", hits.distinct_prompts());
        format!(
            " ({} distinct prompts)",
            group_digits(hits.distinct_prompts())
        )
    } else {
        String::new()
    };
    f.recommendation = format!(
        "The gateway's cache (LiteLLM's, Portkey's) already answered {} requests of {} on this model{prompts}; the repeats counted here are the ones it missed. {}",
        group_digits(hits.calls),
        cell.feature,
        f.recommendation
    );
    f
}

/// 1234567 as "1,234,567".
fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn round_to(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// Whether a model answers text with text, by its name: not an embedding,
/// speech (text-to-speech, transcription, audio chat, Realtime and Live
/// sessions), image generation, moderation or rerank model. The rules about
/// a prompt's size, the length of an answer and the model a task needs
/// speak of chat; on the others they advise what cannot be done (hunt132:
/// transcriptions "routed" to gpt-4.1-nano, a text model, their audio
/// re-priced as its text; an indexer told to truncate the documents it
/// embeds; text-to-speech told to cap `max_tokens`).
pub fn serves_text_chat(id: &str) -> bool {
    let id = id.to_ascii_lowercase();
    const OTHER: &[&str] = &[
        "embed",
        "tts",
        "whisper",
        "transcribe",
        "audio",
        "realtime",
        "speech",
        "image",
        "dall",
        "imagen",
        "moderation",
        "rerank",
        // Voyage's embeddings; Amazon Nova Sonic's speech (hunt134).
        "voyage",
        "sonic",
        "-live",
        "veo-",
        "sora",
    ];
    !OTHER.iter().any(|w| id.contains(w))
}

/// A per-token rate as dollars per million tokens (for evidence).
pub fn per_mtok(rate: Money) -> String {
    (rate * 1_000_000u64).to_decimal_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_sentences_group_their_digits() {
        let g: Vec<String> = [0, 7, 999, 1_000, 12_345, 1_234_567]
            .into_iter()
            .map(group_digits)
            .collect();
        assert_eq!(g, ["0", "7", "999", "1,000", "12,345", "1,234,567"]);
    }

    /// The `## Options` section of each rule's doc lists its options in
    /// order, with the defaults of its `Options` struct.
    #[test]
    fn each_rules_doc_lists_its_options_with_their_defaults() {
        for r in RULES {
            let doc = r.doc();
            let section = doc
                .split("## Options\n")
                .nth(1)
                .unwrap_or_else(|| panic!("{}: no ## Options section", r.code));
            let options = (r.options)();
            if options.is_empty() {
                assert!(section.starts_with("None"), "{}: {section}", r.code);
                continue;
            }
            let listed: Vec<&str> = section
                .lines()
                .filter_map(|l| l.strip_prefix("- "))
                .map(|l| l.split(':').next().unwrap_or(l))
                .collect();
            let declared: Vec<String> = options
                .iter()
                .map(|o| format!("`{}` ({})", o.name, o.default))
                .collect();
            assert_eq!(listed, declared, "{}", r.code);
        }
    }

    #[test]
    fn a_rules_table_sets_its_typed_options_and_keeps_the_other_defaults() {
        let mut config = DetectConfig::default();
        let table = |json: serde_json::Value| json.as_object().cloned().unwrap();
        config
            .configure(
                "ta109",
                &table(serde_json::json!({"min_hits": 3, "ttl_minutes": 1})),
            )
            .unwrap();
        config
            .configure("retry-storm", &table(serde_json::json!({"enabled": false})))
            .unwrap();
        let ta109 = config.settings("TA109").unwrap();
        assert!(ta109.enabled);
        let o: &rules::ta109_duplicate_requests::Options = ta109.options.downcast_ref().unwrap();
        assert_eq!(
            *o,
            rules::ta109_duplicate_requests::Options {
                ttl_minutes: 1.0,
                min_hits: 3,
                min_hit_rate: 0.05,
            }
        );
        let ta108 = config.settings("TA108").unwrap();
        assert!(!ta108.enabled);
        let o: &rules::ta108_retry_storm::Options = ta108.options.downcast_ref().unwrap();
        assert_eq!(*o, rules::ta108_retry_storm::Options::default());
        // A bad table leaves the rule as it was.
        let err = config
            .configure("TA109", &table(serde_json::json!({"min_hits": -1})))
            .unwrap_err();
        assert_eq!(err, "[rules.TA109] min_hits: must not be negative, got -1");
        let o: &rules::ta109_duplicate_requests::Options = config
            .settings("TA109")
            .unwrap()
            .options
            .downcast_ref()
            .unwrap();
        assert_eq!(o.min_hits, 3);
        // A share above 1 (5 meant as 5%) is refused, a ratio or a count
        // above 1 is not (hunt63: `min_hit_rate = 5` turned TA109 off).
        for (code, key) in [
            ("TA109", "min_hit_rate"),
            ("TA107", "avoidable"),
            ("TA105", "drop"),
            ("TA110", "min_similarity"),
            ("TA115", "min_rise"),
            ("TA104", "distinct_share"),
        ] {
            let err = config
                .configure(code, &table(serde_json::json!({ key: 5 })))
                .unwrap_err();
            assert_eq!(
                err,
                format!("[rules.{code}] {key}: a share from 0 to 1 (0.05 is 5%), got 5")
            );
        }
        for (code, key) in [
            ("TA106", "growth"),
            ("TA111", "min_ratio"),
            ("TA109", "min_hits"),
        ] {
            let one = table(serde_json::json!({ key: 5 }));
            if let Err(e) = config.configure(code, &one) {
                assert!(!e.contains("share from 0 to 1"), "{e}");
            }
        }
        config
            .configure("TA106", &table(serde_json::json!({"growth": 2.5})))
            .unwrap();
    }
}
