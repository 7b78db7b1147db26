//! Text of Chinchilla's methods: power laws, Approach 2 (IsoFLOP), Approach 1 (envelope) and
//! the comparison of the three approaches. Pure functions of the results.

use std::fmt::Write as _;

use crate::methods::{Comparison, EnvelopeReport, IsoflopResult, PowerlawResult};
use crate::num::{human, sig};

fn pct(level: f64) -> f64 {
    (1e6 * 100.0 * level).round() / 1e6
}

fn group_suffix(group: &str) -> String {
    if group.is_empty() {
        String::new()
    } else {
        format!(" [{group}]")
    }
}

/// A power law's text: the law, the exponent's interval, the points and R^2. `group` is the
/// group's label (empty without grouping).
///
/// # Examples
/// ```
/// use scaling::methods::{powerlaw_table, PowerlawRequest};
/// use scaling::data::{Column, RunTable};
/// let t = RunTable::from_columns("<arrays>", vec![
///     ("x".into(), Column::Numbers(vec![1.0, 10.0, 100.0])),
///     ("y".into(), Column::Numbers(vec![2.0, 20.0, 200.0])),
/// ]).unwrap();
/// let req = PowerlawRequest { x: "x".into(), y: "y".into(), ..Default::default() };
/// let r = powerlaw_table(&t, &[0, 1, 2], &req).unwrap();
/// assert!(scaling::report::methods::powerlaw_text(&r, "").contains('1'));
/// ```
pub fn powerlaw_text(r: &PowerlawResult, group: &str) -> String {
    let f = &r.fit;
    let mut s = String::new();
    if !group.is_empty() {
        let _ = writeln!(s, "{group}:");
    }
    let _ = writeln!(
        s,
        "  {} = {} * {}^{}",
        r.y,
        sig(f.coefficient, 5),
        r.x,
        sig(f.exponent, 6)
    );
    if let (Some(iv), Some(se)) = (f.exponent_interval, f.exponent_std_error) {
        let _ = writeln!(
            s,
            "  exponent {} (std. error {}, {}% interval [{}, {}])",
            sig(f.exponent, 6),
            sig(se, 3),
            pct(f.level),
            sig(iv[0], 5),
            sig(iv[1], 5)
        );
    } else {
        let _ = writeln!(
            s,
            "  no interval: two points leave no residual degrees of freedom"
        );
    }
    let _ = writeln!(
        s,
        "  {} points, R^2 {} in log-log space; {} rows skipped",
        f.points,
        sig(f.r_squared, 5),
        r.skipped_rows
    );
    s
}

