"""Chinchilla's methods (Hoffmann et al. 2022, Section 3) from Python: Approach 2 (`isoflop`),
Approach 1 (`envelope`), the three approaches side by side (`compare`) and a power law between
two columns (`powerlaw`). Each is one call of the Rust library, per group with `by=`; the
result's `to_json()` is byte for byte what the command line prints with `--format json`."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence

from . import _scaling
from ._progress import reporter
from ._data import table_arg
from ._results import Result


def _load(params=None, tokens=None, flops=None, loss=None, skip_invalid=False,
          drop_top_loss=0, min_flops=None, max_flops=None, where=None,
          params_convention=None, flops_convention=None, flops_per_param_token=6.0) -> dict:
    return {
        "params_col": params, "tokens_col": tokens, "flops_col": flops, "loss_col": loss,
        "skip_invalid": skip_invalid,
        "filters": {"min_flops": min_flops, "max_flops": max_flops,
                    "drop_top_loss": drop_top_loss, "where": where},
        "params_convention": params_convention, "flops_convention": flops_convention,
        "flops_per_param_token": flops_per_param_token,
    }


def _by(by) -> List[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return [str(b) for b in by]


class MethodResult(Result):
    """A method's result; with `by=` the JSON is a list with one object per group (each with its
    `group` key, or an `error` for a group that failed)."""

    @property
    def grouped(self) -> bool:
        """True when the result holds one entry per group (`by=`)."""
        return isinstance(self._dict, list)

    def groups(self) -> List[Dict[str, Any]]:
        """Each group's JSON object (one element without grouping)."""
        return list(self._dict) if self.grouped else [self._dict]

    def __getitem__(self, key):
        return self._dict[key]


class Isoflop(MethodResult):
    """Approach 2: a parabola in ln N per FLOP budget, then N* ~ C^a and D* ~ C^b.

    Attributes: `params_exponent` (a), `tokens_exponent` (b), their bootstrap intervals,
    `budgets` (one dict per budget); `to_frame()` gives the budgets as a DataFrame.
    """

    @property
    def params_exponent(self) -> float:
        """a in N* ~ C^a (least squares in log-log space over the used budgets)."""
        return self._dict["params_exponent"]

    @property
    def tokens_exponent(self) -> float:
        """b in D* ~ C^b (a + b = 1 with D* = C / (6 N*))."""
        return self._dict["tokens_exponent"]

    @property
    def params_exponent_interval(self):
        """Bootstrap percentile interval on a, or None."""
        return self._dict["params_exponent_interval"]

    @property
    def tokens_exponent_interval(self):
        """Bootstrap percentile interval on b, or None."""
        return self._dict["tokens_exponent_interval"]

    @property
    def budgets(self) -> List[Dict[str, Any]]:
        """One dict per budget: flops, runs, params (N*), tokens (D*), loss (L*), intervals, flags."""
        return list(self._dict["budgets"])

    def to_frame(self):
        """The budgets as a pandas DataFrame (one row per budget; per group with `by=`)."""
        import pandas as pd

        rows = []
        for g in self.groups():
            for b in g.get("budgets", []):
                row = {k: v for k, v in b.items() if not isinstance(v, list)}
                row["flags"] = ",".join(b["flags"])
                for k, v in g.get("group", {}).items():
                    row[k] = v
                rows.append(row)
        return pd.DataFrame(rows)


class Envelope(MethodResult):
    """Approach 1: the lower envelope of loss curves over a log-spaced FLOP grid, the size that
    wins each budget, and N_opt ~ C^a, D_opt ~ C^b."""

    @property
    def params_exponent(self) -> float:
        """a in N_opt ~ C^a."""
        return self._dict["params_exponent"]

    @property
    def tokens_exponent(self) -> float:
        """b in D_opt ~ C^b."""
        return self._dict["tokens_exponent"]

    @property
    def warnings(self) -> List[str]:
        """Runs whose checkpoints were out of order (often a missing run column)."""
        return list(self._dict["warnings"])

    def to_frame(self):
        """The envelope's segments (run, params, flops from/to) as a pandas DataFrame."""
        import pandas as pd

        rows = []
        for g in self.groups():
            for s in g.get("segments", []):
                row = {"run": s["run"], "params": s["params"],
                       "flops_from": s["flops"][0], "flops_to": s["flops"][1]}
                row.update(g.get("group", {}))
                rows.append(row)
        return pd.DataFrame(rows)


