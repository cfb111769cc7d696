#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main job on the shipped
# examples. Today the main job is the CI lint: `nudge check` on rules-examples/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh release
echo "+ nudge check rules-examples/"
./build/cli/nudge check rules-examples/
