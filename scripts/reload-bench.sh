#!/usr/bin/env bash
# Reload cost of a large document: starts `oasgate serve` (release) on DOC, then sends SIGHUP
# RELOADS times (default 4), one after the other; prints the start-up time (exec to its
# `listening on` line), each reload's own figure (the `reloaded elapsed=` log line) and the
# resident memory (VmRSS, VmHWM from /proc) after start-up and after each reload, then once
# more SETTLE seconds (default 30) after the last, when the allocator's background threads have
# returned what the replaced gateways freed.
#
#   scripts/reload-bench.sh                 # the DigitalOcean fixture
#   RELOADS=6 scripts/reload-bench.sh path/to/openapi.yaml
#
# The upstream is never called (nothing is sent to the gateway). A measurement, not a test:
# CI does not run it.
set -euo pipefail

cd "$(dirname "$0")/.."

DOC=${1:-tests/fixtures/digitalocean/specification/DigitalOcean-public.v2.yaml}
RELOADS=${RELOADS:-4}
SETTLE=${SETTLE:-30}
LIMIT_SECONDS=120

say() { printf '==> %s\n' "$*" >&2; }

say "building oasgate (release)"
cargo build --release --features cli --bin oasgate --quiet
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
oasgate_bin=$target_dir/release/oasgate

work=$(mktemp -d)
pid=
cleanup() {
    if [[ -n $pid ]]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

memory() { awk '/^VmRSS:|^VmHWM:/ { printf "%s %d MiB  ", $1, $2 / 1024 }' "/proc/$pid/status"; }

start=$(date +%s%N)
"$oasgate_bin" serve --spec "$DOC" --upstream http://127.0.0.1:9 --listen 127.0.0.1:0 \
    >"$work/out" 2>"$work/err" &
pid=$!
deadline=$((SECONDS + LIMIT_SECONDS))
until grep -q '^listening on' "$work/out"; do
    if ((SECONDS > deadline)) || ! kill -0 "$pid" 2>/dev/null; then
        say "oasgate did not start:"
        cat "$work/err" >&2
        exit 1
    fi
    sleep 0.02
done
printf 'start-up   %6d ms   %s\n' $((($(date +%s%N) - start) / 1000000)) "$(memory)"

for ((round = 1; round <= RELOADS; round++)); do
    kill -HUP "$pid"
    deadline=$((SECONDS + LIMIT_SECONDS))
    until (($(grep -c 'reloaded elapsed=' "$work/err") >= round)); do
        if ((SECONDS > deadline)) || grep -q 'reload failed' "$work/err"; then
            say "reload $round did not complete:"
            cat "$work/err" >&2
            exit 1
        fi
        sleep 0.02
    done
    elapsed=$(grep 'reloaded elapsed=' "$work/err" | tail -n1 | sed 's/.*elapsed=//')
    printf 'reload %-3d %9s   %s\n' "$round" "$elapsed" "$(memory)"
done
sleep "$SETTLE"
printf 'settled    %6d s    %s\n' "$SETTLE" "$(memory)"
