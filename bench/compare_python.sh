#!/usr/bin/env bash
# Time `scaling` from Python against PyPI's `chinchilla`, `simple-scaling-laws` and the scipy
# recipe, in one run on the same data: Epoch AI's 240 Chinchilla runs (the 5 highest losses
# dropped, Besiroglu et al. 2024). One core (taskset -c 0, *_NUM_THREADS=1). Each tool's final
# parameters are scored under one objective (sum of Huber_1e-3 of log residuals, written once in
# bench/compare_python.py). Not part of CI; the venvs it makes live under target/ and are reused.
#
# Usage: bench/compare_python.sh [--repeats N] [--slow-repeats M] [DATA.csv]
#   --repeats N        calls of the fast tools (scaling, simple-scaling-laws); median reported (default 5)
#   --slow-repeats M   calls of the 4500/3125-start grids (scipy, chinchilla, scaling grid) (default 1)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPEATS=5 SLOW=1 DATA=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --repeats) REPEATS=${2:?}; shift ;;
        --slow-repeats) SLOW=${2:?}; shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        -*) echo "error: unknown option $1" >&2; exit 2 ;;
        *) DATA=$1 ;;
    esac
    shift
done
DATA=${DATA:-../shared/data/epoch_chinchilla_svg.csv}
[[ -f "$DATA" ]] || { echo "error: data file not found: $DATA (Epoch AI's epoch_chinchilla_svg.csv)" >&2; exit 1; }
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 RAYON_NUM_THREADS=1
PIN=(); command -v taskset >/dev/null && PIN=(taskset -c 0)

# Python 3.11+ venv: scaling (wheel built here), chinchilla, scipy recipe.
V=target/bench-venv
if [[ ! -x $V/bin/python ]]; then python3 -m venv $V; fi
$V/bin/pip install -q maturin pandas numpy scipy chinchilla==0.2.0 >&2
$V/bin/maturin build --release -m crates/scaling-py/Cargo.toml -o target/bench-wheels -q >&2
$V/bin/pip install -q --force-reinstall --no-deps target/bench-wheels/scaling-*.whl >&2

# simple-scaling-laws needs Python >= 3.12.
PY312=""
for c in python3.12 python3.13 /root/.pyenv/versions/3.12.*/bin/python3; do
    if command -v "$c" >/dev/null 2>&1; then PY312=$c; break; fi
done
V12=target/bench-venv312 SSL_OK=0 SSL_WHY="no Python >= 3.12 found"
if [[ -n $PY312 ]]; then
    [[ -x $V12/bin/python ]] || "$PY312" -m venv $V12
    if $V12/bin/pip install -q simple-scaling-laws==0.2.0 numpy >&2; then SSL_OK=1; else SSL_WHY="pip install failed"; fi
fi

OUT=target/bench-python.jsonl
: > $OUT
run() { echo ">> $1 (x$3)" >&2; "${PIN[@]}" "$2" bench/compare_python.py "$1" "$DATA" "$3" >> $OUT; }
run scaling $V/bin/python "$REPEATS"
run scaling-grid $V/bin/python "$SLOW"
run scipy $V/bin/python "$SLOW"
run chinchilla $V/bin/python "$SLOW"
if [[ $SSL_OK == 1 ]]; then run simple-scaling-laws $V12/bin/python "$REPEATS"
else echo "{\"tool\": \"simple-scaling-laws\", \"skipped\": \"$SSL_WHY\"}" >> $OUT; fi

$V/bin/python - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
base = next(r for r in rows if r["tool"] == "scaling")["median_seconds"]
print(f"| tool | median wall s (1 core) | x scaling | objective (sum Huber_1e-3, log) | E | A | B | alpha | beta |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    if "skipped" in r:
        print(f"| {r['tool']} | not run: {r['skipped']} | | | | | | | |"); continue
    p = r["params"]
    print(f"| {r['tool']} | {r['median_seconds']:.3f} | {r['median_seconds'] / base:.1f} | {r['objective']:.8f} | "
          f"{p['E']:.4f} | {p['A']:.1f} | {p['B']:.1f} | {p['alpha']:.4f} | {p['beta']:.4f} |")
print()
for r in rows:
    print(f"- {r['tool']}: {r.get('how', r.get('skipped'))}")
PY
