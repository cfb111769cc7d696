#!/usr/bin/env bash
# README command 2 (and .ci/run): install what is missing, build, and run every test:
# the release build's full suite, then the same suite under AddressSanitizer and
# UndefinedBehaviorSanitizer, where the parser and checker fuzz smoke finds memory bugs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

bash scripts/build.sh release
echo "+ ctest (release build)"
ctest --test-dir build --output-on-failure --parallel "$(nproc)"

bash scripts/build.sh asan
echo "+ ctest (asan+ubsan build)"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure --parallel "$(nproc)"
