//! `scaling powerlaw`, `isoflop`, `envelope` and `compare`: arguments -> one library request
//! per group -> the library's renderer or JSON.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use scaling::accounting::LoadRequest;
use scaling::data::{Filters, Group, RunTable};
use scaling::methods::{self, CompareRequest, EnvelopeRequest, IsoflopRequest, PowerlawRequest};
use scaling::report::methods as render;

use crate::{finish_groups, DataArgs, Format};

/// The library's per-group results, each error naming the file unless it already does.
fn outcomes<T>(raw: Vec<(Group, scaling::Result<T>)>, file: &Path) -> Vec<(Group, Result<T>)> {
    let path = file.display().to_string();
    let named = |e: scaling::Error| match e.to_string().contains(&path) {
        true => anyhow::Error::new(e),
        false => anyhow::Error::new(e).context(path.clone()),
    };
    raw.into_iter()
        .map(|(g, r)| (g, r.map_err(named)))
        .collect()
}

/// `scaling powerlaw`.
pub fn cmd_powerlaw(a: PowerlawArgs, out: &mut String) -> Result<()> {
    let table = RunTable::read(&a.file)?;
    let load = LoadRequest {
        filters: Filters {
            row_filter: a.row_filter.clone(),
            ..Default::default()
        },
        ..Default::default()
    };
    let req = PowerlawRequest {
        x: a.x.clone(),
        y: a.y.clone(),
        skip_invalid: a.skip_invalid,
        level: a.level,
    };
    let groups = crate::groups_of(&table, &load, &a.by)?;
    let raw = methods::for_groups(groups, |g| methods::powerlaw_table(&table, &g.rows, &req));
    let text = render::powerlaw_text;
    finish_groups(
        outcomes(raw, &a.file),
        !a.by.is_empty(),
        a.format,
        &text,
        out,
    )
}

/// `scaling isoflop`.
pub fn cmd_isoflop(a: IsoflopArgs, out: &mut String) -> Result<()> {
    let (table, load) = crate::table_and_load(&a.file, &a.data)?;
    let req = IsoflopRequest {
        budget_col: a.o.budget_col.clone(),
        budgets: a.o.budgets.clone(),
        tolerance: a.o.tolerance,
        keep_flagged: a.o.keep_flagged,
        bootstrap: a.o.bootstrap,
        seed: a.o.seed,
        level: a.o.level,
    };
    let groups = crate::groups_of(&table, &load, &a.o.by)?;
    let raw = methods::for_groups(groups, |g| {
        let rows = (!g.key.is_empty()).then(|| g.rows.clone());
        methods::isoflop_table(
            &table,
            &methods::chinchilla_runs(&table, &load, rows)?,
            &req,
        )
    });
    let source = a.file.display().to_string();
    let text = |r: &methods::IsoflopResult, g: &str| render::isoflop_text(r, &source, g);
    finish_groups(
        outcomes(raw, &a.file),
        !a.o.by.is_empty(),
        a.o.format,
        &text,
        out,
    )
}

/// `scaling compare`.
pub fn cmd_compare(a: CompareArgs, out: &mut String) -> Result<()> {
    let (table, load) = crate::table_and_load(&a.file, &a.data)?;
    let req = CompareRequest {
        budgets: a.o.budgets.clone(),
        budget_col: a.o.budget_col.clone(),
        tolerance: a.o.tolerance,
        keep_flagged: a.o.keep_flagged,
        run_col: a.run_col.clone(),
        bootstrap: a.o.bootstrap,
        seed: a.o.seed,
        level: a.o.level,
        rows: None,
    };
    let groups = crate::groups_of(&table, &load, &a.o.by)?;
    let raw = methods::for_groups(groups, |g| {
        let rows = (!g.key.is_empty()).then(|| g.rows.clone());
        let runs = methods::chinchilla_runs(&table, &load, rows.clone())?;
        methods::compare(
            &table,
            &runs,
            &load,
            &CompareRequest {
                rows,
                ..req.clone()
            },
        )
    });
    let source = a.file.display().to_string();
    let text = |c: &methods::Comparison, g: &str| {
        let head = if g.is_empty() {
            String::new()
        } else {
            format!("[{g}]\n")
        };
        head + &render::compare_text(c, &source)
    };
    finish_groups(
        outcomes(raw, &a.file),
        !a.o.by.is_empty(),
        a.o.format,
        &text,
        out,
    )
}

