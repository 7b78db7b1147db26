//! The `scaling` command line: arguments -> library config -> output. All science lives in
//! the `scaling` library; this file parses, calls and prints.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};

use serde::Serialize;

use scaling::accounting as acc;
use scaling::data::{Filters, Group, RunTable, Runs};
use scaling::fit::{self, FitConfig};
use scaling::law::LawForm;
use scaling::report;
use scaling::uncertainty::{calibrate_runs, CalibrationReport as Calibrated};

mod accounting;
mod backtest;
mod design;
mod downstream;
mod forms;
mod groups;
mod lab;
mod methods;
mod plan;
mod sensitivity;
mod show;

#[derive(Parser)]
#[command(
    name = "scaling",
    version,
    about = "Fit, check and plan with neural scaling laws"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Each subcommand's arguments are built only when it is the one invoked (`defer`): building
// all of them took about 0.4 ms of every run. (Not a doc comment: clap would make it the
// about text of `scaling` if `Cli` did not set its own.)
#[derive(Subcommand)]
#[command(defer = true)]
enum Command {
    /// Fit a scaling law to a table of training runs (CSV or JSON).
    Fit(Box<FitArgs>),
    /// Predict the loss at a point from a saved fit or a hand-written law file.
    Predict(PredictArgs),
    /// Run the whole job on a built-in synthetic sweep drawn from a published law.
    Demo(DemoArgs),
    /// Test a given law against a bootstrapped fit and its data (chi-squared and likelihood
    /// ratio, after Besiroglu et al. 2024).
    Test(TestArgs),
    /// Plan a training run: the compute-optimal N and D for budgets, the least compute for a
    /// target loss, a fixed N or D, inference demand, limited unique data.
    Optimal(Box<plan::OptimalArgs>),
    /// List the published laws available with --preset, with their sources.
    Presets(plan::PresetsArgs),
    /// Count a model's parameters and training FLOPs per token under each paper's convention.
    Count(Box<accounting::CountArgs>),
    /// Propose model shapes near a target parameter count.
    Shape(accounting::ShapeArgs),
    /// Kaplan vs Chinchilla: what Kaplan's counting would measure in a world following a law.
    Reconcile(accounting::ReconcileArgs),
    /// Fit y = k x^a by least squares in log-log space, with intervals.
    Powerlaw(methods::PowerlawArgs),
    /// Chinchilla's Approach 2: IsoFLOP parabolas per budget, then N* ~ C^a, D* ~ C^b.
    Isoflop(Box<methods::IsoflopArgs>),
    /// Draw a plot as SVG: loss-compute, isoflop, frontier, residuals, bootstrap.
    Plot(Box<show::PlotArgs>),
    /// One self-contained HTML page: data, fit, intervals, approaches, allocation, plots.
    Report(Box<show::ReportArgs>),
    /// Is it really a plateau? Power, saturating and broken power laws compared on a curve.
    Plateau(Box<lab::PlateauArgs>),
    /// Synthetic experiments: data strategies, and runs drawn from a law.
    #[command(subcommand)]
    Simulate(lab::SimulateCommand),
    /// Chinchilla's Approach 1: the lower envelope of loss curves, then N_opt ~ C^a, D_opt ~ C^b.
    Envelope(Box<methods::EnvelopeArgs>),
    /// Chinchilla's approaches side by side on your runs, with the published values and a bias
    /// check of Approach 2 on your design.
    Compare(Box<methods::CompareArgs>),
    /// Measure how often bootstrap intervals cover the truth on your runs' design: simulate
    /// datasets from the fit of RUNS with realistic noise, bootstrap each, count coverage.
    Calibrate(Box<CalibrateArgs>),
    /// Several law forms fitted to the same runs, side by side: objective, residual RMS,
    /// parameters, AIC and BIC.
    Forms(Box<forms::FormsArgs>),
    /// Predict benchmark accuracy of a large run from small runs: a law to a task loss, then
    /// a sigmoid (or Gadre's exponential) to accuracy, chained, with bootstrap intervals.
    Downstream(Box<downstream::DownstreamArgs>),
    /// Fit the runs below a cutoff, predict the larger ones with intervals; --roll the cutoff
    /// for error and coverage against extrapolation distance.
    Backtest(Box<backtest::BacktestArgs>),
    /// How a law's loss, N_opt and D_opt move per 0.01 of each exponent and per unit of the
    /// other parameters, at a budget or a run.
    Sensitivity(sensitivity::SensitivityArgs),
    /// The next K runs, within a compute allowance, that most shrink the interval on N_opt,
    /// the loss or an exponent at a target; compared with equal-cost alternatives.
    Design(Box<design::DesignArgs>),
    /// Groups of runs (datasets, architectures): separate and joint fits with shared
    /// parameters, a test of sharing, paired-bootstrap differences and compute-equivalent gains.
    Groups(Box<groups::GroupsArgs>),
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum StartsArg {
    /// Variable projection seeds, then BFGS polish (fast, default).
    Varpro,
    /// The paper's 4500-point grid (Hoffmann et al. 2022, App. D.2).
    Chinchilla,
    /// Every point of the law's start grid, screened (for Chinchilla and power: the paper's).
    Grid,
}

/// A positive quantity: plain, e-notation or with a K/M/B/G/T suffix.
fn quantity(s: &str) -> std::result::Result<f64, String> {
    scaling::data::parse_positive(s).map_err(|p| format!("{s:?}: {}", p.describe()))
}

/// A non-negative number (for --fix-e).
fn non_negative(s: &str) -> std::result::Result<f64, String> {
    match scaling::data::parse_quantity(s) {
        Ok(v) if v >= 0.0 => Ok(v),
        Ok(v) => Err(format!("{v} is negative")),
        Err(p) => Err(format!("{s:?}: {}", p.describe())),
    }
}

#[derive(Args, Clone)]
struct DataArgs {
    /// Column holding the parameter count N (default: recognised by name).
    #[arg(long)]
    params_col: Option<String>,
    /// Column holding the training tokens D.
    #[arg(long)]
    tokens_col: Option<String>,
    /// Column holding the training compute C in FLOPs.
    #[arg(long)]
    flops_col: Option<String>,
    /// Column holding the loss.
    #[arg(long)]
    loss_col: Option<String>,
    /// Drop rows with empty or invalid values in used columns (and report them) instead of
    /// failing.
    #[arg(long)]
    skip_invalid: bool,
    /// Drop the K highest-loss runs (Besiroglu et al. 2024 drop 5).
    #[arg(long, default_value_t = 0, value_name = "K")]
    drop_top_loss: usize,
    /// Keep only runs with C >= this many FLOPs.
    #[arg(long, value_parser = quantity, value_name = "C")]
    min_flops: Option<f64>,
    /// Keep only runs with C <= this many FLOPs.
    #[arg(long, value_parser = quantity, value_name = "C")]
    max_flops: Option<f64>,
    /// Where the table has model-shape columns (n_layers, d_model, n_heads, ...): count N as
    /// total, non-embedding or active parameters (see `scaling count FILE`).
    #[arg(long, value_name = "CONVENTION")]
    params_convention: Option<String>,
    /// Where the table has shape columns: count C under 6n, 6n-non-embedding, 6n-active,
    /// kaplan, chinchilla or deepseek (needs a tokens column).
    #[arg(long, value_name = "CONVENTION")]
    flops_convention: Option<String>,
    /// FLOPs per parameter per token in C = k N D, used to derive D or C.
    #[arg(long, default_value_t = 6.0, value_parser = quantity, value_name = "K")]
    flops_per_param_token: f64,
    /// Keep only the rows this filter selects, before any other filter, e.g.
    /// "dataset == 'rpj' and N < 1e9" (==, !=, <, <=, >, >=, and, or, not, parentheses;
    /// N, D, C and loss name those roles' columns; `odd/name` in backticks).
    #[arg(long = "where", value_name = "FILTER")]
    row_filter: Option<String>,
    /// Set by commands that need C for every run (not a flag).
    #[arg(skip)]
    need_flops: bool,
}

// How a law is fitted: the flags every command that fits runs shares (`fit`, `backtest`,
// `forms`, `groups`, `design`), mapped to the library's `FitNames`.
// (Not a doc comment: clap would make it the about text of the commands that flatten
// this, because their arguments are built late; see `Command`.)
#[derive(Args, Clone)]
pub(crate) struct FitSettings {
    /// Fix a parameter (`--param E=1.69`) or bound it (`--param alpha=0.01:2`); repeatable.
    #[arg(long = "param", value_name = "NAME=VALUE|NAME=LOW:HIGH")]
    param: Vec<String>,
    /// The variable of the power and broken-power laws.
    #[arg(long, value_parser = ["params", "tokens", "flops"])]
    x: Option<String>,
    /// Fix the irreducible loss E at this value instead of fitting it (0 removes the term).
    #[arg(long, value_parser = non_negative, value_name = "E")]
    fix_e: Option<f64>,
    /// Per-run penalty on residuals.
    #[arg(long, value_parser = ["huber", "squared"], default_value = "huber")]
    objective: String,
    /// Huber's delta.
    #[arg(long, default_value_t = 1e-3, value_parser = quantity)]
    delta: f64,
    /// Residuals of log loss (Chinchilla) or of loss.
    #[arg(long, value_parser = ["log", "linear"], default_value = "log")]
    space: String,
    /// Sum (Chinchilla) or mean over runs.
    #[arg(long, value_parser = ["sum", "mean"], default_value = "sum")]
    reduction: String,
    /// Starting-point strategy.
    #[arg(long, value_enum, default_value = "varpro")]
    starts: StartsArg,
    /// BFGS iteration limit per start.
    #[arg(long, default_value_t = 2000)]
    max_iter: usize,
    /// Tie two parameters of the law (`alpha=beta`: beta takes alpha's value); repeatable.
    #[arg(long, value_name = "KEPT=REMOVED")]
    tie: Vec<String>,
    /// Column of per-run weights (each run's penalty is multiplied by its weight).
    #[arg(long, value_name = "COL")]
    weight_col: Option<String>,
    /// Charge over-prediction K times an equal under-prediction, so the law follows the
    /// best achievable loss when some runs are under-tuned (1: symmetric).
    #[arg(long, value_name = "K")]
    asymmetric: Option<f64>,
}

impl FitSettings {
    /// The library's settings by name for the law `law`.
    pub(crate) fn names(&self, law: &str) -> fit::FitNames {
        fit::FitNames {
            law: law.to_string(),
            params: self.param.clone(),
            x: self.x.clone(),
            fix_e: self.fix_e,
            objective: self.objective.clone(),
            delta: self.delta,
            space: self.space.clone(),
            reduction: self.reduction.clone(),
            starts: name(self.starts),
            max_iter: self.max_iter,
            ties: self.tie.clone(),
            weight_col: self.weight_col.clone(),
            asymmetric: self.asymmetric,
        }
    }
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct FitArgs {
    /// Run table: CSV with a header row, or JSON (an array of objects).
    file: PathBuf,
    /// Functional form: chinchilla, power, kaplan, kaplan-steps, data-constrained,
    /// overtraining, multiplicative, broken-power, or a formula such as
    /// 'E + A*N^-alpha + B*D^-beta' (N, D, C, U, S, M = D/N and column names are data; other
    /// names are parameters).
    #[arg(long, default_value = "chinchilla", value_name = "NAME|FORMULA")]
    law: String,
    #[command(flatten)]
    data: DataArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Bootstrap the fit with this many replicates for intervals and standard errors
    /// (resampling what --cluster-col says).
    #[arg(long, value_name = "R")]
    bootstrap: Option<usize>,
    /// Seed of the bootstrap (the same seed gives the same result whatever the thread count).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Resample whole groups of runs sharing this column's value (a model size, a run with
    /// several checkpoints) instead of single runs; `none` resamples single runs. Default:
    /// model sizes when the runs hold at least 20 sizes of which 3 repeat, else single runs.
    #[arg(long, value_name = "COL")]
    cluster_col: Option<String>,
    /// Level of the percentile intervals.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Budgets (FLOPs) at which to give intervals on N_opt, D_opt, the loss there and tokens
    /// per parameter (default: the largest budget in the data and 1e24). Repeat or separate
    /// with commas.
    #[arg(long, value_parser = quantity, value_delimiter = ',', value_name = "C")]
    flops: Vec<f64>,
    /// No progress bar.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Fit separately for each combination of these columns' values (groups in the order
    /// they first appear; a group that fails is reported in its place).
    #[arg(long, value_delimiter = ',', value_name = "COL")]
    by: Vec<String>,
    /// With --by COL: fit every group jointly with these parameters shared (`alpha,beta`) and
    /// the rest per group, and test the sharing (as `scaling groups --shared`).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    shared: Vec<String>,
    /// Save the fit (JSON) to this file; `scaling predict` reads it.
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
    /// Overwrite the --out file if it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    settings: crate::FitSettings,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct PredictArgs {
    #[command(flatten)]
    law: plan::LawArgs,
    /// Unique tokens available, for the data-constrained law (--preset muennighoff).
    #[arg(long, value_parser = quantity, value_name = "U")]
    unique_tokens: Option<f64>,
    /// Parameters N.
    #[arg(long, value_parser = quantity)]
    params: Option<f64>,
    /// Training tokens D.
    #[arg(long, value_parser = quantity)]
    tokens: Option<f64>,
    /// Training compute C (FLOPs).
    #[arg(long, value_parser = quantity)]
    flops: Option<f64>,
    /// Interval level (default: the level the fit was bootstrapped at).
    #[arg(long)]
    level: Option<f64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum NoiseArg {
    /// Resample the fit's own log-loss residuals (keeps their heavy tails).
    Residuals,
    /// Normal noise in log loss with --noise-sd (default: 1.4826 x the residuals' MAD).
    Gaussian,
    /// Correlated within a model size: the fit's per-size mean residuals resampled as size
    /// effects, plus its within-size deviations resampled per run.
    Grouped,
}

#[derive(Args)]
struct CalibrateArgs {
    /// Run table whose design (N, D per run) and fit are used.
    file: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Simulated datasets.
    #[arg(long, default_value_t = 200)]
    datasets: usize,
    /// Bootstrap replicates per dataset.
    #[arg(long, default_value_t = 400)]
    bootstrap: usize,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Noise model.
    #[arg(long, value_enum, default_value = "residuals")]
    noise: NoiseArg,
    /// Standard deviation of Gaussian noise in log loss.
    #[arg(long)]
    noise_sd: Option<f64>,
    /// Nominal interval level.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Bootstraps resample model sizes (`N`: N within 0.1%) or single runs (`none`). Default:
    /// as fit, model sizes when the design holds at least 20 sizes of which 3 repeat.
    #[arg(long, value_name = "N")]
    cluster_col: Option<String>,
    /// No progress bar.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Calibrate separately for each combination of these columns' values (groups in the
    /// order they first appear; a group that fails is reported in its place).
    #[arg(long, value_delimiter = ',', value_name = "COL")]
    by: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Args)]
struct TestArgs {
    /// A fit saved with `scaling fit ... --bootstrap R --out FIT`.
    fit: PathBuf,
    /// The law to test: a law file such as {"law": "chinchilla", "params": {...}} or a fit;
    /// or use --preset.
    #[arg(long, value_name = "LAW")]
    against: Option<PathBuf>,
    /// Test a published law by name instead (`scaling presets` lists them).
    #[arg(long)]
    preset: Option<String>,
    /// delta of the Huber likelihood, on residuals divided by the fitted scale (Besiroglu
    /// et al. 2024 use 1e-3).
    #[arg(long, default_value_t = 1e-3, value_parser = quantity)]
    delta: f64,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct DemoArgs {
    /// Seed of the synthetic noise.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Standard deviation of the noise in log loss.
    #[arg(long, default_value_t = 0.01)]
    noise: f64,
    /// Models per IsoFLOP budget.
    #[arg(long, default_value_t = 10)]
    per_budget: usize,
    /// Bootstrap replicates for the intervals (0 for none).
    #[arg(long, default_value_t = 1000)]
    bootstrap: usize,
    /// Also write the synthetic runs to this CSV file.
    #[arg(long, value_name = "FILE")]
    write_runs: Option<PathBuf>,
    /// Overwrite the --write-runs file if it exists.
    #[arg(long)]
    force: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// An error in how the tool was called (exit code 2).
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Usage(msg.into()))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
                || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            {
                e.exit();
            }
            // One line: the message, and clap's tip if it gave one.
            let text = e.to_string();
            let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
            let mut msg = lines.next().unwrap_or("invalid arguments").to_string();
            for extra in
                lines.filter(|l| l.starts_with("tip:") || l.starts_with("[possible values"))
            {
                msg.push(' ');
                msg.push_str(extra);
            }
            eprintln!("{}", report::escape_control(&msg));
            return ExitCode::from(2);
        }
    };
    let mut out = String::new();
    let result = match cli.command {
        Command::Fit(a) => cmd_fit(*a, &mut out),
        Command::Predict(a) => cmd_predict(a, &mut out),
        Command::Demo(a) => cmd_demo(a, &mut out),
        Command::Test(a) => cmd_test(a, &mut out),
        Command::Calibrate(a) => cmd_calibrate(*a, &mut out),
        Command::Forms(a) => forms::cmd_forms(*a, &mut out),
        Command::Optimal(a) => plan::cmd_optimal(*a, &mut out),
        Command::Presets(a) => plan::cmd_presets(a, &mut out),
        Command::Count(a) => accounting::cmd_count(*a, &mut out),
        Command::Shape(a) => accounting::cmd_shape(a, &mut out),
        Command::Reconcile(a) => accounting::cmd_reconcile(a, &mut out),
        Command::Powerlaw(a) => methods::cmd_powerlaw(a, &mut out),
        Command::Isoflop(a) => methods::cmd_isoflop(*a, &mut out),
        Command::Compare(a) => methods::cmd_compare(*a, &mut out),
        Command::Envelope(a) => methods::cmd_envelope(*a, &mut out),
        Command::Plateau(a) => lab::cmd_plateau(*a, &mut out),
        Command::Plot(a) => show::cmd_plot(*a, &mut out),
        Command::Report(a) => show::cmd_report(*a, &mut out),
        Command::Simulate(c) => lab::cmd_simulate(c, &mut out),
        Command::Downstream(a) => downstream::cmd_downstream(*a, &mut out),
        Command::Backtest(a) => backtest::cmd_backtest(*a, &mut out),
        Command::Sensitivity(a) => sensitivity::cmd_sensitivity(a, &mut out),
        Command::Design(a) => design::cmd_design(*a, &mut out),
        Command::Groups(a) => groups::cmd_groups(*a, &mut out),
    };
    // Names and labels read from the user's files are echoed: no raw control characters.
    let out = report::escape_control(&out);
    match result {
        Ok(()) => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(out.as_bytes())
                .and_then(|_| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                // A closed pipe (`scaling fit ... | head`) is not a failure.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: writing output: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            eprintln!("error: {}", report::escape_control(&chain(&e)));
            ExitCode::from(exit_code(&e))
        }
    }
}

