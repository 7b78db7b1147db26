"""scaling.optimal and scaling.presets: planning with a fitted or published law."""

from __future__ import annotations

import json
import os
from typing import Any, List, Optional, Sequence, Union

from . import _scaling
from ._results import Fit, Result


class Plan(Result):
    """A plan (`scaling optimal`): one row per budget (or one for a target loss)."""

    @property
    def rows(self) -> List[dict]:
        d = self.to_dict()
        return d if isinstance(d, list) else [d]

    def to_frame(self):
        import pandas as pd

        return pd.json_normalize(self.rows)


class Presets(Result):
    """The published laws (`scaling presets`)."""

    @property
    def names(self) -> List[str]:
        return [p["name"] for p in self.to_dict()]


def optimal(
    law: Union[str, Fit, "os.PathLike[str]"],
    *,
    flops: Union[float, Sequence[float], None] = None,
    target_loss: Optional[float] = None,
    params: Optional[float] = None,
    tokens: Optional[float] = None,
    inference_tokens: Optional[float] = None,
    unique_tokens: Optional[float] = None,
    flops_per_param_token: Optional[float] = None,
    level: Optional[float] = None,
) -> Plan:
    """Compute-optimal planning (`scaling optimal`).

    For L = E + A/N^alpha + B/D^beta under C = k N D the optimum is
    N_opt = G (C/k)^(beta/(alpha+beta)), D_opt = (C/k)/N_opt with G = (alpha A / (beta B))^(1/(alpha+beta))
    (Hoffmann et al. 2022, Eq. 4); other laws are minimised numerically. With inference_tokens T,
    the least k N D + 2 N T at the same loss (Sardana et al. 2024).

    law: a Fit from scaling.fit, a path to a saved fit or law file, or a preset name
    (scaling.presets()). A bootstrapped fit gives percentile intervals, failed refits left out.
    """
    if isinstance(law, Fit):
        kind, source, label = "json", law.to_json(), "fit"
    elif os.path.exists(os.fspath(law)):
        path = os.fspath(law)
        with open(path, encoding="utf-8") as f:
            kind, source, label = "json", f.read(), path
    else:
        kind, source, label = "preset", str(law), ""
    if flops is None:
        budgets: List[float] = []
    elif isinstance(flops, (int, float)):
        budgets = [float(flops)]
    else:
        budgets = [float(c) for c in flops]
    request = {
        "budgets": budgets, "target_loss": target_loss, "params": params, "tokens": tokens,
        "inference_tokens": inference_tokens, "unique_tokens": unique_tokens,
        "flops_per_param_token": flops_per_param_token, "level": level,
    }
    return Plan(*_scaling.optimal(kind, source, label, json.dumps(request)))


def presets() -> Presets:
    """The published laws by name, with their sources (`scaling presets`)."""
    return Presets(*_scaling.presets())
