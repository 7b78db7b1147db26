//! The `scaling` command line: arguments -> library config -> output. All science lives in
//! the `scaling` library; this file parses, calls and prints.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};

use scaling::data::{Filters, RunTable, Runs};
use scaling::fit::{self, FitConfig};
use scaling::law::{LawForm, Var, Variable};
use scaling::report;

mod accounting;
mod groups;
mod lab;
mod methods;
mod plan;
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

#[derive(Subcommand)]
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
enum XArg {
    Params,
    Tokens,
    Flops,
}

#[derive(Clone, Copy, ValueEnum)]
enum ObjectiveArg {
    Huber,
    Squared,
}

#[derive(Clone, Copy, ValueEnum)]
enum SpaceArg {
    Log,
    Linear,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReductionArg {
    Sum,
    Mean,
}

#[derive(Clone, Copy, ValueEnum)]
enum StartsArg {
    /// Variable projection seeds, then BFGS polish (fast, default).
    Varpro,
    /// The paper's 4500-point grid (Hoffmann et al. 2022, App. D.2).
    Chinchilla,
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
    /// Fix a parameter (`--param E=1.69`) or bound it (`--param alpha=0.01:2`); repeatable.
    #[arg(long = "param", value_name = "NAME=VALUE|NAME=LOW:HIGH")]
    param: Vec<String>,
    /// The variable of `--law power`.
    #[arg(long, value_enum)]
    x: Option<XArg>,
    /// Fix the irreducible loss E at this value instead of fitting it (0 removes the term).
    #[arg(long, value_parser = non_negative, value_name = "E")]
    fix_e: Option<f64>,
    /// Per-run penalty on residuals.
    #[arg(long, value_enum, default_value = "huber")]
    objective: ObjectiveArg,
    /// Huber's delta.
    #[arg(long, default_value_t = 1e-3, value_parser = quantity)]
    delta: f64,
    /// Residuals of log loss (Chinchilla) or of loss.
    #[arg(long, value_enum, default_value = "log")]
    space: SpaceArg,
    /// Sum (Chinchilla) or mean over runs.
    #[arg(long, value_enum, default_value = "sum")]
    reduction: ReductionArg,
    /// Starting-point strategy.
    #[arg(long, value_enum, default_value = "varpro")]
    starts: StartsArg,
    /// BFGS iteration limit per start.
    #[arg(long, default_value_t = 2000)]
    max_iter: usize,
    #[command(flatten)]
    data: DataArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Bootstrap the fit with this many replicates (resampling runs, or groups with
    /// --cluster-col) for intervals and standard errors.
    #[arg(long, value_name = "R")]
    bootstrap: Option<usize>,
    /// Seed of the bootstrap (the same seed gives the same result whatever the thread count).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Resample whole groups of runs sharing this column's value (a model size, a run with
    /// several checkpoints) instead of single runs.
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
    /// Save the fit (JSON) to this file; `scaling predict` reads it.
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
    /// Overwrite the --out file if it exists.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
struct PredictArgs {
    /// A saved fit (`scaling fit --out`) or a law file such as
    /// {"law": "chinchilla", "params": {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}};
    /// or use --preset.
    law: Option<PathBuf>,
    /// A published law by name (`scaling presets` lists them).
    #[arg(long)]
    preset: Option<String>,
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
    /// No progress bar.
    #[arg(long, short = 'q')]
    quiet: bool,
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
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            eprintln!("error: {}", report::escape_control(&chain.join(": ")));
            ExitCode::from(exit_code(&e))
        }
    }
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

fn load_runs(file: &Path, form: &LawForm, data: &DataArgs) -> Result<(RunTable, Runs)> {
    let table = read_table(file, data)?;
    let runs = runs_of(&table, form, data, None)?;
    Ok((table, runs))
}

/// The run table, with the count columns added when a counting convention is asked for.
fn read_table(file: &Path, data: &DataArgs) -> Result<RunTable> {
    let mut table = RunTable::read(file)?;
    scaling::accounting::prepare_table(&mut table, &load_request(data))?;
    Ok(table)
}

/// The parsed `--where` filter, if any.
fn row_filter(data: &DataArgs) -> Result<Option<scaling::data::RowFilter>> {
    scaling::accounting::row_filter(&load_request(data))
        .map_err(|e| anyhow::Error::new(e).context("--where"))
}

/// The 0-based table rows `--where` keeps (all rows without it), for grouping.
fn selected_rows(table: &RunTable, data: &DataArgs) -> Result<Vec<usize>> {
    row_filter(data)?;
    Ok(scaling::accounting::selected_rows(
        table,
        &load_request(data),
    )?)
}

/// Validated, filtered runs of `table` (only the table rows `rows`, when given: one group).
fn runs_of(
    table: &RunTable,
    form: &LawForm,
    data: &DataArgs,
    rows: Option<Vec<usize>>,
) -> Result<Runs> {
    row_filter(data)?;
    let mut needs = fit::needs(form);
    needs.flops |= data.need_flops;
    Ok(scaling::accounting::load_runs(
        table,
        needs,
        &load_request(data),
        rows,
    )?)
}

/// The library's loading request for the data flags.
fn load_request(data: &DataArgs) -> scaling::accounting::LoadRequest {
    scaling::accounting::LoadRequest {
        params_col: data.params_col.clone(),
        tokens_col: data.tokens_col.clone(),
        flops_col: data.flops_col.clone(),
        loss_col: data.loss_col.clone(),
        skip_invalid: data.skip_invalid,
        filters: filters(data),
        params_convention: data.params_convention.clone(),
        flops_convention: data.flops_convention.clone(),
        flops_per_param_token: data.flops_per_param_token,
    }
}

fn filters(data: &DataArgs) -> Filters {
    Filters {
        min_flops: data.min_flops,
        max_flops: data.max_flops,
        drop_top_loss: data.drop_top_loss,
        row_filter: data.row_filter.clone(),
    }
}

/// Quote a word for a POSIX shell when it needs it.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./,:=+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The flags that reproduce `data`: the one place a data configuration is rendered back to a
/// command line (the report's "Reproduce" commands use it), so no flag is dropped.
fn data_flags(data: &DataArgs) -> Vec<String> {
    let mut f: Vec<String> = Vec::new();
    let mut opt = |flag: &str, v: &Option<String>| {
        if let Some(v) = v {
            f.push(flag.to_string());
            f.push(v.clone());
        }
    };
    opt("--params-col", &data.params_col);
    opt("--tokens-col", &data.tokens_col);
    opt("--flops-col", &data.flops_col);
    opt("--loss-col", &data.loss_col);
    opt("--params-convention", &data.params_convention);
    opt("--flops-convention", &data.flops_convention);
    opt("--where", &data.row_filter);
    if data.skip_invalid {
        f.push("--skip-invalid".into());
    }
    if data.drop_top_loss > 0 {
        f.push("--drop-top-loss".into());
        f.push(data.drop_top_loss.to_string());
    }
    if let Some(v) = data.min_flops {
        f.push("--min-flops".into());
        f.push(format!("{v:e}"));
    }
    if let Some(v) = data.max_flops {
        f.push("--max-flops".into());
        f.push(format!("{v:e}"));
    }
    if data.flops_per_param_token != 6.0 {
        f.push("--flops-per-param-token".into());
        f.push(format!("{}", data.flops_per_param_token));
    }
    f
}

/// A command line from words, each quoted for the shell as needed.
fn command_line(words: &[String]) -> String {
    words
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
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

/// Check, before any work, that `path` may be written: without `force` nothing may exist
/// there (not even a dangling symlink, which a write would follow), and its directory must
/// exist. Both are the user's to fix (exit 2).
fn check_new(path: &Path, force: bool, flag: &str) -> Result<()> {
    if !force && path.symlink_metadata().is_ok() {
        return Err(usage(format!(
            "{}: the file exists; pass --force to overwrite it (or choose another {flag})",
            path.display()
        )));
    }
    if path.file_name().is_none() {
        return Err(usage(format!("{flag} {}: not a file name", path.display())));
    }
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(usage(format!(
            "{flag} {}: the directory {} does not exist",
            path.display(),
            dir.display()
        )));
    }
    Ok(())
}

/// The directory a file goes in ("." for a bare name).
fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Write `text` to `path`, refusing to replace an existing file unless `force`. The text goes
/// to a temporary file beside the target first and takes its place only once complete, so a
/// failed write never leaves half a file nor destroys the old one; without `force` the new file
/// is linked into place, which fails rather than replace a file that appeared meanwhile.
fn write_new(path: &Path, text: impl AsRef<[u8]>, force: bool, flag: &str) -> Result<()> {
    check_new(path, force, flag)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = parent_dir(path).join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(text.as_ref())?;
        f.sync_all()
    })();
    let placed = written.and_then(|()| {
        if force {
            std::fs::rename(&tmp, path)
        } else {
            std::fs::hard_link(&tmp, path).or_else(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => Err(e),
                // A file system without hard links: the check above has to do.
                _ => std::fs::rename(&tmp, path),
            })
        }
    });
    let _ = std::fs::remove_file(&tmp);
    match placed {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(usage(format!(
            "{}: the file exists; pass --force to overwrite it (or choose another {flag})",
            path.display()
        ))),
        Err(e) => Err(e).with_context(|| format!("{}: cannot write", path.display())),
    }
}

