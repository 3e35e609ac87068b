//! `tokenaudit whatif`: re-prices the actual logged traffic under changes
//! (routing, caching, batch, output caps…) and prints before/after by
//! feature; optionally compares the bill with self-hosting.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;

use tokenaudit_analyze::whatif::{break_even, reprice, resolve_label, Lever, SelfHost};
use tokenaudit_core::Money;

use crate::audit::InputArgs;
use crate::output::print;

#[derive(Debug, Args)]
#[command(
    after_long_help = "Each change applies to one feature's traffic (FEATURE=VALUE); \
repeat a flag for several features. Changes compose: the traffic is re-priced once with all of them.

Examples:
  tokenaudit whatif logs/ --route ticket-classifier=gpt-4.1-nano
  tokenaudit whatif logs/ --cache-hit doc-qa=0.8 --batch nightly-summaries
  tokenaudit whatif logs/ --max-output report-writer=2000 --response-cache faq-bot=0.4
  tokenaudit whatif logs/ --self-host-gpu-hour 2.50 --self-host-tokens-per-sec 2500

Exit codes: 0 the comparison was printed, 2 an error (bad flags, config or
inputs, or under --strict any rejected line)."
)]
pub struct WhatifArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Route a feature to another model: FEATURE=MODEL (a catalog id,
    /// `provider/id`, or a name as logged).
    #[arg(long, value_name = "FEATURE=MODEL")]
    pub route: Vec<String>,

    /// Provider prompt caching: at least this share of the feature's input
    /// tokens read from the cache. FEATURE=SHARE (0–1). The reads come
    /// first from the cache writes the logs show (a prefix written again
    /// and again), then from uncached input; no write premium is added.
    #[arg(long, value_name = "FEATURE=SHARE")]
    pub cache_hit: Vec<String>,

    /// With --cache-hit for the feature: this share of its input tokens
    /// written to the cache at the 5-minute cache-write rate (`@1h`: the
    /// 1-hour rate), where writes cost more than input (Anthropic's), as a
    /// prompt-cache finding's lever says (its `write_share` and
    /// `write_1h`). FEATURE=SHARE or FEATURE=SHARE@1h (0–1; with the
    /// feature's --cache-hit share, at most 1).
    #[arg(long, value_name = "FEATURE=SHARE[@1h]")]
    pub cache_write: Vec<String>,

    /// A response cache answering this share of the feature's spend (its
    /// tokens, the costly calls as the cheap ones: TA109's lever gives the
    /// share of its repeats' cost). FEATURE=RATE (0–1).
    #[arg(long, value_name = "FEATURE=RATE")]
    pub response_cache: Vec<String>,

    /// Send this share fewer input tokens (history window, shorter prompt).
    /// FEATURE=SHARE (0–1).
    #[arg(long, value_name = "FEATURE=SHARE")]
    pub trim_input: Vec<String>,

    /// Send the feature through the provider's batch API.
    #[arg(long, value_name = "FEATURE")]
    pub batch: Vec<String>,

    /// Cap output tokens per call. FEATURE=N. The tokens cut are counted
    /// per call, and priced at the feature's mix of output rates on each
    /// model (not each cut call's own rate, when batch and real-time calls
    /// of one model are mixed).
    #[arg(long, value_name = "FEATURE=N")]
    pub max_output: Vec<String>,

    /// Avoid this share of the feature's failed-call spend. FEATURE=SHARE.
    #[arg(long, value_name = "FEATURE=SHARE")]
    pub avoid_failures: Vec<String>,

    /// Self-hosting: price of one GPU-hour in USD.
    #[arg(long, value_name = "USD", requires = "self_host_tokens_per_sec")]
    pub self_host_gpu_hour: Option<f64>,

    /// Self-hosting: tokens (input + output) one GPU serves per second.
    #[arg(long, value_name = "N", requires = "self_host_gpu_hour")]
    pub self_host_tokens_per_sec: Option<f64>,

    /// Self-hosting: GPUs kept running all month whatever the load. One by
    /// default: a model that answers at any hour stays loaded on a GPU; 0
    /// bills GPUs only while they serve, as a serverless host would.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        requires = "self_host_gpu_hour"
    )]
    pub self_host_min_gpus: u32,
}

