//! `scaling backtest`: fit below a cutoff, predict the runs above it; `--roll` over cutoffs.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use scaling::report::backtest as render;
use scaling::uncertainty::{BootstrapRequest, FitRequest};
use scaling::validate::{self, Axis, BacktestRequest, Inflation, RollingRequest, Split};

use crate::{load_request, quantity, read_table, usage, write_new, DataArgs, Format};

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct BacktestArgs {
    /// Run table: CSV with a header row, or JSON (an array of objects).
    file: PathBuf,
    /// Train on the runs with at most this value on --on (FLOPs by default).
    #[arg(long, value_parser = quantity, value_name = "VALUE")]
    cutoff: Option<f64>,
    /// What --cutoff and --roll compare: flops, params, or a numeric column's header.
    #[arg(long, default_value = "flops", value_name = "flops|params|COLUMN")]
    on: String,
    /// Train on the rows this filter selects instead of a cutoff
    /// (e.g. "name == 'a' or name == 'b'").
    #[arg(long, value_name = "FILTER")]
    train_where: Option<String>,
    /// With --train-where: predict only the rows this filter selects (default: all others).
    #[arg(long, value_name = "FILTER")]
    test_where: Option<String>,
    /// Roll the cutoff over the data: a backtest at each cutoff (every half decade by
    /// default, or --cutoffs), pooled by extrapolation distance.
    #[arg(long)]
    roll: bool,
    /// The cutoffs of --roll (repeat or separate with commas).
    #[arg(long, value_parser = quantity, value_delimiter = ',', value_name = "VALUE")]
    cutoffs: Vec<f64>,
    /// Width of the distance bins of --roll, in decades.
    #[arg(long, default_value_t = 0.5)]
    bin_width: f64,
    /// Measure extrapolation distance in decades of this (flops or params; default: params
    /// for a cutoff on params, else flops).
    #[arg(long, value_name = "flops|params")]
    distance: Option<String>,
    /// Functional form (as in `scaling fit`: a name or a formula).
    #[arg(long, default_value = "chinchilla", value_name = "NAME|FORMULA")]
    law: String,
    #[command(flatten)]
    data: DataArgs,
    /// Bootstrap replicates of each training fit, for the intervals (0: errors only).
    #[arg(long, default_value_t = 200, value_name = "R")]
    bootstrap: usize,
    /// Seed of the bootstraps.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Resample whole groups sharing this column's value (`none`: single runs; default: model
    /// sizes when the runs hold at least 20 sizes of which 3 repeat).
    #[arg(long, value_name = "COL")]
    cluster_col: Option<String>,
    /// Interval level.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Extrapolation term: growth of the log-loss misspecification standard deviation per
    /// decade of distance (default: calibrated by inner backtests on the training runs).
    #[arg(long, value_name = "KAPPA")]
    kappa: Option<f64>,
    /// With --kappa: the misspecification standard deviation at the edge of the data.
    #[arg(long, default_value_t = 0.0, requires = "kappa", value_name = "SIGMA0")]
    sigma0: f64,
    /// No extrapolation term: report the new-run interval only.
    #[arg(long, conflicts_with = "kappa")]
    no_extrapolation_term: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// With --roll: write the error and coverage against distance as SVG to this file.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,
    /// Overwrite the --plot file if it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    settings: crate::FitSettings,
}

fn axis(s: &str) -> Axis {
    match s {
        "flops" | "C" => Axis::Flops,
        "params" | "N" => Axis::Params,
        other => Axis::Column(other.to_string()),
    }
}

/// `scaling backtest`.
pub fn cmd_backtest(a: BacktestArgs, out: &mut String) -> Result<()> {
    if !(a.level > 0.0 && a.level < 1.0) {
        return Err(usage(format!(
            "--level must be between 0 and 1, got {}",
            a.level
        )));
    }
    scaling::limits::check(
        "bootstrap replicates",
        a.bootstrap,
        scaling::limits::MAX_REPLICATES,
    )?;
    let modes = [a.cutoff.is_some(), a.train_where.is_some(), a.roll]
        .iter()
        .filter(|b| **b)
        .count();
    if modes != 1 {
        return Err(usage(
            "give one of --cutoff VALUE, --train-where FILTER or --roll",
        ));
    }
    if a.test_where.is_some() && a.train_where.is_none() {
        return Err(usage("--test-where goes with --train-where"));
    }
    if a.plot.is_some() && !a.roll {
        return Err(usage("--plot draws the --roll result; add --roll"));
    }
    let distance = match a.distance.as_deref() {
        None => None,
        Some("flops") => Some(Axis::Flops),
        Some("params") => Some(Axis::Params),
        Some(o) => {
            return Err(usage(format!(
                "--distance must be flops or params, got {o:?}"
            )))
        }
    };
    if let Some(p) = &a.plot {
        crate::check_new(p, a.force, "--plot")?;
    }
    let names = a.settings.names(&a.law);
    names.config_for(&[])?;
    let mut data = a.data.clone();
    data.need_flops = matches!(axis(&a.on), Axis::Flops) || distance != Some(Axis::Params);
    let table = read_table(&a.file, &data)?;
    let headers: Vec<&str> = table.columns.iter().map(|c| c.as_str()).collect();
    let config = names.config_for(&headers)?;
    crate::row_filter(&data)?;
    let mut needs = scaling::fit::needs(&config.form);
    needs.flops |= data.need_flops;
    needs.params |= matches!(axis(&a.on), Axis::Params) || distance == Some(Axis::Params);
    let runs = scaling::accounting::load_runs(&table, needs, &load_request(&data), None)?;
    let bootstrap = (a.bootstrap > 0).then(|| BootstrapRequest {
        replicates: a.bootstrap,
        seed: a.seed,
        cluster_column: a.cluster_col.clone(),
        level: a.level,
        budgets: Vec::new(),
    });
    let inflation = match (a.kappa, a.no_extrapolation_term) {
        (Some(k), _) => Inflation::Fixed(a.sigma0, k),
        (None, true) => Inflation::None,
        (None, false) => Inflation::Calibrated,
    };
    let split = match (&a.train_where, a.cutoff) {
        (Some(t), _) => Split::Where {
            train: t.clone(),
            test: a.test_where.clone(),
            columns: scaling::accounting::column_overrides(&load_request(&data))?,
        },
        (None, Some(v)) => Split::Cutoff {
            axis: axis(&a.on),
            value: v,
        },
        (None, None) => Split::Cutoff {
            axis: axis(&a.on),
            value: f64::INFINITY,
        },
    };
    let base = BacktestRequest {
        fit: FitRequest { config, bootstrap },
        split,
        distance_axis: distance,
        inflation,
    };
    let source = a.file.display().to_string();
    if a.roll {
        let req = RollingRequest {
            base,
            axis: axis(&a.on),
            cutoffs: a.cutoffs.clone(),
            bin_width: a.bin_width,
        };
        let r = validate::rolling(&table, &runs, &req)?;
        if let Some(p) = &a.plot {
            write_new(p, render::rolling_svg(&r), a.force, "--plot")?;
        }
        match a.format {
            Format::Json => {
                out.push_str(&serde_json::to_string_pretty(&r)?);
                out.push('\n');
            }
            Format::Text => out.push_str(&render::rolling_text(&r, &source)),
        }
        return Ok(());
    }
    let b = validate::backtest(&table, &runs, &base)?;
    match a.format {
        Format::Json => {
            out.push_str(&serde_json::to_string_pretty(&b)?);
            out.push('\n');
        }
        Format::Text => out.push_str(&render::backtest_text(&b, &source)),
    }
    Ok(())
}
