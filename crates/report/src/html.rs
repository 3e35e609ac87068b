//! The HTML report: the audit as one page a finance or platform lead reads,
//! on screen or printed, and can forward as a single file.
//!
//! The page is self-contained: CSS and the charts (SVG drawn by plotters'
//! SVG backend into strings; the same drawing code makes the PNG charts in
//! [`crate::png`]) are inline; it loads nothing, runs no script
//! and names no external font. Every log-derived string (feature, model,
//! user and file names, finding titles and evidence) is escaped with [`esc`]
//! before it reaches the page; text handed to plotters is escaped by its SVG
//! backend, and the tests hold both to it with a hostile name. Output is a
//! pure function of the `Audit`: colors come from a fixed palette, series
//! order from the audit's sorted tables, and no clock is read.

use std::fmt::Write;

use chrono::NaiveDate;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordi32};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use tokenaudit_analyze::audit::{PreviousPeriod, Row};
use tokenaudit_analyze::{Audit, Stats, NONE};
use tokenaudit_core::Money;

use crate::change;
use crate::text::{calls_period, int, pct, success_rate, tokens, window};
use crate::RunInfo;

/// Rows shown per table; the CSV and JSON outputs have them all.
const TOP: usize = 15;
/// Series drawn on their own in a chart; the rest are summed as "other".
const SERIES: usize = 7;
/// Bars in a bar chart before the rest are summed.
const BARS: usize = 12;

/// The fixed palette (Tableau 10): series colors never depend on the run.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x17, 0xbe, 0xcf),
];
const OTHER: RGBColor = RGBColor(0xb4, 0xb4, 0xb4);
pub(crate) const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
const GRID: RGBColor = RGBColor(0xe8, 0xe8, 0xe8);
const AXIS: RGBColor = RGBColor(0x99, 0x99, 0x99);
const SAVED: RGBColor = RGBColor(0x2c, 0xa0, 0x2c);
const SPEND: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const LEFT: RGBColor = RGBColor(0x6b, 0xa3, 0xd0);
const MARK: RGBColor = RGBColor(0xd6, 0x27, 0x28);

/// Chart width in SVG units; the page scales it to fit.
pub(crate) const WIDTH: u32 = 960;
/// plotters divides font sizes by 1.24 in SVG: 15 gives 12px text.
pub(crate) const FONT: f64 = 15.0;
pub(crate) const FONT_FAMILY: &str = "sans-serif";

/// Escapes text for HTML content and attribute values. Control characters
/// other than tab and line breaks are dropped (they are not valid HTML).
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters, with an ellipsis when cut (chart labels only;
/// tables show names in full).
pub(crate) fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// Dollars for an axis: compact, `$` first.
fn usd_axis(v: f64) -> String {
    let a = v.abs();
    let sign = if v < 0.0 { "-" } else { "" };
    if a < 1e-9 {
        "$0".to_string()
    } else if a >= 1e6 {
        format!("{sign}${:.1}M", a / 1e6)
    } else if a >= 1e4 {
        format!("{sign}${:.0}k", a / 1e3)
    } else if a >= 1e3 {
        format!("{sign}${:.1}k", a / 1e3)
    } else if a >= 10.0 || (a - a.round()).abs() < 1e-9 {
        format!("{sign}${:.0}", a)
    } else if a >= 0.1 {
        format!("{sign}${:.2}", a)
    } else {
        format!("{sign}${:.3}", a)
    }
}

/// Token counts for an axis.
fn tokens_axis(v: f64) -> String {
    if v < 0.5 {
        "0".to_string()
    } else {
        tokens(v.round() as u64)
    }
}

fn day_label(d: NaiveDate) -> String {
    d.format("%b %-d").to_string()
}

/// `n` categories as segments of an axis. plotters' integer ranges include
/// their end, and a one-value range maps every value to the same pixel, so
/// `0..n-1` (or `0..1` for one category, leaving the second segment empty).
fn segments(n: usize) -> SegmentedCoord<RangedCoordi32> {
    (0..(n as i32 - 1).max(1)).into_segmented()
}

/// A chart with what the page shows around it. The drawing is kept as data
/// ([`Plot`]) so the page's SVG and the PNG files ([`crate::png`]) come from
/// the same drawing code on either plotters backend.
pub(crate) struct Chart {
    /// The figure's id in the page, also the PNG's name (`audit-{id}.png`).
    pub(crate) id: &'static str,
    pub(crate) title: &'static str,
    pub(crate) plot: Plot,
    /// Series names (log-derived: escaped when written) and their colors.
    pub(crate) legend: Vec<(String, RGBColor)>,
    /// A sentence under the chart, already HTML.
    note: String,
}

type Drawn = Result<(), Box<dyn std::error::Error>>;

/// What a chart draws, independent of the backend it is drawn on.
pub(crate) enum Plot {
    /// Horizontal bars, with `extra` units of height below them.
    Bars {
        bars: HBars,
        extra: u32,
    },
    Daily(Daily),
    Pareto(Pareto),
    Cache(Cache),
}

impl Plot {
    /// Height in SVG units (pixels in a PNG); the width is [`WIDTH`].
    pub(crate) fn height(&self) -> u32 {
        match self {
            Plot::Bars { bars, extra } => bars.height() + extra,
            Plot::Daily(_) => 380,
            Plot::Pareto(_) => 360,
            Plot::Cache(_) => 320,
        }
    }

    /// Draws the chart on `root`, which is [`WIDTH`] by [`Plot::height`].
    pub(crate) fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        match self {
            Plot::Bars { bars, .. } => bars.draw(root),
            Plot::Daily(d) => d.draw(root),
            Plot::Pareto(p) => p.draw(root),
            Plot::Cache(c) => c.draw(root),
        }
    }
}

/// Registers the embedded font as plotters' `sans-serif` (once per
/// process). plotters lays out text with it on every backend (the SVG's
/// label areas are sized by it) and draws bitmap text with it, so it must
/// be registered before anything is drawn. DejaVu Sans (Bitstream Vera
/// license, `crates/report/fonts/LICENSE-DejaVu`) is embedded so the output
/// never depends on the fonts the machine has.
pub(crate) fn register_font() -> bool {
    static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT).is_ok()
    })
}

/// Draws a chart with plotters into an SVG string and rewrites its root
/// element: plotters' own carries an `xmlns` URL (inline SVG in HTML needs
/// none), and ours adds a title for screen readers. `None` if drawing failed
/// (it only writes to a string, so it does not once the font is registered).
fn draw_svg(c: &Chart) -> Option<String> {
    if !register_font() {
        return None;
    }
    let (id, height) = (c.id, c.plot.height());
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, height)).into_drawing_area();
        let drawn: Drawn = (|| {
            root.fill(&WHITE)?;
            c.plot.draw(&root)?;
            root.present()?;
            Ok(())
        })();
        drawn.ok()?;
    }
    let (_, body) = buf.split_once('\n')?;
    Some(format!(
        "<svg viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-labelledby=\"{id}-t\">\n<title id=\"{id}-t\">{}</title>\n{body}",
        esc(c.title)
    ))
}

