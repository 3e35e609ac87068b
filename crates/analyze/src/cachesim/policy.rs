//! Each provider's prompt-cache rules, as data.
//!
//! Prices are not here: cache reads and writes are priced from the catalog
//! (`cached_read`, `cache_write_5m`, `cache_write_1h`), which the importers
//! take from genai-prices and LiteLLM. What is here is what the catalogs do
//! not say: when a prompt is cached, how much of it, and for how long. Each
//! fact cites where it comes from; where a provider does not document one,
//! the assumption is named as such.

/// How a provider decides what to cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caching {
    /// Every long enough prompt is cached with no change to the request
    /// (OpenAI, Gemini's implicit caching).
    Automatic,
    /// Only what the request marks with a breakpoint (Anthropic's
    /// `cache_control`); the simulation assumes one breakpoint at the end of
    /// the system prompt.
    Explicit,
}

/// What a cache write is billed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteRate {
    /// The plain input rate: writing costs nothing extra.
    Input,
    /// The model's 5-minute cache-write rate.
    Write5m,
    /// The model's 1-hour cache-write rate.
    Write1h,
}

/// One cache lifetime a provider offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetime {
    /// How the lifetime is named in evidence (`5m`, `1h`, `24h`).
    pub name: &'static str,
    /// An entry lives this long after its last use (each hit refreshes it).
    pub idle_ms: i64,
    /// An entry is dropped this long after it was written, used or not.
    pub max_ms: Option<i64>,
    pub write: WriteRate,
}

/// A provider's prompt-cache rules for one model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub caching: Caching,
    /// Prompts (or marked prefixes) shorter than this are never cached.
    pub min_tokens: u64,
    /// Past the minimum, cached prefixes grow in steps of this many tokens.
    pub step: u64,
    /// The lifetimes on offer, the default first.
    pub lifetimes: &'static [Lifetime],
    /// Whose rules these are, as findings name them (no URL: reports link
    /// nowhere).
    pub name: &'static str,
    /// Where these facts come from.
    pub source: &'static str,
}

const MINUTE: i64 = 60_000;

/// OpenAI: automatic for prompts of 1,024 tokens or more, "a match until the
/// first mismatched token in 128 token blocks", no write fee before GPT-5.6; in-memory
/// entries are "typically cleared within 5 to 10 minutes of inactivity and
/// always removed within one hour" (the simulation takes the 5 minutes);
/// extended retention keeps them "up to a maximum of 24 hours" on the
/// models that offer it (gpt-4.1 and the gpt-5 family).
/// <https://developers.openai.com/api/docs/guides/prompt-caching>,
/// <https://developers.openai.com/cookbook/examples/prompt_caching_201>.
/// Writes at the model's cache-write rate, which is its input rate but for
/// the models the catalog gives one ("for GPT-5.6 models and later … cache
/// writes cost 1.25× the uncached input token rate": hunt156, TA103's
/// saving on gpt-5.6 38% high).
const OPENAI: &[Lifetime] = &[Lifetime {
    name: "5m",
    idle_ms: 5 * MINUTE,
    max_ms: Some(60 * MINUTE),
    write: WriteRate::Write5m,
}];
const OPENAI_EXTENDED: &[Lifetime] = &[
    OPENAI[0],
    Lifetime {
        name: "24h",
        idle_ms: 24 * 60 * MINUTE,
        max_ms: Some(24 * 60 * MINUTE),
        write: WriteRate::Write5m,
    },
];
const OPENAI_SOURCE: &str = "https://developers.openai.com/api/docs/guides/prompt-caching";

/// Anthropic: explicit `cache_control` breakpoints; an entry lives "5
/// minutes from last use" (refreshed by each hit) or 1 hour with
/// `"ttl": "1h"`; writes are billed at the model's 5-minute or 1-hour
/// cache-write rate (1.25× and 2× input in the catalogs).
/// <https://platform.claude.com/docs/en/docs/build-with-claude/prompt-caching>.
const ANTHROPIC: &[Lifetime] = &[
    Lifetime {
        name: "5m",
        idle_ms: 5 * MINUTE,
        max_ms: None,
        write: WriteRate::Write5m,
    },
    Lifetime {
        name: "1h",
        idle_ms: 60 * MINUTE,
        max_ms: None,
        write: WriteRate::Write1h,
    },
];
const ANTHROPIC_SOURCE: &str =
    "https://platform.claude.com/docs/en/docs/build-with-claude/prompt-caching";

