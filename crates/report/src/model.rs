//! The report as a document, built once from the `Audit`: sections of
//! headings, paragraphs, lists, tables of typed cells, charts and findings.
//! `markdown.rs` and `html.rs` only render it (hyperfine's exporters have
//! this shape), and `png.rs` draws its charts. Nothing here knows a format:
//! a cell says it holds money, a count, a share, log-derived text or an
//! in-page link, and each renderer writes and escapes it its own way.
//!
//! The Markdown report and the HTML page say different things in different
//! orders (the page leads with cards and charts and leaves some tables to
//! the Markdown and CSV files), so there are two layouts, [`text`] and
//! [`page`], made of the same builders: a table both show is built here
//! once.

use std::borrow::Cow;

use tokenaudit_analyze::audit::{PreviousPeriod, Row};
use tokenaudit_analyze::coverage::{Kind, RuleCoverage, Status, Via};
use tokenaudit_analyze::detect::{Confidence, Finding};
use tokenaudit_analyze::whatif::{Step, Waterfall};
use tokenaudit_analyze::{Audit, Stats, NONE};
use tokenaudit_core::Money;

use crate::change;
use crate::chart::{self, Chart};
use crate::text::{calls_period, window};
use crate::RunInfo;

/// Rows shown per table; the CSV and JSON outputs have them all.
const TOP: usize = 15;

/// A run of text in a paragraph or a table cell, typed by what it holds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Inline {
    /// tokenaudit's own words.
    Plain(Cow<'static, str>),
    /// Text from the logs (names, titles, details): escaped for each format.
    Label(String),
    /// An identifier from the logs (a request id): code where the format
    /// can quote untrusted text safely (HTML), a label where it cannot.
    Id(String),
    /// tokenaudit's own code words: commands, flags, field and file names.
    Code(Cow<'static, str>),
    /// Dollars rounded to this many decimals (`$1,234.57`).
    Money(Money, u32),
    /// An integer with thousands separators.
    Count(u64),
    /// Tokens in a compact form (`1.2M`).
    Tokens(u64),
    /// `part` of `whole` as a percentage with one decimal.
    Share(f64, f64),
    Strong(Vec<Inline>),
    Emphasis(Vec<Inline>),
    /// A link to a finding further down the page (`#f-<fingerprint>`).
    FindingLink {
        fingerprint: String,
        rule: &'static str,
    },
    /// A finding's severity (a colored badge on the page).
    Severity(&'static str),
}

impl Inline {
    pub(crate) fn plain(text: impl Into<Cow<'static, str>>) -> Inline {
        Inline::Plain(text.into())
    }

    pub(crate) fn code(text: impl Into<Cow<'static, str>>) -> Inline {
        Inline::Code(text.into())
    }
}

/// A table cell: runs of text; empty for a blank cell.
pub(crate) type Cell = Vec<Inline>;

/// A column header; numbers are right-aligned.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Column {
    pub(crate) title: Cow<'static, str>,
    pub(crate) numeric: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Table {
    pub(crate) columns: Vec<Column>,
    pub(crate) rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table with these `(title, numeric)` columns and no rows.
    fn new(columns: &[(&'static str, bool)]) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|(title, numeric)| Column {
                    title: Cow::Borrowed(title),
                    numeric: *numeric,
                })
                .collect(),
            rows: Vec::new(),
        }
    }
}

/// A headline figure on the page.
pub(crate) struct Card {
    pub(crate) label: &'static str,
    pub(crate) value: Vec<Inline>,
    pub(crate) sub: Vec<Inline>,
    /// A figure to be glad of (savings).
    pub(crate) good: bool,
}

pub(crate) enum Block<'a> {
    /// A heading under the section's; `id` is an anchor on the page.
    Heading {
        id: Option<&'static str>,
        text: Cow<'static, str>,
    },
    Paragraph(Vec<Inline>),
    /// A paragraph set apart as a remark (muted on the page).
    Note(Vec<Inline>),
    List(Vec<Vec<Inline>>),
    Table(Table),
    Cards(Vec<Card>),
    Chart(Chart),
    /// The findings in full, most savings first.
    Findings(&'a [Finding]),
}

pub(crate) struct Section<'a> {
    /// The anchor of the section on the page, if it has one.
    pub(crate) id: Option<&'static str>,
    pub(crate) title: Cow<'static, str>,
    pub(crate) blocks: Vec<Block<'a>>,
}

impl<'a> Section<'a> {
    fn new(id: Option<&'static str>, title: impl Into<Cow<'static, str>>) -> Section<'a> {
        Section {
            id,
            title: title.into(),
            blocks: Vec::new(),
        }
    }
}

pub(crate) struct Report<'a> {
    pub(crate) title: &'static str,
    /// The calls' first and last day (`2026-10-01 to 2026-10-31`), or empty.
    pub(crate) dates: String,
    /// What the run read, under the title.
    pub(crate) head: Vec<Block<'a>>,
    /// In-page links to sections: `(section id, label)`.
    pub(crate) nav: Vec<(&'static str, &'static str)>,
    pub(crate) sections: Vec<Section<'a>>,
    pub(crate) footer: Vec<Inline>,
}

/// One inline as a cell.
fn cell(i: Inline) -> Cell {
    vec![i]
}

/// Money rounded to `decimals`, or a dash when there is none.
/// A row's cost per priced call; "–" when none of its calls is priced
/// (an unknown model's are not $0 each).
fn per_call(s: &Stats) -> Inline {
    money_or_dash((s.calls > s.unpriced_calls).then(|| s.cost_per_call()), 4)
}

fn money_or_dash(m: Option<Money>, decimals: u32) -> Inline {
    m.map_or(Inline::plain("–"), |m| Inline::Money(m, decimals))
}

/// A finding's evidence value as text: strings as they are, numbers and
/// other JSON as JSON.
pub(crate) fn evidence_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The page's link to a finding.
pub(crate) fn finding_anchor(fingerprint: &str) -> String {
    format!("f-{fingerprint}")
}

/// A dimension's rows, the first `limit` of them, closed by one row that
/// sums the rest and the `omitted` keys the audit kept no row for.
fn stats_table(
    key_title: &'static str,
    rows: &[Row],
    total: &Stats,
    limit: usize,
    omitted: (u64, Stats),
) -> Table {
    let mut table = Table::new(&[
        (key_title, false),
        ("calls", true),
        ("spend", true),
        ("share", true),
        ("per call", true),
        ("per success", true),
        ("failed spend", true),
        ("success", true),
    ]);
    let share = |s: &Stats| Inline::Share(s.cost.to_f64(), total.cost.to_f64());
    for r in rows.iter().take(limit) {
        let s = &r.stats;
        table.rows.push(vec![
            cell(Inline::Label(r.key.clone())),
            cell(Inline::Count(s.calls)),
            spend(s),
            cell(share(s)),
            cell(per_call(s)),
            cell(money_or_dash(s.cost_per_success(), 4)),
            cell(Inline::Money(s.failed_cost, 2)),
            cell(Inline::Share(s.ok_calls as f64, s.calls as f64)),
        ]);
    }
    let (more_keys, mut rest) = omitted;
    if rows.len() > limit || more_keys > 0 {
        for r in rows.iter().skip(limit) {
            rest.merge(&r.stats);
        }
        let more = rows.len().saturating_sub(limit) as u64 + more_keys;
        table.rows.push(vec![
            cell(Inline::Emphasis(vec![
                Inline::Count(more),
                Inline::plain(" more"),
            ])),
            cell(Inline::Count(rest.calls)),
            spend(&rest),
            cell(share(&rest)),
            Vec::new(),
            Vec::new(),
            cell(Inline::Money(rest.failed_cost, 2)),
            Vec::new(),
        ]);
    }
    table
}

/// A row's spend: "unpriced" when its only money is its unpriced calls' (a
/// call with nothing to price costs $0 beside them), and the priced spend
/// with how many calls it leaves out when some are; never a bare $0.00 for
/// calls the catalog could not price.
fn spend(s: &Stats) -> Vec<Inline> {
    if s.unpriced_calls == 0 {
        cell(Inline::Money(s.cost, 2))
    } else if s.cost == Money::ZERO {
        cell(Inline::Strong(vec![Inline::plain("unpriced")]))
    } else {
        vec![
            Inline::Money(s.cost, 2),
            Inline::plain(" + "),
            Inline::Count(s.unpriced_calls),
            Inline::plain(" unpriced"),
        ]
    }
}

/// "1 finding", "3 findings".
pub(crate) fn findings_count(n: usize) -> String {
    format!("{n} finding{}", if n == 1 { "" } else { "s" })
}

/// [`spend`] of a sum and its unpriced calls.
fn priced_or_not(cost: Money, unpriced_calls: u64) -> Vec<Inline> {
    spend(&Stats {
        cost,
        unpriced_calls,
        ..Stats::default()
    })
}

/// A dimension's table (`limit` rows), closed by the keys not shown.
fn dim_table(a: &Audit, name: &'static str, limit: usize) -> Option<Table> {
    let d = a.by.iter().find(|d| d.dimension == name)?;
    let omitted = d.distinct.saturating_sub(d.rows.len() as u64);
    Some(stats_table(
        name,
        &d.rows,
        &a.totals,
        limit,
        (omitted, d.omitted),
    ))
}

/// Whether no call carried a dimension (its only key is "(none)"): such a
/// dimension is reported under data quality instead of as a table.
fn unused(rows: &[Row]) -> bool {
    rows.len() == 1 && rows[0].key == NONE
}

