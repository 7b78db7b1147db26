//! A small SVG plotting toolkit: log or linear axes with readable ticks (1e18, 1e19; 100M, 1B),
//! scatter, lines and bands, a legend, and a colour-blind-safe palette (Okabe & Ito 2008) whose
//! markers also differ in shape, so plots read in greyscale. Returns strings; writes nothing.

use std::fmt::Write as _;

/// Okabe-Ito colours.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
];

/// Escape text for XML and HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// How tick labels are written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TickStyle {
    /// 1e18, 1e19.
    Scientific,
    /// 100M, 1B, 10B.
    Count,
    /// Plain numbers.
    Plain,
    /// Whole numbers only (counts of replicates): no tick between two integers, none written
    /// with a decimal point.
    Integer,
}

/// An axis.
#[derive(Debug, Clone)]
pub struct Axis {
    /// Label with unit.
    pub label: String,
    /// Logarithmic.
    pub log: bool,
    /// Tick labels.
    pub ticks: TickStyle,
    /// Range (computed from the data when `None`).
    pub range: Option<(f64, f64)>,
}

/// What a series draws.
#[derive(Debug, Clone, PartialEq)]
pub enum Mark {
    /// Markers.
    Points,
    /// A solid line.
    Line,
    /// A dashed line.
    Dashed,
    /// A shaded band between `points` (lower) and these upper values (same x).
    Band(Vec<f64>),
    /// Vertical error bars: (low, high) per point.
    ErrorBars(Vec<(f64, f64)>),
}

/// A data series.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend entry (empty: not in the legend).
    pub name: String,
    /// (x, y) points.
    pub points: Vec<(f64, f64)>,
    /// How to draw it.
    pub mark: Mark,
    /// Palette index (colour and marker shape).
    pub style: usize,
}

/// One plot panel.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Title.
    pub title: String,
    /// x axis.
    pub x: Axis,
    /// y axis.
    pub y: Axis,
    /// Series.
    pub series: Vec<Series>,
}

const W: f64 = 560.0;
const H: f64 = 400.0;
const ML: f64 = 72.0;
const MR: f64 = 20.0;
const MT: f64 = 36.0;
const MB: f64 = 56.0;
/// Width of the legend box.
const LW: f64 = 190.0;
/// The most ticks an axis gets: bounds every tick loop whatever the range.
const MAX_TICKS: usize = 40;
/// log10 of the largest and smallest positive values an axis may reach (f64::MAX is
/// 1.797e308; the smallest subnormal is 4.9e-324).
const LOG10_MAX: f64 = 308.25;
const LOG10_MIN: f64 = -323.0;

fn fmt_tick(v: f64, style: TickStyle) -> String {
    match style {
        TickStyle::Count => {
            // Compact: 100M, 1B, 10B (no trailing zeros on round ticks).
            let h = super::human(v);
            let (num, suffix) =
                h.split_at(h.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(h.len()));
            let num = if num.contains('.') {
                num.trim_end_matches('0').trim_end_matches('.')
            } else {
                num
            };
            format!("{num}{suffix}")
        }
        TickStyle::Scientific => {
            let e = v.log10().round();
            if (v / 10f64.powf(e) - 1.0).abs() < 1e-9 {
                format!("1e{}", e as i64)
            } else {
                format!("{v:.1e}")
            }
        }
        TickStyle::Plain => super::sig(v, 3),
        TickStyle::Integer => format!("{:.0}", v.round()),
    }
}

/// The labels of an axis's ticks. Plain ticks share the fewest decimals that write every tick
/// exactly (2, 3, 4 rather than 2.00, 3.00, 4.00; 2.0, 2.5, 3.0 where halves are needed), in
/// fixed notation between 1e-3 and 1e6 and scientific outside (1e200, not 1.00e200).
fn fmt_ticks(ticks: &[f64], style: TickStyle) -> Vec<String> {
    if style != TickStyle::Plain {
        return ticks.iter().map(|&t| fmt_tick(t, style)).collect();
    }
    let fixed = ticks
        .iter()
        .all(|t| *t == 0.0 || (1e-3..1e6).contains(&t.abs()));
    let write = |t: f64, d: usize| {
        if fixed {
            format!("{t:.d$}")
        } else {
            format!("{t:.d$e}")
        }
    };
    for d in 0..=6 {
        let labels: Vec<String> = ticks.iter().map(|&t| write(t, d)).collect();
        let exact = ticks.iter().zip(&labels).all(|(t, l)| {
            l.parse::<f64>()
                .is_ok_and(|v| (v - t).abs() <= 1e-9 * t.abs().max(1e-300))
        });
        if exact {
            return labels;
        }
    }
    ticks.iter().map(|&t| fmt_tick(t, style)).collect()
}

