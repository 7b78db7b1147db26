//! Renderers of [`GroupsResult`]: text and an SVG figure of the groups' runs and
//! compute-optimal frontiers.

use std::fmt::Write as _;

use super::svg::{self, Axis, Mark, Panel, Series, TickStyle};
use super::{p_value, sig};
use crate::groups::{Estimate, GroupsResult};

fn est(e: &Estimate, digits: usize) -> String {
    let v = e.value.map_or("-".to_string(), |v| sig(v, digits));
    match e.interval {
        Some([lo, hi]) => format!("{v} [{}, {}]", sig(lo, digits), sig(hi, digits)),
        None => v,
    }
}

/// The result as text: each group's fit, the joint fit, the test, the comparisons.
///
/// # Examples
/// ```
/// use scaling::accounting::LoadRequest;
/// use scaling::data::RunTable;
/// use scaling::groups::{fit_groups, GroupsRequest};
/// let mut csv = String::from("set,N,D,loss\n");
/// for (set, e) in [("a", 1.7), ("b", 1.8)] {
///     for i in 0..5 {
///         for j in 0..4 {
///             let (n, d) = (3e7 * 3f64.powi(i), 1e9 * 3f64.powi(j));
///             let l = e + 400.0 / n.powf(0.34) + 410.0 / d.powf(0.28);
///             csv.push_str(&format!("{set},{n},{d},{l}\n"));
///         }
///     }
/// }
/// let table = RunTable::from_csv_str("runs.csv", &csv).unwrap();
/// let req = GroupsRequest {
///     by: "set".into(),
///     config: Default::default(),
///     shared: vec!["alpha".into(), "beta".into()],
///     ties: vec![],
///     budgets: vec![1e21],
///     bootstrap: None,
/// };
/// let r = fit_groups(&table, &LoadRequest::default(), &req, &|| {}).unwrap();
/// assert!(scaling::report::groups::groups_text(&r).starts_with("groups by \"set\": a, b"));
/// assert!(scaling::report::groups::groups_svg(&r).starts_with("<svg"));
/// ```
pub fn groups_text(r: &GroupsResult) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "groups by {:?}: {}",
        r.conventions.by,
        r.groups.join(", ")
    );
    let _ = writeln!(o, "\nseparate fits:");
    for g in &r.separate {
        match (&g.fit, &g.error) {
            (Some(f), _) => {
                let ps: Vec<String> = f
                    .params
                    .iter()
                    .map(|(n, v)| format!("{n}={}", v.map_or("-".into(), |v| sig(v, 4))))
                    .collect();
                let at: Vec<String> = g
                    .at_budget
                    .iter()
                    .map(|(n, v)| format!("{n}={}", sig(*v, 4)))
                    .collect();
                let _ = writeln!(
                    o,
                    "  {:<12} {:>4} runs  {}  {}  [{}]",
                    g.group,
                    g.runs,
                    ps.join(" "),
                    at.join(" "),
                    f.status.as_str()
                );
            }
            (None, e) => {
                let _ = writeln!(
                    o,
                    "  {:<12} {:>4} runs  failed: {}",
                    g.group,
                    g.runs,
                    e.clone().unwrap_or_default()
                );
            }
        }
    }
    if let Some(j) = &r.joint {
        let _ = writeln!(
            o,
            "\njoint fit ({} shared): objective {}  [{}]",
            r.conventions.shared.join(", "),
            sig(j.objective, 5),
            j.status.as_str()
        );
        let ps: Vec<String> = j
            .params
            .iter()
            .map(|(n, v)| format!("{n}={}", v.map_or("-".into(), |v| sig(v, 4))))
            .collect();
        for chunk in ps.chunks(6) {
            let _ = writeln!(o, "  {}", chunk.join("  "));
        }
    }
    if let Some(e) = &r.joint_error {
        let _ = writeln!(o, "\njoint fit failed: {e}");
    }
    if let Some(t) = &r.test {
        let _ = writeln!(
            o,
            "\ntest: {}\n  F = {} on ({}, {}) df, {}; LR = {}, chi2({}) {}\n  SSE separate {} ({} params), joint {} ({} params), {} runs",
            t.hypothesis,
            sig(t.f, 4),
            t.f_df[0],
            t.f_df[1],
            p_value(t.f_p_value),
            sig(t.lr, 4),
            t.f_df[0],
            p_value(t.lr_p_value),
            sig(t.sse_separate, 5),
            t.params_separate,
            sig(t.sse_joint, 5),
            t.params_joint,
            t.runs
        );
    }
    if !r.comparisons.is_empty() {
        let level = r.conventions.bootstrap.as_ref().map(|b| b.level);
        let _ = writeln!(
            o,
            "\ncomparisons (A - B from the separate fits{}):",
            match (&r.conventions.bootstrap, level) {
                (Some(b), Some(l)) => format!(
                    "; {}% paired-bootstrap intervals, {} of {} replicates usable, {} pairing keys",
                    sig(100.0 * l, 3),
                    b.usable,
                    b.replicates,
                    b.keys
                ),
                _ => String::new(),
            }
        );
        for c in &r.comparisons {
            let _ = writeln!(o, "  {} vs {}", c.a, c.b);
            let ps: Vec<String> = c
                .params
                .iter()
                .map(|(n, e)| format!("d{n} = {}", est(e, 3)))
                .collect();
            let _ = writeln!(o, "    {}", ps.join("; "));
            for (b, m) in &c.at_budget {
                let mut parts = Vec::new();
                if let Some(e) = m.get("L_opt") {
                    parts.push(format!("dL_opt = {}", est(e, 3)));
                }
                if let Some(e) = m.get("P_a_better") {
                    parts.push(format!(
                        "P({} better) = {}",
                        c.a,
                        e.value.map_or("-".into(), |v| sig(v, 3))
                    ));
                }
                if let Some(e) = m.get("N_opt_ratio") {
                    parts.push(format!("N_opt ratio = {}", est(e, 3)));
                }
                if let Some(e) = m.get("gain_a_over_b") {
                    parts.push(format!("gain of {} = {}x", c.a, est(e, 3)));
                }
                if let Some(e) = m.get("gain_b_over_a") {
                    parts.push(format!("gain of {} = {}x", c.b, est(e, 3)));
                }
                let _ = writeln!(o, "    @{b} FLOPs: {}", parts.join("; "));
            }
        }
    }
    for w in &r.warnings {
        let _ = writeln!(o, "warning: {w}");
    }
    o
}

