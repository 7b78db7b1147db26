#!/usr/bin/env bash
# Issue 12's size criterion for the command-line crate, measured: "measured by its size it is
# at most half of today's for today's commands". "Today" is f5b45c6, where the issue was filed
# (crates/scaling-cli/src held 3,841 lines in six files: accounting, lab, main, methods, plan,
# show). The same six files are counted now, two ways:
#   lines: every line;
#   code:  lines that are neither blank nor comments (`//`, `///`, `//!`; clap's help text is
#          written as `///` doc comments, so it counts as documentation, not code).
# Commands added since then live in their own files and are not counted, but the lines they
# need in these six files (module declarations, enum variants, dispatch arms, the flags shared
# with them) are counted against today's commands.
#
# Usage: bench/cli_size.sh   (needs the git history back to f5b45c6)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
THEN=f5b45c6
FILES=(accounting.rs lab.rs main.rs methods.rs plan.rs show.rs)
git cat-file -e "$THEN" 2>/dev/null || { echo "error: commit $THEN is not in this clone's history (a shallow clone?)" >&2; exit 1; }
count() { # prints "lines code" of the six files at revision $1 (empty: the working tree)
    for f in "${FILES[@]}"; do
        if [[ -z "$1" ]]; then cat "crates/scaling-cli/src/$f"; else git show "$1:crates/scaling-cli/src/$f"; fi
    done | awk '{ n++; t=$0; gsub(/^[ \t]+|[ \t]+$/, "", t); if (t != "" && t !~ /^\/\//) c++ } END { print n, c }'
}
read -r then_lines then_code < <(count "$THEN")
read -r now_lines now_code < <(count "")
printf '%-8s %10s %10s %8s\n' "" "$THEN" "now" "ratio"
printf '%-8s %10d %10d %7.1f%%\n' lines "$then_lines" "$now_lines" "$(echo "100 * $now_lines / $then_lines" | bc -l)"
printf '%-8s %10d %10d %7.1f%%\n' code "$then_code" "$now_code" "$(echo "100 * $now_code / $then_code" | bc -l)"
# Lines of the six files that exist only for the commands added since f5b45c6: their module
# declarations, `Command` variants and dispatch arms.
NEW='forms|downstream|backtest|sensitivity|design|groups'
added=$(cat "${FILES[@]/#/crates/scaling-cli/src/}" | grep -ciE "^\s*(mod ($NEW);|($NEW)\(|command::($NEW)\()" || true)
echo "of the $now_code lines of code now, $added are the module declarations, Command variants and"
echo "dispatch arms of the six commands added since ($NEW): $((now_code - added)) for today's commands,"
printf '%.1f%% of %d\n' "$(echo "100 * ($now_code - $added) / $then_code" | bc -l)" "$then_code"
echo "(goal: at most 50% of $THEN's size; the whole crate now: $(cat crates/scaling-cli/src/*.rs | wc -l) lines in $(ls crates/scaling-cli/src/*.rs | wc -l) files)"