/// `scaling envelope`.
pub fn cmd_envelope(a: EnvelopeArgs, out: &mut String) -> Result<()> {
    scaling::limits::check("envelope grid points", a.grid, scaling::limits::MAX_GRID)?;
    let req = EnvelopeRequest {
        run_col: a.run_col.clone(),
        params_col: a.params_col.clone(),
        tokens_col: a.tokens_col.clone(),
        steps_col: a.steps_col.clone(),
        tokens_per_step: a.tokens_per_step,
        loss_col: a.loss_col.clone(),
        min_fraction: a.min_fraction,
        grid: a.grid,
        bootstrap: a.bootstrap,
        seed: a.seed,
        level: a.level,
    };
    req.check()?;
    let table = RunTable::read(&a.file)?;
    let load = LoadRequest {
        params_col: a.params_col.clone(),
        tokens_col: a.tokens_col.clone(),
        loss_col: a.loss_col.clone(),
        filters: Filters {
            row_filter: a.row_filter.clone(),
            ..Default::default()
        },
        ..Default::default()
    };
    let groups = crate::groups_of(&table, &load, &a.by)?;
    let raw = methods::for_groups(groups, |g| methods::envelope_table(&table, &g.rows, &req));
    let source = a.file.display().to_string();
    let text = |r: &methods::EnvelopeReport, g: &str| render::envelope_text(r, &source, g);
    finish_groups(
        outcomes(raw, &a.file),
        !a.by.is_empty(),
        a.format,
        &text,
        out,
    )
}

#[derive(Args)]
pub struct PowerlawArgs {
    /// A table (CSV or JSON).
    file: PathBuf,
    /// Column of x.
    #[arg(long)]
    x: String,
    /// Column of y.
    #[arg(long)]
    y: String,
    /// Fit separately for each combination of these columns' values (groups in the order
    /// they first appear; a group that fails is reported in its place).
    #[arg(long, value_delimiter = ',')]
    by: Vec<String>,
    /// Keep only the rows this filter selects, e.g. "dataset == 'rw' and flops > 1e18".
    #[arg(long = "where", value_name = "FILTER")]
    row_filter: Option<String>,
    /// Leave out rows with empty or invalid x or y (and say how many).
    #[arg(long)]
    skip_invalid: bool,
    /// Interval level.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct IsoflopArgs {
    /// Run table with N, D or C, and loss.
    file: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    o: Approach2Args,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct CompareArgs {
    /// Run table with N, D or C, and loss.
    file: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// For loss curves: the columns identifying a run. Approach 1 then runs on all
    /// checkpoints, and Approaches 2 and 3 on each run's last checkpoint.
    #[arg(long, value_delimiter = ',')]
    run_col: Vec<String>,
    #[command(flatten)]
    o: Approach2Args,
}

// What `isoflop` and `compare` share: how runs form IsoFLOP budgets (Approach 2), the
// bootstrap, grouping and the output format.
// (Not a doc comment: clap would make it the about text of the commands that flatten
// this, because their arguments are built late; see `Command`.)
#[derive(Args)]
pub struct Approach2Args {
    /// Column holding each run's budget.
    #[arg(long)]
    budget_col: Option<String>,
    /// Snap runs to these IsoFLOP budgets (FLOPs), e.g. Chinchilla's 6e18,1e19,3e19,...
    #[arg(long, value_delimiter = ',', value_parser = crate::quantity)]
    budgets: Vec<f64>,
    /// Without a budget column or list: runs whose FLOPs agree within this relative tolerance
    /// form a budget.
    #[arg(long, default_value_t = 0.05)]
    tolerance: f64,
    /// Use flagged budgets (off-centre, weak curvature, few points) in Approach 2's power-law
    /// fits.
    #[arg(long)]
    keep_flagged: bool,
    /// Bootstrap replicates for the intervals (compare: Approach 3 refits and Approach 2
    /// resamples).
    #[arg(long, default_value_t = 400)]
    bootstrap: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Interval level.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Run the analysis for each combination of these columns' values (groups in the order
    /// they first appear; a group that fails is reported in its place).
    #[arg(long, value_delimiter = ',', value_name = "COL")]
    by: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct EnvelopeArgs {
    /// Loss curves: one row per checkpoint.
    file: PathBuf,
    /// Columns that identify a run (several if needed, e.g. model,sweep,peak_lr).
    #[arg(long, value_delimiter = ',', required = true)]
    run_col: Vec<String>,
    /// Column holding N (default: recognised by name).
    #[arg(long)]
    params_col: Option<String>,
    /// Column holding tokens seen at the checkpoint (default: recognised by name).
    #[arg(long)]
    tokens_col: Option<String>,
    /// Instead of tokens: a column of steps, with --tokens-per-step.
    #[arg(long)]
    steps_col: Option<String>,
    /// Tokens per optimiser step (batch size x sequence length), with --steps-col.
    #[arg(long, value_parser = crate::quantity)]
    tokens_per_step: Option<f64>,
    /// Column holding the loss (default: recognised by name).
    #[arg(long)]
    loss_col: Option<String>,
    /// Drop checkpoints before this fraction of each run's final tokens (warm-up).
    #[arg(long, default_value_t = 0.0)]
    min_fraction: f64,
    /// Log-spaced FLOP grid size (Chinchilla used 1500).
    #[arg(long, default_value_t = 1500)]
    grid: usize,
    /// Bootstrap replicates (runs resampled).
    #[arg(long, default_value_t = 200)]
    bootstrap: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Interval level.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Run the analysis for each combination of these columns' values (groups in the order
    /// they first appear; a group that fails is reported in its place).
    #[arg(long, value_delimiter = ',')]
    by: Vec<String>,
    /// Keep only the rows (checkpoints) this filter selects, e.g. "model != 'misfitting_17m'".
    #[arg(long = "where", value_name = "FILTER")]
    row_filter: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}