/// The name clap gives a value (the library's name for it).
fn name(v: impl ValueEnum) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}

/// One fit of `runs` (rows of `table`) under the arguments, with its bootstrap if asked.
fn fit_runs(a: &FitArgs, config: &FitConfig, table: &RunTable, runs: &Runs) -> Result<fit::Fit> {
    if let Some(col) = &a.cluster_col {
        table.named_column("--cluster-col", col)?;
    }
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
    let bar = progress_bar(a.bootstrap.unwrap_or(0) as u64, a.quiet);
    let tick = || bar.inc(1);
    let request = scaling::uncertainty::FitRequest {
        config: config.clone(),
        bootstrap,
    };
    let result = scaling::uncertainty::fit_table(table, runs, &request, &tick)?;
    bar.finish_and_clear();
    Ok(result)
}

fn cmd_fit(a: FitArgs, out: &mut String) -> Result<()> {
    let names = fit::FitNames {
        law: a.law.clone(),
        params: a.param.clone(),
        x: a.x.map(name),
        fix_e: a.fix_e,
        objective: name(a.objective),
        delta: a.delta,
        space: name(a.space),
        reduction: name(a.reduction),
        starts: name(a.starts),
        max_iter: a.max_iter,
    };
    match (a.law.as_str(), a.x) {
        ("chinchilla", Some(_)) => {
            return Err(usage(
                "--x applies to --law power only (the Chinchilla law uses N and D)",
            ))
        }
        ("power", None) => {
            return Err(usage(
                "--law power needs --x params, --x tokens or --x flops",
            ))
        }
        _ => {}
    }
    // Settings are checked before the file, so a bad --law is named even when the file is
    // missing too; the headers then decide which names of a formula are data.
    let early = names.config_for(&[]);
    let table = match read_table(&a.file, &a.data) {
        Ok(t) => t,
        Err(e) => {
            early.map_err(|e| usage(e.to_string()))?;
            return Err(e);
        }
    };
    let headers: Vec<&str> = table.columns.iter().map(|c| c.as_str()).collect();
    let config = names
        .config_for(&headers)
        .map_err(|e| usage(e.to_string()))?;
    let form = config.form.clone();
    if let Some(path) = &a.out {
        check_new(path, a.force, "--out")?;
    }
    if let Some(r) = a.bootstrap {
        scaling::limits::check("bootstrap replicates", r, scaling::limits::MAX_REPLICATES)?;
    }
    if !a.by.is_empty() {
        if a.out.is_some() {
            return Err(usage(
                "--out saves one fit; with --by, use --format json (an array, one fit per group)",
            ));
        }
        let selected = selected_rows(&table, &a.data)?;
        let mut outcomes: Vec<methods::Outcome> = Vec::new();
        for g in scaling::data::group_rows(&table, "--by", &a.by, &selected)? {
            let one = || -> Result<(serde_json::Value, String)> {
                let runs = runs_of(&table, &form, &a.data, Some(g.rows.clone()))?;
                let result = fit_runs(&a, &config, &table, &runs)?;
                let text = format!("[{}]\n{}\n", g.label(), report::fit_text(&result));
                Ok((serde_json::to_value(&result)?, text))
            };
            let r = one();
            outcomes.push((g, r));
        }
        return methods::finish_groups(outcomes, true, a.format, out);
    }
    let runs = runs_of(&table, &form, &a.data, None)?;
    let result = fit_runs(&a, &config, &table, &runs)?;
    let json = serde_json::to_string_pretty(&result)? + "\n";
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

fn cmd_predict(a: PredictArgs, out: &mut String) -> Result<()> {
    // A saved fit brings intervals and its data range; a law file or preset brings neither.
    let src = plan::resolve(a.law.as_deref(), a.preset.as_deref())?;
    let law = src.law.clone().ok_or_else(|| {
        usage(format!(
            "{} publishes an allocation rule but no loss law, so it cannot predict a loss",
            src.label
        ))
    })?;
    let saved = src.fit.clone();
    let k = src.k;
    let reads = law.form.form().variables();
    if a.unique_tokens.is_some() && !reads.contains(&Var::U) {
        return Err(usage(
            "--unique-tokens needs a law that reads unique tokens U (the data-constrained law, --preset muennighoff)",
        ));
    }
    if let Some(level) = a.level {
        if !(level > 0.0 && level < 1.0) {
            return Err(usage(format!(
                "--level must be between 0 and 1, got {level}"
            )));
        }
    }
    let (mut n, mut d, mut c) = (a.params, a.tokens, a.flops);
    let mut notes = Vec::new();
    match law.form {
        LawForm::Chinchilla | LawForm::Kaplan | LawForm::DataConstrained => {
            let nn = n.ok_or_else(|| usage("this law needs --params"))?;
            if d.is_none() {
                let cc = c.ok_or_else(|| {
                    usage("this law needs --tokens (or --flops, to derive D = C / (6 N))")
                })?;
                d = Some(cc / (k * nn));
                notes.push(format!("D = C / ({k} N) (derived)"));
            }
            if c.is_none() {
                c = Some(k * nn * d.unwrap());
                notes.push(format!("C = {k} N D (derived)"));
            }
        }
        LawForm::Power { x } => {
            let given = match x {
                Variable::Params => n,
                Variable::Tokens => d,
                Variable::Flops => c,
            };
            if given.is_none() {
                let flag = match x {
                    Variable::Params => "--params",
                    Variable::Tokens => "--tokens",
                    Variable::Flops => "--flops",
                };
                return Err(usage(format!(
                    "this power law in {} needs {flag}",
                    x.symbol()
                )));
            }
        }
        _ => {
            // Any two of N, D and C give the third under C = k N D.
            match (n, d, c) {
                (Some(nn), None, Some(cc)) => {
                    d = Some(cc / (k * nn));
                    notes.push(format!("D = C / ({k} N) (derived)"));
                }
                (None, Some(dd), Some(cc)) => {
                    n = Some(cc / (k * dd));
                    notes.push(format!("N = C / ({k} D) (derived)"));
                }
                (Some(nn), Some(dd), None) => {
                    c = Some(k * nn * dd);
                    notes.push(format!("C = {k} N D (derived)"));
                }
                _ => {}
            }
            for v in &reads {
                let (ok, flag) = match v {
                    Var::N => (n.is_some(), "--params"),
                    Var::D => (d.is_some(), "--tokens"),
                    Var::C => (c.is_some(), "--flops"),
                    Var::M => (n.is_some() && d.is_some(), "--params and --tokens"),
                    Var::U => (true, ""),
                    _ => (false, ""),
                };
                if !ok && flag.is_empty() {
                    return Err(usage(format!(
                        "this law reads {}, which predict cannot be given",
                        v.symbol()
                    )));
                }
                if !ok {
                    return Err(usage(format!(
                        "this law reads {} (give {flag})",
                        v.symbol()
                    )));
                }
            }
        }
    }
    if let (Some(nn), Some(dd), Some(cc)) = (a.params, a.tokens, a.flops) {
        if ((k * nn * dd) / cc - 1.0).abs() > 1e-6 {
            return Err(usage(format!(
                "--params, --tokens and --flops disagree: {k} N D = {:.4e} but --flops is {cc:.4e}; give two of them",
                k * nn * dd
            )));
        }
    }
    for (name, v) in [("D", d), ("C", c)] {
        if let Some(v) = v {
            if !(v.is_finite() && v > 0.0) {
                return Err(usage(format!(
                    "the derived {name} = {v} is not a positive finite number; check --params, --tokens and --flops"
                )));
            }
        }
    }
    let nan = f64::NAN;
    let (nv, dv, cv) = (n.unwrap_or(nan), d.unwrap_or(nan), c.unwrap_or(nan));
    let mut p = scaling::uncertainty::predict(&law, saved.as_ref(), nv, dv, cv, a.level);
    if a.unique_tokens.is_some() {
        p.loss = law.predict_unique(nv, dv, cv, a.unique_tokens);
        if let Some(u) = a.unique_tokens {
            notes.push(format!(
                "{} unique tokens: {} epochs",
                report::human(u),
                report::sig(dv / u, 4)
            ));
        }
    }
    if !p.loss.is_finite() {
        return Err(anyhow::anyhow!("the prediction is not finite ({})", p.loss));
    }
    match a.format {
        Format::Json => {
            let mut obj = serde_json::Map::new();
            obj.insert("loss".into(), p.loss.into());
            obj.insert(
                "params".into(),
                n.map_or(serde_json::Value::Null, Into::into),
            );
            obj.insert(
                "tokens".into(),
                d.map_or(serde_json::Value::Null, Into::into),
            );
            obj.insert(
                "flops".into(),
                c.map_or(serde_json::Value::Null, Into::into),
            );
            for (key, v) in serde_json::to_value(&p)?
                .as_object()
                .cloned()
                .unwrap_or_default()
            {
                if key != "loss" {
                    obj.insert(key, v);
                }
            }
            obj.insert("law".into(), law.to_json());
            obj.insert(
                "unique_tokens".into(),
                a.unique_tokens.map_or(serde_json::Value::Null, Into::into),
            );
            obj.insert("source".into(), src.label.clone().into());
            obj.insert("notes".into(), notes.clone().into());
            out.push_str(&serde_json::to_string_pretty(&obj)?);
            out.push('\n');
        }
        Format::Text => {
            let mut at = Vec::new();
            if let Some(v) = n {
                at.push(format!("N = {}", report::human(v)));
            }
            if let Some(v) = d {
                at.push(format!("D = {}", report::human(v)));
            }
            if let Some(v) = c {
                at.push(format!("C = {v:.3e}"));
            }
            out.push_str(&format!(
                "loss {} at {} ({} law from {})\n",
                report::sig(p.loss, 6),
                at.join(", "),
                law.form.name(),
                src.label
            ));
            for note in notes {
                out.push_str(&format!("  {note}\n"));
            }
            let pct = |l: f64| (1e6 * 100.0 * l).round() / 1e6;
            match (p.interval, p.prediction_interval, p.level, saved.as_ref().and_then(|f| f.bootstrap.as_ref())) {
                (Some(ci), Some(pi), Some(level), Some(b)) => {
                    out.push_str(&format!(
                        "  {}% interval on the mean loss: [{}, {}] (parameter uncertainty, {} bootstrap replicates)\n",
                        pct(level),
                        report::sig(ci[0], 5),
                        report::sig(ci[1], 5),
                        b.replicates
                    ));
                    out.push_str(&format!(
                        "  {}% prediction interval for a new run: [{}, {}] (adds the fit's residual noise)\n",
                        pct(level),
                        report::sig(pi[0], 5),
                        report::sig(pi[1], 5)
                    ));
                }
                _ => out.push_str(
                    "  no interval: the file has no bootstrap replicates (fit with --bootstrap R --out FIT)\n",
                ),
            }
            match &p.extrapolation {
                Some(e) if e.inside => {
                    out.push_str("  inside the range of the runs the law was fitted to\n")
                }
                Some(e) => {
                    for note in &e.notes {
                        out.push_str(&format!("  extrapolation: {note}\n"));
                    }
                }
                None => out.push_str(
                    "  (a law file carries no data range, so extrapolation is not assessed)\n",
                ),
            }
        }
    }
    Ok(())
}

/// Read a saved fit (not a hand-written law: it needs the data and replicates).
fn read_fit(path: &Path) -> Result<fit::Fit> {
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
    let law = src
        .law
        .clone()
        .ok_or_else(|| usage(format!("{} has no loss law to test", src.label)))?;
    let runs = fitted.runs();
    let t = scaling::uncertainty::test_law(&fitted, &runs, &fitted.config(), &law, a.delta)?;
    match a.format {
        Format::Json => {
            let mut v = serde_json::to_value(&t)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("fit".into(), a.fit.display().to_string().into());
                o.insert("law_source".into(), src.label.clone().into());
                o.insert("law".into(), law.to_json());
                o.insert("runs".into(), runs.len().into());
                o.insert(
                    "replicates".into(),
                    fitted
                        .bootstrap
                        .as_ref()
                        .map(|b| b.replicates)
                        .unwrap_or(0)
                        .into(),
                );
            }
            out.push_str(&serde_json::to_string_pretty(&v)?);
            out.push('\n');
        }
        Format::Text => out.push_str(&report::law_test_text(&t, &src.label, &fitted)),
    }
    Ok(())
}

