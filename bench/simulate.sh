#!/usr/bin/env bash
# Simulator benchmark (issue 4): writes a simulated city with `silentcert simulate` and
# prints records written per second, bytes, wall and CPU time and peak memory.
#
#   bench/simulate.sh [RECIPIENTS] [FROM] [TO] [HISTORY_MONTHS]
#
# Defaults: 1,000,000 recipients, 2024-01-01 to 2025-12-31, 6 months of history before
# FROM. With EVALUATE=1 it then runs `silentcert backtest` and `silentcert evaluate` on
# the scenario and prints the evaluation table (the README's accuracy table).
# Data goes to bench/work (git-ignored) and is replaced on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
FROM="${2:-2024-01-01}"
TO="${3:-2025-12-31}"
HIST="${4:-6}"
WORK="bench/work/simulate-$N-$FROM-$TO-$HIST"
mkdir -p bench/work
go build -o bench/work/silentcert ./cmd/silentcert
rm -rf "$WORK"
echo "simulate: $N recipients, $FROM to $TO, $HIST months of history, on $(nproc) cores"
/usr/bin/time -f "%e %U %S %M" -o bench/work/simulate-time.txt \
  bench/work/silentcert simulate --city 3710 --recipients "$N" --from "$FROM" --to "$TO" \
  --history-months "$HIST" --seed 42 --out "$WORK" --quiet | tee bench/work/simulate.txt
read -r wall user sys kb < bench/work/simulate-time.txt
rows=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['counts']['record_rows'])" "$WORK/scenario.json")
bytes=$(du -sb "$WORK/records" | cut -f1)
python3 - "$rows" "$bytes" "$wall" "$user" "$sys" "$kb" <<'PY'
import sys
rows, size, wall, user, sys_, kb = map(float, sys.argv[1:])
print(f"records written: {rows:,.0f} in {wall:.1f} s wall = {rows/wall:,.0f} records/s "
      f"({rows/(user+sys_):,.0f} records per CPU-second; {user+sys_:.0f} CPU-s)")
print(f"record files: {size/2**30:.2f} GiB ({size/rows:.0f} bytes/record); peak memory {kb/2**20:.2f} GiB")
PY
if [ "${EVALUATE:-0}" = 1 ]; then
  bench/work/silentcert backtest --quiet --roster "$WORK/roster.csv" --records "$WORK/records" \
    --from "$FROM" --to "$TO" --out "$WORK/out"
  bench/work/silentcert evaluate --scenario "$WORK" --result "$WORK/out"
fi
