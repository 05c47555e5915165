#!/usr/bin/env bash
# A/B of two builds of mqimg on one transport case, alternating, on a Mosquitto of its own:
#   bash scripts/bench/compare-builds.sh OLD/dist/bin/mqimg.js NEW/dist/bin/mqimg.js FILE [CHUNK] [PAIRS]
# (make OLD with `git worktree add /tmp/old REV && cd /tmp/old && ln -s "$PWD/../main/node_modules" . && npx tsc -p
# tsconfig.build.json`). Prints end-to-end time (sender start to receiver exit), the sender's durationMs, and the
# CPU time (user + system, ms) of the sender and the receiver, read by scripts/bench/rss-preload.cjs.
set -euo pipefail
old=$1 new=$2 file=$3 chunk=${4:-64K} pairs=${5:-4}
port=$(node -e 'const s=require("net").createServer().listen(0,()=>{console.log(s.address().port);s.close()})')
mosquitto -p "$port" >/dev/null 2>&1 &
broker=$!
trap 'kill $broker' EXIT
sleep 0.5
out=$(mktemp -d)
preload="$(cd "$(dirname "$0")" && pwd)/rss-preload.cjs"
for _ in $(seq 1 "$pairs"); do
  for which in old new; do
    bin=$old
    [ "$which" = new ] && bin=$new
    rm -rf "$out/rx" && mkdir "$out/rx"
    BENCH_RSS_FILE="$out/rx.cpu" node --require "$preload" "$bin" receive --out "$out/rx" --once --json \
      --url "mqtt://127.0.0.1:$port" >"$out/rx.log" 2>&1 &
    rx=$!
    sleep 1
    start=$(date +%s%N)
    BENCH_RSS_FILE="$out/tx.cpu" node --require "$preload" "$bin" send "$file" --topic ab/x --format original \
      --chunk-size "$chunk" --json \
      --url "mqtt://127.0.0.1:$port" >"$out/tx.json"
    wait $rx
    end=$(date +%s%N)
    echo "$which e2e $(((end - start) / 1000000)) ms $(grep -o '"durationMs":[0-9]*' "$out/tx.json")" \
      "sender CPU $(cut -d' ' -f2 "$out/tx.cpu") ms, receiver CPU $(cut -d' ' -f2 "$out/rx.cpu") ms"
  done
done
rm -rf "$out"
