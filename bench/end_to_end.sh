#!/usr/bin/env bash
# End-to-end `nudge run` on generated data: wall time, time per stage, peak memory, and
# evaluation with 1 and 2 threads. Each run starts a new ledger file (the first night of a
# book: every account gets its holdout assignment). Usage:
#   bench/end_to_end.sh ACCOUNTS [DAYS]        e.g. bench/end_to_end.sh 100000 90
# Data is generated once into ${NUDGE_BENCH_DIR:-/tmp/nudge-bench}/ACCOUNTSxDAYS and reused.
# Needs a release build (scripts/build.sh release) and GNU time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."

accounts=${1:?usage: bench/end_to_end.sh ACCOUNTS [DAYS]}
days=${2:-90}
nudge=${NUDGE:-./build/cli/nudge}
dir=${NUDGE_BENCH_DIR:-/tmp/nudge-bench}/${accounts}x${days}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ ! -f "$dir/accounts.csv" ]; then
  /usr/bin/time -f "gen: %e s, peak %M KB" "$nudge" gen --accounts "$accounts" --days "$days" --seed 1 \
    --last-day 2026-12-03 --clean --out "$dir"
fi
echo "data: $(du -sh "$dir" | cut -f1) in $dir"
for threads in 1 2; do
  echo "--- $threads thread(s)"
  rm -f "$out"/ledger.db*
  /usr/bin/time -f "wall: %e s, peak memory %M KB" "$nudge" run --rules rules-examples --data "$dir" \
    --as-of 2026-12-03 --threads "$threads" --out "$out/actions.jsonl" --quarantine "$out/q.csv" \
    --ledger "$out/ledger.db"
  echo "actions: $(wc -l < "$out/actions.jsonl")"
done
