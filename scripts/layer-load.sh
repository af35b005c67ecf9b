#!/usr/bin/env bash
# What the layer costs under saturation: `examples/upstream` (a bare hyper service answering
# 200 with a fixed body) alone, and the same binary with `--spec` (oasgate's layer in front of
# that same service, in the same process), loaded with wrk cycling through the valid requests
# of the kitchen-sink document (`benches/fixtures/kitchen-mix.txt`, sent by
# `scripts/kitchen-mix.lua`: every operation, parameter style and body kind it has). Runs alternate bare / validating, ROUNDS times (default 3) at each
# connection count; reports each run's requests per second and the server's CPU time per
# request (from /proc), then the medians and their ratios.
#
#   scripts/layer-load.sh
#   ROUNDS=5 DURATION=5s CONNECTIONS="8 16" scripts/layer-load.sh
#   BASELINE=/tmp/upstream-before scripts/layer-load.sh   # also an older build's layer
#
# BASELINE names another build of `examples/upstream` (copy `target/release/examples/upstream`
# before a change): its layer joins the alternation, and the table compares the two builds
# measured in the same run.
#
# Exits non-zero when any run saw an answer other than 2xx or socket errors. The targets (≥ 0.90
# of the bare throughput, ≤ 1 µs of CPU added per request) are reported, not enforced: the
# figures depend on what else the machine runs. A measurement, not a test: CI does not run it.
set -euo pipefail

cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-"8 16"}
SPEC=tests/fixtures/local/kitchen.yaml
MIX=scripts/kitchen-mix.lua
MIX_FILE=benches/fixtures/kitchen-mix.txt
STARTUP_SECONDS=60

# shellcheck source=scripts/common.sh
source scripts/common.sh

command -v wrk >/dev/null || install_debian wrk

say "building the bare upstream (release)"
cargo build --release --example upstream
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
upstream_bin=$target_dir/release/examples/upstream

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# Starts the upstream with extra arguments under NAME; sets $addr and $pid.
start() {
    local name=$1 deadline=$((SECONDS + STARTUP_SECONDS))
    shift
    # Made before the process starts, so the loop below never reads a file not there yet.
    : >"$work/$name.out"
    "$upstream_bin" --listen 127.0.0.1:0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
    pid=$!
    pids+=("$pid")
    addr=
    while ((SECONDS < deadline)); do
        addr=$(sed -n 's|^listening on http://||p' "$work/$name.out" | head -n1)
        [[ -n $addr ]] && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            say "$name exited before listening:"
            cat "$work/$name.err" >&2
            exit 1
        fi
        sleep 0.1
    done
    say "$name did not print its address within ${STARTUP_SECONDS}s"
    exit 1
}
start bare
bare_addr=$addr bare_pid=$pid
start layer --spec "$SPEC"
layer_addr=$addr layer_pid=$pid
say "bare on $bare_addr (pid $bare_pid), behind the layer on $layer_addr (pid $layer_pid)"
baseline_addr=
if [[ -n ${BASELINE:-} ]]; then
    upstream_bin=$BASELINE start baseline --spec "$SPEC"
    baseline_addr=$addr baseline_pid=$pid
    say "behind $BASELINE's layer on $baseline_addr (pid $baseline_pid)"
fi

# The layer is really in front: an invalid request is refused there and passes the bare one.
for check in "$bare_addr 200" "$layer_addr 400" ${baseline_addr:+"$baseline_addr 400"}; do
    set -- $check
    got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$1/v1/pets/abc")
    if [[ $got != "$2" ]]; then
        say "GET http://$1/v1/pets/abc answered $got, expected $2"
        exit 1
    fi
done

# User plus system CPU time of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ticks_per_second=$(getconf CLK_TCK)
wrk_bound=$((${DURATION%s} + 30))
failed=0
results=$work/results.tsv

