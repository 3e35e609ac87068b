//! Engine and resolution tests. Expected costs are computed by hand in the
//! comments (rates in $ per million tokens, so `n × r / 1e6` dollars), never
//! copied from the program's output.

use chrono::NaiveDate;

use super::*;
use crate::money::Money;
use crate::record::Usage;

const TEST_CATALOG: &str = r#"{
  "schema": 1,
  "version": "2026-01-01",
  "providers": [
    {"id": "acme", "kind": "first_party", "match": {"equals": "acme-ai"}},
    {"id": "cloud", "kind": "host"}
  ],
  "models": [
    {"provider": "acme", "id": "sonnet", "batch_multiplier": "0.5",
     "match": {"starts_with": "sonnet-"},
     "prices": [{"input": "3", "output": "15", "cached_read": "0.3",
                 "cache_write_5m": "3.75", "cache_write_1h": "6",
                 "tiers": [{"above_input_tokens": 200000, "input": "6", "output": "22.5",
                            "cached_read": "0.6", "cache_write_5m": "7.5", "cache_write_1h": "12"}]}]},
    {"provider": "acme", "id": "reasoner",
     "prices": [{"input": "1.1", "output": "4.4", "reasoning": "2"}]},
    {"provider": "acme", "id": "writer5m",
     "prices": [{"input": 1, "output": 2, "cache_write_5m": "1.25"}]},
    {"provider": "acme", "id": "o3", "batch_multiplier": "0.5",
     "prices": [{"input": "10", "output": "40", "cached_read": "0.5"},
                {"effective": "2025-06-10", "input": "2", "output": "8", "cached_read": "0.5"},
                {"effective": "2027-01-01", "input": "1", "output": "4"}]},
    {"provider": "cloud", "id": "sonnet", "match": {"equals": "sonnet"},
     "prices": [{"input": "3.3", "output": "16.5"}]}
  ]
}"#;

fn test_catalog() -> Catalog {
    Catalog::from_json_str(TEST_CATALOG).unwrap()
}

fn usd(text: &str) -> Money {
    Money::parse_usd(text).unwrap()
}

fn id(c: &Catalog, provider: &str, model: &str) -> ModelId {
    c.models()
        .find(|(_, m)| m.provider == provider && m.id == model)
        .unwrap()
        .0
}

fn day(s: &str) -> Option<NaiveDate> {
    Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
}

#[test]
fn cached_reads_are_billed_once_at_the_cached_rate() {
    let c = test_catalog();
    let u = Usage {
        input: 10_000,
        cached_read: 8_000,
        output: 500,
        ..Usage::default()
    };
    let p = c.price(id(&c, "acme", "sonnet"), None, &u, false);
    // uncached 2000 × 3 = 0.006; cached 8000 × 0.3 = 0.0024; output 500 × 15 = 0.0075
    assert_eq!(p.cost.input, usd("0.006"));
    assert_eq!(p.cost.cached_read, usd("0.0024"));
    assert_eq!(p.cost.total(), usd("0.0159"));
    assert_eq!((p.tier_threshold, p.batch_priced), (None, false));
}

#[test]
fn five_minute_and_one_hour_cache_writes_have_their_own_rates() {
    let c = test_catalog();
    let u = Usage {
        input: 5_000,
        cache_write: 4_000,
        cache_write_1h: 1_000,
        output: 100,
        ..Usage::default()
    };
    let p = c.price(id(&c, "acme", "sonnet"), None, &u, false);
    // uncached 1000 × 3 = 0.003; 5m 3000 × 3.75 = 0.01125; 1h 1000 × 6 = 0.006;
    // output 100 × 15 = 0.0015; total 0.02175
    assert_eq!(p.cost.cache_write, usd("0.01725"));
    assert_eq!(p.cost.total(), usd("0.02175"));
}

#[test]
fn missing_rates_fall_back_to_input_then_5m_and_reasoning_has_its_rate() {
    let c = test_catalog();
    // No cached or cache-write rate: both billed at input (1.1).
    let u = Usage {
        input: 1_000,
        cached_read: 400,
        cache_write: 100,
        cache_write_1h: 50,
        output: 300,
        reasoning: 200,
        ..Default::default()
    };
    let p = c.price(id(&c, "acme", "reasoner"), None, &u, false);
    // uncached 500 × 1.1 = 0.00055; cached 400 × 1.1 = 0.00044; writes 100 × 1.1 = 0.00011;
    // visible output 100 × 4.4 = 0.00044; reasoning 200 × 2 = 0.0004; total 0.00194
    assert_eq!(p.cost.reasoning, usd("0.0004"));
    assert_eq!(p.cost.total(), usd("0.00194"));

    // A 5-minute rate but no 1-hour rate: 1-hour writes at the 5-minute rate.
    let u = Usage {
        input: 100,
        cache_write: 100,
        cache_write_1h: 60,
        ..Usage::default()
    };
    let p = c.price(id(&c, "acme", "writer5m"), None, &u, false);
    // 100 × 1.25 = 0.000125
    assert_eq!(p.cost.total(), usd("0.000125"));
}

#[test]
fn reasoning_defaults_to_the_output_rate() {
    let c = test_catalog();
    let u = Usage {
        input: 0,
        output: 1_000,
        reasoning: 400,
        ..Usage::default()
    };
    let p = c.price(id(&c, "acme", "sonnet"), None, &u, false);
    // 600 × 15 = 0.009 visible; 400 × 15 = 0.006 reasoning
    assert_eq!(p.cost.output, usd("0.009"));
    assert_eq!(p.cost.reasoning, usd("0.006"));
    assert_eq!(p.cost.total(), usd("0.015"));
}

#[test]
fn long_context_tier_bills_the_whole_request_once_total_input_exceeds_it() {
    let c = test_catalog();
    let sonnet = id(&c, "acme", "sonnet");
    // 250k input of which 50k cached: the total (not the uncached part) decides.
    let u = Usage {
        input: 250_000,
        cached_read: 50_000,
        output: 1_000,
        ..Usage::default()
    };
    let p = c.price(sonnet, None, &u, false);
    // uncached 200000 × 6 = 1.2; cached 50000 × 0.6 = 0.03; output 1000 × 22.5 = 0.0225
    assert_eq!(p.cost.total(), usd("1.2525"));
    assert_eq!(p.tier_threshold, Some(200_000));
    // Exactly at the threshold is not above it: 200000 × 3 = 0.6
    let u = Usage {
        input: 200_000,
        ..Usage::default()
    };
    let p = c.price(sonnet, None, &u, false);
    assert_eq!(p.cost.total(), usd("0.6"));
    assert_eq!(p.tier_threshold, None);
}

#[test]
fn batch_uses_batch_rates_only_where_the_model_has_them() {
    let c = test_catalog();
    let u = Usage {
        input: 1_000,
        cached_read: 200,
        output: 1_000,
        ..Usage::default()
    };
    let p = c.price(id(&c, "acme", "sonnet"), None, &u, true);
    // every rate halved: 800 × 1.5 = 0.0012; 200 × 0.15 = 0.00003; 1000 × 7.5 = 0.0075
    assert_eq!(p.cost.total(), usd("0.00873"));
    assert!(p.batch_priced);
    // No batch price in the sources: normal rates, and the flag says so.
    let u = Usage {
        input: 1_000,
        output: 1_000,
        ..Usage::default()
    };
    let p = c.price(id(&c, "acme", "reasoner"), None, &u, true);
    // 1000 × 1.1 + 1000 × 4.4 = 0.0055
    assert_eq!(p.cost.total(), usd("0.0055"));
    assert!(!p.batch_priced);
}

#[test]
fn batch_multiplier_rounds_the_rate_once() {
    // $0.000003/Mtok = 3 pico per token; half is 1.5 → 2 (half away from zero).
    let m = Multiplier::parse("0.5").unwrap();
    assert_eq!(m.apply(Money::from_picos(3)), Money::from_picos(2));
    assert_eq!(
        m.apply(Money::from_picos(3_000_000)),
        Money::from_picos(1_500_000)
    );
    assert_eq!(m.to_string(), "0.5");
}

#[test]
fn price_periods_follow_the_call_date() {
    let c = test_catalog();
    let o3 = id(&c, "acme", "o3");
    let u = Usage {
        input: 1_000,
        output: 1_000,
        ..Usage::default()
    };
    // Before the change: 1000 × 10 + 1000 × 40 = 0.05
    let before = c.price(o3, day("2025-06-09"), &u, false);
    assert_eq!(before.cost.total(), usd("0.05"));
    assert_eq!(before.effective, None);
    // From the change: 1000 × 2 + 1000 × 8 = 0.01
    let after = c.price(o3, day("2025-06-10"), &u, false);
    assert_eq!(after.cost.total(), usd("0.01"));
    assert_eq!(after.effective, day("2025-06-10"));
    // No date: the price in effect on the catalog's version date (2026-01-01),
    // not the announced 2027 change.
    assert_eq!(c.price(o3, None, &u, false).cost.total(), usd("0.01"));
    // After the announced change: 1000 × 1 + 1000 × 4 = 0.005
    assert_eq!(
        c.price(o3, day("2027-02-01"), &u, false).cost.total(),
        usd("0.005")
    );
}

#[test]
fn cost_breakdown_adds() {
    let mut a = CostBreakdown {
        input: usd("1"),
        output: usd("2"),
        ..CostBreakdown::default()
    };
    a += CostBreakdown {
        input: usd("0.5"),
        reasoning: usd("0.25"),
        ..CostBreakdown::default()
    };
    assert_eq!(a.total(), usd("3.75"));
}

#[test]
fn resolution_in_the_test_catalog() {
    let c = test_catalog();
    let name = |p: Option<&str>, m: &str| {
        c.resolve(p, m)
            .map(|i| format!("{}/{}", c.model(i).provider, c.model(i).id))
    };
    assert_eq!(name(None, "SONNET-2025").as_deref(), Some("acme/sonnet"));
    // Exact name on a host and first-party; first-party preferred without a hint…
    assert_eq!(name(None, "sonnet").as_deref(), Some("acme/sonnet"));
    // …and the hint wins when given, by id or by the provider's match rule.
    assert_eq!(
        name(Some("cloud"), "sonnet").as_deref(),
        Some("cloud/sonnet")
    );
    assert_eq!(name(None, "cloud/sonnet").as_deref(), Some("cloud/sonnet"));
    assert_eq!(
        name(Some("acme-ai"), "sonnet").as_deref(),
        Some("acme/sonnet")
    );
    assert_eq!(name(None, "unknown-model"), None);
    assert_eq!(name(None, "  "), None);
}

