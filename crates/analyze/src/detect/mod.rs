//! Waste detectors: each rule reads the finished audit and the observations
//! gathered while the calls streamed past, and pushes [`Finding`]s a platform
//! team can act on, each with a dollar figure it can defend.
//!
//! One rule per file under `rules/`, ruff's shape: the file opens with a doc
//! comment (`## What it finds`, `## Why it costs money`, `## Example`,
//! `## How to fix`, `## Options`), then the rule's options, then its
//! `check` function. [`RULES`] is the one table that lists them;
//! `tokenaudit rules CODE` prints a rule's doc comment straight from its
//! source file, so the docs and the code cannot drift.
//!
//! A finding's [`Finding::fingerprint`] is derived from the rule and its
//! scope only, so the same problem keeps the same id from one nightly run to
//! the next while its figures change.

mod config;
mod context;
pub mod rules;

use std::collections::BTreeMap;

use serde::Serialize;

use tokenaudit_core::Money;

pub use config::{Budget, BudgetFile, DetectConfig, DetectFile, Opt, RuleOptions};
pub use context::{scale, Context, EffectiveRates, GroupRow, MONTH_DAYS};

use crate::whatif::Lever;

/// How urgent a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text.trim().to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            _ => None,
        }
    }
}

/// How far the savings estimate can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// What a finding applies to: dimension → value (`feature` → `doc-qa`).
pub type Scope = BTreeMap<&'static str, String>;

/// The estimated saving of acting on a finding.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Savings {
    /// Over the audited period.
    pub observed: Money,
    /// Scaled to a 30-day month from the audited period's length.
    pub monthly: Money,
    /// How the figure was computed, in one sentence.
    pub method: String,
}

/// A figure of evidence: a name and a value (numbers stay numbers in JSON).
pub type Evidence = BTreeMap<&'static str, serde_json::Value>;

/// Prompt excerpts a finding shows at most.
pub const SAMPLE_PROMPTS: usize = 3;

/// Up to [`SAMPLE_PROMPTS`] distinct excerpts, in the order given.
pub fn sample_prompts<'e>(excerpts: impl IntoIterator<Item = &'e str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in excerpts {
        if out.len() == SAMPLE_PROMPTS {
            break;
        }
        if !out.iter().any(|o| o == e) {
            out.push(e.to_string());
        }
    }
    out
}

/// One finding, ready to become a ticket.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Stable id: a hash of the rule code and the scope.
    pub fingerprint: String,
    pub rule: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub title: String,
    pub scope: Scope,
    pub evidence: Evidence,
    /// A few request ids as examples (never prompt text).
    pub sample_requests: Vec<String>,
    /// Up to [`SAMPLE_PROMPTS`] excerpts of the prompts (or system prompts)
    /// the finding is about; only with `--include-prompts`, else empty and
    /// left out of the JSON.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sample_prompts: Vec<String>,
    pub savings: Option<Savings>,
    pub confidence: Confidence,
    pub recommendation: String,
    /// The change the savings estimate assumes, as a what-if lever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lever: Option<Lever>,
}

/// The fingerprint of (rule, scope): 16 hex digits of xxh3.
pub fn fingerprint(rule: &str, scope: &Scope) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(rule.as_bytes());
    for (k, v) in scope {
        h.update(&[0x1e]);
        h.update(k.as_bytes());
        h.update(&[0x1f]);
        h.update(v.as_bytes());
    }
    format!("{:016x}", h.digest())
}

/// What a rule is: its code, name, category, and its source (for the doc).
#[derive(Clone, Copy, Debug)]
pub struct RuleInfo {
    pub code: &'static str,
    pub name: &'static str,
    /// One line: what it finds.
    pub summary: &'static str,
    pub check: fn(&Context<'_>, &RuleOptions, &mut Vec<Finding>),
    /// The options the rule takes, with defaults.
    pub options: &'static [Opt],
    /// The inputs the rule reads, each with its sources best first: the
    /// report's rule coverage is generated from these (`coverage.rs`).
    pub inputs: &'static [crate::coverage::Input],
    /// The rule's source file, whose leading `//!` comment is its doc.
    source: &'static str,
}

impl RuleInfo {
    /// The rule's documentation: its source file's leading `//!` comment.
    pub fn doc(&self) -> String {
        let mut out = String::new();
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

macro_rules! rule {
    ($code:literal, $name:literal, $module:ident, $summary:literal) => {
        RuleInfo {
            code: $code,
            name: $name,
            summary: $summary,
            check: rules::$module::check,
            options: rules::$module::OPTIONS,
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
        "A day whose spend for a feature or model breaks from its trailing median."
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

/// Runs every enabled rule and returns the findings, most savings first.
pub fn run(ctx: &Context<'_>) -> Vec<Finding> {
    let mut all = Vec::new();
    for r in RULES {
        let options = ctx.config.options(r.code);
        if !options.enabled {
            continue;
        }
        let mut found = Vec::new();
        (r.check)(ctx, &options, &mut found);
        for f in &mut found {
            debug_assert_eq!(f.rule, r.code);
            f.fingerprint = fingerprint(r.code, &f.scope);
        }
        all.extend(found);
    }
    sort_findings(&mut all);
    all
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

/// Helpers for rules.
impl Finding {
    /// A finding with its fixed parts; the fingerprint is set by [`run`].
    pub fn new(rule: &'static str, title: String, scope: Scope) -> Finding {
        let name = RULES.iter().find(|r| r.code == rule).map_or("", |r| r.name);
        Finding {
            fingerprint: String::new(),
            rule,
            name,
            severity: Severity::Info,
            title,
            scope,
            evidence: Evidence::new(),
            sample_requests: Vec::new(),
            sample_prompts: Vec::new(),
            savings: None,
            confidence: Confidence::Medium,
            recommendation: String::new(),
            lever: None,
        }
    }

    pub fn with(mut self, key: &'static str, value: impl Into<serde_json::Value>) -> Finding {
        self.evidence.insert(key, value.into());
        self
    }
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
        let monthly = ctx.monthly(observed);
        self.severity = ctx.severity(monthly);
        self.savings = Some(Savings {
            observed,
            monthly,
            method: method.into(),
        });
        self.lever = lever;
        ctx.worth_reporting(monthly)
    }
}

/// `x` rounded to `digits` decimals (for evidence figures).
pub fn round_to(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// A per-token rate as dollars per million tokens (for evidence).
pub fn per_mtok(rate: Money) -> String {
    (rate * 1_000_000u64).to_decimal_string()
}

/// A scope from pairs.
pub fn scope<const N: usize>(pairs: [(&'static str, &str); N]) -> Scope {
    pairs.into_iter().map(|(k, v)| (k, v.to_string())).collect()
}
