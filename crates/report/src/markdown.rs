//! The Markdown report: the audit as text fit to paste into a wiki or a pull
//! request. Every log-derived string is escaped (see `text::md`).

use std::fmt::Write;

use tokenaudit_analyze::audit::{DimTable, PreviousPeriod, Row};
use tokenaudit_analyze::{Audit, Stats};

use tokenaudit_core::Money;

use crate::change;
use crate::text::{calls_period, int, md, pct, success_rate, tokens, window};
use crate::RunInfo;

/// Rows shown per table; the CSV and JSON outputs have them all.
const TOP: usize = 15;

fn money_or_dash(m: Option<tokenaudit_core::Money>) -> String {
    m.map_or("–".to_string(), |m| m.to_rounded_string(4))
}

fn stats_table(out: &mut String, key_title: &str, rows: &[Row], total: &Stats, limit: usize) {
    stats_table_with(out, key_title, rows, total, limit, None);
}

/// `omitted`: keys the audit did not keep rows for (count and stats).
fn stats_table_with(
    out: &mut String,
    key_title: &str,
    rows: &[Row],
    total: &Stats,
    limit: usize,
    omitted: Option<(u64, &Stats)>,
) {
    let _ = writeln!(
        out,
        "| {key_title} | calls | spend | share | per call | per success | failed spend | success |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows.iter().take(limit) {
        let s = &r.stats;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            md(&r.key),
            int(s.calls),
            s.cost.to_cents_string(),
            pct(s.cost.to_f64(), total.cost.to_f64()),
            s.cost_per_call().to_rounded_string(4),
            money_or_dash(s.cost_per_success()),
            s.failed_cost.to_cents_string(),
            success_rate(s),
        );
    }
    let none = Stats::default();
    let (more_keys, more_stats) = omitted.unwrap_or((0, &none));
    if rows.len() > limit || more_keys > 0 {
        let mut rest: Stats =
            rows[limit.min(rows.len())..]
                .iter()
                .fold(Stats::default(), |mut acc, r| {
                    acc.merge(&r.stats);
                    acc
                });
        rest.merge(more_stats);
        let _ = writeln!(
            out,
            "| *{} more* | {} | {} | {} | | | {} | |",
            rows.len().saturating_sub(limit) as u64 + more_keys,
            int(rest.calls),
            rest.cost.to_cents_string(),
            pct(rest.cost.to_f64(), total.cost.to_f64()),
            rest.failed_cost.to_cents_string(),
        );
    }
    out.push('\n');
}

fn dim<'a>(a: &'a Audit, name: &str) -> Option<&'a DimTable> {
    a.by.iter().find(|t| t.dimension == name)
}

