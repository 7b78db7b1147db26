#!/usr/bin/env bash
# Compare the `scaling` Rust CLI against the Python/scipy reference
# implementation of Chinchilla Approach 3 (bench/reference_fit.py) on
# Epoch AI's replication data, single-threaded, and print a table.
#
# Usage: bench/compare_scipy.sh [--python-only] [--numeric] [--repeats N] [DATA.csv]
#
#   DATA.csv        Epoch's epoch_chinchilla_svg.csv
#                   (default: ../shared/data/epoch_chinchilla_svg.csv relative to
#                   the repo root; the file is never copied into the repo)
#   --python-only   skip building/running the Rust binary
#   --numeric       also run the reference with finite-difference gradients
#                   (scipy's default, as in the common notebook recipe);
#                   same as env SCALING_BENCH_NUMERIC=1. Takes about a minute.
#   --repeats N     repetitions of each Rust run; the median is reported (default 5)
#
# Can be run from any directory. Raw JSON outputs are left in bench/.results/.
set -euo pipefail

usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

PYTHON_ONLY=0
NUMERIC=${SCALING_BENCH_NUMERIC:-0}
REPEATS=5
DATA=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --python-only) PYTHON_ONLY=1 ;;
        --numeric) NUMERIC=1 ;;
        --repeats) REPEATS=${2:?--repeats needs a value}; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "error: unknown option $1" >&2; usage >&2; exit 2 ;;
        *) DATA=$1 ;;
    esac
    shift
done
[[ "$REPEATS" =~ ^[1-9][0-9]*$ ]] || { echo "error: --repeats must be a positive integer" >&2; exit 2; }
[[ "$NUMERIC" == 1 ]] || NUMERIC=0

DATA=${DATA:-$ROOT/../shared/data/epoch_chinchilla_svg.csv}
if [[ ! -f "$DATA" ]]; then
    echo "error: data file not found: $DATA" >&2
    echo "Pass the path to Epoch AI's epoch_chinchilla_svg.csv as an argument." >&2
    exit 1
fi
DATA=$(cd "$(dirname "$DATA")" && pwd)/$(basename "$DATA")

# Single thread everywhere: BLAS/OpenMP for numpy/scipy, rayon for Rust.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 RAYON_NUM_THREADS=1

# ---------------------------------------------------------------- venv ----
VENV=bench/.venv
PY=$VENV/bin/python
STAMP=$VENV/.installed-requirements.txt
if [[ ! -x "$PY" ]]; then
    echo ">> creating virtualenv $VENV" >&2
    python3 -m venv "$VENV"
fi
if ! cmp -s bench/requirements.txt "$STAMP"; then
    echo ">> installing bench/requirements.txt into $VENV" >&2
    "$PY" -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
    cp bench/requirements.txt "$STAMP"
fi

