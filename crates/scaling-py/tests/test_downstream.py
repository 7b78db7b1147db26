"""scaling.downstream from Python: the command line's JSON byte for byte on the real data, the
published numbers through the Python API, and a typed error for bad input."""

import pytest

import scaling
from conftest import cli, data_file

GADRE_WHERE = ("dataset_name == 'rpj' and (chinchilla_multiplier == 1 and model_config != "
               "'open_lm_7b' or name == 'rpj-d=96_l=8_h=4-16.0')")


def _gadre(**kw):
    a = data_file("gadre2024_overtraining_testbed.csv")
    b = data_file("gadre2024_downstream_evals.csv")
    return str(a), str(b), scaling.downstream(
        str(a), join=str(b), on="name", recipe="gadre", run_col="name", where=GADRE_WHERE,
        step1_where="model_config != 'open_lm_1b'", feature="loss_c4_val",
        metric="err_avg17_subset", chance=0.0,
        targets=["rpj-open_lm_7b-1.0", "rpj-open_lm_1b-32.0"], **kw)


def test_downstream_gadre_matches_cli_json_bit_for_bit_and_the_paper():
    a, b, py = _gadre(bootstrap=50, seed=1)
    assert py.to_json() == cli(
        "downstream", a, "--join", b, "--on", "name", "--recipe", "gadre", "--run-col", "name",
        "--where", GADRE_WHERE, "--step1-where", "model_config != 'open_lm_1b'",
        "--feature", "loss_c4_val", "--metric", "err_avg17_subset", "--chance", "0",
        "--target", "rpj-open_lm_7b-1.0", "--target", "rpj-open_lm_1b-32.0",
        "--bootstrap", "50", "--seed", "1", "--format", "json")
    # Gadre et al. 2024, Fig. 1: eps, k, gamma = 0.857, 2.21, 0.715 (RedPajama, 17 tasks).
    p = py.tasks[0]["step2"]["params"]
    assert abs(p["eps"] - 0.857) < 5e-4 and abs(p["k"] - 2.21) < 5e-3
    assert abs(p["gamma"] - 0.715) < 5e-4
    # Relative errors of the chained prediction: 0.05% (6.9B, M = 20), 3.6% (1.4B, M = 640).
    rel = [q["relative_error"] for q in py.tasks[0]["predictions"]]
    assert abs(rel[0] * 100 - 0.05) < 0.01 and abs(rel[1] * 100 - 3.6) < 0.05
    frame = py.to_frame()
    assert len(frame) == 2 and "interval_low" in frame.columns


def test_downstream_ladder_recipe_from_a_dataframe():
    import pandas as pd

    path = data_file("bhagia2024_ladder_evals.csv")
    r = scaling.downstream(pd.read_csv(path), recipe="ladder", targets=["7B-4T", "13B-5T"])
    # Bhagia et al. 2024: average absolute error 3.8 points (7B-4T) and 4.2 (13B-5T).
    errs = [a["mean_abs_error_points"] for a in r.average]
    assert abs(errs[0] - 3.8) < 0.05 and abs(errs[1] - 4.2) < 0.05
    assert r.conventions["recipe"] == "ladder"


def test_downstream_bad_input_is_an_input_error():
    path = data_file("bhagia2024_ladder_evals.csv")
    with pytest.raises(scaling.InputError, match="no column for metric column"):
        scaling.downstream(str(path), recipe="ladder", tasks=["no_such_column:x"],
                           targets=["7B-4T"])
    with pytest.raises(scaling.InputError, match="recipe"):
        scaling.downstream(str(path), recipe="nope", targets=["7B-4T"])


def test_downstream_task_weights_and_figure(tmp_path):
    path = data_file("bhagia2024_ladder_evals.csv")
    groups = {"stem": 0.215, "humanities": 0.335, "social_sciences": 0.219, "other": 0.231}
    r = scaling.downstream(
        str(path), recipe="ladder", targets=["7B-4T"],
        tasks=[f"mmlu_{g}_test_bpb:mmlu_{g}_test_rc_acc" for g in groups],
        task_weights={f"mmlu_{g}_test_rc_acc": w for g, w in groups.items()})
    assert r.conventions["task_weights"]["mmlu_humanities_test_rc_acc"] == 0.335
    # The groups' weighted actual accuracy is the file's derived mmlu_avg_test_rc_acc
    # (PROVENANCE.md: the repo's WEIGHT_BY_KEY), 0.490108 for 7B-4T.
    assert abs(r.average[0]["actual"] - 0.490108310) < 5e-6
    svg = r.svg()
    assert svg.startswith("<svg") and "mmlu_stem_test_rc_acc: step 2" in svg
    assert r._repr_svg_() == svg
    out = tmp_path / "ds.svg"
    r.plot(out)
    assert out.read_text() == svg
    with pytest.raises(scaling.InputError, match="exists"):
        r.plot(out)
    with pytest.raises(scaling.InputError, match="no task is named"):
        scaling.downstream(str(path), recipe="ladder", targets=["7B-4T"],
                           task_weights={"nope": 1})


def test_downstream_backtest_matches_cli_json_and_holds_out_the_large_runs():
    a = str(data_file("gadre2024_overtraining_testbed.csv"))
    b = str(data_file("gadre2024_downstream_evals.csv"))
    kw = dict(join=b, on="name", recipe="gadre", run_col="name", where="dataset_name == 'rpj'",
              feature="loss_c4_val", metric="err_avg17_subset", chance=0.0, bootstrap=20, seed=1)
    py = scaling.downstream_backtest(a, [1e20, 1e21], **kw)
    assert py.to_json() == cli(
        "downstream", a, "--join", b, "--on", "name", "--recipe", "gadre", "--run-col", "name",
        "--where", "dataset_name == 'rpj'", "--feature", "loss_c4_val",
        "--metric", "err_avg17_subset", "--chance", "0", "--bootstrap", "20", "--seed", "1",
        "--backtest", "1e20,1e21", "--format", "json")
    assert [c["cutoff"] for c in py.cutoffs] == [1e20, 1e21]
    frame = py.to_frame()
    assert (frame["flops"] > frame["cutoff"]).all() and (frame["decades"] > 0).all()
    assert py.pooled["coverage"] is not None
    assert py.svg().startswith("<svg")
    with pytest.raises(scaling.InputError, match="targets"):
        scaling.downstream_backtest(a, 1e20, targets=["x"], **kw)
    with pytest.raises(scaling.InputError, match="cutoffs"):
        scaling.downstream_backtest(a, [0.0], **kw)
