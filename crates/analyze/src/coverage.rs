//! Which rules the input let run, and on what: the report's rule coverage,
//! generated from the rules' own declarations.
//!
//! Each rule declares the inputs it reads ([`Input`]) and, for each, where
//! it can come from, best first ([`Source`]: logged, derived from other
//! logged fields, or estimated). Every source is a [`Via`], and the code
//! that takes an input from a source counts the calls it took it for, at
//! the place where it does so (the accumulator for fields and turns, the
//! end of the run for sessions cut by a gap and for prefix sizes). The
//! coverage of a rule is then a function of its declaration and those
//! counts ([`rule_coverage`]; `detect::coverage` applies it to every rule
//! of the registry): it *ran*, *ran on estimated inputs* (which, for
//! how many calls, and what that costs in confidence) or *could not run*
//! (which input no call had, and what in a log would give it). It cannot
//! claim an inference the code did not make: a source no call used is not
//! listed.

use schemars::JsonSchema;
use serde::Serialize;

use crate::finding::Confidence;

/// One place an input can come from; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The model is in the price catalog (the call has a cost).
    Priced,
    /// A logged `timestamp`.
    Timestamp,
    /// A logged `feature` field.
    FeatureField,
    /// A tag named `feature` (a tags object's `"feature": NAME`).
    FeatureTag,
    /// Another dimension, chosen by `[attribution] feature`.
    FeatureChosen,
    /// A logged session id with a logged turn number.
    SessionTurn,
    /// A logged session id; turns inferred.
    Session,
    /// A user id, its calls cut into sessions by an inactivity gap.
    SessionByGap,
    /// Turns counted from the user messages in a logged `messages`.
    TurnFromMessages,
    /// Turns from time order, retries folded in.
    TurnFromOrder,
    /// A system-prompt fingerprint (logged, or from the prompt's text).
    PrefixFingerprint,
    /// A logged system-prompt token count.
    PrefixTokens,
    /// A system prompt's size estimated from its text.
    PrefixFromText,
    /// A system prompt's size from a prefix hash chain.
    PrefixFromChain,
    /// A system prompt's size bounded by the smallest input sharing it.
    PrefixMinInput,
    /// A prompt fingerprint (logged, or from the prompt's text).
    PromptFingerprint,
    /// The prompt's text.
    PromptText,
    /// Cached-read tokens in the usage.
    CachedRead,
    /// A status, HTTP status or error.
    Status,
    /// An attempt number or a `retry_of` id.
    Attempt,
    /// A finish reason.
    FinishReason,
    /// A `max_tokens` limit.
    MaxTokens,
    /// A `user_facing`, `interactive` or `background` tag.
    UserFacingTag,
    /// A LiteLLM row answered from LiteLLM's own cache (`cache_hit` true):
    /// a skipped line, counted as evidence.
    LitellmCacheHit,
}

impl Via {
    pub const COUNT: usize = Via::LitellmCacheHit as usize + 1;
}

/// How far an input taken from a source can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Read from a field the log carries.
    Logged,
    /// Worked out exactly from other logged fields.
    Derived,
    /// Estimated: the finding's confidence is lower.
    Estimated,
}

impl Kind {
    /// The highest confidence a finding built on this source can have.
    pub fn confidence(self) -> Confidence {
        match self {
            Kind::Logged => Confidence::High,
            Kind::Derived => Confidence::Medium,
            Kind::Estimated => Confidence::Low,
        }
    }
}

/// One source of an input.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    pub via: Via,
    pub kind: Kind,
    /// What in a log gives it, for the "could not run" line.
    pub from: &'static str,
}

/// One input a rule reads, with its sources best first.
#[derive(Clone, Copy, Debug)]
pub struct Input {
    pub name: &'static str,
    /// The rule cannot run without it (else it only limits what it finds).
    pub required: bool,
    pub sources: &'static [Source],
}

/// Shorthands for declarations.
pub const fn logged(via: Via, from: &'static str) -> Source {
    Source {
        via,
        kind: Kind::Logged,
        from,
    }
}

pub const fn derived(via: Via, from: &'static str) -> Source {
    Source {
        via,
        kind: Kind::Derived,
        from,
    }
}

pub const fn estimated(via: Via, from: &'static str) -> Source {
    Source {
        via,
        kind: Kind::Estimated,
        from,
    }
}

