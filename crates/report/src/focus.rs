//! The FinOps FOCUS export (`--format focus`): the audited spend as
//! FOCUS-shaped cost rows, so LLM spend lands beside the cloud bill in
//! FinOps tools. Written as `focus.csv` (exact decimals) and `focus.parquet`.
//!
//! One row per attribution group (day, provider, model, feature, route,
//! team, batch flag) and token type: uncached input, cached read, 5-minute
//! and 1-hour cache writes (each at its own rate), output, and reasoning when the model's price period gives reasoning
//! its own rate (otherwise reasoning tokens are billed as output and stay in
//! the output row). Columns follow FOCUS 1.2's column ids (`docs/focus.md`
//! lists them with their sources); tokenaudit's own dimensions are `x_`
//! columns, as the spec requires of custom columns.
//!
//! Money stays exact: a row's `EffectiveCost` is the exact sum of the
//! per-call costs of that token type (the pricing engine splits every call's
//! cost by token type and the accumulator adds the parts per group), so the
//! rows of a group add up to the group's cost and all rows to the audit's
//! spend, to the pico-dollar, with no rounding and no remainder to
//! distribute. `ListCost` is priced per call too (see
//! `tokenaudit_analyze::accumulate::list_cost`). The CSV carries the exact
//! decimals; Parquet carries them as exact `Decimal128(38, 12)` dollars
//! (see [`to_parquet`]).

use std::collections::BTreeMap;

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Decimal128Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{Field, Schema};
use chrono::{DateTime, NaiveDate, Utc};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

use tokenaudit_analyze::detect::GroupRow;
use tokenaudit_analyze::{Audit, NONE};
use tokenaudit_core::pricing::{Catalog, How, ModelId, Processing};
use tokenaudit_core::{Money, Usage};

use crate::csv::cell;

/// The token types a FOCUS row is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TokenType {
    /// Prompt tokens billed at the plain input rate.
    Input,
    CachedRead,
    /// Cache writes with the 5-minute TTL (the default).
    CacheWrite5m,
    /// Cache writes with the 1-hour TTL, at their own rate.
    CacheWrite1h,
    /// Generated tokens (reasoning included unless it has its own row).
    Output,
    Reasoning,
    /// Audio tokens, at the model's audio rates (rows only when a call of
    /// the group had some; the input, cached-read and output rows then
    /// count the rest).
    InputAudio,
    CachedAudioRead,
    OutputAudio,
    /// Web searches the provider ran, billed per search.
    WebSearch,
}

impl TokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Input => "input",
            TokenType::CachedRead => "cached_read",
            TokenType::CacheWrite5m => "cache_write_5m",
            TokenType::CacheWrite1h => "cache_write_1h",
            TokenType::Output => "output",
            TokenType::Reasoning => "reasoning",
            TokenType::InputAudio => "input_audio",
            TokenType::CachedAudioRead => "cached_audio_read",
            TokenType::OutputAudio => "output_audio",
            TokenType::WebSearch => "web_search",
        }
    }

    /// `ConsumedUnit`: what `ConsumedQuantity` counts.
    fn unit(self) -> &'static str {
        match self {
            TokenType::Input => "Input Tokens",
            TokenType::CachedRead => "Cached Input Tokens",
            TokenType::CacheWrite5m => "5-Minute Cache Write Tokens",
            TokenType::CacheWrite1h => "1-Hour Cache Write Tokens",
            TokenType::Output => "Output Tokens",
            TokenType::Reasoning => "Reasoning Tokens",
            TokenType::InputAudio => "Audio Input Tokens",
            TokenType::CachedAudioRead => "Cached Audio Input Tokens",
            TokenType::OutputAudio => "Audio Output Tokens",
            TokenType::WebSearch => "Web Searches",
        }
    }

    /// `ConsumedUnit` and `PricingUnit`, in FOCUS's unit format (plural
    /// units: hunt99, "1-Hour Cache Write Tokens" read as a unit-time
    /// product); the TTL of a cache write is in `SkuMeter`,
    /// `SkuPriceId` and `x_TokenType`.
    fn pricing_unit(self) -> &'static str {
        match self {
            TokenType::CacheWrite5m | TokenType::CacheWrite1h => "Cache Write Tokens",
            other => other.unit(),
        }
    }
}

