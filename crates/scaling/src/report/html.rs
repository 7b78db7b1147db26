//! The self-contained HTML report: data, fit, intervals, approaches, allocation and plots, as a
//! pure function of an [`Overview`].

use std::fmt::Write as _;

use crate::methods::Overview;

use super::svg::escape;
use super::{human, plots, sig};

fn inline(svg: &str) -> String {
    svg.replacen(r#" xmlns="http://www.w3.org/2000/svg""#, "", 1)
}

/// One HTML page (no scripts, no external requests) for the analysis `o` of the runs in
/// `source`: the data used, the fit's text report, Chinchilla's approaches on this data beside
/// the published ones (Hoffmann et al. 2022, Tables 2 and A3; Kaplan et al. 2020), the
/// compute-optimal allocation at 1e19..1e26 FLOPs with N*'s 95% interval, the plots (thinned
/// beyond [`super::svg::MAX_DRAWN_POINTS`] points per panel, as their titles say), and the
/// `reproduce` lines (commands that give the same page, written by the front end).
///
/// # Examples
/// ```
/// use scaling::methods::{overview, OverviewRequest};
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let o = overview(&runs, None, &OverviewRequest { bootstrap: 0, ..Default::default() }).unwrap();
/// let page = scaling::report::html::html_report(&o, "synthetic", &["scaling report runs.csv".into()]);
/// assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<h2>Reproduce</h2>"));
/// assert!(!page.contains("<script"));
/// ```
pub fn html_report(o: &Overview, source: &str, reproduce: &[String]) -> String {
    let mut h = head(source);
    body(&mut h, o, "h2");
    tail(&mut h, reproduce);
    h
}

/// One page for an analysis per group (groups in the order given, which is the order they
/// first appear in the table): each group's section as [`html_report`] draws it, or the error
/// that stopped that group in its place.
///
/// # Examples
/// ```
/// use scaling::methods::{overview, OverviewRequest};
/// use scaling::report::html::html_grouped;
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let o = overview(&runs, None, &OverviewRequest { bootstrap: 0, ..Default::default() }).unwrap();
/// use scaling::data::Group;
/// let group = |v: &str| Group { key: vec![("set".into(), v.into())], rows: vec![] };
/// let g = scaling::methods::GroupedOverview {
///     sections: vec![
///         (group("a"), Ok(o)),
///         (group("b"), Err(scaling::Error::InsufficientData("2 runs".into()))),
///     ],
///     comparison: None,
/// };
/// let page = html_grouped(&g, &|e| e.to_string(), "runs.csv", &[]);
/// assert!(page.find("set=a").unwrap() < page.find("set=b").unwrap());
/// assert!(page.contains("2 runs"));
/// ```
///
/// `error` words a library error the way the front end speaks (flags or keywords). With the
/// groups compared (`g.comparison`: [`crate::groups::fit_groups`], or why that failed), a first
/// section "Groups compared" draws the groups' runs and frontiers
/// ([`super::groups::groups_svg`]) and gives the separate and joint fits, the test of shared
/// parameters, the paired differences and compute-equivalent gains
/// ([`super::groups::groups_text`]).
pub fn html_grouped(
    g: &crate::methods::GroupedOverview,
    error: &dyn Fn(&crate::Error) -> String,
    source: &str,
    reproduce: &[String],
) -> String {
    let mut h = head(source);
    match &g.comparison {
        Some(Ok(g)) => {
            let _ = write!(
                h,
                "<h2>Groups compared</h2>{}<pre>{}</pre>",
                inline(&super::groups::groups_svg(g)),
                escape(&super::groups::groups_text(g))
            );
        }
        Some(Err(e)) => {
            let _ = write!(
                h,
                "<h2>Groups compared</h2><p>error: {}</p>",
                escape(&error(e))
            );
        }
        None => {}
    }
    for (group, r) in &g.sections {
        let _ = write!(h, "<h2>Group {}</h2>", escape(&group.label()));
        match r {
            Ok(o) => body(&mut h, o, "h3"),
            Err(e) => {
                let _ = write!(h, "<p>error: {}</p>", escape(&error(e)));
            }
        }
    }
    tail(&mut h, reproduce);
    h
}

/// One HTML page (no scripts, no external requests) for a downstream prediction: per target
/// a table of the tasks' chained predictions with their intervals, actual values and errors
/// (and the weighted average), the figure of [`super::downstream::downstream_svg`], the text
/// report (laws, conventions, warnings, notes), and the `reproduce` lines.
///
/// # Examples
/// ```
/// # use scaling::downstream::*;
/// # use scaling::data::RunTable;
/// let csv = "N,D,loss,acc\n1e8,2e9,3.9,0.27\n2e8,4e9,3.5,0.31\n4e8,8e9,3.2,0.38\n8e8,1.6e10,2.95,0.46\n1.6e9,3.2e10,2.75,0.55\n";
/// let table = RunTable::from_csv_str("runs.csv", csv).unwrap();
/// let opts = DownstreamOptions {
///     tasks: vec!["loss:acc".into()], params_col: Some("N".into()),
///     tokens_col: Some("D".into()), law: Some("E + A*C^-alpha".into()),
///     at_flops: vec![1e21], ..Default::default()
/// };
/// let r = downstream(&table, &opts.request().unwrap(), &|| {}).unwrap();
/// let page = scaling::report::html::html_downstream(&r, &["scaling downstream runs.csv".into()]);
/// assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<h2>Reproduce</h2>"));
/// assert!(page.contains("<svg") && !page.contains("<script"));
/// ```
pub fn html_downstream(r: &crate::downstream::DownstreamResult, reproduce: &[String]) -> String {
    let mut h = head_titled("Downstream prediction", &r.source);
    let _ = write!(
        h,
        "<p>{}{}; {} task(s).</p>",
        escape(&r.mode),
        r.recipe
            .as_ref()
            .map(|x| format!(", recipe {}", escape(x)))
            .unwrap_or_default(),
        r.tasks.len()
    );
    if !r.warnings.is_empty() {
        let _ = write!(
            h,
            "<p>{} warning(s): see the report below.</p>",
            r.warnings.len()
        );
    }
    let iv = |v: Option<[f64; 2]>| {
        v.map(|[l, h]| format!("[{}, {}]", sig(l, 4), sig(h, 4)))
            .unwrap_or_default()
    };
    let num = |v: Option<f64>| v.map(|x| sig(x, 4)).unwrap_or_default();
    for p0 in r.targets() {
        let _ = write!(
            h,
            "<h2>Target {} (C {} FLOPs)</h2>",
            escape(&p0.target),
            sig(p0.c, 4)
        );
        h.push_str("<table><tr><th>task</th><th>predicted feature</th><th>actual feature</th><th>predicted</th><th>interval</th><th>new-run interval</th><th>actual</th><th>error</th></tr>");
        for t in &r.tasks {
            let Some(p) = t.prediction(&p0.target) else {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td colspan=\"7\">not predicted (see the warnings)</td></tr>",
                    escape(&t.task.name)
                );
                continue;
            };
            let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&t.task.name),
                    num(p.feature),
                    num(p.feature_actual),
                    sig(p.predicted, 4),
                    iv(p.interval),
                    iv(p.prediction_interval),
                    num(p.actual),
                    num(p.error)
                );
        }
        if let Some(a) = r.average_at(&p0.target) {
            let _ = write!(
                    h,
                    "<tr><th>weighted average</th><td></td><td></td><td>{}</td><td>{}</td><td></td><td>{}</td><td>{}</td></tr>",
                    sig(a.predicted, 4),
                    iv(a.interval),
                    num(a.actual),
                    num(a.error)
                );
        }
        h.push_str("</table>");
    }
    let _ = write!(
        h,
        "<h2>Plots</h2><figure><figcaption>Chained predictions; step 1 and step 2 per task</figcaption>{}</figure>",
        inline(&super::downstream::downstream_svg(r))
    );
    let _ = write!(
        h,
        "<h2>Report</h2><pre>{}</pre>",
        escape(&super::downstream::downstream_text(r))
    );
    tail(&mut h, reproduce);
    h
}