pub fn render(a: &Audit, info: &RunInfo) -> String {
    let mut o = String::new();
    let t = &a.totals;
    let _ = writeln!(o, "# AI cost audit\n");
    let period = calls_period(a);
    let _ = writeln!(o, "- **Calls from** {period}");
    if let Some(w) = window(a) {
        let _ = writeln!(o, "- **Window** {w} (UTC)");
    }
    let _ = writeln!(
        o,
        "- **Input** {} files, {} lines, {} calls read, {} lines rejected",
        a.input.files.len(),
        int(a.input.lines),
        int(a.input.records),
        int(a.input.rejected)
    );
    let _ = writeln!(
        o,
        "- **Prices** tokenaudit catalog {} (tokenaudit {})\n",
        md(&a.catalog_version),
        md(&info.tool_version)
    );

    let _ = writeln!(o, "## Summary\n");
    let _ = writeln!(o, "| | |\n|---|---:|");
    let _ = writeln!(o, "| Total spend | **{}** |", t.cost.to_cents_string());
    let _ = writeln!(o, "| Calls | {} |", int(t.calls));
    let _ = writeln!(
        o,
        "| Successful calls | {} ({}) |",
        int(t.ok_calls),
        success_rate(t)
    );
    let _ = writeln!(
        o,
        "| Cost per call | {} |",
        a.cost_per_call.to_rounded_string(4)
    );
    let _ = writeln!(
        o,
        "| Cost per successful call | {} |",
        money_or_dash(a.cost_per_success)
    );
    let _ = writeln!(
        o,
        "| Spend on failed calls | {} ({}) |",
        t.failed_cost.to_cents_string(),
        pct(t.failed_cost.to_f64(), t.cost.to_f64())
    );
    if t.unpriced_calls > 0 {
        let _ = writeln!(
            o,
            "| Calls not priced (unknown model) | **{}** — see Data quality |",
            int(t.unpriced_calls)
        );
    }
    let _ = writeln!(o);
    if let Some(p) = &a.previous {
        previous_headline(&mut o, a, p);
    }
    let c = &a.cost_by_token_kind;
    let _ = writeln!(
        o,
        "| tokens | count | spend | share of spend |\n|---|---:|---:|---:|"
    );
    let uncached = t.input_tokens - t.cached_read_tokens - t.cache_write_tokens;
    for (name, count, cost) in [
        ("Input, uncached", uncached, c.input),
        ("Input, cached read", t.cached_read_tokens, c.cached_read),
        ("Input, cache write", t.cache_write_tokens, c.cache_write),
        (
            "Output (visible)",
            t.output_tokens - t.reasoning_tokens,
            c.output,
        ),
        ("Output, reasoning", t.reasoning_tokens, c.reasoning),
    ] {
        let _ = writeln!(
            o,
            "| {name} | {} | {} | {} |",
            tokens(count),
            cost.to_cents_string(),
            pct(cost.to_f64(), t.cost.to_f64())
        );
    }
    let _ = writeln!(
        o,
        "\nCached reads are {} of input tokens.\n",
        pct(t.cached_read_tokens as f64, t.input_tokens as f64)
    );

    if let Some(p) = &a.previous {
        change_section(&mut o, a, p);
    }
    savings_section(&mut o, a);
    findings_section(&mut o, a);

    if let Some(f) = dim(a, "feature") {
        let _ = writeln!(o, "## Spend by feature\n");
        stats_table(&mut o, "feature", &f.rows, t, TOP);
    }
    if let Some(m) = dim(a, "model") {
        let _ = writeln!(o, "## Model mix\n");
        let _ = writeln!(
            o,
            "| model | calls | share of calls | spend | share of spend | per call | cache hit rate |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|");
        for r in m.rows.iter().take(TOP) {
            let s = &r.stats;
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} |",
                md(&r.key),
                int(s.calls),
                pct(s.calls as f64, t.calls as f64),
                if s.unpriced_calls == s.calls && s.calls > 0 {
                    "**unpriced**".to_string()
                } else {
                    s.cost.to_cents_string()
                },
                pct(s.cost.to_f64(), t.cost.to_f64()),
                s.cost_per_call().to_rounded_string(4),
                pct(s.cached_read_tokens as f64, s.input_tokens as f64),
            );
        }
        let _ = writeln!(o);
    }
    if !a.feature_model.is_empty() {
        let _ = writeln!(o, "## Feature × model\n");
        let _ = writeln!(
            o,
            "| feature | model | calls | spend | share | per call | avg input | avg output |"
        );
        let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---:|---:|");
        for r in a.feature_model.iter().take(TOP) {
            let s = &r.stats;
            let n = s.calls.max(1);
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                md(&r.feature),
                md(&r.model),
                int(s.calls),
                s.cost.to_cents_string(),
                pct(s.cost.to_f64(), t.cost.to_f64()),
                s.cost_per_call().to_rounded_string(4),
                int(s.input_tokens / n),
                int(s.output_tokens / n),
            );
        }
        let _ = writeln!(o);
    }
    for (name, title, limit) in [
        ("provider", "Spend by provider", TOP),
        ("team", "Spend by team", TOP),
        ("route", "Spend by route", TOP),
        ("user", "Top users", 10),
        ("session", "Top sessions", 10),
    ] {
        if let Some(d) = dim(a, name) {
            // A dimension no call carried is reported under Data quality instead.
            if d.rows.len() == 1 && d.rows[0].key == tokenaudit_analyze::NONE {
                continue;
            }
            let _ = writeln!(o, "## {title}\n");
            let omitted = d.distinct.saturating_sub(d.rows.len() as u64);
            stats_table_with(&mut o, name, &d.rows, t, limit, Some((omitted, &d.omitted)));
        }
    }
    if !a.tags.is_empty() {
        let _ = writeln!(o, "## Spend by tag\n");
        stats_table(&mut o, "tag", &a.tags, t, TOP);
    }
    if !a.daily.is_empty() {
        let _ = writeln!(o, "## Daily spend\n");
        let _ = writeln!(
            o,
            "| day | calls | spend | failed spend | top model that day |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---|");
        for d in &a.daily {
            let top = a
                .daily_by_model
                .iter()
                .find(|r| r.day == d.day)
                .map_or(String::new(), |r| {
                    format!("{} ({})", md(&r.key), r.stats.cost.to_cents_string())
                });
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                d.day,
                int(d.stats.calls),
                d.stats.cost.to_cents_string(),
                d.stats.failed_cost.to_cents_string(),
                top
            );
        }
        let _ = writeln!(o);
    }
    if !a.failures.is_empty() {
        let _ = writeln!(o, "## Failed calls\n");
        let _ = writeln!(o, "| failure | calls | spend |\n|---|---:|---:|");
        for r in a.failures.iter().take(TOP) {
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                md(&r.key),
                int(r.stats.calls),
                r.stats.cost.to_cents_string()
            );
        }
        let _ = writeln!(o);
    }
    if !a.most_expensive_calls.is_empty() {
        let _ = writeln!(o, "## Most expensive calls\n");
        let _ = writeln!(
            o,
            "| cost | request | feature | model | input | cached | output | where |"
        );
        let _ = writeln!(o, "|---:|---|---|---|---:|---:|---:|---|");
        for e in a.most_expensive_calls.iter().take(10) {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {}:{} |",
                e.cost.to_rounded_string(4),
                md(e.request_id.as_deref().unwrap_or("–")),
                md(&e.feature),
                md(&e.model),
                int(e.input_tokens),
                int(e.cached_read_tokens),
                int(e.output_tokens),
                md(&e.file),
                e.line
            );
        }
        let _ = writeln!(o);
    }
    if !a.reconciliation.is_empty() {
        let _ = writeln!(o, "## Logged cost against computed cost\n");
        let _ = writeln!(o, "For calls whose log carries its own cost. A difference means the logger's prices or token reading differ from the catalog's.\n");
        let _ = writeln!(
            o,
            "| model | calls | logged | computed | difference |\n|---|---:|---:|---:|---:|"
        );
        for r in &a.reconciliation {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} ({}) |",
                md(&r.model),
                int(r.calls),
                r.logged.to_rounded_string(4),
                r.computed.to_rounded_string(4),
                r.difference.to_rounded_string(4),
                pct(r.difference.to_f64(), r.computed.to_f64())
            );
        }
        let _ = writeln!(o);
    }

    let _ = writeln!(o, "## Data quality\n");
    let _ = writeln!(
        o,
        "| file | encoding | format | lines | calls | rejected |\n|---|---|---|---:|---:|---:|"
    );
    for f in &a.input.files {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            md(&f.file),
            f.encoding,
            f.format,
            int(f.lines),
            int(f.records),
            int(f.rejected)
        );
    }
    let _ = writeln!(o);
    if a.input.rejected == 0 {
        let _ = writeln!(o, "No line was rejected.\n");
    } else {
        let _ = writeln!(
            o,
            "**{} lines rejected** (`--strict` makes this an error):\n",
            int(a.input.rejected)
        );
        for (reason, n) in &a.input.rejected_by_reason {
            let _ = writeln!(o, "- `{reason}`: {}", int(*n));
        }
        let _ = writeln!(o, "\nFirst rejected lines:\n");
        for s in &a.input.rejected_samples {
            let at = if s.line == 0 {
                String::new()
            } else {
                format!(":{}", s.line)
            };
            let _ = writeln!(
                o,
                "- {}{at} — `{}`: {}",
                md(&s.file),
                s.reason,
                md(&s.detail)
            );
        }
        let _ = writeln!(o);
    }
    if a.input.skipped > 0 {
        let _ = writeln!(
            o,
            "{} lines skipped as not new calls (not errors):\n",
            int(a.input.skipped)
        );
        for (reason, n) in &a.input.skipped_by_reason {
            let _ = writeln!(o, "- `{reason}`: {}", int(*n));
        }
        let _ = writeln!(o);
    }
    if a.input.outside_window > 0 {
        let _ = writeln!(
            o,
            "{} calls fell outside the time window and were left out.\n",
            int(a.input.outside_window)
        );
    }
    if !a.unknown_models.is_empty() {
        let _ = writeln!(o, "**Models not in the price catalog** — their calls are counted but not priced (add them with `--prices FILE`):\n");
        let _ = writeln!(o, "| logged model | provider | calls | input tokens | output tokens |\n|---|---|---:|---:|---:|");
        for m in &a.unknown_models {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} |",
                md(&m.logged_model),
                md(m.logged_provider.as_deref().unwrap_or("–")),
                int(m.stats.calls),
                int(m.stats.input_tokens),
                int(m.stats.output_tokens)
            );
        }
        let _ = writeln!(o);
    }
    if a.batch_calls_at_full_price > 0 {
        let _ = writeln!(o, "{} batch calls were priced at real-time rates: the catalog has no batch price for their model.\n", int(a.batch_calls_at_full_price));
    }
    let missing: Vec<_> = a.missing_fields().collect();
    if !missing.is_empty() {
        let _ = writeln!(o, "**Fields no call carried**, and what that prevents:\n");
        for c in missing {
            let _ = writeln!(o, "- `{}`: {}", c.field, c.lacking_prevents.unwrap_or(""));
        }
        let _ = writeln!(o);
    }
    rule_coverage(&mut o, a);
    let _ = writeln!(o, "Model names as logged and how they resolved are in `audit-model-names.csv`; every table in full is in the CSV files and `audit.json`.");
    o
}

