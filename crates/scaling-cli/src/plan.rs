//! `scaling optimal` and `scaling presets`, and how a law is named on the command line: a file
//! (a saved fit or a hand-written law) or `--preset NAME`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use scaling::allocate::{self, plan};
use scaling::law::presets;

use crate::{emit, quantity, usage, Format};

pub use scaling::allocate::Source;

/// Resolve a law file or a preset name (exactly one) with the library's loader.
pub fn resolve(path: Option<&Path>, preset: Option<&str>) -> Result<Source> {
    match (path, preset) {
        (Some(_), Some(_)) => Err(usage("give a law file or --preset, not both")),
        (None, None) => Err(usage(
            "name a law: a saved fit or law file, or --preset NAME (see `scaling presets`)",
        )),
        (None, Some(name)) => Ok(Source::preset(name)?),
        (Some(path), None) => Ok(Source::load(path)?),
    }
}

// A law named on the command line: a file or a preset.
// (Not a doc comment: clap would make it the about text of the commands that flatten
// this, because their arguments are built late; see `Command`.)
#[derive(Args)]
pub struct LawArgs {
    /// A saved fit (`scaling fit --out`) or a law file such as
    /// {"law": "chinchilla", "params": {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}};
    /// or use --preset.
    law: Option<PathBuf>,
    /// A published law by name (`scaling presets` lists them).
    #[arg(long)]
    preset: Option<String>,
}

impl LawArgs {
    /// The law, from the library's loader.
    pub fn resolve(&self) -> Result<Source> {
        resolve(self.law.as_deref(), self.preset.as_deref())
    }
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct OptimalArgs {
    #[command(flatten)]
    law: LawArgs,
    /// Budgets in FLOPs: values separated by commas, or ranges A:B by decades (A:B:K for K per
    /// decade), e.g. 5.76e23 or 1e19:1e26.
    #[arg(long, value_name = "C")]
    flops: Vec<String>,
    /// The least compute (and its N and D) that reaches this loss.
    #[arg(long, value_parser = quantity, value_name = "L")]
    target_loss: Option<f64>,
    /// Fix the model size: the best token count for it under each budget, and the extra
    /// compute it costs against the optimum.
    #[arg(long, value_parser = quantity, value_name = "N")]
    params: Option<f64>,
    /// Fix the token count instead.
    #[arg(long, value_parser = quantity, value_name = "D")]
    tokens: Option<f64>,
    /// Tokens to be served at inference: minimise training plus inference compute
    /// (k N D + 2 N T) for the loss of the budget's optimum (or --target-loss), after Sardana
    /// et al. 2024.
    #[arg(long, value_parser = quantity, value_name = "T")]
    inference_tokens: Option<f64>,
    /// Unique tokens available (data-constrained law: --preset muennighoff): the best N and
    /// number of epochs.
    #[arg(long, value_parser = quantity, value_name = "U")]
    unique_tokens: Option<f64>,
    /// FLOPs per parameter per token in C = k N D (default: the fit's, or 6).
    #[arg(long, value_parser = quantity, value_name = "K")]
    flops_per_param_token: Option<f64>,
    /// Interval level for fits with bootstrap replicates (default: the fit's).
    #[arg(long)]
    level: Option<f64>,
    /// Output format (markdown prints a table).
    #[arg(long, value_enum, default_value = "text")]
    format: OutFormat,
}

/// Output formats of `scaling optimal`.
#[derive(Clone, Copy, clap::ValueEnum, PartialEq)]
pub enum OutFormat {
    /// A readable table.
    Text,
    /// A Markdown table.
    Markdown,
    /// JSON.
    Json,
}

/// `scaling optimal`: one library call (which checks the question asked) and one renderer.
pub fn cmd_optimal(a: OptimalArgs, out: &mut String) -> Result<()> {
    let src = a.law.resolve()?;
    a.level.map(scaling::methods::check_level).transpose()?;
    let budgets: Vec<f64> = if a.flops.is_empty() {
        vec![]
    } else {
        allocate::parse_budgets(&a.flops.join(","))?
    };
    let req = plan::PlanRequest {
        budgets,
        target_loss: a.target_loss,
        params: a.params,
        tokens: a.tokens,
        inference_tokens: a.inference_tokens,
        unique_tokens: a.unique_tokens,
        flops_per_param_token: a.flops_per_param_token,
        level: a.level,
    };
    // The library's checks of the question name `budgets`, which this command calls --flops.
    let p = plan::plan(&src, &req).map_err(|mut e| {
        if let scaling::Error::Setting { names, .. } = &mut e {
            names
                .iter_mut()
                .filter(|n| *n == "budgets")
                .for_each(|n| *n = "flops".into());
        }
        e
    })?;
    match a.format {
        OutFormat::Json => {
            out.push_str(&serde_json::to_string_pretty(&p)?);
            out.push('\n');
        }
        fmt => out.push_str(&scaling::report::plan::plan_text(
            &p,
            fmt == OutFormat::Markdown,
        )),
    }
    Ok(())
}

#[derive(Args)]
pub struct PresetsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// `scaling presets`.
pub fn cmd_presets(a: PresetsArgs, out: &mut String) -> Result<()> {
    let all = presets::all();
    let v: Vec<serde_json::Value> = all.iter().map(|p| p.to_json()).collect();
    emit(out, a.format, &v, |_| {
        scaling::report::plan::presets_text(&all)
    })
}
