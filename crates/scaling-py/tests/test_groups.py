"""scaling.groups from Python: the command line's JSON byte for byte on Gadre's testbed, arrays
in, and typed errors."""

import json

import numpy as np
import pytest

import scaling
from conftest import cli, data_file

GADRE = "gadre2024_overtraining_testbed.csv"


def test_groups_matches_cli_json_bit_for_bit():
    path = str(data_file(GADRE))
    py = scaling.groups(path, by="dataset_name", loss="loss_c4_val", shared=["alpha", "beta"],
                        bootstrap=50, seed=2, budgets=[1e21])
    assert py.to_json() == cli("groups", path, "--by", "dataset_name", "--loss-col", "loss_c4_val",
                               "--shared", "alpha,beta", "--bootstrap", "50", "--seed", "2",
                               "--budgets", "1e21", "--format", "json", "-q")
    assert py.groups == ["c4_original", "rpj", "rw_original"]
    assert 0.0 < py.test["f_p_value"] < 1.0
    assert "alpha" in py.joint["params"]


def test_groups_from_arrays_and_errors():
    n = np.repeat(3e7 * 2.5 ** np.arange(6), 5)
    d = np.tile(1e9 * 2.5 ** np.arange(5), 6)
    loss = 1.7 + 400 / n**0.34 + 410 / d**0.28
    data = {"params": np.concatenate([n, n]), "tokens": np.concatenate([d, d]),
            "loss": np.concatenate([loss, loss + 0.1]), "g": ["a"] * 30 + ["b"] * 30}
    r = scaling.groups(data, by="g", shared=["alpha", "beta"], asymmetric=1.0)
    assert abs(r.joint["params"]["E[b]"] - r.joint["params"]["E[a]"] - 0.1) < 1e-3
    assert r.joint["conventions"]["asymmetric"] == 1.0
    with pytest.raises(scaling.InputError, match="KEPT=REMOVED"):
        scaling.groups(data, by="g", tie=["alpha"])
    with pytest.raises(scaling.InputError, match="nope"):
        scaling.groups(data, by="nope")


def test_fit_takes_ties_weights_and_asymmetry_as_the_cli():
    n = np.repeat(3e7 * 2.5 ** np.arange(6), 5)
    d = np.tile(1e9 * 2.5 ** np.arange(5), 6)
    loss = 1.7 + 400 / n**0.34 + 410 / d**0.28
    data = {"params": n, "tokens": d, "loss": loss, "w": np.ones_like(n)}
    tied = scaling.fit(data, tie=["alpha=beta"])
    assert "beta" not in tied.params and 0.25 < tied.params["alpha"] < 0.37
    plain = scaling.fit(data)
    sym = scaling.fit(data, asymmetric=1.0, weight_col="w")
    for k in ["E", "A", "B", "alpha", "beta"]:
        assert abs(plain.params[k] - sym.params[k]) < 1e-6 * abs(plain.params[k])
    with pytest.raises(scaling.InputError, match="weight_col"):
        scaling.fit(data, weight_col="nope")
    path = str(data_file(GADRE))
    py = scaling.fit(path, loss="loss_c4_val", tie=["alpha=beta"], where="dataset_name == 'rpj'")
    assert py.to_json() == cli("fit", path, "--loss-col", "loss_c4_val", "--tie", "alpha=beta",
                               "--where", "dataset_name == 'rpj'", "--format", "json")
    # `where=` reaches the library in every call (it was once sent under a key serde ignored).
    r = scaling.groups(path, by="dataset_name", loss="loss_c4_val",
                       where="dataset_name != 'rpj'")
    assert r.groups == ["c4_original", "rw_original"]
    with pytest.raises(ValueError, match="unknown field"):
        scaling._scaling.fit(path, '{"fit": {"tie": ["alpha=beta"]}}')


def test_report_by_compares_the_groups_first():
    html = scaling.report(str(data_file(GADRE)), by="dataset_name", loss="loss_c4_val",
                          bootstrap=20)
    assert html.index("<h2>Groups compared</h2>") < html.index("<h2>Group dataset_name=rpj</h2>")
    assert "joint fit (alpha, beta shared)" in html
    f = scaling.fit(str(data_file(GADRE)), loss="loss_c4_val")
    with pytest.raises(scaling.InputError, match="by="):
        scaling.report(str(data_file(GADRE)), fit=f, by="dataset_name", loss="loss_c4_val")


def test_groups_targets_give_one_result_per_loss_column_as_the_cli():
    path = str(data_file(GADRE))
    r = scaling.groups(path, by="dataset_name", targets=["loss_c4_val", "loss_paloma_c4_en"],
                       bootstrap=20, seed=1)
    assert list(r) == ["loss_c4_val", "loss_paloma_c4_en"]
    out = json.loads(cli("groups", path, "--by", "dataset_name", "--targets",
                         "loss_c4_val,loss_paloma_c4_en", "--bootstrap", "20", "--seed", "1",
                         "--format", "json", "-q"))
    for item in out:
        assert r[item["target"]].to_dict() == item["result"]