fn model_table(a: &Audit) -> Table {
    let t = &a.totals;
    let mut table = Table::new(&[
        ("model", false),
        ("calls", true),
        ("share of calls", true),
        ("spend", true),
        ("share of spend", true),
        ("per call", true),
        ("cache hit rate", true),
    ]);
    for r in a.dim("model").iter().take(TOP) {
        let s = &r.stats;
        // Unpriced whenever its only money is its unpriced calls' (a call
        // with nothing to price costs $0 beside them).
        table.rows.push(vec![
            cell(Inline::Label(r.key.clone())),
            cell(Inline::Count(s.calls)),
            cell(Inline::Share(s.calls as f64, t.calls as f64)),
            spend(s),
            cell(Inline::Share(s.cost.to_f64(), t.cost.to_f64())),
            cell(per_call(s)),
            cell(Inline::Share(
                s.cached_read_tokens as f64,
                s.input_tokens as f64,
            )),
        ]);
    }
    // The models not listed, in one row (hunt76: the shares of the listed
    // ones summed to 99.5% with nothing said).
    if let Some(rest) = rest_of(a.dim("model").iter().skip(TOP).map(|r| &r.stats)) {
        table.rows.push(vec![
            more_cell(a.dim("model").len() - TOP),
            cell(Inline::Count(rest.calls)),
            cell(Inline::Share(rest.calls as f64, t.calls as f64)),
            spend(&rest),
            cell(Inline::Share(rest.cost.to_f64(), t.cost.to_f64())),
            Vec::new(),
            Vec::new(),
        ]);
    }
    table
}

/// Where the per-key analyses ran on a hash sample: said with each
/// sample's rate, in every report (hunt104: the Markdown said nothing, and
/// the turn inference's sample went unsaid).
fn sampling_note(a: &Audit) -> Option<Block<'_>> {
    let s = &a.sampling;
    let parts: Vec<String> = [
        ("sessions", s.sessions_scale),
        ("prompts", s.prompts_scale),
        ("retry chains", s.chains_scale),
        ("turn timelines", s.timelines_scale),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 1)
    .map(|(what, n)| format!("{what} 1 in {n}"))
    .collect();
    let mut text = Vec::new();
    if !parts.is_empty() {
        text.push(Inline::plain(format!(
            "Per-key analyses ran on a hash sample ({}): the figures of the findings on repeated prompts (TA109, TA110), retry chains (TA108) and sessions (TA102) are scaled estimates of the whole.",
            parts.join(", ")
        )));
    }
    // Sessions past 512 calls (hunt168: TA102's saving 5.6× under, unsaid).
    if s.timeline_calls_dropped > 0 {
        if !text.is_empty() {
            text.push(Inline::plain(" "));
        }
        text.push(Inline::Count(s.timeline_calls_dropped));
        text.push(Inline::plain(
            " calls of sessions longer than 512 calls (without turn numbers) were left out of turn inference: TA102 judges those sessions by their first 512 calls, so its saving on them is a lower bound.",
        ));
    }
    (!text.is_empty()).then_some(Block::Note(text))
}

/// `total / n` rounded to the nearest whole (half up): an average of
/// 9.67 tokens is 10, not 9 (hunt102).
fn avg(total: u64, n: u64) -> u64 {
    let n = n.max(1);
    total / n + u64::from(total % n * 2 >= n)
}

/// The stats of rows not listed, summed (`None`: every row is listed).
fn rest_of<'s>(rows: impl Iterator<Item = &'s Stats>) -> Option<Stats> {
    let mut rest: Option<Stats> = None;
    for s in rows {
        rest.get_or_insert_with(Stats::default).merge(s);
    }
    rest
}

/// "*N more*", the first cell of a table's row of what it does not list.
fn more_cell(n: usize) -> Vec<Inline> {
    cell(Inline::Emphasis(vec![
        Inline::Count(n as u64),
        Inline::plain(" more"),
    ]))
}

fn feature_model_table(a: &Audit) -> Table {
    let mut table = Table::new(&[
        ("feature", false),
        ("model", false),
        ("calls", true),
        ("spend", true),
        ("share", true),
        ("per call", true),
        ("avg input", true),
        ("avg output", true),
    ]);
    for r in a.feature_model.iter().take(TOP) {
        let s = &r.stats;
        let n = s.calls.max(1);
        table.rows.push(vec![
            cell(Inline::Label(r.feature.clone())),
            cell(Inline::Label(r.model.clone())),
            cell(Inline::Count(s.calls)),
            spend(s),
            cell(Inline::Share(s.cost.to_f64(), a.totals.cost.to_f64())),
            cell(per_call(s)),
            cell(Inline::Count(avg(s.input_tokens, n))),
            cell(Inline::Count(avg(s.output_tokens, n))),
        ]);
    }
    if let Some(rest) = rest_of(a.feature_model.iter().skip(TOP).map(|r| &r.stats)) {
        let n = rest.calls.max(1);
        table.rows.push(vec![
            more_cell(a.feature_model.len() - TOP),
            Vec::new(),
            cell(Inline::Count(rest.calls)),
            spend(&rest),
            cell(Inline::Share(rest.cost.to_f64(), a.totals.cost.to_f64())),
            cell(per_call(&rest)),
            cell(Inline::Count(avg(rest.input_tokens, n))),
            cell(Inline::Count(avg(rest.output_tokens, n))),
        ]);
    }
    table
}

fn failures_table(a: &Audit) -> Table {
    let mut table = Table::new(&[("failure", false), ("calls", true), ("spend", true)]);
    for r in a.failures.iter().take(TOP) {
        table.rows.push(vec![
            cell(Inline::Label(r.key.clone())),
            cell(Inline::Count(r.stats.calls)),
            cell(Inline::Money(r.stats.cost, 2)),
        ]);
    }
    if let Some(rest) = rest_of(a.failures.iter().skip(TOP).map(|r| &r.stats)) {
        table.rows.push(vec![
            more_cell(a.failures.len() - TOP),
            cell(Inline::Count(rest.calls)),
            cell(Inline::Money(rest.cost, 2)),
        ]);
    }
    table
}

