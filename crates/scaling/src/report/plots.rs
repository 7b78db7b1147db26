//! The plot kinds, built from library results; each returns an SVG string.

use super::svg::{render, Axis, Mark, Panel, Series, TickStyle};
use crate::data::{RoleSources, ValueSource};
use crate::fit::Fit;
use crate::law::{presets, Law};
use crate::methods::IsoflopResult;
use crate::num::quantile_sorted;

fn axis(label: &str, log: bool, ticks: TickStyle) -> Axis {
    Axis {
        label: label.into(),
        log,
        ticks,
        range: None,
    }
}

/// The label of a loss axis: the loss column's name as the table spells it ("loss" when the
/// loss was derived). The tool does not know the column's unit, so it claims none.
pub fn loss_label(sources: &RoleSources) -> String {
    match &sources.loss {
        Some(ValueSource::Column { column }) => column.clone(),
        _ => "loss".into(),
    }
}

fn logspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / (n - 1) as f64).exp())
        .collect()
}

/// Per-run C (FLOPs): the data's, or k N D.
fn run_flops(fit: &Fit) -> Vec<f64> {
    let d = &fit.data;
    if d.flops.len() == d.loss.len() && !d.flops.is_empty() {
        d.flops.clone()
    } else {
        let k = fit.conventions.flops_per_param_token;
        // A power law in one variable keeps no N or D: no C either (NaN points are not drawn).
        (0..d.loss.len())
            .map(|i| match (d.params.get(i), d.tokens.get(i)) {
                (Some(n), Some(t)) => k * n * t,
                _ => f64::NAN,
            })
            .collect()
    }
}

/// Loss against compute: runs coloured by model size, the fitted law's compute-optimal
/// frontier L*(C) (dashed beyond the data: extrapolation) with its bootstrap band.
///
/// # Examples
/// ```
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// let points = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &points, 0.01, 1, "synthetic").unwrap();
/// let f = scaling::fit::fit(&runs, &Default::default()).unwrap();
/// assert!(scaling::report::plots::loss_compute(&f).starts_with("<svg"));
/// ```
pub fn loss_compute(fit: &Fit) -> String {
    let c = run_flops(fit);
    let d = &fit.data;
    let mut series = Vec::new();
    if !d.params.is_empty() {
        let (lo, hi) = d
            .params
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(*v), b.max(*v)));
        let bins = 5usize;
        for b in 0..bins {
            // In ln N, so that 1e-320 to 1e308 (a ratio beyond f64) still gives finite edges.
            let edge = |k: usize| (lo.ln() + (hi.ln() - lo.ln()) * k as f64 / bins as f64).exp();
            let (blo, bhi) = (edge(b), edge(b + 1));
            let pts: Vec<(f64, f64)> = (0..d.loss.len())
                .filter(|&i| {
                    d.params[i] >= blo * (1.0 - 1e-12) && (d.params[i] < bhi || b == bins - 1)
                })
                .map(|i| (c[i], d.loss[i]))
                .collect();
            if !pts.is_empty() {
                series.push(Series {
                    name: format!("N {} to {}", super::human(blo), super::human(bhi)),
                    points: pts,
                    mark: Mark::Points,
                    style: b,
                });
            }
        }
    } else {
        series.push(Series {
            name: "runs".into(),
            points: c.iter().copied().zip(d.loss.iter().copied()).collect(),
            mark: Mark::Points,
            style: 0,
        });
    }
    if let (Some(law), true) = (fit.law(), fit.implied.is_some()) {
        let k = fit.conventions.flops_per_param_token;
        let cmin = c.iter().cloned().fold(f64::INFINITY, f64::min);
        let cmax = c.iter().cloned().fold(0.0, f64::max);
        let grid = logspace(cmin, (cmax * 100.0).clamp(1e24, f64::MAX), 60);
        let frontier = |g: &[f64], l: &Law| -> Vec<(f64, f64)> {
            g.iter()
                .filter_map(|&x| l.optimum(x, k).map(|o| (x, o.loss)))
                .collect()
        };
        if let Some(b) = &fit.bootstrap {
            let usable = b.usable();
            let (mut lo, mut hi) = (Vec::new(), Vec::new());
            for &x in &grid {
                let mut v: Vec<f64> = b
                    .samples
                    .iter()
                    .zip(&usable)
                    .filter(|(_, u)| **u)
                    .filter_map(|(s, _)| {
                        Law {
                            form: law.form.clone(),
                            params: s.clone(),
                        }
                        .optimum(x, k)
                        .map(|o| o.loss)
                    })
                    .collect();
                v.sort_by(|a, b| a.total_cmp(b));
                let a = (1.0 - b.level) / 2.0;
                lo.push((x, quantile_sorted(&v, a)));
                hi.push(quantile_sorted(&v, 1.0 - a));
            }
            series.push(Series {
                name: format!("{}% band", (100.0 * b.level).round()),
                points: lo,
                mark: Mark::Band(hi),
                style: 5,
            });
        }
        let inside: Vec<f64> = grid.iter().copied().filter(|&x| x <= cmax).collect();
        let beyond: Vec<f64> = grid.iter().copied().filter(|&x| x >= cmax).collect();
        series.push(Series {
            name: "compute-optimal L*(C)".into(),
            points: frontier(&inside, &law),
            mark: Mark::Line,
            style: 7,
        });
        series.push(Series {
            name: "extrapolated".into(),
            points: frontier(&beyond, &law),
            mark: Mark::Dashed,
            style: 7,
        });
    }
    render(&[Panel {
        title: "Loss against compute".into(),
        x: axis("training compute C (FLOPs)", true, TickStyle::Scientific),
        y: axis(
            &loss_label(&fit.conventions.columns),
            true,
            TickStyle::Plain,
        ),
        series,
    }])
}

