//! `scaling sensitivity`: how a law's answers move with its parameters.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use scaling::validate::{sensitivity, Target};

use crate::{plan, quantity, usage, Format};

#[derive(Args)]
pub struct SensitivityArgs {
    /// A saved fit or a law file (Chinchilla form); or use --preset.
    law: Option<PathBuf>,
    /// A published law by name (`scaling presets`).
    #[arg(long)]
    preset: Option<String>,
    /// The budget (FLOPs): evaluate at its compute-optimal N and D.
    #[arg(long, value_parser = quantity, value_name = "C")]
    flops: Option<f64>,
    /// Parameters N of the target run (with --tokens).
    #[arg(long, value_parser = quantity)]
    params: Option<f64>,
    /// Tokens D of the target run (with --params).
    #[arg(long, value_parser = quantity)]
    tokens: Option<f64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// `scaling sensitivity`.
pub fn cmd_sensitivity(a: SensitivityArgs, out: &mut String) -> Result<()> {
    let src = plan::resolve(a.law.as_deref(), a.preset.as_deref())?;
    let target = match (a.flops, a.params, a.tokens) {
        (Some(c), None, None) => Target::Budget {
            flops: c,
            flops_per_param_token: src.k,
        },
        (None, Some(n), Some(d)) => Target::Point {
            params: n,
            tokens: d,
        },
        _ => return Err(usage("give --flops C, or --params N and --tokens D")),
    };
    let s = sensitivity(src.loss_law()?, target)?;
    match a.format {
        Format::Json => {
            out.push_str(&serde_json::to_string_pretty(&s)?);
            out.push('\n');
        }
        Format::Text => out.push_str(&scaling::report::backtest::sensitivity_text(&s, &src.label)),
    }
    Ok(())
}
