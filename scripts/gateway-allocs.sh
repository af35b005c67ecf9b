#!/usr/bin/env bash
# Counts the heap allocations `oasgate serve` makes per proxied request: uprobes on the
# binary's jemalloc entry points (`perf probe`), counted with `perf stat` while wrk sends
# `benches/fixtures/bench.yaml`'s valid GET through the proxy to the bare upstream.
#
#   scripts/gateway-allocs.sh                  # builds oasgate and the upstream (release)
#   OASGATE=/path/to/oasgate scripts/gateway-allocs.sh   # another build, e.g. an older one
#
# Needs root (uprobes), perf and wrk. A probe makes each allocation slow, so the figure is a
# count, not a timing; it is stable from run to run to within a few hundredths.
# A measurement, not a test: CI does not run it.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --features cli --bin oasgate --example upstream >&2
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
oasgate_bin=${OASGATE:-$target_dir/release/oasgate}
upstream_bin=$target_dir/release/examples/upstream
request_path='/items?limit=25&sort=price&q=walnut%20desk'

work=$(mktemp -d)
pids=()
probes=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for probe in "${probes[@]}"; do perf probe -q -d "probe_oasgate:$probe" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# Rust's allocator calls into jemalloc through these (the `_rjem_` prefix of tikv-jemallocator).
events=()
for symbol in malloc mallocx calloc realloc rallocx; do
    probe="gateway_allocs_$symbol"
    perf probe -q -x "$oasgate_bin" -a "$probe=_rjem_$symbol"
    probes+=("$probe")
    events+=("probe_oasgate:$probe")
done

wait_listening() {
    local out=$1 addr
    for _ in $(seq 300); do
        addr=$(sed -n 's|^listening on http://||p' "$out" | head -n1)
        if [[ -n $addr ]]; then printf '%s\n' "$addr"; return 0; fi
        sleep 0.1
    done
    echo "no address in $out" >&2
    return 1
}
"$upstream_bin" --listen 127.0.0.1:0 >"$work/upstream.out" 2>&1 &
pids+=($!)
upstream=$(wait_listening "$work/upstream.out")
"$oasgate_bin" serve --spec benches/fixtures/bench.yaml --upstream "http://$upstream" \
    --listen 127.0.0.1:0 >"$work/oasgate.out" 2>"$work/oasgate.err" &
pids+=($!)
oasgate_pid=${pids[-1]}
proxy=$(wait_listening "$work/oasgate.out")

# Warm up (connections pooled, caches filled), then count over a bounded run.
timeout 30 wrk -t1 -c4 -d1s "http://$proxy$request_path" >/dev/null
perf stat -x, -e "$(IFS=,; echo "${events[*]}")" -p "$oasgate_pid" -o "$work/stat.csv" &
stat_pid=$!
sleep 0.3
timeout 60 wrk -t1 -c4 -d3s "http://$proxy$request_path" >"$work/wrk.txt"
sleep 0.3
kill -INT "$stat_pid"
wait "$stat_pid" || true
if grep -q 'Non-2xx or 3xx responses\|Socket errors' "$work/wrk.txt"; then
    cat "$work/wrk.txt" >&2
    echo "the proxied requests did not all succeed" >&2
    exit 1
fi
requests=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
awk -F, -v n="$requests" '
    /probe_oasgate/ { count[$3] = $1; total += $1 }
    END {
        for (e in count) printf "%-40s %8.2f per request\n", e, count[e] / n
        printf "%-40s %8.2f per request (%d requests)\n", "all allocations", total / n, n
    }' "$work/stat.csv"
