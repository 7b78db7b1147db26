"""count, shape, reconcile, plateau and simulate from Python: to_json() equals the command
line's --format json byte for byte on the same request, attributes, and errors."""

import pytest

import scaling
from conftest import cli, data_file


def test_count_json_equals_cli():
    r = scaling.count(layers=80, d_model=8192, heads=64, kv_size=128, ffw=32768, vocab=32000)
    want = cli("count", "--layers", "80", "--d-model", "8192", "--heads", "64", "--kv-size",
               "128", "--ffw", "32768", "--vocab", "32000", "--format", "json")
    assert r.to_json() == want
    assert r.to_frame().loc["six_n", "ratio_to_six_n"] == 1.0
    assert "Chinchilla Appendix F" in repr(r)


def test_count_refuses_width_not_divisible_by_heads():
    with pytest.raises(scaling.InputError, match="not divisible"):
        scaling.count(layers=2, d_model=100, heads=3)


def test_shape_json_equals_cli():
    r = scaling.shape(params=7e9)
    assert r.to_json() == cli("shape", "--params", "7B", "--format", "json")
    assert len(r.to_frame()) == 6


def test_reconcile_json_equals_cli():
    r = scaling.reconcile(preset="epoch")
    assert r.to_json() == cli("reconcile", "--preset", "epoch", "--format", "json")
    assert 0.7 < r.kaplan_range_exponent < 0.9
    with pytest.raises(scaling.InputError):
        scaling.reconcile()


def test_plateau_json_equals_cli_on_bnsl():
    path = data_file("bnsl2022_4digit_addition.csv")
    r = scaling.plateau(str(path), x="training_dataset_size", y="test_cross_entropy", holdout=3)
    want = cli("plateau", str(path), "--x", "training_dataset_size", "--y", "test_cross_entropy",
               "--holdout", "3", "--format", "json")
    assert r.to_json() == want
    assert r.verdict == "still falling"
    with pytest.raises(scaling.InputError, match="not a header"):
        scaling.plateau(str(path), x="nope", y="test_cross_entropy")


def test_plateau_from_a_dataframe_equals_the_file():
    pd = pytest.importorskip("pandas")
    path = data_file("bnsl2022_4digit_addition.csv")
    df = pd.read_csv(path)
    a = scaling.plateau(df, x="training_dataset_size", y="test_cross_entropy", holdout=3)
    b = scaling.plateau(str(path), x="training_dataset_size", y="test_cross_entropy", holdout=3)
    assert a.to_dict() == b.to_dict()


def test_simulate_data_strategy_json_equals_cli():
    r = scaling.simulate_data_strategy(scenario="near-zero", kappa=0.25, sizes="1e2:1e4:2", reps=50)
    want = cli("simulate", "data-strategy", "--scenario", "near-zero", "--kappa", "0.25",
               "--sizes", "1e2:1e4:2", "--reps", "50", "--format", "json")
    assert r.to_json() == want
    assert list(r.to_frame().columns) == ["n", "mean_error", "low", "high"]
    with pytest.raises(scaling.InputError, match="unknown scenario"):
        scaling.simulate_data_strategy(scenario="nope")


def test_simulate_sweep_csv_equals_cli():
    r = scaling.simulate_sweep(preset="epoch", seed=3)
    assert r.csv == cli("simulate", "sweep", "--preset", "epoch", "--seed", "3")
    assert len(r.to_frame()) == 90
    with pytest.raises(scaling.InputError, match="at least 2"):
        scaling.simulate_sweep(preset="epoch", per_budget=1)


def test_fit_repr_html_shows_table_and_plot():
    path = data_file("epoch_chinchilla_svg.csv")
    f = scaling.fit(str(path), drop_top_loss=5)
    h = f._repr_html_()
    assert "<table>" in h and "<svg" in h and "alpha" in h
