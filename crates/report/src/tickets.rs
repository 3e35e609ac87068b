//! Findings as tickets: one record per finding, in JSON lines, as GitHub
//! issues (title, Markdown body, labels) or CSV; compared with a previous
//! run's findings so a nightly job files only what is new and closes what is
//! gone.
//!
//! A finding's identity is its fingerprint (rule + scope), so a baseline
//! comparison is a join on fingerprints: present now and not before is
//! `new`; present in both is `persisting`, or `worse` when its monthly
//! savings grew by more than the threshold; present before and not now is
//! `resolved`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use tokenaudit_analyze::detect::{Finding, Severity};
use tokenaudit_core::Money;

use crate::text::md;

/// A finding's state against the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    New,
    Persisting,
    Worse,
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Persisting => "persisting",
            Status::Worse => "worse",
            Status::Resolved => "resolved",
        }
    }
}

/// One ticket record (the `jsonl` format; also what a baseline file holds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub fingerprint: String,
    /// Absent without a baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    pub rule: String,
    pub name: String,
    pub severity: String,
    pub title: String,
    pub scope: BTreeMap<String, String>,
    /// Monthly savings, exact decimal USD, when estimated.
    #[serde(default)]
    pub monthly_savings: Option<String>,
    #[serde(default)]
    pub savings_method: Option<String>,
    #[serde(default)]
    pub confidence: String,
    #[serde(default)]
    pub evidence: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub sample_requests: Vec<String>,
    /// Prompt excerpts, only with `--include-prompts` (omitted when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sample_prompts: Vec<String>,
    #[serde(default)]
    pub recommendation: String,
    /// The baseline's monthly savings, for `worse` and `resolved`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_monthly_savings: Option<String>,
    /// The monthly savings when the ticket was last raised (`new`, or its
    /// last `worse`): what `worse` is judged against, so that steady growth
    /// is told once it passes `--worse-by`, however slow each night.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filed_monthly_savings: Option<String>,
    /// For `worse`: the filed saving it was judged against (shown in the
    /// ticket's comment; not kept: the next night's filed saving is this
    /// night's).
    #[serde(skip)]
    pub worse_than: Option<String>,
}

impl Record {
    pub fn from_finding(f: &Finding) -> Record {
        Record {
            fingerprint: f.fingerprint.clone(),
            status: None,
            rule: f.rule.to_string(),
            name: f.name.to_string(),
            severity: f.severity.as_str().to_string(),
            title: f.title.clone(),
            scope: f
                .scope
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            monthly_savings: f.savings.as_ref().map(|s| s.monthly.to_decimal_string()),
            savings_method: f.savings.as_ref().map(|s| s.method.clone()),
            confidence: format!("{:?}", f.confidence).to_lowercase(),
            evidence: f
                .evidence
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            sample_requests: f.sample_requests.clone(),
            sample_prompts: f.sample_prompts.clone(),
            recommendation: f.recommendation.clone(),
            previous_monthly_savings: None,
            filed_monthly_savings: None,
            worse_than: None,
        }
    }

    fn monthly(&self) -> Money {
        self.monthly_savings
            .as_deref()
            .and_then(Money::parse_usd)
            .unwrap_or(Money::ZERO)
    }

    pub fn severity(&self) -> Severity {
        Severity::parse(&self.severity).unwrap_or(Severity::Info)
    }
}

/// Why a baseline file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("not an audit.json report nor findings JSON lines (line {line}: {message})")]
    Parse { line: usize, message: String },
}

/// Reads a baseline: an `audit.json` report (its `audit.findings`) or the
/// JSON lines `tokenaudit findings --format jsonl` wrote.
pub fn read_baseline(text: &str) -> Result<Vec<Record>, BaselineError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
            if let Some(list) = v.pointer("/audit/findings").and_then(|f| f.as_array()) {
                let mut out = Vec::new();
                for (i, f) in list.iter().enumerate() {
                    out.push(record_from_report(f).ok_or_else(|| BaselineError::Parse {
                        line: 0,
                        message: format!("audit.findings[{i}] is not a finding"),
                    })?);
                }
                return Ok(out);
            }
        }
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let r: Record = serde_json::from_str(line).map_err(|e| BaselineError::Parse {
            line: i + 1,
            message: e.to_string(),
        })?;
        // A resolved record in a baseline is history, not a current finding.
        if r.status != Some(Status::Resolved) {
            out.push(r);
        }
    }
    Ok(out)
}