fn cmd_calibrate(a: CalibrateArgs, out: &mut String) -> Result<()> {
    if !(a.level > 0.0 && a.level < 1.0) {
        return Err(usage(format!(
            "--level must be between 0 and 1, got {}",
            a.level
        )));
    }
    scaling::uncertainty::check_calibration_size(a.datasets, a.bootstrap)?;
    let (_, runs) = load_runs(&a.file, &LawForm::Chinchilla, &a.data)?;
    let config = FitConfig::default();
    let truth_fit = fit::fit(&runs, &config)?;
    let truth = truth_fit.law().ok_or_else(|| {
        usage(format!(
            "{}: the fit of these runs does not identify every parameter, so it cannot serve as a truth",
            a.file.display()
        ))
    })?;
    let noise = match a.noise {
        NoiseArg::Residuals => {
            if a.noise_sd.is_some() {
                return Err(usage("--noise-sd goes with --noise gaussian"));
            }
            scaling::uncertainty::Noise::Residuals {
                values: truth_fit.residuals.clone(),
            }
        }
        NoiseArg::Gaussian => {
            let sd = match a.noise_sd {
                Some(sd) => sd,
                None => {
                    let mut r = truth_fit.residuals.clone();
                    r.sort_by(|x, y| x.total_cmp(y));
                    let med = scaling::uncertainty::quantile_sorted(&r, 0.5);
                    let mut dev: Vec<f64> = r.iter().map(|v| (v - med).abs()).collect();
                    dev.sort_by(|x, y| x.total_cmp(y));
                    1.4826 * scaling::uncertainty::quantile_sorted(&dev, 0.5)
                }
            };
            scaling::uncertainty::Noise::Gaussian { sd }
        }
    };
    let cal = scaling::uncertainty::CalibrationConfig {
        datasets: a.datasets,
        replicates: a.bootstrap,
        seed: a.seed,
        level: a.level,
        noise,
    };
    let bar = progress_bar(a.datasets as u64, a.quiet);
    let tick = || bar.inc(1);
    let c = scaling::uncertainty::calibrate(&truth, &runs, &config, &cal, &tick)?;
    bar.finish_and_clear();
    match a.format {
        Format::Json => {
            let mut v = serde_json::to_value(&c)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("truth".into(), truth.to_json());
                o.insert("design".into(), a.file.display().to_string().into());
            }
            out.push_str(&serde_json::to_string_pretty(&v)?);
            out.push('\n');
        }
        Format::Text => out.push_str(&report::calibration_text(
            &c,
            &truth,
            &a.file.display().to_string(),
        )),
    }
    Ok(())
}

