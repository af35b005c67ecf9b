#!/usr/bin/env bash
# Measures what `oasgate serve` adds in front of a service: the same valid GET sent with wrk
# straight to a bare upstream and through the proxy, at 1 connection (latency) and at 32
# connections (throughput), all in one run on 127.0.0.1; then the proxy with its access log on
# and off, alternating, at 32 connections. Then the edge: oasgate beside plain nginx (one
# worker, `proxy_pass` with keep-alive to the same upstream, no validation) over HTTP/1.1, over
# HTTP/2 with TLS and over cleartext HTTP/2 (h2load, one connection, 1 and 32 streams), and
# TLS handshakes per second (openssl s_time), with a certificate made for the run.
#
#   scripts/proxy-bench.sh                 # 10 s per wrk run
#   DURATION=5s scripts/proxy-bench.sh
#   UPSTREAM_DELAY_MS=2 scripts/proxy-bench.sh   # the upstream waits 2 ms per request
#   ACCESS_LOG_ROUNDS=5 scripts/proxy-bench.sh    # access log on/off rounds (default 3)
#
# Prints a summary table; exits non-zero when any run saw a non-2xx answer or socket errors.
# The targets (≤ 100 µs added median latency at 1 connection, ≥ 80 % of direct throughput at
# 32 connections) are reported, not enforced: the figures depend on what else the machine runs.
# A measurement, not a test: CI does not run it.
set -euo pipefail

cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
UPSTREAM_DELAY_MS=${UPSTREAM_DELAY_MS:-0}
REQUEST_PATH='/items?limit=25&sort=price&q=walnut%20desk'
SPEC=benches/fixtures/bench.yaml
STARTUP_SECONDS=120

# shellcheck source=scripts/common.sh
source scripts/common.sh