/// The command-line name of a library request field: its flag.
fn flag(field: &str) -> String {
    match field {
        "row_filter" => "--where".into(),
        "cluster_column" => "--cluster-col".into(),
        _ => format!("--{}", field.replace('_', "-")),
    }
}

/// An error and its causes on one line, library settings named by their flags.
pub(crate) fn chain(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| match c.downcast_ref::<scaling::Error>() {
            Some(se) => se.render(&flag),
            None => c.to_string(),
        })
        .collect::<Vec<_>>()
        .join(": ")
}

/// 2 for bad input or usage, 1 for anything else.
fn exit_code(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if cause.downcast_ref::<Usage>().is_some() {
            return 2;
        }
        if let Some(se) = cause.downcast_ref::<scaling::Error>() {
            return if se.is_user_error() { 2 } else { 1 };
        }
    }
    1
}

/// The run table, with the count columns added when a counting convention is asked for.
fn read_table(file: &Path, data: &DataArgs) -> Result<RunTable> {
    let mut table = RunTable::read(file)?;
    scaling::accounting::prepare_table(&mut table, &load_request(data))?;
    Ok(table)
}

/// The run table (with count columns, as [`read_table`]) and the library's loading request.
fn table_and_load(file: &Path, data: &DataArgs) -> Result<(RunTable, acc::LoadRequest)> {
    Ok((read_table(file, data)?, load_request(data)))
}