#[test]
fn round_trips_and_overlays() {
    let c = test_catalog();
    let text = c.to_json_string();
    let again = Catalog::from_json_str(&text).unwrap();
    assert_eq!(again.to_json_string(), text);

    let mut base = test_catalog();
    let user = Catalog::from_json_str(
        r#"{"schema": 1, "version": "mine", "models": [
            {"provider": "acme", "id": "sonnet", "prices": [{"input": "1", "output": "1"}]},
            {"provider": "inhouse", "id": "llama-ft", "prices": [{"input": "0.1", "output": "0.2"}]}]}"#,
    )
    .unwrap();
    let before = base.models().count();
    base.overlay(user);
    assert_eq!(base.models().count(), before + 1);
    assert_eq!(base.version(), "2026-01-01+mine");
    // The user entry's prices replace the builtin's: a whole price card (it
    // gives an output rate) as it is, no tier; what it leaves out besides
    // (its `match` rule, its batch multiplier) stays the builtin's.
    let sonnet = base.resolve(Some("acme"), "sonnet").unwrap();
    assert_eq!(base.resolve(None, "sonnet-x"), Some(sonnet));
    let period = &base.model(sonnet).periods[0];
    assert_eq!(period.rates.input, Some(usd("0.000001")));
    assert_eq!(period.rates.output, Some(usd("0.000001")));
    assert_eq!(period.rates.cached_read, None);
    assert_eq!(period.tiers.len(), 0);
    // A partial one (no output rate: hunt150) keeps the builtin's other
    // rates and its tiers.
    let mut base = test_catalog();
    base.overlay(
        Catalog::from_json_str(
            r#"{"schema": 1, "version": "mine", "models": [
                {"provider": "acme", "id": "sonnet", "prices": [{"input": "1"}]}]}"#,
        )
        .unwrap(),
    );
    let period = &base.model(sonnet).periods[0];
    assert_eq!(period.rates.input, Some(usd("0.000001")));
    assert_eq!(period.rates.output, Some(usd("0.000015")));
    assert_eq!(period.rates.cached_read, Some(usd("0.0000003")));
    assert_eq!(period.tiers.len(), 1);
    let mut base = test_catalog();
    base.overlay(
        Catalog::from_json_str(
            r#"{"schema": 1, "version": "mine", "models": [
            {"provider": "acme", "id": "sonnet", "prices": [{"input": "1", "output": "1"}]},
            {"provider": "inhouse", "id": "llama-ft", "prices": [{"input": "0.1", "output": "0.2"}]}]}"#,
        )
        .unwrap(),
    );
    assert_eq!(
        base.model(sonnet).batch_multiplier.map(|m| m.to_string()),
        Some("0.5".to_string())
    );
    assert!(base.resolve(Some("inhouse"), "llama-ft").is_some());
    // An entry with a rule of its own (a LiteLLM import's) keeps ours too:
    // both names price (hunt82: the built-in's dated names went unpriced).
    let theirs = Catalog::from_json_str(
        r#"{"schema": 1, "version": "imported", "models": [
            {"provider": "acme", "id": "sonnet", "match": {"equals": "acme/sonnet"}, "prices": [{"input": "2", "output": "2"}]}]}"#,
    )
    .unwrap();
    base.overlay(theirs);
    let sonnet = base.resolve(Some("acme"), "sonnet").unwrap();
    assert_eq!(base.resolve(None, "acme/sonnet"), Some(sonnet));
    assert_eq!(base.resolve(None, "sonnet-x"), Some(sonnet));
    assert_eq!(
        base.model(sonnet).periods[0].rates.input,
        Some(usd("0.000002"))
    );
    // A rule of the user's own (not a single name) replaces ours: it can
    // narrow the names (hunt89).
    let narrow = Catalog::from_json_str(
        r#"{"schema": 1, "version": "narrow", "models": [
            {"provider": "acme", "id": "sonnet", "match": {"or": [{"equals": "sonnet"}, {"equals": "sonnet-y"}]}, "prices": [{"input": "3", "output": "3"}]}]}"#,
    )
    .unwrap();
    base.overlay(narrow);
    let sonnet = base.resolve(Some("acme"), "sonnet").unwrap();
    assert_eq!(base.resolve(None, "sonnet-y"), Some(sonnet));
    assert_ne!(base.resolve(None, "sonnet-x"), Some(sonnet));
}

/// An override whose prices start on a date (a contract rate from 15
/// October) replaces ours from that date only: a call of 1 October keeps
/// the catalog's price (hunt63: it was priced at the later rate).
#[test]
fn an_override_from_a_date_keeps_the_prices_before_it() {
    let mut base = test_catalog();
    let sonnet = base.resolve(Some("acme"), "sonnet").unwrap();
    let list = base.model(sonnet).periods[0].rates.input;
    let user = Catalog::from_json_str(
        r#"{"schema": 1, "version": "mine", "models": [
            {"provider": "acme", "id": "sonnet", "prices": [{"effective": "2026-10-15", "input": "1", "output": "4"}]}]}"#,
    )
    .unwrap();
    base.overlay(user);
    let sonnet = base.resolve(Some("acme"), "sonnet").unwrap();
    let day = |d| NaiveDate::from_ymd_opt(2026, 10, d);
    assert_eq!(base.period(sonnet, day(1)).rates.input, list);
    assert_ne!(list, Some(usd("0.000001")));
    assert_eq!(
        base.period(sonnet, day(15)).rates.input,
        Some(usd("0.000001"))
    );
    assert_eq!(
        base.period(sonnet, day(20)).rates.output,
        Some(usd("0.000004"))
    );
}

/// Of two ids equal to spellings of a logged name, the one naming more of
/// it wins (hunt65: `azure/eu/o1` was priced as `azure/o1`, the earlier
/// entry, whose id equals only its last segment).
#[test]
fn the_id_that_names_more_of_the_name_wins() {
    let mut c = Catalog::builtin();
    let o1 = c.resolve(Some("azure"), "o1").expect("azure's o1");
    let user = Catalog::from_json_str(
        r#"{"schema": 1, "version": "ours", "models": [
            {"provider": "azure", "id": "eu/o1", "prices": [{"input": "16.5", "output": "66"}]}]}"#,
    )
    .unwrap();
    c.overlay(user);
    let eu = c.resolve(Some("azure"), "eu/o1").unwrap();
    assert_eq!(c.model(eu).id, "eu/o1");
    assert_eq!(c.resolve(Some("azure"), "azure/eu/o1"), Some(eu));
    assert_eq!(
        c.model(c.resolve(Some("azure"), "o1").unwrap()).id,
        c.model(o1).id
    );
}

/// An overlaid provider's hint is joined to ours (hunt65: a LiteLLM import
/// gave Google only `vertex_ai-language-models`, and logs' `vertex_ai`
/// and `gemini` no longer named it).
#[test]
fn an_overlaid_providers_hint_adds_to_ours() {
    let mut c = Catalog::builtin();
    for name in ["vertex_ai", "gemini"] {
        assert_eq!(c.provider_named(name, None), Some("google"), "{name}");
    }
    let user = Catalog::from_json_str(
        r#"{"schema": 1, "version": "ours",
            "providers": [{"id": "google", "name": "Google", "kind": "first_party", "match": {"equals": "vertex_ai-language-models"}}],
            "models": []}"#,
    )
    .unwrap();
    c.overlay(user);
    for name in ["vertex_ai", "gemini", "vertex_ai-language-models"] {
        assert_eq!(c.provider_named(name, None), Some("google"), "{name}");
    }
}

