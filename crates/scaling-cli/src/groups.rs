//! `scaling groups`: separate and joint fits across groups of runs, the test of shared
//! parameters, paired-bootstrap differences and compute-equivalent gains.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use scaling::data::RunTable;
use scaling::groups::{self, GroupsNames};
use scaling::report::groups as render;

use crate::{load_request, progress_bar, usage, write_new, DataArgs, Format};

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct GroupsArgs {
    /// Run tables (CSV or JSON). Several files are stacked into one table with a column
    /// `dataset` holding each file's stem.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The column that defines the groups (default `dataset` when several files are given).
    #[arg(long, value_name = "COL")]
    by: Option<String>,
    /// Functional form: chinchilla, power, kaplan, ... or a formula (as `scaling fit`).
    #[arg(long, default_value = "chinchilla", value_name = "NAME|FORMULA")]
    law: String,
    /// Parameters shared by every group in the joint fit, e.g. `alpha,beta`; the others are
    /// fitted per group. Also runs the test of shared parameters.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    shared: Vec<String>,
    /// Budgets (FLOPs) for the loss, N_opt, differences and compute-equivalent gains.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "C",
        default_value = "1e21,1e23"
    )]
    budgets: Vec<f64>,
    /// Paired bootstrap with this many replicates (every group resampled on the same
    /// budgets) for intervals on the differences and gains.
    #[arg(long, value_name = "R")]
    bootstrap: Option<usize>,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Interval level.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Pair runs across groups by this column's value instead of by budget.
    #[arg(long, value_name = "COL")]
    pair_col: Option<String>,
    /// Several loss columns: one result per column, same runs and same replicate draws.
    #[arg(long, value_delimiter = ',', value_name = "COLS")]
    targets: Vec<String>,
    /// Write the figure (SVG) of the groups' runs and frontiers to this file.
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Overwrite the --plot file if it exists.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    data: DataArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// No progress bar.
    #[arg(long, short = 'q')]
    quiet: bool,
    #[command(flatten)]
    settings: crate::FitSettings,
}

/// `scaling groups`.
pub fn cmd_groups(a: GroupsArgs, out: &mut String) -> Result<()> {
    let names = GroupsNames {
        fit: a.settings.names(&a.law),
        by: a.by.clone().unwrap_or_default(),
        shared: a.shared.clone(),
        budgets: a.budgets.clone(),
        replicates: a.bootstrap,
        seed: a.seed,
        level: a.level,
        pair_col: a.pair_col.clone(),
    };
    if let Some(p) = &a.plot {
        crate::check_new(p, a.force, "--plot")?;
    }
    let mut read = Vec::new();
    for f in &a.files {
        read.push(RunTable::read(f)?);
    }
    let paths: Vec<String> = read.iter().map(|t| t.path.clone()).collect();
    let mut tables: Vec<(String, RunTable)> =
        groups::file_labels(&paths).into_iter().zip(read).collect();
    let mut table = if tables.len() == 1 {
        tables.pop().map(|t| t.1).expect("one table")
    } else {
        groups::stack_tables(&tables, "dataset")?
    };
    let load = load_request(&a.data);
    scaling::accounting::prepare_table(&mut table, &load)?;
    let mut names = names;
    names.by = match (&a.by, a.files.len()) {
        (Some(b), _) => b.clone(),
        (None, n) if n > 1 => "dataset".into(),
        (None, _) => {
            return Err(usage(
                "one file: name the column that defines the groups with --by COL",
            ))
        }
    };
    let headers: Vec<&str> = table.columns.iter().map(|c| c.as_str()).collect();
    let req = names.request(&headers)?;
    let per = a.bootstrap.unwrap_or(0) as u64;
    let bar = progress_bar(per * a.targets.len().max(1) as u64, a.quiet);
    let results = groups::fit_groups_targets(&table, &load, &req, &a.targets, &|| bar.inc(1))?;
    bar.finish_and_clear();
    if let Some(p) = &a.plot {
        write_new(p, render::groups_svg(&results[0].1), a.force, "--plot")?;
    }
    match a.format {
        Format::Json => {
            let v = if a.targets.is_empty() {
                serde_json::to_value(&results[0].1)?
            } else {
                serde_json::Value::Array(
                    results
                        .iter()
                        .map(|(t, r)| serde_json::json!({"target": t, "result": r}))
                        .collect(),
                )
            };
            out.push_str(&(serde_json::to_string_pretty(&v)? + "\n"));
        }
        Format::Text => {
            for (t, r) in &results {
                if let Some(t) = t {
                    out.push_str(&format!("== target {t:?} ==\n"));
                }
                out.push_str(&render::groups_text(r));
            }
            if let Some(p) = &a.plot {
                out.push_str(&format!("plot: {}\n", p.display()));
            }
        }
    }
    Ok(())
}
