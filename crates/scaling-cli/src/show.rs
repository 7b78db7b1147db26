//! `scaling plot` and `scaling report`: pictures and a self-contained HTML page.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use scaling::fit::{self, FitConfig};
use scaling::law::LawForm;
use scaling::methods::{self, Grouping, IsoflopConfig};
use scaling::report::{self, plots, svg::escape};
use scaling::uncertainty::{self, BootstrapConfig};

use crate::{check_new, load_runs, usage, write_new, DataArgs};

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

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct PlotArgs {
    /// What to draw.
    #[arg(value_enum)]
    kind: Kind,
    /// Run table.
    file: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Output file: PNG when its name ends in .png (drawn with the embedded DejaVu Sans, no
    /// system fonts needed), SVG otherwise.
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// Overwrite it.
    #[arg(long)]
    force: bool,
    /// Pixels per SVG unit in PNG output (2 gives a 1120x800 loss-compute image).
    #[arg(long, default_value_t = 2.0)]
    scale: f64,
    /// Bootstrap replicates for bands and distributions.
    #[arg(long, default_value_t = 400)]
    bootstrap: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// IsoFLOP budgets to snap runs to (isoflop, frontier).
    #[arg(long, value_delimiter = ',', value_parser = crate::quantity)]
    budgets: Vec<f64>,
}

struct Analysis {
    fit: fit::Fit,
    runs: scaling::data::Runs,
    iso: Option<methods::IsoflopResult>,
}

fn analyse(
    file: &std::path::Path,
    data: &DataArgs,
    reps: usize,
    seed: u64,
    budgets: &[f64],
    want_iso: bool,
) -> Result<Analysis> {
    let mut d = data.clone();
    d.need_flops = true;
    let (_, runs) = load_runs(file, &LawForm::Chinchilla, &d)?;
    let config = FitConfig::default();
    let mut f = fit::fit(&runs, &config)?;
    if reps >= 2 && f.law().is_some() {
        let bc = BootstrapConfig {
            replicates: reps,
            seed,
            clusters: None,
            cluster_column: None,
            level: 0.95,
        };
        let b = uncertainty::bootstrap(&runs, &config, &f, &bc, &|| {})?;
        let budgets: Vec<f64> = f
            .data_range
            .flops
            .map(|r| vec![r[1], 1e24])
            .unwrap_or_else(|| vec![1e24]);
        uncertainty::attach(&mut f, b, &budgets, 0.95);
    }
    if !want_iso {
        return Ok(Analysis {
            fit: f,
            runs,
            iso: None,
        });
    }
    let grouping = if budgets.is_empty() {
        Grouping::Tolerance(0.05)
    } else {
        Grouping::Listed(budgets.to_vec())
    };
    let iso = methods::isoflop(
        &runs.params,
        &runs.tokens,
        &runs.flops,
        &runs.loss,
        &IsoflopConfig {
            grouping,
            replicates: 200,
            seed,
            level: 0.95,
            keep_flagged: false,
        },
    )
    .ok();
    Ok(Analysis { fit: f, runs, iso })
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
    check_new(&a.out, a.force, "--out")?;
    scaling::limits::check(
        "bootstrap replicates",
        a.bootstrap,
        scaling::limits::MAX_REPLICATES,
    )?;
    // Only the kinds that draw them pay for the bootstrap and the IsoFLOP analysis.
    let reps = match a.kind {
        Kind::LossCompute | Kind::Bootstrap => a.bootstrap,
        Kind::Isoflop | Kind::Frontier | Kind::Residuals | Kind::Curves => 0,
    };
    let want_iso = matches!(a.kind, Kind::Isoflop | Kind::Frontier);
    let an = analyse(&a.file, &a.data, reps, a.seed, &a.budgets, want_iso)?;
    let svg = match a.kind {
        Kind::LossCompute => plots::loss_compute(&an.fit),
        Kind::Residuals => plots::residuals(&an.fit),
        Kind::Bootstrap => plots::bootstrap(&an.fit).ok_or_else(|| {
            usage("the bootstrap plot needs --bootstrap R with R >= 2 and an identified fit")
        })?,
        Kind::Curves => plots::curves(&an.fit)
            .ok_or_else(|| usage("learning curves need N and D for every run"))?,
        Kind::Frontier => plots::frontier(&an.fit, an.iso.as_ref())
            .ok_or_else(|| usage("the fit identifies no compute-optimal frontier"))?,
        Kind::Isoflop => {
            let iso = an.iso.as_ref().ok_or_else(|| usage("no IsoFLOP budgets found: give --budgets (e.g. 6e18,1e19,...) matching the runs' FLOPs"))?;
            plots::isoflop(
                iso,
                &an.runs.params,
                &an.runs.flops,
                &an.runs.loss,
                &plots::loss_label(&an.runs.sources),
            )
        }
    };
    let bytes = if png {
        report::png::svg_to_png(&svg, a.scale)?
    } else {
        svg.into_bytes()
    };
    write_new(&a.out, &bytes, a.force, "--out")?;
    let _ = writeln!(out, "wrote {} ({} bytes)", a.out.display(), bytes.len());
    Ok(())
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct ReportArgs {
    /// Run table.
    file: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Output HTML file.
    #[arg(long, short = 'o')]
    out: PathBuf,
    /// Overwrite it.
    #[arg(long)]
    force: bool,
    /// Bootstrap replicates.
    #[arg(long, default_value_t = 1000)]
    bootstrap: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// IsoFLOP budgets for Approach 2.
    #[arg(long, value_delimiter = ',', value_parser = crate::quantity)]
    budgets: Vec<f64>,
}

fn inline(svg: &str) -> String {
    svg.replacen(r#" xmlns="http://www.w3.org/2000/svg""#, "", 1)
}

/// The commands that reproduce this report and its fit, rendered from the same arguments that
/// ran (every data flag included), quoted for a POSIX shell.
fn reproduce(a: &ReportArgs) -> (String, String) {
    let file = a.file.display().to_string();
    let mut report = vec![
        "scaling".to_string(),
        "report".into(),
        file.clone(),
        "-o".into(),
        a.out.display().to_string(),
        "--bootstrap".into(),
        a.bootstrap.to_string(),
        "--seed".into(),
        a.seed.to_string(),
    ];
    report.extend(crate::data_flags(&a.data));
    if !a.budgets.is_empty() {
        report.push("--budgets".into());
        report.push(
            a.budgets
                .iter()
                .map(|b| format!("{b:e}"))
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    let mut fit = vec!["scaling".to_string(), "fit".into(), file];
    fit.extend(crate::data_flags(&a.data));
    if a.bootstrap >= 2 {
        fit.extend([
            "--bootstrap".into(),
            a.bootstrap.to_string(),
            "--seed".into(),
            a.seed.to_string(),
        ]);
    }
    fit.extend(["--format".into(), "json".into()]);
    (crate::command_line(&report), crate::command_line(&fit))
}

/// `scaling report`.
pub fn cmd_report(a: ReportArgs, out: &mut String) -> Result<()> {
    check_new(&a.out, a.force, "--out")?;
    scaling::limits::check(
        "bootstrap replicates",
        a.bootstrap,
        scaling::limits::MAX_REPLICATES,
    )?;
    let an = analyse(&a.file, &a.data, a.bootstrap, a.seed, &a.budgets, true)?;
    let f = &an.fit;
    let mut h = String::new();
    h.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>scaling report</title><style>");
    h.push_str("body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;max-width:1180px;margin:2em auto;color:#222}pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#eee}figure{margin:1em 0}svg{max-width:100%;height:auto}");
    h.push_str("</style></head><body>");
    let _ = write!(
        h,
        "<h1>Scaling-law report: {}</h1>",
        escape(&a.file.display().to_string())
    );
    let _ = write!(
        h,
        "<h2>Data</h2><p>{} runs used of {} rows; {} excluded.</p>",
        f.runs.used, f.runs.rows_in_file, f.runs.excluded_count
    );
    let _ = write!(
        h,
        "<h2>Fit (Approach 3) with {} bootstrap replicates</h2><pre>{}</pre>",
        a.bootstrap,
        escape(&report::fit_text(f))
    );
    h.push_str("<h2>Chinchilla's approaches</h2><table><tr><th>approach</th><th>a</th><th>a interval</th><th>b</th><th>b interval</th></tr>");
    let iv = |v: Option<[f64; 2]>| {
        v.map(|[l, h]| format!("[{}, {}]", report::sig(l, 3), report::sig(h, 3)))
            .unwrap_or_default()
    };
    if let Some(im) = &f.implied {
        let g = |k: &str| f.intervals.as_ref().and_then(|m| m.get(k).copied());
        let _ = write!(
            h,
            "<tr><td>Approach 3 (this data)</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            report::sig(im.a, 3),
            iv(g("a")),
            report::sig(im.b, 3),
            iv(g("b"))
        );
    }
    if let Some(r) = &an.iso {
        let _ = write!(
            h,
            "<tr><td>Approach 2 (this data, {} budgets)</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.budgets.iter().filter(|b| b.used).count(),
            report::sig(r.params_exponent, 3),
            iv(r.params_exponent_interval),
            report::sig(r.tokens_exponent, 3),
            iv(r.tokens_exponent_interval)
        );
    }
    h.push_str("<tr><td>Chinchilla Approach 2 (published, 10-90%)</td><td>0.49</td><td>[0.462, 0.534]</td><td>0.51</td><td>[0.483, 0.529]</td></tr><tr><td>Chinchilla Approach 3 (published)</td><td>0.46</td><td>[0.454, 0.455]</td><td>0.54</td><td>[0.542, 0.543]</td></tr><tr><td>Kaplan et al. 2020</td><td>0.73</td><td></td><td>0.27</td><td></td></tr></table>");
    if let Some(law) = f.law() {
        if f.implied.is_some() {
            let k = f.conventions.flops_per_param_token;
            h.push_str("<h2>Compute-optimal allocation</h2><table><tr><th>C (FLOPs)</th><th>N*</th><th>D*</th><th>tokens/param</th><th>loss</th><th>N* 95% interval</th></tr>");
            for e in 19..=26 {
                let c = 10f64.powi(e);
                if let Ok(al) = scaling::allocate::optimal(&law, c, k, None) {
                    let niv = f.bootstrap.as_ref().map(|b| {
                        let mut v: Vec<f64> = b
                            .samples
                            .iter()
                            .zip(b.usable())
                            .filter(|(_, u)| *u)
                            .filter_map(|(s, _)| {
                                scaling::law::Law {
                                    form: law.form.clone(),
                                    params: s.clone(),
                                }
                                .optimum(c, k)
                                .map(|o| o.params)
                            })
                            .collect();
                        v.sort_by(|x, y| x.total_cmp(y));
                        format!(
                            "[{}, {}]",
                            report::human(uncertainty::quantile_sorted(&v, 0.025)),
                            report::human(uncertainty::quantile_sorted(&v, 0.975))
                        )
                    });
                    let _ = write!(
                        h,
                        "<tr><td>1e{e}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        report::human(al.params),
                        report::human(al.tokens),
                        report::sig(al.tokens_per_param, 3),
                        al.loss.map(|l| report::sig(l, 4)).unwrap_or_default(),
                        niv.unwrap_or_default()
                    );
                }
            }
            h.push_str("</table>");
        }
    }
    h.push_str("<h2>Plots</h2>");
    let mut figs: Vec<(&str, String)> = vec![("Loss against compute", plots::loss_compute(f))];
    if let Some(s) = plots::frontier(f, an.iso.as_ref()) {
        figs.push(("Compute-optimal frontier", s));
    }
    if let Some(r) = &an.iso {
        figs.push((
            "IsoFLOP profiles",
            plots::isoflop(
                r,
                &an.runs.params,
                &an.runs.flops,
                &an.runs.loss,
                &plots::loss_label(&an.runs.sources),
            ),
        ));
    }
    if let Some(s) = plots::curves(f) {
        figs.push(("Learning curves", s));
    }
    figs.push(("Residuals", plots::residuals(f)));
    if let Some(s) = plots::bootstrap(f) {
        figs.push(("Bootstrap distributions", s));
    }
    for (title, s) in figs {
        let _ = write!(
            h,
            "<figure><figcaption>{}</figcaption>{}</figure>",
            escape(title),
            inline(&s)
        );
    }
    let (report_cmd, fit_cmd) = reproduce(&a);
    let _ = write!(
        h,
        "<h2>Reproduce</h2><pre>{}\n{}</pre>",
        escape(&report_cmd),
        escape(&fit_cmd)
    );
    h.push_str("</body></html>\n");
    write_new(&a.out, &h, a.force, "--out")?;
    let _ = writeln!(out, "wrote {} ({} bytes)", a.out.display(), h.len());
    Ok(())
}
