#!/usr/bin/env bash
# The C receiver on the ESP32-C3/C6 instruction set (rv32imc), with Debian's packages only: cross-compiles the
# library for rv32imc -Os (gcc-riscv64-unknown-elf, picolibc), prints its code size, replays a real transfer
# captured from `mqimg send` (firmware/tests/vectors/, firmware/tests/device/replay.c) in qemu-system-riscv32 (virt
# machine, semihosting, -icount shift=0 so that the `instret` CSR counts instructions), and compares the statuses,
# callbacks and frame buffers with the same replay built for the host (gcc, mbedTLS) byte for byte. Prints
# `instructions per 1 KiB chunk: N` and `largest call: N instructions`, and fails when the largest call exceeds 4
# chunks' worth (issue 22: bounded work per call).
#
# Then (firmware/README.md, "Building for a device"): the built-in SHA-256 against mbedTLS's is tested by
# host-test.sh; here the library's mbedTLS 3 branch is compiled for rv32 against stand-in headers, the ESP-IDF and
# Arduino examples' code is compiled for rv32 against stand-ins of the APIs they call (firmware/tests/stubs/) with
# ESP-IDF's warnings, and the one-file amalgamation (firmware/scripts/amalgamate.sh) is generated and compiled with
# -Wall -Wextra -Werror for the host and rv32. No real ESP-IDF, Arduino core or hardware is involved.
#
# Installs its packages when missing (as root, as .ci/run does). Outputs: firmware/build-device/.
# Usage: bash firmware/scripts/device-test.sh
#   MQIMG_RX_LIB=DIR   replay another copy of firmware/ (src/ and include/; e.g. an older commit's, exported with
#                      git archive) instead of this one; a library without MQIMG_RX_BUILTIN_SHA256 gets the SHA-256
#                      stand-in (firmware/tests/stubs/sha256_stub.c: the same SHA-256 code under mbedTLS's names).
#                      Only the size, the replay and its bound are done then (the library before issue 22 fails
#                      the bound: its largest call was 24 chunks' worth).
set -euo pipefail
fw=$(cd "$(dirname "$0")/.." && pwd)
cd "$fw"
lib=${MQIMG_RX_LIB:-$fw}
lib=$(cd "$lib" && pwd)
out=$fw/build-device
rm -rf "$out"
mkdir -p "$out"

need=()
command -v riscv64-unknown-elf-gcc >/dev/null 2>&1 || need+=(gcc-riscv64-unknown-elf)
[ -f /usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs ] || need+=(picolibc-riscv64-unknown-elf)
command -v qemu-system-riscv32 >/dev/null 2>&1 || need+=(qemu-system-misc)
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
[ -f /usr/include/mbedtls/sha256.h ] || need+=(libmbedtls-dev)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing: ${need[*]} (apt-get install -y --no-install-recommends ${need[*]})" >&2
    exit 1
  fi
  echo "installing: ${need[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi

capture=$fw/tests/vectors/transfer-160x120-rgb565.txt
rv=(riscv64-unknown-elf-gcc -march=rv32imc -mabi=ilp32 -Os -std=c99 --specs=picolibc.specs)
warn=(-Wall -Wextra -Wshadow -Wstrict-prototypes -Wconversion -Wno-sign-conversion -Werror)
srcs=()
for f in "$lib"/src/rx_*.c; do srcs+=("$f"); done
if grep -q MQIMG_RX_BUILTIN_SHA256 "$lib/src/rx_sha256.c"; then
  sha=(-DMQIMG_RX_BUILTIN_SHA256=1)
  inc=(-I"$lib/include" -I"$lib/src")
else # an older library: mbedTLS's names, served by the stand-in over today's SHA-256 code
  sha=()
  inc=(-I"$lib/include" -I"$lib/src" -I"$fw/tests/stubs" -I"$fw/include")
  srcs+=("$fw/tests/stubs/sha256_stub.c")
fi