# --- tools -----------------------------------------------------------------------------------
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
command -v h2load >/dev/null || missing+=(nghttp2-client)
command -v openssl >/dev/null || missing+=(openssl)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
if ((${#missing[@]})); then
    install_debian "${missing[@]}"
fi

# --- build -----------------------------------------------------------------------------------
# One invocation with one feature set, so the library is compiled once for both binaries.
say "building oasgate and the bare upstream (release)"
cargo build --release --features cli --bin oasgate --example upstream
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
oasgate_bin=$target_dir/release/oasgate
upstream_bin=$target_dir/release/examples/upstream

# --- servers ---------------------------------------------------------------------------------
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# Waits (bounded) for `listening on http://ADDR` in the file $1 and prints ADDR.
wait_listening() {
    local out=$1 name=$2 pid=$3 deadline=$((SECONDS + STARTUP_SECONDS)) addr
    while ((SECONDS < deadline)); do
        addr=$(sed -n 's|^listening on https\{0,1\}://||p' "$out" | head -n1)
        if [[ -n $addr ]]; then
            printf '%s\n' "$addr"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            say "$name exited before listening:"
            cat "$work/$name.err" >&2
            return 1
        fi
        sleep 0.1
    done
    say "$name did not print its address within ${STARTUP_SECONDS}s"
    return 1
}

"$upstream_bin" --listen 127.0.0.1:0 --delay-ms "$UPSTREAM_DELAY_MS" >"$work/upstream.out" 2>"$work/upstream.err" &
pids+=($!)
upstream_addr=$(wait_listening "$work/upstream.out" upstream "${pids[-1]}")

"$oasgate_bin" serve --spec "$SPEC" --upstream "http://$upstream_addr" --listen 127.0.0.1:0 \
    >"$work/proxy.out" 2>"$work/proxy.err" &
pids+=($!)
proxy_pid=${pids[-1]}
proxy_addr=$(wait_listening "$work/proxy.out" proxy "$proxy_pid")
say "upstream on $upstream_addr, oasgate (pid $proxy_pid) on $proxy_addr"

# The same proxy without its access log, to measure what the log costs.
"$oasgate_bin" serve --spec "$SPEC" --upstream "http://$upstream_addr" --listen 127.0.0.1:0 \
    --no-access-log >"$work/quiet.out" 2>"$work/quiet.err" &
pids+=($!)
quiet_addr=$(wait_listening "$work/quiet.out" quiet "${pids[-1]}")
say "oasgate without access log on $quiet_addr"

# The proxied path validates: the benchmark request passes, an out-of-range one is stopped.
check_status() {
    local url=$1 want=$2 got
    got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url")
    if [[ $got != "$want" ]]; then
        say "GET $url answered $got, expected $want"
        exit 1
    fi
}
check_status "http://$upstream_addr$REQUEST_PATH" 200
check_status "http://$proxy_addr$REQUEST_PATH" 200
check_status "http://$proxy_addr/items?limit=0" 400

# --- load ------------------------------------------------------------------------------------
seconds_of() { local d=${1%s}; printf '%s\n' "$d"; }
# wrk stops itself after DURATION; timeout is the backstop should it hang.
wrk_bound=$(($(seconds_of "$DURATION") + 30))
failed=0

# The access log on and off, alternating, ACCESS_LOG_ROUNDS times each (default 3).
ACCESS_LOG_ROUNDS=${ACCESS_LOG_ROUNDS:-3}

# Runs wrk with a label and its connection flags; keeps its report as $work/LABEL.txt.
run_wrk() {
    local label=$1 url=$2
    shift 2
    say "wrk $* -d$DURATION --latency $url  ($label)"
    timeout "$wrk_bound" wrk "$@" -d"$DURATION" --latency "$url" >"$work/$label.txt"
    cat "$work/$label.txt" >&2
    if grep -q 'Non-2xx or 3xx responses' "$work/$label.txt"; then
        say "$label: answers other than 2xx"
        failed=1
    fi
    if grep -q 'Socket errors' "$work/$label.txt"; then
        say "$label: socket errors"
        failed=1
    fi
}

# The 50th percentile of wrk's latency distribution, in microseconds.
median_us() {
    awk '$1 == "50%" {
        v = $2
        if (v ~ /us$/) { sub(/us$/, "", v); f = 1 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); f = 1000 }
        else if (v ~ /s$/) { sub(/s$/, "", v); f = 1000000 }
        printf "%.1f\n", v * f
    }' "$work/$1.txt"
}
requests_per_second() {
    awk '$1 == "Requests/sec:" { printf "%.0f\n", $2 }' "$work/$1.txt"
}

direct=http://$upstream_addr$REQUEST_PATH
proxied=http://$proxy_addr$REQUEST_PATH
load_before=$(uptime)

# Warm-up: fills the proxy's upstream pool and both servers' caches; not reported.
timeout 30 wrk -t2 -c32 -d2s "$proxied" >/dev/null
timeout 30 wrk -t2 -c32 -d2s "$direct" >/dev/null

run_wrk direct-c1 "$direct" -t1 -c1
run_wrk proxied-c1 "$proxied" -t1 -c1
run_wrk direct-c32 "$direct" -t2 -c32
run_wrk proxied-c32 "$proxied" -t2 -c32

quiet=http://$quiet_addr$REQUEST_PATH
timeout 30 wrk -t2 -c32 -d2s "$quiet" >/dev/null
for ((round = 1; round <= ACCESS_LOG_ROUNDS; round++)); do
    run_wrk "log-on-$round" "$proxied" -t2 -c32
    run_wrk "log-off-$round" "$quiet" -t2 -c32
done

# --- the edge: oasgate beside nginx -----------------------------------------------------------
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
nginx_plain=$(free_port)
nginx_tls=$(free_port)
nginx_h2c=$(free_port)
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log $work/nginx-access.log;
    client_body_temp_path $work/nginx-body;
    proxy_temp_path $work/nginx-proxy;
    fastcgi_temp_path $work/nginx-fastcgi;
    uwsgi_temp_path $work/nginx-uwsgi;
    scgi_temp_path $work/nginx-scgi;
    # No cap on requests per connection, as oasgate has none (nginx closes after 1000).
    keepalive_requests 1000000;
    upstream backend { server $upstream_addr; keepalive 64; keepalive_requests 1000000; }
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    server {
        listen 127.0.0.1:$nginx_plain;
        listen 127.0.0.1:$nginx_tls ssl http2;
        listen 127.0.0.1:$nginx_h2c http2;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
NGINX
"$nginx_bin" -c "$work/nginx.conf" -e "$work/nginx-error.log" >"$work/nginx.out" 2>"$work/nginx.err" &
pids+=($!)
"$oasgate_bin" serve --spec "$SPEC" --upstream "http://$upstream_addr" --listen 127.0.0.1:0 \
    --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" >"$work/tls.out" 2>"$work/tls.err" &
pids+=($!)
tls_addr=$(wait_listening "$work/tls.out" tls "${pids[-1]}")
for ((i = 0; i < 100; i++)); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$nginx_plain/" && break
    sleep 0.1
done
check_status "http://127.0.0.1:$nginx_plain$REQUEST_PATH" 200
say "nginx on 127.0.0.1:$nginx_plain (TLS $nginx_tls, h2c $nginx_h2c); oasgate with TLS on $tls_addr"

# HTTP/1.1, wrk, oasgate and nginx alternating, EDGE_ROUNDS times each (default 3).
EDGE_ROUNDS=${EDGE_ROUNDS:-3}
nginx_url=http://127.0.0.1:$nginx_plain$REQUEST_PATH
timeout 30 wrk -t2 -c32 -d2s "$nginx_url" >/dev/null
for ((round = 1; round <= EDGE_ROUNDS; round++)); do
    run_wrk "oas-c1-$round" "$proxied" -t1 -c1
    run_wrk "ngx-c1-$round" "$nginx_url" -t1 -c1
    run_wrk "oas-c8-$round" "$proxied" -t2 -c8
    run_wrk "ngx-c8-$round" "$nginx_url" -t2 -c8
    run_wrk "oas-c32-$round" "$proxied" -t2 -c32
    run_wrk "ngx-c32-$round" "$nginx_url" -t2 -c32
done

# HTTP/2, h2load, one connection: requests/s at 1 and 32 streams; keeps $work/LABEL.txt.
run_h2load() {
    local label=$1 url=$2
    shift 2
    say "h2load $* -D $(seconds_of "$DURATION") $url  ($label)"
    timeout "$wrk_bound" h2load "$@" -D "$(seconds_of "$DURATION")" "$url" >"$work/$label.txt" 2>&1 || true
    grep -E '^(finished|requests|status codes):' "$work/$label.txt" >&2 || cat "$work/$label.txt" >&2
    if ! grep -qE '^status codes: [0-9]+ 2xx, 0 3xx, 0 4xx, 0 5xx' "$work/$label.txt" \
        || ! grep -qE '^requests: .* ([0-9]+) done, \1 succeeded, 0 failed, 0 errored' "$work/$label.txt"; then
        say "$label: failed requests or answers other than 2xx"
        failed=1
    fi
}
h2_rps() { awk '$1 == "finished" { sub(/,$/, "", $4); printf "%.0f\n", $4 }' "$work/$1.txt"; }
for ((round = 1; round <= EDGE_ROUNDS; round++)); do
    for streams in 1 32; do
        run_h2load "oas-tls-m$streams-$round" "https://$tls_addr$REQUEST_PATH" -c1 -m"$streams"
        run_h2load "ngx-tls-m$streams-$round" "https://127.0.0.1:$nginx_tls$REQUEST_PATH" -c1 -m"$streams"
        run_h2load "oas-h2c-m$streams-$round" "http://$proxy_addr$REQUEST_PATH" -c1 -m"$streams"
        run_h2load "ngx-h2c-m$streams-$round" "http://127.0.0.1:$nginx_h2c$REQUEST_PATH" -c1 -m"$streams"
    done
done

# TLS handshakes: a new connection per handshake, one at a time, for DURATION.
run_s_time() {
    local label=$1 addr=$2
    say "openssl s_time -connect $addr -new -time $(seconds_of "$DURATION")  ($label)"
    timeout "$wrk_bound" openssl s_time -connect "$addr" -new -time "$(seconds_of "$DURATION")" \
        >"$work/$label.txt" 2>&1 || true
    grep 'connections/user sec' "$work/$label.txt" >&2 || { cat "$work/$label.txt" >&2; failed=1; }
}
handshakes() { awk '/connections in [0-9.]+s?/ && /real seconds/ { printf "%.0f\n", $1 / $4 }' "$work/$1.txt" | tail -n1; }
for ((round = 1; round <= EDGE_ROUNDS; round++)); do
    run_s_time "oas-hs-$round" "$tls_addr"
    run_s_time "ngx-hs-$round" "127.0.0.1:$nginx_tls"
done

load_after=$(uptime)

# --- summary ---------------------------------------------------------------------------------
d1=$(median_us direct-c1)
p1=$(median_us proxied-c1)
d32=$(requests_per_second direct-c32)
p32=$(requests_per_second proxied-c32)
if [[ -z $d1 || -z $p1 || -z $d32 || -z $p32 ]]; then
    say "could not read wrk's figures (see the reports above)"
    exit 1
fi
added=$(awk -v d="$d1" -v p="$p1" 'BEGIN { printf "%.1f", p - d }')
ratio=$(awk -v d="$d32" -v p="$p32" 'BEGIN { printf "%.1f", 100 * p / d }')
# The median of the rounds' requests/s, with and without the access log.
median_rps() {
    local prefix=$1 round
    for ((round = 1; round <= ACCESS_LOG_ROUNDS; round++)); do
        requests_per_second "$prefix-$round"
    done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
log_on=$(median_rps log-on)
log_off=$(median_rps log-off)
# The cost is the median of each round's own cost: a round's two runs are back to back, so
# a change in what else the machine runs shifts both sides of a round, not one.
log_cost=$(for ((round = 1; round <= ACCESS_LOG_ROUNDS; round++)); do
    awk -v on="$(requests_per_second "log-on-$round")" -v off="$(requests_per_second "log-off-$round")" \
        'BEGIN { printf "%.1f\n", 100 * (off - on) / off }'
done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
log_verdict=$(awk -v c="$log_cost" 'BEGIN { print (c <= 5 ? "met" : "MISSED") }')
latency_verdict=$(awk -v a="$added" 'BEGIN { print (a <= 100 ? "met" : "MISSED") }')
throughput_verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 80 ? "met" : "MISSED") }')

cat <<EOF

oasgate serve vs the bare upstream (waiting ${UPSTREAM_DELAY_MS} ms per request): GET $REQUEST_PATH, wrk -d$DURATION each
load before: $load_before
load after:  $load_after

| measure                              | direct  | proxied | added / ratio | target   |        |
| ------------------------------------ | ------- | ------- | ------------- | -------- | ------ |
| median latency, 1 connection (µs)    | $(printf '%7s' "$d1") | $(printf '%7s' "$p1") | $(printf '%13s' "+$added") | ≤ +100   | $latency_verdict |
| requests/s, 32 connections           | $(printf '%7s' "$d32") | $(printf '%7s' "$p32") | $(printf '%12s%%' "$ratio") | ≥ 80 %   | $throughput_verdict |

Access log, proxied, 32 connections, $ACCESS_LOG_ROUNDS alternating rounds (requests/s: median of each side; cost: median of the rounds' own costs):

| measure                              | log off | log on  | cost          | target   |        |
| ------------------------------------ | ------- | ------- | ------------- | -------- | ------ |
| requests/s, 32 connections           | $(printf '%7s' "$log_off") | $(printf '%7s' "$log_on") | $(printf '%12s%%' "$log_cost") | ≤ 5 %    | $log_verdict |
EOF

# The median over the edge rounds of a figure ($1: the function reading it, $2: the label prefix).
median_of() {
    local read=$1 prefix=$2 round
    for ((round = 1; round <= EDGE_ROUNDS; round++)); do
        "$read" "$prefix-$round"
    done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
edge_row() {
    local what=$1 read=$2 oas=$3 ngx=$4 better=$5 o n ratio verdict
    o=$(median_of "$read" "$oas")
    n=$(median_of "$read" "$ngx")
    ratio=$(awk -v o="$o" -v n="$n" 'BEGIN { printf "%.2f", (n > 0 ? o / n : 0) }')
    if [[ $better == higher ]]; then
        verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 1 ? "met" : "MISSED") }')
    else
        verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 1 ? "met" : "MISSED") }')
    fi
    printf '| %-36s | %7s | %7s | %12s× | %-7s |\n' "$what" "$o" "$n" "$ratio" "$verdict"
}
cat <<EOF