/// `FEATURE=VALUE`, split at the last `=`: a value (a model, a share, a
/// count) never holds one, a feature's name may (hunt141's bug2:
/// `team=search=gpt-4o-mini` could not name the feature `team=search`).
fn pair<'a>(flag: &str, v: &'a str) -> Result<(&'a str, &'a str)> {
    v.rsplit_once('=')
        .filter(|(f, x)| !f.is_empty() && !x.is_empty())
        .with_context(|| format!("--{flag} {v:?}: expected FEATURE=VALUE"))
}

fn share(flag: &str, v: &str) -> Result<(String, f64)> {
    let (f, x) = pair(flag, v)?;
    let s: f64 = x
        .parse()
        .ok()
        .filter(|s: &f64| (0.0..=1.0).contains(s))
        .with_context(|| format!("--{flag} {v:?}: {x} is not a share between 0 and 1"))?;
    Ok((f.to_string(), s))
}

/// Records `v` as `flag`'s value for `feature`: a second for one feature
/// is an error (two values of one change would be applied one on the
/// other, or the last taken unsaid: hunt80, hunt81).
fn once<'v>(
    seen: &mut std::collections::BTreeMap<String, &'v String>,
    flag: &str,
    feature: &str,
    v: &'v String,
) -> Result<()> {
    if let Some(earlier) = seen.insert(feature.to_string(), v) {
        bail!("--{flag} {v:?}: feature {feature:?} already has --{flag} {earlier:?}; give one per feature");
    }
    Ok(())
}

impl WhatifArgs {
    fn levers(&self, catalog: &tokenaudit_core::pricing::Catalog) -> Result<Vec<Lever>> {
        let mut levers = Vec::new();
        let mut routed = std::collections::BTreeMap::new();
        for v in &self.route {
            let (f, m) = pair("route", v)?;
            if let Some(earlier) = routed.insert(f.to_string(), v.clone()) {
                bail!("--route {v:?}: feature {f:?} is already routed by --route {earlier:?}; give one --route per feature");
            }
            let Some(id) = resolve_label(catalog, m) else {
                bail!("--route {v:?}: {m:?} is not a model in the price catalog (`tokenaudit prices list`)");
            };
            let e = catalog.model(id);
            levers.push(Lever::Route {
                feature: f.to_string(),
                model: None,
                to: format!("{}/{}", e.provider, e.id),
            });
        }
        // The reads first, each checked (hunt80: a bad share was said to
        // lack its --cache-hit, and a second one for a feature passed).
        let mut seen = Default::default();
        let mut hits: Vec<(String, f64)> = Vec::new();
        for v in &self.cache_hit {
            let (feature, share) = share("cache-hit", v)?;
            once(&mut seen, "cache-hit", &feature, v)?;
            hits.push((feature, share));
        }
        let mut seen = Default::default();
        let mut writes: std::collections::BTreeMap<String, (f64, bool)> = Default::default();
        for v in &self.cache_write {
            let (text, write_1h) = match v.strip_suffix("@1h") {
                Some(t) => (t, true),
                None => (v.as_str(), false),
            };
            let (feature, w) = share("cache-write", text)?;
            let Some(&(_, hit)) = hits.iter().find(|(f, _)| *f == feature) else {
                bail!("--cache-write {v:?}: give the feature's --cache-hit too (the writes are of the prefix it reads)");
            };
            // (hunt78: the cut to what the reads leave was silent.)
            if hit + w > 1.0 + 1e-9 {
                bail!("--cache-write {v:?}: with --cache-hit {feature}={hit}, more than all of the feature's input; reads and writes add up to at most 1");
            }
            once(&mut seen, "cache-write", &feature, v)?;
            writes.insert(feature, (w, write_1h));
        }
        for (feature, share) in hits {
            let (write_share, write_1h) = writes.get(&feature).copied().unwrap_or((0.0, false));
            levers.push(Lever::PromptCache {
                feature,
                model: None,
                share,
                write_share,
                write_1h,
                days: vec![],
            });
        }
        let mut seen = Default::default();
        for v in &self.response_cache {
            let (feature, hit_rate) = share("response-cache", v)?;
            // Two rates for one feature's cache would be added (the
            // findings' caches answer other calls).
            once(&mut seen, "response-cache", &feature, v)?;
            levers.push(Lever::ResponseCache {
                feature,
                model: None,
                hit_rate,
            });
        }
        let mut seen = Default::default();
        for v in &self.trim_input {
            let (feature, fraction) = share("trim-input", v)?;
            once(&mut seen, "trim-input", &feature, v)?;
            levers.push(Lever::TrimInput {
                feature,
                model: None,
                fraction,
            });
        }
        for f in &self.batch {
            levers.push(Lever::Batch {
                feature: f.clone(),
                model: None,
                standard_only: false,
                share: None,
            });
        }
        let mut seen = Default::default();
        for v in &self.max_output {
            let (f, n) = pair("max-output", v)?;
            once(&mut seen, "max-output", f, v)?;
            let tokens: u64 = n
                .parse()
                .with_context(|| format!("--max-output {v:?}: {n} is not a token count"))?;
            levers.push(Lever::MaxOutput {
                feature: f.to_string(),
                model: None,
                tokens,
                unset_only: false,
            });
        }
        let mut seen = Default::default();
        for v in &self.avoid_failures {
            let (feature, fraction) = share("avoid-failures", v)?;
            once(&mut seen, "avoid-failures", &feature, v)?;
            levers.push(Lever::AvoidFailures {
                feature,
                model: None,
                fraction,
            });
        }
        Ok(levers)
    }
}