fn head(source: &str) -> String {
    head_titled("Scaling-law report", source)
}

fn head_titled(title: &str, source: &str) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>scaling report</title><style>");
    h.push_str("body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;max-width:1180px;margin:2em auto;color:#222}pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#eee}figure{margin:1em 0}svg{max-width:100%;height:auto}");
    h.push_str("</style></head><body>");
    let _ = write!(h, "<h1>{}: {}</h1>", escape(title), escape(source));
    h
}

fn tail(h: &mut String, reproduce: &[String]) {
    if !reproduce.is_empty() {
        let _ = write!(
            h,
            "<h2>Reproduce</h2><pre>{}</pre>",
            escape(&reproduce.join("\n"))
        );
    }
    h.push_str("</body></html>\n");
}

/// The sections of one analysis, headed with `hx` (h2 on a page of one analysis).
fn body(h: &mut String, o: &Overview, hx: &str) {
    let f = &o.fit;
    let _ = write!(
        h,
        "<{hx}>Data</{hx}><p>{} runs used of {} rows; {} excluded.</p>",
        f.runs.used, f.runs.rows_in_file, f.runs.excluded_count
    );
    let reps = f.bootstrap.as_ref().map_or(0, |b| b.replicates);
    let _ = write!(
        h,
        "<{hx}>Fit (Approach 3) with {reps} bootstrap replicates</{hx}>{}<pre>{}</pre>",
        if o.saved_fit {
            "<p>The fit and its replicates are read from a saved fit (not refitted).</p>"
        } else {
            ""
        },
        escape(&super::fit_text(f))
    );
    let _ = write!(h, "<{hx}>Chinchilla's approaches</{hx}>");
    h.push_str("<table><tr><th>approach</th><th>a</th><th>a interval</th><th>b</th><th>b interval</th></tr>");
    let iv = |v: Option<[f64; 2]>| {
        v.map(|[l, h]| format!("[{}, {}]", sig(l, 3), sig(h, 3)))
            .unwrap_or_default()
    };
    if let Some(im) = &f.implied {
        let g = |k: &str| f.intervals.as_ref().and_then(|m| m.get(k).copied());
        let _ = write!(
            h,
            "<tr><td>Approach 3 (this data)</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            sig(im.a, 3),
            iv(g("a")),
            sig(im.b, 3),
            iv(g("b"))
        );
    }
    if let Some(r) = &o.isoflop {
        let _ = write!(
            h,
            "<tr><td>Approach 2 (this data, {} budgets)</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.budgets.iter().filter(|b| b.used).count(),
            sig(r.params_exponent, 3),
            iv(r.params_exponent_interval),
            sig(r.tokens_exponent, 3),
            iv(r.tokens_exponent_interval)
        );
    }
    h.push_str("<tr><td>Chinchilla Approach 2 (published, 10-90%)</td><td>0.49</td><td>[0.462, 0.534]</td><td>0.51</td><td>[0.483, 0.529]</td></tr><tr><td>Chinchilla Approach 3 (published)</td><td>0.46</td><td>[0.454, 0.455]</td><td>0.54</td><td>[0.542, 0.543]</td></tr><tr><td>Kaplan et al. 2020</td><td>0.73</td><td></td><td>0.27</td><td></td></tr></table>");
    if !o.allocations.is_empty() {
        let _ = write!(h, "<{hx}>Compute-optimal allocation</{hx}>");
        h.push_str("<table><tr><th>C (FLOPs)</th><th>N*</th><th>D*</th><th>tokens/param</th><th>loss</th><th>N* 95% interval</th></tr>");
        for a in &o.allocations {
            let niv = a
                .params_interval
                .map(|[l, h]| format!("[{}, {}]", human(l), human(h)));
            let _ = write!(
                h,
                "<tr><td>1e{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                a.flops.log10().round(),
                human(a.params),
                human(a.tokens),
                sig(a.tokens_per_param, 3),
                a.loss.map(|l| sig(l, 4)).unwrap_or_default(),
                niv.unwrap_or_default()
            );
        }
        h.push_str("</table>");
    }
    if let Some(c) = &o.checks {
        checks(h, c, hx, &o.runs.source);
    }
    let _ = write!(h, "<{hx}>Plots</{hx}>");
    for (title, s) in figures(o) {
        let _ = write!(
            h,
            "<figure><figcaption>{}</figcaption>{}</figure>",
            escape(title),
            inline(&s)
        );
    }
}

