"""Accounting and lab functions: `count`, `shape`, `reconcile`, `plateau`,
`simulate_data_strategy`, `simulate_sweep`. Each builds the command's request from keywords
named as its flags, makes one call into the Rust library and wraps the library's JSON and text."""

from __future__ import annotations

import json
import os
from typing import Any, Optional

from . import _scaling
from ._data import table_arg
from ._progress import reporter
from ._results import Result


class Count(Result):
    """Parameter and FLOP counts of a shape (`scaling count`)."""

    @property
    def total_params(self) -> float:
        return self._dict["total_params"]

    @property
    def non_embedding_params(self) -> float:
        return self._dict["non_embedding_params"]

    @property
    def flops_per_token(self) -> dict:
        """Training FLOPs per token by convention (six_n, kaplan, chinchilla, deepseek, ...)."""
        return dict(self._dict["flops_per_token"])

    def to_frame(self):
        """FLOPs per token and the ratio to 6N, one row per convention."""
        import pandas as pd

        f, r = self._dict["flops_per_token"], self._dict["ratio_to_six_n"]
        return pd.DataFrame({"flops_per_token": f, "ratio_to_six_n": r})


class CountTable(Result):
    """A table with count columns appended (`scaling count FILE`); `str()` is its CSV."""

    @property
    def csv(self) -> str:
        return self._text

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self._dict)


class Shapes(Result):
    """Shapes near a target size (`scaling shape`)."""

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([
            {**p["shape"], "aspect_ratio": p["aspect_ratio"], "total_params": p["counts"]["total"],
             "non_embedding_params": p["counts"]["non_embedding"], "relative_error": p["relative_error"]}
            for p in self._dict
        ])


class Reconciliation(Result):
    """Kaplan's exponent in a Chinchilla world (`scaling reconcile`)."""

    @property
    def kaplan_range_exponent(self) -> float:
        return self._dict["kaplan_range_exponent"]

    @property
    def large_scale_exponent(self) -> float:
        return self._dict["large_scale_exponent"]

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self._dict["local_exponents"])


class Plateau(Result):
    """The verdict on a curve (`scaling plateau`)."""

    @property
    def verdict(self) -> str:
        return self._dict["verdict"]

    @property
    def asymptote(self) -> float:
        return self._dict["asymptote"]

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([{k: v for k, v in f.items() if k != "params"} for f in self._dict["forms"]]).set_index("name")


class DataStrategy(Result):
    """A data-strategy experiment's measured law (`scaling simulate data-strategy`)."""

    @property
    def rate(self) -> float:
        return self._dict["rate"]

    @property
    def asymptote(self) -> float:
        return self._dict["asymptote"]

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self._dict["points"], columns=self._dict["points_columns"])


class Sweep(Result):
    """Synthetic runs (`scaling simulate sweep`): `csv` is what the command writes."""

    def __init__(self, json_text: str, csv: str, label: str):
        super().__init__(json_text, f"{len(json.loads(json_text)['loss'])} synthetic runs (law: {label})")
        self.csv = csv
        self.law = label

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self._dict)


def _law(law: Any) -> Optional[str]:
    return None if law is None else os.fspath(law)


def count(
    data: Any = None, *, layers: Optional[int] = None, d_model: Optional[int] = None,
    heads: Optional[int] = None, kv_size: Optional[int] = None, kv_heads: Optional[int] = None,
    ffw: Optional[int] = None, vocab: Optional[int] = None, seq: Optional[int] = None,
    experts: Optional[int] = None, top_k: Optional[int] = None, untied: bool = False,
    gated: bool = False, tokens_col: Optional[str] = None,
):
    """Parameters and training FLOPs per token of a transformer shape (`scaling count`).

    Weight matrices only; training FLOPs per token under 6N (total, non-embedding, active),
    Kaplan et al. 2020's 3(2N + 2 n_layer n_ctx d_attn), Chinchilla's Appendix F (Hoffmann et
    al. 2022) and DeepSeek's M = 72 n_layer d^2 + 12 n_layer d n_ctx. With `data` (a table of
    shapes), returns the table with count columns appended instead.
    """
    req = {k: v for k, v in dict(
        layers=layers, d_model=d_model, heads=heads, kv_size=kv_size, kv_heads=kv_heads, ffw=ffw,
        vocab=vocab, seq=seq, experts=experts, top_k=top_k, untied=untied, gated=gated,
        tokens_col=tokens_col).items() if v is not None}
    if data is None:
        return Count(*_scaling.count(json.dumps(req)))
    return CountTable(*_scaling.count(json.dumps(req), table_arg(data)))


