//! Human-readable renderings of results. Functions return strings; the caller prints them.

use std::fmt::Write;

pub mod accounting;
pub mod backtest;
pub mod downstream;
pub mod figure;
pub mod forms;
pub mod grouped;
pub mod groups;
pub mod html;
pub mod lab;
pub mod methods;
pub mod plan;
pub mod plots;
pub mod png;
pub mod results;
pub mod shell;
pub mod svg;

use crate::data::ValueSource;
use crate::fit::{DataRange, Fit};
use crate::law::{Law, Optimum};

pub use crate::num::{human, sig};

/// Text safe to print on a terminal: every control character other than newline and tab
/// (ESC, BEL, carriage return, DEL, the C1 controls such as CSI) is written as a visible
/// `\u{1b}`-style escape, so a group label or column name read from a CSV cannot set the
/// terminal's title, colours or cursor. Every text output goes through this one helper.
///
/// # Examples
/// ```
/// let s = scaling::report::escape_control("run\u{1b}[31m 7\n");
/// assert!(!s.contains('\u{1b}') && s.ends_with('\n')); // newlines and tabs stay
/// ```
pub fn escape_control(s: &str) -> String {
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

fn source_text(role: &str, s: &Option<ValueSource>) -> Option<String> {
    s.as_ref().map(|s| match s {
        ValueSource::Column { column } => format!("{role} from column {column:?}"),
        ValueSource::Derived { formula } => format!("{formula} (derived)"),
    })
}

fn optimum_line(o: &Optimum, label: &str) -> String {
    format!(
        "  at C = {:.3e} FLOPs ({label}): N_opt = {}, D_opt = {}, {} tokens per parameter, loss {}",
        o.flops,
        human(o.params),
        human(o.tokens),
        sig(o.tokens_per_param, 3),
        sig(o.loss, 4)
    )
}

/// Which of N_opt and D_opt fall outside the runs' range, in words ("" when both are inside).
fn outside_data(o: &Optimum, dr: &DataRange) -> String {
    let mut out = Vec::new();
    for (sym, v, r) in [
        ("N_opt", o.params, dr.params),
        ("D_opt", o.tokens, dr.tokens),
    ] {
        if let Some([lo, hi]) = r {
            if v > hi * (1.0 + 1e-9) {
                out.push(format!(
                    "{sym} {} is above the largest in the runs ({})",
                    human(v),
                    human(hi)
                ));
            } else if v < lo * (1.0 - 1e-9) {
                out.push(format!(
                    "{sym} {} is below the smallest in the runs ({})",
                    human(v),
                    human(lo)
                ));
            }
        }
    }
    out.join("; ")
}

/// The fit as a readable report: parameters with their meanings, the objective, how the fit
/// ended (with any warning right under it), the runs used and excluded, what the law implies
/// (with a note where that lies outside the data) and the conventions.
///
/// # Examples
/// ```
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let f = scaling::fit::fit(&runs, &scaling::fit::FitConfig::default()).unwrap();
/// let text = scaling::report::fit_text(&f);
/// assert!(text.contains("alpha") && text.contains("beta"));
/// ```
pub fn fit_text(fit: &Fit) -> String {
    let mut s = String::new();
    let title = match (fit.law.as_str(), fit.x) {
        ("power", Some(x)) => format!("Power law in {}", x.symbol()),
        ("broken-power", Some(x)) => format!("Broken power law in {}", x.symbol()),
        ("chinchilla", _) => "Chinchilla law".to_string(),
        ("formula", _) => "Formula".to_string(),
        ("kaplan", _) => "Kaplan et al.'s joint law".to_string(),
        ("kaplan-steps", _) => "Kaplan et al.'s L(N, S)".to_string(),
        ("data-constrained", _) => "Data-constrained law (Muennighoff et al.)".to_string(),
        ("overtraining", _) => "Over-training law (Gadre et al.)".to_string(),
        ("joint", _) => match &fit.conventions.joint {
            Some(j) if j.groups.len() == 1 => format!("{} law with tied parameters", j.base_law),
            Some(j) => format!("{} law over groups of {:?}", j.base_law, j.group_column),
            None => "joint law".to_string(),
        },
        (other, _) => format!("{} law", other),
    };
    let _ = writeln!(s, "{title} fitted to {}", fit.runs.source);
    let _ = writeln!(s, "  {}\n", fit.formula);
    let w = fit.params.keys().map(|k| k.len()).max().unwrap_or(6).max(6);
    let _ = writeln!(s, "  {:<w$} {:<16} meaning", "param", "value");
    for name in fit.form().param_names() {
        let fixed = fit.conventions.fixed.get(&name);
        let v = match (fit.params.get(&name).copied().flatten(), fixed) {
            (_, Some(f)) => format!("{} (fixed)", sig(*f, 5)),
            (Some(v), None) if fit.at_bound.contains(&name) => {
                format!("{} (at bound)", sig(v, 5))
            }
            (Some(v), None) => sig(v, 5),
            (None, None) => "not identified".into(),
        };
        let w = fit.params.keys().map(|k| k.len()).max().unwrap_or(6).max(6);
        let _ = writeln!(s, "  {:<w$} {:<16} {}", name, v, fit.meanings[&name]);
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  objective  {:.12e} = {}",
        fit.objective, fit.conventions.objective
    );
    let _ = writeln!(s, "  status     {}", fit.status_detail);
    let st = &fit.starts;
    let scan = if st.profile_points > 0 {
        format!("; {} exponent grid points scanned", st.profile_points)
    } else {
        String::new()
    };
    match &st.screen {
        // A screened start stops at scipy's tolerance; the best of them are polished.
        Some(sc) => {
            let _ = writeln!(
                s,
                "  starts     {}: {} starts screened ({} abandoned after {} iterations above {} \
                 times the best objective then known), {} of them ended within {:e} of the \
                 best objective; the best {} polished{scan}",
                st.strategy.name(),
                st.count,
                st.terminations.get("abandoned").copied().unwrap_or(0),
                sc.abandon_after,
                sc.abandon_factor,
                st.reached_best,
                st.tolerance,
                sc.polished
            );
        }
        None => {
            let _ = writeln!(
                s,
                "  starts     {}: {} of {} BFGS runs reached the best objective (within {:e} \
                 relative){scan}",
                st.strategy.name(),
                st.reached_best,
                st.count,
                st.tolerance
            );
        }
    }
    if st.tied_optima > 1 {
        let _ = writeln!(
            s,
            "  optima     {} distinct parameter sets reached the best objective, which the data \
             cannot tell apart; reported is the one whose parameters the data determine best, \
             not the lowest by rounding",
            st.tied_optima
        );
    }
    for w in &fit.warnings {
        let _ = writeln!(s, "  WARNING    {w}");
    }
    if !fit.identifiability.identified {
        let _ = writeln!(
            s,
            "\n  NOT IDENTIFIED by this data (no number is reported for these):"
        );
        for u in &fit.identifiability.unidentified {
            let _ = writeln!(s, "    {}: {}", u.param, u.reason);
        }
    }
    let r = &fit.runs;
    let _ = writeln!(
        s,
        "\nruns: {} used of {} rows in the file; {} excluded",
        r.used, r.rows_in_file, r.excluded_count
    );
    for e in r.excluded.iter().take(10) {
        let _ = writeln!(s, "  row {}: {}", e.row, e.reason);
    }
    if r.excluded.len() > 10 {
        let _ = writeln!(
            s,
            "  ... and {} more (see the JSON output)",
            r.excluded.len() - 10
        );
    }
    let c = &fit.conventions.columns;
    let sources: Vec<String> = [
        source_text("N", &c.params),
        source_text("D", &c.tokens),
        source_text("C", &c.flops),
        source_text("loss", &c.loss),
    ]
    .into_iter()
    .flatten()
    .collect();
    let _ = writeln!(s, "  {}", sources.join("; "));
    let dr = &fit.data_range;
    let mut ranges = Vec::new();
    if let Some([a, b]) = dr.params {
        ranges.push(format!("N {} to {}", human(a), human(b)));
    }
    if let Some([a, b]) = dr.tokens {
        ranges.push(format!("D {} to {}", human(a), human(b)));
    }
    if let Some([a, b]) = dr.flops {
        ranges.push(format!("C {a:.2e} to {b:.2e}"));
    }
    ranges.push(format!(
        "loss {} to {}",
        sig(dr.loss[0], 4),
        sig(dr.loss[1], 4)
    ));
    let _ = writeln!(s, "  range: {}", ranges.join(", "));
    if let Some(im) = &fit.implied {
        let _ = writeln!(
            s,
            "\nimplied (Hoffmann et al. 2022, Eq. 4; {}):",
            fit.conventions.flops_model
        );
        let _ = writeln!(
            s,
            "  a = beta/(alpha+beta) = {}   (N_opt grows as C^a)",
            sig(im.a, 4)
        );
        let _ = writeln!(
            s,
            "  b = alpha/(alpha+beta) = {}   (D_opt grows as C^b)",
            sig(im.b, 4)
        );
        let _ = writeln!(
            s,
            "  G = (alpha A / (beta B))^(1/(alpha+beta)) = {}",
            sig(im.g, 4)
        );
        let o = &im.optimum_at_max_flops;
        let _ = writeln!(s, "{}", optimum_line(o, "largest budget in the data"));
        let caveat = outside_data(o, dr);
        if !caveat.is_empty() {
            let _ = writeln!(s, "    note: {caveat}, so even this is an extrapolation");
        }
        let beyond = dr
            .flops
            .map(|r| (1e24f64 / r[1]).log10())
            .unwrap_or(f64::NAN);
        let label = if beyond > 0.0 {
            format!("extrapolated {beyond:.1} decades of compute beyond the data")
        } else if beyond <= 0.0 {
            "within the data's compute range".to_string()
        } else {
            "the data's compute range is unknown".to_string()
        };
        let _ = writeln!(s, "{}", optimum_line(&im.optimum_at_1e24, &label));
    }
    if let (Some(iv), Some(se), Some(b)) = (&fit.intervals, &fit.std_errors, &fit.bootstrap) {
        s.push_str(&intervals_text(fit, iv, se, b));
    }
    let cv = &fit.conventions;
    let derived = [&cv.columns.params, &cv.columns.tokens, &cv.columns.flops]
        .iter()
        .any(|c| matches!(c, Some(ValueSource::Derived { .. })));
    let flops_note = if fit.x.is_none() || derived {
        format!("FLOP model {}", cv.flops_model)
    } else {
        "no FLOP model used".to_string()
    };
    let fixed: Vec<String> = cv.fixed.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    let space = match cv.space {
        crate::fit::Space::Log => "log-loss",
        crate::fit::Space::Linear => "linear-loss",
    };
    let reduction = match cv.reduction {
        crate::fit::Reduction::Sum => "summed",
        crate::fit::Reduction::Mean => "averaged",
    };
    let fixed = if fixed.is_empty() {
        String::new()
    } else {
        format!("; fixed {}", fixed.join(", "))
    };
    let randomness = match cv.seed {
        Some(seed) => format!("bootstrap seed {seed}"),
        None => "no randomness".to_string(),
    };
    let _ = writeln!(
        s,
        "\nconventions: {space} residuals, {reduction} over runs{fixed}; {flops_note}; starts {}; \
         optimiser BFGS; {randomness}",
        cv.starts.name()
    );
    s
}

/// The point estimate of a named quantity (a parameter, a, b, G, or `X@C` at a budget).
fn estimate(fit: &Fit, name: &str) -> Option<f64> {
    if let Some(v) = fit.params.get(name) {
        return *v;
    }
    let law = fit.law()?;
    match name {
        "a" => law.params_exponent(),
        "b" => law.tokens_exponent(),
        "G" => law.g(),
        _ => {
            let (what, c) = name.split_once('@')?;
            let o = law.optimum(c.parse().ok()?, fit.conventions.flops_per_param_token)?;
            match what {
                "N_opt" => Some(o.params),
                "D_opt" => Some(o.tokens),
                "L_opt" | "L_opt_new_run" => Some(o.loss),
                "tokens_per_param" => Some(o.tokens_per_param),
                _ => None,
            }
        }
    }
}

fn intervals_text(
    fit: &Fit,
    iv: &std::collections::BTreeMap<String, [f64; 2]>,
    se: &std::collections::BTreeMap<String, f64>,
    b: &crate::uncertainty::Bootstrap,
) -> String {
    let mut s = String::new();
    let unit = if b.resampled == "clusters" {
        let c = b.cluster_column.clone().unwrap_or_default();
        match c.split_once(crate::uncertainty::SIZE_WORDS) {
            // `N (model sizes: N within 0.1%)[, chosen because ...]`
            Some((_, why)) => format!("{} model sizes (N within 0.1%){why}", b.units),
            None => format!("{} groups of column {c:?}", b.units),
        }
    } else {
        format!("{} runs", b.units)
    };
    let statuses: Vec<String> = b.statuses.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let _ = writeln!(
        s,
        "\n{}% bootstrap intervals ({} replicates resampling {unit}, seed {}; refits: {})",
        (1e6 * 100.0 * b.level).round() / 1e6,
        b.replicates,
        b.seed,
        statuses.join(", ")
    );
    let _ = writeln!(
        s,
        "  {:<26} {:>12}  {:<27} {:>11}",
        "quantity", "estimate", "interval", "std. error"
    );
    let mut names: Vec<&String> = Vec::new();
    for n in fit.form().param_names() {
        if let Some((k, _)) = iv.get_key_value(&n) {
            names.push(k);
        }
    }
    for n in ["a", "b", "G"] {
        if let Some((k, _)) = iv.get_key_value(n) {
            names.push(k);
        }
    }
    for &c in &b.budgets {
        for what in [
            "N_opt",
            "D_opt",
            "L_opt",
            "L_opt_new_run",
            "tokens_per_param",
        ] {
            let key = crate::uncertainty::at_budget(what, c);
            if let Some((k, _)) = iv.get_key_value(&key) {
                names.push(k);
            }
        }
    }
    for name in names {
        let [lo, hi] = iv[name];
        let big = name.starts_with("N_opt") || name.starts_with("D_opt");
        let f = |v: f64| if big { human(v) } else { sig(v, 4) };
        let est = estimate(fit, name).map(f).unwrap_or_default();
        let _ = writeln!(
            s,
            "  {:<26} {:>12}  {:<27} {:>11}",
            name,
            est,
            format!("[{}, {}]", f(lo), f(hi)),
            se.get(name).map(|v| f(*v)).unwrap_or_default()
        );
    }
    if iv.keys().any(|k| k.starts_with("L_opt_new_run@")) {
        s.push_str(
            "  L_opt: interval on the mean loss at the optimum; L_opt_new_run: where one new run \
             there should land (adds the fit's run-to-run noise)\n",
        );
    }
    s
}

/// A p-value for reading: `p = 0.034`, `p = 6.2e-45`, `p < 1e-300`, `p = 1`.
///
/// # Examples
/// ```
/// use scaling::report::p_value;
/// assert_eq!(p_value(0.0), "p < 1e-300");
/// assert_eq!(p_value(1.0), "p = 1");
/// ```
pub fn p_value(p: f64) -> String {
    if p <= 0.0 {
        "p < 1e-300".into()
    } else if p >= 0.9995 {
        "p = 1".into()
    } else if p >= 1e-3 {
        format!("p = {p:.3}")
    } else {
        format!("p = {p:.2e}")
    }
}

/// The result of testing a law against a fit, as text.
///
/// # Examples
/// ```
/// use scaling::fit::{fit, FitConfig};
/// use scaling::uncertainty::{attach, bootstrap, test_law, BootstrapConfig};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let config = FitConfig::default();
/// let mut f = fit(&runs, &config).unwrap();
/// let bc = BootstrapConfig { replicates: 20, seed: 0, clusters: None, cluster_column: None,
///                            level: 0.95 };
/// let b = bootstrap(&runs, &config, &f, &bc, &|| {}).unwrap();
/// attach(&mut f, b, &[], 0.95);
/// let t = test_law(&f, &runs, &config, &law, 1e-3).unwrap();
/// assert!(scaling::report::law_test_text(&t, "chinchilla", &f).contains("chinchilla"));
/// ```
pub fn law_test_text(t: &crate::uncertainty::LawTest, law_name: &str, fit: &Fit) -> String {
    let mut s = String::new();
    let reps = fit.bootstrap.as_ref().map(|b| b.replicates).unwrap_or(0);
    let _ = writeln!(
        s,
        "Testing {law_name} against the fit of {} ({} runs, {reps} bootstrap replicates)\n",
        fit.runs.source, fit.runs.used
    );
    let _ = writeln!(
        s,
        "  {:<6} {:>12} {:>12} {:>16} {:>14}",
        "param", "law", "fit", "std. error", "(law-fit)/se"
    );
    for name in fit.form().param_names() {
        if let Some(c) = t.params.get(&name) {
            let se = if c.scale == "log" {
                format!("{} (of ln)", sig(c.std_error, 3))
            } else {
                sig(c.std_error, 3)
            };
            let _ = writeln!(
                s,
                "  {:<6} {:>12} {:>12} {:>16} {:>14}",
                name,
                sig(c.law, 5),
                sig(c.fit, 5),
                se,
                format!("{:+.1}", c.z)
            );
        }
    }
    let scale_names: Vec<String> = fit
        .form()
        .param_names()
        .iter()
        .filter_map(|n| {
            t.params.get(n).map(|c| {
                if c.scale == "log" {
                    format!("ln {n}")
                } else {
                    n.to_string()
                }
            })
        })
        .collect();
    let _ = writeln!(
        s,
        "\n  chi-squared against the bootstrap covariance of ({}) ({} df): chi2 = {}{}, {}",
        scale_names.join(", "),
        t.chi2_df,
        sig(t.chi2, 5),
        if t.chi2_mc_std_error.is_finite() {
            format!(
                " (Monte Carlo standard error {} from the finite replicates: another seed \
                 moves it by about that much)",
                sig(t.chi2_mc_std_error, 2)
            )
        } else {
            String::new()
        },
        p_value(t.chi2_p_value)
    );
    let _ = writeln!(
        s,
        "  likelihood ratio, Huber likelihood (delta {}) with fitted scale ({} df): LR = {}, {}",
        t.likelihood_delta,
        t.lr_df,
        sig(t.lr_statistic, 5),
        p_value(t.lr_p_value)
    );
    let _ = writeln!(
        s,
        "    (fitted scale sigma {} at the best fit, {} under the law; with delta {} the density \
         is nearly Laplace with mean |residual| sigma/delta = {} and {})",
        sig(t.scale_fit, 3),
        sig(t.scale_law, 3),
        t.likelihood_delta,
        sig(t.scale_fit / t.likelihood_delta, 3),
        sig(t.scale_law / t.likelihood_delta, 3)
    );
    for w in &t.warnings {
        let _ = writeln!(s, "  WARNING: {w}");
    }
    let verdict = |p: f64| {
        if p < 0.05 {
            "rejects"
        } else {
            "does not reject"
        }
    };
    let _ = writeln!(
        s,
        "\n  At the 5% level the chi-squared test {} the law and the likelihood ratio {} it.",
        verdict(t.chi2_p_value),
        verdict(t.lr_p_value)
    );
    s
}

/// A calibration study as text.
///
/// # Examples
/// ```
/// use scaling::uncertainty::{calibrate_runs, CalibrateRequest, NoiseModel};
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let req = CalibrateRequest { datasets: 3, bootstrap: 10, noise: NoiseModel::Gaussian, ..Default::default() };
/// let c = calibrate_runs(&runs, "synthetic", &req, &|| {}).unwrap();
/// let text = scaling::report::calibration_text(&c.calibration, &c.truth_law, "synthetic");
/// assert!(text.contains("synthetic"));
/// ```
pub fn calibration_text(c: &crate::uncertainty::Calibration, truth: &Law, design: &str) -> String {
    let mut s = String::new();
    let pct = (1e6 * 100.0 * c.level).round() / 1e6;
    let _ = writeln!(
        s,
        "Coverage of {pct}% bootstrap percentile intervals on the design of {design} ({} runs)",
        c.runs
    );
    let p = &truth.params;
    let _ = writeln!(
        s,
        "  truth: the fit of those runs (E = {}, A = {}, B = {}, alpha = {}, beta = {})",
        sig(p[0], 5),
        sig(p[1], 5),
        sig(p[2], 5),
        sig(p[3], 5),
        sig(p[4], 5)
    );
    let _ = writeln!(
        s,
        "  {} datasets x {} bootstrap replicates (resampling {}), seed {}; noise: {}\n",
        c.datasets,
        c.replicates,
        if c.resampled.is_empty() {
            "runs"
        } else {
            &c.resampled
        },
        c.seed,
        c.noise
    );
    let _ = writeln!(
        s,
        "  {:<6} {:>9} {:>10} {:>9} {:>12} {:>18}",
        "param", "truth", "coverage", "+/- se", "mean width", "missed low/high"
    );
    for name in ["alpha", "beta", "E", "a", "G"] {
        if let Some(v) = c.coverage.get(name) {
            let _ = writeln!(
                s,
                "  {:<6} {:>9} {:>10} {:>9} {:>12} {:>18}",
                name,
                sig(v.truth, 4),
                format!("{:.3}", v.coverage),
                format!("{:.3}", v.coverage_std_error),
                sig(v.mean_width, 3),
                format!("{}/{}", v.missed_low, v.missed_high)
            );
            let _ = writeln!(
                s,
                "  {:<6} {} of {} datasets covered; Wilson 95% [{:.3}, {:.3}]; {} without an interval",
                "",
                v.covered,
                v.datasets,
                v.wilson_95[0],
                v.wilson_95[1],
                v.failed
            );
        }
    }
    for n in &c.notes {
        let _ = writeln!(s, "  note: {n}");
    }
    s
}

/// A side-by-side table of a true law and a fitted one (for synthetic data): each parameter,
/// a = beta/(alpha+beta), the loss both laws predict at the true compute-optimal point for
/// 1e24 FLOPs (`L@1e24`) and the optimal N there (`N*@1e24`); with the fit's bootstrap
/// intervals, whether each covers the truth.
///
/// # Examples
/// ```
/// let law = scaling::law::presets::get("chinchilla").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let f = scaling::fit::fit(&runs, &scaling::fit::FitConfig::default()).unwrap();
/// assert!(scaling::report::truth_table(&law, &f).contains("alpha"));
/// ```
pub fn truth_table(truth: &Law, fit: &Fit) -> String {
    let mut s = String::new();
    let boot = fit.intervals.is_some();
    let level = fit
        .bootstrap
        .as_ref()
        .map(|b| (1e6 * 100.0 * b.level).round() / 1e6);
    let head = match level {
        Some(l) if boot => format!("{l}% interval"),
        _ => String::new(),
    };
    let _ = writeln!(
        s,
        "  {:<8} {:>10} {:>10} {:>10}  {:<22} {}",
        "quantity",
        "truth",
        "fitted",
        "rel. error",
        head,
        if boot { "covers truth" } else { "" }
    );
    let mut row =
        |name: &str, t: f64, f: Option<f64>, iv: Option<[f64; 2]>, fmt: &dyn Fn(f64) -> String| {
            let (fs, es) = match f {
                Some(f) => (fmt(f), format!("{:+.2}%", 100.0 * (f - t) / t)),
                None => ("n/a".into(), String::new()),
            };
            let (ivs, cov) = match iv {
                Some([lo, hi]) => (
                    format!("[{}, {}]", fmt(lo), fmt(hi)),
                    if lo <= t && t <= hi { "yes" } else { "NO" }.to_string(),
                ),
                None => (String::new(), String::new()),
            };
            let _ = writeln!(
                s,
                "  {:<8} {:>10} {:>10} {:>10}  {:<22} {}",
                name,
                fmt(t),
                fs,
                es,
                ivs,
                cov
            );
        };
    let get_iv = |k: &str| fit.intervals.as_ref().and_then(|m| m.get(k).copied());
    for (name, t) in truth.form.param_names().iter().zip(&truth.params) {
        let f = fit.params.get(name).copied().flatten();
        row(name, *t, f, get_iv(name), &|v| sig(v, 5));
    }
    if let (Some(ta), Some(im)) = (truth.params_exponent(), &fit.implied) {
        row("a", ta, Some(im.a), get_iv("a"), &|v| sig(v, 4));
        if let (Some(o), Some(fl)) = (truth.optimum(1e24, 6.0), fit.law()) {
            let p = crate::uncertainty::predict(&fl, Some(fit), o.params, o.tokens, o.flops, None);
            row("L@1e24", o.loss, Some(p.loss), p.interval, &|v| sig(v, 5));
            let key = crate::uncertainty::at_budget("N_opt", 1e24);
            row(
                "N*@1e24",
                o.params,
                Some(im.optimum_at_1e24.params),
                get_iv(&key),
                &human,
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_for_the_terminal() {
        // Regression (issue 11): a CSV column named "\x1b]0;pwned\x07" set the terminal title.
        let s = escape_control("loss \u{1b}]0;pwned\u{7} \u{9b}31m\r\nnext\tcol");
        assert!(
            !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{s:?}"
        );
        assert_eq!(s, "loss \\u{1b}]0;pwned\\u{7} \\u{9b}31m\\u{d}\nnext\tcol");
        assert_eq!(escape_control("plain, ünïcode"), "plain, ünïcode");
    }

    #[test]
    fn number_formats() {
        assert_eq!(sig(1.81721, 5), "1.8172");
        assert_eq!(sig(477.8258, 5), "477.83");
        assert_eq!(sig(0.347310, 5), "0.34731");
        assert_eq!(sig(3.2e21, 3), "3.20e21");
        assert_eq!(human(70e9), "70.0B");
        assert_eq!(human(1.4e12), "1.40T");
        assert_eq!(human(400e6), "400M");
    }
}