/// The ten most expensive calls; `with_time` adds when each was made.
fn expensive_table(a: &Audit, with_time: bool) -> Table {
    let mut columns = vec![
        ("cost", true),
        ("request", false),
        ("feature", false),
        ("model", false),
        ("input", true),
        ("cached", true),
        ("output", true),
    ];
    if with_time {
        columns.push(("when (UTC)", false));
    }
    columns.push(("where", false));
    let mut table = Table::new(&columns);
    for e in a.most_expensive_calls.iter().take(10) {
        let mut row = vec![
            cell(Inline::Money(e.cost, 4)),
            cell(Inline::Id(
                e.request_id.clone().unwrap_or_else(|| "–".to_string()),
            )),
            cell(Inline::Label(e.feature.clone())),
            cell(Inline::Label(e.model.clone())),
            cell(Inline::Count(e.input_tokens)),
            cell(Inline::Count(e.cached_read_tokens)),
            cell(Inline::Count(e.output_tokens)),
        ];
        if with_time {
            row.push(cell(Inline::plain(
                e.timestamp
                    .map_or(String::new(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
            )));
        }
        row.push(vec![
            Inline::Label(e.file.clone()),
            Inline::plain(format!(":{}", e.line)),
        ]);
        table.rows.push(row);
    }
    table
}

/// Tokens and their cost by kind; `names` are the five kinds' row labels.
fn token_table(a: &Audit, names: [&'static str; 5]) -> Table {
    let t = &a.totals;
    let c = &a.cost_by_token_kind;
    let costs = [c.input, c.cached_read, c.cache_write, c.output, c.reasoning];
    let mut table = Table::new(&[
        ("tokens", false),
        ("count", true),
        ("spend", true),
        ("share of spend", true),
    ]);
    for ((name, count), cost) in names.into_iter().zip(chart::token_parts(t)).zip(costs) {
        table.rows.push(vec![
            cell(Inline::plain(name)),
            cell(Inline::Tokens(count)),
            cell(Inline::Money(cost, 2)),
            cell(Inline::Share(cost.to_f64(), t.cost.to_f64())),
        ]);
    }
    // Web searches are billed per search, not per token: a row of their
    // own, with no token count, when there were any.
    if c.web_search != Money::ZERO {
        table.rows.push(vec![
            cell(Inline::plain("web searches (per search)")),
            cell(Inline::plain("")),
            cell(Inline::Money(c.web_search, 2)),
            cell(Inline::Share(c.web_search.to_f64(), t.cost.to_f64())),
        ]);
    }
    table
}

/// The headline figures against the previous period: spend, cost per
/// request and per successful request.
fn previous_headline<'a>(a: &Audit, p: &PreviousPeriod) -> Vec<Block<'a>> {
    let heading = Block::Heading {
        id: Some("change"),
        text: format!(
            "Change against the previous period ({})",
            change::previous_span(p)
        )
        .into(),
    };
    if p.totals.calls == 0 {
        return vec![heading, no_previous_calls(p)];
    }
    if a.totals.calls == 0 {
        return vec![heading, no_calls_now(p)];
    }
    let word = change::period_word(p);
    let mut table = Table::new(&[("", false)]);
    table.columns.extend(period_columns(word));
    for h in change::headline(a, p) {
        table.rows.push(vec![
            cell(Inline::plain(h.label)),
            cell(money_or_dash(h.now, h.decimals)),
            cell(money_or_dash(h.before, h.decimals)),
            cell(Inline::plain(h.change())),
        ]);
    }
    let mut blocks = vec![heading, Block::Table(table)];
    for note in [
        change::partial_coverage_now(a, p),
        change::gaps_now(a, p),
        change::partial_coverage(p),
    ]
    .into_iter()
    .flatten()
    {
        blocks.push(Block::Note(vec![Inline::plain(format!("Note: {note}."))]));
    }
    blocks
}

/// A period reviewed with no call in it (its logs not there yet): no
/// change to give (hunt87: "-100%" on every row).
fn no_calls_now<'a>(p: &PreviousPeriod) -> Block<'a> {
    Block::Note(vec![Inline::plain(format!(
        "n/a — no calls in this {} (are its logs in the inputs?).",
        change::period_word(p)
    ))])
}

fn no_previous_calls<'a>(p: &PreviousPeriod) -> Block<'a> {
    Block::Note(vec![Inline::plain(format!(
        "{}.",
        change::no_previous_calls(p)
    ))])
}

/// "this month", "previous month", "change".
fn period_columns(word: &str) -> [Column; 3] {
    let numeric = |title: String| Column {
        title: title.into(),
        numeric: true,
    };
    [
        numeric(format!("this {word}")),
        numeric(format!("previous {word}")),
        numeric("change".into()),
    ]
}

/// Month over month (or period over period) per feature and per model;
/// `more` says how many rows a table leaves out, in the table or in a
/// block after it.
fn change_section<'a>(
    a: &Audit,
    p: &PreviousPeriod,
    more: impl Fn(&mut Table, usize) -> Option<Block<'a>>,
) -> Section<'a> {
    let mut s = Section::new(Some("month-over-month"), change::section_title(p));
    if p.totals.calls == 0 {
        s.blocks.push(no_previous_calls(p));
        return s;
    }
    if a.totals.calls == 0 {
        s.blocks.push(no_calls_now(p));
        return s;
    }
    let word = change::period_word(p);
    for (dimension, rows) in change::tables(a, p) {
        let mut table = Table::new(&[(dimension, false)]);
        table.columns.extend(period_columns(word));
        // The rows that changed most, in the table's order (by this
        // period's spend): a feature that fell to nothing is the month's
        // news, not the last of a long tail (hunt61).
        let mut shown: Vec<usize> = (0..rows.len()).collect();
        if rows.len() > TOP {
            shown.sort_by(|&i, &j| {
                let change = |r: &change::ChangeRow| (r.now - r.before).abs();
                change(&rows[j]).cmp(&change(&rows[i])).then(i.cmp(&j))
            });
            shown.truncate(TOP);
            shown.sort_unstable();
        }
        for r in shown.iter().map(|&i| &rows[i]) {
            table.rows.push(vec![
                cell(Inline::Label(r.key.clone())),
                priced_or_not(r.now, r.unpriced_now),
                priced_or_not(r.before, r.unpriced_before),
                cell(Inline::plain(r.change())),
            ]);
        }
        let omitted = rows.len().saturating_sub(TOP);
        let after = (omitted > 0).then(|| more(&mut table, omitted)).flatten();
        s.blocks.push(Block::Table(table));
        s.blocks.extend(after);
    }
    s
}

/// The waterfall's steps, after a first row with the spend they start
/// from; `findings` is the last column, `findings_cell` fills it.
fn savings_table(
    w: &Waterfall,
    findings: (&'static str, bool),
    findings_cell: impl Fn(&Step) -> Cell,
) -> Table {
    let mut table = Table::new(&[
        ("lever", false),
        ("saves", true),
        ("spend left", true),
        findings,
    ]);
    table.rows.push(vec![
        cell(Inline::Emphasis(vec![Inline::plain("spend")])),
        Vec::new(),
        cell(Inline::Money(w.spend, 2)),
        Vec::new(),
    ]);
    for s in &w.steps {
        table.rows.push(vec![
            cell(Inline::plain(s.label)),
            cell(Inline::Money(s.savings, 2)),
            cell(Inline::Money(s.remaining, 2)),
            findings_cell(s),
        ]);
    }
    table
}

/// The waterfall when the findings save anything.
fn savings(a: &Audit) -> Option<&Waterfall> {
    a.savings.as_ref().filter(|w| w.total_savings > Money::ZERO)
}

/// "{lead}**$X** of $Y (Z%{tail}": what the levers save of the spend.
fn savings_sentence(w: &Waterfall, lead: &'static str, tail: &'static str) -> Vec<Inline> {
    vec![
        Inline::plain(lead),
        Inline::Strong(vec![Inline::Money(w.total_savings, 2)]),
        Inline::plain(" of "),
        Inline::Money(w.spend, 2),
        Inline::plain(" ("),
        Inline::Share(w.total_savings.to_f64(), w.spend.to_f64()),
        Inline::plain(tail),
    ]
}

fn savings_notes<'a>(w: &Waterfall) -> impl Iterator<Item = Block<'a>> + '_ {
    w.notes
        .iter()
        .map(|n| Block::Note(vec![Inline::plain("Note: "), Inline::Label(n.clone())]))
}

fn files_table(a: &Audit) -> Table {
    let mut table = Table::new(&[
        ("file", false),
        ("encoding", false),
        ("format", false),
        ("lines", true),
        ("calls", true),
        ("rejected", true),
    ]);
    // Files with rejected lines first, then in their order; past
    // `LISTED`, one row of the rest (hunt77: 20,000 clean one-call files
    // were 20,000 rows).
    let mut files: Vec<_> = a.input.files.iter().collect();
    if files.len() > LISTED {
        files.sort_by_key(|f| f.rejected == 0);
    }
    for f in files.iter().take(LISTED) {
        table.rows.push(vec![
            cell(Inline::Label(f.file.clone())),
            cell(Inline::plain(f.encoding.clone())),
            cell(Inline::plain(f.format.clone())),
            cell(Inline::Count(f.lines)),
            cell(Inline::Count(f.records)),
            cell(Inline::Count(f.rejected)),
        ]);
    }
    if files.len() > LISTED {
        let rest = &files[LISTED..];
        let sum = |get: fn(&&tokenaudit_analyze::audit::FileRow) -> u64| -> u64 {
            rest.iter().map(get).sum()
        };
        table.rows.push(vec![
            cell(Inline::Emphasis(vec![
                Inline::Count(rest.len() as u64),
                Inline::plain(" more files"),
            ])),
            Vec::new(),
            Vec::new(),
            cell(Inline::Count(sum(|f| f.lines))),
            cell(Inline::Count(sum(|f| f.records))),
            cell(Inline::Count(sum(|f| f.rejected))),
        ]);
    }
    table
}

/// Counts per reason code: "`code`: n".
fn reason_list<'a>(counts: &std::collections::BTreeMap<String, u64>) -> Block<'a> {
    Block::List(
        counts
            .iter()
            .map(|(reason, n)| {
                vec![
                    Inline::code(reason.clone()),
                    Inline::plain(": "),
                    Inline::Count(*n),
                ]
            })
            .collect(),
    )
}

/// The data quality section's opening: the files read, and how many
/// lines were rejected, for what (under `heading`, if given).
/// "N calls (p%) have no `what`", in bold.
fn lacking(n: u64, calls: u64, what: &str) -> Inline {
    let (call, have) = if n == 1 {
        ("call", "has")
    } else {
        ("calls", "have")
    };
    Inline::Strong(vec![
        Inline::Count(n),
        Inline::plain(format!(" {call} (")),
        Inline::Share(n as f64, calls as f64),
        Inline::plain(format!(") {have} no {what}")),
    ])
}

/// Calls with no feature (one row in every table and finding, named
/// `(none)`, which reads like a feature of its own) and calls read without
/// a time (in the totals but in no day): said in the Markdown report and
/// on the page alike (hunt61: the page said neither).
fn unattributed(a: &Audit) -> Vec<Block<'static>> {
    let mut out = Vec::new();
    // Calls with no feature: one row in every table and finding, named
    // `(none)`, which reads like a feature of its own.
    let featureless = a
        .dim("feature")
        .iter()
        .find(|r| r.key == tokenaudit_analyze::accumulate::NONE)
        .map(|r| r.stats.calls)
        .filter(|&n| n > 0 && n < a.totals.calls);
    if let Some(n) = featureless {
        out.push(Block::Paragraph(vec![
            lacking(n, a.totals.calls, "feature"),
            Inline::plain(": they are one row, "),
            Inline::code("(none)"),
            Inline::plain(
                ", in every table and finding. If another field names what they are for, ",
            ),
            Inline::code("[attribution] feature"),
            Inline::plain(" reads it (a tag, the route, the team or the user)."),
        ]));
    }
    // Calls read without a time (some of them: none is a missing field,
    // below): in the totals but in no day.
    let undated = a
        .coverage
        .iter()
        .find(|c| c.field == "timestamp")
        .map(|c| a.totals.calls.saturating_sub(c.present))
        .filter(|&n| n > 0 && n < a.totals.calls);
    if let Some(n) = undated {
        out.push(Block::Paragraph(vec![
            lacking(n, a.totals.calls, "time"),
            Inline::plain(
                ": they are in the totals but in no day of the daily tables and charts, are priced at the catalog's current prices, and a ",
            ),
            Inline::code("--since"),
            Inline::plain("/"),
            Inline::code("--until"),
            Inline::plain(" window leaves them out. If another field holds their time, "),
            Inline::code("[mapping] timestamp"),
            Inline::plain(" reads it."),
        ]));
    }
    out
}

