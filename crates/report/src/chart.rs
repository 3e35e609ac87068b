//! The report's charts as data: what each chart draws ([`Plot`]), its title,
//! legend and note, built once from the `Audit`. The drawing code is generic
//! over plotters' backends, so the page's SVG ([`crate::html`]) and the PNG
//! files ([`crate::png`]) come from the same code and never diverge. Output
//! is a pure function of the `Audit`: colors come from a fixed palette,
//! series order from the audit's sorted tables.
//!
//! Chart labels are handed to plotters unescaped: its SVG backend escapes
//! text itself, and bitmap text is pixels.

use chrono::NaiveDate;
use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordf64, RangedCoordi32};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use tokenaudit_analyze::audit::Row;
use tokenaudit_analyze::{Audit, Stats, NONE};
use tokenaudit_core::Money;

use crate::model::Inline;
use crate::text::{pct, tokens};

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

/// At most `max` characters, with an ellipsis when cut, and control
/// characters shown (chart labels only; tables show names in full).
pub(crate) fn short(text: &str, max: usize) -> String {
    let text = crate::text::visible(text);
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
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
/// ([`Plot`]) so the page's SVG and the PNG files come from the same drawing
/// code on either plotters backend.
pub struct Chart {
    /// The figure's id in the page, also the PNG's name (`audit-{id}.png`).
    pub(crate) id: &'static str,
    pub(crate) title: &'static str,
    pub(crate) plot: Plot,
    /// Series names (log-derived: escaped when written) and their colors.
    pub(crate) legend: Vec<(String, RGBColor)>,
    /// A sentence under the chart (the page shows it; PNG files do not).
    pub(crate) note: Vec<Inline>,
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
pub(crate) fn waterfall(a: &Audit) -> Option<Chart> {
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
        note: vec![Inline::plain(
            "Each lever applies to what the levers above it left, so overlapping savings count once.",
        )],
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
    // The average over the days from the first call to the last, those
    // without calls too, of the calls that have a day (hunt61: the total,
    // undated calls included, over the days with calls).
    let (first, last) = (a.daily.first(), a.daily.last());
    let days = first
        .zip(last)
        .map_or(1, |(f, l)| (l.day - f.day).num_days().max(0) + 1);
    let dated: i128 = a.daily.iter().map(|d| d.stats.cost.picos()).sum();
    let note = peak.map_or(Vec::new(), |p| {
        vec![
            Inline::plain(format!("Busiest day: {} with ", p.day)),
            Inline::Money(p.stats.cost, 2),
            Inline::plain(format!(
                "; the average of the {days} day{} from the first call to the last cost ",
                if days == 1 { "" } else { "s" }
            )),
            Inline::Money(Money::from_picos(dated / days as i128), 2),
            Inline::plain("."),
        ]
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
            // A bar with unpriced calls says so in place of its share (the
            // label must fit beside the longest bar: hunt62).
            if s.unpriced_calls > 0 {
                crate::text::spend_text(s, |m| m.to_cents_string())
            } else {
                format!(
                    "{} ({})",
                    s.cost.to_cents_string(),
                    pct(s.cost.to_f64(), total.cost.to_f64())
                )
            },
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
        note: Vec::new(),
    })
}

/// The Pareto curve: cumulative share of spend over feature × model groups,
/// most expensive first. Groups with a cost, as TA101 counts them: an
/// unknown model's calls are no group of $0.
fn pareto_chart(a: &Audit) -> Option<Chart> {
    let groups: Vec<_> = a
        .feature_model
        .iter()
        .filter(|g| g.stats.cost > Money::ZERO)
        .collect();
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
    // What those groups make: 80% or more (hunt93: "make 80%" beside
    // TA101's 85% of the same groups).
    let share = points.get(k80).map_or(100.0, |p| p.1);
    // A chart a thousand pixels wide needs no more points than that: the
    // curve of 540,000 groups was two 4 MB SVG attributes (hunt77). Every
    // step-th point is kept, with the 80% one and the last.
    if points.len() > PARETO_POINTS {
        let step = points.len().div_ceil(PARETO_POINTS);
        let last = points.len() - 1;
        points = points
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % step == 0 || *i == k80 || *i == last)
            .map(|(_, p)| p)
            .collect();
    }
    let mut note = vec![Inline::plain(format!(
        "{k80} of {n} feature × model groups make {share:.0}% of spend"
    ))];
    for (i, g) in groups.iter().take(k80.min(5)).enumerate() {
        note.push(Inline::plain(if i == 0 { ", led by " } else { ", " }));
        note.push(Inline::Label(g.feature.clone()));
        note.push(Inline::plain(" on "));
        note.push(Inline::Label(g.model.clone()));
    }
    note.push(Inline::plain("."));
    Some(Chart {
        id: "chart-pareto",
        title: "Pareto curve of spend",
        plot: Plot::Pareto(Pareto { points, n, k80 }),
        legend: Vec::new(),
        note,
    })
}

/// The most points the Pareto curve is drawn with.
const PARETO_POINTS: usize = 1_000;

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
        note: vec![Inline::plain(
            "A model whose share of spend is far above its share of calls is where a cheaper route pays most.",
        )],
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
        note: vec![
            Inline::plain("Over the period "),
            Inline::Share(
                a.totals.cached_read_tokens as f64,
                a.totals.input_tokens as f64,
            ),
            Inline::plain(
                " of input tokens were read from the provider's cache (cached reads cost a fraction of fresh input).",
            ),
        ],
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

pub(crate) const TOKEN_KINDS: [(&str, RGBColor); 5] = [
    ("input, uncached", RGBColor(0x1f, 0x77, 0xb4)),
    ("input, cached read", RGBColor(0x9e, 0xda, 0xe5)),
    ("input, cache write", RGBColor(0x17, 0xbe, 0xcf)),
    ("output, visible", RGBColor(0xff, 0x7f, 0x0e)),
    ("output, reasoning", RGBColor(0xd6, 0x27, 0x28)),
];

pub(crate) fn token_parts(s: &Stats) -> [u64; 5] {
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
        note: Vec::new(),
    })
}

/// The charts of where the money goes, in page order.
pub(crate) fn spend_charts(a: &Audit) -> Vec<Chart> {
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
    let mut all: Vec<Chart> = waterfall(a).into_iter().collect();
    all.extend(spend_charts(a));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

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
