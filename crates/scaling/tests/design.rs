//! `validate::design`: the Fisher widths it promises against bootstraps, and its proposal
//! against the alternatives of equal cost in simulation.

mod common;

use scaling::fit::{self, FitConfig};
use scaling::uncertainty::{self, BootstrapConfig};
use scaling::validate::{design, DesignRequest, Quantity, SimulateRequest, Target};

fn request(quantity: Quantity, allowance: f64, simulate: Option<SimulateRequest>) -> DesignRequest {
    DesignRequest {
        target: Target::Budget {
            flops: 1e24,
            flops_per_param_token: 6.0,
        },
        quantity,
        allowance,
        runs: 4,
        level: 0.95,
        simulate,
    }
}

/// On Epoch's 240 runs (Besiroglu et al. 2024) the delta-method width from the Fisher
/// information agrees with the bootstrap's percentile width within a factor of 3, for N_opt at
/// 1e24 FLOPs, the loss there, and each exponent. (Measured: the Fisher width is 0.36 to 0.64
/// of the bootstrap's; the bootstrap's distribution of N_opt four decades beyond the data is
/// skewed, which a linearisation does not see.)
#[test]
fn fisher_width_matches_bootstrap_on_epoch() {
    let Some(runs) = common::epoch_runs() else {
        return;
    };
    let config = FitConfig::default();
    let mut f = fit::fit(&runs, &config).unwrap();
    let bc = BootstrapConfig {
        replicates: 400,
        seed: 3,
        clusters: None,
        cluster_column: None,
        level: 0.95,
    };
    let b = uncertainty::bootstrap(&runs, &config, &f, &bc, &|| {}).unwrap();
    uncertainty::attach(&mut f, b, &[1e24], 0.95);
    for q in ["n_opt", "loss", "alpha", "beta"] {
        let d = design(&f, &request(Quantity::parse(q), 1e21, None), &|| {}).unwrap();
        let boot = d.current_bootstrap_width.unwrap();
        let ratio = d.current_width / boot;
        eprintln!(
            "{q}: Fisher {} bootstrap {boot} ratio {ratio}",
            d.current_width
        );
        assert!((1.0 / 3.0..3.0).contains(&ratio), "{q}: ratio {ratio}");
        assert!(d.proposal.width < d.current_width);
    }
}

/// On a synthetic IsoFLOP sweep drawn from Epoch's law, the proposed runs reach a narrower
/// bootstrap interval on N_opt at 1e24 FLOPs than each equal-cost alternative in most
/// simulated repetitions, and the expected widths are ordered the same way.
#[test]
fn proposal_beats_alternatives_on_synthetic_sweep() {
    let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
    let budgets = [1e18, 3e18, 1e19, 3e19, 1e20];
    let points = scaling::simulate::isoflop_design(&law, &budgets, 7, 1.5, 6.0);
    let runs = scaling::simulate::sample_runs(&law, &points, 0.02, 7, "synthetic").unwrap();
    let f = fit::fit(&runs, &FitConfig::default()).unwrap();
    let sim = SimulateRequest {
        repetitions: 12,
        bootstrap: 60,
        seed: 1,
    };
    let d = design(&f, &request(Quantity::NOpt, 4e21, Some(sim)), &|| {}).unwrap();
    let s = d.simulation.as_ref().unwrap();
    for p in &s.plans {
        eprintln!(
            "{}: median {} mean {}",
            p.name, p.median_width, p.mean_width
        );
    }
    for a in &d.alternatives {
        eprintln!(
            "{}: expected {} vs proposal {}",
            a.name, a.width, d.proposal.width
        );
        assert!(d.proposal.width < a.width);
    }
    for b in &s.beats {
        eprintln!("beats {}: {}/{}", b.alternative, b.wins, b.compared);
        assert!(b.compared >= 10);
        assert!(b.fraction >= 0.75, "{}: {}", b.alternative, b.fraction);
    }
    assert!(d.proposal.cost <= 4e21 * (1.0 + 1e-9));
    // The sweep's smallest D/N is 0.72; no proposed run goes below one token per parameter
    // (without the floor three of the four sat at 0.36 and the default Huber fit used them
    // worse than promised: bench/design_check.py, 69 of 100 against one more IsoFLOP budget).
    for r in &d.proposal.runs {
        assert!(
            r.tokens_per_param >= scaling::validate::MIN_TOKENS_PER_PARAM * (1.0 - 1e-12),
            "{r:?}"
        );
    }
}

/// Settings no design can meet are errors naming the setting.
#[test]
fn impossible_settings_are_errors() {
    let law = scaling::law::presets::get("epoch").unwrap().law.unwrap();
    let points = scaling::simulate::isoflop_design(&law, &[1e18, 1e19, 1e20], 7, 1.5, 6.0);
    let runs = scaling::simulate::sample_runs(&law, &points, 0.01, 1, "synthetic").unwrap();
    let f = fit::fit(&runs, &FitConfig::default()).unwrap();
    let render = |e: scaling::Error| e.render(&|n| format!("--{n}"));
    let e = design(&f, &request(Quantity::NOpt, 1e10, None), &|| {}).unwrap_err();
    assert!(render(e).contains("--allowance"));
    let e = design(&f, &request(Quantity::parse("gamma"), 1e21, None), &|| {}).unwrap_err();
    assert!(render(e).contains("--quantity"));
    let mut r = request(Quantity::NOpt, 1e21, None);
    r.target = Target::Point {
        params: 1e9,
        tokens: 2e10,
    };
    let e = design(&f, &r, &|| {}).unwrap_err();
    assert!(render(e).contains("--budget"));
    let mut r = request(Quantity::NOpt, 1e21, None);
    r.runs = 0;
    assert!(design(&f, &r, &|| {}).is_err());
}