/// IsoFLOP profiles: each budget's runs, fitted parabola and vertex with its interval;
/// `loss_axis` labels the loss axis (see [`loss_label`]).
pub fn isoflop(
    r: &IsoflopResult,
    params: &[f64],
    flops: &[f64],
    loss: &[f64],
    loss_axis: &str,
) -> String {
    let mut series = Vec::new();
    let many = r.budgets.len() > 10;
    for (i, b) in r.budgets.iter().enumerate() {
        let pts: Vec<(f64, f64)> = (0..loss.len())
            .filter(|&j| (flops[j] / b.flops).log10().abs() <= 0.15)
            .map(|j| (params[j], loss[j]))
            .collect();
        // Black (style 7) is kept for the vertices.
        let style = if i < 7 { i } else { i + 1 };
        series.push(Series {
            // Past ten budgets the palette repeats and a legend would overflow the panel.
            name: if many {
                String::new()
            } else {
                format!("C = {}", crate::num::sig(b.flops, 2))
            },
            points: pts,
            mark: Mark::Points,
            style,
        });
        if b.parabola.iter().all(|v| v.is_finite()) {
            let [c0, c1, c2] = b.parabola;
            let curve: Vec<(f64, f64)> = logspace(b.params_range[0], b.params_range[1], 40)
                .into_iter()
                .map(|n| (n, c0 + c1 * n.ln() + c2 * n.ln() * n.ln()))
                .collect();
            series.push(Series {
                name: String::new(),
                points: curve,
                mark: Mark::Line,
                style: if i < 7 { i } else { i + 1 },
            });
        }
    }
    let vert: Vec<&crate::methods::BudgetFit> =
        r.budgets.iter().filter(|b| b.params.is_finite()).collect();
    // A flat or ill-conditioned parabola can give a vertex interval far outside the data
    // (even below zero loss); such bars are cut at the data's loss range widened by half its
    // span, and the legend says so, rather than letting them squash every profile.
    let (lo, hi) = loss
        .iter()
        .chain(vert.iter().map(|b| &b.loss))
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let pad = 0.5 * (hi - lo).max(1e-12);
    let (lo, hi) = (lo - pad, hi + pad);
    let mut clipped = false;
    let bars: Vec<(f64, f64)> = vert
        .iter()
        .map(|b| {
            let (l, h) = b
                .loss_interval
                .map(|[l, h]| (l, h))
                .unwrap_or((b.loss, b.loss));
            clipped |= l < lo || h > hi;
            (l.max(lo), h.min(hi))
        })
        .collect();
    series.push(Series {
        name: if clipped {
            "vertex, L* interval (cut)".into()
        } else {
            "vertex (interval on L*)".into()
        },
        points: vert.iter().map(|b| (b.params, b.loss)).collect(),
        mark: Mark::ErrorBars(bars),
        style: 23,
    });
    render(&[Panel {
        title: if many {
            format!(
                "IsoFLOP profiles (Approach 2), {} budgets, colours repeat",
                r.budgets.len()
            )
        } else {
            "IsoFLOP profiles (Approach 2)".into()
        },
        x: axis("parameters N", true, TickStyle::Count),
        y: axis(loss_axis, false, TickStyle::Plain),
        series,
    }])
}

