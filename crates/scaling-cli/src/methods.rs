//! `scaling powerlaw`, `scaling isoflop` and `scaling compare`.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use scaling::data::{group_rows, parse_positive, Group, RowFilter, RunTable, Runs};
use scaling::fit::{self, FitConfig};
use scaling::law::LawForm;
use scaling::methods::{self, Grouping, IsoflopConfig, IsoflopResult, PowerLawFit};
use scaling::report::{human, sig};
use scaling::uncertainty::{self, BootstrapConfig};

use crate::{load_runs, usage, DataArgs, Format};

/// A run's id, size and checkpoints (tokens, loss, row) as read.
type RawCurve = (String, f64, Vec<(f64, f64, usize)>);

/// A published (a, interval, b, interval) row.
type Published = (&'static str, f64, Option<[f64; 2]>, f64, Option<[f64; 2]>);

/// One group's outcome: its JSON value and its text, or why it failed.
pub(crate) type Outcome = (Group, Result<(serde_json::Value, String)>);

/// Print every group's result or error, in the order the groups first appear. Without
/// grouping the single result is printed as is, and its error is the command's error. With
/// grouping a failed group does not hide the others: its error is printed in its place (and
/// as `"error"` in its JSON object); the command fails only when every group failed.
pub(crate) fn finish_groups(
    outcomes: Vec<Outcome>,
    grouped: bool,
    format: Format,
    out: &mut String,
) -> Result<()> {
    if !grouped {
        let (_, r) = outcomes
            .into_iter()
            .next()
            .ok_or_else(|| usage("no rows to analyse"))?;
        let (v, text) = r?;
        match format {
            Format::Json => {
                out.push_str(&serde_json::to_string_pretty(&v)?);
                out.push('\n');
            }
            Format::Text => out.push_str(&text),
        }
        return Ok(());
    }
    let total = outcomes.len();
    let failed = outcomes.iter().filter(|(_, r)| r.is_err()).count();
    if failed == total {
        let mut errs = outcomes
            .into_iter()
            .filter_map(|(g, r)| r.err().map(|e| (g, e)));
        if let Some((g, e)) = errs.next() {
            let more = total - 1;
            return Err(e.context(format!(
                "group {}{}",
                g.label(),
                if more > 0 {
                    format!(" (and all {more} other groups failed)")
                } else {
                    String::new()
                }
            )));
        }
        return Err(usage("no rows to analyse"));
    }
    let chain = |e: &anyhow::Error| {
        e.chain()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(": ")
    };
    match format {
        Format::Json => {
            let arr: Vec<serde_json::Value> = outcomes
                .iter()
                .map(|(g, r)| {
                    let mut v = match r {
                        Ok((v, _)) => v.clone(),
                        Err(e) => serde_json::json!({ "error": chain(e) }),
                    };
                    if let Some(o) = v.as_object_mut() {
                        o.insert(
                            "group".into(),
                            serde_json::to_value(g.key_map()).unwrap_or_default(),
                        );
                    }
                    v
                })
                .collect();
            out.push_str(&serde_json::to_string_pretty(&arr)?);
            out.push('\n');
        }
        Format::Text => {
            for (g, r) in &outcomes {
                match r {
                    Ok((_, text)) => out.push_str(text),
                    Err(e) => {
                        let _ = writeln!(out, "{}:\n  error: {}\n", g.label(), chain(e));
                    }
                }
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "warning: {failed} of {total} groups failed; their errors are printed in their place"
        );
    }
    Ok(())
}

/// The rows a `--where` filter keeps (every row without one).
fn rows_where(
    table: &RunTable,
    filter: &Option<String>,
    overrides: &scaling::data::ColumnOverrides,
) -> Result<Vec<usize>> {
    let Some(text) = filter else {
        return Ok((0..table.rows.len()).collect());
    };
    let f = RowFilter::parse(text).map_err(|e| anyhow::Error::new(e).context("--where"))?;
    let keep = f.matches(table, overrides)?;
    Ok((0..table.rows.len()).filter(|&r| keep[r]).collect())
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

fn power_text(f: &PowerLawFit, xname: &str, yname: &str, skipped: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "  {yname} = {} * {xname}^{}",
        sig(f.coefficient, 5),
        sig(f.exponent, 6)
    );
    if let (Some(iv), Some(se)) = (f.exponent_interval, f.exponent_std_error) {
        let _ = writeln!(
            s,
            "  exponent {} (std. error {}, {}% interval [{}, {}])",
            sig(f.exponent, 6),
            sig(se, 3),
            (1e6 * 100.0 * f.level).round() / 1e6,
            sig(iv[0], 5),
            sig(iv[1], 5)
        );
    } else {
        let _ = writeln!(
            s,
            "  no interval: two points leave no residual degrees of freedom"
        );
    }
    let _ = writeln!(
        s,
        "  {} points, R^2 {} in log-log space; {} rows skipped",
        f.points,
        sig(f.r_squared, 5),
        skipped
    );
    s
}

/// `scaling powerlaw`.
pub fn cmd_powerlaw(a: PowerlawArgs, out: &mut String) -> Result<()> {
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
    let selected = rows_where(&table, &a.row_filter, &Default::default())?;
    let mut outcomes: Vec<Outcome> = Vec::new();
    for g in group_rows(&table, "--by", &a.by, &selected)? {
        let one = || -> Result<(serde_json::Value, String)> {
            let (mut xs, mut ys, mut skipped) = (vec![], vec![], 0);
            for &r in &g.rows {
                let cell = |c: usize| table.positive(r, c);
                match (cell(xi), cell(yi)) {
                    (Ok(x), Ok(y)) => {
                        xs.push(x);
                        ys.push(y);
                    }
                    (Err(e), _) | (_, Err(e)) if !a.skip_invalid => return Err(e.into()),
                    _ => skipped += 1,
                }
            }
            let f = methods::fit_power_law(&xs, &ys, a.level).map_err(|e| {
                let group = if g.key.is_empty() {
                    String::new()
                } else {
                    format!(", group {}", g.label())
                };
                anyhow::Error::new(e).context(format!(
                    "{}: --x column {:?} against --y column {:?}{group}",
                    a.file.display(),
                    a.x,
                    a.y
                ))
            })?;
            let mut v = serde_json::to_value(&f)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("skipped_rows".into(), skipped.into());
                o.insert("x".into(), a.x.clone().into());
                o.insert("y".into(), a.y.clone().into());
            }
            let mut text = String::new();
            if !g.key.is_empty() {
                let _ = writeln!(text, "{}:", g.label());
            }
            text.push_str(&power_text(&f, &a.x, &a.y, skipped));
            Ok((v, text))
        };
        let r = one();
        outcomes.push((g, r));
    }
    finish_groups(outcomes, !a.by.is_empty(), a.format, out)
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct IsoflopArgs {
    /// Run table with N, D or C, and loss.
    file: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Column holding each run's budget.
    #[arg(long)]
    budget_col: Option<String>,
    /// Snap runs to these budgets (FLOPs), e.g. Chinchilla's 6e18,1e19,3e19,...
    #[arg(long, value_delimiter = ',', value_parser = crate::quantity)]
    budgets: Vec<f64>,
    /// Without a budget column or list: runs whose FLOPs agree within this relative tolerance
    /// form a budget.
    #[arg(long, default_value_t = 0.05)]
    tolerance: f64,
    /// Use flagged budgets (off-centre, weak curvature, few points) in the power-law fits.
    #[arg(long)]
    keep_flagged: bool,
    /// Bootstrap replicates for the intervals.
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
    #[arg(long, value_delimiter = ',')]
    by: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

fn grouping_for(
    table: &RunTable,
    runs: &Runs,
    rows: &[usize],
    budget_col: &Option<String>,
    budgets: &[f64],
    tol: f64,
) -> Result<Grouping> {
    if let Some(c) = budget_col {
        let i = table.named_column("--budget-col", c)?;
        let v = rows
            .iter()
            .map(|&r| {
                let file_row = runs.rows[r] - 1;
                parse_positive(&table.rows[file_row][i]).map_err(|p| {
                    anyhow::Error::new(scaling::Error::BadValue {
                        location: table.location(file_row),
                        column: c.clone(),
                        value: table.rows[file_row][i].clone(),
                        problem: p.describe().into(),
                    })
                })
            })
            .collect::<Result<Vec<f64>>>()?;
        return Ok(Grouping::Given(v));
    }
    if !budgets.is_empty() {
        return Ok(Grouping::Listed(budgets.to_vec()));
    }
    Ok(Grouping::Tolerance(tol))
}

fn isoflop_text(r: &IsoflopResult) -> String {
    let mut s = String::new();
    let pct = (1e6 * 100.0 * r.level).round() / 1e6;
    let _ = writeln!(
        s,
        "  {:>10} {:>5} {:>9} {:>19} {:>9} {:>19} {:>8}  flags",
        "budget",
        "runs",
        "N*",
        format!("{pct}% interval"),
        "D*",
        format!("{pct}% interval"),
        "L*"
    );
    for b in &r.budgets {
        let iv = |v: Option<[f64; 2]>| {
            v.map(|[lo, hi]| format!("[{}, {}]", human(lo), human(hi)))
                .unwrap_or_default()
        };
        let _ = writeln!(
            s,
            "  {:>10.3e} {:>5} {:>9} {:>19} {:>9} {:>19} {:>8}  {}{}",
            b.flops,
            b.runs,
            if b.params.is_finite() {
                human(b.params)
            } else {
                "-".into()
            },
            iv(b.params_interval),
            if b.tokens.is_finite() {
                human(b.tokens)
            } else {
                "-".into()
            },
            iv(b.tokens_interval),
            if b.loss.is_finite() {
                sig(b.loss, 4)
            } else {
                "-".into()
            },
            b.flags.join(","),
            if b.used { "" } else { " (left out)" }
        );
    }
    let _ = writeln!(
        s,
        "  budget in FLOPs; N* parameters and D* = C / (6 N*) tokens at the parabola's vertex in ln N; L* the vertex's loss, in the loss column's units"
    );
    let fmt_iv = |v: Option<[f64; 2]>| {
        v.map(|[lo, hi]| format!("[{}, {}]", sig(lo, 3), sig(hi, 3)))
            .unwrap_or_else(|| "n/a".into())
    };
    let _ = writeln!(
        s,
        "\n  N* ~ C^a: a = {} ({pct}% bootstrap interval {}; t interval {})",
        sig(r.params_exponent, 4),
        fmt_iv(r.params_exponent_interval),
        fmt_iv(r.params_fit.exponent_interval)
    );
    let _ = writeln!(
        s,
        "  D* ~ C^b: b = {} ({pct}% bootstrap interval {}; t interval {})",
        sig(r.tokens_exponent, 4),
        fmt_iv(r.tokens_exponent_interval),
        fmt_iv(r.tokens_fit.exponent_interval)
    );
    let _ = writeln!(
        s,
        "  N* = {} C^{} and D* = {} C^{} (least squares in log-log space; C in FLOPs)",
        sig(r.params_fit.coefficient, 4),
        sig(r.params_fit.exponent, 4),
        sig(r.tokens_fit.coefficient, 4),
        sig(r.tokens_fit.exponent, 4)
    );
    let _ = writeln!(
        s,
        "  {} budgets used of {}; {} runs belong to no budget; {} bootstrap replicates, seed {}",
        r.budgets.iter().filter(|b| b.used).count(),
        r.budgets.len(),
        r.runs_without_budget,
        r.replicates,
        r.seed
    );
    s
}

/// `scaling isoflop`.
pub fn cmd_isoflop(a: IsoflopArgs, out: &mut String) -> Result<()> {
    let data = with_flops(&a.data);
    let table = crate::read_table(&a.file, &data)?;
    let selected = crate::selected_rows(&table, &data)?;
    let mut outcomes: Vec<Outcome> = Vec::new();
    for g in group_rows(&table, "--by", &a.by, &selected)? {
        let one = || -> Result<(serde_json::Value, String)> {
            let rows = (!g.key.is_empty()).then(|| g.rows.clone());
            let runs = crate::runs_of(&table, &LawForm::Chinchilla, &data, rows)?;
            let idx: Vec<usize> = (0..runs.len()).collect();
            let grouping =
                grouping_for(&table, &runs, &idx, &a.budget_col, &a.budgets, a.tolerance)?;
            let cfg = IsoflopConfig {
                grouping,
                replicates: a.bootstrap,
                seed: a.seed,
                level: a.level,
                keep_flagged: a.keep_flagged,
            };
            let r = methods::isoflop(&runs.params, &runs.tokens, &runs.flops, &runs.loss, &cfg)
                .map_err(|e| anyhow::Error::new(e).context(a.file.display().to_string()))?;
            let mut text = String::new();
            let _ = writeln!(
                text,
                "Approach 2 (IsoFLOP profiles, Hoffmann et al. 2022) on {}{}",
                a.file.display(),
                if g.key.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", g.label())
                }
            );
            text.push_str(&isoflop_text(&r));
            text.push('\n');
            Ok((serde_json::to_value(&r)?, text))
        };
        let r = one();
        outcomes.push((g, r));
    }
    finish_groups(outcomes, !a.by.is_empty(), a.format, out)
}

fn with_flops(d: &DataArgs) -> DataArgs {
    DataArgs {
        need_flops: true,
        ..d.clone()
    }
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct CompareArgs {
    /// Run table with N, D or C, and loss.
    file: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Snap runs to these IsoFLOP budgets for Approach 2.
    #[arg(long, value_delimiter = ',', value_parser = crate::quantity)]
    budgets: Vec<f64>,
    /// Column holding each run's budget.
    #[arg(long)]
    budget_col: Option<String>,
    /// Otherwise runs whose FLOPs agree within this relative tolerance form a budget.
    #[arg(long, default_value_t = 0.05)]
    tolerance: f64,
    /// Use flagged IsoFLOP budgets (off-centre, weak curvature, few points) in Approach 2.
    #[arg(long)]
    keep_flagged: bool,
    /// For loss curves: the columns identifying a run. Approach 1 then runs on all
    /// checkpoints, and Approaches 2 and 3 on each run's last checkpoint.
    #[arg(long, value_delimiter = ',')]
    run_col: Vec<String>,
    /// Bootstrap replicates (Approach 3 refits and Approach 2 resamples).
    #[arg(long, default_value_t = 400)]
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

/// Chinchilla Table 2 (Hoffmann et al. 2022; 10-90% intervals) and Kaplan et al. 2020.
const PUBLISHED: [Published; 4] = [
    (
        "Chinchilla Approach 1 (published)",
        0.50,
        Some([0.488, 0.502]),
        0.50,
        Some([0.501, 0.512]),
    ),
    (
        "Chinchilla Approach 2 (published)",
        0.49,
        Some([0.462, 0.534]),
        0.51,
        Some([0.483, 0.529]),
    ),
    (
        "Chinchilla Approach 3 (published)",
        0.46,
        Some([0.454, 0.455]),
        0.54,
        Some([0.542, 0.543]),
    ),
    ("Kaplan et al. 2020 (published)", 0.73, None, 0.27, None),
];

/// `scaling compare`.
pub fn cmd_compare(a: CompareArgs, out: &mut String) -> Result<()> {
    let (table, runs) = load_runs(&a.file, &LawForm::Chinchilla, &with_flops(&a.data))?;
    let config = FitConfig::default();
    let mut rows: Vec<serde_json::Value> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut a1 = None;
    let runs = if a.run_col.is_empty() {
        runs
    } else {
        // Approach 1 on every checkpoint.
        let env_args = EnvelopeArgs {
            file: a.file.clone(),
            run_col: a.run_col.clone(),
            params_col: a.data.params_col.clone(),
            tokens_col: a.data.tokens_col.clone(),
            steps_col: None,
            tokens_per_step: None,
            loss_col: a.data.loss_col.clone(),
            min_fraction: 0.0,
            grid: 1500,
            bootstrap: a.bootstrap.min(200),
            seed: a.seed,
            level: a.level,
            by: vec![],
            row_filter: a.data.row_filter.clone(),
            format: Format::Json,
        };
        let mut js = String::new();
        match cmd_envelope(env_args, &mut js) {
            Ok(()) => a1 = serde_json::from_str::<serde_json::Value>(&js).ok(),
            Err(e) => warnings.push(format!("Approach 1 is not available on this data: {e}")),
        }
        // Approaches 2 and 3 on each run's last checkpoint.
        let idx: Vec<usize> = a
            .run_col
            .iter()
            .map(|c| Ok(table.named_column("--run-col", c)?))
            .collect::<Result<_>>()?;
        let mut last: Vec<(String, usize)> = Vec::new();
        for i in 0..runs.len() {
            let row = runs.rows[i] - 1;
            let id = idx
                .iter()
                .map(|&c| table.rows[row][c].trim())
                .collect::<Vec<_>>()
                .join("/");
            match last.iter_mut().find(|(k, _)| *k == id) {
                Some((_, j)) if runs.tokens[i] > runs.tokens[*j] => *j = i,
                Some(_) => {}
                None => last.push((id, i)),
            }
        }
        let keep: Vec<usize> = last.iter().map(|(_, i)| *i).collect();
        let pick = |v: &[f64]| {
            if v.len() == runs.len() {
                keep.iter().map(|&i| v[i]).collect()
            } else {
                vec![]
            }
        };
        scaling::data::Runs {
            params: pick(&runs.params),
            tokens: pick(&runs.tokens),
            flops: pick(&runs.flops),
            loss: pick(&runs.loss),
            rows: keep.iter().map(|&i| runs.rows[i]).collect(),
            ..runs.clone()
        }
    };
    if let Some(v) = &a1 {
        rows.push(serde_json::json!({
            "approach": "Approach 1 (lower envelope, this data)",
            "a": v["params_exponent"], "a_interval": v["params_exponent_interval"],
            "b": v["tokens_exponent"], "b_interval": v["tokens_exponent_interval"],
        }));
    }
    // Approach 3.
    let mut f3 = fit::fit(&runs, &config)?;
    let a3 = f3.implied.as_ref().map(|i| (i.a, i.b));
    let mut iv3 = (None, None);
    if let (Some(_), true) = (a3, a.bootstrap >= 2) {
        let bc = BootstrapConfig {
            replicates: a.bootstrap,
            seed: a.seed,
            clusters: None,
            cluster_column: None,
            level: a.level,
        };
        let b = uncertainty::bootstrap(&runs, &config, &f3, &bc, &|| {})?;
        let (iv, _) = uncertainty::intervals(&f3, &b, &[], a.level);
        iv3 = (iv.get("a").copied(), iv.get("b").copied());
        f3.bootstrap = Some(b);
    }
    if let Some((pa, pb)) = a3 {
        rows.push(serde_json::json!({"approach": "Approach 3 (parametric fit, this data)", "a": pa, "a_interval": iv3.0, "b": pb, "b_interval": iv3.1}));
    } else {
        warnings.push(
            "Approach 3: the fit does not identify every parameter, so it implies no a and b"
                .into(),
        );
    }
    // Approach 2.
    let all: Vec<usize> = (0..runs.len()).collect();
    let grouping = grouping_for(&table, &runs, &all, &a.budget_col, &a.budgets, a.tolerance)?;
    let cfg = IsoflopConfig {
        grouping: grouping.clone(),
        replicates: a.bootstrap,
        seed: a.seed,
        level: a.level,
        keep_flagged: a.keep_flagged,
    };
    let mut a2 = None;
    match methods::isoflop(&runs.params, &runs.tokens, &runs.flops, &runs.loss, &cfg) {
        Ok(r) => {
            rows.push(serde_json::json!({
                "approach": "Approach 2 (IsoFLOP profiles, this data)",
                "a": r.params_exponent, "a_interval": r.params_exponent_interval,
                "b": r.tokens_exponent, "b_interval": r.tokens_exponent_interval,
                "budgets_used": r.budgets.iter().filter(|b| b.used).count(),
            }));
            a2 = Some(r);
        }
        Err(e) => warnings.push(format!("Approach 2 is not available on this data: {e}")),
    }
    // Bias check: Approach 2 on the same design, drawn without noise from the Approach 3 fit.
    let mut bias = serde_json::Value::Null;
    if let (Some(law), Some(_)) = (f3.law(), &a2) {
        let sim: Vec<f64> = (0..runs.len())
            .map(|i| law.predict(runs.params[i], runs.tokens[i], runs.flops[i]))
            .collect();
        let cfg0 = IsoflopConfig {
            replicates: 0,
            ..cfg.clone()
        };
        if let Ok(r0) = methods::isoflop(&runs.params, &runs.tokens, &runs.flops, &sim, &cfg0) {
            let truth = law.params_exponent().unwrap_or(f64::NAN);
            bias = serde_json::json!({
                "law_a": truth,
                "approach2_a_on_simulated": r0.params_exponent,
                "bias_a": r0.params_exponent - truth,
                "law_b": law.tokens_exponent(),
                "approach2_b_on_simulated": r0.tokens_exponent,
                "bias_b": r0.tokens_exponent - law.tokens_exponent().unwrap_or(f64::NAN),
            });
        }
    }
    // Disagreement between any two approaches on this data.
    let ours: Vec<(String, [f64; 2])> = rows
        .iter()
        .filter_map(|r| {
            let iv = r["a_interval"].as_array()?;
            Some((
                r["approach"].as_str()?.to_string(),
                [iv[0].as_f64()?, iv[1].as_f64()?],
            ))
        })
        .collect();
    for x in 0..ours.len() {
        for y in x + 1..ours.len() {
            let ([l1, h1], [l2, h2]) = (ours[x].1, ours[y].1);
            if h1 < l2 || h2 < l1 {
                warnings.push(format!(
                    "{} and {} disagree on a: their intervals [{}, {}] and [{}, {}] do not overlap",
                    ours[x].0,
                    ours[y].0,
                    sig(l1, 3),
                    sig(h1, 3),
                    sig(l2, 3),
                    sig(h2, 3)
                ));
            }
        }
    }
    for (name, pa, ia, pb, ib) in PUBLISHED {
        rows.push(serde_json::json!({"approach": name, "a": pa, "a_interval": ia, "b": pb, "b_interval": ib}));
    }
    match a.format {
        Format::Json => {
            let v = serde_json::json!({
                "approaches": rows,
                "approach2_bias_check": bias,
                "warnings": warnings,
                "level": a.level,
                "bootstrap": a.bootstrap,
                "seed": a.seed,
                "runs": runs.len(),
            });
            out.push_str(&serde_json::to_string_pretty(&v)?);
            out.push('\n');
        }
        Format::Text => {
            let _ = writeln!(
                out,
                "Chinchilla's approaches on {} ({} runs)\n",
                a.file.display(),
                runs.len()
            );
            let pct = (1e6 * 100.0 * a.level).round() / 1e6;
            let _ = writeln!(
                out,
                "  {:<42} {:>7} {:>18} {:>7} {:>18}",
                "approach", "a", "interval", "b", "interval"
            );
            for r in &rows {
                let iv = |k: &str| {
                    r[k].as_array()
                        .map(|v| {
                            format!(
                                "[{}, {}]",
                                sig(v[0].as_f64().unwrap_or(f64::NAN), 3),
                                sig(v[1].as_f64().unwrap_or(f64::NAN), 3)
                            )
                        })
                        .unwrap_or_default()
                };
                let _ = writeln!(
                    out,
                    "  {:<42} {:>7} {:>18} {:>7} {:>18}",
                    r["approach"].as_str().unwrap_or(""),
                    sig(r["a"].as_f64().unwrap_or(f64::NAN), 3),
                    iv("a_interval"),
                    sig(r["b"].as_f64().unwrap_or(f64::NAN), 3),
                    iv("b_interval")
                );
            }
            let _ = writeln!(out, "  (intervals on this data: {pct}% bootstrap; Chinchilla's published ones are 10-90%)");
            if !bias.is_null() {
                let _ = writeln!(
                    out,
                    "\n  Approach 2 bias check: on these runs' design, drawn without noise from the Approach 3 law \
                     (a = {}), Approach 2 reports a = {} (bias {:+.3}); b: {} vs {} (bias {:+.3})",
                    sig(bias["law_a"].as_f64().unwrap_or(f64::NAN), 4),
                    sig(bias["approach2_a_on_simulated"].as_f64().unwrap_or(f64::NAN), 4),
                    bias["bias_a"].as_f64().unwrap_or(f64::NAN),
                    sig(bias["law_b"].as_f64().unwrap_or(f64::NAN), 4),
                    sig(bias["approach2_b_on_simulated"].as_f64().unwrap_or(f64::NAN), 4),
                    bias["bias_b"].as_f64().unwrap_or(f64::NAN)
                );
            }
            for w in &warnings {
                let _ = writeln!(out, "  WARNING: {w}");
            }
        }
    }
    Ok(())
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

/// `scaling envelope`.
pub fn cmd_envelope(a: EnvelopeArgs, out: &mut String) -> Result<()> {
    use scaling::data::{find_column, ColumnOverrides, Role};
    scaling::limits::check("envelope grid points", a.grid, scaling::limits::MAX_GRID)?;
    if !(a.level > 0.0 && a.level < 1.0) {
        return Err(usage(format!(
            "--level must be between 0 and 1, got {}",
            a.level
        )));
    }
    if !(0.0..1.0).contains(&a.min_fraction) {
        return Err(usage(format!(
            "--min-fraction must be in [0, 1), got {}",
            a.min_fraction
        )));
    }
    let table = RunTable::read(&a.file)?;
    let ov = ColumnOverrides {
        params: a.params_col.clone(),
        tokens: a.tokens_col.clone(),
        flops: None,
        loss: a.loss_col.clone(),
    };
    let nc = find_column(&table, Role::Params, &ov)?.ok_or_else(|| {
        usage(format!(
            "{}: no column for the model size N (curves need a size); name it with --params-col",
            table.path
        ))
    })?;
    let lc = find_column(&table, Role::Loss, &ov)?.ok_or_else(|| {
        usage(format!(
            "{}: no loss column; name it with --loss-col",
            table.path
        ))
    })?;
    let dsrc: (usize, f64) = match (&a.steps_col, a.tokens_per_step) {
        (Some(s), Some(t)) => (table.named_column("--steps-col", s)?, t),
        (Some(_), None) => return Err(usage("--steps-col needs --tokens-per-step")),
        (None, _) => (
            find_column(&table, Role::Tokens, &ov)?
                .ok_or_else(|| usage(format!("{}: no tokens column; name it with --tokens-col (or --steps-col and --tokens-per-step)", table.path)))?,
            1.0,
        ),
    };
    let run_idx: Vec<usize> = a
        .run_col
        .iter()
        .map(|c| Ok(table.named_column("--run-col", c)?))
        .collect::<Result<_>>()?;
    let selected = rows_where(&table, &a.row_filter, &ov)?;
    let mut outcomes: Vec<Outcome> = Vec::new();
    for g in group_rows(&table, "--by", &a.by, &selected)? {
        let one = || -> Result<(serde_json::Value, String)> {
            let mut curves: Vec<RawCurve> = Vec::new();
            let mut warnings = Vec::new();
            for &r in &g.rows {
                let cell = |c: usize| table.positive(r, c);
                let (n, d, l) = (cell(nc)?, cell(dsrc.0)? * dsrc.1, cell(lc)?);
                let id = run_idx
                    .iter()
                    .map(|&i| table.rows[r][i].trim())
                    .collect::<Vec<_>>()
                    .join("/");
                match curves.iter_mut().find(|c| c.0 == id) {
                    Some(c) => {
                        if c.1 != n {
                            return Err(usage(format!(
                            "{}: run {id:?} has two sizes ({} and {n}): add the column that tells them apart to --run-col",
                            table.location(r),
                            c.1
                        )));
                        }
                        if let Some(last) = c.2.last() {
                            if d <= last.0
                                && !warnings
                                    .iter()
                                    .any(|w: &String| w.contains(&format!("run {id:?}")))
                            {
                                warnings.push(format!(
                                "run {id:?}: tokens do not increase in file order at row {} ({d} after {}); checkpoints were sorted, but this often means --run-col misses a column",
                                r + 1,
                                last.0
                            ));
                            }
                        }
                        c.2.push((d, l, r));
                    }
                    None => curves.push((id, n, vec![(d, l, r)])),
                }
            }
            let curves: Vec<methods::envelope::Curve> = curves
                .into_iter()
                .map(|(run, n, mut pts)| {
                    pts.sort_by(|x, y| x.0.total_cmp(&y.0));
                    pts.dedup_by(|x, y| x.0 == y.0);
                    let dmax = pts.last().map(|p| p.0).unwrap_or(0.0);
                    methods::envelope::Curve {
                        run,
                        params: n,
                        points: pts
                            .into_iter()
                            .filter(|p| p.0 >= a.min_fraction * dmax)
                            .map(|p| (p.0, p.1))
                            .collect(),
                    }
                })
                .collect();
            let r = methods::envelope(&curves, a.grid, 6.0, a.bootstrap, a.seed, a.level)
                .map_err(|e| anyhow::Error::new(e).context(a.file.display().to_string()))?;
            let mut v = serde_json::to_value(&r)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("warnings".into(), warnings.clone().into());
                o.insert("min_fraction".into(), a.min_fraction.into());
            }
            let out = &mut String::new();
            {
                {
                    let pct = (1e6 * 100.0 * a.level).round() / 1e6;
                    let iv = |v: Option<[f64; 2]>| {
                        v.map(|[l, h]| format!("[{}, {}]", sig(l, 3), sig(h, 3)))
                            .unwrap_or_else(|| "n/a".into())
                    };
                    let _ = writeln!(
                        out,
                        "Approach 1 (lower envelope of loss curves, Hoffmann et al. 2022) on {}{}",
                        a.file.display(),
                        if g.key.is_empty() {
                            String::new()
                        } else {
                            format!(" [{}]", g.label())
                        }
                    );
                    let _ = writeln!(out, "  {} runs; {} grid budgets on the envelope (budgets won by the smallest or largest model left out)", r.runs, r.grid_points);
                    let _ = writeln!(
                        out,
                        "  N_opt ~ C^a: a = {} ({pct}% interval {}, runs resampled {} times)",
                        sig(r.params_exponent, 4),
                        iv(r.params_exponent_interval),
                        r.replicates
                    );
                    let _ = writeln!(
                        out,
                        "  D_opt ~ C^b: b = {} ({pct}% interval {})",
                        sig(r.tokens_exponent, 4),
                        iv(r.tokens_exponent_interval)
                    );
                    let _ = writeln!(
                    out,
                    "  envelope by model size, smallest budget first (runs that win part of it):"
                );
                    let mut merged: Vec<(f64, [f64; 2], Vec<String>)> = Vec::new();
                    for s in &r.segments {
                        match merged.last_mut() {
                            Some(m) if m.0 == s.params => {
                                m.1[1] = s.flops[1];
                                if !m.2.contains(&s.run) {
                                    m.2.push(s.run.clone());
                                }
                            }
                            _ => merged.push((s.params, s.flops, vec![s.run.clone()])),
                        }
                    }
                    for (n, c, runs) in &merged {
                        let _ = writeln!(
                            out,
                            "    {:>10.3e} to {:>10.3e} FLOPs: N = {} ({})",
                            c[0],
                            c[1],
                            human(*n),
                            if runs.len() > 3 {
                                format!("{} and {} more", runs[..2].join(", "), runs.len() - 2)
                            } else {
                                runs.join(", ")
                            }
                        );
                    }
                    for w in warnings.iter().take(3) {
                        let _ = writeln!(out, "  WARNING: {w}");
                    }
                    if warnings.len() > 3 {
                        let _ = writeln!(
                            out,
                            "  WARNING: ... and {} more runs like these (see --format json)",
                            warnings.len() - 3
                        );
                    }
                    out.push('\n');
                }
            }
            Ok((v, std::mem::take(out)))
        };
        let r = one();
        outcomes.push((g, r));
    }
    finish_groups(outcomes, !a.by.is_empty(), a.format, out)
}
