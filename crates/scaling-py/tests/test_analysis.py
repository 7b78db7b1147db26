"""scaling.predict, test_law, calibrate, demo, plot and report from Python: the same JSON as the
command line (`to_json()` byte for byte), vectorised prediction, and errors as exceptions."""

import json

import numpy as np
import pytest

import scaling
from conftest import cli, data_file

EPOCH = "epoch_chinchilla_svg.csv"


@pytest.fixture(scope="module")
def saved_fit(tmp_path_factory):
    path = str(data_file(EPOCH))
    fit = scaling.fit(path, drop_top_loss=5, bootstrap=60, seed=7, progress=False)
    out = tmp_path_factory.mktemp("fit") / "fit.json"
    out.write_text(fit.to_json())
    return fit, str(out)


def test_predict_equals_cli_json(saved_fit):
    fit, path = saved_fit
    py = scaling.predict(path, params=70e9, flops=5.88e23, level=0.9)
    assert py.to_json() == cli("predict", path, "--params", "70e9", "--flops", "5.88e23",
                               "--level", "0.9", "--format", "json")
    lo, hi = py.new_run_interval
    assert lo < py.loss < hi
    # A Fit object gives the same numbers as its saved file (the label differs).
    same = scaling.predict(fit, params=70e9, flops=5.88e23, level=0.9)
    assert same.to_dict()["interval"] == py.to_dict()["interval"]


def test_predict_preset_equals_cli_text():
    py = scaling.predict("chinchilla", params=70e9, tokens=1.4e12)
    assert str(py) == cli("predict", "--preset", "chinchilla", "--params", "70e9",
                          "--tokens", "1.4e12")


def test_predict_vectorised_matches_pointwise(saved_fit):
    fit, _ = saved_fit
    n = np.array([1e9, 7e9, 70e9])
    many = scaling.predict(fit, params=n, tokens=20 * n)
    assert len(many) == 3
    for i in range(3):
        one = scaling.predict(fit, params=float(n[i]), tokens=float(20 * n[i]))
        assert many.loss[i] == one.loss
        assert list(many.interval[i]) == one.interval
        assert list(many.new_run_interval[i]) == one.new_run_interval
    frame = many.to_frame()
    assert list(frame["loss"]) == list(many.loss)
    # A scalar broadcasts against an array.
    assert len(scaling.predict("chinchilla", params=n, tokens=1e12)) == 3


def test_predict_errors_name_keywords():
    with pytest.raises(scaling.InputError, match="this law needs params"):
        scaling.predict("chinchilla", tokens=1e10)
    with pytest.raises(scaling.InputError, match="point 1: "):
        scaling.predict("chinchilla", params=[1e9, -1.0], tokens=[1e10, 1e10])


def test_test_law_equals_cli_json(saved_fit):
    _, path = saved_fit
    py = scaling.test_law(path, "epoch")
    assert py.to_json() == cli("test", path, "--preset", "epoch", "--format", "json")
    assert 0 <= py.chi2_p_value <= 1
    assert scaling.test is scaling.test_law


def test_calibrate_equals_cli_json():
    path = str(data_file(EPOCH))
    py = scaling.calibrate(path, drop_top_loss=5, datasets=3, bootstrap=10, noise="gaussian",
                           progress=False)
    assert py.to_json() == cli("calibrate", path, "--drop-top-loss", "5", "--datasets", "3",
                               "--bootstrap", "10", "--noise", "gaussian", "-q",
                               "--format", "json")
    assert set(py.coverage) == {"alpha", "beta", "E", "a", "G"}
    grouped = scaling.calibrate(path, drop_top_loss=5, datasets=3, bootstrap=10,
                                noise="grouped", cluster="N", progress=False)
    assert grouped.to_json() == cli("calibrate", path, "--drop-top-loss", "5", "--datasets", "3",
                                    "--bootstrap", "10", "--noise", "grouped", "--cluster-col",
                                    "N", "-q", "--format", "json")
    assert "model sizes" in grouped.to_dict()["resampled"]


def test_demo_equals_cli_json_and_runs_csv(tmp_path):
    py = scaling.demo(bootstrap=20, per_budget=4, seed=2, progress=False)
    runs = tmp_path / "runs.csv"
    assert py.to_json() == cli("demo", "--bootstrap", "20", "--per-budget", "4", "--seed", "2",
                               "--write-runs", str(runs), "--format", "json")
    assert py.runs_csv() == runs.read_text()
    assert py.fit.params["alpha"] == py.to_dict()["fit"]["params"]["alpha"]


def test_plot_equals_cli_svg(tmp_path):
    path = str(data_file(EPOCH))
    out = tmp_path / "lc.svg"
    cli("plot", "loss-compute", path, "--bootstrap", "30", "--seed", "1", "-o", str(out))
    py = scaling.plot("loss-compute", path, bootstrap=30, seed=1)
    assert py.svg == out.read_text()
    assert py._repr_svg_().startswith("<svg")
    with pytest.raises(scaling.InputError, match="unknown plot kind"):
        scaling.plot("pie", path)


def test_report_from_a_saved_fit_to_string_and_file(saved_fit, tmp_path):
    fit, path = saved_fit
    html = scaling.report(fit=path)
    assert html.startswith("<!DOCTYPE html>")
    assert "with 60 bootstrap replicates" in html and "read from a saved fit" in html
    assert "<h2>Backtest:" in html and "<h2>Which runs next?" in html
    out = tmp_path / "r.html"
    assert scaling.report(fit=fit, path=str(out)) == out.read_text()
    with pytest.raises(scaling.InputError, match="exists"):
        scaling.report(fit=fit, path=str(out))
