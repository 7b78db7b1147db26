"""Turn what a notebook holds (a path, a pandas or polars DataFrame, a dict of arrays) into the
columns the Rust core reads. Only conversion happens here: column roles, validation and every
error message come from the library, as on the command line."""

from __future__ import annotations

import os
from typing import Any

import numpy as np


def _column(name: str, values: Any):
    """A float64 array (no copy when it already is one) or a list of labels."""
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        return (str(name), np.ascontiguousarray(arr, dtype=np.float64))
    if arr.dtype.kind == "O":
        try:
            return (str(name), np.ascontiguousarray(arr.astype(np.float64)))
        except (TypeError, ValueError):
            pass
    return (str(name), ["" if v is None else str(v) for v in arr.tolist()])


def table_arg(data: Any):
    """A path string, or ("<DataFrame>", [(name, column), ...])."""
    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data)
    mod = type(data).__module__.split(".")[0]
    if mod == "pandas" and hasattr(data, "columns"):
        return ("<DataFrame>", [_column(c, data[c].to_numpy()) for c in data.columns])
    if mod == "polars" and hasattr(data, "get_column"):
        return ("<DataFrame>", [_column(c, data.get_column(c).to_numpy()) for c in data.columns])
    if isinstance(data, dict):
        return ("<arrays>", [_column(k, v) for k, v in data.items()])
    raise TypeError(
        "data must be a path, a pandas or polars DataFrame, or a dict of arrays; "
        f"got {type(data).__name__}"
    )