/// Approach 2's text: one line per budget (vertex N*, D*, L* with intervals and flags) and the
/// power laws N* ~ C^a, D* ~ C^b. `source` names the table, `group` the group (or empty).
///
/// # Examples
/// ```
/// use scaling::methods::{isoflop, Grouping, IsoflopConfig};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 7, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let cfg = IsoflopConfig { grouping: Grouping::Tolerance(0.05), replicates: 0, seed: 0,
///                           level: 0.95, keep_flagged: false };
/// let r = isoflop(&runs.params, &runs.tokens, &runs.flops, &runs.loss, &cfg).unwrap();
/// assert!(scaling::report::methods::isoflop_text(&r, "synthetic", "").contains("synthetic"));
/// ```
pub fn isoflop_text(r: &IsoflopResult, source: &str, group: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Approach 2 (IsoFLOP profiles, Hoffmann et al. 2022) on {source}{}",
        group_suffix(group)
    );
    let pct = pct(r.level);
    let _ = writeln!(
        s,
        "  {:>10} {:>5} {:>9} {:>19} {:>9} {:>19} {:>8}  flags",
        "budget",
        "runs",
        "N*",
        format!("{pct}% interval"),
        "D*",
        format!("{pct}% interval"),
        "L*"
    );
    let or_dash = |v: f64, f: &dyn Fn(f64) -> String| {
        if v.is_finite() {
            f(v)
        } else {
            "-".into()
        }
    };
    for b in &r.budgets {
        let iv = |v: Option<[f64; 2]>| {
            v.map(|[lo, hi]| format!("[{}, {}]", human(lo), human(hi)))
                .unwrap_or_default()
        };
        let _ = writeln!(
            s,
            "  {:>10.3e} {:>5} {:>9} {:>19} {:>9} {:>19} {:>8}  {}{}",
            b.flops,
            b.runs,
            or_dash(b.params, &human),
            iv(b.params_interval),
            or_dash(b.tokens, &human),
            iv(b.tokens_interval),
            or_dash(b.loss, &|v| sig(v, 4)),
            b.flags.join(","),
            if b.used { "" } else { " (left out)" }
        );
    }
    let _ = writeln!(
        s,
        "  budget in FLOPs; N* parameters and D* = C / (6 N*) tokens at the parabola's vertex in ln N; L* the vertex's loss, in the loss column's units"
    );
    let fmt_iv = |v: Option<[f64; 2]>| {
        v.map(|[lo, hi]| format!("[{}, {}]", sig(lo, 3), sig(hi, 3)))
            .unwrap_or_else(|| "n/a".into())
    };
    let _ = writeln!(
        s,
        "\n  N* ~ C^a: a = {} ({pct}% bootstrap interval {}; t interval {})",
        sig(r.params_exponent, 4),
        fmt_iv(r.params_exponent_interval),
        fmt_iv(r.params_fit.exponent_interval)
    );
    let _ = writeln!(
        s,
        "  D* ~ C^b: b = {} ({pct}% bootstrap interval {}; t interval {})",
        sig(r.tokens_exponent, 4),
        fmt_iv(r.tokens_exponent_interval),
        fmt_iv(r.tokens_fit.exponent_interval)
    );
    let _ = writeln!(
        s,
        "  N* = {} C^{} and D* = {} C^{} (least squares in log-log space; C in FLOPs)",
        sig(r.params_fit.coefficient, 4),
        sig(r.params_fit.exponent, 4),
        sig(r.tokens_fit.coefficient, 4),
        sig(r.tokens_fit.exponent, 4)
    );
    let _ = writeln!(
        s,
        "  {} budgets used of {}; {} runs belong to no budget; {} bootstrap replicates, seed {}",
        r.budgets.iter().filter(|b| b.used).count(),
        r.budgets.len(),
        r.runs_without_budget,
        r.replicates,
        r.seed
    );
    s.push('\n');
    s
}

/// Approach 1's text: the exponents with intervals, the envelope by model size, and up to
/// three warnings. `source` names the table, `group` the group (or empty).
///
/// # Examples
/// ```
/// use scaling::methods::{envelope, Curve};
/// // Four runs of L = 1.7 + 400/N^0.34 + 410/D^0.28, eight checkpoints each.
/// let curves: Vec<Curve> = [1e7_f64, 4e7, 1.6e8, 6.4e8]
///     .iter()
///     .enumerate()
///     .map(|(i, &n)| Curve {
///         run: format!("r{i}"),
///         params: n,
///         points: (0..8)
///             .map(|k| {
///                 let d = 1e8 * 3f64.powi(k);
///                 (d, 1.7 + 400.0 / n.powf(0.34) + 410.0 / d.powf(0.28))
///             })
///             .collect(),
///     })
///     .collect();
/// let r = envelope(&curves, 200, 6.0, 0, 0, 0.95).unwrap();
/// let rep = scaling::methods::EnvelopeReport { result: r, warnings: vec![], min_fraction: 0.0 };
/// assert!(scaling::report::methods::envelope_text(&rep, "runs.csv", "").contains("runs.csv"));
/// ```
pub fn envelope_text(rep: &EnvelopeReport, source: &str, group: &str) -> String {
    let r = &rep.result;
    let mut out = String::new();
    let pct = pct(r.level);
    let iv = |v: Option<[f64; 2]>| {
        v.map(|[l, h]| format!("[{}, {}]", sig(l, 3), sig(h, 3)))
            .unwrap_or_else(|| "n/a".into())
    };
    let _ = writeln!(
        out,
        "Approach 1 (lower envelope of loss curves, Hoffmann et al. 2022) on {source}{}",
        group_suffix(group)
    );
    let _ = writeln!(out, "  {} runs; {} grid budgets on the envelope (budgets won by the smallest or largest model left out)", r.runs, r.grid_points);
    let _ = writeln!(
        out,
        "  N_opt ~ C^a: a = {} ({pct}% interval {}, runs resampled {} times)",
        sig(r.params_exponent, 4),
        iv(r.params_exponent_interval),
        r.replicates
    );
    let _ = writeln!(
        out,
        "  D_opt ~ C^b: b = {} ({pct}% interval {})",
        sig(r.tokens_exponent, 4),
        iv(r.tokens_exponent_interval)
    );
    let _ = writeln!(
        out,
        "  envelope by model size, smallest budget first (runs that win part of it):"
    );
    let mut merged: Vec<(f64, [f64; 2], Vec<String>)> = Vec::new();
    for s in &r.segments {
        match merged.last_mut() {
            Some(m) if m.0 == s.params => {
                m.1[1] = s.flops[1];
                if !m.2.contains(&s.run) {
                    m.2.push(s.run.clone());
                }
            }
            _ => merged.push((s.params, s.flops, vec![s.run.clone()])),
        }
    }
    for (n, c, runs) in &merged {
        let _ = writeln!(
            out,
            "    {:>10.3e} to {:>10.3e} FLOPs: N = {} ({})",
            c[0],
            c[1],
            human(*n),
            if runs.len() > 3 {
                format!("{} and {} more", runs[..2].join(", "), runs.len() - 2)
            } else {
                runs.join(", ")
            }
        );
    }
    for w in rep.warnings.iter().take(3) {
        let _ = writeln!(out, "  WARNING: {w}");
    }
    if rep.warnings.len() > 3 {
        let _ = writeln!(
            out,
            "  WARNING: ... and {} more runs like these (see the JSON)",
            rep.warnings.len() - 3
        );
    }
    out.push('\n');
    out
}