# Runs wrk against one server; appends "connections side rps cpu_us_per_request" to results.
run() {
    local side=$1 server_addr=$2 server_pid=$3 connections=$4 before after rps requests
    before=$(cpu_ticks "$server_pid")
    timeout "$wrk_bound" wrk -t1 -c"$connections" -d"$DURATION" -s "$MIX" \
        "http://$server_addr" -- "$MIX_FILE" >"$work/run.txt"
    after=$(cpu_ticks "$server_pid")
    if grep -qE 'Non-2xx or 3xx responses|Socket errors' "$work/run.txt"; then
        cat "$work/run.txt" >&2
        say "$side at $connections connections: answers other than 2xx, or socket errors"
        failed=1
    fi
    rps=$(awk '$1 == "Requests/sec:" { printf "%.0f", $2 }' "$work/run.txt")
    requests=$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$work/run.txt")
    local cpu_us
    cpu_us=$(awk -v t=$((after - before)) -v hz="$ticks_per_second" -v n="$requests" \
        'BEGIN { printf "%.2f", t / hz * 1e6 / n }')
    say "$side, $connections connections: $rps requests/s, $cpu_us µs of server CPU per request"
    printf '%s\t%s\t%s\t%s\n' "$connections" "$side" "$rps" "$cpu_us" >>"$results"
}

# Warm-up, not reported.
timeout 30 wrk -t1 -c8 -d2s -s "$MIX" "http://$bare_addr" -- "$MIX_FILE" >/dev/null
timeout 30 wrk -t1 -c8 -d2s -s "$MIX" "http://$layer_addr" -- "$MIX_FILE" >/dev/null
if [[ -n $baseline_addr ]]; then
    timeout 30 wrk -t1 -c8 -d2s -s "$MIX" "http://$baseline_addr" -- "$MIX_FILE" >/dev/null
fi

load_before=$(uptime)
for connections in $CONNECTIONS; do
    for ((round = 1; round <= ROUNDS; round++)); do
        run bare "$bare_addr" "$bare_pid" "$connections"
        run layer "$layer_addr" "$layer_pid" "$connections"
        if [[ -n $baseline_addr ]]; then
            run baseline "$baseline_addr" "$baseline_pid" "$connections"
        fi
    done
done
load_after=$(uptime)

# Medians per connection count and side, then the ratios.
echo
echo "Mix: $(grep -cE '^[A-Z]+ /' "$MIX_FILE") valid requests of $SPEC ($MIX_FILE), wrk -t1, $DURATION per run, $ROUNDS rounds alternating."
echo "Load before: ${load_before##*load average: }; after: ${load_after##*load average: }"
echo
echo "| connections | bare req/s | validating req/s | ratio | bare CPU µs/req | validating CPU µs/req | added µs/req |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for connections in $CONNECTIONS; do
    median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
    pick() { awk -F'\t' -v c="$connections" -v s="$1" -v f="$2" '$1 == c && $2 == s { print $f }' "$results" | median; }
    bare_rps=$(pick bare 3) layer_rps=$(pick layer 3)
    bare_cpu=$(pick bare 4) layer_cpu=$(pick layer 4)
    awk -v c="$connections" -v br="$bare_rps" -v lr="$layer_rps" -v bc="$bare_cpu" -v lc="$layer_cpu" \
        'BEGIN { printf "| %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f |\n", c, br, lr, lr / br, bc, lc, lc - bc }'
done
if [[ -n $baseline_addr ]]; then
    echo
    echo "Against $BASELINE's layer, same run:"
    echo
    echo "| connections | baseline req/s | this build req/s | ratio | baseline CPU µs/req | this build CPU µs/req |"
    echo "| --- | --- | --- | --- | --- | --- |"
    for connections in $CONNECTIONS; do
        old_rps=$(pick baseline 3) new_rps=$(pick layer 3)
        old_cpu=$(pick baseline 4) new_cpu=$(pick layer 4)
        awk -v c="$connections" -v orps="$old_rps" -v nrps="$new_rps" -v oc="$old_cpu" -v nc="$new_cpu" \
            'BEGIN { printf "| %s | %.0f | %.0f | %.2f | %.2f | %.2f |\n", c, orps, nrps, nrps / orps, oc, nc }'
    done
fi
echo
echo "Targets: ratio ≥ 0.90, added ≤ 1 µs per request."
exit "$failed"