fn font() -> TextStyle<'static> {
    (FONT_FAMILY, FONT).into_font().color(&INK)
}

fn small_font() -> TextStyle<'static> {
    (FONT_FAMILY, FONT - 1.0).into_font().color(&INK)
}

/// Width of the label column for the longest of `labels` (plotters estimates
/// about 6.8 units per character at our font size).
fn label_width(labels: &[String]) -> u32 {
    let chars = labels.iter().map(|l| l.chars().count()).max().unwrap_or(4) as u32;
    (chars * 7 + 16).clamp(60, 240)
}

/// The models charts show on their own (most spend first), shared by every
/// chart so a model keeps its color across them.
fn top_models(a: &Audit) -> Vec<&str> {
    a.dim("model")
        .iter()
        .take(SERIES)
        .map(|r| r.key.as_str())
        .collect()
}

/// Series `i` of `top` named series; the one after them is "other".
fn series_color(i: usize, top: usize) -> RGBColor {
    if i >= top {
        OTHER
    } else {
        PALETTE.get(i).copied().unwrap_or(OTHER)
    }
}

/// The index of a model's series (`top.len()` is "other models").
fn model_series(top: &[&str], key: &str) -> usize {
    top.iter().position(|k| *k == key).unwrap_or(top.len())
}

/// One bar: its label, value and the text written after it.
type Bar = (String, f64, String);

/// Shared shape of the horizontal-bar charts: `rows` top to bottom, each a
/// list of stacked `(value, color)` segments, and a text after the bar.
pub(crate) struct HBars {
    labels: Vec<String>,
    segments: Vec<Vec<(f64, RGBColor)>>,
    ends: Vec<String>,
    /// Where each bar starts (a waterfall's floating steps); else 0.
    starts: Vec<f64>,
    x_desc: &'static str,
    x_fmt: fn(f64) -> String,
    /// The end of the x axis.
    max: f64,
}

impl HBars {
    fn height(&self) -> u32 {
        60 + 34 * self.labels.len() as u32
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let n = self.labels.len() as i32;
        let labels: Vec<String> = self.labels.iter().map(|l| short(l, 32)).collect();
        let max = if self.max > 0.0 { self.max } else { 1.0 };
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(44)
            .y_label_area_size(label_width(&labels))
            .build_cartesian_2d(0f64..max, segments(self.labels.len()))?;
        let y_fmt = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => labels
                .get((n - 1 - *i) as usize)
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        };
        let x_fmt = |v: &f64| (self.x_fmt)(*v);
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(self.labels.len())
            .y_label_formatter(&y_fmt)
            .x_labels(8)
            .x_label_formatter(&x_fmt)
            .x_desc(self.x_desc)
            .label_style(font())
            .axis_desc_style(font())
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .axis_style(AXIS)
            .draw()?;
        for (row, segs) in self.segments.iter().enumerate() {
            let y = n - 1 - row as i32;
            let mut x = self.starts.get(row).copied().unwrap_or(0.0);
            for (v, color) in segs {
                if *v <= 0.0 {
                    continue;
                }
                let mut bar = Rectangle::new(
                    [
                        (x, SegmentValue::Exact(y)),
                        (x + v, SegmentValue::Exact(y + 1)),
                    ],
                    color.filled(),
                );
                bar.set_margin(5, 5, 0, 0);
                chart.draw_series(std::iter::once(bar))?;
                x += v;
            }
            if let Some(end) = self.ends.get(row) {
                // Six units after the bar's end (SVG drops a leading space).
                chart.draw_series(std::iter::once(
                    EmptyElement::at((x, SegmentValue::CenterOf(y)))
                        + Text::new(
                            end.clone(),
                            (6, 0),
                            small_font().pos(Pos::new(HPos::Left, VPos::Center)),
                        ),
                ))?;
            }
        }
        Ok(())
    }
}

fn bar_chart(bars: &[Bar], color: RGBColor, x_desc: &'static str) -> Plot {
    let h = HBars {
        labels: bars.iter().map(|b| b.0.clone()).collect(),
        segments: bars.iter().map(|b| vec![(b.1, color)]).collect(),
        ends: bars.iter().map(|b| b.2.clone()).collect(),
        starts: Vec::new(),
        x_desc,
        x_fmt: usd_axis,
        // Room after the longest bar for its text.
        max: bars.iter().map(|b| b.1).fold(0.0, f64::max) * 1.25,
    };
    Plot::Bars { bars: h, extra: 0 }
}

/// The savings waterfall: spend, each lever's saving on what the levers
/// before it left, and what remains.
fn waterfall_chart(a: &Audit) -> Option<Chart> {
    let w = a.savings.as_ref()?;
    if w.total_savings <= Money::ZERO {
        return None;
    }
    let spend = w.spend.to_f64();
    let mut labels = vec!["spend".to_string()];
    let mut segments = vec![vec![(spend, SPEND)]];
    let mut starts = vec![0.0];
    let mut ends = vec![w.spend.to_cents_string()];
    for s in &w.steps {
        labels.push(s.label.to_string());
        segments.push(vec![(s.savings.to_f64(), SAVED)]);
        starts.push(s.remaining.to_f64());
        ends.push(format!("−{}", s.savings.to_cents_string()));
    }
    labels.push("after all levers".to_string());
    segments.push(vec![(w.remaining.to_f64(), LEFT)]);
    starts.push(0.0);
    ends.push(format!(
        "{} ({} less)",
        w.remaining.to_cents_string(),
        pct(w.total_savings.to_f64(), spend)
    ));
    let h = HBars {
        labels,
        segments,
        ends,
        starts,
        x_desc: "spend over the period",
        x_fmt: usd_axis,
        max: spend * 1.3,
    };
    Some(Chart {
        id: "chart-waterfall",
        title: "Savings waterfall",
        plot: Plot::Bars { bars: h, extra: 0 },
        legend: vec![
            ("spend".into(), SPEND),
            ("saved by the lever".into(), SAVED),
            ("spend left".into(), LEFT),
        ],
        note: "Each lever applies to what the levers above it left, so overlapping savings count once.".into(),
    })
}

/// Days as segments of an x axis, labelled about a dozen times.
fn day_axis_label(days: &[NaiveDate], v: &SegmentValue<i32>) -> String {
    let every = days.len().div_ceil(12).max(1);
    match v {
        SegmentValue::CenterOf(i) if *i >= 0 && (*i as usize).is_multiple_of(every) => days
            .get(*i as usize)
            .map(|d| day_label(*d))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

type DayChart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<SegmentedCoord<RangedCoordi32>, RangedCoordf64>>;

/// A chart over the days with a y axis from 0 to `max`.
fn day_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    days: &[NaiveDate],
    max: f64,
    y_desc: &str,
    y_fmt: &dyn Fn(&f64) -> String,
) -> Result<DayChart<'a, DB>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(segments(days.len()), 0f64..max)?;
    let x_fmt = |v: &SegmentValue<i32>| day_axis_label(days, v);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(days.len())
        .x_label_formatter(&x_fmt)
        .y_labels(6)
        .y_label_formatter(y_fmt)
        .x_desc("day (UTC)")
        .y_desc(y_desc)
        .label_style(font())
        .axis_desc_style(font())
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .draw()?;
    Ok(chart)
}