/// The rules that ran on estimated inputs or could not run, from the rules'
/// own declarations (`audit.rule_coverage`: our own text, no log field, so
/// written as Markdown).
fn rule_coverage(o: &mut String, a: &Audit) {
    use tokenaudit_analyze::coverage::Status;
    let notable: Vec<_> = a
        .rule_coverage
        .iter()
        .filter(|r| matches!(r.status, Status::RanOnEstimates | Status::CouldNotRun))
        .collect();
    if notable.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "**Rule coverage** — rules that ran on estimated inputs, or could not run on this input:
"
    );
    for r in notable {
        match r.status {
            Status::CouldNotRun => {
                let _ = writeln!(
                    o,
                    "- {} {}: could not run: {}.",
                    r.rule,
                    r.name,
                    r.missing.as_deref().unwrap_or("")
                );
            }
            _ => {
                let _ = writeln!(
                    o,
                    "- {} {}: ran on estimated inputs: {}.",
                    r.rule,
                    r.name,
                    r.estimates().join("; ")
                );
            }
        }
    }
    let _ = writeln!(o);
}

/// The compounding savings waterfall.
fn savings_section(o: &mut String, a: &Audit) {
    let Some(w) = &a.savings else { return };
    if w.total_savings <= tokenaudit_core::Money::ZERO {
        return;
    }
    let _ = writeln!(o, "## Savings\n");
    let _ = writeln!(
        o,
        "Acting on the findings below would have saved **{}** of {} ({}) over this period. \
         Each lever is applied to what the levers before it left, so overlapping savings \
         are counted once.\n",
        w.total_savings.to_cents_string(),
        w.spend.to_cents_string(),
        pct(w.total_savings.to_f64(), w.spend.to_f64())
    );
    let _ = writeln!(
        o,
        "| lever | saves | spend left | findings |\n|---|---:|---:|---:|"
    );
    let _ = writeln!(o, "| *spend* | | {} | |", w.spend.to_cents_string());
    for s in &w.steps {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            s.label,
            s.savings.to_cents_string(),
            s.remaining.to_cents_string(),
            s.findings.len()
        );
    }
    for n in &w.notes {
        let _ = writeln!(o, "\nNote: {}", md(n));
    }
    let _ = writeln!(o);
}

