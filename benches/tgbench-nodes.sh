#!/usr/bin/env bash
# Telegram webhook ingest measured from outside on PostgreSQL, with one node or several:
# NODES `parley serve` processes on one fresh database, each driven by its own
# ../shared/tgbench with its own users (so no update is another node's duplicate).
#
#   NODES=2 N=20000 benches/tgbench-nodes.sh PARLEY_BIN TGBENCH_BIN
#
# Prints each tgbench's JSON line, then one summary line: the updates acknowledged by all
# nodes together per second (over the longest run), and the event lock's mean hold/wait
# per batch from each node's /metrics. PG_URL (default postgres://postgres@127.0.0.1:5432)
# is the server; a database is created for the run and dropped after it.
set -euo pipefail
parley=${1:?usage: tgbench-nodes.sh PARLEY_BIN TGBENCH_BIN}
tgbench=${2:?usage: tgbench-nodes.sh PARLEY_BIN TGBENCH_BIN}
nodes=${NODES:-1}
n=${N:-20000}
chats=${CHATS:-1000}
pg=${PG_URL:-postgres://postgres@127.0.0.1:5432}
db="tgbench_$$"
dir=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
wait_until() { for _ in $(seq 1 400); do eval "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "timed out: $1" >&2; exit 1; }

psql "$pg/postgres" -qc "CREATE DATABASE $db" >/dev/null
url="$pg/$db"

# Each node's own users: node k's chats are k*1,000,000 + 1..chats.
for k in $(seq 1 "$nodes"); do
    python3 - "$dir/updates-$k.jsonl" "$k" "$((n / nodes))" "$chats" <<'PY'
import json, sys, time
path, node, count, chats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
now = int(time.time())
with open(path, "w") as f:
    for i in range(count):
        user = node * 1_000_000 + 1 + i % chats
        person = {"id": user, "first_name": f"U{user}"}
        f.write(json.dumps({"update_id": i + 1, "message": {"message_id": i + 1, "date": now,
            "chat": dict(person, type="private"), "from": dict(person, is_bot=False), "text": f"hello {i}"}}) + "\n")
PY
done

api_port=${API_PORT:-8090}
"$tgbench" serve --api-port "$api_port" --duration 600 >"$dir/fake.log" 2>&1 &
fake=$!; pids+=("$fake")
wait_until "curl -s 127.0.0.1:$api_port/ -o /dev/null"

for k in $(seq 1 "$nodes"); do
    port=$((18080 + k))
    PARLEY_DATABASE_URL="$url" PARLEY_LISTEN="127.0.0.1:$port" PARLEY_LOG_LEVEL=warn \
        PARLEY_DATABASE_WRITERS="${WRITERS:-1}" PARLEY_PUBLIC_URL="http://127.0.0.1:18081" \
        "$parley" serve >"$dir/parley-$k.log" 2>&1 &
    pids+=("$!"); echo "$!" >"$dir/pid-$k"
    # The first node migrates and prints the set-up link; the others wait for it.
    if [ "$k" = 1 ]; then wait_until "grep -q 'setup?token=' $dir/parley-1.log"; fi
    wait_until "curl -sf 127.0.0.1:$port/readyz"
done
base="http://127.0.0.1:18081"
token=$(grep -o 'setup?token=[A-Za-z0-9_-]*' "$dir/parley-1.log" | head -n1 | cut -d= -f2)
jar="$dir/cookies"
curl -sf -c "$jar" -H 'content-type: application/json' "$base/api/v1/setup" \
    -d "{\"token\":\"$token\",\"email\":\"bench@example.com\",\"name\":\"Bench\",\"password\":\"bench-password-1\"}" >/dev/null
channel=$(curl -sf -b "$jar" -H 'content-type: application/json' "$base/api/v1/channels" \
    -d "{\"kind\":\"telegram\",\"name\":\"Bench\",\"settings\":{\"token\":\"123:bench\",\"mode\":\"webhook\",\"api_url\":\"http://127.0.0.1:$api_port\"}}")
id=$(echo "$channel" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
wait_until "curl -sf 127.0.0.1:$api_port/__tgbench/webhook | grep -q secret_token"
secret=$(curl -sf "127.0.0.1:$api_port/__tgbench/webhook" | python3 -c 'import json, sys; print(json.load(sys.stdin)["secret_token"])')
kill "$fake"; wait "$fake" 2>/dev/null || true

runs=()
for k in $(seq 1 "$nodes"); do
    "$tgbench" webhook --api-port $((api_port + k - 1)) --updates-file "$dir/updates-$k.jsonl" -n "$((n / nodes))" \
        --url "http://127.0.0.1:$((18080 + k))/hooks/$id" --secret "$secret" --expect acks \
        --concurrency "${CONCURRENCY:-64}" --watch-pid "$(cat "$dir/pid-$k")" --label "node $k of $nodes" \
        >"$dir/run-$k.json" 2>"$dir/run-$k.err" &
    runs+=("$!")
done
for r in "${runs[@]}"; do wait "$r" || { echo "a tgbench run failed" >&2; cat "$dir"/run-*.err >&2; exit 1; }; done
for k in $(seq 1 "$nodes"); do
    tail -n1 "$dir/run-$k.json"
    curl -sf "127.0.0.1:$((18080 + k))/metrics" | grep '^parley_store_event_insert_seconds_\(sum\|count\)' >"$dir/lock-$k.txt" || true
done
python3 - "$dir" "$nodes" <<'PY'
import json, sys
d, nodes = sys.argv[1], int(sys.argv[2])
runs = [json.loads(open(f"{d}/run-{k}.json").read().strip().splitlines()[-1]) for k in range(1, nodes + 1)]
acked = sum(r.get("acked", r.get("n", 0)) for r in runs)
secs = max(r.get("elapsed_s", r.get("duration_s", 0)) for r in runs)
lock = []
for k in range(1, nodes + 1):
    vals = dict(l.split()[0:2] for l in open(f"{d}/lock-{k}.txt") if l.strip())
    s, c = float(vals.get("parley_store_event_insert_seconds_sum", 0)), float(vals.get("parley_store_event_insert_seconds_count", 0))
    lock.append(round(1000 * s / c, 3) if c else None)
print(json.dumps({"nodes": nodes, "acked": acked, "seconds": secs,
    "together_ups": round(acked / secs, 1) if secs else None,
    "sum_of_node_ups": round(sum(r.get("ack_throughput_ups", 0) for r in runs), 1),
    "p99_ms": [r.get("ack_p99_ms") for r in runs], "event_insert_mean_ms": lock}))
PY
