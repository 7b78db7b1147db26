"""Neural scaling laws, carefully: fit, check and plan with them.

A thin Python layer over the `scaling` Rust library: every number comes from the same library
calls as the `scaling` command line, and each result's `to_dict()` equals the command's JSON.

    >>> import scaling
    >>> fit = scaling.fit("runs.csv", drop_top_loss=5)          # doctest: +SKIP
    >>> fit.params["alpha"], fit.status                         # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import Any, Optional, Sequence

from . import _scaling
from ._data import table_arg
from ._errors import InputError, NumericalError, ScalingError
from ._progress import reporter
from ._results import Fit, Result
from ._methods import _load, Comparison, Envelope, Isoflop, PowerLaw, compare, envelope, isoflop, powerlaw
from ._forms import FormComparison, compare_forms
from ._plan import Plan, Presets, optimal, presets
from ._downstream import Downstream, DownstreamBacktest, downstream, downstream_backtest
from ._groups import Groups, groups
from ._lab import count, shape, reconcile, plateau, simulate_data_strategy, simulate_sweep
from ._analysis import (
    Calibration, Demo, LawTest, Plot, Prediction, Predictions,
    calibrate, demo, plot, predict, report, test_law,
)

# `scaling test` on the command line; not in __all__, so that `from scaling import *` in a test
# module does not hand pytest a function named `test`.
test = test_law
from ._backtest import Backtest, backtest
from ._design import Design, Sensitivity, design, sensitivity

__version__ = _scaling.__version__

__all__ = [
    "fit",
    "predict", "test_law", "calibrate", "demo", "plot", "report",
    "Prediction", "Predictions", "LawTest", "Calibration", "Demo", "Plot",
    "compare_forms", "FormComparison",
    "groups",
    "Groups",
    "isoflop", "envelope", "compare", "powerlaw", "Isoflop", "Envelope", "Comparison", "PowerLaw",
    "downstream", "Downstream", "downstream_backtest", "DownstreamBacktest",
    "optimal",
    "presets",
    "Plan",
    "Presets",
    "count",
    "shape",
    "reconcile",
    "plateau",
    "simulate_data_strategy",
    "simulate_sweep",
    "backtest",
    "design",
    "sensitivity",
    "Design",
    "Sensitivity",
    "Backtest",
    "Fit",
    "Result",
    "ScalingError",
    "InputError",
    "NumericalError",
]


def fit(
    data: Any,
    *,
    law: str = "chinchilla",
    x: Optional[str] = None,
    fix_e: Optional[float] = None,
    objective: str = "huber",
    delta: float = 1e-3,
    space: str = "log",
    reduction: str = "sum",
    starts: str = "varpro",
    max_iter: int = 2000,
    param: Sequence[str] = (),
    tie: Sequence[str] = (),
    weight_col: Optional[str] = None,
    asymmetric: Optional[float] = None,
    where: Optional[str] = None,
    params: Optional[str] = None,
    tokens: Optional[str] = None,
    flops: Optional[str] = None,
    loss: Optional[str] = None,
    skip_invalid: bool = False,
    drop_top_loss: int = 0,
    min_flops: Optional[float] = None,
    max_flops: Optional[float] = None,
    params_convention: Optional[str] = None,
    flops_convention: Optional[str] = None,
    flops_per_param_token: float = 6.0,
    bootstrap: Optional[int] = None,
    seed: int = 0,
    cluster: Optional[str] = None,
    level: float = 0.95,
    budgets: Sequence[float] = (),
    progress: bool = True,
) -> Fit:
    """Fit a scaling law to training runs (`scaling fit`).

    The default is Chinchilla's Approach 3 (Hoffmann et al. 2022, Eq. 2 and App. D.2):
    L = E + A / N^alpha + B / D^beta, minimising sum_i Huber_1e-3(ln L_hat_i - ln L_i), from
    variable-projection starts that reach the global optimum of the paper's 4500-point grid.

    data: a path (CSV or JSON), a pandas or polars DataFrame, or a dict of arrays. Columns are
    recognised by name as on the command line (params/N/model_size, tokens/D, flops/compute,
    loss); name them with `params=`, `tokens=`, `flops=`, `loss=`.
    bootstrap: replicates for percentile intervals (Efron and Tibshirani 1993). By default they
    resample model sizes when the runs hold at least 20 sizes of which 3 repeat (runs of one size share their
    errors; the JSON says so) and single runs otherwise; `cluster=COLUMN` resamples whole groups, `cluster="none"`
    single runs; `seed` gives the same bits as `scaling fit --seed`.
    budgets: FLOPs at which to give intervals on N_opt, D_opt and the loss (Chinchilla law).
    starts: "varpro" (default: variable-projection seeds, each polished), "chinchilla" (the
    paper's 4500-point grid, screened at scipy's stop and the best polished) or "grid" (every
    point of the law's own start grid, screened the same way; for the Chinchilla form the
    paper's grid), as `--starts`.
    param: `["E=1.69"]` fixes a parameter, `["alpha=0.01:2"]` bounds one (`--param`).
    tie: `["alpha=beta"]` ties two parameters of any law (beta takes alpha's value).
    weight_col: a column of per-run weights multiplying each run's penalty.
    asymmetric: k charges over-prediction k times an equal under-prediction (1: symmetric),
    so the law follows the best achievable loss when some runs are under-tuned.
    where: keep only the rows this filter selects, e.g. "dataset == 'rpj' and N < 1e9".
    progress: show a bar when the bootstrap takes more than a second. Ctrl-C interrupts the
    call at once (KeyboardInterrupt); the GIL is released while the core works.

    Raises InputError (a ValueError) naming the file, row, column and value for bad input.
    """
    if bootstrap is None and (cluster is not None or list(budgets) or level != 0.95):
        raise InputError("cluster, budgets and level go with bootstrap=R")
    request = {
        "load": _load(params=params, tokens=tokens, flops=flops, loss=loss,
                      skip_invalid=skip_invalid, drop_top_loss=drop_top_loss,
                      min_flops=min_flops, max_flops=max_flops, where=where,
                      params_convention=params_convention, flops_convention=flops_convention,
                      flops_per_param_token=flops_per_param_token),
        "fit": {
            "law": law, "x": x, "fix_e": fix_e, "objective": objective, "delta": delta,
            "space": space, "reduction": reduction, "starts": starts, "max_iter": max_iter,
            "params": list(param), "ties": list(tie), "weight_col": weight_col,
            "asymmetric": None if asymmetric is None else float(asymmetric),
        },
        "bootstrap": None if bootstrap is None else {
            "replicates": int(bootstrap), "seed": int(seed), "cluster_col": cluster,
            "level": float(level), "flops": [float(b) for b in budgets],
        },
    }
    return Fit(*_scaling.fit(table_arg(data), json.dumps(request), reporter("bootstrap", progress)))
