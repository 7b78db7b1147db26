//! Text rendering of a downstream prediction ([`crate::downstream::DownstreamResult`]).

use std::fmt::Write as _;

use crate::downstream::DownstreamResult;
use crate::num::sig;

fn iv(i: &Option<[f64; 2]>) -> String {
    match i {
        Some([a, b]) => format!("[{:.4}, {:.4}]", a, b),
        None => "-".into(),
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_else(|| "-".into())
}

/// The result as a table per target: task, predicted feature (actual), predicted metric, its
/// interval, the new-run interval, the actual value and the error; then the weighted average,
/// each step's law, the conventions, warnings and notes.
pub fn downstream_text(r: &DownstreamResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Downstream prediction ({}{}) from {}",
        r.mode,
        r.recipe
            .as_ref()
            .map(|x| format!(", recipe {x}"))
            .unwrap_or_default(),
        r.source
    );
    let Some(first) = r.tasks.first() else {
        return s;
    };
    for (ti, p0) in first.predictions.iter().enumerate() {
        if let (Some(n), Some(d)) = (p0.n, p0.d) {
            let _ = writeln!(
                s,
                "\ntarget {} (N {}, D {}, C {})",
                p0.target,
                sig(n, 4),
                sig(d, 4),
                sig(p0.c, 4)
            );
        } else {
            let _ = writeln!(s, "\ntarget {} (C {} FLOPs)", p0.target, sig(p0.c, 4));
        }
        let _ = writeln!(
            s,
            "  {:<22} {:>9} {:>9} {:>9} {:>20} {:>20} {:>8} {:>8}",
            "task",
            "feature",
            "(actual)",
            "predicted",
            "interval",
            "new-run interval",
            "actual",
            "error"
        );
        for t in &r.tasks {
            let p = &t.predictions[ti];
            let _ = writeln!(
                s,
                "  {:<22} {:>9} {:>9} {:>9.4} {:>20} {:>20} {:>8} {:>8}",
                t.task.name,
                opt(p.feature),
                opt(p.feature_actual),
                p.predicted,
                iv(&p.interval),
                iv(&p.prediction_interval),
                opt(p.actual),
                p.error
                    .map(|e| format!("{:+.4}", e))
                    .unwrap_or_else(|| "-".into()),
            );
        }
        if let Some(a) = r.average.get(ti) {
            let _ = writeln!(
                s,
                "  {:<22} {:>9} {:>9} {:>9.4} {:>20} {:>20} {:>8} {:>8}",
                "weighted average",
                "",
                "",
                a.predicted,
                iv(&a.interval),
                "",
                opt(a.actual),
                ""
            );
            if let Some(e) = a.mean_abs_error_points {
                let _ = write!(s, "  mean absolute error {e:.2} points");
                if let Some([c, n]) = a.covered {
                    let _ = write!(s, "; new-run intervals hold {c} of {n} actual values");
                }
                let _ = writeln!(s);
            }
        }
    }
    let _ = writeln!(s, "\nlaws");
    for t in &r.tasks {
        if let Some(f) = &t.step1 {
            let _ = writeln!(
                s,
                "  {} step 1 ({} -> {}): {}  {}",
                t.task.name,
                if f.law == "formula" {
                    "formula"
                } else {
                    &f.law
                },
                t.task.feature.as_deref().unwrap_or("-"),
                f.formula,
                params(&f.params)
            );
        }
        let _ = writeln!(
            s,
            "  {} step 2 ({} -> {}): {}  {}  [fitted on {} points, x {:.4} to {:.4}]",
            t.task.name,
            if r.mode == "single-step" {
                "log10 C"
            } else {
                "x"
            },
            t.task.metric,
            t.step2.formula,
            params(&t.step2.params),
            t.step2_points.len(),
            t.step2_range[0],
            t.step2_range[1]
        );
    }
    let _ = writeln!(s, "\nconventions");
    for (k, v) in &r.conventions {
        if !v.is_null() {
            let _ = writeln!(s, "  {k}: {v}");
        }
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(s, "\nwarnings");
        for w in &r.warnings {
            let _ = writeln!(s, "  {w}");
        }
    }
    for n in &r.notes {
        let _ = writeln!(s, "\nnote: {n}");
    }
    s
}

fn params(p: &std::collections::BTreeMap<String, Option<f64>>) -> String {
    p.iter()
        .map(|(k, v)| format!("{k}={}", v.map(|x| sig(x, 5)).unwrap_or_else(|| "?".into())))
        .collect::<Vec<_>>()
        .join(" ")
}