/// The rows `--where` keeps, in groups of `--by` (one group of them all without it).
fn groups_of(table: &RunTable, load: &acc::LoadRequest, by: &[String]) -> Result<Vec<Group>> {
    acc::row_filter(load).map_err(|e| anyhow::Error::new(e).context("--where"))?;
    let selected = acc::selected_rows(table, load)?;
    Ok(scaling::data::group_rows(table, by, &selected)?)
}

/// Validated, filtered runs of `t` (only the table rows `rows`, when given: one group).
fn runs_of(
    t: &RunTable,
    form: &LawForm,
    data: &DataArgs,
    rows: Option<Vec<usize>>,
) -> Result<Runs> {
    row_filter(data)?;
    let mut needs = fit::needs(form);
    needs.flops |= data.need_flops;
    Ok(acc::load_runs(t, needs, &load_request(data), rows)?)
}

/// The library's loading request for the data flags.
fn load_request(d: &DataArgs) -> scaling::accounting::LoadRequest {
    scaling::accounting::LoadRequest {
        params_col: d.params_col.clone(),
        tokens_col: d.tokens_col.clone(),
        flops_col: d.flops_col.clone(),
        loss_col: d.loss_col.clone(),
        skip_invalid: d.skip_invalid,
        filters: Filters {
            min_flops: d.min_flops,
            max_flops: d.max_flops,
            drop_top_loss: d.drop_top_loss,
            row_filter: d.row_filter.clone(),
        },
        params_convention: d.params_convention.clone(),
        flops_convention: d.flops_convention.clone(),
        flops_per_param_token: d.flops_per_param_token,
    }
}