/// Daily spend, stacked by model.
fn daily_chart(a: &Audit) -> Option<Chart> {
    if a.daily.is_empty() {
        return None;
    }
    let top = top_models(a);
    let days: Vec<NaiveDate> = a.daily.iter().map(|d| d.day).collect();
    let mut cells = vec![vec![Money::ZERO; top.len() + 1]; days.len()];
    for r in &a.daily_by_model {
        if let Ok(d) = days.binary_search(&r.day) {
            cells[d][model_series(&top, &r.key)] += r.stats.cost;
        }
    }
    let has_other = cells.iter().any(|c| c[top.len()] > Money::ZERO);
    let max = a
        .daily
        .iter()
        .map(|d| d.stats.cost.to_f64())
        .fold(0.0, f64::max);
    let max = if max > 0.0 { max * 1.1 } else { 1.0 };
    let margin = if days.len() <= 62 { 2 } else { 0 };
    let plot = Plot::Daily(Daily {
        days: days.clone(),
        cells,
        top: top.len(),
        max,
        margin,
    });
    let mut legend: Vec<(String, RGBColor)> = top
        .iter()
        .enumerate()
        .map(|(i, m)| (m.to_string(), series_color(i, top.len())))
        .collect();
    if has_other {
        legend.push(("other models".into(), OTHER));
    }
    let peak = a.daily.iter().max_by(|x, y| {
        x.stats
            .cost
            .cmp(&y.stats.cost)
            .then_with(|| y.day.cmp(&x.day))
    });
    let note = peak.map_or(String::new(), |p| {
        format!(
            "Busiest day: {} with {}; the average day cost {}.",
            p.day,
            p.stats.cost.to_cents_string(),
            Money::from_picos(a.totals.cost.picos() / a.daily.len() as i128).to_cents_string()
        )
    });
    Some(Chart {
        id: "chart-daily",
        title: "Daily spend by model",
        plot,
        legend,
        note,
    })
}

/// Daily spend stacked by series: `cells[day][series]`, the last series
/// being "other models".
pub(crate) struct Daily {
    days: Vec<NaiveDate>,
    cells: Vec<Vec<Money>>,
    /// The number of named series.
    top: usize,
    max: f64,
    /// Pixels between a day's bar and the next.
    margin: u32,
}

impl Daily {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let y_fmt = |v: &f64| usd_axis(*v);
        let mut chart = day_chart(root, &self.days, self.max, "spend per day", &y_fmt)?;
        for (d, row) in self.cells.iter().enumerate() {
            let mut below = Money::ZERO;
            for (s, cost) in row.iter().enumerate() {
                if *cost <= Money::ZERO {
                    continue;
                }
                let top_of = below + *cost;
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(d as i32), below.to_f64()),
                        (SegmentValue::Exact(d as i32 + 1), top_of.to_f64()),
                    ],
                    series_color(s, self.top).filled(),
                );
                bar.set_margin(0, 0, self.margin, self.margin);
                chart.draw_series(std::iter::once(bar))?;
                below = top_of;
            }
        }
        Ok(())
    }
}

/// Rows of a dimension as bars, the rest summed into one "N more" bar.
fn dim_bars(rows: &[Row], total: &Stats) -> Vec<Bar> {
    let bar = |label: String, s: &Stats| {
        (
            label,
            s.cost.to_f64(),
            format!(
                "{} ({})",
                s.cost.to_cents_string(),
                pct(s.cost.to_f64(), total.cost.to_f64())
            ),
        )
    };
    let mut bars: Vec<Bar> = rows
        .iter()
        .take(BARS)
        .map(|r| bar(r.key.clone(), &r.stats))
        .collect();
    if rows.len() > BARS {
        let mut rest = Stats::default();
        for r in &rows[BARS..] {
            rest.merge(&r.stats);
        }
        bars.push(bar(format!("{} more", rows.len() - BARS), &rest));
    }
    bars
}

fn feature_chart(a: &Audit) -> Option<Chart> {
    let rows = a.dim("feature");
    if rows.is_empty() {
        return None;
    }
    let bars = dim_bars(rows, &a.totals);
    Some(Chart {
        id: "chart-feature",
        title: "Spend by feature",
        plot: bar_chart(&bars, PALETTE[0], "spend"),
        legend: Vec::new(),
        note: String::new(),
    })
}

/// The Pareto curve: cumulative share of spend over feature × model groups,
/// most expensive first.
fn pareto_chart(a: &Audit) -> Option<Chart> {
    let groups = &a.feature_model;
    if groups.is_empty() || a.totals.cost <= Money::ZERO {
        return None;
    }
    let total = a.totals.cost.to_f64();
    let mut cumulative = Money::ZERO;
    let mut points = vec![(0.0, 0.0)];
    for (i, g) in groups.iter().enumerate() {
        cumulative += g.stats.cost;
        points.push(((i + 1) as f64, 100.0 * cumulative.to_f64() / total));
    }
    let n = groups.len();
    let k80 = points.iter().position(|p| p.1 >= 80.0 - 1e-9).unwrap_or(n);
    let head: Vec<String> = groups
        .iter()
        .take(k80.min(5))
        .map(|g| format!("{} on {}", esc(&g.feature), esc(&g.model)))
        .collect();
    Some(Chart {
        id: "chart-pareto",
        title: "Pareto curve of spend",
        plot: Plot::Pareto(Pareto { points, n, k80 }),
        legend: Vec::new(),
        note: format!(
            "{k80} of {n} feature × model groups make 80% of spend{}{}.",
            if head.is_empty() { "" } else { ", led by " },
            head.join(", ")
        ),
    })
}

/// The Pareto curve's points (groups, cumulative %), the number of groups
/// and how many make 80% of spend.
pub(crate) struct Pareto {
    points: Vec<(f64, f64)>,
    n: usize,
    k80: usize,
}

