//! Law forms compared on the same runs (issue 13, item 4): on Epoch AI's 240 runs
//! (Besiroglu et al. 2024, `epoch_chinchilla_svg.csv` without its five highest losses), the
//! Chinchilla row is exactly a plain `fit`, and AIC/BIC follow their formulas (Akaike 1974,
//! Schwarz 1978, Gaussian likelihood on the residuals with sigma^2 = RSS/n).

mod common;

use scaling::accounting::{load_runs, prepare_table, LoadRequest};
use scaling::data::{Filters, RunTable};
use scaling::fit::{self, FitNames};
use scaling::uncertainty::{fit_table, FitRequest};
use scaling::validate::{
    backtest, compare_forms, Axis, BacktestRequest, FormsRequest, Holdout, Inflation, Split,
};

fn epoch() -> Option<(RunTable, LoadRequest)> {
    let path = common::shared_data("epoch_chinchilla_svg.csv")?;
    let mut table = RunTable::read(&path).unwrap();
    let load = LoadRequest {
        filters: Filters {
            drop_top_loss: 5,
            ..Default::default()
        },
        ..Default::default()
    };
    prepare_table(&mut table, &load).unwrap();
    Some((table, load))
}

#[test]
fn chinchilla_row_is_a_plain_fit_and_criteria_follow_their_formulas() {
    let Some((table, load)) = epoch() else {
        return;
    };
    let req = FormsRequest {
        laws: vec![
            "chinchilla".into(),
            "kaplan".into(),
            "E + A*N^-alpha".into(),
        ],
        settings: FitNames::default(),
        holdout: None,
    };
    let c = compare_forms(&table, &req, &load).unwrap();
    assert_eq!(c.runs, 240);
    assert_eq!(c.forms.len(), 3);

    // The plain fit, as `scaling fit` makes it.
    let config = FitNames::default().config().unwrap();
    let runs = load_runs(&table, fit::needs(&config.form), &load, None).unwrap();
    let plain = fit_table(
        &table,
        &runs,
        &FitRequest {
            config,
            bootstrap: None,
        },
        &|| {},
    )
    .unwrap();
    let row = &c.forms[0];
    assert_eq!(
        serde_json::to_string(&row.fit).unwrap(),
        serde_json::to_string(&plain).unwrap()
    );
    assert_eq!(row.objective, plain.objective);
    // Besiroglu et al. (2024) replication: objective 1.0182740178e-3 (README golden).
    assert!((row.objective - 1.0182740178e-3).abs() < 1e-12);
    assert_eq!(row.parameters, 5);
    assert_eq!(c.forms[1].parameters, 4);
    assert_eq!(c.forms[2].parameters, 3);

    for r in &c.forms {
        let n = r.fit.residuals.len() as f64;
        assert_eq!(n, 240.0);
        let rss: f64 = r.fit.residuals.iter().map(|x| x * x).sum();
        assert!((r.rss - rss).abs() <= 1e-15 * rss.max(1.0));
        assert!((r.residual_rms - (rss / n).sqrt()).abs() < 1e-15);
        let ll = -n / 2.0 * ((2.0 * std::f64::consts::PI * rss / n).ln() + 1.0);
        let k = r.parameters as f64 + 1.0;
        let aic = 2.0 * k - 2.0 * ll;
        let bic = k * n.ln() - 2.0 * ll;
        assert!((r.log_likelihood.unwrap() - ll).abs() < 1e-9);
        assert!(
            (r.aic.unwrap() - aic).abs() < 1e-9,
            "{} {aic}",
            r.aic.unwrap()
        );
        assert!((r.bic.unwrap() - bic).abs() < 1e-9);
    }
    // The Chinchilla form beats the one-variable law and Kaplan's on these runs.
    assert_eq!(c.best_aic.as_deref(), Some("chinchilla"));
    assert_eq!(c.forms[0].delta_aic, Some(0.0));
    assert!(c.forms[1].delta_aic.unwrap() > 10.0);
    assert!(c.forms[2].delta_bic.unwrap() > 10.0);
    assert!(c.conventions.huber_note.is_some());
}

