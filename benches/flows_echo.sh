#!/usr/bin/env bash
# The echo flow (any message → `send: "{{message.text}}"`) on a Telegram webhook channel,
# measured from outside with ../shared/tgbench: `parley serve` (release, SQLite) as its
# own process, every update and every reply persisted. Prints tgbench's JSON line.
#
#   cargo build --release --bin parley
#   cargo build --release --manifest-path ../shared/tgbench/Cargo.toml --target-dir /tmp/tgbench
#   PARLEY=target/release/parley benches/flows_echo.sh          # N, C, CONCURRENCY to change the load
set -euo pipefail
PARLEY=${PARLEY:-target/release/parley}
T=${TGBENCH:-/tmp/tgbench/release/tgbench}
N=${N:-20000} C=${C:-1000} CONCURRENCY=${CONCURRENCY:-64}
API_PORT=${API_PORT:-18090} PORT=${PORT:-18080}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/flows"
cat > "$work/flows/echo.yaml" <<'YAML'
name: Echo
triggers:
  - any: true
steps:
  echo:
    send: "{{message.text}}"
    goto: end
YAML
export PARLEY_DATABASE_URL="sqlite://$work/parley.db" PARLEY_LISTEN="127.0.0.1:$PORT" PARLEY_FLOWS_DIR="$work/flows" PARLEY_LOG_LEVEL=warn
echo 'bench password' | "$PARLEY" operator add --email bench@example.com --name Bench --role admin > /dev/null
"$T" serve --api-port "$API_PORT" > /dev/null 2>&1 & fake=$!
"$PARLEY" serve > "$work/serve.log" 2>&1 & parley=$!
until curl -sf "127.0.0.1:$PORT/healthz" > /dev/null; do sleep 0.1; done
curl -sf -c "$work/cookies" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench password"}' "127.0.0.1:$PORT/api/v1/login" > /dev/null
id=$(curl -sf -b "$work/cookies" -H 'content-type: application/json' "127.0.0.1:$PORT/api/v1/channels" \
  -d "{\"kind\":\"telegram\",\"name\":\"Echo\",\"settings\":{\"token\":\"123456:bench\",\"mode\":\"webhook\",\"throttle\":false,\"api_url\":\"http://127.0.0.1:$API_PORT\"}}" \
  | sed -E 's/.*"id":([0-9]+).*/\1/')
sleep 1
secret=$(curl -sf "127.0.0.1:$API_PORT/__tgbench/webhook" | sed -E 's/.*"secret_token":"([^"]+)".*/\1/')
kill "$fake"; wait "$fake" 2>/dev/null || true
"$T" webhook --api-port "$API_PORT" -n "$N" -c "$C" --concurrency "$CONCURRENCY" \
  --url "http://127.0.0.1:$PORT/hooks/$id" --secret "$secret" --expect replies --watch-pid "$parley"
