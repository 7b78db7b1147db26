//! `scaling plot` and `scaling report`: pictures and a self-contained HTML page of the
//! library's analysis (`methods::overview`), from a run table or a saved fit.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use scaling::data::Group;
use scaling::law::LawForm;
use scaling::methods::{self, GroupedOverview, OverviewRequest};
use scaling::report;
use scaling::report::figure::{self, PlotKind};

use crate::{check_new, finish_groups, read_fit, usage, write_new, DataArgs, Format};

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum Kind {
    /// Loss against compute, with the compute-optimal frontier and its band.
    LossCompute,
    /// IsoFLOP profiles: runs per budget, parabolas, vertices.
    Isoflop,
    /// N*(C) and D*(C) with Chinchilla's and Kaplan's published laws.
    Frontier,
    /// Residuals against prediction, N and D.
    Residuals,
    /// Bootstrap distributions of the exponents.
    Bootstrap,
    /// Learning curves: loss against tokens per model size, with the fitted law.
    Curves,
}

// What plot and report share: the runs (a table or a saved fit), the analysis, grouping.
// (Not a doc comment: clap would make it the about text of the commands that flatten
// this, because their arguments are built late; see `Command`.)
#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct Source {
    /// Run table (optional with --fit, whose runs are then used).
    file: Option<PathBuf>,
    /// A saved fit (`scaling fit --bootstrap R --out FIT`): drawn as saved, with its
    /// replicates, instead of fitting and bootstrapping again.
    #[arg(long, value_name = "FIT")]
    fit: Option<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// IsoFLOP budgets to snap runs to (Approach 2).
    #[arg(long, value_delimiter = ',', value_parser = crate::quantity)]
    budgets: Vec<f64>,
    /// One analysis per combination of these columns' values (groups in the order they first
    /// appear; a group that fails is reported in its place).
    #[arg(long, value_delimiter = ',', value_name = "COL")]
    by: Vec<String>,
}

impl Source {
    fn name(&self) -> String {
        match (&self.file, &self.fit) {
            (Some(f), _) | (None, Some(f)) => f.display().to_string(),
            (None, None) => String::new(),
        }
    }
}

/// Every group's analysis (one group without --by, or with a saved fit), in first-appearance
/// order, and with `shared` and one --by column, the groups compared
/// ([`methods::overview_groups`]).
fn analyse(
    s: &Source,
    reps: usize,
    isoflop: bool,
    checks: bool,
    shared: &[String],
) -> Result<GroupedOverview> {
    let req = OverviewRequest {
        bootstrap: reps,
        seed: s.seed,
        budgets: s.budgets.clone(),
        isoflop,
        checks,
    };
    let saved = s.fit.as_deref().map(read_fit).transpose()?;
    // A saved fit is one group: its own runs, or those of the table.
    let one = |runs: &scaling::data::Runs, saved| GroupedOverview {
        sections: vec![(
            Group {
                key: vec![],
                rows: vec![],
            },
            methods::overview(runs, Some(saved), &req),
        )],
        comparison: None,
    };
    match (&s.file, saved) {
        (None, None) => Err(usage("give a run table, or a saved fit with --fit")),
        (None, Some(_)) if !s.by.is_empty() => {
            Err(usage("--by needs the run table (a saved fit is one group)"))
        }
        (Some(_), Some(_)) if !s.by.is_empty() => Err(usage(
            "--fit is one group's fit: do not combine it with --by",
        )),
        (None, Some(f)) => Ok(one(&f.runs(), f)),
        (Some(file), Some(f)) => {
            let table = crate::read_table(file, &s.data)?;
            let runs = crate::runs_of(&table, &LawForm::Chinchilla, &flops(&s.data), None)?;
            Ok(one(&runs, f))
        }
        (Some(file), None) => {
            let data = flops(&s.data);
            let table = crate::read_table(file, &data)?;
            crate::row_filter(&data)?;
            let load = crate::load_request(&data);
            Ok(methods::overview_groups(
                &table,
                &load,
                &s.by,
                shared,
                &req,
                &|| {},
            )?)
        }
    }
}

