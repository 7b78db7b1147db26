//! `scaling optimal` and `scaling presets`, and how a law is named on the command line: a file
//! (a saved fit or a hand-written law) or `--preset NAME`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use scaling::allocate::{self, plan};
use scaling::law::presets;

use crate::{quantity, usage, Format};

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

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct OptimalArgs {
    /// A saved fit (`scaling fit --out`) or a law file; or use --preset.
    law: Option<PathBuf>,
    /// A published law by name (`scaling presets` lists them).
    #[arg(long)]
    preset: Option<String>,
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

/// `scaling optimal`: the flags' combinations are checked here (so errors name the flags),
/// then one library call and one renderer.
pub fn cmd_optimal(a: OptimalArgs, out: &mut String) -> Result<()> {
    let src = resolve(a.law.as_deref(), a.preset.as_deref())?;
    if let Some(level) = a.level {
        if !(level > 0.0 && level < 1.0) {
            return Err(usage(format!(
                "--level must be between 0 and 1, got {level}"
            )));
        }
    }
    let budgets: Vec<f64> = if a.flops.is_empty() {
        vec![]
    } else {
        allocate::parse_budgets(&a.flops.join(","))?
    };
    if budgets.is_empty() && a.target_loss.is_none() {
        return Err(usage(
            "give --flops C (one or more budgets, or a range like 1e19:1e26) or --target-loss L",
        ));
    }
    // One question at a time.
    if a.target_loss.is_some() && (a.params.is_some() || a.tokens.is_some()) {
        return Err(usage(
            "--target-loss answers its own question: do not combine it with --params or --tokens",
        ));
    }
    if a.target_loss.is_some() && !budgets.is_empty() {
        return Err(usage("give --flops or --target-loss, not both (with --inference-tokens either sets the loss)"));
    }
    if (a.params.is_some() || a.tokens.is_some()) && budgets.is_empty() {
        return Err(usage(
            "--params or --tokens needs --flops: the budget fixes the partner",
        ));
    }
    if (a.params.is_some() || a.tokens.is_some()) && a.inference_tokens.is_some() {
        return Err(usage("--inference-tokens chooses N and D itself: do not combine it with --params or --tokens"));
    }
    let asks_law = a.target_loss.is_some()
        || a.params.is_some()
        || a.tokens.is_some()
        || a.inference_tokens.is_some();
    if src.rule.is_some() && asks_law {
        return Err(usage(format!(
            "{} is a published allocation rule; --target-loss, --params, --tokens and --inference-tokens need a loss law whose optimum is that rule, which it does not publish",
            src.label
        )));
    }
    if a.unique_tokens.is_some()
        && src.law.as_ref().map(|l| l.form.clone()) != Some(scaling::law::LawForm::DataConstrained)
    {
        return Err(usage(
            "--unique-tokens needs the data-constrained law (--preset muennighoff)",
        ));
    }
    if a.unique_tokens.is_some() && a.inference_tokens.is_some() {
        return Err(usage(
            "--inference-tokens plans with every token unique: do not combine it with --unique-tokens",
        ));
    }
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
    let p = plan::plan(&src, &req)?;
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
    match a.format {
        Format::Json => {
            let v: Vec<serde_json::Value> = all.iter().map(|p| p.to_json()).collect();
            out.push_str(&serde_json::to_string_pretty(&v)?);
            out.push('\n');
        }
        Format::Text => out.push_str(&scaling::report::plan::presets_text(&all)),
    }
    Ok(())
}
