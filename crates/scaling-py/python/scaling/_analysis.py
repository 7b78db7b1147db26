"""Prediction, tests of a law, calibration, the demo, plots and the HTML report from Python.

Each function is one call of the Rust library (the same as the command line's `predict`,
`test`, `calibrate`, `demo`, `plot` and `report`); `to_dict()` of a result equals the
command's `--format json` output for the same request.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

from . import _scaling
from ._data import table_arg
from ._errors import InputError
from ._methods import _load
from ._progress import reporter
from ._results import Fit, Result

LawLike = Union[str, Fit, "os.PathLike[str]"]


def _source(law: LawLike):
    """(kind, text or name, label) of a law: a Fit, a saved fit or law file, or a preset name."""
    if isinstance(law, Fit):
        return "json", law.to_json(), "fit"
    if os.path.exists(os.fspath(law)):
        path = os.fspath(law)
        with open(path, encoding="utf-8") as f:
            return "json", f.read(), path
    return "preset", str(law), ""


def _fit_json(fit: Union[Fit, "os.PathLike[str]", str]):
    """(JSON text, label) of a saved fit: a Fit, or the path of a file saved with `--out`."""
    if isinstance(fit, Fit):
        return fit.to_json(), "fit"
    path = os.fspath(fit)
    with open(path, encoding="utf-8") as f:
        return f.read(), path


class Prediction(Result):
    """A prediction at one point (`scaling predict`): `loss`, the completed point, and with a
    bootstrapped fit `interval` (mean loss) and `new_run_interval` (one new run)."""

    @property
    def loss(self) -> float:
        return self._dict["loss"]

    @property
    def interval(self):
        """Percentile interval on the mean loss, or None without replicates."""
        return self._dict.get("interval")

    @property
    def new_run_interval(self):
        """Where one new run's loss should fall, or None without replicates."""
        return self._dict.get("new_run_interval")


class Predictions:
    """Predictions at many points, as numpy arrays: `loss`, `params`, `tokens`, `flops`,
    `interval` and `new_run_interval` (shape (n, 2), NaN where there is none)."""

    def __init__(self, json_text: str):
        self._json = json_text
        self._rows: List[Dict[str, Any]] = json.loads(json_text)

    def _col(self, key: str) -> np.ndarray:
        return np.array([np.nan if r.get(key) is None else r[key] for r in self._rows], dtype=float)

    def _pair(self, key: str) -> np.ndarray:
        out = np.full((len(self._rows), 2), np.nan)
        for i, r in enumerate(self._rows):
            if r.get(key) is not None:
                out[i] = r[key]
        return out

    @property
    def loss(self) -> np.ndarray:
        return self._col("loss")

    @property
    def params(self) -> np.ndarray:
        return self._col("params")

    @property
    def tokens(self) -> np.ndarray:
        return self._col("tokens")

    @property
    def flops(self) -> np.ndarray:
        return self._col("flops")

    @property
    def interval(self) -> np.ndarray:
        return self._pair("interval")

    @property
    def new_run_interval(self) -> np.ndarray:
        return self._pair("new_run_interval")

    def __len__(self) -> int:
        return len(self._rows)

    def to_dict(self) -> List[Dict[str, Any]]:
        """One `scaling predict --format json` object per point."""
        return json.loads(self._json)

    def to_frame(self):
        import pandas as pd

        iv, nr = self.interval, self.new_run_interval
        return pd.DataFrame({
            "params": self.params, "tokens": self.tokens, "flops": self.flops, "loss": self.loss,
            "low": iv[:, 0], "high": iv[:, 1], "new_run_low": nr[:, 0], "new_run_high": nr[:, 1],
        })

    def __repr__(self) -> str:
        return f"Predictions({len(self)} points, loss {self.loss!r})"