oasgate serve (validating) vs nginx (proxy_pass, one worker, keep-alive upstream), median of $EDGE_ROUNDS alternating rounds:

| measure                              | oasgate | nginx   | oasgate/nginx | verdict |
| ------------------------------------ | ------- | ------- | ------------- | ------- |
$(edge_row "HTTP/1.1 median latency, 1 conn (µs)" median_us oas-c1 ngx-c1 lower)
$(edge_row "HTTP/1.1 requests/s, 8 connections" requests_per_second oas-c8 ngx-c8 higher)
$(edge_row "HTTP/1.1 requests/s, 32 connections" requests_per_second oas-c32 ngx-c32 higher)
$(edge_row "h2 over TLS requests/s, 1 stream" h2_rps oas-tls-m1 ngx-tls-m1 higher)
$(edge_row "h2 over TLS requests/s, 32 streams" h2_rps oas-tls-m32 ngx-tls-m32 higher)
$(edge_row "h2c requests/s, 1 stream" h2_rps oas-h2c-m1 ngx-h2c-m1 higher)
$(edge_row "h2c requests/s, 32 streams" h2_rps oas-h2c-m32 ngx-h2c-m32 higher)
$(edge_row "TLS handshakes/s, one at a time" handshakes oas-hs ngx-hs higher)
EOF

if ((failed)); then

    say "some runs saw errors or non-2xx answers"
    exit 1
fi