/// The comparison's text: a table of a and b with intervals per approach, the Approach 2 bias
/// check and the warnings. `source` names the table.
///
/// # Examples
/// ```
/// use scaling::accounting::LoadRequest;
/// use scaling::methods::{chinchilla_runs, compare, CompareRequest};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 7, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let t = scaling::data::RunTable::from_csv_str("runs.csv", &scaling::report::lab::runs_csv(&runs)).unwrap();
/// let load = LoadRequest::default();
/// let runs = chinchilla_runs(&t, &load, None).unwrap();
/// let c = compare(&t, &runs, &load, &CompareRequest { bootstrap: 0, ..Default::default() }).unwrap();
/// assert!(scaling::report::methods::compare_text(&c, "runs.csv").contains("Approach 3"));
/// ```
pub fn compare_text(c: &Comparison, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Chinchilla's approaches on {source} ({} runs)\n",
        c.runs
    );
    let pct = pct(c.level);
    let _ = writeln!(
        out,
        "  {:<42} {:>7} {:>18} {:>7} {:>18}",
        "approach", "a", "interval", "b", "interval"
    );
    for r in &c.approaches {
        let iv = |v: Option<[f64; 2]>| {
            v.map(|[l, h]| format!("[{}, {}]", sig(l, 3), sig(h, 3)))
                .unwrap_or_default()
        };
        let _ = writeln!(
            out,
            "  {:<42} {:>7} {:>18} {:>7} {:>18}",
            r.approach,
            sig(r.a, 3),
            iv(r.a_interval),
            sig(r.b, 3),
            iv(r.b_interval)
        );
    }
    let _ = writeln!(
        out,
        "  (intervals on this data: {pct}% bootstrap; Chinchilla's published ones are 10-90%)"
    );
    if let Some(b) = &c.approach2_bias_check {
        let _ = writeln!(
            out,
            "\n  Approach 2 bias check: on these runs' design, drawn without noise from the Approach 3 law \
             (a = {}), Approach 2 reports a = {} (bias {:+.3}); b: {} vs {} (bias {:+.3})",
            sig(b.law_a, 4),
            sig(b.approach2_a_on_simulated, 4),
            b.bias_a,
            sig(b.law_b.unwrap_or(f64::NAN), 4),
            sig(b.approach2_b_on_simulated, 4),
            b.bias_b
        );
    }
    for w in &c.warnings {
        let _ = writeln!(out, "  WARNING: {w}");
    }
    out
}