#[test]
fn bad_files_name_the_problem() {
    let err = Catalog::from_json_str(r#"{"schema": 2, "version": "x", "models": []}"#).unwrap_err();
    assert!(err.to_string().contains("schema 2"));
    let err = Catalog::from_json_str(
        r#"{"schema": 1, "version": "x", "models": [{"provider": "a", "id": "m", "prices": [{"input": "abc"}]}]}"#,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("a/m") && err.to_string().contains("input"),
        "{err}"
    );
    let err = Catalog::from_json_str(r#"{"schema": 1, "version": "x", "models": [], "extra": 1}"#)
        .unwrap_err();
    assert!(err.to_string().contains("extra"));
}

#[test]
fn builtin_catalog_parses_and_covers_the_main_providers() {
    let c = Catalog::builtin();
    assert_eq!(
        Catalog::from_json_str(&c.to_json_string())
            .unwrap()
            .to_json_string(),
        c.to_json_string()
    );
    for p in [
        "openai",
        "anthropic",
        "google",
        "mistral",
        "deepseek",
        "x-ai",
        "cohere",
        "aws",
        "groq",
        "together",
    ] {
        assert!(
            c.models().filter(|(_, m)| m.provider == p).count() >= 5,
            "{p}"
        );
    }
}

/// ~40 spellings from real logs → (provider, canonical id).
#[test]
fn builtin_resolves_real_world_spellings() {
    let c = Catalog::builtin();
    type Case<'a> = (Option<&'a str>, &'a str, Option<(&'a str, &'a str)>);
    let cases: &[Case] = &[
        (None, "gpt-4o", Some(("openai", "gpt-4o"))),
        (None, "GPT-4o-2024-08-06", Some(("openai", "gpt-4o"))),
        (None, "gpt-4o-mini", Some(("openai", "gpt-4o-mini"))),
        (
            None,
            "gpt-4o-mini-2024-07-18",
            Some(("openai", "gpt-4o-mini")),
        ),
        (None, "openai/gpt-4o", Some(("openai", "gpt-4o"))),
        (
            Some("openai"),
            "gpt-4.1-nano-2025-04-14",
            Some(("openai", "gpt-4.1-nano")),
        ),
        (None, "o1", Some(("openai", "o1"))),
        (None, "o1-mini", Some(("openai", "o1-mini"))),
        (None, "o3-2025-04-16", Some(("openai", "o3"))),
        (Some("azure"), "o1-mini", Some(("azure", "o1-mini"))),
        (None, "azure/gpt-4o", Some(("openai", "gpt-4o"))),
        (
            None,
            "openrouter/openai/gpt-4o-mini",
            Some(("openai", "gpt-4o-mini")),
        ),
        (
            None,
            "claude-3-5-sonnet-20241022",
            Some(("anthropic", "claude-3-5-sonnet")),
        ),
        (
            None,
            "claude-3-5-sonnet-latest",
            Some(("anthropic", "claude-3-5-sonnet")),
        ),
        (
            None,
            "anthropic/claude-sonnet-4-5-20250929",
            Some(("anthropic", "claude-sonnet-4-5")),
        ),
        (
            Some("anthropic"),
            "claude-opus-4-1-20250805",
            Some(("anthropic", "claude-opus-4-1")),
        ),
        (
            None,
            "claude-sonnet-4-20250514",
            Some(("anthropic", "claude-sonnet-4-0")),
        ),
        (
            None,
            "claude-3-7-sonnet-20250219",
            Some(("anthropic", "claude-3-7-sonnet-latest")),
        ),
        (
            None,
            "Claude-Haiku-4-5",
            Some(("anthropic", "claude-haiku-4-5")),
        ),
        (
            None,
            "openrouter/anthropic/claude-3.5-sonnet",
            Some(("anthropic", "claude-3-5-sonnet")),
        ),
        (
            None,
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            Some(("aws", "regional.anthropic.claude-3-5-sonnet-20240620-v1:0")),
        ),
        (
            None,
            "us.anthropic.claude-sonnet-4-20250514-v1:0",
            Some(("aws", "regional.anthropic.claude-sonnet-4-20250514-v1:0")),
        ),
        (
            None,
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            Some(("aws", "global.anthropic.claude-sonnet-4-5-20250929-v1:0")),
        ),
        // OpenAI's own model, not Azure's substring rule for `o4-mini`:
        // genai-prices' rule for OpenAI's models (`^o[134]`) now parses.
        (
            Some("azure"),
            "o4-mini-deep-research",
            Some(("openai", "o4-mini-deep-research")),
        ),
        // A Bedrock id is Bedrock's whichever provider the line names
        // (hunt45: the maker's name, `anthropic`, gave Anthropic's rates).
        (
            Some("anthropic"),
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            Some(("aws", "regional.anthropic.claude-sonnet-4-5-20250929-v1:0")),
        ),
        (
            Some("Anthropic"),
            "anthropic.claude-haiku-4-5-20251001-v1:0",
            Some(("aws", "regional.anthropic.claude-haiku-4-5-20251001-v1:0")),
        ),
        (
            Some("bedrock"),
            "meta.llama3-1-70b-instruct-v1:0",
            Some(("aws", "meta.llama3-1-70b-instruct-v1:0")),
        ),
        (
            None,
            "bedrock/meta.llama3-3-70b-instruct-v1:0",
            Some(("aws", "meta.llama3-3-70b-instruct-v1:0")),
        ),
        (
            Some("aws"),
            "amazon.nova-pro-v1:0",
            Some(("aws", "amazon.nova-pro-v1:0")),
        ),
        (
            Some("vertex_ai"),
            "claude-3-5-sonnet-v2@20241022",
            Some(("google", "claude-3-5-sonnet")),
        ),
        (
            None,
            "vertex_ai/claude-3-5-sonnet-v2@20241022",
            Some(("google", "claude-3-5-sonnet")),
        ),
        // A host's model named without its organisation, the host logged.
        (
            Some("groq"),
            "gpt-oss-120b",
            Some(("groq", "openai/gpt-oss-120b")),
        ),
        (
            Some("together_ai"),
            "Meta-Llama-3.1-70B-Instruct-Turbo",
            Some(("together", "meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo")),
        ),
        // Vertex's list has no Sonnet 4.5 or 4.6; its `*claude-sonnet-4*`
        // rule is Sonnet 4 (another long-context tier): the maker's model.
        (
            Some("vertex_ai"),
            "claude-sonnet-4-5@20250929",
            Some(("anthropic", "claude-sonnet-4-5")),
        ),
        (
            None,
            "vertex_ai/claude-sonnet-4-6",
            Some(("anthropic", "claude-sonnet-4-6")),
        ),
        (
            Some("vertex_ai"),
            "claude-sonnet-4@20250514",
            Some(("google", "claude-4-sonnet")),
        ),
        (
            Some("vertex_ai"),
            "claude-sonnet-4-20250514",
            Some(("google", "claude-4-sonnet")),
        ),
        (
            Some("vertex_ai"),
            "claude-opus-4-1@20250805",
            Some(("google", "claude-4-opus")),
        ),
        (None, "gemini-2.5-pro", Some(("google", "gemini-2.5-pro"))),
        (
            None,
            "models/gemini-2.5-flash",
            Some(("google", "gemini-2.5-flash")),
        ),
        (
            None,
            "gemini/gemini-2.5-pro-preview-06-05",
            Some(("google", "gemini-2.5-pro")),
        ),
        (
            None,
            "publishers/google/models/gemini-1.5-pro-002",
            Some(("google", "gemini-1.5-pro")),
        ),
        (
            None,
            "gemini-2.5-flash-lite",
            Some(("google", "gemini-2.5-flash-lite")),
        ),
        (
            None,
            "mistral-large-latest",
            Some(("mistral", "mistral-large")),
        ),
        (
            None,
            "mistral/mistral-small-latest",
            Some(("mistral", "mistral-small-latest")),
        ),
        (None, "deepseek-chat", Some(("deepseek", "deepseek-chat"))),
        (
            Some("deepseek"),
            "deepseek-reasoner",
            Some(("deepseek", "deepseek-reasoner")),
        ),
        (None, "xai/grok-4.3-20260115", Some(("x-ai", "grok-4.3"))),
        (None, "grok-3-mini", Some(("x-ai", "grok-3-mini"))),
        (
            None,
            "command-r-plus-08-2024",
            Some(("cohere", "command-r-plus")),
        ),
        (
            Some("groq"),
            "llama-3.3-70b-versatile",
            Some(("groq", "llama-3.3-70b-versatile")),
        ),
        (
            None,
            "groq/llama-3.1-8b-instant",
            Some(("groq", "llama-3.1-8b-instant")),
        ),
        (
            None,
            "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
            Some(("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo")),
        ),
        (
            Some("fireworks_ai"),
            "accounts/fireworks/models/llama-v3p1-8b-instruct",
            Some(("fireworks", "llama-v3p1-8b-instruct")),
        ),
        (None, "my-company-finetune-v3", None),
        (None, "gpt-9-ultra", None),
    ];
    let mut failures = Vec::new();
    for (provider, logged, expected) in cases {
        let got = c
            .resolve(*provider, logged)
            .map(|i| (c.model(i).provider.as_str(), c.model(i).id.as_str()));
        if got != *expected {
            failures.push(format!(
                "{provider:?} {logged:?}: expected {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn imports_genai_prices_history_tiers_and_rules() {
    let json = r#"[{"id": "anthropic", "name": "Anthropic", "provider_match": {"contains": "anthropic"},
      "models": [
        {"id": "claude-x", "match": {"or": [{"starts_with": "claude-x"}, {"regex": "^cx-\\d{8}$"}]},
         "prices": [
           {"prices": {"input_mtok": {"base": 3, "tiers": [{"start": 200000, "price": 6}]}, "output_mtok": 15,
                       "cache_write_mtok": 3.75, "cache_write_1h_mtok": 6, "web_searches_kcount": 10}},
           {"constraint": {"start_date": "2026-03-13"}, "prices": {"input_mtok": 0.135, "output_mtok": 0.55}}]},
        {"id": "broken", "match": {"regex": "(a|b)"}, "prices": {"input_mtok": 1}},
        {"id": "free", "match": {"equals": "free"}, "prices": {"requests_kcount": 1}}]}]"#;
    let (c, report) = import_genai_prices(json).unwrap();
    assert_eq!(report.imported, 1);
    assert_eq!(report.skipped.len(), 2);
    let m = c.resolve(None, "cx-20260101").unwrap();
    let m = c.model(m);
    assert_eq!(m.periods.len(), 2);
    let first = &m.periods[0];
    assert_eq!(first.rates.input, Some(usd("0.000003")));
    assert_eq!(first.rates.cache_write_5m, Some(usd("0.00000375")));
    assert_eq!(first.tiers[0].above_input_tokens, 200_000);
    assert_eq!(first.tiers[0].rates.input, Some(usd("0.000006")));
    // 0.135 $/Mtok is exactly 135000 pico-dollars per token.
    assert_eq!(m.periods[1].rates.input, Some(Money::from_picos(135_000)));
    assert_eq!(m.periods[1].effective, day("2026-03-13"));
    // `web_searches_kcount` is a price per search: $10 per 1,000.
    assert_eq!(
        first.rates.web_search,
        Some(Money::from_picos(10_000_000_000))
    );
    assert!(!report
        .notes
        .iter()
        .any(|n| n.contains("web_searches_kcount")));
}

/// genai-prices' `price_variants` give a model's batch, flex, priority and
/// fast prices in full; each is kept as the one fraction of the model's own
/// prices in effect from the variant's date (hunt174: all dropped, batch
/// calls at 2×). One not a single fraction, one this catalog cannot price
/// (`ultrafast`, a route) and an empty one are said or passed over.
#[test]
fn imports_genai_prices_price_variants_as_multipliers() {
    let json = r#"[{"id": "openai", "name": "OpenAI", "models": [
        {"id": "gpt-x", "match": {"equals": "gpt-x"},
         "prices": [
           {"prices": {"input_mtok": 1, "output_mtok": 4}},
           {"constraint": {"start_date": "2026-10-01"},
            "prices": {"input_mtok": {"base": 2, "tiers": [{"start": 272000, "price": 4}]},
                       "cache_read_mtok": 0.2, "output_mtok": {"base": 10, "tiers": [{"start": 272000, "price": 15}]}}}],
         "price_variants": [
           {"when": {"service_tier": "default"}, "prices": {}},
           {"when": {"processing": "batch"}, "constraint": {"start_date": "2026-10-14"},
            "prices": {"input_mtok": {"base": 1, "tiers": [{"start": 272000, "price": 2}]},
                       "cache_read_mtok": 0.1, "output_mtok": {"base": 5, "tiers": [{"start": 272000, "price": 7.5}]}}},
           {"when": {"service_tier": "flex"}, "prices": {"input_mtok": 0.5, "output_mtok": 2}},
           {"when": {"service_tier": "priority"}, "constraint": {"start_date": "2026-10-14"},
            "prices": {"input_mtok": 4, "cache_read_mtok": 0.4, "output_mtok": 21}},
           {"when": {"speed": "fast"}, "constraint": {"start_date": "2026-10-02"},
            "prices": {"input_mtok": {"base": 4, "tiers": [{"start": 272000, "price": 8}]},
                       "output_mtok": {"base": 20, "tiers": [{"start": 272000, "price": 30}]}}},
           {"when": {"service_tier": "ultrafast"}, "prices": {"input_mtok": 12, "output_mtok": 60}},
           {"when": {"route": "eu"}, "prices": {"input_mtok": 1.1, "output_mtok": 4.4}}]},
        {"id": "gpt-y", "match": {"equals": "gpt-y"},
         "prices": {"input_mtok": 0.15, "cache_read_mtok": 0.075, "output_mtok": 0.6},
         "price_variants": [
           {"when": {"processing": "batch"}, "prices": {"input_mtok": 0.075, "cache_read_mtok": 0.04, "output_mtok": 0.3}},
           {"when": {"service_tier": "priority"}, "prices": {"input_mtok": 0.25, "cache_read_mtok": 0.125, "output_mtok": 1}}]},
        {"id": "nano-x", "match": {"equals": "nano-x"},
         "prices": {"input_mtok": 0.1, "cache_read_mtok": 0.01, "output_mtok": 0.4},
         "price_variants": [
           {"when": {"processing": "batch"}, "prices": {"input_mtok": 0.05, "cache_read_mtok": 0.01, "output_mtok": 0.2}}]},
        {"id": "gpt-z", "match": {"equals": "gpt-z"},
         "prices": {"input_mtok": {"base": 2.5, "tiers": [{"start": 272000, "price": 5}]}, "output_mtok": 15},
         "price_variants": [
           {"when": {"service_tier": "priority"}, "prices": {"input_mtok": 5, "output_mtok": 30}}]},
        {"id": "embed-x", "match": {"equals": "embed-x"}, "prices": {"input_mtok": 0.2},
         "price_variants": [{"when": {"processing": "batch"}, "prices": {"input_mtok": 0.1}},
                            {"when": {"processing": "batch"}, "prices": {}}]}]}]"#;
    let (c, report) = import_genai_prices(json).unwrap();
    let model = |id: &str| c.model(c.resolve(None, id).unwrap());
    let m = model("gpt-x");
    let half = Some(Multiplier::from_millionths(500_000));
    // Batch against the prices of 2026-10-01 (tiers too): every rate ½;
    // flex, undated, against the first prices: ½.
    assert_eq!(m.batch_multiplier, half);
    assert_eq!(m.flex_multiplier, half);
    // Priority's output is 2.1× where its input is 2×: no one fraction.
    assert_eq!(m.priority_multiplier, None);
    assert_eq!(
        m.fast_multiplier,
        Some(Multiplier::from_millionths(2_000_000))
    );
    // An embedding model's batch price is of its input alone.
    assert_eq!(model("embed-x").batch_multiplier, half);
    // A cached read published to the cent ($0.04 for ½ of $0.075), and 5/3
    // of every rate, which no millionth is exactly but which makes each
    // rate to the pico-dollar (hunt186: both dropped).
    assert_eq!(model("gpt-y").batch_multiplier, half);
    assert_eq!(
        model("gpt-y").priority_multiplier,
        Some(Multiplier::from_millionths(1_666_667))
    );
    // A cached read not discounted beside ½ of the others is no rounding.
    assert_eq!(model("nano-x").batch_multiplier, None);
    // A flat variant of tiered prices: kept, and said.
    assert_eq!(
        model("gpt-z").priority_multiplier,
        Some(Multiplier::from_millionths(2_000_000))
    );
    let notes = report.notes.join("\n");
    assert!(
        notes.contains(
            "1 model(s) have priority prices (`price_variants`) that are not one uniform fraction"
        ),
        "{notes}"
    );
    assert!(
        notes.contains("1 price variant(s) for `service_tier ultrafast` not imported"),
        "{notes}"
    );
    assert!(
        notes.contains("1 price variant(s) for `route eu` not imported"),
        "{notes}"
    );
    assert!(!notes.contains("default"), "{notes}");
    assert!(
        notes.contains(
            "1 model(s) have batch prices (`price_variants`) that are not one uniform fraction"
        ),
        "{notes}"
    );
    assert!(
        notes.contains(
            "1 model(s) have priority prices (`price_variants`) without the long-context tier"
        ),
        "{notes}"
    );
}

/// LiteLLM's `tiered_pricing` (ranges of the request's input): the first
/// range is the base of an entry with no flat price, later ones are tiers
/// (hunt65: such models were skipped as "no input price", and a flat
/// entry's ranges lost). qwen-flash at 300k in, 10k out: 300,000 × $0.25 +
/// 10,000 × $2 per million = $0.095; at 100k in: 100,000 × $0.05 + 10,000
/// × $0.40 = $0.009.
#[test]
fn imports_litellm_tiered_pricing() {
    let json = r#"{
      "dashscope/qwen-flash": {"litellm_provider": "dashscope", "mode": "chat",
        "tiered_pricing": [
          {"input_cost_per_token": 2.5e-07, "output_cost_per_token": 2e-06, "range": [256000.0, 1000000.0]},
          {"input_cost_per_token": 5e-08, "output_cost_per_token": 4e-07, "range": [0, 256000.0]}]},
      "opencode_go/grok-4.7": {"litellm_provider": "opencode_go", "mode": "chat",
        "input_cost_per_token": 2e-06, "output_cost_per_token": 6e-06,
        "tiered_pricing": [
          {"range": [0, 200000], "input_cost_per_token": 2e-06, "output_cost_per_token": 6e-06},
          {"range": [200000, 500000], "input_cost_per_token": 4e-06, "output_cost_per_token": 1.2e-05}]},
      "broken/x": {"litellm_provider": "openai", "mode": "chat",
        "tiered_pricing": [{"output_cost_per_token": 1e-06, "range": [0, 10]}]}
    }"#;
    let (c, report) = import_litellm(json).unwrap();
    assert_eq!(report.imported, 2);
    let call = |input: u64| Usage {
        input,
        output: 10_000,
        ..Usage::default()
    };
    let q = c.resolve(None, "dashscope/qwen-flash").unwrap();
    assert_eq!(
        c.price(q, None, &call(300_000), false).cost.total(),
        usd("0.095")
    );
    assert_eq!(
        c.price(q, None, &call(100_000), false).cost.total(),
        usd("0.009")
    );
    let g = c.resolve(None, "opencode_go/grok-4.7").unwrap();
    // 300,000 × $4 + 10,000 × $12 per million.
    assert_eq!(
        c.price(g, None, &call(300_000), false).cost.total(),
        usd("1.32")
    );
    assert_eq!(report.skipped.len(), 1);
    assert!(
        format!("{:?}", report.skipped[0]).contains("has no input price"),
        "{:?}",
        report.skipped
    );
}