def predict(
    law: LawLike,
    *,
    params=None,
    tokens=None,
    flops=None,
    unique_tokens=None,
    level: Optional[float] = None,
):
    """Predict the loss from a fitted or published law (`scaling predict`).

    Any two of params N, tokens D and flops C give the third under C = k N D (k = 6 unless the
    fit says otherwise). With a bootstrapped fit the result carries two percentile intervals:
    `interval` on the mean loss (the replicate laws' predictions) and `new_run_interval` for one
    new run (every replicate combined with every modified residual; Davison & Hinkley 1997,
    Algorithm 6.4).

    law: a Fit, the path of a saved fit or law file, or a preset name (scaling.presets()).
    Scalars give a Prediction (to_dict() is the command's JSON); arrays (any of params, tokens,
    flops, unique_tokens) give Predictions with numpy columns, one prediction per element.
    """
    kind, source, label = _source(law)
    values = [params, tokens, flops, unique_tokens]
    if any(v is not None and np.ndim(v) > 0 for v in values):
        n = max(int(np.size(v)) for v in values if v is not None)

        def arr(v):
            if v is None:
                return None
            a = np.asarray(v, dtype=np.float64)
            return np.ascontiguousarray(np.broadcast_to(a, (n,)) if a.ndim == 0 else a)

        return Predictions(_scaling.predict_many(
            kind, source, label, arr(params), arr(tokens), arr(flops), arr(unique_tokens),
            None if level is None else float(level)))
    f = lambda v: None if v is None else float(v)  # noqa: E731
    request = {"params": f(params), "tokens": f(tokens), "flops": f(flops),
               "unique_tokens": f(unique_tokens), "level": f(level)}
    return Prediction(*_scaling.predict(kind, source, label, json.dumps(request)))


class LawTest(Result):
    """A law tested against a bootstrapped fit (`scaling test`): `chi2_p_value`,
    `lr_p_value` and the per-parameter comparison in `to_dict()["params"]`."""

    @property
    def chi2_p_value(self) -> float:
        return self._dict["chi2_p_value"]

    @property
    def lr_p_value(self) -> float:
        return self._dict["lr_p_value"]


def test_law(fit: Union[Fit, str, "os.PathLike[str]"], against: LawLike, *, delta: float = 1e-3) -> LawTest:
    """Test a law against a bootstrapped fit and its data (`scaling test`; Besiroglu et al.
    2024, arXiv:2404.10102): chi-squared of the law's parameters against the bootstrap
    covariance, and a likelihood ratio under the Huber likelihood (delta on residuals divided
    by the fitted scale) with fitted scale.

    fit: a Fit made with bootstrap=R, or the path of one saved with `--out`.
    against: a Fit, a saved fit or law file, or a preset name.
    """
    fit_json, fit_label = _fit_json(fit)
    kind, source, label = _source(against)
    return LawTest(*_scaling.test_law(fit_json, fit_label, kind, source, label, float(delta)))


class Calibration(Result):
    """Coverage of bootstrap intervals on a design (`scaling calibrate`): `coverage` by
    quantity (alpha, beta, a)."""

    @property
    def coverage(self) -> Dict[str, Any]:
        return dict(self._dict["coverage"])

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame.from_dict(self.coverage, orient="index")


def calibrate(
    data: Any,
    *,
    datasets: int = 200,
    bootstrap: int = 400,
    seed: int = 1,
    noise: str = "residuals",
    noise_sd: Optional[float] = None,
    level: float = 0.95,
    cluster: Optional[str] = None,
    progress: bool = True,
    **load: Any,
) -> Calibration:
    """How often bootstrap intervals cover the truth on the design of `data` (`scaling
    calibrate`): the fit of the runs is the truth; each of `datasets` simulated datasets adds
    log-loss noise (`"residuals"`: the fit's residuals resampled; `"gaussian"`: Normal with
    `noise_sd`, default 1.4826 MAD of the residuals; `"grouped"`: per-model-size effects plus
    per-run deviations, as real runs of one size share errors), is fitted and bootstrapped with
    `bootstrap` replicates, and each percentile interval is checked against the truth (Wilson
    95% intervals on the coverage). `cluster="N"`: the bootstraps resample model sizes, `"none"` single
    runs; by default they do what `fit` does (sizes when the design holds at least 20 sizes of which 3 repeat).

    load: column and filter keywords as in scaling.compare (params=, drop_top_loss=, where=, ...).
    """
    request = {
        "load": _load(**load),
        "request": {"datasets": int(datasets), "bootstrap": int(bootstrap), "seed": int(seed),
                    "noise": noise, "noise_sd": noise_sd, "level": float(level),
                    "cluster_column": cluster},
    }
    design = os.fspath(data) if isinstance(data, (str, os.PathLike)) else "<DataFrame>"
    return Calibration(*_scaling.calibrate(table_arg(data), design, json.dumps(request),
                                           reporter("calibrate", progress)))


class Demo(Result):
    """The demo (`scaling demo`): synthetic runs from Epoch AI's estimate of Chinchilla's law,
    fitted. `fit` is the Fit; `runs_csv()` the runs as CSV; `to_dict()` the command's JSON."""

    def __init__(self, json_text: str, text: str, csv: str, fit_json: str, fit_text: str):
        super().__init__(json_text, text)
        self._csv = csv
        self._fit = Fit(fit_json, fit_text)

    @property
    def fit(self) -> Fit:
        """The fit of the synthetic runs, as `scaling fit` gives it."""
        return self._fit

    def runs_csv(self) -> str:
        """The synthetic runs: params,tokens,flops,loss."""
        return self._csv