/// One FOCUS cost row.
#[derive(Clone, Debug, PartialEq)]
pub struct FocusRow {
    /// UTC day bounds; `None` only when no call of the audit had a timestamp.
    pub charge_period_start: Option<DateTime<Utc>>,
    pub charge_period_end: Option<DateTime<Utc>>,
    pub provider_name: String,
    /// `BillingAccountId`: the provider's catalog id (`openai`, `aws`), or
    /// the provider as logged: the logs name no account.
    pub billing_account_id: String,
    /// The maker of the model: the first-party provider that makes it
    /// (`Anthropic` for Claude on Bedrock), else the catalog model's provider.
    pub publisher_name: String,
    pub service_name: String,
    /// `provider/id` in the catalog, or the model as logged when unknown.
    pub sku_id: String,
    pub sku_price_id: String,
    /// JSON object (FOCUS KeyValueFormat).
    pub sku_price_details: String,
    pub token_type: TokenType,
    pub consumed_quantity: u64,
    pub billed_cost: Money,
    pub effective_cost: Money,
    pub list_cost: Money,
    /// JSON object (FOCUS KeyValueFormat).
    pub tags: String,
    pub feature: String,
    pub route: String,
    pub team: String,
    pub batch: bool,
    /// False when the model is not in the catalog: the costs are zero and
    /// the calls are not in the audit's spend either (they are listed under
    /// unknown models).
    pub priced: bool,
}

/// The CSV and Parquet columns, in order.
pub const COLUMNS: [&str; 41] = [
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceId",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceId",
    "SkuPriceDetails",
    "Tags",
    "x_TokenType",
    "x_Feature",
    "x_Route",
    "x_Team",
    "x_Batch",
    "x_CostIsEstimate",
    "x_Priced",
    "x_Tool",
];

const SERVICE_CATEGORY: &str = "AI and Machine Learning";
/// FOCUS 1.2's subcategory of it for model APIs.
const SERVICE_SUBCATEGORY: &str = "Generative AI";