/// Residuals (log loss) against the predicted loss, N and D.
pub fn residuals(fit: &Fit) -> String {
    let d = &fit.data;
    let r = &fit.residuals;
    let pred: Vec<f64> = d.loss.iter().zip(r).map(|(l, ri)| l * ri.exp()).collect();
    let label = "residual ln L_hat - ln L";
    let mut panels = vec![Panel {
        title: "Residuals against prediction".into(),
        x: axis(
            &format!("predicted {}", loss_label(&fit.conventions.columns)),
            false,
            TickStyle::Plain,
        ),
        y: axis(label, false, TickStyle::Plain),
        series: vec![Series {
            name: String::new(),
            points: pred.iter().copied().zip(r.iter().copied()).collect(),
            mark: Mark::Points,
            style: 0,
        }],
    }];
    for (title, xs, style, ticks) in [
        ("N", &d.params, 1, TickStyle::Count),
        ("D", &d.tokens, 2, TickStyle::Count),
    ] {
        if xs.len() == r.len() {
            panels.push(Panel {
                title: format!("Residuals against {title}"),
                x: axis(
                    if title == "N" {
                        "parameters N"
                    } else {
                        "tokens D"
                    },
                    true,
                    ticks,
                ),
                y: axis(label, false, TickStyle::Plain),
                series: vec![Series {
                    name: String::new(),
                    points: xs.iter().copied().zip(r.iter().copied()).collect(),
                    mark: Mark::Points,
                    style,
                }],
            });
        }
    }
    render(&panels)
}

/// Bootstrap distributions of the exponents (histograms as step lines).
pub fn bootstrap(fit: &Fit) -> Option<String> {
    let b = fit.bootstrap.as_ref()?;
    let usable = b.usable();
    let mut panels = Vec::new();
    for (i, name) in b.param_names.iter().enumerate() {
        if !name.starts_with("alpha") && !name.starts_with("beta") {
            continue;
        }
        let v: Vec<f64> = b
            .samples
            .iter()
            .zip(&usable)
            .filter(|(_, u)| **u)
            .map(|(s, _)| s[i])
            .collect();
        if v.len() < 2 {
            continue;
        }
        let (lo, hi) = v
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, c), x| {
                (a.min(*x), c.max(*x))
            });
        let bins = 40;
        let w = ((hi - lo) / bins as f64).max(1e-12);
        let mut counts = vec![0usize; bins];
        for x in &v {
            counts[(((x - lo) / w) as usize).min(bins - 1)] += 1;
        }
        let mut pts = vec![(lo, 0.0)];
        for (k, c) in counts.iter().enumerate() {
            pts.push((lo + w * k as f64, *c as f64));
            pts.push((lo + w * (k + 1) as f64, *c as f64));
        }
        pts.push((hi, 0.0));
        let mut series = vec![Series {
            name: format!("{} replicates", v.len()),
            points: pts,
            mark: Mark::Line,
            style: panels.len(),
        }];
        if let Some(est) = fit.params.get(name).copied().flatten() {
            let top = *counts.iter().max().unwrap_or(&1) as f64;
            series.push(Series {
                name: "estimate".into(),
                points: vec![(est, 0.0), (est, top)],
                mark: Mark::Dashed,
                style: 7,
            });
        }
        panels.push(Panel {
            title: format!("Bootstrap distribution of {name}"),
            x: axis(name, false, TickStyle::Plain),
            y: axis("replicates", false, TickStyle::Integer),
            series,
        });
    }
    (!panels.is_empty()).then(|| render(&panels))
}

