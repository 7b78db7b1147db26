"""`scaling.compare_forms`: law forms compared on the same runs, the same JSON as
`scaling forms --format json`; on Epoch AI's 240 runs (Besiroglu et al. 2024) the Chinchilla row
is `scaling.fit` exactly and AIC/BIC follow their formulas (Akaike 1974; Schwarz 1978)."""

import math

import pytest

import scaling
from conftest import cli, data_file

EPOCH = "epoch_chinchilla_svg.csv"


def test_compare_forms_on_epoch_matches_fit_and_cli():
    path = str(data_file(EPOCH))
    laws = ["chinchilla", "kaplan", "E + A*N^-alpha"]
    c = scaling.compare_forms(path, laws, drop_top_loss=5)
    plain = scaling.fit(path, drop_top_loss=5)
    assert c.forms[0]["fit"] == plain.to_dict()
    assert c.best_aic == "chinchilla"
    for r in c.forms:
        res = r["fit"]["residuals"]
        n = len(res)
        rss = sum(x * x for x in res)
        ll = -n / 2 * (math.log(2 * math.pi * rss / n) + 1)
        k = r["parameters"] + 1
        assert r["aic"] == pytest.approx(2 * k - 2 * ll, rel=1e-12)
        assert r["bic"] == pytest.approx(k * math.log(n) - 2 * ll, rel=1e-12)
    args = ["forms", path, "--drop-top-loss", "5", "--format", "json"]
    for law in laws:
        args += ["--law", law]
    assert c.to_json() == cli(*args)
    assert list(c.to_frame()["law"]) == laws


def test_compare_forms_bad_formula_is_input_error():
    path = str(data_file(EPOCH))
    with pytest.raises(scaling.InputError, match="character"):
        scaling.compare_forms(path, ["chinchilla", "E + A*N^-(alpha"])


def test_compare_forms_held_out_matches_cli():
    path = str(data_file(EPOCH))
    laws = ["chinchilla", "multiplicative"]
    c = scaling.compare_forms(path, laws, drop_top_loss=5, cutoff=1e21)
    for r in c.forms:
        assert r["held_out"]["summary"]["runs"] == 23
    assert c.best_held_out in laws
    args = ["forms", path, "--drop-top-loss", "5", "--cutoff", "1e21", "--format", "json"]
    for law in laws:
        args += ["--law", law]
    assert c.to_json() == cli(*args)


def test_formula_grid_starts_match_the_cli_and_the_kernel():
    """`starts="grid"`: every point of the formula's start grid, screened (issue 16's shared
    screening); the same JSON as `scaling fit --starts grid`, and Chinchilla's optimum."""
    path = str(data_file(EPOCH))
    law = "E + A*N^-alpha + B*D^-beta"
    g = scaling.fit(path, law=law, starts="grid", drop_top_loss=5)
    d = g.to_dict()
    assert d["starts"]["strategy"] == "grid" and d["starts"]["count"] == 784
    assert sum(d["starts"]["terminations"].values()) == 784
    kernel = scaling.fit(path, drop_top_loss=5).to_dict()
    assert d["objective"] == pytest.approx(kernel["objective"], rel=1e-12)
    assert g.to_json() == cli("fit", path, "--drop-top-loss", "5", "--law", law,
                              "--starts", "grid", "--format", "json")