/// Every LiteLLM spelling of a provider names it (hunt66: only the first
/// seen did, so `vertex_ai-anthropic_models` was Anthropic's by its looser
/// rule once joined to the built-in hints).
#[test]
fn imports_litellm_every_spelling_of_a_provider() {
    let json = r#"{
      "vertex_ai/gemini-x": {"litellm_provider": "vertex_ai-language-models", "mode": "chat",
        "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
      "vertex_ai/claude-x@1": {"litellm_provider": "vertex_ai-anthropic_models", "mode": "chat",
        "input_cost_per_token": 1e-06, "output_cost_per_token": 5e-06}
    }"#;
    let (imported, _) = import_litellm(json).unwrap();
    let mut c = Catalog::builtin();
    c.overlay(imported);
    for name in [
        "vertex_ai-language-models",
        "vertex_ai-anthropic_models",
        "vertex_ai",
        "gemini",
    ] {
        assert_eq!(c.provider_named(name, None), Some("google"), "{name}");
    }
}

/// A provider name that holds two providers' (`anthropic_vertex`) is the
/// host's that bills, for the price as for the provider table (hunt66: the
/// table said Google while Anthropic's own rates priced the call, $0.48 for
/// Vertex's $0.60 with LiteLLM's prices, as `anthropic`'s longer hint
/// outscored `vertex`).
#[test]
fn a_name_of_two_providers_is_priced_by_the_host() {
    let c = Catalog::builtin();
    let model = "claude-3-5-haiku@20241022";
    let id = c.resolve(Some("anthropic_vertex"), model).unwrap();
    assert_eq!(c.model(id).provider, "google");
    assert_eq!(
        c.provider_named("anthropic_vertex", Some(model)),
        Some("google")
    );
    assert_eq!(
        c.provider_of(Some("anthropic_vertex"), Some(id))
            .map(|p| p.id.as_str()),
        Some("google")
    );
    // Anthropic's own name, and a Bedrock client's, are as before.
    let id = c.resolve(Some("anthropic"), model).unwrap();
    assert_eq!(c.model(id).provider, "anthropic");
    let id = c
        .resolve(Some("AnthropicBedrock"), "claude-3-5-haiku-20241022")
        .unwrap();
    assert_eq!(c.model(id).provider, "aws");
}

/// An imported entry is named as the built-in catalog names models, its
/// key's provider prefix left out, so it replaces the built-in entry and a
/// log naming the provider in its own field finds it (hunt66: `azure` +
/// `eu/o1` was the built-in `o1`, $7.50 for $8.25; 166 of 3,328 LiteLLM
/// prices were never used in that spelling). Of two keys of one bare name,
/// the one prefixed by the provider's own id takes it.
#[test]
fn imports_litellm_entries_under_their_bare_names() {
    let json = r#"{
      "azure/eu/o1": {"litellm_provider": "azure", "mode": "chat",
        "input_cost_per_token": 1.65e-05, "output_cost_per_token": 6.6e-05},
      "codestral/codestral-latest": {"litellm_provider": "codestral", "mode": "chat",
        "input_cost_per_token": 0, "output_cost_per_token": 0},
      "mistral/codestral-latest": {"litellm_provider": "mistral", "mode": "chat",
        "input_cost_per_token": 3e-07, "output_cost_per_token": 9e-07},
      "azure/o1": {"litellm_provider": "azure", "mode": "chat",
        "input_cost_per_token": 1e-05, "output_cost_per_token": 4e-05},
      "gemini/gem-x": {"litellm_provider": "gemini", "mode": "chat",
        "input_cost_per_token": 0, "output_cost_per_token": 0},
      "vertex_ai/gem-x": {"litellm_provider": "vertex_ai-language-models", "mode": "chat",
        "input_cost_per_token": 1.5e-07, "output_cost_per_token": 6e-07}
    }"#;
    let (imported, _) = import_litellm(json).unwrap();
    let ids: Vec<(&str, &str)> = imported
        .models()
        .map(|(_, m)| (m.provider.as_str(), m.id.as_str()))
        .collect();
    assert!(ids.contains(&("azure", "eu/o1")), "{ids:?}");
    assert!(ids.contains(&("mistral", "codestral-latest")), "{ids:?}");
    assert!(
        ids.contains(&("mistral", "codestral/codestral-latest")),
        "{ids:?}"
    );
    // Two keys of one bare name, neither with Google's own prefix: each
    // keeps its key (hunt69: the first took the name, at $0).
    assert!(ids.contains(&("google", "gemini/gem-x")), "{ids:?}");
    assert!(ids.contains(&("google", "vertex_ai/gem-x")), "{ids:?}");
    let mut c = Catalog::builtin();
    let before = c.models().count();
    c.overlay(imported);
    let u = Usage {
        input: 100_000,
        output: 100_000,
        ..Usage::default()
    };
    let cost = |p: Option<&str>, m: &str| {
        let id = c.resolve(p, m).unwrap();
        c.price(id, None, &u, false).cost.total()
    };
    // 100,000 × $16.50 + 100,000 × $66 per million.
    assert_eq!(cost(Some("azure"), "eu/o1"), usd("8.25"));
    assert_eq!(cost(None, "azure/eu/o1"), usd("8.25"));
    assert_eq!(cost(Some("mistral"), "codestral-latest"), usd("0.12"));
    // `azure/o1` replaced the built-in Azure entry of that id: 100,000 ×
    // $10 + 100,000 × $40 per million.
    assert_eq!(c.models().count(), before + 5);
    assert_eq!(cost(Some("azure"), "o1"), usd("5"));
    // 100,000 × $0.15 + 100,000 × $0.60 per million.
    assert_eq!(cost(None, "vertex_ai/gem-x"), usd("0.075"));
}

/// genai-prices' v3 file is refused with the path of the v2 one it reads
/// (hunt174: "not a genai-prices price file").
#[test]
fn genai_prices_v3_is_refused_naming_v2() {
    let err = import_genai_prices(r#"{"units": {}, "providers": []}"#)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("prices/new_data/v2/data.json"), "{err}");
}

/// An alias entry (`alias_of`, LiteLLM 1.110) is its target's prices under
/// its own name (hunt174: skipped as not priced per token, its calls
/// unpriced); an alias of nothing is skipped as before.
#[test]
fn imports_litellm_aliases_as_their_targets() {
    let json = r#"{
      "acme-sol-1": {"litellm_provider": "openai", "mode": "chat",
        "input_cost_per_token": 1e-06, "output_cost_per_token": 4e-06},
      "acme-sol-latest": {"alias_of": "acme-sol-1"},
      "acme-gone-latest": {"alias_of": "acme-gone-1"}
    }"#;
    let (imported, report) = import_litellm(json).unwrap();
    let sol = imported.resolve(Some("openai"), "acme-sol-latest").unwrap();
    let u = Usage {
        input: 100_000,
        output: 50_000,
        ..Usage::default()
    };
    // 100,000 × $1 + 50,000 × $4 per million.
    assert_eq!(
        imported.price(sol, None, &u, false).cost.total(),
        usd("0.3")
    );
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert_eq!(report.skipped[0].0, "acme-gone-latest");
}

#[test]
fn imports_litellm_floats_exactly_with_batch_and_tiers() {
    let json = r#"{
      "sample_spec": {"input_cost_per_token": 0.0},
      "gemini/gemini-x": {"litellm_provider": "gemini", "mode": "chat",
        "input_cost_per_token": 1.25e-06, "output_cost_per_token": 1e-05,
        "cache_read_input_token_cost": 1.25e-07,
        "input_cost_per_token_above_200k_tokens": 2.5e-06, "output_cost_per_token_above_200k_tokens": 1.5e-05,
        "input_cost_per_token_batches": 6.25e-07, "output_cost_per_token_batches": 5e-06,
        "input_cost_per_token_priority": 2.25e-06},
      "odd-batch": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 3e-06,
        "output_cost_per_token": 1.5e-05, "input_cost_per_token_batches": 1.5e-06, "output_cost_per_token_batches": 1e-05},
      "dall-e": {"litellm_provider": "openai", "mode": "image_generation", "input_cost_per_pixel": 1e-08}
    }"#;
    let (c, report) = import_litellm(json).unwrap();
    assert_eq!(report.imported, 2);
    assert_eq!(
        report.skipped_by_reason(),
        vec![("not priced per token (image_generation)".to_owned(), 1)]
    );
    let g = c.resolve(Some("gemini"), "gemini-x").unwrap();
    assert_eq!(c.model(g).provider, "google");
    assert_eq!(c.model(g).batch_multiplier, Multiplier::parse("0.5"));
    let u = Usage {
        input: 300_000,
        output: 1_000,
        ..Usage::default()
    };
    // tier above 200k: 300000 × 2.5 = 0.75; 1000 × 15 = 0.015; batch halves: 0.3825
    assert_eq!(c.price(g, None, &u, true).cost.total(), usd("0.3825"));
    let odd = c.resolve(None, "odd-batch").unwrap();
    assert_eq!(c.model(odd).batch_multiplier, None);
}

#[test]
fn the_builtin_build_keeps_the_shipped_providers_and_takes_only_uniform_batch_prices() {
    // genai-prices' side: three providers, one of them not shipped.
    let genai = Catalog::from_json_str(
        r#"{"schema": 1, "version": "x",
            "providers": [{"id": "acme", "kind": "first_party"}, {"id": "cloud"}, {"id": "other"}],
            "models": [
              {"provider": "acme", "id": "fast", "match": {"starts_with": "fast-"},
               "prices": [{"input": "1", "output": "2"}]},
              {"provider": "acme", "id": "slow", "prices": [{"input": "4", "output": "8"}]},
              {"provider": "cloud", "id": "fast", "prices": [{"input": "1.1", "output": "2.2"}]},
              {"provider": "other", "id": "x", "prices": [{"input": "9"}]}]}"#,
    )
    .unwrap();
    // LiteLLM's side: batch prices under names the models' rules match.
    // Two names for `slow` disagree (0.5 and 0.6): it gets none.
    let litellm = Catalog::from_json_str(
        r#"{"schema": 1, "version": "y",
            "models": [
              {"provider": "acme", "id": "fast-2025-01-01", "batch_multiplier": "0.5",
               "prices": [{"input": "1"}]},
              {"provider": "acme", "id": "fast-latest", "batch_multiplier": "0.5",
               "prices": [{"input": "1"}]},
              {"provider": "acme", "id": "slow", "batch_multiplier": "0.5", "prices": [{"input": "4"}]},
              {"provider": "acme", "id": "acme/slow", "batch_multiplier": "0.6", "prices": [{"input": "4"}]},
              {"provider": "cloud", "id": "unknown", "batch_multiplier": "0.5", "prices": [{"input": "1"}]}]}"#,
    )
    .unwrap();
    let source = Source {
        name: "s".into(),
        version: "1".into(),
        url: None,
        license: None,
        sha256: Some("ab".into()),
    };
    let (built, report) = build_builtin(
        &genai,
        &litellm,
        &["cloud", "acme"],
        "2026-11-22",
        vec![source.clone()],
    )
    .unwrap();
    assert_eq!(built.version(), "2026-11-22");
    assert_eq!(built.sources(), [source]);
    let providers: Vec<&str> = built.providers().iter().map(|p| p.id.as_str()).collect();
    assert_eq!(providers, ["cloud", "acme"]);
    let models: Vec<(String, Option<String>)> = built
        .models()
        .map(|(_, m)| {
            (
                format!("{}/{}", m.provider, m.id),
                m.batch_multiplier.map(|b| b.to_string()),
            )
        })
        .collect();
    assert_eq!(
        models,
        [
            ("cloud/fast".to_string(), None),
            ("acme/fast".to_string(), Some("0.5".to_string())),
            ("acme/slow".to_string(), None),
        ]
    );
    assert_eq!(report.conflicts, ["acme/slow (batch)"]);
    let err = build_builtin(&genai, &litellm, &["acme", "nope"], "d", Vec::new()).unwrap_err();
    assert_eq!(err, "provider \"nope\" is not in genai-prices");
}