impl Pareto {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_right(24)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(0f64..self.n as f64, 0f64..105.0)?;
        let x_fmt = |v: &f64| {
            if (v - v.round()).abs() < 1e-9 {
                format!("{v:.0}")
            } else {
                String::new()
            }
        };
        let y_fmt = |v: &f64| format!("{v:.0}%");
        chart
            .configure_mesh()
            .x_labels(self.n.clamp(2, 12))
            .x_label_formatter(&x_fmt)
            .y_labels(6)
            .y_label_formatter(&y_fmt)
            .x_desc("feature × model groups, most expensive first")
            .y_desc("cumulative share of spend")
            .label_style(font())
            .axis_desc_style(font())
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .axis_style(AXIS)
            .draw()?;
        chart.draw_series(
            AreaSeries::new(self.points.iter().copied(), 0.0, PALETTE[0].mix(0.12))
                .border_style(PALETTE[0].stroke_width(2)),
        )?;
        if self.n <= 80 {
            chart.draw_series(
                self.points
                    .iter()
                    .skip(1)
                    .map(|p| Circle::new(*p, 3, PALETTE[0].filled())),
            )?;
        }
        chart.draw_series(LineSeries::new(
            [(0.0, 80.0), (self.n as f64, 80.0)],
            MARK.mix(0.7).stroke_width(1),
        ))?;
        chart.draw_series(LineSeries::new(
            [(self.k80 as f64, 0.0), (self.k80 as f64, 80.0)],
            MARK.mix(0.7).stroke_width(1),
        ))?;
        chart.draw_series(std::iter::once(
            EmptyElement::at((self.k80 as f64, 80.0))
                + Text::new(
                    format!("80% of spend: {} of {} groups", self.k80, self.n),
                    (6, 4),
                    small_font().pos(Pos::new(HPos::Left, VPos::Top)),
                ),
        ))?;
        Ok(())
    }
}

/// The model mix: each model's share of calls, tokens and spend, as 100%
/// stacked bars.
fn model_mix_chart(a: &Audit) -> Option<Chart> {
    let rows = a.dim("model");
    if rows.is_empty() || a.totals.calls == 0 {
        return None;
    }
    let top = top_models(a);
    let t = &a.totals;
    type Measure = fn(&Stats) -> f64;
    let measures: [(&str, Measure, f64); 4] = [
        ("spend", |s| s.cost.to_f64(), t.cost.to_f64()),
        ("calls", |s| s.calls as f64, t.calls as f64),
        (
            "input tokens",
            |s| s.input_tokens as f64,
            t.input_tokens as f64,
        ),
        (
            "output tokens",
            |s| s.output_tokens as f64,
            t.output_tokens as f64,
        ),
    ];
    let mut labels = Vec::new();
    let mut segments = Vec::new();
    for (label, measure, whole) in measures {
        let mut shares = vec![0.0; top.len() + 1];
        if whole > 0.0 {
            for r in rows {
                shares[model_series(&top, &r.key)] += 100.0 * measure(&r.stats) / whole;
            }
        }
        labels.push(label.to_string());
        segments.push(
            shares
                .iter()
                .enumerate()
                .map(|(i, v)| (*v, series_color(i, top.len())))
                .collect::<Vec<_>>(),
        );
    }
    let has_other = rows.len() > top.len();
    let h = HBars {
        ends: vec![String::new(); labels.len()],
        labels,
        segments,
        starts: Vec::new(),
        x_desc: "share",
        x_fmt: |v| format!("{v:.0}%"),
        max: 100.0,
    };
    let mut legend: Vec<(String, RGBColor)> = top
        .iter()
        .enumerate()
        .map(|(i, m)| (m.to_string(), series_color(i, top.len())))
        .collect();
    if has_other {
        legend.push(("other models".into(), OTHER));
    }
    Some(Chart {
        id: "chart-models",
        title: "Model mix",
        plot: Plot::Bars { bars: h, extra: 20 },
        legend,
        note: "A model whose share of spend is far above its share of calls is where a cheaper route pays most.".into(),
    })
}

/// Daily cache hit rate: cached-read tokens over input tokens.
fn cache_chart(a: &Audit) -> Option<Chart> {
    if a.daily.is_empty() || a.totals.input_tokens == 0 {
        return None;
    }
    let days: Vec<NaiveDate> = a.daily.iter().map(|d| d.day).collect();
    let rates: Vec<Option<f64>> = a
        .daily
        .iter()
        .map(|d| (d.stats.input_tokens > 0).then(|| 100.0 * d.stats.cache_hit_rate()))
        .collect();
    let peak = rates.iter().flatten().copied().fold(0.0, f64::max);
    let max = (peak * 1.25).clamp(1.0, 100.0);
    Some(Chart {
        id: "chart-cache",
        title: "Cache hit rate over time",
        plot: Plot::Cache(Cache { days, rates, max }),
        legend: Vec::new(),
        note: format!(
            "Over the period {} of input tokens were read from the provider's cache (cached reads cost a fraction of fresh input).",
            pct(
                a.totals.cached_read_tokens as f64,
                a.totals.input_tokens as f64
            )
        ),
    })
}

/// Daily cache hit rates in percent (`None` on days without input), on a y
/// axis from 0 to `max`.
pub(crate) struct Cache {
    days: Vec<NaiveDate>,
    rates: Vec<Option<f64>>,
    max: f64,
}

impl Cache {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let max = self.max;
        let y_fmt = |v: &f64| {
            if max < 5.0 {
                format!("{v:.1}%")
            } else {
                format!("{v:.0}%")
            }
        };
        let mut chart = day_chart(root, &self.days, max, "cached share of input", &y_fmt)?;
        let points: Vec<(SegmentValue<i32>, f64)> = self
            .rates
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.map(|r| (SegmentValue::CenterOf(i as i32), r)))
            .collect();
        chart.draw_series(LineSeries::new(
            points.iter().cloned(),
            PALETTE[7].stroke_width(2),
        ))?;
        chart.draw_series(
            points
                .iter()
                .map(|p| Circle::new(p.clone(), 3, PALETTE[7].filled())),
        )?;
        Ok(())
    }
}

const TOKEN_KINDS: [(&str, RGBColor); 5] = [
    ("input, uncached", RGBColor(0x1f, 0x77, 0xb4)),
    ("input, cached read", RGBColor(0x9e, 0xda, 0xe5)),
    ("input, cache write", RGBColor(0x17, 0xbe, 0xcf)),
    ("output, visible", RGBColor(0xff, 0x7f, 0x0e)),
    ("output, reasoning", RGBColor(0xd6, 0x27, 0x28)),
];

fn token_parts(s: &Stats) -> [u64; 5] {
    let uncached = s
        .input_tokens
        .saturating_sub(s.cached_read_tokens)
        .saturating_sub(s.cache_write_tokens);
    [
        uncached,
        s.cached_read_tokens,
        s.cache_write_tokens,
        s.output_tokens.saturating_sub(s.reasoning_tokens),
        s.reasoning_tokens,
    ]
}

/// Tokens by route, stacked by kind.
fn route_chart(a: &Audit) -> Option<Chart> {
    let rows = a.dim("route");
    if rows.is_empty() || (rows.len() == 1 && rows[0].key == NONE) {
        return None;
    }
    let mut kept: Vec<(String, Stats)> = rows
        .iter()
        .take(BARS)
        .map(|r| (r.key.clone(), r.stats))
        .collect();
    if rows.len() > BARS {
        let mut rest = Stats::default();
        for r in &rows[BARS..] {
            rest.merge(&r.stats);
        }
        kept.push((format!("{} more", rows.len() - BARS), rest));
    }
    let h = HBars {
        labels: kept.iter().map(|k| k.0.clone()).collect(),
        segments: kept
            .iter()
            .map(|(_, s)| {
                token_parts(s)
                    .iter()
                    .zip(TOKEN_KINDS)
                    .map(|(n, (_, c))| (*n as f64, c))
                    .collect()
            })
            .collect(),
        ends: kept
            .iter()
            .map(|(_, s)| {
                format!(
                    "{} tokens, {}",
                    tokens(s.input_tokens + s.output_tokens),
                    s.cost.to_cents_string()
                )
            })
            .collect(),
        starts: Vec::new(),
        x_desc: "tokens",
        x_fmt: tokens_axis,
        max: kept
            .iter()
            .map(|(_, s)| (s.input_tokens + s.output_tokens) as f64)
            .fold(0.0, f64::max)
            * 1.3,
    };
    Some(Chart {
        id: "chart-routes",
        title: "Tokens by route",
        plot: Plot::Bars { bars: h, extra: 0 },
        legend: TOKEN_KINDS
            .iter()
            .map(|(n, c)| (n.to_string(), *c))
            .collect(),
        note: String::new(),
    })
}