/// Builds the rows from the profile's groups. `audit` gives the charge
/// period of groups whose calls carry no timestamp (its window, or its
/// first to last call's days). Rows are in the groups' order (feature,
/// model, provider, route, team, day, batch), then token type.
pub fn rows(audit: &Audit, groups: &[GroupRow], catalog: &Catalog) -> Vec<FocusRow> {
    let fallback = fallback_period(audit);
    let mut out = Vec::new();
    for g in groups {
        let (start, end) = match g.day {
            Some(d) => (Some(day_start(d)), d.succ_opt().map(day_start)),
            None => fallback,
        };
        let provider = provider_of(catalog, &g.provider, g.resolved);
        let provider_name = provider.map_or_else(|| g.provider.clone(), |p| p.name.clone());
        let billing_account_id = provider.map_or_else(|| g.provider.clone(), |p| p.id.clone());
        let publisher_name = g
            .resolved
            .map_or_else(|| provider_name.clone(), |id| maker_of(catalog, id));
        let separate_reasoning = g
            .resolved
            .is_some_and(|id| reasoning_priced_apart(catalog, id, g.day));
        let u = &g.usage;
        let (c, l) = (&g.cost, &g.list_cost);
        let audio = [
            u.uncached_audio(),
            u.cached_audio_read(),
            u.visible_audio_output(),
        ];
        let mut parts = vec![
            (
                TokenType::Input,
                u.uncached_input() - audio[0],
                c.input - c.audio[0],
                l.input - l.audio[0],
            ),
            (
                TokenType::CachedRead,
                u.cached_read - audio[1],
                c.cached_read - c.audio[1],
                l.cached_read - l.audio[1],
            ),
            (
                TokenType::CacheWrite5m,
                u.cache_write - u.cache_write_1h.min(u.cache_write),
                c.cache_write - c.cache_write_1h,
                l.cache_write - l.cache_write_1h,
            ),
            (
                TokenType::CacheWrite1h,
                u.cache_write_1h.min(u.cache_write),
                c.cache_write_1h,
                l.cache_write_1h,
            ),
        ];
        if separate_reasoning {
            parts.push((
                TokenType::Output,
                u.visible_output() - audio[2],
                c.output - c.audio[2],
                l.output - l.audio[2],
            ));
            parts.push((
                TokenType::Reasoning,
                u.reasoning.min(u.output),
                c.reasoning,
                l.reasoning,
            ));
        } else {
            parts.push((
                TokenType::Output,
                u.output - audio[2],
                c.output - c.audio[2] + c.reasoning,
                l.output - l.audio[2] + l.reasoning,
            ));
        }
        for (i, kind) in [
            TokenType::InputAudio,
            TokenType::CachedAudioRead,
            TokenType::OutputAudio,
        ]
        .into_iter()
        .enumerate()
        {
            if audio[i] > 0 {
                parts.push((kind, audio[i], c.audio[i], l.audio[i]));
            }
        }
        if u.web_searches > 0 {
            parts.push((
                TokenType::WebSearch,
                u.web_searches,
                c.web_search,
                l.web_search,
            ));
        }
        for (kind, tokens, effective, list) in parts {
            if tokens == 0 && effective == Money::ZERO {
                continue;
            }
            let (price_id, details) = match g.resolved {
                Some(id) => sku_price(catalog, id, g.day, g.how(), kind),
                None => (
                    format!("{}:{}", g.model, kind.as_str()),
                    serde_json::json!({ "x_TokenType": kind.as_str(), "x_Priced": false })
                        .to_string(),
                ),
            };
            out.push(FocusRow {
                charge_period_start: start,
                charge_period_end: end,
                provider_name: provider_name.clone(),
                billing_account_id: billing_account_id.clone(),
                publisher_name: publisher_name.clone(),
                service_name: format!("{provider_name} API"),
                sku_id: g.model.clone(),
                sku_price_id: price_id,
                sku_price_details: details,
                token_type: kind,
                consumed_quantity: tokens,
                billed_cost: effective,
                effective_cost: effective,
                list_cost: list,
                tags: tags(g),
                feature: g.feature.clone(),
                route: g.route.clone(),
                team: g.team.clone(),
                batch: g.batch,
                priced: g.resolved.is_some(),
            });
        }
    }
    merge_alike(out)
}

/// Rows that differ only in their quantities and costs made one, in the
/// order of their first: one model logged under several names (`gpt-4o`,
/// `openai/gpt-4o`, a dated snapshot) is one SKU on one day, and a consumer
/// that drops duplicate rows would keep one of them (hunt76: $2.50 of
/// $10.00).
fn merge_alike(rows: Vec<FocusRow>) -> Vec<FocusRow> {
    let mut out: Vec<FocusRow> = Vec::with_capacity(rows.len());
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    for r in rows {
        let key = serde_json::json!([
            r.charge_period_start.map(|t| t.timestamp()),
            r.charge_period_end.map(|t| t.timestamp()),
            r.provider_name,
            r.billing_account_id,
            r.publisher_name,
            r.service_name,
            r.sku_id,
            r.sku_price_id,
            r.sku_price_details,
            r.token_type.as_str(),
            r.tags,
            r.feature,
            r.route,
            r.team,
            r.batch,
            r.priced,
        ])
        .to_string();
        match index.get(&key) {
            Some(&i) => {
                let o = &mut out[i];
                o.consumed_quantity += r.consumed_quantity;
                o.billed_cost += r.billed_cost;
                o.effective_cost += r.effective_cost;
                o.list_cost += r.list_cost;
            }
            None => {
                index.insert(key, out.len());
                out.push(r);
            }
        }
    }
    out
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}

/// The charge period of calls without a timestamp, which FOCUS requires
/// (never null) and which must lie within one billing period: the day of
/// the last timestamped call, or the last day of the `--until` window;
/// with neither, the day of the export (hunt50).
fn fallback_period(a: &Audit) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let day = a
        .last_call
        .map(|t| t.date_naive())
        .or_else(|| {
            a.until
                .map(|u| (u - chrono::Duration::nanoseconds(1)).date_naive())
        })
        .unwrap_or_else(|| Utc::now().date_naive());
    (Some(day_start(day)), day.succ_opt().map(day_start))
}

