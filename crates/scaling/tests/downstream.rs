//! Downstream accuracy prediction (`scaling::downstream`) against published numbers and the
//! authors' code, on the real data in ../shared/data (skipped with a message when absent).

mod common;

use scaling::data::RunTable;
use scaling::downstream::{
    apply_recipe, downstream, join_tables, DownstreamOptions, DownstreamRequest, DownstreamResult,
    Target, Task,
};

fn gadre_request() -> DownstreamRequest {
    let mut req = DownstreamRequest::default();
    apply_recipe(&mut req, "gadre").unwrap();
    req.run_col = Some("name".into());
    // The paper's fitting set (Gadre et al. 2024, Sec. 3; PROVENANCE.md): d = 96, 512, 576,
    // 1024 at M = 20 and d = 96 at M = 320 for the loss law; plus open_lm_1b at M = 20 for
    // the error law. RedPajama only.
    req.fit_where = Some(
        "dataset_name == 'rpj' and (chinchilla_multiplier == 1 and model_config != 'open_lm_7b' \
         or name == 'rpj-d=96_l=8_h=4-16.0')"
            .into(),
    );
    req.step1_where = Some("model_config != 'open_lm_1b'".into());
    req.tasks = vec![Task {
        name: "17-task error".into(),
        feature: Some("loss_c4_val".into()),
        metric: "err_avg17_subset".into(),
        chance: 0.0,
        max: 1.0,
        weight: 1.0,
    }];
    req.targets = vec![
        Target::Run("rpj-open_lm_7b-1.0".into()),
        Target::Run("rpj-open_lm_1b-32.0".into()),
    ];
    req
}

fn gadre_table() -> Option<RunTable> {
    let a = RunTable::read(common::shared_data("gadre2024_overtraining_testbed.csv")?).unwrap();
    let b = RunTable::read(common::shared_data("gadre2024_downstream_evals.csv")?).unwrap();
    Some(join_tables(&a, &b, "name").unwrap())
}

#[test]
fn gadre_error_law_and_chained_errors_match_the_paper() {
    let Some(table) = gadre_table() else { return };
    let r: DownstreamResult = downstream(&table, &gadre_request(), &|| {}).unwrap();
    let t = &r.tasks[0];
    let p = &t.step2.params;
    // Gadre et al. 2024, Fig. 1 (RedPajama, 17-task split): eps, k, gamma = 0.857, 2.21,
    // 0.715; the authors' notebook gives 0.856992, 2.206490, 0.714591 (PROVENANCE.md).
    assert!((p["eps"].unwrap() - 0.856992).abs() < 5e-6, "{p:?}");
    assert!((p["k"].unwrap() - 2.206490).abs() < 5e-5, "{p:?}");
    assert!((p["gamma"].unwrap() - 0.714591).abs() < 5e-6, "{p:?}");
    // The loss law (Fig. 1): E, a, b, eta = 1.84, 212, 367, 0.136 (notebook: 1.836648,
    // 212.236, 366.687, 0.136425).
    let q = &t.step1.as_ref().unwrap().params;
    assert!((q["E"].unwrap() - 1.836648).abs() < 1e-3, "{q:?}");
    assert!((q["eta"].unwrap() - 0.136425).abs() < 1e-4, "{q:?}");
    // Held-out relative errors of the chained 17-task error: 0.0464% (6.9B, M = 20) and
    // 3.6365% (1.4B, M = 640) (the notebook's committed output; the paper: 0.05% and 3.6%).
    let rel: Vec<f64> = t
        .predictions
        .iter()
        .map(|p| p.relative_error.unwrap())
        .collect();
    assert!((rel[0] * 100.0 - 0.0464).abs() < 0.005, "{rel:?}");
    assert!((rel[1] * 100.0 - 3.6365).abs() < 0.005, "{rel:?}");
}

