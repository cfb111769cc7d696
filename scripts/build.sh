#!/usr/bin/env bash
# Configures and builds one build directory: scripts/build.sh [release|asan]
#   release: build/       Release (-O3), what users and benchmarks run
#   asan:    build-asan/  Debug with AddressSanitizer and UndefinedBehaviorSanitizer
#   tsan:    build-tsan/  RelWithDebInfo with ThreadSanitizer (not in the default test run)
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-release}
case "$kind" in
  release) dir=build; flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan) dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DNUDGE_SANITIZE=ON) ;;
  tsan) dir=build-tsan; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DNUDGE_SANITIZE_THREAD=ON) ;;
  *) echo "usage: scripts/build.sh [release|asan|tsan]" >&2; exit 2 ;;
esac

if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja -DNUDGE_WERROR=ON "${flags[@]}"
fi
cmake --build "$dir" --parallel "$(nproc)"
