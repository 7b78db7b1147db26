//! `scaling plateau` and `scaling simulate` (data strategies, synthetic sweeps).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use scaling::data::RunTable;
use scaling::plateau::PlateauRequest;
use scaling::report::lab as render;
use scaling::simulate::{self, StrategyRequest, SweepRequest};

use crate::{emit, plan, write_new, Format};

#[derive(Args)]
pub struct PlateauArgs {
    /// A table with the curve.
    file: PathBuf,
    /// Column of x (N, D, C or examples).
    #[arg(long)]
    x: String,
    /// Column of y (loss or error).
    #[arg(long)]
    y: String,
    /// Hold out the points with the largest x to test extrapolation (default: a fifth of them
    /// when there are 10 or more).
    #[arg(long)]
    holdout: Option<usize>,
    /// Bootstrap replicates for the interval on E.
    #[arg(long, default_value_t = 200)]
    bootstrap: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Interval level.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// `scaling plateau`.
pub fn cmd_plateau(a: PlateauArgs, out: &mut String) -> Result<()> {
    scaling::methods::check_level(a.level)?;
    let table = RunTable::read(&a.file)?;
    let req = PlateauRequest {
        x: a.x,
        y: a.y,
        holdout: a.holdout,
        bootstrap: a.bootstrap,
        seed: a.seed,
        level: a.level,
    };
    let r = scaling::plateau::plateau_table(&table, &req)?;
    let file = a.file.display().to_string();
    emit(out, a.format, &r, |r| render::plateau_text(r, &req, &file))
}

// Built only when invoked, as the top-level commands are (see `Command` in main.rs).
#[derive(Subcommand)]
#[command(defer = true)]
pub enum SimulateCommand {
    /// The seed document's experiment: how the data strategy changes the rate and the floor.
    DataStrategy(Box<StrategyArgs>),
    /// Synthetic training runs from a law on a design, written as a run table.
    Sweep(Box<SweepArgs>),
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct StrategyArgs {
    /// Scenario.
    #[arg(long, value_parser = ["full-range", "near-zero", "low-noise", "half-support", "prune"])]
    scenario: String,
    /// near-zero: training x ~ Uniform(-n^-kappa, n^-kappa).
    #[arg(long, default_value_t = 0.25)]
    kappa: f64,
    /// low-noise: training noise sd sigma n^(-gamma/2).
    #[arg(long, default_value_t = 0.5)]
    gamma: f64,
    /// The bias b the model does not have (y = x + b + eps).
    #[arg(long, default_value_t = 0.0)]
    bias: f64,
    /// prune: the fraction of the candidate pool kept.
    #[arg(long, default_value_t = 0.5)]
    keep_fraction: f64,
    /// prune: keep the largest or the smallest |x|.
    #[arg(long, value_parser = ["largest", "smallest"], default_value = "largest")]
    keep: String,
    /// Training-set sizes: values or ranges A:B (A:B:K for K per decade; default 3 per decade).
    #[arg(long, default_value = "1e2:1e5:3")]
    sizes: String,
    /// Repetitions per size.
    #[arg(long, default_value_t = 400)]
    reps: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Noise sd sigma.
    #[arg(long, default_value_t = 1.0)]
    noise: f64,
    /// Interval level.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct SweepArgs {
    #[command(flatten)]
    law: plan::LawArgs,
    /// IsoFLOP design: these budgets (values or ranges), with --per-budget models each.
    #[arg(long, default_value = "6e18,1e19,3e19,6e19,1e20,3e20,6e20,1e21,3e21")]
    budgets: String,
    /// Models per budget, spread over --span decades of N around the optimum.
    #[arg(long, default_value_t = 10)]
    per_budget: usize,
    /// Decades of N covered per budget.
    #[arg(long, default_value_t = 1.5)]
    span: f64,
    /// A grid design instead: these model sizes (values or ranges) ...
    #[arg(long)]
    grid_params: Option<String>,
    /// ... times these token counts.
    #[arg(long)]
    grid_tokens: Option<String>,
    /// Noise in ln L.
    #[arg(long, value_parser = ["gaussian", "exponential"], default_value = "gaussian")]
    noise_kind: String,
    /// Its scale (sd, or mean for exponential).
    #[arg(long, default_value_t = 0.01)]
    noise: f64,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Write the runs here (CSV) instead of standard output.
    #[arg(long, short = 'o')]
    out: Option<PathBuf>,
    /// Overwrite --out.
    #[arg(long)]
    force: bool,
}

/// `scaling simulate ...`.
pub fn cmd_simulate(c: SimulateCommand, out: &mut String) -> Result<()> {
    match c {
        SimulateCommand::DataStrategy(a) => strategy(*a, out),
        SimulateCommand::Sweep(a) => sweep(*a, out),
    }
}

fn strategy(a: StrategyArgs, out: &mut String) -> Result<()> {
    let r = simulate::data_strategy(&StrategyRequest {
        scenario: a.scenario,
        kappa: a.kappa,
        gamma: a.gamma,
        bias: a.bias,
        keep_fraction: a.keep_fraction,
        keep: a.keep,
        sizes: a.sizes,
        reps: a.reps,
        seed: a.seed,
        noise: a.noise,
        level: a.level,
    })?;
    emit(out, a.format, &r, render::strategy_text)
}

fn sweep(a: SweepArgs, out: &mut String) -> Result<()> {
    if let Some(p) = &a.out {
        crate::check_new(p, a.force, "--out")?;
    }
    let src = a.law.resolve()?;
    let runs = simulate::sweep(
        src.loss_law()?,
        &SweepRequest {
            budgets: a.budgets,
            per_budget: a.per_budget,
            span: a.span,
            grid_params: a.grid_params,
            grid_tokens: a.grid_tokens,
            noise_kind: a.noise_kind,
            noise: a.noise,
            seed: a.seed,
        },
    )?;
    let csv = render::runs_csv(&runs);
    match &a.out {
        Some(p) => {
            write_new(p, &csv, a.force, "--out")?;
            let _ = writeln!(
                out,
                "wrote {} synthetic runs to {} (law: {})",
                runs.len(),
                p.display(),
                src.label
            );
        }
        None => out.push_str(&csv),
    }
    Ok(())
}
