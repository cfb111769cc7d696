#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main job on the shipped
# examples: the CI lint (`nudge check`), then the night of 2026-12-03 on the generated
# sample in rules-examples/data/, writing out/actions.jsonl and out/tasks.csv.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh release
mkdir -p out state
echo "+ nudge check rules-examples/"
./build/cli/nudge check rules-examples/
echo "+ nudge run --rules rules-examples --data rules-examples/data --as-of 2026-12-03 --ledger state/ledger.db --out out/actions.jsonl --csv out/tasks.csv"
./build/cli/nudge run --rules rules-examples --data rules-examples/data --as-of 2026-12-03 --ledger state/ledger.db \
  --out out/actions.jsonl --csv out/tasks.csv --quarantine out/quarantine.csv
echo "+ actions awaiting a CSM's approval: nudge approvals list --ledger state/ledger.db"
./build/cli/nudge approvals list --ledger state/ledger.db
echo "+ the first action (out/actions.jsonl):"
head -n 1 out/actions.jsonl
echo "+ why: nudge explain --account acc-000050 --ledger state/ledger.db"
./build/cli/nudge explain --rules rules-examples --data rules-examples/data --as-of 2026-12-03 --account acc-000050 \
  --ledger state/ledger.db
