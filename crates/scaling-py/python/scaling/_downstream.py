"""Downstream accuracy from small runs (`scaling downstream`): a law from (N, D) or C to a task
loss, then a sigmoid (Bhagia et al. 2024) or Gadre et al.'s exponential to accuracy or error,
chained, with bootstrap intervals over runs. One call of the Rust library; `to_json()` is byte
for byte what the command line prints with `--format json` for the same options."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence

from . import _scaling
from ._data import table_arg
from ._progress import reporter
from ._results import Result


class Downstream(Result):
    """A downstream prediction: per task the two fits and the predictions at each target.

    Attributes: `tasks` (one dict per task: `task`, `step1`, `step2`, `predictions`,
    `warnings`), `average` (the weighted mean over tasks per target), `warnings`,
    `conventions`; `to_frame()` gives one row per (task, target).
    """

    @property
    def tasks(self) -> List[Dict[str, Any]]:
        """One dict per task."""
        return list(self._dict["tasks"])

    @property
    def average(self) -> List[Dict[str, Any]]:
        """The weighted average over tasks at each target (empty with one task)."""
        return list(self._dict["average"])

    @property
    def warnings(self) -> List[str]:
        """Near chance, a feature outside step 2's range, a step 2 at a bound or not identified."""
        return list(self._dict["warnings"])

    @property
    def conventions(self) -> Dict[str, Any]:
        """Every choice that changes a number (recipe, checkpoints, objective, bootstrap)."""
        return dict(self._dict["conventions"])

    def svg(self) -> str:
        """The figure as SVG text (the same drawing as `scaling downstream --plot`): the
        chained prediction per task against the actual value, then per task step 1 and step 2
        with the fitted laws and the targets' predictions."""
        return _scaling.downstream_svg_of(self._json)

    def _repr_svg_(self) -> str:
        return self.svg()

    def plot(self, path, force: bool = False) -> None:
        """Write `svg()` to `path`; an existing file is kept unless `force=True`."""
        import os

        from ._errors import InputError

        if os.path.lexists(path) and not force:
            raise InputError(f"{path}: the file exists; pass force=True to overwrite it")
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.svg())

    def to_frame(self):
        """One row per (task, target): predicted, interval, actual, error."""
        import pandas as pd

        rows = []
        for t in self._dict["tasks"]:
            for p in t["predictions"]:
                row = {"task": t["task"]["name"]}
                for k, v in p.items():
                    if isinstance(v, list) and len(v) == 2 and k.endswith("interval"):
                        row[k + "_low"], row[k + "_high"] = v
                    elif not isinstance(v, (list, dict)):
                        row[k] = v
                rows.append(row)
        return pd.DataFrame(rows)