def demo(*, seed: int = 1, noise: float = 0.01, per_budget: int = 10, bootstrap: int = 1000,
         progress: bool = True) -> Demo:
    """The whole job on a synthetic IsoFLOP sweep (`scaling demo`): Chinchilla's nine budgets,
    `per_budget` model sizes each, loss from Epoch AI's estimate (Besiroglu et al. 2024) times
    exp(Normal(0, noise)), fitted and bootstrapped (bootstrap=0 for none)."""
    request = {"seed": int(seed), "noise": float(noise), "per_budget": int(per_budget),
               "bootstrap": int(bootstrap)}
    return Demo(*_scaling.demo(json.dumps(request), reporter("bootstrap", progress)))


class Plot:
    """An SVG plot: `svg` (text), shown inline in Jupyter, `save(path)` to write it."""

    def __init__(self, svg: str):
        self.svg = svg

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path, force: bool = False) -> None:
        """Write the SVG to `path`; an existing file is kept unless force=True."""
        if os.path.lexists(path) and not force:
            raise InputError(f"{path}: the file exists; pass force=True to overwrite it")
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.svg)

    def __repr__(self) -> str:
        return f"Plot({len(self.svg)} bytes of SVG)"


def _overview_request(bootstrap: int, seed: int, budgets: Sequence[float], load: dict,
                      checks: bool = False) -> str:
    return json.dumps({
        "load": _load(**load),
        "request": {"bootstrap": int(bootstrap), "seed": int(seed),
                    "budgets": [float(b) for b in budgets], "isoflop": True,
                    "checks": checks},
    })


def plot(kind: str, data: Any = None, *, fit: Union[Fit, str, None] = None, bootstrap: int = 400,
         seed: int = 0, budgets: Sequence[float] = (), progress: bool = True,
         **load: Any) -> Plot:
    """Draw a plot (`scaling plot KIND`): "loss-compute", "isoflop", "frontier", "residuals",
    "bootstrap" or "curves". From runs (`data`: path, DataFrame or dict of arrays), or from a
    saved fit (`fit=`: drawn with its own replicates, no second bootstrap). Panels with more
    than 4000 points draw every k-th point and say so in their title. `progress`: a bar for the
    bootstrap when it takes more than a second; Ctrl-C interrupts."""
    fit_json = None if fit is None else _fit_json(fit)[0]
    req = _overview_request(bootstrap, seed, budgets, load)
    return Plot(_scaling.plot(kind, req, None if data is None else table_arg(data), fit_json,
                              reporter("bootstrap", progress)))


def report(data: Any = None, *, fit: Union[Fit, str, None] = None, path=None, force: bool = False,
           bootstrap: int = 1000, seed: int = 0, budgets: Sequence[float] = (),
           by: Union[str, Sequence[str], None] = None,
           shared: Sequence[str] = ("alpha", "beta"), progress: bool = True,
           **load: Any) -> str:
    """The self-contained HTML report (`scaling report`): data, fit with intervals,
    Chinchilla's approaches beside the published ones, allocations and plots.

    From runs (`data`) and/or a saved fit (`fit=`, no second bootstrap). Returns the HTML text;
    with `path=` also writes it there (an existing file is kept unless force=True).
    `by="dataset"`: one section per group and, first, the groups compared (separate and joint
    fits sharing `shared`, the test of sharing, paired differences and compute-equivalent
    gains), as `scaling report --by`.
    `progress`: a bar for the bootstrap when it takes more than a second; Ctrl-C interrupts.
    """
    if path is not None and os.path.lexists(path) and not force:
        raise InputError(f"{path}: the file exists; pass force=True to overwrite it")
    fit_json = None if fit is None else _fit_json(fit)[0]
    if isinstance(data, (str, os.PathLike)):
        title = os.fspath(data)
    elif data is None and fit is not None:
        title = "fit" if isinstance(fit, Fit) else os.fspath(fit)
    else:
        title = "<DataFrame>"
    req = _overview_request(bootstrap, seed, budgets, load, checks=True)
    if by is not None:
        req = json.dumps(dict(json.loads(req), by=[by] if isinstance(by, str) else list(by),
                              shared=list(shared)))
    html = _scaling.report_html(title, req, None if data is None else table_arg(data), fit_json,
                                reporter("bootstrap", progress))
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(html)
    return html