/// Chained predictions of the authors' method for (7B-4T, 13B-5T) on the paper's eight tasks.
/// Reference computation: scripts/ladder_reference.py with numpy/scipy (the OLMo-ladder
/// method: L-BFGS-B step 1 from the authors' p0, curve_fit step 2); its 13B-5T values equal
/// the repo's committed figures/chained_main.csv to 4e-7.
const LADDER_REFERENCE: [(&str, f64, f64); 8] = [
    ("mmlu_avg_test", 0.4838143647027684, 0.5126803861788596),
    ("hellaswag_val", 0.825231395208397, 0.8530360719207872),
    ("arc_challenge_test", 0.5149602661320327, 0.5267099472557416),
    ("arc_easy_test", 0.7658832403568342, 0.7724155991597415),
    ("piqa_val", 0.8122019630999981, 0.8208041725563126),
    ("csqa_val", 0.7571229991114458, 0.7760885042390608),
    ("socialiqa_val", 0.5874268341346232, 0.5994823093649344),
    ("openbookqa_test", 0.4416879444014782, 0.44864772831265476),
];

fn ladder_request(replicates: usize) -> DownstreamRequest {
    let mut req = DownstreamRequest::default();
    apply_recipe(&mut req, "ladder").unwrap();
    req.targets = vec![Target::Run("7B-4T".into()), Target::Run("13B-5T".into())];
    req.replicates = replicates;
    req
}

#[test]
fn ladder_recipe_reproduces_the_authors_code_to_1e4() {
    let Some(path) = common::shared_data("bhagia2024_ladder_evals.csv") else {
        return;
    };
    let table = RunTable::read(path).unwrap();
    let r = downstream(&table, &ladder_request(0), &|| {}).unwrap();
    assert_eq!(r.tasks.len(), 8);
    for (t, (name, p7, p13)) in r.tasks.iter().zip(LADDER_REFERENCE) {
        assert_eq!(t.task.name, name);
        let (a, b) = (t.predictions[0].predicted, t.predictions[1].predicted);
        eprintln!("{name}: {a:.7} vs {p7:.7}   {b:.7} vs {p13:.7}");
        assert!((a - p7).abs() < 1e-4, "{name} 7B-4T: {a} vs {p7}");
        assert!((b - p13).abs() < 1e-4, "{name} 13B-5T: {b} vs {p13}");
    }
    // Bhagia et al. 2024, Sec. 4: average absolute error 3.8 points (7B-4T), 4.2 (13B-5T).
    let e: Vec<f64> = r
        .average
        .iter()
        .map(|a| a.mean_abs_error_points.unwrap())
        .collect();
    assert!((e[0] - 3.8).abs() < 0.05, "{e:?}");
    assert!((e[1] - 4.2).abs() < 0.05, "{e:?}");
}

#[test]
fn ruan_single_step_sigmoid_per_benchmark_with_intervals_and_caveats() {
    let Some(path) = common::shared_data("ruan2024_obsscaling_base_llm_benchmark_eval.csv") else {
        return;
    };
    let table = RunTable::read(path).unwrap();
    let mut req = DownstreamRequest::default();
    apply_recipe(&mut req, "ruan").unwrap();
    req.targets = vec![Target::Compute { c: 1e24 }];
    req.replicates = 20;
    let r = downstream(&table, &req, &|| {}).unwrap();
    assert_eq!(r.mode, "single-step");
    assert_eq!(r.tasks.len(), 8);
    for t in &r.tasks {
        let p = &t.predictions[0];
        let [lo, hi] = p.interval.unwrap();
        assert!(
            lo <= p.predicted && p.predicted <= hi,
            "{}: {p:?}",
            t.task.name
        );
        assert!(
            p.predicted > 0.0 && p.predicted <= 1.0,
            "{}: {p:?}",
            t.task.name
        );
        // 148 models, 25 without FLOPs: 123 fitting rows less the blank cells of a benchmark.
        assert!(t.step2_points.len() >= 100, "{}", t.task.name);
    }
    // Rising with compute: MMLU at 1e24 FLOPs is above the best fitted models' median.
    let mmlu = &r.tasks[0];
    assert!(mmlu.step2.params["a"].unwrap() > 0.0);
    assert!(r.warnings.iter().any(|w| w.contains("model families")));
    assert!(r.notes.iter().any(|n| n.contains("mixture-of-experts")));
}

