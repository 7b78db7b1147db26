//! Golden test: Chinchilla's fitting recipe on the 240 runs Epoch AI extracted from
//! Chinchilla's Figure 4 (Besiroglu et al. 2024, arXiv:2404.10102; ../shared/REFERENCE.md):
//! objective (sum of Huber) 0.00101827, alpha 0.3473, beta 0.3672, E 1.8172, A 477.8,
//! B 2143.9 (the surface is flat along A/B, so A and B are compared to 1.5%).

mod common;

use scaling::fit::{self, FitConfig, StartStrategy, Status};

fn check(strategy: StartStrategy) {
    let Some(runs) = common::epoch_runs() else {
        return;
    };
    assert_eq!(runs.len(), 240);
    let f = fit::fit(
        &runs,
        &FitConfig {
            starts: strategy,
            ..Default::default()
        },
    )
    .unwrap();
    let p = |k: &str| f.params[k].unwrap();
    // Epoch print 0.00101827: the optimum 0.0010182740178 truncated to 8 digits, so the
    // published figure is matched to its printed precision (the true minimum lies 4.0e-9
    // above it; no point has a lower objective). The unrounded value comes from our scipy
    // reference run of the same recipe (bench/reference_fit.py: L-BFGS-B from the 4500
    // grid, 0.0010182740178120708) and is matched within 3e-9.
    assert!(
        (f.objective - 0.00101827).abs() < 5e-9,
        "objective {}",
        f.objective
    );
    assert!(
        (f.objective - 0.0010182740178120708).abs() < 3e-9,
        "objective {}",
        f.objective
    );
    assert!((p("alpha") - 0.3473).abs() < 5e-4, "alpha {}", p("alpha"));
    assert!((p("beta") - 0.3672).abs() < 5e-4, "beta {}", p("beta"));
    assert!((p("E") - 1.8172).abs() < 5e-4, "E {}", p("E"));
    assert!((p("A") / 477.8 - 1.0).abs() < 0.015, "A {}", p("A"));
    assert!((p("B") / 2143.9 - 1.0).abs() < 0.015, "B {}", p("B"));
    assert_eq!(f.status, Status::Converged, "{}", f.status_detail);
    assert!(f.identifiability.identified);
    assert!(f.starts.reached_best >= 2, "{:?}", f.starts);
    // a = beta / (alpha + beta) = 0.513 (Besiroglu et al. 2024), about 20 tokens per parameter.
    let im = f.implied.unwrap();
    assert!((im.a - 0.513).abs() < 0.002, "a {}", im.a);
}

#[test]
fn default_strategy_matches_epoch() {
    check(StartStrategy::VarPro);
}

#[test]
fn chinchilla_grid_matches_epoch() {
    check(StartStrategy::Chinchilla);
}

/// Both strategies reach the same optimum on the same data (the grid is the reference).
#[test]
fn strategies_agree_on_objective() {
    let Some(runs) = common::epoch_runs() else {
        return;
    };
    let a = fit::fit(&runs, &FitConfig::default()).unwrap();
    let b = fit::fit(
        &runs,
        &FitConfig {
            starts: StartStrategy::Chinchilla,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        (a.objective - b.objective).abs() <= 1e-12,
        "{} vs {}",
        a.objective,
        b.objective
    );
}
