"""The example under examples/ runs from start to end on the real data."""

import subprocess
import sys

from conftest import ROOT, data_file


def test_example_fit_plan_plot_runs(tmp_path):
    data_file("epoch_chinchilla_svg.csv")
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "fit_plan_plot.py"), str(tmp_path)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    assert "status: converged" in out.stdout
    assert "alpha" in out.stdout
    svg = (tmp_path / "epoch_fit.svg").read_text()
    assert svg.lstrip().startswith("<svg") or "<svg" in svg[:200]
