//! `scaling downstream`: arguments -> one [`scaling::downstream::DownstreamRequest`] -> the
//! library's text renderer or JSON.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use scaling::data::RunTable;
use scaling::downstream::{self as ds, join_tables, DownstreamOptions};
use scaling::report::downstream::{backtest_svg, backtest_text, downstream_svg, downstream_text};
use scaling::report::html::html_downstream;

use crate::Format;

// Arguments of `scaling downstream`. (Not a doc comment: clap would make it the command's
// about text, because its arguments are built late; see `Command` in main.rs.)
#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct DownstreamArgs {
    /// Run table (CSV or JSON): one row per run, or one row per checkpoint with --run-col.
    file: PathBuf,
    /// A second table joined to FILE on --on (Gadre et al. keep losses and evaluations apart).
    #[arg(long, requires = "on")]
    join: Option<PathBuf>,
    /// The key column of --join.
    #[arg(long)]
    on: Option<String>,
    /// Set a paper's data handling and laws: ladder (Bhagia et al. 2024), gadre (Gadre et al.
    /// 2024), ruan (Ruan et al. 2024); options given explicitly override it.
    #[arg(long)]
    recipe: Option<String>,
    /// A task as METRIC, FEATURE:METRIC or FEATURE:METRIC:CHANCE (repeatable); FEATURE is the
    /// step-1 target column (a task loss), METRIC the accuracy or error column.
    #[arg(long = "task", value_name = "SPEC")]
    tasks: Vec<String>,
    /// A task's weight in the weighted average over tasks, as NAME=W (NAME: the task's metric
    /// column); repeatable, for every task or none (default: equal weights).
    #[arg(long = "task-weight", value_name = "NAME=W")]
    task_weights: Vec<String>,
    /// The one task's feature column (with --metric).
    #[arg(long)]
    feature: Option<String>,
    /// The one task's metric column.
    #[arg(long)]
    metric: Option<String>,
    /// Chance level of --metric / of every --task without one.
    #[arg(long, default_value_t = 0.25)]
    chance: f64,
    /// The metric's largest possible value.
    #[arg(long, default_value_t = 1.0)]
    max: f64,
    /// Column naming each row's run (rows of a run are its checkpoints, in file order).
    #[arg(long)]
    run_col: Option<String>,
    /// Column naming each run's model family (a fit across families is warned about).
    #[arg(long)]
    family_col: Option<String>,
    /// Rows used for fitting, e.g. "role == 'ladder'" (targets are never fitted).
    #[arg(long = "where", value_name = "FILTER")]
    fit_where: Option<String>,
    /// A further restriction of step 1's rows.
    #[arg(long, value_name = "FILTER")]
    step1_where: Option<String>,
    /// Predict for this run (its last row's N and D; its actual values are compared); repeatable.
    #[arg(long = "target", value_name = "RUN")]
    targets: Vec<String>,
    /// Predict at N:D, e.g. 7B:4T; repeatable.
    #[arg(long = "at", value_name = "N:D")]
    at: Vec<String>,
    /// Predict at this compute (FLOPs); repeatable.
    #[arg(long = "at-flops", value_name = "C", value_parser = crate::quantity)]
    at_flops: Vec<f64>,
    /// One step: the sigmoid from log10 C straight to the metric (no feature).
    #[arg(long)]
    single_step: bool,
    /// Step 1's law (a name or a formula), as `scaling fit --law`.
    #[arg(long)]
    law: Option<String>,
    /// Step 1's penalty: huber or squared.
    #[arg(long)]
    objective: Option<String>,
    /// Step 1's residual space: log or linear.
    #[arg(long)]
    space: Option<String>,
    /// Step 2's law: sigmoid, exponential (Gadre et al.), or a formula in x.
    #[arg(long)]
    step2: Option<String>,
    /// Fix or bound a step-2 parameter (`b=1`, `a=-1:0`); repeatable.
    #[arg(long = "step2-param", value_name = "NAME=VALUE|NAME=LOW:HIGH")]
    step2_params: Vec<String>,
    /// Step 1's checkpoints: last, mean-last:K, or all.
    #[arg(long)]
    step1_checkpoints: Option<String>,
    /// Step 2's checkpoints: last, mean-last:K, or all (with --skip-fraction, --moving-average).
    #[arg(long)]
    step2_checkpoints: Option<String>,
    /// Fraction of each run's first checkpoints dropped (with `all`).
    #[arg(long)]
    skip_fraction: Option<f64>,
    /// Trailing moving average over this many checkpoints (with `all`).
    #[arg(long)]
    moving_average: Option<usize>,
    /// Add the point (feature 0, metric max) to step 2.
    #[arg(long)]
    anchor: bool,
    /// Column holding N.
    #[arg(long)]
    params_col: Option<String>,
    /// Column holding D.
    #[arg(long)]
    tokens_col: Option<String>,
    /// Column holding C.
    #[arg(long)]
    flops_col: Option<String>,
    /// FLOPs per unit of the C column (1e21 for a column in units of 1e21 FLOPs).
    #[arg(long, value_parser = crate::quantity)]
    flops_unit: Option<f64>,
    /// Bootstrap replicates (resampling whole runs, refitting both steps) for intervals.
    #[arg(long, default_value_t = 0)]
    bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Interval level.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Backtest instead: at each cutoff (FLOPs; comma-separated), fit both steps on the runs
    /// whose C is at or below it and predict the larger runs; report errors and the coverage
    /// of the new-run intervals against the distance in decades (--plot draws both).
    #[arg(long, value_name = "C,C,...", value_delimiter = ',', value_parser = crate::quantity)]
    backtest: Vec<f64>,
    /// Write the figure (.svg, or .png drawn from the SVG) to this file: the chained prediction per task against the
    /// actual value, then per task step 1 (feature against compute with the law) and step 2
    /// (metric against feature with the fitted law and the targets' predictions).
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Write a self-contained HTML page (tables, the figure, the report) to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Overwrite the --plot and --html files if they exist.
    #[arg(long)]
    force: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