RESULTS=bench/.results
mkdir -p "$RESULTS"
rm -f "$RESULTS"/*.json

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }

# --------------------------------------------------------- Rust build ----
BIN=target/release/scaling
if [[ $PYTHON_ONLY == 0 ]]; then
    echo ">> cargo build --release -p scaling-cli" >&2
    if ! cargo build --release -p scaling-cli >&2; then
        echo "error: cargo build failed (run with --python-only to benchmark the reference alone)" >&2
        exit 1
    fi
    [[ -x "$BIN" ]] || { echo "error: $BIN not found after build" >&2; exit 1; }
fi

# ------------------------------------------------------ Python runs ----
# reference_fit.py times its own fitting loop (JSON timing.wall_seconds);
# we additionally record the whole-process wall time.
PY_CMDS=("$PY bench/reference_fit.py $DATA --jac analytic")
PY_TAGS=(py_analytic)
if [[ $NUMERIC == 1 ]]; then
    PY_CMDS+=("$PY bench/reference_fit.py $DATA --jac numeric")
    PY_TAGS+=(py_numeric)
fi
for i in "${!PY_TAGS[@]}"; do
    tag=${PY_TAGS[$i]}
    echo ">> ${PY_CMDS[$i]}" >&2
    t0=$(now)
    # shellcheck disable=SC2086  # word splitting of the command is intended
    ${PY_CMDS[$i]} > "$RESULTS/$tag.json"
    t1=$(now)
    elapsed "$t0" "$t1" > "$RESULTS/$tag.process_seconds"
done

# -------------------------------------------------------- Rust runs ----
RUST_TAGS=()
RUST_CMDS=()
if [[ $PYTHON_ONLY == 0 ]]; then
    RUST_TAGS=(rust_grid rust_default)
    RUST_CMDS=("$BIN fit $DATA --drop-top-loss 5 --starts chinchilla --format json"
               "$BIN fit $DATA --drop-top-loss 5 --format json")
    for i in "${!RUST_TAGS[@]}"; do
        tag=${RUST_TAGS[$i]}
        echo ">> RAYON_NUM_THREADS=1 ${RUST_CMDS[$i]}   (x$REPEATS)" >&2
        : > "$RESULTS/$tag.times"
        for ((k = 1; k <= REPEATS; k++)); do
            t0=$(now)
            # shellcheck disable=SC2086
            ${RUST_CMDS[$i]} > "$RESULTS/$tag.json"
            t1=$(now)
            elapsed "$t0" "$t1" >> "$RESULTS/$tag.times"
            echo >> "$RESULTS/$tag.times"
        done
    done
fi

# ------------------------------------------------------------ report ----
echo
echo "== Commands (run from $ROOT; OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=RAYON_NUM_THREADS=1)"
for c in "${PY_CMDS[@]}"; do echo "   $c"; done
for c in "${RUST_CMDS[@]+"${RUST_CMDS[@]}"}"; do echo "   RAYON_NUM_THREADS=1 $c    (x$REPEATS, median wall)"; done

echo
echo "== Machine"
echo "   nproc:   $(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc) online, $(nproc --all) installed"
echo "   cpu:     $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)"
echo "   kernel:  $(uname -srm)"
echo "   python:  $("$PY" -c 'import platform, numpy, scipy; print(platform.python_version(), "numpy", numpy.__version__, "scipy", scipy.__version__)')"
echo "   rustc:   $(rustc --version 2>/dev/null || echo 'not found')"
echo "   git:     $(git rev-parse --short HEAD 2>/dev/null || echo 'no commit')$(git diff --quiet HEAD 2>/dev/null || echo ' (dirty)')"

echo
"$PY" - "$RESULTS" "$REPEATS" "${PY_TAGS[@]}" ${RUST_TAGS[@]+"${RUST_TAGS[@]}"} <<'PYEOF'
import json
import statistics
import sys
from pathlib import Path

results, repeats, tags = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
rows = {}
for tag in tags:
    out = json.loads((results / f"{tag}.json").read_text())
    try:
        obj, p = float(out["objective"]), out["params"]
        vals = [float(p[k]) for k in ("alpha", "beta", "E", "A", "B")]
    except (KeyError, TypeError, ValueError) as exc:
        sys.exit(f"error: {tag}.json lacks objective/params.{{E,A,B,alpha,beta}}: {exc!r}")
    if tag.startswith("py_"):
        secs = float(out["timing"]["wall_seconds"])  # fitting loop only
        proc = float((results / f"{tag}.process_seconds").read_text())
        jac = tag.split("_", 1)[1]
        label = f"scipy L-BFGS-B 4500-grid jac={jac}"
        note = f"loop only; process {proc:.3f}s; {out['n_starts_at_best_rel_1e-9']}/{out['n_starts']} starts at best"
    else:
        times = [float(t) for t in (results / f"{tag}.times").read_text().split()]
        secs = statistics.median(times)
        label = "rust --starts chinchilla" if tag == "rust_grid" else "rust default strategy"
        note = f"whole process, median of {repeats} (min {min(times):.4f}s, max {max(times):.4f}s)"
    rows[tag] = (label, secs, obj, *vals, note)

hdr = f"{'method':<36} {'wall s':>9} {'objective':>22} {'alpha':>10} {'beta':>10} {'E':>9} {'A':>10} {'B':>10}  notes"
print("== Results (240 runs, Huber delta 1e-3)")
print(hdr)
print("-" * len(hdr))
for label, secs, obj, alpha, beta, E, A, B, note in rows.values():
    print(f"{label:<36} {secs:>9.4f} {obj:>22.17g} {alpha:>10.6f} {beta:>10.6f} {E:>9.5f} {A:>10.3f} {B:>10.3f}  {note}")
print(f"{'Epoch AI (published)':<36} {'':>9} {'0.00101827':>22} {0.3473:>10.4f} {0.3672:>10.4f} {1.8172:>9.4f} {477.8:>10.1f} {2143.9:>10.1f}")

if "py_analytic" in rows and any(t.startswith("rust_") for t in rows):
    py = rows["py_analytic"][1]
    print()
    print("== Speed ratios (python fitting-loop time / rust whole-process median; favours python)")
    for tag, what in (("rust_grid", "4500-grid vs rust 4500-grid"),
                      ("rust_default", "4500-grid vs rust default strategy")):
        if tag in rows:
            print(f"   python analytic {what:<36} {py / rows[tag][1]:8.1f}x")
            if "py_numeric" in rows:
                print(f"   python numeric  {what:<36} {rows['py_numeric'][1] / rows[tag][1]:8.1f}x")
PYEOF
echo
echo "Raw JSON: $RESULTS/"
