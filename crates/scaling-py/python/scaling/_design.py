"""`design` (the next runs that most shrink an interval, against equal-cost alternatives) and
`sensitivity` (how a law's answers move with its parameters). One call into the Rust library
each; `to_dict()` is the command line's `--format json`."""

from __future__ import annotations

import json
import os
from typing import Any, List, Optional, Union

from . import _scaling
from ._data import table_arg
from ._results import Fit, Result


class Design(Result):
    """A design (`scaling design`): `proposal` (runs with the expected width after each),
    `alternatives` of equal cost, `current_width`, and `simulation` when asked."""

    @property
    def proposal(self) -> dict:
        return dict(self._dict["proposal"])

    @property
    def alternatives(self) -> List[dict]:
        return list(self._dict["alternatives"])

    def to_frame(self):
        """One row per new run of each plan."""
        import pandas as pd

        rows = []
        for p in [self._dict["proposal"], *self._dict["alternatives"]]:
            rows += [dict(r, plan=p["name"]) for r in p["runs"]]
        return pd.DataFrame(rows)


class Sensitivity(Result):
    """A sensitivity (`scaling sensitivity`): `per_param` and `exponent_shifts`."""

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self._dict["per_param"])


def design(
    data: Any = None,
    *,
    fit: Union[Fit, str, "os.PathLike[str]", None] = None,
    budget: Optional[float] = None,
    params: Optional[float] = None,
    tokens: Optional[float] = None,
    allowance: float,
    k: int = 4,
    quantity: str = "n_opt",
    level: float = 0.95,
    simulate: Optional[int] = None,
    simulate_bootstrap: int = 100,
    seed: int = 0,
    law: str = "chinchilla",
    fix_e: Optional[float] = None,
    objective: str = "huber",
    delta: float = 1e-3,
    space: str = "log",
    starts: str = "varpro",
    params_col: Optional[str] = None,
    tokens_col: Optional[str] = None,
    loss_col: Optional[str] = None,
    flops_per_param_token: float = 6.0,
) -> Design:
    """Which runs to train next (`scaling design`): the `k` runs costing at most `allowance`
    FLOPs together that most shrink the `level` interval on `quantity` ("n_opt" at `budget`,
    "loss" at `budget` or at (`params`, `tokens`), or a parameter such as "alpha"), by the
    Fisher information of the fitted law (delta method, greedy choice and exchange over a
    candidate grid), compared with one more IsoFLOP budget and larger models of equal cost.
    `simulate=R` checks the promise by drawing each plan's runs from the fitted law with
    resampled residuals, refitting and bootstrapping R times.

    data: runs (path, DataFrame, dict of arrays), fitted with the keywords; or give `fit`, a
    Fit from scaling.fit or a saved fit's path. Raises InputError for bad input."""
    from ._methods import _load

    fit_json, label = None, "<data>"
    if fit is not None:
        if isinstance(fit, Fit):
            fit_json, label = fit.to_json(), "fit"
        else:
            path = os.fspath(fit)
            with open(path, encoding="utf-8") as f:
                fit_json, label = f.read(), path
    elif data is None:
        from ._errors import InputError

        raise InputError("give runs (data) or a saved fit (fit=...)")
    elif isinstance(data, (str, os.PathLike)):
        label = os.fspath(data)
    request = {
        "load": _load(params=params_col, tokens=tokens_col, loss=loss_col,
                      flops_per_param_token=flops_per_param_token),
        "fit": {
            "law": law, "x": None, "fix_e": fix_e, "objective": objective, "delta": delta,
            "space": space, "reduction": "sum", "starts": starts, "max_iter": 2000,
        },
        "bootstrap": None,
        "budget": None if budget is None else float(budget),
        "params": None if params is None else float(params),
        "tokens": None if tokens is None else float(tokens),
        "allowance": float(allowance),
        "k": int(k),
        "quantity": quantity,
        "level": float(level),
        "simulate": None if simulate is None else int(simulate),
        "simulate_bootstrap": int(simulate_bootstrap),
        "seed": int(seed),
    }
    table = None if fit_json is not None else table_arg(data)
    return Design(*_scaling.design(table, fit_json, label, json.dumps(request)))


def sensitivity(
    law: Union[str, Fit, "os.PathLike[str]"],
    *,
    flops: Optional[float] = None,
    params: Optional[float] = None,
    tokens: Optional[float] = None,
) -> Sensitivity:
    """How a Chinchilla-form law's loss, N_opt and D_opt move per 0.01 of each exponent and
    per unit of E, A, B, and the exponent change that moves the loss by 1%, 5% and 10%
    (`scaling sensitivity`), at the compute-optimal run of `flops` or at (`params`, `tokens`).

    law: a Fit, a path to a saved fit or law file, or a preset name (scaling.presets())."""
    if isinstance(law, Fit):
        kind, source, label = "json", law.to_json(), "fit"
    elif os.path.exists(os.fspath(law)):
        path = os.fspath(law)
        with open(path, encoding="utf-8") as f:
            kind, source, label = "json", f.read(), path
    else:
        kind, source, label = "preset", str(law), str(law)
    request = {"flops": flops, "params": params, "tokens": tokens}
    return Sensitivity(*_scaling.sensitivity(kind, source, label, json.dumps(request)))
