//! `scaling count`, `scaling shape` and `scaling reconcile`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use scaling::accounting::{self, CountRequest, ReconcileRequest, ShapeRequest};
use scaling::report::accounting as render;

use crate::{emit, plan, quantity, Format};

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

impl CountArgs {
    fn request(&self) -> CountRequest {
        CountRequest {
            layers: self.layers,
            d_model: self.d_model,
            heads: self.heads,
            kv_size: self.kv_size,
            kv_heads: self.kv_heads,
            ffw: self.ffw,
            vocab: self.vocab,
            seq: self.seq,
            experts: self.experts,
            top_k: self.top_k,
            untied: self.untied,
            gated: self.gated,
            tokens_col: self.tokens_col.clone(),
        }
    }
}

/// `scaling count`.
pub fn cmd_count(a: CountArgs, out: &mut String) -> Result<()> {
    let req = a.request();
    let Some(path) = &a.file else {
        return emit(out, a.format, &accounting::count(&req)?, render::count_text);
    };
    if let Some(p) = &a.out {
        crate::check_new(p, a.force, "--out")?;
    }
    let mut table = scaling::data::RunTable::read(path)?;
    accounting::count_table(&mut table, &req)?;
    let (text, kind) = match a.format {
        Format::Json => (
            serde_json::to_string_pretty(&render::table_json_rows(&table))? + "\n",
            " (JSON)",
        ),
        Format::Text => (render::table_csv(&table), ""),
    };
    match &a.out {
        Some(p) => {
            crate::write_new(p, &text, a.force, "--out")?;
            out.push_str(&format!(
                "wrote {} rows with count columns to {}{kind}\n",
                table.rows.len(),
                p.display()
            ));
        }
        None => out.push_str(&text),
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
    let r = accounting::shape(&ShapeRequest {
        params: a.params,
        vocab: a.vocab,
        seq: a.seq,
        untied: a.untied,
        aspect_min: a.aspect_min,
        aspect_max: a.aspect_max,
        count: a.count,
    })?;
    emit(out, a.format, &r, render::shape_text)
}

#[derive(Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    law: plan::LawArgs,
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
    let src = a.law.resolve()?;
    let req = ReconcileRequest {
        omega: a.omega,
        vocab: a.vocab,
        aspect: a.aspect,
        min_params: a.min_params,
        max_params: a.max_params,
    };
    let r = accounting::reconcile_law(src.loss_law()?, &src.label, &req)?;
    emit(out, a.format, &r, render::reconcile_text)
}