/// Inputs several rules share.
pub mod inputs {
    use super::*;

    pub const TIMESTAMP: Input = Input {
        name: "timestamp",
        required: true,
        sources: &[logged(Via::Timestamp, "a `timestamp`")],
    };
    pub const TIMESTAMP_OPTIONAL: Input = Input {
        required: false,
        ..TIMESTAMP
    };
    pub const PRICED: Input = Input {
        name: "cost",
        required: true,
        sources: &[logged(
            Via::Priced,
            "a model the price catalog knows (or `--prices`)",
        )],
    };
    pub const FEATURE: Input = Input {
        name: "feature",
        required: false,
        sources: &[
            logged(Via::FeatureField, "a `feature` field"),
            derived(Via::FeatureTag, "a tag named `feature`"),
            derived(
                Via::FeatureChosen,
                "the dimension `[attribution] feature` names",
            ),
        ],
    };
    pub const PREFIX_FINGERPRINT: Input = Input {
        name: "system_prompt_fingerprint",
        required: true,
        sources: &[logged(
            Via::PrefixFingerprint,
            "a `system_prompt_hash`, or the system prompt in `messages` or `system`",
        )],
    };
    const PREFIX_TOKENS: Source = logged(Via::PrefixTokens, "a `system_prompt_tokens` count");
    const PREFIX_TEXT: Source = estimated(
        Via::PrefixFromText,
        "the system prompt's text (characters per token)",
    );
    const PREFIX_CHAIN: Source = estimated(
        Via::PrefixFromChain,
        "a prefix hash chain with its block size",
    );
    /// A prefix's size, measured or bounded by the smallest input.
    pub const PREFIX_SIZE: Input = Input {
        name: "system_prompt_tokens",
        required: true,
        sources: &[
            PREFIX_TOKENS,
            PREFIX_TEXT,
            PREFIX_CHAIN,
            estimated(
                Via::PrefixMinInput,
                "the smallest input of the calls sharing the prefix (an upper bound)",
            ),
        ],
    };
    /// A volatile prefix's size (TA104): measured, or bounded by the
    /// smallest input of the feature's prefixed calls (each variant is
    /// sent once, so its own calls bound nothing).
    pub const VOLATILE_PREFIX_SIZE: Input = Input {
        sources: &[
            PREFIX_TOKENS,
            PREFIX_TEXT,
            PREFIX_CHAIN,
            estimated(
                Via::PrefixMinInput,
                "the smallest input of the feature's calls with a system prompt (an upper bound)",
            ),
        ],
        ..PREFIX_SIZE
    };
    pub const PROMPT_FINGERPRINT: Input = Input {
        name: "prompt_fingerprint",
        required: true,
        sources: &[logged(
            Via::PromptFingerprint,
            "a `prompt_hash`, or the prompt in `messages` or `prompt`",
        )],
    };
    /// Requests a gateway's response cache already answered: not needed,
    /// but the response-caching findings say how many.
    pub const GATEWAY_CACHE_HITS: Input = Input {
        name: "gateway_cache_hits",
        required: false,
        sources: &[logged(
            Via::LitellmCacheHit,
            "LiteLLM spend-log rows with `cache_hit` true (skipped, never priced)",
        )],
    };
    pub const FAILURES: Input = Input {
        name: "status",
        required: true,
        sources: &[logged(Via::Status, "a `status`, `http_status` or `error`")],
    };
}

/// A rule's coverage status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every input it read was logged.
    Ran,
    /// Some input came from a derived or estimated source.
    RanOnEstimates,
    /// No call had one of its required inputs (`missing` says which).
    CouldNotRun,
    /// Switched off in the config file.
    Disabled,
}

/// The calls one source gave an input for.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SourceUse {
    /// The source.
    pub via: Via,
    /// What in the log it came from.
    pub from: &'static str,
    /// Logged, derived or estimated.
    pub kind: Kind,
    /// Calls it gave the input for (scaled when sampled).
    pub calls: u64,
    /// The highest confidence a finding built on it can have.
    pub confidence: Confidence,
}

/// One input of a rule and the sources it came from.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct InputUse {
    /// The input's name (`session`, `turn`, `system_prompt_tokens`, …).
    pub input: &'static str,
    /// The rule cannot run without it.
    pub required: bool,
    /// The sources some call used, best first.
    pub sources: Vec<SourceUse>,
}

