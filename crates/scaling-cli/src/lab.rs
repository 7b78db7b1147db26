//! `scaling plateau` and `scaling simulate` (data strategies, synthetic sweeps).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};

use scaling::data::RunTable;
use scaling::report::sig;
use scaling::simulate::{self, Scenario, StrategyConfig};

use crate::{plan, usage, write_new, Format};

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
    if !(a.level > 0.0 && a.level < 1.0) {
        return Err(usage(format!(
            "--level must be between 0 and 1, got {}",
            a.level
        )));
    }
    let table = RunTable::read(&a.file)?;
    let (xi, yi) = (
        table.named_column("--x", &a.x)?,
        table.named_column("--y", &a.y)?,
    );
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for r in 0..table.rows.len() {
        for (c, dst) in [(xi, &mut xs), (yi, &mut ys)] {
            let v = table.positive(r, c)?;
            dst.push(v);
        }
    }
    let holdout = a
        .holdout
        .unwrap_or(if xs.len() >= 10 { xs.len() / 5 } else { 0 });
    let r = scaling::plateau::plateau(&xs, &ys, holdout, a.bootstrap, a.seed, a.level)?;
    match a.format {
        Format::Json => {
            out.push_str(&serde_json::to_string_pretty(&r)?);
            out.push('\n');
        }
        Format::Text => {
            let _ = writeln!(
                out,
                "Is it a plateau? {} vs {} in {} ({} points fitted, {} held out at the largest {})\n",
                a.y,
                a.x,
                a.file.display(),
                r.fit_points,
                r.heldout_points,
                a.x
            );
            let _ = writeln!(
                out,
                "  {:<11} {:>3} {:>10} {:>10} {:>14} {:>16}  parameters",
                "form", "k", "AIC", "BIC", "held-out RMSE", "slope at end"
            );
            for f in &r.forms {
                let params: Vec<String> = f
                    .params
                    .iter()
                    .map(|(k, v)| format!("{k} = {}", sig(*v, 4)))
                    .collect();
                let _ = writeln!(
                    out,
                    "  {:<11} {:>3} {:>10} {:>10} {:>14} {:>16}  {}",
                    f.name,
                    f.k,
                    sig(f.aic, 4),
                    sig(f.bic, 4),
                    f.heldout_rmse
                        .map(|v| sig(v, 3))
                        .unwrap_or_else(|| "-".into()),
                    format!("{:.3}", f.local_exponent_at_end),
                    params.join(", ")
                );
            }
            let _ = writeln!(
                out,
                "  (RMSE and slope on ln y; slope = -d ln y / d ln x at the last fitted point)\n"
            );
            let iv = r
                .asymptote_interval
                .map(|[l, h]| format!("[{}, {}]", sig(l, 4), sig(h, 4)))
                .unwrap_or_else(|| "n/a".into());
            let _ = writeln!(
                out,
                "  floor E (saturating form) = {} ({}% interval {iv})",
                sig(r.asymptote, 4),
                (1e6 * 100.0 * a.level).round() / 1e6
            );
            let _ = writeln!(out, "  best by AIC: {}; by BIC: {}", r.best_aic, r.best_bic);
            let lct = &r.learning_curve_type;
            let _ = writeln!(
                out,
                "  learning-curve type (Amari et al. 1992): closest to {} (exponent {}{})",
                lct.closest,
                sig(lct.exponent, 3),
                lct.exponent_interval
                    .map(|[l, h]| format!(", interval [{}, {}]", sig(l, 3), sig(h, 3)))
                    .unwrap_or_default()
            );
            let _ = writeln!(out, "\n  VERDICT: {} — {}", r.verdict, r.explanation);
        }
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum SimulateCommand {
    /// The seed document's experiment: how the data strategy changes the rate and the floor.
    DataStrategy(Box<StrategyArgs>),
    /// Synthetic training runs from a law on a design, written as a run table.
    Sweep(Box<SweepArgs>),
}

#[derive(Clone, Copy, ValueEnum)]
enum ScenarioArg {
    FullRange,
    NearZero,
    LowNoise,
    HalfSupport,
    Prune,
}

#[derive(Clone, Copy, ValueEnum)]
enum KeepArg {
    Largest,
    Smallest,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct StrategyArgs {
    /// Scenario.
    #[arg(long, value_enum)]
    scenario: ScenarioArg,
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
    #[arg(long, value_enum, default_value = "largest")]
    keep: KeepArg,
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

#[derive(Clone, Copy, ValueEnum)]
enum NoiseArg {
    Gaussian,
    Exponential,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct SweepArgs {
    /// A law file or saved fit; or use --preset.
    law: Option<PathBuf>,
    /// A published law by name.
    #[arg(long)]
    preset: Option<String>,
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
    #[arg(long, value_enum, default_value = "gaussian")]
    noise_kind: NoiseArg,
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
    let scenario = match a.scenario {
        ScenarioArg::FullRange => Scenario::FullRange,
        ScenarioArg::NearZero => Scenario::NearZero { kappa: a.kappa },
        ScenarioArg::LowNoise => Scenario::LowNoise { gamma: a.gamma },
        ScenarioArg::HalfSupport => Scenario::HalfSupport,
        ScenarioArg::Prune => Scenario::Prune {
            keep_fraction: a.keep_fraction,
            keep_largest: matches!(a.keep, KeepArg::Largest),
        },
    };
    let sizes: Vec<usize> = scaling::allocate::parse_budgets(&a.sizes)
        .map_err(|e| usage(e.to_string().replace("--flops", "--sizes")))?
        .into_iter()
        .map(|v| v.round() as usize)
        .collect();
    let r = simulate::simulate_strategy(&StrategyConfig {
        scenario,
        sizes,
        reps: a.reps,
        seed: a.seed,
        noise: a.noise,
        bias: a.bias,
        level: a.level,
    })?;
    match a.format {
        Format::Json => {
            let mut v = serde_json::to_value(&r)?;
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "points".into(),
                    serde_json::Value::Array(
                        r.points
                            .iter()
                            .map(|p| serde_json::json!([p.n, p.mean, p.low, p.high]))
                            .collect(),
                    ),
                );
                o.insert(
                    "points_columns".into(),
                    serde_json::json!(["n", "mean_error", "low", "high"]),
                );
            }
            out.push_str(&serde_json::to_string_pretty(&v)?);
            out.push('\n');
        }
        Format::Text => {
            let name = match r.scenario {
                Scenario::FullRange => "full-range: training x ~ Uniform(-1, 1)".to_string(),
                Scenario::NearZero { kappa } => {
                    format!("near-zero: training x ~ Uniform(-n^-{kappa}, n^-{kappa})")
                }
                Scenario::LowNoise { gamma } => {
                    format!("low-noise: training noise sd sigma n^(-{gamma}/2)")
                }
                Scenario::HalfSupport => "half-support: training x ~ Uniform(0, 1)".to_string(),
                Scenario::Prune {
                    keep_fraction,
                    keep_largest,
                } => format!(
                    "prune: keep the {} {}% of |x| from a pool of n / {keep_fraction}",
                    if keep_largest { "largest" } else { "smallest" },
                    100.0 * keep_fraction
                ),
            };
            let _ = writeln!(
                out,
                "Data strategy {name}; truth y = x + {} + Normal(0, {}^2); slope fitted without intercept; test x ~ Uniform(-1, 1)",
                a.bias, a.noise
            );
            let _ = writeln!(out, "{} repetitions per size, seed {}\n", r.reps, r.seed);
            let _ = writeln!(out, "  {:>9} {:>14} {:>28}", "n", "mean error", "interval");
            for p in &r.points {
                let _ = writeln!(
                    out,
                    "  {:>9} {:>14.8} {:>28}",
                    p.n,
                    p.mean,
                    format!("[{:.8}, {:.8}]", p.low, p.high)
                );
            }
            let iv = |v: Option<[f64; 2]>| {
                v.map(|[l, h]| format!("[{}, {}]", sig(l, 4), sig(h, 4)))
                    .unwrap_or_default()
            };
            let _ = writeln!(out, "\n  fitted R = R_inf + c n^-r:");
            let _ = writeln!(
                out,
                "    rate r      {:<10} {:<24} theory {}",
                sig(r.rate, 4),
                iv(r.rate_interval),
                sig(r.rate_theory, 4)
            );
            if r.rate_at_search_edge {
                let _ = writeln!(out, "    WARNING: the data do not determine the rate (at the edge of the range searched, 0.01 to 8, or an interval spanning half of it)");
            }
            let _ = writeln!(
                out,
                "    asymptote   {:<10} {:<24} theory {}",
                sig(r.asymptote, 5),
                iv(r.asymptote_interval),
                sig(r.asymptote_theory, 5)
            );
        }
    }
    Ok(())
}

fn sweep(a: SweepArgs, out: &mut String) -> Result<()> {
    if let Some(p) = &a.out {
        crate::check_new(p, a.force, "--out")?;
    }
    let src = plan::resolve(a.law.as_deref(), a.preset.as_deref())?;
    let law = src
        .law
        .ok_or_else(|| usage(format!("{} has no loss law to draw runs from", src.label)))?;
    let cap =
        |n: usize| scaling::limits::check("synthetic runs", n, scaling::limits::MAX_DESIGN_RUNS);
    let design = match (&a.grid_params, &a.grid_tokens) {
        (Some(p), Some(t)) => {
            let p = scaling::allocate::parse_budgets(p)
                .map_err(|e| usage(e.to_string().replace("--flops", "--grid-params")))?;
            let t = scaling::allocate::parse_budgets(t)
                .map_err(|e| usage(e.to_string().replace("--flops", "--grid-tokens")))?;
            cap(p.len().saturating_mul(t.len()))?;
            simulate::grid_design(&p, &t, 6.0)
        }
        (None, None) => {
            if a.per_budget < 2 {
                return Err(usage("--per-budget must be at least 2"));
            }
            let b = scaling::allocate::parse_budgets(&a.budgets)
                .map_err(|e| usage(e.to_string().replace("--flops", "--budgets")))?;
            cap(a.per_budget.saturating_mul(b.len()))?;
            if !(a.span.is_finite() && a.span >= 0.0 && a.span <= 20.0) {
                return Err(usage(format!(
                    "--span must be between 0 and 20 decades, got {}",
                    a.span
                )));
            }
            simulate::isoflop_design(&law, &b, a.per_budget, a.span, 6.0)
        }
        _ => {
            return Err(usage(
                "a grid design needs both --grid-params and --grid-tokens",
            ))
        }
    };
    let kind = match a.noise_kind {
        NoiseArg::Gaussian => simulate::NoiseKind::Gaussian,
        NoiseArg::Exponential => simulate::NoiseKind::Exponential,
    };
    let runs = simulate::sample_runs_with(&law, &design, kind, a.noise, a.seed, "synthetic")?;
    let mut csv = String::from("params,tokens,flops,loss\n");
    for i in 0..runs.len() {
        let _ = writeln!(
            csv,
            "{:e},{:e},{:e},{}",
            runs.params[i], runs.tokens[i], runs.flops[i], runs.loss[i]
        );
    }
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