fn record_from_report(f: &serde_json::Value) -> Option<Record> {
    let s = |k: &str| f.get(k).and_then(|v| v.as_str()).map(str::to_string);
    Some(Record {
        fingerprint: s("fingerprint")?,
        status: None,
        rule: s("rule")?,
        name: s("name").unwrap_or_default(),
        severity: s("severity").unwrap_or_default(),
        title: s("title").unwrap_or_default(),
        scope: serde_json::from_value(f.get("scope")?.clone()).ok()?,
        monthly_savings: f
            .pointer("/savings/monthly")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        savings_method: f
            .pointer("/savings/method")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        confidence: s("confidence").unwrap_or_default(),
        evidence: f
            .get("evidence")
            .and_then(|e| serde_json::from_value(e.clone()).ok())
            .unwrap_or_default(),
        sample_requests: f
            .get("sample_requests")
            .and_then(|e| serde_json::from_value(e.clone()).ok())
            .unwrap_or_default(),
        sample_prompts: f
            .get("sample_prompts")
            .and_then(|e| serde_json::from_value(e.clone()).ok())
            .unwrap_or_default(),
        recommendation: s("recommendation").unwrap_or_default(),
        previous_monthly_savings: None,
        filed_monthly_savings: None,
        worse_than: None,
    })
}

/// Marks `current` against `baseline` and appends the resolved ones.
/// `worse_by` is the relative growth of monthly savings that makes a
/// persisting finding `worse` (0.2: grew by more than 20%). `below` holds
/// the fingerprints and monthly savings of the findings the run found under
/// the `min_savings` floor: a baseline finding among them persists at its
/// saving now, its ticket open (hunt76: a finding dipping from $1.13 to
/// $0.95 a month was resolved, then filed again the night after).
pub fn diff(
    current: Vec<Record>,
    baseline: &[Record],
    below: &[Finding],
    unchecked: &[&str],
    worse_by: f64,
) -> Vec<Record> {
    let before: BTreeMap<&str, &Record> = baseline
        .iter()
        .map(|r| (r.fingerprint.as_str(), r))
        .collect();
    let mut out: Vec<Record> = Vec::with_capacity(current.len());
    for mut r in current {
        r.status = Some(match before.get(r.fingerprint.as_str()) {
            None => {
                r.filed_monthly_savings = r.monthly_savings.clone();
                Status::New
            }
            Some(b) => {
                r.previous_monthly_savings = b.monthly_savings.clone();
                // Against the saving the ticket was raised with (a baseline
                // of an earlier build has none: its last night's).
                let filed = b
                    .filed_monthly_savings
                    .clone()
                    .or_else(|| b.monthly_savings.clone());
                let old = filed
                    .as_deref()
                    .and_then(Money::parse_usd)
                    .unwrap_or(Money::ZERO);
                let now = r.monthly();
                // In pico-dollars: growth of exactly `worse_by` is not more
                // (0.375 × 1.2 is 0.44999… in binary).
                if now - old > old.scale(worse_by) && now > old {
                    r.filed_monthly_savings = r.monthly_savings.clone();
                    r.worse_than = filed;
                    Status::Worse
                } else {
                    r.filed_monthly_savings = filed;
                    Status::Persisting
                }
            }
        });
        out.push(r);
    }
    let now: std::collections::BTreeSet<String> =
        out.iter().map(|r| r.fingerprint.clone()).collect();
    let below: BTreeMap<&str, &Finding> =
        below.iter().map(|f| (f.fingerprint.as_str(), f)).collect();
    for b in baseline {
        if !now.contains(&b.fingerprint) {
            // The ticket persists, filed as before, with `now`'s saving,
            // severity and title.
            let persisting = |now: Record| Record {
                status: Some(Status::Persisting),
                previous_monthly_savings: b.monthly_savings.clone(),
                filed_monthly_savings: b
                    .filed_monthly_savings
                    .clone()
                    .or_else(|| b.monthly_savings.clone()),
                ..now
            };
            let r = match below.get(b.fingerprint.as_str()) {
                // Found, under the floor: as it is now.
                Some(f) => persisting(Record::from_finding(f)),
                // Its rule did not look this time (turned off by the
                // config): nothing says it is gone, so its ticket stays as
                // it was (hunt118: a rule turned off closed its tickets as
                // resolved).
                None if unchecked.contains(&b.rule.as_str()) => persisting(b.clone()),
                None => Record {
                    status: Some(Status::Resolved),
                    previous_monthly_savings: b.monthly_savings.clone(),
                    ..b.clone()
                },
            };
            out.push(r);
        }
    }
    out
}

/// JSON lines, one record per line.
pub fn jsonl(records: &[Record]) -> String {
    let mut s = String::new();
    for r in records {
        s.push_str(&serde_json::to_string(r).expect("records serialize"));
        s.push('\n');
    }
    s
}