/// Tick positions for `style`: [`ticks`], keeping only whole numbers for
/// [`TickStyle::Integer`].
fn ticks_for(lo: f64, hi: f64, log: bool, style: TickStyle) -> Vec<f64> {
    let mut t = ticks(lo, hi, log);
    if style == TickStyle::Integer {
        t.retain(|v| (v - v.round()).abs() < 1e-9 * v.abs().max(1.0));
        if t.is_empty() {
            // A range narrower than one unit: the whole numbers inside it, if any.
            t = (lo.ceil() as i64..=hi.floor() as i64)
                .take(MAX_TICKS)
                .map(|v| v as f64)
                .collect();
        }
    }
    t
}

/// Tick positions. On a log axis, the coarsest of decades (every few decades over more than
/// ten), 1-2-5 and every digit that gives four ticks; a range too narrow even for that (a loss
/// from 2.1 to 3.3) gets the linear axis's 1-2-5 steps. Empty for a range that is not finite,
/// empty, or (log) not positive; never more than `MAX_TICKS` ticks, whatever the range.
fn ticks(lo: f64, hi: f64, log: bool) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite() && hi > lo) || (log && lo <= 0.0) {
        return Vec::new();
    }
    if !log {
        return linear_ticks(lo, hi);
    }
    // Both exponents lie in [-324, 309]: lo and hi are finite and positive.
    let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let step = if b - a > 10 {
        ((b - a) as f64 / 8.0).ceil() as i32
    } else {
        1
    };
    let decade_ticks = |mult: &[f64]| {
        let mut t = Vec::new();
        for e in (a..=b).step_by(step.max(1) as usize) {
            for m in mult {
                let v = m * 10f64.powi(e);
                if v.is_finite() && v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                    t.push(v);
                }
            }
        }
        t
    };
    // The coarsest of decades, 1-2-5 and every digit that gives four ticks.
    let mut t = Vec::new();
    for mult in [
        &[1.0][..],
        &[1.0, 2.0, 5.0],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    ] {
        t = decade_ticks(mult);
        if t.len() >= 4 {
            break;
        }
    }
    if t.len() < 4 {
        let lin = linear_ticks(lo, hi);
        if lin.len() > t.len() {
            return lin;
        }
    }
    t.truncate(MAX_TICKS);
    t
}

/// 1-2-5 steps over [lo, hi] (finite, lo < hi). The range is first scaled by a power of ten so
/// that neither its span overflows (-1e308 to 1e308) nor its step underflows (1e-320).
fn linear_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let m = lo.abs().max(hi.abs());
    let p = m.log10().floor().clamp(-300.0, 300.0) as i32;
    let scale = 10f64.powi(p);
    let (l, h) = (lo / scale, hi / scale);
    let span = h - l;
    if !(span.is_finite() && span > 0.0) {
        return Vec::new();
    }
    let mag = 10f64.powf((span / 6.0).log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= 7.0)
        .unwrap_or(10.0 * mag);
    if !(step.is_finite() && step > 0.0) {
        return Vec::new();
    }
    let first = (l / step).ceil();
    let last = (h / step + 1e-9).floor();
    if !(last >= first) {
        return Vec::new();
    }
    let n = ((last - first) as usize).saturating_add(1).min(MAX_TICKS);
    (0..n)
        .map(|i| {
            let v = (first + i as f64) * step;
            if v.abs() < 1e-9 * step {
                0.0
            } else {
                v * scale
            }
        })
        .filter(|v| v.is_finite())
        .collect()
}

/// Colour `style % 8`, shape `(style + style / 8) % 4`: sixteen or more distinct pairs.
fn marker(style: usize, x: f64, y: f64, colour: &str) -> String {
    match (style + style / 8) % 4 {
        0 => format!(
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="3.2" fill="{colour}" fill-opacity="0.8"/>"#
        ),
        1 => format!(
            r#"<rect x="{:.1}" y="{:.1}" width="6" height="6" fill="{colour}" fill-opacity="0.8"/>"#,
            x - 3.0,
            y - 3.0
        ),
        2 => format!(
            r#"<path d="M{x:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z" fill="{colour}" fill-opacity="0.8"/>"#,
            y - 4.0,
            x + 3.8,
            y + 3.0,
            x - 3.8,
            y + 3.0
        ),
        _ => format!(
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="3.2" fill="white" stroke="{colour}" stroke-width="1.6"/>"#
        ),
    }
}

