#!/usr/bin/env bash
# Instructions per request, counted exactly: `benches/allocations.rs` run under callgrind,
# one count per measured row (1,000 requests each: the layer's call, its future, the inner
# service, the drops), so the figure is the whole request's, and it does not depend on the
# machine's load. Each row is reported beside the bare service's count for the same request;
# "added" is what the layer costs.
#
#   scripts/instructions.sh
#   BASELINE=/tmp/allocations-before scripts/instructions.sh   # also an older build
#
# BASELINE names another build of the allocations bench (copy the executable that
# `cargo bench --bench allocations --no-run` names before a change): its counts are shown
# beside this build's. Counts move by a percent or two between two builds of the same code
# (what the compiler inlines); compare changes larger than that. A measurement, not a test: CI
# does not run it.
set -euo pipefail

cd "$(dirname "$0")/.."

# shellcheck source=scripts/common.sh
source scripts/common.sh

command -v valgrind >/dev/null || install_debian valgrind

say "building the allocations bench"
bench=$(cargo bench --bench allocations --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*allocations[^"]*\)".*/\1/p' | tail -1)
[[ -x "$bench" ]] || { say "the allocations bench was not built"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs one build under callgrind: one dump per `allocation_counter::measure` call, in the
# order benches/allocations.rs measures (the three bare rows, then the layer's rows); the
# row names are read from the table it prints.
count() {
    local bin=$1 out=$2
    mkdir -p "$out"
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" --collect-atstart=no \
        --toggle-collect='allocation_counter::measure' \
        --dump-after='allocation_counter::measure' "$bin" --bench >"$out/table" 2>"$out/log"
    local i
    for i in $(seq 1 10); do
        sed -n 's/^summary: //p' "$out/cg.out.$i"
    done >"$out/counts"
    sed -n 's/^| \([^|]*\) | [0-9].*/\1/p' "$out/table" | sed 's/ *$//' >"$out/names"
}

say "counting (about a minute per build)"
count "$bench" "$work/now"
if [[ -n "${BASELINE:-}" ]]; then
    count "$BASELINE" "$work/base"
fi

# The bare row each layer row is set against: GET, GET, GET, POST, POST, GET, the mix.
awk -v base="${BASELINE:+$work/base/counts}" '
    BEGIN { split("1 1 1 2 2 1 3", bare, " ") }
    FNR == 1 { file++ }
    file == 1 { name[FNR] = $0; next }
    file == 2 { now[FNR] = $1 / 1000; next }
    file == 3 { before[FNR] = $1 / 1000; next }
    END {
        if (base != "") {
            print "| request | bare | through the layer | added | baseline: through the layer | added | change |"
            print "| --- | --- | --- | --- | --- | --- | --- |"
        } else {
            print "| request | bare | through the layer | added |"
            print "| --- | --- | --- | --- |"
        }
        for (i = 1; i <= 7; i++) {
            b = now[bare[i]]; n = now[i + 3]
            line = sprintf("| %s | %.0f | %.0f | %.0f |", name[i], b, n, n - b)
            if (base != "") {
                o = before[i + 3]; ob = before[bare[i]]
                line = line sprintf(" %.0f | %.0f | %+.1f %% |", o, o - ob, 100 * (n - o) / o)
            }
            print line
        }
    }' "$work/now/names" "$work/now/counts" ${BASELINE:+"$work/base/counts"}
