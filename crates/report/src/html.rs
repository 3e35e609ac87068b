//! The HTML report: the audit as one page a finance or platform lead reads,
//! on screen or printed, and can forward as a single file. The content is
//! [`model::page`]; this module writes it through maud's templates.
//!
//! The page is self-contained: CSS and the charts (SVG drawn by plotters'
//! SVG backend into strings; the same drawing code makes the PNG charts in
//! [`crate::png`]) are inline; it loads nothing, runs no script and names
//! no external font. Escaping is a property of the types: every string
//! reaches the page through maud, which escapes it, and control characters
//! (not valid in HTML) are dropped on the way ([`Text`]). Only two things
//! are written as markup: the fixed CSS and the SVG that plotters drew
//! (whose text plotters escapes itself). The tests hold both to it with
//! hostile names. Output is a pure function of the `Audit`.

use std::borrow::Cow;

use maud::{html, Markup, PreEscaped, Render, DOCTYPE};
use plotters::prelude::*;

use tokenaudit_analyze::detect::{Confidence, Finding};
use tokenaudit_analyze::Audit;

use crate::chart::{self, Chart, WIDTH};
use crate::model::{self, Block, Card, Inline, Report, Section, Table};
use crate::text::{int, pct, tokens};
use crate::RunInfo;