def shape(
    *, params: float, vocab: int = 32000, seq: int = 2048, untied: bool = False,
    aspect_min: float = 32.0, aspect_max: float = 160.0, count: int = 6,
) -> Shapes:
    """Shapes whose total parameter count is nearest `params` (`scaling shape`): d_model a
    multiple of 128, d_ff = 4 d_model, aspect ratio d_model / n_layer in the band (Kaplan et
    al. 2020 find loss flat over a wide band)."""
    req = dict(params=float(params), vocab=vocab, seq=seq, untied=untied,
               aspect_min=aspect_min, aspect_max=aspect_max, count=count)
    return Shapes(*_scaling.shape(json.dumps(req)))


def reconcile(
    law: Any = None, *, preset: Optional[str] = None, omega: Optional[float] = None,
    vocab: float = 32000.0, aspect: float = 39.2, min_params: float = 768.0,
    max_params: float = 1.5e9,
) -> Reconciliation:
    """What Kaplan et al. (2020) would have measured in a world following a Chinchilla law
    (`scaling reconcile`; Pearce & Song 2024): N_T = N_E + omega N_E^(1/3), omega = V
    (aspect/12)^(1/3) unless given; the frontier's exponent over Kaplan's range."""
    req = dict(omega=omega, vocab=vocab, aspect=aspect, min_params=min_params, max_params=max_params)
    return Reconciliation(*_scaling.reconcile(json.dumps(req), _law(law), preset))


def plateau(
    data: Any, *, x: str, y: str, holdout: Optional[int] = None, bootstrap: int = 200,
    seed: int = 0, level: float = 0.95, progress: bool = True,
) -> Plateau:
    """Is it really a plateau? (`scaling plateau`) Fits y = A x^-alpha, y = E + A x^-alpha and
    a broken power law (Caballero et al. 2022) on ln y, compares them by AICc and BIC and on
    held-out points of largest x, and gives E with a bootstrap interval. `progress`: the time
    taken when the call takes more than a second; Ctrl-C interrupts."""
    req = dict(x=x, y=y, holdout=holdout, bootstrap=bootstrap, seed=seed, level=level)
    return Plateau(*_scaling.plateau(table_arg(data), json.dumps(req),
                                     reporter("plateau", progress)))


def simulate_data_strategy(
    *, scenario: str, kappa: float = 0.25, gamma: float = 0.5, bias: float = 0.0,
    keep_fraction: float = 0.5, keep: str = "largest", sizes: str = "1e2:1e5:3",
    reps: int = 400, seed: int = 0, noise: float = 1.0, level: float = 0.95,
    progress: bool = True,
) -> DataStrategy:
    """The data-strategy experiment of "Are Scaling Laws Really Plateauing?" (`scaling simulate
    data-strategy`): the test error R(n) of y = theta x fitted under a strategy, and the law
    R = R_inf + c n^-r fitted to it beside the theory (full range: r = 1; near zero:
    r = 1 - 2 kappa; low noise: r = 1 + gamma). `progress`: the time taken when the call takes
    more than a second; Ctrl-C interrupts."""
    req = dict(scenario=scenario, kappa=kappa, gamma=gamma, bias=bias, keep_fraction=keep_fraction,
               keep=keep, sizes=str(sizes), reps=reps, seed=seed, noise=noise, level=level)
    return DataStrategy(*_scaling.simulate_data_strategy(json.dumps(req),
                                                         reporter("simulate", progress)))


def simulate_sweep(
    law: Any = None, *, preset: Optional[str] = None,
    budgets: str = "6e18,1e19,3e19,6e19,1e20,3e20,6e20,1e21,3e21", per_budget: int = 10,
    span: float = 1.5, grid_params: Optional[str] = None, grid_tokens: Optional[str] = None,
    noise_kind: str = "gaussian", noise: float = 0.01, seed: int = 0,
) -> Sweep:
    """Synthetic training runs drawn from a law (`scaling simulate sweep`): loss = L(N, D)
    exp(eps) on an IsoFLOP design (C = 6ND) or an N x D grid; the same seed gives the same runs
    as the command line."""
    req = dict(budgets=str(budgets), per_budget=per_budget, span=span, grid_params=grid_params,
               grid_tokens=grid_tokens, noise_kind=noise_kind, noise=noise, seed=seed)
    return Sweep(*_scaling.simulate_sweep(json.dumps(req), _law(law), preset))
