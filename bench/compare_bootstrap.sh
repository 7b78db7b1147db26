#!/usr/bin/env bash
# Bootstrap speed: 4000 refits of Epoch AI's 240 runs with `scaling` (2 cores, and 1 core)
# against the Python/scipy BFGS bootstrap of the same data (bench/reference_bootstrap.py),
# run one after the other in this script. Uses the venv of bench/compare_scipy.sh.
#
# Usage: bench/compare_bootstrap.sh [REPLICATES]     (default 4000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA=../shared/data/epoch_chinchilla_svg.csv
[[ -f "$DATA" ]] || { echo "error: $DATA not found (the shared data folder must sit beside the checkout)" >&2; exit 1; }
R=${1:-4000}
if [[ ! -x bench/.venv/bin/python ]]; then
    python3 -m venv bench/.venv
    bench/.venv/bin/pip install -q -r bench/requirements.txt
fi
cargo build --release -q -p scaling-cli
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
echo ">> bench/.venv/bin/python bench/reference_bootstrap.py $DATA --replicates $R --seed 42"
py=$(bench/.venv/bin/python bench/reference_bootstrap.py "$DATA" --replicates "$R" --seed 42)
py_s=$(echo "$py" | bench/.venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["wall_seconds"])')
echo "$py" | bench/.venv/bin/python -c 'import json,sys; d=json.load(sys.stdin); print("   python intervals:", d["intervals_95"])'
timeit() { # median of 3 whole-process wall times
    local ts=()
    for _ in 1 2 3; do
        local t0 t1
        t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N)
        ts+=("$(echo "$t1 - $t0" | bc -l)")
    done
    printf '%s\n' "${ts[@]}" | sort -g | sed -n 2p
}
cmd=(target/release/scaling fit "$DATA" --drop-top-loss 5 --bootstrap "$R" --seed 42 --cluster-col none --quiet --format json)
echo ">> ${cmd[*]}   (2 cores, then RAYON_NUM_THREADS=1; median of 3, whole process)"
rs2=$(timeit "${cmd[@]}")
rs1=$(RAYON_NUM_THREADS=1 timeit "${cmd[@]}")
"${cmd[@]}" | bench/.venv/bin/python -c 'import json,sys; d=json.load(sys.stdin)["intervals"]; print("   rust intervals:  ", {k: d[k] for k in ("E","alpha","beta")})'
printf '\n%-44s %10s %10s\n' "method" "seconds" "ratio"
printf '%-44s %10.3f %10s\n' "scipy BFGS bootstrap (1 thread, loop only)" "$py_s" "1x"
printf '%-44s %10.3f %9.1fx\n' "scaling, 1 core (whole process)" "$rs1" "$(echo "$py_s / $rs1" | bc -l)"
printf '%-44s %10.3f %9.1fx\n' "scaling, 2 cores (whole process)" "$rs2" "$(echo "$py_s / $rs2" | bc -l)"