/// MMLU's four test groups as tasks, weighted as the OLMo-ladder code weights them
/// (`WEIGHT_BY_KEY`: stem 0.215, humanities 0.335, social sciences 0.219, other 0.231;
/// PROVENANCE.md), with the ladder recipe.
fn mmlu_groups(replicates: usize, weights: &[&str]) -> Option<DownstreamResult> {
    let path = common::shared_data("bhagia2024_ladder_evals.csv")?;
    let table = RunTable::read(path).unwrap();
    let opts = DownstreamOptions {
        recipe: Some("ladder".into()),
        tasks: ["stem", "humanities", "social_sciences", "other"]
            .iter()
            .map(|g| format!("mmlu_{g}_test_bpb:mmlu_{g}_test_rc_acc"))
            .collect(),
        task_weights: weights.iter().map(|w| w.to_string()).collect(),
        targets: vec!["7B-4T".into(), "13B-5T".into()],
        bootstrap: replicates,
        seed: 3,
        ..DownstreamOptions::default()
    };
    Some(downstream(&table, &opts.request().unwrap(), &|| {}).unwrap())
}

const MMLU_WEIGHTS: [&str; 4] = [
    "mmlu_stem_test_rc_acc=0.215",
    "mmlu_humanities_test_rc_acc=0.335",
    "mmlu_social_sciences_test_rc_acc=0.219",
    "mmlu_other_test_rc_acc=0.231",
];

#[test]
fn weighted_average_of_mmlu_groups_uses_the_subject_weights() {
    let Some(r) = mmlu_groups(40, &MMLU_WEIGHTS) else {
        return;
    };
    let w = &r.conventions["task_weights"];
    assert_eq!(w["mmlu_humanities_test_rc_acc"], 0.335, "{w}");
    assert_eq!(w["mmlu_stem_test_rc_acc"], 0.215, "{w}");
    let ws = [0.215, 0.335, 0.219, 0.231];
    for (ti, a) in r.average.iter().enumerate() {
        // The weighted mean of the groups' actual accuracies is the data file's derived
        // mmlu_avg_test_rc_acc (the same weights; PROVENANCE.md): 7B-4T 0.490108 (its one
        // row), 13B-5T 0.516140 (mean of its last 5 rows, as the recipe takes an actual value;
        // computed from the CSV with Python's csv module).
        let expect_actual = [0.490_108_310, 0.516_140_237][ti];
        let actual = a.actual.unwrap();
        assert!(
            (actual - expect_actual).abs() < 5e-6,
            "{} {actual}",
            a.target
        );
        let p: f64 = r
            .tasks
            .iter()
            .zip(ws)
            .map(|(t, w)| w * t.predictions[ti].predicted)
            .sum();
        assert!((a.predicted - p).abs() < 1e-12, "{} {p}", a.target);
        assert!((a.error.unwrap() - (p - actual)).abs() < 1e-12);
        let [lo, hi] = a.interval.unwrap();
        assert!(lo < a.predicted && a.predicted < hi, "{a:?}");
    }
}

#[test]
fn weighted_average_interval_comes_from_the_same_replicates() {
    // All weight on one task: the average's interval is that task's own (replicate r of
    // every task resamples the same runs, so the weighted means are the task's values).
    let Some(r) = mmlu_groups(
        30,
        &[
            "mmlu_stem_test_rc_acc=0",
            "mmlu_humanities_test_rc_acc=2",
            "mmlu_social_sciences_test_rc_acc=0",
            "mmlu_other_test_rc_acc=0",
        ],
    ) else {
        return;
    };
    assert!(r.tasks.iter().all(|t| t.failed_replicates == 0));
    for (ti, a) in r.average.iter().enumerate() {
        let p = &r.tasks[1].predictions[ti];
        assert_eq!(a.predicted, p.predicted);
        assert_eq!(a.interval, p.interval, "{}", a.target);
    }
}

#[test]
fn task_weights_must_name_every_task_once() {
    let mut opts = DownstreamOptions {
        tasks: vec!["f1:m1".into(), "f2:m2".into()],
        task_weights: vec!["m1=1".into()],
        at: vec!["1B:20B".into()],
        ..DownstreamOptions::default()
    };
    let e = opts.request().unwrap_err().to_string();
    assert!(e.contains("not for m2"), "{e}");
    opts.task_weights = vec!["m1=1".into(), "m3=2".into()];
    let e = opts.request().unwrap_err().to_string();
    assert!(
        e.contains("no task is named \"m3\"") && e.contains("m1, m2"),
        "{e}"
    );
    opts.task_weights = vec!["m1=1".into(), "m2=-1".into()];
    assert!(opts.request().is_err());
    opts.task_weights = vec!["m1=0.25".into(), "m2=0.75".into()];
    let req = opts.request().unwrap();
    assert_eq!(
        req.tasks.iter().map(|t| t.weight).collect::<Vec<_>>(),
        [0.25, 0.75]
    );
}

