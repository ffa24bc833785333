#!/usr/bin/env bash
# The reference for benches/tgbench.sh: ../shared/tgbench's bare teloxide echo bot
# (stores nothing), driven the same way, so Parley's figures can be quoted as ratios.
#
#   benches/tgbench-teloxide.sh TELOXIDE_ECHO_BIN TGBENCH_BIN [acks|replies]
set -euo pipefail
bot_bin=${1:?usage: tgbench-teloxide.sh TELOXIDE_ECHO_BIN TGBENCH_BIN [acks|replies]}
tgbench=${2:?usage: tgbench-teloxide.sh TELOXIDE_ECHO_BIN TGBENCH_BIN [acks|replies]}
expect=${3:-acks}
dir=$(mktemp -d)
trap 'kill $(cat "$dir/bot.pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$dir"' EXIT
# The load generator serves the fake API, which the bot calls (setWebhook) as it starts.
"$tgbench" webhook --api-port "${API_PORT:-8090}" -n "${N:-20000}" -c "${CHATS:-1000}" \
    --concurrency "${CONCURRENCY:-64}" --url "http://127.0.0.1:${BOT_PORT:-8081}/webhook" --secret S \
    --expect "$expect" --watch-pid-file "$dir/bot.pid" >"$dir/out" 2>&1 &
load=$!
sleep 0.5
MODE=webhook API_URL="http://127.0.0.1:${API_PORT:-8090}" WEBHOOK_PORT="${BOT_PORT:-8081}" WEBHOOK_SECRET=S \
    "$bot_bin" >"$dir/bot.log" 2>&1 &
echo $! >"$dir/bot.pid"
wait "$load"
tail -n1 "$dir/out"
