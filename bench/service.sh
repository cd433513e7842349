#!/usr/bin/env bash
# The service's speed, as a ratio to the in-memory backtest on the same data: a simulated
# city replayed day by day through the persistent path (ingestion, daily runs, payrolls)
# into SQLite and into PostgreSQL, then a daily run over everyone.
#   bench/service.sh [RECIPIENTS] [FROM] [TO]      (default 3000 2024-01-01 2024-12-31)
# PostgreSQL: SILENTCERT_BENCH_POSTGRES (default postgres://root@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-3000}; FROM=${2:-2024-01-01}; TO=${3:-2024-12-31}
export PGOPTIONS="-c client_min_messages=warning"
PG=${SILENTCERT_BENCH_POSTGRES:-postgres://root@127.0.0.1:5432/test?sslmode=disable}
work=bench/work/service-$N
mkdir -p "$work"
go build -o "$work/silentcert" ./cmd/silentcert
bin="$work/silentcert"
[ -f "$work/city/roster.csv" ] || "$bin" simulate --recipients "$N" --from "$FROM" --to "$TO" --seed 11 --out "$work/city" --quiet
# (ingest exits 3 when a file's every row was quarantined — here the rows dated after
# its --day — having stored the batch: what is timed.)
secs() { local s=$(date +%s.%N); "$@" >/dev/null 2>&1 || [ $? -eq 3 ]; echo "$(date +%s.%N) - $s" | bc; }
bt=$(secs "$bin" backtest --roster "$work/city/roster.csv" --records "$work/city/records" --from "$FROM" --to "$TO" --out "$work/bt" --quiet)
rm -f "$work/r.db" "$work/r.db-wal" "$work/r.db-shm"
sq=$(secs "$bin" replay --db "sqlite:$work/r.db" --roster "$work/city/roster.csv" --records "$work/city/records" --from "$FROM" --to "$TO" --out "$work/sq" --quiet)
schema="bench_$$"
psql -q "${PG%%\?*}" -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
pg=$(secs "$bin" replay --db "$PG&search_path=$schema" --roster "$work/city/roster.csv" --records "$work/city/records" --from "$FROM" --to "$TO" --out "$work/pg" --quiet)
psql -q "${PG%%\?*}" -c "DROP SCHEMA $schema CASCADE" >/dev/null
diff -r "$work/bt" "$work/sq" >/dev/null && diff -r "$work/bt" "$work/pg" >/dev/null && same=identical || same=DIFFERENT
records=$(python3 -c "import json;print(json.load(open('$work/bt/report.json'))['records']['read'])")
printf 'city: %s recipients, %s records, %s to %s; outputs of the three runs: %s\n' "$N" "$records" "$FROM" "$TO" "$same"
printf '%-22s %8.1f s  %9.0f records/s  ratio %5.1f\n' backtest "$bt" "$(echo "$records/$bt" | bc)" 1
printf '%-22s %8.1f s  %9.0f records/s  ratio %5.1f\n' "replay (SQLite)" "$sq" "$(echo "$records/$sq" | bc)" "$(echo "$sq/$bt" | bc -l)"
printf '%-22s %8.1f s  %9.0f records/s  ratio %5.1f\n' "replay (PostgreSQL)" "$pg" "$(echo "$records/$pg" | bc)" "$(echo "$pg/$bt" | bc -l)"

# One large batch: a city's two months of records ingested at once, as a department's
# monthly delivery would be, between a first day and a payroll day.
B=${SILENTCERT_BENCH_BATCH_RECIPIENTS:-100000}
bw=bench/work/service-batch-$B
[ -f "$bw/city/roster.csv" ] || "$bin" simulate --recipients "$B" --from 2024-06-01 --to 2024-07-31 --seed 4 --history-months 0 --out "$bw/city" --quiet
brecords=$(find "$bw/city/records" -type f | sort)
bbt=$(secs "$bin" backtest --roster "$bw/city/roster.csv" --records "$bw/city/records" --from 2024-06-01 --to 2024-07-31 --out "$bw/bt" --quiet)
nrec=$(python3 -c "import json;print(json.load(open('$bw/bt/report.json'))['records']['read'])")
for db in "sqlite:$bw/b.db" "$PG&search_path=batch_$$"; do
  case $db in
    sqlite:*) rm -f "$bw"/b.db*; name=SQLite ;;
    *) psql -q "${PG%%\?*}" -c "DROP SCHEMA IF EXISTS batch_$$ CASCADE; CREATE SCHEMA batch_$$" >/dev/null; name=PostgreSQL ;;
  esac
  r=$(secs "$bin" ingest --db "$db" --roster "$bw/city/roster.csv")
  d1=$(secs "$bin" run-day --db "$db" --day 2024-06-01)
  # shellcheck disable=SC2086
  # As of the last day (--ahead: the days between run later with them in); as of 06-02 the
  # rows dated after it were quarantined, and the batch timed was mostly quarantine.
  ing=$(secs "$bin" ingest --db "$db" --day 2024-07-31 --ahead $brecords)
  d2=$(secs "$bin" run-day --db "$db" --day 2024-07-01)
  printf '%-11s %s recipients: roster %.1f s; first day %.1f s; one batch of %s records %.1f s (%.0f records/s, %.1fx backtest'"'"'s %.1f s); catch-up to payroll day %.1f s\n' \
    "$name" "$B" "$r" "$d1" "$nrec" "$ing" "$(echo "$nrec/$ing" | bc -l)" "$(echo "$ing/$bbt" | bc -l)" "$bbt" "$d2"
  case $db in postgres*) psql -q "${PG%%\?*}" -c "DROP SCHEMA batch_$$ CASCADE" >/dev/null ;; esac
done
