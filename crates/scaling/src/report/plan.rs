//! Renderings of plans ([`crate::allocate::plan::Plan`]) and of the published laws
//! ([`crate::law::presets`]).

use std::fmt::Write as _;

use crate::allocate::plan::Plan;
use crate::law::presets::Preset;
use crate::num::{human, sig};

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// A plan as text (a padded table) or Markdown (a Markdown table), headed by the question, the
/// source, the FLOP model and the method.
///
/// # Examples
/// ```
/// use scaling::allocate::{plan, Source};
///
/// let src = Source::preset("chinchilla").unwrap();
/// let req = plan::PlanRequest { budgets: vec![5.76e23], ..Default::default() };
/// let text = scaling::report::plan::plan_text(&plan::plan(&src, &req).unwrap(), false);
/// assert!(text.starts_with("Compute-optimal allocation from preset chinchilla"));
/// assert!(text.contains("40.4B"));
/// ```
pub fn plan_text(plan: &Plan, markdown: bool) -> String {
    let mut out = String::new();
    let k = plan.flops_per_param_token;
    let _ = writeln!(
        out,
        "{} from {}",
        capitalise(plan.question.describe()),
        plan.label
    );
    let _ = writeln!(out, "FLOP model C = {k} N D; {}", plan.method);
    if let Some(n) = &plan.notes {
        let _ = writeln!(out, "note: {n}");
    }
    if let Some(t) = plan.inference_tokens {
        let _ = writeln!(
            out,
            "each row: the model of least training + inference compute (k N D + 2 N T, T = {}) \
             reaching the loss shown, against the Chinchilla-optimal model of that loss",
            human(t)
        );
        if plan.target_loss.is_none() {
            let _ = writeln!(
                out,
                "budget FLOPs: the budget asked for, whose compute-optimal model sets the loss; \
                 training FLOPs: what the plan's smaller, longer-trained model spends"
            );
        }
    }
    let _ = writeln!(out);
    out.push_str(&table(plan, markdown));
    out
}

/// The rows as a text or Markdown table.
fn table(plan: &Plan, md: bool) -> String {
    let rows = &plan.rows;
    let ivs = rows.iter().any(|r| r.intervals.is_some());
    let epochs = rows.iter().any(|r| r.row.allocation.epochs.is_some());
    let extra = rows.iter().any(|r| r.row.extra_compute.is_some());
    let inf = rows.iter().any(|r| r.row.inference.is_some());
    // With inference demand the plan trains with less compute than the budget it answers, so
    // the requested budget gets its own column.
    let budget_col = inf
        && rows.iter().any(|r| {
            r.row
                .inference
                .is_some_and(|i| i.loss_set_by_budget_flops.is_some())
        });
    let mut head = if budget_col {
        vec!["budget FLOPs"]
    } else {
        vec![]
    };
    head.extend(["training FLOPs", "params", "tokens", "tokens/param", "loss"]);
    if epochs {
        head.push("epochs");
    }
    if ivs {
        head.extend(["params interval", "tokens interval", "loss interval"]);
    }
    if extra {
        head.extend(["optimal params", "optimal loss", "extra compute"]);
    }
    if inf {
        head.extend([
            "total FLOPs",
            "Chinchilla-optimal params",
            "its total FLOPs",
            "saving",
        ]);
    }
    let mut body: Vec<Vec<String>> = Vec::new();
    for r in rows {
        let a = &r.row.allocation;
        let mut row = if budget_col {
            vec![r
                .row
                .inference
                .and_then(|i| i.loss_set_by_budget_flops)
                .map(|v| format!("{v:.3e}"))
                .unwrap_or_default()]
        } else {
            vec![]
        };
        row.extend([
            format!("{:.3e}", a.flops),
            human(a.params),
            human(a.tokens),
            sig(a.tokens_per_param, 3),
            a.loss.map(|v| sig(v, 5)).unwrap_or_else(|| "n/a".into()),
        ]);
        if epochs {
            row.push(a.epochs.map(|v| sig(v, 3)).unwrap_or_default());
        }
        if ivs {
            let iv = r.intervals.as_ref();
            for (cell, big) in [
                (iv.and_then(|i| i.params), true),
                (iv.and_then(|i| i.tokens), true),
                (iv.and_then(|i| i.loss), false),
            ] {
                row.push(
                    cell.map(|[lo, hi]| {
                        if big {
                            format!("[{}, {}]", human(lo), human(hi))
                        } else {
                            format!("[{}, {}]", sig(lo, 4), sig(hi, 4))
                        }
                    })
                    .unwrap_or_default(),
                );
            }
        }
        if extra {
            let o = r.row.optimum.as_ref();
            row.push(o.map(|o| human(o.params)).unwrap_or_default());
            row.push(
                o.and_then(|o| o.loss)
                    .map(|v| sig(v, 5))
                    .unwrap_or_default(),
            );
            row.push(
                r.row
                    .extra_compute
                    .map(|v| format!("{:+.1}%", 100.0 * v))
                    .unwrap_or_default(),
            );
        }
        if inf {
            let i = r.row.inference.as_ref();
            row.push(
                i.map(|i| format!("{:.3e}", i.total_flops))
                    .unwrap_or_default(),
            );
            row.push(
                i.map(|i| human(i.chinchilla_optimal.params))
                    .unwrap_or_default(),
            );
            row.push(
                i.map(|i| format!("{:.3e}", i.chinchilla_total_flops))
                    .unwrap_or_default(),
            );
            row.push(
                i.map(|i| format!("{:.1}%", 100.0 * i.saving))
                    .unwrap_or_default(),
            );
        }
        body.push(row);
    }
    let widths: Vec<usize> = (0..head.len())
        .map(|i| {
            body.iter()
                .map(|r| r[i].len())
                .chain([head[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    let line = |cells: Vec<String>| -> String {
        if md {
            format!("| {} |\n", cells.join(" | "))
        } else {
            format!("  {}\n", cells.join("  "))
        }
    };
    let pad = |cells: &[String]| -> Vec<String> {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{:>w$}", c, w = widths[i]))
            .collect()
    };
    s.push_str(&line(pad(&head
        .iter()
        .map(|h| h.to_string())
        .collect::<Vec<_>>())));
    if md {
        s.push_str(&line(
            widths
                .iter()
                .map(|w| format!("{}:", "-".repeat(w.saturating_sub(1).max(2))))
                .collect(),
        ));
    }
    for r in &body {
        s.push_str(&line(pad(r)));
    }
    s
}

/// The published laws as text: name, description, source, notes and the law's formula with
/// its constants.
///
/// # Examples
/// ```
/// let text = scaling::report::plan::presets_text(&scaling::law::presets::all());
/// assert!(text.starts_with("chinchilla\n"));
/// ```
pub fn presets_text(presets: &[Preset]) -> String {
    let mut out = String::new();
    for p in presets {
        let _ = writeln!(
            out,
            "{}\n  {}\n  source: {}\n  note: {}",
            p.name, p.description, p.source, p.notes
        );
        if let Some(l) = &p.law {
            let params: Vec<String> = l
                .form
                .param_names()
                .iter()
                .zip(&l.params)
                .map(|(n, v)| format!("{n} = {}", sig(*v, 8)))
                .collect();
            let _ = writeln!(out, "  law: {}; {}", l.form.formula(), params.join(", "));
        }
        let _ = writeln!(out);
    }
    out
}