#[test]
fn no_form_and_a_bad_formula_are_refused_naming_the_form() {
    let Some((table, load)) = epoch() else {
        return;
    };
    let none = compare_forms(&table, &FormsRequest::default(), &load).unwrap_err();
    assert!(none.is_user_error());
    let bad = FormsRequest {
        laws: vec!["chinchilla".into(), "E + A*N^-(alpha".into()],
        settings: FitNames::default(),
        holdout: None,
    };
    let e = compare_forms(&table, &bad, &load).unwrap_err();
    assert!(e.is_user_error());
    assert!(e.to_string().contains("E + A*N^-(alpha"), "{e}");
}

/// Held-out comparison (issue 13 item 4, issue 17's "at least two law forms compared by
/// held-out error"): on Epoch's runs with a cutoff at 1e21 FLOPs, every form is fitted to the
/// runs at or below it and scored on the larger ones, and the Chinchilla row's errors are
/// exactly those of `backtest` on the same split.
#[test]
fn held_out_scores_are_the_backtest_of_each_form() {
    let Some((table, load)) = epoch() else {
        return;
    };
    let holdout = Holdout {
        axis: Axis::Flops,
        value: 1e21,
    };
    let req = FormsRequest {
        laws: vec!["chinchilla".into(), "multiplicative".into()],
        settings: FitNames::default(),
        holdout: Some(holdout.clone()),
    };
    let c = compare_forms(&table, &req, &load).unwrap();
    // The in-sample part does not change with a cutoff.
    assert_eq!(c.runs, 240);
    let chin = c.forms[0]
        .held_out
        .as_ref()
        .expect("chinchilla has a held-out score");
    let mult = c.forms[1]
        .held_out
        .as_ref()
        .expect("multiplicative has a held-out score");
    assert_eq!(chin.summary.runs, 23);
    assert_eq!(mult.summary.runs, 23);
    assert_eq!(chin.train_runs + chin.summary.runs, 240);
    assert!(chin.max_decades > 0.5, "{}", chin.max_decades);

    let config = FitNames::default().config().unwrap();
    let mut needs = fit::needs(&config.form);
    needs.flops = true;
    let runs = load_runs(&table, needs, &load, None).unwrap();
    let b = backtest(
        &table,
        &runs,
        &BacktestRequest {
            fit: FitRequest {
                config,
                bootstrap: None,
            },
            split: Split::Cutoff {
                axis: Axis::Flops,
                value: 1e21,
            },
            distance_axis: None,
            inflation: Inflation::None,
        },
    )
    .unwrap();
    assert_eq!(
        chin.summary.median_abs_relative_error,
        b.summary.median_abs_relative_error
    );
    let n = b.held_out.len() as f64;
    let rmse = (b.held_out.iter().map(|h| h.log_error.powi(2)).sum::<f64>() / n).sqrt();
    assert_eq!(chin.log_rmse, rmse);
    // The two forms extrapolate differently, and the best is named.
    assert_ne!(chin.log_rmse, mult.log_rmse);
    let best = if chin.log_rmse < mult.log_rmse {
        "chinchilla"
    } else {
        "multiplicative"
    };
    assert_eq!(c.best_held_out.as_deref(), Some(best));
    assert!(c
        .conventions
        .holdout
        .as_deref()
        .unwrap()
        .contains("C <= 1e21"));

    // A cutoff below every run leaves nothing to fit: each form says why, none fails the call.
    let low = FormsRequest {
        holdout: Some(Holdout {
            axis: Axis::Flops,
            value: 1.0,
        }),
        ..req
    };
    let c = compare_forms(&table, &low, &load).unwrap();
    assert!(c
        .forms
        .iter()
        .all(|r| r.held_out.is_none() && r.held_out_note.is_some()));
}
