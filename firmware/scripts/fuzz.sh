#!/usr/bin/env bash
# Fuzzes mqimg_rx's message handler (firmware/fuzz/fuzz_rx.c) with libFuzzer for SECONDS (default 60), starting
# from the corpus in firmware/fuzz/corpus/ (new inputs go to a temporary folder, so the repository's corpus stays
# as it is). Signed manifests and named receivers (libsodium) are built in. Needs clang (clang-14 on Debian 12) with its libFuzzer
# runtime, libmbedtls-dev and libsodium-dev.
# Usage: bash firmware/scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cc=$(command -v clang-14 || command -v clang || true)
if [ -z "$cc" ]; then
  echo "clang is not installed (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 1
fi
CC=$cc cmake -S . -B build-fuzz -DMQIMG_RX_FUZZ=ON -DMQIMG_RX_WITH_SODIUM=ON -DMQIMG_RX_WITH_IDENTITY=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc 2>/dev/null || echo 2)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fuzzing for $seconds s"
set +e
./build-fuzz/fuzz_rx -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  "$work" fuzz/corpus 2>&1 | grep -Ev '^#[0-9]+\s+(NEW|REDUCE|pulse)' | tail -n 30
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "the fuzzer found a crash (exit $status): the input is in firmware/crash-* (or ./crash-*)" >&2
  exit "$status"
fi
echo "fuzzing ran clean for $seconds s"
