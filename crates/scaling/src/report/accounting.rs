//! Renderers of the accounting results: `count`, `shape`, `reconcile`. Pure functions of the
//! results; the command line prints what they return.

use std::fmt::Write;

use super::{human, sig};
use crate::accounting::{CountResult, ReconcileResult, ShapeResult, CHINCHILLA_ONE_HEAD};
use crate::data::RunTable;

/// The text report of [`crate::accounting::count`]: the shape, its parameter counts and its
/// training FLOPs per token under each convention, as ratios to 6N.
///
/// # Examples
/// ```
/// use scaling::accounting::{count, CountRequest};
/// let req = CountRequest { layers: Some(12), d_model: Some(768), ..Default::default() };
/// let text = scaling::report::accounting::count_text(&count(&req).unwrap());
/// assert!(!text.is_empty());
/// ```
pub fn count_text(r: &CountResult) -> String {
    let mut out = String::new();
    let (s, c, f) = (&r.shape, &r.counts, &r.flops_per_token);
    let heads = if r.heads_given {
        format!(
            "{} heads x {} (kv heads {})",
            s.heads, s.head_dim, s.kv_heads
        )
    } else {
        format!(
            "d_attn = d_model = {} (heads not given; they do not change these counts)",
            s.d_model
        )
    };
    let _ = writeln!(
        out,
        "Shape: {} layers, d_model {}, {heads}, d_ff {}{}, vocab {}, context {}, {} embeddings{}",
        s.layers,
        s.d_model,
        s.ffw,
        if s.gated { " (gated)" } else { "" },
        s.vocab,
        s.seq,
        if s.tied { "tied" } else { "untied" },
        if s.experts > 1 {
            format!(", {} experts (top {})", s.experts, s.top_k)
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "\nparameters (weight matrices; biases and norms left out):"
    );
    for (name, v) in [
        ("total", c.total),
        ("embedding", c.embedding),
        ("non-embedding", c.non_embedding),
        ("active per token", c.active),
    ] {
        let _ = writeln!(out, "  {name:<18} {:>10}  ({v:.6e})", human(v));
    }
    let _ = writeln!(out, "\ntraining FLOPs per token:");
    let labels = [
        "6 N (total)",
        "6 N (non-embedding)",
        "6 N (active)",
        "Kaplan 3(2N + 2 n_layer n_ctx d_attn)",
        "Chinchilla Appendix F",
        "DeepSeek M = 72 L d^2 + 12 L d n_ctx",
    ];
    for ((_, v), label) in f.entries().iter().zip(labels) {
        let _ = writeln!(out, "  {label:<40} {v:>12.4e}  {:>6.3} x 6N", v / f.six_n);
    }
    if !r.heads_given {
        let _ = writeln!(out, "  ({CHINCHILLA_ONE_HEAD})");
    }
    out
}

/// Quote a CSV field when needed.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A table as CSV (header, then one line per row; fields quoted where needed).
///
/// # Examples
/// ```
/// use scaling::data::RunTable;
/// let t = RunTable::from_csv_str("t.csv", "name,N\n\"a,b\",1e9\n").unwrap();
/// assert_eq!(scaling::report::accounting::table_csv(&t), "name,N\n\"a,b\",1e9\n");
/// ```
pub fn table_csv(table: &RunTable) -> String {
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        cells.map(csv_field).collect::<Vec<_>>().join(",") + "\n"
    };
    let mut csv = line(&mut table.columns.iter().map(String::as_str));
    for row in &table.rows {
        csv.push_str(&line(&mut row.iter()));
    }
    csv
}

/// A table as a JSON array with one object per row; cells that read as finite numbers are
/// numbers, the others strings.
///
/// # Examples
/// ```
/// use scaling::data::RunTable;
/// let t = RunTable::from_csv_str("t.csv", "name,N\nsmall,1e9\n").unwrap();
/// let v = scaling::report::accounting::table_json_rows(&t);
/// assert_eq!(v[0]["name"], "small");
/// ```
pub fn table_json_rows(table: &RunTable) -> serde_json::Value {
    let rows = table
        .rows
        .iter()
        .map(|row| {
            let mut o = serde_json::Map::new();
            for (c, v) in table.columns.iter().zip(row) {
                let cell = match v.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() => serde_json::Value::from(x),
                    _ => serde_json::Value::from(v),
                };
                o.insert(c.clone(), cell);
            }
            serde_json::Value::Object(o)
        })
        .collect();
    serde_json::Value::Array(rows)
}

