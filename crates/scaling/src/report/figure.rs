//! One plot of an analysis by name: what `scaling plot KIND` and Python's `scaling.plot` draw.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::methods::Overview;

use super::plots;

/// The plots of an analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlotKind {
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

impl PlotKind {
    /// Whether drawing it needs the bootstrap (then an analysis should bootstrap).
    pub fn needs_bootstrap(self) -> bool {
        matches!(self, PlotKind::LossCompute | PlotKind::Bootstrap)
    }

    /// Whether drawing it needs Approach 2 (IsoFLOP parabolas).
    pub fn needs_isoflop(self) -> bool {
        matches!(self, PlotKind::Isoflop | PlotKind::Frontier)
    }
}

/// The SVG of plot `kind` of the analysis `o` (thinned beyond
/// [`super::svg::MAX_DRAWN_POINTS`] points per panel, as its title then says).
///
/// # Examples
/// ```
/// use scaling::methods::{overview, OverviewRequest};
/// use scaling::report::figure::{plot, PlotKind};
/// let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
/// let design = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 6, 1.5, 6.0);
/// let runs = scaling::simulate::sample_runs(&law, &design, 0.01, 1, "synthetic").unwrap();
/// let o = overview(&runs, None, &OverviewRequest { bootstrap: 0, ..Default::default() }).unwrap();
/// assert!(plot(PlotKind::Residuals, &o).unwrap().starts_with("<svg"));
/// assert!(plot(PlotKind::Bootstrap, &o).is_err()); // no replicates
/// ```
///
/// # Errors
/// [`Error::Setting`] when the analysis lacks what the plot draws (replicates, IsoFLOP
/// budgets, N and D per run, an identified frontier).
pub fn plot(kind: PlotKind, o: &Overview) -> Result<String> {
    let f = &o.fit;
    let none = |m: &str, names: &[&str]| Error::setting(m, names);
    Ok(match kind {
        PlotKind::LossCompute => plots::loss_compute(f),
        PlotKind::Residuals => plots::residuals(f),
        PlotKind::Bootstrap => plots::bootstrap(f).ok_or_else(|| {
            none(
                "the bootstrap plot needs {} R with R >= 2 and an identified fit",
                &["bootstrap"],
            )
        })?,
        PlotKind::Curves => plots::curves(f).ok_or_else(|| {
            Error::InvalidSetting("learning curves need N and D for every run".into())
        })?,
        PlotKind::Frontier => plots::frontier(f, o.isoflop.as_ref()).ok_or_else(|| {
            Error::InvalidSetting("the fit identifies no compute-optimal frontier".into())
        })?,
        PlotKind::Isoflop => {
            let iso = o.isoflop.as_ref().ok_or_else(|| {
                none(
                    "no IsoFLOP budgets found: give {} (e.g. 6e18,1e19,...) matching the runs' FLOPs",
                    &["budgets"],
                )
            })?;
            plots::isoflop(
                iso,
                &o.runs.params,
                &o.runs.flops,
                &o.runs.loss,
                &plots::loss_label(&o.runs.sources),
            )
        }
    })
}
