//! What the audit concludes, as data: a [`Finding`] (rule, severity, scope,
//! evidence, savings, and the [`Lever`] its saving assumes) and the
//! [`Waterfall`] the findings' levers compound into.
//!
//! A leaf: these are plain serialisable types that the detectors (`detect`)
//! produce, what-if re-pricing (`whatif`) consumes and the report writers
//! read; they depend on nothing else in the crate, so any module can use them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use tokenaudit_core::Money;

/// Days in the month savings are scaled to.
pub const MONTH_DAYS: f64 = 30.0;

/// How urgent a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// What a finding applies to: dimension → value (`feature` → `doc-qa`).
pub type Scope = BTreeMap<&'static str, String>;

/// A scope from pairs.
pub fn scope<const N: usize>(pairs: [(&'static str, &str); N]) -> Scope {
    pairs.into_iter().map(|(k, v)| (k, v.to_string())).collect()
}

/// The estimated saving of acting on a finding.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
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
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Finding {
    /// 16 hex digits derived from `rule` and `scope` only: stable across runs
    /// while the figures change.
    #[schemars(pattern(r"^[0-9a-f]{16}$"))]
    pub fingerprint: String,
    /// The rule's code (`tokenaudit rules CODE` explains it).
    #[schemars(pattern(r"^[A-Z]+[0-9]{3}$"))]
    pub rule: &'static str,
    /// The rule's kebab-case name.
    #[schemars(pattern(r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub name: &'static str,
    /// By monthly savings against the `[detect]` thresholds, or by rule.
    pub severity: Severity,
    /// One line; log-derived text included (escape it when rendering).
    pub title: String,
    /// What the finding applies to, `{dimension: value}`: `feature`, `model`
    /// (`provider/id`), `day`, `budget`, `kind`…
    pub scope: Scope,
    /// The figures behind it, `{name: value}`: numbers stay numbers, money is a
    /// decimal string.
    pub evidence: Evidence,
    /// Up to 3 request ids (or `file:line`) as examples; never prompt text.
    pub sample_requests: Vec<String>,
    /// Up to 3 excerpts (`SAMPLE_PROMPTS`), at most 200 characters each,
    /// of the prompts the finding is about (the last user message for TA109
    /// and TA110, the system prompt for TA103 and TA104); only with
    /// `--include-prompts`, else empty and left out of the JSON. Raw log
    /// text: escape it when rendering.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 3))]
    pub sample_prompts: Vec<String>,
    /// The estimated saving, or null.
    pub savings: Option<Savings>,
    /// How far the savings estimate can be trusted.
    pub confidence: Confidence,
    /// What to do.
    pub recommendation: String,
    /// The change the savings estimate assumes, as a what-if lever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lever: Option<Lever>,
}

impl Finding {
    /// A finding with its fixed parts. The rule's code and name and the
    /// fingerprint are left empty: the detectors' runner stamps them from
    /// the rule registry, so a rule never spells its own code.
    pub fn new(title: String, scope: Scope) -> Finding {
        Finding {
            fingerprint: String::new(),
            rule: "",
            name: "",
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

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// The order levers are applied in the waterfall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Routing,
    Caching,
    Context,
    Batch,
    RetryOutput,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Routing,
        Category::Caching,
        Category::Context,
        Category::Batch,
        Category::RetryOutput,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Category::Routing => "model routing",
            Category::Caching => "caching",
            Category::Context => "prompt and context trimming",
            Category::Batch => "batch API",
            Category::RetryOutput => "retry and output fixes",
        }
    }
}

/// One change to a feature's traffic (optionally only its calls to one
/// model: `model` is the cell's model label, `provider/id`).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Lever {
    /// Send the traffic to another catalog model (`provider/id`).
    Route {
        feature: String,
        model: Option<String>,
        to: String,
    },
    /// Provider prompt caching: at least `share` of input tokens read from
    /// the cache, and `write_share` of them written to it at the 5-minute
    /// (or, with `write_1h`, the 1-hour) cache-write rate, where writes cost
    /// more than input (the prompt-cache replay's writes).
    PromptCache {
        feature: String,
        model: Option<String>,
        share: f64,
        /// The share of input tokens written to the cache at a premium
        /// (absent when 0).
        #[serde(default, skip_serializing_if = "is_zero")]
        write_share: f64,
        /// The writes are at the 1-hour rate (absent when false).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        write_1h: bool,
        /// Only these days, sorted (a collapse's: the days before had their
        /// hits, and so may the days after); absent: every day.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        days: Vec<chrono::NaiveDate>,
    },
    /// A response cache: `hit_rate` of the traffic (by cost: the calls it
    /// answers over all the cell's) answered without calling the model.
    ResponseCache {
        feature: String,
        model: Option<String>,
        hit_rate: f64,
    },
    /// Send `fraction` fewer input tokens (history window, summary,
    /// shorter prompt).
    TrimInput {
        feature: String,
        model: Option<String>,
        fraction: f64,
    },
    /// Send the traffic through the provider's batch API.
    Batch {
        feature: String,
        model: Option<String>,
        /// Only the calls processed at standard rates (TA113's: priority
        /// and flex calls asked for their processing; absent when false).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        standard_only: bool,
        /// The share of the calls sent (TA113's calls tagged as background
        /// in a cell whose other calls carry no such tag); all when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        share: Option<f64>,
    },
    /// Cap output at `tokens` per call.
    MaxOutput {
        feature: String,
        model: Option<String>,
        tokens: u64,
        /// Only the calls sent without a `max_tokens` of their own (TA112's:
        /// a call that set its limit answered within it; absent when false).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        unset_only: bool,
    },
    /// Avoid `fraction` of the failed calls' spend (backoff, no retry
    /// storms, validate before sending).
    AvoidFailures {
        feature: String,
        model: Option<String>,
        fraction: f64,
    },
}

impl Lever {
    pub fn category(&self) -> Category {
        match self {
            Lever::Route { .. } => Category::Routing,
            Lever::PromptCache { .. } | Lever::ResponseCache { .. } => Category::Caching,
            Lever::TrimInput { .. } => Category::Context,
            Lever::Batch { .. } => Category::Batch,
            Lever::MaxOutput { .. } | Lever::AvoidFailures { .. } => Category::RetryOutput,
        }
    }

    /// The feature the lever changes, and the model when it is limited to one.
    pub fn scope(&self) -> (&str, Option<&str>) {
        match self {
            Lever::Route { feature, model, .. }
            | Lever::PromptCache { feature, model, .. }
            | Lever::ResponseCache { feature, model, .. }
            | Lever::TrimInput { feature, model, .. }
            | Lever::Batch { feature, model, .. }
            | Lever::MaxOutput { feature, model, .. }
            | Lever::AvoidFailures { feature, model, .. } => (feature, model.as_deref()),
        }
    }
}

/// One step of the waterfall.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Step {
    /// The levers' category; steps come in the order `routing`, `caching`,
    /// `context`, `batch`, `retry_output`.
    pub category: Category,
    /// The category in words.
    pub label: &'static str,
    /// Saved by this step on what the steps before it left.
    pub savings: Money,
    /// Spend left after this step.
    pub remaining: Money,
    /// Findings whose levers this step applies (fingerprints).
    pub findings: Vec<String>,
}

/// The compounding savings waterfall of a set of findings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Waterfall {
    /// Spend over the audited period.
    pub spend: Money,
    /// One step per lever category, in order.
    pub steps: Vec<Step>,
    /// The steps' savings added up: `spend` − `remaining`.
    pub total_savings: Money,
    /// Spend left after every step.
    pub remaining: Money,
    /// Caveats about the estimate, in words.
    pub notes: Vec<String>,
}