/// The compute-optimal frontier N*(C) and D*(C): this fit's law, Approach 2's vertices when
/// given, and Chinchilla's and Kaplan's published laws for reference.
pub fn frontier(fit: &Fit, iso: Option<&IsoflopResult>) -> Option<String> {
    let law = fit.law()?;
    fit.implied.as_ref()?;
    let k = fit.conventions.flops_per_param_token;
    let c = run_flops(fit);
    let grid = logspace(
        c.iter().cloned().fold(f64::INFINITY, f64::min) / 3.0,
        1e25,
        50,
    );
    let mut pn = Vec::new();
    let mut pd = Vec::new();
    let mut add = |name: &str, style: usize, mark: Mark, f: &dyn Fn(f64) -> Option<(f64, f64)>| {
        let pts: Vec<(f64, f64, f64)> = grid
            .iter()
            .filter_map(|&x| f(x).map(|(n, d)| (x, n, d)))
            .collect();
        pn.push(Series {
            name: name.into(),
            points: pts.iter().map(|p| (p.0, p.1)).collect(),
            mark: mark.clone(),
            style,
        });
        pd.push(Series {
            name: name.into(),
            points: pts.iter().map(|p| (p.0, p.2)).collect(),
            mark,
            style,
        });
    };
    add("Approach 3 (this fit)", 0, Mark::Line, &|x| {
        law.optimum(x, k).map(|o| (o.params, o.tokens))
    });
    if let Ok(p) = presets::get("chinchilla") {
        let l = p.law.expect("chinchilla has a law");
        add("Chinchilla (published)", 1, Mark::Dashed, &|x| {
            l.optimum(x, 6.0).map(|o| (o.params, o.tokens))
        });
    }
    if let Ok(p) = presets::get("kaplan") {
        let rule = p.rule.expect("kaplan has a rule");
        add("Kaplan (published)", 3, Mark::Dashed, &|x| {
            crate::allocate::from_rule(&rule, None, x, 6.0)
                .ok()
                .map(|a| (a.params, a.tokens))
        });
    }
    if let Some(r) = iso {
        let used: Vec<&crate::methods::BudgetFit> = r.budgets.iter().filter(|b| b.used).collect();
        pn.push(Series {
            name: "Approach 2 vertices".into(),
            points: used.iter().map(|b| (b.flops, b.params)).collect(),
            mark: Mark::ErrorBars(
                used.iter()
                    .map(|b| {
                        b.params_interval
                            .map(|[l, h]| (l, h))
                            .unwrap_or((b.params, b.params))
                    })
                    .collect(),
            ),
            style: 2,
        });
        pd.push(Series {
            name: "Approach 2 vertices".into(),
            points: used.iter().map(|b| (b.flops, b.tokens)).collect(),
            mark: Mark::ErrorBars(
                used.iter()
                    .map(|b| {
                        b.tokens_interval
                            .map(|[l, h]| (l, h))
                            .unwrap_or((b.tokens, b.tokens))
                    })
                    .collect(),
            ),
            style: 2,
        });
    }
    Some(render(&[
        Panel {
            title: "Compute-optimal N*(C)".into(),
            x: axis("compute C (FLOPs)", true, TickStyle::Scientific),
            y: axis("parameters N*", true, TickStyle::Count),
            series: pn,
        },
        Panel {
            title: "Compute-optimal D*(C)".into(),
            x: axis("compute C (FLOPs)", true, TickStyle::Scientific),
            y: axis("tokens D*", true, TickStyle::Count),
            series: pd,
        },
    ]))
}

/// Learning curves: loss against tokens for up to eight model sizes (evenly spread in ln N),
/// with the fitted law's L(N, D) for each.
pub fn curves(fit: &Fit) -> Option<String> {
    let d = &fit.data;
    if d.params.len() != d.loss.len() || d.tokens.len() != d.loss.len() {
        return None;
    }
    let mut sizes: Vec<f64> = d.params.clone();
    sizes.sort_by(|a, b| a.total_cmp(b));
    sizes.dedup_by(|a, b| (*a / *b - 1.0).abs() < 1e-6);
    let pick: Vec<f64> = if sizes.len() <= 8 {
        sizes.clone()
    } else {
        (0..8).map(|i| sizes[i * (sizes.len() - 1) / 7]).collect()
    };
    let law = fit.law();
    let mut series = Vec::new();
    for (i, &n) in pick.iter().enumerate() {
        let pts: Vec<(f64, f64)> = (0..d.loss.len())
            .filter(|&j| (d.params[j] / n - 1.0).abs() < 1e-6)
            .map(|j| (d.tokens[j], d.loss[j]))
            .collect();
        let (lo, hi) = pts.iter().fold((f64::INFINITY, 0.0f64), |(a, b), p| {
            (a.min(p.0), b.max(p.0))
        });
        series.push(Series {
            name: format!("N = {}", super::human(n)),
            points: pts,
            mark: Mark::Points,
            style: i,
        });
        if let (Some(l), true) = (&law, hi > lo) {
            let line: Vec<(f64, f64)> = logspace(lo, hi, 30)
                .into_iter()
                .map(|t| (t, l.predict(n, t, f64::NAN)))
                .collect();
            series.push(Series {
                name: String::new(),
                points: line,
                mark: Mark::Line,
                style: i,
            });
        }
    }
    Some(render(&[Panel {
        title: "Learning curves: loss against tokens, with the fitted law".into(),
        x: axis("training tokens D", true, TickStyle::Count),
        y: axis(
            &loss_label(&fit.conventions.columns),
            true,
            TickStyle::Plain,
        ),
        series,
    }]))
}
