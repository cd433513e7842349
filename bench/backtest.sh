#!/usr/bin/env bash
# Backtest benchmark (issue 3): a simulated city of at least 1M recipients and 30M records
# in exchange-v1 files (some gzipped, some GBK), then, in the same run, the naive baseline
# (encoding/csv + ReuseRecord + a roster map: bench/naiveread) and `silentcert backtest`.
# Prints both times, the ratio, records/s and backtest's peak memory per recipient/record.
#
#   bench/backtest.sh [RECIPIENTS] [FROM] [TO] [HISTORY_MONTHS]
#
# Data goes to bench/work (git-ignored); a scenario already there is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
FROM="${2:-2024-01-01}"
TO="${3:-2024-04-30}"
HIST="${4:-1}"
WORK="bench/work/backtest-$N-$FROM-$TO-$HIST"
mkdir -p bench/work
go build -o bench/work/silentcert ./cmd/silentcert
go build -o bench/work/naiveread ./bench/naiveread
if [ ! -f "$WORK/scenario.json" ]; then
  # Every source as CSV (the naive reader reads only CSV); the simulator's defaults keep
  # BANK and TEL gzipped and CIV in GBK.
  cat > bench/work/rates-csv.json <<'JSON'
{"sources": {"MED": {"format": "csv", "gzip": true}}}
JSON
  bench/work/silentcert simulate --city 3710 --recipients "$N" --from "$FROM" --to "$TO" \
    --history-months "$HIST" --seed 42 --rates bench/work/rates-csv.json --out "$WORK" --quiet --overwrite
fi
echo "scenario: $(du -sh "$WORK/records" | cut -f1) of records files: $(find "$WORK/records" -name '*.gz' | wc -l) gzipped, $(find "$WORK/records/CIV" -type f | wc -l) GBK (CIV) of $(find "$WORK/records" -type f | wc -l)"
sync
# Warm the page cache for both runs alike.
cat $(find "$WORK/records" -type f) "$WORK/roster.csv" > /dev/null
t0=$(date +%s.%N)
bench/work/naiveread "$WORK/roster.csv" "$WORK/records" | tee bench/work/naive.txt
t1=$(date +%s.%N)
/usr/bin/time -f "%e %M" -o bench/work/time.txt bench/work/silentcert backtest --quiet \
  --roster "$WORK/roster.csv" --records "$WORK/records" --from "$FROM" --to "$TO" --out "$WORK/out" | tee bench/work/backtest.txt
t2=$(date +%s.%N)
read -r el kb < bench/work/time.txt
records=$(grep -o '[0-9]* records read' bench/work/backtest.txt | grep -o '^[0-9]*')
recipients=$(grep -o '[0-9]* recipients' bench/work/backtest.txt | head -1 | grep -o '^[0-9]*')
python3 - "$t0" "$t1" "$t2" "$kb" "$records" "$recipients" <<'PY'
import sys
t0, t1, t2, kb, records, recipients = map(float, sys.argv[1:])
naive, bt = t1 - t0, t2 - t1
peak = kb * 1024
budget = recipients * 1024 + records * 48
print(f"naive read:  {naive:8.1f} s  ({records/naive:,.0f} records/s)")
print(f"backtest:    {bt:8.1f} s  ({records/bt:,.0f} records/s)")
print(f"ratio backtest / naive read: {bt/naive:.2f} (gate 1.5)")
print(f"peak memory: {peak/2**30:.2f} GiB = {peak/recipients:.0f} B/recipient or {(peak - recipients*1024)/records:.1f} B/record beyond 1 KiB/recipient; budget {budget/2**30:.2f} GiB ({'within' if peak <= budget else 'OVER'})")
PY
