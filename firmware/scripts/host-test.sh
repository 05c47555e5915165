#!/usr/bin/env bash
# Host tests of the C receiver library (firmware/): builds it with gcc and -Werror, runs the unit tests (PROTOCOL.md
# vectors and rules), the no-allocation test and the fuzz corpus; checks that the library's objects reference no
# allocator; then does it all again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Needs cmake, gcc, libmbedtls-dev, libsodium-dev (and libmosquitto-dev for the host harness). Outputs: firmware/build-host*/.
# Usage: bash firmware/scripts/host-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

build_and_test() { # dir, cmake options...
  local dir=$1
  shift
  echo "== $dir: configure $*"
  CC=${CC:-gcc} cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMQIMG_RX_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  (cd "$dir" && ctest --output-on-failure)
}

build_and_test build-host
# The unit test prints the state sizes of three image and chunk sizes: show them.
./build-host/test_rx | grep '^state for'

# No allocator anywhere in the library: every symbol its objects leave undefined is defined by the library itself,
# or is one of these (string.h, and mbedTLS's SHA-256, which does not allocate: test_no_malloc checks at run time).
echo "== symbols the library needs from outside"
lib=build-host/libmqimg_rx.a
defined=$(nm -g --defined-only "$lib" | awk 'NF == 3 {print $3}' | sort -u)
undefined=$(nm -g --undefined-only "$lib" | awk 'NF == 2 {print $2}' | sort -u)
external=$(comm -23 <(echo "$undefined") <(echo "$defined"))
echo "$external" | sed 's/^/  /'
allowed='^(memcmp|memcpy|memmove|memset|strcmp|strlen|mbedtls_sha256_(init|free|starts|update|finish)(_ret)?|_GLOBAL_OFFSET_TABLE_|__stack_chk_fail)$'
bad=$(echo "$external" | grep -Ev "$allowed" || true)
if [ -n "$bad" ]; then
  echo "the library references symbols outside its allowed set (an allocator, stdio...):" >&2
  echo "$bad" >&2
  exit 1
fi
if echo "$external" | grep -Eq '^(malloc|calloc|realloc|free|strdup|aligned_alloc|posix_memalign)$'; then
  echo "the library calls an allocator" >&2
  exit 1
fi
echo "no allocator: ok"
# The library with its built-in SHA-256 needs nothing but string.h.
lib=build-host/libmqimg_rx_builtin_sha.a
external=$(comm -23 <(nm -g --undefined-only "$lib" | awk 'NF == 2 {print $2}' | sort -u) \
  <(nm -g --defined-only "$lib" | awk 'NF == 3 {print $3}' | sort -u))
bad=$(echo "$external" | grep -Ev '^(memcmp|memcpy|memmove|memset|strcmp|strlen|_GLOBAL_OFFSET_TABLE_|__stack_chk_fail)$' || true)
if [ -n "$bad" ]; then
  echo "the library with the built-in SHA-256 references symbols outside string.h:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "built-in SHA-256: the library needs only $(echo $external)"

# Named receivers (MQIMG_RX_WITH_IDENTITY, with libsodium): the unit tests, the named-receiver vectors and the
# allocation count of a named receiver's transfer (test_no_malloc); the library's outside symbols are string.h,
# mbedTLS's SHA-256 and these libsodium functions (none allocates: test_no_malloc counts).
build_and_test build-host-id -DMQIMG_RX_WITH_SODIUM=ON -DMQIMG_RX_WITH_IDENTITY=ON
lib=build-host-id/libmqimg_rx.a
external=$(comm -23 <(nm -g --undefined-only "$lib" | awk 'NF == 2 {print $2}' | sort -u) \
  <(nm -g --defined-only "$lib" | awk 'NF == 3 {print $3}' | sort -u))
sodium='crypto_sign_verify_detached|crypto_sign_seed_keypair|crypto_hash_sha512|crypto_scalarmult|randombytes_buf|sodium_init|sodium_memzero|sodium_base642bin'
base='memchr|memcmp|memcpy|memmove|memset|strcmp|strlen|mbedtls_sha256_(init|free|starts|update|finish)(_ret)?|_GLOBAL_OFFSET_TABLE_|__stack_chk_fail'
bad=$(echo "$external" | grep -Ev "^($base|$sodium)\$" || true)
if [ -n "$bad" ]; then
  echo "the library with named receivers references symbols outside its allowed set:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "named receivers: the library needs $(echo $external)"

# Signed manifests and named receivers (libsodium) too, under the sanitizers.
build_and_test build-host-asan -DMQIMG_RX_SANITIZE=ON -DMQIMG_RX_WITH_SODIUM=ON -DMQIMG_RX_WITH_IDENTITY=ON
echo "host tests passed"
