"""scaling.isoflop / envelope / compare / powerlaw from Python: the command line's JSON byte for
byte on the real datasets (same seeds), grouping with by=, attributes and errors."""

import json

import pandas as pd
import pytest

import scaling
from conftest import assert_ctrl_c_interrupts_promptly, cli, data_file

EPOCH = "epoch_chinchilla_svg.csv"
BUDGETS = [6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21]
BUDGET_FLAG = "6e18,1e19,3e19,6e19,1e20,3e20,6e20,1e21,3e21"


def test_isoflop_matches_cli_json_bit_for_bit():
    path = str(data_file(EPOCH))
    py = scaling.isoflop(path, budgets=BUDGETS, bootstrap=100, seed=3)
    assert py.to_json() == cli("isoflop", path, "--budgets", BUDGET_FLAG, "--bootstrap", "100",
                               "--seed", "3", "--format", "json")
    assert abs(py.params_exponent + py.tokens_exponent - 1.0) < 1e-9
    lo, hi = py.params_exponent_interval
    assert lo < py.params_exponent < hi
    frame = py.to_frame()
    assert len(frame) == len(py.budgets) == 9
    assert str(py) == cli("isoflop", path, "--budgets", BUDGET_FLAG, "--bootstrap", "100",
                          "--seed", "3")


def test_isoflop_from_a_dataframe_gives_the_same_exponents():
    path = data_file(EPOCH)
    a = scaling.isoflop(str(path), budgets=BUDGETS, bootstrap=0)
    b = scaling.isoflop(pd.read_csv(path), budgets=BUDGETS, bootstrap=0)
    assert a.params_exponent == b.params_exponent
    assert a.tokens_exponent == b.tokens_exponent


def test_compare_matches_cli_json_bit_for_bit():
    path = str(data_file(EPOCH))
    py = scaling.compare(path, drop_top_loss=5, budgets=BUDGETS, bootstrap=60, seed=11)
    cli_json = cli("compare", path, "--drop-top-loss", "5", "--budgets", BUDGET_FLAG,
                   "--bootstrap", "60", "--seed", "11", "--format", "json")
    assert py.to_json() == cli_json
    names = [r["approach"] for r in py.approaches]
    assert names[0].startswith("Approach 3") and names[1].startswith("Approach 2")
    assert py.bias_check is not None
    assert py.to_frame().loc["Kaplan et al. 2020 (published)", "a"] == 0.73


def test_envelope_matches_cli_json_bit_for_bit():
    path = str(data_file("misfitting2025_scaling_results_all_ckpts.csv"))
    cols = ["model", "sweep", "peak_lr", "total_steps"]
    py = scaling.envelope(path, run_col=cols, bootstrap=20, seed=5)
    cli_json = cli("envelope", path, "--run-col", ",".join(cols), "--bootstrap", "20",
                   "--seed", "5", "--format", "json")
    assert py.to_json() == cli_json
    assert 0.2 < py.params_exponent < 0.8
    assert len(py.to_frame()) == len(py["segments"])


def test_powerlaw_by_groups_matches_cli_json_bit_for_bit():
    path = str(data_file("porian2024_isoflop_optima.csv"))
    py = scaling.powerlaw(path, x="flops", y="n_star", by=["dataset", "param_count"],
                          skip_invalid=True)
    cli_json = cli("powerlaw", path, "--x", "flops", "--y", "n_star", "--by",
                   "dataset,param_count", "--skip-invalid", "--format", "json")
    assert py.to_json() == cli_json
    assert py.grouped
    frame = py.to_frame()
    assert list(frame.columns[:2]) == ["dataset", "param_count"]
    assert len(frame) == len(json.loads(cli_json))


def test_powerlaw_group_that_fails_is_reported_in_its_place():
    data = {"set": ["a", "a", "a", "b"], "x": [1.0, 10.0, 100.0, 1.0],
            "y": [2.0, 20.0, 200.0, 5.0]}
    r = scaling.powerlaw(data, x="x", y="y", by="set")
    groups = r.groups()
    assert groups[0]["group"] == {"set": "a"} and abs(groups[0]["exponent"] - 1.0) < 1e-12
    assert groups[1]["group"] == {"set": "b"} and "error" in groups[1]


def test_powerlaw_unknown_column_is_an_input_error_naming_it():
    with pytest.raises(scaling.InputError, match='"nope" is not a header'):
        scaling.powerlaw({"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0]}, x="nope", y="y")
    with pytest.raises(ValueError):
        scaling.powerlaw({"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0]}, x="x", y="y", level=2.0)


def test_compare_reports_bootstrap_progress_and_isoflop_the_time_taken():
    # Through the core directly: the reporter is called only after a second of work, then
    # once more at the end with done == total.
    from scaling import _scaling

    path = str(data_file(EPOCH))
    calls = []
    load = {"filters": {"drop_top_loss": 0, "min_flops": None, "max_flops": None},
            "flops_per_param_token": 6.0, "skip_invalid": False}
    req = {"load": load, "request": {"bootstrap": 2000, "seed": 1}}
    _scaling.compare(path, json.dumps(req), lambda d, t: calls.append((d, t)))
    if calls:  # only when the machine took more than a second
        assert calls[-1] == (2000, 2000)
        assert all(0 <= d <= t == 2000 for d, t in calls)
    calls.clear()
    req = {"load": load, "request": {"budgets": BUDGETS, "bootstrap": 20000, "seed": 1}}
    _scaling.isoflop(path, json.dumps(req), lambda d, t: calls.append((d, t)))
    if calls:  # uncounted: total 0 while running, then done == total > 0 at the end
        assert all(t == 0 for _, t in calls[:-1])
        assert calls[-1][0] == calls[-1][1] > 0


def test_ctrl_c_interrupts_a_long_compare_promptly():
    path = str(data_file(EPOCH))
    assert_ctrl_c_interrupts_promptly(
        lambda: scaling.compare(path, bootstrap=100000, progress=False)
    )
