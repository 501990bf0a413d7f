#!/usr/bin/env bash
# The addon built with AddressSanitizer (and UBSan), and the node:test suites
# run against it with the sanitizer runtime preloaded into node. Leak
# checking stays off: V8 and Node leave their own allocations to the OS at
# exit, which would drown any report. Runs in a copy of the package so the
# regular build is left alone. SAMM_TEST_REQUESTS scales the load tests down.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for entry in binding.gyp package.json native src lib scripts profiler bin test examples bench; do
  cp -r "$root/$entry" "$work/"
done
ln -s "$root/node_modules" "$work/node_modules"
cd "$work"
CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
LDFLAGS="-fsanitize=address,undefined" \
  "$(dirname "$(command -v npm)")/npm" run install >/dev/null
asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
echo "# node:test suites against the ASan/UBSan addon ($asan)"
LD_PRELOAD="$asan $ubsan" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1 \
  SAMM_SANITIZED=1 SAMM_TEST_REQUESTS=${SAMM_TEST_REQUESTS:-10000} node --test test/js/
