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
        // The line names the served model with more around it (Bedrock's
        // `global.anthropic.claude-…-v1:0` for `claude-…`): the same model,
        // on the listing the line says.
        if line
            .trim()
            .to_ascii_lowercase()
            .contains(&served.trim().to_ascii_lowercase())
        {
            return false;
        }
        // The served name looked up on the line's model's provider first,
        // so a platform's listing is compared with its own listing.
        let on = provider.unwrap_or(&catalog.model(a).provider);
        catalog.resolve(Some(on), served).is_some_and(|b| b != a)
    }
}