/// An SVG figure: the runs and each group's loss frontier L_opt(C) (left), and N_opt(C)
/// (right), with paired-bootstrap bands when the result was bootstrapped; the joint fit's
/// frontiers dashed.
///
/// # Examples
/// ```
/// // Drawn from the groups compared: see the example of [`groups_text`].
/// let r: scaling::groups::GroupsResult = serde_json::from_str(r#"{"groups": [], "separate": [], "joint": null, "test": null, "comparisons": [], "frontiers": [], "conventions": {"by": "set", "shared": [], "ties": [], "budgets": [], "flops_per_param_token": 6.0, "pairing": null, "bootstrap": null, "gain": ""}, "warnings": []}"#).unwrap();
/// assert!(scaling::report::groups::groups_svg(&r).starts_with("<svg"));
/// ```
pub fn groups_svg(r: &GroupsResult) -> String {
    let mut loss = Vec::new();
    let mut size = Vec::new();
    for (g, s) in r.separate.iter().enumerate() {
        if let Some(f) = &s.fit {
            let pts: Vec<(f64, f64)> = f
                .data
                .flops
                .iter()
                .zip(&f.data.loss)
                .map(|(c, l)| (*c, *l))
                .collect();
            if !pts.is_empty() {
                loss.push(Series {
                    name: format!("{} runs", s.group),
                    points: pts,
                    mark: Mark::Points,
                    style: g,
                });
            }
        }
    }
    for fr in &r.frontiers {
        let g = r.groups.iter().position(|x| *x == fr.group).unwrap_or(0);
        let pick = |v: &[Option<f64>]| -> Vec<(f64, f64)> {
            fr.flops
                .iter()
                .zip(v)
                .filter_map(|(c, y)| y.map(|y| (*c, y)))
                .collect()
        };
        let band = |v: &[Option<[f64; 2]>]| -> Option<Series> {
            let (lo, hi): (Vec<(f64, f64)>, Vec<f64>) = fr
                .flops
                .iter()
                .zip(v)
                .filter_map(|(c, b)| b.map(|[l, h]| ((*c, l), h)))
                .unzip();
            (!lo.is_empty()).then(|| Series {
                name: String::new(),
                points: lo,
                mark: Mark::Band(hi),
                style: g,
            })
        };
        if let Some(b) = band(&fr.loss_interval) {
            loss.push(b);
        }
        loss.push(Series {
            name: format!("{} L_opt(C)", fr.group),
            points: pick(&fr.loss),
            mark: Mark::Line,
            style: g,
        });
        if let Some(b) = band(&fr.params_interval) {
            size.push(b);
        }
        let p = pick(&fr.params);
        if !p.is_empty() {
            size.push(Series {
                name: format!("{} N_opt(C)", fr.group),
                points: p,
                mark: Mark::Line,
                style: g,
            });
        }
    }
    if let Some(j) = &r.joint {
        let k = r.conventions.flops_per_param_token;
        for (g, label) in r.groups.iter().enumerate() {
            let (Some(law), Some(fr)) = (crate::groups::group_law(j, g), r.frontiers.first())
            else {
                continue;
            };
            let pts: Vec<(f64, f64)> = fr
                .flops
                .iter()
                .filter_map(|&c| crate::groups::loss_at_budget(&law, c, k).map(|l| (c, l)))
                .collect();
            if !pts.is_empty() {
                loss.push(Series {
                    name: format!("{label} joint"),
                    points: pts,
                    mark: Mark::Dashed,
                    style: g,
                });
            }
        }
    }
    let axis = |label: &str, ticks| Axis {
        label: label.into(),
        log: true,
        ticks,
        range: None,
    };
    let mut panels = vec![Panel {
        title: format!("loss and compute-optimal frontier by {}", r.conventions.by),
        x: axis("compute C (FLOPs)", TickStyle::Scientific),
        y: Axis {
            label: "loss (nats)".into(),
            log: false,
            ticks: TickStyle::Plain,
            range: None,
        },
        series: loss,
    }];
    if !size.is_empty() {
        panels.push(Panel {
            title: "compute-optimal model size".into(),
            x: axis("compute C (FLOPs)", TickStyle::Scientific),
            y: axis("N_opt (parameters)", TickStyle::Count),
            series: size,
        });
    }
    svg::render(&panels)
}
