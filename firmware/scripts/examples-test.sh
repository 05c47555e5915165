#!/usr/bin/env bash
# The examples' code and the one-file amalgamation, compiled for rv32imc (ESP32-C3/C6) in CI; nothing is linked or
# run, and no real ESP-IDF, Arduino core or hardware is involved:
#   - the ESP-IDF example (esp-idf/example/main/main.c), once per target (ESP32-C3, ESP32-C6, and the ESP32 and
#     ESP32-S3 branches, which have PSRAM: compiled with the rv32 compiler too, as no Xtensa compiler is packaged),
#     against stand-ins of the ESP-IDF 5 APIs it calls (tests/stubs/esp-idf/), with ESP-IDF's warning flags;
#   - the Arduino sketch (arduino/mqimg_tft/mqimg_tft.ino) as C++, against stand-ins of the Arduino ESP32 core,
#     PubSubClient and TFT_eSPI (tests/stubs/arduino/), with the same flags;
#   - the library's mbedTLS 3 branch (src/rx_sha256.c), against stand-ins of mbedTLS 3's headers (tests/stubs/);
#   - the amalgamation (scripts/amalgamate.sh: mqimg_rx.c + mqimg_rx.h) with -Wall -Wextra -Werror, for the host
#     (gcc, with mbedTLS and with the built-in SHA-256) and for rv32 (built-in SHA-256), and linked into the unit
#     tests on the host, which must pass.
# Every warning is an error here (-Werror on top of ESP-IDF's -Werror=all), so a `%u` for a uint32_t (unsigned long
# on ESP-IDF 5 and rv32) fails. Needs gcc-riscv64-unknown-elf, picolibc-riscv64-unknown-elf, gcc, libmbedtls-dev.
# Usage: bash firmware/scripts/examples-test.sh
set -euo pipefail
fw=$(cd "$(dirname "$0")/.." && pwd)
out=$fw/build-examples
rm -rf "$out"
mkdir -p "$out"
stubs=$fw/tests/stubs
# ESP-IDF 5's C warnings (tools/cmake/build.cmake: -Wall -Werror=all and the exceptions, -Wextra without unused
# parameters and sign comparisons), its C standard, and -Werror for the rest.
idf_warn=(-Wall -Werror=all -Wno-error=unused-function -Wno-error=unused-variable -Wno-error=deprecated-declarations
  -Wextra -Wno-unused-parameter -Wno-sign-compare -Wno-enum-conversion -Werror)
rv=(riscv64-unknown-elf-gcc -march=rv32imc -mabi=ilp32 -Os --specs=picolibc.specs)
rvxx=(riscv64-unknown-elf-g++ -march=rv32imc -mabi=ilp32 -Os --specs=picolibc.specs)

echo "== ESP-IDF example for rv32 against stand-ins (ESP-IDF's warnings, -Werror)"
for target in ESP32C3 ESP32C6 ESP32 ESP32S3; do
  "${rv[@]}" -std=gnu17 "${idf_warn[@]}" -DSTUB_TARGET_$target -include sdkconfig.h -I"$stubs/esp-idf" \
    -I"$fw/include" -c "$fw/esp-idf/example/main/main.c" -o "$out/main-$target.o"
  echo "  $target: compiled"
done

echo "== Arduino sketch for rv32 against stand-ins (C++, ESP-IDF's warnings, -Werror)"
"${rvxx[@]}" -std=gnu++17 "${idf_warn[@]}" -fno-exceptions -fno-rtti -I"$stubs/arduino" -I"$fw/src" \
  -include Arduino.h -x c++ -c "$fw/arduino/mqimg_tft/mqimg_tft.ino" -o "$out/mqimg_tft.o"
echo "  compiled"

echo "== the library's mbedTLS 3 branch for rv32 against stand-in headers"
"${rv[@]}" -std=c99 -Wall -Wextra -Werror -I"$stubs" -I"$fw/include" -c "$fw/src/rx_sha256.c" -o "$out/rx_sha256-mbedtls3.o"
riscv64-unknown-elf-nm "$out/rx_sha256-mbedtls3.o" | grep -q ' U mbedtls_sha256_starts$'
echo "  compiled (calls mbedtls_sha256_starts, the 3.x name)"

echo "== amalgamation"
bash "$fw/scripts/amalgamate.sh" "$out/amalgamation"
am=$out/amalgamation
strict=(-std=c99 -Wall -Wextra -Wshadow -Wstrict-prototypes -Werror)
gcc "${strict[@]}" -O2 -I"$am" -c "$am/mqimg_rx.c" -o "$out/am-host-mbedtls.o"
gcc "${strict[@]}" -O2 -DMQIMG_RX_BUILTIN_SHA256=1 -I"$am" -c "$am/mqimg_rx.c" -o "$out/am-host-builtin.o"
"${rv[@]}" "${strict[@]}" -DMQIMG_RX_BUILTIN_SHA256=1 -I"$am" -c "$am/mqimg_rx.c" -o "$out/am-rv32.o"
riscv64-unknown-elf-size "$out/am-rv32.o" | sed 's/^/  /'
# The unit tests against the amalgamation (not the library's files): they must pass.
gcc -std=c99 -O2 -Wall -Wextra -Werror -I"$am" "$fw/tests/test_rx.c" "$am/mqimg_rx.c" -lmbedcrypto -o "$out/test_rx-am"
"$out/test_rx-am" | tail -n 1
echo "examples and amalgamation: ok"
