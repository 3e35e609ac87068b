//! What the audit concludes, as data: a [`Finding`] (rule, severity, scope,
//! evidence, savings, and the [`Lever`] its saving assumes) and the
//! [`Waterfall`] the findings' levers compound into.
//!
//! A leaf: these are plain serialisable types that the detectors (`detect`)
//! produce, what-if re-pricing (`whatif`) consumes and the report writers
//! read; they depend on nothing else in the crate, so any module can use them.

use std::collections::BTreeMap;

use serde::Serialize;

use tokenaudit_core::Money;

/// Days in the month savings are scaled to.
pub const MONTH_DAYS: f64 = 30.0;

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

/// A scope from pairs.
pub fn scope<const N: usize>(pairs: [(&'static str, &str); N]) -> Scope {
    pairs.into_iter().map(|(k, v)| (k, v.to_string())).collect()
}

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

/// The order levers are applied in the waterfall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Lever {
    /// Send the traffic to another catalog model (`provider/id`).
    Route {
        feature: String,
        model: Option<String>,
        to: String,
    },
    /// Provider prompt caching: at least `share` of input tokens read from
    /// the cache.
    PromptCache {
        feature: String,
        model: Option<String>,
        share: f64,
    },
    /// A response cache: `hit_rate` of calls answered without calling the
    /// model.
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
    },
    /// Cap output at `tokens` per call.
    MaxOutput {
        feature: String,
        model: Option<String>,
        tokens: u64,
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
            | Lever::Batch { feature, model }
            | Lever::MaxOutput { feature, model, .. }
            | Lever::AvoidFailures { feature, model, .. } => (feature, model.as_deref()),
        }
    }
}

/// One step of the waterfall.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    pub category: Category,
    pub label: &'static str,
    /// Saved by this step on what the steps before it left.
    pub savings: Money,
    /// Spend left after this step.
    pub remaining: Money,
    /// Findings whose levers this step applies (fingerprints).
    pub findings: Vec<String>,
}

/// The compounding savings waterfall of a set of findings (built by
/// `whatif::waterfall`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Waterfall {
    pub spend: Money,
    pub steps: Vec<Step>,
    pub total_savings: Money,
    pub remaining: Money,
    pub notes: Vec<String>,
}
