//! `scaling design`: the next runs to train, within a compute allowance, that most shrink an
//! interval; compared with the usual alternatives of equal cost.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use scaling::validate::{self, DesignRequest, Quantity, SimulateRequest, Target};

use crate::{load_request, quantity, read_table, usage, DataArgs, Format};

#[derive(Args)]
pub struct DesignArgs {
    /// Run table (CSV, or JSON array of objects), or a saved fit (`scaling fit --out`; its
    /// bootstrap, if any, gives today's bootstrap width).
    file: PathBuf,
    /// Target budget (FLOPs): the quantity is evaluated at its compute-optimal run.
    #[arg(long, value_parser = quantity, value_name = "C")]
    budget: Option<f64>,
    /// Target model size N (with --tokens), for --quantity loss or a parameter.
    #[arg(long, value_parser = quantity)]
    params: Option<f64>,
    /// Target tokens D (with --params).
    #[arg(long, value_parser = quantity)]
    tokens: Option<f64>,
    /// Compute for all the new runs together (FLOPs).
    #[arg(long, value_parser = quantity, value_name = "FLOPS")]
    allowance: f64,
    /// Number of new runs.
    #[arg(long, default_value_t = 4)]
    k: usize,
    /// What to pin down: n_opt (at --budget), loss (at the target), or a parameter (alpha).
    #[arg(long, default_value = "n_opt", value_name = "n_opt|loss|PARAM")]
    quantity: String,
    /// Interval level.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Check the promise: R repetitions of drawing each plan's runs from the fitted law with
    /// resampled residuals, refitting and bootstrapping.
    #[arg(long, value_name = "R")]
    simulate: Option<usize>,
    /// Bootstrap replicates of each refit of --simulate.
    #[arg(long, default_value_t = 100, value_name = "B")]
    simulate_bootstrap: usize,
    /// Seed of --simulate.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Functional form when fitting a run table (as in `scaling fit`).
    #[arg(long, default_value = "chinchilla", value_name = "NAME|FORMULA")]
    law: String,
    #[command(flatten)]
    data: DataArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    settings: crate::FitSettings,
}

/// `scaling design`.
pub fn cmd_design(a: DesignArgs, out: &mut String) -> Result<()> {
    let text = std::fs::read_to_string(&a.file).ok();
    let saved = text
        .as_deref()
        .is_some_and(|t| t.trim_start().starts_with('{'));
    let fit = if saved {
        crate::read_fit(&a.file)?
    } else {
        let names = a.settings.names(&a.law);
        names.config_for(&[])?;
        let table = read_table(&a.file, &a.data)?;
        let headers: Vec<&str> = table.columns.iter().map(|c| c.as_str()).collect();
        let config = names.config_for(&headers)?;
        crate::row_filter(&a.data)?;
        let mut needs = scaling::fit::needs(&config.form);
        needs.params = true;
        needs.tokens = true;
        let runs = scaling::accounting::load_runs(&table, needs, &load_request(&a.data), None)?;
        let req = scaling::uncertainty::FitRequest {
            config,
            bootstrap: None,
        };
        scaling::uncertainty::fit_table(&table, &runs, &req, &|| {})?
    };
    let target = match (a.budget, a.params, a.tokens) {
        (Some(c), None, None) => Target::Budget {
            flops: c,
            flops_per_param_token: fit.conventions.flops_per_param_token,
        },
        (None, Some(n), Some(d)) => Target::Point {
            params: n,
            tokens: d,
        },
        _ => return Err(usage("give --budget C, or --params N and --tokens D")),
    };
    let req = DesignRequest {
        target,
        quantity: Quantity::parse(&a.quantity),
        allowance: a.allowance,
        runs: a.k,
        level: a.level,
        simulate: a.simulate.map(|r| SimulateRequest {
            repetitions: r,
            bootstrap: a.simulate_bootstrap,
            seed: a.seed,
        }),
    };
    let d = validate::design(&fit, &req, &|| {})?;
    match a.format {
        Format::Json => {
            out.push_str(&serde_json::to_string_pretty(&d)?);
            out.push('\n');
        }
        Format::Text => out.push_str(&scaling::report::backtest::design_text(
            &d,
            &a.file.display().to_string(),
        )),
    }
    Ok(())
}
