#!/usr/bin/env python3
"""Acceptance check of `scaling design` (issue 17): on a synthetic IsoFLOP sweep drawn from a
known law, do the proposed runs shrink the 95% interval on N_opt at 1e24 FLOPs more than the
equal-cost alternatives (one more IsoFLOP budget; larger models at the usual tokens per
parameter) in at least 80% of simulated repetitions?

Usage: bench/design_check.py [--bin target/release/scaling] [--reps 100] [--bootstrap 100]
                             [--objective huber|squared]
                             [--allowance 4e21] [--k 4] [--noise 0.02]

It writes the sweep (`scaling simulate sweep --preset epoch`) to a temporary file, runs
`scaling design SWEEP --budget 1e24 --allowance A --k K --simulate R --format json` once, and
prints the fraction of repetitions in which the proposal's bootstrap width is the smaller,
per alternative, with the median widths. Exit status 1 when a fraction is below 0.8.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/scaling")
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--bootstrap", type=int, default=100)
    ap.add_argument("--allowance", default="4e21")
    ap.add_argument("--k", default="4")
    ap.add_argument("--noise", default="0.02")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--objective", default="huber", help="the fit's objective (huber, squared)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sweep = os.path.join(tmp, "sweep.csv")
        subprocess.run(
            [a.bin, "simulate", "sweep", "--preset", "epoch", "--budgets",
             "1e18,3e18,1e19,3e19,1e20", "--per-budget", "7", "--noise", a.noise,
             "--seed", a.seed, "--out", sweep],
            check=True, capture_output=True)
        t0 = time.time()
        out = subprocess.run(
            [a.bin, "design", sweep, "--budget", "1e24", "--allowance", a.allowance,
             "--k", a.k, "--simulate", str(a.reps), "--simulate-bootstrap", str(a.bootstrap),
             "--seed", a.seed, "--objective", a.objective, "--format", "json"],
            check=True, capture_output=True, text=True).stdout
        secs = time.time() - t0
    d = json.loads(out)
    s = d["simulation"]
    print(f"sweep: Epoch's law, 5 IsoFLOP budgets 1e18..1e20 x 7 models, noise sd {a.noise} in ln L")
    print(f"design: K = {a.k} runs within {a.allowance} FLOPs for N_opt at 1e24 FLOPs, {a.objective} fit; "
          f"{s['repetitions']} repetitions x {s['bootstrap']} bootstrap replicates ({secs:.0f} s)")
    print(f"expected (Fisher) width today {d['current_width']:.3f}, "
          f"proposal {d['proposal']['width']:.3f}, "
          + ", ".join(f"{p['name']} {p['width']:.3f}" for p in d["alternatives"]))
    for p in s["plans"]:
        print(f"simulated median width {p['name']:<14} {p['median_width']:.3f}  (failed {p['failed']})")
    ok = True
    for b in s["beats"]:
        print(f"proposal narrower than {b['alternative']:<14} in {b['wins']}/{b['compared']} "
              f"= {100 * b['fraction']:.0f}%")
        ok &= b["fraction"] >= 0.8
    print("PASS" if ok else "FAIL", "(target: >= 80% against each alternative)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