#[test]
fn the_builtin_catalog_records_the_upstream_files_it_was_built_from() {
    let c = Catalog::builtin();
    let sources: Vec<(&str, &str)> = c
        .sources()
        .iter()
        .map(|s| (s.name.as_str(), s.version.as_str()))
        .collect();
    assert_eq!(
        sources,
        [
            ("genai-prices", "47df840a (2026-08-21)"),
            ("litellm model_prices_and_context_window.json", "1.109.1"),
        ]
    );
    // Built from the shipped providers, in their order.
    let providers: Vec<&str> = c.providers().iter().map(|p| p.id.as_str()).collect();
    assert_eq!(providers, shipped_providers());
    for s in c.sources() {
        let digest = s.sha256.as_deref().unwrap_or("");
        assert!(
            digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
            "{}: {digest:?}",
            s.name
        );
    }
}

/// A price file's rates are capped at $1,000,000 per million tokens and its
/// batch multiplier at 1, so a price times any token count fits in `Money`
/// (the prices fuzz target found `output_mtok: 1.9e29` overflowing it).
#[test]
fn absurd_rates_and_multipliers_are_invalid_and_the_highest_prices_any_count() {
    let file = |price: &str, multiplier: &str| {
        format!(
            r#"{{"schema": 1, "version": "x", "models": [{{"provider": "a", "id": "m",
                "batch_multiplier": "{multiplier}", "prices": [{{"input": "1", "output": "{price}"}}]}}]}}"#
        )
    };
    let err = Catalog::from_json_str(&file("1000000.000001", "0.5")).unwrap_err();
    assert!(err.to_string().contains("at most 1000000"), "{err}");
    let err = Catalog::from_json_str(&file("190000000000800000000008352701", "0.5")).unwrap_err();
    assert!(err.to_string().contains("`output`"), "{err}");
    let err = Catalog::from_json_str(&file("15", "1.5")).unwrap_err();
    assert!(err.to_string().contains("up to 1"), "{err}");

    let c = Catalog::from_json_str(&file("1000000", "1")).unwrap();
    let m = id(&c, "a", "m");
    let most = Usage {
        input: u64::MAX,
        output: u64::MAX,
        ..Usage::default()
    };
    // u64::MAX × ($1 + $0.000001) a token, in pico-dollars, exactly.
    let want = i128::from(u64::MAX) * (1_000_000_000_000 + 1_000_000);
    assert_eq!(c.price(m, None, &most, true).cost.total().picos(), want);
}

/// A model genai-prices gives no long-context tier takes LiteLLM's, when
/// LiteLLM's names for it agree and have its base prices.
#[test]
fn the_builtin_build_takes_long_context_tiers_from_litellm_only_where_they_fit() {
    let genai = Catalog::from_json_str(
        r#"{"schema": 1, "version": "x", "providers": [{"id": "cloud"}],
            "models": [
              {"provider": "cloud", "id": "big", "match": {"starts_with": "big-"}, "prices": [{"input": "3", "output": "15"}]},
              {"provider": "cloud", "id": "tiered", "prices": [{"input": "1", "output": "2",
               "tiers": [{"above_input_tokens": 100000, "input": "5"}]}]},
              {"provider": "cloud", "id": "other", "prices": [{"input": "1", "output": "1"}]},
              {"provider": "cloud", "id": "torn", "match": {"starts_with": "torn-"}, "prices": [{"input": "1", "output": "1"}]}]}"#,
    )
    .unwrap();
    let litellm = Catalog::from_json_str(
        r#"{"schema": 1, "version": "y",
            "models": [
              {"provider": "cloud", "id": "big-v1", "prices": [{"input": "3", "output": "15",
               "tiers": [{"above_input_tokens": 200000, "input": "6", "output": "22.5"}]}]},
              {"provider": "cloud", "id": "tiered", "prices": [{"input": "1", "output": "2",
               "tiers": [{"above_input_tokens": 100000, "input": "9"}]}]},
              {"provider": "cloud", "id": "other", "prices": [{"input": "2", "output": "1",
               "tiers": [{"above_input_tokens": 100000, "input": "9"}]}]},
              {"provider": "cloud", "id": "torn-a", "prices": [{"input": "1", "output": "1",
               "tiers": [{"above_input_tokens": 100000, "input": "2"}]}]},
              {"provider": "cloud", "id": "torn-b", "prices": [{"input": "1", "output": "1",
               "tiers": [{"above_input_tokens": 100000, "input": "3"}]}]}]}"#,
    )
    .unwrap();
    let (built, report) = build_builtin(&genai, &litellm, &["cloud"], "v", Vec::new()).unwrap();
    assert_eq!(report.tiers_added, ["cloud/big"]);
    let tiers = |id: &str| {
        let (_, m) = built.models().find(|(_, m)| m.id == id).unwrap();
        m.periods[0]
            .tiers
            .iter()
            .map(|t| (t.above_input_tokens, t.rates.input.map(|m| m.picos())))
            .collect::<Vec<_>>()
    };
    // Taken ($6/MTok: 6,000,000 pico-dollars a token); genai-prices' own
    // kept; other base prices; names that disagree.
    assert_eq!(tiers("big"), [(200_000, Some(6_000_000))]);
    assert_eq!(tiers("tiered"), [(100_000, Some(5_000_000))]);
    assert_eq!(tiers("other"), []);
    assert_eq!(tiers("torn"), []);
}

/// A model LiteLLM prices that genai-prices has no entry for, its name
/// taken by an older model's looser rule at other prices, is a model of
/// its own as LiteLLM gives it (hunt133: `claude-opus-5-5` priced as Opus
/// 5, +52%; hunt132: Titan Embed V2 as V1, 5×), with its dated names; a
/// dated name at the older model's prices, or at one of its earlier
/// prices, stays the older model's, as do its dated spellings and its
/// `-latest` alias; and a LiteLLM entry that went apart gives the older
/// model none of its multipliers.
#[test]
fn the_builtin_build_adds_models_an_older_models_rule_took_at_other_prices() {
    let genai = Catalog::from_json_str(
        r#"{"schema": 1, "version": "x", "providers": [{"id": "cloud"}],
            "models": [
              {"provider": "cloud", "id": "opus-5", "match": {"starts_with": "opus-5"},
               "prices": [{"input": "2", "output": "10"}, {"effective": "2026-09-01", "input": "5", "output": "25"}]},
              {"provider": "cloud", "id": "embed-v1", "match": {"contains": "embed-text"}, "prices": [{"input": "0.1"}]},
              {"provider": "cloud", "id": "exact", "match": {"equals": "exact-2024"}, "prices": [{"input": "1", "output": "1"}]}]}"#,
    )
    .unwrap();
    let litellm = Catalog::from_json_str(
        r#"{"schema": 1, "version": "y",
            "models": [
              {"provider": "cloud", "id": "opus-5-5", "fast_multiplier": "3", "prices": [{"input": "4", "output": "20"}]},
              {"provider": "cloud", "id": "opus-5-5@default", "prices": [{"input": "4", "output": "20"}]},
              {"provider": "cloud", "id": "opus-5-plus", "prices": [{"input": "0", "output": "0"}]},
              {"provider": "cloud", "id": "vertex_ai/opus-5-5", "batch_multiplier": "0.5", "prices": [{"input": "4", "output": "20"}]},
              {"provider": "cloud", "id": "opus-5-20260101", "prices": [{"input": "5", "output": "25"}]},
              {"provider": "cloud", "id": "opus-5-legacy", "prices": [{"input": "2", "output": "10"}]},
              {"provider": "cloud", "id": "opus-5-20261101-v1:0", "prices": [{"input": "4.5", "output": "22.5"}]},
              {"provider": "cloud", "id": "opus-5-latest", "prices": [{"input": "9", "output": "9"}]},
              {"provider": "cloud", "id": "bedrock/gov-1/opus-5-5", "prices": [{"input": "6", "output": "30"}]},
              {"provider": "cloud", "id": "embed-text-v2", "prices": [{"input": "0.02"}]},
              {"provider": "cloud", "id": "exact-2024", "prices": [{"input": "7", "output": "7"}]}]}"#,
    )
    .unwrap();
    let (built, report) = build_builtin(&genai, &litellm, &["cloud"], "v", Vec::new()).unwrap();
    assert_eq!(
        report.models_added,
        [
            "cloud/opus-5-5 (from opus-5)",
            "cloud/gov-1/opus-5-5 (from opus-5)",
            "cloud/embed-text-v2 (from embed-v1)"
        ]
    );
    let at = |name: &str| {
        let m = built.model(built.resolve(None, name).unwrap());
        let r = &m.periods.last().unwrap().rates;
        (
            m.id.clone(),
            r.input.map(|x| x.picos()),
            m.fast_multiplier.is_some(),
        )
    };
    // $4/MTok: 4,000,000 pico-dollars a token; its own fast multiple.
    assert_eq!(at("opus-5-5"), ("opus-5-5".into(), Some(4_000_000), true));
    assert_eq!(
        at("opus-5-5-20261101"),
        ("opus-5-5".into(), Some(4_000_000), true)
    );
    assert_eq!(
        at("opus-5-20260101"),
        ("opus-5".into(), Some(5_000_000), false)
    );
    assert_eq!(
        at("opus-5-legacy"),
        ("opus-5".into(), Some(5_000_000), false)
    );
    // Vertex's versions; a region's key named without LiteLLM's provider
    // word (hunt134).
    assert_eq!(
        at("opus-5-5@20261101"),
        ("opus-5-5".into(), Some(4_000_000), true)
    );
    assert_eq!(
        at("gov-1/opus-5-5"),
        ("gov-1/opus-5-5".into(), Some(6_000_000), false)
    );
    assert_eq!(
        at("bedrock/gov-1/opus-5-5"),
        ("gov-1/opus-5-5".into(), Some(6_000_000), false)
    );
    // A dated spelling of the model itself, whatever LiteLLM's price for
    // it, and an alias whose model changes over time, stay its own
    // (hunt134: Bedrock's Opus 4.5 id at the global price; 2025's
    // `mistral-medium-latest` calls at 2026's model's price).
    assert_eq!(
        at("opus-5-20261101-v1:0"),
        ("opus-5".into(), Some(5_000_000), false)
    );
    assert_eq!(
        at("opus-5-latest"),
        ("opus-5".into(), Some(5_000_000), false)
    );
    // Of two keys for one model at the same prices, the bare one's entry
    // with the other's batch price (hunt137).
    let (_, m) = built.models().find(|(_, m)| m.id == "opus-5-5").unwrap();
    assert_eq!(
        m.batch_multiplier.map(|b| b.to_string()).as_deref(),
        Some("0.5")
    );
    // LiteLLM's $0 for a price it does not know adds no free model
    // (hunt134: Command A+ at $0).
    assert_eq!(at("opus-5-plus"), ("opus-5".into(), Some(5_000_000), false));
    assert_eq!(
        at("embed-text-v2"),
        ("embed-text-v2".into(), Some(20_000), false)
    );
    assert_eq!(
        at("embed-text-v1"),
        ("embed-v1".into(), Some(100_000), false)
    );
    // An equality genai-prices wrote is its word, whatever LiteLLM says.
    assert_eq!(at("exact-2024"), ("exact".into(), Some(1_000_000), false));
}

