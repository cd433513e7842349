#!/usr/bin/env bash
# Ingestion speed for one large batch (issue 5: at least 100,000 records/s into SQLite and
# into PostgreSQL), as a ratio to the in-memory backtest of the same records.
#   bench/ingest.sh [RECIPIENTS] [MONTHS]        (default 1000000 2: about 9.5M records)
# A simulated city (from 2024-06-01, seed 4, no history) is imported (roster, first day),
# then every month's records are ingested as ONE batch as of the last day (--ahead: the
# days between are run later with them in; as of the second day, 96 % of the rows, dated
# after it, were quarantined and the bench timed the quarantine). `ingest` prints the
# batch's own time, reading to commit (the load of every person's state at start apart).
# The base database (roster + first day) is kept in bench/work and copied for each run.
# PostgreSQL: SILENTCERT_BENCH_POSTGRES (default postgres://root@127.0.0.1:5432/test);
# DB=sqlite or DB=postgres measures one only.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}; MONTHS=${2:-2}
export PGOPTIONS="-c client_min_messages=warning"
PG=${SILENTCERT_BENCH_POSTGRES:-postgres://root@127.0.0.1:5432/test?sslmode=disable}
work=bench/work/ingest-$N-$MONTHS
mkdir -p "$work"
bin=${TMPDIR:-/tmp}/silentcert-ingest-bench
go build -o "$bin" ./cmd/silentcert
to=$(date -u -d "2024-06-01 + $MONTHS months - 1 day" +%F)
[ -f "$work/city/roster.csv" ] || "$bin" simulate --recipients "$N" --from 2024-06-01 --to "$to" --history-months 0 --seed 4 --out "$work/city" --quiet
files=$(find "$work/city/records" -type f | sort)
log=$work/ingest.log
: >"$log"
say() { echo "$*" | tee -a "$log"; }
say "ingest bench: $N recipients, $MONTHS months, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
s=$(date +%s.%N)
# shellcheck disable=SC2086
/usr/bin/time -f "  backtest: %e s wall, %U s user, %M KB peak" -a -o "$log" "$bin" backtest --roster "$work/city/roster.csv" --records "$work/city/records" \
  --from 2024-06-01 --to "$to" --out "$work/bt" --quiet
bt=$(echo "$(date +%s.%N) - $s" | bc)
say "  backtest of the same records: $bt s"
for db in ${DB:-sqlite postgres}; do
  case $db in
    sqlite)
      if [ ! -f "$work/base.ok" ]; then
        rm -f "$work"/base.db*
        "$bin" ingest --db "sqlite:$work/base.db" --roster "$work/city/roster.csv" >/dev/null 2>"$work/roster.err"  # its warnings, kept apart
        "$bin" run-day --db "sqlite:$work/base.db" --day 2024-06-01 >/dev/null
        touch "$work/base.ok"
      fi
      rm -f "$work"/run.db*; cp "$work/base.db" "$work/run.db"; dsn=sqlite:$work/run.db ;;
    postgres)
      schema=ingest_bench_$$
      psql -q "${PG%%\?*}" -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
      dsn="$PG&search_path=$schema"
      "$bin" ingest --db "$dsn" --roster "$work/city/roster.csv" >/dev/null 2>"$work/roster.err"  # its warnings, kept apart
      "$bin" run-day --db "$dsn" --day 2024-06-01 >/dev/null ;;
  esac
  # (ingest exits 3 when a file's every row was quarantined — a file of rows reported
  # after the last day — having stored the batch.)
  # shellcheck disable=SC2086
  { /usr/bin/time -f "  $db: %e s wall, %U s user, %S s sys, %M KB peak (whole command)" -a -o "$log" \
    "$bin" ingest --db "$dsn" --day "$to" --ahead --max-body 0 $files 2>/dev/null || [ $? -eq 3 ]; } | grep '^batch' | sed "s/^/  $db: /" | tee -a "$log"
  [ "$db" = postgres ] && psql -q "${PG%%\?*}" -c "DROP SCHEMA $schema CASCADE" >/dev/null
done
cat "$log"
