"""Reference computation for `scaling downstream --recipe ladder` (Bhagia et al. 2024,
arXiv:2412.04403, the OLMo ladder).

Written from the method of the authors' published code (allenai/OLMo-ladder,
src/scaling/utils.py, src/scaling/fitting_functions.py, src/scripts/step1.py, step2.py,
predict.py), with numpy/scipy only:

- Step 1: per ladder run, the mean of the last 5 checkpoints' task loss (bits per byte) and the
  last checkpoint's D; L(N, D) = exp(a)/N^alpha + exp(b)/D^beta + E fitted by L-BFGS-B from
  p0 = (3, 6, 0.1, 0.2, 1), bounds >= 0 on all five, Huber(delta = 1e-3) on log residuals,
  summed, ftol = 0, gtol = 1e-10.
- Step 2: every checkpoint of each ladder run after dropping the first ceil(0.1 n), a trailing
  moving average of 5 (partial means over the first 4), plus the point (0, 1); accuracy =
  a / (1 + exp(-k (L - x0))) + b by scipy curve_fit (trf) from p0 = (chance - 1, 0.9, 3, 1),
  bounds a in [-1, 0], x0 >= 0, k >= 0, b in [0, 1].
- Chained: step 2 at step 1's prediction for the target's (N, D).

Usage: python scripts/ladder_reference.py ../shared/data/bhagia2024_ladder_evals.csv > out.json
"""

import json
import sys

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit, minimize

TASKS = {
    "mmlu_avg_test": 0.25,
    "hellaswag_val": 0.25,
    "arc_challenge_test": 0.25,
    "arc_easy_test": 0.25,
    "piqa_val": 0.5,
    "csqa_val": 0.2,
    "socialiqa_val": 1.0 / 3.0,
    "openbookqa_test": 0.25,
}
TARGETS = ["7B-4T", "13B-5T"]


def trailing_mean(v, n):
    c = np.cumsum(np.asarray(v, dtype=float))
    if len(c) < n:
        return c / np.arange(1, len(c) + 1)
    out = c.copy()
    out[n:] = c[n:] - c[:-n]
    return np.concatenate([out[: n - 1] / np.arange(1, n), out[n - 1 :] / n])


def step1_fit(ns, ds, ys):
    ns, ds, ys = map(np.asarray, (ns, ds, ys))
    delta = 1e-3

    def f(p):
        return np.exp(p[0] - np.log(ns) * p[2]) + np.exp(p[1] - np.log(ds) * p[3]) + p[4]

    def obj(p):
        pred = f(p)
        u = np.log(pred) - np.log(ys)
        hub = np.where(np.abs(u) < delta, 0.5 * u**2, delta * (np.abs(u) - 0.5 * delta))
        ta = np.exp(p[0] - np.log(ns) * p[2])
        tb = np.exp(p[1] - np.log(ds) * p[3])
        g = np.where(np.abs(u) < delta, u, delta * np.sign(u)) / pred
        grad = np.array(
            [np.sum(g * ta), np.sum(g * tb), np.sum(g * ta * -np.log(ns)), np.sum(g * tb * -np.log(ds)), np.sum(g)]
        )
        return np.sum(hub), grad

    res = minimize(
        obj,
        [3.0, 6.0, 0.1, 0.2, 1.0],
        jac=True,
        bounds=[(0, None)] * 5,
        method="L-BFGS-B",
        tol=0.0,
        options={"ftol": 0.0, "gtol": 1e-10, "maxiter": 1000000},
    )
    return res.x


def step1_predict(p, n, d):
    return np.exp(p[0] - np.log(n) * p[2]) + np.exp(p[1] - np.log(d) * p[3]) + p[4]


def sigmoid(x, a, x0, k, b):
    return a / (1 + np.exp(-k * (x - x0))) + b


def main(path):
    df = pd.read_csv(path)
    ladder = df[df.role == "ladder"]
    out = {}
    for task, chance in TASKS.items():
        fcol, acol = f"{task}_bpb", f"{task}_rc_acc"
        ns, ds, ys, xs2, ys2 = [], [], [], [], []
        for run, g in ladder.groupby("run", sort=False):
            g = g.sort_values("ckpt_index")
            tail = g.tail(5)
            ns.append(float(g.N.iloc[0]))
            ds.append(float(tail.D.iloc[-1]))
            ys.append(float(np.mean(tail[fcol].astype(float))))
            x = g[fcol].astype(float).to_numpy()
            y = g[acol].astype(float).to_numpy()
            skip = int(np.ceil(0.1 * len(x)))
            xs2 += trailing_mean(x[skip:], 5).tolist()
            ys2 += trailing_mean(y[skip:], 5).tolist()
        p1 = step1_fit(ns, ds, ys)
        xs2.append(0.0)
        ys2.append(1.0)
        p2, _ = curve_fit(
            sigmoid, xs2, ys2, p0=[chance - 1.0, 0.9, 3.0, 1.0],
            bounds=([-1.0, 0.0, 0.0, 0.0], [0.0, np.inf, np.inf, 1.0]), maxfev=500000,
        )
        res = {"step1": dict(zip(["a", "b", "alpha", "beta", "E"], p1.tolist())),
               "step2": dict(zip(["a", "x0", "k", "b"], p2.tolist())), "targets": {}}
        for t in TARGETS:
            r = df[df.run == t].sort_values("ckpt_index")
            n, d = float(r.N.iloc[-1]), float(r.D.iloc[-1])
            feat = float(step1_predict(p1, n, d))
            acc = float(sigmoid(feat, *p2))
            res["targets"][t] = {
                "N": n, "D": d, "feature": feat, "accuracy": acc,
                # The authors smooth a target's rows by the same trailing mean of 5 and
                # compare with the last: the mean of its last 5 rows (1 row for 7B-4T).
                "actual": float(r[acol].astype(float).tail(5).mean()),
                "actual_feature": float(r[fcol].astype(float).tail(5).mean()),
            }
        out[task] = res
    for t in TARGETS:
        errs = [abs(out[k]["targets"][t]["accuracy"] - out[k]["targets"][t]["actual"]) for k in TASKS]
        out[f"mean_abs_error_points_{t}"] = 100 * float(np.mean(errs))
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