/// One rule's line of the coverage section.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RuleCoverage {
    /// The rule's code (`TA102`).
    pub rule: &'static str,
    /// The rule's name.
    pub name: &'static str,
    /// Whether it ran, on what.
    pub status: Status,
    /// Each input it declares, in its declaration's order.
    pub inputs: Vec<InputUse>,
    /// For a rule that could not run: the required input no call had, and
    /// what in a log would give it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

/// Calls per source, added up like every other count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts(pub [u64; Via::COUNT]);

impl Default for Counts {
    fn default() -> Counts {
        Counts([0; Via::COUNT])
    }
}

impl Counts {
    #[inline]
    pub fn add(&mut self, via: Via, n: u64) {
        self.0[via as usize] += n;
    }

    pub fn get(&self, via: Via) -> u64 {
        self.0[via as usize]
    }

    pub fn merge(&mut self, o: &Counts) {
        for (a, b) in self.0.iter_mut().zip(o.0) {
            *a += b;
        }
    }
}

/// The coverage of one rule's `inputs` given `counts`.
pub fn rule_coverage(
    rule: &'static str,
    name: &'static str,
    inputs: &[Input],
    enabled: bool,
    counts: &Counts,
) -> RuleCoverage {
    let uses: Vec<InputUse> = inputs
        .iter()
        .map(|i| InputUse {
            input: i.name,
            required: i.required,
            sources: i
                .sources
                .iter()
                .filter(|s| counts.get(s.via) > 0)
                .map(|s| SourceUse {
                    via: s.via,
                    from: s.from,
                    kind: s.kind,
                    calls: counts.get(s.via),
                    confidence: s.kind.confidence(),
                })
                .collect(),
        })
        .collect();
    let missing = inputs
        .iter()
        .zip(&uses)
        .find(|(i, u)| i.required && u.sources.is_empty())
        .map(|(i, _)| {
            let from: Vec<&str> = i.sources.iter().map(|s| s.from).collect();
            format!(
                "no call had {}; it comes from {}",
                i.name,
                from.join(", or ")
            )
        });
    let status = if !enabled {
        Status::Disabled
    } else if missing.is_some() {
        Status::CouldNotRun
    } else if uses
        .iter()
        .any(|u| u.sources.iter().any(|s| s.kind != Kind::Logged))
    {
        Status::RanOnEstimates
    } else {
        Status::Ran
    };
    RuleCoverage {
        rule,
        name,
        status,
        inputs: uses,
        missing,
    }
}

#[cfg(test)]
mod tests {
    use super::inputs::*;
    use super::*;

    #[test]
    fn status_follows_the_sources_used() {
        let mut c = Counts::default();
        let ins = [PREFIX_FINGERPRINT, PREFIX_SIZE, TIMESTAMP_OPTIONAL];
        // Nothing: the first required input is missing.
        let r = rule_coverage("TA103", "x", &ins, true, &c);
        assert_eq!(r.status, Status::CouldNotRun);
        assert!(r.missing.as_deref().unwrap().starts_with(
            "no call had system_prompt_fingerprint; it comes from a `system_prompt_hash`"
        ));
        // A fingerprint, sizes from the smallest input: estimates.
        c.add(Via::PrefixFingerprint, 10);
        c.add(Via::PrefixMinInput, 10);
        let r = rule_coverage("TA103", "x", &ins, true, &c);
        assert_eq!(r.status, Status::RanOnEstimates);
        assert_eq!(
            r.inputs[1].sources,
            [SourceUse {
                via: Via::PrefixMinInput,
                from: "the smallest input of the calls sharing the prefix (an upper bound)",
                kind: Kind::Estimated,
                calls: 10,
                confidence: Confidence::Low
            }]
        );
        // The optional timestamp being absent changes nothing.
        assert!(r.inputs[2].sources.is_empty());
        // Logged sizes for all: ran.
        let mut logged = Counts::default();
        logged.add(Via::PrefixFingerprint, 10);
        logged.add(Via::PrefixTokens, 10);
        assert_eq!(
            rule_coverage("TA103", "x", &ins, true, &logged).status,
            Status::Ran
        );
        assert_eq!(
            rule_coverage("TA103", "x", &ins, false, &logged).status,
            Status::Disabled
        );
    }
}