class Comparison(MethodResult):
    """Chinchilla's approaches side by side: a and b per approach with intervals, the
    Approach 2 bias check, and the published values (Hoffmann et al. 2022, Table 2; Kaplan et
    al. 2020)."""

    @property
    def approaches(self) -> List[Dict[str, Any]]:
        """One dict per approach: approach, a, a_interval, b, b_interval."""
        return list(self._dict["approaches"])

    @property
    def bias_check(self) -> Optional[Dict[str, Any]]:
        """Approach 2 on noiseless losses from the Approach 3 law (None when unavailable)."""
        return self._dict["approach2_bias_check"]

    @property
    def warnings(self) -> List[str]:
        """Unavailable approaches and pairs whose intervals on a do not overlap."""
        return list(self._dict["warnings"])

    def to_frame(self):
        """The approaches as a pandas DataFrame indexed by approach."""
        import pandas as pd

        rows = []
        for r in self.approaches:
            lo, hi = r["a_interval"] or (None, None)
            blo, bhi = r["b_interval"] or (None, None)
            rows.append({"approach": r["approach"], "a": r["a"], "a_low": lo, "a_high": hi,
                         "b": r["b"], "b_low": blo, "b_high": bhi})
        return pd.DataFrame(rows).set_index("approach")


class PowerLaw(MethodResult):
    """y = coefficient * x^exponent by least squares in log-log space, with t intervals."""

    @property
    def exponent(self) -> float:
        """The fitted exponent (slope in log-log space)."""
        return self._dict["exponent"]

    @property
    def coefficient(self) -> float:
        """The fitted coefficient (exp of the intercept)."""
        return self._dict["coefficient"]

    @property
    def exponent_interval(self):
        """Student-t interval on the exponent at `level`, or None with two points."""
        return self._dict["exponent_interval"]

    def to_frame(self):
        """One row per group: the group's columns, exponent, coefficient, interval, R^2, points."""
        import pandas as pd

        rows = []
        for g in self.groups():
            row = dict(g.get("group", {}))
            if "error" in g:
                row["error"] = g["error"]
            else:
                iv = g["exponent_interval"] or (None, None)
                row.update({"exponent": g["exponent"], "exponent_low": iv[0],
                            "exponent_high": iv[1], "coefficient": g["coefficient"],
                            "r_squared": g["r_squared"], "points": g["points"]})
            rows.append(row)
        return pd.DataFrame(rows)


def isoflop(data: Any, *, budgets: Sequence[float] = (), budget_col: Optional[str] = None,
            tolerance: float = 0.05, keep_flagged: bool = False, bootstrap: int = 400,
            seed: int = 0, level: float = 0.95, by=None, where: Optional[str] = None,
            progress: bool = True, **load) -> Isoflop:
    """Chinchilla's Approach 2 (`scaling isoflop`; Hoffmann et al. 2022, Section 3.2).

    For each FLOP budget C, fit L = p0 + p1 ln N + p2 (ln N)^2 to its runs and take the
    vertex N* = exp(-p1 / (2 p2)), D* = C / (6 N*); then fit N* = k C^a and D* = k' C^b by least
    squares in log-log space. Runs are assigned to a budget by `budget_col`, by snapping to
    `budgets` (FLOPs), or by FLOPs agreeing within `tolerance`. Budgets whose vertex is off
    the sampled range, with weak curvature or few points are flagged and left out unless
    `keep_flagged`. Intervals: `bootstrap` resamples of runs within budgets (`seed`).

    data: a path, a pandas/polars DataFrame or a dict of arrays; `params=`, `tokens=`,
    `flops=`, `loss=` name columns; `where=` filters rows; `by=` runs per group.
    progress: show the time taken when the call takes more than a second; Ctrl-C interrupts.
    """
    request = {
        "load": _load(where=where, **load),
        "request": {"budget_col": budget_col, "budgets": [float(b) for b in budgets],
                    "tolerance": float(tolerance), "keep_flagged": bool(keep_flagged),
                    "bootstrap": int(bootstrap), "seed": int(seed), "level": float(level)},
        "by": _by(by),
    }
    return Isoflop(*_scaling.isoflop(table_arg(data), json.dumps(request),
                                     reporter("isoflop", progress)))


