//! The Markdown report: the audit as text fit to paste into a wiki or a pull
//! request. The content is [`model::text`]; this module only writes it.
//! Every log-derived string is escaped (see `text::md`); tokenaudit's own
//! code words go in backticks, but request ids do not, since a code span
//! cannot escape a backtick in untrusted text.

use std::fmt::Write;

use tokenaudit_analyze::detect::Finding;
use tokenaudit_analyze::Audit;

use crate::model::{self, Block, Inline, Report, Table};
use crate::text::{int, md, md_code, pct, tokens};
use crate::RunInfo;

pub fn render(a: &Audit, info: &RunInfo) -> String {
    write(&model::text(a, info))
}

fn write(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", r.title);
    for b in &r.head {
        block(&mut o, b);
    }
    for s in &r.sections {
        let _ = writeln!(o, "## {}\n", s.title);
        for b in &s.blocks {
            block(&mut o, b);
        }
    }
    if !r.footer.is_empty() {
        let _ = writeln!(o, "---\n\n{}\n", inlines(&r.footer));
    }
    // Every block ends with a blank line but the file with one line break.
    while o.ends_with("\n\n") {
        o.pop();
    }
    o
}

fn block(o: &mut String, b: &Block) {
    match b {
        Block::Heading { text, .. } => {
            let _ = writeln!(o, "### {text}\n");
        }
        Block::Paragraph(runs) | Block::Note(runs) => {
            let _ = writeln!(o, "{}\n", inlines(runs));
        }
        Block::List(items) => {
            for item in items {
                let _ = writeln!(o, "- {}", inlines(item));
            }
            o.push('\n');
        }
        Block::Table(t) => table(o, t),
        Block::Findings(findings) => {
            for f in *findings {
                finding(o, f);
            }
            o.push('\n');
        }
        // The page's headline cards and charts have no Markdown form; the
        // text layout holds the same figures as tables.
        Block::Cards(_) | Block::Chart(_) => {}
    }
}

fn table(o: &mut String, t: &Table) {
    // A blank cell (no runs, or a header without a title) is one space wide.
    let row = |o: &mut String, cells: Vec<Option<String>>| {
        o.push('|');
        for c in cells {
            match c {
                Some(text) => {
                    let _ = write!(o, " {text} |");
                }
                None => o.push_str(" |"),
            }
        }
        o.push('\n');
    };
    let titles = t.columns.iter().map(|c| c.title.to_string());
    row(o, titles.map(|t| (!t.is_empty()).then_some(t)).collect());
    o.push('|');
    for c in &t.columns {
        o.push_str(if c.numeric { "---:|" } else { "---|" });
    }
    o.push('\n');
    for r in &t.rows {
        let cells = r.iter().map(|c| (!c.is_empty()).then(|| inlines(c)));
        row(o, cells.collect());
    }
    o.push('\n');
}

fn inlines(runs: &[Inline]) -> String {
    let mut o = String::new();
    for i in runs {
        inline(&mut o, i);
    }
    o
}

fn inline(o: &mut String, i: &Inline) {
    match i {
        Inline::Plain(s) => o.push_str(s),
        Inline::Label(s) | Inline::Id(s) => o.push_str(&md(s)),
        Inline::Code(s) => o.push_str(&md_code(s)),
        Inline::Money(m, decimals) => o.push_str(&m.to_rounded_string(*decimals)),
        Inline::Count(n) => o.push_str(&int(*n)),
        Inline::Tokens(n) => o.push_str(&tokens(*n)),
        Inline::Share(part, whole) => o.push_str(&pct(*part, *whole)),
        Inline::Strong(runs) => {
            let _ = write!(o, "**{}**", inlines(runs));
        }
        Inline::Emphasis(runs) => {
            let _ = write!(o, "*{}*", inlines(runs));
        }
        Inline::FindingLink { rule, .. } => o.push_str(rule),
        Inline::Severity(s) => o.push_str(s),
    }
}

/// A finding as a checklist item: what, where, how sure, what to do, and
/// the figures behind it.
fn finding(o: &mut String, f: &Finding) {
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
            .map(|(k, v)| format!("{k} {}", md(&model::evidence_text(v))))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, Table};

    #[test]
    fn table_cells_are_escaped_and_blank_cells_one_space_wide() {
        let column = |title: &'static str, numeric| Column {
            title: title.into(),
            numeric,
        };
        let t = Table {
            columns: vec![column("", false), column("spend", true)],
            rows: vec![
                vec![
                    vec![Inline::Label("a|b <i>".into())],
                    vec![Inline::Strong(vec![Inline::Count(1234)])],
                ],
                vec![vec![Inline::Emphasis(vec![Inline::plain("spend")])], vec![]],
            ],
        };
        let mut o = String::new();
        table(&mut o, &t);
        assert_eq!(
            o,
            "| | spend |\n|---|---:|\n| a\\|b &lt;i&gt; | **1,234** |\n| *spend* | |\n\n"
        );
    }
}
