"""scaling.design and scaling.sensitivity: the same JSON as the command line, errors as
InputError, and a sensitivity that matches a finite difference computed here."""

import json
import os
import subprocess
import tempfile

import numpy as np
import pytest

import scaling


def _sweep():
    """An IsoFLOP sweep from L = 1.82 + 482/N^0.3478 + 2085/D^0.3658 (Epoch's fit) with a
    deterministic 1% wobble."""
    E, A, B, al, be = 1.82, 482.01, 2085.43, 0.3478, 0.3658
    g = (al * A / (be * B)) ** (1 / (al + be))
    n, d, l = [], [], []
    for c in [1e18, 3e18, 1e19, 3e19, 1e20]:
        nopt = g * (c / 6) ** (be / (al + be))
        for i in range(7):
            N = nopt * 10 ** (1.5 * (i / 6 - 0.5))
            D = c / (6 * N)
            n.append(N)
            d.append(D)
            l.append((E + A * N ** -al + B * D ** -be) * (1 + 0.01 * np.sin(7 * len(n))))
    return {"params": np.array(n), "tokens": np.array(d), "loss": np.array(l)}


def test_design_proposes_runs_within_the_allowance():
    d = scaling.design(_sweep(), budget=1e24, allowance=1e21, k=3, objective="squared")
    p = d.proposal
    assert len(p["runs"]) == 3 and p["cost"] <= 1e21 * (1 + 1e-9)
    assert p["width"] < d.to_dict()["current_width"]
    assert {a["name"] for a in d.alternatives} == {"isoflop", "larger_models"}
    assert len(d.to_frame()) == 9


def test_design_from_a_fit_equals_design_from_runs():
    runs = _sweep()
    f = scaling.fit(runs, objective="squared")
    a = scaling.design(fit=f, budget=1e24, allowance=1e21, k=2)
    b = scaling.design(runs, budget=1e24, allowance=1e21, k=2, objective="squared")
    assert a.to_dict()["proposal"] == b.to_dict()["proposal"]


def test_design_errors_are_input_errors():
    with pytest.raises(scaling.InputError, match="allowance"):
        scaling.design(_sweep(), budget=1e24, allowance=1e3)
    with pytest.raises(scaling.InputError):
        scaling.design(_sweep(), allowance=1e21)


def test_design_matches_the_command_line():
    exe = os.environ.get("SCALING_BIN")
    if not exe:
        pytest.skip("SKIPPED: set SCALING_BIN to the command-line binary to compare")
    runs = _sweep()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "runs.csv")
        with open(path, "w") as f:
            f.write("params,tokens,loss\n")
            for i in range(len(runs["loss"])):
                f.write(f"{float(runs['params'][i])!r},{float(runs['tokens'][i])!r},{float(runs['loss'][i])!r}\n")
        out = subprocess.run([exe, "design", path, "--budget", "1e24", "--allowance", "1e21",
                              "--k", "2", "--format", "json"],
                             capture_output=True, text=True, check=True).stdout
        py = scaling.design(path, budget=1e24, allowance=1e21, k=2)
    assert json.loads(out) == py.to_dict()


def test_sensitivity_matches_finite_difference():
    s = scaling.sensitivity("chinchilla", flops=1e24).to_dict()
    p = {r["name"]: r["value"] for r in s["per_param"]}

    def loss_opt(alpha):
        E, A, B, be = p["E"], p["A"], p["B"], p["beta"]
        ns = np.exp(np.linspace(np.log(1e9), np.log(1e13), 200001))
        ls = E + A * ns ** -alpha + B * (1e24 / (6 * ns)) ** -be
        return ls.min()

    h = 1e-4
    fd = (loss_opt(p["alpha"] + h) - loss_opt(p["alpha"] - h)) / (2 * h) * 0.01
    row = next(r for r in s["per_param"] if r["name"] == "alpha")
    assert row["loss"] == pytest.approx(fd, rel=1e-3)


def test_sensitivity_needs_a_target():
    with pytest.raises(scaling.InputError):
        scaling.sensitivity("chinchilla")
