#!/usr/bin/env bash
# Fuzz the CSV, JSON, law-file and saved-fit readers for a bounded time (default 60 s).
# Not part of CI's test run. Needs `cargo install cargo-fuzz` and a nightly toolchain; without
# them it runs the same check as a plain test over fuzz/corpus/readers (and every prefix of
# each file) on stable.
#   bench/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
if command -v cargo-fuzz >/dev/null 2>&1 && rustup toolchain list 2>/dev/null | grep -q nightly; then
    # Work on a copy of the checked-in corpus so that a run does not add files to the repository.
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    cp fuzz/corpus/readers/* "$work"/
    cd fuzz
    cargo +nightly fuzz run readers "$work" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536
else
    echo "cargo-fuzz or nightly not found: running the fuzz check over the corpus on stable instead" >&2
    cargo test --manifest-path fuzz/Cargo.toml --release
fi
