//! Prompt text for the shapes whose producers store it (`messages`, Langfuse
//! `input`, OpenTelemetry `gen_ai.input.messages`).
//!
//! The text makes the planted waste visible the way it is in real logs, and
//! no other way: a call's text is a pure function of the fingerprints the
//! gateway shape logs, so two calls have the same text exactly when they
//! have the same hash there. A system prompt is keyed by its prefix hash and
//! about 4 characters a token long (a 3,200-token prompt is ~12,800
//! characters, repeated verbatim on every call that sends it); a volatile
//! one starts with the current time; a conversation resends its whole
//! history, every earlier turn word for word; a retry or an exact duplicate
//! repeats the prompt. Filler is sentences drawn from a pool of a thousand,
//! so unrelated prompts share few sentences (no accidental near duplicates).
//!
//! Text is plain ASCII letters, spaces, commas and periods (the faq-bot's
//! questions add `'`, `?` and `-`): it never needs escaping in JSON.

use std::sync::OnceLock;

use crate::{mix, name_key, Call, Rng};

/// What a call sends: a system prompt, then the conversation's messages in
/// order (`user`, `assistant`, …, ending with the user's turn).
pub struct Prompt {
    pub system: String,
    pub messages: Vec<(&'static str, String)>,
}

/// Characters per token of the filler (English prose averages about 4).
const CHARS_PER_TOKEN: u64 = 4;

/// The prefix hash of `doc-qa`'s system prompt and of `contract-review`'s
/// until the template change; other prefixes of those features are volatile.
pub const DOC_QA_PREFIX: u64 = 0x0d0c_0a00_5e57_e301;
pub const CONTRACT_PREFIX: u64 = 0xc0_47a4c7;

/// The text `c` sends. `seed` separates the texts of runs with different
/// seeds; the same call always gets the same text.
pub fn prompt(c: &Call, seed: u64) -> Prompt {
    let salt = mix(seed, 0x7e47);
    let system = system_prompt(c, salt);
    let system_tokens = c
        .prefix_tokens
        .unwrap_or((system.len() as u64).div_ceil(CHARS_PER_TOKEN));
    let mut messages = Vec::new();
    if let (Some((day, s)), Some(_)) = (c.session, c.turn) {
        // The whole history, resent word for word, then this turn's message.
        let conv = mix(salt, ((day as u64) << 32) | s as u64);
        for (k, &(user, assistant)) in c.history.iter().enumerate() {
            messages.push(("user", prose(mix(conv, 2 * k as u64), user as u64)));
            messages.push((
                "assistant",
                prose(mix(conv, 2 * k as u64 + 1), assistant as u64),
            ));
        }
        let earlier: u64 = c.history.iter().map(|&(u, a)| (u + a) as u64).sum();
        let user = c.input.saturating_sub(system_tokens + earlier).max(5);
        messages.push(("user", prose(mix(conv, 2 * c.history.len() as u64), user)));
    } else if let Some(q) = c.question {
        messages.push(("user", q.to_string()));
    } else {
        let user = c.input.saturating_sub(system_tokens).max(5);
        messages.push(("user", prose(mix(salt, c.prompt_hash), user)));
    }
    Prompt { system, messages }
}

/// A feature's system prompt: a long one keyed by the call's prefix hash
/// (with what varies in it first, as the planted waste has it), or a short
/// fixed instruction for features whose gateway log has no prefix.
fn system_prompt(c: &Call, salt: u64) -> String {
    let (Some(hash), Some(tokens)) = (c.prefix_hash, c.prefix_tokens) else {
        return SHORT_SYSTEM
            .iter()
            .find(|(f, _)| *f == c.feature)
            .map_or("You are a helpful assistant.", |(_, s)| s)
            .to_string();
    };
    let mut s = String::with_capacity((tokens * CHARS_PER_TOKEN) as usize + 64);
    let stable = hash == DOC_QA_PREFIX || hash == CONTRACT_PREFIX;
    let body_key = if c.feature == "support-chat" || stable {
        hash
    } else {
        // One template for the feature, made volatile by the time at its top.
        let ts = chrono::DateTime::from_timestamp_millis(c.ms).expect("in range");
        s.push_str(&format!(
            "Current time: {}. ",
            ts.format("%Y-%m-%dT%H:%M:%S%.3fZ")
        ));
        name_key(c.feature)
    };
    if c.feature == "support-chat" {
        // Each conversation's prompt names its customer's account.
        s.push_str(&format!("Customer account {hash:016x}. "));
    }
    filler(&mut s, mix(salt, body_key), tokens);
    s
}

/// About `tokens` tokens of prose keyed by `key`.
fn prose(key: u64, tokens: u64) -> String {
    let mut s = String::with_capacity((tokens * CHARS_PER_TOKEN) as usize + 16);
    filler(&mut s, key, tokens);
    s
}

/// Appends about `tokens` tokens of prose to `out`: sentences drawn from a
/// pool, so text compresses like real text does (the committed samples stay
/// small) while two unrelated prompts share only a few of their sentences.
fn filler(out: &mut String, key: u64, tokens: u64) {
    let pool = sentences();
    let mut rng = Rng::new(key);
    let end = out.len() + (tokens * CHARS_PER_TOKEN) as usize;
    while out.len() < end {
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        out.push_str(&pool[(rng.next_u64() % pool.len() as u64) as usize]);
    }
}

/// 1,024 sentences of 6 to 16 common words, the same on every run.
fn sentences() -> &'static [String] {
    static POOL: OnceLock<Vec<String>> = OnceLock::new();
    POOL.get_or_init(|| {
        (0..1024)
            .map(|i| {
                let mut rng = Rng::new(0x5e47_e4ce ^ i);
                let n = rng.range(6, 16);
                let mut s = String::new();
                for w in 0..n {
                    let word = WORDS[(rng.next_u64() % WORDS.len() as u64) as usize];
                    if w == 0 {
                        s.push(word.as_bytes()[0].to_ascii_uppercase() as char);
                        s.push_str(&word[1..]);
                    } else {
                        s.push(' ');
                        s.push_str(word);
                        if w == n / 2 && rng.chance(0.2) {
                            s.push(',');
                        }
                    }
                }
                s.push('.');
                s
            })
            .collect()
    })
}

