//! Text of the results of prediction, demo, law tests and calibration: pure functions of the
//! library's result types, as the command line prints them.

use std::fmt::Write as _;

use crate::allocate::PointPrediction;

use super::{human, sig};

/// `scaling predict`'s text: the loss at the point, what was derived, the two intervals (mean
/// and new run) of a bootstrapped fit, and whether the point extrapolates.
///
/// # Examples
/// ```
/// use scaling::allocate::{predict_point, PointRequest, Source};
/// let src = Source::preset("chinchilla").unwrap();
/// let req = PointRequest { params: Some(70e9), tokens: Some(1.4e12), ..Default::default() };
/// let text = scaling::report::results::predict_text(&predict_point(&src, &req).unwrap());
/// assert!(text.starts_with("loss 1.9") && text.contains("N = 70.0B, D = 1.40T"));
/// ```
pub fn predict_text(p: &PointPrediction) -> String {
    let mut out = String::new();
    let mut at = Vec::new();
    if let Some(v) = p.params {
        at.push(format!("N = {}", human(v)));
    }
    if let Some(v) = p.tokens {
        at.push(format!("D = {}", human(v)));
    }
    if let Some(v) = p.flops {
        at.push(format!("C = {v:.3e}"));
    }
    let _ = writeln!(
        out,
        "loss {} at {} ({} law from {})",
        sig(p.loss, 6),
        at.join(", "),
        p.form,
        p.source
    );
    for note in &p.notes {
        let _ = writeln!(out, "  {note}");
    }
    let pct = |l: f64| (1e6 * 100.0 * l).round() / 1e6;
    match (p.interval, p.prediction_interval, p.level) {
        (Some(ci), Some(pi), Some(level)) if p.replicates > 0 => {
            let _ = writeln!(
                out,
                "  {}% interval on the mean loss: [{}, {}] (parameter uncertainty, {} bootstrap replicates)",
                pct(level),
                sig(ci[0], 5),
                sig(ci[1], 5),
                p.replicates
            );
            let _ = writeln!(
                out,
                "  {}% prediction interval for a new run: [{}, {}] (adds the fit's residual noise)",
                pct(level),
                sig(pi[0], 5),
                sig(pi[1], 5)
            );
        }
        _ => out.push_str(
            "  no interval: the law has no bootstrap replicates (save a bootstrapped fit to get them)\n",
        ),
    }
    match &p.extrapolation {
        Some(e) if e.inside => {
            out.push_str("  inside the range of the runs the law was fitted to\n")
        }
        Some(e) => {
            for note in &e.notes {
                let _ = writeln!(out, "  extrapolation: {note}");
            }
        }
        None => {
            out.push_str("  (a law file carries no data range, so extrapolation is not assessed)\n")
        }
    }
    out
}

/// `scaling demo`'s text: what is synthetic, the fit, and the fit against the truth.
///
/// # Examples
/// ```
/// use scaling::simulate::{demo, DemoRequest};
/// let d = demo(&DemoRequest { per_budget: 4, bootstrap: 0, ..Default::default() }, &|| {}).unwrap();
/// assert!(scaling::report::results::demo_text(&d).starts_with("scaling demo: SYNTHETIC data"));
/// ```
pub fn demo_text(d: &crate::simulate::Demo) -> String {
    let mut out = String::from("scaling demo: SYNTHETIC data, not real training runs.\n");
    let _ = writeln!(
        out,
        "True law: Epoch AI's estimate (Besiroglu et al. 2024): {}",
        d.truth_law.form.formula()
    );
    let _ = writeln!(
        out,
        "Design: Chinchilla's 9 IsoFLOP budgets (6e18 to 3e21 FLOPs), {} model sizes per budget over 1.5 decades around the optimum, D = C / (6 N); loss x exp(Normal(0, {})) with seed {}.\n",
        d.design.models_per_budget, d.design.noise_sd_log_loss, d.design.seed
    );
    out.push_str(&super::fit_text(&d.fit));
    out.push_str("\nFit against the truth it was drawn from:\n");
    out.push_str(&super::truth_table(&d.truth_law, &d.fit));
    let _ = writeln!(
        out,
        "\n{} runs with noise {} in log loss determine some parameters only loosely: A \
         and B trade off along a flat valley of the objective (Besiroglu et al. 2024 found \
         the same on Chinchilla's data), and the intervals say how loosely. Judge a fit by \
         what it predicts (L@1e24), not by A and B alone.",
        d.runs.len(),
        d.design.noise_sd_log_loss
    );
    out
}