/// The longest issue title GitHub takes, in characters.
const GITHUB_TITLE_MAX: usize = 256;
/// GitHub's longest issue body, in characters (longer: 422 "body is too
/// long (maximum is 65536 characters)").
const GITHUB_BODY_MAX: usize = 65_536;

/// A GitHub issue per finding: `{title, body, labels}` JSON lines, ready
/// for `gh issue create --title … --body …` or a tracker's import. Resolved
/// findings carry the `resolved` label (close the issue whose body has the
/// fingerprint). A title over GitHub's 256 characters is cut, and given
/// whole at the top of the body.
pub fn github(records: &[Record]) -> String {
    let mut s = String::new();
    for r in records {
        let mut body = String::new();
        let full = format!("[{}] {}", r.rule, one_line(&r.title));
        // GitHub takes titles of at most 256 characters (longer: 422
        // "title is too long"); a longer one is cut, and given whole as
        // the body's first line (hunt50).
        let title = if full.chars().count() > GITHUB_TITLE_MAX {
            body.push_str(&format!("{}\n\n", gh(&full)));
            let cut: String = full.chars().take(GITHUB_TITLE_MAX - 1).collect();
            format!("{}…", cut.trim_end())
        } else {
            full
        };
        body.push_str(&format!(
            "**{}** {}{} · severity **{}** · confidence {}\n\n",
            r.rule,
            gh(&r.name),
            r.status
                .map_or(String::new(), |s| format!(" ({})", s.as_str())),
            r.severity,
            r.confidence
        ));
        if let Some(m) = &r.monthly_savings {
            body.push_str(&format!(
                "Estimated savings: **${}/month** — {}\n\n",
                round_cents(m),
                gh(r.savings_method.as_deref().unwrap_or(""))
            ));
        }
        // A worse ticket says what it was judged against (hunt100: "previous
        // run: $8.41" beside $8.63, worse than the $7.19 filed).
        if let Some(f) = r
            .worse_than
            .as_ref()
            .filter(|_| r.status == Some(Status::Worse))
        {
            body.push_str(&format!("Filed at: ${}/month\n\n", round_cents(f)));
        }
        if let Some(p) = &r.previous_monthly_savings {
            body.push_str(&format!("Previous run: ${}/month\n\n", round_cents(p)));
        }
        body.push_str(&format!(
            "### Recommendation\n\n{}\n\n",
            gh(&r.recommendation)
        ));
        body.push_str("### Scope\n\n");
        for (k, v) in &r.scope {
            body.push_str(&format!("- {}: {}\n", gh(k), gh(v)));
        }
        body.push_str("\n### Evidence\n\n| figure | value |\n|---|---|\n");
        for (k, v) in &r.evidence {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            body.push_str(&format!("| {} | {} |\n", gh(k), gh(&v)));
        }
        if !r.sample_requests.is_empty() {
            let ids: Vec<String> = r.sample_requests.iter().map(|i| gh(i)).collect();
            body.push_str(&format!("\nSample requests: {}\n", ids.join(", ")));
        }
        if !r.sample_prompts.is_empty() {
            body.push_str("\nSample prompts:\n\n");
            for t in &r.sample_prompts {
                body.push_str(&format!("- \"{}\"\n", gh(t)));
            }
        }
        let footer = format!(
            "\n`tokenaudit rules {}` explains the rule. Fingerprint: `{}` (the issue of this finding night after night).\n\n<!-- tokenaudit-fingerprint: {} -->\n",
            r.rule, r.fingerprint, r.fingerprint
        );
        // A body past GitHub's limit (a feature of 22,000 characters given
        // three times, `@`s defused into 8 characters each: hunt163) is cut
        // before its footer, which keeps the fingerprint.
        const CUT: &str = "\n\n… (cut here: the finding's text passed GitHub's 65,536 characters; `tokenaudit findings --format jsonl` gives it whole)\n";
        let room = GITHUB_BODY_MAX - footer.chars().count() - CUT.chars().count();
        if body.chars().count() > room {
            let end = body.char_indices().nth(room).map_or(body.len(), |(i, _)| i);
            body.truncate(end);
            body.push_str(CUT);
        }
        body.push_str(&footer);
        let mut labels = vec![
            "tokenaudit".to_string(),
            format!("severity:{}", r.severity),
            r.rule.clone(),
        ];
        if let Some(s) = r.status {
            labels.push(s.as_str().to_string());
        }
        let issue = serde_json::json!({
            "fingerprint": r.fingerprint,
            "title": title,
            "body": body,
            "labels": labels,
        });
        s.push_str(&issue.to_string());
        s.push('\n');
    }
    s
}

