#!/usr/bin/env bash
# Calibration study of the bootstrap intervals (issue: uncertainty), whose result is quoted in
# the README: simulate datasets on Epoch AI's 240-run design from the fit of those runs, with
# log-loss noise resampled from that fit's residuals (and, second, Gaussian noise of the same
# robust scale), bootstrap each, and count how often nominal 95% intervals cover the true
# alpha, beta and a. Needs ../shared/data/epoch_chinchilla_svg.csv beside the checkout.
#
# Usage: bench/calibration.sh [DATASETS] [REPLICATES]    (default 400 400, about a minute)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA=../shared/data/epoch_chinchilla_svg.csv
[[ -f "$DATA" ]] || { echo "error: $DATA not found (the shared data folder must sit beside the checkout)" >&2; exit 1; }
DATASETS=${1:-400}
REPS=${2:-400}
cargo build --release -q -p scaling-cli
for noise in residuals gaussian; do
    echo "== noise: $noise"
    echo "   target/release/scaling calibrate $DATA --drop-top-loss 5 --datasets $DATASETS --bootstrap $REPS --seed 1 --noise $noise --cluster-col none"
    /usr/bin/time -f "   (%e s, peak RSS %M KB)" target/release/scaling calibrate "$DATA" --drop-top-loss 5 \
        --datasets "$DATASETS" --bootstrap "$REPS" --seed 1 --noise "$noise" --cluster-col none --quiet
done
