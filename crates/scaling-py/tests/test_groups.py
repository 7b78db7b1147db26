"""scaling.groups from Python: the command line's JSON byte for byte on Gadre's testbed, arrays
in, and typed errors."""

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