/// [`md`] for a GitHub issue's body: a log's `@name` or `#12` would
/// mention a user or link an issue there, and `GH-12` or an issue's URL
/// link one (and cross-reference it, hunt61); a zero-width space after `@`,
/// `#`, `GH` and a URL's `:` keeps them text (as Renovate writes them).
fn gh(text: &str) -> String {
    defuse(&md(text), "&#8203;")
}

/// `text` with `zwsp` after each `@` and `#`, between `GH` and `-` before
/// a digit, and between a URL's `:` and `//`: GitHub neither mentions, nor
/// links, nor cross-references what it finds there.
fn defuse(text: &str, zwsp: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    for (i, c) in text.char_indices() {
        out.push(c);
        let next = |k: usize| b.get(i + k).copied();
        let breaks = match c {
            '@' | '#' => true,
            // `GH-12` (any case), not `MIGH-1`.
            'H' | 'h' => {
                i > 0
                    && b[i - 1].eq_ignore_ascii_case(&b'g')
                    && (i < 2 || !b[i - 2].is_ascii_alphanumeric())
                    && next(1) == Some(b'-')
                    && next(2).is_some_and(|d| d.is_ascii_digit())
            }
            ':' => next(1) == Some(b'/') && next(2) == Some(b'/'),
            // `www.github.com/…`, which GitHub links without a scheme
            // (hunt62), not `awww.`.
            'W' | 'w' => {
                i >= 2
                    && b[i - 2..i].eq_ignore_ascii_case(b"ww")
                    && (i < 3 || !b[i - 3].is_ascii_alphanumeric())
                    && next(1) == Some(b'.')
            }
            _ => false,
        };
        if breaks {
            out.push_str(zwsp);
        }
    }
    out
}

/// A title on one line: line breaks as spaces, other control characters
/// shown (see [`crate::text::push_control`]), and, as in the body, a
/// zero-width space after `@`, `#`, `GH`, a URL's `:` and `www` (a title is plain
/// text: the character itself, not its entity).
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if crate::text::is_hidden(c) => crate::text::push_control(&mut out, c),
            c => out.push(c),
        }
    }
    defuse(&out, "\u{200b}")
}

fn round_cents(decimal: &str) -> String {
    Money::parse_usd(decimal).map_or(decimal.to_string(), |m| {
        m.to_cents_string().trim_start_matches('$').to_string()
    })
}

/// CSV, one row per finding.
pub fn csv(records: &[Record]) -> String {
    let mut s = String::from(
        "fingerprint,status,rule,name,severity,confidence,title,scope,monthly_savings,previous_monthly_savings,recommendation,sample_requests\n",
    );
    for r in records {
        let scope: Vec<String> = r.scope.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let row = [
            r.fingerprint.clone(),
            r.status.map_or(String::new(), |s| s.as_str().to_string()),
            r.rule.clone(),
            r.name.clone(),
            r.severity.clone(),
            r.confidence.clone(),
            r.title.clone(),
            scope.join("; "),
            r.monthly_savings.clone().unwrap_or_default(),
            r.previous_monthly_savings.clone().unwrap_or_default(),
            r.recommendation.clone(),
            r.sample_requests.join(" "),
        ];
        let cells: Vec<String> = row.iter().map(|c| crate::csv::cell(c)).collect();
        s.push_str(&cells.join(","));
        s.push('\n');
    }
    s
}

/// A `--fail-on` condition.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FailOn {
    /// Any finding at or above this severity.
    Severity(Severity),
    /// Any finding whose monthly savings are at least this.
    Savings(Money),
}

impl FailOn {
    /// Parses `high`, `medium`, `low`, `info` or `savings>=AMOUNT`.
    pub fn parse(text: &str) -> Option<FailOn> {
        let t = text.trim();
        if let Some(amount) = t.strip_prefix("savings>=") {
            // A negative amount would fail on every finding.
            return Money::parse_usd(amount.trim().trim_start_matches('$'))
                .filter(|m| m.picos() >= 0)
                .map(FailOn::Savings);
        }
        Severity::parse(t).map(FailOn::Severity)
    }

    /// The records (not resolved) that meet the condition.
    pub fn matching<'a>(&self, records: &'a [Record]) -> Vec<&'a Record> {
        records
            .iter()
            .filter(|r| r.status != Some(Status::Resolved))
            .filter(|r| match self {
                FailOn::Severity(s) => r.severity() >= *s,
                FailOn::Savings(m) => r.monthly() >= *m,
            })
            .collect()
    }
}
