"""Python/scipy reference of the bootstrap of Chinchilla's Approach 3 (Besiroglu et al. 2024,
arXiv:2404.10102): resample the 240 runs with replacement, refit each replicate with
scipy.optimize.minimize(method="BFGS") and the analytic gradient, warm-started from the full
fit, and take 95% percentile intervals. Only the replicate loop is timed (one process, one
thread). Reuses the data loading and objective of reference_fit.py.

Usage: python bench/reference_bootstrap.py [DATA.csv] [--replicates 4000] [--seed 42]
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_fit import DEFAULT_DATA, load_data, make_objective  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    ap.add_argument("--replicates", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--drop-top-loss", type=int, default=5)
    args = ap.parse_args()

    ln_n, ln_d, ln_l, _ = load_data(Path(args.data), args.drop_top_loss)
    _, fg = make_objective(ln_n, ln_d, ln_l)
    # Full fit from Epoch's published estimate (x = [a, b, e, alpha, beta]).
    x0 = np.array([np.log(482.01), np.log(2085.43), np.log(1.8169), 0.3478, 0.3659])
    full = minimize(fg, x0, jac=True, method="BFGS", options={"gtol": 1e-10})
    rng = np.random.default_rng(args.seed)
    m = len(ln_l)
    samples = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        for _ in range(args.replicates):
            idx = rng.integers(0, m, m)
            _, g = make_objective(ln_n[idx], ln_d[idx], ln_l[idx])
            res = minimize(g, full.x, jac=True, method="BFGS")
            samples.append(res.x)
        wall = time.perf_counter() - t0
    s = np.array(samples)
    nat = {"E": np.exp(s[:, 2]), "alpha": s[:, 3], "beta": s[:, 4]}
    out = {
        "method": "scipy BFGS bootstrap, analytic gradient, warm start",
        "replicates": args.replicates,
        "seed": args.seed,
        "full_fit": {"objective": float(full.fun), "alpha": float(full.x[3]), "beta": float(full.x[4])},
        "intervals_95": {k: [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))] for k, v in nat.items()},
        "wall_seconds": wall,
        "timed_region": "replicate loop only, single process, 1 thread",
    }
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