#[test]
fn the_figure_draws_every_task_and_rasterises() {
    let Some(r) = mmlu_groups(0, &MMLU_WEIGHTS) else {
        return;
    };
    let svg = scaling::report::downstream::downstream_svg(&r);
    // The summary row, then per task step 1 and step 2, with the targets in the legends.
    assert!(svg.contains("Chained prediction against actual (4 tasks)"));
    for g in ["stem", "humanities", "social_sciences", "other"] {
        assert!(
            svg.contains(&format!("mmlu_{g}_test_rc_acc: step 1")),
            "{g}"
        );
        assert!(
            svg.contains(&format!("mmlu_{g}_test_rc_acc: step 2")),
            "{g}"
        );
    }
    assert!(svg.contains("7B-4T predicted") && svg.contains("13B-5T actual"));
    assert!(!svg.contains("NaN") && !svg.contains("inf"));
    // resvg parses it (a malformed nesting of the rows would fail here).
    let png = scaling::report::png::svg_to_png(&svg, 0.5).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let page = scaling::report::html::html_downstream(&r, &[]);
    assert!(page.contains("<th>weighted average</th>") && page.contains("Target 13B-5T"));
}

/// Issue 17 item 1, downstream: a backtest whose cutoff holds out only the OLMo ladder's 7B-4T
/// and 13B-5T models gives exactly the predictions of `downstream` with those two targets
/// (Bhagia et al. 2024: mean absolute errors 3.8 and 4.2 points, pooled 4.0), and rolling the
/// cutoff down shows the error growing with the distance in decades.
#[test]
fn downstream_backtest_of_the_ladder_equals_the_prediction_of_its_targets() {
    let Some(path) = common::shared_data("bhagia2024_ladder_evals.csv") else {
        return;
    };
    let table = RunTable::read(path).unwrap();
    let direct = downstream(&table, &ladder_request(0), &|| {}).unwrap();
    let mut req = ladder_request(0);
    req.targets.clear();
    // The backtest's runs are those the fitting filter selects: the recipe's is the ladder
    // alone, so the 7B and 13B targets are let in.
    req.fit_where = Some("role == 'ladder' or role == 'target'".into());
    let b = scaling::downstream::backtest(&table, &req, &[1e20, 1e22], &|| {}).unwrap();
    let c = &b.cutoffs[1];
    assert_eq!((c.train_runs, c.held_out_runs), (16, 2));
    assert_eq!(c.held_out.len(), 16, "8 tasks x 2 runs");
    for t in &direct.tasks {
        for p in &t.predictions {
            let h = c
                .held_out
                .iter()
                .find(|h| h.task == t.task.name && h.run == p.target)
                .unwrap();
            assert_eq!(h.predicted, p.predicted, "{} {}", h.task, h.run);
            assert_eq!(h.error, p.predicted - p.actual.unwrap());
            assert!(h.decades > 1.8 && h.decades < 2.4, "{}", h.decades);
        }
    }
    let mae = c.summary.mean_abs_error_points.unwrap();
    assert!((mae - 4.0).abs() < 0.05, "{mae}");
    // The lower cutoff fits 8 runs and predicts 10, further out and worse.
    let low = &b.cutoffs[0];
    assert_eq!((low.train_runs, low.held_out_runs), (8, 10));
    assert!(low.summary.max_abs_error_points.unwrap() > c.summary.max_abs_error_points.unwrap());
    assert_eq!(b.pooled.predictions, 16 + 80);
    assert!(b.pooled.coverage.is_none(), "no bootstrap, no coverage");
    assert!(b.conventions["split"]
        .as_str()
        .unwrap()
        .contains("last row"));
    // With the recipe's own filter the backtest stays on the ladder: 16 runs, none beyond.
    let mut recipe = ladder_request(0);
    recipe.targets.clear();
    let b = scaling::downstream::backtest(&table, &recipe, &[1e20], &|| {}).unwrap();
    assert_eq!(b.cutoffs[0].train_runs + b.cutoffs[0].held_out_runs, 16);
}

