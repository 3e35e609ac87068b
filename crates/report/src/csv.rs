//! CSV tables, one file per table, with a header row. Money is an exact
//! decimal of US dollars. Cells that a spreadsheet would run as a formula
//! (starting with `=`, `+`, `-`, `@`) are prefixed with `'`, because log
//! fields are untrusted.

use tokenaudit_analyze::audit::{DayKeyRow, Row};
use tokenaudit_analyze::{Audit, Stats};

pub(crate) fn cell(text: &str) -> String {
    // A NUL byte stops some CSV readers (Python's before 3.11): shown as
    // the control picture, as the terminal shows it. A number is a
    // number only in digits (`-inf`, `+nan` are formulas to Excel:
    // hunt141's bug3).
    let text = text.replace('\0', "\u{2400}");
    let number = text.parse::<f64>().is_ok_and(f64::is_finite)
        && !text.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E');
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r', '\u{2400}']) && !number {
        format!("'{text}")
    } else {
        text
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

const STATS_HEADER: &str = "calls,ok_calls,failed_calls,input_tokens,cached_read_tokens,cache_write_tokens,output_tokens,reasoning_tokens,cost_usd,failed_cost_usd,unpriced_calls";

fn stats(s: &Stats) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{},{}",
        s.calls,
        s.ok_calls,
        s.failed_calls,
        s.input_tokens,
        s.cached_read_tokens,
        s.cache_write_tokens,
        s.output_tokens,
        s.reasoning_tokens,
        s.cost.to_decimal_string(),
        s.failed_cost.to_decimal_string(),
        s.unpriced_calls
    )
}

fn key_table(key: &str, rows: &[Row]) -> String {
    let mut out = format!("{key},{STATS_HEADER}\n");
    for r in rows {
        out.push_str(&format!("{},{}\n", cell(&r.key), stats(&r.stats)));
    }
    out
}

fn day_key_table(key: &str, rows: &[DayKeyRow]) -> String {
    let mut out = format!("day,{key},{STATS_HEADER}\n");
    for r in rows {
        out.push_str(&format!("{},{},{}\n", r.day, cell(&r.key), stats(&r.stats)));
    }
    out
}

/// Every table as `(name, contents)`.
pub fn tables(a: &Audit) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for t in &a.by {
        let mut table = key_table(t.dimension, &t.rows);
        // Users and sessions past the top 1,000: one row of the rest, so
        // that the table still sums to the totals.
        let rest = t.distinct.saturating_sub(t.rows.len() as u64);
        if rest > 0 || t.omitted.calls > 0 {
            table.push_str(&format!(
                "{},{}\n",
                cell(&format!("({rest} more {}s)", t.dimension)),
                stats(&t.omitted)
            ));
        }
        out.push((format!("by-{}", t.dimension), table));
    }
    let mut fm = format!("feature,model,{STATS_HEADER}\n");
    for r in &a.feature_model {
        fm.push_str(&format!(
            "{},{},{}\n",
            cell(&r.feature),
            cell(&r.model),
            stats(&r.stats)
        ));
    }
    out.push(("by-feature-model".into(), fm));
    // Tags past the top 1,000 likewise (hunt61: they were left out
    // without a word; a call may carry several tags, so the rows sum to
    // more than the totals).
    let mut tags = key_table("tag", &a.tags);
    let rest = a.tags_distinct.saturating_sub(a.tags.len() as u64);
    if rest > 0 || a.tags_omitted.calls > 0 {
        tags.push_str(&format!(
            "{},{}\n",
            cell(&format!("({rest} more tags)")),
            stats(&a.tags_omitted)
        ));
    }
    out.push(("by-tag".into(), tags));
    let mut findings = String::from(
        "fingerprint,rule,name,severity,confidence,title,scope,monthly_savings,observed_savings,savings_method,recommendation,sample_requests\n",
    );
    for f in &a.findings {
        let scope: Vec<String> = f.scope.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let (monthly, observed, method) =
            f.savings
                .as_ref()
                .map_or((String::new(), String::new(), String::new()), |s| {
                    (
                        s.monthly.to_decimal_string(),
                        s.observed.to_decimal_string(),
                        s.method.clone(),
                    )
                });
        findings.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{}\n",
            f.fingerprint,
            f.rule,
            f.name,
            f.severity.as_str(),
            format!("{:?}", f.confidence).to_lowercase(),
            cell(&f.title),
            cell(&scope.join("; ")),
            monthly,
            observed,
            cell(&method),
            cell(&f.recommendation),
            cell(&f.sample_requests.join(" "))
        ));
    }
    out.push(("findings".into(), findings));
    if let Some(w) = &a.savings {
        let mut t = String::from("step,lever,savings,remaining,findings\n");
        for (i, s) in w.steps.iter().enumerate() {
            t.push_str(&format!(
                "{},{},{},{},{}\n",
                i + 1,
                s.label,
                s.savings.to_decimal_string(),
                s.remaining.to_decimal_string(),
                s.findings.join(" ")
            ));
        }
        out.push(("savings".into(), t));
    }
    out.push(("failures".into(), key_table("failure", &a.failures)));
    let mut daily = format!("day,{STATS_HEADER}\n");
    for d in &a.daily {
        daily.push_str(&format!("{},{}\n", d.day, stats(&d.stats)));
    }
    out.push(("daily".into(), daily));
    out.push((
        "daily-by-model".into(),
        day_key_table("model", &a.daily_by_model),
    ));
    out.push((
        "daily-by-feature".into(),
        day_key_table("feature", &a.daily_by_feature),
    ));
    let mut models = format!("logged_model,logged_provider,resolved,{STATS_HEADER}\n");
    for m in &a.model_names {
        models.push_str(&format!(
            "{},{},{},{}\n",
            cell(&m.logged_model),
            cell(m.logged_provider.as_deref().unwrap_or("")),
            cell(m.resolved.as_deref().unwrap_or("")),
            stats(&m.stats)
        ));
    }
    out.push(("model-names".into(), models));
    let mut rejected = String::from("file,line,reason,detail\n");
    for s in &a.input.rejected_samples {
        rejected.push_str(&format!(
            "{},{},{},{}\n",
            cell(&s.file),
            s.line,
            s.reason,
            cell(&s.detail)
        ));
    }
    out.push(("rejected-samples".into(), rejected));
    if let Some(p) = &a.previous {
        // Exact spend per feature and model in both periods (review only);
        // the calls of models the catalog cannot price are in neither cost,
        // and counted apart.
        let mut t = "dimension,key,calls,previous_calls,cost_usd,previous_cost_usd,change_usd,unpriced_calls,previous_unpriced_calls\n"
            .to_string();
        for (dimension, rows) in crate::change::tables(a, p) {
            for r in rows {
                t.push_str(&format!(
                    "{dimension},{},{},{},{},{},{},{},{}\n",
                    cell(&r.key),
                    r.calls_now,
                    r.calls_before,
                    r.now.to_decimal_string(),
                    r.before.to_decimal_string(),
                    (r.now - r.before).to_decimal_string(),
                    r.unpriced_now,
                    r.unpriced_before
                ));
            }
        }
        out.push(("change".into(), t));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_formula_safe() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-12.5"), "-12.5");
        assert_eq!(cell("@cmd"), "'@cmd");
        assert_eq!(cell("-inf"), "'-inf");
        assert_eq!(cell("+nan"), "'+nan");
        assert_eq!(cell("-1e3"), "-1e3");
        assert_eq!(cell("\0=HYPERLINK(1)"), "'\u{2400}=HYPERLINK(1)");
    }
}
