#!/usr/bin/env bash
# Telegram webhook ingest measured from outside: `parley serve` (release, temporary
# SQLite) as its own process, driven by ../shared/tgbench as Telegram would drive it.
#
#   benches/tgbench.sh PARLEY_BIN TGBENCH_BIN [acks|replies] [extra tgbench flags...]
#
# Prints tgbench's JSON line (ack_throughput_ups, ack_p99_ms, bot_cpu_s, bot_vmhwm_kb…).
# PERF_OUT=file records the Parley process with `perf record -g` during the run;
# WRAP="valgrind --tool=callgrind" runs it under a tool (instruction counts do not move
# with the machine's load, unlike throughput); N, CHATS, CONCURRENCY size the run.
# Before it returns the fake API and Parley are stopped and the database removed.
set -euo pipefail
parley=${1:?usage: tgbench.sh PARLEY_BIN TGBENCH_BIN [acks|replies]}
tgbench=${2:?usage: tgbench.sh PARLEY_BIN TGBENCH_BIN [acks|replies]}
expect=${3:-acks}
shift $(( $# < 3 ? $# : 3 ))
api_port=${API_PORT:-8090}
http_port=${HTTP_PORT:-18080}
base="http://127.0.0.1:$http_port"

dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

wait_until() { for _ in $(seq 1 1200); do eval "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "timed out: $1" >&2; exit 1; }

"$tgbench" serve --api-port "$api_port" --duration 600 >"$dir/fake.log" 2>&1 &
fake=$!; pids+=("$fake")
wait_until "curl -sf 127.0.0.1:$api_port/__tgbench/webhook || curl -s 127.0.0.1:$api_port/ -o /dev/null"

PARLEY_DATABASE_URL="sqlite://$dir/parley.db" PARLEY_LISTEN="127.0.0.1:$http_port" PARLEY_LOG_LEVEL=warn \
    PARLEY_PUBLIC_URL="$base" ${WRAP:-} "$parley" serve >"$dir/parley.log" 2>&1 &
bot=$!; pids+=("$bot")
wait_until "grep -q 'setup?token=' $dir/parley.log"
token=$(grep -o 'setup?token=[A-Za-z0-9_-]*' "$dir/parley.log" | head -n1 | cut -d= -f2)

jar="$dir/cookies"
curl -sf -c "$jar" -H 'content-type: application/json' "$base/api/v1/setup" \
    -d "{\"token\":\"$token\",\"email\":\"bench@example.com\",\"name\":\"Bench\",\"password\":\"bench-password-1\"}" >/dev/null
channel=$(curl -sf -b "$jar" -H 'content-type: application/json' "$base/api/v1/channels" \
    -d "{\"kind\":\"telegram\",\"name\":\"Bench\",\"settings\":{\"token\":\"123:bench\",\"mode\":\"webhook\",\"api_url\":\"http://127.0.0.1:$api_port\"}}")
id=$(echo "$channel" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
wait_until "curl -sf 127.0.0.1:$api_port/__tgbench/webhook | grep -q secret_token"
secret=$(curl -sf "127.0.0.1:$api_port/__tgbench/webhook" | python3 -c 'import json, sys; print(json.load(sys.stdin)["secret_token"])')

# The load generator serves the fake API itself during the run.
kill "$fake"; wait "$fake" 2>/dev/null || true

if [ -n "${PERF_OUT:-}" ]; then
    perf record -F ${PERF_FREQ:-999} ${PERF_CALLGRAPH:--g} -p "$bot" -o "$PERF_OUT" 2>/dev/null &
    pids+=("$!")
fi
"$tgbench" webhook --api-port "$api_port" -n "${N:-20000}" -c "${CHATS:-1000}" --concurrency "${CONCURRENCY:-64}" \
    --url "$base/hooks/$id" --secret "$secret" --expect "$expect" --watch-pid "$bot" "$@"
if [ -n "${SWITCHES:-}" ]; then
    # Context switches and page faults of every thread of Parley, for comparing builds.
    awk '/voluntary_ctxt_switches/ { s += $2 } END { printf "context switches: %d\n", s }' /proc/"$bot"/task/*/status >&2
    awk '{ f += $10 } END { printf "minor page faults: %d\n", f }' /proc/"$bot"/task/*/stat >&2
    grep -c . /dev/null >/dev/null; ls /proc/"$bot"/task | wc -l | sed 's/^/threads: /' >&2
fi
if [ -n "${PERF_OUT:-}" ]; then kill -INT "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; fi