/// The catalog provider a logged provider is ([`Catalog::provider_of`]);
/// with none logged, the catalog model's provider.
fn provider_of<'c>(
    catalog: &'c Catalog,
    provider: &str,
    resolved: Option<ModelId>,
) -> Option<&'c tokenaudit_core::pricing::ProviderInfo> {
    let none_logged = provider.is_empty() || provider == NONE;
    catalog.provider_of((!none_logged).then_some(provider), resolved)
}

/// The display name of the first-party provider that makes a model (its
/// `makes` rule matches the model's id: Claude is Anthropic's wherever it
/// is served), else of the model's provider.
fn maker_of(catalog: &Catalog, id: ModelId) -> String {
    let model = catalog.model(id);
    let providers = catalog.providers();
    catalog
        .maker(id)
        .or_else(|| providers.iter().find(|p| p.id == model.provider))
        .map_or_else(|| model.provider.clone(), |p| p.name.clone())
}

/// The calendar month (UTC) a charge period starts in: FOCUS's billing
/// period (the providers bill LLM APIs monthly).
fn billing_period(start: Option<DateTime<Utc>>) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    use chrono::Datelike;
    let Some(first) = start.and_then(|s| s.date_naive().with_day(1)) else {
        return (None, None);
    };
    let next = first.checked_add_months(chrono::Months::new(1));
    (Some(day_start(first)), next.map(day_start))
}

/// Whether the pricing engine bills reasoning tokens at a rate of their own
/// for this model on this day (base rates or any long-context tier).
fn reasoning_priced_apart(catalog: &Catalog, id: ModelId, day: Option<NaiveDate>) -> bool {
    let period = catalog.period(id, day);
    period.rates.reasoning.is_some() || period.tiers.iter().any(|t| t.rates.reasoning.is_some())
}

/// `SkuPriceId` and `SkuPriceDetails` of one model, day, batch flag and
/// token type: the price point (its period and processing in the id; the
/// token type, batch and service tier, and long-context tiers in the
/// details).
fn sku_price(
    catalog: &Catalog,
    id: ModelId,
    day: Option<NaiveDate>,
    how: How,
    kind: TokenType,
) -> (String, String) {
    let model = catalog.model(id);
    let period = catalog.period(id, day);
    let priced = catalog.price_base(id, day, &Usage::default(), how);
    let applied = priced.applied;
    let batch_priced = applied == Processing::Batch;
    let mut price_id = format!("{}/{}:{}", model.provider, model.id, kind.as_str());
    match applied {
        Processing::Standard => {}
        Processing::Batch => price_id.push_str(":batch"),
        Processing::Flex => price_id.push_str(":flex"),
        Processing::Priority => price_id.push_str(":priority"),
        Processing::Fast => price_id.push_str(":fast"),
        // (Never applied: no catalog prices it.)
        Processing::Ultrafast => price_id.push_str(":ultrafast"),
    }
    if priced.us_priced {
        price_id.push_str(":us");
    }
    if let Some(e) = period.effective {
        price_id.push_str(&format!("@{e}"));
    }
    // Provider-defined properties, so `x_` keys (FOCUS 1.2: "Property key
    // MUST begin with the string "x_" unless it is a FOCUS-defined
    // property"); no amounts or dates, which the column excludes.
    let mut details = serde_json::Map::new();
    details.insert("x_TokenType".into(), kind.as_str().into());
    details.insert("x_BatchPricing".into(), batch_priced.into());
    let tier = match applied {
        Processing::Flex => Some("flex"),
        Processing::Priority => Some("priority"),
        Processing::Fast => Some("fast"),
        Processing::Ultrafast => Some("ultrafast"),
        Processing::Standard | Processing::Batch => None,
    };
    if let Some(tier) = tier {
        details.insert("x_ServiceTier".into(), tier.into());
    }
    if priced.us_priced {
        details.insert("x_InferenceGeo".into(), "us".into());
    }
    if !period.tiers.is_empty() {
        details.insert(
            "x_LongContextTiersAboveInputTokens".into(),
            period
                .tiers
                .iter()
                .map(|t| t.above_input_tokens)
                .collect::<Vec<_>>()
                .into(),
        );
    }
    (price_id, serde_json::Value::Object(details).to_string())
}