/// The short instruction of each feature whose gateway log has no prefix.
const SHORT_SYSTEM: [(&str, &str); 9] = [
    ("ticket-classifier", "You classify customer support tickets. Answer with one label: billing, bug, account, feature-request or other."),
    ("code-review", "You are a senior engineer reviewing a pull request. Point out bugs, risky changes and missing tests, briefly."),
    ("faq-bot", "You answer questions about Acme's product from the help-centre articles you are given. Be short and friendly."),
    ("nightly-summaries", "Summarise the following day of activity for the account owner in five bullet points."),
    ("report-writer", "You write the monthly finance report from the figures below. Use sections and explain every change."),
    ("search-summarize", "Summarise the search results below in three sentences and cite the sources you used."),
    ("autocomplete", "Complete the code at the cursor. Reply with code only."),
    ("translate", "Translate the user's document into German. Keep the formatting and do not add anything."),
    ("internal-tools", "You help Acme's staff with internal tools. Answer in one paragraph."),
];

/// Common English words the filler draws from (no quotes, no backslashes).
const WORDS: [&str; 256] = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "for",
    "that",
    "with",
    "on",
    "as",
    "are",
    "this",
    "be",
    "by",
    "from",
    "at",
    "or",
    "an",
    "it",
    "not",
    "which",
    "have",
    "has",
    "can",
    "all",
    "will",
    "each",
    "more",
    "their",
    "other",
    "one",
    "new",
    "about",
    "when",
    "data",
    "customer",
    "account",
    "report",
    "service",
    "order",
    "team",
    "product",
    "policy",
    "process",
    "system",
    "request",
    "support",
    "document",
    "contract",
    "party",
    "agreement",
    "payment",
    "invoice",
    "price",
    "period",
    "month",
    "year",
    "week",
    "day",
    "time",
    "number",
    "total",
    "value",
    "change",
    "result",
    "review",
    "question",
    "answer",
    "issue",
    "error",
    "update",
    "version",
    "release",
    "feature",
    "user",
    "access",
    "record",
    "file",
    "page",
    "section",
    "clause",
    "term",
    "notice",
    "right",
    "obligation",
    "liability",
    "limit",
    "scope",
    "level",
    "plan",
    "budget",
    "cost",
    "revenue",
    "growth",
    "share",
    "market",
    "region",
    "country",
    "office",
    "project",
    "task",
    "step",
    "stage",
    "phase",
    "goal",
    "target",
    "metric",
    "measure",
    "rate",
    "ratio",
    "trend",
    "summary",
    "detail",
    "note",
    "example",
    "case",
    "reason",
    "effect",
    "impact",
    "risk",
    "control",
    "check",
    "test",
    "quality",
    "standard",
    "rule",
    "method",
    "model",
    "approach",
    "solution",
    "option",
    "choice",
    "decision",
    "approval",
    "owner",
    "manager",
    "member",
    "partner",
    "vendor",
    "supplier",
    "client",
    "company",
    "group",
    "unit",
    "department",
    "function",
    "role",
    "staff",
    "person",
    "people",
    "should",
    "must",
    "may",
    "would",
    "could",
    "after",
    "before",
    "during",
    "within",
    "without",
    "under",
    "over",
    "between",
    "against",
    "through",
    "because",
    "while",
    "where",
    "then",
    "than",
    "also",
    "only",
    "both",
    "either",
    "any",
    "some",
    "most",
    "many",
    "few",
    "every",
    "first",
    "last",
    "next",
    "previous",
    "current",
    "final",
    "main",
    "general",
    "specific",
    "clear",
    "simple",
    "complete",
    "open",
    "closed",
    "active",
    "pending",
    "approved",
    "rejected",
    "shipped",
    "delivered",
    "returned",
    "refunded",
    "billed",
    "paid",
    "due",
    "late",
    "early",
    "fast",
    "slow",
    "high",
    "low",
    "large",
    "small",
    "long",
    "short",
    "full",
    "partial",
    "annual",
    "monthly",
    "weekly",
    "daily",
    "local",
    "global",
    "public",
    "private",
    "internal",
    "external",
    "written",
    "signed",
    "sent",
    "received",
    "used",
    "made",
    "given",
    "taken",
    "shown",
    "found",
    "kept",
    "held",
    "set",
    "based",
    "related",
    "known",
    "agreed",
    "required",
    "expected",
    "reported",
    "described",
    "listed",
    "noted",
    "applied",
    "include",
    "provide",
    "ensure",
    "confirm",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filler_is_about_four_characters_a_token_and_needs_no_escaping() {
        let s = prose(7, 3200);
        assert!((12_800..12_900).contains(&s.len()), "{}", s.len());
        assert!(s
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b" .,".contains(&b)));
        assert_eq!(s, prose(7, 3200));
        assert_ne!(s, prose(8, 3200));
    }
}