fn data_quality<'a>(a: &Audit, heading: Option<&'static str>) -> Section<'a> {
    let mut s = Section::new(Some("data-quality"), "Data quality");
    s.blocks.push(Block::Table(files_table(a)));
    for f in &a.input.files {
        if let Some(earlier) = &f.same_content_as {
            s.blocks.push(Block::Paragraph(vec![
                Inline::Strong(vec![Inline::plain("Counted twice:")]),
                Inline::plain(" "),
                Inline::Label(f.file.clone()),
                Inline::plain(" holds the same text as "),
                Inline::Label(earlier.clone()),
                Inline::plain(" once decompressed and unwrapped, so "),
                Inline::plain(if f.counted < f.records { "" } else { "its " }),
                Inline::Count(f.counted),
                Inline::plain(if f.counted < f.records {
                    format!(
                        " of its {} calls (those in the period or the one it is compared with) are",
                        f.records
                    )
                } else {
                    " calls are".to_string()
                }),
                Inline::plain(" in the totals a second time; leave one out of the inputs."),
            ]));
        }
    }
    let repeated = a.input.repeated_calls;
    if repeated.calls > 0 {
        s.blocks.push(Block::Paragraph(vec![
            Inline::Strong(vec![Inline::plain("Logged twice:")]),
            Inline::plain(if repeated.estimated { " about " } else { " " }),
            Inline::Count(repeated.calls),
            Inline::plain(format!(" {}", repeated.said())),
            Inline::plain(
                " (overlapping exports, a copied log, one response logged twice), in the totals a second time.",
            ),
        ]));
    }
    if a.input.rejected == 0 {
        s.blocks.push(Block::Paragraph(vec![Inline::plain(
            "No line was rejected.",
        )]));
    } else {
        if let Some(text) = heading {
            s.blocks.push(Block::Heading {
                id: None,
                text: text.into(),
            });
        }
        s.blocks.push(Block::Paragraph(vec![
            Inline::Strong(rejected_inlines(&a.input)),
            Inline::plain(" ("),
            Inline::code("--strict"),
            Inline::plain(" makes this an error):"),
        ]));
        s.blocks.push(reason_list(&a.input.rejected_by_reason));
        if let Some((n, said)) = a.input.summed() {
            s.blocks.push(Block::Paragraph(vec![
                Inline::Count(n),
                Inline::plain(format!(" {said}.")),
            ]));
        }
    }
    if a.input.fields_ignored > 0 {
        s.blocks.push(Block::Paragraph(vec![
            Inline::Strong(vec![
                Inline::Count(a.input.fields_ignored),
                Inline::plain(noun(
                    a.input.fields_ignored,
                    " call read without a field",
                    " calls read without a field",
                )),
            ]),
            Inline::plain(
                " whose value had the wrong type (or was a cost below zero, a time before 2015, or no input count beside the output): they are counted and priced, with that field left empty, or, for text that was not UTF-8, kept with its bad bytes shown as � (",
            ),
            Inline::code("field_ignored"),
            Inline::plain(" below; "),
            Inline::code("--strict"),
            Inline::plain(" makes this an error)."),
        ]));
    }
    s
}

/// The calls outside the window, those of the period it is compared with
/// apart (hunt116: a review's previous month "left out", though it is the
/// review's comparison).
fn outside_window<'a>(a: &Audit) -> Option<Block<'a>> {
    let outside = a.input.outside_window;
    let compared = a
        .previous
        .as_ref()
        .map_or(0, |p| p.totals.calls)
        .min(outside);
    (outside > 0).then(|| {
        Block::Paragraph(if compared == 0 {
            vec![
                Inline::Count(outside),
                Inline::plain(
                    " calls fell outside the time window, or had no time to place them in it, and were left out.",
                ),
            ]
        } else if compared == outside {
            vec![
                Inline::Count(outside),
                Inline::plain(noun(
                    outside,
                    " call outside the time window is in the period it is compared with (the change figures).",
                    " calls outside the time window are in the period it is compared with (the change figures).",
                )),
            ]
        } else {
            vec![
                Inline::Count(outside),
                Inline::plain(" calls fell outside the time window: "),
                Inline::Count(compared),
                Inline::plain(" in the period it is compared with (the change figures), and "),
                Inline::Count(outside - compared),
                Inline::plain(" before or after both, or without a time to place them, left out."),
            ]
        })
    })
}

fn unknown_models_table(a: &Audit) -> Table {
    let mut table = Table::new(&[
        ("logged model", false),
        ("provider", false),
        ("calls", true),
        // (The summary's "Calls not priced" counts these: a failed call
        // with nothing to price costs $0 whatever its model, hunt93.)
        ("not priced", true),
        ("input tokens", true),
        ("output tokens", true),
    ]);
    // The most used first (the JSON lists every one, by name): 40,000 of
    // them were a 40,000-row table (hunt77).
    let mut models: Vec<_> = a.unknown_models.iter().collect();
    models.sort_by_key(|m| std::cmp::Reverse(m.stats.calls));
    for m in models.iter().take(LISTED) {
        table.rows.push(vec![
            cell(Inline::Label(m.logged_model.clone())),
            cell(Inline::Label(
                m.logged_provider.clone().unwrap_or_else(|| "–".into()),
            )),
            cell(Inline::Count(m.stats.calls)),
            cell(Inline::Count(m.stats.unpriced_calls)),
            cell(Inline::Count(m.stats.input_tokens)),
            cell(Inline::Count(m.stats.output_tokens)),
        ]);
    }
    if let Some(rest) = rest_of(models.iter().skip(LISTED).map(|m| &m.stats)) {
        table.rows.push(vec![
            more_cell(models.len() - LISTED),
            Vec::new(),
            cell(Inline::Count(rest.calls)),
            cell(Inline::Count(rest.unpriced_calls)),
            cell(Inline::Count(rest.input_tokens)),
            cell(Inline::Count(rest.output_tokens)),
        ]);
    }
    table
}

/// Rows listed in the tables of unknown models and of files, whose rows
/// come from the logs' own variety (the JSON lists them all).
const LISTED: usize = 25;

/// Models the logged provider's prices lack, priced at another provider's.
fn priced_elsewhere<'a>(a: &Audit) -> impl Iterator<Item = Block<'a>> {
    let head = Block::Paragraph(vec![
        Inline::Strong(vec![Inline::plain("Priced at another provider's rates:")]),
        Inline::plain(
            " the catalog has no price from the logged provider for these models, so their calls are priced at the rates of the provider after the arrow (add the logged provider's with ",
        ),
        Inline::code("--prices FILE"),
        Inline::plain("):"),
    ]);
    let list = Block::List(
        a.priced_elsewhere
            .iter()
            .map(|m| {
                vec![
                    Inline::code(m.logged_model.clone()),
                    Inline::plain(" ("),
                    Inline::Label(m.logged_host().unwrap_or_default().to_string()),
                    Inline::plain(") → "),
                    Inline::code(m.resolved.clone().unwrap_or_default()),
                    Inline::plain(": "),
                    Inline::Count(m.stats.calls),
                    Inline::plain(noun(m.stats.calls, " call", " calls")),
                ]
            })
            .collect(),
    );
    let any = !a.priced_elsewhere.is_empty();
    [head, list].into_iter().filter(move |_| any)
}

/// A paragraph per kind of call priced at rates other than its own
/// ([`Audit::priced_at_other_rates`]).
fn priced_at_other_rates<'a>(a: &Audit) -> impl Iterator<Item = Block<'a>> {
    a.priced_at_other_rates().map(|(n, said, _)| {
        Block::Paragraph(vec![Inline::Count(n), Inline::plain(format!(" {said}."))])
    })
}

/// What the prices of the period hold that a reader would otherwise not
/// know (hunt111: a call at twice the list rate, a day's calls 50% dearer,
/// and no word why): calls at a long-context tier, and prices that changed
/// on a date inside the period.
fn pricing_notes<'a>(a: &Audit) -> impl Iterator<Item = Block<'a>> {
    let mut out = Vec::new();
    if a.long_context_calls > 0 {
        out.push(Block::Paragraph(vec![
            Inline::Strong(vec![Inline::plain("Long context:")]),
            Inline::plain(" "),
            Inline::Count(a.long_context_calls),
            Inline::plain(if a.long_context_calls == 1 {
                " call was priced at its model's long-context rates: its prompt (with the cache's tokens) went over the model's threshold, and the whole request is billed at the higher rates ("
            } else {
                " calls were priced at their model's long-context rates: their prompts (with the cache's tokens) went over the model's threshold, and the whole request is billed at the higher rates ("
            }),
            Inline::code("tokenaudit prices show MODEL"),
            Inline::plain(" gives them)."),
        ]));
    }
    if a.us_only_calls + a.us_only_calls_at_global_price > 0 {
        let mut p = vec![
            Inline::Strong(vec![Inline::plain("US-only inference:")]),
            Inline::plain(" "),
        ];
        if a.us_only_calls > 0 {
            p.extend([
                Inline::Count(a.us_only_calls),
                Inline::plain(if a.us_only_calls == 1 {
                    " call ran on US-only inference ("
                } else {
                    " calls ran on US-only inference ("
                }),
                Inline::code("inference_geo: \"us\""),
                Inline::plain(if a.us_only_calls == 1 {
                    ") and was priced at its model's US multiple of every token rate, besides any batch or fast mode's ("
                } else {
                    ") and were priced at their model's US multiple of every token rate, besides any batch or fast mode's ("
                }),
                Inline::code("tokenaudit prices show MODEL"),
                Inline::plain(" gives it)."),
            ]);
        }
        if a.us_only_calls_at_global_price > 0 {
            if a.us_only_calls > 0 {
                p.push(Inline::plain(" "));
            }
            p.extend([
                Inline::Count(a.us_only_calls_at_global_price),
                Inline::plain(if a.us_only_calls_at_global_price == 1 {
                    " call ran on US-only inference on a model the catalog gives no US multiple: it is priced at the global rates (a "
                } else {
                    " calls ran on US-only inference on models the catalog gives no US multiple: they are priced at the global rates (a "
                }),
                Inline::code("--prices"),
                Inline::plain(" file can give a model's "),
                Inline::code("us_multiplier"),
                Inline::plain(")."),
            ]);
        }
        out.push(Block::Paragraph(p));
    }
    if !a.price_changes.is_empty() {
        out.push(Block::Paragraph(vec![
            Inline::Strong(vec![Inline::plain("Price changes:")]),
            Inline::plain(
                " prices that changed between a model's first and last calls, per million tokens; its calls before the date are priced at the old rates, from it on (UTC) at the new:",
            ),
        ]));
        out.push(Block::List(
            a.price_changes
                .iter()
                .map(|c| {
                    vec![
                        Inline::Label(c.model.clone()),
                        Inline::plain(format!(" from {}: {}", c.effective, price_change_text(c))),
                    ]
                })
                .collect(),
        ));
    }
    out.into_iter()
}