fn cmd_demo(a: DemoArgs, out: &mut String) -> Result<()> {
    // Epoch AI's estimate (Besiroglu et al. 2024, arXiv:2404.10102) as the true law.
    let truth = scaling::law::presets::get("epoch")?
        .law
        .expect("the epoch preset carries a loss law");
    if a.per_budget < 2 {
        return Err(usage("--per-budget must be at least 2"));
    }
    if let Some(path) = &a.write_runs {
        check_new(path, a.force, "--write-runs")?;
    }
    scaling::limits::check(
        "synthetic runs",
        a.per_budget
            .saturating_mul(scaling::simulate::CHINCHILLA_BUDGETS.len()),
        scaling::limits::MAX_DESIGN_RUNS,
    )?;
    scaling::limits::check(
        "bootstrap replicates",
        a.bootstrap,
        scaling::limits::MAX_REPLICATES,
    )?;
    let design = scaling::simulate::isoflop_design(
        &truth,
        &scaling::simulate::CHINCHILLA_BUDGETS,
        a.per_budget,
        1.5,
        6.0,
    );
    let label = format!(
        "synthetic IsoFLOP sweep (9 Chinchilla budgets x {} models, noise {} in log loss, seed {})",
        a.per_budget, a.noise, a.seed
    );
    let runs = scaling::simulate::sample_runs(&truth, &design, a.noise, a.seed, &label)?;
    if let Some(path) = &a.write_runs {
        let mut csv = String::from("params,tokens,flops,loss\n");
        for i in 0..runs.len() {
            csv.push_str(&format!(
                "{:e},{:e},{:e},{}\n",
                runs.params[i], runs.tokens[i], runs.flops[i], runs.loss[i]
            ));
        }
        write_new(path, &csv, a.force, "--write-runs")?;
    }
    let config = FitConfig::default();
    let mut result = fit::fit(&runs, &config)?;
    if a.bootstrap >= 2 {
        let bc = scaling::uncertainty::BootstrapConfig {
            replicates: a.bootstrap,
            seed: a.seed,
            clusters: None,
            cluster_column: None,
            level: 0.95,
        };
        let boot = scaling::uncertainty::bootstrap(&runs, &config, &result, &bc, &|| {})?;
        scaling::uncertainty::attach(&mut result, boot, &[1e24], 0.95);
    }
    match a.format {
        Format::Json => {
            let obj = serde_json::json!({
                "synthetic": true,
                "truth": truth.to_json(),
                "truth_source": "Besiroglu et al. 2024 (arXiv:2404.10102), Epoch AI's estimate",
                "design": {
                    "budgets": scaling::simulate::CHINCHILLA_BUDGETS,
                    "models_per_budget": a.per_budget,
                    "span_decades": 1.5,
                    "noise_sd_log_loss": a.noise,
                    "seed": a.seed,
                },
                "fit": result,
            });
            out.push_str(&serde_json::to_string_pretty(&obj)?);
            out.push('\n');
        }
        Format::Text => {
            out.push_str("scaling demo: SYNTHETIC data, not real training runs.\n");
            out.push_str(&format!(
                "True law: Epoch AI's estimate (Besiroglu et al. 2024): {}\n",
                truth.form.formula()
            ));
            out.push_str(&format!(
                "Design: Chinchilla's 9 IsoFLOP budgets (6e18 to 3e21 FLOPs), {} model sizes per budget over 1.5 decades around the optimum, D = C / (6 N); loss x exp(Normal(0, {})) with seed {}.\n\n",
                a.per_budget, a.noise, a.seed
            ));
            out.push_str(&report::fit_text(&result));
            out.push_str("\nFit against the truth it was drawn from:\n");
            out.push_str(&report::truth_table(&truth, &result));
            out.push_str(&format!(
                "\n{} runs with noise {} in log loss determine some parameters only loosely: A \
                 and B trade off along a flat valley of the objective (Besiroglu et al. 2024 found \
                 the same on Chinchilla's data), and the intervals say how loosely. Judge a fit by \
                 what it predicts (L@1e24), not by A and B alone.\n",
                runs.len(),
                a.noise
            ));
            out.push_str("\nNext: `scaling fit YOUR_RUNS.csv` (columns such as params, tokens, loss) or `scaling demo --write-runs demo.csv`.\n");
        }
    }
    Ok(())
}