def _list(v) -> List[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    return [str(x) for x in v]


def _weights(w) -> List[str]:
    if w is None:
        return []
    if isinstance(w, dict):
        return [f"{k}={float(v)!r}" for k, v in w.items()]
    return _list(w)


def downstream(data: Any, *, recipe: Optional[str] = None, tasks: Optional[Sequence[str]] = None,
               task_weights: Any = None,
               feature: Optional[str] = None, metric: Optional[str] = None, chance: float = 0.25,
               max: float = 1.0, run_col: Optional[str] = None, family_col: Optional[str] = None,
               where: Optional[str] = None, step1_where: Optional[str] = None,
               targets: Optional[Sequence[str]] = None, at: Optional[Sequence[str]] = None,
               at_flops: Optional[Sequence[float]] = None, single_step: bool = False,
               law: Optional[str] = None, objective: Optional[str] = None,
               space: Optional[str] = None, step2: Optional[str] = None,
               step2_params: Optional[Sequence[str]] = None,
               step1_checkpoints: Optional[str] = None, step2_checkpoints: Optional[str] = None,
               skip_fraction: Optional[float] = None, moving_average: Optional[int] = None,
               anchor: bool = False, params: Optional[str] = None, tokens: Optional[str] = None,
               flops: Optional[str] = None, flops_unit: Optional[float] = None,
               bootstrap: int = 0, seed: int = 0, level: float = 0.95,
               join: Any = None, on: Optional[str] = None,
               progress: bool = True, _backtest: Sequence[float] = ()) -> Any:
    """Predict a large run's benchmark accuracy from small runs (`scaling downstream`).

    Step 1 fits `law` from (N, D) or C to the `feature` column (a task loss); step 2 fits
    `step2` ("sigmoid": a / (1 + exp(-k (x - x0))) + b, Bhagia et al. 2024, Eq. 2;
    "exponential": eps - k exp(-gamma x), Gadre et al. 2024, Eq. 5; or a formula in x) from
    the feature to the `metric` column, in linear space; the prediction at each target chains
    them. `recipe` ("ladder", "gadre", "ruan") sets a paper's data handling; explicit keywords
    override it. `tasks` are "METRIC", "FEATURE:METRIC" or "FEATURE:METRIC:CHANCE".
    `targets` are run labels (column `run_col`), `at` "N:D" strings such as "7B:4T",
    `at_flops` budgets. `bootstrap` replicates resample whole runs and refit both steps.
    `join` (a path or DataFrame) is joined to `data` on column `on`. `task_weights` (a dict
    {task: weight} or "TASK=W" strings, for every task) weights the average over tasks.
    `progress`: the time taken when the call takes more than a second; Ctrl-C interrupts.
    """
    options = {
        "recipe": recipe, "tasks": _list(tasks), "task_weights": _weights(task_weights),
        "feature": feature, "metric": metric,
        "chance": float(chance), "max": float(max), "run_col": run_col, "family_col": family_col,
        "fit_where": where, "step1_where": step1_where, "targets": _list(targets),
        "at": _list(at), "at_flops": [float(c) for c in (at_flops or [])],
        "single_step": bool(single_step), "law": law, "objective": objective, "space": space,
        "step2": step2, "step2_params": _list(step2_params),
        "step1_checkpoints": step1_checkpoints, "step2_checkpoints": step2_checkpoints,
        "skip_fraction": skip_fraction, "moving_average": moving_average, "anchor": bool(anchor),
        "params_col": params, "tokens_col": tokens, "flops_col": flops, "flops_unit": flops_unit,
        "bootstrap": int(bootstrap), "seed": int(seed), "level": float(level),
        "backtest": [float(c) for c in _backtest],
    }
    right = table_arg(join) if join is not None else None
    out = _scaling.downstream(table_arg(data), json.dumps(options), right, on,
                              reporter("downstream", progress))
    return DownstreamBacktest(*out) if _backtest else Downstream(*out)


class DownstreamBacktest(Result):
    """A downstream backtest: per cutoff the held-out runs' predictions, errors (points) and
    coverage of the new-run intervals, and all cutoffs pooled by extrapolation distance.

    Attributes: `cutoffs` (one dict per cutoff: `cutoff`, `train_runs`, `held_out`,
    `summary`, `error`, `warnings`), `by_distance`, `pooled`; `to_frame()` gives one row per
    (cutoff, task, held-out run).
    """

    @property
    def cutoffs(self) -> List[Dict[str, Any]]:
        """One dict per cutoff, smallest first."""
        return list(self._dict["cutoffs"])

    @property
    def by_distance(self) -> List[Dict[str, Any]]:
        """All cutoffs' predictions pooled in half decades of extrapolation distance."""
        return list(self._dict["by_distance"])

    @property
    def pooled(self) -> Dict[str, Any]:
        """Errors and coverage over every prediction."""
        return dict(self._dict["pooled"])

    def svg(self) -> str:
        """The figure as SVG text (`scaling downstream --backtest ... --plot`): every held-out
        prediction's error against its distance, and the coverage by distance."""
        return _scaling.downstream_backtest_svg_of(self._json)

    def _repr_svg_(self) -> str:
        return self.svg()

    def to_frame(self):
        """One row per (cutoff, task, held-out run)."""
        import pandas as pd

        rows = []
        for c in self._dict["cutoffs"]:
            for h in c["held_out"]:
                row = {"cutoff": c["cutoff"]}
                for k, v in h.items():
                    if isinstance(v, list) and len(v) == 2:
                        row[k + "_low"], row[k + "_high"] = v
                    else:
                        row[k] = v
                rows.append(row)
        return pd.DataFrame(rows)


def downstream_backtest(data: Any, cutoffs: Sequence[float], **kwargs: Any) -> DownstreamBacktest:
    """Backtest a downstream prediction (`scaling downstream --backtest C,...`): at each
    compute cutoff, fit both steps on the runs whose C (that of their last row) is at or below
    it, predict every larger run and compare with its actual score. Errors are in points;
    with `bootstrap=R` the coverage of the new-run intervals is reported, per cutoff and by
    distance in decades beyond the largest training run. Takes the keywords of
    `scaling.downstream` except the targets (`targets`, `at`, `at_flops`)."""
    from ._errors import InputError

    if isinstance(cutoffs, (int, float)):
        cutoffs = [cutoffs]
    cutoffs = [float(c) for c in cutoffs]
    if not cutoffs:
        raise InputError("a backtest needs a cutoff")
    bad = [c for c in cutoffs if not (c > 0 and c != float("inf"))]
    if bad:
        raise InputError(f"cutoffs must be positive FLOPs, got {bad[0]}")
    for k in ("targets", "at", "at_flops"):
        if kwargs.get(k):
            raise InputError(f"a backtest predicts the runs above each cutoff: it takes no {k}")
    return downstream(data, _backtest=cutoffs, **kwargs)
