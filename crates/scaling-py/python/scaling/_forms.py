"""Law forms compared on the same runs (`scaling forms` on the command line): each form fitted
with the same objective, starts and optimiser, side by side by objective, residual RMS, number
of parameters, AIC and BIC. One call of the Rust library; `to_json()` is byte for byte the
command line's `--format json`."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence

from . import _scaling
from ._data import table_arg
from ._progress import reporter
from ._methods import _load
from ._results import Result


class FormComparison(Result):
    """Forms compared on the same runs. `forms` holds one dict per form (`law`, `formula`,
    `objective`, `residual_rms`, `parameters`, `aic`, `bic`, `delta_aic`, `delta_bic`,
    `status`, `fit`); `best_aic`/`best_bic` name the winners; `to_frame()` gives a DataFrame."""

    @property
    def forms(self) -> List[Dict[str, Any]]:
        """One dict per form, in the order asked."""
        return list(self._dict["forms"])

    @property
    def best_aic(self) -> Optional[str]:
        """The form with the smallest AIC (None if no form has one)."""
        return self._dict["best_aic"]

    @property
    def best_bic(self) -> Optional[str]:
        """The form with the smallest BIC (None if no form has one)."""
        return self._dict["best_bic"]

    @property
    def best_held_out(self) -> Optional[str]:
        """The form with the smallest held-out log RMSE (None without a cutoff)."""
        return self._dict.get("best_held_out")

    @property
    def conventions(self) -> Dict[str, Any]:
        """The objective, residual space and the criteria's formulas."""
        return dict(self._dict["conventions"])

    def to_frame(self):
        """One row per form (pandas DataFrame), without the fits."""
        import pandas as pd

        cols = ["law", "objective", "residual_rms", "parameters", "log_likelihood", "aic",
                "bic", "delta_aic", "delta_bic", "status"]
        rows = []
        for r in self._dict["forms"]:
            row = {c: r[c] for c in cols}
            if "held_out" in r:
                row["held_out_log_rmse"] = r["held_out"]["log_rmse"]
                row["held_out_median_abs_relative_error"] = (
                    r["held_out"]["summary"]["median_abs_relative_error"])
            rows.append(row)
        return pd.DataFrame(rows)


def compare_forms(data: Any, laws: Sequence[str], *, param: Sequence[str] = (),
                  x: Optional[str] = None, fix_e: Optional[float] = None,
                  objective: str = "huber", delta: float = 1e-3, space: str = "log",
                  reduction: str = "sum", starts: str = "varpro", max_iter: int = 2000,
                  cutoff: Optional[float] = None, on: str = "flops",
                  where: Optional[str] = None, progress: bool = True,
                  **load) -> FormComparison:
    """Fit several law forms to the same runs and compare them (`scaling forms`).

    `laws`: built-in names (`"chinchilla"`, `"kaplan"`, ...) or formulas
    (`"E + A*N^-alpha"`). Every form is fitted with the same objective to the rows that have
    every quantity any form reads. AIC = 2(k+1) - 2 ln L and BIC = (k+1) ln n - 2 ln L with a
    Gaussian likelihood on the residuals at sigma^2 = RSS/n (Akaike 1974; Schwarz 1978); with
    the Huber objective they use the squared residuals at the Huber optimum (said in
    `conventions`). `param`, `x` and `fix_e` apply to every form (`x` to power laws only).
    With `cutoff`, each form is also fitted to the runs with at most `cutoff` on `on` (`"flops"`,
    `"params"` or a column) and scored by its errors on the others (`held_out` of each row).
    Loading keywords are those of `fit` (params=, tokens=, flops=, loss=, drop_top_loss=, ...).
    `progress`: the time taken when the call takes more than a second; Ctrl-C interrupts.
    """
    if isinstance(laws, str):
        laws = [laws]
    if isinstance(param, str):
        param = [param]
    request = {
        "load": _load(where=where, **load),
        "forms": {
            "laws": [str(law) for law in laws],
            "settings": {
                "law": "", "params": [str(p) for p in param], "x": x, "fix_e": fix_e,
                "objective": objective, "delta": float(delta), "space": space,
                "reduction": reduction, "starts": starts, "max_iter": int(max_iter),
            },
            "holdout": None if cutoff is None else {
                "axis": on if on in ("flops", "params") else {"column": str(on)},
                "value": float(cutoff),
            },
        },
    }
    return FormComparison(*_scaling.compare_forms(table_arg(data), json.dumps(request),
                                                  reporter("forms", progress)))
