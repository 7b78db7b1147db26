"""From a notebook: load real runs with pandas, fit Chinchilla's law with bootstrap intervals,
plan a budget, and draw the fit.

Run from the repository root (the data live in ../shared/data beside the checkout):

    python examples/fit_plan_plot.py [OUTPUT_DIR]
"""

import pathlib
import sys

import pandas as pd

import scaling

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "epoch_chinchilla_svg.csv"
out_dir = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")

# 1. The runs Epoch AI extracted from Chinchilla's Figure 4 (Besiroglu et al. 2024).
runs = pd.read_csv(DATA)
print(f"{len(runs)} runs; columns: {', '.join(runs.columns)}")

# 2. Approach 3: L = E + A/N^alpha + B/D^beta, with 95% bootstrap intervals (seeded).
fit = scaling.fit(runs, drop_top_loss=5, bootstrap=1000, seed=42)
print(fit.to_frame().round(4))
print("status:", fit.status)

# 3. What should a 1e24-FLOP budget buy, with intervals from the same replicates?
plan = scaling.optimal(fit, flops=[1e24])
cols = ["flops", "params", "intervals.params", "tokens", "loss", "intervals.loss"]
with pd.option_context("display.width", 160, "display.max_columns", 10):
    print(plan.to_frame()[cols])

# 4. The runs and the fitted law on one plot (SVG; Jupyter shows `fit` with it inline).
path = out_dir / "epoch_fit.svg"
fit.save_plot(path, force=True)
print("plot:", path)
