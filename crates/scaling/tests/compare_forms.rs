//! Law forms compared on the same runs (issue 13, item 4): on Epoch AI's 240 runs
//! (Besiroglu et al. 2024, `epoch_chinchilla_svg.csv` without its five highest losses), the
//! Chinchilla row is exactly a plain `fit`, and AIC/BIC follow their formulas (Akaike 1974,
//! Schwarz 1978, Gaussian likelihood on the residuals with sigma^2 = RSS/n).

mod common;

use scaling::accounting::{load_runs, prepare_table, LoadRequest};
use scaling::data::{Filters, RunTable};
use scaling::fit::{self, FitNames};
use scaling::uncertainty::{fit_table, FitRequest};
use scaling::validate::{compare_forms, FormsRequest};

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
    };
    let e = compare_forms(&table, &bad, &load).unwrap_err();
    assert!(e.is_user_error());
    assert!(e.to_string().contains("E + A*N^-(alpha"), "{e}");
}