/// The range an axis shows: its given range when usable, else the data's, padded. Always
/// finite with lo < hi (and lo > 0 on a log axis), so that one distinct value, 1e308 or 1e-320
/// still give a drawable axis and no NaN coordinate.
fn extent(panel: &Panel, axis_x: bool) -> (f64, f64) {
    let ax = if axis_x { &panel.x } else { &panel.y };
    let usable = |v: f64| v.is_finite() && (!ax.log || v > 0.0);
    if let Some((lo, hi)) = ax.range {
        if usable(lo) && usable(hi) && hi > lo {
            return (lo, hi);
        }
    }
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for s in &panel.series {
        for (i, p) in s.points.iter().enumerate() {
            let mut vals = vec![if axis_x { p.0 } else { p.1 }];
            if !axis_x {
                match &s.mark {
                    Mark::Band(up) => vals.extend(up.get(i).copied()),
                    Mark::ErrorBars(e) => vals.extend(e.get(i).iter().flat_map(|e| [e.0, e.1])),
                    _ => {}
                }
            }
            for v in vals {
                if usable(v) {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
    }
    let fallback = if ax.log { (1.0, 10.0) } else { (0.0, 1.0) };
    if !(lo.is_finite() && hi.is_finite()) {
        return fallback;
    }
    let (l, h) = if ax.log {
        // In decades: 4% of the span each side, or a twentieth of a decade for one value.
        let (a, b) = (lo.log10(), hi.log10());
        let pad = if b - a > 1e-9 { 0.04 * (b - a) } else { 0.05 };
        (
            10f64.powf((a - pad).max(LOG10_MIN)),
            10f64.powf((b + pad).min(LOG10_MAX)),
        )
    } else {
        // Halves, so that hi - lo cannot overflow (-1e308 to 1e308).
        let half = hi / 2.0 - lo / 2.0;
        let pad = if half > 1e-9 * hi.abs().max(lo.abs()) {
            0.1 * half
        } else if hi != 0.0 {
            0.1 * hi.abs()
        } else {
            1.0
        };
        ((lo - pad).max(-f64::MAX), (hi + pad).min(f64::MAX))
    };
    if l.is_finite() && h.is_finite() && h > l && (!ax.log || l > 0.0) {
        (l, h)
    } else {
        fallback
    }
}

/// Where `v` falls between `a` and `b` (0 at a, 1 at b), on a log or linear scale, without
/// overflow; clamped to +-1000 spans so that a wild point gives a long line, not a huge number.
fn unit(v: f64, a: f64, b: f64, log: bool) -> f64 {
    let t = if log {
        (v.ln() - a.ln()) / (b.ln() - a.ln())
    } else {
        (v / 2.0 - a / 2.0) / (b / 2.0 - a / 2.0)
    };
    t.clamp(-1000.0, 1000.0)
}

/// Where a panel's legend goes: a corner of the plot area free of data, or, when every corner
/// holds some, outside the plot area on its right (the panel is then wider by the legend).
#[derive(Debug, Clone, Copy, PartialEq)]
enum LegendPlace {
    /// No legend entries.
    None,
    /// Inside the plot area at this top-left corner (relative to the panel's origin).
    Inside(f64, f64),
    /// To the right of the plot area.
    Outside,
}

/// Width, ranges and legend place of a panel.
struct Layout {
    x: (f64, f64),
    y: (f64, f64),
    legend: LegendPlace,
    width: f64,
    legend_height: f64,
}

/// Everything a panel draws, as points in panel coordinates (lines sampled along their
/// segments), to find a corner free of data.
fn drawn_points(
    panel: &Panel,
    px: &dyn Fn(f64) -> f64,
    py: &dyn Fn(f64) -> f64,
) -> Vec<(f64, f64)> {
    let ok = |x: f64, y: f64| {
        x.is_finite() && y.is_finite() && (!panel.x.log || x > 0.0) && (!panel.y.log || y > 0.0)
    };
    let mut out = Vec::new();
    let line = |pts: &[(f64, f64)], out: &mut Vec<(f64, f64)>| {
        let q: Vec<(f64, f64)> = pts
            .iter()
            .filter(|p| ok(p.0, p.1))
            .map(|p| (px(p.0), py(p.1)))
            .collect();
        for w in q.windows(2) {
            for k in 0..8 {
                let f = k as f64 / 8.0;
                out.push((
                    w[0].0 + f * (w[1].0 - w[0].0),
                    w[0].1 + f * (w[1].1 - w[0].1),
                ));
            }
        }
        out.extend(q.last().copied());
    };
    for se in &panel.series {
        match &se.mark {
            Mark::Points => out.extend(
                se.points
                    .iter()
                    .filter(|p| ok(p.0, p.1))
                    .map(|p| (px(p.0), py(p.1))),
            ),
            Mark::Line | Mark::Dashed => line(&se.points, &mut out),
            Mark::Band(up) => {
                line(&se.points, &mut out);
                let upper: Vec<(f64, f64)> =
                    se.points.iter().zip(up).map(|(p, u)| (p.0, *u)).collect();
                line(&upper, &mut out);
            }
            Mark::ErrorBars(e) => {
                for (p, (lo, hi)) in se.points.iter().zip(e) {
                    line(&[(p.0, *lo), (p.0, *hi)], &mut out);
                    if ok(p.0, p.1) {
                        out.push((px(p.0), py(p.1)));
                    }
                }
            }
        }
    }
    out
}

fn layout(panel: &Panel) -> Layout {
    let x = extent(panel, true);
    let y = extent(panel, false);
    let px = |v: f64| ML + unit(v, x.0, x.1, panel.x.log) * (W - ML - MR);
    let py = |v: f64| H - MB - unit(v, y.0, y.1, panel.y.log) * (H - MT - MB);
    let entries = panel.series.iter().filter(|s| !s.name.is_empty()).count();
    let lh = 16.0 * entries as f64 + 6.0;
    let mut legend = LegendPlace::None;
    if entries > 0 {
        let drawn = drawn_points(panel, &px, &py);
        // A few pixels of margin: a marker's edge next to the box counts as under it.
        let crowd = |(cx, cy): (f64, f64)| {
            drawn
                .iter()
                .filter(|(x, y)| {
                    *x >= cx - 4.0 && *x <= cx + LW + 4.0 && *y >= cy - 4.0 && *y <= cy + lh + 4.0
                })
                .count()
        };
        let corners = [
            (W - MR - LW, MT + 2.0),
            (ML + 6.0, MT + 2.0),
            (W - MR - LW, H - MB - lh - 2.0),
            (ML + 6.0, H - MB - lh - 2.0),
        ];
        // A legend taller than the plot area cannot sit inside it.
        legend = match corners.iter().copied().find(|c| crowd(*c) == 0) {
            Some((cx, cy)) if lh < H - MT - MB - 4.0 => LegendPlace::Inside(cx, cy),
            _ => LegendPlace::Outside,
        };
    }
    Layout {
        x,
        y,
        legend,
        width: if legend == LegendPlace::Outside {
            W + LW + 8.0
        } else {
            W
        },
        legend_height: lh,
    }
}

/// Most points of markers and lines drawn in one panel: beyond it [`thin`] draws every k-th
/// point, so a plot of a million runs stays a few hundred kilobytes.
pub const MAX_DRAWN_POINTS: usize = 4000;

/// The panel as drawn: when its marker and line series hold more than [`MAX_DRAWN_POINTS`]
/// points, each such series keeps every k-th point (k = ceil(total / MAX_DRAWN_POINTS), the
/// first and last of a line always kept) and the title says so. Bands and error bars (one per
/// grid point or budget) are drawn whole.
///
/// # Examples
/// ```
/// use scaling::report::svg::{thin, Axis, Mark, Panel, Series, TickStyle, MAX_DRAWN_POINTS};
/// let axis = Axis { label: "x".into(), log: false, ticks: TickStyle::Plain, range: None };
/// let pts: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64, 1.0)).collect();
/// let p = Panel { title: "t".into(), x: axis.clone(), y: axis, series: vec![
///     Series { name: "runs".into(), points: pts, mark: Mark::Points, style: 0 }] };
/// let t = thin(&p);
/// assert!(t.series[0].points.len() <= MAX_DRAWN_POINTS);
/// assert!(t.title.contains("every 3rd of 10000 points drawn"));
/// ```
pub fn thin(panel: &Panel) -> Panel {
    let thinnable = |m: &Mark| matches!(m, Mark::Points | Mark::Line | Mark::Dashed);
    let total: usize = panel
        .series
        .iter()
        .filter(|s| thinnable(&s.mark))
        .map(|s| s.points.len())
        .sum();
    if total <= MAX_DRAWN_POINTS {
        return panel.clone();
    }
    let k = total.div_ceil(MAX_DRAWN_POINTS);
    let mut p = panel.clone();
    for s in p.series.iter_mut().filter(|s| thinnable(&s.mark)) {
        let n = s.points.len();
        let mut kept: Vec<(f64, f64)> = s.points.iter().step_by(k).copied().collect();
        if !matches!(s.mark, Mark::Points) && n > 1 && (n - 1) % k != 0 {
            kept.push(s.points[n - 1]);
        }
        s.points = kept;
    }
    let nth = match k % 10 {
        _ if (11..=13).contains(&(k % 100)) => format!("{k}th"),
        1 => format!("{k}st"),
        2 => format!("{k}nd"),
        3 => format!("{k}rd"),
        _ => format!("{k}th"),
    };
    p.title = format!("{} (every {nth} of {total} points drawn)", p.title);
    p
}

/// Render panels side by side as one SVG document (each panel [`thin`]ned first).
///
/// # Examples
/// ```
/// let svg = scaling::report::svg::render(&[]);
/// assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
/// ```
pub fn render(panels: &[Panel]) -> String {
    render_with_ids(panels, "c")
}

/// Render rows of panels, one row under the other (each row as [`render`] draws it), as one
/// SVG document.
///
/// # Examples
/// ```
/// use scaling::report::svg::{render_grid, Axis, Mark, Panel, Series, TickStyle};
/// let axis = Axis { label: "x".into(), log: false, ticks: TickStyle::Plain, range: None };
/// let p = Panel { title: "t".into(), x: axis.clone(), y: axis, series: vec![
///     Series { name: "runs".into(), points: vec![(1.0, 2.0), (2.0, 3.0)], mark: Mark::Points, style: 0 }] };
/// let svg = render_grid(&[vec![p.clone(), p.clone()], vec![p]]);
/// assert!(svg.contains(r#"<svg x="0" y="400""#));
/// ```
pub fn render_grid(rows: &[Vec<Panel>]) -> String {
    let mut body = String::new();
    let (mut width, mut y) = (0.0f64, 0.0f64);
    for (i, row) in rows.iter().enumerate() {
        let svg = render_with_ids(row, &format!("r{i}c"));
        // The row's own size, from the root element this module writes.
        let size = |attr: &str| -> f64 {
            svg.split_once(&format!(" {attr}=\""))
                .and_then(|(_, rest)| rest.split('"').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(H)
        };
        let (w, h) = (size("width"), size("height"));
        body.push_str(&svg.replacen("<svg ", &format!(r#"<svg x="0" y="{y}" "#), 1));
        width = width.max(w);
        y += h;
    }
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {y}" width="{width}" height="{y}"><rect width="100%" height="100%" fill="white"/>{body}</svg>
"#
    )
}

fn render_with_ids(panels: &[Panel], id: &str) -> String {
    let panels: Vec<Panel> = panels.iter().map(thin).collect();
    let panels = &panels[..];
    let layouts: Vec<Layout> = panels.iter().map(layout).collect();
    let total_w: f64 = layouts.iter().map(|l| l.width).sum();
    let total_h = layouts
        .iter()
        .map(|l| match l.legend {
            // An outside legend taller than the panel makes the picture taller.
            LegendPlace::Outside => (MT + 2.0 + l.legend_height + 8.0).max(H),
            _ => H,
        })
        .fold(H, f64::max);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total_w} {total_h}" width="{total_w}" height="{total_h}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>"#
    );
    let mut ox = 0.0;
    for (pi, (panel, lay)) in panels.iter().zip(&layouts).enumerate() {
        let ((x0, x1), (y0, y1)) = (lay.x, lay.y);
        let tx = |v: f64| ox + ML + unit(v, x0, x1, panel.x.log) * (W - ML - MR);
        let ty = |v: f64| H - MB - unit(v, y0, y1, panel.y.log) * (H - MT - MB);
        let ok = |x: f64, y: f64| {
            x.is_finite() && y.is_finite() && (!panel.x.log || x > 0.0) && (!panel.y.log || y > 0.0)
        };
        let _ = write!(
            s,
            r#"<g><text x="{:.1}" y="22" font-size="14" font-weight="bold">{}</text>"#,
            ox + ML,
            escape(&panel.title)
        );
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{MT}" width="{:.1}" height="{:.1}" fill="none" stroke="#444"/>"##,
            ox + ML,
            W - ML - MR,
            H - MT - MB
        );
        let xt: Vec<f64> = ticks_for(x0, x1, panel.x.log, panel.x.ticks)
            .into_iter()
            .filter(|t| ok(*t, 1.0))
            .collect();
        for (t, label) in xt.iter().zip(fmt_ticks(&xt, panel.x.ticks)) {
            let x = tx(*t);
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{MT}" x2="{x:.1}" y2="{:.1}" stroke="#e5e5e5"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                H - MB,
                H - MB + 16.0,
                escape(&label)
            );
        }
        let yt: Vec<f64> = ticks_for(y0, y1, panel.y.log, panel.y.ticks)
            .into_iter()
            .filter(|t| ok(1.0, *t))
            .collect();
        for (t, label) in yt.iter().zip(fmt_ticks(&yt, panel.y.ticks)) {
            let y = ty(*t);
            let _ = write!(
                s,
                r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                ox + ML,
                ox + W - MR,
                ox + ML - 6.0,
                y + 4.0,
                escape(&label)
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text transform="translate({:.1},{:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
            ox + ML + (W - ML - MR) / 2.0,
            H - 14.0,
            escape(&panel.x.label),
            ox + 18.0,
            MT + (H - MT - MB) / 2.0,
            escape(&panel.y.label)
        );
        let _ = write!(
            s,
            r#"<clipPath id="{id}{pi}"><rect x="{:.1}" y="{MT}" width="{:.1}" height="{:.1}"/></clipPath><g clip-path="url(#{id}{pi})">"#,
            ox + ML,
            W - ML - MR,
            H - MT - MB
        );
        for se in &panel.series {
            let colour = PALETTE[se.style % PALETTE.len()];
            match &se.mark {
                Mark::Points => {
                    for &(x, y) in &se.points {
                        if ok(x, y) {
                            s.push_str(&marker(se.style, tx(x), ty(y), colour));
                        }
                    }
                }
                Mark::Line | Mark::Dashed => {
                    let pts: Vec<String> = se
                        .points
                        .iter()
                        .filter(|p| ok(p.0, p.1))
                        .map(|p| format!("{:.1},{:.1}", tx(p.0), ty(p.1)))
                        .collect();
                    if pts.len() >= 2 {
                        let dash = if se.mark == Mark::Dashed {
                            r#" stroke-dasharray="6,4""#
                        } else {
                            ""
                        };
                        let _ = write!(
                            s,
                            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
                            pts.join(" ")
                        );
                    }
                }
                Mark::Band(up) => {
                    let lower: Vec<String> = se
                        .points
                        .iter()
                        .filter(|p| ok(p.0, p.1))
                        .map(|p| format!("{:.1},{:.1}", tx(p.0), ty(p.1)))
                        .collect();
                    let upper: Vec<String> = se
                        .points
                        .iter()
                        .zip(up)
                        .rev()
                        .filter(|(p, u)| ok(p.0, **u))
                        .map(|(p, u)| format!("{:.1},{:.1}", tx(p.0), ty(*u)))
                        .collect();
                    if lower.len() >= 2 && upper.len() >= 2 {
                        let _ = write!(
                            s,
                            r#"<polygon points="{} {}" fill="{colour}" fill-opacity="0.2" stroke="none"/>"#,
                            lower.join(" "),
                            upper.join(" ")
                        );
                    }
                }
                Mark::ErrorBars(e) => {
                    for (p, (lo, hi)) in se.points.iter().zip(e) {
                        if ok(p.0, *lo) && ok(p.0, *hi) {
                            let x = tx(p.0);
                            let _ = write!(
                                s,
                                r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="{colour}" stroke-width="1.5"/>"#,
                                ty(*lo),
                                ty(*hi)
                            );
                        }
                        if ok(p.0, p.1) {
                            s.push_str(&marker(se.style, tx(p.0), ty(p.1), colour));
                        }
                    }
                }
            }
        }
        s.push_str("</g>");
        // The legend: in a corner free of data, or to the right of the plot area.
        let (lx0, ly0) = match lay.legend {
            LegendPlace::Inside(cx, cy) => (ox + cx, cy),
            LegendPlace::Outside => (ox + W - MR + 8.0, MT),
            LegendPlace::None => (ox, MT),
        };
        if lay.legend != LegendPlace::None {
            let _ = write!(
                s,
                r#"<rect x="{lx0:.1}" y="{ly0:.1}" width="{LW}" height="{:.1}" fill="white" fill-opacity="0.85" stroke="none"/>"#,
                lay.legend_height
            );
        }
        let mut ly = ly0 + 16.0;
        for se in panel.series.iter().filter(|s| !s.name.is_empty()) {
            let colour = PALETTE[se.style % PALETTE.len()];
            let lx = lx0 + 4.0;
            match se.mark {
                Mark::Points | Mark::ErrorBars(_) => {
                    s.push_str(&marker(se.style, lx + 8.0, ly - 4.0, colour))
                }
                Mark::Band(_) => {
                    let _ = write!(
                        s,
                        r#"<rect x="{:.1}" y="{:.1}" width="16" height="8" fill="{colour}" fill-opacity="0.3"/>"#,
                        lx,
                        ly - 8.0
                    );
                }
                _ => {
                    let dash = if se.mark == Mark::Dashed {
                        r#" stroke-dasharray="6,4""#
                    } else {
                        ""
                    };
                    let _ = write!(
                        s,
                        r#"<line x1="{lx:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2"{dash}/>"#,
                        ly - 4.0,
                        lx + 16.0,
                        ly - 4.0
                    );
                }
            }
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{ly:.1}">{}</text>"#,
                lx + 22.0,
                escape(&se.name)
            );
            ly += 16.0;
        }
        s.push_str("</g>");
        ox += lay.width;
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_readable() {
        assert_eq!(ticks(1e18, 1e22, true), vec![1e18, 1e19, 1e20, 1e21, 1e22]);
        assert_eq!(fmt_tick(1e19, TickStyle::Scientific), "1e19");
        assert_eq!(fmt_tick(1e9, TickStyle::Count), "1B");
        assert_eq!(fmt_tick(1e8, TickStyle::Count), "100M");
        assert_eq!(fmt_tick(2.5e9, TickStyle::Count), "2.5B");
        let t = ticks(2.0, 3.4, false);
        assert!(t.len() >= 3 && t.len() <= 8, "{t:?}");
        assert!(ticks(3e8, 9e8, true).len() >= 2);
    }

    fn panel(points: Vec<(f64, f64)>, log: bool, name: &str) -> Panel {
        let axis = |label: &str| Axis {
            label: label.into(),
            log,
            ticks: TickStyle::Plain,
            range: None,
        };
        Panel {
            title: "t".into(),
            x: axis("x"),
            y: axis("y"),
            series: vec![Series {
                name: name.into(),
                points,
                mark: Mark::Points,
                style: 0,
            }],
        }
    }

    /// Every number written into an SVG attribute or text is finite.
    fn assert_no_poison(svg: &str) {
        for bad in ["NaN", "inf"] {
            assert!(!svg.contains(bad), "{bad} in {svg}");
        }
    }

    #[test]
    fn axis_ticks_terminate_on_1e308_and_subnormal_values() {
        // Regression (issue 11): one value of 1e308 or 1e-320 in a column sent the tick loop
        // round for ever while memory grew.
        for (lo, hi) in [
            (1.0, 1e308),
            (1e-320, 3.0),
            (1e-320, 1e308),
            (f64::MIN_POSITIVE, f64::MAX),
            (4.9e-324, 1e-323),
            (2.0, 2.0 + 1e-15),
        ] {
            let t = ticks(lo, hi, true);
            assert!(t.len() <= MAX_TICKS && t.iter().all(|v| v.is_finite() && *v > 0.0));
        }
        for (lo, hi) in [
            (-1e308, 1e308),
            (-f64::MAX, f64::MAX),
            (0.0, 1e-320),
            (1.0, 1.0 + 1e-15),
            (1e300, 1e300 * (1.0 + 1e-15)),
        ] {
            let t = ticks(lo, hi, false);
            assert!(t.len() <= MAX_TICKS && t.iter().all(|v| v.is_finite()));
        }
        assert!(ticks(f64::NAN, 1.0, false).is_empty());
        assert!(ticks(0.0, f64::INFINITY, true).is_empty());
        for pts in [
            vec![(1.0, 2.0), (1e308, 3.0)],
            vec![(1e-320, 2.0), (5.0, 3.0)],
            vec![(-1e308, 1e308), (1e308, -1e308)],
            vec![(f64::MAX, f64::MAX), (f64::MAX, f64::MAX)],
        ] {
            for log in [true, false] {
                assert_no_poison(&render(&[panel(pts.clone(), log, "runs")]));
            }
        }
    }

    #[test]
    fn one_distinct_value_plots_without_nan() {
        // Regression (issue 11): `plot residuals` with one distinct N wrote x="NaN".
        for log in [true, false] {
            let s = render(&[panel(vec![(1e9, 0.1), (1e9, -0.1)], log, "")]);
            assert_no_poison(&s);
            let s = render(&[panel(vec![(0.0, 0.0)], false, "")]);
            assert_no_poison(&s);
        }
    }

    #[test]
    fn narrow_log_ranges_get_readable_ticks() {
        // Regression (issue 11): a log loss axis from 2.1 to 3.3 got one or two ticks.
        for (lo, hi) in [
            (2.1, 3.3),
            (2.0, 2.2),
            (1.8, 4.5),
            (2e8, 1.5e10),
            (3e8, 9e8),
        ] {
            let t = ticks(lo, hi, true);
            assert!(t.len() >= 3 && t.len() <= 12, "{lo}..{hi}: {t:?}");
        }
        // Written without needless zeros.
        assert_eq!(
            fmt_ticks(&[2.0, 3.0, 4.0], TickStyle::Plain),
            ["2", "3", "4"]
        );
        assert_eq!(
            fmt_ticks(&[2.0, 2.5, 3.0], TickStyle::Plain),
            ["2.0", "2.5", "3.0"]
        );
        assert_eq!(
            fmt_ticks(&[1e100, 1e200], TickStyle::Plain),
            ["1e100", "1e200"]
        );
    }

    #[test]
    fn histogram_counts_print_as_integers() {
        // Regression (issue 11): replicate counts printed as "30.0".
        let t = ticks_for(0.0, 31.5, false, TickStyle::Integer);
        let labels = fmt_ticks(&t, TickStyle::Integer);
        assert!(labels.contains(&"30".to_string()), "{labels:?}");
        assert!(labels.iter().all(|l| !l.contains('.')), "{labels:?}");
        // A count axis from 0 to 2 gets no tick at 0.5.
        let t = ticks_for(0.0, 2.0, false, TickStyle::Integer);
        assert!(t.iter().all(|v| v.fract() == 0.0) && t.len() >= 2, "{t:?}");
    }

    #[test]
    fn legend_leaves_the_data_on_dense_plots() {
        // Regression (issue 11): on dense IsoFLOP plots the legend covered runs. With data in
        // every corner it goes outside the plot area; with a free corner it goes there.
        let dense: Vec<(f64, f64)> = (0..40)
            .flat_map(|i| (0..40).map(move |j| (i as f64, j as f64)))
            .collect();
        let lay = layout(&panel(dense.clone(), false, "runs"));
        assert_eq!(lay.legend, LegendPlace::Outside);
        assert!(
            render(&[panel(dense, false, "runs")]).contains(&format!("width=\"{}\"", W + LW + 8.0))
        );
        // Data only along the diagonal: the top-left corner is free.
        let diag: Vec<(f64, f64)> = (0..50).map(|i| (i as f64, i as f64)).collect();
        let p = panel(diag, false, "runs");
        let lay = layout(&p);
        match lay.legend {
            LegendPlace::Inside(cx, cy) => {
                let px = |v: f64| ML + unit(v, lay.x.0, lay.x.1, false) * (W - ML - MR);
                let py = |v: f64| H - MB - unit(v, lay.y.0, lay.y.1, false) * (H - MT - MB);
                for (x, y) in &p.series[0].points {
                    let (x, y) = (px(*x), py(*y));
                    assert!(
                        !(x >= cx && x <= cx + LW && y >= cy && y <= cy + lay.legend_height),
                        "a point under the legend"
                    );
                }
            }
            other => panic!("expected a free corner, got {other:?}"),
        }
    }

    #[test]
    fn text_is_escaped() {
        let p = Panel {
            title: "<script>alert(1)</script>".into(),
            x: Axis {
                label: "x".into(),
                log: false,
                ticks: TickStyle::Plain,
                range: None,
            },
            y: Axis {
                label: "y".into(),
                log: false,
                ticks: TickStyle::Plain,
                range: None,
            },
            series: vec![Series {
                name: "a & b".into(),
                points: vec![(1.0, 1.0), (2.0, 2.0)],
                mark: Mark::Points,
                style: 0,
            }],
        };
        let s = render(&[p]);
        assert!(!s.contains("<script>") && s.contains("&lt;script&gt;") && s.contains("a &amp; b"));
    }
}
