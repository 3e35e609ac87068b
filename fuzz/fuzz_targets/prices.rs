//! Price files: a `--prices` catalog (the first byte 0 mod 3), LiteLLM's
//! (1) or genai-prices' (2) catalog through their importers. A catalog we
//! read or import must write out and read back unchanged, overlay the
//! built-in catalog, and resolve and price a call of each of its models (the largest
//! token counts ingest lets through) without overflow.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tokenaudit_core::pricing::{import_genai_prices, import_litellm, Catalog};
use tokenaudit_core::Usage;
use tokenaudit_ingest::fields::MAX_TOKENS;

fn builtin() -> &'static Catalog {
    static BUILTIN: OnceLock<Catalog> = OnceLock::new();
    BUILTIN.get_or_init(Catalog::builtin)
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let catalog = match first % 3 {
        0 => Catalog::from_json_str(text).ok(),
        1 => import_litellm(text).ok().map(|(c, _)| c),
        _ => import_genai_prices(text).ok().map(|(c, _)| c),
    };
    let Some(catalog) = catalog else {
        return;
    };
    let written = catalog.to_json_string();
    let read = Catalog::from_json_str(&written)
        .unwrap_or_else(|e| panic!("a catalog we wrote does not read back: {e}\n{written}"));
    assert_eq!(
        read.to_json_string(),
        written,
        "the catalog changed on a round trip"
    );

    let most = Usage {
        input: MAX_TOKENS,
        cached_read: MAX_TOKENS / 4,
        cache_write: MAX_TOKENS / 4,
        cache_write_1h: MAX_TOKENS / 8,
        output: MAX_TOKENS,
        reasoning: MAX_TOKENS / 2,
    };
    for (id, model) in catalog.models() {
        let _ = catalog.resolve(Some(&model.provider), &model.id);
        for batch in [false, true] {
            catalog.price(id, None, &most, batch);
            catalog.price_base(id, None, &most, batch);
        }
    }
    let mut overlaid = builtin().clone();
    overlaid.overlay(catalog);
});