/// What changed of a model's prices: each rate before and after, the
/// long-context tier's start, end or change.
fn price_change_text(c: &tokenaudit_analyze::audit::PriceChange) -> String {
    let price = |m: Option<Money>| m.map_or("none".to_string(), |m| format!("${m}"));
    let (a, b) = (&c.before, &c.after);
    let mut parts = Vec::new();
    for (name, label, x, y) in [
        ("input", "input", a.input, b.input),
        ("output", "output", a.output, b.output),
        ("cached_read", "cached read", a.cached_read, b.cached_read),
        (
            "cache_write_5m",
            "cache write (5 min)",
            a.cache_write_5m,
            b.cache_write_5m,
        ),
        (
            "cache_write_1h",
            "cache write (1 h)",
            a.cache_write_1h,
            b.cache_write_1h,
        ),
    ] {
        if c.changed.contains(&name) {
            parts.push(format!("{label} {} → {}", price(x), price(y)));
        }
    }
    if c.changed.contains(&"long_context") {
        let tokens = |n: u64| format!("{} input tokens", crate::text::int(n));
        parts.push(match (a.long_context_above, b.long_context_above) {
            (Some(x), None) => format!("the long-context rates above {} end", tokens(x)),
            (None, Some(y)) => format!("long-context rates above {} start", tokens(y)),
            (Some(x), Some(y)) if x != y => format!(
                "the long-context threshold moves from {} to {}",
                tokens(x),
                tokens(y)
            ),
            _ => "the long-context rates change".to_string(),
        });
    }
    if c.changed.contains(&"other") {
        parts.push("reasoning, audio or web-search rates change".to_string());
    }
    parts.join(", ")
}

/// The fields no call carried and what each prevents; `None` if none.
fn missing_fields<'a>(a: &Audit) -> Option<Block<'a>> {
    let items: Vec<Vec<Inline>> = a
        .missing_fields()
        .map(|c| {
            vec![
                Inline::code(c.field),
                Inline::plain(": "),
                Inline::plain(c.lacking_prevents.unwrap_or("")),
            ]
        })
        .collect();
    (!items.is_empty()).then_some(Block::List(items))
}

/// tokenaudit's own words with `code` in backticks, as inlines.
fn prose(text: &str) -> Vec<Inline> {
    text.split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(i, part)| {
            if i % 2 == 1 {
                Inline::code(part.to_string())
            } else {
                Inline::plain(part.to_string())
            }
        })
        .collect()
}

/// What one rule's coverage says, after its code and name: why it could
/// not run, or the estimated sources it ran on.
fn coverage_line(r: &RuleCoverage) -> Vec<Inline> {
    let mut line = vec![Inline::plain(format!("{} {}: ", r.rule, r.name))];
    if r.status == Status::Disabled {
        // (hunt118: said in audit.json only.)
        line.push(Inline::plain("turned off by the config ("));
        line.push(Inline::code(format!("[rules.{}] enabled = false", r.rule)));
        line.push(Inline::plain(
            "); its findings' tickets stay as they were, neither found nor resolved.",
        ));
        return line;
    }
    if r.status == Status::CouldNotRun {
        line.push(Inline::plain("could not run: "));
        line.extend(prose(r.missing.as_deref().unwrap_or("")));
        line.push(Inline::plain("."));
        return line;
    }
    line.push(Inline::plain("ran on estimated inputs: "));
    let mut first = true;
    for i in &r.inputs {
        for s in i.sources.iter().filter(|s| s.kind != Kind::Logged) {
            if !first {
                line.push(Inline::plain("; "));
            }
            first = false;
            line.push(Inline::plain(format!("{} from ", i.input)));
            line.extend(prose(s.from));
            line.push(Inline::plain(" ("));
            line.push(Inline::Count(s.calls));
            line.push(Inline::plain(format!(
                " calls, {} confidence)",
                confidence(s.confidence)
            )));
        }
    }
    line.push(Inline::plain("."));
    line
}

fn confidence(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

/// The rules that ran on estimated inputs or could not run, from the
/// rules' own declarations (`audit.rule_coverage`); `None` if every rule
/// ran on logged inputs (or none was run).
fn rule_coverage<'a>(a: &Audit) -> Option<Block<'a>> {
    let items: Vec<Vec<Inline>> = a
        .rule_coverage
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                Status::RanOnEstimates | Status::CouldNotRun | Status::Disabled
            )
        })
        .map(coverage_line)
        .collect();
    (!items.is_empty()).then_some(Block::List(items))
}

/// The requests LiteLLM's own cache answered (its `cache_hit` rows), when
/// any: skipped, never priced, and the evidence the response-caching rules
/// cite, counted where the rules' coverage counts its source.
fn gateway_cache_hits<'a>(a: &Audit) -> Option<Block<'a>> {
    let hits = a
        .rule_coverage
        .iter()
        .flat_map(|r| &r.inputs)
        .flat_map(|i| &i.sources)
        .filter(|s| s.via == Via::LitellmCacheHit)
        .map(|s| s.calls)
        .max()
        .filter(|n| *n > 0)?;
    Some(Block::Paragraph(vec![
        Inline::plain("The gateway's cache answered "),
        Inline::Count(hits),
        Inline::plain(" requests (rows with LiteLLM's "),
        Inline::code("cache_hit"),
        Inline::plain(" true or Portkey's "),
        Inline::code("cache_status"),
        Inline::plain(
            " HIT: skipped, never priced); the duplicate-request findings (TA109, TA110) count the repeats it missed.",
        ),
    ]))
}

/// `one` for a count of 1, else `many`.
fn noun(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

fn input_line(a: &Audit) -> Vec<Inline> {
    let i = &a.input;
    let files = i.files.len();
    vec![
        Inline::plain(format!("{files} {}, ", noun(files as u64, "file", "files"))),
        Inline::Count(i.lines),
        Inline::plain(noun(i.lines, " line, ", " lines, ")),
        Inline::Count(i.records),
        Inline::plain(noun(i.records, " call read, ", " calls read, ")),
    ]
    .into_iter()
    .chain(rejected_inlines(i))
    .collect()
}

/// "3 lines rejected", and inputs that could not be read apart (hunt112:
/// "2 lines rejected" of a dangling link and a bzip2 file).
fn rejected_inlines(i: &tokenaudit_analyze::audit::InputReport) -> Vec<Inline> {
    let (lines, unreadable) = i.rejected_split();
    let mut out = Vec::new();
    if lines > 0 || unreadable == 0 {
        out.push(Inline::Count(lines));
        out.push(Inline::plain(noun(
            lines,
            " line rejected",
            " lines rejected",
        )));
    }
    if unreadable > 0 {
        if lines > 0 {
            out.push(Inline::plain(" and "));
        }
        out.push(Inline::Count(unreadable));
        out.push(Inline::plain(noun(
            unreadable,
            " input that could not be read",
            " inputs that could not be read",
        )));
    }
    out
}

fn dates(a: &Audit) -> String {
    match (a.first_call, a.last_call) {
        (Some(f), Some(l)) => format!("{} to {}", f.format("%Y-%m-%d"), l.format("%Y-%m-%d")),
        _ => String::new(),
    }
}

/// Logged cost against computed cost, for calls whose log carries its own
/// (the Markdown and HTML reports alike: hunt125, the HTML never said that
/// unpriced models logged 99% of the bill); amounts to their own places
/// (hunt125: "$0.00" of $0.004).
fn reconciliation<'a>(a: &'a Audit) -> Option<Section<'a>> {
    if a.reconciliation.is_empty() {
        return None;
    }
    let money = |m: Money| Inline::Money(m, m.total_decimals().max(4));
    let mut table = Table::new(&[
        ("model", false),
        ("calls", true),
        ("logged", true),
        ("computed", true),
        ("difference", true),
        ("calls off by more than 1%", true),
    ]);
    for r in &a.reconciliation {
        table.rows.push(vec![
            cell(Inline::Label(r.model.clone())),
            cell(Inline::Count(r.calls)),
            cell(money(r.logged)),
            if r.unpriced {
                cell(Inline::plain("not priced"))
            } else {
                cell(money(r.computed))
            },
            if r.unpriced {
                cell(Inline::plain("–"))
            } else {
                vec![
                    money(r.difference),
                    Inline::plain(" ("),
                    Inline::Share(r.difference.to_f64(), r.computed.to_f64()),
                    Inline::plain(")"),
                ]
            },
            if r.unpriced {
                cell(Inline::plain("–"))
            } else if r.calls_differing == 0 {
                cell(Inline::Count(0))
            } else {
                // Per call, unsigned: a sum that agrees can hide them.
                vec![
                    Inline::Count(r.calls_differing),
                    Inline::plain(" ("),
                    money(r.difference_per_call),
                    Inline::plain(" apart)"),
                ]
            },
        ]);
    }
    let unpriced: Money = a
        .reconciliation
        .iter()
        .filter(|r| r.unpriced)
        .map(|r| r.logged)
        .sum();
    let mut s = Section::new(None, "Logged cost against computed cost");
    let mut intro = vec![Inline::plain(
        "For calls whose log carries its own cost. A difference means the logger's prices or token reading differ from the catalog's.",
    )];
    if unpriced.picos() != 0 {
        intro.extend([
            Inline::plain(" Calls of models the catalog has no price for logged "),
            Inline::Money(unpriced, unpriced.total_decimals()),
            Inline::plain(", which the totals above leave out (see Data quality)."),
        ]);
    }
    s.blocks.push(Block::Paragraph(intro));
    s.blocks.push(Block::Table(table));
    Some(s)
}