/// `Tags`: the group's feature, route and team (those it has), as a JSON
/// object with tokenaudit-prefixed keys.
fn tags(g: &GroupRow) -> String {
    let mut map = BTreeMap::new();
    for (k, v) in [
        ("tokenaudit/feature", &g.feature),
        ("tokenaudit/route", &g.route),
        ("tokenaudit/team", &g.team),
    ] {
        if v != NONE {
            map.insert(k, v.as_str());
        }
    }
    serde_json::to_string(&map).expect("strings serialize")
}

fn instant(t: Option<DateTime<Utc>>) -> String {
    t.map_or(String::new(), |t| {
        t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    })
}

fn description(r: &FocusRow) -> String {
    format!(
        "{} {} of {} (tokenaudit estimate)",
        r.consumed_quantity,
        r.token_type.unit().to_ascii_lowercase(),
        r.sku_id
    )
}

/// Every column of a row as text, in [`COLUMNS`] order (money exact;
/// empty: null).
fn fields(r: &FocusRow) -> [String; 41] {
    let (billing_start, billing_end) = billing_period(r.charge_period_start);
    [
        r.billed_cost.to_decimal_string(),
        r.billing_account_id.clone(),
        String::new(),
        "USD".into(),
        instant(billing_start),
        instant(billing_end),
        "Usage".into(),
        String::new(),
        description(r),
        "Usage-Based".into(),
        instant(r.charge_period_start),
        instant(r.charge_period_end),
        r.consumed_quantity.to_string(),
        r.token_type.pricing_unit().into(),
        // Contracted: the list figures (no negotiated rate; FOCUS: "If
        // negotiated discounts are not applicable, the Contracted Cost
        // defaults to the List Cost").
        r.list_cost.to_decimal_string(),
        unit_price(r.list_cost, r.consumed_quantity)
            .map_or(String::new(), |m| m.to_decimal_string()),
        r.effective_cost.to_decimal_string(),
        // No invoice: estimates from the logs.
        String::new(),
        r.provider_name.clone(),
        r.list_cost.to_decimal_string(),
        unit_price(r.list_cost, r.consumed_quantity)
            .map_or(String::new(), |m| m.to_decimal_string()),
        r.consumed_quantity.to_string(),
        r.token_type.pricing_unit().into(),
        r.provider_name.clone(),
        r.publisher_name.clone(),
        SERVICE_CATEGORY.into(),
        r.service_name.clone(),
        SERVICE_SUBCATEGORY.into(),
        r.sku_id.clone(),
        r.token_type.unit().into(),
        r.sku_price_id.clone(),
        r.sku_price_details.clone(),
        r.tags.clone(),
        r.token_type.as_str().into(),
        r.feature.clone(),
        r.route.clone(),
        r.team.clone(),
        r.batch.to_string(),
        "true".into(),
        r.priced.to_string(),
        "tokenaudit".into(),
    ]
}

/// A row's price per unit of its `PricingQuantity` (a token, a search):
/// its cost over its quantity, to the pico-dollar (exact for a row at one
/// rate; a row of calls at two long-context tiers gets their average).
/// `None` for a row of no quantity.
fn unit_price(cost: Money, quantity: u64) -> Option<Money> {
    (quantity > 0).then(|| {
        let q = quantity as i128;
        Money::from_picos((cost.picos() + q / 2).div_euclid(q))
    })
}