/// The text report of [`crate::accounting::shape`]: one line per proposed shape.
///
/// # Examples
/// ```
/// use scaling::accounting::{shape, ShapeRequest};
/// let text = scaling::report::accounting::shape_text(&shape(&ShapeRequest::new(7e9)).unwrap());
/// assert!(!text.is_empty());
/// ```
pub fn shape_text(r: &ShapeResult) -> String {
    let mut out = String::new();
    if let Some(q) = &r.request {
        let _ = writeln!(
            out,
            "Shapes near {} parameters (vocab {}, context {}, d_ff = 4 d_model, aspect {}-{}):\n",
            human(q.params),
            q.vocab,
            q.seq,
            q.aspect_min,
            q.aspect_max
        );
    }
    let _ = writeln!(
        out,
        "  {:>7} {:>7} {:>12} {:>7} {:>10} {:>14} {:>8}",
        "layers", "d_model", "heads x dim", "aspect", "total", "non-embedding", "error"
    );
    for q in &r.proposals {
        let _ = writeln!(
            out,
            "  {:>7} {:>7} {:>12} {:>7.1} {:>10} {:>14} {:>+7.2}%",
            q.shape.layers,
            q.shape.d_model,
            format!("{} x {}", q.shape.heads, q.shape.head_dim),
            q.aspect_ratio,
            human(q.counts.total),
            human(q.counts.non_embedding),
            100.0 * q.relative_error
        );
    }
    out
}

/// The text report of [`crate::accounting::reconcile_law`]: the frontier's local exponents and
/// the exponent over Kaplan's range beside the large-scale limit.
///
/// # Examples
/// ```
/// use scaling::accounting::{reconcile_law, ReconcileRequest};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let r = reconcile_law(&law, "chinchilla", &ReconcileRequest::default()).unwrap();
/// assert!(scaling::report::accounting::reconcile_text(&r).contains("chinchilla"));
/// ```
pub fn reconcile_text(res: &ReconcileResult) -> String {
    let mut out = String::new();
    let (r, q) = (&res.reconciliation, &res.request);
    let _ = writeln!(
        out,
        "What Kaplan et al. would have measured in a world following {}",
        res.law
    );
    let _ = writeln!(
        out,
        "  total from non-embedding parameters: N_T = N_E + omega N_E^(1/3), omega = {} (Pearce & Song 2024){}",
        sig(r.omega, 5),
        if q.omega.is_none() {
            format!(
                "\n  omega = V (aspect/12)^(1/3) with V = {}, aspect {}; Pearce & Song print 47491 for 32000 and 39.2, the formula gives 47481 (their figure comes from a rounded intermediate; an omega of 47491 uses it)",
                q.vocab, q.aspect
            )
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "  frontier: for C_E = 6 N_E D, N_E* minimises the law's loss at N_T(N_E*), D\n"
    );
    let _ = writeln!(
        out,
        "  {:>12} {:>12} {:>14} {:>16}",
        "N_E*", "N_T", "C_E (FLOPs)", "d ln N_E*/d ln C_E"
    );
    for l in &r.local_exponents {
        let _ = writeln!(
            out,
            "  {:>12} {:>12} {:>14.3e} {:>16.3}",
            human(l.non_embedding_params),
            human(l.total_params),
            l.non_embedding_flops,
            l.exponent
        );
    }
    let _ = writeln!(
        out,
        "\n  power-law fit over N_E* in [{}, {}] (Kaplan's range): N_E* ~ C_E^{:.3}",
        human(r.kaplan_range[0]),
        human(r.kaplan_range[1]),
        r.kaplan_range_exponent
    );
    let _ = writeln!(
        out,
        "  large-scale limit beta/(alpha+beta) = {:.3}; Kaplan et al. reported 0.73, Hoffmann et al. 0.50",
        r.large_scale_exponent
    );
    out
}