/// The charts of where the money goes, in page order.
fn spend_charts(a: &Audit) -> Vec<Chart> {
    [
        daily_chart(a),
        feature_chart(a),
        pareto_chart(a),
        model_mix_chart(a),
        cache_chart(a),
        route_chart(a),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every chart the page draws, in page order: the savings waterfall (when
/// there are savings) and the charts of where the money goes.
pub(crate) fn charts(a: &Audit) -> Vec<Chart> {
    let mut all: Vec<Chart> = waterfall_chart(a).into_iter().collect();
    all.extend(spend_charts(a));
    all
}

fn figure(o: &mut String, c: &Chart) {
    let Some(svg) = draw_svg(c) else {
        return;
    };
    let _ = writeln!(o, "<figure class=\"chart\" id=\"{}\">", c.id);
    let _ = writeln!(o, "<figcaption>{}</figcaption>", esc(c.title));
    o.push_str(&svg);
    if !c.legend.is_empty() {
        o.push_str("<ul class=\"legend\">");
        for (name, color) in &c.legend {
            let _ = write!(
                o,
                "<li><i style=\"background:{}\"></i>{}</li>",
                hex(*color),
                esc(name)
            );
        }
        o.push_str("</ul>\n");
    }
    if !c.note.is_empty() {
        let _ = writeln!(o, "<p class=\"note\">{}</p>", c.note);
    }
    o.push_str("</figure>\n");
}

/// A table: `cols` are (header, numeric); cells are already HTML.
fn table(o: &mut String, cols: &[(&str, bool)], rows: Vec<Vec<String>>) {
    o.push_str("<div class=\"scroll\"><table>\n<thead><tr>");
    for (h, num) in cols {
        let _ = write!(
            o,
            "<th{}>{}</th>",
            if *num { " class=\"n\"" } else { "" },
            h
        );
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        o.push_str("<tr>");
        for (cell, (_, num)) in row.iter().zip(cols) {
            let _ = write!(
                o,
                "<td{}>{}</td>",
                if *num { " class=\"n\"" } else { "" },
                cell
            );
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody></table></div>\n");
}

fn money_or_dash(m: Option<Money>) -> String {
    m.map_or("–".to_string(), |m| m.to_rounded_string(4))
}

/// A dimension's table with a closing "N more" row.
fn stats_table(o: &mut String, key_title: &str, rows: &[Row], a: &Audit, omitted: (u64, Stats)) {
    let t = &a.totals;
    let mut body: Vec<Vec<String>> = rows
        .iter()
        .take(TOP)
        .map(|r| {
            let s = &r.stats;
            vec![
                esc(&r.key),
                int(s.calls),
                s.cost.to_cents_string(),
                pct(s.cost.to_f64(), t.cost.to_f64()),
                s.cost_per_call().to_rounded_string(4),
                money_or_dash(s.cost_per_success()),
                s.failed_cost.to_cents_string(),
                success_rate(s),
            ]
        })
        .collect();
    let (more_keys, more_stats) = omitted;
    if rows.len() > TOP || more_keys > 0 {
        let mut rest = more_stats;
        for r in rows.iter().skip(TOP) {
            rest.merge(&r.stats);
        }
        body.push(vec![
            format!(
                "<em>{} more</em>",
                int(rows.len().saturating_sub(TOP) as u64 + more_keys)
            ),
            int(rest.calls),
            rest.cost.to_cents_string(),
            pct(rest.cost.to_f64(), t.cost.to_f64()),
            String::new(),
            String::new(),
            rest.failed_cost.to_cents_string(),
            String::new(),
        ]);
    }
    table(
        o,
        &[
            (key_title, false),
            ("calls", true),
            ("spend", true),
            ("share", true),
            ("per call", true),
            ("per success", true),
            ("failed spend", true),
            ("success", true),
        ],
        body,
    );
}

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
    let mut o = String::new();
    let t = &a.totals;
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Nothing may load from elsewhere, even if a log field slipped through.
    o.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n");
    o.push_str("<meta name=\"generator\" content=\"tokenaudit\">\n");
    let period = calls_period(a);
    let short_period = match (a.first_call, a.last_call) {
        (Some(f), Some(l)) => format!("{} to {}", f.format("%Y-%m-%d"), l.format("%Y-%m-%d")),
        _ => String::new(),
    };
    let _ = writeln!(o, "<title>AI cost audit {}</title>", esc(&short_period));
    let _ = writeln!(o, "<style>{CSS}</style>\n</head>\n<body>\n<main>");

    // Header and headline figures.
    o.push_str("<header>\n<h1>AI cost audit</h1>\n");
    let _ = writeln!(o, "<p class=\"meta\">Calls from {}.", esc(&period));
    if let Some(w) = window(a) {
        let _ = write!(o, " Window {w} (UTC).");
    }
    let _ = writeln!(
        o,
        " {} files, {} lines, {} calls read, {} lines rejected. Prices: tokenaudit catalog {} (tokenaudit {}).</p>",
        a.input.files.len(),
        int(a.input.lines),
        int(a.input.records),
        int(a.input.rejected),
        esc(&a.catalog_version),
        esc(&info.tool_version)
    );
    o.push_str("<nav><a href=\"#summary\">Summary</a><a href=\"#savings\">Savings</a><a href=\"#spend\">Where it goes</a><a href=\"#tables\">Tables</a><a href=\"#findings\">Findings</a><a href=\"#data-quality\">Data quality</a></nav>\n</header>\n");

    let _ = writeln!(
        o,
        "<section class=\"first\" id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">"
    );
    let card = |o: &mut String, class: &str, label: &str, value: String, sub: String| {
        let _ = writeln!(
            o,
            "<div class=\"card{class}\"><div class=\"label\">{label}</div><div class=\"value\">{value}</div><div class=\"sub\">{sub}</div></div>"
        );
    };
    card(
        &mut o,
        "",
        "Total spend",
        t.cost.to_cents_string(),
        if t.unpriced_calls > 0 {
            format!("{} calls not priced", int(t.unpriced_calls))
        } else {
            esc(&short_period)
        },
    );
    card(
        &mut o,
        "",
        "Calls",
        int(t.calls),
        format!("{} successful", success_rate(t)),
    );
    card(
        &mut o,
        "",
        "Cost per request",
        a.cost_per_call.to_rounded_string(4),
        "spend ÷ priced calls".into(),
    );
    card(
        &mut o,
        "",
        "Cost per successful call",
        money_or_dash(a.cost_per_success),
        "failures included".into(),
    );
    card(
        &mut o,
        "",
        "Spend on failed calls",
        t.failed_cost.to_cents_string(),
        format!("{} of spend", pct(t.failed_cost.to_f64(), t.cost.to_f64())),
    );
    if let Some(w) = a.savings.as_ref().filter(|w| w.total_savings > Money::ZERO) {
        card(
            &mut o,
            " good",
            "Avoidable spend",
            w.total_savings.to_cents_string(),
            format!(
                "{} of spend, {} findings",
                pct(w.total_savings.to_f64(), w.spend.to_f64()),
                a.findings.len()
            ),
        );
    }
    o.push_str("</div>\n");
    if let Some(p) = &a.previous {
        previous_headline(&mut o, a, p);
    }
    let c = &a.cost_by_token_kind;
    let parts = token_parts(t);
    let costs = [c.input, c.cached_read, c.cache_write, c.output, c.reasoning];
    let rows = TOKEN_KINDS
        .iter()
        .zip(parts)
        .zip(costs)
        .map(|(((name, _), count), cost)| {
            vec![
                name.to_string(),
                tokens(count),
                cost.to_cents_string(),
                pct(cost.to_f64(), t.cost.to_f64()),
            ]
        })
        .collect();
    table(
        &mut o,
        &[
            ("tokens", false),
            ("count", true),
            ("spend", true),
            ("share of spend", true),
        ],
        rows,
    );
    o.push_str("</section>\n");

    // Savings.
    if let Some(chart) = waterfall_chart(a) {
        let w = a
            .savings
            .as_ref()
            .expect("the chart exists only with savings");
        o.push_str("<section id=\"savings\">\n<h2>Savings</h2>\n");
        let _ = writeln!(
            o,
            "<p>Acting on the findings would have saved <strong>{}</strong> of {} ({}) over this period.</p>",
            w.total_savings.to_cents_string(),
            w.spend.to_cents_string(),
            pct(w.total_savings.to_f64(), w.spend.to_f64())
        );
        figure(&mut o, &chart);
        let mut rows = vec![vec![
            "<em>spend</em>".to_string(),
            String::new(),
            w.spend.to_cents_string(),
            String::new(),
        ]];
        for s in &w.steps {
            let links: Vec<String> = s
                .findings
                .iter()
                .map(|fp| {
                    let rule = a
                        .findings
                        .iter()
                        .find(|f| &f.fingerprint == fp)
                        .map_or("finding", |f| f.rule);
                    format!("<a href=\"#f-{}\">{}</a>", esc(fp), esc(rule))
                })
                .collect();
            rows.push(vec![
                esc(s.label),
                s.savings.to_cents_string(),
                s.remaining.to_cents_string(),
                links.join(" "),
            ]);
        }
        table(
            &mut o,
            &[
                ("lever", false),
                ("saves", true),
                ("spend left", true),
                ("findings", false),
            ],
            rows,
        );
        for n in &w.notes {
            let _ = writeln!(o, "<p class=\"note\">Note: {}</p>", esc(n));
        }
        o.push_str("</section>\n");
    }

    // Charts of where the money goes.
    o.push_str("<section id=\"spend\">\n<h2>Where the money goes</h2>\n");
    for c in spend_charts(a) {
        figure(&mut o, &c);
    }
    if a.daily.is_empty() {
        o.push_str(
            "<p class=\"note\">No call carried a timestamp, so there is no daily series.</p>\n",
        );
    }
    o.push_str("</section>\n");

    if let Some(p) = &a.previous {
        change_section(&mut o, a, p);
    }
    tables_section(&mut o, a);
    findings_section(&mut o, a);
    data_quality_section(&mut o, a);

    let _ = writeln!(
        o,
        "<footer>Written by tokenaudit {} with price catalog {}. Money is computed exactly and rounded here for reading; <code>audit.json</code> and the CSV files carry exact figures and every row.</footer>",
        esc(&info.tool_version),
        esc(&a.catalog_version)
    );
    o.push_str("</main>\n</body>\n</html>\n");
    o
}

/// The headline's "change against the previous period": spend, cost per
/// request and per successful request.
fn previous_headline(o: &mut String, a: &Audit, p: &PreviousPeriod) {
    let _ = writeln!(
        o,
        "<h3 id=\"change\">Change against the previous period ({})</h3>",
        change::previous_span(p)
    );
    if p.totals.calls == 0 {
        let _ = writeln!(
            o,
            "<p class=\"note\">{}.</p>",
            esc(&change::no_previous_calls(p))
        );
        return;
    }
    let word = change::period_word(p);
    let rows = change::headline(a, p)
        .iter()
        .map(|h| {
            let show =
                |m: Option<Money>| m.map_or("–".to_string(), |m| m.to_rounded_string(h.decimals));
            vec![
                h.label.to_string(),
                show(h.now),
                show(h.before),
                esc(&h.change()),
            ]
        })
        .collect();
    let (this, before) = (format!("this {word}"), format!("previous {word}"));
    table(
        o,
        &[
            ("", false),
            (&this, true),
            (&before, true),
            ("change", true),
        ],
        rows,
    );
}

/// Month over month (or period over period) per feature and per model.
fn change_section(o: &mut String, a: &Audit, p: &PreviousPeriod) {
    let (word, title) = (change::period_word(p), change::section_title(p));
    let _ = writeln!(o, "<section id=\"month-over-month\">\n<h2>{title}</h2>");
    if p.totals.calls == 0 {
        let _ = writeln!(
            o,
            "<p class=\"note\">{}.</p>",
            esc(&change::no_previous_calls(p))
        );
    } else {
        let (this, before) = (format!("this {word}"), format!("previous {word}"));
        for (dimension, rows) in change::tables(a, p) {
            let more = rows.len().saturating_sub(TOP);
            let body = rows
                .iter()
                .take(TOP)
                .map(|r| {
                    vec![
                        esc(&r.key),
                        r.now.to_cents_string(),
                        r.before.to_cents_string(),
                        esc(&r.change()),
                    ]
                })
                .collect();
            table(
                o,
                &[
                    (dimension, false),
                    (&this, true),
                    (&before, true),
                    ("change", true),
                ],
                body,
            );
            if more > 0 {
                let _ = writeln!(
                    o,
                    "<p class=\"note\">{more} more in <code>audit-change.csv</code>.</p>"
                );
            }
        }
    }
    o.push_str("</section>\n");
}

fn tables_section(o: &mut String, a: &Audit) {
    let t = &a.totals;
    o.push_str("<section id=\"tables\">\n<h2>Top features, models, users and calls</h2>\n");
    let dim = |name: &str| a.by.iter().find(|d| d.dimension == name);
    if let Some(d) = dim("feature") {
        o.push_str("<h3>Features</h3>\n");
        let omitted = d.distinct.saturating_sub(d.rows.len() as u64);
        stats_table(o, "feature", &d.rows, a, (omitted, d.omitted));
    }
    let models = a.dim("model");
    if !models.is_empty() {
        o.push_str("<h3>Models</h3>\n");
        let rows = models
            .iter()
            .take(TOP)
            .map(|r| {
                let s = &r.stats;
                vec![
                    esc(&r.key),
                    int(s.calls),
                    pct(s.calls as f64, t.calls as f64),
                    if s.unpriced_calls == s.calls && s.calls > 0 {
                        "<strong>unpriced</strong>".to_string()
                    } else {
                        s.cost.to_cents_string()
                    },
                    pct(s.cost.to_f64(), t.cost.to_f64()),
                    s.cost_per_call().to_rounded_string(4),
                    pct(s.cached_read_tokens as f64, s.input_tokens as f64),
                ]
            })
            .collect();
        table(
            o,
            &[
                ("model", false),
                ("calls", true),
                ("share of calls", true),
                ("spend", true),
                ("share of spend", true),
                ("per call", true),
                ("cache hit rate", true),
            ],
            rows,
        );
    }
    if !a.feature_model.is_empty() {
        o.push_str("<h3>Feature × model</h3>\n");
        let rows = a
            .feature_model
            .iter()
            .take(TOP)
            .map(|r| {
                let s = &r.stats;
                let n = s.calls.max(1);
                vec![
                    esc(&r.feature),
                    esc(&r.model),
                    int(s.calls),
                    s.cost.to_cents_string(),
                    pct(s.cost.to_f64(), t.cost.to_f64()),
                    s.cost_per_call().to_rounded_string(4),
                    int(s.input_tokens / n),
                    int(s.output_tokens / n),
                ]
            })
            .collect();
        table(
            o,
            &[
                ("feature", false),
                ("model", false),
                ("calls", true),
                ("spend", true),
                ("share", true),
                ("per call", true),
                ("avg input", true),
                ("avg output", true),
            ],
            rows,
        );
    }
    if let Some(d) = dim("user") {
        if !(d.rows.is_empty() || d.rows.len() == 1 && d.rows[0].key == NONE) {
            o.push_str("<h3>Users</h3>\n");
            let kept = &d.rows[..d.rows.len().min(10)];
            let omitted = d.distinct.saturating_sub(kept.len() as u64);
            let mut rest = d.omitted;
            for r in &d.rows[kept.len()..] {
                rest.merge(&r.stats);
            }
            // The table closes with every user not shown.
            stats_table(o, "user", kept, a, (omitted, rest));
        }
    }
    if !a.most_expensive_calls.is_empty() {
        o.push_str("<h3>Most expensive calls</h3>\n");
        let rows = a
            .most_expensive_calls
            .iter()
            .take(10)
            .map(|e| {
                vec![
                    e.cost.to_rounded_string(4),
                    format!(
                        "<code>{}</code>",
                        esc(e.request_id.as_deref().unwrap_or("–"))
                    ),
                    esc(&e.feature),
                    esc(&e.model),
                    int(e.input_tokens),
                    int(e.cached_read_tokens),
                    int(e.output_tokens),
                    e.timestamp
                        .map_or(String::new(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
                    format!("{}:{}", esc(&e.file), e.line),
                ]
            })
            .collect();
        table(
            o,
            &[
                ("cost", true),
                ("request", false),
                ("feature", false),
                ("model", false),
                ("input", true),
                ("cached", true),
                ("output", true),
                ("when (UTC)", false),
                ("where", false),
            ],
            rows,
        );
    }
    if !a.failures.is_empty() {
        o.push_str("<h3>Failed calls</h3>\n");
        let rows = a
            .failures
            .iter()
            .take(TOP)
            .map(|r| {
                vec![
                    esc(&r.key),
                    int(r.stats.calls),
                    r.stats.cost.to_cents_string(),
                ]
            })
            .collect();
        table(
            o,
            &[("failure", false), ("calls", true), ("spend", true)],
            rows,
        );
    }
    o.push_str("</section>\n");
}

fn findings_section(o: &mut String, a: &Audit) {
    o.push_str("<section id=\"findings\">\n<h2>Findings</h2>\n");
    if a.findings.is_empty() {
        o.push_str("<p>No waste found.</p>\n</section>\n");
        return;
    }
    let _ = writeln!(
        o,
        "<p>{} findings, most savings first. Savings are per 30-day month; <code>tokenaudit rules CODE</code> explains each rule.</p>",
        a.findings.len()
    );
    let rows = a
        .findings
        .iter()
        .map(|f| {
            vec![
                format!("<a href=\"#f-{}\">{}</a>", esc(&f.fingerprint), esc(f.rule)),
                format!(
                    "<span class=\"sev {0}\">{0}</span>",
                    esc(f.severity.as_str())
                ),
                esc(&f.title),
                f.savings
                    .as_ref()
                    .map_or("–".to_string(), |s| s.monthly.to_cents_string()),
            ]
        })
        .collect();
    table(
        o,
        &[
            ("rule", false),
            ("severity", false),
            ("finding", false),
            ("saves / month", true),
        ],
        rows,
    );
    for f in &a.findings {
        let sev = esc(f.severity.as_str());
        let _ = writeln!(
            o,
            "<article class=\"finding {sev}\" id=\"f-{}\">",
            esc(&f.fingerprint)
        );
        let _ = writeln!(o, "<h3>{} · {}</h3>", esc(f.rule), esc(&f.title));
        let confidence = match f.confidence {
            tokenaudit_analyze::detect::Confidence::Low => "low",
            tokenaudit_analyze::detect::Confidence::Medium => "medium",
            tokenaudit_analyze::detect::Confidence::High => "high",
        };
        let scope: Vec<String> = f
            .scope
            .iter()
            .map(|(k, v)| format!("{} <code>{}</code>", esc(k), esc(v)))
            .collect();
        let _ = writeln!(
            o,
            "<div class=\"tags\"><span class=\"sev {sev}\">{sev}</span> {} · confidence {confidence} · {} · fingerprint <code>{}</code></div>",
            esc(f.name),
            scope.join(", "),
            esc(&f.fingerprint)
        );
        if let Some(s) = &f.savings {
            let _ = writeln!(
                o,
                "<p><span class=\"saves\">Saves ~{}/month</span> ({} over the period). <em>Estimate:</em> {}.</p>",
                s.monthly.to_cents_string(),
                s.observed.to_cents_string(),
                esc(&s.method)
            );
        }
        let _ = writeln!(
            o,
            "<p><strong>Recommendation:</strong> {}</p>",
            esc(&f.recommendation)
        );
        if !f.evidence.is_empty() {
            o.push_str("<dl class=\"evidence\">\n");
            for (k, v) in &f.evidence {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let _ = writeln!(o, "<div><dt>{}</dt><dd>{}</dd></div>", esc(k), esc(&v));
            }
            o.push_str("</dl>\n");
        }
        if !f.sample_requests.is_empty() {
            let ids: Vec<String> = f
                .sample_requests
                .iter()
                .map(|r| format!("<code>{}</code>", esc(r)))
                .collect();
            let _ = writeln!(o, "<p>Sample requests: {}</p>", ids.join(" "));
        }
        if !f.sample_prompts.is_empty() {
            o.push_str("<p>Sample prompts:</p>\n<ul class=\"prompts\">\n");
            for t in &f.sample_prompts {
                let _ = writeln!(o, "<li><q>{}</q></li>", esc(t));
            }
            o.push_str("</ul>\n");
        }
        o.push_str("</article>\n");
    }
    o.push_str("</section>\n");
}

fn data_quality_section(o: &mut String, a: &Audit) {
    o.push_str("<section id=\"data-quality\">\n<h2>Data quality</h2>\n");
    let rows = a
        .input
        .files
        .iter()
        .map(|f| {
            vec![
                esc(&f.file),
                esc(&f.encoding),
                esc(&f.format),
                int(f.lines),
                int(f.records),
                int(f.rejected),
            ]
        })
        .collect();
    table(
        o,
        &[
            ("file", false),
            ("encoding", false),
            ("format", false),
            ("lines", true),
            ("calls", true),
            ("rejected", true),
        ],
        rows,
    );
    if a.input.rejected == 0 {
        o.push_str("<p>No line was rejected.</p>\n");
    } else {
        let _ = writeln!(
            o,
            "<h3>Rejected lines</h3>\n<p><strong>{} lines rejected</strong> (<code>--strict</code> makes this an error):</p>\n<ul class=\"plain\">",
            int(a.input.rejected)
        );
        for (reason, n) in &a.input.rejected_by_reason {
            let _ = writeln!(o, "<li><code>{}</code>: {}</li>", esc(reason), int(*n));
        }
        o.push_str("</ul>\n");
        let rows = a
            .input
            .rejected_samples
            .iter()
            .map(|s| {
                let at = if s.line == 0 {
                    esc(&s.file)
                } else {
                    format!("{}:{}", esc(&s.file), s.line)
                };
                vec![
                    at,
                    format!("<code>{}</code>", esc(&s.reason.to_string())),
                    esc(&s.detail),
                ]
            })
            .collect();
        table(
            o,
            &[("where", false), ("reason", false), ("detail", false)],
            rows,
        );
    }
    if a.input.skipped > 0 {
        let _ = write!(
            o,
            "<p>{} lines skipped as not new calls (not errors):",
            int(a.input.skipped)
        );
        for (reason, n) in &a.input.skipped_by_reason {
            let _ = write!(o, " <code>{}</code> {}", esc(reason), int(*n));
        }
        o.push_str("</p>\n");
    }
    if a.input.outside_window > 0 {
        let _ = writeln!(
            o,
            "<p>{} calls fell outside the time window and were left out.</p>",
            int(a.input.outside_window)
        );
    }
    if !a.unknown_models.is_empty() {
        o.push_str("<h3>Models not in the price catalog</h3>\n<p>Their calls are counted but not priced; add them with <code>--prices FILE</code>.</p>\n");
        let rows = a
            .unknown_models
            .iter()
            .map(|m| {
                vec![
                    esc(&m.logged_model),
                    esc(m.logged_provider.as_deref().unwrap_or("–")),
                    int(m.stats.calls),
                    int(m.stats.input_tokens),
                    int(m.stats.output_tokens),
                ]
            })
            .collect();
        table(
            o,
            &[
                ("logged model", false),
                ("provider", false),
                ("calls", true),
                ("input tokens", true),
                ("output tokens", true),
            ],
            rows,
        );
    }
    if a.batch_calls_at_full_price > 0 {
        let _ = writeln!(
            o,
            "<p>{} batch calls were priced at real-time rates: the catalog has no batch price for their model.</p>",
            int(a.batch_calls_at_full_price)
        );
    }
    let missing: Vec<_> = a.missing_fields().collect();
    if !missing.is_empty() {
        o.push_str("<h3>Missing fields</h3>\n<p>No call carried these fields, and that prevents:</p>\n<ul class=\"plain\">\n");
        for c in missing {
            let _ = writeln!(
                o,
                "<li><code>{}</code>: {}</li>",
                esc(c.field),
                esc(c.lacking_prevents.unwrap_or(""))
            );
        }
        o.push_str("</ul>\n");
    }
    {
        use tokenaudit_analyze::coverage::Status;
        let notable: Vec<_> = a
            .rule_coverage
            .iter()
            .filter(|r| matches!(r.status, Status::RanOnEstimates | Status::CouldNotRun))
            .collect();
        if !notable.is_empty() {
            o.push_str("<h3>Rule coverage</h3>\n<p>Rules that ran on estimated inputs, or could not run on this input:</p>\n<ul class=\"plain\">\n");
            for r in notable {
                let what = match r.status {
                    Status::CouldNotRun => {
                        format!("could not run: {}", r.missing.as_deref().unwrap_or(""))
                    }
                    _ => format!("ran on estimated inputs: {}", r.estimates().join("; ")),
                };
                let _ = writeln!(
                    o,
                    "<li><code>{}</code> {}: {}.</li>",
                    esc(r.rule),
                    esc(r.name),
                    esc(&what)
                );
            }
            o.push_str("</ul>\n");
        }
    }
    if !a.coverage.is_empty() && a.totals.calls > 0 {
        o.push_str("<h3>Field coverage</h3>\n");
        let rows = a
            .coverage
            .iter()
            .map(|c| {
                vec![
                    format!("<code>{}</code>", esc(c.field)),
                    int(c.present),
                    pct(c.present as f64, a.totals.calls as f64),
                ]
            })
            .collect();
        table(
            o,
            &[
                ("field", false),
                ("calls carrying it", true),
                ("share", true),
            ],
            rows,
        );
    }
    let s = &a.sampling;
    if s.sessions_scale > 1 || s.prompts_scale > 1 || s.chains_scale > 1 {
        let _ = writeln!(
            o,
            "<p class=\"note\">Per-key analyses ran on a hash sample (sessions 1 in {}, prompts 1 in {}, retry chains 1 in {}); their figures are scaled estimates.</p>",
            s.sessions_scale, s.prompts_scale, s.chains_scale
        );
    }
    o.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_controls() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\"\u{7}"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn money_axis_is_compact_dollars() {
        assert_eq!(usd_axis(0.0), "$0");
        assert_eq!(usd_axis(5.0), "$5");
        assert_eq!(usd_axis(2.5), "$2.50");
        assert_eq!(usd_axis(0.05), "$0.050");
        assert_eq!(usd_axis(120.0), "$120");
        assert_eq!(usd_axis(1500.0), "$1.5k");
        assert_eq!(usd_axis(25_000.0), "$25k");
        assert_eq!(usd_axis(3_200_000.0), "$3.2M");
    }

    #[test]
    fn short_cuts_on_characters() {
        assert_eq!(short("ééééé", 3), "éé…");
        assert_eq!(short("abc", 3), "abc");
    }
}