/// The data flags with C needed for every run.
fn flops(d: &DataArgs) -> DataArgs {
    DataArgs {
        need_flops: true,
        ..d.clone()
    }
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct PlotArgs {
    /// What to draw.
    #[arg(value_enum)]
    kind: Kind,
    #[command(flatten)]
    source: Source,
    /// Output file: PNG when its name ends in .png (drawn with the embedded DejaVu Sans, no
    /// system fonts needed), SVG otherwise. With --by, one file per group, the group's values
    /// inserted before the extension.
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// Overwrite it.
    #[arg(long)]
    force: bool,
    /// Pixels per SVG unit in PNG output (2 gives a 1120x800 loss-compute image).
    #[arg(long, default_value_t = 2.0)]
    scale: f64,
    /// Bootstrap replicates for bands and distributions (without --fit).
    #[arg(long, default_value_t = 400)]
    bootstrap: usize,
}

fn library_kind(kind: Kind) -> PlotKind {
    match kind {
        Kind::LossCompute => PlotKind::LossCompute,
        Kind::Isoflop => PlotKind::Isoflop,
        Kind::Frontier => PlotKind::Frontier,
        Kind::Residuals => PlotKind::Residuals,
        Kind::Bootstrap => PlotKind::Bootstrap,
        Kind::Curves => PlotKind::Curves,
    }
}

/// `scaling plot`.
pub fn cmd_plot(a: PlotArgs, out: &mut String) -> Result<()> {
    // Refused before any work: a name ending in .pdf (or anything but .svg and .png) would
    // otherwise get SVG bytes under a name that promises another format.
    let ext = a
        .out
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let png = match ext.as_deref() {
        Some("png") => true,
        Some("svg") => false,
        _ => {
            return Err(usage(format!(
                "--out {}: plots are written as .svg or .png; name the file with one of those extensions",
                a.out.display()
            )))
        }
    };
    if a.source.by.is_empty() {
        check_new(&a.out, a.force, "--out")?;
    }
    scaling::limits::check(
        "bootstrap replicates",
        a.bootstrap,
        scaling::limits::MAX_REPLICATES,
    )?;
    // Only the kinds that draw them pay for the bootstrap and the IsoFLOP analysis.
    let kind = library_kind(a.kind);
    let reps = if kind.needs_bootstrap() {
        a.bootstrap
    } else {
        0
    };
    let outcomes: Vec<(Group, Result<String>)> =
        analyse(&a.source, reps, kind.needs_isoflop(), false, &[])?
            .sections
            .into_iter()
            .map(|(g, r)| {
                let path = report::grouped::group_path(&a.out, &g);
                let one = r.map_err(anyhow::Error::new).and_then(|o| {
                    let svg = figure::plot(kind, &o)?;
                    let bytes = if png {
                        report::png::svg_to_png(&svg, a.scale)?
                    } else {
                        svg.into_bytes()
                    };
                    write_new(&path, &bytes, a.force, "--out")?;
                    let label = if g.key.is_empty() {
                        String::new()
                    } else {
                        format!("{}: ", g.label())
                    };
                    Ok(format!(
                        "{label}wrote {} ({} bytes)\n",
                        path.display(),
                        bytes.len()
                    ))
                });
                (g, one)
            })
            .collect();
    let grouped = !a.source.by.is_empty();
    finish_groups(
        outcomes,
        grouped,
        Format::Text,
        &|t: &String, _| t.clone(),
        out,
    )
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct ReportArgs {
    #[command(flatten)]
    source: Source,
    /// Output HTML file.
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// Overwrite it.
    #[arg(long)]
    force: bool,
    /// Bootstrap replicates (without --fit); with --by, also of the groups' paired bootstrap.
    #[arg(long, default_value_t = 1000)]
    bootstrap: usize,
    /// With --by COL: the parameters the groups' joint fit shares, tested against separate
    /// fits in the report's "Groups compared" section (`none`: no joint fit).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "NAMES",
        default_value = "alpha,beta"
    )]
    shared: Vec<String>,
}

/// The commands that reproduce this report and its fit, rendered from the same arguments that
/// ran (every data flag included), quoted for a POSIX shell.
fn reproduce(a: &ReportArgs) -> Vec<String> {
    let s = &a.source;
    let w = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let file = s.file.as_ref().map(|f| f.display().to_string());
    let (n, seed) = (a.bootstrap.to_string(), s.seed.to_string());
    let mut words = w(&["scaling", "report"]);
    words.extend(file.clone());
    if let Some(fit) = &s.fit {
        words.extend(["--fit".into(), fit.display().to_string()]);
    }
    let out = a.out.display().to_string();
    words.extend(w(&["-o", &out, "--bootstrap", &n, "--seed", &seed]));
    words.extend(s.data.flags());
    if !s.budgets.is_empty() {
        let b: Vec<String> = s.budgets.iter().map(|b| format!("{b:e}")).collect();
        words.extend(["--budgets".into(), b.join(",")]);
    }
    if !s.by.is_empty() {
        words.extend(["--by".into(), s.by.join(",")]);
        words.extend(["--shared".into(), a.shared.join(",")]);
    }
    let mut lines = vec![report::shell::command_line(&words)];
    if let (Some(file), None, true) = (file, &s.fit, s.by.is_empty()) {
        let mut fit = w(&["scaling", "fit", &file]);
        fit.extend(s.data.flags());
        if a.bootstrap >= 2 {
            fit.extend(w(&["--bootstrap", &n, "--seed", &seed]));
        }
        fit.extend(w(&["--format", "json"]));
        lines.push(report::shell::command_line(&fit));
    }
    lines
}

/// `scaling report`.
pub fn cmd_report(a: ReportArgs, out: &mut String) -> Result<()> {
    check_new(&a.out, a.force, "--out")?;
    scaling::limits::check(
        "bootstrap replicates",
        a.bootstrap,
        scaling::limits::MAX_REPLICATES,
    )?;
    let shared: &[String] = if a.shared == ["none"] { &[] } else { &a.shared };
    let g = analyse(&a.source, a.bootstrap, true, true, shared)?;
    let name = a.source.name();
    let h = if a.source.by.is_empty() {
        let (_, one) = g
            .sections
            .into_iter()
            .next()
            .ok_or_else(|| usage("no rows to analyse"))?;
        report::html::html_report(&one?, &name, &reproduce(&a))
    } else {
        if g.sections.iter().all(|(_, r)| r.is_err()) {
            let failed = g
                .sections
                .into_iter()
                .map(|(g, r)| (g, r.map(|_| ()).map_err(anyhow::Error::new)));
            return finish_groups(
                failed.collect(),
                true,
                Format::Text,
                &|_, _| String::new(),
                out,
            );
        }
        let error = |e: &scaling::Error| e.render(&crate::flag);
        report::html::html_grouped(&g, &error, &name, &reproduce(&a))
    };
    write_new(&a.out, &h, a.force, "--out")?;
    let _ = writeln!(out, "wrote {} ({} bytes)", a.out.display(), h.len());
    Ok(())
}