def envelope(data: Any, *, run_col: Sequence[str], params_col: Optional[str] = None,
             tokens_col: Optional[str] = None, steps_col: Optional[str] = None,
             tokens_per_step: Optional[float] = None, loss_col: Optional[str] = None,
             min_fraction: float = 0.0, grid: int = 1500, bootstrap: int = 200, seed: int = 0,
             level: float = 0.95, by=None, where: Optional[str] = None,
             progress: bool = True) -> Envelope:
    """Chinchilla's Approach 1 (`scaling envelope`; Hoffmann et al. 2022, Section 3.1).

    Loss curves (one row per checkpoint; `run_col` columns identify a run) are put on a grid of
    `grid` log-spaced FLOP budgets with C = 6 N D; at each budget the run with the lowest loss
    wins; N_opt ~ C^a and D_opt ~ C^b are fitted in log-log space to the winners (budgets won
    by the smallest or largest model left out). Intervals: runs resampled `bootstrap` times.
    progress: show the time taken when the call takes more than a second; Ctrl-C interrupts.
    """
    run_col = [run_col] if isinstance(run_col, str) else list(run_col)
    request = {
        "load": _load(params=params_col, tokens=tokens_col, loss=loss_col, where=where),
        "request": {"run_col": run_col, "params_col": params_col, "tokens_col": tokens_col,
                    "steps_col": steps_col, "tokens_per_step": tokens_per_step,
                    "loss_col": loss_col, "min_fraction": float(min_fraction), "grid": int(grid),
                    "bootstrap": int(bootstrap), "seed": int(seed), "level": float(level)},
        "by": _by(by),
    }
    return Envelope(*_scaling.envelope(table_arg(data), json.dumps(request),
                                       reporter("envelope", progress)))


def compare(data: Any, *, budgets: Sequence[float] = (), budget_col: Optional[str] = None,
            tolerance: float = 0.05, keep_flagged: bool = False, run_col: Sequence[str] = (),
            bootstrap: int = 400, seed: int = 0, level: float = 0.95,
            where: Optional[str] = None, progress: bool = True, **load) -> Comparison:
    """Chinchilla's three approaches on the same runs (`scaling compare`).

    Approach 3 fits L = E + A/N^alpha + B/D^beta (Huber, log space) and implies
    a = beta/(alpha+beta), b = alpha/(alpha+beta); Approach 2 fits IsoFLOP parabolas (see
    `isoflop`); Approach 1 (with `run_col`, on loss curves) takes the lower envelope. Also:
    Approach 2 on losses drawn without noise from the Approach 3 law (its bias on this
    design), warnings where two approaches' intervals on a do not overlap, and the published
    values of Hoffmann et al. 2022 (Table 2, 10-90% intervals) and Kaplan et al. 2020.
    progress: a bar for Approach 3's bootstrap when it takes more than a second; Ctrl-C
    interrupts.
    """
    run_col = [run_col] if isinstance(run_col, str) else list(run_col)
    request = {
        "load": _load(where=where, **load),
        "request": {"budgets": [float(b) for b in budgets], "budget_col": budget_col,
                    "tolerance": float(tolerance), "keep_flagged": bool(keep_flagged),
                    "run_col": run_col, "bootstrap": int(bootstrap), "seed": int(seed),
                    "level": float(level)},
    }
    return Comparison(*_scaling.compare(table_arg(data), json.dumps(request),
                                        reporter("bootstrap", progress)))


def powerlaw(data: Any, *, x: str, y: str, by=None, where: Optional[str] = None,
             skip_invalid: bool = False, level: float = 0.95) -> PowerLaw:
    """A power law y = c x^k between two columns (`scaling powerlaw`).

    Least squares on (ln x, ln y): k is the slope, c = exp(intercept); the exponent's interval
    is Student-t with n - 2 degrees of freedom at `level`. `by=` fits each group separately
    (in order of first appearance; a failed group carries its `error`), `where=` filters rows,
    `skip_invalid` leaves out rows with empty or non-positive x or y (counted).
    """
    request = {
        "load": _load(where=where),
        "request": {"x": x, "y": y, "skip_invalid": bool(skip_invalid), "level": float(level)},
        "by": _by(by),
    }
    return PowerLaw(*_scaling.powerlaw(table_arg(data), json.dumps(request)))