/// The findings as a checklist, most savings first.
fn findings_section(o: &mut String, a: &Audit) {
    if a.findings.is_empty() {
        return;
    }
    let _ = writeln!(o, "## Findings\n");
    let _ = writeln!(
        o,
        "{} findings; `tokenaudit rules CODE` explains each rule. Savings are per 30-day month.\n",
        a.findings.len()
    );
    for f in &a.findings {
        let saving = f.savings.as_ref().map_or(String::new(), |s| {
            format!(" — saves ~{}/month", s.monthly.to_cents_string())
        });
        let _ = writeln!(
            o,
            "- [ ] **{}** {} ({}){saving}  \n  `{}` · severity {} · confidence {:?}  \n  {}",
            f.rule,
            md(&f.title),
            f.name,
            f.fingerprint,
            f.severity.as_str(),
            f.confidence,
            md(&f.recommendation)
        );
        if let Some(s) = &f.savings {
            let _ = writeln!(o, "  *Estimate:* {}.", md(&s.method));
        }
        if !f.evidence.is_empty() {
            let figures: Vec<String> = f
                .evidence
                .iter()
                .filter(|(_, v)| !v.is_array() && !v.is_object())
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    format!("{k} {}", md(&v))
                })
                .collect();
            let _ = writeln!(o, "  *Evidence:* {}.", figures.join(", "));
        }
        if !f.sample_requests.is_empty() {
            let ids: Vec<String> = f.sample_requests.iter().map(|r| md(r)).collect();
            let _ = writeln!(o, "  *Sample requests:* {}.", ids.join(", "));
        }
        if !f.sample_prompts.is_empty() {
            // Prompt text is the most untrusted text of all: escaped like a
            // table cell, on one line, in quotes.
            let texts: Vec<String> = f
                .sample_prompts
                .iter()
                .map(|t| format!("\"{}\"", md(t)))
                .collect();
            let _ = writeln!(o, "  *Sample prompts:* {}.", texts.join("; "));
        }
    }
    let _ = writeln!(o);
}

