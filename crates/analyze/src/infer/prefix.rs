//! The size of a system-prompt prefix when the log does not count it.
//!
//! Prompt-cache findings (TA103, TA104) price the prefix's tokens, so they
//! need its size. In order of trust:
//!
//! 1. a logged count (`system_prompt_tokens` and its aliases);
//! 2. its text (the system message of a logged `messages`, or a `system`
//!    field): characters divided by a characters-per-token ratio per
//!    provider ([`chars_per_token`]);
//! 3. a prefix hash chain with its block size (hashes of the prompt's
//!    fixed-size blocks, like the Mooncake trace's `hash_ids` of 512-token
//!    blocks): the leading blocks every call of the prefix shares;
//! 4. the smallest input among the calls that share the prefix fingerprint:
//!    the prefix cannot be longer, so it is an upper bound, and the finding
//!    says so with low confidence.
//!
//! Why a ratio and not a tokenizer: the text is seen once per distinct
//! prefix, where a tokenizer would be affordable, but only OpenAI publishes
//! its tokenizers (and their vocabularies weigh megabytes in the binary),
//! the prefix's tokens are one factor of an estimate whose other factors
//! (hits, TTL) are coarser, and each provider documents a ratio for English
//! text. The logged count, when there is one, always wins.

use crate::finding::Confidence;

/// Where a prefix size came from, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrefixSource {
    Logged,
    Text,
    Blocks,
    MinInput,
}

impl PrefixSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PrefixSource::Logged => "logged",
            PrefixSource::Text => "text",
            PrefixSource::Blocks => "hash_chain",
            PrefixSource::MinInput => "min_input",
        }
    }

    /// What the estimate costs a finding's confidence.
    pub fn confidence(self) -> Confidence {
        match self {
            PrefixSource::Logged => Confidence::High,
            PrefixSource::Text | PrefixSource::Blocks => Confidence::Medium,
            PrefixSource::MinInput => Confidence::Low,
        }
    }
}

/// A prefix's size and where it came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrefixSize {
    /// Mean tokens per call.
    pub tokens: f64,
    pub source: PrefixSource,
}

/// What is known of one prefix (each part `None` or zero when unknown).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PrefixFacts<'a> {
    /// Σ logged prefix tokens and the calls that logged them.
    pub logged_tokens: u64,
    pub logged_calls: u64,
    /// Σ characters of the prefix's text and the calls that carried it.
    pub text_chars: u64,
    pub text_calls: u64,
    /// The catalog provider of the model (`openai`, `anthropic`, …).
    pub provider: &'a str,
    /// Leading blocks shared by every call of the prefix, and the block size.
    pub shared_blocks: Option<(u64, u64)>,
    /// The smallest input of the calls sharing the prefix (0: none seen).
    pub min_input: u64,
}

/// Characters per token of English text by provider, as each documents it:
/// OpenAI "1 token ~= 4 chars in English"
/// (<https://help.openai.com/en/articles/4936856-what-are-tokens-and-how-to-count-them>);
/// Gemini "a token is equivalent to about 4 characters"
/// (<https://ai.google.dev/gemini-api/docs/tokens>). Anthropic publishes no
/// ratio (its token counting is an API call, and its old tokenizer "is no
/// longer accurate" since Claude 3,
/// <https://github.com/anthropics/anthropic-tokenizer-typescript>): 3.5 is
/// our assumption that Claude's tokenizer cuts English a little finer than
/// OpenAI's, and the same 4 as OpenAI's serves any other provider.
pub fn chars_per_token(provider: &str) -> f64 {
    match provider {
        "anthropic" => 3.5,
        _ => 4.0,
    }
}