/// The Gadre testbed (RedPajama runs; the gadre recipe's laws) backtested at three cutoffs with
/// a bootstrap: every held-out run lies beyond its cutoff, each cutoff's runs add up to the
/// table's, coverage is reported per cutoff and by distance, and a cutoff below every run is
/// reported with its reason while the others go on.
#[test]
fn downstream_backtest_of_gadre_reports_coverage_by_distance() {
    let Some(table) = gadre_table() else { return };
    let mut req = gadre_request();
    req.targets.clear();
    req.fit_where = Some("dataset_name == 'rpj'".into());
    req.step1_where = None;
    req.replicates = 50;
    let b = scaling::downstream::backtest(&table, &req, &[1e10, 1e19, 1e20, 1e21], &|| {}).unwrap();
    assert!(b.cutoffs[0]
        .error
        .as_deref()
        .unwrap()
        .contains("0 run(s) at or below"));
    // The filter's 35 RedPajama runs, and no other dataset's.
    assert_eq!(b.cutoffs[0].held_out_runs, 35);
    for c in &b.cutoffs[1..] {
        assert!(c.error.is_none(), "{:?}", c.error);
        assert_eq!(c.train_runs + c.held_out_runs, 35);
        assert!(c.held_out.iter().all(|h| h.run.starts_with("rpj")));
        assert!(c
            .held_out
            .iter()
            .all(|h| h.flops > c.cutoff && h.decades > 0.0));
        assert!(c.summary.coverage.is_some());
    }
    let pooled: usize = b.by_distance.iter().map(|d| d.summary.predictions).sum();
    assert_eq!(pooled, b.pooled.predictions);
    let cov = b.pooled.coverage.unwrap();
    eprintln!(
        "Gadre rpj downstream backtest: pooled coverage {cov}, by distance {:?}",
        b.by_distance
            .iter()
            .map(|d| (
                d.from_decades,
                d.summary.median_abs_error_points,
                d.summary.coverage
            ))
            .collect::<Vec<_>>()
    );
    assert!(cov > 0.8, "{cov}");
    // Far predictions err more than near ones.
    let first = b
        .by_distance
        .first()
        .unwrap()
        .summary
        .median_abs_error_points
        .unwrap();
    let last = b
        .by_distance
        .last()
        .unwrap()
        .summary
        .median_abs_error_points
        .unwrap();
    assert!(last > first, "{first} {last}");
}

/// Ruan et al.'s base models backtested at 1e22 FLOPs: TruthfulQA does not rise with compute
/// among the 31 training models (its step-2 sigmoid is flat and unidentified), so it is left out
/// with a warning while the other seven benchmarks are predicted; the weighted average is left
/// out too. Every prediction comes from a fit of the runs at or below the cutoff only: an
/// MMLU held-out score equals `downstream` fitted with the runs above the cutoff excluded by
/// the fitting filter. (An earlier fallback predicted targets one at a time, and each such
/// call fitted the other held-out runs too.)
#[test]
fn ruan_backtest_leaves_out_an_unpredictable_task_and_fits_only_below_the_cutoff() {
    let Some(path) = common::shared_data("ruan2024_obsscaling_base_llm_benchmark_eval.csv") else {
        return;
    };
    let table = RunTable::read(path).unwrap();
    let mut req = DownstreamRequest::default();
    apply_recipe(&mut req, "ruan").unwrap();
    let b = scaling::downstream::backtest(&table, &req, &[1e22], &|| {}).unwrap();
    let c = &b.cutoffs[0];
    assert!(c.error.is_none(), "{:?}", c.error);
    assert_eq!((c.train_runs, c.held_out_runs), (31, 92));
    assert!(c.held_out.iter().all(|h| h.task != "TruthfulQA"));
    assert!(c.held_out.iter().any(|h| h.task == "MMLU"));
    assert!(
        c.warnings
            .iter()
            .any(|w| w.starts_with("TruthfulQA: the prediction at")
                && w.contains("none of the task's 92 target(s) is predicted")),
        "{:?}",
        c.warnings
    );
    // The lost task's own warnings are kept (its step 2 is not identified); a backtest
    // reports no weighted average, so its absence is not warned about.
    assert!(
        c.warnings
            .iter()
            .any(|w| w.starts_with("TruthfulQA: step 2 is not identified")),
        "{:?}",
        c.warnings
    );
    assert!(c.warnings.iter().all(|w| !w.contains("weighted average")));
    // One held-out MMLU score, predicted directly from the runs at or below the cutoff.
    let h = c.held_out.iter().find(|h| h.task == "MMLU").unwrap();
    let mut one = req.clone();
    one.targets = vec![Target::Run(h.run.clone())];
    let below = format!("`FLOPs (1E21)` <= 10 or Model == '{}'", h.run);
    one.fit_where = Some(match &req.fit_where {
        Some(f) => format!("({f}) and ({below})"),
        None => below,
    });
    let direct = downstream(&table, &one, &|| {}).unwrap();
    let mmlu = direct.tasks.iter().find(|t| t.task.name == "MMLU").unwrap();
    assert_eq!(mmlu.predictions[0].predicted, h.predicted);
}

