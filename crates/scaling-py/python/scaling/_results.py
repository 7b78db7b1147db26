"""Result objects: the library's JSON as attributes, its text report as `repr`, and HTML for
Jupyter. `to_dict()` is exactly the command line's `--format json` for the same request."""

from __future__ import annotations

import html
import json
from typing import Any, Dict

from ._errors import InputError


class Result:
    """A result of the library: `to_dict()` is its JSON, `str()`/`repr()` its text report."""

    def __init__(self, json_text: str, text: str):
        self._json = json_text
        self._dict: Dict[str, Any] = json.loads(json_text)
        self._text = text

    def to_dict(self) -> Dict[str, Any]:
        """The result as the command line's JSON (a fresh copy)."""
        return json.loads(self._json)

    def to_json(self) -> str:
        """The result as JSON text, byte for byte what `--format json` prints."""
        return self._json

    def __repr__(self) -> str:
        return self._text

    __str__ = __repr__

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self._text)}</pre>"


class Fit(Result):
    """A fitted law: parameters, how the fit ended, and (after a bootstrap) intervals.

    Attributes mirror the JSON: `params` ({"E": ..., "alpha": ...}), `status`, `objective`,
    `intervals` (None without a bootstrap), `std_errors`, `implied`, `warnings`, `conventions`.
    """

    @property
    def params(self) -> Dict[str, float]:
        """The fitted parameters by name (None for one the data cannot determine)."""
        return dict(self._dict["params"])

    @property
    def status(self) -> str:
        """How the optimiser ended: converged, iteration_limit, line_search_failed, ..."""
        return self._dict["status"]

    @property
    def objective(self) -> float:
        """The minimised objective (see `conventions`)."""
        return self._dict["objective"]

    @property
    def intervals(self):
        """Percentile intervals by quantity name ([low, high]), or None without a bootstrap."""
        return self._dict.get("intervals")

    @property
    def std_errors(self):
        """Bootstrap standard errors by quantity name, or None without a bootstrap."""
        return self._dict.get("std_errors")

    @property
    def warnings(self):
        """What a reader must know: weakly determined parameters, failed refits, ..."""
        return list(self._dict.get("warnings", []))

    @property
    def conventions(self) -> Dict[str, Any]:
        """Every convention that changes a number (objective, FLOP model, filters, seed)."""
        return dict(self._dict["conventions"])

    def _repr_html_(self) -> str:
        """The parameter table and the loss-against-compute plot (SVG drawn by the library)."""
        from . import _scaling

        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{'' if v is None else f'{v:.6g}'}</td>"
            f"<td>{html.escape(str((self.intervals or {}).get(k, '')))}</td></tr>"
            for k, v in self.params.items()
        )
        table = f"<table><tr><th>param</th><th>value</th><th>interval</th></tr>{rows}</table>"
        try:
            svg = _scaling.fit_svg(self._json)
        except Exception:  # a fit the plot cannot draw still shows its table
            svg = ""
        return f"<div>{table}<p>status: {html.escape(self.status)}</p>{svg}</div>"

    def svg(self) -> str:
        """The loss-against-compute plot of the runs and the fitted law, as SVG text (the same
        drawing as `scaling plot loss-compute`)."""
        from . import _scaling

        return _scaling.fit_svg(self._json)

    def save_plot(self, path, force: bool = False) -> None:
        """Write `svg()` to `path`; an existing file is kept unless `force=True`."""
        import os

        if os.path.lexists(path) and not force:
            raise InputError(f"{path}: the file exists; pass force=True to overwrite it")
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.svg())

    def to_frame(self):
        """The parameters as a pandas DataFrame (value, and interval and standard error when
        bootstrapped), one row per parameter."""
        import pandas as pd

        rows = []
        iv = self.intervals or {}
        se = self.std_errors or {}
        for name, value in self.params.items():
            lo, hi = iv.get(name, (None, None)) if name in iv else (None, None)
            rows.append({"param": name, "value": value, "low": lo, "high": hi, "std_error": se.get(name)})
        return pd.DataFrame(rows).set_index("param")