/// Gemini's implicit caching is on for Gemini 2.5 and newer, with no write
/// fee and a minimum length per model
/// (<https://ai.google.dev/gemini-api/docs/caching>). Google does not say
/// how long an implicit cache entry lives: the simulation assumes 5 minutes
/// after last use, the shortest lifetime of the other providers.
const GEMINI: &[Lifetime] = &[Lifetime {
    name: "5m",
    idle_ms: 5 * MINUTE,
    max_ms: None,
    write: WriteRate::Input,
}];
const GEMINI_SOURCE: &str = "https://ai.google.dev/gemini-api/docs/caching";

/// Providers whose caching is not modelled here: assumed automatic from
/// 1,024 tokens (the most common minimum), 5 minutes after last use, no
/// write fee. Documented as an assumption in every finding that uses it.
const OTHER_SOURCE: &str = "assumed: automatic from 1,024 tokens, 5 minutes after last use";

/// The minimum cacheable length of an Anthropic model (by catalog id), as
/// the prompt-caching page lists them: 512 for Opus 5 and Fable 5; 2,048
/// for Opus 4.7 and the Claude 3 and 3.5 Haikus; 4,096 for Opus 4.5, Opus
/// 4.6 and Haiku 4.5; 1,024 for the others.
fn anthropic_min(model: &str) -> u64 {
    const TABLE: &[(&str, u64)] = &[
        ("claude-opus-5", 512),
        ("claude-fable-5", 512),
        ("claude-opus-4-7", 2_048),
        ("claude-3-5-haiku", 2_048),
        ("claude-3-haiku", 2_048),
        ("claude-opus-4-5", 4_096),
        ("claude-opus-4-6", 4_096),
        ("claude-haiku-4-5", 4_096),
    ];
    TABLE
        .iter()
        .find(|(prefix, _)| model.starts_with(prefix))
        .map_or(1_024, |&(_, n)| n)
}

/// Gemini's minimum for implicit caching: 2,048 tokens for 2.5 Flash and
/// 2.5 Pro, 4,096 for the newer models (the caching page, updated
/// 2026-10-13). Older models have no implicit caching (`None`).
fn gemini_min(model: &str) -> Option<u64> {
    let version = model.strip_prefix("gemini-")?;
    let major: f64 = version
        .split('-')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    if major < 2.5 {
        None
    } else if major < 3.0 {
        Some(2_048)
    } else {
        Some(4_096)
    }
}

/// The rules for a catalog model (`provider`, `id`), or `None` when the
/// model has no prompt caching to simulate.
pub fn policy(provider: &str, model: &str) -> Option<Policy> {
    // Bedrock's Claude ids (`anthropic.claude-…`, `us.anthropic.claude-…`,
    // `global.…`) are Anthropic's caching (hunt140's bug3: "assumed
    // automatic caching" from 1,024 tokens, free writes).
    let model = match model.split_once("anthropic.") {
        Some((_, claude)) if claude.starts_with("claude") => claude,
        _ => model,
    };
    if model.starts_with("claude") {
        return Some(Policy {
            caching: Caching::Explicit,
            min_tokens: anthropic_min(model),
            step: 1,
            lifetimes: ANTHROPIC,
            name: "Anthropic prompt caching",
            source: ANTHROPIC_SOURCE,
        });
    }
    if model.starts_with("gemini") {
        return gemini_min(model).map(|min_tokens| Policy {
            caching: Caching::Automatic,
            min_tokens,
            step: 1,
            lifetimes: GEMINI,
            name: "Gemini implicit caching",
            source: GEMINI_SOURCE,
        });
    }
    if provider == "openai" || provider == "azure" {
        let extended = extended_retention(model);
        return Some(Policy {
            caching: Caching::Automatic,
            min_tokens: 1_024,
            step: 128,
            lifetimes: if extended { OPENAI_EXTENDED } else { OPENAI },
            name: "OpenAI prompt caching",
            source: OPENAI_SOURCE,
        });
    }
    Some(Policy {
        caching: Caching::Automatic,
        min_tokens: 1_024,
        step: 1,
        lifetimes: GEMINI,
        name: "assumed automatic caching (from 1,024 tokens, 5 minutes)",
        source: OTHER_SOURCE,
    })
}

