"""scaling.optimal and scaling.presets from Python: the same bytes as the command line."""

import json

import pytest

import scaling
from conftest import cli, data_file

EPOCH = "epoch_chinchilla_svg.csv"


def test_optimal_preset_equals_cli_json():
    py = scaling.optimal("chinchilla", flops=5.76e23)
    assert py.to_json() == cli("optimal", "--preset", "chinchilla", "--flops", "5.76e23",
                               "--format", "json")
    # Approach 3 at Gopher's budget: about 40B parameters (Besiroglu et al. 2024).
    assert abs(py.rows[0]["params"] / 40.36e9 - 1) < 1e-3


def test_optimal_of_a_bootstrapped_fit_equals_cli_json(tmp_path):
    path = str(data_file(EPOCH))
    fit = scaling.fit(path, drop_top_loss=5, bootstrap=100, seed=3)
    saved = tmp_path / "fit.json"
    saved.write_text(fit.to_json())
    py = scaling.optimal(str(saved), flops=[1e22, 1e24])
    assert py.to_json() == cli("optimal", str(saved), "--flops", "1e22,1e24", "--format", "json")
    assert "intervals" in py.rows[0]
    from_object = scaling.optimal(fit, flops=[1e22, 1e24])
    assert from_object.rows[1]["intervals"] == py.rows[1]["intervals"]


def test_presets_equal_cli_json():
    p = scaling.presets()
    assert p.to_json() == cli("presets", "--format", "json")
    assert "chinchilla" in p.names


def test_optimal_unknown_preset_is_an_input_error():
    with pytest.raises(scaling.InputError, match="unknown preset"):
        scaling.optimal("no-such-law", flops=1e23)
