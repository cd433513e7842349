#!/usr/bin/env bash
# Replay of a whole city (issue 5: "replay time of a 1M-recipient, two-year city"), as a
# ratio to the in-memory backtest of the same inputs, with each command's peak memory and
# a byte comparison of their files.
#   bench/replay.sh [RECIPIENTS] [FROM] [TO]       (default 1000000 2024-01-01 2025-12-31)
# DB=sqlite (default), DB=postgres or DB="sqlite postgres"; CACHE_MB=N sets SQLite's page
# cache (default 256). The city (seed 11, six months
# of history) is simulated once into bench/work/replay-N and kept; replay's spill files
# and its progress (progress-DB) go beside it.
# PostgreSQL: SILENTCERT_BENCH_POSTGRES (default postgres://root@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}; FROM=${2:-2024-01-01}; TO=${3:-2025-12-31}
export PGOPTIONS="-c client_min_messages=warning"
PG=${SILENTCERT_BENCH_POSTGRES:-postgres://root@127.0.0.1:5432/test?sslmode=disable}
work=bench/work/replay-$N
mkdir -p "$work"
bin=${TMPDIR:-/tmp}/silentcert-replay-bench
go build -o "$bin" ./cmd/silentcert
[ -f "$work/city/roster.csv" ] || "$bin" simulate --recipients "$N" --from "$FROM" --to "$TO" --seed 11 --out "$work/city" --quiet
log=$work/replay.log
: >"$log"
say() { echo "$*" | tee -a "$log"; }
say "replay bench: $N recipients, $FROM to $TO, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
timed() { # NAME CMD…: wall seconds and peak KB into the log
  local name=$1; shift
  /usr/bin/time -f "$name %e %M" -a -o "$work/times" "$@" >/dev/null
}
: >"$work/times"
rm -rf "$work/bt"
timed backtest "$bin" backtest --roster "$work/city/roster.csv" --records "$work/city/records" --from "$FROM" --to "$TO" --out "$work/bt" --quiet
for db in ${DB:-sqlite}; do
  rm -rf "$work/out-$db" "$work/spill"; mkdir -p "$work/spill"
  case $db in
    sqlite) rm -f "$work"/r.db*; dsn=sqlite:$work/r.db${CACHE_MB:+?cache_mb=$CACHE_MB} ;;
    postgres)
      schema=replay_bench_$$
      psql -q "${PG%%\?*}" -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
      dsn="$PG&search_path=$schema" ;;
  esac
  say "  replay into $db starts, load $(cut -d' ' -f1-3 /proc/loadavg)"
  timed "$db" "$bin" replay --db "$dsn" --roster "$work/city/roster.csv" --records "$work/city/records" --from "$FROM" --to "$TO" \
    --out "$work/out-$db" --spill "$work/spill" 2>"$work/progress-$db"
  if diff -r "$work/bt" "$work/out-$db" >/dev/null; then same=identical; else same=DIFFERENT; fi
  say "  $db: files $same to backtest's; load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
  case $db in
    sqlite) say "  $db: database $(du -sh "$work/r.db" | cut -f1)" ;;
    postgres) psql -q "${PG%%\?*}" -c "DROP SCHEMA $schema CASCADE" >/dev/null ;;
  esac
done
records=$(python3 -c "import json;print(json.load(open('$work/bt/report.json'))['records']['read'])")
say "  records read: $records"
bt=$(awk '$1=="backtest"{print $2}' "$work/times")
while read -r name wall kb; do
  say "$(printf '  %-9s %9.1f s  %9.0f records/s  ratio %5.1f  peak %5.1f GB' "$name" "$wall" "$(echo "$records/$wall" | bc)" "$(echo "$wall/$bt" | bc -l)" "$(echo "$kb/1048576" | bc -l)")"
done <"$work/times"