echo "== code size: the library for rv32imc, -Os (riscv64-unknown-elf-gcc $(riscv64-unknown-elf-gcc -dumpversion))"
mkdir -p "$out/obj"
for f in "${srcs[@]}"; do
  "${rv[@]}" "${warn[@]}" "${sha[@]}" "${inc[@]}" -fstack-usage -c "$f" -o "$out/obj/$(basename "${f%.c}").o"
done
riscv64-unknown-elf-size "$out"/obj/*.o | tee "$out/size.txt"
awk 'NR > 1 { t += $1; d += $2; b += $3; if ($6 ~ /sha256/) s += $1 }
     END { printf "library: %d bytes of code (of which SHA-256 %d), %d of data, %d of bss\n", t, s, d, b }' \
  "$out/size.txt"
sort -t$'\t' -k2 -n -r "$out"/obj/*.su 2>/dev/null | head -n 3 | sed 's/^/  largest stack frame: /' || true
cat "$out"/obj/*.su >/dev/null

echo "== replay: host build (gcc, mbedTLS)"
hostinc=(-I"$lib/include" -I"$lib/src")
gcc -std=c99 -O2 "${warn[@]}" "${hostinc[@]}" -DREPLAY_CAPTURE="\"$capture\"" -DREPLAY_OUT="\"$out/host.out\"" \
  "$fw/tests/device/replay.c" "$lib"/src/rx_*.c -lmbedcrypto -o "$out/replay-host"
"$out/replay-host"

echo "== replay: rv32imc in qemu-system-riscv32 (picolibc, semihosting, -icount shift=0)"
ld=(-Wl,--defsym=__flash=0x80000000 -Wl,--defsym=__flash_size=0x200000 -Wl,--defsym=__ram=0x80200000
  -Wl,--defsym=__ram_size=0x1000000 -Wl,--defsym=__stack_size=0x10000)
"${rv[@]}" "${warn[@]}" "${sha[@]}" "${inc[@]}" -DREPLAY_CAPTURE="\"$capture\"" -DREPLAY_OUT="\"$out/device.out\"" \
  --oslib=semihost --crt0=semihost "${ld[@]}" \
  "$fw/tests/device/replay.c" "${srcs[@]}" -o "$out/replay-rv32.elf"
timeout 600 qemu-system-riscv32 -machine virt -bios none -kernel "$out/replay-rv32.elf" -nographic -monitor none \
  -serial none -semihosting-config enable=on,target=native -icount shift=0 2>&1 | tr -d "\r" | tee "$out/device.txt"

echo "== host and rv32 compared byte for byte (statuses, callbacks, frame buffers)"
for f in out inorder.fb whole.fb pieces.fb; do
  a=$out/host.$f b=$out/device.$f
  [ "$f" = out ] && a=$out/host.out b=$out/device.out
  [ "$f" != out ] && a=$out/host.out.$f b=$out/device.out.$f
  cmp "$a" "$b"
  echo "  identical: $(basename "$a") and $(basename "$b") ($(wc -c <"$a") bytes)"
done
grep -c ' status ' "$out/host.out" | sed 's/^/  statuses compared: /'

chunk=$(sed -n 's/^instructions per 1 KiB chunk: \([0-9]*\)$/\1/p' "$out/device.txt")
largest=$(sed -n 's/^largest call: \([0-9]*\) instructions.*/\1/p' "$out/device.txt")
[ -n "$chunk" ] && [ -n "$largest" ] || { echo "the replay printed no instruction counts" >&2; exit 1; }
echo "largest call / instructions per chunk = $(awk -v l="$largest" -v c="$chunk" 'BEGIN { printf "%.2f", l / c }')"
if [ "$largest" -gt $((4 * chunk)) ]; then
  echo "the largest call ($largest instructions) is more than 4 chunks' worth ($((4 * chunk)))" >&2
  exit 1
fi
echo "bounded work per call: ok (at most 4 chunks' worth)"
if [ -n "${MQIMG_RX_LIB:-}" ]; then
  echo "(another library: the examples and the amalgamation are not built)"
  exit 0
fi

bash "$fw/scripts/examples-test.sh"
echo "device tests passed"