/// `focus.csv`: a header row, then one line per row; every text cell goes
/// through the CSV writer's formula guard (log fields are untrusted).
pub fn to_csv(rows: &[FocusRow]) -> String {
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for r in rows {
        let line: Vec<String> = fields(r).iter().map(|f| cell(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// Money columns: `Decimal128(38, 12)`, exact dollars with 12 decimal
/// places, i.e. the integer pico-dollars themselves.
pub const MONEY_PRECISION: u8 = 38;
pub const MONEY_SCALE: i8 = 12;

/// `focus.parquet`, written with arrow-rs (zstd). Money columns are
/// `Decimal128(38, 12)` ([`MONEY_SCALE`]), exact: the pico-dollars themselves. Charge periods are
/// UTC timestamps (microseconds), `ConsumedQuantity` an unsigned integer,
/// flags booleans, the rest text, in [`COLUMNS`] order.
pub fn to_parquet(rows: &[FocusRow]) -> Result<Vec<u8>, ParquetError> {
    let all: Vec<[String; 41]> = rows.iter().map(fields).collect();
    let text = |i: usize| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(
            all.iter().map(|f| f[i].as_str()),
        ))
    };
    let money = |f: fn(&FocusRow) -> Money| -> Result<ArrayRef, ParquetError> {
        let picos = Decimal128Array::from_iter_values(rows.iter().map(|r| f(r).picos()));
        Ok(Arc::new(
            picos.with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)?,
        ))
    };
    let unit_prices = |f: fn(&FocusRow) -> Money| -> Result<ArrayRef, ParquetError> {
        let picos = Decimal128Array::from_iter(
            rows.iter()
                .map(|r| unit_price(f(r), r.consumed_quantity).map(|m| m.picos())),
        );
        Ok(Arc::new(
            picos.with_precision_and_scale(MONEY_PRECISION, MONEY_SCALE)?,
        ))
    };
    let micros = |f: fn(&FocusRow) -> Option<DateTime<Utc>>| -> ArrayRef {
        let v = TimestampMicrosecondArray::from_iter(
            rows.iter().map(|r| f(r).map(|t| t.timestamp_micros())),
        );
        Arc::new(v.with_timezone("UTC"))
    };
    let bools = |f: fn(&FocusRow) -> bool| -> ArrayRef {
        Arc::new(BooleanArray::from_iter(rows.iter().map(|r| Some(f(r)))))
    };
    // FOCUS's quantities are Decimal (hunt99: unsigned integers, which
    // some readers take poorly): whole tokens, Decimal128(38, 0).
    let quantities = || -> Result<ArrayRef, ParquetError> {
        let v =
            Decimal128Array::from_iter_values(rows.iter().map(|r| i128::from(r.consumed_quantity)))
                .with_precision_and_scale(38, 0)?;
        Ok(Arc::new(v))
    };
    let mut columns = Vec::with_capacity(COLUMNS.len());
    for (i, id) in COLUMNS.iter().enumerate() {
        let column = match *id {
            "BilledCost" => money(|r| r.billed_cost)?,
            "EffectiveCost" => money(|r| r.effective_cost)?,
            "ContractedCost" => money(|r| r.list_cost)?,
            "BillingPeriodStart" => micros(|r| billing_period(r.charge_period_start).0),
            "BillingPeriodEnd" => micros(|r| billing_period(r.charge_period_start).1),
            "PricingQuantity" => quantities()?,
            // Null: no account name in the logs; no correction or refund;
            // no invoice.
            "BillingAccountName" | "ChargeClass" | "InvoiceId" => {
                Arc::new(StringArray::from(vec![None::<&str>; rows.len()]))
            }
            "ListCost" => money(|r| r.list_cost)?,
            "ListUnitPrice" => unit_prices(|r| r.list_cost)?,
            "ContractedUnitPrice" => unit_prices(|r| r.list_cost)?,
            "ChargePeriodStart" => micros(|r| r.charge_period_start),
            "ChargePeriodEnd" => micros(|r| r.charge_period_end),
            "ConsumedQuantity" => quantities()?,
            "x_Batch" => bools(|r| r.batch),
            "x_CostIsEstimate" => bools(|_| true),
            "x_Priced" => bools(|r| r.priced),
            _ => text(i),
        };
        columns.push(column);
    }
    let schema = Schema::new(
        COLUMNS
            .iter()
            .zip(&columns)
            .map(|(id, c)| Field::new(*id, c.data_type().clone(), c.null_count() > 0))
            .collect::<Vec<_>>(),
    );
    let batch = RecordBatch::try_new(Arc::new(schema), columns)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut bytes = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut bytes, batch.schema(), Some(props))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(bytes)
}