/// The parsed `--where` filter, if any (a filter that does not parse is named by its flag).
fn row_filter(data: &DataArgs) -> Result<Option<scaling::data::RowFilter>> {
    scaling::accounting::row_filter(&load_request(data))
        .map_err(|e| anyhow::Error::new(e).context("--where"))
}

impl DataArgs {
    /// The flags that reproduce these settings: the one place a data configuration is
    /// rendered back to a command line (the report's "Reproduce" commands), so none is dropped.
    fn flags(&self) -> Vec<String> {
        let d = self;
        let opt = |flag: &str, v: Option<String>| v.map(|v| vec![flag.to_string(), v]);
        [
            opt("--params-col", d.params_col.clone()),
            opt("--tokens-col", d.tokens_col.clone()),
            opt("--flops-col", d.flops_col.clone()),
            opt("--loss-col", d.loss_col.clone()),
            opt("--params-convention", d.params_convention.clone()),
            opt("--flops-convention", d.flops_convention.clone()),
            opt("--where", d.row_filter.clone()),
            d.skip_invalid.then(|| vec!["--skip-invalid".into()]),
            opt(
                "--drop-top-loss",
                (d.drop_top_loss > 0).then(|| d.drop_top_loss.to_string()),
            ),
            opt("--min-flops", d.min_flops.map(|v| format!("{v:e}"))),
            opt("--max-flops", d.max_flops.map(|v| format!("{v:e}"))),
            opt(
                "--flops-per-param-token",
                (d.flops_per_param_token != 6.0).then(|| format!("{}", d.flops_per_param_token)),
            ),
        ]
        .into_iter()
        .flatten()
        .flatten()
        .collect()
    }
}

