"""scaling.fit from Python: the same numbers as the command line, from paths, DataFrames and
arrays; errors as typed exceptions naming row, column and value."""

import json
import math

import numpy as np
import pandas as pd
import pytest

import scaling
from conftest import assert_ctrl_c_interrupts_promptly, cli, data_file

EPOCH = "epoch_chinchilla_svg.csv"


def test_epoch_fit_matches_published_objective():
    # Besiroglu et al. 2024 (arXiv:2404.10102): objective 0.00101827 on the 240 runs left
    # after dropping the 5 highest losses (Epoch AI's replication of Chinchilla's Approach 3).
    fit = scaling.fit(str(data_file(EPOCH)), drop_top_loss=5)
    assert fit.status == "converged"
    assert f"{fit.objective:.8f}" == "0.00101827"
    assert abs(fit.params["alpha"] - 0.34731) < 5e-6
    assert abs(fit.params["E"] - 1.8172) < 5e-5


def test_fit_to_dict_equals_cli_json_bit_for_bit():
    path = str(data_file(EPOCH))
    py = scaling.fit(path, drop_top_loss=5, bootstrap=200, seed=7)
    cli_json = cli("fit", path, "--drop-top-loss", "5", "--bootstrap", "200", "--seed", "7",
                   "--format", "json", "-q")
    assert py.to_json() == cli_json
    assert py.to_dict() == json.loads(cli_json)
    assert py.intervals["alpha"][0] < py.params["alpha"] < py.intervals["alpha"][1]


def test_bootstrap_resamples_model_sizes_by_default_and_single_runs_on_request():
    # Epoch AI's runs repeat 41 of their 43 model sizes: the default resamples sizes and says
    # why; cluster="none" resamples single runs as Besiroglu et al. (2024) did.
    path = str(data_file(EPOCH))
    default = scaling.fit(path, drop_top_loss=5, bootstrap=50, seed=1).to_dict()["bootstrap"]
    assert (default["resampled"], default["units"]) == ("clusters", 43)
    assert default["cluster_column"].startswith("N (model sizes: N within 0.1%), chosen because")
    runs = scaling.fit(path, drop_top_loss=5, bootstrap=50, seed=1, cluster="none")
    b = runs.to_dict()["bootstrap"]
    assert (b["resampled"], b["units"], b["cluster_column"]) == ("runs", 240, None)
    cli_json = cli("fit", path, "--drop-top-loss", "5", "--bootstrap", "50", "--seed", "1",
                   "--cluster-col", "none", "--format", "json", "-q")
    assert runs.to_json() == cli_json


def test_dataframe_gives_the_same_bits_as_the_file():
    path = data_file(EPOCH)
    from_file = scaling.fit(str(path), drop_top_loss=5)
    from_frame = scaling.fit(pd.read_csv(path), drop_top_loss=5)
    for k, v in from_file.params.items():
        assert from_frame.params[k] == v, k
    assert from_frame.to_dict()["runs"]["source"] == "<DataFrame>"


def test_dict_of_arrays_with_named_columns_recovers_a_synthetic_law():
    n = np.repeat(1e7 * 3.0 ** np.arange(6), 6)
    d = np.tile(1e9 * 2.5 ** np.arange(6), 6)
    loss = 1.7 + 400.0 / n**0.34 + 410.0 / d**0.28
    fit = scaling.fit({"model/params": n, "train/tokens": d, "eval/loss": loss},
                      params="model/params", tokens="train/tokens", loss="eval/loss")
    assert math.isclose(fit.params["alpha"], 0.34, rel_tol=1e-6)
    assert math.isclose(fit.params["beta"], 0.28, rel_tol=1e-6)
    frame = fit.to_frame()
    assert list(frame.index) == ["A", "B", "E", "alpha", "beta"]


def test_tied_optima_report_the_one_the_data_determine():
    # The loss does not depend on N: optima with the N term vanished and with its exponent
    # at 0 tie at rounding level; the fit reports the one that determines E and says so.
    i = np.arange(30)
    n = 1e8 * 1.5 ** (i % 6)
    d = 1e9 * 1.7 ** (i // 6 + i % 3)
    fit = scaling.fit({"params": n, "tokens": d, "loss": 1.8 + 2000.0 * d**-0.37})
    assert fit.to_dict()["starts"]["tied_optima"] >= 2
    assert fit.params["A"] is None and fit.params["alpha"] is None
    assert math.isclose(fit.params["E"], 1.8, rel_tol=1e-6)
    assert "distinct parameter sets reached the best objective" in repr(fit)


def test_nan_in_a_dataframe_is_an_input_error_naming_row_and_column():
    df = pd.DataFrame({"params": [1e8, 2e8, 4e8], "tokens": [1e9, 2e9, 4e9],
                       "loss": [3.0, float("nan"), 2.5]})
    with pytest.raises(scaling.InputError) as e:
        scaling.fit(df)
    msg = str(e.value)
    assert "row 2" in msg and '"loss"' in msg and "NaN" in msg
    assert isinstance(e.value, ValueError) and isinstance(e.value, scaling.ScalingError)


def test_missing_file_is_an_input_error_naming_it():
    with pytest.raises(scaling.InputError, match="no-such-file.csv"):
        scaling.fit("no-such-file.csv")


def test_unknown_law_name_is_an_input_error():
    with pytest.raises(scaling.InputError, match="law \"kaplann\" is not known"):
        scaling.fit({"params": [1.0], "loss": [1.0]}, law="kaplann")


def test_repr_and_html_show_the_report():
    fit = scaling.fit(str(data_file(EPOCH)), drop_top_loss=5)
    assert "Chinchilla law fitted to" in repr(fit)
    # Jupyter shows the parameter table and the loss-against-compute plot inline.
    h = fit._repr_html_()
    assert h.startswith("<div><table>") and "<svg" in h


def test_progress_is_called_for_a_long_bootstrap_and_silent_for_a_short_one():
    calls = []
    path = str(data_file(EPOCH))
    # Through the core directly: the reporter is called only after a second of work.
    import json as _json
    from scaling import _scaling

    req = {"load": {"filters": {"drop_top_loss": 5, "min_flops": None, "max_flops": None},
                    "flops_per_param_token": 6.0, "skip_invalid": False},
           "bootstrap": {"replicates": 20}}
    _scaling.fit(path, _json.dumps(req), lambda d, t: calls.append((d, t)))
    assert calls == [] or calls[-1] == (20, 20)
    req["bootstrap"]["replicates"] = 4000
    calls.clear()
    _scaling.fit(path, _json.dumps(req), lambda d, t: calls.append((d, t)))
    if calls:  # only when the machine took more than a second
        assert calls[-1] == (4000, 4000)
        assert all(0 <= d <= t == 4000 for d, t in calls)


def test_ctrl_c_interrupts_a_long_bootstrap_promptly():
    path = str(data_file(EPOCH))
    assert_ctrl_c_interrupts_promptly(
        lambda: scaling.fit(path, drop_top_loss=5, bootstrap=100000, progress=False)
    )
