//! `scaling count`, `scaling shape` and `scaling reconcile`.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use scaling::accounting::{self, Shape};
use scaling::report::{human, sig};

use crate::{plan, quantity, usage, Format};

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct CountArgs {
    /// A table of runs with shape columns (n_layers, d_model, n_heads, ...): append parameter
    /// and FLOP columns under every convention (the shape flags then give values for columns
    /// the table lacks).
    file: Option<PathBuf>,
    /// Layers n_layer.
    #[arg(long)]
    layers: Option<usize>,
    /// Model width d_model.
    #[arg(long)]
    d_model: Option<usize>,
    /// Attention heads (default: d_attn = d_model, Kaplan's convention; the counts do not
    /// depend on the split into heads unless --kv-heads differs).
    #[arg(long)]
    heads: Option<usize>,
    /// Key/value size per head (default: d_model / heads, which must divide).
    #[arg(long, alias = "head-dim")]
    kv_size: Option<usize>,
    /// With FILE: the training-tokens column (for FLOP columns; default: recognised by name).
    #[arg(long)]
    tokens_col: Option<String>,
    /// With FILE: write the table here instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
    /// Overwrite --out.
    #[arg(long)]
    force: bool,
    /// Key/value heads for grouped-query attention (default: --heads).
    #[arg(long)]
    kv_heads: Option<usize>,
    /// Feed-forward width (default: 4 d_model).
    #[arg(long)]
    ffw: Option<usize>,
    /// Vocabulary size (default 32000).
    #[arg(long)]
    vocab: Option<usize>,
    /// Context length (default 2048).
    #[arg(long)]
    seq: Option<usize>,
    /// Experts per layer (mixture of experts; default 1).
    #[arg(long)]
    experts: Option<usize>,
    /// Experts active per token (default 1).
    #[arg(long)]
    top_k: Option<usize>,
    /// Separate input and output embeddings (default: tied).
    #[arg(long)]
    untied: bool,
    /// Gated feed-forward (SwiGLU: three matrices).
    #[arg(long)]
    gated: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// The shape the flags describe, and whether the head count was given. Without `--heads`
/// the attention width is d_attn = d_model (Kaplan et al. 2020), as one head of width d_model:
/// with as many key/value heads as query heads, the counts do not depend on the split.
/// Said when the head count is not given.
const CHINCHILLA_ONE_HEAD: &str = "heads not given: the chinchilla count assumes one head (its softmax term, 3 n_heads n_ctx per layer, counts heads); give --heads for it";

fn shape_of(a: &CountArgs) -> Result<(Shape, bool)> {
    let need = |v: Option<usize>, flag: &str| {
        v.ok_or_else(|| usage(format!("count needs {flag} (or a FILE with shape columns)")))
    };
    let (layers, d_model) = (need(a.layers, "--layers")?, need(a.d_model, "--d-model")?);
    let (heads, head_dim) = match (a.heads, a.kv_size) {
        (None, _) if a.kv_heads.is_some() => {
            return Err(usage(
                "--kv-heads (grouped-query attention) needs --heads, the number of query heads",
            ))
        }
        (None, None) => (1, d_model),
        (None, Some(k)) => {
            if k == 0 || !d_model.is_multiple_of(k) {
                return Err(usage(format!(
                    "--d-model {d_model} is not divisible by --kv-size {k}: give --heads as well"
                )));
            }
            (d_model / k, k)
        }
        (Some(h), Some(k)) => (h, k),
        (Some(h), None) => {
            if h == 0 || !d_model.is_multiple_of(h) {
                return Err(usage(format!(
                    "--d-model {d_model} is not divisible by --heads {h}: give the head dimension with --kv-size"
                )));
            }
            (h, d_model / h)
        }
    };
    let s = Shape {
        layers,
        d_model,
        heads,
        head_dim,
        kv_heads: a.kv_heads.unwrap_or(heads),
        ffw: a.ffw.unwrap_or(4 * d_model),
        vocab: a.vocab.unwrap_or(32000),
        seq: a.seq.unwrap_or(2048),
        experts: a.experts.unwrap_or(1),
        top_k: a.top_k.unwrap_or(1),
        tied: !a.untied,
        gated: a.gated,
    };
    s.validate()?;
    Ok((s, a.heads.is_some() || a.kv_size.is_some()))
}

/// Quote a CSV field when needed.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `scaling count FILE`: the table with count columns appended, as CSV.
fn count_table(a: &CountArgs, path: &std::path::Path, out: &mut String) -> Result<()> {
    let mut table = scaling::data::RunTable::read(path)?;
    let overrides = scaling::data::ColumnOverrides {
        tokens: a.tokens_col.clone(),
        ..Default::default()
    };
    let tokens = scaling::data::find_column(&table, scaling::data::Role::Tokens, &overrides)?;
    let defaults = accounting::ShapeDefaults {
        layers: a.layers,
        d_model: a.d_model,
        heads: a.heads,
        head_dim: a.kv_size,
        kv_heads: a.kv_heads,
        ffw: a.ffw,
        vocab: a.vocab,
        seq: a.seq,
        experts: a.experts,
        top_k: a.top_k,
        tied: !a.untied,
        gated: a.gated,
    };
    accounting::add_count_columns(&mut table, &defaults, tokens)?;
    if matches!(a.format, Format::Json) {
        // One object per row, cells that are numbers as numbers.
        let rows: Vec<serde_json::Value> = table
            .rows
            .iter()
            .map(|row| {
                let mut o = serde_json::Map::new();
                for (c, v) in table.columns.iter().zip(row) {
                    let cell = match v.trim().parse::<f64>() {
                        Ok(x) if x.is_finite() => serde_json::Value::from(x),
                        _ => serde_json::Value::from(v.clone()),
                    };
                    o.insert(c.clone(), cell);
                }
                serde_json::Value::Object(o)
            })
            .collect();
        let json = serde_json::to_string_pretty(&rows)? + "\n";
        match &a.out {
            Some(p) => {
                crate::write_new(p, &json, a.force, "--out")?;
                out.push_str(&format!(
                    "wrote {} rows with count columns to {} (JSON)\n",
                    table.rows.len(),
                    p.display()
                ));
            }
            None => out.push_str(&json),
        }
        return Ok(());
    }
    let mut csv = String::new();
    csv.push_str(
        &table
            .columns
            .iter()
            .map(|c| csv_field(c))
            .collect::<Vec<_>>()
            .join(","),
    );
    csv.push('\n');
    for row in &table.rows {
        csv.push_str(
            &row.iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        csv.push('\n');
    }
    match &a.out {
        Some(p) => {
            crate::write_new(p, &csv, a.force, "--out")?;
            out.push_str(&format!(
                "wrote {} rows with count columns to {}\n",
                table.rows.len(),
                p.display()
            ));
        }
        None => out.push_str(&csv),
    }
    Ok(())
}

/// `scaling count`.
pub fn cmd_count(a: CountArgs, out: &mut String) -> Result<()> {
    if let Some(path) = a.file.clone() {
        if let Some(p) = &a.out {
            crate::check_new(p, a.force, "--out")?;
        }
        return count_table(&a, &path, out);
    }
    let (s, heads_given) = shape_of(&a)?;
    let c = s.counts();
    let f = s.flops_per_token();
    match a.format {
        Format::Json => {
            let mut fpt = serde_json::Map::new();
            let mut ratio = serde_json::Map::new();
            for (k, v) in f.entries() {
                fpt.insert(k.into(), v.into());
                ratio.insert(k.into(), (v / f.six_n).into());
            }
            let v = serde_json::json!({
                "total_params": c.total,
                "non_embedding_params": c.non_embedding,
                "embedding_params": c.embedding,
                "active_params": c.active,
                "active_non_embedding_params": c.active_non_embedding,
                "flops_per_token": fpt,
                "ratio_to_six_n": ratio,
                "shape": s,
                "heads_given": heads_given,
                "notes": if heads_given { vec![] } else { vec![CHINCHILLA_ONE_HEAD] },
                "d_attn": s.d_attn(),
                "conventions": "weight matrices only (no biases or norm gains); training FLOPs per token; backward = 2 x forward",
            });
            out.push_str(&serde_json::to_string_pretty(&v)?);
            out.push('\n');
        }
        Format::Text => {
            let heads = if heads_given {
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
                if s.experts > 1 { format!(", {} experts (top {})", s.experts, s.top_k) } else { String::new() }
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
                ("six_n", "6 N (total)"),
                ("six_n_non_embedding", "6 N (non-embedding)"),
                ("six_n_active", "6 N (active)"),
                ("kaplan", "Kaplan 3(2N + 2 n_layer n_ctx d_attn)"),
                ("chinchilla", "Chinchilla Appendix F"),
                ("deepseek", "DeepSeek M = 72 L d^2 + 12 L d n_ctx"),
            ];
            for ((key, v), (_, label)) in f.entries().iter().zip(labels) {
                let _ = writeln!(out, "  {label:<40} {v:>12.4e}  {:>6.3} x 6N", v / f.six_n);
                let _ = key;
            }
            if !heads_given {
                let _ = writeln!(out, "  ({CHINCHILLA_ONE_HEAD})");
            }
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct ShapeArgs {
    /// Target total parameters (e.g. 7B).
    #[arg(long, value_parser = quantity)]
    params: f64,
    /// Vocabulary size.
    #[arg(long, default_value_t = 32000)]
    vocab: usize,
    /// Context length.
    #[arg(long, default_value_t = 2048)]
    seq: usize,
    /// Separate input and output embeddings.
    #[arg(long)]
    untied: bool,
    /// Smallest aspect ratio d_model / n_layer.
    #[arg(long, default_value_t = 32.0)]
    aspect_min: f64,
    /// Largest aspect ratio d_model / n_layer.
    #[arg(long, default_value_t = 160.0)]
    aspect_max: f64,
    /// How many shapes (at least 1).
    #[arg(long, default_value_t = 6)]
    count: usize,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// `scaling shape`.
pub fn cmd_shape(a: ShapeArgs, out: &mut String) -> Result<()> {
    let p = accounting::propose(
        a.params,
        a.vocab,
        a.seq,
        !a.untied,
        (a.aspect_min, a.aspect_max),
        a.count,
    )?;
    match a.format {
        Format::Json => {
            out.push_str(&serde_json::to_string_pretty(&p)?);
            out.push('\n');
        }
        Format::Text => {
            let _ = writeln!(
                out,
                "Shapes near {} parameters (vocab {}, context {}, d_ff = 4 d_model, aspect {}-{}):\n",
                human(a.params),
                a.vocab,
                a.seq,
                a.aspect_min,
                a.aspect_max
            );
            let _ = writeln!(
                out,
                "  {:>7} {:>7} {:>12} {:>7} {:>10} {:>14} {:>8}",
                "layers", "d_model", "heads x dim", "aspect", "total", "non-embedding", "error"
            );
            for q in &p {
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
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct ReconcileArgs {
    /// A saved fit or law file of the Chinchilla form in total parameters; or use --preset.
    law: Option<PathBuf>,
    /// A published law by name.
    #[arg(long)]
    preset: Option<String>,
    /// omega in N_T = N_E + omega N_E^(1/3) (default: V (aspect/12)^(1/3) from --vocab and
    /// --aspect, 47481 for 32000 and 39.2; Pearce & Song print 47491, from a rounded
    /// intermediate value: pass --omega 47491 to use their figure).
    #[arg(long)]
    omega: Option<f64>,
    /// Vocabulary size for omega.
    #[arg(long, default_value_t = 32000.0)]
    vocab: f64,
    /// Aspect ratio d_model / n_layer for omega (Pearce & Song use 39.2).
    #[arg(long, default_value_t = 39.2)]
    aspect: f64,
    /// Range of non-embedding parameters fitted (Kaplan's: 768 to 1.5e9).
    #[arg(long, value_parser = quantity, default_value = "768")]
    min_params: f64,
    /// Upper end of that range.
    #[arg(long, value_parser = quantity, default_value = "1.5e9")]
    max_params: f64,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// `scaling reconcile`.
pub fn cmd_reconcile(a: ReconcileArgs, out: &mut String) -> Result<()> {
    let src = plan::resolve(a.law.as_deref(), a.preset.as_deref())?;
    let law = src
        .law
        .clone()
        .ok_or_else(|| usage(format!("{} has no loss law", src.label)))?;
    if !(a.min_params > 0.0 && a.max_params > a.min_params) {
        return Err(usage(
            "--min-params must be positive and below --max-params",
        ));
    }
    let omega = a
        .omega
        .unwrap_or_else(|| accounting::omega(a.vocab, a.aspect));
    let r = accounting::reconcile(&law, omega, [a.min_params, a.max_params])?;
    match a.format {
        Format::Json => {
            let mut v = serde_json::to_value(&r)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("law".into(), src.label.clone().into());
            }
            out.push_str(&serde_json::to_string_pretty(&v)?);
            out.push('\n');
        }
        Format::Text => {
            let _ = writeln!(
                out,
                "What Kaplan et al. would have measured in a world following {}",
                src.label
            );
            let _ = writeln!(
                out,
                "  total from non-embedding parameters: N_T = N_E + omega N_E^(1/3), omega = {} (Pearce & Song 2024){}",
                sig(omega, 5),
                if a.omega.is_none() {
                    format!(
                        "\n  omega = V (aspect/12)^(1/3) with V = {}, aspect {}; Pearce & Song print 47491 for 32000 and 39.2, the formula gives 47481 (their figure comes from a rounded intermediate; --omega 47491 uses it)",
                        a.vocab, a.aspect
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
        }
    }
    Ok(())
}