/// The report's backtest and design sections ([`crate::methods::ReportChecks`]).
fn checks(h: &mut String, c: &crate::methods::ReportChecks, hx: &str, source: &str) {
    // A section: its text in <pre>, or why it is missing.
    let section = |h: &mut String, title: String, text: Option<String>, why: &Option<String>| {
        let body = match text {
            Some(t) => format!("<pre>{}</pre>", escape(&t)),
            None => format!(
                "<p>not available: {}</p>",
                escape(why.as_deref().unwrap_or("not run"))
            ),
        };
        let _ = write!(h, "<{hx}>{}</{hx}>{body}", escape(&title));
    };
    section(
        h,
        "Backtest: fitted below the top half decade of compute, does the law predict it?".into(),
        c.backtest
            .as_ref()
            .map(|b| super::backtest::backtest_text(b, source)),
        &c.backtest_error,
    );
    section(
        h,
        format!(
            "Which runs next? The {} runs within {}% of this data's compute that most sharpen N_opt at {} FLOPs",
            crate::methods::DESIGN_RUNS,
            100.0 * crate::methods::DESIGN_ALLOWANCE,
            human(crate::methods::DESIGN_TARGET)
        ),
        c.design.as_ref().map(|d| super::backtest::design_text(d, source)),
        &c.design_error,
    );
}

/// The report's figures, titled: loss against compute, the frontier, IsoFLOP profiles,
/// learning curves, residuals and the bootstrap distributions (those the analysis supports).
pub fn figures(o: &Overview) -> Vec<(&'static str, String)> {
    let f = &o.fit;
    let mut figs: Vec<(&str, String)> = vec![("Loss against compute", plots::loss_compute(f))];
    if let Some(s) = plots::frontier(f, o.isoflop.as_ref()) {
        figs.push(("Compute-optimal frontier", s));
    }
    if let Some(r) = &o.isoflop {
        figs.push((
            "IsoFLOP profiles",
            plots::isoflop(
                r,
                &o.runs.params,
                &o.runs.flops,
                &o.runs.loss,
                &plots::loss_label(&o.runs.sources),
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
    figs
}
