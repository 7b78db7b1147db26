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
    }
}

/// Tick positions: decades (with 2 and 5 when the range is under two decades) on a log axis,
/// 1-2-5 steps on a linear one.
fn ticks(lo: f64, hi: f64, log: bool) -> Vec<f64> {
    if log {
        let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        let mult: &[f64] = if hi / lo < 12.0 {
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
        } else if b - a <= 2 {
            &[1.0, 2.0, 5.0]
        } else {
            &[1.0]
        };
        let step = if b - a > 10 {
            ((b - a) as f64 / 8.0).ceil() as i32
        } else {
            1
        };
        let mut t = Vec::new();
        let mut e = a;
        while e <= b {
            for m in mult {
                let v = m * 10f64.powi(e);
                if v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9) {
                    t.push(v);
                }
            }
            e += step;
        }
        t
    } else {
        let span = (hi - lo).max(1e-300);
        let raw = span / 6.0;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| span / s <= 7.0)
            .unwrap_or(10.0 * mag);
        let mut v = (lo / step).ceil() * step;
        let mut t = Vec::new();
        while v <= hi + 1e-9 * span {
            t.push(if v.abs() < 1e-12 * span { 0.0 } else { v });
            v += step;
        }
        t
    }
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

fn extent(panel: &Panel, axis_x: bool) -> (f64, f64) {
    let ax = if axis_x { &panel.x } else { &panel.y };
    if let Some(r) = ax.range {
        return r;
    }
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for s in &panel.series {
        for (i, p) in s.points.iter().enumerate() {
            let mut vals = vec![if axis_x { p.0 } else { p.1 }];
            if !axis_x {
                match &s.mark {
                    Mark::Band(up) => vals.push(up[i]),
                    Mark::ErrorBars(e) => vals.extend([e[i].0, e[i].1]),
                    _ => {}
                }
            }
            for v in vals {
                if v.is_finite() && (!ax.log || v > 0.0) {
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return (1.0, 10.0);
    }
    if ax.log {
        let pad = (hi / lo).powf(0.04);
        (lo / pad, hi * pad)
    } else {
        let pad = 0.05 * (hi - lo).max(1e-9 * hi.abs().max(1.0));
        (lo - pad, hi + pad)
    }
}

/// Render panels side by side as one SVG document.
pub fn render(panels: &[Panel]) -> String {
    let total_w = W * panels.len() as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total_w} {H}" width="{total_w}" height="{H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>"#
    );
    for (pi, panel) in panels.iter().enumerate() {
        let ox = W * pi as f64;
        let (x0, x1) = extent(panel, true);
        let (y0, y1) = extent(panel, false);
        let tx = |v: f64| {
            let t = if panel.x.log {
                (v.ln() - x0.ln()) / (x1.ln() - x0.ln())
            } else {
                (v - x0) / (x1 - x0)
            };
            ox + ML + t * (W - ML - MR)
        };
        let ty = |v: f64| {
            let t = if panel.y.log {
                (v.ln() - y0.ln()) / (y1.ln() - y0.ln())
            } else {
                (v - y0) / (y1 - y0)
            };
            H - MB - t * (H - MT - MB)
        };
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
        for t in ticks(x0, x1, panel.x.log) {
            let x = tx(t);
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{MT}" x2="{x:.1}" y2="{:.1}" stroke="#e5e5e5"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
                H - MB,
                H - MB + 16.0,
                escape(&fmt_tick(t, panel.x.ticks))
            );
        }
        for t in ticks(y0, y1, panel.y.log) {
            let y = ty(t);
            let _ = write!(
                s,
                r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
                ox + ML,
                ox + W - MR,
                ox + ML - 6.0,
                y + 4.0,
                escape(&fmt_tick(t, panel.y.ticks))
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
            r#"<clipPath id="c{pi}"><rect x="{:.1}" y="{MT}" width="{:.1}" height="{:.1}"/></clipPath><g clip-path="url(#c{pi})">"#,
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
        // The legend goes in the corner with the fewest data points.
        let entries = panel.series.iter().filter(|s| !s.name.is_empty()).count();
        let (lw, lh) = (190.0, 16.0 * entries as f64 + 6.0);
        let corners = [
            (ox + W - MR - lw, MT + 2.0),
            (ox + ML + 6.0, MT + 2.0),
            (ox + W - MR - lw, H - MB - lh - 2.0),
            (ox + ML + 6.0, H - MB - lh - 2.0),
        ];
        let crowd = |(cx, cy): (f64, f64)| {
            panel
                .series
                .iter()
                .flat_map(|s| s.points.iter())
                .filter(|p| ok(p.0, p.1))
                .filter(|p| {
                    let (x, y) = (tx(p.0), ty(p.1));
                    x >= cx && x <= cx + lw && y >= cy && y <= cy + lh
                })
                .count()
        };
        let (lx0, ly0) = corners
            .iter()
            .copied()
            .min_by_key(|c| crowd(*c))
            .unwrap_or(corners[0]);
        if entries > 0 {
            let _ = write!(
                s,
                r#"<rect x="{lx0:.1}" y="{ly0:.1}" width="{lw}" height="{lh:.1}" fill="white" fill-opacity="0.85" stroke="none"/>"#
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
