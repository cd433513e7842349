#!/usr/bin/env bash
# A large file sent twice: the resend, every row a duplicate, against the first load of the
# same file, as a ratio, on SQLite and PostgreSQL; and each load's peak memory against the
# file's size.
#   bench/resend.sh [ROWS] [RECIPIENTS]      (default 994000 200000: a 100 MB TRN file)
# One simulated month (2024-06, seed 4) of RECIPIENTS; its TRN file repeated, each copy's
# record_ids made distinct, to ROWS rows. The roster is imported and 2024-06-01 run, then
# the file is ingested on 2024-07-01 and the same file again.
# PostgreSQL: SILENTCERT_BENCH_POSTGRES (default postgres://root@127.0.0.1:5432/test);
# DB=sqlite or DB=postgres measures one only; BIN=PATH runs that build (another commit's,
# to compare) instead of building this tree.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-994000}; N=${2:-200000}
export PGOPTIONS="-c client_min_messages=warning"
PG=${SILENTCERT_BENCH_POSTGRES:-postgres://root@127.0.0.1:5432/test?sslmode=disable}
work=bench/work/resend-$N
mkdir -p "$work"
bin=${BIN:-${TMPDIR:-/tmp}/silentcert-resend-bench}
[ -n "${BIN:-}" ] || go build -o "$bin" ./cmd/silentcert
[ -f "$work/city/roster.csv" ] || "$bin" simulate --recipients "$N" --from 2024-06-01 --to 2024-06-30 --history-months 0 --seed 4 --out "$work/city" --quiet
file=$work/trn-$ROWS.csv
if [ ! -f "$file" ]; then
  # Copy k of the month's TRN rows gets "rK" after its record_id.
  awk -F, -v OFS=, -v rows="$ROWS" 'NR == FNR { if (FNR > 1) r[++n] = $0; else print; next }
    END { for (i = 0; i < rows; i++) { k = int(i / n); $0 = r[i % n + 1]; if (k) $1 = $1 "r" k; print } }' \
    "$work/city/records/TRN/2024-06.csv" /dev/null >"$file.tmp"
  mv "$file.tmp" "$file"
fi
size=$(stat -c %s "$file")
log=$work/resend.log
: >"$log"
say() { echo "$*" | tee -a "$log"; }
say "resend bench: $ROWS rows, $size bytes, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
# load NAME DSN: ingests the file, prints its line and keeps seconds and peak KB in $secs, $kb.
load() {
  local t=$work/time.txt
  /usr/bin/time -f "%e %M" -o "$t" "$bin" ingest --db "$2" --day 2024-07-01 --max-body 0 "$file" 2>/dev/null | grep '^batch' | sed "s/^/  $1: /" | tee -a "$log"
  read -r secs kb <"$t"
  say "  $1: $secs s, $kb KB peak ($(echo "scale=1; $kb * 1024 / $size" | bc)× the file)"
}
for db in ${DB:-sqlite postgres}; do
  case $db in
    sqlite)
      if [ ! -f "$work/base.ok" ]; then
        rm -f "$work"/base.db*
        "$bin" ingest --db "sqlite:$work/base.db" --roster "$work/city/roster.csv" >/dev/null 2>&1
        "$bin" run-day --db "sqlite:$work/base.db" --day 2024-06-01 >/dev/null
        touch "$work/base.ok"
      fi
      rm -f "$work"/run.db*; cp "$work/base.db" "$work/run.db"; dsn=sqlite:$work/run.db ;;
    postgres)
      schema=resend_bench_$$
      psql -q "${PG%%\?*}" -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
      dsn="$PG&search_path=$schema"
      "$bin" ingest --db "$dsn" --roster "$work/city/roster.csv" >/dev/null 2>&1
      "$bin" run-day --db "$dsn" --day 2024-06-01 >/dev/null ;;
  esac
  load "$db first" "$dsn"; first=$secs
  load "$db resend" "$dsn"; resend=$secs
  say "  $db: resend / first load = $(echo "scale=2; $resend / $first" | bc)"
  [ "$db" = postgres ] && psql -q "${PG%%\?*}" -c "DROP SCHEMA $schema CASCADE" >/dev/null
  [ "$db" = sqlite ] && rm -f "$work"/run.db*
done
cat "$log"
