#!/usr/bin/env bash
# The daily run over a city (issue 5's target: under 30 s for 1,000,000 recipients), on
# SQLite and on PostgreSQL, timed inside the process: `run-day` prints the state load at
# start apart from each day's run, and the run's steps.
#   bench/daily.sh [RECIPIENTS]        (default 1000000)
# A simulated city (June and July 2024, seed 4) is imported into a fresh database: the
# roster, the first day (2024-06-01: everyone baselined, a payroll), June's records as one
# batch as of 06-29 (--ahead; as of 06-02, the rows dated after it were quarantined and
# the days ran without them), the days through 06-29. That base is kept in bench/work (SQLite file) and in its own
# PostgreSQL database, and reused while present (FRESH=1 builds it again). Each measurement
# runs on a copy of the base: an ordinary day (2024-06-30), then the payroll day 2024-07-01.
# SILENTCERT_CPUPROFILE=DIR writes a CPU profile of each measured command into DIR.
# PostgreSQL: SILENTCERT_BENCH_POSTGRES (default postgres://root@127.0.0.1:5432/test);
# DB=sqlite or DB=postgres measures one only.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
export PGOPTIONS="-c client_min_messages=warning"
PG=${SILENTCERT_BENCH_POSTGRES:-postgres://root@127.0.0.1:5432/test?sslmode=disable}
PGADMIN=${PG%%\?*}
PGBASE=${PG%%/test*}
work=bench/work/daily-$N
mkdir -p "$work"
bin=${TMPDIR:-/tmp}/silentcert-daily-bench
go build -o "$bin" ./cmd/silentcert
profdir=${SILENTCERT_CPUPROFILE:-}
unset SILENTCERT_CPUPROFILE
[ -f "$work/city/roster.csv" ] || "$bin" simulate --recipients "$N" --from 2024-06-01 --to 2024-07-31 \
  --history-months 0 --seed 4 --out "$work/city" --quiet
june=$(find "$work/city/records" -type f -name '2024-06.*' | sort)
log=$work/daily.log
: >"$log"
say() { echo "$*" | tee -a "$log"; }
# run NAME ARGS…: runs the binary, keeping its output in the log (and a CPU profile).
run() {
  local name=$1; shift
  local s; s=$(date +%s.%N)
  if [ -n "$profdir" ]; then mkdir -p "$profdir"; export SILENTCERT_CPUPROFILE=$profdir/$name.prof; fi
  # ingest exits 3 when a file's every row was quarantined (a file of rows reported after
  # its --day), having stored the batch: the base goes on.
  { /usr/bin/time -f "  $name: %e s wall, %U s user, %S s sys, %M KB peak" -a -o "$log" "$bin" "$@" 2>&1 || [ $? -eq 3 ]; } |
    sed -E -e '/\.(csv|jsonl)(\.gz)?:[0-9]+: /d' -e "s/^/  $name: /" | tee -a "$log"
  unset SILENTCERT_CPUPROFILE
  printf '  %s: %.1f s for the whole command\n' "$name" "$(echo "$(date +%s.%N) - $s" | bc)" | tee -a "$log"
}
say "daily run bench: $N recipients, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
for db in ${DB:-sqlite postgres}; do
  case $db in
    sqlite)
      base=$work/base.db; runf=$work/run.db
      if [ -n "${FRESH:-}" ] || [ ! -f "$work/base.ok" ]; then
        rm -f "$work/base.ok" "$base" "$base-wal" "$base-shm"
        dsn=sqlite:$base
        run roster ingest --db "$dsn" --roster "$work/city/roster.csv"
        run first-day run-day --db "$dsn" --day 2024-06-01
        # shellcheck disable=SC2086
        run june ingest --db "$dsn" --day 2024-06-29 --ahead --max-body 0 $june
        run catch-up run-day --db "$dsn" --day 2024-06-29
        touch "$work/base.ok"
      fi
      run migrate migrate --db "sqlite:$base" # a base made by an older binary
      rm -f "$runf" "$runf-wal" "$runf-shm"
      cp "$base" "$runf"
      [ ! -f "$base-wal" ] || cp "$base-wal" "$runf-wal"
      dsn=sqlite:$runf ;;
    postgres)
      bdb=silentcert_daily_$N; rdb=silentcert_daily_${N}_run
      if [ -n "${FRESH:-}" ] || [ ! -f "$work/pgbase.ok" ]; then
        rm -f "$work/pgbase.ok"
        psql -q "$PGADMIN" -c "DROP DATABASE IF EXISTS $bdb" -c "CREATE DATABASE $bdb" >/dev/null
        dsn=$PGBASE/$bdb?sslmode=disable
        run roster ingest --db "$dsn" --roster "$work/city/roster.csv"
        run first-day run-day --db "$dsn" --day 2024-06-01
        # shellcheck disable=SC2086
        run june ingest --db "$dsn" --day 2024-06-29 --ahead --max-body 0 $june
        run catch-up run-day --db "$dsn" --day 2024-06-29
        psql -q "$PGBASE/$bdb" -c "VACUUM ANALYZE" >/dev/null
        touch "$work/pgbase.ok"
      fi
      run migrate migrate --db "$PGBASE/$bdb?sslmode=disable"
      psql -q "$PGADMIN" -c "DROP DATABASE IF EXISTS $rdb" -c "CREATE DATABASE $rdb TEMPLATE $bdb" >/dev/null
      dsn=$PGBASE/$rdb?sslmode=disable ;;
  esac
  say "$db:"
  run "$db-ordinary" run-day --db "$dsn" --day 2024-06-30
  run "$db-payroll" run-day --db "$dsn" --day 2024-07-01
  case $db in
    sqlite) rm -f "$runf" "$runf-wal" "$runf-shm" ;;
    postgres) psql -q "$PGADMIN" -c "DROP DATABASE IF EXISTS $rdb" >/dev/null ;;
  esac
done
say "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
