#!/usr/bin/env python3
"""Calibration of `scaling groups`' test of shared exponents: its size and its power.

Draws synthetic pairs of groups from the Chinchilla law L = E_g + A_g/N^alpha_g + B/D^beta
(Hoffmann et al. 2022, Eq. 2) on a 6 x 6 grid of N (3e7..3e10) and D (1e9..1e11) per group,
with log-normal noise of standard deviation --noise in ln L (0.01 is about the residual
spread of Marin's IsoFLOP runs), fits them with `scaling groups --shared alpha,beta
--objective squared`, and counts how often the F test (and the LR test) rejects at 5%:

- size: both groups share alpha = 0.34 and beta = 0.28 (E and A differ), so every rejection
  is a false alarm; a calibrated test rejects about 5% of the time;
- power: group y's alpha is 0.34 + --diff (A_y scaled so the two N terms are equal at N = 1e8).

It also recomputes each F p-value from the reported SSEs with scipy.stats.f.sf as a check of
the tool's F tail. Needs numpy and scipy; run from the repository root:

    python3 bench/calibrate_shared_test.py --binary target/release/scaling --draws 300
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy import stats


def draw(rng, alpha_y, noise):
    n = 3e7 * 2.5 ** np.arange(6)
    d = 1e9 * 2.5 ** np.arange(6)
    rows = []
    for name, e, a, alpha in [("x", 1.7, 400.0, 0.34), ("y", 1.9, 400.0 * 1e8 ** (alpha_y - 0.34), alpha_y)]:
        for p in n:
            for t in d:
                loss = (e + a / p**alpha + 410.0 / t**0.28) * np.exp(noise * rng.standard_normal())
                rows.append((name, p, t, loss))
    return rows


def run(binary, rows):
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write("dataset,params,tokens,loss\n")
        for r in rows:
            f.write("%s,%r,%r,%r\n" % (r[0], float(r[1]), float(r[2]), float(r[3])))
        path = f.name
    try:
        out = subprocess.run(
            [binary, "groups", path, "--by", "dataset", "--shared", "alpha,beta",
             "--objective", "squared", "--budgets", "1e21", "--format", "json", "-q"],
            check=True, capture_output=True, text=True,
        ).stdout
    finally:
        os.unlink(path)
    return json.loads(out)["test"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="target/release/scaling")
    ap.add_argument("--draws", type=int, default=300)
    ap.add_argument("--noise", type=float, default=0.01)
    ap.add_argument("--diff", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    worst = 0.0
    for label, alpha_y in [("size (equal exponents)", 0.34), ("power (alpha differs by %g)" % a.diff, 0.34 + a.diff)]:
        f_rej = lr_rej = 0
        for _ in range(a.draws):
            t = run(a.binary, draw(rng, alpha_y, a.noise))
            q, dfd = t["f_df"]
            ref = stats.f.sf(((t["sse_joint"] - t["sse_separate"]) / q) / (t["sse_separate"] / dfd), q, dfd)
            worst = max(worst, abs(ref - t["f_p_value"]))
            f_rej += t["f_p_value"] < 0.05
            lr_rej += t["lr_p_value"] < 0.05
        k = a.draws
        se = lambda r: np.sqrt(r * (1 - r) / k)
        print("%-32s draws %d  F rejects %.3f (+- %.3f)  LR rejects %.3f (+- %.3f)"
              % (label, k, f_rej / k, se(f_rej / k), lr_rej / k, se(lr_rej / k)))
    print("largest |p_F(tool) - scipy.stats.f.sf| = %.1e" % worst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