fn pct(before: Money, after: Money) -> String {
    if before <= Money::ZERO {
        "–".into()
    } else {
        format!(
            "{:+.1}%",
            (after - before).to_f64() / before.to_f64() * 100.0
        )
    }
}

pub fn run(args: WhatifArgs) -> Result<ExitCode> {
    // Flags of the shared input options that whatif has no use for: said,
    // not taken silently (hunt84).
    if args.input.no_findings {
        bail!("--no-findings: whatif re-prices the traffic with the rules' inputs; it writes no findings to leave out");
    }
    if args.input.include_prompts {
        bail!("--include-prompts: whatif writes no report for prompt excerpts to appear in");
    }
    let mut prepared = args.input.prepare()?;
    // Output caps are re-priced from the observed output distribution.
    prepared.analyze.attribution_only = false;
    let levers = args.levers(&prepared.catalog)?;
    let self_host = match (args.self_host_gpu_hour, args.self_host_tokens_per_sec) {
        (Some(h), Some(t)) => {
            if !(h.is_finite() && h > 0.0 && t.is_finite() && t > 0.0) {
                bail!(
                    "--self-host-gpu-hour and --self-host-tokens-per-sec must be positive numbers"
                );
            }
            Some(SelfHost {
                gpu_hour: Money::from_usd_f64(h).context("--self-host-gpu-hour")?,
                tokens_per_second: t,
                min_gpus: args.self_host_min_gpus,
            })
        }
        _ => None,
    };
    if levers.is_empty() && self_host.is_none() {
        bail!("give at least one change (--route, --cache-hit, --batch, --max-output, …) or --self-host-gpu-hour; see `tokenaudit whatif --help`");
    }
    // (`--strict`'s refusal is audit's, which would say no report.)
    let (audit, profile, catalog) = prepared.run().map_err(|e| {
        anyhow::anyhow!(
            "{}",
            format!("{e:#}").replace("no report written", "nothing re-priced")
        )
    })?;
    let known: Vec<&str> = audit
        .dim("feature")
        .iter()
        .map(|r| r.key.as_str())
        .collect();
    let mut s = String::new();
    if !levers.is_empty() {
        for l in &levers {
            let (f, _) = l.scope();
            // On stderr, as every command's warnings (hunt63: it was the
            // table's first line).
            if !known.contains(&f) {
                // With the features there are, as a budget's (hunt154).
                let listed = if known.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (misspelled? features: {})",
                        crate::output::first_of(&known, 8)
                    )
                };
                eprintln!("warning: no calls of feature {f:?} in the input{listed}");
            }
        }
        let r = reprice(&catalog, &profile.groups, &profile.cells, &levers);
        // Cents hide the change of a bill under a dollar ($0.016 to $0.012
        // read "$0.02, $0.01, saved $0.00"): then, four decimals.
        let small = r.before < tokenaudit_core::Money::parse_usd("1").expect("a literal");
        let money = |m: tokenaudit_core::Money| {
            if small {
                m.to_rounded_string(4)
            } else {
                m.to_cents_string()
            }
        };
        s.push_str(&format!(
            "{:<32} {:>14} {:>14} {:>14} {:>8}\n",
            "feature", "before", "after", "saved", "change"
        ));
        for f in &r.features {
            s.push_str(&format!(
                "{:<32} {:>14} {:>14} {:>14} {:>8}\n",
                f.feature,
                money(f.before),
                money(f.after),
                money(f.before - f.after),
                pct(f.before, f.after)
            ));
        }
        s.push_str(&format!(
            "{:<32} {:>14} {:>14} {:>14} {:>8}\n",
            "all traffic",
            money(r.before),
            money(r.after),
            money(r.before - r.after),
            pct(r.before, r.after)
        ));
        for n in &r.notes {
            s.push_str(&format!("note: {n}\n"));
        }
        // The figures are of priced calls: the others are in neither.
        let unpriced = audit.totals.unpriced_calls;
        if unpriced > 0 {
            s.push_str(&format!(
                "note: {} to models not in the price catalog {} in neither figure (see `tokenaudit audit`'s Data quality)\n",
                if unpriced == 1 { "1 call".to_string() } else { format!("{unpriced} calls") },
                if unpriced == 1 { "is" } else { "are" },
            ));
        }
    }
    if let Some(host) = self_host {
        let t = &audit.totals;
        let days = tokenaudit_analyze::period_days(&audit);
        let b = break_even(t.input_tokens + t.output_tokens, t.cost, days, host);
        s.push_str(&format!(
            "\nSelf-hosting, per 30-day month at the observed volume ({} tokens):\n  API bill:        {}  ({} per million tokens)\n  self-hosted:     {}  ({} GPU-hours; {} per million tokens at full load)\n",
            b.monthly_tokens,
            b.api_monthly.to_cents_string(),
            b.api_per_mtok.to_rounded_string(4),
            b.self_host_monthly.to_cents_string(),
            gpu_hours(b.gpu_hours),
            b.self_host_per_mtok.to_rounded_string(4),
        ));
        s.push_str(&match (b.self_host_cheaper, b.break_even_tokens) {
            (true, _) => "  Self-hosting is cheaper at this volume (before engineering and operations time).\n".to_string(),
            (false, Some(t)) => format!("  The API is cheaper; self-hosting breaks even at about {t} tokens a month.\n"),
            (false, None) => "  The API is cheaper per token than self-hosting at any volume.\n".to_string(),
        });
    }
    print(&tokenaudit_report::terminal_text(&s))?;
    // As audit's, on stderr: rejected lines and unpriced calls said
    // (hunt84: whatif said nothing of either).
    crate::audit::warn_without_report(
        &audit,
        &[("the report's spend is $0", "there is nothing to re-price")],
    );
    Ok(ExitCode::SUCCESS)
}

/// GPU-hours as a reader checks them against the bill: whole hours from
/// 10 on, two significant digits below (0.15, not 0 beside a $0.38 bill).
fn gpu_hours(h: f64) -> String {
    if h >= 9.95 || h == 0.0 {
        format!("{h:.0}")
    } else {
        let digits = (1 - h.log10().floor() as i32).max(0) as usize;
        format!("{h:.digits$}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn gpu_hours_keep_two_significant_digits_under_ten() {
        assert_eq!(super::gpu_hours(0.15), "0.15");
        assert_eq!(super::gpu_hours(0.0375), "0.037");
        assert_eq!(super::gpu_hours(2.5), "2.5");
        assert_eq!(super::gpu_hours(720.0), "720");
        assert_eq!(super::gpu_hours(0.0), "0");
        assert_eq!(super::gpu_hours(9.96), "10");
    }
}
