#!/usr/bin/env bash
# Captures a real transfer from `mqimg send` for the device test (firmware/scripts/device-test.sh): a private
# Mosquitto on a free port of 127.0.0.1, the host harness (mqimg-rx-host, the C library behind libmosquitto) as the
# one receiver, withholding a few chunks on their first arrival so that the sender repairs them, and mosquitto_sub
# recording every message on the transfer's topics exactly as published, in order: the manifest, the hash page, the
# chunks, the repaired chunks and the receiver's statuses (whose `complete` carries the proof the replay must
# reproduce). Writes firmware/tests/vectors/transfer-160x120-rgb565.txt, one message a line: TOPIC HEXPAYLOAD.
# Needs mosquitto, mosquitto-clients, cmake, gcc, libmosquitto-dev, libmbedtls-dev and the CLI built
# (npm ci && npm run build). Usage: bash firmware/scripts/capture-transfer.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=firmware/tests/vectors/transfer-160x120-rgb565.txt
topic=fixture/cam
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

[ -f dist/bin/mqimg.js ] || { echo "build the CLI first: npm ci && npm run build" >&2; exit 1; }
cmake -S firmware -B firmware/build-capture -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build firmware/build-capture --target mqimg-rx-host -j 2 >/dev/null

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=($!)
sleep 0.5
mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -t "$topic/mqimg/#" -F '%t %x' >"$work/capture.txt" &
pids+=($!)
firmware/build-capture/mqimg-rx-host --port "$port" --topic "$topic" --out "$work/received.bin" \
  --rx rx-device-test --drop 5,20,21 --exit-after 30 >"$work/harness.txt" &
harness=$!
for _ in $(seq 1 50); do grep -q '"ready"' "$work/harness.txt" && break; sleep 0.1; done
node dist/bin/mqimg.js send samples/test-card.jpg --format rgb565 --resize 160x120 --chunk-size 1024 \
  --topic "$topic" --url "mqtt://127.0.0.1:$port" --receivers 1 --timeout 20 --quiet
wait "$harness"
sleep 0.5
cat "$work/harness.txt"
grep -q '"event":"complete"' "$work/harness.txt"
grep -v '^$' "$work/capture.txt" >"$out"
echo "captured $(wc -l <"$out") messages into $out"
