"""`backtest`: fit the runs below a cutoff, predict the larger ones with mean, new-run and
extrapolation intervals; `roll=True` repeats it over cutoffs. One call into the Rust library;
`to_dict()` is `scaling backtest --format json`."""

from __future__ import annotations

import json
from typing import Any, Optional, Sequence

from . import _scaling
from ._data import table_arg
from ._progress import reporter
from ._results import Result


class Backtest(Result):
    """A backtest (`scaling backtest`): `held_out` runs with their errors, distances and
    intervals, `summary` (errors and coverage), `misspecification` (sigma0, kappa). With
    `roll=True`: `steps`, `bins` (by extrapolation distance), `points`, `summary`."""

    @property
    def summary(self) -> dict:
        return dict(self._dict["summary"])

    @property
    def coverage(self) -> Optional[float]:
        """Fraction of held-out runs inside the extrapolation interval."""
        return self._dict["summary"].get("coverage")

    def to_frame(self):
        """One row per held-out run (per cutoff and run with `roll=True`)."""
        import pandas as pd

        if "held_out" in self._dict:
            return pd.DataFrame(self._dict["held_out"])
        return pd.DataFrame([dict(h, cutoff=c) for c, h in self._dict["points"]])


def backtest(
    data: Any,
    *,
    cutoff: Optional[float] = None,
    on: str = "flops",
    train_where: Optional[str] = None,
    test_where: Optional[str] = None,
    roll: bool = False,
    cutoffs: Sequence[float] = (),
    bin_width: float = 0.5,
    distance: Optional[str] = None,
    law: str = "chinchilla",
    x: Optional[str] = None,
    fix_e: Optional[float] = None,
    objective: str = "huber",
    delta: float = 1e-3,
    space: str = "log",
    reduction: str = "sum",
    starts: str = "varpro",
    max_iter: int = 2000,
    params: Optional[str] = None,
    tokens: Optional[str] = None,
    flops: Optional[str] = None,
    loss: Optional[str] = None,
    skip_invalid: bool = False,
    drop_top_loss: int = 0,
    flops_per_param_token: float = 6.0,
    bootstrap: int = 200,
    seed: int = 0,
    cluster: Optional[str] = None,
    level: float = 0.95,
    kappa: Optional[float] = None,
    sigma0: float = 0.0,
    no_extrapolation_term: bool = False,
    progress: bool = True,
) -> Backtest:
    """How far can the fit be trusted? (`scaling backtest`) Fit the runs with at most `cutoff`
    on `on` ("flops", "params" or a column), or the rows `train_where` selects, and predict the
    others: relative error, extrapolation distance in decades, and three intervals: on the mean
    (parameter uncertainty), for a new run (plus run-to-run noise, Davison & Hinkley 1997,
    Alg. 6.4), and with an extrapolation term whose standard deviation sqrt(sigma0^2 +
    kappa^2 d^2) is calibrated by inner backtests on the training runs only. `roll=True` runs
    a backtest at each of `cutoffs` (default every half decade) and pools by distance.
    `progress`: the time taken when the call takes more than a second; Ctrl-C interrupts.

    Raises InputError for bad input, as the command line exits 2."""
    from ._methods import _load  # the one translation of the loading keywords

    request = {
        "load": _load(params=params, tokens=tokens, flops=flops, loss=loss,
                      skip_invalid=skip_invalid, drop_top_loss=drop_top_loss,
                      flops_per_param_token=flops_per_param_token),
        "fit": {
            "law": law, "x": x, "fix_e": fix_e, "objective": objective, "delta": delta,
            "space": space, "reduction": reduction, "starts": starts, "max_iter": max_iter,
        },
        "bootstrap": None if int(bootstrap) == 0 else {
            "replicates": int(bootstrap), "seed": int(seed), "cluster_col": cluster,
            "level": float(level), "flops": [],
        },
        "cutoff": None if cutoff is None else float(cutoff),
        "on": on,
        "train_where": train_where,
        "test_where": test_where,
        "roll": bool(roll),
        "cutoffs": [float(c) for c in cutoffs],
        "bin_width": float(bin_width),
        "distance": distance,
        "kappa": None if kappa is None else float(kappa),
        "sigma0": float(sigma0),
        "no_extrapolation_term": bool(no_extrapolation_term),
    }
    return Backtest(*_scaling.backtest(table_arg(data), json.dumps(request),
                                       reporter("backtest", progress)))