/// Two tasks, one of which cannot predict a target (its step-1 law overflows at N = 1e-200
/// with alpha near 2): that task is left out at that target only, the other task predicts it,
/// and every renderer shows each task's own prediction under the right target (a task's
/// predictions are looked up by target, not by position) without the weighted average there.
#[test]
fn a_target_one_task_cannot_predict_is_left_out_of_that_task_only() {
    let mut csv = String::from("run,N,D,loss1,acc1,loss2,acc2\n");
    let mut i = 0;
    for k in 0..7 {
        let n = 1e7 * 2f64.powi(k);
        for m in [10.0, 20.0, 40.0] {
            let d = m * n;
            let l1 = 1.46 + 4.8e14 * n.powf(-2.03) + 315.0 * d.powf(-0.285);
            let l2 = 1.76 + 55.0 * n.powf(-0.316) + 222.0 * d.powf(-0.279);
            let acc = |l: f64| 0.95 - 0.7 / (1.0 + (-3.9 * (l - 2.55)).exp());
            csv.push_str(&format!("r{i},{n},{d},{l1},{},{l2},{}\n", acc(l1), acc(l2)));
            i += 1;
        }
    }
    let table = RunTable::from_csv_str("two.csv", &csv).unwrap();
    let opts = DownstreamOptions {
        // The task that loses the target comes second, so position-based rendering would
        // show the wrong prediction or index out of bounds.
        tasks: vec!["loss2:acc2".into(), "loss1:acc1".into()],
        params_col: Some("N".into()),
        tokens_col: Some("D".into()),
        law: Some("E + A*N^-alpha + B*D^-beta".into()),
        at: vec!["1e-200:1e12".into(), "1e9:2e10".into()],
        ..DownstreamOptions::default()
    };
    let r = downstream(&table, &opts.request().unwrap(), &|| {}).unwrap();
    let (acc2, acc1) = (&r.tasks[0], &r.tasks[1]);
    assert_eq!(acc2.predictions.len(), 2);
    assert_eq!(
        acc1.predictions.len(),
        1,
        "acc1 cannot predict at N = 1e-200"
    );
    let far = &acc2.predictions[0].target;
    let near = &acc2.predictions[1].target;
    assert_eq!(&acc1.predictions[0].target, near);
    assert!(acc1
        .warnings
        .iter()
        .any(|w| w.contains(far.as_str()) && w.contains("left out")));
    // The average only where both tasks predicted, and a warning for the other target.
    assert_eq!(r.average.len(), 1);
    assert_eq!(&r.average[0].target, near);
    assert!(r
        .warnings
        .iter()
        .any(|w| w.contains("weighted average") && w.contains(far.as_str())));
    let targets: Vec<&str> = r.targets().iter().map(|p| p.target.as_str()).collect();
    assert_eq!(targets, [far.as_str(), near.as_str()]);
    // The text shows acc1's own prediction under the near target, and "not predicted" under
    // the far one.
    let text = scaling::report::downstream::downstream_text(&r);
    let block = text
        .split("\ntarget ")
        .find(|b| b.starts_with(near.as_str()))
        .unwrap();
    let acc1_line = block
        .lines()
        .find(|l| l.trim_start().starts_with("acc1"))
        .unwrap();
    assert!(
        acc1_line.contains(&format!("{:.4}", acc1.predictions[0].predicted)),
        "{acc1_line}"
    );
    let far_block = text
        .split("\ntarget ")
        .find(|b| b.starts_with(far.as_str()))
        .unwrap();
    assert!(far_block.contains("not predicted"), "{far_block}");
    assert!(!far_block.contains("weighted average"), "{far_block}");
    let svg = scaling::report::downstream::downstream_svg(&r);
    assert!(svg.contains("<svg"));
    let page = scaling::report::html::html_downstream(&r, &[]);
    assert!(page.contains("not predicted"));
}