/// Google lists Vertex's Claude models under Anthropic's undated names; a
/// log that gives no provider means Anthropic's (whose 1-hour cache-write
/// and batch prices Vertex's entries lack), and one that names Vertex means
/// Google's.
#[test]
fn an_undated_name_is_its_makers_model_unless_a_host_is_named() {
    let c = Catalog::builtin();
    let key = |provider: Option<&str>, name: &str| {
        let m = c.model(c.resolve(provider, name).unwrap());
        (
            format!("{}/{}", m.provider, m.id),
            m.periods[0].rates.cache_write_1h.is_some(),
        )
    };
    let anthropic = |id: &str| (format!("anthropic/{id}"), true);
    assert_eq!(
        key(None, "claude-3-5-haiku"),
        anthropic("claude-3-5-haiku-latest")
    );
    assert_eq!(
        key(None, "Claude-3-7-Sonnet"),
        anthropic("claude-3-7-sonnet-latest")
    );
    assert_eq!(
        key(None, "claude-3-opus"),
        anthropic("claude-3-opus-latest")
    );
    // Bedrock's spelling of a model its Bedrock entries lack (no date).
    assert_eq!(
        key(None, "anthropic.claude-3-5-haiku"),
        anthropic("claude-3-5-haiku-latest")
    );
    assert_eq!(key(None, "claude-4-sonnet"), anthropic("claude-sonnet-4-0"));
    assert_eq!(
        key(Some("vertex_ai"), "claude-3-5-haiku").0,
        "google/claude-3-5-haiku"
    );
    assert_eq!(
        key(None, "vertex_ai/claude-3-7-sonnet").0,
        "google/claude-3-7-sonnet"
    );
    // A maker's rule that only begins the name does not take a host's model
    // of that exact id: Groq's distilled Llama is not DeepSeek's R1.
    assert_eq!(
        key(None, "deepseek-r1-distill-llama-70b").0,
        "groq/deepseek-r1-distill-llama-70b"
    );
    assert_eq!(key(None, "deepseek-r1").0, "deepseek/deepseek-reasoner");
}

/// `model_match` is read, written back, and kept by an overlay whose
/// provider has none (a LiteLLM import gives none).
#[test]
fn a_providers_model_match_round_trips_and_survives_an_overlay() {
    let json = r#"{"schema": 1, "version": "v",
        "providers": [{"id": "maker", "kind": "first_party", "model_match": {"starts_with": "mk-"}},
                      {"id": "host"}],
        "models": [{"provider": "host", "id": "mk-1", "prices": [{"input": "2"}]},
                   {"provider": "maker", "id": "mk-1-latest", "match": {"starts_with": "mk-1"}, "prices": [{"input": "1"}]}]}"#;
    let mut c = Catalog::from_json_str(json).unwrap();
    let resolved = |c: &Catalog| c.model(c.resolve(None, "mk-1").unwrap()).id.clone();
    assert_eq!(resolved(&c), "mk-1-latest");
    assert!(c
        .to_json_string()
        .contains("\"model_match\": {\n        \"starts_with\": \"mk-\""));
    let plain = r#"{"schema": 1, "version": "w", "providers": [{"id": "maker", "kind": "first_party"}],
        "models": [{"provider": "maker", "id": "other", "prices": [{"input": "1"}]}]}"#;
    c.overlay(Catalog::from_json_str(plain).unwrap());
    assert_eq!(resolved(&c), "mk-1-latest");
}

#[test]
fn flex_and_priority_calls_use_their_tier_rates_where_the_model_has_them() {
    let c = Catalog::from_json_str(
        r#"{"schema": 1, "version": "2026-01-01", "providers": [{"id": "acme"}],
            "models": [
              {"provider": "acme", "id": "g5", "batch_multiplier": "0.5",
               "flex_multiplier": "0.5", "priority_multiplier": "2",
               "prices": [{"input": "1.25", "output": "10", "cached_read": "0.125",
                           "tiers": [{"above_input_tokens": 272000, "input": "2.5", "output": "15"}]}]},
              {"provider": "acme", "id": "plain", "prices": [{"input": "3", "output": "15"}]}]}"#,
    )
    .unwrap();
    let g5 = id(&c, "acme", "g5");
    let u = Usage {
        input: 10_000,
        cached_read: 4_000,
        output: 1_000,
        ..Usage::default()
    };
    // Standard: 6000 × 1.25 + 4000 × 0.125 + 1000 × 10 = 0.0075 + 0.0005 + 0.01 = 0.018
    let p = c.price(g5, None, &u, Processing::Standard);
    assert_eq!(p.cost.total(), usd("0.018"));
    assert_eq!(
        (p.applied, p.tier_at_standard),
        (Processing::Standard, false)
    );
    // Flex halves every rate: 0.009; priority doubles it: 0.036.
    let p = c.price(g5, None, &u, Processing::Flex);
    assert_eq!(p.cost.total(), usd("0.009"));
    assert_eq!((p.applied, p.batch_priced), (Processing::Flex, false));
    let p = c.price(g5, None, &u, Processing::Priority);
    assert_eq!(p.cost.total(), usd("0.036"));
    assert_eq!(p.applied, Processing::Priority);
    // Above the long-context threshold the tier's rates are multiplied:
    // 300000 × 2.5 × 2 = 1.5; 1000 × 15 × 2 = 0.03.
    let big = Usage {
        input: 300_000,
        output: 1_000,
        ..Usage::default()
    };
    let p = c.price(g5, None, &big, Processing::Priority);
    assert_eq!(p.cost.total(), usd("1.53"));
    assert_eq!(p.tier_threshold, Some(272_000));
    // No such price: standard rates, and the flag says so.
    let plain = id(&c, "acme", "plain");
    let small = Usage {
        input: 1_000,
        output: 1_000,
        ..Usage::default()
    };
    let p = c.price(plain, None, &small, Processing::Priority);
    // 1000 × 3 + 1000 × 15 = 0.018
    assert_eq!(p.cost.total(), usd("0.018"));
    assert_eq!(
        (p.applied, p.tier_at_standard),
        (Processing::Standard, true)
    );
    // A batch call without a batch price is not a service-tier gap.
    let p = c.price(plain, None, &small, true);
    assert_eq!((p.batch_priced, p.tier_at_standard), (false, false));
    // The multipliers survive a write and a read.
    let again = Catalog::from_json_str(&c.to_json_string()).unwrap();
    let m = again.model(id(&again, "acme", "g5"));
    assert_eq!(
        (m.flex_multiplier, m.priority_multiplier),
        (
            Multiplier::parse("0.5"),
            Multiplier::parse_up_to("2", PRIORITY_MAX)
        )
    );
}

#[test]
fn a_priority_multiplier_above_the_bound_or_a_flex_one_above_1_is_an_error() {
    let catalog = |field: &str, value: &str| {
        Catalog::from_json_str(&format!(
            r#"{{"schema": 1, "version": "v", "models": [
                {{"provider": "acme", "id": "m", "{field}": "{value}", "prices": [{{"input": "1"}}]}}]}}"#
        ))
    };
    assert!(catalog("priority_multiplier", "2.5").is_ok());
    let err = catalog("priority_multiplier", "11")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`priority_multiplier` must be a positive decimal up to 10"),
        "{err}"
    );
    let err = catalog("flex_multiplier", "1.5").unwrap_err().to_string();
    assert!(
        err.contains("`flex_multiplier` must be a positive decimal up to 1"),
        "{err}"
    );
}

#[test]
fn imports_litellm_flex_and_priority_prices_only_when_uniform() {
    let json = r#"{
      "gpt-x": {"litellm_provider": "openai", "mode": "responses",
        "input_cost_per_token": 1.25e-06, "output_cost_per_token": 1e-05,
        "cache_read_input_token_cost": 1.25e-07,
        "input_cost_per_token_above_272k_tokens": 2.5e-06, "output_cost_per_token_above_272k_tokens": 1.5e-05,
        "input_cost_per_token_flex": 6.25e-07, "output_cost_per_token_flex": 5e-06,
        "cache_read_input_token_cost_flex": 6.25e-08,
        "input_cost_per_token_priority": 2.5e-06, "output_cost_per_token_priority": 2e-05,
        "cache_read_input_token_cost_priority": 2.5e-07,
        "input_cost_per_token_above_272k_tokens_priority": 5e-06,
        "output_cost_per_token_above_272k_tokens_priority": 3e-05},
      "uneven": {"litellm_provider": "openai", "mode": "chat",
        "input_cost_per_token": 1e-06, "output_cost_per_token": 4e-06,
        "input_cost_per_token_priority": 2e-06, "output_cost_per_token_priority": 4e-06,
        "input_cost_per_token_flex": 5e-07, "output_cost_per_token_flex": 2e-06,
        "input_cost_per_token_above_272k_tokens_flex": 1e-06}
    }"#;
    let (c, report) = import_litellm(json).unwrap();
    let x = c.model(c.resolve(None, "gpt-x").unwrap());
    assert_eq!(x.flex_multiplier, Multiplier::parse("0.5"));
    assert_eq!(
        x.priority_multiplier,
        Multiplier::parse_up_to("2", PRIORITY_MAX)
    );
    // Priority doubles input but not output; flex names a long-context
    // tier the normal prices lack: neither is taken.
    let u = c.model(c.resolve(None, "uneven").unwrap());
    assert_eq!((u.flex_multiplier, u.priority_multiplier), (None, None));
    for kind in ["flex", "priority"] {
        assert!(
            report.notes.iter().any(|n| n.starts_with("1 model(s) have")
                && n.contains(&format!("{kind} prices that are not one uniform multiple"))),
            "{:?}",
            report.notes
        );
    }
}

/// 1-hour cache writes: a model genai-prices gives no 1h rate (Claude on
/// Vertex) takes LiteLLM's when its names have the model's input, output
/// and 5-minute write rates and agree; before, its 1h writes were billed at
/// the 5-minute rate.
#[test]
fn cache_write_1h_from_litellm_where_it_fits() {
    let genai = Catalog::from_json_str(
        r#"{"schema": 1, "version": "x", "providers": [{"id": "cloud"}],
            "models": [
              {"provider": "cloud", "id": "claude-x", "match": {"contains": "claude-x"}, "prices": [{"input": "3", "output": "15", "cache_write_5m": "3.75",
                "tiers": [{"above_input_tokens": 200000, "input": "6", "output": "22.5", "cache_write_5m": "7.5"}]}]},
              {"provider": "cloud", "id": "other", "match": {"starts_with": "other-"}, "prices": [{"input": "3", "output": "15", "cache_write_5m": "3.75"}]},
              {"provider": "cloud", "id": "torn", "match": {"starts_with": "torn-"}, "prices": [{"input": "1", "output": "5", "cache_write_5m": "1.25"}]},
              {"provider": "cloud", "id": "global-m", "match": {"contains": "global.anthropic.claude-m"}, "prices": [{"input": "5", "output": "25", "cache_write_5m": "6.25"}]},
              {"provider": "cloud", "id": "regional-m", "match": {"starts_with": "anthropic.claude-m"}, "prices": [{"input": "5.5", "output": "27.5", "cache_write_5m": "6.875"}]}]}"#,
    )
    .unwrap();
    let litellm = Catalog::from_json_str(
        r#"{"schema": 1, "version": "y",
            "models": [
              {"provider": "cloud", "id": "global.anthropic.claude-m-v1", "prices": [{"input": "5", "output": "25", "cache_write_5m": "6.25", "cache_write_1h": "10"}]},
              {"provider": "cloud", "id": "claude-x@2025", "prices": [{"input": "3", "output": "15", "cache_write_5m": "3.75", "cache_write_1h": "6"}]},
              {"provider": "cloud", "id": "other-a", "prices": [{"input": "3", "output": "15", "cache_write_5m": "4", "cache_write_1h": "6"}]},
              {"provider": "cloud", "id": "torn-a", "prices": [{"input": "1", "output": "5", "cache_write_5m": "1.25", "cache_write_1h": "2"}]},
              {"provider": "cloud", "id": "torn-b", "prices": [{"input": "1", "output": "5", "cache_write_5m": "1.25", "cache_write_1h": "2.5"}]}]}"#,
    )
    .unwrap();
    let (built, report) = build_builtin(&genai, &litellm, &["cloud"], "v", Vec::new()).unwrap();
    // The global profile's name is the global model's, as resolution reads
    // it (its literal spelling first), not the regional one's whose rule
    // begins its unprefixed spelling.
    assert_eq!(
        report.cache_write_1h_added,
        ["cloud/claude-x", "cloud/global-m"]
    );
    assert_eq!(report.conflicts, ["cloud/torn (1h cache write)"]);
    let rate = |name: &str| {
        let (_, m) = built.models().find(|(_, m)| m.id == name).unwrap();
        m.periods[0].rates.cache_write_1h
    };
    assert_eq!(rate("claude-x"), Some(Money::from_picos(6_000_000)));
    // Its long-context tier had no 1h rate (it took the base's 6, below its
    // own 5-minute 7.5): the base's ratio, 7.5 × 6 / 3.75 = 12.
    let (_, m) = built.models().find(|(_, m)| m.id == "claude-x").unwrap();
    assert_eq!(
        m.periods[0].tiers[0].rates.cache_write_1h,
        Some(Money::from_picos(12_000_000))
    );
    assert_eq!(report.tier_cache_write_1h_derived, ["cloud/claude-x"]);
    // `other-a`'s 5-minute rate is not the model's: not taken.
    assert_eq!((rate("other"), rate("torn")), (None, None));
    assert_eq!(rate("global-m"), Some(Money::from_picos(10_000_000)));
    assert_eq!(rate("regional-m"), None);
    // 10,000 tokens written for an hour, 2,000 of 12,000 for five minutes:
    // 10,000 × 6 + 2,000 × 3.75 = $0.0675 (at the 5-minute rate: $0.045).
    let u = Usage {
        cache_write: 12_000,
        cache_write_1h: 10_000,
        ..Usage::default()
    };
    let (i, _) = built.models().find(|(_, m)| m.id == "claude-x").unwrap();
    let p = built.price(i, None, &u, false).cost;
    assert_eq!(p.total().to_decimal_string(), "0.0675");
}