impl DownstreamArgs {
    fn options(&self) -> DownstreamOptions {
        DownstreamOptions {
            recipe: self.recipe.clone(),
            tasks: self.tasks.clone(),
            task_weights: self.task_weights.clone(),
            feature: self.feature.clone(),
            metric: self.metric.clone(),
            chance: self.chance,
            max: self.max,
            run_col: self.run_col.clone(),
            family_col: self.family_col.clone(),
            fit_where: self.fit_where.clone(),
            step1_where: self.step1_where.clone(),
            targets: self.targets.clone(),
            at: self.at.clone(),
            at_flops: self.at_flops.clone(),
            single_step: self.single_step,
            law: self.law.clone(),
            objective: self.objective.clone(),
            space: self.space.clone(),
            step2: self.step2.clone(),
            step2_params: self.step2_params.clone(),
            step1_checkpoints: self.step1_checkpoints.clone(),
            step2_checkpoints: self.step2_checkpoints.clone(),
            skip_fraction: self.skip_fraction,
            moving_average: self.moving_average,
            anchor: self.anchor,
            params_col: self.params_col.clone(),
            tokens_col: self.tokens_col.clone(),
            flops_col: self.flops_col.clone(),
            flops_unit: self.flops_unit,
            bootstrap: self.bootstrap,
            seed: self.seed,
            level: self.level,
            backtest: self.backtest.clone(),
        }
    }
}

/// `scaling downstream`.
pub fn cmd_downstream(a: DownstreamArgs, out: &mut String) -> Result<()> {
    let req = a.options().request()?;
    let mut png = false;
    if let Some(p) = &a.plot {
        png = match p.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).as_deref() {
            Some("png") => true,
            Some("svg") => false,
            _ => {
                return Err(crate::usage(format!(
                    "--plot {}: plots are written as .svg or .png; name the file with one of those extensions",
                    p.display()
                )))
            }
        };
        crate::check_new(p, a.force, "--plot")?;
    }
    if let Some(p) = &a.html {
        if !a.backtest.is_empty() {
            return Err(crate::usage(
                "--backtest writes a table, JSON and --plot; --html goes without it",
            ));
        }
        crate::check_new(p, a.force, "--html")?;
    }
    let mut table = RunTable::read(&a.file)?;
    if let Some(j) = &a.join {
        let right = RunTable::read(j)?;
        table = join_tables(&table, &right, a.on.as_deref().unwrap_or_default())?;
    }
    let plot = |svg: String| -> Result<()> {
        if let Some(p) = &a.plot {
            let bytes = if png {
                scaling::report::png::svg_to_png(&svg, 1.0)?
            } else {
                svg.into_bytes()
            };
            crate::write_new(p, bytes, a.force, "--plot")?;
        }
        Ok(())
    };
    if !a.backtest.is_empty() {
        let b = ds::backtest(&table, &req, &a.backtest, &|| {})?;
        plot(backtest_svg(&b))?;
        match a.format {
            Format::Text => out.push_str(&backtest_text(&b)),
            Format::Json => out.push_str(&(serde_json::to_string_pretty(&b)? + "\n")),
        }
        if let (Format::Text, Some(p)) = (a.format, &a.plot) {
            out.push_str(&format!("\nplot: {}\n", p.display()));
        }
        return Ok(());
    }
    let result = ds::downstream(&table, &req, &|| {})?;
    plot(downstream_svg(&result))?;
    if let Some(p) = &a.html {
        let page = html_downstream(&result, &[reproduce()]);
        crate::write_new(p, page, a.force, "--html")?;
    }
    match a.format {
        Format::Text => {
            out.push_str(&downstream_text(&result));
            if let Some(p) = &a.plot {
                out.push_str(&format!("\nplot: {}\n", p.display()));
            }
            if let Some(p) = &a.html {
                out.push_str(&format!("html: {}\n", p.display()));
            }
        }
        Format::Json => {
            out.push_str(&serde_json::to_string_pretty(&result)?);
            out.push('\n');
        }
    }
    Ok(())
}

/// The command that gives the same page: this process's arguments without the output files
/// (`--html`, `--plot` and `--force`).
fn reproduce() -> String {
    let mut words = vec!["scaling".to_string()];
    let mut args = std::env::args().skip(1);
    while let Some(w) = args.next() {
        match w.as_str() {
            "--html" | "--plot" => {
                args.next();
            }
            "--force" => {}
            _ if w.starts_with("--html=") || w.starts_with("--plot=") => {}
            _ => words.push(w),
        }
    }
    scaling::report::shell::command_line(&words)
}