/// Print `value` as JSON, or its text.
fn emit<T: Serialize>(
    out: &mut String,
    f: Format,
    value: &T,
    text: impl FnOnce(&T) -> String,
) -> Result<()> {
    match f {
        Format::Json => out.push_str(&(serde_json::to_string_pretty(value)? + "\n")),
        Format::Text => out.push_str(&text(value)),
    }
    Ok(())
}

/// Print one analysis per group with the library's printer ([`report::grouped`]): without
/// grouping the single result (its error is the command's); with grouping a failed group is
/// printed in its place, and the command fails only when every group failed.
fn finish_groups<T: Serialize>(
    outcomes: Vec<(Group, Result<T>)>,
    grouped: bool,
    format: Format,
    text: &dyn Fn(&T, &str) -> String,
    out: &mut String,
) -> Result<()> {
    use report::grouped::{print_groups, Unprinted};
    match print_groups(outcomes, grouped, text, &chain) {
        Ok(p) => {
            out.push_str(if let Format::Json = format {
                &p.json
            } else {
                &p.text
            });
            if p.failed > 0 {
                let (n, total) = (p.failed, p.total);
                eprintln!("warning: {n} of {total} groups failed; their errors are printed in their place");
            }
            Ok(())
        }
        Err(Unprinted::NoRows) => Err(usage("no rows to analyse")),
        Err(Unprinted::Failed {
            group,
            error,
            others,
        }) if grouped => {
            let more = if others > 0 {
                format!(" (and all {others} other groups failed)")
            } else {
                String::new()
            };
            Err(error.context(format!("group {}{more}", group.label())))
        }
        Err(Unprinted::Failed { error, .. }) => Err(error),
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal or with --quiet.
fn progress_bar(len: u64, quiet: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "bootstrap {bar:40} {pos}/{len} replicates, {eta} left",
    ) {
        bar.set_style(style);
    }
    bar
}

/// The request field of a flag naming an output file (`--write-runs` -> `write_runs`).
fn field(flag: &str) -> String {
    flag.trim_start_matches('-').replace('-', "_")
}

/// Check, before any work, that `path` may be written ([`scaling::data::check_new`]).
fn check_new(path: &Path, force: bool, flag: &str) -> Result<()> {
    Ok(scaling::data::check_new(path, force, &field(flag))?)
}

/// Write `text` to `path`, never over a file without `force`, never half a file
/// ([`scaling::data::write_new`]).
fn write_new(path: &Path, text: impl AsRef<[u8]>, force: bool, flag: &str) -> Result<()> {
    Ok(scaling::data::write_new(
        path,
        text.as_ref(),
        force,
        &field(flag),
    )?)
}

/// The name clap gives a value (the library's name for it).
fn name(v: impl ValueEnum) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}