/// The prefix's size from the best source the facts allow (see the module
/// docs), or `None` when nothing is known.
pub fn estimate(f: &PrefixFacts<'_>) -> Option<PrefixSize> {
    let (tokens, source) = if f.logged_calls > 0 {
        (
            f.logged_tokens as f64 / f.logged_calls as f64,
            PrefixSource::Logged,
        )
    } else if f.text_calls > 0 {
        let chars = f.text_chars as f64 / f.text_calls as f64;
        (chars / chars_per_token(f.provider), PrefixSource::Text)
    } else if let Some((blocks, size)) = f.shared_blocks.filter(|(b, _)| *b > 0) {
        ((blocks * size) as f64, PrefixSource::Blocks)
    } else if f.min_input > 0 {
        (f.min_input as f64, PrefixSource::MinInput)
    } else {
        return None;
    };
    // A prefix is part of every input: never longer than the shortest one.
    let tokens = if f.min_input > 0 {
        tokens.min(f.min_input as f64)
    } else {
        tokens
    };
    Some(PrefixSize { tokens, source })
}

/// The number of leading blocks all `chains` share (0 for no chains).
pub fn shared_blocks(chains: &[&[u64]]) -> u64 {
    let Some((first, rest)) = chains.split_first() else {
        return 0;
    };
    let mut n = first.len();
    for c in rest {
        n = n.min(
            first
                .iter()
                .zip(c.iter())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    n as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_taken_in_order() {
        let all = PrefixFacts {
            logged_tokens: 3 * 2_500,
            logged_calls: 3,
            text_chars: 2 * 8_000,
            text_calls: 2,
            provider: "anthropic",
            shared_blocks: Some((4, 512)),
            min_input: 9_000,
        };
        assert_eq!(
            estimate(&all),
            Some(PrefixSize {
                tokens: 2_500.0,
                source: PrefixSource::Logged
            })
        );
        // 8,000 characters at 3.5 a token (Anthropic): 2,285.7 tokens.
        let text = PrefixFacts {
            logged_calls: 0,
            ..all
        };
        let e = estimate(&text).unwrap();
        assert_eq!(e.source, PrefixSource::Text);
        assert!((e.tokens - 8_000.0 / 3.5).abs() < 1e-9);
        // 24,000 characters at 4 a token (OpenAI): 6,000 tokens.
        let openai = PrefixFacts {
            text_chars: 24_000,
            text_calls: 1,
            provider: "openai",
            ..text
        };
        assert_eq!(estimate(&openai).unwrap().tokens, 6_000.0);
        // Four shared 512-token blocks: 2,048 tokens.
        let blocks = PrefixFacts {
            text_calls: 0,
            ..text
        };
        assert_eq!(
            estimate(&blocks),
            Some(PrefixSize {
                tokens: 2_048.0,
                source: PrefixSource::Blocks
            })
        );
        let bound = PrefixFacts {
            shared_blocks: None,
            ..blocks
        };
        assert_eq!(
            estimate(&bound),
            Some(PrefixSize {
                tokens: 9_000.0,
                source: PrefixSource::MinInput
            })
        );
        assert_eq!(PrefixSource::MinInput.confidence(), Confidence::Low);
        assert_eq!(estimate(&PrefixFacts::default()), None);
    }

    #[test]
    fn no_estimate_exceeds_the_shortest_input() {
        // 40,000 characters would be 10,000 tokens; no call sent more
        // than 7,000 tokens, so the prefix is at most 7,000.
        let f = PrefixFacts {
            text_chars: 40_000,
            text_calls: 1,
            provider: "openai",
            min_input: 7_000,
            ..PrefixFacts::default()
        };
        assert_eq!(estimate(&f).unwrap().tokens, 7_000.0);
    }

    #[test]
    fn shared_blocks_is_the_common_leading_run() {
        let a: &[u64] = &[0, 1, 2, 3];
        let b: &[u64] = &[0, 1, 2, 9, 10];
        let c: &[u64] = &[0, 1, 5];
        assert_eq!(shared_blocks(&[a, b]), 3);
        assert_eq!(shared_blocks(&[a, b, c]), 2);
        assert_eq!(shared_blocks(&[a]), 4);
        assert_eq!(shared_blocks(&[]), 0);
        assert_eq!(shared_blocks(&[a, &[7]]), 0);
    }
}