const CSS: &str = r#"
:root { --ink:#222; --muted:#666; --line:#e2e2e2; --accent:#1f77b4; --saved:#2ca02c; --bg-soft:#f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 0 0 6px; }
.meta { color: var(--muted); margin: 0 0 4px; }
nav { margin: 12px 0 0; font-size: 14px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin: 18px 0 8px; }
.card { background: var(--bg-soft); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 13px; }
.card .value { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .sub { color: var(--muted); font-size: 13px; }
.card.good .value { color: var(--saved); }
figure.chart { margin: 18px 0 26px; }
figure.chart figcaption { font-weight: 650; font-size: 16px; margin-bottom: 6px; }
figure.chart svg { display: block; width: 100%; max-width: 960px; height: auto; }
.legend { list-style: none; padding: 0; margin: 6px 0 0; display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 13px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
.note { color: var(--muted); font-size: 14px; margin: 6px 0 0; }
.scroll { overflow-x: auto; margin: 8px 0 20px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; overflow-wrap: break-word; }
td code, .sev, td a { white-space: nowrap; }
th { background: var(--bg-soft); font-weight: 600; white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:hover { background: #fafbfc; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--bg-soft); padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
.finding { border: 1px solid var(--line); border-left: 4px solid #999; border-radius: 6px; padding: 12px 16px; margin: 14px 0; }
.finding.high { border-left-color: #d62728; }
.finding.medium { border-left-color: #ff7f0e; }
.finding.low { border-left-color: #1f77b4; }
.finding .tags { font-size: 13px; color: var(--muted); margin-bottom: 6px; }
.sev { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff; background: #999; }
.sev.high { background: #d62728; } .sev.medium { background: #e0700b; } .sev.low { background: #1f77b4; }
.finding .saves { font-weight: 650; color: var(--saved); }
dl.evidence { display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 2px 18px; margin: 8px 0; font-size: 13px; }
dl.evidence div { display: flex; gap: 8px; min-width: 0; }
dl.evidence dt { color: var(--muted); }
dl.evidence dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; min-width: 0; }
.finding p { margin: 6px 0; }
ul.plain { padding-left: 20px; }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; border-top: 1px solid var(--line); padding-top: 10px; }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { font-size: 10pt; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  section { break-before: page; }
  section.first { break-before: auto; }
  h2, h3, figcaption { break-after: avoid; }
  figure.chart, .card, .finding, tr, .legend { break-inside: avoid; }
  .scroll { overflow: visible; }
  table { font-size: 8.5pt; }
  thead { display: table-header-group; }
  th, td { padding: 3px 6px; }
  td { overflow-wrap: anywhere; }
  tbody tr:hover { background: none; }
}
"#;

pub fn render(a: &Audit, info: &RunInfo) -> String {
    page(&model::page(a, info)).into_string()
}

fn page(r: &Report) -> Markup {
    html! {
        (DOCTYPE) "\n"
        html lang="en" { "\n"
            head { "\n"
                meta charset="utf-8"; "\n"
                meta name="viewport" content="width=device-width, initial-scale=1"; "\n"
                // Nothing may load from elsewhere, even if a log field slipped through.
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"; "\n"
                meta name="generator" content="tokenaudit"; "\n"
                title { (r.title) " " (Text(&r.dates)) } "\n"
                style { (PreEscaped(CSS)) } "\n"
            } "\n"
            body { "\n"
                main { "\n"
                    header { "\n"
                        h1 { (r.title) } "\n"
                        @for b in &r.head {
                            @if let Block::Paragraph(runs) = b {
                                p.meta { (Runs(runs)) } "\n"
                            } @else {
                                (block(b))
                            }
                        }
                        nav {
                            @for (id, label) in &r.nav {
                                a href={ "#" (id) } { (label) }
                            }
                        } "\n"
                    } "\n"
                    @for (i, s) in r.sections.iter().enumerate() {
                        (section(s, i == 0))
                    }
                    footer { (Runs(&r.footer)) } "\n"
                } "\n"
            } "\n"
        } "\n"
    }
}

fn section(s: &Section, first: bool) -> Markup {
    html! {
        section class=[first.then_some("first")] id=[s.id] { "\n"
            h2 { (Text(&s.title)) } "\n"
            @for b in &s.blocks {
                (block(b))
            }
        } "\n"
    }
}

fn block(b: &Block) -> Markup {
    html! {
        @match b {
            Block::Heading { id, text } => { h3 id=[id] { (Text(text)) } "\n" }
            Block::Paragraph(runs) => { p { (Runs(runs)) } "\n" }
            Block::Note(runs) => { p.note { (Runs(runs)) } "\n" }
            Block::List(items) => {
                ul.plain { "\n"
                    @for item in items {
                        li { (Runs(item)) } "\n"
                    }
                } "\n"
            }
            Block::Table(t) => { (table(t)) }
            Block::Cards(cards) => {
                div.cards { "\n"
                    @for c in cards {
                        (card(c))
                    }
                } "\n"
            }
            Block::Chart(c) => { (figure(c)) }
            Block::Findings(findings) => {
                @for f in *findings {
                    (finding(f))
                }
            }
        }
    }
}

fn table(t: &Table) -> Markup {
    let class = |numeric: bool| numeric.then_some("n");
    html! {
        div.scroll { table { "\n"
            thead { tr {
                @for c in &t.columns {
                    th class=[class(c.numeric)] { (Text(&c.title)) }
                }
            } } "\n"
            tbody { "\n"
                @for row in &t.rows {
                    tr {
                        @for (cell, c) in row.iter().zip(&t.columns) {
                            td class=[class(c.numeric)] { (Runs(cell)) }
                        }
                    } "\n"
                }
            }
        } } "\n"
    }
}

fn card(c: &Card) -> Markup {
    html! {
        div class=(if c.good { "card good" } else { "card" }) {
            div.label { (c.label) }
            div.value { (Runs(&c.value)) }
            div.sub { (Runs(&c.sub)) }
        } "\n"
    }
}

/// A chart as a figure: its caption, the SVG, the legend and the note.
fn figure(c: &Chart) -> Markup {
    let Some(svg) = draw_svg(c) else {
        return html! {};
    };
    html! {
        figure.chart id=(c.id) { "\n"
            figcaption { (c.title) } "\n"
            (svg) "\n"
            @if !c.legend.is_empty() {
                ul.legend {
                    @for (name, color) in &c.legend {
                        li { i style={ "background:" (hex(*color)) } {} (Text(name)) }
                    }
                } "\n"
            }
            @if !c.note.is_empty() {
                p.note { (Runs(&c.note)) } "\n"
            }
        } "\n"
    }
}

fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// Draws a chart with plotters into an SVG element. plotters' own root
/// element carries an `xmlns` URL (inline SVG in HTML needs none), so ours
/// replaces it and adds a title for screen readers. `None` if drawing
/// failed (it only writes to a string, so it does not once the font is
/// registered).
fn draw_svg(c: &Chart) -> Option<Markup> {
    if !chart::register_font() {
        return None;
    }
    let (id, height) = (c.id, c.plot.height());
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, height)).into_drawing_area();
        let drawn: Result<(), Box<dyn std::error::Error>> = (|| {
            root.fill(&WHITE)?;
            c.plot.draw(&root)?;
            root.present()?;
            Ok(())
        })();
        drawn.ok()?;
    }
    let (_, body) = buf.split_once('\n')?;
    let body = body.strip_suffix("</svg>\n")?;
    let title = format!("{id}-t");
    Some(html! {
        svg viewBox={ "0 0 " (WIDTH) " " (height) } width=(WIDTH) height=(height) role="img" aria-labelledby=(title) { "\n"
            title id=(title) { (c.title) } "\n"
            // plotters' drawing: its text is escaped by its SVG backend.
            (PreEscaped(body))
        }
    })
}

fn confidence(c: Confidence) -> &'static str {
    match c {
        Confidence::Low => "low",
        Confidence::Medium => "medium",
        Confidence::High => "high",
    }
}

/// A finding in full: what, where, how sure, the saving, what to do and
/// the figures behind it.
fn finding(f: &Finding) -> Markup {
    let sev = f.severity.as_str();
    html! {
        article class={ "finding " (sev) } id=(model::finding_anchor(&f.fingerprint)) { "\n"
            h3 { (f.rule) " · " (Text(&f.title)) } "\n"
            div.tags {
                span class={ "sev " (sev) } { (sev) }
                " " (f.name) " · confidence " (confidence(f.confidence)) " · "
                @for (i, (k, v)) in f.scope.iter().enumerate() {
                    @if i > 0 { ", " }
                    (Text(k)) " " code { (Text(v)) }
                }
                " · fingerprint " code { (Text(&f.fingerprint)) }
            } "\n"
            @if let Some(s) = &f.savings {
                p {
                    span.saves { "Saves ~" (s.monthly.to_cents_string()) "/month" }
                    " (" (s.observed.to_cents_string()) " over the period). "
                    em { "Estimate:" } " " (Text(&s.method)) "."
                } "\n"
            }
            p { strong { "Recommendation:" } " " (Text(&f.recommendation)) } "\n"
            @if !f.evidence.is_empty() {
                dl.evidence { "\n"
                    @for (k, v) in &f.evidence {
                        div { dt { (Text(k)) } dd { (Text(&model::evidence_text(v))) } } "\n"
                    }
                } "\n"
            }
            @if !f.sample_requests.is_empty() {
                p {
                    "Sample requests: "
                    @for (i, r) in f.sample_requests.iter().enumerate() {
                        @if i > 0 { " " }
                        code { (Text(r)) }
                    }
                } "\n"
            }
            @if !f.sample_prompts.is_empty() {
                p { "Sample prompts:" } "\n"
                ul.prompts { "\n"
                    @for t in &f.sample_prompts {
                        li { q { (Text(t)) } } "\n"
                    }
                } "\n"
            }
        } "\n"
    }
}

/// Text for the page: maud escapes it; control characters other than tab
/// and line breaks (not valid HTML) are shown as visible symbols first
/// (`␟` for U+001F), so labels that differ only by one stay apart.
struct Text<'a>(&'a str);

impl Render for Text<'_> {
    fn render_to(&self, buffer: &mut String) {
        let hidden = |c: char| crate::text::is_hidden(c) && !matches!(c, '\t' | '\n' | '\r');
        let text: Cow<str> = if self.0.chars().any(hidden) {
            let mut out = String::with_capacity(self.0.len() + 8);
            for c in self.0.chars() {
                if hidden(c) {
                    crate::text::push_control(&mut out, c);
                } else {
                    out.push(c);
                }
            }
            out.into()
        } else {
            self.0.into()
        };
        text.as_ref().render_to(buffer);
    }
}

/// Runs of text in a paragraph or a cell.
struct Runs<'a>(&'a [Inline]);

impl Render for Runs<'_> {
    fn render_to(&self, buffer: &mut String) {
        for i in self.0 {
            i.render_to(buffer);
        }
    }
}

impl Render for Inline {
    fn render_to(&self, buffer: &mut String) {
        match self {
            Inline::Plain(s) => Text(s).render_to(buffer),
            Inline::Label(s) => Text(s).render_to(buffer),
            Inline::Id(s) => html! { code { (Text(s)) } }.render_to(buffer),
            Inline::Code(s) => html! { code { (Text(s)) } }.render_to(buffer),
            Inline::Money(m, decimals) => m.to_rounded_string(*decimals).render_to(buffer),
            Inline::Count(n) => int(*n).render_to(buffer),
            Inline::Tokens(n) => tokens(*n).render_to(buffer),
            Inline::Share(part, whole) => pct(*part, *whole).render_to(buffer),
            Inline::Strong(runs) => html! { strong { (Runs(runs)) } }.render_to(buffer),
            Inline::Emphasis(runs) => html! { em { (Runs(runs)) } }.render_to(buffer),
            Inline::FindingLink { fingerprint, rule } => {
                let href = format!("#{}", model::finding_anchor(fingerprint));
                html! { a href=(href) { (rule) } }.render_to(buffer)
            }
            Inline::Severity(s) => html! { span class={ "sev " (s) } { (s) } }.render_to(buffer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_controls_shown() {
        // BEL (U+0007) is shown as its symbol (U+2407); a tab stays.
        let text = "<script>alert('x')</script> & \"q\"\u{7}\tok";
        assert_eq!(
            Text(text).render().into_string(),
            "&lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;q&quot;\u{2407}\tok"
        );
    }

    #[test]
    fn inlines_escape_by_type() {
        let runs = [
            Inline::Label("a<b".into()),
            Inline::Id("r\"1".into()),
            Inline::Strong(vec![Inline::Count(12_345)]),
            Inline::FindingLink {
                fingerprint: "0123456789abcdef".into(),
                rule: "TA101",
            },
        ];
        assert_eq!(
            Runs(&runs).render().into_string(),
            "a&lt;b<code>r&quot;1</code><strong>12,345</strong><a href=\"#f-0123456789abcdef\">TA101</a>"
        );
    }
}