/// One fit of `runs` (rows of `table`) under the arguments, with its bootstrap if asked.
fn fit_runs(a: &FitArgs, config: &FitConfig, table: &RunTable, runs: &Runs) -> Result<fit::Fit> {
    let request = fit_request(a, config)?;
    let inputs = scaling::uncertainty::TableInputs::gather(table, runs, &request)?;
    fit_gathered(a, &request, runs, inputs)
}

/// The library's request for the arguments.
fn fit_request(a: &FitArgs, config: &FitConfig) -> Result<scaling::uncertainty::FitRequest> {
    let bootstrap = match a.bootstrap {
        Some(r) => Some(scaling::uncertainty::BootstrapRequest {
            replicates: r,
            seed: a.seed,
            cluster_column: a.cluster_col.clone(),
            level: a.level,
            budgets: a.flops.clone(),
        }),
        None if a.cluster_col.is_some() || !a.flops.is_empty() || a.level != 0.95 => {
            return Err(usage(
                "--cluster-col, --flops and --level go with --bootstrap R",
            ))
        }
        None => None,
    };
    if !a.flops.is_empty() && config.form != LawForm::Chinchilla {
        return Err(usage(
            "--flops gives intervals on the compute-optimal allocation, which only the Chinchilla law has",
        ));
    }
    Ok(scaling::uncertainty::FitRequest {
        config: config.clone(),
        bootstrap,
    })
}