/// Audio rates: a model genai-prices gives none takes LiteLLM's when its
/// names agree and have the model's base prices; the engine bills audio
/// tokens (uncached, cached, output) at them and the rest at text rates.
#[test]
fn audio_rates_from_litellm_where_they_fit_and_audio_tokens_at_them() {
    let genai = Catalog::from_json_str(
        r#"{"schema": 1, "version": "x", "providers": [{"id": "cloud"}],
            "models": [
              {"provider": "cloud", "id": "voice", "match": {"starts_with": "voice-"}, "prices": [{"input": "2.5", "output": "10"}]},
              {"provider": "cloud", "id": "own", "prices": [{"input": "1", "output": "2", "input_audio": "3"}]},
              {"provider": "cloud", "id": "torn", "match": {"starts_with": "torn-"}, "prices": [{"input": "1", "output": "1"}]}]}"#,
    )
    .unwrap();
    let litellm = Catalog::from_json_str(
        r#"{"schema": 1, "version": "y",
            "models": [
              {"provider": "cloud", "id": "voice-2024", "prices": [{"input": "2.5", "output": "10", "input_audio": "40", "output_audio": "80"}]},
              {"provider": "cloud", "id": "own", "prices": [{"input": "1", "output": "2", "input_audio": "9"}]},
              {"provider": "cloud", "id": "torn-a", "prices": [{"input": "1", "output": "1", "input_audio": "2"}]},
              {"provider": "cloud", "id": "torn-b", "prices": [{"input": "1", "output": "1", "input_audio": "3"}]}]}"#,
    )
    .unwrap();
    let (built, report) = build_builtin(&genai, &litellm, &["cloud"], "v", Vec::new()).unwrap();
    assert_eq!(report.audio_added, ["cloud/voice"]);
    assert_eq!(report.conflicts, ["cloud/torn (audio)"]);
    let rates = |name: &str| {
        let (_, m) = built.models().find(|(_, m)| m.id == name).unwrap();
        m.periods[0].rates
    };
    assert_eq!(rates("own").input_audio, Some(Money::from_picos(3_000_000)));
    assert_eq!(rates("torn").input_audio, None);

    // A call of 1,000 input tokens (600 audio, 300 of them cached, of 400
    // cached in all) and 500 output (200 audio, 100 reasoning), at input
    // 1, cached 0.1, output 4, audio 10 / cached audio 0.5 / output 20:
    // text 300 × 1 + audio 300 × 10 + cached text 100 × 0.1 + cached
    // audio 300 × 0.5 + text out 200 × 4 + audio out 200 × 20 + reasoning
    // 100 × 4 = 300 + 3,000 + 10 + 150 + 800 + 4,000 + 400 = 8,660 per
    // million: $0.00866.
    let c = Catalog::from_json_str(
        r#"{"schema": 1, "version": "x", "models": [{"provider": "a", "id": "m", "prices": [
            {"input": "1", "cached_read": "0.1", "output": "4",
             "input_audio": "10", "cached_audio_read": "0.5", "output_audio": "20"}]}]}"#,
    )
    .unwrap();
    let u = Usage {
        input: 1000,
        cached_read: 400,
        output: 500,
        reasoning: 100,
        input_audio: 600,
        cached_audio: 300,
        output_audio: 200,
        ..Usage::default()
    };
    assert_eq!(u.check(), Ok(()));
    let p = c.price(id(&c, "a", "m"), None, &u, false).cost;
    assert_eq!(p.total().to_decimal_string(), "0.00866");
    assert_eq!(
        [p.input_audio, p.cached_audio, p.output_audio].map(|m| m.to_decimal_string()),
        ["0.003", "0.00015", "0.004"]
    );
    // The catalog writes the audio rates back as it read them.
    assert_eq!(
        Catalog::from_json_str(&c.to_json_string())
            .unwrap()
            .to_json_string(),
        c.to_json_string()
    );
    assert!(c.to_json_string().contains(r#""cached_audio_read": "0.5""#));
}

/// A price per web search: read and written as USD per thousand searches
/// (`web_search_kcount`), billed per search whatever the processing, taken
/// from LiteLLM's `search_context_cost_per_query` only when it is one
/// price for every context size.
#[test]
fn web_searches_are_priced_per_search() {
    let c = Catalog::from_json_str(
        r#"{"schema": 1, "version": "x", "models": [{"provider": "a", "id": "m",
            "batch_multiplier": "0.5",
            "prices": [{"input": "3", "output": "15", "web_search_kcount": "10"}]}]}"#,
    )
    .unwrap();
    let u = Usage {
        input: 1000,
        output: 100,
        web_searches: 3,
        ..Usage::default()
    };
    // 1,000 × 3 + 100 × 15 = $0.0045, and 3 × $0.01 = $0.03.
    let p = c.price(id(&c, "a", "m"), None, &u, false).cost;
    assert_eq!(p.total().to_decimal_string(), "0.0345");
    assert_eq!(p.web_search.to_decimal_string(), "0.03");
    // Batch halves the token rates, not the search fee.
    let b = c.price(id(&c, "a", "m"), None, &u, true).cost;
    assert_eq!(b.total().to_decimal_string(), "0.03225");
    assert_eq!(
        Catalog::from_json_str(&c.to_json_string())
            .unwrap()
            .to_json_string(),
        c.to_json_string()
    );
    assert!(c.to_json_string().contains(r#""web_search_kcount": "10""#));
    let err = Catalog::from_json_str(
        r#"{"schema": 1, "version": "x", "models": [{"provider": "a", "id": "m",
            "prices": [{"input": "3", "web_search_kcount": "-1"}]}]}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("web_search_kcount"), "{err}");

    let (litellm, _) = import_litellm(
        r#"{"claude-x": {"litellm_provider": "anthropic", "mode": "chat",
              "input_cost_per_token": 3e-6, "output_cost_per_token": 1.5e-5,
              "search_context_cost_per_query": {"search_context_size_low": 0.01,
                "search_context_size_medium": 0.01, "search_context_size_high": 0.01}},
            "gpt-x": {"litellm_provider": "openai", "mode": "chat",
              "input_cost_per_token": 3e-6, "output_cost_per_token": 1.5e-5,
              "search_context_cost_per_query": {"search_context_size_low": 0.03,
                "search_context_size_medium": 0.035, "search_context_size_high": 0.05}}}"#,
    )
    .unwrap();
    let rate = |name: &str| {
        let (_, m) = litellm.models().find(|(_, m)| m.id == name).unwrap();
        m.periods[0].rates.web_search
    };
    assert_eq!(rate("claude-x"), Some(Money::from_picos(10_000_000_000)));
    assert_eq!(rate("gpt-x"), None);
}

/// OpenRouter's free variants (`…:free`) are never the paid model: $0 where
/// the catalog lists the free variant (genai-prices lists it with no price),
/// else a model the catalog does not price (hunt34: $0.052 of spend that
/// never happened, at the paid models' rates).
#[test]
fn free_variants_are_never_priced_as_the_paid_model() {
    let c = Catalog::builtin();
    assert!(c.resolve(None, "deepseek/deepseek-chat").is_some());
    assert_eq!(c.resolve(None, "deepseek/deepseek-chat-v3.1:free"), None);
    assert_eq!(
        c.resolve(Some("openrouter"), "google/gemini-2.0-flash-exp:free"),
        None
    );
    let free = c.resolve(None, "mistral-nemo:free").expect("listed");
    assert_eq!(c.model(free).id, "mistral-nemo:free");
    let u = Usage {
        input: 100_000,
        output: 10_000,
        ..Usage::default()
    };
    assert_eq!(c.price(free, None, &u, false).cost.total(), Money::ZERO);
    // A `--prices` entry whose match rule names the free variant, under an
    // id without `:free`, prices it (hunt35).
    let mut c = Catalog::builtin();
    c.overlay(
        Catalog::from_json_str(
            r#"{"schema": 1, "version": "mine", "models": [
                {"provider": "openrouter", "id": "llama-free-tier",
                 "match": {"equals": "meta-llama/llama-3.3-70b-instruct:free"},
                 "prices": [{"input": "0.1", "output": "0.1"}]}]}"#,
        )
        .unwrap(),
    );
    let id = c
        .resolve(None, "meta-llama/llama-3.3-70b-instruct:free")
        .expect("the --prices entry");
    assert_eq!(c.model(id).id, "llama-free-tier");
}

