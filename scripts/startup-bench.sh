#!/usr/bin/env bash
# Start-up time and memory of large documents: `examples/hyper` (the layer in front of an echo
# service, release build) is started on each document RUNS times (default 5); for each run,
# the time from exec to its `listening on` line, and the resident memory then (VmRSS) and at
# its peak so far (VmHWM), read from /proc. Prints the medians per document.
#
#   scripts/startup-bench.sh DOC...           # each a YAML or JSON OpenAPI document
#   RUNS=9 scripts/startup-bench.sh DOC...
#
# With no DOC, the DigitalOcean fixture and the Petstore are measured. A measurement, not a
# test: CI does not run it.
set -euo pipefail

cd "$(dirname "$0")/.."

RUNS=${RUNS:-5}
LIMIT_SECONDS=120
if (($# == 0)); then
    set -- tests/fixtures/digitalocean/specification/DigitalOcean-public.v2.yaml \
        tests/fixtures/oai/v3.0-petstore-expanded.yaml
fi

say() { printf '==> %s\n' "$*" >&2; }

say "building examples/hyper (release)"
cargo build --release --example hyper --quiet
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
hyper_bin=$target_dir/release/examples/hyper

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One start: prints "milliseconds rss_kib hwm_kib".
measure() {
    local doc=$1 out=$work/out pid start now kib hwm
    : >"$out"
    start=$(date +%s%N)
    "$hyper_bin" "$doc" --listen 127.0.0.1:0 >"$out" 2>"$work/err" &
    pid=$!
    while ! grep -q '^listening on' "$out"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            say "$doc: the example exited before listening:"
            cat "$work/err" >&2
            return 1
        fi
        if (($(date +%s%N) - start > LIMIT_SECONDS * 1000000000)); then
            kill "$pid"
            say "$doc: not listening within ${LIMIT_SECONDS}s"
            return 1
        fi
        sleep 0.002
    done
    now=$(date +%s%N)
    kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
    hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    printf '%d %d %d\n' $(((now - start) / 1000000)) "$kib" "$hwm"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '\n| document | size | start-up (ms) | RSS when listening (MiB) | peak RSS (MiB) |\n'
printf '| --- | --- | --- | --- | --- |\n'
for doc in "$@"; do
    : >"$work/runs"
    for ((run = 1; run <= RUNS; run++)); do
        measure "$doc" >>"$work/runs"
    done
    size=$(du -sh --apparent-size "$doc" | cut -f1)
    ms=$(awk '{ print $1 }' "$work/runs" | median)
    rss=$(awk '{ print $2 }' "$work/runs" | median)
    hwm=$(awk '{ print $3 }' "$work/runs" | median)
    printf '| %s | %s | %s | %.0f | %.0f |\n' "$(basename "$doc")" "$size" "$ms" \
        "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$(awk -v k="$hwm" 'BEGIN { print k / 1024 }')"
done
