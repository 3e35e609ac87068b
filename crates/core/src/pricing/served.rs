//! Which of a call's two model names prices it: the line's own `model`, or
//! the other one its logged response names (`CallRecord::served_model`).
//!
//! A gateway logs the model it was asked for (an alias such as `gpt-4o`,
//! an Azure deployment's own name, the first model of a fallback list);
//! the provider's response names the model that answered and was billed
//! (`gpt-4o-2024-08-06`, the fallback). The response's name prices the
//! call when the catalog knows it and it is another model than the line's
//! (or the catalog does not know the line's). A line's name that contains
//! the response's (Bedrock's `global.anthropic.claude-…-v1:0` for
//! `claude-…`) is the same model on the listing the line says; otherwise
//! the response's name is looked up on the provider of the line's model
//! first, so a platform's listing stays on the platform's rates.

use std::collections::HashMap;

use super::Catalog;
use crate::record::CallRecord;

/// Settles `served_model` on each record, memoized by distinct
/// `(provider, model, served model)`; one per worker.
#[derive(Debug, Default)]
pub struct ServedModels {
    seen: HashMap<Box<str>, bool>,
    key: String,
}

impl ServedModels {
    /// Takes `served_model` out of `r`, making it `r.model` when it prices
    /// the call. True when it did.
    pub fn settle(&mut self, catalog: &Catalog, r: &mut CallRecord<'_>) -> bool {
        let Some(served) = r.served_model.take() else {
            return false;
        };
        let provider = r.provider.as_deref();
        self.key.clear();
        for part in [provider.unwrap_or(""), &r.model, &served] {
            self.key.push_str(part);
            self.key.push('\0');
        }
        let take = match self.seen.get(self.key.as_str()) {
            Some(&take) => take,
            None => {
                let take = Self::choose(catalog, provider, &r.model, &served);
                self.seen.insert(self.key.as_str().into(), take);
                take
            }
        };
        if take {
            r.model = served;
        }
        take
    }

    fn choose(catalog: &Catalog, provider: Option<&str>, line: &str, served: &str) -> bool {
        let Some(a) = catalog.resolve(provider, line) else {
            return catalog.resolve(provider, served).is_some();
        };
        // The line names the served model with a platform around it
        // (Bedrock's `global.anthropic.claude-…-v1:0` for `claude-…`): the
        // same model, on the listing the line says.
        if same_model_on_a_platform(line, served) {
            return false;
        }
        // The served name looked up on the line's model's provider first,
        // so a platform's listing is compared with its own listing.
        let on = provider.unwrap_or(&catalog.model(a).provider);
        catalog.resolve(Some(on), served).is_some_and(|b| b != a)
    }
}

/// Whether `line` is `served` with only a platform's prefix before it (up
/// to a `.`, `/` or `:`) and a version after it (`-v1:0`, `@20250929`,
/// `:0`): Bedrock's and Vertex's spellings of the maker's id. A suffix such
/// as `-mini` makes another model (`gpt-4.1-mini` is not `gpt-4.1`).
fn same_model_on_a_platform(line: &str, served: &str) -> bool {
    let (line, served) = (
        line.trim().to_ascii_lowercase(),
        served.trim().to_ascii_lowercase(),
    );
    if served.is_empty() {
        return false;
    }
    line.match_indices(&served).any(|(at, _)| {
        let before = &line[..at];
        let after = &line[at + served.len()..];
        let prefix_ok = before.is_empty() || before.ends_with(['.', '/', ':']);
        let version = |v: &str| {
            let v = v.trim_start_matches('v');
            !v.is_empty()
                && v.split(':')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        };
        let suffix_ok = after.is_empty()
            || after.starts_with('@')
            || after.strip_prefix(':').is_some_and(version)
            || after.strip_prefix('-').is_some_and(version);
        prefix_ok && suffix_ok
    })
}

#[cfg(test)]
mod tests {
    use super::same_model_on_a_platform as same;

    #[test]
    fn platform_spellings_are_the_same_model_and_variants_are_not() {
        assert!(same(
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "claude-sonnet-4-5-20250929"
        ));
        assert!(same("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"));
        assert!(same("openai/gpt-4o", "gpt-4o"));
        assert!(!same("gpt-4.1-mini", "gpt-4.1"));
        assert!(!same("openai/gpt-5-mini", "openai/gpt-5"));
        assert!(!same("gemini-2.5-flash-lite", "gemini-2.5-flash"));
        assert!(!same("o1-mini", "o1"));
        assert!(!same("xgpt-4o", "gpt-4o"));
    }
}
