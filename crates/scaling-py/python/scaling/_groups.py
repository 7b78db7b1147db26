"""scaling.groups: separate and joint fits across groups of runs (datasets, architectures),
the test of shared parameters, paired-bootstrap differences and compute-equivalent gains."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence

from . import _scaling
from ._data import table_arg
from ._methods import _load
from ._progress import reporter
from ._results import Result


class Groups(Result):
    """The groups' fits and their comparison (`scaling groups`).

    Attributes: `groups` (labels), `separate` (one dict per group with its `fit`), `joint`
    (the joint fit's dict, or None), `test` (F and LR test of the shared parameters, or None),
    `comparisons` (pairwise differences, P(A better) and compute-equivalent gains).
    """

    @property
    def groups(self) -> List[str]:
        return list(self._dict["groups"])

    @property
    def separate(self) -> List[Dict[str, Any]]:
        return list(self._dict["separate"])

    @property
    def joint(self) -> Optional[Dict[str, Any]]:
        return self._dict["joint"]

    @property
    def test(self) -> Optional[Dict[str, Any]]:
        return self._dict["test"]

    @property
    def comparisons(self) -> List[Dict[str, Any]]:
        return list(self._dict["comparisons"])


def groups(data: Any, *, by: str, law: str = "chinchilla", x: Optional[str] = None,
           shared: Sequence[str] = (), tie: Sequence[str] = (), param: Sequence[str] = (),
           fix_e: Optional[float] = None, weight_col: Optional[str] = None,
           asymmetric: Optional[float] = None, objective: str = "huber", delta: float = 1e-3,
           space: str = "log", reduction: str = "sum", max_iter: int = 2000,
           budgets: Sequence[float] = (), bootstrap: Optional[int] = None, seed: int = 0,
           level: float = 0.95, pair_col: Optional[str] = None, where: Optional[str] = None,
           targets: Sequence[str] = (), progress=None, **load) -> Any:
    """Fit each group of `by` separately and, with `shared=["alpha", "beta"]`, jointly with
    those parameters common to all groups (`scaling groups`); test the sharing with an F test
    (and LR test) on least-squares refits; with `bootstrap=R`, resample the same budgets in
    every group for intervals on differences (A - B), P(A better) and the compute-equivalent
    gain C / C_A where L_A(C_A) = L_B(C) at each of `budgets` (default 1e21 and 1e23).

    `tie=["alpha=beta"]` ties parameters, `weight_col=` weights runs, `asymmetric=k` charges
    over-prediction k times under-prediction. `targets=["loss_a", "loss_b"]` fits each loss
    column on the same runs with the same bootstrap draws and returns a dict from column to
    Groups (as `--targets`). Raises scaling.InputError on bad input.
    """
    names = {
        "fit": {"law": law, "x": x, "fix_e": fix_e, "objective": objective, "delta": float(delta),
                "space": space, "reduction": reduction, "starts": "varpro",
                "max_iter": int(max_iter), "params": list(param), "ties": list(tie),
                "weight_col": weight_col,
                "asymmetric": None if asymmetric is None else float(asymmetric)},
        "by": by, "shared": list(shared),
        "budgets": [float(b) for b in budgets], "replicates": bootstrap, "seed": int(seed),
        "level": float(level), "pair_col": pair_col,
    }
    request = {"load": _load(where=where, **load), "names": names, "targets": list(targets)}
    out = _scaling.groups(table_arg(data), json.dumps(request), reporter("bootstrap", progress))
    if not targets:
        return Groups(out[0][1], out[0][2])
    return {t: Groups(j, txt) for t, j, txt in out}