/// The fit of `runs` on what was read from their table, with a progress bar.
fn fit_gathered(
    a: &FitArgs,
    request: &scaling::uncertainty::FitRequest,
    runs: &Runs,
    inputs: scaling::uncertainty::TableInputs,
) -> Result<fit::Fit> {
    let bar = progress_bar(a.bootstrap.unwrap_or(0) as u64, a.quiet);
    let tick = || bar.inc(1);
    let result = scaling::uncertainty::fit_inputs(runs, inputs, request, &tick)?;
    bar.finish_and_clear();
    Ok(result)
}

fn cmd_fit(a: FitArgs, out: &mut String) -> Result<()> {
    let names = a.settings.names(&a.law);
    // Settings are checked before the file, so a bad --law is named even when the file is
    // missing too; the headers then decide which names of a formula are data.
    let early = names.config_for(&[]);
    let table = match read_table(&a.file, &a.data) {
        Ok(t) => t,
        Err(e) => {
            early?;
            return Err(e);
        }
    };
    let headers: Vec<&str> = table.columns.iter().map(|c| c.as_str()).collect();
    let config = names.config_for(&headers)?;
    let form = config.form.clone();
    if let Some(path) = &a.out {
        check_new(path, a.force, "--out")?;
    }
    if let Some(r) = a.bootstrap {
        scaling::limits::check("bootstrap replicates", r, scaling::limits::MAX_REPLICATES)?;
    }
    if !a.shared.is_empty() {
        return fit_shared(&a, &table, out);
    }
    if !a.by.is_empty() {
        if a.out.is_some() {
            return Err(usage(
                "--out saves one fit; with --by, use --format json (an array, one fit per group)",
            ));
        }
        let groups = groups_of(&table, &load_request(&a.data), &a.by)?;
        let outcomes = groups.into_iter().map(|g| {
            let runs = runs_of(&table, &form, &a.data, Some(g.rows.clone()));
            let r = runs.and_then(|runs| fit_runs(&a, &config, &table, &runs));
            (g, r)
        });
        let text = |r: &fit::Fit, g: &str| format!("[{g}]\n{}\n", report::fit_text(r));
        return finish_groups(outcomes.collect(), true, a.format, &text, out);
    }
    let runs = runs_of(&table, &form, &a.data, None)?;
    let request = fit_request(&a, &config)?;
    let inputs = scaling::uncertainty::TableInputs::gather(&table, &runs, &request)?;
    // The table's text is not needed any more: free it before the fit (1e6 runs).
    drop(table);
    let result = fit_gathered(&a, &request, &runs, inputs)?;
    // The JSON holds every run: build it only when it is written (a text report of a
    // million runs does not need 120 MB of it).
    let json = if a.out.is_some() || matches!(a.format, Format::Json) {
        serde_json::to_string_pretty(&result)? + "\n"
    } else {
        String::new()
    };
    if let Some(path) = &a.out {
        write_new(path, &json, a.force, "--out")?;
    }
    match a.format {
        Format::Json => out.push_str(&json),
        Format::Text => {
            out.push_str(&report::fit_text(&result));
            if let Some(path) = &a.out {
                out.push_str(&format!("saved: {}\n", path.display()));
            }
        }
    }
    Ok(())
}

/// `fit --by COL --shared NAMES`: the groups library's separate and joint fits and test.
fn fit_shared(a: &FitArgs, table: &RunTable, out: &mut String) -> Result<()> {
    let [by] = a.by.as_slice() else {
        return Err(usage("--shared needs --by with one column: the groups"));
    };
    if a.out.is_some() || a.cluster_col.is_some() || !a.flops.is_empty() {
        return Err(usage(
            "--shared goes without --out, --cluster-col and --flops; `scaling groups` has the joint fit's other options",
        ));
    }
    let names = scaling::groups::GroupsNames {
        fit: a.settings.names(&a.law),
        by: by.clone(),
        shared: a.shared.clone(),
        replicates: a.bootstrap,
        seed: a.seed,
        level: a.level,
        ..Default::default()
    };
    let headers: Vec<&str> = table.columns.iter().map(|c| c.as_str()).collect();
    let req = names.request(&headers)?;
    let bar = progress_bar(a.bootstrap.unwrap_or(0) as u64, a.quiet);
    let r = scaling::groups::fit_groups(table, &load_request(&a.data), &req, &|| bar.inc(1))?;
    bar.finish_and_clear();
    emit(out, a.format, &r, report::groups::groups_text)
}