/// The Markdown report: every table, most of them in full up to [`TOP`]
/// rows, and the findings as a checklist.
pub(crate) fn text<'a>(a: &'a Audit, info: &RunInfo) -> Report<'a> {
    let t = &a.totals;
    let mut head = vec![vec![
        Inline::Strong(vec![Inline::plain("Calls from")]),
        Inline::plain(" "),
        Inline::plain(calls_period(a)),
    ]];
    if let Some((named, missing)) = change::gaps(a) {
        head.push(vec![
            Inline::Strong(vec![Inline::plain("Gaps")]),
            Inline::plain(format!(
                " no call from {named}: {missing} days the figures leave out (UTC days)"
            )),
        ]);
    }
    if let Some(w) = window(a) {
        head.push(vec![
            Inline::Strong(vec![Inline::plain("Window")]),
            Inline::plain(format!(" {w} (UTC)")),
        ]);
    }
    let mut input = vec![
        Inline::Strong(vec![Inline::plain("Input")]),
        Inline::plain(" "),
    ];
    input.extend(input_line(a));
    head.push(input);
    head.push(vec![
        Inline::Strong(vec![Inline::plain("Prices")]),
        Inline::plain(" tokenaudit catalog "),
        Inline::Label(a.catalog_version.clone()),
        Inline::plain(" (tokenaudit "),
        Inline::Label(info.tool_version.clone()),
        Inline::plain(")"),
    ]);
    let mut sections = Vec::new();

    let mut summary = Section::new(Some("summary"), "Summary");
    let mut figures = Table::new(&[("", false), ("", true)]);
    let mut figure = |label: &'static str, value: Vec<Inline>| {
        figures.rows.push(vec![cell(Inline::plain(label)), value]);
    };
    figure(
        "Total spend",
        vec![Inline::Strong(vec![Inline::Money(
            t.cost,
            t.cost.total_decimals(),
        )])],
    );
    figure("Calls", vec![Inline::Count(t.calls)]);
    figure(
        "Successful calls",
        vec![
            Inline::Count(t.ok_calls),
            Inline::plain(" ("),
            Inline::Share(t.ok_calls as f64, t.calls as f64),
            Inline::plain(")"),
        ],
    );
    // Over the priced calls: an unknown model's cost is not $0.
    let (per_call, per_success) = if t.unpriced_calls > 0 {
        ("Cost per priced call", "Cost per successful priced call")
    } else {
        ("Cost per call", "Cost per successful call")
    };
    figure(
        per_call,
        // No priced call: no average (hunt99: "$0.0000 per priced call").
        vec![money_or_dash(
            (t.calls > t.unpriced_calls).then_some(a.cost_per_call),
            4,
        )],
    );
    figure(per_success, vec![money_or_dash(a.cost_per_success, 4)]);
    figure(
        "Spend on failed calls",
        vec![
            // As precise as the total it is a share of (hunt50: "$0.0013"
            // spent, "$0.00 (100.0%)" of it on failed calls).
            Inline::Money(t.failed_cost, t.cost.total_decimals()),
            Inline::plain(" ("),
            Inline::Share(t.failed_cost.to_f64(), t.cost.to_f64()),
            Inline::plain(")"),
        ],
    );
    if t.unpriced_calls > 0 {
        figure(
            "Calls not priced (unknown model)",
            vec![
                Inline::Strong(vec![Inline::Count(t.unpriced_calls)]),
                Inline::plain(" — see Data quality"),
            ],
        );
    }
    // Calls logged twice are in the totals twice: said beside them, not
    // only under Data quality (hunt154: a log and its warehouse copy read
    // together, the spend shown at twice its size on the first screen).
    let repeated = &a.input.repeated_calls;
    if repeated.calls > 0 {
        figure(
            "Calls logged twice (counted twice above)",
            vec![
                Inline::Strong(vec![
                    Inline::plain(if repeated.estimated { "about " } else { "" }),
                    Inline::Count(repeated.calls),
                ]),
                Inline::plain(" — see Data quality"),
            ],
        );
    }
    summary.blocks.push(Block::Table(figures));
    if let Some(p) = &a.previous {
        summary.blocks.extend(previous_headline(a, p));
    }
    summary.blocks.push(Block::Table(token_table(
        a,
        [
            "Input, uncached",
            "Input, cached read",
            "Input, cache write",
            "Output (visible)",
            "Output, reasoning",
        ],
    )));
    summary.blocks.push(Block::Paragraph(vec![
        Inline::plain("Cached reads are "),
        Inline::Share(t.cached_read_tokens as f64, t.input_tokens as f64),
        Inline::plain(" of input tokens."),
    ]));
    sections.push(summary);

    if let Some(p) = &a.previous {
        // Rows past the first ones are counted in a closing row.
        sections.push(change_section(a, p, |table, more| {
            let mut row = vec![cell(Inline::Emphasis(vec![Inline::plain(format!(
                "{more} more (audit-change.csv)"
            ))]))];
            row.resize(4, Vec::new());
            table.rows.push(row);
            None
        }));
    }

    if let Some(w) = savings(a) {
        let mut s = Section::new(Some("savings"), "Savings");
        s.blocks.push(Block::Paragraph(savings_sentence(
            w,
            "Acting on the findings below would have saved ",
            ") over this period. Each lever is applied to what the levers before it left, \
             so overlapping savings are counted once.",
        )));
        s.blocks
            .push(Block::Table(savings_table(w, ("findings", true), |s| {
                cell(Inline::plain(s.findings.len().to_string()))
            })));
        s.blocks.extend(savings_notes(w));
        sections.push(s);
    }

    if !a.findings.is_empty() || a.findings_below_min_savings > 0 {
        let mut s = Section::new(Some("findings"), "Findings");
        let mut intro = vec![
            Inline::plain(format!("{}; ", findings_count(a.findings.len()))),
            Inline::code("tokenaudit rules CODE"),
            Inline::plain(" explains each rule. Savings are per 30-day month."),
        ];
        if a.findings_below_min_savings > 0 {
            intro.extend([
                Inline::plain(format!(
                    " {} more would each save less than the threshold (",
                    a.findings_below_min_savings
                )),
                Inline::code("[detect] min_savings"),
                Inline::plain(": "),
                Inline::Money(a.min_savings, 2),
                Inline::plain(" a month) and are not listed; lower it to see them."),
            ]);
        }
        s.blocks.push(Block::Paragraph(intro));
        if !a.findings.is_empty() {
            s.blocks.push(Block::Findings(&a.findings));
        }
        sections.push(s);
    }

    if let Some(table) = dim_table(a, "feature", TOP) {
        let mut s = Section::new(None, "Spend by feature");
        // Said where it is not the logged feature (hunt118: teams were
        // listed as features, and the findings' scopes said `feature:`).
        if let Some(from) = &a.feature_from {
            s.blocks.push(Block::Paragraph(vec![
                Inline::plain("A call's feature here is its "),
                Inline::plain(match from.strip_prefix("tag:") {
                    Some(key) => format!("tag {key:?}"),
                    None => from.clone(),
                }),
                Inline::plain(" ("),
                Inline::code(format!("[attribution] feature = {from:?}")),
                Inline::plain("), in every table, finding and budget."),
            ]));
        }
        s.blocks.push(Block::Table(table));
        sections.push(s);
    }
    let mut table_section = |title: &'static str, table: Table, note: Option<&'static str>| {
        let mut s = Section::new(None, title);
        s.blocks.push(Block::Table(table));
        if let Some(note) = note {
            s.blocks.push(Block::Note(vec![Inline::plain(note)]));
        }
        sections.push(s);
    };
    // Titled even when empty, as the Markdown report always was.
    if a.by.iter().any(|d| d.dimension == "model") {
        table_section("Model mix", model_table(a), None);
    }
    if !a.feature_model.is_empty() {
        table_section("Feature × model", feature_model_table(a), None);
    }
    for (name, title, limit) in [
        ("provider", "Spend by provider", TOP),
        ("team", "Spend by team", TOP),
        ("route", "Spend by route", TOP),
        ("user", "Top users", 10),
        ("session", "Top sessions", 10),
    ] {
        if unused(a.dim(name)) {
            continue;
        }
        if let Some(table) = dim_table(a, name, limit) {
            table_section(title, table, None);
        }
    }
    if !a.tags.is_empty() {
        let table = stats_table(
            "tag",
            &a.tags,
            t,
            TOP,
            (
                a.tags_distinct.saturating_sub(a.tags.len() as u64),
                a.tags_omitted,
            ),
        );
        // (hunt104: shares summing to 300% went unexplained; hunt105: said
        // also when they summed to 100%.)
        let tagged: i128 =
            a.tags.iter().map(|r| r.stats.cost.picos()).sum::<i128>() + a.tags_omitted.cost.picos();
        let note = (tagged > a.totals.cost.picos()).then_some(
            "A call counts under each of its tags, so the shares of tags of different names add up to more than 100%.",
        );
        table_section("Spend by tag", table, note);
    }
    if !a.daily.is_empty() {
        let mut table = Table::new(&[
            ("day (UTC)", false),
            ("calls", true),
            ("spend", true),
            ("failed spend", true),
            ("top model that day", false),
        ]);
        for d in &a.daily {
            let top = a.daily_by_model.iter().find(|r| r.day == d.day);
            table.rows.push(vec![
                cell(Inline::plain(d.day.to_string())),
                cell(Inline::Count(d.stats.calls)),
                cell(Inline::Money(d.stats.cost, 2)),
                cell(Inline::Money(d.stats.failed_cost, 2)),
                top.map_or(cell(Inline::plain("")), |r| {
                    vec![
                        Inline::Label(r.key.clone()),
                        Inline::plain(" ("),
                        Inline::Money(r.stats.cost, 2),
                        Inline::plain(")"),
                    ]
                }),
            ]);
        }
        table_section("Daily spend", table, None);
    }
    if !a.failures.is_empty() {
        table_section("Failed calls", failures_table(a), None);
    }
    if !a.most_expensive_calls.is_empty() {
        table_section("Most expensive calls", expensive_table(a, false), None);
    }
    sections.extend(reconciliation(a));

    let mut s = data_quality(a, None);
    if !a.input.rejected_samples.is_empty() {
        s.blocks.push(Block::Paragraph(vec![Inline::plain(
            "First rejected lines:",
        )]));
        s.blocks.push(Block::List(
            a.input
                .rejected_samples
                .iter()
                .map(|r| {
                    let at = if r.line == 0 {
                        String::new()
                    } else {
                        format!(":{}", r.line)
                    };
                    vec![
                        Inline::Label(r.file.clone()),
                        Inline::plain(format!("{at} — ")),
                        Inline::code(r.reason.to_string()),
                        Inline::plain(": "),
                        Inline::Label(r.detail.clone()),
                    ]
                })
                .collect(),
        ));
    }
    if a.input.skipped > 0 {
        s.blocks.push(Block::Paragraph(vec![
            Inline::Count(a.input.skipped),
            Inline::plain(noun(
                a.input.skipped,
                " line skipped as not a new call (not an error):",
                " lines skipped as not new calls (not errors):",
            )),
        ]));
        s.blocks.push(reason_list(&a.input.skipped_by_reason));
    }
    s.blocks.extend(outside_window(a));
    if !a.unknown_models.is_empty() {
        s.blocks.push(Block::Paragraph(vec![
            Inline::Strong(vec![Inline::plain("Models not in the price catalog")]),
            Inline::plain(" — their calls are counted but not priced (add them with "),
            Inline::code("--prices FILE"),
            Inline::plain("):"),
        ]));
        s.blocks.push(Block::Table(unknown_models_table(a)));
    }
    s.blocks.extend(priced_elsewhere(a));
    s.blocks.extend(priced_at_other_rates(a));
    s.blocks.extend(pricing_notes(a));
    s.blocks.extend(unattributed(a));
    if let Some(list) = missing_fields(a) {
        s.blocks.push(Block::Paragraph(vec![
            Inline::Strong(vec![Inline::plain("Fields no call carried")]),
            Inline::plain(", and what that prevents:"),
        ]));
        s.blocks.push(list);
    }
    if let Some(list) = rule_coverage(a) {
        s.blocks.push(Block::Paragraph(vec![
            Inline::Strong(vec![Inline::plain("Rule coverage")]),
            Inline::plain(" — rules that ran on estimated inputs, could not run on this input, or were turned off:"),
        ]));
        s.blocks.push(list);
    }
    s.blocks.extend(gateway_cache_hits(a));
    s.blocks.extend(sampling_note(a));
    s.blocks.push(Block::Paragraph(vec![
        Inline::plain("Model names as logged and how they resolved are in "),
        Inline::code("audit-model-names.csv"),
        Inline::plain(
            "; every table in full is in the CSV files and ",
        ),
        Inline::code("audit.json"),
        Inline::plain(
            ", but for users, sessions and tags: their 1,000 most expensive, and the rest summed in one row.",
        ),
    ]));
    sections.push(s);

    Report {
        title: "AI cost audit",
        dates: dates(a),
        head: vec![Block::List(head)],
        nav: Vec::new(),
        sections,
        // (hunt181: rows of $1.005 shown as $1.01 did not add up to the
        // total, unsaid.)
        footer: vec![
            Inline::plain("Money is computed exactly and rounded to the cent here, so a table's rows may not add up to its total to the cent; "),
            Inline::code("audit.json"),
            Inline::plain(" and the CSV files carry exact figures and every row."),
        ],
    }
}