/// Whether OpenAI offers extended (24-hour) retention on `model`: gpt-5.4,
/// gpt-5.3-codex, gpt-5.2, gpt-5.1 (and its -codex, -codex-mini,
/// -codex-max, -chat), gpt-5, gpt-5-codex and gpt-4.1, not their mini and
/// nano models (OpenAI's and Azure's prompt-caching pages); gpt-5.5 and
/// later have only it (the API reference's `prompt_cache_retention`).
/// (hunt140's bug1: gpt-4.1-mini and gpt-5-nano were simulated with it.)
fn extended_retention(model: &str) -> bool {
    let small = (model.contains("mini") && !model.contains("codex-mini")) || model.contains("nano");
    if let Some(rest) = model.strip_prefix("gpt-5.") {
        let minor: u32 = rest
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        // (The 5.3 OpenAI lists is its codex model: gpt-5.3's chat model is
        // not, hunt143's bug6.)
        return minor >= 5 || (!small && (minor != 3 || model.contains("codex")));
    }
    (model.starts_with("gpt-5") || model.starts_with("gpt-4.1")) && !small
}

impl Policy {
    /// The tokens of a `prefix`-token prefix the cache can serve: none below
    /// the minimum, else the minimum plus whole steps.
    pub fn cacheable(&self, prefix: u64) -> u64 {
        if prefix < self.min_tokens {
            0
        } else {
            let step = self.step.max(1);
            self.min_tokens + (prefix - self.min_tokens) / step * step
        }
    }

    /// The shortest lifetime on offer (what [`super::replay::Runs`] keeps).
    pub fn shortest_idle_ms(&self) -> i64 {
        self.lifetimes.iter().map(|l| l.idle_ms).min().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_caches_from_1024_tokens_in_128_token_steps() {
        let p = policy("openai", "gpt-4o").unwrap();
        assert_eq!(p.caching, Caching::Automatic);
        assert_eq!(p.cacheable(1_023), 0);
        assert_eq!(p.cacheable(1_024), 1_024);
        assert_eq!(p.cacheable(1_151), 1_024);
        assert_eq!(p.cacheable(1_152), 1_152);
        // 8,000 = 1,024 + 54 × 128 + 64: 7,936 cacheable.
        assert_eq!(p.cacheable(8_000), 7_936);
        assert_eq!(p.lifetimes.len(), 1);
        let lifetimes = |m| policy("openai", m).unwrap().lifetimes.len();
        assert_eq!(
            policy("openai", "gpt-4.1").unwrap().lifetimes[1].name,
            "24h"
        );
        for m in [
            "gpt-4.1-2025-04-14",
            "gpt-5",
            "gpt-5.1-codex-mini",
            "gpt-5.4",
            "gpt-5.5-mini",
        ] {
            assert_eq!(lifetimes(m), 2, "{m}");
        }
        for m in [
            "gpt-4.1-mini",
            "gpt-4.1-nano",
            "gpt-5-mini",
            "gpt-5-nano",
            "gpt-5.4-mini",
            "gpt-4o",
            "gpt-5.3",
        ] {
            assert_eq!(lifetimes(m), 1, "{m}");
        }
        // Claude on Bedrock caches as on Anthropic's API.
        let bedrock = policy("bedrock", "us.anthropic.claude-haiku-4-5-20251001-v1:0").unwrap();
        assert_eq!(bedrock.min_tokens, 4_096);
        assert_eq!(bedrock.caching, Caching::Explicit);
    }

    #[test]
    fn anthropic_minimums_follow_the_model() {
        let p = |m| policy("anthropic", m).unwrap();
        assert_eq!(p("claude-sonnet-4-5").min_tokens, 1_024);
        assert_eq!(p("claude-haiku-4-5").min_tokens, 4_096);
        assert_eq!(p("claude-3-5-haiku-latest").min_tokens, 2_048);
        assert_eq!(p("claude-opus-5").min_tokens, 512);
        // Anthropic caches the marked prefix whole.
        assert_eq!(p("claude-sonnet-4-5").cacheable(6_001), 6_001);
        assert_eq!(
            p("claude-sonnet-4-5").lifetimes[1].write,
            WriteRate::Write1h
        );
        // Hosted Claude follows Anthropic's rules.
        assert_eq!(
            policy("aws", "claude-sonnet-4-0").unwrap().caching,
            Caching::Explicit
        );
    }

    #[test]
    fn gemini_implicit_caching_starts_at_2_5() {
        assert_eq!(
            policy("google", "gemini-2.5-flash").unwrap().min_tokens,
            2_048
        );
        assert_eq!(
            policy("google", "gemini-3-pro-preview").unwrap().min_tokens,
            4_096
        );
        assert_eq!(policy("google", "gemini-2.0-flash"), None);
        assert_eq!(policy("google", "gemini-1.5-pro"), None);
    }
}