/// "Change against the previous period": spend, cost per request and per
/// successful request, this period against the one before.
fn previous_headline(o: &mut String, a: &Audit, p: &PreviousPeriod) {
    let _ = writeln!(
        o,
        "### Change against the previous period ({})\n",
        change::previous_span(p)
    );
    if p.totals.calls == 0 {
        let _ = writeln!(o, "{}.\n", change::no_previous_calls(p));
        return;
    }
    let _ = writeln!(
        o,
        "| | this {w} | previous {w} | change |\n|---|---:|---:|---:|",
        w = change::period_word(p)
    );
    for h in change::headline(a, p) {
        let show =
            |m: Option<Money>| m.map_or("–".to_string(), |m| m.to_rounded_string(h.decimals));
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} |",
            h.label,
            show(h.now),
            show(h.before),
            h.change()
        );
    }
    let _ = writeln!(o);
}

/// Month over month (or period over period) per feature and per model.
fn change_section(o: &mut String, a: &Audit, p: &PreviousPeriod) {
    let (word, title) = (change::period_word(p), change::section_title(p));
    let _ = writeln!(o, "## {title}\n");
    if p.totals.calls == 0 {
        let _ = writeln!(o, "{}.\n", change::no_previous_calls(p));
        return;
    }
    for (dimension, rows) in change::tables(a, p) {
        let _ = writeln!(
            o,
            "| {dimension} | this {word} | previous {word} | change |\n|---|---:|---:|---:|"
        );
        for r in rows.iter().take(TOP) {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                md(&r.key),
                r.now.to_cents_string(),
                r.before.to_cents_string(),
                r.change()
            );
        }
        if rows.len() > TOP {
            let _ = writeln!(
                o,
                "| *{} more (audit-change.csv)* | | | |",
                rows.len() - TOP
            );
        }
        let _ = writeln!(o);
    }
}