/// The HTML page: headline cards, the savings waterfall, the charts of
/// where the money goes, the top rows of the main tables, the findings in
/// full and the data quality.
pub(crate) fn page<'a>(a: &'a Audit, info: &RunInfo) -> Report<'a> {
    let t = &a.totals;
    let dates = dates(a);
    let mut meta = vec![Inline::plain(format!("Calls from {}.\n", calls_period(a)))];
    if let Some(w) = window(a) {
        meta.push(Inline::plain(format!(" Window {w} (UTC).")));
    }
    if let Some((named, missing)) = change::gaps(a) {
        meta.push(Inline::plain(format!(
            " Gaps: no call from {named}: {missing} days the figures leave out (UTC days)."
        )));
    }
    meta.push(Inline::plain(" "));
    meta.extend(input_line(a));
    meta.extend([
        Inline::plain(". Prices: tokenaudit catalog "),
        Inline::Label(a.catalog_version.clone()),
        Inline::plain(" (tokenaudit "),
        Inline::Label(info.tool_version.clone()),
        Inline::plain(")."),
    ]);
    let mut sections = Vec::new();

    let mut summary = Section::new(Some("summary"), "Summary");
    let mut cards = vec![
        Card {
            label: "Total spend",
            // Four decimals under a dollar (`Money::to_total_string`).
            value: vec![Inline::Money(t.cost, t.cost.total_decimals())],
            sub: if t.unpriced_calls > 0 {
                vec![
                    Inline::Count(t.unpriced_calls),
                    Inline::plain(noun(
                        t.unpriced_calls,
                        " call not priced",
                        " calls not priced",
                    )),
                ]
            } else {
                vec![Inline::plain(dates.clone())]
            },
            good: false,
        },
        Card {
            label: "Calls",
            value: vec![Inline::Count(t.calls)],
            // Calls logged twice are in the totals twice: said here, as in
            // the Markdown's summary (hunt155).
            sub: if a.input.repeated_calls.calls > 0 {
                let r = &a.input.repeated_calls;
                vec![
                    Inline::plain(if r.estimated { "about " } else { "" }),
                    Inline::Count(r.calls),
                    Inline::plain(" logged twice, counted twice (see Data quality)"),
                ]
            } else {
                vec![
                    Inline::Share(t.ok_calls as f64, t.calls as f64),
                    Inline::plain(" successful"),
                ]
            },
            good: false,
        },
        Card {
            label: "Cost per request",
            value: vec![money_or_dash((t.calls > 0).then_some(a.cost_per_call), 4)],
            sub: vec![Inline::plain("spend ÷ priced calls")],
            good: false,
        },
        Card {
            label: "Cost per successful call",
            value: vec![money_or_dash(a.cost_per_success, 4)],
            sub: vec![Inline::plain("failures included")],
            good: false,
        },
        Card {
            label: "Spend on failed calls",
            value: vec![Inline::Money(t.failed_cost, t.cost.total_decimals())],
            sub: vec![
                Inline::Share(t.failed_cost.to_f64(), t.cost.to_f64()),
                Inline::plain(" of spend"),
            ],
            good: false,
        },
    ];
    if let Some(w) = savings(a) {
        cards.push(Card {
            label: "Avoidable spend",
            value: vec![Inline::Money(w.total_savings, 2)],
            sub: vec![
                Inline::Share(w.total_savings.to_f64(), w.spend.to_f64()),
                // The findings whose levers save it, not all of them.
                Inline::plain(format!(
                    " of spend, from {}",
                    findings_count(
                        w.steps
                            .iter()
                            .filter(|s| s.savings > Money::ZERO)
                            .flat_map(|s| &s.findings)
                            .collect::<std::collections::BTreeSet<_>>()
                            .len()
                    )
                )),
            ],
            good: true,
        });
    }
    summary.blocks.push(Block::Cards(cards));
    if let Some(p) = &a.previous {
        summary.blocks.extend(previous_headline(a, p));
    }
    summary.blocks.push(Block::Table(token_table(
        a,
        chart::TOKEN_KINDS.map(|k| k.0),
    )));
    sections.push(summary);

    if let (Some(w), Some(chart)) = (savings(a), chart::waterfall(a)) {
        let mut s = Section::new(Some("savings"), "Savings");
        s.blocks.push(Block::Paragraph(savings_sentence(
            w,
            "Acting on the findings would have saved ",
            ") over this period.",
        )));
        s.blocks.push(Block::Chart(chart));
        s.blocks
            .push(Block::Table(savings_table(w, ("findings", false), |s| {
                let mut links = Vec::new();
                for fp in &s.findings {
                    if !links.is_empty() {
                        links.push(Inline::plain(" "));
                    }
                    let rule = a
                        .findings
                        .iter()
                        .find(|f| &f.fingerprint == fp)
                        .map_or("finding", |f| f.rule);
                    links.push(Inline::FindingLink {
                        fingerprint: fp.clone(),
                        rule,
                    });
                }
                links
            })));
        s.blocks.extend(savings_notes(w));
        sections.push(s);
    }

    let mut s = Section::new(Some("spend"), "Where the money goes");
    s.blocks
        .extend(chart::spend_charts(a).into_iter().map(Block::Chart));
    if a.daily.is_empty() {
        s.blocks.push(Block::Note(vec![Inline::plain(
            "No call carried a timestamp, so there is no daily series.",
        )]));
    }
    sections.push(s);

    if let Some(p) = &a.previous {
        // Rows past the first ones are counted in a note under the table.
        sections.push(change_section(a, p, |_, more| {
            Some(Block::Note(vec![
                Inline::plain(format!("{more} more in ")),
                Inline::code("audit-change.csv"),
                Inline::plain("."),
            ]))
        }));
    }

    let mut s = Section::new(Some("tables"), "Top features, models, users and calls");
    let mut sub_table = |title: &'static str, table: Table| {
        s.blocks.push(Block::Heading {
            id: None,
            text: title.into(),
        });
        s.blocks.push(Block::Table(table));
    };
    if let Some(table) = dim_table(a, "feature", TOP) {
        sub_table("Features", table);
    }
    if !a.dim("model").is_empty() {
        sub_table("Models", model_table(a));
    }
    if !a.feature_model.is_empty() {
        sub_table("Feature × model", feature_model_table(a));
    }
    if !(a.dim("user").is_empty() || unused(a.dim("user"))) {
        // The table closes with every user not shown.
        if let Some(table) = dim_table(a, "user", 10) {
            sub_table("Users", table);
        }
    }
    if !a.most_expensive_calls.is_empty() {
        sub_table("Most expensive calls", expensive_table(a, true));
    }
    if !a.failures.is_empty() {
        sub_table("Failed calls", failures_table(a));
    }
    sections.push(s);

    let mut s = Section::new(Some("findings"), "Findings");
    if a.findings.is_empty() && a.findings_below_min_savings > 0 {
        // (hunt89: "No waste found." where the Markdown said a finding was
        // held under the floor.)
        s.blocks.push(Block::Paragraph(vec![Inline::plain(format!(
            "No finding saves the threshold ([detect] min_savings: ${} a month); {} under it {} not listed.",
            a.min_savings,
            findings_count(a.findings_below_min_savings as usize),
            if a.findings_below_min_savings == 1 { "is" } else { "are" }
        ))]));
    } else if a.findings.is_empty() {
        s.blocks
            .push(Block::Paragraph(vec![Inline::plain("No waste found.")]));
    } else {
        s.blocks.push(Block::Paragraph(vec![
            Inline::plain(format!(
                "{}, most savings first. Savings are per 30-day month; ",
                findings_count(a.findings.len())
            )),
            Inline::code("tokenaudit rules CODE"),
            Inline::plain(" explains each rule."),
        ]));
        let mut table = Table::new(&[
            ("rule", false),
            ("severity", false),
            ("finding", false),
            ("saves / month", true),
        ]);
        for f in &a.findings {
            table.rows.push(vec![
                cell(Inline::FindingLink {
                    fingerprint: f.fingerprint.clone(),
                    rule: f.rule,
                }),
                cell(Inline::Severity(f.severity.as_str())),
                cell(Inline::Label(f.title.clone())),
                cell(money_or_dash(f.savings.as_ref().map(|s| s.monthly), 2)),
            ]);
        }
        s.blocks.push(Block::Table(table));
        s.blocks.push(Block::Findings(&a.findings));
    }
    sections.push(s);
    sections.extend(reconciliation(a));

    let mut s = data_quality(a, Some("Rejected lines"));
    if !a.input.rejected_samples.is_empty() {
        let mut table = Table::new(&[("where", false), ("reason", false), ("detail", false)]);
        for r in &a.input.rejected_samples {
            let mut at = cell(Inline::Label(r.file.clone()));
            if r.line != 0 {
                at.push(Inline::plain(format!(":{}", r.line)));
            }
            table.rows.push(vec![
                at,
                cell(Inline::code(r.reason.to_string())),
                cell(Inline::Label(r.detail.clone())),
            ]);
        }
        s.blocks.push(Block::Table(table));
    }
    if a.input.skipped > 0 {
        let mut line = vec![
            Inline::Count(a.input.skipped),
            Inline::plain(noun(
                a.input.skipped,
                " line skipped as not a new call (not an error):",
                " lines skipped as not new calls (not errors):",
            )),
        ];
        for (reason, n) in &a.input.skipped_by_reason {
            line.extend([
                Inline::plain(" "),
                Inline::code(reason.clone()),
                Inline::plain(" "),
                Inline::Count(*n),
            ]);
        }
        s.blocks.push(Block::Paragraph(line));
    }
    s.blocks.extend(outside_window(a));
    if !a.unknown_models.is_empty() {
        s.blocks.push(Block::Heading {
            id: None,
            text: "Models not in the price catalog".into(),
        });
        s.blocks.push(Block::Paragraph(vec![
            Inline::plain("Their calls are counted but not priced; add them with "),
            Inline::code("--prices FILE"),
            Inline::plain("."),
        ]));
        s.blocks.push(Block::Table(unknown_models_table(a)));
    }
    s.blocks.extend(priced_elsewhere(a));
    s.blocks.extend(priced_at_other_rates(a));
    s.blocks.extend(pricing_notes(a));
    s.blocks.extend(unattributed(a));
    if let Some(list) = missing_fields(a) {
        s.blocks.push(Block::Heading {
            id: None,
            text: "Missing fields".into(),
        });
        s.blocks.push(Block::Paragraph(vec![Inline::plain(
            "No call carried these fields, and that prevents:",
        )]));
        s.blocks.push(list);
    }
    if let Some(list) = rule_coverage(a) {
        s.blocks.push(Block::Heading {
            id: None,
            text: "Rule coverage".into(),
        });
        s.blocks.push(Block::Paragraph(vec![Inline::plain(
            "Rules that ran on estimated inputs, could not run on this input, or were turned off:",
        )]));
        s.blocks.push(list);
    }
    s.blocks.extend(gateway_cache_hits(a));
    if !a.coverage.is_empty() && t.calls > 0 {
        let mut table = Table::new(&[
            ("field", false),
            ("calls carrying it", true),
            ("share", true),
        ]);
        for c in &a.coverage {
            table.rows.push(vec![
                cell(Inline::code(c.field)),
                cell(Inline::Count(c.present)),
                cell(Inline::Share(c.present as f64, t.calls as f64)),
            ]);
        }
        s.blocks.push(Block::Heading {
            id: None,
            text: "Field coverage".into(),
        });
        s.blocks.push(Block::Table(table));
    }
    s.blocks.extend(sampling_note(a));
    sections.push(s);

    Report {
        title: "AI cost audit",
        dates,
        head: vec![Block::Paragraph(meta)],
        // The page's sections only (hunt87: "Savings" led nowhere in a
        // month without savings; the month's changes had no link).
        nav: [
            ("summary", "Summary"),
            ("savings", "Savings"),
            ("month-over-month", "Changes"),
            ("spend", "Where it goes"),
            ("tables", "Tables"),
            ("findings", "Findings"),
            ("data-quality", "Data quality"),
        ]
        .into_iter()
        .filter(|(id, _)| sections.iter().any(|s: &Section| s.id == Some(*id)))
        .collect(),
        sections,
        footer: vec![
            Inline::plain("Written by tokenaudit "),
            Inline::Label(info.tool_version.clone()),
            Inline::plain(" with price catalog "),
            Inline::Label(a.catalog_version.clone()),
            Inline::plain(". Money is computed exactly and rounded here for reading; "),
            Inline::code("audit.json"),
            Inline::plain(" and the CSV files carry exact figures and every row."),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Averages are rounded, not cut (hunt102: 1000.67 tokens was 1,000
    /// and 9.67 was 9).
    #[test]
    fn averages_round_to_the_nearest_whole() {
        assert_eq!(avg(3002, 3), 1001);
        assert_eq!(avg(29, 3), 10);
        assert_eq!(avg(28, 3), 9);
        assert_eq!(avg(5, 2), 3);
        assert_eq!(avg(7, 0), 7);
    }

    fn usd_cents(cents: i128) -> Money {
        Money::from_picos(cents * 10_000_000_000)
    }

    fn stats(calls: u64, cents: i128) -> Stats {
        Stats {
            calls,
            ok_calls: calls,
            cost: usd_cents(cents),
            ..Stats::default()
        }
    }

    #[test]
    fn stats_table_closes_with_the_rows_and_keys_not_shown() {
        let row = |key: &str, calls, cents| Row {
            key: key.into(),
            stats: stats(calls, cents),
        };
        let rows = [row("a", 3, 100), row("b", 1, 50), row("c", 2, 25)];
        // Two rows shown; "c" and four keys the audit kept no row for
        // (5 calls, $2.00) are summed in the closing row.
        let total = stats(11, 375);
        let t = stats_table("feature", &rows, &total, 2, (4, stats(5, 200)));
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[0][0], cell(Inline::Label("a".into())));
        let more = &t.rows[2];
        assert_eq!(
            more[0],
            cell(Inline::Emphasis(vec![
                Inline::Count(5),
                Inline::plain(" more")
            ]))
        );
        assert_eq!(more[1], cell(Inline::Count(7)));
        assert_eq!(more[2], cell(Inline::Money(usd_cents(225), 2)));
        assert_eq!(more[3], cell(Inline::Share(2.25, 3.75)));
        assert!(more[4].is_empty() && more[5].is_empty() && more[7].is_empty());
        // hunt61: calls the catalog could not price among them are said,
        // never a bare $0.00.
        let unpriced = Stats {
            unpriced_calls: 501,
            ..stats(501, 0)
        };
        let t = stats_table("feature", &rows, &total, 2, (1, unpriced));
        assert_eq!(
            t.rows[2][2],
            vec![
                Inline::Money(usd_cents(25), 2),
                Inline::plain(" + "),
                Inline::Count(501),
                Inline::plain(" unpriced"),
            ]
        );
        // Nothing left out: no closing row.
        let t = stats_table("feature", &rows, &total, 3, (0, Stats::default()));
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[2][0], cell(Inline::Label("c".into())));
    }
}