fn cmd_predict(a: PredictArgs, out: &mut String) -> Result<()> {
    // A saved fit brings intervals and its data range; a law file or preset brings neither.
    let src = a.law.resolve()?;
    let req = scaling::allocate::PointRequest {
        params: a.params,
        tokens: a.tokens,
        flops: a.flops,
        unique_tokens: a.unique_tokens,
        level: a.level,
    };
    let p = scaling::allocate::predict_point(&src, &req)?;
    emit(out, a.format, &p, report::results::predict_text)
}

/// Read a saved fit (not a hand-written law: it needs the data and replicates).
pub(crate) fn read_fit(path: &Path) -> Result<fit::Fit> {
    let text = std::fs::read_to_string(path).map_err(|source| scaling::Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    let name = path.display().to_string();
    if let Err(e) = serde_json::from_str::<fit::Fit>(&text) {
        return Err(usage(format!(
            "{name}: not a saved fit ({e}); save one with `scaling fit RUNS --bootstrap R --out FIT`"
        )));
    }
    let fit = fit::Fit::from_json_str(&name, &text)?;
    // A hand-edited formula or law name is refused here, not when the fit is used.
    fit.try_form().map_err(|e| usage(format!("{name}: {e}")))?;
    Ok(fit)
}

fn cmd_test(a: TestArgs, out: &mut String) -> Result<()> {
    let fitted = read_fit(&a.fit)?;
    let src = plan::resolve(a.against.as_deref(), a.preset.as_deref())?;
    let name = a.fit.display().to_string();
    let t = scaling::allocate::test_against(&fitted, &name, &src, a.delta)?;
    emit(out, a.format, &t, |t| {
        report::law_test_text(&t.test, &t.law_source, &t.fitted)
    })
}

fn cmd_calibrate(a: CalibrateArgs, out: &mut String) -> Result<()> {
    let req = scaling::uncertainty::CalibrateRequest {
        datasets: a.datasets,
        bootstrap: a.bootstrap,
        seed: a.seed,
        noise: match a.noise {
            NoiseArg::Residuals => scaling::uncertainty::NoiseModel::Residuals,
            NoiseArg::Gaussian => scaling::uncertainty::NoiseModel::Gaussian,
            NoiseArg::Grouped => scaling::uncertainty::NoiseModel::Grouped,
        },
        noise_sd: a.noise_sd,
        level: a.level,
        cluster_column: a.cluster_col.clone(),
    };
    let table = read_table(&a.file, &a.data)?;
    let groups = groups_of(&table, &load_request(&a.data), &a.by)?;
    let file = a.file.display().to_string();
    let bar = progress_bar((a.datasets * groups.len()) as u64, a.quiet);
    let design = |label: &str| match label {
        "" => file.clone(),
        g => format!("{file} [{g}]"),
    };
    let outcomes = groups.into_iter().map(|g| {
        let rows = (!g.key.is_empty()).then(|| g.rows.clone());
        let runs = runs_of(&table, &LawForm::Chinchilla, &a.data, rows);
        let tick = || bar.inc(1);
        let c = runs.and_then(|r| Ok(calibrate_runs(&r, &design(&g.label()), &req, &tick)?));
        (g, c)
    });
    let outcomes = outcomes.collect();
    bar.finish_and_clear();
    let text = |c: &Calibrated, g: &str| {
        report::calibration_text(&c.calibration, &c.truth_law, &design(g))
    };
    finish_groups(outcomes, !a.by.is_empty(), a.format, &text, out)
}

fn cmd_demo(a: DemoArgs, out: &mut String) -> Result<()> {
    if let Some(path) = &a.write_runs {
        check_new(path, a.force, "--write-runs")?;
    }
    let req = scaling::simulate::DemoRequest {
        seed: a.seed,
        noise: a.noise,
        per_budget: a.per_budget,
        bootstrap: a.bootstrap,
    };
    let d = scaling::simulate::demo(&req, &|| {})?;
    if let Some(path) = &a.write_runs {
        write_new(path, d.runs_csv(), a.force, "--write-runs")?;
    }
    emit(out, a.format, &d, |d| {
        report::results::demo_text(d) + "\nNext: `scaling fit YOUR_RUNS.csv` (columns such as params, tokens, loss) or `scaling demo --write-runs demo.csv`.\n"
    })
}