/// A LiteLLM import has no dates: over a built-in price history its prices
/// apply from the last change on, and a price the history already has (an
/// older snapshot) changes nothing (hunt111: the import replaced every
/// history, o3's calls of May 2025 were priced at the cut of June 10 and
/// claude-sonnet-5's after its rise of September 2026 at the old price).
#[test]
fn a_litellm_snapshot_keeps_the_built_in_price_history() {
    let json = r#"{
      "o3": {"litellm_provider": "openai", "mode": "chat",
        "input_cost_per_token": 1.8e-06, "output_cost_per_token": 7.2e-06},
      "claude-sonnet-5": {"litellm_provider": "anthropic", "mode": "chat",
        "input_cost_per_token": 2e-06, "output_cost_per_token": 1e-05,
        "cache_read_input_token_cost": 2e-07, "cache_creation_input_token_cost": 2.5e-06,
        "cache_creation_input_token_cost_above_1hr": 4e-06}
    }"#;
    let (imported, report) = import_litellm(json).unwrap();
    assert!(report.notes.iter().any(|n| n.contains("have no dates")));
    // Written and read back, the file keeps saying so.
    let imported = Catalog::from_json_str(&imported.to_json_string()).unwrap();
    assert!(imported.is_snapshot());
    let builtin = Catalog::builtin();
    let mut c = Catalog::builtin();
    c.overlay(imported);
    let o3 = c.resolve(Some("openai"), "o3").unwrap();
    // Before the cut of 2025-06-10: the built-in $10/$40.
    assert_eq!(
        c.period(o3, day("2025-06-01")).rates.input,
        Some(usd("0.00001"))
    );
    assert_eq!(
        c.period(o3, day("2025-06-01")).rates.output,
        Some(usd("0.00004"))
    );
    // From it on, LiteLLM's $1.8/$7.2 (a price the history does not have).
    assert_eq!(
        c.period(o3, day("2025-06-10")).rates.input,
        Some(usd("0.0000018"))
    );
    assert_eq!(
        c.period(o3, day("2026-12-01")).rates.output,
        Some(usd("0.0000072"))
    );
    assert_eq!(c.model(o3).periods.len(), 2);
    // claude-sonnet-5's LiteLLM price is its price before the rise of
    // 2026-09-01: the history stays whole.
    let s5 = c.resolve(Some("anthropic"), "claude-sonnet-5").unwrap();
    let b5 = builtin
        .resolve(Some("anthropic"), "claude-sonnet-5")
        .unwrap();
    assert_eq!(c.model(s5).periods, builtin.model(b5).periods);
    assert_eq!(
        c.period(s5, day("2026-10-01")).rates.input,
        Some(usd("0.000003"))
    );
    assert_eq!(
        c.period(s5, day("2026-08-01")).rates.input,
        Some(usd("0.000002"))
    );
    // A snapshot older than gpt-5.6-luna's cut of 2026-07-30, with a
    // web-search fee the built-in does not give: still the history's own
    // price, the cut kept (hunt113).
    let luna = builtin.resolve(Some("openai"), "gpt-5.6-luna").unwrap();
    let early = &builtin.model(luna).periods[0];
    assert!(builtin.model(luna).periods.len() >= 2);
    let rate = |m: Option<Money>| m.unwrap().to_decimal_string();
    let old = format!(
        r#"{{"gpt-5.6-luna": {{"litellm_provider": "openai", "mode": "chat",
            "input_cost_per_token": {}, "output_cost_per_token": {},
            "search_context_cost_per_query": {{"search_context_size_medium": 0.01}}}}}}"#,
        rate(early.rates.input),
        rate(early.rates.output)
    );
    let (imported, _) = import_litellm(&old).unwrap();
    let mut c = Catalog::builtin();
    c.overlay(imported);
    let l = c.resolve(Some("openai"), "gpt-5.6-luna").unwrap();
    assert_eq!(c.model(l).periods, builtin.model(luna).periods);
    // A snapshot that gives o3 a long-context tier its history lacks: the
    // tier applies from o3's last change on (hunt115: dropped).
    let tiered = r#"{"o3": {"litellm_provider": "openai", "mode": "chat",
        "input_cost_per_token": 2e-06, "output_cost_per_token": 8e-06,
        "cache_read_input_token_cost": 5e-07,
        "input_cost_per_token_above_200k_tokens": 4e-06,
        "output_cost_per_token_above_200k_tokens": 1.6e-05}}"#;
    let (imported, _) = import_litellm(tiered).unwrap();
    let mut c = Catalog::builtin();
    c.overlay(imported);
    let o3 = c.resolve(Some("openai"), "o3").unwrap();
    let now = c.period(o3, day("2026-10-01"));
    assert_eq!(
        now.tiers.first().map(|t| t.above_input_tokens),
        Some(200_000)
    );
    assert_eq!(
        c.period(o3, day("2025-06-01")).rates.input,
        Some(usd("0.00001"))
    );
    // A user's own undated price (no snapshot) still replaces the history.
    let mut c = Catalog::builtin();
    c.overlay(
        Catalog::from_json_str(
            r#"{"schema": 1, "version": "mine", "models": [
            {"provider": "openai", "id": "o3", "prices": [{"input": "1", "output": "4"}]}]}"#,
        )
        .unwrap(),
    );
    let o3 = c.resolve(Some("openai"), "o3").unwrap();
    assert_eq!(
        c.period(o3, day("2025-06-01")).rates.input,
        Some(usd("0.000001"))
    );
}

/// The OpenTelemetry GenAI conventions' provider names (hunt114:
/// `azure.ai.openai` was priced and listed as OpenAI).
#[test]
fn semconv_provider_names_name_their_providers() {
    let c = Catalog::builtin();
    for (name, id) in [
        ("azure.ai.openai", "azure"),
        ("azure.ai.inference", "azure"),
        ("aws.bedrock", "aws"),
        ("gcp.vertex_ai", "google"),
        ("gcp.gemini", "google"),
        ("gcp.gen_ai", "google"),
        ("mistral_ai", "mistral"),
        ("x_ai", "x-ai"),
    ] {
        assert_eq!(c.provider_named(name, None), Some(id), "{name}");
        assert_eq!(
            c.provider_of(Some(name), None).map(|p| p.id.as_str()),
            Some(id),
            "{name}"
        );
    }
    let ada = c.resolve(Some("azure.ai.openai"), "ada").unwrap();
    assert_eq!(c.model(ada).provider, "azure");
}

/// hunt150: a snapshot's $0 input and output over a priced model is
/// LiteLLM's placeholder (the builtin's prices stay); a model the builtin
/// does not price is taken as free. And an overlaid catalog's calls
/// without a time are priced on the builtin's date, not its last period.
#[test]
fn a_snapshots_zero_placeholder_and_the_overlaid_date() {
    let mut base = test_catalog();
    let snapshot = Catalog::from_json_str(
        r#"{"schema": 1, "version": "litellm-import", "snapshot": true, "models": [
            {"provider": "acme", "id": "sonnet", "prices": [{"input": "0", "output": "0"}]},
            {"provider": "acme", "id": "free-7b", "prices": [{"input": "0", "output": "0"}]}]}"#,
    )
    .unwrap();
    base.overlay(snapshot);
    let sonnet = base.resolve(Some("acme"), "sonnet").unwrap();
    assert_eq!(
        base.model(sonnet).periods[0].rates.input,
        Some(usd("0.000003"))
    );
    let free = base.resolve(Some("acme"), "free-7b").unwrap();
    assert_eq!(base.model(free).periods[0].rates.input, Some(Money::ZERO));
    assert_eq!(base.version(), "2026-01-01+litellm-import");
    assert_eq!(
        base.version_date,
        Some(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
    );
}

/// hunt150, hunt153: a provider a file lists without a `kind`, or does not
/// list, is a model maker when its id is one; a `kind` the file gives is
/// kept, `host` included.
#[test]
fn a_files_provider_kind_defaults_to_the_makers_and_is_kept_when_given() {
    let kind = |text: &str| {
        let mut base = test_catalog();
        base.overlay(Catalog::from_json_str(text).unwrap());
        base.providers()
            .iter()
            .find(|p| p.id == "anthropic")
            .map(|p| p.kind)
    };
    let model = r#""models": [{"provider": "anthropic", "id": "x", "prices": [{"input": "1", "output": "1"}]}]"#;
    assert_eq!(
        kind(&format!(r#"{{"schema": 1, "version": "v", {model}}}"#)),
        Some(ProviderKind::FirstParty)
    );
    assert_eq!(
        kind(&format!(
            r#"{{"schema": 1, "version": "v", "providers": [{{"id": "anthropic"}}], {model}}}"#
        )),
        Some(ProviderKind::FirstParty)
    );
    assert_eq!(
        kind(&format!(
            r#"{{"schema": 1, "version": "v", "providers": [{{"id": "anthropic", "kind": "host"}}], {model}}}"#
        )),
        Some(ProviderKind::Host)
    );
}

/// hunt155: a catalog imported from genai-prices gives what its source
/// knows: the builtin's tiers (taken from LiteLLM) stay under its whole
/// cards, where a hand-written card's do not.
#[test]
fn an_imports_whole_card_keeps_the_builtins_tiers() {
    let card = |sources: &str| {
        let mut base = test_catalog();
        base.overlay(
            Catalog::from_json_str(&format!(
                r#"{{"schema": 1, "version": "v", "sources": [{sources}], "models": [
                {{"provider": "acme", "id": "sonnet", "prices": [{{"input": "3", "output": "15"}}]}}]}}"#
            ))
            .unwrap(),
        );
        let sonnet = base.resolve(Some("acme"), "sonnet").unwrap();
        base.model(sonnet).periods[0].tiers.len()
    };
    assert_eq!(card(r#"{"name": "genai-prices", "version": "x"}"#), 1);
    assert_eq!(card(""), 0);
}

/// A partial override of one tier rate keeps the builtin tier's other
/// rates (hunt174: past 200k, its output and cached reads at the base
/// period's rates).
#[test]
fn a_partial_tier_keeps_the_builtin_tiers_other_rates() {
    let mut c = test_catalog();
    c.overlay(
        Catalog::from_json_str(
            r#"{"schema": 1, "version": "v", "models": [
            {"provider": "acme", "id": "sonnet", "prices": [
              {"input": "2.5", "tiers": [{"above_input_tokens": 200000, "input": "5"}]}]}]}"#,
        )
        .unwrap(),
    );
    let id = c.resolve(Some("acme"), "sonnet").unwrap();
    let u = Usage {
        input: 300_000,
        cached_read: 200_000,
        output: 10_000,
        ..Usage::default()
    };
    // 100,000 × $5 + 200,000 × $0.60 + 10,000 × $22.50 per million.
    assert_eq!(c.price(id, None, &u, false).cost.total(), usd("0.845"));
}

/// An import whose history gives a model a tier and then drops it makes
/// it flat from then on; an import that never gives one keeps the
/// builtin's (hunt174: genai-prices' Claude Opus 4.6 on Vertex, flat from
/// 2026-03-13, took the builtin's tier back).
#[test]
fn an_import_that_drops_a_tier_is_flat_from_then() {
    let tiers = |prices: &str| {
        let mut base = test_catalog();
        base.overlay(
            Catalog::from_json_str(&format!(
                r#"{{"schema": 1, "version": "v", "sources": [{{"name": "genai-prices", "version": "x"}}], "models": [
                {{"provider": "acme", "id": "sonnet", "prices": {prices}}}]}}"#
            ))
            .unwrap(),
        );
        let sonnet = base.resolve(Some("acme"), "sonnet").unwrap();
        base.model(sonnet)
            .periods
            .iter()
            .map(|p| p.tiers.len())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        tiers(
            r#"[{"input": "3", "output": "15", "tiers": [{"above_input_tokens": 200000, "input": "6", "output": "22.5"}]},
                {"effective": "2026-03-13", "input": "3", "output": "15"}]"#
        ),
        [1, 0]
    );
    assert_eq!(
        tiers(
            r#"[{"input": "3", "output": "15"}, {"effective": "2026-03-13", "input": "2", "output": "10"}]"#
        ),
        [1, 1]
    );
}

/// A newer version of a model is none of the older one's (hunt159:
/// `claude-fable-5-2` priced as Fable 5), however it is spelled after its
/// number; the catalog's own newer models are found under their other
/// spellings (a dotted version, OpenRouter's `:thinking`, Claude Code's
/// `[1m]`), and a model whose name lists a version takes it (hunt165).
#[test]
fn newer_versions_are_unknown_and_other_spellings_resolve() {
    let c = Catalog::builtin();
    let id = |name: &str| c.resolve(None, name).map(|i| c.model(i).id.clone());
    for name in [
        "claude-fable-5-2",
        "claude-fable-5-2-20261109",
        "claude-fable-5-2@20261109",
        "claude-fable-5-2[1m]",
        "us.anthropic.claude-fable-5-2-v1:0",
    ] {
        assert_eq!(id(name), None, "{name}");
    }
    for (name, want) in [
        ("claude-opus-5.5", "claude-opus-5-5"),
        ("anthropic/claude-opus-5.5", "claude-opus-5-5"),
        ("claude-opus-5-5:nitro", "claude-opus-5-5"),
        ("claude-opus-5-5[1m]", "claude-opus-5-5"),
        ("claude-fable-5.1", "claude-fable-5-1"),
        ("claude-2.1", "claude-2"),
        ("claude-fable-5", "claude-fable-5"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
    ] {
        assert_eq!(id(name).as_deref(), Some(want), "{name}");
    }
    // A variant priced apart, or an Ollama tag, is not the model's base.
    assert_eq!(id("openai/gpt-4o:online").as_deref(), Some("gpt-4o"));
    assert_eq!(
        id("claude-opus-5-5:thinking").as_deref(),
        Some("claude-opus-5-5")
    );
    for name in ["gpt-4o:free", "codestral:latest"] {
        assert_eq!(id(name), None, "{name}");
    }
    assert_ne!(id("minimax-m1:extended").as_deref(), Some("minimax-m1"));
}
